package client

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// ObjectACL reads an object's canned ACL (GetObjectAcl): on OSS the value
// as returned ("default" for an object without its own ACL, private,
// public-read, public-read-write); on S3 the canned ACL whose grants the
// answer lists (CannedFromGrants), or "" when they match none. Object
// operations beyond the common set (ObjectACL, ObjectTagging, CopyInPlace,
// MultipartCopyInPlace) need the v1 OSS SDK or minio-go; the v2 OSS SDK
// refuses them locally.
func (c *Client) ObjectACL(ctx context.Context, bucket, key string) (string, error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	var (
		acl string
		err error
	)
	switch b := c.b.(type) {
	case *ossV1:
		var bk *oss1.Bucket
		if bk, err = b.bucket(bucket); err == nil {
			var r oss1.GetObjectACLResult
			r, err = bk.GetObjectACL(key, oss1.WithContext(ctx))
			acl = strings.TrimSpace(r.ACL)
		}
	case *s3Backend:
		var data []byte
		if data, err = b.signedObject(ctx, http.MethodGet, bucket, key, "acl", nil); err == nil {
			var doc s3ACLDoc
			if err = xml.Unmarshal(data, &doc); err != nil {
				return "", fmt.Errorf("client: GetObjectAcl %s: decode AccessControlPolicy: %w", resource(bucket, key), err)
			}
			acl = CannedFromGrants(doc.Owner.ID, doc.grants())
		}
	default:
		return "", errNeedsV1("GetObjectAcl")
	}
	if err != nil {
		return "", c.fail("GetObjectAcl", bucket, key, cp, err)
	}
	return acl, nil
}

// PutObjectACL sets an object's canned ACL (OSS x-oss-object-acl, S3
// x-amz-acl), sent as given.
func (c *Client) PutObjectACL(ctx context.Context, bucket, key, canned string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	var err error
	switch b := c.b.(type) {
	case *ossV1:
		var bk *oss1.Bucket
		if bk, err = b.bucket(bucket); err == nil {
			err = bk.SetObjectACL(key, oss1.ACLType(canned), oss1.WithContext(ctx))
		}
	case *s3Backend:
		_, err = b.signedObject(ctx, http.MethodPut, bucket, key, "acl", http.Header{"X-Amz-Acl": {canned}})
	default:
		return errNeedsV1("PutObjectAcl")
	}
	if err != nil {
		return c.fail("PutObjectAcl", bucket, key, cp, err)
	}
	return nil
}

// errNeedsV1 refuses, locally, an operation the v2 OSS SDK path does not
// implement yet.
func errNeedsV1(op string) error {
	return fmt.Errorf("client: %s is implemented for the v1 OSS SDK and minio-go only: use Config.OSSSDK %q", op, OSSSDKV1)
}

// grants lists the document's grants as Grant values, for
// CannedFromGrants.
func (d s3ACLDoc) grants() []Grant {
	var gs []Grant
	for _, g := range d.Grants {
		id := g.Grantee.ID
		if g.Grantee.URI != "" {
			id = g.Grantee.URI
		} else if g.Grantee.Email != "" {
			id = g.Grantee.Email
		}
		gs = append(gs, Grant{GranteeType: g.Grantee.Type, GranteeID: id, Permission: g.Permission})
	}
	return gs
}

// signedObject sends an object sub-resource request signed with SigV4
// (minio-go has no object ACL write, and its ACL read folds the grants
// into metadata) and returns the body of a 2xx answer, bounded.
func (s *s3Backend) signedObject(ctx context.Context, method, bucket, key, sub string, hdr http.Header) ([]byte, error) {
	if key == "" {
		return nil, errors.New("empty object key")
	}
	path := "/" + url.PathEscape(bucket) + "/" + s3utils.EncodePath(key)
	host := s.host
	if !s.pathStyle {
		path, host = "/"+s3utils.EncodePath(key), bucket+"."+s.host
	}
	req, err := http.NewRequestWithContext(ctx, method, s.scheme+"://"+host+path+"?"+sub+"=", bytes.NewReader(nil))
	if err != nil {
		return nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	return s.doSigned(req, nil)
}
