package steps

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/client"
)

// TestS3KeysThroughAWSKMS runs the S3 key scenarios with only the AWS KMS
// endpoint (no Alibaba KMS API at all): every key they create, disable,
// enable, schedule for deletion or resolve goes through aws-sdk-go-v2, and
// every scenario that needs no key versions must pass, none skipped. The
// ones that need key versions fail saying so, never silently.
func TestS3KeysThroughAWSKMS(t *testing.T) {
	opts := startReference(t, nil)
	if opts.AWSKMS == nil || opts.AWSKMS.Endpoint == "" {
		t.Fatal("Reference gives no AWS KMS endpoint")
	}
	opts.KMS = nil
	delete(opts.Targets, client.OSS)
	var out bytes.Buffer
	opts.Output, opts.Format, opts.Concurrency = &out, "progress", 2
	opts.Tags = "@kms && ~@emulator"
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scenarios) < 10 || res.Passed != len(res.Scenarios) || res.Skipped != 0 {
		t.Log(out.String())
		for _, s := range res.Scenarios {
			if s.Status != "passed" {
				t.Errorf("%s: %s / %s [%s]: %s", s.Status, s.Feature, s.Name, s.Dialect, s.Error)
			}
		}
		t.Fatalf("%d scenarios: %d passed, %d skipped", len(res.Scenarios), res.Passed, res.Skipped)
	}
	for _, s := range res.Scenarios {
		if s.Dialect != string(client.S3) {
			t.Errorf("scenario %s ran in %s", s.Name, s.Dialect)
		}
	}

	// A manual rotation needs key versions, which only the Alibaba API has.
	opts.Tags = "@kms && @emulator && ~@clock"
	out.Reset()
	res, err = Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var rotation bool
	for _, s := range res.Scenarios {
		if strings.Contains(s.Name, "Rotating the CMK") {
			rotation = true
			if s.Status != "failed" || !strings.Contains(s.Error, "Alibaba Cloud KMS API") {
				t.Errorf("%s: %s: %s, want a failure naming the Alibaba API", s.Name, s.Status, s.Error)
			}
		}
	}
	if !rotation {
		t.Errorf("no rotation scenario selected: %s", out.String())
	}
}

// TestOSSKeysNeedAlibabaKMS: with only an AWS KMS endpoint, the OSS key
// scenarios are skipped for lack of a KMS (they cannot use AWS KMS), not
// run and failed.
func TestOSSKeysNeedAlibabaKMS(t *testing.T) {
	opts := startReference(t, nil)
	opts.KMS = nil
	delete(opts.Targets, client.S3)
	opts.Output, opts.Format, opts.Tags = &bytes.Buffer{}, "progress", "@kms-cmk && @kms && ~@emulator"
	res, err := Run(context.Background(), opts)
	if err == nil {
		t.Fatalf("every scenario skipped, yet no error: %+v", res)
	}
	if res.Skipped == 0 || res.Skipped != len(res.Scenarios) || res.Failed != 0 {
		t.Errorf("%d scenarios: %d skipped, %d failed; want all skipped", len(res.Scenarios), res.Skipped, res.Failed)
	}
}
