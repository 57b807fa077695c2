package main

import (
	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/pipeline"
)

func newAuditCommand(e env) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Scan, run the conformance suite and write a signed report in every format",
		Long: `Run a whole audit and write a signed report directory. It takes every flag
of 'sseaudit scan' and judges the same way (same findings, gaps and exit
codes), plus --signing-key, --conformance and --bucket-prefix.

With no --endpoint, the embedded reference starts in a temporary directory:
the conformance suite runs against it (both dialects) and a demo estate is
seeded and scanned. With --endpoint that target is scanned; the conformance
suite runs against it only with --conformance, since it creates (and
deletes) buckets named with --bucket-prefix.

The report directory (--out, replaced if it holds an earlier report) gets
report.json, every format rendered from it, snapshot.json and cucumber.json,
then manifest.json and manifest.sig: the SHA-256 of every file, signed with
an Ed25519 key (--signing-key, created on first use, mode 0600) and linked to
the previous report signed with that key (chain.json beside the key). Check
it with 'sseaudit report verify DIR'.

Exit codes: 0 clean; 1 findings at or above --fail-on, unaccepted coverage
gaps or a failed conformance scenario; 2 the audit itself failed or bad
input. The report is written and signed in every case but bad input; a run
that could not read its target is marked so in every format.` + envHelp,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindEnv(cmd, e)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, e, func(opts *pipeline.Options) error {
				if f.conformance && f.endpoint == "" {
					return errConformanceFlag
				}
				opts.Report = true
				opts.Sign = &pipeline.Signing{KeyPath: f.signingKey}
				if (f.endpoint == "" && f.fromSnapshot == "") || f.conformance {
					opts.Conformance = &pipeline.Conformance{BucketPrefix: f.prefix}
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	addRunFlags(fl, &f, "sseaudit-report")
	fl.StringVar(&f.signingKey, "signing-key", defaultSigningKeyPath(), "Ed25519 signing key (PEM PKCS #8 or base64 seed; created 0600 if missing)")
	fl.BoolVar(&f.conformance, "conformance", false, "with --endpoint: also run the conformance suite (it creates buckets)")
	fl.StringVar(&f.prefix, "bucket-prefix", "sseaudit-conf-", "prefix of every bucket the conformance suite creates")
	return cmd
}
