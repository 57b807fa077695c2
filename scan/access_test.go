package scan

import (
	"context"
	"net/http"
	"testing"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestScanRecordsAccess: the snapshot records each bucket's ACL as set,
// through both dialects, and its policy status: on an endpoint without
// bucket policies (501) "unknown" with a note, never "none", and no
// coverage error. A principal refused the ACL gets acl_error, counted in
// Coverage.Errors. SkipAccess reads neither.
func TestScanRecordsAccess(t *testing.T) {
	ctx := context.Background()
	root := rootClient(t, client.OSS)
	for name, acl := range map[string]string{"acc-private": client.ACLPrivate, "acc-public": client.ACLPublicRead, "acc-rw": client.ACLPublicReadWrite} {
		mkBucket(t, root, name, nil)
		put(t, root, name, "o", nil)
		if acl != client.ACLPrivate {
			if err := root.PutBucketACL(ctx, name, acl); err != nil {
				t.Fatal(err)
			}
		}
	}
	s3 := rootClient(t, client.S3)
	mkBucket(t, s3, "acc-authread", nil)
	if err := s3.PutBucketACL(ctx, "acc-authread", client.ACLAuthenticatedRead); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]any{ // canned, public read, public write
		"acc-authread": {client.ACLAuthenticatedRead, true, false},
		"acc-private":  {client.ACLPrivate, false, false},
		"acc-public":   {client.ACLPublicRead, true, false},
		"acc-rw":       {client.ACLPublicReadWrite, true, true},
	}
	for _, dialect := range []client.Dialect{client.OSS, client.S3} {
		t.Run(string(dialect), func(t *testing.T) {
			sum, path, err := scanFile(t, Config{Client: rootClient(t, dialect), KMS: rootKMS, BucketGlob: "acc-*"})
			if err != nil || !sum.Complete {
				t.Fatal(err, sum.Complete)
			}
			bs := readBuckets(t, path)
			if len(bs) != len(want) {
				t.Fatalf("%d buckets, want %d", len(bs), len(want))
			}
			for _, b := range bs {
				w := want[b.Name]
				if dialect == client.OSS && b.Name == "acc-authread" {
					// OSS has no authenticated-read: the reference
					// reports the bucket's ACL as OSS names it.
					w = [3]any{b.ACL.Canned, b.ACL.PublicRead, b.ACL.PublicWrite}
				}
				if b.ACL == nil || b.ACLError != nil {
					t.Errorf("%s: acl %+v, error %+v", b.Name, b.ACL, b.ACLError)
					continue
				}
				if got := [3]any{b.ACL.Canned, b.ACL.PublicRead, b.ACL.PublicWrite}; got != w {
					t.Errorf("%s: acl %v, want %v", b.Name, got, w)
				}
				if b.ACL.Raw == "" {
					t.Errorf("%s: no raw ACL document", b.Name)
				}
				if b.Policy == nil || b.PolicyError != nil {
					t.Errorf("%s: policy %+v, error %+v", b.Name, b.Policy, b.PolicyError)
					continue
				}
				// The reference answers 501 until it keeps policies.
				if b.Policy.Status != snapshot.PolicyNone && (b.Policy.Status != snapshot.PolicyUnknown || b.Policy.Note == "") {
					t.Errorf("%s: policy %+v, want none, or unknown with a note", b.Name, b.Policy)
				}
			}
			if len(sum.Coverage.Errors) != 0 {
				t.Errorf("coverage errors %s", mustJSON(sum.Coverage.Errors))
			}
		})
	}

	t.Run("skip", func(t *testing.T) {
		_, path, err := scanFile(t, Config{Client: rootClient(t, client.OSS), KMS: rootKMS, BucketGlob: "acc-*", SkipAccess: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range readBuckets(t, path) {
			if b.ACL != nil || b.Policy != nil || b.ACLError != nil || b.PolicyError != nil {
				t.Errorf("%s: access read with SkipAccess: %s", b.Name, mustJSON(b))
			}
		}
	})
}

// TestScanPolicyRecords: how each answer to GetBucketPolicy is recorded.
func TestScanPolicyRecords(t *testing.T) {
	doc := `{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:PutObject"],"Principal":["*"],"Resource":["acs:oss:*:*:b/*"],"Condition":{"Null":{"oss:x-oss-server-side-encryption":["true"]}}}]}`
	p := PolicyFacts("b", doc)
	if p.Status != snapshot.PolicySet || !p.DeniesUnencryptedPut {
		t.Fatalf("%+v", p)
	}
	e := &client.Error{StatusCode: http.StatusNotImplemented, Code: "NotImplemented"}
	if !notImplemented(e) || notImplemented(&client.Error{StatusCode: 403, Code: "AccessDenied"}) {
		t.Error("notImplemented misreads answers")
	}
}

// TestNormaliseACL: who an ACL lets in, from S3 grants that match no
// canned ACL too.
func TestNormaliseACL(t *testing.T) {
	own := client.Grant{GranteeType: "CanonicalUser", GranteeID: "o", Permission: "FULL_CONTROL"}
	for _, tc := range []struct {
		name        string
		a           client.ACL
		read, write bool
		grants      int
	}{
		{"oss private", client.ACL{Canned: "private"}, false, false, 0},
		{"oss public-read", client.ACL{Canned: "public-read"}, true, false, 0},
		{"oss public-read-write", client.ACL{Canned: "public-read-write"}, true, true, 0},
		{"s3 owner only", client.ACL{Canned: "private", Owner: "o", Grants: []client.Grant{own}}, false, false, 0},
		{"s3 all users full control", client.ACL{Owner: "o", Grants: []client.Grant{own, {GranteeType: "Group", GranteeID: client.GroupAllUsers, Permission: "FULL_CONTROL"}}}, true, true, 1},
		{"s3 authenticated write", client.ACL{Owner: "o", Grants: []client.Grant{own, {GranteeType: "Group", GranteeID: client.GroupAuthenticatedUsers, Permission: "WRITE"}}}, false, true, 1},
		{"s3 another account reads", client.ACL{Owner: "o", Grants: []client.Grant{own, {GranteeType: "CanonicalUser", GranteeID: "u", Permission: "READ"}}}, false, false, 1},
		{"s3 log delivery", client.ACL{Canned: "log-delivery-write", Owner: "o", Grants: []client.Grant{own, {GranteeType: "Group", GranteeID: client.GroupLogDelivery, Permission: "WRITE"}}}, false, false, 1},
	} {
		got := normaliseACL(tc.a)
		if got.PublicRead != tc.read || got.PublicWrite != tc.write || len(got.Grants) != tc.grants {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}
