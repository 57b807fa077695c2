package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/estate"
)

type scanRun struct {
	findings []string // "RULE resource-uid", sorted
	exit     int
}

func runScanCLI(t *testing.T, getenv func(string) string, args ...string) scanRun {
	t.Helper()
	out := t.TempDir()
	var stdout, stderr syncBuffer
	root := newRootCommand(env{getenv: getenv, stdout: &stdout, stderr: &stderr})
	root.SetArgs(append([]string{"scan", "--out", out}, args...))
	err := root.ExecuteContext(context.Background())
	run := scanRun{exit: exitCode(err)}
	if run.exit == exitFailed {
		t.Fatalf("the scan failed: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Findings []struct {
			Rule     string `json:"rule"`
			Resource struct {
				UID string `json:"uid"`
			} `json:"resource"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("findings.json: %v", err)
	}
	for _, f := range doc.Findings {
		run.findings = append(run.findings, f.Rule+" "+f.Resource.UID)
	}
	slices.Sort(run.findings)
	return run
}

func startSeeded(t *testing.T, fs embedded.Faults) (*embedded.Reference, func(string) string) {
	t.Helper()
	envs := map[string]string{
		"SSEAUDIT_ROOT_ACCESS_KEY_ID": "SCANAK", "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": "scan-secret",
		"OSS_ACCESS_KEY_ID": "SCANAK", "OSS_ACCESS_KEY_SECRET": "scan-secret",
		"AWS_ACCESS_KEY_ID": "SCANAK", "AWS_SECRET_ACCESS_KEY": "scan-secret",
		"ALIBABA_CLOUD_ACCESS_KEY_ID": "SCANAK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "scan-secret",
	}
	getenv := func(k string) string { return envs[k] }
	srv, err := embedded.Start(context.Background(), embedded.Config{DataDir: t.TempDir(), Getenv: getenv, Faults: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	if _, err := estate.Seed(context.Background(), srv); err != nil {
		t.Fatal(err)
	}
	return srv, getenv
}

// TestScanFindsExactlyTheSeededProblems scans the demo estate in both
// dialects and asserts the exact set of findings: each expected one
// present, none extra.
func TestScanFindsExactlyTheSeededProblems(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a seeded reference")
	}
	srv, getenv := startSeeded(t, nil)
	want := []string{
		"SSE-001 oss://demo-unencrypted",
		"SSE-003 oss://demo-disabled-cmk",
		"SSE-004 oss://demo-default-later/legacy-1.csv",
		"SSE-004 oss://demo-default-later/legacy-2.csv",
		"SSE-004 oss://demo-unencrypted/invoices/march.pdf",
		"SSE-004 oss://demo-unencrypted/report-2025.csv",
		"SSE-005 oss://demo-disabled-cmk/archive-2019.zip",
	}
	for _, d := range []string{"oss", "s3"} {
		t.Run(d, func(t *testing.T) {
			run := runScanCLI(t, getenv, "--endpoint", srv.Endpoint, "--dialect", d, "--region", srv.Region,
				"--kms-endpoint", srv.KMSEndpoint, "--history", "")
			got := run.findings
			if d == "s3" {
				got = slices.Clone(got)
				for i := range got {
					got[i] = strings.Replace(got[i], " s3://", " oss://", 1)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if run.exit != exitGate {
				t.Fatalf("exit %d, want %d (high and critical findings, --fail-on high)", run.exit, exitGate)
			}
		})
	}
}

// TestDriftRuleFiresOnlyWhenTheStorageTouchesExistingObjects scans, sets a
// default on a bucket that holds unencrypted objects, and scans again: the
// drift rule fires against the reference's apply-default-to-existing fault
// and stays silent without it.
func TestDriftRuleFiresOnlyWhenTheStorageTouchesExistingObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a seeded reference twice")
	}
	for _, c := range []struct {
		name  string
		fault embedded.Faults
		drift bool
	}{{"correct storage", nil, false}, {"storage applies the default to existing objects", embedded.FaultsOf(embedded.ApplyDefaultToExisting), true}} {
		t.Run(c.name, func(t *testing.T) {
			srv, getenv := startSeeded(t, c.fault)
			hist := filepath.Join(t.TempDir(), "history.db")
			args := []string{"--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint, "--history", hist}
			runScanCLI(t, getenv, args...)
			cl, err := client.New(client.Config{Dialect: client.OSS, Endpoint: srv.Endpoint, Region: srv.Region, AccessKeyID: "SCANAK", AccessKeySecret: "scan-secret"})
			if err != nil {
				t.Fatal(err)
			}
			if err := cl.PutBucketEncryption(context.Background(), estate.Unencrypted, client.Rule{Algorithm: client.AlgorithmKMS}); err != nil {
				t.Fatal(err)
			}
			second := runScanCLI(t, getenv, args...)
			var drift []string
			for _, f := range second.findings {
				if strings.HasPrefix(f, "SSE-007 ") {
					drift = append(drift, f)
				}
			}
			if c.drift && len(drift) != 2 {
				t.Fatalf("drift findings %v, want one per existing object of %s", drift, estate.Unencrypted)
			}
			if !c.drift && len(drift) != 0 {
				t.Fatalf("drift reported against correct storage: %v", drift)
			}
		})
	}
}
