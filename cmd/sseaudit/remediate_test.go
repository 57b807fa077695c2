package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/remediate"
)

// remEstate is a reference with an estate to remediate, and the signed
// report of its scan.
type remEstate struct {
	srv     *embedded.Reference
	getenv  func(string) string
	c       *client.Client
	dialect client.Dialect
	report  string
	work    string
}

const (
	remPlain     = "rem-plain"
	remVersioned = "rem-versioned"
	mib          = 1 << 20
)

func remEnv(ak, sk string) func(string) string {
	envs := map[string]string{
		"SSEAUDIT_ROOT_ACCESS_KEY_ID": "REMAK", "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": "rem-secret",
		"OSS_ACCESS_KEY_ID": ak, "OSS_ACCESS_KEY_SECRET": sk,
		"AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk,
		"READER_SECRET": "reader-secret",
	}
	return func(k string) string { return envs[k] }
}

// objectBefore is what a remediated object must keep.
type objectBefore struct {
	key, contentType, acl, class string
	meta, tags, headers          map[string]string
	body                         []byte
}

func remObjects(d client.Dialect) []objectBefore {
	class, acl := "IA", "public-read"
	if d == client.S3 {
		class, acl = "STANDARD_IA", "public-read"
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 6*mib/16+7) // > 6 MiB: two 5 MiB parts
	return []objectBefore{
		{key: "docs/meta.txt", contentType: "text/plain", acl: acl, class: class,
			meta: map[string]string{"owner": "alice", "team": "audit"}, tags: map[string]string{"env": "prod", "cost": "42"},
			headers: map[string]string{"Cache-Control": "max-age=60", "Content-Disposition": "attachment; filename=m.txt"},
			body:    []byte("metadata, tags, ACL and class must survive")},
		{key: "plain.bin", contentType: "application/octet-stream", body: []byte("just bytes")},
		{key: "big.bin", contentType: "application/x-big", meta: map[string]string{"size": "big"}, tags: map[string]string{"k": "v"}, body: big},
	}
}

// startRemEstate seeds, scans (audit --endpoint, signed) and returns.
func startRemEstate(t *testing.T, d client.Dialect) *remEstate {
	t.Helper()
	return startRemEstateN(t, d, 0)
}

// startRemEstateN adds n small objects many/NNN to the versioned bucket.
// procEnv is the environment of a built binary run against the estate:
// its credentials for both dialects, HOME in its work directory.
func (e *remEstate) procEnv() []string {
	return append(cleanEnv(), "OSS_ACCESS_KEY_ID=REMAK", "OSS_ACCESS_KEY_SECRET=rem-secret",
		"AWS_ACCESS_KEY_ID=REMAK", "AWS_SECRET_ACCESS_KEY=rem-secret", "HOME="+e.work)
}

func startRemEstateN(t *testing.T, d client.Dialect, n int) *remEstate {
	t.Helper()
	return startRemEstateIn(t, d, n, t.TempDir(), "")
}

// startRemEstateIn seeds in work and audits with the history database
// hist ("" for none).
func startRemEstateIn(t *testing.T, d client.Dialect, n int, work, hist string) *remEstate {
	t.Helper()
	isolateConfig(t)
	users := filepath.Join(work, "users.yaml")
	if err := os.WriteFile(users, []byte("users:\n  - name: reader\n    access_key_id: READER1\n    access_key_secret_env: READER_SECRET\n    buckets:\n      read: [\"*\"]\n      write: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := remEnv("REMAK", "rem-secret")
	srv, err := embedded.Start(context.Background(), embedded.Config{DataDir: filepath.Join(work, "data"), Getenv: getenv, UsersFile: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	c, err := client.New(client.Config{Dialect: d, Endpoint: srv.Endpoint, Region: srv.Region, AccessKeyID: "REMAK", AccessKeySecret: "rem-secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, b := range []string{remPlain, remVersioned} {
		if err := c.CreateBucket(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PutBucketVersioning(ctx, remVersioned, "Enabled"); err != nil {
		t.Fatal(err)
	}
	for _, o := range remObjects(d) {
		if _, err := c.PutObject(ctx, remPlain, o.key, bytes.NewReader(o.body), int64(len(o.body)), client.PutOptions{ContentType: o.contentType, Metadata: o.meta}); err != nil {
			t.Fatal(err)
		}
		if len(o.headers) > 0 || o.class != "" {
			// Content headers and the class are set by a copy without
			// encryption: the object stays unencrypted.
			if _, err := c.CopyInPlace(ctx, remPlain, o.key, client.RewriteOptions{ContentType: o.contentType, Metadata: o.meta, Headers: o.headers, StorageClass: o.class}); err != nil {
				t.Fatal(err)
			}
		}
		if o.acl != "" {
			if err := c.PutObjectACL(ctx, remPlain, o.key, o.acl); err != nil {
				t.Fatal(err)
			}
		}
		if len(o.tags) > 0 {
			if err := c.PutObjectTagging(ctx, remPlain, o.key, o.tags); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, k := range []string{"changed.txt"} {
		if _, err := c.PutObject(ctx, remPlain, k, strings.NewReader("as scanned"), -1, client.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutObject(ctx, remVersioned, "v.txt", strings.NewReader("versioned original"), -1, client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := c.PutObject(ctx, remVersioned, fmt.Sprintf("many/%03d", i), strings.NewReader(fmt.Sprint("object ", i)), -1, client.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	report := filepath.Join(work, "report")
	r := runCLIEnv(t, getenv, "audit", "--endpoint", srv.Endpoint, "--dialect", string(d), "--region", srv.Region,
		"--out", report, "--signing-key", filepath.Join(work, "keys", "signing.key"), "--history", hist, "--versions", "--quiet")
	if r.code == exitFailed {
		t.Fatalf("audit: %v\n%s", r.err, r.stderr)
	}
	return &remEstate{srv: srv, getenv: getenv, c: c, dialect: d, report: report, work: work}
}

func (e *remEstate) plan(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(e.work, "plan.json")
	r := runCLIEnv(t, e.getenv, append([]string{"remediate", "plan", "--report", e.report, "--out", out}, args...)...)
	if r.code != 0 {
		t.Fatalf("remediate plan: exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	return out
}

func readResult(t *testing.T, path string) remediate.Result {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r remediate.Result
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRemediatePlanAndApply(t *testing.T) {
	if testing.Short() {
		t.Skip("scans and remediates an estate on the embedded reference")
	}
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		t.Run(string(d), func(t *testing.T) {
			e := startRemEstate(t, d)
			ctx := context.Background()
			planPath := e.plan(t)
			p, _, err := remediate.Read(planPath)
			if err != nil {
				t.Fatal(err)
			}
			// Every unencrypted object is planned, with what the scan saw.
			want := map[string]bool{remPlain + "/docs/meta.txt": true, remPlain + "/plain.bin": true, remPlain + "/big.bin": true,
				remPlain + "/changed.txt": true, remVersioned + "/v.txt": true}
			got := map[string]bool{}
			for _, b := range p.Buckets {
				if b.SetDefault == nil {
					t.Errorf("bucket %s has no default encryption, and the plan does not set one", b.Name)
				}
				for _, o := range b.Objects {
					got[b.Name+"/"+o.Key] = true
					if o.ETag == "" || o.LastModified.IsZero() {
						t.Errorf("%s/%s planned without the ETag or LastModified the scan saw: %+v", b.Name, o.Key, o)
					}
				}
			}
			if len(got) != len(want) {
				t.Errorf("planned %v, want %v", got, want)
			}
			for k := range want {
				if !got[k] {
					t.Errorf("%s is not planned", k)
				}
			}
			v0, err := e.c.HeadObject(ctx, remVersioned, "v.txt")
			if err != nil {
				t.Fatal(err)
			}
			// A dry run changes nothing.
			r := runCLIEnv(t, e.getenv, "remediate", "apply", "--plan", planPath)
			if r.code != 0 {
				t.Fatalf("dry run: exit %d: %v\n%s", r.code, r.err, r.stderr)
			}
			if h, err := e.c.HeadObject(ctx, remPlain, "plain.bin"); err != nil || h.SSE.Algorithm != "" {
				t.Fatalf("the dry run changed plain.bin: %+v %v", h.SSE, err)
			}
			// Changed after the scan: must be skipped, not overwritten.
			if _, err := e.c.PutObject(ctx, remPlain, "changed.txt", strings.NewReader("written after the scan"), -1, client.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			resultPath := filepath.Join(e.work, "result.json")
			r = runCLIEnv(t, e.getenv, "remediate", "apply", "--plan", planPath, "--yes", "--result", resultPath,
				"--multipart-threshold", "1048576", "--part-size", "5242880")
			// The skipped object is still unencrypted: the re-scan finds
			// it open, which is a gate failure naming it.
			if r.code != exitGate || !strings.Contains(r.err.Error(), "changed.txt") {
				t.Fatalf("apply: exit %d (want %d, changed.txt open after the re-scan): %v\n%s\n%s", r.code, exitGate, r.err, r.stdout, r.stderr)
			}
			res := readResult(t, resultPath)
			if res.Counts.Rewritten != 4 || res.Counts.Skipped != 1 || res.Counts.Failed+res.Counts.Unverified+res.Counts.Pending != 0 {
				t.Errorf("counts %+v, want 4 rewritten and 1 skipped", res.Counts)
			}
			outcome := map[string]remediate.ObjectResult{}
			for _, o := range res.Objects {
				outcome[o.Bucket+"/"+o.Key] = o
			}
			if o := outcome[remPlain+"/changed.txt"]; o.Outcome != remediate.OutcomeSkipped || !strings.Contains(o.Reason, "changed since the scan") {
				t.Errorf("changed.txt: %+v, want skipped as changed since the scan", o)
			}
			data, h, err := e.c.GetObject(ctx, remPlain, "changed.txt", nil)
			if err != nil || string(data) != "written after the scan" || h.SSE.Algorithm != "" {
				t.Errorf("changed.txt was touched: %q %+v %v", data, h.SSE, err)
			}
			if o := outcome[remPlain+"/big.bin"]; o.Mode != remediate.ModeMultipart {
				t.Errorf("big.bin copied as %q, want %q", o.Mode, remediate.ModeMultipart)
			}
			if o := outcome[remPlain+"/plain.bin"]; o.Mode != remediate.ModeSingle {
				t.Errorf("plain.bin copied as %q, want %q", o.Mode, remediate.ModeSingle)
			}
			for _, ob := range remObjects(d) {
				key := ob.key
				data, h, err := e.c.GetObject(ctx, remPlain, key, nil)
				if err != nil {
					t.Fatal(err)
				}
				if h.SSE.Algorithm != client.AlgorithmAES256 {
					t.Errorf("%s: encryption %q after apply", key, h.SSE.Algorithm)
				}
				if !bytes.Equal(data, ob.body) {
					t.Errorf("%s: content changed", key)
				}
				if h.ContentType != ob.contentType {
					t.Errorf("%s: Content-Type %q, want %q", key, h.ContentType, ob.contentType)
				}
				if !equalMap(h.Metadata, ob.meta) {
					t.Errorf("%s: metadata %v, want %v", key, h.Metadata, ob.meta)
				}
				for k, v := range ob.headers {
					if got := h.Headers.Get(k); got != v {
						t.Errorf("%s: %s %q, want %q", key, k, got, v)
					}
				}
				if ob.class != "" && !strings.EqualFold(h.StorageClass, ob.class) {
					t.Errorf("%s: storage class %q, want %q", key, h.StorageClass, ob.class)
				}
				tags, err := e.c.ObjectTagging(ctx, remPlain, key)
				if err != nil || !equalMap(tags, ob.tags) {
					t.Errorf("%s: tags %v (%v), want %v", key, tags, err, ob.tags)
				}
				acl, err := e.c.ObjectACL(ctx, remPlain, key)
				wantACL := ob.acl
				if wantACL == "" {
					wantACL = map[client.Dialect]string{client.OSS: "default", client.S3: "private"}[d]
				}
				if err != nil || acl != wantACL {
					t.Errorf("%s: ACL %q (%v), want %q", key, acl, err, wantACL)
				}
			}
			// The versioned bucket keeps the unencrypted original as a
			// noncurrent version, and the result says so.
			var versions []client.VersionSummary
			if err := e.c.ListObjectVersions(ctx, remVersioned, "", func(v client.VersionSummary) error { versions = append(versions, v); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(versions) != 2 {
				t.Fatalf("v.txt has %d versions, want the original and its re-encrypted copy: %+v", len(versions), versions)
			}
			orig, err := e.c.HeadObjectVersion(ctx, remVersioned, "v.txt", v0.VersionID)
			if err != nil || orig.SSE.Algorithm != "" {
				t.Errorf("the original version %s: %+v %v, want it kept unencrypted", v0.VersionID, orig.SSE, err)
			}
			kept := false
			for _, v := range res.NoncurrentKept {
				kept = kept || (v.Bucket == remVersioned && v.Key == "v.txt" && v.VersionID == v0.VersionID)
			}
			if !kept {
				t.Errorf("the result does not report the original of v.txt as kept noncurrent: %+v", res.NoncurrentKept)
			}
			// Bucket defaults are set.
			for _, b := range []string{remPlain, remVersioned} {
				if rule, err := e.c.BucketEncryption(ctx, b); err != nil || rule == nil || rule.Algorithm != client.AlgorithmAES256 {
					t.Errorf("%s default after apply: %+v %v", b, rule, err)
				}
			}
		})
	}
}

func equalMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
