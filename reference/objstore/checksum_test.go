package objstore

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"strings"
	"sync"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/zeebo/xxh3"
	bolt "go.etcd.io/bbolt"
)

// refChecksum computes alg over data with the standard library (the
// xxHash family: the libraries' one-shot functions) directly, independently
// of the store's table.
func refChecksum(t testing.TB, alg string, data []byte) []byte {
	t.Helper()
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	switch alg {
	case ChecksumCRC32:
		return be32(crc32.ChecksumIEEE(data))
	case ChecksumCRC32C:
		return be32(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	case ChecksumCRC64NVME:
		// CRC-64/NVME: polynomial 0xad93d23594c93659, reflected.
		return binary.BigEndian.AppendUint64(nil, crc64.Checksum(data, crc64.MakeTable(0x9a6c9329ac4bc9b5)))
	case ChecksumSHA1:
		s := sha1.Sum(data)
		return s[:]
	case ChecksumSHA256:
		s := sha256.Sum256(data)
		return s[:]
	case ChecksumMD5:
		s := md5.Sum(data)
		return s[:]
	case ChecksumSHA512:
		s := sha512.Sum512(data)
		return s[:]
	case ChecksumXXHash64:
		return binary.BigEndian.AppendUint64(nil, xxhash.Sum64(data))
	case ChecksumXXHash3:
		return binary.BigEndian.AppendUint64(nil, xxh3.Hash(data))
	case ChecksumXXHash128:
		b := xxh3.Hash128(data).Bytes()
		return b[:]
	}
	t.Fatalf("no reference for %q", alg)
	return nil
}

// TestChecksumCheckValues pins the CRCs to their catalogue check values
// (CRC of "123456789"), so a wrong polynomial cannot hide behind a test
// that uses the same table.
func TestChecksumCheckValues(t *testing.T) {
	for _, tc := range []struct {
		alg  string
		want uint64
	}{
		{ChecksumCRC32, 0xCBF43926},
		{ChecksumCRC32C, 0xE3069283},
		{ChecksumCRC64NVME, 0xAE8B14860A799888},
	} {
		h := NewChecksumHash(tc.alg)
		h.Write([]byte("123456789"))
		sum := h.Sum(nil)
		var got uint64
		if len(sum) == 4 {
			got = uint64(binary.BigEndian.Uint32(sum))
		} else {
			got = binary.BigEndian.Uint64(sum)
		}
		if got != tc.want || len(sum) != ChecksumSize(tc.alg) {
			t.Errorf("%s(123456789) = %x (%d bytes), want %x", tc.alg, got, len(sum), tc.want)
		}
	}
	for _, alg := range ChecksumAlgorithms() {
		data := pattern(1000, 3)
		h := NewChecksumHash(alg)
		h.Write(data)
		if !bytes.Equal(h.Sum(nil), refChecksum(t, alg, data)) {
			t.Errorf("%s differs from the standard library", alg)
		}
	}
	if NewChecksumHash("BLAKE3") != nil || ChecksumSize("BLAKE3") != 0 {
		t.Error("BLAKE3 reported as supported")
	}
	// The xxHash family pinned to the published digests of the empty input.
	for alg, want := range map[string]string{
		ChecksumXXHash64:  "ef46db3751d8e999",
		ChecksumXXHash3:   "2d06800538d394c2",
		ChecksumXXHash128: "99aa06d3014798d86001c324468d497f",
	} {
		if got := fmt.Sprintf("%x", NewChecksumHash(alg).Sum(nil)); got != want {
			t.Errorf("%s(\"\") = %s, want %s", alg, got, want)
		}
	}
}

// TestFullObjectCRCCombine checks that combining part CRCs gives the CRC of
// the whole, for every combinable algorithm and several splits (empty and
// one-byte parts included).
func TestFullObjectCRCCombine(t *testing.T) {
	data := pattern(300_000, 9)
	for _, alg := range []string{ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME} {
		for _, cuts := range [][]int{{}, {1}, {150_000}, {0, 7, 65536, 65537, 299_999}, {100_000, 200_000}} {
			var parts [][]byte
			var sizes []int64
			prev := 0
			for _, c := range append(cuts, len(data)) {
				parts = append(parts, refChecksum(t, alg, data[prev:c]))
				sizes = append(sizes, int64(c-prev))
				prev = c
			}
			got, ok := fullObjectCRC(alg, parts, sizes)
			if !ok || !bytes.Equal(got, refChecksum(t, alg, data)) {
				t.Errorf("%s cuts %v: combined %x, want %x", alg, cuts, got, refChecksum(t, alg, data))
			}
		}
	}
	if _, ok := fullObjectCRC(ChecksumSHA256, [][]byte{make([]byte, 32)}, []int64{1}); ok {
		t.Error("SHA256 combined")
	}
}

func TestPutObjectChecksum(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "cks", nil)
	data := pattern(70_000, 5)
	for _, alg := range append([]string{""}, ChecksumAlgorithms()...) {
		want := alg
		if want == "" {
			want = DefaultChecksumAlgorithm
		}
		key := "obj-" + want
		info := put(t, e.s, "cks", key, data, PutOptions{ChecksumAlgorithm: strings.ToLower(alg)})
		wantCks := Checksum{Algorithm: want, Type: ChecksumFullObject, Value: refChecksum(t, want, data)}
		if !sameChecksum(info.Checksum, wantCks) {
			t.Errorf("%q: PutObject checksum %+v, want %+v", alg, info.Checksum, wantCks)
		}
		e.reopen(t)
		hi, err := e.s.HeadObject(bg, root, "cks", key)
		if err != nil || !sameChecksum(hi.Checksum, wantCks) {
			t.Errorf("%q: HeadObject checksum %+v, %v", alg, hi.Checksum, err)
		}
	}
	_, err := e.s.PutObject(bg, root, "cks", "xx", bytes.NewReader(data), int64(len(data)), PutOptions{ChecksumAlgorithm: "BLAKE3"})
	wantKind(t, err, KindInvalidArgument)
	if _, err := e.s.HeadObject(bg, root, "cks", "xx"); KindOf(err) != KindNoSuchKey {
		t.Fatalf("refused write left an object: %v", err)
	}
}

func sameChecksum(a, b Checksum) bool {
	return a.Algorithm == b.Algorithm && a.Type == b.Type && bytes.Equal(a.Value, b.Value) && a.Parts == b.Parts
}

// compositeRef is S3's composite checksum computed from the part data.
func compositeRef(t testing.TB, alg string, parts [][]byte) []byte {
	var cat []byte
	for _, p := range parts {
		cat = append(cat, refChecksum(t, alg, p)...)
	}
	return refChecksum(t, alg, cat)
}

func TestMultipartChecksumTypes(t *testing.T) {
	parts := [][]byte{pattern(minPart, 1), pattern(minPart+7, 2), pattern(1000, 3)}
	whole := bytes.Join(parts, nil)
	for _, tc := range []struct {
		alg, typ string
		wantAlg  string
		wantTyp  string
		wantErr  Kind // -1 = none
	}{
		{"", "", ChecksumCRC64NVME, ChecksumFullObject, -1},
		{"SHA256", "", ChecksumSHA256, ChecksumComposite, -1},
		{"md5", "", ChecksumMD5, ChecksumComposite, -1},
		{"SHA512", ChecksumComposite, ChecksumSHA512, ChecksumComposite, -1},
		{"CRC32", "", ChecksumCRC32, ChecksumComposite, -1},
		{"CRC32", ChecksumFullObject, ChecksumCRC32, ChecksumFullObject, -1},
		{"CRC32C", ChecksumFullObject, ChecksumCRC32C, ChecksumFullObject, -1},
		{"CRC64NVME", "", ChecksumCRC64NVME, ChecksumFullObject, -1},
		{"CRC64NVME", ChecksumComposite, "", "", KindInvalidRequest},
		{"SHA1", ChecksumFullObject, "", "", KindInvalidRequest},
		{"", ChecksumComposite, "", "", KindInvalidRequest},
		{"SHA256", "PARTIAL", "", "", KindInvalidRequest},
		{"XXHASH3", "", ChecksumXXHash3, ChecksumComposite, -1},
		{"BLAKE3", "", "", "", KindInvalidArgument},
	} {
		t.Run(tc.alg+"/"+tc.typ, func(t *testing.T) {
			e := newTestEnv(t)
			mustBucket(t, e.s, "mpu", nil)
			up, err := e.s.CreateMultipartUpload(bg, root, "mpu", "obj", PutOptions{ChecksumAlgorithm: tc.alg, ChecksumType: tc.typ})
			if tc.wantErr >= 0 {
				wantKind(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.alg != "" && (up.ChecksumAlgorithm != tc.wantAlg || up.ChecksumType != tc.wantTyp) {
				t.Fatalf("upload checksum %s %s, want %s %s", up.ChecksumAlgorithm, up.ChecksumType, tc.wantAlg, tc.wantTyp)
			}
			cps := uploadParts(t, e.s, "mpu", "obj", up.UploadID, parts)
			info, err := e.s.CompleteMultipartUpload(bg, root, "mpu", "obj", up.UploadID, cps, CompleteOptions{MinPartSize: minPart})
			if err != nil {
				t.Fatal(err)
			}
			want := Checksum{Algorithm: tc.wantAlg, Type: tc.wantTyp}
			if tc.wantTyp == ChecksumComposite {
				want.Value, want.Parts = compositeRef(t, tc.wantAlg, parts), len(parts)
			} else {
				want.Value = refChecksum(t, tc.wantAlg, whole)
			}
			if !sameChecksum(info.Checksum, want) {
				t.Fatalf("object checksum %+v, want %+v", info.Checksum, want)
			}
			e.reopen(t)
			hi, err := e.s.HeadObject(bg, root, "mpu", "obj")
			if err != nil || !sameChecksum(hi.Checksum, want) || len(hi.Parts) != len(parts) {
				t.Fatalf("HeadObject %+v, %v", hi.Checksum, err)
			}
			for i, p := range hi.Parts {
				if p.PartNumber != i+1 || p.Size != int64(len(parts[i])) || !bytes.Equal(p.Checksum.Value, refChecksum(t, tc.wantAlg, parts[i])) {
					t.Errorf("part %d = %+v", i+1, p)
				}
			}
		})
	}
}

// TestCompleteChecksChecksums: every checksum a client lists for a part,
// and the whole-object one it declares, must match what was stored;
// otherwise nothing is completed.
func TestCompleteChecksChecksums(t *testing.T) {
	p1, p2 := pattern(minPart, 4), pattern(500, 5)
	good1 := Checksum{Algorithm: ChecksumSHA256, Value: refChecksum(t, ChecksumSHA256, p1)}
	good2 := Checksum{Algorithm: ChecksumSHA256, Value: refChecksum(t, ChecksumSHA256, p2)}
	composite := compositeRef(t, ChecksumSHA256, [][]byte{p1, p2})
	for _, tc := range []struct {
		name   string
		listed [2][]Checksum
		opts   CompleteOptions
		want   Kind // -1 = success
	}{
		{"listed ok", [2][]Checksum{{good1}, {good2}}, CompleteOptions{}, -1},
		{"none listed", [2][]Checksum{}, CompleteOptions{}, -1},
		{"listed wrong", [2][]Checksum{{good1}, {good1}}, CompleteOptions{}, KindInvalidPart},
		{"listed other algorithm", [2][]Checksum{{{Algorithm: ChecksumCRC32, Value: refChecksum(t, ChecksumCRC32, p1)}}}, CompleteOptions{}, KindInvalidPart},
		{"declared ok", [2][]Checksum{}, CompleteOptions{Checksum: Checksum{Algorithm: ChecksumSHA256, Value: composite}}, -1},
		{"declared ok with parts", [2][]Checksum{}, CompleteOptions{Checksum: Checksum{Algorithm: ChecksumSHA256, Value: composite, Parts: 2}}, -1},
		{"declared wrong parts", [2][]Checksum{}, CompleteOptions{Checksum: Checksum{Algorithm: ChecksumSHA256, Value: composite, Parts: 3}}, KindInvalidDigest},
		{"declared wrong", [2][]Checksum{}, CompleteOptions{Checksum: Checksum{Algorithm: ChecksumSHA256, Value: good1.Value}}, KindInvalidDigest},
		{"declared other algorithm", [2][]Checksum{}, CompleteOptions{Checksum: Checksum{Algorithm: ChecksumCRC32, Value: make([]byte, 4)}}, KindInvalidRequest},
		{"declared type", [2][]Checksum{}, CompleteOptions{ChecksumType: ChecksumComposite}, -1},
		{"declared other type", [2][]Checksum{}, CompleteOptions{ChecksumType: ChecksumFullObject}, KindInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			mustBucket(t, e.s, "mpu", nil)
			up, err := e.s.CreateMultipartUpload(bg, root, "mpu", "obj", PutOptions{ChecksumAlgorithm: ChecksumSHA256})
			if err != nil {
				t.Fatal(err)
			}
			cps := uploadParts(t, e.s, "mpu", "obj", up.UploadID, [][]byte{p1, p2})
			cps[0].Checksums, cps[1].Checksums = tc.listed[0], tc.listed[1]
			tc.opts.MinPartSize = minPart
			_, err = e.s.CompleteMultipartUpload(bg, root, "mpu", "obj", up.UploadID, cps, tc.opts)
			if tc.want >= 0 {
				wantKind(t, err, tc.want)
				if _, err := e.s.HeadObject(bg, root, "mpu", "obj"); KindOf(err) != KindNoSuchKey {
					t.Fatalf("refused completion created the object: %v", err)
				}
				if _, _, err := e.s.ListParts(bg, root, "mpu", "obj", up.UploadID, 0, 0); err != nil {
					t.Fatalf("refused completion dropped the upload: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPartChecksumAlgorithms: an upload with an algorithm takes parts of
// that algorithm only; one without keeps a part's declared checksum too,
// so completion can check it.
func TestPartChecksumAlgorithms(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "mpu", nil)
	data := pattern(2000, 6)
	up, err := e.s.CreateMultipartUpload(bg, root, "mpu", "sha", PutOptions{ChecksumAlgorithm: ChecksumSHA256})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.s.UploadPart(bg, root, "mpu", "sha", up.UploadID, 1, bytes.NewReader(data), int64(len(data)), PartOptions{ChecksumAlgorithm: ChecksumCRC32})
	wantKind(t, err, KindInvalidRequest)
	pt, _, err := e.s.UploadPart(bg, root, "mpu", "sha", up.UploadID, 1, bytes.NewReader(data), int64(len(data)), PartOptions{ChecksumAlgorithm: "sha256"})
	if err != nil || !bytes.Equal(pt.Checksum.Value, refChecksum(t, ChecksumSHA256, data)) || pt.Checksum.Algorithm != ChecksumSHA256 {
		t.Fatalf("UploadPart = %+v, %v", pt.Checksum, err)
	}

	def, err := e.s.CreateMultipartUpload(bg, root, "mpu", "def", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if def.ChecksumAlgorithm != "" {
		t.Fatalf("upload without an algorithm reports %q", def.ChecksumAlgorithm)
	}
	pt, _, err = e.s.UploadPart(bg, root, "mpu", "def", def.UploadID, 1, bytes.NewReader(data), int64(len(data)), PartOptions{ChecksumAlgorithm: ChecksumCRC32})
	if err != nil {
		t.Fatal(err)
	}
	crc := Checksum{Algorithm: ChecksumCRC32, Value: refChecksum(t, ChecksumCRC32, data)}
	nvme := Checksum{Algorithm: ChecksumCRC64NVME, Value: refChecksum(t, ChecksumCRC64NVME, data)}
	for _, tc := range []struct {
		name   string
		listed []Checksum
		want   Kind
	}{
		{"declared wrong", []Checksum{{Algorithm: ChecksumCRC32, Value: refChecksum(t, ChecksumCRC32, data[1:])}}, KindInvalidPart},
		{"never computed", []Checksum{{Algorithm: ChecksumSHA1, Value: refChecksum(t, ChecksumSHA1, data)}}, KindInvalidPart},
		{"declared and default", []Checksum{crc, nvme}, -1},
	} {
		cps := []CompletePart{{PartNumber: 1, ETag: pt.ETag, Checksums: tc.listed}}
		info, err := e.s.CompleteMultipartUpload(bg, root, "mpu", "def", def.UploadID, cps, CompleteOptions{MinPartSize: minPart})
		if tc.want >= 0 {
			if KindOf(err) != tc.want || err == nil {
				t.Fatalf("%s: %v, want kind %d", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !sameChecksum(info.Checksum, Checksum{Algorithm: ChecksumCRC64NVME, Type: ChecksumFullObject, Value: nvme.Value}) {
			t.Fatalf("%s: object checksum %+v", tc.name, info.Checksum)
		}
	}
}

func TestCopyObjectChecksum(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "copies", nil)
	data := pattern(90_000, 7)
	put(t, e.s, "copies", "sha", data, PutOptions{ChecksumAlgorithm: ChecksumSHA256})
	parts := [][]byte{pattern(minPart, 8), pattern(10, 9)}
	up, err := e.s.CreateMultipartUpload(bg, root, "copies", "mp", PutOptions{ChecksumAlgorithm: ChecksumMD5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CompleteMultipartUpload(bg, root, "copies", "mp", up.UploadID, uploadParts(t, e.s, "copies", "mp", up.UploadID, parts), CompleteOptions{MinPartSize: minPart}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src, alg string
		content  []byte
		wantAlg  string
	}{
		{"sha", "", data, ChecksumSHA256},
		{"sha", ChecksumCRC32C, data, ChecksumCRC32C},
		{"mp", "", bytes.Join(parts, nil), ChecksumMD5}, // composite becomes full-object
		{"mp", ChecksumSHA1, bytes.Join(parts, nil), ChecksumSHA1},
	} {
		info, err := e.s.CopyObject(bg, root, "copies", tc.src, "copies", "dst", CopyOptions{Put: PutOptions{ChecksumAlgorithm: tc.alg}})
		if err != nil {
			t.Fatal(err)
		}
		want := Checksum{Algorithm: tc.wantAlg, Type: ChecksumFullObject, Value: refChecksum(t, tc.wantAlg, tc.content)}
		if !sameChecksum(info.Checksum, want) || info.Parts != nil {
			t.Errorf("copy of %s with %q: %+v, want %+v", tc.src, tc.alg, info.Checksum, want)
		}
	}

	// A carried checksum that does not match the bytes is an integrity
	// failure: nothing is written.
	updateRecord(t, e.s, "copies", "sha", func(m map[string]any) {
		m["checksum"].(map[string]any)["value"] = refChecksum(t, ChecksumSHA256, []byte("other"))
	})
	_, err = e.s.CopyObject(bg, root, "copies", "sha", "copies", "tampered-copy", CopyOptions{})
	wantKind(t, err, KindInternal)
	if _, err := e.s.HeadObject(bg, root, "copies", "tampered-copy"); KindOf(err) != KindNoSuchKey {
		t.Fatalf("copy of a mismatching source was written: %v", err)
	}
}

// updateRecord edits an object record's JSON form and stores the result
// authenticated (as the store would have written it): what an older build
// (which wrote JSON records) left and the adoption authenticated, or a bug.
// It tests the checks behind record authentication.
func updateRecord(t testing.TB, s *DiskStore, bucket, key string, edit func(map[string]any)) {
	t.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		objs := s.objectsTx(tx, bucket)
		rec, err := decodeObject(objs.Get([]byte(key)), "object")
		if err != nil {
			return err
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(encode(rec)))
		dec.UseNumber() // CRCs do not fit a float64
		if err := dec.Decode(&m); err != nil {
			return err
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		edited, err := decodeObject(b, "object")
		if err != nil {
			return err
		}
		return objs.putRec([]byte(key), edited)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecordsWithoutNewFields: records written before storage classes,
// checksums and Content-Language were kept read as Standard, without a
// checksum, and a copy of them gets the default checksum.
func TestRecordsWithoutNewFields(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "old", nil)
	data := pattern(5000, 10)
	put(t, e.s, "old", "obj", data, PutOptions{StorageClass: "IA", ContentLanguage: "de", ChecksumAlgorithm: ChecksumSHA1})
	updateRecord(t, e.s, "old", "obj", func(m map[string]any) {
		for _, k := range []string{"storage_class", "checksum", "content_language"} {
			if _, ok := m[k]; !ok {
				t.Errorf("record has no %q field to remove: %v", k, m)
			}
			delete(m, k)
		}
	})
	up, err := e.s.CreateMultipartUpload(bg, root, "old", "mp", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cps := uploadParts(t, e.s, "old", "mp", up.UploadID, [][]byte{data})
	err = e.s.db.Update(func(tx *bolt.Tx) error {
		ups := uploadsTx(tx, "old")
		var m map[string]any
		if err := json.Unmarshal(ups.Get(uploadKey("mp", up.UploadID)), &m); err != nil {
			return err
		}
		delete(m, "default_checksum")
		b, _ := json.Marshal(m)
		return ups.Put(uploadKey("mp", up.UploadID), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.reopen(t)

	info, err := e.s.HeadObject(bg, root, "old", "obj")
	if err != nil || info.StorageClass != StorageClassStandard || info.Checksum.IsSet() || info.ContentLanguage != "" {
		t.Fatalf("old record = class %q checksum %+v language %q, %v", info.StorageClass, info.Checksum, info.ContentLanguage, err)
	}
	if got := get(t, e.s, "old", "obj"); !bytes.Equal(got, data) {
		t.Fatal("old record reads other bytes")
	}
	cp, err := e.s.CopyObject(bg, root, "old", "obj", "old", "copy", CopyOptions{})
	if err != nil || !sameChecksum(cp.Checksum, Checksum{Algorithm: DefaultChecksumAlgorithm, Type: ChecksumFullObject, Value: refChecksum(t, DefaultChecksumAlgorithm, data)}) {
		t.Fatalf("copy of an old record: %+v, %v", cp.Checksum, err)
	}
	mp, err := e.s.CompleteMultipartUpload(bg, root, "old", "mp", up.UploadID, cps, CompleteOptions{MinPartSize: minPart})
	if err != nil || mp.Checksum.IsSet() || mp.StorageClass != StorageClassStandard {
		t.Fatalf("old upload completed with checksum %+v class %q, %v", mp.Checksum, mp.StorageClass, err)
	}
}

func TestStorageClassAndContentLanguage(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "classes", nil)
	data := []byte("classy")
	for _, sc := range StorageClasses {
		info := put(t, e.s, "classes", "o-"+sc, data, PutOptions{StorageClass: sc, ContentLanguage: "en-" + sc})
		if info.StorageClass != sc || info.ContentLanguage != "en-"+sc {
			t.Errorf("put %s: class %q language %q", sc, info.StorageClass, info.ContentLanguage)
		}
	}
	if info := put(t, e.s, "classes", "std", data, PutOptions{StorageClass: "STANDARD"}); info.StorageClass != StorageClassStandard {
		t.Errorf("STANDARD stored as %q", info.StorageClass)
	}
	for _, bad := range []string{"standard", "Glacier", "COLD"} {
		_, err := e.s.PutObject(bg, root, "classes", "bad", bytes.NewReader(data), int64(len(data)), PutOptions{StorageClass: bad})
		wantKind(t, err, KindInvalidArgument)
	}
	e.reopen(t)
	page, err := e.s.ListObjects(bg, root, "classes", ListOptions{Prefix: "o-"})
	if err != nil || len(page.Objects) != len(StorageClasses) {
		t.Fatalf("list: %d objects, %v", len(page.Objects), err)
	}
	for _, o := range page.Objects {
		if o.StorageClass != strings.TrimPrefix(o.Key, "o-") {
			t.Errorf("listed %s with class %q", o.Key, o.StorageClass)
		}
	}
	for _, tc := range []struct {
		name      string
		opts      CopyOptions
		wantClass string
		wantLang  string
	}{
		{"keeps class and metadata", CopyOptions{}, "GLACIER", "en-GLACIER"},
		{"new class", CopyOptions{Put: PutOptions{StorageClass: "IA"}}, "IA", "en-GLACIER"},
		{"replace", CopyOptions{ReplaceMetadata: true, Put: PutOptions{StorageClass: "STANDARD", ContentLanguage: "fr"}}, StorageClassStandard, "fr"},
	} {
		info, err := e.s.CopyObject(bg, root, "classes", "o-GLACIER", "classes", "copy", tc.opts)
		if err != nil || info.StorageClass != tc.wantClass || info.ContentLanguage != tc.wantLang {
			t.Errorf("%s: class %q language %q, %v", tc.name, info.StorageClass, info.ContentLanguage, err)
		}
	}
	up, err := e.s.CreateMultipartUpload(bg, root, "classes", "mp", PutOptions{StorageClass: "DeepColdArchive", ContentLanguage: "ja"})
	if err != nil || up.StorageClass != "DeepColdArchive" {
		t.Fatalf("upload class %q, %v", up.StorageClass, err)
	}
	lu, err := e.s.ListMultipartUploads(bg, root, "classes", ListUploadsOptions{})
	if err != nil || len(lu.Uploads) != 1 || lu.Uploads[0].StorageClass != "DeepColdArchive" {
		t.Fatalf("ListMultipartUploads = %+v, %v", lu.Uploads, err)
	}
	mp, err := e.s.CompleteMultipartUpload(bg, root, "classes", "mp", up.UploadID, uploadParts(t, e.s, "classes", "mp", up.UploadID, [][]byte{data}), CompleteOptions{})
	if err != nil || mp.StorageClass != "DeepColdArchive" || mp.ContentLanguage != "ja" {
		t.Fatalf("multipart class %q language %q, %v", mp.StorageClass, mp.ContentLanguage, err)
	}
	if got := get(t, e.s, "classes", "mp"); !bytes.Equal(got, data) {
		t.Fatal("an archive-class object does not read back without a restore")
	}
	_, err = e.s.CreateMultipartUpload(bg, root, "classes", "mp", PutOptions{StorageClass: "TAPE"})
	wantKind(t, err, KindInvalidArgument)
}

func TestWriteConditions(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "cond", nil)
	first := put(t, e.s, "cond", "obj", []byte("v1"), PutOptions{})
	for _, tc := range []struct {
		name string
		key  string
		cond WriteCondition
		want Kind // -1 = written
	}{
		{"if-match missing key", "nope", WriteCondition{IfMatch: `"` + first.ETag + `"`}, KindNoSuchKey},
		{"if-match star missing key", "nope", WriteCondition{IfMatch: "*"}, KindNoSuchKey},
		{"if-match other etag", "obj", WriteCondition{IfMatch: `"0123"`}, KindPreconditionFailed},
		{"if-none-match star existing", "obj", WriteCondition{IfNoneMatch: "*"}, KindPreconditionFailed},
		{"if-none-match its etag", "obj", WriteCondition{IfNoneMatch: `"x", W/"` + strings.ToUpper(first.ETag) + `"`}, KindPreconditionFailed},
		{"if-none-match other etag", "obj", WriteCondition{IfNoneMatch: `"0123"`}, -1},
		{"if-none-match star new", "new", WriteCondition{IfNoneMatch: "*"}, -1},
		{"if-match list", "new", WriteCondition{IfMatch: `"a", "` + md5hex([]byte("if-none-match star new")) + `"`}, -1},
	} {
		data := []byte(tc.name)
		before, _ := e.s.HeadObject(bg, root, "cond", tc.key)
		_, err := e.s.PutObject(bg, root, "cond", tc.key, bytes.NewReader(data), int64(len(data)), PutOptions{Condition: tc.cond})
		after, _ := e.s.HeadObject(bg, root, "cond", tc.key)
		if tc.want >= 0 {
			if KindOf(err) != tc.want || err == nil {
				t.Errorf("%s: %v, want kind %d", tc.name, err, tc.want)
			}
			if after.ETag != before.ETag {
				t.Errorf("%s: refused write replaced the object", tc.name)
			}
			continue
		}
		if err != nil || after.ETag != md5hex(data) {
			t.Errorf("%s: %v, object ETag %s", tc.name, err, after.ETag)
		}
	}

	// The same conditions on CompleteMultipartUpload and CopyObject.
	up, err := e.s.CreateMultipartUpload(bg, root, "cond", "obj", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cps := uploadParts(t, e.s, "cond", "obj", up.UploadID, [][]byte{[]byte("mp")})
	_, err = e.s.CompleteMultipartUpload(bg, root, "cond", "obj", up.UploadID, cps, CompleteOptions{Condition: WriteCondition{IfNoneMatch: "*"}})
	wantKind(t, err, KindPreconditionFailed)
	if _, err := e.s.CompleteMultipartUpload(bg, root, "cond", "obj", up.UploadID, cps, CompleteOptions{Condition: WriteCondition{IfMatch: "*"}}); err != nil {
		t.Fatalf("complete after a failed condition: %v", err)
	}
	_, err = e.s.CopyObject(bg, root, "cond", "obj", "cond", "new", CopyOptions{Put: PutOptions{Condition: WriteCondition{IfNoneMatch: "*"}}})
	wantKind(t, err, KindPreconditionFailed)
}

// TestWriteConditionIsAtomic races conditional writes of one key: exactly
// one If-None-Match: * write may create it, however they interleave.
func TestWriteConditionIsAtomic(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "race", nil)
	for round := range 5 {
		key := "k" + strings.Repeat("x", round)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				data := pattern(64<<10, byte(i))
				_, errs[i] = e.s.PutObject(bg, root, "race", key, bytes.NewReader(data), int64(len(data)), PutOptions{Condition: WriteCondition{IfNoneMatch: "*"}})
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case KindOf(err) != KindPreconditionFailed:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d conditional creates succeeded, want exactly 1", round, ok)
		}
	}
}
