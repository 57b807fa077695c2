package findings

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AffectedFile is the side file of a run's output directory that lists
// every object of every aggregated finding: gzip-compressed JSON lines, one
// AffectedObject per per-object finding. The aggregates in findings.json
// name it (Aggregate.File), and a signed report set lists it in its
// manifest like every other file.
const AffectedFile = "affected-objects.jsonl.gz"

// DefaultSampleSize is how many object keys an aggregate carries.
const DefaultSampleSize = 10

// Aggregate sums up the per-object findings of one rule in one bucket that
// share the rule's distinguishing facts (Resource.Facts).
type Aggregate struct {
	// Objects counts the per-object findings summed up (objects, or object
	// versions for rules on noncurrent versions); Open and Suppressed
	// split them by waiver state.
	Objects    int64 `json:"objects"`
	Open       int64 `json:"open"`
	Suppressed int64 `json:"suppressed"`
	// Bytes is the objects' total size as the snapshot recorded it.
	Bytes int64 `json:"bytes"`
	// OldestLastModified and NewestLastModified bound the objects'
	// LastModified (absent when none was recorded).
	OldestLastModified time.Time `json:"oldest_last_modified,omitzero"`
	NewestLastModified time.Time `json:"newest_last_modified,omitzero"`
	// Sample lists the first objects by key (then version id), at most the
	// aggregator's sample size.
	Sample []AffectedSample `json:"sample"`
	// File is the side file (relative to the findings document) whose
	// lines with "aggregate" equal to this finding's id list every object.
	File string `json:"file"`
}

// AffectedSample is one object of an aggregate's sample.
type AffectedSample struct {
	Key          string    `json:"key"`
	VersionID    string    `json:"version_id,omitempty"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"last_modified,omitzero"`
	Suppressed   bool      `json:"suppressed,omitempty"`
}

// AffectedObject is one line of the side file: one per-object finding.
type AffectedObject struct {
	// ID is the per-object finding's own stable id (ID over the rule and
	// the object resource), as scan history records it.
	ID string `json:"id"`
	// Aggregate is the id of the aggregated finding that counts it.
	Aggregate    string         `json:"aggregate"`
	Rule         string         `json:"rule"`
	Bucket       string         `json:"bucket"`
	Key          string         `json:"key"`
	VersionID    string         `json:"version_id,omitempty"`
	Size         int64          `json:"size"`
	LastModified time.Time      `json:"last_modified,omitzero"`
	ETag         string         `json:"etag"`
	Method       string         `json:"method"`
	KMSKeyID     string         `json:"kms_key_id,omitempty"`
	Noncurrent   bool           `json:"noncurrent,omitempty"`
	Message      string         `json:"message"`
	Suppressed   bool           `json:"suppressed"`
	Waiver       *AppliedWaiver `json:"waiver,omitempty"`
	FirstSeen    time.Time      `json:"first_seen"`
}

// ObjectInfo is what the snapshot recorded of the object a per-object
// finding names.
type ObjectInfo struct {
	// Found: the object is in the evaluated snapshot (a user rule may name
	// another); the other fields are zero when it is not.
	Found        bool
	Size         int64
	LastModified time.Time
	ETag         string
	Method       string
	KMSKeyID     string
	Noncurrent   bool
	// Failed: its HEAD failed (the record carries an error).
	Failed bool
}

// ObjectFinding is a per-object finding (resource type object, waivers
// applied, first seen set) with the object it names.
type ObjectFinding struct {
	Finding Finding
	Object  ObjectInfo
}

// FlaggedKey and FlaggedCount count the objects a compliance count must not
// take as compliant although they are current, read and encrypted: an open
// finding names them. Worst is the highest severity of their open
// findings; KMSKeyID the key they are encrypted under ("" for none), whose
// state the count also depends on.
type FlaggedKey struct {
	Bucket   string
	KMSKeyID string
	Worst    Severity
}

// FlaggedCount is the objects and bytes of one FlaggedKey.
type FlaggedCount struct{ Objects, Bytes int64 }

// AggregatorOptions configure an Aggregator.
type AggregatorOptions struct {
	// AggregateBy maps a rule id to the members of its findings' observed
	// whose values split its aggregates (RuleMeta.AggregateBy).
	AggregateBy map[string][]string
	// File is the side file's name recorded in each aggregate (default
	// AffectedFile).
	File string
	// SampleSize bounds each aggregate's sample (default
	// DefaultSampleSize).
	SampleSize int
	// Seen is the aggregates' last seen time (the scan's).
	Seen time.Time
}

// AggregateByOf collects the rules' AggregateBy for AggregatorOptions.
func AggregateByOf(rules []RuleMeta) map[string][]string {
	m := map[string][]string{}
	for _, r := range rules {
		if len(r.AggregateBy) > 0 {
			m[r.ID] = slices.Clone(r.AggregateBy)
		}
	}
	return m
}

// Aggregator turns per-object findings, as they stream out of an
// evaluation, into one finding per rule, bucket and distinguishing facts,
// and writes each per-object finding as one line of the side file in the
// order it was given (so the file is as deterministic as its input). Its
// memory holds the aggregates, not the objects. It is for one goroutine.
type Aggregator struct {
	opts    AggregatorOptions
	gz      *gzip.Writer
	bw      *bufio.Writer
	groups  map[string]*aggGroup
	flushed map[string]struct{} // group keys Flush returned
	flagged map[FlaggedKey]FlaggedCount
	waivers map[AppliedWaiver][]byte
	line    []byte
	lines   int64
	err     error
	closed  bool
}

type aggGroup struct {
	id      string
	res     Resource
	agg     Aggregate
	sample  []AffectedSample
	open    *Finding // the open object first by key, and its key
	openK   objKey
	waived  *Finding // the suppressed object first by key
	waivedK objKey
	first   time.Time
}

type objKey struct{ key, version string }

func (a objKey) less(b objKey) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	return a.version < b.version
}

// NewAggregator writes the side file to w (gzip-compressed; w is not
// closed).
func NewAggregator(w io.Writer, opts AggregatorOptions) *Aggregator {
	if opts.File == "" {
		opts.File = AffectedFile
	}
	if opts.SampleSize <= 0 {
		opts.SampleSize = DefaultSampleSize
	}
	// No name and no time in the gzip header: the same findings give the
	// same bytes.
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return &Aggregator{
		opts: opts, gz: gz, bw: bufio.NewWriterSize(gz, 256<<10),
		groups: map[string]*aggGroup{}, flushed: map[string]struct{}{}, flagged: map[FlaggedKey]FlaggedCount{},
		waivers: map[AppliedWaiver][]byte{},
	}
}

// AddObjects adds a batch of per-object findings; the findings of one object
// must be next to each other within a batch (an evaluation gives them
// object by object), which is how the compliance count (Flagged) counts
// each object once.
func (a *Aggregator) AddObjects(batch []ObjectFinding) error {
	if a.err != nil {
		return a.err
	}
	if a.closed {
		return errors.New("findings: aggregator is closed")
	}
	var cur objKey
	curBucket := ""
	var worst Severity
	var info *ObjectInfo
	flush := func() {
		if info == nil || worst == 0 {
			return
		}
		if info.Found && !info.Noncurrent && !info.Failed && encryptedMethod(info.Method) {
			k := FlaggedKey{Bucket: curBucket, KMSKeyID: info.KMSKeyID, Worst: worst}
			c := a.flagged[k]
			c.Objects++
			c.Bytes += info.Size
			a.flagged[k] = c
		}
	}
	for i := range batch {
		of := &batch[i]
		f := &of.Finding
		if f.Resource.Type != ResourceObject {
			a.err = fmt.Errorf("findings: aggregate: finding %s is about a %s, not an object", f.ID, f.Resource.Type)
			return a.err
		}
		k := objKey{f.Resource.Key, f.Resource.VersionID}
		if info == nil || k != cur || f.Resource.Bucket != curBucket {
			flush()
			cur, curBucket, worst, info = k, f.Resource.Bucket, 0, &of.Object
		}
		if !f.Suppressed && f.Severity > worst {
			worst = f.Severity
		}
		if err := a.add(of); err != nil {
			a.err = err
			return err
		}
	}
	flush()
	return nil
}

// encryptedMethod: the method says the object is encrypted (package
// snapshot's methods other than none and unknown).
func encryptedMethod(m string) bool {
	switch m {
	case "", "none", "unknown":
		return false
	}
	return true
}

func (a *Aggregator) add(of *ObjectFinding) error {
	f := &of.Finding
	o := &of.Object
	facts := a.facts(f)
	gk := groupKey(f.Rule, f.Resource.Bucket, facts)
	g := a.groups[gk]
	if g == nil {
		if _, done := a.flushed[gk]; done {
			return fmt.Errorf("findings: aggregate: rule %s names object %q of bucket %s after that bucket's aggregates were complete (a rule may name only objects of the bucket it is evaluating)", f.Rule, f.Resource.Key, f.Resource.Bucket)
		}
		res := Resource{Type: ResourceObjects, Provider: f.Resource.Provider, Region: f.Resource.Region, Bucket: f.Resource.Bucket, Facts: facts}
		if id, ok := facts["kms_key_id"]; ok {
			res.KMSKeyID = id
		}
		res.UID = res.CanonicalUID()
		g = &aggGroup{id: ID(f.Rule, res), res: res, first: f.FirstSeen}
		g.agg.File = a.opts.File
		a.groups[gk] = g
	}
	g.agg.Objects++
	if f.Suppressed {
		g.agg.Suppressed++
	} else {
		g.agg.Open++
	}
	if o.Found {
		g.agg.Bytes += o.Size
		if lm := o.LastModified; !lm.IsZero() {
			if g.agg.OldestLastModified.IsZero() || lm.Before(g.agg.OldestLastModified) {
				g.agg.OldestLastModified = lm
			}
			if lm.After(g.agg.NewestLastModified) {
				g.agg.NewestLastModified = lm
			}
		}
	}
	if !f.FirstSeen.IsZero() && (g.first.IsZero() || f.FirstSeen.Before(g.first)) {
		g.first = f.FirstSeen
	}
	k := objKey{f.Resource.Key, f.Resource.VersionID}
	g.sampleAdd(AffectedSample{Key: k.key, VersionID: k.version, Size: o.Size, LastModified: o.LastModified, Suppressed: f.Suppressed}, a.opts.SampleSize)
	// The example an aggregate shows is its first object by key, open ones
	// first; only it is kept whole.
	if f.Suppressed {
		if g.waived == nil || k.less(g.waivedK) {
			c := *f
			g.waived, g.waivedK = &c, k
		}
	} else if g.open == nil || k.less(g.openK) {
		c := *f
		g.open, g.openK = &c, k
	}
	return a.writeLine(f, o, g.id)
}

// sampleAdd keeps the n first objects by key and version (sorted).
func (g *aggGroup) sampleAdd(s AffectedSample, n int) {
	k := objKey{s.Key, s.VersionID}
	if len(g.sample) == n && !k.less(objKey{g.sample[n-1].Key, g.sample[n-1].VersionID}) {
		return
	}
	i, _ := slices.BinarySearchFunc(g.sample, k, func(x AffectedSample, k objKey) int {
		xk := objKey{x.Key, x.VersionID}
		switch {
		case xk.less(k):
			return -1
		case k.less(xk):
			return 1
		}
		return 0
	})
	if len(g.sample) == n {
		g.sample = g.sample[:n-1]
	}
	g.sample = slices.Insert(g.sample, i, s)
}

// facts are the values of the rule's aggregate_by members in f.Observed:
// a string as it is, anything else as JSON ("" when absent).
func (a *Aggregator) facts(f *Finding) map[string]string {
	names := a.opts.AggregateBy[f.Rule]
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		switch v := f.Observed[n].(type) {
		case nil:
			m[n] = ""
		case string:
			m[n] = v
		case json.Number:
			m[n] = v.String()
		default:
			b, err := json.Marshal(v)
			if err != nil {
				m[n] = fmt.Sprint(v)
			} else {
				m[n] = string(b)
			}
		}
	}
	return m
}

func groupKey(rule, bucket string, facts map[string]string) string {
	var b strings.Builder
	b.WriteString(rule)
	b.WriteByte(0)
	b.WriteString(bucket)
	for _, k := range slices.Sorted(maps.Keys(facts)) {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(facts[k])
	}
	return b.String()
}

// writeLine appends f's line to the side file (encoded by hand: one line
// per object of millions, in the field order of AffectedObject).
func (a *Aggregator) writeLine(f *Finding, o *ObjectInfo, agg string) error {
	b := a.line[:0]
	b = append(b, `{"id":`...)
	b = appendJSONString(b, f.ID)
	b = append(b, `,"aggregate":`...)
	b = appendJSONString(b, agg)
	b = append(b, `,"rule":`...)
	b = appendJSONString(b, f.Rule)
	b = append(b, `,"bucket":`...)
	b = appendJSONString(b, f.Resource.Bucket)
	b = append(b, `,"key":`...)
	b = appendJSONString(b, f.Resource.Key)
	if f.Resource.VersionID != "" {
		b = append(b, `,"version_id":`...)
		b = appendJSONString(b, f.Resource.VersionID)
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, o.Size, 10)
	if !o.LastModified.IsZero() {
		b = append(b, `,"last_modified":"`...)
		b = o.LastModified.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"etag":`...)
	b = appendJSONString(b, o.ETag)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, o.Method)
	if o.KMSKeyID != "" {
		b = append(b, `,"kms_key_id":`...)
		b = appendJSONString(b, o.KMSKeyID)
	}
	if o.Noncurrent {
		b = append(b, `,"noncurrent":true`...)
	}
	b = append(b, `,"message":`...)
	b = appendJSONString(b, f.Message)
	b = append(b, `,"suppressed":`...)
	b = strconv.AppendBool(b, f.Suppressed)
	if f.Waiver != nil {
		wj, ok := a.waivers[*f.Waiver]
		if !ok {
			var err error
			if wj, err = json.Marshal(f.Waiver); err != nil {
				return fmt.Errorf("findings: affected objects: %w", err)
			}
			a.waivers[*f.Waiver] = wj
		}
		b = append(b, `,"waiver":`...)
		b = append(b, wj...)
	}
	b = append(b, `,"first_seen":"`...)
	b = f.FirstSeen.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, "\"}\n"...)
	a.line = b
	a.lines++
	if _, err := a.bw.Write(b); err != nil {
		return fmt.Errorf("findings: write %s: %w", a.opts.File, err)
	}
	return nil
}

// appendJSONString appends s as a JSON string as encoding/json writes it
// without HTML escaping: invalid UTF-8 becomes U+FFFD, control characters
// and U+2028/U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Lines is the number of lines written so far.
func (a *Aggregator) Lines() int64 { return a.lines }

// Flagged counts, per bucket, KMS key and worst open severity, the
// current, read, encrypted objects an open finding names (see
// FlaggedKey): what a compliance count of the snapshot's objects must
// subtract.
func (a *Aggregator) Flagged() map[FlaggedKey]FlaggedCount { return maps.Clone(a.flagged) }

// Close ends the side file (w stays open) and returns the aggregated
// findings, sorted by id: one per rule, bucket and facts, each with its
// counts, sample and example (the first open object by key, else the
// first waived one: its message, expected and evidence). FirstSeen is the
// earliest first sighting of its objects; LastSeen opts.Seen.
func (a *Aggregator) Close() ([]Finding, error) {
	if a.closed {
		return nil, errors.New("findings: aggregator closed twice")
	}
	a.closed = true
	if a.err != nil {
		return nil, a.err
	}
	if err := a.bw.Flush(); err != nil {
		return nil, fmt.Errorf("findings: write %s: %w", a.opts.File, err)
	}
	if err := a.gz.Close(); err != nil {
		return nil, fmt.Errorf("findings: write %s: %w", a.opts.File, err)
	}
	out := make([]Finding, 0, len(a.groups))
	for _, g := range a.groups {
		out = append(out, g.finding(a.opts))
	}
	slices.SortFunc(out, func(x, y Finding) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// Flush returns, sorted by id, the aggregates of every bucket but keep
// (the bucket being evaluated), as Close would return them, and forgets
// them: an evaluation hands over the objects of one bucket after another,
// so memory holds the aggregates of one bucket, not of the estate. An
// object of a flushed aggregate given after is an error.
func (a *Aggregator) Flush(keep string) ([]Finding, error) {
	if a.err != nil {
		return nil, a.err
	}
	var out []Finding
	for k, g := range a.groups {
		if g.res.Bucket == keep {
			continue
		}
		out = append(out, g.finding(a.opts))
		delete(a.groups, k)
		a.flushed[k] = struct{}{}
	}
	slices.SortFunc(out, func(x, y Finding) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

func (g *aggGroup) finding(opts AggregatorOptions) Finding {
	ex, exKey := g.open, g.openK
	if ex == nil {
		ex, exKey = g.waived, g.waivedK
	}
	f := *ex
	f.ID = g.id
	f.Resource = g.res
	agg := g.agg
	agg.Sample = slices.Clone(g.sample)
	f.Aggregate = &agg
	f.Suppressed = agg.Open == 0
	// The example is open unless every object is waived, so the waiver it
	// carries is an expired one, or the active one of a suppressed whole.
	f.Waiver = ex.Waiver
	f.FirstSeen = g.first
	if f.FirstSeen.IsZero() {
		f.FirstSeen = opts.Seen
	}
	f.LastSeen = opts.Seen
	obs := map[string]any{
		"objects": agg.Objects, "open": agg.Open, "suppressed": agg.Suppressed, "bytes": agg.Bytes,
	}
	for k, v := range g.res.Facts {
		obs[k] = v
	}
	example := map[string]any{"key": exKey.key}
	if exKey.version != "" {
		example["version_id"] = exKey.version
	}
	if ex.Observed != nil {
		example["observed"] = ex.Observed
	}
	obs["example"] = example
	f.Observed = obs
	f.Message = aggregateMessage(g, ex, exKey, opts.File)
	return f
}

// aggregateMessage says how many objects, how big, how old, and gives the
// first one's own message as an example (the resource names the bucket).
func aggregateMessage(g *aggGroup, ex *Finding, k objKey, file string) string {
	a := &g.agg
	var b strings.Builder
	b.WriteString(countNoun(a.Objects, "object", "objects"))
	var parts []string
	parts = append(parts, HumanBytes(a.Bytes))
	if !a.OldestLastModified.IsZero() {
		o, n := a.OldestLastModified.UTC().Format(time.DateOnly), a.NewestLastModified.UTC().Format(time.DateOnly)
		if o == n {
			parts = append(parts, "last modified "+o)
		} else {
			parts = append(parts, "last modified "+o+" to "+n)
		}
	}
	if a.Suppressed > 0 {
		parts = append(parts, fmt.Sprintf("%s waived", Thousands(a.Suppressed)))
	}
	fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	name := k.key
	if k.version != "" {
		name += "?versionId=" + k.version
	}
	if a.Objects == 1 {
		fmt.Fprintf(&b, ": %s: %s", name, ex.Message)
	} else {
		fmt.Fprintf(&b, ", e.g. %s: %s", name, ex.Message)
	}
	fmt.Fprintf(&b, " (all listed in %s)", file)
	return b.String()
}

func countNoun(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Thousands(n) + " " + many
}

// Thousands writes n with comma thousands separators (20,004).
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// HumanBytes writes n bytes with a binary unit (18.3 MiB).
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// ReadAffected reads a side file (gzip-compressed JSON lines) from r and
// calls fn with each line in order, strictly decoded (an unknown member is
// an error). An error from fn stops the read and is returned as is.
func ReadAffected(r io.Reader, fn func(*AffectedObject) error) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("findings: %s: %w", AffectedFile, err)
	}
	defer gz.Close()
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		var o AffectedObject
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			return fmt.Errorf("findings: %s: line %d: %w", AffectedFile, n, err)
		}
		if err := fn(&o); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("findings: %s: line %d: %w", AffectedFile, n+1, err)
	}
	return nil
}
