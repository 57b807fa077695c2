package parquetcompare

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pqfile "github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
	xbuf "github.com/xitongsys/parquet-go-source/buffer"
	xreader "github.com/xitongsys/parquet-go/reader"
)

// Row is what every candidate decodes a row into.
type Row struct {
	Bucket, Key, VersionID              string
	IsLatest, IsDeleteMarker, Multipart bool
	Size                                int64
	LastModified                        time.Time
	ETag, StorageClass, Enc, BucketKey  string
}

type wrow struct {
	Bucket       string     `parquet:"bucket"`
	Key          string     `parquet:"key"`
	VersionID    *string    `parquet:"version_id,optional"`
	IsLatest     *bool      `parquet:"is_latest,optional"`
	IsDM         *bool      `parquet:"is_delete_marker,optional"`
	Size         *int64     `parquet:"size,optional"`
	LastModified *time.Time `parquet:"last_modified_date,optional,timestamp(millisecond)"`
	ETag         *string    `parquet:"e_tag,optional"`
	StorageClass *string    `parquet:"storage_class,optional"`
	Multipart    *bool      `parquet:"is_multipart_uploaded,optional"`
	Enc          *string    `parquet:"encryption_status,optional"`
	BucketKey    *string    `parquet:"bucket_key_status,optional"`
}

// N rows make the file.
const N = 200_000

// gen writes the file every candidate reads.
func gen(tb testing.TB) []byte {
	var b bytes.Buffer
	w := pq.NewGenericWriter[wrow](&b, pq.Compression(&snappy.Codec{}), pq.MaxRowsPerRowGroup(64_000))
	T, F := true, false
	std, kms, dis := "STANDARD", "SSE-KMS", "DISABLED"
	rows := make([]wrow, 0, 1000)
	for i := range N {
		v := fmt.Sprintf("v%020d", i)
		sz := int64(i * 7)
		lm := time.Date(2024, 5, 1, 10, 0, i%60, 0, time.UTC)
		et := fmt.Sprintf("%032x", i)
		rows = append(rows, wrow{Bucket: "estate-bucket", Key: fmt.Sprintf("data/year=2024/part-%08d.parquet", i), VersionID: &v, IsLatest: &T, IsDM: &F,
			Size: &sz, LastModified: &lm, ETag: &et, StorageClass: &std, Multipart: &F, Enc: &kms, BucketKey: &dis})
		if len(rows) == cap(rows) {
			if _, err := w.Write(rows); err != nil {
				tb.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

var data []byte

func getData(tb testing.TB) []byte {
	if data == nil {
		data = gen(tb)
		tb.Logf("file: %d rows, %d bytes", N, len(data))
	}
	return data
}

type rrow struct {
	Bucket       string `parquet:"bucket"`
	Key          string `parquet:"key"`
	VersionID    string `parquet:"version_id,optional"`
	IsLatest     bool   `parquet:"is_latest,optional"`
	IsDM         bool   `parquet:"is_delete_marker,optional"`
	Size         int64  `parquet:"size,optional"`
	LastModified int64  `parquet:"last_modified_date,optional"`
	ETag         string `parquet:"e_tag,optional"`
	StorageClass string `parquet:"storage_class,optional"`
	Multipart    bool   `parquet:"is_multipart_uploaded,optional"`
	Enc          string `parquet:"encryption_status,optional"`
	BucketKey    string `parquet:"bucket_key_status,optional"`
}

func report(b *testing.B) {
	b.ReportMetric(float64(N)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

var sink Row

func BenchmarkParquetGoGeneric(b *testing.B) {
	d := getData(b)
	b.SetBytes(int64(len(d)))
	buf := make([]rrow, 1024)
	for b.Loop() {
		f, err := pq.OpenFile(bytes.NewReader(d), int64(len(d)))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, rg := range f.RowGroups() {
			r := pq.NewGenericRowGroupReader[rrow](rg)
			for {
				k, err := r.Read(buf)
				for i := range buf[:k] {
					x := &buf[i]
					sink = Row{Bucket: x.Bucket, Key: x.Key, VersionID: x.VersionID, IsLatest: x.IsLatest, IsDeleteMarker: x.IsDM, Size: x.Size,
						LastModified: time.UnixMilli(x.LastModified), ETag: x.ETag, StorageClass: x.StorageClass, Multipart: x.Multipart, Enc: x.Enc, BucketKey: x.BucketKey}
				}
				n += k
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			r.Close()
		}
		if n != N {
			b.Fatal(n)
		}
	}
	report(b)
}

func BenchmarkArrowGo(b *testing.B) {
	d := getData(b)
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		pr, err := pqfile.NewParquetReader(bytes.NewReader(d))
		if err != nil {
			b.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		rr, err := fr.GetRecordReader(context.Background(), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rr.Next() {
			rec := rr.RecordBatch()
			col := func(i int) arrow.Array { return rec.Column(i) }
			bucket, key, ver := col(0).(*array.String), col(1).(*array.String), col(2).(*array.String)
			lat, dm := col(3).(*array.Boolean), col(4).(*array.Boolean)
			size, lm := col(5).(*array.Int64), col(6).(*array.Timestamp)
			et, sc, mp, enc, bk := col(7).(*array.String), col(8).(*array.String), col(9).(*array.Boolean), col(10).(*array.String), col(11).(*array.String)
			for i := range int(rec.NumRows()) {
				sink = Row{Bucket: bucket.Value(i), Key: strings.Clone(key.Value(i)), VersionID: strings.Clone(ver.Value(i)), IsLatest: lat.Value(i), IsDeleteMarker: dm.Value(i),
					Size: size.Value(i), LastModified: time.UnixMilli(int64(lm.Value(i))), ETag: strings.Clone(et.Value(i)), StorageClass: sc.Value(i),
					Multipart: mp.Value(i), Enc: enc.Value(i), BucketKey: bk.Value(i)}
			}
			n += int(rec.NumRows())
		}
		if err := rr.Err(); err != nil && err != io.EOF {
			b.Fatal(err)
		}
		rr.Release()
		pr.Close()
		if n != N {
			b.Fatal(n)
		}
	}
	report(b)
}

type xrow struct {
	Bucket       string  `parquet:"name=bucket, type=BYTE_ARRAY, convertedtype=UTF8"`
	Key          string  `parquet:"name=key, type=BYTE_ARRAY, convertedtype=UTF8"`
	VersionID    *string `parquet:"name=version_id, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	IsLatest     *bool   `parquet:"name=is_latest, type=BOOLEAN, repetitiontype=OPTIONAL"`
	IsDM         *bool   `parquet:"name=is_delete_marker, type=BOOLEAN, repetitiontype=OPTIONAL"`
	Size         *int64  `parquet:"name=size, type=INT64, repetitiontype=OPTIONAL"`
	LastModified *int64  `parquet:"name=last_modified_date, type=INT64, convertedtype=TIMESTAMP_MILLIS, repetitiontype=OPTIONAL"`
	ETag         *string `parquet:"name=e_tag, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	StorageClass *string `parquet:"name=storage_class, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	Multipart    *bool   `parquet:"name=is_multipart_uploaded, type=BOOLEAN, repetitiontype=OPTIONAL"`
	Enc          *string `parquet:"name=encryption_status, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
	BucketKey    *string `parquet:"name=bucket_key_status, type=BYTE_ARRAY, convertedtype=UTF8, repetitiontype=OPTIONAL"`
}

func s(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
func bl(p *bool) bool { return p != nil && *p }

func BenchmarkXitongsys(b *testing.B) {
	d := getData(b)
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		pf := xbuf.NewBufferFileFromBytes(d)
		r, err := xreader.NewParquetReader(pf, new(xrow), 1)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		buf := make([]xrow, 1024)
		for n < int(r.GetNumRows()) {
			k := min(1024, int(r.GetNumRows())-n)
			buf = buf[:k]
			if err := r.Read(&buf); err != nil {
				b.Fatal(err)
			}
			for i := range buf {
				x := &buf[i]
				var lm int64
				if x.LastModified != nil {
					lm = *x.LastModified
				}
				var sz int64
				if x.Size != nil {
					sz = *x.Size
				}
				sink = Row{Bucket: x.Bucket, Key: x.Key, VersionID: s(x.VersionID), IsLatest: bl(x.IsLatest), IsDeleteMarker: bl(x.IsDM), Size: sz,
					LastModified: time.UnixMilli(lm), ETag: s(x.ETag), StorageClass: s(x.StorageClass), Multipart: bl(x.Multipart), Enc: s(x.Enc), BucketKey: s(x.BucketKey)}
			}
			n += k
		}
		r.ReadStop()
		if n != N {
			b.Fatal(n)
		}
	}
	report(b)
}
