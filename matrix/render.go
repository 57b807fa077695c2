package matrix

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/sseaudit/sseaudit/results"
)

// cellText is a cell as short text: the status, and the severity of a
// failed (or noted) scenario.
func cellText(c Cell) string {
	if c.Severity != "" && c.Status != results.StatusSkipped {
		return c.Status + " (" + c.Severity + ")"
	}
	return c.Status
}

// WriteMarkdown writes m as a Markdown table (scenario by target) followed
// by the differing answers of each row that differs.
func WriteMarkdown(w io.Writer, m Matrix) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Conformance matrix\n\n%d scenarios, %d targets, %d rows differ.\n\n", len(m.Rows), len(m.Columns), m.Differing)
	b.WriteString("| target | passed | failed | skipped | not applicable | unreachable |\n|---|---|---|---|---|---|\n")
	for i, c := range m.Columns {
		t := m.Totals(i)
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", mdEscape(c), t.Passed, t.Failed, t.Skipped, t.NotApplicable, t.Unreachable)
	}
	for i, e := range m.Errors {
		if e != "" {
			fmt.Fprintf(&b, "\n**%s did not run cleanly:** %s\n", mdEscape(m.Columns[i]), mdEscape(e))
		}
	}
	b.WriteString("\n| # | scenario |")
	for _, c := range m.Columns {
		b.WriteString(" " + mdEscape(c) + " |")
	}
	b.WriteString(" differs |\n|---|---|")
	for range m.Columns {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for i, r := range m.Rows {
		fmt.Fprintf(&b, "| %d | %s / %s |", i+1, mdEscape(r.Feature), mdEscape(r.Name))
		for _, c := range r.Cells {
			b.WriteString(" " + mdEscape(cellText(c)) + " |")
		}
		if r.Differs {
			b.WriteString(" yes |\n")
		} else {
			b.WriteString(" |\n")
		}
	}
	for i, r := range m.Rows {
		if len(r.Differences) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %d. %s / %s\n\n| request |", i+1, mdEscape(r.Feature), mdEscape(r.Name))
		for _, c := range m.Columns {
			b.WriteString(" " + mdEscape(c) + " |")
		}
		b.WriteString("\n|---|")
		for range m.Columns {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, d := range r.Differences {
			b.WriteString("| " + mdEscape(d.Request) + " |")
			for _, a := range d.Answers {
				if a == "" {
					a = "-"
				}
				b.WriteString(" " + mdEscape(a) + " |")
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape keeps a value inside its table cell.
func mdEscape(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// WriteHTML writes m as a self-contained HTML page (no script, no
// external resource): the matrix table, a cell per scenario and target
// coloured by status, the rows that differ marked, and under each such row
// the requests answered differently.
func WriteHTML(w io.Writer, m Matrix) error {
	return page.Execute(w, m)
}

var page = template.Must(template.New("matrix").Funcs(template.FuncMap{
	"cell": cellText,
	"cls": func(c Cell) string {
		return "st-" + strings.ReplaceAll(c.Status, " ", "-")
	},
	"inc":    func(i int) int { return i + 1 },
	"totals": func(m Matrix, i int) Totals { return m.Totals(i) },
	"span":   func(m Matrix) int { return len(m.Columns) + 1 },
	"dash": func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>sseaudit conformance matrix</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #c9ced6;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#eef1f5}
td.st-passed{background:#e3f4e6}
td.st-failed{background:#fbe2e2}
td.st-skipped{background:#fdf3d8}
td.st-not-applicable{background:#f2f2f2;color:#666}
td.st-unreachable{background:#e6e0f0}
p.target-error{color:#8a1c1c}
tr.differs>td.scn{border-left:4px solid #c0392b}
table.diff{margin:.25rem 0 .25rem 1rem}
</style></head><body>
<h1>Conformance matrix</h1>
<p id="summary">{{len .Rows}} scenarios, {{len .Columns}} targets, <span id="differing">{{.Differing}}</span> rows differ.</p>
<table id="totals">
<thead><tr><th>target</th><th>passed</th><th>failed</th><th>skipped</th><th>not applicable</th><th>unreachable</th></tr></thead>
<tbody>
{{- range $i, $c := .Columns}}{{with totals $ $i}}
<tr><td>{{$c}}</td><td>{{.Passed}}</td><td>{{.Failed}}</td><td>{{.Skipped}}</td><td>{{.NotApplicable}}</td><td>{{.Unreachable}}</td></tr>
{{- end}}{{end}}
</tbody></table>
{{- range $i, $e := .Errors}}{{if $e}}
<p class="target-error"><strong>{{index $.Columns $i}} did not run cleanly:</strong> {{$e}}</p>
{{- end}}{{end}}
<table id="matrix">
<thead><tr><th>scenario</th>{{range .Columns}}<th class="target">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range $i, $r := .Rows}}
<tr id="row-{{inc $i}}" class="scenario{{if $r.Differs}} differs{{end}}"><td class="scn">{{$r.Feature}} / {{$r.Name}}</td>{{range $r.Cells}}<td class="cell {{cls .}}" title="{{.Error}}">{{cell .}}</td>{{end}}</tr>
{{- if $r.Differences}}
<tr class="differences" id="diff-{{inc $i}}"><td colspan="{{span $}}"><table class="diff"><thead><tr><th>request answered differently</th>{{range $.Columns}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{- range $r.Differences}}<tr><td>{{.Request}}</td>{{range .Answers}}<td>{{dash .}}</td>{{end}}</tr>{{end}}
</tbody></table></td></tr>
{{- end}}
{{- end}}
</tbody></table>
<footer>sseaudit conformance matrix</footer>
</body></html>
`))
