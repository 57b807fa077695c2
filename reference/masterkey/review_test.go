package masterkey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sseaudit/sseaudit/reference/clock"
)

// TestLoadRefusesActiveBelowNewestVersion: "active" is the one field of a
// version list that is not authenticated by the root key. A file whose
// active version is not the newest (or whose versions have a gap) must be
// refused as corrupt: otherwise the next rotation creates version
// active+1 again with new material, overwriting the version that sealed
// existing data keys, and the next persist drops every version above
// active. Either way data keys sealed under those versions are lost.
func TestLoadRefusesActiveBelowNewestVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root := testRoot(t, 1)
	clk := clock.NewFake(t0)
	k, err := Open(ctx, Config{Dir: dir, RootKey: root, Clock: clk, Rand: newDetRand(3)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	dk := bytes.Repeat([]byte{9}, 32)
	v, sealed, err := k.Seal(ctx, dk, []byte("b/o"))
	if err != nil || v != 3 {
		t.Fatalf("seal: v=%d err=%v", v, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(fn func(f *fileData)) []byte {
		var f fileData
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		fn(&f)
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := map[string][]byte{
		"active rolled back": edit(func(f *fileData) { f.Active = 2 }),
		"gap in versions":    edit(func(f *fileData) { f.Versions = append(f.Versions[:1], f.Versions[2:]...) }),
		"version 1 missing":  edit(func(f *fileData) { f.Versions = f.Versions[1:] }),
		"active 2 of {2,3}":  edit(func(f *fileData) { f.Versions = f.Versions[1:]; f.Active = 2 }),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			bad := t.TempDir()
			if err := os.WriteFile(filepath.Join(bad, FileName), data, 0o600); err != nil {
				t.Fatal(err)
			}
			k2, err := Open(ctx, Config{Dir: bad, RootKey: root, Clock: clk, Rand: newDetRand(4)})
			if errors.Is(err, ErrCorruptKeyring) {
				return
			}
			if err != nil {
				t.Fatalf("open: %v, want ErrCorruptKeyring", err)
			}
			// Accepted: show the damage.
			if _, err := k2.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			k3, err := Open(ctx, Config{Dir: bad, RootKey: root, Clock: clk})
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			got, err := k3.Unseal(ctx, sealed, []byte("b/o"))
			t.Fatalf("keyring with %s was accepted; after one rotation unsealing a v3 data key gives %x, %v", name, got, err)
		})
	}
}
