package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
)

// MarkdownTopRules is how many rules the summary's rule table lists.
const MarkdownTopRules = 10

// Markdown writes a summary for a pull-request or merge-request comment:
// open and waived findings by severity, the objects the aggregated
// findings sum up, the top rules (with their open objects), coverage, the
// conformance result and links to the other report files (relative to the
// report directory). Table cells escape '\' and '|' with a backslash and
// fold line breaks into spaces; ParseMarkdownTable reads them back.
func Markdown(w io.Writer, m *Model) error {
	return MarkdownWithBase(w, m, "")
}

// MarkdownWithBase is Markdown with links prefixed by base (e.g. the URL of
// the CI job's artifacts, ending in '/').
func MarkdownWithBase(w io.Writer, m *Model, base string) error {
	var b strings.Builder
	sum := modelDoc(m).Summarized()
	st := stateOf(m)
	fmt.Fprintf(&b, "## sseaudit: %s\n\n", mdVerdict(st, sum.Open))
	p := m.Provenance
	fmt.Fprintf(&b, "Scan `%s` of %s `%s`", mdCode(p.ScanID), mdInline(strings.Join(targetBadges(p.Target.Kind, p.Target.Dialect), ", ")), mdCode(p.Target.Endpoint))
	if !p.FinishedAt.IsZero() {
		fmt.Fprintf(&b, ", finished %s", rfc3339(p.FinishedAt))
	}
	switch {
	case st.Unread:
		b.WriteString(", **incomplete: the target could not be fully read**; the results cover only what was read.")
	case st.Unaccepted > 0:
		b.WriteString(", **incomplete**: the results cover only what was read.")
	case len(st.Gaps) > 0:
		b.WriteString(", complete except the accepted gaps below.")
	default:
		b.WriteString(", complete.")
	}
	fmt.Fprintf(&b, " %d waived, %d expired waiver(s).\n\n", sum.Suppressed, sum.ExpiredWaivers)
	if o := outcomeOf(m); o != nil && len(o.Reasons) > 0 {
		b.WriteString("Why:\n\n")
		for _, r := range o.Reasons {
			fmt.Fprintf(&b, "- %s\n", mdInline(r))
		}
		b.WriteString("\n")
	}
	if len(st.Gaps) > 0 {
		b.WriteString("### Not checked\n\n")
		rows := [][]string{}
		for _, g := range st.Gaps {
			acc := "no"
			if g.Accepted {
				acc = "yes"
			}
			detail := g.Detail
			if g.Derived {
				detail += " (seen in the coverage; the recorded verdict does not account for it)"
			}
			rows = append(rows, []string{g.Kind, fmt.Sprint(g.Count), acc, detail})
		}
		mdTable(&b, []string{"Gap", "Count", "Accepted", "Detail"}, "-:--", rows)
	}
	if c := m.Compliance; c != nil {
		b.WriteString("### Compliance\n\n")
		mdTable(&b, []string{"Compliant", "Count", "Of", "Rate"}, "-:::", [][]string{
			{"buckets", fmt.Sprint(c.BucketsCompliant), fmt.Sprint(c.Buckets), htmlPct(int64(c.BucketsCompliant), int64(c.Buckets))},
			{"objects", fmt.Sprint(c.ObjectsCompliant), fmt.Sprint(c.Objects), htmlPct(c.ObjectsCompliant, c.Objects)},
			{"bytes", fmt.Sprint(c.BytesCompliant), fmt.Sprint(c.Bytes), htmlPct(c.BytesCompliant, c.Bytes)},
		})
		fmt.Fprintf(&b, "Compliant: read, encrypted, its KMS keys Enabled, and no open finding of severity %s or above (waived findings do not count).\n\n", mdInline(c.Threshold))
	}

	b.WriteString("### Findings by severity\n\n")
	rows := [][]string{}
	for _, sev := range slices.Backward(findings.Severities) {
		n := sev.String()
		rows = append(rows, []string{n, fmt.Sprint(sum.BySeverity[n]), fmt.Sprint(sum.SuppressedBySeverity[n])})
	}
	rows = append(rows, []string{"total", fmt.Sprint(sum.Open), fmt.Sprint(sum.Suppressed)})
	mdTable(&b, []string{"Severity", "Open", "Waived"}, "-::", rows)
	aggregated := sum.AffectedObjects.Open+sum.AffectedObjects.Suppressed > 0
	if aggregated {
		a := sum.AffectedObjects
		fmt.Fprintf(&b, "The object findings sum up %s objects (%s of them waived), one finding per rule and bucket; every object is listed in [%s](%s%s).\n\n",
			findings.Thousands(int64(a.Open+a.Suppressed)), findings.Thousands(int64(a.Suppressed)), findings.AffectedFile, base, findings.AffectedFile)
	}
	objects := map[string]int64{} // open objects of each rule's aggregates
	err := modelDoc(m).Each(func(f *findings.Finding) error {
		if f.Aggregate != nil {
			objects[f.Rule] += f.Aggregate.Open
		}
		return nil
	})
	if err != nil {
		return err
	}

	rules, err := rulesOf(m.Findings)
	if err != nil {
		return err
	}
	type ruleRow struct {
		meta findings.RuleMeta
		rc   findings.RuleCount
	}
	var rr []ruleRow
	for _, r := range rules {
		if rc := sum.ByRule[r.ID]; rc.Open+rc.Suppressed > 0 {
			rr = append(rr, ruleRow{r, rc})
		}
	}
	slices.SortStableFunc(rr, func(a, b ruleRow) int {
		if a.rc.Open != b.rc.Open {
			return b.rc.Open - a.rc.Open
		}
		if a.meta.Severity != b.meta.Severity {
			return int(b.meta.Severity) - int(a.meta.Severity)
		}
		return strings.Compare(a.meta.ID, b.meta.ID)
	})
	if len(rr) > 0 {
		fmt.Fprintf(&b, "### Top rules\n\n")
		rows = rows[:0]
		for i, r := range rr {
			if i == MarkdownTopRules {
				break
			}
			objs := "—"
			if n, ok := objects[r.meta.ID]; ok {
				objs = findings.Thousands(n)
			}
			rows = append(rows, []string{r.meta.ID, r.meta.Title, severityName(r.meta.Severity),
				fmt.Sprint(r.rc.Open), fmt.Sprint(r.rc.Suppressed), objs})
		}
		mdTable(&b, []string{"Rule", "Title", "Severity", "Open", "Waived", "Open objects"}, "---:::", rows)
		if len(rr) > MarkdownTopRules {
			fmt.Fprintf(&b, "%d more rule(s) with findings: see the full report.\n\n", len(rr)-MarkdownTopRules)
		}
	}

	c := m.Coverage
	b.WriteString("### Coverage\n\n")
	mdTable(&b, []string{"Buckets", "Buckets read", "Objects listed", "Objects inspected", "Keys referenced", "Keys described", "Errors"},
		":::::::", [][]string{{fmt.Sprint(c.Buckets), fmt.Sprint(c.BucketsRead), fmt.Sprint(c.ObjectsListed),
			fmt.Sprint(c.ObjectsInspected), fmt.Sprint(c.KeysReferenced), fmt.Sprint(c.KeysDescribed),
			fmt.Sprint(int64(len(c.Errors)) + c.ErrorsOmitted)}})

	if run := m.Conformance; run != nil {
		b.WriteString("### Conformance\n\n")
		head := []string{"Passed", "Failed", "Skipped", "Not applicable"}
		row := []string{fmt.Sprint(run.Passed), fmt.Sprint(run.Failed), fmt.Sprint(run.Skipped), fmt.Sprint(run.NotApplicable)}
		if run.NotRun > 0 {
			head, row = append(head, "Not run (dry run)"), append(row, fmt.Sprint(run.NotRun))
		}
		mdTable(&b, head, "::::::", [][]string{row})
		for _, x := range run.NotApplicableBy {
			fmt.Fprintf(&b, "- not applicable: %d scenario(s) tagged `%s`: %s\n", x.Count, mdCode(x.Tag), mdInline(x.Reason))
		}
		if len(run.NotApplicableBy) > 0 {
			b.WriteString("\n")
		}
		n := 0
		for _, sc := range run.Scenarios {
			switch sc.Status {
			case results.StatusPassed, results.StatusSkipped, results.StatusNotRun:
				continue
			}
			if n == MarkdownTopRules {
				b.WriteString("- …\n")
				break
			}
			n++
			fmt.Fprintf(&b, "- %s: %s / %s: %s\n", mdInline(sc.Status), mdInline(sc.Feature), mdInline(caseName(sc)), mdInline(firstLine(sc.Error)))
		}
		if n > 0 {
			b.WriteString("\n")
		}
	}

	b.WriteString("### Files\n\n")
	files := linkedFiles()
	if aggregated {
		files = append(files, findings.AffectedFile)
	}
	for _, f := range files {
		fmt.Fprintf(&b, "- [%s](%s%s)\n", f, base, f)
	}
	if p.SnapshotDigest != "" || p.PolicyDigest != "" {
		fmt.Fprintf(&b, "\nSnapshot `%s`, policy `%s`.\n", mdCode(p.SnapshotDigest), mdCode(p.PolicyDigest))
	}
	fmt.Fprintf(&b, "\nReport by %s `%s`", ToolName, mdCode(m.Tool.Version))
	if p.ScanToolVersion != "" && p.ScanToolVersion != m.Tool.Version {
		fmt.Fprintf(&b, "; snapshot taken by %s `%s`", ToolName, mdCode(p.ScanToolVersion))
	}
	b.WriteString(".\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// mdVerdict is the summary's title: the verdict (when recorded), the open
// findings and the gaps; ✅ only for a clean run (runState.Clean).
func mdVerdict(st runState, open int) string {
	icon := "❌"
	switch {
	case st.Clean:
		icon = "✅"
	case st.Verdict() == findings.VerdictError || st.Unread:
		icon = "⛔"
	case st.Unaccepted == 0 && (open == 0 || st.Verdict() == findings.VerdictPass):
		icon = "⚠️"
	}
	var parts []string
	if v := st.Verdict(); v != "" {
		parts = append(parts, fmt.Sprintf("%s (exit %d)", strings.ToUpper(v), st.Outcome.ExitCode))
	}
	if open == 0 {
		parts = append(parts, "no open findings")
	} else {
		parts = append(parts, fmt.Sprintf("%d open finding(s)", open))
	}
	if st.Unread {
		parts = append(parts, "target not fully read")
	}
	if st.Unaccepted > 0 {
		parts = append(parts, fmt.Sprintf("%d gap(s) not accepted", st.Unaccepted))
	}
	if n := len(st.Gaps) - st.Unaccepted; n > 0 {
		parts = append(parts, fmt.Sprintf("%d accepted gap(s)", n))
	}
	if n := st.GateNote(); n != "" {
		parts = append(parts, n)
	}
	return icon + " " + strings.Join(parts, " · ")
}

// linkedFiles are the report files the summary links to.
func linkedFiles() []string {
	return []string{HTMLFile, ModelFile, FindingsFile, SARIFFile, OCSFFile, JUnitFile, CSVFile}
}

// mdTable writes a GitHub-flavoured table; align has one rune per column,
// '-' for left, ':' for right.
func mdTable(b *strings.Builder, head []string, align string, rows [][]string) {
	cells := make([]string, len(head))
	for i, h := range head {
		cells[i] = mdCell(h)
	}
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n|")
	for i := range head {
		if i < len(align) && align[i] == ':' {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		for i, c := range r {
			cells[i] = mdCell(c)
		}
		b.WriteString("| " + strings.Join(cells[:len(r)], " | ") + " |\n")
	}
	b.WriteString("\n")
}

// mdCell escapes a table cell: '\' and '|' get a backslash, line breaks
// become spaces.
func mdCell(s string) string {
	s = strings.NewReplacer("\\", "\\\\", "|", "\\|", "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return strings.TrimSpace(s)
}

// mdInline folds line breaks for inline text.
func mdInline(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
}

// mdCode makes s safe inside a single-backtick code span.
func mdCode(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(mdInline(s), "`", "'")
}

// ParseMarkdownTable finds the table whose header row's first cell is
// first and returns its header and rows with cells unescaped.
func ParseMarkdownTable(md, first string) (head []string, rows [][]string, ok bool) {
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "|") {
			continue
		}
		h := splitRow(l)
		if len(h) == 0 || h[0] != first {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "|-") && !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "|:") {
			continue
		}
		for j := i + 2; j < len(lines); j++ {
			r := strings.TrimSpace(lines[j])
			if !strings.HasPrefix(r, "|") {
				break
			}
			rows = append(rows, splitRow(r))
		}
		return h, rows, true
	}
	return nil, nil, false
}

// splitRow splits "| a | b\|c |" into unescaped cells.
func splitRow(l string) []string {
	l = strings.TrimPrefix(l, "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case c == '\\' && i+1 < len(l):
			i++
			cur.WriteByte(l[i])
		case c == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		cells = append(cells, rest)
	}
	return cells
}
