package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/signer"
)

// Canned ACLs. OSS buckets take the first three; S3 buckets all five.
const (
	ACLPrivate           = "private"
	ACLPublicRead        = "public-read"
	ACLPublicReadWrite   = "public-read-write"
	ACLAuthenticatedRead = "authenticated-read" // S3: any AWS account's authenticated requests
	ACLLogDeliveryWrite  = "log-delivery-write" // S3
)

// S3's predefined groups (Grant.GranteeID of a Group grantee).
const (
	GroupAllUsers           = "http://acs.amazonaws.com/groups/global/AllUsers"
	GroupAuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	GroupLogDelivery        = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

// ACL is a bucket's access control list as the endpoint answered it.
type ACL struct {
	// Canned is the canned ACL: OSS's Grant as returned; on S3 the canned
	// ACL whose grants the answer lists (in any order), or "" when the
	// grants match none (Grants says what they are).
	Canned string
	// Owner is the owner's id as returned.
	Owner string
	// Grants are S3's grants as returned (OSS answers the canned value
	// only, and Grants is nil).
	Grants []Grant
	// Raw is the XML document the endpoint returned, as evidence.
	Raw string
}

// Grant is one S3 grant.
type Grant struct {
	// GranteeType is the xsi:type: CanonicalUser, Group or
	// AmazonCustomerByEmail.
	GranteeType string
	// GranteeID is the canonical user id, the group URI or the e-mail.
	GranteeID  string
	Permission string // FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP
}

// accessBackend is what every backend implements for ACLs and bucket
// policies (kept apart from backend so that this file holds it all).
type accessBackend interface {
	bucketACL(ctx context.Context, bucket string) (ACL, error)
	putBucketACL(ctx context.Context, bucket, canned string) error
	// bucketPolicy returns the policy document, or ok false when the
	// endpoint says none is set.
	bucketPolicy(ctx context.Context, bucket string) (doc string, ok bool, err error)
	putBucketPolicy(ctx context.Context, bucket, doc string) error
	deleteBucketPolicy(ctx context.Context, bucket string) error
}

var (
	_ accessBackend = (*ossV1)(nil)
	_ accessBackend = (*ossV2)(nil)
	_ accessBackend = (*s3Backend)(nil)
)

func (c *Client) access() accessBackend { return c.b.(accessBackend) }

// BucketACL reads the bucket's ACL (OSS and S3 GetBucketAcl).
func (c *Client) BucketACL(ctx context.Context, bucket string) (ACL, error) {
	ctx, cancel, cp := c.call(ctx, true)
	defer cancel()
	a, err := c.access().bucketACL(ctx, bucket)
	if err != nil {
		return ACL{}, c.fail("GetBucketAcl", bucket, "", cp, err)
	}
	if cp.Status() == http.StatusOK {
		a.Raw = string(cp.Body())
	}
	return a, nil
}

// PutBucketACL sets the bucket's canned ACL (OSS x-oss-acl, S3 x-amz-acl).
// The value is sent as given.
func (c *Client) PutBucketACL(ctx context.Context, bucket, canned string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.access().putBucketACL(ctx, bucket, canned); err != nil {
		return c.fail("PutBucketAcl", bucket, "", cp, err)
	}
	return nil
}

// MaxPolicyBytes bounds the policy document BucketPolicy returns: S3
// allows 20 KB, OSS 16 KB; a longer answer is an error, not a truncated
// document that would read as another policy.
const MaxPolicyBytes = 64 << 10

// BucketPolicy reads the bucket's policy document (GetBucketPolicy), as
// returned. ok is false, with no error, when the endpoint says none is set
// (404 NoSuchBucketPolicy in both dialects). An endpoint that does not
// implement bucket policies answers an *Error (501 NotImplemented): that is
// not "no policy".
func (c *Client) BucketPolicy(ctx context.Context, bucket string) (doc string, ok bool, err error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	doc, ok, err = c.access().bucketPolicy(ctx, bucket)
	if err != nil {
		err = c.fail("GetBucketPolicy", bucket, "", cp, err)
		if e, isE := AsError(err); isE && e.StatusCode == http.StatusNotFound && e.Code == "NoSuchBucketPolicy" {
			return "", false, nil
		}
		return "", false, err
	}
	if len(doc) > MaxPolicyBytes {
		return "", false, fmt.Errorf("client: GetBucketPolicy %s: the policy document has %d bytes, more than the %d this client reads (S3 allows 20 KB, OSS 16 KB)", bucket, len(doc), MaxPolicyBytes)
	}
	return doc, ok, nil
}

// PutBucketPolicy sets the bucket's policy document (sent as given).
func (c *Client) PutBucketPolicy(ctx context.Context, bucket, doc string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.access().putBucketPolicy(ctx, bucket, doc); err != nil {
		return c.fail("PutBucketPolicy", bucket, "", cp, err)
	}
	return nil
}

// DeleteBucketPolicy removes the bucket's policy.
func (c *Client) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	if err := c.access().deleteBucketPolicy(ctx, bucket); err != nil {
		return c.fail("DeleteBucketPolicy", bucket, "", cp, err)
	}
	return nil
}

// ---- OSS, v1 SDK ----

// The v1 SDK's bucket-level calls drop the context (see ossV1): the reads
// go through Conn.DoWithContext, the request the SDK's own call sends, so
// the scan's cancellation and request budget apply to them.

func (o *ossV1) get(ctx context.Context, bucket, sub string) ([]byte, error) {
	return o.getParams(ctx, bucket, map[string]interface{}{sub: nil})
}

// getParams is get with a query of several parameters.
func (o *ossV1) getParams(ctx context.Context, bucket string, params map[string]interface{}) ([]byte, error) {
	if err := oss1.CheckBucketName(bucket); err != nil {
		return nil, err
	}
	resp, err := o.c.Conn.DoWithContext(ctx, http.MethodGet, bucket, "", params, nil, nil, 0, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, oss1.CheckRespCode(resp.StatusCode, []int{http.StatusOK})
	}
	return io.ReadAll(io.LimitReader(resp.Body, MaxPolicyBytes+1))
}

func (o *ossV1) bucketACL(ctx context.Context, bucket string) (ACL, error) {
	data, err := o.get(ctx, bucket, "acl")
	if err != nil {
		return ACL{}, err
	}
	var r oss1.GetBucketACLResult
	if err := xml.Unmarshal(data, &r); err != nil {
		return ACL{}, fmt.Errorf("decode AccessControlPolicy: %w", err)
	}
	return ACL{Canned: strings.TrimSpace(r.ACL), Owner: r.Owner.ID}, nil
}

func (o *ossV1) putBucketACL(ctx context.Context, bucket, canned string) error {
	return o.c.SetBucketACL(bucket, oss1.ACLType(canned), oss1.WithContext(ctx))
}

func (o *ossV1) bucketPolicy(ctx context.Context, bucket string) (string, bool, error) {
	data, err := o.get(ctx, bucket, "policy")
	if err != nil {
		return "", false, err
	}
	return string(data), true, nil
}

func (o *ossV1) putBucketPolicy(ctx context.Context, bucket, doc string) error {
	return o.c.SetBucketPolicy(bucket, doc, oss1.WithContext(ctx))
}

func (o *ossV1) deleteBucketPolicy(ctx context.Context, bucket string) error {
	return o.c.DeleteBucketPolicy(bucket, oss1.WithContext(ctx))
}

// ---- OSS, v2 SDK ----

func (o *ossV2) bucketACL(ctx context.Context, bucket string) (ACL, error) {
	r, err := o.c.GetBucketAcl(ctx, &oss2.GetBucketAclRequest{Bucket: oss2.Ptr(bucket)})
	if err != nil {
		return ACL{}, err
	}
	a := ACL{Canned: strings.TrimSpace(oss2.ToString(r.ACL))}
	if r.Owner != nil {
		a.Owner = oss2.ToString(r.Owner.ID)
	}
	return a, nil
}

func (o *ossV2) putBucketACL(ctx context.Context, bucket, canned string) error {
	_, err := o.c.PutBucketAcl(ctx, &oss2.PutBucketAclRequest{Bucket: oss2.Ptr(bucket), Acl: oss2.BucketACLType(canned)})
	return err
}

func (o *ossV2) bucketPolicy(ctx context.Context, bucket string) (string, bool, error) {
	r, err := o.c.GetBucketPolicy(ctx, &oss2.GetBucketPolicyRequest{Bucket: oss2.Ptr(bucket)})
	if err != nil {
		return "", false, err
	}
	return r.Body, true, nil
}

func (o *ossV2) putBucketPolicy(ctx context.Context, bucket, doc string) error {
	_, err := o.c.PutBucketPolicy(ctx, &oss2.PutBucketPolicyRequest{Bucket: oss2.Ptr(bucket), Body: strings.NewReader(doc)})
	return err
}

func (o *ossV2) deleteBucketPolicy(ctx context.Context, bucket string) error {
	_, err := o.c.DeleteBucketPolicy(ctx, &oss2.DeleteBucketPolicyRequest{Bucket: oss2.Ptr(bucket)})
	return err
}

// ---- S3, minio-go ----

// minio-go has no bucket ACL call: GetBucketAcl and PutBucketAcl are
// signed by minio-go's signer and sent by this package (as
// bucketLocation is).

// signed sends a bucket sub-resource request signed with SigV4 and
// returns the body of a 2xx answer (bounded), or the answer as a
// minio.ErrorResponse.
func (s *s3Backend) signed(ctx context.Context, method, bucket, sub string, hdr http.Header, body []byte) ([]byte, error) {
	u := s.scheme + "://" + s.host + "/" + url.PathEscape(bucket) + "?" + sub + "="
	if !s.pathStyle {
		u = s.scheme + "://" + bucket + "." + s.host + "/?" + sub + "="
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	return s.doSigned(req, body)
}

// doSigned signs req (whose body is body) with SigV4, sends it, and
// returns the body of a 2xx answer (bounded), or the answer as a
// minio.ErrorResponse.
func (s *s3Backend) doSigned(req *http.Request, body []byte) ([]byte, error) {
	sum := sha256.Sum256(body)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	req.ContentLength = int64(len(body))
	resp, err := s.http.Do(signer.SignV4(*req, s.ak, s.sk, "", s.region))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxPolicyBytes+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		er := minio.ErrorResponse{}
		_ = xml.Unmarshal(data, &er)
		er.StatusCode = resp.StatusCode
		if er.RequestID == "" {
			er.RequestID = resp.Header.Get("X-Amz-Request-Id")
		}
		return nil, er
	}
	return data, nil
}

type s3ACLDoc struct {
	Owner struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	Grants []struct {
		Grantee struct {
			Type  string `xml:"type,attr"`
			ID    string `xml:"ID"`
			URI   string `xml:"URI"`
			Email string `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

func (s *s3Backend) bucketACL(ctx context.Context, bucket string) (ACL, error) {
	data, err := s.signed(ctx, http.MethodGet, bucket, "acl", nil, nil)
	if err != nil {
		return ACL{}, err
	}
	var d s3ACLDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		return ACL{}, fmt.Errorf("decode AccessControlPolicy: %w", err)
	}
	a := ACL{Owner: d.Owner.ID}
	for _, g := range d.Grants {
		id := g.Grantee.ID
		switch {
		case g.Grantee.URI != "":
			id = g.Grantee.URI
		case g.Grantee.Email != "":
			id = g.Grantee.Email
		}
		a.Grants = append(a.Grants, Grant{GranteeType: g.Grantee.Type, GranteeID: id, Permission: g.Permission})
	}
	a.Canned = CannedFromGrants(a.Owner, a.Grants)
	return a, nil
}

// s3CannedGrants are the grants each canned ACL makes besides the owner's
// FULL_CONTROL (as S3 documents them).
var s3CannedGrants = map[string][]Grant{
	ACLPrivate:           nil,
	ACLPublicRead:        {{"Group", GroupAllUsers, "READ"}},
	ACLPublicReadWrite:   {{"Group", GroupAllUsers, "READ"}, {"Group", GroupAllUsers, "WRITE"}},
	ACLAuthenticatedRead: {{"Group", GroupAuthenticatedUsers, "READ"}},
	ACLLogDeliveryWrite:  {{"Group", GroupLogDelivery, "WRITE"}, {"Group", GroupLogDelivery, "READ_ACP"}},
}

// CannedFromGrants names the canned bucket ACL whose grants are exactly
// grants (in any order): the owner's FULL_CONTROL plus the canned ACL's
// group grants. It returns "" when they match none.
func CannedFromGrants(owner string, grants []Grant) string {
	key := func(g Grant) string { return g.GranteeType + "|" + g.GranteeID + "|" + g.Permission }
	got := make([]string, 0, len(grants))
	for _, g := range grants {
		got = append(got, key(g))
	}
	sort.Strings(got)
	names := make([]string, 0, len(s3CannedGrants))
	for n := range s3CannedGrants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want := []string{key(Grant{"CanonicalUser", owner, "FULL_CONTROL"})}
		for _, g := range s3CannedGrants[n] {
			want = append(want, key(g))
		}
		sort.Strings(want)
		if strings.Join(want, "\n") == strings.Join(got, "\n") {
			return n
		}
	}
	return ""
}

func (s *s3Backend) putBucketACL(ctx context.Context, bucket, canned string) error {
	_, err := s.signed(ctx, http.MethodPut, bucket, "acl", http.Header{"X-Amz-Acl": {canned}}, nil)
	return err
}

func (s *s3Backend) bucketPolicy(ctx context.Context, bucket string) (string, bool, error) {
	// minio-go reads NoSuchBucketPolicy as "" without an error.
	doc, err := s.c.GetBucketPolicy(ctx, bucket)
	if err != nil {
		return "", false, err
	}
	return doc, doc != "", nil
}

func (s *s3Backend) putBucketPolicy(ctx context.Context, bucket, doc string) error {
	if doc == "" {
		// minio-go would delete the policy instead.
		return fmt.Errorf("PutBucketPolicy %s: the policy document is empty (use DeleteBucketPolicy to remove a policy)", bucket)
	}
	return s.c.SetBucketPolicy(ctx, bucket, doc)
}

func (s *s3Backend) deleteBucketPolicy(ctx context.Context, bucket string) error {
	return s.c.SetBucketPolicy(ctx, bucket, "")
}
