package main

import (
	"fmt"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/snapshot"
)

// maxTrendPoints bounds the trend chart: enough for a quarter of daily
// scans without making the report unreadable.
const maxTrendPoints = 90

// recordEvaluation records in hist which findings the scan saw (for
// first-seen times) and its outcome (for trends). The scan itself must
// already be recorded.
func recordEvaluation(hist *history.DB, sum snapshot.Summary, fs []findings.Finding) error {
	ids := make([]string, 0, len(fs))
	o := history.Outcome{BySeverity: map[string]int{}}
	for _, x := range fs {
		ids = append(ids, x.ID)
		if x.Suppressed {
			o.Suppressed++
			continue
		}
		o.Open++
		o.BySeverity[x.Severity.String()]++
	}
	if err := hist.RecordFindings(sum.Provenance.ScanID, sum.FinishedAt, ids); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if err := hist.RecordOutcome(sum.Provenance.ScanID, o); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// trend is the report's trend: the evaluated scans of the target in
// hist, oldest first, ending with the newest (normally the current one).
func trend(hist *history.DB, targetKey string) ([]reports.TrendPoint, error) {
	recs, err := hist.Scans(targetKey)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	var out []reports.TrendPoint
	for _, r := range recs {
		if r.Outcome == nil {
			continue
		}
		out = append(out, reports.TrendPoint{ScanID: r.ScanID, At: r.StartedAt, Open: r.Outcome.Open, BySeverity: r.Outcome.BySeverity})
	}
	if len(out) > maxTrendPoints {
		out = out[len(out)-maxTrendPoints:]
	}
	return out, nil
}
