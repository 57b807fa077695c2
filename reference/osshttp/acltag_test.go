package osshttp

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// TestOSSBucketACLs: each canned ACL set on PutBucket (x-oss-acl) or
// PutBucketAcl is what GetBucketAcl and GetBucketInfo report, through
// the v1 SDK; a value OSS does not have is 400 InvalidArgument; and
// GetBucketInfo no longer claims Block Public Access.
func TestOSSBucketACLs(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	for i, acl := range []oss1.ACLType{oss1.ACLPrivate, oss1.ACLPublicRead, oss1.ACLPublicReadWrite} {
		t.Run(string(acl), func(t *testing.T) {
			b := "acl-b" + strconv.Itoa(i)
			must(t, c.CreateBucket(b, oss1.ACL(acl)))
			got, err := c.GetBucketACL(b)
			must(t, err)
			info, err := c.GetBucketInfo(b)
			must(t, err)
			if got.ACL != string(acl) || info.BucketInfo.ACL != string(acl) {
				t.Fatalf("created %s: GetBucketAcl %q, GetBucketInfo %q", acl, got.ACL, info.BucketInfo.ACL)
			}
			// Every other value through PutBucketAcl.
			for _, next := range []oss1.ACLType{oss1.ACLPublicReadWrite, oss1.ACLPrivate, oss1.ACLPublicRead} {
				must(t, c.SetBucketACL(b, next))
				got, err := c.GetBucketACL(b)
				must(t, err)
				if got.ACL != string(next) {
					t.Fatalf("after SetBucketACL %s: %q", next, got.ACL)
				}
			}
		})
	}
	wantErr(t, c.SetBucketACL("acl-b0", "InvalidACL"), 400, CodeInvalidArgument)
	wantErr(t, c.CreateBucket("acl-bad", oss1.ACL("default")), 400, CodeInvalidArgument)

	v2 := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	res, err := v2.GetBucketInfo(bg, &oss2.GetBucketInfoRequest{Bucket: oss2.Ptr("acl-b1")})
	must(t, err)
	if res.BucketInfo.BlockPublicAccess == nil || *res.BucketInfo.BlockPublicAccess || oss2.ToString(res.BucketInfo.ACL) != "public-read" {
		t.Fatalf("v2 GetBucketInfo: ACL %v BlockPublicAccess %v", oss2.ToString(res.BucketInfo.ACL), res.BucketInfo.BlockPublicAccess)
	}
}

// TestOSSObjectACLs: object ACLs on PutObject, PutObjectACL and
// InitiateMultipartUpload, with "default" when none was set; a copy takes
// the request's x-oss-object-acl or default, never the source's (v1 SDK
// and v2 SDK).
func TestOSSObjectACLs(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	must(t, c.CreateBucket("acl-o"))
	bk, err := c.Bucket("acl-o")
	must(t, err)
	for _, acl := range []oss1.ACLType{oss1.ACLPrivate, oss1.ACLPublicRead, oss1.ACLPublicReadWrite, oss1.ACLDefault} {
		t.Run(string(acl), func(t *testing.T) {
			k := "o-" + string(acl)
			must(t, bk.PutObject(k, strings.NewReader("x"), oss1.ObjectACL(acl)))
			got, err := bk.GetObjectACL(k)
			must(t, err)
			if got.ACL != string(acl) {
				t.Fatalf("PutObject with %s: GetObjectACL %q", acl, got.ACL)
			}
			// A copy without x-oss-object-acl is default; with one, that.
			_, err = bk.CopyObject(k, k+"-copy")
			must(t, err)
			if got, _ := bk.GetObjectACL(k + "-copy"); got.ACL != "default" {
				t.Errorf("copy of a %s object: %q, want default", acl, got.ACL)
			}
			_, err = bk.CopyObject(k, k+"-copy", oss1.ObjectACL(oss1.ACLPublicRead))
			must(t, err)
			if got, _ := bk.GetObjectACL(k + "-copy"); got.ACL != "public-read" {
				t.Errorf("copy with public-read: %q", got.ACL)
			}
			must(t, bk.SetObjectACL(k, oss1.ACLPrivate))
			if got, _ := bk.GetObjectACL(k); got.ACL != "private" {
				t.Errorf("after SetObjectACL private: %q", got.ACL)
			}
			// Multipart: the initiation's ACL is the object's.
			imur, err := bk.InitiateMultipartUpload(k+"-mp", oss1.ObjectACL(acl))
			must(t, err)
			p, err := bk.UploadPart(imur, strings.NewReader("abc"), 3, 1)
			must(t, err)
			_, err = bk.CompleteMultipartUpload(imur, []oss1.UploadPart{p})
			must(t, err)
			if got, _ := bk.GetObjectACL(k + "-mp"); got.ACL != string(acl) {
				t.Errorf("multipart with %s: %q", acl, got.ACL)
			}
		})
	}
	wantErr(t, bk.SetObjectACL("o-private", "authenticated-read"), 400, CodeInvalidArgument)
	wantErr(t, bk.SetObjectACL("nosuch", oss1.ACLPrivate), 404, CodeNoSuchKey)
	_, err = bk.GetObjectACL("nosuch")
	wantErr(t, err, 404, CodeNoSuchKey)

	v2 := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	_, err = v2.PutObjectAcl(bg, &oss2.PutObjectAclRequest{Bucket: oss2.Ptr("acl-o"), Key: oss2.Ptr("o-default"), Acl: oss2.ObjectACLPublicReadWrite})
	must(t, err)
	r, err := v2.GetObjectAcl(bg, &oss2.GetObjectAclRequest{Bucket: oss2.Ptr("acl-o"), Key: oss2.Ptr("o-default")})
	must(t, err)
	if oss2.ToString(r.ACL) != "public-read-write" || oss2.ToString(r.Owner.ID) != "root" {
		t.Errorf("v2 GetObjectAcl: %q owner %q", oss2.ToString(r.ACL), oss2.ToString(r.Owner.ID))
	}
}

// TestOSSObjectTagging: tags on PutObject (x-oss-tagging), the tagging
// count on HEAD, Put/Get/DeleteObjectTagging, the tagging directive on
// copy, and the limits answered with OSS's InvalidTag and its ECs.
func TestOSSObjectTagging(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	must(t, c.CreateBucket("tags"))
	bk, err := c.Bucket("tags")
	must(t, err)
	two := oss1.Tagging{Tags: []oss1.Tag{{Key: "k1", Value: "v 1"}, {Key: "k2", Value: "a+b=c/d:e.f_g-h"}}}
	must(t, bk.PutObject("src", strings.NewReader("data"), oss1.SetTagging(two)))
	hdr, err := bk.GetObjectDetailedMeta("src")
	must(t, err)
	if hdr.Get("X-Oss-Tagging-Count") != "2" {
		t.Fatalf("tagging count %q", hdr.Get("X-Oss-Tagging-Count"))
	}
	got, err := bk.GetObjectTagging("src")
	must(t, err)
	if len(got.Tags) != 2 || !sameTag(got.Tags[0], two.Tags[0]) || !sameTag(got.Tags[1], two.Tags[1]) {
		t.Fatalf("GetObjectTagging %+v", got.Tags)
	}

	one := oss1.Tagging{Tags: []oss1.Tag{{Key: "new", Value: "1"}}}
	for _, c := range []struct {
		name string
		opts []oss1.Option
		want int
	}{
		{"default directive copies", nil, 2},
		{"tags without REPLACE are ignored", []oss1.Option{oss1.SetTagging(one)}, 2},
		{"COPY", []oss1.Option{oss1.TaggingDirective(oss1.TaggingCopy), oss1.SetTagging(one)}, 2},
		{"REPLACE", []oss1.Option{oss1.TaggingDirective(oss1.TaggingReplace), oss1.SetTagging(one)}, 1},
		{"REPLACE without tags", []oss1.Option{oss1.TaggingDirective(oss1.TaggingReplace)}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := bk.CopyObject("src", "dst", c.opts...)
			must(t, err)
			got, err := bk.GetObjectTagging("dst")
			must(t, err)
			if len(got.Tags) != c.want {
				t.Fatalf("%d tags, want %d: %+v", len(got.Tags), c.want, got.Tags)
			}
			hdr, err := bk.GetObjectDetailedMeta("dst")
			must(t, err)
			if want := strconv.Itoa(c.want); c.want > 0 && hdr.Get("X-Oss-Tagging-Count") != want || c.want == 0 && hdr.Get("X-Oss-Tagging-Count") != "" {
				t.Fatalf("tagging count %q, want %d", hdr.Get("X-Oss-Tagging-Count"), c.want)
			}
		})
	}

	must(t, bk.PutObjectTagging("src", one))
	if got, _ := bk.GetObjectTagging("src"); len(got.Tags) != 1 || !sameTag(got.Tags[0], one.Tags[0]) {
		t.Fatalf("after PutObjectTagging %+v", got.Tags)
	}
	must(t, bk.DeleteObjectTagging("src"))
	if got, err := bk.GetObjectTagging("src"); err != nil || len(got.Tags) != 0 {
		t.Fatalf("after DeleteObjectTagging %+v %v", got.Tags, err)
	}
	must(t, bk.DeleteObjectTagging("src")) // again: still fine
	wantErr(t, bk.DeleteObjectTagging("nosuch"), 404, CodeNoSuchKey)
	if b, _ := io.ReadAll(must1(bk.GetObject("src"))); string(b) != "data" {
		t.Fatalf("data after tagging changes %q", b)
	}

	eleven := oss1.Tagging{}
	for i := range 11 {
		eleven.Tags = append(eleven.Tags, oss1.Tag{Key: "k" + strconv.Itoa(i), Value: "v"})
	}
	for _, c := range []struct {
		name string
		tags oss1.Tagging
		ec   string
	}{
		{"eleven tags", eleven, ecInvalidTag},
		{"key of 129", oss1.Tagging{Tags: []oss1.Tag{{Key: strings.Repeat("k", 129), Value: "v"}}}, ecTagKeyTooLong},
		{"value of 257", oss1.Tagging{Tags: []oss1.Tag{{Key: "k", Value: strings.Repeat("v", 257)}}}, ecTagValueTooLong},
		{"& in key", oss1.Tagging{Tags: []oss1.Tag{{Key: "k&", Value: "v"}}}, ecInvalidTag},
		{"& in value", oss1.Tagging{Tags: []oss1.Tag{{Key: "k", Value: "v&"}}}, ecInvalidTag},
		{"duplicate keys", oss1.Tagging{Tags: []oss1.Tag{{Key: "k", Value: "1"}, {Key: "k", Value: "2"}}}, ecInvalidTag},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, err := range []error{bk.PutObjectTagging("src", c.tags), bk.PutObject("t", strings.NewReader("x"), oss1.SetTagging(c.tags))} {
				wantErr(t, err, 400, CodeInvalidTag)
				if _, _, ec := svcErr(err); ec != c.ec {
					t.Errorf("EC %q, want %q", ec, c.ec)
				}
			}
		})
	}
	// Ten is the limit, not an error.
	must(t, bk.PutObjectTagging("src", oss1.Tagging{Tags: eleven.Tags[:10]}))
}

func sameTag(a, b oss1.Tag) bool { return a.Key == b.Key && a.Value == b.Value }

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestOSSUploadPartCopy: the v1 SDK's CopyFile (UploadPartCopy in 100 KiB
// parts) into a destination that is encrypted by its bucket's default
// (KMS) or by the request (AES256), and a large plain object re-encrypted
// by copying it onto itself: each ends encrypted as asked, with the same
// bytes; the v2 SDK's Copier does the same with KMS.
func TestOSSUploadPartCopy(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	must(t, c.CreateBucket("plain"))
	must(t, c.CreateBucket("kmsdef", oss1.ServerSideEncryption("KMS")))
	src, err := c.Bucket("plain")
	must(t, err)
	data := payload(350*1024+17, 3)
	must(t, src.PutObject("big", bytes.NewReader(data), oss1.ObjectACL(oss1.ACLPublicRead),
		oss1.SetTagging(oss1.Tagging{Tags: []oss1.Tag{{Key: "t", Value: "1"}}})))
	key := e.createKey()

	for _, c1 := range []struct {
		name, bucket, key string
		opts              []oss1.Option
		wantAlg, wantKey  string
	}{
		{"bucket default KMS", "kmsdef", "copy", nil, "KMS", ""},
		{"request AES256", "plain", "copy-aes", []oss1.Option{oss1.ServerSideEncryption("AES256")}, "AES256", ""},
		{"request KMS with key", "plain", "copy-kms", []oss1.Option{oss1.ServerSideEncryption("KMS"), oss1.ServerSideEncryptionKeyID(key)}, "KMS", key},
		{"re-encrypt onto itself", "plain", "big", []oss1.Option{oss1.ServerSideEncryption("KMS")}, "KMS", ""},
	} {
		t.Run(c1.name, func(t *testing.T) {
			dst, err := c.Bucket(c1.bucket)
			must(t, err)
			must(t, dst.CopyFile("plain", "big", c1.key, 100*1024, c1.opts...))
			hdr, err := dst.GetObjectDetailedMeta(c1.key)
			must(t, err)
			if hdr.Get("X-Oss-Server-Side-Encryption") != c1.wantAlg ||
				(c1.wantKey != "" && hdr.Get("X-Oss-Server-Side-Encryption-Key-Id") != c1.wantKey) ||
				hdr.Get("X-Oss-Object-Type") != "Multipart" {
				t.Fatalf("headers %v", hdr)
			}
			got, err := io.ReadAll(must1(dst.GetObject(c1.key)))
			must(t, err)
			if !bytes.Equal(got, data) {
				t.Fatal("copied bytes differ")
			}
			// The store agrees: the object is sealed at rest.
			info, err := e.store.HeadObject(bg, rootPrincipal, c1.bucket, c1.key)
			must(t, err)
			if info.SSE.Algorithm != c1.wantAlg || info.PartsCount != 4 {
				t.Fatalf("store: %+v", info.SSE)
			}
		})
	}

	// A range beyond the object copies the whole object, as OSS does;
	// the response is CopyPartResult with the part's ETag.
	imur, err := src.InitiateMultipartUpload("ranged")
	must(t, err)
	part, err := src.UploadPartCopy(imur, "plain", "copy-aes", 0, int64(len(data))+100, 1)
	must(t, err)
	_, err = src.CompleteMultipartUpload(imur, []oss1.UploadPart{part})
	must(t, err)
	if got, _ := io.ReadAll(must1(src.GetObject("ranged"))); !bytes.Equal(got, data) {
		t.Fatal("out-of-range copy is not the whole object")
	}
	imur, err = src.InitiateMultipartUpload("ranged2")
	must(t, err)
	part, err = src.UploadPartCopy(imur, "plain", "copy-aes", 10, 20, 1)
	must(t, err)
	_, err = src.CompleteMultipartUpload(imur, []oss1.UploadPart{part})
	must(t, err)
	if got, _ := io.ReadAll(must1(src.GetObject("ranged2"))); !bytes.Equal(got, data[10:30]) {
		t.Fatalf("ranged copy %d bytes", len(got))
	}

	// A principal without decrypt permission on the source's CMK cannot
	// copy it out (carol may read and write, not decrypt).
	carol, err := newV1(e, e.srv.URL, carolAK, carolSK).c.Bucket("plain")
	must(t, err)
	imur, err = carol.InitiateMultipartUpload("stolen")
	must(t, err)
	_, err = carol.UploadPartCopy(imur, "plain", "copy-kms", 0, 100, 1)
	wantErr(t, err, http.StatusForbidden, CodeAccessDenied)

	// The v2 SDK's Copier, multipart forced, into a KMS destination;
	// it carries the source's tags (GetObjectTagging + x-oss-tagging).
	v2 := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	cp := v2.NewCopier(func(o *oss2.CopierOptions) {
		o.PartSize = 100 * 1024
		o.MultipartCopyThreshold = 100 * 1024
		o.DisableShallowCopy = true
	})
	_, err = cp.Copy(bg, &oss2.CopyObjectRequest{Bucket: oss2.Ptr("kmsdef"), Key: oss2.Ptr("v2copy"),
		SourceBucket: oss2.Ptr("plain"), SourceKey: oss2.Ptr("copy-aes")})
	must(t, err)
	h, err := v2.HeadObject(bg, &oss2.HeadObjectRequest{Bucket: oss2.Ptr("kmsdef"), Key: oss2.Ptr("v2copy")})
	must(t, err)
	if oss2.ToString(h.ServerSideEncryption) != "KMS" || oss2.ToString(h.ObjectType) != "Multipart" {
		t.Fatalf("v2 copy: %v %v", oss2.ToString(h.ServerSideEncryption), oss2.ToString(h.ObjectType))
	}
}
