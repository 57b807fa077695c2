package client

import (
	"context"
	"fmt"
	"io"
	"strings"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
)

// ReadProbe reads one byte of an object (or of one version of it, when
// versionID is set) and discards it: the cheapest request that makes the
// store decrypt. A HEAD answers from metadata alone, so an object whose
// KMS key is disabled or gone, or whose stored data no longer
// authenticates, HEADs fine and fails only here. An empty object is read
// whole (a range on it is unsatisfiable). The error is the store's, as
// every other operation reports it (StatusCode, Code, Message).
func (c *Client) ReadProbe(ctx context.Context, bucket, key, versionID string, size int64) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	var rng *Range
	if size > 0 {
		rng = &Range{Offset: 0, Length: 1}
	}
	vg, ok := c.b.(versionGetter)
	if !ok {
		return fmt.Errorf("client: %s cannot read objects by version", c.variant)
	}
	rc, err := vg.getObjectVersion(ctx, bucket, key, versionID, rng)
	if err != nil {
		return c.fail("GetObject", bucket, key, cp, err)
	}
	defer rc.Close()
	// Read past the byte asked for: a store that ignores the range sends
	// the whole object, and the probe then costs its size, not one byte.
	if _, err := io.Copy(io.Discard, io.LimitReader(rc, 64<<10)); err != nil {
		return c.fail("GetObject", bucket, key, cp, fmt.Errorf("read body: %w", err))
	}
	return nil
}

var (
	_ versionGetter = (*ossV1)(nil)
	_ versionGetter = (*ossV2)(nil)
	_ versionGetter = (*s3Backend)(nil)
)

// versionGetter is the ranged GET of one version ("" the current one),
// which every backend implements.
type versionGetter interface {
	getObjectVersion(ctx context.Context, bucket, key, versionID string, rng *Range) (io.ReadCloser, error)
}

func (o *ossV1) getObjectVersion(ctx context.Context, bucket, key, versionID string, rng *Range) (io.ReadCloser, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return nil, err
	}
	opts := []oss1.Option{oss1.WithContext(ctx)}
	if versionID != "" {
		opts = append(opts, oss1.VersionId(versionID))
	}
	if rng != nil {
		opts = append(opts, oss1.NormalizedRange(strings.TrimPrefix(rangeHeader(rng), "bytes=")))
	}
	return bk.GetObject(key, opts...)
}

func (o *ossV2) getObjectVersion(ctx context.Context, bucket, key, versionID string, rng *Range) (io.ReadCloser, error) {
	req := &oss2.GetObjectRequest{Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key)}
	if versionID != "" {
		req.VersionId = oss2.Ptr(versionID)
	}
	if rng != nil {
		req.Range = oss2.Ptr(rangeHeader(rng))
	}
	r, err := o.c.GetObject(ctx, req)
	if err != nil {
		return nil, err
	}
	return r.Body, nil
}

func (s *s3Backend) getObjectVersion(ctx context.Context, bucket, key, versionID string, rng *Range) (io.ReadCloser, error) {
	opts := minio.GetObjectOptions{VersionID: versionID}
	if rng != nil {
		opts.Set("Range", rangeHeader(rng))
	}
	rc, _, _, err := s.core.GetObject(ctx, bucket, key, opts)
	return rc, err
}
