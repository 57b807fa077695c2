package s3http

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// v2Client is minio-go speaking Signature Version 2.
func (ts *testServer) v2Client(t *testing.T, lookup minio.BucketLookupType, ak, sk string) *minio.Client {
	t.Helper()
	host := "127.0.0.1:" + ts.Port
	if lookup == minio.BucketLookupDNS {
		host = "localhost:" + ts.Port
	}
	c, err := minio.New(host, &minio.Options{
		Creds: miniocreds.NewStaticV2(ak, sk, ""), Region: testRegion,
		BucketLookup: lookup, Transport: ts.loopbackTransport(), MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSignatureV2 drives the everyday calls, SSE included, through
// minio-go's V2 signer, path-style and virtual-hosted, and checks that a
// wrong secret, a tampered header and an expired presigned URL are refused.
func TestSignatureV2(t *testing.T) {
	for _, lookup := range []minio.BucketLookupType{minio.BucketLookupPath, minio.BucketLookupDNS} {
		ts := newTestServer(t)
		c := ts.v2Client(t, lookup, rootAK, rootSK)
		const bucket = "v2bucket"
		if err := c.MakeBucket(bg, bucket, minio.MakeBucketOptions{Region: testRegion}); err != nil {
			t.Fatalf("lookup %v: MakeBucket: %v", lookup, err)
		}
		data := pattern(100_000, 3)
		for _, key := range []string{"plain.bin", "dir/spaces and+plus ü.bin"} {
			if _, err := c.PutObject(bg, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
				ServerSideEncryption: encrypt.NewSSE(), UserMetadata: map[string]string{"A": "b"},
			}); err != nil {
				t.Fatalf("PutObject %q: %v", key, err)
			}
			st, err := c.StatObject(bg, bucket, key, minio.StatObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Metadata.Get("X-Amz-Server-Side-Encryption"); got != "AES256" {
				t.Fatalf("%q: SSE header %q, want AES256", key, got)
			}
			o, err := c.GetObject(bg, bucket, key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := mustReadAll(t, o); !bytes.Equal(got, data) {
				t.Fatalf("%q: GET returned %d different bytes", key, len(got))
			}
		}
		n := 0
		for obj := range c.ListObjects(bg, bucket, minio.ListObjectsOptions{Recursive: true, UseV1: true}) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			n++
		}
		if n != 2 {
			t.Fatalf("listed %d objects, want 2", n)
		}
		u, err := c.PresignedGetObject(bg, bucket, "plain.bin", time.Minute, url.Values{"response-content-type": {"text/x-test"}})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := (&http.Client{Transport: ts.loopbackTransport()}).Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		body := mustReadAll(t, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("Content-Type") != "text/x-test" {
			t.Fatalf("presigned V2 GET: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		// Tampering with a signed sub-resource breaks the signature.
		q := u.Query()
		q.Set("response-content-type", "text/evil")
		u.RawQuery = q.Encode()
		if r := ts.getStatus(t, u.String()); r != "403 SignatureDoesNotMatch" {
			t.Fatalf("tampered presigned V2 GET: %s", r)
		}
	}

	ts := newTestServer(t)
	bad := ts.v2Client(t, minio.BucketLookupPath, rootAK, "not-the-secret")
	if err := bad.MakeBucket(bg, "nope", minio.MakeBucketOptions{Region: testRegion}); minioCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v, want SignatureDoesNotMatch", err)
	}
	unknown := ts.v2Client(t, minio.BucketLookupPath, "AKIDUNKNOWN", rootSK)
	if err := unknown.MakeBucket(bg, "nope", minio.MakeBucketOptions{Region: testRegion}); minioCode(err) != "InvalidAccessKeyId" {
		t.Fatalf("unknown key: %v, want InvalidAccessKeyId", err)
	}
	c := ts.v2Client(t, minio.BucketLookupPath, rootAK, rootSK)
	if err := c.MakeBucket(bg, "exp", minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	u, err := c.PresignedGetObject(bg, "exp", "k", time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("Expires", "1000") // long past; also breaks the signature, but expiry is checked first
	u.RawQuery = q.Encode()
	if r := ts.getStatus(t, u.String()); r != "403 AccessDenied" {
		t.Fatalf("expired presigned V2 GET: %s", r)
	}
}

// getStatus GETs u and returns "STATUS Code" from the S3 error body.
func (ts *testServer) getStatus(t *testing.T, u string) string {
	t.Helper()
	resp, err := (&http.Client{Transport: ts.loopbackTransport()}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Code string }
	_ = xml.Unmarshal(mustReadAll(t, resp.Body), &e)
	return strconv.Itoa(resp.StatusCode) + " " + e.Code
}
