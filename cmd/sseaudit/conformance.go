package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/matrix"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/steps"
)

type conformanceFlags struct {
	endpoint, dialect, region, kmsEndpoint string
	kmsDialect                             string
	tags, format, out, prefix              string
	dryRun                                 bool
	concurrency                            int
	kmsKeys                                []string
	kmsDisabledKey, s3DefaultKeyAlias      string
	// targets is the --targets file: several targets, one matrix.
	targets string
}

// perTargetFlags are the flags a --targets file sets per target.
var perTargetFlags = []string{"endpoint", "dialect", "region", "kms-endpoint", "kms-dialect", "kms-key", "kms-disabled-key", "s3-default-key-alias"}

func newConformanceCommand(e env) *cobra.Command {
	var f conformanceFlags
	cmd := &cobra.Command{
		Use:   "conformance",
		Short: "Run the SSE conformance scenarios against the embedded reference or an endpoint",
		Long: `Run the Gherkin scenarios that prove server-side encryption behaves as the
OSS documentation says: both ways of enabling it, response headers, the KMS
key recorded, and that changing a bucket default never touches existing
objects.

With no --endpoint, the embedded reference starts on loopback in a temporary
directory and every scenario runs in both dialects (OSS and S3), or in
--dialect only. OSS scenarios manage their keys through the reference's
Alibaba Cloud KMS API, S3 scenarios through its AWS KMS API (aws-sdk-go-v2).

With --endpoint, the scenarios run against that endpoint in one dialect; the
other dialect's scenarios are not applicable and not selected (the summary
counts them apart). Credentials come from OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET
(oss) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (s3); key scenarios need
--kms-endpoint, whose API is --kms-dialect: aws (default for s3; the same AWS
credentials, else the AWS SDK's default chain) or alibaba (default for oss;
ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET).
Scenarios tagged @emulator need the reference's admin hooks and are skipped,
with the reason in the output. Only buckets the run creates, named with
--bucket-prefix, are touched; --dry-run lists the selection, with the reason
for every scenario that would be skipped, and sends nothing.

With --targets FILE, the suite runs once per target of the YAML file (the
embedded reference in either dialect, optionally with a deliberate fault,
or an endpoint with its dialect, region, KMS and the names of the
environment variables holding its credentials; see
docs/conformance-targets.yaml), one target after the other. Each target's
junit.xml, cucumber.json and console output go to --out/NAME, and
matrix.html and matrix.md (scenario by target, the rows whose status or
answers differ) to --out.

Exit codes: 0 when every selected scenario that ran passed, 1 when a
scenario failed, 2 when the run could not happen (bad flags, tags or
targets file, no scenario selected, an endpoint unreachable or refusing the
credentials, every scenario skipped). With --targets: 1 when a target
failed a scenario, 2 when a target could not be reached or ran nothing
(the matrix is still written, with that target's column).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.targets != "" {
				var clash []string
				for _, n := range perTargetFlags {
					if cmd.Flags().Changed(n) {
						clash = append(clash, "--"+n)
					}
				}
				if len(clash) > 0 {
					return fmt.Errorf("%s cannot go with --targets: each target sets its own in %s", strings.Join(clash, ", "), f.targets)
				}
				return runConformanceTargets(cmd.Context(), e, f)
			}
			return runConformance(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.endpoint, "endpoint", "", "endpoint URL (default: the embedded reference)")
	fl.StringVar(&f.dialect, "dialect", "", "oss or s3 (required with --endpoint; without it, only that dialect's scenarios run on the embedded reference)")
	fl.StringVar(&f.region, "region", "cn-hangzhou", "region of the endpoint")
	fl.StringVar(&f.kmsEndpoint, "kms-endpoint", "", "KMS endpoint URL for key scenarios (its API: --kms-dialect)")
	fl.StringVar(&f.kmsDialect, "kms-dialect", "", "API of the KMS endpoint: aws (AWS KMS; default for --dialect s3) or alibaba (Alibaba Cloud KMS; default for oss)")
	fl.StringVar(&f.tags, "tags", "", "godog tag expression, e.g. '@kms && ~@s3'")
	fl.StringVar(&f.format, "format", "", "output formats, comma-separated: pretty, progress, junit, cucumber (default progress on a terminal, else pretty)")
	fl.StringVar(&f.out, "out", "", "directory for junit.xml and cucumber.json (with --targets: one sub-directory per target, and matrix.html and matrix.md)")
	fl.StringVar(&f.prefix, "bucket-prefix", "sseaudit-conf-", "prefix of every bucket the run creates")
	fl.BoolVar(&f.dryRun, "dry-run", false, "list the scenarios and the buckets they would create, then exit")
	fl.IntVar(&f.concurrency, "concurrency", 1, "scenarios run at once")
	fl.StringArrayVar(&f.kmsKeys, "kms-key", nil, "an existing KMS key id or ARN the key scenarios use instead of creating keys (repeat for a second; never disabled, deleted or rotated; needs --endpoint)")
	fl.StringVar(&f.kmsDisabledKey, "kms-disabled-key", "", "an existing disabled KMS key id or ARN, for the scenario that checks a disabled key cannot encrypt (needs --endpoint)")
	fl.StringVar(&f.s3DefaultKeyAlias, "s3-default-key-alias", "", "alias of the S3 store's own managed KMS key (default alias/aws/s3)")
	fl.StringVar(&f.targets, "targets", "", "YAML file of named targets: run the suite once per target and write the matrix (matrix.html, matrix.md) to --out")
	return cmd
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// formats turns --format and --out into godog's format string.
func formats(e env, f conformanceFlags) (string, error) {
	names := f.format
	if names == "" {
		names = "pretty"
		if isTerminal(e.stdout) {
			names = "progress"
		}
	}
	var parts []string
	seen := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		switch n {
		case "":
			continue
		case "pretty", "progress":
			parts = append(parts, n)
		case "junit", "cucumber":
			if f.out == "" {
				return "", fmt.Errorf("--format %s writes a file: add --out DIR", n)
			}
		default:
			return "", fmt.Errorf("--format %q: use pretty, progress, junit or cucumber", n)
		}
		seen[n] = true
	}
	if f.out != "" && !f.dryRun {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return "", fmt.Errorf("--out: %w", err)
		}
		// junit.xml is written by package reports from the results (godog's
		// junit writer reports skipped scenarios as errors).
		parts = append(parts, "cucumber:"+filepath.Join(f.out, "cucumber.json"))
	}
	return strings.Join(parts, ","), nil
}

func envCreds(e env, dialect client.Dialect) (string, string, error) {
	var id, secret []string
	switch dialect {
	case client.OSS:
		id = []string{"OSS_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"}
		secret = []string{"OSS_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}
	case client.S3:
		id = []string{"AWS_ACCESS_KEY_ID"}
		secret = []string{"AWS_SECRET_ACCESS_KEY"}
	}
	for i := range id {
		if a, s := e.getenv(id[i]), e.getenv(secret[i]); a != "" && s != "" {
			return a, s, nil
		}
	}
	return "", "", fmt.Errorf("no credentials for the %s endpoint: set %s and %s", dialect, id[0], secret[0])
}

func runConformance(ctx context.Context, e env, f conformanceFlags) error {
	format, err := formats(e, f)
	if err != nil {
		return err
	}
	var opts steps.Options
	d := client.Dialect(strings.ToLower(strings.TrimSpace(f.dialect)))
	kmsDialect := strings.ToLower(strings.TrimSpace(f.kmsDialect))
	if d != "" && d != client.OSS && d != client.S3 {
		return fmt.Errorf("--dialect %q: use oss or s3", f.dialect)
	}
	if err := pipeline.CheckKMSDialect(kmsDialect, d); err != nil {
		return err
	}
	if kmsDialect == "" {
		kmsDialect = pipeline.DefaultKMSDialect(d)
	}
	if f.endpoint == "" {
		if f.kmsEndpoint != "" {
			return errors.New("--kms-endpoint needs --endpoint; without it the embedded reference is used, with its own KMS")
		}
		if len(f.kmsKeys) > 0 || f.kmsDisabledKey != "" {
			return errors.New("--kms-key and --kms-disabled-key need --endpoint: they name keys that exist in that store's KMS")
		}
		if f.dryRun {
			// A dry run of the embedded reference has every capability; it
			// sends nothing, so the emulator's hooks are never called.
			opts = steps.Options{Targets: map[client.Dialect]client.Config{client.OSS: {}, client.S3: {}}, KMS: &client.KMSConfig{}, Emulator: dryRunEmulator{}}
			if d != "" {
				opts.Targets = map[client.Dialect]client.Config{d: {}}
			}
		} else {
			dir, err := os.MkdirTemp("", "sseaudit-conformance-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			var stop func(context.Context) error
			opts, stop, err = steps.Reference(ctx, dir, nil)
			if err != nil {
				return fmt.Errorf("start the embedded reference: %w", err)
			}
			defer stop(context.WithoutCancel(ctx))
			if d == "" {
				fmt.Fprintln(e.stderr, "conformance: running against the embedded reference (both dialects; S3 keys through its AWS KMS API, OSS keys through its Alibaba Cloud KMS API)")
			} else {
				// That dialect's scenarios only, keys through the KMS API
				// that goes with it (--kms-dialect).
				opts.Targets = map[client.Dialect]client.Config{d: opts.Targets[d]}
				if kmsDialect == pipeline.KMSAlibaba {
					opts.AWSKMS = nil
				}
				fmt.Fprintf(e.stderr, "conformance: running against the embedded reference (%s only, keys through its %s KMS API)\n", d, kmsLabel(kmsDialect))
			}
		}
	} else {
		if d != client.OSS && d != client.S3 {
			return fmt.Errorf("--dialect %q: use oss or s3", f.dialect)
		}
		ak, sk, err := envCreds(e, d)
		if err != nil && !f.dryRun {
			return err
		}
		opts.Targets = map[client.Dialect]client.Config{d: {Dialect: d, Endpoint: f.endpoint, Region: f.region, AccessKeyID: ak, AccessKeySecret: sk}}
		switch {
		case f.kmsEndpoint == "":
		case kmsDialect == pipeline.KMSAWS:
			// The S3 target's AWS credentials, else the AWS SDK's default chain.
			kak, ksk, _ := pipeline.AWSKMSCredentials(e.getenv)
			opts.AWSKMS = &client.KMSConfig{Endpoint: f.kmsEndpoint, Region: f.region, AccessKeyID: kak, AccessKeySecret: ksk}
		default:
			kak, ksk := e.getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), e.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			if (kak == "" || ksk == "") && !f.dryRun {
				return errors.New("--kms-endpoint needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			}
			opts.KMS = &client.KMSConfig{Endpoint: f.kmsEndpoint, Region: f.region, AccessKeyID: kak, AccessKeySecret: ksk}
		}
		opts.Keys, opts.DisabledKey = f.kmsKeys, f.kmsDisabledKey
		fmt.Fprintf(e.stderr, "conformance: running against %s (%s); @emulator scenarios are skipped: they need the reference's admin hooks\n", f.endpoint, d)
	}
	if f.s3DefaultKeyAlias != "" {
		opts.S3DefaultKeyAlias = f.s3DefaultKeyAlias
	}
	if !f.dryRun {
		// The banner says exactly which SSE-KMS behaviours this run leaves
		// untested: a dry run of the same selection sends nothing.
		dry := opts
		dry.DryRun, dry.Output, dry.Tags = true, io.Discard, f.tags
		if res, derr := steps.Run(ctx, dry); derr == nil {
			for _, u := range steps.UntestedKMS(res) {
				fmt.Fprintf(e.stderr, "conformance: SSE-KMS untested: %s\n", u)
			}
		}
	}
	opts.Tags, opts.Format, opts.Output = f.tags, format, e.stdout
	opts.BucketPrefix, opts.Concurrency = f.prefix, f.concurrency
	if f.dryRun {
		// steps.Run selects exactly as a real run would and lists the
		// selection with the reasons.
		opts.DryRun = true
		if _, err := steps.Run(ctx, opts); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "dry run: nothing was sent. Each scenario that runs creates its own buckets named %s<run>-<n> and, where it says so, KMS keys; it deletes them (keys: scheduled for deletion) afterwards. Nothing else is touched.\n", opts.BucketPrefix)
		return nil
	}
	res, err := steps.Run(ctx, opts)
	if f.out != "" && len(res.Scenarios) > 0 {
		if werr := writeJUnit(filepath.Join(f.out, "junit.xml"), res); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if f.out != "" {
		fmt.Fprintf(e.stderr, "conformance: wrote %s and %s\n", filepath.Join(f.out, "junit.xml"), filepath.Join(f.out, "cucumber.json"))
	}
	if res.ExitCode != 0 {
		// The one gate failure of this command: a scenario failed.
		return &exitError{code: 1, err: fmt.Errorf("conformance failed: %d of %d scenarios failed", res.Failed, len(res.Scenarios))}
	}
	return nil
}

// kmsLabel names a KMS dialect for people.
func kmsLabel(kmsDialect string) string {
	if kmsDialect == pipeline.KMSAWS {
		return "AWS"
	}
	return "Alibaba Cloud"
}

// dryRunEmulator stands in for the reference's admin hooks in a dry run,
// which selects scenarios but never runs a step.
type dryRunEmulator struct{ steps.Emulator }

func writeJUnit(path string, res results.Run) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if err := reports.ConformanceJUnit(fh, "sseaudit conformance", res); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// consoleFormat is the godog output each target of a --targets run writes
// to its output.txt: --format's pretty and progress (default pretty).
// junit and cucumber are accepted: every target writes both anyway.
func consoleFormat(format string) (string, error) {
	var out []string
	for _, n := range strings.Split(format, ",") {
		switch n = strings.TrimSpace(n); n {
		case "", "junit", "cucumber":
		case "pretty", "progress":
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		default:
			return "", fmt.Errorf("--format %q: use pretty, progress, junit or cucumber", n)
		}
	}
	if len(out) == 0 {
		return "pretty", nil
	}
	return strings.Join(out, ","), nil
}

// targetDryOptions are the options of a dry run of t: the selection a real
// run would make, without credentials, without starting anything.
func targetDryOptions(t confTarget, getenv func(string) string) (steps.Options, error) {
	if t.isEmbedded() {
		// As a dry run of the embedded reference without --targets: every
		// capability, nothing ever called.
		return steps.Options{Targets: map[client.Dialect]client.Config{t.dialect: {}}, KMS: &client.KMSConfig{}, Emulator: dryRunEmulator{}}, nil
	}
	return t.stepsOptions(getenv, true)
}

// runConformanceTargets runs the suite once per target of the --targets
// file, one after the other (the CPU and the stores' rate limits are
// shared), and writes every target's reports and the matrix.
//
// Before anything runs, every target is checked: the file, the variables
// it names, and a dry run of each target's selection, so a typo stops the
// run at once rather than after the first targets ran. A target that then
// cannot be reached keeps its column (its scenarios unreachable) and fails
// the run; it is never dropped.
func runConformanceTargets(ctx context.Context, e env, f conformanceFlags) error {
	if f.out == "" && !f.dryRun {
		return errors.New("--targets writes a directory per target and the matrix (matrix.html, matrix.md): add --out DIR")
	}
	console, err := consoleFormat(f.format)
	if err != nil {
		return err
	}
	targets, err := loadTargets(f.targets)
	if err != nil {
		return err
	}
	selections := make([]results.Run, len(targets))
	for i, t := range targets {
		opts, err := targetDryOptions(t, e.getenv)
		if err != nil {
			return targetsError(f.targets, t.line, t.Name, "%v", err)
		}
		var listing strings.Builder
		opts.DryRun, opts.Tags, opts.Output, opts.BucketPrefix = true, f.tags, &listing, f.prefix
		res, err := steps.Run(ctx, opts)
		if err != nil {
			hint := ""
			if strings.Contains(err.Error(), "no scenario") || strings.Contains(err.Error(), "tag") {
				// The selection left the target nothing, or --tags is bad.
				hint = "; change --tags, or remove the target from the file"
			}
			return targetsError(f.targets, t.line, t.Name, "%v%s", err, hint)
		}
		selections[i] = res
		if f.dryRun {
			fmt.Fprintf(e.stdout, "== target %s: %s\n%s\n", t.Name, t.describe(), listing.String())
		}
	}
	if f.dryRun {
		fmt.Fprintf(e.stdout, "dry run: nothing was sent and no reference was started. Each target's scenarios create their own buckets named %s<run>-<n> and delete them afterwards.\n", f.prefix)
		return nil
	}
	// Every credential is read before the first target runs.
	opts := make([]steps.Options, len(targets))
	for i, t := range targets {
		if t.isEmbedded() {
			continue
		}
		if opts[i], err = t.stepsOptions(e.getenv, false); err != nil {
			return targetsError(f.targets, t.line, t.Name, "%v", err)
		}
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	var cols []matrix.Column
	var failed, broken []string
	for i, t := range targets {
		fmt.Fprintf(e.stderr, "conformance: [%d/%d] %s: %s\n", i+1, len(targets), t.Name, t.describe())
		col, err := runTarget(ctx, f, t, opts[i], console, selections[i])
		if err != nil {
			return fmt.Errorf("target %q: %w", t.Name, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("conformance interrupted during target %q: %w", t.Name, ctx.Err())
		}
		switch {
		case col.Unreachable:
			fmt.Fprintf(e.stderr, "conformance: %s: unreachable: %s\n", t.Name, col.Error)
		case col.Error != "":
			fmt.Fprintf(e.stderr, "conformance: %s: %s: %s\n", t.Name, steps.SummaryLine(col.Run), col.Error)
		default:
			fmt.Fprintf(e.stderr, "conformance: %s: %s\n", t.Name, steps.SummaryLine(col.Run))
		}
		if col.Error != "" {
			broken = append(broken, t.Name)
		}
		if col.Run.Failed > 0 && !col.Unreachable {
			failed = append(failed, t.Name)
		}
		cols = append(cols, col)
	}
	m := matrix.Build(cols)
	htmlPath, mdPath := filepath.Join(f.out, "matrix.html"), filepath.Join(f.out, "matrix.md")
	if err := writeFileWith(htmlPath, func(w io.Writer) error { return matrix.WriteHTML(w, m) }); err != nil {
		return err
	}
	if err := writeFileWith(mdPath, func(w io.Writer) error { return matrix.WriteMarkdown(w, m) }); err != nil {
		return err
	}
	printMatrixSummary(e.stdout, m)
	fmt.Fprintf(e.stdout, "wrote %s, %s and, per target, %s (junit.xml, cucumber.json, output.txt)\n", htmlPath, mdPath, filepath.Join(f.out, "NAME"))
	switch {
	case len(broken) > 0:
		return fmt.Errorf("conformance: %d of %d targets could not be tested (%s): the matrix shows why; check their endpoints and credentials, or --tags", len(broken), len(targets), strings.Join(broken, ", "))
	case len(failed) > 0:
		return &exitError{code: exitGate, err: fmt.Errorf("conformance failed on %d of %d targets (%s)", len(failed), len(targets), strings.Join(failed, ", "))}
	}
	return nil
}

// runTarget runs the suite against one target, writing its reports to
// --out/NAME, and returns its column of the matrix. A run that could not
// happen is the column's error, not runTarget's: runTarget fails only
// when it cannot write its reports.
func runTarget(ctx context.Context, f conformanceFlags, t confTarget, opts steps.Options, console string, selection results.Run) (matrix.Column, error) {
	col := matrix.Column{Name: t.Name}
	dir := filepath.Join(f.out, t.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return col, fmt.Errorf("--out: %w", err)
	}
	fh, err := os.Create(filepath.Join(dir, "output.txt"))
	if err != nil {
		return col, fmt.Errorf("--out: %w", err)
	}
	defer fh.Close()
	if t.isEmbedded() {
		tmp, err := os.MkdirTemp("", "sseaudit-conformance-")
		if err != nil {
			return col, err
		}
		defer os.RemoveAll(tmp)
		ref, stop, err := steps.Reference(ctx, tmp, t.faults)
		if err != nil {
			return col, fmt.Errorf("start the embedded reference: %w", err)
		}
		defer stop(context.WithoutCancel(ctx))
		// That dialect's scenarios only, keys through the KMS API that
		// goes with it, as with --dialect.
		opts = ref
		opts.Targets = map[client.Dialect]client.Config{t.dialect: ref.Targets[t.dialect]}
		if t.kmsDialect == pipeline.KMSAlibaba {
			opts.AWSKMS = nil
		}
	}
	opts.Tags, opts.Output, opts.Concurrency = f.tags, fh, f.concurrency
	opts.Format = console + ",cucumber:" + filepath.Join(dir, "cucumber.json")
	if f.prefix != "" {
		opts.BucketPrefix = f.prefix
	}
	res, runErr := steps.Run(ctx, opts)
	if len(res.Scenarios) > 0 {
		if err := writeJUnit(filepath.Join(dir, "junit.xml"), res); err != nil {
			return col, err
		}
	}
	switch {
	case runErr != nil && len(res.Scenarios) == 0:
		// Nothing ran: the target owes the scenarios its dry run selected.
		col.Run, col.Error, col.Unreachable = selection, runErr.Error(), true
		fmt.Fprintf(fh, "\n%s\n", runErr)
	case runErr != nil:
		col.Run, col.Error = res, runErr.Error()
	default:
		col.Run = res
	}
	return col, fh.Close()
}

// writeFileWith creates path and writes it with write.
func writeFileWith(path string, write func(io.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(fh); err != nil {
		fh.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return fh.Close()
}

// maxDifferingRows bounds the differing rows printed; matrix.md has all.
const maxDifferingRows = 20

// printMatrixSummary prints the matrix in short: per target its totals
// (and why it could not be tested), then the rows that differ.
func printMatrixSummary(w io.Writer, m matrix.Matrix) {
	fmt.Fprintf(w, "conformance matrix: %d scenarios, %d targets, %d rows differ\n", len(m.Rows), len(m.Columns), m.Differing)
	width := 0
	for _, c := range m.Columns {
		width = max(width, len(c))
	}
	for i, c := range m.Columns {
		t := m.Totals(i)
		line := fmt.Sprintf("  %-*s  %d passed, %d failed, %d skipped, %d not applicable", width, c, t.Passed, t.Failed, t.Skipped, t.NotApplicable)
		if t.Unreachable > 0 {
			line += fmt.Sprintf(", %d unreachable", t.Unreachable)
		}
		if m.Errors[i] != "" {
			line += " (" + oneLineOf(m.Errors[i]) + ")"
		}
		fmt.Fprintln(w, line)
	}
	if m.Differing == 0 {
		return
	}
	fmt.Fprintf(w, "rows that differ (%s):\n", strings.Join(m.Columns, " | "))
	shown := 0
	for i, r := range m.Rows {
		if !r.Differs {
			continue
		}
		if shown == maxDifferingRows {
			fmt.Fprintf(w, "  ... and %d more (see matrix.md)\n", m.Differing-shown)
			break
		}
		shown++
		var cells []string
		for _, c := range r.Cells {
			s := c.Status
			if c.Severity != "" && c.Status != results.StatusSkipped {
				s += " (" + c.Severity + ")"
			}
			cells = append(cells, s)
		}
		fmt.Fprintf(w, "  %d. %s / %s: %s\n", i+1, r.Feature, r.Name, strings.Join(cells, " | "))
	}
}

// oneLineOf folds an error onto one line.
func oneLineOf(s string) string { return strings.Join(strings.Fields(s), " ") }
