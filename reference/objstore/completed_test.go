package objstore

import (
	"bytes"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// completedCounts counts a bucket's completed-upload records and expiry
// index entries (-1, -1 when the bucket's table does not exist).
func completedCounts(t *testing.T, s *DiskStore, bucket string) (ids, index int) {
	t.Helper()
	ids, index = -1, -1
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(tblCompleted)
		if root == nil || root.Bucket([]byte(bucket)) == nil {
			return nil
		}
		ids, index = 0, 0
		return root.Bucket([]byte(bucket)).ForEach(func(k, _ []byte) error {
			switch k[0] {
			case 'u':
				ids++
			case 't':
				index++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, index
}

func completeOne(t *testing.T, s *DiskStore, bucket, key string, seed byte) (string, []CompletePart, ObjectInfo) {
	t.Helper()
	up, err := s.CreateMultipartUpload(bg, root, bucket, key, PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}})
	if err != nil {
		t.Fatal(err)
	}
	parts := uploadParts(t, s, bucket, key, up.UploadID, [][]byte{pattern(minPart, seed), pattern(10, seed+1)})
	info, err := s.CompleteMultipartUpload(bg, root, bucket, key, up.UploadID, parts, CompleteOptions{MinPartSize: minPart})
	if err != nil {
		t.Fatal(err)
	}
	return up.UploadID, parts, info
}

// TestCompletedUploadsKeptPrunedDropped: a completion stays answerable
// across a restart, for CompletedUploadRetention; later completions prune
// expired records, and deleting the bucket drops them.
func TestCompletedUploadsKeptPrunedDropped(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "done", nil)
	idA, partsA, infoA := completeOne(t, e.s, "done", "a", 1)
	e.reopen(t)
	got, err := e.s.CompletedMultipartUpload(bg, root, "done", "a", idA, partsA)
	if err != nil {
		t.Fatalf("completed upload after a restart: %v", err)
	}
	if got.ETag != infoA.ETag || got.Size != infoA.Size || got.SSE != infoA.SSE || !bytes.Equal(got.Checksum.Value, infoA.Checksum.Value) {
		t.Fatalf("retried result %+v, first %+v", got, infoA)
	}
	if _, err := e.s.CompletedMultipartUpload(bg, bob, "done", "a", idA, partsA); err != nil {
		t.Fatalf("another writer retrying: %v", err)
	}
	e.authz.set(e.authz.noWrite, "bob/done", true)
	_, err = e.s.CompletedMultipartUpload(bg, bob, "done", "a", idA, partsA)
	wantKind(t, err, KindAccessDenied)

	e.clk.Advance(CompletedUploadRetention + time.Second)
	_, err = e.s.CompletedMultipartUpload(bg, root, "done", "a", idA, partsA)
	wantKind(t, err, KindNoSuchUpload)
	if ids, index := completedCounts(t, e.s, "done"); ids != 1 || index != 1 {
		t.Fatalf("before pruning: %d records, %d index entries", ids, index)
	}
	completeOne(t, e.s, "done", "b", 3)
	if ids, index := completedCounts(t, e.s, "done"); ids != 1 || index != 1 {
		t.Fatalf("after a later completion: %d records, %d index entries, want only the new one", ids, index)
	}

	// OSS's DeleteBucket still refuses a bucket with an upload in progress.
	up, err := e.s.CreateMultipartUpload(bg, root, "done", "open", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if err := e.s.DeleteObject(bg, root, "done", k); err != nil {
			t.Fatal(err)
		}
	}
	wantKind(t, e.s.DeleteBucket(bg, root, "done"), KindBucketNotEmpty)
	if err := e.s.AbortMultipartUpload(bg, root, "done", "open", up.UploadID); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteBucket(bg, root, "done"); err != nil {
		t.Fatal(err)
	}
	if ids, index := completedCounts(t, e.s, "done"); ids != -1 || index != -1 {
		t.Fatalf("a deleted bucket kept %d completed records, %d index entries", ids, index)
	}
}

// TestDeleteBucketAbortingUploads: S3's DeleteBucket aborts uploads in
// progress and removes their part files, but objects still keep a bucket.
func TestDeleteBucketAbortingUploads(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "ups", nil)
	up, err := e.s.CreateMultipartUpload(bg, root, "ups", "k", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	uploadParts(t, e.s, "ups", "k", up.UploadID, [][]byte{pattern(100, 1), pattern(100, 2)})
	put(t, e.s, "ups", "obj", []byte("x"), PutOptions{})
	wantKind(t, e.s.DeleteBucketAbortingUploads(bg, root, "ups"), KindBucketNotEmpty)
	if _, _, err := e.s.ListParts(bg, root, "ups", "k", up.UploadID, 0, 0); err != nil {
		t.Fatalf("a refused delete touched the upload: %v", err)
	}
	if err := e.s.DeleteObject(bg, root, "ups", "obj"); err != nil {
		t.Fatal(err)
	}
	e.authz.set(e.authz.noWrite, "bob/ups", true)
	wantKind(t, e.s.DeleteBucketAbortingUploads(bg, bob, "ups"), KindAccessDenied)
	if err := e.s.DeleteBucketAbortingUploads(bg, root, "ups"); err != nil {
		t.Fatal(err)
	}
	if files := listFiles(t, e.s.dataDir); len(files) != 0 {
		t.Fatalf("part files left: %v", files)
	}
	e.reopen(t) // garbage collection finds nothing the delete left behind
	mustBucket(t, e.s, "ups", nil)
	_, _, err = e.s.ListParts(bg, root, "ups", "k", up.UploadID, 0, 0)
	wantKind(t, err, KindNoSuchUpload)
}
