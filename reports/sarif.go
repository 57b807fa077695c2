package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
)

// SARIF 2.1.0 output. Resources are not files, so results carry
// logicalLocations (kind "resource", fullyQualifiedName = resource UID)
// and no physicalLocation.

// SARIFSchemaURI is the $schema written into results.sarif.
const SARIFSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// ConformanceRuleID is the SARIF rule under which failed conformance
// scenarios are reported.
const ConformanceRuleID = "CONF"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool         `json:"tool"`
	Invocations       []sarifInvocation `json:"invocations"`
	AutomationDetails *sarifAutomation  `json:"automationDetails,omitempty"`
	Results           []sarifResult     `json:"results"`
	Properties        map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name,omitempty"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ExitCode                   *int                `json:"exitCode,omitempty"`
	ExitCodeDescription        string              `json:"exitCodeDescription,omitempty"`
	StartTimeUTC               string              `json:"startTimeUtc,omitempty"`
	EndTimeUTC                 string              `json:"endTimeUtc,omitempty"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	Properties                 map[string]any      `json:"properties,omitempty"`
}

type sarifNotification struct {
	Level      string         `json:"level"`
	Message    sarifText      `json:"message"`
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Kind                string             `json:"kind"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifLogical struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string         `json:"kind"`
	Status        string         `json:"status"`
	Justification string         `json:"justification,omitempty"`
	Properties    map[string]any `json:"properties,omitempty"`
}

// FingerprintKey is the partialFingerprints key holding the finding id.
const FingerprintKey = "sseauditFindingId/v1"

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(s findings.Severity) string {
	switch s {
	case findings.SeverityCritical, findings.SeverityHigh:
		return "error"
	case findings.SeverityMedium:
		return "warning"
	}
	return "note"
}

// SARIF writes m as a SARIF 2.1.0 log with one run: a rule per policy rule
// (help with remediation and CLI; properties security-severity and tags with
// the category and control ids), a result per finding (waived ones carry an
// accepted external suppression), failed conformance scenarios as results
// of rule CONF, and one invocation carrying the run's outcome:
//
//   - executionSuccessful is false when the run itself failed: an error
//     verdict, a target that could not be read, a scan that did not run to
//     its end, or a broken conformance run. A fail verdict (findings at or
//     above the gate) is a successful execution that found something.
//   - exitCode and exitCodeDescription are the outcome's exit code and
//     verdict with its reasons; properties hold verdict, fail_on and
//     reasons.
//   - toolExecutionNotifications hold every gap (what was not checked):
//     level "error" when not accepted, "note" when accepted, with
//     properties gap_kind, count and accepted; then every coverage error.
func SARIF(w io.Writer, m *Model) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: ToolName, Version: m.Tool.Version,
			InformationURI: "https://github.com/sseaudit/sseaudit",
		}},
		Results: []sarifResult{},
	}
	rules, err := rulesOf(m.Findings)
	if err != nil {
		return fmt.Errorf("reports: sarif: %w", err)
	}
	index := map[string]int{}
	for _, r := range rules {
		index[r.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(&r))
	}
	if run.Tool.Driver.Rules == nil {
		run.Tool.Driver.Rules = []sarifRule{}
	}
	// The findings' results are written one at a time (see writeSpliced),
	// then the conformance run's.
	fs := modelDoc(m)
	var confResults []sarifResult
	if m.Conformance != nil {
		confResults = conformanceResults(m.Conformance, len(run.Tool.Driver.Rules))
		if len(confResults) > 0 || len(m.Conformance.Scenarios) > 0 {
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, conformanceRule())
		}
	}

	st := stateOf(m)
	inv := sarifInvocation{
		ExecutionSuccessful: executionSuccessful(m) && !st.Unread && st.Verdict() != findings.VerdictError,
		StartTimeUTC:        rfc3339(m.Provenance.StartedAt),
		EndTimeUTC:          rfc3339(m.Provenance.FinishedAt),
	}
	if o := outcomeOf(m); o != nil {
		code := o.ExitCode
		inv.ExitCode = &code
		inv.ExitCodeDescription = o.Verdict
		if len(o.Reasons) > 0 {
			inv.ExitCodeDescription += ": " + strings.Join(o.Reasons, "; ")
		}
		inv.Properties = map[string]any{"verdict": o.Verdict, "fail_on": o.FailOn, "reasons": uniqueStrings(o.Reasons)}
	}
	for _, g := range st.Gaps {
		level := "error"
		if g.Accepted {
			level = "note"
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level:   level,
			Message: sarifText{Text: "not checked: " + g.Text()},
			Properties: map[string]any{
				"gap_kind": g.Kind, "count": g.Count, "accepted": g.Accepted, "derived_from_coverage": g.Derived,
			},
		})
	}
	for _, e := range m.Coverage.Errors {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level:   "error",
			Message: sarifText{Text: fmt.Sprintf("%s %s: %s", e.Scope, e.Resource, e.Message)},
			Properties: map[string]any{
				"scope": e.Scope, "resource": e.Resource, "status_code": e.StatusCode, "code": e.Code,
			},
		})
	}
	if m.Coverage.ListBucketsError != nil {
		e := m.Coverage.ListBucketsError
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
			Level: "error", Message: sarifText{Text: "listing buckets failed: " + e.Message},
		})
	}
	run.Invocations = []sarifInvocation{inv}
	if m.Provenance.ScanID != "" {
		run.AutomationDetails = &sarifAutomation{ID: ToolName + "/" + m.Provenance.ScanID}
	}
	run.Properties = map[string]any{
		"scan_id":         m.Provenance.ScanID,
		"policy_digest":   m.Provenance.PolicyDigest,
		"snapshot_digest": m.Provenance.SnapshotDigest,
		"target_kind":     m.Provenance.Target.Kind,
		"dialect":         m.Provenance.Target.Dialect,
		"endpoint":        m.Provenance.Target.Endpoint,
	}
	if v := st.Verdict(); v != "" {
		run.Properties["verdict"] = v
	}
	log := sarifLog{Schema: SARIFSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}
	head, err := encodeIndented(&log, "")
	if err != nil {
		return fmt.Errorf("reports: encode sarif: %w", err)
	}
	head = append(head, '\n')
	each := func(yield func(any) error) error {
		err := fs.Each(func(f *findings.Finding) error {
			r := sarifResultOf(f, index[f.Rule])
			return yield(&r)
		})
		if err != nil {
			return err
		}
		for i := range confResults {
			if err := yield(&confResults[i]); err != nil {
				return err
			}
		}
		return nil
	}
	n := fs.Len() + len(confResults)
	elem, stop := pulled(n, each)
	defer stop()
	err = writeSpliced(w, head, `"results": `, n, elem)
	if err != nil {
		return fmt.Errorf("reports: encode sarif: %w", err)
	}
	return nil
}

// executionSuccessful: the scan completed (when there was one) and the
// conformance run, if any, was not broken (exit code 2: bad options).
func executionSuccessful(m *Model) bool {
	if m.Provenance.ScanID != "" && !m.Provenance.Complete {
		return false
	}
	if m.Conformance != nil && m.Conformance.ExitCode > 1 {
		return false
	}
	return true
}

func sarifRuleOf(r *findings.RuleMeta) sarifRule {
	tags := []string{"security"}
	seen := map[string]bool{"security": true}
	add := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	add(r.Category)
	for _, c := range r.Controls {
		add(controlString(c))
	}
	desc := r.Description
	if desc == "" {
		desc = r.Title
	}
	return sarifRule{
		ID:                   r.ID,
		Name:                 ruleName(r.Title, r.ID),
		ShortDescription:     sarifText{Text: r.Title},
		FullDescription:      sarifText{Text: desc},
		Help:                 sarifText{Text: helpText(r), Markdown: helpMarkdown(r)},
		DefaultConfiguration: sarifConfig{Level: sarifLevel(r.Severity)},
		Properties: map[string]any{
			"security-severity": fmt.Sprintf("%.1f", SecuritySeverity(r.Severity)),
			"severity":          severityName(r.Severity),
			"tags":              tags,
			"category":          r.Category,
			"resource_type":     r.ResourceType,
			"controls":          controlStrings(r.Controls),
		},
	}
}

// ruleName turns a title into an identifier-like name: "Object not
// encrypted" -> "ObjectNotEncrypted".
func ruleName(title, id string) string {
	var b strings.Builder
	up := true
	for _, r := range title {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return id
	}
	return b.String()
}

func helpText(r *findings.RuleMeta) string {
	var b strings.Builder
	b.WriteString(r.Title)
	if r.Description != "" {
		b.WriteString("\n\n" + r.Description)
	}
	if r.Remediation.Text != "" {
		b.WriteString("\n\nRemediation: " + r.Remediation.Text)
	}
	if r.Remediation.CLI != "" {
		b.WriteString("\n\nCLI: " + r.Remediation.CLI)
	}
	if len(r.Controls) > 0 {
		b.WriteString("\n\nControls: " + strings.Join(controlStrings(r.Controls), ", "))
	}
	return b.String()
}

func helpMarkdown(r *findings.RuleMeta) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** (%s, severity %s)\n", mdInline(r.Title), r.ID, severityName(r.Severity))
	if r.Description != "" {
		b.WriteString("\n" + mdInline(r.Description) + "\n")
	}
	if r.Remediation.Text != "" {
		b.WriteString("\n### Remediation\n\n" + mdInline(r.Remediation.Text) + "\n")
	}
	if r.Remediation.CLI != "" {
		fence := "```"
		for strings.Contains(r.Remediation.CLI, fence) {
			fence += "`"
		}
		b.WriteString("\n" + fence + "sh\n" + r.Remediation.CLI + "\n" + fence + "\n")
	}
	if len(r.Controls) > 0 {
		b.WriteString("\n### Controls\n\n")
		for _, c := range r.Controls {
			fmt.Fprintf(&b, "- %s %s", mdInline(strings.TrimSpace(c.Framework+" "+c.Version)), mdInline(c.ID))
			if c.Title != "" {
				b.WriteString(": " + mdInline(c.Title))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func sarifResultOf(f *findings.Finding, ruleIndex int) sarifResult {
	name := f.Resource.UID
	switch f.Resource.Type {
	case findings.ResourceBucket:
		name = f.Resource.Bucket
	case findings.ResourceObject:
		name = f.Resource.Key
	case findings.ResourceObjects:
		name = f.Resource.Bucket + "/*"
	case findings.ResourceKey:
		name = f.Resource.KMSKeyID
	}
	res := sarifResult{
		RuleID:    f.Rule,
		RuleIndex: ruleIndex,
		Kind:      "fail",
		Level:     sarifLevel(f.Severity),
		Message:   sarifText{Text: f.Message},
		Locations: []sarifLocation{{LogicalLocations: []sarifLogical{{
			Name: name, FullyQualifiedName: f.Resource.UID, Kind: "resource",
		}}}},
		PartialFingerprints: map[string]string{FingerprintKey: f.ID},
		Properties: map[string]any{
			"finding_id":    f.ID,
			"severity":      severityName(f.Severity),
			"status":        f.Status,
			"category":      f.Category,
			"resource_type": f.Resource.Type,
			"controls":      controlStrings(f.Controls),
		},
	}
	if res.Message.Text == "" {
		res.Message.Text = f.Title
	}
	props := res.Properties
	for k, v := range map[string]string{
		"bucket": f.Resource.Bucket, "key": f.Resource.Key, "version_id": f.Resource.VersionID,
		"region": f.Resource.Region, "kms_key_id": KeyID(f),
		"first_seen": rfc3339(f.FirstSeen), "last_seen": rfc3339(f.LastSeen),
	} {
		if v != "" {
			props[k] = v
		}
	}
	if f.Status == findings.StatusError {
		props["state"] = "unknown: the resource could not be read"
	}
	if f.Waiver != nil {
		props["waiver_state"] = f.Waiver.State
	}
	if a := f.Aggregate; a != nil {
		// One result per rule and bucket: the objects are counted here
		// and listed, every one, in the side file.
		props["objects"] = a.Objects
		props["objects_open"] = a.Open
		props["objects_suppressed"] = a.Suppressed
		props["bytes"] = a.Bytes
		if !a.OldestLastModified.IsZero() {
			props["oldest_last_modified"] = rfc3339(a.OldestLastModified)
			props["newest_last_modified"] = rfc3339(a.NewestLastModified)
		}
		keys := make([]string, len(a.Sample))
		for i, o := range a.Sample {
			keys[i] = o.Key
		}
		props["sample_keys"] = keys
		props["affected_objects_file"] = a.File
		for k, v := range f.Resource.Facts {
			props["fact_"+k] = v
		}
	}
	if f.Suppressed {
		s := sarifSuppression{Kind: "external", Status: "accepted"}
		if w := f.Waiver; w != nil {
			s.Justification = w.Reason
			s.Properties = map[string]any{
				"owner": w.Owner, "ticket": w.Ticket, "expires": w.Expires,
				"rule": w.Rule, "resource": w.Resource, "source": w.Source,
			}
		}
		res.Suppressions = []sarifSuppression{s}
	}
	return res
}

func conformanceRule() sarifRule {
	r := findings.RuleMeta{
		ID:          ConformanceRuleID,
		Title:       "Conformance scenario failed",
		Description: "The storage endpoint behaved against its server-side-encryption contract in a conformance scenario (or the scenario could not run).",
		Severity:    findings.SeverityHigh,
		Category:    findings.CategoryConformance,
		Remediation: findings.Remediation{
			Text: "Read the scenario's failing step; fix the endpoint or its configuration and run the conformance suite again.",
			CLI:  "sseaudit conformance --junit junit.xml",
		},
	}
	return sarifRuleOf(&r)
}

// conformanceResults reports failed and broken (undefined, pending,
// ambiguous) scenarios.
func conformanceResults(run *results.Run, ruleIndex int) []sarifResult {
	var out []sarifResult
	for _, sc := range run.Scenarios {
		switch sc.Status {
		case results.StatusPassed, results.StatusSkipped, results.StatusNotRun:
			continue
		}
		fqn := "conformance://" + sc.Feature + "/" + caseName(sc)
		sum := sha256.Sum256([]byte(sc.Feature + "\x00" + sc.Name + "\x00" + sc.Dialect))
		msg := sc.Status + ": " + caseName(sc)
		if e := firstLine(sc.Error); e != "" {
			msg += ": " + e
		}
		out = append(out, sarifResult{
			RuleID: ConformanceRuleID, RuleIndex: ruleIndex, Kind: "fail", Level: "error",
			Message: sarifText{Text: msg},
			Locations: []sarifLocation{{LogicalLocations: []sarifLogical{{
				Name: caseName(sc), FullyQualifiedName: fqn, Kind: "resource",
			}}}},
			PartialFingerprints: map[string]string{FingerprintKey: "C-" + hex.EncodeToString(sum[:16])},
			Properties: map[string]any{
				"feature": sc.Feature, "scenario": sc.Name, "dialect": sc.Dialect,
				"status": sc.Status, "tags": uniqueStrings(sc.Tags), "error": sc.Error,
			},
		})
	}
	return out
}

// uniqueStrings returns ss without duplicates (order kept), never nil: a
// SARIF property bag's "tags" must be an array of unique strings.
func uniqueStrings(ss []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
