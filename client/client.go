package client

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dialect is the protocol an endpoint is spoken to in.
type Dialect string

// The dialects.
const (
	OSS Dialect = "oss"
	S3  Dialect = "s3"
)

// OSS SDK and signature choices (Config.OSSSDK, Config.OSSSignature).
const (
	OSSSDKV1       = "v1" // github.com/aliyun/aliyun-oss-go-sdk (default)
	OSSSDKV2       = "v2" // github.com/aliyun/alibabacloud-oss-go-sdk-v2
	OSSSignatureV1 = "v1" // HMAC-SHA1 (default with the v1 SDK)
	OSSSignatureV4 = "v4" // OSS4-HMAC-SHA256 (default with the v2 SDK)
)

// SSE algorithms, in this package's (the OSS) vocabulary.
const (
	AlgorithmAES256 = "AES256"
	AlgorithmKMS    = "KMS"
)

// pageSize is the number of entries asked for per listing page (the
// maximum both dialects allow); tests lower it to exercise paging.
var pageSize = 1000

// DefaultTimeout bounds each call when Config.Timeout is 0.
const DefaultTimeout = 2 * time.Minute

// Config selects and configures the endpoint a Client talks to.
type Config struct {
	Dialect Dialect
	// Endpoint is http(s)://host[:port], or a bare host[:port] for HTTPS.
	// It carries no bucket, path, query or user info.
	Endpoint string
	// Region is the endpoint's region, e.g. cn-hangzhou or us-east-1. It
	// is used for signing (OSS V4, S3) and as MakeBucket's location.
	Region                       string
	AccessKeyID, AccessKeySecret string
	// PathStyle addresses buckets as http://host/bucket/key instead of
	// http://bucket.host/key. It is always on for loopback and IP-address
	// endpoints, which cannot be addressed virtual-hosted.
	PathStyle bool
	// OSSSDK selects the OSS SDK: "v1" (default) or "v2". Only for OSS.
	OSSSDK string
	// OSSSignature selects the OSS signature: "v1" (default with the v1
	// SDK) or "v4" (default with the v2 SDK). Only for OSS.
	OSSSignature string
	// Timeout bounds each call (for GetObjectStream, until the stream is
	// closed). 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxAttempts is how many times the v2 OSS SDK and minio-go may send a
	// request (the first try included) when they deem an answer
	// retryable. 0 means 1: no retries, so every answer is seen. The v1 OSS
	// SDK never retries.
	MaxAttempts int
}

// String describes cfg without its secret (also for %v and %+v).
func (c Config) String() string {
	secret := ""
	if c.AccessKeySecret != "" {
		secret = "<redacted>"
	}
	return fmt.Sprintf("{Dialect:%s Endpoint:%s Region:%s AccessKeyID:%s AccessKeySecret:%s PathStyle:%v OSSSDK:%s OSSSignature:%s Timeout:%v MaxAttempts:%d}",
		c.Dialect, c.Endpoint, c.Region, c.AccessKeyID, secret, c.PathStyle, c.OSSSDK, c.OSSSignature, c.Timeout, c.MaxAttempts)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return "client.Config" + c.String() }

// Bucket is one entry of ListBuckets.
type Bucket struct {
	Name string
	// Region as the listing reports it ("" when it does not; OSS
	// locations such as oss-cn-hangzhou are reported as cn-hangzhou).
	Region       string
	CreationDate time.Time
}

// SSE is a server-side encryption request (what to send), or what a
// response says (ObjectResult.SSE).
//
// On requests every non-empty field is sent, whatever its value, so the
// suite can test refusals. Algorithm is "AES256", "KMS" or anything else;
// on S3 "KMS" is sent as "aws:kms" and other values as given. KeyID is the
// CMK (OSS x-oss-server-side-encryption-key-id, S3
// x-amz-server-side-encryption-aws-kms-key-id). DataEncryption is OSS's
// x-oss-server-side-data-encryption (e.g. "SM4"); S3 has no such header and
// a non-empty value is refused locally.
//
// In responses Algorithm is normalised: "AES256", "KMS" (S3 "aws:kms"
// included), "" when the response names none, and any other value as
// returned. KeyID and DataEncryption are as returned.
type SSE struct {
	Algorithm      string
	KeyID          string
	DataEncryption string
}

// IsZero reports whether s names nothing.
func (s SSE) IsZero() bool { return s == SSE{} }

// Rule is a bucket's default encryption rule.
type Rule struct {
	// Algorithm is "AES256", "KMS" (S3 "aws:kms" included) or what the
	// endpoint returned; PutBucketEncryption sends it like SSE.Algorithm.
	Algorithm         string
	KMSMasterKeyID    string
	KMSDataEncryption string // OSS only
	// Raw is the XML document the endpoint returned (BucketEncryption
	// only), recorded at the HTTP layer as audit evidence.
	Raw string
	// BlockedEncryptionTypes is S3's list of encryption types the bucket
	// refuses on writes ("SSE-C", or "NONE" for none blocked), read from
	// Raw by BucketEncryption; nil when the document has no such element
	// (every OSS answer, and S3 stores that predate it).
	BlockedEncryptionTypes []string
}

// SSECBlocked reports whether the rule blocks SSE-C writes, and whether
// the endpoint said so at all.
func (r Rule) SSECBlocked() (blocked, known bool) {
	if r.BlockedEncryptionTypes == nil {
		return false, false
	}
	return slices.Contains(r.BlockedEncryptionTypes, "SSE-C"), true
}

// blockedEncryptionTypes reads BlockedEncryptionTypes from an S3
// GetBucketEncryption document (minio-go's configuration type has no such
// element); nil when absent or unparsable.
func blockedEncryptionTypes(raw string) []string {
	var doc struct {
		Rules []struct {
			Blocked *struct {
				Types []string `xml:"EncryptionType"`
			} `xml:"BlockedEncryptionTypes"`
		} `xml:"Rule"`
	}
	if xml.Unmarshal([]byte(raw), &doc) != nil {
		return nil
	}
	var out []string
	for _, r := range doc.Rules {
		if r.Blocked == nil {
			continue
		}
		if out == nil {
			out = []string{}
		}
		for _, t := range r.Blocked.Types {
			out = append(out, strings.TrimSpace(t))
		}
	}
	return out
}

// PutOptions apply to PutObject, CopyObject and multipart initiation.
type PutOptions struct {
	SSE         *SSE
	ContentType string
	// Metadata is user metadata, keys without the x-oss-meta- /
	// x-amz-meta- prefix.
	Metadata map[string]string
}

// MultipartOptions are MultipartUpload's extra knobs for negative tests.
type MultipartOptions struct {
	// PartSSE is sent on every UploadPart (OSS refuses it).
	PartSSE *SSE
	// CompleteSSE is sent on CompleteMultipartUpload (OSS refuses it).
	CompleteSSE *SSE
}

// Range selects Length bytes from Offset; Length <= 0 means to the end.
type Range struct {
	Offset, Length int64
}

// ObjectResult is what one object response said.
type ObjectResult struct {
	// ETag without quotes, as returned.
	ETag         string
	LastModified time.Time
	// Size is the object's size where the response tells it (HEAD, GET:
	// Content-Length, or the total of Content-Range for a ranged GET), the
	// bytes sent for PutObject and UploadPart, and 0 otherwise.
	Size         int64
	SSE          SSE
	VersionID    string
	StorageClass string
	ContentType  string // HEAD and GET only
	// Metadata is the user metadata in the response, keys lower-cased
	// without prefix (HEAD and GET only).
	Metadata map[string]string
	// Headers are the raw response headers.
	Headers http.Header
}

// MultipartResult is every step of a multipart upload.
type MultipartResult struct {
	UploadID string
	Initiate ObjectResult
	Parts    []ObjectResult
	Complete ObjectResult
}

// ObjectSummary is one entry of ListObjects.
type ObjectSummary struct {
	Key          string
	Size         int64
	ETag         string // without quotes
	LastModified time.Time
	StorageClass string
}

// completedPart is a part for CompleteMultipartUpload.
type completedPart struct {
	Number int
	ETag   string
}

// backend is one SDK. Its methods return the SDK's own errors; Client
// converts them. Headers in results may be left nil: Client fills them from
// the capture.
type backend interface {
	createBucket(ctx context.Context, name string, sse *SSE) error
	deleteBucket(ctx context.Context, name string) error
	listBuckets(ctx context.Context) ([]Bucket, error)
	bucketRegion(ctx context.Context, name string) (string, error)
	bucketEncryption(ctx context.Context, name string) (Rule, error)
	putBucketEncryption(ctx context.Context, name string, r Rule) error
	deleteBucketEncryption(ctx context.Context, name string) error
	putObject(ctx context.Context, bucket, key string, body io.Reader, size int64, opts PutOptions) (ObjectResult, error)
	getObject(ctx context.Context, bucket, key string, rng *Range) (io.ReadCloser, ObjectResult, error)
	headObject(ctx context.Context, bucket, key string) (ObjectResult, error)
	copyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts PutOptions, replace bool) (ObjectResult, error)
	deleteObject(ctx context.Context, bucket, key string) error
	listObjects(ctx context.Context, bucket, prefix, after string, fn func(ObjectSummary) error) error
	initiateMultipart(ctx context.Context, bucket, key string, opts PutOptions) (string, ObjectResult, error)
	uploadPart(ctx context.Context, bucket, key, uploadID string, n int, data []byte, sse *SSE) (ObjectResult, error)
	completeMultipart(ctx context.Context, bucket, key, uploadID string, parts []completedPart, sse *SSE) (ObjectResult, error)
	abortMultipart(ctx context.Context, bucket, key, uploadID string) error
	bucketVersioning(ctx context.Context, bucket string) (string, error)
	putBucketVersioning(ctx context.Context, bucket, status string) error
	listObjectVersions(ctx context.Context, bucket, prefix, afterKey string, fn func(VersionSummary) error) error
	headObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectResult, error)
	deleteObjectVersion(ctx context.Context, bucket, key, versionID string) error
}

// Client talks to one endpoint in one dialect through one SDK. It is safe
// for concurrent use.
type Client struct {
	cfg      Config
	endpoint string // scheme://host[:port]
	variant  string
	b        backend
}

// New validates cfg and builds the SDK client it selects. No request is
// sent.
func New(cfg Config) (*Client, error) {
	scheme, host, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Region) == "" {
		return nil, errors.New("client: Config.Region is empty: set the endpoint's region, e.g. cn-hangzhou (OSS) or us-east-1 (S3)")
	}
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, errors.New("client: Config.AccessKeyID and Config.AccessKeySecret are required: set both to the account's access key")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("client: Config.Timeout %v is negative: use 0 for the default (%v) or a positive duration", cfg.Timeout, DefaultTimeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxAttempts < 0 {
		return nil, fmt.Errorf("client: Config.MaxAttempts %d is negative: use 0 or 1 for no retries, or a larger number", cfg.MaxAttempts)
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 1
	}
	if isLoopback(host) || isIP(host) {
		cfg.PathStyle = true
	}
	c := &Client{cfg: cfg, endpoint: scheme + "://" + host}
	httpClient := newHTTPClient(host, cfg.Timeout)
	switch cfg.Dialect {
	case OSS:
		if cfg.OSSSDK == "" {
			cfg.OSSSDK = OSSSDKV1
		}
		switch cfg.OSSSDK {
		case OSSSDKV1:
			if cfg.OSSSignature == "" {
				cfg.OSSSignature = OSSSignatureV1
			}
		case OSSSDKV2:
			if cfg.OSSSignature == "" {
				cfg.OSSSignature = OSSSignatureV4
			}
		default:
			return nil, fmt.Errorf("client: Config.OSSSDK %q is not an OSS SDK: use %q (aliyun-oss-go-sdk, the default) or %q (alibabacloud-oss-go-sdk-v2)", cfg.OSSSDK, OSSSDKV1, OSSSDKV2)
		}
		if cfg.OSSSignature != OSSSignatureV1 && cfg.OSSSignature != OSSSignatureV4 {
			return nil, fmt.Errorf("client: Config.OSSSignature %q is not an OSS signature version: use %q or %q", cfg.OSSSignature, OSSSignatureV1, OSSSignatureV4)
		}
		c.cfg = cfg
		c.variant = "oss/" + cfg.OSSSDK + "-sdk/" + cfg.OSSSignature + "-sig"
		if cfg.OSSSDK == OSSSDKV1 {
			c.b, err = newOSS1(c.cfg, c.endpoint, httpClient)
		} else {
			c.b, err = newOSS2(c.cfg, c.endpoint, httpClient)
		}
	case S3:
		if cfg.OSSSDK != "" || cfg.OSSSignature != "" {
			return nil, errors.New("client: Config.OSSSDK and Config.OSSSignature apply to Dialect \"oss\" only: leave them empty for \"s3\"")
		}
		c.cfg = cfg
		c.variant = "s3/minio"
		c.b, err = newS3(c.cfg, scheme, host, httpClient)
	case "":
		return nil, errors.New("client: Config.Dialect is empty: set it to \"oss\" or \"s3\"")
	default:
		return nil, fmt.Errorf("client: Config.Dialect %q is not supported: use \"oss\" or \"s3\"", cfg.Dialect)
	}
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return c, nil
}

func parseEndpoint(endpoint string) (scheme, host string, err error) {
	raw := strings.TrimSpace(endpoint)
	if raw == "" {
		return "", "", errors.New("client: Config.Endpoint is empty: set it to the endpoint URL, e.g. http://127.0.0.1:9000 or https://oss-cn-hangzhou.aliyuncs.com")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("client: Config.Endpoint %q is not a URL (%v): use scheme://host[:port]", endpoint, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("client: Config.Endpoint %q: the scheme must be http or https", endpoint)
	case u.Host == "" || u.Hostname() == "":
		return "", "", fmt.Errorf("client: Config.Endpoint %q has no host: use scheme://host[:port]", endpoint)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return "", "", fmt.Errorf("client: Config.Endpoint %q must be scheme://host[:port] only: drop the path, query, fragment or user info", endpoint)
	}
	return u.Scheme, u.Host, nil
}

// String names the client's variant and endpoint (never its credentials).
func (c *Client) String() string { return c.variant + " " + c.endpoint }

// GoString is String, for %#v.
func (c *Client) GoString() string { return "client.Client{" + c.String() + "}" }

// Dialect is the dialect the client speaks.
func (c *Client) Dialect() Dialect { return c.cfg.Dialect }

// Endpoint is the endpoint URL, scheme://host[:port].
func (c *Client) Endpoint() string { return c.endpoint }

// Region is the configured region.
func (c *Client) Region() string { return c.cfg.Region }

// Variant names the dialect, SDK and signature in use, e.g.
// "oss/v1-sdk/v4-sig" or "s3/minio" (for reports and test names).
func (c *Client) Variant() string { return c.variant }

// call prepares one call: the timeout and the response capture.
func (c *Client) call(ctx context.Context, wantBody bool) (context.Context, context.CancelFunc, *capture) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	ctx, cp := withCapture(ctx, wantBody)
	return ctx, cancel, cp
}

// fnError marks an error returned by a caller's callback, which is passed
// back untouched.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// fail converts err from the SDK: a service answer becomes *Error, anything
// else is wrapped with the operation's name. A callback's error is returned
// as is.
func (c *Client) fail(op, bucket, key string, cp *capture, err error) error {
	var fe fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	if e, ok := c.toError(op, key, cp, err); ok {
		return e
	}
	return fmt.Errorf("client: %s %s: %w", op, resource(bucket, key), err)
}

func resource(bucket, key string) string {
	if key == "" {
		return bucket
	}
	return bucket + "/" + key
}

// finish fills r.Headers from the capture when the backend left them nil.
func finish(r ObjectResult, cp *capture) ObjectResult {
	if r.Headers == nil {
		r.Headers = cp.Header()
	}
	return r
}

// CreateBucket creates a bucket, with a default encryption rule when sse
// is not nil. OSS sends the rule as x-oss-server-side-encryption* headers
// on PutBucket. S3 has no create-time SSE: the bucket is created, then
// PutBucketEncryption sets the rule (sse.Algorithm as the rule's algorithm,
// sse.KeyID as its KMSMasterKeyID); if that is refused the bucket is
// deleted again and the refusal returned.
func (c *Client) CreateBucket(ctx context.Context, name string, sse *SSE) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.b.createBucket(ctx, name, sse); err != nil {
		return c.fail("CreateBucket", name, "", cp, err)
	}
	return nil
}

// DeleteBucket deletes an empty bucket.
func (c *Client) DeleteBucket(ctx context.Context, name string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.b.deleteBucket(ctx, name); err != nil {
		return c.fail("DeleteBucket", name, "", cp, err)
	}
	return nil
}

// ListBuckets lists every bucket of the account (all pages).
func (c *Client) ListBuckets(ctx context.Context) ([]Bucket, error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	bs, err := c.b.listBuckets(ctx)
	if err != nil {
		return nil, c.fail("ListBuckets", "", "", cp, err)
	}
	return bs, nil
}

// BucketRegion is the region a bucket is in: OSS GetBucketLocation
// (oss-cn-hangzhou reported as cn-hangzhou); S3 the x-amz-bucket-region of
// HeadBucket, or GetBucketLocation when the endpoint sends no such header.
func (c *Client) BucketRegion(ctx context.Context, name string) (string, error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	r, err := c.b.bucketRegion(ctx, name)
	if err != nil {
		return "", c.fail("BucketRegion", name, "", cp, err)
	}
	return r, nil
}

// BucketEncryption returns the bucket's default encryption rule, or nil
// and no error when the endpoint says none is set (OSS
// NoSuchServerSideEncryptionRule, S3
// ServerSideEncryptionConfigurationNotFoundError; the other dialect's code
// is not accepted).
func (c *Client) BucketEncryption(ctx context.Context, name string) (*Rule, error) {
	ctx, cancel, cp := c.call(ctx, true)
	defer cancel()
	r, err := c.b.bucketEncryption(ctx, name)
	if err != nil {
		err = c.fail("BucketEncryption", name, "", cp, err)
		if e, ok := AsError(err); ok && e.Code == noRuleCode(c.cfg.Dialect) {
			return nil, nil
		}
		return nil, err
	}
	if cp.Status() == http.StatusOK {
		r.Raw = string(cp.Body())
		if c.cfg.Dialect == S3 {
			r.BlockedEncryptionTypes = blockedEncryptionTypes(r.Raw)
		}
	}
	return &r, nil
}

func noRuleCode(d Dialect) string {
	if d == S3 {
		return "ServerSideEncryptionConfigurationNotFoundError"
	}
	return "NoSuchServerSideEncryptionRule"
}

// PutBucketEncryption sets the bucket's default encryption rule (r.Raw is
// ignored). On S3 a KMSDataEncryption is refused locally.
func (c *Client) PutBucketEncryption(ctx context.Context, name string, r Rule) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.b.putBucketEncryption(ctx, name, r); err != nil {
		return c.fail("PutBucketEncryption", name, "", cp, err)
	}
	return nil
}

// DeleteBucketEncryption removes the bucket's default encryption rule.
func (c *Client) DeleteBucketEncryption(ctx context.Context, name string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.b.deleteBucketEncryption(ctx, name); err != nil {
		return c.fail("DeleteBucketEncryption", name, "", cp, err)
	}
	return nil
}

// PutObject uploads body (size bytes; a negative size reads body to the
// end first) in one request.
func (c *Client) PutObject(ctx context.Context, bucket, key string, body io.Reader, size int64, opts PutOptions) (ObjectResult, error) {
	if body == nil {
		body = bytes.NewReader(nil)
		size = 0
	}
	if size < 0 {
		data, err := io.ReadAll(body)
		if err != nil {
			return ObjectResult{}, fmt.Errorf("client: PutObject %s: read body: %w", resource(bucket, key), err)
		}
		body, size = bytes.NewReader(data), int64(len(data))
	}
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	r, err := c.b.putObject(ctx, bucket, key, body, size, opts)
	if err != nil {
		return ObjectResult{}, c.fail("PutObject", bucket, key, cp, err)
	}
	r = finish(r, cp)
	fillFromHeaders(&r, c.cfg.Dialect, false)
	r.Size = size
	return r, nil
}

// GetObject downloads a (small) object, or the part of it rng selects.
func (c *Client) GetObject(ctx context.Context, bucket, key string, rng *Range) ([]byte, ObjectResult, error) {
	rc, r, err := c.GetObjectStream(ctx, bucket, key, rng)
	if err != nil {
		return nil, r, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, r, fmt.Errorf("client: GetObject %s: read body: %w", resource(bucket, key), err)
	}
	return data, r, nil
}

// GetObjectStream starts a download; the caller must close the stream.
// Config.Timeout runs until then.
func (c *Client) GetObjectStream(ctx context.Context, bucket, key string, rng *Range) (io.ReadCloser, ObjectResult, error) {
	if rng != nil && rng.Offset < 0 {
		return nil, ObjectResult{}, fmt.Errorf("client: GetObject %s: Range.Offset %d is negative", resource(bucket, key), rng.Offset)
	}
	ctx, cancel, cp := c.call(ctx, false)
	rc, r, err := c.b.getObject(ctx, bucket, key, rng)
	if err != nil {
		cancel()
		return nil, ObjectResult{}, c.fail("GetObject", bucket, key, cp, err)
	}
	r = finish(r, cp)
	fillFromHeaders(&r, c.cfg.Dialect, true)
	return &cancelOnClose{ReadCloser: rc, cancel: cancel}, r, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (r *cancelOnClose) Close() error {
	err := r.ReadCloser.Close()
	r.cancel()
	return err
}

// HeadObject reads an object's metadata.
func (c *Client) HeadObject(ctx context.Context, bucket, key string) (ObjectResult, error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	r, err := c.b.headObject(ctx, bucket, key)
	if err != nil {
		return ObjectResult{}, c.fail("HeadObject", bucket, key, cp, err)
	}
	r = finish(r, cp)
	fillFromHeaders(&r, c.cfg.Dialect, true)
	return r, nil
}

// CopyObject copies srcBucket/srcKey to dstBucket/dstKey on the server.
// opts.SSE is the destination's encryption. The metadata directive is
// REPLACE when the copy is in place or opts gives ContentType or Metadata
// (the destination then has exactly opts' metadata), COPY otherwise.
func (c *Client) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts PutOptions) (ObjectResult, error) {
	replace := (srcBucket == dstBucket && srcKey == dstKey) || opts.ContentType != "" || len(opts.Metadata) > 0
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	r, err := c.b.copyObject(ctx, srcBucket, srcKey, dstBucket, dstKey, opts, replace)
	if err != nil {
		return ObjectResult{}, c.fail("CopyObject", dstBucket, dstKey, cp, err)
	}
	r = finish(r, cp)
	fillFromHeaders(&r, c.cfg.Dialect, false)
	return r, nil
}

// DeleteObject deletes an object.
func (c *Client) DeleteObject(ctx context.Context, bucket, key string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.b.deleteObject(ctx, bucket, key); err != nil {
		return c.fail("DeleteObject", bucket, key, cp, err)
	}
	return nil
}

// ListObjects calls fn for every object under prefix, page after page,
// in the endpoint's order. An error from fn stops the listing and is
// returned as is.
func (c *Client) ListObjects(ctx context.Context, bucket, prefix string, fn func(ObjectSummary) error) error {
	return c.ListObjectsAfter(ctx, bucket, prefix, "", fn)
}

// ListObjectsAfter is ListObjects starting after the key after (the
// listing's start-after; "" from the beginning), so that a listing cut
// short resumes where it stopped without listing again what it passed.
func (c *Client) ListObjectsAfter(ctx context.Context, bucket, prefix, after string, fn func(ObjectSummary) error) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	wrapped := func(o ObjectSummary) error {
		o.ETag = unquote(o.ETag)
		if err := fn(o); err != nil {
			return fnError{err}
		}
		return nil
	}
	if err := c.b.listObjects(ctx, bucket, prefix, after, wrapped); err != nil {
		return c.fail("ListObjects", bucket, "", cp, err)
	}
	return nil
}

// MultipartUpload uploads parts as one object: initiate (with opts), one
// UploadPart per element of parts, complete. The result holds what every
// step's response said. On failure the upload is aborted (best effort)
// and the steps done so far are returned with the error. At most one
// MultipartOptions may be given.
func (c *Client) MultipartUpload(ctx context.Context, bucket, key string, parts [][]byte, opts PutOptions, mopts ...MultipartOptions) (MultipartResult, error) {
	var mo MultipartOptions
	switch len(mopts) {
	case 0:
	case 1:
		mo = mopts[0]
	default:
		return MultipartResult{}, errors.New("client: MultipartUpload takes at most one MultipartOptions")
	}
	if len(parts) == 0 {
		return MultipartResult{}, errors.New("client: MultipartUpload needs at least one part")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var out MultipartResult
	step := func(wantBody bool) (context.Context, *capture) { return withCapture(ctx, wantBody) }

	sctx, cp := step(false)
	id, r, err := c.b.initiateMultipart(sctx, bucket, key, opts)
	if err != nil {
		return out, c.fail("InitiateMultipartUpload", bucket, key, cp, err)
	}
	out.UploadID = id
	out.Initiate = finish(r, cp)
	fillFromHeaders(&out.Initiate, c.cfg.Dialect, false)
	abort := func() {
		actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
		defer acancel()
		_ = c.b.abortMultipart(actx, bucket, key, id)
	}
	done := make([]completedPart, 0, len(parts))
	for i, p := range parts {
		sctx, cp := step(false)
		r, err := c.b.uploadPart(sctx, bucket, key, id, i+1, p, mo.PartSSE)
		if err != nil {
			abort()
			return out, c.fail("UploadPart", bucket, key, cp, err)
		}
		r = finish(r, cp)
		etag := r.ETag // as the SDK returned it, quotes included
		if etag == "" {
			etag = r.Headers.Get("ETag")
		}
		fillFromHeaders(&r, c.cfg.Dialect, false)
		r.Size = int64(len(p))
		out.Parts = append(out.Parts, r)
		done = append(done, completedPart{Number: i + 1, ETag: etag})
	}
	sctx, cp = step(false)
	r, err = c.b.completeMultipart(sctx, bucket, key, id, done, mo.CompleteSSE)
	if err != nil {
		abort()
		return out, c.fail("CompleteMultipartUpload", bucket, key, cp, err)
	}
	out.Complete = finish(r, cp)
	fillFromHeaders(&out.Complete, c.cfg.Dialect, false)
	return out, nil
}

// AbortMultipartUpload aborts a multipart upload.
func (c *Client) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.b.abortMultipart(ctx, bucket, key, uploadID); err != nil {
		return c.fail("AbortMultipartUpload", bucket, key, cp, err)
	}
	return nil
}

// ---- response normalisation ----

func unquote(etag string) string {
	return strings.Trim(strings.TrimSpace(etag), `"`)
}

// headerNames are the dialect's response header names.
type headerNames struct {
	sse, keyID, dataEnc, version, storageClass, metaPrefix string
}

var dialectHeaders = map[Dialect]headerNames{
	OSS: {"X-Oss-Server-Side-Encryption", "X-Oss-Server-Side-Encryption-Key-Id", "X-Oss-Server-Side-Data-Encryption",
		"X-Oss-Version-Id", "X-Oss-Storage-Class", "X-Oss-Meta-"},
	S3: {"X-Amz-Server-Side-Encryption", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "",
		"X-Amz-Version-Id", "X-Amz-Storage-Class", "X-Amz-Meta-"},
}

// sseFromHeaders reads a response's SSE headers, normalised.
func sseFromHeaders(d Dialect, h http.Header) SSE {
	n := dialectHeaders[d]
	s := SSE{Algorithm: normaliseAlgorithm(strings.TrimSpace(h.Get(n.sse))), KeyID: h.Get(n.keyID)}
	if n.dataEnc != "" {
		s.DataEncryption = h.Get(n.dataEnc)
	}
	return s
}

// normaliseAlgorithm maps S3's "aws:kms" to "KMS"; every other value is
// kept as returned.
func normaliseAlgorithm(a string) string {
	if a == "aws:kms" {
		return AlgorithmKMS
	}
	return a
}

// fillFromHeaders completes r from its raw headers: SSE, ETag and
// Last-Modified when the SDK gave none, version id, storage class, and for
// reads (HEAD, GET) the size, content type and user metadata.
func fillFromHeaders(r *ObjectResult, d Dialect, read bool) {
	h := r.Headers
	if h == nil {
		return
	}
	n := dialectHeaders[d]
	r.SSE = sseFromHeaders(d, h)
	if r.ETag == "" {
		r.ETag = unquote(h.Get("ETag"))
	} else {
		r.ETag = unquote(r.ETag)
	}
	if r.LastModified.IsZero() {
		if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
			r.LastModified = t
		}
	}
	if r.VersionID == "" {
		r.VersionID = h.Get(n.version)
	}
	if r.StorageClass == "" {
		r.StorageClass = h.Get(n.storageClass)
	}
	if !read {
		return
	}
	r.ContentType = h.Get("Content-Type")
	if cr := h.Get("Content-Range"); cr != "" {
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if total, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				r.Size = total
			}
		}
	} else if cl, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
		r.Size = cl
	}
	for k, vs := range h {
		if len(vs) > 0 && len(k) > len(n.metaPrefix) && strings.EqualFold(k[:len(n.metaPrefix)], n.metaPrefix) {
			if r.Metadata == nil {
				r.Metadata = map[string]string{}
			}
			r.Metadata[strings.ToLower(k[len(n.metaPrefix):])] = vs[0]
		}
	}
}

// rangeHeader renders rng as an HTTP Range value.
func rangeHeader(rng *Range) string {
	if rng.Length <= 0 {
		return fmt.Sprintf("bytes=%d-", rng.Offset)
	}
	return fmt.Sprintf("bytes=%d-%d", rng.Offset, rng.Offset+rng.Length-1)
}
