package findings

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSeverity(t *testing.T) {
	for _, s := range Severities {
		p, err := ParseSeverity(strings.ToUpper(s.String()))
		if err != nil || p != s {
			t.Errorf("%v: %v %v", s, p, err)
		}
	}
	if s, _ := ParseSeverity("informational"); s != SeverityInfo {
		t.Error("informational")
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Error("urgent parsed")
	}
	if !SeverityCritical.AtLeast(SeverityHigh) || SeverityMedium.AtLeast(SeverityHigh) || Severity(0).AtLeast(0) {
		t.Error("ordering")
	}
	b, _ := json.Marshal(map[string]Severity{"s": SeverityHigh})
	if string(b) != `{"s":"high"}` {
		t.Errorf("json %s", b)
	}
	var back map[string]Severity
	if err := json.Unmarshal(b, &back); err != nil || back["s"] != SeverityHigh {
		t.Errorf("unmarshal %v %v", back, err)
	}
	if _, err := json.Marshal(Severity(9)); err == nil {
		t.Error("invalid severity marshalled")
	}
	fs := []Finding{{Severity: SeverityHigh}, {Severity: SeverityLow}, {Severity: SeverityCritical, Suppressed: true}}
	for in, want := range map[string]int{"high": 1, "low": 2, "critical": 0, "none": 0, "": 0} {
		min, err := FailOnSeverity(in)
		if err != nil {
			t.Fatal(err)
		}
		if n := Failing(fs, min); n != want {
			t.Errorf("--fail-on %q: %d, want %d", in, n, want)
		}
	}
	if _, err := FailOnSeverity("bad"); err == nil {
		t.Error("--fail-on bad")
	}
}

func TestIDs(t *testing.T) {
	obj := Resource{Type: ResourceObject, Provider: "oss", Bucket: "b", Key: "k", Region: "cn-hangzhou"}
	id := ID("SSE-004", obj)
	if !strings.HasPrefix(id, "F-") || len(id) != 34 {
		t.Fatalf("id %q", id)
	}
	same := obj
	same.Region, same.UID = "", "whatever"
	if ID("SSE-004", same) != id {
		t.Error("id depends on region or display uid")
	}
	for _, other := range []struct {
		rule string
		r    Resource
	}{
		{"SSE-005", obj},
		{"SSE-004", Resource{Type: ResourceObject, Provider: "oss", Bucket: "b", Key: "k", VersionID: "v"}},
		{"SSE-004", Resource{Type: ResourceObject, Provider: "s3", Bucket: "b", Key: "k"}},
		{"SSE-004", Resource{Type: ResourceObject, Provider: "oss", Bucket: "b/k", Key: ""}},
		{"SSE-004", Resource{Type: ResourceBucket, Provider: "oss", Bucket: "b"}},
	} {
		if ID(other.rule, other.r) == id {
			t.Errorf("collision with %+v", other)
		}
	}
	if u := obj.CanonicalUID(); u != "oss://b/k" {
		t.Errorf("uid %q", u)
	}
	if u := (Resource{Type: ResourceKey, Region: "r", KMSKeyID: "k"}).CanonicalUID(); u != "kms://r/k" {
		t.Errorf("uid %q", u)
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "oss://b/a/b/c", true},
		{"oss://b/*", "oss://b/a/b/c", true},
		{"oss://b/*", "oss://bb/a", false},
		{"oss://logs-*", "oss://logs-2024", true},
		{"oss://logs-*", "oss://logs-2024/x", true},
		{"SSE-00?", "SSE-004", true},
		{"SSE-00?", "SSE-0040", false},
		{"*.gz", "oss://b/x.gz", true},
		{"*.gz", "oss://b/x.gzip", false},
		{`oss://b/a\*`, "oss://b/a*", true},
		{`oss://b/a\*`, "oss://b/ab", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, c := range cases {
		if got := Glob(c.p, c.s); got != c.want {
			t.Errorf("Glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

var testMeta = RuleMeta{ID: "SSE-004", Title: "Object not encrypted", Severity: SeverityHigh, Category: CategoryEncryption, Controls: []Control{{Framework: "NIST SP 800-53", Version: "Rev. 5", ID: "SC-28", Title: "Protection of Information at Rest"}}}

func objFinding(key string) Finding {
	return NewFinding(&testMeta, Resource{Type: ResourceObject, Provider: "oss", Bucket: "b", Key: key}, "m")
}

func TestWaivers(t *testing.T) {
	ws, err := ParseWaivers([]byte(`waivers:
  - rule: SSE-00*
    resource: oss://b/legacy/*
    reason: migration ticket
    owner: alice
    ticket: SEC-1
    expires: 2024-06-30
  - rule: "*"
    resource: oss://b/old/*
    reason: old stuff
    expires: 2024-05-31
  - rule: SSE-004
    resource: oss://b/old/keep
    reason: permanent exception
`), "w.yaml", WaiverOptions{AllowBroad: true, AllowPermanent: true})
	if err != nil {
		t.Fatal(err)
	}
	if ws[0].Source != "w.yaml:2" || ws[2].Source != "w.yaml:12" || !ws[2].Expires.IsZero() || ws[0].ExpiresDate() != "2024-06-30" || !ws[1].Broad || ws[0].Broad {
		t.Errorf("parsed %+v", ws)
	}
	// Valid through the whole expiry day.
	if ws[0].Expired(time.Date(2024, 6, 30, 23, 59, 0, 0, time.UTC)) || !ws[0].Expired(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("expiry boundary")
	}
	fs := []Finding{objFinding("legacy/a"), objFinding("old/x"), objFinding("old/keep"), objFinding("new")}
	now := time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC)
	out, uses := ApplyWaivers(fs, ws, now)
	if len(out) != 5 {
		t.Fatalf("want 4 findings + 1 expired waiver, got %d", len(out))
	}
	if !out[0].Suppressed || out[0].Waiver.State != WaiverActive || out[0].Waiver.Ticket != "SEC-1" {
		t.Errorf("active: %+v", out[0])
	}
	if out[1].Suppressed || out[1].Waiver.State != WaiverExpired {
		t.Errorf("expired: %+v", out[1])
	}
	if !out[2].Suppressed || out[2].Waiver.Reason != "permanent exception" {
		t.Errorf("expired then active: %+v", out[2])
	}
	if out[3].Suppressed || out[3].Waiver != nil {
		t.Errorf("unwaived: %+v", out[3])
	}
	x := out[4]
	if x.Rule != ExpiredWaiverRule || x.Resource.UID != "waiver://*/oss://b/old/*" || x.Observed["matched_findings"] != 2 || x.Suppressed || x.ID != ID(ExpiredWaiverRule, x.Resource) {
		t.Errorf("expired waiver finding %+v", x)
	}
	if uses[0].Matched != 1 || uses[1].Matched != 2 || uses[2].Matched != 1 || !uses[1].Expired || uses[2].Suppressed != 1 || uses[1].Suppressed != 0 {
		t.Errorf("uses %+v", uses)
	}
	// Applying again on fresh findings gives the same ids (stable).
	again, _ := ApplyWaivers([]Finding{objFinding("legacy/a")}, ws, now)
	if again[1].ID != x.ID {
		t.Error("expired waiver id not stable")
	}
}

func TestParseWaiversErrors(t *testing.T) {
	cases := map[string]string{
		"waivers:\n  - rule: SSE-001\n    resource: '*'\n":                                      "w.yaml:2: waiver 1: reason is required",
		"waivers:\n  - resource: '*'\n    reason: r\n":                                          "rule is required",
		"waivers:\n  - rule: SSE-001\n    reason: r\n":                                          "resource is required",
		"waivers:\n  - rule: SSE-001\n    resource: x\n    reason: r\n    expires: tomorrow\n":  `expires "tomorrow": want a date YYYY-MM-DD`,
		"waivers:\n  - rule: SSE-001\n    resource: x\n    reason: r\n    expiry: 2024-01-01\n": "field expiry not found",
		"exceptions: []\n": "field exceptions not found",
		"waivers: [\n":     "w.yaml: yaml:",
	}
	for src, want := range cases {
		_, err := ParseWaivers([]byte(src), "w.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
	if ws, err := ParseWaivers([]byte("  \n"), "w.yaml"); err != nil || ws != nil {
		t.Errorf("empty: %v %v", ws, err)
	}
}

func TestSummaryAndDocument(t *testing.T) {
	fs := []Finding{objFinding("a"), objFinding("b")}
	fs[1].Suppressed = true
	fs = append(fs, NewFinding(&RuleMeta{ID: "SSE-008", Title: "t", Severity: SeverityMedium, Category: CategoryCoverage}, Resource{Type: ResourceBucket, Bucket: "b"}, "m"))
	fs[0].Observed = map[string]any{"size": json.Number("12")}
	fs[0].Evidence = []Evidence{{Kind: "head_object", Source: "HeadObject", Snapshot: "s1", Data: map[string]any{"etag": "x"}}}
	s := Summarize(fs)
	if s.Total != 3 || s.Open != 2 || s.Suppressed != 1 || s.BySeverity["high"] != 1 || s.BySeverity["medium"] != 1 || s.BySeverity["critical"] != 0 ||
		s.SuppressedBySeverity["high"] != 1 || s.ByRule["SSE-004"] != (RuleCount{Open: 1, Suppressed: 1}) || s.ByCategory[CategoryCoverage] != 1 || s.Resources != 2 {
		t.Errorf("summary %+v", s)
	}
	if fs[2].Status != StatusError || fs[0].Status != StatusFail || fs[2].Resource.UID != "oss://b" {
		t.Errorf("status/uid %+v", fs[2])
	}
	Sort(fs)
	if fs[0].Rule != "SSE-004" || fs[2].Rule != "SSE-008" {
		t.Errorf("order %v %v %v", fs[0].Rule, fs[1].Rule, fs[2].Rule)
	}
	doc := &Document{GeneratedAt: time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC), Scan: ScanInfo{ScanID: "s1"}, PolicyDigest: "sha256:x", Findings: fs}
	var buf bytes.Buffer
	if err := Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("invalid json:\n%s", buf.String())
	}
	back, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.Summary.Open != 2 || len(back.Findings) != 3 || !reflect.DeepEqual(back.Findings[0].Observed, fs[0].Observed) && !reflect.DeepEqual(back.Findings[1].Observed, fs[0].Observed) {
		t.Errorf("round trip %+v", back)
	}
	for i := range fs {
		if back.Findings[i].ID != fs[i].ID || back.Findings[i].Severity != fs[i].Severity || back.Findings[i].Suppressed != fs[i].Suppressed {
			t.Errorf("finding %d: %+v", i, back.Findings[i])
		}
	}
	// Empty document.
	buf.Reset()
	if err := Encode(&buf, &Document{}); err != nil || !json.Valid(buf.Bytes()) || !strings.Contains(buf.String(), `"findings": []`) {
		t.Errorf("empty: %v %s", err, buf.String())
	}
	if _, err := Decode(strings.NewReader(`{"schema":"other"}`)); err == nil {
		t.Error("wrong schema decoded")
	}
}
