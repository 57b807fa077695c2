package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/estate"
	"github.com/sseaudit/sseaudit/findings"
)

type scanRun struct {
	// findings are "RULE resource-uid", sorted, with " (N objects)" after
	// an aggregated finding and KEY for a KMS key id in its uid.
	findings []string
	// objects are the side file's lines, "RULE bucket/key", sorted.
	objects []string
	exit    int
}

var kmsFact = regexp.MustCompile(`kms_key_id=[^&\s]+`)

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
			ID       string `json:"id"`
			Rule     string `json:"rule"`
			Resource struct {
				UID string `json:"uid"`
			} `json:"resource"`
			Aggregate *struct {
				Objects int    `json:"objects"`
				File    string `json:"file"`
			} `json:"aggregate"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("findings.json: %v", err)
	}
	counts := map[string]int{} // aggregate id -> objects
	for _, f := range doc.Findings {
		s := f.Rule + " " + kmsFact.ReplaceAllString(f.Resource.UID, "kms_key_id=KEY")
		if a := f.Aggregate; a != nil {
			s += fmt.Sprintf(" (%d objects)", a.Objects)
			counts[f.ID] = a.Objects
			if a.File != findings.AffectedFile {
				t.Errorf("%s: aggregate lists its objects in %q, want %s", f.ID, a.File, findings.AffectedFile)
			}
		}
		run.findings = append(run.findings, s)
	}
	slices.Sort(run.findings)
	// Every object of every aggregate is a line of the side file.
	side, err := os.Open(filepath.Join(out, findings.AffectedFile))
	if err != nil {
		t.Fatal(err)
	}
	defer side.Close()
	lines := map[string]int{}
	if err := findings.ReadAffected(side, func(o *findings.AffectedObject) error {
		run.objects = append(run.objects, o.Rule+" "+o.Bucket+"/"+o.Key)
		lines[o.Aggregate]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(lines, counts) {
		t.Errorf("side file lines per aggregate %v, aggregates count %v", lines, counts)
	}
	slices.Sort(run.objects)
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
		"SSE-004 oss://demo-default-later/* (2 objects)",
		"SSE-004 oss://demo-unencrypted/* (2 objects)",
		"SSE-005 oss://demo-disabled-cmk/*?kms_key_id=KEY (1 objects)",
	}
	wantObjects := []string{
		"SSE-004 demo-default-later/legacy-1.csv",
		"SSE-004 demo-default-later/legacy-2.csv",
		"SSE-004 demo-unencrypted/invoices/march.pdf",
		"SSE-004 demo-unencrypted/report-2025.csv",
		"SSE-005 demo-disabled-cmk/archive-2019.zip",
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
			if !slices.Equal(run.objects, wantObjects) {
				t.Fatalf("objects in %s:\n  %s\nwant:\n  %s", findings.AffectedFile, strings.Join(run.objects, "\n  "), strings.Join(wantObjects, "\n  "))
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
			var drift, objects []string
			for _, f := range second.findings {
				if strings.HasPrefix(f, "SSE-007 ") {
					drift = append(drift, f)
				}
			}
			for _, o := range second.objects {
				if strings.HasPrefix(o, "SSE-007 ") {
					objects = append(objects, o)
				}
			}
			if c.drift {
				want := "SSE-007 oss://" + estate.Unencrypted + "/* (2 objects)"
				if len(drift) != 1 || drift[0] != want {
					t.Fatalf("drift findings %v, want %s", drift, want)
				}
				if len(objects) != 2 {
					t.Fatalf("drift objects %v, want each existing object of %s", objects, estate.Unencrypted)
				}
			}
			if !c.drift && (len(drift) != 0 || len(objects) != 0) {
				t.Fatalf("drift reported against correct storage: %v %v", drift, objects)
			}
		})
	}
}
