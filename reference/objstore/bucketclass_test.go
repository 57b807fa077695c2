package objstore

import (
	"bytes"
	"testing"
)

// TestBucketStorageClass: a bucket keeps the class it was created with
// (across a restart), objects written to it without a class get it, a
// class named on the write wins, and an unknown class is refused. A
// Standard bucket's record is encoded exactly as before bucket classes.
func TestBucketStorageClass(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct{ bucket, class, want string }{
		{"std", "", StorageClassStandard},
		{"std2", "STANDARD", StorageClassStandard},
		{"arch", "Archive", "Archive"},
		{"cold", "ColdArchive", "ColdArchive"},
		{"glacier", "GLACIER", "GLACIER"},
	} {
		b, err := e.s.CreateBucketWithOptions(bg, root, tc.bucket, CreateBucketOptions{StorageClass: tc.class})
		if err != nil || b.StorageClass != tc.want {
			t.Fatalf("%s: %+v, %v", tc.bucket, b, err)
		}
	}
	_, err := e.s.CreateBucketWithOptions(bg, root, "bad", CreateBucketOptions{StorageClass: "Cold"})
	wantKind(t, err, KindInvalidArgument)
	if _, err := e.s.GetBucket(bg, root, "bad"); KindOf(err) != KindNoSuchBucket {
		t.Fatalf("refused bucket exists: %v", err)
	}

	data := []byte("archived")
	if info := put(t, e.s, "arch", "plain", data, PutOptions{}); info.StorageClass != "Archive" {
		t.Fatalf("object in an Archive bucket: class %q", info.StorageClass)
	}
	if info := put(t, e.s, "arch", "ia", data, PutOptions{StorageClass: "IA"}); info.StorageClass != "IA" {
		t.Fatalf("object written as IA: class %q", info.StorageClass)
	}
	up, err := e.s.CreateMultipartUpload(bg, root, "cold", "mp", PutOptions{})
	if err != nil || up.StorageClass != "ColdArchive" {
		t.Fatalf("upload in a ColdArchive bucket: %+v, %v", up, err)
	}
	if !bytes.Equal(get(t, e.s, "arch", "plain"), data) { // no restore needed
		t.Fatal("archived object reads other bytes")
	}

	e.reopen(t)
	for bucket, want := range map[string]string{"std": StorageClassStandard, "arch": "Archive", "cold": "ColdArchive"} {
		b, err := e.s.GetBucket(bg, root, bucket)
		if err != nil || b.StorageClass != want {
			t.Fatalf("after restart %s: %+v, %v", bucket, b, err)
		}
	}
	list, err := e.s.ListBuckets(bg, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range list {
		if b.Name == "arch" && b.StorageClass != "Archive" {
			t.Fatalf("ListBuckets: %+v", b)
		}
	}
	// Versioning rewrites the record; the class stays.
	if err := e.s.PutBucketVersioning(bg, root, "arch", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	if b, err := e.s.GetBucket(bg, root, "arch"); err != nil || b.StorageClass != "Archive" || b.Versioning != VersioningEnabled {
		t.Fatalf("after versioning: %+v, %v", b, err)
	}

	std := &bucketRecord{Name: "b", Region: testRegion, Owner: "root"}
	withStd := *std
	withStd.StorageClass = StorageClassStandard
	if !bytes.Equal(encodeBucket(std), encodeBucket(&withStd)) || encodeBucket(std)[1]&flagBucketClass != 0 {
		t.Fatal("a Standard bucket's record carries a class")
	}
}
