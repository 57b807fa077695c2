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
// with a <testcase> per resource (classname = rule id, name = resource UID),
// <failure> for an open finding, <error> for a finding whose status is
// "error" (the state could not be read), <skipped> for a waived finding
// (with the waiver's reason, owner and expiry) and for a not-applicable or
// skipped one. A rule without findings gets one passing case, so the suite
// shows it was evaluated. Conformance features follow as suites named
// "conformance: <feature>", as ConformanceJUnit writes them.
func FindingsJUnit(w io.Writer, m *Model) error {
	out := junitSuites{Name: strings.TrimSpace(ToolName + " " + m.Provenance.ScanID)}
	stamp := ""
	if !m.GeneratedAt.IsZero() {
		stamp = m.GeneratedAt.UTC().Format("2006-01-02T15:04:05")
	}
	byRule := map[string][]*findings.Finding{}
	fs := docFindings(m)
	for i := range fs {
		byRule[fs[i].Rule] = append(byRule[fs[i].Rule], &fs[i])
	}
	for _, r := range rulesOf(m.Findings) {
		s := junitSuite{Name: r.ID + ": " + r.Title, Timestamp: stamp}
		list := byRule[r.ID]
		sort.SliceStable(list, func(i, j int) bool { return list[i].Resource.UID < list[j].Resource.UID })
		for _, f := range list {
			s.Cases = append(s.Cases, findingCase(f, &s))
			s.Tests++
		}
		if len(list) == 0 {
			s.Cases = append(s.Cases, junitCase{Name: "no findings", Classname: r.ID, Time: seconds(0)})
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
	return writeJUnit(w, &out)
}

func findingCase(f *findings.Finding, s *junitSuite) junitCase {
	c := junitCase{Name: f.Resource.UID, Classname: f.Rule, Time: seconds(0), SystemOut: findingDetail(f)}
	switch st := State(f); st {
	case StatusWaived:
		c.Skipped = &junitMessage{Message: waiverText(f)}
		s.Skipped++
	case StatusNotApplicable, StatusSkipped, "pass", "passed":
		if st != "pass" && st != "passed" {
			c.Skipped = &junitMessage{Message: st + ": " + firstLine(f.Message)}
			s.Skipped++
		}
	case findings.StatusError:
		c.Error = &junitMessage{Message: firstLine(f.Message), Type: f.Category, Text: findingDetail(f)}
		s.Errors++
	default:
		c.Failure = &junitMessage{Message: firstLine(f.Message), Type: severityName(f.Severity), Text: findingDetail(f)}
		s.Failures++
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
	if f.Resource.KMSKeyID != "" {
		fmt.Fprintf(&b, "kms key:     %s\n", f.Resource.KMSKeyID)
	}
	fmt.Fprintf(&b, "message:     %s\n", f.Message)
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
