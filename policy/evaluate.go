package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// EvaluateSnapshot evaluates the snapshot file at snapshotPath, bucket by
// bucket, joined with the same bucket of previousPath when that is not ""
// (for the drift rule), plus the scan-level rules once. hist may be nil.
// Findings come back sorted (severity, rule, resource), waivers applied,
// with first/last seen set, one per object for the object rules: memory
// grows with the findings. EvaluateStream is the same evaluation with the
// per-object findings streamed out instead of held.
func (e *Engine) EvaluateSnapshot(ctx context.Context, snapshotPath, previousPath string, hist HistoryLookup) ([]findings.Finding, error) {
	var prev Source
	if previousPath != "" {
		prev = FileSource(previousPath)
	}
	return e.Evaluate(ctx, FileSource(snapshotPath), prev, hist)
}

// Evaluate is EvaluateSnapshot over any Source (prev may be nil).
func (e *Engine) Evaluate(ctx context.Context, cur, prev Source, hist HistoryLookup) ([]findings.Finding, error) {
	var all []findings.Finding
	var env *scanEnv
	err := e.run(ctx, cur, prev, hist, func(en *scanEnv, u *unitOut) error {
		env = en
		for i := range u.objects {
			all = append(all, u.objects[i].Finding)
		}
		all = append(all, u.other...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e.finish(all, env)
}

// ObjectSink receives the per-object findings of an evaluation as they
// stream out (EvaluateStream): waivers applied, first and last seen set,
// each with the object record it names. Batches come in the snapshot's
// order (buckets as the file lists them, objects as the bucket records
// them, then rule id), so a sink writing them out writes the same bytes for
// the same snapshot and policies; the findings of one object are next to
// each other in one batch. AddObjects is called from one goroutine; its
// error stops the evaluation.
type ObjectSink interface {
	AddObjects(batch []findings.ObjectFinding) error
}

// OtherSink is an ObjectSink that also takes the findings about a bucket
// (and its objects, when a rule names one as a bucket-level finding does)
// as soon as the bucket is evaluated, waivers applied and first seen set,
// so that an estate of many buckets is not held in memory until the end.
// They are deduplicated by id within the bucket; a finding of a bucket
// already handed over that a later bucket's rules name again is dropped.
// AddOthers is called from the goroutine that calls AddObjects.
type OtherSink interface {
	ObjectSink
	AddOthers(fs []findings.Finding) error
}

// Streamed is what EvaluateStream returns besides what it gave the sink.
type Streamed struct {
	// Findings are those about anything but an object (buckets, keys, the
	// scan, expired waivers): deduplicated by id, waivers applied, first
	// and last seen set, sorted as EvaluateSnapshot sorts. With an
	// OtherSink, those it was given are not here.
	Findings []findings.Finding
	// Waivers are the waiver summaries, counting each per-object finding
	// (and each other finding) a waiver matched.
	Waivers []findings.WaiverSummary
	// Seen is the last-seen time of the scan's findings.
	Seen time.Time
	// ObjectKeyIDs are the distinct KMS key references of the objects in
	// file order, as snapshot.Summary.ObjectKeyIDs from ReadSummary: with
	// them a caller can read the summary with snapshot.ReadHeaders (no
	// second decoding of every object) and still count the keys in use.
	ObjectKeyIDs []string
}

// EvaluateStream evaluates as Evaluate does, but hands the per-object
// findings to sink chunk by chunk instead of returning them, so memory does
// not grow with them. Per-object findings are deduplicated within the
// evaluation of one bucket (or chunk); first-seen times come from hist
// (may be nil) one batch at a time.
func (e *Engine) EvaluateStream(ctx context.Context, cur, prev Source, hist HistoryLookup, sink ObjectSink) (*Streamed, error) {
	ap := findings.NewWaiverApplier(e.waivers, e.now())
	others := map[string]findings.Finding{}
	osink, _ := sink.(OtherSink)
	handed := map[string]struct{}{} // ids given to osink
	var env *scanEnv
	err := e.run(ctx, cur, prev, hist, func(en *scanEnv, u *unitOut) error {
		env = en
		for _, f := range u.other {
			if _, gone := handed[f.ID]; gone {
				continue
			}
			// As finish keeps one of a duplicated id: the least message.
			if o, ok := others[f.ID]; !ok || f.Message < o.Message {
				others[f.ID] = f
			}
		}
		if osink != nil && u.ended != "" {
			if err := handOver(en, ap, others, handed, u.ended, osink); err != nil {
				return err
			}
		}
		if len(u.objects) == 0 {
			return nil
		}
		batch := dedupeObjects(u.objects)
		for i := range batch {
			ap.Apply(&batch[i].Finding)
		}
		if err := setSeen(en, batch); err != nil {
			return err
		}
		return sink.AddObjects(batch)
	})
	if err != nil {
		return nil, err
	}
	fs := make([]findings.Finding, 0, len(others))
	for _, f := range others {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b findings.Finding) int { return strings.Compare(a.ID, b.ID) })
	for i := range fs {
		ap.Apply(&fs[i])
	}
	fs = append(fs, ap.ExpiredFindings()...)
	if err := setFirstSeen(env, fs); err != nil {
		return nil, err
	}
	findings.Sort(fs)
	return &Streamed{Findings: fs, Waivers: ap.Summaries(), Seen: env.seen, ObjectKeyIDs: env.objectKeyIDs}, nil
}

// handOver gives sink the findings in others about bucket (its own and
// its objects'), as the end of EvaluateStream treats them: sorted by id,
// waivers applied, first seen set.
func handOver(env *scanEnv, ap *findings.WaiverApplier, others map[string]findings.Finding, handed map[string]struct{}, bucket string, sink OtherSink) error {
	var fs []findings.Finding
	for id, f := range others {
		switch f.Resource.Type {
		case findings.ResourceBucket, findings.ResourceObject, findings.ResourceObjects:
			if f.Resource.Bucket == bucket {
				fs = append(fs, f)
				delete(others, id)
				handed[id] = struct{}{}
			}
		}
	}
	if len(fs) == 0 {
		return nil
	}
	slices.SortFunc(fs, func(a, b findings.Finding) int { return strings.Compare(a.ID, b.ID) })
	for i := range fs {
		ap.Apply(&fs[i])
	}
	if err := setFirstSeen(env, fs); err != nil {
		return err
	}
	return sink.AddOthers(fs)
}

// dedupeObjects drops a per-object finding whose id came before in the
// batch (the same object recorded twice).
func dedupeObjects(in []findings.ObjectFinding) []findings.ObjectFinding {
	if len(in) < 2 {
		return in
	}
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, of := range in {
		if seen[of.Finding.ID] {
			continue
		}
		seen[of.Finding.ID] = true
		out = append(out, of)
	}
	return out
}

// setSeen sets first and last seen of a batch of per-object findings.
func setSeen(env *scanEnv, batch []findings.ObjectFinding) error {
	first, err := firstSeen(env, len(batch), func(i int) string { return batch[i].Finding.ID })
	if err != nil {
		return err
	}
	for i := range batch {
		f := &batch[i].Finding
		f.LastSeen, f.FirstSeen = env.seen, env.seen
		if t, ok := first[f.ID]; ok && t.Before(env.seen) {
			f.FirstSeen = t
		}
	}
	return nil
}

// setFirstSeen sets first and last seen of fs as finish does.
func setFirstSeen(env *scanEnv, fs []findings.Finding) error {
	first, err := firstSeen(env, len(fs), func(i int) string { return fs[i].ID })
	if err != nil {
		return err
	}
	for i := range fs {
		f := &fs[i]
		f.LastSeen, f.FirstSeen = env.seen, env.seen
		if t, ok := first[f.ID]; ok && t.Before(env.seen) {
			f.FirstSeen = t
		}
	}
	return nil
}

// firstSeen asks history when each of n ids was first seen (nil without
// history).
func firstSeen(env *scanEnv, n int, id func(int) string) (map[string]time.Time, error) {
	if env.hist == nil || n == 0 {
		return nil, nil
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = id(i)
	}
	first, err := env.hist.FirstSeen(ids)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return first, nil
}

// unitOut is what one evaluation unit (a chunk of a bucket's objects, a
// bucket, or the scan rules) found:
// the per-object findings, in object order (see ObjectSink), and the rest.
type unitOut struct {
	objects []findings.ObjectFinding
	other   []findings.Finding
	// ended names the bucket whose own unit this is: every unit of it
	// has been delivered.
	ended string
}

// splitUnit separates per-object findings (with the records of the
// objects they name, from objs when given) from the others, and orders the
// per-object ones by the object's position in objs (objects not in it
// last, by key), then rule and id.
func splitUnit(fs []findings.Finding, objs []*ast.Term) *unitOut {
	u := &unitOut{}
	type posed struct {
		pos int
		of  findings.ObjectFinding
	}
	var ps []posed
	var where map[objKey]int
	for _, f := range fs {
		if f.Resource.Type != findings.ResourceObject {
			u.other = append(u.other, f)
			continue
		}
		if where == nil && len(objs) > 0 {
			where = objectPositions(objs)
		}
		p := posed{pos: math.MaxInt, of: findings.ObjectFinding{Finding: f}}
		if i, ok := where[objKey{f.Resource.Key, f.Resource.VersionID}]; ok {
			p.pos = i
			p.of.Object = objectInfo(objs[i].Value.(ast.Object))
		}
		ps = append(ps, p)
	}
	slices.SortStableFunc(ps, func(a, b posed) int {
		if a.pos != b.pos {
			return cmpInt(a.pos, b.pos)
		}
		fa, fb := &a.of.Finding, &b.of.Finding
		if a.pos == math.MaxInt {
			if c := strings.Compare(fa.Resource.Key, fb.Resource.Key); c != 0 {
				return c
			}
			if c := strings.Compare(fa.Resource.VersionID, fb.Resource.VersionID); c != 0 {
				return c
			}
		}
		if c := strings.Compare(fa.Rule, fb.Rule); c != 0 {
			return c
		}
		return strings.Compare(fa.ID, fb.ID)
	})
	u.objects = make([]findings.ObjectFinding, len(ps))
	for i := range ps {
		u.objects[i] = ps[i].of
	}
	return u
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// objKey names an object of a bucket: key and version id ("" if none).
type objKey struct{ key, version string }

// objectPositions maps each object of objs to its position (the first,
// for an object recorded twice).
func objectPositions(objs []*ast.Term) map[objKey]int {
	m := make(map[objKey]int, len(objs))
	for i, o := range objs {
		oo := o.Value.(ast.Object)
		k := objKey{key: termString(oo.Get(tKey))}
		k.version = termString(oo.Get(tVersionID))
		if _, dup := m[k]; !dup {
			m[k] = i
		}
	}
	return m
}

// termString is a string term's value ("" for anything else or nil).
func termString(t *ast.Term) string {
	if t == nil {
		return ""
	}
	s, _ := t.Value.(ast.String)
	return string(s)
}

// objectInfo is what a finding's side-file line and aggregate say of the
// object record o. Its strings are copies: a string of a parsed chunk
// shares memory with the whole chunk, which must not outlive it.
func objectInfo(o ast.Object) findings.ObjectInfo {
	info := findings.ObjectInfo{
		Found:    true,
		ETag:     strings.Clone(termString(o.Get(tETag))),
		Method:   strings.Clone(termString(o.Get(tMethod))),
		KMSKeyID: strings.Clone(termString(o.Get(tKMSKeyID))),
	}
	if n, ok := o.Get(tSize).Value.(ast.Number); ok {
		if v, ok := n.Int64(); ok {
			info.Size = v
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, termString(o.Get(tLastModified))); err == nil {
		info.LastModified = t
	}
	if b := o.Get(tNoncurrent); b != nil {
		info.Noncurrent = b.Value.Compare(ast.Boolean(true)) == 0
	}
	if er := o.Get(tError); er != nil {
		_, null := er.Value.(ast.Null)
		info.Failed = !null
	}
	return info
}

// finish deduplicates by id, applies waivers, sets first/last seen and sorts.
func (e *Engine) finish(fs []findings.Finding, env *scanEnv) ([]findings.Finding, error) {
	slices.SortFunc(fs, func(a, b findings.Finding) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	fs = slices.CompactFunc(fs, func(a, b findings.Finding) bool { return a.ID == b.ID })
	fs, _ = findings.ApplyWaivers(fs, e.waivers, e.now())
	if err := setFirstSeen(env, fs); err != nil {
		return nil, err
	}
	findings.Sort(fs)
	return fs, nil
}

func (e *Engine) evalScan(ctx context.Context, env *scanEnv, budget *scanBudget) ([]findings.Finding, error) {
	if e.scanQ == nil && e.userScanQ == nil {
		return nil, nil
	}
	var out []findings.Finding
	if e.scanQ != nil {
		in, err := env.scanInput(false)
		if err != nil {
			return nil, err
		}
		rs, err := e.evalBuiltin(ctx, e.scanQ, in)
		if err != nil {
			return nil, fmt.Errorf("policy: evaluate scan rules: %w", err)
		}
		if out, err = e.collect(rs, e.scanPkgs, env, "scan"); err != nil {
			return nil, err
		}
	}
	if e.userScanQ != nil {
		in, err := env.scanInput(true)
		if err != nil {
			return nil, err
		}
		rs, err := e.evalUser(ctx, e.userScanQ, in, budget, "the scan rules")
		if err != nil {
			return nil, err
		}
		fs, err := e.collect(rs, e.userScanPkgs, env, "scan")
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// evalBuiltin evaluates a query of built-in policies. With user policies
// loaded it holds the sandbox's lock shared, so that no user policy runs
// meanwhile (see sandboxRT.mu).
func (e *Engine) evalBuiltin(ctx context.Context, q *rego.PreparedEvalQuery, in ast.Value) (rego.ResultSet, error) {
	if len(e.sandbox.userFiles) > 0 {
		e.sandbox.mu.RLock()
		defer e.sandbox.mu.RUnlock()
	}
	return q.Eval(ctx, rego.EvalParsedInput(in))
}

// collect turns the query's bindings (one set of raw findings per package)
// into findings.
func (e *Engine) collect(rs rego.ResultSet, pkgs []string, env *scanEnv, what string) ([]findings.Finding, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	var out []findings.Finding
	for i, pkg := range pkgs {
		v, ok := rs[0].Bindings[fmt.Sprintf("p%d", i)]
		if !ok {
			continue
		}
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("policy: %s: %s produced %T, want a set of findings", what, pkg, v)
		}
		for _, it := range items {
			f, err := e.toFinding(pkg, it, env)
			if err != nil {
				return nil, fmt.Errorf("policy: %s: %s: %w", what, pkg, err)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// toFinding merges a raw finding {rule, resource, message, observed,
// expected, evidence} with its rule's metadata.
func (e *Engine) toFinding(pkg string, it any, env *scanEnv) (findings.Finding, error) {
	// Strings from the evaluation may share memory with a whole bucket's
	// parsed JSON; copy them so a finding does not keep its bucket alive.
	it = cloneStrings(it)
	raw, ok := it.(map[string]any)
	if !ok {
		return findings.Finding{}, fmt.Errorf("finding is %T, want an object", it)
	}
	id, _ := raw["rule"].(string)
	meta, ok := e.byID[id]
	if !ok || !e.pkgRules[pkg][id] {
		return findings.Finding{}, fmt.Errorf("finding names rule %q, which this package does not define (set \"rule\": rego.metadata.rule().custom.id)", id)
	}
	msg, _ := raw["message"].(string)
	if msg == "" {
		return findings.Finding{}, fmt.Errorf("rule %s: finding has no message", id)
	}
	res, err := resource(raw["resource"], env)
	if err != nil {
		return findings.Finding{}, fmt.Errorf("rule %s: %w", id, err)
	}
	f := findings.NewFinding(meta, res, msg)
	if m, ok := raw["observed"].(map[string]any); ok {
		f.Observed = m
	}
	if m, ok := raw["expected"].(map[string]any); ok {
		f.Expected = m
	}
	if ev, ok := raw["evidence"].([]any); ok {
		for _, x := range ev {
			m, ok := x.(map[string]any)
			if !ok {
				return findings.Finding{}, fmt.Errorf("rule %s: evidence item is %T, want an object", id, x)
			}
			f.Evidence = append(f.Evidence, evidence(m, env))
		}
	}
	return f, nil
}

func resource(v any, env *scanEnv) (findings.Resource, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return findings.Resource{}, fmt.Errorf("finding resource is %T, want {type, ...}", v)
	}
	s := func(k string) string { x, _ := m[k].(string); return x }
	r := findings.Resource{
		Type:      s("type"),
		Provider:  env.provider,
		Region:    s("region"),
		Bucket:    s("bucket"),
		Key:       s("key"),
		VersionID: s("version_id"),
		KMSKeyID:  s("kms_key_id"),
	}
	switch r.Type {
	case findings.ResourceBucket:
		if r.Bucket == "" {
			return r, errors.New("bucket resource without bucket")
		}
	case findings.ResourceObject:
		if r.Bucket == "" || r.Key == "" {
			return r, errors.New("object resource without bucket or key")
		}
	case findings.ResourceKey:
		if r.KMSKeyID == "" {
			return r, errors.New("key resource without kms_key_id")
		}
		r.Provider = ""
	case findings.ResourceScan:
		r.UID = env.scanUID
		r.Provider = ""
	default:
		return r, fmt.Errorf("resource type %q: want bucket, object, key or scan", r.Type)
	}
	r.UID = r.CanonicalUID()
	return r, nil
}

func evidence(m map[string]any, env *scanEnv) findings.Evidence {
	s := func(k string) string { x, _ := m[k].(string); return x }
	ev := findings.Evidence{Kind: s("kind"), Source: s("source"), Snapshot: s("snapshot"), CapturedAt: s("captured_at")}
	if ev.Snapshot == "" {
		ev.Snapshot = env.scanID
	}
	switch d := m["data"].(type) {
	case map[string]any:
		ev.Data = d
	case nil:
	default:
		ev.Data = map[string]any{"value": d}
	}
	return ev
}

// ScanInfo describes a snapshot for a findings document.
func ScanInfo(sum *snapshot.Summary, snapshotRef string, prev *snapshot.Summary) findings.ScanInfo {
	si := findings.ScanInfo{
		ScanID:      sum.Provenance.ScanID,
		StartedAt:   sum.Provenance.StartedAt,
		FinishedAt:  sum.FinishedAt,
		Complete:    sum.Complete,
		ToolVersion: sum.Provenance.ToolVersion,
		TargetKind:  sum.Provenance.Target.Kind,
		Dialect:     sum.Provenance.Target.Dialect,
		Endpoint:    sum.Provenance.Target.Endpoint,
		Regions:     slices.Clone(sum.Provenance.Regions),
		Snapshot:    snapshotRef,
	}
	if prev != nil {
		si.PreviousScanID = prev.Provenance.ScanID
	}
	return si
}

// Document wraps findings in a findings.json document with this engine's
// rules, digest, profile and waivers (each with what it matched and
// suppressed among fs).
func (e *Engine) Document(scan findings.ScanInfo, fs []findings.Finding) *findings.Document {
	return &findings.Document{
		Schema:       findings.SchemaVersion,
		GeneratedAt:  e.now().UTC(),
		Scan:         scan,
		PolicyDigest: e.digest,
		Profile:      e.profile.Name,
		Rules:        e.Rules(),
		Summary:      findings.Summarize(fs),
		Waivers:      findings.SummarizeWaivers(e.waivers, fs, e.now()),
		Findings:     fs,
	}
}

// cloneStrings deep-copies the strings of a value converted from AST.
func cloneStrings(v any) any {
	switch x := v.(type) {
	case string:
		return strings.Clone(x)
	case json.Number:
		return json.Number(strings.Clone(string(x)))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[strings.Clone(k)] = cloneStrings(e)
		}
		return out
	case []any:
		for i := range x {
			x[i] = cloneStrings(x[i])
		}
		return x
	}
	return v
}
