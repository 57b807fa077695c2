package client

import (
	"context"
	"maps"

	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
)

// ObjectTagging reads an object's tags (GetObjectTagging); an object
// without tags gives an empty, non-nil map.
func (c *Client) ObjectTagging(ctx context.Context, bucket, key string) (map[string]string, error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	out := map[string]string{}
	var err error
	switch b := c.b.(type) {
	case *ossV1:
		var bk *oss1.Bucket
		if bk, err = b.bucket(bucket); err == nil {
			var r oss1.GetObjectTaggingResult
			r, err = bk.GetObjectTagging(key, oss1.WithContext(ctx))
			for _, t := range r.Tags {
				out[t.Key] = t.Value
			}
		}
	case *s3Backend:
		var t *tags.Tags
		if t, err = b.c.GetObjectTagging(ctx, bucket, key, minio.GetObjectTaggingOptions{}); err == nil && t != nil {
			maps.Copy(out, t.ToMap())
		}
	default:
		return nil, errNeedsV1("GetObjectTagging")
	}
	if err != nil {
		return nil, c.fail("GetObjectTagging", bucket, key, cp, err)
	}
	return out, nil
}

// PutObjectTagging replaces an object's tags (PutObjectTagging).
func (c *Client) PutObjectTagging(ctx context.Context, bucket, key string, tagSet map[string]string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	var err error
	switch b := c.b.(type) {
	case *ossV1:
		var bk *oss1.Bucket
		if bk, err = b.bucket(bucket); err == nil {
			var t oss1.Tagging
			for k, v := range tagSet {
				t.Tags = append(t.Tags, oss1.Tag{Key: k, Value: v})
			}
			err = bk.PutObjectTagging(key, t, oss1.WithContext(ctx))
		}
	case *s3Backend:
		var t *tags.Tags
		if t, err = tags.NewTags(tagSet, true); err == nil {
			err = b.c.PutObjectTagging(ctx, bucket, key, t, minio.PutObjectTaggingOptions{})
		}
	default:
		return errNeedsV1("PutObjectTagging")
	}
	if err != nil {
		return c.fail("PutObjectTagging", bucket, key, cp, err)
	}
	return nil
}
