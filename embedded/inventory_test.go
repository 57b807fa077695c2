package embedded

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func startRef(t *testing.T) *Reference {
	t.Helper()
	ctx := context.Background()
	ref, stop, err := StartTemp(ctx, Config{MovableClock: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	return ref
}

func ossClient(ref *Reference) *oss2.Client {
	return oss2.NewClient(oss2.LoadDefaultConfig().WithEndpoint(ref.Endpoint).WithRegion(ref.Region).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ref.AccessKeyID, ref.AccessKeySecret)))
}

func s3Client(ref *Reference) *s3.Client {
	return s3.New(s3.Options{Region: ref.Region, BaseEndpoint: aws.String(ref.Endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(ref.AccessKeyID, ref.AccessKeySecret, "")})
}

// readCSVGz checks a data file against its manifest entry and returns its rows.
func readCSVGz(t *testing.T, data []byte, size int64, md5hex string) [][]string {
	t.Helper()
	sum := md5.Sum(data)
	if int64(len(data)) != size || !strings.EqualFold(hex.EncodeToString(sum[:]), md5hex) {
		t.Fatalf("data file: %d bytes md5 %x, manifest says %d bytes md5 %s", len(data), sum, size, md5hex)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bufio.NewReader(zr)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestRunInventoryOSS writes an OSS inventory of a bucket with plain,
// SSE-OSS and SSE-KMS objects and reads it back through the v2 SDK:
// layout, manifest, checksums, fileSchema and the EncryptionStatus column.
func TestRunInventoryOSS(t *testing.T) {
	ref := startRef(t)
	ctx := context.Background()
	c := ossClient(ref)
	for _, b := range []string{"src", "dst"} {
		if _, err := c.PutBucket(ctx, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)}); err != nil {
			t.Fatal(err)
		}
	}
	objs := map[string]string{"plain/a b.txt": "", "aes/x": "AES256", "kms/y": "KMS", "aes/z": "AES256"}
	for k, alg := range objs {
		req := &oss2.PutObjectRequest{Bucket: oss2.Ptr("src"), Key: oss2.Ptr(k), Body: strings.NewReader("data of " + k)}
		if alg != "" {
			req.ServerSideEncryption = oss2.Ptr(alg)
		}
		if _, err := c.PutObject(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.PutBucketInventory(ctx, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr("src"), InventoryId: oss2.Ptr("inv1"),
		InventoryConfiguration: &oss2.InventoryConfiguration{
			Id: oss2.Ptr("inv1"), IsEnabled: oss2.Ptr(true),
			Destination: &oss2.InventoryDestination{OSSBucketDestination: &oss2.InventoryOSSBucketDestination{
				Format: oss2.InventoryFormatCSV, Bucket: oss2.Ptr("acs:oss:::dst"), Prefix: oss2.Ptr("reports"),
				AccountId: oss2.Ptr("1"), RoleArn: oss2.Ptr("acs:ram::1:role/AliyunOSSRole"),
				Encryption: &oss2.InventoryEncryption{SseOss: oss2.Ptr("")}}},
			Schedule: &oss2.InventorySchedule{Frequency: oss2.InventoryFrequencyDaily}, IncludedObjectVersions: oss2.Ptr("Current"),
			OptionalFields: &oss2.OptionalFields{Fields: []oss2.InventoryOptionalFieldType{
				oss2.InventoryOptionalFieldEncryptionStatus, oss2.InventoryOptionalFieldSize, oss2.InventoryOptionalFieldETag}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ref.RunInventory(ctx, "src", "inv1", InventoryOptions{RowsPerFile: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^reports/src/inv1/\d{4}-\d\d-\d\dT\d\d-\d\dZ/manifest\.json$`).MatchString(rep.ManifestKey) || rep.Rows != 4 || len(rep.DataKeys) != 2 {
		t.Fatalf("report %+v", rep)
	}
	get := func(key string) []byte {
		t.Helper()
		r, err := c.GetObject(ctx, &oss2.GetObjectRequest{Bucket: oss2.Ptr("dst"), Key: oss2.Ptr(key)})
		if err != nil {
			t.Fatalf("GET %s: %v", key, err)
		}
		defer r.Body.Close()
		if alg := oss2.ToString(r.ServerSideEncryption); alg != "AES256" {
			t.Fatalf("%s stored with SSE %q, the configuration asks SSE-OSS", key, alg)
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	body := get(rep.ManifestKey)
	sum := md5.Sum(body)
	if got := string(get(strings.TrimSuffix(rep.ManifestKey, ".json") + ".checksum")); got != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Fatalf("manifest.checksum %q", got)
	}
	var m struct {
		CreationTimestamp, DestinationBucket, FileFormat, FileSchema, SourceBucket, Version string
		Files                                                                               []struct {
			MD5  string `json:"MD5checksum"`
			Key  string `json:"key"`
			Size int64  `json:"size"`
		}
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.SourceBucket != "src" || m.DestinationBucket != "dst" || m.FileFormat != "CSV" || m.Version != "2019-09-01" ||
		m.FileSchema != "Bucket, Key, Size, ETag, EncryptionStatus" || len(m.Files) != 2 ||
		!strings.HasPrefix(m.Files[0].Key, "reports/src/inv1/data/") || !strings.HasSuffix(m.Files[1].Key, "-1.csv.gz") {
		t.Fatalf("manifest %s", body)
	}
	got := map[string]string{}
	for _, f := range m.Files {
		for _, row := range readCSVGz(t, get(f.Key), f.Size, f.MD5) {
			k, err := url.QueryUnescape(row[1])
			if err != nil || row[0] != "src" || len(row) != 5 {
				t.Fatalf("row %q", row)
			}
			got[k] = row[4]
		}
	}
	for k, alg := range objs {
		if want := map[bool]string{true: "true", false: "false"}[alg != ""]; got[k] != want {
			t.Fatalf("%s: EncryptionStatus %q, want %q (rows %v)", k, got[k], want, got)
		}
	}
}

// TestRunInventoryS3 writes an S3 inventory of all versions and reads it
// through aws-sdk-go-v2: EncryptionStatus NOT-SSE/SSE-S3/SSE-KMS,
// BucketKeyStatus, the hive symlink, lower-case MD5s and the ms timestamp.
func TestRunInventoryS3(t *testing.T) {
	ref := startRef(t)
	ctx := context.Background()
	c := s3Client(ref)
	for _, b := range []string{"src3", "dst3"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("src3"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		k   string
		sse types.ServerSideEncryption
	}{{"k1", ""}, {"k1", types.ServerSideEncryptionAes256}, {"k2", types.ServerSideEncryptionAwsKms}} {
		in := &s3.PutObjectInput{Bucket: aws.String("src3"), Key: aws.String(o.k), Body: strings.NewReader("v")}
		in.ServerSideEncryption = o.sse
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{Bucket: aws.String("src3"), Id: aws.String("weekly"),
		InventoryConfiguration: &types.InventoryConfiguration{
			Id: aws.String("weekly"), IsEnabled: aws.Bool(true), IncludedObjectVersions: types.InventoryIncludedObjectVersionsAll,
			Destination: &types.InventoryDestination{S3BucketDestination: &types.InventoryS3BucketDestination{
				Bucket: aws.String("arn:aws:s3:::dst3"), Format: types.InventoryFormatCsv}},
			Schedule: &types.InventorySchedule{Frequency: types.InventoryFrequencyWeekly},
			OptionalFields: []types.InventoryOptionalField{types.InventoryOptionalFieldBucketKeyStatus,
				types.InventoryOptionalFieldEncryptionStatus, types.InventoryOptionalFieldLastModifiedDate},
		}}); err != nil {
		t.Fatal(err)
	}
	if err := ref.AdvanceClock(time.Hour); err != nil {
		t.Fatal(err)
	}
	rep, err := ref.RunInventory(ctx, "src3", "weekly", InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(key string) []byte {
		t.Helper()
		r, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dst3"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GET %s: %v", key, err)
		}
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	body := get(rep.ManifestKey)
	sum := md5.Sum(body)
	if got := string(get(strings.TrimSuffix(rep.ManifestKey, ".json") + ".checksum")); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("manifest.checksum %q", got)
	}
	var m struct {
		SourceBucket, DestinationBucket, Version, CreationTimestamp, FileFormat, FileSchema string
		Files                                                                               []struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
			MD5  string `json:"MD5checksum"`
		}
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.SourceBucket != "src3" || m.DestinationBucket != "arn:aws:s3:::dst3" || m.Version != "2016-11-30" ||
		m.FileSchema != "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, LastModifiedDate, EncryptionStatus, BucketKeyStatus" ||
		len(m.Files) != 1 || m.CreationTimestamp != strconv.FormatInt(rep.AsOf.UnixMilli(), 10) {
		t.Fatalf("manifest %s", body)
	}
	dt := rep.AsOf.Format("2006-01-02-15-04")
	if link := string(get("src3/weekly/hive/dt=" + dt + "/symlink.txt")); link != "s3://dst3/"+m.Files[0].Key+"\n" {
		t.Fatalf("symlink.txt %q", link)
	}
	rows := readCSVGz(t, get(m.Files[0].Key), m.Files[0].Size, m.Files[0].MD5)
	var got []string
	for _, r := range rows {
		got = append(got, r[1]+" latest="+r[3]+" "+r[6]+" "+r[7])
	}
	want := []string{"k1 latest=true SSE-S3 ", "k1 latest=false NOT-SSE ", "k2 latest=true SSE-KMS DISABLED"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("rows %q, want %q", got, want)
	}
}
