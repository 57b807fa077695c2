package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/client"
)

// TestRemediateBadInput: each bad input is a clear error (exit 2) before
// anything is changed.
func TestRemediateBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("scans an estate on the embedded reference")
	}
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		t.Run(string(d), func(t *testing.T) {
			e := startRemEstate(t, d)
			planPath := e.plan(t)
			badConfig := filepath.Join(e.work, "bad.yaml")
			if err := os.WriteFile(badConfig, []byte("profiles: [\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			other := map[client.Dialect]client.Dialect{client.OSS: client.S3, client.S3: client.OSS}[d]
			denyPolicy := map[client.Dialect]string{
				client.S3:  `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::rem-versioned/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
				client.OSS: `{"Version":"1","Statement":[{"Effect":"Deny","Principal":["*"],"Action":["oss:PutObject"],"Resource":["acs:oss:*:*:rem-versioned/*"],"Condition":{"Bool":{"acs:SecureTransport":["false"]}}}]}`,
			}[d]
			cases := []struct {
				name   string
				setup  func(t *testing.T)
				getenv func(string) string
				args   []string
				want   string
			}{
				{name: "plan for another target", args: []string{"--dialect", string(other)}, want: "the plan is for"},
				{name: "plan for another endpoint", args: []string{"--endpoint", "http://127.0.0.1:1"}, want: "the plan is for"},
				{name: "scan older than --max-age", args: []string{"--max-age", "1ms"}, want: "more than --max-age"},
				// The re-scan must judge under the profile the plan's
				// report was judged under (the default one here).
				{name: "re-scan under another profile", args: []string{"--profile", "byok"}, want: `judged under profile "default", but the re-scan would judge under "byok"`},
				{name: "malformed --config", args: []string{"--config", badConfig}, want: "--config"},
				{name: "malformed --waivers", args: []string{"--waivers", badConfig}, want: "--waivers"},
				{name: "credentials without write permission", getenv: remEnv("READER1", "reader-secret"), want: "refuses a write"},
				{name: "bucket policy denies the copy", setup: func(t *testing.T) {
					if err := e.c.PutBucketPolicy(context.Background(), remVersioned, denyPolicy); err != nil {
						t.Fatal(err)
					}
				}, want: "bucket rem-versioned refuses a write"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					if tc.setup != nil {
						tc.setup(t)
					}
					getenv := e.getenv
					if tc.getenv != nil {
						getenv = tc.getenv
					}
					journal := filepath.Join(t.TempDir(), "journal")
					r := runCLIEnv(t, getenv, append([]string{"remediate", "apply", "--plan", planPath, "--yes", "--journal", journal}, tc.args...)...)
					if r.code != exitFailed || !strings.Contains(r.err.Error(), tc.want) {
						t.Fatalf("exit %d, error %v; want exit 2 naming %q", r.code, r.err, tc.want)
					}
					assertUntouched(t, e)
				})
			}
			// A report that does not verify is not planned from.
			if err := os.WriteFile(filepath.Join(e.report, "findings.json"), []byte(`{"tampered":true}`), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runCLIEnv(t, e.getenv, "remediate", "plan", "--report", e.report, "--out", filepath.Join(e.work, "p2.json"))
			if r.code != exitFailed || !strings.Contains(r.err.Error(), "does not verify") {
				t.Fatalf("tampered report: exit %d, %v", r.code, r.err)
			}
		})
	}
}

// assertUntouched: no object was rewritten and no default set.
func assertUntouched(t *testing.T, e *remEstate) {
	t.Helper()
	ctx := context.Background()
	for _, b := range []string{remPlain, remVersioned} {
		if rule, err := e.c.BucketEncryption(ctx, b); err != nil || rule != nil {
			t.Errorf("%s: default %+v (%v) after a refused apply", b, rule, err)
		}
		if err := e.c.ListObjects(ctx, b, "", func(o client.ObjectSummary) error {
			h, err := e.c.HeadObject(ctx, b, o.Key)
			if err != nil {
				return err
			}
			if h.SSE.Algorithm != "" {
				return fmt.Errorf("%s/%s was rewritten (%s) by a refused apply", b, o.Key, h.SSE.Algorithm)
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
	}
}
