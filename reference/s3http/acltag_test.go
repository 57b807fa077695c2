package s3http

import (
	"bytes"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// grantSet renders an ACL's grants as sorted "type|id-or-uri|permission".
func grantSet(gs []types.Grant) []string {
	var out []string
	for _, g := range gs {
		who := aws.ToString(g.Grantee.ID) + aws.ToString(g.Grantee.URI)
		out = append(out, string(g.Grantee.Type)+"|"+who+"|"+string(g.Permission))
	}
	sort.Strings(out)
	return out
}

// wantGrants are the grants of each canned ACL for owner root.
var wantGrants = map[string][]string{
	"private":                   {"CanonicalUser|root|FULL_CONTROL"},
	"public-read":               {"CanonicalUser|root|FULL_CONTROL", "Group|" + groupAllUsers + "|READ"},
	"public-read-write":         {"CanonicalUser|root|FULL_CONTROL", "Group|" + groupAllUsers + "|READ", "Group|" + groupAllUsers + "|WRITE"},
	"authenticated-read":        {"CanonicalUser|root|FULL_CONTROL", "Group|" + groupAuthUsers + "|READ"},
	"bucket-owner-read":         {"CanonicalUser|root|FULL_CONTROL"},
	"bucket-owner-full-control": {"CanonicalUser|root|FULL_CONTROL"},
	"aws-exec-read":             {"CanonicalUser|" + ec2CanonicalID + "|READ", "CanonicalUser|root|FULL_CONTROL"},
	"log-delivery-write":        {"CanonicalUser|root|FULL_CONTROL", "Group|" + groupLogDeliv + "|READ_ACP", "Group|" + groupLogDeliv + "|WRITE"},
}

// TestAWSSDKBucketACLs: every canned bucket ACL on CreateBucket and on
// PutBucketAcl (header, and the same grants as an AccessControlPolicy
// body) is kept: GetBucketAcl lists its grants and the store reports its
// name. Explicit grants are refused, not ignored.
func TestAWSSDKBucketACLs(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	for i, acl := range []types.BucketCannedACL{types.BucketCannedACLPrivate, types.BucketCannedACLPublicRead,
		types.BucketCannedACLPublicReadWrite, types.BucketCannedACLAuthenticatedRead} {
		t.Run(string(acl), func(t *testing.T) {
			b := "acl-" + string(rune('a'+i))
			if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b), ACL: acl}); err != nil {
				t.Fatal(err)
			}
			check := func(want string) {
				t.Helper()
				out, err := c.GetBucketAcl(bg, &s3.GetBucketAclInput{Bucket: aws.String(b)})
				if err != nil {
					t.Fatal(err)
				}
				if got := grantSet(out.Grants); strings.Join(got, ",") != strings.Join(wantGrants[want], ",") || aws.ToString(out.Owner.ID) != "root" {
					t.Fatalf("GetBucketAcl after %s: %v owner %v", want, got, aws.ToString(out.Owner.ID))
				}
				info, err := ts.store.GetBucket(bg, objstore.Principal{Name: "root"}, b)
				if err != nil || info.ACL != want {
					t.Fatalf("store ACL %q %v, want %q", info.ACL, err, want)
				}
			}
			check(string(acl))
			for _, next := range []types.BucketCannedACL{types.BucketCannedACLPublicReadWrite, types.BucketCannedACLPrivate, types.BucketCannedACLAuthenticatedRead} {
				if _, err := c.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: aws.String(b), ACL: next}); err != nil {
					t.Fatal(err)
				}
				check(string(next))
			}
			// The grants of public-read as a body are public-read.
			pol := &types.AccessControlPolicy{Owner: &types.Owner{ID: aws.String("root")}, Grants: []types.Grant{
				{Grantee: &types.Grantee{Type: types.TypeGroup, URI: aws.String(groupAllUsers)}, Permission: types.PermissionRead},
				{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String("root")}, Permission: types.PermissionFullControl},
			}}
			if _, err := c.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: aws.String(b), AccessControlPolicy: pol}); err != nil {
				t.Fatal(err)
			}
			check("public-read")
		})
	}
	// A grant list that is no canned ACL, and grant headers, are 501.
	odd := &types.AccessControlPolicy{Owner: &types.Owner{ID: aws.String("root")}, Grants: []types.Grant{
		{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String("someone")}, Permission: types.PermissionRead}}}
	_, err := c.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: aws.String("acl-a"), AccessControlPolicy: odd})
	if code, st := awsErr(err); code != "NotImplemented" || st != 501 {
		t.Fatalf("odd grants: %v", err)
	}
	_, err = c.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: aws.String("acl-a"), GrantRead: aws.String(`uri="` + groupAllUsers + `"`)})
	if code, st := awsErr(err); code != "NotImplemented" || st != 501 {
		t.Fatalf("grant header: %v", err)
	}
	_, err = c.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: aws.String("acl-a"), ACL: "bucket-owner-read"})
	if code, st := awsErr(err); code != "InvalidArgument" || st != 400 {
		t.Fatalf("object-only canned ACL on a bucket: %v", err)
	}
}

// TestAWSSDKObjectACLs: every canned object ACL on PutObject, PutObjectAcl
// and CreateMultipartUpload is kept; an object written without one is
// private; a copy is private or its request's ACL, never its source's.
func TestAWSSDKObjectACLs(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	const b = "objacl"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	getACL := func(t *testing.T, k string) string {
		t.Helper()
		out, err := c.GetObjectAcl(bg, &s3.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(grantSet(out.Grants), ",")
	}
	storeACL := func(t *testing.T, k string) string {
		t.Helper()
		info, err := ts.store.HeadObject(bg, objstore.Principal{Name: "root"}, b, k)
		if err != nil {
			t.Fatal(err)
		}
		return info.ACL
	}
	if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("none"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if got := getACL(t, "none"); got != strings.Join(wantGrants["private"], ",") {
		t.Fatalf("object without ACL: %s", got)
	}
	for _, acl := range types.ObjectCannedACLPrivate.Values() {
		t.Run(string(acl), func(t *testing.T) {
			k := "o-" + string(acl)
			if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader("x"), ACL: acl}); err != nil {
				t.Fatal(err)
			}
			if got, want := getACL(t, k), strings.Join(wantGrants[string(acl)], ","); got != want || storeACL(t, k) != string(acl) {
				t.Fatalf("PutObject %s: grants %s want %s, store %q", acl, got, want, storeACL(t, k))
			}
			// Copy: private unless the request names one.
			src := aws.String(b + "/" + k)
			if _, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(k + "-c"), CopySource: src}); err != nil {
				t.Fatal(err)
			}
			if got := getACL(t, k+"-c"); got != strings.Join(wantGrants["private"], ",") {
				t.Errorf("copy of a %s object: %s, want private", acl, got)
			}
			if _, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(k + "-c"), CopySource: src, ACL: types.ObjectCannedACLAuthenticatedRead}); err != nil {
				t.Fatal(err)
			}
			if storeACL(t, k+"-c") != "authenticated-read" {
				t.Errorf("copy with authenticated-read: %q", storeACL(t, k+"-c"))
			}
			if _, err := c.PutObjectAcl(bg, &s3.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String(k), ACL: types.ObjectCannedACLPublicRead}); err != nil {
				t.Fatal(err)
			}
			if storeACL(t, k) != "public-read" {
				t.Errorf("after PutObjectAcl public-read: %q", storeACL(t, k))
			}
			up, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(k + "-mp"), ACL: acl})
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String(k + "-mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("abc")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(k + "-mp"), UploadId: up.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}}); err != nil {
				t.Fatal(err)
			}
			if storeACL(t, k+"-mp") != string(acl) {
				t.Errorf("multipart with %s: %q", acl, storeACL(t, k+"-mp"))
			}
		})
	}
	_, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad"), Body: strings.NewReader("x"), ACL: "log-delivery-write"})
	if code, st := awsErr(err); code != "InvalidArgument" || st != 400 {
		t.Fatalf("bucket-only canned ACL on an object: %v", err)
	}
	_, err = c.GetObjectAcl(bg, &s3.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String("nosuch")})
	if code, st := awsErr(err); code != "NoSuchKey" || st != 404 {
		t.Fatalf("GetObjectAcl of a missing key: %v", err)
	}
}

// TestAWSSDKObjectTagging: x-amz-tagging on PutObject, the tagging count
// on HEAD, Put/Get/DeleteObjectTagging, the tagging directive on copy
// and S3's limits (InvalidTag).
func TestAWSSDKObjectTagging(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	const b = "tagging"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("src"), Body: strings.NewReader("data"),
		Tagging: aws.String("k1=v%201&k2=a%40b")}); err != nil {
		t.Fatal(err)
	}
	tagsOf := func(t *testing.T, k string) string {
		t.Helper()
		out, err := c.GetObjectTagging(bg, &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, tg := range out.TagSet {
			s = append(s, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return strings.Join(s, "&")
	}
	if got := tagsOf(t, "src"); got != "k1=v 1&k2=a@b" {
		t.Fatalf("tags %q", got)
	}
	h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("src")})
	if err != nil || h.TagCount == nil || *h.TagCount != 2 {
		t.Fatalf("HEAD tag count %v %v", h.TagCount, err)
	}
	for _, cs := range []struct {
		name      string
		directive types.TaggingDirective
		tagging   *string
		want      string
	}{
		{"default copies", "", nil, "k1=v 1&k2=a@b"},
		{"COPY ignores x-amz-tagging", types.TaggingDirectiveCopy, aws.String("n=1"), "k1=v 1&k2=a@b"},
		{"REPLACE", types.TaggingDirectiveReplace, aws.String("n=1"), "n=1"},
		{"REPLACE without tags", types.TaggingDirectiveReplace, nil, ""},
	} {
		t.Run(cs.name, func(t *testing.T) {
			if _, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("dst"), CopySource: aws.String(b + "/src"),
				TaggingDirective: cs.directive, Tagging: cs.tagging}); err != nil {
				t.Fatal(err)
			}
			if got := tagsOf(t, "dst"); got != cs.want {
				t.Fatalf("tags %q, want %q", got, cs.want)
			}
		})
	}
	if _, err := c.PutObjectTagging(bg, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("src"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("only"), Value: aws.String("")}}}}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, "src"); got != "only=" {
		t.Fatalf("after PutObjectTagging %q", got)
	}
	if _, err := c.DeleteObjectTagging(bg, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, "src"); got != "" {
		t.Fatalf("after DeleteObjectTagging %q", got)
	}
	many := make([]types.Tag, 11)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(string(rune('a' + i))), Value: aws.String("v")}
	}
	for _, cs := range []struct {
		name string
		tags []types.Tag
	}{
		{"eleven", many},
		{"key 129", []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}},
		{"value 257", []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}},
		{"duplicate", []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}},
		{"aws: prefix", []types.Tag{{Key: aws.String("aws:k"), Value: aws.String("1")}}},
		{"bad character", []types.Tag{{Key: aws.String("k&"), Value: aws.String("1")}}},
	} {
		t.Run(cs.name, func(t *testing.T) {
			_, err := c.PutObjectTagging(bg, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("src"), Tagging: &types.Tagging{TagSet: cs.tags}})
			if code, st := awsErr(err); code != "InvalidTag" || st != 400 {
				t.Fatalf("got %v, want 400 InvalidTag", err)
			}
		})
	}
	if _, err := c.PutObjectTagging(bg, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("src"), Tagging: &types.Tagging{TagSet: many[:10]}}); err != nil {
		t.Fatalf("ten tags: %v", err)
	}
	_, err = c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("x"), Body: strings.NewReader("x"),
		Tagging: aws.String(strings.Repeat("k", 129) + "=v")})
	if code, st := awsErr(err); code != "InvalidTag" || st != 400 {
		t.Fatalf("x-amz-tagging with a long key: %v", err)
	}
}

// TestMinioTaggingAndCopyReencrypt: minio-go's tagging calls, and a copy
// onto itself that re-encrypts keeps the object's tags and makes it
// private again (S3: a copy never keeps the ACL).
func TestMinioTaggingAndCopyReencrypt(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	const b = "mtags"
	if err := c.MakeBucket(bg, b, minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("z"), 1000)
	if _, err := c.PutObject(bg, b, "k", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{UserTags: map[string]string{"team": "audit"}}); err != nil {
		t.Fatal(err)
	}
	aw := ts.awsClient(t, rootAK, rootSK)
	if _, err := aw.PutObjectAcl(bg, &s3.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("k"), ACL: types.ObjectCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	tg, err := tags.NewTags(map[string]string{"team": "audit", "x": "y"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutObjectTagging(bg, b, "k", tg, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = aw.CopyObject(bg, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("k"), CopySource: aws.String(b + "/k"),
		ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObjectTagging(bg, b, "k", minio.GetObjectTaggingOptions{})
	if err != nil || len(got.ToMap()) != 2 || got.ToMap()["x"] != "y" {
		t.Fatalf("tags after re-encryption %v %v", got, err)
	}
	info, err := ts.store.HeadObject(bg, objstore.Principal{Name: "root"}, b, "k")
	if err != nil || info.SSE.Algorithm != objstore.AlgorithmAES256 || info.ACL != objstore.ACLDefault {
		t.Fatalf("after re-encryption: SSE %q ACL %q %v", info.SSE.Algorithm, info.ACL, err)
	}
	obj, err := c.GetObject(bg, b, "k", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(obj); !bytes.Equal(body, data) {
		t.Fatal("bytes changed")
	}
	if err := c.RemoveObjectTagging(bg, b, "k", minio.RemoveObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetObjectTagging(bg, b, "k", minio.GetObjectTaggingOptions{}); err != nil || len(got.ToMap()) != 0 {
		t.Fatalf("after RemoveObjectTagging %v %v", got, err)
	}
}
