package client

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestBucketACL: a bucket's ACL as set is what BucketACL reads, through
// every SDK, and a missing bucket is the endpoint's NoSuchBucket.
func TestBucketACL(t *testing.T) {
	forEach(t, func(t *testing.T, c *Client, bucket string) {
		ctx := context.Background()
		mkBucket(t, c, bucket, nil)
		a, err := c.BucketACL(ctx, bucket)
		if err != nil {
			t.Fatalf("%s: BucketACL: %v", c.Variant(), err)
		}
		if a.Canned != ACLPrivate || a.Owner == "" || !strings.Contains(a.Raw, "AccessControlPolicy") {
			t.Errorf("%s: new bucket ACL %+v, want private with its owner and the raw document", c.Variant(), a)
		}
		acls := []string{ACLPublicRead, ACLPublicReadWrite, ACLPrivate}
		if c.Dialect() == S3 {
			acls = append(acls, ACLAuthenticatedRead, ACLLogDeliveryWrite)
		}
		for _, acl := range acls {
			if err := c.PutBucketACL(ctx, bucket, acl); err != nil {
				t.Fatalf("%s: PutBucketACL %s: %v", c.Variant(), acl, err)
			}
			a, err := c.BucketACL(ctx, bucket)
			if err != nil {
				t.Fatalf("%s: BucketACL after %s: %v", c.Variant(), acl, err)
			}
			if a.Canned != acl {
				t.Errorf("%s: BucketACL after PutBucketACL %s reads %q (grants %+v)", c.Variant(), acl, a.Canned, a.Grants)
			}
			if c.Dialect() == S3 && len(a.Grants) != 1+len(s3CannedGrants[acl]) {
				t.Errorf("%s: %s: grants %+v", c.Variant(), acl, a.Grants)
			}
		}
		if c.Dialect() == OSS {
			// OSS has no authenticated-read bucket ACL.
			wantError(t, c.Variant()+" PutBucketACL authenticated-read", c.PutBucketACL(ctx, bucket, ACLAuthenticatedRead), http.StatusBadRequest, "InvalidArgument")
		}
		_, err = c.BucketACL(ctx, bucket+"-missing")
		wantError(t, c.Variant()+" BucketACL of a missing bucket", err, http.StatusNotFound, "NoSuchBucket")
	})
}

// TestBucketPolicy: no policy reads as none, never as an error; an
// endpoint without bucket policies answers 501, which is an error (not
// "none"). Where the endpoint keeps policies, one set is read back as is.
func TestBucketPolicy(t *testing.T) {
	forEach(t, func(t *testing.T, c *Client, bucket string) {
		ctx := context.Background()
		mkBucket(t, c, bucket, nil)
		doc, ok, err := c.BucketPolicy(ctx, bucket)
		if err != nil {
			e, isE := AsError(err)
			if !isE || e.StatusCode != http.StatusNotImplemented {
				t.Fatalf("%s: BucketPolicy of a bucket without one: %v, want none (or 501 from an endpoint without policies)", c.Variant(), err)
			}
			if ok || doc != "" {
				t.Errorf("%s: 501 with a document %q", c.Variant(), doc)
			}
			t.Logf("%s: the endpoint does not implement bucket policies (%v)", c.Variant(), err)
			return
		}
		if ok || doc != "" {
			t.Fatalf("%s: bucket without a policy: %q, %v", c.Variant(), doc, ok)
		}
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}`
		if c.Dialect() == OSS {
			policy = `{"Version":"1","Statement":[{"Effect":"Deny","Principal":["*"],"Action":["oss:PutObject"],"Resource":["acs:oss:*:*:` + bucket + `/*"],"Condition":{"Null":{"oss:x-oss-server-side-encryption":["true"]}}}]}`
		}
		if err := c.PutBucketPolicy(ctx, bucket, policy); err != nil {
			t.Fatalf("%s: PutBucketPolicy: %v", c.Variant(), err)
		}
		doc, ok, err = c.BucketPolicy(ctx, bucket)
		if err != nil || !ok || !strings.Contains(doc, "Deny") {
			t.Errorf("%s: BucketPolicy after PutBucketPolicy: %q, %v, %v", c.Variant(), doc, ok, err)
		}
		if err := c.DeleteBucketPolicy(ctx, bucket); err != nil {
			t.Fatalf("%s: DeleteBucketPolicy: %v", c.Variant(), err)
		}
		if doc, ok, err = c.BucketPolicy(ctx, bucket); err != nil || ok {
			t.Errorf("%s: BucketPolicy after DeleteBucketPolicy: %q, %v, %v", c.Variant(), doc, ok, err)
		}
	})
}

func TestCannedFromGrants(t *testing.T) {
	owner := func(id string) Grant { return Grant{"CanonicalUser", id, "FULL_CONTROL"} }
	all := func(p string) Grant { return Grant{"Group", GroupAllUsers, p} }
	for _, tc := range []struct {
		name   string
		grants []Grant
		want   string
	}{
		{"owner only", []Grant{owner("o")}, ACLPrivate},
		{"public-read", []Grant{all("READ"), owner("o")}, ACLPublicRead},
		{"public-read-write any order", []Grant{all("WRITE"), owner("o"), all("READ")}, ACLPublicReadWrite},
		{"authenticated-read", []Grant{owner("o"), {"Group", GroupAuthenticatedUsers, "READ"}}, ACLAuthenticatedRead},
		{"log-delivery-write", []Grant{owner("o"), {"Group", GroupLogDelivery, "READ_ACP"}, {"Group", GroupLogDelivery, "WRITE"}}, ACLLogDeliveryWrite},
		{"another owner's grant", []Grant{owner("x")}, ""},
		{"no grant", nil, ""},
		{"extra user", []Grant{owner("o"), {"CanonicalUser", "u", "READ"}}, ""},
		{"all users full control", []Grant{owner("o"), all("FULL_CONTROL")}, ""},
	} {
		if got := CannedFromGrants("o", tc.grants); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
