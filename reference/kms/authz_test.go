package kms

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder is an Authorizer that records every question and answers with
// allow (nil allows everything).
type recorder struct {
	mu    sync.Mutex
	asked []string
	allow func(principal, action string, r Resource) bool
}

func (a *recorder) AuthorizeKMS(principal, action string, r Resource) bool {
	a.mu.Lock()
	a.asked = append(a.asked, fmt.Sprintf("%s %s %+v", principal, action, r))
	a.mu.Unlock()
	return a.allow == nil || a.allow(principal, action, r)
}

func (a *recorder) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.asked
	a.asked = nil
	return out
}

func as(name string) context.Context { return WithPrincipal(context.Background(), name) }

// TestAuthorizerIsAskedAboutWhatEachOperationTouches: every operation asks
// about the resources Alibaba RAM authorizes it on (the container, or the
// resolved key with its aliases; alias operations also the alias and every
// key the alias leaves or joins; Decrypt the key named in the blob;
// ReEncrypt source and destination).
func TestAuthorizerIsAskedAboutWhatEachOperationTouches(t *testing.T) {
	rec := &recorder{}
	te := newTestEnv(t, Config{Authorizer: rec})
	ctx := as("p")
	a := te.api
	k1 := te.createKey(t) // asked as "" and allowed by the recorder
	k2 := te.createKey(t)
	wantErr(t, "CreateAlias", a.CreateAlias(ctx, "alias/one", k1), "", 0)
	blob := te.encrypt(t, k1, []byte("x"), nil).CiphertextBlob
	rec.take()
	key := func(id string, aliases ...string) string {
		return fmt.Sprintf("%+v", Resource{KeyID: id, Aliases: aliases})
	}
	cases := []struct {
		name string
		call func() error
		want []string // resources, in order
	}{
		{"CreateKey", func() error { _, err := a.CreateKey(ctx, CreateKeyInput{}); return err },
			[]string{fmt.Sprintf("%+v", Resource{Container: ContainerKeys})}},
		{"ListKeys", func() error { _, err := a.ListKeys(ctx, Page{}); return err },
			[]string{fmt.Sprintf("%+v", Resource{Container: ContainerKeys})}},
		{"ListAliases", func() error { _, err := a.ListAliases(ctx, Page{}); return err },
			[]string{fmt.Sprintf("%+v", Resource{Container: ContainerAliases})}},
		{"DescribeKey", func() error { _, err := a.DescribeKey(ctx, "alias/one"); return err },
			[]string{key(k1, "alias/one")}},
		{"Decrypt", func() error { _, err := a.Decrypt(ctx, DecryptInput{CiphertextBlob: blob}); return err },
			[]string{key(k1, "alias/one")}},
		{"ReEncrypt", func() error {
			_, err := a.ReEncrypt(ctx, ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: k2})
			return err
		}, []string{key(k1, "alias/one"), key(k2)}},
		{"CreateAlias", func() error { return a.CreateAlias(ctx, "alias/two", k2) },
			[]string{fmt.Sprintf("%+v", Resource{Alias: "alias/two"}), key(k2)}},
		{"UpdateAlias", func() error { return a.UpdateAlias(ctx, "alias/two", k1) },
			[]string{fmt.Sprintf("%+v", Resource{Alias: "alias/two"}), key(k2, "alias/two"), key(k1, "alias/one")}},
		{"DeleteAlias", func() error { return a.DeleteAlias(ctx, "alias/two") },
			[]string{fmt.Sprintf("%+v", Resource{Alias: "alias/two"}), key(k1, "alias/one", "alias/two")}},
		{"GenerateDataKey", func() error {
			_, err := a.GenerateDataKey(ctx, GenerateDataKeyInput{KeyId: "acs:kms:" + testRegion + ":" + te.e.Account() + ":key/" + k2})
			return err
		}, []string{key(k2)}},
	}
	for _, c := range cases {
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, q := range rec.take() {
			want := "p " + c.name + " "
			if !strings.HasPrefix(q, want) {
				t.Fatalf("%s asked %q", c.name, q)
			}
			got = append(got, strings.TrimPrefix(q, want))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s asked about\n  %q\nwant\n  %q", c.name, got, c.want)
		}
	}
}

// TestRefusalIsForbiddenNoPermissionAndChangesNothing: a refused call is
// 403 Forbidden.NoPermission, leaves the key as it was, is audited with its
// principal and result, and does not reveal what an alias points at.
func TestRefusalIsForbiddenNoPermissionAndChangesNothing(t *testing.T) {
	var audit bytes.Buffer
	rec := &recorder{allow: func(p, _ string, _ Resource) bool { return p == "root" }}
	te := newTestEnv(t, Config{Authorizer: rec, AuditLog: &audit})
	root := as("root")
	md, err := te.api.CreateKey(root, CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	k := md.KeyId
	wantErr(t, "alias", te.api.CreateAlias(root, "alias/victim", k), "", 0)
	blob, err := te.api.Encrypt(root, EncryptInput{KeyId: k, Plaintext: []byte("data key")})
	if err != nil {
		t.Fatal(err)
	}

	m := as("mallory")
	calls := map[string]func() error{
		"DisableKey":          func() error { return te.api.DisableKey(m, "alias/victim") },
		"ScheduleKeyDeletion": func() error { return te.api.ScheduleKeyDeletion(m, "alias/victim", 7) },
		"Decrypt": func() error {
			_, err := te.api.Decrypt(m, DecryptInput{CiphertextBlob: blob.CiphertextBlob})
			return err
		},
		"GenerateDataKey": func() error {
			_, err := te.api.GenerateDataKey(m, GenerateDataKeyInput{KeyId: "alias/victim"})
			return err
		},
		"ListKeys": func() error { _, err := te.api.ListKeys(m, Page{}); return err },
		"CreateKey": func() error {
			_, err := te.api.CreateKey(m, CreateKeyInput{})
			return err
		},
		"UpdateAlias": func() error { return te.api.UpdateAlias(m, "alias/victim", k) },
	}
	for name, call := range calls {
		err := call()
		wantErr(t, name, err, CodeAccessDenied, http.StatusForbidden)
		msg := err.Error()
		if !strings.Contains(msg, "mallory") || !strings.Contains(msg, name) {
			t.Errorf("%s: message %q names neither the principal nor the action", name, msg)
		}
		if name != "Decrypt" && strings.Contains(msg, k) {
			t.Errorf("%s: message %q reveals the key the alias points at", name, msg)
		}
	}
	if d, err := te.api.DescribeKey(root, k); err != nil || d.KeyState != StateEnabled {
		t.Fatalf("key after refused calls: %v %+v", err, d)
	}
	if n := strings.Count(audit.String(), `"principal":"mallory"`); n != len(calls) {
		t.Fatalf("audit has %d lines for mallory, want %d:\n%s", n, len(calls), audit.String())
	}
	if n := strings.Count(audit.String(), `"result":"`+CodeAccessDenied+`"`); n != len(calls) {
		t.Fatalf("audit has %d refusals, want %d", n, len(calls))
	}
	if !strings.Contains(audit.String(), `"principal":"mallory","region":"cn-hangzhou","op":"Decrypt","key_id":"`+k+`"`) {
		t.Fatalf("the refused Decrypt is not audited with its key:\n%s", audit.String())
	}
	// A caller that names no principal is refused, and told why.
	_, err = te.api.DescribeKey(context.Background(), k)
	wantErr(t, "no principal", err, CodeAccessDenied, http.StatusForbidden)
	if !strings.Contains(err.Error(), "names no principal") {
		t.Fatalf("message %q", err.Error())
	}
}

// TestRefusedCallerDoesNotCreateTheServiceKey: resolving alias/acs/oss
// creates the OSS service key on first use, but not for a caller refused
// on that alias.
func TestRefusedCallerDoesNotCreateTheServiceKey(t *testing.T) {
	rec := &recorder{allow: func(p, _ string, r Resource) bool {
		return p == "root" || (p == "oss" && reflect.DeepEqual(r.Aliases, []string{ServiceKeyAliasOSS}))
	}}
	te := newTestEnv(t, Config{Authorizer: rec})
	_, err := te.api.GenerateDataKey(as("mallory"), GenerateDataKeyInput{KeyId: ServiceKeyAliasOSS})
	wantErr(t, "mallory", err, CodeAccessDenied, http.StatusForbidden)
	if l, _ := te.api.ListKeys(as("root"), Page{}); l.TotalCount != 0 {
		t.Fatalf("a refused call created %d keys", l.TotalCount)
	}
	if _, err := te.api.GenerateDataKey(as("oss"), GenerateDataKeyInput{KeyId: ServiceKeyAliasOSS}); err != nil {
		t.Fatalf("a principal granted alias/acs/oss: %v", err)
	}
	if l, _ := te.api.ListKeys(as("root"), Page{}); l.TotalCount != 1 {
		t.Fatalf("%d keys after the service key's first use, want 1", l.TotalCount)
	}
}

// TestNotFoundOnlyForAGrantedName: a reference that does not resolve is
// decided on the name it gives, so an ungranted caller cannot probe for
// keys or aliases.
func TestNotFoundOnlyForAGrantedName(t *testing.T) {
	rec := &recorder{allow: func(p, _ string, r Resource) bool {
		return p == "root" || r.KeyID == "11111111-2222-4333-8444-555555555555" || slicesHas(r.Aliases, "alias/mine")
	}}
	te := newTestEnv(t, Config{Authorizer: rec})
	md, _ := te.api.CreateKey(as("root"), CreateKeyInput{})
	p := as("p")
	cases := []struct {
		ref, code string
		status    int
	}{
		{"11111111-2222-4333-8444-555555555555", CodeKeyNotFound, 404},
		{"alias/mine", CodeAliasNotFound, 404},
		{"99999999-2222-4333-8444-555555555555", CodeAccessDenied, 403},
		{"alias/other", CodeAccessDenied, 403},
		{md.KeyId, CodeAccessDenied, 403},
	}
	for _, c := range cases {
		_, err := te.api.DescribeKey(p, c.ref)
		wantErr(t, "DescribeKey "+c.ref, err, c.code, c.status)
	}
}

func slicesHas(s []string, v string) bool { return slices.Contains(s, v) }

// TestAuthorizedIsTheOperationsDecision: Emulator.Authorized asks the same
// Authorizer with the key's aliases, wherever the key's region is.
func TestAuthorizedIsTheOperationsDecision(t *testing.T) {
	rec := &recorder{allow: func(p, _ string, r Resource) bool {
		return p == "root" || p == "p" && slicesHas(r.Aliases, "alias/app")
	}}
	te := newTestEnv(t, Config{Authorizer: rec})
	other := te.e.Region("cn-shanghai")
	md, err := other.CreateKey(as("root"), CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if te.e.Authorized("p", "Decrypt", md.KeyId) {
		t.Fatal("authorized before the alias exists")
	}
	if err := other.CreateAlias(as("root"), "alias/app", md.KeyId); err != nil {
		t.Fatal(err)
	}
	if !te.e.Authorized("p", "Decrypt", md.KeyId) {
		t.Fatal("not authorized through the alias")
	}
	if te.e.Authorized("q", "Decrypt", md.KeyId) != false {
		t.Fatal("q authorized")
	}
	if !newTestEnv(t, Config{}).e.Authorized("", "Decrypt", md.KeyId) {
		t.Fatal("without an Authorizer everything is authorized")
	}
}

// TestActionGroups: every served action has exactly one group.
func TestActionGroups(t *testing.T) {
	want := map[string][]string{
		GroupUse:    {"Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncrypt"},
		GroupRead:   {"DescribeKey", "ListKeys", "ListKeyVersions", "DescribeKeyVersion", "ListAliases", "ListAliasesByKeyId"},
		GroupManage: {"CreateKey", "UpdateKeyDescription", "EnableKey", "DisableKey", "ScheduleKeyDeletion", "CancelKeyDeletion", "CreateKeyVersion", "UpdateRotationPolicy", "CreateAlias", "UpdateAlias", "DeleteAlias"},
	}
	n := 0
	for g, actions := range want {
		for _, a := range actions {
			n++
			if got := ActionGroup(a); got != g {
				t.Errorf("%s is in %q, want %q", a, got, g)
			}
		}
	}
	if n != len(actionGroups) || ActionGroup("DeleteKey") != "" {
		t.Fatalf("%d grouped actions, %d listed", len(actionGroups), n)
	}
}
