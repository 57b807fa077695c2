package s3http

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func md5b64(b []byte) string {
	s := md5.Sum(b)
	return b64(s[:])
}

func crc32b64(b []byte) string {
	v := crc32.ChecksumIEEE(b)
	return b64([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func crc32cb64(b []byte) string {
	v := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	return b64([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// flipReader flips one byte of a stream.
type flipReader struct {
	r   io.ReadCloser
	pos int64
	n   int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	k, err := f.r.Read(p)
	for i := 0; i < k; i++ {
		if f.n+int64(i) == f.pos {
			p[i] ^= 0x01
		}
	}
	f.n += int64(k)
	return k, err
}

func (f *flipReader) Close() error { return f.r.Close() }

const encXML = `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>%s</SSEAlgorithm>%s</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`

func encBody(alg, extra string) []byte {
	return []byte(strings.Replace(strings.Replace(encXML, "%s", alg, 1), "%s", extra, 1))
}

// TestRawRequests covers wire details and error mappings with requests
// signed by minio-go's own signer (or deliberately not).
func TestRawRequests(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.raw(t, rawReq{method: "PUT", path: "/raw"}); r.status != 200 {
		t.Fatalf("create bucket: %d %s", r.status, r.body)
	}
	obj := []byte("0123456789")
	if r := ts.raw(t, rawReq{method: "PUT", path: "/raw/obj", body: obj}); r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	good := encBody("AES256", "")
	big := pattern(200_000, 1)
	for _, tc := range []struct {
		name   string
		req    rawReq
		status int
		code   string
		// gone: this key must not exist afterwards (a refused write).
		gone string
		// check inspects the response further.
		check func(t *testing.T, r rawResp)
	}{
		// Authentication.
		{name: "wrong secret", req: rawReq{method: "GET", path: "/raw/obj", sk: "wrong", ak: rootAK}, status: 403, code: "SignatureDoesNotMatch",
			check: func(t *testing.T, r rawResp) {
				if !bytes.Contains(r.body, []byte("<StringToSign>AWS4-HMAC-SHA256&#xA;")) {
					t.Errorf("no StringToSign in %s", r.body)
				}
			}},
		{name: "unknown access key", req: rawReq{method: "GET", path: "/raw/obj", ak: "LTAINOSUCHKEY", sk: "x"}, status: 403, code: "InvalidAccessKeyId"},
		{name: "wrong region", req: rawReq{method: "GET", path: "/raw/obj", region: "us-east-1"}, status: 400, code: "AuthorizationHeaderMalformed",
			check: func(t *testing.T, r rawResp) {
				if !bytes.Contains(r.body, []byte("<Region>cn-hangzhou</Region>")) {
					t.Errorf("no Region in %s", r.body)
				}
			}},
		{name: "anonymous", req: rawReq{method: "GET", path: "/raw/obj", sign: "none"}, status: 403, code: "AccessDenied"},
		{name: "malformed authorization", req: rawReq{method: "GET", path: "/raw/obj", sign: "none",
			headers: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=x"}}, status: 400, code: "AuthorizationHeaderMalformed"},
		{name: "signature v2 without a date", req: rawReq{method: "GET", path: "/raw/obj", sign: "none",
			headers: map[string]string{"Authorization": "AWS " + rootAK + ":c2lnbmF0dXJl"}}, status: 403, code: "AccessDenied"},
		{name: "signature v2 bad signature", req: rawReq{method: "GET", path: "/raw/obj", sign: "none",
			headers: map[string]string{"Authorization": "AWS " + rootAK + ":c2lnbmF0dXJl", "Date": time.Now().UTC().Format(http.TimeFormat)}}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "signature v2 skewed", req: rawReq{method: "GET", path: "/raw/obj", sign: "none",
			headers: map[string]string{"Authorization": "AWS " + rootAK + ":c2lnbmF0dXJl", "Date": time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)}}, status: 403, code: "RequestTimeTooSkewed"},
		{name: "signature v2 malformed", req: rawReq{method: "GET", path: "/raw/obj", sign: "none",
			headers: map[string]string{"Authorization": "AWS " + rootAK}}, status: 400, code: "InvalidArgument"},
		{name: "unknown scheme", req: rawReq{method: "GET", path: "/raw/obj", sign: "none",
			headers: map[string]string{"Authorization": "AWS4-HMAC-SHA512 Credential=x"}}, status: 400, code: "InvalidRequest"},
		{name: "tampered header", req: rawReq{method: "GET", path: "/raw/obj", headers: map[string]string{"X-Amz-Meta-A": "1"},
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Meta-A", "2") }}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "unsigned sse header", req: rawReq{method: "PUT", path: "/raw/unsigned-sse", body: obj,
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Server-Side-Encryption", "AES256") }}, status: 403, code: "AccessDenied",
			gone: "unsigned-sse"},
		{name: "missing content sha256", req: rawReq{method: "GET", path: "/raw/obj", sign: "unsigned",
			mutate: func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }}, status: 400, code: "InvalidRequest"},
		{name: "presign and header", req: rawReq{method: "GET", path: "/raw/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256"}, status: 400, code: "InvalidArgument"},
		{name: "presign too long", req: rawReq{method: "GET", path: "/raw/obj", sign: "presign", expires: 8 * 24 * time.Hour}, status: 400, code: "AuthorizationQueryParametersError"},
		{name: "presign tampered", req: rawReq{method: "GET", path: "/raw/obj", sign: "presign",
			mutate: func(r *http.Request) { r.URL.RawQuery += "&response-content-type=evil" }}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "presign ok", req: rawReq{method: "GET", path: "/raw/obj", sign: "presign"}, status: 200},
		{name: "query not encoded", req: rawReq{method: "GET", path: "/raw/obj", mutate: func(r *http.Request) { r.URL.RawQuery = "x=%zz" }},
			status: 400, code: "InvalidArgument"},

		// Payload integrity.
		{name: "payload hash mismatch", req: rawReq{method: "PUT", path: "/raw/badhash", body: obj, sign: "none",
			mutate: func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte("something else")))
				*r = *signer.SignV4(*r, rootAK, rootSK, "", testRegion)
			}}, status: 400, code: "XAmzContentSHA256Mismatch", gone: "badhash"},
		{name: "streaming chunk tampered", req: rawReq{method: "PUT", path: "/raw/tampered", body: big, sign: "stream",
			mutate: func(r *http.Request) { r.Body = &flipReader{r: r.Body, pos: 150_000} }}, status: 403, code: "SignatureDoesNotMatch", gone: "tampered"},
		{name: "streaming last chunk tampered", req: rawReq{method: "PUT", path: "/raw/tampered2", body: big, sign: "stream",
			mutate: func(r *http.Request) { r.Body = &flipReader{r: r.Body, pos: r.ContentLength - 200} }}, status: 403, code: "SignatureDoesNotMatch", gone: "tampered2"},
		{name: "streaming final signature tampered", req: rawReq{method: "PUT", path: "/raw/tampered3", body: big, sign: "stream",
			mutate: func(r *http.Request) { r.Body = &flipReader{r: r.Body, pos: r.ContentLength - 10} }}, status: 403, code: "SignatureDoesNotMatch", gone: "tampered3"},
		{name: "streaming empty tampered", req: rawReq{method: "PUT", path: "/raw/tampered4", sign: "stream",
			mutate: func(r *http.Request) { r.Body = &flipReader{r: r.Body, pos: 30} }}, status: 403, code: "SignatureDoesNotMatch", gone: "tampered4"},
		{name: "streaming ok", req: rawReq{method: "PUT", path: "/raw/streamed", body: big, sign: "stream"}, status: 200},
		{name: "streaming wrong decoded length", req: rawReq{method: "PUT", path: "/raw/short", body: big, sign: "none",
			mutate: func(r *http.Request) {
				*r = *signer.StreamingSignV4(r, rootAK, rootSK, "", testRegion, int64(len(big)), time.Now().UTC(), shaHasher{newSHA()})
				r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(big)+1))
			}}, status: 403, code: "SignatureDoesNotMatch", gone: "short"},
		{name: "content-md5 malformed", req: rawReq{method: "PUT", path: "/raw/md5", body: obj, headers: map[string]string{"Content-Md5": "nope"}},
			status: 400, code: "InvalidDigest", gone: "md5"},
		{name: "content-md5 mismatch", req: rawReq{method: "PUT", path: "/raw/md5", body: obj, headers: map[string]string{"Content-Md5": md5b64([]byte("x"))}},
			status: 400, code: "BadDigest", gone: "md5"},
		{name: "content-md5 ok", req: rawReq{method: "PUT", path: "/raw/md5ok", body: obj, headers: map[string]string{"Content-Md5": md5b64(obj)}}, status: 200},
		{name: "crc32 mismatch", req: rawReq{method: "PUT", path: "/raw/crc", body: obj, sign: "unsigned", headers: map[string]string{"X-Amz-Checksum-Crc32": crc32b64([]byte("x"))}},
			status: 400, code: "BadDigest", gone: "crc"},
		{name: "crc32 malformed", req: rawReq{method: "PUT", path: "/raw/crc", body: obj, headers: map[string]string{"X-Amz-Checksum-Crc32": "!!"}},
			status: 400, code: "InvalidRequest", gone: "crc"},
		{name: "two checksums", req: rawReq{method: "PUT", path: "/raw/crc", body: obj, headers: map[string]string{
			"X-Amz-Checksum-Crc32": crc32b64(obj), "X-Amz-Checksum-Crc32c": crc32cb64(obj)}}, status: 400, code: "InvalidRequest", gone: "crc"},
		{name: "crc32c ok", req: rawReq{method: "PUT", path: "/raw/crcok", body: obj, headers: map[string]string{"X-Amz-Checksum-Crc32c": crc32cb64(obj)}}, status: 200,
			check: func(t *testing.T, r rawResp) {
				if r.header.Get("X-Amz-Checksum-Crc32c") != crc32cb64(obj) {
					t.Errorf("checksum not echoed: %v", r.header)
				}
			}},
		{name: "unsigned trailer ok", req: rawReq{method: "PUT", path: "/raw/trailer", body: big, sign: "none",
			mutate: func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
				*r = *signer.SignV4Trailer(*r, rootAK, rootSK, "", testRegion, http.Header{"X-Amz-Checksum-Crc32c": {crc32cb64(big)}})
			}}, status: 200},
		{name: "unsigned trailer bad checksum", req: rawReq{method: "PUT", path: "/raw/trailer-bad", body: big, sign: "none",
			mutate: func(r *http.Request) {
				r.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
				*r = *signer.SignV4Trailer(*r, rootAK, rootSK, "", testRegion, http.Header{"X-Amz-Checksum-Crc32c": {crc32cb64(obj)}})
			}}, status: 400, code: "BadDigest", gone: "trailer-bad"},
		{name: "signed trailer ok", req: rawReq{method: "PUT", path: "/raw/strailer", body: big, sign: "none",
			mutate: func(r *http.Request) {
				r.Body = io.NopCloser(bytes.NewReader(big))
				r.Trailer = http.Header{"X-Amz-Checksum-Crc32c": {crc32cb64(big)}}
				*r = *signer.StreamingSignV4(r, rootAK, rootSK, "", testRegion, int64(len(big)), time.Now().UTC(), shaHasher{newSHA()})
			}}, status: 200},
		{name: "signed trailer tampered", req: rawReq{method: "PUT", path: "/raw/strailer-bad", body: big, sign: "none",
			mutate: func(r *http.Request) {
				r.Body = io.NopCloser(bytes.NewReader(big))
				r.Trailer = http.Header{"X-Amz-Checksum-Crc32c": {crc32cb64(big)}}
				*r = *signer.StreamingSignV4(r, rootAK, rootSK, "", testRegion, int64(len(big)), time.Now().UTC(), shaHasher{newSHA()})
				r.Body = &flipReader{r: r.Body, pos: r.ContentLength - 100}
			}}, status: 403, code: "SignatureDoesNotMatch", gone: "strailer-bad"},

		// SSE request headers.
		{name: "sse SM4", req: rawReq{method: "PUT", path: "/raw/sm4", body: obj, headers: map[string]string{"X-Amz-Server-Side-Encryption": "SM4"}},
			status: 400, code: "InvalidArgument", gone: "sm4"},
		{name: "sse dsse", req: rawReq{method: "PUT", path: "/raw/dsse", body: obj, headers: map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms:dsse"}},
			status: 400, code: "InvalidArgument", gone: "dsse"},
		{name: "sse lower-case", req: rawReq{method: "PUT", path: "/raw/lc", body: obj, headers: map[string]string{"X-Amz-Server-Side-Encryption": "aes256"}},
			status: 400, code: "InvalidArgument", gone: "lc"},
		{name: "key id with AES256", req: rawReq{method: "PUT", path: "/raw/kid", body: obj, headers: map[string]string{
			"X-Amz-Server-Side-Encryption": "AES256", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "k"}}, status: 400, code: "InvalidArgument", gone: "kid"},
		{name: "key id alone", req: rawReq{method: "PUT", path: "/raw/kid", body: obj, headers: map[string]string{
			"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "k"}}, status: 400, code: "InvalidArgument", gone: "kid"},
		{name: "encryption context", req: rawReq{method: "PUT", path: "/raw/ctx", body: obj, headers: map[string]string{
			"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Context": b64([]byte(`{"a":"b"}`))}}, status: 400, code: "InvalidArgument", gone: "ctx"},
		{name: "bad bucket-key header", req: rawReq{method: "PUT", path: "/raw/bk", body: obj, headers: map[string]string{
			"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled": "maybe"}}, status: 400, code: "InvalidArgument", gone: "bk"},
		{name: "sse on GET", req: rawReq{method: "GET", path: "/raw/obj", headers: map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}}, status: 400, code: "InvalidArgument"},
		{name: "sse-c blocked by default", req: rawReq{method: "PUT", path: "/raw/ssec", body: obj, headers: ssecHeaders("X-Amz-Server-Side-Encryption-Customer-")},
			status: 403, code: "AccessDenied", gone: "ssec"},
		{name: "sse-c algorithm alone", req: rawReq{method: "PUT", path: "/raw/ssec", body: obj, headers: map[string]string{
			"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256"}}, status: 400, code: "InvalidArgument", gone: "ssec"},
		{name: "sse-c key for a plain copy source", req: rawReq{method: "PUT", path: "/raw/ssec", headers: withHeader(ssecHeaders("X-Amz-Copy-Source-Server-Side-Encryption-Customer-"),
			"X-Amz-Copy-Source", "raw/obj")}, status: 400, code: "InvalidRequest", gone: "ssec"},
		{name: "sse-c copy source algorithm alone", req: rawReq{method: "PUT", path: "/raw/ssec", headers: map[string]string{"X-Amz-Copy-Source": "raw/obj",
			"X-Amz-Copy-Source-Server-Side-Encryption-Customer-Algorithm": "AES256"}}, status: 400, code: "InvalidArgument", gone: "ssec"},

		// Bucket encryption documents.
		{name: "encryption malformed", req: rawReq{method: "PUT", path: "/raw?encryption", body: []byte("<ServerSide"), headers: map[string]string{"Content-Md5": md5b64([]byte("<ServerSide"))}},
			status: 400, code: "MalformedXML"},
		{name: "encryption SM4", req: rawReq{method: "PUT", path: "/raw?encryption", body: encBody("SM4", ""), headers: map[string]string{"Content-Md5": md5b64(encBody("SM4", ""))}},
			status: 400, code: "MalformedXML"},
		{name: "encryption dsse", req: rawReq{method: "PUT", path: "/raw?encryption", body: encBody("aws:kms:dsse", ""), headers: map[string]string{"Content-Md5": md5b64(encBody("aws:kms:dsse", ""))}},
			status: 400, code: "InvalidArgument"},
		{name: "encryption AES256 with key", req: rawReq{method: "PUT", path: "/raw?encryption", body: encBody("AES256", "<KMSMasterKeyID>k</KMSMasterKeyID>"),
			headers: map[string]string{"Content-Md5": md5b64(encBody("AES256", "<KMSMasterKeyID>k</KMSMasterKeyID>"))}}, status: 400, code: "InvalidArgument"},
		{name: "encryption without md5", req: rawReq{method: "PUT", path: "/raw?encryption", body: good}, status: 400, code: "InvalidRequest"},
		{name: "encryption md5 mismatch", req: rawReq{method: "PUT", path: "/raw?encryption", body: good, headers: map[string]string{"Content-Md5": md5b64([]byte("x"))}},
			status: 400, code: "BadDigest"},
		{name: "encryption no bucket", req: rawReq{method: "PUT", path: "/nobucket?encryption", body: good, headers: map[string]string{"Content-Md5": md5b64(good)}},
			status: 404, code: "NoSuchBucket"},
		{name: "encryption doctype", req: rawReq{method: "PUT", path: "/raw?encryption", body: append([]byte(`<!DOCTYPE x [<!ENTITY e "AES256">]>`), good...),
			headers: map[string]string{"Content-Md5": md5b64(append([]byte(`<!DOCTYPE x [<!ENTITY e "AES256">]>`), good...))}}, status: 400, code: "MalformedXML"},

		// Misc.
		{name: "head missing", req: rawReq{method: "HEAD", path: "/raw/missing"}, status: 404,
			check: func(t *testing.T, r rawResp) {
				if len(r.body) != 0 {
					t.Errorf("HEAD error with a body: %q", r.body)
				}
			}},
		{name: "get missing", req: rawReq{method: "GET", path: "/raw/missing"}, status: 404, code: "NoSuchKey",
			check: func(t *testing.T, r rawResp) {
				if !containsAll(string(r.body), "<Resource>/raw/missing</Resource>", "<RequestId>", "<HostId>") {
					t.Errorf("error body %s", r.body)
				}
			}},
		{name: "no such bucket", req: rawReq{method: "GET", path: "/nobucket/x"}, status: 404, code: "NoSuchBucket"},
		{name: "delete missing bucket", req: rawReq{method: "DELETE", path: "/nobucket"}, status: 404, code: "NoSuchBucket"},
		{name: "bucket of another principal", req: rawReq{method: "PUT", path: "/raw", ak: bobAK, sk: bobSK}, status: 409, code: "BucketAlreadyExists"},
		{name: "bucket already mine", req: rawReq{method: "PUT", path: "/raw"}, status: 409, code: "BucketAlreadyOwnedByYou"},
		{name: "invalid bucket name", req: rawReq{method: "PUT", path: "/Bad_Name"}, status: 400, code: "InvalidBucketName"},
		{name: "bucket tagging not implemented", req: rawReq{method: "GET", path: "/raw?tagging"}, status: 501, code: "NotImplemented"},
		{name: "grant header refused", req: rawReq{method: "PUT", path: "/raw/g", headers: map[string]string{"x-amz-grant-read": "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\""}}, status: 501, code: "NotImplemented"},
		{name: "bad canned acl", req: rawReq{method: "PUT", path: "/raw/g", headers: map[string]string{"x-amz-acl": "default"}}, status: 400, code: "InvalidArgument"},
		{name: "bad tagging header", req: rawReq{method: "PUT", path: "/raw/g", headers: map[string]string{"x-amz-tagging": "a=1&a=2"}}, status: 400, code: "InvalidArgument"},
		// Version ids are opaque: one of another form names no version.
		{name: "version id", req: rawReq{method: "GET", path: "/raw/obj?versionId=abc"}, status: 404, code: "NoSuchVersion"},
		{name: "version id twice", req: rawReq{method: "GET", path: "/raw/obj?versionId=null&versionId=null"}, status: 400, code: "InvalidArgument"},
		{name: "version id null", req: rawReq{method: "GET", path: "/raw/obj?versionId=null"}, status: 200},
		{name: "range ignored", req: rawReq{method: "GET", path: "/raw/obj", headers: map[string]string{"Range": "bytes=5-2"}}, status: 200},
		{name: "range unsatisfiable", req: rawReq{method: "GET", path: "/raw/obj", headers: map[string]string{"Range": "bytes=10-"}}, status: 416, code: "InvalidRange",
			check: func(t *testing.T, r rawResp) {
				if r.header.Get("Content-Range") != "bytes */10" {
					t.Errorf("Content-Range %q", r.header.Get("Content-Range"))
				}
			}},
		{name: "range", req: rawReq{method: "GET", path: "/raw/obj", headers: map[string]string{"Range": "bytes=2-4"}}, status: 206,
			check: func(t *testing.T, r rawResp) {
				if string(r.body) != "234" || r.header.Get("Content-Range") != "bytes 2-4/10" {
					t.Errorf("body %q Content-Range %q", r.body, r.header.Get("Content-Range"))
				}
			}},
		{name: "if-none-match", req: rawReq{method: "GET", path: "/raw/obj", headers: map[string]string{"If-None-Match": `"` + md5hex(obj) + `"`}}, status: 304},
		{name: "if-match fails", req: rawReq{method: "GET", path: "/raw/obj", headers: map[string]string{"If-Match": `"abc"`}}, status: 412, code: "PreconditionFailed"},
		{name: "virtual host", req: rawReq{method: "GET", path: "/obj", mutate: func(r *http.Request) {
			r.Host = "raw.localhost:" + ts.Port
			*r = *signer.SignV4(*r, rootAK, rootSK, "", testRegion)
		}}, status: 200, check: func(t *testing.T, r rawResp) {
			if string(r.body) != "0123456789" {
				t.Errorf("body %q", r.body)
			}
		}},
		{name: "create other region", req: rawReq{method: "PUT", path: "/otherregion", body: []byte(`<CreateBucketConfiguration><LocationConstraint>us-west-2</LocationConstraint></CreateBucketConfiguration>`)},
			status: 400, code: "IllegalLocationConstraintException"},
		{name: "complete malformed", req: rawReq{method: "POST", path: "/raw/mp?uploadId=x", body: []byte("<CompleteMultipartUpload><Part>")}, status: 400, code: "MalformedXML"},
		{name: "complete no such upload", req: rawReq{method: "POST", path: "/raw/mp?uploadId=x",
			body: []byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>`)}, status: 404, code: "NoSuchUpload"},
		{name: "part number out of range", req: rawReq{method: "PUT", path: "/raw/mp?uploadId=x&partNumber=10001", body: obj}, status: 400, code: "InvalidArgument"},
		{name: "copy source malformed", req: rawReq{method: "PUT", path: "/raw/c", headers: map[string]string{"X-Amz-Copy-Source": "raw"}}, status: 400, code: "InvalidArgument"},
		{name: "copy source missing", req: rawReq{method: "PUT", path: "/raw/c", headers: map[string]string{"X-Amz-Copy-Source": "/raw/nothing"}}, status: 404, code: "NoSuchKey"},
		{name: "metadata directive bad", req: rawReq{method: "PUT", path: "/raw/c", headers: map[string]string{"X-Amz-Copy-Source": "/raw/obj", "X-Amz-Metadata-Directive": "MOVE"}},
			status: 400, code: "InvalidArgument"},
		{name: "copy if-match fails", req: rawReq{method: "PUT", path: "/raw/c", headers: map[string]string{"X-Amz-Copy-Source": "/raw/obj", "X-Amz-Copy-Source-If-Match": `"nope"`}},
			status: 412, code: "PreconditionFailed"},
		{name: "delete objects too many", req: rawReq{method: "POST", path: "/raw?delete", body: manyDeletes(1001), headers: map[string]string{"Content-Md5": md5b64(manyDeletes(1001))}},
			status: 400, code: "MalformedXML"},
		{name: "list bad max-keys", req: rawReq{method: "GET", path: "/raw?list-type=2&max-keys=-1"}, status: 400, code: "InvalidArgument"},
		{name: "list bad token", req: rawReq{method: "GET", path: "/raw?list-type=2&continuation-token=zz"}, status: 400, code: "InvalidArgument"},
		{name: "list bad encoding", req: rawReq{method: "GET", path: "/raw?encoding-type=base64"}, status: 400, code: "InvalidArgument"},
		{name: "list url encoding", req: rawReq{method: "GET", path: "/raw?list-type=2&encoding-type=url&prefix=o"}, status: 200,
			check: func(t *testing.T, r rawResp) {
				if !containsAll(string(r.body), "<EncodingType>url</EncodingType>", "<Key>obj</Key>", "<KeyCount>1</KeyCount>") {
					t.Errorf("listing %s", r.body)
				}
			}},
		{name: "method not allowed", req: rawReq{method: "PATCH", path: "/raw/obj"}, status: 405, code: "MethodNotAllowed"},
		{name: "service delete", req: rawReq{method: "DELETE", path: "/"}, status: 405, code: "MethodNotAllowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.raw(t, tc.req)
			if r.status != tc.status || r.code != tc.code {
				t.Fatalf("got %d %q, want %d %q; body %s", r.status, r.code, tc.status, tc.code, r.body)
			}
			if r.header.Get("X-Amz-Request-Id") == "" || r.header.Get("X-Amz-Id-2") == "" {
				t.Errorf("missing request ids: %v", r.header)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			if tc.gone != "" {
				if h := ts.raw(t, rawReq{method: "HEAD", path: "/raw/" + tc.gone}); h.status != 404 {
					t.Errorf("refused write left %s behind (HEAD %d)", tc.gone, h.status)
				}
			}
		})
	}
	// The successful writes stored the right bytes.
	for key, want := range map[string][]byte{"streamed": big, "trailer": big, "strailer": big, "md5ok": obj, "crcok": obj} {
		r := ts.raw(t, rawReq{method: "GET", path: "/raw/" + key})
		if r.status != 200 || !bytes.Equal(r.body, want) {
			t.Errorf("%s: %d, %d bytes", key, r.status, len(r.body))
		}
	}
}

func manyDeletes(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<Delete>")
	for i := 0; i < n; i++ {
		b.WriteString("<Object><Key>k" + strconv.Itoa(i) + "</Key></Object>")
	}
	b.WriteString("</Delete>")
	return b.Bytes()
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	const hx = "0123456789abcdef"
	out := make([]byte, 32)
	for i, c := range s {
		out[2*i], out[2*i+1] = hx[c>>4], hx[c&15]
	}
	return string(out)
}

// TestTimeErrors: a skewed clock and an expired presigned URL.
func TestTimeErrors(t *testing.T) {
	ts := newTestServer(t)
	if r := ts.raw(t, rawReq{method: "PUT", path: "/timed"}); r.status != 200 {
		t.Fatalf("create bucket: %d", r.status)
	}
	presigned := ts.newRaw(t, rawReq{method: "GET", path: "/timed", sign: "presign", expires: 30 * time.Second})
	ts.clk.Advance(20 * time.Minute)
	r := ts.raw(t, rawReq{method: "GET", path: "/timed"})
	if r.status != 403 || r.code != "RequestTimeTooSkewed" || !bytes.Contains(r.body, []byte("<MaxAllowedSkewMilliseconds>900000<")) {
		t.Fatalf("skewed request: %d %s", r.status, r.body)
	}
	r = ts.do(t, presigned)
	if r.status != 403 || r.code != "AccessDenied" || !bytes.Contains(r.body, []byte("Request has expired")) {
		t.Fatalf("expired presigned URL: %d %s", r.status, r.body)
	}
}
