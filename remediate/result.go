package remediate

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// ResultSchema is the version of the result document.
const ResultSchema = "sseaudit.remediation-result/v1"

// Object outcomes.
const (
	OutcomePlanned    = "planned"    // dry run
	OutcomeRewritten  = "rewritten"  // copied and verified
	OutcomeUnverified = "unverified" // copied, but verification found a difference (Problems)
	OutcomeSkipped    = "skipped"    // not copied (Reason)
	OutcomeFailed     = "failed"     // the copy failed; the object is as it was (Reason)
	OutcomePending    = "pending"    // not reached (the run stopped)
)

// Result is the result document: what changed, what was skipped and why.
type Result struct {
	Schema     string     `json:"schema"`
	DryRun     bool       `json:"dry_run"`
	Plan       Source     `json:"plan_source"`
	Target     Target     `json:"target"`
	Encryption Encryption `json:"encryption"`
	Counts     Counts     `json:"counts"`
	// DefaultsSet are the buckets whose default encryption was set.
	DefaultsSet []string       `json:"defaults_set"`
	Objects     []ObjectResult `json:"objects"`
	// NoncurrentKept are unencrypted versions left in place as noncurrent:
	// those the plan listed and, in versioned buckets, each rewritten
	// object's original. Nothing was deleted.
	NoncurrentKept []Version `json:"noncurrent_kept"`
}

// Counts sums up the outcomes.
type Counts struct {
	Planned    int `json:"planned"`
	Rewritten  int `json:"rewritten"`
	Unverified int `json:"unverified"`
	Skipped    int `json:"skipped"`
	Failed     int `json:"failed"`
	Pending    int `json:"pending"`
}

// ObjectResult is one planned object's outcome.
type ObjectResult struct {
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Mode    string `json:"mode,omitempty"`
	// Before is the state read before the copy; After the object after it.
	Before    *State   `json:"before,omitempty"`
	After     *After   `json:"after,omitempty"`
	Recovered bool     `json:"recovered,omitempty"`
	Problems  []string `json:"problems,omitempty"`
	// DoneAt is when the copy was journalled as done.
	DoneAt time.Time `json:"done_at,omitzero"`
	// Copies counts the copies journalled as done: 1 for a rewritten
	// object, however often the run was interrupted.
	Copies int `json:"copies"`
}

// Version names one object version.
type Version struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
}

// BuildResult builds the result of p from its journal.
func BuildResult(p *Plan, journalPath string, dryRun bool) (*Result, error) {
	entries, err := ReadJournal(journalPath)
	if err != nil {
		return nil, err
	}
	type last struct {
		op                 string
		start, done, other *Entry
		copies             int
	}
	by := map[[2]string]*last{}
	r := &Result{Schema: ResultSchema, DryRun: dryRun, Plan: p.Source, Target: p.Target, Encryption: p.Encryption,
		DefaultsSet: []string{}, Objects: []ObjectResult{}, NoncurrentKept: []Version{}}
	for i := range entries {
		e := &entries[i]
		if e.Op == OpDefault {
			r.DefaultsSet = append(r.DefaultsSet, e.Bucket)
			continue
		}
		if e.Key == "" {
			continue
		}
		k := [2]string{e.Bucket, e.Key}
		l := by[k]
		if l == nil {
			l = &last{}
			by[k] = l
		}
		l.op = e.Op
		switch e.Op {
		case OpStart:
			l.start = e
		case OpDone:
			l.done = e
			l.copies++
		default:
			l.other = e
		}
	}
	for _, b := range p.Buckets {
		for _, ob := range b.Objects {
			r.Counts.Planned++
			or := ObjectResult{Bucket: b.Name, Key: ob.Key, Outcome: OutcomePending}
			if l := by[[2]string{b.Name, ob.Key}]; l != nil {
				or.Copies = l.copies
				if l.start != nil {
					or.Before, or.Mode = l.start.State, l.start.Mode
				}
				switch l.op {
				case OpDone:
					or.After, or.Recovered, or.Problems, or.DoneAt = l.done.After, l.done.Recovered, l.done.Problems, l.done.Time
					or.Outcome = OutcomeRewritten
					if len(or.Problems) > 0 {
						or.Outcome = OutcomeUnverified
					}
					if or.Before != nil && or.Before.VersionID != "" && or.After != nil && or.After.VersionID != or.Before.VersionID {
						r.NoncurrentKept = append(r.NoncurrentKept, Version{Bucket: b.Name, Key: ob.Key, VersionID: or.Before.VersionID})
					}
				case OpSkip:
					or.Outcome, or.Reason = OutcomeSkipped, l.other.Reason
				case OpFail:
					or.Outcome, or.Reason = OutcomeFailed, l.other.Reason
				}
			}
			switch or.Outcome {
			case OutcomeRewritten:
				r.Counts.Rewritten++
			case OutcomeUnverified:
				r.Counts.Unverified++
			case OutcomeSkipped:
				r.Counts.Skipped++
			case OutcomeFailed:
				r.Counts.Failed++
			default:
				r.Counts.Pending++
			}
			r.Objects = append(r.Objects, or)
		}
		for _, ob := range b.Noncurrent {
			r.NoncurrentKept = append(r.NoncurrentKept, Version{Bucket: b.Name, Key: ob.Key, VersionID: ob.VersionID})
		}
	}
	return r, nil
}

// WriteResult writes r as indented JSON to path.
func WriteResult(path string, r *Result) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("remediate: encode the result: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("remediate: write the result: %w", err)
	}
	return nil
}
