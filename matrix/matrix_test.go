package matrix

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/results"
)

func scenario(dialect, status, sev string, obs ...results.Observation) results.Scenario {
	return results.Scenario{Feature: "F", Name: "S", Dialect: dialect, Status: status, Severity: sev, Observed: obs}
}

// TestBuild: what makes a row differ, case by case.
func TestBuild(t *testing.T) {
	put := func(status int, code, sse string) results.Observation {
		return results.Observation{Request: "PutObject a", Status: status, Code: code, SSE: sse}
	}
	cases := []struct {
		name    string
		cells   []results.Scenario // one per column; Status "" = not in the run
		differs bool
		diffs   int
	}{
		{"same answers", []results.Scenario{scenario("s3", "passed", "", put(200, "", "AES256")), scenario("s3", "passed", "", put(200, "", "AES256"))}, false, 0},
		{"each dialect's own code", []results.Scenario{scenario("oss", "passed", "", put(404, "NoSuchServerSideEncryptionRule", "")), scenario("s3", "passed", "", put(404, "ServerSideEncryptionConfigurationNotFoundError", ""))}, false, 0},
		{"another code in one dialect", []results.Scenario{scenario("s3", "passed", "info", put(400, "InvalidArgument", "")), scenario("s3", "passed", "", put(400, "KMS.NotFoundException", ""))}, true, 1},
		{"header missing", []results.Scenario{scenario("s3", "passed", "", put(200, "", "AES256")), scenario("s3", "failed", "low", put(200, "", "none"))}, true, 1},
		{"another status", []results.Scenario{scenario("oss", "passed", "", put(409, "KeyDisabled", "")), scenario("s3", "failed", "high", put(200, "", "KMS+key"))}, true, 1},
		{"not applicable on one", []results.Scenario{scenario("s3", "passed", "", put(200, "", "AES256")), {}}, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cols []Column
			for i, s := range c.cells {
				col := Column{Name: string(rune('A' + i))}
				if s.Status != "" {
					col.Run.Scenarios = []results.Scenario{s}
				}
				cols = append(cols, col)
			}
			m := Build(cols)
			if len(m.Rows) != 1 {
				t.Fatalf("%d rows", len(m.Rows))
			}
			r := m.Rows[0]
			if r.Differs != c.differs || len(r.Differences) != c.diffs {
				t.Errorf("differs %v with %v, want %v with %d", r.Differs, r.Differences, c.differs, c.diffs)
			}
			if c.name == "not applicable on one" && r.Cells[1].Status != StatusNotApplicable {
				t.Errorf("the missing scenario is %q", r.Cells[1].Status)
			}
			var md, html bytes.Buffer
			if err := WriteMarkdown(&md, m); err != nil {
				t.Fatal(err)
			}
			if err := WriteHTML(&html, m); err != nil {
				t.Fatal(err)
			}
			if c.diffs > 0 && (!strings.Contains(md.String(), "| PutObject a |") || !strings.Contains(html.String(), `class="differences"`)) {
				t.Errorf("the differing request is not rendered:\n%s", md.String())
			}
		})
	}
}

// TestRenderEscapes: names from the store cannot break out of a cell.
func TestRenderEscapes(t *testing.T) {
	m := Build([]Column{{Name: "<b>x|y</b>", Run: results.Run{Scenarios: []results.Scenario{{Feature: "F", Name: "<script>alert(1)</script>", Status: "passed"}}}}})
	var md, html bytes.Buffer
	WriteMarkdown(&md, m)
	WriteHTML(&html, m)
	if strings.Contains(html.String(), "<script>") || strings.Contains(html.String(), "<b>") {
		t.Errorf("HTML not escaped:\n%s", html.String())
	}
	if strings.Contains(md.String(), "x|y") || strings.Contains(md.String(), "<script>") {
		t.Errorf("Markdown not escaped:\n%s", md.String())
	}
}

// TestUnreachableColumn: a target that could not be reached keeps its
// column, its cells say unreachable where it owed a scenario, its error
// is rendered, and it makes no row differ (nothing is known of it).
func TestUnreachableColumn(t *testing.T) {
	put := results.Observation{Request: "PutObject a", Status: 200, SSE: "AES256"}
	ran := results.Run{Scenarios: []results.Scenario{
		{Feature: "F", Name: "S", Dialect: "s3", Status: "passed", Observed: []results.Observation{put}},
		{Feature: "F", Name: "T", Dialect: "oss", Status: "failed", Severity: "low"},
	}}
	// The dry run's selection of the unreachable target: only S applies.
	owed := results.Run{Scenarios: []results.Scenario{{Feature: "F", Name: "S", Dialect: "s3", Status: results.StatusNotRun},
		{Feature: "F", Name: "U", Dialect: "s3", Status: results.StatusSkipped, Error: "@kms: no KMS endpoint"}}}
	const why = "the s3 endpoint http://127.0.0.1:1 cannot be reached"
	m := Build([]Column{{Name: "store", Run: ran}, {Name: "gone", Run: owed, Error: why, Unreachable: true}})
	if len(m.Rows) != 3 {
		t.Fatalf("%d rows", len(m.Rows))
	}
	if c := m.Rows[2].Cells[1]; c.Status != StatusUnreachable {
		t.Errorf("a scenario the unreachable target would have skipped: %q", c.Status)
	}
	if c := m.Rows[0].Cells[1]; c.Status != StatusUnreachable || c.Error != why {
		t.Errorf("the owed scenario on the unreachable target: %+v", c)
	}
	if c := m.Rows[1].Cells[1]; c.Status != StatusNotApplicable {
		t.Errorf("a scenario the target did not owe: %q", c.Status)
	}
	if m.Differing != 0 || len(m.Rows[0].Differences) != 0 {
		t.Errorf("an unreachable cell made rows differ: %d, %v", m.Differing, m.Rows[0].Differences)
	}
	want := []Totals{{Passed: 1, Failed: 1, NotApplicable: 1}, {NotApplicable: 1, Unreachable: 2}}
	for i, w := range want {
		if got := m.Totals(i); got != w {
			t.Errorf("totals of %s: %+v, want %+v", m.Columns[i], got, w)
		}
	}
	var md, html bytes.Buffer
	if err := WriteMarkdown(&md, m); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, m); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| gone | 0 | 0 | 0 | 1 | 2 |", "**gone did not run cleanly:** " + why, "| F / S | passed | unreachable |"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("the Markdown lacks %q:\n%s", s, md.String())
		}
	}
	for _, s := range []string{`class="cell st-unreachable"`, `<p class="target-error"><strong>gone did not run cleanly:</strong> ` + why} {
		if !strings.Contains(html.String(), s) {
			t.Errorf("the HTML lacks %q:\n%s", s, html.String())
		}
	}
}
