package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/embedded"
)

// TestConformanceWithTheUsersKeys points the CLI at an S3 store that drops
// the SSE headers of copy and multipart responses but encrypts, with an
// existing key (--kms-key) and no KMS endpoint: the banner names the
// SSE-KMS behaviours left untested, the run fails with low-severity header
// findings only, and the summary, junit.xml and cucumber.json all carry
// the same failed expectations.
func TestConformanceWithTheUsersKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	ctx := context.Background()
	envs := map[string]string{
		"SSEAUDIT_ROOT_ACCESS_KEY_ID": "CONFAK", "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": "conf-secret",
		"AWS_ACCESS_KEY_ID": "CONFAK", "AWS_SECRET_ACCESS_KEY": "conf-secret",
	}
	getenv := func(k string) string { return envs[k] }
	srv, err := embedded.Start(ctx, embedded.Config{DataDir: t.TempDir(), Getenv: getenv,
		Faults: embedded.FaultsOf(embedded.OmitSSEHeaderCopyMultipart)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	key, err := srv.CreateKeyInRegion(ctx, srv.Region, "the user's key")
	if err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	var stdout, stderr syncBuffer
	root := newRootCommand(env{getenv: getenv, stdout: &stdout, stderr: &stderr})
	root.SetArgs([]string{"conformance", "--endpoint", srv.Endpoint, "--dialect", "s3", "--region", srv.Region,
		"--kms-key", key, "--s3-default-key-alias", "alias/acs/oss", "--tags", "@kms-cmk && ~@emulator", "--format", "pretty", "--out", out})
	err = root.ExecuteContext(ctx)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("conformance: %v, want exit 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"SSE-KMS untested: A disabled key stops reads and writes until it is enabled again [s3]: @kms: administers its key",
		"SSE-KMS untested: A disabled key cannot encrypt [s3]: @kms: needs a disabled key",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, stderr.String())
		}
	}
	summary := stdout.String()[strings.LastIndex(stdout.String(), "sseaudit conformance:"):]
	junit, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "cucumber.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cucumber []struct {
		Elements []struct {
			Name  string `json:"name"`
			Steps []struct {
				Result struct {
					Status string `json:"status"`
				} `json:"result"`
			} `json:"steps"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(raw, &cucumber); err != nil {
		t.Fatal(err)
	}
	var cucumberErrs []string
	for _, f := range cucumber {
		for _, el := range f.Elements {
			for _, st := range el.Steps {
				if st.Result.Status == "failed" {
					cucumberErrs = append(cucumberErrs, el.Name)
				}
			}
		}
	}
	if !strings.Contains(summary, "[low, response header]") || strings.Contains(summary, "[high") {
		t.Errorf("the summary does not report only low header findings:\n%s", summary)
	}
	failedLines := strings.Count(summary, "\n  failed: ")
	if failedLines == 0 || strings.Count(string(junit), "<failure ") != failedLines || len(cucumberErrs) != failedLines {
		t.Errorf("failed scenarios: %d in the summary, %d in junit.xml, %d in cucumber.json", failedLines, strings.Count(string(junit), "<failure "), len(cucumberErrs))
	}
	if !strings.Contains(string(junit), "[low, response header]") || !strings.Contains(string(raw), `[low, response header]`) {
		t.Error("junit.xml or cucumber.json lacks the failed expectations")
	}
}
