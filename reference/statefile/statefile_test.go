package statefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/sseaudit/sseaudit/reference/rootkey"
)

func testKey(t *testing.T, b byte) *rootkey.Key {
	t.Helper()
	raw := make([]byte, rootkey.Size)
	for i := range raw {
		raw[i] = b
	}
	k, err := rootkey.New(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestGuardDetects: every way of changing a guarded file behind the guard
// is refused at the next Open+Read, and the right error type says which.
func TestGuardDetects(t *testing.T) {
	type errKind int
	const (
		ok errKind = iota
		tamper
		missing
		unguarded
	)
	cases := []struct {
		name   string
		change func(t *testing.T, dir, file, manifest string, older []byte)
		want   errKind
	}{
		{"untouched", func(*testing.T, string, string, string, []byte) {}, ok},
		{"one byte edited", func(t *testing.T, _, file, _ string, _ []byte) {
			b, _ := os.ReadFile(file)
			b[3] ^= 1
			os.WriteFile(file, b, 0o600)
		}, tamper},
		{"older copy restored", func(t *testing.T, _, file, _ string, older []byte) {
			os.WriteFile(file, older, 0o600)
		}, tamper},
		{"truncated", func(t *testing.T, _, file, _ string, _ []byte) { os.WriteFile(file, nil, 0o600) }, tamper},
		{"deleted", func(t *testing.T, _, file, _ string, _ []byte) { os.Remove(file) }, missing},
		{"manifest edited", func(t *testing.T, _, _, manifest string, _ []byte) {
			b, _ := os.ReadFile(manifest)
			b[len(b)/2] ^= 1
			os.WriteFile(manifest, b, 0o600)
		}, tamper},
		{"manifest deleted", func(t *testing.T, _, _, manifest string, _ []byte) { os.Remove(manifest) }, unguarded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			file, manifest := filepath.Join(dir, "keystore.json"), filepath.Join(dir, "state.json")
			opts := Options{Guarded: map[string]string{"keystore": file}}
			key := testKey(t, 7)
			g, err := Open(manifest, key, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.Read("keystore", file); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("fresh read: %v, want not exist", err)
			}
			older := []byte(`{"state":"Disabled","seq":1}`)
			if err := g.Write("keystore", file, older); err != nil {
				t.Fatal(err)
			}
			if err := g.Write("keystore", file, []byte(`{"state":"Disabled","seq":2}`)); err != nil {
				t.Fatal(err)
			}
			c.change(t, dir, file, manifest, older)
			g2, err := Open(manifest, key, opts)
			if err == nil {
				_, err = g2.Read("keystore", file)
			}
			var te *TamperError
			var me *MissingError
			var ue *UnguardedError
			switch {
			case c.want == ok && err != nil:
				t.Fatalf("untouched state refused: %v", err)
			case c.want == tamper && !errors.As(err, &te):
				t.Fatalf("got %v, want a TamperError", err)
			case c.want == missing && !errors.As(err, &me):
				t.Fatalf("got %v, want a MissingError", err)
			case c.want == unguarded && !errors.As(err, &ue):
				t.Fatalf("got %v, want an UnguardedError", err)
			}
			if c.want == unguarded {
				// Adopting accepts the files as they are, once asked to.
				opts.Adopt = true
				g3, err := Open(manifest, key, opts)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := g3.Read("keystore", file); err != nil {
					t.Fatalf("adopted file refused: %v", err)
				}
			}
		})
	}
}

// TestGuardWrongRootKey: a manifest is not accepted under another root key.
func TestGuardWrongRootKey(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "state.json")
	if _, err := Open(manifest, testKey(t, 1), Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(manifest, testKey(t, 2), Options{}); err == nil {
		t.Fatal("manifest opened under another root key")
	}
}

// TestGuardCrashBetweenSteps: a crash after the manifest recorded the
// pending tag, whether or not the file was replaced, leaves state that
// opens (the old or the new content).
func TestGuardCrashBetweenSteps(t *testing.T) {
	for _, replaced := range []bool{false, true} {
		dir := t.TempDir()
		file, manifest := filepath.Join(dir, "k.json"), filepath.Join(dir, "state.json")
		key := testKey(t, 3)
		g, err := Open(manifest, key, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Write("k", file, []byte("v1")); err != nil {
			t.Fatal(err)
		}
		// What Write does up to the crash.
		e := g.m.Files["k"]
		next, _ := g.tag("k", e.Generation+1, []byte("v2"))
		e.Pending = next
		if err := g.save(); err != nil {
			t.Fatal(err)
		}
		if replaced {
			os.WriteFile(file, []byte("v2"), 0o600)
		}
		g2, err := Open(manifest, key, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := g2.Read("k", file)
		if err != nil {
			t.Fatalf("replaced=%v: %v", replaced, err)
		}
		want := map[bool]string{false: "v1", true: "v2"}[replaced]
		if string(got) != want {
			t.Errorf("replaced=%v: read %q, want %q", replaced, got, want)
		}
		if replaced && g2.Generation("k") != 2 {
			t.Errorf("pending write not committed: generation %d", g2.Generation("k"))
		}
	}
}

// TestGuardRefusesEditWhileRunning: a write over a file edited behind the
// running guard is refused, not silently overwritten; a planted file the
// manifest does not list is refused too.
func TestGuardRefusesEditWhileRunning(t *testing.T) {
	dir := t.TempDir()
	file, manifest := filepath.Join(dir, "k.json"), filepath.Join(dir, "state.json")
	g, err := Open(manifest, testKey(t, 4), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Write("k", file, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file, []byte("edited"), 0o600)
	var te *TamperError
	if err := g.Write("k", file, []byte("v2")); !errors.As(err, &te) {
		t.Fatalf("write over an edited file: %v, want TamperError", err)
	}
	planted := filepath.Join(dir, "other.json")
	os.WriteFile(planted, []byte("x"), 0o600)
	if _, err := g.Read("other", planted); !errors.As(err, &te) {
		t.Fatalf("planted file: %v, want TamperError", err)
	}
}

// TestGuardWitness: a directory whose object database exists but whose
// manifest does not is not taken for a new one.
func TestGuardWitness(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "meta.db")
	os.WriteFile(db, []byte("x"), 0o600)
	var ue *UnguardedError
	if _, err := Open(filepath.Join(dir, "state.json"), testKey(t, 5), Options{Witnesses: []string{db}}); !errors.As(err, &ue) {
		t.Fatalf("got %v, want UnguardedError", err)
	}
}
