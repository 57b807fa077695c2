package auth

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/reference/rootkey"
)

func TestLoadRoot(t *testing.T) {
	dir := t.TempDir()
	key, _ := rootkey.New(bytes.Repeat([]byte{1}, 32), nil)
	none := func(string) string { return "" }

	c1, gen, err := LoadRoot(none, dir, key, nil)
	if err != nil || !gen || c1.AccessKeyID == "" || c1.AccessKeySecret == "" {
		t.Fatalf("generate: %+v gen=%v err=%v", c1, gen, err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, rootCredFile))
	if bytes.Contains(raw, []byte(c1.AccessKeySecret)) {
		t.Fatal("the secret is stored unencrypted")
	}
	st, _ := os.Stat(filepath.Join(dir, rootCredFile))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("credential file mode %v", st.Mode().Perm())
	}
	c2, gen, err := LoadRoot(none, dir, key, nil)
	if err != nil || gen || c2 != c1 {
		t.Fatalf("reload: %+v gen=%v err=%v", c2, gen, err)
	}
	if strings.Contains(c1.String(), c1.AccessKeySecret) {
		t.Fatal("String() shows the secret")
	}

	env := map[string]string{EnvRootAccessKeyID: "AK", EnvRootAccessKeySecret: "SK"}
	c3, gen, err := LoadRoot(func(k string) string { return env[k] }, dir, key, nil)
	if err != nil || gen || c3.AccessKeyID != "AK" || c3.AccessKeySecret != "SK" {
		t.Fatalf("from env: %+v %v", c3, err)
	}
	delete(env, EnvRootAccessKeySecret)
	if _, _, err := LoadRoot(func(k string) string { return env[k] }, dir, key, nil); !errors.Is(err, ErrPartialEnv) {
		t.Fatalf("partial env: %v", err)
	}
	other, _ := rootkey.New(bytes.Repeat([]byte{2}, 32), nil)
	if _, _, err := LoadRoot(none, dir, other, nil); !errors.Is(err, rootkey.ErrOpen) {
		t.Fatalf("other root key: %v, want rootkey.ErrOpen", err)
	}
}

func TestStore(t *testing.T) {
	s, err := NewStore(Credential{AccessKeyID: "a", AccessKeySecret: "s", Principal: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := s.Lookup("a"); !ok || c.Principal != "p" {
		t.Fatalf("lookup: %+v %v", c, ok)
	}
	if _, ok := s.Lookup("b"); ok {
		t.Fatal("unknown id found")
	}
	if _, err := NewStore(Credential{AccessKeyID: "a", AccessKeySecret: "s"}, Credential{AccessKeyID: "a", AccessKeySecret: "t"}); err == nil {
		t.Fatal("duplicate id accepted")
	}
}
