package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// ossV2 drives github.com/aliyun/alibabacloud-oss-go-sdk-v2. Every result
// carries the response headers (ResultCommon.Headers).
type ossV2 struct {
	c *oss2.Client
}

func newOSS2(cfg Config, endpoint string, hc *http.Client) (*ossV2, error) {
	sig := oss2.SignatureVersionV4
	if cfg.OSSSignature == OSSSignatureV1 {
		sig = oss2.SignatureVersionV1
	}
	c := oss2.LoadDefaultConfig().
		WithEndpoint(endpoint).
		WithRegion(cfg.Region).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.AccessKeySecret)).
		WithHttpClient(hc).
		WithUsePathStyle(cfg.PathStyle).
		WithSignatureVersion(sig).
		WithRetryMaxAttempts(cfg.MaxAttempts)
	return &ossV2{c: oss2.NewClient(c)}, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return oss2.Ptr(s)
}

// sseHeadersOSS renders an SSE request as OSS headers (every non-empty
// field).
func sseHeadersOSS(s *SSE) map[string]string {
	if s == nil {
		return nil
	}
	h := map[string]string{}
	if s.Algorithm != "" {
		h["x-oss-server-side-encryption"] = s.Algorithm
	}
	if s.KeyID != "" {
		h["x-oss-server-side-encryption-key-id"] = s.KeyID
	}
	if s.DataEncryption != "" {
		h["x-oss-server-side-data-encryption"] = s.DataEncryption
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

// sseFieldsV2 returns the typed request fields for an SSE request.
func sseFieldsV2(s *SSE) (alg, keyID, dataEnc *string) {
	if s == nil {
		return nil, nil, nil
	}
	return nonEmpty(s.Algorithm), nonEmpty(s.KeyID), nonEmpty(s.DataEncryption)
}

func (o *ossV2) createBucket(ctx context.Context, name string, sse *SSE) error {
	_, err := o.c.PutBucket(ctx, &oss2.PutBucketRequest{
		Bucket:        oss2.Ptr(name),
		RequestCommon: oss2.RequestCommon{Headers: sseHeadersOSS(sse)},
	})
	return err
}

func (o *ossV2) deleteBucket(ctx context.Context, name string) error {
	_, err := o.c.DeleteBucket(ctx, &oss2.DeleteBucketRequest{Bucket: oss2.Ptr(name)})
	return err
}

func (o *ossV2) listBuckets(ctx context.Context) ([]Bucket, error) {
	var out []Bucket
	p := o.c.NewListBucketsPaginator(&oss2.ListBucketsRequest{MaxKeys: int32(pageSize)})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, b := range page.Buckets {
			e := Bucket{Name: oss2.ToString(b.Name), Region: oss2.ToString(b.Region)}
			if e.Region == "" {
				e.Region = strings.TrimPrefix(oss2.ToString(b.Location), "oss-")
			}
			if b.CreationDate != nil {
				e.CreationDate = *b.CreationDate
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func (o *ossV2) bucketRegion(ctx context.Context, name string) (string, error) {
	r, err := o.c.GetBucketLocation(ctx, &oss2.GetBucketLocationRequest{Bucket: oss2.Ptr(name)})
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(strings.TrimSpace(oss2.ToString(r.LocationConstraint)), "oss-"), nil
}

func (o *ossV2) bucketEncryption(ctx context.Context, name string) (Rule, error) {
	r, err := o.c.GetBucketEncryption(ctx, &oss2.GetBucketEncryptionRequest{Bucket: oss2.Ptr(name)})
	if err != nil {
		return Rule{}, err
	}
	if r.ServerSideEncryptionRule == nil || r.ServerSideEncryptionRule.ApplyServerSideEncryptionByDefault == nil {
		return Rule{}, nil
	}
	d := r.ServerSideEncryptionRule.ApplyServerSideEncryptionByDefault
	return Rule{Algorithm: oss2.ToString(d.SSEAlgorithm), KMSMasterKeyID: oss2.ToString(d.KMSMasterKeyID),
		KMSDataEncryption: oss2.ToString(d.KMSDataEncryption)}, nil
}

func (o *ossV2) putBucketEncryption(ctx context.Context, name string, r Rule) error {
	_, err := o.c.PutBucketEncryption(ctx, &oss2.PutBucketEncryptionRequest{
		Bucket: oss2.Ptr(name),
		ServerSideEncryptionRule: &oss2.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &oss2.ApplyServerSideEncryptionByDefault{
			SSEAlgorithm: oss2.Ptr(r.Algorithm), KMSMasterKeyID: nonEmpty(r.KMSMasterKeyID), KMSDataEncryption: nonEmpty(r.KMSDataEncryption),
		}},
	})
	return err
}

func (o *ossV2) deleteBucketEncryption(ctx context.Context, name string) error {
	_, err := o.c.DeleteBucketEncryption(ctx, &oss2.DeleteBucketEncryptionRequest{Bucket: oss2.Ptr(name)})
	return err
}

func (o *ossV2) putObject(ctx context.Context, bucket, key string, body io.Reader, size int64, p PutOptions) (ObjectResult, error) {
	alg, keyID, dataEnc := sseFieldsV2(p.SSE)
	r, err := o.c.PutObject(ctx, &oss2.PutObjectRequest{
		Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key), Body: body, ContentLength: oss2.Ptr(size),
		ServerSideEncryption: alg, ServerSideEncryptionKeyId: keyID, ServerSideDataEncryption: dataEnc,
		ContentType: nonEmpty(p.ContentType), Metadata: p.Metadata,
	})
	if err != nil {
		return ObjectResult{}, err
	}
	out := ObjectResult{ETag: oss2.ToString(r.ETag), VersionID: oss2.ToString(r.VersionId), Headers: r.Headers}
	return out, nil
}

func (o *ossV2) getObject(ctx context.Context, bucket, key string, rng *Range) (io.ReadCloser, ObjectResult, error) {
	req := &oss2.GetObjectRequest{Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key)}
	if rng != nil {
		req.Range = oss2.Ptr(rangeHeader(rng))
	}
	r, err := o.c.GetObject(ctx, req)
	if err != nil {
		return nil, ObjectResult{}, err
	}
	return r.Body, ObjectResult{Headers: r.Headers}, nil
}

func (o *ossV2) headObject(ctx context.Context, bucket, key string) (ObjectResult, error) {
	r, err := o.c.HeadObject(ctx, &oss2.HeadObjectRequest{Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key)})
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{Headers: r.Headers}, nil
}

func (o *ossV2) copyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, p PutOptions, replace bool) (ObjectResult, error) {
	alg, keyID, dataEnc := sseFieldsV2(p.SSE)
	req := &oss2.CopyObjectRequest{
		Bucket: oss2.Ptr(dstBucket), Key: oss2.Ptr(dstKey), SourceBucket: oss2.Ptr(srcBucket), SourceKey: oss2.Ptr(srcKey),
		ServerSideEncryption: alg, ServerSideEncryptionKeyId: keyID, ServerSideDataEncryption: dataEnc,
		ContentType: nonEmpty(p.ContentType), Metadata: p.Metadata,
	}
	if replace {
		req.MetadataDirective = oss2.Ptr("REPLACE")
	}
	r, err := o.c.CopyObject(ctx, req)
	if err != nil {
		return ObjectResult{}, err
	}
	out := ObjectResult{ETag: oss2.ToString(r.ETag), VersionID: oss2.ToString(r.VersionId), Headers: r.Headers}
	if r.LastModified != nil {
		out.LastModified = *r.LastModified
	}
	return out, nil
}

func (o *ossV2) deleteObject(ctx context.Context, bucket, key string) error {
	_, err := o.c.DeleteObject(ctx, &oss2.DeleteObjectRequest{Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key)})
	return err
}

func (o *ossV2) listObjects(ctx context.Context, bucket, prefix, after string, fn func(ObjectSummary) error) error {
	p := o.c.NewListObjectsV2Paginator(&oss2.ListObjectsV2Request{Bucket: oss2.Ptr(bucket), Prefix: nonEmpty(prefix), StartAfter: nonEmpty(after), MaxKeys: int32(pageSize)})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, ob := range page.Contents {
			s := ObjectSummary{Key: oss2.ToString(ob.Key), Size: ob.Size, ETag: oss2.ToString(ob.ETag), StorageClass: oss2.ToString(ob.StorageClass)}
			if ob.LastModified != nil {
				s.LastModified = *ob.LastModified
			}
			if err := fn(s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *ossV2) initiateMultipart(ctx context.Context, bucket, key string, p PutOptions) (string, ObjectResult, error) {
	alg, keyID, dataEnc := sseFieldsV2(p.SSE)
	r, err := o.c.InitiateMultipartUpload(ctx, &oss2.InitiateMultipartUploadRequest{
		Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key),
		ServerSideEncryption: alg, ServerSideEncryptionKeyId: keyID, ServerSideDataEncryption: dataEnc,
		ContentType: nonEmpty(p.ContentType), Metadata: p.Metadata,
	})
	if err != nil {
		return "", ObjectResult{}, err
	}
	return oss2.ToString(r.UploadId), ObjectResult{Headers: r.Headers}, nil
}

func (o *ossV2) uploadPart(ctx context.Context, bucket, key, uploadID string, n int, data []byte, sse *SSE) (ObjectResult, error) {
	r, err := o.c.UploadPart(ctx, &oss2.UploadPartRequest{
		Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key), UploadId: oss2.Ptr(uploadID), PartNumber: int32(n),
		Body: bytes.NewReader(data), ContentLength: oss2.Ptr(int64(len(data))),
		RequestCommon: oss2.RequestCommon{Headers: sseHeadersOSS(sse)},
	})
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: oss2.ToString(r.ETag), Headers: r.Headers}, nil
}

func (o *ossV2) completeMultipart(ctx context.Context, bucket, key, uploadID string, parts []completedPart, sse *SSE) (ObjectResult, error) {
	ps := make([]oss2.UploadPart, len(parts))
	for i, p := range parts {
		ps[i] = oss2.UploadPart{PartNumber: int32(p.Number), ETag: oss2.Ptr(p.ETag)}
	}
	r, err := o.c.CompleteMultipartUpload(ctx, &oss2.CompleteMultipartUploadRequest{
		Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key), UploadId: oss2.Ptr(uploadID),
		CompleteMultipartUpload: &oss2.CompleteMultipartUpload{Parts: ps},
		RequestCommon:           oss2.RequestCommon{Headers: sseHeadersOSS(sse)},
	})
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: oss2.ToString(r.ETag), VersionID: oss2.ToString(r.VersionId), Headers: r.Headers}, nil
}

func (o *ossV2) abortMultipart(ctx context.Context, bucket, key, uploadID string) error {
	_, err := o.c.AbortMultipartUpload(ctx, &oss2.AbortMultipartUploadRequest{Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key), UploadId: oss2.Ptr(uploadID)})
	return err
}
