package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
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
	"github.com/sseaudit/sseaudit/snapshot"
)

// putInventory configures an inventory of src reporting to dst/prefix
// through the dialect's own SDK (package client has no inventory API: the
// census reads reports, it does not configure them).
func putInventory(t *testing.T, d client.Dialect, src, dst, prefix, id string, allVersions bool) {
	t.Helper()
	ctx := context.Background()
	if d == client.OSS {
		c := oss2.NewClient(oss2.LoadDefaultConfig().WithEndpoint(srv.Endpoint).WithRegion(srv.Region).
			WithCredentialsProvider(osscreds.NewStaticCredentialsProvider(rootAK, rootSK)))
		versions := "Current"
		if allVersions {
			versions = "All"
		}
		if _, err := c.PutBucketInventory(ctx, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr(src), InventoryId: oss2.Ptr(id),
			InventoryConfiguration: &oss2.InventoryConfiguration{Id: oss2.Ptr(id), IsEnabled: oss2.Ptr(true),
				Destination: &oss2.InventoryDestination{OSSBucketDestination: &oss2.InventoryOSSBucketDestination{
					Format: oss2.InventoryFormatCSV, Bucket: oss2.Ptr("acs:oss:::" + dst), Prefix: oss2.Ptr(prefix),
					AccountId: oss2.Ptr("1"), RoleArn: oss2.Ptr("acs:ram::1:role/AliyunOSSRole")}},
				Schedule: &oss2.InventorySchedule{Frequency: oss2.InventoryFrequencyDaily}, IncludedObjectVersions: oss2.Ptr(versions),
				OptionalFields: &oss2.OptionalFields{Fields: []oss2.InventoryOptionalFieldType{"Size", "LastModifiedDate", "ETag",
					"StorageClass", "IsMultipartUploaded", "EncryptionStatus"}}}}); err != nil {
			t.Fatal(err)
		}
		return
	}
	c := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(rootAK, rootSK, "")})
	versions := types.InventoryIncludedObjectVersionsCurrent
	if allVersions {
		versions = types.InventoryIncludedObjectVersionsAll
	}
	if _, err := c.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{Bucket: aws.String(src), Id: aws.String(id),
		InventoryConfiguration: &types.InventoryConfiguration{Id: aws.String(id), IsEnabled: aws.Bool(true), IncludedObjectVersions: versions,
			Destination: &types.InventoryDestination{S3BucketDestination: &types.InventoryS3BucketDestination{
				Bucket: aws.String("arn:aws:s3:::" + dst), Format: types.InventoryFormatCsv, Prefix: aws.String(prefix)}},
			Schedule: &types.InventorySchedule{Frequency: types.InventoryFrequencyDaily},
			OptionalFields: []types.InventoryOptionalField{"Size", "LastModifiedDate", "ETag", "StorageClass",
				"IsMultipartUploaded", "EncryptionStatus", "BucketKeyStatus"}}}); err != nil {
		t.Fatal(err)
	}
}

// invEstate is a source bucket with objects of every method, and its
// report in dst.
type invEstate struct {
	src, dst string
	report   embedded.InventoryReport
	kms      int // objects encrypted with KMS (HEADed for their key)
}

func seedInventory(t *testing.T, c *client.Client, name string) invEstate {
	t.Helper()
	d := c.Dialect()
	e := invEstate{src: name + "-src", dst: name + "-dst"}
	mkBucket(t, c, e.src, nil)
	mkBucket(t, c, e.dst, nil)
	cmk := createKey(t, name)
	put(t, c, e.src, "plain/one", nil)
	put(t, c, e.src, "plain/two words", nil)
	put(t, c, e.src, "aes/x", &client.SSE{Algorithm: client.AlgorithmAES256})
	put(t, c, e.src, "kms/default", &client.SSE{Algorithm: client.AlgorithmKMS})
	put(t, c, e.src, "kms/cmk", &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: cmk})
	e.kms = 2
	if d == client.OSS {
		e.kms = 3 // OSS reports say only "encrypted": the AES256 object is HEADed too
	}
	putInventory(t, d, e.src, e.dst, "reports", "daily", false)
	var err error
	if e.report, err = srv.RunInventory(context.Background(), e.src, "daily", embedded.InventoryOptions{RowsPerFile: 2}); err != nil {
		t.Fatal(err)
	}
	return e
}

func byKey(b snapshot.Bucket) map[string]snapshot.Object {
	m := map[string]snapshot.Object{}
	for _, o := range b.Objects {
		m[o.Key] = o
	}
	return m
}

// TestInventoryCensus: the census from a report gives the same object
// records as the HEAD census, with HEADs only for the objects whose KMS
// key the report does not name, and records the report in provenance.
func TestInventoryCensus(t *testing.T) {
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		t.Run(string(d), func(t *testing.T) {
			root := rootClient(t, d)
			e := seedInventory(t, root, "invc-"+string(d))
			p := startProxy(t)
			c := clientFor(t, d, "", p.URL, rootAK, rootSK, 0)
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
				t.Errorf("inventory census sent %d HEADs, want %d (the objects whose key the report does not name)", got, e.kms)
			}
			want, got := readBuckets(t, headPath)[0], readBuckets(t, invPath)[0]
			if got.ListError != nil || got.ObjectsListed != want.ObjectsListed || got.ObjectsInspected != want.ObjectsInspected {
				t.Fatalf("bucket %+v, HEAD census %+v", got, want)
			}
			wm, gm := byKey(want), byKey(got)
			for k, w := range wm {
				g, ok := gm[k]
				if !ok || mustJSON(g) != mustJSON(w) {
					t.Errorf("%s:\ninventory %s\nHEAD      %s", k, mustJSON(g), mustJSON(w))
				}
			}
			if len(sum.Provenance.Inventories) != 1 {
				t.Fatalf("provenance %+v", sum.Provenance)
			}
			pi := sum.Provenance.Inventories[0]
			if pi.Bucket != e.src || pi.ManifestKey != e.report.ManifestKey || !pi.AsOf.Equal(e.report.AsOf.Truncate(asOfPrecision(d))) ||
				len(pi.ManifestSHA256) != 64 || pi.KeyIDs != InventoryKeysHead || pi.Dialect != string(d) {
				t.Fatalf("provenance inventory %+v (report %+v)", pi, e.report)
			}
		})
	}
}

func asOfPrecision(d client.Dialect) time.Duration {
	if d == client.S3 {
		return time.Millisecond // creationTimestamp in ms
	}
	return time.Second
}

// TestInventorySampleKeys: with key ids from the sample only, objects the
// report calls KMS-encrypted and that were not sampled are recorded
// unknown with an error saying why (an objects gap), not guessed.
func TestInventorySampleKeys(t *testing.T) {
	root := rootClient(t, client.S3)
	e := seedInventory(t, root, "invk")
	cfg := Config{Client: root, KMS: rootKMS, Buckets: []string{e.src}, BucketGlob: e.src,
		Inventory: []InventorySource{{Bucket: e.src, DestBucket: e.dst, Prefix: "reports", KeyIDs: InventoryKeysSample, Sample: -1}}}
	_, path, err := scanFile(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := readBuckets(t, path)[0]
	if b.ObjectsListed != 5 || b.ObjectsInspected != 3 {
		t.Fatalf("listed %d inspected %d", b.ObjectsListed, b.ObjectsInspected)
	}
	for _, k := range []string{"kms/default", "kms/cmk"} {
		o := byKey(b)[k]
		if o.Method != snapshot.MethodUnknown || o.Error == nil || o.Error.Code != "KeyNotInInventory" || o.SSE != "KMS" {
			t.Fatalf("%s: %s", k, mustJSON(o))
		}
	}
}

// rewriteReport changes rows of a report's data files and rewrites the
// manifest and its checksum to match: a report that is consistent but
// says something else than the store.
func rewriteReport(t *testing.T, c *client.Client, dst, manifestKey string, edit func(row []string)) {
	t.Helper()
	ctx := context.Background()
	body, _, err := c.GetObject(ctx, dst, manifestKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	upper := c.Dialect() == client.OSS
	hexOf := func(b []byte) string {
		if upper {
			return strings.ToUpper(hex.EncodeToString(b))
		}
		return hex.EncodeToString(b)
	}
	for _, f := range m["files"].([]any) {
		f := f.(map[string]any)
		key := f["key"].(string)
		data, _, err := c.GetObject(ctx, dst, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(zr).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		cw := csv.NewWriter(zw)
		for _, r := range rows {
			edit(r)
		}
		if err := cw.WriteAll(rows); err != nil {
			t.Fatal(err)
		}
		zw.Close()
		sum := md5.Sum(out.Bytes())
		f["MD5checksum"], f["size"] = hexOf(sum[:]), out.Len()
		putBytes(t, c, dst, key, out.Bytes())
	}
	nb, _ := json.Marshal(m)
	sum := md5.Sum(nb)
	putBytes(t, c, dst, manifestKey, nb)
	putBytes(t, c, dst, strings.TrimSuffix(manifestKey, ".json")+".checksum", []byte(hexOf(sum[:])))
}

func putBytes(t *testing.T, c *client.Client, bucket, key string, b []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), bucket, key, bytes.NewReader(b), int64(len(b)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestInventoryCrossCheck: a report that calls an unencrypted object
// encrypted is caught by the sample: the object is recorded as it is
// (unencrypted, so the object rules judge it) and the bucket's listing is
// marked InventoryMismatch (the report's other rows cannot be trusted).
func TestInventoryCrossCheck(t *testing.T) {
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		t.Run(string(d), func(t *testing.T) {
			root := rootClient(t, d)
			e := seedInventory(t, root, "invx-"+string(d))
			lie := map[client.Dialect]string{client.OSS: "true", client.S3: "SSE-S3"}[d]
			rewriteReport(t, root, e.dst, e.report.ManifestKey, func(r []string) {
				if r[1] == "plain%2Fone" {
					r[len(r)-map[client.Dialect]int{client.OSS: 1, client.S3: 2}[d]] = lie
				}
			})
			src := InventorySource{Bucket: e.src, DestBucket: e.dst, Prefix: "reports", Sample: 1000}
			cfg := Config{Client: root, KMS: rootKMS, Buckets: []string{e.src}, BucketGlob: e.src, Inventory: []InventorySource{src}}
			_, path, err := scanFile(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			b := readBuckets(t, path)[0]
			if b.ListError == nil || b.ListError.Code != "InventoryMismatch" || !strings.Contains(b.ListError.Message, "plain/one") {
				t.Fatalf("list error %+v", b.ListError)
			}
			if o := byKey(b)["plain/one"]; o.Method != snapshot.MethodNone || o.Error != nil {
				t.Fatalf("plain/one recorded %s", mustJSON(o))
			}
			// Without the sample an S3 report's SSE-S3 goes unchecked (no HEAD
			// is needed for it): the sample is what finds the lie. An OSS
			// report's "true" is HEADed anyway, for its method and key.
			cfg.Inventory[0].Sample = -1
			_, path, err = scanFile(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			b = readBuckets(t, path)[0]
			caught := b.ListError != nil && b.ListError.Code == "InventoryMismatch"
			if caught != (d == client.OSS) || (byKey(b)["plain/one"].Method == snapshot.MethodNone) != (d == client.OSS) {
				t.Fatalf("unsampled census: %+v %s", b.ListError, mustJSON(byKey(b)["plain/one"]))
			}
		})
	}
}

// TestInventoryBadInput: every damaged or misplaced report is refused with
// an error naming it (Run returns *InventoryError, so exit 2) and the
// bucket's list_error InvalidInventory: never a silently smaller census.
func TestInventoryBadInput(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, c *client.Client, e invEstate, other invEstate)
		want   string
	}{
		{"checksum-mismatched data file", func(t *testing.T, c *client.Client, e, _ invEstate) {
			data, _, _ := c.GetObject(ctx, e.dst, e.report.DataKeys[1], nil)
			data[len(data)/2] ^= 0xff
			putBytes(t, c, e.dst, e.report.DataKeys[1], data)
		}, "was altered"},
		{"truncated data file", func(t *testing.T, c *client.Client, e, _ invEstate) {
			data, _, _ := c.GetObject(ctx, e.dst, e.report.DataKeys[2], nil)
			putBytes(t, c, e.dst, e.report.DataKeys[2], data[:len(data)-5])
		}, "truncated"},
		{"missing data file", func(t *testing.T, c *client.Client, e, _ invEstate) {
			if err := c.DeleteObject(ctx, e.dst, e.report.DataKeys[0]); err != nil {
				t.Fatal(err)
			}
		}, "which is not there"},
		{"manifest checksum mismatch", func(t *testing.T, c *client.Client, e, _ invEstate) {
			putBytes(t, c, e.dst, strings.TrimSuffix(e.report.ManifestKey, ".json")+".checksum", []byte("0123456789abcdef0123456789abcdef"))
		}, "manifest.checksum says"},
		{"manifest of another bucket", func(t *testing.T, c *client.Client, e, other invEstate) {
			// The other bucket's newest report, copied where e's would be.
			for _, name := range []string{"manifest.json", "manifest.checksum"} {
				b, _, err := c.GetObject(ctx, other.dst, strings.TrimSuffix(other.report.ManifestKey, "manifest.json")+name, nil)
				if err != nil {
					t.Fatal(err)
				}
				putBytes(t, c, e.dst, "reports/"+e.src+"/daily/2099-01-01T00-00Z/"+name, b)
			}
		}, "the manifest is of bucket"},
		{"no report", func(t *testing.T, c *client.Client, e, _ invEstate) {
			for _, name := range []string{"manifest.json", "manifest.checksum"} {
				if err := c.DeleteObject(ctx, e.dst, strings.TrimSuffix(e.report.ManifestKey, "manifest.json")+name); err != nil {
					t.Fatal(err)
				}
			}
		}, "no manifest.json"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			root := rootClient(t, client.S3)
			n := "invb" + strconv.Itoa(int(md5.Sum([]byte(tc.name))[0]))
			e := seedInventory(t, root, n)
			other := seedInventory(t, root, n+"o")
			tc.damage(t, root, e, other)
			cfg := Config{Client: root, KMS: rootKMS, Buckets: []string{e.src}, BucketGlob: e.src,
				Inventory: []InventorySource{{Bucket: e.src, DestBucket: e.dst, Prefix: "reports"}}}
			sum, path, err := scanFile(t, cfg)
			var ie *InventoryError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), e.src) {
				t.Fatalf("Run error %v, want an *InventoryError with %q", err, tc.want)
			}
			if sum.Schema == "" {
				t.Fatal("no snapshot written")
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
}

func TestParseInventoryFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want InventorySource
		err  bool
	}{
		{"logs=reports", InventorySource{Bucket: "logs", DestBucket: "reports"}, false},
		{"logs=reports/daily/x/#all", InventorySource{Bucket: "logs", DestBucket: "reports", Prefix: "daily/x", ConfigID: "all"}, false},
		{"logs", InventorySource{}, true},
		{"=reports", InventorySource{}, true},
		{"logs=/p", InventorySource{}, true},
	} {
		got, err := ParseInventoryFlag(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("%q: %+v %v", tc.in, got, err)
		}
	}
	for _, srcs := range [][]InventorySource{{{Bucket: "a"}}, {{Bucket: "a", DestBucket: "d"}, {Bucket: "a", DestBucket: "e"}},
		{{Bucket: "a", DestBucket: "d", KeyIDs: "guess"}}} {
		if err := validateInventory(slices.Clone(srcs)); err == nil {
			t.Errorf("%+v accepted", srcs)
		}
	}
}
