package attest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// LoadOrCreateKey returns the Ed25519 signing key stored at path, creating
// it (PEM PKCS #8, mode 0600, in a 0700 directory, public key beside it at
// path+".pub") when the file does not exist; created says which. A key
// file readable or writable by group or others is refused.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, bool, error) {
	key, err := LoadPrivateKey(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("attest: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, false, fmt.Errorf("attest: encode key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("attest: key directory: %w", err)
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("attest: create key: %w", err)
	}
	if err := pem.Encode(fh, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		fh.Close()
		os.Remove(path)
		return nil, false, fmt.Errorf("attest: write key: %w", err)
	}
	if err := fh.Close(); err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("attest: write key: %w", err)
	}
	if err := WritePublicKey(path+".pub", key.Public().(ed25519.PublicKey)); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// WritePublicKey writes pub as PEM "PUBLIC KEY" (PKIX) to path, mode 0644.
func WritePublicKey(path string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("attest: encode public key: %w", err)
	}
	if err := writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("attest: write public key: %w", err)
	}
	return nil
}

// checkPrivate refuses a key file that group or others may access.
func checkPrivate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("attest: key file %s is accessible by group or others (mode %04o); restrict it with: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return nil
}

// LoadPrivateKey reads an Ed25519 private key: PEM "PRIVATE KEY" (PKCS #8),
// or base64 of the 32-byte seed or the 64-byte private key. The file must
// not be accessible by group or others.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	if err := checkPrivate(path); err != nil {
		return nil, err // fs.ErrNotExist passes through for LoadOrCreateKey
	}
	raw, err := readFileBounded(path, maxKeyFileSize)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(raw); blk != nil {
		if blk.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("attest: %s: PEM block %q, want PRIVATE KEY (PKCS #8 Ed25519)", path, blk.Type)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("attest: %s: %w", path, err)
		}
		ek, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("attest: %s: not an Ed25519 key (%T)", path, k)
		}
		return ek, nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("attest: %s: neither PEM nor base64", path)
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		k := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
		if string(k[ed25519.SeedSize:]) != string(b[ed25519.SeedSize:]) {
			return nil, fmt.Errorf("attest: %s: inconsistent Ed25519 private key", path)
		}
		return k, nil
	}
	return nil, fmt.Errorf("attest: %s: %d bytes, not an Ed25519 seed (32) or private key (64)", path, len(b))
}

// LoadPublicKey reads an Ed25519 public key: PEM "PUBLIC KEY" (PKIX),
// base64 of the 32 raw bytes, or a private key file as LoadPrivateKey reads
// it (its public half is returned).
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	raw, err := readFileBounded(path, maxKeyFileSize)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	if blk, _ := pem.Decode(raw); blk != nil {
		switch blk.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("attest: %s: %w", path, err)
			}
			ek, ok := k.(ed25519.PublicKey)
			if !ok {
				return nil, fmt.Errorf("attest: %s: not an Ed25519 key (%T)", path, k)
			}
			return ek, nil
		case "PRIVATE KEY":
			k, err := LoadPrivateKey(path)
			if err != nil {
				return nil, err
			}
			return k.Public().(ed25519.PublicKey), nil
		}
		return nil, fmt.Errorf("attest: %s: PEM block %q, want PUBLIC KEY", path, blk.Type)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("attest: %s: not a PEM or base64 Ed25519 public key", path)
	}
	return ed25519.PublicKey(b), nil
}
