package s3http

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/xml"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/masterkey"
	"github.com/sseaudit/sseaudit/reference/objstore"
	"github.com/sseaudit/sseaudit/reference/rootkey"
)

const (
	testRegion = "cn-hangzhou"
	// testKMSAccount is the KMS emulator's account in the test server.
	testKMSAccount = "111122223333"
	rootAK         = "LTAIROOTTESTKEY0001"
	rootSK         = "root-secret-0123456789abcdef"
	bobAK          = "LTAIBOBTESTKEY00002"
	bobSK          = "bob-secret-0123456789abcdef"
)

var bg = context.Background()

// testAuthz lets everything through except decrypt grants it lists.
type testAuthz struct {
	mu        sync.Mutex
	noDecrypt map[string]bool // principal + "/" + key id
}

func (a *testAuthz) CanReadBucket(objstore.Principal, string) bool  { return true }
func (a *testAuthz) CanWriteBucket(objstore.Principal, string) bool { return true }
func (a *testAuthz) CanDecrypt(p objstore.Principal, keyID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.noDecrypt[p.Name+"/"+keyID]
}

func (a *testAuthz) denyDecrypt(principal, keyID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.noDecrypt[principal+"/"+keyID] = true
}

// testServer is the S3 front end over a real DiskStore (real envelope,
// master keyring and in-memory KMS emulator) on a loopback listener.
type testServer struct {
	URL   string // http://127.0.0.1:PORT
	Port  string
	store *objstore.DiskStore
	dir   string // the store's data directory
	kms   *kms.Emulator
	hz    kms.API
	clk   *clock.Offset // the handler's clock (wall time, can be moved)
	authz *testAuthz
	h     http.Handler
	srv   *httptest.Server
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type serverOption func(*serverConfig)

type serverConfig struct {
	tls        bool
	defaultSSE *objstore.EncryptionRule
	storeClock clock.Clock
}

func withTLS() serverOption { return func(c *serverConfig) { c.tls = true } }

// withStoreClock gives the store (not the handler, whose clock checks
// request signatures) its own clock.
func withStoreClock(c clock.Clock) serverOption { return func(sc *serverConfig) { sc.storeClock = c } }

func newTestServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	var sc serverConfig
	for _, o := range opts {
		o(&sc)
	}
	// A 12-digit AWS-style account rather than the emulator's default, so a
	// handler that ignored Config.KMSAccount would name another account.
	em, err := kms.New(kms.Config{Account: testKMSAccount})
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rootkey.New(bytes.Repeat([]byte{7}, rootkey.Size), nil)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := masterkey.Open(bg, masterkey.Config{RootKey: rk})
	if err != nil {
		t.Fatal(err)
	}
	env := envelope.New(envelope.Config{Master: ring, KMS: func(region string) envelope.KMS { return em.Region(region) }})
	az := &testAuthz{noDecrypt: map[string]bool{}}
	dir := t.TempDir()
	st, err := objstore.Open(bg, objstore.Config{Dir: dir, Region: testRegion, Envelope: env, Authorizer: az, DefaultSSE: sc.defaultSSE, RootKey: rk, Clock: sc.storeClock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	creds, err := auth.NewStore(
		auth.Credential{AccessKeyID: rootAK, AccessKeySecret: rootSK, Principal: auth.RootPrincipal},
		auth.Credential{AccessKeyID: bobAK, AccessKeySecret: bobSK, Principal: "bob"},
	)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	clk := &clock.Offset{}
	h, err := NewHandler(Config{Store: st, Credentials: creds, Region: testRegion, KMSAccount: em.Account(), Clock: clk,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{store: st, dir: dir, kms: em, hz: em.Region(testRegion), clk: clk, authz: az, h: h, logs: logs}
	if sc.tls {
		ts.srv = httptest.NewTLSServer(h)
	} else {
		ts.srv = httptest.NewServer(h)
	}
	ts.srv.Config.ErrorLog = nil
	t.Cleanup(ts.srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", tail(logs.String(), 6000))
		}
	})
	ts.URL = ts.srv.URL
	u, _ := url.Parse(ts.URL)
	_, ts.Port, _ = net.SplitHostPort(u.Host)
	return ts
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// createKey makes a customer master key in the store's region.
// keyARN is the ARN AWS S3 names the key id by in object responses, in
// the test server's region and its KMS emulator's account.
func (ts *testServer) keyARN(id string) string {
	return "arn:aws:kms:" + testRegion + ":" + ts.kms.Account() + ":key/" + id
}

func (ts *testServer) createKey(t testing.TB) string {
	t.Helper()
	k, err := ts.hz.CreateKey(bg, kms.CreateKeyInput{Description: "s3http test"})
	if err != nil {
		t.Fatal(err)
	}
	return k.KeyId
}

// loopbackTransport dials the test server for every host name, so that
// virtual-hosted names like bucket.localhost need no resolver.
func (ts *testServer) loopbackTransport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, "127.0.0.1:"+ts.Port)
		},
		MaxIdleConnsPerHost: 16,
	}
	if ts.srv.TLS != nil {
		tr.TLSClientConfig = ts.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		tr.TLSClientConfig.ServerName = "example.com"
		tr.ForceAttemptHTTP2 = false
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return tr
}

// minioClient returns a minio-go client; lookup DNS addresses buckets as
// <bucket>.localhost:PORT.
func (ts *testServer) minioClient(t testing.TB, lookup minio.BucketLookupType, ak, sk string) *minio.Client {
	t.Helper()
	host := "127.0.0.1:" + ts.Port
	if lookup == minio.BucketLookupDNS {
		host = "localhost:" + ts.Port
	}
	c, err := minio.New(host, &minio.Options{
		Creds: miniocreds.NewStaticV4(ak, sk, ""), Secure: false, Region: testRegion,
		BucketLookup: lookup, Transport: ts.loopbackTransport(), MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (ts *testServer) rootMinio(t testing.TB) *minio.Client {
	return ts.minioClient(t, minio.BucketLookupPath, rootAK, rootSK)
}

// awsClient returns an AWS SDK for Go v2 S3 client with its default
// checksum behaviour, path-style, against the test server.
func (ts *testServer) awsClient(t testing.TB, ak, sk string) *s3.Client {
	t.Helper()
	return ts.awsClientOver(t, ak, sk, ts.loopbackTransport())
}

// awsClientOver is awsClient with its own transport.
func (ts *testServer) awsClientOver(t testing.TB, ak, sk string, tr http.RoundTripper) *s3.Client {
	t.Helper()
	// LoadDefaultConfig, as applications do, so the SDK's defaults apply
	// (request checksums "when_supported"); shared files are not read.
	cfg, err := config.LoadDefaultConfig(bg,
		config.WithRegion(testRegion),
		config.WithCredentialsProvider(awscreds.NewStaticCredentialsProvider(ak, sk, "")),
		config.WithRetryMaxAttempts(1),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Set after loading: an AWS_CA_BUNDLE in the environment would make
	// LoadDefaultConfig try to modify the client's transport.
	cfg.HTTPClient = &http.Client{Transport: tr}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(ts.URL)
		o.UsePathStyle = true
	})
}

// ---- Raw signed requests (signed by minio-go's signer) ----

type rawReq struct {
	method  string
	path    string // escaped path + optional ?query
	headers map[string]string
	body    []byte
	// sign: "v4" (default, hex payload hash), "unsigned", "stream",
	// "none", "presign"
	sign    string
	ak, sk  string
	region  string
	expires time.Duration // presign
	base    string        // default the test server's URL
	mutate  func(r *http.Request)
}

func (ts *testServer) newRaw(t testing.TB, rr rawReq) *http.Request {
	t.Helper()
	if rr.ak == "" {
		rr.ak, rr.sk = rootAK, rootSK
	}
	if rr.region == "" {
		rr.region = testRegion
	}
	if rr.base == "" {
		rr.base = ts.URL
	}
	req, err := http.NewRequest(rr.method, rr.base+rr.path, bytes.NewReader(rr.body))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(rr.body))
	if len(rr.body) == 0 {
		req.Body = nil
	}
	for k, v := range rr.headers {
		req.Header.Set(k, v)
	}
	switch rr.sign {
	case "", "v4":
		req.Header.Set("X-Amz-Content-Sha256", sha256Hex(rr.body))
		req = signer.SignV4(*req, rr.ak, rr.sk, "", rr.region)
	case "unsigned":
		req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
		req = signer.SignV4(*req, rr.ak, rr.sk, "", rr.region)
	case "stream":
		if req.Body == nil {
			req.Body = io.NopCloser(bytes.NewReader(nil))
		}
		req = signer.StreamingSignV4(req, rr.ak, rr.sk, "", rr.region, int64(len(rr.body)), time.Now().UTC(), shaHasher{sha256.New()})
	case "presign":
		exp := rr.expires
		if exp == 0 {
			exp = time.Minute
		}
		req = signer.PreSignV4(*req, rr.ak, rr.sk, "", rr.region, int64(exp/time.Second))
	case "none":
	default:
		t.Fatalf("unknown signing %q", rr.sign)
	}
	if rr.mutate != nil {
		rr.mutate(req)
	}
	return req
}

type rawResp struct {
	status int
	header http.Header
	body   []byte
	code   string
}

func (ts *testServer) do(t testing.TB, req *http.Request) rawResp {
	t.Helper()
	c := &http.Client{Transport: ts.loopbackTransport()}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Code string `xml:"Code"`
	}
	_ = xml.Unmarshal(b, &e)
	return rawResp{status: resp.StatusCode, header: resp.Header, body: b, code: e.Code}
}

func (ts *testServer) raw(t testing.TB, rr rawReq) rawResp {
	t.Helper()
	return ts.do(t, ts.newRaw(t, rr))
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func mustReadAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// minioCode returns the S3 error code of a minio-go error.
func minioCode(err error) string { return minio.ToErrorResponse(err).Code }

func minioStatus(err error) int { return minio.ToErrorResponse(err).StatusCode }

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// shaHasher adapts sha256 to the md5simd.Hasher minio-go's streaming
// signer takes.
type shaHasher struct{ hash.Hash }

func (shaHasher) Close() {}

func newSHA() hash.Hash { return sha256.New() }

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
