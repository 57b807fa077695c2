// Package statefile authenticates the reference server's whole-file state
// (the KMS keystore, the OSS-managed master keyring, the saved users) under
// the root key, so that a state file edited, restored from an older copy
// or deleted while the server was stopped (or behind its back while it
// runs) is detected instead of silently believed. It must not interpret
// the files it guards (callers hand it bytes) and must never hold or log
// key material.
//
// Construction. A manifest (one JSON file, mode 0600) records, for every
// guarded file by name, a generation counter and
//
//	tag = HMAC-SHA256(K, "sseaudit/state/v1" || len(name) || name || BE64(generation) || content)
//	K   = rootkey.DeriveKey("statefile/v1") (HKDF-SHA256 of the root key)
//
// and the manifest carries its own tag over its canonical encoding, so
// neither a file nor the manifest can be edited without the root key. A
// file whose content does not match its tag (an edit, or an older copy:
// its tag is that of an older generation) is a *TamperError; a file the
// manifest lists but that is gone is a *MissingError. The generation is
// the rollback counter, kept in the manifest apart from the file it
// protects.
//
// Writes are crash safe: the new tag is first recorded as pending in the
// manifest, then the file is replaced atomically, then the pending tag
// becomes the current one. A crash between the steps leaves a file that
// matches either the current or the pending tag, and both are accepted
// (the pending one is then committed).
//
// What it cannot detect: the manifest and every file it lists rolled back
// together to an earlier consistent state (restoring a whole backup of
// the data directory), since all of it is authentic. Keeping the manifest
// beside a root key file that lives outside the data directory would
// catch that; it is a known limit, written in the threat model.
package statefile

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"

	"github.com/sseaudit/sseaudit/reference/atomicfile"
	"github.com/sseaudit/sseaudit/reference/rootkey"
)

// Format is the manifest's format tag.
const Format = "sseaudit/state-manifest/v1"

const macPurpose = "statefile/v1"

// TamperError reports a guarded file, or the manifest, whose content does
// not authenticate: edited, truncated, or an older copy put back.
type TamperError struct {
	Path   string
	Detail string
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("statefile: %s does not authenticate (%s): it was edited or restored from an older copy while the server did not write it; restore the copy this server wrote last, or start over with a new data directory", e.Path, e.Detail)
}

// MissingError reports a guarded file that the manifest lists but that no
// longer exists: starting with fresh state would orphan every object and
// key that depends on it.
type MissingError struct {
	Path       string
	Generation uint64
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("statefile: %s is missing, but this data directory holds generation %d of it: restore it from a backup (starting with fresh keys would make existing objects unreadable)", e.Path, e.Generation)
}

// UnguardedError reports state files found without a manifest: written by
// a build before this package, or the manifest was deleted. They are only
// accepted when the operator says so (Options.Adopt).
type UnguardedError struct {
	Manifest string
	Files    []string
}

func (e *UnguardedError) Error() string {
	return fmt.Sprintf("statefile: %d state file(s) (%v) exist but %s does not: either they were written by an older sseaudit, or the manifest that authenticates them was deleted; check them and start once with --adopt-state to authenticate them as they are", len(e.Files), e.Files, e.Manifest)
}

type entry struct {
	Generation uint64 `json:"generation"`
	Tag        string `json:"tag"`
	// Pending is the tag of generation+1 while a write is in flight.
	Pending string `json:"pending,omitempty"`
}

type manifest struct {
	Format    string            `json:"format"`
	RootKeyID string            `json:"root_key_id"`
	Files     map[string]*entry `json:"files"`
	Tag       string            `json:"tag"`
}

// Guard authenticates the state files of one data directory. It is safe
// for concurrent use.
type Guard struct {
	mu       sync.Mutex
	path     string
	macKey   []byte
	rootID   string
	m        manifest
	readOnly bool
}

// Options configures Open.
type Options struct {
	// Guarded lists every file the guard will be asked about (name ->
	// path), so that files without a manifest are found at Open.
	Guarded map[string]string
	// Witnesses are files (not guarded themselves, such as the object
	// store's database) whose existence shows the directory is not new:
	// found without a manifest, they are refused as guarded files are.
	Witnesses []string
	// Adopt accepts unauthenticated state files found without a manifest
	// (an upgrade from an older build) and authenticates them as they are.
	Adopt bool
	// ReadOnly never writes: the manifest is not created or updated (a
	// pending write found complete is accepted but not committed) and
	// Write fails. For checking a data directory.
	ReadOnly bool
}

// ErrReadOnly is returned by Write on a read-only guard.
var ErrReadOnly = errors.New("statefile: the guard is read-only")

// Open loads the manifest at path, or starts an empty one when it does
// not exist and none of opts.Guarded exists either.
func Open(path string, root *rootkey.Key, opts Options) (*Guard, error) {
	macKey, err := root.DeriveKey(macPurpose)
	if err != nil {
		return nil, fmt.Errorf("statefile: %w", err)
	}
	g := &Guard{path: path, macKey: macKey, rootID: root.ID(), m: manifest{Format: Format, RootKeyID: root.ID(), Files: map[string]*entry{}}, readOnly: opts.ReadOnly}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		var found []string
		for name, p := range opts.Guarded {
			if _, err := os.Stat(p); err == nil {
				found = append(found, p)
				if opts.Adopt {
					if err := g.adopt(name, p); err != nil {
						return nil, err
					}
				}
			}
		}
		for _, p := range opts.Witnesses {
			if _, err := os.Stat(p); err == nil {
				found = append(found, p)
			}
		}
		sort.Strings(found)
		if len(found) > 0 && !opts.Adopt {
			return nil, &UnguardedError{Manifest: path, Files: found}
		}
		if err := g.save(); err != nil {
			return nil, err
		}
		return g, nil
	case err != nil:
		return nil, fmt.Errorf("statefile: read manifest: %w", err)
	}
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.Format != Format || m.Files == nil {
		return nil, &TamperError{Path: path, Detail: "not a state manifest"}
	}
	if m.RootKeyID != g.rootID {
		return nil, fmt.Errorf("statefile: %s was written under root key %s, not the configured %s: start with the root key this data directory was created with", path, m.RootKeyID, g.rootID)
	}
	want, err := g.manifestTag(&m)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal([]byte(want), []byte(m.Tag)) {
		return nil, &TamperError{Path: path, Detail: "manifest tag mismatch"}
	}
	g.m = m
	return g, nil
}

// adopt authenticates an existing file as generation 1.
func (g *Guard) adopt(name, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("statefile: adopt %s: %w", path, err)
	}
	tag, err := g.tag(name, 1, data)
	if err != nil {
		return err
	}
	g.m.Files[name] = &entry{Generation: 1, Tag: tag}
	return nil
}

// Read returns the content of the guarded file name at path, checked
// against the manifest. A file the manifest does not know and that does
// not exist is fs.ErrNotExist (fresh state); one it does not know but
// that exists is a *TamperError (planted).
func (g *Guard) Read(name, path string) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	data, err := os.ReadFile(path)
	e := g.m.Files[name]
	switch {
	case errors.Is(err, fs.ErrNotExist) && e == nil:
		return nil, err
	case errors.Is(err, fs.ErrNotExist):
		return nil, &MissingError{Path: path, Generation: e.Generation}
	case err != nil:
		return nil, fmt.Errorf("statefile: read %s: %w", path, err)
	case e == nil:
		return nil, &TamperError{Path: path, Detail: "the manifest does not list this file"}
	}
	if err := g.checkLocked(name, path, e, data); err != nil {
		return nil, err
	}
	return data, nil
}

// checkLocked verifies data against e, committing a pending write that
// reached the disk before a crash.
func (g *Guard) checkLocked(name, path string, e *entry, data []byte) error {
	tag, err := g.tag(name, e.Generation, data)
	if err != nil {
		return err
	}
	if hmac.Equal([]byte(tag), []byte(e.Tag)) {
		return nil
	}
	if e.Pending != "" {
		next, err := g.tag(name, e.Generation+1, data)
		if err != nil {
			return err
		}
		if hmac.Equal([]byte(next), []byte(e.Pending)) {
			e.Generation, e.Tag, e.Pending = e.Generation+1, e.Pending, ""
			return g.save()
		}
	}
	return &TamperError{Path: path, Detail: fmt.Sprintf("content is not generation %d", e.Generation)}
}

// Write replaces the guarded file name at path with data (mode 0600),
// first checking that the file on disk is still the one this guard wrote
// last: an edit made behind the running server is reported, not
// overwritten.
func (g *Guard) Write(name, path string, data []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.readOnly {
		return fmt.Errorf("%w: not writing %s", ErrReadOnly, path)
	}
	e := g.m.Files[name]
	if e == nil {
		if _, err := os.Stat(path); err == nil {
			return &TamperError{Path: path, Detail: "the manifest does not list this file"}
		}
		e = &entry{}
		g.m.Files[name] = e
	} else {
		cur, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return &MissingError{Path: path, Generation: e.Generation}
		}
		if err != nil {
			return fmt.Errorf("statefile: read %s: %w", path, err)
		}
		if err := g.checkLocked(name, path, e, cur); err != nil {
			return err
		}
	}
	next, err := g.tag(name, e.Generation+1, data)
	if err != nil {
		return err
	}
	e.Pending = next
	if err := g.save(); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	e.Generation, e.Tag, e.Pending = e.Generation+1, next, ""
	return g.save()
}

// Generation returns the generation of name (0 when never written).
func (g *Guard) Generation(name string) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e := g.m.Files[name]; e != nil {
		return e.Generation
	}
	return 0
}

func (g *Guard) tag(name string, gen uint64, data []byte) (string, error) {
	h := hmac.New(sha256.New, g.macKey)
	h.Write([]byte("sseaudit/state/v1"))
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(name))))
	h.Write([]byte(name))
	h.Write(binary.BigEndian.AppendUint64(nil, gen))
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// manifestTag is the tag over m's canonical encoding (m.Tag empty; map
// keys sorted by encoding/json).
func (g *Guard) manifestTag(m *manifest) (string, error) {
	c := *m
	c.Tag = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("statefile: encode manifest: %w", err)
	}
	return g.tag("manifest", 0, b)
}

func (g *Guard) save() error {
	if g.readOnly {
		return nil
	}
	tag, err := g.manifestTag(&g.m)
	if err != nil {
		return err
	}
	g.m.Tag = tag
	b, err := json.MarshalIndent(&g.m, "", "  ")
	if err != nil {
		return fmt.Errorf("statefile: encode manifest: %w", err)
	}
	if err := atomicfile.WriteFile(g.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("statefile: write manifest: %w", err)
	}
	return nil
}

// Files reads and writes whole state files by name; *Guard authenticates
// them, Plain does not (for state kept outside any data directory, such
// as a test's).
type Files interface {
	// Read returns the file's content; fs.ErrNotExist (wrapped or not)
	// when it has never been written.
	Read(name, path string) ([]byte, error)
	// Write replaces the file atomically with mode 0600.
	Write(name, path string, data []byte) error
}

// Plain is Files without authentication.
type Plain struct{}

// Read reads path.
func (Plain) Read(_, path string) ([]byte, error) { return os.ReadFile(path) }

// Write replaces path atomically.
func (Plain) Write(_, path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o600)
}
