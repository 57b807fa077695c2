package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/snapshot"
)

// evalResult is a snapshot evaluated the way every run reports it: object
// findings aggregated per rule, bucket and distinguishing facts, every
// object listed in the side file.
type evalResult struct {
	// findings are the aggregates plus every other finding, sorted, when
	// they fit in memory (one spill run); spill holds them otherwise.
	findings []findings.Finding
	spill    *findings.Spill
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
//
// Memory is flat in the number of buckets and findings: each bucket's
// aggregates and findings are handed to a findings.SpillWriter as soon as
// the bucket is evaluated (findings.Aggregator.Flush, policy.OtherSink),
// which spills them to sorted temporary files past runSize findings.
func evaluate(ctx context.Context, engine *policy.Engine, snapPath string, sum *snapshot.Summary, prevPath string, hist policy.HistoryLookup, stage string, record bool, runSize int) (*evalResult, error) {
	res := &evalResult{}
	side, err := os.Create(filepath.Join(stage, AffectedFile))
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", AffectedFile, err)
	}
	defer side.Close()
	agg := findings.NewAggregator(side, findings.AggregatorOptions{AggregateBy: findings.AggregateByOf(engine.Rules())})
	// The spill's runs go to the system's temporary directory, not stage:
	// stage becomes the report set.
	sink := &objectSink{agg: agg, out: findings.NewSpillWriter("", runSize), hist: hist}
	fail := func(err error) (*evalResult, error) {
		res.cleanup()
		if _, sp, cerr := sink.out.Close(); cerr == nil {
			sp.Remove()
		}
		return nil, err
	}
	if record {
		f, err := os.CreateTemp("", "sseaudit-object-ids-*")
		if err != nil {
			return fail(fmt.Errorf("history: %w", err))
		}
		defer f.Close()
		res.objectIDs = f.Name()
		sink.ids = bufio.NewWriterSize(f, 1<<16)
	}
	var prev policy.Source
	if prevPath != "" {
		prev = policy.FileSource(prevPath)
	}
	// The engine shares the run's summary (the bucket records, read once).
	st, err := engine.EvaluateStream(ctx, policy.HeadedFileSource(snapPath, sum), prev, hist, sink)
	if err != nil {
		return fail(fmt.Errorf("evaluate the policies: %w", err))
	}
	aggs, err := agg.Close()
	if err != nil {
		return fail(fmt.Errorf("evaluate the policies: %w", err))
	}
	sink.seen = st.Seen
	if err := sink.addAggregates(aggs); err != nil {
		return fail(err)
	}
	if err := sink.out.Add(st.Findings...); err != nil {
		return fail(err)
	}
	if sink.ids != nil {
		if err := sink.ids.Flush(); err != nil {
			return fail(fmt.Errorf("history: %w", err))
		}
	}
	if err := side.Close(); err != nil {
		return fail(fmt.Errorf("write %s: %w", AffectedFile, err))
	}
	res.findings, res.spill, err = sink.out.Close()
	if err != nil {
		res.cleanup()
		return nil, err
	}
	res.waivers = st.Waivers
	res.objectKeyIDs = st.ObjectKeyIDs
	res.flagged = agg.Flagged()
	return res, nil
}

// objectSink hands the per-object findings to the aggregator and, when
// they are to be recorded, spools their ids; each bucket's aggregates, once
// complete, and its other findings go to out.
type objectSink struct {
	agg  *findings.Aggregator
	ids  *bufio.Writer
	out  *findings.SpillWriter
	hist policy.HistoryLookup
	cur  string    // the bucket of the last object
	seen time.Time // the findings' last seen (the scan's)
}

func (s *objectSink) AddObjects(batch []findings.ObjectFinding) error {
	if err := s.agg.AddObjects(batch); err != nil {
		return err
	}
	if len(batch) > 0 {
		last := &batch[len(batch)-1].Finding
		s.seen = last.LastSeen
		if last.Resource.Bucket != s.cur {
			// The objects of the buckets before are complete.
			s.cur = last.Resource.Bucket
			done, err := s.agg.Flush(s.cur)
			if err != nil {
				return err
			}
			if err := s.addAggregates(done); err != nil {
				return err
			}
		}
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

// AddOthers takes a bucket's findings as soon as it is evaluated
// (policy.OtherSink).
func (s *objectSink) AddOthers(fs []findings.Finding) error {
	return s.out.Add(fs...)
}

// addAggregates sets the aggregates' last seen (the scan's) and first seen
// (when the first of its objects was, or when history first recorded its
// own id, whichever is earlier) and hands them to out.
func (s *objectSink) addAggregates(aggs []findings.Finding) error {
	if len(aggs) == 0 {
		return nil
	}
	for i := range aggs {
		aggs[i].LastSeen = s.seen
	}
	if s.hist != nil {
		ids := make([]string, len(aggs))
		for i := range aggs {
			ids[i] = aggs[i].ID
		}
		first, err := s.hist.FirstSeen(ids)
		if err != nil {
			return fmt.Errorf("history: %w", err)
		}
		for i := range aggs {
			if t, ok := first[aggs[i].ID]; ok && t.Before(aggs[i].FirstSeen) {
				aggs[i].FirstSeen = t
			}
		}
	}
	return s.out.Add(aggs...)
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
