package users

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/objstore"
	"github.com/sseaudit/sseaudit/reference/rootkey"
	"github.com/sseaudit/sseaudit/reference/statefile"
)

const sample = `
users:
  - name: auditor
    access_key_id: AUDITOR1
    access_key_secret_env: AUDITOR_SECRET
    buckets:
      read: ["*"]
    kms:
      decrypt: []
  - name: app
    access_key_id: APP1
    access_key_secret: app-secret
    buckets:
      write: ["app-*"]
    kms:
      decrypt: ["key-a"]
  - name: ops
    access_key_id: OPS1
    access_key_secret: ops-secret
    buckets:
      read: ["*"]
    kms:
      decrypt: ["*"]
`

func getenv(k string) string { return map[string]string{"AUDITOR_SECRET": "aud-secret"}[k] }

func TestGrants(t *testing.T) {
	s, err := Parse([]byte(sample), getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	p := func(n string) objstore.Principal { return objstore.Principal{Name: n} }
	cases := []struct {
		who, check, target string
		want               bool
	}{
		{"root", "write", "anything", true},
		{"root", "decrypt", "any-key", true},
		{"auditor", "read", "app-1", true},
		{"auditor", "write", "app-1", false},
		{"auditor", "decrypt", "key-a", false},
		{"app", "read", "app-1", true}, // write implies read
		{"app", "write", "app-1", true},
		{"app", "write", "other", false},
		{"app", "read", "other", false},
		{"app", "decrypt", "key-a", true},
		{"app", "decrypt", "key-b", false},
		{"ops", "decrypt", "key-b", true},
		{"stranger", "read", "app-1", false},
	}
	for _, c := range cases {
		var got bool
		switch c.check {
		case "read":
			got = s.CanReadBucket(p(c.who), c.target)
		case "write":
			got = s.CanWriteBucket(p(c.who), c.target)
		case "decrypt":
			got = s.CanDecrypt(p(c.who), c.target)
		}
		if got != c.want {
			t.Errorf("%s %s %s = %v, want %v", c.who, c.check, c.target, got, c.want)
		}
	}
	creds := s.Credentials()
	if len(creds) != 3 || creds[0].AccessKeySecret != "aud-secret" {
		t.Fatalf("credentials: %+v", creds)
	}
}

func TestParseErrorsNameTheProblem(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"unknown field":    {"users:\n  - name: a\n    acces_key_id: x\n", "acces_key_id"},
		"no name":          {"users:\n  - access_key_id: x\n    access_key_secret: y\n", "name is required"},
		"root reserved":    {"users:\n  - name: root\n    access_key_id: x\n    access_key_secret: y\n", "reserved"},
		"no key":           {"users:\n  - name: a\n    access_key_secret: y\n", "access_key_id is required"},
		"no secret":        {"users:\n  - name: a\n    access_key_id: x\n", "access_key_secret"},
		"empty env":        {"users:\n  - name: a\n    access_key_id: x\n    access_key_secret_env: NOPE\n", "NOPE"},
		"bad pattern":      {"users:\n  - name: a\n    access_key_id: x\n    access_key_secret: y\n    buckets:\n      read: [\"[\"]\n", "bad bucket pattern"},
		"duplicate key id": {"users:\n  - {name: a, access_key_id: x, access_key_secret: y}\n  - {name: b, access_key_id: x, access_key_secret: z}\n", "appears twice"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), getenv, true)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, c.want)
			}
		})
	}
}

func TestInlineSecretsNeedAPrivateFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "users.yaml")
	os.WriteFile(p, []byte(sample), 0o644)
	if _, err := LoadFile(p, getenv); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable file with inline secrets: %v", err)
	}
	os.Chmod(p, 0o600)
	if _, err := LoadFile(p, getenv); err != nil {
		t.Fatal(err)
	}
}

func TestSaveAndLoadSealed(t *testing.T) {
	dir := t.TempDir()
	key, _ := rootkey.New(bytes.Repeat([]byte{1}, 32), nil)
	s, err := Parse([]byte(sample), getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(dir, key, statefile.Plain{}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, sealedFile))
	if bytes.Contains(raw, []byte("app-secret")) {
		t.Fatal("saved users hold a secret in the clear")
	}
	got, err := LoadSaved(dir, key, statefile.Plain{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.CanDecrypt(objstore.Principal{Name: "app"}, "key-a") || len(got.Credentials()) != 3 {
		t.Fatal("saved users lost their grants")
	}
	empty, err := LoadSaved(t.TempDir(), key, statefile.Plain{})
	if err != nil || len(empty.Credentials()) != 0 {
		t.Fatalf("no saved file: %v", err)
	}
}

const kmsSample = `
users:
  - name: legacy
    access_key_id: L1
    access_key_secret: s
    kms:
      decrypt: ["KEY-A"]
  - name: app
    access_key_id: A1
    access_key_secret: s
    kms:
      use: ["alias/app-*", "key-b"]
  - name: ops
    access_key_id: O1
    access_key_secret: s
    kms:
      read: ["*"]
      manage: ["alias/team/*"]
  - name: none
    access_key_id: N1
    access_key_secret: s
    buckets: {read: ["*"]}
`

// TestAuthorizeKMS is the KMS decision: default deny but root, groups
// independent, key patterns over ids (any case) and current aliases, "*"
// the only grant on the containers, and decrypt read as use.
func TestAuthorizeKMS(t *testing.T) {
	s, err := Parse([]byte(kmsSample), getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	key := func(id string, aliases ...string) kms.Resource { return kms.Resource{KeyID: id, Aliases: aliases} }
	keys := kms.Resource{Container: kms.ContainerKeys}
	aliases := kms.Resource{Container: kms.ContainerAliases}
	cases := []struct {
		who, action string
		r           kms.Resource
		want        bool
	}{
		{"root", "DisableKey", key("any"), true},
		{"root", "CreateKey", keys, true},
		{"", "Decrypt", key("key-a"), false},
		{"stranger", "Decrypt", key("key-a"), false},
		{"none", "Decrypt", key("key-a"), false},
		{"none", "ListKeys", keys, false},
		{"none", "DescribeKey", key("key-a"), false},

		// decrypt is the use group, ids compared in any case.
		{"legacy", "Decrypt", key("key-a"), true},
		{"legacy", "GenerateDataKey", key("key-a"), true},
		{"legacy", "Encrypt", key("key-a"), true},
		{"legacy", "ReEncrypt", key("key-a"), true},
		{"legacy", "GenerateDataKeyWithoutPlaintext", key("key-a"), true},
		{"legacy", "Decrypt", key("key-b"), false},
		{"legacy", "DescribeKey", key("key-a"), false},
		{"legacy", "DisableKey", key("key-a"), false},

		// use by alias glob and by id; not read or manage.
		{"app", "GenerateDataKey", key("k1", "alias/app-main"), true},
		{"app", "GenerateDataKey", key("k1", "alias/other", "alias/app-x"), true},
		{"app", "GenerateDataKey", key("k1", "alias/other"), false},
		{"app", "GenerateDataKey", key("k1", "alias/app/nested"), false}, // '*' does not cross '/'
		{"app", "Decrypt", key("key-b"), true},
		{"app", "DescribeKey", key("key-b"), false},
		{"app", "EnableKey", key("k1", "alias/app-main"), false},
		{"app", "ListKeys", keys, false},

		// read "*" covers keys and containers; manage by alias.
		{"ops", "DescribeKey", key("anything"), true},
		{"ops", "ListKeys", keys, true},
		{"ops", "ListAliases", aliases, true},
		{"ops", "Decrypt", key("anything"), false},
		{"ops", "DisableKey", key("k2", "alias/team/db"), true},
		{"ops", "DisableKey", key("k3", "alias/prod"), false},
		{"ops", "CreateKey", keys, false}, // needs manage "*"
		{"ops", "CreateAlias", kms.Resource{Alias: "alias/team/new"}, true},
		{"ops", "CreateAlias", kms.Resource{Alias: "alias/prod-2"}, false},
		{"ops", "NoSuchAction", key("k2", "alias/team/db"), false},
	}
	for _, c := range cases {
		if got := s.AuthorizeKMS(c.who, c.action, c.r); got != c.want {
			t.Errorf("%q %s %+v = %v, want %v", c.who, c.action, c.r, got, c.want)
		}
	}
	// The object store's id-only question is the same decision.
	if !s.CanDecrypt(objstore.Principal{Name: "app"}, "KEY-B") || s.CanDecrypt(objstore.Principal{Name: "ops"}, "key-b") {
		t.Fatal("CanDecrypt disagrees with AuthorizeKMS")
	}
}

func TestKMSPatternErrorsNameTheField(t *testing.T) {
	head := "users:\n  - name: a\n    access_key_id: x\n    access_key_secret: y\n    kms:\n"
	cases := map[string]struct{ yaml, want string }{
		"bad glob":      {head + "      use: [\"[\"]\n", "kms.use: bad key pattern"},
		"empty":         {head + "      read: [\"\"]\n", "kms.read: an empty key pattern"},
		"arn":           {head + "      manage: [\"acs:kms:cn-hangzhou:1:key/k\"]\n", "kms.manage: key pattern \"acs:kms:cn-hangzhou:1:key/k\" is an ARN"},
		"legacy glob":   {head + "      decrypt: [\"[\"]\n", "kms.decrypt: bad key pattern"},
		"unknown group": {head + "      admin: [\"*\"]\n", "admin"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), getenv, true)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, c.want)
			}
		})
	}
}

// TestSavedKMSGrants: the groups survive the sealed save, and a save from
// before the groups (decrypt only) still loads and grants use.
func TestSavedKMSGrants(t *testing.T) {
	dir := t.TempDir()
	key, _ := rootkey.New(bytes.Repeat([]byte{2}, 32), nil)
	s, err := Parse([]byte(kmsSample), getenv, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(dir, key, statefile.Plain{}); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSaved(dir, key, statefile.Plain{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.AuthorizeKMS("ops", "DisableKey", kms.Resource{KeyID: "k", Aliases: []string{"alias/team/x"}}) ||
		!got.AuthorizeKMS("app", "Encrypt", kms.Resource{KeyID: "key-b"}) || !got.AuthorizeKMS("legacy", "Decrypt", kms.Resource{KeyID: "key-a"}) {
		t.Fatal("saved users lost KMS grants")
	}
	old := `[{"name":"old","access_key_id":"O","access_key_secret":"s","buckets":{"read":null,"write":null},"kms":{"decrypt":["k-1"]}}]`
	sealed, err := key.Seal(sealPurpose, []byte(old), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, sealedFile), sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = LoadSaved(dir, key, statefile.Plain{})
	if err != nil {
		t.Fatalf("a save from before the KMS groups: %v", err)
	}
	if !got.AuthorizeKMS("old", "GenerateDataKey", kms.Resource{KeyID: "k-1"}) || got.AuthorizeKMS("old", "DescribeKey", kms.Resource{KeyID: "k-1"}) {
		t.Fatal("an old save's decrypt grant is not read as use")
	}
}
