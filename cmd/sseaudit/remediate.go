package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/remediate"
)

func newRemediateCommand(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remediate",
		Short: "Plan and apply the re-encryption of what a scan found, losing nothing",
		Long: `Plan from a signed report, then apply: each object is copied onto itself
with the planned encryption, keeping its metadata, content headers, tags,
ACL and storage class, conditional on the ETag the scan saw. See
'sseaudit remediate plan --help' and 'sseaudit remediate apply --help'.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newRemediatePlanCommand(e), newRemediateApplyCommand(e))
	return cmd
}

func newRemediatePlanCommand(e env) *cobra.Command {
	var (
		report, out, method, kmsKey string
		maxAge                      time.Duration
		rate                        float64
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Write a remediation plan from a signed report directory",
		Long: `Verify the signed report directory (--report), then write a plan (--out):
per bucket the default encryption to set where it is missing or weaker
than --method/--kms-key, the objects to re-encrypt with the ETag, size,
version id and LastModified the scan saw, and the noncurrent unencrypted
versions, listed apart and never deleted. Waived objects are left out.
The summary (objects, bytes, estimated requests and time at --rate) is
printed.

Exit codes: 0 the plan was written; 2 bad input (a report that does not
verify, an incomplete scan, a scan older than --max-age, a bad --method).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if report == "" {
				return fmt.Errorf("remediate plan: --report is required: the signed report directory of an 'sseaudit audit --endpoint ...'")
			}
			p, err := remediate.Build(cmd.Context(), report, remediate.PlanOptions{
				Encryption: remediate.Encryption{Algorithm: method, KMSKeyID: kmsKey}, MaxAge: maxAge, Tool: toolVersion()})
			if err != nil {
				return err
			}
			if err := remediate.Write(out, p); err != nil {
				return err
			}
			threshold := remediate.S3CopyLimit
			if p.Target.Dialect == string(client.OSS) {
				threshold = remediate.OSSCopyLimit
			}
			est := remediate.EstimateCost(p, threshold, remediate.DefaultPartSize, rate)
			s := p.Summary
			fmt.Fprintf(e.stdout, "plan %s: %d bucket(s), %d default(s) to set, %s object(s) to re-encrypt (%s), %s noncurrent unencrypted version(s) listed (%s, kept)\n",
				out, s.Buckets, s.DefaultsToSet, findings.Thousands(int64(s.Objects)), findings.HumanBytes(s.Bytes),
				findings.Thousands(int64(s.NoncurrentObjects)), findings.HumanBytes(s.NoncurrentBytes))
			if rate > 0 {
				fmt.Fprintf(e.stdout, "estimate: %s requests, about %s at %g requests/s\n", findings.Thousands(est.Requests), est.Duration.Round(time.Second), rate)
			} else {
				fmt.Fprintf(e.stdout, "estimate: %s requests (give --rate for a time)\n", findings.Thousands(est.Requests))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&report, "report", "", "signed report directory (from 'sseaudit audit')")
	fl.StringVar(&out, "out", "remediation-plan.json", "plan file to write")
	fl.StringVar(&method, "method", client.AlgorithmAES256, "encryption to give: AES256 or KMS")
	fl.StringVar(&kmsKey, "kms-key", "", "with --method KMS: the customer master key id (default: the service key)")
	fl.DurationVar(&maxAge, "max-age", remediate.DefaultMaxAge, "refuse a scan older than this (negative: no limit)")
	fl.Float64Var(&rate, "rate", 0, "requests per second, for the time estimate")
	return cmd
}

func newRemediateApplyCommand(e env) *cobra.Command {
	var (
		planPath, endpoint, dialect, region, journal, result string
		yes                                                  bool
		rate                                                 float64
		concurrency                                          int
		maxAge                                               time.Duration
		threshold, partSize                                  int64
	)
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Apply a remediation plan (a dry run unless --yes)",
		Long: `Check the plan against its target (the plan's endpoint and dialect unless
--endpoint/--dialect say otherwise, which must then agree), the scan's age
(--max-age) and the principal's right to write every bucket (a probe that
changes nothing), then, with --yes, set the planned bucket defaults and
copy every planned object onto itself with the planned encryption: one
CopyObject below --multipart-threshold (default 5 GiB on S3, 1 GiB on OSS),
UploadPartCopy parts above. Each copy keeps user metadata, content type and
content headers, tags, ACL and storage class, is conditional on the ETag
the scan saw (a changed object is skipped and reported), and is verified
(encryption, checksum, metadata, tags, ACL). Every step is fsynced to
--journal first; running the same command again resumes, without redoing
or missing an object. Ctrl-C finishes the copies in flight and stops.
Without --yes nothing is changed. Credentials as for 'sseaudit scan'.

Exit codes: 0 done (skipped objects are listed in --result); 2 bad input
or a run that failed, stopped, or found a copy that does not verify.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if planPath == "" {
				return fmt.Errorf("remediate apply: --plan is required")
			}
			p, sha, err := remediate.Read(planPath)
			if err != nil {
				return err
			}
			if endpoint == "" {
				endpoint = p.Target.Endpoint
			}
			if dialect == "" {
				dialect = p.Target.Dialect
			}
			if region == "" {
				region = p.Target.Region
			}
			d := client.Dialect(dialect)
			id, secret := pipeline.Credentials(e.getenv, d)
			c, err := client.New(client.Config{Dialect: d, Endpoint: endpoint, Region: region, AccessKeyID: id, AccessKeySecret: secret})
			if err != nil {
				return err
			}
			if yes && journal == "" {
				journal = planPath + ".journal"
			}
			res, runErr := remediate.Apply(cmd.Context(), p, remediate.ApplyOptions{
				Client: c, Yes: yes, Rate: rate, Concurrency: concurrency, JournalPath: journal, PlanSHA256: sha,
				MaxAge: maxAge, Threshold: threshold, PartSize: partSize, Log: e.stderr})
			if res == nil {
				return runErr
			}
			if result == "" {
				result = planPath + ".result.json"
			}
			if err := remediate.WriteResult(result, res); err != nil {
				return err
			}
			n := res.Counts
			if res.DryRun {
				fmt.Fprintf(e.stdout, "dry run: %d object(s) and %d bucket default(s) would be changed; nothing was (add --yes); result %s\n", n.Planned, len(res.DefaultsSet), result)
				return runErr
			}
			fmt.Fprintf(e.stdout, "remediation: %d rewritten, %d skipped, %d failed, %d unverified, %d pending of %d; %d default(s) set; %d unencrypted noncurrent version(s) kept; result %s, journal %s\n",
				n.Rewritten, n.Skipped, n.Failed, n.Unverified, n.Pending, n.Planned, len(res.DefaultsSet), len(res.NoncurrentKept), result, journal)
			if runErr != nil {
				return runErr
			}
			if n.Unverified > 0 || n.Failed > 0 {
				return fmt.Errorf("remediate: %d object(s) failed and %d did not verify after the copy: see %s", n.Failed, n.Unverified, result)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&planPath, "plan", "", "plan file (from 'sseaudit remediate plan')")
	fl.StringVar(&endpoint, "endpoint", "", "endpoint URL (default: the plan's; another is refused)")
	fl.StringVar(&dialect, "dialect", "", "oss or s3 (default: the plan's; another is refused)")
	fl.StringVar(&region, "region", "", "region (default: the plan's)")
	fl.BoolVar(&yes, "yes", false, "apply: without it, only check and print what would be done")
	fl.Float64Var(&rate, "rate", 0, "at most this many requests per second (0: no limit)")
	fl.IntVar(&concurrency, "concurrency", remediate.DefaultConcurrency, "objects rewritten at once")
	fl.StringVar(&journal, "journal", "", "append-only journal (default: PLAN.journal); the same one resumes an interrupted apply")
	fl.StringVar(&result, "result", "", "result file: what changed, what was skipped and why (default: PLAN.result.json)")
	fl.DurationVar(&maxAge, "max-age", remediate.DefaultMaxAge, "refuse a plan whose scan is older than this (negative: no limit)")
	fl.Int64Var(&threshold, "multipart-threshold", 0, "copy objects of this size or more in parts (default: 5 GiB on S3, 1 GiB on OSS)")
	fl.Int64Var(&partSize, "part-size", remediate.DefaultPartSize, "UploadPartCopy part size in bytes")
	return cmd
}
