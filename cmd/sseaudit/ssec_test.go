package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestScanSSECAndUnreadableKMS scans an S3 estate holding SSE-C objects
// (written to a bucket that unblocked SSE-C) and SSE-KMS objects whose
// CMK is then disabled, with --read-probe all: the SSE-C objects are
// recorded as sse-c and reported by SSE-023 (not as errors, coverage gaps,
// unencrypted or unrecognised objects, and never probed), the bucket by
// SSE-024, the unreadable KMS objects by SSE-022; `sseaudit audit` puts
// both in the HTML and Markdown report.
func TestScanSSECAndUnreadableKMS(t *testing.T) {
	ctx := context.Background()
	srv, getenv, _, kc := startEmpty(t)
	sc := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(getenv("OSS_ACCESS_KEY_ID"), getenv("OSS_ACCESS_KEY_SECRET"), "")})
	const bucket = "ssec-estate"
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
			BlockedEncryptionTypes:             &s3types.BlockedEncryptionTypes{EncryptionType: []s3types.EncryptionType{"NONE"}},
		}}}}); err != nil {
		t.Fatal(err)
	}
	customerKey := bytes.Repeat([]byte{0x3c}, 32)
	sum := md5.Sum(customerKey)
	locked, open := createCMK(t, kc), createCMK(t, kc)
	put := func(key string, in s3.PutObjectInput) {
		t.Helper()
		in.Bucket, in.Key, in.Body = aws.String(bucket), aws.String(key), strings.NewReader("data of "+key)
		if _, err := sc.PutObject(ctx, &in); err != nil {
			t.Fatalf("PutObject %s: %v", key, err)
		}
	}
	ssec := s3.PutObjectInput{SSECustomerAlgorithm: aws.String("AES256"),
		SSECustomerKey:    aws.String(base64.StdEncoding.EncodeToString(customerKey)),
		SSECustomerKeyMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))}
	put("ssec/a.bin", ssec)
	put("ssec/b.bin", ssec)
	put("kms/locked.bin", s3.PutObjectInput{ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(locked)})
	put("kms/open.bin", s3.PutObjectInput{ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(open)})
	put("sse-s3.bin", s3.PutObjectInput{})
	if _, err := kc.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(locked)}); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		switch k {
		case "AWS_ACCESS_KEY_ID":
			return getenv("OSS_ACCESS_KEY_ID")
		case "AWS_SECRET_ACCESS_KEY":
			return getenv("OSS_ACCESS_KEY_SECRET")
		}
		return getenv(k)
	}
	ruleKeys := func(doc findings.Document, rule string) []string {
		var out []string
		for _, f := range doc.Findings {
			if f.Rule != rule {
				continue
			}
			if f.Aggregate != nil {
				for _, s := range f.Aggregate.Sample {
					out = append(out, s.Key)
				}
			} else if f.Resource.Key != "" {
				out = append(out, f.Resource.Key)
			} else {
				out = append(out, f.Resource.Bucket)
			}
		}
		slices.Sort(out)
		return out
	}

	out := filepath.Join(t.TempDir(), "scan")
	r := runCLIEnv(t, env, "scan", "--endpoint", srv.Endpoint, "--dialect", "s3", "--region", srv.Region,
		"--read-probe", "all", "--history", "", "--out", out)
	if r.code != exitGate {
		t.Fatalf("scan: exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	doc := readFindingsDoc(t, filepath.Join(out, "findings.json"))
	for rule, want := range map[string][]string{
		"SSE-023": {"ssec/a.bin", "ssec/b.bin"},
		"SSE-022": {"kms/locked.bin"},
		"SSE-024": {bucket},
		"SSE-004": nil, "SSE-008": nil, "SSE-014": nil, "SSE-013": nil,
	} {
		if got := ruleKeys(doc, rule); !slices.Equal(got, want) {
			t.Errorf("%s names %v, want %v", rule, got, want)
		}
	}
	if doc.Outcome == nil {
		t.Fatal("no outcome")
	}
	// No objects gap: an SSE-C object is read, not failed. (A keys gap
	// remains: the scan was given no KMS endpoint, which is the point.)
	for _, g := range doc.Outcome.Gaps {
		if g.Kind != findings.GapKeys {
			t.Errorf("gap %+v: SSE-C objects are no coverage gap", g)
		}
	}
	err := snapshot.EachBucket(filepath.Join(out, "snapshot.json"), func(b snapshot.Bucket) error {
		if b.SSECBlocked == nil || *b.SSECBlocked {
			t.Errorf("%s: ssec_blocked %v, want false", b.Name, b.SSECBlocked)
		}
		for _, o := range b.Objects {
			isSSEC := strings.HasPrefix(o.Key, "ssec/")
			if isSSEC != (o.Method == snapshot.MethodSSEC) || (isSSEC && (o.SSE != "SSE-C" || o.Error != nil || o.ReadProbed)) {
				t.Errorf("%s: method %s sse %q error %v probed %v", o.Key, o.Method, o.SSE, o.Error, o.ReadProbed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(customerKey))) {
		t.Fatal("the snapshot holds the customer key")
	}

	// The signed report set says the same, in HTML and Markdown.
	work := t.TempDir()
	report := filepath.Join(work, "report")
	r = runCLIEnv(t, env, "audit", "--endpoint", srv.Endpoint, "--dialect", "s3", "--region", srv.Region,
		"--read-probe", "all", "--history", "", "--out", report, "--signing-key", filepath.Join(work, "keys", "signing.key"), "--quiet")
	if r.code != exitGate {
		t.Fatalf("audit: exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	for _, name := range []string{"index.html", "summary.md"} {
		b, err := os.ReadFile(filepath.Join(report, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"SSE-023", "customer-provided key (SSE-C)", "SSE-022", "SSE-024"} {
			if !strings.Contains(string(b), s) {
				t.Errorf("%s lacks %q", name, s)
			}
		}
	}
}
