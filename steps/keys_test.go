package steps

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskmssdk "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sseaudit/sseaudit/features"
)

// TestKeysTheUserBrings runs the @kms scenarios with keys that already
// exist and no KMS endpoint at all, as against a store whose KMS the suite
// cannot drive: the scenarios that only need a key id pass on both
// dialects, those that administer their key are skipped saying so (and
// listed as untested SSE-KMS behaviours), and the keys given are never
// disabled or scheduled for deletion.
func TestKeysTheUserBrings(t *testing.T) {
	opts := startReference(t, nil)
	ctx := context.Background()
	k, err := newAWSKMS(ctx, *opts.AWSKMS)
	if err != nil {
		t.Fatal(err)
	}
	newKey := func() string {
		out, err := k.SDK().CreateKey(ctx, &awskmssdk.CreateKeyInput{Description: aws.String("the user's key")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.KeyMetadata.KeyId)
	}
	keys := []string{newKey(), newKey()}
	disabled := newKey()
	if _, err := k.SDK().DisableKey(ctx, &awskmssdk.DisableKeyInput{KeyId: aws.String(disabled)}); err != nil {
		t.Fatal(err)
	}
	opts.KMS, opts.AWSKMS, opts.Emulator = nil, nil, nil
	opts.Keys, opts.DisabledKey = keys, disabled
	var out bytes.Buffer
	opts.Output, opts.Format, opts.Tags, opts.Concurrency = &out, "progress", features.TagKMS+" && ~"+features.TagEmulator, 2
	res, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]bool{}
	for _, s := range res.Scenarios {
		switch s.Status {
		case "passed":
			ran[s.Dialect] = true
		case "skipped":
			adminOrAlias := strings.Contains(s.Error, "administers its key") || strings.Contains(s.Error, "alias/acs/oss")
			if !adminOrAlias {
				t.Errorf("%s [%s] skipped: %s", s.Name, s.Dialect, s.Error)
			}
			if !strings.Contains(out.String(), "SSE-KMS untested: "+s.Name) {
				t.Errorf("the summary does not list %q as untested", s.Name)
			}
		default:
			t.Errorf("%s: %s [%s]: %s", s.Status, s.Name, s.Dialect, s.Error)
		}
		if strings.Contains(s.Name, "A disabled key cannot encrypt") && s.Status != "passed" {
			t.Errorf("%s [%s] with the disabled key given: %s", s.Name, s.Dialect, s.Status)
		}
	}
	t.Logf("%s", SummaryLine(res))
	if !ran["oss"] || !ran["s3"] || res.Skipped == 0 {
		t.Errorf("ran %v, skipped %d; want scenarios run in both dialects and the administering ones skipped\n%s", ran, res.Skipped, out.String())
	}
	for _, id := range append(keys, disabled) {
		md, err := k.DescribeKey(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := "Enabled"
		if id == disabled {
			want = "Disabled"
		}
		if md.State != want {
			t.Errorf("the user's key %s is %s after the run, want %s", id, md.State, want)
		}
	}

	// Bad key options are refused before anything is sent.
	for _, bad := range []Options{{Keys: []string{"a", "b", "c"}}, {Keys: []string{"a b"}}, {Keys: []string{"x"}, DisabledKey: "x"}} {
		o := opts
		o.Keys, o.DisabledKey = bad.Keys, bad.DisabledKey
		if _, err := Run(ctx, o); err == nil || !strings.Contains(err.Error(), "KMS key") {
			t.Errorf("Keys %q, DisabledKey %q: %v, want an error naming the key", bad.Keys, bad.DisabledKey, err)
		}
	}
}
