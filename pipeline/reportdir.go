package pipeline

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sseaudit/sseaudit/attest"
	"github.com/sseaudit/sseaudit/reports"
)

// CheckReplaceable refuses an out that exists and is not an earlier report
// directory (or empty), so replacing it never loses other files.
func CheckReplaceable(out string) error {
	if out == "" {
		return inputErrorf("--out: empty path")
	}
	st, err := os.Lstat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return inputErrorf("--out: %v", err)
	}
	if !st.IsDir() {
		return inputErrorf("--out %s exists and is not a directory: choose another --out", out)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return inputErrorf("--out: %v", err)
	}
	if len(ents) == 0 {
		return nil
	}
	for _, n := range []string{attest.ManifestFile, reports.ModelFile} {
		if st, err := os.Lstat(filepath.Join(out, n)); err == nil && st.Mode().IsRegular() {
			return nil
		}
	}
	return inputErrorf("--out %s is a non-empty directory without a report (no %s or %s); refusing to replace it: choose another --out", out, attest.ManifestFile, reports.ModelFile)
}

// StageDir creates an empty directory beside out to build a report in.
func StageDir(out string) (string, error) {
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", inputErrorf("--out: %v", err)
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(out))+".tmp-")
	if err != nil {
		return "", inputErrorf("--out: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("--out: %w", err)
	}
	return dir, nil
}

// ReplaceDir moves the finished stage to out, removing an earlier report.
func ReplaceDir(stage, out string) error {
	if err := CheckReplaceable(out); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("replace %s: %w", out, err)
	}
	if err := os.Rename(stage, out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

// SigningKey loads the Ed25519 signing key at path, creating it (0600,
// with a .pub beside it) when missing; notes hears about a new key.
func SigningKey(path string, notes io.Writer) (ed25519.PrivateKey, bool, error) {
	if path == "" {
		return nil, false, inputErrorf("--signing-key: no path (no user config directory): give one")
	}
	key, created, err := attest.LoadOrCreateKey(path)
	if err != nil {
		return nil, false, inputErrorf("--signing-key: %v", err)
	}
	if created {
		note(notes, "created signing key %s (public key %s.pub, key id %s)", path, path, attest.KeyID(key.Public().(ed25519.PublicKey)))
	}
	return key, created, nil
}

// sign signs the report directory dir as the next link of the key's chain.
func sign(dir string, model *reports.Model, key ed25519.PrivateKey, s *Signing, toolVersion string) (attest.ChainLink, error) {
	if s.Lock != nil {
		s.Lock.Lock()
		defer s.Lock.Unlock()
	}
	return SignDir(dir, model, key, s.KeyPath, toolVersion)
}

// SignDir signs every file of dir, chaining to the last report signed
// with the key at keyPath.
func SignDir(dir string, model *reports.Model, key ed25519.PrivateKey, keyPath, toolVersion string) (attest.ChainLink, error) {
	meta := attest.Meta{
		Tool:           attest.Tool{Name: "sseaudit", Version: toolVersion},
		SnapshotDigest: model.Provenance.SnapshotDigest,
		PolicyDigest:   model.Provenance.PolicyDigest,
	}
	link, err := attest.SignChained(dir, nil, key, attest.ChainPath(keyPath), meta)
	if err != nil {
		return link, fmt.Errorf("sign the report: %w", err)
	}
	return link, nil
}
