package s3http

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Behaviours a real client (boto3, the AWS CLI, the SDKs' own test
// suites) tells apart from S3, each driven through a real SDK or signed
// exactly as the client that showed it signs.

// wireLog records the bytes a client reads from its connections, so a
// test can see the header names as sent: Go's HTTP client canonicalises
// them before any SDK sees them.
type wireLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *wireLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

type recordingConn struct {
	net.Conn
	log *wireLog
}

func (c recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.log.mu.Lock()
	c.log.b.Write(p[:n])
	c.log.mu.Unlock()
	return n, err
}

// recordingTransport is the loopback transport with every response byte
// copied into log (plain HTTP only).
func (ts *testServer) recordingTransport(log *wireLog) *http.Transport {
	tr := ts.loopbackTransport()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return recordingConn{Conn: c, log: log}, nil
	}
	return tr
}

// TestUserMetadataNamesLowerCase: S3 keeps user metadata names in lower
// case and sends them so (x-amz-meta-foo); boto3 and the AWS CLI return
// the names as they came on the wire, so X-Amz-Meta-Foo read as 'Foo'.
func TestUserMetadataNamesLowerCase(t *testing.T) {
	ts := newTestServer(t)
	var wire wireLog
	c := ts.awsClientOver(t, rootAK, rootSK, ts.recordingTransport(&wire))
	const b = "meta-case"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"Foo": "Bar", "Mixed-Case-Name": "v"}}); err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	get, body := awsGet(t, c, b, "k", "")
	if string(body) != "x" {
		t.Fatalf("GET body %q", body)
	}
	for name, md := range map[string]map[string]string{"HEAD": head.Metadata, "GET": get.Metadata} {
		if len(md) != 2 || md["foo"] != "Bar" || md["mixed-case-name"] != "v" {
			t.Errorf("%s metadata = %v, want foo=Bar, mixed-case-name=v", name, md)
		}
	}
	w := wire.String()
	if n := strings.Count(w, "\r\nx-amz-meta-foo: Bar\r\n"); n != 2 {
		t.Errorf("x-amz-meta-foo: Bar sent %d times on the wire, want 2 (HEAD and GET)", n)
	}
	if n := strings.Count(w, "\r\nx-amz-meta-mixed-case-name: v\r\n"); n != 2 {
		t.Errorf("x-amz-meta-mixed-case-name: v sent %d times on the wire, want 2", n)
	}
	if strings.Contains(strings.ToLower(w), "x-amz-meta-") && strings.Contains(w, "X-Amz-Meta-") {
		t.Errorf("a user metadata header went out with a capitalised name:\n%s", w)
	}
}

// botocoreQSA is botocore's HmacV1Auth.QSAOfInterest (botocore 1.43):
// the query parameters it signs into the canonical resource.
var botocoreQSA = map[string]bool{
	"accelerate": true, "acl": true, "analytics": true, "cors": true, "defaultObjectAcl": true,
	"delete": true, "inventory": true, "lifecycle": true, "location": true, "logging": true,
	"metrics": true, "notification": true, "object-lock": true, "partNumber": true, "policy": true,
	"replication": true, "requestPayment": true, "response-cache-control": true,
	"response-content-disposition": true, "response-content-encoding": true,
	"response-content-language": true, "response-content-type": true, "response-expires": true,
	"restore": true, "select": true, "select-type": true, "storageClass": true, "tagging": true,
	"torrent": true, "uploadId": true, "uploads": true, "versionId": true, "versioning": true,
	"versions": true, "website": true,
}

// signV2Botocore signs req as botocore's HmacV1Auth does: a fresh Date
// header, the string to sign over Content-MD5, Content-Type, Date, the
// x-amz-* headers and the canonical resource, which is authPath (the
// request's auth_path: "/bucket/" for every bucket-level operation,
// path-style or virtual-hosted) plus the signed query parameters, values
// unquoted, sorted by name.
func signV2Botocore(req *http.Request, ak, sk, authPath string) {
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var amz []string
	for k, vs := range req.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			for i := range vs {
				vs[i] = strings.TrimSpace(vs[i])
			}
			amz = append(amz, lk+":"+strings.Join(vs, ","))
		}
	}
	sort.Strings(amz)
	res := authPath
	if q := req.URL.RawQuery; q != "" {
		var qsa [][2]string
		for _, a := range strings.Split(q, "&") {
			k, v, hasV := strings.Cut(a, "=")
			if !botocoreQSA[k] {
				continue
			}
			if hasV {
				v, _ = url.PathUnescape(v)
				qsa = append(qsa, [2]string{k, k + "=" + v})
			} else {
				qsa = append(qsa, [2]string{k, k})
			}
		}
		sort.SliceStable(qsa, func(i, j int) bool { return qsa[i][0] < qsa[j][0] })
		for i, p := range qsa {
			if i == 0 {
				res += "?"
			} else {
				res += "&"
			}
			res += p[1]
		}
	}
	sts := req.Method + "\n" + req.Header.Get("Content-Md5") + "\n" + req.Header.Get("Content-Type") + "\n" +
		req.Header.Get("Date") + "\n"
	if len(amz) > 0 {
		sts += strings.Join(amz, "\n") + "\n"
	}
	sts += res
	m := hmac.New(sha1.New, []byte(sk))
	m.Write([]byte(sts))
	req.Header.Set("Authorization", "AWS "+ak+":"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// TestSignatureV2AsBotocoreSigns drives every bucket-level call the way
// boto3 and the AWS CLI do with signature_version "s3": the path sent is
// "/bucket" (path-style) or "/" (virtual-hosted), the path signed
// "/bucket/"; GetBucketEncryption's ?encryption is not signed at all.
func TestSignatureV2AsBotocoreSigns(t *testing.T) {
	ts := newTestServer(t)
	for _, style := range []string{"path", "virtual"} {
		bucket := "v2boto-" + style
		base, prefix := ts.URL, "/"+bucket // URL path of the bucket
		if style == "virtual" {
			base, prefix = "http://"+bucket+".localhost:"+ts.Port, ""
		}
		bucketPath := prefix
		if bucketPath == "" {
			bucketPath = "/"
		}
		for _, tc := range []struct {
			op, method, path, query, authPath string
			body                              string
			status                            int
		}{
			{"CreateBucket", "PUT", bucketPath, "", "/" + bucket + "/", "", 200},
			{"HeadBucket", "HEAD", bucketPath, "", "/" + bucket + "/", "", 200},
			{"ListObjects", "GET", bucketPath, "encoding-type=url", "/" + bucket + "/", "", 200},
			{"ListObjectsV2", "GET", bucketPath, "list-type=2&encoding-type=url", "/" + bucket + "/", "", 200},
			{"GetBucketEncryption", "GET", bucketPath, "encryption", "/" + bucket + "/", "", 404},
			{"GetBucketVersioning", "GET", bucketPath, "versioning", "/" + bucket + "/", "", 200},
			{"ListMultipartUploads", "GET", bucketPath, "uploads", "/" + bucket + "/", "", 200},
			{"PutObject", "PUT", prefix + "/a%20b", "", "/" + bucket + "/a%20b", "data", 200},
			{"HeadObject", "HEAD", prefix + "/a%20b", "", "/" + bucket + "/a%20b", "", 200},
			{"DeleteObject", "DELETE", prefix + "/a%20b", "", "/" + bucket + "/a%20b", "", 204},
			{"DeleteBucket", "DELETE", bucketPath, "", "/" + bucket + "/", "", 204},
		} {
			u := base + tc.path
			if tc.query != "" {
				u += "?" + tc.query
			}
			req, err := http.NewRequest(tc.method, u, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body == "" {
				req.Body, req.ContentLength = nil, 0
			}
			signV2Botocore(req, rootAK, rootSK, tc.authPath)
			if resp := ts.do(t, req); resp.status != tc.status {
				t.Errorf("%s %s (%s): %d %s, want %d\n%s", style, tc.op, u, resp.status, resp.code, tc.status, resp.body)
			}
		}
	}
	// The extra spellings accept the same resource only: another bucket's
	// path, or the wrong secret, is still refused.
	mk := func(path, authPath, sk string) rawResp {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		signV2Botocore(req, rootAK, sk, authPath)
		return ts.do(t, req)
	}
	if r := mk("/v2boto-other", "/v2boto-else/", rootSK); r.status != 403 || r.code != "SignatureDoesNotMatch" {
		t.Errorf("signature over another bucket: %d %s", r.status, r.code)
	}
	if r := mk("/v2boto-other", "/v2boto-other/", bobSK); r.status != 403 || r.code != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %d %s", r.status, r.code)
	}
	// A DELETE must sign its sub-resource: botocore's V2
	// DeleteBucketEncryption signs as DeleteBucket does, and a replayed
	// DeleteBucket signature must not remove a bucket's default rule.
	if _, err := ts.awsClient(t, rootAK, rootSK).CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("v2boto-rule")}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("DELETE", ts.URL+"/v2boto-rule?encryption", nil)
	signV2Botocore(req, rootAK, rootSK, "/v2boto-rule/")
	if r := ts.do(t, req); r.status != 403 || r.code != "SignatureDoesNotMatch" {
		t.Errorf("DELETE ?encryption signed without it: %d %s, want 403 SignatureDoesNotMatch", r.status, r.code)
	}
	req, _ = http.NewRequest("DELETE", ts.URL+"/v2boto-rule?encryption", nil)
	signV2Botocore(req, rootAK, rootSK, "/v2boto-rule/?encryption")
	if r := ts.do(t, req); r.status != 204 {
		t.Errorf("DELETE ?encryption signed with it: %d %s, want 204", r.status, r.code)
	}
}

// countDataFiles is the number of object and part files in the store.
func countDataFiles(t *testing.T, ts *testServer) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(ts.dir, objstore.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestDeleteBucketAbortsUploads: S3 deletes a general purpose bucket
// whose only content is uploads in progress (only directory buckets
// refuse), so a suite that leaves an upload open can still clean up. The
// parts' files go with it; objects and versions still keep a bucket.
func TestDeleteBucketAbortsUploads(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	const b = "open-uploads"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, key := range []string{"one", "two"} {
		up, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key),
			ServerSideEncryption: types.ServerSideEncryptionAes256})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *up.UploadId)
		for n := int32(1); n <= 2; n++ {
			if _, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: up.UploadId,
				PartNumber: aws.Int32(n), Body: bytes.NewReader(pattern(1000, byte(n)))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := countDataFiles(t, ts); n != 4 {
		t.Fatalf("%d data files before the delete, want 4 parts", n)
	}
	if _, err := c.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("DeleteBucket with uploads in progress: %v", err)
	}
	if _, err := c.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String(b)}); func() bool { _, st := awsErr(err); return st != 404 }() {
		t.Fatalf("HeadBucket after delete: %v", err)
	}
	if n := countDataFiles(t, ts); n != 0 {
		t.Fatalf("%d data files left after the delete, want the parts removed", n)
	}
	// A bucket made again under the name knows none of the uploads.
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	lu, err := c.ListMultipartUploads(bg, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil || len(lu.Uploads) != 0 {
		t.Fatalf("uploads in the new bucket: %v, %v", lu, err)
	}
	_, err = c.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("one"), UploadId: aws.String(ids[0]),
		PartNumber: aws.Int32(3), Body: strings.NewReader("late")})
	if code, st := awsErr(err); code != "NoSuchUpload" || st != 404 {
		t.Fatalf("UploadPart to an upload aborted with its bucket: %v", err)
	}
	// An object still keeps the bucket (409 BucketNotEmpty), upload or not.
	if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("obj"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: aws.String(b)})
	if code, st := awsErr(err); code != "BucketNotEmpty" || st != 409 {
		t.Fatalf("DeleteBucket with an object: %v", err)
	}
	lu, err = c.ListMultipartUploads(bg, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil || len(lu.Uploads) != 1 {
		t.Fatalf("a refused DeleteBucket aborted uploads: %v, %v", lu, err)
	}
}

// TestCompleteMultipartUploadRetried: a CompleteMultipartUpload repeated
// after it succeeded (its response lost) answers 200 with the same
// result, as S3 does, for CompletedUploadRetention; another part list,
// another key, or a retry after the retention is 404 NoSuchUpload.
func TestCompleteMultipartUploadRetried(t *testing.T) {
	storeClock := &clock.Offset{}
	ts := newTestServer(t, withStoreClock(storeClock))
	c := ts.awsClient(t, rootAK, rootSK)
	keyID := ts.createKey(t)
	const b = "retry-complete"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	up, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("big"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(keyID)})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for n, size := range []int{MinPartSize, 1000} {
		out, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(n + 1)), Body: bytes.NewReader(pattern(size, byte(n)))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(n + 1)), ETag: out.ETag})
	}
	complete := func(key string, ps []types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
		return c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key),
			UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: ps}})
	}
	first, err := complete("big", parts)
	if err != nil {
		t.Fatal(err)
	}
	again, err := complete("big", parts)
	if err != nil {
		t.Fatalf("retried CompleteMultipartUpload: %v", err)
	}
	for _, f := range []struct{ name, got, want string }{
		{"ETag", aws.ToString(again.ETag), aws.ToString(first.ETag)},
		{"VersionId", aws.ToString(again.VersionId), aws.ToString(first.VersionId)},
		{"SSE", string(again.ServerSideEncryption), "aws:kms"},
		{"SSEKMSKeyId", aws.ToString(again.SSEKMSKeyId), aws.ToString(first.SSEKMSKeyId)},
		{"ChecksumCRC64NVME", aws.ToString(again.ChecksumCRC64NVME), aws.ToString(first.ChecksumCRC64NVME)},
		{"Key", aws.ToString(again.Key), "big"},
	} {
		if f.got != f.want || f.want == "" {
			t.Errorf("retry %s = %q, first completion %q", f.name, f.got, f.want)
		}
	}
	// Only the first completion wrote a version.
	vs, err := c.ListObjectVersions(bg, &s3.ListObjectVersionsInput{Bucket: aws.String(b)})
	if err != nil || len(vs.Versions) != 1 {
		t.Fatalf("versions after a retried completion: %v, %v", vs, err)
	}
	for name, tc := range map[string]struct {
		key   string
		parts []types.CompletedPart
	}{
		"fewer parts":  {"big", parts[:1]},
		"another ETag": {"big", []types.CompletedPart{parts[0], {PartNumber: parts[1].PartNumber, ETag: parts[0].ETag}}},
		"another key":  {"other", parts},
	} {
		_, err := complete(tc.key, tc.parts)
		if code, st := awsErr(err); code != "NoSuchUpload" || st != 404 {
			t.Errorf("completion retried with %s: %v, want 404 NoSuchUpload", name, err)
		}
	}
	storeClock.Advance(objstore.CompletedUploadRetention + time.Minute)
	_, err = complete("big", parts)
	if code, st := awsErr(err); code != "NoSuchUpload" || st != 404 {
		t.Errorf("completion retried after the retention: %v, want 404 NoSuchUpload", err)
	}
}

// TestContentEncodingKeptAsSent: S3 stores Content-Encoding as sent
// ("deflate, gzip" is not respelled "deflate,gzip"), less the aws-chunked
// the SDK adds for its streaming upload (over TLS).
func TestContentEncodingKeptAsSent(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		var opts []serverOption
		if tlsOn {
			opts = append(opts, withTLS())
		}
		ts := newTestServer(t, opts...)
		c := ts.awsClient(t, rootAK, rootSK)
		const b = "encodings"
		if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
		for i, enc := range []string{"deflate, gzip", "gzip", "br,gzip", "identity ,  compress"} {
			key := "k" + string(rune('a'+i))
			if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key),
				Body: strings.NewReader("payload"), ContentEncoding: aws.String(enc)}); err != nil {
				t.Fatal(err)
			}
			h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(h.ContentEncoding); got != enc {
				t.Errorf("tls=%v: Content-Encoding %q came back as %q", tlsOn, enc, got)
			}
		}
	}
}

func TestStoredContentEncoding(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"deflate, gzip"}, "deflate, gzip"},
		{[]string{"aws-chunked"}, ""},
		{[]string{"aws-chunked,gzip"}, "gzip"},
		{[]string{"deflate, gzip,aws-chunked"}, "deflate, gzip"},
		{[]string{"deflate, AWS-Chunked, gzip"}, "deflate, gzip"},
		{[]string{"gzip", "br"}, "gzip, br"},
	} {
		if got := storedContentEncoding(tc.in); got != tc.want {
			t.Errorf("storedContentEncoding(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// resignPolicy replaces a SigV4 form's policy document (decoded as JSON,
// changed by edit) and signs it again.
func resignPolicy(t *testing.T, fields map[string]string, edit func(doc map[string]json.RawMessage)) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(fields["policy"])
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	out, _ := json.Marshal(doc)
	fields["policy"] = base64.StdEncoding.EncodeToString(out)
	c, ok := parseCredential(fields["x-amz-credential"])
	if !ok {
		t.Fatalf("credential %q", fields["x-amz-credential"])
	}
	m := hmac.New(sha256.New, signingKey(rootSK, c))
	m.Write([]byte(fields["policy"]))
	fields["x-amz-signature"] = hex.EncodeToString(m.Sum(nil))
}

// TestPostPolicyElementNames: the policy document's element names are
// case-sensitive on S3 (s3-tests' *_is_case_sensitive: "CONDITIONS" or
// "EXPIRATION" is 400), while condition operators, "$field" names and the
// form's field names are not (s3-tests'
// test_post_object_case_insensitive_condition_fields: 204).
func TestPostPolicyElementNames(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	const b = "policy-names"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	rename := func(from, to string) func(map[string]json.RawMessage) {
		return func(d map[string]json.RawMessage) { d[to] = d[from]; delete(d, from) }
	}
	soon := time.Now().Add(5 * time.Minute)
	for _, tc := range []struct {
		name   string
		edit   func(map[string]json.RawMessage)
		upper  bool // send the form's field names in mixed case
		status int
	}{
		{"as documented", func(map[string]json.RawMessage) {}, false, 204},
		{"CONDITIONS", rename("conditions", "CONDITIONS"), false, 400},
		{"Conditions", rename("conditions", "Conditions"), false, 400},
		{"EXPIRATION", rename("expiration", "EXPIRATION"), false, 400},
		{"Expiration", rename("expiration", "Expiration"), false, 400},
		{"mixed-case operators, $fields and form fields", func(d map[string]json.RawMessage) {
			var conds []json.RawMessage
			_ = json.Unmarshal(d["conditions"], &conds)
			for i, cond := range conds {
				var arr []string
				if json.Unmarshal(cond, &arr) == nil && len(arr) == 3 {
					arr[0] = "Eq"
					arr[1] = "$" + strings.ToUpper(arr[1][1:])
					conds[i], _ = json.Marshal(arr)
				}
			}
			d["conditions"], _ = json.Marshal(conds)
		}, true, 204},
	} {
		fields := signedForm(t, b, "k-"+strings.ToLower(strings.ReplaceAll(tc.name, " ", "-")), soon,
			map[string]string{"Content-Type": "text/plain"}, nil)
		resignPolicy(t, fields, tc.edit)
		if tc.upper {
			mixed := map[string]string{}
			for k, v := range fields {
				mixed[strings.ToUpper(k[:1])+k[1:]] = v
			}
			fields = mixed
		}
		resp, body := ts.postForm(t, ts.URL+"/"+b, fields, []byte("form data"))
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
	}
}

// TestNotImplementedLoggedAsInfo: a designed 501 is a refusal, not a
// fault: it is logged at INFO as "not implemented", never at ERROR as an
// internal error.
func TestNotImplementedLoggedAsInfo(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	const b = "designed-501"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetBucketLifecycleConfiguration(bg, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	if code, st := awsErr(err); code != "NotImplemented" || st != 501 {
		t.Fatalf("GetBucketLifecycleConfiguration: %v, want 501 NotImplemented", err)
	}
	logs := ts.logs.String()
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("a designed 501 was logged at ERROR:\n%s", logs)
	}
	if !strings.Contains(logs, `level=INFO msg="s3: not implemented"`) || !strings.Contains(logs, "lifecycle") {
		t.Errorf("no INFO \"s3: not implemented\" line naming the feature:\n%s", logs)
	}
}
