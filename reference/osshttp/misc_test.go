package osshttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/objstore"
)

// panickyStore is the real store with one method that panics, to check the
// recover middleware.
type panickyStore struct{ objstore.Store }

func (panickyStore) ListBuckets(context.Context, objstore.Principal) ([]objstore.BucketInfo, error) {
	panic("boom")
}

func TestPanicBecomesInternalError(t *testing.T) {
	e := newTestEnv(t)
	creds, err := auth.NewStore(auth.Credential{AccessKeyID: rootAK, AccessKeySecret: rootSK, Principal: auth.RootPrincipal})
	must(t, err)
	logs := &syncBuffer{}
	h, err := NewHandler(Config{Store: panickyStore{e.store}, Credentials: creds, Logger: newTextLogger(logs)})
	must(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, err = newV1(e, srv.URL, rootAK, rootSK).ListBuckets("")
	wantErr(t, err, 500, CodeInternalError)
	if !strings.Contains(logs.String(), "oss handler panic") || !strings.Contains(logs.String(), "boom") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

// TestChunkedPut sends a body without Content-Length.
func TestChunkedPut(t *testing.T) {
	e := newTestEnv(t)
	must(t, newV1(e, e.srv.URL, rootAK, rootSK).CreateBucket("chunked", nil))
	data := payload(300000, 40)
	req, err := http.NewRequest(http.MethodPut, e.srv.URL+"/chunked/obj", io.MultiReader(bytes.NewReader(data)))
	must(t, err)
	req.ContentLength = -1
	req.Header.Set("Date", httpTime(time.Now()))
	req.Header.Set("X-Oss-Server-Side-Encryption", "AES256")
	sts := stringToSignV1(req, req.Header.Get("Date"), canonicalResourceV1(resource{bucket: "chunked", key: "obj"}, nil, signedUnion, nil))
	req.Header.Set("Authorization", "OSS "+rootAK+":"+signV1(rootSK, sts))
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	body := readAll(t, resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Oss-Hash-Crc64ecma") != crcOf(data) {
		t.Fatalf("chunked put: %d %s", resp.StatusCode, body)
	}
	got, h, err := newV2(e, e.srv.URL, rootAK, rootSK, nil).GetObject("chunked", "obj", nil)
	must(t, err)
	if !bytes.Equal(got, data) || h.Get("X-Oss-Server-Side-Encryption") != "AES256" {
		t.Fatal("chunked object")
	}
}

func TestNewHandlerConfig(t *testing.T) {
	e := newTestEnv(t)
	creds, err := auth.NewStore(auth.Credential{AccessKeyID: rootAK, AccessKeySecret: rootSK, Principal: auth.RootPrincipal})
	must(t, err)
	if _, err := NewHandler(Config{Credentials: creds}); err == nil {
		t.Fatal("no store accepted")
	}
	if _, err := NewHandler(Config{Store: e.store}); err == nil {
		t.Fatal("no credentials accepted")
	}
	if _, err := NewHandler(Config{Store: e.store, Credentials: creds, Region: "cn-shanghai"}); err == nil {
		t.Fatal("region mismatch accepted")
	}
	h, err := NewHandler(Config{Store: e.store, Credentials: creds})
	must(t, err)
	hh := h.(*handler)
	if hh.cfg.Region != testRegion || hh.cfg.MaxSkew != DefaultMaxSkew || len(hh.suffixes) != 3 {
		t.Fatalf("defaults %+v %q", hh.cfg, hh.suffixes)
	}
	for host, want := range map[string]resource{
		"bkt.oss-cn-hangzhou.aliyuncs.com":          {bucket: "bkt", key: "a/b", vhost: true},
		"bkt.oss-cn-hangzhou-internal.aliyuncs.com": {bucket: "bkt", key: "a/b", vhost: true},
		"BKT.LOCALHOST:8080":                        {bucket: "bkt", key: "a/b", vhost: true},
		"oss-cn-hangzhou.aliyuncs.com":              {bucket: "a", key: "b"},
		"127.0.0.1:9000":                            {bucket: "a", key: "b"},
		"[::1]:9000":                                {bucket: "a", key: "b"},
		"example.com":                               {bucket: "a", key: "b"},
	} {
		r := httptest.NewRequest("GET", "/a/b", nil)
		r.Host = host
		got, e := hh.resolve(r)
		if e != nil || got != want {
			t.Errorf("resolve(%q) = %+v, %v; want %+v", host, got, e, want)
		}
	}
}
