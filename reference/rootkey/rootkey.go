// Package rootkey holds the reference server's root key: the one secret that
// seals everything else it persists (KMS key material, OSS-managed master
// keys). It loads the key from an environment variable or a key file, creates
// the file (mode 0600) on first start, and seals small secrets under per-seal
// subkeys. It must not seal object data (that is the stream format's job) and
// must never log or print key bytes.
//
// Seal construction (format version 1):
//
//	salt    = random(32)
//	nonce   = random(12)
//	subkey  = HKDF-SHA256(ikm=root, salt=salt, info="sseaudit/rootkey/v1/" || purpose)
//	header  = 0x01 || salt || nonce
//	blob    = header || AES-256-GCM-Seal(subkey, nonce, plaintext, aad=header || aad)
//
// Derived keys (DeriveKey, format version 1), for uses that need a
// stable key rather than a sealed blob (the object store's record MACs):
//
//	key = HKDF-SHA256(ikm=root, salt=none, info="sseaudit/rootkey/derive/v1/" || purpose, 32 bytes)
//
// The info prefix differs from every seal's, so a derived key is never a
// seal subkey, and distinct purposes give independent keys.
//
// A fresh subkey per seal means the GCM limit of 2^32 random nonces per key
// can never be reached by the root key itself. The purpose string keeps a
// blob sealed for one use (say, a KMS key version) from being accepted as
// another (an OSS master key).
package rootkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/sseaudit/sseaudit/reference/atomicfile"
)

// EnvVar names the environment variable that may carry the root key as
// standard base64 of 32 bytes. It wins over the key file.
const EnvVar = "SSEAUDIT_ROOT_KEY"

// Size is the root key length in bytes.
const Size = 32

const (
	version1   = 0x01
	saltSize   = 32
	nonceSize  = 12
	headerSize = 1 + saltSize + nonceSize
	tagSize    = 16
)

var (
	// ErrMalformed reports a sealed blob that cannot be parsed.
	ErrMalformed = errors.New("rootkey: malformed sealed blob")
	// ErrUnsupportedVersion reports a sealed blob of an unknown format version.
	ErrUnsupportedVersion = errors.New("rootkey: unsupported sealed blob version")
	// ErrOpen reports a blob that does not authenticate: wrong root key,
	// wrong purpose or associated data, or a corrupted blob.
	ErrOpen = errors.New("rootkey: sealed blob does not authenticate (wrong root key or corrupted data)")
	// ErrBadKey reports a root key that is not 32 bytes or not valid base64.
	ErrBadKey = errors.New("rootkey: invalid root key")
	// ErrInsecureFile reports a key file readable by group or others.
	ErrInsecureFile = errors.New("rootkey: key file permissions are too open")
)

// Key is a loaded root key. The zero value is not usable.
type Key struct {
	k    [Size]byte
	rand io.Reader
}

// New wraps raw key bytes. It copies them. rnd may be nil for crypto/rand.
func New(raw []byte, rnd io.Reader) (*Key, error) {
	if len(raw) != Size {
		return nil, fmt.Errorf("%w: want %d bytes, got %d", ErrBadKey, Size, len(raw))
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	k := &Key{rand: rnd}
	copy(k.k[:], raw)
	return k, nil
}

// Source says where a key was loaded from, for start-up messages.
type Source string

const (
	FromEnv       Source = "environment variable " + EnvVar
	FromFile      Source = "key file"
	FromGenerated Source = "newly generated key file"
)

// Load returns the root key from the environment variable EnvVar when it is
// set (getenv lets tests supply their own environment), otherwise from path,
// creating path with a fresh random key and mode 0600 when it does not exist.
// A key file that group or others can read is refused.
func Load(getenv func(string) string, path string, rnd io.Reader) (*Key, Source, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if v := strings.TrimSpace(getenv(EnvVar)); v != "" {
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %s is not standard base64: %v", ErrBadKey, EnvVar, err)
		}
		k, err := New(raw, rnd)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", EnvVar, err)
		}
		return k, FromEnv, nil
	}
	if path == "" {
		return nil, "", fmt.Errorf("%w: no %s and no key file path", ErrBadKey, EnvVar)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		raw := make([]byte, Size)
		if _, err := io.ReadFull(rnd, raw); err != nil {
			return nil, "", fmt.Errorf("generate root key: %w", err)
		}
		enc := base64.StdEncoding.EncodeToString(raw) + "\n"
		if err := atomicfile.WriteFile(path, []byte(enc), 0o600); err != nil {
			return nil, "", fmt.Errorf("write root key file: %w", err)
		}
		k, err := New(raw, rnd)
		return k, FromGenerated, err
	case err != nil:
		return nil, "", fmt.Errorf("stat root key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, "", fmt.Errorf("%w: %s has mode %v; run: chmod 600 %s", ErrInsecureFile, path, st.Mode().Perm(), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read root key file: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s is not standard base64 of %d bytes", ErrBadKey, path, Size)
	}
	k, err := New(raw, rnd)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return k, FromFile, nil
}

// ID is a public fingerprint of the key (HMAC of a fixed label), stored next
// to sealed data so that a wrong root key is reported as such rather than as
// corruption. It reveals nothing about the key.
func (k *Key) ID() string {
	m := hmac.New(sha256.New, k.k[:])
	m.Write([]byte("sseaudit/rootkey/v1/id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// DeriveKey returns a 32-byte key for purpose, derived from the root key
// with HKDF-SHA256 (see the package comment). The same root key and
// purpose always give the same key. The caller must not log it.
func (k *Key) DeriveKey(purpose string) ([]byte, error) {
	if purpose == "" {
		return nil, errors.New("rootkey: DeriveKey needs a purpose")
	}
	sub, err := hkdf.Key(sha256.New, k.k[:], nil, "sseaudit/rootkey/derive/v1/"+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key for %s: %w", purpose, err)
	}
	return sub, nil
}

func (k *Key) aead(salt []byte, purpose string) (cipher.AEAD, error) {
	sub, err := hkdf.Key(sha256.New, k.k[:], salt, "sseaudit/rootkey/v1/"+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("derive seal subkey: %w", err)
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, fmt.Errorf("new cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// Seal encrypts and authenticates plaintext for the given purpose, binding
// aad. The result is safe to store on disk.
func (k *Key) Seal(purpose string, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, headerSize, headerSize+len(plaintext)+tagSize)
	out[0] = version1
	if _, err := io.ReadFull(k.rand, out[1:headerSize]); err != nil {
		return nil, fmt.Errorf("seal: read random: %w", err)
	}
	g, err := k.aead(out[1:1+saltSize], purpose)
	if err != nil {
		return nil, err
	}
	full := append(append([]byte(nil), out...), aad...)
	return g.Seal(out, out[1+saltSize:headerSize], plaintext, full), nil
}

// Open reverses Seal. It fails with ErrOpen, never with wrong plaintext,
// when the key, purpose, aad or blob differ from those sealed.
func (k *Key) Open(purpose string, blob, aad []byte) ([]byte, error) {
	if len(blob) < headerSize+tagSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than the minimum %d", ErrMalformed, len(blob), headerSize+tagSize)
	}
	if blob[0] != version1 {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedVersion, blob[0])
	}
	g, err := k.aead(blob[1:1+saltSize], purpose)
	if err != nil {
		return nil, err
	}
	full := append(append([]byte(nil), blob[:headerSize]...), aad...)
	pt, err := g.Open(nil, blob[1+saltSize:headerSize], blob[headerSize:], full)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
