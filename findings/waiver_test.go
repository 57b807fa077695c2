package findings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

var waiverNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// waiverYAML is one waiver entry at line 2 of w.yaml.
func waiverYAML(rule, resource, expires string) []byte {
	s := fmt.Sprintf("waivers:\n  - rule: %q\n    resource: %q\n    reason: r\n", rule, resource)
	if expires != "" {
		s += "    expires: " + expires + "\n"
	}
	return []byte(s)
}

// The waiver from the issue: `rule: "*"`, `resource: "*"`, no expiry. It
// was accepted silently and hid every finding, the incomplete scan's too.
func TestBlanketWaiverRefused(t *testing.T) {
	_, err := ParseWaivers(waiverYAML("*", "*", ""), "w.yaml", WaiverOptions{Now: func() time.Time { return waiverNow }})
	if err == nil {
		t.Fatal("a waiver for every rule on every resource, never expiring, was accepted")
	}
	for _, want := range []string{
		`w.yaml:2: waiver 1: rule "*" matches every rule`,
		`resource "*" matches every resource`,
		"w.yaml:2: waiver 1: expires is required",
		AllowBroadWaiversFlag, AllowPermanentWaiversFlag,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	// Explicitly allowed, it loads, marked broad, and still cannot hide a
	// coverage finding.
	ws, err := ParseWaivers(waiverYAML("*", "*", ""), "w.yaml", WaiverOptions{AllowBroad: true, AllowPermanent: true})
	if err != nil || len(ws) != 1 || !ws[0].Broad {
		t.Fatalf("allowed: %+v %v", ws, err)
	}
	cov := NewFinding(&RuleMeta{ID: "SSE-009", Severity: SeverityHigh, Category: CategoryCoverage}, Resource{Type: ResourceScan, UID: "scan://reference/x"}, "scan incomplete")
	fs, uses := ApplyWaivers([]Finding{objFinding("a"), cov}, ws, waiverNow)
	if !fs[0].Suppressed || fs[1].Suppressed || fs[1].Waiver != nil {
		t.Errorf("blanket waiver: object suppressed %v, coverage suppressed %v (waiver %+v)", fs[0].Suppressed, fs[1].Suppressed, fs[1].Waiver)
	}
	if u := uses[0]; u.Matched != 2 || u.Suppressed != 1 || u.Coverage != 1 {
		t.Errorf("use %+v", u)
	}
}

func TestWaiverPatternsAndExpiry(t *testing.T) {
	inAMonth := waiverNow.AddDate(0, 1, 0).Format(time.DateOnly)
	cases := []struct {
		rule, resource, expires string
		want                    string // "" = accepted; else in the error
		needs                   WaiverOptions
	}{
		{"SSE-004", "oss://legacy-archive/*", inAMonth, "", WaiverOptions{}},
		{"SSE-00*", "oss://legacy-*", inAMonth, "", WaiverOptions{}},
		{"SSE-004", "*legacy*", inAMonth, "", WaiverOptions{}},
		{"SSE-004", "kms://cn-hangzhou/1234abcd", inAMonth, "", WaiverOptions{}},
		{"SSE-004", "oss://b/k", "2025-01-01", "", WaiverOptions{}}, // expired: kept, reported as SSE-900
		{"*", "oss://b", inAMonth, `rule "*" matches every rule`, WaiverOptions{AllowBroad: true}},
		{"**", "oss://b", inAMonth, "matches every rule", WaiverOptions{AllowBroad: true}},
		{"?*", "oss://b", inAMonth, "matches every rule", WaiverOptions{AllowBroad: true}},
		{"SSE-*", "oss://b", inAMonth, "matches every rule", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "*", inAMonth, `resource "*" matches every resource`, WaiverOptions{AllowBroad: true}},
		{"SSE-004", "oss://*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "*://*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "kms://*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		// A prefix is a name: the old probe bucket started with "s", so
		// "oss://s*" was called broad.
		{"SSE-004", "oss://s*", inAMonth, "", WaiverOptions{}},
		{"SSE-004", "s3://sseaudit-*", inAMonth, "", WaiverOptions{}},
		{"SSE-004", "kms://cn-hangzhou/*", inAMonth, "", WaiverOptions{}},
		{"SSE-004", `oss://\*x`, inAMonth, "", WaiverOptions{}},
		// Separators and wildcards name nothing; nor do letters that only
		// the scheme supplies.
		{"SSE-004", "oss://*-*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "kms://*/*-*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "oss://*/*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "oss://?*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "o*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "oss:/*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "*s*", inAMonth, "matches every resource", WaiverOptions{AllowBroad: true}},
		{"S*", "oss://b", inAMonth, "matches every rule", WaiverOptions{AllowBroad: true}},
		{"SSE-004", "oss://b", "", "expires is required", WaiverOptions{AllowPermanent: true}},
		{"SSE-004", "oss://b", "2099-12-31", "2099-12-31 is more than a year ahead", WaiverOptions{AllowPermanent: true}},
	}
	for _, tc := range cases {
		t.Run(tc.rule+" "+tc.resource+" "+tc.expires, func(t *testing.T) {
			clock := func() time.Time { return waiverNow }
			ws, err := ParseWaivers(waiverYAML(tc.rule, tc.resource, tc.expires), "w.yaml", WaiverOptions{Now: clock})
			if tc.want == "" {
				if err != nil || len(ws) != 1 || ws[0].Broad {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "w.yaml:2: waiver 1: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming w.yaml:2 and %q, got %v", tc.want, err)
			}
			opts := tc.needs
			opts.Now = clock
			if ws, err = ParseWaivers(waiverYAML(tc.rule, tc.resource, tc.expires), "w.yaml", opts); err != nil || len(ws) != 1 {
				t.Fatalf("with %+v: %v", tc.needs, err)
			}
			if ws[0].Broad != tc.needs.AllowBroad {
				t.Errorf("Broad = %v", ws[0].Broad)
			}
		})
	}
}

func TestCheckWaivers(t *testing.T) {
	rules := []RuleMeta{
		{ID: "SSE-001", Category: CategoryEncryption},
		{ID: "SSE-004", Category: CategoryEncryption},
		{ID: "SSE-005", Category: CategoryKey},
		{ID: "SSE-011", Category: CategoryEncryption},
		{ID: "SSE-008", Category: CategoryCoverage},
		{ID: "SSE-009", Category: CategoryCoverage},
		{ID: "CUSTOM-GAP", Category: CategoryCoverage},
		ExpiredWaiverMeta,
	}
	cases := []struct {
		rule  string
		want  string // "" = accepted
		broad bool   // accepted with AllowBroad, marked Broad
	}{
		{rule: "SSE-004"},
		{rule: "SSE-00?"}, // matches coverage rules too: they are skipped at apply time
		{rule: "SSE-04", want: `rule "SSE-04" is not a loaded rule (a typo?): use one of SSE-001, SSE-004`},
		{rule: "sse-004", want: "is not a loaded rule"},
		{rule: "SSE-1*", want: `rule pattern "SSE-1*" matches no loaded rule`},
		{rule: "SSE-008", want: "names coverage rule(s) SSE-008, which cannot be waived"},
		{rule: "SSE-009", want: "cannot be waived"},
		{rule: "CUSTOM-GAP", want: "cannot be waived"},
		{rule: ExpiredWaiverRule, want: "SSE-900 (expired waiver) cannot be waived"},
		{rule: "SSE-0*", want: "matches every rule loaded", broad: true},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			ws := []Waiver{{Rule: tc.rule, Resource: "oss://b", Reason: "r", Source: "w.yaml:7"}}
			err := CheckWaivers(ws, rules, WaiverOptions{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "w.yaml:7: waiver 1: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming w.yaml:7 and %q, got %v", tc.want, err)
			}
			if tc.broad {
				if err := CheckWaivers(ws, rules, WaiverOptions{AllowBroad: true}); err != nil || !ws[0].Broad {
					t.Fatalf("allowed broad: %v, Broad %v", err, ws[0].Broad)
				}
			}
		})
	}
}

func TestSummarizeWaiversInDocument(t *testing.T) {
	ws, err := ParseWaivers([]byte(`waivers:
  - rule: SSE-004
    resource: "oss://b/old/*"
    reason: archive
    owner: alice
    ticket: SEC-1
    expires: 2026-06-30
  - rule: SSE-00*
    resource: "oss://b*"
    reason: stale
    expires: 2026-01-31
  - rule: SSE-004
    resource: "oss://nothing/*"
    reason: unused
    expires: 2026-06-30
`), "w.yaml", WaiverOptions{Now: func() time.Time { return waiverNow }})
	if err != nil {
		t.Fatal(err)
	}
	cov := NewFinding(&RuleMeta{ID: "SSE-008", Severity: SeverityMedium, Category: CategoryCoverage}, Resource{Type: ResourceBucket, Provider: "oss", Bucket: "b"}, "listing failed")
	fs, _ := ApplyWaivers([]Finding{objFinding("old/1"), objFinding("old/2"), objFinding("new"), cov}, ws, waiverNow)
	sum := SummarizeWaivers(ws, fs, waiverNow)
	want := []WaiverSummary{
		{Rule: "SSE-004", Resource: "oss://b/old/*", Reason: "archive", Owner: "alice", Ticket: "SEC-1", Expires: "2026-06-30", Source: "w.yaml:2", State: WaiverActive, Matched: 2, Suppressed: 2},
		{Rule: "SSE-00*", Resource: "oss://b*", Reason: "stale", Expires: "2026-01-31", Source: "w.yaml:8", State: WaiverExpired, Matched: 4, Coverage: 1},
		{Rule: "SSE-004", Resource: "oss://nothing/*", Reason: "unused", Expires: "2026-06-30", Source: "w.yaml:12", State: WaiverActive},
	}
	if len(sum) != len(want) {
		t.Fatalf("summary %+v", sum)
	}
	for i := range want {
		if sum[i] != want[i] {
			t.Errorf("waiver %d:\n got %+v\nwant %+v", i, sum[i], want[i])
		}
	}
	var buf bytes.Buffer
	if err := Encode(&buf, &Document{Waivers: sum, Findings: fs}); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Waivers []map[string]any `json:"waivers"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Waivers) != 3 {
		t.Fatalf("decoded %v %v", back, err)
	}
	if w := back.Waivers[0]; w["matched"] != 2.0 || w["suppressed"] != 2.0 || w["state"] != "active" || w["source"] != "w.yaml:2" || w["owner"] != "alice" {
		t.Errorf("findings.json waiver %v", w)
	}
	buf.Reset()
	if err := Encode(&buf, &Document{}); err != nil || !strings.Contains(buf.String(), `"waivers": []`) {
		t.Errorf("no waivers: %v %s", err, buf.String())
	}
}

// A second YAML document was dropped silently: with `waivers: []` first and
// a blanket waiver after `---`, the file loaded with no waivers (the
// reviewer's multi.yaml). Any document after the first is refused, naming
// the file and line.
func TestWaiversFileHasOneDocument(t *testing.T) {
	opts := WaiverOptions{Now: func() time.Time { return waiverNow }}
	cases := []struct {
		name, yaml string
		want       string // "" = accepted
		n          int
	}{
		{"second document", "waivers: []\n---\nwaivers:\n  - {rule: \"*\", resource: \"*\", reason: x}\n", "w.yaml:2: a second YAML document", 0},
		{"second document after waivers", "waivers:\n  - {rule: SSE-004, resource: \"oss://b\", reason: x, expires: 2026-04-01}\n---\nwaivers: []\n", "w.yaml:3: a second YAML document", 0},
		{"empty trailing document", "waivers: []\n---\n", "second YAML document", 0},
		{"malformed second document", "waivers: []\n---\n: : [\n", "w.yaml: after the first YAML document", 0},
		{"leading marker, one document", "---\nwaivers:\n  - {rule: SSE-004, resource: \"oss://b\", reason: x, expires: 2026-04-01}\n", "", 1},
		{"document end marker", "waivers: []\n...\n", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := ParseWaivers([]byte(tc.yaml), "w.yaml", opts)
			if tc.want == "" {
				if err != nil || len(ws) != tc.n {
					t.Fatalf("got %d waivers, %v; want %d", len(ws), err, tc.n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v (%d waivers)", tc.want, err, len(ws))
			}
		})
	}
}

// Splitting a blanket waiver defeated the broad check, which looked at one
// waiver at a time: "SSE-00*" and "SSE-01*" on "oss://demo*" waived every
// rule there without --allow-broad-waivers (the reviewer's split2.yaml).
// The rules a file waives are now judged together, per resource pattern,
// with the rules of patterns that cover it.
func TestCheckWaiversUnion(t *testing.T) {
	rules := []RuleMeta{
		{ID: "SSE-001", Category: CategoryEncryption},
		{ID: "SSE-004", Category: CategoryEncryption},
		{ID: "SSE-005", Category: CategoryKey},
		{ID: "SSE-011", Category: CategoryEncryption},
		{ID: "SSE-009", Category: CategoryCoverage},
		ExpiredWaiverMeta,
	}
	type w struct{ rule, resource, expires string }
	cases := []struct {
		name  string
		ws    []w
		want  []string // in the error; nil = accepted
		broad []bool   // Broad after CheckWaivers with AllowBroad
	}{
		{name: "split in two on one resource", ws: []w{{"SSE-00*", "oss://demo*", ""}, {"SSE-01*", "oss://demo*", ""}},
			want:  []string{"w.yaml:1: waivers 1 at w.yaml:1", "2 at w.yaml:2", `together waive every rule loaded (SSE-001, SSE-004, SSE-005, SSE-011) on "oss://demo*"`, AllowBroadWaiversFlag},
			broad: []bool{true, true}},
		{name: "one rule per waiver", ws: []w{{"SSE-001", "oss://b/*", ""}, {"SSE-004", "oss://b/*", ""}, {"SSE-005", "oss://b/*", ""}, {"SSE-011", "oss://b/*", ""}},
			want: []string{"waivers 1 at w.yaml:1", "4 at w.yaml:4", "together waive every rule"}, broad: []bool{true, true, true, true}},
		{name: "a wider resource adds its rules", ws: []w{{"SSE-00*", "oss://demo*", ""}, {"SSE-01*", "oss://d*", ""}},
			want: []string{`on "oss://demo*"`}, broad: []bool{true, true}},
		{name: "a covering glob with ?", ws: []w{{"SSE-00*", "oss://demo/x", ""}, {"SSE-011", "oss://demo/?", ""}},
			want: []string{`on "oss://demo/x"`}, broad: []bool{true, true}},
		{name: "disjoint resources", ws: []w{{"SSE-00*", "oss://demo*", ""}, {"SSE-01*", "oss://other*", ""}}, broad: []bool{false, false}},
		{name: "a wider resource's rules count on a narrower one", ws: []w{{"SSE-00*", "oss://d*", ""}, {"SSE-01*", "oss://demo/x", ""}},
			want: []string{`on "oss://demo/x"`}, broad: []bool{true, true}},
		{name: "not every rule", ws: []w{{"SSE-00*", "oss://demo*", ""}, {"SSE-004", "oss://demo*", ""}}, broad: []bool{false, false}},
		{name: "an expired waiver suppresses nothing", ws: []w{{"SSE-00*", "oss://demo*", ""}, {"SSE-01*", "oss://demo*", "2026-01-31"}}, broad: []bool{false, false}},
		{name: "coverage rules need no waiver", ws: []w{{"SSE-00?", "oss://demo*", ""}, {"SSE-011", "oss://demo*", ""}},
			want: []string{"together waive every rule"}, broad: []bool{true, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mk := func() []Waiver {
				var ws []Waiver
				for i, x := range tc.ws {
					wv := Waiver{Rule: x.rule, Resource: x.resource, Reason: "r", Source: fmt.Sprintf("w.yaml:%d", i+1)}
					if x.expires != "" {
						wv.Expires, _ = parseExpiry(x.expires)
					}
					ws = append(ws, wv)
				}
				return ws
			}
			clock := func() time.Time { return waiverNow }
			err := CheckWaivers(mk(), rules, WaiverOptions{Now: clock})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
			} else if err == nil {
				t.Fatal("accepted")
			} else {
				for _, s := range tc.want {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error does not say %q:\n%v", s, err)
					}
				}
			}
			ws := mk()
			if err := CheckWaivers(ws, rules, WaiverOptions{AllowBroad: true, Now: clock}); err != nil {
				t.Fatalf("with AllowBroad: %v", err)
			}
			for i, b := range tc.broad {
				if ws[i].Broad != b {
					t.Errorf("waiver %d: Broad %v, want %v", i+1, ws[i].Broad, b)
				}
			}
		})
	}
}

func TestCovers(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"oss://d*", "oss://demo*", true},
		{"oss://demo*", "oss://d*", false},
		{"oss://*", "oss://b/k", true},
		{"*", "anything*?", true},
		{"oss://b/?", "oss://b/x", true},
		{"oss://b/?", "oss://b/?", true},
		{"oss://b/?", "oss://b/*", false}, // * may match two characters
		{"oss://b/k", "oss://b/?", false},
		{"oss://*/k", "oss://b/k", true},
		{"oss://*/k", "oss://b/j", false},
		{`oss://\*`, "oss://*", false}, // a literal star covers no wildcard
		{"oss://*", `oss://\*`, true},
		{`oss://x\`, "oss://x", false}, // a dangling escape matches nothing
		{"*a*b*", "xaybz", true},
		{"*a*b*", "xbyaz", false},
	}
	for _, c := range cases {
		if got := covers(c.a, c.b); got != c.want {
			t.Errorf("covers(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		// Sound: when it says yes, every probe b matches, a matches.
		if c.want {
			for _, s := range []string{"oss://demo", "oss://demo/x", "oss://b/k", "xaybz", "oss://*", "anything*?"} {
				if Glob(c.b, s) && !Glob(c.a, s) {
					t.Errorf("covers(%q, %q) but %q matches only b", c.a, c.b, s)
				}
			}
		}
	}
}
