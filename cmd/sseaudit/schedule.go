package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/scan"
	"github.com/sseaudit/sseaudit/schedule"
	"github.com/sseaudit/sseaudit/snapshot"
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
		Runner: scheduleRunner(e, hist, cfg.SigningKey), Retention: cfg.Retention}
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
		failed := 0
		for _, j := range cfg.Jobs {
			r, err := s.RunNow(ctx, j.Name)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s %s %s %s\n", r.ID, r.Job, r.Outcome, r.Error)
			if r.Outcome != schedule.OK {
				failed++
			}
		}
		waitNotifications(ctx, st, 30*time.Second)
		if failed > 0 {
			return scanError(fmt.Errorf("%d of %d runs did not succeed", failed, len(cfg.Jobs)))
		}
		return nil
	}
	log.Info("scheduler started", "jobs", len(cfg.Jobs), "db", dbPath)
	s.Run(ctx)
	log.Info("scheduler stopped")
	return nil
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

// jobEnv maps the fixed credential variables scanToFile reads to the
// variables the job names.
func jobEnv(e env, t schedule.Target) env {
	je := e
	je.stderr = io.Discard
	je.getenv = func(k string) string {
		switch k {
		case "OSS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID":
			return e.getenv(t.AccessKeyIDEnv)
		case "OSS_ACCESS_KEY_SECRET", "AWS_SECRET_ACCESS_KEY":
			return e.getenv(t.AccessKeySecretEnv)
		case "ALIBABA_CLOUD_ACCESS_KEY_ID":
			return e.getenv(t.KMSAccessKeyIDEnv)
		case "ALIBABA_CLOUD_ACCESS_KEY_SECRET":
			return e.getenv(t.KMSSecretEnv)
		}
		return ""
	}
	return je
}

// scheduleRunner scans, evaluates, records and reports one run of a job.
func scheduleRunner(e env, hist *history.DB, signingKeyPath string) schedule.RunFunc {
	// Jobs run concurrently; signing appends to one chain, so it is serialised.
	var signMu sync.Mutex
	return func(ctx context.Context, j *schedule.Job, r *schedule.Run) (schedule.Result, error) {
		var res schedule.Result
		f := scanFlags{endpoint: j.Target.Endpoint, dialect: j.Target.Dialect, region: firstNonEmpty(j.Target.Region, "cn-hangzhou"),
			kmsEndpoint: j.Target.KMSEndpoint, buckets: j.Buckets, config: j.PolicyConfig, profile: j.Profile,
			waivers: j.Waivers, policyDirs: j.Policies, concurrency: scan.DefaultConcurrency, versions: j.Versions}
		engine, err := loadEngine(ctx, f)
		if err != nil {
			return res, err
		}
		dir := filepath.Join(j.Output, r.ID)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return res, fmt.Errorf("output: %w", err)
		}
		res.ReportDir = dir
		snapPath := filepath.Join(dir, snapshotFile)
		if err := scanToFile(ctx, jobEnv(e, j.Target), f, engine.Digest(), snapPath); err != nil {
			return res, fmt.Errorf("target: %w", err)
		}
		sum, err := snapshot.ReadSummary(snapPath)
		if err != nil {
			return res, fmt.Errorf("read snapshot: %w", err)
		}
		res.ScanID, res.Complete, res.Objects = sum.Provenance.ScanID, sum.Complete, int(sum.Coverage.ObjectsInspected)
		if le := sum.Coverage.ListBucketsError; le != nil && sum.Coverage.BucketsRead == 0 {
			// Unreachable target or rejected credentials: nothing was read.
			msg := le.Message
			if le.Code != "" {
				msg = le.Code + ": " + msg
			}
			return res, fmt.Errorf("target: %s: list buckets: %s", j.Target.Endpoint, msg)
		}
		var prevPath string
		var prevSum *snapshot.Summary
		if rec, ok, err := hist.Previous(history.TargetKey(sum.Provenance.Target), sum.Provenance.StartedAt); err != nil {
			return res, fmt.Errorf("history: %w", err)
		} else if ok && rec.ScanID != sum.Provenance.ScanID {
			prevPath = rec.SnapshotPath
			if ps, err := snapshot.ReadSummary(prevPath); err == nil {
				prevSum = &ps
			} else {
				prevPath = ""
			}
		}
		fs, err := engine.EvaluateSnapshot(ctx, snapPath, prevPath, hist)
		if err != nil {
			return res, fmt.Errorf("evaluate policies: %w", err)
		}
		rec, err := hist.RecordScan(ctx, snapPath, engine.Digest())
		if err != nil && !errors.Is(err, history.ErrExists) {
			return res, fmt.Errorf("history: %w", err)
		}
		res.SnapshotPath = snapPath
		if rec.SnapshotPath != "" {
			res.SnapshotPath = rec.SnapshotPath
		}
		if err := recordEvaluation(hist, sum, fs); err != nil {
			return res, err
		}
		tr, err := trend(hist, history.TargetKey(sum.Provenance.Target))
		if err != nil {
			return res, err
		}
		doc := engine.Document(policy.ScanInfo(&sum, snapPath, prevSum), fs)
		if err := writeFindings(filepath.Join(dir, "findings.json"), doc); err != nil {
			return res, err
		}
		model, err := reports.BuildModel(ctx, reports.ModelInput{SnapshotPath: snapPath, Findings: doc, Trend: tr, ToolVersion: version})
		if err != nil {
			return res, fmt.Errorf("build the report: %w", err)
		}
		if signingKeyPath == "" {
			if _, err := reports.WriteAll(dir, model, extraRenderers()...); err != nil {
				return res, fmt.Errorf("write the report: %w", err)
			}
		} else {
			signMu.Lock()
			key, _, err := signingKey(e, signingKeyPath)
			if err == nil {
				_, err = renderAndSign(dir, model, key, signingKeyPath)
			}
			signMu.Unlock()
			if err != nil {
				return res, fmt.Errorf("signing_key: %w", err)
			}
		}
		res.Findings = schedule.Refs(doc.Findings)
		return res, nil
	}
}
