package reports

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/snapshot"
)

var (
	t0  = time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	t1  = t0.Add(5 * time.Minute)
	now = t1.Add(time.Minute)
)

// writeSnapshot writes a small snapshot: bucket "a" (KMS default with CMK
// k1, Enabled; 4 objects listed, 3 inspected: kms-cmk 100 bytes, none 20
// bytes, HEAD error), bucket "b" (no rule, 1 unencrypted object of 7
// bytes), bucket "c" (rule unreadable, empty).
func writeSnapshot(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snapshot.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := snapshot.NewWriter(f, snapshot.Provenance{
		ScanID: "scan-1", StartedAt: t0, ToolVersion: "v0.snap",
		Target:  snapshot.Target{Kind: "oss", Dialect: "oss", Endpoint: "oss-cn-hangzhou.aliyuncs.com"},
		Regions: []string{"cn-hangzhou"},
	}, snapshot.WithClock(func() time.Time { return t1 }))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.BeginBucket(snapshot.Bucket{Name: "a", Region: "cn-hangzhou", ReadAt: t0,
		Encryption: &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: "k1", Method: snapshot.MethodKMSCMK}}))
	must(w.Object(snapshot.Object{Bucket: "a", Key: "x", Size: 100, Method: snapshot.MethodKMSCMK, SSE: "KMS", KMSKeyID: "k1"}))
	must(w.Object(snapshot.Object{Bucket: "a", Key: "y", Size: 20, Method: snapshot.MethodNone}))
	must(w.Object(snapshot.Object{Bucket: "a", Key: "z", Method: snapshot.MethodUnknown,
		Error: &snapshot.Error{Scope: "object", Resource: "oss://a/z", Message: "403"}}))
	must(w.EndBucket(4, 2, nil))
	must(w.BeginBucket(snapshot.Bucket{Name: "b", Region: "cn-hangzhou", ReadAt: t0}))
	must(w.Object(snapshot.Object{Bucket: "b", Key: "q", Size: 7, Method: snapshot.MethodNone}))
	must(w.EndBucket(1, 1, nil))
	must(w.BeginBucket(snapshot.Bucket{Name: "c", Region: "cn-hangzhou", ReadAt: t0,
		EncryptionError: &snapshot.Error{Scope: "rule", Resource: "oss://c", Message: "AccessDenied"}}))
	must(w.EndBucket(0, 0, nil))
	must(w.Key(snapshot.Key{KeyID: "k1", Region: "cn-hangzhou", State: "Enabled", ReadAt: t1}))
	must(w.Close(snapshot.Coverage{Buckets: 3, BucketsRead: 2, ObjectsListed: 5, ObjectsInspected: 3, KeysReferenced: 1, KeysDescribed: 1,
		Errors: []snapshot.Error{{Scope: "object", Resource: "oss://a/z", Message: "403"}}}, true))
	return path
}

var (
	ruleObj = findings.RuleMeta{ID: "SSE-001", Title: "Object not encrypted", Description: "Every object must be encrypted.",
		Severity: findings.SeverityHigh, Category: findings.CategoryEncryption, ResourceType: findings.ResourceObject,
		Remediation: findings.Remediation{Text: "Re-encrypt the object | in place.", CLI: "ossutil cp oss://b/k oss://b/k --meta x-oss-server-side-encryption:KMS"},
		Controls:    []findings.Control{{Framework: "CIS-AliCloud-2.0", ID: "5.8"}, {Framework: "PCI-DSS-4.0", ID: "3.5.1"}}}
	ruleCov = findings.RuleMeta{ID: "SSE-010", Title: "State unknown", Description: "Could not be read.",
		Severity: findings.SeverityMedium, Category: findings.CategoryCoverage, ResourceType: findings.ResourceObject,
		Remediation: findings.Remediation{Text: "Grant read access."}, Controls: []findings.Control{}}
	ruleBkt = findings.RuleMeta{ID: "SSE-002", Title: "Bucket default encryption", Description: "Default SSE must be set.",
		Severity: findings.SeverityCritical, Category: findings.CategoryEncryption, ResourceType: findings.ResourceBucket,
		Remediation: findings.Remediation{Text: "Set default encryption."}, Controls: []findings.Control{{Framework: "CIS-AliCloud-2.0", ID: "5.8"}}}
	rulePass = findings.RuleMeta{ID: "SSE-005", Title: "Key enabled", Severity: findings.SeverityLow,
		Category: findings.CategoryKey, ResourceType: findings.ResourceKey, Controls: []findings.Control{}}
)

// testDoc: open object finding (a/y), waived object finding (b/q), coverage
// error (a/z), open bucket finding (b), and a key rule with no findings.
func testDoc() *findings.Document {
	mk := func(meta *findings.RuleMeta, r findings.Resource, msg string) findings.Finding {
		f := findings.NewFinding(meta, r, msg)
		f.FirstSeen, f.LastSeen = t0.Add(-24*time.Hour), t1
		return f
	}
	open := mk(&ruleObj, findings.Resource{Type: "object", Provider: "oss", Region: "cn-hangzhou", Bucket: "a", Key: "=cmd|' /C calc'!A0"}, "object a/y is not encrypted, \"quoted\", | piped\nsecond line")
	waived := mk(&ruleObj, findings.Resource{Type: "object", Provider: "oss", Region: "cn-hangzhou", Bucket: "b", Key: "q"}, "object b/q is not encrypted")
	waived.Suppressed = true
	waived.Waiver = &findings.AppliedWaiver{Rule: "SSE-001", Resource: "oss://b/*", Reason: "legacy, migrating in Q3", Owner: "storage@example.com", Expires: "2026-12-31", State: findings.WaiverActive}
	cov := mk(&ruleCov, findings.Resource{Type: "object", Provider: "oss", Region: "cn-hangzhou", Bucket: "a", Key: "z"}, "HEAD failed: 403")
	bkt := mk(&ruleBkt, findings.Resource{Type: "bucket", Provider: "oss", Region: "cn-hangzhou", Bucket: "b", KMSKeyID: "k1"}, "bucket b has no default encryption")
	return &findings.Document{
		Schema: findings.SchemaVersion, GeneratedAt: t1,
		Scan:         findings.ScanInfo{ScanID: "scan-1", StartedAt: t0, Complete: true, ToolVersion: "v0.doc"},
		PolicyDigest: "sha256:feed",
		Rules:        []findings.RuleMeta{ruleObj, ruleCov, ruleBkt, rulePass},
		Findings:     []findings.Finding{waived, open, cov, bkt},
	}
}

func testRun() *results.Run {
	return &results.Run{Scenarios: []results.Scenario{
		{Feature: "Default SSE", Name: "applies KMS", Dialect: "oss", Status: "passed", Duration: time.Second},
		{Feature: "Default SSE", Name: "rejects bad key", Dialect: "s3", Status: "failed", Error: "want 400, got 200\ndetail", Tags: []string{"@s3", "@s3"}},
		{Feature: "Copy", Name: "keeps SSE", Dialect: "oss", Status: "skipped", Error: "@live only"},
		{Feature: "Copy", Name: "pending one", Dialect: "oss", Status: "undefined", Error: "step undefined"},
	}, Passed: 1, Failed: 2, Skipped: 1, ExitCode: 1}
}

// testModel builds the model of the fixture.
func testModel(t *testing.T, conformance bool) *Model {
	t.Helper()
	in := ModelInput{SnapshotPath: writeSnapshot(t), Findings: testDoc(), ToolVersion: "v1.2.3",
		Now:   func() time.Time { return now },
		Trend: []TrendPoint{{ScanID: "scan-0", At: t0.Add(-24 * time.Hour), Open: 5, BySeverity: map[string]int{"high": 5}}}}
	if conformance {
		in.Conformance = testRun()
	}
	m, err := BuildModel(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
