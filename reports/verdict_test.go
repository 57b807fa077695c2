package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// renderAll renders every standard format and the HTML of m, by file name.
func renderAll(t *testing.T, m *Model) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range append(append([]Renderer(nil), Formats...), Renderer{Name: "html", File: HTMLFile, Render: HTML}) {
		var buf bytes.Buffer
		if err := r.Render(&buf, m); err != nil {
			t.Fatalf("%s: %v", r.File, err)
		}
		out[r.File] = buf.String()
	}
	return out
}

// sarifInvocation0 decodes the first invocation of a SARIF log.
func sarifInvocation0(t *testing.T, log string) map[string]any {
	t.Helper()
	var d struct {
		Runs []struct {
			Invocations []map[string]any `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(log), &d); err != nil {
		t.Fatal(err)
	}
	return d.Runs[0].Invocations[0]
}

// junitOutcome decodes the outcome suite of a JUnit file (nil when absent).
type junitOutcomeSuite struct {
	Name     string `xml:"name,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Props    []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Cases []struct {
		Name    string  `xml:"name,attr"`
		Failure *xmlMsg `xml:"failure"`
		Error   *xmlMsg `xml:"error"`
		Skipped *xmlMsg `xml:"skipped"`
	} `xml:"testcase"`
}

func junitOutcome(t *testing.T, doc string) *junitOutcomeSuite {
	t.Helper()
	var d struct {
		Suites []junitOutcomeSuite `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	for i := range d.Suites {
		if d.Suites[i].Name == OutcomeSuite {
			return &d.Suites[i]
		}
	}
	return nil
}

func (s *junitOutcomeSuite) prop(name string) string {
	for _, p := range s.Props {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// TestOutcomeInEveryFormat: the outcome the lead passes in ModelInput is
// in report.json and findings.json, and every format says it: the HTML
// headline (verdict, reasons, each gap accepted or not), the Markdown
// title and gap table, SARIF's invocation, JUnit's outcome suite and each
// OCSF event.
func TestOutcomeInEveryFormat(t *testing.T) {
	path := writeSnap(t, DialectOSS, []fixBucket{
		{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k")}, Listed: 3, Objects: []snapshot.Object{cmkObject("o", "k", 1)}},
	}, nil, &snapshot.Coverage{Buckets: 1, BucketsRead: 1, ObjectsListed: 3, ObjectsInspected: 1, KeysReferenced: 1}, true)
	out := &findings.Outcome{Verdict: findings.VerdictFail, ExitCode: 1, FailOn: "high",
		Reasons: []string{"2 objects were not inspected (gap not accepted)"},
		Gaps: []findings.Gap{
			{Kind: findings.GapObjects, Count: 2, Detail: "2 of 3 listed objects not inspected"},
			{Kind: findings.GapKeys, Count: 1, Detail: "1 KMS key not described", Accepted: true},
		}}
	doc := docOf(allTestRules, objFinding(ruleLow, "oss", "b", "o", nil))
	m := build(t, ModelInput{SnapshotPath: path, Findings: doc, ToolVersion: "v1", Outcome: out})
	if doc.Outcome != nil {
		t.Error("BuildModel changed the caller's document")
	}
	files := renderAll(t, m)

	var rep struct {
		Outcome  *findings.Outcome `json:"outcome"`
		Findings struct {
			Outcome *findings.Outcome `json:"outcome"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(files[ModelFile]), &rep); err != nil {
		t.Fatal(err)
	}
	fd, err := findings.Decode(strings.NewReader(files[FindingsFile]))
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]*findings.Outcome{"report.json": rep.Outcome, "report.json findings": rep.Findings.Outcome, "findings.json": fd.Outcome} {
		if o == nil || o.Verdict != "fail" || o.ExitCode != 1 || len(o.Gaps) != 2 || !o.Gaps[1].Accepted {
			t.Errorf("%s outcome = %+v", name, o)
		}
	}

	_, byID := htmlDoc(t, m)
	head := htmlNodeText(byID["headline"])
	for _, want := range []string{"FAIL", "exit 1", "--fail-on high", "2 objects were not inspected (gap not accepted)",
		"not accepted objects (2): 2 of 3 listed objects not inspected", "accepted keys (1): 1 KMS key not described"} {
		if !strings.Contains(head, want) {
			t.Errorf("HTML headline lacks %q:\n%s", want, head)
		}
	}
	if v := byID["verdict"]; !htmlHasClass(v, "bad") || htmlHasClass(v, "good") {
		t.Errorf("verdict badge %q", htmlClasses(v))
	}

	md := files[MarkdownFile]
	if !strings.Contains(md, "## sseaudit: ❌ FAIL (exit 1) · 1 open finding(s) · 1 gap(s) not accepted · 1 accepted gap(s)") {
		t.Errorf("markdown title:\n%s", md)
	}
	_, rows, ok := ParseMarkdownTable(md, "Gap")
	if !ok || len(rows) != 2 || rows[0][0] != "objects" || rows[0][2] != "no" || rows[1][0] != "keys" || rows[1][2] != "yes" {
		t.Errorf("markdown gap table %v", rows)
	}

	inv := sarifInvocation0(t, files[SARIFFile])
	if inv["exitCode"] != 1.0 || inv["executionSuccessful"] != true || !strings.HasPrefix(inv["exitCodeDescription"].(string), "fail: ") {
		t.Errorf("SARIF invocation %v", inv)
	}
	levels := map[string]string{}
	for _, n := range inv["toolExecutionNotifications"].([]any) {
		n := n.(map[string]any)
		p := n["properties"].(map[string]any)
		levels[p["gap_kind"].(string)] = n["level"].(string)
	}
	if levels["objects"] != "error" || levels["keys"] != "note" {
		t.Errorf("SARIF gap notifications %v", levels)
	}

	js := junitOutcome(t, files[JUnitFile])
	if js == nil || js.prop("verdict") != "fail" || js.prop("exit_code") != "1" || js.prop("fail_on") != "high" ||
		js.Failures != 2 || js.Skipped != 1 || len(js.Cases) != 3 || js.Cases[0].Failure == nil {
		t.Errorf("JUnit outcome suite %+v", js)
	}

	var events []struct {
		Unmapped struct {
			RunOutcome *findings.Outcome `json:"run_outcome"`
		} `json:"unmapped"`
	}
	if err := json.Unmarshal([]byte(files[OCSFFile]), &events); err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Unmapped.RunOutcome == nil || events[0].Unmapped.RunOutcome.Verdict != "fail" {
		t.Errorf("OCSF events %+v", events)
	}
	// An outcome set on the model after it was built still reaches
	// findings.json and report.json's findings document.
	late := build(t, ModelInput{SnapshotPath: path, Findings: docOf(allTestRules), ToolVersion: "v1"})
	late.Outcome = &findings.Outcome{Verdict: findings.VerdictError, ExitCode: 2, FailOn: "high", Reasons: []string{"x"}}
	files = renderAll(t, late)
	if fd, err := findings.Decode(strings.NewReader(files[FindingsFile])); err != nil || fd.Outcome == nil || fd.Outcome.Verdict != "error" {
		t.Errorf("findings.json outcome %+v %v", fd, err)
	}
	if back, err := DecodeModel(strings.NewReader(files[ModelFile])); err != nil || back.Findings.Outcome == nil || back.Outcome.ExitCode != 2 {
		t.Errorf("report.json outcome: %v", err)
	}
}

// TestNeverCleanWhenUnread: a scan that read nothing (0 buckets, a read
// error) but whose snapshot says complete, and with or without an outcome
// that wrongly says pass, is never shown as complete or green by any
// format; a gap accepted by the user is shown, amber, not green; a run that
// read everything and passed is green.
func TestNeverCleanWhenUnread(t *testing.T) {
	readNothing := func(t *testing.T) string {
		return writeSnap(t, DialectS3, nil, nil, &snapshot.Coverage{Errors: []snapshot.Error{
			{Scope: "scan", Resource: "store.example", Code: "InvalidAccessKeyId", Message: "the access key does not exist"}}}, true)
	}
	readAll := func(t *testing.T) string {
		return writeSnap(t, DialectS3, []fixBucket{{Bucket: snapshot.Bucket{Name: "b", Encryption: &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}},
			Objects: []snapshot.Object{{Key: "o", Size: 1, SSE: "AES256", Method: snapshot.MethodOSSManaged}}}}, nil, nil, true)
	}
	notAllRead := func(t *testing.T) string {
		return writeSnap(t, DialectS3, []fixBucket{{Bucket: snapshot.Bucket{Name: "b", Encryption: &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}},
			Listed: 2, Objects: []snapshot.Object{{Key: "o", Size: 1, SSE: "AES256", Method: snapshot.MethodOSSManaged}}}}, nil, nil, true)
	}
	pass := &findings.Outcome{Verdict: findings.VerdictPass, FailOn: "high"}
	cases := []struct {
		name     string
		snap     func(*testing.T) string
		outcome  *findings.Outcome
		verdict  string // class the header badge must have
		run      string // class of the provenance's complete badge
		clean    bool
		sarifOK  bool
		mdPrefix string
	}{
		{"read nothing, no outcome", readNothing, nil, "error", "bad", false, false, "## sseaudit: ⛔"},
		{"read nothing, outcome says pass", readNothing, pass, "error", "bad", false, false, "## sseaudit: ⛔"},
		{"read nothing, error outcome", readNothing, &findings.Outcome{Verdict: findings.VerdictError, ExitCode: 2, FailOn: "high",
			Reasons: []string{"InvalidAccessKeyId: check the credentials"},
			Gaps:    []findings.Gap{{Kind: findings.GapScan, Count: 1, Detail: "no bucket could be listed"}}}, "error", "bad", false, false, "## sseaudit: ⛔ ERROR (exit 2)"},
		{"objects not inspected, outcome says pass", notAllRead, pass, "bad", "bad", false, true, "## sseaudit: ❌ PASS (exit 0)"},
		{"objects not inspected, gap accepted", notAllRead, &findings.Outcome{Verdict: findings.VerdictPass, FailOn: "high",
			Gaps: []findings.Gap{{Kind: findings.GapObjects, Count: 1, Detail: "1 object not inspected", Accepted: true}}}, "warn", "warn", false, true, "## sseaudit: ⚠️ PASS (exit 0)"},
		{"read everything, pass", readAll, pass, "good", "ok", true, true, "## sseaudit: ✅ PASS (exit 0) · no open findings"},
		{"read everything, no outcome", readAll, nil, "good", "ok", true, true, "## sseaudit: ✅ no open findings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := build(t, ModelInput{SnapshotPath: c.snap(t), Findings: docOf(allTestRules), ToolVersion: "v1", Outcome: c.outcome})
			_, byID := htmlDoc(t, m)
			if v := byID["verdict"]; !htmlHasClass(v, c.verdict) || (!c.clean && htmlHasClass(v, "good")) {
				t.Errorf("verdict badge class %q, want %q", htmlClasses(v), c.verdict)
			}
			run := htmlFind(byID["complete"], "pill")
			if len(run) != 1 || !htmlHasClass(run[0], c.run) {
				t.Errorf("complete badge %q, want class %q", htmlNodeText(byID["complete"]), c.run)
			}
			if txt := htmlNodeText(byID["complete"]); !c.clean && strings.HasPrefix(strings.TrimSpace(txt), "complete") && c.run != "warn" {
				t.Errorf("complete badge says %q", txt)
			}
			if !c.clean && byID["gaps"] == nil {
				t.Error("headline does not list what was not checked")
			}
			files := renderAll(t, m)
			if !strings.HasPrefix(files[MarkdownFile], c.mdPrefix) {
				t.Errorf("markdown starts %q, want %q", strings.SplitN(files[MarkdownFile], "\n", 2)[0], c.mdPrefix)
			}
			if !c.clean && strings.Contains(files[MarkdownFile], ", complete.") {
				t.Error("markdown says complete")
			}
			if ok := sarifInvocation0(t, files[SARIFFile])["executionSuccessful"]; ok != c.sarifOK {
				t.Errorf("SARIF executionSuccessful %v, want %v", ok, c.sarifOK)
			}
			if js := junitOutcome(t, files[JUnitFile]); !c.clean && (js == nil || js.Failures+js.Errors+js.Skipped == 0) {
				t.Errorf("JUnit outcome suite %+v does not show the gaps", js)
			}
		})
	}
}

// TestToolVersionEverywhere: every format names the running tool's version
// from ModelInput.ToolVersion, not the version that took the snapshot or
// wrote the findings ("dev"), which is named only as such; without a
// ToolVersion the report says "unknown", never "dev".
func TestToolVersionEverywhere(t *testing.T) {
	const v = "v9.8.7-0.20260801-abcdef012345"
	path := writeSnap(t, DialectOSS, []fixBucket{{Bucket: snapshot.Bucket{Name: "b"}, Objects: []snapshot.Object{{Key: "o", Method: snapshot.MethodNone}}}}, nil, nil, true)
	doc := docOf(allTestRules, objFinding(ruleUnencrypted, "oss", "b", "o", nil)) // Scan.ToolVersion "dev"
	m := build(t, ModelInput{SnapshotPath: path, Findings: doc, ToolVersion: v, Outcome: &findings.Outcome{Verdict: "fail", ExitCode: 1, FailOn: "high"}})
	files := renderAll(t, m)

	var rep struct {
		Tool       Tool       `json:"tool"`
		Provenance Provenance `json:"provenance"`
	}
	json.Unmarshal([]byte(files[ModelFile]), &rep)
	if rep.Tool.Version != v || rep.Provenance.ScanToolVersion != "dev" {
		t.Errorf("report.json tool %+v, scan tool %q", rep.Tool, rep.Provenance.ScanToolVersion)
	}
	var sarif struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Version string `json:"version"`
				} `json:"driver"`
			} `json:"tool"`
		} `json:"runs"`
	}
	json.Unmarshal([]byte(files[SARIFFile]), &sarif)
	if got := sarif.Runs[0].Tool.Driver.Version; got != v {
		t.Errorf("SARIF driver version %q", got)
	}
	var ocsf []OCSFFinding
	json.Unmarshal([]byte(files[OCSFFile]), &ocsf)
	if len(ocsf) != 1 || ocsf[0].Metadata.Product.Version != v {
		t.Errorf("OCSF product version %+v", ocsf)
	}
	if js := junitOutcome(t, files[JUnitFile]); js == nil || js.prop("tool_version") != v || js.prop("scan_tool_version") != "dev" {
		t.Errorf("JUnit outcome suite %+v", js)
	}
	if !strings.Contains(files[MarkdownFile], "Report by sseaudit `"+v+"`; snapshot taken by sseaudit `dev`.") {
		t.Errorf("markdown does not name the versions:\n%s", files[MarkdownFile])
	}
	out, byID := htmlDoc(t, m)
	if !strings.Contains(out, `<meta name="generator" content="sseaudit `+v+`">`) || htmlNodeText(byID["tool-version"]) != v {
		t.Error("HTML generator or provenance does not name the version")
	}
	if prov := htmlNodeText(byID["provenance"]); !strings.Contains(prov, "Snapshot taken by") {
		t.Error("HTML does not say which version took the snapshot")
	}
	for _, f := range []string{ModelFile, SARIFFile, OCSFFile, MarkdownFile, HTMLFile, JUnitFile} {
		if !strings.Contains(files[f], v) {
			t.Errorf("%s does not name %s", f, v)
		}
	}

	m = build(t, ModelInput{SnapshotPath: path, Findings: doc})
	if m.Tool.Version != UnknownVersion {
		t.Errorf("without ToolVersion the tool version is %q, want %q", m.Tool.Version, UnknownVersion)
	}
}

// An incomplete run judged ERROR (the scan did not run to its end) has the
// outcome's gaps, objects and keys: findings.json said 2, but summary.md and
// the HTML said "3 gaps not accepted", the third a scan gap derived from
// the coverage that "the recorded verdict does not account for", although
// the verdict is ERROR for that very reason (the reviewer's t/a-c6). A
// pass recorded for such a run still gets the derived gap: that outcome is
// wrong, and the report must not trust it.
func TestErrorVerdictIsNotCountedTwice(t *testing.T) {
	key := []snapshot.Key{{KeyID: "k", Region: "r1", State: "Enabled"}}
	incomplete := func(t *testing.T) string {
		return writeSnap(t, DialectOSS, []fixBucket{{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k")}, Listed: 2,
			Objects: []snapshot.Object{cmkObject("o", "k", 1)}}}, key, nil, false)
	}
	gaps := []findings.Gap{
		{Kind: findings.GapObjects, Count: 1, Detail: "1 of 2 listed objects not inspected"},
		{Kind: findings.GapKeys, Count: 1, Detail: "1 KMS key in use with unknown state"},
	}
	cases := []struct {
		name    string
		outcome *findings.Outcome
		gaps    int    // gaps every format counts
		md      string // the Markdown title starts with it
		derived bool   // a gap is shown as derived from the coverage
	}{
		{"error verdict", &findings.Outcome{Verdict: findings.VerdictError, ExitCode: 2, FailOn: "critical",
			Reasons: []string{"the scan did not run to its end; the snapshot is marked incomplete"}, Gaps: gaps},
			2, "## sseaudit: ⛔ ERROR (exit 2) · 1 open finding(s) · target not fully read · 2 gap(s) not accepted\n", false},
		{"pass recorded for an incomplete scan", &findings.Outcome{Verdict: findings.VerdictPass, FailOn: "critical", Gaps: gaps},
			3, "## sseaudit: ⛔ PASS (exit 0) · 1 open finding(s) · target not fully read · 3 gap(s) not accepted\n", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := build(t, ModelInput{SnapshotPath: incomplete(t), Findings: docOf(allTestRules, objFinding(ruleLow, "oss", "b", "o", nil)),
				ToolVersion: "v1", Outcome: c.outcome})
			files := renderAll(t, m)
			md := files[MarkdownFile]
			if !strings.HasPrefix(md, c.md) {
				t.Errorf("markdown title %q, want %q", strings.SplitN(md, "\n", 2)[0], strings.TrimSpace(c.md))
			}
			if _, rows, ok := ParseMarkdownTable(md, "Gap"); !ok || len(rows) != c.gaps {
				t.Errorf("markdown gap table %v, want %d rows", rows, c.gaps)
			}
			if got := strings.Contains(md, "does not account for it"); got != c.derived {
				t.Errorf("markdown says a gap is unaccounted for: %v, want %v", got, c.derived)
			}
			_, byID := htmlDoc(t, m)
			head := htmlNodeText(byID["headline"])
			want := fmt.Sprintf("%d gaps not accepted", c.gaps)
			if !strings.Contains(head, want) {
				t.Errorf("HTML headline lacks %q:\n%s", want, head)
			}
			if v := byID["verdict"]; !htmlHasClass(v, "bad") {
				t.Errorf("verdict badge %q", htmlClasses(v))
			}
			notes := sarifInvocation0(t, files[SARIFFile])["toolExecutionNotifications"].([]any)
			if len(notes) != c.gaps {
				t.Errorf("SARIF: %d gap notifications, want %d", len(notes), c.gaps)
			}
		})
	}
}

// With --fail-on none, a run whose worst open finding is critical passed,
// and the HTML verdict box was green. A pass with open findings at high or
// above is amber, and says the gate let them through.
func TestPassWithSevereOpenFindingsIsNotGreen(t *testing.T) {
	readAll := func(t *testing.T) string {
		return writeSnap(t, DialectOSS, []fixBucket{{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k")},
			Objects: []snapshot.Object{cmkObject("o", "k", 1), {Key: "p", Size: 1, Method: snapshot.MethodNone}}}},
			[]snapshot.Key{{KeyID: "k", Region: "r1", State: "Enabled"}}, nil, true)
	}
	critical := objFinding(ruleUndecryptable, "oss", "b", "o", map[string]any{"kms_key_id": "k"})
	high := objFinding(ruleUnencrypted, "oss", "b", "p", nil)
	low := objFinding(ruleLow, "oss", "b", "o", nil)
	pass := func(gate string) *findings.Outcome {
		return &findings.Outcome{Verdict: findings.VerdictPass, FailOn: gate}
	}
	cases := []struct {
		name    string
		fs      []findings.Finding
		outcome *findings.Outcome
		class   string // of the HTML verdict badge
		note    string // in the HTML text and the Markdown title; "" = none
		md      string // the Markdown title starts with it
	}{
		{"gate none, critical open", []findings.Finding{critical, low}, pass("none"), "warn",
			"the gate was none (--fail-on none): 1 open finding at high or above did not fail the run", "## sseaudit: ⚠️ PASS (exit 0)"},
		{"gate critical, high open", []findings.Finding{high}, pass("critical"), "warn",
			"1 open finding at high or above passed the gate --fail-on critical", "## sseaudit: ⚠️ PASS (exit 0)"},
		{"gate none, two severe open", []findings.Finding{critical, high}, pass("none"), "warn",
			"2 open findings at high or above did not fail the run", "## sseaudit: ⚠️ PASS"},
		{"gate high, only low open", []findings.Finding{low}, pass("high"), "good", "", "## sseaudit: ✅ PASS (exit 0)"},
		{"no verdict, critical open", []findings.Finding{critical}, nil, "bad", "", "## sseaudit: ❌"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := build(t, ModelInput{SnapshotPath: readAll(t), Findings: docOf(allTestRules, c.fs...), ToolVersion: "v1", Outcome: c.outcome})
			_, byID := htmlDoc(t, m)
			v := byID["verdict"]
			if !htmlHasClass(v, c.class) || c.class != "good" && htmlHasClass(v, "good") {
				t.Errorf("verdict badge class %q, want %q", htmlClasses(v), c.class)
			}
			head := htmlNodeText(byID["headline"])
			md := renderAll(t, m)[MarkdownFile]
			title := strings.SplitN(md, "\n", 2)[0]
			if !strings.HasPrefix(title, c.md) {
				t.Errorf("markdown title %q, want it to start %q", title, c.md)
			}
			if c.note == "" {
				if strings.Contains(head, "gate") || strings.Contains(title, "gate") {
					t.Errorf("a gate note without cause:\n%s\n%s", head, title)
				}
				return
			}
			if !strings.Contains(head, c.note) || !strings.Contains(title, c.note) {
				t.Errorf("the gate is not named (%q):\nHTML: %s\nMarkdown: %s", c.note, head, title)
			}
		})
	}
}
