package s3http

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// allowSSEC puts an AES256 rule with BlockedEncryptionTypes NONE (SSE-C
// allowed) on bucket (minio-go's configuration type has no such element).
func (ts *testServer) allowSSEC(t testing.TB, bucket string, allow bool) {
	t.Helper()
	typ := "SSE-C"
	if allow {
		typ = "NONE"
	}
	doc := []byte(`<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule>` +
		`<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>` +
		`<BlockedEncryptionTypes><EncryptionType>` + typ + `</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>`)
	sum := md5.Sum(doc)
	res := ts.raw(t, rawReq{method: "PUT", path: "/" + bucket + "?encryption", body: doc,
		headers: map[string]string{"Content-Md5": base64.StdEncoding.EncodeToString(sum[:])}})
	if res.status != http.StatusOK {
		t.Fatalf("PutBucketEncryption NONE: %d %s", res.status, res.body)
	}
}

func blockedTypes(t testing.TB, ts *testServer, bucket string) string {
	t.Helper()
	res := ts.raw(t, rawReq{method: "GET", path: "/" + bucket + "?encryption"})
	if res.status != http.StatusOK {
		t.Fatalf("GetBucketEncryption: %d %s", res.status, res.body)
	}
	_, after, _ := strings.Cut(string(res.body), "<BlockedEncryptionTypes><EncryptionType>")
	v, _, _ := strings.Cut(after, "<")
	return v
}

// TestMinioSSEC drives SSE-C through minio-go: blocked by default (403
// AccessDenied on PUT, copy and multipart), allowed by a rule with
// BlockedEncryptionTypes NONE; then HEAD and GET need the key (400
// without, 403 with another), echo the customer headers, copy and
// multipart work with their keys, blocking again keeps old objects
// readable, and the key is nowhere on disk.
func TestMinioSSEC(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	keyBytes := bytes.Repeat([]byte{0xa7}, 32)
	ssec, err := encrypt.NewSSEC(keyBytes)
	if err != nil {
		t.Fatal(err)
	}
	otherKey := bytes.Repeat([]byte{0xa8}, 32)
	other, err := encrypt.NewSSEC(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(300_000, 9)
	putOpts := minio.PutObjectOptions{ServerSideEncryption: ssec}
	for _, b := range []string{"blocked", "open"} {
		if err := c.MakeBucket(bg, b, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A bucket without a rule blocks SSE-C, and so does a rule saying so.
	_, err = c.PutObject(bg, "blocked", "o", bytes.NewReader(data), int64(len(data)), putOpts)
	if minioCode(err) != "AccessDenied" {
		t.Fatalf("SSE-C PutObject to a bucket without a rule: %v", err)
	}
	ts.allowSSEC(t, "blocked", false)
	if got := blockedTypes(t, ts, "blocked"); got != "SSE-C" {
		t.Fatalf("BlockedEncryptionTypes = %q, want SSE-C", got)
	}
	for name, put := range map[string]func() error{
		"PutObject": func() error {
			_, err := c.PutObject(bg, "blocked", "o", bytes.NewReader(data), int64(len(data)), putOpts)
			return err
		},
		"multipart": func() error {
			_, err := c.PutObject(bg, "blocked", "o", bytes.NewReader(data), -1, minio.PutObjectOptions{ServerSideEncryption: ssec, PartSize: 5 << 20})
			return err
		},
	} {
		if err := put(); minioCode(err) != "AccessDenied" {
			t.Fatalf("%s with SSE-C to a blocking bucket: %v", name, err)
		}
	}
	ts.allowSSEC(t, "open", true)
	if got := blockedTypes(t, ts, "open"); got != "NONE" {
		t.Fatalf("BlockedEncryptionTypes = %q, want NONE", got)
	}
	if _, err := c.PutObject(bg, "open", "o", bytes.NewReader(data), int64(len(data)), putOpts); err != nil {
		t.Fatalf("SSE-C PutObject to an open bucket: %v", err)
	}
	// HEAD.
	if _, err := c.StatObject(bg, "open", "o", minio.StatObjectOptions{}); minio.ToErrorResponse(err).StatusCode != http.StatusBadRequest {
		t.Fatalf("HEAD without the key: %v", err)
	}
	if _, err := c.StatObject(bg, "open", "o", minio.StatObjectOptions{ServerSideEncryption: other}); minio.ToErrorResponse(err).StatusCode != http.StatusForbidden {
		t.Fatalf("HEAD with another key: %v", err)
	}
	st, err := c.StatObject(bg, "open", "o", minio.StatObjectOptions{ServerSideEncryption: ssec})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(keyBytes)
	wantMD5 := base64.StdEncoding.EncodeToString(sum[:])
	if st.Metadata.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm") != "AES256" ||
		st.Metadata.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5") != wantMD5 ||
		st.Metadata.Get("X-Amz-Server-Side-Encryption") != "" || st.Size != int64(len(data)) {
		t.Fatalf("HEAD headers: %v", st.Metadata)
	}
	// Its ACL and tags need no key (as on S3); its attributes do.
	// (Raw requests: minio-go's GetObjectACL also HEADs the object.)
	for _, q := range []string{"acl", "tagging"} {
		if res := ts.raw(t, rawReq{method: "GET", path: "/open/o?" + q}); res.status != http.StatusOK {
			t.Fatalf("GET ?%s of an SSE-C object without its key: %d %s", q, res.status, res.body)
		}
	}
	if res := ts.raw(t, rawReq{method: "GET", path: "/open/o?attributes", headers: map[string]string{"X-Amz-Object-Attributes": "ObjectSize"}}); res.status != http.StatusBadRequest {
		t.Fatalf("GetObjectAttributes without the key: %d %s", res.status, res.body)
	}
	attrHeaders := map[string]string{"X-Amz-Object-Attributes": "ObjectSize",
		"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256",
		"X-Amz-Server-Side-Encryption-Customer-Key":       base64.StdEncoding.EncodeToString(keyBytes),
		"X-Amz-Server-Side-Encryption-Customer-Key-Md5":   wantMD5}
	if res := ts.raw(t, rawReq{method: "GET", path: "/open/o?attributes", headers: attrHeaders}); res.status != http.StatusOK {
		t.Fatalf("GetObjectAttributes with the key: %d %s", res.status, res.body)
	}
	// GET.
	read := func(bucket, key string, opts minio.GetObjectOptions) ([]byte, error) {
		obj, err := c.GetObject(bg, bucket, key, opts)
		if err != nil {
			return nil, err
		}
		defer obj.Close()
		return io.ReadAll(obj)
	}
	_, err = read("open", "o", minio.GetObjectOptions{})
	if e := minio.ToErrorResponse(err); e.Code != "InvalidRequest" || !strings.Contains(e.Message, "The correct parameters must be provided to retrieve the object.") {
		t.Fatalf("GET without the key: %v", err)
	}
	if _, err := read("open", "o", minio.GetObjectOptions{ServerSideEncryption: other}); minioCode(err) != "AccessDenied" {
		t.Fatalf("GET with another key: %v", err)
	}
	if got, err := read("open", "o", minio.GetObjectOptions{ServerSideEncryption: ssec}); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GET with the key: %v", err)
	}
	ranged := minio.GetObjectOptions{ServerSideEncryption: ssec}
	if err := ranged.SetRange(100_000, 100_999); err != nil {
		t.Fatal(err)
	}
	if got, err := read("open", "o", ranged); err != nil || !bytes.Equal(got, data[100_000:101_000]) {
		t.Fatalf("ranged GET with the key: %v", err)
	}
	// Copy: SSE-C source to SSE-C destination under another key; to a
	// blocking bucket only without SSE-C.
	srcOpts := minio.CopySrcOptions{Bucket: "open", Object: "o", Encryption: encrypt.SSECopy(ssec)}
	if _, err := c.CopyObject(bg, minio.CopyDestOptions{Bucket: "open", Object: "copy", Encryption: other}, srcOpts); err != nil {
		t.Fatalf("SSE-C copy: %v", err)
	}
	if got, err := read("open", "copy", minio.GetObjectOptions{ServerSideEncryption: other}); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GET of the copy: %v", err)
	}
	if _, err := c.CopyObject(bg, minio.CopyDestOptions{Bucket: "blocked", Object: "copy", Encryption: other}, srcOpts); minioCode(err) != "AccessDenied" {
		t.Fatalf("SSE-C copy to a blocking bucket: %v", err)
	}
	if _, err := c.CopyObject(bg, minio.CopyDestOptions{Bucket: "blocked", Object: "plain"}, srcOpts); err != nil {
		t.Fatalf("copy of an SSE-C object out as SSE-S3: %v", err)
	}
	if _, err := c.CopyObject(bg, minio.CopyDestOptions{Bucket: "blocked", Object: "plain2"}, minio.CopySrcOptions{Bucket: "open", Object: "o"}); minio.ToErrorResponse(err).StatusCode != http.StatusBadRequest {
		t.Fatalf("copy of an SSE-C source without its key: %v", err)
	}
	// Multipart with SSE-C (two 5 MiB parts and a tail).
	big := pattern(11<<20, 4)
	if _, err := c.PutObject(bg, "open", "mpu", bytes.NewReader(big), -1, minio.PutObjectOptions{ServerSideEncryption: ssec, PartSize: 5 << 20}); err != nil {
		t.Fatalf("SSE-C multipart: %v", err)
	}
	if got, err := read("open", "mpu", minio.GetObjectOptions{ServerSideEncryption: ssec}); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("GET of the multipart object: %v", err)
	}
	// Blocking again stops new SSE-C writes; old objects stay readable.
	ts.allowSSEC(t, "open", false)
	if _, err := c.PutObject(bg, "open", "o2", bytes.NewReader(data), int64(len(data)), putOpts); minioCode(err) != "AccessDenied" {
		t.Fatalf("SSE-C PutObject after blocking: %v", err)
	}
	if got, err := read("open", "o", minio.GetObjectOptions{ServerSideEncryption: ssec}); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GET after blocking: %v", err)
	}
	// The key never reaches the disk.
	err = filepath.WalkDir(ts.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, k := range [][]byte{keyBytes, otherKey, []byte(base64.StdEncoding.EncodeToString(keyBytes)), []byte(wantMD5)} {
			if bytes.Contains(b, k) {
				t.Errorf("%s holds the customer key (or its MD5)", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ts.logs.String(), base64.StdEncoding.EncodeToString(keyBytes)) {
		t.Fatal("the server log holds the customer key")
	}
}

// TestSSECHeaderValidation: malformed SSE-C headers are refused before
// anything is stored.
func TestSSECHeaderValidation(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	if err := c.MakeBucket(bg, "valid", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	ts.allowSSEC(t, "valid", true)
	key := bytes.Repeat([]byte{3}, 32)
	sum := md5.Sum(key)
	good := map[string]string{
		"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256",
		"X-Amz-Server-Side-Encryption-Customer-Key":       base64.StdEncoding.EncodeToString(key),
		"X-Amz-Server-Side-Encryption-Customer-Key-Md5":   base64.StdEncoding.EncodeToString(sum[:]),
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		status  int
		code    string
	}{
		{"no algorithm", with("X-Amz-Server-Side-Encryption-Customer-Algorithm", ""), 400, "InvalidArgument"},
		{"other algorithm", with("X-Amz-Server-Side-Encryption-Customer-Algorithm", "AES128"), 400, "InvalidEncryptionAlgorithmError"},
		{"no key", with("X-Amz-Server-Side-Encryption-Customer-Key", ""), 400, "InvalidArgument"},
		{"short key", with("X-Amz-Server-Side-Encryption-Customer-Key", base64.StdEncoding.EncodeToString(key[:16])), 400, "InvalidArgument"},
		{"no MD5", with("X-Amz-Server-Side-Encryption-Customer-Key-Md5", ""), 400, "InvalidArgument"},
		{"wrong MD5", with("X-Amz-Server-Side-Encryption-Customer-Key-Md5", base64.StdEncoding.EncodeToString(make([]byte, 16))), 400, "InvalidArgument"},
		{"with SSE-S3", with("X-Amz-Server-Side-Encryption", "AES256"), 400, "InvalidArgument"},
		{"good", good, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ts.raw(t, rawReq{method: "PUT", path: "/valid/obj", body: []byte("data"), headers: tc.headers})
			if res.status != tc.status || res.code != tc.code {
				t.Fatalf("got %d %q, want %d %q: %s", res.status, res.code, tc.status, tc.code, res.body)
			}
			if tc.status == 200 {
				if res.header.Get("X-Amz-Server-Side-Encryption-Customer-Key-Md5") != good["X-Amz-Server-Side-Encryption-Customer-Key-Md5"] {
					t.Fatalf("PUT response headers %v", res.header)
				}
				return
			}
			if _, err := c.StatObject(bg, "valid", "obj", minio.StatObjectOptions{}); minioCode(err) != "NoSuchKey" {
				t.Fatalf("a refused PUT stored the object: %v", err)
			}
		})
	}
	// HEAD without the key: 400 with no body; a GET with a key of a plain
	// object: 400 InvalidRequest.
	res := ts.raw(t, rawReq{method: "HEAD", path: "/valid/obj"})
	if res.status != http.StatusBadRequest {
		t.Fatalf("HEAD without the key: %d", res.status)
	}
	if _, err := c.PutObject(bg, "valid", "plain", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	res = ts.raw(t, rawReq{method: "GET", path: "/valid/plain", headers: good})
	if res.status != http.StatusBadRequest || res.code != "InvalidRequest" {
		t.Fatalf("GET of a plain object with a key: %d %s", res.status, res.body)
	}
}

// ssecHeaders are valid SSE-C headers (one fixed key) under prefix.
func ssecHeaders(prefix string) map[string]string {
	key := bytes.Repeat([]byte{5}, 32)
	sum := md5.Sum(key)
	return map[string]string{
		prefix + "Algorithm": "AES256",
		prefix + "Key":       base64.StdEncoding.EncodeToString(key),
		prefix + "Key-Md5":   base64.StdEncoding.EncodeToString(sum[:]),
	}
}

// withHeader returns m with k set to v.
func withHeader(m map[string]string, k, v string) map[string]string {
	m[k] = v
	return m
}

func lowerKeys(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
