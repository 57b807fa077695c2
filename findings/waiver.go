package findings

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ExpiredWaiverRule is the rule id of the finding reported for every expired
// waiver. It is defined here, not in Rego, because waivers are applied after
// policy evaluation.
const ExpiredWaiverRule = "SSE-900"

// ExpiredWaiverMeta is the metadata of ExpiredWaiverRule.
var ExpiredWaiverMeta = RuleMeta{
	ID:    ExpiredWaiverRule,
	Title: "Waiver expired",
	Description: "A waiver's expiry date has passed. It no longer suppresses the findings it matched; " +
		"they are reported again, and the expired waiver is reported so that its owner reviews it.",
	Severity:     SeverityMedium,
	Category:     CategoryGovernance,
	ResourceType: ResourceWaiver,
	Remediation: Remediation{
		Text: "Review the waived findings with the waiver's owner: fix them and remove the waiver, or renew it with a new reason and expiry date.",
		CLI:  "$EDITOR waivers.yaml   # remove the entry, or set a new `expires: YYYY-MM-DD` after review",
	},
	Controls: []Control{},
	Builtin:  true,
	File:     "builtin (Go)",
}

// Waiver suppresses findings of Rule (an id or a glob such as "SSE-00*")
// whose resource UID matches Resource (a glob: * matches any run of
// characters including '/', ? one character). Reason is required. A waiver
// with no Expires never expires; otherwise it suppresses through the end of
// the Expires day (UTC).
type Waiver struct {
	Rule     string    `json:"rule"`
	Resource string    `json:"resource"`
	Reason   string    `json:"reason"`
	Owner    string    `json:"owner,omitempty"`
	Ticket   string    `json:"ticket,omitempty"`
	Expires  time.Time `json:"expires,omitzero"` // the first instant it no longer applies; zero = never
	Source   string    `json:"source,omitempty"` // file:line of the entry
}

// Expired reports whether the waiver has expired at now.
func (w *Waiver) Expired(now time.Time) bool {
	return !w.Expires.IsZero() && !now.Before(w.Expires)
}

// ExpiresDate is the expiry as written (YYYY-MM-DD, the last day it applies), or "".
func (w *Waiver) ExpiresDate() string {
	if w.Expires.IsZero() {
		return ""
	}
	return w.Expires.Add(-time.Nanosecond).UTC().Format(time.DateOnly)
}

// Matches reports whether the waiver covers a finding (rule and resource).
func (w *Waiver) Matches(f *Finding) bool {
	return Glob(w.Rule, f.Rule) && Glob(w.Resource, f.Resource.UID)
}

// Waiver states recorded on findings.
const (
	WaiverActive  = "active"
	WaiverExpired = "expired"
)

// AppliedWaiver is the waiver recorded on a finding it matched.
type AppliedWaiver struct {
	Rule     string `json:"rule"`
	Resource string `json:"resource"`
	Reason   string `json:"reason"`
	Owner    string `json:"owner,omitempty"`
	Ticket   string `json:"ticket,omitempty"`
	Expires  string `json:"expires,omitempty"` // YYYY-MM-DD
	State    string `json:"state"`             // active or expired
	Source   string `json:"source,omitempty"`
}

func (w *Waiver) applied(state string) *AppliedWaiver {
	return &AppliedWaiver{
		Rule: w.Rule, Resource: w.Resource, Reason: w.Reason, Owner: w.Owner,
		Ticket: w.Ticket, Expires: w.ExpiresDate(), State: state, Source: w.Source,
	}
}

// WaiverUse says how many findings a waiver matched.
type WaiverUse struct {
	Waiver  *Waiver `json:"waiver"`
	Matched int     `json:"matched"`
	Expired bool    `json:"expired"`
}

// ApplyWaivers marks findings matched by an active waiver as Suppressed with
// the waiver recorded (the first matching active waiver wins). A finding
// matched only by expired waivers is not suppressed but records the expired
// waiver. Every expired waiver adds one ExpiredWaiverRule finding (resource
// type "waiver", resource UID "waiver://RULE/PATTERN", first and last seen
// at now). Findings are changed in place; the returned slice has the added
// findings appended. Nothing is removed.
func ApplyWaivers(fs []Finding, ws []Waiver, now time.Time) ([]Finding, []WaiverUse) {
	uses := make([]WaiverUse, len(ws))
	for i := range ws {
		uses[i] = WaiverUse{Waiver: &ws[i], Expired: ws[i].Expired(now)}
	}
	if len(ws) == 0 {
		return fs, uses
	}
	for i := range fs {
		f := &fs[i]
		if f.Rule == ExpiredWaiverRule {
			continue
		}
		expired := -1
		active := -1
		for j := range ws {
			if !ws[j].Matches(f) {
				continue
			}
			uses[j].Matched++
			if uses[j].Expired {
				if expired < 0 {
					expired = j
				}
				continue
			}
			active = j
			break
		}
		switch {
		case active >= 0:
			f.Suppressed = true
			f.Waiver = ws[active].applied(WaiverActive)
		case expired >= 0:
			f.Suppressed = false
			f.Waiver = ws[expired].applied(WaiverExpired)
		}
	}
	for j := range ws {
		if !uses[j].Expired {
			continue
		}
		w := &ws[j]
		r := Resource{Type: ResourceWaiver, UID: "waiver://" + w.Rule + "/" + w.Resource}
		msg := fmt.Sprintf("waiver for rule %s on %q expired on %s; it no longer suppresses the %d finding(s) it matches",
			w.Rule, w.Resource, w.ExpiresDate(), uses[j].Matched)
		if w.Owner != "" {
			msg += " (owner " + w.Owner + ")"
		}
		f := NewFinding(&ExpiredWaiverMeta, r, msg)
		f.Observed = map[string]any{
			"rule": w.Rule, "resource": w.Resource, "reason": w.Reason, "owner": w.Owner,
			"expires": w.ExpiresDate(), "matched_findings": uses[j].Matched,
		}
		f.Expected = map[string]any{"expires_after": now.UTC().Format(time.DateOnly)}
		f.Evidence = []Evidence{{Kind: "waiver", Source: w.Source, Data: map[string]any{"ticket": w.Ticket}}}
		f.Waiver = w.applied(WaiverExpired)
		f.FirstSeen, f.LastSeen = now, now
		fs = append(fs, f)
	}
	return fs, uses
}

// Glob matches s against pattern: '*' matches any run of characters
// (including '/'), '?' any one character, '\' escapes the next character;
// everything else is literal.
func Glob(pattern, s string) bool {
	// Iterative wildcard matching with single backtrack point.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				star, mark = p, i
				p++
				continue
			case '?':
				p++
				i++
				continue
			case '\\':
				if p+1 < len(pattern) && pattern[p+1] == s[i] {
					p += 2
					i++
					continue
				}
			default:
				if c == s[i] {
					p++
					i++
					continue
				}
			}
		}
		if star >= 0 {
			p = star + 1
			mark++
			i = mark
			continue
		}
		return false
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

type rawWaiver struct {
	Rule     string `yaml:"rule"`
	Resource string `yaml:"resource"`
	Reason   string `yaml:"reason"`
	Owner    string `yaml:"owner"`
	Ticket   string `yaml:"ticket"`
	Expires  string `yaml:"expires"`
}

type rawWaivers struct {
	Waivers []rawWaiver `yaml:"waivers"`
}

// LoadWaivers reads a waivers file (see ParseWaivers).
func LoadWaivers(path string) ([]Waiver, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("waivers: %w", err)
	}
	return ParseWaivers(b, path)
}

// ParseWaivers parses a waivers file:
//
//	waivers:
//	  - rule: SSE-004                  # rule id or glob (required)
//	    resource: "oss://legacy-*/*"   # glob over the finding's resource UID (required)
//	    reason: "migrated by Q3, see SEC-12"   # required
//	    owner: storage-team@example.com
//	    ticket: SEC-12
//	    expires: 2026-12-31            # YYYY-MM-DD, last day it applies; omit for never
//
// Unknown fields, missing required fields and malformed dates are errors that
// name the file, the entry and its line. An empty file has no waivers.
func ParseWaivers(data []byte, source string) ([]Waiver, error) {
	if source == "" {
		source = "waivers"
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	lines := waiverLines(&doc)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var raw rawWaivers
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	out := make([]Waiver, 0, len(raw.Waivers))
	var errs []error
	for i, rw := range raw.Waivers {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		where := fmt.Sprintf("%s: waiver %d (line %d)", source, i+1, line)
		w := Waiver{
			Rule:     strings.TrimSpace(rw.Rule),
			Resource: strings.TrimSpace(rw.Resource),
			Reason:   strings.TrimSpace(rw.Reason),
			Owner:    strings.TrimSpace(rw.Owner),
			Ticket:   strings.TrimSpace(rw.Ticket),
			Source:   fmt.Sprintf("%s:%d", source, line),
		}
		if w.Rule == "" {
			errs = append(errs, fmt.Errorf("%s: rule is required", where))
		}
		if w.Resource == "" {
			errs = append(errs, fmt.Errorf("%s: resource is required (use \"*\" for every resource)", where))
		}
		if w.Reason == "" {
			errs = append(errs, fmt.Errorf("%s: reason is required", where))
		}
		if e := strings.TrimSpace(rw.Expires); e != "" {
			t, err := parseExpiry(e)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: expires %q: want a date YYYY-MM-DD", where, e))
			} else {
				w.Expires = t
			}
		}
		out = append(out, w)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// parseExpiry turns "2026-12-31" into the first instant after that day (UTC).
// An RFC 3339 timestamp is taken as the exact instant of expiry.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	return time.Parse(time.RFC3339, s)
}

// waiverLines returns the line of each entry of the top-level "waivers" list.
func waiverLines(doc *yaml.Node) []int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "waivers" && n.Content[i+1].Kind == yaml.SequenceNode {
			var ls []int
			for _, e := range n.Content[i+1].Content {
				ls = append(ls, e.Line)
			}
			return ls
		}
	}
	return nil
}
