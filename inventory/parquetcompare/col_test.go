package parquetcompare

import (
	"bytes"
	"io"
	"testing"

	"github.com/sseaudit/sseaudit/inventory"
)

// BenchmarkInventoryParquetReader is sseaudit's reader (parquet-go,
// column by column, a batch of values at a time).
func BenchmarkInventoryParquetReader(b *testing.B) {
	d := getData(b)
	b.SetBytes(int64(len(d)))
	f := inventory.File{Key: "bench.parquet", Size: int64(len(d))}
	m := inventory.Manifest{FileFormat: inventory.FormatParquet, Schema: []string{"Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker",
		"Size", "LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded", "EncryptionStatus", "BucketKeyStatus"}}
	for b.Loop() {
		r, err := inventory.OpenData(bytes.NewReader(d), f, m)
		if err != nil {
			b.Fatal(err)
		}
		var row inventory.Row
		n := 0
		for {
			err := r.Next(&row)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			sink = Row{Bucket: row.Bucket, Key: row.Key, VersionID: row.VersionID, IsLatest: row.IsLatest, IsDeleteMarker: row.IsDeleteMarker,
				Size: row.Size, LastModified: row.LastModified, ETag: row.ETag, StorageClass: row.StorageClass, Multipart: row.Multipart,
				Enc: row.EncryptionStatus, BucketKey: row.BucketKeyStatus}
			n++
		}
		r.Close()
		if n != N {
			b.Fatal(n)
		}
	}
	report(b)
}
