package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/steps"
)

// printResult prints what a scan or audit produced: on stdout the findings
// table and the summary (or the --format asked for, the summary then going
// to stderr), nothing with --quiet. The run's error is printed by main.
func printResult(e env, f *runFlags, res *pipeline.Result) error {
	if f.quiet || res == nil || res.Findings == nil {
		// Nothing was judged (bad input, or a run that failed before the
		// evaluation): main prints the error, there is no summary.
		return nil
	}
	summaryTo := e.stdout
	if f.format != "table" {
		summaryTo = e.stderr
		if res.Model != nil {
			r, _ := reports.Format(f.format)
			if err := r.Render(e.stdout, res.Model); err != nil {
				return fmt.Errorf("--format %s: %w", f.format, err)
			}
		}
	} else if res.Findings != nil {
		if err := printTable(e.stdout, res.Findings, f.maxRows, colour(e)); err != nil {
			return err
		}
	}
	printSummary(summaryTo, res)
	return nil
}

// colour reports whether stdout may carry ANSI colours: a terminal, and
// NO_COLOR (https://no-color.org) unset.
func colour(e env) bool {
	if e.getenv("NO_COLOR") != "" || e.getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(e.stdout)
}

var severityColour = map[string]string{
	"critical": "\x1b[1;31m", "high": "\x1b[31m", "medium": "\x1b[33m", "low": "\x1b[36m", "info": "\x1b[2m",
}

// printTable prints the open findings, worst first, one line each (as
// Trivy and Prowler do); suppressed findings are only counted.
// The document is read once, in its order: a run's document is sorted
// (findings.Sort), in memory or spilled.
func printTable(w io.Writer, doc *findings.Document, maxRows int, colours bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	open, shown := 0, 0
	err := doc.Each(func(x *findings.Finding) error {
		if x.Suppressed {
			return nil
		}
		open++
		if maxRows > 0 && shown == maxRows {
			return nil
		}
		if shown == 0 {
			fmt.Fprintln(tw, "RULE\tSEVERITY\tRESOURCE\tSUMMARY")
		}
		shown++
		sev := x.Severity.String()
		if colours {
			// Pad before colouring so tabwriter counts visible width.
			sev = severityColour[sev] + fmt.Sprintf("%-8s", sev) + "\x1b[0m"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Rule, sev, clip(x.Resource.UID, 70), clip(x.Message, 110))
		return nil
	})
	if err != nil {
		return fmt.Errorf("print the findings: %w", err)
	}
	if open == 0 {
		fmt.Fprintln(w, "no open findings")
		return nil
	}
	tw.Flush()
	if shown < open {
		fmt.Fprintf(w, "... and %d more open findings (--max-rows 0 shows all; every finding is in findings.json)\n", open-shown)
	}
	return nil
}

// clip collapses s to one line of at most n runes, with control
// characters escaped: object keys and messages come from the storage, and
// must not drive the terminal (colours, titles, cursor moves).
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(printable(s)), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// printSummary prints coverage, counts, what was not checked, the verdict
// and where the files are.
func printSummary(w io.Writer, res *pipeline.Result) {
	sum := res.Summary
	c := sum.Coverage
	t := sum.Provenance.Target
	fmt.Fprintln(w)
	if t.Endpoint != "" {
		fmt.Fprintf(w, "target:      %s %s (%s)\n", t.Kind, t.Endpoint, t.Dialect)
	}
	fmt.Fprintf(w, "scanned:     %d buckets (%d read), %d objects listed, %d inspected, %d of %d keys described, %d errors; complete: %v\n",
		c.Buckets, c.BucketsRead, c.ObjectsListed, c.ObjectsInspected, c.KeysDescribed, c.KeysReferenced, len(c.Errors)+int(c.ErrorsOmitted), sum.Complete)
	if res.Findings != nil {
		s := res.Findings.Summary
		fmt.Fprintf(w, "findings:    %d open", s.Open)
		var parts []string
		for _, sev := range []string{"critical", "high", "medium", "low", "info"} {
			if n := s.BySeverity[sev]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", sev, n))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(parts, ", "))
		}
		fmt.Fprintf(w, ", %d suppressed by waivers", s.Suppressed)
		if a := s.AffectedObjects; a.Open+a.Suppressed > 0 {
			fmt.Fprintf(w, "; %s objects affected (%s waived), each listed in %s", findings.Thousands(int64(a.Open+a.Suppressed)), findings.Thousands(int64(a.Suppressed)), findings.AffectedFile)
		}
		fmt.Fprintln(w)
	}
	if r := res.Conformance; r != nil {
		verdict := "PASS"
		if r.ExitCode != 0 || r.Failed > 0 {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "conformance: %s: %s\n", verdict, strings.TrimPrefix(steps.SummaryLine(*r), "sseaudit conformance: "))
	}
	for _, g := range res.Outcome.Gaps {
		state := "NOT CHECKED"
		if g.Accepted {
			state = "not checked (accepted)"
		}
		fmt.Fprintf(w, "%-12s %s: %s\n", "gap:", state, g.Detail)
	}
	o := res.Outcome
	verdict := strings.ToUpper(o.Verdict)
	if verdict == "" {
		verdict = "ERROR"
	}
	line := fmt.Sprintf("verdict:     %s (exit %d, --fail-on %s)", verdict, o.ExitCode, o.FailOn)
	if len(o.Reasons) > 0 {
		line += ": " + strings.Join(o.Reasons, "; ")
	}
	fmt.Fprintln(w, line)
	if res.Written {
		if res.Model != nil && res.Dir != "" && fileExists(filepath.Join(res.Dir, reports.HTMLFile)) {
			if res.Link != nil {
				fmt.Fprintf(w, "signed:      run %d of the chain, key id %s\n", res.Link.Sequence, res.KeyID)
			}
			fmt.Fprintf(w, "report:      %s\n", absPath(filepath.Join(res.Dir, reports.HTMLFile)))
		} else {
			fmt.Fprintf(w, "snapshot:    %s\nfindings:    %s\n", res.SnapshotPath, res.FindingsPath)
		}
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// printable escapes control characters (as \u001b) so text from a store
// or a file prints as what it is.
func printable(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isControl is a control character (newlines included: one record, one
// line) or a bidirectional override that can disguise what a line says.
func isControl(r rune) bool {
	switch r {
	case '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069':
		return true
	}
	return unicode.IsControl(r)
}
