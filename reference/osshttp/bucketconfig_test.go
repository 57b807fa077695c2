package osshttp

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// TestBucketConfigsV2: every configuration sub-resource through the v2
// SDK: the answer before one is set (a 404 with its code, or OSS's
// default), a Put the schema refuses, a Put read back, a Delete, and
// NoSuchBucket for a bucket that does not exist.
func TestBucketConfigsV2(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	const b = "configs"
	_, err := c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	for _, tc := range []struct {
		name string
		// unset checks the Get before any Put (err is the Get's error).
		unset func(t *testing.T, err error, get func() (any, error))
		// bad is a Put the reference must refuse (status, code).
		bad       func(bucket string) error
		badStatus int
		badCode   string
		put       func(bucket string) error
		check     func(t *testing.T, got any)
		get       func(bucket string) (any, error)
		del       func(bucket string) error
	}{
		{
			name: "cors",
			unset: func(t *testing.T, err error, _ func() (any, error)) {
				wantErr(t, err, 404, CodeNoSuchCORSConfiguration)
			},
			bad: func(bk string) error {
				_, err := c.PutBucketCors(bg, &oss2.PutBucketCorsRequest{Bucket: oss2.Ptr(bk), CORSConfiguration: &oss2.CORSConfiguration{
					CORSRules: []oss2.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}}}})
				return err
			},
			badStatus: 400, badCode: CodeInvalidArgument,
			put: func(bk string) error {
				_, err := c.PutBucketCors(bg, &oss2.PutBucketCorsRequest{Bucket: oss2.Ptr(bk), CORSConfiguration: &oss2.CORSConfiguration{
					CORSRules: []oss2.CORSRule{{AllowedOrigins: []string{"http://*.example.com"}, AllowedMethods: []string{"PUT", "GET"},
						AllowedHeaders: []string{"x-oss-*"}, MaxAgeSeconds: oss2.Ptr(int64(60))}}}})
				return err
			},
			get: func(bk string) (any, error) {
				r, err := c.GetBucketCors(bg, &oss2.GetBucketCorsRequest{Bucket: oss2.Ptr(bk)})
				if err != nil {
					return nil, err
				}
				return r.CORSConfiguration, nil
			},
			check: func(t *testing.T, got any) {
				cc := got.(*oss2.CORSConfiguration)
				if len(cc.CORSRules) != 1 || cc.CORSRules[0].AllowedOrigins[0] != "http://*.example.com" || *cc.CORSRules[0].MaxAgeSeconds != 60 {
					t.Fatalf("CORS read back %+v", cc)
				}
			},
			del: func(bk string) error {
				_, err := c.DeleteBucketCors(bg, &oss2.DeleteBucketCorsRequest{Bucket: oss2.Ptr(bk)})
				return err
			},
		},
		{
			name: "lifecycle",
			unset: func(t *testing.T, err error, _ func() (any, error)) {
				wantErr(t, err, 404, CodeNoSuchLifecycle)
			},
			bad: func(bk string) error {
				_, err := c.PutBucketLifecycle(bg, &oss2.PutBucketLifecycleRequest{Bucket: oss2.Ptr(bk), LifecycleConfiguration: &oss2.LifecycleConfiguration{
					Rules: []oss2.LifecycleRule{{ID: oss2.Ptr("r"), Prefix: oss2.Ptr("x/"), Status: oss2.Ptr("Enabled"),
						Transitions: []oss2.LifecycleRuleTransition{{Days: oss2.Ptr(int32(30)), StorageClass: oss2.StorageClassStandard}}}}}})
				return err
			},
			badStatus: 400, badCode: CodeInvalidArgument,
			put: func(bk string) error {
				_, err := c.PutBucketLifecycle(bg, &oss2.PutBucketLifecycleRequest{Bucket: oss2.Ptr(bk), LifecycleConfiguration: &oss2.LifecycleConfiguration{
					Rules: []oss2.LifecycleRule{{ID: oss2.Ptr("r"), Prefix: oss2.Ptr("log/"), Status: oss2.Ptr("Enabled"),
						Transitions: []oss2.LifecycleRuleTransition{{Days: oss2.Ptr(int32(30)), StorageClass: oss2.StorageClassIA}}}}}})
				return err
			},
			get: func(bk string) (any, error) {
				r, err := c.GetBucketLifecycle(bg, &oss2.GetBucketLifecycleRequest{Bucket: oss2.Ptr(bk)})
				if err != nil {
					return nil, err
				}
				return r.LifecycleConfiguration, nil
			},
			check: func(t *testing.T, got any) {
				lc := got.(*oss2.LifecycleConfiguration)
				if len(lc.Rules) != 1 || *lc.Rules[0].Prefix != "log/" || lc.Rules[0].Transitions[0].StorageClass != oss2.StorageClassIA {
					t.Fatalf("lifecycle read back %+v", lc)
				}
			},
			del: func(bk string) error {
				_, err := c.DeleteBucketLifecycle(bg, &oss2.DeleteBucketLifecycleRequest{Bucket: oss2.Ptr(bk)})
				return err
			},
		},
		{
			name: "website",
			unset: func(t *testing.T, err error, _ func() (any, error)) {
				wantErr(t, err, 404, CodeNoSuchWebsiteConfiguration)
			},
			bad: func(bk string) error {
				_, err := c.PutBucketWebsite(bg, &oss2.PutBucketWebsiteRequest{Bucket: oss2.Ptr(bk), WebsiteConfiguration: &oss2.WebsiteConfiguration{
					IndexDocument: &oss2.IndexDocument{Suffix: oss2.Ptr("a/index.html")}}})
				return err
			},
			badStatus: 400, badCode: CodeInvalidArgument,
			put: func(bk string) error {
				_, err := c.PutBucketWebsite(bg, &oss2.PutBucketWebsiteRequest{Bucket: oss2.Ptr(bk), WebsiteConfiguration: &oss2.WebsiteConfiguration{
					IndexDocument: &oss2.IndexDocument{Suffix: oss2.Ptr("index.html")},
					ErrorDocument: &oss2.ErrorDocument{Key: oss2.Ptr("error.html"), HttpStatus: oss2.Ptr(int64(404))}}})
				return err
			},
			get: func(bk string) (any, error) {
				r, err := c.GetBucketWebsite(bg, &oss2.GetBucketWebsiteRequest{Bucket: oss2.Ptr(bk)})
				if err != nil {
					return nil, err
				}
				return r.WebsiteConfiguration, nil
			},
			check: func(t *testing.T, got any) {
				w := got.(*oss2.WebsiteConfiguration)
				if *w.IndexDocument.Suffix != "index.html" || *w.ErrorDocument.Key != "error.html" {
					t.Fatalf("website read back %+v", w)
				}
			},
			del: func(bk string) error {
				_, err := c.DeleteBucketWebsite(bg, &oss2.DeleteBucketWebsiteRequest{Bucket: oss2.Ptr(bk)})
				return err
			},
		},
		{
			name: "logging",
			unset: func(t *testing.T, err error, get func() (any, error)) {
				must(t, err)
				if got, _ := get(); got.(*oss2.BucketLoggingStatus).LoggingEnabled != nil {
					t.Fatal("logging on before it was set")
				}
			},
			bad: func(bk string) error {
				_, err := c.PutBucketLogging(bg, &oss2.PutBucketLoggingRequest{Bucket: oss2.Ptr(bk), BucketLoggingStatus: &oss2.BucketLoggingStatus{
					LoggingEnabled: &oss2.LoggingEnabled{TargetPrefix: oss2.Ptr(strings.Repeat("p", 33))}}})
				return err
			},
			badStatus: 400, badCode: CodeInvalidArgument,
			put: func(bk string) error {
				_, err := c.PutBucketLogging(bg, &oss2.PutBucketLoggingRequest{Bucket: oss2.Ptr(bk), BucketLoggingStatus: &oss2.BucketLoggingStatus{
					LoggingEnabled: &oss2.LoggingEnabled{TargetPrefix: oss2.Ptr("log-")}}})
				return err
			},
			get: func(bk string) (any, error) {
				r, err := c.GetBucketLogging(bg, &oss2.GetBucketLoggingRequest{Bucket: oss2.Ptr(bk)})
				if err != nil {
					return nil, err
				}
				return r.BucketLoggingStatus, nil
			},
			check: func(t *testing.T, got any) {
				l := got.(*oss2.BucketLoggingStatus).LoggingEnabled
				// Without a TargetBucket the bucket logs into itself.
				if l == nil || *l.TargetBucket != b || *l.TargetPrefix != "log-" {
					t.Fatalf("logging read back %+v", l)
				}
			},
			del: func(bk string) error {
				_, err := c.DeleteBucketLogging(bg, &oss2.DeleteBucketLoggingRequest{Bucket: oss2.Ptr(bk)})
				return err
			},
		},
		{
			name: "referer",
			unset: func(t *testing.T, err error, get func() (any, error)) {
				must(t, err)
				if got, _ := get(); !*got.(*oss2.RefererConfiguration).AllowEmptyReferer {
					t.Fatal("the default Referer configuration must allow an empty Referer")
				}
			},
			bad: func(bk string) error {
				_, err := c.PutBucketReferer(bg, &oss2.PutBucketRefererRequest{Bucket: oss2.Ptr(bk), RefererConfiguration: &oss2.RefererConfiguration{}})
				return err
			},
			badStatus: 400, badCode: CodeMalformedXML,
			put: func(bk string) error {
				_, err := c.PutBucketReferer(bg, &oss2.PutBucketRefererRequest{Bucket: oss2.Ptr(bk), RefererConfiguration: &oss2.RefererConfiguration{
					AllowEmptyReferer: oss2.Ptr(false), RefererList: &oss2.RefererList{Referers: []string{"http://www.example.com"}}}})
				return err
			},
			get: func(bk string) (any, error) {
				r, err := c.GetBucketReferer(bg, &oss2.GetBucketRefererRequest{Bucket: oss2.Ptr(bk)})
				if err != nil {
					return nil, err
				}
				return r.RefererConfiguration, nil
			},
			check: func(t *testing.T, got any) {
				rc := got.(*oss2.RefererConfiguration)
				if *rc.AllowEmptyReferer || rc.RefererList.Referers[0] != "http://www.example.com" {
					t.Fatalf("referer read back %+v", rc)
				}
			},
		},
		{
			name: "tags",
			unset: func(t *testing.T, err error, get func() (any, error)) {
				must(t, err)
				if got, _ := get(); len(got.(*oss2.Tagging).TagSet.Tags) != 0 {
					t.Fatal("tags before any were set")
				}
			},
			bad: func(bk string) error {
				_, err := c.PutBucketTags(bg, &oss2.PutBucketTagsRequest{Bucket: oss2.Ptr(bk), Tagging: &oss2.Tagging{TagSet: &oss2.TagSet{
					Tags: []oss2.Tag{{Key: oss2.Ptr("k"), Value: oss2.Ptr("a")}, {Key: oss2.Ptr("k"), Value: oss2.Ptr("b")}}}}})
				return err
			},
			badStatus: 400, badCode: CodeInvalidTag,
			put: func(bk string) error {
				_, err := c.PutBucketTags(bg, &oss2.PutBucketTagsRequest{Bucket: oss2.Ptr(bk), Tagging: &oss2.Tagging{TagSet: &oss2.TagSet{
					Tags: []oss2.Tag{{Key: oss2.Ptr("k1"), Value: oss2.Ptr("v1")}, {Key: oss2.Ptr("k2"), Value: oss2.Ptr("v2")}, {Key: oss2.Ptr("k3"), Value: oss2.Ptr("v3")}}}}})
				if err != nil {
					return err
				}
				// Delete with keys removes only those.
				_, err = c.DeleteBucketTags(bg, &oss2.DeleteBucketTagsRequest{Bucket: oss2.Ptr(bk), Tagging: oss2.Ptr("k1,k3")})
				return err
			},
			get: func(bk string) (any, error) {
				r, err := c.GetBucketTags(bg, &oss2.GetBucketTagsRequest{Bucket: oss2.Ptr(bk)})
				if err != nil {
					return nil, err
				}
				return r.Tagging, nil
			},
			check: func(t *testing.T, got any) {
				tags := got.(*oss2.Tagging).TagSet.Tags
				if len(tags) != 1 || *tags[0].Key != "k2" {
					t.Fatalf("tags read back %+v", tags)
				}
			},
			del: func(bk string) error {
				_, err := c.DeleteBucketTags(bg, &oss2.DeleteBucketTagsRequest{Bucket: oss2.Ptr(bk)})
				return err
			},
		},
		{
			name:  "quota",
			unset: func(t *testing.T, err error, _ func() (any, error)) { must(t, err) },
			bad: func(bk string) error {
				_, err := c.PutBucketStorageQuota(bg, &oss2.PutBucketStorageQuotaRequest{Bucket: oss2.Ptr(bk), QuotaConfiguration: &oss2.QuotaConfiguration{
					StorageQuota: oss2.Ptr(int64(10)), Mode: "Loose"}})
				return err
			},
			badStatus: 400, badCode: CodeInvalidArgument,
			put: func(bk string) error {
				_, err := c.PutBucketStorageQuota(bg, &oss2.PutBucketStorageQuotaRequest{Bucket: oss2.Ptr(bk), QuotaConfiguration: &oss2.QuotaConfiguration{
					StorageQuota: oss2.Ptr(int64(1 << 30)), Mode: oss2.StorageQuotaModeStrict}})
				return err
			},
			get: func(bk string) (any, error) {
				r, err := c.GetBucketStorageQuota(bg, &oss2.GetBucketStorageQuotaRequest{Bucket: oss2.Ptr(bk)})
				if err != nil {
					return nil, err
				}
				return r.QuotaConfiguration, nil
			},
			check: func(t *testing.T, got any) {
				q := got.(*oss2.QuotaConfiguration)
				if *q.StorageQuota != 1<<30 || q.Mode != oss2.StorageQuotaModeStrict {
					t.Fatalf("quota read back %+v", q)
				}
			},
			del: func(bk string) error {
				_, err := c.DeleteBucketStorageQuota(bg, &oss2.DeleteBucketStorageQuotaRequest{Bucket: oss2.Ptr(bk)})
				return err
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			get := func() (any, error) { return tc.get(b) }
			_, err := tc.get(b)
			tc.unset(t, err, get)
			wantErr(t, tc.bad(b), tc.badStatus, tc.badCode)
			_, err = tc.get(b)
			tc.unset(t, err, get) // the refused Put kept nothing
			must(t, tc.put(b))
			got, err := tc.get(b)
			must(t, err)
			tc.check(t, got)
			wantErr(t, tc.put(b+"-missing"), 404, CodeNoSuchBucket)
			_, err = tc.get(b + "-missing")
			wantErr(t, err, 404, CodeNoSuchBucket)
			if tc.del == nil {
				return
			}
			must(t, tc.del(b))
			_, err = tc.get(b)
			tc.unset(t, err, get)
		})
	}
	// DeleteBucket drops the configurations with the bucket.
	must(t, tc0put(c, b))
	_, err = c.DeleteBucket(bg, &oss2.DeleteBucketRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	_, err = c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	_, err = c.GetBucketCors(bg, &oss2.GetBucketCorsRequest{Bucket: oss2.Ptr(b)})
	wantErr(t, err, 404, CodeNoSuchCORSConfiguration)
}

func tc0put(c *oss2.Client, b string) error {
	_, err := c.PutBucketCors(bg, &oss2.PutBucketCorsRequest{Bucket: oss2.Ptr(b), CORSConfiguration: &oss2.CORSConfiguration{
		CORSRules: []oss2.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}}})
	return err
}

// TestCORSPreflight: OPTIONS is answered from the bucket's CORS rules,
// without credentials, as browsers send it.
func TestCORSPreflight(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	const b = "cors"
	_, err := c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	opt := func(origin, method string) (*oss2.OptionObjectResult, error) {
		return c.OptionObject(bg, &oss2.OptionObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr("k"),
			Origin: oss2.Ptr(origin), AccessControlRequestMethod: oss2.Ptr(method)})
	}
	_, err = opt("http://www.example.com", "PUT")
	wantErr(t, err, 403, CodeAccessForbidden) // no rules yet
	must(t, tc0put(c, b))
	_, err = c.PutBucketCors(bg, &oss2.PutBucketCorsRequest{Bucket: oss2.Ptr(b), CORSConfiguration: &oss2.CORSConfiguration{
		CORSRules: []oss2.CORSRule{{AllowedOrigins: []string{"http://*.example.com"}, AllowedMethods: []string{"PUT", "GET"},
			ExposeHeaders: []string{"x-oss-request-id"}, MaxAgeSeconds: oss2.Ptr(int64(100))}}}})
	must(t, err)
	r, err := opt("http://www.example.com", "PUT")
	must(t, err)
	if *r.AccessControlAllowOrigin != "http://www.example.com" || *r.AccessControlAllowMethods != "PUT, GET" ||
		*r.AccessControlExposeHeaders != "x-oss-request-id" || *r.AccessControlMaxAge != 100 {
		t.Fatalf("preflight answer %+v", r)
	}
	_, err = opt("http://www.example.org", "PUT")
	wantErr(t, err, 403, CodeAccessForbidden)
	_, err = opt("http://www.example.com", "DELETE")
	wantErr(t, err, 403, CodeAccessForbidden)
	// Anonymous, as a browser sends it.
	resp := e.rawRequest(http.MethodOptions, "/"+b+"/k", map[string]string{"Origin": "http://a.example.com", "Access-Control-Request-Method": "GET"}, nil)
	readAll(t, resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://a.example.com" {
		t.Fatalf("anonymous preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp = e.rawRequest(http.MethodOptions, "/nocors/k", map[string]string{"Origin": "http://a.example.com", "Access-Control-Request-Method": "GET"}, nil)
	wantRawError(t, resp, 404, CodeNoSuchBucket)
}

// TestPublicAccessBlock: the bucket's and the account's block are kept,
// reported by GetBucketInfo, and refuse public ACLs while on.
func TestPublicAccessBlock(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	const b = "pab"
	_, err := c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	info := func() bool {
		r, err := c.GetBucketInfo(bg, &oss2.GetBucketInfoRequest{Bucket: oss2.Ptr(b)})
		must(t, err)
		return *r.BucketInfo.BlockPublicAccess
	}
	publicACL := func() error {
		_, err := c.PutBucketAcl(bg, &oss2.PutBucketAclRequest{Bucket: oss2.Ptr(b), Acl: oss2.BucketACLPublicRead})
		return err
	}
	if info() {
		t.Fatal("blocked before any block was set")
	}
	_, err = c.PutBucketPublicAccessBlock(bg, &oss2.PutBucketPublicAccessBlockRequest{Bucket: oss2.Ptr(b),
		PublicAccessBlockConfiguration: &oss2.PublicAccessBlockConfiguration{BlockPublicAccess: oss2.Ptr(true)}})
	must(t, err)
	if !info() {
		t.Fatal("GetBucketInfo does not report the bucket's block")
	}
	wantErr(t, publicACL(), 403, CodeAccessDenied)
	_, err = c.PutObject(bg, &oss2.PutObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr("o"), Acl: oss2.ObjectACLPublicRead, Body: strings.NewReader("x")})
	wantErr(t, err, 403, CodeAccessDenied)
	_, err = c.DeleteBucketPublicAccessBlock(bg, &oss2.DeleteBucketPublicAccessBlockRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	must(t, publicACL())
	// The account-level block covers every bucket.
	_, err = c.PutPublicAccessBlock(bg, &oss2.PutPublicAccessBlockRequest{
		PublicAccessBlockConfiguration: &oss2.PublicAccessBlockConfiguration{BlockPublicAccess: oss2.Ptr(true)}})
	must(t, err)
	g, err := c.GetPublicAccessBlock(bg, &oss2.GetPublicAccessBlockRequest{})
	must(t, err)
	if !*g.PublicAccessBlockConfiguration.BlockPublicAccess || !info() {
		t.Fatal("account block not reported")
	}
	wantErr(t, publicACL(), 403, CodeAccessDenied)
	_, err = c.DeletePublicAccessBlock(bg, &oss2.DeletePublicAccessBlockRequest{})
	must(t, err)
	must(t, publicACL())
}

// TestBucketServiceOpsV2: DescribeRegions, GetBucketStat,
// GetBucketPolicyStatus, resource groups, ListBuckets' tag filter and
// NoSuchBucket before credentials, through the v2 SDK.
func TestBucketServiceOpsV2(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	const b = "svcops"
	_, err := c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})
	must(t, err)

	reg, err := c.DescribeRegions(bg, &oss2.DescribeRegionsRequest{})
	must(t, err)
	if len(reg.RegionInfoList.RegionInfos) != 1 || *reg.RegionInfoList.RegionInfos[0].Region != "oss-"+testRegion ||
		*reg.RegionInfoList.RegionInfos[0].InternetEndpoint != "oss-"+testRegion+".aliyuncs.com" {
		t.Fatalf("regions %+v", reg.RegionInfoList.RegionInfos)
	}
	_, err = c.DescribeRegions(bg, &oss2.DescribeRegionsRequest{Regions: oss2.Ptr("oss-eu-central-1")})
	wantErr(t, err, 404, "NoSuchRegion")

	for _, o := range []struct {
		key, class string
		size       int
	}{{"a", "", 10}, {"b", "IA", 20}, {"c", "Archive", 5}} {
		req := &oss2.PutObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(o.key), Body: strings.NewReader(strings.Repeat("x", o.size))}
		if o.class != "" {
			req.StorageClass = oss2.StorageClassType(o.class)
		}
		_, err := c.PutObject(bg, req)
		must(t, err)
	}
	_, err = c.InitiateMultipartUpload(bg, &oss2.InitiateMultipartUploadRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr("mp")})
	must(t, err)
	st, err := c.GetBucketStat(bg, &oss2.GetBucketStatRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	if st.Storage != 35 || st.ObjectCount != 3 || st.StandardStorage != 10 || st.InfrequentAccessObjectCount != 1 ||
		st.ArchiveStorage != 5 || st.MultipartUploadCount != 1 || st.LastModifiedTime <= 0 {
		t.Fatalf("stat %+v", st)
	}

	ps, err := c.GetBucketPolicyStatus(bg, &oss2.GetBucketPolicyStatusRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	if *ps.PolicyStatus.IsPublic {
		t.Fatal("a bucket without an Allow policy is not public by policy")
	}

	rg, err := c.GetBucketResourceGroup(bg, &oss2.GetBucketResourceGroupRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	_, err = c.PutBucketResourceGroup(bg, &oss2.PutBucketResourceGroupRequest{Bucket: oss2.Ptr(b),
		BucketResourceGroupConfiguration: &oss2.BucketResourceGroupConfiguration{ResourceGroupId: rg.BucketResourceGroupConfiguration.ResourceGroupId}})
	must(t, err)
	_, err = c.PutBucketResourceGroup(bg, &oss2.PutBucketResourceGroupRequest{Bucket: oss2.Ptr(b),
		BucketResourceGroupConfiguration: &oss2.BucketResourceGroupConfiguration{ResourceGroupId: oss2.Ptr("rg-other")}})
	wantErr(t, err, 400, CodeResourceGroupIDPreCheckError)

	_, err = c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b + "2")})
	must(t, err)
	_, err = c.PutBucketTags(bg, &oss2.PutBucketTagsRequest{Bucket: oss2.Ptr(b + "2"), Tagging: &oss2.Tagging{TagSet: &oss2.TagSet{
		Tags: []oss2.Tag{{Key: oss2.Ptr("k"), Value: oss2.Ptr("v")}}}}})
	must(t, err)
	for _, req := range []*oss2.ListBucketsRequest{
		{Prefix: oss2.Ptr(b), Tagging: oss2.Ptr(`"k":"v"`)},
		{Prefix: oss2.Ptr(b), TagKey: oss2.Ptr("k"), TagValue: oss2.Ptr("v")},
		{Prefix: oss2.Ptr(b), TagKey: oss2.Ptr("k")},
	} {
		lb, err := c.ListBuckets(bg, req)
		must(t, err)
		if len(lb.Buckets) != 1 || *lb.Buckets[0].Name != b+"2" {
			t.Fatalf("tag filter %+v gave %d buckets", req, len(lb.Buckets))
		}
	}
	_, err = c.ListBuckets(bg, &oss2.ListBucketsRequest{Tagging: oss2.Ptr(`"k":"v"`), TagKey: oss2.Ptr("k")})
	wantErr(t, err, 400, CodeInvalidArgument)

	// OSS answers NoSuchBucket before it looks at the credentials.
	nobody := newV2(e, e.srv.URL, "LTAI5tNobody", "secret", nil).c
	ok, err := nobody.IsBucketExist(bg, b+"-missing")
	must(t, err)
	if ok {
		t.Fatal("a missing bucket exists for an unknown key")
	}
	ok, err = nobody.IsBucketExist(bg, b)
	must(t, err)
	if !ok {
		t.Fatal("an existing bucket is missing for an unknown key")
	}
}

// TestRedundancyV2: ZRS asked at PutBucket reads back ZRS (it read LRS),
// and a transition makes an LRS bucket ZRS.
func TestRedundancyV2(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	red := func(b string) string {
		r, err := c.GetBucketInfo(bg, &oss2.GetBucketInfoRequest{Bucket: oss2.Ptr(b)})
		must(t, err)
		return *r.BucketInfo.DataRedundancyType
	}
	_, err := c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr("zrs"),
		CreateBucketConfiguration: &oss2.CreateBucketConfiguration{DataRedundancyType: oss2.DataRedundancyZRS}})
	must(t, err)
	if got := red("zrs"); got != "ZRS" {
		t.Fatalf("ZRS bucket reads back %s", got)
	}
	_, err = c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr("lrs")})
	must(t, err)
	if got := red("lrs"); got != "LRS" {
		t.Fatalf("default bucket reads back %s", got)
	}
	_, err = c.CreateBucketDataRedundancyTransition(bg, &oss2.CreateBucketDataRedundancyTransitionRequest{Bucket: oss2.Ptr("zrs"), TargetRedundancyType: oss2.Ptr("ZRS")})
	wantErr(t, err, 400, CodeInvalidArgument)
	cr, err := c.CreateBucketDataRedundancyTransition(bg, &oss2.CreateBucketDataRedundancyTransitionRequest{Bucket: oss2.Ptr("lrs"), TargetRedundancyType: oss2.Ptr("ZRS")})
	must(t, err)
	id := cr.BucketDataRedundancyTransition.TaskId
	g, err := c.GetBucketDataRedundancyTransition(bg, &oss2.GetBucketDataRedundancyTransitionRequest{Bucket: oss2.Ptr("lrs"), RedundancyTransitionTaskid: id})
	must(t, err)
	if *g.BucketDataRedundancyTransition.Status != "Finished" || red("lrs") != "ZRS" {
		t.Fatalf("transition %+v, bucket %s", g.BucketDataRedundancyTransition, red("lrs"))
	}
	l, err := c.ListUserDataRedundancyTransition(bg, &oss2.ListUserDataRedundancyTransitionRequest{})
	must(t, err)
	if len(l.ListBucketDataRedundancyTransition.BucketDataRedundancyTransitions) != 1 {
		t.Fatalf("user transitions %+v", l.ListBucketDataRedundancyTransition)
	}
	_, err = c.DeleteBucketDataRedundancyTransition(bg, &oss2.DeleteBucketDataRedundancyTransitionRequest{Bucket: oss2.Ptr("lrs"), RedundancyTransitionTaskid: id})
	must(t, err)
	_, err = c.GetBucketDataRedundancyTransition(bg, &oss2.GetBucketDataRedundancyTransitionRequest{Bucket: oss2.Ptr("lrs"), RedundancyTransitionTaskid: id})
	wantErr(t, err, 404, "NoSuchBucketDataRedundancyTransition")
}

// TestOSSWriteQuirksV1: through the v1 SDK, a PutObject with
// If-Modified-Since is refused (it was accepted), IsBucketExist of an
// invalid name fails (ListBuckets refuses the prefix), and
// x-oss-traffic-limit paces an upload and a download.
func TestOSSWriteQuirksV1(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	must(t, c.CreateBucket("quirks"))
	bk, err := c.Bucket("quirks")
	must(t, err)
	err = bk.PutObject("o", strings.NewReader("x"), oss1.IfModifiedSince(time.Now().Add(-time.Hour)))
	wantErr(t, err, 400, CodeNotImplemented)
	if _, err := c.IsBucketExist("BucketNameInvalid"); err == nil {
		t.Fatal("IsBucketExist of an invalid name succeeded")
	}
	if ok, err := c.IsBucketExist("quirks"); err != nil || !ok {
		t.Fatalf("IsBucketExist: %v %v", ok, err)
	}
	err = bk.PutObject("o", strings.NewReader("x"), oss1.TrafficLimitHeader(100))
	wantErr(t, err, 400, CodeInvalidArgument)

	// 819200 bit/s is 100 KiB/s: 40 KiB take at least 0.4 s each way.
	data := payload(40<<10, 3)
	start := time.Now()
	must(t, bk.PutObject("slow", strings.NewReader(string(data)), oss1.TrafficLimitHeader(minTrafficLimit)))
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Fatalf("a limited upload took %v", d)
	}
	start = time.Now()
	rc, err := bk.GetObject("slow", oss1.TrafficLimitHeader(minTrafficLimit))
	must(t, err)
	got := readAll(t, rc)
	if d := time.Since(start); d < 350*time.Millisecond || string(got) != string(data) {
		t.Fatalf("a limited download took %v (%d bytes)", d, len(got))
	}
	start = time.Now()
	rc, err = bk.GetObject("slow")
	must(t, err)
	readAll(t, rc)
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Fatalf("an unlimited download took %v", d)
	}
}

// TestBucketConfigRulesV1: the rules across configurations, through the
// v1 SDK: lifecycle prefixes that overlap with the same action are
// refused unless allowed, and even then transitions must go colder;
// rules on access time need the access monitor, which cannot be turned
// off under them; logs go to a bucket that exists; a website with
// routing rules only (an empty index suffix) is accepted; transfer
// acceleration can be deleted; a limited upload reports its delay.
func TestBucketConfigRulesV1(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	const b = "rules"
	must(t, c.CreateBucket(b))

	r1 := oss1.BuildLifecycleRuleByDays("r1", "logs", true, 30)
	r2 := oss1.BuildLifecycleRuleByDays("r2", "logs/old", true, 10)
	wantErr(t, c.SetBucketLifecycle(b, []oss1.LifecycleRule{r1, r2}), 400, CodeInvalidArgument)
	must(t, c.SetBucketLifecycle(b, []oss1.LifecycleRule{r1, r2}, oss1.AllowSameActionOverLap(true)))
	warmer := `<LifecycleConfiguration>
<Rule><ID>a</ID><Prefix>p</Prefix><Status>Enabled</Status><Transition><Days>45</Days><StorageClass>IA</StorageClass></Transition></Rule>
<Rule><ID>b</ID><Prefix>p/q</Prefix><Status>Enabled</Status><Transition><Days>40</Days><StorageClass>Archive</StorageClass></Transition></Rule>
</LifecycleConfiguration>`
	wantErr(t, c.SetBucketLifecycleXml(b, warmer, oss1.AllowSameActionOverLap(true)), 400, CodeInvalidArgument)

	yes := true
	access := oss1.LifecycleRule{ID: "atime", Prefix: "hot", Status: "Enabled",
		Transitions: []oss1.LifecycleTransition{{Days: 30, StorageClass: oss1.StorageIA, IsAccessTime: &yes}}}
	wantErr(t, c.SetBucketLifecycle(b, []oss1.LifecycleRule{access}), 400, CodeInvalidArgument)
	must(t, c.PutBucketAccessMonitor(b, oss1.PutBucketAccessMonitor{Status: "Enabled"}))
	must(t, c.SetBucketLifecycle(b, []oss1.LifecycleRule{access}))
	info, err := c.GetBucketInfo(b)
	must(t, err)
	if info.BucketInfo.AccessMonitor != "Enabled" {
		t.Fatalf("GetBucketInfo AccessMonitor %q", info.BucketInfo.AccessMonitor)
	}
	wantErr(t, c.PutBucketAccessMonitor(b, oss1.PutBucketAccessMonitor{Status: "Disabled"}), 400, CodeInvalidArgument)
	must(t, c.DeleteBucketLifecycle(b))
	must(t, c.PutBucketAccessMonitor(b, oss1.PutBucketAccessMonitor{Status: "Disabled"}))

	wantErr(t, c.SetBucketLogging(b, "no-such-target", "prefix", true), 400, "InvalidTargetBucketForLogging")
	must(t, c.CreateBucket("rules-logs"))
	must(t, c.SetBucketLogging(b, "rules-logs", "prefix", true))
	bi, err := newV2(e, e.srv.URL, rootAK, rootSK, nil).c.GetBucketInfo(bg, &oss2.GetBucketInfoRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	if p := bi.BucketInfo.BucketPolicy; *p.LogBucket != "rules-logs" || *p.LogPrefix != "prefix" {
		t.Fatalf("GetBucketInfo logging %+v", p)
	}

	must(t, c.SetBucketWebsiteDetail(b, oss1.WebsiteXML{RoutingRules: []oss1.RoutingRule{{RuleNumber: 1,
		Condition: oss1.Condition{HTTPErrorCodeReturnedEquals: 404},
		Redirect:  oss1.Redirect{RedirectType: "External", HostName: "example.com"}}}}))
	wantErr(t, c.SetBucketWebsiteDetail(b, oss1.WebsiteXML{RoutingRules: []oss1.RoutingRule{{RuleNumber: 1,
		Redirect: oss1.Redirect{RedirectType: "Mirror"}}}}), 400, CodeInvalidArgument) // a mirror without an origin
	// GetBucketWebsite completes a Redirect with OSS's defaults.
	ws, err := c.GetBucketWebsite(b)
	must(t, err)
	red := ws.RoutingRules[0].Redirect
	if red.HostName != "example.com" || red.PassQueryString == nil || *red.PassQueryString || red.MirrorFollowRedirect == nil ||
		!*red.MirrorFollowRedirect || red.MirrorHeaders.PassAll == nil || *red.MirrorHeaders.PassAll {
		t.Fatalf("website redirect read back %+v", red)
	}

	must(t, c.SetBucketTransferAcc(b, oss1.TransferAccConfiguration{Enabled: true}))
	must(t, c.DeleteBucketTransferAcc(b))
	if _, err := c.GetBucketTransferAcc(b); err == nil {
		t.Fatal("transfer acceleration still set after its Delete")
	}

	bk, err := c.Bucket(b)
	must(t, err)
	var hdr http.Header
	must(t, bk.PutObject("slow", strings.NewReader(string(payload(20<<10, 1))), oss1.TrafficLimitHeader(minTrafficLimit), oss1.GetResponseHeader(&hdr)))
	if hdr.Get("X-Oss-Qos-Delay-Time") == "" {
		t.Fatalf("a limited upload reports no delay: %v", hdr)
	}
}

// TestRestoreState: RestoreObject's state through both SDKs: HEAD says
// ongoing, a second restore is 409 RestoreAlreadyInProgress and
// CleanRestoredObject 409 ArchiveRestoreNotFinished until the restore's
// time has passed; then HEAD gives the expiry, a restore is 200 and the
// clean succeeds; a new write of the key starts unrestored.
func TestRestoreState(t *testing.T) {
	e := newTestEnv(t)
	c2 := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	c1 := newV1(e, e.srv.URL, rootAK, rootSK).c
	must(t, c1.CreateBucket("arch"))
	bk, err := c1.Bucket("arch")
	must(t, err)
	must(t, bk.PutObject("o", strings.NewReader("cold"), oss1.ObjectStorageClass(oss1.StorageArchive)))
	meta, err := bk.GetObjectDetailedMeta("o")
	must(t, err)
	if meta.Get("X-Oss-Restore") != "" {
		t.Fatal("x-oss-restore before any restore")
	}
	restore := func() (int, error) {
		r, err := c2.RestoreObject(bg, &oss2.RestoreObjectRequest{Bucket: oss2.Ptr("arch"), Key: oss2.Ptr("o")})
		if err != nil {
			return 0, err
		}
		return r.StatusCode, nil
	}
	clean := func() error {
		_, err := c2.CleanRestoredObject(bg, &oss2.CleanRestoredObjectRequest{Bucket: oss2.Ptr("arch"), Key: oss2.Ptr("o")})
		return err
	}
	st, err := restore()
	must(t, err)
	if st != 202 {
		t.Fatalf("first restore %d", st)
	}
	meta, err = bk.GetObjectDetailedMeta("o")
	must(t, err)
	if meta.Get("X-Oss-Restore") != `ongoing-request="true"` {
		t.Fatalf("x-oss-restore %q", meta.Get("X-Oss-Restore"))
	}
	_, err = restore()
	wantErr(t, err, 409, "RestoreAlreadyInProgress")
	wantErr(t, clean(), 409, "ArchiveRestoreNotFinished")

	e.clk.Advance(2 * time.Minute) // Archive restores take a minute
	meta, err = bk.GetObjectDetailedMeta("o")
	must(t, err)
	if !strings.HasPrefix(meta.Get("X-Oss-Restore"), `ongoing-request="false", expiry-date=`) {
		t.Fatalf("x-oss-restore %q", meta.Get("X-Oss-Restore"))
	}
	st, err = restore()
	must(t, err)
	if st != 200 {
		t.Fatalf("restore of a restored object %d", st)
	}
	must(t, clean())
	meta, err = bk.GetObjectDetailedMeta("o")
	must(t, err)
	if meta.Get("X-Oss-Restore") != "" {
		t.Fatal("x-oss-restore after the clean")
	}
	_, err = restore()
	must(t, err)
	must(t, bk.PutObject("o", strings.NewReader("rewritten"), oss1.ObjectStorageClass(oss1.StorageArchive)))
	meta, err = bk.GetObjectDetailedMeta("o")
	must(t, err)
	if meta.Get("X-Oss-Restore") != "" {
		t.Fatal("a new write inherited the old restore")
	}
	e.clk.Advance(-2 * time.Minute)
}

// TestSequentialUpload: an upload the v1 SDK makes with Sequential()
// gets the whole object's MD5 as Content-MD5 on HEAD; one without it
// gets none, as any multipart object.
func TestSequentialUpload(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	must(t, c.CreateBucket("seq"))
	bk, err := c.Bucket("seq")
	must(t, err)
	data := payload(300<<10, 5)
	path := t.TempDir() + "/f"
	must(t, writeFile(path, data))
	sum := md5.Sum(data)
	for _, tc := range []struct {
		key  string
		opts []oss1.Option
		want string
	}{
		{"sequential", []oss1.Option{oss1.Sequential()}, base64.StdEncoding.EncodeToString(sum[:])},
		{"parallel", nil, ""},
	} {
		must(t, bk.UploadFile(tc.key, path, 100<<10, tc.opts...))
		meta, err := bk.GetObjectDetailedMeta(tc.key)
		must(t, err)
		if meta.Get("Content-MD5") != tc.want || meta.Get("X-Oss-Object-Type") != "Multipart" {
			t.Fatalf("%s: Content-MD5 %q (want %q), type %s", tc.key, meta.Get("Content-MD5"), tc.want, meta.Get("X-Oss-Object-Type"))
		}
	}
}
