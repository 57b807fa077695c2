package s3http

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// TestSSEKMSKeyARNs: the AWS SDK may name the SSE-KMS key by id, alias,
// key ARN or alias ARN (AWS form), in the object header and in the bucket
// default; each encrypts under that key, and every object response (PUT,
// HEAD, GET, CopyObject) names the key by its ARN in the KMS emulator's
// account and the server's region, as AWS S3 does. GetBucketEncryption
// returns the key as written. An ARN of another account or region names
// no key.
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
	// wantARN checks what one response named.
	wantARN := func(t *testing.T, what string, alg types.ServerSideEncryption, got *string, want string) {
		t.Helper()
		if alg != types.ServerSideEncryptionAwsKms || aws.ToString(got) != want {
			t.Fatalf("%s: %s key %q, want aws:kms key %q", what, alg, aws.ToString(got), want)
		}
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
			wantARN(t, "PutObject", po.ServerSideEncryption, po.SSEKMSKeyId, keyARN)
			ho, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(tc.name)})
			if err != nil {
				t.Fatal(err)
			}
			wantARN(t, "HeadObject", ho.ServerSideEncryption, ho.SSEKMSKeyId, keyARN)
			gout, _ := awsGet(t, c, b, tc.name, "")
			wantARN(t, "GetObject", gout.ServerSideEncryption, gout.SSEKMSKeyId, keyARN)
			co, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(tc.name + " copy"), CopySource: aws.String(b + "/" + tc.name),
				ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(tc.ref)})
			if err != nil {
				t.Fatalf("CopyObject with %s: %v", tc.ref, err)
			}
			wantARN(t, "CopyObject", co.ServerSideEncryption, co.SSEKMSKeyId, keyARN)
		})
	}
	// The bucket default, named by alias ARN, then by alias name: the
	// rule reads back as written, its objects name the key's ARN.
	for _, ref := range []string{aliasARN, "alias/s3-app"} {
		_, err := c.PutBucketEncryption(bg, &s3.PutBucketEncryptionInput{Bucket: aws.String(b),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(ref)},
			}}}})
		if err != nil {
			t.Fatal(err)
		}
		ge, err := c.GetBucketEncryption(bg, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(ge.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID); got != ref {
			t.Fatalf("GetBucketEncryption key %q, want %q as written", got, ref)
		}
		po, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("default"), Body: bytes.NewReader([]byte("x"))})
		if err != nil {
			t.Fatal(err)
		}
		wantARN(t, "PutObject under a default of "+ref, po.ServerSideEncryption, po.SSEKMSKeyId, keyARN)
		ho, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("default")})
		if err != nil {
			t.Fatal(err)
		}
		wantARN(t, "HeadObject under a default of "+ref, ho.ServerSideEncryption, ho.SSEKMSKeyId, keyARN)
	}
	// aws:kms without a key: the default key, also by its ARN.
	po, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("default key"), Body: bytes.NewReader([]byte("x")),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms})
	if err != nil {
		t.Fatal(err)
	}
	info, err := ts.store.HeadObject(bg, objstore.Principal{Name: "root"}, b, "default key")
	if err != nil {
		t.Fatal(err)
	}
	if info.SSE.KMSKeyID == "" || info.SSE.KMSKeyID == keyID {
		t.Fatalf("the default key is %q", info.SSE.KMSKeyID)
	}
	wantARN(t, "PutObject with the default key", po.ServerSideEncryption, po.SSEKMSKeyId, ts.keyARN(info.SSE.KMSKeyID))
}

// TestKeyARN: the handler's ARN of a resolved key; ARNs pass (an acs: one
// in its AWS form).
func TestKeyARN(t *testing.T) {
	h := &handler{cfg: Config{Region: "us-east-2", KMSAccount: "111122223333"}}
	for _, tc := range []struct{ in, want string }{
		{"1234abcd-12ab", "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab"},
		{"arn:aws:kms:eu-west-1:444455556666:key/k", "arn:aws:kms:eu-west-1:444455556666:key/k"},
		{"acs:kms:cn-hangzhou:1234567890123456:key/k", "arn:aws:kms:cn-hangzhou:1234567890123456:key/k"},
	} {
		if got := h.keyARN(tc.in); got != tc.want {
			t.Errorf("keyARN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
