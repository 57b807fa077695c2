package reports

import (
	"fmt"
	"strings"

	"github.com/sseaudit/sseaudit/findings"
)

// runState is what every format says about the run as a whole: its
// verdict and what it did not check. The gaps are the outcome's, plus any
// the model's coverage shows that the outcome does not account for, so a
// report built without an outcome, or with a wrong one, still never calls
// a run that read nothing complete. With an outcome, only the scan,
// bucket and object gaps are derived (the outcome judges keys: a service
// key alias KMS cannot describe is not a gap); without one, key gaps too.
// An error verdict accounts for a scan that did not run to its end (that
// is what it says), so no scan gap is derived beside it: the run is shown
// unread all the same, and the gaps counted are the outcome's.
type runState struct {
	// Outcome is the model's outcome; nil when the run recorded none.
	Outcome *findings.Outcome
	// Gaps are the outcome's gaps followed by those derived from coverage.
	Gaps []runGap
	// Unaccepted counts the gaps not accepted by the user.
	Unaccepted int
	// Unread: the scan could not read its target, or did not run to its
	// end (a scan gap not accepted, or an error verdict).
	Unread bool
	// Clean: the run may be shown as clean (green): its verdict is pass
	// (or there is none and nothing is open), nothing is left unchecked,
	// the target was read, and no finding at high or above is open.
	// Accepted gaps keep a run from being clean: a person still has to see
	// what was not checked; so do open high and critical findings that
	// passed only because the gate (--fail-on none, critical) let them.
	Clean bool
	// SevereOpen counts the open findings at high or above.
	SevereOpen int
}

// runGap is one gap as a report shows it.
type runGap struct {
	findings.Gap
	// Derived: not in the outcome; the report found it in the coverage.
	Derived bool
}

// Text is the gap as one line for a person.
func (g runGap) Text() string {
	var b strings.Builder
	b.WriteString(g.Kind)
	if g.Count > 0 && g.Kind != findings.GapScan {
		fmt.Fprintf(&b, " (%d)", g.Count)
	}
	if g.Detail != "" {
		b.WriteString(": " + g.Detail)
	}
	switch {
	case g.Accepted:
		b.WriteString(" [accepted]")
	case g.Derived:
		b.WriteString(" [not accepted; found in the coverage, not in the recorded outcome]")
	default:
		b.WriteString(" [not accepted]")
	}
	return b.String()
}

// outcomeOf is m's outcome: Model.Outcome, else the findings document's
// (nil when neither has one).
func outcomeOf(m *Model) *findings.Outcome {
	if m.Outcome != nil {
		return m.Outcome
	}
	if m.Findings != nil {
		return m.Findings.Outcome
	}
	return nil
}

// hasScan: the model describes a scan (not only a conformance run).
func hasScan(m *Model) bool {
	p := m.Provenance
	c := m.Coverage
	return p.ScanID != "" || p.SnapshotDigest != "" || c.Buckets > 0 || c.ObjectsListed > 0 ||
		len(c.Errors) > 0 || c.ListBucketsError != nil || len(m.Buckets) > 0
}

// coverageGaps are the gaps m's provenance and coverage show.
func coverageGaps(m *Model) []findings.Gap {
	if !hasScan(m) {
		return nil
	}
	c := m.Coverage
	var gs []findings.Gap
	errs := int64(len(c.Errors)) + c.ErrorsOmitted
	switch {
	case c.ListBucketsError != nil:
		e := c.ListBucketsError
		msg := e.Message
		if e.Code != "" {
			msg = e.Code + ": " + msg
		}
		gs = append(gs, findings.Gap{Kind: findings.GapScan, Count: 1, Detail: "listing the buckets failed: " + msg})
	case c.Buckets == 0 && errs > 0:
		gs = append(gs, findings.Gap{Kind: findings.GapScan, Count: 1, Detail: fmt.Sprintf("no bucket was read (%d read errors)", errs)})
	case !m.Provenance.Complete:
		gs = append(gs, findings.Gap{Kind: findings.GapScan, Count: 1, Detail: "the scan did not run to its end"})
	}
	if n := c.Buckets - c.BucketsRead; n > 0 {
		gs = append(gs, findings.Gap{Kind: findings.GapBuckets, Count: int64(n),
			Detail: fmt.Sprintf("%d of %d buckets not fully read", n, c.Buckets)})
	}
	if n := c.ObjectsListed - c.ObjectsInspected; n > 0 {
		gs = append(gs, findings.Gap{Kind: findings.GapObjects, Count: n,
			Detail: fmt.Sprintf("%d of %d listed objects not inspected", n, c.ObjectsListed)})
	}
	if n := c.KeysReferenced - c.KeysDescribed; n > 0 {
		gs = append(gs, findings.Gap{Kind: findings.GapKeys, Count: int64(n),
			Detail: fmt.Sprintf("%d of %d KMS keys in use not described: their state is unknown", n, c.KeysReferenced)})
	}
	return gs
}

// stateOf assesses m's run.
func stateOf(m *Model) runState {
	s := runState{Outcome: outcomeOf(m)}
	kinds := map[string]bool{}
	if o := s.Outcome; o != nil {
		for _, g := range o.Gaps {
			s.Gaps = append(s.Gaps, runGap{Gap: g})
			kinds[g.Kind] = true
		}
	}
	for _, g := range coverageGaps(m) {
		if s.Outcome != nil && g.Kind == findings.GapKeys {
			continue
		}
		if g.Kind == findings.GapScan && s.Outcome != nil && s.Outcome.Verdict == findings.VerdictError {
			continue
		}
		if !kinds[g.Kind] {
			s.Gaps = append(s.Gaps, runGap{Gap: g, Derived: true})
		}
	}
	for _, g := range s.Gaps {
		if !g.Accepted {
			s.Unaccepted++
			if g.Kind == findings.GapScan {
				s.Unread = true
			}
		}
	}
	verdict := ""
	if s.Outcome != nil {
		verdict = s.Outcome.Verdict
	}
	if verdict == findings.VerdictError && hasScan(m) {
		s.Unread = true
	}
	sum := modelDoc(m).Summarized()
	s.SevereOpen = sum.BySeverity[findings.SeverityHigh.String()] + sum.BySeverity[findings.SeverityCritical.String()]
	s.Clean = len(s.Gaps) == 0 && !s.Unread && s.SevereOpen == 0 &&
		(verdict == findings.VerdictPass || verdict == "" && sum.Open == 0)
	return s
}

// GateNote says, for a pass with open findings at high or above, that
// they passed only by the gate, and which; "" otherwise.
func (s runState) GateNote() string {
	if s.Verdict() != findings.VerdictPass || s.SevereOpen == 0 {
		return ""
	}
	n := fmt.Sprintf("%d open finding", s.SevereOpen)
	if s.SevereOpen != 1 {
		n += "s"
	}
	if g := s.Outcome.FailOn; g != "" && g != "none" {
		return fmt.Sprintf("%s at high or above passed the gate --fail-on %s", n, g)
	}
	return fmt.Sprintf("the gate was none (--fail-on none): %s at high or above did not fail the run", n)
}

// Verdict is the run's verdict, "" when none was recorded.
func (s runState) Verdict() string {
	if s.Outcome == nil {
		return ""
	}
	return s.Outcome.Verdict
}

// Headline is the run's state in one line.
func (s runState) Headline(open int) string {
	var b strings.Builder
	switch v := s.Verdict(); v {
	case "":
		b.WriteString("no verdict recorded")
	default:
		fmt.Fprintf(&b, "%s · exit %d", strings.ToUpper(v), s.Outcome.ExitCode)
		if s.Outcome.FailOn != "" {
			fmt.Fprintf(&b, " · --fail-on %s", s.Outcome.FailOn)
		}
	}
	fmt.Fprintf(&b, " · %d open finding", open)
	if open != 1 {
		b.WriteString("s")
	}
	if s.Unread {
		b.WriteString(" · the target could not be fully read")
	}
	if s.Unaccepted > 0 {
		fmt.Fprintf(&b, " · %d gap", s.Unaccepted)
		if s.Unaccepted != 1 {
			b.WriteString("s")
		}
		b.WriteString(" not accepted")
	}
	if n := len(s.Gaps) - s.Unaccepted; n > 0 {
		fmt.Fprintf(&b, " · %d accepted gap", n)
		if n != 1 {
			b.WriteString("s")
		}
	}
	return b.String()
}
