package masterkey

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/rootkey"
)

// detRand is a deterministic, concurrency-safe random source for tests.
type detRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func newDetRand(seed byte) *detRand {
	var s [32]byte
	s[0] = seed
	return &detRand{r: rand.NewChaCha8(s)}
}

func (d *detRand) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.Read(p)
}

func testRoot(t *testing.T, seed byte) *rootkey.Key {
	t.Helper()
	raw := bytes.Repeat([]byte{seed}, 32)
	k, err := rootkey.New(raw, newDetRand(seed))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestRotationKeepsOldVersionsAndSealsUnderNewest(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	k, err := Open(ctx, Config{RootKey: testRoot(t, 1), Clock: clk, Rand: newDetRand(2)})
	if err != nil {
		t.Fatal(err)
	}
	dk := bytes.Repeat([]byte{7}, 32)
	v1, sealed1, err := k.Seal(ctx, dk, []byte("b/o1"))
	if err != nil || v1 != 1 {
		t.Fatalf("seal: v=%d err=%v", v1, err)
	}
	for want := uint32(2); want <= 3; want++ {
		got, err := k.Rotate(ctx)
		if err != nil || got != want {
			t.Fatalf("rotate: got %d err %v, want %d", got, err, want)
		}
	}
	v3, sealed3, err := k.Seal(ctx, dk, []byte("b/o2"))
	if err != nil || v3 != 3 {
		t.Fatalf("new seal after rotation used version %d (err %v), want 3", v3, err)
	}
	for _, c := range []struct {
		sealed  []byte
		binding string
		ver     uint32
	}{{sealed1, "b/o1", 1}, {sealed3, "b/o2", 3}} {
		if v, _ := SealedVersion(c.sealed); v != c.ver {
			t.Errorf("SealedVersion = %d, want %d", v, c.ver)
		}
		got, err := k.Unseal(ctx, c.sealed, []byte(c.binding))
		if err != nil || !bytes.Equal(got, dk) {
			t.Errorf("unseal v%d: %v", c.ver, err)
		}
	}
	// Rewrap moves the v1 key to v3 without changing the data key.
	nv, rewrapped, err := k.Rewrap(ctx, sealed1, []byte("b/o1"))
	if err != nil || nv != 3 {
		t.Fatalf("rewrap: v=%d err=%v", nv, err)
	}
	if got, err := k.Unseal(ctx, rewrapped, []byte("b/o1")); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("unseal rewrapped: %v", err)
	}
}

func TestRotationByTimeAndCount(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	k, err := Open(ctx, Config{RootKey: testRoot(t, 1), Clock: clk, Rand: newDetRand(3), RotateEvery: 24 * time.Hour, MaxWraps: 5})
	if err != nil {
		t.Fatal(err)
	}
	var versions []uint32
	for range 12 {
		v, _, err := k.Seal(ctx, make([]byte, 32), nil)
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	want := []uint32{1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3}
	for i := range want {
		if versions[i] != want[i] {
			t.Fatalf("versions by count = %v, want %v", versions, want)
		}
	}
	clk.Advance(25 * time.Hour)
	if v, _, _ := k.Seal(ctx, make([]byte, 32), nil); v != 4 {
		t.Fatalf("after 25h the seal used version %d, want 4 (rotation by time)", v)
	}
}

func TestTamperAndMisuse(t *testing.T) {
	ctx := context.Background()
	k, err := Open(ctx, Config{RootKey: testRoot(t, 1), Rand: newDetRand(4)})
	if err != nil {
		t.Fatal(err)
	}
	_, sealed, err := k.Seal(ctx, bytes.Repeat([]byte{1}, 32), []byte("bucket/a"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { b := bytes.Clone(sealed); b[i] ^= 1; return b }
	unknown := bytes.Clone(sealed)
	unknown[4] = 9
	cases := []struct {
		name    string
		sealed  []byte
		binding string
		want    error
	}{
		{"moved to another object", sealed, "bucket/b", ErrUnseal},
		{"flipped salt", flip(10), "bucket/a", ErrUnseal},
		{"flipped nonce", flip(headerSize + 1), "bucket/a", ErrUnseal},
		{"flipped ciphertext", flip(len(sealed) - 20), "bucket/a", ErrUnseal},
		{"flipped tag", flip(len(sealed) - 1), "bucket/a", ErrUnseal},
		{"unknown version", unknown, "bucket/a", ErrUnknownVersion},
		{"bad format byte", flip(0), "bucket/a", ErrMalformedSealedKey},
		{"truncated", sealed[:20], "bucket/a", ErrMalformedSealedKey},
		{"empty", nil, "bucket/a", ErrMalformedSealedKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := k.Unseal(ctx, c.sealed, []byte(c.binding))
			if !errors.Is(err, c.want) || got != nil {
				t.Fatalf("Unseal = %x, %v; want error %v", got, err, c.want)
			}
		})
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root := testRoot(t, 1)
	clk := clock.NewFake(t0)
	k, err := Open(ctx, Config{Dir: dir, RootKey: root, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	dk := bytes.Repeat([]byte{5}, 32)
	_, sealed1, _ := k.Seal(ctx, dk, []byte("x"))
	if _, err := k.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keyring file mode = %v (err %v), want 0600", st.Mode().Perm(), err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if bytes.Contains(raw, dk) {
		t.Fatal("keyring file holds a data key")
	}

	k2, err := Open(ctx, Config{Dir: dir, RootKey: root, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if k2.Active() != 2 {
		t.Fatalf("active after restart = %d, want 2", k2.Active())
	}
	if got, err := k2.Unseal(ctx, sealed1, []byte("x")); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("unseal after restart: %v", err)
	}
	// Wrap counts never go backwards across a restart.
	for range 3 {
		k2.Seal(ctx, dk, nil)
	}
	k3, err := Open(ctx, Config{Dir: dir, RootKey: root, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	vs := k3.Versions()
	if got := vs[len(vs)-1].Wraps; got < 3 {
		t.Fatalf("wraps after restart = %d, want >= 3", got)
	}

	if _, err := Open(ctx, Config{Dir: dir, RootKey: testRoot(t, 9)}); !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("open with another root key: %v, want ErrWrongRootKey", err)
	}
	for name, corrupt := range map[string][]byte{
		"truncated":   raw[:len(raw)/2],
		"empty":       nil,
		"not json":    []byte("hello"),
		"no versions": []byte(`{"format":"sseaudit-masterkeys/v1","root_key_id":"` + root.ID() + `","active":1,"versions":[]}`),
	} {
		bad := t.TempDir()
		os.WriteFile(filepath.Join(bad, FileName), corrupt, 0o600)
		if _, err := Open(ctx, Config{Dir: bad, RootKey: root}); !errors.Is(err, ErrCorruptKeyring) {
			t.Errorf("%s keyring: %v, want ErrCorruptKeyring", name, err)
		}
	}
}
