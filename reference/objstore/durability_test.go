package objstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/iotest"
)

// TestCanary writes distinctive plaintexts with AES256, KMS (single and
// multipart) and without encryption, then scans every file under the
// store's directory: the encrypted canaries must never appear, the
// unencrypted one must (which proves the scan can see plaintext).
func TestCanary(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "canary", nil)
	mustBucket(t, e.s, "canary-default", &EncryptionRule{Algorithm: AlgorithmKMS})
	canary := func(tag string) []byte {
		// Long and repeated so it spans chunk boundaries and any slicing.
		return bytes.Repeat([]byte("SSEAUDIT-CANARY-"+tag+"-7f3a9c1e-"), 20_000)
	}
	encrypted := map[string][]byte{
		"aes":       canary("AES256"),
		"kms":       canary("KMS"),
		"default":   canary("DEFAULT-RULE"),
		"multipart": canary("MULTIPART"),
		"copy":      canary("COPIED"),
	}
	plain := canary("PLAINTEXT")
	put(t, e.s, "canary", "aes", encrypted["aes"], PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}})
	put(t, e.s, "canary", "kms", encrypted["kms"], PutOptions{SSE: SSE{Algorithm: AlgorithmKMS}})
	put(t, e.s, "canary-default", "default", encrypted["default"], PutOptions{})
	up, err := e.s.CreateMultipartUpload(bg, root, "canary", "multipart", PutOptions{SSE: SSE{Algorithm: AlgorithmKMS}})
	if err != nil {
		t.Fatal(err)
	}
	mp := encrypted["multipart"]
	cps := uploadParts(t, e.s, "canary", "multipart", up.UploadID, [][]byte{mp[:minPart], mp[minPart:]})
	if _, err := e.s.CompleteMultipartUpload(bg, root, "canary", "multipart", up.UploadID, cps, CompleteOptions{MinPartSize: minPart}); err != nil {
		t.Fatal(err)
	}
	// An upload in progress, too.
	up2, _ := e.s.CreateMultipartUpload(bg, root, "canary", "pending", PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}})
	uploadParts(t, e.s, "canary", "pending", up2.UploadID, [][]byte{encrypted["multipart"]})
	// A plaintext object re-encrypted by copy in place.
	put(t, e.s, "canary", "copy", encrypted["copy"], PutOptions{})
	if _, err := e.s.CopyObject(bg, root, "canary", "copy", "canary", "copy", CopyOptions{Put: PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}}}); err != nil {
		t.Fatal(err)
	}
	put(t, e.s, "canary", "plain", plain, PutOptions{})
	for k, v := range encrypted {
		b := "canary"
		if k == "default" {
			b = "canary-default"
		}
		if !bytes.Equal(get(t, e.s, b, k), v) {
			t.Fatalf("%s does not read back", k)
		}
	}
	if err := e.s.Close(); err != nil { // flush everything bbolt holds
		t.Fatal(err)
	}
	var sawPlain bool
	for _, f := range listFiles(t, e.dir) {
		data, err := os.ReadFile(filepath.Join(e.dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range encrypted {
			if bytes.Contains(data, v[:48]) {
				t.Errorf("canary of %s found in plaintext in %s", k, f)
			}
		}
		if bytes.Contains(data, plain[:48]) {
			sawPlain = true
		}
	}
	if !sawPlain {
		t.Fatal("the unencrypted canary was not found: the scan is broken")
	}
	e.reopen(t)
}

func TestContentMD5AndShortBody(t *testing.T) {
	for _, b := range []struct {
		name string
		rule *EncryptionRule
	}{{"md5-plain", nil}, {"md5-kms", &EncryptionRule{Algorithm: AlgorithmKMS}}} {
		t.Run(b.name, func(t *testing.T) {
			e := newTestEnv(t)
			mustBucket(t, e.s, b.name, b.rule)
			old := []byte("old content")
			put(t, e.s, b.name, "k", old, PutOptions{})
			before := takeSnapshot(t, e.s, b.name, "k")
			data := pattern(150_000, 1)
			cases := []struct {
				name string
				body io.Reader
				size int64
				md5  []byte
				want Kind
			}{
				{"wrong md5", bytes.NewReader(data), int64(len(data)), md5raw(data[1:]), KindInvalidDigest},
				{"md5 of wrong length", bytes.NewReader(data), int64(len(data)), []byte{1, 2, 3}, KindInvalidDigest},
				{"short body", bytes.NewReader(data[:1000]), int64(len(data)), nil, KindIncompleteBody},
				{"reader error", io.MultiReader(bytes.NewReader(data[:1000]), iotest.ErrReader(errors.New("connection reset"))), int64(len(data)), nil, KindInternal},
				{"too large", bytes.NewReader(data), MaxPutSize + 1, nil, KindEntityTooLarge},
			}
			for _, c := range cases {
				_, err := e.s.PutObject(bg, root, b.name, "k", c.body, c.size, PutOptions{ContentMD5: c.md5})
				if KindOf(err) != c.want || err == nil {
					t.Fatalf("%s: %v, want kind %d", c.name, err, c.want)
				}
				_, err = e.s.PutObject(bg, root, b.name, "new", c.body, c.size, PutOptions{ContentMD5: c.md5})
				if err == nil {
					t.Fatalf("%s: second put succeeded", c.name)
				}
				if !equalSnapshots(before, takeSnapshot(t, e.s, b.name, "k")) || !bytes.Equal(get(t, e.s, b.name, "k"), old) {
					t.Fatalf("%s: the failed overwrite changed the visible object", c.name)
				}
				if _, err := e.s.HeadObject(bg, root, b.name, "new"); KindOf(err) != KindNoSuchKey {
					t.Fatalf("%s: failed put is visible: %v", c.name, err)
				}
				if tmp := listFiles(t, filepath.Join(e.dir, TmpDir)); len(tmp) != 0 {
					t.Fatalf("%s: temp files left: %v", c.name, tmp)
				}
			}
			if n := len(listFiles(t, filepath.Join(e.dir, DataDir))); n != 1 {
				t.Fatalf("%d data files, want only the old object's", n)
			}
			// Correct MD5 and an unknown size (-1) work.
			info, err := e.s.PutObject(bg, root, b.name, "k", bytes.NewReader(data), -1, PutOptions{ContentMD5: md5raw(data)})
			if err != nil || info.Size != int64(len(data)) {
				t.Fatalf("put with correct MD5: %+v, %v", info, err)
			}
			// Extra bytes beyond the declared size are not stored.
			info, err = e.s.PutObject(bg, root, b.name, "k2", bytes.NewReader(data), 10, PutOptions{})
			if err != nil || info.Size != 10 || !bytes.Equal(get(t, e.s, b.name, "k2"), data[:10]) {
				t.Fatalf("put of 10 bytes: %+v, %v", info, err)
			}
			// A cancelled request stores nothing.
			ctx, cancel := context.WithCancel(bg)
			cancel()
			_, err = e.s.PutObject(ctx, root, b.name, "cancelled", bytes.NewReader(data), int64(len(data)), PutOptions{})
			if err == nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled put: %v", err)
			}
		})
	}
}

func TestRestart(t *testing.T) {
	e := newTestEnv(t)
	cmk := e.createKey(t)
	mustBucket(t, e.s, "plain", nil)
	mustBucket(t, e.s, "oss", &EncryptionRule{Algorithm: AlgorithmAES256})
	mustBucket(t, e.s, "kms", &EncryptionRule{Algorithm: AlgorithmKMS, KMSMasterKeyID: cmk})
	objs := map[string][]byte{}
	infos := map[string]ObjectInfo{}
	for _, b := range []string{"plain", "oss", "kms"} {
		objs[b] = pattern(100_000, byte(len(b)))
		infos[b] = put(t, e.s, b, "dir/obj", objs[b], PutOptions{ContentType: "a/b", UserMetadata: map[string]string{"x": b}})
	}
	up, _ := e.s.CreateMultipartUpload(bg, root, "kms", "mp", PutOptions{})
	part1 := pattern(minPart, 1)
	cps := uploadParts(t, e.s, "kms", "mp", up.UploadID, [][]byte{part1})
	bucketsBefore, _ := e.s.ListBuckets(bg, root)

	e.reopen(t)

	bucketsAfter, err := e.s.ListBuckets(bg, root)
	if err != nil || len(bucketsAfter) != len(bucketsBefore) {
		t.Fatalf("buckets after restart: %+v, %v", bucketsAfter, err)
	}
	for i := range bucketsBefore {
		a, b := bucketsBefore[i], bucketsAfter[i]
		if a.Name != b.Name || !a.CreationDate.Equal(b.CreationDate) || (a.Encryption == nil) != (b.Encryption == nil) ||
			(a.Encryption != nil && *a.Encryption != *b.Encryption) {
			t.Fatalf("bucket %d: %+v -> %+v", i, a, b)
		}
	}
	if r, err := e.s.GetBucketEncryption(bg, root, "kms"); err != nil || r.KMSMasterKeyID != cmk {
		t.Fatalf("rule after restart: %+v, %v", r, err)
	}
	for b, data := range objs {
		h, err := e.s.HeadObject(bg, root, b, "dir/obj")
		if err != nil {
			t.Fatal(err)
		}
		w := infos[b]
		if h.ETag != w.ETag || !h.LastModified.Equal(w.LastModified) || h.SSE != w.SSE || h.CRC64 != w.CRC64 || h.UserMetadata["x"] != b {
			t.Fatalf("%s: %+v -> %+v", b, w, h)
		}
		if !bytes.Equal(get(t, e.s, b, "dir/obj"), data) {
			t.Fatalf("%s does not read back after restart", b)
		}
	}
	lp, _, err := e.s.ListParts(bg, root, "kms", "mp", up.UploadID, 0, 0)
	if err != nil || len(lp.Parts) != 1 {
		t.Fatalf("parts after restart: %+v, %v", lp, err)
	}
	part2 := []byte("tail")
	if _, _, err := e.s.UploadPart(bg, root, "kms", "mp", up.UploadID, 2, bytes.NewReader(part2), 4, PartOptions{}); err != nil {
		t.Fatal(err)
	}
	cps = append(cps, CompletePart{PartNumber: 2, ETag: md5hex(part2)})
	if _, err := e.s.CompleteMultipartUpload(bg, root, "kms", "mp", up.UploadID, cps, CompleteOptions{MinPartSize: minPart}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(get(t, e.s, "kms", "mp"), append(part1, part2...)) {
		t.Fatal("upload completed after restart reads back wrong")
	}
}

// TestGarbageCollection simulates the leftovers of crashes: a temp file
// (crash while writing) and an unreferenced data file (crash between the
// rename into data/ and the metadata commit, or before the replaced file
// was removed). Open removes both and nothing referenced.
func TestGarbageCollection(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "gcb", &EncryptionRule{Algorithm: AlgorithmAES256})
	data := pattern(80_000, 2)
	put(t, e.s, "gcb", "keep", data, PutOptions{})
	up, _ := e.s.CreateMultipartUpload(bg, root, "gcb", "mp", PutOptions{})
	uploadParts(t, e.s, "gcb", "mp", up.UploadID, [][]byte{data})
	referenced := listFiles(t, filepath.Join(e.dir, DataDir))
	if len(referenced) != 2 {
		t.Fatalf("data files: %v", referenced)
	}
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	tmpFile := filepath.Join(e.dir, TmpDir, "w-123456")
	orphan := filepath.Join(e.dir, DataDir, randomName(16))
	foreign := filepath.Join(e.dir, DataDir, "README")
	for _, f := range []string{tmpFile, orphan, foreign} {
		if err := os.WriteFile(f, []byte("leftover"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.reopen(t)
	for _, f := range []string{tmpFile, orphan} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s survived Open: %v", f, err)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("a file the store did not create was removed: %v", err)
	}
	os.Remove(foreign)
	if got := listFiles(t, filepath.Join(e.dir, DataDir)); !slices.Equal(got, referenced) {
		t.Fatalf("data files after GC: %v, want %v", got, referenced)
	}
	if !bytes.Equal(get(t, e.s, "gcb", "keep"), data) {
		t.Fatal("object lost by GC")
	}
	if lp, _, err := e.s.ListParts(bg, root, "gcb", "mp", up.UploadID, 0, 0); err != nil || len(lp.Parts) != 1 {
		t.Fatalf("part lost by GC: %+v, %v", lp, err)
	}
}

// TestOpenObjectIsASnapshot: an open object keeps reading its content
// while the key is overwritten and deleted.
func TestOpenObjectIsASnapshot(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "snap", &EncryptionRule{Algorithm: AlgorithmKMS})
	v1 := pattern(200_000, 1)
	put(t, e.s, "snap", "k", v1, PutOptions{})
	o, err := e.s.OpenObject(bg, root, "snap", "k")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	put(t, e.s, "snap", "k", pattern(10, 2), PutOptions{})
	if err := e.s.DeleteObject(bg, root, "snap", "k"); err != nil {
		t.Fatal(err)
	}
	r, err := o.Range(bg, 0, int64(len(v1)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil || !bytes.Equal(buf.Bytes(), v1) {
		t.Fatalf("open object changed under the reader: %v", err)
	}
	if _, err := o.Range(bg, 1, int64(len(v1))); KindOf(err) != KindInvalidRange {
		t.Fatalf("out-of-bounds range: %v", err)
	}
	if _, err := o.Range(bg, -1, 1); KindOf(err) != KindInvalidRange {
		t.Fatalf("negative range: %v", err)
	}
	if files := listFiles(t, filepath.Join(e.dir, DataDir)); len(files) != 0 {
		t.Fatalf("deleted objects left data files: %v", files)
	}
}

func TestConcurrentWriters(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "conc", &EncryptionRule{Algorithm: AlgorithmAES256})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				data := pattern(20_000+i*1000, byte(w))
				key := []string{"shared", "own-" + string(rune('a'+w))}[i%2]
				if _, err := e.s.PutObject(bg, root, "conc", key, bytes.NewReader(data), int64(len(data)), PutOptions{}); err != nil {
					errs <- err
					return
				}
				got, err := readRange(e.s, root, "conc", key, 0, -1)
				if err != nil && KindOf(err) != KindNoSuchKey {
					errs <- err
					return
				}
				if err == nil && len(got) < 20_000 {
					errs <- errors.New("short read")
					return
				}
				if i%3 == 0 {
					if _, err := e.s.CopyObject(bg, root, "conc", key, "conc", key, CopyOptions{}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	res, err := e.s.ListObjects(bg, root, "conc", ListOptions{})
	if err != nil || len(res.Objects) != 7 {
		t.Fatalf("list: %d objects, %v", len(res.Objects), err)
	}
	// Exactly the visible objects' files remain.
	if n := len(listFiles(t, filepath.Join(e.dir, DataDir))); n != 7 {
		t.Fatalf("%d data files for 7 objects", n)
	}
	for _, o := range res.Objects {
		if got := get(t, e.s, "conc", o.Key); md5hex(got) != o.ETag {
			t.Fatalf("%s: content does not match its ETag", o.Key)
		}
	}
}
