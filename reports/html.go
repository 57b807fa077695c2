package reports

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/snapshot"
)

// The HTML report is one self-contained file: the template, stylesheet and
// script below are embedded and written inline, charts are inline SVG drawn
// here in Go (so they render with scripting disabled and print), and a
// Content-Security-Policy forbids every network fetch and every script but
// the report's own (pinned by hash). Everything taken from the model goes
// through html/template, so bucket names, keys and evidence are escaped.

//go:embed assets/report.html.tmpl assets/report.css assets/report.js
var htmlAssets embed.FS

var (
	htmlTmpl   *template.Template
	htmlCSS    template.CSS
	htmlJS     template.JS
	htmlCSPTag template.HTML
)

func init() {
	css, err := htmlAssets.ReadFile("assets/report.css")
	if err != nil {
		panic(err)
	}
	js, err := htmlAssets.ReadFile("assets/report.js")
	if err != nil {
		panic(err)
	}
	htmlCSS = template.CSS(css)
	htmlJS = template.JS(js)
	sum := sha256.Sum256(js)
	htmlCSPTag = template.HTML(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; ` +
		`style-src 'unsafe-inline'; img-src data:; script-src 'sha256-` +
		base64.StdEncoding.EncodeToString(sum[:]) + `'; base-uri 'none'; form-action 'none'">`)
	htmlTmpl = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"json":  htmlJSON,
		"when":  htmlTime,
		"lower": strings.ToLower,
		"num":   htmlNum,
		"pct":   htmlPct,
		"dur":   htmlDuration,
		"add":   func(a, b int) int { return a + b },
	}).ParseFS(htmlAssets, "assets/report.html.tmpl"))
}

// HTML writes m as a single self-contained HTML page: provenance, charts,
// per-bucket drill-down, controls, conformance and every finding. The page
// references nothing outside itself and opens offline from file://.
func HTML(w io.Writer, m *Model) error {
	if m == nil {
		return fmt.Errorf("reports: nil model")
	}
	v, err := newHTMLView(m)
	if err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := htmlTmpl.Execute(bw, v); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	return bw.Flush()
}

// ---- view model ----

type htmlView struct {
	Title     string
	CSP       template.HTML
	CSS       template.CSS
	JS        template.JS
	Tool      Tool
	Prov      Provenance
	Generated time.Time
	Profile   string
	Policy    string
	Snapshot  string
	Complete  bool

	// Badges are the target's badges, each once, in its own words.
	Badges []string
	// ScanTool is the version that took the snapshot, when it differs from
	// Tool.Version.
	ScanTool string

	State    runState
	Verdict  htmlVerdict
	Run      htmlPill // the provenance's "run" badge: complete or not
	Comply   *htmlCompliance
	Reasons  []string
	HasScan  bool
	Verified bool // no unaccepted gap: a control without findings passes

	Total, Open, Suppressed int
	Resources               int
	Worst                   string // highest open severity, "" when none
	Severities              []htmlSevCount

	Cov       htmlCoverage
	SevChart  htmlChart
	RuleChart htmlChart
	BktChart  htmlChart
	Trend     *htmlChart
	TrendN    int

	Buckets     []htmlBucket
	Frameworks  []htmlFramework
	NoControl   []*htmlRuleRow
	Conformance *htmlConformance
	Findings    []htmlFinding
	Unbucketed  int
	// Compact counts the findings shown without their evidence (see
	// htmlFullPerRule); BucketsCapped says some buckets have no
	// drill-down (see htmlBucketBodies).
	Compact       int64
	BucketsCapped bool
	// Unlisted counts the findings the list leaves out (see
	// htmlMaxListed); HiddenBuckets the buckets the bucket list leaves out
	// (see htmlMaxBuckets).
	Unlisted, HiddenBuckets int64
	// NBuckets counts every bucket, listed or not.
	NBuckets int64
}

// htmlFullPerRule is how many findings of each rule the findings list
// shows whole, with observed, expected, evidence and remediation; the
// others show their summary and message, linking to findings.json, where
// every finding is whole. htmlMiniBodies is the number of findings up to
// which the bucket drill-downs repeat them whole too.
const (
	htmlFullPerRule = 25
	htmlMiniBodies  = 100
)

// htmlMaxListed bounds the findings list: every finding shown whole (the
// first htmlFullPerRule of each rule) plus, worst first, those shown by
// their message up to this many in all. htmlMaxBuckets bounds the bucket
// list the same way: every bucket with a drill-down, then the others in
// order up to this many. The page then stays a few MB, quick to open,
// whatever the estate (10,000 buckets of unencrypted objects: 20,000
// findings, 18 MB and 19 s in headless Chromium without them); what is left
// out is counted on the page, and every finding and bucket is in
// findings.json, findings.csv and report.json.
const (
	htmlMaxListed  = 2000
	htmlMaxBuckets = 1000
)

// htmlVerdict is the headline badge.
type htmlVerdict struct {
	Class, Word, Text string
}

// htmlPill is a badge: its CSS class and text.
type htmlPill struct{ Class, Text string }

// htmlCompliance is the compliance headline.
type htmlCompliance struct {
	Threshold                              string
	Buckets, BucketsCompliant              int64
	Objects, ObjectsCompliant              int64
	Bytes, BytesCompliant                  string
	BucketsPct, ObjectsPct, BytesPct       string
	BucketsClass, ObjectsClass, BytesClass string // ok (all), badn (not all), "" (nothing to count)
}

type htmlSevCount struct {
	Name             string
	Open, Suppressed int
}

type htmlCoverage struct {
	Buckets, BucketsRead              int
	ObjectsListed, ObjectsInspected   int64
	KeysReferenced, KeysDescribed     int
	Errors                            []htmlCovError
	ErrorCount                        int
	ErrorsOmitted, Retries            int64
	ListBucketsError                  string
	BucketsPct, ObjectsPct, KeysPct   string
	BucketsFull, ObjectsFull, KeysFul bool
}

type htmlCovError struct {
	Scope, Resource, Code, Message string
	Status, Attempts               int
}

type htmlBucket struct {
	Index        int
	Stat         BucketStat
	Methods      []htmlKV
	Findings     []*htmlFinding // the first htmlBucketFindings of them
	NFindings    int
	More         int // findings left out of the drill-down (they are all in the findings list)
	Open, Waived int
	Worst        string
	EncPct       string
	CompliantPct string // "" when compliance is not known
	Default      htmlPill
	Status       htmlPill
	Keys         []htmlKey
	Meter        []htmlRect // shares of 100: encrypted (in the colour of the worst open finding), unencrypted, unknown
	// Body: the bucket opens to its drill-down (see htmlBucketBodies).
	Body bool
}

// htmlBucketBodies is how many buckets open to a drill-down when a report
// has more: those with the worst open findings, and the first the bucket
// chart shows. The others show their summary line only (every bucket's
// numbers are in report.json).
const htmlBucketBodies = 200

type htmlKey struct {
	BucketKey
	Class string // pill class of the state
}

type htmlKV struct {
	Key   string
	Value int64
}

type htmlFramework struct {
	Name     string // the framework and its version
	Controls []*htmlControl
	Open     int
	Failing  int
}

type htmlControl struct {
	ID, Title  string
	Rules      []string
	Findings   []*htmlFinding // the first htmlControlLinks of them
	NFindings  int
	More       int // findings left out of the list
	Open       int
	Suppressed int
}

// htmlRuleRow is a rule mapped to no control.
type htmlRuleRow struct {
	ID, Title, Category string
	Findings            []*htmlFinding // the first htmlControlLinks of them
	NFindings, More     int
	Open, Suppressed    int
}

// htmlControlLinks caps the findings a control (or a rule without one)
// links to: every one is in the findings list.
const htmlControlLinks = 50

// capLinks keeps the first htmlControlLinks of fs, and says how many
// there were and how many are left out.
func capLinks(fs []*htmlFinding) ([]*htmlFinding, int, int) {
	if len(fs) <= htmlControlLinks {
		return fs, len(fs), 0
	}
	return fs[:htmlControlLinks], len(fs), len(fs) - htmlControlLinks
}

type htmlConformance struct {
	Run      *results.Run
	Features []htmlFeature
	Total    int
	// Counts from the scenarios' own statuses: passed; failed (failed,
	// and the undefined, pending or ambiguous of older runs); skipped; not
	// run (a dry run); any other status under its own name, never counted
	// as passed or failed.
	Passed, Failed, Skipped, NotRun int
	Others                          []htmlKV
	// NotApplicable are the scenarios the tags matched that cannot apply
	// to the run (not among the scenarios), with why.
	NotApplicable int
	Exclusions    []results.Exclusion
	// Disagree says how the run's totals differ from its scenarios ("" when
	// they agree).
	Disagree string
}

type htmlFeature struct {
	Name                            string
	Scenarios                       []htmlScenario
	Passed, Failed, Skipped, NotRun int
	Others                          int
}

type htmlScenario struct {
	results.Scenario
	Bad    bool
	Class  string // passed, failed, skipped, notrun or other
	Reason string // why it was skipped (or may be, in a dry run)
}

type htmlFinding struct {
	findings.Finding
	Agg       *htmlAggregate // an aggregated finding's objects (nil for any other)
	Listed    bool           // the findings list shows it (see htmlMaxListed): links to it resolve
	Full      bool           // the findings list shows it whole
	MiniFull  bool           // the bucket drill-down shows it whole
	Sev       string
	Anchor    string
	Search    string
	Observed  string
	Expected  string
	Evidence  []htmlEvidence
	RuleDesc  string
	WaiverSt  string // "", "active" or "expired"
	ResFields []htmlKVS
}

type htmlKVS struct{ Key, Value string }

// htmlAggregate is what the report shows of an aggregated finding's
// objects: counts, bytes, dates, the sample and where every one is listed.
type htmlAggregate struct {
	*findings.Aggregate
	Count, Open, Waived string // with thousands separators
	Bytes               string
	Oldest, Newest      string // dates, "" when none was recorded
	More                int64  // objects beyond the sample
	Select              string // a command that lists them from the side file
}

// slim drops what only a finding shown whole uses (its observed and
// expected values, evidence, remediation, controls, waiver and sample), so
// that the view of an estate's many compact findings holds a line of each.
func (h *htmlFinding) slim() {
	f := &h.Finding
	f.Observed, f.Expected, f.Evidence = nil, nil, nil
	f.Remediation, f.Controls, f.Waiver = findings.Remediation{}, nil, nil
	f.Resource.Facts = nil
	if h.Agg != nil && h.Agg.Aggregate != nil {
		a := *h.Agg.Aggregate
		a.Sample = nil
		h.Agg.Aggregate = &a
		f.Aggregate = &a
	}
}

func htmlAggregateOf(f *findings.Finding) *htmlAggregate {
	a := f.Aggregate
	if a == nil {
		return nil
	}
	h := &htmlAggregate{Aggregate: a, Count: findings.Thousands(a.Objects), Open: findings.Thousands(a.Open),
		Waived: findings.Thousands(a.Suppressed), Bytes: findings.HumanBytes(a.Bytes),
		More:   a.Objects - int64(len(a.Sample)),
		Select: fmt.Sprintf(`zcat %s | jq -c 'select(.aggregate == "%s")'`, a.File, f.ID)}
	if !a.OldestLastModified.IsZero() {
		h.Oldest = a.OldestLastModified.UTC().Format(time.DateOnly)
		h.Newest = a.NewestLastModified.UTC().Format(time.DateOnly)
	}
	return h
}

type htmlEvidence struct {
	findings.Evidence
	JSON string
}

// htmlSevOrder is highest first, as reports list severities.
var htmlSevOrder = []string{"critical", "high", "medium", "low", "info"}

// htmlFrameworkOrder puts the frameworks sseaudit's built-in rules map to
// first; any other framework follows alphabetically.
var htmlFrameworkOrder = []string{"CIS Alibaba", "CIS Amazon", "CIS AWS", "NIST", "PCI", "ISO"}

func newHTMLView(m *Model) (*htmlView, error) {
	doc := m.Findings
	if doc == nil {
		doc = &findings.Document{}
	}
	// An in-memory document is sorted here (a model may be built by hand);
	// a spilled one is sorted, and read once, a finding at a time.
	var fs []findings.Finding
	var sum findings.Summary
	if doc.Spill == nil {
		fs = append([]findings.Finding(nil), doc.Findings...)
		findings.Sort(fs)
		sum = findings.Summarize(fs)
	} else {
		sum = doc.Summarized()
	}

	v := &htmlView{
		CSP:       htmlCSPTag,
		CSS:       htmlCSS,
		JS:        htmlJS,
		Tool:      m.Tool,
		Prov:      m.Provenance,
		Generated: m.GeneratedAt,
		Profile:   doc.Profile,
		Policy:    m.Provenance.PolicyDigest,
		Snapshot:  m.Provenance.SnapshotDigest,
		Complete:  m.Provenance.Complete,
		Total:     sum.Total,
		Open:      sum.Open,

		Suppressed: sum.Suppressed,
		Resources:  sum.Resources,
	}
	if v.Tool.Name == "" {
		v.Tool.Name = "sseaudit"
	}
	if v.Policy == "" {
		v.Policy = doc.PolicyDigest
	}
	if v.Prov.ScanID == "" {
		v.Prov.ScanID = doc.Scan.ScanID
	}
	if v.Prov.Target.Endpoint == "" {
		v.Prov.Target.Endpoint = doc.Scan.Endpoint
		v.Prov.Target.Dialect = doc.Scan.Dialect
		v.Prov.Target.Kind = doc.Scan.TargetKind
	}
	v.Title = "sseaudit report"
	if v.Prov.Target.Endpoint != "" {
		v.Title += " — " + v.Prov.Target.Endpoint
	}
	dialect := v.Prov.Target.Dialect
	v.Badges = targetBadges(v.Prov.Target.Kind, dialect)
	if sv := m.Provenance.ScanToolVersion; sv != "" && sv != v.Tool.Version {
		v.ScanTool = sv
	}
	for _, s := range htmlSevOrder {
		c := htmlSevCount{Name: s, Open: sum.BySeverity[s], Suppressed: sum.SuppressedBySeverity[s]}
		v.Severities = append(v.Severities, c)
		if v.Worst == "" && c.Open > 0 {
			v.Worst = s
		}
	}

	v.State = stateOf(m)
	v.HasScan = hasScan(m)
	v.Verified = v.State.Unaccepted == 0 && !v.State.Unread
	if o := outcomeOf(m); o != nil {
		v.Reasons = o.Reasons
	}
	v.Verdict = htmlVerdictOf(v.State, v.Open, v.Worst)
	v.Run = htmlRunPill(v.State, v.HasScan)
	if c := m.Compliance; c != nil {
		v.Comply = htmlComplianceOf(c)
	}

	rules := map[string]*findings.RuleMeta{}
	for i := range doc.Rules {
		rules[doc.Rules[i].ID] = &doc.Rules[i]
	}

	n := doc.Len()
	v.Findings = make([]htmlFinding, 0, n)
	perRule := map[string]int{}
	add := func(f *findings.Finding) error {
		// A rule's first findings (worst first) carry their evidence; the
		// rest a line each, so the page stays small for any estate.
		perRule[f.Rule]++
		full := perRule[f.Rule] <= htmlFullPerRule
		h := htmlFindingOf(f, rules[f.Rule], full)
		h.Full = full
		h.MiniFull = full && n <= htmlMiniBodies
		if !full {
			v.Compact++
			h.slim()
		}
		v.Findings = append(v.Findings, h)
		return nil
	}
	if fs != nil {
		for i := range fs {
			add(&fs[i])
		}
	} else if err := doc.Each(add); err != nil {
		return nil, err
	}
	// The list keeps every finding shown whole, then the others worst
	// first (fs is sorted) while there is room.
	room := htmlMaxListed
	for i := range v.Findings {
		if v.Findings[i].Full {
			room--
		}
	}
	for i := range v.Findings {
		f := &v.Findings[i]
		switch {
		case f.Full:
			f.Listed = true
		case room > 0:
			f.Listed = true
			room--
		default:
			v.Unlisted++
			v.Compact--
		}
	}

	v.Cov = htmlCoverageOf(m)
	v.Buckets = htmlBucketsOf(m.Buckets, v.Findings, dialect, m.Compliance != nil)
	v.BucketsCapped = len(m.Buckets) > htmlBucketBodies
	v.NBuckets = int64(len(m.Buckets))
	v.HiddenBuckets = int64(len(m.Buckets) - len(v.Buckets))
	// The chart draws the first buckets of all (every one is listed).
	v.BktChart = htmlBucketChart(v.Buckets, len(m.Buckets))
	for i := range v.Findings {
		if v.Findings[i].Resource.Bucket == "" {
			v.Unbucketed++
		}
	}
	ruleList, err := rulesOf(doc)
	if err != nil {
		return nil, err
	}
	v.Frameworks, v.NoControl = htmlFrameworksOf(ruleList, v.Findings)
	if m.Conformance != nil {
		v.Conformance = htmlConformanceOf(m.Conformance)
	}

	v.SevChart = htmlSeverityChart(v.Severities)
	v.RuleChart = htmlRuleChartOf(doc.Rules, v.Findings)
	v.TrendN = len(m.Trend)
	if len(m.Trend) >= 2 {
		c := htmlTrendChart(m.Trend)
		v.Trend = &c
	}
	return v, nil
}

// htmlVerdictOf is the headline badge: green only for a clean run (see
// runState.Clean), red for a failed or broken run, an unread target, a gap
// not accepted or open findings without a verdict, amber for a pass that
// is not clean (accepted gaps, or open high or critical findings the gate
// let through, which the text names).
func htmlVerdictOf(s runState, open int, worst string) htmlVerdict {
	v := htmlVerdict{Word: "NO VERDICT", Text: s.Headline(open)}
	if w := s.Verdict(); w != "" {
		v.Word = strings.ToUpper(w)
		// The badge says the verdict; the text goes on from the exit code.
		v.Text = strings.TrimPrefix(v.Text, v.Word+" · ")
	}
	if worst != "" {
		v.Text += " · worst: " + worst
	}
	if n := s.GateNote(); n != "" {
		v.Text += " · " + n
	}
	switch {
	case s.Clean:
		v.Class = "good"
	case s.Verdict() == findings.VerdictError || s.Unread:
		v.Class = "bad error"
	case s.Verdict() == findings.VerdictFail || s.Verdict() == "" && open > 0:
		v.Class = "bad"
		if worst != "" {
			v.Class += " sev-" + worst
		}
	case s.Unaccepted > 0:
		v.Class = "bad"
	default:
		v.Class = "warn"
	}
	return v
}

// htmlRunPill says whether the scan read everything: "complete" (green)
// only when no gap is left, accepted or not, and the target was read.
func htmlRunPill(s runState, scan bool) htmlPill {
	switch {
	case !scan:
		return htmlPill{"skip", "no scan"}
	case s.Unread:
		return htmlPill{"bad", "INCOMPLETE: the target could not be fully read"}
	case s.Unaccepted > 0:
		return htmlPill{"bad", fmt.Sprintf("INCOMPLETE: %d gap%s not accepted", s.Unaccepted, htmlPlural(s.Unaccepted))}
	case len(s.Gaps) > 0:
		return htmlPill{"warn", fmt.Sprintf("complete except %d accepted gap%s", len(s.Gaps), htmlPlural(len(s.Gaps)))}
	}
	return htmlPill{"ok", "complete"}
}

func htmlPlural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func htmlComplianceOf(c *Compliance) *htmlCompliance {
	h := &htmlCompliance{Threshold: c.Threshold,
		Buckets: int64(c.Buckets), BucketsCompliant: int64(c.BucketsCompliant),
		Objects: c.Objects, ObjectsCompliant: c.ObjectsCompliant,
		Bytes: htmlBytes(c.Bytes), BytesCompliant: htmlBytes(c.BytesCompliant)}
	rate := func(a, b int64) (string, string) {
		switch {
		case b == 0:
			return "—", ""
		case a >= b:
			return htmlPct(a, b), "ok"
		}
		return htmlPct(a, b), "badn"
	}
	h.BucketsPct, h.BucketsClass = rate(h.BucketsCompliant, h.Buckets)
	h.ObjectsPct, h.ObjectsClass = rate(c.ObjectsCompliant, c.Objects)
	h.BytesPct, h.BytesClass = rate(c.BytesCompliant, c.Bytes)
	return h
}

// htmlBytes is n in binary units ("1.5 MiB").
func htmlBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}

// htmlFindingOf is f as the page shows it; without full, only what its
// summary line shows.
func htmlFindingOf(f *findings.Finding, meta *findings.RuleMeta, full bool) htmlFinding {
	h := htmlFinding{Finding: *f, Agg: htmlAggregateOf(f), Sev: f.Severity.String(), Anchor: "f-" + f.ID}
	if h.Sev == "" {
		h.Sev = "unknown"
	}
	if f.Waiver != nil {
		h.WaiverSt = f.Waiver.State
		if h.WaiverSt == "" {
			h.WaiverSt = "active"
		}
	}
	if !full {
		return h
	}
	if len(f.Observed) > 0 {
		h.Observed = htmlJSON(f.Observed)
	}
	if len(f.Expected) > 0 {
		h.Expected = htmlJSON(f.Expected)
	}
	for _, e := range f.Evidence {
		he := htmlEvidence{Evidence: e}
		if len(e.Data) > 0 {
			he.JSON = htmlJSON(e.Data)
		}
		h.Evidence = append(h.Evidence, he)
	}
	if meta != nil {
		h.RuleDesc = meta.Description
	}
	r := f.Resource
	for _, kv := range []htmlKVS{
		{"type", r.Type}, {"provider", r.Provider}, {"region", r.Region}, {"bucket", r.Bucket},
		{"key", r.Key}, {"version id", r.VersionID}, {"KMS key id", KeyID(f)},
	} {
		if kv.Value != "" {
			h.ResFields = append(h.ResFields, kv)
		}
	}
	h.Search = strings.ToLower(strings.Join([]string{f.Rule, f.Title, f.Resource.UID, f.Message, f.Category, f.ID}, " "))
	return h
}

func htmlCoverageOf(m *Model) htmlCoverage {
	c := m.Coverage
	h := htmlCoverage{
		Buckets: c.Buckets, BucketsRead: c.BucketsRead,
		ObjectsListed: c.ObjectsListed, ObjectsInspected: c.ObjectsInspected,
		KeysReferenced: c.KeysReferenced, KeysDescribed: c.KeysDescribed,
		ErrorCount: len(c.Errors), ErrorsOmitted: c.ErrorsOmitted, Retries: c.Retries,
	}
	if c.ListBucketsError != nil {
		h.ListBucketsError = c.ListBucketsError.Message
		if c.ListBucketsError.Code != "" {
			h.ListBucketsError = c.ListBucketsError.Code + ": " + h.ListBucketsError
		}
	}
	const maxErrors = 200
	for i, e := range c.Errors {
		if i == maxErrors {
			break
		}
		h.Errors = append(h.Errors, htmlCovError{Scope: e.Scope, Resource: e.Resource, Code: e.Code,
			Message: e.Message, Status: e.StatusCode, Attempts: e.Attempts})
	}
	h.BucketsPct, h.BucketsFull = htmlRatio(int64(c.BucketsRead), int64(c.Buckets))
	h.ObjectsPct, h.ObjectsFull = htmlRatio(c.ObjectsInspected, c.ObjectsListed)
	h.KeysPct, h.KeysFul = htmlRatio(int64(c.KeysDescribed), int64(c.KeysReferenced))
	return h
}

func htmlRatio(a, b int64) (string, bool) {
	if b == 0 {
		return "—", true
	}
	return htmlPct(a, b), a >= b
}

// htmlBucketFindings caps the findings repeated, with their evidence, in a
// bucket's drill-down, so that a large estate keeps the file usable.
const htmlBucketFindings = 100

func htmlBucketsOf(stats []BucketStat, fs []htmlFinding, dialect string, compliance bool) []htmlBucket {
	byBucket := map[string][]*htmlFinding{}
	for i := range fs {
		if b := fs[i].Resource.Bucket; b != "" {
			byBucket[b] = append(byBucket[b], &fs[i])
		}
	}
	// Which buckets the page lists is decided on a few bytes a bucket
	// (open findings and the worst of them); only the listed ones (at
	// most htmlMaxBuckets) get a whole view. Building one for every
	// bucket cost about 600 bytes a bucket at once (100,000 buckets: 60
	// MB) for a page that shows 1,000.
	ranks := make([]htmlRank, len(stats))
	for i := range stats {
		open, _, worst := htmlOpenWorst(byBucket[stats[i].Name], stats[i].WorstOpen)
		ranks[i] = htmlRank{open: open, worst: worst}
	}
	markBucketBodies(ranks)
	listed := listBuckets(ranks)
	out := make([]htmlBucket, 0, len(listed))
	for _, i := range listed {
		s := stats[i]
		b := htmlBucket{Index: i, Stat: s, Findings: byBucket[s.Name], Body: ranks[i].body}
		if len(s.Encryption) > 0 {
			labels := map[string]int64{}
			for _, e := range s.Encryption {
				labels[EncryptionLabel(dialect, e.Method, e.Algorithm, e.DataEncryption)] += e.Objects
			}
			if s.Unknown > 0 {
				labels[EncryptionLabel(dialect, snapshot.MethodUnknown, "", "")] += s.Unknown
			}
			for k, n := range labels {
				b.Methods = append(b.Methods, htmlKV{k, n})
			}
		} else {
			// A report.json from before Encryption: methods only.
			labels := map[string]int64{}
			for k, n := range s.ByMethod {
				labels[EncryptionLabel(dialect, k, "", "")] += int64(n)
			}
			for k, n := range labels {
				b.Methods = append(b.Methods, htmlKV{k, n})
			}
		}
		sort.Slice(b.Methods, func(i, j int) bool {
			if b.Methods[i].Value != b.Methods[j].Value {
				return b.Methods[i].Value > b.Methods[j].Value
			}
			return b.Methods[i].Key < b.Methods[j].Key
		})
		b.Open, b.Waived, b.Worst = htmlOpenWorst(b.Findings, s.WorstOpen)
		b.NFindings = len(b.Findings)
		if len(b.Findings) > htmlBucketFindings {
			b.More = len(b.Findings) - htmlBucketFindings
			b.Findings = b.Findings[:htmlBucketFindings]
		}
		b.EncPct = htmlPct(s.Encrypted, s.Objects)
		if compliance {
			b.CompliantPct = htmlPct(s.ObjectsCompliant, s.Objects)
		}
		for _, k := range s.Keys {
			b.Keys = append(b.Keys, htmlKey{BucketKey: k, Class: htmlKeyClass(k.State)})
		}
		b.Default, b.Status = htmlBucketPills(&b, dialect, compliance)
		if tot := s.Encrypted + s.Unencrypted + s.Unknown; tot > 0 {
			x := 0.0
			for _, p := range []struct {
				n     int64
				class string
			}{{s.Encrypted, htmlEncClass(&b, compliance)}, {s.Unencrypted, "unenc"}, {s.Unknown, "unknown"}} {
				if p.n > 0 {
					w := htmlR(float64(p.n) * 100 / float64(tot))
					b.Meter = append(b.Meter, htmlRect{X: x, W: w, Class: p.class})
					x = htmlR(x + w)
				}
			}
		}
		out = append(out, b)
	}
	return out
}

// htmlRank is what decides whether the page lists a bucket and opens it
// to a drill-down.
type htmlRank struct {
	open  int
	worst string
	body  bool
}

// htmlOpenWorst counts a bucket's open and waived findings (fs, sorted by
// severity) and names the worst open one, counting also the open findings
// on the keys it uses (worstOpen: BuildModel records them in WorstOpen).
func htmlOpenWorst(fs []*htmlFinding, worstOpen string) (open, waived int, worst string) {
	for _, f := range fs {
		if f.Suppressed {
			waived++
			continue
		}
		open++
		if worst == "" {
			worst = f.Sev // findings are sorted by severity
		}
	}
	if htmlSevRank(worstOpen) > htmlSevRank(worst) {
		worst = worstOpen
	}
	return open, waived, worst
}

// markBucketBodies gives a drill-down to every bucket, or, when there are
// more than htmlBucketBodies, to the worst of them (open findings by
// severity, then how many) and to those the bucket chart draws.
func markBucketBodies(bs []htmlRank) {
	if len(bs) <= htmlBucketBodies {
		for i := range bs {
			bs[i].body = true
		}
		return
	}
	order := make([]int, len(bs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		a, b := &bs[order[x]], &bs[order[y]]
		if ra, rb := htmlSevRank(a.worst), htmlSevRank(b.worst); ra != rb {
			return ra > rb
		}
		return a.open > b.open
	})
	for _, i := range order[:htmlBucketBodies] {
		bs[i].body = true
	}
	for i := 0; i < len(bs) && i < htmlBucketChartMax; i++ {
		bs[i].body = true
	}
}

// listBuckets returns the positions of the buckets the page lists: every
// bucket with a drill-down and, in order, the others while there is room
// for htmlMaxBuckets.
func listBuckets(bs []htmlRank) []int {
	room := htmlMaxBuckets
	for i := range bs {
		if bs[i].body {
			room--
		}
	}
	out := make([]int, 0, min(len(bs), htmlMaxBuckets))
	for i := range bs {
		if bs[i].body || room > 0 {
			if !bs[i].body {
				room--
			}
			out = append(out, i)
		}
	}
	return out
}

// htmlEncClass is the colour of a bucket's encrypted objects: the worst
// open finding's when there is one (an encrypted object that cannot be
// decrypted is not "green"), "unverified" when they are not all known to
// be compliant, "enc" (green) otherwise.
func htmlEncClass(b *htmlBucket, compliance bool) string {
	switch {
	case b.Worst != "":
		return "sev-" + b.Worst
	case compliance && b.Stat.ObjectsCompliant < b.Stat.Encrypted:
		return "unverified"
	case !compliance && b.Waived > 0:
		return "unverified"
	}
	return "enc"
}

// htmlBucketPills are a bucket's default-rule badge (never green: a
// default rule alone proves nothing) and its status badge (green only for
// a compliant bucket, else the worst open finding's colour).
func htmlBucketPills(b *htmlBucket, dialect string, compliance bool) (def, status htmlPill) {
	s := &b.Stat
	def = htmlPill{"neutral", "default: " + EncryptionLabel(dialect, s.DefaultMethod, s.DefaultAlgorithm, s.DefaultDataEncryption)}
	switch s.DefaultMethod {
	case "", snapshot.MethodNone:
		def = htmlPill{"bad", "no default encryption"}
	case snapshot.MethodUnknown:
		def = htmlPill{"warn", "default: unknown"}
	}
	for _, k := range s.Keys {
		if k.Default && k.State != "Enabled" {
			def.Class = htmlKeyClass(k.State)
			def.Text += " · key " + k.State
		}
	}
	switch {
	case b.Open > 0:
		status = htmlPill{"sev-" + b.Worst, fmt.Sprintf("%d open · worst %s", b.Open, b.Worst)}
	case b.Worst != "":
		status = htmlPill{"sev-" + b.Worst, "key finding · " + b.Worst}
	case compliance && s.Compliant:
		status = htmlPill{"ok", "compliant"}
	case compliance:
		status = htmlPill{"warn", "not compliant: " + htmlWhyNot(s)}
	default:
		status = htmlPill{"neutral", "0 open"}
	}
	return def, status
}

// htmlWhyNot says why a bucket without open findings is not compliant.
func htmlWhyNot(s *BucketStat) string {
	var why []string
	switch s.DefaultMethod {
	case "", snapshot.MethodNone:
		why = append(why, "no default rule")
	case snapshot.MethodUnknown:
		why = append(why, "default rule unread")
	}
	for _, k := range s.Keys {
		if k.State != "Enabled" {
			why = append(why, "key "+k.KeyID+" "+k.State)
		}
	}
	if s.Unknown > 0 {
		why = append(why, htmlNum(s.Unknown)+" objects unknown")
	}
	if s.Unencrypted > 0 {
		why = append(why, htmlNum(s.Unencrypted)+" unencrypted")
	}
	if len(why) == 0 {
		why = append(why, "state not fully read")
	}
	return strings.Join(why, ", ")
}

func htmlKeyClass(state string) string {
	switch state {
	case "Enabled":
		return "neutral"
	case KeyStateUnknown:
		return "warn"
	}
	return "bad"
}

func htmlSevRank(s string) int {
	for i, x := range htmlSevOrder {
		if x == s {
			return len(htmlSevOrder) - i
		}
	}
	return 0
}

// htmlFrameworksOf groups the controls by framework and version, each
// control listing only the rules mapped to it and their findings; rules
// mapped to no control (the coverage rules) are returned apart. A finding
// counts under the controls of its rule as the document describes it
// (rules lists every rule, see rulesOf).
func htmlFrameworksOf(rules []findings.RuleMeta, fs []htmlFinding) ([]htmlFramework, []*htmlRuleRow) {
	type fwKey struct{ fw, version string }
	type ctlKey struct {
		fwKey
		id string
	}
	ctrls := map[ctlKey]*htmlControl{}
	fwOrder := map[fwKey][]ctlKey{}
	var fws []fwKey
	byRule := map[string][]*htmlFinding{}
	for i := range fs {
		byRule[fs[i].Rule] = append(byRule[fs[i].Rule], &fs[i])
	}
	var none []*htmlRuleRow
	for _, r := range rules {
		if len(r.Controls) == 0 {
			row := &htmlRuleRow{ID: r.ID, Title: r.Title, Category: r.Category, Findings: byRule[r.ID]}
			for _, f := range row.Findings {
				if f.Suppressed {
					row.Suppressed++
				} else {
					row.Open++
				}
			}
			row.Findings, row.NFindings, row.More = capLinks(row.Findings)
			none = append(none, row)
			continue
		}
		seen := map[ctlKey]bool{}
		for _, c := range r.Controls {
			k := ctlKey{fwKey{c.Framework, c.Version}, c.ID}
			if seen[k] {
				continue
			}
			seen[k] = true
			x := ctrls[k]
			if x == nil {
				x = &htmlControl{ID: c.ID, Title: c.Title}
				ctrls[k] = x
				if _, ok := fwOrder[k.fwKey]; !ok {
					fws = append(fws, k.fwKey)
				}
				fwOrder[k.fwKey] = append(fwOrder[k.fwKey], k)
			}
			if x.Title == "" {
				x.Title = c.Title
			}
			x.Rules = htmlAppendUnique(x.Rules, r.ID)
			for _, f := range byRule[r.ID] {
				x.Findings = append(x.Findings, f)
				if f.Suppressed {
					x.Suppressed++
				} else {
					x.Open++
				}
			}
		}
	}
	var out []htmlFramework
	for _, k := range fws {
		fw := htmlFramework{Name: strings.TrimSpace(k.fw + " " + k.version)}
		if k.fw == "" {
			fw.Name = strings.TrimSpace("(no framework) " + k.version)
		}
		for _, ck := range fwOrder[k] {
			c := ctrls[ck]
			c.Findings, c.NFindings, c.More = capLinks(c.Findings)
			sort.Strings(c.Rules)
			fw.Controls = append(fw.Controls, c)
			fw.Open += c.Open
			if c.Open > 0 {
				fw.Failing++
			}
		}
		sort.Slice(fw.Controls, func(i, j int) bool { return htmlNaturalLess(fw.Controls[i].ID, fw.Controls[j].ID) })
		out = append(out, fw)
	}
	rank := func(name string) int {
		for i, p := range htmlFrameworkOrder {
			if strings.HasPrefix(name, p) {
				return i
			}
		}
		return len(htmlFrameworkOrder)
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i].Name), rank(out[j].Name)
		if ri != rj {
			return ri < rj
		}
		return out[i].Name < out[j].Name
	})
	return out, none
}

func htmlAppendUnique(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	return append(ss, s)
}

// htmlNaturalLess orders control ids such as 2.1.1 < 5.8 < 5.9 < 5.10.
func htmlNaturalLess(a, b string) bool {
	as, bs := strings.FieldsFunc(a, htmlIDSep), strings.FieldsFunc(b, htmlIDSep)
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, ex := strconv.Atoi(as[i])
		y, ey := strconv.Atoi(bs[i])
		if ex == nil && ey == nil {
			if x != y {
				return x < y
			}
			continue
		}
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	if len(as) != len(bs) {
		return len(as) < len(bs)
	}
	return a < b
}

func htmlIDSep(r rune) bool { return r == '.' || r == '-' || r == ' ' }

// htmlConformanceOf counts the scenarios by their own statuses, so the
// page agrees with the scenario list whatever the run's totals say:
// passed; failed (and the undefined, pending and ambiguous of runs from
// before the run became strict); skipped, with its reason; not run (a dry
// run); any other status under its own name, neither passed nor failed.
// The scenarios that cannot apply to the run are not in the list: they
// are shown as not applicable with their reasons. When the run's totals
// disagree with its scenarios, the page says so.
func htmlConformanceOf(run *results.Run) *htmlConformance {
	c := &htmlConformance{Run: run, Total: len(run.Scenarios), NotApplicable: run.NotApplicable, Exclusions: run.NotApplicableBy}
	idx := map[string]int{}
	others := map[string]int64{}
	for _, sc := range run.Scenarios {
		i, ok := idx[sc.Feature]
		if !ok {
			i = len(c.Features)
			idx[sc.Feature] = i
			c.Features = append(c.Features, htmlFeature{Name: sc.Feature})
		}
		f := &c.Features[i]
		hs := htmlScenario{Scenario: sc}
		switch sc.Status {
		case results.StatusPassed:
			f.Passed++
			c.Passed++
			hs.Class = "passed"
		case results.StatusSkipped:
			f.Skipped++
			c.Skipped++
			hs.Class = "skipped"
			hs.Reason = sc.Error
		case results.StatusNotRun:
			f.NotRun++
			c.NotRun++
			hs.Class = "notrun"
			hs.Reason = sc.Error
		case results.StatusFailed, "undefined", "pending", "ambiguous", "":
			f.Failed++
			c.Failed++
			hs.Class = "failed"
			hs.Bad = true
		default:
			f.Others++
			others[sc.Status]++
			hs.Class = "other"
			hs.Reason = sc.Error
		}
		f.Scenarios = append(f.Scenarios, hs)
	}
	for k, n := range others {
		c.Others = append(c.Others, htmlKV{k, n})
	}
	sort.Slice(c.Others, func(i, j int) bool { return c.Others[i].Key < c.Others[j].Key })
	if run.Passed != c.Passed || run.Failed != c.Failed || run.Skipped != c.Skipped || run.NotRun != c.NotRun || len(c.Others) > 0 {
		c.Disagree = fmt.Sprintf("The run's own totals (%d passed, %d failed, %d skipped, %d not run) disagree with its %d scenarios; the counts here are the scenarios'.",
			run.Passed, run.Failed, run.Skipped, run.NotRun, c.Total)
	}
	return c
}

// ---- charts ----

// htmlChart is the geometry of one inline SVG chart. Data marks (bars,
// series paths, points) carry their value so the page and its tests can
// tell data from decoration.
type htmlChart struct {
	ID, Title, Desc string
	W, H            float64
	Tracks          []htmlRect // decoration behind bars
	Bars            []htmlRect
	Grid            []htmlLine
	Paths           []htmlPath
	Dots            []htmlDot
	Texts           []htmlText
	Legend          []htmlLegend
	Empty           string
}

type htmlRect struct {
	X, Y, W, H float64
	Class      string
	Title      string
	Value      int64
	Target     string // id of the element a click opens
}

type htmlLine struct{ X1, Y1, X2, Y2 float64 }

type htmlPath struct {
	D, Class, Title string
}

type htmlDot struct {
	X, Y  float64
	Class string
	Title string
}

type htmlText struct {
	X, Y   float64
	Anchor string
	Class  string
	Text   string
	Title  string
}

type htmlLegend struct{ Class, Label string }

type htmlSeg struct {
	Value int64
	Class string
	Title string
}

type htmlBarRow struct {
	Label, Title string
	Segs         []htmlSeg
	Note         string
	Target       string
}

const (
	htmlChartW = 560.0
	htmlRowH   = 26.0
)

func htmlR(f float64) float64 { return math.Round(f*10) / 10 }

// htmlBarChart lays out horizontal (stacked) bars, one row each. With
// percent, every row fills the width in proportion to its own total;
// otherwise bars share the scale of the largest row.
func htmlBarChart(id, title string, rows []htmlBarRow, labelW float64, percent bool) htmlChart {
	c := htmlChart{ID: id, Title: title, W: htmlChartW}
	const top, valueW = 6.0, 78.0
	barX := labelW + 8
	barMax := htmlChartW - barX - valueW
	var max int64
	for _, r := range rows {
		var t int64
		for _, s := range r.Segs {
			t += s.Value
		}
		if t > max {
			max = t
		}
	}
	for i, r := range rows {
		y := top + float64(i)*htmlRowH
		label := r.Label
		if n := int(labelW / 7); len([]rune(label)) > n {
			label = string([]rune(label)[:n-1]) + "…"
		}
		c.Texts = append(c.Texts, htmlText{X: labelW, Y: htmlR(y + htmlRowH/2 + 4), Anchor: "end", Class: "lbl", Text: label, Title: r.Title})
		c.Tracks = append(c.Tracks, htmlRect{X: barX, Y: y + 4, W: barMax, H: htmlRowH - 8, Class: "track", Target: r.Target})
		var total int64
		for _, s := range r.Segs {
			total += s.Value
		}
		scale := 0.0
		if percent && total > 0 {
			scale = barMax / float64(total)
		} else if !percent && max > 0 {
			scale = barMax / float64(max)
		}
		x := barX
		for _, s := range r.Segs {
			if s.Value <= 0 {
				continue
			}
			w := float64(s.Value) * scale
			if w < 2 {
				w = 2 // keep a tiny non-zero share visible
			}
			c.Bars = append(c.Bars, htmlRect{X: htmlR(x), Y: y + 4, W: htmlR(w), H: htmlRowH - 8,
				Class: s.Class, Title: s.Title, Value: s.Value, Target: r.Target})
			x += w
		}
		end := x
		if percent {
			end = barX + barMax
		}
		c.Texts = append(c.Texts, htmlText{X: htmlR(end + 6), Y: htmlR(y + htmlRowH/2 + 4), Anchor: "start", Class: "val", Text: r.Note})
	}
	c.H = top*2 + float64(len(rows))*htmlRowH
	return c
}

func htmlSeverityChart(sev []htmlSevCount) htmlChart {
	rows := make([]htmlBarRow, 0, len(sev))
	hasAny := false
	for _, s := range sev {
		note := strconv.Itoa(s.Open)
		if s.Suppressed > 0 {
			note += fmt.Sprintf(" (+%d waived)", s.Suppressed)
		}
		rows = append(rows, htmlBarRow{Label: s.Name, Title: s.Name, Note: note, Segs: []htmlSeg{
			{Value: int64(s.Open), Class: "sev-" + s.Name, Title: fmt.Sprintf("%s: %d open", s.Name, s.Open)},
			{Value: int64(s.Suppressed), Class: "waived", Title: fmt.Sprintf("%s: %d waived", s.Name, s.Suppressed)},
		}})
		hasAny = hasAny || s.Open+s.Suppressed > 0
	}
	c := htmlBarChart("chart-severity", "Findings by severity", rows, 70, false)
	c.Legend = []htmlLegend{{"sev-critical", "critical"}, {"sev-high", "high"}, {"sev-medium", "medium"},
		{"sev-low", "low"}, {"sev-info", "info"}, {"waived", "waived"}}
	if !hasAny {
		c.Empty = "No findings."
	}
	return c
}

func htmlRuleChartOf(meta []findings.RuleMeta, fs []htmlFinding) htmlChart {
	type rc struct {
		id, title, sev  string
		sevN            findings.Severity
		open, suppresed int
	}
	idx := map[string]*rc{}
	var order []*rc
	for i := range fs {
		f := &fs[i].Finding
		r, ok := idx[f.Rule]
		if !ok {
			r = &rc{id: f.Rule, title: f.Title, sev: f.Severity.String(), sevN: f.Severity}
			idx[f.Rule] = r
			order = append(order, r)
		}
		if f.Suppressed {
			r.suppresed++
		} else {
			r.open++
		}
	}
	for i := range meta {
		if r, ok := idx[meta[i].ID]; ok && meta[i].Title != "" {
			r.title = meta[i].Title
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.open != b.open {
			return a.open > b.open
		}
		if a.sevN != b.sevN {
			return a.sevN > b.sevN
		}
		return a.id < b.id
	})
	const maxRules = 20
	rows := make([]htmlBarRow, 0, len(order))
	for i, r := range order {
		if i == maxRules {
			break
		}
		if r.sev == "" {
			r.sev = "unknown"
		}
		note := strconv.Itoa(r.open)
		if r.suppresed > 0 {
			note += fmt.Sprintf(" (+%d)", r.suppresed)
		}
		rows = append(rows, htmlBarRow{Label: r.id, Title: r.id + " " + r.title, Note: note, Segs: []htmlSeg{
			{Value: int64(r.open), Class: "sev-" + r.sev, Title: fmt.Sprintf("%s %s: %d open (%s)", r.id, r.title, r.open, r.sev)},
			{Value: int64(r.suppresed), Class: "waived", Title: fmt.Sprintf("%s: %d waived", r.id, r.suppresed)},
		}})
	}
	c := htmlBarChart("chart-rules", "Findings by rule", rows, 70, false)
	c.Legend = []htmlLegend{{"sev-critical", "critical"}, {"sev-high", "high"}, {"sev-medium", "medium"},
		{"sev-low", "low"}, {"sev-info", "info"}, {"waived", "waived"}}
	if len(order) > maxRules {
		c.Desc = fmt.Sprintf("The %d rules with the most open findings of %d.", maxRules, len(order))
	}
	if len(rows) == 0 {
		c.Empty = "No findings."
	}
	return c
}

// htmlBucketChart draws each bucket's objects as encrypted (in the colour
// its drill-down meter uses: the worst open finding's, when there is one),
// unencrypted and unknown.
// htmlBucketChartMax is how many buckets the bucket chart draws.
const htmlBucketChartMax = 60

func htmlBucketChart(buckets []htmlBucket, total int) htmlChart {
	rows := make([]htmlBarRow, 0, len(buckets))
	for i, b := range buckets {
		if i == htmlBucketChartMax {
			break
		}
		s := b.Stat
		note := htmlNum(s.Objects) + " obj"
		if s.Objects == 0 {
			note = "empty"
		}
		encTitle := fmt.Sprintf("%s: %s encrypted (%s)", s.Name, htmlNum(s.Encrypted), htmlPct(s.Encrypted, s.Objects))
		if b.Worst != "" {
			encTitle += "; worst open finding: " + b.Worst
		}
		rows = append(rows, htmlBarRow{Label: s.Name, Title: s.Name, Note: note, Target: fmt.Sprintf("bucket-%d", b.Index), Segs: []htmlSeg{
			{Value: s.Encrypted, Class: htmlEncClass(&b, b.CompliantPct != ""), Title: encTitle},
			{Value: s.Unencrypted, Class: "unenc", Title: fmt.Sprintf("%s: %s unencrypted (%s)", s.Name, htmlNum(s.Unencrypted), htmlPct(s.Unencrypted, s.Objects))},
			{Value: s.Unknown, Class: "unknown", Title: fmt.Sprintf("%s: %s unknown (%s)", s.Name, htmlNum(s.Unknown), htmlPct(s.Unknown, s.Objects))},
		}})
	}
	c := htmlBarChart("chart-buckets", "Objects per bucket", rows, 150, true)
	c.Legend = []htmlLegend{{"enc", "encrypted, no open finding"}, {"unverified", "encrypted, not verified"},
		{"sev-critical", "encrypted, in the colour of the bucket's worst open finding"}, {"unenc", "unencrypted"}, {"unknown", "unknown"}}
	if total > htmlBucketChartMax {
		c.Desc = fmt.Sprintf("First %d of %d buckets; every bucket is listed below.", htmlBucketChartMax, total)
	}
	if len(rows) == 0 {
		c.Empty = "No buckets."
	}
	return c
}

// htmlAxis picks the y axis of a chart whose largest value is max: a step of
// 1, 2 or 5 times a power of ten, and at most 5 steps up to the top.
func htmlAxis(max int) (top, step int) {
	if max < 1 {
		max = 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			step = m * p
			if n := (max + step - 1) / step; n <= 5 {
				return n * step, step
			}
		}
	}
}

func htmlTrendChart(tr []TrendPoint) htmlChart {
	const w, h = 640.0, 240.0
	const left, right, top, bottom = 44.0, 16.0, 12.0, 40.0
	c := htmlChart{ID: "chart-trend", Title: "Open findings across scans", W: w, H: h}
	max := 0
	for _, p := range tr {
		if p.Open > max {
			max = p.Open
		}
		for _, n := range p.BySeverity {
			if n > max {
				max = n
			}
		}
	}
	ymax, ystep := htmlAxis(max)
	pw, ph := w-left-right, h-top-bottom
	xs := func(i int) float64 { return htmlR(left + float64(i)*pw/float64(len(tr)-1)) }
	ys := func(v int) float64 { return htmlR(top + ph - float64(v)*ph/float64(ymax)) }
	for v := 0; v <= ymax; v += ystep {
		y := ys(v)
		c.Grid = append(c.Grid, htmlLine{left, y, w - right, y})
		c.Texts = append(c.Texts, htmlText{X: left - 6, Y: y + 4, Anchor: "end", Class: "axis", Text: strconv.Itoa(v)})
	}
	step := 1
	if len(tr) > 8 {
		step = (len(tr) + 7) / 8
	}
	for i, p := range tr {
		if i%step != 0 && i != len(tr)-1 {
			continue
		}
		label := p.At.UTC().Format("Jan 2")
		if p.At.IsZero() {
			label = "#" + strconv.Itoa(i+1)
		}
		anchor := "middle"
		if i == 0 {
			anchor = "start"
		} else if i == len(tr)-1 {
			anchor = "end"
		}
		c.Texts = append(c.Texts, htmlText{X: xs(i), Y: h - bottom + 18, Anchor: anchor, Class: "axis", Text: label, Title: p.ScanID})
	}
	series := []struct{ name, class string }{{"open", "open"}}
	for _, s := range htmlSevOrder {
		for _, p := range tr {
			if p.BySeverity[s] > 0 {
				series = append(series, struct{ name, class string }{s, "sev-" + s})
				break
			}
		}
	}
	for _, s := range series {
		val := func(p TrendPoint) int {
			if s.name == "open" {
				return p.Open
			}
			return p.BySeverity[s.name]
		}
		var d strings.Builder
		for i, p := range tr {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%g %g ", cmd, xs(i), ys(val(p)))
		}
		c.Paths = append(c.Paths, htmlPath{D: strings.TrimSpace(d.String()), Class: "series " + s.class, Title: s.name})
		for i, p := range tr {
			c.Dots = append(c.Dots, htmlDot{X: xs(i), Y: ys(val(p)), Class: s.class,
				Title: fmt.Sprintf("%s — %s: %d %s", p.ScanID, htmlTime(p.At), val(p), s.name)})
		}
		c.Legend = append(c.Legend, htmlLegend{s.class, s.name})
	}
	return c
}

// ---- template helpers ----

// htmlJSON pretty-prints v. It leaves <, > and & as they are (html/template
// escapes the result), so keys and XML bodies read as they were captured.
func htmlJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func htmlTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func htmlNum(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func htmlPct(a, b int64) string {
	if b <= 0 {
		return "—"
	}
	p := float64(a) * 100 / float64(b)
	if p > 99.9 && a < b {
		return ">99.9%"
	}
	if p > 0 && p < 0.1 {
		return "<0.1%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

func htmlDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
