package objstore

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/reference/rootkey"
	bolt "go.etcd.io/bbolt"
)

// fillEvery sets every field reachable from v (a pointer to a struct) to a
// value that is not its zero value, distinct per field, so that a codec
// that forgets a field fails a round trip. Strings hold invalid UTF-8,
// which the binary form keeps byte-exact (JSON keeps it only in bstr
// fields), unless utf8 is set.
func fillEvery(t testing.TB, v reflect.Value, n *int, utf8 bool) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillEvery(t, v.Elem(), n, utf8)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, *n*1000, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fillEvery(t, v.Field(i), n, utf8)
		}
	case reflect.String:
		if utf8 {
			v.SetString(fmt.Sprintf("s%d\x00é", *n))
		} else {
			v.SetString(fmt.Sprintf("s%d\xff\x00", *n))
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(-*n * 1000003))
	case reflect.Uint64:
		v.SetUint(^uint64(*n))
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{byte(*n), 0, 0xff})
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fillEvery(t, s.Index(i), n, utf8)
		}
		v.Set(s)
	default:
		t.Fatalf("fillEvery: field of kind %s: teach the test (and the codec) about it", v.Kind())
	}
}

// TestRecordCodecCoversEveryField round-trips records with every field
// set: a field added to objectRecord or bucketRecord and not to the
// binary codec fails here.
func TestRecordCodecCoversEveryField(t *testing.T) {
	n := 0
	var o objectRecord
	fillEvery(t, reflect.ValueOf(&o).Elem(), &n, false)
	// Format 2 (what the store writes) holds every field.
	got, err := decodeObject(testMAC(t).seal("b", tagObjects, []byte("k"), &o), "object")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, o) {
		t.Errorf("object record round trip:\n got %+v\nwant %+v", *got, o)
	}
	// Format 1 (legacy) holds every field but the CRC-32Cs.
	o1 := o
	o1.Files = slices.Clone(o.Files)
	for i := range o1.Files {
		o1.Files[i].CRC32C = 0
	}
	if got, err := decodeObject(encodeObject(&o), "object"); err != nil || !reflect.DeepEqual(*got, o1) {
		t.Errorf("format 1 round trip:\n got %+v\nwant %+v (%v)", got, o1, err)
	}
	var b bucketRecord
	fillEvery(t, reflect.ValueOf(&b).Elem(), &n, false)
	gb, err := decodeBucket(encodeBucket(&b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*gb, b) {
		t.Errorf("bucket record round trip:\n got %+v\nwant %+v", *gb, b)
	}

	// Zero records (a delete marker is nearly one) round-trip too, and the
	// zero time stays zero.
	var zo objectRecord
	if got, err := decodeObject(encodeObject(&zo), "object"); err != nil || !reflect.DeepEqual(*got, zo) || !got.LastModified.IsZero() {
		t.Errorf("zero object record: %+v, %v", got, err)
	}
	var zb bucketRecord
	if got, err := decodeBucket(encodeBucket(&zb)); err != nil || !reflect.DeepEqual(*got, zb) {
		t.Errorf("zero bucket record: %+v, %v", got, err)
	}

	// A JSON record of the same content (what older builds wrote) reads
	// the same. (Times decoded from JSON differ from time.Date's in their
	// internals only, so the records are compared in binary.)
	var jo objectRecord
	fillEvery(t, reflect.ValueOf(&jo).Elem(), &n, true)
	fromJSON, err := decodeObject(encode(&jo), "object")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encodeObject(fromJSON), encodeObject(&jo)) {
		t.Errorf("object record from JSON:\n got %+v\nwant %+v", *fromJSON, jo)
	}
	var jb bucketRecord
	fillEvery(t, reflect.ValueOf(&jb).Elem(), &n, true)
	bFromJSON, err := decodeBucket(encode(&jb))
	if err != nil || !bytes.Equal(encodeBucket(bFromJSON), encodeBucket(&jb)) {
		t.Errorf("bucket record from JSON: %+v, %v", bFromJSON, err)
	}
}

// TestCorruptBinaryRecords: every truncation of a record, unknown flags
// and trailing bytes are errors, never a panic or a silently shorter
// record.
func TestCorruptBinaryRecords(t *testing.T) {
	n := 0
	var o objectRecord
	fillEvery(t, reflect.ValueOf(&o).Elem(), &n, false)
	enc := encodeObject(&o)
	for i := 1; i < len(enc); i++ {
		if _, err := decodeObject(enc[:i], "object"); err == nil {
			t.Fatalf("record truncated to %d of %d bytes decoded", i, len(enc))
		}
	}
	if _, err := decodeObject(append(slices.Clone(enc), 0), "object"); err == nil {
		t.Error("trailing byte accepted")
	}
	// Every bit of the object flags byte is in use (flagSymlink took the
	// last), so no unknown flag is left to try: a flag whose field is
	// missing must fail instead, and so must a field whose flag is not set.
	bad := encodeObject(&objectRecord{})
	bad[1] |= flagSymlink
	if _, err := decodeObject(bad, "object"); err == nil {
		t.Error("symlink flag without a target accepted")
	}
	bad = slices.Clone(enc)
	bad[1] &^= flagSymlink
	if _, err := decodeObject(bad, "object"); err == nil {
		t.Error("symlink target without its flag accepted")
	}
	var b bucketRecord
	fillEvery(t, reflect.ValueOf(&b).Elem(), &n, false)
	be := encodeBucket(&b)
	for i := 1; i < len(be); i++ {
		if _, err := decodeBucket(be[:i]); err == nil {
			t.Fatalf("bucket record truncated to %d of %d bytes decoded", i, len(be))
		}
	}
}

// FuzzDecodeRecord: arbitrary bytes never panic the decoders, and what
// decodes re-encodes to a record that decodes the same.
func FuzzDecodeRecord(f *testing.F) {
	n := 0
	var o objectRecord
	fillEvery(f, reflect.ValueOf(&o).Elem(), &n, false)
	f.Add(encodeObject(&o))
	f.Add(encodeObject(&objectRecord{}))
	f.Add(encodeBucket(&bucketRecord{Name: "b", Rule: &ruleRecord{Algorithm: "KMS"}}))
	f.Add([]byte{recBinary1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := decodeObject(data, "object"); err == nil && len(data) > 0 && data[0] == recBinary1 {
			again, err := decodeObject(encodeObject(r), "object")
			if err != nil || !reflect.DeepEqual(again, r) {
				t.Fatalf("re-encoded record differs: %+v / %+v, %v", r, again, err)
			}
		}
		if r, err := decodeBucket(data); err == nil && len(data) > 0 && data[0] == recBinary1 {
			again, err := decodeBucket(encodeBucket(r))
			if err != nil || !reflect.DeepEqual(again, r) {
				t.Fatalf("re-encoded bucket record differs: %+v / %+v, %v", r, again, err)
			}
		}
	})
}

// toLegacyJSON rewrites every bucket, object and version record of the
// store's database as JSON and sets the format marker to format, which
// is what a build before binary records left on disk.
func toLegacyJSON(t *testing.T, db *bolt.DB, format string) {
	t.Helper()
	err := db.Update(func(tx *bolt.Tx) error {
		bs := tx.Bucket(tblBuckets)
		err := bs.ForEach(func(k, v []byte) error {
			b, err := decodeBucket(v)
			if err != nil {
				return err
			}
			return bs.Put(k, encode(b))
		})
		if err != nil {
			return err
		}
		for _, tbl := range [][]byte{tblObjects, tblVersions} {
			top := tx.Bucket(tbl)
			if top == nil {
				continue
			}
			err := top.ForEachBucket(func(name []byte) error {
				objs := top.Bucket(name)
				// Collect first: a bbolt bucket must not change under ForEach.
				var keys, vals [][]byte
				err := objs.ForEach(func(k, v []byte) error {
					r, err := decodeObject(v, "object")
					if err != nil {
						return err
					}
					keys, vals = append(keys, bytes.Clone(k)), append(vals, encode(r))
					return nil
				})
				if err != nil {
					return err
				}
				for i := range keys {
					if err := objs.Put(keys[i], vals[i]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return tx.Bucket(tblMeta).Put(keyFormat, []byte(format))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLegacyJSONRecords: a data dir whose records are JSON (every build
// before binary records) is refused with ErrUnauthenticatedDatabase and
// left unchanged unless adoption is allowed; adopted, every object and
// version record is authenticated (format 2), the database is v4, and it
// reads exactly as it did; a database of an unknown format is refused.
func TestLegacyJSONRecords(t *testing.T) {
	e := newTestEnv(t)
	cmk := e.createKey(t)
	mustBucket(t, e.s, "legacy", &EncryptionRule{Algorithm: AlgorithmKMS, KMSMasterKeyID: cmk})
	enableVersioning(t, e.s, "legacy", VersioningEnabled)
	put(t, e.s, "legacy", "a", []byte("first a"), PutOptions{ContentType: "text/plain", UserMetadata: map[string]string{"Owner": "x"}})
	put(t, e.s, "legacy", "a", []byte("second a"), PutOptions{StorageClass: "IA"})
	oldB := put(t, e.s, "legacy", "b", []byte("only b"), PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}, ChecksumAlgorithm: ChecksumSHA256})
	// What every read answers before the conversion is the reference.
	snapshot := func() string {
		t.Helper()
		var out bytes.Buffer
		for _, k := range []string{"a", "b"} {
			h, err := e.s.HeadObject(bg, root, "legacy", k)
			fmt.Fprintf(&out, "head %s: %+v %v\n", k, h, err)
			fmt.Fprintf(&out, "get %s: %q\n", k, get(t, e.s, "legacy", k))
		}
		l, err := e.s.ListObjects(bg, root, "legacy", ListOptions{})
		fmt.Fprintf(&out, "list: %+v %v\n", l, err)
		v, err := e.s.ListObjectVersions(bg, root, "legacy", ListVersionsOptions{})
		fmt.Fprintf(&out, "versions: %+v %v\n", v, err)
		bi, err := e.s.GetBucket(bg, root, "legacy")
		rule := *bi.Encryption
		bi.Encryption = nil // a pointer: print what it points to
		fmt.Fprintf(&out, "bucket: %+v %+v %v\n", bi, rule, err)
		return out.String()
	}
	before := snapshot()
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(e.cfg.Dir+"/"+MetaFile, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	toLegacyJSON(t, db, metaFormatVersioned)
	raw := func(db *bolt.DB) (format string, recs map[string][]byte) {
		recs = map[string][]byte{}
		db.View(func(tx *bolt.Tx) error {
			format = string(tx.Bucket(tblMeta).Get(keyFormat))
			recs["bucket"] = bytes.Clone(tx.Bucket(tblBuckets).Get([]byte("legacy")))
			for _, k := range []string{"a", "b"} {
				recs[k] = bytes.Clone(tx.Bucket(tblObjects).Bucket([]byte("legacy")).Get([]byte(k)))
			}
			return nil
		})
		return format, recs
	}
	_, legacy := raw(db)
	for k, v := range legacy {
		if len(v) == 0 || v[0] != '{' {
			t.Fatalf("record %s is not JSON: %q", k, v)
		}
	}
	db.Close()

	if s, err := Open(bg, e.cfg); !errors.Is(err, ErrUnauthenticatedDatabase) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("legacy database without adoption: %v, want ErrUnauthenticatedDatabase", err)
	}
	db, err = bolt.Open(e.cfg.Dir+"/"+MetaFile, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	format, recs := raw(db)
	db.Close()
	if format != metaFormatVersioned || !reflect.DeepEqual(recs, legacy) {
		t.Fatalf("a refused open changed the database: format %q", format)
	}

	e.cfg.AdoptUnauthenticated = true
	s, err := Open(bg, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	if after := snapshot(); after != before {
		t.Errorf("adopted JSON records read differently:\n got %s\nwant %s", after, before)
	}
	put(t, e.s, "legacy", "b", []byte("new b"), PutOptions{})
	// The old b, moved to the versions table by the write, still reads its
	// own bytes under its own key.
	if got := readVersion(t, e.s, "legacy", "b", oldB.VersionID); string(got) != "only b" {
		t.Fatalf("old b reads %q", got)
	}
	e.s.Close()
	db, err = bolt.Open(e.cfg.Dir+"/"+MetaFile, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	format, recs = raw(db)
	if format != metaFormatAuthenticated || recs["a"][0] != recBinary2 || recs["b"][0] != recBinary2 || !bytes.Equal(recs["bucket"], legacy["bucket"]) {
		t.Errorf("after adoption: format %q, a %q..., b %q..., bucket unchanged %v", format, recs["a"][:1], recs["b"][:1], bytes.Equal(recs["bucket"], legacy["bucket"]))
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(tblMeta).Put(keyFormat, []byte("sseaudit/objstore/v99")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := Open(bg, e.cfg); err == nil {
		s.Close()
		t.Fatal("a database of an unknown format opened")
	}
}

// testMAC is a record MAC under the test root key.
func testMAC(t testing.TB) *recordMAC {
	t.Helper()
	rk, err := rootkey.New(bytes.Repeat([]byte{7}, rootkey.Size), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newRecordMAC(rk)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// encodeObject is the format 1 (unauthenticated) encoding, which only
// tests write now (legacy databases); the store writes recordMAC.seal.
func encodeObject(r *objectRecord) []byte {
	return appendObjectBody([]byte{recBinary1}, r, recBinary1)
}
