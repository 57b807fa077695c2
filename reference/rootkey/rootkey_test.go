package rootkey

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadGeneratesOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	k1, src, err := Load(env(nil), path, nil)
	if err != nil || src != FromGenerated {
		t.Fatalf("first load: src=%q err=%v", src, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, err %v; want 0600", st.Mode().Perm(), err)
	}
	k2, src, err := Load(env(nil), path, nil)
	if err != nil || src != FromFile || k1.ID() != k2.ID() {
		t.Fatalf("second load: src=%q err=%v same=%v", src, err, k1.ID() == k2.ID())
	}
	os.Chmod(path, 0o644)
	if _, _, err := Load(env(nil), path, nil); !errors.Is(err, ErrInsecureFile) {
		t.Fatalf("world-readable key file: %v, want ErrInsecureFile", err)
	}
}

func TestLoadFromEnv(t *testing.T) {
	raw := bytes.Repeat([]byte{3}, 32)
	cases := []struct {
		name, value string
		wantErr     error
	}{
		{"valid", base64.StdEncoding.EncodeToString(raw), nil},
		{"not base64", "%%%", ErrBadKey},
		{"too short", base64.StdEncoding.EncodeToString(raw[:16]), ErrBadKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.key")
			k, src, err := Load(env(map[string]string{EnvVar: c.value}), path, nil)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if c.wantErr == nil {
				if src != FromEnv || k == nil {
					t.Fatalf("src = %q", src)
				}
				if _, err := os.Stat(path); err == nil {
					t.Fatal("a key file was written although the key came from the environment")
				}
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	k, _ := New(bytes.Repeat([]byte{1}, 32), nil)
	other, _ := New(bytes.Repeat([]byte{2}, 32), nil)
	blob, err := k.Seal("p", []byte("secret"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k.Open("p", blob, []byte("aad")); err != nil || string(pt) != "secret" {
		t.Fatalf("open: %q %v", pt, err)
	}
	flipped := bytes.Clone(blob)
	flipped[len(flipped)-1] ^= 1
	badVer := bytes.Clone(blob)
	badVer[0] = 9
	cases := []struct {
		name    string
		key     *Key
		purpose string
		blob    []byte
		aad     string
		want    error
	}{
		{"wrong key", other, "p", blob, "aad", ErrOpen},
		{"wrong purpose", k, "q", blob, "aad", ErrOpen},
		{"wrong aad", k, "p", blob, "aab", ErrOpen},
		{"flipped tag", k, "p", flipped, "aad", ErrOpen},
		{"unknown version", k, "p", badVer, "aad", ErrUnsupportedVersion},
		{"short", k, "p", blob[:10], "aad", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, err := c.key.Open(c.purpose, c.blob, []byte(c.aad))
			if !errors.Is(err, c.want) || pt != nil {
				t.Fatalf("Open = %q, %v; want %v", pt, err, c.want)
			}
		})
	}
}

// TestDeriveKey: a derived key is HKDF-SHA256 of the root key with the
// documented info (checked against crypto/hkdf directly), stable, and
// different per purpose and per root key; an empty purpose is refused.
func TestDeriveKey(t *testing.T) {
	raw := bytes.Repeat([]byte{3}, Size)
	k, _ := New(raw, nil)
	other, _ := New(bytes.Repeat([]byte{4}, Size), nil)
	a, err := k.DeriveKey("objstore/record-mac")
	if err != nil {
		t.Fatal(err)
	}
	want, err := hkdf.Key(sha256.New, raw, nil, "sseaudit/rootkey/derive/v1/objstore/record-mac", 32)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, want) {
		t.Fatalf("derived key differs from the documented construction")
	}
	again, _ := k.DeriveKey("objstore/record-mac")
	b, _ := k.DeriveKey("other")
	c, _ := other.DeriveKey("objstore/record-mac")
	if !bytes.Equal(a, again) || bytes.Equal(a, b) || bytes.Equal(a, c) || len(a) != 32 {
		t.Fatalf("derived keys: stable %v, per purpose %v, per root %v", bytes.Equal(a, again), !bytes.Equal(a, b), !bytes.Equal(a, c))
	}
	if _, err := k.DeriveKey(""); err == nil {
		t.Fatal("empty purpose accepted")
	}
}
