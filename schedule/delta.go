package schedule

import (
	"context"
	"sort"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// FindingRef is the part of a finding a run keeps.
type FindingRef struct {
	ID        string    `json:"id"`
	Rule      string    `json:"rule"`
	Severity  string    `json:"severity"`
	Resource  string    `json:"resource"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Objects counts the open objects of an aggregated finding (0 for
	// any other).
	Objects int64 `json:"objects,omitempty"`
}

// Refs keeps the open (not suppressed) findings of fs.
func Refs(fs []findings.Finding) []FindingRef {
	out := make([]FindingRef, 0, len(fs))
	for _, f := range fs {
		if f.Suppressed {
			continue
		}
		r := FindingRef{ID: f.ID, Rule: f.Rule, Severity: f.Severity.String(),
			Resource: f.Resource.CanonicalUID(), FirstSeen: f.FirstSeen, LastSeen: f.LastSeen}
		if f.Aggregate != nil {
			r.Objects = f.Aggregate.Open
		}
		out = append(out, r)
	}
	return out
}

// ObjectChange is an object whose encryption changed between two runs.
type ObjectChange struct {
	Bucket           string `json:"bucket"`
	Key              string `json:"key"`
	Before           string `json:"before"`
	After            string `json:"after"`
	SameETag         bool   `json:"same_etag"`
	SameLastModified bool   `json:"same_last_modified"`
	// DefaultChanged: the bucket's default rule changed between the runs.
	DefaultChanged bool `json:"default_changed"`
	// Drift: the encryption changed without the object being rewritten
	// (same ETag and LastModified). Existing objects must never change
	// when a default does: a conformance failure.
	Drift bool `json:"drift"`
}

// Delta is what changed since the job's previous successful run.
type Delta struct {
	PreviousRun string       `json:"previous_run,omitempty"`
	New         []FindingRef `json:"new,omitempty"`
	Resolved    []FindingRef `json:"resolved,omitempty"`
	Unchanged   []FindingRef `json:"unchanged,omitempty"`
	// Grown are the aggregated findings (also in Unchanged) with more open
	// objects than in the previous run: objects newly affected.
	Grown             []FindingRef   `json:"grown,omitempty"`
	DefaultsChanged   []string       `json:"defaults_changed,omitempty"`
	EncryptionChanged []ObjectChange `json:"encryption_changed,omitempty"`
	// ConformanceFailures counts drifts.
	ConformanceFailures int `json:"conformance_failures"`
}

// Changed tells whether anything worth notifying changed.
func (d *Delta) Changed() bool {
	return d != nil && (len(d.New) > 0 || len(d.Resolved) > 0 || len(d.Grown) > 0 || len(d.DefaultsChanged) > 0 || len(d.EncryptionChanged) > 0)
}

// ComputeDelta compares cur with prev (nil: first run, every finding is
// new). Snapshots are compared when both paths are set.
func ComputeDelta(ctx context.Context, prev *Run, cur []FindingRef, curSnapshot string, now time.Time) (*Delta, error) {
	d := &Delta{}
	old := map[string]FindingRef{}
	if prev != nil {
		d.PreviousRun = prev.ID
		for _, f := range prev.Findings {
			old[f.ID] = f
		}
	}
	seen := map[string]bool{}
	for _, f := range cur {
		seen[f.ID] = true
		if p, ok := old[f.ID]; ok {
			if f.FirstSeen.IsZero() || (!p.FirstSeen.IsZero() && p.FirstSeen.Before(f.FirstSeen)) {
				f.FirstSeen = p.FirstSeen
			}
			d.Unchanged = append(d.Unchanged, f)
			if f.Objects > p.Objects {
				d.Grown = append(d.Grown, f)
			}
		} else {
			d.New = append(d.New, f)
		}
	}
	for id, f := range old {
		if !seen[id] {
			d.Resolved = append(d.Resolved, f)
		}
	}
	sort.Slice(d.Resolved, func(i, j int) bool { return d.Resolved[i].ID < d.Resolved[j].ID })
	if prev == nil || prev.SnapshotPath == "" || curSnapshot == "" {
		return d, nil
	}
	ruleChanged := map[string]bool{}
	var objs []ObjectChange
	err := snapshot.Diff(ctx, prev.SnapshotPath, curSnapshot, func(c snapshot.Change) error {
		switch c.Kind {
		case snapshot.RuleChanged:
			ruleChanged[c.Bucket] = true
			d.DefaultsChanged = append(d.DefaultsChanged, c.Bucket)
		case snapshot.ObjectEncryptionChanged:
			objs = append(objs, ObjectChange{Bucket: c.Bucket, Key: c.Key, Before: encOf(c.Before), After: encOf(c.After),
				SameETag: c.SameETag, SameLastModified: c.SameLastModified, Drift: c.SameETag && c.SameLastModified})
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	for i := range objs {
		objs[i].DefaultChanged = ruleChanged[objs[i].Bucket]
		if objs[i].Drift {
			d.ConformanceFailures++
		}
	}
	d.EncryptionChanged = objs
	return d, nil
}

func encOf(o *snapshot.Object) string {
	if o == nil {
		return ""
	}
	s := o.SSE
	if s == "" {
		s = "none"
	}
	if o.KMSKeyID != "" {
		s += ":" + o.KMSKeyID
	}
	return s
}
