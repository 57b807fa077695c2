package reports

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
)

// spilledDoc is d with its findings written through a SpillWriter of
// runSize findings a run (so on disk, in several runs).
func spilledDoc(t *testing.T, d *findings.Document, runSize int) *findings.Document {
	t.Helper()
	w := findings.NewSpillWriter(t.TempDir(), runSize)
	if err := w.Add(d.Findings...); err != nil {
		t.Fatal(err)
	}
	mem, sp, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sp == nil {
		t.Fatalf("%d findings in runs of %d were not spilled", len(mem), runSize)
	}
	t.Cleanup(func() { sp.Remove() })
	c := *d
	c.Findings, c.Spill = nil, sp
	return &c
}

// TestSpilledReportsAreIdentical: a findings document spilled to disk
// renders every format byte for byte as the same document in memory, for
// a mixed estate (objects, buckets, keys, coverage, waived findings,
// aggregates, a rule of two severities, conformance and a trend).
func TestSpilledReportsAreIdentical(t *testing.T) {
	d := testDoc()
	agg := aggregateModel(40, 12345).Findings
	d.Rules = append(d.Rules, agg.Rules...)
	for i, f := range agg.Findings {
		if i%3 == 0 {
			f.Suppressed = true
			f.Waiver = &findings.AppliedWaiver{Rule: f.Rule, Resource: f.Resource.UID, Reason: "legacy", State: findings.WaiverActive}
		}
		d.Findings = append(d.Findings, f)
	}
	// A rule whose findings have two severities (JUnit cannot read its
	// findings as one range of the sorted document).
	two := findings.NewFinding(&ruleObj, findings.Resource{Type: "object", Provider: "oss", Bucket: "0", Key: "k"}, "a second severity")
	two.Severity = findings.SeverityLow
	d.Findings = append(d.Findings, two)
	for i := range 30 {
		f := findings.NewFinding(&ruleBkt, findings.Resource{Type: "bucket", Provider: "oss", Bucket: fmt.Sprintf("z%02d", 29-i)}, fmt.Sprintf("bucket %d", i))
		f.Observed = map[string]any{"n": i, "ratio": float64(i) / 3, "list": []any{i, "x"}}
		f.FirstSeen, f.LastSeen = t0, t1
		d.Findings = append(d.Findings, f)
	}
	build := func(doc *findings.Document) *Model {
		in := ModelInput{SnapshotPath: writeSnapshot(t), Findings: doc, ToolVersion: "v1.2.3", Conformance: testRun(),
			Now:   func() time.Time { return now },
			Trend: []TrendPoint{{ScanID: "scan-0", At: t0.Add(-24 * time.Hour), Open: 5, BySeverity: map[string]int{"high": 5}}}}
		m, err := BuildModel(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mem := build(d)
	sp := build(spilledDoc(t, d, 7))
	if sp.Findings.Spill == nil || sp.Findings.Findings != nil {
		t.Fatal("the model's document is not the spilled one")
	}
	for _, r := range Formats {
		var want, got bytes.Buffer
		if err := r.Render(&want, mem); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		if err := r.Render(&got, sp); err != nil {
			t.Fatalf("%s spilled: %v", r.Name, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: the spilled document renders %d bytes, the in-memory one %d, not the same", r.Name, got.Len(), want.Len())
		}
	}
}
