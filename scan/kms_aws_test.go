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
// (aws-sdk-go-v2 against the reference): one record per key however it is
// named (the ARN S3 answers on objects, a bare id or ARN in a bucket
// default), carrying the key's ARN, the state and the rotation status,
// exactly as the Alibaba path records them. With credentials AWS KMS does not know, every key is
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
	// the ARN back. Another bucket's default names a key by its bare id.
	mkBucket(t, s3, "awskms-keys", &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: arn(disabled)})
	mkBucket(t, s3, "awskms-keys-byid", &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: rotating})
	// Objects name their key by id, alias or ARN; S3 answers with the
	// ARN of the key the object is stored under, whatever the request
	// named.
	named := map[string]string{}
	for name, ref := range map[string]string{"rotating": rotating, "plain": "alias/scan-plain", "disabled": arn(disabled), "deleting": deleting, "default": ""} {
		r := put(t, s3, "awskms-keys", name, &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: ref})
		named[name] = r.SSE.KeyID
	}
	for name, id := range map[string]string{"rotating": rotating, "plain": plain, "disabled": disabled, "deleting": deleting} {
		if named[name] != arn(id) {
			t.Fatalf("S3 named the key of %s %q, want its ARN %s", name, named[name], arn(id))
		}
	}
	if _, err := sdk.DisableKey(ctx, &awssdk.DisableKeyInput{KeyId: aws.String(disabled)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.ScheduleKeyDeletion(ctx, &awssdk.ScheduleKeyDeletionInput{KeyId: aws.String(deleting), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}

	sum, path, err := scanFile(t, Config{Client: s3, AWSKMS: kc, BucketGlob: "awskms-keys*"})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]snapshot.Key{}
	for _, k := range sum.Keys {
		byID[k.KeyID] = k
	}
	// One record per key, under its bare id, however the estate names it
	// (rotating: by ARN on its object, by id in a bucket default;
	// disabled: by ARN on both), carrying the ARN AWS KMS gives.
	want := []struct {
		id, state, rotation, interval string
		service, deletion             bool
	}{
		{id: rotating, state: "Enabled", rotation: "Enabled", interval: "7776000s"},
		{id: plain, state: "Enabled", rotation: "Disabled"},
		{id: disabled, state: "Disabled", rotation: "Disabled"},
		{id: deleting, state: "PendingDeletion", rotation: "Disabled", deletion: true},
		{id: snapshot.KeyID(named["default"]), state: "Enabled", service: true},
	}
	for _, w := range want {
		k, ok := byID[w.id]
		if !ok {
			t.Errorf("no key record under %q; records: %s", w.id, mustJSON(sum.Keys))
			continue
		}
		if k.Error != nil || k.Arn != arn(w.id) || k.ResolvedKeyID != "" || k.State != w.state || k.ServiceKey != w.service ||
			k.AutomaticRotation != w.rotation || k.RotationInterval != w.interval || (k.DeleteDate != "") != w.deletion || k.CreationDate == "" {
			t.Errorf("%s: %s, want %+v", w.id, mustJSON(k), w)
		}
		if !w.service && k.Creator != srv.KMSAccount() {
			t.Errorf("%s: creator %q, want %q", w.id, k.Creator, srv.KMSAccount())
		}
		if w.service && k.Creator != CreatorAWS {
			t.Errorf("%s: creator %q, want %q", w.id, k.Creator, CreatorAWS)
		}
	}
	if len(sum.Keys) != len(want) || sum.Coverage.KeysReferenced != len(want) || sum.Coverage.KeysDescribed != len(want) {
		t.Errorf("keys %s\ncoverage: %s", mustJSON(sum.Keys), mustJSON(sum.Coverage))
	}
	// The snapshot records the key as S3 answered it (the ARN).
	methods, keys := map[string]string{}, map[string]string{}
	for _, b := range readBuckets(t, path) {
		for _, o := range b.Objects {
			methods[o.Key], keys[o.Key] = o.Method, o.KMSKeyID
		}
	}
	if methods["default"] != snapshot.MethodKMSDefault || methods["plain"] != snapshot.MethodKMSCMK || methods["disabled"] != snapshot.MethodKMSCMK {
		t.Errorf("methods: %v", methods)
	}
	for name, ref := range named {
		if keys[name] != ref || !strings.HasPrefix(ref, "arn:aws:kms:") {
			t.Errorf("object %s records key %q, S3 answered %q", name, keys[name], ref)
		}
	}

	// Credentials AWS KMS does not know: states unknown, recorded as errors.
	sum, _, err = scanFile(t, Config{Client: s3, AWSKMS: awsKMSClient(t, "AKIAWRONG", "wrong-secret"), BucketGlob: "awskms-keys*"})
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
