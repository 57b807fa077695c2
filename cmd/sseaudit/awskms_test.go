package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssdk "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
	"github.com/sseaudit/sseaudit/snapshot"
)

// scanOutput is what a scan wrote: the snapshot's key records by name and
// the findings document.
type scanOutput struct {
	run  cliRun
	keys map[string]snapshot.Key
	doc  findings.Document
	sum  snapshot.Summary
}

func scanInto(t *testing.T, getenv func(string) string, args ...string) scanOutput {
	t.Helper()
	out := t.TempDir()
	run := runCLIEnv(t, getenv, append([]string{"scan", "--out", out, "--history", "", "-q"}, args...)...)
	if run.code == exitFailed {
		t.Fatalf("scan failed (exit 2): %v\n%s", run.err, run.stderr)
	}
	o := scanOutput{run: run, keys: map[string]snapshot.Key{}}
	var err error
	if o.sum, err = snapshot.ReadSummary(filepath.Join(out, "snapshot.json")); err != nil {
		t.Fatal(err)
	}
	for _, k := range o.sum.Keys {
		o.keys[k.KeyID] = k
	}
	raw, err := os.ReadFile(filepath.Join(out, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &o.doc); err != nil {
		t.Fatal(err)
	}
	return o
}

// finding returns the open finding of rule whose message contains all of
// words, or nil.
func (o scanOutput) finding(rule string, words ...string) *findings.Finding {
	for i, f := range o.doc.Findings {
		if f.Rule != rule {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(f.Message, w)
		}
		if ok {
			return &o.doc.Findings[i]
		}
	}
	return nil
}

func (o scanOutput) gap(kind string) *findings.Gap {
	if o.doc.Outcome == nil {
		return nil
	}
	for i, g := range o.doc.Outcome.Gaps {
		if g.Kind == kind {
			return &o.doc.Outcome.Gaps[i]
		}
	}
	return nil
}

// TestScanS3ReadsAWSKMSKeyStates: an S3 bucket on the reference whose
// default names a customer key by ARN and whose objects use a key that is
// then disabled and one then scheduled for deletion. `scan --dialect s3`
// reads the keys through AWS KMS (the default KMS API for s3): the
// snapshot records each key once, under its id, whether the bucket names it
// by ARN or an object by the ARN S3 answers, with AWS's ARNs and states
// (the Alibaba API would answer acs: ARNs, or nothing for an AWS ARN), and
// the findings name the disabled and pending-deletion keys.
func TestScanS3ReadsAWSKMSKeyStates(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a seeded reference")
	}
	ctx := context.Background()
	srv, getenv := startSeeded(t, nil)
	kc, err := awskms.New(ctx, awskms.Config{Endpoint: srv.AWSKMSEndpoint, Region: srv.Region, AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY")})
	if err != nil {
		t.Fatal(err)
	}
	newKey := func() string {
		out, err := kc.SDK().CreateKey(ctx, &awssdk.CreateKeyInput{Description: aws.String("cli aws kms test")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.KeyMetadata.KeyId)
	}
	disabled, deleting := newKey(), newKey()
	arn := "arn:aws:kms:" + srv.Region + ":" + srv.KMSAccount() + ":key/" + disabled
	s3, err := client.New(client.Config{Dialect: client.S3, Endpoint: srv.Endpoint, Region: srv.Region, AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), AccessKeySecret: getenv("AWS_SECRET_ACCESS_KEY")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.CreateBucket(ctx, "aws-keys", &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: arn}); err != nil {
		t.Fatal(err)
	}
	for key, id := range map[string]string{"disabled.csv": arn, "deleting.csv": deleting} {
		body := "sensitive " + key
		if _, err := s3.PutObject(ctx, "aws-keys", key, strings.NewReader(body), int64(len(body)), client.PutOptions{SSE: &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: id}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kc.SDK().DisableKey(ctx, &awssdk.DisableKeyInput{KeyId: aws.String(disabled)}); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.SDK().ScheduleKeyDeletion(ctx, &awssdk.ScheduleKeyDeletionInput{KeyId: aws.String(deleting), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}

	o := scanInto(t, getenv, "--endpoint", srv.Endpoint, "--dialect", "s3", "--region", srv.Region,
		"--kms-endpoint", srv.AWSKMSEndpoint, "--buckets", "aws-keys")
	if len(o.sum.Keys) != 2 {
		t.Errorf("%d key records, want one per key (2): %+v", len(o.sum.Keys), o.sum.Keys)
	}
	for ref, want := range map[string]struct{ id, state string }{
		arn: {disabled, "Disabled"}, disabled: {disabled, "Disabled"}, deleting: {deleting, "PendingDeletion"},
	} {
		k, ok := o.keys[snapshot.KeyID(ref)]
		switch {
		case !ok:
			t.Errorf("no key record for %s, which the bucket or an object names; records: %+v", ref, o.sum.Keys)
		case k.Error != nil || k.State != want.state || k.Arn != "arn:aws:kms:"+srv.Region+":"+srv.KMSAccount()+":key/"+want.id:
			t.Errorf("key %s: state %q arn %q error %+v; want %s through AWS KMS (an arn:aws:kms ARN)", ref, k.State, k.Arn, k.Error, want.state)
		case k.AutomaticRotation != "Disabled" || k.Creator != srv.KMSAccount():
			t.Errorf("key %s: rotation %q creator %q, want GetKeyRotationStatus's Disabled and the AWS account", ref, k.AutomaticRotation, k.Creator)
		}
	}
	if k := o.keys[deleting]; k.DeleteDate == "" {
		t.Errorf("the key pending deletion has no deletion date: %+v", k)
	}
	checks := []struct {
		rule  string
		words []string
	}{
		{"SSE-003", []string{arn, "is disabled"}},           // the bucket default's key is disabled
		{"SSE-005", []string{disabled, "is disabled"}},      // objects under the disabled key
		{"SSE-005", []string{deleting, "pending deletion"}}, // objects under the key pending deletion
		{"SSE-016", []string{deleting, "pending deletion"}}, // the key itself
	}
	for _, c := range checks {
		if o.finding(c.rule, c.words...) == nil {
			var got []string
			for _, f := range o.doc.Findings {
				got = append(got, f.Rule+": "+f.Message)
			}
			t.Errorf("no %s finding naming %q; findings:\n  %s", c.rule, c.words, strings.Join(got, "\n  "))
		}
	}
	if g := o.gap(findings.GapKeys); g != nil {
		t.Errorf("key states read, yet a keys gap: %+v", g)
	}
	if o.run.code != exitGate {
		t.Errorf("exit %d, want %d (critical findings)", o.run.code, exitGate)
	}
}

// TestScanS3WrongAWSCredentialsIsAGap points the scan's AWS KMS at an
// endpoint that does not know the credentials: every key state is unknown,
// recorded as the key's error and as an unaccepted keys gap (exit 1),
// never a clean pass.
func TestScanS3WrongAWSCredentialsIsAGap(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a seeded reference")
	}
	srv, getenv := startSeeded(t, nil)
	other, stop, err := embedded.StartTemp(context.Background(), embedded.Config{Addr: "-"})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	o := scanInto(t, getenv, "--endpoint", srv.Endpoint, "--dialect", "s3", "--region", srv.Region,
		"--kms-endpoint", other.AWSKMSEndpoint, "--buckets", "demo-*", "--fail-on", "none")
	if len(o.sum.Keys) == 0 {
		t.Fatal("no key records: the demo estate names keys")
	}
	for _, k := range o.sum.Keys {
		if k.Error == nil || k.Error.Code != "UnrecognizedClientException" || k.State != "" {
			t.Errorf("key %s: state %q error %+v, want UnrecognizedClientException and no state", k.KeyID, k.State, k.Error)
		}
	}
	g := o.gap(findings.GapKeys)
	if g == nil || g.Accepted || !strings.Contains(g.Detail, "KMS could not describe them") {
		t.Fatalf("want an unaccepted keys gap, got %+v (outcome %+v)", g, o.doc.Outcome)
	}
	if o.run.code != exitGate {
		t.Errorf("exit %d, want %d: an unknown key state fails the gate", o.run.code, exitGate)
	}
}

// TestEmbeddedS3ScanUsesAWSKMS: `scan --dialect s3` with no target scans
// the demo estate through S3, reading its keys through the reference's
// AWS KMS API.
func TestEmbeddedS3ScanUsesAWSKMS(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the embedded reference")
	}
	isolateConfig(t)
	o := scanInto(t, func(string) string { return "" }, "--dialect", "s3")
	if o.sum.Provenance.Target.Dialect != "s3" {
		t.Errorf("scanned in %q, want s3", o.sum.Provenance.Target.Dialect)
	}
	var disabled bool
	for _, k := range o.sum.Keys {
		if k.Error != nil {
			t.Errorf("key %s not described: %+v", k.KeyID, k.Error)
		}
		if !strings.HasPrefix(k.Arn, "arn:aws:kms:") {
			t.Errorf("key %s has ARN %q: not read through AWS KMS", k.KeyID, k.Arn)
		}
		disabled = disabled || k.State == "Disabled"
	}
	if !disabled {
		t.Errorf("no Disabled key among %+v (demo-disabled-cmk)", o.sum.Keys)
	}
	if o.finding("SSE-005", "disabled") == nil || o.gap(findings.GapKeys) != nil {
		t.Errorf("findings %+v, outcome %+v: want SSE-005 for the disabled key and no keys gap", o.doc.Findings, o.doc.Outcome)
	}
}

// TestConformanceS3KMSThroughAWS runs the S3 key scenarios on the embedded
// reference with --dialect s3: they pass, none skipped for lack of a KMS.
func TestConformanceS3KMSThroughAWS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite")
	}
	out := t.TempDir()
	run := runCLIEnv(t, func(string) string { return "" }, "conformance", "--dialect", "s3", "--tags", "@kms", "--format", "pretty", "--out", out)
	if run.code != 0 {
		t.Fatalf("conformance --dialect s3: exit %d: %v\n%s\n%s", run.code, run.err, run.stdout, run.stderr)
	}
	if !strings.Contains(run.stderr, "s3 only, keys through its AWS KMS API") {
		t.Errorf("stderr does not say the keys go through AWS KMS:\n%s", run.stderr)
	}
	var junit struct {
		Suites []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Skipped *struct{} `xml:"skipped"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(raw, &junit); err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			cases++
			if c.Skipped != nil || c.Failure != nil {
				t.Errorf("%s: skipped or failed", c.Name)
			}
		}
	}
	if cases < 15 {
		t.Errorf("%d S3 @kms scenarios ran, want the whole S3 key suite", cases)
	}
}

// TestKMSDialectFlag: a bad --kms-dialect, or AWS KMS with OSS, is bad
// input (exit 2) with a message naming the fix, in scan and conformance.
func TestKMSDialectFlag(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--kms-dialect", "gcp"}, `--kms-dialect "gcp": use aws`},
		{[]string{"scan", "--dialect", "oss", "--kms-dialect", "aws"}, "use --kms-dialect alibaba"},
		{[]string{"scan", "--endpoint", "http://127.0.0.1:1", "--dialect", "oss", "--kms-dialect", "aws"}, "use --kms-dialect alibaba"},
		{[]string{"scan", "--kms-endpoint", "http://127.0.0.1:1"}, "--kms-endpoint needs --endpoint"},
		{[]string{"conformance", "--kms-dialect", "gcp"}, `--kms-dialect "gcp": use aws`},
		{[]string{"conformance", "--dialect", "oss", "--kms-dialect", "aws"}, "use --kms-dialect alibaba"},
	}
	env := func(k string) string {
		return map[string]string{"OSS_ACCESS_KEY_ID": "a", "OSS_ACCESS_KEY_SECRET": "b"}[k]
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			isolateConfig(t)
			run := runCLIEnv(t, env, append(c.args, "--out", t.TempDir())...)
			if run.code != exitFailed || run.err == nil || !strings.Contains(run.err.Error(), c.want) {
				t.Errorf("exit %d, error %v; want exit 2 naming %q", run.code, run.err, c.want)
			}
		})
	}
}
