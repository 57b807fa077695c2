package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestKilledShardResumesToTheUnshardedFindings kills a shard's scan (the
// real binary) with SIGKILL in the middle of a bucket, once its checkpoint
// shows a bucket read whole and part of the next, resumes it with
// --resume, and merges it with the three other shards: the findings are
// byte for byte those of one unsharded, uninterrupted scan (ids, counts,
// samples; only the times differ), and the resumed shard did not inspect
// again what its checkpoint held.
func TestKilledShardResumesToTheUnshardedFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills a process")
	}
	srv, getenv := startSeeded(t, nil)
	ctx := context.Background()
	c, err := client.New(client.Config{Dialect: client.OSS, Endpoint: srv.Endpoint, Region: srv.Region,
		AccessKeyID: getenv("OSS_ACCESS_KEY_ID"), AccessKeySecret: getenv("OSS_ACCESS_KEY_SECRET")})
	if err != nil {
		t.Fatal(err)
	}
	// Three large buckets in shard 1 (the one killed), one in each other
	// shard; a third of the objects unencrypted, a fifth AES256.
	const killed, perBucket = 1, 500
	var names []string
	inShard := map[int]int{}
	for i := 0; len(names) < 6; i++ {
		name := fmt.Sprintf("resume-%02d", i)
		sh := snapshot.ShardOf(name, 4)
		if (sh == killed && inShard[sh] < 3) || (sh != killed && inShard[sh] < 1) {
			inShard[sh]++
			names = append(names, name)
		}
	}
	for _, name := range names {
		if err := c.CreateBucket(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, perBucket)
		sem := make(chan struct{}, 8)
		for i := range perBucket {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				var sse *client.SSE
				if i%3 != 0 && i%5 == 0 {
					sse = &client.SSE{Algorithm: "AES256"}
				} else if i%3 != 0 {
					sse = &client.SSE{Algorithm: "KMS"}
				}
				if _, err := c.PutObject(ctx, name, fmt.Sprintf("obj-%04d", i), strings.NewReader("x"), 1, client.PutOptions{SSE: sse}); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}

	// Every run goes through one loopback proxy (shards must be of one
	// endpoint to merge), which counts HEADs.
	up, _ := url.Parse(srv.Endpoint)
	var heads atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(up)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			heads.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	work := t.TempDir()
	target := []string{"--endpoint", proxy.URL, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint, "--history", ""}
	scanArgs := func(out string, args ...string) []string {
		return append(append([]string{"scan", "--out", out}, target...), args...)
	}
	if r := runCLIEnv(t, getenv, scanArgs(filepath.Join(work, "all"), "-q")...); r.code == exitFailed {
		t.Fatal(r.err)
	}
	shardObjects := int64(0)
	if err := snapshot.EachBucket(filepath.Join(work, "all", "snapshot.json"), func(b snapshot.Bucket) error {
		if snapshot.ShardOf(b.Name, 4) == killed {
			shardObjects += b.ObjectsListed
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// The killed shard: one request in flight at 150 a second, so each
	// large bucket takes over three seconds and the checkpoint's timed
	// sync (every two) lands inside one.
	bin := buildBinary(t)
	out := filepath.Join(work, fmt.Sprintf("shard-%d", killed))
	env := append(cleanEnv(), "HOME="+t.TempDir())
	for _, k := range []string{"OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"} {
		env = append(env, k+"="+getenv(k))
	}
	args := scanArgs(out, "--shard", fmt.Sprintf("%d/4", killed), "--concurrency", "1", "--request-rate", "150")
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ck := pipeline.CheckpointDir(out)
	logPath := filepath.Join(ck, "buckets.log")
	// Kill once the log's verified records end inside a bucket after at
	// least one large bucket was logged whole.
	deadline := time.Now().Add(120 * time.Second)
	for {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the checkpoint never showed a bucket whole and part of the next:\n%s", stderr.String())
		}
		select {
		case err := <-done:
			t.Fatalf("the shard's scan ended (%v) before it was killed: make it slower\n%s", err, stderr.String())
		default:
		}
		if midBucket(logPath) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	if _, err := os.Stat(filepath.Join(out, "snapshot.json")); err == nil {
		t.Fatal("a killed scan published a snapshot")
	}
	// One request in flight: the log's objects are a prefix of each
	// listing, all of them to be copied, none inspected again.
	logged, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	loggedObjects := int64(0)
	for _, l := range strings.SplitAfter(string(logged), "\n") {
		if strings.HasSuffix(l, "\n") && strings.Contains(l, `{"t":"o"`) {
			loggedObjects++
		}
	}

	// A resumption with another shard's flags is refused, naming the
	// mismatch and the fix, and leaves the checkpoint as it was.
	r := runCLIEnv(t, getenv, scanArgs(out, "--shard", fmt.Sprintf("%d/4", killed+1), "--resume", "-q")...)
	if r.code != exitFailed || !strings.Contains(r.err.Error(), fmt.Sprintf("shard %d/4, this scan's is %d/4", killed, killed+1)) ||
		!strings.Contains(r.err.Error(), "run without --resume to start over") {
		t.Errorf("resuming with another --shard: exit %d %v", r.code, r.err)
	}
	if after, err := os.ReadFile(logPath); err != nil || !bytes.Equal(after, logged) {
		t.Errorf("a refused resumption changed the checkpoint (%v)", err)
	}

	// Resume it.
	heads.Store(0)
	cmd = exec.Command(bin, append(args[:len(args)-4], "--resume")...)
	cmd.Env = env
	stderr.Reset()
	cmd.Stderr = &stderr
	err = cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != exitGate && code != 0 {
		t.Fatalf("the resumed scan: exit %d (%v)\n%s", code, err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "resuming scan") || !strings.Contains(stderr.String(), `after key "obj-`) {
		t.Errorf("the resumed scan did not say it resumed inside a bucket:\n%s", stderr.String())
	}
	if h := heads.Load(); h != shardObjects-loggedObjects {
		t.Errorf("the resumed shard sent %d HEADs for its %d objects, %d of them in the checkpoint", h, shardObjects, loggedObjects)
	}
	seen := map[string]bool{}
	if err := snapshot.EachBucket(filepath.Join(out, "snapshot.json"), func(b snapshot.Bucket) error {
		for _, o := range b.Objects {
			id := b.Name + "/" + o.Key + "?" + o.VersionID
			if seen[id] {
				t.Errorf("the resumed snapshot holds %s twice", id)
			}
			seen[id] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if int64(len(seen)) != shardObjects {
		t.Errorf("the resumed snapshot holds %d objects, the shard has %d", len(seen), shardObjects)
	}
	sum, err := snapshot.ReadSummary(filepath.Join(out, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rf := sum.Provenance.ResumedFrom; rf == nil || rf.BucketsCopied < 1 || rf.ScanID == sum.Provenance.ScanID || !sum.Complete {
		t.Errorf("the resumed snapshot: resumed_from %+v, complete %v", rf, sum.Complete)
	}
	if _, err := os.Stat(ck); err == nil {
		t.Errorf("the checkpoint %s outlived the published scan", ck)
	}

	// The other shards, the merge, and its evaluation.
	shards := []string{}
	for i := range 4 {
		dir := filepath.Join(work, fmt.Sprintf("shard-%d", i))
		if i != killed {
			if r := runCLIEnv(t, getenv, scanArgs(dir, "--shard", fmt.Sprintf("%d/4", i), "-q")...); r.code == exitFailed {
				t.Fatalf("shard %d: %v", i, r.err)
			}
		}
		shards = append(shards, dir)
	}
	merged := filepath.Join(work, "merged.json")
	if r := runCLIEnv(t, getenv, append([]string{"merge", "--out", merged}, shards...)...); r.code != 0 {
		t.Fatalf("merge: exit %d %v", r.code, r.err)
	}
	if r := runCLIEnv(t, getenv, "scan", "--from-snapshot", merged, "--out", filepath.Join(work, "eval"), "--history", "", "-q"); r.code == exitFailed {
		t.Fatal(r.err)
	}
	want, got := findingsBytes(t, filepath.Join(work, "all", "findings.json")), findingsBytes(t, filepath.Join(work, "eval", "findings.json"))
	if !strings.Contains(want, "resume-") {
		t.Fatalf("the unsharded findings do not name the large buckets:\n%s", want)
	}
	if got != want {
		t.Errorf("the merged findings with a resumed shard differ from the unsharded scan's:\n got %s\nwant %s", got, want)
	}
}

// midBucket reports whether the checkpoint log's complete lines hold a
// resume-* bucket's end and end inside another bucket (its header or
// objects).
func midBucket(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		return false
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	ended, inside := false, false
	var cur string
	for _, l := range lines {
		switch {
		case strings.Contains(l, `{"t":"b"`):
			cur, inside = l, true
		case strings.Contains(l, `{"t":"e"`):
			ended = ended || strings.Contains(cur, `"name":"resume-`)
			inside = false
		}
	}
	last := lines[len(lines)-1]
	return ended && inside && strings.Contains(last, `{"t":"o"`) && strings.Contains(cur, `"name":"resume-`)
}

// findingsBytes is findings.json's findings and summary, as JSON, with
// what differs between two scans of one estate left out (first and last
// seen, the evidence's scan id and reading times): what a resumed, sharded
// scan must reproduce byte for byte.
func findingsBytes(t *testing.T, path string) string {
	t.Helper()
	d := readFindingsDoc(t, path)
	for i := range d.Findings {
		f := &d.Findings[i]
		f.FirstSeen, f.LastSeen = time.Time{}, time.Time{}
		for j := range f.Evidence {
			e := &f.Evidence[j]
			e.Snapshot, e.CapturedAt = "", "" // the scan id and when it read this
			delete(e.Data, "read_at")
		}
	}
	b, err := json.MarshalIndent(struct {
		Summary  findings.Summary
		Findings []findings.Finding
	}{d.Summary, d.Findings}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
