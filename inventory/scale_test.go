package inventory_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/scan"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestInventoryScale measures the inventory census end to end: an S3
// report of SSEAUDIT_INVENTORY_ROWS rows (e.g. 10000000) in files of one
// million rows is written into an embedded reference, and a child process
// (so its peak RSS is the census's alone) censuses the bucket from it into
// a snapshot file. Skipped unless the variable is set;
// SSEAUDIT_INVENTORY_FORMAT=parquet writes Parquet data files instead of
// gzipped CSV.
//
//	SSEAUDIT_INVENTORY_ROWS=10000000 go test -run InventoryScale -v -timeout 30m ./inventory/
func TestInventoryScale(t *testing.T) {
	if os.Getenv("SSEAUDIT_INVENTORY_CHILD") != "" {
		scaleChild(t)
		return
	}
	n, _ := strconv.Atoi(os.Getenv("SSEAUDIT_INVENTORY_ROWS"))
	if n <= 0 {
		t.Skip("set SSEAUDIT_INVENTORY_ROWS to measure")
	}
	ctx := context.Background()
	ref, stop, err := embedded.StartTemp(ctx, embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	c, err := client.New(client.Config{Dialect: client.S3, Endpoint: ref.Endpoint, Region: ref.Region,
		AccessKeyID: ref.AccessKeyID, AccessKeySecret: ref.AccessKeySecret, Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"scale-src", "scale-dst"} {
		if err := c.CreateBucket(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	const perFile = 1_000_000
	type file struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
		MD5  string `json:"MD5checksum"`
	}
	var files []file
	start := time.Now()
	parquetFormat := os.Getenv("SSEAUDIT_INVENTORY_FORMAT") == "parquet"
	for i := 0; i*perFile < n; i++ {
		var buf bytes.Buffer
		key := fmt.Sprintf("inv/scale-src/all/data/%08d.csv.gz", i)
		if parquetFormat {
			key = fmt.Sprintf("inv/scale-src/all/data/%08d.parquet", i)
			writeScaleParquet(t, &buf, i*perFile, min(n, (i+1)*perFile))
		} else {
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
			bw := bufio.NewWriter(zw)
			for r := i * perFile; r < min(n, (i+1)*perFile); r++ {
				enc := "SSE-S3"
				if r%10 == 0 {
					enc = "NOT-SSE"
				}
				fmt.Fprintf(bw, `"scale-src","data%%2F%03d%%2Fobject-%09d.bin","%d","2024-05-01T10:%02d:%02d.000Z","%032x","STANDARD","false","%s",""`+"\n",
					r%1000, r, r%100000, r/60%60, r%60, r, enc)
			}
			bw.Flush()
			zw.Close()
		}
		sum := md5.Sum(buf.Bytes())
		files = append(files, file{Key: key, Size: int64(buf.Len()), MD5: hex.EncodeToString(sum[:])})
		if _, err := c.PutObject(ctx, "scale-dst", key, bytes.NewReader(buf.Bytes()), int64(buf.Len()), client.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	format, schema := "CSV", "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, EncryptionStatus, BucketKeyStatus"
	if parquetFormat {
		format, schema = "Parquet", scaleParquetSchema
	}
	m, _ := json.Marshal(map[string]any{"sourceBucket": "scale-src", "destinationBucket": "arn:aws:s3:::scale-dst", "version": "2016-11-30",
		"creationTimestamp": strconv.FormatInt(time.Now().UnixMilli(), 10), "fileFormat": format, "fileSchema": schema, "files": files})
	sum := md5.Sum(m)
	for name, body := range map[string][]byte{"manifest.json": m, "manifest.checksum": []byte(hex.EncodeToString(sum[:]))} {
		if _, err := c.PutObject(ctx, "scale-dst", "inv/scale-src/all/2024-05-02T00-00Z/"+name, bytes.NewReader(body), int64(len(body)), client.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	t.Logf("wrote %d rows in %d files (%.1f MiB compressed) in %v", n, len(files), float64(total)/(1<<20), time.Since(start).Round(time.Second))

	out := filepath.Join(t.TempDir(), "snapshot.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestInventoryScale$", "-test.v")
	cmd.Env = append(os.Environ(), "SSEAUDIT_INVENTORY_CHILD=1", "SCALE_ENDPOINT="+ref.Endpoint, "SCALE_REGION="+ref.Region,
		"SCALE_AK="+ref.AccessKeyID, "SCALE_SK="+ref.AccessKeySecret, "SCALE_OUT="+out)
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("census child: %v\n%s", err, res)
	}
	for _, l := range strings.Split(string(res), "\n") {
		if strings.Contains(l, "census:") {
			t.Log(strings.TrimSpace(l))
		}
	}
	sumDoc, err := snapshot.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if sumDoc.Coverage.ObjectsListed != int64(n) || sumDoc.Coverage.ObjectsInspected != int64(n) {
		t.Fatalf("coverage %+v", sumDoc.Coverage)
	}
}

func scaleChild(t *testing.T) {
	c, err := client.New(client.Config{Dialect: client.S3, Endpoint: os.Getenv("SCALE_ENDPOINT"), Region: os.Getenv("SCALE_REGION"),
		AccessKeyID: os.Getenv("SCALE_AK"), AccessKeySecret: os.Getenv("SCALE_SK"), Timeout: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sum, err := scan.RunToFile(context.Background(), scan.Config{Client: c, Buckets: []string{"scale-src"}, BucketGlob: "scale-src",
		Inventory: []scan.InventorySource{{Bucket: "scale-src", DestBucket: "scale-dst", Prefix: "inv"}}}, os.Getenv("SCALE_OUT"))
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	st, _ := os.ReadFile("/proc/self/status")
	hwm := ""
	for _, l := range strings.Split(string(st), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			hwm = strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	t.Logf("census: %d objects in %v (%.0f objects/s), peak RSS %s", sum.Coverage.ObjectsInspected, el.Round(time.Millisecond),
		float64(sum.Coverage.ObjectsInspected)/el.Seconds(), hwm)
}

const scaleParquetSchema = "message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional int64 size; optional int64 last_modified_date (TIMESTAMP_MILLIS); optional binary e_tag (UTF8); optional binary storage_class (UTF8); optional boolean is_multipart_uploaded; optional binary encryption_status (UTF8); optional binary bucket_key_status (UTF8); }"

type scaleRow struct {
	Bucket       string    `parquet:"bucket"`
	Key          string    `parquet:"key"`
	Size         *int64    `parquet:"size,optional"` // a pointer: 0 is not null
	LastModified time.Time `parquet:"last_modified_date,optional,timestamp(millisecond)"`
	ETag         string    `parquet:"e_tag,optional"`
	StorageClass string    `parquet:"storage_class,optional"`
	Multipart    *bool     `parquet:"is_multipart_uploaded,optional"`
	EncStatus    string    `parquet:"encryption_status,optional"`
	BucketKey    string    `parquet:"bucket_key_status,optional"`
}

// writeScaleParquet writes rows from to to (the CSV rows' content) as an
// S3 Parquet data file.
func writeScaleParquet(t *testing.T, out *bytes.Buffer, from, to int) {
	w := parquet.NewGenericWriter[scaleRow](out, parquet.Compression(&snappy.Codec{}), parquet.MaxRowsPerRowGroup(100_000))
	no := false
	rows := make([]scaleRow, 0, 4096)
	for r := from; r < to; r++ {
		enc := "SSE-S3"
		if r%10 == 0 {
			enc = "NOT-SSE"
		}
		rows = append(rows, scaleRow{Bucket: "scale-src", Key: fmt.Sprintf("data/%03d/object-%09d.bin", r%1000, r), Size: ptr(int64(r % 100000)),
			LastModified: time.Date(2024, 5, 1, 10, r/60%60, r%60, 0, time.UTC), ETag: fmt.Sprintf("%032x", r), StorageClass: "STANDARD",
			Multipart: &no, EncStatus: enc})
		if len(rows) == cap(rows) || r == to-1 {
			if _, err := w.Write(rows); err != nil {
				t.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
