package client

import (
	"context"
	"net/http"
	"strings"

	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
)

// SystemHeaders are the stored content headers besides Content-Type that
// an in-place rewrite must carry over (they are replaced with the
// metadata).
var SystemHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// RewriteOptions describe a copy of an object onto itself that changes
// its encryption and must keep everything else.
type RewriteOptions struct {
	// SSE is the encryption to write with.
	SSE *SSE
	// IfMatch is the ETag (unquoted) the source must still have: sent as
	// x-oss-copy-source-if-match / x-amz-copy-source-if-match, so an object
	// changed since it was read is answered 412 PreconditionFailed and not
	// overwritten. Empty sends no condition.
	IfMatch string
	// ContentType, Headers (SystemHeaders, as read) and Metadata (user
	// metadata, keys without prefix) are written with the REPLACE
	// metadata directive: exactly these, nothing else, end up on the copy.
	ContentType string
	Headers     map[string]string
	Metadata    map[string]string
	// StorageClass is sent when not empty (S3 writes STANDARD without it).
	StorageClass string
	// ACL is the canned ACL to give the copy (neither dialect copies the
	// source's); "" and OSS's "default" send none.
	ACL string
	// Tags are set on a MultipartCopyInPlace's upload; CopyInPlace keeps
	// the source's tags with the COPY tagging directive and ignores them.
	Tags map[string]string
	// ChecksumAlgorithm (S3 only; OSS keeps its CRC-64 by itself) is sent
	// as x-amz-checksum-algorithm, so the copy carries a checksum in the
	// source's algorithm computed over the copied content; "" sends none.
	// ChecksumType is a multipart copy's x-amz-checksum-type (FULL_OBJECT,
	// for the CRCs only, or COMPOSITE; "" the service's default).
	ChecksumAlgorithm, ChecksumType string
}

// CopyInPlace copies bucket/key onto itself in one request (CopyObject)
// with o's encryption, metadata (REPLACE), storage class and ACL, the
// tags kept (tagging directive COPY), conditional on o.IfMatch. Neither
// dialect takes more than 5 GiB (S3) or 1 GiB (OSS) this way: larger
// objects need MultipartCopyInPlace.
func (c *Client) CopyInPlace(ctx context.Context, bucket, key string, o RewriteOptions) (ObjectResult, error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	var (
		r   ObjectResult
		err error
	)
	switch b := c.b.(type) {
	case *ossV1:
		r, err = b.copyInPlace(ctx, bucket, key, o)
	case *s3Backend:
		r, err = b.copyInPlace(ctx, bucket, key, o)
	default:
		return ObjectResult{}, errNeedsV1("CopyObject (in place)")
	}
	if err != nil {
		return ObjectResult{}, c.fail("CopyObject", bucket, key, cp, err)
	}
	r = finish(r, cp)
	fillFromHeaders(&r, c.cfg.Dialect, false)
	return r, nil
}

func quoteETag(etag string) string { return `"` + strings.Trim(etag, `"`) + `"` }

// rewriteOptionsV1 are the OSS headers of o that every write of the
// rewrite sends (copy and multipart initiation alike).
func rewriteOptionsV1(o RewriteOptions) []oss1.Option {
	opts := sseOptionsV1(o.SSE)
	if o.ContentType != "" {
		opts = append(opts, oss1.ContentType(o.ContentType))
	}
	for k, v := range o.Headers {
		opts = append(opts, oss1.SetHeader(k, v))
	}
	for k, v := range o.Metadata {
		opts = append(opts, oss1.Meta(k, v))
	}
	if o.StorageClass != "" {
		opts = append(opts, oss1.ObjectStorageClass(oss1.StorageClassType(o.StorageClass)))
	}
	if o.ACL != "" && o.ACL != "default" {
		opts = append(opts, oss1.ObjectACL(oss1.ACLType(o.ACL)))
	}
	return opts
}

func (o *ossV1) copyInPlace(ctx context.Context, bucket, key string, ro RewriteOptions) (ObjectResult, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return ObjectResult{}, err
	}
	var h http.Header
	opts := append(rewriteOptionsV1(ro), oss1.MetadataDirective(oss1.MetaReplace), oss1.TaggingDirective(oss1.TaggingCopy),
		oss1.GetResponseHeader(&h), oss1.WithContext(ctx))
	if ro.IfMatch != "" {
		opts = append(opts, oss1.CopySourceIfMatch(quoteETag(ro.IfMatch)))
	}
	res, err := bk.CopyObject(key, key, opts...)
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: res.ETag, LastModified: res.LastModified, Headers: h}, nil
}

// rewriteHeadersS3 are the S3 headers of o for a copy (minio-go's Core
// sends them as given).
func rewriteHeadersS3(o RewriteOptions) (map[string]string, error) {
	h := map[string]string{}
	if o.SSE != nil && !o.SSE.IsZero() {
		if o.SSE.DataEncryption != "" {
			return nil, errNoS3DataEncryption
		}
		hh := http.Header{}
		s3SSE{alg: s3Algorithm(o.SSE.Algorithm), keyID: o.SSE.KeyID}.Marshal(hh)
		for k := range hh {
			h[k] = hh.Get(k)
		}
	}
	if o.ContentType != "" {
		h["Content-Type"] = o.ContentType
	}
	for k, v := range o.Headers {
		h[k] = v
	}
	for k, v := range o.Metadata {
		h["x-amz-meta-"+k] = v
	}
	if o.StorageClass != "" {
		h["x-amz-storage-class"] = o.StorageClass
	}
	if o.ACL != "" {
		h["x-amz-acl"] = o.ACL
	}
	if o.ChecksumAlgorithm != "" {
		h["x-amz-checksum-algorithm"] = o.ChecksumAlgorithm
	}
	return h, nil
}

func (s *s3Backend) copyInPlace(ctx context.Context, bucket, key string, o RewriteOptions) (ObjectResult, error) {
	h, err := rewriteHeadersS3(o)
	if err != nil {
		return ObjectResult{}, err
	}
	h["x-amz-metadata-directive"] = "REPLACE"
	h["x-amz-tagging-directive"] = "COPY"
	if o.IfMatch != "" {
		h["x-amz-copy-source-if-match"] = quoteETag(o.IfMatch)
	}
	info, err := s.core.CopyObject(ctx, bucket, key, bucket, key, h, minio.CopySrcOptions{}, minio.PutObjectOptions{})
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: info.ETag, LastModified: info.LastModified}, nil
}
