package users

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
