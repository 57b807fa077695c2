package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/internal/meter"
	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/reports"
)

// TestSpilledRunIdentical: a run whose findings are spilled to disk (a
// run size of a few findings, so a small estate takes the path a large
// one takes) finds exactly what the same run holding them in memory does,
// and its report set renders byte for byte as the same model with the
// findings in memory, for a mixed estate (buckets without a default,
// unencrypted objects, keys disabled, waived objects and buckets).
func TestSpilledRunIdentical(t *testing.T) {
	dir := t.TempDir()
	snap := writeSynth(t, dir, synth.Options{Buckets: 60, Objects: 120})
	waivers := filepath.Join(dir, "waivers.yaml")
	// One bucket's objects and one bucket's default waived, so aggregates
	// and bucket findings are both open and suppressed.
	if err := os.WriteFile(waivers, []byte(`waivers:
  - rule: SSE-004
    resource: "oss://bench-00003/*"
    reason: legacy bucket, migrating
    owner: storage@example.com
    expires: 2999-01-01
  - rule: SSE-001
    resource: "oss://bench-00020"
    reason: archive bucket
    owner: storage@example.com
    expires: 2999-01-01
`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(out string, runSize int) *Result {
		o := Options{FromSnapshot: snap, Out: filepath.Join(dir, out), Report: true, FailOn: findings.SeverityHigh, FailOnName: "high",
			SpillRunSize: runSize, Policy: PolicyOptions{Waivers: waivers, AllowPermanentWaivers: true}}
		res, err := Run(context.Background(), o)
		if err != nil && !IsGate(err) {
			t.Fatalf("run: %v", err)
		}
		return res
	}
	mem, sp := run("mem", 0), run("spilled", 3)
	if mem.Findings.Spill != nil || sp.Findings.Spill == nil {
		t.Fatalf("spilled: in memory %v, small runs %v; want false, true", mem.Findings.Spill != nil, sp.Findings.Spill != nil)
	}
	if n := sp.Findings.Len(); n != len(mem.Findings.Findings) || n < 60 {
		t.Fatalf("%d findings spilled, %d in memory", n, len(mem.Findings.Findings))
	}
	suppressed := 0
	for _, f := range mem.Findings.Findings {
		if f.Suppressed {
			suppressed++
		}
	}
	if suppressed < 2 {
		t.Fatalf("%d suppressed findings: the waivers matched nothing", suppressed)
	}
	if mem.Outcome.ExitCode != sp.Outcome.ExitCode || len(mem.Outcome.Reasons) != len(sp.Outcome.Reasons) {
		t.Errorf("outcome %+v in memory, %+v spilled", mem.Outcome, sp.Outcome)
	}
	// findings.json of both: the same findings, summary and waivers (the
	// documents' generation times differ).
	members := func(res *Result) map[string]json.RawMessage {
		b, err := os.ReadFile(filepath.Join(res.Dir, FindingsFile))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := members(mem), members(sp)
	for _, k := range []string{"findings", "summary", "waivers", "outcome", "rules", "scan"} {
		if !bytes.Equal(a[k], b[k]) {
			t.Errorf("findings.json %q differs between the in-memory and the spilled run", k)
		}
	}
	side := func(res *Result) []byte {
		b, err := os.ReadFile(filepath.Join(res.Dir, AffectedFile))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(side(mem), side(sp)) {
		t.Errorf("%s differs", AffectedFile)
	}
	// The spilled run's report set is what its model renders with the
	// findings in memory.
	fs, err := findings.Collect(sp.Findings)
	if err != nil {
		t.Fatal(err)
	}
	inMem := *sp.Model
	d := *sp.Model.Findings
	d.Findings, d.Spill = fs, nil
	inMem.Findings = &d
	for _, r := range reports.Formats {
		var want bytes.Buffer
		if err := r.Render(&want, &inMem); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		got, err := os.ReadFile(filepath.Join(sp.Dir, r.File))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: the spilled run wrote %d bytes, its model with the findings in memory renders %d, not the same", r.File, len(got), want.Len())
		}
	}
}

// TestScanFlatInFindings: what a scan holds does not grow by a whole
// finding for each aggregated finding: four times the buckets of
// unencrypted objects (two findings each) add little more live heap than
// their bucket records take. Held in memory, each finding took 4-6 KB.
func TestScanFlatInFindings(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("measures the heap: not under the race detector or -short")
	}
	peak := func(buckets, runSize int) (uint64, int) {
		dir := t.TempDir()
		snap := writeSynth(t, dir, synth.Options{Buckets: buckets, Objects: 1, Mix: synth.MixUnencrypted})
		runtime.GC()
		h := meter.StartLivePeak()
		res, err := Run(context.Background(), Options{FromSnapshot: snap, Out: filepath.Join(dir, "out"), FailOn: findings.SeverityHigh, FailOnName: "high", SpillRunSize: runSize})
		p := h.Stop()
		if err != nil && !IsGate(err) {
			t.Fatal(err)
		}
		return p, res.Findings.Len()
	}
	const runSize = 256
	p1, n1 := peak(1000, runSize)
	p2, n2 := peak(4000, runSize)
	per := (float64(p2) - float64(p1)) / float64(n2-n1)
	t.Logf("peak live heap %.1f MiB for %d findings, %.1f MiB for %d: %.0f B per added finding", float64(p1)/(1<<20), n1, float64(p2)/(1<<20), n2, per)
	if n2 < 8000 {
		t.Fatalf("%d findings for 4,000 buckets of unencrypted objects, want two a bucket", n2)
	}
	if per > 2000 {
		t.Errorf("each added finding costs %.0f bytes of live heap, want under 2,000 (the findings are spilled)", per)
	}
}
