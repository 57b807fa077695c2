package findings

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/cespare/xxhash/v2"
)

// ScanInfo is the provenance of the evaluated snapshot(s), copied into the
// document so a report stands on its own.
type ScanInfo struct {
	ScanID         string    `json:"scan_id"`
	StartedAt      time.Time `json:"started_at"`
	FinishedAt     time.Time `json:"finished_at,omitzero"`
	Complete       bool      `json:"complete"`
	ToolVersion    string    `json:"tool_version,omitempty"`
	TargetKind     string    `json:"target_kind,omitempty"`
	Dialect        string    `json:"dialect,omitempty"`
	Endpoint       string    `json:"endpoint,omitempty"`
	Regions        []string  `json:"regions,omitempty"`
	PreviousScanID string    `json:"previous_scan_id,omitempty"`
	Snapshot       string    `json:"snapshot,omitempty"` // path or digest of the snapshot file
}

// Document is findings.json: provenance, the rules evaluated, counts and
// every finding (suppressed ones included).
type Document struct {
	Schema       string     `json:"schema"`
	GeneratedAt  time.Time  `json:"generated_at"`
	Scan         ScanInfo   `json:"scan"`
	PolicyDigest string     `json:"policy_digest"`
	Profile      string     `json:"profile,omitempty"`
	Rules        []RuleMeta `json:"rules"`
	Summary      Summary    `json:"summary"`
	// Outcome is the run's verdict (nil when the document was written
	// without one, e.g. by an older version).
	Outcome *Outcome `json:"outcome,omitempty"`
	// Waivers lists every waiver loaded, in file order, with what it
	// matched and suppressed among Findings (see SummarizeWaivers).
	Waivers  []WaiverSummary `json:"waivers"`
	Findings []Finding       `json:"findings"`
	// Spill holds the findings instead of Findings when there were too
	// many to keep in memory (see SpillWriter): read them with Each, count
	// them with Len. Copies of the document share it.
	Spill *Spill `json:"-"`
}

// Len is the number of findings, in memory or spilled.
func (d *Document) Len() int {
	if d.Spill != nil {
		return d.Spill.Len()
	}
	return len(d.Findings)
}

// Each calls fn with every finding in order (Findings, or the spilled ones
// read back one at a time), stopping at fn's first error. fn may keep a
// spilled finding; an in-memory one points into Findings.
func (d *Document) Each(fn func(*Finding) error) error {
	if d.Spill != nil {
		return d.Spill.Each(fn)
	}
	for i := range d.Findings {
		if err := fn(&d.Findings[i]); err != nil {
			return err
		}
	}
	return nil
}

// Failing counts the open findings at or above min (as Failing does).
func (d *Document) Failing(min Severity) int {
	if d.Spill == nil {
		return Failing(d.Findings, min)
	}
	s := d.Spill.Summary()
	n := 0
	for _, sev := range Severities {
		if sev.AtLeast(min) {
			n += s.BySeverity[sev.String()]
		}
	}
	return n
}

// RuleFirsts returns each rule's first finding, rules in the order their
// first findings come (a spilled document keeps them: no reading back).
func (d *Document) RuleFirsts() ([]Finding, error) {
	if d.Spill != nil {
		return slices.Clone(d.Spill.firsts), nil
	}
	var out []Finding
	seen := map[string]bool{}
	for i := range d.Findings {
		if f := &d.Findings[i]; !seen[f.Rule] {
			seen[f.Rule] = true
			out = append(out, *f)
		}
	}
	return out, nil
}

// Summarized counts the findings as Summarize does, without reading
// spilled ones back (their summary is kept).
func (d *Document) Summarized() Summary {
	if d.Spill != nil {
		return d.Spill.Summary()
	}
	return Summarize(d.Findings)
}

// RuleCount counts one rule's findings.
type RuleCount struct {
	Open       int `json:"open"`
	Suppressed int `json:"suppressed"`
}

// Summary counts findings. Open = not suppressed. BySeverity counts open
// findings only; SuppressedBySeverity the suppressed ones.
type Summary struct {
	Total                int                  `json:"total"`
	Open                 int                  `json:"open"`
	Suppressed           int                  `json:"suppressed"`
	BySeverity           map[string]int       `json:"by_severity"`
	SuppressedBySeverity map[string]int       `json:"suppressed_by_severity"`
	ByRule               map[string]RuleCount `json:"by_rule"`
	ByCategory           map[string]int       `json:"by_category"`
	Resources            int                  `json:"resources"` // distinct resource UIDs with an open finding
	ExpiredWaivers       int                  `json:"expired_waivers"`
	// AffectedObjects counts the objects the aggregated findings sum up,
	// open and waived (absent when there is none).
	AffectedObjects RuleCount `json:"affected_objects,omitzero"`
}

// Summarize counts fs. Every severity appears in BySeverity (with 0).
func Summarize(fs []Finding) Summary {
	c := newSummarizer()
	for i := range fs {
		c.add(&fs[i])
	}
	return c.summary()
}

// summarizer counts findings one at a time. Distinct resources are
// counted by a 64-bit hash of their UID, so its memory is 8 bytes and a
// map entry per resource, not the UIDs themselves (a collision, at odds of
// about n²/2⁶⁵, would count two resources as one).
type summarizer struct {
	s         Summary
	resources map[uint64]struct{}
}

func newSummarizer() *summarizer {
	s := Summary{
		BySeverity:           map[string]int{},
		SuppressedBySeverity: map[string]int{},
		ByRule:               map[string]RuleCount{},
		ByCategory:           map[string]int{},
	}
	for _, sev := range Severities {
		s.BySeverity[sev.String()] = 0
		s.SuppressedBySeverity[sev.String()] = 0
	}
	return &summarizer{s: s, resources: map[uint64]struct{}{}}
}

func (c *summarizer) add(f *Finding) {
	s := &c.s
	s.Total++
	rc := s.ByRule[f.Rule]
	if f.Suppressed {
		s.Suppressed++
		s.SuppressedBySeverity[f.Severity.String()]++
		rc.Suppressed++
	} else {
		s.Open++
		s.BySeverity[f.Severity.String()]++
		s.ByCategory[f.Category]++
		rc.Open++
		c.resources[xxhash.Sum64String(f.Resource.UID)] = struct{}{}
	}
	s.ByRule[f.Rule] = rc
	if a := f.Aggregate; a != nil {
		s.AffectedObjects.Open += int(a.Open)
		s.AffectedObjects.Suppressed += int(a.Suppressed)
	}
	if f.Rule == ExpiredWaiverRule {
		s.ExpiredWaivers++
	}
}

func (c *summarizer) summary() Summary {
	c.s.Resources = len(c.resources)
	return c.s
}

// Encode writes d as indented JSON, one finding at a time so a large
// document is never held twice in memory. Summary is recomputed from
// Findings and Schema is set.
func Encode(w io.Writer, d *Document) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	head := *d
	head.Schema = SchemaVersion
	head.Summary = d.Summarized()
	head.Findings = nil
	head.Spill = nil
	if head.Rules == nil {
		head.Rules = []RuleMeta{}
	}
	if head.Waivers == nil {
		head.Waivers = []WaiverSummary{}
	}
	hb, err := json.MarshalIndent(&head, "", "  ")
	if err != nil {
		return err
	}
	// hb ends with `  "findings": null\n}`; replace that by the stream.
	const tail = "\"findings\": null\n}"
	if !bytes.HasSuffix(hb, []byte(tail)) {
		return fmt.Errorf("findings: unexpected document layout")
	}
	bw.Write(hb[:len(hb)-len(tail)])
	bw.WriteString("\"findings\": [")
	i := 0
	err = d.Each(func(f *Finding) error {
		if i > 0 {
			bw.WriteString(",")
		}
		i++
		bw.WriteString("\n    ")
		fb, err := json.MarshalIndent(f, "    ", "  ")
		if err != nil {
			return fmt.Errorf("finding %s: %w", f.ID, err)
		}
		_, err = bw.Write(fb)
		return err
	})
	if err != nil {
		return err
	}
	if i > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// Decode reads a document written by Encode. Numbers in observed, expected
// and evidence data decode as json.Number, so they round-trip exactly.
func Decode(r io.Reader) (*Document, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	if d.Schema != SchemaVersion {
		return nil, fmt.Errorf("findings: schema %q, want %q", d.Schema, SchemaVersion)
	}
	return &d, nil
}

// Sort orders fs with Compare (severity descending, rule, resource).
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return Compare(fs[i], fs[j]) < 0 })
}
