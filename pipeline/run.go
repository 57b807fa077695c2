package pipeline

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/attest"
	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/estate"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/scan"
	"github.com/sseaudit/sseaudit/snapshot"
)

// Files a run writes besides the rendered report formats.
const (
	SnapshotFile = "snapshot.json"
	FindingsFile = "findings.json"
	CucumberFile = "cucumber.json"
	// AffectedFile lists every object of the aggregated findings, one
	// gzip-compressed JSON line per per-object finding (findings.json's
	// aggregates name it).
	AffectedFile = findings.AffectedFile
)

// maxTrendPoints bounds the trend chart: a quarter of daily scans.
const maxTrendPoints = 90

// Result is what a run produced. Run returns it, with as much filled in as
// the run got to, also when it returns an error.
type Result struct {
	// Summary is the evaluated snapshot's summary.
	Summary snapshot.Summary
	// Findings is the findings document, Outcome included.
	Findings *findings.Document
	// Conformance is the conformance run, when one ran.
	Conformance *results.Run
	// Model is the report model, when Report was asked for.
	Model *reports.Model
	// Link is the report's place in its signing chain; KeyID the key's id.
	Link  *attest.ChainLink
	KeyID string
	// Outcome is the verdict; its ExitCode is the CLI's.
	Outcome findings.Outcome
	// Dir is the output directory; SnapshotPath and FindingsPath the files
	// in it (SnapshotPath is FromSnapshot when nothing was copied).
	Dir, SnapshotPath, FindingsPath string
	// HistorySnapshotPath is the history database's copy of the snapshot
	// ("" when nothing was recorded).
	HistorySnapshotPath string
	// Written is true once the output (and the report set) is in place.
	Written bool
}

// Run runs the pipeline as opts ask. The error is nil only for a pass. A
// gate failure is a *GateError (exit 1); anything else (bad input, a target
// that could not be read, a failed step) is exit 2, and the Result still
// holds what was written (res.Written), its outcome then the verdict error.
//
// Everything is built in a stage beside Out and moved into place at the
// end, so Out never holds a mix of two runs: a report set replaces the
// earlier one whole; snapshot.json and findings.json replace theirs file by
// file (a findings.json the run could not produce is removed, never left
// beside a newer snapshot).
func Run(ctx context.Context, opts Options) (*Result, error) {
	res := &Result{Dir: opts.Out}
	if err := opts.validate(); err != nil {
		return res, err
	}
	engine, err := LoadEngine(ctx, opts.Policy)
	if err != nil {
		return res, err
	}
	hist := opts.History
	if hist == nil && opts.HistoryPath != "" {
		if hist, err = history.Open(opts.HistoryPath); err != nil {
			return res, inputErrorf("history: %v (choose another database with --history, or --history '' for none)", err)
		}
		defer hist.Close()
	}
	var key ed25519.PrivateKey
	if opts.Sign != nil {
		if key, _, err = SigningKey(opts.Sign.KeyPath, opts.Notes); err != nil {
			return res, err
		}
		res.KeyID = attest.KeyID(key.Public().(ed25519.PublicKey))
	}
	if opts.Report {
		err = CheckReplaceable(opts.Out)
	} else {
		err = checkOutDir(opts.Out)
	}
	if err != nil {
		return res, err
	}
	stage, err := StageDir(opts.Out)
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(stage)

	if opts.Conformance != nil {
		conf, err := runConformance(ctx, opts, filepath.Join(stage, CucumberFile))
		if err != nil {
			return res, fmt.Errorf("conformance: %w", err)
		}
		res.Conformance = &conf
	}

	snapPath := filepath.Join(stage, SnapshotFile)
	scanned := opts.FromSnapshot == ""
	var scanErr error
	switch {
	case scanned:
		scanErr = scanTarget(ctx, opts, engine, snapPath)
		if _, statErr := os.Stat(snapPath); statErr != nil {
			// Nothing to evaluate: the scan could not even start.
			return res, scanErr
		}
	case opts.Report:
		if err := copyFile(opts.FromSnapshot, snapPath); err != nil {
			return res, inputErrorf("--from-snapshot: %v", err)
		}
	default:
		snapPath = opts.FromSnapshot
	}
	// From here on the run has evidence of its own: whatever happens, what
	// it has is written (scan mode), and its verdict is error unless the
	// run gets to the end.
	st := &stagedRun{opts: opts, res: res, stage: stage, scanned: scanned}
	// The objects are not decoded here: the engine parses and checks every
	// one as it evaluates them (a second decoding of each cost as much as
	// the evaluation of a compliant estate), so a malformed object is an
	// evaluation error below, reported as this one would be.
	// Nor are the buckets' raw response bodies kept (a bucket policy
	// alone may be 20 KiB): the engine takes each bucket's from the file
	// as it evaluates that bucket (snapshot.ReadLeanHeaders), so that the
	// run's summary does not grow with them.
	readHeaders := snapshot.ReadLeanHeaders
	if opts.fullHeaders {
		readHeaders = snapshot.ReadHeaders
	}
	sum, err := readHeaders(snapPath)
	if err != nil {
		if !scanned {
			return res, inputErrorf("--from-snapshot %s: %v", opts.FromSnapshot, err)
		}
		return st.fail(fmt.Errorf("read the snapshot: %w", err))
	}
	res.Summary, res.SnapshotPath = sum, snapPath
	st.sum = &sum

	// Why the run failed, if it did: the scan's own error (interrupted,
	// output failed) or a target that could not be read. A stored snapshot
	// is judged the same way: evidence of an unreadable target never passes.
	fatal := scanErr
	t := opts.Target
	if t.Dialect == "" {
		t.Dialect = sum.Provenance.Target.Dialect
	}
	if te := targetError(&sum, t, sum.Provenance.BucketFilter); te != nil && fatal == nil {
		fatal = te
	}

	prevPath, prevSum, extraGaps, err := previous(opts, hist, &sum)
	if err != nil {
		return st.fail(err)
	}
	var lookup policy.HistoryLookup
	if hist != nil {
		lookup = hist
	}
	// An interrupted scan's partial snapshot is still judged (the sandbox
	// bounds the evaluation), so the user sees what it did read.
	evalCtx := ctx
	if ctx.Err() != nil {
		evalCtx = context.WithoutCancel(ctx)
	}
	// Only a scan that read its target to the end is history: a failed
	// or interrupted one must not become the next scan's drift baseline.
	record := hist != nil && scanned && fatal == nil && sum.Complete
	ev, err := evaluate(evalCtx, engine, snapPath, &sum, prevPath, lookup, stage, record, opts.SpillRunSize)
	if err != nil {
		if errors.Is(err, snapshot.ErrFormat) {
			if !scanned {
				return res, inputErrorf("--from-snapshot %s: %v", opts.FromSnapshot, err)
			}
			return st.fail(fmt.Errorf("read the snapshot: %w", err))
		}
		return st.fail(err)
	}
	defer ev.cleanup()
	sum.ObjectKeyIDs = ev.objectKeyIDs
	res.Summary.ObjectKeyIDs = ev.objectKeyIDs
	st.gaps = Gaps(&sum, extraGaps, opts.AcceptGaps)
	// Where findings.json says its snapshot is, once published.
	snapRef := filepath.Join(opts.Out, SnapshotFile)
	switch {
	case opts.Report:
		snapRef = SnapshotFile
	case !scanned:
		snapRef = opts.FromSnapshot
	}
	doc := engine.Document(policy.ScanInfo(&sum, snapRef, prevSum), ev.findings)
	if ev.spill != nil {
		// Too many to hold: the document reads them back from the spill
		// (which goes with the last reference to it).
		doc.Findings, doc.Spill = nil, ev.spill
		doc.Summary = doc.Summarized()
	}
	doc.Waivers = ev.waivers
	st.doc = doc
	res.Outcome = Decide(&sum, doc, res.Conformance, st.gaps, opts.FailOn, opts.FailOnName, fatal)
	doc.Outcome = &res.Outcome
	res.Findings = doc

	var trend []reports.TrendPoint
	if record {
		rec, err := hist.RecordScan(ctx, snapPath, engine.Digest())
		if err != nil && !errors.Is(err, history.ErrExists) {
			return st.fail(fmt.Errorf("history: %w", err))
		}
		res.HistorySnapshotPath = rec.SnapshotPath
		if err := recordEvaluation(hist, &sum, doc, ev.objectIDs); err != nil {
			return st.fail(err)
		}
	}
	if hist != nil && (opts.Report || opts.NeedModel) {
		if trend, err = trendOf(hist, history.TargetKey(sum.Provenance.Target)); err != nil {
			return st.fail(err)
		}
	}

	if !opts.Report {
		// (A report set writes findings.json with the other formats.)
		if err := writeFindings(filepath.Join(stage, FindingsFile), doc); err != nil {
			return st.fail(err)
		}
	}
	if opts.Report || opts.NeedModel {
		model, err := reports.BuildModel(ctx, reports.ModelInput{
			SnapshotPath: snapPath, Summary: &sum, Findings: doc, Conformance: res.Conformance, Trend: trend, ToolVersion: opts.ToolVersion,
			Flagged: ev.flagged,
		})
		if err != nil {
			return st.fail(fmt.Errorf("build the report: %w", err))
		}
		res.Model = model
	}
	if opts.Report {
		if _, err := reports.WriteAll(stage, res.Model); err != nil {
			return st.fail(fmt.Errorf("write the report: %w", err))
		}
		if opts.Attach != nil {
			if err := opts.Attach(stage); err != nil {
				return st.fail(err)
			}
		}
		if opts.Sign != nil {
			link, err := sign(stage, res.Model, key, opts.Sign, opts.ToolVersion)
			if err != nil {
				return st.fail(err)
			}
			res.Link = &link
		}
	}
	if err := st.publish(); err != nil {
		return st.fail(err)
	}
	if scanned && sum.Complete && !opts.Target.Embedded() && (opts.Checkpoint || opts.Resume) {
		// The scan is published whole: its checkpoint is of no more use.
		if err := scan.RemoveCheckpoint(CheckpointDir(opts.Out)); err != nil {
			note(opts.Notes, "scan: %v", err)
		}
	}

	if fatal != nil {
		return res, fatal
	}
	if res.Outcome.ExitCode == 2 {
		return res, errors.New(strings.Join(res.Outcome.Reasons, "; "))
	}
	if res.Outcome.ExitCode == 1 {
		return res, &GateError{Outcome: res.Outcome}
	}
	return res, nil
}

// stagedRun is a run past its scan: what it has, to publish or to fail
// with.
type stagedRun struct {
	opts      Options
	res       *Result
	stage     string
	scanned   bool
	sum       *snapshot.Summary
	doc       *findings.Document
	gaps      []findings.Gap
	published bool
}

// fail ends the run with err: the verdict becomes error (in the Result
// and in a findings document already built, so nothing shows a pass for
// a run that exits 2), and in scan mode what the run has is written.
func (st *stagedRun) fail(err error) (*Result, error) {
	st.res.Outcome = Decide(st.sum, st.doc, st.res.Conformance, st.gaps, st.opts.FailOn, st.opts.FailOnName, err)
	if st.doc != nil {
		st.doc.Outcome = &st.res.Outcome
	}
	if !st.opts.Report && !st.published {
		if st.doc != nil {
			// Rewritten with the error verdict (the stage may hold one
			// written before the failure).
			_ = writeFindings(filepath.Join(st.stage, FindingsFile), st.doc)
		}
		_ = st.publish()
	}
	return st.res, err
}

// publish moves the stage into Out: the whole report set, or (scan mode)
// snapshot.json and findings.json, removing either from Out when this run
// has none, so Out never pairs files of two runs.
func (st *stagedRun) publish() error {
	st.published = true
	out := st.opts.Out
	if st.opts.Report {
		if err := ReplaceDir(st.stage, out); err != nil {
			return err
		}
		st.res.SnapshotPath = filepath.Join(out, SnapshotFile)
		st.res.FindingsPath = filepath.Join(out, FindingsFile)
		st.res.Written = true
		return nil
	}
	names := []string{FindingsFile, AffectedFile}
	if st.scanned {
		names = append(names, SnapshotFile)
	}
	for _, n := range names {
		from, to := filepath.Join(st.stage, n), filepath.Join(out, n)
		if _, err := os.Stat(from); err != nil {
			if err := os.Remove(to); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("--out: remove the stale %s: %w", to, err)
			}
			continue
		}
		if err := os.Rename(from, to); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		switch n {
		case SnapshotFile:
			st.res.SnapshotPath = to
		case FindingsFile:
			st.res.FindingsPath = to
		}
	}
	st.res.Written = true
	return nil
}

// LoadEngine loads the built-in policies plus the user's, with the
// profile and waivers po names. Every failure is bad input.
func LoadEngine(ctx context.Context, po PolicyOptions) (*policy.Engine, error) {
	wo := findings.WaiverOptions{AllowBroad: po.AllowBroadWaivers, AllowPermanent: po.AllowPermanentWaivers}
	opts := policy.Options{ExtraDirs: po.Dirs, WaiverOptions: wo, Sandbox: po.Sandbox}
	if po.Config != "" || po.Profile != "" {
		cfg := &policy.Config{Default: policy.DefaultProfile(), Profiles: policy.BuiltinProfiles()}
		if po.Config != "" {
			var err error
			if cfg, err = policy.LoadConfig(po.Config); err != nil {
				return nil, inputErrorf("--config: %v", err)
			}
		}
		p, err := cfg.SelectProfile(po.Profile)
		if err != nil {
			return nil, inputErrorf("--profile: %v", err)
		}
		opts.Profile = &p
	}
	if po.Waivers != "" {
		ws, err := findings.LoadWaivers(po.Waivers, wo)
		if err != nil {
			return nil, inputErrorf("--waivers: %v", err)
		}
		opts.Waivers = ws
	}
	engine, err := policy.Load(ctx, opts)
	if err != nil {
		return nil, inputErrorf("load the policies: %v", err)
	}
	return engine, nil
}

// CheckpointDir is where a scan into out keeps its checkpoint: a hidden
// directory beside out (inside it, an audit would refuse to replace out,
// and replacing it would lose the checkpoint).
func CheckpointDir(out string) string {
	out = filepath.Clean(out)
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".checkpoint")
}

// scanTarget scans opts.Target into path for engine's policies. Its error is the scan's own
// failure (interrupted, output failed); what the endpoint answered is data
// in the snapshot.
func scanTarget(ctx context.Context, opts Options, engine *policy.Engine, path string) error {
	t := opts.Target
	cfg := scan.Config{
		BucketGlob: opts.Buckets, Concurrency: opts.Concurrency, RequestRate: opts.RequestRate, Versions: opts.Versions,
		ToolVersion: opts.ToolVersion, PolicyDigest: engine.Digest(), Progress: opts.Progress, Shard: opts.Shard,
		Inventory: opts.Inventory, SkipAccess: opts.NoAccess, ReadProbe: opts.ReadProbe,
		// An allow-list may name keys by alias, which only KMS can resolve:
		// the scan records what they point to for the rules to compare.
		ExtraKeyRefs: engine.Profile().AllowedCMKIDs,
	}
	if opts.Buckets != "" && !strings.ContainsAny(opts.Buckets, `*?[\`) {
		cfg.Buckets = []string{opts.Buckets}
	}
	if len(opts.BucketNames) > 0 {
		// Only named: the glob is one of the names (see scan.Config).
		cfg.Buckets, cfg.BucketGlob = opts.BucketNames, opts.BucketNames[0]
	}
	if mode := opts.ReadProbe.String(); mode != "" {
		note(opts.Notes, "scan: read probe on (%s of the encrypted objects): one more GET of one byte per probed object, under the same --concurrency and --request-rate as the HEADs", mode)
	}
	if !t.Embedded() && (opts.Checkpoint || opts.Resume) {
		// A live target's scan keeps a checkpoint (the demo estate is new
		// on every run: nothing to resume).
		cfg.Checkpoint, cfg.Resume = CheckpointDir(opts.Out), opts.Resume
		switch {
		case !opts.Resume && scan.HasCheckpoint(cfg.Checkpoint):
			note(opts.Notes, "scan: the checkpoint of an interrupted scan in %s is replaced by this scan's (--resume continues it instead)", cfg.Checkpoint)
		case opts.Resume && !scan.HasCheckpoint(cfg.Checkpoint):
			note(opts.Notes, "scan: --resume: no checkpoint in %s, so the scan starts from the beginning", cfg.Checkpoint)
		}
		cfg.OnResume = func(ri scan.ResumeInfo) {
			where := "between two buckets"
			if ri.Bucket != "" {
				where = fmt.Sprintf("in bucket %s after key %q", ri.Bucket, ri.After)
				if ri.After == "" {
					where = fmt.Sprintf("at the beginning of bucket %s", ri.Bucket)
				}
			}
			note(opts.Notes, "scan: resuming scan %s (started %s) from %s: %d buckets copied, it stopped %s",
				ri.ScanID, ri.StartedAt.Format(time.RFC3339), cfg.Checkpoint, ri.Buckets, where)
		}
	}
	if t.Embedded() {
		ref, stop, err := embedded.StartTemp(ctx, embedded.Config{})
		if err != nil {
			return fmt.Errorf("start the embedded reference: %w", err)
		}
		defer stop(context.WithoutCancel(ctx))
		if _, err := estate.Seed(ctx, ref); err != nil {
			return fmt.Errorf("seed the demo estate: %w", err)
		}
		d := client.Dialect(t.Dialect)
		if d == "" {
			d = client.OSS
		}
		// The reference serves both KMS APIs: the one that goes with the
		// dialect (or --kms-dialect) reads the keys.
		kmsDialect := t.KMSDialect
		if kmsDialect == "" {
			kmsDialect = DefaultKMSDialect(d)
		}
		kmsEndpoint := ref.KMSEndpoint
		if kmsDialect == KMSAWS {
			kmsEndpoint = ref.AWSKMSEndpoint
		}
		note(opts.Notes, "scan: no --endpoint: scanning a demo estate on the embedded reference at %s (%s, keys through %s KMS)", ref.Endpoint, d, kmsName(kmsDialect))
		t = Target{Endpoint: ref.Endpoint, Dialect: string(d), Region: ref.Region,
			AccessKeyID: ref.AccessKeyID, AccessKeySecret: ref.AccessKeySecret,
			KMSEndpoint: kmsEndpoint, KMSDialect: kmsDialect, KMSAccessKeyID: ref.AccessKeyID, KMSAccessKeySecret: ref.AccessKeySecret}
		cfg.TargetInfo = snapshot.Target{Kind: "reference", Dialect: t.Dialect, Endpoint: t.Endpoint, KMSEndpoint: t.KMSEndpoint}
	} else {
		cfg.TargetInfo = snapshot.Target{Kind: t.Dialect, Dialect: t.Dialect, Endpoint: t.Endpoint, KMSEndpoint: t.KMSEndpoint, Principal: t.AccessKeyID}
	}
	var err error
	d := client.Dialect(t.Dialect)
	if cfg.Client, err = client.New(client.Config{Dialect: d, Endpoint: t.Endpoint, Region: t.Region, AccessKeyID: t.AccessKeyID, AccessKeySecret: t.AccessKeySecret}); err != nil {
		return &InputError{Err: fmt.Errorf("--endpoint: %w", err)}
	}
	cfg.Region = t.Region
	switch {
	case t.KMSEndpoint == "":
	case t.KMSDialectOf() == KMSAWS:
		if cfg.AWSKMS, err = awskms.New(ctx, awskms.Config{Endpoint: t.KMSEndpoint, Region: t.Region,
			AccessKeyID: t.KMSAccessKeyID, SecretAccessKey: t.KMSAccessKeySecret, SessionToken: t.KMSSessionToken}); err != nil {
			return &InputError{Err: fmt.Errorf("--kms-endpoint (AWS KMS): %w", err)}
		}
	default:
		if cfg.KMS, err = client.KMS(client.KMSConfig{Endpoint: t.KMSEndpoint, Region: t.Region, AccessKeyID: t.KMSAccessKeyID, AccessKeySecret: t.KMSAccessKeySecret}); err != nil {
			return &InputError{Err: fmt.Errorf("--kms-endpoint: %w", err)}
		}
	}
	if _, err := scan.RunToFile(ctx, cfg, path); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: the partial snapshot %s is marked incomplete", path)
		}
		var ce *scan.CheckpointError
		if errors.As(err, &ce) {
			return &InputError{Err: err}
		}
		var ie *scan.InventoryError
		if errors.As(err, &ie) {
			// A bad inventory report is bad input; its message names the fix.
			return &InputError{Err: err}
		}
		return fmt.Errorf("scan: %w", err)
	}
	return nil
}

// kmsName names a KMS dialect for people.
func kmsName(kmsDialect string) string {
	if kmsDialect == KMSAWS {
		return "AWS"
	}
	return "Alibaba Cloud"
}

// previous finds the snapshot to compare with: opts.Previous (bad input if
// unreadable), else the target's previous scan in history (a drift gap if
// its snapshot cannot be read any more). Its summary is read lean: the
// run reads only its provenance and state (the engine reads the previous
// buckets itself).
func previous(opts Options, hist *history.DB, sum *snapshot.Summary) (string, *snapshot.Summary, []findings.Gap, error) {
	if opts.Previous != "" {
		ps, err := snapshot.ReadLeanSummary(opts.Previous)
		if err != nil {
			return "", nil, nil, inputErrorf("--previous %s: %v", opts.Previous, err)
		}
		if a, b := history.TargetKey(ps.Provenance.Target), history.TargetKey(sum.Provenance.Target); a != b {
			return "", nil, nil, inputErrorf("--previous %s is a snapshot of %s, this run is of %s: drift is found by comparing a target with itself", opts.Previous, a, b)
		}
		return opts.Previous, &ps, nil, nil
	}
	if hist == nil {
		return "", nil, nil, nil
	}
	// The newest earlier scan that read the target to the end (databases
	// of older versions may hold incomplete ones: they are passed over).
	before := sum.Provenance.StartedAt
	for range maxPreviousTries {
		rec, ok, err := hist.Previous(history.TargetKey(sum.Provenance.Target), before)
		if err != nil {
			return "", nil, nil, fmt.Errorf("history: %w", err)
		}
		if !ok || rec.ScanID == sum.Provenance.ScanID {
			return "", nil, nil, nil
		}
		ps, err := snapshot.ReadLeanSummary(rec.SnapshotPath)
		if err != nil {
			gap := findings.Gap{Kind: findings.GapDrift, Count: 1, Detail: fmt.Sprintf(
				"the previous scan %s could not be read (%v), so existing objects were not compared with it (SSE-007)", rec.ScanID, err)}
			return "", nil, []findings.Gap{gap}, nil
		}
		if ps.Complete && ps.Coverage.ListBucketsError == nil {
			return rec.SnapshotPath, &ps, nil, nil
		}
		before = rec.StartedAt
	}
	gap := findings.Gap{Kind: findings.GapDrift, Count: 1, Detail: fmt.Sprintf(
		"none of the last %d scans in history read the target to the end, so existing objects were not compared (SSE-007)", maxPreviousTries)}
	return "", nil, []findings.Gap{gap}, nil
}

// maxPreviousTries bounds how far back previous looks for a complete scan.
const maxPreviousTries = 20

// recordEvaluation records in hist which findings the scan saw, the
// document's and every per-object one (for first-seen times), and its
// outcome (for trends).
func recordEvaluation(hist *history.DB, sum *snapshot.Summary, doc *findings.Document, objectIDs string) error {
	ids := make([]string, 0, min(doc.Len(), objectIDBatch))
	o := history.Outcome{BySeverity: map[string]int{}}
	// In transactions of objectIDBatch ids, as the per-object ones.
	err := doc.Each(func(x *findings.Finding) error {
		ids = append(ids, x.ID)
		if x.Suppressed {
			o.Suppressed++
		} else {
			o.Open++
			o.BySeverity[x.Severity.String()]++
		}
		if len(ids) == objectIDBatch {
			if err := hist.RecordFindings(sum.Provenance.ScanID, sum.FinishedAt, ids); err != nil {
				return fmt.Errorf("history: %w", err)
			}
			ids = ids[:0]
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := hist.RecordFindings(sum.Provenance.ScanID, sum.FinishedAt, ids); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if objectIDs != "" {
		if err := recordObjectIDs(hist, sum, objectIDs); err != nil {
			return err
		}
	}
	if err := hist.RecordOutcome(sum.Provenance.ScanID, o); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// trendOf is the report's trend: the target's evaluated scans in hist,
// oldest first.
func trendOf(hist *history.DB, targetKey string) ([]reports.TrendPoint, error) {
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

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func note(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
