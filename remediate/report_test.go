package remediate

import (
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/attest"
	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixtureBucket is one bucket of a fixture snapshot.
type fixtureBucket struct {
	b       snapshot.Bucket
	objects []snapshot.Object
	listErr *snapshot.Error
}

// writeScan writes what a report directory holds for package remediate:
// snapshot.json of buckets, findings.json (schema, complete, one
// aggregated finding when affected is not empty) and the affected-objects
// side file.
func writeScan(t *testing.T, dir, schema string, buckets []fixtureBucket, affected []findings.AffectedObject) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := snapshot.NewWriter(f, snapshot.Provenance{ScanID: "rescan-1", StartedAt: t0}, snapshot.WithClock(func() time.Time { return t0.Add(time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	for _, fb := range buckets {
		if err := w.BeginBucket(fb.b); err != nil {
			t.Fatal(err)
		}
		ok := int64(0)
		for _, o := range fb.objects {
			if err := w.Object(o); err != nil {
				t.Fatal(err)
			}
			if o.Error == nil {
				ok++
			}
		}
		if err := w.EndBucket(int64(len(fb.objects)), ok, fb.listErr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(snapshot.Coverage{}, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	doc := findings.Document{Schema: schema, GeneratedAt: t0, Profile: "default", Waivers: []findings.WaiverSummary{},
		Scan: findings.ScanInfo{ScanID: "scan-1", StartedAt: t0, FinishedAt: t0.Add(time.Minute), Complete: true,
			Dialect: "s3", Endpoint: "http://127.0.0.1:9", Snapshot: "snapshot.json"}, Findings: []findings.Finding{}}
	if len(affected) > 0 {
		doc.Findings = append(doc.Findings, findings.Finding{ID: "agg-1", Rule: "SSE-004", Severity: findings.SeverityHigh, Aggregate: &findings.Aggregate{Objects: int64(len(affected))}})
		g, err := os.Create(filepath.Join(dir, findings.AffectedFile))
		if err != nil {
			t.Fatal(err)
		}
		zw := gzip.NewWriter(g)
		enc := json.NewEncoder(zw)
		for _, a := range affected {
			if err := enc.Encode(a); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "findings.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// signedReport writes a scan into a new directory and signs it.
func signedReport(t *testing.T, schema string, buckets []fixtureBucket, affected []findings.AffectedObject) string {
	t.Helper()
	dir := t.TempDir()
	writeScan(t, dir, schema, buckets, affected)
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Sign(dir, nil, key, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

func obj(bucket, key, method string) snapshot.Object {
	o := snapshot.Object{Bucket: bucket, Key: key, Size: 10, ETag: "0123456789abcdef0123456789abcdef", LastModified: t0, Method: method}
	switch method {
	case snapshot.MethodOSSManaged:
		o.SSE = "AES256"
	case snapshot.MethodKMSCMK:
		o.SSE, o.KMSKeyID = "KMS", "cmk-1"
	}
	return o
}

func affectedLine(id, bucket, key, method string) findings.AffectedObject {
	return findings.AffectedObject{ID: id, Aggregate: "agg-1", Rule: "SSE-004", Bucket: bucket, Key: key, Size: 10,
		ETag: "0123456789abcdef0123456789abcdef", LastModified: t0, Method: method, FirstSeen: t0}
}

// TestResolve judges planned objects against a re-scan written to disk.
func TestResolve(t *testing.T) {
	const b1, b2 = "bucket-read", "bucket-unlisted"
	planned := []string{"resolved", "stronger", "still-none", "finding-open", "waived-open", "gone", "head-failed", "noncurrent-kept"}
	var objs []Object
	for _, k := range planned {
		objs = append(objs, Object{Key: k, Findings: []string{"f-" + k}})
	}
	p := &Plan{Encryption: Encryption{Algorithm: client.AlgorithmAES256}, Buckets: []BucketPlan{
		{Name: b1, SetDefault: &Encryption{Algorithm: client.AlgorithmAES256}, Objects: objs},
		{Name: b2, Objects: []Object{{Key: "unlisted", Findings: []string{"f-unlisted"}}}},
	}}
	r := &Result{Objects: []ObjectResult{{Bucket: b1, Key: "still-none", Outcome: OutcomeSkipped}}}
	failed := obj(b1, "head-failed", snapshot.MethodUnknown)
	failed.Error = &snapshot.Error{Code: "AccessDenied", Message: "HEAD refused"}
	old := obj(b1, "noncurrent-kept", snapshot.MethodNone)
	old.Noncurrent, old.VersionID = true, "v1"
	cur := obj(b1, "noncurrent-kept", snapshot.MethodOSSManaged)
	cur.VersionID = "v2"
	dir := t.TempDir()
	writeScan(t, dir, findings.SchemaVersion, []fixtureBucket{
		{b: snapshot.Bucket{Name: b1, ReadAt: t0, VersionsInspected: true}, objects: []snapshot.Object{
			obj(b1, "finding-open", snapshot.MethodOSSManaged), failed,
			cur, old, // the unencrypted original, kept as noncurrent, is written after the current one
			obj(b1, "resolved", snapshot.MethodOSSManaged), obj(b1, "still-none", snapshot.MethodNone),
			obj(b1, "stronger", snapshot.MethodKMSCMK), obj(b1, "waived-open", snapshot.MethodOSSManaged),
		}},
		{b: snapshot.Bucket{Name: b2, ReadAt: t0}, listErr: &snapshot.Error{Code: "AccessDenied", Message: "list refused"}},
	}, []findings.AffectedObject{
		affectedLine("f-finding-open", b1, "finding-open", snapshot.MethodOSSManaged),
		func() findings.AffectedObject {
			a := affectedLine("f-waived-open", b1, "waived-open", snapshot.MethodOSSManaged)
			a.Suppressed = true
			return a
		}(),
		func() findings.AffectedObject {
			a := affectedLine("f-noncurrent-kept", b1, "noncurrent-kept", snapshot.MethodNone)
			a.Noncurrent, a.VersionID = true, "v1"
			return a
		}(),
		affectedLine("f-other-rule", b1, "resolved", snapshot.MethodOSSManaged), // not a planned finding
	})
	rs, err := Resolve(p, r, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		bucket, key, status, reason string
		stillOpen                   []string
	}{
		{b1, "resolved", StatusResolved, "", nil},
		{b1, "stronger", StatusResolved, "", nil},
		{b1, "still-none", StatusOpen, "still none, planned AES256 (skipped by apply)", nil},
		{b1, "finding-open", StatusOpen, "the re-scan still reports f-finding-open", []string{"f-finding-open"}},
		{b1, "waived-open", StatusResolved, "", nil},
		{b1, "gone", StatusResolved, "no longer exists", nil},
		{b1, "head-failed", StatusOpen, "the re-scan could not read the object: HEAD refused", nil},
		{b1, "noncurrent-kept", StatusResolved, "", nil},
		{b2, "unlisted", StatusOpen, "the re-scan could not read the bucket", nil},
	}
	if len(rs.Objects) != len(want) {
		t.Fatalf("%d resolutions, want %d: %+v", len(rs.Objects), len(want), rs.Objects)
	}
	opens := 0
	for i, w := range want {
		got := rs.Objects[i]
		if got.Bucket != w.bucket || got.Key != w.key || got.Status != w.status || got.Reason != w.reason || strings.Join(got.StillOpen, ",") != strings.Join(w.stillOpen, ",") {
			t.Errorf("%s/%s: status %q reason %q still open %v; want %q %q %v", got.Bucket, got.Key, got.Status, got.Reason, got.StillOpen, w.status, w.reason, w.stillOpen)
		}
		if w.status == StatusOpen {
			opens++
		}
	}
	if rs.Targeted != len(want) || rs.Open != opens || rs.Resolved != len(want)-opens {
		t.Errorf("counts: targeted %d open %d resolved %d; want %d %d %d", rs.Targeted, rs.Open, rs.Resolved, len(want), opens, len(want)-opens)
	}
	if rs.ScanID != "rescan-1" || !rs.Complete {
		t.Errorf("re-scan %q complete %v; want rescan-1, complete", rs.ScanID, rs.Complete)
	}
	if got := rs.Objects[7].Now; got == nil || got.VersionID != "v2" || got.Method != snapshot.MethodOSSManaged {
		t.Errorf("noncurrent-kept: the re-scan's current object is %+v, want version v2, oss-managed", got)
	}
}

// TestBuildEdgeCases: plans from reports with nothing to do, of another
// schema, and with waived objects.
func TestBuildEdgeCases(t *testing.T) {
	const b = "bucket-a"
	aes := &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}
	now := func() time.Time { return t0.Add(time.Hour) }
	waived := affectedLine("f-waived", b, "waived", snapshot.MethodNone)
	waived.Suppressed = true
	old := affectedLine("f-old", b, "doc", snapshot.MethodNone)
	old.Noncurrent, old.VersionID = true, "v1"
	for _, tc := range []struct {
		name     string
		schema   string
		buckets  []fixtureBucket
		affected []findings.AffectedObject
		// wantErr, else the plan's object keys, noncurrent keys and
		// defaults to set.
		wantErr                     string
		wantObjects, wantNoncurrent []string
		wantDefaults                int
	}{
		{name: "empty report", schema: findings.SchemaVersion},
		{name: "nothing to do", schema: findings.SchemaVersion,
			buckets: []fixtureBucket{{b: snapshot.Bucket{Name: b, Encryption: aes, ReadAt: t0}, objects: []snapshot.Object{obj(b, "enc", snapshot.MethodOSSManaged)}}}},
		{name: "another schema", schema: "sseaudit.findings/v0", wantErr: `findings.json has schema "sseaudit.findings/v0"`},
		{name: "waived objects excluded", schema: findings.SchemaVersion,
			buckets:     []fixtureBucket{{b: snapshot.Bucket{Name: b, ReadAt: t0}, objects: []snapshot.Object{obj(b, "doc", snapshot.MethodNone), obj(b, "waived", snapshot.MethodNone)}}},
			affected:    []findings.AffectedObject{affectedLine("f-doc", b, "doc", snapshot.MethodNone), waived, old},
			wantObjects: []string{"doc"}, wantNoncurrent: []string{"doc"}, wantDefaults: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := signedReport(t, tc.schema, tc.buckets, tc.affected)
			p, err := Build(context.Background(), dir, PlanOptions{Encryption: Encryption{Algorithm: client.AlgorithmAES256}, Now: now})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var objects, noncurrent []string
			for _, bp := range p.Buckets {
				for _, o := range bp.Objects {
					objects = append(objects, o.Key)
				}
				for _, o := range bp.Noncurrent {
					noncurrent = append(noncurrent, o.Key)
				}
			}
			if strings.Join(objects, ",") != strings.Join(tc.wantObjects, ",") || strings.Join(noncurrent, ",") != strings.Join(tc.wantNoncurrent, ",") ||
				p.Summary.DefaultsToSet != tc.wantDefaults || p.Summary.Objects != len(tc.wantObjects) {
				t.Fatalf("plan objects %v noncurrent %v summary %+v; want %v %v, %d default(s)", objects, noncurrent, p.Summary, tc.wantObjects, tc.wantNoncurrent, tc.wantDefaults)
			}
			if p.Source.Profile != "default" {
				t.Errorf("the plan records profile %q, the report's is default", p.Source.Profile)
			}
			// Every plan, an empty one too, is a document Read takes back.
			path := filepath.Join(t.TempDir(), "plan.json")
			if err := Write(path, p); err != nil {
				t.Fatal(err)
			}
			back, _, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Buckets) != len(p.Buckets) {
				t.Fatalf("read back %d buckets, wrote %d", len(back.Buckets), len(p.Buckets))
			}
			raw, _ := os.ReadFile(path)
			if !strings.Contains(string(raw), `"buckets": [`) {
				t.Errorf("the plan's buckets are not a list: %s", raw)
			}
		})
	}
}
