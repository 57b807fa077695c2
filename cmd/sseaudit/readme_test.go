package main

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/features"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/reports"
)

// The README's tables restate registries that live in code: the rules
// (Rego METADATA), the conformance tags, the report formats, the gap kinds
// and the faults. These tests hold the README to them, so a rule, tag or
// format added or changed in one place cannot leave the README stale.

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tableRows returns the cells of the README's table rows whose first cell
// matches first.
func tableRows(doc string, first *regexp.Regexp) [][]string {
	var rows [][]string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(l, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if first.MatchString(cells[0]) {
			rows = append(rows, cells)
		}
	}
	return rows
}

func TestReadmeRulesTable(t *testing.T) {
	engine, err := pipeline.LoadEngine(context.Background(), pipeline.PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rules := append(engine.Rules(), findings.ExpiredWaiverMeta)
	byID := map[string]findings.RuleMeta{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	rows := tableRows(readme(t), regexp.MustCompile(`^SSE-\d+$`))
	seen := map[string]bool{}
	for _, row := range rows {
		if len(row) != 4 {
			t.Errorf("rules row %v: want id | finding | severity | controls", row)
			continue
		}
		id, title, sev, controls := row[0], row[1], row[2], row[3]
		r, ok := byID[id]
		if !ok {
			t.Errorf("README lists %s, which no policy defines", id)
			continue
		}
		seen[id] = true
		if title != r.Title {
			t.Errorf("%s: README title %q, METADATA %q", id, title, r.Title)
		}
		if sev != r.Severity.String() {
			t.Errorf("%s: README severity %q, METADATA %q", id, sev, r.Severity)
		}
		if other, ok := strings.CutPrefix(controls, "as "); ok {
			if o := byID[other]; !slices.Equal(o.Controls, r.Controls) {
				t.Errorf("%s: README says its controls are %s's, they differ", id, other)
			}
			continue
		}
		if len(r.Controls) == 0 && !strings.HasPrefix(controls, "none") {
			t.Errorf("%s maps to no control, README says %q", id, controls)
		}
		for _, c := range r.Controls {
			if !strings.Contains(controls, c.ID) {
				t.Errorf("%s: README controls %q lack %s %s", id, controls, c.Framework, c.ID)
			}
		}
	}
	for _, r := range rules {
		if !seen[r.ID] {
			t.Errorf("the README's rules table lacks %s (%s)", r.ID, r.Title)
		}
	}
}

func TestReadmeTagsTable(t *testing.T) {
	rows := tableRows(readme(t), regexp.MustCompile("^`@[a-z0-9-]+`$"))
	got := map[string]string{}
	for _, row := range rows {
		got[strings.Trim(row[0], "`")] = row[1]
	}
	for _, tag := range features.Tags() {
		kind, ok := got[tag.Name]
		if !ok {
			t.Errorf("the README's tags table lacks %s", tag.Name)
			continue
		}
		if kind != string(tag.Kind) {
			t.Errorf("%s: README kind %q, registry %q", tag.Name, kind, tag.Kind)
		}
		delete(got, tag.Name)
	}
	for name := range got {
		t.Errorf("the README lists %s, which the registry does not", name)
	}
}

func TestReadmeFormatsGapsFaultsAndExits(t *testing.T) {
	doc := readme(t)
	formatRow := tableRows(doc, regexp.MustCompile("^`--format F`$"))
	if len(formatRow) != 1 {
		t.Fatalf("no --format row in the scan flags table")
	}
	for _, f := range reports.Formats {
		if !strings.Contains(formatRow[0][1], "`"+f.Name+"`") {
			t.Errorf("the --format row lacks %s", f.Name)
		}
		if !strings.Contains(doc, "`"+f.File+"`") {
			t.Errorf("the README never names %s", f.File)
		}
	}
	gaps := tableRows(doc, regexp.MustCompile("^`[a-z]+`$"))
	var kinds []string
	for _, g := range gaps {
		kinds = append(kinds, strings.Trim(g[0], "`"))
	}
	for _, k := range findings.GapKinds {
		if !slices.Contains(kinds, k) {
			t.Errorf("the gaps table lacks %s", k)
		}
	}
	faults := tableRows(doc, regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)+$`))
	var names []string
	for _, f := range faults {
		names = append(names, f[0])
	}
	for _, f := range embedded.AllFaults() {
		if !slices.Contains(names, string(f)) {
			t.Errorf("the fault table lacks %s", f)
		}
	}
	exits := tableRows(doc, regexp.MustCompile(`^[012]$`))
	if len(exits) != 3 || exits[0][1] != findings.VerdictPass || exits[1][1] != findings.VerdictFail || exits[2][1] != findings.VerdictError {
		t.Errorf("the exit code table: %v", exits)
	}
}
