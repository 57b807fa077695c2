package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sseaudit/sseaudit/findings"
)

func render(t *testing.T, fn func(w *bytes.Buffer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := fn(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// --- JUnit ---------------------------------------------------------------

type xmlMsg struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
}

type xmlSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name      string  `xml:"name,attr"`
			Classname string  `xml:"classname,attr"`
			Failure   *xmlMsg `xml:"failure"`
			Error     *xmlMsg `xml:"error"`
			Skipped   *xmlMsg `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestFindingsJUnit(t *testing.T) {
	for _, conf := range []bool{false, true} {
		t.Run(fmt.Sprint("conformance=", conf), func(t *testing.T) {
			m := testModel(t, conf)
			out := render(t, func(w *bytes.Buffer) error { return FindingsJUnit(w, m) })
			var got xmlSuites
			if err := xml.Unmarshal(out, &got); err != nil {
				t.Fatalf("junit does not parse: %v\n%s", err, out)
			}
			// 4 findings + 1 passing "no findings" case + 2 gaps the
			// coverage shows (failures of the outcome suite); conformance
			// adds 4 scenarios.
			want := struct{ tests, failures, errors, skipped, suites int }{7, 4, 1, 1, 5}
			if conf {
				want = struct{ tests, failures, errors, skipped, suites int }{11, 5, 2, 2, 7}
			}
			if got.Tests != want.tests || got.Failures != want.failures || got.Errors != want.errors ||
				got.Skipped != want.skipped || len(got.Suites) != want.suites {
				t.Fatalf("totals = %d/%d/%d/%d suites %d, want %+v\n%s", got.Tests, got.Failures, got.Errors, got.Skipped, len(got.Suites), want, out)
			}
			cases := map[string]string{} // classname|name -> outcome
			for _, s := range got.Suites {
				n := 0
				for _, c := range s.Cases {
					outcome := "pass"
					switch {
					case c.Failure != nil:
						outcome = "failure:" + c.Failure.Type
					case c.Error != nil:
						outcome = "error"
					case c.Skipped != nil:
						outcome = "skipped:" + c.Skipped.Message
					}
					cases[c.Classname+"|"+c.Name] = outcome
					n++
				}
				if n != s.Tests {
					t.Errorf("suite %s: tests=%d but %d cases", s.Name, s.Tests, n)
				}
			}
			checks := map[string]string{
				"SSE-002|oss://b":     "failure:critical",
				"SSE-010|oss://a/z":   "error",
				"SSE-001|oss://b/q":   "skipped:waived: legacy, migrating in Q3 (owner storage@example.com, expires 2026-12-31)",
				"SSE-005|no findings": "pass",
			}
			for k, v := range checks {
				if cases[k] != v {
					t.Errorf("case %s = %q, want %q", k, cases[k], v)
				}
			}
			if conf {
				if cases["Default SSE|rejects bad key [s3]"] != "failure:failed" || !strings.HasPrefix(got.Suites[4].Name, "conformance: ") {
					t.Errorf("conformance suites missing: %v", cases)
				}
			}
		})
	}
}

// --- SARIF ---------------------------------------------------------------

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SARIFSchemaURI, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SARIFSchemaURI)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	schema := sarifSchema(t)
	models := map[string]*Model{
		"findings":             testModel(t, false),
		"findings+conformance": testModel(t, true),
		"empty":                {Schema: ModelSchema, Findings: copyDocument(nil)},
	}
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			out := render(t, func(w *bytes.Buffer) error { return SARIF(w, m) })
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Fatalf("SARIF invalid: %v\n%s", err, out)
			}
		})
	}
	// The validator can fail: a broken log is rejected.
	broken := map[string]string{
		"bad level":       `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"level":"fatal"}]}]}`,
		"no driver":       `{"version":"2.1.0","runs":[{"tool":{}}]}`,
		"bad version":     `{"version":"2.0.0","runs":[]}`,
		"bad suppression": `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"suppressions":[{"kind":"waiver"}]}]}]}`,
	}
	for name, doc := range broken {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err := schema.Validate(inst); err == nil {
			t.Errorf("%s: accepted by the schema", name)
		}
	}
}

type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID         string         `json:"id"`
					Name       string         `json:"name"`
					Help       sarifText      `json:"help"`
					Properties map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool  `json:"executionSuccessful"`
			Notifications       []any `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Locations []struct {
				LogicalLocations []sarifLogical `json:"logicalLocations"`
			} `json:"locations"`
			PartialFingerprints map[string]string  `json:"partialFingerprints"`
			Suppressions        []sarifSuppression `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

func TestSARIFContent(t *testing.T) {
	m := testModel(t, true)
	out := render(t, func(w *bytes.Buffer) error { return SARIF(w, m) })
	var d sarifDoc
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	run := d.Runs[0]
	rules := run.Tool.Driver.Rules
	ids := []string{}
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	if !reflect.DeepEqual(ids, []string{"SSE-001", "SSE-010", "SSE-002", "SSE-005", "CONF"}) {
		t.Fatalf("rules %v", ids)
	}
	r0 := rules[0]
	if r0.Properties["security-severity"] != "8.0" || r0.Name != "ObjectNotEncrypted" ||
		!slices.Contains(toStrings(r0.Properties["tags"]), "CIS-AliCloud-2.0:5.8") ||
		!strings.Contains(r0.Help.Markdown, "ossutil cp") || !strings.Contains(r0.Help.Text, "Re-encrypt") {
		t.Errorf("rule SSE-001 = %+v", r0)
	}
	wantSev := map[string]string{"SSE-002": "9.5", "SSE-010": "5.5", "SSE-005": "3.0"}
	for _, r := range rules {
		if w, ok := wantSev[r.ID]; ok && r.Properties["security-severity"] != w {
			t.Errorf("%s security-severity %v, want %s", r.ID, r.Properties["security-severity"], w)
		}
	}
	// A coverage error and the two gaps the coverage shows (a bucket and
	// two objects not read), not accepted: the execution still succeeded.
	if !run.Invocations[0].ExecutionSuccessful || len(run.Invocations[0].Notifications) != 3 {
		t.Errorf("invocation %+v", run.Invocations[0])
	}
	byFP := map[string]int{}
	conf := 0
	for i, r := range run.Results {
		if ids[r.RuleIndex] != r.RuleID {
			t.Errorf("result %d: ruleIndex %d is not %s", i, r.RuleIndex, r.RuleID)
		}
		if r.RuleID == "CONF" {
			conf++
			continue
		}
		byFP[r.PartialFingerprints[FingerprintKey]] = i
	}
	if conf != 2 {
		t.Errorf("conformance results %d, want 2 (failed + undefined)", conf)
	}
	for _, f := range m.Findings.Findings {
		i, ok := byFP[f.ID]
		if !ok {
			t.Errorf("finding %s has no result", f.ID)
			continue
		}
		r := run.Results[i]
		loc := r.Locations[0].LogicalLocations[0]
		if loc.FullyQualifiedName != f.Resource.UID || loc.Kind != "resource" {
			t.Errorf("%s location %+v", f.ID, loc)
		}
		wantLevel := map[findings.Severity]string{findings.SeverityCritical: "error", findings.SeverityHigh: "error", findings.SeverityMedium: "warning"}[f.Severity]
		if r.Level != wantLevel {
			t.Errorf("%s level %s, want %s", f.ID, r.Level, wantLevel)
		}
		if f.Suppressed != (len(r.Suppressions) == 1) {
			t.Errorf("%s suppressions %+v", f.ID, r.Suppressions)
		}
		if f.Suppressed {
			s := r.Suppressions[0]
			if s.Kind != "external" || s.Status != "accepted" || s.Justification != f.Waiver.Reason {
				t.Errorf("suppression %+v", s)
			}
		}
	}
	// An incomplete scan is not a successful execution.
	m.Provenance.Complete = false
	out = render(t, func(w *bytes.Buffer) error { return SARIF(w, m) })
	d = sarifDoc{}
	json.Unmarshal(out, &d)
	if d.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Error("incomplete scan reported as successful")
	}
}

func toStrings(v any) []string {
	var out []string
	if a, ok := v.([]any); ok {
		for _, x := range a {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}

// --- OCSF ----------------------------------------------------------------

func TestOCSF(t *testing.T) {
	m := testModel(t, false)
	out := render(t, func(w *bytes.Buffer) error { return OCSF(w, m) })
	var events []map[string]any
	if err := json.Unmarshal(out, &events); err != nil {
		t.Fatal(err)
	}
	if len(events) != len(m.Findings.Findings) {
		t.Fatalf("%d events for %d findings", len(events), len(m.Findings.Findings))
	}
	num := func(v any) bool { _, ok := v.(float64); return ok }
	str := func(v any) bool { s, ok := v.(string); return ok && s != "" }
	obj := func(v any) bool { _, ok := v.(map[string]any); return ok }
	arr := func(v any) bool { _, ok := v.([]any); return ok }
	get := func(e map[string]any, path string) any {
		var cur any = e
		for _, p := range strings.Split(path, ".") {
			mm, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = mm[p]
		}
		return cur
	}
	typed := []struct {
		path string
		ok   func(any) bool
	}{
		{"time", num}, {"severity_id", num}, {"severity", str}, {"status_id", num}, {"status", str},
		{"class_uid", num}, {"category_uid", num}, {"type_uid", num}, {"activity_id", num},
		{"finding_info", obj}, {"finding_info.uid", str}, {"finding_info.title", str}, {"finding_info.desc", str},
		{"finding_info.first_seen_time", num}, {"finding_info.last_seen_time", num}, {"finding_info.types", arr},
		{"compliance", obj}, {"compliance.standards", arr}, {"compliance.requirements", arr}, {"compliance.control", str},
		{"compliance.status_id", num}, {"compliance.status", str},
		{"resources", arr}, {"metadata.version", str}, {"metadata.product.name", str},
		{"metadata.product.vendor_name", str}, {"metadata.product.version", str},
		{"remediation.desc", str}, {"unmapped", obj}, {"cloud.provider", str},
	}
	byUID := map[string]map[string]any{}
	for i, e := range events {
		for _, c := range typed {
			if !c.ok(get(e, c.path)) {
				t.Errorf("event %d: %s = %#v has the wrong type", i, c.path, get(e, c.path))
			}
		}
		fixed := map[string]float64{"class_uid": 2003, "category_uid": 2, "type_uid": 200301, "activity_id": 1}
		for k, v := range fixed {
			if e[k] != v {
				t.Errorf("event %d: %s = %v, want %v", i, k, e[k], v)
			}
		}
		if get(e, "metadata.version") != "1.3.0" || get(e, "time") != float64(now.UnixMilli()) {
			t.Errorf("event %d: metadata/time %v %v", i, get(e, "metadata.version"), get(e, "time"))
		}
		r := e["resources"].([]any)[0].(map[string]any)
		if !str(r["uid"]) || !str(r["type"]) || !str(r["region"]) || !str(r["name"]) {
			t.Errorf("event %d: resource %v", i, r)
		}
		byUID[get(e, "finding_info.uid").(string)] = e
	}
	for _, f := range m.Findings.Findings {
		e := byUID[f.ID]
		if e == nil {
			t.Fatalf("no event for %s", f.ID)
		}
		wantStatus, wantComp := "New", "Fail"
		if f.Suppressed {
			wantStatus = "Suppressed"
		}
		if f.Status == findings.StatusError {
			wantComp = "Unknown"
		}
		wantSevID := map[findings.Severity]float64{findings.SeverityCritical: 5, findings.SeverityHigh: 4, findings.SeverityMedium: 3}[f.Severity]
		if e["status"] != wantStatus || get(e, "compliance.status") != wantComp || e["severity_id"] != wantSevID ||
			get(e, "finding_info.first_seen_time") != float64(f.FirstSeen.UnixMilli()) {
			t.Errorf("%s: status %v compliance %v severity_id %v", f.ID, e["status"], get(e, "compliance.status"), e["severity_id"])
		}
		if f.Rule == "SSE-001" && !reflect.DeepEqual(toStrings(get(e, "compliance.requirements")), []string{"CIS-AliCloud-2.0:5.8", "PCI-DSS-4.0:3.5.1"}) {
			t.Errorf("%s requirements %v", f.ID, get(e, "compliance.requirements"))
		}
	}
}

// --- CSV -----------------------------------------------------------------

func TestCSVRoundTrip(t *testing.T) {
	m := testModel(t, false)
	out := render(t, func(w *bytes.Buffer) error { return CSV(w, m) })
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v", err)
	}
	if !reflect.DeepEqual(rows[0], CSVHeader) || len(rows) != 1+len(m.Findings.Findings) {
		t.Fatalf("header %v, %d rows", rows[0], len(rows))
	}
	col := map[string]int{}
	for i, h := range CSVHeader {
		col[h] = i
	}
	for i, f := range m.Findings.Findings {
		row := rows[i+1]
		if len(row) != len(CSVHeader) {
			t.Fatalf("row %d has %d fields", i, len(row))
		}
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("row %d: cell %q could run as a formula", i, cell)
			}
		}
		get := func(name string) string { return UnescapeCSVCell(row[col[name]]) }
		want := map[string]string{
			"id": f.ID, "rule": f.Rule, "severity": f.Severity.String(), "status": f.Status,
			"suppressed": strconv.FormatBool(f.Suppressed), "resource_uid": f.Resource.UID,
			"bucket": f.Resource.Bucket, "key": f.Resource.Key, "region": f.Resource.Region,
			"kms_key_id": f.Resource.KMSKeyID, "message": f.Message, "remediation": f.Remediation.Text,
			"remediation_cli": f.Remediation.CLI, "controls": strings.Join(controlStrings(f.Controls), ";"),
			"first_seen": f.FirstSeen.UTC().Format("2006-01-02T15:04:05Z07:00"),
			"last_seen":  f.LastSeen.UTC().Format("2006-01-02T15:04:05Z07:00"),
		}
		if f.Waiver != nil {
			want["waiver_reason"], want["waiver_owner"], want["waiver_expires"] = f.Waiver.Reason, f.Waiver.Owner, f.Waiver.Expires
		}
		for k, v := range want {
			if got := get(k); got != v {
				t.Errorf("row %d %s = %q, want %q", i, k, got, v)
			}
		}
	}
}

func TestCSVCellEscape(t *testing.T) {
	for _, s := range []string{"", "plain", "=1+1", "+x", "-x", "@x", "\tx", "'quoted", "''", "a=b"} {
		e := EscapeCSVCell(s)
		if UnescapeCSVCell(e) != s {
			t.Errorf("%q: escape round trip gives %q", s, UnescapeCSVCell(e))
		}
		if e != "" && strings.ContainsRune("=+-@\t", rune(e[0])) {
			t.Errorf("%q escapes to %q, still a formula", s, e)
		}
	}
}

// --- Markdown ------------------------------------------------------------

func TestMarkdownRoundTrip(t *testing.T) {
	m := testModel(t, true)
	// A rule title with a pipe and a backslash must survive the table.
	m.Findings.Rules[0].Title = `Object | not \ encrypted`
	out := string(render(t, func(w *bytes.Buffer) error { return Markdown(w, m) }))
	sum := findings.Summarize(m.Findings.Findings)

	head, rows, ok := ParseMarkdownTable(out, "Severity")
	if !ok || !reflect.DeepEqual(head, []string{"Severity", "Open", "Waived"}) || len(rows) != 6 {
		t.Fatalf("severity table %v %v\n%s", head, rows, out)
	}
	for _, r := range rows {
		open, _ := strconv.Atoi(r[1])
		waived, _ := strconv.Atoi(r[2])
		wo, ww := sum.BySeverity[r[0]], sum.SuppressedBySeverity[r[0]]
		if r[0] == "total" {
			wo, ww = sum.Open, sum.Suppressed
		}
		if open != wo || waived != ww {
			t.Errorf("severity %s: %d/%d, want %d/%d", r[0], open, waived, wo, ww)
		}
	}

	_, rows, ok = ParseMarkdownTable(out, "Rule")
	if !ok || len(rows) != 3 {
		t.Fatalf("rule table %v\n%s", rows, out)
	}
	for _, r := range rows {
		rc := sum.ByRule[r[0]]
		if len(r) != 6 || r[3] != strconv.Itoa(rc.Open) || r[4] != strconv.Itoa(rc.Suppressed) || r[5] != "—" {
			t.Errorf("rule row %v, want %+v", r, rc)
		}
		if r[0] == "SSE-001" && r[1] != `Object | not \ encrypted` {
			t.Errorf("title cell %q", r[1])
		}
	}
	if rows[0][0] != "SSE-001" && rows[0][0] != "SSE-002" && rows[0][0] != "SSE-010" {
		t.Errorf("unexpected first rule %v", rows[0])
	}

	_, rows, ok = ParseMarkdownTable(out, "Buckets")
	c := m.Coverage
	if !ok || !reflect.DeepEqual(rows[0], []string{strconv.Itoa(c.Buckets), strconv.Itoa(c.BucketsRead),
		fmt.Sprint(c.ObjectsListed), fmt.Sprint(c.ObjectsInspected), "1", "1", "1"}) {
		t.Errorf("coverage table %v", rows)
	}
	_, rows, ok = ParseMarkdownTable(out, "Passed")
	if !ok || !reflect.DeepEqual(rows[0], []string{"1", "2", "1", "0"}) {
		t.Errorf("conformance table %v", rows)
	}
	for _, f := range []string{"(results.sarif)", "(index.html)", "(findings.csv)", "rejects bad key [s3]", "❌ 3 open"} {
		if !strings.Contains(out, f) {
			t.Errorf("summary lacks %q", f)
		}
	}
}

func TestMarkdownCellEscape(t *testing.T) {
	for _, s := range []string{"a|b", `a\|b`, `\`, "x\ny", "||", "trailing\\"} {
		var b strings.Builder
		mdTable(&b, []string{"H"}, "-", [][]string{{s}})
		_, rows, ok := ParseMarkdownTable(b.String(), "H")
		want := strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
		if !ok || len(rows) != 1 || len(rows[0]) != 1 || rows[0][0] != want {
			t.Errorf("%q: table %q parses to %q", s, b.String(), rows)
		}
	}
}

// --- WriteAll ------------------------------------------------------------

func TestWriteAll(t *testing.T) {
	m := testModel(t, true)
	dir := filepath.Join(t.TempDir(), "out")
	names, err := WriteAll(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"findings.csv", "findings.json", "index.html", "junit.xml", "ocsf.json", "report.json", "results.sarif", "summary.md"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want) {
		t.Errorf("dir holds %d entries (temp files left?)", len(entries))
	}
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil || st.Mode().Perm() != 0o644 || st.Size() == 0 {
			t.Errorf("%s: %v mode %v", n, err, st)
		}
	}
	back, err := ReadModel(filepath.Join(dir, ModelFile))
	if err != nil || back.Provenance.ScanID != "scan-1" {
		t.Fatalf("report.json: %v", err)
	}
	fb, _ := os.ReadFile(filepath.Join(dir, FindingsFile))
	doc, err := findings.Decode(bytes.NewReader(fb))
	if err != nil || len(doc.Findings) != 4 {
		t.Fatalf("findings.json: %v", err)
	}

	// Errors: a failing renderer leaves no temp file and no target file;
	// duplicate or path-like names are refused.
	boom := Renderer{Name: "boom", File: "boom.txt", Render: func(io.Writer, *Model) error { return fmt.Errorf("boom") }}
	bad := []struct {
		name  string
		extra []Renderer
	}{
		{"failing renderer", []Renderer{boom}},
		{"duplicate", []Renderer{{File: SARIFFile, Render: SARIF}}},
		{"path", []Renderer{{File: "../x", Render: SARIF}}},
		{"nil render", []Renderer{{File: "x"}}},
	}
	for _, c := range bad {
		d := t.TempDir()
		if _, err := writeAll(d, m, append(slices.Clone(Formats), c.extra...)); err == nil {
			t.Errorf("%s: no error", c.name)
		}
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") || e.Name() == "boom.txt" {
				t.Errorf("%s: left %s", c.name, e.Name())
			}
		}
	}
}

// aggregateModel is a report of buckets aggregated SSE-004 findings of
// objects objects each.
func aggregateModel(buckets int, objects int64) *Model {
	meta := findings.RuleMeta{ID: "SSE-004", Title: "Object not encrypted", Severity: findings.SeverityHigh,
		Category: findings.CategoryEncryption, ResourceType: findings.ResourceObject,
		Remediation: findings.Remediation{Text: "Rewrite it encrypted.", CLI: "ossutil cp"}, Controls: htmlControls[:2]}
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	m := &Model{GeneratedAt: t0, Findings: &findings.Document{Rules: []findings.RuleMeta{meta}}}
	for i := 0; i < buckets; i++ {
		r := findings.Resource{Type: findings.ResourceObjects, Provider: "oss", Region: "r1", Bucket: fmt.Sprintf("b%04d", i)}
		f := findings.NewFinding(&meta, r, fmt.Sprintf("%s objects, e.g. obj/0: object is not encrypted", findings.Thousands(objects)))
		f.FirstSeen, f.LastSeen = t0, t0
		a := &findings.Aggregate{Objects: objects, Open: objects - 1, Suppressed: 1, Bytes: objects << 20,
			OldestLastModified: t0.Add(-1000 * time.Hour), NewestLastModified: t0, File: findings.AffectedFile}
		for k := 0; k < findings.DefaultSampleSize; k++ {
			a.Sample = append(a.Sample, findings.AffectedSample{Key: fmt.Sprintf("obj/%d", k), Size: 1 << 20, LastModified: t0})
		}
		f.Aggregate = a
		m.Findings.Findings = append(m.Findings.Findings, f)
	}
	return m
}

// TestRenderersAggregate: every format says how many objects an aggregated
// finding sums up and where they are listed, and its size follows the
// findings, not the objects.
func TestRenderersAggregate(t *testing.T) {
	render := func(m *Model) map[string]string {
		out := map[string]string{}
		for _, r := range Formats {
			var b bytes.Buffer
			if err := r.Render(&b, m); err != nil {
				t.Fatalf("%s: %v", r.Name, err)
			}
			out[r.Name] = b.String()
		}
		return out
	}
	m := aggregateModel(1, 1234567)
	id := m.Findings.Findings[0].ID
	got := render(m)
	for format, wants := range map[string][]string{
		"sarif":    {`"objects": 1234567`, `"objects_suppressed": 1`, `"sample_keys": [`, `"affected_objects_file": "` + findings.AffectedFile},
		"ocsf":     {`"objects": 1234567`, `"aggregate": {`, `"file": "` + findings.AffectedFile},
		"junit":    {"oss://b0000/* (1,234,567 objects)", "objects:     1,234,567 (1,234,566 open, 1 waived)", findings.AffectedFile + ` (lines with &#34;aggregate&#34;: &#34;` + id},
		"csv":      {`,1234567,1234566,1,`, `"[""obj/0"",""obj/1""`, findings.AffectedFile},
		"markdown": {"1,234,567 objects (1 of them waived)", "| 1,234,566 |", "[" + findings.AffectedFile + "]"},
		"html":     {"1,234,567 objects", findings.AffectedFile},
		"findings": {`"aggregate": {`, `"objects": 1234567`},
	} {
		for _, w := range wants {
			if !strings.Contains(got[format], w) {
				t.Errorf("%s lacks %q", format, w)
			}
		}
	}
	// Sizes: 100 aggregates of ten objects each or of a million each write
	// (nearly) the same bytes; 1,000 aggregates (at most) ten times those
	// of 100.
	small, big, many := render(aggregateModel(100, 10)), render(aggregateModel(100, 1_000_000)), render(aggregateModel(1000, 1_000_000))
	for _, f := range []string{"sarif", "ocsf", "junit", "csv", "html", "json", "findings"} {
		s, b, n := len(small[f]), len(big[f]), len(many[f])
		t.Logf("%-8s 100 x 10 objects: %7d B; 100 x 1M: %7d B; 1,000 x 1M: %8d B", f, s, b, n)
		if float64(b) > 1.1*float64(s) {
			t.Errorf("%s: %d bytes for 100 aggregates of 1M objects, %d for 100 of 10: size grows with the objects", f, b, s)
		}
		// The HTML shows each rule's first findings whole and the rest by
		// their message: it grows less than the findings.
		if r := float64(n) / float64(b); r > 12 || (r < 8 && f != "html") {
			t.Errorf("%s: 1,000 aggregates take %.1fx the bytes of 100, want about 10x", f, r)
		}
	}
}
