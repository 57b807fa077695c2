package client

import (
	"context"
	"net/http"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestBucketInventoryFilter reads back every Filter child a configuration
// was put with (through the dialect's own SDK), and a missing
// configuration is the endpoint's 404, not an empty filter.
func TestBucketInventoryFilter(t *testing.T) {
	forEach(t, func(t *testing.T, c *Client, bucket string) {
		ctx := context.Background()
		mkBucket(t, c, bucket, nil)
		i64 := func(n int64) *int64 { return &n }
		want := InventoryFilter{Prefix: "logs/", LastModifyBegin: i64(1637883649), LastModifyEnd: i64(1638347592),
			LowerSize: i64(1024), UpperSize: i64(1048576), StorageClass: "Standard,IA"}
		if c.Dialect() == OSS {
			sdk := oss2.NewClient(oss2.LoadDefaultConfig().WithEndpoint(srv.Endpoint).WithRegion(srv.Region).
				WithCredentialsProvider(osscreds.NewStaticCredentialsProvider(rootAK, rootSK)))
			if _, err := sdk.PutBucketInventory(ctx, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr(bucket), InventoryId: oss2.Ptr("r1"),
				InventoryConfiguration: &oss2.InventoryConfiguration{Id: oss2.Ptr("r1"), IsEnabled: oss2.Ptr(true),
					Filter: &oss2.InventoryFilter{Prefix: oss2.Ptr(want.Prefix), LastModifyBeginTimeStamp: want.LastModifyBegin,
						LastModifyEndTimeStamp: want.LastModifyEnd, LowerSizeBound: want.LowerSize, UpperSizeBound: want.UpperSize,
						StorageClass: oss2.Ptr(want.StorageClass)},
					Destination: &oss2.InventoryDestination{OSSBucketDestination: &oss2.InventoryOSSBucketDestination{
						Format: oss2.InventoryFormatCSV, Bucket: oss2.Ptr("acs:oss:::" + bucket), AccountId: oss2.Ptr("1"),
						RoleArn: oss2.Ptr("acs:ram::1:role/AliyunOSSRole")}},
					Schedule: &oss2.InventorySchedule{Frequency: oss2.InventoryFrequencyDaily}, IncludedObjectVersions: oss2.Ptr("Current"),
				}}); err != nil {
				t.Fatal(err)
			}
		} else {
			want = InventoryFilter{Prefix: "logs/"}
			sdk := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
				Credentials: awscreds.NewStaticCredentialsProvider(rootAK, rootSK, "")})
			if _, err := sdk.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{Bucket: aws.String(bucket), Id: aws.String("r1"),
				InventoryConfiguration: &types.InventoryConfiguration{Id: aws.String("r1"), IsEnabled: aws.Bool(true),
					Filter: &types.InventoryFilter{Prefix: aws.String(want.Prefix)}, IncludedObjectVersions: types.InventoryIncludedObjectVersionsCurrent,
					Destination: &types.InventoryDestination{S3BucketDestination: &types.InventoryS3BucketDestination{
						Bucket: aws.String("arn:aws:s3:::" + bucket), Format: types.InventoryFormatCsv}},
					Schedule: &types.InventorySchedule{Frequency: types.InventoryFrequencyDaily}}}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := c.BucketInventoryFilter(ctx, bucket, "r1")
		if err != nil {
			t.Fatalf("%s: BucketInventoryFilter: %v", c.Variant(), err)
		}
		if got.String() != want.String() || got.Empty() {
			t.Fatalf("%s: filter %s, want %s", c.Variant(), got, want)
		}
		_, err = c.BucketInventoryFilter(ctx, bucket, "r2")
		e, ok := AsError(err)
		wantCode := map[Dialect]string{OSS: "NoSuchInventory", S3: "NoSuchConfiguration"}[c.Dialect()]
		if !ok || e.StatusCode != http.StatusNotFound || e.Code != wantCode || e.Op != "GetBucketInventory" {
			t.Fatalf("%s: a configuration not set: %v, want 404 %s", c.Variant(), err, wantCode)
		}
	})
}

func TestInventoryFilterEmpty(t *testing.T) {
	n := int64(0)
	for _, tc := range []struct {
		f     InventoryFilter
		empty bool
		str   string
	}{
		{InventoryFilter{}, true, "none"},
		{InventoryFilter{StorageClass: "All"}, true, "none"},
		{InventoryFilter{Prefix: "a/"}, false, `prefix "a/"`},
		{InventoryFilter{LowerSize: &n}, false, "size >= 0"},
		{InventoryFilter{StorageClass: "IA"}, false, "storage classes IA"},
	} {
		if tc.f.Empty() != tc.empty || tc.f.String() != tc.str {
			t.Errorf("%+v: Empty %v String %q, want %v %q", tc.f, tc.f.Empty(), tc.f.String(), tc.empty, tc.str)
		}
	}
}
