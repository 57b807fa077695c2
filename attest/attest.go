package attest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Schema identifies the manifest format.
const Schema = "sseaudit.manifest/v1"

// Names of the files Sign writes into the signed directory.
const (
	ManifestFile  = "manifest.json"
	SignatureFile = "manifest.sig"
)

// Manifest lists every file of a signed directory. Its canonical encoding
// (see the package documentation) is what the signature covers.
type Manifest struct {
	Schema         string       `json:"schema"`
	CreatedAt      time.Time    `json:"created_at"`
	Tool           Tool         `json:"tool"`
	Sequence       int          `json:"sequence"`
	Previous       *ChainLink   `json:"previous,omitempty"`
	SnapshotDigest string       `json:"snapshot_digest,omitempty"`
	PolicyDigest   string       `json:"policy_digest,omitempty"`
	Files          []FileDigest `json:"files"`
	PublicKey      string       `json:"public_key"` // base64 of the 32-byte Ed25519 public key
	KeyID          string       `json:"key_id"`     // KeyID(public key)
}

// Tool names the producer of the signed files.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// FileDigest is one listed file.
type FileDigest struct {
	Path   string `json:"path"`   // relative, forward slashes
	SHA256 string `json:"sha256"` // lowercase hex
	Size   int64  `json:"size"`
}

// ChainLink points at a signed manifest: the previous run's, inside a
// manifest, or each run's, in the chain log.
type ChainLink struct {
	Sequence       int    `json:"sequence"`
	ManifestSHA256 string `json:"manifest_sha256"` // hex SHA-256 of manifest.json bytes
	Signature      string `json:"signature"`       // manifest.sig value (base64)
}

// Meta is optional information recorded in the manifest.
type Meta struct {
	Tool           Tool
	SnapshotDigest string
	PolicyDigest   string
	CreatedAt      time.Time // zero: now
}

// KeyID is the fingerprint of pub: lowercase hex of the first 16 bytes of
// SHA-256 over the 32 raw public key bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:16])
}

// Encode returns the canonical bytes of m (the bytes manifest.json holds
// and the signature covers).
func (m *Manifest) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Sign lists files (paths relative to dir; nil or empty: every regular file
// under dir except the manifest and signature) with their digests, signs
// the manifest with key and writes manifest.json and manifest.sig into dir.
// prev is the link of the manifest signed before with the same key (nil for
// the first). It returns the link of the new manifest, for the next run.
func Sign(dir string, files []string, key ed25519.PrivateKey, prev *ChainLink, meta ...Meta) (ChainLink, error) {
	if len(key) != ed25519.PrivateKeySize {
		return ChainLink{}, errors.New("attest: invalid Ed25519 private key")
	}
	var md Meta
	if len(meta) > 0 {
		md = meta[0]
	}
	if len(files) == 0 {
		var err error
		if files, err = listFiles(dir); err != nil {
			return ChainLink{}, fmt.Errorf("attest: list %s: %w", dir, err)
		}
	}
	pub := key.Public().(ed25519.PublicKey)
	m := Manifest{
		Schema: Schema, CreatedAt: md.CreatedAt.UTC(), Tool: md.Tool, Sequence: 1,
		SnapshotDigest: md.SnapshotDigest, PolicyDigest: md.PolicyDigest,
		PublicKey: base64.StdEncoding.EncodeToString(pub), KeyID: KeyID(pub),
		Files: []FileDigest{},
	}
	if md.CreatedAt.IsZero() {
		m.CreatedAt = time.Now().UTC().Truncate(time.Second)
	}
	if prev != nil {
		p := *prev
		m.Previous = &p
		m.Sequence = prev.Sequence + 1
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return ChainLink{}, fmt.Errorf("attest: %w", err)
	}
	defer root.Close()
	seen := map[string]bool{}
	for _, f := range files {
		rel, err := cleanRel(filepath.ToSlash(f))
		if err != nil {
			return ChainLink{}, err
		}
		if rel == ManifestFile || rel == SignatureFile || seen[rel] {
			continue
		}
		seen[rel] = true
		sum, size, err := digestFile(root, rel)
		if err != nil {
			return ChainLink{}, fmt.Errorf("attest: sign %s: %w", dir, err)
		}
		m.Files = append(m.Files, FileDigest{Path: rel, SHA256: sum, Size: size})
	}
	slices.SortFunc(m.Files, func(a, b FileDigest) int { return strings.Compare(a.Path, b.Path) })
	raw, err := m.Encode()
	if err != nil {
		return ChainLink{}, fmt.Errorf("attest: encode manifest: %w", err)
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, raw))
	if err := writeFileAtomic(filepath.Join(dir, ManifestFile), raw, 0o644); err != nil {
		return ChainLink{}, fmt.Errorf("attest: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, SignatureFile), []byte(sig+"\n"), 0o644); err != nil {
		return ChainLink{}, fmt.Errorf("attest: %w", err)
	}
	sum := sha256.Sum256(raw)
	return ChainLink{Sequence: m.Sequence, ManifestSHA256: hex.EncodeToString(sum[:]), Signature: sig}, nil
}

// cleanRel checks that p is a clean relative path inside the directory.
func cleanRel(p string) (string, error) {
	c := path.Clean(p)
	if p == "" || path.IsAbs(c) || c == "." || c == ".." || strings.HasPrefix(c, "../") || filepath.IsAbs(p) || strings.Contains(p, "\\") {
		return "", fmt.Errorf("attest: %q is not a relative path inside the directory", p)
	}
	return c, nil
}

// listFiles returns every non-directory entry under dir (slash-separated,
// relative), except the manifest and signature at the top. Symbolic links
// are listed, not followed; Sign then refuses them, since a signed
// directory holds regular files only.
func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestFile || rel == SignatureFile {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	return out, err
}

// digestFile hashes rel inside root, a regular file (see openRegular).
func digestFile(root *os.Root, rel string) (string, int64, error) {
	fh, st, err := openRegular(root, rel)
	if err != nil {
		return "", 0, err
	}
	defer fh.Close()
	return hashBounded(context.Background(), fh, st.Size())
}

func writeFileAtomic(p string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}

// readSigned reads and parses the manifest and signature in root (the
// directory dir): both must be regular files, not symbolic links, and of a
// plausible size. It returns the raw manifest bytes too, and the problems
// found on the way.
func readSigned(root *os.Root) (raw []byte, m *Manifest, sig []byte, sigText string, probs []Problem) {
	var err error
	raw, err = readRegular(root, ManifestFile, maxManifestSize)
	if err != nil {
		kind := ManifestInvalid
		if errors.Is(err, fs.ErrNotExist) {
			kind = ManifestMissing
		}
		probs = append(probs, Problem{Kind: kind, Path: ManifestFile, Detail: readDetail(err)})
	} else {
		var mm Manifest
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&mm); err != nil {
			probs = append(probs, Problem{Kind: ManifestInvalid, Path: ManifestFile, Detail: "not a valid manifest: " + err.Error()})
		} else if mm.Schema != Schema {
			probs = append(probs, Problem{Kind: ManifestInvalid, Path: ManifestFile, Detail: fmt.Sprintf("unsupported schema %q (want %q)", mm.Schema, Schema)})
		} else {
			m = &mm
		}
	}
	st, err := readRegular(root, SignatureFile, maxSignatureSize)
	if err != nil {
		kind := SignatureMissing
		if !errors.Is(err, fs.ErrNotExist) {
			kind = SignatureInvalid
		}
		probs = append(probs, Problem{Kind: kind, Path: SignatureFile, Detail: readDetail(err)})
		return raw, m, nil, "", probs
	}
	sigText = strings.TrimSpace(string(st))
	sig, err = base64.StdEncoding.DecodeString(sigText)
	if err != nil || len(sig) != ed25519.SignatureSize {
		probs = append(probs, Problem{Kind: SignatureInvalid, Path: SignatureFile, Detail: "not a base64 Ed25519 signature"})
		return raw, m, nil, sigText, probs
	}
	return raw, m, sig, sigText, probs
}

// readDetail words a read error for a Problem.
func readDetail(err error) string {
	var nr *notRegularError
	switch {
	case errors.As(err, &nr):
		return nr.detail
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	}
	return "cannot be read: " + err.Error()
}

// LinkOf returns the chain link of the signed directory dir (its manifest
// digest, signature and sequence), without verifying it.
func LinkOf(dir string) (ChainLink, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return ChainLink{}, fmt.Errorf("attest: %w", err)
	}
	defer root.Close()
	raw, m, _, sigText, probs := readSigned(root)
	if len(probs) > 0 {
		return ChainLink{}, fmt.Errorf("attest: %s: %s", dir, probs[0])
	}
	sum := sha256.Sum256(raw)
	return ChainLink{Sequence: m.Sequence, ManifestSHA256: hex.EncodeToString(sum[:]), Signature: sigText}, nil
}
