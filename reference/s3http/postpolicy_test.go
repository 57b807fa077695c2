package s3http

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/sse"
)

// postForm sends fields then the file as a multipart/form-data POST.
func (ts *testServer) postForm(t *testing.T, url string, fields map[string]string, file []byte) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "upload.bin")
	fw.Write(file)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := (&http.Client{Transport: ts.loopbackTransport()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, mustReadAll(t, resp.Body)
}

// signedForm builds a SigV4 POST form by hand, as the AWS documentation
// describes it: minio-go's PostPolicy cannot put encryption fields into the
// policy's conditions, and S3 requires every field to be there.
func signedForm(t *testing.T, bucket, key string, exp time.Time, extra map[string]string, lengthRange []int64) map[string]string {
	t.Helper()
	now := time.Now().UTC()
	c := credentialScope{AccessKeyID: rootAK, Date: now.Format(yyyymmdd), Region: testRegion, Service: serviceS3, Terminator: scopeTerminator}
	fields := map[string]string{
		"key": key, "x-amz-algorithm": signV4Algorithm, "x-amz-credential": rootAK + "/" + c.scope(),
		"x-amz-date": now.Format(iso8601Format),
	}
	conds := []any{map[string]string{"bucket": bucket}}
	for k, v := range fields {
		conds = append(conds, []string{"eq", "$" + k, v})
	}
	for k, v := range extra {
		fields[k] = v
		conds = append(conds, []string{"eq", "$" + k, v})
	}
	if lengthRange != nil {
		conds = append(conds, []any{"content-length-range", lengthRange[0], lengthRange[1]})
	}
	doc, _ := json.Marshal(map[string]any{"expiration": exp.UTC().Format("2006-01-02T15:04:05.000Z"), "conditions": conds})
	fields["policy"] = base64.StdEncoding.EncodeToString(doc)
	m := hmac.New(sha256.New, signingKey(rootSK, c))
	m.Write([]byte(fields["policy"]))
	fields["x-amz-signature"] = hex.EncodeToString(m.Sum(nil))
	return fields
}

// TestPostPolicyUploads: browser form uploads are authenticated by their
// policy, encrypted as the form (or the bucket default) says, and refused
// without leaving an object when a condition, the signature, the expiry or
// the size range fails.
func TestPostPolicyUploads(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	for _, b := range []string{"forms", "forms-default"} {
		if err := c.MakeBucket(bg, b, minio.MakeBucketOptions{Region: testRegion}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetBucketEncryption(bg, "forms-default", sse.NewConfigurationSSES3()); err != nil {
		t.Fatal(err)
	}
	data := pattern(40_000, 2)
	keyID := ts.createKey(t)

	// minio-go's own presigned POST, into a bucket with a default rule.
	p := minio.NewPostPolicy()
	p.SetBucket("forms-default")
	p.SetKey("sdk/${filename}")
	p.SetExpires(time.Now().Add(10 * time.Minute))
	p.SetContentType("application/x-test")
	p.SetContentLengthRange(1, 1<<20)
	p.SetUserMetadata("origin", "browser")
	u, fd, err := c.PresignedPostPolicy(bg, p)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := ts.postForm(t, u.String(), fd, data)
	if resp.StatusCode != http.StatusNoContent || !strings.HasSuffix(resp.Header.Get("Location"), "/forms-default/sdk/upload.bin") {
		t.Fatalf("SDK form upload: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	st, err := c.StatObject(bg, "forms-default", "sdk/upload.bin", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(len(data)) || st.ContentType != "application/x-test" || st.UserMetadata["Origin"] != "browser" ||
		st.Metadata.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("SDK form object: size %d type %q meta %v sse %q", st.Size, st.ContentType, st.UserMetadata, st.Metadata.Get("X-Amz-Server-Side-Encryption"))
	}

	url := ts.URL + "/forms"
	soon := time.Now().Add(5 * time.Minute)
	for _, tc := range []struct {
		name   string
		key    string
		fields map[string]string
		mutate func(map[string]string)
		file   []byte
		status int
		code   string
		sse    string // the stored object's x-amz-server-side-encryption
	}{
		{name: "kms form", key: "kms", fields: signedForm(t, "forms", "kms", soon,
			map[string]string{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": keyID}, nil),
			status: 204, sse: "aws:kms"},
		{name: "aes form with 201", key: "aes", fields: signedForm(t, "forms", "aes", soon,
			map[string]string{"x-amz-server-side-encryption": "AES256", "success_action_status": "201"}, nil), status: 201, sse: "AES256"},
		{name: "no encryption field, no default", key: "plain", fields: signedForm(t, "forms", "plain", soon, nil, nil), status: 204, sse: ""},
		{name: "field changed after signing", key: "tampered", fields: signedForm(t, "forms", "tampered", soon,
			map[string]string{"x-amz-server-side-encryption": "aws:kms"}, nil),
			mutate: func(f map[string]string) { f["x-amz-server-side-encryption"] = "AES256" }, status: 403, code: "AccessDenied"},
		{name: "field the policy does not allow", key: "extra", fields: signedForm(t, "forms", "extra", soon, nil, nil),
			mutate: func(f map[string]string) { f["x-amz-server-side-encryption"] = "AES256" }, status: 403, code: "AccessDenied"},
		{name: "policy edited", key: "edited", fields: signedForm(t, "forms", "edited", soon, nil, nil),
			mutate: func(f map[string]string) {
				f["policy"] = base64.StdEncoding.EncodeToString([]byte(`{"expiration":"2099-01-01T00:00:00Z","conditions":[]}`))
			},
			status: 403, code: "SignatureDoesNotMatch"},
		{name: "expired", key: "late", fields: signedForm(t, "forms", "late", time.Now().Add(-time.Minute), nil, nil), status: 403, code: "AccessDenied"},
		{name: "other bucket in policy", key: "wrong-bucket", fields: signedForm(t, "forms-default", "wrong-bucket", soon, nil, nil), status: 403, code: "AccessDenied"},
		{name: "too large", key: "big", fields: signedForm(t, "forms", "big", soon, nil, []int64{1, 100}), status: 400, code: "EntityTooLarge"},
		{name: "too small", key: "small", fields: signedForm(t, "forms", "small", soon, nil, []int64{50_000, 60_000}), status: 400, code: "EntityTooSmall"},
		{name: "in range", key: "ranged", fields: signedForm(t, "forms", "ranged", soon, nil, []int64{40_000, 40_000}), status: 204},
		{name: "anonymous", key: "anon", fields: map[string]string{"key": "anon", "x-amz-credential": "x"}, status: 403, code: "AccessDenied"},
		{name: "sse-c blocked by default", key: "ssec", fields: signedForm(t, "forms", "ssec", soon,
			lowerKeys(ssecHeaders("x-amz-server-side-encryption-customer-")), nil), status: 403, code: "AccessDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mutate != nil {
				tc.mutate(tc.fields)
			}
			file := data
			if tc.file != nil {
				file = tc.file
			}
			resp, body := ts.postForm(t, url, tc.fields, file)
			var e struct{ Code string }
			xml.Unmarshal(body, &e)
			if resp.StatusCode != tc.status || (tc.code != "" && e.Code != tc.code) {
				t.Fatalf("got %d %s, want %d %s: %s", resp.StatusCode, e.Code, tc.status, tc.code, body)
			}
			st, err := c.StatObject(bg, "forms", tc.key, minio.StatObjectOptions{})
			if tc.status >= 300 {
				if minioCode(err) != "NoSuchKey" {
					t.Fatalf("a refused form left an object: %v %+v", err, st)
				}
				return
			}
			if err != nil || st.Size != int64(len(file)) || st.Metadata.Get("X-Amz-Server-Side-Encryption") != tc.sse {
				t.Fatalf("stored: %v size %d sse %q, want sse %q", err, st.Size, st.Metadata.Get("X-Amz-Server-Side-Encryption"), tc.sse)
			}
			if got := resp.Header.Get("X-Amz-Server-Side-Encryption"); got != tc.sse {
				t.Errorf("response SSE header %q, want %q", got, tc.sse)
			}
			o, err := c.GetObject(bg, "forms", tc.key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := mustReadAll(t, o); !bytes.Equal(got, file) {
				t.Fatalf("read back %d different bytes", len(got))
			}
		})
	}
}

// TestIsS3RequestForms: on the shared port a form POST is told apart by
// its signature fields, and the body it peeked at is still all there.
func TestIsS3RequestForms(t *testing.T) {
	for _, tc := range []struct {
		fields map[string]string
		want   bool
	}{
		{map[string]string{"key": "k", "X-Amz-Signature": "abc", "policy": "p"}, true},
		{map[string]string{"key": "k", "AWSAccessKeyId": "AK", "signature": "s"}, true},
		{map[string]string{"key": "k", "OSSAccessKeyId": "AK", "Signature": "s", "policy": "p"}, false},
		{map[string]string{"key": "k", "x-oss-signature": "s", "x-oss-credential": "c"}, false},
	} {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range tc.fields {
			w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("file", "f")
		fw.Write(pattern(100_000, 1)) // more than the peek
		w.Close()
		whole := append([]byte(nil), buf.Bytes()...)
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/bucket", &buf)
		r.Header.Set("Content-Type", w.FormDataContentType())
		if got := IsS3Request(r); got != tc.want {
			t.Errorf("%v: IsS3Request = %v", tc.fields, got)
		}
		if got := mustReadAll(t, r.Body); !bytes.Equal(got, whole) {
			t.Errorf("%v: the body after the peek differs (%d of %d bytes)", tc.fields, len(got), len(whole))
		}
	}
}

// TestPostPolicyBucketBinding: the policy's bucket condition binds the
// bucket of the URL the form is posted to. A "bucket" form field naming
// the signed bucket must not let the form upload into another bucket.
func TestPostPolicyBucketBinding(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	for _, b := range []string{"signed-for", "elsewhere"} {
		if err := c.MakeBucket(bg, b, minio.MakeBucketOptions{Region: testRegion}); err != nil {
			t.Fatal(err)
		}
	}
	fields := signedForm(t, "signed-for", "k", time.Now().Add(5*time.Minute), nil, nil)
	fields["bucket"] = "signed-for" // exempt from the policy, like minio-go's own field
	resp, body := ts.postForm(t, ts.URL+"/elsewhere", fields, pattern(1000, 3))
	var e struct{ Code string }
	xml.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusForbidden || e.Code != "AccessDenied" {
		t.Fatalf("form signed for signed-for posted to elsewhere: %d %s: %s", resp.StatusCode, e.Code, body)
	}
	if _, err := c.StatObject(bg, "elsewhere", "k", minio.StatObjectOptions{}); minioCode(err) != "NoSuchKey" {
		t.Fatalf("the form wrote into a bucket its policy does not name: %v", err)
	}
	// The same form posted where it was signed for still works.
	resp, body = ts.postForm(t, ts.URL+"/signed-for", fields, pattern(1000, 3))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("form posted to its own bucket: %d %s", resp.StatusCode, body)
	}
}

// TestPostPolicyUnknownChecksumField: a form's x-amz-checksum-* fields are
// the headers of a PUT, so an algorithm this server does not compute is
// refused (as on PUT), never silently dropped.
func TestPostPolicyUnknownChecksumField(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	if err := c.MakeBucket(bg, "forms", minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	for _, extra := range []map[string]string{
		{"x-amz-checksum-sha3": "AAAA"},
		{"x-amz-checksum-type": "BOGUS"},
	} {
		fields := signedForm(t, "forms", "cks", time.Now().Add(5*time.Minute), extra, nil)
		resp, body := ts.postForm(t, ts.URL+"/forms", fields, pattern(1000, 4))
		var e struct{ Code string }
		xml.Unmarshal(body, &e)
		if resp.StatusCode != http.StatusBadRequest || e.Code != "InvalidArgument" {
			t.Fatalf("%v: got %d %s, want 400 InvalidArgument: %s", extra, resp.StatusCode, e.Code, body)
		}
		if _, err := c.StatObject(bg, "forms", "cks", minio.StatObjectOptions{}); minioCode(err) != "NoSuchKey" {
			t.Fatalf("%v: a refused form left an object: %v", extra, err)
		}
	}
}
