package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
)

// MultipartCopyInPlace rewrites bucket/key (size bytes) onto itself by a
// multipart upload of UploadPartCopy parts of partSize bytes (the last
// one shorter): initiate with o's encryption, metadata, storage class,
// ACL and tags; every part copy conditional on o.IfMatch; complete. On
// failure the upload is aborted (best effort) and the object is left as
// it was. Between the last part and the completion the object is not
// guarded: a write landing in that window is replaced by the copy
// (neither dialect makes CompleteMultipartUpload conditional on another
// object's ETag).
func (c *Client) MultipartCopyInPlace(ctx context.Context, bucket, key string, size, partSize int64, o RewriteOptions) (ObjectResult, error) {
	if partSize <= 0 || size <= 0 {
		return ObjectResult{}, fmt.Errorf("client: MultipartCopyInPlace %s: size %d and part size %d must be positive", resource(bucket, key), size, partSize)
	}
	if (size+partSize-1)/partSize > 10000 {
		return ObjectResult{}, fmt.Errorf("client: MultipartCopyInPlace %s: %d bytes in parts of %d is more than 10,000 parts: use a larger part size", resource(bucket, key), size, partSize)
	}
	step := func() (context.Context, context.CancelFunc, *capture) { return c.call(ctx, false) }
	var (
		r   ObjectResult
		err error
		cp  *capture
	)
	switch b := c.b.(type) {
	case *ossV1:
		r, cp, err = b.multipartCopyInPlace(step, bucket, key, size, partSize, o)
	case *s3Backend:
		r, cp, err = b.multipartCopyInPlace(step, bucket, key, size, partSize, o)
	default:
		return ObjectResult{}, errNeedsV1("UploadPartCopy")
	}
	if err != nil {
		var se stepError
		if errors.As(err, &se) {
			return ObjectResult{}, c.fail(se.op, bucket, key, cp, se.err)
		}
		return ObjectResult{}, c.fail("UploadPartCopy", bucket, key, cp, err)
	}
	r = finish(r, cp)
	fillFromHeaders(&r, c.cfg.Dialect, false)
	return r, nil
}

// stepError names the step of a multipart copy that failed.
type stepError struct {
	op  string
	err error
}

func (e stepError) Error() string { return e.op + ": " + e.err.Error() }
func (e stepError) Unwrap() error { return e.err }

type stepFunc func() (context.Context, context.CancelFunc, *capture)

func (o *ossV1) multipartCopyInPlace(step stepFunc, bucket, key string, size, partSize int64, ro RewriteOptions) (ObjectResult, *capture, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return ObjectResult{}, nil, err
	}
	ctx, cancel, cp := step()
	opts := append(rewriteOptionsV1(ro), oss1.WithContext(ctx))
	if len(ro.Tags) > 0 {
		var t oss1.Tagging
		for k, v := range ro.Tags {
			t.Tags = append(t.Tags, oss1.Tag{Key: k, Value: v})
		}
		opts = append(opts, oss1.SetTagging(t))
	}
	imur, err := bk.InitiateMultipartUpload(key, opts...)
	cancel()
	if err != nil {
		return ObjectResult{}, cp, stepError{"InitiateMultipartUpload", err}
	}
	abort := func() {
		actx, acancel, _ := step()
		defer acancel()
		_ = bk.AbortMultipartUpload(imur, oss1.WithContext(uncaptured(context.WithoutCancel(actx))))
	}
	var parts []oss1.UploadPart
	for n, off := 1, int64(0); off < size; n, off = n+1, off+partSize {
		ctx, cancel, cp = step()
		popts := []oss1.Option{oss1.WithContext(ctx)}
		if ro.IfMatch != "" {
			popts = append(popts, oss1.CopySourceIfMatch(quoteETag(ro.IfMatch)))
		}
		p, err := bk.UploadPartCopy(imur, bucket, key, off, min(partSize, size-off), n, popts...)
		cancel()
		if err != nil {
			abort()
			return ObjectResult{}, cp, stepError{"UploadPartCopy", err}
		}
		parts = append(parts, p)
	}
	ctx, cancel, cp = step()
	defer cancel()
	var h http.Header
	res, err := bk.CompleteMultipartUpload(imur, parts, oss1.GetResponseHeader(&h), oss1.WithContext(ctx))
	if err != nil {
		abort()
		return ObjectResult{}, cp, stepError{"CompleteMultipartUpload", err}
	}
	return ObjectResult{ETag: res.ETag, Headers: h}, cp, nil
}

func (s *s3Backend) multipartCopyInPlace(step stepFunc, bucket, key string, size, partSize int64, ro RewriteOptions) (ObjectResult, *capture, error) {
	ss, err := s3ServerSide(ro.SSE)
	if err != nil {
		return ObjectResult{}, nil, err
	}
	meta := map[string]string{}
	for k, v := range ro.Headers {
		meta[k] = v
	}
	for k, v := range ro.Metadata {
		meta["x-amz-meta-"+k] = v
	}
	if ro.ACL != "" {
		meta["x-amz-acl"] = ro.ACL
	}
	if ro.ChecksumAlgorithm != "" {
		// The parts' CopyPartResult checksums go back in the completion
		// (minio-go lists them), as S3 asks of a checksummed upload.
		meta["x-amz-checksum-algorithm"] = ro.ChecksumAlgorithm
		if ro.ChecksumType != "" {
			meta["x-amz-checksum-type"] = ro.ChecksumType
		}
	}
	po := minio.PutObjectOptions{ServerSideEncryption: ss, ContentType: ro.ContentType, UserMetadata: meta,
		UserTags: ro.Tags, StorageClass: ro.StorageClass}
	ctx, cancel, cp := step()
	id, err := s.core.NewMultipartUpload(ctx, bucket, key, po)
	cancel()
	if err != nil {
		return ObjectResult{}, cp, stepError{"CreateMultipartUpload", err}
	}
	abort := func() {
		actx, acancel, _ := step()
		defer acancel()
		_ = s.core.AbortMultipartUpload(uncaptured(context.WithoutCancel(actx)), bucket, key, id)
	}
	var parts []minio.CompletePart
	for n, off := 1, int64(0); off < size; n, off = n+1, off+partSize {
		ctx, cancel, cp = step()
		hdr := map[string]string{}
		if ro.IfMatch != "" {
			hdr["x-amz-copy-source-if-match"] = quoteETag(ro.IfMatch)
		}
		p, err := s.core.CopyObjectPart(ctx, bucket, key, bucket, key, id, n, off, min(partSize, size-off), hdr)
		cancel()
		if err != nil {
			abort()
			return ObjectResult{}, cp, stepError{"UploadPartCopy", err}
		}
		parts = append(parts, p)
	}
	ctx, cancel, cp = step()
	defer cancel()
	info, err := s.core.CompleteMultipartUpload(ctx, bucket, key, id, parts, minio.PutObjectOptions{})
	if err != nil {
		abort()
		return ObjectResult{}, cp, stepError{"CompleteMultipartUpload", err}
	}
	return ObjectResult{ETag: info.ETag, VersionID: info.VersionID}, cp, nil
}
