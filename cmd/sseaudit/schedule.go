package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/scan"
	"github.com/sseaudit/sseaudit/schedule"
)

type scheduleFlags struct {
	config, db, listen, logFormat string
	once                          bool
}

func newScheduleCommand(e env) *cobra.Command {
	var f scheduleFlags
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run the configured scan jobs on their schedules (foreground daemon)",
		Long: `Run every job of --config on its schedule (cron expression or @every 6h):
scan, evaluate the policies, store the snapshot and findings in the history
database, write the report set under the job's output directory (one
directory per run) and record the run and its delta from the previous run.
A webhook is notified when something changed or a run failed.

Serves /healthz, /readyz and /metrics (Prometheus) on --listen.
A second daemon on the same database refuses to start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSchedule(cmd.Context(), e, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "schedule configuration file (YAML)")
	fl.StringVar(&f.db, "db", "", "history database (default: the config's db, else the scan default)")
	fl.StringVar(&f.listen, "listen", "", "address for /healthz, /readyz and /metrics (default: the config's listen, else 127.0.0.1:9464; \"off\" for none)")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fl.BoolVar(&f.once, "once", false, "run every job once now, then exit")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func newScheduleLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// openScheduleDBs opens the history database and the runs store next to it.
func openScheduleDBs(path string) (*history.DB, *schedule.Store, error) {
	st, err := schedule.OpenStore(schedule.RunsPath(path), time.Second)
	if err != nil {
		if errors.Is(err, schedule.ErrLocked) {
			return nil, nil, fmt.Errorf("%w (another sseaudit schedule is running on %s)", err, path)
		}
		return nil, nil, err
	}
	hist, err := history.Open(path, history.WithLockTimeout(time.Second))
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return hist, st, nil
}

func runSchedule(ctx context.Context, e env, f scheduleFlags) error {
	log, err := newScheduleLogger(e.stderr, f.logFormat)
	if err != nil {
		return err
	}
	if f.logFormat == "json" && e.jsonErrors != nil {
		*e.jsonErrors = true
	}
	cfg, err := schedule.LoadConfig(f.config, e.getenv)
	if err != nil {
		return err
	}
	dbPath := firstNonEmpty(f.db, cfg.DB, defaultHistoryPath())
	if dbPath == "" {
		return errors.New("--db: no history database (set --db or db in the config)")
	}
	hist, st, err := openScheduleDBs(dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	defer hist.Close()

	m := schedule.NewMetrics()
	n := schedule.NewNotifier(st, m, log, cfg.Jobs)
	s := &schedule.Scheduler{Jobs: cfg.Jobs, Store: st, Metrics: m, Notifier: n, Log: log,
		Runner: scheduleRunner(e, hist, cfg.SigningKey), Retention: cfg.Retention, PruneHistory: hist.Prune}
	if err := s.Recover(); err != nil {
		return err
	}
	nctx, stopNotifier := context.WithCancel(context.WithoutCancel(ctx))
	go n.Run(nctx)
	defer func() { stopNotifier(); <-n.Done() }()

	var ready atomic.Bool
	if listen := firstNonEmpty(f.listen, cfg.Listen, "127.0.0.1:9464"); listen != "off" {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
		hs := &http.Server{Handler: schedule.Handler(m, &ready), ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(ln)
		defer hs.Close()
		log.Info("listening", "addr", ln.Addr().String())
	}
	ready.Store(true)
	if f.once {
		return runOnce(ctx, e, f, s, st, cfg.Jobs)
	}
	log.Info("scheduler started", "jobs", len(cfg.Jobs), "db", dbPath)
	s.Run(ctx)
	log.Info("scheduler stopped")
	return nil
}

// runOnce runs every job once and exits as `sseaudit scan` would over the
// worst of them: 2 when a run failed, 1 when a run's gate failed, else 0.
// Each run's result is one line on stdout (a JSON object with --log-format
// json).
func runOnce(ctx context.Context, e env, f scheduleFlags, s *schedule.Scheduler, st *schedule.Store, jobs []schedule.Job) error {
	worst := 0
	var reasons []string
	for _, j := range jobs {
		r, err := s.RunNow(ctx, j.Name)
		if err != nil {
			return err
		}
		code := r.ExitCode
		if r.Outcome != schedule.OK {
			code = exitFailed
		}
		if f.logFormat == "json" {
			b, _ := json.Marshal(map[string]any{"run": r.ID, "job": r.Job, "outcome": r.Outcome, "verdict": r.Verdict,
				"exit_code": code, "reasons": r.Reasons, "error": r.Error, "report_dir": r.ReportDir})
			fmt.Fprintln(e.stdout, string(b))
		} else {
			line := fmt.Sprintf("%s %s %s %s (exit %d)", r.ID, r.Job, r.Outcome, firstNonEmpty(r.Verdict, "-"), code)
			if msg := firstNonEmpty(r.Error, strings.Join(r.Reasons, "; ")); msg != "" {
				line += ": " + msg
			}
			fmt.Fprintln(e.stdout, line)
		}
		if code > worst {
			worst = code
		}
		if code != 0 {
			reasons = append(reasons, fmt.Sprintf("job %s: exit %d", r.Job, code))
		}
	}
	waitNotifications(ctx, st, 30*time.Second)
	if worst == 0 {
		return nil
	}
	return &exitError{code: worst, err: fmt.Errorf("%d of %d runs did not pass (%s)", len(reasons), len(jobs), strings.Join(reasons, ", "))}
}

// waitNotifications gives pending notifications up to d to be sent.
func waitNotifications(ctx context.Context, st *schedule.Store, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		rs, err := st.List("")
		if err != nil {
			return
		}
		pending := false
		for _, r := range rs {
			pending = pending || r.Notify == schedule.NotifyPending
		}
		if !pending {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// scheduleRunner runs one job through the audit pipeline, as scan would
// with the job's flags, writing the signed (when signing_key is set)
// report set to OUTPUT/RUN-ID. A gate failure is a completed run with a
// verdict; only a run that failed (exit 2) is an error.
func scheduleRunner(e env, hist *history.DB, signingKeyPath string) schedule.RunFunc {
	// Jobs run concurrently; signing appends to one chain, so it is serialised.
	var signMu sync.Mutex
	return func(ctx context.Context, j *schedule.Job, r *schedule.Run) (schedule.Result, error) {
		var res schedule.Result
		failOn, err := findings.FailOnSeverity(j.FailOn)
		if err != nil {
			return res, fmt.Errorf("fail_on: %w", err)
		}
		t := pipeline.Target{Endpoint: j.Target.Endpoint, Dialect: j.Target.Dialect, Region: firstNonEmpty(j.Target.Region, "cn-hangzhou"),
			KMSEndpoint: j.Target.KMSEndpoint}
		if t.Endpoint != "" {
			t.AccessKeyID, t.AccessKeySecret = e.getenv(j.Target.AccessKeyIDEnv), e.getenv(j.Target.AccessKeySecretEnv)
			t.KMSAccessKeyID, t.KMSAccessKeySecret = e.getenv(j.Target.KMSAccessKeyIDEnv), e.getenv(j.Target.KMSSecretEnv)
		} else {
			t.Region = ""
		}
		opts := pipeline.Options{
			Target: t, Buckets: j.Buckets, Versions: j.Versions, Concurrency: scan.DefaultConcurrency,
			Policy: pipeline.PolicyOptions{Dirs: j.Policies, Config: j.PolicyConfig, Profile: j.Profile,
				Waivers: j.Waivers, AllowBroadWaivers: j.AllowBroadWaivers, AllowPermanentWaivers: j.AllowPermanentWaivers},
			History: hist, Out: filepath.Join(j.Output, r.ID), Report: true,
			FailOn: failOn, FailOnName: j.FailOn, AcceptGaps: j.AcceptGaps, ToolVersion: toolVersion(),
		}
		if signingKeyPath != "" {
			opts.Sign = &pipeline.Signing{KeyPath: signingKeyPath, Lock: &signMu}
		}
		out, err := pipeline.Run(ctx, opts)
		if out.Written {
			res.ReportDir = out.Dir
		}
		res.ScanID, res.Complete, res.Objects = out.Summary.Provenance.ScanID, out.Summary.Complete, int(out.Summary.Coverage.ObjectsInspected)
		res.SnapshotPath = firstNonEmpty(out.HistorySnapshotPath, out.SnapshotPath)
		if out.Findings != nil {
			// One at a time: a spilled document is read back from disk.
			res.Findings = []schedule.FindingRef{}
			if rerr := out.Findings.Each(func(f *findings.Finding) error {
				res.Findings = append(res.Findings, schedule.Refs([]findings.Finding{*f})...)
				return nil
			}); rerr != nil && err == nil {
				err = fmt.Errorf("read the findings: %w", rerr)
			}
			o := out.Outcome
			res.Outcome = &o
		}
		if err != nil && !pipeline.IsGate(err) {
			return res, err
		}
		return res, nil
	}
}
