package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// writeRawEstate writes a snapshot whose findings carry raw response
// bodies as evidence (ACL, policy and rule bodies) and returns its path
// and those bodies.
func writeRawEstate(t *testing.T, dir string) (string, []string) {
	t.Helper()
	pad := strings.Repeat("x", 6000)
	raws := []string{
		`<AccessControlPolicy><Grant>public-read</Grant>` + pad + `</AccessControlPolicy>`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"oss:GetObject","Sid":"` + pad + `"}]}`,
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"oss:PutObject","Sid":"` + pad + `"}]}`,
		`<ServerSideEncryptionRule><SSEAlgorithm>SM4</SSEAlgorithm>` + pad + `</ServerSideEncryptionRule>`,
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p := filepath.Join(dir, "raw.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := snapshot.NewWriter(f, snapshot.Provenance{ScanID: "s-raw", StartedAt: at, ToolVersion: "test",
		Target: snapshot.Target{Kind: "reference", Dialect: "oss", Endpoint: "127.0.0.1:9000"}, Regions: []string{"cn-hangzhou"}},
		snapshot.WithClock(func() time.Time { return at.Add(time.Hour) }))
	if err != nil {
		t.Fatal(err)
	}
	pub := snapshot.Bucket{Name: "a-pub", Encryption: &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged, Raw: "<Rule>AES256</Rule>"},
		ACL:    &snapshot.ACL{Canned: "public-read", PublicRead: true, Raw: raws[0]},
		Policy: &snapshot.Policy{Status: snapshot.PolicySet, Raw: raws[1], RawSHA256: "d1", AllowsPublicRead: true}}
	guard := snapshot.Bucket{Name: "b-guard", ACL: &snapshot.ACL{Canned: "private", Raw: "<ACL>private</ACL>"},
		Policy: &snapshot.Policy{Status: snapshot.PolicySet, Raw: raws[2], RawSHA256: "d2", DeniesUnencryptedPut: true}}
	sm4 := snapshot.Bucket{Name: "c-sm4", Encryption: &snapshot.Rule{Algorithm: "SM4", Method: snapshot.MethodOther, Raw: raws[3]}}
	for _, b := range []snapshot.Bucket{pub, guard, sm4} {
		b.Region, b.CreationDate, b.ReadAt = "cn-hangzhou", at.Add(-time.Hour), at
		if err := w.BeginBucket(b); err != nil {
			t.Fatal(err)
		}
		o := snapshot.Object{Key: "k", Size: 1, ETag: `"e"`, LastModified: at, Method: snapshot.MethodNone}
		if err := w.Object(o); err != nil {
			t.Fatal(err)
		}
		if err := w.EndBucket(1, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(snapshot.Coverage{Buckets: 3, BucketsRead: 3, ObjectsListed: 3, ObjectsInspected: 3, Errors: []snapshot.Error{}}, true); err != nil {
		t.Fatal(err)
	}
	return p, raws
}

// TestLeanSummaryRunIdentical: a run whose summary leaves out the
// buckets' raw bodies writes the findings.json, report.json and SARIF of
// one that holds them, raw bodies in the evidence included.
func TestLeanSummaryRunIdentical(t *testing.T) {
	dir := t.TempDir()
	snap, raws := writeRawEstate(t, dir)
	for _, prev := range []string{"", snap} {
		leanRunIdentical(t, dir, snap, prev, raws)
	}
}

// leanRunIdentical runs over snap (compared with prev, when set) with the
// lean summary and with the full one.
func leanRunIdentical(t *testing.T, dir, snap, prev string, raws []string) {
	t.Helper()
	run := func(out string, full bool) *Result {
		if prev != "" {
			out += "-prev"
		}
		o := Options{FromSnapshot: snap, Previous: prev, Out: filepath.Join(dir, out), Report: true, FailOn: findings.SeverityHigh, FailOnName: "high", fullHeaders: full}
		res, err := Run(context.Background(), o)
		if err != nil && !IsGate(err) {
			t.Fatalf("run: %v", err)
		}
		return res
	}
	lean, full := run("lean", false), run("full", true)
	if !lean.Summary.Lean || full.Summary.Lean {
		t.Fatalf("summaries lean: %v, %v; want true, false", lean.Summary.Lean, full.Summary.Lean)
	}
	// The documents' generation times differ.
	stamp := regexp.MustCompile(`"generated_at": *"[^"]*"`)
	read := func(res *Result, name string) []byte {
		b, err := os.ReadFile(filepath.Join(res.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return stamp.ReplaceAll(b, nil)
	}
	for _, name := range []string{FindingsFile, "report.json", "results.sarif"} {
		a, b := read(lean, name), read(full, name)
		if !bytes.Equal(a, b) {
			t.Errorf("previous %q: %s differs between the lean and the full summary (%d and %d bytes)", prev, name, len(a), len(b))
		}
	}
	doc := read(lean, FindingsFile)
	for _, r := range raws {
		q, _ := json.Marshal(r)
		if !bytes.Contains(doc, q[1:len(q)-1]) {
			t.Errorf("%s carries no raw body %.40q...", FindingsFile, r)
		}
	}
}
