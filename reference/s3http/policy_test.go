package s3http

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/objstore"
)

// policyDenyUnencrypted is AWS's documented "deny unencrypted object
// uploads" policy (requiring SSE-KMS), for bucket BUCKET.
const policyDenyUnencrypted = `{
  "Version": "2012-10-17",
  "Id": "PutObjectPolicy",
  "Statement": [
    {
      "Sid": "DenyIncorrectEncryptionHeader",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::BUCKET/*",
      "Condition": {
        "StringNotEquals": {
          "s3:x-amz-server-side-encryption": "aws:kms"
        }
      }
    },
    {
      "Sid": "DenyUnencryptedObjectUploads",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::BUCKET/*",
      "Condition": {
        "Null": {
          "s3:x-amz-server-side-encryption": "true"
        }
      }
    }
  ]
}`

// policyRequireKey is AWS's documented "require a specific KMS key"
// policy for bucket BUCKET and key KEY.
const policyRequireKey = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "RequireSpecificKMSKey",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::BUCKET/*",
    "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "KEY"}}
  }]
}`

// policyTLSOnly is the "deny requests that are not TLS" policy.
const policyTLSOnly = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "AllowSSLRequestsOnly",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
  }]
}`

func policyFor(doc, bucket string) string { return strings.ReplaceAll(doc, "BUCKET", bucket) }

type s3Put struct {
	name  string
	sse   types.ServerSideEncryption
	keyID string
	code  string // "" = success
}

func runPuts(t *testing.T, c *s3.Client, bucket string, cases []s3Put) {
	t.Helper()
	for _, tc := range cases {
		in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj-" + tc.name), Body: bytes.NewReader([]byte("guarded"))}
		if tc.sse != "" {
			in.ServerSideEncryption = tc.sse
		}
		if tc.keyID != "" {
			in.SSEKMSKeyId = aws.String(tc.keyID)
		}
		_, err := c.PutObject(bg, in)
		code, status := awsErr(err)
		if code != tc.code || (tc.code == "AccessDenied" && status != 403) {
			t.Errorf("%s: PutObject: got %q (%d, %v), want %q", tc.name, code, status, err, tc.code)
		}
	}
}

// TestS3BucketPolicyGuardrails: the AWS-documented guardrail policies,
// set with the AWS SDK, deny exactly the writes they describe (403
// AccessDenied before anything is stored), round-trip byte for byte, and
// go away with DeleteBucketPolicy; GetBucketPolicy without one is 404
// NoSuchBucketPolicy.
func TestS3BucketPolicyGuardrails(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	const b = "guarded"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketPolicy(bg, &s3.GetBucketPolicyInput{Bucket: aws.String(b)}); true {
		if code, status := awsErr(err); code != "NoSuchBucketPolicy" || status != 404 {
			t.Fatalf("GetBucketPolicy without a policy: %q %d", code, status)
		}
	}

	doc := policyFor(policyDenyUnencrypted, b)
	if _, err := c.PutBucketPolicy(bg, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketPolicy(bg, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
	if err != nil || aws.ToString(got.Policy) != doc {
		t.Fatalf("GetBucketPolicy: %v\n%s", err, aws.ToString(got.Policy))
	}
	runPuts(t, c, b, []s3Put{
		{name: "none", code: "AccessDenied"},
		{name: "aes256", sse: types.ServerSideEncryptionAes256, code: "AccessDenied"},
		{name: "kms", sse: types.ServerSideEncryptionAwsKms},
	})
	// A denied write stored nothing.
	if _, err := ts.store.HeadObject(bg, objstore.Principal{Name: auth.RootPrincipal}, b, "obj-none"); err == nil {
		t.Error("a denied PutObject stored the object")
	}
	// Multipart: the initiation carries the header and is checked; parts
	// and completion (whose encryption the initiation fixed) are not
	// denied for lacking it.
	_, err = c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp")})
	if code, _ := awsErr(err); code != "AccessDenied" {
		t.Errorf("CreateMultipartUpload without SSE: %q, want AccessDenied", code)
	}
	up, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part one"))})
	if err != nil {
		t.Fatalf("UploadPart under the guardrail: %v", err)
	}
	if _, err := c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}); err != nil {
		t.Fatalf("CompleteMultipartUpload under the guardrail: %v", err)
	}

	// The "require this KMS key" policy replaces it.
	key, other := ts.createKey(t), ts.createKey(t)
	doc = strings.ReplaceAll(policyFor(policyRequireKey, b), "KEY", key)
	if _, err := c.PutBucketPolicy(bg, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	runPuts(t, c, b, []s3Put{
		{name: "k-none", code: "AccessDenied"},
		{name: "k-default", sse: types.ServerSideEncryptionAwsKms, code: "AccessDenied"},
		{name: "k-other", sse: types.ServerSideEncryptionAwsKms, keyID: other, code: "AccessDenied"},
		{name: "k-right", sse: types.ServerSideEncryptionAwsKms, keyID: key},
	})
	// CopyObject is s3:PutObject too.
	_, err = c.CopyObject(bg, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copy"), CopySource: aws.String(b + "/obj-k-right")})
	if code, _ := awsErr(err); code != "AccessDenied" {
		t.Errorf("CopyObject without the key: %q, want AccessDenied", code)
	}
	// Reads are not s3:PutObject.
	if _, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("obj-k-right")}); err != nil {
		t.Errorf("GetObject under a PutObject guardrail: %v", err)
	}

	if _, err := c.DeleteBucketPolicy(bg, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	runPuts(t, c, b, []s3Put{{name: "after-delete"}})
	if _, err := c.GetBucketPolicy(bg, &s3.GetBucketPolicyInput{Bucket: aws.String(b)}); true {
		if code, _ := awsErr(err); code != "NoSuchBucketPolicy" {
			t.Errorf("GetBucketPolicy after delete: %q", code)
		}
	}
}

// TestS3BucketPolicyMalformed: bad JSON is 400 MalformedPolicy, and the
// valid parts of the policy language the reference does not enforce are
// 501 NotImplemented (the document is not wrong; the server lacks them),
// each naming what it refuses and never stored.
func TestS3BucketPolicyMalformed(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	const b = "malformed"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	stmt := func(s string) string {
		return `{"Version":"2012-10-17","Statement":[` + s + `]}`
	}
	for _, tc := range []struct{ name, doc, mention string }{
		{"not json", `{"Version": `, "JSON"},
		{"not an object", `[]`, "first byte"},
		{"allow", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::malformed/*"}`), "Allow"},
		{"operator", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::malformed/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), "IpAddress"},
		{"key", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::malformed/*","Condition":{"StringEquals":{"s3:x-amz-acl":"public-read"}}}`), "s3:x-amz-acl"},
		{"not action", stmt(`{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::malformed/*"}`), "NotAction"},
		{"no principal", stmt(`{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::malformed/*"}`), "Principal"},
		{"oss action", stmt(`{"Effect":"Deny","Principal":"*","Action":"oss:PutObject","Resource":"arn:aws:s3:::malformed/*"}`), "invalid action"},
		{"oss resource", stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"acs:oss:*:*:malformed/*"}`), "invalid resource"},
		{"version", `{"Version":"2020-01-01","Statement":[]}`, "version"},
	} {
		_, err := c.PutBucketPolicy(bg, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(tc.doc)})
		code, status := awsErr(err)
		wantCode, wantStatus := "MalformedPolicy", 400
		switch tc.name {
		case "allow", "operator", "key", "not action":
			wantCode, wantStatus = "NotImplemented", 501
		}
		if code != wantCode || status != wantStatus || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%s: got %q %d (%v), want %s naming %q", tc.name, code, status, err, wantCode, tc.mention)
		}
	}
	if _, err := c.GetBucketPolicy(bg, &s3.GetBucketPolicyInput{Bucket: aws.String(b)}); true {
		if code, _ := awsErr(err); code != "NoSuchBucketPolicy" {
			t.Errorf("a refused policy was stored: %q", code)
		}
	}
}

// TestS3BucketPolicySecureTransport: a Deny on aws:SecureTransport false
// denies every request over plain HTTP (the reference's loopback
// default), the policy's own removal included, and none over TLS.
func TestS3BucketPolicySecureTransport(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		denied bool
	}{{"http", false, true}, {"https", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []serverOption
			if tc.tls {
				opts = append(opts, withTLS())
			}
			ts := newTestServer(t, opts...)
			c := ts.awsClient(t, rootAK, rootSK)
			const b = "tlsonly"
			if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutBucketPolicy(bg, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(policyFor(policyTLSOnly, b))}); err != nil {
				t.Fatal(err)
			}
			calls := map[string]func() error{
				"GetObject": func() error {
					_, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
					return err
				},
				"PutObject": func() error {
					_, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("k2"), Body: bytes.NewReader([]byte("y")),
						ServerSideEncryption: types.ServerSideEncryptionAes256})
					return err
				},
				"ListObjectsV2": func() error {
					_, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
					return err
				},
				"GetBucketPolicy": func() error {
					_, err := c.GetBucketPolicy(bg, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
					return err
				},
				"DeleteBucketPolicy": func() error {
					_, err := c.DeleteBucketPolicy(bg, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b)})
					return err
				},
			}
			for _, name := range []string{"GetObject", "PutObject", "ListObjectsV2", "GetBucketPolicy", "DeleteBucketPolicy"} {
				err := calls[name]()
				code, _ := awsErr(err)
				if tc.denied != (code == "AccessDenied") || (!tc.denied && err != nil) {
					t.Errorf("%s over %s: %v (denied %v expected)", name, tc.name, err, tc.denied)
				}
			}
		})
	}
}
