package kms

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// matrixKey is a key brought into a state, with material to exercise it.
type matrixKey struct {
	api       API
	key       string // the key under test
	other     string // an Enabled key
	blob      []byte // sealed under key while it was Enabled
	otherBlob []byte // sealed under other
	version   string // key's primary version
}

func setupMatrix(t *testing.T, state string) (*testEnv, *matrixKey) {
	te := newTestEnv(t, Config{})
	m := &matrixKey{api: te.api, key: te.createKey(t), other: te.createKey(t)}
	m.blob = te.encrypt(t, m.key, []byte("matrix"), nil).CiphertextBlob
	m.otherBlob = te.encrypt(t, m.other, []byte("other"), nil).CiphertextBlob
	m.version = te.describe(t, m.key).PrimaryKeyVersion
	for a, k := range map[string]string{"alias/k": m.key, "alias/o": m.other} {
		if err := te.api.CreateAlias(te.ctx, a, k); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	switch state {
	case StateDisabled:
		err = te.api.DisableKey(te.ctx, m.key)
	case StatePendingDeletion:
		err = te.api.ScheduleKeyDeletion(te.ctx, m.key, 7)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := te.describe(t, m.key).KeyState; got != state {
		t.Fatalf("setup: state %s, want %s", got, state)
	}
	return te, m
}

var matrixOps = map[string]func(ctx context.Context, m *matrixKey) error{
	"GenerateDataKey": func(ctx context.Context, m *matrixKey) error {
		_, err := m.api.GenerateDataKey(ctx, GenerateDataKeyInput{KeyId: m.key})
		return err
	},
	"GenerateDataKeyWithoutPlaintext": func(ctx context.Context, m *matrixKey) error {
		_, err := m.api.GenerateDataKeyWithoutPlaintext(ctx, GenerateDataKeyInput{KeyId: m.key})
		return err
	},
	"Encrypt": func(ctx context.Context, m *matrixKey) error {
		_, err := m.api.Encrypt(ctx, EncryptInput{KeyId: m.key, Plaintext: []byte("x")})
		return err
	},
	"Decrypt": func(ctx context.Context, m *matrixKey) error {
		out, err := m.api.Decrypt(ctx, DecryptInput{CiphertextBlob: m.blob})
		if err == nil && string(out.Plaintext) != "matrix" {
			return fmt.Errorf("wrong plaintext %q", out.Plaintext)
		}
		return err
	},
	"ReEncrypt(source)": func(ctx context.Context, m *matrixKey) error {
		_, err := m.api.ReEncrypt(ctx, ReEncryptInput{CiphertextBlob: m.blob, DestinationKeyId: m.other})
		return err
	},
	"ReEncrypt(destination)": func(ctx context.Context, m *matrixKey) error {
		_, err := m.api.ReEncrypt(ctx, ReEncryptInput{CiphertextBlob: m.otherBlob, DestinationKeyId: m.key})
		return err
	},
	"DescribeKey": func(ctx context.Context, m *matrixKey) error {
		_, err := m.api.DescribeKey(ctx, m.key)
		return err
	},
	"ListKeys": func(ctx context.Context, m *matrixKey) error {
		out, err := m.api.ListKeys(ctx, Page{})
		if err == nil && !slices.ContainsFunc(out.Keys, func(k KeyRef) bool { return k.KeyId == m.key }) {
			return fmt.Errorf("key missing from ListKeys")
		}
		return err
	},
	"EnableKey":           func(ctx context.Context, m *matrixKey) error { return m.api.EnableKey(ctx, m.key) },
	"DisableKey":          func(ctx context.Context, m *matrixKey) error { return m.api.DisableKey(ctx, m.key) },
	"ScheduleKeyDeletion": func(ctx context.Context, m *matrixKey) error { return m.api.ScheduleKeyDeletion(ctx, m.key, 30) },
	"CancelKeyDeletion":   func(ctx context.Context, m *matrixKey) error { return m.api.CancelKeyDeletion(ctx, m.key) },
	"CreateAlias":         func(ctx context.Context, m *matrixKey) error { return m.api.CreateAlias(ctx, "alias/new", m.key) },
	"UpdateAlias":         func(ctx context.Context, m *matrixKey) error { return m.api.UpdateAlias(ctx, "alias/o", m.key) },
	"DeleteAlias":         func(ctx context.Context, m *matrixKey) error { return m.api.DeleteAlias(ctx, "alias/k") },
	"ListAliases": func(ctx context.Context, m *matrixKey) error {
		out, err := m.api.ListAliases(ctx, Page{})
		if err == nil && len(out.Aliases) != 2 {
			return fmt.Errorf("ListAliases returned %d aliases, want 2", len(out.Aliases))
		}
		return err
	},
	"ListAliasesByKeyID": func(ctx context.Context, m *matrixKey) error {
		out, err := m.api.ListAliasesByKeyID(ctx, m.key, Page{})
		if err == nil && (len(out.Aliases) != 1 || out.Aliases[0].AliasName != "alias/k") {
			return fmt.Errorf("ListAliasesByKeyID = %+v", out.Aliases)
		}
		return err
	},
	"UpdateKeyDescription": func(ctx context.Context, m *matrixKey) error {
		return m.api.UpdateKeyDescription(ctx, m.key, "new description")
	},
	"CreateKeyVersion": func(ctx context.Context, m *matrixKey) error {
		_, err := m.api.CreateKeyVersion(ctx, m.key)
		return err
	},
	"ListKeyVersions": func(ctx context.Context, m *matrixKey) error {
		_, err := m.api.ListKeyVersions(ctx, m.key, Page{})
		return err
	},
	"DescribeKeyVersion": func(ctx context.Context, m *matrixKey) error {
		_, err := m.api.DescribeKeyVersion(ctx, m.key, m.version)
		return err
	},
	"UpdateRotationPolicy": func(ctx context.Context, m *matrixKey) error {
		return m.api.UpdateRotationPolicy(ctx, m.key, true, "30d")
	},
}

type outcome struct {
	code   string // "" = success
	status int
	after  string // key state after the call; "" = not checked
}

var (
	ok    = outcome{status: 200}
	rDis  = outcome{code: CodeDisabled, status: 409}
	rPend = outcome{code: CodePendingDeletion, status: 409}
	rSMF  = outcome{code: CodeStateModifiedFailed, status: 409}
)

func okThen(state string) outcome { return outcome{status: 200, after: state} }

// TestStateMatrix checks doc 44211's state/API matrix (plus the emulator's
// choices for the APIs it does not list, see doc.go).
func TestStateMatrix(t *testing.T) {
	states := []string{StateEnabled, StateDisabled, StatePendingDeletion}
	matrix := []struct {
		api  string
		want [3]outcome // Enabled, Disabled, PendingDeletion
	}{
		{"GenerateDataKey", [3]outcome{ok, rDis, rPend}},
		{"GenerateDataKeyWithoutPlaintext", [3]outcome{ok, rDis, rPend}},
		{"Encrypt", [3]outcome{ok, rDis, rPend}},
		{"Decrypt", [3]outcome{ok, rDis, rPend}},
		{"ReEncrypt(source)", [3]outcome{ok, rDis, rPend}},
		{"ReEncrypt(destination)", [3]outcome{ok, rDis, rPend}},
		{"DescribeKey", [3]outcome{ok, ok, ok}},
		{"ListKeys", [3]outcome{ok, ok, ok}},
		{"EnableKey", [3]outcome{okThen(StateEnabled), okThen(StateEnabled), rSMF}},
		{"DisableKey", [3]outcome{okThen(StateDisabled), okThen(StateDisabled), rSMF}},
		{"ScheduleKeyDeletion", [3]outcome{okThen(StatePendingDeletion), okThen(StatePendingDeletion), rSMF}},
		{"CancelKeyDeletion", [3]outcome{rSMF, rSMF, okThen(StateEnabled)}},
		{"CreateAlias", [3]outcome{ok, ok, rSMF}},
		{"UpdateAlias", [3]outcome{ok, ok, rPend}},
		{"DeleteAlias", [3]outcome{ok, ok, ok}},
		{"ListAliases", [3]outcome{ok, ok, ok}},
		{"ListAliasesByKeyID", [3]outcome{ok, ok, ok}},
		{"UpdateKeyDescription", [3]outcome{ok, ok, rPend}},
		{"CreateKeyVersion", [3]outcome{ok, rDis, rPend}},
		{"ListKeyVersions", [3]outcome{ok, ok, ok}},
		{"DescribeKeyVersion", [3]outcome{ok, ok, ok}},
		{"UpdateRotationPolicy", [3]outcome{ok, ok, rPend}},
	}
	if len(matrix) != len(matrixOps) {
		t.Fatalf("matrix has %d rows for %d operations", len(matrix), len(matrixOps))
	}
	for _, row := range matrix {
		op := matrixOps[row.api]
		if op == nil {
			t.Fatalf("no operation %q", row.api)
		}
		for i, state := range states {
			want := row.want[i]
			t.Run(row.api+"/"+state, func(t *testing.T) {
				te, m := setupMatrix(t, state)
				err := op(te.ctx, m)
				wantErr(t, row.api, err, want.code, want.status)
				after := te.describe(t, m.key).KeyState
				switch {
				case want.after != "" && after != want.after:
					t.Fatalf("state after %s: %s, want %s", row.api, after, want.after)
				case want.after == "" && after != state:
					t.Fatalf("%s changed the state from %s to %s", row.api, state, after)
				}
			})
		}
	}
}

// TestServiceKeyRefusals: the OSS service key is managed by OSS; users may
// use it but not modify it.
func TestServiceKeyRefusals(t *testing.T) {
	te := newTestEnv(t, Config{})
	ctx := te.ctx
	gk, err := te.api.GenerateDataKey(ctx, GenerateDataKeyInput{KeyId: ServiceKeyAliasOSS})
	if err != nil {
		t.Fatal(err)
	}
	svc := gk.KeyId
	user := te.createKey(t)
	if err := te.api.CreateAlias(ctx, "alias/mine", user); err != nil {
		t.Fatal(err)
	}
	refused := map[string]func() error{
		"EnableKey":            func() error { return te.api.EnableKey(ctx, svc) },
		"DisableKey":           func() error { return te.api.DisableKey(ctx, ServiceKeyAliasOSS) },
		"ScheduleKeyDeletion":  func() error { return te.api.ScheduleKeyDeletion(ctx, svc, 7) },
		"CancelKeyDeletion":    func() error { return te.api.CancelKeyDeletion(ctx, svc) },
		"UpdateKeyDescription": func() error { return te.api.UpdateKeyDescription(ctx, svc, "mine now") },
		"CreateKeyVersion": func() error {
			_, err := te.api.CreateKeyVersion(ctx, svc)
			return err
		},
		"UpdateRotationPolicy": func() error { return te.api.UpdateRotationPolicy(ctx, svc, true, "30d") },
		"CreateAlias":          func() error { return te.api.CreateAlias(ctx, "alias/to-service", svc) },
		"UpdateAlias":          func() error { return te.api.UpdateAlias(ctx, "alias/mine", ServiceKeyAliasOSS) },
	}
	for name, call := range refused {
		t.Run(name, func(t *testing.T) {
			err := call()
			wantErr(t, name, err, CodeAccessDenied, 403)
			if !strings.Contains(err.Error(), "service key") {
				t.Fatalf("message does not explain the refusal: %v", err)
			}
		})
	}
	reserved := map[string]func() error{
		"CreateAlias alias/acs/x":   func() error { return te.api.CreateAlias(ctx, "alias/acs/x", user) },
		"CreateAlias alias/acs/oss": func() error { return te.api.CreateAlias(ctx, ServiceKeyAliasOSS, user) },
		"UpdateAlias alias/acs/oss": func() error { return te.api.UpdateAlias(ctx, ServiceKeyAliasOSS, user) },
		"DeleteAlias alias/acs/oss": func() error { return te.api.DeleteAlias(ctx, ServiceKeyAliasOSS) },
	}
	for name, call := range reserved {
		t.Run(name, func(t *testing.T) { wantErr(t, name, call(), CodeInvalidParameter, 400) })
	}
	md := te.describe(t, svc)
	if md.KeyState != StateEnabled || md.Description != serviceKeyDescription || md.PrimaryKeyVersion != gk.KeyVersionId || md.AutomaticRotation != RotationDisabled {
		t.Fatalf("service key was modified: %+v", md)
	}
	// Use is allowed.
	dec, err := te.api.Decrypt(ctx, DecryptInput{CiphertextBlob: gk.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != string(gk.Plaintext) {
		t.Fatalf("Decrypt with service key: %v", err)
	}
}

func TestServiceKeyPerRegion(t *testing.T) {
	te := newTestEnv(t, Config{})
	ctx := te.ctx
	hz, sh := te.e.Region("cn-hangzhou"), te.e.Region("cn-shanghai")
	if l, err := hz.ListKeys(ctx, Page{}); err != nil || l.TotalCount != 0 {
		t.Fatalf("fresh region lists %d keys (%v); ListKeys must not create the service key", l.TotalCount, err)
	}
	if l, err := hz.ListAliases(ctx, Page{}); err != nil || l.TotalCount != 0 {
		t.Fatalf("fresh region lists %d aliases (%v)", l.TotalCount, err)
	}
	a, err := hz.GenerateDataKey(ctx, GenerateDataKeyInput{KeyId: ServiceKeyAliasOSS})
	if err != nil {
		t.Fatal(err)
	}
	b, err := sh.GenerateDataKey(ctx, GenerateDataKeyInput{KeyId: ServiceKeyAliasOSS})
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyId == b.KeyId {
		t.Fatalf("alias/acs/oss is the same key %s in two regions", a.KeyId)
	}
	again, err := hz.DescribeKey(ctx, ServiceKeyAliasOSS)
	if err != nil || again.KeyId != a.KeyId {
		t.Fatalf("second resolution in cn-hangzhou gave %s (%v), want %s", again.KeyId, err, a.KeyId)
	}
	if again.Creator != CreatorOSS || again.Arn != "acs:kms:cn-hangzhou:"+DefaultAccount+":key/"+a.KeyId {
		t.Fatalf("service key metadata %+v", again)
	}
	keys, _ := hz.ListKeys(ctx, Page{})
	aliases, _ := hz.ListAliases(ctx, Page{})
	if keys.TotalCount != 1 || keys.Keys[0].KeyId != a.KeyId || aliases.TotalCount != 1 ||
		aliases.Aliases[0] != (Alias{AliasName: ServiceKeyAliasOSS, AliasArn: "acs:kms:cn-hangzhou:" + DefaultAccount + ":alias/acs/oss", KeyId: a.KeyId}) {
		t.Fatalf("after first use: keys %+v aliases %+v", keys, aliases)
	}
	// DescribeKey alone also creates it.
	bj := te.e.Region("cn-beijing")
	md, err := bj.DescribeKey(ctx, ServiceKeyAliasOSS)
	if err != nil || md.Creator != CreatorOSS || md.KeyId == a.KeyId || md.KeyId == b.KeyId {
		t.Fatalf("DescribeKey alias/acs/oss in cn-beijing: %+v %v", md, err)
	}
	// Customer keys name the account as Creator.
	if c, _ := hz.CreateKey(ctx, CreateKeyInput{}); c.Creator != DefaultAccount {
		t.Fatalf("customer key Creator %q", c.Creator)
	}
	// Keys do not cross regions, by id, ARN or blob.
	_, err = sh.DescribeKey(ctx, a.KeyId)
	wantErr(t, "DescribeKey of a cn-hangzhou key in cn-shanghai", err, CodeKeyNotFound, 404)
	_, err = sh.DescribeKey(ctx, again.Arn)
	wantErr(t, "ARN of another region", err, CodeKeyNotFound, 404)
	_, err = sh.Decrypt(ctx, DecryptInput{CiphertextBlob: a.CiphertextBlob})
	wantErr(t, "Decrypt of a cn-hangzhou blob in cn-shanghai", err, CodeKeyNotFound, 404)
	if d, err := hz.Decrypt(ctx, DecryptInput{CiphertextBlob: a.CiphertextBlob}); err != nil || string(d.Plaintext) != string(a.Plaintext) {
		t.Fatalf("Decrypt in its own region: %v", err)
	}
	// Other alias/acs/ names are not auto-created.
	_, err = hz.DescribeKey(ctx, "alias/acs/ecs")
	wantErr(t, "alias/acs/ecs", err, CodeAliasNotFound, 404)
}

func TestRegionValidation(t *testing.T) {
	te := newTestEnv(t, Config{})
	for _, name := range []string{"", "CN-HANGZHOU", "hangzhou", "cn_hangzhou", "cn-", "-cn", "cn-hangzhou/x", strings.Repeat("a", 70) + "-1"} {
		api := te.e.Region(name)
		_, err := api.ListKeys(te.ctx, Page{})
		wantErr(t, fmt.Sprintf("ListKeys in region %q", name), err, CodeInvalidParameter, 400)
		_, err = api.GenerateDataKey(te.ctx, GenerateDataKeyInput{KeyId: ServiceKeyAliasOSS})
		wantErr(t, fmt.Sprintf("GenerateDataKey in region %q", name), err, CodeInvalidParameter, 400)
		if !strings.Contains(err.Error(), "RegionId") {
			t.Fatalf("error does not name RegionId: %v", err)
		}
	}
	for _, name := range []string{"cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1", "us-east-1"} {
		if _, err := te.e.Region(name).ListKeys(te.ctx, Page{}); err != nil {
			t.Fatalf("region %q refused: %v", name, err)
		}
	}
}
