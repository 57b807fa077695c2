package steps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cucumber/godog"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/features"
	"github.com/sseaudit/sseaudit/results"
)

var godogLineRE = regexp.MustCompile(`(?m)^[0-9]+ scenarios \(.*\)$`)

// checkSummaries fails t unless godog's scenario line and the run's
// summary line in out both say exactly what res counts, the one being the
// middle of the other.
func checkSummaries(t *testing.T, out string, res Result) {
	t.Helper()
	want := fmt.Sprintf("%d scenarios (%d passed, %d failed, %d skipped)", len(res.Scenarios), res.Passed, res.Failed, res.Skipped)
	godogLines := godogLineRE.FindAllString(out, -1)
	if len(godogLines) != 1 || godogLines[0] != want {
		t.Errorf("godog's scenario lines %q, want exactly [%q]\n%s", godogLines, want, out)
	}
	ours := "sseaudit conformance: " + want
	if res.NotApplicable > 0 {
		ours += fmt.Sprintf("; %d not applicable", res.NotApplicable)
	}
	if !slices.Contains(strings.Split(out, "\n"), ours) {
		t.Errorf("the output has no line %q\n%s", ours, out)
	}
	if n := res.Passed + res.Failed + res.Skipped; n != len(res.Scenarios) {
		t.Errorf("passed+failed+skipped = %d, want %d scenarios", n, len(res.Scenarios))
	}
}

// TestSummaryAgreesWithGodog: godog's own scenario line counts skipped
// scenarios as skipped (it used to call every one of them passed) and says
// exactly what the run's summary says, for both formats, concurrent runs,
// skips by a missing capability, scenarios that do not apply and failures.
func TestSummaryAgreesWithGodog(t *testing.T) {
	clean := startReference(t, nil)
	faulty := startReference(t, embedded.FaultsOf(embedded.UseDisabledKey))
	only := func(o Options, d client.Dialect) Options {
		o.Targets = map[client.Dialect]client.Config{d: o.Targets[d]}
		return o
	}
	cases := []struct {
		name                                         string
		opts                                         Options
		format, tags                                 string
		concurrency                                  int
		passed, failed, skipped, notApplicable, exit int
	}{
		// @rule-no-touch: 16 scenarios per dialect; 9 of them need KMS.
		{name: "s3 only without KMS", opts: func() Options { o := only(clean, client.S3); o.KMS, o.AWSKMS = nil, nil; return o }(),
			format: "pretty", tags: "@rule-no-touch", passed: 7, skipped: 9, notApplicable: 16},
		{name: "concurrent", opts: clean, format: "progress", tags: "@rule-no-touch", concurrency: 2, passed: 32},
		{name: "every scenario skipped", opts: func() Options { o := clean; o.Emulator = nil; return o }(),
			format: "progress", tags: "@emulator && @oss-managed", skipped: 10, exit: 2},
		{name: "failures", opts: faulty, format: "progress", tags: "@rule-disabled-key", failed: 4, exit: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			o := c.opts
			o.Output, o.Format, o.Tags, o.Concurrency = &out, c.format, c.tags, c.concurrency
			res, err := Run(context.Background(), o)
			if (err != nil) != (c.exit == 2) || res.ExitCode != c.exit {
				t.Fatalf("Run: exit %d, %v; want exit %d", res.ExitCode, err, c.exit)
			}
			if res.Passed != c.passed || res.Failed != c.failed || res.Skipped != c.skipped || res.NotApplicable != c.notApplicable {
				t.Errorf("passed %d, failed %d, skipped %d, not applicable %d; want %d, %d, %d, %d",
					res.Passed, res.Failed, res.Skipped, res.NotApplicable, c.passed, c.failed, c.skipped, c.notApplicable)
			}
			checkSummaries(t, out.String(), res)
		})
	}
}

// TestSelection checks, with dry runs (nothing is sent), that a run with
// one dialect selects only that dialect's scenarios and counts the other's
// as not applicable, with the reason, never as skipped.
func TestSelection(t *testing.T) {
	ctx := context.Background()
	dry := func(tags string, ds ...client.Dialect) (Result, error) {
		o := Options{Targets: map[client.Dialect]client.Config{}, KMS: &client.KMSConfig{}, Emulator: dryEmulator{},
			Tags: tags, DryRun: true, Output: io.Discard}
		for _, d := range ds {
			o.Targets[d] = client.Config{}
		}
		return Run(ctx, o)
	}
	both, err := dry("", client.OSS, client.S3)
	if err != nil {
		t.Fatal(err)
	}
	perDialect := map[string]int{}
	for _, s := range both.Scenarios {
		perDialect[s.Dialect]++
	}
	if both.NotApplicable != 0 || perDialect["oss"] == 0 || perDialect["s3"] == 0 || perDialect["oss"]+perDialect["s3"] != len(both.Scenarios) {
		t.Fatalf("both dialects: %d scenarios %v, %d not applicable", len(both.Scenarios), perDialect, both.NotApplicable)
	}
	cases := []struct {
		name     string
		tags     string
		dialects []client.Dialect
		// want: selected scenarios and what is not applicable
		selected int
		excluded []results.Exclusion
		err      string
	}{
		{name: "s3", dialects: []client.Dialect{client.S3}, selected: perDialect["s3"],
			excluded: []results.Exclusion{{Tag: "@oss", Reason: "the run has no OSS target", Count: perDialect["oss"]}}},
		{name: "oss", dialects: []client.Dialect{client.OSS}, selected: perDialect["oss"],
			excluded: []results.Exclusion{{Tag: "@s3", Reason: "the run has no S3 target", Count: perDialect["s3"]}}},
		// godog's syntax has no parentheses: the dialect is ANDed onto
		// every OR branch.
		{name: "or of ands", tags: "@none && @kms-cmk,@clock", dialects: []client.Dialect{client.S3}, selected: 1,
			excluded: []results.Exclusion{{Tag: "@oss", Reason: "the run has no OSS target", Count: 1}}},
		{name: "both dialects asked", tags: "@rule-disabled-key", dialects: []client.Dialect{client.OSS, client.S3}, selected: 4},
		{name: "the user's tags name the other dialect", tags: "@oss && @rule-disabled-key", dialects: []client.Dialect{client.S3},
			excluded: []results.Exclusion{{Tag: "@oss", Reason: "the run has no OSS target", Count: 2}},
			err:      `no scenario of the tag expression "@oss && @rule-disabled-key" applies to this run: 2 scenarios tagged @oss: the run has no OSS target`},
		{name: "nothing matches", tags: "@none && @kms-cmk", dialects: []client.Dialect{client.S3}, err: "no scenario matched"},
		{name: "unknown tag", tags: "@kms && ~@no-such-tag", dialects: []client.Dialect{client.S3}, err: "no scenario has the tag @no-such-tag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := dry(c.tags, c.dialects...)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || res.ExitCode != 2 {
					t.Fatalf("Run: exit %d, %v; want an error with %q", res.ExitCode, err, c.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(res.Scenarios) != c.selected || !slices.Equal(res.NotApplicableBy, c.excluded) {
				t.Errorf("%d selected, not applicable %+v; want %d, %+v", len(res.Scenarios), res.NotApplicableBy, c.selected, c.excluded)
			}
			n := 0
			for _, e := range c.excluded {
				n += e.Count
			}
			if res.NotApplicable != n {
				t.Errorf("NotApplicable = %d, want %d", res.NotApplicable, n)
			}
			for _, s := range res.Scenarios {
				if !slices.Contains(c.dialects, client.Dialect(s.Dialect)) {
					t.Errorf("%s [%s] selected for dialects %v", s.Name, s.Dialect, c.dialects)
				}
				if s.Status != results.StatusNotRun && s.Status != results.StatusSkipped {
					t.Errorf("%s [%s]: dry-run status %q", s.Name, s.Dialect, s.Status)
				}
				if strings.Contains(s.Error, "target") {
					t.Errorf("%s [%s]: a reason about targets: %s", s.Name, s.Dialect, s.Error)
				}
			}
		})
	}
}

// dryEmulator stands in for the admin hooks in a dry run, which calls none.
type dryEmulator struct{ Emulator }

// TestDryRunMatchesRealRun: a dry run selects the scenarios a real run
// runs, in the same order, and gives the same reason for every scenario
// the real run skips; it says which may still be skipped at run time.
func TestDryRunMatchesRealRun(t *testing.T) {
	ref := startReference(t, nil)
	o := ref
	o.Targets = map[client.Dialect]client.Config{client.S3: ref.Targets[client.S3]}
	o.KMS, o.Emulator = nil, nil
	o.Output, o.Format, o.Tags = io.Discard, "progress", "@rule-no-touch,@rule-at-rest"
	realRun, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	o.DryRun = true
	dry, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Scenarios) != len(realRun.Scenarios) || !slices.Equal(dry.NotApplicableBy, realRun.NotApplicableBy) || dry.NotApplicable != realRun.NotApplicable {
		t.Fatalf("dry run: %d scenarios, not applicable %+v; real run: %d, %+v", len(dry.Scenarios), dry.NotApplicableBy, len(realRun.Scenarios), realRun.NotApplicableBy)
	}
	if dry.NotRun != realRun.Passed || dry.Skipped != realRun.Skipped || realRun.Skipped == 0 || realRun.Passed == 0 {
		t.Errorf("dry run: %d would run, %d would be skipped; real run: %d passed, %d skipped", dry.NotRun, dry.Skipped, realRun.Passed, realRun.Skipped)
	}
	for i, d := range dry.Scenarios {
		r := realRun.Scenarios[i]
		if d.Feature != r.Feature || d.Name != r.Name || d.Dialect != r.Dialect {
			t.Fatalf("scenario %d: dry run %s [%s], real run %s [%s]", i, d.Name, d.Dialect, r.Name, r.Dialect)
		}
		switch {
		case r.Status == results.StatusPassed && d.Status == results.StatusNotRun:
			if hasTag(d.Tags, features.TagVersioning) != strings.Contains(d.Error, "@versioning") {
				t.Errorf("%s [%s]: run-time note %q for tags %v", d.Name, d.Dialect, d.Error, d.Tags)
			}
		case r.Status == results.StatusSkipped && d.Status == results.StatusSkipped && d.Error == r.Error:
		default:
			t.Errorf("%s [%s]: dry run %s (%s), real run %s (%s)", d.Name, d.Dialect, d.Status, d.Error, r.Status, r.Error)
		}
	}
}

// TestEveryScenarioHasOneDialect: selection by dialect relies on every
// scenario carrying exactly one dialect tag.
func TestEveryScenarioHasOneDialect(t *testing.T) {
	suite := godog.TestSuite{Options: &godog.Options{FS: features.FS, Paths: []string{"."}}}
	fts, err := suite.RetrieveFeatures()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ft := range fts {
		for _, p := range ft.Pickles {
			n++
			k := 0
			for _, tag := range p.Tags {
				if reg, ok := features.LookupTag(tag.Name); ok && reg.Kind == features.KindDialect {
					k++
				}
			}
			if k != 1 {
				t.Errorf("%s: %s has %d dialect tags", ft.Uri, p.Name, k)
			}
		}
	}
	if n == 0 {
		t.Fatal("no scenarios")
	}
}

// TestCapabilityTagsAreChecked: every capability tag decided before a
// scenario runs has a check here, so a tag added to the registry cannot
// silently skip (or never skip) its scenarios.
func TestCapabilityTagsAreChecked(t *testing.T) {
	r := &runner{hasKMS: true}
	for _, tag := range features.TagsOfKind(features.KindCapability) {
		if tag.RunTime {
			continue
		}
		if _, known := r.offers(tag.Name); !known {
			t.Errorf("the capability tag %s has no check in runner.offers", tag.Name)
		}
	}
	if _, known := r.offers(features.TagOSSManaged); known {
		t.Error("offers knows a method tag")
	}
}

// TestUnusableEndpointsStopTheRun: an endpoint that cannot be reached or
// refuses the credentials is an error before any scenario runs (it used to
// fail every scenario, which reads as a non-conforming endpoint).
func TestUnusableEndpointsStopTheRun(t *testing.T) {
	ref := startReference(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	cases := []struct {
		name   string
		change func(o *Options, c *client.Config)
		want   string
		s3Only bool // OSS V1 signatures do not cover the region
	}{
		{"closed port", func(o *Options, c *client.Config) { c.Endpoint = closed }, "cannot be reached", false},
		{"no scheme on a plain HTTP endpoint", func(o *Options, c *client.Config) { c.Endpoint = strings.TrimPrefix(c.Endpoint, "http://") }, "cannot be reached", false},
		{"wrong secret", func(o *Options, c *client.Config) { c.AccessKeySecret = "wrong" }, "refused the credentials: 403 SignatureDoesNotMatch", false},
		{"unknown access key", func(o *Options, c *client.Config) { c.AccessKeyID = "NOSUCHKEY" }, "refused the credentials: 403 InvalidAccessKeyId", false},
		{"wrong region", func(o *Options, c *client.Config) { c.Region = "us-east-1" }, "refused the credentials: 400 AuthorizationHeaderMalformed", true},
		{"KMS closed port", func(o *Options, c *client.Config) { k := *o.KMS; k.Endpoint = closed; o.KMS = &k }, "the KMS endpoint " + closed + " cannot be reached", false},
		{"KMS wrong secret", func(o *Options, c *client.Config) { k := *o.KMS; k.AccessKeySecret = "wrong"; o.KMS = &k }, "the KMS endpoint", false},
	}
	for _, c := range cases {
		for _, d := range []client.Dialect{client.OSS, client.S3} {
			if c.s3Only && d != client.S3 {
				continue
			}
			t.Run(c.name+"/"+string(d), func(t *testing.T) {
				o := ref
				cfg := ref.Targets[d]
				c.change(&o, &cfg)
				o.Targets = map[client.Dialect]client.Config{d: cfg}
				var out bytes.Buffer
				o.Output, o.Format, o.Tags = &out, "progress", "@rule-disabled-key,@none"
				res, err := Run(context.Background(), o)
				if err == nil || !strings.Contains(err.Error(), c.want) || res.ExitCode != 2 {
					t.Fatalf("Run: exit %d, %v; want exit 2 and an error with %q", res.ExitCode, err, c.want)
				}
				if len(res.Scenarios) != 0 || out.Len() != 0 {
					t.Errorf("%d scenarios ran; output:\n%s", len(res.Scenarios), out.String())
				}
			})
		}
	}
}
