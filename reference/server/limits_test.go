package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

const (
	malloryAK = "MALLORY"
	mallorySK = "mallory-secret"
)

// startLimited starts a server under l with root and "mallory", a user
// who may write every bucket, and a bucket "bounds".
func startLimited(t *testing.T, l Limits) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	usersFile := filepath.Join(t.TempDir(), "users.yaml")
	yaml := "users:\n  - name: mallory\n    access_key_id: " + malloryAK +
		"\n    access_key_secret_env: MALLORY_SECRET\n    buckets: {read: [\"*\"], write: [\"*\"]}\n"
	if err := os.WriteFile(usersFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "MALLORY_SECRET" {
			return mallorySK
		}
		return rootEnv(k)
	}
	s, err := Start(context.Background(), Config{DataDir: dir, Addr: "127.0.0.1:0", KMSAddr: "127.0.0.1:0",
		UsersFile: usersFile, Getenv: env, Limits: l, ShutdownTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	oc, err := oss.New(s.Endpoint, rootAK, rootSK, oss.ForcePathStyle(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := oc.CreateBucket("bounds"); err != nil {
		t.Fatal(err)
	}
	return s, filepath.Join(dir, ObjectsDir, objstore.TmpDir)
}

// tempFiles counts the upload temp files in tmp and the descriptors this
// process holds open on them.
func tempFiles(t *testing.T, tmp string) (files, fds int) {
	t.Helper()
	ents, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	fdEnts, _ := os.ReadDir("/proc/self/fd")
	for _, e := range fdEnts {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(target, tmp+string(os.PathSeparator)) {
			fds++
		}
	}
	return len(ents), fds
}

// waitFor polls cond every 10ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// stallReader gives first bytes and then blocks until stop is closed,
// as a client that stops sending mid-body.
type stallReader struct {
	first int
	stop  chan struct{}
}

func (r *stallReader) Read(p []byte) (int, error) {
	if r.first > 0 {
		n := min(len(p), r.first)
		clear(p[:n])
		r.first -= n
		return n, nil
	}
	<-r.stop
	return 0, errors.New("test over")
}

// pacedReader gives total bytes of a pattern, chunk bytes every interval.
type pacedReader struct {
	chunk, total int
	every        time.Duration
	sent         int
}

func (r *pacedReader) Read(p []byte) (int, error) {
	if r.sent >= r.total {
		return 0, io.EOF
	}
	time.Sleep(r.every)
	n := min(len(p), r.chunk, r.total-r.sent)
	for i := range n {
		p[i] = byte(r.sent + i)
	}
	r.sent += n
	return n, nil
}

// TestIdleConnectionsAreClosed: 300 keep-alive connections that went idle
// after a request, and 300 that never sent one, are all closed by the
// server within the idle and header timeouts. Before, both stayed open.
func TestIdleConnectionsAreClosed(t *testing.T) {
	const n = 300
	s, _ := startLimited(t, Limits{IdleTimeout: 200 * time.Millisecond, ReadHeaderTimeout: 200 * time.Millisecond})
	addr := strings.TrimPrefix(s.Endpoint, "http://")
	conns := make([]net.Conn, 0, 2*n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 2 * n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		conns = append(conns, c)
		if i >= n {
			continue // never sends a request
		}
		// An anonymous ListBuckets: answered 403, the connection kept alive.
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("conn %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close {
			t.Fatalf("conn %d: the server did not keep the connection alive", i)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := io.Copy(io.Discard, c) // returns when the server closes
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				errs <- fmt.Errorf("conn %d still open after 5s", i)
			}
		})
	}
	wg.Wait()
	close(errs)
	open := 0
	for err := range errs {
		if open == 0 {
			t.Error(err)
		}
		open++
	}
	if open > 0 {
		t.Fatalf("%d of %d idle connections were not closed", open, 2*n)
	}
	t.Logf("%d idle connections closed within %s", 2*n, time.Since(start).Round(time.Millisecond))
}

// TestStalledUploadIsCut: an authenticated upload that stops sending (or
// trickles below the minimum rate) is cut at its deadline, answered
// RequestTimeout when the client is still there to read it, and its temp
// file and descriptor are released at once. Before, a stalled 5 GiB upload
// held both for as long as the client kept the connection.
func TestStalledUploadIsCut(t *testing.T) {
	s, tmp := startLimited(t, Limits{BodyStallTimeout: 300 * time.Millisecond, BodyMinRate: 64 << 10})
	bucket := ossBucket(t, s, malloryAK, mallorySK, "bounds")
	cases := []struct {
		name string
		body func(stop chan struct{}) io.Reader
		put  func(io.Reader) error
	}{
		{"PutObject stalls", func(stop chan struct{}) io.Reader { return &stallReader{first: 1 << 20, stop: stop} },
			func(r io.Reader) error { return bucket.PutObject("big", r, oss.ContentLength(5<<30)) }},
		{"UploadPart stalls", func(stop chan struct{}) io.Reader { return &stallReader{first: 1 << 20, stop: stop} },
			func(r io.Reader) error {
				imur, err := bucket.InitiateMultipartUpload("parts")
				if err != nil {
					return err
				}
				_, err = bucket.UploadPart(imur, r, 5<<30, 1)
				return err
			}},
		// Through a presigned URL and net/http: the OSS SDK's progress
		// tracker races with its own body writer when the server answers
		// before the body is sent, which this case provokes.
		{"PutObject trickles", func(chan struct{}) io.Reader {
			return &pacedReader{chunk: 16, total: 1 << 20, every: 20 * time.Millisecond}
		},
			func(r io.Reader) error {
				u, err := bucket.SignURL("trickle", oss.HTTPPut, 60)
				if err != nil {
					return err
				}
				req, err := http.NewRequest(http.MethodPut, u, r)
				if err != nil {
					return err
				}
				req.ContentLength = 1 << 20
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("<Code>RequestTimeout</Code>")) {
					return fmt.Errorf("answered %d %s, want 400 RequestTimeout", resp.StatusCode, body)
				}
				return errors.New("cut as expected")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stop := make(chan struct{})
			defer close(stop)
			done := make(chan error, 1)
			go func() { done <- tc.put(tc.body(stop)) }()
			if !waitFor(2*time.Second, func() bool { f, _ := tempFiles(t, tmp); return f > 0 }) {
				t.Fatal("the upload never reached the store")
			}
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("a stalled upload succeeded")
				}
				// The client may see the answer or, racing it, the closed
				// connection; an answer must be RequestTimeout.
				status, code, msg := ossCode(err)
				if status != 0 && (status != http.StatusBadRequest || code != "RequestTimeout") {
					t.Fatalf("answered %d %s, want 400 RequestTimeout", status, code)
				}
				t.Logf("the client saw: %d %s %.80s", status, code, msg)
			case <-time.After(5 * time.Second):
				t.Fatal("the stalled upload is still open after 5s")
			}
			var files, fds int
			if !waitFor(2*time.Second, func() bool { files, fds = tempFiles(t, tmp); return files == 0 && fds == 0 }) {
				t.Fatalf("after the cut: %d temp files, %d descriptors on them", files, fds)
			}
		})
	}
}

// TestSlowMovingUploadCompletes: a body that arrives slowly but steadily
// (2 s in all, seven times the stall timeout) is not cut, and the object is
// whole.
func TestSlowMovingUploadCompletes(t *testing.T) {
	s, _ := startLimited(t, Limits{BodyStallTimeout: 300 * time.Millisecond, BodyMinRate: 64 << 10})
	bucket := ossBucket(t, s, malloryAK, mallorySK, "bounds")
	const total = 20 * (32 << 10)
	start := time.Now()
	if err := bucket.PutObject("slow", &pacedReader{chunk: 32 << 10, total: total, every: 100 * time.Millisecond}, oss.ContentLength(total)); err != nil {
		t.Fatalf("slow but moving upload: %v", err)
	}
	if took := time.Since(start); took < 1500*time.Millisecond {
		t.Fatalf("the upload took %s: the test did not pace it", took)
	}
	rc, err := bucket.GetObject("slow")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := io.ReadAll(&pacedReader{chunk: total, total: total})
	if !bytes.Equal(got, want) {
		t.Fatalf("stored %d bytes differ from the %d sent", len(got), len(want))
	}
}

// TestUploadCapPerPrincipal: a principal holding its cap of uploads gets
// 503 (ServiceUnavailable in OSS, SlowDown in S3) for one more, while
// another principal uploads as usual; when its uploads end it may upload
// again.
func TestUploadCapPerPrincipal(t *testing.T) {
	s, tmp := startLimited(t, Limits{MaxUploadsPerPrincipal: 2})
	mallory := ossBucket(t, s, malloryAK, mallorySK, "bounds")
	root := ossBucket(t, s, rootAK, rootSK, "bounds")
	stop := make(chan struct{})
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
		}
	}()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			_ = mallory.PutObject(fmt.Sprint("held-", i), &stallReader{first: 1 << 10, stop: stop}, oss.ContentLength(1<<30))
		})
	}
	if !waitFor(3*time.Second, func() bool { f, _ := tempFiles(t, tmp); return f == 2 }) {
		t.Fatal("the two held uploads never reached the store")
	}

	err := mallory.PutObject("third", strings.NewReader("x"))
	if status, code, msg := ossCode(err); status != http.StatusServiceUnavailable || code != "ServiceUnavailable" {
		t.Fatalf("OSS upload over the cap: %d %s %s (%v), want 503 ServiceUnavailable", status, code, msg, err)
	}
	mc, err := minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds: miniocreds.NewStaticV4(malloryAK, mallorySK, ""), Region: s.Region, BucketLookup: minio.BucketLookupPath, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = mc.PutObject(context.Background(), "bounds", "third-s3", strings.NewReader("x"), 1, minio.PutObjectOptions{})
	if resp := minio.ToErrorResponse(err); resp.StatusCode != http.StatusServiceUnavailable || resp.Code != "SlowDown" {
		t.Fatalf("S3 upload over the cap: %d %s (%v), want 503 SlowDown", resp.StatusCode, resp.Code, err)
	}
	if err := root.PutObject("root's", strings.NewReader("root is not capped by mallory's uploads")); err != nil {
		t.Fatalf("another principal: %v", err)
	}

	close(stop)
	stopped = true
	wg.Wait()
	if !waitFor(3*time.Second, func() bool { f, _ := tempFiles(t, tmp); return f == 0 }) {
		t.Fatal("the held uploads' temp files were not removed")
	}
	if err := mallory.PutObject("after", strings.NewReader("slots are given back")); err != nil {
		t.Fatalf("after the held uploads ended: %v", err)
	}
}

// TestUnreadResponseIsCut: a client that asks for a large object and stops
// reading holds the server's goroutine, buffers and data file only until
// the write stall timeout; its download then ends short. Before, the
// server waited for as long as the client kept the connection.
func TestUnreadResponseIsCut(t *testing.T) {
	s, _ := startLimited(t, Limits{WriteStallTimeout: 300 * time.Millisecond})
	root := ossBucket(t, s, rootAK, rootSK, "bounds")
	const size = 32 << 20 // more than loopback's socket buffers hold
	if err := root.PutObject("large", &pacedReader{chunk: 1 << 20, total: size}); err != nil {
		t.Fatal(err)
	}
	signed, err := root.SignURL("large", oss.HTTPGet, 60)
	if err != nil {
		t.Fatal(err)
	}
	u := strings.TrimPrefix(signed, s.Endpoint)
	c, err := net.Dial("tcp", strings.TrimPrefix(s.Endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET "+u+" HTTP/1.1\r\nHost: "+strings.TrimPrefix(s.Endpoint, "http://")+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // not reading: the server's writes block
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("after %d bytes the connection is still open and silent", n)
	}
	if n >= size {
		t.Fatalf("the whole %d bytes were delivered to a client that stopped reading for 1.5s", n)
	}
	t.Logf("the download was cut after %d of %d bytes (%v)", n, size, err)
}

// TestThreeHundredStalledUploads is the case: one principal opens
// 300 authenticated 5 GiB uploads and sends nothing. Before, all 300 held
// a connection, a temp file and its descriptor for as long as the client
// liked. Now at most the principal's cap of them reach the store (the rest
// are refused 503 at once), and those are cut at the stall timeout with
// their files removed.
func TestThreeHundredStalledUploads(t *testing.T) {
	const n, capUploads = 300, 64
	s, tmp := startLimited(t, Limits{BodyStallTimeout: 500 * time.Millisecond, MaxUploadsPerPrincipal: capUploads})
	bucket := ossBucket(t, s, malloryAK, mallorySK, "bounds")
	stop := make(chan struct{})
	defer close(stop)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			// No bytes at all: the OSS SDK's progress tracker is then
			// never written, so an early answer does not race it.
			errs <- bucket.PutObject(fmt.Sprint("stalled-", i), &stallReader{stop: stop}, oss.ContentLength(5<<30))
		}()
	}
	peak := 0
	codes := map[string]int{}
	deadline := time.After(10 * time.Second)
	for got := 0; got < n; {
		select {
		case err := <-errs:
			got++
			status, code, _ := ossCode(err)
			codes[fmt.Sprint(status, " ", code)]++
		case <-time.After(10 * time.Millisecond):
			if f, _ := tempFiles(t, tmp); f > peak {
				peak = f
			}
		case <-deadline:
			t.Fatalf("after 10s only %d of %d stalled uploads have ended (%v)", got, n, codes)
		}
	}
	t.Logf("answers: %v; at most %d temp files at once", codes, peak)
	if peak > capUploads {
		t.Fatalf("%d uploads of one principal reached the store at once, cap %d", peak, capUploads)
	}
	if codes["503 ServiceUnavailable"] == 0 {
		t.Fatalf("no upload over the cap was refused: %v", codes)
	}
	if codes["200 "] > 0 {
		t.Fatalf("stalled uploads succeeded: %v", codes)
	}
	var files, fds int
	if !waitFor(2*time.Second, func() bool { files, fds = tempFiles(t, tmp); return files == 0 && fds == 0 }) {
		t.Fatalf("after the cuts: %d temp files, %d descriptors on them", files, fds)
	}
}
