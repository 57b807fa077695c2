package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/sseaudit/sseaudit/kmsclient"
	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/kms"
)

// authzFixture is a running server whose users file grants KMS by group and
// key. appKey carries the aliases alias/app-main and alias/app-spare;
// rootKey carries alias/root-main.
type authzFixture struct {
	s               *Server
	dir             string
	root            *kmssdk.Client
	appKey, rootKey string
}

// The principals of the users file, with the KMS grants each has written
// as the targets they cover per group: "app" and "root" are the keys, "*"
// the key and alias containers (CreateKey, ListKeys, ListAliases).
var authzPrincipals = []struct {
	name   string
	kms    string // the users file's kms: block (APPKEY is appKey)
	covers map[string][]string
}{
	{"nokms", ``, nil}, // the issue's reader: buckets only
	{"user", `{use: ["APPKEY"]}`, map[string][]string{kms.GroupUse: {"app"}}},
	{"legacy", `{decrypt: ["APPKEY"]}`, map[string][]string{kms.GroupUse: {"app"}}},
	{"aliasuser", `{use: ["alias/app-*"]}`, map[string][]string{kms.GroupUse: {"app"}}},
	{"globuser", `{use: ["alias/*"]}`, map[string][]string{kms.GroupUse: {"app", "root"}}},
	{"ossuser", `{use: ["alias/acs/oss"]}`, nil}, // the OSS service key only
	{"reader", `{read: ["*"]}`, map[string][]string{kms.GroupRead: {"app", "root", "*"}}},
	{"aliasreader", `{read: ["alias/app-*"]}`, map[string][]string{kms.GroupRead: {"app"}}},
	{"manager", `{manage: ["alias/app-*"]}`, map[string][]string{kms.GroupManage: {"app"}}},
	{"admin", `{manage: ["*"]}`, map[string][]string{kms.GroupManage: {"app", "root", "*"}}},
}

func authzSecret(name string) string { return name + "-secret-0123456789" }

func authzAK(name string) string { return strings.ToUpper(name) + "AK" }

// newAuthzFixture starts the server once to create the keys (their ids go
// into the users file), then again with the users file.
func newAuthzFixture(t *testing.T) *authzFixture {
	t.Helper()
	ctx := context.Background()
	f := &authzFixture{dir: t.TempDir()}
	s, err := Start(ctx, Config{DataDir: f.dir, KMSAddr: "127.0.0.1:0", Getenv: rootEnv})
	if err != nil {
		t.Fatal(err)
	}
	root, err := kmsClient(s.KMSEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(desc string, aliases ...string) string {
		out, err := root.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String(desc)})
		if err != nil {
			t.Fatal(err)
		}
		id := tea.StringValue(out.Body.KeyMetadata.KeyId)
		for _, a := range aliases {
			if _, err := root.CreateAlias(&kmssdk.CreateAliasRequest{AliasName: tea.String(a), KeyId: tea.String(id)}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	f.appKey = mk("app", "alias/app-main", "alias/app-spare")
	f.rootKey = mk("root's CMK", "alias/root-main")
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	var y strings.Builder
	y.WriteString("users:\n")
	for _, p := range authzPrincipals {
		fmt.Fprintf(&y, "  - name: %s\n    access_key_id: %s\n    access_key_secret: %s\n    buckets: {read: [\"a-*\"], write: [\"w-*\"]}\n",
			p.name, authzAK(p.name), authzSecret(p.name))
		if p.kms != "" {
			fmt.Fprintf(&y, "    kms: %s\n", strings.ReplaceAll(p.kms, "APPKEY", f.appKey))
		}
	}
	usersFile := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(usersFile, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f.s, err = Start(ctx, Config{DataDir: f.dir, Addr: "127.0.0.1:0", KMSAddr: "127.0.0.1:0", UsersFile: usersFile, Getenv: rootEnv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.s.Close(context.Background()) })
	if f.root, err = kmsClient(f.s.KMSEndpoint); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *authzFixture) client(t *testing.T, name string) *kmssdk.Client {
	t.Helper()
	c, err := kmsclient.New(f.s.KMSEndpoint, "cn-hangzhou", authzAK(name), authzSecret(name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sdkErr returns the HTTP status and code of an SDK error.
func sdkErr(err error) (int, string) {
	var se *tea.SDKError
	if errors.As(err, &se) {
		return tea.IntValue(se.StatusCode), tea.StringValue(se.Code)
	}
	return 0, fmt.Sprint(err)
}

// wantNoPermission fails unless err is Alibaba KMS's RAM refusal.
func wantNoPermission(t *testing.T, what string, err error) {
	t.Helper()
	if st, code := sdkErr(err); st != 403 || code != kms.CodeAccessDenied {
		t.Errorf("%s: got %d %s (%v), want 403 %s", what, st, code, err, kms.CodeAccessDenied)
	}
}

// kmsAction is one KMS action as a test row: call runs as the principal,
// setup and cleanup as root (so that every row starts from the same state
// whatever the previous one was allowed to do).
type kmsAction struct {
	name           string
	setup, cleanup func(key string)
	call           func(c *kmssdk.Client, key string) error
}

// TestKMSGrantsThroughTheSDK drives every KMS action through the official
// SDK as each non-root principal, on a key its grant covers and on one it
// does not: refused with 403 Forbidden.NoPermission outside the grant,
// allowed inside it.
func TestKMSGrantsThroughTheSDK(t *testing.T) {
	f := newAuthzFixture(t)
	root := f.root
	ec := map[string]interface{}{"purpose": "authz-test"}
	blobs := map[string]*string{}
	versions := map[string]*string{}
	for _, k := range []string{f.appKey, f.rootKey} {
		dk, err := root.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(k), EncryptionContext: ec})
		if err != nil {
			t.Fatal(err)
		}
		blobs[k], versions[k] = dk.Body.CiphertextBlob, dk.Body.KeyVersionId
	}
	must := func(what string, err error) {
		if err != nil {
			t.Fatalf("root %s: %v", what, err)
		}
	}
	ignore := func(_ any, _ error) {}
	// aliasFor is the alias a row creates or deletes on key: one a
	// manager of alias/app-* may touch on the app key and may not on
	// root's.
	aliasFor := func(key string) string {
		if key == f.appKey {
			return "alias/app-tmp"
		}
		return "alias/root-tmp"
	}
	actions := []kmsAction{
		// read
		{name: "DescribeKey", call: func(c *kmssdk.Client, k string) error {
			_, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(k)})
			return err
		}},
		{name: "ListKeys", call: func(c *kmssdk.Client, _ string) error {
			_, err := c.ListKeys(&kmssdk.ListKeysRequest{})
			return err
		}},
		{name: "ListKeyVersions", call: func(c *kmssdk.Client, k string) error {
			_, err := c.ListKeyVersions(&kmssdk.ListKeyVersionsRequest{KeyId: tea.String(k)})
			return err
		}},
		{name: "DescribeKeyVersion", call: func(c *kmssdk.Client, k string) error {
			_, err := c.DescribeKeyVersion(&kmssdk.DescribeKeyVersionRequest{KeyId: tea.String(k), KeyVersionId: versions[k]})
			return err
		}},
		{name: "ListAliases", call: func(c *kmssdk.Client, _ string) error {
			_, err := c.ListAliases(&kmssdk.ListAliasesRequest{})
			return err
		}},
		{name: "ListAliasesByKeyId", call: func(c *kmssdk.Client, k string) error {
			_, err := c.ListAliasesByKeyId(&kmssdk.ListAliasesByKeyIdRequest{KeyId: tea.String(k)})
			return err
		}},
		// use
		{name: "Encrypt", call: func(c *kmssdk.Client, k string) error {
			_, err := c.Encrypt(&kmssdk.EncryptRequest{KeyId: tea.String(k), Plaintext: tea.String("aGVsbG8=")})
			return err
		}},
		{name: "GenerateDataKey", call: func(c *kmssdk.Client, k string) error {
			_, err := c.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(k)})
			return err
		}},
		{name: "GenerateDataKeyWithoutPlaintext", call: func(c *kmssdk.Client, k string) error {
			_, err := c.GenerateDataKeyWithoutPlaintext(&kmssdk.GenerateDataKeyWithoutPlaintextRequest{KeyId: tea.String(k)})
			return err
		}},
		{name: "Decrypt", call: func(c *kmssdk.Client, k string) error {
			_, err := c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: blobs[k], EncryptionContext: ec})
			return err
		}},
		{name: "ReEncrypt", call: func(c *kmssdk.Client, k string) error {
			_, err := c.ReEncrypt(&kmssdk.ReEncryptRequest{CiphertextBlob: blobs[k], SourceEncryptionContext: ec, DestinationKeyId: tea.String(k)})
			return err
		}},
		// manage
		{name: "CreateKey", call: func(c *kmssdk.Client, _ string) error {
			_, err := c.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String("made by a principal")})
			return err
		}},
		{name: "UpdateKeyDescription", call: func(c *kmssdk.Client, k string) error {
			_, err := c.UpdateKeyDescription(&kmssdk.UpdateKeyDescriptionRequest{KeyId: tea.String(k), Description: tea.String("changed")})
			return err
		}},
		{name: "DisableKey",
			call: func(c *kmssdk.Client, k string) error {
				_, err := c.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(k)})
				return err
			},
			cleanup: func(k string) {
				_, err := root.EnableKey(&kmssdk.EnableKeyRequest{KeyId: tea.String(k)})
				must("EnableKey", err)
			}},
		{name: "EnableKey",
			setup: func(k string) {
				_, err := root.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(k)})
				must("DisableKey", err)
			},
			call: func(c *kmssdk.Client, k string) error {
				_, err := c.EnableKey(&kmssdk.EnableKeyRequest{KeyId: tea.String(k)})
				return err
			},
			cleanup: func(k string) {
				_, err := root.EnableKey(&kmssdk.EnableKeyRequest{KeyId: tea.String(k)})
				must("EnableKey", err)
			}},
		{name: "ScheduleKeyDeletion",
			call: func(c *kmssdk.Client, k string) error {
				_, err := c.ScheduleKeyDeletion(&kmssdk.ScheduleKeyDeletionRequest{KeyId: tea.String(k), PendingWindowInDays: tea.Int32(7)})
				return err
			},
			cleanup: func(k string) {
				ignore(root.CancelKeyDeletion(&kmssdk.CancelKeyDeletionRequest{KeyId: tea.String(k)}))
			}},
		{name: "CancelKeyDeletion",
			setup: func(k string) {
				_, err := root.ScheduleKeyDeletion(&kmssdk.ScheduleKeyDeletionRequest{KeyId: tea.String(k), PendingWindowInDays: tea.Int32(7)})
				must("ScheduleKeyDeletion", err)
			},
			call: func(c *kmssdk.Client, k string) error {
				_, err := c.CancelKeyDeletion(&kmssdk.CancelKeyDeletionRequest{KeyId: tea.String(k)})
				return err
			},
			cleanup: func(k string) {
				ignore(root.CancelKeyDeletion(&kmssdk.CancelKeyDeletionRequest{KeyId: tea.String(k)}))
			}},
		{name: "CreateKeyVersion", call: func(c *kmssdk.Client, k string) error {
			_, err := c.CreateKeyVersion(&kmssdk.CreateKeyVersionRequest{KeyId: tea.String(k)})
			return err
		}},
		{name: "UpdateRotationPolicy", call: func(c *kmssdk.Client, k string) error {
			_, err := c.UpdateRotationPolicy(&kmssdk.UpdateRotationPolicyRequest{KeyId: tea.String(k), EnableAutomaticRotation: tea.Bool(false)})
			return err
		}},
		{name: "CreateAlias",
			call: func(c *kmssdk.Client, k string) error {
				_, err := c.CreateAlias(&kmssdk.CreateAliasRequest{AliasName: tea.String(aliasFor(k)), KeyId: tea.String(k)})
				return err
			},
			cleanup: func(k string) {
				ignore(root.DeleteAlias(&kmssdk.DeleteAliasRequest{AliasName: tea.String(aliasFor(k))}))
			}},
		{name: "UpdateAlias", // moves alias/app-spare from the app key to key
			call: func(c *kmssdk.Client, k string) error {
				_, err := c.UpdateAlias(&kmssdk.UpdateAliasRequest{AliasName: tea.String("alias/app-spare"), KeyId: tea.String(k)})
				return err
			},
			cleanup: func(string) {
				_, err := root.UpdateAlias(&kmssdk.UpdateAliasRequest{AliasName: tea.String("alias/app-spare"), KeyId: tea.String(f.appKey)})
				must("UpdateAlias", err)
			}},
		{name: "DeleteAlias",
			setup: func(k string) {
				_, err := root.CreateAlias(&kmssdk.CreateAliasRequest{AliasName: tea.String(aliasFor(k)), KeyId: tea.String(k)})
				must("CreateAlias", err)
			},
			call: func(c *kmssdk.Client, k string) error {
				_, err := c.DeleteAlias(&kmssdk.DeleteAliasRequest{AliasName: tea.String(aliasFor(k))})
				return err
			},
			cleanup: func(k string) {
				ignore(root.DeleteAlias(&kmssdk.DeleteAliasRequest{AliasName: tea.String(aliasFor(k))}))
			}},
	}
	containers := []string{"CreateKey", "ListKeys", "ListAliases"}
	if len(actions) != 22 {
		t.Fatalf("%d actions; every action the endpoint serves must have a row", len(actions))
	}

	allowed, refused := 0, 0
	for _, p := range authzPrincipals {
		c := f.client(t, p.name)
		for _, a := range actions {
			group := kms.ActionGroup(a.name)
			if group == "" {
				t.Fatalf("%s has no action group", a.name)
			}
			for _, target := range []string{"app", "root"} {
				key := map[string]string{"app": f.appKey, "root": f.rootKey}[target]
				want := slices.Contains(p.covers[group], target)
				if slices.Contains(containers, a.name) {
					want = slices.Contains(p.covers[group], "*")
				}
				if a.setup != nil {
					a.setup(key)
				}
				err := a.call(c, key)
				if a.cleanup != nil {
					a.cleanup(key)
				}
				what := fmt.Sprintf("%s %s on the %s key", p.name, a.name, target)
				if want {
					allowed++
					if err != nil {
						t.Errorf("%s: %v, want it allowed", what, err)
					}
				} else {
					refused++
					wantNoPermission(t, what, err)
				}
			}
		}
	}
	t.Logf("%d calls allowed inside grants, %d refused outside them", allowed, refused)

	// Root is unaffected: both keys Enabled, their aliases where they were.
	for _, k := range []string{f.appKey, f.rootKey} {
		d, err := root.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(k)})
		if err != nil || tea.StringValue(d.Body.KeyMetadata.KeyState) != kms.StateEnabled {
			t.Fatalf("after the table, key %s: %v %v", k, err, d)
		}
	}
}

// TestKMSRefusalsDoNotRevealKeys: a principal without a grant gets the same
// 403 for a key that exists and one that does not, and a grant on the name
// lets the real not-found answer through.
func TestKMSRefusalsDoNotRevealKeys(t *testing.T) {
	f := newAuthzFixture(t)
	missing := "11111111-2222-4333-8444-555555555555"
	c := f.client(t, "aliasreader")
	for _, ref := range []string{f.rootKey, missing, "alias/root-main", "alias/nothing"} {
		_, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(ref)})
		wantNoPermission(t, "aliasreader DescribeKey "+ref, err)
	}
	_, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String("alias/app-missing")})
	if st, code := sdkErr(err); st != 404 || code != "Forbidden.AliasNotFound" {
		t.Fatalf("a granted alias name that does not exist: %d %s, want 404 Forbidden.AliasNotFound", st, code)
	}
	// Through an ARN, the alias grant covers the key too.
	arn := fmt.Sprintf("acs:kms:cn-hangzhou:%s:alias/app-main", f.s.KMS.Account())
	if _, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(arn)}); err != nil {
		t.Fatalf("DescribeKey by alias ARN: %v", err)
	}
}

// TestKMSAttackFromIssue12 is the issue's finding: a principal with read on
// a-* and no KMS grant could, over the KMS API, list and describe every
// key, generate data keys, disable root's CMK (breaking root's reads),
// schedule its deletion, create keys, and decrypt a data-key blob read out
// of the metadata database. Every step is now refused and root's reads
// keep working.
func TestKMSAttackFromIssue12(t *testing.T) {
	ctx := context.Background()
	f := newAuthzFixture(t)
	oc, err := oss.New(f.s.Endpoint, rootAK, rootSK, oss.ForcePathStyle(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := oc.CreateBucket("a-data"); err != nil {
		t.Fatal(err)
	}
	rb := ossBucket(t, f.s, rootAK, rootSK, "a-data")
	secret := bytes.Repeat([]byte("ROOT-SECRET "), 1000)
	if err := rb.PutObject("secret", bytes.NewReader(secret), oss.ServerSideEncryption("KMS"), oss.ServerSideEncryptionKeyID(f.rootKey)); err != nil {
		t.Fatal(err)
	}
	rootRead := func(when string) {
		t.Helper()
		r, err := rb.GetObject("secret")
		if err != nil {
			t.Fatalf("%s: root's read of its SSE-KMS object: %v", when, err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, secret) {
			t.Fatalf("%s: root read different bytes", when)
		}
	}
	rootRead("before")

	// The data-key blob and its context, as someone reading the metadata
	// database would find them.
	at, err := f.s.Store.AtRest(ctx, "a-data", "secret")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := envelope.ParseRecord(at.Record)
	if err != nil {
		t.Fatal(err)
	}
	blob := base64.StdEncoding.EncodeToString(rec.SealedKey)
	ectx := map[string]interface{}{"acs:oss:bucket": "a-data", "acs:oss:object": "secret"}

	c := f.client(t, "nokms")
	// The principal may read the bucket: the grant it has still works.
	if _, err := ossBucket(t, f.s, authzAK("nokms"), authzSecret("nokms"), "a-data").GetObjectMeta("secret"); err != nil {
		t.Fatalf("nokms HEAD of an object in a readable bucket: %v", err)
	}
	steps := []struct {
		name string
		call func() error
	}{
		{"ListKeys", func() error { _, err := c.ListKeys(&kmssdk.ListKeysRequest{}); return err }},
		{"DescribeKey", func() error {
			_, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(f.rootKey)})
			return err
		}},
		{"Decrypt of the object's data-key blob", func() error {
			_, err := c.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: tea.String(blob), EncryptionContext: ectx})
			return err
		}},
		{"GenerateDataKey", func() error {
			_, err := c.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(f.rootKey)})
			return err
		}},
		{"GenerateDataKey with the OSS service key", func() error {
			_, err := c.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(kms.ServiceKeyAliasOSS)})
			return err
		}},
		{"DisableKey", func() error {
			_, err := c.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(f.rootKey)})
			return err
		}},
		{"ScheduleKeyDeletion", func() error {
			_, err := c.ScheduleKeyDeletion(&kmssdk.ScheduleKeyDeletionRequest{KeyId: tea.String(f.rootKey), PendingWindowInDays: tea.Int32(7)})
			return err
		}},
		{"CreateKey", func() error {
			_, err := c.CreateKey(&kmssdk.CreateKeyRequest{})
			return err
		}},
	}
	for _, s := range steps {
		wantNoPermission(t, "nokms "+s.name, s.call())
	}
	rootRead("after the attack")
	// The blob and context are the right ones: root's Decrypt opens them.
	if _, err := f.root.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: tea.String(blob), EncryptionContext: ectx}); err != nil {
		t.Fatalf("root Decrypt of the same blob: %v", err)
	}
	// The refusals are in the audit log, with the principal.
	raw, err := os.ReadFile(filepath.Join(f.dir, KMSAuditFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), `"principal":"nokms"`); n < len(steps) {
		t.Fatalf("audit log has %d lines for nokms, want %d", n, len(steps))
	}
	if strings.Contains(string(raw), `"principal":"nokms","region":"cn-hangzhou","op":"Decrypt","key_id":"`+f.rootKey+`","result":"ok"`) {
		t.Fatal("audit log shows nokms decrypting")
	}
}

// TestSSEKMSWritesAndReadsUseTheSameDecision: the object store asks the
// KMS decision in-process. A principal may write and read SSE-KMS objects
// only with keys its use grant covers (by id, by alias, or the OSS service
// key by its alias), and is refused with 403 AccessDenied in both dialects
// otherwise.
func TestSSEKMSWritesAndReadsUseTheSameDecision(t *testing.T) {
	ctx := context.Background()
	f := newAuthzFixture(t)
	oc, err := oss.New(f.s.Endpoint, rootAK, rootSK, oss.ForcePathStyle(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"w-data", "a-data"} {
		if err := oc.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	// Root writes one object under each key for the read rows.
	rb := ossBucket(t, f.s, rootAK, rootSK, "w-data")
	for _, k := range []string{f.appKey, f.rootKey} {
		if err := rb.PutObject("by-root-"+k, strings.NewReader("root data"), oss.ServerSideEncryption("KMS"), oss.ServerSideEncryptionKeyID(k)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		who, key string // key "" is the OSS service key
		want     bool
	}{
		{"user", f.appKey, true},
		{"user", "alias/app-main", true},
		{"user", f.rootKey, false},
		{"user", "", false},
		{"legacy", f.appKey, true},
		{"legacy", f.rootKey, false},
		{"aliasuser", f.appKey, true},
		{"aliasuser", f.rootKey, false},
		{"nokms", f.appKey, false},
		{"reader", f.appKey, false},
		{"admin", f.rootKey, false},
		// The OSS service key by its alias: a grant on alias/acs/oss
		// covers it; "alias/*" does not ('*' does not cross '/').
		{"ossuser", "", true},
		{"ossuser", f.appKey, false},
		{"globuser", "", false},
		{"globuser", f.rootKey, true},
	}
	for i, c := range cases {
		name := fmt.Sprintf("%s-%d", c.who, i)
		b := ossBucket(t, f.s, authzAK(c.who), authzSecret(c.who), "w-data")
		opts := []oss.Option{oss.ServerSideEncryption("KMS")}
		if c.key != "" {
			opts = append(opts, oss.ServerSideEncryptionKeyID(c.key))
		}
		err := b.PutObject(name, strings.NewReader("data"), opts...)
		checkObjectDecision(t, "OSS PUT "+name+" with "+c.key, c.want, err)

		mc, merr := minio.New(strings.TrimPrefix(f.s.Endpoint, "http://"), &minio.Options{
			Creds: miniocreds.NewStaticV4(authzAK(c.who), authzSecret(c.who), ""), Region: f.s.Region, BucketLookup: minio.BucketLookupPath,
		})
		if merr != nil {
			t.Fatal(merr)
		}
		sse, merr := encrypt.NewSSEKMS(c.key, nil)
		if merr != nil {
			t.Fatal(merr)
		}
		_, err = mc.PutObject(ctx, "w-data", name+"-s3", strings.NewReader("data"), 4, minio.PutObjectOptions{ServerSideEncryption: sse})
		checkObjectDecision(t, "S3 PUT "+name+" with "+c.key, c.want, err)

		// Reads of root's object under the same key (ids only).
		if c.key == f.appKey || c.key == f.rootKey {
			r, err := b.GetObject("by-root-" + c.key)
			if err == nil {
				r.Close()
			}
			checkObjectDecision(t, "OSS GET by "+c.who+" under "+c.key, c.want, err)
		}
	}
}

func checkObjectDecision(t *testing.T, what string, want bool, err error) {
	t.Helper()
	if want {
		if err != nil {
			t.Errorf("%s: %v, want it allowed", what, err)
		}
		return
	}
	var st int
	var code string
	var me minio.ErrorResponse
	if errors.As(err, &me) {
		st, code = me.StatusCode, me.Code
	} else {
		st, code, _ = ossCode(err)
	}
	if st != 403 || code != "AccessDenied" {
		t.Errorf("%s: %d %s (%v), want 403 AccessDenied", what, st, code, err)
	}
}
