package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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
// with first/last seen set. Memory is bounded by a few buckets' objects
// (plus the findings).
func (e *Engine) EvaluateSnapshot(ctx context.Context, snapshotPath, previousPath string, hist HistoryLookup) ([]findings.Finding, error) {
	var prev Source
	if previousPath != "" {
		prev = FileSource(previousPath)
	}
	return e.Evaluate(ctx, FileSource(snapshotPath), prev, hist)
}

// Evaluate is EvaluateSnapshot over any Source (prev may be nil).
func (e *Engine) Evaluate(ctx context.Context, cur, prev Source, hist HistoryLookup) ([]findings.Finding, error) {
	sum, err := readSummary(cur)
	if err != nil {
		return nil, fmt.Errorf("policy: snapshot: %w", err)
	}
	var prevSum *snapshot.Summary
	if prev != nil {
		ps, err := readSummary(prev)
		if err != nil {
			return nil, fmt.Errorf("policy: previous snapshot: %w", err)
		}
		prevSum = &ps
	}
	env, err := e.newScanEnv(&sum, prevSum, hist)
	if err != nil {
		return nil, err
	}

	budget := &scanBudget{}
	all, err := e.evalScan(ctx, env, budget)
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var join *prevJoin
	if prev != nil {
		join = newPrevJoin(ctx, prev, prevSum, &sum)
		defer join.close()
	}

	type job struct{ b, prev *bucketData }
	jobs := make(chan job, e.workers)
	results := make([][]findings.Finding, e.workers)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}
	for w := 0; w < e.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				fs, err := e.evalBucket(ctx, env, j.b, j.prev, budget)
				if err != nil {
					fail(err)
					continue
				}
				results[w] = append(results[w], fs...)
			}
		}(w)
	}
	readErr := eachBucket(cur, &sum, func(d bucketData) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var pd *bucketData
		if join != nil {
			var err error
			if pd, err = join.get(d.head.Name); err != nil {
				return err
			}
		}
		select {
		case jobs <- job{&d, pd}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if readErr != nil {
		return nil, fmt.Errorf("policy: snapshot: %w", readErr)
	}
	for _, r := range results {
		all = append(all, r...)
	}
	return e.finish(all, env)
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
	var first map[string]time.Time
	if env.hist != nil && len(fs) > 0 {
		ids := make([]string, len(fs))
		for i := range fs {
			ids[i] = fs[i].ID
		}
		var err error
		if first, err = env.hist.FirstSeen(ids); err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
	}
	for i := range fs {
		f := &fs[i]
		f.LastSeen = env.seen
		f.FirstSeen = env.seen
		if t, ok := first[f.ID]; ok && t.Before(env.seen) {
			f.FirstSeen = t
		}
	}
	findings.Sort(fs)
	return fs, nil
}

func (e *Engine) evalScan(ctx context.Context, env *scanEnv, budget *scanBudget) ([]findings.Finding, error) {
	if e.scanQ == nil && e.userScanQ == nil {
		return nil, nil
	}
	in, err := env.scanInput()
	if err != nil {
		return nil, err
	}
	var out []findings.Finding
	if e.scanQ != nil {
		rs, err := e.evalBuiltin(ctx, e.scanQ, in)
		if err != nil {
			return nil, fmt.Errorf("policy: evaluate scan rules: %w", err)
		}
		if out, err = e.collect(rs, e.scanPkgs, env, "scan"); err != nil {
			return nil, err
		}
	}
	if e.userScanQ != nil {
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

func (e *Engine) evalBucket(ctx context.Context, env *scanEnv, b, prev *bucketData, budget *scanBudget) ([]findings.Finding, error) {
	if e.bucketQ == nil && e.userBucketQ == nil {
		return nil, nil
	}
	in, err := env.bucketInput(b, prev)
	if err != nil {
		return nil, fmt.Errorf("policy: bucket %q: %w", b.head.Name, err)
	}
	var out []findings.Finding
	if e.bucketQ != nil {
		rs, err := e.evalBuiltin(ctx, e.bucketQ, in)
		if err != nil {
			return nil, fmt.Errorf("policy: evaluate bucket %q: %w", b.head.Name, err)
		}
		if out, err = e.collect(rs, e.bucketPkgs, env, "bucket "+b.head.Name); err != nil {
			return nil, err
		}
	}
	if e.userBucketQ != nil {
		rs, err := e.evalUser(ctx, e.userBucketQ, in, budget, fmt.Sprintf("bucket %q", b.head.Name))
		if err != nil {
			return nil, err
		}
		fs, err := e.collect(rs, e.userBucketPkgs, env, "bucket "+b.head.Name)
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
