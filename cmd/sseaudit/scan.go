package main

import (
	"github.com/spf13/cobra"
)

func newScanCommand(e env) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan buckets and objects into a snapshot and evaluate the SSE policies",
		Long: `Read every bucket's default encryption and every object's encryption state
(one HEAD per object, since listings do not carry it) into snapshot.json,
evaluate the Rego policies over it, write findings.json and print the open
findings as a table (or --format).

With no --endpoint, a demo estate is seeded into the embedded reference and
scanned (in --dialect, default oss, with key states from the reference's
KMS). With --endpoint, credentials come from OSS_ACCESS_KEY_ID and
OSS_ACCESS_KEY_SECRET (oss) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
(s3); --kms-endpoint adds KMS key states, read through the API of
--kms-dialect: AWS KMS for s3 (the same AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else the AWS SDK's default
chain: AWS_PROFILE, shared config and credentials files, SSO, instance
roles), Alibaba Cloud KMS for oss (ALIBABA_CLOUD_ACCESS_KEY_ID and
ALIBABA_CLOUD_ACCESS_KEY_SECRET).

What the scan could not see is a coverage gap, never a pass: objects not
inspected, buckets not read, KMS key states unknown (for example without
--kms-endpoint), versions not inspected, drift not compared. A gap fails
the run unless --accept-gaps names it.

Exit codes: 0 clean; 1 findings at or above --fail-on or unaccepted gaps;
2 the scan itself failed (unreachable target, refused credentials, wrong
region, nothing readable) or bad input. The snapshot and findings are
written in every case but bad input.` + envHelp,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindEnv(cmd, e)
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd, e, nil) },
	}
	addRunFlags(cmd.Flags(), &f, "sseaudit-scan")
	return cmd
}
