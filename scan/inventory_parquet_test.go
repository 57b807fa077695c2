package scan

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/parquet-go/parquet-go"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
)

// putS3Inventory configures an S3 inventory of src in format, through
// the AWS SDK.
func putS3Inventory(t *testing.T, src, dst, prefix, id string, format types.InventoryFormat) {
	t.Helper()
	c := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(rootAK, rootSK, "")})
	if _, err := c.PutBucketInventoryConfiguration(context.Background(), &s3.PutBucketInventoryConfigurationInput{Bucket: aws.String(src), Id: aws.String(id),
		InventoryConfiguration: &types.InventoryConfiguration{Id: aws.String(id), IsEnabled: aws.Bool(true),
			IncludedObjectVersions: types.InventoryIncludedObjectVersionsAll,
			Destination: &types.InventoryDestination{S3BucketDestination: &types.InventoryS3BucketDestination{
				Bucket: aws.String("arn:aws:s3:::" + dst), Format: format, Prefix: aws.String(prefix)}},
			Schedule: &types.InventorySchedule{Frequency: types.InventoryFrequencyDaily},
			OptionalFields: []types.InventoryOptionalField{"Size", "LastModifiedDate", "ETag", "StorageClass",
				"IsMultipartUploaded", "EncryptionStatus", "BucketKeyStatus", "ObjectOwner"}}}); err != nil {
		t.Fatal(err)
	}
}

// seedParquetInventory is seedInventory with a Parquet report of all
// versions (two per file, so the report has several files).
func seedParquetInventory(t *testing.T, c *client.Client, name string) invEstate {
	t.Helper()
	e := invEstate{src: name + "-src", dst: name + "-dst", kms: 2}
	mkBucket(t, c, e.src, nil)
	mkBucket(t, c, e.dst, nil)
	cmk := createKey(t, name)
	put(t, c, e.src, "plain/one", nil)
	put(t, c, e.src, "plain/two words+%", nil)
	put(t, c, e.src, "aes/x", &client.SSE{Algorithm: client.AlgorithmAES256})
	put(t, c, e.src, "kms/default", &client.SSE{Algorithm: client.AlgorithmKMS})
	put(t, c, e.src, "kms/cmk", &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: cmk})
	putS3Inventory(t, e.src, e.dst, "reports", "daily", types.InventoryFormatParquet)
	var err error
	if e.report, err = srv.RunInventory(context.Background(), e.src, "daily", embedded.InventoryOptions{RowsPerFile: 2}); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestInventoryParquetCensus: the census from an S3 Parquet report the
// reference wrote gives the same object records as the HEAD census, with
// HEADs only for the objects whose KMS key the report does not name.
func TestInventoryParquetCensus(t *testing.T) {
	root := rootClient(t, client.S3)
	e := seedParquetInventory(t, root, "invpq")
	if len(e.report.DataKeys) != 3 || !strings.HasSuffix(e.report.DataKeys[0], ".parquet") {
		t.Fatalf("data files %q", e.report.DataKeys)
	}
	body, _, err := root.GetObject(context.Background(), e.dst, e.report.ManifestKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ FileFormat, FileSchema string }
	if err := json.Unmarshal(body, &m); err != nil || m.FileFormat != "Parquet" ||
		!strings.HasPrefix(m.FileSchema, "message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8);") {
		t.Fatalf("manifest %s %v", body, err)
	}
	// The data files are Parquet with S3's columns, in S3's order.
	data, _, err := root.GetObject(context.Background(), e.dst, e.report.DataKeys[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range pf.Root().Columns() {
		cols = append(cols, c.Name()+" "+c.Type().String())
	}
	if got := strings.Join(cols, ", "); got != "bucket STRING, key STRING, version_id STRING, is_latest BOOLEAN, is_delete_marker BOOLEAN, size INT(64,true), last_modified_date TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS), e_tag STRING, storage_class STRING, is_multipart_uploaded BOOLEAN, encryption_status STRING, bucket_key_status STRING, object_owner STRING" {
		t.Errorf("columns %s", got)
	}
	p := startProxy(t)
	c := clientFor(t, client.S3, "", p.URL, rootAK, rootSK, 0)
	base := Config{Client: c, KMS: rootKMS, Buckets: []string{e.src}, BucketGlob: e.src}
	_, headPath, err := scanFile(t, base)
	if err != nil {
		t.Fatal(err)
	}
	heads := p.heads.Load()
	inv := base
	inv.Inventory = []InventorySource{{Bucket: e.src, DestBucket: e.dst, Prefix: "reports", Sample: -1}}
	sum, invPath, err := scanFile(t, inv)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.heads.Load() - heads; got != int64(e.kms) {
		t.Errorf("inventory census sent %d HEADs, want %d", got, e.kms)
	}
	want, got := readBuckets(t, headPath)[0], readBuckets(t, invPath)[0]
	if got.ListError != nil || got.ObjectsListed != 5 || got.ObjectsListed != want.ObjectsListed || got.ObjectsInspected != want.ObjectsInspected {
		t.Fatalf("bucket %+v, HEAD census %+v", got, want)
	}
	wm, gm := byKey(want), byKey(got)
	for k, w := range wm {
		if g, ok := gm[k]; !ok || mustJSON(g) != mustJSON(w) {
			t.Errorf("%s:\ninventory %s\nHEAD      %s", k, mustJSON(g), mustJSON(w))
		}
	}
	if pi := sum.Provenance.Inventories; len(pi) != 1 || pi[0].ManifestKey != e.report.ManifestKey || len(pi[0].ManifestSHA256) != 64 {
		t.Fatalf("provenance %+v", sum.Provenance.Inventories)
	}
}

// TestInventoryParquetBadInput: a damaged Parquet report is refused with
// an error naming the problem (exit 2) and the bucket's list_error
// InvalidInventory; an ORC configuration fails its run with a clear error.
func TestInventoryParquetBadInput(t *testing.T) {
	ctx := context.Background()
	// rewrite replaces data file key with b, and the manifest's size, MD5
	// and checksum with b's: a consistent report with other content.
	rewrite := func(t *testing.T, c *client.Client, e invEstate, key string, b []byte) {
		body, _, err := c.GetObject(ctx, e.dst, e.report.ManifestKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		for _, f := range m["files"].([]any) {
			if f := f.(map[string]any); f["key"] == key {
				sum := md5.Sum(b)
				f["MD5checksum"], f["size"] = hex.EncodeToString(sum[:]), len(b)
			}
		}
		putBytes(t, c, e.dst, key, b)
		nb, _ := json.Marshal(m)
		sum := md5.Sum(nb)
		putBytes(t, c, e.dst, e.report.ManifestKey, nb)
		putBytes(t, c, e.dst, strings.TrimSuffix(e.report.ManifestKey, ".json")+".checksum", []byte(hex.EncodeToString(sum[:])))
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, c *client.Client, e invEstate)
		want   string
	}{
		{"md5 mismatch", func(t *testing.T, c *client.Client, e invEstate) {
			data, _, _ := c.GetObject(ctx, e.dst, e.report.DataKeys[1], nil)
			data[len(data)/2] ^= 0xff
			putBytes(t, c, e.dst, e.report.DataKeys[1], data)
		}, "was altered"},
		{"truncated", func(t *testing.T, c *client.Client, e invEstate) {
			data, _, _ := c.GetObject(ctx, e.dst, e.report.DataKeys[2], nil)
			putBytes(t, c, e.dst, e.report.DataKeys[2], data[:len(data)-5])
		}, "truncated"},
		{"truncated, manifest rewritten to match", func(t *testing.T, c *client.Client, e invEstate) {
			data, _, _ := c.GetObject(ctx, e.dst, e.report.DataKeys[1], nil)
			rewrite(t, c, e, e.report.DataKeys[1], data[:len(data)-5])
		}, "does not end with the Parquet magic"},
		{"no key column", func(t *testing.T, c *client.Client, e invEstate) {
			type noKey struct {
				Bucket    string `parquet:"bucket"`
				VersionID string `parquet:"version_id,optional"`
				EncStatus string `parquet:"encryption_status,optional"`
			}
			var b bytes.Buffer
			w := parquet.NewGenericWriter[noKey](&b)
			if _, err := w.Write([]noKey{{e.src, "v", "NOT-SSE"}}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rewrite(t, c, e, e.report.DataKeys[0], b.Bytes())
		}, "has no column key"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			root := rootClient(t, client.S3)
			sum := md5.Sum([]byte(tc.name))
			e := seedParquetInventory(t, root, "invpqb-"+hex.EncodeToString(sum[:4]))
			tc.damage(t, root, e)
			cfg := Config{Client: root, KMS: rootKMS, Buckets: []string{e.src}, BucketGlob: e.src,
				Inventory: []InventorySource{{Bucket: e.src, DestBucket: e.dst, Prefix: "reports"}}}
			_, path, err := scanFile(t, cfg)
			var ie *InventoryError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run error %v, want an *InventoryError with %q", err, tc.want)
			}
			b := readBuckets(t, path)[0]
			if b.ListError == nil || b.ListError.Code != "InvalidInventory" || !strings.Contains(b.ListError.Message, tc.want) {
				t.Fatalf("list error %+v", b.ListError)
			}
			if int64(len(b.Objects)) != b.ObjectsListed || b.ObjectsListed >= 5 {
				t.Fatalf("bucket claims %d listed, %d recorded", b.ObjectsListed, len(b.Objects))
			}
		})
	}

	t.Run("orc", func(t *testing.T) {
		root := rootClient(t, client.S3)
		mkBucket(t, root, "invorc-src", nil)
		mkBucket(t, root, "invorc-dst", nil)
		putS3Inventory(t, "invorc-src", "invorc-dst", "", "daily", types.InventoryFormatOrc)
		_, err := srv.RunInventory(ctx, "invorc-src", "daily", embedded.InventoryOptions{})
		if err == nil || !strings.Contains(err.Error(), "ORC is not written") {
			t.Fatalf("ORC run: %v", err)
		}
	})
}
