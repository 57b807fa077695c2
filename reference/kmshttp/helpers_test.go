package kmshttp

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/sseaudit/sseaudit/kmsclient"
	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/kms"
)

const testRegion = "cn-hangzhou"

var testCred = auth.Credential{AccessKeyID: "LTAITESTACCESSKEY", AccessKeySecret: "test-secret-0123456789", Principal: "alice"}

// fixture is a kmshttp server on 127.0.0.1 backed by an in-memory emulator.
type fixture struct {
	t        *testing.T
	emu      *kms.Emulator
	emuClock *clock.Fake // the emulator's clock (key dates, rotation, deletion)
	srvClock *clock.Fake // the handler's clock (request timestamp checks)
	srv      *httptest.Server
	logs     *syncBuffer

	mu       sync.Mutex
	recorded []recordedRequest // every request the server received
}

type recordedRequest struct {
	method, uri string
	header      http.Header
	body        []byte
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

func newFixture(t *testing.T) *fixture {
	t.Helper()
	now := time.Now().UTC()
	f := &fixture{t: t, emuClock: clock.NewFake(now), srvClock: clock.NewFake(now), logs: &syncBuffer{}}
	emu, err := kms.New(kms.Config{Clock: f.emuClock})
	if err != nil {
		t.Fatal(err)
	}
	f.emu = emu
	store, err := auth.NewStore(testCred)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Config{
		Emulator:    emu,
		Region:      testRegion,
		Credentials: store,
		Clock:       f.srvClock,
		Logger:      slog.New(slog.NewJSONHandler(f.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.recorded = append(f.recorded, recordedRequest{method: r.Method, uri: r.URL.RequestURI(), header: r.Header.Clone(), body: body})
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	if !strings.HasPrefix(f.srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server is not on 127.0.0.1: %s", f.srv.URL)
	}
	return f
}

// sdkModes are the two signature modes of the SDK.
var sdkModes = []struct {
	name string
	opts []kmsclient.Option
}{
	{"ACS3", nil},
	{"v2", []kmsclient.Option{kmsclient.WithSignatureV2()}},
}

func (f *fixture) client(id, secret string, opts ...kmsclient.Option) *kmssdk.Client {
	f.t.Helper()
	c, err := kmsclient.New(f.srv.URL, testRegion, id, secret, opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) lastRequest() recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recorded[len(f.recorded)-1]
}

// wantSDKError checks that err is a service error with status and code.
func wantSDKError(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %d %s", status, code)
	}
	gotStatus, gotCode, msg, ok := kmsclient.ErrorInfo(err)
	if !ok {
		t.Fatalf("not a service error: %v", err)
	}
	if gotStatus != status || gotCode != code {
		t.Fatalf("got %d %s (%s), want %d %s", gotStatus, gotCode, msg, status, code)
	}
	if msg == "" {
		t.Fatalf("error %s has an empty message", code)
	}
}

// errorReply is a decoded error body.
type errorReply struct {
	status int
	header http.Header
	body   map[string]any
}

func (e errorReply) code() string { s, _ := e.body["Code"].(string); return s }

// do sends a raw request to the fixture and decodes the JSON answer.
func (f *fixture) do(method, target string, header http.Header, body []byte) errorReply {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+target, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if h := header.Get("Host"); h != "" {
		req.Host = h
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		f.t.Fatalf("answer is not JSON (%d): %q", resp.StatusCode, raw)
	}
	return errorReply{status: resp.StatusCode, header: resp.Header, body: m}
}

// rpcQuery builds a classic-RPC-signed query string for params, with the
// common parameters filled in (each overridable through params; a value of
// "-" removes it; a given Signature is sent instead of the right one).
func rpcQuery(method string, p map[string]string, secret string, now time.Time) string {
	all := map[string]string{
		"Format":           "json",
		"Version":          APIVersion,
		"AccessKeyId":      testCred.AccessKeyID,
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureVersion": "1.0",
		"SignatureNonce":   newRequestID(),
		"Timestamp":        now.UTC().Format(timestampLayout),
	}
	sig, override := p["Signature"]
	for k, v := range p {
		if k == "Signature" {
			continue
		}
		if v == "-" {
			delete(all, k)
		} else {
			all[k] = v
		}
	}
	q := url.Values{}
	for k, v := range all {
		q.Set(k, v)
	}
	if !override {
		sig = rpcSign(rpcStringToSign(method, all), secret)
	}
	q.Set("Signature", sig)
	return q.Encode()
}
