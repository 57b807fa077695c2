package inventory

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/brotli"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/lz4"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// pqRow is an S3 Parquet inventory row as S3 documents its schema
// (pointers: a nil field is a null value).
type pqRow struct {
	Bucket          string     `parquet:"bucket"`
	Key             string     `parquet:"key"`
	VersionID       *string    `parquet:"version_id,optional"`
	IsLatest        *bool      `parquet:"is_latest,optional"`
	IsDeleteMarker  *bool      `parquet:"is_delete_marker,optional"`
	Size            *int64     `parquet:"size,optional"`
	LastModified    *time.Time `parquet:"last_modified_date,optional,timestamp(millisecond)"`
	ETag            *string    `parquet:"e_tag,optional"`
	StorageClass    *string    `parquet:"storage_class,optional"`
	Multipart       *bool      `parquet:"is_multipart_uploaded,optional"`
	EncStatus       *string    `parquet:"encryption_status,optional"`
	BucketKeyStatus *string    `parquet:"bucket_key_status,optional"`
	ObjectOwner     *string    `parquet:"object_owner,optional"` // a column the census does not read
}

func ptr[T any](v T) *T { return &v }

// pqSchema is the fileSchema S3 writes for pqRow's columns.
const pqSchema = "message s3.inventory { required binary bucket (STRING); required binary key (STRING); optional binary version_id (STRING); optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; optional int64 last_modified_date (TIMESTAMP(MILLIS,true)); optional binary e_tag (STRING); optional binary storage_class (STRING); optional boolean is_multipart_uploaded; optional binary encryption_status (STRING); optional binary bucket_key_status (STRING); optional binary object_owner (STRING);}"

func writePQ[T any](t testing.TB, rows []T, rowsPerGroup int64) []byte {
	return writePQWith(t, rows, rowsPerGroup, &snappy.Codec{})
}

func writePQWith[T any](t testing.TB, rows []T, rowsPerGroup int64, codec compress.Codec) []byte {
	t.Helper()
	var b bytes.Buffer
	w := parquet.NewGenericWriter[T](&b, parquet.Compression(codec), parquet.MaxRowsPerRowGroup(rowsPerGroup))
	for len(rows) > 0 {
		n := min(len(rows), 4096)
		if _, err := w.Write(rows[:n]); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func schemaOf(t testing.TB, s string) []string {
	t.Helper()
	cols, err := parseParquetSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

func readPQ(t testing.TB, data []byte, schema []string) ([]Row, error) {
	t.Helper()
	r, err := OpenData(bytes.NewReader(data), File{Key: "f.parquet", Size: int64(len(data))}, Manifest{FileFormat: FormatParquet, Schema: schema})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var rows []Row
	for {
		var row Row
		err := r.Next(&row)
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

func TestParseParquetManifest(t *testing.T) {
	// The example manifest of the S3 documentation, with an older writer's
	// UTF8 annotations.
	doc := `{"sourceBucket":"src","destinationBucket":"arn:aws:s3:::dst","version":"2016-11-30","creationTimestamp":"1514944800000","fileFormat":"Parquet","fileSchema":"message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8); optional boolean is_latest; optional boolean is_delete_marker; optional int64 size; optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8); optional binary storage_class (UTF8); optional boolean is_multipart_uploaded; optional binary replication_status (UTF8); optional binary encryption_status (UTF8); optional int64 object_lock_retain_until_date (TIMESTAMP_MILLIS); optional binary object_lock_mode (UTF8); optional binary object_lock_legal_hold_status (UTF8); optional binary intelligent_tiering_access_tier (UTF8); optional binary bucket_key_status (UTF8); optional binary checksum_algorithm (UTF8); }","files":[{"key":"inventory/src/data/d754c470-85bb-4255-9218-47023c8b4910.parquet","size":56291,"MD5checksum":"5825f2e18e1695c2d030b9f6eef00000"}]}`
	m, err := ParseManifest([]byte(doc), []byte(md5hex([]byte(doc))), Expect{Dialect: S3, SourceBucket: "src", DestBucket: "dst"})
	if err != nil {
		t.Fatal(err)
	}
	want := "Bucket|Key|VersionId|IsLatest|IsDeleteMarker|Size|LastModifiedDate|ETag|StorageClass|IsMultipartUploaded|ReplicationStatus|EncryptionStatus|ObjectLockRetainUntilDate|ObjectLockMode|ObjectLockLegalHoldStatus|IntelligentTieringAccessTier|BucketKeyStatus|ChecksumAlgorithm"
	if m.FileFormat != FormatParquet || strings.Join(m.Schema, "|") != want {
		t.Fatalf("%s %q", m.FileFormat, m.Schema)
	}
	if got := schemaOf(t, pqSchema); strings.Join(got, "|") != "Bucket|Key|VersionId|IsLatest|IsDeleteMarker|Size|LastModifiedDate|ETag|StorageClass|IsMultipartUploaded|EncryptionStatus|BucketKeyStatus|ObjectOwner" {
		t.Fatalf("%q", got)
	}

	orc := strings.Replace(strings.Replace(doc, `"Parquet"`, `"ORC"`, 1), doc[strings.Index(doc, `"fileSchema"`):strings.Index(doc, `,"files"`)], `"fileSchema":"struct<bucket:string,key:string,encryption_status:string>"`, 1)
	for _, tc := range []struct {
		name, body, dialect, msg string
	}{
		{"orc", orc, S3, "ORC, which sseaudit does not read"},
		{"parquet on oss", strings.Replace(doc, "arn:aws:s3:::", "", 1), OSS, "OSS inventories are CSV only"},
		{"unknown format", strings.Replace(doc, `"Parquet"`, `"JSON"`, 1), S3, "S3 inventories are CSV, ORC or Parquet"},
		{"not a message schema", strings.Replace(doc, "message s3.inventory {", "struct<", 1), S3, "not a Parquet message schema"},
		{"nested group", strings.Replace(doc, "optional boolean is_latest;", "optional group tags { optional binary k; };", 1), S3, "not a flat column"},
		{"no key column", strings.Replace(doc, "required binary key (UTF8);", "", 1), S3, "no Bucket or Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tc.body), []byte(md5hex([]byte(tc.body))), Expect{Dialect: tc.dialect, SourceBucket: "src"})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want ErrInvalid with %q", err, tc.msg)
			}
		})
	}
}

func TestParquetReader(t *testing.T) {
	lm := time.Date(2024, 5, 1, 10, 0, 0, 123e6, time.UTC)
	rows := []pqRow{
		{Bucket: "src", Key: "dir/a b+%zz.txt", VersionID: ptr("null"), IsLatest: ptr(true), IsDeleteMarker: ptr(false), Size: ptr(int64(12)),
			LastModified: &lm, ETag: ptr("0123456789abcdef0123456789abcdef"), StorageClass: ptr("STANDARD"), Multipart: ptr(true),
			EncStatus: ptr("SSE-KMS"), BucketKeyStatus: ptr("ENABLED"), ObjectOwner: ptr("owner")},
		{Bucket: "src", Key: "x", VersionID: ptr("v2"), IsLatest: ptr(false), IsDeleteMarker: ptr(true)},
		{Bucket: "src", Key: "plain", VersionID: ptr("v1"), IsLatest: ptr(true), Size: ptr(int64(0)), LastModified: &lm, EncStatus: ptr("NOT-SSE")},
	}
	// Several row groups, so the reader moves from one to the next.
	got, err := readPQ(t, writePQ(t, rows, 2), schemaOf(t, pqSchema))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Bucket: "src", Key: "dir/a b+%zz.txt", IsLatest: true, Size: 12, LastModified: lm, ETag: "0123456789abcdef0123456789abcdef",
			StorageClass: "STANDARD", Multipart: true, EncryptionStatus: "SSE-KMS", BucketKeyStatus: "ENABLED"},
		{Bucket: "src", Key: "x", VersionID: "v2", IsDeleteMarker: true},
		{Bucket: "src", Key: "plain", VersionID: "v1", IsLatest: true, LastModified: lm, EncryptionStatus: "NOT-SSE"},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if got[0].Encryption(S3) != EncKMS || got[0].LastModified.Location() != time.UTC {
		t.Fatalf("%+v", got[0])
	}
	// Every codec whose decompressed size is checked reads the same rows.
	for name, codec := range map[string]compress.Codec{"gzip": &gzip.Codec{}, "zstd": &zstd.Codec{}, "brotli": &brotli.Codec{}, "lz4": &lz4.Codec{}, "none": &uncompressed.Codec{}} {
		got, err := readPQ(t, writePQWith(t, rows, 2, codec), schemaOf(t, pqSchema))
		if err != nil || fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}

	// A current-versions report: no version columns, IsLatest implied.
	type current struct {
		Bucket    string  `parquet:"bucket"`
		Key       string  `parquet:"key"`
		EncStatus *string `parquet:"encryption_status,optional"`
	}
	got, err = readPQ(t, writePQ(t, []current{{"src", "k", ptr("SSE-S3")}}, 100), []string{"Bucket", "Key", "EncryptionStatus"})
	if err != nil || len(got) != 1 || !got[0].IsLatest || got[0].Encryption(S3) != EncManaged {
		t.Fatalf("%+v %v", got, err)
	}
}

// TestParquetBadInput: a damaged or foreign file is an ErrInvalid error
// naming the problem, never a panic or a silently shorter census.
func TestParquetBadInput(t *testing.T) {
	var rows []pqRow
	lm := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3000 {
		rows = append(rows, pqRow{Bucket: "src", Key: fmt.Sprintf("k%05d", i), IsLatest: ptr(true), Size: ptr(int64(i)), LastModified: &lm, EncStatus: ptr("SSE-S3")})
	}
	good := writePQ(t, rows, 1000)
	schema := schemaOf(t, pqSchema)
	if got, err := readPQ(t, good, schema); err != nil || len(got) != len(rows) {
		t.Fatalf("%d rows, %v", len(got), err)
	}

	type noKey struct {
		Bucket    string  `parquet:"bucket"`
		EncStatus *string `parquet:"encryption_status,optional"`
	}
	type sizeString struct {
		Bucket string  `parquet:"bucket"`
		Key    string  `parquet:"key"`
		Size   *string `parquet:"size,optional"`
	}
	type noEnc struct {
		Bucket string `parquet:"bucket"`
		Key    string `parquet:"key"`
	}
	type microTime struct {
		Bucket string     `parquet:"bucket"`
		Key    string     `parquet:"key"`
		LM     *time.Time `parquet:"last_modified_date,optional,timestamp(microsecond)"`
	}
	// A page header made to claim 2 GiB: the first data page of the key
	// column, whose offset the footer gives.
	bigPage := func() []byte {
		f, err := parquet.OpenFile(bytes.NewReader(good), int64(len(good)))
		if err != nil {
			t.Fatal(err)
		}
		off := f.Metadata().RowGroups[0].Columns[1].MetaData.DataPageOffset
		if d := f.Metadata().RowGroups[0].Columns[1].MetaData.DictionaryPageOffset; d > 0 {
			off = d
		}
		b := bytes.Clone(good)
		// Compact thrift: a field header byte and the page type's varint,
		// then field 2's header byte and the uncompressed size as a
		// zigzag varint, overwritten here with 2^31-1 (zigzag 2^32-2).
		if b[off] != 0x15 || b[off+2] != 0x15 {
			t.Fatalf("page header starts % x", b[off:off+4])
		}
		i := off + 3
		var v [binary.MaxVarintLen64]byte
		n := binary.PutUvarint(v[:], uint64(1<<32-2))
		size := 0
		for b[i+int64(size)]&0x80 != 0 {
			size++
		}
		size++
		return append(append(append([]byte{}, b[:i]...), v[:n]...), b[i+int64(size):]...)
	}
	// The snappy data of the key column's first page made to say it
	// decompresses to 4 GiB.
	snappyBomb := func() []byte {
		f, err := parquet.OpenFile(bytes.NewReader(good), int64(len(good)))
		if err != nil {
			t.Fatal(err)
		}
		md := f.Metadata().RowGroups[0].Columns[1].MetaData
		if md.DictionaryPageOffset > 0 {
			t.Fatal("the key column has a dictionary")
		}
		var h format.PageHeader
		var proto thrift.CompactProtocol
		br := proto.NewReaderFromBytes(good[md.DataPageOffset:])
		if err := thrift.NewDecoder(br).Decode(&h); err != nil {
			t.Fatal(err)
		}
		data := md.DataPageOffset + int64(br.BytesRead())
		if h.DataPageHeaderV2.Valid {
			data += int64(h.DataPageHeaderV2.V.RepetitionLevelsByteLength + h.DataPageHeaderV2.V.DefinitionLevelsByteLength)
		}
		b := bytes.Clone(good)
		copy(b[data:], []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
		return b
	}
	// An LZ4 page whose header declares 100 bytes fewer than its data
	// holds.
	lz4Bomb := func() []byte {
		b := writePQWith(t, rows, 1000, &lz4.Codec{})
		f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		off := f.Metadata().RowGroups[0].Columns[1].MetaData.DataPageOffset
		var h format.PageHeader
		var proto thrift.CompactProtocol
		if err := thrift.NewDecoder(proto.NewReaderFromBytes(b[off:])).Decode(&h); err != nil {
			t.Fatal(err)
		}
		h.UncompressedPageSize -= 100
		var hb bytes.Buffer
		if err := thrift.NewEncoder(proto.NewWriter(&hb)).Encode(&h); err != nil {
			t.Fatal(err)
		}
		// The same length, so no offset after it moves.
		old := proto.NewReaderFromBytes(b[off:])
		if err := thrift.NewDecoder(old).Decode(&format.PageHeader{}); err != nil || old.BytesRead() != hb.Len() {
			t.Fatalf("header of %d bytes re-encoded in %d", old.BytesRead(), hb.Len())
		}
		out := bytes.Clone(b)
		copy(out[off:], hb.Bytes())
		return out
	}
	at := func(b []byte, i int, x byte) []byte { b = bytes.Clone(b); b[i] = x; return b }
	for _, tc := range []struct {
		name   string
		data   []byte
		schema []string
		msg    string
	}{
		{"truncated", good[:len(good)-100], schema, "does not end with the Parquet magic"},
		{"truncated to nothing", good[:5], schema, "too short for Parquet"},
		{"not parquet", gzCSV(t, `"src","a","1","SSE-S3"`, `"src","b","2","SSE-S3"`), schema, "not Parquet"},
		{"footer too large", append(bytes.Clone(good[:len(good)-8]), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'), schema, "footer of"},
		{"corrupt footer", at(good, len(good)-20, 0xff), schema, "not a readable Parquet file"},
		{"no key column", writePQ(t, []noKey{{"src", ptr("SSE-S3")}}, 10), []string{"Bucket", "EncryptionStatus"}, "has no column key"},
		{"size as a string", writePQ(t, []sizeString{{"src", "k", ptr("12")}}, 10), []string{"Bucket", "Key", "Size"}, "column size is optional BYTE_ARRAY"},
		{"a column the manifest names is missing", writePQ(t, []noEnc{{"src", "k"}}, 10), schema, "has no column version_id"},
		{"empty key", writePQ(t, []noEnc{{"src", ""}}, 10), []string{"Bucket", "Key"}, "key is null or empty"},
		{"null date", writePQ(t, []pqRow{{Bucket: "src", Key: "k", IsLatest: ptr(true), Size: ptr(int64(1))}}, 10), schema, "last_modified_date is null"},
		{"page over the limit", bigPage(), schema, "over the"},
		{"snappy data over the limit", snappyBomb(), schema, "decompresses to 4294967295 bytes, over the"},
		{"lz4 over its declared size", lz4Bomb(), schema, "longer than the"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			got, err := readPQ(t, tc.data, tc.schema)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %d rows, %v; want ErrInvalid with %q", len(got), err, tc.msg)
			}
		})
	}
	// Other timestamp units are read in their unit.
	lm = time.Date(2024, 5, 1, 10, 0, 0, 123456e3, time.UTC)
	got, err := readPQ(t, writePQ(t, []microTime{{"src", "k", &lm}}, 10), []string{"Bucket", "Key", "LastModifiedDate"})
	if err != nil || len(got) != 1 || !got[0].LastModified.Equal(lm) {
		t.Fatalf("%+v %v", got, err)
	}
}

// FuzzParquetReader: whatever the bytes, the reader returns rows or an
// ErrInvalid error; it never panics.
func FuzzParquetReader(f *testing.F) {
	var rows []pqRow
	for i := range 40 {
		rows = append(rows, pqRow{Bucket: "src", Key: fmt.Sprintf("k%d", i), VersionID: ptr("v"), IsLatest: ptr(i%2 == 0), Size: ptr(int64(i)),
			EncStatus: ptr("SSE-S3"), BucketKeyStatus: ptr("DISABLED")})
	}
	good := writePQ(f, rows, 16)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	schema := schemaOf(f, pqSchema)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readPQ(t, data, schema)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("error not ErrInvalid: %v", err)
		}
		if len(got) > len(data) {
			t.Fatalf("%d rows from %d bytes", len(got), len(data))
		}
	})
}

// BenchmarkParquetRows decodes an S3 Parquet data file of 200,000 rows
// (the columns a census reads, snappy, row groups of 64,000 rows) on one
// goroutine, as BenchmarkCSVRows does for CSV; the census needs 300,000
// rows/s or more on one core.
func BenchmarkParquetRows(b *testing.B) {
	const n = 200_000
	rows := make([]pqRow, n)
	for i := range rows {
		lm := time.Date(2024, 5, 1, 10, 0, i%60, 0, time.UTC)
		rows[i] = pqRow{Bucket: "estate-bucket", Key: fmt.Sprintf("data/year=2024/part-%08d.parquet", i), VersionID: ptr(fmt.Sprintf("v%020d", i)),
			IsLatest: ptr(true), IsDeleteMarker: ptr(false), Size: ptr(int64(i * 7)), LastModified: &lm, ETag: ptr(fmt.Sprintf("%032x", i)),
			StorageClass: ptr("STANDARD"), Multipart: ptr(false), EncStatus: ptr("SSE-KMS"), BucketKeyStatus: ptr("DISABLED")}
	}
	data := writePQ(b, rows, 64_000)
	rows = nil
	schema := schemaOf(b, pqSchema)
	f := File{Key: "bench.parquet", Size: int64(len(data))}
	m := Manifest{FileFormat: FormatParquet, Schema: schema}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := OpenData(bytes.NewReader(data), f, m)
		if err != nil {
			b.Fatal(err)
		}
		var row Row
		got := 0
		for {
			err := r.Next(&row)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		r.Close()
		if got != n {
			b.Fatalf("%d rows", got)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
