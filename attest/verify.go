package attest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Kind classifies a Problem.
type Kind string

// Kinds of Problem.
const (
	ManifestMissing  Kind = "manifest-missing"  // manifest.json absent
	ManifestInvalid  Kind = "manifest-invalid"  // unparseable, wrong schema, inconsistent key id
	ManifestEdited   Kind = "manifest-edited"   // differs from what was signed / recorded
	SignatureMissing Kind = "signature-missing" // manifest.sig absent
	SignatureInvalid Kind = "signature-invalid" // does not verify over manifest.json
	UntrustedKey     Kind = "untrusted-key"     // signed by a key other than the pinned one
	FileModified     Kind = "file-modified"     // digest or size differs
	FileMissing      Kind = "file-missing"      // listed but absent
	FileUnlisted     Kind = "file-unlisted"     // present but not listed: added after signing
	FileNotRegular   Kind = "file-not-regular"  // listed, but a symlink, device, FIFO, socket or directory
	ChainBroken      Kind = "chain-broken"      // previous link does not match, or runs skipped
)

// Problem is one thing wrong with a signed directory.
type Problem struct {
	Kind   Kind   `json:"kind"`
	Path   string `json:"path,omitempty"` // the file concerned, relative to the directory
	Detail string `json:"detail"`
}

func (p Problem) String() string {
	if p.Path != "" {
		return fmt.Sprintf("%s: %s: %s", p.Kind, p.Path, p.Detail)
	}
	return fmt.Sprintf("%s: %s", p.Kind, p.Detail)
}

// VerifyOptions says what a signed directory is checked against besides
// itself. Every field is optional.
type VerifyOptions struct {
	// PublicKey pins the signing key; TrustedKeyID pins its KeyID. With
	// neither, the signature is checked against the key the manifest
	// carries, which proves integrity but not who signed.
	PublicKey    ed25519.PublicKey
	TrustedKeyID string
	// PreviousDir is the signed directory of the run before: the manifest's
	// previous link must point at it.
	PreviousDir string
	// Chain is the signer's chain log: the manifest must be recorded in it
	// and its previous link must match the run recorded before it.
	Chain *ChainLog
}

// Report is the outcome of Verify: every problem found, not just the first.
type Report struct {
	Dir      string
	Manifest *Manifest // nil when manifest.json is missing or unparseable
	// KeyID of the key that signed (from the manifest).
	KeyID string
	// SignatureValid reports that manifest.sig verifies over manifest.json
	// with the pinned key, or the manifest's own key when none is pinned.
	SignatureValid bool
	// Pinned reports that a trusted key or key id was given and matched.
	Pinned       bool
	FilesChecked int
	Problems     []Problem
}

// OK reports that the directory is intact: no problem.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// ErrTampered is wrapped by the error Verify returns when it found problems.
var ErrTampered = errors.New("attest: signed directory does not verify")

// Err returns nil when r is OK, otherwise an error wrapping ErrTampered that
// names every problem.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	parts := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		parts[i] = p.String()
	}
	return fmt.Errorf("%w: %s: %s", ErrTampered, r.Dir, strings.Join(parts, "; "))
}

func (r *Report) add(k Kind, path, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Kind: k, Path: path, Detail: fmt.Sprintf(format, args...)})
}

// Verify checks the signed directory dir: the signature over manifest.json,
// the key against the pinned one, every listed file's digest and size,
// files present but not listed, and the chain against opts.PreviousDir and
// opts.Chain.
//
// Only regular files inside dir are read: no symbolic link is followed
// (also not for manifest.json and manifest.sig, and not inside dir), a
// FIFO, device or directory where a file is listed is a problem and never
// opened, and no listed file is read past the size the manifest lists, so
// a hostile directory cannot make Verify read outside it or for ever. dir
// itself may be a symbolic link: the caller named it.
//
// The error wraps ErrTampered exactly when the report names problems. It is
// another error when the check could not run: dir cannot be opened, the
// pinned key is not an Ed25519 key, or ctx was cancelled (the error then
// wraps ctx.Err(), and the report holds what was checked so far).
func Verify(ctx context.Context, dir string, opts VerifyOptions) (Report, error) {
	r := Report{Dir: dir}
	if opts.PublicKey != nil && len(opts.PublicKey) != ed25519.PublicKeySize {
		return r, fmt.Errorf("attest: the trusted public key is not an Ed25519 public key")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return r, fmt.Errorf("attest: cannot open the signed directory: %w", err)
	}
	defer root.Close()
	raw, m, sig, sigText, probs := readSigned(root)
	r.Problems = append(r.Problems, probs...)
	r.Manifest = m
	sum := sha256.Sum256(raw)
	digest := hex.EncodeToString(sum[:])

	if m != nil {
		r.KeyID = m.KeyID
		pub, err := base64.StdEncoding.DecodeString(m.PublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			r.add(ManifestInvalid, ManifestFile, "public_key is not a base64 Ed25519 public key")
			pub = nil
		} else if id := KeyID(pub); id != m.KeyID {
			r.add(ManifestInvalid, ManifestFile, "key_id %s does not match public_key (fingerprint %s)", m.KeyID, id)
		}
		r.checkSignature(opts, raw, digest, sig, sigText, pub)
		r.checkSequence(m)
	}
	if opts.PreviousDir != "" {
		r.checkPrevious(opts, m)
	}
	if opts.Chain != nil {
		r.checkChainLog(opts.Chain, m, digest, sigText)
	}
	if m != nil {
		if err := r.checkFiles(ctx, root, m); err != nil {
			return r, fmt.Errorf("attest: verify %s: interrupted after %d file(s): %w", dir, r.FilesChecked, err)
		}
	}
	return r, r.Err()
}

func (r *Report) checkSignature(opts VerifyOptions, raw []byte, digest string, sig []byte, sigText string, embedded ed25519.PublicKey) {
	m := r.Manifest
	trusted := opts.PublicKey
	pinnedID := strings.ToLower(strings.TrimSpace(opts.TrustedKeyID))
	if trusted != nil {
		pinnedID = KeyID(trusted)
	}
	if pinnedID != "" {
		if m.KeyID != pinnedID {
			r.add(UntrustedKey, SignatureFile, "signed by key %s, not the trusted key %s: the manifest was re-signed with another key", m.KeyID, pinnedID)
		} else {
			r.Pinned = true
		}
	}
	if sig == nil {
		return
	}
	key := embedded
	if trusted != nil {
		key = trusted
	}
	if key == nil {
		return
	}
	if ed25519.Verify(key, raw, sig) {
		r.SignatureValid = true
		return
	}
	if trusted != nil && embedded != nil && KeyID(embedded) != KeyID(trusted) && ed25519.Verify(embedded, raw, sig) {
		return // already reported as UntrustedKey: valid, but with another key
	}
	// Which one changed is known only when the chain log recorded this run.
	if opts.Chain != nil {
		if l, ok := opts.Chain.Find(m.Sequence); ok {
			switch {
			case l.ManifestSHA256 != digest:
				r.add(ManifestEdited, ManifestFile, "manifest.json was edited after signing: its digest differs from the one recorded for run %d, and the signature does not verify", m.Sequence)
				return
			case l.Signature != sigText:
				r.add(SignatureInvalid, SignatureFile, "manifest.sig was replaced: it differs from the signature recorded for run %d and does not verify", m.Sequence)
				return
			}
		}
	}
	r.add(SignatureInvalid, SignatureFile, "the signature does not verify over manifest.json with key %s: manifest.json was edited after signing, or manifest.sig was replaced", KeyID(key))
}

// checkFiles checks every listed file and looks for files not listed. It
// returns only ctx's error: everything else is a problem in the report.
func (r *Report) checkFiles(ctx context.Context, root *os.Root, m *Manifest) error {
	listed := map[string]bool{}
	for _, f := range m.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := cleanRel(f.Path)
		switch {
		case err != nil || rel != f.Path:
			r.add(ManifestInvalid, ManifestFile, "file entry %q is not a clean relative path inside the directory", f.Path)
			continue
		case rel == ManifestFile || rel == SignatureFile:
			r.add(ManifestInvalid, ManifestFile, "file entry %q names the manifest or signature itself", f.Path)
			continue
		case listed[rel]:
			r.add(ManifestInvalid, ManifestFile, "file entry %q is listed twice", f.Path)
			continue
		case f.Size < 0:
			r.add(ManifestInvalid, ManifestFile, "file entry %q has a negative size", f.Path)
			continue
		}
		listed[rel] = true
		r.FilesChecked++
		if err := r.checkFile(ctx, root, rel, f); err != nil {
			return err
		}
	}
	return r.checkUnlisted(ctx, root, listed)
}

// checkFile compares one listed file with its entry. A file whose size
// differs is not hashed, and no file is hashed past its listed size.
func (r *Report) checkFile(ctx context.Context, root *os.Root, rel string, f FileDigest) error {
	fh, st, err := openRegular(root, rel)
	var nr *notRegularError
	switch {
	case errors.As(err, &nr):
		r.add(FileNotRegular, rel, "listed as a regular file, but %s", nr.Error())
		return nil
	case errors.Is(err, fs.ErrNotExist):
		r.add(FileMissing, rel, "listed in the manifest but missing")
		return nil
	case err != nil:
		r.add(FileModified, rel, "cannot be read: %v", err)
		return nil
	}
	defer fh.Close()
	if st.Size() != f.Size {
		r.add(FileModified, rel, "modified after signing: %d bytes, the manifest lists %d bytes", st.Size(), f.Size)
		return nil
	}
	got, size, err := hashBounded(ctx, fh, f.Size)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		r.add(FileModified, rel, "cannot be read: %v", err)
	case got != strings.ToLower(f.SHA256) || size != f.Size:
		r.add(FileModified, rel, "modified after signing: sha256 %s (%d bytes), the manifest lists %s (%d bytes)", got, size, f.SHA256, f.Size)
	}
	return nil
}

// checkUnlisted names every entry of the directory that is neither listed,
// nor a directory on the way to a listed file, nor the manifest or
// signature: a file added after signing is not covered by the signature, so
// the directory is not what was signed. Symbolic links are named, not
// followed.
func (r *Report) checkUnlisted(ctx context.Context, root *os.Root, listed map[string]bool) error {
	var added []Problem
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			r.add(FileUnlisted, p, "cannot be listed: %v", err)
			return nil
		}
		if p == "." || p == ManifestFile || p == SignatureFile || listed[p] {
			return nil
		}
		if d.IsDir() {
			if !listedUnder(listed, p) {
				added = append(added, Problem{Kind: FileUnlisted, Path: p + "/", Detail: "a directory not listed in the manifest: added after signing"})
				return fs.SkipDir
			}
			return nil
		}
		what := "a file"
		if !d.Type().IsRegular() {
			what = describe(d.Type())
		}
		added = append(added, Problem{Kind: FileUnlisted, Path: p, Detail: what + " not listed in the manifest: added after signing, so not covered by the signature"})
		return nil
	})
	if err != nil {
		return err
	}
	r.Problems = append(r.Problems, added...)
	return nil
}

// listedUnder reports whether a listed file lies under directory dir.
func listedUnder(listed map[string]bool, dir string) bool {
	for p := range listed {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

func (r *Report) checkSequence(m *Manifest) {
	switch {
	case m.Sequence < 1:
		r.add(ManifestInvalid, ManifestFile, "sequence %d: runs are numbered from 1", m.Sequence)
	case m.Sequence == 1 && m.Previous != nil:
		r.add(ChainBroken, ManifestFile, "run 1 has a previous link")
	case m.Sequence > 1 && m.Previous == nil:
		r.add(ChainBroken, ManifestFile, "run %d has no previous link", m.Sequence)
	case m.Previous != nil && m.Previous.Sequence != m.Sequence-1:
		r.add(ChainBroken, ManifestFile, "run %d links to run %d: runs %d..%d are missing from the chain", m.Sequence, m.Previous.Sequence, m.Previous.Sequence+1, m.Sequence-1)
	}
}

func (r *Report) checkPrevious(opts VerifyOptions, m *Manifest) {
	prevDir := opts.PreviousDir
	proot, err := os.OpenRoot(prevDir)
	if err != nil {
		r.add(ChainBroken, "", "previous run %s cannot be opened: %v", prevDir, err)
		return
	}
	defer proot.Close()
	praw, pm, psig, psigText, probs := readSigned(proot)
	if len(probs) > 0 {
		for _, p := range probs {
			r.add(ChainBroken, "", "previous run %s: %s", prevDir, p)
		}
		return
	}
	ppub, err := base64.StdEncoding.DecodeString(pm.PublicKey)
	if err != nil || len(ppub) != ed25519.PublicKeySize || !ed25519.Verify(ppub, praw, psig) {
		r.add(ChainBroken, "", "previous run %s: its own signature does not verify", prevDir)
	}
	if m == nil {
		return
	}
	if pm.KeyID != m.KeyID {
		r.add(ChainBroken, "", "previous run %s was signed by key %s, this run by %s", prevDir, pm.KeyID, m.KeyID)
	}
	psum := sha256.Sum256(praw)
	pdigest := hex.EncodeToString(psum[:])
	switch {
	case m.Previous == nil:
		r.add(ChainBroken, ManifestFile, "no previous link, but %s holds run %d", prevDir, pm.Sequence)
	case m.Sequence > pm.Sequence+1:
		r.add(ChainBroken, ManifestFile, "run %d follows run %d, but %s holds run %d: %d run(s) skipped", m.Sequence, m.Previous.Sequence, prevDir, pm.Sequence, m.Sequence-pm.Sequence-1)
	case m.Sequence != pm.Sequence+1:
		r.add(ChainBroken, ManifestFile, "run %d cannot follow run %d in %s", m.Sequence, pm.Sequence, prevDir)
	case m.Previous.ManifestSHA256 != pdigest:
		r.add(ChainBroken, ManifestFile, "the previous link names manifest sha256 %s, but %s/manifest.json has sha256 %s (previous run edited or replaced)", m.Previous.ManifestSHA256, prevDir, pdigest)
	case m.Previous.Signature != psigText:
		r.add(ChainBroken, ManifestFile, "the previous link names another signature than %s/manifest.sig (previous run re-signed)", prevDir)
	}
}

func (r *Report) checkChainLog(c *ChainLog, m *Manifest, digest, sigText string) {
	for i := 1; i < len(c.Links); i++ {
		if c.Links[i].Sequence != c.Links[i-1].Sequence+1 {
			r.add(ChainBroken, "", "the chain log jumps from run %d to run %d", c.Links[i-1].Sequence, c.Links[i].Sequence)
		}
	}
	if m == nil {
		return
	}
	if c.KeyID != "" && c.KeyID != m.KeyID {
		r.add(ChainBroken, "", "the chain log belongs to key %s, the manifest was signed by %s", c.KeyID, m.KeyID)
		return
	}
	l, ok := c.Find(m.Sequence)
	if !ok {
		last := 0
		if ll := c.Last(); ll != nil {
			last = ll.Sequence
		}
		r.add(ChainBroken, ManifestFile, "run %d is not recorded in the chain log (which ends at run %d)", m.Sequence, last)
	} else if l.ManifestSHA256 != digest || l.Signature != sigText {
		// With a valid signature, this is another run signed with the same
		// sequence number (a replaced run or a fork of the chain).
		if r.SignatureValid {
			r.add(ChainBroken, ManifestFile, "run %d differs from the run %d recorded in the chain log (replaced run or forked chain)", m.Sequence, m.Sequence)
		}
	}
	if m.Previous != nil {
		if pl, ok := c.Find(m.Previous.Sequence); ok && (pl.ManifestSHA256 != m.Previous.ManifestSHA256 || pl.Signature != m.Previous.Signature) {
			r.add(ChainBroken, ManifestFile, "the previous link does not match run %d recorded in the chain log", m.Previous.Sequence)
		}
	}
}
