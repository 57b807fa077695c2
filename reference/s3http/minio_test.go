package s3http

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"
	"github.com/minio/minio-go/v7/pkg/sse"
)

// TestMinioBasicsBothAddressingStyles runs the everyday minio-go calls
// path-style and virtual-hosted (bucket.localhost:PORT).
func TestMinioBasicsBothAddressingStyles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lookup minio.BucketLookupType
	}{
		{"path", minio.BucketLookupPath},
		{"virtual-host", minio.BucketLookupDNS},
		{"auto", minio.BucketLookupAuto},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			c := ts.minioClient(t, tc.lookup, rootAK, rootSK)
			const bucket = "basics"
			if err := c.MakeBucket(bg, bucket, minio.MakeBucketOptions{Region: testRegion}); err != nil {
				t.Fatal(err)
			}
			if err := c.MakeBucket(bg, bucket, minio.MakeBucketOptions{Region: testRegion}); minioCode(err) != "BucketAlreadyOwnedByYou" {
				t.Fatalf("second MakeBucket: %v, want BucketAlreadyOwnedByYou", err)
			}
			if ok, err := c.BucketExists(bg, bucket); err != nil || !ok {
				t.Fatalf("BucketExists = %v, %v", ok, err)
			}
			if ok, err := c.BucketExists(bg, "nope"); err != nil || ok {
				t.Fatalf("BucketExists(nope) = %v, %v", ok, err)
			}
			data := pattern(200_000, 1)
			keys := []string{"a/one.bin", "a/two words+plus.bin", "b/ünïcode?&=.bin", "top.bin"}
			for _, k := range keys {
				_, err := c.PutObject(bg, bucket, k, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
					ContentType: "application/x-test", UserMetadata: map[string]string{"Color": "blue"},
				})
				if err != nil {
					t.Fatalf("PutObject %q: %v", k, err)
				}
			}
			st, err := c.StatObject(bg, bucket, keys[1], minio.StatObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Size != int64(len(data)) || st.ContentType != "application/x-test" || st.UserMetadata["Color"] != "blue" {
				t.Fatalf("StatObject = size %d type %q meta %v", st.Size, st.ContentType, st.UserMetadata)
			}
			if len(st.ETag) != 32 || strings.ToLower(st.ETag) != st.ETag {
				t.Fatalf("ETag %q is not lower-case hex MD5", st.ETag)
			}
			if st.Metadata.Get("X-Amz-Server-Side-Encryption") != "" {
				t.Fatalf("an object in a bucket without a rule reports SSE %q", st.Metadata.Get("X-Amz-Server-Side-Encryption"))
			}
			obj, err := c.GetObject(bg, bucket, keys[2], minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := mustReadAll(t, obj); !bytes.Equal(got, data) {
				t.Fatal("GetObject returned other bytes")
			}
			obj.Close()
			var ro minio.GetObjectOptions
			if err := ro.SetRange(1000, 1999); err != nil {
				t.Fatal(err)
			}
			obj, err = c.GetObject(bg, bucket, keys[0], ro)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustReadAll(t, obj); !bytes.Equal(got, data[1000:2000]) {
				t.Fatalf("ranged GetObject returned %d bytes", len(got))
			}
			obj.Close()

			// Listings: recursive, delimited, prefixed, paged (v2 and v1).
			var listed []string
			for o := range c.ListObjects(bg, bucket, minio.ListObjectsOptions{Recursive: true}) {
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				listed = append(listed, o.Key)
			}
			if strings.Join(listed, "|") != strings.Join(keys, "|") {
				t.Fatalf("recursive listing %q, want %q", listed, keys)
			}
			listed = nil
			for o := range c.ListObjects(bg, bucket, minio.ListObjectsOptions{}) {
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				listed = append(listed, o.Key)
			}
			sort.Strings(listed)
			if strings.Join(listed, "|") != "a/|b/|top.bin" {
				t.Fatalf("delimited listing %q", listed)
			}
			for _, v1 := range []bool{false, true} {
				listed = nil
				for o := range c.ListObjects(bg, bucket, minio.ListObjectsOptions{Recursive: true, MaxKeys: 1, UseV1: v1, Prefix: "a/"}) {
					if o.Err != nil {
						t.Fatal(o.Err)
					}
					listed = append(listed, o.Key)
				}
				if strings.Join(listed, "|") != "a/one.bin|a/two words+plus.bin" {
					t.Fatalf("paged listing (v1=%v) %q", v1, listed)
				}
			}

			// Presigned GET, fetched by a plain HTTP client.
			u, err := c.PresignedGetObject(bg, bucket, keys[1], time.Minute, url.Values{"response-content-type": {"text/plain"}})
			if err != nil {
				t.Fatal(err)
			}
			hc := &http.Client{Transport: ts.loopbackTransport()}
			resp, err := hc.Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(got, data) || resp.Header.Get("Content-Type") != "text/plain" {
				t.Fatalf("presigned GET: %d, %d bytes, type %q", resp.StatusCode, len(got), resp.Header.Get("Content-Type"))
			}

			if err := c.RemoveBucket(bg, bucket); minioCode(err) != "BucketNotEmpty" {
				t.Fatalf("RemoveBucket of a non-empty bucket: %v", err)
			}
			ch := make(chan minio.ObjectInfo, len(keys)+1)
			for _, k := range keys {
				ch <- minio.ObjectInfo{Key: k}
			}
			ch <- minio.ObjectInfo{Key: "never-existed"}
			close(ch)
			for e := range c.RemoveObjects(bg, bucket, ch, minio.RemoveObjectsOptions{}) {
				t.Fatalf("RemoveObjects: %v", e.Err)
			}
			if _, err := c.StatObject(bg, bucket, keys[0], minio.StatObjectOptions{}); minioCode(err) != "NoSuchKey" {
				t.Fatalf("StatObject after RemoveObjects: %v", err)
			}
			if err := c.RemoveObject(bg, bucket, "never-existed", minio.RemoveObjectOptions{}); err != nil {
				t.Fatalf("RemoveObject of a missing key: %v", err)
			}
			if err := c.RemoveBucket(bg, bucket); err != nil {
				t.Fatal(err)
			}
			if _, err := c.StatObject(bg, bucket, keys[0], minio.StatObjectOptions{}); minioCode(err) != "NoSuchBucket" && minioCode(err) != "NoSuchKey" {
				t.Fatalf("StatObject in a deleted bucket: %v", err)
			}
		})
	}
}

func statSSE(t *testing.T, c *minio.Client, bucket, key string) (string, string) {
	t.Helper()
	st, err := c.StatObject(bg, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("StatObject %s: %v", key, err)
	}
	return st.Metadata.Get("X-Amz-Server-Side-Encryption"), st.Metadata.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
}

func mustSSEKMS(t *testing.T, keyID string) encrypt.ServerSide {
	t.Helper()
	s, err := encrypt.NewSSEKMS(keyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMinioSSEObjects: SSE-S3 and SSE-KMS on single PUTs and on multipart
// uploads with the streaming signature, read back and reported by Stat.
func TestMinioSSEObjects(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	keyID := ts.createKey(t)
	if err := c.MakeBucket(bg, "sse", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	small, large := pattern(70_000, 2), pattern(11<<20+123, 3)
	for _, tc := range []struct {
		name    string
		data    []byte
		sse     encrypt.ServerSide
		wantAlg string
		wantKey string
	}{
		{"small-none", small, nil, "", ""},
		{"small-s3", small, encrypt.NewSSE(), "AES256", ""},
		{"small-kms", small, mustSSEKMS(t, keyID), "aws:kms", ts.keyARN(keyID)},
		{"large-s3", large, encrypt.NewSSE(), "AES256", ""},
		{"large-kms", large, mustSSEKMS(t, keyID), "aws:kms", ts.keyARN(keyID)},
		{"small-kms-default-key", small, mustSSEKMS(t, ""), "aws:kms", "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutObject(bg, "sse", tc.name, bytes.NewReader(tc.data), int64(len(tc.data)),
				minio.PutObjectOptions{ServerSideEncryption: tc.sse, PartSize: 5 << 20})
			if err != nil {
				t.Fatal(err)
			}
			alg, key := statSSE(t, c, "sse", tc.name)
			if alg != tc.wantAlg || (tc.wantKey != "*" && key != tc.wantKey) || (tc.wantKey == "*" && key == "") {
				t.Fatalf("SSE = %q key %q, want %q key %q", alg, key, tc.wantAlg, tc.wantKey)
			}
			obj, err := c.GetObject(bg, "sse", tc.name, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer obj.Close()
			if got := mustReadAll(t, obj); !bytes.Equal(got, tc.data) {
				t.Fatalf("read back %d bytes, want %d identical", len(got), len(tc.data))
			}
			// ReadAt (ranged GETs) across the part boundary.
			if len(tc.data) > 6<<20 {
				buf := make([]byte, 4096)
				off := int64(5<<20 - 2000)
				if _, err := obj.ReadAt(buf, off); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf, tc.data[off:off+4096]) {
					t.Fatal("ReadAt across parts returned other bytes")
				}
			}
		})
	}
}

// TestMinioBucketEncryption: the bucket rule applies to new objects, a
// request header overrides it, and existing objects keep what they had.
func TestMinioBucketEncryption(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	keyID := ts.createKey(t)
	const b = "rules"
	if err := c.MakeBucket(bg, b, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketEncryption(bg, b); minioCode(err) != "ServerSideEncryptionConfigurationNotFoundError" || minioStatus(err) != 404 {
		t.Fatalf("GetBucketEncryption with no rule: %v", err)
	}
	put := func(key string, s encrypt.ServerSide) {
		t.Helper()
		if _, err := c.PutObject(bg, b, key, strings.NewReader("data of "+key), -1, minio.PutObjectOptions{ServerSideEncryption: s}); err != nil {
			t.Fatalf("PutObject %s: %v", key, err)
		}
	}
	put("plain", nil)

	if err := c.SetBucketEncryption(bg, b, sse.NewConfigurationSSES3()); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.GetBucketEncryption(bg, b)
	if err != nil || len(cfg.Rules) != 1 || cfg.Rules[0].Apply.SSEAlgorithm != "AES256" || cfg.Rules[0].Apply.KmsMasterKeyID != "" {
		t.Fatalf("GetBucketEncryption = %+v, %v", cfg, err)
	}
	put("under-s3", nil)

	if err := c.SetBucketEncryption(bg, b, sse.NewConfigurationSSEKMS(keyID)); err != nil {
		t.Fatal(err)
	}
	cfg, err = c.GetBucketEncryption(bg, b)
	if err != nil || cfg.Rules[0].Apply.SSEAlgorithm != "aws:kms" || cfg.Rules[0].Apply.KmsMasterKeyID != keyID {
		t.Fatalf("GetBucketEncryption = %+v, %v", cfg, err)
	}
	put("under-kms", nil)
	put("override-s3", encrypt.NewSSE())

	if err := c.RemoveBucketEncryption(bg, b); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketEncryption(bg, b); minioCode(err) != "ServerSideEncryptionConfigurationNotFoundError" {
		t.Fatalf("GetBucketEncryption after removal: %v", err)
	}
	put("after-removal", nil)

	for _, tc := range []struct{ key, alg, kid string }{
		{"plain", "", ""},
		{"under-s3", "AES256", ""},
		{"under-kms", "aws:kms", ts.keyARN(keyID)},
		{"override-s3", "AES256", ""},
		{"after-removal", "", ""},
	} {
		alg, kid := statSSE(t, c, b, tc.key)
		if alg != tc.alg || kid != tc.kid {
			t.Errorf("%s: SSE %q key %q, want %q key %q", tc.key, alg, kid, tc.alg, tc.kid)
		}
		obj, err := c.GetObject(bg, b, tc.key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(mustReadAll(t, obj)); got != "data of "+tc.key {
			t.Errorf("%s: read %q", tc.key, got)
		}
		obj.Close()
	}
}

// TestMinioCopyReencryptInPlace: CopyObject onto itself with new SSE
// re-encrypts; without any change it is refused, as on S3.
func TestMinioCopyReencryptInPlace(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	keyID := ts.createKey(t)
	if err := c.MakeBucket(bg, "cpy", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	data := pattern(300_000, 4)
	if _, err := c.PutObject(bg, "cpy", "obj", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ServerSideEncryption: encrypt.NewSSE(), UserMetadata: map[string]string{"Keep": "me"},
	}); err != nil {
		t.Fatal(err)
	}
	src := minio.CopySrcOptions{Bucket: "cpy", Object: "obj"}
	if _, err := c.CopyObject(bg, minio.CopyDestOptions{Bucket: "cpy", Object: "obj"}, src); minioCode(err) != "InvalidRequest" {
		t.Fatalf("in-place copy without a change: %v, want InvalidRequest", err)
	}
	if _, err := c.CopyObject(bg, minio.CopyDestOptions{Bucket: "cpy", Object: "obj", Encryption: mustSSEKMS(t, keyID)}, src); err != nil {
		t.Fatalf("in-place re-encrypting copy: %v", err)
	}
	alg, kid := statSSE(t, c, "cpy", "obj")
	if alg != "aws:kms" || kid != ts.keyARN(keyID) {
		t.Fatalf("after re-encryption: SSE %q key %q", alg, kid)
	}
	st, _ := c.StatObject(bg, "cpy", "obj", minio.StatObjectOptions{})
	if st.UserMetadata["Keep"] != "me" {
		t.Fatalf("COPY directive lost the metadata: %v", st.UserMetadata)
	}
	// Copy to a new key without SSE headers: the destination does not
	// inherit the source's encryption (the bucket has no rule).
	if _, err := c.CopyObject(bg, minio.CopyDestOptions{Bucket: "cpy", Object: "copy"}, src); err != nil {
		t.Fatal(err)
	}
	if alg, _ := statSSE(t, c, "cpy", "copy"); alg != "" {
		t.Fatalf("copy inherited SSE %q from its source", alg)
	}
	for _, k := range []string{"obj", "copy"} {
		obj, err := c.GetObject(bg, "cpy", k, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := mustReadAll(t, obj); !bytes.Equal(got, data) {
			t.Fatalf("%s: content changed by the copy", k)
		}
		obj.Close()
	}
	// ComposeObject uses UploadPartCopy (UploadPartCopy decrypts the KMS
	// source and re-encrypts under the destination's SSE-S3 data key).
	big := pattern(6<<20, 5)
	if _, err := c.PutObject(bg, "cpy", "big", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ComposeObject(bg, minio.CopyDestOptions{Bucket: "cpy", Object: "composed", Encryption: encrypt.NewSSE()},
		minio.CopySrcOptions{Bucket: "cpy", Object: "big"}, minio.CopySrcOptions{Bucket: "cpy", Object: "obj"},
	); err != nil {
		t.Fatalf("ComposeObject: %v", err)
	}
	if alg, _ := statSSE(t, c, "cpy", "composed"); alg != "AES256" {
		t.Fatalf("composed object SSE %q", alg)
	}
	obj, err := c.GetObject(bg, "cpy", "composed", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustReadAll(t, obj); !bytes.Equal(got, append(append([]byte{}, big...), data...)) {
		t.Fatalf("composed object has other content (%d bytes)", len(got))
	}
	obj.Close()
}

// TestMinioKMSKeyStates: a disabled key fails reads and writes with
// KMS.DisabledException, an unknown key fails writes with
// KMS.NotFoundException, a key pending deletion with
// KMS.KMSInvalidStateException, and a principal without decrypt rights gets
// AccessDenied. HEAD never calls KMS.
func TestMinioKMSKeyStates(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	if err := c.MakeBucket(bg, "kms", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	keyID := ts.createKey(t)
	put := func(key string, s encrypt.ServerSide) error {
		_, err := c.PutObject(bg, "kms", key, strings.NewReader("secret"), 6, minio.PutObjectOptions{ServerSideEncryption: s})
		return err
	}
	get := func(c *minio.Client, key string) error {
		obj, err := c.GetObject(bg, "kms", key, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer obj.Close()
		_, err = io.ReadAll(obj)
		return err
	}
	if err := put("obj", mustSSEKMS(t, keyID)); err != nil {
		t.Fatal(err)
	}
	if err := put("x", mustSSEKMS(t, "00000000-0000-0000-0000-000000000000")); minioCode(err) != "KMS.NotFoundException" || minioStatus(err) != 400 {
		t.Fatalf("PutObject with an unknown key: %v (%d)", err, minioStatus(err))
	}

	bob := ts.minioClient(t, minio.BucketLookupPath, bobAK, bobSK)
	ts.authz.denyDecrypt("bob", keyID)
	if err := get(bob, "obj"); minioCode(err) != "AccessDenied" || minioStatus(err) != 403 {
		t.Fatalf("GetObject without decrypt permission: %v", err)
	}
	if _, err := bob.StatObject(bg, "kms", "obj", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("StatObject needs no decrypt permission: %v", err)
	}

	if err := ts.hz.DisableKey(bg, keyID); err != nil {
		t.Fatal(err)
	}
	if err := get(c, "obj"); minioCode(err) != "KMS.DisabledException" || minioStatus(err) != 400 {
		t.Fatalf("GetObject with a disabled key: %v", err)
	}
	if err := put("new", mustSSEKMS(t, keyID)); minioCode(err) != "KMS.DisabledException" {
		t.Fatalf("PutObject with a disabled key: %v", err)
	}
	if _, err := c.StatObject(bg, "kms", "obj", minio.StatObjectOptions{}); err != nil {
		t.Fatalf("StatObject with a disabled key: %v", err)
	}
	if err := ts.hz.EnableKey(bg, keyID); err != nil {
		t.Fatal(err)
	}
	if err := get(c, "obj"); err != nil {
		t.Fatalf("GetObject after re-enabling: %v", err)
	}
	if err := ts.hz.ScheduleKeyDeletion(bg, keyID, 7); err != nil {
		t.Fatal(err)
	}
	if err := get(c, "obj"); minioCode(err) != "KMS.KMSInvalidStateException" {
		t.Fatalf("GetObject with a key pending deletion: %v", err)
	}
}
