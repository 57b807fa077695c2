package scan

import (
	"context"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
)

// putFilteredInventory configures an inventory of src with filter f
// (nil = none) through the dialect's own SDK; on S3 only f.Prefix exists.
func putFilteredInventory(t *testing.T, d client.Dialect, src, dst, id string, f *oss2.InventoryFilter) {
	t.Helper()
	ctx := context.Background()
	fields := []string{"Size", "LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded", "EncryptionStatus"}
	if d == client.OSS {
		c := oss2.NewClient(oss2.LoadDefaultConfig().WithEndpoint(srv.Endpoint).WithRegion(srv.Region).
			WithCredentialsProvider(osscreds.NewStaticCredentialsProvider(rootAK, rootSK)))
		var of []oss2.InventoryOptionalFieldType
		for _, x := range fields {
			of = append(of, oss2.InventoryOptionalFieldType(x))
		}
		if _, err := c.PutBucketInventory(ctx, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr(src), InventoryId: oss2.Ptr(id),
			InventoryConfiguration: &oss2.InventoryConfiguration{Id: oss2.Ptr(id), IsEnabled: oss2.Ptr(true), Filter: f,
				Destination: &oss2.InventoryDestination{OSSBucketDestination: &oss2.InventoryOSSBucketDestination{
					Format: oss2.InventoryFormatCSV, Bucket: oss2.Ptr("acs:oss:::" + dst), Prefix: oss2.Ptr("reports"),
					AccountId: oss2.Ptr("1"), RoleArn: oss2.Ptr("acs:ram::1:role/AliyunOSSRole")}},
				Schedule: &oss2.InventorySchedule{Frequency: oss2.InventoryFrequencyDaily}, IncludedObjectVersions: oss2.Ptr("Current"),
				OptionalFields: &oss2.OptionalFields{Fields: of}}}); err != nil {
			t.Fatal(err)
		}
		return
	}
	c := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(rootAK, rootSK, "")})
	var filter *types.InventoryFilter
	if f != nil {
		filter = &types.InventoryFilter{Prefix: f.Prefix}
	}
	var of []types.InventoryOptionalField
	for _, x := range fields {
		of = append(of, types.InventoryOptionalField(x))
	}
	if _, err := c.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{Bucket: aws.String(src), Id: aws.String(id),
		InventoryConfiguration: &types.InventoryConfiguration{Id: aws.String(id), IsEnabled: aws.Bool(true), Filter: filter,
			IncludedObjectVersions: types.InventoryIncludedObjectVersionsCurrent,
			Destination: &types.InventoryDestination{S3BucketDestination: &types.InventoryS3BucketDestination{
				Bucket: aws.String("arn:aws:s3:::" + dst), Format: types.InventoryFormatCsv, Prefix: aws.String("reports")}},
			Schedule: &types.InventorySchedule{Frequency: types.InventoryFrequencyDaily}, OptionalFields: of}}); err != nil {
		t.Fatal(err)
	}
}

// TestInventoryFilterGap: a census from a report whose configuration
// filters objects (by prefix, time, size or storage class) is a coverage
// gap naming the filter, never a silently smaller census; so is a report
// whose configuration cannot be read. Each OSS SDK and S3 read the filter.
func TestInventoryFilterGap(t *testing.T) {
	past := time.Now().Unix() - 1
	for i, tc := range []struct {
		name    string
		dialect client.Dialect
		sdk     string
		filter  *oss2.InventoryFilter
		deleted bool   // the configuration is deleted after its report
		code    string // the bucket's list_error code, "" for none
		detail  string // in its message
		rows    int64  // objects the report lists (of 4)
	}{
		{name: "none oss v1", dialect: client.OSS, sdk: client.OSSSDKV1, rows: 4},
		{name: "none oss v2", dialect: client.OSS, sdk: client.OSSSDKV2, rows: 4},
		{name: "none s3", dialect: client.S3, rows: 4},
		{name: "all classes", dialect: client.OSS, sdk: client.OSSSDKV2, filter: &oss2.InventoryFilter{StorageClass: oss2.Ptr("All")}, rows: 4},
		{name: "prefix oss v1", dialect: client.OSS, sdk: client.OSSSDKV1, filter: &oss2.InventoryFilter{Prefix: oss2.Ptr("plain/")},
			code: "InventoryFiltered", detail: `prefix "plain/"`, rows: 2},
		{name: "prefix oss v2", dialect: client.OSS, sdk: client.OSSSDKV2, filter: &oss2.InventoryFilter{Prefix: oss2.Ptr("plain/")},
			code: "InventoryFiltered", detail: `prefix "plain/"`, rows: 2},
		{name: "prefix s3", dialect: client.S3, filter: &oss2.InventoryFilter{Prefix: oss2.Ptr("plain/")},
			code: "InventoryFiltered", detail: `prefix "plain/"`, rows: 2},
		{name: "time oss v1", dialect: client.OSS, sdk: client.OSSSDKV1, filter: &oss2.InventoryFilter{LastModifyBeginTimeStamp: oss2.Ptr(int64(1262275200)),
			LastModifyEndTimeStamp: oss2.Ptr(past)}, code: "InventoryFiltered", detail: "modified at or after (Unix s) 1262275200", rows: -1},
		{name: "time oss v2", dialect: client.OSS, sdk: client.OSSSDKV2, filter: &oss2.InventoryFilter{LastModifyEndTimeStamp: oss2.Ptr(past)},
			code: "InventoryFiltered", detail: "modified at or before (Unix s)", rows: -1},
		{name: "size oss v1", dialect: client.OSS, sdk: client.OSSSDKV1, filter: &oss2.InventoryFilter{LowerSizeBound: oss2.Ptr(int64(1)),
			UpperSizeBound: oss2.Ptr(int64(1 << 20))}, code: "InventoryFiltered", detail: "size >= 1, size <= 1048576", rows: 4},
		{name: "size oss v2", dialect: client.OSS, sdk: client.OSSSDKV2, filter: &oss2.InventoryFilter{UpperSizeBound: oss2.Ptr(int64(5))},
			code: "InventoryFiltered", detail: "size <= 5", rows: 0},
		{name: "class oss v1", dialect: client.OSS, sdk: client.OSSSDKV1, filter: &oss2.InventoryFilter{StorageClass: oss2.Ptr("Standard,IA")},
			code: "InventoryFiltered", detail: "storage classes Standard,IA", rows: 4},
		{name: "class oss v2", dialect: client.OSS, sdk: client.OSSSDKV2, filter: &oss2.InventoryFilter{StorageClass: oss2.Ptr("IA")},
			code: "InventoryFiltered", detail: "storage classes IA", rows: 0},
		{name: "deleted oss", dialect: client.OSS, sdk: client.OSSSDKV2, deleted: true, code: "InventoryFilterUnknown", detail: "NoSuchInventory", rows: 4},
		{name: "deleted s3", dialect: client.S3, deleted: true, code: "InventoryFilterUnknown", detail: "could not be read", rows: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			root := rootClient(t, tc.dialect)
			src, dst := "invf"+string(rune('a'+i))+"-src", "invf"+string(rune('a'+i))+"-dst"
			mkBucket(t, root, src, nil)
			mkBucket(t, root, dst, nil)
			for _, k := range []string{"plain/one", "plain/two", "aes/x", "logs/y"} {
				put(t, root, src, k, nil)
			}
			putFilteredInventory(t, tc.dialect, src, dst, "daily", tc.filter)
			rep, err := srv.RunInventory(ctx, src, "daily", embedded.InventoryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.rows >= 0 && rep.Rows != tc.rows {
				t.Fatalf("the report lists %d objects, want %d", rep.Rows, tc.rows)
			}
			if tc.deleted {
				if err := deleteInventory(ctx, tc.dialect, src, "daily"); err != nil {
					t.Fatal(err)
				}
			}
			c := clientFor(t, tc.dialect, tc.sdk, srv.Endpoint, rootAK, rootSK, 30*time.Second)
			sum, path, err := scanFile(t, Config{Client: c, KMS: rootKMS, Buckets: []string{src}, BucketGlob: src,
				Inventory: []InventorySource{{Bucket: src, DestBucket: dst, Prefix: "reports", Sample: -1}}})
			if err != nil {
				t.Fatal(err)
			}
			b := readBuckets(t, path)[0]
			if b.ObjectsListed != rep.Rows {
				t.Fatalf("census of %d objects, the report has %d", b.ObjectsListed, rep.Rows)
			}
			if tc.code == "" {
				if b.ListError != nil {
					t.Fatalf("list_error %+v for an unfiltered report", b.ListError)
				}
				return
			}
			if b.ListError == nil || b.ListError.Code != tc.code || !strings.Contains(b.ListError.Message, tc.detail) {
				t.Fatalf("list_error %+v, want %s naming %q", b.ListError, tc.code, tc.detail)
			}
			found := false
			for _, e := range sum.Coverage.Errors {
				found = found || (e.Code == tc.code && e.Resource == src)
			}
			if !found {
				t.Fatalf("coverage errors %+v lack %s", sum.Coverage.Errors, tc.code)
			}
		})
	}
}

// deleteInventory removes a configuration through the client's SDK layer
// as a user would (package client has no inventory writes).
func deleteInventory(ctx context.Context, d client.Dialect, bucket, id string) error {
	if d == client.OSS {
		c := oss2.NewClient(oss2.LoadDefaultConfig().WithEndpoint(srv.Endpoint).WithRegion(srv.Region).
			WithCredentialsProvider(osscreds.NewStaticCredentialsProvider(rootAK, rootSK)))
		_, err := c.DeleteBucketInventory(ctx, &oss2.DeleteBucketInventoryRequest{Bucket: oss2.Ptr(bucket), InventoryId: oss2.Ptr(id)})
		return err
	}
	c := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(rootAK, rootSK, "")})
	_, err := c.DeleteBucketInventoryConfiguration(ctx, &s3.DeleteBucketInventoryConfigurationInput{Bucket: aws.String(bucket), Id: aws.String(id)})
	return err
}
