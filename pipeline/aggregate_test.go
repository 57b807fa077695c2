package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/attest"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/reports"
)

// readAffected reads a run's side file.
func readAffected(t *testing.T, dir string) []findings.AffectedObject {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, AffectedFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []findings.AffectedObject
	if err := findings.ReadAffected(f, func(o *findings.AffectedObject) error {
		out = append(out, *o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAggregatedRun scans the demo estate twice into signed report sets
// with one history: findings are aggregated, the side file lists every
// object and is signed with the set, the second run's per-object lines and
// aggregates keep the first run's first-seen times, and the report counts
// compliant objects as before aggregation.
func TestAggregatedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the embedded reference twice")
	}
	dir := t.TempDir()
	hist, err := history.Open(filepath.Join(dir, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer hist.Close()
	run := func(out string) *Result {
		res, err := Run(context.Background(), Options{
			Out: out, Report: true, History: hist, FailOn: findings.SeverityCritical + 1,
			Sign: &Signing{KeyPath: filepath.Join(dir, "keys", "signing.key")},
		})
		if err != nil && !IsGate(err) {
			t.Fatalf("run: %v", err)
		}
		return res
	}
	out := filepath.Join(dir, "report")
	first := run(out)
	lines1 := readAffected(t, out)

	var aggs []findings.Finding
	objects := int64(0)
	for _, f := range first.Findings.Findings {
		if f.Resource.Type == findings.ResourceObject {
			t.Errorf("a per-object finding in findings.json: %s", f.Resource.UID)
		}
		if f.Aggregate != nil {
			aggs = append(aggs, f)
			objects += f.Aggregate.Objects
		}
	}
	if len(aggs) < 3 || int64(len(lines1)) != objects {
		t.Fatalf("%d aggregates of %d objects, %d side-file lines", len(aggs), objects, len(lines1))
	}
	if s := first.Findings.Summary.AffectedObjects; int64(s.Open+s.Suppressed) != objects {
		t.Errorf("summary affected objects %+v, aggregates count %d", s, objects)
	}

	// The side file is part of the signed set.
	rep, err := attest.Verify(context.Background(), out, attest.VerifyOptions{})
	if err != nil || !rep.OK() {
		t.Fatalf("report does not verify: %v %+v", err, rep)
	}
	raw, err := os.ReadFile(filepath.Join(out, attest.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var man attest.Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(man.Files, func(f attest.FileDigest) bool { return f.Path == AffectedFile }) {
		t.Errorf("manifest does not list %s: %+v", AffectedFile, man.Files)
	}

	// Compliance counts what it counted before aggregation: every object
	// an open finding names is not compliant.
	c := first.Model.Compliance
	if c == nil || c.Objects == 0 || c.ObjectsCompliant+objects > c.Objects {
		t.Errorf("compliance %+v with %d objects under open findings", c, objects)
	}
	want := perObjectCompliance(t, first)
	if c.ObjectsCompliant != want.ObjectsCompliant || c.BytesCompliant != want.BytesCompliant || c.BucketsCompliant != want.BucketsCompliant {
		t.Errorf("compliance from aggregates %+v, from per-object findings %+v", *c, want)
	}

	time.Sleep(1100 * time.Millisecond) // a later scan time
	second := run(out)                  // replaces the earlier report set
	lines2 := readAffected(t, out)
	if len(lines2) != len(lines1) {
		t.Fatalf("second scan: %d lines, first %d", len(lines2), len(lines1))
	}
	seen1 := map[string]time.Time{}
	for _, l := range lines1 {
		seen1[l.ID] = l.FirstSeen
	}
	for _, l := range lines2 {
		t0, ok := seen1[l.ID]
		if !ok {
			t.Errorf("object finding %s (%s/%s) has another id in the second scan", l.ID, l.Bucket, l.Key)
			continue
		}
		if !l.FirstSeen.Equal(t0) {
			t.Errorf("%s/%s: first seen %v in the second scan, want the first scan's %v", l.Bucket, l.Key, l.FirstSeen, t0)
		}
	}
	for _, f := range second.Findings.Findings {
		if f.Aggregate != nil && !f.FirstSeen.Before(f.LastSeen) {
			t.Errorf("aggregate %s first seen %v, last seen %v: history not used", f.Resource.UID, f.FirstSeen, f.LastSeen)
		}
	}
}

// perObjectCompliance is the compliance headline computed the way it was
// before aggregation: from one finding per object, built from the side
// file's lines.
func perObjectCompliance(t *testing.T, res *Result) reports.Compliance {
	t.Helper()
	doc := *res.Findings
	doc.Findings = nil
	meta := map[string]findings.RuleMeta{}
	for _, r := range doc.Rules {
		meta[r.ID] = r
	}
	for _, f := range res.Findings.Findings {
		if f.Aggregate == nil {
			doc.Findings = append(doc.Findings, f)
		}
	}
	for _, l := range readAffected(t, res.Dir) {
		m := meta[l.Rule]
		f := findings.NewFinding(&m, findings.Resource{Type: findings.ResourceObject, Provider: "oss", Bucket: l.Bucket, Key: l.Key, VersionID: l.VersionID}, l.Message)
		f.Suppressed = l.Suppressed
		doc.Findings = append(doc.Findings, f)
	}
	m, err := reports.BuildModel(context.Background(), reports.ModelInput{SnapshotPath: res.SnapshotPath, Findings: &doc})
	if err != nil {
		t.Fatal(err)
	}
	return *m.Compliance
}
