package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/client"
)

// TestScanFindsPublicBucketWithUnencryptedObjects: a public-read bucket
// holding unencrypted objects is found end to end (scan -> snapshot ->
// policies -> findings.json): one aggregated SSE-017 finding counting its
// two unencrypted objects (not the encrypted one), and SSE-018 on the
// bucket; the private bucket beside it has neither.
func TestScanFindsPublicBucketWithUnencryptedObjects(t *testing.T) {
	ctx := context.Background()
	srv, getenv, c, _ := startEmpty(t)
	for _, b := range []string{"pub-open", "pub-closed"} {
		if err := c.CreateBucket(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"a", "b"} {
			if _, err := c.PutObject(ctx, b, k, strings.NewReader("x"), 1, client.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.PutObject(ctx, b, "enc", strings.NewReader("x"), 1, client.PutOptions{SSE: &client.SSE{Algorithm: client.AlgorithmAES256}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PutBucketACL(ctx, "pub-open", client.ACLPublicRead); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "scan")
	r := runCLIEnv(t, getenv, "scan", "--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint,
		"--history", "", "--out", out)
	if r.code != exitGate {
		t.Fatalf("exit %d, want %d: %v\n%s", r.code, exitGate, r.err, r.stdout)
	}
	doc := readFindingsDoc(t, filepath.Join(out, "findings.json"))
	got := map[string]int64{}
	for _, f := range doc.Findings {
		if f.Rule != "SSE-017" && f.Rule != "SSE-018" {
			continue
		}
		n := int64(1)
		if f.Aggregate != nil {
			n = f.Aggregate.Objects
		}
		got[f.Rule+" "+f.Resource.Bucket] += n
		if f.Rule == "SSE-017" && (f.Severity.String() != "critical" || !strings.Contains(f.Message, "publicly readable")) {
			t.Errorf("SSE-017: severity %s, message %q", f.Severity, f.Message)
		}
		if f.Rule == "SSE-018" && !strings.Contains(f.Message, "server-side encryption does not protect") {
			t.Errorf("SSE-018 message %q", f.Message)
		}
	}
	want := map[string]int64{"SSE-017 pub-open": 2, "SSE-018 pub-open": 1}
	if len(got) != len(want) || got["SSE-017 pub-open"] != 2 || got["SSE-018 pub-open"] != 1 {
		t.Errorf("access findings %v, want %v", got, want)
	}
}

// TestScanNoAccess: --no-access reads no ACL or policy, so the public
// bucket's access findings are not raised and the snapshot records none.
func TestScanNoAccess(t *testing.T) {
	ctx := context.Background()
	srv, getenv, c, _ := startEmpty(t)
	if err := c.CreateBucket(ctx, "pub-open", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, "pub-open", "a", strings.NewReader("x"), 1, client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutBucketACL(ctx, "pub-open", client.ACLPublicRead); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "scan")
	r := runCLIEnv(t, getenv, "scan", "--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint,
		"--history", "", "--out", out, "--no-access")
	if r.code != exitGate {
		t.Fatalf("exit %d, want %d: %v\n%s", r.code, exitGate, r.err, r.stdout)
	}
	for _, f := range readFindingsDoc(t, filepath.Join(out, "findings.json")).Findings {
		if f.Rule == "SSE-017" || f.Rule == "SSE-018" {
			t.Errorf("--no-access still judged access: %s on %s", f.Rule, f.Resource.Bucket)
		}
	}
}
