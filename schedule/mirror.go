package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The runs database is locked for as long as the daemon runs, so that a
// second daemon cannot share it. So that `sseaudit history` still works
// then, the store mirrors every run record into a directory of JSON files
// (one per run, written atomically, mode 0600 like the database), which
// readers open without any lock. The database stays the source of truth:
// the mirror is rebuilt from it when the store opens.

// MirrorPath is the mirror directory of the runs database at dbPath.
func MirrorPath(dbPath string) string { return dbPath + ".d" }

func mirrorName(job string, seq uint64) string {
	return fmt.Sprintf("%s.%012d.json", url.PathEscape(job), seq)
}

// mirrorFileName is the file of run id (JOB-SEQ; JOB may hold '/' or '-').
func mirrorFileName(id string) (string, error) {
	i := strings.LastIndexByte(id, '-')
	var seq uint64
	if i <= 0 {
		return "", fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if _, err := fmt.Sscanf(id[i+1:], "%d", &seq); err != nil {
		return "", fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return mirrorName(id[:i], seq), nil
}

func (s *Store) mirrorFile(id string) (string, error) {
	n, err := mirrorFileName(id)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.mirror, n), nil
}

// writeMirror writes r's file: a temporary file, synced, then renamed, so
// a reader sees the old record or the new one, never half of one.
func (s *Store) writeMirror(r *Run) error {
	if s.mirror == "" {
		return nil
	}
	p, err := s.mirrorFile(r.ID)
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.mirror, ".tmp-*")
	if err != nil {
		return fmt.Errorf("schedule: mirror run %s: %w", r.ID, err)
	}
	_, werr := tmp.Write(b)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("schedule: mirror run %s: %w", r.ID, werr)
	}
	return nil
}

func (s *Store) removeMirror(id string) error {
	if s.mirror == "" {
		return nil
	}
	p, err := s.mirrorFile(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("schedule: mirror: %w", err)
	}
	return nil
}

// syncMirror makes the mirror hold exactly the database's runs.
func (s *Store) syncMirror() error {
	if err := os.MkdirAll(s.mirror, 0o700); err != nil {
		return fmt.Errorf("schedule: mirror: %w", err)
	}
	rs, err := s.List("")
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, r := range rs {
		p, err := s.mirrorFile(r.ID)
		if err != nil {
			return err
		}
		keep[filepath.Base(p)] = true
		if err := s.writeMirror(r); err != nil {
			return err
		}
	}
	ents, err := os.ReadDir(s.mirror)
	if err != nil {
		return fmt.Errorf("schedule: mirror: %w", err)
	}
	for _, e := range ents {
		if !keep[e.Name()] {
			os.Remove(filepath.Join(s.mirror, e.Name()))
		}
	}
	return nil
}

// Mirror reads the run records a running daemon mirrors, without taking
// the database lock.
type Mirror struct{ dir string }

// OpenMirror opens the mirror of the runs database at dbPath.
func OpenMirror(dbPath string) (*Mirror, error) {
	dir := MirrorPath(dbPath)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("schedule: no run mirror at %s (the daemon writes it from its first start with this version)", dir)
	}
	return &Mirror{dir: dir}, nil
}

// List returns the runs of job ("" = every job), oldest first per job,
// as Store.List does.
func (m *Mirror) List(job string) ([]*Run, error) {
	ents, err := os.ReadDir(m.dir)
	if err != nil {
		return nil, fmt.Errorf("schedule: mirror: %w", err)
	}
	prefix := ""
	if job != "" {
		prefix = url.PathEscape(job) + "."
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasSuffix(n, ".json") && !strings.HasPrefix(n, ".") && strings.HasPrefix(n, prefix) {
			// "a.b" job names: the prefix must be followed by the sequence alone.
			if job != "" && strings.Count(strings.TrimPrefix(n, prefix), ".") != 1 {
				continue
			}
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []*Run
	for _, n := range names {
		r, err := m.read(filepath.Join(m.dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned while we listed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Get reads one run.
func (m *Mirror) Get(id string) (*Run, error) {
	n, err := mirrorFileName(id)
	if err != nil {
		return nil, err
	}
	r, err := m.read(filepath.Join(m.dir, n))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return r, err
}

func (m *Mirror) read(p string) (*Run, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	r := new(Run)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("schedule: mirror %s: %w", filepath.Base(p), err)
	}
	return r, nil
}
