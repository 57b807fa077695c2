package client

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"

	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// ossV1 drives github.com/aliyun/aliyun-oss-go-sdk. The SDK takes the
// context as an option (WithContext) and hands response headers back
// through GetResponseHeader. Its bucket-level calls (oss.Client methods:
// CreateBucket, DeleteBucket, ListBuckets, GetBucketLocation,
// SetBucketEncryption, DeleteBucketEncryption) ignore WithContext: they are
// bounded by the HTTP client's timeout (Config.Timeout) but not cancelled
// by the caller's context.
type ossV1 struct {
	c *oss1.Client
}

func newOSS1(cfg Config, endpoint string, hc *http.Client) (*ossV1, error) {
	opts := []oss1.ClientOption{
		oss1.HTTPClient(hc),
		oss1.ForcePathStyle(cfg.PathStyle),
		oss1.Region(cfg.Region),
	}
	if cfg.OSSSignature == OSSSignatureV4 {
		opts = append(opts, oss1.AuthVersion(oss1.AuthV4))
	} else {
		opts = append(opts, oss1.AuthVersion(oss1.AuthV1))
	}
	c, err := oss1.New(endpoint, cfg.AccessKeyID, cfg.AccessKeySecret, opts...)
	if err != nil {
		return nil, err
	}
	return &ossV1{c: c}, nil
}

func (o *ossV1) bucket(name string) (*oss1.Bucket, error) {
	return o.c.Bucket(name)
}

// sseOptions turns an SSE request into the SDK's header options, sending
// every non-empty field.
func sseOptionsV1(s *SSE) []oss1.Option {
	if s == nil {
		return nil
	}
	var opts []oss1.Option
	if s.Algorithm != "" {
		opts = append(opts, oss1.ServerSideEncryption(s.Algorithm))
	}
	if s.KeyID != "" {
		opts = append(opts, oss1.ServerSideEncryptionKeyID(s.KeyID))
	}
	if s.DataEncryption != "" {
		opts = append(opts, oss1.ServerSideDataEncryption(s.DataEncryption))
	}
	return opts
}

func putOptionsV1(p PutOptions) []oss1.Option {
	opts := sseOptionsV1(p.SSE)
	if p.ContentType != "" {
		opts = append(opts, oss1.ContentType(p.ContentType))
	}
	for k, v := range p.Metadata {
		opts = append(opts, oss1.Meta(k, v))
	}
	return opts
}

func (o *ossV1) createBucket(ctx context.Context, name string, sse *SSE) error {
	return o.c.CreateBucket(name, append(sseOptionsV1(sse), oss1.WithContext(ctx))...)
}

func (o *ossV1) deleteBucket(ctx context.Context, name string) error {
	return o.c.DeleteBucket(name, oss1.WithContext(ctx))
}

func (o *ossV1) listBuckets(ctx context.Context) ([]Bucket, error) {
	var out []Bucket
	marker := ""
	for {
		r, err := o.c.ListBuckets(oss1.Marker(marker), oss1.MaxKeys(pageSize), oss1.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		for _, b := range r.Buckets {
			region := b.Region
			if region == "" {
				region = strings.TrimPrefix(b.Location, "oss-")
			}
			out = append(out, Bucket{Name: b.Name, Region: region, CreationDate: b.CreationDate})
		}
		if !r.IsTruncated || r.NextMarker == "" || r.NextMarker == marker {
			return out, nil
		}
		marker = r.NextMarker
	}
}

func (o *ossV1) bucketRegion(ctx context.Context, name string) (string, error) {
	loc, err := o.c.GetBucketLocation(name, oss1.WithContext(ctx))
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(loc, "oss-"), nil
}

// bucketEncryption sends GetBucketEncryption through the SDK's signed
// Conn.DoWithContext (the same request Client.GetBucketEncryption sends)
// because the SDK's bucket-level calls drop the context, and with it the
// capture that records the rule document for Rule.Raw.
func (o *ossV1) bucketEncryption(ctx context.Context, name string) (Rule, error) {
	if err := oss1.CheckBucketName(name); err != nil {
		return Rule{}, err
	}
	resp, err := o.c.Conn.DoWithContext(ctx, http.MethodGet, name, "", map[string]interface{}{"encryption": nil}, nil, nil, 0, nil)
	if err != nil {
		return Rule{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Rule{}, oss1.CheckRespCode(resp.StatusCode, []int{http.StatusOK})
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Rule{}, err
	}
	var r oss1.GetBucketEncryptionResult
	if err := xml.Unmarshal(data, &r); err != nil {
		return Rule{}, fmt.Errorf("decode ServerSideEncryptionRule: %w", err)
	}
	d := r.SSEDefault
	return Rule{Algorithm: d.SSEAlgorithm, KMSMasterKeyID: d.KMSMasterKeyID, KMSDataEncryption: d.KMSDataEncryption}, nil
}

func (o *ossV1) putBucketEncryption(ctx context.Context, name string, r Rule) error {
	rule := oss1.ServerEncryptionRule{SSEDefault: oss1.SSEDefaultRule{
		SSEAlgorithm: r.Algorithm, KMSMasterKeyID: r.KMSMasterKeyID, KMSDataEncryption: r.KMSDataEncryption,
	}}
	return o.c.SetBucketEncryption(name, rule, oss1.WithContext(ctx))
}

func (o *ossV1) deleteBucketEncryption(ctx context.Context, name string) error {
	return o.c.DeleteBucketEncryption(name, oss1.WithContext(ctx))
}

// sizedReader gives the SDK a reader whose length it can see (it reads
// Len() or seeks; anything else would be sent without a length).
func sizedReader(body io.Reader, size int64) io.Reader {
	if l, ok := body.(interface{ Len() int }); ok && int64(l.Len()) == size {
		return body
	}
	return io.LimitReader(body, size)
}

func (o *ossV1) putObject(ctx context.Context, bucket, key string, body io.Reader, size int64, p PutOptions) (ObjectResult, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return ObjectResult{}, err
	}
	var h http.Header
	opts := append(putOptionsV1(p), oss1.GetResponseHeader(&h), oss1.WithContext(ctx))
	if err := bk.PutObject(key, sizedReader(body, size), opts...); err != nil {
		return ObjectResult{}, err
	}
	r := ObjectResult{Headers: h}
	return r, nil
}

func (o *ossV1) getObject(ctx context.Context, bucket, key string, rng *Range) (io.ReadCloser, ObjectResult, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return nil, ObjectResult{}, err
	}
	var h http.Header
	opts := []oss1.Option{oss1.GetResponseHeader(&h), oss1.WithContext(ctx)}
	if rng != nil {
		opts = append(opts, oss1.NormalizedRange(strings.TrimPrefix(rangeHeader(rng), "bytes=")))
	}
	rc, err := bk.GetObject(key, opts...)
	if err != nil {
		return nil, ObjectResult{}, err
	}
	return rc, ObjectResult{Headers: h}, nil
}

func (o *ossV1) headObject(ctx context.Context, bucket, key string) (ObjectResult, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return ObjectResult{}, err
	}
	h, err := bk.GetObjectDetailedMeta(key, oss1.WithContext(ctx))
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{Headers: h}, nil
}

func (o *ossV1) copyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, p PutOptions, replace bool) (ObjectResult, error) {
	bk, err := o.bucket(dstBucket)
	if err != nil {
		return ObjectResult{}, err
	}
	var h http.Header
	opts := append(putOptionsV1(p), oss1.GetResponseHeader(&h), oss1.WithContext(ctx))
	if replace {
		opts = append(opts, oss1.MetadataDirective(oss1.MetaReplace))
	}
	res, err := bk.CopyObjectFrom(srcBucket, srcKey, dstKey, opts...)
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: res.ETag, LastModified: res.LastModified, Headers: h}, nil
}

func (o *ossV1) deleteObject(ctx context.Context, bucket, key string) error {
	bk, err := o.bucket(bucket)
	if err != nil {
		return err
	}
	return bk.DeleteObject(key, oss1.WithContext(ctx))
}

// listObjects sends what Bucket.ListObjectsV2 sends (the same options,
// through the SDK's signed Conn.DoWithContext) and decodes the pages with
// decodeListV2, which gives what the SDK's decoding gives at a fraction
// of its CPU (see listv2.go). A page's buffer, entries and scanner are
// reused by the next page.
func (o *ossV1) listObjects(ctx context.Context, bucket, prefix, after string, fn func(ObjectSummary) error) error {
	if err := oss1.CheckBucketName(bucket); err != nil {
		return err
	}
	token := ""
	var buf bytes.Buffer
	var page listV2Page
	for {
		opts := []oss1.Option{oss1.Prefix(prefix), oss1.MaxKeys(pageSize), oss1.WithContext(ctx)}
		if token != "" {
			opts = append(opts, oss1.ContinuationToken(token))
		} else if after != "" {
			opts = append(opts, oss1.StartAfter(after))
		}
		opts = append(opts, oss1.EncodingType("url"), oss1.ListType(2))
		params, err := oss1.GetRawParams(opts)
		if err != nil {
			return err
		}
		resp, err := o.c.Conn.DoWithContext(ctx, http.MethodGet, bucket, "", params, map[string]string{}, nil, 0, nil)
		if err != nil {
			return err
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if err := decodeListV2(buf.Bytes(), &page); err != nil {
			return err
		}
		for _, ob := range page.objects {
			if err := fn(ob); err != nil {
				return err
			}
		}
		if !page.truncated || page.next == "" || page.next == token {
			return nil
		}
		token = page.next
	}
}

func imurV1(bucket, key, id string) oss1.InitiateMultipartUploadResult {
	return oss1.InitiateMultipartUploadResult{Bucket: bucket, Key: key, UploadID: id}
}

func (o *ossV1) initiateMultipart(ctx context.Context, bucket, key string, p PutOptions) (string, ObjectResult, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return "", ObjectResult{}, err
	}
	var h http.Header
	r, err := bk.InitiateMultipartUpload(key, append(putOptionsV1(p), oss1.GetResponseHeader(&h), oss1.WithContext(ctx))...)
	if err != nil {
		return "", ObjectResult{}, err
	}
	return r.UploadID, ObjectResult{Headers: h}, nil
}

func (o *ossV1) uploadPart(ctx context.Context, bucket, key, uploadID string, n int, data []byte, sse *SSE) (ObjectResult, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return ObjectResult{}, err
	}
	var h http.Header
	opts := append(sseOptionsV1(sse), oss1.GetResponseHeader(&h), oss1.WithContext(ctx))
	p, err := bk.UploadPart(imurV1(bucket, key, uploadID), bytes.NewReader(data), int64(len(data)), n, opts...)
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: p.ETag, Headers: h}, nil
}

func (o *ossV1) completeMultipart(ctx context.Context, bucket, key, uploadID string, parts []completedPart, sse *SSE) (ObjectResult, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return ObjectResult{}, err
	}
	ps := make([]oss1.UploadPart, len(parts))
	for i, p := range parts {
		ps[i] = oss1.UploadPart{PartNumber: p.Number, ETag: p.ETag}
	}
	var h http.Header
	opts := append(sseOptionsV1(sse), oss1.GetResponseHeader(&h), oss1.WithContext(ctx))
	r, err := bk.CompleteMultipartUpload(imurV1(bucket, key, uploadID), ps, opts...)
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: r.ETag, Headers: h}, nil
}

func (o *ossV1) abortMultipart(ctx context.Context, bucket, key, uploadID string) error {
	bk, err := o.bucket(bucket)
	if err != nil {
		return err
	}
	return bk.AbortMultipartUpload(imurV1(bucket, key, uploadID), oss1.WithContext(ctx))
}
