package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sseaudit/sseaudit/findings"
)

// Result is what a job runner produced.
type Result struct {
	ScanID       string
	SnapshotPath string // kept for the next run's comparison
	ReportDir    string
	Objects      int
	Complete     bool
	Findings     []FindingRef
	// Outcome is the run's verdict (nil when the runner failed before it).
	Outcome *findings.Outcome
}

// RunFunc runs one job; run carries the id and times.
type RunFunc func(ctx context.Context, job *Job, run *Run) (Result, error)

// Scheduler fires jobs on their schedules.
type Scheduler struct {
	Jobs      []Job
	Store     *Store
	Metrics   *Metrics
	Notifier  *Notifier // nil: no notifications
	Clock     Clock
	Log       *slog.Logger
	Runner    RunFunc
	Retention Retention
	// PruneHistory, when set, applies Retention to the history database
	// too (its scans and their snapshot copies).
	PruneHistory func(keepN int, maxAge time.Duration) (int, error)

	mu      sync.Mutex
	running map[string]bool
	wg      sync.WaitGroup
}

func (s *Scheduler) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.running = map[string]bool{}
	}
	if s.Clock == nil {
		s.Clock = RealClock
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Metrics == nil {
		s.Metrics = NewMetrics()
	}
}

// Recover marks interrupted runs incomplete and re-queues pending
// notifications; call it once at start-up.
func (s *Scheduler) Recover() error {
	s.init()
	inc, pending, err := s.Store.Recover(s.Clock.Now())
	if err != nil {
		return err
	}
	for _, r := range inc {
		s.Log.Warn("run interrupted by a restart; marked incomplete", "job", r.Job, "run", r.ID)
		if s.Notifier != nil && r.Notify == NotifyNone && s.Notifier.hooks[r.Job] != nil {
			r.Notify = NotifyPending
			s.Store.Put(r)
			pending = append(pending, r)
		}
	}
	for _, r := range pending {
		if s.Notifier != nil {
			s.Notifier.Enqueue(r.ID)
		}
	}
	return nil
}

// Run fires every job on its schedule until ctx ends, then waits for
// runs in progress.
func (s *Scheduler) Run(ctx context.Context) {
	s.init()
	var loops sync.WaitGroup
	for i := range s.Jobs {
		j := &s.Jobs[i]
		loops.Add(1)
		go func() {
			defer loops.Done()
			s.loop(ctx, j)
		}()
	}
	loops.Wait()
	s.wg.Wait()
}

func (s *Scheduler) loop(ctx context.Context, j *Job) {
	next := j.Next(s.Clock.Now())
	s.Log.Info("job scheduled", "job", j.Name, "next", next)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Clock.After(next.Sub(s.Clock.Now())):
		}
		at := next
		next = j.Next(at)
		s.Fire(ctx, j, at)
	}
}

// Fire starts a run of j scheduled at at in the background, or records
// it skipped when the previous run of j is still going.
func (s *Scheduler) Fire(ctx context.Context, j *Job, at time.Time) {
	s.init()
	if !s.claim(j.Name) {
		r := &Run{Job: j.Name, Scheduled: at, Started: s.Clock.Now(), Finished: s.Clock.Now(), Outcome: Skipped,
			Error: "the previous run of this job was still running"}
		if err := s.Store.Create(r); err != nil {
			s.Log.Error("record skipped run", "job", j.Name, "error", err)
		}
		s.Metrics.observe(r)
		s.Log.Warn("run skipped: previous run still running", "job", j.Name, "run", r.ID, "scheduled", at)
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.release(j.Name)
		s.execute(ctx, j, at)
	}()
}

// RunNow runs j once, synchronously (sseaudit schedule --once, tests).
func (s *Scheduler) RunNow(ctx context.Context, name string) (*Run, error) {
	s.init()
	for i := range s.Jobs {
		if j := &s.Jobs[i]; j.Name == name {
			if !s.claim(name) {
				return nil, fmt.Errorf("job %s: a run is already in progress", name)
			}
			defer s.release(name)
			return s.execute(ctx, j, s.Clock.Now()), nil
		}
	}
	return nil, fmt.Errorf("job %s: no such job", name)
}

func (s *Scheduler) claim(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[name] {
		return false
	}
	s.running[name] = true
	return true
}

func (s *Scheduler) release(name string) {
	s.mu.Lock()
	delete(s.running, name)
	s.mu.Unlock()
}

func (s *Scheduler) execute(ctx context.Context, j *Job, at time.Time) *Run {
	log := s.Log.With("job", j.Name)
	r := &Run{Job: j.Name, Scheduled: at, Started: s.Clock.Now(), Outcome: Running}
	if err := s.Store.Create(r); err != nil {
		log.Error("record run", "error", err)
		return r
	}
	log = log.With("run", r.ID)
	log.Info("run started")
	res, err := s.safeRun(ctx, j, r)
	r.Finished = s.Clock.Now()
	switch {
	case err != nil && ctx.Err() != nil:
		r.Outcome, r.Error = Incomplete, "interrupted: "+err.Error()
	case err != nil:
		r.Outcome, r.Error = Failed, err.Error()
	case !res.Complete:
		r.Outcome, r.Error = Incomplete, "the scan did not complete; the snapshot is marked incomplete"
	default:
		r.Outcome = OK
	}
	r.ScanID, r.SnapshotPath, r.ReportDir, r.Objects = res.ScanID, res.SnapshotPath, res.ReportDir, res.Objects
	if o := res.Outcome; o != nil {
		r.Verdict, r.ExitCode, r.Reasons = o.Verdict, o.ExitCode, o.Reasons
	} else if r.Outcome != OK {
		r.Verdict, r.ExitCode = findings.VerdictError, 2
	}
	if r.Outcome == OK {
		r.Findings = res.Findings
		r.BySeverity = map[string]int{}
		for _, f := range res.Findings {
			r.BySeverity[f.Severity]++
		}
		prev, err := s.Store.LastOK(j.Name, r.ID)
		if err == nil {
			r.Delta, err = ComputeDelta(context.WithoutCancel(ctx), prev, res.Findings, res.SnapshotPath, r.Finished)
		}
		if err != nil {
			log.Error("delta", "error", err)
			r.Error = "delta: " + err.Error()
		}
	}
	if s.Notifier != nil && s.Notifier.hooks[j.Name] != nil && ShouldNotify(r) {
		r.Notify = NotifyPending
	}
	if err := s.Store.Put(r); err != nil {
		log.Error("record run", "error", err)
	}
	s.Metrics.observe(r)
	attrs := []any{"outcome", r.Outcome, "duration", r.Finished.Sub(r.Started), "objects", r.Objects, "findings", len(r.Findings)}
	if r.Delta != nil {
		attrs = append(attrs, "new", len(r.Delta.New), "resolved", len(r.Delta.Resolved), "conformance_failures", r.Delta.ConformanceFailures)
	}
	if r.Error != "" {
		attrs = append(attrs, "error", r.Error)
		log.Warn("run finished", attrs...)
	} else {
		log.Info("run finished", attrs...)
	}
	if r.Notify == NotifyPending {
		s.Notifier.Enqueue(r.ID)
	}
	if s.Retention.KeepRuns > 0 || s.Retention.KeepDays > 0 {
		if _, err := s.Store.Prune(s.Retention.KeepRuns, time.Duration(s.Retention.KeepDays)*24*time.Hour, s.Clock.Now()); err != nil {
			log.Error("retention", "error", err)
		}
		if s.PruneHistory != nil {
			// At least one scan per target stays: the next run's drift
			// baseline.
			if _, err := s.PruneHistory(max(s.Retention.KeepRuns, 1), time.Duration(s.Retention.KeepDays)*24*time.Hour); err != nil {
				log.Error("history retention", "error", err)
			}
		}
	}
	return r
}

// safeRun turns a runner panic into a failed run.
func (s *Scheduler) safeRun(ctx context.Context, j *Job, r *Run) (res Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	if s.Runner == nil {
		return res, errors.New("no runner")
	}
	return s.Runner(ctx, j, r)
}
