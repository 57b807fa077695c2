package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	yaml "go.yaml.in/yaml/v3"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestBinaryExitCodesForBadInput runs the real binary: every kind of bad
// input exits 2 with one message on stderr naming the problem, never 1
// (which means findings) and never 0.
func TestBinaryExitCodesForBadInput(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("badpolicy/broken.rego", "package x\n\ndeny contains f if {\n  f := \n}\n")
	badWaivers := write("waivers.yaml", "waivers:\n  - rule: SSE-004\n    resource: \"oss://x/*\"\n    expires: someday\n")
	badConfig := write("config.yaml", "profiles:\n  strict:\n    allowed_methods: [rot13]\n")
	badSchedule := write("schedule.yaml", "jobs:\n  - name: x\n    schedule: 'every tuesday'\n    output: o\n")
	out := filepath.Join(dir, "out")
	hist := []string{"--history", ""}
	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"mistyped command", []string{"scna"}, `unknown command "scna"`},
		{"unknown flag", []string{"scan", "--bogus"}, "unknown flag: --bogus"},
		{"bad flag value", []string{"scan", "--concurrency", "many"}, "--concurrency"},
		{"no requests in flight", []string{"scan", "--concurrency", "0"}, "--concurrency 0"},
		{"negative request rate", []string{"scan", "--request-rate", "-5"}, "--request-rate -5"},
		{"unknown severity", []string{"scan", "--fail-on", "severe"}, `--fail-on "severe"`},
		{"rego syntax error, even with --fail-on none", append([]string{"scan", "--policy", filepath.Join(dir, "badpolicy"), "--fail-on", "none", "--out", out}, hist...), "broken.rego:5"},
		{"malformed waiver", append([]string{"scan", "--waivers", badWaivers, "--out", out}, hist...), "expires"},
		{"malformed config", append([]string{"scan", "--config", badConfig, "--profile", "strict", "--out", out}, hist...), "rot13"},
		{"unknown profile", append([]string{"scan", "--profile", "nope", "--out", out}, hist...), "nope"},
		{"stdout as --out", append([]string{"scan", "--out", "-"}, hist...), "--format"},
		{"endpoint without a scheme", append([]string{"scan", "--endpoint", "localhost:9000", "--dialect", "oss", "--out", out}, hist...), "scheme"},
		{"unknown dialect", append([]string{"scan", "--endpoint", "http://127.0.0.1:9", "--dialect", "gcs", "--out", out}, hist...), `--dialect "gcs"`},
		{"no credentials", append([]string{"scan", "--endpoint", "http://127.0.0.1:9", "--dialect", "s3", "--out", out}, hist...), "AWS_ACCESS_KEY_ID"},
		{"unknown gap kind", append([]string{"scan", "--accept-gaps", "everything", "--out", out}, hist...), "--accept-gaps"},
		{"unknown format", append([]string{"scan", "--format", "pdf", "--out", out}, hist...), `--format "pdf"`},
		{"audit: same bad severity", []string{"audit", "--fail-on", "severe"}, `--fail-on "severe"`},
		{"bad environment value", append([]string{"scan", "--out", out}, hist...), "SSEAUDIT_FAIL_ON"},
		{"malformed schedule", []string{"schedule", "--config", badSchedule, "--once", "--listen", "off", "--db", filepath.Join(dir, "h.db")}, "schedule"},
		{"report verify of nothing", []string{"report", "verify", filepath.Join(dir, "nope")}, "nope"},
		{"diff of nothing", []string{"diff", filepath.Join(dir, "a"), filepath.Join(dir, "b")}, filepath.Join(dir, "a")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			cmd.Env = cleanEnv()
			if c.name == "bad environment value" {
				cmd.Env = append(cmd.Env, "SSEAUDIT_FAIL_ON=severe")
			}
			cmd.Dir = dir
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr does not name the problem (%q):\n%s", c.want, stderr.String())
			}
			if strings.Contains(stderr.String(), "panic") {
				t.Errorf("panic:\n%s", stderr.String())
			}
		})
	}
}

// cleanEnv is the process environment without sseaudit's or the clouds'
// variables, with HOME in a temporary place.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SSEAUDIT_") || strings.HasPrefix(k, "OSS_") || strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "ALIBABA_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func readFindingsDoc(t *testing.T, path string) findings.Document {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var d findings.Document
	if err := json.NewDecoder(fh).Decode(&d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// TestUnreadableTargetIsNeverComplete: wrong secret, unknown access key,
// wrong region, closed port. Each exits 2 with one line on stderr saying
// what failed and what to try; the snapshot and findings are still written
// and say the scan is incomplete and the verdict an error; an audit signs
// a report that says the same.
func TestUnreadableTargetIsNeverComplete(t *testing.T) {
	srv, _ := startSeeded(t, nil)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	creds := func(id, secret string) func(string) string {
		m := map[string]string{"OSS_ACCESS_KEY_ID": id, "OSS_ACCESS_KEY_SECRET": secret, "AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": secret}
		return func(k string) string { return m[k] }
	}
	cases := []struct {
		name, dialect, endpoint, region string
		getenv                          func(string) string
		hint                            string
	}{
		{"oss wrong secret", "oss", srv.Endpoint, srv.Region, creds("SCANAK", "wrong"), "check OSS_ACCESS_KEY_SECRET"},
		{"s3 wrong secret", "s3", srv.Endpoint, srv.Region, creds("SCANAK", "wrong"), "check AWS_SECRET_ACCESS_KEY"},
		{"oss unknown access key", "oss", srv.Endpoint, srv.Region, creds("NOBODY", "scan-secret"), "check OSS_ACCESS_KEY_ID"},
		{"s3 unknown access key", "s3", srv.Endpoint, srv.Region, creds("NOBODY", "scan-secret"), "check AWS_ACCESS_KEY_ID"},
		{"s3 wrong region", "s3", srv.Endpoint, "eu-west-1", creds("SCANAK", "scan-secret"), "check --region"},
		{"closed port", "oss", closedURL, srv.Region, creds("SCANAK", "scan-secret"), "nothing listens there"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "scan")
			r := runCLIEnv(t, c.getenv, "scan", "--endpoint", c.endpoint, "--dialect", c.dialect, "--region", c.region, "--history", "", "--out", out)
			if r.code != exitFailed {
				t.Fatalf("exit %d, want 2: %v\n%s", r.code, r.err, r.stdout)
			}
			if msg := r.err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, c.hint) {
				t.Errorf("the error is not one line with the hint %q: %q", c.hint, msg)
			}
			if strings.Contains(r.err.Error(), "wrong") && strings.Contains(c.name, "secret") && strings.Contains(r.stdout+r.err.Error(), "=wrong") {
				t.Errorf("the secret leaks into the output")
			}
			sum, err := snapshot.ReadSummary(filepath.Join(out, "snapshot.json"))
			if err != nil {
				t.Fatal(err)
			}
			if sum.Complete {
				t.Error("the snapshot of a target that could not be read is marked complete")
			}
			doc := readFindingsDoc(t, filepath.Join(out, "findings.json"))
			if doc.Scan.Complete || doc.Outcome == nil || doc.Outcome.Verdict != findings.VerdictError || doc.Outcome.ExitCode != 2 {
				t.Errorf("findings.json: complete %v outcome %+v", doc.Scan.Complete, doc.Outcome)
			}
			if !strings.Contains(r.stdout, "verdict:     ERROR") {
				t.Errorf("the summary does not say ERROR:\n%s", r.stdout)
			}
			// The stored evidence is judged the same way later.
			again := runCLIEnv(t, c.getenv, "scan", "--from-snapshot", filepath.Join(out, "snapshot.json"), "--history", "", "--out", filepath.Join(t.TempDir(), "again"))
			if again.code != exitFailed {
				t.Errorf("--from-snapshot of an unreadable target: exit %d: %v", again.code, again.err)
			}
		})
	}

	t.Run("audit signs a report that says so", func(t *testing.T) {
		isolateConfig(t)
		out := filepath.Join(t.TempDir(), "report")
		r := runCLIEnv(t, creds("SCANAK", "wrong"), "audit", "--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region,
			"--history", "", "--out", out, "--signing-key", filepath.Join(t.TempDir(), "k"))
		if r.code != exitFailed {
			t.Fatalf("exit %d, want 2: %v", r.code, r.err)
		}
		m, err := reports.ReadModel(filepath.Join(out, reports.ModelFile))
		if err != nil {
			t.Fatal(err)
		}
		if o := m.Findings.Outcome; o == nil || o.Verdict != findings.VerdictError || m.Findings.Scan.Complete {
			t.Errorf("report.json outcome %+v complete %v", o, m.Findings.Scan.Complete)
		}
		if _, err := os.Stat(filepath.Join(out, "manifest.sig")); err != nil {
			t.Errorf("the report is not signed: %v", err)
		}
	})
}

func runCLIEnv(t *testing.T, getenv func(string) string, args ...string) cliRun {
	t.Helper()
	var stdout, stderr syncBuffer
	root := newRootCommand(env{getenv: getenv, stdout: &stdout, stderr: &stderr})
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return cliRun{stdout: stdout.String(), stderr: stderr.String(), err: err, code: exitCode(err)}
}

// headForbidden is a proxy in front of the reference that refuses every
// HEAD (a principal allowed to list but not to read object metadata).
func headForbidden(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && strings.Trim(r.URL.Path, "/") != "" && strings.Contains(strings.Trim(r.URL.Path, "/"), "/") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// TestCoverageGapsFailTheDefaultGate: a scan that inspected none of the
// objects it listed, or that could not know the state of the KMS keys in
// use (no --kms-endpoint), must not pass; --accept-gaps names what the
// user accepts, and the report still lists it.
func TestCoverageGapsFailTheDefaultGate(t *testing.T) {
	ctx := context.Background()
	srv, getenv, c, kc := startEmpty(t)
	cmk := createCMK(t, kc)
	if err := c.CreateBucket(ctx, "gap-cmk", &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: cmk}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := c.PutObject(ctx, "gap-cmk", k, strings.NewReader("x"), 1, client.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"scan", "--dialect", "oss", "--region", srv.Region, "--history", "", "--fail-on", "high"}
	cases := []struct {
		name     string
		args     []string
		wantExit int
		wantGap  string
		accepted bool
	}{
		{"everything read", []string{"--endpoint", srv.Endpoint, "--kms-endpoint", srv.KMSEndpoint}, 0, "", false},
		{"0 of 3 objects inspected", []string{"--endpoint", headForbidden(t, srv.Endpoint), "--kms-endpoint", srv.KMSEndpoint}, exitGate, findings.GapObjects, false},
		{"0 of 3 objects inspected, accepted", []string{"--endpoint", headForbidden(t, srv.Endpoint), "--kms-endpoint", srv.KMSEndpoint, "--accept-gaps", "objects"}, 0, findings.GapObjects, true},
		{"no --kms-endpoint", []string{"--endpoint", srv.Endpoint}, exitGate, findings.GapKeys, false},
		{"no --kms-endpoint, accepted", []string{"--endpoint", srv.Endpoint, "--accept-gaps", "keys"}, 0, findings.GapKeys, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "scan")
			r := runCLIEnv(t, getenv, append(append(slices.Clone(base), "--out", out), tc.args...)...)
			if r.code != tc.wantExit {
				t.Fatalf("exit %d, want %d: %v\n%s", r.code, tc.wantExit, r.err, r.stdout)
			}
			doc := readFindingsDoc(t, filepath.Join(out, "findings.json"))
			var kinds []string
			for _, g := range doc.Outcome.Gaps {
				kinds = append(kinds, g.Kind)
				if g.Kind == tc.wantGap && g.Accepted != tc.accepted {
					t.Errorf("gap %s accepted %v, want %v", g.Kind, g.Accepted, tc.accepted)
				}
			}
			if tc.wantGap == "" && len(kinds) > 0 || tc.wantGap != "" && !slices.Contains(kinds, tc.wantGap) {
				t.Errorf("gaps %v, want %q", kinds, tc.wantGap)
			}
			if tc.wantGap != "" && !strings.Contains(r.stdout, "gap:") {
				t.Errorf("the summary does not name the gap:\n%s", r.stdout)
			}
		})
	}
}

func createCMK(t *testing.T, kc *kmssdk.Client) string {
	t.Helper()
	out, err := kc.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String("gap test CMK")})
	if err != nil {
		t.Fatal(err)
	}
	return tea.StringValue(out.Body.KeyMetadata.KeyId)
}

// TestScanAuditScheduleAgree runs scan, audit and one scheduled run over
// the same estate: they must report the same findings, the same exit code
// and the same outcome, because all three are the one pipeline.
func TestScanAuditScheduleAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("scans a seeded reference three times")
	}
	isolateConfig(t)
	srv, getenv := startSeeded(t, nil)
	work := t.TempDir()
	target := []string{"--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint, "--history", ""}

	type verdict struct {
		findings []string
		exit     int
		outcome  findings.Outcome
	}
	fromDoc := func(d findings.Document, exit int) verdict {
		v := verdict{exit: exit}
		for _, f := range d.Findings {
			v.findings = append(v.findings, f.ID+" "+f.Rule+" "+f.Resource.UID)
		}
		slices.Sort(v.findings)
		if d.Outcome != nil {
			v.outcome = *d.Outcome
		}
		return v
	}

	scanOut := filepath.Join(work, "scan")
	r := runCLIEnv(t, getenv, append([]string{"scan", "--out", scanOut}, target...)...)
	scanV := fromDoc(readFindingsDoc(t, filepath.Join(scanOut, "findings.json")), r.code)

	auditOut := filepath.Join(work, "audit")
	r = runCLIEnv(t, getenv, append([]string{"audit", "--out", auditOut, "--signing-key", filepath.Join(work, "k")}, target...)...)
	m, err := reports.ReadModel(filepath.Join(auditOut, reports.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	auditV := fromDoc(*m.Findings, r.code)

	vars := map[string]string{"J_AK": "SCANAK", "J_SK": "scan-secret"}
	cfg := filepath.Join(work, "schedule.yaml")
	os.WriteFile(cfg, []byte(`jobs:
- name: same
  target: {endpoint: "`+srv.Endpoint+`", dialect: oss, region: "`+srv.Region+`", access_key_id_env: J_AK, access_key_secret_env: J_SK,
           kms_endpoint: "`+srv.KMSEndpoint+`", kms_access_key_id_env: J_AK, kms_access_key_secret_env: J_SK}
  output: "`+filepath.Join(work, "runs")+`"
  schedule: "@every 6h"
`), 0o600)
	var stdout, stderr syncBuffer
	e := env{getenv: func(k string) string { return vars[k] }, stdout: &stdout, stderr: &stderr}
	err = runSchedule(context.Background(), e, scheduleFlags{config: cfg, db: filepath.Join(work, "h.db"), listen: "off", once: true})
	runs, _ := os.ReadDir(filepath.Join(work, "runs"))
	if len(runs) != 1 {
		t.Fatalf("schedule: %v, runs %v\n%s%s", err, runs, stdout.String(), stderr.String())
	}
	schedV := fromDoc(readFindingsDoc(t, filepath.Join(work, "runs", runs[0].Name(), "findings.json")), exitCode(err))

	if scanV.exit != exitGate || len(scanV.findings) == 0 {
		t.Fatalf("scan: exit %d, %d findings (the demo estate has high findings)", scanV.exit, len(scanV.findings))
	}
	for name, v := range map[string]verdict{"audit": auditV, "schedule": schedV} {
		if !slices.Equal(v.findings, scanV.findings) {
			t.Errorf("%s findings differ from scan's:\n%v\n%v", name, v.findings, scanV.findings)
		}
		if v.exit != scanV.exit {
			t.Errorf("%s exit %d, scan %d", name, v.exit, scanV.exit)
		}
		if mustJSONString(v.outcome) != mustJSONString(scanV.outcome) {
			t.Errorf("%s outcome %s, scan %s", name, mustJSONString(v.outcome), mustJSONString(scanV.outcome))
		}
	}
}

func mustJSONString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDiffComparesKeysAndFindings: between two scans a CMK in use goes
// from Enabled to Disabled. diff must name the key change and the critical
// finding that appeared (it used to report 0 changes).
func TestDiffComparesKeysAndFindings(t *testing.T) {
	srv, getenv := startSeeded(t, nil)
	work := t.TempDir()
	scanTo := func(name string) string {
		out := filepath.Join(work, name)
		r := runCLIEnv(t, getenv, "scan", "--out", out, "--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region,
			"--kms-endpoint", srv.KMSEndpoint, "--history", "", "-q")
		if r.code == exitFailed {
			t.Fatalf("scan: %v", r.err)
		}
		return out
	}
	a := scanTo("a")
	sum, err := snapshot.ReadSummary(filepath.Join(a, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cmk string
	for _, b := range sum.Buckets {
		if b.Name == "demo-kms-cmk" && b.Encryption != nil {
			cmk = b.Encryption.KMSMasterKeyID
		}
	}
	kc, err := client.KMS(client.KMSConfig{Endpoint: srv.KMSEndpoint, Region: srv.Region, AccessKeyID: "SCANAK", AccessKeySecret: "scan-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kc.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(cmk)}); err != nil {
		t.Fatal(err)
	}
	b := scanTo("b")
	r := runCLIEnv(t, getenv, "diff", a, b)
	if r.code != 0 {
		t.Fatalf("diff: exit %d %v", r.code, r.err)
	}
	for _, want := range []string{
		"key-changed", "kms://" + srv.Region + "/" + cmk, "state Enabled -> Disabled",
		"finding-new", "SSE-005 critical", "SSE-003 high",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\n0 changes") {
		t.Errorf("diff says 0 changes:\n%s", r.stdout)
	}
	// And the JSON form carries the same.
	r = runCLIEnv(t, getenv, "diff", "--json", filepath.Join(a, "snapshot.json"), filepath.Join(b, "snapshot.json"))
	if !strings.Contains(r.stdout, `"kind":"key-changed"`) || !strings.Contains(r.stdout, `"kind":"finding-new"`) {
		t.Errorf("diff --json:\n%s", r.stdout)
	}
}

// TestAuditTakesEveryScanFlag: the README says audit takes every flag of
// scan (it did not: --versions, --from-snapshot and --previous were
// unknown), and both read the same SSEAUDIT_ variables.
func TestAuditTakesEveryScanFlag(t *testing.T) {
	e := env{getenv: func(string) string { return "" }, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	scanCmd, auditCmd := newScanCommand(e), newAuditCommand(e)
	n := 0
	scanCmd.Flags().VisitAll(func(f *pflag.Flag) {
		n++
		af := auditCmd.Flags().Lookup(f.Name)
		if af == nil {
			t.Errorf("audit has no --%s", f.Name)
			return
		}
		if af.Value.Type() != f.Value.Type() || af.Usage != f.Usage && f.Name != "out" {
			t.Errorf("--%s differs: scan %s %q, audit %s %q", f.Name, f.Value.Type(), f.Usage, af.Value.Type(), af.Usage)
		}
	})
	for _, want := range []string{"versions", "from-snapshot", "previous", "accept-gaps", "format", "quiet", "fail-on"} {
		if scanCmd.Flags().Lookup(want) == nil {
			t.Errorf("scan has no --%s", want)
		}
	}
	if n < 20 {
		t.Errorf("scan has only %d flags", n)
	}
}

// TestFlagsFromEnvironment: a CronJob sets SSEAUDIT_FAIL_ON and
// SSEAUDIT_ACCEPT_GAPS instead of flags; the command line still wins.
func TestFlagsFromEnvironment(t *testing.T) {
	vars := map[string]string{"SSEAUDIT_FAIL_ON": "critical", "SSEAUDIT_ACCEPT_GAPS": "keys,objects", "SSEAUDIT_POLICY": "a,b"}
	e := env{getenv: func(k string) string { return vars[k] }, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	var f runFlags
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
	addRunFlags(cmd.Flags(), &f, "o")
	cmd.SetArgs([]string{"--fail-on", "low"})
	cmd.PreRunE = func(c *cobra.Command, _ []string) error { return bindEnv(c, e) }
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if f.failOn != "low" || !slices.Equal(f.acceptGaps, []string{"keys", "objects"}) || !slices.Equal(f.policyDirs, []string{"a", "b"}) {
		t.Errorf("fail-on %q accept-gaps %v policy %v", f.failOn, f.acceptGaps, f.policyDirs)
	}
}

// TestScanStdoutFormats: the findings table by default, a report format on
// stdout with --format (the summary then on stderr, so stdout stays
// parseable), nothing with --quiet; the exit code is the same in each.
func TestScanStdoutFormats(t *testing.T) {
	srv, getenv := startSeeded(t, nil)
	target := []string{"--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint, "--history", ""}
	run := func(args ...string) cliRun {
		return runCLIEnv(t, getenv, append(append([]string{"scan", "--out", filepath.Join(t.TempDir(), "s")}, target...), args...)...)
	}
	r := run()
	if r.code != exitGate || !strings.Contains(r.stdout, "RULE") || !strings.Contains(r.stdout, "SSE-005  critical") || !strings.Contains(r.stdout, "verdict:     FAIL") {
		t.Errorf("table: exit %d\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("colours on a stdout that is not a terminal")
	}
	for _, f := range []string{"findings", "sarif", "ocsf", "json"} {
		r := run("--format", f)
		if r.code != exitGate || !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stderr, "verdict:") {
			t.Errorf("--format %s: exit %d, stdout JSON %v, stderr:\n%s", f, r.code, json.Valid([]byte(r.stdout)), r.stderr)
		}
	}
	r = run("--format", "csv")
	if lines := strings.Count(r.stdout, "\n"); r.code != exitGate || lines < 8 || !strings.HasPrefix(r.stdout, "id,") && !strings.Contains(strings.SplitN(r.stdout, "\n", 2)[0], "rule") {
		t.Errorf("--format csv: exit %d\n%s", r.code, r.stdout)
	}
	r = run("--quiet")
	if r.code != exitGate || r.stdout != "" {
		t.Errorf("--quiet: exit %d, stdout %q", r.code, r.stdout)
	}
	r = run("--max-rows", "2")
	if !strings.Contains(r.stdout, "... and 3 more open findings") {
		t.Errorf("--max-rows 2:\n%s", r.stdout)
	}
}

// TestShippedCronJobIsValid: the Kubernetes example's arguments and
// SSEAUDIT_ variables are flags scan takes, and it scans with KMS (a scan
// without it would fail on unknown key states).
func TestShippedCronJobIsValid(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/kubernetes/cronjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var args []string
	var envs []string
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Spec struct {
				JobTemplate struct {
					Spec struct {
						Template struct {
							Spec struct {
								Containers []struct {
									Args []string `yaml:"args"`
									Env  []struct {
										Name string `yaml:"name"`
									} `yaml:"env"`
								} `yaml:"containers"`
							} `yaml:"spec"`
						} `yaml:"template"`
					} `yaml:"spec"`
				} `yaml:"jobTemplate"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc.Kind == "CronJob" {
			c := doc.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
			args = c.Args
			for _, e := range c.Env {
				envs = append(envs, e.Name)
			}
		}
	}
	if len(args) == 0 || args[0] != "scan" {
		t.Fatalf("no scan CronJob: %v", args)
	}
	cmd := newScanCommand(env{getenv: func(string) string { return "" }, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	if err := cmd.ParseFlags(args[1:]); err != nil {
		t.Fatalf("the CronJob's arguments: %v", err)
	}
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--kms-endpoint=") }) {
		t.Error("the CronJob scans without --kms-endpoint")
	}
	for _, e := range envs {
		name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(e, envPrefix), "_", "-"))
		if !strings.HasPrefix(e, envPrefix) || cmd.Flags().Lookup(name) == nil {
			t.Errorf("env %s sets no flag of scan", e)
		}
	}
}

// TestShippedShardJobsAreValid: every container of the sharded-scan
// example runs a command of this CLI with flags it takes (a flag renamed
// or removed would fail every pod of a real cluster).
func TestShippedShardJobsAreValid(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/kubernetes/sharded-scan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Name string   `yaml:"name"`
		Args []string `yaml:"args"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var seen []string
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Template struct {
					Spec struct {
						InitContainers []container `yaml:"initContainers"`
						Containers     []container `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if doc.Kind != "Job" {
			continue
		}
		for _, c := range append(doc.Spec.Template.Spec.InitContainers, doc.Spec.Template.Spec.Containers...) {
			if len(c.Args) == 0 {
				continue
			}
			root := newRootCommand(env{getenv: func(string) string { return "" }, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
			cmd, rest, err := root.Find(c.Args)
			if err != nil || cmd == root {
				t.Errorf("container %s: %v is no command (%v)", c.Name, c.Args, err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("container %s: %v", c.Name, err)
			}
			seen = append(seen, cmd.Name()+" "+strings.Join(rest, " "))
		}
	}
	joined := strings.Join(seen, "\n")
	for _, want := range []string{"--shard=$(JOB_COMPLETION_INDEX)/4", "--resume", "merge ", "--from-snapshot="} {
		if !strings.Contains(joined, want) {
			t.Errorf("no container runs %q:\n%s", want, joined)
		}
	}
}

// TestAliasAllowListThroughTheCLI: a profile allows a CMK by alias; the
// bucket and its objects use the key by id. The scan must resolve the
// alias (it is handed the allow-list) so neither the default nor the
// objects are flagged, while a second, unlisted CMK still is.
func TestAliasAllowListThroughTheCLI(t *testing.T) {
	ctx := context.Background()
	srv, getenv, c, kc := startEmpty(t)
	allowed, other := createCMK(t, kc), createCMK(t, kc)
	for _, k := range []string{allowed, other} {
		if _, err := kc.UpdateRotationPolicy(&kmssdk.UpdateRotationPolicyRequest{KeyId: tea.String(k), EnableAutomaticRotation: tea.Bool(true), RotationInterval: tea.String("31536000s")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kc.CreateAlias(&kmssdk.CreateAliasRequest{AliasName: tea.String("alias/payments"), KeyId: tea.String(allowed)}); err != nil {
		t.Fatal(err)
	}
	for b, k := range map[string]string{"al-allowed": allowed, "al-other": other} {
		if err := c.CreateBucket(ctx, b, &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: k}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(ctx, b, "o", strings.NewReader("x"), 1, client.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(cfg, []byte("profiles:\n  payments:\n    extends: byok\n    allowed_cmk_ids: [alias/payments]\n"), 0o600)
	out := filepath.Join(t.TempDir(), "scan")
	r := runCLIEnv(t, getenv, "scan", "--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint,
		"--history", "", "--out", out, "--config", cfg, "--profile", "payments", "--fail-on", "medium")
	doc := readFindingsDoc(t, filepath.Join(out, "findings.json"))
	var got []string
	for _, f := range doc.Findings {
		got = append(got, f.Rule+" "+f.Resource.Bucket)
	}
	slices.Sort(got)
	want := []string{"SSE-002 al-other", "SSE-006 al-other"}
	if !slices.Equal(got, want) || r.code != exitGate {
		t.Errorf("exit %d, findings %v, want %v", r.code, got, want)
	}
}

// TestSchemaCommand: the CLI prints each schema and checks files against
// them; a scan's own outputs conform, an edited one does not.
func TestSchemaCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "scan")
	if r := runCLIEnv(t, func(string) string { return "" }, "scan", "--history", "", "--out", out, "-q"); r.code == exitFailed {
		t.Fatalf("scan: %v", r.err)
	}
	for name, file := range map[string]string{"snapshot": "snapshot.json", "findings": "findings.json"} {
		r := runCLIEnv(t, func(string) string { return "" }, "schema", name)
		if r.code != 0 || !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, "2020-12") {
			t.Errorf("schema %s: exit %d", name, r.code)
		}
		p := filepath.Join(out, file)
		if r := runCLIEnv(t, func(string) string { return "" }, "schema", name, p); r.code != 0 {
			t.Errorf("schema %s %s: exit %d: %v", name, file, r.code, r.err)
		}
		raw, _ := os.ReadFile(p)
		bad := filepath.Join(t.TempDir(), file)
		os.WriteFile(bad, bytes.Replace(raw, []byte(`"schema":`), []byte(`"bogus":1,"schema":`), 1), 0o600)
		if name == "findings" {
			// findings.json readers ignore unknown members; a wrong type is refused.
			os.WriteFile(bad, bytes.Replace(raw, []byte(`"complete": `), []byte(`"complete": "yes", "x": `), 1), 0o600)
		}
		if r := runCLIEnv(t, func(string) string { return "" }, "schema", name, bad); r.code != exitGate {
			t.Errorf("schema %s of an edited file: exit %d", name, r.code)
		}
	}
	if r := runCLIEnv(t, func(string) string { return "" }, "schema", "pdf"); r.code != exitFailed {
		t.Errorf("schema pdf: exit %d", r.code)
	}
}

// TestUnreadablePreviousSnapshotIsADriftGap: scan, audit and schedule used
// to disagree when history's previous snapshot could not be read (two
// failed, one carried on silently without drift detection). Now each
// carries on and reports the drift gap, which fails the gate unless
// accepted.
func TestUnreadablePreviousSnapshotIsADriftGap(t *testing.T) {
	srv, getenv := startSeeded(t, nil)
	hist := filepath.Join(t.TempDir(), "h.db")
	scan := func(args ...string) (cliRun, findings.Document) {
		out := filepath.Join(t.TempDir(), "scan")
		r := runCLIEnv(t, getenv, append([]string{"scan", "--out", out, "--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region,
			"--kms-endpoint", srv.KMSEndpoint, "--history", hist, "--fail-on", "none", "-q"}, args...)...)
		return r, readFindingsDoc(t, filepath.Join(out, "findings.json"))
	}
	if r, _ := scan(); r.code != 0 {
		t.Fatalf("first scan: exit %d %v", r.code, r.err)
	}
	// Lose history's copies of the earlier snapshots.
	spoil := func() {
		copies, _ := filepath.Glob(filepath.Join(history.SnapshotDir(hist), "*"))
		if len(copies) == 0 {
			t.Fatal("history keeps no snapshot copies")
		}
		for _, c := range copies {
			if err := os.WriteFile(c, []byte("{truncated"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	spoil()
	r, doc := scan()
	if r.code != exitGate || doc.Outcome == nil || len(doc.Outcome.Gaps) != 1 || doc.Outcome.Gaps[0].Kind != findings.GapDrift {
		t.Fatalf("exit %d, outcome %+v", r.code, doc.Outcome)
	}
	spoil()
	r, doc = scan("--accept-gaps", "drift")
	if r.code != 0 || len(doc.Outcome.Gaps) != 1 || !doc.Outcome.Gaps[0].Accepted {
		t.Errorf("with the gap accepted: exit %d %v, gaps %+v", r.code, r.err, doc.Outcome.Gaps)
	}
}

// startEmpty starts an empty reference whose root credential the
// returned getenv gives in every variable the CLI reads, with an OSS and a
// KMS client for setting up an estate.
func startEmpty(t *testing.T) (*embedded.Reference, func(string) string, *client.Client, *kmssdk.Client) {
	t.Helper()
	const ak, sk = "EMPTYAK", "empty-secret"
	envs := map[string]string{"SSEAUDIT_ROOT_ACCESS_KEY_ID": ak, "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": sk,
		"OSS_ACCESS_KEY_ID": ak, "OSS_ACCESS_KEY_SECRET": sk, "ALIBABA_CLOUD_ACCESS_KEY_ID": ak, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": sk}
	getenv := func(k string) string { return envs[k] }
	srv, err := embedded.Start(context.Background(), embedded.Config{DataDir: t.TempDir(), Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	c, err := client.New(client.Config{Dialect: client.OSS, Endpoint: srv.Endpoint, Region: srv.Region, AccessKeyID: ak, AccessKeySecret: sk})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := client.KMS(client.KMSConfig{Endpoint: srv.KMSEndpoint, Region: srv.Region, AccessKeyID: ak, AccessKeySecret: sk})
	if err != nil {
		t.Fatal(err)
	}
	return srv, getenv, c, kc
}

// TestHostileTextIsEscaped: object keys come from the store; a key that
// carries terminal escapes or newlines prints escaped, never raw.
func TestHostileTextIsEscaped(t *testing.T) {
	ctx := context.Background()
	srv, getenv, c, _ := startEmpty(t)
	key := "evil\x1b]0;pwned\a\x1b[31mFAKE\nSSE-000 pass\u202e"
	if err := c.CreateBucket(ctx, "hostile", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, "hostile", key, strings.NewReader("x"), 1, client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	r := runCLIEnv(t, getenv, "scan", "--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint,
		"--history", "", "--out", filepath.Join(t.TempDir(), "s"))
	if r.code != exitGate {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	if strings.ContainsAny(r.stdout, "\x1b\a\u202e") || strings.Contains(r.stdout, "\nSSE-000") {
		t.Errorf("raw control characters reach the terminal:\n%q", r.stdout)
	}
	if !strings.Contains(r.stdout, `evil\u001b]0;pwned\u0007`) {
		t.Errorf("the key is not shown escaped:\n%s", r.stdout)
	}
}

// TestEndpointSecretsAreNotEchoed: a URL with credentials or a query is
// refused without repeating them.
func TestEndpointSecretsAreNotEchoed(t *testing.T) {
	for _, ep := range []string{"http://AKID:TopSecret123@127.0.0.1:9", "http://127.0.0.1:9/?token=TopSecret123", "localhost:9?token=TopSecret123"} {
		r := runCLIEnv(t, func(string) string { return "x" }, "scan", "--endpoint", ep, "--dialect", "oss", "--history", "", "--out", filepath.Join(t.TempDir(), "s"))
		if r.code != exitFailed || strings.Contains(r.err.Error(), "TopSecret123") {
			t.Errorf("%s: exit %d, %v", ep, r.code, r.err)
		}
	}
}

// TestEnvironmentDoesNotLeakAcrossCommands: SSEAUDIT_KMS_ENDPOINT is the
// kms commands' default and must not break a demo scan; SSEAUDIT_FORMAT
// set for scan must not break rules; SSEAUDIT_HISTORY set empty turns
// history off; a bad value names its variable.
func TestEnvironmentDoesNotLeakAcrossCommands(t *testing.T) {
	home := isolateConfig(t)
	vars := map[string]string{"SSEAUDIT_KMS_ENDPOINT": "http://127.0.0.1:9", "SSEAUDIT_FORMAT": "sarif", "SSEAUDIT_HISTORY": ""}
	e := env{getenv: func(k string) string { return vars[k] }, lookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	run := func(args ...string) cliRun {
		var stdout, stderr syncBuffer
		e.stdout, e.stderr = &stdout, &stderr
		root := newRootCommand(e)
		root.SetArgs(args)
		err := root.ExecuteContext(context.Background())
		return cliRun{stdout: stdout.String(), stderr: stderr.String(), err: err, code: exitCode(err)}
	}
	if r := run("scan", "--out", filepath.Join(t.TempDir(), "s"), "--fail-on", "none"); r.code != 0 || !json.Valid([]byte(r.stdout)) {
		t.Errorf("demo scan: exit %d %v (stdout JSON %v)", r.code, r.err, json.Valid([]byte(r.stdout)))
	}
	if _, err := os.Stat(filepath.Join(home, ".local", "state", "sseaudit", "history.db")); err == nil {
		t.Error("SSEAUDIT_HISTORY='' did not turn history off")
	}
	if r := run("rules"); r.code != 0 || !strings.Contains(r.stdout, "SSE-001") {
		t.Errorf("rules: exit %d %v", r.code, r.err)
	}
	vars["SSEAUDIT_ACCEPT_GAPS"] = "bogus"
	if r := run("scan", "--out", filepath.Join(t.TempDir(), "s")); r.code != exitFailed || !strings.Contains(r.err.Error(), "SSEAUDIT_ACCEPT_GAPS") {
		t.Errorf("bad SSEAUDIT_ACCEPT_GAPS: exit %d %v", r.code, r.err)
	}
}

// TestOutputIsNeverHalfWritten: the review found that --out could lose a
// user's files, pair a new snapshot with an old findings.json, or print
// PASS for a run exiting 2. Each case below failed before the fix.
func TestOutputIsNeverHalfWritten(t *testing.T) {
	isolateConfig(t)
	srv, getenv := startSeeded(t, nil)
	target := []string{"--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint}

	t.Run("a directory with other files is never replaced", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "proj")
		os.MkdirAll(filepath.Join(dir, "src"), 0o755)
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600)
		os.WriteFile(filepath.Join(dir, "report.json"), []byte("{}"), 0o600)
		r := runCLIEnv(t, getenv, append([]string{"audit", "--out", dir, "--history", "", "--signing-key", filepath.Join(t.TempDir(), "k")}, target...)...)
		if r.code != exitFailed || !strings.Contains(r.err.Error(), "not part of a report set") {
			t.Errorf("exit %d: %v", r.code, r.err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(b) != "mine" {
			t.Errorf("notes.txt: %q %v", b, err)
		}
	})

	t.Run("a failed evaluation never pairs a new snapshot with old findings", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "scan")
		if r := runCLIEnv(t, getenv, append([]string{"scan", "--out", out, "--history", "", "-q"}, target...)...); r.code == exitFailed {
			t.Fatal(r.err)
		}
		slow := t.TempDir()
		os.WriteFile(filepath.Join(slow, "slow.rego"), []byte(`# METADATA
# title: slow
# description: spins
# scope: package
package user.slow

# METADATA
# title: Slow
# description: spins
# custom:
#   id: USER-1
#   severity: low
#   category: governance
#   resource_type: bucket
#   remediation: {text: none, cli: none}
#   controls: [{framework: Test, version: "1", id: "0", title: none}]
deny contains f if {
	count([x | some x in numbers.range(1, 100000); x > 0]) > 0
	count([y | some y in numbers.range(1, 100000); y > 0]) > 0
	f := {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"}
}
`), 0o600)
		r := runCLIEnv(t, getenv, append([]string{"scan", "--out", out, "--history", "", "--policy", slow, "--policy-timeout", "1ms", "-q"}, target...)...)
		if r.code != exitFailed {
			t.Fatalf("exit %d: %v", r.code, r.err)
		}
		sum, err := snapshot.ReadSummary(filepath.Join(out, "snapshot.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(out, "findings.json")); err == nil {
			if doc := readFindingsDoc(t, filepath.Join(out, "findings.json")); doc.Scan.ScanID != sum.Provenance.ScanID {
				t.Errorf("findings.json is of scan %s, snapshot.json of %s", doc.Scan.ScanID, sum.Provenance.ScanID)
			}
		}
	})

	t.Run("an interrupted scan is judged and says so", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "scan")
		// Interrupted once the scan is under way: loading the policies
		// stops at once on a cancelled context (as on SIGINT), with
		// nothing to judge. The first request to the storage cancels.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		u, err := url.Parse(srv.Endpoint)
		if err != nil {
			t.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(u)
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cancel()
			proxy.ServeHTTP(w, r)
		}))
		defer front.Close()
		var stdout, stderr syncBuffer
		root := newRootCommand(env{getenv: getenv, stdout: &stdout, stderr: &stderr})
		root.SetArgs(append([]string{"scan", "--out", out, "--history", "", "--endpoint", front.URL}, target[2:]...))
		err = root.ExecuteContext(ctx)
		if exitCode(err) != exitFailed || !strings.Contains(err.Error(), "interrupted") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		doc := readFindingsDoc(t, filepath.Join(out, "findings.json"))
		if doc.Scan.Complete || doc.Outcome == nil || doc.Outcome.Verdict != findings.VerdictError {
			t.Errorf("findings.json: complete %v outcome %+v", doc.Scan.Complete, doc.Outcome)
		}
	})

	t.Run("a run that exits 2 never prints PASS", func(t *testing.T) {
		keys := t.TempDir()
		os.MkdirAll(filepath.Join(keys, "chain.json"), 0o755) // signing will fail
		r := runCLIEnv(t, getenv, append([]string{"audit", "--out", filepath.Join(t.TempDir(), "r"), "--history", "", "--fail-on", "none",
			"--signing-key", filepath.Join(keys, "signing.key")}, target...)...)
		if r.code != exitFailed {
			t.Fatalf("exit %d: %v", r.code, r.err)
		}
		if strings.Contains(r.stdout, "PASS") || strings.Contains(r.stdout, "exit 0") {
			t.Errorf("the summary shows a pass:\n%s", r.stdout)
		}
	})

	t.Run("a failed scan is not the next scan's baseline", func(t *testing.T) {
		hist := filepath.Join(t.TempDir(), "h.db")
		bad := func(k string) string {
			if k == "OSS_ACCESS_KEY_SECRET" {
				return "wrong"
			}
			return getenv(k)
		}
		if r := runCLIEnv(t, bad, append([]string{"scan", "--out", filepath.Join(t.TempDir(), "s"), "--history", hist, "-q"}, target...)...); r.code != exitFailed {
			t.Fatalf("bad scan: exit %d", r.code)
		}
		out := filepath.Join(t.TempDir(), "s")
		if r := runCLIEnv(t, getenv, append([]string{"scan", "--out", out, "--history", hist, "-q"}, target...)...); r.code == exitFailed {
			t.Fatal(r.err)
		}
		if doc := readFindingsDoc(t, filepath.Join(out, "findings.json")); doc.Scan.PreviousScanID != "" {
			t.Errorf("the good scan was compared with the failed one (%s)", doc.Scan.PreviousScanID)
		}
	})
}
