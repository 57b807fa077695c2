package client

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
)

// Bucket versioning states as both dialects spell them; "" means
// versioning was never enabled.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// VersionSummary is one entry of ListObjectVersions: an object version or
// a delete marker.
type VersionSummary struct {
	ObjectSummary
	VersionID    string
	IsLatest     bool
	DeleteMarker bool
}

// BucketVersioning reads the bucket's versioning state: VersioningEnabled,
// VersioningSuspended, or "" when it was never enabled.
func (c *Client) BucketVersioning(ctx context.Context, bucket string) (string, error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	s, err := c.b.bucketVersioning(ctx, bucket)
	if err != nil {
		return "", c.fail("GetBucketVersioning", bucket, "", cp, err)
	}
	return s, nil
}

// PutBucketVersioning sets the bucket's versioning state (VersioningEnabled
// or VersioningSuspended).
func (c *Client) PutBucketVersioning(ctx context.Context, bucket, status string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.b.putBucketVersioning(ctx, bucket, status); err != nil {
		return c.fail("PutBucketVersioning", bucket, "", cp, err)
	}
	return nil
}

// ListObjectVersions calls fn for every version and delete marker under
// prefix, in the endpoint's order (by key, newest version first). An error
// from fn stops the listing and is returned as is.
func (c *Client) ListObjectVersions(ctx context.Context, bucket, prefix string, fn func(VersionSummary) error) error {
	return c.ListObjectVersionsAfter(ctx, bucket, prefix, "", fn)
}

// ListObjectVersionsAfter is ListObjectVersions starting with the key
// after afterKey (the listing's key-marker; "" from the beginning): every
// version of the keys up to afterKey is passed over.
func (c *Client) ListObjectVersionsAfter(ctx context.Context, bucket, prefix, afterKey string, fn func(VersionSummary) error) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	wrapped := func(v VersionSummary) error {
		v.ETag = unquote(v.ETag)
		if err := fn(v); err != nil {
			return fnError{err}
		}
		return nil
	}
	if err := c.b.listObjectVersions(ctx, bucket, prefix, afterKey, wrapped); err != nil {
		return c.fail("ListObjectVersions", bucket, "", cp, err)
	}
	return nil
}

// DeleteObjectVersion removes one version (or delete marker) for good.
func (c *Client) DeleteObjectVersion(ctx context.Context, bucket, key, versionID string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.b.deleteObjectVersion(ctx, bucket, key, versionID); err != nil {
		return c.fail("DeleteObject", bucket, key, cp, err)
	}
	return nil
}

// HeadObjectVersion reads one version's metadata.
func (c *Client) HeadObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectResult, error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	r, err := c.b.headObjectVersion(ctx, bucket, key, versionID)
	if err != nil {
		return ObjectResult{}, c.fail("HeadObject", bucket, key, cp, err)
	}
	r = finish(r, cp)
	fillFromHeaders(&r, c.cfg.Dialect, true)
	return r, nil
}

// bucketVersioning sends GetBucketVersioning through Conn.DoWithContext
// (the request Client.GetBucketVersioning sends) because the SDK's
// bucket-level calls drop the context: the scan's cancellation and its
// request budget (WithRequestGate) travel in it.
func (o *ossV1) bucketVersioning(ctx context.Context, bucket string) (string, error) {
	if err := oss1.CheckBucketName(bucket); err != nil {
		return "", err
	}
	resp, err := o.c.Conn.DoWithContext(ctx, http.MethodGet, bucket, "", map[string]interface{}{"versioning": nil}, nil, nil, 0, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", oss1.CheckRespCode(resp.StatusCode, []int{http.StatusOK})
	}
	var r oss1.GetBucketVersioningResult
	if err := xml.NewDecoder(resp.Body).Decode(&r); err != nil {
		return "", fmt.Errorf("decode VersioningConfiguration: %w", err)
	}
	return r.Status, nil
}

func (o *ossV1) putBucketVersioning(ctx context.Context, bucket, status string) error {
	return o.c.SetBucketVersioning(bucket, oss1.VersioningConfig{Status: status}, oss1.WithContext(ctx))
}

func (o *ossV1) listObjectVersions(ctx context.Context, bucket, prefix, afterKey string, fn func(VersionSummary) error) error {
	bk, err := o.bucket(bucket)
	if err != nil {
		return err
	}
	keyMarker, idMarker := afterKey, ""
	for {
		opts := []oss1.Option{oss1.Prefix(prefix), oss1.MaxKeys(pageSize), oss1.WithContext(ctx)}
		if keyMarker != "" || idMarker != "" {
			opts = append(opts, oss1.KeyMarker(keyMarker), oss1.VersionIdMarker(idMarker))
		}
		r, err := bk.ListObjectVersions(opts...)
		if err != nil {
			return err
		}
		for _, v := range r.ObjectVersions {
			s := VersionSummary{ObjectSummary: ObjectSummary{Key: v.Key, Size: v.Size, ETag: v.ETag, LastModified: v.LastModified, StorageClass: v.StorageClass},
				VersionID: v.VersionId, IsLatest: v.IsLatest}
			if err := fn(s); err != nil {
				return err
			}
		}
		for _, d := range r.ObjectDeleteMarkers {
			s := VersionSummary{ObjectSummary: ObjectSummary{Key: d.Key, LastModified: d.LastModified}, VersionID: d.VersionId, IsLatest: d.IsLatest, DeleteMarker: true}
			if err := fn(s); err != nil {
				return err
			}
		}
		if !r.IsTruncated || (r.NextKeyMarker == keyMarker && r.NextVersionIdMarker == idMarker) {
			return nil
		}
		keyMarker, idMarker = r.NextKeyMarker, r.NextVersionIdMarker
	}
}

func (o *ossV1) headObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectResult, error) {
	bk, err := o.bucket(bucket)
	if err != nil {
		return ObjectResult{}, err
	}
	h, err := bk.GetObjectDetailedMeta(key, oss1.VersionId(versionID), oss1.WithContext(ctx))
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{Headers: h}, nil
}

func (o *ossV1) deleteObjectVersion(ctx context.Context, bucket, key, versionID string) error {
	bk, err := o.bucket(bucket)
	if err != nil {
		return err
	}
	return bk.DeleteObject(key, oss1.VersionId(versionID), oss1.WithContext(ctx))
}

func (o *ossV2) bucketVersioning(ctx context.Context, bucket string) (string, error) {
	r, err := o.c.GetBucketVersioning(ctx, &oss2.GetBucketVersioningRequest{Bucket: oss2.Ptr(bucket)})
	if err != nil {
		return "", err
	}
	return oss2.ToString(r.VersionStatus), nil
}

func (o *ossV2) putBucketVersioning(ctx context.Context, bucket, status string) error {
	_, err := o.c.PutBucketVersioning(ctx, &oss2.PutBucketVersioningRequest{Bucket: oss2.Ptr(bucket),
		VersioningConfiguration: &oss2.VersioningConfiguration{Status: oss2.VersioningStatusType(status)}})
	return err
}

func (o *ossV2) listObjectVersions(ctx context.Context, bucket, prefix, afterKey string, fn func(VersionSummary) error) error {
	p := o.c.NewListObjectVersionsPaginator(&oss2.ListObjectVersionsRequest{Bucket: oss2.Ptr(bucket), Prefix: nonEmpty(prefix), KeyMarker: nonEmpty(afterKey), MaxKeys: int32(pageSize)})
	for p.HasNext() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, v := range page.ObjectVersions {
			s := VersionSummary{ObjectSummary: ObjectSummary{Key: oss2.ToString(v.Key), Size: v.Size, ETag: oss2.ToString(v.ETag), StorageClass: oss2.ToString(v.StorageClass)},
				VersionID: oss2.ToString(v.VersionId), IsLatest: v.IsLatest}
			if v.LastModified != nil {
				s.LastModified = *v.LastModified
			}
			if err := fn(s); err != nil {
				return err
			}
		}
		for _, d := range page.ObjectDeleteMarkers {
			s := VersionSummary{ObjectSummary: ObjectSummary{Key: oss2.ToString(d.Key)}, VersionID: oss2.ToString(d.VersionId), IsLatest: d.IsLatest, DeleteMarker: true}
			if d.LastModified != nil {
				s.LastModified = *d.LastModified
			}
			if err := fn(s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *ossV2) headObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectResult, error) {
	r, err := o.c.HeadObject(ctx, &oss2.HeadObjectRequest{Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key), VersionId: oss2.Ptr(versionID)})
	if err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{Headers: r.Headers}, nil
}

func (o *ossV2) deleteObjectVersion(ctx context.Context, bucket, key, versionID string) error {
	_, err := o.c.DeleteObject(ctx, &oss2.DeleteObjectRequest{Bucket: oss2.Ptr(bucket), Key: oss2.Ptr(key), VersionId: oss2.Ptr(versionID)})
	return err
}

func (s *s3Backend) bucketVersioning(ctx context.Context, bucket string) (string, error) {
	r, err := s.c.GetBucketVersioning(ctx, bucket)
	return r.Status, err
}

func (s *s3Backend) putBucketVersioning(ctx context.Context, bucket, status string) error {
	return s.c.SetBucketVersioning(ctx, bucket, minio.BucketVersioningConfiguration{Status: status})
}

func (s *s3Backend) listObjectVersions(ctx context.Context, bucket, prefix, afterKey string, fn func(VersionSummary) error) error {
	ctx, cancel := context.WithCancel(ctx) // stops minio-go's lister on an early return
	defer cancel()
	// minio-go sends StartAfter as the versions listing's key-marker.
	for ob := range s.c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, StartAfter: afterKey, Recursive: true, MaxKeys: pageSize, WithVersions: true}) {
		if ob.Err != nil {
			return ob.Err
		}
		v := VersionSummary{ObjectSummary: ObjectSummary{Key: ob.Key, Size: ob.Size, ETag: ob.ETag, LastModified: ob.LastModified, StorageClass: ob.StorageClass},
			VersionID: ob.VersionID, IsLatest: ob.IsLatest, DeleteMarker: ob.IsDeleteMarker}
		if err := fn(v); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (s *s3Backend) headObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectResult, error) {
	if _, err := s.c.StatObject(ctx, bucket, key, minio.StatObjectOptions{VersionID: versionID}); err != nil {
		return ObjectResult{}, err
	}
	return ObjectResult{}, nil
}

func (s *s3Backend) deleteObjectVersion(ctx context.Context, bucket, key, versionID string) error {
	return s.c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: versionID})
}
