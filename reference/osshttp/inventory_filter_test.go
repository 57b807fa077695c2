package osshttp

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/invreport"
	"github.com/sseaudit/sseaudit/reference/objstore"
)

// invFilterConfig is the configuration the v2 SDK's own TestBucketInventory
// puts: every Filter child OSS documents.
func invFilterConfig(id, dest string, f *oss2.InventoryFilter) *oss2.InventoryConfiguration {
	return &oss2.InventoryConfiguration{
		Id: oss2.Ptr(id), IsEnabled: oss2.Ptr(true), Filter: f,
		Destination: &oss2.InventoryDestination{OSSBucketDestination: &oss2.InventoryOSSBucketDestination{
			Format: oss2.InventoryFormatCSV, AccountId: oss2.Ptr("1000000000000000"),
			RoleArn: oss2.Ptr("acs:ram::1000000000000000:role/AliyunOSSRole"),
			Bucket:  oss2.Ptr("acs:oss:::" + dest), Prefix: oss2.Ptr("prefix1"),
		}},
		Schedule:               &oss2.InventorySchedule{Frequency: oss2.InventoryFrequencyDaily},
		IncludedObjectVersions: oss2.Ptr("All"),
		OptionalFields: &oss2.OptionalFields{Fields: []oss2.InventoryOptionalFieldType{
			oss2.InventoryOptionalFieldSize, oss2.InventoryOptionalFieldLastModifiedDate, oss2.InventoryOptionalFieldETag,
			oss2.InventoryOptionalFieldStorageClass, oss2.InventoryOptionalFieldIsMultipartUploaded,
			oss2.InventoryOptionalFieldEncryptionStatus}},
	}
}

func sdkFilter() *oss2.InventoryFilter {
	return &oss2.InventoryFilter{
		Prefix:                   oss2.Ptr("filterPrefix"),
		LastModifyBeginTimeStamp: oss2.Ptr(int64(1637883649)),
		LastModifyEndTimeStamp:   oss2.Ptr(int64(1638347592)),
		LowerSizeBound:           oss2.Ptr(int64(1024)),
		UpperSizeBound:           oss2.Ptr(int64(1048576)),
		StorageClass:             oss2.Ptr("Standard,IA"),
	}
}

// TestBucketInventoryFilterRoundTrip puts the v2 SDK suite's configuration
// (every Filter child) and reads each child back from Get and List.
func TestBucketInventoryFilterRoundTrip(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	must(t, err2(c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr("invf-src")})))
	put, err := c.PutBucketInventory(bg, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr("invf-src"), InventoryId: oss2.Ptr("report1"),
		InventoryConfiguration: invFilterConfig("report1", "invf-src", sdkFilter())})
	must(t, err)
	if put.StatusCode != 200 {
		t.Fatalf("Put status %d", put.StatusCode)
	}
	same := func(where string, f *oss2.InventoryFilter) {
		t.Helper()
		want := sdkFilter()
		if f == nil || oss2.ToString(f.Prefix) != *want.Prefix || oss2.ToString(f.StorageClass) != *want.StorageClass {
			t.Fatalf("%s: Filter = %+v", where, f)
		}
		for name, p := range map[string][2]*int64{
			"LastModifyBeginTimeStamp": {f.LastModifyBeginTimeStamp, want.LastModifyBeginTimeStamp},
			"LastModifyEndTimeStamp":   {f.LastModifyEndTimeStamp, want.LastModifyEndTimeStamp},
			"LowerSizeBound":           {f.LowerSizeBound, want.LowerSizeBound},
			"UpperSizeBound":           {f.UpperSizeBound, want.UpperSizeBound},
		} {
			if p[0] == nil || *p[0] != *p[1] {
				t.Fatalf("%s: Filter/%s = %v, want %d", where, name, p[0], *p[1])
			}
		}
	}
	got, err := c.GetBucketInventory(bg, &oss2.GetBucketInventoryRequest{Bucket: oss2.Ptr("invf-src"), InventoryId: oss2.Ptr("report1")})
	must(t, err)
	same("Get", got.InventoryConfiguration.Filter)
	list, err := c.ListBucketInventory(bg, &oss2.ListBucketInventoryRequest{Bucket: oss2.Ptr("invf-src")})
	must(t, err)
	if n := len(list.ListInventoryConfigurationsResult.InventoryConfigurations); n != 1 {
		t.Fatalf("List: %d configurations", n)
	}
	same("List", list.ListInventoryConfigurationsResult.InventoryConfigurations[0].Filter)

	// The raw XML names each child once, in OSS's order.
	v1, err := oss1.New("http://"+e.addr, rootAK, rootSK)
	must(t, err)
	raw, err := v1.GetBucketInventoryXml("invf-src", "report1")
	must(t, err)
	want := "<Filter><Prefix>filterPrefix</Prefix><LastModifyBeginTimeStamp>1637883649</LastModifyBeginTimeStamp>" +
		"<LastModifyEndTimeStamp>1638347592</LastModifyEndTimeStamp><LowerSizeBound>1024</LowerSizeBound>" +
		"<UpperSizeBound>1048576</UpperSizeBound><StorageClass>Standard,IA</StorageClass></Filter>"
	if !strings.Contains(raw, want) {
		t.Fatalf("GetBucketInventory XML lacks %s:\n%s", want, raw)
	}
}

// TestBucketInventoryFilterErrors is each validation error OSS documents
// for the filter (EC pages 0020-00000008 to 0020-00000026).
func TestBucketInventoryFilterErrors(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	must(t, err2(c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr("invf-err")})))
	now := time.Now().Unix()
	for _, tc := range []struct {
		name  string
		edit  func(*oss2.InventoryFilter)
		xml   [2]string // a raw Filter child replaced: old, new (values the SDK cannot send)
		ec    string
		valid bool
	}{
		{name: "all bounds", valid: true},
		{name: "equal bounds", edit: func(f *oss2.InventoryFilter) {
			f.LastModifyEndTimeStamp, f.UpperSizeBound = f.LastModifyBeginTimeStamp, f.LowerSizeBound
		}, valid: true},
		{name: "lower bound zero", edit: func(f *oss2.InventoryFilter) { f.LowerSizeBound = oss2.Ptr(int64(0)) }, valid: true},
		{name: "every class", edit: func(f *oss2.InventoryFilter) {
			f.StorageClass = oss2.Ptr("Standard,IA,Archive,ColdArchive,DeepColdArchive,All")
		}, valid: true},
		{name: "begin not a number", xml: [2]string{"<LastModifyBeginTimeStamp>1637883649<", "<LastModifyBeginTimeStamp>abc<"}, ec: ecInvBeginNotInt},
		{name: "end not a number", xml: [2]string{"<LastModifyEndTimeStamp>1638347592<", "<LastModifyEndTimeStamp>12x<"}, ec: ecInvEndNotInt},
		{name: "lower not a number", xml: [2]string{"<LowerSizeBound>1024<", "<LowerSizeBound>123abc<"}, ec: ecInvLowerNotInt},
		{name: "lower negative", edit: func(f *oss2.InventoryFilter) { f.LowerSizeBound = oss2.Ptr(int64(-1)) }, ec: ecInvLowerNotInt},
		{name: "upper not a number", xml: [2]string{"<UpperSizeBound>1048576<", "<UpperSizeBound>123abc<"}, ec: ecInvUpperNotInt},
		{name: "begin after end", edit: func(f *oss2.InventoryFilter) {
			f.LastModifyBeginTimeStamp, f.LastModifyEndTimeStamp = oss2.Ptr(int64(1637000001)), oss2.Ptr(int64(1637000000))
		}, ec: ecInvBegin},
		{name: "begin too early", edit: func(f *oss2.InventoryFilter) { f.LastModifyBeginTimeStamp = oss2.Ptr(int64(1000000001)) }, ec: ecInvBegin},
		{name: "end not before now", edit: func(f *oss2.InventoryFilter) { f.LastModifyEndTimeStamp = oss2.Ptr(now + 3600) }, ec: ecInvBegin},
		{name: "begin not before now", edit: func(f *oss2.InventoryFilter) {
			f.LastModifyBeginTimeStamp, f.LastModifyEndTimeStamp = oss2.Ptr(now+3600), nil
		}, ec: ecInvBegin},
		{name: "end too early", edit: func(f *oss2.InventoryFilter) {
			f.LastModifyBeginTimeStamp, f.LastModifyEndTimeStamp = oss2.Ptr(int64(1262275296)), oss2.Ptr(int64(1000000001))
		}, ec: ecInvEnd},
		{name: "end too late", edit: func(f *oss2.InventoryFilter) { f.LastModifyEndTimeStamp = oss2.Ptr(int64(253402272000)) }, ec: ecInvEnd},
		{name: "upper zero", edit: func(f *oss2.InventoryFilter) { f.LowerSizeBound, f.UpperSizeBound = nil, oss2.Ptr(int64(0)) }, ec: ecInvUpper},
		{name: "upper too large", edit: func(f *oss2.InventoryFilter) { f.UpperSizeBound = oss2.Ptr(int64(999999999999999)) }, ec: ecInvUpper},
		{name: "lower too large", edit: func(f *oss2.InventoryFilter) {
			f.LowerSizeBound, f.UpperSizeBound = oss2.Ptr(int64(54975581388801)), nil
		}, ec: ecInvLower},
		{name: "lower above upper", edit: func(f *oss2.InventoryFilter) {
			f.LowerSizeBound, f.UpperSizeBound = oss2.Ptr(int64(1000)), oss2.Ptr(int64(100))
		}, ec: ecInvLower},
		{name: "unknown class", edit: func(f *oss2.InventoryFilter) { f.StorageClass = oss2.Ptr("Standard,UNKNOW_TYPE") }, ec: ecInvStorageClass},
		{name: "empty class in list", edit: func(f *oss2.InventoryFilter) { f.StorageClass = oss2.Ptr("Standard,") }, ec: ecInvStorageClass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := sdkFilter()
			if tc.edit != nil {
				tc.edit(f)
			}
			id := "r-" + strings.ReplaceAll(tc.name, " ", "-")
			cfg := invFilterConfig(id, "invf-err", f)
			var err error
			if tc.xml[0] != "" {
				// The SDK marshals integers: send the document the v1 SDK's
				// raw XML call sends.
				body := xmlOf(cfg)
				if !strings.Contains(body, tc.xml[0]) {
					t.Fatalf("no %q in %s", tc.xml[0], body)
				}
				v1, nerr := oss1.New("http://"+e.addr, rootAK, rootSK)
				must(t, nerr)
				err = v1.SetBucketInventoryXml("invf-err", strings.Replace(body, tc.xml[0], tc.xml[1], 1))
			} else {
				_, err = c.PutBucketInventory(bg, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr("invf-err"), InventoryId: oss2.Ptr(id), InventoryConfiguration: cfg})
			}
			if tc.valid {
				must(t, err)
				return
			}
			wantErr(t, err, 400, CodeInvalidArgument)
			if _, _, ec := svcErr(err); ec != tc.ec {
				t.Fatalf("EC %q, want %q (%v)", ec, tc.ec, err)
			}
			_, err = c.GetBucketInventory(bg, &oss2.GetBucketInventoryRequest{Bucket: oss2.Ptr("invf-err"), InventoryId: oss2.Ptr(id)})
			wantErr(t, err, 404, codeNoSuchInventory)
		})
	}
}

// xmlOf is the body the v2 SDK sends for cfg.
func xmlOf(cfg *oss2.InventoryConfiguration) string {
	var b strings.Builder
	b.WriteString("<InventoryConfiguration><Id>" + *cfg.Id + "</Id><IsEnabled>true</IsEnabled><Filter>")
	f := cfg.Filter
	b.WriteString("<Prefix>" + oss2.ToString(f.Prefix) + "</Prefix>")
	for _, p := range []struct {
		name string
		v    *int64
	}{{"LastModifyBeginTimeStamp", f.LastModifyBeginTimeStamp}, {"LastModifyEndTimeStamp", f.LastModifyEndTimeStamp},
		{"LowerSizeBound", f.LowerSizeBound}, {"UpperSizeBound", f.UpperSizeBound}} {
		if p.v != nil {
			fmt.Fprintf(&b, "<%s>%d</%s>", p.name, *p.v, p.name)
		}
	}
	b.WriteString("<StorageClass>" + oss2.ToString(f.StorageClass) + "</StorageClass></Filter>")
	d := cfg.Destination.OSSBucketDestination
	fmt.Fprintf(&b, "<Destination><OSSBucketDestination><Format>CSV</Format><AccountId>%s</AccountId><RoleArn>%s</RoleArn><Bucket>%s</Bucket><Prefix>%s</Prefix></OSSBucketDestination></Destination>",
		*d.AccountId, *d.RoleArn, *d.Bucket, *d.Prefix)
	b.WriteString("<Schedule><Frequency>Daily</Frequency></Schedule><IncludedObjectVersions>All</IncludedObjectVersions><OptionalFields>")
	for _, fl := range cfg.OptionalFields.Fields {
		b.WriteString("<Field>" + string(fl) + "</Field>")
	}
	b.WriteString("</OptionalFields></InventoryConfiguration>")
	return b.String()
}

// TestBucketInventoryListPagesAndEmpty is what the v1 SDK's
// TestBucketInventory and TestBucketInventoryNegative pin of OSS: pages of
// 100 with the last id as token, NoSuchInventory for a bucket without
// configurations, and 204 for deleting an id that is not set.
func TestBucketInventoryListPagesAndEmpty(t *testing.T) {
	e := newTestEnv(t)
	c, err := oss1.New("http://"+e.addr, rootAK, rootSK)
	must(t, err)
	must(t, c.CreateBucket("invp-src"))

	_, err = c.ListBucketInventory("invp-src", "", oss1.Marker("report1"), oss1.MaxKeys(2))
	wantErr(t, err, 404, codeNoSuchInventory)
	must(t, c.DeleteBucketInventory("invp-src", "report1"))
	must(t, c.DeleteBucketInventory("invp-src", "report1"))
	_, err = c.ListBucketInventory("no-such-bucket", "")
	wantErr(t, err, 404, CodeNoSuchBucket)
	wantErr(t, c.DeleteBucketInventory("no-such-bucket", "report1"), 404, CodeNoSuchBucket)

	on := true
	for i := 1; i < 109; i++ {
		must(t, c.SetBucketInventory("invp-src", oss1.InventoryConfiguration{
			Id: "report" + strconv.Itoa(i), IsEnabled: &on, Prefix: "filterPrefix/",
			OSSBucketDestination: oss1.OSSBucketDestination{Format: "CSV", AccountId: "1", RoleArn: "acs:ram::1:role/r", Bucket: "acs:oss:::invp-src"},
			Frequency:            "Daily", IncludedObjectVersions: "All",
		}))
	}
	// The marker and max-keys the v1 suite passes are not OSS parameters.
	first, err := c.ListBucketInventory("invp-src", "", oss1.Marker("report1"), oss1.MaxKeys(2))
	must(t, err)
	if len(first.InventoryConfiguration) != 100 || first.IsTruncated == nil || !*first.IsTruncated ||
		first.NextContinuationToken != "report91" || first.InventoryConfiguration[0].Id != "report1" {
		t.Fatalf("first page: %d configurations, truncated %v, token %q", len(first.InventoryConfiguration), first.IsTruncated, first.NextContinuationToken)
	}
	next, err := c.ListBucketInventory("invp-src", first.NextContinuationToken)
	must(t, err)
	var ids []string
	for _, x := range next.InventoryConfiguration {
		ids = append(ids, x.Id)
	}
	if want := []string{"report92", "report93", "report94", "report95", "report96", "report97", "report98", "report99"}; !slices.Equal(ids, want) ||
		next.IsTruncated == nil || *next.IsTruncated || next.NextContinuationToken != "" {
		t.Fatalf("second page: %v (truncated %v, token %q), want %v", ids, next.IsTruncated, next.NextContinuationToken, want)
	}
}

// TestBucketInventoryReportFilters runs a report of each filter and
// checks which objects it lists.
func TestBucketInventoryReportFilters(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	for _, b := range []string{"invr-src", "invr-dst"} {
		must(t, err2(c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})))
	}
	put := func(key string, size int, class oss2.StorageClassType) int64 {
		t.Helper()
		must(t, err2(c.PutObject(bg, &oss2.PutObjectRequest{Bucket: oss2.Ptr("invr-src"), Key: oss2.Ptr(key),
			Body: bytes.NewReader(bytes.Repeat([]byte{'x'}, size)), StorageClass: class})))
		h, err := c.HeadObject(bg, &oss2.HeadObjectRequest{Bucket: oss2.Ptr("invr-src"), Key: oss2.Ptr(key)})
		must(t, err)
		return h.LastModified.Unix()
	}
	old := put("logs/old-small", 10, oss2.StorageClassStandard)
	put("logs/old-big", 5000, oss2.StorageClassIA)
	// A later second for the time bounds.
	var late int64
	for late = old; late <= old; {
		time.Sleep(200 * time.Millisecond)
		late = put("data/late", 100, oss2.StorageClassArchive)
	}
	e.clk.Advance(5 * time.Second) // the bounds must be before the server's now
	all := []string{"data/late", "logs/old-big", "logs/old-small"}
	for i, tc := range []struct {
		name string
		f    *oss2.InventoryFilter
		want []string
	}{
		{"none", nil, all},
		{"prefix", &oss2.InventoryFilter{Prefix: oss2.Ptr("logs/")}, []string{"logs/old-big", "logs/old-small"}},
		{"modified from", &oss2.InventoryFilter{LastModifyBeginTimeStamp: oss2.Ptr(late)}, []string{"data/late"}},
		{"modified until", &oss2.InventoryFilter{LastModifyEndTimeStamp: oss2.Ptr(old)}, []string{"logs/old-big", "logs/old-small"}},
		{"size from", &oss2.InventoryFilter{LowerSizeBound: oss2.Ptr(int64(100))}, []string{"data/late", "logs/old-big"}},
		{"size until", &oss2.InventoryFilter{UpperSizeBound: oss2.Ptr(int64(100))}, []string{"data/late", "logs/old-small"}},
		{"classes", &oss2.InventoryFilter{StorageClass: oss2.Ptr("IA,Archive")}, []string{"data/late", "logs/old-big"}},
		{"class All", &oss2.InventoryFilter{StorageClass: oss2.Ptr("All")}, all},
		{"every bound", &oss2.InventoryFilter{Prefix: oss2.Ptr("logs/"), LastModifyEndTimeStamp: oss2.Ptr(old),
			LowerSizeBound: oss2.Ptr(int64(11)), StorageClass: oss2.Ptr("IA")}, []string{"logs/old-big"}},
		{"nothing", &oss2.InventoryFilter{LastModifyEndTimeStamp: oss2.Ptr(old - 1)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "f" + strconv.Itoa(i)
			must(t, err2(c.PutBucketInventory(bg, &oss2.PutBucketInventoryRequest{Bucket: oss2.Ptr("invr-src"), InventoryId: oss2.Ptr(id),
				InventoryConfiguration: invFilterConfig(id, "invr-dst", tc.f)})))
			rep, err := invreport.Run(bg, e.store, objstore.Principal{Name: auth.RootPrincipal}, "invr-src", id, invreport.Options{})
			must(t, err)
			var keys []string
			for _, k := range rep.DataKeys {
				r, err := c.GetObject(bg, &oss2.GetObjectRequest{Bucket: oss2.Ptr("invr-dst"), Key: oss2.Ptr(k)})
				must(t, err)
				zr, err := gzip.NewReader(r.Body)
				must(t, err)
				rows, err := csv.NewReader(zr).ReadAll()
				must(t, err)
				r.Body.Close()
				for _, row := range rows {
					key, err := url.QueryUnescape(row[1])
					must(t, err)
					keys = append(keys, key)
				}
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.want) || rep.Rows != int64(len(tc.want)) {
				t.Fatalf("report lists %v (%d rows), want %v", keys, rep.Rows, tc.want)
			}
		})
	}
}
