package objstore

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestBucketNames(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct {
		name string
		ok   bool
	}{
		{"abc", true},
		{"my-bucket-01", true},
		{"0bucket9", true},
		{strings.Repeat("a", 63), true},
		{"ab", false},
		{strings.Repeat("a", 64), false},
		{"-abc", false},
		{"abc-", false},
		{"Abc", false},
		{"a_bc", false},
		{"a.bc", false},
		{"a bc", false},
		{"", false},
	}
	for _, c := range cases {
		_, err := e.s.CreateBucket(bg, root, c.name, nil)
		if c.ok && err != nil {
			t.Errorf("CreateBucket(%q): %v", c.name, err)
		}
		if !c.ok {
			if KindOf(err) != KindInvalidBucketName {
				t.Errorf("CreateBucket(%q): %v, want InvalidBucketName", c.name, err)
			}
			if _, err := e.s.PutObject(bg, root, c.name, "k", strings.NewReader("x"), 1, PutOptions{}); KindOf(err) != KindInvalidBucketName {
				t.Errorf("PutObject in %q: %v, want InvalidBucketName", c.name, err)
			}
		}
	}
}

func TestObjectNames(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "keys", nil)
	cases := []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"dir/sub/file.txt", true},
		{"日本語/キー", true},
		{"with\x00nul", true},
		{strings.Repeat("k", 1023), true},
		{strings.Repeat("k", 1024), false},
		{"", false},
		{"bad\xffutf8", false},
	}
	for _, c := range cases {
		_, err := e.s.PutObject(bg, root, "keys", c.key, strings.NewReader("v"), 1, PutOptions{})
		if c.ok {
			if err != nil {
				t.Errorf("PutObject(%q): %v", c.key, err)
			} else if got := get(t, e.s, "keys", c.key); string(got) != "v" {
				t.Errorf("read %q = %q", c.key, got)
			}
			continue
		}
		if KindOf(err) != KindInvalidObjectName {
			t.Errorf("PutObject(%q): %v, want InvalidObjectName", c.key, err)
		}
		if _, err := e.s.HeadObject(bg, root, "keys", c.key); KindOf(err) != KindInvalidObjectName {
			t.Errorf("HeadObject(%q): %v, want InvalidObjectName", c.key, err)
		}
	}
}

func TestBucketLifecycle(t *testing.T) {
	e := newTestEnv(t)
	info, err := e.s.CreateBucket(bg, root, "alpha", nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "alpha" || info.Region != testRegion || info.Owner != "root" || info.StorageClass != "Standard" ||
		info.Encryption != nil || !info.CreationDate.Equal(e.clk.Now()) {
		t.Fatalf("CreateBucket info = %+v", info)
	}
	_, err = e.s.CreateBucket(bg, root, "alpha", nil)
	wantKind(t, err, KindBucketAlreadyOwnedByYou)
	_, err = e.s.CreateBucket(bg, bob, "alpha", nil)
	wantKind(t, err, KindBucketAlreadyExists)

	got, err := e.s.GetBucket(bg, root, "alpha")
	if err != nil || got.Name != "alpha" {
		t.Fatalf("GetBucket = %+v, %v", got, err)
	}
	_, err = e.s.GetBucket(bg, root, "missing")
	wantKind(t, err, KindNoSuchBucket)
	_, err = e.s.PutObject(bg, root, "missing", "k", strings.NewReader("x"), 1, PutOptions{})
	wantKind(t, err, KindNoSuchBucket)
	_, err = e.s.HeadObject(bg, root, "alpha", "missing")
	wantKind(t, err, KindNoSuchKey)
	_, err = e.s.OpenObject(bg, root, "alpha", "missing")
	wantKind(t, err, KindNoSuchKey)
	_, err = e.s.HeadObject(bg, root, "missing", "k")
	wantKind(t, err, KindNoSuchBucket)

	// A nil body is an empty object, with a known or an unknown size.
	for _, size := range []int64{0, -1} {
		info, err := e.s.PutObject(bg, root, "alpha", "empty", nil, size, PutOptions{})
		if err != nil || info.Size != 0 || info.ETag != md5hex(nil) {
			t.Fatalf("nil body, size %d: %+v, %v", size, info, err)
		}
	}
	if err := e.s.DeleteObject(bg, root, "alpha", "empty"); err != nil {
		t.Fatal(err)
	}

	// Not empty: an object, then an upload in progress.
	put(t, e.s, "alpha", "obj", []byte("x"), PutOptions{})
	wantKind(t, e.s.DeleteBucket(bg, root, "alpha"), KindBucketNotEmpty)
	if err := e.s.DeleteObject(bg, root, "alpha", "obj"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteObject(bg, root, "alpha", "obj"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	up, err := e.s.CreateMultipartUpload(bg, root, "alpha", "mp", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.s.DeleteBucket(bg, root, "alpha"), KindBucketNotEmpty)
	if err := e.s.AbortMultipartUpload(bg, root, "alpha", "mp", up.UploadID); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteBucket(bg, root, "alpha"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.s.DeleteBucket(bg, root, "alpha"), KindNoSuchBucket)
	if _, err := e.s.CreateBucket(bg, bob, "alpha", nil); err != nil {
		t.Fatalf("re-creating a deleted bucket: %v", err)
	}
}

func TestListBucketsAndAuthorization(t *testing.T) {
	e := newTestEnv(t)
	for _, n := range []string{"zeta", "alpha", "mid"} {
		mustBucket(t, e.s, n, nil)
	}
	put(t, e.s, "mid", "k", []byte("data"), PutOptions{})
	names := func(p Principal) []string {
		bs, err := e.s.ListBuckets(bg, p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range bs {
			out = append(out, b.Name)
		}
		return out
	}
	if got := names(root); !slices.Equal(got, []string{"alpha", "mid", "zeta"}) {
		t.Fatalf("ListBuckets = %v", got)
	}
	e.authz.set(e.authz.noRead, "bob/mid", true)
	e.authz.set(e.authz.noWrite, "bob/mid", true)
	e.authz.set(e.authz.noWrite, "bob/alpha", true)
	if got := names(bob); !slices.Equal(got, []string{"alpha", "zeta"}) {
		t.Fatalf("ListBuckets(bob) = %v", got)
	}

	// Every operation on mid is denied to bob, reads included.
	denied := map[string]error{}
	_, denied["GetBucket"] = e.s.GetBucket(bg, bob, "mid")
	_, denied["HeadObject"] = e.s.HeadObject(bg, bob, "mid", "k")
	_, denied["OpenObject"] = e.s.OpenObject(bg, bob, "mid", "k")
	_, denied["ListObjects"] = e.s.ListObjects(bg, bob, "mid", ListOptions{})
	_, denied["GetBucketEncryption"] = e.s.GetBucketEncryption(bg, bob, "mid")
	_, denied["ListMultipartUploads"] = e.s.ListMultipartUploads(bg, bob, "mid", ListUploadsOptions{})
	_, _, denied["ListParts"] = e.s.ListParts(bg, bob, "mid", "k", "x", 0, 0)
	_, denied["PutObject"] = e.s.PutObject(bg, bob, "mid", "k2", strings.NewReader("x"), 1, PutOptions{})
	denied["DeleteObject"] = e.s.DeleteObject(bg, bob, "mid", "k")
	denied["DeleteBucket"] = e.s.DeleteBucket(bg, bob, "mid")
	denied["PutBucketEncryption"] = e.s.PutBucketEncryption(bg, bob, "mid", EncryptionRule{Algorithm: AlgorithmAES256})
	denied["DeleteBucketEncryption"] = e.s.DeleteBucketEncryption(bg, bob, "mid")
	_, denied["CreateMultipartUpload"] = e.s.CreateMultipartUpload(bg, bob, "mid", "k", PutOptions{})
	_, _, denied["UploadPart"] = e.s.UploadPart(bg, bob, "mid", "k", "x", 1, strings.NewReader("x"), 1, PartOptions{})
	_, denied["CompleteMultipartUpload"] = e.s.CompleteMultipartUpload(bg, bob, "mid", "k", "x", []CompletePart{{PartNumber: 1, ETag: "x"}}, CompleteOptions{})
	denied["AbortMultipartUpload"] = e.s.AbortMultipartUpload(bg, bob, "mid", "k", "x")
	_, denied["CopyObject from unreadable"] = e.s.CopyObject(bg, bob, "mid", "k", "zeta", "k", CopyOptions{})
	_, denied["CopyObject to unwritable"] = e.s.CopyObject(bg, bob, "zeta", "k", "alpha", "k", CopyOptions{})
	_, denied["CreateBucket"] = e.s.CreateBucket(bg, bob, "mid", nil)
	for op, err := range denied {
		if KindOf(err) != KindAccessDenied {
			t.Errorf("%s as bob: %v, want AccessDenied", op, err)
		}
	}
	// The object is unchanged and the failed writes left nothing.
	if got := get(t, e.s, "mid", "k"); !bytes.Equal(got, []byte("data")) {
		t.Fatalf("object changed: %q", got)
	}
	if _, err := e.s.HeadObject(bg, root, "mid", "k2"); KindOf(err) != KindNoSuchKey {
		t.Fatalf("denied put is visible: %v", err)
	}
}
