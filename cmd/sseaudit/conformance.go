package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/client"
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
}

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

Exit codes: 0 when every selected scenario that ran passed, 1 when a
scenario failed, 2 when the run could not happen (bad flags or tags, no
scenario selected, an endpoint unreachable or refusing the credentials,
every scenario skipped).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	fl.StringVar(&f.out, "out", "", "directory for junit.xml and cucumber.json")
	fl.StringVar(&f.prefix, "bucket-prefix", "sseaudit-conf-", "prefix of every bucket the run creates")
	fl.BoolVar(&f.dryRun, "dry-run", false, "list the scenarios and the buckets they would create, then exit")
	fl.IntVar(&f.concurrency, "concurrency", 1, "scenarios run at once")
	fl.StringArrayVar(&f.kmsKeys, "kms-key", nil, "an existing KMS key id or ARN the key scenarios use instead of creating keys (repeat for a second; never disabled, deleted or rotated; needs --endpoint)")
	fl.StringVar(&f.kmsDisabledKey, "kms-disabled-key", "", "an existing disabled KMS key id or ARN, for the scenario that checks a disabled key cannot encrypt (needs --endpoint)")
	fl.StringVar(&f.s3DefaultKeyAlias, "s3-default-key-alias", "", "alias of the S3 store's own managed KMS key (default alias/aws/s3)")
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
