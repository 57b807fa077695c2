package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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
		"kms without endpoint":     {[]string{"--kms-endpoint", "http://127.0.0.1:1"}, "needs --endpoint"},
		"unknown embedded dialect": {[]string{"--dialect", "gcs"}, "use oss or s3"},
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

// confEnv is the environment of a conformance test: the embedded
// reference's root credentials under every name the CLI reads.
func confEnv() func(string) string {
	envs := map[string]string{
		"SSEAUDIT_ROOT_ACCESS_KEY_ID": "CONFAK", "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": "conf-secret",
		"OSS_ACCESS_KEY_ID": "CONFAK", "OSS_ACCESS_KEY_SECRET": "conf-secret",
		"AWS_ACCESS_KEY_ID": "CONFAK", "AWS_SECRET_ACCESS_KEY": "conf-secret",
		"ALIBABA_CLOUD_ACCESS_KEY_ID": "CONFAK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "conf-secret",
	}
	return func(k string) string { return envs[k] }
}

// startConfReference starts the embedded reference (with faults fs) for a
// conformance test.
func startConfReference(t *testing.T, fs embedded.Faults) *embedded.Reference {
	t.Helper()
	ctx := context.Background()
	srv, err := embedded.Start(ctx, embedded.Config{DataDir: t.TempDir(), Getenv: confEnv(), Faults: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(ctx) })
	return srv
}

var (
	godogScenarioLineRE = regexp.MustCompile(`(?m)^([0-9]+) scenarios \(([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped\)$`)
	summaryLineRE       = regexp.MustCompile(`(?m)^sseaudit conformance: (.*)$`)
)

// summaries returns godog's scenario line, the run's summary line and
// godog's counts (total, passed, failed, skipped) from a run's output.
func summaries(t *testing.T, out string) (godogLine, ours string, counts [4]int) {
	t.Helper()
	g := godogScenarioLineRE.FindAllStringSubmatch(out, -1)
	o := summaryLineRE.FindAllStringSubmatch(out, -1)
	if len(g) != 1 || len(o) != 1 {
		t.Fatalf("want one godog scenario line with passed, failed and skipped and one summary line, got %d and %d:\n%s", len(g), len(o), out)
	}
	for i := range counts {
		counts[i], _ = strconv.Atoi(g[0][i+1])
	}
	return g[0][0], o[0][1], counts
}

// TestConformanceSummaryAgreesWithGodog runs the whole suite through
// runConformance against the embedded reference, with one dialect and with
// both: godog's scenario line and the final summary agree exactly, the
// other dialect's scenarios are counted as not applicable (not skipped),
// and every skip reason is true for the dialect asked.
func TestConformanceSummaryAgreesWithGodog(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the conformance suite")
	}
	srv := startConfReference(t, nil)
	cases := []struct {
		name  string
		flags conformanceFlags
		// other is the dialect tag whose scenarios are not applicable
		// ("" with both dialects).
		other, otherReason string
	}{
		{"s3", conformanceFlags{endpoint: srv.Endpoint, dialect: "s3", region: srv.Region}, "@oss", "the run has no OSS target"},
		{"oss", conformanceFlags{endpoint: srv.Endpoint, dialect: "oss", region: srv.Region}, "@s3", "the run has no S3 target"},
		{"both dialects", conformanceFlags{}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			f := c.flags
			f.format, f.prefix, f.concurrency = "progress", "sseaudit-conf-", 1
			err := runConformance(context.Background(), env{getenv: confEnv(), stdout: &stdout, stderr: &stderr}, f)
			if err != nil {
				t.Fatalf("conformance: %v\n%s", err, stdout.String())
			}
			out := stdout.String()
			godogLine, ours, n := summaries(t, out)
			if n[0] == 0 || n[1]+n[2]+n[3] != n[0] || n[2] != 0 {
				t.Errorf("godog counts %v: want scenarios, none failed, passed+failed+skipped = total", n)
			}
			naLine := ""
			if c.other == "" {
				if ours != godogLine {
					t.Errorf("summary %q, godog %q: want the same", ours, godogLine)
				}
				if n[3] != 0 {
					t.Errorf("%d scenarios skipped against the embedded reference with both dialects", n[3])
				}
			} else {
				m := regexp.MustCompile(`^` + regexp.QuoteMeta(godogLine) + `; ([0-9]+) not applicable$`).FindStringSubmatch(ours)
				if m == nil {
					t.Fatalf("summary %q does not continue godog's %q with the not applicable count", ours, godogLine)
				}
				naLine = fmt.Sprintf("  not applicable: %s scenarios tagged %s: %s", m[1], c.other, c.otherReason)
				if !strings.Contains(out, naLine+"\n") {
					t.Errorf("no line %q in:\n%s", naLine, out)
				}
				if n[3] == 0 {
					t.Error("no scenario skipped without KMS and admin hooks")
				}
			}
			// Every reason given is true for this run: only what the run
			// lacks (KMS, the admin hooks), never a missing target.
			for _, line := range strings.Split(out, "\n") {
				if line == naLine || !strings.HasPrefix(line, "  ") {
					continue
				}
				if strings.Contains(strings.ToLower(line), "target") {
					t.Errorf("a reason about targets: %s", line)
				}
				if strings.HasPrefix(line, "  skipped: ") && !strings.Contains(line, "@kms: no KMS endpoint") && !strings.Contains(line, "@emulator: needs the reference") {
					t.Errorf("a skip not explained by a missing KMS endpoint or admin hooks: %s", line)
				}
			}
		})
	}
}

// TestConformanceDryRunMatchesRealRun: --dry-run prints the selection and
// the reasons a real run with the same flags prints.
func TestConformanceDryRunMatchesRealRun(t *testing.T) {
	srv := startConfReference(t, nil)
	f := conformanceFlags{endpoint: srv.Endpoint, dialect: "s3", region: srv.Region, format: "progress",
		prefix: "sseaudit-conf-", concurrency: 1, tags: "@rule-no-touch,@rule-at-rest,@rule-disabled-key"}
	run := func(dry bool) string {
		var stdout, stderr syncBuffer
		f.dryRun = dry
		if err := runConformance(context.Background(), env{getenv: confEnv(), stdout: &stdout, stderr: &stderr}, f); err != nil {
			t.Fatalf("dry run %v: %v\n%s", dry, err, stdout.String())
		}
		return stdout.String()
	}
	lines := func(out string, prefixes ...string) (got []string) {
		for _, l := range strings.Split(out, "\n") {
			for _, p := range prefixes {
				if strings.HasPrefix(l, p) {
					got = append(got, l)
				}
			}
		}
		slices.Sort(got)
		return got
	}
	realOut, dry := run(false), run(true)
	_, _, n := summaries(t, realOut)
	realReasons, dryReasons := lines(realOut, "  skipped: ", "  not applicable: "), lines(dry, "  skipped: ", "  not applicable: ")
	if len(realReasons) == 0 || !slices.Equal(realReasons, dryReasons) {
		t.Errorf("the real run says\n%s\nthe dry run says\n%s", strings.Join(realReasons, "\n"), strings.Join(dryReasons, "\n"))
	}
	if w := len(lines(dry, "  would run: ")); w != n[1] || w == 0 {
		t.Errorf("the dry run would run %d scenarios, the real run passed %d", w, n[1])
	}
	want := fmt.Sprintf("sseaudit conformance (dry run): %d scenarios (%d would run, %d would be skipped)", n[0], n[1], n[3])
	if !strings.Contains(dry, want) {
		t.Errorf("the dry run has no line %q:\n%s", want, dry)
	}
}

// TestConformanceExitCodes: a failed scenario is the one gate failure
// (an *exitError with code 1); anything that stops the run is a plain
// error, which the CLI turns into exit 2.
func TestConformanceExitCodes(t *testing.T) {
	clean := startConfReference(t, nil)
	faulty := startConfReference(t, embedded.FaultsOf(embedded.OmitSSEHeader))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	s3 := func(srv *embedded.Reference, extra ...string) []string {
		return append([]string{"--endpoint", srv.Endpoint, "--dialect", "s3", "--region", srv.Region, "--format", "progress"}, extra...)
	}
	cases := []struct {
		name   string
		args   []string
		getenv func(string) string
		code   int    // 0: no error; 1: *exitError 1; 2: a plain error
		want   string // in the error
	}{
		{"clean", s3(clean, "--tags", "@rule-sse-header && @oss-managed"), nil, 0, ""},
		{"a failed scenario", s3(faulty, "--tags", "@rule-sse-header && @oss-managed"), nil, 1, "scenarios failed"},
		{"unreachable endpoint", []string{"--endpoint", closed, "--dialect", "s3"}, nil, 2, "cannot be reached"},
		{"refused credentials", s3(clean), func(k string) string {
			if k == "AWS_SECRET_ACCESS_KEY" {
				return "wrong"
			}
			return confEnv()(k)
		}, 2, "refused the credentials"},
		{"no scenario matched", s3(clean, "--tags", "@none && @kms-cmk"), nil, 2, "no scenario matched"},
		{"only the other dialect matched", s3(clean, "--tags", "@oss"), nil, 2, "no scenario of the tag expression \"@oss\" applies to this run"},
		{"only the other dialect matched, dry run", s3(clean, "--tags", "@oss", "--dry-run"), nil, 2, "applies to this run"},
		{"every scenario skipped", s3(clean, "--tags", "@emulator"), nil, 2, "no scenario ran"},
		{"bad tag expression", s3(clean, "--tags", "not @kms"), nil, 2, "godog's syntax"},
		{"unknown tag", s3(clean, "--tags", "@kms && ~@no-such-tag"), nil, 2, "no scenario has the tag @no-such-tag"},
		{"bad format", s3(clean, "--format", "html"), nil, 2, "--format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			getenv := c.getenv
			if getenv == nil {
				getenv = confEnv()
			}
			var stdout, stderr syncBuffer
			root := newRootCommand(env{getenv: getenv, stdout: &stdout, stderr: &stderr})
			root.SetArgs(append([]string{"conformance"}, c.args...))
			err := root.ExecuteContext(context.Background())
			var ee *exitError
			isExit := errors.As(err, &ee)
			switch {
			case c.code == 0 && err != nil:
				t.Fatalf("err = %v, want none\n%s", err, stdout.String())
			case c.code == 1 && (!isExit || ee.code != 1):
				t.Fatalf("err = %v (%T), want an *exitError with code 1", err, err)
			case c.code == 2 && (err == nil || isExit):
				t.Fatalf("err = %v (%T), want a plain error (exit 2), not a gate failure", err, err)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}
