package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// seedBuckets creates n buckets prefix-000.. with per objects each.
func seedBuckets(t *testing.T, prefix string, n, per int) {
	t.Helper()
	root := rootClient(t, client.OSS)
	for i := range n {
		b := fmt.Sprintf("%s-%03d", prefix, i)
		mkBucket(t, root, b, nil)
		putMany(t, root, b, "o-", per)
	}
}

// checkBuckets checks a snapshot of seedBuckets' buckets: every bucket
// once, in name order, each with exactly its own objects, all inspected.
func checkBuckets(t *testing.T, path, prefix string, n, per int) {
	t.Helper()
	bs := readBuckets(t, path)
	if len(bs) != n {
		t.Fatalf("%d buckets, want %d", len(bs), n)
	}
	for i, b := range bs {
		if want := fmt.Sprintf("%s-%03d", prefix, i); b.Name != want {
			t.Fatalf("bucket %d is %s, want %s", i, b.Name, want)
		}
		keys := map[string]bool{}
		for _, o := range b.Objects {
			if o.Bucket != b.Name || o.Error != nil || o.Method != snapshot.MethodNone {
				t.Fatalf("bucket %s holds %s", b.Name, mustJSON(o))
			}
			keys[o.Key] = true
		}
		if len(keys) != per || len(b.Objects) != per || b.ObjectsListed != int64(per) || b.ObjectsInspected != int64(per) {
			t.Fatalf("bucket %s: %d objects (%d distinct), listed %d, inspected %d, want %d", b.Name, len(b.Objects), len(keys), b.ObjectsListed, b.ObjectsInspected, per)
		}
	}
}

// TestBucketsConcurrently: small buckets are scanned at the same time
// (sequentially a bucket's 3 HEADs are the most in flight; every HEAD
// takes 40 ms so that buckets overlap only if scanned concurrently),
// under one budget: never more requests of any kind in flight than
// Concurrency.
func TestBucketsConcurrently(t *testing.T) {
	const n, per, conc = 24, 3, 12
	seedBuckets(t, "conc", n, per)
	var rules []*rule
	for i := range n {
		for j := range per {
			rules = append(rules, &rule{method: "HEAD", path: fmt.Sprintf("/conc-%03d/o-%05d", i, j), delay: 40 * time.Millisecond})
		}
	}
	p := startProxy(t, rules...)
	start := time.Now()
	sum, path, err := scanFile(t, Config{Client: clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, 10*time.Second), KMS: rootKMS,
		BucketGlob: "conc-*", Concurrency: conc})
	if err != nil || !sum.Complete {
		t.Fatal(err, sum.Complete)
	}
	took := time.Since(start)
	checkBuckets(t, path, "conc", n, per)
	if heads := p.maxHeads.Load(); heads <= per {
		t.Errorf("at most %d HEADs in flight: buckets were scanned one after another", heads)
	}
	if all := p.maxInflight.Load(); all > conc {
		t.Errorf("%d requests in flight, Concurrency is %d", all, conc)
	}
	t.Logf("%d buckets in %v, at most %d HEADs and %d requests in flight", n, took, p.maxHeads.Load(), p.maxInflight.Load())
}

// TestRequestRate counts the requests reaching a loopback proxy per
// second: with RequestRate, no window of one second holds more than the
// rate plus the burst of one, and the scan still uses its budget; the
// same scan without a rate is far above it (so the check can fail).
func TestRequestRate(t *testing.T) {
	const rate = 40
	seedBuckets(t, "rate", 2, 30)
	scan := func(perSecond float64) (*proxy, time.Duration) {
		p := startProxy(t)
		start := time.Now()
		sum, path, err := scanFile(t, Config{Client: clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, 10*time.Second), KMS: rootKMS,
			BucketGlob: "rate-*", RequestRate: perSecond})
		if err != nil || !sum.Complete {
			t.Fatal(err, sum.Complete)
		}
		checkBuckets(t, path, "rate", 2, 30)
		return p, time.Since(start)
	}
	// maxPerSecond is the most requests that arrived within one second.
	maxPerSecond := func(ts []time.Time) int {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		most, lo := 0, 0
		for hi := range ts {
			for ts[hi].Sub(ts[lo]) >= time.Second {
				lo++
			}
			most = max(most, hi-lo+1)
		}
		return most
	}

	free, _ := scan(0)
	if got := maxPerSecond(free.times()); got <= rate+1 {
		t.Fatalf("an unlimited scan sent only %d requests in a second: the check below could not fail", got)
	}
	limited, took := scan(rate)
	ts := limited.times()
	// ListBuckets, 2 x (rule, versioning, ACL, policy, listing), 60 HEADs.
	if len(ts) != 71 {
		t.Errorf("%d requests, want 71", len(ts))
	}
	if got := maxPerSecond(ts); got > rate+1 {
		t.Errorf("%d requests within one second, RequestRate is %d (burst 1)", got, rate)
	}
	// The budget is used, not wasted: n requests take about (n-1)/rate
	// (generous slack for a loaded machine and the race detector).
	if want := time.Duration(float64(len(ts)-1) / rate * float64(time.Second)); took > 2*want+time.Second {
		t.Errorf("scan took %v, %d requests at %d/s need %v", took, len(ts), rate, want)
	}
	t.Logf("%d requests in %v; at most %d in a second", len(ts), took, maxPerSecond(ts))
}

// TestLookaheadSpool: while the first bucket's HEADs are slow, the next
// bucket is scanned ahead of its turn, keeps its objects in a spool file
// beyond its memory buffer and lists no more than the lookahead bound;
// the snapshot is what a direct scan writes, and no spool file is left.
func TestLookaheadSpool(t *testing.T) {
	root := rootClient(t, client.OSS)
	mkBucket(t, root, "spool-a", nil)
	putMany(t, root, "spool-a", "o-", 3)
	mkBucket(t, root, "spool-b", &client.SSE{Algorithm: client.AlgorithmAES256})
	putMany(t, root, "spool-b", "o-", 50)
	const lookahead, mem = 30, 8

	direct, dpath, err := scanFile(t, Config{Client: root, KMS: rootKMS, BucketGlob: "spool-*"})
	if err != nil || !direct.Complete {
		t.Fatal(err)
	}

	var rules []*rule
	for j := range 3 {
		rules = append(rules, &rule{method: "HEAD", path: fmt.Sprintf("/spool-a/o-%05d", j), delay: 600 * time.Millisecond})
	}
	p := startProxy(t, rules...)
	spoolDir := t.TempDir()
	var spoolFiles, bAhead atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		// While spool-a's HEADs hang, look for spool files.
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if es, _ := os.ReadDir(spoolDir); len(es) > 0 {
				raiseTo(&spoolFiles, int64(len(es)))
			}
		}
	}()
	// spool-b's HEADs that arrive before any of spool-a's is answered are
	// the ones made ahead of its turn.
	var aAnswered atomic.Bool
	p.onRequest = func(r *http.Request) {
		if r.Method == "HEAD" && strings.HasPrefix(r.URL.Path, "/spool-b/") && !aAnswered.Load() {
			bAhead.Add(1)
		}
	}
	p.onAnswer = func(r *http.Request) {
		if r.Method == "HEAD" && strings.HasPrefix(r.URL.Path, "/spool-a/") {
			aAnswered.Store(true)
		}
	}
	cfg := Config{Client: clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, 10*time.Second), KMS: rootKMS,
		BucketGlob: "spool-*", SpoolDir: spoolDir, spoolMem: mem, lookahead: lookahead}
	sum, path, err := scanFile(t, cfg)
	close(stop)
	<-watched
	if err != nil || !sum.Complete {
		t.Fatal(err)
	}
	if got := bAhead.Load(); got != lookahead {
		t.Errorf("spool-b inspected %d objects ahead of its turn, want the lookahead bound %d", got, lookahead)
	}
	if spoolFiles.Load() == 0 {
		t.Error("no spool file while spool-b waited: the lookahead was kept in memory")
	}
	if es, _ := os.ReadDir(spoolDir); len(es) != 0 {
		t.Errorf("spool files left: %v", es)
	}
	got, want := readBuckets(t, path), readBuckets(t, dpath)
	for i := range got {
		got[i] = normaliseTimes(got[i])
		want[i] = normaliseTimes(want[i])
	}
	if g, w := mustJSON(got), mustJSON(want); g != w {
		t.Errorf("spooled scan differs from the direct one:\n%s", lineDiff(g, w))
	}
}

// normaliseTimes clears the read time and sorts the objects by key: the
// rest of a bucket must not depend on how it was scanned.
func normaliseTimes(b snapshot.Bucket) snapshot.Bucket {
	b.ReadAt = time.Time{}
	sort.Slice(b.Objects, func(i, j int) bool { return b.Objects[i].Key < b.Objects[j].Key })
	return b
}

// TestCancelWithLookahead cancels while buckets are open ahead of their
// turn: the document is valid and incomplete, every bucket is there in
// order, what was listed is written, nothing is sent after the
// cancellation and no spool file is left.
func TestCancelWithLookahead(t *testing.T) {
	seedBuckets(t, "cxl", 6, 20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := startProxy(t, &rule{method: "HEAD", path: "/cxl-000/o-00000", delay: 2 * time.Second})
	var after atomic.Int64
	var cancelled atomic.Bool
	p.onHead = func(n int64) {
		if cancelled.Load() {
			after.Add(1)
		}
		if n == 40 {
			cancel()
			cancelled.Store(true)
		}
	}
	spoolDir := t.TempDir()
	path := filepath.Join(t.TempDir(), "cancelled.json")
	sum, err := RunToFile(ctx, Config{Client: clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, 10*time.Second), KMS: rootKMS,
		BucketGlob: "cxl-*", SpoolDir: spoolDir, spoolMem: 4}, path)
	if !errors.Is(err, context.Canceled) || sum.Complete {
		t.Fatalf("err %v, complete %v", err, sum.Complete)
	}
	if data, err := os.ReadFile(path); err != nil || !json.Valid(data) {
		t.Fatalf("snapshot not valid JSON: %v", err)
	}
	// In flight at the cancellation: at most Concurrency.
	if n := after.Load(); n > DefaultConcurrency {
		t.Errorf("%d HEADs after the cancellation", n)
	}
	bs := readBuckets(t, path)
	if len(bs) != 6 {
		t.Fatalf("%d buckets", len(bs))
	}
	var listed, written int64
	for i, b := range bs {
		if b.Name != fmt.Sprintf("cxl-%03d", i) || int64(len(b.Objects)) != b.ObjectsListed {
			t.Errorf("bucket %d: %s listed %d, %d written", i, b.Name, b.ObjectsListed, len(b.Objects))
		}
		listed += b.ObjectsListed
		written += int64(len(b.Objects))
	}
	if bs[0].ListError == nil && bs[0].ObjectsInspected == 20 {
		t.Error("the first bucket, whose HEAD hung past the cancellation, is complete")
	}
	if listed != sum.Coverage.ObjectsListed || written != listed {
		t.Errorf("coverage %s; %d written", mustJSON(sum.Coverage), written)
	}
	if es, _ := os.ReadDir(spoolDir); len(es) != 0 {
		t.Errorf("spool files left: %v", es)
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestWriteFailureStops: a snapshot that cannot be written stops the
// scan with the error, and every goroutine and spool file goes.
func TestWriteFailureStops(t *testing.T) {
	seedBuckets(t, "wfail", 8, 15)
	spoolDir := t.TempDir()
	_, err := Run(context.Background(), Config{Client: rootClient(t, client.OSS), KMS: rootKMS, BucketGlob: "wfail-*",
		SpoolDir: spoolDir, spoolMem: 2}, &failWriter{n: 3000})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	// Run waits for its goroutines (idle HTTP connections may stay). A
	// worker that has signalled its end may not have returned yet on a
	// loaded machine: it gets a moment to, not a request's time.
	var stacks string
	for end := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "scan.(*census)") && !strings.Contains(stacks, "scan.(*bucketScan)") || time.Now().After(end) {
			break
		}
	}
	for _, fn := range []string{"scan.(*census)", "scan.(*bucketScan)"} {
		if strings.Contains(stacks, fn) {
			t.Errorf("a %s goroutine outlives the failed scan:\n%s", fn, stacks)
		}
	}
	if es, _ := os.ReadDir(spoolDir); len(es) != 0 {
		t.Errorf("spool files left: %v", es)
	}
	var out bytes.Buffer
	if _, err := Run(context.Background(), Config{Client: rootClient(t, client.OSS), RequestRate: -1}, &out); err == nil || !strings.Contains(err.Error(), "RequestRate") {
		t.Errorf("negative RequestRate: %v", err)
	}
}

// TestLargeBucketListsAhead: a bucket of several listing pages is listed
// ahead of its HEADs (the second page is asked for long before the first
// page's objects are inspected: not after 1,000 - 2*Concurrency HEADs), every
// object is written exactly once, and a cancellation in the middle still
// writes everything listed.
func TestLargeBucketListsAhead(t *testing.T) {
	const n = 2300 // three pages of 1,000
	root := rootClient(t, client.OSS)
	mkBucket(t, root, "large-000", nil)
	putMany(t, root, "large-000", "o-", n)

	scanWith := func(ctx context.Context, cancelAt int64) (snapshot.Summary, string, int64, error) {
		p := startProxy(t)
		var heads, headsAtPage2 atomic.Int64
		headsAtPage2.Store(-1)
		var cancel func()
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		p.onRequest = func(r *http.Request) {
			if r.Method == http.MethodHead {
				if heads.Add(1) == cancelAt {
					cancel()
				}
				return
			}
			if r.URL.Query().Has("continuation-token") {
				headsAtPage2.CompareAndSwap(-1, heads.Load())
			}
		}
		path := filepath.Join(t.TempDir(), "snapshot.json")
		sum, err := RunToFile(ctx, Config{Client: clientFor(t, client.OSS, "", p.URL, rootAK, rootSK, 10*time.Second), KMS: rootKMS,
			BucketGlob: "large-*"}, path)
		return sum, path, headsAtPage2.Load(), err
	}

	sum, path, at, err := scanWith(context.Background(), -1)
	if err != nil || !sum.Complete {
		t.Fatal(err)
	}
	checkBuckets(t, path, "large", 1, n)
	if at < 0 || at > 1000-2*DefaultConcurrency-DefaultConcurrency {
		t.Errorf("the second listing page was asked for after %d HEADs: listing did not run ahead", at)
	}

	sum, path, _, err = scanWith(context.Background(), 1500)
	if !errors.Is(err, context.Canceled) || sum.Complete {
		t.Fatalf("err %v complete %v", err, sum.Complete)
	}
	bs := readBuckets(t, path)
	b := bs[0]
	keys := map[string]bool{}
	var cancelled int64
	for _, o := range b.Objects {
		keys[o.Key] = true
		if o.Error != nil {
			cancelled++
		}
	}
	if len(keys) != len(b.Objects) || int64(len(b.Objects)) != b.ObjectsListed || b.ObjectsInspected+cancelled != b.ObjectsListed ||
		b.ObjectsInspected < 1400 || b.ObjectsInspected >= n {
		t.Errorf("cancelled: %d objects (%d distinct), listed %d, inspected %d, cancelled %d", len(b.Objects), len(keys), b.ObjectsListed, b.ObjectsInspected, cancelled)
	}
}

// TestRequestsPerBucket pins what a census costs in requests (the
// many-small-buckets rate is bounded by it: scripts/census-bench.sh): one
// ListBuckets, then per bucket its rule, versioning, ACL and policy and
// one listing page, and one HEAD per object; without access settings two
// fewer per bucket. Every dialect, since each sends its own requests (an
// S3 listing that named no regions would cost one more per bucket). The
// v1 OSS SDK's ListBuckets drops the caller's context, so its gate never
// sees it (see Config.RequestRate): it is not counted.
func TestRequestsPerBucket(t *testing.T) {
	const n, per = 3, 4
	seedBuckets(t, "reqs", n, per)
	for _, tc := range []struct {
		name       string
		dialect    client.Dialect
		sdk        string
		skipAccess bool
		want       int64
	}{
		{"oss v1", client.OSS, client.OSSSDKV1, false, n*5 + n*per},
		{"oss v2", client.OSS, client.OSSSDKV2, false, 1 + n*5 + n*per},
		{"s3", client.S3, "", false, 1 + n*5 + n*per},
		{"oss v1 without access", client.OSS, client.OSSSDKV1, true, n*3 + n*per},
		{"s3 without access", client.S3, "", true, 1 + n*3 + n*per},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent requestCount
			sum, path, err := scanFile(t, Config{Client: clientFor(t, tc.dialect, tc.sdk, srv.Endpoint, rootAK, rootSK, 10*time.Second),
				KMS: rootKMS, BucketGlob: "reqs-*", SkipAccess: tc.skipAccess, requests: &sent})
			if err != nil || !sum.Complete {
				t.Fatal(err, sum.Complete)
			}
			checkBuckets(t, path, "reqs", n, per)
			if got := sent.n.Load(); got != tc.want {
				t.Errorf("%d requests, want %d", got, tc.want)
			}
		})
	}
}
