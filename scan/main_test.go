package scan

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
)

// The tests scan one in-process reference server over loopback HTTP
// through the real SDKs (package client and the official KMS SDK).

const (
	rootAK    = "SCANROOT"
	rootSK    = "scan-root-secret-do-not-log"
	limitedAK = "LIMITED"
	limitedSK = "limited-secret"
)

func testEnv(k string) string {
	return map[string]string{
		"SSEAUDIT_ROOT_ACCESS_KEY_ID":     rootAK,
		"SSEAUDIT_ROOT_ACCESS_KEY_SECRET": rootSK,
		"LIMITED_SECRET":                  limitedSK,
	}[k]
}

// The limited principal reads err-* buckets only: it neither lists nor
// reads secret-vault.
const usersYAML = `
users:
  - name: limited
    access_key_id: LIMITED
    access_key_secret_env: LIMITED_SECRET
    buckets: {read: ["err-*"]}
`

var (
	srv     *embedded.Reference
	rootKMS *kmssdk.Client
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sseaudit-scan-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	users := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(users, []byte(usersYAML), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv, err = embedded.Start(ctx, embedded.Config{DataDir: filepath.Join(dir, "data"), UsersFile: users, Getenv: testEnv})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start reference server:", err)
		return 1
	}
	defer srv.Close(ctx)
	rootKMS, err = client.KMS(client.KMSConfig{Endpoint: srv.KMSEndpoint, Region: srv.Region, AccessKeyID: rootAK, AccessKeySecret: rootSK})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kms client:", err)
		return 1
	}
	return m.Run()
}

// clientFor builds a target client for dialect (and OSS SDK) on endpoint.
func clientFor(t testing.TB, dialect client.Dialect, sdk, endpoint, ak, sk string, timeout time.Duration) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Dialect: dialect, OSSSDK: sdk, Endpoint: endpoint, Region: srv.Region,
		AccessKeyID: ak, AccessKeySecret: sk, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rootClient(t testing.TB, dialect client.Dialect) *client.Client {
	return clientFor(t, dialect, "", srv.Endpoint, rootAK, rootSK, 30*time.Second)
}

func createKey(t testing.TB, desc string) string {
	t.Helper()
	out, err := rootKMS.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String(desc)})
	if err != nil {
		t.Fatal(err)
	}
	return tea.StringValue(out.Body.KeyMetadata.KeyId)
}

func mkBucket(t testing.TB, c *client.Client, name string, sse *client.SSE) {
	t.Helper()
	if err := c.CreateBucket(context.Background(), name, sse); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

func put(t testing.TB, c *client.Client, bucket, key string, sse *client.SSE) client.ObjectResult {
	t.Helper()
	body := "content of " + key
	r, err := c.PutObject(context.Background(), bucket, key, strings.NewReader(body), int64(len(body)), client.PutOptions{SSE: sse})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	r.Size = int64(len(body))
	return r
}

// putMany writes n small objects concurrently.
func putMany(t testing.TB, c *client.Client, bucket, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			key := fmt.Sprintf("%s%05d", prefix, i)
			if _, err := c.PutObject(context.Background(), bucket, key, strings.NewReader("x"), 1, client.PutOptions{}); err != nil {
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

// ---- a loopback fault-injecting proxy (no httptest) ----

// proxy forwards to the reference server and injects answers for the
// requests a rule matches. The Host header is kept, so signatures hold.
type proxy struct {
	URL   string
	srv   *http.Server
	rules []*rule
	heads atomic.Int64
	// onHead runs before forwarding every HEAD, with its 1-based number;
	// onAny before every request. Both are set before the first request.
	onHead func(n int64)
	onAny  func()
	// onRequest runs when a request arrives, onAnswer when its answer's
	// headers are about to go out (both set before the first request).
	onRequest, onAnswer func(req *http.Request)

	// Every request's arrival, and the most requests (and HEADs) in
	// flight at once.
	mu                     sync.Mutex
	arrivals               []time.Time
	inflight, headInflight atomic.Int64
	maxInflight, maxHeads  atomic.Int64
}

func raiseTo(m *atomic.Int64, v int64) {
	for {
		cur := m.Load()
		if v <= cur || m.CompareAndSwap(cur, v) {
			return
		}
	}
}

// times returns the arrival times of the requests so far.
func (p *proxy) times() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.arrivals...)
}

type rule struct {
	method string // "" any
	path   string // "/bucket/key" exactly
	query  string // a query parameter that must be present ("" none)
	status int
	times  int64 // answers injected before passing through; <0 always
	delay  time.Duration
	seen   atomic.Int64
}

func (r *rule) match(req *http.Request) bool {
	if r.method != "" && req.Method != r.method {
		return false
	}
	if strings.TrimSuffix(req.URL.Path, "/") != r.path {
		return false
	}
	return r.query == "" || req.URL.Query().Has(r.query)
}

func startProxy(t testing.TB, rules ...*rule) *proxy {
	t.Helper()
	up, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{rules: rules}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(up)
		pr.Out.Host = pr.In.Host
	}, ErrorLog: log.New(io.Discard, "", 0)}
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p.mu.Lock()
		p.arrivals = append(p.arrivals, time.Now())
		p.mu.Unlock()
		// A request is in flight from its arrival until its answer's
		// headers are written, a span inside the client's own (from
		// sending to reading them), so the counts never exceed the
		// client's.
		raiseTo(&p.maxInflight, p.inflight.Add(1))
		head := req.Method == http.MethodHead
		if head {
			raiseTo(&p.maxHeads, p.headInflight.Add(1))
		}
		if p.onRequest != nil {
			p.onRequest(req)
		}
		var once sync.Once
		w = &answerWriter{ResponseWriter: w, first: func() {
			once.Do(func() {
				if p.onAnswer != nil {
					p.onAnswer(req)
				}
				p.inflight.Add(-1)
				if head {
					p.headInflight.Add(-1)
				}
			})
		}}
		defer w.(*answerWriter).first()
		if p.onAny != nil {
			p.onAny()
		}
		if req.Method == http.MethodHead {
			n := p.heads.Add(1)
			if p.onHead != nil {
				p.onHead(n)
			}
		}
		for _, r := range p.rules {
			if !r.match(req) {
				continue
			}
			n := r.seen.Add(1)
			if r.delay > 0 {
				select {
				case <-time.After(r.delay):
				case <-req.Context().Done():
					return
				}
			}
			if r.status != 0 && (r.times < 0 || n <= r.times) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(r.status)
				if req.Method != http.MethodHead {
					fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>injected by the test proxy</Message><RequestId>proxy-%d</RequestId></Error>", n)
				}
				return
			}
		}
		rp.ServeHTTP(w, req)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.srv = &http.Server{Handler: h}
	go p.srv.Serve(ln)
	p.URL = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.srv.Shutdown(ctx)
	})
	return p
}

// answerWriter calls first before the answer's headers go out.
type answerWriter struct {
	http.ResponseWriter
	first func()
}

func (w *answerWriter) WriteHeader(code int) {
	w.first()
	w.ResponseWriter.WriteHeader(code)
}

func (w *answerWriter) Write(b []byte) (int, error) {
	w.first()
	return w.ResponseWriter.Write(b)
}

func (w *answerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// discard is an io.Writer for scans whose output is only summarised.
var discard io.Writer = io.Discard
