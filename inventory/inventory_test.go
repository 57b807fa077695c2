package inventory

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func gzCSV(t testing.TB, lines ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for _, l := range lines {
		fmt.Fprintln(zw, l)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

const s3Manifest = `{"sourceBucket":"src","destinationBucket":"arn:aws:s3:::dst","version":"2016-11-30","creationTimestamp":"1514944800000","fileFormat":"CSV","fileSchema":"Bucket, Key, Size, EncryptionStatus","files":[{"key":"p/src/c/data/a.csv.gz","size":10,"MD5checksum":"f11166069f1990abeb9c97ace9cdfabc"}]}`

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest([]byte(s3Manifest), []byte(md5hex([]byte(s3Manifest))+"\n"), Expect{Dialect: S3, SourceBucket: "src", DestBucket: "dst"})
	if err != nil {
		t.Fatal(err)
	}
	if m.DestinationBucket != "dst" || !m.Created.Equal(time.Date(2018, 1, 3, 2, 0, 0, 0, time.UTC)) ||
		strings.Join(m.Schema, "|") != "Bucket|Key|Size|EncryptionStatus" || len(m.Files) != 1 || m.Files[0].Size != 10 || len(m.SHA256) != 64 {
		t.Fatalf("%+v", m)
	}
	// OSS: seconds, upper-case MD5s.
	oss := `{"creationTimestamp":"1642994594","destinationBucket":"dst","fileFormat":"CSV","fileSchema":"Bucket, Key, EncryptionStatus","files":[{"MD5checksum":"F77449179760C3B13F1E76110F07D4AB","key":"src/i/data/x.csv.gz","size":2046}],"sourceBucket":"src","version":"2019-09-01"}`
	m, err = ParseManifest([]byte(oss), []byte(strings.ToUpper(md5hex([]byte(oss)))), Expect{Dialect: OSS, SourceBucket: "src", DestBucket: "dst"})
	if err != nil || m.Created.Unix() != 1642994594 {
		t.Fatalf("%+v %v", m, err)
	}

	for _, tc := range []struct {
		name, body, checksum string
		want                 Expect
		msg                  string
	}{
		{"checksum mismatch", s3Manifest, "00000000000000000000000000000000", Expect{Dialect: S3, SourceBucket: "src"}, "manifest.checksum says"},
		{"another bucket", s3Manifest, "", Expect{Dialect: S3, SourceBucket: "other"}, `the manifest is of bucket "src", not "other"`},
		{"another destination", s3Manifest, "", Expect{Dialect: S3, SourceBucket: "src", DestBucket: "elsewhere"}, "names destination bucket"},
		{"parquet with a CSV schema", strings.Replace(s3Manifest, `"CSV"`, `"Parquet"`, 1), "", Expect{Dialect: S3, SourceBucket: "src"}, "not a Parquet message schema"},
		{"orc", strings.Replace(s3Manifest, `"CSV"`, `"ORC"`, 1), "", Expect{Dialect: S3, SourceBucket: "src"}, "ORC, which sseaudit does not read"},
		{"no files member", `{"sourceBucket":"src","destinationBucket":"d","creationTimestamp":"1","fileFormat":"CSV","fileSchema":"Bucket, Key"}`, "", Expect{Dialect: S3, SourceBucket: "src"}, "lacks"},
		{"no key column", strings.Replace(s3Manifest, "Bucket, Key,", "Bucket,", 1), "", Expect{Dialect: S3, SourceBucket: "src"}, "no Bucket or Key"},
		{"bad md5", strings.Replace(s3Manifest, "f11166069f1990abeb9c97ace9cdfabc", "xyz", 1), "", Expect{Dialect: S3, SourceBucket: "src"}, "is not an MD5"},
		{"not json", "{", "", Expect{Dialect: S3, SourceBucket: "src"}, "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum := tc.checksum
			if sum == "" {
				sum = md5hex([]byte(tc.body))
			}
			_, err := ParseManifest([]byte(tc.body), []byte(sum), tc.want)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want ErrInvalid with %q", err, tc.msg)
			}
		})
	}
}

func TestNewest(t *testing.T) {
	n := Newest{Base: "pre/src"}
	for _, k := range []string{"pre/src/c1/2024-01-01T00-00Z/manifest.json", "pre/src/c1/2024-03-01T00-00Z/manifest.json",
		"pre/src/c1/data/x.csv.gz", "pre/src/c1/2024-02-01T00-00Z/manifest.json", "pre/srcx/c1/2025-01-01T00-00Z/manifest.json",
		"pre/src/c1/hive/dt=2024-03-01-00-00/symlink.txt", "pre/src/c1/2024-03-01T00-00Z/manifest.checksum"} {
		n.Add(k)
	}
	rk, err := n.Result()
	if err != nil || rk.Stamp != "2024-03-01T00-00Z" || rk.ConfigID != "c1" {
		t.Fatalf("%+v %v", rk, err)
	}
	n.Add("pre/src/c2/2023-01-01T00-00Z/manifest.json")
	if _, err := n.Result(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "c1, c2") {
		t.Fatalf("ambiguous: %v", err)
	}
	n.ConfigID = "c2"
	n.best = nil
	n.Add("pre/src/c1/2024-03-01T00-00Z/manifest.json")
	if _, err := n.Result(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "inventory c2") {
		t.Fatalf("none: %v", err)
	}
}

func TestCopy(t *testing.T) {
	data := gzCSV(t, `"src","a","1","SSE-S3"`)
	sum := md5.Sum(data)
	f := File{Key: "k", Size: int64(len(data)), MD5: sum[:]}
	var out bytes.Buffer
	if err := Copy(&out, bytes.NewReader(data), f); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatal(err)
	}
	altered := bytes.Clone(data)
	altered[len(altered)/2] ^= 1
	for name, in := range map[string][]byte{"truncated": data[:len(data)-3], "extended": append(bytes.Clone(data), 0), "altered": altered} {
		if err := Copy(io.Discard, bytes.NewReader(in), f); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func readAll(t *testing.T, data []byte, schema []string) ([]Row, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), "f.csv.gz", schema)
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

func TestReader(t *testing.T) {
	schema := []string{"Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size", "LastModifiedDate", "EncryptionStatus", "BucketKeyStatus"}
	rows, err := readAll(t, gzCSV(t,
		`"src","dir%2Fa+b.txt","null","true","false","12","2024-05-01T10:00:00.000Z","SSE-KMS","ENABLED"`,
		`"src","x","v2","false","true","","","",""`,
	), schema)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Key != "dir/a b.txt" || rows[0].VersionID != "" || rows[0].Size != 12 ||
		rows[0].Encryption(S3) != EncKMS || rows[0].BucketKeyStatus != "ENABLED" || !rows[1].IsDeleteMarker || rows[1].IsLatest {
		t.Fatalf("%+v", rows)
	}
	for _, tc := range []struct {
		status, dialect string
		want            Encryption
	}{
		{"NOT-SSE", S3, EncNone}, {"SSE-S3", S3, EncManaged}, {"DSSE-KMS", S3, EncDSSEKMS}, {"SSE-C", S3, EncCustomer},
		{"true", OSS, EncEncrypted}, {"false", OSS, EncNone}, {"", S3, EncUnknown}, {"maybe", OSS, EncUnknown},
	} {
		if got := (&Row{EncryptionStatus: tc.status}).Encryption(tc.dialect); got != tc.want {
			t.Errorf("%s %q: %v, want %v", tc.dialect, tc.status, got, tc.want)
		}
	}

	good := gzCSV(t, `"src","a","1","true"`, `"src","b","2","false"`)
	for name, data := range map[string][]byte{
		"wrong field count": gzCSV(t, `"src","a","1"`),
		"bad size":          gzCSV(t, `"src","a","-1","true"`),
		"bad key encoding":  gzCSV(t, `"src","%zz","1","true"`),
		"truncated gzip":    good[:len(good)-10],
		"not gzip":          []byte("plain text"),
	} {
		if _, err := readAll(t, data, []string{"Bucket", "Key", "Size", "EncryptionStatus"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// BenchmarkCSVRows parses a gzipped S3-style data file of 200,000 rows
// on one goroutine; rows/s is the figure the inventory census needs
// (300,000 rows/s or more on one core).
func BenchmarkCSVRows(b *testing.B) {
	schema := []string{"Bucket", "Key", "Size", "LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded", "EncryptionStatus", "BucketKeyStatus"}
	var lines []string
	const n = 200_000
	for i := range n {
		lines = append(lines, fmt.Sprintf(`"estate-bucket","data%%2Fyear%%3D2024%%2Fpart-%08d.parquet","%d","2024-05-01T10:00:%02d.000Z","%032x","STANDARD","false","SSE-KMS","DISABLED"`, i, i*7, i%60, i))
	}
	data := gzCSV(b, lines...)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), "bench", schema)
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
		if got != n {
			b.Fatalf("%d rows", got)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
