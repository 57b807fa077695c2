package steps

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/cucumber/godog"

	"github.com/sseaudit/sseaudit/features"
	"github.com/sseaudit/sseaudit/results"
)

// godog's summary has no "skipped" for scenarios: its Base.Summary counts a
// scenario whose steps were all skipped (a Before hook or a step returned
// godog.ErrSkip) as passed, so "122 scenarios (122 passed)" stood above
// "48 passed, 74 skipped". No error a hook or step can return changes that.
// So the pretty and progress formats the suite offers are godog's own,
// wrapped: every event goes to godog's formatter unchanged, and in its
// summary the scenario line is recounted from godog's own step results
// with skipped scenarios as skipped. Run's summary prints the same line,
// counted from the suite's records, and a test holds the two equal.

// Names under which the wrapped formatters are registered with godog; Run
// maps "pretty" and "progress" to them.
const (
	fmtPretty   = "sseaudit-pretty"
	fmtProgress = "sseaudit-progress"
)

// init registers the wrapped formatters: godog finds formatters only by
// name in its own registry, and registering once here keeps godog's
// "pretty" and "progress" untouched for any other user in the process.
func init() {
	godog.Format(fmtPretty, "godog's pretty, counting skipped scenarios as skipped", func(suite string, out io.Writer) godog.Formatter {
		so := &summaryOut{w: out}
		return &prettyFmt{PrettyFmt: godog.NewPrettyFmt(suite, so), out: so}
	})
	godog.Format(fmtProgress, "godog's progress, counting skipped scenarios as skipped", func(suite string, out io.Writer) godog.Formatter {
		so := &summaryOut{w: out}
		return &progressFmt{ProgressFmt: godog.NewProgressFmt(suite, so), out: so}
	})
}

// prettyFmt is godog's pretty formatter with an honest scenario line. The
// embedded pointer also promotes SetStorage, through which godog hands the
// formatter its results.
type prettyFmt struct {
	*godog.PrettyFmt
	out *summaryOut
}

func (f *prettyFmt) Summary() { f.out.summary(f.PrettyFmt.Summary, f.PrettyFmt.Base) }

// progressFmt is godog's progress formatter with an honest scenario line.
type progressFmt struct {
	*godog.ProgressFmt
	out *summaryOut
}

func (f *progressFmt) Summary() { f.out.summary(f.ProgressFmt.Summary, f.ProgressFmt.Base) }

// summaryOut passes a wrapped formatter's output through, except during
// its summary, which it captures to replace the scenario line.
type summaryOut struct {
	w   io.Writer
	buf *bytes.Buffer
}

func (s *summaryOut) Write(p []byte) (int, error) {
	if s.buf != nil {
		return s.buf.Write(p)
	}
	return s.w.Write(p)
}

// godogScenarioLine is the line of godog's summary that counts scenarios
// (the counts may be coloured; the start never is).
var godogScenarioLine = regexp.MustCompile(`^[0-9]+ scenarios \(`)

// summary runs the wrapped formatter's summary and writes it with the
// scenario line recounted from godog's results in b.
func (s *summaryOut) summary(inner func(), b *godog.BaseFmt) {
	s.buf = new(bytes.Buffer)
	inner()
	text := s.buf.String()
	s.buf = nil
	line := countGodog(b)
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if godogScenarioLine.MatchString(l) {
			lines[i] = line + "\n"
			break
		}
	}
	io.WriteString(s.w, strings.Join(lines, ""))
}

// countGodog counts godog's scenarios from its step results: failed when a
// step failed or was undefined, pending or ambiguous (the run is strict),
// skipped when a step was skipped and none failed (a hook or step skipped
// the scenario), passed otherwise.
func countGodog(b *godog.BaseFmt) string {
	var total, passed, failed, skipped int
	for _, pr := range b.Storage.MustGetPickleResults() {
		total++
		srs := b.Storage.MustGetPickleStepResultsByPickleID(pr.PickleID)
		bad, skip := len(srs) == 0, false
		for _, sr := range srs {
			switch sr.Status.String() {
			case "passed":
			case "skipped":
				skip = true
			default:
				bad = true
			}
		}
		switch {
		case bad:
			failed++
		case skip:
			skipped++
		default:
			passed++
		}
	}
	return scenarioLine(total, passed, failed, skipped)
}

// scenarioLine formats scenario counts the one way both summaries of a run
// print them.
func scenarioLine(total, passed, failed, skipped int) string {
	return fmt.Sprintf("%d scenarios (%d passed, %d failed, %d skipped)", total, passed, failed, skipped)
}

// SummaryLine is the run's one-line verdict, the last line of its summary
// before the scenarios that did not pass, e.g. "sseaudit conformance: 61
// scenarios (48 passed, 0 failed, 13 skipped); 61 not applicable". The
// part in the middle is exactly the scenario line of godog's summary.
func SummaryLine(res Result) string {
	var b strings.Builder
	if res.DryRun {
		fmt.Fprintf(&b, "sseaudit conformance (dry run): %d scenarios (%d would run, %d would be skipped)", len(res.Scenarios), res.NotRun, res.Skipped)
	} else {
		b.WriteString("sseaudit conformance: " + scenarioLine(len(res.Scenarios), res.Passed, res.Failed, res.Skipped))
	}
	if res.NotApplicable > 0 {
		fmt.Fprintf(&b, "; %d not applicable", res.NotApplicable)
	}
	return b.String()
}

// WriteSummary writes the run's summary: SummaryLine, then one line per
// group of not applicable scenarios and per scenario that did not pass,
// with the reason (a dry run lists every scenario). A real run and a dry
// run of the same selection print the same "not applicable" and "skipped"
// lines.
func WriteSummary(w io.Writer, res Result) error {
	var b strings.Builder
	b.WriteString(SummaryLine(res) + "\n")
	for _, e := range res.NotApplicableBy {
		fmt.Fprintf(&b, "  not applicable: %d scenarios tagged %s: %s\n", e.Count, e.Tag, e.Reason)
	}
	for _, u := range UntestedKMS(res) {
		fmt.Fprintf(&b, "  SSE-KMS untested: %s\n", u)
	}
	for _, d := range []string{"oss", "s3"} {
		if id := res.DefaultKeys[d]; id != "" {
			fmt.Fprintf(&b, "  default KMS key (%s): %s, as the store answered\n", d, id)
		}
	}
	for _, s := range res.Scenarios {
		name := fmt.Sprintf("%s / %s [%s]", s.Feature, s.Name, s.Dialect)
		switch {
		case s.Status == results.StatusPassed:
		case s.Status == results.StatusNotRun && s.Error == "":
			fmt.Fprintf(&b, "  would run: %s\n", name)
		case s.Status == results.StatusNotRun:
			fmt.Fprintf(&b, "  would run: %s (%s)\n", name, oneLine(s.Error))
		default:
			fmt.Fprintf(&b, "  %s: %s: %s\n", s.Status, name, oneLine(s.Error))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// UntestedKMS lists the SSE-KMS behaviours a run (or dry run) left
// untested: each @kms scenario that was (or would be) skipped, once per
// name with its dialects and the reason, e.g. "A disabled key stops reads
// and writes until it is enabled again [oss, s3]: @kms: administers its
// key ...".
func UntestedKMS(res Result) []string {
	type entry struct {
		dialects []string
		why      string
	}
	var order []string
	by := map[string]*entry{}
	for _, s := range res.Scenarios {
		if s.Status != results.StatusSkipped || !slices.Contains(s.Tags, features.TagKMS) {
			continue
		}
		k := s.Name + "\x00" + s.Error
		e, ok := by[k]
		if !ok {
			e = &entry{why: s.Error}
			by[k] = e
			order = append(order, k)
		}
		if !slices.Contains(e.dialects, s.Dialect) {
			e.dialects = append(e.dialects, s.Dialect)
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		name, _, _ := strings.Cut(k, "\x00")
		e := by[k]
		out = append(out, fmt.Sprintf("%s [%s]: %s", name, strings.Join(e.dialects, ", "), oneLine(e.why)))
	}
	return out
}
