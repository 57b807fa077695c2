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

// reportSetFiles are the names a report directory holds: every rendered
// format, the run's inputs and the signature.
func reportSetFiles() map[string]bool {
	m := map[string]bool{SnapshotFile: true, FindingsFile: true, CucumberFile: true, AffectedFile: true,
		attest.ManifestFile: true, attest.SignatureFile: true, RemediationFile: true, RemediationMarkdownFile: true}
	for _, r := range reports.Formats {
		m[r.File] = true
	}
	return m
}

// CheckReplaceable refuses an out that exists and is not an earlier report
// directory: replacing it must never lose anything but an earlier report,
// so every entry must be a file a report set holds (an empty directory is
// fine).
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
	known := reportSetFiles()
	for _, e := range ents {
		if !e.Type().IsRegular() || !known[e.Name()] {
			return inputErrorf("--out %s holds %s, which is not part of a report set; refusing to replace the directory: choose another --out", out, e.Name())
		}
	}
	return nil
}

// checkOutDir accepts an out that is a directory or does not exist yet
// (scan mode writes only snapshot.json and findings.json into it).
func checkOutDir(out string) error {
	st, err := os.Stat(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(out, 0o755); err != nil {
			return inputErrorf("--out %s: %v", out, err)
		}
		return nil
	case err != nil:
		return inputErrorf("--out %s: %v", out, err)
	case !st.IsDir():
		return inputErrorf("--out %s exists and is not a directory: choose another --out", out)
	}
	return nil
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

// ReplaceDir moves the finished stage to out. An earlier report is moved
// aside first and removed only once the new one is in place, so a failed
// rename loses nothing.
func ReplaceDir(stage, out string) error {
	if err := CheckReplaceable(out); err != nil {
		return err
	}
	old := ""
	if _, err := os.Lstat(out); err == nil {
		old = stage + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("replace %s: %w", out, err)
		}
	}
	if err := os.Rename(stage, out); err != nil {
		if old != "" {
			_ = os.Rename(old, out)
		}
		return fmt.Errorf("write %s: %w", out, err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("remove the earlier report %s: %w", old, err)
		}
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
