package pipeline

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/internal/meter"
	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/snapshot"
)

// mallocs is how many heap objects fn allocates.
func mallocs(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.Mallocs - a.Mallocs
}

type dropSink struct{}

func (dropSink) AddObjects([]findings.ObjectFinding) error { return nil }

// TestFromSnapshotNearEngine: what scan --from-snapshot runs costs about
// what the engine's own evaluation of the same snapshot does. The run used
// to decode every object a second time before the evaluation (to read the
// summary), which cost as much as evaluating a compliant estate (1M
// objects: 8.5 CPU-s against the engine's 4.5); allocations, which unlike
// CPU time do not depend on the machine's load, show it.
func TestFromSnapshotNearEngine(t *testing.T) {
	dir := t.TempDir()
	snap := writeSynth(t, dir, synth.Options{Buckets: 4, Objects: 5000, Mix: synth.MixCompliant})
	engine, err := LoadEngine(context.Background(), PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var evalErr error
	eng := mallocs(func() {
		_, evalErr = engine.EvaluateStream(context.Background(), policy.FileSource(snap), nil, nil, dropSink{})
	})
	if evalErr != nil {
		t.Fatal(evalErr)
	}
	// Run loads its own engine: count that load on the engine's side too.
	load := mallocs(func() {
		if _, err := LoadEngine(context.Background(), PolicyOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	run := mallocs(func() { runFromSnapshot(t, snap, filepath.Join(dir, "out"), false) })
	ratio := float64(run) / float64(eng+load)
	t.Logf("allocations: run %d, engine %d + load %d: %.2f", run, eng, load, ratio)
	if ratio > 1.15 {
		t.Errorf("scan --from-snapshot allocates %.2fx what the engine does on the same snapshot (%d against %d + %d to load), want at most 1.15x", ratio, run, eng, load)
	}
}

// TestFromSnapshotMalformedObjects: the objects of a stored snapshot are
// held to the format by the evaluation (the summary is read without
// decoding them), as strictly as before: a bad member value or counts that
// disagree with the objects are bad input naming --from-snapshot, and
// nothing is written.
func TestFromSnapshotMalformedObjects(t *testing.T) {
	dir := t.TempDir()
	good := writeSynth(t, dir, synth.Options{Buckets: 2, Objects: 3, Mix: synth.MixCompliant})
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"size not a number", `"size":1025,`, `"size":"big",`, "size"},
		{"size not an integer", `"size":1025,`, `"size":1025.5,`, "size"},
		{"negative size", `"size":1025,`, `"size":-1,`, "negative size"},
		{"last_modified not a time", `"last_modified":"2024-12-31T23:59:59Z"`, `"last_modified":"yesterday"`, "last_modified"},
		{"method not a string", `"method":"kms-cmk"},` + "\n" + `{"bucket":"bench-00000","key":"data/2`, `"method":7},` + "\n" + `{"bucket":"bench-00000","key":"data/2`, "method"},
		{"a null member", `"storage_class":"Standard","sse":"KMS","kms_key_id":"cmk-01`, `"storage_class":null,"sse":"KMS","kms_key_id":"cmk-01`, "storage_class"},
		{"error with a bad field", `"method":"kms-cmk"},` + "\n" + `{"bucket":"bench-00000","key":"data/2`, `"method":"kms-cmk","error":{"scope":"object","resource":"x","message":"m","status_code":"503"}},` + "\n" + `{"bucket":"bench-00000","key":"data/2`, "status_code"},
		{"counts disagree", `"objects_listed":3,"objects_inspected":3}`, `"objects_listed":3,"objects_inspected":2}`, "counts disagree"},
		{"more recorded than listed", `"objects_listed":3,"objects_inspected":3}`, `"objects_listed":2,"objects_inspected":3}`, "counts disagree"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !bytes.Contains(raw, []byte(c.old)) {
				t.Fatalf("the synthetic snapshot has no %q", c.old)
			}
			bad := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(bad, bytes.Replace(raw, []byte(c.old), []byte(c.new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			_, err := Run(context.Background(), Options{FromSnapshot: bad, Out: out, FailOn: findings.SeverityHigh})
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), "--from-snapshot "+bad) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want bad input naming --from-snapshot and %s", err, c.want)
			}
			if ents, _ := os.ReadDir(out); len(ents) > 0 {
				t.Errorf("a refused snapshot left %d files in --out", len(ents))
			}
		})
	}
}

// TestFromSnapshotObjectKeyGap: a KMS key only an object names, with no
// record in the snapshot, is a keys gap, though the run reads the summary
// without decoding the objects (the engine reports the keys they name).
func TestFromSnapshotObjectKeyGap(t *testing.T) {
	dir := t.TempDir()
	good := writeSynth(t, dir, synth.Options{Buckets: 2, Objects: 3, Mix: synth.MixCompliant})
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	old := `"key":"data/1/obj-1.bin","size":1025,"etag":"\"9e3779b97f4a7c150000000000000001\"","last_modified":"2024-12-31T23:59:59Z","storage_class":"Standard","sse":"KMS","kms_key_id":"cmk-01-0000-0000-0000-000000000000"`
	if !bytes.Contains(raw, []byte(old)) {
		t.Fatal("the synthetic snapshot changed")
	}
	snap := filepath.Join(dir, "orphan-key.json")
	raw = bytes.Replace(raw, []byte(old), []byte(strings.Replace(old, "cmk-01-0000", "cmk-orphan", 1)), 1)
	if err := os.WriteFile(snap, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{FromSnapshot: snap, Out: filepath.Join(dir, "out"), FailOn: findings.SeverityCritical + 1})
	if err != nil && !IsGate(err) {
		t.Fatal(err)
	}
	for _, g := range res.Outcome.Gaps {
		if g.Kind == findings.GapKeys && strings.Contains(g.Detail, "cmk-orphan") {
			return
		}
	}
	t.Errorf("no keys gap naming the key only an object names: %+v", res.Outcome.Gaps)
}

// TestAuditFlatInObjects is the CI-sized check of the scale benchmarks
// (scripts/scale-bench.sh runs them at 100k to 10M objects): audit
// --from-snapshot of 4 buckets of unencrypted objects, 2,000 and then
// 6,000 each. Three times the objects must give the same aggregated
// findings, a report set of the same size (index.html, report.json, SARIF,
// OCSF, JUnit, findings.json: only numbers differ) and about the same peak
// live heap.
func TestAuditFlatInObjects(t *testing.T) {
	files := []string{"index.html", "report.json", "results.sarif", "ocsf.json", "junit.xml", FindingsFile}
	type run struct {
		findings int
		size     map[string]int64
		peak     uint64
	}
	do := func(objects int) run {
		dir := t.TempDir()
		snap := writeSynth(t, dir, synth.Options{Buckets: 4, Objects: objects, Mix: synth.MixUnencrypted})
		runtime.GC()
		h := meter.StartLivePeak()
		res := runFromSnapshot(t, snap, filepath.Join(dir, "out"), true)
		r := run{findings: res.Findings.Len(), size: map[string]int64{}, peak: h.Stop()}
		for _, f := range files {
			st, err := os.Stat(filepath.Join(res.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			r.size[f] = st.Size()
		}
		t.Logf("%d objects: %d findings, peak live heap %.1f MiB, sizes %v", 4*objects, r.findings, float64(r.peak)/(1<<20), r.size)
		return r
	}
	// Enough objects that the evaluation's window of chunks is full in
	// both (memory grows until it is, then stays); under the race
	// detector, fewer, and only the sizes are compared.
	n := 2000
	if raceEnabled {
		n = 500
	}
	small, large := do(n), do(3*n)
	if small.findings != large.findings || small.findings < 8 {
		t.Errorf("%d findings for %d objects, %d for %d: want the same aggregates", small.findings, 4*n, large.findings, 12*n)
	}
	for _, f := range files {
		if a, b := small.size[f], large.size[f]; b > a+a/50 {
			t.Errorf("%s grew from %d bytes (%d objects) to %d (%d): want the same size", f, a, 4*n, b, 12*n)
		}
	}
	// The heap holds a few chunks, not a bucket: three times the objects
	// may not cost more than a little more live heap.
	if !raceEnabled && large.peak > small.peak+small.peak/4+(4<<20) {
		t.Errorf("peak live heap %.1f MiB for %d objects against %.1f MiB for %d: want about the same",
			float64(large.peak)/(1<<20), 12*n, float64(small.peak)/(1<<20), 4*n)
	}
}

// TestAuditBucketMemory: what `audit --from-snapshot` holds for each
// bucket stays small. Four times the empty buckets (5,000, then 20,000)
// may add at most maxPerBucket bytes of peak live heap a bucket. Measured
// (2 cores): about 900 B. It was 2,390 B while the built-in scan rules got
// every bucket record as Rego terms (input.scan.buckets), 1,650-1,760 B
// with a second copy of the snapshot's bucket records in the report model
// and its bucket array grown by appends, and 1,420 B while index.html
// built a view of every bucket to list 1,000. What remains is the run's
// own bucket records (the summary) and the report's bucket statistics
// (Model.Buckets).
func TestAuditBucketMemory(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("measures the heap: not under the race detector or -short")
	}
	// Frequent collections, so that the sampled live heap follows the
	// peak closely.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	peak := func(buckets int) uint64 {
		dir := t.TempDir()
		snap := writeSynth(t, dir, synth.Options{Buckets: buckets, Objects: 0, Mix: synth.MixCompliant})
		runtime.GC()
		h := meter.StartLivePeak()
		runFromSnapshot(t, snap, filepath.Join(dir, "out"), true)
		return h.Stop()
	}
	const small, large, maxPerBucket = 5000, 20000, 1200
	p1, p2 := peak(small), peak(large)
	per := (float64(p2) - float64(p1)) / (large - small)
	t.Logf("peak live heap %.1f MiB for %d empty buckets, %.1f MiB for %d: %.0f B per added bucket", float64(p1)/(1<<20), small, float64(p2)/(1<<20), large, per)
	if per > maxPerBucket {
		t.Errorf("each added bucket costs %.0f bytes of live heap, want at most %d", per, maxPerBucket)
	}
}

// TestAuditPolicyMemory: the raw response bodies kept as evidence (a
// bucket policy up to snapshot.MaxPolicyRaw, 20 KiB) are not held for the
// whole run: the run's summary is read without them
// (snapshot.ReadLeanHeaders) and the engine takes each bucket's from the
// stream while it evaluates that bucket. Four times the buckets, each with
// a 20 KB policy, may add at most maxPerBucket bytes of peak live heap a
// bucket. It was about 21,000 B with the bodies in the summary (10,000
// such buckets: 507 MiB RSS for `audit --from-snapshot`).
func TestAuditPolicyMemory(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("measures the heap: not under the race detector or -short")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	peak := func(buckets int) uint64 {
		dir := t.TempDir()
		snap := writeSynth(t, dir, synth.Options{Buckets: buckets, Objects: 1, Mix: synth.MixCompliant, PolicyBytes: snapshot.MaxPolicyRaw})
		runtime.GC()
		h := meter.StartLivePeak()
		runFromSnapshot(t, snap, filepath.Join(dir, "out"), true)
		return h.Stop()
	}
	const small, large, maxPerBucket = 500, 2000, 4000
	p1, p2 := peak(small), peak(large)
	per := (float64(p2) - float64(p1)) / (large - small)
	t.Logf("peak live heap %.1f MiB for %d buckets with %d B policies, %.1f MiB for %d: %.0f B per added bucket", float64(p1)/(1<<20), small, snapshot.MaxPolicyRaw, float64(p2)/(1<<20), large, per)
	if per > maxPerBucket {
		t.Errorf("each added bucket costs %.0f bytes of live heap, want at most %d (its policy is %d)", per, maxPerBucket, snapshot.MaxPolicyRaw)
	}
}
