package s3http

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestBucketInventoryConfigurationAWS drives Put/Get/List/Delete
// BucketInventoryConfiguration through aws-sdk-go-v2, with the errors S3
// documents.
func TestBucketInventoryConfigurationAWS(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	for _, b := range []string{"inv-src", "inv-dst"} {
		if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(id string) *types.InventoryConfiguration {
		return &types.InventoryConfiguration{
			Id: aws.String(id), IsEnabled: aws.Bool(true),
			Destination: &types.InventoryDestination{S3BucketDestination: &types.InventoryS3BucketDestination{
				Bucket: aws.String("arn:aws:s3:::inv-dst"), Format: types.InventoryFormatCsv, Prefix: aws.String("reports"),
				AccountId:  aws.String("123456789012"),
				Encryption: &types.InventoryEncryption{SSES3: &types.SSES3{}},
			}},
			Filter:                 &types.InventoryFilter{Prefix: aws.String("data/")},
			IncludedObjectVersions: types.InventoryIncludedObjectVersionsCurrent,
			OptionalFields: []types.InventoryOptionalField{types.InventoryOptionalFieldSize,
				types.InventoryOptionalFieldEncryptionStatus, types.InventoryOptionalFieldBucketKeyStatus},
			Schedule: &types.InventorySchedule{Frequency: types.InventoryFrequencyDaily},
		}
	}
	put := func(bucket, id string, cfg *types.InventoryConfiguration) error {
		_, err := c.PutBucketInventoryConfiguration(bg, &s3.PutBucketInventoryConfigurationInput{
			Bucket: aws.String(bucket), Id: aws.String(id), InventoryConfiguration: cfg})
		return err
	}
	if err := put("inv-src", "daily", mk("daily")); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketInventoryConfiguration(bg, &s3.GetBucketInventoryConfigurationInput{Bucket: aws.String("inv-src"), Id: aws.String("daily")})
	if err != nil {
		t.Fatal(err)
	}
	g := got.InventoryConfiguration
	want := mk("daily")
	if aws.ToString(g.Id) != "daily" || !aws.ToBool(g.IsEnabled) || aws.ToString(g.Filter.Prefix) != "data/" ||
		aws.ToString(g.Destination.S3BucketDestination.Bucket) != "arn:aws:s3:::inv-dst" ||
		g.Destination.S3BucketDestination.Encryption == nil || g.Destination.S3BucketDestination.Encryption.SSES3 == nil ||
		g.IncludedObjectVersions != types.InventoryIncludedObjectVersionsCurrent ||
		!reflect.DeepEqual(g.OptionalFields, want.OptionalFields) || g.Schedule.Frequency != types.InventoryFrequencyDaily {
		t.Fatalf("GetBucketInventoryConfiguration = %+v", g)
	}
	// Put replaces a configuration of the same id.
	weekly := mk("daily")
	weekly.Schedule.Frequency = types.InventoryFrequencyWeekly
	weekly.Destination.S3BucketDestination.Format = types.InventoryFormatParquet
	weekly.Destination.S3BucketDestination.Encryption = &types.InventoryEncryption{SSEKMS: &types.SSEKMS{KeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/k1")}}
	if err := put("inv-src", "daily", weekly); err != nil {
		t.Fatal(err)
	}
	if err := put("inv-src", "second", mk("second")); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListBucketInventoryConfigurations(bg, &s3.ListBucketInventoryConfigurationsInput{Bucket: aws.String("inv-src")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.InventoryConfigurationList) != 2 || aws.ToBool(list.IsTruncated) ||
		list.InventoryConfigurationList[0].Schedule.Frequency != types.InventoryFrequencyWeekly ||
		list.InventoryConfigurationList[0].Destination.S3BucketDestination.Format != types.InventoryFormatParquet ||
		aws.ToString(list.InventoryConfigurationList[0].Destination.S3BucketDestination.Encryption.SSEKMS.KeyId) != "arn:aws:kms:us-east-1:123456789012:key/k1" {
		t.Fatalf("ListBucketInventoryConfigurations = %+v", list.InventoryConfigurationList)
	}

	for _, tc := range []struct {
		name   string
		bucket string
		urlID  string
		mutate func(*types.InventoryConfiguration)
		code   string
		status int
	}{
		{"id mismatch", "inv-src", "other", func(*types.InventoryConfiguration) {}, "InvalidArgument", 400},
		{"not an ARN", "inv-src", "x", func(c *types.InventoryConfiguration) {
			c.Destination.S3BucketDestination.Bucket = aws.String("inv-dst")
		}, "InvalidArgument", 400},
		{"unknown format", "inv-src", "x", func(c *types.InventoryConfiguration) { c.Destination.S3BucketDestination.Format = "JSON" }, "MalformedXML", 400},
		{"unknown field", "inv-src", "x", func(c *types.InventoryConfiguration) { c.OptionalFields = append(c.OptionalFields, "KeyId") }, "MalformedXML", 400},
		{"unknown frequency", "inv-src", "x", func(c *types.InventoryConfiguration) { c.Schedule.Frequency = "Hourly" }, "MalformedXML", 400},
		{"no such bucket", "no-such-bucket", "x", func(*types.InventoryConfiguration) {}, "NoSuchBucket", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mk("x")
			tc.mutate(cfg)
			err := put(tc.bucket, tc.urlID, cfg)
			if code, st := awsErr(err); code != tc.code || st != tc.status {
				t.Fatalf("got %v, want %d %s", err, tc.status, tc.code)
			}
		})
	}
	if _, err := c.DeleteBucketInventoryConfiguration(bg, &s3.DeleteBucketInventoryConfigurationInput{Bucket: aws.String("inv-src"), Id: aws.String("daily")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketInventoryConfiguration(bg, &s3.GetBucketInventoryConfigurationInput{Bucket: aws.String("inv-src"), Id: aws.String("daily")})
	if code, st := awsErr(err); code != "NoSuchConfiguration" || st != 404 {
		t.Fatalf("Get after delete: %v", err)
	}
	_, err = c.DeleteBucketInventoryConfiguration(bg, &s3.DeleteBucketInventoryConfigurationInput{Bucket: aws.String("inv-src"), Id: aws.String("daily")})
	if code, st := awsErr(err); code != "NoSuchConfiguration" || st != 404 {
		t.Fatalf("second delete: %v", err)
	}
}
