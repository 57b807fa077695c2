package objstore

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestSSEC: SSE-C writes are blocked unless the bucket's rule allows them;
// an SSE-C object reads (HEAD, GET, copy source, parts) with its key only;
// existing SSE-C objects stay readable after the bucket blocks SSE-C
// again; and the customer key is nowhere in the data directory.
func TestSSEC(t *testing.T) {
	e := newTestEnv(t)
	key := [32]byte(bytes.Repeat([]byte{0xc5}, 32))
	other := [32]byte(bytes.Repeat([]byte{0xc6}, 32))
	ssec := SSE{Algorithm: AlgorithmSSEC, CustomerKey: &key}
	withKey := WithCustomerKey(bg, key[:])
	withOther := WithCustomerKey(bg, other[:])
	data := pattern(150_000, 3)

	mustBucket(t, e.s, "blocked", nil)
	mustBucket(t, e.s, "ruleonly", &EncryptionRule{Algorithm: AlgorithmAES256})
	mustBucket(t, e.s, "allowed", &EncryptionRule{Algorithm: AlgorithmAES256, AllowSSEC: true})
	for _, b := range []string{"blocked", "ruleonly"} {
		_, err := e.s.PutObject(bg, root, b, "o", bytes.NewReader(data), int64(len(data)), PutOptions{SSE: ssec})
		wantKind(t, err, KindAccessDenied)
		_, err = e.s.CreateMultipartUpload(bg, root, b, "o", PutOptions{SSE: ssec})
		wantKind(t, err, KindAccessDenied)
	}
	_, err := e.s.PutObject(bg, root, "allowed", "nokey", bytes.NewReader(data), int64(len(data)), PutOptions{SSE: SSE{Algorithm: AlgorithmSSEC}})
	wantKind(t, err, KindInvalidArgument)

	info := put(t, e.s, "allowed", "o", data, PutOptions{SSE: ssec})
	if info.SSE.Algorithm != AlgorithmSSEC || info.SSE.CustomerKey != nil {
		t.Fatalf("PutObject SSE = %+v", info.SSE)
	}
	// HEAD: key needed, the right one.
	_, err = e.s.HeadObject(bg, root, "allowed", "o")
	wantKind(t, err, KindCustomerKeyRequired)
	_, err = e.s.HeadObject(withOther, root, "allowed", "o")
	wantKind(t, err, KindCustomerKeyMismatch)
	if h, err := e.s.HeadObject(withKey, root, "allowed", "o"); err != nil || h.SSE.Algorithm != AlgorithmSSEC {
		t.Fatalf("HEAD with the key: %+v, %v", h.SSE, err)
	}
	// GET likewise.
	_, err = e.s.OpenObject(bg, root, "allowed", "o")
	wantKind(t, err, KindCustomerKeyRequired)
	_, err = e.s.OpenObject(withOther, root, "allowed", "o")
	wantKind(t, err, KindCustomerKeyMismatch)
	o, err := e.s.OpenObject(withKey, root, "allowed", "o")
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	if got, err := readRangeCtx(withKey, e.s, "allowed", "o", 70_000, 1000); err != nil || !bytes.Equal(got, data[70_000:71_000]) {
		t.Fatalf("ranged read: %v", err)
	}
	// A key sent for an object that is not SSE-C.
	put(t, e.s, "allowed", "plain", data, PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}})
	_, err = e.s.HeadObject(withKey, root, "allowed", "plain")
	wantKind(t, err, KindInvalidRequest)
	_, err = e.s.OpenObject(withKey, root, "allowed", "plain")
	wantKind(t, err, KindInvalidRequest)

	// Copy: the source needs its key; the destination takes another.
	_, err = e.s.CopyObject(bg, root, "allowed", "o", "allowed", "copy", CopyOptions{})
	wantKind(t, err, KindCustomerKeyRequired)
	_, err = e.s.CopyObject(withKey, root, "allowed", "o", "blocked", "copy", CopyOptions{Put: PutOptions{SSE: SSE{Algorithm: AlgorithmSSEC, CustomerKey: &other}}})
	wantKind(t, err, KindAccessDenied)
	if _, err := e.s.CopyObject(withKey, root, "allowed", "o", "allowed", "copy", CopyOptions{Put: PutOptions{SSE: SSE{Algorithm: AlgorithmSSEC, CustomerKey: &other}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := readRangeCtx(withOther, e.s, "allowed", "copy", 0, int64(len(data))); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("copy read with the new key: %v", err)
	}
	if _, err := e.s.CopyObject(withKey, root, "allowed", "o", "blocked", "plaincopy", CopyOptions{}); err != nil {
		t.Fatalf("copy of an SSE-C object to a blocked bucket without SSE-C: %v", err)
	}
	if !bytes.Equal(get(t, e.s, "blocked", "plaincopy"), data) {
		t.Fatal("plain copy differs")
	}

	// Multipart: every part needs the upload's key.
	up, err := e.s.CreateMultipartUpload(bg, root, "allowed", "mpu", PutOptions{SSE: ssec})
	if err != nil || up.SSE.Algorithm != AlgorithmSSEC {
		t.Fatalf("CreateMultipartUpload: %+v, %v", up.SSE, err)
	}
	_, _, err = e.s.UploadPart(bg, root, "allowed", "mpu", up.UploadID, 1, bytes.NewReader(data), int64(len(data)), PartOptions{})
	wantKind(t, err, KindCustomerKeyRequired)
	_, _, err = e.s.UploadPart(withOther, root, "allowed", "mpu", up.UploadID, 1, bytes.NewReader(data), int64(len(data)), PartOptions{})
	wantKind(t, err, KindCustomerKeyMismatch)
	var cps []CompletePart
	for n := 1; n <= 2; n++ {
		pt, _, err := e.s.UploadPart(withKey, root, "allowed", "mpu", up.UploadID, n, bytes.NewReader(data), int64(len(data)), PartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, CompletePart{PartNumber: n, ETag: pt.ETag})
	}
	if _, err := e.s.CompleteMultipartUpload(bg, root, "allowed", "mpu", up.UploadID, cps, CompleteOptions{MinPartSize: 1}); err != nil {
		t.Fatal(err)
	}
	if got, err := readRangeCtx(withKey, e.s, "allowed", "mpu", 0, int64(2*len(data))); err != nil || !bytes.Equal(got, append(append([]byte(nil), data...), data...)) {
		t.Fatalf("multipart read: %v", err)
	}
	_, err = e.s.OpenObject(bg, root, "allowed", "mpu")
	wantKind(t, err, KindCustomerKeyRequired)

	// The rule survives a reopen; blocking again keeps old objects readable.
	e.reopen(t)
	if r, err := e.s.GetBucketEncryption(bg, root, "allowed"); err != nil || !r.AllowSSEC {
		t.Fatalf("rule after reopen: %+v, %v", r, err)
	}
	if r, err := e.s.GetBucketEncryption(bg, root, "ruleonly"); err != nil || r.AllowSSEC {
		t.Fatalf("default rule after reopen: %+v, %v", r, err)
	}
	if err := e.s.PutBucketEncryption(bg, root, "allowed", EncryptionRule{Algorithm: AlgorithmAES256}); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.PutObject(bg, root, "allowed", "o2", bytes.NewReader(data), int64(len(data)), PutOptions{SSE: ssec})
	wantKind(t, err, KindAccessDenied)
	if got, err := readRangeCtx(withKey, e.s, "allowed", "o", 0, int64(len(data))); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("existing SSE-C object after blocking: %v", err)
	}
	probs, err := e.s.Check(bg, CheckOptions{})
	if err != nil || len(probs) != 0 {
		t.Fatalf("Check: %v, %v", probs, err)
	}

	// The customer keys never reach the disk, in any form kept.
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(e.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, k := range [][]byte{key[:], other[:]} {
			if bytes.Contains(b, k) {
				t.Errorf("%s holds a customer key", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.s, err = Open(bg, e.cfg); err != nil { // for the cleanup's Close
		t.Fatal(err)
	}
}

// readRangeCtx reads [off, off+length) of bucket/key as root with ctx
// (which carries a customer key).
func readRangeCtx(ctx context.Context, s *DiskStore, bucket, key string, off, length int64) ([]byte, error) {
	o, err := s.OpenObject(ctx, root, bucket, key)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	r, err := o.Range(ctx, off, length)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// TestSSECRecordAuthenticated: an SSE-C object's record is authenticated
// like any other: relabelled as unencrypted, or with its sealed key
// swapped for another SSE-C object's, it fails the record MAC before any
// key is tried, with or without the customer key.
func TestSSECRecordAuthenticated(t *testing.T) {
	e := newTestEnv(t)
	key := [32]byte(bytes.Repeat([]byte{0x91}, 32))
	mustBucket(t, e.s, "bkt", &EncryptionRule{Algorithm: AlgorithmAES256, AllowSSEC: true})
	put(t, e.s, "bkt", "a", []byte("aaaa"), PutOptions{SSE: SSE{Algorithm: AlgorithmSSEC, CustomerKey: &key}})
	put(t, e.s, "bkt", "other", []byte("bbbb"), PutOptions{SSE: SSE{Algorithm: AlgorithmSSEC, CustomerKey: &key}})
	other := rawGet(t, e.s, tblObjects, "bkt", []byte("other"))
	otherRec, err := decodeObject(other, "object")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*objectRecord)
	}{
		{"algorithm dropped", func(r *objectRecord) { r.Algorithm, r.Record = "", nil }},
		{"algorithm relabelled", func(r *objectRecord) { r.Algorithm = AlgorithmAES256 }},
		{"sealed key swapped", func(r *objectRecord) { r.Record = otherRec.Record }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := rawGet(t, e.s, tblObjects, "bkt", []byte("a"))
			t.Cleanup(func() { rawPut(t, e.s, tblObjects, "bkt", []byte("a"), orig) })
			tamper(t, e.s, tblObjects, "bkt", []byte("a"), false, tc.edit)
			for _, ctx := range []context.Context{bg, WithCustomerKey(bg, key[:])} {
				_, err := e.s.HeadObject(ctx, root, "bkt", "a")
				wantIntegrity(t, err, "bkt", "a", "")
				_, err = e.s.OpenObject(ctx, root, "bkt", "a")
				wantIntegrity(t, err, "bkt", "a", "")
			}
		})
	}
}
