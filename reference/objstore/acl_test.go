package objstore

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestBucketACLKeptAndReported: a bucket's ACL is what CreateBucket or
// PutBucketACL set, private by default, and survives a reopen.
func TestBucketACLKeptAndReported(t *testing.T) {
	e := newTestEnv(t)
	if _, err := e.s.CreateBucketWithOptions(bg, root, "pub", CreateBucketOptions{ACL: ACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	mustBucket(t, e.s, "priv", nil)
	for _, c := range []struct{ bucket, set, want string }{
		{"priv", "", ACLPrivate},
		{"pub", "", ACLPublicRead},
		{"priv", ACLPublicReadWrite, ACLPublicReadWrite},
		{"pub", ACLPrivate, ACLPrivate},
		{"priv", "authenticated-read", "authenticated-read"},
	} {
		if c.set != "" {
			if err := e.s.PutBucketACL(bg, root, c.bucket, c.set); err != nil {
				t.Fatal(err)
			}
		}
		b, err := e.s.GetBucket(bg, root, c.bucket)
		if err != nil || b.ACL != c.want {
			t.Fatalf("%s after %q: ACL %q, %v; want %q", c.bucket, c.set, b.ACL, err, c.want)
		}
	}
	e.reopen(t)
	if b, _ := e.s.GetBucket(bg, root, "priv"); b.ACL != "authenticated-read" {
		t.Errorf("after reopen: %q", b.ACL)
	}
	e.authz.set(e.authz.noWrite, "bob/priv", true)
	wantKind(t, e.s.PutBucketACL(bg, bob, "priv", ACLPublicRead), KindAccessDenied)
	wantKind(t, e.s.PutBucketACL(bg, root, "nosuch", ACLPublicRead), KindNoSuchBucket)
}

// TestObjectACLAndTagsFollowTheServicesOnCopy: a write keeps its ACL and
// tags; PutObjectACL/PutObjectTagging change them without touching the
// data, ETag or LastModified; a copy takes the request's ACL (never the
// source's) and the source's tags unless REPLACE.
func TestObjectACLAndTagsFollowTheServicesOnCopy(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", &EncryptionRule{Algorithm: AlgorithmAES256})
	tags := []Tag{{"bkt", "2"}, {"a", "1"}}
	src := put(t, e.s, "bkt", "src", []byte("data"), PutOptions{ACL: ACLPublicRead, Tags: tags})
	if src.ACL != ACLPublicRead || !reflect.DeepEqual(src.Tags, tags) {
		t.Fatalf("put: %q %v", src.ACL, src.Tags)
	}
	cases := []struct {
		name     string
		opts     CopyOptions
		wantACL  string
		wantTags []Tag
	}{
		{"default", CopyOptions{}, ACLDefault, tags},
		{"acl given", CopyOptions{Put: PutOptions{ACL: ACLPrivate}}, ACLPrivate, tags},
		{"replace tags", CopyOptions{ReplaceTags: true, Put: PutOptions{Tags: []Tag{{"x", "y"}}}}, ACLDefault, []Tag{{"x", "y"}}},
		{"replace with none", CopyOptions{ReplaceTags: true}, ACLDefault, nil},
		{"tags given but COPY", CopyOptions{Put: PutOptions{Tags: []Tag{{"x", "y"}}}}, ACLDefault, tags},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := e.s.CopyObject(bg, root, "bkt", "src", "bkt", "dst", c.opts)
			if err != nil {
				t.Fatal(err)
			}
			h, err := e.s.HeadObject(bg, root, "bkt", "dst")
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []ObjectInfo{info, h} {
				if got.ACL != c.wantACL || !reflect.DeepEqual(got.Tags, c.wantTags) {
					t.Errorf("ACL %q tags %v, want %q %v", got.ACL, got.Tags, c.wantACL, c.wantTags)
				}
			}
		})
	}

	before, _ := e.s.HeadObject(bg, root, "bkt", "src")
	e.clk.Advance(10e9)
	if _, err := e.s.PutObjectACL(bg, root, "bkt", "src", "", ACLPrivate); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.PutObjectTagging(bg, root, "bkt", "src", "", nil); err != nil {
		t.Fatal(err)
	}
	after, _ := e.s.HeadObject(bg, root, "bkt", "src")
	if after.ACL != ACLPrivate || after.Tags != nil || !after.LastModified.Equal(before.LastModified) || after.ETag != before.ETag {
		t.Errorf("after updates: %+v (before %+v)", after, before)
	}
	if got := get(t, e.s, "bkt", "src"); !bytes.Equal(got, []byte("data")) {
		t.Errorf("data after updates: %q", got)
	}
	e.reopen(t) // the updated record authenticates
	if h, err := e.s.HeadObject(bg, root, "bkt", "src"); err != nil || h.ACL != ACLPrivate {
		t.Errorf("after reopen: %+v %v", h, err)
	}
	_, err := e.s.PutObjectACL(bg, root, "bkt", "nosuch", "", ACLPrivate)
	wantKind(t, err, KindNoSuchKey)
}

// TestTagLimits: CheckTags refuses what both services refuse, on every
// write path.
func TestTagLimits(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", nil)
	put(t, e.s, "bkt", "k", []byte("x"), PutOptions{})
	eleven := make([]Tag, 11)
	for i := range eleven {
		eleven[i] = Tag{Key: string(rune('a' + i)), Value: "v"}
	}
	for _, c := range []struct {
		name string
		tags []Tag
		ok   bool
	}{
		{"ten", eleven[:10], true},
		{"eleven", eleven, false},
		{"key 128", []Tag{{strings.Repeat("k", 128), ""}}, true},
		{"key 128 runes", []Tag{{strings.Repeat("é", 128), ""}}, true},
		{"key 129", []Tag{{strings.Repeat("k", 129), ""}}, false},
		{"value 256", []Tag{{"k", strings.Repeat("v", 256)}}, true},
		{"value 257", []Tag{{"k", strings.Repeat("v", 257)}}, false},
		{"empty key", []Tag{{"", "v"}}, false},
		{"duplicate", []Tag{{"k", "1"}, {"k", "2"}}, false},
		{"bad utf8", []Tag{{"k\xff", "1"}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err1 := e.s.PutObjectTagging(bg, root, "bkt", "k", "", c.tags)
			_, err2 := e.s.PutObject(bg, root, "bkt", "k2", strings.NewReader("x"), 1, PutOptions{Tags: c.tags})
			_, err3 := e.s.CreateMultipartUpload(bg, root, "bkt", "k3", PutOptions{Tags: c.tags})
			_, err4 := e.s.CopyObject(bg, root, "bkt", "k", "bkt", "k4", CopyOptions{ReplaceTags: true, Put: PutOptions{Tags: c.tags}})
			for i, err := range []error{err1, err2, err3, err4} {
				if c.ok && err != nil {
					t.Errorf("path %d: %v", i, err)
				}
				if !c.ok {
					wantKind(t, err, KindInvalidTag)
				}
			}
		})
	}
}

// TestMultipartKeepsACLAndTags: what CreateMultipartUpload was given is
// the completed object's ACL and tags.
func TestMultipartKeepsACLAndTags(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", nil)
	up, err := e.s.CreateMultipartUpload(bg, root, "bkt", "k", PutOptions{ACL: ACLPublicReadWrite, Tags: []Tag{{"t", "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	part, _, err := e.s.UploadPart(bg, root, "bkt", "k", up.UploadID, 1, strings.NewReader("abc"), 3, PartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := e.s.CompleteMultipartUpload(bg, root, "bkt", "k", up.UploadID, []CompletePart{{PartNumber: 1, ETag: part.ETag}}, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.ACL != ACLPublicReadWrite || !reflect.DeepEqual(info.Tags, []Tag{{"t", "1"}}) {
		t.Errorf("completed: %q %v", info.ACL, info.Tags)
	}
}

// TestVersionACLAndTags: an addressed noncurrent version is changed where
// it is stored, the current one is left alone, and a delete marker cannot
// be changed.
func TestVersionACLAndTags(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", &EncryptionRule{Algorithm: AlgorithmAES256})
	if err := e.s.PutBucketVersioning(bg, root, "bkt", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	v1 := put(t, e.s, "bkt", "k", []byte("one"), PutOptions{})
	put(t, e.s, "bkt", "k", []byte("two"), PutOptions{Tags: []Tag{{"cur", "1"}}})
	if _, err := e.s.PutObjectTagging(bg, root, "bkt", "k", v1.VersionID, []Tag{{"old", "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.PutObjectACL(bg, root, "bkt", "k", v1.VersionID, ACLPublicRead); err != nil {
		t.Fatal(err)
	}
	old, err := e.s.HeadObjectVersion(bg, root, "bkt", "k", v1.VersionID)
	if err != nil || old.ACL != ACLPublicRead || !reflect.DeepEqual(old.Tags, []Tag{{"old", "1"}}) {
		t.Fatalf("old version: %+v %v", old, err)
	}
	cur, _ := e.s.HeadObject(bg, root, "bkt", "k")
	if cur.ACL != ACLDefault || !reflect.DeepEqual(cur.Tags, []Tag{{"cur", "1"}}) {
		t.Errorf("current version changed: %+v", cur)
	}
	if got, err := readRange(e.s, root, "bkt", "k", 0, -1); err != nil || string(got) != "two" {
		t.Errorf("current data: %q %v", got, err)
	}
	e.reopen(t)
	if _, err := e.s.HeadObjectVersion(bg, root, "bkt", "k", v1.VersionID); err != nil {
		t.Errorf("old version after reopen: %v", err)
	}
	if err := e.s.DeleteObject(bg, root, "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.PutObjectTagging(bg, root, "bkt", "k", "", nil)
	wantKind(t, err, KindNoSuchKey)
}
