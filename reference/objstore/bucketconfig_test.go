package objstore

import (
	"bytes"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestBucketConfigRecords: configuration documents are kept per bucket
// and name, read back as stored, deleted, dropped with their bucket,
// refused for a bucket that does not exist, and an edited record is an
// integrity error. Account documents are per principal.
func TestBucketConfigRecords(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "cfg", nil)
	doc := []byte("<CORSConfiguration/>")
	if got, err := e.s.GetBucketConfig(bg, root, "cfg", "cors"); err != nil || got != nil {
		t.Fatalf("before any put: %q %v", got, err)
	}
	if err := e.s.PutBucketConfig(bg, root, "cfg", "cors", doc); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.GetBucketConfig(bg, root, "cfg", "cors"); err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("read back %q %v", got, err)
	}
	if got, err := e.s.ReadBucketConfig(bg, "cfg", "cors"); err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("anonymous read %q %v", got, err)
	}
	if err := e.s.PutBucketConfig(bg, root, "missing", "cors", doc); KindOf(err) != KindNoSuchBucket {
		t.Fatalf("put on a missing bucket: %v", err)
	}
	if _, err := e.s.GetBucketConfig(bg, root, "missing", "cors"); KindOf(err) != KindNoSuchBucket {
		t.Fatalf("get on a missing bucket: %v", err)
	}
	if ok, err := e.s.BucketExists(bg, "cfg"); err != nil || !ok {
		t.Fatalf("BucketExists(cfg) %v %v", ok, err)
	}
	if ok, err := e.s.BucketExists(bg, "missing"); err != nil || ok {
		t.Fatalf("BucketExists(missing) %v %v", ok, err)
	}

	// An edited record fails its tag.
	err := e.s.db.Update(func(tx *bolt.Tx) error {
		nt := tx.Bucket(tblBucketConfigs).Bucket([]byte("cfg"))
		v := append([]byte(nil), nt.Get([]byte("cors"))...)
		v[len(v)-2] ^= 1
		return nt.Put([]byte("cors"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetBucketConfig(bg, root, "cfg", "cors"); KindOf(err) != KindIntegrity {
		t.Fatalf("edited record: %v", err)
	}
	if err := e.s.DeleteBucketConfig(bg, root, "cfg", "cors"); err != nil {
		t.Fatal(err)
	}
	if got, err := e.s.GetBucketConfig(bg, root, "cfg", "cors"); err != nil || got != nil {
		t.Fatalf("after delete: %q %v", got, err)
	}

	// DeleteBucket drops the bucket's documents.
	if err := e.s.PutBucketConfig(bg, root, "cfg", "website", doc); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteBucket(bg, root, "cfg"); err != nil {
		t.Fatal(err)
	}
	mustBucket(t, e.s, "cfg", nil)
	if got, err := e.s.GetBucketConfig(bg, root, "cfg", "website"); err != nil || got != nil {
		t.Fatalf("a recreated bucket kept %q %v", got, err)
	}

	// Account documents belong to their principal.
	other := Principal{Name: "other"}
	if err := e.s.PutAccountConfig(bg, root, "pab", []byte("on")); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.s.GetAccountConfig(bg, other, "pab"); got != nil {
		t.Fatalf("another principal sees %q", got)
	}
	if got, _ := e.s.GetAccountConfig(bg, root, "pab"); string(got) != "on" {
		t.Fatalf("account doc %q", got)
	}
	if err := e.s.DeleteAccountConfig(bg, root, "pab"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.s.GetAccountConfig(bg, root, "pab"); got != nil {
		t.Fatalf("after delete %q", got)
	}
}
