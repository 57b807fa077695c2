package s3http

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// TestMinioVersioning walks the case sseaudit --versions exists for with
// minio-go: an object re-encrypted by copying it onto itself leaves its
// plaintext original as a noncurrent version, which HEAD with versionId
// still reports unencrypted.
func TestMinioVersioning(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	const b = "minio-versions"
	if err := c.MakeBucket(bg, b, minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	if vc, err := c.GetBucketVersioning(bg, b); err != nil || vc.Status != "" {
		t.Fatalf("fresh bucket versioning %+v %v", vc, err)
	}
	if err := c.EnableVersioning(bg, b); err != nil {
		t.Fatal(err)
	}
	if vc, err := c.GetBucketVersioning(bg, b); err != nil || !vc.Enabled() {
		t.Fatalf("versioning %+v %v", vc, err)
	}
	v1, err := c.PutObject(bg, b, "doc", bytes.NewReader([]byte("v1 plain")), 8, minio.PutObjectOptions{})
	if err != nil || v1.VersionID == "" {
		t.Fatalf("put v1: %+v %v", v1, err)
	}
	v2, err := c.CopyObject(bg, minio.CopyDestOptions{Bucket: b, Object: "doc", Encryption: encrypt.NewSSE()},
		minio.CopySrcOptions{Bucket: b, Object: "doc"})
	if err != nil || v2.VersionID == "" || v2.VersionID == v1.VersionID {
		t.Fatalf("copy onto itself: %+v %v", v2, err)
	}
	st1, err := c.StatObject(bg, b, "doc", minio.StatObjectOptions{VersionID: v1.VersionID})
	if err != nil || st1.VersionID != v1.VersionID || st1.Metadata.Get("X-Amz-Server-Side-Encryption") != "" {
		t.Fatalf("stat v1: %+v %v", st1.Metadata, err)
	}
	st2, err := c.StatObject(bg, b, "doc", minio.StatObjectOptions{})
	if err != nil || st2.VersionID != v2.VersionID || st2.Metadata.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("stat current: %+v %v", st2.Metadata, err)
	}
	o, err := c.GetObject(bg, b, "doc", minio.GetObjectOptions{VersionID: v1.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(o); string(got) != "v1 plain" {
		t.Fatalf("v1 reads %q", got)
	}
	for i := range 3 {
		if _, err := c.PutObject(bg, b, "k"+string(rune('a'+i)), bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RemoveObject(bg, b, "ka", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StatObject(bg, b, "ka", minio.StatObjectOptions{})
	if minioStatus(err) != http.StatusNotFound {
		t.Fatalf("stat of deleted key: %v", err)
	}
	var got []string
	for ob := range c.ListObjects(bg, b, minio.ListObjectsOptions{WithVersions: true, Recursive: true, MaxKeys: 1}) {
		if ob.Err != nil {
			t.Fatal(ob.Err)
		}
		tag := ob.Key
		if ob.IsDeleteMarker {
			tag += "(marker)"
		}
		if ob.IsLatest {
			tag += "*"
		}
		got = append(got, tag)
	}
	want := []string{"doc*", "doc", "ka(marker)*", "ka", "kb*", "kc*"}
	if !slices.Equal(got, want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	var plain []string
	for ob := range c.ListObjects(bg, b, minio.ListObjectsOptions{Recursive: true}) {
		plain = append(plain, ob.Key)
	}
	if !slices.Equal(plain, []string{"doc", "kb", "kc"}) {
		t.Fatalf("plain listing %v", plain)
	}
	if err := c.RemoveBucket(bg, b); minioCode(err) != "BucketNotEmpty" {
		t.Fatalf("RemoveBucket: %v", err)
	}
	// Suspended: writes are the null version and replace each other.
	if err := c.SuspendVersioning(bg, b); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"n1", "n2"} {
		info, err := c.PutObject(bg, b, "kb", bytes.NewReader([]byte(body)), 2, minio.PutObjectOptions{})
		if err != nil || info.VersionID != "null" {
			t.Fatalf("suspended put: %+v %v", info, err)
		}
	}
	n := 0
	for ob := range c.ListObjects(bg, b, minio.ListObjectsOptions{WithVersions: true, Prefix: "kb"}) {
		if ob.Err != nil {
			t.Fatal(ob.Err)
		}
		n++
	}
	if n != 2 { // the Enabled-era version and one null version
		t.Fatalf("%d versions of kb", n)
	}
	// Remove everything, version by version, then the bucket goes.
	for ob := range c.ListObjects(bg, b, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if err := c.RemoveObject(bg, b, ob.Key, minio.RemoveObjectOptions{VersionID: ob.VersionID}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RemoveBucket(bg, b); err != nil {
		t.Fatal(err)
	}
}

// TestAWSVersioning covers the AWS SDK for Go v2: versioning
// configuration, versioned writes, delete markers and their errors,
// ListObjectVersions paging and DeleteObjects with version ids.
func TestAWSVersioning(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	b := aws.String("aws-versions")
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	gv, err := c.GetBucketVersioning(bg, &s3.GetBucketVersioningInput{Bucket: b})
	if err != nil || gv.Status != "" {
		t.Fatalf("fresh bucket: %+v %v", gv, err)
	}
	_, err = c.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: "Sometimes"}})
	if code := apiCode(err); code != "MalformedXML" {
		t.Fatalf("invalid status: %v", err)
	}
	if _, err := c.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	gv, err = c.GetBucketVersioning(bg, &s3.GetBucketVersioningInput{Bucket: b})
	if err != nil || gv.Status != s3types.BucketVersioningStatusEnabled {
		t.Fatalf("versioning: %+v %v", gv, err)
	}
	p1, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: bytes.NewReader([]byte("one"))})
	if err != nil || aws.ToString(p1.VersionId) == "" {
		t.Fatalf("put: %+v %v", p1, err)
	}
	p2, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: bytes.NewReader([]byte("two")),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256})
	if err != nil {
		t.Fatal(err)
	}
	h1, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: b, Key: aws.String("k"), VersionId: p1.VersionId})
	if err != nil || h1.ServerSideEncryption != "" || aws.ToString(h1.VersionId) != aws.ToString(p1.VersionId) {
		t.Fatalf("head v1: %+v %v", h1, err)
	}
	del, err := c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	_, err = c.GetObject(bg, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")})
	if apiCode(err) != "NoSuchKey" {
		t.Fatalf("get of deleted key: %v", err)
	}
	_, err = c.GetObject(bg, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), VersionId: del.VersionId})
	if apiCode(err) != "MethodNotAllowed" {
		t.Fatalf("get of a delete marker: %v", err)
	}
	_, err = c.GetObject(bg, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String("0000000000000fff0000000000000000")})
	if apiCode(err) != "NoSuchVersion" {
		t.Fatalf("get of an unknown version: %v", err)
	}
	_, err = c.GetObject(bg, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String("not-a-version")})
	if apiCode(err) != "NoSuchVersion" {
		t.Fatalf("get of a version of another form: %v", err)
	}
	g2, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), VersionId: p2.VersionId})
	if err != nil || g2.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		t.Fatalf("get v2: %v", err)
	}
	if body, _ := io.ReadAll(g2.Body); string(body) != "two" {
		t.Fatalf("v2 reads %q", body)
	}
	g2.Body.Close()
	for _, k := range []string{"a/1", "a/2", "z"} {
		for range 2 {
			if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: b, Key: aws.String(k), Body: bytes.NewReader(nil)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Page by hand with MaxKeys 2, as the SDK's users do.
	var entries []string
	in := &s3.ListObjectVersionsInput{Bucket: b, MaxKeys: aws.Int32(2)}
	for pages := 0; ; pages++ {
		out, err := c.ListObjectVersions(bg, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			entries = append(entries, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
		}
		for _, d := range out.DeleteMarkers {
			entries = append(entries, aws.ToString(d.Key)+"@"+aws.ToString(d.VersionId)+"(marker)")
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		if pages > 20 {
			t.Fatal("listing does not end")
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	if len(entries) != 9 || !slices.Contains(entries, "k@"+aws.ToString(del.VersionId)+"(marker)") {
		t.Fatalf("listing %v", entries)
	}
	dl, err := c.ListObjectVersions(bg, &s3.ListObjectVersionsInput{Bucket: b, Delimiter: aws.String("/"), EncodingType: s3types.EncodingTypeUrl})
	if err != nil || len(dl.CommonPrefixes) != 1 || aws.ToString(dl.CommonPrefixes[0].Prefix) != "a/" || len(dl.Versions) != 4 {
		t.Fatalf("delimited listing %+v %v", dl, err)
	}
	// DeleteObjects with version ids removes versions for good, and
	// without one adds a marker.
	var objs []s3types.ObjectIdentifier
	for _, v := range dl.Versions {
		if aws.ToString(v.Key) == "z" {
			objs = append(objs, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
	}
	objs = append(objs, s3types.ObjectIdentifier{Key: aws.String("a/1")})
	dr, err := c.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: b, Delete: &s3types.Delete{Objects: objs}})
	if err != nil || len(dr.Deleted) != 3 || len(dr.Errors) != 0 {
		t.Fatalf("DeleteObjects: %+v %v", dr, err)
	}
	if d := dr.Deleted[2]; !aws.ToBool(d.DeleteMarker) || aws.ToString(d.DeleteMarkerVersionId) == "" {
		t.Fatalf("delete without version: %+v", d)
	}
	if _, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: b, Key: aws.String("z")}); err == nil {
		t.Fatal("z survives the removal of all its versions")
	}
	_, err = c.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: b})
	if apiCode(err) != "BucketNotEmpty" {
		t.Fatalf("DeleteBucket: %v", err)
	}
}

func apiCode(err error) string {
	code, _ := awsErr(err)
	return code
}

// TestObjectLockRefused: a bucket cannot be created claiming Object Lock,
// which the reference does not implement, and nothing is left behind.
func TestObjectLockRefused(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rootMinio(t)
	err := c.MakeBucket(bg, "locked", minio.MakeBucketOptions{Region: testRegion, ObjectLocking: true})
	if minioCode(err) != "NotImplemented" || minioStatus(err) != 501 {
		t.Fatalf("MakeBucket with Object Lock: %v, want 501 NotImplemented", err)
	}
	if ok, err := c.BucketExists(bg, "locked"); err != nil || ok {
		t.Fatalf("BucketExists after the refusal = %v, %v", ok, err)
	}
}
