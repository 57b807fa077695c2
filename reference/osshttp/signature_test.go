package osshttp

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
)

// testHandler builds a handler without a server, for signature unit tests.
func testHandler(t *testing.T) *handler {
	t.Helper()
	creds, err := auth.NewStore(auth.Credential{AccessKeyID: rootAK, AccessKeySecret: rootSK, Principal: auth.RootPrincipal})
	must(t, err)
	e := newTestEnv(t)
	h, err := NewHandler(Config{Store: e.store, Credentials: creds, Clock: clock.System{}})
	must(t, err)
	return h.(*handler)
}

// sdkEscape is how the v2 SDK writes a key into the URL path.
func sdkEscape(key string) string { return escapeV4Path(key) }

type sigCase struct {
	name, method, bucket, key, rawQuery string
	header                              http.Header
}

var sigCases = []sigCase{
	{name: "service", method: "GET"},
	{name: "bucket", method: "GET", bucket: "bkt", rawQuery: "encryption"},
	{name: "list params", method: "GET", bucket: "bkt", rawQuery: "prefix=a%2Bb%20c%26d%3De&delimiter=%2F&max-keys=10&encoding-type=url&list-type=2"},
	{name: "repeated and empty", method: "GET", bucket: "bkt", rawQuery: "uploads&prefix=&prefix=x&marker=%25"},
	{name: "plus in query", method: "GET", bucket: "bkt", rawQuery: "prefix=a+b"},
	{name: "tricky key", method: "PUT", bucket: "bkt", key: "dir/ü ~!*'()+,;=:@$&?#[]%25 end",
		header: http.Header{"X-Oss-Meta-A": {" padded value "}, "Content-Type": {"text/plain"}, "Content-Md5": {"1B2M2Y8AsgTpgAmY7PhCfg=="},
			"X-Oss-Server-Side-Encryption": {"KMS"}}},
	{name: "multi-valued header", method: "PUT", bucket: "bkt", key: "k", header: http.Header{"X-Oss-Meta-Multi": {"a", "b"}}},
	{name: "sub-resources", method: "PUT", bucket: "bkt", key: "k/", rawQuery: "partNumber=3&uploadId=ABC%2Fdef"},
	{name: "response overrides", method: "GET", bucket: "bkt", key: "k", rawQuery: "response-content-type=text%2Fplain%3B%20charset%3Dutf-8&response-cache-control=no-cache"},
}

func (c sigCase) request(t *testing.T) (*http.Request, resource) {
	path := "/"
	if c.bucket != "" {
		path += c.bucket + "/" + sdkEscape(c.key)
	}
	u := "http://127.0.0.1:1" + path
	if c.rawQuery != "" {
		u += "?" + c.rawQuery
	}
	req, err := http.NewRequest(c.method, u, nil)
	must(t, err)
	for k, vs := range c.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req, resource{bucket: c.bucket, key: c.key}
}

func ctxFor(req *http.Request, res resource, sub []string, add []string) *signer.SigningContext {
	sc := &signer.SigningContext{
		Product: oss2.Ptr("oss"), Region: oss2.Ptr(testRegion), Request: req, SubResource: sub, AdditionalHeaders: add,
		Credentials: &credentials.Credentials{AccessKeyID: rootAK, AccessKeySecret: rootSK},
	}
	if res.bucket != "" {
		sc.Bucket = oss2.Ptr(res.bucket)
		sc.Key = oss2.Ptr(res.key)
		if res.key == "" {
			sc.Key = nil
		}
	}
	return sc
}

// TestSignaturesMatchSDKSigner signs requests with the v2 SDK's own V1 and
// V4 signers (header and query forms) and verifies them with this
// package's verifier, for inputs needing every escaping rule.
func TestSignaturesMatchSDKSigner(t *testing.T) {
	h := testHandler(t)
	for _, c := range sigCases {
		for _, mode := range []string{"v4-header", "v4-header-additional", "v4-query", "v1-header", "v1-query"} {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				req, res := c.request(t)
				var s signer.Signer = &signer.SignerV4{}
				var sub, add []string
				switch mode {
				case "v1-header", "v1-query":
					s = &signer.SignerV1{}
					if strings.Contains(c.rawQuery, "encryption") {
						sub = []string{"encryption"}
					}
				case "v4-header-additional":
					add = []string{"host", "user-agent"}
					req.Header.Set("User-Agent", "sig-test")
				}
				sc := ctxFor(req, res, sub, add)
				if strings.HasSuffix(mode, "query") {
					sc.AuthMethodQuery = true
					sc.Time = time.Now().Add(10 * time.Minute)
				}
				must(t, s.Sign(bg, sc))
				// What the server sees: the decoded path and the raw query.
				q, err := url.ParseQuery(req.URL.RawQuery)
				must(t, err)
				out, e := h.authenticate(req, q, res)
				if e != nil {
					t.Fatalf("%s: %v\nclient string to sign:\n%s", mode, e, sc.StringToSign)
				}
				if out.cred.Principal != auth.RootPrincipal {
					t.Fatal(out)
				}
				// Any change to a signed element breaks it.
				req.Method = "DELETE"
				if _, e := h.authenticate(req, q, res); e == nil || e.Code != CodeSignatureDoesNotMatch {
					t.Fatalf("tampered request: %v", e)
				}
			})
		}
	}
}

func TestV4CanonicalPieces(t *testing.T) {
	if got := canonicalQueryV4("b=2&a=1&c&a=3&x-oss-signature=zz", "x-oss-signature"); got != "a=3&a=3&b=2&c" {
		t.Fatalf("canonical query %q", got)
	}
	if got := canonicalURIV4(resource{bucket: "b", key: "a b/ü~+"}); got != "/b/a%20b/%C3%BC~%2B" {
		t.Fatalf("canonical URI %q", got)
	}
	if got := canonicalURIV4(resource{}); got != "/" {
		t.Fatal(got)
	}
	a, e := parseV4Authorization("OSS4-HMAC-SHA256 Credential=AK/20260101/cn-hangzhou/oss/aliyun_v4_request, AdditionalHeaders=host;User-Agent, Signature=" + strings.Repeat("0", 64))
	if e != nil || a.cred.accessKeyID != "AK" || a.additionalRaw != "host;User-Agent" || len(a.additional) != 2 || a.additional[1] != "user-agent" {
		t.Fatalf("%+v %v", a, e)
	}
}

// TestAdditionalHeadersEndToEnd lets both SDKs sign extra headers with V4.
func TestAdditionalHeadersEndToEnd(t *testing.T) {
	e := newTestEnv(t)
	clients := []sdkClient{
		newV1(e, "http://localhost:"+e.port, rootAK, rootSK, oss1.HTTPClient(e.loopbackClient()), oss1.AuthVersion(oss1.AuthV4),
			oss1.Region(testRegion), oss1.AdditionalHeaders([]string{"host", "user-agent"})),
		newV2(e, e.srv.URL, rootAK, rootSK, func(c *oss2.Config) { c.WithAdditionalHeaders([]string{"user-agent", "host"}) }),
	}
	for i, c := range clients {
		b := "addhdr-" + itoa(i)
		must(t, c.CreateBucket(b, nil))
		data := []byte("additional headers")
		_, err := c.PutObject(b, "k e y", data, map[string]string{"x-oss-meta-x": "y"})
		must(t, err)
		got, _, err := c.GetObject(b, "k e y", nil)
		must(t, err)
		if !bytes.Equal(got, data) {
			t.Fatal("content")
		}
		p, err := c.ListObjectsV2(b, listOpts{prefix: "k e", delim: "/"})
		must(t, err)
		if len(p.keys) != 1 {
			t.Fatalf("%q", p.keys)
		}
	}
}

func TestIsOSSRequest(t *testing.T) {
	for _, tc := range []struct {
		authz, query string
		want         bool
	}{
		{"OSS ak:sig", "", true},
		{"OSS4-HMAC-SHA256 Credential=a", "", true},
		{"OSS2 AccessKeyId:a,Signature:b", "", true},
		{"AWS4-HMAC-SHA256 Credential=a", "", false},
		{"AWS ak:sig", "", false},
		{"", "OSSAccessKeyId=a&Expires=1&Signature=b", true},
		{"", "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=a", true},
		{"", "x-oss-credential=a", true},
		{"", "X-Amz-Credential=a&X-Amz-Signature=b", false},
		{"", "", false},
	} {
		req, _ := http.NewRequest("GET", "http://h/b/k?"+tc.query, nil)
		if tc.authz != "" {
			req.Header.Set("Authorization", tc.authz)
		}
		if got := IsOSSRequest(req); got != tc.want {
			t.Errorf("IsOSSRequest(%q, %q) = %v", tc.authz, tc.query, got)
		}
	}
}
