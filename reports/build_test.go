package reports

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/snapshot"
)

func TestBuildModel(t *testing.T) {
	path := writeSnapshot(t)
	digest, err := snapshot.Digest(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := testDoc()
	firstBefore := doc.Findings[0].ID
	m, err := BuildModel(context.Background(), ModelInput{SnapshotPath: path, Findings: doc, ToolVersion: "v1.2.3",
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Findings[0].ID != firstBefore {
		t.Error("BuildModel reordered the caller's findings")
	}
	p := m.Provenance
	checks := []struct {
		name      string
		got, want any
	}{
		{"schema", m.Schema, ModelSchema},
		{"generated", m.GeneratedAt, now},
		{"tool", m.Tool, Tool{Name: "sseaudit", Version: "v1.2.3"}},
		{"scan tool version", p.ScanToolVersion, "v0.snap"},
		{"compliance", *m.Compliance, Compliance{Threshold: "low", Buckets: 3, Objects: 5, ObjectsCompliant: 1, Bytes: 127, BytesCompliant: 100}},
		{"snapshot digest", p.SnapshotDigest, "sha256:" + digest},
		{"policy digest", p.PolicyDigest, "sha256:feed"},
		{"scan id", p.ScanID, "scan-1"},
		{"started", p.StartedAt, t0},
		{"finished", p.FinishedAt, t1},
		{"complete", p.Complete, true},
		{"target", p.Target.Endpoint, "oss-cn-hangzhou.aliyuncs.com"},
		{"regions", p.Regions, []string{"cn-hangzhou"}},
		{"coverage objects", m.Coverage.ObjectsListed, int64(5)},
		{"coverage errors", len(m.Coverage.Errors), 1},
		{"buckets", len(m.Buckets), 3},
		{"sorted findings: critical first", m.Findings.Findings[0].Rule, "SSE-002"},
		{"summary open", m.Findings.Summary.Open, 3},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	want := []BucketStat{
		{Name: "a", Region: "cn-hangzhou", DefaultMethod: "kms-cmk", DefaultKeyID: "k1", DefaultAlgorithm: "KMS",
			Objects: 4, Encrypted: 1, Unencrypted: 1, Unknown: 2,
			ByMethod:     map[string]int{"kms-cmk": 1, "none": 1, "unknown": 2},
			Encryption:   []EncryptionCount{{Method: "kms-cmk", Algorithm: "KMS", Objects: 1}, {Method: "none", Objects: 1}},
			OpenFindings: 2, WorstOpen: "high",
			// x is compliant (CMK k1 Enabled, no finding); y is unencrypted,
			// z and the listed-only object are unknown. The open finding on
			// another object of a keeps the bucket non-compliant.
			ObjectsCompliant: 1, Bytes: 120, BytesCompliant: 100,
			Keys: []BucketKey{{KeyID: "k1", Region: "cn-hangzhou", State: "Enabled", Default: true, Objects: 1}}},
		{Name: "b", Region: "cn-hangzhou", DefaultMethod: "none", Objects: 1, Unencrypted: 1,
			ByMethod: map[string]int{"none": 1}, Encryption: []EncryptionCount{{Method: "none", Objects: 1}},
			OpenFindings: 1, WorstOpen: "critical", Bytes: 7},
		{Name: "c", Region: "cn-hangzhou", DefaultMethod: "unknown", ByMethod: map[string]int{}},
	}
	for i := range want {
		if i >= len(m.Buckets) || !reflect.DeepEqual(m.Buckets[i], want[i]) {
			t.Errorf("bucket %d = %+v, want %+v", i, m.Buckets[i], want[i])
		}
	}
	for _, b := range m.Buckets {
		sum := 0
		for _, n := range b.ByMethod {
			sum += n
		}
		if b.Encrypted+b.Unencrypted+b.Unknown != b.Objects || int64(sum) != b.Objects {
			t.Errorf("bucket %s counts do not add up: %+v", b.Name, b)
		}
	}
}

func TestBuildModelErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"schema":"other"}`), 0o644)
	cases := []struct {
		name string
		ctx  context.Context
		path string
	}{
		{"cancelled", ctx, writeSnapshot(t)},
		{"missing", context.Background(), filepath.Join(t.TempDir(), "nope.json")},
		{"malformed", context.Background(), bad},
	}
	for _, c := range cases {
		if _, err := BuildModel(c.ctx, ModelInput{SnapshotPath: c.path, Findings: testDoc()}); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestBuildModelWithoutSnapshot(t *testing.T) {
	m, err := BuildModel(context.Background(), ModelInput{Findings: testDoc()})
	if err != nil {
		t.Fatal(err)
	}
	// The report's producer is the running tool: without a ToolVersion it
	// is unknown, never the version that wrote the findings document.
	if m.Provenance.ScanID != "scan-1" || m.Tool.Version != UnknownVersion || m.Provenance.ScanToolVersion != "v0.doc" ||
		m.Provenance.SnapshotDigest != "" || len(m.Buckets) != 0 || m.Compliance != nil {
		t.Fatalf("model without snapshot: %+v %+v", m.Tool, m.Provenance)
	}
	m, err = BuildModel(context.Background(), ModelInput{})
	if err != nil || m.Findings == nil || m.Findings.Findings == nil {
		t.Fatalf("empty input: %v %+v", err, m)
	}
}

func TestModelJSONRoundTrip(t *testing.T) {
	m := testModel(t, true)
	var a bytes.Buffer
	if err := m.WriteJSON(&a); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := back.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatalf("report.json does not round-trip:\n%s\n---\n%s", a.String(), b.String())
	}
	// Every renderer gives the same bytes from the re-read model.
	for _, f := range Formats {
		var x, y bytes.Buffer
		if err := f.Render(&x, m); err != nil {
			t.Fatal(err)
		}
		if err := f.Render(&y, back); err != nil {
			t.Fatal(err)
		}
		if x.String() != y.String() {
			t.Errorf("%s differs after report.json round trip", f.File)
		}
	}
}

func TestDecodeModelRejects(t *testing.T) {
	var buf bytes.Buffer
	testModel(t, false).WriteJSON(&buf)
	good := buf.String()
	cases := []struct{ name, doc string }{
		{"other schema", strings.Replace(good, ModelSchema, "sseaudit.report/v0", 1)},
		{"unknown member", strings.Replace(good, `"schema"`, `"bogus": 1, "schema"`, 1)},
		{"trailing data", good + "{}"},
		{"truncated", good[:len(good)/2]},
		{"no findings", `{"schema":"` + ModelSchema + `"}`},
	}
	for _, c := range cases {
		_, err := DecodeModel(strings.NewReader(c.doc))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
		}
		if c.name == "other schema" && !errors.Is(err, ErrModelSchema) {
			t.Errorf("%s: %v is not ErrModelSchema", c.name, err)
		}
	}
	if _, err := DecodeModel(strings.NewReader(good)); err != nil {
		t.Fatalf("good document rejected: %v", err)
	}
}

// TestBucketStatVersions: with scan --versions, noncurrent versions are
// counted apart from the bucket's (current) objects, so the encrypted share
// of a bucket is not diluted by history, and unencrypted ones are named.
func TestBucketStatVersions(t *testing.T) {
	b := &snapshot.Bucket{Name: "v", Region: "cn-hangzhou", Versioning: "Enabled", VersionsInspected: true, ObjectsListed: 4,
		Objects: []snapshot.Object{
			{Key: "doc", VersionID: "3", Method: snapshot.MethodOSSManaged},
			{Key: "doc", VersionID: "2", Method: snapshot.MethodNone, Noncurrent: true},
			{Key: "doc", VersionID: "1", Method: snapshot.MethodOSSManaged, Noncurrent: true},
			{Key: "img", VersionID: "4", Method: snapshot.MethodNone},
		}}
	got := bucketStat(b)
	want := BucketStat{Name: "v", Region: "cn-hangzhou", DefaultMethod: snapshot.MethodNone, Objects: 2, Encrypted: 1, Unencrypted: 1,
		ByMethod: map[string]int{snapshot.MethodOSSManaged: 1, snapshot.MethodNone: 1}, Versioning: "Enabled",
		Encryption:         []EncryptionCount{{Method: snapshot.MethodOSSManaged, Objects: 1}, {Method: snapshot.MethodNone, Objects: 1}},
		NoncurrentVersions: 2, NoncurrentUnencrypted: 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("bucketStat = %+v\nwant %+v", got, want)
	}
}
