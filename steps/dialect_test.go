package steps

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskmssdk "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/results"
)

// TestS3DefaultKeyIsTheStoresOwn: on S3 the default KMS key is the one the
// store answers with, reported in the Result, not alias/acs/oss resolved
// through Alibaba KMS; a customer key named for an object asked for KMS
// without a key id is a wrong key (high), as is a store that answers
// another default key later in the run.
func TestS3DefaultKeyIsTheStoresOwn(t *testing.T) {
	opts := startReference(t, nil)
	opts.KMS = nil // no Alibaba API: nothing may resolve alias/acs/oss through it
	delete(opts.Targets, client.OSS)
	var out bytes.Buffer
	opts.Output, opts.Format, opts.Tags = &out, "progress", "@kms-default && ~@emulator"
	res, err := Run(context.Background(), opts)
	if err != nil || res.Failed != 0 || res.Passed == 0 {
		t.Fatalf("Run = %d passed %d failed, %v\n%s", res.Passed, res.Failed, err, out.String())
	}
	if res.DefaultKeys["s3"] == "" || !strings.Contains(out.String(), "default KMS key (s3): "+res.DefaultKeys["s3"]) {
		t.Errorf("DefaultKeys = %v; the summary must name it:\n%s", res.DefaultKeys, out.String())
	}

	// A customer key is not the store's managed key.
	r, err := newRunner(opts)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{r: r, rec: &record{}, dialect: client.S3}
	k, err := w.requireAWSKMS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ck, err := k.SDK().CreateKey(context.Background(), &awskmssdk.CreateKeyInput{Description: aws.String("a customer key")})
	if err != nil {
		t.Fatal(err)
	}
	m := method{name: methodKMSDefault, algorithm: client.AlgorithmKMS}
	err = w.checkSSE("the PutObject response", client.SSE{Algorithm: client.AlgorithmKMS, KeyID: aws.ToString(ck.KeyMetadata.KeyId)}, m)
	var se *sseErr
	if !errors.As(err, &se) || se.kind != sseWrong || !strings.Contains(err.Error(), "KeyManager CUSTOMER") {
		t.Fatalf("a customer key as the default: %v, want a wrong-key difference naming its manager", err)
	}
	var x *expErr
	if !errors.As(readSSE(err), &x) || x.sev != results.SeverityHigh {
		t.Errorf("classified %v, want high", x)
	}
	// Once learned, another key is wrong.
	r.learnDefaultKey(client.S3, res.DefaultKeys["s3"])
	if err := w.checkSSE("x", client.SSE{Algorithm: client.AlgorithmKMS, KeyID: "arn:aws:kms:r:1:key/other"}, m); err == nil {
		t.Error("another default key later in the run passed")
	}
	if err := w.checkSSE("x", client.SSE{Algorithm: client.AlgorithmKMS, KeyID: res.DefaultKeys["s3"]}, m); err != nil {
		t.Errorf("the learned default key: %v", err)
	}
}

// TestPreconditionsOnAStoreThatEncryptsEveryBucket runs the scenarios that
// need a bucket without a default rule against a store that gives every
// bucket SSE-S3 and keeps it when it is deleted (AWS S3 since 2023): none
// may fail for that; they are skipped saying why, and the others pass.
func TestPreconditionsOnAStoreThatEncryptsEveryBucket(t *testing.T) {
	ctx := context.Background()
	opts, stop, err := reference(ctx, t.TempDir(), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(ctx)
	delete(opts.Targets, client.OSS)
	var out bytes.Buffer
	opts.Output, opts.Format, opts.Tags, opts.Concurrency = &out, "progress", "~@emulator", 2
	res, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var skippedForRule int
	for _, s := range res.Scenarios {
		switch {
		case s.Status == results.StatusFailed:
			t.Errorf("failed: %s [%s]: %s", s.Name, s.Dialect, s.Error)
		case s.Status == results.StatusSkipped && strings.Contains(s.Error, "keeps a default encryption rule"):
			skippedForRule++
		case s.Status == results.StatusSkipped:
			t.Errorf("skipped for another reason: %s: %s", s.Name, s.Error)
		}
	}
	if skippedForRule == 0 || res.Passed == 0 {
		t.Errorf("%s; want some skipped for the rule the store keeps, some passed", SummaryLine(res))
	}
}
