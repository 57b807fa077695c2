package server

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/masterkey"
	"github.com/sseaudit/sseaudit/reference/statefile"
	"github.com/sseaudit/sseaudit/reference/users"
)

// TestStateEditsRollbacksAndDeletionsRefused: each way the keystore, the
// master keyring and the saved users could be edited, rolled back or
// deleted while the server was stopped (issue 12: a Disabled key edited
// back to Enabled, an older keystore bringing a deleted key back, the
// keyring's dates and counters edited to switch rotation off, an older
// users file restoring a removed user, a deleted keystore or keyring
// silently replaced by fresh keys) stops the next start with an error
// naming the file. The untouched directory still starts.
func TestStateEditsRollbacksAndDeletionsRefused(t *testing.T) {
	ctx := kms.WithPrincipal(context.Background(), auth.RootPrincipal)
	rootKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	env := map[string]string{
		"SSEAUDIT_ROOT_KEY":               rootKey,
		"SSEAUDIT_ROOT_ACCESS_KEY_ID":     rootAK,
		"SSEAUDIT_ROOT_ACCESS_KEY_SECRET": rootSK,
		"ALICE_SECRET":                    "alice-secret", "BOB_SECRET": "bob-secret",
	}
	getenv := func(k string) string { return env[k] }
	base := t.TempDir()
	data := filepath.Join(base, "data")
	usersFile := func(names ...string) string {
		var b strings.Builder
		b.WriteString("users:\n")
		for _, n := range names {
			b.WriteString("  - name: " + n + "\n    access_key_id: " + strings.ToUpper(n) + "1\n    access_key_secret_env: " + strings.ToUpper(n) + "_SECRET\n")
		}
		p := filepath.Join(base, strings.Join(names, "-")+".yaml")
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := func(dir, usersPath string, adopt bool) (*Server, error) {
		return Start(ctx, Config{DataDir: dir, Addr: "127.0.0.1:0", KMSAddr: "127.0.0.1:0", Getenv: getenv, UsersFile: usersPath, AdoptState: adopt})
	}
	keystore := filepath.Join(KMSDir, kms.KeystoreFile)
	keyring := filepath.Join(MasterKeyDir, masterkey.FileName)
	usersRel, _ := filepath.Rel(data, users.SavedPath(data))

	// Generation 1: alice and bob, an enabled key, master version 1.
	s, err := start(data, usersFile("alice", "bob"), false)
	if err != nil {
		t.Fatal(err)
	}
	km, err := s.KMS.Region("cn-hangzhou").CreateKey(ctx, kms.CreateKeyInput{Description: "state test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	older := map[string][]byte{}
	for _, f := range []string{keystore, keyring, usersRel} {
		b, err := os.ReadFile(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		older[f] = b
	}
	// Generation 2: bob removed, the key disabled, the master key rotated.
	s, err = start(data, usersFile("alice"), false)
	if err != nil {
		t.Fatal(err)
	}
	// A rotation of the key (version 2 becomes primary), then disabled.
	if _, err := s.KMS.Region("cn-hangzhou").CreateKeyVersion(ctx, km.KeyId); err != nil {
		t.Fatal(err)
	}
	rotated, err := s.KMS.Region("cn-hangzhou").DescribeKey(ctx, km.KeyId)
	if err != nil || rotated.PrimaryKeyVersion == km.PrimaryKeyVersion {
		t.Fatalf("rotation did not change the primary version: %v", err)
	}
	if err := s.KMS.Region("cn-hangzhou").DisableKey(ctx, km.KeyId); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Master.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	edit := func(f, from, to string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, f)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), from) {
				t.Fatalf("%s does not contain %q (test is broken)", f, from)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), from, to, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	restore := func(f string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, f), older[f], 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(f string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name   string
		change func(t *testing.T, dir string)
		adopt  bool
		// wantFile is the file the error must name ("" = the start succeeds).
		wantFile string
		wantErr  any
	}{
		{"untouched", func(*testing.T, string) {}, false, "", nil},
		{"key edited from Disabled to Enabled", edit(keystore, `"key_state": "Disabled"`, `"key_state": "Enabled"`), false, keystore, new(*statefile.TamperError)},
		{"older keystore restored", restore(keystore), false, keystore, new(*statefile.TamperError)},
		{"key rotation rolled back (primary version edited)", func(t *testing.T, dir string) {
			edit(keystore, `"primary_key_version": "`+rotated.PrimaryKeyVersion+`"`, `"primary_key_version": "`+km.PrimaryKeyVersion+`"`)(t, dir)
		}, false, keystore, new(*statefile.TamperError)},
		{"keystore deleted", remove(keystore), false, keystore, new(*statefile.MissingError)},
		{"keyring active version edited", edit(keyring, `"active": 2`, `"active": 1`), false, keyring, new(*statefile.TamperError)},
		{"keyring rotation period edited", edit(keyring, `"rotate_every": "2160h0m0s"`, `"rotate_every": "87600h0m0s"`), false, keyring, new(*statefile.TamperError)},
		// The counter of the active version is 0 right after a rotation; any
		// other value is an edit (lowering it is the attack, but the tag
		// does not care which way).
		{"keyring use counter edited", func(t *testing.T, dir string) {
			p := filepath.Join(dir, keyring)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			re := regexp.MustCompile(`"wraps_reserved": [0-9]+`)
			if !re.Match(b) {
				t.Fatal("keyring has no wraps_reserved (test is broken)")
			}
			if err := os.WriteFile(p, re.ReplaceAll(b, []byte(`"wraps_reserved": 7777777`)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false, keyring, new(*statefile.TamperError)},
		{"older keyring restored", restore(keyring), false, keyring, new(*statefile.TamperError)},
		{"keyring deleted", remove(keyring), false, keyring, new(*statefile.MissingError)},
		{"older users restored", restore(usersRel), false, usersRel, new(*statefile.TamperError)},
		{"manifest deleted", remove(StateManifest), false, StateManifest, new(*statefile.UnguardedError)},
		{"manifest deleted, adopted on request", remove(StateManifest), true, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.CopyFS(dir, os.DirFS(data)); err != nil {
				t.Fatal(err)
			}
			c.change(t, dir)
			s, err := start(dir, "", c.adopt)
			if c.wantFile == "" {
				if err != nil {
					t.Fatalf("start refused: %v", err)
				}
				s.Close(ctx)
				return
			}
			if err == nil {
				s.Close(ctx)
				t.Fatalf("start accepted the changed state")
			}
			if !strings.Contains(err.Error(), c.wantFile) {
				t.Errorf("error does not name %s: %v", c.wantFile, err)
			}
			if !errors.As(err, c.wantErr) {
				t.Errorf("error %v is not a %T", err, c.wantErr)
			}
		})
	}
}
