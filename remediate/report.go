package remediate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/snapshot"
)

// ReportSchema is the version of the remediation report (the
// remediation.json of a remediation run's signed report set).
const ReportSchema = "sseaudit.remediation-report/v1"

// Statuses of a planned object after the re-scan.
const (
	StatusResolved = "resolved" // the re-scan finds it as planned (or gone), no planned finding open
	StatusOpen     = "open"     // a planned finding is still open, or the re-scan cannot show it resolved
)

// Report is what a remediation run adds to its signed report set: the
// result of the apply (what changed, before and after; what was skipped
// and why; the defaults set; the unencrypted versions kept) and the
// re-scan's verdict on every planned object.
type Report struct {
	Schema     string     `json:"schema"`
	PlanSHA256 string     `json:"plan_sha256"`
	Plan       Source     `json:"plan_source"`
	Target     Target     `json:"target"`
	Encryption Encryption `json:"encryption"`
	Result     *Result    `json:"result"`
	Rescan     Rescan     `json:"rescan"`
}

// Rescan is the re-scan of the touched buckets and what it shows of each
// planned object.
type Rescan struct {
	ScanID     string    `json:"scan_id"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Complete   bool      `json:"complete"`
	Buckets    []string  `json:"buckets"`
	Targeted   int       `json:"targeted"`
	Resolved   int       `json:"resolved"`
	Open       int       `json:"open"`
	// Objects are the planned objects in plan order.
	Objects []Resolution `json:"objects"`
}

// Resolution is one planned object after the re-scan.
type Resolution struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Findings are the per-object finding ids the plan targeted;
	// StillOpen those of them (or of the same rules) the re-scan reports
	// on the current object.
	Findings  []string `json:"findings"`
	StillOpen []string `json:"still_open,omitempty"`
	Status    string   `json:"status"`
	Reason    string   `json:"reason,omitempty"`
	// Outcome is what apply did (ObjectResult.Outcome).
	Outcome string `json:"outcome"`
	// Now is the current object as the re-scan saw it (nil: not found).
	Now *Seen `json:"now,omitempty"`
}

// Seen is an object as the re-scan recorded it.
type Seen struct {
	VersionID string `json:"version_id,omitempty"`
	ETag      string `json:"etag"`
	Method    string `json:"method"`
	SSE       string `json:"sse,omitempty"`
	KMSKeyID  string `json:"kms_key_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

// TouchedBuckets are the buckets apply set a default of or rewrote in:
// the ones to re-scan.
func TouchedBuckets(p *Plan) []string {
	var out []string
	for _, b := range p.Buckets {
		if b.SetDefault != nil || len(b.Objects) > 0 {
			out = append(out, b.Name)
		}
	}
	return out
}

// Versioned reports whether a touched bucket keeps versions (the re-scan
// then inspects every version, to show the originals kept).
func Versioned(p *Plan) bool {
	for _, b := range p.Buckets {
		if b.Versioning != "" && !strings.EqualFold(b.Versioning, "Off") || len(b.Noncurrent) > 0 {
			return true
		}
	}
	return false
}

// Rewrites are the journalled rewrites of r for history (copied objects
// only: skipped and failed ones were not changed).
func Rewrites(r *Result, planSHA string) []history.Rewrite {
	var out []history.Rewrite
	for _, o := range r.Objects {
		if (o.Outcome != OutcomeRewritten && o.Outcome != OutcomeUnverified) || o.Before == nil || o.After == nil {
			continue
		}
		out = append(out, history.Rewrite{Bucket: o.Bucket, Key: o.Key, At: o.DoneAt, Plan: planSHA,
			Before: history.RewriteState{VersionID: o.Before.VersionID, ETag: o.Before.ETag, SSE: o.Before.SSE, KMSKeyID: o.Before.KMSKeyID},
			After:  history.RewriteState{VersionID: o.After.VersionID, ETag: o.After.ETag, SSE: o.After.SSE, KMSKeyID: o.After.KMSKeyID}})
	}
	return out
}

// Resolve judges every planned object against the re-scan written in dir
// (its snapshot.json, findings.json and AffectedFile): resolved when the
// current object is encrypted at least as planned (or no longer exists)
// and none of its planned findings, nor another finding of the same
// rules, is open on it; open otherwise, with the reason.
func Resolve(p *Plan, r *Result, dir string) (*Rescan, error) {
	snapPath := filepath.Join(dir, "snapshot.json")
	sum, err := snapshot.ReadHeaders(snapPath)
	if err != nil {
		return nil, fmt.Errorf("remediate: the re-scan's snapshot: %w", err)
	}
	rs := &Rescan{ScanID: sum.Provenance.ScanID, StartedAt: sum.Provenance.StartedAt, FinishedAt: sum.FinishedAt,
		Complete: sum.Complete, Buckets: TouchedBuckets(p), Objects: []Resolution{}}
	type bk struct{ bucket, key string }
	planned := map[bk]bool{}
	for _, b := range p.Buckets {
		for _, o := range b.Objects {
			planned[bk{b.Name, o.Key}] = true
		}
	}
	current := map[bk]*snapshot.Object{}
	read := map[string]bool{}
	for _, b := range sum.Buckets {
		if b.ListError == nil {
			read[b.Name] = true
		}
	}
	err = snapshot.StreamObjects(snapPath, true, snapshot.ObjectVisitor{Object: func(_ int, _ []byte, _ int64, o *snapshot.Object) error {
		if !o.Noncurrent && planned[bk{o.Bucket, o.Key}] {
			oc := *o
			current[bk{o.Bucket, o.Key}] = &oc
		}
		return nil
	}})
	if err != nil {
		return nil, fmt.Errorf("remediate: the re-scan's snapshot: %w", err)
	}
	// Open per-object findings on the current planned objects. A planned
	// finding id still among them is unresolved; on a versioned bucket the
	// rewritten object is a new version (another id), which the method
	// check below judges.
	open := map[bk][]string{}
	f, err := os.Open(filepath.Join(dir, findings.AffectedFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("remediate: the re-scan's object findings: %w", err)
	default:
		err = findings.ReadAffected(f, func(a *findings.AffectedObject) error {
			if !a.Suppressed && !a.Noncurrent && planned[bk{a.Bucket, a.Key}] {
				open[bk{a.Bucket, a.Key}] = append(open[bk{a.Bucket, a.Key}], a.ID)
			}
			return nil
		})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("remediate: the re-scan's object findings: %w", err)
		}
	}
	outcome := map[bk]string{}
	for _, o := range r.Objects {
		outcome[bk{o.Bucket, o.Key}] = o.Outcome
	}
	for _, b := range p.Buckets {
		for _, ob := range b.Objects {
			k := bk{b.Name, ob.Key}
			res := Resolution{Bucket: b.Name, Key: ob.Key, Findings: ob.Findings, Outcome: outcome[k], Status: StatusResolved}
			for _, id := range open[k] {
				if slices.Contains(ob.Findings, id) {
					res.StillOpen = append(res.StillOpen, id)
				}
			}
			o := current[k]
			switch {
			case !read[b.Name]:
				res.Status, res.Reason = StatusOpen, "the re-scan could not read the bucket"
			case o == nil:
				res.Reason = "no longer exists"
			case o.Error != nil:
				res.Now = &Seen{VersionID: o.VersionID, ETag: o.ETag, Error: o.Error.Message}
				res.Status, res.Reason = StatusOpen, "the re-scan could not read the object: "+o.Error.Message
			default:
				res.Now = &Seen{VersionID: o.VersionID, ETag: o.ETag, Method: o.Method, SSE: o.SSE, KMSKeyID: o.KMSKeyID}
				if p.Encryption.weaker(o.Method, o.KMSKeyID) {
					res.Status, res.Reason = StatusOpen, fmt.Sprintf("still %s, planned %s", o.Method, describe(p.Encryption))
				}
			}
			if len(res.StillOpen) > 0 {
				res.Status = StatusOpen
				if res.Reason == "" {
					res.Reason = "the re-scan still reports " + strings.Join(res.StillOpen, ", ")
				}
			}
			if res.Status == StatusOpen && res.Outcome == OutcomeSkipped {
				res.Reason += " (skipped by apply)"
			}
			rs.Targeted++
			if res.Status == StatusOpen {
				rs.Open++
			} else {
				rs.Resolved++
			}
			rs.Objects = append(rs.Objects, res)
		}
	}
	return rs, nil
}

// WriteReport writes rep as indented JSON to jsonPath and as a Markdown
// summary a reviewer reads to mdPath.
func WriteReport(jsonPath, mdPath string, rep *Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("remediate: encode the report: %w", err)
	}
	if err := os.WriteFile(jsonPath, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("remediate: write the report: %w", err)
	}
	if err := os.WriteFile(mdPath, []byte(rep.Markdown()), 0o644); err != nil {
		return fmt.Errorf("remediate: write the report: %w", err)
	}
	return nil
}

// Markdown renders rep for a reviewer.
func (rep *Report) Markdown() string {
	var b strings.Builder
	r, rs := rep.Result, rep.Rescan
	verdict := "every planned finding is resolved"
	if rs.Open > 0 {
		verdict = fmt.Sprintf("%d planned object(s) still OPEN", rs.Open)
	}
	fmt.Fprintf(&b, "# Remediation of %s %s\n\n", rep.Target.Dialect, rep.Target.Endpoint)
	fmt.Fprintf(&b, "Plan sha256 `%s`, made from scan `%s` (report %s, signed by key %s). Encryption given: %s.\n\n",
		rep.PlanSHA256, rep.Plan.ScanID, rep.Plan.ReportDir, rep.Plan.SignerKeyID, describe(rep.Encryption))
	fmt.Fprintf(&b, "**Re-scan `%s`: %s** (%d targeted, %d resolved).\n\n", rs.ScanID, verdict, rs.Targeted, rs.Resolved)
	n := r.Counts
	fmt.Fprintf(&b, "Apply: %d rewritten, %d skipped, %d failed, %d unverified, %d pending of %d planned.\n\n",
		n.Rewritten, n.Skipped, n.Failed, n.Unverified, n.Pending, n.Planned)
	if len(r.DefaultsSet) > 0 {
		fmt.Fprintf(&b, "Bucket defaults set: %s.\n\n", strings.Join(r.DefaultsSet, ", "))
	}
	b.WriteString("| Bucket | Key | Outcome | Mode | Before (version, SSE, key) | After (version, SSE, key) | Re-scan | Reason |\n|---|---|---|---|---|---|---|---|\n")
	status := map[[2]string]Resolution{}
	for _, o := range rs.Objects {
		status[[2]string{o.Bucket, o.Key}] = o
	}
	for _, o := range r.Objects {
		before, after := "", ""
		if o.Before != nil {
			before = fmt.Sprintf("%s, %s, %s", dash(o.Before.VersionID), dash(o.Before.SSE), dash(o.Before.KMSKeyID))
		}
		if o.After != nil {
			after = fmt.Sprintf("%s, %s, %s", dash(o.After.VersionID), dash(o.After.SSE), dash(o.After.KMSKeyID))
		}
		st := status[[2]string{o.Bucket, o.Key}]
		reason := o.Reason
		if st.Reason != "" {
			reason = strings.TrimSpace(reason + " " + st.Reason)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", md(o.Bucket), md(o.Key), o.Outcome, o.Mode, before, after, st.Status, md(reason))
	}
	if len(r.NoncurrentKept) > 0 {
		b.WriteString("\nUnencrypted versions kept as noncurrent (nothing was deleted):\n\n")
		for _, v := range r.NoncurrentKept {
			fmt.Fprintf(&b, "- %s/%s version %s\n", md(v.Bucket), md(v.Key), md(v.VersionID))
		}
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// md keeps a value from breaking a table row.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}
