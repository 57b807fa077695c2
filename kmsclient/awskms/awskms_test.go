package awskms_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
)

const (
	rootAK = "AWSKMSTESTROOT"
	rootSK = "awskms-test-secret-0123456789"
)

// startReference serves the reference's KMS (both protocols on one port)
// with a known root credential.
func startReference(t *testing.T) *embedded.Reference {
	t.Helper()
	env := map[string]string{embedded.EnvRootAccessKeyID: rootAK, embedded.EnvRootAccessKeySecret: rootSK}
	ref, stop, err := embedded.StartTemp(context.Background(), embedded.Config{Addr: "-", Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(context.Background()) })
	return ref
}

func newClient(t *testing.T, ref *embedded.Reference, ak, sk string) *awskms.Client {
	t.Helper()
	c, err := awskms.New(context.Background(), awskms.Config{Endpoint: ref.AWSKMSEndpoint, Region: ref.Region, AccessKeyID: ak, SecretAccessKey: sk})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestKeyStatesThroughTheSDK reads every key state an audit tells apart
// from the reference, through the unmodified AWS SDK: by id, ARN and
// alias, with rotation, and the errors of a missing key and of wrong
// credentials.
func TestKeyStatesThroughTheSDK(t *testing.T) {
	ctx := context.Background()
	ref := startReference(t)
	if ref.AWSKMSEndpoint == "" || ref.AWSKMSEndpoint != ref.KMSEndpoint {
		t.Fatalf("AWSKMSEndpoint %q (KMS endpoint %q): the reference serves AWS KMS on its KMS port", ref.AWSKMSEndpoint, ref.KMSEndpoint)
	}
	c := newClient(t, ref, rootAK, rootSK)
	sdk := c.SDK()
	create := func() string {
		out, err := sdk.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("awskms test")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.KeyMetadata.KeyId)
	}
	enabled, disabled, deleting := create(), create(), create()
	if _, err := sdk.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(disabled)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(deleting), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(enabled), RotationPeriodInDays: aws.Int32(180)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app-data"), TargetKeyId: aws.String(enabled)}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:kms:" + ref.Region + ":" + ref.KMSAccount() + ":key/" + enabled
	cases := []struct {
		ref, id, state, manager string
		deletion                bool
	}{
		{ref: enabled, id: enabled, state: "Enabled", manager: awskms.ManagerCustomer},
		{ref: arn, id: enabled, state: "Enabled", manager: awskms.ManagerCustomer},
		{ref: "alias/app-data", id: enabled, state: "Enabled", manager: awskms.ManagerCustomer},
		{ref: disabled, id: disabled, state: "Disabled", manager: awskms.ManagerCustomer},
		{ref: deleting, id: deleting, state: "PendingDeletion", manager: awskms.ManagerCustomer, deletion: true},
		{ref: "alias/acs/oss", state: "Enabled", manager: awskms.ManagerAWS},
	}
	for _, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			k, err := c.DescribeKey(ctx, tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			if tc.id != "" && k.KeyID != tc.id {
				t.Errorf("KeyID %q, want %q", k.KeyID, tc.id)
			}
			if k.State != tc.state || k.Manager != tc.manager {
				t.Errorf("state %q manager %q, want %q %q", k.State, k.Manager, tc.state, tc.manager)
			}
			if !strings.HasPrefix(k.Arn, "arn:aws:kms:"+ref.Region+":") || !strings.HasSuffix(k.Arn, ":key/"+k.KeyID) {
				t.Errorf("Arn %q does not name key %s", k.Arn, k.KeyID)
			}
			if k.Created.IsZero() || k.DeletionDate.IsZero() == tc.deletion || k.Origin != "AWS_KMS" {
				t.Errorf("created %v, deletion date %v, origin %q", k.Created, k.DeletionDate, k.Origin)
			}
		})
	}
	rot, err := c.RotationStatus(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if !rot.Enabled || rot.PeriodDays != 180 {
		t.Errorf("rotation %+v, want enabled every 180 days", rot)
	}
	if rot, err := c.RotationStatus(ctx, disabled); err != nil || rot.Enabled {
		t.Errorf("rotation of a key never rotated: %+v, %v", rot, err)
	}

	_, err = c.DescribeKey(ctx, "11111111-2222-4333-8444-555555555555")
	if !awskms.IsNotFound(err) {
		t.Errorf("a missing key: %v, want NotFoundException", err)
	}
	_, err = newClient(t, ref, "AKIAWRONG", "wrong-secret").DescribeKey(ctx, enabled)
	se, ok := awskms.AsServiceError(err)
	if !ok || se.StatusCode != 400 || se.Code != "UnrecognizedClientException" || awskms.IsNotFound(err) {
		t.Errorf("wrong credentials: %v (%+v), want 400 UnrecognizedClientException", err, se)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("the error shows the secret: %v", err)
	}
	// A refused connection is no answer from the service.
	off, err := awskms.New(ctx, awskms.Config{Endpoint: "http://127.0.0.1:1", Region: ref.Region, AccessKeyID: rootAK, SecretAccessKey: rootSK})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := off.DescribeKey(ctx, enabled); err == nil {
		t.Error("DescribeKey through a closed port succeeded")
	} else if _, ok := awskms.AsServiceError(err); ok {
		t.Errorf("a refused connection reads as a service answer: %v", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  awskms.Config
		want string
	}{
		{"no region", awskms.Config{Endpoint: "http://127.0.0.1:9"}, "region is required"},
		{"no scheme", awskms.Config{Endpoint: "127.0.0.1:9", Region: "us-east-1"}, "give the scheme"},
		{"path", awskms.Config{Endpoint: "http://127.0.0.1:9/kms", Region: "us-east-1"}, "scheme://host[:port] only"},
		{"user info", awskms.Config{Endpoint: "http://u:p@127.0.0.1:9", Region: "us-east-1"}, "scheme://host[:port] only"},
		{"half a credential", awskms.Config{Region: "us-east-1", AccessKeyID: "AKIA"}, "both the access key id and the secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := awskms.New(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
