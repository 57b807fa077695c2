package osshttp

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// Tests of behaviour the SDKs' own integration suites showed to differ
// from OSS (issue 13), each through the real SDKs.

// TestDeleteMultipleObjectsControlCharacters: keys holding control
// characters, which both SDKs send as character references XML 1.0
// forbids (&#x0C;), are deleted in a batch as OSS deletes them, like the
// v1 suite's TestDeleteObjects; refMark itself survives the mapping.
func TestDeleteMultipleObjectsControlCharacters(t *testing.T) {
	all := "\x01\x02\x03\x04\x05\x06\a\b\t\n\v\f\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1A\x1B\x1C\x1D\x1E\x1F"
	keys := []string{"\f", "\v", "k" + all + "k", "mark\uFDD0FFFE", "amp&#x0C;text"}
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "ctl-delete"
		must(t, c.CreateBucket(b, nil))
		for _, k := range keys {
			_, err := c.PutObject(b, k, []byte("v"), nil)
			must(t, err)
		}
		deleted, err := c.DeleteObjects(b, keys, false)
		must(t, err)
		slices.Sort(deleted)
		want := slices.Sorted(slices.Values(keys))
		if !slices.Equal(deleted, want) {
			t.Fatalf("deleted %q, want %q", deleted, want)
		}
		page, err := c.ListObjects(b, listOpts{})
		must(t, err)
		if len(page.keys) != 0 {
			t.Fatalf("left behind %q", page.keys)
		}
	})
}

// TestMarkIllegalRefs: the mapping is exact for what it marks and leaves
// everything else (comments, CDATA, malformed references) to
// encoding/xml.
func TestMarkIllegalRefs(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		bad              bool
	}{
		{"control characters", "<Delete><Object><Key>a&#x0C;b&#1;&#x1f;</Key></Object></Delete>", "a\fb\x01\x1f", false},
		{"allowed references unchanged", "<Delete><Object><Key>&#x9;&#65;&#xFFFD;</Key></Object></Delete>", "\tA\uFFFD", false},
		{"literal and referenced mark", "<Delete><Object><Key>\uFDD0000C&#xFDD0;</Key></Object></Delete>", "\uFDD0000C\uFDD0", false},
		{"nonchars", "<Delete><Object><Key>&#xFFFE;&#xFFFF;</Key></Object></Delete>", "\uFFFE\uFFFF", false},
		{"CDATA is literal", "<Delete><Object><Key><![CDATA[&#x0C;\uFDD0]]></Key></Object></Delete>", "&#x0C;\uFDD0", false},
		{"comment untouched", "<Delete><!-- &#x0C; --><Object><Key>k</Key></Object></Delete>", "k", false},
		{"surrogate", "<Delete><Object><Key>&#xD800;</Key></Object></Delete>", "", true},
		{"beyond Unicode", "<Delete><Object><Key>&#x110000;</Key></Object></Delete>", "", true},
		{"malformed reference", "<Delete><Object><Key>&#xZZ;</Key></Object></Delete>", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, _, e := parseDeleteRequest([]byte(tc.body))
			if tc.bad {
				if e == nil || e.Code != CodeMalformedXML {
					t.Fatalf("got %v %v, want MalformedXML", keys, e)
				}
				return
			}
			if e != nil || len(keys) != 1 || keys[0].key != tc.want {
				t.Fatalf("got %q %v, want %q", keys, e, tc.want)
			}
		})
	}
}

// TestNotImplementedLoggedAsInfo: a designed 501 is logged as "not
// implemented" at INFO, never at ERROR as if the server had failed.
func TestNotImplementedLoggedAsInfo(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil)
	_, err := c.c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr("nimpl")})
	must(t, err)
	_, err = c.c.GetBucketWorm(bg, &oss2.GetBucketWormRequest{Bucket: oss2.Ptr("nimpl")})
	wantErr(t, err, 501, CodeNotImplemented)
	logs := e.logs.String()
	if strings.Contains(logs, "level=ERROR") {
		t.Fatalf("a 501 was logged at ERROR:\n%s", logs)
	}
	if !strings.Contains(logs, `level=INFO msg="oss request not implemented"`) || !strings.Contains(logs, "subresources=worm") {
		t.Fatalf("no INFO line naming the sub-resource:\n%s", logs)
	}
	// A header asking for a feature not served here is named too.
	_, err = c.PutObject("nimpl", "k", []byte("x"), map[string]string{"x-oss-callback": "e30="})
	wantErr(t, err, 501, CodeNotImplemented)
	if logs := e.logs.String(); strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "header=x-oss-callback") {
		t.Fatalf("the 501 for x-oss-callback is not logged at INFO with its header:\n%s", logs)
	}
}

// TestCompleteLocationNamesServer: CompleteMultipartUpload's Location is
// the object's URL on the server the client used, in its addressing
// style, never a real Alibaba Cloud host.
func TestCompleteLocationNamesServer(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		name string
		c    *v2Client
		want string
	}{
		{"path", newV2(e, e.srv.URL, rootAK, rootSK, nil), "http://" + e.addr + "/loc/a%20b"},
		{"vhost", newV2(e, "http://localhost:"+e.port, rootAK, rootSK, func(c *oss2.Config) { c.WithHttpClient(e.loopbackClient()) }),
			"http://loc.localhost:" + e.port + "/a%20b"},
	} {
		if tc.name == "path" {
			_, err := tc.c.c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr("loc")})
			must(t, err)
		}
		id, _, err := tc.c.InitiateMultipart("loc", "a b", nil)
		must(t, err)
		etag, _, err := tc.c.UploadPart("loc", "a b", id, 1, []byte("x"), nil)
		must(t, err)
		r, err := tc.c.c.CompleteMultipartUpload(bg, &oss2.CompleteMultipartUploadRequest{Bucket: oss2.Ptr("loc"), Key: oss2.Ptr("a b"),
			UploadId: oss2.Ptr(id), CompleteMultipartUpload: &oss2.CompleteMultipartUpload{Parts: []oss2.UploadPart{{PartNumber: 1, ETag: oss2.Ptr(etag)}}}})
		must(t, err)
		if got := oss2.ToString(r.Location); got != tc.want {
			t.Errorf("%s: Location %q, want %q", tc.name, got, tc.want)
		}
	}
}

// ossMultipartETag is OSS's multipart ETag, computed independently of the
// store: MD5 over the parts' MD5s as upper-case hex, then "-N".
func ossMultipartETag(data []byte, partSize int) string {
	var cat strings.Builder
	n := 0
	for off := 0; off < len(data); off += partSize {
		s := md5.Sum(data[off:min(off+partSize, len(data))])
		cat.WriteString(strings.ToUpper(hex.EncodeToString(s[:])))
		n++
	}
	s := md5.Sum([]byte(cat.String()))
	return `"` + strings.ToUpper(hex.EncodeToString(s[:])) + "-" + strconv.Itoa(n) + `"`
}

// v1SampleImage is the picture the v1 SDK's own tests upload, read from
// the module cache when it is there.
func v1SampleImage(t *testing.T) []byte {
	dirs := []string{os.Getenv("GOMODCACHE")}
	if gp := os.Getenv("GOPATH"); gp != "" {
		dirs = append(dirs, filepath.Join(gp, "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "pkg", "mod"))
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "github.com/aliyun/aliyun-oss-go-sdk@v3.0.2+incompatible/sample/BingWallpaper-2015-11-07.jpg"))
		if err == nil {
			return b
		}
	}
	return nil
}

// TestMultipartETagOSSRule: an OSS multipart ETag follows OSS's rule, the
// one the v1 SDK's TestDownloadRoutineWithRecovery pins for its sample
// image in 100 KiB parts, through both SDKs' upload helpers.
func TestMultipartETagOSSRule(t *testing.T) {
	e := newTestEnv(t)
	c1 := newV1(e, "http://"+e.addr, rootAK, rootSK)
	must(t, c1.c.CreateBucket("etag"))
	b1 := c1.bucket("etag")
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"payload", payload(5*100*1024+123, 9), ossMultipartETag(payload(5*100*1024+123, 9), 100*1024)},
	}
	if img := v1SampleImage(t); img != nil {
		cases = append(cases, struct {
			name string
			data []byte
			want string
		}{"v1 sample image", img, `"2351E662233817A7AE974D8C5B0876DD-5"`})
	} else {
		t.Log("the v1 SDK's sample image is not in the module cache; its pinned ETag is not checked")
	}
	for _, tc := range cases {
		file := filepath.Join(dir, "f")
		must(t, writeFile(file, tc.data))
		must(t, b1.UploadFile("v1-"+tc.name, file, 100*1024, oss1.Routines(3)))
		h, err := b1.GetObjectDetailedMeta("v1-" + tc.name)
		must(t, err)
		if got := h.Get("Etag"); got != tc.want {
			t.Errorf("v1 %s: ETag %s, want %s", tc.name, got, tc.want)
		}
		c2 := newV2(e, e.srv.URL, rootAK, rootSK, nil)
		u := c2.c.NewUploader(func(o *oss2.UploaderOptions) { o.PartSize = 100 * 1024 })
		r, err := u.UploadFrom(bg, &oss2.PutObjectRequest{Bucket: oss2.Ptr("etag"), Key: oss2.Ptr("v2-" + tc.name)}, bytes.NewReader(tc.data))
		must(t, err)
		if got := oss2.ToString(r.ETag); got != tc.want {
			t.Errorf("v2 %s: ETag %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestCompleteWithNoParts: completing an upload with no parts makes an
// empty object, as OSS does; the v2 SDK's uploader relies on it for an
// empty stream of unknown length (its TestUploaderUploadFromTeeReader).
// The object keeps the upload's encryption.
func TestCompleteWithNoParts(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil)
	must(t, c.CreateBucket("empty", sseHdr("KMS", "")))
	u := c.c.NewUploader(func(o *oss2.UploaderOptions) { o.PartSize = 100 * 1024 })
	r, err := u.UploadFrom(bg, &oss2.PutObjectRequest{Bucket: oss2.Ptr("empty"), Key: oss2.Ptr("k")},
		io.TeeReader(strings.NewReader(""), io.Discard))
	must(t, err)
	if r.UploadId == nil || oss2.ToString(r.HashCRC64) != "0" {
		t.Fatalf("upload result: id %v, crc %q", r.UploadId, oss2.ToString(r.HashCRC64))
	}
	data, h, err := c.GetObject("empty", "k", nil)
	must(t, err)
	if len(data) != 0 || h.Get("Content-Length") != "0" || h.Get("X-Oss-Object-Type") != "Multipart" ||
		h.Get("Etag") != `"D41D8CD98F00B204E9800998ECF8427E-0"` {
		t.Fatalf("empty object: %d bytes, headers %v", len(data), h)
	}
	wantSSE(t, "GET", h, "KMS", e.serviceKeyID())
}

// TestBucketStorageClasses: buckets of every class OSS accepts are created
// and report their class (the v1 suite's set-up creates an Archive bucket;
// its TestCreateBucketWithStorageClass and TestRestoreObject), objects
// written to one without a class get it, an archived object reads without
// a restore, and RestoreObject is accepted for archive classes.
func TestBucketStorageClasses(t *testing.T) {
	e := newTestEnv(t)
	c1 := newV1(e, "http://"+e.addr, rootAK, rootSK)
	c2 := newV2(e, e.srv.URL, rootAK, rootSK, nil)
	for _, class := range []string{"Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"} {
		for _, sdk := range []string{"v1", "v2"} {
			b := strings.ToLower(sdk + "-" + class)
			if sdk == "v1" {
				must(t, c1.c.CreateBucket(b, oss1.StorageClass(oss1.StorageClassType(class))))
				info, err := c1.c.GetBucketInfo(b)
				must(t, err)
				if info.BucketInfo.StorageClass != class {
					t.Fatalf("v1 GetBucketInfo of a %s bucket: %q", class, info.BucketInfo.StorageClass)
				}
			} else {
				_, err := c2.c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b),
					CreateBucketConfiguration: &oss2.CreateBucketConfiguration{StorageClass: oss2.StorageClassType(class)}})
				must(t, err)
				info, err := c2.c.GetBucketInfo(bg, &oss2.GetBucketInfoRequest{Bucket: oss2.Ptr(b)})
				must(t, err)
				if got := oss2.ToString(info.BucketInfo.StorageClass); got != class {
					t.Fatalf("v2 GetBucketInfo of a %s bucket: %q", class, got)
				}
			}
			lb, err := c1.c.ListBuckets(oss1.Prefix(b))
			must(t, err)
			if len(lb.Buckets) != 1 || lb.Buckets[0].StorageClass != class {
				t.Fatalf("ListBuckets of a %s bucket: %+v", class, lb.Buckets)
			}
			bk := c1.bucket(b)
			must(t, bk.PutObject("o", strings.NewReader("data")))
			lor, err := bk.ListObjects()
			must(t, err)
			if len(lor.Objects) != 1 || lor.Objects[0].StorageClass != class || lor.Objects[0].Type != "Normal" {
				t.Fatalf("object in a %s bucket listed as %+v", class, lor.Objects)
			}
			meta, err := bk.GetObjectDetailedMeta("o")
			must(t, err)
			if meta.Get("X-Oss-Storage-Class") != class || meta.Get("X-Oss-Restore") != "" {
				t.Fatalf("HEAD of an object in a %s bucket: %v", class, meta)
			}
			got, _, err := c1.GetObject(b, "o", nil)
			must(t, err)
			if string(got) != "data" {
				t.Fatalf("GET in a %s bucket: %q", class, got)
			}
			err = bk.RestoreObject("o")
			if archiveClasses[class] {
				must(t, err)
				// A second restore while the first is in progress.
				_, err = c2.c.RestoreObject(bg, &oss2.RestoreObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr("o"),
					RestoreRequest: &oss2.RestoreRequest{Days: 2, Tier: oss2.Ptr("Bulk")}})
				wantErr(t, err, 409, "RestoreAlreadyInProgress")
			} else {
				wantErr(t, err, 400, CodeOperationNotSupported)
			}
			wantErr(t, bk.RestoreObject("notexistobject"), 404, CodeNoSuchKey)
		}
	}
	err := c1.c.CreateBucket("bad-class", oss1.StorageClass("Cold"))
	wantErr(t, err, 400, CodeInvalidArgument)
}

// TestCopyObjectVersionHeaders: a copy in a versioned bucket answers the
// new object's x-oss-version-id and the source's
// x-oss-copy-source-version-id, also when the source was not addressed by
// version (the current one is copied), as OSS does.
func TestCopyObjectVersionHeaders(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "copy-versions"
		must(t, c.CreateBucket(b, nil))
		_, err := c.PutObject(b, "before", []byte("unversioned"), nil)
		must(t, err)
		must(t, versionsOf(c).PutVersioning(b, "Enabled"))
		ph, err := c.PutObject(b, "src", []byte("v1"), nil)
		must(t, err)
		srcVersion := ph.Get("X-Oss-Version-Id")
		if srcVersion == "" {
			t.Fatal("PutObject in a versioned bucket: no x-oss-version-id")
		}
		for _, tc := range []struct{ src, wantSrc string }{
			{"src", srcVersion},
			{"before", "null"}, // written before versioning: the null version
		} {
			_, _, h, err := c.CopyObject(b, tc.src, "dst", nil)
			must(t, err)
			if got := h.Get("X-Oss-Copy-Source-Version-Id"); got != tc.wantSrc {
				t.Errorf("copy of %s: x-oss-copy-source-version-id %q, want %q", tc.src, got, tc.wantSrc)
			}
			dst, err := c.HeadObject(b, "dst")
			must(t, err)
			if v := h.Get("X-Oss-Version-Id"); v == "" || v == tc.wantSrc || v != dst.Get("X-Oss-Version-Id") {
				t.Errorf("copy of %s: x-oss-version-id %q, the copy's is %q", tc.src, v, dst.Get("X-Oss-Version-Id"))
			}
		}
		// Unversioned buckets answer neither header.
		must(t, c.CreateBucket("copy-plain", nil))
		_, err = c.PutObject("copy-plain", "src", []byte("x"), nil)
		must(t, err)
		_, _, h, err := c.CopyObject("copy-plain", "src", "dst", nil)
		must(t, err)
		if h.Get("X-Oss-Copy-Source-Version-Id") != "" || h.Get("X-Oss-Version-Id") != "" {
			t.Errorf("unversioned copy: version headers %v", h)
		}
	})
}

// TestListLiveChannelEmpty: ListLiveChannel answers no channels (none can
// exist here), so the v1 suite's ForceDeleteBucket, which lists them
// before deleting a bucket, works; creating one stays 501.
func TestListLiveChannelEmpty(t *testing.T) {
	e := newTestEnv(t)
	c1 := newV1(e, "http://"+e.addr, rootAK, rootSK)
	must(t, c1.c.CreateBucket("live"))
	r, err := c1.bucket("live").ListLiveChannel(oss1.Marker(""))
	must(t, err)
	if len(r.LiveChannel) != 0 || r.IsTruncated || r.MaxKeys != 100 {
		t.Fatalf("ListLiveChannel %+v", r)
	}
	_, err = c1.bucket("nosuch").ListLiveChannel()
	wantErr(t, err, 404, CodeNoSuchBucket)
	_, err = c1.bucket("live").CreateLiveChannel("ch", oss1.LiveChannelConfiguration{Target: oss1.LiveChannelTarget{Type: "HLS"}})
	wantErr(t, err, 501, CodeNotImplemented)
}
