package osshttp

import (
	"reflect"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// TestBucketInventoryV1 drives Put/Get/List/DeleteBucketInventory through
// aliyun-oss-go-sdk, which accepts only 200 (Put) and 204 (Delete).
func TestBucketInventoryV1(t *testing.T) {
	for _, sig := range []oss1.AuthVersionType{oss1.AuthV1, oss1.AuthV4} {
		t.Run(string(sig), func(t *testing.T) {
			e := newTestEnv(t)
			c, err := oss1.New("http://"+e.addr, rootAK, rootSK, oss1.AuthVersion(sig), oss1.Region(testRegion))
			must(t, err)
			must(t, c.CreateBucket("inv-src"))
			must(t, c.CreateBucket("inv-dst"))
			on := true
			cfg := oss1.InventoryConfiguration{
				Id: "report1", IsEnabled: &on, Prefix: "logs/",
				OSSBucketDestination: oss1.OSSBucketDestination{
					Format: "CSV", AccountId: "1000000000000000", RoleArn: "acs:ram::1000000000000000:role/AliyunOSSRole",
					Bucket: "acs:oss:::inv-dst", Prefix: "reports", Encryption: &oss1.InvEncryption{SseOss: &oss1.InvSseOss{}},
				},
				Frequency: "Daily", IncludedObjectVersions: "Current",
				OptionalFields: oss1.OptionalFields{Field: []string{"Size", "LastModifiedDate", "ETag", "EncryptionStatus"}},
			}
			must(t, c.SetBucketInventory("inv-src", cfg))
			got, err := c.GetBucketInventory("inv-src", "report1")
			must(t, err)
			if got.Id != "report1" || got.IsEnabled == nil || !*got.IsEnabled || got.Prefix != "logs/" ||
				got.OSSBucketDestination.Bucket != "acs:oss:::inv-dst" || got.OSSBucketDestination.Prefix != "reports" ||
				got.OSSBucketDestination.Encryption == nil || got.OSSBucketDestination.Encryption.SseOss == nil ||
				got.Frequency != "Daily" || got.IncludedObjectVersions != "Current" ||
				!reflect.DeepEqual(got.OptionalFields.Field, cfg.OptionalFields.Field) {
				t.Fatalf("GetBucketInventory = %+v", got)
			}
			// Putting an id that exists is refused; the configuration stays.
			err = c.SetBucketInventory("inv-src", cfg)
			wantErr(t, err, 409, "InventoryAlreadyExist")

			cfg2 := cfg
			cfg2.Id, cfg2.Prefix = "report2", ""
			cfg2.OSSBucketDestination.Encryption = &oss1.InvEncryption{SseKms: &oss1.InvSseKms{KmsId: "key-1"}}
			must(t, c.SetBucketInventory("inv-src", cfg2))
			list, err := c.ListBucketInventory("inv-src", "")
			must(t, err)
			if len(list.InventoryConfiguration) != 2 || list.InventoryConfiguration[1].Id != "report2" ||
				list.InventoryConfiguration[1].OSSBucketDestination.Encryption.SseKms.KmsId != "key-1" ||
				list.IsTruncated == nil || *list.IsTruncated {
				t.Fatalf("ListBucketInventory = %+v", list)
			}
			must(t, c.DeleteBucketInventory("inv-src", "report1"))
			_, err = c.GetBucketInventory("inv-src", "report1")
			wantErr(t, err, 404, "NoSuchInventory")
			// Deleting an id that is not set is 204 on OSS (see inventory.go).
			must(t, c.DeleteBucketInventory("inv-src", "report1"))
			_, err = c.GetBucketInventory("no-such-bucket", "report1")
			wantErr(t, err, 404, CodeNoSuchBucket)

			// A principal without a grant on the bucket.
			bob, err := oss1.New("http://"+e.addr, bobAK, bobSK)
			must(t, err)
			wantErr(t, bob.SetBucketInventory("inv-src", cfg), 403, CodeAccessDenied)
			_, err = bob.ListBucketInventory("inv-src", "")
			wantErr(t, err, 403, CodeAccessDenied)
		})
	}
}

// TestBucketInventoryV2 drives the same API through
// alibabacloud-oss-go-sdk-v2, and the validation errors OSS documents.
func TestBucketInventoryV2(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	for _, b := range []string{"inv2-src", "inv2-dst"} {
		_, err := c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})
		must(t, err)
	}
	mk := func(id string) *oss2.InventoryConfiguration {
		return &oss2.InventoryConfiguration{
			Id: oss2.Ptr(id), IsEnabled: oss2.Ptr(true),
			Destination: &oss2.InventoryDestination{OSSBucketDestination: &oss2.InventoryOSSBucketDestination{
				Format: oss2.InventoryFormatCSV, AccountId: oss2.Ptr("1000000000000000"),
				RoleArn: oss2.Ptr("acs:ram::1000000000000000:role/AliyunOSSRole"),
				Bucket:  oss2.Ptr("acs:oss:::inv2-dst"), Prefix: oss2.Ptr("prefix1"),
				Encryption: &oss2.InventoryEncryption{SseKms: &oss2.SSEKMS{KeyId: oss2.Ptr("keyId")}},
			}},
			Schedule:               &oss2.InventorySchedule{Frequency: oss2.InventoryFrequencyWeekly},
			Filter:                 &oss2.InventoryFilter{Prefix: oss2.Ptr("filterPrefix")},
			IncludedObjectVersions: oss2.Ptr("All"),
			OptionalFields: &oss2.OptionalFields{Fields: []oss2.InventoryOptionalFieldType{
				oss2.InventoryOptionalFieldSize, oss2.InventoryOptionalFieldEncryptionStatus, oss2.InventoryOptionalFieldCRC64}},
		}
	}
	put, err := c.PutBucketInventory(bg, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr("inv2-src"), InventoryId: oss2.Ptr("report1"), InventoryConfiguration: mk("report1")})
	must(t, err)
	if put.StatusCode != 200 {
		t.Fatalf("Put status %d", put.StatusCode)
	}
	got, err := c.GetBucketInventory(bg, &oss2.GetBucketInventoryRequest{Bucket: oss2.Ptr("inv2-src"), InventoryId: oss2.Ptr("report1")})
	must(t, err)
	g := got.InventoryConfiguration
	if *g.Id != "report1" || !*g.IsEnabled || g.Schedule.Frequency != oss2.InventoryFrequencyWeekly ||
		*g.Destination.OSSBucketDestination.Encryption.SseKms.KeyId != "keyId" || *g.Filter.Prefix != "filterPrefix" ||
		!reflect.DeepEqual(g.OptionalFields.Fields, mk("x").OptionalFields.Fields) {
		t.Fatalf("GetBucketInventory = %+v", g)
	}
	list, err := c.ListBucketInventory(bg, &oss2.ListBucketInventoryRequest{Bucket: oss2.Ptr("inv2-src")})
	must(t, err)
	if n := len(list.ListInventoryConfigurationsResult.InventoryConfigurations); n != 1 || *list.ListInventoryConfigurationsResult.IsTruncated {
		t.Fatalf("ListBucketInventory: %d configurations", n)
	}

	for _, tc := range []struct {
		name   string
		urlID  string
		mutate func(*oss2.InventoryConfiguration)
		status int
		code   string
		ec     string
	}{
		{"id mismatch", "other", func(*oss2.InventoryConfiguration) {}, 400, CodeInvalidArgument, ecInventoryIDMismatch},
		{"unknown field", "r3", func(c *oss2.InventoryConfiguration) {
			c.OptionalFields.Fields = append(c.OptionalFields.Fields, "StartTime")
		}, 400, CodeInvalidArgument, ecInventoryBadField},
		{"no format", "r3", func(c *oss2.InventoryConfiguration) { c.Destination.OSSBucketDestination.Format = "" }, 400, CodeInvalidArgument, ecInventoryNoFormat},
		{"bad destination", "r3", func(c *oss2.InventoryConfiguration) {
			c.Destination.OSSBucketDestination.Bucket = oss2.Ptr("inv2-dst")
		}, 400, CodeInvalidArgument, ""},
		{"bad frequency", "r3", func(c *oss2.InventoryConfiguration) { c.Schedule.Frequency = "Hourly" }, 400, CodeInvalidArgument, ""},
		{"size filter", "r3", func(c *oss2.InventoryConfiguration) { c.Filter.LowerSizeBound = oss2.Ptr(int64(-5)) }, 400, CodeInvalidArgument, ecInvLowerNotInt},
		{"no such bucket", "r3", nil, 404, CodeNoSuchBucket, ecNoSuchBucket},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bucket, cfg := "inv2-src", mk("r3")
			if tc.mutate == nil {
				bucket = "no-such-bucket"
			} else {
				tc.mutate(cfg)
			}
			_, err := c.PutBucketInventory(bg, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr(bucket), InventoryId: oss2.Ptr(tc.urlID), InventoryConfiguration: cfg})
			wantErr(t, err, tc.status, tc.code)
			if _, _, ec := svcErr(err); ec != tc.ec {
				t.Fatalf("EC %q, want %q", ec, tc.ec)
			}
		})
	}
	del, err := c.DeleteBucketInventory(bg, &oss2.DeleteBucketInventoryRequest{Bucket: oss2.Ptr("inv2-src"), InventoryId: oss2.Ptr("report1")})
	must(t, err)
	if del.StatusCode != 204 {
		t.Fatalf("Delete status %d", del.StatusCode)
	}
	_, err = c.GetBucketInventory(bg, &oss2.GetBucketInventoryRequest{Bucket: oss2.Ptr("inv2-src"), InventoryId: oss2.Ptr("report1")})
	wantErr(t, err, 404, "NoSuchInventory")

	// A bucket deleted and created again has none of the old configurations.
	must(t, err2(c.PutBucketInventory(bg, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr("inv2-src"), InventoryId: oss2.Ptr("report1"), InventoryConfiguration: mk("report1")})))
	must(t, err2(c.DeleteBucket(bg, &oss2.DeleteBucketRequest{Bucket: oss2.Ptr("inv2-src")})))
	must(t, err2(c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr("inv2-src")})))
	_, err = c.ListBucketInventory(bg, &oss2.ListBucketInventoryRequest{Bucket: oss2.Ptr("inv2-src")})
	wantErr(t, err, 404, codeNoSuchInventory) // none: what OSS answers for a bucket without any
}

func err2[T any](_ T, err error) error { return err }
