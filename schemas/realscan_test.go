package schemas_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/estate"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/scan"
	"github.com/sseaudit/sseaudit/schemas"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestRealScanFollowsSchemas scans the demo estate on the embedded
// reference over loopback (both dialects, through the real SDKs),
// evaluates the built-in policies and writes the report set; snapshot.json,
// findings.json and report.json must follow their schemas.
func TestRealScanFollowsSchemas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded reference")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, stop, err := embedded.StartTemp(ctx, embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	if _, err := estate.Seed(ctx, srv); err != nil {
		t.Fatal(err)
	}
	engine, err := policy.Load(ctx, policy.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, dialect := range []client.Dialect{client.OSS, client.S3} {
		t.Run(string(dialect), func(t *testing.T) {
			c, err := client.New(client.Config{Dialect: dialect, Endpoint: srv.Endpoint, Region: srv.Region,
				AccessKeyID: srv.AccessKeyID, AccessKeySecret: srv.AccessKeySecret})
			if err != nil {
				t.Fatal(err)
			}
			kms, err := client.KMS(client.KMSConfig{Endpoint: srv.KMSEndpoint, Region: srv.Region,
				AccessKeyID: srv.AccessKeyID, AccessKeySecret: srv.AccessKeySecret})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			snap := filepath.Join(dir, "snapshot.json")
			sum, err := scan.RunToFile(ctx, scan.Config{Client: c, KMS: kms, Region: srv.Region, Concurrency: 4, Versions: true,
				ToolVersion: "v0.0.0-test", TargetInfo: snapshot.Target{Kind: "reference", Dialect: string(dialect), Endpoint: srv.Endpoint}}, snap)
			if err != nil {
				t.Fatal(err)
			}
			if len(sum.Buckets) == 0 {
				t.Fatal("the scan read no bucket")
			}
			fs, err := engine.EvaluateSnapshot(ctx, snap, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			// As every run reports them: object findings aggregated.
			agg := findings.NewAggregator(io.Discard, findings.AggregatorOptions{AggregateBy: findings.AggregateByOf(engine.Rules())})
			st, err := engine.EvaluateStream(ctx, policy.FileSource(snap), nil, nil, agg)
			if err != nil {
				t.Fatal(err)
			}
			aggs, err := agg.Close()
			if err != nil || len(aggs) == 0 {
				t.Fatalf("%d aggregates: %v", len(aggs), err)
			}
			files := map[string]string{snap: schemas.SnapshotFormat}
			var m *reports.Model
			for name, fs := range map[string][]findings.Finding{"report": fs, "aggregated": append(st.Findings, aggs...)} {
				doc := engine.Document(policy.ScanInfo(&sum, snap, nil), fs)
				m, err = reports.BuildModel(ctx, reports.ModelInput{SnapshotPath: snap, Findings: doc, ToolVersion: "v0.0.0-test", Flagged: agg.Flagged(),
					Outcome: &findings.Outcome{Verdict: findings.VerdictFail, ExitCode: 1, FailOn: "high", Reasons: []string{"findings at or above high"}, Gaps: []findings.Gap{}}})
				if err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(dir, name)
				if _, err := reports.WriteAll(out, m); err != nil {
					t.Fatal(err)
				}
				files[filepath.Join(out, reports.ModelFile)] = schemas.ReportFormat
				files[filepath.Join(out, reports.FindingsFile)] = schemas.FindingsFormat
			}
			for file, format := range files {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if err := schemas.Validate(format, bytes.NewReader(b)); err != nil {
					t.Errorf("%s: %v", file, err)
				}
			}
			if len(m.Findings.Findings) == 0 || m.Compliance == nil || len(sum.Keys) == 0 {
				t.Errorf("the demo estate gave %d findings, compliance %v, %d keys: the test checks too little", len(m.Findings.Findings), m.Compliance, len(sum.Keys))
			}
			t.Logf("%s: %d buckets, %d findings, compliance %+v", dialect, len(sum.Buckets), len(m.Findings.Findings), *m.Compliance)
		})
	}
}
