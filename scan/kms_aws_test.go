package scan

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssdk "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
	"github.com/sseaudit/sseaudit/snapshot"
)

func awsKMSClient(t *testing.T, ak, sk string) *awskms.Client {
	t.Helper()
	c, err := awskms.New(context.Background(), awskms.Config{Endpoint: srv.AWSKMSEndpoint, Region: srv.Region, AccessKeyID: ak, SecretAccessKey: sk})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAWSKMSKeyStates scans an S3 bucket whose objects use customer keys
// in every state an audit tells apart, reading the keys through AWS KMS
// (aws-sdk-go-v2 against the reference): the records carry the ARN the
// objects name, the state and the rotation status, exactly as the Alibaba
// path records them. With credentials AWS KMS does not know, every key is
// an error (a coverage gap), never a state.
func TestAWSKMSKeyStates(t *testing.T) {
	ctx := context.Background()
	kc := awsKMSClient(t, rootAK, rootSK)
	sdk := kc.SDK()
	newKey := func() string {
		out, err := sdk.CreateKey(ctx, &awssdk.CreateKeyInput{Description: aws.String("scan aws kms test")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.KeyMetadata.KeyId)
	}
	rotating, plain, disabled, deleting := newKey(), newKey(), newKey(), newKey()
	if _, err := sdk.EnableKeyRotation(ctx, &awssdk.EnableKeyRotationInput{KeyId: aws.String(rotating), RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.CreateAlias(ctx, &awssdk.CreateAliasInput{AliasName: aws.String("alias/scan-plain"), TargetKeyId: aws.String(plain)}); err != nil {
		t.Fatal(err)
	}
	arn := func(id string) string { return "arn:aws:kms:" + srv.Region + ":" + srv.KMSAccount() + ":key/" + id }
	s3 := rootClient(t, client.S3)
	// The bucket default names its key by ARN: GetBucketEncryption gives
	// the ARN back, so the scan must describe the key under that name.
	mkBucket(t, s3, "awskms-keys", &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: arn(disabled)})
	// Objects name their key by id, alias or ARN; S3 answers with the key
	// the object is stored under (the reference: its bare id).
	named := map[string]string{}
	for name, ref := range map[string]string{"rotating": rotating, "plain": "alias/scan-plain", "disabled": arn(disabled), "deleting": deleting, "default": ""} {
		r := put(t, s3, "awskms-keys", name, &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: ref})
		named[name] = r.SSE.KeyID
	}
	if _, err := sdk.DisableKey(ctx, &awssdk.DisableKeyInput{KeyId: aws.String(disabled)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.ScheduleKeyDeletion(ctx, &awssdk.ScheduleKeyDeletionInput{KeyId: aws.String(deleting), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}

	sum, path, err := scanFile(t, Config{Client: s3, AWSKMS: kc, BucketGlob: "awskms-keys"})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]snapshot.Key{}
	for _, k := range sum.Keys {
		byID[k.KeyID] = k
	}
	want := []struct {
		ref, id, state, rotation, interval string
		service, deletion                  bool
	}{
		{ref: named["rotating"], id: rotating, state: "Enabled", rotation: "Enabled", interval: "7776000s"},
		{ref: named["plain"], id: plain, state: "Enabled", rotation: "Disabled"},
		{ref: named["disabled"], id: disabled, state: "Disabled", rotation: "Disabled"},
		{ref: arn(disabled), id: disabled, state: "Disabled", rotation: "Disabled"},
		{ref: named["deleting"], id: deleting, state: "PendingDeletion", rotation: "Disabled", deletion: true},
		{ref: named["default"], state: "Enabled", service: true},
	}
	for _, w := range want {
		k, ok := byID[w.ref]
		if !ok {
			t.Errorf("no key record under %q, the name the storage gave; records: %s", w.ref, mustJSON(sum.Keys))
			continue
		}
		if k.Error != nil || !strings.HasSuffix(k.Arn, ":key/"+bareKeyID(w.ref)) && k.ResolvedKeyID == "" || k.State != w.state || k.ServiceKey != w.service ||
			k.AutomaticRotation != w.rotation || k.RotationInterval != w.interval || (k.DeleteDate != "") != w.deletion || k.CreationDate == "" {
			t.Errorf("%s: %s", w.ref, mustJSON(k))
		}
		if w.id != "" && (k.Arn != arn(w.id) || bareKeyID(k.Arn) != w.id || k.Creator != srv.KMSAccount()) {
			t.Errorf("%s: arn %q creator %q, want %q %q", w.ref, k.Arn, k.Creator, arn(w.id), srv.KMSAccount())
		}
		if w.ref == arn(disabled) && k.ResolvedKeyID != disabled {
			t.Errorf("the ARN record resolves to %q, want %q", k.ResolvedKeyID, disabled)
		}
		if w.service && k.Creator != CreatorAWS {
			t.Errorf("%s: creator %q, want %q", w.ref, k.Creator, CreatorAWS)
		}
	}
	if sum.Coverage.KeysReferenced != len(want) || sum.Coverage.KeysDescribed != len(want) {
		t.Errorf("coverage: %s", mustJSON(sum.Coverage))
	}
	methods := map[string]string{}
	for _, b := range readBuckets(t, path) {
		for _, o := range b.Objects {
			methods[o.Key] = o.Method
		}
	}
	if methods["default"] != snapshot.MethodKMSDefault || methods["plain"] != snapshot.MethodKMSCMK || methods["disabled"] != snapshot.MethodKMSCMK {
		t.Errorf("methods: %v", methods)
	}

	// Credentials AWS KMS does not know: states unknown, recorded as errors.
	sum, _, err = scanFile(t, Config{Client: s3, AWSKMS: awsKMSClient(t, "AKIAWRONG", "wrong-secret"), BucketGlob: "awskms-keys"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Coverage.KeysDescribed != 0 || len(sum.Keys) != len(want) {
		t.Errorf("wrong credentials: coverage %s", mustJSON(sum.Coverage))
	}
	for _, k := range sum.Keys {
		if k.Error == nil || k.Error.Code != "UnrecognizedClientException" || k.State != "" || k.Missing {
			t.Errorf("wrong credentials: key %s", mustJSON(k))
		}
	}
}
