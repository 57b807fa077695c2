// Package history keeps the local record of scans so later scans can be
// compared with earlier ones: an embedded bbolt database (one file, mode
// 0600, locked against a second process) plus a directory beside it that
// holds a zstd-compressed copy of every recorded snapshot.
//
// # What it holds
//
//   - scans: one ScanRecord per scan (id, target key, times, completeness,
//     the copied snapshot's path and digest, summary counts, policy
//     digest), indexed by target and start time for Previous and Scans;
//   - finding sightings: when each finding id was first and last seen
//     (RecordFindings, FirstSeen), so reports can age findings;
//   - bucket rule history: per target and bucket, the current default rule
//     and when it was first observed (RuleFirstSeen), updated by
//     RecordScan from every bucket whose rule was read;
//   - remediation rewrites (RecordRewrites, Rewrites): objects that
//     'sseaudit remediate apply' copied onto themselves on purpose, before
//     and after, so the drift rule can tell them from storage drift.
//
// Snapshot copies are <scan id>.json.zst: the snapshot compressed with
// zstd as it streams through (about a tenth of its size; memory bounded by
// the compression window, never by the snapshot), written to a temporary
// file, synced and renamed into place, mode 0600. Package snapshot reads
// them as it reads plain files, so ScanRecord.SnapshotPath goes straight
// to snapshot.ReadSummary, EachBucket or Diff, and a damaged copy is an
// error there, never a shorter snapshot. Databases of earlier versions
// hold plain <scan id>.json copies: they are read alike and pruned alike.
// Copies are not stored as deltas against the previous scan
// (BenchmarkHistoryDelta): with the previous snapshot as zstd's dictionary
// a scan of 100,000 synthetic objects takes 23.2 bytes an object within a
// 1 MiB window, no better than 23.0 without, and 0.15 only when the window
// spans the whole previous snapshot, which then has to be held in memory
// to write and to read (gigabytes at ten million objects); and a chain of
// deltas would let one damaged copy spoil every later scan's.
//
// Layout (bbolt buckets; values are JSON):
//
//	meta          "format" -> "sseaudit.history/v1"
//	scans         scan id -> ScanRecord
//	scans_by_tgt  target key 0x00 BE64(started_at unix ns) 0x00 scan id -> ""
//	findings      finding id -> sighting
//	rules         target key 0x00 bucket -> rule state
//	rewrites      target key 0x00 bucket 0x00 key 0x00 BE64(at) 0x00 version before -> Rewrite
//
// # What it must not do
//
// It never talks to an endpoint, never judges snapshots (it stores what it
// is given, after checking that a snapshot parses), never holds a secret,
// and never keeps the database open in two processes: a second Open fails
// with ErrInUse after the lock timeout instead of waiting forever.
package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sseaudit/sseaudit/snapshot"
)

// Format identifies the database layout.
const Format = "sseaudit.history/v1"

var (
	bktMeta     = []byte("meta")
	bktScans    = []byte("scans")
	bktByTarget = []byte("scans_by_tgt")
	bktFindings = []byte("findings")
	bktRules    = []byte("rules")
)

// ErrInUse is wrapped by Open's error when another process holds the
// database.
var ErrInUse = errors.New("history: database is in use by another sseaudit process")

// ErrExists is wrapped by RecordScan's error for a scan id already recorded.
var ErrExists = errors.New("history: scan already recorded")

// DefaultLockTimeout is how long Open waits for the file lock.
const DefaultLockTimeout = 2 * time.Second

// ScanRecord is one recorded scan.
type ScanRecord struct {
	ScanID     string    `json:"scan_id"`
	TargetKey  string    `json:"target_key"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Complete   bool      `json:"complete"`
	// SnapshotPath is the copy in the history directory (zstd-compressed;
	// plain in databases of earlier versions): read it with package
	// snapshot, which reads both. SnapshotDigest is the hex SHA-256 of
	// the snapshot document it holds, uncompressed: snapshot.Digest of
	// the file that was recorded.
	SnapshotPath     string    `json:"snapshot_path"`
	SnapshotDigest   string    `json:"snapshot_digest"`
	PolicyDigest     string    `json:"policy_digest,omitempty"`
	Buckets          int       `json:"buckets"`
	BucketsRead      int       `json:"buckets_read"`
	ObjectsListed    int64     `json:"objects_listed"`
	ObjectsInspected int64     `json:"objects_inspected"`
	KeysReferenced   int       `json:"keys_referenced"`
	Errors           int64     `json:"errors"`
	RecordedAt       time.Time `json:"recorded_at"`
	// Outcome is what the policies found in this scan; nil for scans
	// recorded before it was kept, or never evaluated.
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Outcome counts a scan's open (not suppressed) findings, for trends.
type Outcome struct {
	Open       int            `json:"open"`
	BySeverity map[string]int `json:"by_severity"`
	Suppressed int            `json:"suppressed"`
}

// TargetKey identifies a target across scans: dialect "+" endpoint, e.g.
// "oss+http://127.0.0.1:9000". The embedded reference listens on a new
// port each run, so it is one target per dialect ("reference+oss")
// whatever the port.
func TargetKey(t snapshot.Target) string {
	if t.Kind == "reference" {
		return "reference+" + t.Dialect
	}
	return t.Dialect + "+" + t.Endpoint
}

// DB is an open history database. Its methods are safe for concurrent
// use within the process.
type DB struct {
	path string
	dir  string // snapshot copies
	db   *bolt.DB
	now  func() time.Time
	// files is held by RecordScan from writing a copy until its record
	// is committed, and by Prune while it looks for copies no record
	// names, so Prune never takes a copy being recorded for an orphan.
	files sync.Mutex
}

// Option adjusts Open.
type Option func(*options)

type options struct {
	lockTimeout time.Duration
	now         func() time.Time
}

// WithLockTimeout sets how long Open waits for another process to release
// the database (default DefaultLockTimeout).
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithClock sets the clock for RecordedAt and Prune's ages (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// SnapshotDir is the directory beside the database file at path that
// holds the snapshot copies: path without its extension, plus
// ".snapshots" (history.db -> history.snapshots).
func SnapshotDir(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".snapshots"
}

// Open opens or creates the database at path (mode 0600, its directory
// and the snapshot directory 0700).
func Open(path string, opts ...Option) (*DB, error) {
	o := options{lockTimeout: DefaultLockTimeout, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	if o.lockTimeout <= 0 {
		o.lockTimeout = DefaultLockTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: create directory for %s: %w", path, err)
	}
	dir := SnapshotDir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("history: create snapshot directory: %w", err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s (waited %v; stop the other process or use another history file)", ErrInUse, path, o.lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("history: %w", err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bktMeta, bktScans, bktByTarget, bktFindings, bktRules} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bktMeta)
		switch f := meta.Get([]byte("format")); {
		case f == nil:
			return meta.Put([]byte("format"), []byte(Format))
		case string(f) != Format:
			return fmt.Errorf("history: %s has format %q; this build reads %q", path, f, Format)
		}
		return nil
	})
	if err != nil {
		bdb.Close()
		return nil, fmt.Errorf("history: initialise %s: %w", path, err)
	}
	return &DB{path: path, dir: dir, db: bdb, now: o.now}, nil
}

// Close releases the database.
func (d *DB) Close() error {
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("history: close %s: %w", d.path, err)
	}
	return nil
}

// Dir is the directory holding the snapshot copies.
func (d *DB) Dir() string { return d.dir }

var scanIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func be64(t time.Time) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UnixNano()))
	return b[:]
}

func targetIndexKey(targetKey string, t time.Time, scanID string) []byte {
	k := make([]byte, 0, len(targetKey)+len(scanID)+10)
	k = append(k, targetKey...)
	k = append(k, 0)
	k = append(k, be64(t)...)
	k = append(k, 0)
	return append(k, scanID...)
}

// ruleState is a bucket's current rule and when it was first and last seen.
type ruleState struct {
	Rule      snapshot.Rule `json:"rule"`
	FirstSeen time.Time     `json:"first_seen"`
	FirstScan string        `json:"first_scan"`
	LastSeen  time.Time     `json:"last_seen"`
	LastScan  string        `json:"last_scan"`
}

// ruleOf is the comparable state of a bucket's rule: the rule without its
// raw evidence, or Method none when no rule is set.
func ruleOf(b snapshot.Bucket) snapshot.Rule {
	if b.Encryption == nil {
		return snapshot.Rule{Method: snapshot.MethodNone}
	}
	r := *b.Encryption
	r.Raw = ""
	return r
}

// RecordScan validates the snapshot at snapshotPath (plain or
// zstd-compressed), stores a compressed copy in the history directory (as
// <scan id>.json.zst, mode 0600) and records the scan and its buckets'
// rules. policyDigest, when not empty, overrides the
// snapshot's provenance (policies are often evaluated after the scan).
// Recording the same scan id twice fails with ErrExists.
func (d *DB) RecordScan(ctx context.Context, snapshotPath, policyDigest string) (ScanRecord, error) {
	sum, err := snapshot.ReadSummary(snapshotPath)
	if err != nil {
		return ScanRecord{}, fmt.Errorf("history: record scan: %w", err)
	}
	p := sum.Provenance
	if !scanIDRE.MatchString(p.ScanID) {
		return ScanRecord{}, fmt.Errorf("history: record scan: scan id %q is not usable as a file name", p.ScanID)
	}
	if policyDigest == "" {
		policyDigest = p.PolicyDigest
	}
	rec := ScanRecord{
		ScanID: p.ScanID, TargetKey: TargetKey(p.Target), StartedAt: p.StartedAt.UTC(), FinishedAt: sum.FinishedAt.UTC(),
		Complete: sum.Complete, PolicyDigest: policyDigest,
		Buckets: sum.Coverage.Buckets, BucketsRead: sum.Coverage.BucketsRead,
		ObjectsListed: sum.Coverage.ObjectsListed, ObjectsInspected: sum.Coverage.ObjectsInspected,
		KeysReferenced: sum.Coverage.KeysReferenced, Errors: int64(len(sum.Coverage.Errors)) + sum.Coverage.ErrorsOmitted,
		RecordedAt: d.now().UTC(),
	}
	// Checked under the lock: a second recording of the same id must not
	// overwrite the first's copy.
	d.files.Lock()
	defer d.files.Unlock()
	if _, found, err := d.Get(p.ScanID); err != nil {
		return ScanRecord{}, err
	} else if found {
		return ScanRecord{}, fmt.Errorf("%w: %s", ErrExists, p.ScanID)
	}
	dst := filepath.Join(d.dir, p.ScanID+copySuffix)
	digest, err := compressCopy(ctx, snapshotPath, dst)
	if err != nil {
		return ScanRecord{}, err
	}
	rec.SnapshotPath, rec.SnapshotDigest = dst, digest
	err = d.db.Update(func(tx *bolt.Tx) error {
		scans := tx.Bucket(bktScans)
		if scans.Get([]byte(rec.ScanID)) != nil {
			return fmt.Errorf("%w: %s", ErrExists, rec.ScanID)
		}
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := scans.Put([]byte(rec.ScanID), v); err != nil {
			return err
		}
		if err := tx.Bucket(bktByTarget).Put(targetIndexKey(rec.TargetKey, rec.StartedAt, rec.ScanID), nil); err != nil {
			return err
		}
		return updateRules(tx, rec, sum.Buckets)
	})
	if err != nil {
		if !errors.Is(err, ErrExists) {
			os.Remove(dst)
		}
		return ScanRecord{}, fmt.Errorf("history: record scan %s: %w", rec.ScanID, err)
	}
	return rec, nil
}

// updateRules moves each read bucket's rule state forward. Observations
// are ordered by time: an older scan recorded late can only move the
// first sighting of the same rule earlier.
func updateRules(tx *bolt.Tx, rec ScanRecord, buckets []snapshot.Bucket) error {
	rb := tx.Bucket(bktRules)
	for _, b := range buckets {
		if b.EncryptionError != nil {
			continue // unknown: no observation
		}
		at := b.ReadAt.UTC()
		if at.IsZero() {
			at = rec.StartedAt
		}
		k := []byte(rec.TargetKey + "\x00" + b.Name)
		rule := ruleOf(b)
		var st ruleState
		if v := rb.Get(k); v != nil {
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("rule history of %s: %w", b.Name, err)
			}
			switch {
			case st.Rule == rule:
				if at.Before(st.FirstSeen) {
					st.FirstSeen, st.FirstScan = at, rec.ScanID
				}
				if at.After(st.LastSeen) {
					st.LastSeen, st.LastScan = at, rec.ScanID
				}
			case at.After(st.LastSeen):
				st = ruleState{Rule: rule, FirstSeen: at, FirstScan: rec.ScanID, LastSeen: at, LastScan: rec.ScanID}
			default:
				continue // an older observation of an earlier rule
			}
		} else {
			st = ruleState{Rule: rule, FirstSeen: at, FirstScan: rec.ScanID, LastSeen: at, LastScan: rec.ScanID}
		}
		v, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if err := rb.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

// copySuffix names a compressed copy: <scan id>.json.zst. Earlier
// versions wrote plain <scan id>.json copies (plainSuffix).
const (
	copySuffix  = ".json.zst"
	plainSuffix = ".json"
	tempPrefix  = ".copy-"
)

// Compression of the copies, chosen by measurement on synthetic snapshots
// of 100,000 objects (254 bytes each, plain): klauspost's fastest level
// gives 23-23.6 bytes an object at about 360 MB/s on one core, as small
// as its default and better levels (24-25.6) and two to three times as
// fast; the best level gains 7% at eight times the CPU. These snapshots
// repeat within an object or two, so a 1 MiB window compresses them as
// well as 8 MiB and keeps the encoder to about 4 MB and the reader's
// window small. One encoder goroutine (concurrency 1) keeps a recording to
// one core.
func newCopyEncoder(w io.Writer) (*zstd.Encoder, error) {
	return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(1<<20), zstd.WithEncoderConcurrency(1))
}

// compressCopy streams the snapshot document at src (decompressed first
// if src is itself compressed) through zstd into dst, via a temporary
// file in dst's directory that is synced and renamed into place (mode
// 0600; the directory is synced too), and returns the hex SHA-256 of the
// document. Memory is bounded by the copy buffer and the encoder.
func compressCopy(ctx context.Context, src, dst string) (string, error) {
	in, err := snapshot.Open(src)
	if err != nil {
		return "", fmt.Errorf("history: copy snapshot: %w", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), tempPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("history: copy snapshot: %w", err)
	}
	tmp := out.Name()
	defer os.Remove(tmp) // after the rename: nothing left to remove
	fail := func(err error) (string, error) {
		out.Close()
		return "", fmt.Errorf("history: copy snapshot %s to %s: %w", src, dst, err)
	}
	if err := out.Chmod(0o600); err != nil {
		return fail(err)
	}
	zw, err := newCopyEncoder(out)
	if err != nil {
		return fail(err)
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			zw.Close()
			return fail(err)
		}
		n, rerr := in.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			if _, err := zw.Write(buf[:n]); err != nil {
				zw.Close()
				return fail(err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			zw.Close()
			return fail(rerr)
		}
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := out.Sync(); err != nil {
		return fail(fmt.Errorf("sync: %w", err))
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("history: close snapshot copy: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("history: store snapshot copy: %w", err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return "", fmt.Errorf("history: store snapshot copy: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// Get returns the scan recorded as scanID.
func (d *DB) Get(scanID string) (ScanRecord, bool, error) {
	var rec ScanRecord
	var found bool
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktScans).Get([]byte(scanID))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return ScanRecord{}, false, fmt.Errorf("history: get scan %s: %w", scanID, err)
	}
	return rec, found, nil
}

// RecordOutcome attaches the policy outcome to a recorded scan; recording
// it again replaces it (a re-evaluation with other policies).
func (d *DB) RecordOutcome(scanID string, o Outcome) error {
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktScans)
		v := b.Get([]byte(scanID))
		if v == nil {
			return fmt.Errorf("scan %s is not recorded", scanID)
		}
		var rec ScanRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		rec.Outcome = &o
		nv, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(scanID), nv)
	})
	if err != nil {
		return fmt.Errorf("history: record outcome of scan %s: %w", scanID, err)
	}
	return nil
}

// Previous returns the most recent scan of targetKey that started strictly
// before before, complete or not (callers that compare drift should check
// Complete).
func (d *DB) Previous(targetKey string, before time.Time) (ScanRecord, bool, error) {
	var rec ScanRecord
	var found bool
	prefix := append([]byte(targetKey), 0)
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktByTarget).Cursor()
		seek := append(append([]byte{}, prefix...), be64(before.UTC())...)
		k, _ := c.Seek(seek)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			id := k[len(prefix)+9:]
			v := tx.Bucket(bktScans).Get(id)
			if v == nil {
				return fmt.Errorf("index names scan %q, which is not recorded", id)
			}
			var r ScanRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.StartedAt.Before(before) {
				rec, found = r, true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return ScanRecord{}, false, fmt.Errorf("history: previous scan of %s: %w", targetKey, err)
	}
	return rec, found, nil
}

// Scans returns every recorded scan of targetKey, oldest first.
func (d *DB) Scans(targetKey string) ([]ScanRecord, error) {
	var out []ScanRecord
	prefix := append([]byte(targetKey), 0)
	err := d.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktByTarget).Cursor()
		scans := tx.Bucket(bktScans)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			v := scans.Get(k[len(prefix)+9:])
			if v == nil {
				continue
			}
			var r ScanRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history: scans of %s: %w", targetKey, err)
	}
	return out, nil
}

// sighting is when a finding was first and last seen.
type sighting struct {
	FirstSeen time.Time `json:"first_seen"`
	FirstScan string    `json:"first_scan"`
	LastSeen  time.Time `json:"last_seen"`
	LastScan  string    `json:"last_scan"`
}

// RecordFindings records that the findings ids were seen by scan scanID at
// at. A finding's first sighting is the earliest at ever recorded for it.
func (d *DB) RecordFindings(scanID string, at time.Time, ids []string) error {
	at = at.UTC()
	err := d.db.Update(func(tx *bolt.Tx) error {
		fb := tx.Bucket(bktFindings)
		for _, id := range ids {
			if id == "" {
				return errors.New("empty finding id")
			}
			st := sighting{FirstSeen: at, FirstScan: scanID, LastSeen: at, LastScan: scanID}
			if v := fb.Get([]byte(id)); v != nil {
				var old sighting
				if err := json.Unmarshal(v, &old); err != nil {
					return fmt.Errorf("finding %s: %w", id, err)
				}
				st = old
				if at.Before(st.FirstSeen) {
					st.FirstSeen, st.FirstScan = at, scanID
				}
				if at.After(st.LastSeen) {
					st.LastSeen, st.LastScan = at, scanID
				}
			}
			v, err := json.Marshal(st)
			if err != nil {
				return err
			}
			if err := fb.Put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history: record findings of scan %s: %w", scanID, err)
	}
	return nil
}

// FirstSeen returns when each of ids was first seen; ids never recorded
// are absent from the map.
func (d *DB) FirstSeen(ids []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(ids))
	err := d.db.View(func(tx *bolt.Tx) error {
		fb := tx.Bucket(bktFindings)
		for _, id := range ids {
			v := fb.Get([]byte(id))
			if v == nil {
				continue
			}
			var st sighting
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("finding %s: %w", id, err)
			}
			out[id] = st.FirstSeen
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history: first seen: %w", err)
	}
	return out, nil
}

// RuleFirstSeen returns when the bucket's current default rule (the one
// last observed) was first observed, and that rule (Method none when no
// rule was set; Raw is not kept). ok is false when no scan of targetKey
// ever read the bucket's rule.
func (d *DB) RuleFirstSeen(targetKey, bucket string) (time.Time, snapshot.Rule, bool, error) {
	var st ruleState
	var found bool
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktRules).Get([]byte(targetKey + "\x00" + bucket))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return time.Time{}, snapshot.Rule{}, false, fmt.Errorf("history: rule history of %s: %w", bucket, err)
	}
	return st.FirstSeen, st.Rule, found, nil
}

// Prune applies retention and returns the number of scans removed (with
// their snapshot copies, compressed or plain). It also removes what a
// crash can leave in the history directory: temporary files of an
// unfinished copy, and copies no record names. Per target, the newest keepN scans are always
// kept (keepN <= 0: no such guarantee); of the others, those started more
// than maxAge ago are removed, or all of them when maxAge <= 0. With
// keepN <= 0 and maxAge <= 0 nothing is removed. With maxAge > 0, finding
// sightings last seen more than maxAge ago are forgotten too. Bucket rule
// history is kept: it is one entry per bucket.
func (d *DB) Prune(keepN int, maxAge time.Duration) (int, error) {
	if keepN <= 0 && maxAge <= 0 {
		return 0, nil
	}
	cutoff := d.now().UTC().Add(-maxAge)
	var files []string
	removed := 0
	kept := map[string]bool{} // file names of the copies still recorded
	d.files.Lock()
	defer d.files.Unlock()
	err := d.db.Update(func(tx *bolt.Tx) error {
		scans, idx := tx.Bucket(bktScans), tx.Bucket(bktByTarget)
		byTarget := map[string][]ScanRecord{}
		if err := scans.ForEach(func(_, v []byte) error {
			var r ScanRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			byTarget[r.TargetKey] = append(byTarget[r.TargetKey], r)
			return nil
		}); err != nil {
			return err
		}
		for _, recs := range byTarget {
			sort.Slice(recs, func(i, j int) bool { return recs[i].StartedAt.After(recs[j].StartedAt) })
			for i, r := range recs {
				if (keepN > 0 && i < keepN) || (maxAge > 0 && !r.StartedAt.Before(cutoff)) {
					kept[filepath.Base(r.SnapshotPath)] = true
					continue
				}
				if err := scans.Delete([]byte(r.ScanID)); err != nil {
					return err
				}
				if err := idx.Delete(targetIndexKey(r.TargetKey, r.StartedAt, r.ScanID)); err != nil {
					return err
				}
				files = append(files, r.SnapshotPath)
				removed++
			}
		}
		if maxAge > 0 {
			fb := tx.Bucket(bktFindings)
			var stale [][]byte
			if err := fb.ForEach(func(k, v []byte) error {
				var st sighting
				if err := json.Unmarshal(v, &st); err != nil {
					return err
				}
				if st.LastSeen.Before(cutoff) {
					stale = append(stale, append([]byte(nil), k...))
				}
				return nil
			}); err != nil {
				return err
			}
			for _, k := range stale {
				if err := fb.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	var errs []error
	for _, f := range files {
		if f == "" || filepath.Dir(f) != d.dir {
			continue // never delete outside the history directory
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, d.removeStray(kept)...)
	if len(errs) > 0 {
		return removed, fmt.Errorf("history: prune: remove snapshot copies: %w", errors.Join(errs...))
	}
	return removed, nil
}

// removeStray removes from the history directory the temporary files of
// copies that were never finished and the copies no record names (kept
// holds the names of those recorded), left by a crash between writing a
// copy and committing its record. The caller holds d.files, so no copy is
// being recorded. Only names history writes are considered.
func (d *DB) removeStray(kept map[string]bool) []error {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		id, isCopy := strings.CutSuffix(name, copySuffix)
		if !isCopy {
			id, isCopy = strings.CutSuffix(name, plainSuffix)
		}
		stray := strings.HasPrefix(name, tempPrefix) || (isCopy && scanIDRE.MatchString(id) && !kept[name])
		if !stray || !e.Type().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(d.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errs
}
