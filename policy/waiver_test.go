package policy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// incompleteScan is a scan that stopped early, with one bucket not read and
// one unencrypted object: SSE-009 (coverage) and SSE-001/SSE-004.
func incompleteScan() *MemorySnapshot {
	m := mem("s-inc", bucket("b1", nil, obj("b1", "plain.txt", snapshot.MethodNone, "")))
	m.Complete = false
	m.Coverage.Buckets = 2
	return m
}

// The waiver from the issue (`rule: "*"`, `resource: "*"`, no expiry) hid
// every finding, the incomplete scan's too. It is refused by default; when
// the user allows it explicitly, it still cannot hide a coverage finding.
func TestBlanketWaiverCannotHideAnIncompleteScan(t *testing.T) {
	blanket := []byte("waivers:\n  - rule: \"*\"\n    resource: \"*\"\n    reason: silence everything\n")
	if _, err := findings.ParseWaivers(blanket, "w.yaml"); err == nil ||
		!strings.Contains(err.Error(), "w.yaml:2: waiver 1") || !strings.Contains(err.Error(), findings.AllowBroadWaiversFlag) {
		t.Fatalf("blanket waiver file: want an error naming w.yaml:2 and %s, got %v", findings.AllowBroadWaiversFlag, err)
	}
	allow := findings.WaiverOptions{AllowBroad: true, AllowPermanent: true}
	ws, err := findings.ParseWaivers(blanket, "w.yaml", allow)
	if err != nil {
		t.Fatal(err)
	}
	e := load(t, Options{Waivers: ws, WaiverOptions: allow})
	fs := eval(t, e, incompleteScan(), nil, nil)
	var cov, waived int
	for _, f := range fs {
		switch {
		case f.Category == findings.CategoryCoverage:
			cov++
			if f.Suppressed || f.Waiver != nil {
				t.Errorf("coverage finding %s waived: %+v", f.Rule, f.Waiver)
			}
		case f.Suppressed:
			waived++
		default:
			t.Errorf("finding %s not waived by the allowed blanket waiver", f.Rule)
		}
	}
	if len(ofRule(fs, "SSE-009")) != 1 || cov == 0 || waived == 0 {
		t.Fatalf("want SSE-009 open and the rest waived, got %v", ids(fs))
	}
	doc := e.Document(findings.ScanInfo{ScanID: "s-inc"}, fs)
	if len(doc.Waivers) != 1 {
		t.Fatalf("document waivers %+v", doc.Waivers)
	}
	w := doc.Waivers[0]
	if w.Matched != len(fs) || w.Suppressed != waived || w.Coverage != cov || !w.Broad || w.State != findings.WaiverActive || w.Source != "w.yaml:2" || w.Expires != "" {
		t.Errorf("waiver summary %+v (findings %d, waived %d, coverage %d)", w, len(fs), waived, cov)
	}
}

// The coverage rules named in issue 10 are of category coverage, which is
// what keeps them from being waived.
func TestCoverageRulesAreCoverage(t *testing.T) {
	e := load(t, Options{})
	for _, id := range []string{"SSE-008", "SSE-009", "SSE-010", "SSE-012"} {
		r, ok := e.Rule(id)
		if !ok || r.Category != findings.CategoryCoverage {
			t.Errorf("%s: category %q, want coverage", id, r.Category)
		}
	}
}

func TestLoadChecksWaiversAgainstRules(t *testing.T) {
	soon := tNow.AddDate(0, 1, 0)
	cases := []struct {
		rule, resource string
		opts           findings.WaiverOptions
		want           string // "" = loads
	}{
		{rule: "SSE-004", resource: "oss://b1/*"},
		{rule: "SSE-00?", resource: "oss://b1/*"},
		{rule: "SSE-04", resource: "oss://b1/*", want: `w.yaml:3: waiver 1: rule "SSE-04" is not a loaded rule (a typo?)`},
		{rule: "SSE-4*", resource: "oss://b1/*", want: `rule pattern "SSE-4*" matches no loaded rule`},
		{rule: "SSE-008", resource: "oss://b1", want: "coverage rule(s) SSE-008, which cannot be waived"},
		{rule: "SSE-009", resource: "scan://reference/127.0.0.1:9000", want: "cannot be waived"},
		{rule: "SSE-010", resource: "kms://cn-hangzhou/x", want: "cannot be waived"},
		{rule: "SSE-012", resource: "oss://b1", want: "cannot be waived"},
		{rule: "SSE-900", resource: "waiver://SSE-004/x", want: "cannot be waived"},
		{rule: "SSE-0*", resource: "oss://b1", want: "matches every rule loaded"},
		{rule: "SSE-0*", resource: "oss://b1", opts: findings.WaiverOptions{AllowBroad: true}},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			ws := []findings.Waiver{{Rule: tc.rule, Resource: tc.resource, Reason: "r", Expires: soon, Source: "w.yaml:3"}}
			_, err := Load(context.Background(), Options{Waivers: ws, WaiverOptions: tc.opts, Now: func() time.Time { return tNow }})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
}
