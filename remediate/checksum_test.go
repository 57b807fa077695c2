package remediate

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
)

// s3Reference starts the reference and returns an S3 client to it.
func s3Reference(t *testing.T) *client.Client {
	t.Helper()
	envs := map[string]string{"SSEAUDIT_ROOT_ACCESS_KEY_ID": "CKSAK", "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": "cks-secret"}
	srv, err := embedded.Start(context.Background(), embedded.Config{DataDir: t.TempDir(), Getenv: func(k string) string { return envs[k] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	c, err := client.New(client.Config{Dialect: client.S3, Endpoint: srv.Endpoint, Region: srv.Region, AccessKeyID: "CKSAK", AccessKeySecret: "cks-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// onePlan is a plan rewriting one object of bucket with AES256.
func onePlan(c *client.Client, bucket, key, etag string, size int64) *Plan {
	return &Plan{Schema: PlanSchema, Target: Target{Dialect: string(c.Dialect()), Endpoint: c.Endpoint()},
		Source: Source{ScanFinishedAt: time.Now()}, Encryption: Encryption{Algorithm: client.AlgorithmAES256},
		Buckets: []BucketPlan{{Name: bucket, Objects: []Object{{Key: key, ETag: etag, Size: size}}}}}
}

// TestApplyKeepsChecksum rewrites objects carrying an S3 additional
// checksum, in one CopyObject and in UploadPartCopy parts, and checks the
// copy carries a checksum of the same algorithm: the same value where it
// is a full-object one (every single copy; the CRCs in parts), a
// COMPOSITE one where S3 allows nothing else (SHA in parts), the content
// then verified by reading it back against the source's value.
func TestApplyKeepsChecksum(t *testing.T) {
	c := s3Reference(t)
	ctx := context.Background()
	const bucket = "cks-bucket"
	if err := c.CreateBucket(ctx, bucket, nil); err != nil {
		t.Fatal(err)
	}
	small := []byte("checksums must survive the rewrite")
	big := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16+7) // two 5 MiB parts
	const partSize = 5 << 20
	for _, tc := range []struct {
		name, alg string
		body      []byte
		// composite: the source is itself a multipart object with a
		// COMPOSITE checksum.
		composite bool
		multipart bool
		// wantType is the checksum type after; wantVerified how the content
		// was found unchanged.
		wantType, wantVerified string
	}{
		{name: "crc32 single", alg: "CRC32", body: small, wantType: client.ChecksumFullObject, wantVerified: "checksum-crc32"},
		{name: "sha256 single", alg: "SHA256", body: small, wantType: client.ChecksumFullObject, wantVerified: "checksum-sha256"},
		{name: "crc64nvme single", alg: "CRC64NVME", body: small, wantType: client.ChecksumFullObject, wantVerified: "checksum-crc64nvme"},
		{name: "crc32 multipart", alg: "CRC32", body: big, multipart: true, wantType: client.ChecksumFullObject, wantVerified: "checksum-crc32"},
		{name: "crc32c multipart", alg: "CRC32C", body: big, multipart: true, wantType: client.ChecksumFullObject, wantVerified: "checksum-crc32c"},
		{name: "sha256 multipart", alg: "SHA256", body: big, multipart: true, wantType: client.ChecksumComposite, wantVerified: "read-back-sha256"},
		{name: "sha1 multipart", alg: "SHA1", body: big, multipart: true, wantType: client.ChecksumComposite, wantVerified: "read-back-sha1"},
		{name: "composite sha1 single", alg: "SHA1", body: big, composite: true, wantType: client.ChecksumFullObject, wantVerified: "read-back-sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "/")
			if _, err := c.PutObjectChecksum(ctx, bucket, key, tc.body, tc.alg, client.PutOptions{ContentType: "application/x-test"}); err != nil {
				t.Fatal(err)
			}
			if tc.composite {
				if _, err := c.MultipartCopyInPlace(ctx, bucket, key, int64(len(tc.body)), partSize,
					client.RewriteOptions{ContentType: "application/x-test", ChecksumAlgorithm: tc.alg, ChecksumType: client.ChecksumComposite}); err != nil {
					t.Fatal(err)
				}
			}
			head, before, err := c.HeadObjectChecksum(ctx, bucket, key)
			if err != nil {
				t.Fatal(err)
			}
			if before.Algorithm != tc.alg || (before.Type == client.ChecksumComposite) != tc.composite {
				t.Fatalf("seeded checksum %v, want %s (composite %v)", before, tc.alg, tc.composite)
			}
			threshold := int64(len(tc.body)) + 1
			if tc.multipart {
				threshold = partSize
			}
			res, err := Apply(ctx, onePlan(c, bucket, key, head.ETag, head.Size), ApplyOptions{Client: c, Yes: true, MaxAge: -1,
				JournalPath: filepath.Join(t.TempDir(), "journal"), PlanSHA256: key, Threshold: threshold, PartSize: partSize})
			if err != nil {
				t.Fatal(err)
			}
			o := res.Objects[0]
			if o.Outcome != OutcomeRewritten || len(o.Problems) > 0 {
				t.Fatalf("outcome %s, problems %v, reason %q", o.Outcome, o.Problems, o.Reason)
			}
			if wantMode := map[bool]string{false: ModeSingle, true: ModeMultipart}[tc.multipart]; o.Mode != wantMode {
				t.Errorf("mode %s, want %s", o.Mode, wantMode)
			}
			if o.Before.Checksum == nil || *o.Before.Checksum != before {
				t.Errorf("the journal recorded checksum %v before the copy, the object had %v", o.Before.Checksum, before)
			}
			if o.After.Checksum != tc.wantVerified {
				t.Errorf("content verified by %q, want %q", o.After.Checksum, tc.wantVerified)
			}
			_, after, err := c.HeadObjectChecksum(ctx, bucket, key)
			if err != nil {
				t.Fatal(err)
			}
			if after.Algorithm != tc.alg || after.Type != tc.wantType {
				t.Fatalf("checksum after the copy %v, want %s %s (before: %v)", after, tc.alg, tc.wantType, before)
			}
			if o.After.AdditionalChecksum == nil || *o.After.AdditionalChecksum != after {
				t.Errorf("the result recorded checksum %v after the copy, the object has %v", o.After.AdditionalChecksum, after)
			}
			if !tc.composite && tc.wantType == client.ChecksumFullObject && after.Value != before.Value {
				t.Errorf("%s checksum %s after the copy, %s before", tc.alg, after.Value, before.Value)
			}
		})
	}
}

// TestVerifyChecksumLoss checks that verification reports a copy whose
// checksum is not the one recorded before it: another algorithm (the
// checksum was lost), or another full-object value (the content changed).
func TestVerifyChecksumLoss(t *testing.T) {
	c := s3Reference(t)
	ctx := context.Background()
	const bucket = "cks-verify"
	if err := c.CreateBucket(ctx, bucket, nil); err != nil {
		t.Fatal(err)
	}
	body := []byte("the content")
	put, err := c.PutObjectChecksum(ctx, bucket, "k", body, "CRC32", client.PutOptions{SSE: &client.SSE{Algorithm: client.AlgorithmAES256}})
	if err != nil {
		t.Fatal(err)
	}
	head, ck, err := c.HeadObjectChecksum(ctx, bucket, "k")
	if err != nil {
		t.Fatal(err)
	}
	a := &applier{p: onePlan(c, bucket, "k", put.ETag, int64(len(body))), o: ApplyOptions{Client: c}}
	pre, err := a.readState(ctx, bucket, "k", head, ck)
	if err != nil {
		t.Fatal(err)
	}
	if _, problems := a.verify(ctx, bucket, "k", pre); len(problems) > 0 {
		t.Fatalf("the object as it is does not verify against itself: %v", problems)
	}
	for _, tc := range []struct {
		name string
		pre  client.Checksum
		want string
	}{
		{"algorithm lost", client.Checksum{Algorithm: "SHA256", Type: client.ChecksumFullObject, Value: "x"}, "did not keep the object's SHA256 checksum"},
		{"value changed", client.Checksum{Algorithm: "CRC32", Type: client.ChecksumFullObject, Value: "AAAAAA=="}, "the content changed"},
		{"content differs from the source's checksum", client.Checksum{Algorithm: "CRC32", Type: client.ChecksumComposite, Value: "AAAAAA==-2"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := *pre
			st.Checksum = &tc.pre
			_, problems := a.verify(ctx, bucket, "k", &st)
			joined := strings.Join(problems, "; ")
			if tc.want == "" {
				// A composite checksum before cannot be compared; the
				// content is then verified by its MD5 ETag, unchanged.
				if len(problems) > 0 {
					t.Fatalf("problems %v, want none", problems)
				}
				return
			}
			if !strings.Contains(joined, tc.want) {
				t.Fatalf("problems %q, want one saying %q", joined, tc.want)
			}
		})
	}
}
