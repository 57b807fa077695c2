package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/estate"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/scan"
	"github.com/sseaudit/sseaudit/snapshot"
)

type scanFlags struct {
	endpoint, dialect, region, kmsEndpoint string
	buckets, config, profile, waivers      string
	policyDirs                             []string
	out, failOn, historyPath, fromSnapshot string
	previous                               string
	concurrency                            int
	versions                               bool
}

// Exit codes of sseaudit scan.
const (
	exitFindings   = 1 // findings at or above --fail-on
	exitScanFailed = 2 // the scan itself failed
)

func newScanCommand(e env) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan buckets and objects into a snapshot and evaluate the SSE policies",
		Long: `Read every bucket's default encryption and every object's encryption state
(one HEAD per object, since listings do not carry it) into snapshot.json,
evaluate the Rego policies over it and write findings.json.

With no --endpoint, a demo estate is seeded into the embedded reference and
scanned. With --endpoint, credentials come from OSS_ACCESS_KEY_ID and
OSS_ACCESS_KEY_SECRET (oss) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
(s3); --kms-endpoint adds KMS key states (ALIBABA_CLOUD_ACCESS_KEY_ID and
ALIBABA_CLOUD_ACCESS_KEY_SECRET).

Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it,
2 the scan itself failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.endpoint, "endpoint", "", "endpoint URL (default: a demo estate on the embedded reference)")
	fl.StringVar(&f.dialect, "dialect", "", "oss or s3 (required with --endpoint)")
	fl.StringVar(&f.region, "region", "cn-hangzhou", "region of the endpoint")
	fl.StringVar(&f.kmsEndpoint, "kms-endpoint", "", "Alibaba Cloud KMS endpoint URL, to record key states")
	fl.StringVar(&f.buckets, "buckets", "", "only buckets whose names match this glob")
	fl.StringArrayVar(&f.policyDirs, "policy", nil, "extra policy directory, loaded beside the built-in policies (repeatable)")
	fl.StringVar(&f.config, "config", "", "policy config file (organisation profiles and parameters)")
	fl.StringVar(&f.profile, "profile", "", "organisation profile from --config to apply")
	fl.StringVar(&f.waivers, "waivers", "", "waivers file")
	fl.StringVar(&f.out, "out", "sseaudit-scan", "directory for snapshot.json and findings.json")
	fl.IntVar(&f.concurrency, "concurrency", scan.DefaultConcurrency, "objects inspected at once")
	fl.BoolVar(&f.versions, "versions", false, "in versioned buckets, inspect every version, not only the current ones (one HEAD per version)")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding has this severity or higher (critical, high, medium, low, info, none)")
	fl.StringVar(&f.historyPath, "history", defaultHistoryPath(), "history database (empty: no history)")
	fl.StringVar(&f.fromSnapshot, "from-snapshot", "", "evaluate a stored snapshot instead of scanning")
	fl.StringVar(&f.previous, "previous", "", "with --from-snapshot: the earlier snapshot to compare with (default: from history)")
	return cmd
}

func defaultHistoryPath() string {
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".local", "state", "sseaudit", "history.db")
	}
	return ""
}

// scanError marks the scan itself as failed (exit 2).
func scanError(err error) error { return &exitError{code: exitScanFailed, err: err} }

func runScan(ctx context.Context, e env, f scanFlags) error {
	failOn, err := findings.FailOnSeverity(f.failOn)
	if err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	engine, err := loadEngine(ctx, f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	var hist *history.DB
	if f.historyPath != "" {
		if hist, err = history.Open(f.historyPath); err != nil {
			return scanError(fmt.Errorf("history: %w (use --history to choose another database, or --history '' for none)", err))
		}
		defer hist.Close()
	}

	snapPath := filepath.Join(f.out, "snapshot.json")
	prevPath := f.previous
	if f.fromSnapshot != "" {
		snapPath = f.fromSnapshot
	} else {
		if err := scanToFile(ctx, e, f, engine.Digest(), snapPath); err != nil {
			return err
		}
	}
	sum, err := snapshot.ReadSummary(snapPath)
	if err != nil {
		return scanError(fmt.Errorf("read snapshot: %w", err))
	}
	var prevSum *snapshot.Summary
	targetKey := history.TargetKey(sum.Provenance.Target)
	if prevPath == "" && hist != nil {
		if rec, ok, err := hist.Previous(targetKey, sum.Provenance.StartedAt); err != nil {
			return scanError(fmt.Errorf("history: %w", err))
		} else if ok && rec.ScanID != sum.Provenance.ScanID {
			prevPath = rec.SnapshotPath
		}
	}
	if prevPath != "" {
		ps, err := snapshot.ReadSummary(prevPath)
		if err != nil {
			return scanError(fmt.Errorf("read previous snapshot: %w", err))
		}
		prevSum = &ps
	}
	var lookup policy.HistoryLookup
	if hist != nil {
		lookup = hist
	}
	fs, err := engine.EvaluateSnapshot(ctx, snapPath, prevPath, lookup)
	if err != nil {
		return scanError(fmt.Errorf("evaluate policies: %w", err))
	}
	if hist != nil && f.fromSnapshot == "" {
		if _, err := hist.RecordScan(ctx, snapPath, engine.Digest()); err != nil && !errors.Is(err, history.ErrExists) {
			return scanError(fmt.Errorf("history: %w", err))
		}
		if err := recordEvaluation(hist, sum, fs); err != nil {
			return scanError(err)
		}
	}
	doc := engine.Document(policy.ScanInfo(&sum, snapPath, prevSum), fs)
	findingsPath := filepath.Join(f.out, "findings.json")
	if err := writeFindings(findingsPath, doc); err != nil {
		return scanError(err)
	}
	printScanSummary(e.stdout, sum, doc, snapPath, findingsPath)
	if !sum.Complete {
		return scanError(errors.New("the scan did not complete; the snapshot is marked incomplete"))
	}
	if n := findings.Failing(fs, failOn); n > 0 {
		return &exitError{code: exitFindings, err: fmt.Errorf("%d findings at or above %s", n, f.failOn)}
	}
	return nil
}

func loadEngine(ctx context.Context, f scanFlags) (*policy.Engine, error) {
	opts := policy.Options{ExtraDirs: f.policyDirs}
	if f.config != "" || f.profile != "" {
		cfg := &policy.Config{Default: policy.DefaultProfile(), Profiles: policy.BuiltinProfiles()}
		if f.config != "" {
			var err error
			if cfg, err = policy.LoadConfig(f.config); err != nil {
				return nil, fmt.Errorf("--config: %w", err)
			}
		}
		p, err := cfg.SelectProfile(f.profile)
		if err != nil {
			return nil, fmt.Errorf("--profile: %w", err)
		}
		opts.Profile = &p
	}
	if f.waivers != "" {
		ws, err := findings.LoadWaivers(f.waivers)
		if err != nil {
			return nil, fmt.Errorf("--waivers: %w", err)
		}
		opts.Waivers = ws
	}
	engine, err := policy.Load(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}
	return engine, nil
}

// scanToFile scans the chosen target into path.
func scanToFile(ctx context.Context, e env, f scanFlags, policyDigest, path string) error {
	cfg := scan.Config{
		BucketGlob: f.buckets, Concurrency: f.concurrency, Versions: f.versions, ToolVersion: version, PolicyDigest: policyDigest,
		Progress: e.stderr,
	}
	if f.endpoint == "" {
		if f.dialect != "" || f.kmsEndpoint != "" {
			return errors.New("--dialect and --kms-endpoint need --endpoint; without it a demo estate on the embedded reference is scanned")
		}
		srv, stop, err := embedded.StartTemp(ctx, embedded.Config{})
		if err != nil {
			return scanError(fmt.Errorf("start the embedded reference: %w", err))
		}
		defer stop(context.WithoutCancel(ctx))
		if _, err := estate.Seed(ctx, srv); err != nil {
			return scanError(fmt.Errorf("seed the demo estate: %w", err))
		}
		fmt.Fprintf(e.stderr, "scan: no --endpoint: scanning a demo estate on the embedded reference at %s\n", srv.Endpoint)
		if cfg.Client, err = client.New(client.Config{Dialect: client.OSS, Endpoint: srv.Endpoint, Region: srv.Region,
			AccessKeyID: srv.AccessKeyID, AccessKeySecret: srv.AccessKeySecret}); err != nil {
			return scanError(err)
		}
		if cfg.KMS, err = client.KMS(client.KMSConfig{Endpoint: srv.KMSEndpoint, Region: srv.Region,
			AccessKeyID: srv.AccessKeyID, AccessKeySecret: srv.AccessKeySecret}); err != nil {
			return scanError(err)
		}
		cfg.Region = srv.Region
		cfg.TargetInfo = snapshot.Target{Kind: "reference", Dialect: string(client.OSS), Endpoint: srv.Endpoint, KMSEndpoint: srv.KMSEndpoint}
	} else {
		d := client.Dialect(f.dialect)
		if d != client.OSS && d != client.S3 {
			return fmt.Errorf("--dialect %q: use oss or s3", f.dialect)
		}
		ak, sk, err := envCreds(e, d)
		if err != nil {
			return err
		}
		if cfg.Client, err = client.New(client.Config{Dialect: d, Endpoint: f.endpoint, Region: f.region, AccessKeyID: ak, AccessKeySecret: sk}); err != nil {
			return fmt.Errorf("--endpoint: %w", err)
		}
		cfg.Region = f.region
		cfg.TargetInfo = snapshot.Target{Kind: string(d), Dialect: string(d), Endpoint: f.endpoint, KMSEndpoint: f.kmsEndpoint, Principal: ak}
		if f.kmsEndpoint != "" {
			kak, ksk := e.getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), e.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			if kak == "" || ksk == "" {
				return errors.New("--kms-endpoint needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			}
			var kc *kmssdk.Client
			if kc, err = client.KMS(client.KMSConfig{Endpoint: f.kmsEndpoint, Region: f.region, AccessKeyID: kak, AccessKeySecret: ksk}); err != nil {
				return fmt.Errorf("--kms-endpoint: %w", err)
			}
			cfg.KMS = kc
		}
	}
	if _, err := scan.RunToFile(ctx, cfg, path); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(e.stderr, "scan: interrupted; the partial snapshot in %s is marked incomplete\n", path)
		}
		return scanError(fmt.Errorf("scan: %w", err))
	}
	return nil
}

func writeFindings(path string, doc *findings.Document) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write findings: %w", err)
	}
	if err := findings.Encode(fh, doc); err != nil {
		fh.Close()
		return fmt.Errorf("write findings: %w", err)
	}
	return fh.Close()
}

func printScanSummary(w io.Writer, sum snapshot.Summary, doc *findings.Document, snapPath, findingsPath string) {
	c := sum.Coverage
	fmt.Fprintf(w, "scanned %d buckets (%d read), %d objects listed, %d inspected, %d errors; complete: %v\n",
		c.Buckets, c.BucketsRead, c.ObjectsListed, c.ObjectsInspected, len(c.Errors), sum.Complete)
	fmt.Fprintf(w, "findings: %d open, %d suppressed", doc.Summary.Open, doc.Summary.Suppressed)
	for _, s := range []string{"critical", "high", "medium", "low", "info"} {
		if n := doc.Summary.BySeverity[s]; n > 0 {
			fmt.Fprintf(w, ", %s %d", s, n)
		}
	}
	fmt.Fprintf(w, "\nsnapshot: %s\nfindings: %s\n", snapPath, findingsPath)
}
