package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/embedded"
)

// TestConformanceAgainstAnEndpoint runs the CLI the way a user points it at
// a real account: one dialect, credentials from the ecosystem's variables,
// @emulator scenarios skipped with the reason, and reports that standard
// consumers parse.
func TestConformanceAgainstAnEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	ctx := context.Background()
	envs := map[string]string{
		"SSEAUDIT_ROOT_ACCESS_KEY_ID": "CONFAK", "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": "conf-secret",
		"OSS_ACCESS_KEY_ID": "CONFAK", "OSS_ACCESS_KEY_SECRET": "conf-secret",
		"ALIBABA_CLOUD_ACCESS_KEY_ID": "CONFAK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "conf-secret",
	}
	getenv := func(k string) string { return envs[k] }
	srv, err := embedded.Start(ctx, embedded.Config{DataDir: t.TempDir(), Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)

	out := t.TempDir()
	var stdout, stderr syncBuffer
	root := newRootCommand(env{getenv: getenv, stdout: &stdout, stderr: &stderr})
	root.SetArgs([]string{"conformance", "--endpoint", srv.Endpoint, "--dialect", "oss", "--kms-endpoint", srv.KMSEndpoint,
		"--region", srv.Region, "--tags", "@kms-cmk", "--format", "pretty", "--out", out})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("conformance: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "@emulator: needs the reference implementation's admin hooks") {
		t.Errorf("the output does not say why @emulator scenarios were skipped:\n%s", stdout.String())
	}

	var junit struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
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
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	cases, skipped := 0, 0
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			cases++
			if c.Skipped != nil {
				skipped++
			}
			if c.Failure != nil {
				t.Errorf("junit reports a failure: %s / %s", s.Name, c.Name)
			}
		}
	}
	if cases == 0 || skipped == 0 || skipped == cases || junit.Failures != 0 {
		t.Fatalf("junit.xml: %d cases, %d skipped, %d failures; want some run, some skipped, none failed", cases, skipped, junit.Failures)
	}

	var cucumber []struct {
		Name     string `json:"name"`
		Elements []struct {
			Name  string `json:"name"`
			Steps []struct {
				Result struct {
					Status string `json:"status"`
				} `json:"result"`
			} `json:"steps"`
		} `json:"elements"`
	}
	raw, err = os.ReadFile(filepath.Join(out, "cucumber.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cucumber); err != nil || len(cucumber) == 0 {
		t.Fatalf("cucumber.json does not parse into features: %v", err)
	}
	passedSteps := 0
	for _, f := range cucumber {
		for _, el := range f.Elements {
			for _, st := range el.Steps {
				if st.Result.Status == "passed" {
					passedSteps++
				}
			}
		}
	}
	if passedSteps == 0 {
		t.Fatal("cucumber.json holds no passed step")
	}
}

func TestConformanceRefusesBadFlags(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"dialect without endpoint": {[]string{"--dialect", "oss"}, "need --endpoint"},
		"unknown dialect":          {[]string{"--endpoint", "http://127.0.0.1:1", "--dialect", "gcs"}, "use oss or s3"},
		"no credentials":           {[]string{"--endpoint", "http://127.0.0.1:1", "--dialect", "s3"}, "AWS_ACCESS_KEY_ID"},
		"junit without out":        {[]string{"--format", "junit"}, "--out"},
		"unknown format":           {[]string{"--format", "html"}, "--format"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			root := newRootCommand(env{getenv: func(string) string { return "" }, stdout: &stdout, stderr: &stderr})
			root.SetArgs(append([]string{"conformance"}, c.args...))
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			var ee *exitError
			if errors.As(err, &ee) {
				t.Fatalf("a usage error must not look like a failed suite: %v", err)
			}
		})
	}
}
