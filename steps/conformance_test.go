package steps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/features"
	"github.com/sseaudit/sseaudit/results"
)

// startReference starts the embedded reference with fs for one test.
func startReference(t *testing.T, fs embedded.Faults) Options {
	t.Helper()
	ctx := context.Background()
	opts, stop, err := Reference(ctx, t.TempDir(), fs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(ctx); err != nil {
			t.Errorf("stop the reference: %v", err)
		}
	})
	return opts
}

// noBucketsLeft fails t if a bucket under the run's prefix survived: every
// scenario removes its buckets, whether it passed or not.
func noBucketsLeft(t *testing.T, opts Options) {
	t.Helper()
	c, err := client.New(opts.Targets[client.OSS])
	if err != nil {
		t.Fatal(err)
	}
	bs, err := c.ListBuckets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if strings.HasPrefix(b.Name, opts.BucketPrefix) {
			t.Errorf("bucket %s was left behind", b.Name)
		}
	}
}

// TestConformance runs every scenario against the embedded reference
// (both dialects, KMS and the admin hooks): all must pass, none may skip.
func TestConformance(t *testing.T) {
	opts := startReference(t, nil)
	var out bytes.Buffer
	opts.Output, opts.Format = &out, "progress"
	start := time.Now()
	res, err := Run(context.Background(), opts)
	elapsed := time.Since(start)
	t.Logf("%d scenarios in %v: %d passed, %d failed, %d skipped", len(res.Scenarios), elapsed.Round(time.Millisecond), res.Passed, res.Failed, res.Skipped)
	if err != nil {
		t.Fatal(err)
	}
	slow := append([]ScenarioResult(nil), res.Scenarios...)
	sort.Slice(slow, func(i, j int) bool { return slow[i].Duration > slow[j].Duration })
	for _, s := range slow[:min(5, len(slow))] {
		t.Logf("slowest: %v %s / %s [%s]", s.Duration.Round(time.Millisecond), s.Feature, s.Name, s.Dialect)
	}
	if res.ExitCode != 0 || res.Failed != 0 || res.Skipped != 0 || res.Passed != len(res.Scenarios) {
		t.Log(out.String())
		for _, s := range res.Scenarios {
			if s.Status != "passed" {
				t.Errorf("%s: %s / %s [%s]: %s", s.Status, s.Feature, s.Name, s.Dialect, s.Error)
			}
		}
		t.Fatalf("exit code %d", res.ExitCode)
	}
	checkSummaries(t, out.String(), res)
	noBucketsLeft(t, opts)
}

// unobservableFaults are faults the reference implements where no request
// can reach them. The suite cannot catch them until the reference is fixed;
// the fault proof reports them as skipped, loudly, only while the whole
// suite still passes with the fault on (so a fix makes the proof enforce
// them again).
var unobservableFaults = map[embedded.Fault]string{
	embedded.AcceptKeyIDWithAES256: "the fault lives only in objstore (validateAlgorithm, resolveSSE/faulty), " +
		"but both front ends refuse a key id with AES256 before the store sees the request: " +
		"osshttp parseSSEHeaders and parseEncryptionRule, s3http parseSSERequest and the rule parser in xmlapi.go " +
		"answer 400 InvalidArgument whatever the fault set says",
}

// faultSeverity is what the failed expectations of a fault weigh: some is
// a severity at least one of them has, only (when set) the one all have.
var faultSeverity = map[embedded.Fault]struct{ some, only string }{
	embedded.OmitSSEHeaderCopyMultipart: {some: results.SeverityLow, only: results.SeverityLow},
	embedded.OmitSSEHeader:              {some: results.SeverityHigh},
	embedded.PlaintextAtRest:            {some: results.SeverityHigh},
	embedded.IgnoreNamedCMK:             {some: results.SeverityHigh},
	embedded.UseDisabledKey:             {some: results.SeverityHigh},
	embedded.ApplyDefaultToExisting:     {some: results.SeverityHigh},
}

// TestFaultsAreCaught starts the reference with each deliberate fault and
// runs the whole suite (two scenarios at a time): it must fail, in at least
// one scenario, and only in scenarios tagged with the fault's rule tag. With
// -short only the scenarios carrying the rule tag run (which proves the
// fault is caught, not that the tags are exact).
func TestFaultsAreCaught(t *testing.T) {
	var (
		mu      sync.Mutex
		table   = map[embedded.Fault][]string{}
		defects = map[embedded.Fault]string{}
	)
	t.Run("faults", func(t *testing.T) {
		for _, f := range embedded.AllFaults() {
			t.Run(string(f), func(t *testing.T) {
				t.Parallel()
				tag := RuleTag(f)
				if tag == "" {
					t.Fatalf("fault %s has no rule tag", f)
				}
				opts := startReference(t, embedded.FaultsOf(f))
				var out bytes.Buffer
				opts.Output, opts.Format, opts.Concurrency = &out, "progress", 2
				if testing.Short() {
					opts.Tags = tag
				}
				res, err := Run(context.Background(), opts)
				if err != nil {
					t.Fatal(err)
				}
				if res.ExitCode == 0 || res.Failed == 0 {
					if why, ok := unobservableFaults[f]; ok {
						mu.Lock()
						defects[f] = why
						mu.Unlock()
						t.Skipf("KNOWN REFERENCE DEFECT: fault %s makes no scenario fail: %s", f, why)
					}
					t.Fatalf("the suite passed against a reference with fault %s (%d scenarios)", f, len(res.Scenarios))
				}
				var failed []string
				sevs := map[string]int{}
				for _, s := range res.Scenarios {
					if s.Status == "passed" {
						continue
					}
					name := fmt.Sprintf("%s / %s [%s] severity %s", s.Feature, s.Name, s.Dialect, s.Severity)
					for _, x := range s.Expectations {
						if !x.Passed {
							name += fmt.Sprintf("\n        [%s, %s] %s", x.Severity, x.Check, oneLine(x.Detail))
							sevs[x.Severity]++
						}
					}
					failed = append(failed, name)
					if s.Status != "failed" || !hasTag(s.Tags, tag) {
						t.Errorf("%s: %s without the tag %s: %s", s.Status, name, tag, s.Error)
					}
					if s.Severity == "" {
						t.Errorf("%s failed without a severity", name)
					}
				}
				if want, ok := faultSeverity[f]; ok {
					// Each fault's failures weigh what the rule it breaks
					// weighs: a fault that only drops headers is low.
					for sev, n := range sevs {
						if sev != want.only && want.only != "" {
							t.Errorf("fault %s: %d failed expectations of severity %s, want only %s", f, n, sev, want.only)
						}
					}
					if sevs[want.some] == 0 {
						t.Errorf("fault %s: no failed expectation of severity %s (%v)", f, want.some, sevs)
					}
				}
				noBucketsLeft(t, opts)
				sort.Strings(failed)
				mu.Lock()
				table[f] = failed
				mu.Unlock()
			})
		}
	})
	var b strings.Builder
	for _, f := range embedded.AllFaults() {
		fmt.Fprintf(&b, "\n%s (%s): %d scenarios failed", f, RuleTag(f), len(table[f]))
		if why, ok := defects[f]; ok {
			fmt.Fprintf(&b, " -- KNOWN REFERENCE DEFECT: %s", why)
		}
		for _, n := range table[f] {
			fmt.Fprintf(&b, "\n    %s", n)
		}
	}
	t.Log("fault -> failed scenarios:" + b.String())
}

// TestSkipsAndGuards checks that missing capabilities skip with a reason,
// that a run where nothing ran is an error, that bad tag expressions are
// refused, and that scenarios can run as subtests.
func TestSkipsAndGuards(t *testing.T) {
	full := startReference(t, nil)
	ctx := context.Background()
	limited := func() Options {
		o := full
		o.Targets = map[client.Dialect]client.Config{client.OSS: full.Targets[client.OSS]}
		o.KMS, o.AWSKMS, o.Emulator = nil, nil, nil
		o.Format = "pretty"
		return o
	}

	t.Run("all skipped is an error", func(t *testing.T) {
		o := limited()
		var out bytes.Buffer
		o.Output, o.Tags = &out, "@rule-disabled-key"
		res, err := Run(ctx, o)
		if err == nil || !strings.Contains(err.Error(), "no scenario ran") || res.ExitCode != 2 {
			t.Fatalf("Run = %+v, %v; want a no-scenario-ran error", res, err)
		}
		// The S3 scenarios can never apply (no S3 target): they are not
		// selected; the OSS ones are skipped for what the run lacks.
		if res.Skipped != 2 || len(res.Scenarios) != 2 || res.NotApplicable != 2 {
			t.Fatalf("skipped %d of %d, %d not applicable; want 2 of 2, 2", res.Skipped, len(res.Scenarios), res.NotApplicable)
		}
		if want := []results.Exclusion{{Tag: "@s3", Reason: "the run has no S3 target", Count: 2}}; !slices.Equal(res.NotApplicableBy, want) {
			t.Errorf("NotApplicableBy = %+v, want %+v", res.NotApplicableBy, want)
		}
		if !strings.Contains(out.String(), "not applicable: 2 scenarios tagged @s3: the run has no S3 target") {
			t.Errorf("the output does not say what was not applicable:\n%s", out.String())
		}
		for _, s := range res.Scenarios {
			want := "@kms: no KMS endpoint"
			if s.Dialect != "oss" {
				t.Errorf("%s [%s] was selected without an S3 target", s.Name, s.Dialect)
			}
			if s.Status != "skipped" || !strings.Contains(s.Error, want) {
				t.Errorf("%s [%s]: status %s, reason %q; want skipped with %q", s.Name, s.Dialect, s.Status, s.Error, want)
			}
			if !strings.Contains(out.String(), s.Error) {
				t.Errorf("the output does not say why %q was skipped:\n%s", s.Name, out.String())
			}
		}
	})

	t.Run("capability tags are honest", func(t *testing.T) {
		// Without KMS and admin hooks, every scenario not tagged @kms or
		// @emulator must still pass: none may need what its tags do not
		// say.
		o := full
		o.KMS, o.AWSKMS, o.Emulator, o.Output, o.Format, o.Concurrency = nil, nil, nil, io.Discard, "progress", 2
		res, err := Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range res.Scenarios {
			needs := hasTag(s.Tags, "@kms") || hasTag(s.Tags, "@emulator")
			if (needs && s.Status != "skipped") || (!needs && s.Status != "passed") {
				t.Errorf("%s [%s] %v: %s: %s", s.Name, s.Dialect, s.Tags, s.Status, s.Error)
			}
		}
		if res.Passed == 0 || res.Skipped == 0 {
			t.Errorf("passed %d, skipped %d", res.Passed, res.Skipped)
		}
	})

	t.Run("bad tag expressions", func(t *testing.T) {
		for _, tags := range []string{"not @kms", "@oss && ", "@oss and @s3", "@no-such-tag"} {
			o := limited()
			o.Output, o.Tags = io.Discard, tags
			if _, err := Run(ctx, o); err == nil {
				t.Errorf("Tags %q: no error", tags)
			}
		}
	})

	t.Run("subtests and partial capabilities", func(t *testing.T) {
		o := limited()
		o.Output, o.Tags, o.TestingT = io.Discard, "@none && ~@kms,@emulator && @oss", t // (@none and not @kms) or (@emulator and @oss)
		res, err := Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Passed == 0 || res.Skipped == 0 || res.Failed != 0 || res.ExitCode != 0 || res.NotApplicable == 0 {
			t.Fatalf("passed %d, skipped %d, failed %d, not applicable %d, exit %d; want some passed, some skipped (@emulator), some not applicable (@s3), none failed",
				res.Passed, res.Skipped, res.Failed, res.NotApplicable, res.ExitCode)
		}
		for _, s := range res.Scenarios {
			want := "@emulator: needs the reference"
			if s.Dialect != "oss" {
				t.Errorf("%s [%s] was selected without an S3 target", s.Name, s.Dialect)
			}
			if s.Status == "skipped" && !strings.Contains(s.Error, want) {
				t.Errorf("%s [%s] skipped for %q, want %q", s.Name, s.Dialect, s.Error, want)
			}
		}
	})
}

// TestRuleTags: every fault of the reference has a rule tag in the
// registry, and every rule tag of the registry names a fault the reference
// has, so the fault proof covers every rule the features claim.
func TestRuleTags(t *testing.T) {
	faults := map[string]bool{}
	for _, f := range embedded.AllFaults() {
		faults[string(f)] = true
		tag := RuleTag(f)
		if tag == "" {
			t.Errorf("fault %s has no rule tag in features.Tags", f)
			continue
		}
		if reg, ok := features.LookupTag(tag); !ok || reg.Kind != features.KindRule {
			t.Errorf("RuleTag(%s) = %s, not a registered rule tag", f, tag)
		}
	}
	for _, tag := range features.TagsOfKind(features.KindRule) {
		if !faults[tag.Fault] {
			t.Errorf("rule tag %s names the fault %q, which the reference does not have", tag.Name, tag.Fault)
		}
	}
	if RuleTag("no-such-fault") != "" {
		t.Error("RuleTag of an unknown fault is not empty")
	}
}
