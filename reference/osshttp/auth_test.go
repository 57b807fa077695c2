package osshttp

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

func TestAuthenticationErrors(t *testing.T) {
	for _, f := range flavors {
		t.Run(f.name, func(t *testing.T) {
			e := newTestEnv(t)
			root := f.mk(e, rootAK, rootSK)
			must(t, root.CreateBucket("authn", nil))
			_, err := root.PutObject("authn", "o", []byte("hello"), nil)
			must(t, err)

			_, _, err = f.mk(e, rootAK, "wrong-secret").GetObject("authn", "o", nil)
			wantErr(t, err, 403, CodeSignatureDoesNotMatch)
			if _, _, ec := svcErr(err); ec != "0002-00000040" {
				t.Fatalf("EC %q", ec)
			}
			_, err = f.mk(e, rootAK, "wrong-secret").PutObject("authn", "o", []byte("x"), sseHdr("AES256", ""))
			wantErr(t, err, 403, CodeSignatureDoesNotMatch)
			_, err = f.mk(e, "LTAI5tNoSuchKey00000", rootSK).ListBuckets("")
			wantErr(t, err, 403, CodeInvalidAccessKeyID)
			if _, _, ec := svcErr(err); ec != "0002-00000902" {
				t.Fatalf("EC %q", ec)
			}
			_, err = f.mk(e, "LTAI5tNoSuchKey00000", rootSK).HeadObject("authn", "o")
			wantErr(t, err, 403, CodeInvalidAccessKeyID)

			// The server clock 20 minutes ahead: the v1 SDK fails with
			// RequestTimeTooSkewed; the v2 SDK corrects its clock from the
			// response Date and retries successfully.
			e.clk.Advance(20 * time.Minute)
			_, _, err = f.mk(e, rootAK, rootSK).GetObject("authn", "o", nil)
			if strings.HasPrefix(f.name, "v1") {
				wantErr(t, err, 403, CodeRequestTimeTooSkewed)
			} else if err != nil {
				t.Fatalf("v2 did not recover from clock skew: %v", err)
			}
			e.clk.Advance(-20 * time.Minute)
			if _, _, err := root.GetObject("authn", "o", nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestV4WrongRegion(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, func(cfg *oss2.Config) { cfg.WithRegion("cn-shanghai") })
	_, err := c.ListBuckets("")
	wantErr(t, err, 400, CodeInvalidArgument)
	c1 := newV1(e, e.srv.URL, rootAK, rootSK, oss1.AuthVersion(oss1.AuthV4), oss1.Region("cn-beijing"))
	_, err = c1.ListBuckets("")
	wantErr(t, err, 400, CodeInvalidArgument)
}

// presign returns a presigned GET (or PUT) URL made by the flavor's SDK.
func presign(t *testing.T, c sdkClient, method, b, k string, expires time.Duration) string {
	t.Helper()
	switch c := c.(type) {
	case *v1Client:
		bk, err := c.c.Bucket(b)
		must(t, err)
		m := oss1.HTTPGet
		if method == http.MethodPut {
			m = oss1.HTTPPut
		}
		u, err := bk.SignURL(k, m, int64(expires/time.Second))
		must(t, err)
		return u
	case *v2Client:
		var req any = &oss2.GetObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k)}
		if method == http.MethodPut {
			req = &oss2.PutObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k)}
		}
		r, err := c.c.Presign(bg, req, oss2.PresignExpires(expires))
		must(t, err)
		return r.URL
	}
	t.Fatal("unknown client")
	return ""
}

func TestPresignedURLs(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "presign"
		must(t, c.CreateBucket(b, nil))
		data := []byte("presigned content")
		k := "dir/a b+c.txt"
		_, err := c.PutObject(b, k, data, sseHdr("KMS", ""))
		must(t, err)
		hc := e.loopbackClient()

		u := presign(t, c, http.MethodGet, b, k, time.Hour)
		resp, err := hc.Get(u)
		must(t, err)
		got := readAll(t, resp.Body)
		if resp.StatusCode != 200 || !bytes.Equal(got, data) || resp.Header.Get("X-Oss-Server-Side-Encryption") != "KMS" {
			t.Fatalf("presigned GET %s: %d %q", u, resp.StatusCode, got)
		}

		// Tampering with the URL breaks the signature.
		tampered := strings.Replace(u, "a%20b", "a%20c", 1)
		if tampered == u {
			tampered = strings.Replace(u, "presign", "presigx", 1)
		}
		resp, err = hc.Get(tampered)
		must(t, err)
		body := readAll(t, resp.Body)
		if resp.StatusCode != 403 && resp.StatusCode != 404 {
			t.Fatalf("tampered URL: %d %s", resp.StatusCode, body)
		}

		// A PUT URL.
		pu := presign(t, c, http.MethodPut, b, "uploaded", time.Hour)
		req, err := http.NewRequest(http.MethodPut, pu, bytes.NewReader([]byte("via url")))
		must(t, err)
		resp, err = hc.Do(req)
		must(t, err)
		body = readAll(t, resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("ETag") != etagOf([]byte("via url")) {
			t.Fatalf("presigned PUT: %d %s", resp.StatusCode, body)
		}

		// An expired URL: 403 AccessDenied.
		e.clk.Advance(2 * time.Hour)
		resp, err = hc.Get(u)
		must(t, err)
		body = readAll(t, resp.Body)
		if resp.StatusCode != 403 || !bytes.Contains(body, []byte("<Code>AccessDenied</Code>")) {
			t.Fatalf("expired URL: %d %s", resp.StatusCode, body)
		}
		e.clk.Advance(-2 * time.Hour)
	})
}

// TestSDKIntegrityChecks exercises the SDK paths that verify CRC-64 on
// download and on combined multipart uploads, and MD5 on upload.
func TestSDKIntegrityChecks(t *testing.T) {
	e := newTestEnv(t)
	dir := t.TempDir()
	data := payload(3*MinPartSize+123, 30)

	t.Run("v1", func(t *testing.T) {
		c, err := oss1.New(e.srv.URL, rootAK, rootSK, oss1.EnableMD5(true))
		must(t, err)
		must(t, c.CreateBucket("integrity-v1", oss1.ServerSideEncryption("KMS")))
		bk, err := c.Bucket("integrity-v1")
		must(t, err)
		must(t, bk.PutObject("obj", bytes.NewReader(data)))
		must(t, bk.GetObjectToFile("obj", dir+"/v1.bin"))
		// Resumable upload and download (multipart, parallel ranges).
		src := dir + "/src.bin"
		must(t, writeFile(src, data))
		must(t, bk.UploadFile("mp", src, MinPartSize, oss1.Routines(2)))
		must(t, bk.DownloadFile("mp", dir+"/v1-mp.bin", MinPartSize, oss1.Routines(2)))
		got, err := readFile(dir + "/v1-mp.bin")
		must(t, err)
		if !bytes.Equal(got, data) {
			t.Fatal("v1 DownloadFile content")
		}
		// A wrong Content-MD5 is refused.
		err = bk.PutObject("bad-md5", bytes.NewReader([]byte("abc")), oss1.ContentMD5("1B2M2Y8AsgTpgAmY7PhCfg=="))
		wantErr(t, err, 400, CodeInvalidDigest)
		err = bk.PutObject("bad-md5", bytes.NewReader([]byte("abc")), oss1.ContentMD5("not base64!"))
		wantErr(t, err, 400, CodeInvalidDigest)
		// SetObjectMeta is an in-place copy.
		must(t, bk.SetObjectMeta("obj", oss1.Meta("set", "yes"), oss1.ServerSideEncryption("AES256")))
		h, err := bk.GetObjectDetailedMeta("obj")
		must(t, err)
		if h.Get("X-Oss-Meta-Set") != "yes" || h.Get("X-Oss-Server-Side-Encryption") != "AES256" {
			t.Fatalf("after SetObjectMeta: %v", h)
		}
		ok, err := bk.IsObjectExist("obj")
		if err != nil || !ok {
			t.Fatalf("IsObjectExist %v %v", ok, err)
		}
		ok, err = c.IsBucketExist("integrity-v1")
		if err != nil || !ok {
			t.Fatalf("IsBucketExist %v %v", ok, err)
		}
	})

	t.Run("v2", func(t *testing.T) {
		c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
		_, err := c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr("integrity-v2")})
		must(t, err)
		up := c.NewUploader(func(o *oss2.UploaderOptions) { o.PartSize = MinPartSize; o.ParallelNum = 2 })
		res, err := up.UploadFrom(bg, &oss2.PutObjectRequest{Bucket: oss2.Ptr("integrity-v2"), Key: oss2.Ptr("mp"),
			ServerSideEncryption: oss2.Ptr("KMS")}, bytes.NewReader(data))
		must(t, err)
		if oss2.ToString(res.HashCRC64) != crcOf(data) {
			t.Fatalf("uploader crc %q", oss2.ToString(res.HashCRC64))
		}
		_, err = c.GetObjectToFile(bg, &oss2.GetObjectRequest{Bucket: oss2.Ptr("integrity-v2"), Key: oss2.Ptr("mp")}, dir+"/v2.bin")
		must(t, err)
		dl := c.NewDownloader(func(o *oss2.DownloaderOptions) { o.PartSize = MinPartSize; o.ParallelNum = 2 })
		_, err = dl.DownloadFile(bg, &oss2.GetObjectRequest{Bucket: oss2.Ptr("integrity-v2"), Key: oss2.Ptr("mp")}, dir+"/v2-dl.bin")
		must(t, err)
		got, err := readFile(dir + "/v2-dl.bin")
		must(t, err)
		if !bytes.Equal(got, data) {
			t.Fatal("v2 downloader content")
		}
		ok, err := c.IsBucketExist(bg, "integrity-v2")
		if err != nil || !ok {
			t.Fatalf("IsBucketExist %v %v", ok, err)
		}
		ok, err = c.IsBucketExist(bg, "nope-bucket")
		if err != nil || ok {
			t.Fatalf("IsBucketExist(nope) %v %v", ok, err)
		}
		ok, err = c.IsObjectExist(bg, "integrity-v2", "mp")
		if err != nil || !ok {
			t.Fatalf("IsObjectExist %v %v", ok, err)
		}
		ok, err = c.IsObjectExist(bg, "integrity-v2", "nope")
		if err != nil || ok {
			t.Fatalf("IsObjectExist(nope) %v %v", ok, err)
		}
		// Paginators walk V2 listings with continuation tokens.
		for i := range 5 {
			_, err := c.PutObject(bg, &oss2.PutObjectRequest{Bucket: oss2.Ptr("integrity-v2"), Key: oss2.Ptr("p/" + itoa(i)), Body: strings.NewReader("x")})
			must(t, err)
		}
		pg := c.NewListObjectsV2Paginator(&oss2.ListObjectsV2Request{Bucket: oss2.Ptr("integrity-v2"), Prefix: oss2.Ptr("p/"), MaxKeys: 2})
		n := 0
		for pg.HasNext() {
			page, err := pg.NextPage(bg)
			must(t, err)
			n += len(page.Contents)
		}
		if n != 5 {
			t.Fatalf("paginator saw %d objects", n)
		}
		// A body whose Content-MD5 does not match.
		_, err = c.PutObject(bg, &oss2.PutObjectRequest{Bucket: oss2.Ptr("integrity-v2"), Key: oss2.Ptr("bad"),
			Body: strings.NewReader("abc"), ContentMD5: oss2.Ptr("1B2M2Y8AsgTpgAmY7PhCfg==")})
		wantErr(t, err, 400, CodeInvalidDigest)
	})
}
