package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
)

// TestInventoryCensusThroughTheCLI: a bucket censused from its inventory
// report gives the findings the HEAD census gives; a report that does not
// match its manifest is exit 2, never a smaller census.
func TestInventoryCensusThroughTheCLI(t *testing.T) {
	ctx := context.Background()
	srv, getenv, c, _ := startEmpty(t)
	for _, b := range []string{"inv-src", "inv-reports"} {
		if err := c.CreateBucket(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, sse := range []*client.SSE{nil, nil, {Algorithm: client.AlgorithmAES256}} {
		key := []string{"a.csv", "b.csv", "c.csv"}[i]
		if _, err := c.PutObject(ctx, "inv-src", key, strings.NewReader(key), int64(len(key)), client.PutOptions{SSE: sse}); err != nil {
			t.Fatal(err)
		}
	}
	s3c := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(srv.AccessKeyID, srv.AccessKeySecret, "")})
	if _, err := s3c.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{Bucket: aws.String("inv-src"), Id: aws.String("daily"),
		InventoryConfiguration: &types.InventoryConfiguration{Id: aws.String("daily"), IsEnabled: aws.Bool(true),
			IncludedObjectVersions: types.InventoryIncludedObjectVersionsCurrent,
			Destination: &types.InventoryDestination{S3BucketDestination: &types.InventoryS3BucketDestination{
				Bucket: aws.String("arn:aws:s3:::inv-reports"), Format: types.InventoryFormatCsv}},
			Schedule:       &types.InventorySchedule{Frequency: types.InventoryFrequencyDaily},
			OptionalFields: []types.InventoryOptionalField{"Size", "LastModifiedDate", "ETag", "StorageClass", "EncryptionStatus"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RunInventory(ctx, "inv-src", "daily", embedded.InventoryOptions{}); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "AWS_ACCESS_KEY_ID" || k == "AWS_SECRET_ACCESS_KEY" {
			return getenv(strings.Replace(strings.Replace(k, "AWS_SECRET_ACCESS_KEY", "OSS_ACCESS_KEY_SECRET", 1), "AWS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_ID", 1))
		}
		return getenv(k)
	}
	base := []string{"--endpoint", srv.Endpoint, "--dialect", "s3", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint,
		"--history", "", "--buckets", "inv-src", "-q"}
	rules := func(args ...string) ([]string, int) {
		out := filepath.Join(t.TempDir(), "s")
		r := runCLIEnv(t, env, append(append([]string{"scan", "--out", out}, base...), args...)...)
		if r.code == exitFailed {
			t.Fatalf("scan %v: %v", args, r.err)
		}
		var got []string
		for _, f := range readFindingsDoc(t, filepath.Join(out, "findings.json")).Findings {
			got = append(got, f.Rule+" "+f.Resource.UID)
		}
		slices.Sort(got)
		return got, r.code
	}
	live, _ := rules()
	inv, _ := rules("--inventory", "inv-src=inv-reports")
	if len(live) == 0 || !slices.Equal(inv, live) {
		t.Errorf("inventory census findings\n %v\ndiffer from the HEAD census's\n %v", inv, live)
	}
	r := runCLIEnv(t, env, append(append([]string{"scan", "--out", filepath.Join(t.TempDir(), "s")}, base...), "--inventory", "inv-src=nowhere")...)
	if r.code != exitFailed {
		t.Errorf("an inventory that is not there: exit %d %v", r.code, r.err)
	}
}
