package osshttp

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

var requestIDRE = regexp.MustCompile(`^[0-9A-F]{24}$`)

type errorDoc struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
	EC        string   `xml:"EC"`
}

// checkCommon asserts the headers every OSS answer carries.
func checkCommon(t *testing.T, resp *http.Response) {
	t.Helper()
	if id := resp.Header.Get("X-Oss-Request-Id"); !requestIDRE.MatchString(id) {
		t.Fatalf("x-oss-request-id %q", id)
	}
	if resp.Header.Get("Server") != "AliyunOSS" {
		t.Fatalf("Server %q", resp.Header.Get("Server"))
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Fatalf("Date %q", resp.Header.Get("Date"))
	}
	if resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
}

// wantRawError checks an error answer: status, code, the document (or for
// HEAD, x-oss-err) and the request id in both places.
func wantRawError(t *testing.T, resp *http.Response, status int, code string) errorDoc {
	t.Helper()
	body := readAll(t, resp.Body)
	checkCommon(t, resp)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if resp.Request.Method == http.MethodHead {
		if len(body) != 0 {
			t.Fatalf("HEAD error with a body")
		}
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Header.Get("X-Oss-Err")); err != nil {
			t.Fatalf("x-oss-err: %v", err)
		}
	} else if resp.Header.Get("Content-Type") != "application/xml" {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	var doc errorDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("error document %q: %v", body, err)
	}
	if doc.Code != code || doc.RequestID != resp.Header.Get("X-Oss-Request-Id") || doc.Message == "" || doc.HostID == "" {
		t.Fatalf("error document %+v, want code %s", doc, code)
	}
	if doc.EC != resp.Header.Get("X-Oss-Ec") {
		t.Fatalf("EC %q but x-oss-ec %q", doc.EC, resp.Header.Get("X-Oss-Ec"))
	}
	return doc
}

// signedV1 sends a request signed with the V1 scheme by this package's
// signer (itself checked against both SDKs), for requests the SDKs refuse
// to build.
func (e *testEnv) signedV1(method, path, rawQuery string, hdr map[string]string, body []byte) *http.Response {
	e.t.Helper()
	target := path
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	req, err := http.NewRequest(method, e.srv.URL+target, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Header.Set("Date", httpTime(time.Now()))
	res := resource{}
	if p := strings.TrimPrefix(req.URL.Path, "/"); p != "" {
		res.bucket, res.key, _ = strings.Cut(p, "/")
	}
	q, _ := url.ParseQuery(req.URL.RawQuery)
	sts := stringToSignV1(req, req.Header.Get("Date"), canonicalResourceV1(res, q, signedUnion, nil))
	req.Header.Set("Authorization", "OSS "+rootAK+":"+signV1(rootSK, sts))
	resp, err := e.loopbackClient().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func md5b64(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func TestCommonHeadersAndErrorDocument(t *testing.T) {
	e := newTestEnv(t)
	resp := e.rawRequest(http.MethodGet, "/", nil, nil)
	doc := wantRawError(t, resp, 403, CodeAccessDenied)
	if doc.HostID != e.addr {
		t.Fatalf("HostId %q", doc.HostID)
	}
	// OSS answers NoSuchBucket before it looks at credentials; a bucket
	// that exists still needs them.
	resp = e.rawRequest(http.MethodHead, "/bkt/obj", nil, nil)
	wantRawError(t, resp, 404, CodeNoSuchBucket)
	if r := e.signedV1(http.MethodPut, "/bkt/", "", nil, nil); r.StatusCode != 200 {
		t.Fatalf("PutBucket: %d", r.StatusCode)
	}
	resp = e.rawRequest(http.MethodHead, "/bkt/obj", nil, nil)
	wantRawError(t, resp, 403, CodeAccessDenied)
	resp = e.rawRequest(http.MethodGet, "/bkt/", map[string]string{"Authorization": "OSS LTAI5tNobody:c2lnbmF0dXJl", "Date": httpTime(time.Now())}, nil)
	wantRawError(t, resp, 403, CodeInvalidAccessKeyID)

	for _, tc := range []struct {
		authz  string
		status int
		code   string
	}{
		{"OSS nocolon", 400, CodeInvalidArgument},
		{"OSS :sig", 400, CodeInvalidArgument},
		{"OSS " + rootAK + ":", 400, CodeInvalidArgument},
		{"OSS4-HMAC-SHA256 Credential=x", 400, CodeInvalidArgument},
		{"OSS4-HMAC-SHA256 Credential=" + rootAK + "/20260101/cn-hangzhou/oss/aliyun_v4_request,Signature=zz", 400, CodeInvalidArgument},
		{"OSS4-HMAC-SHA256 Credential=" + rootAK + "/2026/cn-hangzhou/oss/aliyun_v4_request,Signature=" + strings.Repeat("a", 64), 400, CodeInvalidArgument},
		{"OSS4-HMAC-SHA256 Credential=" + rootAK + "/20260101/cn-hangzhou/s3/aliyun_v4_request,Signature=" + strings.Repeat("a", 64), 400, CodeInvalidArgument},
		{"OSS2 AccessKeyId:" + rootAK + ",Signature:abc", 403, CodeAccessDenied}, // V2, no Date
		{"OSS2 AccessKeyId:" + rootAK + ",Nonsense:x,Signature:abc", 400, CodeInvalidArgument},
		{"AWS4-HMAC-SHA256 Credential=x", 400, CodeInvalidArgument},
		{"OSS " + rootAK + ":c2lnbmF0dXJl", 403, CodeAccessDenied},     // no Date
		{"OSS LTAI5tNobody:c2lnbmF0dXJl", 403, CodeInvalidAccessKeyID}, // EC 0002-00000902
	} {
		resp := e.rawRequest(http.MethodGet, "/", map[string]string{"Authorization": tc.authz}, nil)
		wantRawError(t, resp, tc.status, tc.code)
	}
	// A V4 header whose date does not match x-oss-date, and a stale one.
	now := time.Now().UTC()
	resp = e.rawRequest(http.MethodGet, "/", map[string]string{
		"Authorization": "OSS4-HMAC-SHA256 Credential=" + rootAK + "/20200101/cn-hangzhou/oss/aliyun_v4_request,Signature=" + strings.Repeat("a", 64),
		"X-Oss-Date":    now.Format(iso8601Basic)}, nil)
	wantRawError(t, resp, 400, CodeInvalidArgument)
	stale := now.Add(-time.Hour)
	resp = e.rawRequest(http.MethodGet, "/", map[string]string{
		"Authorization": "OSS4-HMAC-SHA256 Credential=" + rootAK + "/" + stale.Format(iso8601Date) + "/cn-hangzhou/oss/aliyun_v4_request,Signature=" + strings.Repeat("a", 64),
		"X-Oss-Date":    stale.Format(iso8601Basic)}, nil)
	wantRawError(t, resp, 403, CodeRequestTimeTooSkewed)
	// An STS token: there is no STS here.
	resp = e.rawRequest(http.MethodGet, "/", map[string]string{"Authorization": "OSS " + rootAK + ":c2ln", "X-Oss-Security-Token": "tok"}, nil)
	wantRawError(t, resp, 403, CodeInvalidAccessKeyID)
	// A presigned URL with a bad signature, and one without its expiry.
	resp = e.rawRequest(http.MethodGet, "/?OSSAccessKeyId="+rootAK+"&Expires=9999999999&Signature=abc", nil, nil)
	wantRawError(t, resp, 403, CodeSignatureDoesNotMatch)
	resp = e.rawRequest(http.MethodGet, "/?OSSAccessKeyId="+rootAK+"&Signature=abc", nil, nil)
	wantRawError(t, resp, 400, CodeInvalidArgument)
	resp = e.rawRequest(http.MethodGet, "/?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=a", nil, nil)
	wantRawError(t, resp, 400, CodeInvalidArgument)
}

func TestSignedRawRequests(t *testing.T) {
	e := newTestEnv(t)
	must(t, newV1(e, e.srv.URL, rootAK, rootSK).CreateBucket("raw", nil))
	data := []byte("hello raw world")
	resp := e.signedV1(http.MethodPut, "/raw/obj", "", map[string]string{"Content-Type": "text/plain"}, data)
	readAll(t, resp.Body)
	checkCommon(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-MD5") != md5b64(data) || resp.Header.Get("ETag") != etagOf(data) {
		t.Fatalf("put: %d %v", resp.StatusCode, resp.Header)
	}
	etag := resp.Header.Get("ETag")

	type rawCase struct {
		name          string
		method, path  string
		query         string
		hdr           map[string]string
		body          []byte
		status        int
		code          string // "" = success
		checkResponse func(t *testing.T, resp *http.Response, body []byte)
	}
	encBody := []byte(`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`)
	cases := []rawCase{
		{name: "invalid bucket name", method: "PUT", path: "/Bad_Name/", status: 400, code: CodeInvalidBucketName},
		{name: "bucket name too short", method: "PUT", path: "/ab/", status: 400, code: CodeInvalidBucketName},
		{name: "malformed encryption XML", method: "PUT", path: "/raw/", query: "encryption", body: []byte("<ServerSideEncryptionRule><Apply"), status: 400, code: CodeMalformedXML},
		{name: "wrong root", method: "PUT", path: "/raw/", query: "encryption", body: []byte("<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"), status: 400, code: CodeMalformedXML},
		{name: "missing default", method: "PUT", path: "/raw/", query: "encryption", body: []byte("<ServerSideEncryptionRule></ServerSideEncryptionRule>"), status: 400, code: CodeMalformedXML},
		{name: "trailing element", method: "PUT", path: "/raw/", query: "encryption", body: append(append([]byte{}, encBody...), "<x/>"...), status: 400, code: CodeMalformedXML},
		{name: "oversized", method: "PUT", path: "/raw/", query: "encryption", body: bytes.Repeat([]byte(" "), DefaultMaxXMLBody+1), status: 400, code: CodeMalformedXML},
		{name: "empty body", method: "PUT", path: "/raw/", query: "encryption", status: 400, code: CodeMalformedXML},
		{name: "bad MD5", method: "PUT", path: "/raw/", query: "encryption", body: encBody, hdr: map[string]string{"Content-MD5": md5b64([]byte("x"))}, status: 400, code: CodeInvalidDigest},
		{name: "good MD5", method: "PUT", path: "/raw/", query: "encryption", body: encBody, hdr: map[string]string{"Content-MD5": md5b64(encBody)}, status: 200},
		{name: "bucket config bad storage class", method: "PUT", path: "/raw2/", body: []byte("<CreateBucketConfiguration><StorageClass>GLACIER</StorageClass></CreateBucketConfiguration>"), status: 400, code: CodeInvalidArgument},
		{name: "bucket config malformed", method: "PUT", path: "/raw2/", body: []byte("<CreateBucketConfiguration>"), status: 400, code: CodeMalformedXML},
		{name: "bucket acl invalid", method: "PUT", path: "/raw2/", hdr: map[string]string{"x-oss-acl": "default"}, status: 400, code: CodeInvalidArgument},
		{name: "public bucket", method: "PUT", path: "/raw2/", hdr: map[string]string{"x-oss-acl": "public-read"}, status: 200},
		{name: "delete without MD5", method: "POST", path: "/raw/", query: "delete", body: []byte("<Delete><Object><Key>a</Key></Object></Delete>"), status: 400, code: CodeMissingArgument},
		{name: "delete without key", method: "POST", path: "/raw/", query: "delete", body: []byte("<Delete><Object></Object></Delete>"),
			hdr: map[string]string{"Content-MD5": md5b64([]byte("<Delete><Object></Object></Delete>"))}, status: 400, code: CodeMalformedXML},
		{name: "unsupported bucket sub-resource", method: "GET", path: "/raw/", query: "worm", status: 501, code: CodeNotImplemented},
		{name: "no CORS rules", method: "GET", path: "/raw/", query: "cors", status: 404, code: CodeNoSuchCORSConfiguration},
		{name: "unsupported object sub-resource", method: "GET", path: "/raw/obj", query: "retention", status: 501, code: CodeNotImplemented},
		{name: "GetSymlink of a normal object", method: "GET", path: "/raw/obj", query: "symlink", status: 400, code: CodeNotSymlink},
		{name: "PutSymlink without a target", method: "PUT", path: "/raw/link", query: "symlink", status: 400, code: CodeInvalidArgument},
		{name: "bucket tagging", method: "GET", path: "/raw/", query: "tagging", status: 200,
			checkResponse: func(t *testing.T, resp *http.Response, body []byte) {
				if !bytes.Contains(body, []byte("<Tagging><TagSet></TagSet></Tagging>")) {
					t.Fatalf("tagging %s", body)
				}
			}},
		{name: "image processing", method: "GET", path: "/raw/obj", query: "x-oss-process=image/resize,w_10", status: 501, code: CodeNotImplemented},
		{name: "seal missing object", method: "POST", path: "/raw/obj2", query: "seal&position=0", status: 404, code: CodeNoSuchKey},
		{name: "seal", method: "POST", path: "/raw/obj", query: "seal&position=0", status: 400, code: CodeOperationNotSupported},
		{name: "method", method: "PATCH", path: "/raw/obj", status: 405, code: CodeMethodNotAllowed},
		{name: "service method", method: "DELETE", path: "/", status: 405, code: CodeMethodNotAllowed},
		{name: "max-keys", method: "GET", path: "/raw/", query: "max-keys=1001", status: 400, code: CodeInvalidArgument},
		{name: "max-keys text", method: "GET", path: "/raw/", query: "max-keys=ten", status: 400, code: CodeInvalidArgument},
		{name: "encoding-type", method: "GET", path: "/raw/", query: "encoding-type=base64", status: 400, code: CodeInvalidArgument},
		{name: "list-type", method: "GET", path: "/raw/", query: "list-type=3", status: 400, code: CodeInvalidArgument},
		{name: "bad token", method: "GET", path: "/raw/", query: "list-type=2&continuation-token=%25%25", status: 400, code: CodeInvalidArgument},
		{name: "version", method: "GET", path: "/raw/obj", query: "versionId=abc", status: 404, code: CodeNoSuchVersion},
		{name: "null version", method: "GET", path: "/raw/obj", query: "versionId=null", status: 200},
		{name: "storage class", method: "PUT", path: "/raw/o3", hdr: map[string]string{"x-oss-storage-class": "GLACIER"}, status: 400, code: CodeInvalidArgument},
		{name: "object acl", method: "PUT", path: "/raw/o3", hdr: map[string]string{"x-oss-object-acl": "public-read-write"}, status: 200},
		{name: "object acl invalid", method: "PUT", path: "/raw/o3", hdr: map[string]string{"x-oss-object-acl": "authenticated-read"}, status: 400, code: CodeInvalidArgument},
		{name: "tagging", method: "PUT", path: "/raw/o3", hdr: map[string]string{"x-oss-tagging": "a=b"}, status: 200},
		{name: "tagging header format", method: "PUT", path: "/raw/o3", hdr: map[string]string{"x-oss-tagging": "aa=bb=cc"}, status: 400, code: CodeInvalidArgument},
		{name: "tagging header charset", method: "PUT", path: "/raw/o3", hdr: map[string]string{"x-oss-tagging": "a%26=b"}, status: 400, code: CodeInvalidTag},
		{name: "forbid overwrite", method: "PUT", path: "/raw/obj", hdr: map[string]string{"x-oss-forbid-overwrite": "true"}, body: []byte("x"), status: 409, code: CodeFileAlreadyExists},
		{name: "forbid overwrite new", method: "PUT", path: "/raw/fresh", hdr: map[string]string{"x-oss-forbid-overwrite": "true"}, body: []byte("x"), status: 200},
		{name: "empty key id", method: "PUT", path: "/raw/o4", hdr: map[string]string{"x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": ""}, status: 400, code: CodeInvalidArgument},
		{name: "twice sse", method: "PUT", path: "/raw/o4", hdr: map[string]string{"x-oss-server-side-encryption": "AES256"}, status: 200},
		{name: "bad content-md5", method: "PUT", path: "/raw/o5", hdr: map[string]string{"Content-MD5": "zz"}, body: []byte("x"), status: 400, code: CodeInvalidDigest},
		{name: "copy source missing bucket", method: "PUT", path: "/raw/o6", hdr: map[string]string{"x-oss-copy-source": "/raw"}, status: 400, code: CodeInvalidArgument},
		{name: "copy source bad escape", method: "PUT", path: "/raw/o6", hdr: map[string]string{"x-oss-copy-source": "/raw/%zz"}, status: 400, code: CodeInvalidArgument},
		{name: "copy source version", method: "PUT", path: "/raw/o6", hdr: map[string]string{"x-oss-copy-source": "/raw/obj?versionId=123"}, status: 404, code: CodeNoSuchVersion},
		{name: "copy if-match fails", method: "PUT", path: "/raw/o6", hdr: map[string]string{"x-oss-copy-source": "/raw/obj", "x-oss-copy-source-if-match": `"00"`}, status: 412, code: CodePreconditionFailed},
		{name: "copy if-none-match", method: "PUT", path: "/raw/o6", hdr: map[string]string{"x-oss-copy-source": "/raw/obj", "x-oss-copy-source-if-none-match": etag}, status: 304},
		{name: "copy if-match ok", method: "PUT", path: "/raw/o6", hdr: map[string]string{"x-oss-copy-source": "raw/obj", "x-oss-copy-source-if-match": etag}, status: 200},
		{name: "if-none-match", method: "GET", path: "/raw/obj", hdr: map[string]string{"If-None-Match": etag}, status: 304},
		{name: "if-match", method: "GET", path: "/raw/obj", hdr: map[string]string{"If-Match": `"nope"`}, status: 412, code: CodePreconditionFailed},
		{name: "head if-match", method: "HEAD", path: "/raw/obj", hdr: map[string]string{"If-Match": `"nope"`}, status: 412, code: CodePreconditionFailed},
		{name: "if-modified-since", method: "GET", path: "/raw/obj", hdr: map[string]string{"If-Modified-Since": httpTime(time.Now().Add(time.Hour))}, status: 304},
		{name: "if-unmodified-since", method: "GET", path: "/raw/obj", hdr: map[string]string{"If-Unmodified-Since": httpTime(time.Now().Add(-time.Hour))}, status: 412, code: CodePreconditionFailed},
		{name: "response overrides", method: "GET", path: "/raw/obj", query: "response-content-type=application%2Fjson&response-content-disposition=inline", status: 200,
			checkResponse: func(t *testing.T, resp *http.Response, body []byte) {
				if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Content-Disposition") != "inline" || !bytes.Equal(body, data) {
					t.Fatalf("overrides: %v", resp.Header)
				}
			}},
		{name: "gzip never", method: "GET", path: "/raw/obj", hdr: map[string]string{"Accept-Encoding": "gzip"}, status: 200,
			checkResponse: func(t *testing.T, resp *http.Response, body []byte) {
				if !bytes.Equal(body, data) || resp.Uncompressed {
					t.Fatal("compressed answer")
				}
			}},
		{name: "head missing", method: "HEAD", path: "/raw/missing", status: 404, code: CodeNoSuchKey},
		{name: "head missing bucket", method: "HEAD", path: "/nobucket/missing", status: 404, code: CodeNoSuchBucket},
		{name: "bucket acl", method: "GET", path: "/raw/", query: "acl", status: 200,
			checkResponse: func(t *testing.T, resp *http.Response, body []byte) {
				if !bytes.Contains(body, []byte("<Grant>private</Grant>")) {
					t.Fatalf("acl %s", body)
				}
			}},
		{name: "range 416", method: "GET", path: "/raw/obj", hdr: map[string]string{"Range": "bytes=100-", "x-oss-range-behavior": "standard"}, status: 416, code: CodeInvalidRange},
		{name: "part number zero", method: "PUT", path: "/raw/mp", query: "partNumber=0&uploadId=x", status: 400, code: CodeInvalidArgument},
		{name: "part number too big", method: "PUT", path: "/raw/mp", query: "partNumber=10001&uploadId=x", status: 400, code: CodeInvalidArgument},
		{name: "unknown upload", method: "PUT", path: "/raw/mp", query: "partNumber=1&uploadId=x", body: []byte("x"), status: 404, code: CodeNoSuchUpload},
		{name: "upload part copy", method: "PUT", path: "/raw/mp", query: "partNumber=1&uploadId=x", hdr: map[string]string{"x-oss-copy-source": "/raw/obj"}, status: 404, code: CodeNoSuchUpload},
		{name: "location", method: "GET", path: "/raw/", query: "location", status: 200,
			checkResponse: func(t *testing.T, resp *http.Response, body []byte) {
				if !bytes.Contains(body, []byte("<LocationConstraint>oss-cn-hangzhou</LocationConstraint>")) {
					t.Fatalf("location %s", body)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.signedV1(tc.method, tc.path, tc.query, tc.hdr, tc.body)
			if tc.code != "" {
				wantRawError(t, resp, tc.status, tc.code)
				return
			}
			body := readAll(t, resp.Body)
			checkCommon(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.checkResponse != nil {
				tc.checkResponse(t, resp, body)
			}
		})
	}
}

// TestMultipartRaw covers what the SDKs never send: unsorted parts, an
// empty part list and x-oss-complete-all.
func TestMultipartRaw(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil)
	must(t, c.CreateBucket("mpraw", nil))
	up := func(key string) (string, []partRef) {
		id, _, err := c.InitiateMultipart("mpraw", key, nil)
		must(t, err)
		var refs []partRef
		for i, p := range [][]byte{payload(MinPartSize, 1), payload(10, 2)} {
			etag, _, err := c.UploadPart("mpraw", key, id, i+1, p, nil)
			must(t, err)
			refs = append(refs, partRef{i + 1, etag})
		}
		return id, refs
	}
	complete := func(key, id string, hdr map[string]string, body string) (*oss2.OperationOutput, error) {
		in := &oss2.OperationInput{OpName: "CompleteMultipartUpload", Method: "POST", Bucket: oss2.Ptr("mpraw"), Key: oss2.Ptr(key),
			Parameters: map[string]string{"uploadId": id, "encoding-type": "url"}, Headers: hdr, Body: strings.NewReader(body)}
		return c.c.InvokeOperation(bg, in)
	}
	id, refs := up("k1")
	partXML := func(rs ...partRef) string {
		var b strings.Builder
		b.WriteString("<CompleteMultipartUpload>")
		for _, r := range rs {
			b.WriteString("<Part><PartNumber>" + itoa(r.n) + "</PartNumber><ETag>" + r.etag + "</ETag></Part>")
		}
		b.WriteString("</CompleteMultipartUpload>")
		return b.String()
	}
	_, err := complete("k1", id, nil, partXML(refs[1], refs[0]))
	wantErr(t, err, 400, CodeInvalidPartOrder)
	// No parts completes an empty object (compat_test.go); no document
	// at all is still malformed.
	_, err = complete("k1", id, nil, "")
	wantErr(t, err, 400, CodeMalformedXML)
	_, err = complete("k1", id, nil, "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")
	wantErr(t, err, 400, CodeInvalidArgument)
	_, err = complete("k1", id, map[string]string{"x-oss-complete-all": "yes"}, partXML(refs...))
	wantErr(t, err, 400, CodeInvalidArgument)
	if _, _, ec := svcErr(err); ec != "0042-00000216" {
		t.Fatalf("EC %q", ec)
	}
	out, err := complete("k1", id, map[string]string{"x-oss-complete-all": "yes"}, "")
	must(t, err)
	body := readAll(t, out.Body)
	if !bytes.Contains(body, []byte("<Key>k1</Key>")) || !bytes.Contains(body, []byte("<EncodingType>url</EncodingType>")) {
		t.Fatalf("complete-all result %s", body)
	}
	got, _, err := c.GetObject("mpraw", "k1", nil)
	must(t, err)
	if !bytes.Equal(got, append(payload(MinPartSize, 1), payload(10, 2)...)) {
		t.Fatal("complete-all content")
	}
	_ = io.EOF
}
