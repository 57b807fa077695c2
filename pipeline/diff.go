package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/sseaudit/sseaudit/findings"
)

// Kinds of FindingChange.
const (
	FindingNew      = "finding-new"
	FindingResolved = "finding-resolved"
	FindingChanged  = "finding-changed"
)

// FindingChange is a finding that appeared, went away, or changed its
// severity or waiver state between two snapshots.
type FindingChange struct {
	Kind    string            `json:"kind"`
	Finding findings.Finding  `json:"finding"`
	Before  *findings.Finding `json:"before,omitempty"`
	Note    string            `json:"note,omitempty"`
}

// SnapshotPath accepts a snapshot file or a directory holding
// snapshot.json (a scan's or a report's).
func SnapshotPath(p string) (string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", inputErrorf("%s: %v", p, err)
	}
	if st.IsDir() {
		p = filepath.Join(p, SnapshotFile)
		if _, err := os.Stat(p); err != nil {
			return "", inputErrorf("%s: no %s in the directory: give a snapshot file or a scan or report directory", filepath.Dir(p), SnapshotFile)
		}
	}
	return p, nil
}

// DiffFindings evaluates the policies po selects over both snapshots (the
// new one compared with the old for drift, as a scan would) and returns
// the findings that differ, worst first: new, resolved, or changed in
// severity or suppression.
func DiffFindings(ctx context.Context, oldPath, newPath string, po PolicyOptions) ([]FindingChange, error) {
	engine, err := LoadEngine(ctx, po)
	if err != nil {
		return nil, err
	}
	olds, err := engine.EvaluateSnapshot(ctx, oldPath, "", nil)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", oldPath, err)
	}
	news, err := engine.EvaluateSnapshot(ctx, newPath, oldPath, nil)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", newPath, err)
	}
	byID := make(map[string]*findings.Finding, len(olds))
	for i := range olds {
		byID[olds[i].ID] = &olds[i]
	}
	var out []FindingChange
	seen := map[string]bool{}
	for i := range news {
		n := news[i]
		seen[n.ID] = true
		o := byID[n.ID]
		switch {
		case o == nil:
			out = append(out, FindingChange{Kind: FindingNew, Finding: n})
		case o.Severity != n.Severity || o.Suppressed != n.Suppressed:
			note := ""
			if o.Severity != n.Severity {
				note = fmt.Sprintf("severity %s -> %s", o.Severity, n.Severity)
			}
			if o.Suppressed != n.Suppressed {
				if note != "" {
					note += "; "
				}
				note += fmt.Sprintf("suppressed %v -> %v", o.Suppressed, n.Suppressed)
			}
			out = append(out, FindingChange{Kind: FindingChanged, Finding: n, Before: o, Note: note})
		}
	}
	for i := range olds {
		if !seen[olds[i].ID] {
			out = append(out, FindingChange{Kind: FindingResolved, Finding: olds[i]})
		}
	}
	order := map[string]int{FindingNew: 0, FindingChanged: 1, FindingResolved: 2}
	slices.SortStableFunc(out, func(a, b FindingChange) int {
		return cmp.Or(cmp.Compare(order[a.Kind], order[b.Kind]), cmp.Compare(b.Finding.Severity, a.Finding.Severity),
			cmp.Compare(a.Finding.Rule, b.Finding.Rule), cmp.Compare(a.Finding.Resource.UID, b.Finding.Resource.UID))
	})
	return out, nil
}
