package scan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
	"github.com/sseaudit/sseaudit/snapshot"
)

// Config configures a scan.
type Config struct {
	// Client is the target endpoint (required). The scan only reads.
	Client *client.Client
	// KMS is the KMS client for Region. Without it every referenced key is
	// recorded with the error "no KMS endpoint given".
	KMS *kmssdk.Client
	// KMSRegions are KMS clients for other regions (buckets of a real OSS
	// account may be in several).
	KMSRegions map[string]*kmssdk.Client
	// AWSKMS is an AWS KMS client for Region (an S3 target's keys); when
	// set it is used instead of KMS there. Keys are read with DescribeKey
	// and, for customer keys, GetKeyRotationStatus, into the same records.
	AWSKMS *awskms.Client
	// Region is the region of KMS and of buckets whose region is unknown
	// (default Client.Region()).
	Region string
	// BucketGlob selects listed buckets by name (path.Match syntax, e.g.
	// "prod-*"); "" selects all.
	BucketGlob string
	// Buckets are scanned whether or not the listing shows them or the
	// glob matches (a principal may be able to list a bucket but not read
	// it, or read it but not list it): explicit names are never dropped.
	Buckets []string
	// Concurrency bounds the requests in flight to the target (default
	// 16): HEADs, rule and versioning reads and listing pages of every
	// bucket together. Buckets are scanned concurrently under this one
	// budget (many small buckets go as fast as one large one) and written
	// to the snapshot one at a time, in name order.
	Concurrency int
	// RequestRate bounds the requests per second the scan sends to the
	// target endpoint, every bucket together, and separately to each KMS
	// endpoint (a token bucket with a burst of one request: in any t
	// seconds at most RequestRate*t+1 requests start); 0 is unlimited.
	// It keeps a census within a production account's request quota.
	// Retries count. (The v1 OSS SDK's ListBuckets and GetBucketLocation
	// pages after the first bypass it: see client.WithRequestGate.)
	RequestRate float64
	// SpoolDir holds the temporary files (mode 0600, removed when the scan
	// ends) in which buckets scanned ahead of their turn keep their
	// objects beyond a small in-memory buffer (default os.TempDir()).
	SpoolDir string
	// Versions lists and inspects every version of buckets whose
	// versioning is Enabled or Suspended, not only the current ones: an
	// object re-encrypted by copying it onto itself leaves its unencrypted
	// bytes behind as a noncurrent version. It costs one HEAD per version.
	Versions bool
	// SkipAccess leaves out each bucket's ACL and policy (two requests per
	// bucket; see access.go). Object ACLs are never read.
	SkipAccess bool
	Retry      Retry
	// Progress receives a progress bar with rate and ETA when it is a
	// terminal; otherwise (and when nil) nothing is drawn.
	Progress io.Writer
	// Clock gives the times recorded (default time.Now).
	Clock       func() time.Time
	ToolVersion string
	// TargetInfo is recorded as provenance; Dialect and Endpoint default
	// to the Client's. It must not carry secrets.
	TargetInfo snapshot.Target
	// ExtraKeyRefs are KMS key references to describe besides the ones
	// the estate uses, so the snapshot records what they resolve to: the
	// caller passes the profile's allowed_cmk_ids, whose aliases policies
	// can compare with the keys in use only through such a record (see
	// package policy). Aliases ("alias/x") are described in every region
	// of the scan that has a KMS client, alias ARNs in their own region;
	// key ids and key ARNs name their key without KMS and are skipped.
	// Each record reads like a referenced key's (a missing alias is
	// recorded Missing) and counts in Coverage's keys.
	ExtraKeyRefs []string
	// ServiceKeyIDs maps region to the id of its OSS service key
	// (alias/acs/oss), when known; other regions are resolved with
	// DescribeKey when needed.
	ServiceKeyIDs map[string]string
	// ScanID identifies the scan (default: 16 random bytes, hex).
	ScanID string
	// PolicyDigest is recorded in provenance when known at scan time.
	PolicyDigest string
	// Shard scans only the buckets whose name hashes to Shard.Index of
	// Shard.Count (snapshot.ShardOf), recorded in provenance so that
	// snapshot.Merge can join the shards; nil scans every bucket.
	Shard *snapshot.Shard
	// Inventory censuses the buckets it names from their newest bucket
	// inventory report instead of one HEAD per object (see inventory.go;
	// the CLI's --inventory SRC=DEST[/PREFIX][#ID], ParseInventoryFlag).
	Inventory []InventorySource
	// MaxCoverageErrors caps Coverage.Errors (default 10000); further
	// errors are counted in Coverage.ErrorsOmitted and stay recorded in
	// their object, bucket or key.
	MaxCoverageErrors int

	// Checkpoint is a directory in which the scan keeps a checkpoint as
	// it goes (see checkpoint.go), so that a scan killed in the middle
	// can resume (Resume) where it stopped; "" keeps none. Without Resume
	// an earlier checkpoint there is replaced.
	Checkpoint string
	// Resume continues the scan whose checkpoint is in Checkpoint:
	// buckets it completed are copied from it, the bucket it was in
	// continues after the last key it holds whole, the rest is scanned.
	// A checkpoint of another scan (target, bucket filter, shard,
	// versions, inventory sources or tool version) or a damaged one is
	// refused with a *CheckpointError; without a checkpoint the scan
	// starts from the beginning.
	Resume bool
	// OnResume, when set, is told what a resumed scan takes from its
	// checkpoint, before it starts.
	OnResume func(ResumeInfo)
	// ReadProbe reads one byte of (a sample of) the encrypted objects
	// after their HEAD, to find data that cannot be decrypted; off by
	// default (it costs one GET per probed object).
	ReadProbe ReadProbe
	// GCPercent is the garbage collector's target percentage (GOGC)
	// while the scan runs, restored when it ends: 0 is
	// DefaultCensusGCPercent, negative leaves the process's setting
	// alone. It only ever raises the setting (see gc.go for what it
	// saves and costs).
	GCPercent int

	// forceProgress draws the bar on a non-terminal (tests).
	forceProgress bool
	// spoolMem and lookahead replace spoolMemObjects and
	// lookaheadObjects when set (tests).
	spoolMem, lookahead int
	// checkpointEvery replaces defaultCheckpointEvery when set (tests).
	checkpointEvery int
	// requests, when set, counts the requests sent to the target and the
	// time they held the budget (tests and benchmarks; see requestCount).
	requests *requestCount
}

// requestCount counts the requests sent to the target: every HTTP request
// the budget's gate admits, listing pages and retries included (the v1
// OSS SDK's ListBuckets, which drops the context, is not seen), so that
// tests and benchmarks can pin what a bucket costs and set a census's
// rate against its request count; and the time they held a slot of the
// budget (until their response headers arrived), so that busy/wall is
// the mean number of requests in flight: whether the census kept its
// budget busy.
type requestCount struct {
	n    atomic.Int64
	busy atomic.Int64 // nanoseconds
}

type scanner struct {
	cfg     Config
	retry   Retry
	keys    *keys
	prog    *progress
	budgets *budgets
	// stop ends the scan's work context (set by Run): a write or spool
	// failure stops every request.
	stop context.CancelFunc

	retries atomic.Int64

	errMu       sync.Mutex
	errs        []snapshot.Error
	errsOmitted int64

	inventories map[string]*invState // by source bucket
	// resume is the checkpoint a resumed scan continues (nil: none).
	resume *checkpointState
}

func (s *scanner) now() time.Time {
	if s.cfg.Clock != nil {
		return s.cfg.Clock().UTC()
	}
	return time.Now().UTC()
}

func (s *scanner) recordError(e snapshot.Error) {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if len(s.errs) < s.cfg.MaxCoverageErrors {
		s.errs = append(s.errs, e)
	} else {
		s.errsOmitted++
	}
}

func newScanID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (cfg *Config) validate() error {
	if cfg.Client == nil {
		return errors.New("scan: Config.Client is required")
	}
	if _, err := path.Match(cfg.BucketGlob, ""); err != nil {
		return fmt.Errorf("scan: Config.BucketGlob %q: %w", cfg.BucketGlob, err)
	}
	if cfg.Concurrency < 0 {
		return fmt.Errorf("scan: Config.Concurrency %d is negative", cfg.Concurrency)
	}
	if sh := cfg.Shard; sh != nil && (sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count) {
		return fmt.Errorf("scan: Config.Shard %d/%d: want 0 <= index < count", sh.Index, sh.Count)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Resume && cfg.Checkpoint == "" {
		return errors.New("scan: Config.Resume needs Config.Checkpoint, the checkpoint's directory")
	}
	if cfg.RequestRate < 0 || math.IsNaN(cfg.RequestRate) {
		return fmt.Errorf("scan: Config.RequestRate %v: use a positive number of requests per second, or 0 for no limit", cfg.RequestRate)
	}
	if cfg.Region == "" {
		cfg.Region = cfg.Client.Region()
	}
	if cfg.MaxCoverageErrors <= 0 {
		cfg.MaxCoverageErrors = 10000
	}
	if cfg.ScanID == "" {
		cfg.ScanID = newScanID()
	}
	if err := validateInventory(cfg.Inventory); err != nil {
		return err
	}
	if cfg.TargetInfo.Dialect == "" {
		cfg.TargetInfo.Dialect = string(cfg.Client.Dialect())
	}
	if cfg.TargetInfo.Endpoint == "" {
		cfg.TargetInfo.Endpoint = cfg.Client.Endpoint()
	}
	return nil
}

// RunToFile is Run into the file at path, written as path's sibling
// temporary file (mode 0600), synced and renamed into place, so path never
// holds a truncated document. A cancelled scan still produces the file
// (complete=false) and returns ctx's error; after a write error nothing is
// left at path.
func RunToFile(ctx context.Context, cfg Config, path string) (snapshot.Summary, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return snapshot.Summary{}, fmt.Errorf("scan: create snapshot file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return snapshot.Summary{}, fmt.Errorf("scan: snapshot file: %w", err)
	}
	sum, runErr := Run(ctx, cfg, f)
	if runErr != nil && sum.Schema == "" {
		f.Close()
		return sum, runErr
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return snapshot.Summary{}, fmt.Errorf("scan: sync snapshot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return snapshot.Summary{}, fmt.Errorf("scan: close snapshot %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return snapshot.Summary{}, fmt.Errorf("scan: rename snapshot into %s: %w", path, err)
	}
	return sum, runErr
}

// bucketInfo is a bucket to scan, before it is read.
type bucketInfo struct {
	client.Bucket
	regionErr *snapshot.Error
}

// Run scans the target and streams the snapshot to out.
//
// It returns the snapshot's summary and nil when the scan ran to its end,
// whatever the endpoint answered (errors are data in the snapshot). When
// ctx ends it stops sending requests, closes the document with
// complete=false and returns the summary with ctx's error. Any other error
// (invalid Config, or writing to out failed) is returned with an empty
// summary; the output is then not a valid document.
func Run(ctx context.Context, cfg Config, out io.Writer) (snapshot.Summary, error) {
	if err := cfg.validate(); err != nil {
		return snapshot.Summary{}, err
	}
	gcPercent := cfg.GCPercent
	if gcPercent == 0 {
		gcPercent = DefaultCensusGCPercent
	}
	defer raiseGC(gcPercent)()
	s := &scanner{cfg: cfg, retry: cfg.Retry.withDefaults(), prog: newProgress(cfg.Progress, cfg.forceProgress), budgets: newBudgets(&cfg)}
	s.keys = newKeys(s)
	started := s.now()

	var ck *checkpointState
	if cfg.Checkpoint != "" && cfg.Resume {
		var err error
		if ck, err = readCheckpoint(cfg.Checkpoint, identityOf(&cfg)); err != nil {
			return snapshot.Summary{}, err
		}
	}
	var buckets []bucketInfo
	var listErr *snapshot.Error
	if ck != nil {
		// The buckets the interrupted scan listed, not a new listing: the
		// resumed scan reads what it would have read.
		buckets, listErr = ck.buckets(), ck.hdr.ListError
		if listErr != nil {
			s.recordError(*listErr)
		}
		for _, b := range buckets {
			if b.regionErr != nil {
				s.recordError(*b.regionErr)
			}
		}
	} else {
		buckets, listErr = s.buckets(ctx)
	}
	regions := map[string]bool{cfg.Region: true}
	for _, b := range buckets {
		if b.Region != "" {
			regions[b.Region] = true
		}
	}
	prov := snapshot.Provenance{
		ScanID: cfg.ScanID, StartedAt: started, ToolVersion: cfg.ToolVersion, Target: cfg.TargetInfo,
		Regions: sortedKeys(regions), BucketFilter: cfg.BucketGlob, PolicyDigest: cfg.PolicyDigest, Shard: cfg.Shard,
		ReadProbe: cfg.ReadProbe.String(),
	}
	s.inventories = s.loadInventories(ctx)
	for _, src := range cfg.Inventory {
		if st := s.inventories[src.Bucket]; st.err == nil {
			prov.Inventories = append(prov.Inventories, st.provenance())
		}
	}
	var log *checkpointLog
	switch {
	case ck != nil:
		// An inventory census has no listing to resume: its bucket starts
		// again.
		drop := ck.partial != nil && s.inventories[ck.partial.hb.Name] != nil
		var err error
		if log, err = ck.reopen(&cfg, drop); err != nil {
			return snapshot.Summary{}, err
		}
		ri := ck.info()
		prov.ResumedFrom = &snapshot.Resumed{ScanID: ri.ScanID, StartedAt: ri.StartedAt, BucketsCopied: ri.Buckets}
		if cfg.OnResume != nil {
			cfg.OnResume(ri)
		}
	case cfg.Checkpoint != "" && listErr != nil:
		// A scan that could not list the buckets is no census to resume:
		// a resumption lists them again.
		if err := RemoveCheckpoint(cfg.Checkpoint); err != nil {
			return snapshot.Summary{}, err
		}
	case cfg.Checkpoint != "":
		var err error
		if log, err = createCheckpoint(&cfg, started, buckets, listErr); err != nil {
			return snapshot.Summary{}, err
		}
	}
	defer log.close()
	w, err := snapshot.NewWriter(out, prov, snapshot.WithClock(s.now))
	if err != nil {
		return snapshot.Summary{}, fmt.Errorf("scan: %w", err)
	}

	cov := snapshot.Coverage{ListBucketsError: listErr}
	// wctx ends with ctx, or when writing fails (s.stop): nothing more is
	// sent either way.
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	s.stop = stop
	k := &sink{w: w, ck: log, ctx: wctx}
	copied := 0
	if ck != nil {
		copied = len(ck.done)
		s.resume = ck
	}
	cs := newCensus(wctx, s, buckets, copied)
	for i, b := range buckets {
		var hb snapshot.Bucket
		var err error
		if i < copied {
			hb, err = s.copyBucket(wctx, k, ck, &ck.done[i], b)
		} else if st := s.inventories[b.Name]; st != nil && wctx.Err() == nil {
			cs.skip(i)
			hb, err = s.inventoryBucket(wctx, k, b, st, i, len(buckets))
		} else if bs := cs.turn(i); bs != nil {
			hb, err = s.writeBucket(cs, k, bs, i)
		} else {
			hb, err = s.writeCancelledBucket(k, b)
		}
		if err != nil {
			stop()
			cs.drain(max(i, copied))
			cs.wait()
			return snapshot.Summary{}, fmt.Errorf("scan: %w", err)
		}
		if i >= copied {
			cs.written(i)
		}
		cov.Buckets++
		if hb.EncryptionError == nil && hb.ListError == nil && hb.RegionError == nil {
			cov.BucketsRead++
		}
		cov.ObjectsListed += hb.ObjectsListed
		cov.ObjectsInspected += hb.ObjectsInspected
	}
	cs.wait()
	if ctx.Err() == nil {
		s.keys.describeExtra(ctx, prov.Regions, cfg.ExtraKeyRefs)
	}
	for _, k := range s.keys.all() {
		cov.KeysReferenced++
		if k.Error == nil {
			cov.KeysDescribed++
		}
		if err := w.Key(k); err != nil {
			return snapshot.Summary{}, fmt.Errorf("scan: %w", err)
		}
	}
	s.errMu.Lock()
	cov.Errors, cov.ErrorsOmitted = s.errs, s.errsOmitted
	s.errMu.Unlock()
	cov.Retries = s.retries.Load()
	// A scan that could not list the buckets does not know what it missed,
	// unless it was asked only for buckets named exactly.
	complete := ctx.Err() == nil && (listErr == nil || cfg.onlyNamed())
	if err := w.Close(cov, complete); err != nil {
		return snapshot.Summary{}, fmt.Errorf("scan: %w", err)
	}
	if !complete {
		return w.Summary(), ctx.Err()
	}
	if err := s.inventoryErrors(); err != nil {
		return w.Summary(), err
	}
	return w.Summary(), nil
}

// onlyNamed reports whether the scan was asked only for buckets named
// exactly (Buckets, with no glob or the glob being one of those names).
func (cfg *Config) onlyNamed() bool {
	return len(cfg.Buckets) > 0 && (cfg.BucketGlob == "" || slices.Contains(cfg.Buckets, cfg.BucketGlob))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// buckets lists the buckets to scan, in name order, with their regions.
func (s *scanner) buckets(ctx context.Context) ([]bucketInfo, *snapshot.Error) {
	byName := map[string]*bucketInfo{}
	var listed []client.Bucket
	attempts, err := s.do(ctx, func(ctx context.Context) error {
		var err error
		listed, err = s.cfg.Client.ListBuckets(ctx)
		return err
	})
	var listErr *snapshot.Error
	if err != nil {
		listErr = toError(ctx, "scan", "ListBuckets", attempts, err)
		s.recordError(*listErr)
	}
	mine := func(name string) bool {
		return s.cfg.Shard.OwnsBucket(name)
	}
	for _, b := range listed {
		if ok, _ := path.Match(s.cfg.BucketGlob, b.Name); (s.cfg.BucketGlob == "" || ok) && mine(b.Name) {
			byName[b.Name] = &bucketInfo{Bucket: b}
		}
	}
	for _, name := range s.cfg.Buckets {
		if name != "" && byName[name] == nil && mine(name) {
			byName[name] = &bucketInfo{Bucket: client.Bucket{Name: name}}
		}
	}
	out := make([]bucketInfo, 0, len(byName))
	for _, b := range byName {
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })

	// Regions the listing did not give (S3, explicit names), concurrently.
	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range out {
		if out[i].Region != "" || ctx.Err() != nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(b *bucketInfo) {
			defer func() { <-sem; wg.Done() }()
			var region string
			attempts, err := s.do(ctx, func(ctx context.Context) error {
				var err error
				region, err = s.cfg.Client.BucketRegion(ctx, b.Name)
				return err
			})
			if err != nil {
				b.regionErr = toError(ctx, "bucket", b.Name, attempts, err)
				return
			}
			b.Region = region
		}(&out[i])
	}
	wg.Wait()
	for _, b := range out {
		if b.regionErr != nil {
			s.recordError(*b.regionErr)
		}
	}
	return out, listErr
}

func (s *scanner) writeCancelledBucket(w *sink, b bucketInfo) (snapshot.Bucket, error) {
	hb := snapshot.Bucket{Name: b.Name, Region: b.Region, CreationDate: b.CreationDate, RegionError: b.regionErr,
		EncryptionError: cancelled("rule", b.Name, "rule not read"), ReadAt: s.now()}
	le := cancelled("list", b.Name, "objects not listed")
	s.recordError(*hb.EncryptionError)
	s.recordError(*le)
	// Never logged: a bucket not read is no result to resume from.
	if err := w.beginBucket(hb, false); err != nil {
		return hb, err
	}
	hb.ListError = le
	return hb, w.endBucket(0, 0, le, false)
}

func (s *scanner) regionOf(b bucketInfo) string {
	if b.Region != "" {
		return b.Region
	}
	return s.cfg.Region
}

// method classifies an encryption state read in region, describing the
// KMS key it names (so every referenced key is recorded).
func (s *scanner) method(ctx context.Context, region, algorithm, keyID string) string {
	m := Method(algorithm, keyID, false)
	if keyID == "" {
		return m
	}
	// Every key named is described, whatever the method (S3's DSSE-KMS is
	// "other" but its data is as unreadable as SSE-KMS's when its key is
	// disabled).
	s.keys.describe(ctx, region, keyID)
	return Method(algorithm, keyID, s.keys.isServiceKey(ctx, region, keyID))
}

// rule reads the bucket's default encryption rule into b.
func (s *scanner) rule(ctx context.Context, region string, b *snapshot.Bucket) {
	var rule *client.Rule
	attempts, err := s.do(ctx, func(ctx context.Context) error {
		var err error
		rule, err = s.cfg.Client.BucketEncryption(ctx, b.Name)
		return err
	})
	switch {
	case err != nil:
		b.EncryptionError = toError(ctx, "rule", b.Name, attempts, err)
	case rule != nil:
		b.Encryption = &snapshot.Rule{
			Algorithm: rule.Algorithm, KMSMasterKeyID: rule.KMSMasterKeyID, KMSDataEncryption: rule.KMSDataEncryption,
			Method: s.method(ctx, region, rule.Algorithm, rule.KMSMasterKeyID), Raw: rule.Raw,
		}
		if blocked, known := rule.SSECBlocked(); known {
			b.SSECBlocked = &blocked
		}
	}
}

// list lists bucket, passing each object to send once. A retried listing
// starts again from the beginning and skips what was already passed on:
// by key for a plain listing (listings are in key order), by position for
// a listing of versions (a key has several entries). Delete markers are
// not passed on: they hold no data.
//
// after (when ok) resumes a listing cut short by an interruption: only
// the keys after after.key are listed (start-after; for versions the
// key-marker, which passes over every version of the keys up to it).
func (s *scanner) list(ctx context.Context, bucket string, versions bool, after bound, send func(client.VersionSummary) error) *snapshot.Error {
	if sh := s.cfg.Shard; sh.Splits(bucket) {
		// Every shard lists a split bucket (a page costs what a thousand
		// HEADs do) and inspects its share of the keys.
		all := send
		send = func(v client.VersionSummary) error {
			if !sh.OwnsObject(bucket, v.Key) {
				return nil
			}
			return all(v)
		}
	}
	var last string
	var passed bool
	var sent, seen int64
	var attempts int
	var err error
	if versions {
		attempts, err = s.do(ctx, func(ctx context.Context) error {
			seen = 0
			return s.cfg.Client.ListObjectVersionsAfter(ctx, bucket, "", after.key, func(v client.VersionSummary) error {
				seen++
				if seen <= sent {
					return nil
				}
				sent++
				if v.DeleteMarker {
					return nil
				}
				return send(v)
			})
		})
	} else {
		attempts, err = s.do(ctx, func(ctx context.Context) error {
			return s.cfg.Client.ListObjectsAfter(ctx, bucket, "", after.key, func(o client.ObjectSummary) error {
				if passed && o.Key <= last {
					return nil
				}
				if err := send(client.VersionSummary{ObjectSummary: o, IsLatest: true}); err != nil {
					return err
				}
				last, passed = o.Key, true
				return nil
			})
		})
	}
	if err != nil {
		return toError(ctx, "list", bucket, attempts, err)
	}
	return nil
}

// versioning reads the bucket's versioning state into b, and decides
// whether its versions are inspected. A store without the versioning API
// (501 NotImplemented) has no versions: that is not an error.
func (s *scanner) versioning(ctx context.Context, b *snapshot.Bucket) {
	var st string
	attempts, err := s.do(ctx, func(ctx context.Context) error {
		var err error
		st, err = s.cfg.Client.BucketVersioning(ctx, b.Name)
		return err
	})
	if err != nil {
		if te, ok := client.AsError(err); ok && (te.StatusCode == 501 || te.Code == "NotImplemented") {
			return
		}
		b.VersioningError = toError(ctx, "versioning", b.Name, attempts, err)
		if s.cfg.Versions {
			s.recordError(*b.VersioningError)
		}
		return
	}
	b.Versioning = st
	b.VersionsInspected = s.cfg.Versions && (st == client.VersioningEnabled || st == client.VersioningSuspended)
}

// SSECAlgorithm is the SSE recorded for an object encrypted with a
// customer-provided key (snapshot.MethodSSEC).
const SSECAlgorithm = "SSE-C"

// ssecMessage is what S3 answers a read of an SSE-C object without its
// key (400 InvalidRequest); the S3 documentation and every S3 store that
// implements SSE-C use these words.
const ssecMessage = "The object was stored using a form of Server Side Encryption"

// isSSEC tells an SSE-C object from a failed HEAD: S3 answers HEAD of an
// SSE-C object without its key 400 with no body, which alone could be any
// bad request, so a 400 is confirmed by one ranged GET of byte 0, whose
// error body says InvalidRequest and why. Only 400s cost the extra
// request (under the same budget and retries as the HEAD).
func (s *scanner) isSSEC(ctx context.Context, bucket string, l client.VersionSummary, versions bool, headErr error) bool {
	if te, ok := client.AsError(headErr); !ok || te.StatusCode != http.StatusBadRequest {
		return false
	}
	version := ""
	if versions {
		version = l.VersionID
	}
	_, err := s.do(ctx, func(ctx context.Context) error {
		return s.cfg.Client.ReadProbe(ctx, bucket, l.Key, version, l.Size)
	})
	te, ok := client.AsError(err)
	return ok && te.StatusCode == http.StatusBadRequest && te.Code == "InvalidRequest" && strings.Contains(te.Message, ssecMessage)
}

// inspect HEADs one listed object.
func (s *scanner) inspect(ctx context.Context, bucket, region string, l client.VersionSummary, versions bool) snapshot.Object {
	o := snapshot.Object{Bucket: bucket, Key: l.Key, Size: l.Size, ETag: l.ETag, LastModified: l.LastModified, StorageClass: l.StorageClass,
		VersionID: l.VersionID, Noncurrent: versions && !l.IsLatest}
	// The resource names an error only: not built for every object.
	res := func() string {
		if versions && l.VersionID != "" {
			return bucket + "/" + l.Key + "?versionId=" + l.VersionID
		}
		return bucket + "/" + l.Key
	}
	if ctx.Err() != nil {
		o.Method, o.Error = snapshot.MethodUnknown, cancelled("object", res(), "not inspected")
		return o
	}
	var r client.ObjectResult
	attempts, err := s.do(ctx, func(ctx context.Context) error {
		var err error
		if versions && l.VersionID != "" {
			r, err = s.cfg.Client.HeadObjectVersion(ctx, bucket, l.Key, l.VersionID)
		} else {
			r, err = s.cfg.Client.HeadObject(ctx, bucket, l.Key)
		}
		return err
	})
	if err != nil {
		if s.isSSEC(ctx, bucket, l, versions, err) {
			// Not an error: the object is SSE-C, whose key only its
			// writer has. Its metadata is the listing's.
			o.SSE, o.Method = SSECAlgorithm, snapshot.MethodSSEC
			return o
		}
		o.Method, o.Error = snapshot.MethodUnknown, toError(ctx, "object", res(), attempts, err)
		return o
	}
	if attempts > 1 {
		o.Attempts = attempts
	}
	o.Size = r.Size
	if r.ETag != "" {
		o.ETag = r.ETag
	}
	if !r.LastModified.IsZero() {
		o.LastModified = r.LastModified
	}
	if r.StorageClass != "" {
		o.StorageClass = r.StorageClass
	}
	if r.VersionID != "" {
		o.VersionID = r.VersionID
	}
	o.SSE, o.KMSKeyID, o.DataEncryption = r.SSE.Algorithm, r.SSE.KeyID, r.SSE.DataEncryption
	o.Method = s.method(ctx, region, r.SSE.Algorithm, r.SSE.KeyID)
	s.probe(ctx, &o, res)
	return o
}
