package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/snapshot"
)

// evalResult is a snapshot evaluated the way every run reports it: object
// findings aggregated per rule, bucket and distinguishing facts, every
// object listed in the side file.
type evalResult struct {
	// findings are the aggregates plus every other finding, sorted.
	findings []findings.Finding
	// waivers count what each waiver matched, object by object.
	waivers []findings.WaiverSummary
	// flagged feeds the report's compliance count (see
	// findings.FlaggedKey).
	flagged map[findings.FlaggedKey]findings.FlaggedCount
	// objectKeyIDs are the objects' distinct KMS key references
	// (snapshot.Summary.ObjectKeyIDs, which Run's summary lacks: it is
	// read without decoding the objects, which the engine does once).
	objectKeyIDs []string
	// objectIDs is a file of the per-object finding ids, one a line, when
	// they are to be recorded in history ("" otherwise).
	objectIDs string
}

func (r *evalResult) cleanup() {
	if r.objectIDs != "" {
		os.Remove(r.objectIDs)
	}
}

// evaluate evaluates the snapshot at snapPath (compared with prevPath when
// not "") into the aggregated findings, writing the side file AffectedFile
// into stage. With record, the per-object finding ids are spooled to a
// temporary file (outside stage, which becomes the report set) for
// history, which records them once the scan itself is recorded.
func evaluate(ctx context.Context, engine *policy.Engine, snapPath, prevPath string, hist policy.HistoryLookup, stage string, record bool) (*evalResult, error) {
	res := &evalResult{}
	side, err := os.Create(filepath.Join(stage, AffectedFile))
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", AffectedFile, err)
	}
	defer side.Close()
	agg := findings.NewAggregator(side, findings.AggregatorOptions{AggregateBy: findings.AggregateByOf(engine.Rules())})
	sink := &objectSink{agg: agg}
	if record {
		f, err := os.CreateTemp("", "sseaudit-object-ids-*")
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		defer f.Close()
		res.objectIDs = f.Name()
		sink.ids = bufio.NewWriterSize(f, 1<<16)
	}
	var prev policy.Source
	if prevPath != "" {
		prev = policy.FileSource(prevPath)
	}
	st, err := engine.EvaluateStream(ctx, policy.FileSource(snapPath), prev, hist, sink)
	if err != nil {
		res.cleanup()
		return nil, fmt.Errorf("evaluate the policies: %w", err)
	}
	aggs, err := agg.Close()
	if err != nil {
		res.cleanup()
		return nil, fmt.Errorf("evaluate the policies: %w", err)
	}
	if sink.ids != nil {
		if err := sink.ids.Flush(); err != nil {
			res.cleanup()
			return nil, fmt.Errorf("history: %w", err)
		}
	}
	if err := side.Close(); err != nil {
		res.cleanup()
		return nil, fmt.Errorf("write %s: %w", AffectedFile, err)
	}
	// An aggregate was first seen when the first of its objects was, or
	// when history first recorded its own id, whichever is earlier.
	for i := range aggs {
		aggs[i].LastSeen = st.Seen
	}
	if hist != nil && len(aggs) > 0 {
		ids := make([]string, len(aggs))
		for i := range aggs {
			ids[i] = aggs[i].ID
		}
		first, err := hist.FirstSeen(ids)
		if err != nil {
			res.cleanup()
			return nil, fmt.Errorf("history: %w", err)
		}
		for i := range aggs {
			if t, ok := first[aggs[i].ID]; ok && t.Before(aggs[i].FirstSeen) {
				aggs[i].FirstSeen = t
			}
		}
	}
	res.findings = append(st.Findings, aggs...)
	findings.Sort(res.findings)
	res.waivers = st.Waivers
	res.objectKeyIDs = st.ObjectKeyIDs
	res.flagged = agg.Flagged()
	return res, nil
}

// objectSink hands the per-object findings to the aggregator and, when
// they are to be recorded, spools their ids.
type objectSink struct {
	agg *findings.Aggregator
	ids *bufio.Writer
}

func (s *objectSink) AddObjects(batch []findings.ObjectFinding) error {
	if err := s.agg.AddObjects(batch); err != nil {
		return err
	}
	if s.ids == nil {
		return nil
	}
	for i := range batch {
		s.ids.WriteString(batch[i].Finding.ID)
		if err := s.ids.WriteByte('\n'); err != nil {
			return fmt.Errorf("history: %w", err)
		}
	}
	return nil
}

// objectIDBatch is how many per-object finding ids one history transaction
// records: large enough for few commits, small enough that a transaction's
// pages stay bounded.
const objectIDBatch = 20000

// recordObjectIDs records the spooled per-object finding ids in history,
// in transactions of objectIDBatch ids.
func recordObjectIDs(hist *history.DB, sum *snapshot.Summary, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	batch := make([]string, 0, objectIDBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := hist.RecordFindings(sum.Provenance.ScanID, sum.FinishedAt, batch); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		batch = batch[:0]
		return nil
	}
	for sc.Scan() {
		batch = append(batch, sc.Text())
		if len(batch) == objectIDBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return flush()
}
