package steps

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/embedded"
)

const remediationFeature = "Remediation re-encrypts existing objects in place, losing nothing"

// TestRemediationScenariosCanFail: the reference's faults that break what
// remediation verifies after each copy make remediation scenarios fail,
// both dialects, and only scenarios with the fault's rule tag (the
// scenarios of other features are TestFaultsAreCaught's).
// ignore-named-cmk: the copy asking for the named key is encrypted under
// the default key, which verification refuses. omit-sse-header: HEAD no
// longer says the copy is encrypted.
func TestRemediationScenariosCanFail(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the remediation scenarios against the reference with two faults")
	}
	for _, f := range []embedded.Fault{embedded.IgnoreNamedCMK, embedded.OmitSSEHeader} {
		t.Run(string(f), func(t *testing.T) {
			opts := startReference(t, embedded.FaultsOf(f))
			var out bytes.Buffer
			opts.Output, opts.Format, opts.Concurrency, opts.Tags = &out, "progress", 2, RuleTag(f)
			res, err := Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			failed := map[string]int{}
			for _, s := range res.Scenarios {
				if s.Feature != remediationFeature {
					continue
				}
				if s.Status == "failed" {
					failed[s.Dialect]++
					if !hasTag(s.Tags, RuleTag(f)) {
						t.Errorf("%s [%s] failed without the tag %s", s.Name, s.Dialect, RuleTag(f))
					}
					t.Logf("failed as it must: %s [%s]: %s", s.Name, s.Dialect, firstLine(s.Error))
				}
			}
			for _, d := range []string{"oss", "s3"} {
				if failed[d] == 0 {
					t.Errorf("with %s no remediation scenario failed in %s", f, d)
				}
			}
		})
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
