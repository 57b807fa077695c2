package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/remediate"
	"github.com/sseaudit/sseaudit/snapshot"
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
		reportOut, signingKey, historyPath                   string
		yes, rescan, allowMismatch                           bool
		po                                                   pipeline.PolicyOptions
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

With --yes, the objects rewritten are recorded in --history (so the drift
rule SSE-007 knows them for intended rewrites, not storage drift), and
then (--rescan, on by default) the touched buckets are scanned again by the
audit pipeline and the remediation run's own report set is written to
--report-out and signed with --signing-key into the same chain as audits:
every report format of the re-scan, plus remediation.json and
remediation.md (what changed, before and after, with version ids; what
was skipped and why; the defaults set; the unencrypted versions kept; and
whether each planned object is resolved). Check it with 'sseaudit report
verify DIR'. The re-scan judges under the policies --policy, --config,
--profile and --waivers select, as 'sseaudit audit' does: give the ones the
audit was run with. The plan records the profile its report was judged
under, and a re-scan under another is refused before anything is changed
(--allow-profile-mismatch to judge under it anyway).

Exit codes: 0 done, and the re-scan shows every planned object resolved
(skipped objects are listed in --result); 1 the re-scan still finds a
planned object unencrypted (or a planned finding open); 2 bad input (a
malformed --config or --waivers, a profile other than the plan's...) or a
run that failed, stopped, or found a copy that does not verify.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindEnv(cmd, e, append([]string{"signing-key", "history"}, policyFlags...)...)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if planPath == "" {
				return fmt.Errorf("remediate apply: --plan is required")
			}
			p, sha, err := remediate.Read(planPath)
			if err != nil {
				return err
			}
			if rescan {
				// Before anything is changed: the re-scan's policies load,
				// and judge under the plan's profile.
				if err := checkRescanPolicy(cmd.Context(), e, p, po, allowMismatch); err != nil {
					return err
				}
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
			var hist *history.DB
			if historyPath != "" {
				// Even after an interruption: what was rewritten is an
				// intended rewrite, whichever scan sees it next.
				if hist, err = history.Open(historyPath); err != nil {
					return errors.Join(runErr, fmt.Errorf("remediate: history: %w (the rewrites are in the journal %s; choose another --history, or --history '' for none)", err, journal))
				}
				defer hist.Close()
				tk := history.TargetKey(snapshot.Target{Dialect: p.Target.Dialect, Endpoint: p.Target.Endpoint})
				if err := hist.RecordRewrites(tk, remediate.Rewrites(res, sha)); err != nil {
					return errors.Join(runErr, err)
				}
			}
			if runErr != nil {
				if errors.Is(runErr, context.Canceled) {
					fmt.Fprintf(e.stderr, "remediate: interrupted: the copies in flight were finished, verified and journalled (%s); run the same command again to resume\n", journal)
				}
				return runErr
			}
			var rescanErr error
			if rescan {
				if reportOut == "" {
					reportOut = planPath + ".report"
				}
				rescanErr = rescanAndReport(cmd.Context(), e, p, sha, res, rescanTarget{
					t:   pipeline.Target{Endpoint: endpoint, Dialect: dialect, Region: region, AccessKeyID: id, AccessKeySecret: secret},
					out: reportOut, signingKey: signingKey, hist: hist, policy: po})
			}
			if n.Unverified > 0 || n.Failed > 0 {
				return errors.Join(fmt.Errorf("remediate: %d object(s) failed and %d did not verify after the copy: see %s", n.Failed, n.Unverified, result), rescanErr)
			}
			return rescanErr
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
	fl.BoolVar(&rescan, "rescan", true, "with --yes: re-scan the touched buckets and write the signed remediation report set")
	fl.StringVar(&reportOut, "report-out", "", "the remediation's signed report directory (default: PLAN.report; replaced if it holds an earlier report)")
	fl.StringVar(&signingKey, "signing-key", defaultSigningKeyPath(), "Ed25519 signing key, as for 'sseaudit audit' (created 0600 if missing)")
	fl.StringVar(&historyPath, "history", defaultHistoryPath(), "history database: records the rewrites (for the drift rule) and the re-scan (empty: none)")
	fl.StringArrayVar(&po.Dirs, "policy", nil, "re-scan: extra policy directory, as for 'sseaudit audit' (repeatable)")
	fl.StringVar(&po.Config, "config", "", "re-scan: policy config file (organisation profiles and parameters), as for 'sseaudit audit'")
	fl.StringVar(&po.Profile, "profile", "", "re-scan: organisation profile, as for 'sseaudit audit' (must be the one the plan's report was judged under)")
	fl.StringVar(&po.Waivers, "waivers", "", "re-scan: waivers file, as for 'sseaudit audit'")
	fl.BoolVar(&po.AllowBroadWaivers, "allow-broad-waivers", false, "re-scan: accept waivers that match every rule or name no particular resource")
	fl.BoolVar(&po.AllowPermanentWaivers, "allow-permanent-waivers", false, "re-scan: accept waivers without an expiry (or expiring more than a year ahead)")
	fl.BoolVar(&allowMismatch, "allow-profile-mismatch", false, "re-scan under the selected profile even when the plan's report was judged under another")
	return cmd
}

// checkRescanPolicy loads the policies the re-scan will judge under (so a
// malformed --config, --waivers or --policy stops the run before anything
// is changed) and refuses a profile other than the one the plan's report
// was judged under, unless allowMismatch: the resolution of a finding is
// only meaningful under the rules that raised it.
func checkRescanPolicy(ctx context.Context, e env, p *remediate.Plan, po pipeline.PolicyOptions, allowMismatch bool) error {
	engine, err := pipeline.LoadEngine(ctx, po)
	if err != nil {
		return fmt.Errorf("remediate apply: the re-scan's policies: %w; nothing was changed", err)
	}
	name, want := engine.Profile().Name, p.Source.Profile
	switch {
	case want == "":
		fmt.Fprintf(e.stderr, "remediate: the plan records no profile (its report names none); the re-scan judges under profile %q\n", name)
	case name == want:
	case allowMismatch:
		fmt.Fprintf(e.stderr, "remediate: the re-scan judges under profile %q, the plan's report under %q (--allow-profile-mismatch)\n", name, want)
	default:
		return fmt.Errorf("remediate apply: the plan's report was judged under profile %q, but the re-scan would judge under %q: "+
			"give the --config and --profile the audit was run with (--profile %s), or --allow-profile-mismatch to judge the resolution under %q anyway; nothing was changed",
			want, name, want, name)
	}
	return nil
}

// rescanTarget is where and how the re-scan runs.
type rescanTarget struct {
	t          pipeline.Target
	out        string
	signingKey string
	hist       *history.DB
	policy     pipeline.PolicyOptions
}

// rescanAndReport re-scans the buckets p touched through the audit
// pipeline and writes the remediation's signed report set: the re-scan's
// report formats plus remediation.json and remediation.md. A planned
// object the re-scan does not show resolved is a gate failure (exit 1).
func rescanAndReport(ctx context.Context, e env, p *remediate.Plan, sha string, res *remediate.Result, rt rescanTarget) error {
	buckets := remediate.TouchedBuckets(p)
	if len(buckets) == 0 {
		fmt.Fprintf(e.stdout, "re-scan: the plan touched no bucket; no report written\n")
		return nil
	}
	var rs *remediate.Rescan
	opts := pipeline.Options{
		Target: rt.t, BucketNames: buckets, Versions: remediate.Versioned(p), Policy: rt.policy,
		History: rt.hist, Out: rt.out, Report: true, Sign: &pipeline.Signing{KeyPath: rt.signingKey},
		// The re-scan's verdict is about the planned objects (below), not
		// a severity gate over whatever else the buckets hold.
		FailOnName: "none", ToolVersion: toolVersion(), Notes: e.stderr,
		Attach: func(dir string) error {
			var err error
			if rs, err = remediate.Resolve(p, res, dir); err != nil {
				return err
			}
			rep := &remediate.Report{Schema: remediate.ReportSchema, PlanSHA256: sha, Plan: p.Source, Target: p.Target,
				Encryption: p.Encryption, Result: res, Rescan: *rs}
			return remediate.WriteReport(filepath.Join(dir, pipeline.RemediationFile), filepath.Join(dir, pipeline.RemediationMarkdownFile), rep)
		},
	}
	out, err := pipeline.Run(ctx, opts)
	if err != nil && !pipeline.IsGate(err) {
		return fmt.Errorf("remediate: the re-scan of %s: %w", strings.Join(buckets, ", "), err)
	}
	if rs == nil || out == nil || !out.Written {
		return fmt.Errorf("remediate: the re-scan of %s wrote no report", strings.Join(buckets, ", "))
	}
	signed := ""
	if out.Link != nil {
		signed = fmt.Sprintf(", signed by key %s", out.KeyID)
	}
	fmt.Fprintf(e.stdout, "re-scan %s of %s: %d of %d planned object(s) resolved, %d open; report %s%s\n",
		rs.ScanID, strings.Join(buckets, ", "), rs.Resolved, rs.Targeted, rs.Open, rt.out, signed)
	if rs.Open > 0 {
		var open []string
		for _, o := range rs.Objects {
			if o.Status == remediate.StatusOpen {
				open = append(open, fmt.Sprintf("%s/%s (%s)", o.Bucket, o.Key, o.Reason))
				if len(open) == 5 {
					break
				}
			}
		}
		return &exitError{code: exitGate, err: fmt.Errorf("remediate: the re-scan still finds %d planned object(s) open, e.g. %s: see %s",
			rs.Open, strings.Join(open, "; "), filepath.Join(rt.out, pipeline.RemediationFile))}
	}
	return nil
}
