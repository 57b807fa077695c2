package osshttp

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// The scenario tests drive both official SDKs through one small interface
// so each scenario runs against every flavor (SDK × signature × addressing).
// Every method is a thin call of the SDK's own public API.

type encRule struct{ alg, keyID, dataEnc string }

type bucketInfo struct {
	name, location, extranet, intranet, sseAlg, kmsKey string
	versioning, storageClass                           string
	resourceGroup                                      string // v2 only: the v1 struct has no such field
	blockPublic                                        *bool  // v2 only
	created                                            time.Time
}

type bucketEntry struct {
	name, location, region, extranet, intranet string
	created                                    time.Time
}

type listOpts struct {
	prefix, delim, marker, token, startAfter string
	max                                      int
}

type listPage struct {
	keys, prefixes, etags []string
	classes               []string // each key's StorageClass
	truncated             bool
	next                  string // NextMarker / NextContinuationToken
}

type partRef struct {
	n    int
	etag string
}

type partInfo struct {
	n    int
	etag string
	size int64
}

type sdkClient interface {
	Name() string
	CreateBucket(b string, hdr map[string]string) error
	DeleteBucket(b string) error
	PutBucketEncryption(b string, r encRule) error
	GetBucketEncryption(b string) (encRule, error)
	DeleteBucketEncryption(b string) error
	GetBucketInfo(b string) (bucketInfo, error)
	GetBucketLocation(b string) (string, error)
	ListBuckets(prefix string) ([]bucketEntry, error)
	PutObject(b, k string, data []byte, hdr map[string]string) (http.Header, error)
	GetObject(b, k string, hdr map[string]string) ([]byte, http.Header, error)
	HeadObject(b, k string) (http.Header, error)
	GetObjectMeta(b, k string) (http.Header, error)
	DeleteObject(b, k string) error
	DeleteObjects(b string, keys []string, quiet bool) ([]string, error)
	CopyObject(b, src, dst string, hdr map[string]string) (etag string, lastModified time.Time, h http.Header, err error)
	ListObjects(b string, o listOpts) (listPage, error)
	ListObjectsV2(b string, o listOpts) (listPage, error)
	InitiateMultipart(b, k string, hdr map[string]string) (string, http.Header, error)
	UploadPart(b, k, id string, n int, data []byte, hdr map[string]string) (string, http.Header, error)
	CompleteMultipart(b, k, id string, parts []partRef, hdr map[string]string) (string, http.Header, error)
	AbortMultipart(b, k, id string) error
	ListParts(b, k, id string) ([]partInfo, error)
	ListMultipartUploads(b, prefix string) ([]string, error)
}

// flavor makes a client of one SDK configuration for a test environment.
type flavor struct {
	name string
	mk   func(e *testEnv, ak, sk string) sdkClient
}

var flavors = []flavor{
	{"v1-OSS-ip-path", func(e *testEnv, ak, sk string) sdkClient {
		return newV1(e, "http://"+e.addr, ak, sk)
	}},
	{"v1-OSS-vhost", func(e *testEnv, ak, sk string) sdkClient {
		return newV1(e, "http://localhost:"+e.port, ak, sk, oss1.HTTPClient(e.loopbackClient()))
	}},
	{"v1-OSS4-localhost-path", func(e *testEnv, ak, sk string) sdkClient {
		return newV1(e, "http://localhost:"+e.port, ak, sk, oss1.ForcePathStyle(true), oss1.HTTPClient(e.loopbackClient()),
			oss1.AuthVersion(oss1.AuthV4), oss1.Region(testRegion))
	}},
	{"v1-OSS4-vhost", func(e *testEnv, ak, sk string) sdkClient {
		return newV1(e, "http://localhost:"+e.port, ak, sk, oss1.HTTPClient(e.loopbackClient()),
			oss1.AuthVersion(oss1.AuthV4), oss1.Region(testRegion))
	}},
	{"v2-OSS4-ip-path", func(e *testEnv, ak, sk string) sdkClient {
		return newV2(e, e.srv.URL, ak, sk, nil)
	}},
	{"v2-OSS4-vhost", func(e *testEnv, ak, sk string) sdkClient {
		return newV2(e, "http://localhost:"+e.port, ak, sk, func(c *oss2.Config) { c.WithHttpClient(e.loopbackClient()) })
	}},
	{"v2-OSS-localhost-path", func(e *testEnv, ak, sk string) sdkClient {
		return newV2(e, "http://localhost:"+e.port, ak, sk, func(c *oss2.Config) {
			c.WithHttpClient(e.loopbackClient()).WithUsePathStyle(true).WithSignatureVersion(oss2.SignatureVersionV1)
		})
	}},
}

// ---- aliyun-oss-go-sdk v3.0.2 ----

type v1Client struct {
	c *oss1.Client
}

func newV1(e *testEnv, endpoint, ak, sk string, opts ...oss1.ClientOption) *v1Client {
	e.t.Helper()
	c, err := oss1.New(endpoint, ak, sk, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	return &v1Client{c: c}
}

func (c *v1Client) Name() string { return "v1" }

func (c *v1Client) bucket(b string) *oss1.Bucket {
	bk, err := c.c.Bucket(b)
	if err != nil {
		panic(err)
	}
	return bk
}

func v1Opts(hdr map[string]string) []oss1.Option {
	var opts []oss1.Option
	for k, v := range hdr {
		low := strings.ToLower(k)
		switch low {
		case "x-oss-server-side-encryption":
			opts = append(opts, oss1.ServerSideEncryption(v))
		case "x-oss-server-side-encryption-key-id":
			opts = append(opts, oss1.ServerSideEncryptionKeyID(v))
		case "x-oss-server-side-data-encryption":
			opts = append(opts, oss1.ServerSideDataEncryption(v))
		case "content-type":
			opts = append(opts, oss1.ContentType(v))
		case "x-oss-metadata-directive":
			opts = append(opts, oss1.MetadataDirective(oss1.MetadataDirectiveType(v)))
		case "x-oss-range-behavior":
			opts = append(opts, oss1.RangeBehavior(v))
		case "range":
			opts = append(opts, oss1.NormalizedRange(strings.TrimPrefix(v, "bytes=")))
		default:
			if m, ok := strings.CutPrefix(low, "x-oss-meta-"); ok {
				opts = append(opts, oss1.Meta(m, v))
			} else {
				opts = append(opts, oss1.SetHeader(k, v))
			}
		}
	}
	return opts
}

func (c *v1Client) CreateBucket(b string, hdr map[string]string) error {
	return c.c.CreateBucket(b, v1Opts(hdr)...)
}

func (c *v1Client) DeleteBucket(b string) error { return c.c.DeleteBucket(b) }

func (c *v1Client) PutBucketEncryption(b string, r encRule) error {
	return c.c.SetBucketEncryption(b, oss1.ServerEncryptionRule{SSEDefault: oss1.SSEDefaultRule{
		SSEAlgorithm: r.alg, KMSMasterKeyID: r.keyID, KMSDataEncryption: r.dataEnc}})
}

func (c *v1Client) GetBucketEncryption(b string) (encRule, error) {
	r, err := c.c.GetBucketEncryption(b)
	return encRule{r.SSEDefault.SSEAlgorithm, r.SSEDefault.KMSMasterKeyID, r.SSEDefault.KMSDataEncryption}, err
}

func (c *v1Client) DeleteBucketEncryption(b string) error { return c.c.DeleteBucketEncryption(b) }

func (c *v1Client) GetBucketInfo(b string) (bucketInfo, error) {
	r, err := c.c.GetBucketInfo(b)
	i := r.BucketInfo
	return bucketInfo{name: i.Name, location: i.Location, extranet: i.ExtranetEndpoint, intranet: i.IntranetEndpoint,
		sseAlg: i.SseRule.SSEAlgorithm, kmsKey: i.SseRule.KMSMasterKeyID, created: i.CreationDate,
		versioning: i.Versioning, storageClass: i.StorageClass}, err
}

func (c *v1Client) GetBucketLocation(b string) (string, error) { return c.c.GetBucketLocation(b) }

func (c *v1Client) ListBuckets(prefix string) ([]bucketEntry, error) {
	r, err := c.c.ListBuckets(oss1.Prefix(prefix))
	var out []bucketEntry
	for _, b := range r.Buckets {
		// The v1 struct has no endpoint fields.
		out = append(out, bucketEntry{name: b.Name, location: b.Location, region: b.Region, created: b.CreationDate})
	}
	return out, err
}

func (c *v1Client) PutObject(b, k string, data []byte, hdr map[string]string) (http.Header, error) {
	var h http.Header
	err := c.bucket(b).PutObject(k, bytes.NewReader(data), append(v1Opts(hdr), oss1.GetResponseHeader(&h))...)
	return h, err
}

func (c *v1Client) GetObject(b, k string, hdr map[string]string) ([]byte, http.Header, error) {
	var h http.Header
	rc, err := c.bucket(b).GetObject(k, append(v1Opts(hdr), oss1.GetResponseHeader(&h))...)
	if err != nil {
		return nil, h, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return data, h, err
}

func (c *v1Client) HeadObject(b, k string) (http.Header, error) {
	return c.bucket(b).GetObjectDetailedMeta(k)
}

func (c *v1Client) GetObjectMeta(b, k string) (http.Header, error) {
	return c.bucket(b).GetObjectMeta(k)
}

func (c *v1Client) DeleteObject(b, k string) error { return c.bucket(b).DeleteObject(k) }

func (c *v1Client) DeleteObjects(b string, keys []string, quiet bool) ([]string, error) {
	r, err := c.bucket(b).DeleteObjects(keys, oss1.DeleteObjectsQuiet(quiet))
	return r.DeletedObjects, err
}

func (c *v1Client) CopyObject(b, src, dst string, hdr map[string]string) (string, time.Time, http.Header, error) {
	var h http.Header
	r, err := c.bucket(b).CopyObject(src, dst, append(v1Opts(hdr), oss1.GetResponseHeader(&h))...)
	return r.ETag, r.LastModified, h, err
}

func (c *v1Client) ListObjects(b string, o listOpts) (listPage, error) {
	opts := []oss1.Option{oss1.Prefix(o.prefix), oss1.Delimiter(o.delim), oss1.Marker(o.marker)}
	if o.max > 0 {
		opts = append(opts, oss1.MaxKeys(o.max))
	}
	r, err := c.bucket(b).ListObjects(opts...)
	p := listPage{prefixes: r.CommonPrefixes, truncated: r.IsTruncated, next: r.NextMarker}
	for _, ob := range r.Objects {
		p.keys = append(p.keys, ob.Key)
		p.etags = append(p.etags, ob.ETag)
		p.classes = append(p.classes, ob.StorageClass)
	}
	return p, err
}

func (c *v1Client) ListObjectsV2(b string, o listOpts) (listPage, error) {
	opts := []oss1.Option{oss1.Prefix(o.prefix), oss1.Delimiter(o.delim)}
	if o.token != "" {
		opts = append(opts, oss1.ContinuationToken(o.token))
	}
	if o.startAfter != "" {
		opts = append(opts, oss1.StartAfter(o.startAfter))
	}
	if o.max > 0 {
		opts = append(opts, oss1.MaxKeys(o.max))
	}
	r, err := c.bucket(b).ListObjectsV2(opts...)
	p := listPage{prefixes: r.CommonPrefixes, truncated: r.IsTruncated, next: r.NextContinuationToken}
	for _, ob := range r.Objects {
		p.keys = append(p.keys, ob.Key)
		p.etags = append(p.etags, ob.ETag)
		p.classes = append(p.classes, ob.StorageClass)
	}
	return p, err
}

func (c *v1Client) imur(b, k, id string) oss1.InitiateMultipartUploadResult {
	return oss1.InitiateMultipartUploadResult{Bucket: b, Key: k, UploadID: id}
}

func (c *v1Client) InitiateMultipart(b, k string, hdr map[string]string) (string, http.Header, error) {
	var h http.Header
	r, err := c.bucket(b).InitiateMultipartUpload(k, append(v1Opts(hdr), oss1.GetResponseHeader(&h))...)
	if err == nil && r.Key != k {
		panic("InitiateMultipartUpload returned key " + r.Key)
	}
	return r.UploadID, h, err
}

func (c *v1Client) UploadPart(b, k, id string, n int, data []byte, hdr map[string]string) (string, http.Header, error) {
	var h http.Header
	p, err := c.bucket(b).UploadPart(c.imur(b, k, id), bytes.NewReader(data), int64(len(data)), n,
		append(v1Opts(hdr), oss1.GetResponseHeader(&h))...)
	return p.ETag, h, err
}

func (c *v1Client) CompleteMultipart(b, k, id string, parts []partRef, hdr map[string]string) (string, http.Header, error) {
	var h http.Header
	var ps []oss1.UploadPart
	for _, p := range parts {
		ps = append(ps, oss1.UploadPart{PartNumber: p.n, ETag: p.etag})
	}
	r, err := c.bucket(b).CompleteMultipartUpload(c.imur(b, k, id), ps, append(v1Opts(hdr), oss1.GetResponseHeader(&h))...)
	return r.ETag, h, err
}

func (c *v1Client) AbortMultipart(b, k, id string) error {
	return c.bucket(b).AbortMultipartUpload(c.imur(b, k, id))
}

func (c *v1Client) ListParts(b, k, id string) ([]partInfo, error) {
	r, err := c.bucket(b).ListUploadedParts(c.imur(b, k, id))
	var out []partInfo
	for _, p := range r.UploadedParts {
		out = append(out, partInfo{n: p.PartNumber, etag: p.ETag, size: int64(p.Size)})
	}
	return out, err
}

func (c *v1Client) ListMultipartUploads(b, prefix string) ([]string, error) {
	r, err := c.bucket(b).ListMultipartUploads(oss1.Prefix(prefix))
	var out []string
	for _, u := range r.Uploads {
		out = append(out, u.Key+"|"+u.UploadID)
	}
	return out, err
}

// ---- alibabacloud-oss-go-sdk-v2 v1.6.1 ----

type v2Client struct {
	c *oss2.Client
}

func newV2(e *testEnv, endpoint, ak, sk string, tweak func(*oss2.Config)) *v2Client {
	cfg := oss2.LoadDefaultConfig().
		WithEndpoint(endpoint).
		WithRegion(testRegion).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, sk)).
		WithRetryMaxAttempts(2)
	if tweak != nil {
		tweak(cfg)
	}
	return &v2Client{c: oss2.NewClient(cfg)}
}

func (c *v2Client) Name() string { return "v2" }

// v2Fields splits headers into the typed request fields an application
// would use and the rest (sent through RequestCommon.Headers).
type v2Fields struct {
	sse, keyID, dataEnc, ctype, directive, rng, rangeBehavior *string
	meta                                                      map[string]string
	common                                                    oss2.RequestCommon
}

func splitV2(hdr map[string]string) v2Fields {
	var f v2Fields
	for k, v := range hdr {
		low := strings.ToLower(k)
		switch low {
		case "x-oss-server-side-encryption":
			f.sse = oss2.Ptr(v)
		case "x-oss-server-side-encryption-key-id":
			f.keyID = oss2.Ptr(v)
		case "x-oss-server-side-data-encryption":
			f.dataEnc = oss2.Ptr(v)
		case "content-type":
			f.ctype = oss2.Ptr(v)
		case "x-oss-metadata-directive":
			f.directive = oss2.Ptr(v)
		case "range":
			f.rng = oss2.Ptr(v)
		case "x-oss-range-behavior":
			f.rangeBehavior = oss2.Ptr(v)
		default:
			if m, ok := strings.CutPrefix(low, "x-oss-meta-"); ok {
				if f.meta == nil {
					f.meta = map[string]string{}
				}
				f.meta[m] = v
				continue
			}
			if f.common.Headers == nil {
				f.common.Headers = map[string]string{}
			}
			f.common.Headers[k] = v
		}
	}
	return f
}

func (c *v2Client) CreateBucket(b string, hdr map[string]string) error {
	_, err := c.c.PutBucket(bg, &oss2.PutBucketRequest{
		Bucket:                    oss2.Ptr(b),
		CreateBucketConfiguration: &oss2.CreateBucketConfiguration{StorageClass: oss2.StorageClassStandard},
		RequestCommon:             oss2.RequestCommon{Headers: hdr},
	})
	return err
}

func (c *v2Client) DeleteBucket(b string) error {
	_, err := c.c.DeleteBucket(bg, &oss2.DeleteBucketRequest{Bucket: oss2.Ptr(b)})
	return err
}

func strPtrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return oss2.Ptr(s)
}

func (c *v2Client) PutBucketEncryption(b string, r encRule) error {
	_, err := c.c.PutBucketEncryption(bg, &oss2.PutBucketEncryptionRequest{
		Bucket: oss2.Ptr(b),
		ServerSideEncryptionRule: &oss2.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &oss2.ApplyServerSideEncryptionByDefault{
			SSEAlgorithm: oss2.Ptr(r.alg), KMSMasterKeyID: strPtrOrNil(r.keyID), KMSDataEncryption: strPtrOrNil(r.dataEnc)}},
	})
	return err
}

func (c *v2Client) GetBucketEncryption(b string) (encRule, error) {
	r, err := c.c.GetBucketEncryption(bg, &oss2.GetBucketEncryptionRequest{Bucket: oss2.Ptr(b)})
	if err != nil {
		return encRule{}, err
	}
	d := r.ServerSideEncryptionRule.ApplyServerSideEncryptionByDefault
	return encRule{oss2.ToString(d.SSEAlgorithm), oss2.ToString(d.KMSMasterKeyID), oss2.ToString(d.KMSDataEncryption)}, nil
}

func (c *v2Client) DeleteBucketEncryption(b string) error {
	_, err := c.c.DeleteBucketEncryption(bg, &oss2.DeleteBucketEncryptionRequest{Bucket: oss2.Ptr(b)})
	return err
}

func (c *v2Client) GetBucketInfo(b string) (bucketInfo, error) {
	r, err := c.c.GetBucketInfo(bg, &oss2.GetBucketInfoRequest{Bucket: oss2.Ptr(b)})
	if err != nil {
		return bucketInfo{}, err
	}
	i := r.BucketInfo
	out := bucketInfo{name: oss2.ToString(i.Name), location: oss2.ToString(i.Location), extranet: oss2.ToString(i.ExtranetEndpoint),
		intranet: oss2.ToString(i.IntranetEndpoint), sseAlg: oss2.ToString(i.SseRule.SSEAlgorithm), kmsKey: oss2.ToString(i.SseRule.KMSMasterKeyID),
		versioning: oss2.ToString(i.Versioning), storageClass: oss2.ToString(i.StorageClass), resourceGroup: oss2.ToString(i.ResourceGroupId),
		blockPublic: i.BlockPublicAccess}
	if i.CreationDate != nil {
		out.created = *i.CreationDate
	}
	return out, nil
}

func (c *v2Client) GetBucketLocation(b string) (string, error) {
	r, err := c.c.GetBucketLocation(bg, &oss2.GetBucketLocationRequest{Bucket: oss2.Ptr(b)})
	if err != nil {
		return "", err
	}
	return oss2.ToString(r.LocationConstraint), nil
}

func (c *v2Client) ListBuckets(prefix string) ([]bucketEntry, error) {
	r, err := c.c.ListBuckets(bg, &oss2.ListBucketsRequest{Prefix: oss2.Ptr(prefix)})
	if err != nil {
		return nil, err
	}
	var out []bucketEntry
	for _, b := range r.Buckets {
		e := bucketEntry{name: oss2.ToString(b.Name), location: oss2.ToString(b.Location), region: oss2.ToString(b.Region),
			extranet: oss2.ToString(b.ExtranetEndpoint), intranet: oss2.ToString(b.IntranetEndpoint)}
		if b.CreationDate != nil {
			e.created = *b.CreationDate
		}
		out = append(out, e)
	}
	return out, nil
}

func (c *v2Client) PutObject(b, k string, data []byte, hdr map[string]string) (http.Header, error) {
	f := splitV2(hdr)
	r, err := c.c.PutObject(bg, &oss2.PutObjectRequest{
		Bucket: oss2.Ptr(b), Key: oss2.Ptr(k), Body: bytes.NewReader(data),
		ServerSideEncryption: f.sse, ServerSideEncryptionKeyId: f.keyID, ServerSideDataEncryption: f.dataEnc,
		ContentType: f.ctype, Metadata: f.meta, RequestCommon: f.common,
	})
	if err != nil {
		return nil, err
	}
	return r.Headers, nil
}

func (c *v2Client) GetObject(b, k string, hdr map[string]string) ([]byte, http.Header, error) {
	f := splitV2(hdr)
	r, err := c.c.GetObject(bg, &oss2.GetObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k), Range: f.rng,
		RangeBehavior: f.rangeBehavior, RequestCommon: f.common})
	if err != nil {
		return nil, nil, err
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	return data, r.Headers, err
}

func (c *v2Client) HeadObject(b, k string) (http.Header, error) {
	r, err := c.c.HeadObject(bg, &oss2.HeadObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k)})
	if err != nil {
		return nil, err
	}
	return r.Headers, nil
}

func (c *v2Client) GetObjectMeta(b, k string) (http.Header, error) {
	r, err := c.c.GetObjectMeta(bg, &oss2.GetObjectMetaRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k)})
	if err != nil {
		return nil, err
	}
	return r.Headers, nil
}

func (c *v2Client) DeleteObject(b, k string) error {
	_, err := c.c.DeleteObject(bg, &oss2.DeleteObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k)})
	return err
}

func (c *v2Client) DeleteObjects(b string, keys []string, quiet bool) ([]string, error) {
	var objs []oss2.DeleteObject
	for _, k := range keys {
		objs = append(objs, oss2.DeleteObject{Key: oss2.Ptr(k)})
	}
	r, err := c.c.DeleteMultipleObjects(bg, &oss2.DeleteMultipleObjectsRequest{Bucket: oss2.Ptr(b), Objects: objs, Quiet: quiet})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range r.DeletedObjects {
		out = append(out, oss2.ToString(d.Key))
	}
	return out, nil
}

func (c *v2Client) CopyObject(b, src, dst string, hdr map[string]string) (string, time.Time, http.Header, error) {
	f := splitV2(hdr)
	r, err := c.c.CopyObject(bg, &oss2.CopyObjectRequest{
		Bucket: oss2.Ptr(b), Key: oss2.Ptr(dst), SourceKey: oss2.Ptr(src),
		ServerSideEncryption: f.sse, ServerSideEncryptionKeyId: f.keyID, ServerSideDataEncryption: f.dataEnc,
		ContentType: f.ctype, Metadata: f.meta, MetadataDirective: f.directive, RequestCommon: f.common,
	})
	if err != nil {
		return "", time.Time{}, nil, err
	}
	var lm time.Time
	if r.LastModified != nil {
		lm = *r.LastModified
	}
	return oss2.ToString(r.ETag), lm, r.Headers, nil
}

func (c *v2Client) ListObjects(b string, o listOpts) (listPage, error) {
	req := &oss2.ListObjectsRequest{Bucket: oss2.Ptr(b), Prefix: strPtrOrNil(o.prefix), Delimiter: strPtrOrNil(o.delim),
		Marker: strPtrOrNil(o.marker), MaxKeys: int32(o.max)}
	r, err := c.c.ListObjects(bg, req)
	if err != nil {
		return listPage{}, err
	}
	p := listPage{truncated: r.IsTruncated, next: oss2.ToString(r.NextMarker)}
	for _, ob := range r.Contents {
		p.keys = append(p.keys, oss2.ToString(ob.Key))
		p.etags = append(p.etags, oss2.ToString(ob.ETag))
		p.classes = append(p.classes, oss2.ToString(ob.StorageClass))
	}
	for _, cp := range r.CommonPrefixes {
		p.prefixes = append(p.prefixes, oss2.ToString(cp.Prefix))
	}
	return p, nil
}

func (c *v2Client) ListObjectsV2(b string, o listOpts) (listPage, error) {
	req := &oss2.ListObjectsV2Request{Bucket: oss2.Ptr(b), Prefix: strPtrOrNil(o.prefix), Delimiter: strPtrOrNil(o.delim),
		ContinuationToken: strPtrOrNil(o.token), StartAfter: strPtrOrNil(o.startAfter), MaxKeys: int32(o.max)}
	r, err := c.c.ListObjectsV2(bg, req)
	if err != nil {
		return listPage{}, err
	}
	p := listPage{truncated: r.IsTruncated, next: oss2.ToString(r.NextContinuationToken)}
	for _, ob := range r.Contents {
		p.keys = append(p.keys, oss2.ToString(ob.Key))
		p.etags = append(p.etags, oss2.ToString(ob.ETag))
		p.classes = append(p.classes, oss2.ToString(ob.StorageClass))
	}
	for _, cp := range r.CommonPrefixes {
		p.prefixes = append(p.prefixes, oss2.ToString(cp.Prefix))
	}
	if r.KeyCount != len(p.keys)+len(p.prefixes) {
		panic("KeyCount disagrees with the listing")
	}
	return p, nil
}

func (c *v2Client) InitiateMultipart(b, k string, hdr map[string]string) (string, http.Header, error) {
	f := splitV2(hdr)
	r, err := c.c.InitiateMultipartUpload(bg, &oss2.InitiateMultipartUploadRequest{
		Bucket: oss2.Ptr(b), Key: oss2.Ptr(k),
		ServerSideEncryption: f.sse, ServerSideEncryptionKeyId: f.keyID, ServerSideDataEncryption: f.dataEnc,
		ContentType: f.ctype, Metadata: f.meta, RequestCommon: f.common,
	})
	if err != nil {
		return "", nil, err
	}
	if oss2.ToString(r.Key) != k {
		panic("InitiateMultipartUpload returned key " + oss2.ToString(r.Key))
	}
	return oss2.ToString(r.UploadId), r.Headers, nil
}

func (c *v2Client) UploadPart(b, k, id string, n int, data []byte, hdr map[string]string) (string, http.Header, error) {
	r, err := c.c.UploadPart(bg, &oss2.UploadPartRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k), UploadId: oss2.Ptr(id),
		PartNumber: int32(n), Body: bytes.NewReader(data), RequestCommon: oss2.RequestCommon{Headers: hdr}})
	if err != nil {
		return "", nil, err
	}
	return oss2.ToString(r.ETag), r.Headers, nil
}

func (c *v2Client) CompleteMultipart(b, k, id string, parts []partRef, hdr map[string]string) (string, http.Header, error) {
	var ps []oss2.UploadPart
	for _, p := range parts {
		ps = append(ps, oss2.UploadPart{PartNumber: int32(p.n), ETag: oss2.Ptr(p.etag)})
	}
	r, err := c.c.CompleteMultipartUpload(bg, &oss2.CompleteMultipartUploadRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k),
		UploadId: oss2.Ptr(id), CompleteMultipartUpload: &oss2.CompleteMultipartUpload{Parts: ps},
		RequestCommon: oss2.RequestCommon{Headers: hdr}})
	if err != nil {
		return "", nil, err
	}
	if oss2.ToString(r.Key) != k {
		panic("CompleteMultipartUpload returned key " + oss2.ToString(r.Key))
	}
	return oss2.ToString(r.ETag), r.Headers, nil
}

func (c *v2Client) AbortMultipart(b, k, id string) error {
	_, err := c.c.AbortMultipartUpload(bg, &oss2.AbortMultipartUploadRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k), UploadId: oss2.Ptr(id)})
	return err
}

func (c *v2Client) ListParts(b, k, id string) ([]partInfo, error) {
	r, err := c.c.ListParts(bg, &oss2.ListPartsRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(k), UploadId: oss2.Ptr(id)})
	if err != nil {
		return nil, err
	}
	var out []partInfo
	for _, p := range r.Parts {
		out = append(out, partInfo{n: int(p.PartNumber), etag: oss2.ToString(p.ETag), size: p.Size})
	}
	return out, nil
}

func (c *v2Client) ListMultipartUploads(b, prefix string) ([]string, error) {
	r, err := c.c.ListMultipartUploads(bg, &oss2.ListMultipartUploadsRequest{Bucket: oss2.Ptr(b), Prefix: strPtrOrNil(prefix)})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range r.Uploads {
		out = append(out, oss2.ToString(u.Key)+"|"+oss2.ToString(u.UploadId))
	}
	return out, nil
}
