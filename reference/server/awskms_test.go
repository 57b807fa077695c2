package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func awsKMSClient(endpoint, ak, sk string) *awskms.Client {
	return awskms.New(awskms.Options{
		Region: "cn-hangzhou", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
	})
}

func awsCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + errors.Join(err).Error()
}

// TestAWSKMSOnTheKMSPort: the KMS port answers both protocols from one
// keystore. Keys made with the Alibaba SDK are visible and usable from
// aws-sdk-go-v2's KMS client and the other way round; states set on one
// side hold on the other; the users file decides AWS calls as it decides
// Alibaba ones.
func TestAWSKMSOnTheKMSPort(t *testing.T) {
	f := newAuthzFixture(t)
	ctx := context.Background()
	ali := f.root
	c := awsKMSClient(f.s.KMSEndpoint, rootAK, rootSK)
	arn := func(id string) string { return "arn:aws:kms:cn-hangzhou:" + f.s.KMS.Account() + ":key/" + id }

	// An Alibaba-created key and alias, described over AWS.
	d, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/app-main")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.KeyMetadata.KeyId) != f.appKey || aws.ToString(d.KeyMetadata.Arn) != arn(f.appKey) || aws.ToString(d.KeyMetadata.Description) != "app" {
		t.Fatalf("DescribeKey over AWS: %s %s", aws.ToString(d.KeyMetadata.KeyId), aws.ToString(d.KeyMetadata.Arn))
	}
	// An Alibaba data key opens over AWS, with its context.
	ec := map[string]string{"bucket": "b"}
	dk, err := ali.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: tea.String(f.appKey), EncryptionContext: map[string]any{"bucket": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := base64.StdEncoding.DecodeString(tea.StringValue(dk.Body.CiphertextBlob))
	plain, _ := base64.StdEncoding.DecodeString(tea.StringValue(dk.Body.Plaintext))
	dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: aws.String("alias/app-spare")})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec.Plaintext, plain) || aws.ToString(dec.KeyId) != arn(f.appKey) {
		t.Fatal("an Alibaba data key does not decrypt over AWS")
	}
	// An AWS ciphertext opens over Alibaba.
	enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(arn(f.rootKey)), Plaintext: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	ad, err := ali.Decrypt(&kmssdk.DecryptRequest{CiphertextBlob: tea.String(base64.StdEncoding.EncodeToString(enc.CiphertextBlob))})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := base64.StdEncoding.DecodeString(tea.StringValue(ad.Body.Plaintext)); string(got) != "hello" || tea.StringValue(ad.Body.KeyId) != f.rootKey {
		t.Fatal("an AWS ciphertext does not decrypt over Alibaba")
	}
	// States cross over.
	if _, err := ali.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(f.appKey)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(f.appKey), Plaintext: []byte("x")})
	if _, ok := errors.AsType[*types.DisabledException](err); !ok {
		t.Fatalf("Encrypt with a key disabled over Alibaba: %v", err)
	}
	if _, err := c.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(f.appKey), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	ds, err := ali.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(f.appKey)})
	if err != nil || tea.StringValue(ds.Body.KeyMetadata.KeyState) != "PendingDeletion" {
		t.Fatalf("Alibaba sees %v after an AWS ScheduleKeyDeletion", err)
	}
	if _, err := c.CancelKeyDeletion(ctx, &awskms.CancelKeyDeletionInput{KeyId: aws.String(f.appKey)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: aws.String(f.appKey)}); err != nil {
		t.Fatal(err)
	}
	lk, err := c.ListKeys(ctx, &awskms.ListKeysInput{})
	if err != nil || len(lk.Keys) != 2 {
		t.Fatalf("ListKeys over AWS: %v %v", err, lk)
	}

	// The users file decides AWS calls (principal of the access key).
	cases := []struct {
		who, what string
		call      func(c *awskms.Client) error
		allowed   bool
	}{
		{"aliasuser", "Encrypt with the alias/app-* key by id", func(c *awskms.Client) error {
			_, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(f.appKey), Plaintext: []byte("x")})
			return err
		}, true},
		{"aliasuser", "Encrypt with root's key", func(c *awskms.Client) error {
			_, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(f.rootKey), Plaintext: []byte("x")})
			return err
		}, false},
		{"aliasuser", "DescribeKey (no read)", func(c *awskms.Client) error {
			_, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(f.appKey)})
			return err
		}, false},
		{"reader", "ListKeys", func(c *awskms.Client) error { _, err := c.ListKeys(ctx, &awskms.ListKeysInput{}); return err }, true},
		{"reader", "GetKeyRotationStatus", func(c *awskms.Client) error {
			_, err := c.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: aws.String(f.rootKey)})
			return err
		}, true},
		{"reader", "GenerateDataKey", func(c *awskms.Client) error {
			_, err := c.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: aws.String(f.rootKey), KeySpec: types.DataKeySpecAes256})
			return err
		}, false},
		{"manager", "DisableKey of the app key", func(c *awskms.Client) error {
			_, err := c.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String("alias/app-main")})
			if err == nil {
				_, err = c.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: aws.String("alias/app-main")})
			}
			return err
		}, true},
		{"manager", "DisableKey of root's key", func(c *awskms.Client) error {
			_, err := c.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(f.rootKey)})
			return err
		}, false},
		{"nokms", "DescribeKey", func(c *awskms.Client) error {
			_, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(f.appKey)})
			return err
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.who+" "+tc.what, func(t *testing.T) {
			err := tc.call(awsKMSClient(f.s.KMSEndpoint, authzAK(tc.who), authzSecret(tc.who)))
			switch {
			case tc.allowed && err != nil:
				t.Fatalf("refused: %v", err)
			case !tc.allowed && awsCode(err) != "AccessDeniedException":
				t.Fatalf("got %v, want AccessDeniedException", err)
			}
		})
	}
}

// TestKMSPortDispatch: requests are routed by protocol; an unsigned
// request still gets the Alibaba answer, a SigV4 one the AWS answer.
func TestKMSPortDispatch(t *testing.T) {
	f := newAuthzFixture(t)
	post := func(h http.Header) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, f.s.KMSEndpoint+"/", nil)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b.String()
	}
	if st, body := post(nil); st != 400 || !strings.Contains(body, `"Code":"IncompleteSignature"`) {
		t.Fatalf("unsigned: %d %s", st, body)
	}
	if st, body := post(http.Header{"X-Amz-Target": {"TrentService.ListKeys"}}); st != 400 || !strings.Contains(body, `"__type":"MissingAuthenticationTokenException"`) {
		t.Fatalf("AWS target, unsigned: %d %s", st, body)
	}
	if st, body := post(http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=x"}}); st != 400 || !strings.Contains(body, `"__type":"IncompleteSignatureException"`) {
		t.Fatalf("SigV4 header: %d %s", st, body)
	}
}

// TestS3KeyARNIsTheAWSKMSARN: the key ARN an S3 object response names
// (x-amz-server-side-encryption-aws-kms-key-id) is the ARN the KMS port's
// AWS protocol gives the same key: DescribeKey accepts it and answers it
// as KeyMetadata.Arn, for a key named by alias and for the default key.
func TestS3KeyARNIsTheAWSKMSARN(t *testing.T) {
	f := newAuthzFixture(t)
	ctx := context.Background()
	kc := awsKMSClient(f.s.KMSEndpoint, rootAK, rootSK)
	sc := s3.New(s3.Options{Region: "cn-hangzhou", BaseEndpoint: aws.String(f.s.Endpoint), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(rootAK, rootSK, "")})
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("w-arn")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, ref, wantID string }{
		{"alias", "alias/app-main", f.appKey},
		{"default key", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &s3.PutObjectInput{Bucket: aws.String("w-arn"), Key: aws.String(tc.name), Body: strings.NewReader("x"),
				ServerSideEncryption: s3types.ServerSideEncryptionAwsKms}
			if tc.ref != "" {
				in.SSEKMSKeyId = aws.String(tc.ref)
			}
			po, err := sc.PutObject(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			got := aws.ToString(po.SSEKMSKeyId)
			if !strings.HasPrefix(got, "arn:aws:kms:cn-hangzhou:") {
				t.Fatalf("PutObject names the key %q, want its ARN", got)
			}
			d, err := kc.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(got)})
			if err != nil {
				t.Fatalf("DescribeKey %s: %v", got, err)
			}
			if aws.ToString(d.KeyMetadata.Arn) != got || (tc.wantID != "" && aws.ToString(d.KeyMetadata.KeyId) != tc.wantID) {
				t.Fatalf("DescribeKey %s answers key %s ARN %s", got, aws.ToString(d.KeyMetadata.KeyId), aws.ToString(d.KeyMetadata.Arn))
			}
		})
	}
}
