package osshttp

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// TestSignatureV2: the v1 SDK with AuthV2 (OSS2) signs headers and
// presigned URLs the reference verifies (it answered 400 before): bucket
// and object operations, keys needing escapes, sub-resources, an
// additional header, a presigned PUT and GET, a tampered URL and a wrong
// secret.
func TestSignatureV2(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK, oss1.AuthVersion(oss1.AuthV2), oss1.AdditionalHeaders([]string{"host"})).c
	must(t, c.CreateBucket("sigv2"))
	bk, err := c.Bucket("sigv2")
	must(t, err)
	for _, key := range []string{"plain", "dir/a b+c~!*'()&=.txt", "中文/键"} {
		must(t, bk.PutObject(key, strings.NewReader("v2 "+key), oss1.Meta("Mine", "x"), oss1.ContentType("text/plain")))
		rc, err := bk.GetObject(key, oss1.Range(0, 1))
		must(t, err)
		if got := readAll(t, rc); string(got) != "v2" {
			t.Fatalf("%q: %q", key, got)
		}
	}
	lr, err := bk.ListObjects(oss1.Prefix("dir/"), oss1.MaxKeys(10))
	must(t, err)
	if len(lr.Objects) != 1 {
		t.Fatalf("listing %+v", lr.Objects)
	}
	must(t, c.SetBucketACL("sigv2", oss1.ACLPrivate))
	if _, err := c.GetBucketInfo("sigv2"); err != nil {
		t.Fatal(err)
	}

	url, err := bk.SignURL("signed put", oss1.HTTPPut, 60)
	must(t, err)
	if !strings.Contains(url, "x-oss-signature-version=OSS2") {
		t.Fatalf("not a V2 URL: %s", url)
	}
	must(t, bk.PutObjectWithURL(url, strings.NewReader("by url")))
	url, err = bk.SignURL("signed put", oss1.HTTPGet, 60)
	must(t, err)
	resp, err := http.Get(url)
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "by url" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}
	resp, err = http.Get(strings.Replace(url, "signed%20put", "signed%20pot", 1))
	must(t, err)
	wantRawError(t, resp, 403, CodeSignatureDoesNotMatch)
	e.clk.Advance(2 * time.Minute) // the URL lives 60 s
	resp, err = http.Get(url)
	must(t, err)
	wantRawError(t, resp, 403, CodeAccessDenied)
	e.clk.Advance(-2 * time.Minute)

	bad := newV1(e, e.srv.URL, rootAK, "wrong-secret", oss1.AuthVersion(oss1.AuthV2)).c
	_, err = bad.GetBucketInfo("sigv2")
	wantErr(t, err, 403, CodeSignatureDoesNotMatch)
}
