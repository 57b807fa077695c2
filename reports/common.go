package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/findings"
)

// Finding states as reports show them (beyond findings.StatusFail and
// findings.StatusError): a waived finding is suppressed whatever its status,
// and a rule may report a resource as not applicable or skipped.
const (
	StatusWaived        = "waived"
	StatusNotApplicable = "not_applicable"
	StatusSkipped       = "skipped"
)

// State is how a report treats f: StatusWaived when suppressed, otherwise
// its status (findings.StatusFail when empty).
func State(f *findings.Finding) string {
	if f.Suppressed {
		return StatusWaived
	}
	if f.Status == "" {
		return findings.StatusFail
	}
	return f.Status
}

// SecuritySeverity is the CVSS-like score GitHub code scanning and other
// SARIF consumers rank by.
func SecuritySeverity(s findings.Severity) float64 {
	switch s {
	case findings.SeverityCritical:
		return 9.5
	case findings.SeverityHigh:
		return 8.0
	case findings.SeverityMedium:
		return 5.5
	case findings.SeverityLow:
		return 3.0
	}
	return 0.0
}

// severityName is s.String(), "unknown" for an invalid severity.
func severityName(s findings.Severity) string {
	if n := s.String(); n != "" {
		return n
	}
	return "unknown"
}

// controlStrings renders controls as "framework version:id" ("framework:id"
// without a version).
func controlStrings(cs []findings.Control) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, controlString(c))
	}
	return out
}

func controlString(c findings.Control) string {
	fw := strings.TrimSpace(c.Framework + " " + c.Version)
	if fw == "" {
		return c.ID
	}
	return fw + ":" + c.ID
}

// KeyID is the KMS key a finding is about or names: the resource's key id
// for a key finding, otherwise the key the rule observed (the object's
// kms_key_id, the bucket default's kms_master_key_id); "" when it names
// none. Bucket and object findings keep their resource's identity, so the
// key is only in what the rule observed.
func KeyID(f *findings.Finding) string {
	if f.Resource.KMSKeyID != "" {
		return f.Resource.KMSKeyID
	}
	for _, k := range []string{"kms_key_id", "kms_master_key_id"} {
		if s, ok := f.Observed[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// waiverText describes the waiver that suppresses f.
func waiverText(f *findings.Finding) string {
	w := f.Waiver
	if w == nil {
		return "waived"
	}
	var b strings.Builder
	b.WriteString("waived: ")
	b.WriteString(w.Reason)
	var extra []string
	if w.Owner != "" {
		extra = append(extra, "owner "+w.Owner)
	}
	if w.Ticket != "" {
		extra = append(extra, "ticket "+w.Ticket)
	}
	if w.Expires != "" {
		extra = append(extra, "expires "+w.Expires)
	} else {
		extra = append(extra, "no expiry")
	}
	fmt.Fprintf(&b, " (%s)", strings.Join(extra, ", "))
	return b.String()
}

// ruleIndex maps rule ids to their metadata in d.
func ruleIndex(d *findings.Document) map[string]*findings.RuleMeta {
	idx := map[string]*findings.RuleMeta{}
	if d == nil {
		return idx
	}
	for i := range d.Rules {
		idx[d.Rules[i].ID] = &d.Rules[i]
	}
	return idx
}

// rulesOf lists the rules of d in document order, followed by any rule a
// finding names that the document does not describe (with metadata taken
// from its first finding).
func rulesOf(d *findings.Document) ([]findings.RuleMeta, error) {
	if d == nil {
		return nil, nil
	}
	out := append([]findings.RuleMeta(nil), d.Rules...)
	seen := map[string]bool{}
	for _, r := range out {
		seen[r.ID] = true
	}
	firsts, err := d.RuleFirsts()
	if err != nil {
		return nil, err
	}
	for i := range firsts {
		f := &firsts[i]
		if seen[f.Rule] {
			continue
		}
		seen[f.Rule] = true
		if f.Rule == findings.ExpiredWaiverRule {
			out = append(out, findings.ExpiredWaiverMeta)
			continue
		}
		out = append(out, findings.RuleMeta{
			ID: f.Rule, Title: f.Title, Severity: f.Severity, Category: f.Category,
			ResourceType: f.Resource.Type, Remediation: f.Remediation, Controls: f.Controls,
		})
	}
	return out, nil
}

// modelDoc is m's findings document (an empty one when it has none).
func modelDoc(m *Model) *findings.Document {
	if m == nil || m.Findings == nil {
		return &findings.Document{}
	}
	return m.Findings
}

// findingSeq is a document's findings as writeSplices' sequence.
type findingSeq struct{ d *findings.Document }

// eachOf captures d (a copy: the caller may then empty d's findings).
func eachOf(d *findings.Document) findingSeq {
	if d == nil {
		return findingSeq{&findings.Document{}}
	}
	c := *d
	return findingSeq{&c}
}

func (s findingSeq) each(yield func(any) error) error {
	return s.d.Each(func(f *findings.Finding) error { return yield(f) })
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
