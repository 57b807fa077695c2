package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/inventory"
	"github.com/sseaudit/sseaudit/snapshot"
)

// Inventory census: a bucket named in Config.Inventory is censused from
// its newest bucket inventory report (OSS Bucket Inventory, S3 Inventory;
// see package inventory) instead of one HEAD per listed object. The
// bucket's default rule and versioning are still read live.
//
//   - The manifest must match manifest.checksum, name the bucket as its
//     source and the destination it was read from, be CSV (or Parquet, on
//     S3) and have an EncryptionStatus column; every data file must have
//     the size and MD5 the manifest gives (a file is staged in a temporary
//     file and checked before any of its rows is used). Anything else is bad input: the
//     bucket records a list_error with code InvalidInventory, no row of an
//     unchecked file is used, and Run returns an *InventoryError once the
//     snapshot is closed (exit 2 through the pipeline). A census is never
//     silently smaller than its report.
//   - Method comes from EncryptionStatus: NOT-SSE/false is none, SSE-S3 is
//     oss-managed, SSE-C sse-c. The report never names a KMS key (S3: SSE-KMS
//     and DSSE-KMS; OSS says only true), so with KeyIDs "head-encrypted"
//     (the default) every such object is HEADed and recorded from its HEAD;
//     with "sample" only the sampled ones are, and the rest are recorded
//     with method unknown and an error saying why (an objects gap).
//   - Sample objects (chosen by a hash of the key seeded with the scan id,
//     so another scan samples others) are HEADed to cross-check the
//     report, and so is every object HEADed for its key. An object unchanged since the report (same ETag, or not
//     modified after it) whose live encryption differs from what the report
//     says makes the bucket's list_error InventoryMismatch: the report's
//     other rows cannot be trusted (a coverage finding); the object itself
//     is recorded as HEAD saw it, so an unencrypted one is judged as such.
//   - A report lists only what its configuration's Filter matches (a
//     prefix; on OSS also LastModified, size and storage-class bounds), and
//     its manifest does not say so: the configuration the report was
//     written for is read (GetBucketInventory, as the census principal).
//     A filter that leaves objects out, or a configuration that cannot be
//     read (deleted since, access denied), makes the bucket's list_error
//     InventoryFiltered or InventoryFilterUnknown: the objects outside the
//     filter were not checked (a coverage finding and a buckets gap, which
//     accepting the inventory gap does not accept). The rows of the report
//     are still censused. The census does not list the rest of the bucket
//     live: like the objects written after the report below, that would
//     cost the listing the report exists to avoid. The filter read is the
//     configuration's now; one changed since the report is not seen.
//   - Objects written after the report are not in it. The census does not
//     list the bucket to find them (that would cost a request per 1,000
//     objects, and the report exists to avoid it): the report's time is in
//     provenance.inventories[].as_of and the pipeline reports the bucket as
//     a coverage gap. Objects deleted since are in the census as the report
//     saw them (a sampled one that is gone keeps its report row).
//   - Noncurrent versions come from a report that includes all versions,
//     and only when Config.Versions asks for them; delete markers are
//     skipped.

// Where KMS key ids come from (InventorySource.KeyIDs).
const (
	InventoryKeysHead   = "head-encrypted"
	InventoryKeysSample = "sample"
)

// DefaultInventorySample is how many objects of a bucket are HEADed to
// cross-check its inventory when InventorySource.Sample is 0.
const DefaultInventorySample = 100

// InventorySource says where a bucket's inventory reports are.
type InventorySource struct {
	// Bucket is the source bucket (the one censused).
	Bucket string
	// DestBucket and Prefix are the configuration's destination bucket
	// and destination prefix ("" for none): reports are under
	// [Prefix/]Bucket/CONFIG-ID/.
	DestBucket, Prefix string
	// ConfigID names the inventory configuration; "" takes the only one
	// reporting there (several are an error naming them).
	ConfigID string
	// KeyIDs is InventoryKeysHead ("" means it) or InventoryKeysSample.
	KeyIDs string
	// Sample is how many objects to HEAD to cross-check the report (0 =
	// DefaultInventorySample, negative = none). The sample is drawn by
	// rate, so the count is approximate.
	Sample int
}

// ParseInventoryFlag parses the CLI form SRC=DEST[/PREFIX][#CONFIG-ID]:
// bucket SRC is censused from the reports its inventory writes to bucket
// DEST under PREFIX.
func ParseInventoryFlag(v string) (InventorySource, error) {
	src, loc, ok := strings.Cut(v, "=")
	if !ok || src == "" || loc == "" {
		return InventorySource{}, fmt.Errorf("--inventory %q: want SOURCE-BUCKET=DEST-BUCKET[/PREFIX][#CONFIG-ID], e.g. logs=inventory-reports/daily#all-objects", v)
	}
	s := InventorySource{Bucket: src}
	loc, s.ConfigID, _ = strings.Cut(loc, "#")
	s.DestBucket, s.Prefix, _ = strings.Cut(loc, "/")
	s.Prefix = strings.Trim(s.Prefix, "/")
	if s.DestBucket == "" {
		return InventorySource{}, fmt.Errorf("--inventory %q: the destination bucket is empty", v)
	}
	return s, nil
}

// InventoryError is what Run returns, after closing the snapshot, when an
// inventory report was bad input (see the census description above).
type InventoryError struct {
	Errs []error
}

func (e *InventoryError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return "inventory census: " + strings.Join(msgs, "; ")
}

func (e *InventoryError) Unwrap() []error { return e.Errs }

func validateInventory(srcs []InventorySource) error {
	seen := map[string]bool{}
	for i := range srcs {
		s := &srcs[i]
		switch {
		case s.Bucket == "" || s.DestBucket == "":
			return fmt.Errorf("scan: Config.Inventory[%d]: Bucket and DestBucket are required", i)
		case seen[s.Bucket]:
			return fmt.Errorf("scan: Config.Inventory: bucket %s is given twice", s.Bucket)
		case s.KeyIDs != "" && s.KeyIDs != InventoryKeysHead && s.KeyIDs != InventoryKeysSample:
			return fmt.Errorf("scan: Config.Inventory[%d].KeyIDs %q: use %q or %q", i, s.KeyIDs, InventoryKeysHead, InventoryKeysSample)
		}
		seen[s.Bucket] = true
		if s.KeyIDs == "" {
			s.KeyIDs = InventoryKeysHead
		}
		if s.Sample == 0 {
			s.Sample = DefaultInventorySample
		}
	}
	return nil
}

// invState is one bucket's inventory, its manifest read before the scan.
type invState struct {
	src  InventorySource
	base string
	m    inventory.Manifest
	key  string // manifest.json
	err  error  // the manifest could not be read or is bad
	used bool
	// configID is the configuration the report was written for, filter
	// its Filter, filterErr why the filter could not be read.
	configID  string
	filter    client.InventoryFilter
	filterErr error
}

func (st *invState) provenance() snapshot.Inventory {
	sample := max(st.src.Sample, 0)
	return snapshot.Inventory{Bucket: st.src.Bucket, Dialect: st.m.Dialect, DestBucket: st.src.DestBucket, ManifestKey: st.key,
		ManifestSHA256: st.m.SHA256, AsOf: st.m.Created, KeyIDs: st.src.KeyIDs, Sample: sample}
}

// loadInventories finds and checks each source's newest manifest.
func (s *scanner) loadInventories(ctx context.Context) map[string]*invState {
	out := map[string]*invState{}
	dialect := inventory.OSS
	if s.cfg.Client.Dialect() == client.S3 {
		dialect = inventory.S3
	}
	for _, src := range s.cfg.Inventory {
		st := &invState{src: src, base: joinKey(src.Prefix, src.Bucket)}
		out[src.Bucket] = st
		st.err = s.loadManifest(ctx, st, dialect)
	}
	return out
}

func (s *scanner) loadManifest(ctx context.Context, st *invState, dialect string) error {
	dest := st.src.DestBucket
	newest := inventory.Newest{Base: st.base, ConfigID: st.src.ConfigID}
	if _, err := s.do(ctx, func(ctx context.Context) error {
		return s.cfg.Client.ListObjects(ctx, dest, st.base+"/", func(o client.ObjectSummary) error {
			newest.Add(o.Key)
			return nil
		})
	}); err != nil {
		return fmt.Errorf("list the inventory reports of %s in %s/%s/: %w", st.src.Bucket, dest, st.base, err)
	}
	rk, err := newest.Result()
	if err != nil {
		return err
	}
	st.key = rk.Key
	get := func(key string) ([]byte, error) {
		var b []byte
		_, err := s.do(ctx, func(ctx context.Context) error {
			var err error
			b, _, err = s.cfg.Client.GetObject(ctx, dest, key, nil)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", dest, key, err)
		}
		return b, nil
	}
	body, err := get(rk.Key)
	if err != nil {
		return err
	}
	sum, err := get(strings.TrimSuffix(rk.Key, ".json") + ".checksum")
	if err != nil {
		return err
	}
	st.m, err = inventory.ParseManifest(body, sum, inventory.Expect{Dialect: dialect, SourceBucket: st.src.Bucket, DestBucket: dest})
	if err != nil {
		return fmt.Errorf("%s/%s: %w", dest, rk.Key, err)
	}
	if !inventory.Has(st.m.Schema, "EncryptionStatus") {
		return fmt.Errorf("%s/%s: %w: the report has no EncryptionStatus column: add EncryptionStatus to the inventory's optional fields", dest, rk.Key, inventory.ErrInvalid)
	}
	st.configID = rk.ConfigID
	if _, err := s.do(ctx, func(ctx context.Context) error {
		var err error
		st.filter, err = s.cfg.Client.BucketInventoryFilter(ctx, st.src.Bucket, rk.ConfigID)
		return err
	}); err != nil {
		st.filterErr = err
	}
	return nil
}

// filterGap is the list_error of a bucket whose report leaves objects out
// (or may: its filter could not be read), nil when it lists them all.
func (st *invState) filterGap(bucket string) *snapshot.Error {
	switch {
	case st.filterErr != nil:
		return &snapshot.Error{Scope: "list", Resource: bucket, Code: "InventoryFilterUnknown", Message: fmt.Sprintf(
			"the inventory configuration %s of bucket %s could not be read to learn which objects its report lists (%v): objects a filter left out would not have been checked; allow GetBucketInventory to the scan's principal, or scan %s without --inventory",
			st.configID, bucket, st.filterErr, bucket)}
	case !st.filter.Empty():
		return &snapshot.Error{Scope: "list", Resource: bucket, Code: "InventoryFiltered", Message: fmt.Sprintf(
			"the inventory %s of bucket %s lists only the objects its filter matches (%s): the objects outside it were not checked; census %s from an inventory without a filter, or scan it without --inventory",
			st.configID, bucket, st.filter, bucket)}
	}
	return nil
}

// inventoryErrors lists the bad reports, and sources whose bucket the scan
// did not select, for Run to return.
func (s *scanner) inventoryErrors() error {
	var errs []error
	for _, src := range s.cfg.Inventory {
		st := s.inventories[src.Bucket]
		switch {
		case !st.used:
			errs = append(errs, fmt.Errorf("bucket %s has an --inventory but was not scanned: select it (--buckets)", src.Bucket))
		case st.err != nil:
			errs = append(errs, fmt.Errorf("bucket %s: %w", src.Bucket, st.err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &InventoryError{Errs: errs}
}

// invCensus is one bucket's census from its report.
type invCensus struct {
	s        *scanner
	st       *invState
	hb       *snapshot.Bucket
	region   string
	dialect  string
	versions bool
	// threshold: a row is sampled when its hash is below it.
	threshold uint64
	seed      string

	mu         sync.Mutex
	sampled    int
	mismatches int
	example    string
}

// inventoryBucket reads bucket b's rule and versioning state and writes
// it, censused from its inventory report.
func (s *scanner) inventoryBucket(ctx context.Context, w *sink, b bucketInfo, st *invState, i, n int) (snapshot.Bucket, error) {
	region := s.regionOf(b)
	hb := s.header(ctx, b, region)
	if hb.EncryptionError != nil {
		s.recordError(*hb.EncryptionError)
	}
	s.prog.bucket(i, n, b.Name)
	defer s.prog.end()
	return s.censusInventory(ctx, w, hb, region, st)
}

// censusInventory writes bucket hb from its inventory report.
func (s *scanner) censusInventory(ctx context.Context, w *sink, hb snapshot.Bucket, region string, st *invState) (snapshot.Bucket, error) {
	st.used = true
	c := &invCensus{s: s, st: st, hb: &hb, region: region, dialect: st.m.Dialect, seed: s.cfg.ScanID}
	if st.err == nil && !inventory.Has(st.m.Schema, "IsLatest") {
		hb.VersionsInspected = false // the report has current versions only
	}
	c.versions = hb.VersionsInspected
	if err := w.beginBucket(hb, true); err != nil {
		return hb, err
	}
	if st.err != nil {
		le := &snapshot.Error{Scope: "list", Resource: hb.Name, Code: "InvalidInventory", Message: st.err.Error()}
		s.recordError(*le)
		hb.ListError = le
		return hb, w.endBucket(0, 0, le, true)
	}
	if st.src.Sample > 0 {
		var total int64
		for _, f := range st.m.Files {
			total += f.Size
		}
		// A gzipped CSV row takes 20 bytes or more, so the rows are at
		// most total/20: the rate is if anything too low. A Parquet row
		// can take less (17.5 bytes in InventoryScale's files): the
		// sample is then somewhat larger than asked.
		rate := float64(st.src.Sample) / math.Max(1, float64(total)/20)
		c.threshold = math.MaxUint64
		if rate < 1 {
			c.threshold = uint64(rate * math.MaxUint64)
		}
	}

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	jobs := make(chan headJob, 2*s.cfg.Concurrency)
	results := make(chan snapshot.Object, 2*s.cfg.Concurrency)
	var listed atomic.Int64
	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(jobs)
		readErr = c.read(wctx, func(o snapshot.Object, job *headJob) error {
			listed.Add(1)
			if job != nil {
				select {
				case jobs <- *job:
					return nil
				case <-wctx.Done():
					return wctx.Err()
				}
			}
			select {
			case results <- o:
				return nil
			case <-wctx.Done():
				return wctx.Err()
			}
		})
	}()
	var wg sync.WaitGroup
	for range s.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- c.head(wctx, j)
			}
		}()
	}
	go func() {
		<-readDone
		wg.Wait()
		close(results)
	}()
	var inspected, written int64
	var werr error
	for o := range results {
		if werr != nil {
			continue
		}
		if o.Error != nil {
			s.recordError(*o.Error)
		} else {
			inspected++
		}
		// Positions are of arrival: a resumed scan censuses an
		// inventoried bucket cut short again from its report.
		if werr = w.object(o, written, true); werr != nil {
			stop()
		}
		written++
		s.prog.update(listed.Load(), true)
	}
	if werr != nil {
		return hb, werr
	}
	var le *snapshot.Error
	switch {
	case readErr != nil && errors.Is(readErr, inventory.ErrInvalid):
		st.err = readErr
		le = &snapshot.Error{Scope: "list", Resource: hb.Name, Code: "InvalidInventory", Message: readErr.Error()}
	case readErr != nil:
		le = toError(ctx, "list", hb.Name, 1, readErr)
		if le.Code != CodeCancelled {
			st.err = readErr
		}
	case c.mismatches > 0:
		le = &snapshot.Error{Scope: "list", Resource: hb.Name, Code: "InventoryMismatch", Message: fmt.Sprintf(
			"the inventory report %s/%s disagrees with the live object for %d of %d objects HEADed to cross-check it (e.g. %s): its rows for the objects not HEADed cannot be trusted; run the inventory again or scan %s without --inventory",
			st.src.DestBucket, st.key, c.mismatches, c.sampled, c.example, hb.Name)}
	default:
		le = st.filterGap(hb.Name)
	}
	if le != nil {
		s.recordError(*le)
	}
	hb.ObjectsListed, hb.ObjectsInspected, hb.ListError = listed.Load(), inspected, le
	return hb, w.endBucket(hb.ObjectsListed, inspected, le, true)
}

// headJob is a row whose object is HEADed.
type headJob struct {
	row     inventory.Row
	fromRow snapshot.Object // the record the row alone gives
	enc     inventory.Encryption
	sampled bool // a cross-check, not only for the key id
}

// read streams every data file of the manifest: each is staged in a
// temporary file and checked against the manifest before its rows are
// used. emit gets each row's record, or a HEAD job for it.
func (c *invCensus) read(ctx context.Context, emit func(snapshot.Object, *headJob) error) error {
	for _, f := range c.st.m.Files {
		if err := c.readFile(ctx, f, emit); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func (c *invCensus) readFile(ctx context.Context, f inventory.File, emit func(snapshot.Object, *headJob) error) error {
	s, dest := c.s, c.st.src.DestBucket
	tmp, err := os.CreateTemp("", "sseaudit-inventory-*")
	if err != nil {
		return fmt.Errorf("stage data file %s: %w", f.Key, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := s.do(ctx, func(ctx context.Context) error {
		if err := tmp.Truncate(0); err != nil {
			return err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		rc, _, err := s.cfg.Client.GetObjectStream(ctx, dest, f.Key, nil)
		if err != nil {
			return err
		}
		defer rc.Close()
		return inventory.Copy(tmp, rc, f)
	}); err != nil {
		if te, ok := client.AsError(err); ok && (te.StatusCode == 404 || te.Code == "NoSuchKey") {
			return fmt.Errorf("%w: the manifest %s/%s names data file %s, which is not there (%s): the report is incomplete", inventory.ErrInvalid, dest, c.st.key, f.Key, te.Code)
		}
		return fmt.Errorf("data file %s/%s: %w", dest, f.Key, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("stage data file %s: %w", f.Key, err)
	}
	r, err := inventory.OpenData(tmp, f, c.st.m)
	if err != nil {
		return err
	}
	defer r.Close()
	var row inventory.Row
	for {
		err := r.Next(&row)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if row.Bucket != c.st.src.Bucket {
			return fmt.Errorf("%w: data file %s holds a row of bucket %q, not %q", inventory.ErrInvalid, f.Key, row.Bucket, c.st.src.Bucket)
		}
		if row.IsDeleteMarker || (!row.IsLatest && !c.versions) || !s.cfg.Shard.OwnsObject(row.Bucket, row.Key) {
			continue
		}
		o, job := c.row(&row)
		if err := emit(o, job); err != nil {
			return err
		}
	}
}

// row makes the record a row gives and decides whether its object is
// HEADed (for its KMS key, or as part of the sample).
func (c *invCensus) row(r *inventory.Row) (snapshot.Object, *headJob) {
	b := c.st.src.Bucket
	// LastModified to the second, as a HEAD's Last-Modified header gives
	// it, so both censuses record the same time.
	o := snapshot.Object{Bucket: b, Key: r.Key, Size: r.Size, ETag: r.ETag, LastModified: r.LastModified.Truncate(time.Second),
		StorageClass: r.StorageClass, VersionID: r.VersionID, Noncurrent: c.versions && !r.IsLatest}
	enc := r.Encryption(c.dialect)
	needKey := false
	switch enc {
	case inventory.EncNone:
		o.Method = snapshot.MethodNone
	case inventory.EncManaged:
		o.SSE, o.Method = "AES256", snapshot.MethodOSSManaged
	case inventory.EncCustomer:
		o.SSE, o.Method = SSECAlgorithm, snapshot.MethodSSEC
	case inventory.EncKMS, inventory.EncDSSEKMS, inventory.EncEncrypted:
		needKey = true
		o.Method = snapshot.MethodUnknown
		o.SSE = map[inventory.Encryption]string{inventory.EncKMS: "KMS", inventory.EncDSSEKMS: "aws:kms:dsse"}[enc]
		o.Error = &snapshot.Error{Scope: "object", Resource: b + "/" + r.Key, Code: "KeyNotInInventory", Message: fmt.Sprintf(
			"the inventory says %s but not with which key or method, and the object was not in the HEAD sample (key ids %s): its key and the key's state are unknown",
			r.EncryptionStatus, c.st.src.KeyIDs)}
	default:
		o.Method = snapshot.MethodUnknown
		o.Error = &snapshot.Error{Scope: "object", Resource: b + "/" + r.Key, Code: "NoEncryptionStatus",
			Message: fmt.Sprintf("the inventory's EncryptionStatus %q says neither encrypted nor not", r.EncryptionStatus)}
	}
	sampled := c.threshold > 0 && xxhash.Sum64String(c.seed+"\x00"+r.Key+"\x00"+r.VersionID) <= c.threshold
	if sampled || (needKey && c.st.src.KeyIDs == InventoryKeysHead) {
		return o, &headJob{row: *r, fromRow: o, enc: enc, sampled: sampled}
	}
	return o, nil
}

// head HEADs a job's object and, for a sampled one, compares it with the
// report.
func (c *invCensus) head(ctx context.Context, j headJob) snapshot.Object {
	o := c.s.inspect(ctx, j.fromRow.Bucket, c.region, client.VersionSummary{
		ObjectSummary: client.ObjectSummary{Key: j.row.Key, Size: j.row.Size, ETag: j.row.ETag, LastModified: j.row.LastModified, StorageClass: j.row.StorageClass},
		VersionID:     j.row.VersionID, IsLatest: j.row.IsLatest,
	}, c.versions)
	// Every HEAD cross-checks the report, not only the sampled ones.
	if o.Error != nil {
		if j.sampled && o.Error.StatusCode == 404 && j.fromRow.Error == nil {
			return j.fromRow // deleted since the report: keep what it saw
		}
		return o
	}
	unchanged := !o.LastModified.After(c.st.m.Created)
	if j.row.ETag != "" && o.ETag != "" {
		unchanged = strings.EqualFold(j.row.ETag, o.ETag)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sampled++
	if unchanged && !agrees(j.enc, o.SSE) {
		c.mismatches++
		if c.example == "" {
			c.example = fmt.Sprintf("%s: inventory %q, live %q", j.row.Key, j.row.EncryptionStatus, o.SSE)
		}
	}
	return o
}

// agrees reports whether the live algorithm (normalised as the client
// gives it) is what the report's status says.
func agrees(e inventory.Encryption, sse string) bool {
	switch e {
	case inventory.EncNone:
		return sse == ""
	case inventory.EncManaged:
		return sse == "AES256"
	case inventory.EncKMS:
		return sse == "KMS"
	case inventory.EncEncrypted, inventory.EncDSSEKMS, inventory.EncCustomer:
		return sse != ""
	}
	return true
}

func joinKey(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}
