package osshttp

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash/crc64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"

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
	rootAK     = "LTAI5tRootTestKey0001"
	rootSK     = "rootSecret0123456789abcdefABCDEF"
	bobAK      = "LTAI5tBobTestKey00002"
	bobSK      = "bobSecret0123456789abcdefABCDEF"
	carolAK    = "LTAI5tCarolTestKey003"
	carolSK    = "carolSecret0123456789abcdefABC"
)

var (
	bg            = context.Background()
	rootPrincipal = objstore.Principal{Name: auth.RootPrincipal}
)

// syncBuffer collects the handler's log lines, shown when a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testAuthz lets root do everything, carol everything but decrypt with
// KMS keys, and bob nothing.
type testAuthz struct{}

func (testAuthz) CanReadBucket(p objstore.Principal, _ string) bool  { return p.Name != "bob" }
func (testAuthz) CanWriteBucket(p objstore.Principal, _ string) bool { return p.Name != "bob" }
func (testAuthz) CanDecrypt(p objstore.Principal, _ string) bool     { return p.Name == auth.RootPrincipal }

// testEnv is the OSS front end over the real store (real envelope, real
// master keyring, in-memory KMS emulator), served on 127.0.0.1.
type testEnv struct {
	t     testing.TB
	srv   *httptest.Server
	addr  string // 127.0.0.1:port
	port  string
	store *objstore.DiskStore
	kms   *kms.Emulator
	hz    kms.API
	clk   *clock.Offset // the handler's clock, for skew tests
	h     http.Handler
	logs  *syncBuffer

	hostsMu sync.Mutex
	hosts   map[string]bool // Host headers seen
}

func (e *testEnv) sawHost(h string) bool {
	e.hostsMu.Lock()
	defer e.hostsMu.Unlock()
	return e.hosts[h]
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	em, err := kms.New(kms.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rootkey.New(bytes.Repeat([]byte{7}, rootkey.Size), nil)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := masterkey.Open(bg, masterkey.Config{Dir: t.TempDir(), RootKey: rk})
	if err != nil {
		t.Fatal(err)
	}
	env := envelope.New(envelope.Config{Master: ring, KMS: func(region string) envelope.KMS { return em.Region(region) }})
	st, err := objstore.Open(bg, objstore.Config{Dir: t.TempDir(), Region: testRegion, Envelope: env, Authorizer: testAuthz{}, RootKey: rk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	creds, err := auth.NewStore(
		auth.Credential{AccessKeyID: rootAK, AccessKeySecret: rootSK, Principal: auth.RootPrincipal},
		auth.Credential{AccessKeyID: bobAK, AccessKeySecret: bobSK, Principal: "bob"},
		auth.Credential{AccessKeyID: carolAK, AccessKeySecret: carolSK, Principal: "carol"},
	)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	clk := &clock.Offset{}
	h, err := NewHandler(Config{
		Store: st, Credentials: creds, Clock: clk, HostSuffixes: []string{"localhost"},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, store: st, kms: em, hz: em.Region(testRegion), clk: clk, h: h, logs: logs, hosts: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hostsMu.Lock()
		e.hosts[r.Host] = true
		e.hostsMu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		if t.Failed() {
			t.Logf("handler log:\n%s", logs.String())
		}
	})
	_, e.port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	e.srv, e.addr = srv, srv.Listener.Addr().String()
	return e
}

// loopbackClient dials the test server whatever host a URL names, so
// virtual-hosted requests (Host: <bucket>.localhost:port) reach 127.0.0.1
// without DNS.
func (e *testEnv) loopbackClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "tcp", e.addr)
			},
			MaxIdleConnsPerHost: 8,
		},
	}
}

func (e *testEnv) createKey() string {
	e.t.Helper()
	k, err := e.hz.CreateKey(bg, kms.CreateKeyInput{Description: "osshttp test"})
	if err != nil {
		e.t.Fatal(err)
	}
	return k.KeyId
}

func (e *testEnv) serviceKeyID() string {
	e.t.Helper()
	k, err := e.hz.DescribeKey(bg, kms.ServiceKeyAliasOSS)
	if err != nil {
		e.t.Fatal(err)
	}
	return k.KeyId
}

// svcErr extracts the HTTP status and OSS code of an SDK error (v1
// ServiceError or v2 *ServiceError).
func svcErr(err error) (status int, code, ec string) {
	var e1 oss1.ServiceError
	if errors.As(err, &e1) {
		return e1.StatusCode, e1.Code, e1.Ec
	}
	var e2 *oss2.ServiceError
	if errors.As(err, &e2) {
		return e2.StatusCode, e2.Code, e2.EC
	}
	return 0, "", ""
}

// wantErr fails unless err is an OSS error with status and code.
func wantErr(t testing.TB, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %d %s", status, code)
	}
	s, c, _ := svcErr(err)
	if s != status || c != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var crcTable = crc64.MakeTable(crc64.ECMA)

func crcOf(b []byte) string { return strconv.FormatUint(crc64.Checksum(b, crcTable), 10) }

func etagOf(b []byte) string {
	s := md5.Sum(b)
	return `"` + strings.ToUpper(hex.EncodeToString(s[:])) + `"`
}

// payload returns n deterministic bytes.
func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// rawRequest sends an unsigned or hand-made request to the test server.
func (e *testEnv) rawRequest(method, target string, hdr map[string]string, body []byte) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+target, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := e.loopbackClient().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func readAll(t testing.TB, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
