package objstore

import (
	"context"
	"errors"
	"fmt"
	"github.com/sseaudit/sseaudit/reference/faults"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/rootkey"
)

// Layout of Config.Dir.
const (
	MetaFile = "meta.db" // bbolt metadata database, mode 0600
	DataDir  = "data"    // object and part data files, one per stream
	TmpDir   = "tmp"     // files being written; emptied on Open
)

// Limits.
const (
	// MaxPutSize is the largest object PutObject and CopyObject write, and
	// the largest part UploadPart takes (5 GiB, as OSS and S3).
	MaxPutSize int64 = 5 << 30
	// MaxPartNumber is the highest part number of a multipart upload.
	MaxPartNumber = 10000
	// MaxListKeys caps MaxKeys, MaxUploads and maxParts.
	MaxListKeys = 1000
	// MaxKeyLen is the longest object key in bytes.
	MaxKeyLen = 1023
)

// StorageClassStandard is the class of buckets and of objects written
// without one.
const StorageClassStandard = "Standard"

// StorageClasses are the object storage classes a write may name: OSS's
// (Standard, IA, Archive, ColdArchive, DeepColdArchive) and S3's
// (STANDARD, which is stored as Standard, and the rest). The store keeps
// the name as written; each front end maps the other dialect's names to
// its nearest class when it reports one. Every class is stored and served
// the same way: see the package comment.
var StorageClasses = []string{
	StorageClassStandard, "IA", "Archive", "ColdArchive", "DeepColdArchive",
	"REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
	"DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "EXPRESS_ONEZONE", "SNOW",
}

// normalizeStorageClass returns the stored form of a requested class ("",
// STANDARD and Standard are StorageClassStandard) and false for one not in
// StorageClasses.
func normalizeStorageClass(sc string) (string, bool) {
	if sc == "" || sc == "STANDARD" {
		return StorageClassStandard, true
	}
	for _, c := range StorageClasses {
		if c == sc {
			return sc, true
		}
	}
	return "", false
}

// Config configures Open.
type Config struct {
	Dir        string             // data dir for this store (metadata db + object files)
	Region     string             // e.g. "cn-hangzhou"; required
	Envelope   *envelope.Envelope // encryption; required
	Authorizer Authorizer         // nil = allow all
	Clock      clock.Clock        // default clock.System{}
	// DefaultSSE, when non-nil, is the rule every new bucket starts with and
	// the rule DeleteBucketEncryption resets to (AWS behaviour since 2023:
	// SSE-S3 by default). nil = new buckets have no default encryption.
	DefaultSSE *EncryptionRule
	Logger     *slog.Logger // default: discard
	// Faults are deliberate defects for proving the conformance suite can
	// fail (see package faults). Never set outside such tests.
	Faults faults.Set
	// MaxUploadsPerPrincipal caps the writes one principal may have
	// streaming into temp files at once (0 = no cap); more are refused
	// with KindSlowDown.
	MaxUploadsPerPrincipal int
	// RootKey authenticates the object and version records (integrity.go:
	// an HMAC key derived from it); required.
	RootKey *rootkey.Key
	// AdoptUnauthenticated lets Open authenticate, as found, the records
	// of a database written before record authentication (formats v1 to
	// v3); without it Open refuses such a database with
	// ErrUnauthenticatedDatabase. Set it once, for the first start after
	// an upgrade: edits made to the database before then are not
	// detectable.
	AdoptUnauthenticated bool
	// ReadOnly opens the store for Check only: the database is opened
	// read-only (shared with no writer), nothing is created, migrated or
	// collected, and only reads may be called. For sseaudit fsck.
	ReadOnly bool
}

// DiskStore is the reference Store: bbolt metadata plus one data file per
// object or part. It is safe for concurrent use.
type DiskStore struct {
	dir, dataDir, tmpDir string
	region               string
	env                  *envelope.Envelope
	authz                Authorizer
	clock                clock.Clock
	defaultSSE           *EncryptionRule
	log                  *slog.Logger
	faults               faults.Set
	uploads              *uploadSlots
	mac                  *recordMAC

	db     *bolt.DB
	dataFD *os.File // data/, held open for fsync after every rename
	// dataSync coalesces concurrent writers' fsyncs of data/, commits
	// groups their object and part commits (groupcommit.go).
	dataSync *dirSyncer
	commits  *committer
	closeMu  sync.Mutex
	closed   bool

	// rmMu orders the removal of replaced data files after the metadata
	// commit against readers opening data files named by a snapshot they
	// read: OpenObject holds it shared from its metadata read until its
	// files are open, removal takes it exclusively once (a barrier, then
	// unlinks outside it). So a reader never finds the file of the object
	// it looked up already gone.
	rmMu sync.RWMutex

	// seqMu guards reserved: per bucket, the highest version sequence
	// handed out (reserveVersion, nextSeqTx).
	seqMu    sync.Mutex
	reserved map[string]uint64

	// policies caches every bucket policy (policystore.go), guarded by
	// policyMu; policyWMu orders the writers of policies.
	policyMu  sync.RWMutex
	policyWMu sync.Mutex
	policies  map[string]*policyEntry
}

var _ Store = (*DiskStore)(nil)

// Open opens (creating when missing) the store in cfg.Dir, and collects
// the garbage a crash may have left: temp files, and data files that no
// metadata record references.
func Open(ctx context.Context, cfg Config) (*DiskStore, error) {
	if cfg.Dir == "" {
		return nil, errors.New("objstore: Config.Dir is required")
	}
	if cfg.Region == "" {
		return nil, errors.New("objstore: Config.Region is required")
	}
	if cfg.Envelope == nil {
		return nil, errors.New("objstore: Config.Envelope is required")
	}
	if cfg.RootKey == nil {
		return nil, errors.New("objstore: Config.RootKey is required (it authenticates the metadata records)")
	}
	mac, err := newRecordMAC(cfg.RootKey)
	if err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	if err := validateRule("", cfg.DefaultSSE, nil); err != nil {
		return nil, fmt.Errorf("objstore: Config.DefaultSSE: %w", err)
	}
	s := &DiskStore{
		dir: cfg.Dir, dataDir: filepath.Join(cfg.Dir, DataDir), tmpDir: filepath.Join(cfg.Dir, TmpDir),
		region: cfg.Region, env: cfg.Envelope, authz: cfg.Authorizer, clock: cfg.Clock, log: cfg.Logger,
		faults: cfg.Faults, uploads: newUploadSlots(cfg.MaxUploadsPerPrincipal), mac: mac, reserved: map[string]uint64{},
		policies: map[string]*policyEntry{},
	}
	if cfg.DefaultSSE != nil {
		r := *cfg.DefaultSSE
		s.defaultSSE = &r
	}
	if s.clock == nil {
		s.clock = clock.System{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadOnly {
		if err := s.openMetaReadOnly(); err != nil {
			return nil, err
		}
		if err := s.loadPolicies(); err != nil {
			s.db.Close()
			return nil, err
		}
		return s, nil
	}
	for _, d := range []string{s.dir, s.dataDir, s.tmpDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("objstore: %w", err)
		}
	}
	if err := syncDir(s.dir); err != nil {
		return nil, err
	}
	if s.dataFD, err = os.Open(s.dataDir); err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	s.dataSync = newDirSyncer(s.dataFD)
	if err := s.openMeta(ctx, cfg.AdoptUnauthenticated); err != nil {
		s.dataFD.Close()
		return nil, err
	}
	s.commits = &committer{runTx: s.update, panicked: s.txPanicked}
	if err := s.loadPolicies(); err != nil {
		s.db.Close()
		s.dataFD.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the store. Callers must have finished using it (and
// closed every Object it returned).
func (s *DiskStore) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.db.Close()
	if s.dataFD != nil {
		if cerr := s.dataFD.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Region returns the region of every bucket this store creates.
func (s *DiskStore) Region() string { return s.region }

func (s *DiskStore) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

func (s *DiskStore) canRead(p Principal, bucket string) bool {
	return s.authz == nil || s.authz.CanReadBucket(p, bucket)
}

func (s *DiskStore) canWrite(p Principal, bucket string) bool {
	return s.authz == nil || s.authz.CanWriteBucket(p, bucket)
}

func (s *DiskStore) canDecrypt(p Principal, keyID string) bool {
	return s.authz == nil || s.authz.CanDecrypt(p, keyID)
}

func denied(resource string) error { return newErr(KindAccessDenied, resource, msgAccessDenied, nil) }

// syncDir fsyncs a directory so that renames and creations in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("objstore: open dir for fsync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("objstore: fsync %s: %w", dir, err)
	}
	return nil
}
