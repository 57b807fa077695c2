package osshttp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// TestOSSSymlinkV1 replays the v1 SDK suite's TestSymlink and adds what it
// leaves implicit: GetSymlink of a missing key and of a normal object
// fail, a link may be made before its target, GET of a dangling link is
// 404 SymlinkTargetNotExist, GET follows a link to the target's content,
// ListObjects says Symlink, a PutObject over a link replaces it, and
// targets with characters the v1 SDK URL-encodes round-trip.
func TestOSSSymlinkV1(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	const b = "links"
	must(t, c.CreateBucket(b))
	bk, err := c.Bucket(b)
	must(t, err)
	for _, tc := range []struct{ name, link, target string }{
		{"plain", "obj-link", "obj-target"},
		{"encoded", "dir/the link+1", "dir/target with space+plus/é%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := bk.GetSymlink(tc.link); err == nil {
				t.Fatal("GetSymlink of a missing key succeeded")
			} else {
				wantErr(t, err, http.StatusNotFound, CodeNoSuchKey)
			}
			must(t, bk.PutSymlink(tc.link, tc.target))
			if _, err := bk.GetObject(tc.link); err == nil {
				t.Fatal("GET of a dangling link succeeded")
			} else {
				wantErr(t, err, http.StatusNotFound, CodeSymlinkTargetNotExist)
			}
			must(t, bk.PutObject(tc.target, strings.NewReader("target")))
			must(t, bk.PutSymlink(tc.link, tc.target))
			meta, err := bk.GetSymlink(tc.link)
			must(t, err)
			if got := meta.Get(oss1.HTTPHeaderOssSymlinkTarget); got != tc.target {
				t.Fatalf("GetSymlink target %q, want %q", got, tc.target)
			}
			if meta.Get("ETag") == "" || meta.Get("Last-Modified") == "" {
				t.Fatalf("GetSymlink: no ETag or Last-Modified: %v", meta)
			}
			lor, err := bk.ListObjects(oss1.Prefix(tc.link))
			must(t, err)
			if len(lor.Objects) != 1 || lor.Objects[0].Key != tc.link || lor.Objects[0].Type != "Symlink" {
				t.Fatalf("ListObjects: %+v, want %q of type Symlink", lor.Objects, tc.link)
			}
			body, err := bk.GetObject(tc.link)
			must(t, err)
			if got := string(readAll(t, body)); got != "target" {
				t.Fatalf("GET through the link: %q", got)
			}
			if _, err := bk.GetSymlink(tc.target); err == nil {
				t.Fatal("GetSymlink of a normal object succeeded")
			} else {
				wantErr(t, err, http.StatusBadRequest, CodeNotSymlink)
			}
			must(t, bk.PutObject(tc.link, strings.NewReader("src")))
			body, err = bk.GetObject(tc.link)
			must(t, err)
			if got := string(readAll(t, body)); got != "src" {
				t.Fatalf("GET after PutObject over the link: %q", got)
			}
			must(t, bk.DeleteObject(tc.link))
			must(t, bk.DeleteObject(tc.target))
		})
	}
}

// TestOSSSymlinkHead: HEAD (and GetObjectMeta) of a link report the
// target's length, ETag and encryption with object type Symlink, for a
// plain, an SSE-OSS and an SSE-KMS target; the link itself has no
// encryption (SSE headers on PutSymlink are refused), and its own user
// metadata is what GetSymlink returns.
func TestOSSSymlinkHead(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	const b = "link-heads"
	must(t, c.CreateBucket(b))
	bk, err := c.Bucket(b)
	must(t, err)
	for _, tc := range []struct{ name, alg string }{{"plain", ""}, {"sse-oss", "AES256"}, {"sse-kms", "KMS"}} {
		t.Run(tc.name, func(t *testing.T) {
			target, link := "t-"+tc.name, "l-"+tc.name
			var opts []oss1.Option
			if tc.alg != "" {
				opts = append(opts, oss1.ServerSideEncryption(tc.alg))
			}
			must(t, bk.PutObject(target, strings.NewReader("twelve bytes"), opts...))
			tm, err := bk.GetObjectDetailedMeta(target)
			must(t, err)
			must(t, bk.PutSymlink(link, target, oss1.Meta("owner", "links-team")))
			for name, get := range map[string]func() (http.Header, error){
				"HEAD":          func() (http.Header, error) { return bk.GetObjectDetailedMeta(link) },
				"GetObjectMeta": func() (http.Header, error) { return bk.GetObjectMeta(link) },
			} {
				m, err := get()
				must(t, err)
				if m.Get("Content-Length") != "12" || m.Get("ETag") != tm.Get("ETag") {
					t.Fatalf("%s of the link: length %q ETag %q, want the target's 12 and %q", name, m.Get("Content-Length"), m.Get("ETag"), tm.Get("ETag"))
				}
			}
			m, err := bk.GetObjectDetailedMeta(link)
			must(t, err)
			if m.Get("X-Oss-Object-Type") != "Symlink" || m.Get(hSSE) != tc.alg || m.Get(hSSEKeyID) != tm.Get(hSSEKeyID) {
				t.Fatalf("HEAD of the link: type %q SSE %q key %q, want Symlink, the target's %q %q",
					m.Get("X-Oss-Object-Type"), m.Get(hSSE), m.Get(hSSEKeyID), tc.alg, tm.Get(hSSEKeyID))
			}
			sm, err := bk.GetSymlink(link)
			must(t, err)
			if sm.Get("X-Oss-Meta-Owner") != "links-team" || sm.Get(hSSE) != "" {
				t.Fatalf("GetSymlink: meta %q SSE %q", sm.Get("X-Oss-Meta-Owner"), sm.Get(hSSE))
			}
			if err := bk.PutSymlink(link+"-enc", target, oss1.ServerSideEncryption("AES256")); err == nil {
				t.Fatal("PutSymlink with an SSE header succeeded")
			} else {
				wantErr(t, err, http.StatusBadRequest, CodeInvalidArgument)
			}
		})
	}
}

// TestOSSSymlinkWrites: x-oss-forbid-overwrite on PutSymlink is 409
// FileAlreadyExists when the key exists; a link to a link is not followed;
// DeleteObject of a link leaves the target; CopyObject of a link makes a
// link to the same target (OSS copies only the link) and refuses SSE
// headers; UploadPartCopy from a link is refused (400).
func TestOSSSymlinkWrites(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	const b = "link-writes"
	must(t, c.CreateBucket(b))
	bk, err := c.Bucket(b)
	must(t, err)
	must(t, bk.PutObject("target", strings.NewReader("data")))
	must(t, bk.PutSymlink("link", "target", oss1.ForbidOverWrite(true)))
	if err := bk.PutSymlink("link", "other", oss1.ForbidOverWrite(true)); err == nil {
		t.Fatal("PutSymlink with x-oss-forbid-overwrite over an existing key succeeded")
	} else {
		wantErr(t, err, http.StatusConflict, CodeFileAlreadyExists)
	}
	must(t, bk.PutSymlink("link2", "link"))
	if _, err := bk.GetObject("link2"); err == nil {
		t.Fatal("GET of a link to a link succeeded")
	} else {
		wantErr(t, err, http.StatusNotFound, CodeSymlinkTargetNotExist)
	}
	if _, err := bk.CopyObject("link", "copy"); err != nil {
		t.Fatal(err)
	}
	m, err := bk.GetSymlink("copy")
	must(t, err)
	if m.Get(oss1.HTTPHeaderOssSymlinkTarget) != "target" {
		t.Fatalf("copy of a link: target %q", m.Get(oss1.HTTPHeaderOssSymlinkTarget))
	}
	if _, err := bk.CopyObject("link", "copy-enc", oss1.ServerSideEncryption("KMS")); err == nil {
		t.Fatal("CopyObject of a link with an SSE header succeeded")
	} else {
		wantErr(t, err, http.StatusBadRequest, CodeInvalidArgument)
	}
	imur, err := bk.InitiateMultipartUpload("mp")
	must(t, err)
	if _, err := bk.UploadPartCopy(imur, b, "link", 0, 4, 1); err == nil {
		t.Fatal("UploadPartCopy from a link succeeded")
	} else {
		wantErr(t, err, http.StatusBadRequest, CodeInvalidArgument)
	}
	must(t, bk.AbortMultipartUpload(imur))
	must(t, bk.DeleteObject("link"))
	body, err := bk.GetObject("copy")
	must(t, err)
	if got := string(readAll(t, body)); got != "data" {
		t.Fatalf("GET through the copied link after deleting the first: %q", got)
	}
}

// TestOSSVersioningSymlink replays the v1 suite's TestVersioningSymlink:
// each PutSymlink in an Enabled bucket is a new version, GetSymlink with
// a version id returns that version's target, and GET of an old link
// version follows its own target; ListObjectVersions says Symlink.
func TestOSSVersioningSymlink(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	const b = "versioned-links"
	must(t, c.CreateBucket(b))
	must(t, c.SetBucketVersioning(b, oss1.VersioningConfig{Status: string(oss1.VersionEnabled)}))
	bk, err := c.Bucket(b)
	must(t, err)
	must(t, bk.PutObject("o1", strings.NewReader("one")))
	must(t, bk.PutObject("o2", strings.NewReader("two")))
	var hdr http.Header
	must(t, bk.PutSymlink("link", "o1", oss1.GetResponseHeader(&hdr)))
	v1 := oss1.GetVersionId(hdr)
	must(t, bk.PutSymlink("link", "o2", oss1.GetResponseHeader(&hdr)))
	v2 := oss1.GetVersionId(hdr)
	if v1 == "" || v2 == "" || v1 == v2 {
		t.Fatalf("link version ids %q and %q, want two distinct ids", v1, v2)
	}
	for _, tc := range []struct{ version, target, body string }{{v1, "o1", "one"}, {v2, "o2", "two"}} {
		m, err := bk.GetSymlink("link", oss1.VersionId(tc.version))
		must(t, err)
		if m.Get("x-oss-symlink-target") != tc.target || oss1.GetVersionId(m) != tc.version {
			t.Fatalf("GetSymlink version %s: target %q version %q, want %q", tc.version, m.Get("x-oss-symlink-target"), oss1.GetVersionId(m), tc.target)
		}
		body, err := bk.GetObject("link", oss1.VersionId(tc.version))
		must(t, err)
		if got := string(readAll(t, body)); got != tc.body {
			t.Fatalf("GET link version %s: %q, want %q", tc.version, got, tc.body)
		}
	}
	lv, err := bk.ListObjectVersions(oss1.Prefix("link"))
	must(t, err)
	if len(lv.ObjectVersions) != 2 || lv.ObjectVersions[0].Type != "Symlink" || lv.ObjectVersions[1].Type != "Symlink" {
		t.Fatalf("ListObjectVersions of the link: %+v, want two versions of type Symlink", lv.ObjectVersions)
	}
}

// TestOSSSymlinkV2 replays the v2 SDK suite's TestPutSymlink and
// TestGetSymlink: 200 with a request id, a version id once versioning is
// enabled, the ETag and target from GetSymlink, and NoSuchBucket with
// its EC for a missing bucket.
func TestOSSSymlinkV2(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	ctx := context.Background()
	const b = "links-v2"
	_, err := c.PutBucket(ctx, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	_, err = c.PutObject(ctx, &oss2.PutObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr("obj"), Body: strings.NewReader("body")})
	must(t, err)
	check := func(versioned bool) {
		t.Helper()
		pr, err := c.PutSymlink(ctx, &oss2.PutSymlinkRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr("obj-symlink"), Target: oss2.Ptr("obj"),
			Metadata: map[string]string{"k": "v"}})
		must(t, err)
		if pr.StatusCode != 200 || pr.Headers.Get("X-Oss-Request-Id") == "" || versioned != (pr.VersionId != nil && *pr.VersionId != "") {
			t.Fatalf("PutSymlink (versioned %v): status %d request id %q version %v", versioned, pr.StatusCode, pr.Headers.Get("X-Oss-Request-Id"), pr.VersionId)
		}
		gr, err := c.GetSymlink(ctx, &oss2.GetSymlinkRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr("obj-symlink")})
		must(t, err)
		if gr.StatusCode != 200 || gr.ETag == nil || *gr.ETag == "" || gr.Target == nil || *gr.Target != "obj" || gr.Metadata["k"] != "v" {
			t.Fatalf("GetSymlink: %+v", gr)
		}
		if versioned && (gr.VersionId == nil || *gr.VersionId != *pr.VersionId) {
			t.Fatalf("GetSymlink version %v, want %v", gr.VersionId, *pr.VersionId)
		}
	}
	check(false)
	_, err = c.PutBucketVersioning(ctx, &oss2.PutBucketVersioningRequest{Bucket: oss2.Ptr(b),
		VersioningConfiguration: &oss2.VersioningConfiguration{Status: oss2.VersionEnabled}})
	must(t, err)
	check(true)
	for name, call := range map[string]func() error{
		"PutSymlink": func() error {
			_, err := c.PutSymlink(ctx, &oss2.PutSymlinkRequest{Bucket: oss2.Ptr(b + "-not-exist"), Key: oss2.Ptr("l"), Target: oss2.Ptr("obj")})
			return err
		},
		"GetSymlink": func() error {
			_, err := c.GetSymlink(ctx, &oss2.GetSymlinkRequest{Bucket: oss2.Ptr(b + "-not-exist"), Key: oss2.Ptr("l")})
			return err
		},
	} {
		var serr *oss2.ServiceError
		if err := call(); !errors.As(err, &serr) || serr.StatusCode != 404 || serr.Code != CodeNoSuchBucket ||
			serr.EC != "0015-00000101" || serr.RequestID == "" {
			t.Fatalf("%s on a missing bucket: %v", name, err)
		}
	}
}
