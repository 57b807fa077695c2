package s3http

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// TestAWSSDKChecksums: the AWS SDK for Go v2 sends CRC32 checksums by
// default; those, and the algorithms it is asked for, are verified, kept
// and reported back where the SDK reads them.
func TestAWSSDKChecksums(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	b := aws.String("awscks")
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	data := pattern(50_000, 1)
	po, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: b, Key: aws.String("default"), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(po.ChecksumCRC32) != csum(t, minio.ChecksumCRC32, data) || po.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("PutObject checksum %q %q", aws.ToString(po.ChecksumCRC32), po.ChecksumType)
	}
	// GetObject with checksum mode: the SDK validates the body against it.
	g, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: b, Key: aws.String("default"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(g.Body)
	g.Body.Close()
	if err != nil || !bytes.Equal(got, data) || aws.ToString(g.ChecksumCRC32) != csum(t, minio.ChecksumCRC32, data) {
		t.Fatalf("GetObject: %v, checksum %q", err, aws.ToString(g.ChecksumCRC32))
	}
	h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: b, Key: aws.String("default"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || h.ChecksumType != types.ChecksumTypeFullObject || aws.ToString(h.ChecksumCRC32) == "" {
		t.Fatalf("HeadObject checksum %q %q, %v", aws.ToString(h.ChecksumCRC32), h.ChecksumType, err)
	}
	po, err = c.PutObject(bg, &s3.PutObjectInput{Bucket: b, Key: aws.String("sha"), Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil || aws.ToString(po.ChecksumSHA256) != csum(t, minio.ChecksumSHA256, data) || aws.ToString(po.ChecksumCRC32) != "" {
		t.Fatalf("PutObject SHA256: %q / %q, %v", aws.ToString(po.ChecksumSHA256), aws.ToString(po.ChecksumCRC32), err)
	}
	cp, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String("awscks/sha"),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha1})
	if err != nil || aws.ToString(cp.CopyObjectResult.ChecksumSHA1) != csum(t, minio.ChecksumSHA1, data) || cp.CopyObjectResult.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("CopyObject SHA1: %+v, %v", cp.CopyObjectResult, err)
	}

	p1, p2 := pattern(5<<20, 2), pattern(7000, 3)
	for _, tc := range []struct {
		name      string
		alg       types.ChecksumAlgorithm
		typ       types.ChecksumType
		listBad   bool
		wantType  types.ChecksumType
		wantValue string
		value     func(*types.CompletedMultipartUpload, *s3.CompleteMultipartUploadOutput) string
	}{
		{name: "composite CRC32", alg: types.ChecksumAlgorithmCrc32, wantType: types.ChecksumTypeComposite,
			wantValue: compositeSum(minio.ChecksumCRC32, p1, p2)},
		{name: "full-object CRC32C", alg: types.ChecksumAlgorithmCrc32c, typ: types.ChecksumTypeFullObject, wantType: types.ChecksumTypeFullObject,
			wantValue: csum(t, minio.ChecksumCRC32C, append(append([]byte{}, p1...), p2...))},
		// No algorithm: the SDK still sends CRC32 per part, which is kept
		// so that the CRC32s it lists on completion can be checked.
		{name: "default with listed CRC32s", wantType: types.ChecksumTypeFullObject,
			wantValue: csum(t, minio.ChecksumCRC64NVME, append(append([]byte{}, p1...), p2...))},
		{name: "default with a wrong CRC32 listed", listBad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := aws.String(strings.ReplaceAll(tc.name, " ", "-"))
			mp, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: b, Key: key, ChecksumAlgorithm: tc.alg, ChecksumType: tc.typ})
			if err != nil {
				t.Fatal(err)
			}
			var done types.CompletedMultipartUpload
			for i, p := range [][]byte{p1, p2} {
				alg := tc.alg
				if alg == "" {
					alg = types.ChecksumAlgorithmCrc32
				}
				up, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: b, Key: key, UploadId: mp.UploadId, PartNumber: aws.Int32(int32(i + 1)),
					Body: bytes.NewReader(p), ChecksumAlgorithm: alg})
				if err != nil {
					t.Fatal(err)
				}
				cp := types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32, ChecksumCRC32C: up.ChecksumCRC32C}
				if tc.listBad && i == 1 {
					cp.ChecksumCRC32 = aws.String(csum(t, minio.ChecksumCRC32, p1))
				}
				if aws.ToString(cp.ChecksumCRC32) == "" && aws.ToString(cp.ChecksumCRC32C) == "" {
					t.Fatalf("part %d answered no checksum", i+1)
				}
				done.Parts = append(done.Parts, cp)
			}
			in := &s3.CompleteMultipartUploadInput{Bucket: b, Key: key, UploadId: mp.UploadId, MultipartUpload: &done, ChecksumType: tc.typ}
			if tc.typ == types.ChecksumTypeFullObject {
				in.ChecksumCRC32C = aws.String(tc.wantValue)
			}
			cm, err := c.CompleteMultipartUpload(bg, in)
			if tc.listBad {
				if code, st := awsErr(err); code != "InvalidPart" || st != 400 {
					t.Fatalf("Complete with a wrong part checksum: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gotValue := checksumOf(aws.ToString(cm.ChecksumCRC32), aws.ToString(cm.ChecksumCRC32C), aws.ToString(cm.ChecksumCRC64NVME))
			if gotValue != tc.wantValue || cm.ChecksumType != tc.wantType {
				t.Fatalf("Complete checksum %q %q, want %q %q", gotValue, cm.ChecksumType, tc.wantValue, tc.wantType)
			}
			g, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: b, Key: key, ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(g.Body)
			g.Body.Close()
			if err != nil || len(got) != len(p1)+len(p2) || g.ChecksumType != tc.wantType {
				t.Fatalf("GetObject: %v, %d bytes, type %q", err, len(got), g.ChecksumType)
			}
		})
	}
}

// TestStorageClasses: the S3 classes are kept and reported on HEAD, GET
// and in listings (STANDARD only implied); others are refused.
func TestStorageClasses(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	b := aws.String("classes")
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	data := []byte("stored somewhere")
	classes := []types.StorageClass{"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
		"GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "EXPRESS_ONEZONE", "SNOW"}
	for _, sc := range classes {
		key := aws.String("o-" + string(sc))
		if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: b, Key: key, Body: bytes.NewReader(data), StorageClass: sc}); err != nil {
			t.Fatalf("%s: %v", sc, err)
		}
		want := sc
		if sc == "STANDARD" {
			want = "" // S3 leaves it out
		}
		h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: b, Key: key})
		if err != nil || h.StorageClass != want {
			t.Errorf("HEAD %s: class %q, %v", sc, h.StorageClass, err)
		}
		// Archive classes read without a restore here.
		if g, got := awsGet(t, c, "classes", *key, ""); g.StorageClass != want || !bytes.Equal(got, data) {
			t.Errorf("GET %s: class %q", sc, g.StorageClass)
		}
	}
	l, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("o-")})
	if err != nil || len(l.Contents) != len(classes) {
		t.Fatalf("list: %d, %v", len(l.Contents), err)
	}
	for _, o := range l.Contents {
		if string(o.StorageClass) != strings.TrimPrefix(aws.ToString(o.Key), "o-") {
			t.Errorf("listed %s as %q", aws.ToString(o.Key), o.StorageClass)
		}
	}
	for _, bad := range []string{"standard", "Archive", "COLD", "STANDARD,GLACIER"} {
		r := ts.raw(t, rawReq{method: "PUT", path: "/classes/bad", body: data, headers: map[string]string{"X-Amz-Storage-Class": bad}})
		if r.status != 400 || r.code != "InvalidStorageClass" {
			t.Errorf("class %q: %d %s", bad, r.status, r.code)
		}
	}
	if r := ts.raw(t, rawReq{method: "HEAD", path: "/classes/bad"}); r.status != 404 {
		t.Fatalf("refused class left an object: %d", r.status)
	}
	for _, tc := range []struct {
		name string
		sc   types.StorageClass
		want types.StorageClass
	}{
		{"copy without a class is STANDARD", "", ""},
		{"copy with a class", "DEEP_ARCHIVE", "DEEP_ARCHIVE"},
	} {
		if _, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String("classes/o-GLACIER"), StorageClass: tc.sc}); err != nil {
			t.Fatal(err)
		}
		if h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: b, Key: aws.String("copy")}); err != nil || h.StorageClass != tc.want {
			t.Errorf("%s: %q, %v", tc.name, h.StorageClass, err)
		}
	}
	// A copy onto itself that only changes the class is legal.
	if _, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: b, Key: aws.String("o-SNOW"), CopySource: aws.String("classes/o-SNOW"), StorageClass: "GLACIER_IR"}); err != nil {
		t.Fatal(err)
	}
	mp, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp"), StorageClass: "ONEZONE_IA"})
	if err != nil {
		t.Fatal(err)
	}
	lu, err := c.ListMultipartUploads(bg, &s3.ListMultipartUploadsInput{Bucket: b})
	if err != nil || len(lu.Uploads) != 1 || lu.Uploads[0].StorageClass != "ONEZONE_IA" {
		t.Fatalf("ListMultipartUploads: %+v, %v", lu.Uploads, err)
	}
	up, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: b, Key: aws.String("mp"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if lp, err := c.ListParts(bg, &s3.ListPartsInput{Bucket: b, Key: aws.String("mp"), UploadId: mp.UploadId}); err != nil || lp.StorageClass != "ONEZONE_IA" {
		t.Fatalf("ListParts class %q, %v", lp.StorageClass, err)
	}
	if _, err := c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: b, Key: aws.String("mp")}); err != nil || h.StorageClass != "ONEZONE_IA" {
		t.Fatalf("multipart class %q, %v", h.StorageClass, err)
	}
	// minio-go reads the class from the header, as mint does.
	mc := ts.rootMinio(t)
	st, err := mc.StatObject(bg, "classes", "o-REDUCED_REDUNDANCY", minio.StatObjectOptions{})
	if err != nil || st.Metadata.Get("X-Amz-Storage-Class") != "REDUCED_REDUNDANCY" {
		t.Fatalf("minio StatObject class %q, %v", st.Metadata.Get("X-Amz-Storage-Class"), err)
	}
	// A class written through OSS shows as the nearest S3 class.
	if _, err := ts.store.PutObject(bg, objstore.Principal{Name: "root"}, "classes", "oss", bytes.NewReader(data), int64(len(data)),
		objstore.PutOptions{StorageClass: "IA"}); err != nil {
		t.Fatal(err)
	}
	if h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: b, Key: aws.String("oss")}); err != nil || h.StorageClass != "STANDARD_IA" {
		t.Fatalf("OSS IA seen as %q, %v", h.StorageClass, err)
	}
}

// TestContentLanguage: Content-Language is kept through PUT, multipart and
// copy and returned on GET and HEAD.
func TestContentLanguage(t *testing.T) {
	ts := newTestServer(t)
	mc := ts.rootMinio(t)
	if err := mc.MakeBucket(bg, "lang", minio.MakeBucketOptions{Region: testRegion}); err != nil {
		t.Fatal(err)
	}
	small, big := []byte{}, pattern(5<<20+10, 4)
	for _, tc := range []struct {
		key  string
		data []byte
		opts minio.PutObjectOptions
	}{
		{"empty", small, minio.PutObjectOptions{ContentLanguage: "en"}},
		{"multipart", big, minio.PutObjectOptions{ContentLanguage: "de-CH", PartSize: 5 << 20}},
	} {
		if _, err := mc.PutObject(bg, "lang", tc.key, bytes.NewReader(tc.data), int64(len(tc.data)), tc.opts); err != nil {
			t.Fatal(err)
		}
		st, err := mc.StatObject(bg, "lang", tc.key, minio.StatObjectOptions{})
		if err != nil || st.Metadata.Get("Content-Language") != tc.opts.ContentLanguage {
			t.Fatalf("%s: Content-Language %q, %v", tc.key, st.Metadata.Get("Content-Language"), err)
		}
	}
	c := ts.awsClient(t, rootAK, rootSK)
	for _, tc := range []struct {
		name string
		in   s3.CopyObjectInput
		want string
	}{
		{"copy keeps it", s3.CopyObjectInput{}, "en"},
		{"replace sets it", s3.CopyObjectInput{MetadataDirective: types.MetadataDirectiveReplace, ContentLanguage: aws.String("fr")}, "fr"},
		{"replace drops it", s3.CopyObjectInput{MetadataDirective: types.MetadataDirectiveReplace}, ""},
	} {
		in := tc.in
		in.Bucket, in.Key, in.CopySource = aws.String("lang"), aws.String("copy"), aws.String("lang/empty")
		if _, err := c.CopyObject(bg, &in); err != nil {
			t.Fatal(err)
		}
		g, _ := awsGet(t, c, "lang", "copy", "")
		if aws.ToString(g.ContentLanguage) != tc.want {
			t.Errorf("%s: Content-Language %q", tc.name, aws.ToString(g.ContentLanguage))
		}
	}
}

// TestConditionalWrites: If-Match and If-None-Match on PutObject and
// CompleteMultipartUpload, through the AWS SDK and minio-go.
func TestConditionalWrites(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	b := aws.String("cond")
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	first, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: b, Key: aws.String("obj"), Body: strings.NewReader("v1")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		key             string
		ifMatch, ifNone *string
		code            string // "" = written
		status          int
	}{
		{name: "if-match on a missing key", key: "missing", ifMatch: first.ETag, code: "NoSuchKey", status: 404},
		{name: "if-match other etag", key: "obj", ifMatch: aws.String(`"00000000000000000000000000000000"`), code: "PreconditionFailed", status: 412},
		{name: "if-none-match on an existing key", key: "obj", ifNone: aws.String("*"), code: "PreconditionFailed", status: 412},
		{name: "if-match its etag", key: "obj", ifMatch: first.ETag},
		{name: "if-none-match on a new key", key: "new", ifNone: aws.String("*")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			etag := func() string {
				h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: b, Key: aws.String(tc.key)})
				if err != nil {
					return ""
				}
				return aws.ToString(h.ETag)
			}
			before := etag()
			_, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: b, Key: aws.String(tc.key), Body: strings.NewReader(tc.name), IfMatch: tc.ifMatch, IfNoneMatch: tc.ifNone})
			if code, st := awsErr(err); code != tc.code || st != tc.status {
				t.Fatalf("PutObject: %v, want %s %d", err, tc.code, tc.status)
			}
			changed := before != etag()
			if changed != (tc.code == "") {
				t.Fatalf("object changed = %v after %v", changed, err)
			}
		})
	}

	// CompleteMultipartUpload: a failed condition leaves the upload, which
	// then completes without it.
	mp, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("obj")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: b, Key: aws.String("obj"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("mp")})
	if err != nil {
		t.Fatal(err)
	}
	done := &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}
	for _, tc := range []struct {
		ifMatch, ifNone *string
		code            string
	}{
		{ifNone: aws.String("*"), code: "PreconditionFailed"},
		{ifMatch: aws.String(`"0123"`), code: "PreconditionFailed"},
		{},
	} {
		_, err = c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("obj"), UploadId: mp.UploadId,
			MultipartUpload: done, IfMatch: tc.ifMatch, IfNoneMatch: tc.ifNone})
		if code, _ := awsErr(err); code != tc.code {
			t.Fatalf("Complete if-match %v if-none-match %v: %v, want %q", aws.ToString(tc.ifMatch), aws.ToString(tc.ifNone), err, tc.code)
		}
	}
	mp2, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("absent")})
	if err != nil {
		t.Fatal(err)
	}
	up, err = c.UploadPart(bg, &s3.UploadPartInput{Bucket: b, Key: aws.String("absent"), UploadId: mp2.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("mp")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("absent"), UploadId: mp2.UploadId, IfMatch: up.ETag,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}})
	if code, st := awsErr(err); code != "NoSuchKey" || st != 404 {
		t.Fatalf("Complete with if-match on a missing key: %v", err)
	}

	// minio-go, as mint's testPutObjectPreconditionOnNonExistent drives it.
	mc := ts.rootMinio(t)
	var opts minio.PutObjectOptions
	opts.SetMatchETag("some-etag")
	if _, err := mc.PutObject(bg, "cond", "mnew", strings.NewReader("x"), 1, opts); minioCode(err) != "NoSuchKey" {
		t.Fatalf("minio SetMatchETag on a missing key: %v", err)
	}
	opts = minio.PutObjectOptions{}
	opts.SetMatchETagExcept("some-etag")
	if _, err := mc.PutObject(bg, "cond", "mnew", strings.NewReader("x"), 1, opts); err != nil {
		t.Fatalf("minio SetMatchETagExcept on a missing key: %v", err)
	}
}

// TestConditionalCreateRace sends concurrent If-None-Match: * PUTs of one
// key over HTTP: exactly one may create it.
func TestConditionalCreateRace(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("race")}); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		key := fmt.Sprintf("k%d", round)
		const n = 6
		var wg sync.WaitGroup
		codes := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String(key),
					Body: bytes.NewReader(pattern(256<<10, byte(i))), IfNoneMatch: aws.String("*")})
				codes[i], _ = awsErr(err)
				if err != nil && codes[i] == "" {
					codes[i] = err.Error()
				}
			}()
		}
		wg.Wait()
		created := 0
		for _, code := range codes {
			switch code {
			case "":
				created++
			case "PreconditionFailed":
			default:
				t.Fatalf("round %d: %s", round, code)
			}
		}
		if created != 1 {
			t.Fatalf("round %d: %d conditional creates succeeded, want 1 (%v)", round, created, codes)
		}
	}
}
