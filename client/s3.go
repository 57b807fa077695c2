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
	"strings"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
	"github.com/minio/minio-go/v7/pkg/signer"
	"github.com/minio/minio-go/v7/pkg/sse"
)

// s3Backend drives github.com/minio/minio-go/v7. minio-go returns few
// response headers, so results take them from the capture (Client fills
// ObjectResult.Headers).
type s3Backend struct {
	c      *minio.Client
	core   minio.Core
	region string

	// For the signed GetBucketLocation that BucketRegion falls back to.
	http         *http.Client
	scheme, host string
	pathStyle    bool
	ak, sk       string
}

func newS3(cfg Config, scheme, host string, hc *http.Client) (*s3Backend, error) {
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	opts := minio.Options{
		Creds:        miniocreds.NewStaticV4(cfg.AccessKeyID, cfg.AccessKeySecret, ""),
		Secure:       scheme == "https",
		Transport:    hc.Transport,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   cfg.MaxAttempts,
	}
	c, err := minio.New(host, &opts)
	if err != nil {
		return nil, err
	}
	return &s3Backend{c: c, core: minio.Core{Client: c}, region: cfg.Region, http: hc, scheme: scheme, host: host,
		pathStyle: cfg.PathStyle, ak: cfg.AccessKeyID, sk: cfg.AccessKeySecret}, nil
}

// errNoS3DataEncryption refuses what S3 cannot express.
var errNoS3DataEncryption = errors.New("SSE.DataEncryption / Rule.KMSDataEncryption has no S3 equivalent (OSS x-oss-server-side-data-encryption); it was not sent")

// s3Algorithm maps this package's algorithm to S3's: KMS is aws:kms,
// everything else is sent as given.
func s3Algorithm(a string) string {
	if a == AlgorithmKMS {
		return "aws:kms"
	}
	return a
}

// s3SSE is an encrypt.ServerSide that sends exactly the headers asked for
// (minio-go's own types cannot send an unknown algorithm, nor a key id
// without aws:kms).
type s3SSE struct{ alg, keyID string }

func (s s3SSE) Type() encrypt.Type {
	if s.alg == "aws:kms" {
		return encrypt.KMS
	}
	return encrypt.S3
}

func (s s3SSE) Marshal(h http.Header) {
	if s.alg != "" {
		h.Set(encrypt.SseGenericHeader, s.alg)
	}
	if s.keyID != "" {
		h.Set(encrypt.SseKmsKeyID, s.keyID)
	}
}

func s3ServerSide(s *SSE) (encrypt.ServerSide, error) {
	if s == nil || s.IsZero() {
		return nil, nil
	}
	if s.DataEncryption != "" {
		return nil, errNoS3DataEncryption
	}
	return s3SSE{alg: s3Algorithm(s.Algorithm), keyID: s.KeyID}, nil
}

func s3PutOptions(p PutOptions) (minio.PutObjectOptions, error) {
	ss, err := s3ServerSide(p.SSE)
	if err != nil {
		return minio.PutObjectOptions{}, err
	}
	return minio.PutObjectOptions{ServerSideEncryption: ss, ContentType: p.ContentType, UserMetadata: p.Metadata}, nil
}

// uncaptured hides ctx's capture, for clean-up calls whose answer must not
// replace the one being reported.
func uncaptured(ctx context.Context) context.Context {
	return context.WithValue(ctx, captureKey{}, (*capture)(nil))
}

func (s *s3Backend) createBucket(ctx context.Context, name string, ss *SSE) error {
	var rule *Rule
	if ss != nil && !ss.IsZero() {
		if ss.DataEncryption != "" {
			return errNoS3DataEncryption
		}
		rule = &Rule{Algorithm: ss.Algorithm, KMSMasterKeyID: ss.KeyID}
	}
	if err := s.c.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: s.region}); err != nil {
		return err
	}
	if rule == nil {
		return nil
	}
	if err := s.putBucketEncryption(ctx, name, *rule); err != nil {
		_ = s.c.RemoveBucket(uncaptured(ctx), name)
		return err
	}
	return nil
}

func (s *s3Backend) deleteBucket(ctx context.Context, name string) error {
	return s.c.RemoveBucket(ctx, name)
}

func (s *s3Backend) listBuckets(ctx context.Context) ([]Bucket, error) {
	bs, err := s.c.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, 0, len(bs))
	for _, b := range bs {
		out = append(out, Bucket{Name: b.Name, Region: b.BucketRegion, CreationDate: b.CreationDate})
	}
	return out, nil
}

func (s *s3Backend) bucketRegion(ctx context.Context, name string) (string, error) {
	ok, err := s.c.BucketExists(ctx, name)
	if err != nil {
		return "", err
	}
	cp := captureFrom(ctx)
	if !ok {
		// minio-go reports a missing bucket as false; give the answer back
		// as the error it is.
		return "", minio.ErrorResponse{StatusCode: cp.Status(), Code: minio.NoSuchBucket,
			Message: "The specified bucket does not exist", BucketName: name,
			RequestID: cp.Header().Get("X-Amz-Request-Id")}
	}
	if r := cp.Header().Get("X-Amz-Bucket-Region"); r != "" {
		return r, nil
	}
	// No x-amz-bucket-region (some S3-compatible endpoints): ask.
	return s.bucketLocation(ctx, name)
}

// emptySHA256 is the SHA-256 of an empty payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// bucketLocation sends GetBucketLocation itself, signed by minio-go's
// signer: minio-go's own GetBucketLocation answers from the configured
// region without asking, and turns an AccessDenied into "us-east-1".
func (s *s3Backend) bucketLocation(ctx context.Context, name string) (string, error) {
	u := s.scheme + "://" + s.host + "/" + url.PathEscape(name) + "?location="
	if !s.pathStyle {
		u = s.scheme + "://" + name + "." + s.host + "/?location="
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	resp, err := s.http.Do(signer.SignV4(*req, s.ak, s.sk, "", s.region))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		er := minio.ErrorResponse{}
		_ = xml.Unmarshal(body, &er)
		er.StatusCode = resp.StatusCode
		if er.RequestID == "" {
			er.RequestID = resp.Header.Get("X-Amz-Request-Id")
		}
		return "", er
	}
	var loc struct {
		Value string `xml:",chardata"`
	}
	if err := xml.Unmarshal(body, &loc); err != nil {
		return "", fmt.Errorf("decode LocationConstraint: %w", err)
	}
	switch v := strings.TrimSpace(loc.Value); v {
	case "":
		return "us-east-1", nil // S3's name for the empty constraint
	case "EU":
		return "eu-west-1", nil
	default:
		return v, nil
	}
}

func (s *s3Backend) bucketEncryption(ctx context.Context, name string) (Rule, error) {
	cfg, err := s.c.GetBucketEncryption(ctx, name)
	if err != nil {
		return Rule{}, err
	}
	if cfg == nil || len(cfg.Rules) == 0 {
		return Rule{}, nil
	}
	a := cfg.Rules[0].Apply
	return Rule{Algorithm: normaliseAlgorithm(a.SSEAlgorithm), KMSMasterKeyID: a.KmsMasterKeyID}, nil
}

func (s *s3Backend) putBucketEncryption(ctx context.Context, name string, r Rule) error {
	if r.KMSDataEncryption != "" {
		return errNoS3DataEncryption
	}
	return s.c.SetBucketEncryption(ctx, name, &sse.Configuration{Rules: []sse.Rule{{
		Apply: sse.ApplySSEByDefault{SSEAlgorithm: s3Algorithm(r.Algorithm), KmsMasterKeyID: r.KMSMasterKeyID},
	}}})
}

func (s *s3Backend) deleteBucketEncryption(ctx context.Context, name string) error {
	return s.c.RemoveBucketEncryption(ctx, name)
}

func (s *s3Backend) putObject(ctx context.Context, bucket, key string, body io.Reader, size int64, p PutOptions) (ObjectResult, error) {
	opts, err := s3PutOptions(p)
	if err != nil {
		return ObjectResult{}, err
	}
	info, err := s.core.PutObject(ctx, bucket, key, body, size, "", "", opts)
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: info.ETag, VersionID: info.VersionID}, nil
}

func (s *s3Backend) getObject(ctx context.Context, bucket, key string, rng *Range) (io.ReadCloser, ObjectResult, error) {
	var opts minio.GetObjectOptions
	if rng != nil {
		opts.Set("Range", rangeHeader(rng))
	}
	rc, _, h, err := s.core.GetObject(ctx, bucket, key, opts)
	if err != nil {
		return nil, ObjectResult{}, err
	}
	return rc, ObjectResult{Headers: h}, nil
}

func (s *s3Backend) headObject(ctx context.Context, bucket, key string) (ObjectResult, error) {
	if _, err := s.c.StatObject(ctx, bucket, key, minio.StatObjectOptions{}); err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{}, nil
}

func (s *s3Backend) copyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, p PutOptions, replace bool) (ObjectResult, error) {
	ss, err := s3ServerSide(p.SSE)
	if err != nil {
		return ObjectResult{}, err
	}
	info, err := s.c.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: dstBucket, Object: dstKey, Encryption: ss, UserMetadata: p.Metadata,
			ReplaceMetadata: replace, ContentType: p.ContentType},
		minio.CopySrcOptions{Bucket: srcBucket, Object: srcKey})
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: info.ETag, LastModified: info.LastModified, VersionID: info.VersionID}, nil
}

func (s *s3Backend) deleteObject(ctx context.Context, bucket, key string) error {
	return s.c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{})
}

func (s *s3Backend) listObjects(ctx context.Context, bucket, prefix, after string, fn func(ObjectSummary) error) error {
	ctx, cancel := context.WithCancel(ctx) // stops minio-go's lister on an early return
	defer cancel()
	for ob := range s.c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, StartAfter: after, Recursive: true, MaxKeys: pageSize}) {
		if ob.Err != nil {
			return ob.Err
		}
		if err := fn(ObjectSummary{Key: ob.Key, Size: ob.Size, ETag: ob.ETag, LastModified: ob.LastModified, StorageClass: ob.StorageClass}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (s *s3Backend) initiateMultipart(ctx context.Context, bucket, key string, p PutOptions) (string, ObjectResult, error) {
	opts, err := s3PutOptions(p)
	if err != nil {
		return "", ObjectResult{}, err
	}
	id, err := s.core.NewMultipartUpload(ctx, bucket, key, opts)
	if err != nil {
		return "", ObjectResult{}, err
	}
	return id, ObjectResult{}, nil
}

func (s *s3Backend) uploadPart(ctx context.Context, bucket, key, uploadID string, n int, data []byte, ss *SSE) (ObjectResult, error) {
	side, err := s3ServerSide(ss)
	if err != nil {
		return ObjectResult{}, err
	}
	// minio-go sends only SSE-C headers on UploadPart; others go as custom
	// headers.
	hdr := http.Header{}
	if side != nil {
		side.Marshal(hdr)
	}
	p, err := s.core.PutObjectPart(ctx, bucket, key, uploadID, n, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectPartOptions{CustomHeader: hdr})
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: p.ETag}, nil
}

func (s *s3Backend) completeMultipart(ctx context.Context, bucket, key, uploadID string, parts []completedPart, ss *SSE) (ObjectResult, error) {
	side, err := s3ServerSide(ss)
	if err != nil {
		return ObjectResult{}, err
	}
	ps := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		ps[i] = minio.CompletePart{PartNumber: p.Number, ETag: p.ETag}
	}
	info, err := s.core.CompleteMultipartUpload(ctx, bucket, key, uploadID, ps, minio.PutObjectOptions{ServerSideEncryption: side})
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{ETag: info.ETag, VersionID: info.VersionID}, nil
}

func (s *s3Backend) abortMultipart(ctx context.Context, bucket, key, uploadID string) error {
	return s.core.AbortMultipartUpload(ctx, bucket, key, uploadID)
}
