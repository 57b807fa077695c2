package s3http

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestSSEKMSKeyARNs: the AWS SDK may name the SSE-KMS key by id, alias,
// key ARN or alias ARN (AWS form), in the object header and in the bucket
// default; each encrypts under that key, and GetBucketEncryption returns
// the ARN as written. An ARN of another account or region names no key.
func TestSSEKMSKeyARNs(t *testing.T) {
	ts := newTestServer(t)
	c := ts.awsClient(t, rootAK, rootSK)
	keyID := ts.createKey(t)
	if err := ts.hz.CreateAlias(bg, "alias/s3-app", keyID); err != nil {
		t.Fatal(err)
	}
	acct := ts.kms.Account()
	keyARN := "arn:aws:kms:" + testRegion + ":" + acct + ":key/" + keyID
	aliasARN := "arn:aws:kms:" + testRegion + ":" + acct + ":alias/s3-app"
	const b = "arns"
	if _, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, ref string
		ok        bool
	}{
		{"key id", keyID, true},
		{"alias", "alias/s3-app", true},
		{"key ARN", keyARN, true},
		{"alias ARN", aliasARN, true},
		{"key ARN of another account", "arn:aws:kms:" + testRegion + ":999999999999:key/" + keyID, false},
		{"key ARN of another region", "arn:aws:kms:us-east-1:" + acct + ":key/" + keyID, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			po, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(tc.name), Body: bytes.NewReader([]byte("x")),
				ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(tc.ref)})
			if !tc.ok {
				if code, st := awsErr(err); code != "KMS.NotFoundException" || st != 400 {
					t.Fatalf("PutObject with %s: %v (%s %d), want 400 KMS.NotFoundException", tc.ref, err, code, st)
				}
				return
			}
			if err != nil {
				t.Fatalf("PutObject with %s: %v", tc.ref, err)
			}
			if aws.ToString(po.SSEKMSKeyId) != keyID {
				t.Fatalf("PutObject with %s: key %q, want %s", tc.ref, aws.ToString(po.SSEKMSKeyId), keyID)
			}
		})
	}
	_, err := c.PutBucketEncryption(bg, &s3.PutBucketEncryptionInput{Bucket: aws.String(b),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(aliasARN)},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	ge, err := c.GetBucketEncryption(bg, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ge.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID); got != aliasARN {
		t.Fatalf("GetBucketEncryption key %q, want %q", got, aliasARN)
	}
	po, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("default"), Body: bytes.NewReader([]byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	if po.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(po.SSEKMSKeyId) != keyID {
		t.Fatalf("default by alias ARN: %s %q", po.ServerSideEncryption, aws.ToString(po.SSEKMSKeyId))
	}
}
