package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sseaudit/sseaudit/findings"
)

// FindingsJUnit writes the findings (and the conformance run, when m has
// one) as JUnit XML that Jenkins and GitLab parse: a <testsuite> per rule
// with a <testcase> per resource (classname = rule id, name = resource UID,
// with the count of objects for an aggregated finding),
// <failure> for an open finding, <error> for a finding whose status is
// "error" (the state could not be read), <skipped> for a waived finding
// (with the waiver's reason, owner and expiry) and for a not-applicable or
// skipped one. A rule without findings gets one passing case, so the suite
// shows it was evaluated. Conformance features follow as suites named
// "conformance: <feature>", as ConformanceJUnit writes them.
//
// Last comes the suite OutcomeSuite (when the run recorded an outcome or
// left something unchecked), whose properties name the tool version, the
// verdict, exit code and gate: a "verdict" case (failure for a fail
// verdict, error for an error verdict, with the reasons) and a case per
// gap, "not checked: <kind>" (failure when not accepted, skipped with its
// detail when accepted).
func FindingsJUnit(w io.Writer, m *Model) error {
	out := junitSuites{Name: strings.TrimSpace(ToolName + " " + m.Provenance.ScanID)}
	stamp := ""
	if !m.GeneratedAt.IsZero() {
		stamp = m.GeneratedAt.UTC().Format("2006-01-02T15:04:05")
	}
	d := modelDoc(m)
	rules, err := rulesOf(m.Findings)
	if err != nil {
		return fmt.Errorf("reports: junit: %w", err)
	}
	// A rule's suite is counted here and its cases built only as it is
	// written (writeJUnitLazy), one suite at a time: a report of 20,000
	// findings is 60 MB of JUnit.
	lazy := map[int]junitCases{}
	var list func(rule string) findingList
	counts := map[string]*junitSuite{}
	if d.Spill == nil {
		byRule := map[string][]*findings.Finding{}
		for i := range d.Findings {
			f := &d.Findings[i]
			byRule[f.Rule] = append(byRule[f.Rule], f)
		}
		for r, l := range byRule {
			sort.SliceStable(l, func(i, j int) bool { return l[i].Resource.UID < l[j].Resource.UID })
			var s junitSuite
			for _, f := range l {
				countCase(f, &s)
				s.Tests++
			}
			counts[r] = &s
		}
		list = func(rule string) findingList {
			l := byRule[rule]
			return func(yield func(f *findings.Finding) error) error {
				for _, f := range l {
					if err := yield(f); err != nil {
						return err
					}
				}
				return nil
			}
		}
	} else if list, err = spilledRuleLists(d, counts); err != nil {
		return fmt.Errorf("reports: junit: %w", err)
	}
	for _, r := range rules {
		s := junitSuite{Name: r.ID + ": " + r.Title, Timestamp: stamp}
		n := 0
		if c := counts[r.ID]; c != nil {
			s.Tests, s.Failures, s.Errors, s.Skipped = c.Tests, c.Failures, c.Errors, c.Skipped
			n = c.Tests
		}
		each := list(r.ID)
		id := r.ID
		lazy[len(out.Suites)] = func(yield func(*junitCase) error) error {
			if n == 0 {
				return yield(&junitCase{Name: "no findings", Classname: id, Time: seconds(0)})
			}
			var counts junitSuite
			return each(func(f *findings.Finding) error {
				c := findingCase(f, &counts)
				return yield(&c)
			})
		}
		if n == 0 {
			s.Tests++
		}
		out.Suites = append(out.Suites, s)
	}
	if m.Conformance != nil {
		for _, s := range conformanceSuites(*m.Conformance, "conformance: ") {
			s.Timestamp = stamp
			out.Suites = append(out.Suites, s)
		}
	}
	if s, ok := outcomeSuite(m); ok {
		s.Timestamp = stamp
		out.Suites = append(out.Suites, s)
	}
	return writeJUnitLazy(w, &out, lazy)
}

// OutcomeSuite is the name of the JUnit suite holding the run's outcome.
const OutcomeSuite = "sseaudit: run outcome"

// outcomeSuite is the suite of m's verdict and gaps; false when the run
// recorded no outcome and left nothing unchecked.
func outcomeSuite(m *Model) (junitSuite, bool) {
	st := stateOf(m)
	if st.Outcome == nil && len(st.Gaps) == 0 {
		return junitSuite{}, false
	}
	const class = "sseaudit.outcome"
	s := junitSuite{Name: OutcomeSuite}
	props := []junitProperty{{"tool", ToolName}, {"tool_version", m.Tool.Version}}
	if v := m.Provenance.ScanToolVersion; v != "" {
		props = append(props, junitProperty{"scan_tool_version", v})
	}
	if o := st.Outcome; o != nil {
		props = append(props, junitProperty{"verdict", o.Verdict}, junitProperty{"exit_code", fmt.Sprint(o.ExitCode)},
			junitProperty{"fail_on", o.FailOn})
		c := junitCase{Name: "verdict", Classname: class, Time: seconds(0)}
		why := strings.Join(o.Reasons, "\n")
		switch o.Verdict {
		case findings.VerdictPass:
		case findings.VerdictError:
			c.Error = &junitMessage{Message: "error: " + firstLine(why), Type: o.Verdict, Text: why}
			s.Errors++
		default:
			c.Failure = &junitMessage{Message: o.Verdict + ": " + firstLine(why), Type: o.Verdict, Text: why}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
	}
	s.Properties = &junitProperties{Props: props}
	for _, g := range st.Gaps {
		c := junitCase{Name: "not checked: " + g.Kind, Classname: class, Time: seconds(0), SystemOut: g.Text()}
		if g.Accepted {
			c.Skipped = &junitMessage{Message: "accepted: " + g.Detail}
			s.Skipped++
		} else {
			c.Failure = &junitMessage{Message: g.Text(), Type: "gap"}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
	}
	return s, true
}

// countCase counts f in s as findingCase does, without building its case.
func countCase(f *findings.Finding, s *junitSuite) {
	switch st := State(f); st {
	case StatusWaived:
		s.Skipped++
	case StatusNotApplicable, StatusSkipped, "pass", "passed":
		if st != "pass" && st != "passed" {
			s.Skipped++
		}
	case findings.StatusError:
		s.Errors++
	default:
		s.Failures++
	}
}

func findingCase(f *findings.Finding, s *junitSuite) junitCase {
	c := junitCase{Name: f.Resource.UID, Classname: f.Rule, Time: seconds(0), SystemOut: findingDetail(f)}
	if a := f.Aggregate; a != nil {
		c.Name += fmt.Sprintf(" (%s objects)", findings.Thousands(a.Objects))
	}
	countCase(f, s)
	switch st := State(f); st {
	case StatusWaived:
		c.Skipped = &junitMessage{Message: waiverText(f)}
	case StatusNotApplicable, StatusSkipped, "pass", "passed":
		if st != "pass" && st != "passed" {
			c.Skipped = &junitMessage{Message: st + ": " + firstLine(f.Message)}
		}
	case findings.StatusError:
		c.Error = &junitMessage{Message: firstLine(f.Message), Type: f.Category, Text: c.SystemOut}
	default:
		c.Failure = &junitMessage{Message: firstLine(f.Message), Type: severityName(f.Severity), Text: c.SystemOut}
	}
	return c
}

// findingDetail is the multi-line description of a finding for JUnit bodies.
func findingDetail(f *findings.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "finding:     %s\n", f.ID)
	fmt.Fprintf(&b, "rule:        %s %s\n", f.Rule, f.Title)
	fmt.Fprintf(&b, "severity:    %s\n", severityName(f.Severity))
	fmt.Fprintf(&b, "resource:    %s (%s)\n", f.Resource.UID, f.Resource.Type)
	if f.Resource.Region != "" {
		fmt.Fprintf(&b, "region:      %s\n", f.Resource.Region)
	}
	if k := KeyID(f); k != "" {
		fmt.Fprintf(&b, "kms key:     %s\n", k)
	}
	fmt.Fprintf(&b, "message:     %s\n", f.Message)
	if a := f.Aggregate; a != nil {
		fmt.Fprintf(&b, "objects:     %s (%s open, %s waived), %s\n", findings.Thousands(a.Objects), findings.Thousands(a.Open), findings.Thousands(a.Suppressed), findings.HumanBytes(a.Bytes))
		if !a.OldestLastModified.IsZero() {
			fmt.Fprintf(&b, "modified:    %s to %s\n", rfc3339(a.OldestLastModified), rfc3339(a.NewestLastModified))
		}
		keys := make([]string, len(a.Sample))
		for i, o := range a.Sample {
			keys[i] = o.Key
		}
		fmt.Fprintf(&b, "sample:      %s\n", strings.Join(keys, ", "))
		fmt.Fprintf(&b, "all listed:  %s (lines with \"aggregate\": \"%s\")\n", a.File, f.ID)
	}
	if f.Remediation.Text != "" {
		fmt.Fprintf(&b, "remediation: %s\n", f.Remediation.Text)
	}
	if f.Remediation.CLI != "" {
		fmt.Fprintf(&b, "cli:         %s\n", f.Remediation.CLI)
	}
	if len(f.Controls) > 0 {
		fmt.Fprintf(&b, "controls:    %s\n", strings.Join(controlStrings(f.Controls), ", "))
	}
	if f.Waiver != nil {
		fmt.Fprintf(&b, "waiver:      %s [%s]\n", strings.TrimPrefix(waiverText(f), "waived: "), f.Waiver.State)
	}
	return b.String()
}

// findingList yields findings in order.
type findingList func(yield func(*findings.Finding) error) error

// spilledRuleLists counts each rule's findings of a spilled document into
// counts and returns each rule's findings sorted by resource, as the
// in-memory path sorts them, without holding them: the document is sorted
// by severity, rule and resource, so when each rule's findings are one run
// of positions in resource order (one severity per rule, as built-in and
// user rules have), a rule's list is that range read back. Otherwise (a
// rule of several severities) its findings are held in memory.
func spilledRuleLists(d *findings.Document, counts map[string]*junitSuite) (func(string) findingList, error) {
	type span struct {
		first, last int
		uid         string
		sorted      bool
	}
	spans := map[string]*span{}
	i := 0
	err := d.Each(func(f *findings.Finding) error {
		sp := spans[f.Rule]
		if sp == nil {
			sp = &span{first: i, sorted: true}
			spans[f.Rule] = sp
			counts[f.Rule] = &junitSuite{}
		} else if f.Resource.UID < sp.uid {
			sp.sorted = false
		}
		sp.last, sp.uid = i, f.Resource.UID
		c := counts[f.Rule]
		countCase(f, c)
		c.Tests++
		i++
		return nil
	})
	if err != nil {
		return nil, err
	}
	held := map[string][]*findings.Finding{}
	for r, sp := range spans {
		if !sp.sorted || sp.last-sp.first+1 != counts[r].Tests {
			held[r] = nil
		}
	}
	if len(held) > 0 {
		err := d.Each(func(f *findings.Finding) error {
			if l, ok := held[f.Rule]; ok {
				held[f.Rule] = append(l, f)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, l := range held {
			sort.SliceStable(l, func(i, j int) bool { return l[i].Resource.UID < l[j].Resource.UID })
		}
	}
	return func(rule string) findingList {
		return func(yield func(*findings.Finding) error) error {
			if l, ok := held[rule]; ok {
				for _, f := range l {
					if err := yield(f); err != nil {
						return err
					}
				}
				return nil
			}
			sp := spans[rule]
			if sp == nil {
				return nil
			}
			return d.EachRange(sp.first, sp.last+1, yield)
		}
	}, nil
}
