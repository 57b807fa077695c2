package s3http

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// awsErr returns the error code and HTTP status of an SDK error.
func awsErr(err error) (string, int) {
	if err == nil {
		return "", 0
	}
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func awsGet(t *testing.T, c *s3.Client, bucket, key string, rng string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := c.GetObject(bg, in)
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out, b
}

// TestAWSSDKEndToEnd drives the AWS SDK for Go v2 with its default
// (when_supported) checksum behaviour: CRC32 headers and a signed payload
// hash over plain HTTP.
func TestAWSSDKEndToEnd(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	keyID := ts.createKey(t)
	const b = "aws-sdk"
	_, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(testRegion)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("elsewhere"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}})
	if code, st := awsErr(err); code != "IllegalLocationConstraintException" || st != 400 {
		t.Fatalf("CreateBucket in another region: %v", err)
	}
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); func() bool {
		code, st := awsErr(err)
		return code != "BucketAlreadyOwnedByYou" || st != 409
	}() {
		t.Fatalf("CreateBucket twice: %v", err)
	}
	loc, err := c.GetBucketLocation(bg, &s3.GetBucketLocationInput{Bucket: aws.String(b)})
	if err != nil || string(loc.LocationConstraint) != testRegion {
		t.Fatalf("GetBucketLocation = %v, %v", loc, err)
	}
	lb, err := c.ListBuckets(bg, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != b {
		t.Fatalf("ListBuckets = %+v, %v", lb, err)
	}

	_, err = c.PutBucketEncryption(bg, &s3.PutBucketEncryptionInput{Bucket: aws.String(b),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
				SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(keyID)},
			BucketKeyEnabled: aws.Bool(true),
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	ge, err := c.GetBucketEncryption(bg, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	r := ge.ServerSideEncryptionConfiguration.Rules
	if len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAwsKms ||
		aws.ToString(r[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != keyID {
		t.Fatalf("GetBucketEncryption = %+v", r)
	}

	data := pattern(150_000, 6)
	po, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("dir/obj"), Body: bytes.NewReader(data),
		ContentType: aws.String("text/x-test"), Metadata: map[string]string{"owner": "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if po.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(po.SSEKMSKeyId) != ts.keyARN(keyID) {
		t.Fatalf("PutObject SSE = %q %q", po.ServerSideEncryption, aws.ToString(po.SSEKMSKeyId))
	}
	if aws.ToString(po.ChecksumCRC32) == "" {
		t.Fatal("PutObject response does not echo the verified CRC32")
	}
	ho, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("dir/obj")})
	if err != nil {
		t.Fatal(err)
	}
	if ho.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(ho.SSEKMSKeyId) != ts.keyARN(keyID) ||
		aws.ToInt64(ho.ContentLength) != int64(len(data)) || ho.Metadata["owner"] != "alice" || aws.ToString(ho.ContentType) != "text/x-test" {
		t.Fatalf("HeadObject = %+v", ho)
	}
	gout, got := awsGet(t, c, b, "dir/obj", "")
	if !bytes.Equal(got, data) || gout.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(gout.SSEKMSKeyId) != ts.keyARN(keyID) {
		t.Fatalf("GetObject: %d bytes, SSE %q %q", len(got), gout.ServerSideEncryption, aws.ToString(gout.SSEKMSKeyId))
	}
	gout, got = awsGet(t, c, b, "dir/obj", "bytes=-100")
	if !bytes.Equal(got, data[len(data)-100:]) || aws.ToString(gout.ContentRange) != "bytes 149900-149999/150000" {
		t.Fatalf("suffix range: %d bytes, Content-Range %q", len(got), aws.ToString(gout.ContentRange))
	}
	_, err = c.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dir/obj"), Range: aws.String("bytes=150000-")})
	if code, st := awsErr(err); code != "InvalidRange" || st != 416 {
		t.Fatalf("unsatisfiable range: %v", err)
	}
	_, err = c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("missing")})
	if _, st := awsErr(err); st != 404 {
		t.Fatalf("HeadObject of a missing key: %v", err)
	}
	_, err = c.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("missing")})
	if code, st := awsErr(err); code != "NoSuchKey" || st != 404 {
		t.Fatalf("GetObject of a missing key: %v", err)
	}
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("GetObject of a missing key is not *types.NoSuchKey: %T", err)
	}

	// CopyObject in place to SSE-S3, and to a new key with REPLACE.
	co, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("dir/obj"),
		CopySource: aws.String(b + "/dir/obj"), ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		t.Fatal(err)
	}
	if co.ServerSideEncryption != types.ServerSideEncryptionAes256 || co.CopyObjectResult == nil || aws.ToString(co.CopyObjectResult.ETag) == "" {
		t.Fatalf("CopyObject = %+v", co)
	}
	co, err = c.CopyObject(bg, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy of obj"),
		CopySource: aws.String(b + "/dir%2Fobj"), MetadataDirective: types.MetadataDirectiveReplace,
		Metadata: map[string]string{"owner": "bob"}, ContentType: aws.String("text/plain")})
	if err != nil {
		t.Fatal(err)
	}
	if co.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
		t.Fatalf("copy to a new key did not get the bucket default: %q", co.ServerSideEncryption)
	}
	ho, err = c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("copy of obj")})
	if err != nil || ho.Metadata["owner"] != "bob" || aws.ToString(ho.ContentType) != "text/plain" {
		t.Fatalf("REPLACE copy: %+v, %v", ho, err)
	}
	if _, got := awsGet(t, c, b, "dir/obj", ""); !bytes.Equal(got, data) {
		t.Fatal("in-place copy changed the content")
	}

	// Multipart upload with SSE-KMS, parts out of order.
	mp, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(keyID)})
	if err != nil {
		t.Fatal(err)
	}
	if mp.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(mp.SSEKMSKeyId) != ts.keyARN(keyID) {
		t.Fatalf("CreateMultipartUpload SSE = %q %q", mp.ServerSideEncryption, aws.ToString(mp.SSEKMSKeyId))
	}
	p1, p2 := pattern(5<<20, 7), pattern(1234, 8)
	up2, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId,
		PartNumber: aws.Int32(2), Body: bytes.NewReader(p2)})
	if err != nil {
		t.Fatal(err)
	}
	up1, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(p1)})
	if err != nil {
		t.Fatal(err)
	}
	if up1.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(up1.SSEKMSKeyId) != ts.keyARN(keyID) {
		t.Fatalf("UploadPart SSE = %q %q", up1.ServerSideEncryption, aws.ToString(up1.SSEKMSKeyId))
	}
	lp, err := c.ListParts(bg, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId})
	if err != nil || len(lp.Parts) != 2 || aws.ToInt32(lp.Parts[0].PartNumber) != 1 || aws.ToInt64(lp.Parts[1].Size) != 1234 {
		t.Fatalf("ListParts = %+v, %v", lp, err)
	}
	lu, err := c.ListMultipartUploads(bg, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(mp.UploadId) {
		t.Fatalf("ListMultipartUploads = %+v, %v", lu, err)
	}
	// Wrong order first: InvalidPartOrder.
	_, err = c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(2), ETag: up2.ETag}, {PartNumber: aws.Int32(1), ETag: up1.ETag}}}})
	if code, st := awsErr(err); code != "InvalidPartOrder" || st != 400 {
		t.Fatalf("Complete with parts out of order: %v", err)
	}
	cm, err := c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: up1.ETag}, {PartNumber: aws.Int32(2), ETag: up2.ETag}}}})
	if err != nil {
		t.Fatal(err)
	}
	if cm.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(cm.SSEKMSKeyId) != ts.keyARN(keyID) || !strings.HasSuffix(aws.ToString(cm.ETag), `-2"`) {
		t.Fatalf("Complete = SSE %q key %q ETag %s", cm.ServerSideEncryption, aws.ToString(cm.SSEKMSKeyId), aws.ToString(cm.ETag))
	}
	if _, got := awsGet(t, c, b, "mp", ""); !bytes.Equal(got, append(append([]byte{}, p1...), p2...)) {
		t.Fatal("multipart object has other content")
	}
	// A too-small first part and an aborted upload.
	mp2, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("small")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i := int32(1); i <= 2; i++ {
		u, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: mp2.UploadId,
			PartNumber: aws.Int32(i), Body: bytes.NewReader(p2)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(i), ETag: u.ETag})
	}
	_, err = c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: mp2.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if code, st := awsErr(err); code != "EntityTooSmall" || st != 400 {
		t.Fatalf("Complete with a small first part: %v", err)
	}
	if _, err := c.AbortMultipartUpload(bg, &s3.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: mp2.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("small"), UploadId: mp2.UploadId,
		PartNumber: aws.Int32(3), Body: bytes.NewReader(p2)})
	if code, st := awsErr(err); code != "NoSuchUpload" || st != 404 {
		t.Fatalf("UploadPart after abort: %v", err)
	}

	// ListObjectsV2 pagination.
	var keys []string
	pg := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(1)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(bg)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	if strings.Join(keys, "|") != "copy of obj|dir/obj|mp" {
		t.Fatalf("ListObjectsV2 pages: %q", keys)
	}

	l2, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String(b), StartAfter: aws.String("copy of obj"), FetchOwner: aws.Bool(true)})
	if err != nil || len(l2.Contents) != 2 || aws.ToString(l2.Contents[0].Key) != "dir/obj" || l2.Contents[0].Owner == nil ||
		aws.ToString(l2.StartAfter) != "copy of obj" || aws.ToInt32(l2.KeyCount) != 2 {
		t.Fatalf("ListObjectsV2 start-after = %+v, %v", l2, err)
	}
	l2, err = c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String(b), Delimiter: aws.String("/")})
	if err != nil || len(l2.CommonPrefixes) != 1 || aws.ToString(l2.CommonPrefixes[0].Prefix) != "dir/" || len(l2.Contents) != 2 {
		t.Fatalf("ListObjectsV2 delimiter = %+v, %v", l2, err)
	}
	l1, err := c.ListObjects(bg, &s3.ListObjectsInput{Bucket: aws.String(b), MaxKeys: aws.Int32(2)})
	if err != nil || len(l1.Contents) != 2 || !aws.ToBool(l1.IsTruncated) || aws.ToString(l1.NextMarker) != "dir/obj" ||
		aws.ToString(l1.Contents[1].ETag) == "" || aws.ToInt64(l1.Contents[1].Size) != int64(len(data)) {
		t.Fatalf("ListObjects v1 = %+v, %v", l1, err)
	}

	// DeleteObjects, quiet and not.
	do, err := c.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("dir/obj")}, {Key: aws.String("copy of obj")}, {Key: aws.String("never")}}}})
	if err != nil || len(do.Deleted) != 3 || len(do.Errors) != 0 {
		t.Fatalf("DeleteObjects = %+v, %v", do, err)
	}
	do, err = c.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Quiet: aws.Bool(true),
		Objects: []types.ObjectIdentifier{{Key: aws.String("mp")}}}})
	if err != nil || len(do.Deleted) != 0 || len(do.Errors) != 0 {
		t.Fatalf("quiet DeleteObjects = %+v, %v", do, err)
	}
	if _, err := c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("mp")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucketEncryption(bg, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketEncryption(bg, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
	if code, st := awsErr(err); code != "ServerSideEncryptionConfigurationNotFoundError" || st != 404 {
		t.Fatalf("GetBucketEncryption after delete: %v", err)
	}
	if _, err := c.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String(b)})
	if _, st := awsErr(err); st != 404 {
		t.Fatalf("HeadBucket after delete: %v", err)
	}
}

// TestAWSSDKOverTLSUsesTrailingChecksum: over HTTPS the SDK sends
// aws-chunked bodies with STREAMING-UNSIGNED-PAYLOAD-TRAILER and a CRC32
// trailer by default.
func TestAWSSDKOverTLSUsesTrailingChecksum(t *testing.T) {
	ts := newTestServer(t, withTLS())
	var seen []string
	c := ts.awsClient(t, rootAK, rootSK)
	c = s3.New(c.Options(), func(o *s3.Options) {
		o.HTTPClient = &recordingClient{c: &http.Client{Transport: ts.loopbackTransport()}, seen: &seen}
	})
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("tls")}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 70_000, 300_000} {
		data := pattern(n, 9)
		key := "obj-" + strings.Repeat("x", n%7)
		_, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String("tls"), Key: aws.String(key), Body: bytes.NewReader(data),
			ServerSideEncryption: types.ServerSideEncryptionAes256})
		if err != nil {
			t.Fatalf("PutObject %d bytes: %v", n, err)
		}
		out, got := awsGet(t, c, "tls", key, "")
		if !bytes.Equal(got, data) || out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("%d bytes: read %d, SSE %q", n, len(got), out.ServerSideEncryption)
		}
	}
	if !strings.Contains(strings.Join(seen, "\n"), streamingUnsignedTrailer) {
		t.Fatalf("the SDK never used %s over TLS; payload modes seen: %q", streamingUnsignedTrailer, seen)
	}
}

type recordingClient struct {
	c    *http.Client
	seen *[]string
}

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut {
		*r.seen = append(*r.seen, req.Header.Get("X-Amz-Content-Sha256"))
	}
	return r.c.Do(req)
}

// TestAWSSDKPresign: the SDK's presigned GET and PUT URLs work, with the
// SSE header signed into the PUT.
func TestAWSSDKPresign(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("pre")}); err != nil {
		t.Fatal(err)
	}
	ps := s3.NewPresignClient(c)
	put, err := ps.PresignPutObject(bg, &s3.PutObjectInput{Bucket: aws.String("pre"), Key: aws.String("k"),
		ServerSideEncryption: types.ServerSideEncryptionAes256}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(put.Method, put.URL, strings.NewReader("presigned body"))
	for k, v := range put.SignedHeader {
		if !strings.EqualFold(k, "host") {
			req.Header[k] = v
		}
	}
	resp := ts.do(t, req)
	if resp.status != 200 || resp.header.Get("X-Amz-Server-Side-Encryption") != "AES256" {
		t.Fatalf("presigned PUT: %d %s", resp.status, resp.body)
	}
	get, err := ps.PresignGetObject(bg, &s3.GetObjectInput{Bucket: aws.String("pre"), Key: aws.String("k")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest(http.MethodGet, get.URL, nil)
	resp = ts.do(t, req)
	if resp.status != 200 || string(resp.body) != "presigned body" {
		t.Fatalf("presigned GET: %d %q", resp.status, resp.body)
	}
}
