package objstore

import (
	"testing"
)

// TestPutSymlinkStore: a link in a bucket whose default is SSE-KMS makes
// no data key (no KMS call, no encryption reported), keeps its metadata,
// class, ACL and tags, survives a restart, is listed with its target,
// versions like any write, honours a write condition, passes Check, is
// copied as a link, and an invalid target is refused.
func TestPutSymlinkStore(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", &EncryptionRule{Algorithm: AlgorithmKMS})
	if err := e.s.PutBucketVersioning(bg, root, "bkt", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	keys := e.audit.count("GenerateDataKey")
	opts := PutOptions{UserMetadata: map[string]string{"m": "v"}, StorageClass: "IA", ACL: ACLPublicRead, Tags: []Tag{{Key: "t", Value: "1"}}}
	first, err := e.s.PutSymlink(bg, root, "bkt", "link", "target-1", opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.audit.count("GenerateDataKey"); n != keys {
		t.Fatalf("PutSymlink called KMS GenerateDataKey %d times", n-keys)
	}
	if first.SSE != (SSE{}) || first.SymlinkTarget != "target-1" || first.VersionID == "" || first.Size != 0 || first.ETag == "" {
		t.Fatalf("link info: %+v", first)
	}
	second, err := e.s.PutSymlink(bg, root, "bkt", "link", "target-2", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.VersionID == first.VersionID || second.ETag == first.ETag {
		t.Fatalf("second link version %q ETag %q, same as the first", second.VersionID, second.ETag)
	}
	_, err = e.s.PutSymlink(bg, root, "bkt", "link", "target-3", PutOptions{Condition: WriteCondition{IfNoneMatch: "*"}})
	wantKind(t, err, KindPreconditionFailed)
	_, err = e.s.PutSymlink(bg, root, "bkt", "bad", "", PutOptions{})
	wantKind(t, err, KindInvalidArgument)

	e.reopen(t)
	old, err := e.s.HeadObjectVersion(bg, root, "bkt", "link", first.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if old.SymlinkTarget != "target-1" || old.UserMetadata["m"] != "v" || old.StorageClass != "IA" ||
		old.ACL != ACLPublicRead || len(old.Tags) != 1 || old.SSE != (SSE{}) {
		t.Fatalf("first link version after a restart: %+v", old)
	}
	cur, err := e.s.HeadObject(bg, root, "bkt", "link")
	if err != nil || cur.SymlinkTarget != "target-2" {
		t.Fatalf("current link: %+v %v", cur, err)
	}
	lr, err := e.s.ListObjects(bg, root, "bkt", ListOptions{Prefix: "link"})
	if err != nil || len(lr.Objects) != 1 || lr.Objects[0].SymlinkTarget != "target-2" {
		t.Fatalf("listing: %+v %v", lr.Objects, err)
	}
	if ps, err := e.s.Check(bg, CheckOptions{PlainData: true}); err != nil || len(ps) != 0 {
		t.Fatalf("Check of a bucket holding links: %v %v", ps, err)
	}
	// A copy of a link is a link to the same target with the source's
	// metadata (no data key either); SSE settings on it are refused.
	cp, err := e.s.CopyObject(bg, root, "bkt", "link", "bkt", "copy", CopyOptions{SourceVersionID: first.VersionID})
	if err != nil || cp.SymlinkTarget != "target-1" || cp.UserMetadata["m"] != "v" || cp.SSE != (SSE{}) || cp.StorageClass != "IA" {
		t.Fatalf("copy of a link: %+v %v", cp, err)
	}
	_, err = e.s.CopyObject(bg, root, "bkt", "link", "bkt", "copy2", CopyOptions{Put: PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}}})
	wantKind(t, err, KindInvalidArgument)
	if n := e.audit.count("GenerateDataKey"); n != keys {
		t.Fatalf("links and their copies called KMS GenerateDataKey %d times", n-keys)
	}
	// A PutObject over a link replaces it with a normal object.
	put(t, e.s, "bkt", "link", []byte("data"), PutOptions{})
	if cur, err := e.s.HeadObject(bg, root, "bkt", "link"); err != nil || cur.SymlinkTarget != "" || cur.SSE.Algorithm != AlgorithmKMS {
		t.Fatalf("object written over a link: %+v %v", cur, err)
	}
}
