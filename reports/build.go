package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/snapshot"
)

// ToolName is the producer named in every report.
const ToolName = "sseaudit"

// ModelInput is what BuildModel assembles a Model from.
type ModelInput struct {
	// SnapshotPath is the snapshot.json the findings were evaluated on. It
	// may be empty (provenance then comes from the findings document only,
	// and there are no per-bucket statistics).
	SnapshotPath string
	// Summary is SnapshotPath's summary as the caller read it already
	// (snapshot.ReadHeaders or ReadSummary), so that a run does not hold
	// two copies of every bucket record; nil: BuildModel reads it.
	// BuildModel does not change it.
	Summary *snapshot.Summary
	// Findings is the findings document of the scan; nil means none.
	Findings *findings.Document
	// Conformance is the conformance run, when one ran.
	Conformance *results.Run
	// Trend holds earlier scans, oldest first, the current one last.
	Trend []TrendPoint
	// ToolVersion is the running sseaudit's version (from the build's VCS
	// information); every format names it as the producer. Empty means
	// "unknown": it is never borrowed from the snapshot, which may have been
	// taken by another version (that one is Provenance.ScanToolVersion).
	ToolVersion string
	// Outcome is the run's verdict as the CLI's exit code gives it. It
	// becomes Model.Outcome and the findings document's outcome, so every
	// format carries the same verdict; nil keeps the findings document's
	// own outcome (nil when it has none).
	Outcome *findings.Outcome
	// Now is the clock for GeneratedAt; nil means time.Now.
	Now func() time.Time
	// Flagged counts the objects an open aggregated finding names that
	// would otherwise be compliant (findings.Aggregator.Flagged). The
	// compliance count needs it when the findings aggregate objects: an
	// aggregate says how many objects, not which.
	Flagged map[findings.FlaggedKey]findings.FlaggedCount
}

// BuildModel assembles the report model: provenance (snapshot digest
// "sha256:<hex>", the findings document's policy digest), per-bucket
// statistics from a streamed walk of the snapshot (memory is bounded by the
// largest bucket), open findings per bucket and coverage. The findings
// document is copied with its findings sorted (findings.Sort) and its
// summary recomputed; in.Findings is not modified.
//
// Per bucket: Objects is the larger of the objects listed and the objects
// in the file; every object falls in exactly one of Encrypted (method other
// than none and unknown), Unencrypted (method none) and Unknown (method
// unknown or empty, HEAD failed, or listed but never inspected), and
// ByMethod counts the same objects by method (unknown for the last three
// cases), so Objects = Encrypted + Unencrypted + Unknown = sum(ByMethod).
// Noncurrent versions (scan --versions) are counted in NoncurrentVersions
// and NoncurrentUnencrypted only. Each bucket lists the KMS keys it uses
// with their state (from the snapshot's keys), and the compliance headline
// is computed as Compliance documents (nil when the findings document names
// no rule: nothing was judged).
func BuildModel(ctx context.Context, in ModelInput) (*Model, error) {
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	m := &Model{
		Schema:      ModelSchema,
		GeneratedAt: now().UTC(),
		Tool:        Tool{Name: ToolName, Version: in.ToolVersion},
		Conformance: in.Conformance,
		Outcome:     cloneOutcome(in.Outcome),
		Buckets:     []BucketStat{},
		Trend:       slices.Clone(in.Trend),
	}
	if m.Tool.Version == "" {
		m.Tool.Version = UnknownVersion
	}
	m.Findings = copyDocument(in.Findings)
	d := m.Findings
	if m.Outcome == nil {
		m.Outcome = cloneOutcome(d.Outcome)
	}
	d.Outcome = m.Outcome
	m.Provenance = Provenance{
		ScanID:       d.Scan.ScanID,
		StartedAt:    d.Scan.StartedAt,
		FinishedAt:   d.Scan.FinishedAt,
		Complete:     d.Scan.Complete,
		Regions:      slices.Clone(d.Scan.Regions),
		PolicyDigest: d.PolicyDigest,
		Target:       snapshot.Target{Kind: d.Scan.TargetKind, Dialect: d.Scan.Dialect, Endpoint: d.Scan.Endpoint},

		ScanToolVersion: d.Scan.ToolVersion,
	}
	if in.SnapshotPath == "" {
		return m, ctx.Err()
	}

	// The headers only: the objects are decoded (and checked as
	// ReadSummary checks them) once, by the StreamObjects below.
	sum := in.Summary
	if sum == nil {
		s, err := snapshot.ReadHeaders(in.SnapshotPath)
		if err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		sum = &s
	}
	digest, err := snapshot.Digest(in.SnapshotPath)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	p := &m.Provenance
	p.SnapshotDigest = "sha256:" + digest
	p.ScanID = sum.Provenance.ScanID
	p.StartedAt = sum.Provenance.StartedAt
	p.FinishedAt = sum.FinishedAt
	p.Complete = sum.Complete
	p.Target = sum.Provenance.Target
	p.Regions = slices.Clone(sum.Provenance.Regions)
	if p.PolicyDigest == "" {
		p.PolicyDigest = sum.Provenance.PolicyDigest
	}
	if sum.Provenance.ToolVersion != "" {
		p.ScanToolVersion = sum.Provenance.ToolVersion
	}
	m.Coverage = sum.Coverage
	if m.Coverage.Errors == nil {
		m.Coverage.Errors = []snapshot.Error{}
	}

	// Sized once: growing by appends held the old and the new array at
	// once (100,000 buckets: about 50 MB more at the peak).
	m.Buckets = make([]BucketStat, 0, len(sum.Buckets))

	// One pass over the findings (a spilled document is read back).
	open := map[string]int{}
	j, _ := newJudgeOf(&findings.Document{}, sum.Keys)
	err = d.Each(func(f *findings.Finding) error {
		countOpen(open, f)
		j.addFinding(f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	j.flagged(in.Flagged)
	var c Compliance
	// One object at a time: memory holds the buckets' statistics, not
	// their objects.
	var cur *bucketBuilder
	at := -1
	start := func(i int) error {
		if i >= len(sum.Buckets) {
			return fmt.Errorf("%w: more buckets than the summary read before (the file changed?)", snapshot.ErrFormat)
		}
		at, cur = i, newBucketBuilder(&sum.Buckets[i], j)
		return ctx.Err()
	}
	err = snapshot.StreamObjects(in.SnapshotPath, true, snapshot.ObjectVisitor{
		Object: func(i int, _ []byte, _ int64, o *snapshot.Object) error {
			if i != at {
				if err := start(i); err != nil {
					return err
				}
			}
			cur.object(o)
			return nil
		},
		EndBucket: func(i int, h *snapshot.Bucket) error {
			if i != at {
				if err := start(i); err != nil {
					return err
				}
			}
			st := cur.finish(h)
			st.OpenFindings = open[h.Name]
			c.add(&st)
			m.Buckets = append(m.Buckets, st)
			at = -1
			return nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	if len(d.Rules) > 0 {
		c.Threshold = ComplianceThreshold.String()
		m.Compliance = &c
	}
	return m, nil
}

// UnknownVersion is the tool version a report names when ModelInput gives
// none.
const UnknownVersion = "unknown"

// cloneOutcome is a deep copy of o (nil for nil).
func cloneOutcome(o *findings.Outcome) *findings.Outcome {
	if o == nil {
		return nil
	}
	c := *o
	c.Reasons = slices.Clone(o.Reasons)
	c.Gaps = slices.Clone(o.Gaps)
	if c.Reasons == nil {
		c.Reasons = []string{}
	}
	if c.Gaps == nil {
		c.Gaps = []findings.Gap{}
	}
	return &c
}

// copyDocument returns a shallow copy of d with its own, sorted findings
// slice and a fresh summary; an empty document when d is nil.
func copyDocument(d *findings.Document) *findings.Document {
	var c findings.Document
	if d != nil {
		c = *d
	}
	c.Schema = findings.SchemaVersion
	if c.Rules == nil {
		c.Rules = []findings.RuleMeta{}
	}
	if c.Spill != nil {
		// Spilled findings are sorted as they were written (the spill
		// sorts): the copy shares them.
		c.Findings = nil
		c.Summary = c.Summarized()
		return &c
	}
	c.Findings = slices.Clone(c.Findings)
	if c.Findings == nil {
		c.Findings = []findings.Finding{}
	}
	findings.Sort(c.Findings)
	c.Summary = findings.Summarize(c.Findings)
	return &c
}

// countOpen counts f in open when it is an open finding about a bucket.
func countOpen(open map[string]int, f *findings.Finding) {
	if f.Suppressed || f.Resource.Bucket == "" {
		return
	}
	switch f.Resource.Type {
	case findings.ResourceBucket, findings.ResourceObject, findings.ResourceObjects:
		open[f.Resource.Bucket]++
	}
}

// bucketBuilder computes a bucket's BucketStat one object at a time, with
// its compliance counts when it has a judge.
type bucketBuilder struct {
	st      BucketStat
	j       *judge
	jb      *judgedBucket
	objects int64 // records
}

func newBucketBuilder(b *snapshot.Bucket, j *judge) *bucketBuilder {
	x := &bucketBuilder{st: BucketStat{Name: b.Name, Region: b.Region, ByMethod: map[string]int{}}, j: j}
	st := &x.st
	switch {
	case b.EncryptionError != nil:
		st.DefaultMethod = snapshot.MethodUnknown
	case b.Encryption == nil:
		st.DefaultMethod = snapshot.MethodNone
	default:
		st.DefaultMethod = b.Encryption.Method
		if st.DefaultMethod == "" {
			st.DefaultMethod = snapshot.MethodUnknown
		}
		st.DefaultKeyID = b.Encryption.KMSMasterKeyID
		st.DefaultAlgorithm = b.Encryption.Algorithm
		st.DefaultDataEncryption = b.Encryption.KMSDataEncryption
	}
	st.Versioning = b.Versioning
	if j != nil {
		x.jb = j.startBucket(b)
	}
	return x
}

// object counts one object of the bucket.
func (x *bucketBuilder) object(o *snapshot.Object) {
	st := &x.st
	x.objects++
	if x.j != nil {
		x.j.object(x.jb, st, o)
	}
	method := o.Method
	if o.Error != nil || method == "" {
		method = snapshot.MethodUnknown
	}
	if o.Noncurrent {
		st.NoncurrentVersions++
		if method == snapshot.MethodNone {
			st.NoncurrentUnencrypted++
		}
		return
	}
	st.ByMethod[method]++
	if method != snapshot.MethodUnknown {
		st.countEncryption(method, o.SSE, o.DataEncryption)
	}
	switch method {
	case snapshot.MethodUnknown:
		st.Unknown++
	case snapshot.MethodNone:
		st.Unencrypted++
	default:
		st.Encrypted++
	}
}

// finish completes the statistics with the bucket's counts (b is its
// header as read after its objects).
func (x *bucketBuilder) finish(b *snapshot.Bucket) BucketStat {
	st := &x.st
	st.Objects = x.objects - st.NoncurrentVersions
	if missing := b.ObjectsListed - x.objects; missing > 0 {
		// Listed but never inspected: the state is unknown.
		st.Objects += missing
		st.Unknown += missing
		st.ByMethod[snapshot.MethodUnknown] += int(missing)
	}
	sort.SliceStable(st.Encryption, func(i, j int) bool { return st.Encryption[i].Objects > st.Encryption[j].Objects })
	if x.j != nil {
		x.j.finishBucket(x.jb, b, st)
	}
	return x.st
}

// bucketStat is the statistics of a bucket that carries its objects,
// without the compliance counts.
func bucketStat(b *snapshot.Bucket) BucketStat {
	x := newBucketBuilder(b, nil)
	for i := range b.Objects {
		x.object(&b.Objects[i])
	}
	return x.finish(b)
}

// countEncryption counts one current object under its encryption.
func (st *BucketStat) countEncryption(method, algorithm, dataEnc string) {
	for i := range st.Encryption {
		e := &st.Encryption[i]
		if e.Method == method && e.Algorithm == algorithm && e.DataEncryption == dataEnc {
			e.Objects++
			return
		}
	}
	st.Encryption = append(st.Encryption, EncryptionCount{Method: method, Algorithm: algorithm, DataEncryption: dataEnc, Objects: 1})
}

// WriteJSON writes m as report.json (indented, Schema set to ModelSchema),
// as schemas.Report describes it: empty lists and maps are written empty,
// never null, and a missing tool name or version is filled in.
func (m *Model) WriteJSON(w io.Writer) error {
	c := *m
	c.Schema = ModelSchema
	if c.Findings == nil {
		c.Findings = copyDocument(nil)
	} else {
		fd := *c.Findings
		fd.Schema = findings.SchemaVersion
		c.Findings = &fd
	}
	// One verdict: the model's, in the findings document too.
	c.Outcome = cloneOutcome(outcomeOf(m))
	if c.Outcome != nil {
		c.Findings.Outcome = c.Outcome
	}
	// What Go would write as null, report.json writes as empty, as its
	// schema says (schemas.Report).
	if c.Tool.Name == "" {
		c.Tool.Name = ToolName
	}
	if c.Tool.Version == "" {
		c.Tool.Version = UnknownVersion
	}
	// The buckets and the findings are written one at a time (see
	// writeSplices): an estate of 100,000 buckets must not be one buffer.
	buckets := c.Buckets
	c.Buckets = []BucketStat{}
	if c.Coverage.Errors == nil {
		c.Coverage.Errors = []snapshot.Error{}
	}
	c.Trend = slices.Clone(c.Trend)
	for i := range c.Trend {
		if c.Trend[i].BySeverity == nil {
			c.Trend[i].BySeverity = map[string]int{}
		}
	}
	fs := eachOf(c.Findings)
	nf := fs.d.Len()
	elem, stop := pulled(nf, fs.each)
	defer stop()
	c.Findings.Findings = []findings.Finding{}
	c.Findings.Spill = nil
	head, err := encodeIndented(&c, "")
	if err != nil {
		return fmt.Errorf("reports: encode report.json: %w", err)
	}
	head = append(head, '\n')
	bucket := func(i int) (any, error) {
		b := buckets[i]
		if b.ByMethod == nil {
			b.ByMethod = map[string]int{}
		}
		return &b, nil
	}
	if err := writeSplices(w, head,
		splice{`"buckets": `, len(buckets), bucket},
		splice{`"findings": `, nf, elem}); err != nil {
		return fmt.Errorf("reports: encode report.json: %w", err)
	}
	return nil
}

// ErrModelSchema is wrapped by the error for a report.json of another schema.
var ErrModelSchema = errors.New("reports: unsupported report schema")

// ReadModel reads a report.json written by WriteJSON.
func ReadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	m, err := DecodeModel(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// DecodeModel reads report.json from r strictly: the schema must be
// ModelSchema (and the embedded findings document's findings.SchemaVersion),
// unknown members and trailing data are errors. Numbers in free-form maps
// decode as json.Number, so they re-render exactly.
func DecodeModel(r io.Reader) (*Model, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var m Model
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("reports: decode report.json: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("reports: decode report.json: trailing data")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("reports: decode report.json: trailing data")
	}
	if m.Schema != ModelSchema {
		return nil, fmt.Errorf("%w: %q, want %q", ErrModelSchema, m.Schema, ModelSchema)
	}
	if m.Findings == nil {
		return nil, fmt.Errorf("reports: report.json has no findings document")
	}
	if m.Findings.Schema != findings.SchemaVersion {
		return nil, fmt.Errorf("%w: findings %q, want %q", ErrModelSchema, m.Findings.Schema, findings.SchemaVersion)
	}
	if m.Buckets == nil {
		m.Buckets = []BucketStat{}
	}
	return &m, nil
}
