package scan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sseaudit/sseaudit/snapshot"
)

// A checkpoint lets a scan killed in the middle (SIGKILL, a lost node, a
// Ctrl-C) resume where it stopped, with the result an uninterrupted scan
// would have given. It is a directory (Config.Checkpoint) of two files,
// mode 0600:
//
//   - checkpoint.json, written once, atomically (temporary file, fsync,
//     rename), before anything else: what the scan is (its identity:
//     target, bucket selection, shard, versions, inventory sources, tool
//     version), its scan id and start, and the buckets it lists, with
//     their regions, so a resumed scan reads exactly the same buckets
//     without listing them again;
//   - buckets.log, appended as the snapshot is written: one line per
//     record, "CRC32C-HEX JSON", a bucket's header ("b"), its objects
//     ("o", each with its position in the bucket's listing), its end
//     ("e", with the counts), and "r" where a resumed scan took over a
//     bucket. A bucket's header and end are written through to the file
//     at once (a killed process loses none of them); the file is fsynced
//     (against a crash of the machine) every checkpointEvery objects or
//     checkpointInterval, whichever comes first.
//
// Reading it, every line's checksum is verified and the log is cut at the
// first line that does not verify (a tail torn by a kill or a crash): only
// records verified and in order are reused. Bucket records follow the
// bucket list of checkpoint.json, in order; anything else is a damaged
// checkpoint, refused.
//
// A resumed scan copies every bucket the log holds whole (not a request
// sent for it, the KMS keys its rule and objects name being described
// again at the end like any other), continues the bucket it was in, and
// scans the rest. Objects are inspected concurrently and logged as their
// answers arrive, so the log of a bucket cut short holds a prefix of its
// listing plus some objects beyond it; the resume point is the last key
// up to which every listed object is in the log (for a listing of
// versions, the last key all of whose versions are), found from the
// logged listing positions. The objects past it are dropped (the "r"
// record voids them for later readers) and the listing restarts after
// that key (start-after, key-marker): nothing is inspected twice, and
// nothing is left out.
const (
	checkpointHeaderFile = "checkpoint.json"
	checkpointLogFile    = "buckets.log"
	checkpointFormat     = 1

	// defaultCheckpointEvery and defaultCheckpointInterval bound what a
	// kill inside a large bucket loses: objects since the last sync.
	defaultCheckpointEvery    = 10000
	defaultCheckpointInterval = 2 * time.Second
)

// ResumeInfo is what a resumed scan took from its checkpoint.
type ResumeInfo struct {
	// ScanID and StartedAt are those of the scan that began the census.
	ScanID    string
	StartedAt time.Time
	// Buckets is how many buckets are copied whole from the checkpoint.
	Buckets int
	// Bucket is the bucket the scan continues ("" when it stopped between
	// two buckets), After the key after which its listing resumes ("":
	// from its beginning).
	Bucket, After string
}

// CheckpointError is a checkpoint that cannot be resumed: another scan's,
// or damaged. Its message names the mismatch and the fix.
type CheckpointError struct {
	Dir string
	Msg string
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("--resume: the checkpoint in %s %s", e.Dir, e.Msg)
}

// checkpointIdentity is what must not change between a scan and its
// resumption: the same buckets of the same target read the same way.
type checkpointIdentity struct {
	Target      snapshot.Target   `json:"target"`
	BucketGlob  string            `json:"bucket_glob"`
	Buckets     []string          `json:"buckets"`
	Shard       *snapshot.Shard   `json:"shard"`
	Versions    bool              `json:"versions"`
	Inventory   []InventorySource `json:"inventory"`
	ToolVersion string            `json:"tool_version"`
	ReadProbe   string            `json:"read_probe,omitempty"`
}

func identityOf(cfg *Config) checkpointIdentity {
	id := checkpointIdentity{Target: cfg.TargetInfo, BucketGlob: cfg.BucketGlob, Buckets: slices.Clone(cfg.Buckets),
		Shard: cfg.Shard, Versions: cfg.Versions, Inventory: slices.Clone(cfg.Inventory), ToolVersion: cfg.ToolVersion,
		ReadProbe: cfg.ReadProbe.String()}
	if id.Buckets == nil {
		id.Buckets = []string{}
	}
	if id.Inventory == nil {
		id.Inventory = []InventorySource{}
	}
	return id
}

// mismatch says how the checkpoint's identity (was) differs from this
// scan's (now), "" when it does not.
func (was checkpointIdentity) mismatch(now checkpointIdentity) string {
	shard := func(s *snapshot.Shard) string {
		if s == nil {
			return "none (every bucket)"
		}
		if s.Split != "" {
			return fmt.Sprintf("%d/%d split %q", s.Index, s.Count, s.Split)
		}
		return fmt.Sprintf("%d/%d", s.Index, s.Count)
	}
	js := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	switch {
	case was.Target.Kind != now.Target.Kind || was.Target.Dialect != now.Target.Dialect || was.Target.Endpoint != now.Target.Endpoint:
		return fmt.Sprintf("target %s %s %s, this scan's is %s %s %s", was.Target.Kind, was.Target.Dialect, was.Target.Endpoint, now.Target.Kind, now.Target.Dialect, now.Target.Endpoint)
	case was.Target.Principal != now.Target.Principal:
		return fmt.Sprintf("principal (access key id) %q, this scan's is %q", was.Target.Principal, now.Target.Principal)
	case was.Target.KMSEndpoint != now.Target.KMSEndpoint:
		return fmt.Sprintf("--kms-endpoint %q, this scan's is %q", was.Target.KMSEndpoint, now.Target.KMSEndpoint)
	case was.BucketGlob != now.BucketGlob || !slices.Equal(was.Buckets, now.Buckets):
		return fmt.Sprintf("bucket filter --buckets %q, this scan's is %q", was.BucketGlob, now.BucketGlob)
	case shard(was.Shard) != shard(now.Shard):
		return fmt.Sprintf("shard %s, this scan's is %s", shard(was.Shard), shard(now.Shard))
	case was.Versions != now.Versions:
		return fmt.Sprintf("--versions=%v, this scan's is --versions=%v", was.Versions, now.Versions)
	case js(was.Inventory) != js(now.Inventory):
		return fmt.Sprintf("inventory sources %s, this scan's are %s", js(was.Inventory), js(now.Inventory))
	case was.ToolVersion != now.ToolVersion:
		return fmt.Sprintf("was written by sseaudit %q, this is %q", was.ToolVersion, now.ToolVersion)
	}
	return ""
}

// checkpointHeader is checkpoint.json.
type checkpointHeader struct {
	Format    int                `json:"format"`
	Identity  checkpointIdentity `json:"identity"`
	ScanID    string             `json:"scan_id"`
	StartedAt time.Time          `json:"started_at"`
	Buckets   []checkpointBucket `json:"buckets"`
	ListError *snapshot.Error    `json:"list_error,omitempty"`
}

// checkpointBucket is a bucket to scan as the listing gave it.
type checkpointBucket struct {
	Name         string          `json:"name"`
	Region       string          `json:"region,omitempty"`
	CreationDate time.Time       `json:"creation_date"`
	RegionError  *snapshot.Error `json:"region_error,omitempty"`
}

// record is one line of buckets.log.
type record struct {
	T string `json:"t"` // "b" bucket header, "o" object, "e" bucket end, "r" resumed
	// "b"
	B *snapshot.Bucket `json:"b,omitempty"`
	// "o": the object and its position in the bucket's listing (of this
	// segment: since the bucket's "b" or its last "r").
	S int64            `json:"s,omitempty"`
	O *snapshot.Object `json:"o,omitempty"`
	// "e"
	Listed    int64           `json:"l,omitempty"`
	Inspected int64           `json:"i,omitempty"`
	ListError *snapshot.Error `json:"le,omitempty"`
	// "r": the scan that resumed, and the key up to which the objects
	// logged before are kept (absent: none are).
	ScanID string  `json:"scan_id,omitempty"`
	After  *string `json:"after,omitempty"`
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// decodeRecord verifies and parses one line (with its newline).
func decodeRecord(line []byte) (record, bool) {
	var r record
	if len(line) < 11 || line[8] != ' ' || line[len(line)-1] != '\n' {
		return r, false
	}
	var sum [4]byte
	if _, err := hex.Decode(sum[:], line[:8]); err != nil {
		return r, false
	}
	js := line[9 : len(line)-1]
	if crc32.Checksum(js, crcTable) != uint32(sum[0])<<24|uint32(sum[1])<<16|uint32(sum[2])<<8|uint32(sum[3]) {
		return r, false
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, false
	}
	ok := false
	switch r.T {
	case "b":
		ok = r.B != nil && r.B.Name != ""
	case "o":
		ok = r.O != nil && r.S >= 0
	case "e", "r":
		ok = true
	}
	return r, ok
}

// bound is where a segment of a bucket's log ends: its objects with keys
// up to key are kept (none when !ok).
type bound struct {
	key string
	ok  bool
}

func (b bound) keeps(key string) bool { return b.ok && key <= b.key }

// segment tracks one segment's listing positions, to find its resume
// point: the objects at positions 0..next-1 are all logged.
type segment struct {
	next            int64
	pending         map[int64]string
	lastKey, prevKy string
	hasPrev         bool
}

func (g *segment) add(seq int64, key string) bool {
	if seq < g.next {
		return false
	}
	if _, dup := g.pending[seq]; dup {
		return false
	}
	if g.pending == nil {
		g.pending = map[int64]string{}
	}
	g.pending[seq] = key
	for {
		k, ok := g.pending[g.next]
		if !ok {
			return true
		}
		delete(g.pending, g.next)
		if g.next > 0 && k != g.lastKey {
			g.prevKy, g.hasPrev = g.lastKey, true
		}
		g.lastKey = k
		g.next++
	}
}

// end is the segment's resume point, or prev when it has none: a plain
// listing is whole up to its last contiguous key; a listing of versions
// only up to the key before it (more versions of the last key may come).
func (g *segment) end(versions bool, prev bound) bound {
	switch {
	case g.next == 0:
		return prev
	case !versions:
		return bound{g.lastKey, true}
	case g.hasPrev:
		return bound{g.prevKy, true}
	}
	return prev
}

// loggedBucket is a bucket in the log: its records from off, and the
// bound of each segment but the last (a complete bucket keeps its last
// segment whole).
type loggedBucket struct {
	hb     snapshot.Bucket
	off    int64
	bounds []bound
}

// checkpointState is a checkpoint as read and verified.
type checkpointState struct {
	dir     string
	hdr     checkpointHeader
	done    []loggedBucket
	partial *loggedBucket // the bucket cut short; bounds has one per segment
	// validEnd is the length of the verified log; size the file's.
	validEnd, size int64
}

// readCheckpoint reads and verifies dir's checkpoint against this scan's
// identity: nil (and no error) when there is none.
func readCheckpoint(dir string, id checkpointIdentity) (*checkpointState, error) {
	raw, err := os.ReadFile(filepath.Join(dir, checkpointHeaderFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	damaged := func(format string, args ...any) error {
		return &CheckpointError{Dir: dir, Msg: "is damaged (" + fmt.Sprintf(format, args...) + "): run without --resume to start over"}
	}
	if err != nil {
		return nil, damaged("%v", err)
	}
	st := &checkpointState{dir: dir}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st.hdr); err != nil {
		return nil, damaged("%s: %v", checkpointHeaderFile, err)
	}
	if st.hdr.Format != checkpointFormat {
		return nil, &CheckpointError{Dir: dir, Msg: fmt.Sprintf("has format %d, this sseaudit reads format %d: run without --resume to start over", st.hdr.Format, checkpointFormat)}
	}
	if m := st.hdr.Identity.mismatch(id); m != "" {
		return nil, &CheckpointError{Dir: dir, Msg: "belongs to another scan: its " + m + ": resume with the flags it was started with, or run without --resume to start over"}
	}
	f, err := os.Open(filepath.Join(dir, checkpointLogFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil // killed before the first bucket
	}
	if err != nil {
		return nil, damaged("%v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, damaged("%v", err)
	}
	st.size = fi.Size()
	br := bufio.NewReaderSize(f, 256<<10)
	var off int64
	var cur *loggedBucket
	var seg segment
	var prev bound // the bound of the segment before the current one
	for {
		line, err := br.ReadBytes('\n')
		r, ok := decodeRecord(line)
		if err != nil || !ok {
			break // end of the log, or its torn tail
		}
		switch {
		case r.T == "b" && cur == nil:
			i := len(st.done)
			if i >= len(st.hdr.Buckets) || st.hdr.Buckets[i].Name != r.B.Name {
				return nil, damaged("bucket %q logged out of the order of %s", r.B.Name, checkpointHeaderFile)
			}
			cur = &loggedBucket{hb: *r.B, off: off}
			seg, prev = segment{}, bound{}
		case r.T == "o" && cur != nil:
			if r.O.Bucket != cur.hb.Name || !seg.add(r.S, r.O.Key) {
				return nil, damaged("object %q at position %d of bucket %q logged twice or in another bucket", r.O.Key, r.S, cur.hb.Name)
			}
		case r.T == "r" && cur != nil:
			b := bound{}
			if r.After != nil {
				b = bound{*r.After, true}
			}
			cur.bounds = append(cur.bounds, b)
			seg, prev = segment{}, b
		case r.T == "e" && cur != nil:
			st.done = append(st.done, *cur)
			cur = nil
		default:
			return nil, damaged("a %q record out of place at byte %d of %s", r.T, off, checkpointLogFile)
		}
		off += int64(len(line))
	}
	st.validEnd = off
	if cur != nil {
		cur.bounds = append(cur.bounds, seg.end(cur.hb.VersionsInspected, prev))
		st.partial = cur
	}
	return st, nil
}

// buckets are the buckets the checkpointed scan lists.
func (st *checkpointState) buckets() []bucketInfo {
	out := make([]bucketInfo, len(st.hdr.Buckets))
	for i, b := range st.hdr.Buckets {
		out[i] = bucketInfo{regionErr: b.RegionError}
		out[i].Name, out[i].Region, out[i].CreationDate = b.Name, b.Region, b.CreationDate
	}
	return out
}

// info describes what a resumption takes from st.
func (st *checkpointState) info() ResumeInfo {
	ri := ResumeInfo{ScanID: st.hdr.ScanID, StartedAt: st.hdr.StartedAt, Buckets: len(st.done)}
	if p := st.partial; p != nil {
		ri.Bucket = p.hb.Name
		if b := p.bounds[len(p.bounds)-1]; b.ok {
			ri.After = b.key
		}
	}
	return ri
}

// resumeAfter is the partial bucket's resume point.
func (p *loggedBucket) resumeAfter() bound { return p.bounds[len(p.bounds)-1] }

// eachObject passes the objects of b kept by its bounds to fn (complete:
// its last segment is kept whole), and returns its end record.
func (st *checkpointState) eachObject(b *loggedBucket, complete bool, fn func(snapshot.Object) error) (record, error) {
	f, err := os.Open(filepath.Join(st.dir, checkpointLogFile))
	if err != nil {
		return record{}, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(b.off, io.SeekStart); err != nil {
		return record{}, fmt.Errorf("checkpoint: %w", err)
	}
	br := bufio.NewReaderSize(io.LimitReader(f, st.validEnd-b.off), 256<<10)
	segIdx := 0
	for first := true; ; first = false {
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 && !complete {
			return record{}, nil
		}
		r, ok := decodeRecord(line)
		if !ok || (first && r.T != "b") {
			return record{}, fmt.Errorf("checkpoint %s: bucket %s: the log changed while it was read", st.dir, b.hb.Name)
		}
		switch r.T {
		case "r":
			segIdx++
		case "e":
			return r, nil
		case "o":
			last := segIdx >= len(b.bounds)
			if (complete && last) || (!last && b.bounds[segIdx].keeps(r.O.Key)) {
				if err := fn(*r.O); err != nil {
					return record{}, err
				}
			}
		}
	}
}

// checkpointLog appends to buckets.log.
type checkpointLog struct {
	dir      string
	f        *os.File
	bw       *bufio.Writer
	every    int
	interval time.Duration
	pending  int
	lastSync time.Time
	err      error
	line     []byte // reused by every append
}

func (l *checkpointLog) append(r *record) error {
	if l.err != nil {
		return l.err
	}
	line, err := appendRecord(l.line[:0], r)
	if err == nil {
		l.line = line
		_, err = l.bw.Write(line)
	}
	if err != nil {
		l.err = fmt.Errorf("checkpoint %s: %w", l.dir, err)
		return l.err
	}
	if r.T != "o" {
		// A bucket's edges reach the file at once, so a killed process
		// loses nothing written; the fsync, which guards against a
		// crash of the machine, waits for the interval: one per bucket
		// made a census of 500 small buckets run at 0.4 of one large
		// bucket's rate.
		if time.Since(l.lastSync) >= l.interval {
			return l.sync()
		}
		return l.flush()
	}
	l.pending++
	if l.pending >= l.every || time.Since(l.lastSync) >= l.interval {
		return l.sync()
	}
	return nil
}

// flush hands what was appended to the operating system (it survives the
// process, not the machine).
func (l *checkpointLog) flush() error {
	if l.err != nil {
		return l.err
	}
	if err := l.bw.Flush(); err != nil {
		l.err = fmt.Errorf("checkpoint %s: %w", l.dir, err)
	}
	return l.err
}

// sync makes what was appended durable.
func (l *checkpointLog) sync() error {
	if err := l.flush(); err != nil {
		return err
	}
	if err := l.f.Sync(); err != nil {
		l.err = fmt.Errorf("checkpoint %s: %w", l.dir, err)
		return l.err
	}
	l.pending, l.lastSync = 0, time.Now()
	return nil
}

func (l *checkpointLog) close() {
	if l != nil && l.f != nil {
		_ = l.sync()
		l.f.Close()
	}
}

func (cfg *Config) newLog(f *os.File) *checkpointLog {
	l := &checkpointLog{dir: cfg.Checkpoint, f: f, bw: bufio.NewWriterSize(f, 64<<10), every: defaultCheckpointEvery,
		interval: defaultCheckpointInterval, lastSync: time.Now()}
	if cfg.checkpointEvery > 0 {
		l.every = cfg.checkpointEvery
	}
	return l
}

// createCheckpoint starts dir afresh (removing an earlier checkpoint) for
// a scan of buckets.
func createCheckpoint(cfg *Config, started time.Time, buckets []bucketInfo, listErr *snapshot.Error) (*checkpointLog, error) {
	dir := cfg.Checkpoint
	fail := func(err error) (*checkpointLog, error) {
		return nil, fmt.Errorf("checkpoint %s: %w (choose another --out, or free the disk)", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	hdr := checkpointHeader{Format: checkpointFormat, Identity: identityOf(cfg), ScanID: cfg.ScanID, StartedAt: started,
		Buckets: make([]checkpointBucket, len(buckets)), ListError: listErr}
	for i, b := range buckets {
		hdr.Buckets[i] = checkpointBucket{Name: b.Name, Region: b.Region, CreationDate: b.CreationDate, RegionError: b.regionErr}
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return fail(err)
	}
	if err := writeFileSync(dir, checkpointHeaderFile, js); err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, checkpointLogFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return fail(err)
	}
	return cfg.newLog(f), nil
}

// reopen continues st's log for a resumption by scanID: the unverified
// tail is cut off, and a partial bucket that must restart (dropPartial:
// an inventory census, which has no listing to resume) is cut off too;
// otherwise an "r" record marks where the bucket resumes.
func (st *checkpointState) reopen(cfg *Config, dropPartial bool) (*checkpointLog, error) {
	fail := func(err error) (*checkpointLog, error) {
		return nil, fmt.Errorf("checkpoint %s: %w", st.dir, err)
	}
	f, err := os.OpenFile(filepath.Join(st.dir, checkpointLogFile), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(err)
	}
	end := st.validEnd
	if dropPartial && st.partial != nil {
		end, st.partial = st.partial.off, nil
	}
	if err := f.Truncate(end); err != nil {
		f.Close()
		return fail(err)
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return fail(err)
	}
	st.validEnd = end
	l := cfg.newLog(f)
	if p := st.partial; p != nil {
		r := &record{T: "r", ScanID: cfg.ScanID}
		if b := p.resumeAfter(); b.ok {
			r.After = &b.key
		}
		if err := l.append(r); err != nil {
			f.Close()
			return nil, err
		}
	}
	return l, nil
}

// RemoveCheckpoint removes the checkpoint in dir (once the scan it holds
// is published, it is of no more use).
func RemoveCheckpoint(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove the checkpoint %s: %w", dir, err)
	}
	return nil
}

// HasCheckpoint reports whether dir holds a checkpoint.
func HasCheckpoint(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, checkpointHeaderFile))
	return err == nil
}

func writeFileSync(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, name))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// sink is where the scan's buckets go: the snapshot, and the checkpoint's
// log when there is one. Nothing is logged once the scan is cancelled or
// has failed (ctx ended): what is written then (objects and buckets "not
// inspected") is not a result to resume from.
type sink struct {
	w      *snapshot.Writer
	ck     *checkpointLog
	ctx    context.Context
	frozen bool
}

func (k *sink) logging(log bool) bool {
	if k.ck == nil || !log || k.frozen {
		return false
	}
	if k.ctx.Err() != nil {
		k.frozen = true
		return false
	}
	return true
}

func (k *sink) beginBucket(hb snapshot.Bucket, log bool) error {
	if err := k.w.BeginBucket(hb); err != nil {
		return err
	}
	if k.logging(log) {
		hb.Objects = nil
		return k.ck.append(&record{T: "b", B: &hb})
	}
	return nil
}

// object writes o, at position seq of its bucket's listing.
func (k *sink) object(o snapshot.Object, seq int64, log bool) error {
	if err := k.w.Object(o); err != nil {
		return err
	}
	if k.logging(log) {
		return k.ck.append(&record{T: "o", S: seq, O: &o})
	}
	return nil
}

func (k *sink) endBucket(listed, inspected int64, le *snapshot.Error, log bool) error {
	if err := k.w.EndBucket(listed, inspected, le); err != nil {
		return err
	}
	if k.logging(log) {
		return k.ck.append(&record{T: "e", Listed: listed, Inspected: inspected, ListError: le})
	}
	return nil
}

// copyBucket writes bucket b, complete in the checkpoint, from its log:
// nothing is requested but the KMS keys its rule and objects name (each
// described once, as a scan does), and its errors count in coverage as
// when it was read.
func (s *scanner) copyBucket(ctx context.Context, k *sink, st *checkpointState, b *loggedBucket, info bucketInfo) (snapshot.Bucket, error) {
	hb := b.hb
	region := s.regionOf(info)
	s.replayHeader(ctx, region, &hb)
	if err := k.beginBucket(hb, false); err != nil {
		return hb, err
	}
	var inspected int64
	end, err := st.eachObject(b, true, func(o snapshot.Object) error {
		if s.replayObject(ctx, region, &o) {
			inspected++
		}
		return k.object(o, 0, false)
	})
	if err != nil {
		return hb, err
	}
	if end.T != "e" || end.Inspected != inspected {
		return hb, fmt.Errorf("checkpoint %s: bucket %s: %d objects inspected in the log, its end says %d: run without --resume to start over", st.dir, hb.Name, inspected, end.Inspected)
	}
	if end.ListError != nil {
		s.recordError(*end.ListError)
	}
	hb.ObjectsListed, hb.ObjectsInspected, hb.ListError = end.Listed, end.Inspected, end.ListError
	return hb, k.endBucket(end.Listed, end.Inspected, end.ListError, false)
}

// replayHeader does for a bucket header taken from the checkpoint what
// reading it did: its errors are recorded, its rule's key described.
func (s *scanner) replayHeader(ctx context.Context, region string, hb *snapshot.Bucket) {
	if hb.EncryptionError != nil {
		s.recordError(*hb.EncryptionError)
	}
	if hb.VersioningError != nil && s.cfg.Versions {
		s.recordError(*hb.VersioningError)
	}
	s.replayAccess(hb)
	if r := hb.Encryption; r != nil && r.KMSMasterKeyID != "" {
		s.method(ctx, region, r.Algorithm, r.KMSMasterKeyID)
	}
}

// replayObject does for an object taken from the checkpoint what
// inspecting it did: its error is recorded, its key described. It
// reports whether the object counts as inspected.
func (s *scanner) replayObject(ctx context.Context, region string, o *snapshot.Object) bool {
	if o.Error != nil {
		s.recordError(*o.Error)
		return false
	}
	if o.KMSKeyID != "" {
		s.method(ctx, region, o.SSE, o.KMSKeyID)
	}
	return true
}
