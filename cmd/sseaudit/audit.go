package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/attest"
	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/scan"
	"github.com/sseaudit/sseaudit/snapshot"
	"github.com/sseaudit/sseaudit/steps"
)

type auditFlags struct {
	scanFlags
	signingKey  string
	conformance bool
	prefix      string
}

// Exit codes of sseaudit audit (as scan): 1 findings at or above --fail-on
// or a failed conformance scenario, 2 the audit itself failed.

// extraRenderers are rendered into every report directory after
// reports.Formats: the HTML report, index.html.
func extraRenderers() []reports.Renderer {
	return []reports.Renderer{{Name: "html", File: reports.HTMLFile, MediaType: "text/html", Render: reports.HTML}}
}

// Files of a report directory that are inputs, not rendered from report.json.
const (
	snapshotFile = "snapshot.json"
	cucumberFile = "cucumber.json"
)

func newAuditCommand(e env) *cobra.Command {
	var f auditFlags
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Scan, run the conformance suite and write a signed report in every format",
		Long: `Run a whole audit and write a signed report directory.

With no --endpoint, the embedded reference starts in a temporary directory:
the conformance suite runs against it (both dialects) and a demo estate is
seeded and scanned. With --endpoint (and --dialect, --region, --kms-endpoint,
credentials as for scan) that target is scanned; the conformance suite runs
against it only with --conformance, since it creates (and deletes) buckets
named with --bucket-prefix.

The report directory (--out, replaced if it holds an earlier report) gets
report.json, every format rendered from it, snapshot.json and cucumber.json,
then manifest.json and manifest.sig: the SHA-256 of every file, signed with
an Ed25519 key (--signing-key, created on first use, mode 0600) and linked to
the previous report signed with that key (chain.json beside the key). Check
it with 'sseaudit report verify DIR'.

Exit codes: 0 no finding at or above --fail-on and conformance passed,
1 findings at or above it or a conformance scenario failed, 2 the audit
itself failed. The report is written and signed in every case but 2.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.endpoint, "endpoint", "", "endpoint URL (default: the embedded reference with a demo estate)")
	fl.StringVar(&f.dialect, "dialect", "", "oss or s3 (required with --endpoint)")
	fl.StringVar(&f.region, "region", "cn-hangzhou", "region of the endpoint")
	fl.StringVar(&f.kmsEndpoint, "kms-endpoint", "", "Alibaba Cloud KMS endpoint URL")
	fl.StringVar(&f.buckets, "buckets", "", "only scan buckets whose names match this glob")
	fl.BoolVar(&f.conformance, "conformance", false, "with --endpoint: also run the conformance suite (it creates buckets)")
	fl.StringVar(&f.prefix, "bucket-prefix", "sseaudit-conf-", "prefix of every bucket the conformance suite creates")
	fl.StringArrayVar(&f.policyDirs, "policy", nil, "extra policy directory, loaded beside the built-in policies (repeatable)")
	fl.StringVar(&f.config, "config", "", "policy config file (organisation profiles and parameters)")
	fl.StringVar(&f.profile, "profile", "", "organisation profile from --config to apply")
	fl.StringVar(&f.waivers, "waivers", "", "waivers file")
	fl.StringVar(&f.out, "out", "sseaudit-report", "report directory (replaced if it holds an earlier report)")
	fl.IntVar(&f.concurrency, "concurrency", scan.DefaultConcurrency, "objects inspected at once")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding has this severity or higher (critical, high, medium, low, info, none)")
	fl.StringVar(&f.historyPath, "history", defaultHistoryPath(), "history database to compare with and record in, for drift and the trend chart (empty: none)")
	fl.StringVar(&f.signingKey, "signing-key", defaultSigningKeyPath(), "Ed25519 signing key (PEM PKCS #8 or base64 seed; created 0600 if missing)")
	return cmd
}

func defaultSigningKeyPath() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "sseaudit", "signing.key")
	}
	return ""
}

// auditRun is what one audit produced, for the summary.
type auditRun struct {
	sum         snapshot.Summary
	doc         *findings.Document
	conformance *results.Run
}

func runAudit(ctx context.Context, e env, f auditFlags) error {
	failOn, err := findings.FailOnSeverity(f.failOn)
	if err != nil {
		return fmt.Errorf("--fail-on: %w", err)
	}
	if f.endpoint == "" && (f.dialect != "" || f.kmsEndpoint != "") {
		return errors.New("--dialect and --kms-endpoint need --endpoint; without it the embedded reference is audited")
	}
	if f.conformance && f.endpoint == "" {
		return errors.New("--conformance is for --endpoint; the embedded reference always runs the conformance suite")
	}
	if err := checkReplaceable(f.out); err != nil {
		return err
	}
	key, keyPath, err := signingKey(e, f.signingKey)
	if err != nil {
		return err
	}
	engine, err := loadEngine(ctx, f.scanFlags)
	if err != nil {
		return err
	}
	stage, err := stageDir(f.out)
	if err != nil {
		return scanError(err)
	}
	defer os.RemoveAll(stage)

	var run auditRun
	if f.endpoint == "" || f.conformance {
		res, err := auditConformance(ctx, e, f, filepath.Join(stage, cucumberFile))
		if err != nil {
			return scanError(fmt.Errorf("conformance: %w", err))
		}
		run.conformance = &res
	}
	snapPath := filepath.Join(stage, snapshotFile)
	if err := scanToFile(ctx, e, f.scanFlags, engine.Digest(), snapPath); err != nil {
		return err
	}
	var tr []reports.TrendPoint
	if run.sum, run.doc, tr, err = evaluate(ctx, f.historyPath, engine, snapPath); err != nil {
		return scanError(err)
	}
	model, err := reports.BuildModel(ctx, reports.ModelInput{
		SnapshotPath: snapPath, Findings: run.doc, Conformance: run.conformance, Trend: tr, ToolVersion: version,
	})
	if err != nil {
		return scanError(fmt.Errorf("build the report: %w", err))
	}
	link, err := renderAndSign(stage, model, key, keyPath)
	if err != nil {
		return scanError(err)
	}
	if err := replaceDir(stage, f.out); err != nil {
		return scanError(err)
	}
	printAuditSummary(e.stdout, run, model, link, key, f.out)
	if !run.sum.Complete {
		return scanError(errors.New("the scan did not complete; the snapshot is marked incomplete"))
	}
	var fails []string
	if n := findings.Failing(run.doc.Findings, failOn); n > 0 {
		fails = append(fails, fmt.Sprintf("%d findings at or above %s", n, f.failOn))
	}
	if c := run.conformance; c != nil && c.ExitCode != 0 {
		fails = append(fails, fmt.Sprintf("conformance failed: %d scenarios failed", c.Failed))
	}
	if len(fails) > 0 {
		return &exitError{code: exitFindings, err: errors.New(strings.Join(fails, "; "))}
	}
	return nil
}

// signingKey loads or creates the signing key at path.
func signingKey(e env, path string) (ed25519.PrivateKey, string, error) {
	if path == "" {
		return nil, "", errors.New("--signing-key: no path (no user config directory); give one")
	}
	key, created, err := attest.LoadOrCreateKey(path)
	if err != nil {
		return nil, "", fmt.Errorf("--signing-key: %w", err)
	}
	if created {
		fmt.Fprintf(e.stderr, "audit: created signing key %s (public key %s.pub, key id %s)\n", path, path, attest.KeyID(key.Public().(ed25519.PublicKey)))
	}
	return key, path, nil
}

// auditConformance runs the conformance suite against the embedded
// reference (no --endpoint) or the endpoint, writing cucumber.json.
func auditConformance(ctx context.Context, e env, f auditFlags, cucumberPath string) (results.Run, error) {
	var opts steps.Options
	if f.endpoint == "" {
		dir, err := os.MkdirTemp("", "sseaudit-audit-")
		if err != nil {
			return results.Run{}, err
		}
		defer os.RemoveAll(dir)
		var stop func(context.Context) error
		if opts, stop, err = steps.Reference(ctx, dir, nil); err != nil {
			return results.Run{}, fmt.Errorf("start the embedded reference: %w", err)
		}
		defer stop(context.WithoutCancel(ctx))
		fmt.Fprintln(e.stderr, "audit: running the conformance suite against the embedded reference (both dialects)")
	} else {
		d := client.Dialect(f.dialect)
		if d != client.OSS && d != client.S3 {
			return results.Run{}, fmt.Errorf("--dialect %q: use oss or s3", f.dialect)
		}
		ak, sk, err := envCreds(e, d)
		if err != nil {
			return results.Run{}, err
		}
		opts.Targets = map[client.Dialect]client.Config{d: {Dialect: d, Endpoint: f.endpoint, Region: f.region, AccessKeyID: ak, AccessKeySecret: sk}}
		if f.kmsEndpoint != "" {
			kak, ksk := e.getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), e.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			if kak == "" || ksk == "" {
				return results.Run{}, errors.New("--kms-endpoint needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			}
			opts.KMS = &client.KMSConfig{Endpoint: f.kmsEndpoint, Region: f.region, AccessKeyID: kak, AccessKeySecret: ksk}
		}
		opts.BucketPrefix = f.prefix
		fmt.Fprintf(e.stderr, "audit: running the conformance suite against %s (%s); @emulator scenarios are skipped\n", f.endpoint, d)
	}
	opts.Format, opts.Output = "cucumber:"+cucumberPath, io.Discard
	return steps.Run(ctx, opts)
}

// evaluate evaluates the policies over the snapshot at snapPath, comparing
// with (and recording in) the history database when historyPath is set; the
// trend of the target's evaluated scans comes from there too.
func evaluate(ctx context.Context, historyPath string, engine *policy.Engine, snapPath string) (snapshot.Summary, *findings.Document, []reports.TrendPoint, error) {
	sum, err := snapshot.ReadSummary(snapPath)
	if err != nil {
		return sum, nil, nil, fmt.Errorf("read snapshot: %w", err)
	}
	var (
		tr       []reports.TrendPoint
		hist     *history.DB
		lookup   policy.HistoryLookup
		prevPath string
		prevSum  *snapshot.Summary
	)
	if historyPath != "" {
		if hist, err = history.Open(historyPath); err != nil {
			return sum, nil, nil, fmt.Errorf("history: %w (use --history to choose another database, or none)", err)
		}
		defer hist.Close()
		lookup = hist
		rec, ok, err := hist.Previous(history.TargetKey(sum.Provenance.Target), sum.Provenance.StartedAt)
		if err != nil {
			return sum, nil, nil, fmt.Errorf("history: %w", err)
		}
		if ok && rec.ScanID != sum.Provenance.ScanID {
			prevPath = rec.SnapshotPath
			ps, err := snapshot.ReadSummary(prevPath)
			if err != nil {
				return sum, nil, nil, fmt.Errorf("read previous snapshot: %w", err)
			}
			prevSum = &ps
		}
	}
	fs, err := engine.EvaluateSnapshot(ctx, snapPath, prevPath, lookup)
	if err != nil {
		return sum, nil, nil, fmt.Errorf("evaluate policies: %w", err)
	}
	if hist != nil {
		if _, err := hist.RecordScan(ctx, snapPath, engine.Digest()); err != nil && !errors.Is(err, history.ErrExists) {
			return sum, nil, nil, fmt.Errorf("history: %w", err)
		}
		if err := recordEvaluation(hist, sum, fs); err != nil {
			return sum, nil, nil, err
		}
		if tr, err = trend(hist, history.TargetKey(sum.Provenance.Target)); err != nil {
			return sum, nil, nil, err
		}
	}
	return sum, engine.Document(policy.ScanInfo(&sum, snapshotFile, prevSum), fs), tr, nil
}

// renderAndSign writes every format of model into dir and signs the whole
// directory, chaining to the last report signed with the key.
func renderAndSign(dir string, model *reports.Model, key ed25519.PrivateKey, keyPath string) (attest.ChainLink, error) {
	if _, err := reports.WriteAll(dir, model, extraRenderers()...); err != nil {
		return attest.ChainLink{}, fmt.Errorf("write the report: %w", err)
	}
	meta := attest.Meta{
		Tool:           attest.Tool{Name: "sseaudit", Version: version},
		SnapshotDigest: model.Provenance.SnapshotDigest,
		PolicyDigest:   model.Provenance.PolicyDigest,
	}
	link, err := attest.SignChained(dir, nil, key, attest.ChainPath(keyPath), meta)
	if err != nil {
		return link, fmt.Errorf("sign the report: %w", err)
	}
	return link, nil
}

// checkReplaceable refuses an --out that exists and is not an earlier
// report directory (or empty), so replacing it never loses other files.
func checkReplaceable(out string) error {
	if out == "" {
		return errors.New("--out: empty path")
	}
	st, err := os.Lstat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("--out %s exists and is not a directory", out)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if len(ents) == 0 {
		return nil
	}
	for _, n := range []string{attest.ManifestFile, reports.ModelFile} {
		if _, err := os.Stat(filepath.Join(out, n)); err == nil {
			return nil
		}
	}
	return fmt.Errorf("--out %s is a non-empty directory without a report (no %s or %s); refusing to replace it: choose another --out", out, attest.ManifestFile, reports.ModelFile)
}

// stageDir creates an empty directory beside out to build the report in.
func stageDir(out string) (string, error) {
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(out))+".tmp-")
	if err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// replaceDir moves the finished stage to out, removing an earlier report.
func replaceDir(stage, out string) error {
	if err := checkReplaceable(out); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("replace %s: %w", out, err)
	}
	if err := os.Rename(stage, out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

func printAuditSummary(w io.Writer, run auditRun, model *reports.Model, link attest.ChainLink, key ed25519.PrivateKey, out string) {
	t := run.sum.Provenance.Target
	c := run.sum.Coverage
	fmt.Fprintf(w, "target: %s %s\n", t.Kind, t.Endpoint)
	fmt.Fprintf(w, "scan: %d buckets (%d read), %d objects inspected, %d errors; complete: %v\n",
		c.Buckets, c.BucketsRead, c.ObjectsInspected, len(c.Errors), run.sum.Complete)
	s := model.Findings.Summary
	fmt.Fprintf(w, "findings: %d open, %d suppressed", s.Open, s.Suppressed)
	for _, sev := range []string{"critical", "high", "medium", "low", "info"} {
		if n := s.BySeverity[sev]; n > 0 {
			fmt.Fprintf(w, ", %s %d", sev, n)
		}
	}
	fmt.Fprintln(w)
	if r := run.conformance; r != nil {
		verdict := "PASS"
		if r.ExitCode != 0 {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "conformance: %s: %d passed, %d failed, %d skipped\n", verdict, r.Passed, r.Failed, r.Skipped)
	} else {
		fmt.Fprintln(w, "conformance: not run (add --conformance)")
	}
	fmt.Fprintf(w, "signed: run %d of the chain, key id %s\n", link.Sequence, attest.KeyID(key.Public().(ed25519.PublicKey)))
	fmt.Fprintf(w, "report: %s\n", reportEntry(out))
}

// reportEntry is the file to open first: index.html, else summary.md.
func reportEntry(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	for _, n := range []string{reports.HTMLFile, reports.MarkdownFile, reports.ModelFile} {
		if _, err := os.Stat(filepath.Join(abs, n)); err == nil {
			return filepath.Join(abs, n)
		}
	}
	return abs
}
