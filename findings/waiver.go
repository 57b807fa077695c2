package findings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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
// characters including '/', ? one character). Reason is required. It
// suppresses through the end of the Expires day (UTC); a waiver without
// Expires (never expires) or a broad one (see WaiverOptions) is accepted
// only when the user allowed it. A coverage finding (category coverage:
// something could not be read) is never suppressed, whatever matches it.
type Waiver struct {
	Rule     string    `json:"rule"`
	Resource string    `json:"resource"`
	Reason   string    `json:"reason"`
	Owner    string    `json:"owner,omitempty"`
	Ticket   string    `json:"ticket,omitempty"`
	Expires  time.Time `json:"expires,omitzero"` // the first instant it no longer applies; zero = never
	Source   string    `json:"source,omitempty"` // file:line of the entry
	// Broad records that the waiver matches every rule or every resource
	// and was accepted only because the user allowed broad waivers.
	Broad bool `json:"broad,omitempty"`
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
	Matched int     `json:"matched"` // findings its rule and resource patterns match (coverage ones included)
	// Suppressed counts the findings it suppressed: matched, waivable, and
	// not already suppressed by an earlier active waiver. 0 when expired.
	Suppressed int `json:"suppressed"`
	// Coverage counts the coverage findings it matched: never suppressed.
	Coverage int  `json:"coverage"`
	Expired  bool `json:"expired"`
}

// Waivable reports whether a waiver may suppress f: never a coverage
// finding (a coverage gap says what was not checked; hiding it would make
// an incomplete scan look complete), nor an expired-waiver finding.
func Waivable(f *Finding) bool {
	return f.Category != CategoryCoverage && f.Rule != ExpiredWaiverRule
}

// matchWaivers records in uses which waivers match f and returns the index
// of the first active waiver that suppresses it and of the first expired
// one that matches it (-1 for none).
func matchWaivers(f *Finding, ws []Waiver, uses []WaiverUse) (active, expired int) {
	active, expired = -1, -1
	if f.Rule == ExpiredWaiverRule {
		return
	}
	waivable := Waivable(f)
	for j := range ws {
		if !ws[j].Matches(f) {
			continue
		}
		uses[j].Matched++
		switch {
		case !waivable:
			uses[j].Coverage++
		case uses[j].Expired:
			if expired < 0 {
				expired = j
			}
		case active < 0:
			active = j
			uses[j].Suppressed++
		}
	}
	return active, expired
}

func newUses(ws []Waiver, now time.Time) []WaiverUse {
	uses := make([]WaiverUse, len(ws))
	for i := range ws {
		uses[i] = WaiverUse{Waiver: &ws[i], Expired: ws[i].Expired(now)}
	}
	return uses
}

// ApplyWaivers marks findings matched by an active waiver as Suppressed with
// the waiver recorded (the first matching active waiver wins). A finding
// matched only by expired waivers is not suppressed but records the expired
// waiver. A coverage finding is never suppressed and records no waiver
// (see Waivable). Every expired waiver adds one ExpiredWaiverRule finding
// (resource type "waiver", resource UID "waiver://RULE/PATTERN", first and
// last seen at now). Findings are changed in place; the returned slice has
// the added findings appended. Nothing is removed. The uses say, for each
// waiver, what it matched and suppressed.
func ApplyWaivers(fs []Finding, ws []Waiver, now time.Time) ([]Finding, []WaiverUse) {
	a := NewWaiverApplier(ws, now)
	if len(ws) == 0 {
		return fs, a.uses
	}
	for i := range fs {
		a.Apply(&fs[i])
	}
	return append(fs, a.ExpiredFindings()...), a.uses
}

// WaiverApplier applies waivers one finding at a time, as ApplyWaivers
// does to a slice, counting what each waiver matched: for findings that
// stream past (one per object) and are never held together. It is for one
// goroutine.
type WaiverApplier struct {
	ws   []Waiver
	uses []WaiverUse
	now  time.Time
}

// NewWaiverApplier applies ws at now.
func NewWaiverApplier(ws []Waiver, now time.Time) *WaiverApplier {
	return &WaiverApplier{ws: ws, uses: newUses(ws, now), now: now}
}

// Apply marks f as ApplyWaivers would and counts it in the uses.
func (a *WaiverApplier) Apply(f *Finding) {
	if len(a.ws) == 0 {
		return
	}
	active, expired := matchWaivers(f, a.ws, a.uses)
	switch {
	case active >= 0:
		f.Suppressed = true
		f.Waiver = a.ws[active].applied(WaiverActive)
	case expired >= 0:
		f.Suppressed = false
		f.Waiver = a.ws[expired].applied(WaiverExpired)
	}
}

// ExpiredFindings returns one ExpiredWaiverRule finding per expired
// waiver, counting what it matched among the findings applied so far.
func (a *WaiverApplier) ExpiredFindings() []Finding {
	var out []Finding
	for j := range a.ws {
		if !a.uses[j].Expired {
			continue
		}
		w := &a.ws[j]
		u := a.uses[j]
		r := Resource{Type: ResourceWaiver, UID: "waiver://" + w.Rule + "/" + w.Resource}
		msg := fmt.Sprintf("waiver for rule %s on %q expired on %s; it no longer suppresses the %d finding(s) it matches",
			w.Rule, w.Resource, w.ExpiresDate(), u.Matched-u.Coverage)
		if w.Owner != "" {
			msg += " (owner " + w.Owner + ")"
		}
		f := NewFinding(&ExpiredWaiverMeta, r, msg)
		f.Observed = map[string]any{
			"rule": w.Rule, "resource": w.Resource, "reason": w.Reason, "owner": w.Owner,
			"expires": w.ExpiresDate(), "matched_findings": u.Matched - u.Coverage,
		}
		f.Expected = map[string]any{"expires_after": a.now.UTC().Format(time.DateOnly)}
		f.Evidence = []Evidence{{Kind: "waiver", Source: w.Source, Data: map[string]any{"ticket": w.Ticket}}}
		f.Waiver = w.applied(WaiverExpired)
		f.FirstSeen, f.LastSeen = a.now, a.now
		out = append(out, f)
	}
	return out
}

// Summaries reports each waiver with what it matched and suppressed among
// the findings applied so far (per object, for objects that were judged
// one by one), as SummarizeWaivers does for a document's findings.
func (a *WaiverApplier) Summaries() []WaiverSummary { return summaries(a.uses) }

// WaiverSummary is one waiver as findings.json reports it: what it says,
// whether it was in force, and what it matched in the document's findings.
type WaiverSummary struct {
	Rule       string `json:"rule"`
	Resource   string `json:"resource"`
	Reason     string `json:"reason"`
	Owner      string `json:"owner,omitempty"`
	Ticket     string `json:"ticket,omitempty"`
	Expires    string `json:"expires,omitempty"` // YYYY-MM-DD; empty: never (allowed explicitly)
	Source     string `json:"source,omitempty"`  // file:line
	State      string `json:"state"`             // active or expired
	Broad      bool   `json:"broad,omitempty"`   // matches every rule or resource (allowed explicitly)
	Matched    int    `json:"matched"`           // findings its patterns match
	Suppressed int    `json:"suppressed"`        // findings it suppressed
	Coverage   int    `json:"coverage_matched"`  // coverage findings it matched, which no waiver suppresses
}

// SummarizeWaivers reports each waiver against the findings of a document
// (as ApplyWaivers left them): counts are recomputed from fs, so they are
// true of the document they are written into. A waiver that matched
// nothing is listed with zero counts: it may be stale.
func SummarizeWaivers(ws []Waiver, fs []Finding, now time.Time) []WaiverSummary {
	uses := newUses(ws, now)
	for i := range fs {
		matchWaivers(&fs[i], ws, uses)
	}
	return summaries(uses)
}

func summaries(uses []WaiverUse) []WaiverSummary {
	out := make([]WaiverSummary, len(uses))
	for j, u := range uses {
		w := u.Waiver
		state := WaiverActive
		if u.Expired {
			state = WaiverExpired
		}
		out[j] = WaiverSummary{
			Rule: w.Rule, Resource: w.Resource, Reason: w.Reason, Owner: w.Owner, Ticket: w.Ticket,
			Expires: w.ExpiresDate(), Source: w.Source, State: state, Broad: w.Broad,
			Matched: u.Matched, Suppressed: u.Suppressed, Coverage: u.Coverage,
		}
	}
	return out
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

// MaxWaiverTerm is the longest a waiver may run: an expiry further away
// than this from the day the waivers are loaded is as good as none, and is
// refused like a missing one unless WaiverOptions.AllowPermanent.
const MaxWaiverTerm = 366 * 24 * time.Hour

// WaiverOptions relax the checks on a waivers file. The zero value is the
// safe default: every waiver names the rules and resources it covers and
// expires within MaxWaiverTerm.
type WaiverOptions struct {
	// AllowBroad accepts a waiver whose rule pattern matches every rule
	// (e.g. "*", or "SSE-*" when every rule is SSE-...) or whose resource
	// pattern names no bucket, key or endpoint (e.g. "*", "oss://*"). Such
	// a waiver is recorded as Broad. The CLI flag: --allow-broad-waivers.
	AllowBroad bool
	// AllowPermanent accepts a waiver without an expiry, or expiring more
	// than MaxWaiverTerm after now. The CLI flag: --allow-permanent-waivers.
	AllowPermanent bool
	// Now is the clock for the expiry term (default time.Now).
	Now func() time.Time
}

// Flags of the CLI that set WaiverOptions, named in error messages.
const (
	AllowBroadWaiversFlag     = "--allow-broad-waivers"
	AllowPermanentWaiversFlag = "--allow-permanent-waivers"
)

func (o WaiverOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// maxFileSize bounds a waivers file: thousands of entries are a few MB.
const maxFileSize = 16 << 20

// LoadWaivers reads a waivers file (see ParseWaivers).
func LoadWaivers(path string, opts ...WaiverOptions) ([]Waiver, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("waivers: %w", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("waivers: %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("waivers: %s: larger than %d MB, not a waivers file", path, maxFileSize>>20)
	}
	return ParseWaivers(b, path, opts...)
}

// ParseWaivers parses a waivers file:
//
//	waivers:
//	  - rule: SSE-004                  # rule id or glob (required)
//	    resource: "oss://legacy-*/*"   # glob over the finding's resource UID (required)
//	    reason: "migrated by Q3, see SEC-12"   # required
//	    owner: storage-team@example.com
//	    ticket: SEC-12
//	    expires: 2026-12-31            # YYYY-MM-DD, last day it applies (required)
//
// Unknown fields, missing required fields, malformed dates, a missing or
// too distant expiry and a broad pattern (see WaiverOptions) are errors
// that name the file and line of the entry and say how to fix it. An empty
// file has no waivers. The checks that need the loaded rules are
// CheckWaivers'.
func ParseWaivers(data []byte, source string, opts ...WaiverOptions) ([]Waiver, error) {
	var o WaiverOptions
	if len(opts) > 0 {
		o = opts[0]
	}
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
	// A second document (after "---") would be dropped by one Decode, and
	// with it every waiver it holds: refuse it, even an empty one, rather
	// than guess which document the user meant.
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, fmt.Errorf("%s:%d: a second YAML document (after `---`): a waivers file holds one document; put every waiver under its one `waivers:` list and remove the `---`", source, extra.Line)
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%s: after the first YAML document: %w", source, err)
	}
	now := o.now()
	out := make([]Waiver, 0, len(raw.Waivers))
	var errs []error
	for i, rw := range raw.Waivers {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		w := Waiver{
			Rule:     strings.TrimSpace(rw.Rule),
			Resource: strings.TrimSpace(rw.Resource),
			Reason:   strings.TrimSpace(rw.Reason),
			Owner:    strings.TrimSpace(rw.Owner),
			Ticket:   strings.TrimSpace(rw.Ticket),
			Source:   fmt.Sprintf("%s:%d", source, line),
		}
		where := fmt.Sprintf("%s: waiver %d", w.Source, i+1)
		if w.Rule == "" {
			errs = append(errs, fmt.Errorf("%s: rule is required (a rule id such as SSE-004, or a family such as SSE-00*)", where))
		}
		if w.Resource == "" {
			errs = append(errs, fmt.Errorf("%s: resource is required (a resource UID or glob such as \"oss://legacy-archive/*\")", where))
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
		if !o.AllowPermanent {
			switch {
			case strings.TrimSpace(rw.Expires) == "":
				errs = append(errs, fmt.Errorf("%s: expires is required: add `expires: YYYY-MM-DD` (the last day it applies, at most a year ahead), or pass %s to accept waivers that never expire", where, AllowPermanentWaiversFlag))
			case !w.Expires.IsZero() && w.Expires.Sub(now) > MaxWaiverTerm:
				errs = append(errs, fmt.Errorf("%s: expires %s is more than a year ahead: set a date within a year and renew it after review, or pass %s", where, w.ExpiresDate(), AllowPermanentWaiversFlag))
			}
		}
		if w.Rule != "" && w.Resource != "" {
			if why := broadWhy(w.Rule, w.Resource); why != "" {
				if !o.AllowBroad {
					errs = append(errs, fmt.Errorf("%s: %s: name the rules and resources it waives (e.g. rule: SSE-004, resource: \"oss://legacy-archive/*\"), or pass %s to accept a blanket waiver", where, why, AllowBroadWaiversFlag))
				}
				w.Broad = true
			}
		}
		out = append(out, w)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// probeRules are rule ids no rule pattern naming a family or a rule
// matches: "~" is in no rule id. A pattern matching one of them waives
// every rule (of the SSE- family, or of any).
var probeRules = []string{"SSE-~", "~"}

// probeResources are resource UIDs of every kind whose names (bucket, key,
// region, key id, endpoint) are "~", a character no bucket name, region or
// key id has and no real name consists of. A resource pattern matching one
// of them matches by the scheme alone (e.g. "oss://*", "o*", "oss:/*").
// Unlike a realistic probe name, "~" cannot satisfy a pattern that names a
// prefix ("oss://s*" names buckets starting with s, not every bucket).
var probeResources = []string{
	"oss://~", "oss://~/~", "s3://~", "s3://~/~",
	"kms://~/~", "scan://~/~", "waiver://~/~",
}

// broadResource reports whether a resource pattern names no bucket, key or
// endpoint: beyond its scheme ("oss://", "*://"...) it has no letter or
// digit (e.g. "*", "oss://*", "oss://*/*", "kms://*/*-*"), or it matches a
// probe (its letters are all in the scheme, e.g. "o*", "*s*").
func broadResource(pattern string) bool {
	for _, p := range probeResources {
		if Glob(pattern, p) {
			return true
		}
	}
	rest := pattern
	if scheme, after, ok := strings.Cut(pattern, "://"); ok && strings.Trim(scheme, "abcdefghijklmnopqrstuvwxyz0123456789*?") == "" {
		rest = after
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c == '*' || c == '?':
		case c == '\\' && i+1 < len(rest):
			i++
			if isAlnum(rest[i]) {
				return false
			}
		case isAlnum(c):
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// broadWhy says why a waiver's patterns are broad, or "".
func broadWhy(rule, resource string) string {
	var why []string
	for _, p := range probeRules {
		if Glob(rule, p) {
			why = append(why, fmt.Sprintf("rule %q matches every rule", rule))
			break
		}
	}
	if broadResource(resource) {
		why = append(why, fmt.Sprintf("resource %q matches every resource (it names no bucket, key or endpoint)", resource))
	}
	return strings.Join(why, "; ")
}

// isGlob reports whether a pattern has wildcards.
func isGlob(p string) bool { return strings.ContainsAny(p, "*?\\") }

// CheckWaivers checks waivers against the rules loaded, refusing what
// cannot be known from the file alone:
//   - a rule id (no wildcard) that no loaded rule has (a typo would
//     otherwise waive nothing, silently);
//   - a glob that matches no loaded rule;
//   - a waiver that names only coverage rules, or the expired-waiver rule,
//     which no waiver suppresses (see Waivable);
//   - a glob that matches every waivable rule loaded (as broad as "*"),
//     unless opts.AllowBroad (the waiver is then marked Broad).
//
// Each error names the waiver's file:line and the fix.
func CheckWaivers(ws []Waiver, rules []RuleMeta, opts WaiverOptions) error {
	known := make([]string, 0, len(rules))
	waivable := 0
	for _, r := range rules {
		if r.ID == ExpiredWaiverRule {
			continue
		}
		known = append(known, r.ID)
		if r.Category != CategoryCoverage {
			waivable++
		}
	}
	var errs []error
	for i := range ws {
		w := &ws[i]
		where := w.Source + ": waiver " + fmt.Sprint(i+1)
		if w.Source == "" {
			where = fmt.Sprintf("waiver %d", i+1)
		}
		if w.Rule == ExpiredWaiverRule {
			errs = append(errs, fmt.Errorf("%s: rule %s (expired waiver) cannot be waived: renew or remove the expired waiver", where, w.Rule))
			continue
		}
		var matched, coverage []string
		for _, r := range rules {
			if r.ID == ExpiredWaiverRule || !Glob(w.Rule, r.ID) {
				continue
			}
			matched = append(matched, r.ID)
			if r.Category == CategoryCoverage {
				coverage = append(coverage, r.ID)
			}
		}
		switch {
		case len(matched) == 0 && !isGlob(w.Rule):
			errs = append(errs, fmt.Errorf("%s: rule %q is not a loaded rule (a typo?): use one of %s", where, w.Rule, strings.Join(known, ", ")))
		case len(matched) == 0:
			errs = append(errs, fmt.Errorf("%s: rule pattern %q matches no loaded rule: use one of %s", where, w.Rule, strings.Join(known, ", ")))
		case len(coverage) == len(matched):
			errs = append(errs, fmt.Errorf("%s: rule %q names coverage rule(s) %s, which cannot be waived: a coverage finding says what the scan could not check; fix the access it reports, or accept the gap explicitly at the gate", where, w.Rule, strings.Join(coverage, ", ")))
		case waivable > 1 && len(matched)-len(coverage) == waivable && !opts.AllowBroad && !w.Broad:
			errs = append(errs, fmt.Errorf("%s: rule %q matches every rule loaded (%s): name the rules it waives, or pass %s to accept a blanket waiver", where, w.Rule, strings.Join(matched, ", "), AllowBroadWaiversFlag))
		case waivable > 1 && len(matched)-len(coverage) == waivable:
			w.Broad = true
		}
	}
	if err := checkUnion(ws, rules, opts); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkUnion refuses waivers that together waive every waivable rule on
// the same resources, which no one of them does alone: "SSE-00*" and
// "SSE-01*" on "oss://d*" are as broad as "SSE-*" on "oss://d*", and so is
// "SSE-00*" on "oss://d*" with "SSE-01*" on "oss://*" (a resource pattern
// that covers another adds its rules there). Expired waivers suppress
// nothing and do not count. Breadth over resources (many bucket prefixes
// that together name every bucket) is not judged: the bucket names are
// not known when waivers are loaded.
func checkUnion(ws []Waiver, rules []RuleMeta, opts WaiverOptions) error {
	var waivable []string
	for _, r := range rules {
		if r.ID != ExpiredWaiverRule && r.Category != CategoryCoverage {
			waivable = append(waivable, r.ID)
		}
	}
	if len(waivable) < 2 {
		return nil
	}
	now := opts.now()
	// The waivable rules each distinct resource pattern waives, and by
	// which waivers (in file order).
	var patterns []string
	sets := map[string][]bool{}
	by := map[string][]int{}
	all := make([]bool, len(waivable))
	aloneFull := map[int]bool{} // waivers that name every rule by themselves
	for i := range ws {
		w := &ws[i]
		if w.Expired(now) || w.Rule == ExpiredWaiverRule {
			continue
		}
		set, ok := sets[w.Resource]
		if !ok {
			set = make([]bool, len(waivable))
			sets[w.Resource] = set
			patterns = append(patterns, w.Resource)
		}
		by[w.Resource] = append(by[w.Resource], i)
		alone := true
		for k, id := range waivable {
			if Glob(w.Rule, id) {
				set[k], all[k] = true, true
			} else {
				alone = false
			}
		}
		if alone {
			aloneFull[i] = true
		}
	}
	if !full(all) {
		return nil // the file as a whole does not name every rule
	}
	var errs []error
	reported := map[string]bool{}
	for _, b := range patterns {
		union := slices.Clone(sets[b])
		members := slices.Clone(by[b])
		for _, a := range patterns {
			if a != b && covers(a, b) {
				for k, v := range sets[a] {
					union[k] = union[k] || v
				}
				members = append(members, by[a]...)
			}
		}
		slices.Sort(members)
		if !full(union) || slices.ContainsFunc(members, func(i int) bool { return aloneFull[i] }) {
			continue // a waiver naming every rule alone is CheckWaivers' own case
		}
		key := fmt.Sprint(members)
		if reported[key] {
			continue
		}
		reported[key] = true
		if opts.AllowBroad {
			for _, i := range members {
				ws[i].Broad = true
			}
			continue
		}
		names := make([]string, len(members))
		for j, i := range members {
			names[j] = fmt.Sprintf("%d (rule %q, resource %q)", i+1, ws[i].Rule, ws[i].Resource)
			if ws[i].Source != "" {
				names[j] = fmt.Sprintf("%d at %s (rule %q, resource %q)", i+1, ws[i].Source, ws[i].Rule, ws[i].Resource)
			}
		}
		where := ws[members[0]].Source
		if where == "" {
			where = "waivers"
		}
		errs = append(errs, fmt.Errorf("%s: waivers %s together waive every rule loaded (%s) on %q: as broad as one waiver for every rule; name fewer rules, or pass %s to accept a blanket waiver",
			where, strings.Join(names, ", "), strings.Join(waivable, ", "), b, AllowBroadWaiversFlag))
	}
	return errors.Join(errs...)
}

func full(set []bool) bool {
	for _, v := range set {
		if !v {
			return false
		}
	}
	return true
}

// globToken is one element of a pattern: a literal byte, '?' or '*'.
type globToken struct {
	wild byte // '*', '?' or 0 for a literal
	lit  byte
}

// globTokens splits a pattern as Glob reads it; ok is false for a pattern
// ending in a lone '\', which matches nothing.
func globTokens(p string) (ts []globToken, ok bool) {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*', '?':
			ts = append(ts, globToken{wild: c})
		case '\\':
			if i+1 == len(p) {
				return nil, false
			}
			i++
			ts = append(ts, globToken{lit: p[i]})
		default:
			ts = append(ts, globToken{lit: c})
		}
	}
	return ts, true
}

// covers reports that every string pattern b matches, pattern a matches
// too. It is sound, not complete: true only when a matches b read as a
// string whose wildcards a's '*' may absorb (a '?' of a takes a literal
// or a '?' of b, never a '*'); a false "no" only misses a union.
func covers(a, b string) bool {
	ta, ok := globTokens(a)
	if !ok {
		return false
	}
	tb, ok := globTokens(b)
	if !ok {
		return true // b matches nothing
	}
	// A literal prefix of a that b does not start with: no match (cheap,
	// and most pairs of distinct patterns end here).
	for i, t := range ta {
		if t.wild != 0 {
			break
		}
		if i >= len(tb) || tb[i] != t {
			return false
		}
	}
	// m[j]: ta[:i] matches tb[:j], row by row.
	m := make([]bool, len(tb)+1)
	m[0] = true
	for _, t := range ta {
		next := make([]bool, len(tb)+1)
		for j := 0; j <= len(tb); j++ {
			switch {
			case t.wild == '*':
				next[j] = m[j] || j > 0 && next[j-1]
			case j == 0:
			case t.wild == '?':
				next[j] = m[j-1] && tb[j-1].wild != '*'
			default:
				next[j] = m[j-1] && tb[j-1] == t
			}
		}
		m = next
	}
	return m[len(tb)]
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
