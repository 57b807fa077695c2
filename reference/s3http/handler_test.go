package s3http

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/objstore"
)

func TestIsS3Request(t *testing.T) {
	for _, tc := range []struct {
		target string
		authz  string
		want   bool
	}{
		{"/b/k", "AWS4-HMAC-SHA256 Credential=a/b/c/s3/aws4_request, SignedHeaders=host, Signature=x", true},
		{"/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x", "", true},
		{"/b/k?a=1&X-Amz-Algorithm=x", "", true},
		{"/b/k", "OSS4-HMAC-SHA256 Credential=x", false},
		{"/b/k", "OSS ak:sig", false},
		{"/b/k", "AWS ak:sig", true},
		{"/b/k?AWSAccessKeyId=a&Expires=1&Signature=s", "", true},
		{"/b/k?OSSAccessKeyId=a&Expires=1&Signature=s", "", false},
		{"/b/k?x-oss-signature-version=OSS4-HMAC-SHA256", "", false},
		{"/b/k?XX-Amz-Algorithm=1", "", false},
		{"/", "", false},
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		if tc.authz != "" {
			r.Header.Set("Authorization", tc.authz)
		}
		if got := IsS3Request(r); got != tc.want {
			t.Errorf("IsS3Request(%s, %q) = %v", tc.target, tc.authz, got)
		}
	}
}

func TestRoute(t *testing.T) {
	h := &handler{cfg: Config{VirtualHostDomains: []string{"localhost", "s3.example.com"}}}
	for _, tc := range []struct{ host, path, bucket, key string }{
		{"127.0.0.1:9000", "/b/k/x", "b", "k/x"},
		{"127.0.0.1:9000", "/", "", ""},
		{"localhost:9000", "/b/", "b", ""},
		{"bkt.localhost:9000", "/k/x", "bkt", "k/x"},
		{"bkt.localhost", "/", "bkt", ""},
		{"a.b.s3.example.com", "/k", "a.b", "k"},
		{"BKT.LOCALHOST:1", "/k", "bkt", "k"},
		{"s3.example.com", "/b/k", "b", "k"},
		{"[::1]:9000", "/b/k", "b", "k"},
		{"other.example.org", "/b/k", "b", "k"},
	} {
		r := httptest.NewRequest("GET", "http://x"+tc.path, nil)
		r.Host = tc.host
		b, k := h.route(r)
		if b != tc.bucket || k != tc.key {
			t.Errorf("route(%s%s) = %q %q, want %q %q", tc.host, tc.path, b, k, tc.bucket, tc.key)
		}
	}
}

func TestNewHandlerConfig(t *testing.T) {
	if _, err := NewHandler(Config{}); err == nil {
		t.Fatal("no store accepted")
	}
	ts := newTestServer(t)
	if _, err := NewHandler(Config{Store: ts.store}); err == nil {
		t.Fatal("no credentials accepted")
	}
	creds, _ := auth.NewStore()
	hh, err := NewHandler(Config{Store: ts.store, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	h := hh.(*handler)
	if h.cfg.Region != testRegion || h.cfg.MaxSkew != DefaultMaxSkew || h.cfg.MaxXMLBody != DefaultMaxXMLBody || h.cfg.Clock == nil {
		t.Fatalf("defaults not applied: %+v", h.cfg)
	}
}

// panickyStore is the real store with one method that panics.
type panickyStore struct{ objstore.Store }

func (panickyStore) ListBuckets(context.Context, objstore.Principal) ([]objstore.BucketInfo, error) {
	panic("boom")
}

func TestPanicIsRecovered(t *testing.T) {
	ts := newTestServer(t)
	creds, _ := auth.NewStore(auth.Credential{AccessKeyID: rootAK, AccessKeySecret: rootSK, Principal: "root"})
	var logs syncBuffer
	h, err := NewHandler(Config{Store: panickyStore{ts.store}, Credentials: creds, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req := ts.newRaw(t, rawReq{method: "GET", path: "/", base: srv.URL})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("X-Amz-Request-Id") == "" {
		t.Fatalf("panic gave %d", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

// TestErrorMapping pins the S3 code and status of every objstore kind.
func TestErrorMapping(t *testing.T) {
	want := map[objstore.Kind]struct {
		status int
		code   string
	}{
		objstore.KindInternal:                   {500, "InternalError"},
		objstore.KindAccessDenied:               {403, "AccessDenied"},
		objstore.KindInvalidBucketName:          {400, "InvalidBucketName"},
		objstore.KindInvalidObjectName:          {400, "InvalidArgument"},
		objstore.KindNoSuchBucket:               {404, "NoSuchBucket"},
		objstore.KindBucketAlreadyExists:        {409, "BucketAlreadyExists"},
		objstore.KindBucketAlreadyOwnedByYou:    {409, "BucketAlreadyOwnedByYou"},
		objstore.KindBucketNotEmpty:             {409, "BucketNotEmpty"},
		objstore.KindNoSuchKey:                  {404, "NoSuchKey"},
		objstore.KindNoSuchUpload:               {404, "NoSuchUpload"},
		objstore.KindInvalidPart:                {400, "InvalidPart"},
		objstore.KindInvalidPartOrder:           {400, "InvalidPartOrder"},
		objstore.KindEntityTooSmall:             {400, "EntityTooSmall"},
		objstore.KindInvalidDigest:              {400, "BadDigest"},
		objstore.KindIncompleteBody:             {400, "IncompleteBody"},
		objstore.KindInvalidRange:               {416, "InvalidRange"},
		objstore.KindInvalidArgument:            {400, "InvalidArgument"},
		objstore.KindNoSuchEncryptionRule:       {404, "ServerSideEncryptionConfigurationNotFoundError"},
		objstore.KindInvalidEncryptionAlgorithm: {400, "InvalidArgument"},
		objstore.KindKMSAccessDenied:            {403, "AccessDenied"},
		objstore.KindKMSKeyDisabled:             {400, "KMS.DisabledException"},
		objstore.KindKMSKeyPendingDeletion:      {400, "KMS.KMSInvalidStateException"},
		objstore.KindKMSKeyNotFound:             {400, "KMS.NotFoundException"},
		objstore.KindKMSInvalidKeyID:            {400, "KMS.NotFoundException"},
		objstore.KindKMSUnavailable:             {503, "ServiceUnavailable"},
		objstore.KindDecryptFailed:              {500, "InternalError"},
		objstore.KindEntityTooLarge:             {400, "EntityTooLarge"},
		objstore.KindPreconditionFailed:         {412, "PreconditionFailed"},
		objstore.KindInvalidRequest:             {400, "InvalidRequest"},
	}
	for k := objstore.KindInternal; k <= objstore.KindInvalidRequest; k++ {
		w, ok := want[k]
		if !ok {
			t.Errorf("kind %d has no expected mapping", k)
			continue
		}
		e := errorFromStore(&objstore.Error{Kind: k, Message: "m"}, "key")
		if e.Status != w.status || e.Code != w.code {
			t.Errorf("kind %d -> %d %s, want %d %s", k, e.Status, e.Code, w.status, w.code)
		}
	}
	if e := errorFromStore(&objstore.Error{Kind: objstore.KindInvalidObjectName}, strings.Repeat("k", 1024)); e.Code != "KeyTooLongError" {
		t.Errorf("long key -> %s", e.Code)
	}
	if e := errorFromStore(context.Canceled, ""); e.Status != 500 {
		t.Errorf("foreign error -> %d", e.Status)
	}
}
