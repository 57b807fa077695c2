package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/pipeline"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/scan"
	"github.com/sseaudit/sseaudit/snapshot"
)

// runFlags are the flags of `scan` and `audit`: one set, so both commands
// take the same inputs and judge them the same way.
type runFlags struct {
	endpoint, dialect, region, kmsEndpoint string
	kmsDialect                             string
	buckets                                string
	versions, noAccess                     bool
	readProbe                              string
	concurrency                            int
	requestRate                            float64
	policyDirs                             []string
	config, profile, waivers               string
	allowBroadWaivers, allowPermWaivers    bool
	policyTimeout, policyScanTimeout       time.Duration
	policyMaxMemory                        int64
	out, failOn, historyPath               string
	acceptGaps                             []string
	fromSnapshot, previous                 string
	format, shard, shardSplit              string
	inventory                              []string
	inventoryKeyIDs                        string
	inventorySample                        int
	quiet, resume                          bool
	maxRows                                int

	// audit only
	signingKey  string
	conformance bool
	prefix      string
}

// addRunFlags registers the shared flags; defaultOut differs per command.
func addRunFlags(fl *pflag.FlagSet, f *runFlags, defaultOut string) {
	fl.StringVar(&f.endpoint, "endpoint", "", "endpoint URL with its scheme, e.g. https://oss-cn-hangzhou.aliyuncs.com (default: the embedded reference with a demo estate)")
	fl.StringVar(&f.dialect, "dialect", "", "oss or s3 (required with --endpoint; without it, the dialect the embedded reference is scanned in, default oss)")
	fl.StringVar(&f.region, "region", "cn-hangzhou", "region of the endpoint")
	fl.StringVar(&f.kmsEndpoint, "kms-endpoint", "", "KMS endpoint URL, to record the state of every key in use (its API: --kms-dialect)")
	fl.StringVar(&f.kmsDialect, "kms-dialect", "", "API of the KMS endpoint: aws (AWS KMS; default for --dialect s3) or alibaba (Alibaba Cloud KMS; default for oss)")
	fl.StringVar(&f.buckets, "buckets", "", "only buckets whose names match this glob (a plain name is scanned even if the principal cannot list buckets)")
	fl.BoolVar(&f.noAccess, "no-access", false, "do not read bucket ACLs and policies (two requests per bucket); the public-access and policy rules then judge nothing")
	fl.StringVar(&f.readProbe, "read-probe", "off", "read one byte of each encrypted object after its HEAD, to find data that cannot be decrypted (a disabled or deleted key) on any store: off, all, or a sample such as 10% (one GET per probed object)")
	fl.BoolVar(&f.versions, "versions", false, "in versioned buckets, inspect every version, not only the current ones (one HEAD per version)")
	fl.IntVar(&f.concurrency, "concurrency", scan.DefaultConcurrency, "requests in flight at once, over all buckets")
	fl.Float64Var(&f.requestRate, "request-rate", 0, "at most this many requests per second to each endpoint (storage and KMS), e.g. to stay under a provider's QPS limit (0: no limit)")
	fl.StringArrayVar(&f.inventory, "inventory", nil, "census bucket SRC from its bucket inventory reports instead of one HEAD per object: SRC=DEST[/PREFIX][#CONFIG-ID] (repeatable)")
	fl.StringVar(&f.inventoryKeyIDs, "inventory-key-ids", scan.InventoryKeysHead, "where KMS key ids of inventoried objects come from: head-encrypted (HEAD every KMS-encrypted object) or sample (only the sample; the others are a gap)")
	fl.IntVar(&f.inventorySample, "inventory-sample", scan.DefaultInventorySample, "objects HEADed per inventoried bucket to cross-check the report (negative: none)")
	fl.StringVar(&f.shard, "shard", "", "scan one share of the buckets, i/n (e.g. 0/4; buckets by a hash of their name); join the shards' snapshots with 'sseaudit merge'")
	fl.StringVar(&f.shardSplit, "shard-split", "", "with --shard: buckets matching this glob are read by every shard, each inspecting the objects whose key hashes to it (for buckets too large for one process); give every shard the same value")
	fl.BoolVar(&f.resume, "resume", false, "continue the interrupted scan whose checkpoint is beside --out (same target and flags): buckets it read whole are copied, the rest is scanned")
	fl.StringArrayVar(&f.policyDirs, "policy", nil, "extra policy directory, loaded beside the built-in policies (repeatable)")
	fl.StringVar(&f.config, "config", "", "policy config file (organisation profiles and parameters)")
	fl.StringVar(&f.profile, "profile", "", "organisation profile to apply: default, cis-service-key, byok, or one from --config")
	fl.StringVar(&f.waivers, "waivers", "", "waivers file")
	fl.BoolVar(&f.allowBroadWaivers, "allow-broad-waivers", false, "accept waivers that match every rule or name no particular resource")
	fl.BoolVar(&f.allowPermWaivers, "allow-permanent-waivers", false, "accept waivers without an expiry (or expiring more than a year ahead)")
	fl.DurationVar(&f.policyTimeout, "policy-timeout", 0, "bound on one evaluation of a user policy (default 30s)")
	fl.DurationVar(&f.policyScanTimeout, "policy-scan-timeout", 0, "bound on all evaluations of user policies in one run (default 10m)")
	fl.Int64Var(&f.policyMaxMemory, "policy-max-memory", 0, "bound in bytes on the heap a user policy's evaluation may grow (default 256 MiB)")
	fl.StringVar(&f.out, "out", defaultOut, "output directory")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding has this severity or higher (critical, high, medium, low, info, none)")
	fl.StringSliceVar(&f.acceptGaps, "accept-gaps", nil, "coverage gaps that do not fail the run (comma-separated): "+strings.Join(findings.GapKinds, ", "))
	fl.StringVar(&f.historyPath, "history", defaultHistoryPath(), "history database for drift, first-seen dates and trends (empty: none)")
	fl.StringVar(&f.fromSnapshot, "from-snapshot", "", "evaluate a stored snapshot instead of scanning")
	fl.StringVar(&f.previous, "previous", "", "the earlier snapshot to compare with for drift (default: the target's previous scan in --history)")
	fl.StringVar(&f.format, "format", "table", "what to print on stdout: table, or a report format: "+strings.Join(formatNames(), ", "))
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors (the exit code says the verdict)")
	fl.IntVar(&f.maxRows, "max-rows", 50, "rows of the findings table (0: all)")
}

func formatNames() []string {
	var n []string
	for _, r := range reports.Formats {
		n = append(n, r.Name)
	}
	return n
}

func defaultHistoryPath() string {
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".local", "state", "sseaudit", "history.db")
	}
	return ""
}

func defaultSigningKeyPath() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "sseaudit", "signing.key")
	}
	return ""
}

// envPrefix names the environment variables that set flags: --fail-on
// is SSEAUDIT_FAIL_ON, --accept-gaps SSEAUDIT_ACCEPT_GAPS (a CronJob sets
// these instead of editing its command line).
const envPrefix = "SSEAUDIT_"

// envName is the variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// bindEnv gives every flag of cmd not set on the command line the value of
// its SSEAUDIT_ variable, when that is set. A flag on the command line
// wins. List flags take comma-separated values.
//
// only, when given, limits the flags bound: commands that share a flag
// name with scan but not its meaning (rules' --format) bind only the
// policy selection, which means the same everywhere.
func bindEnv(cmd *cobra.Command, e env, only ...string) error {
	var errs []string
	fs := cmd.Flags()
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || notFromEnv[fl.Name] || len(only) > 0 && !slices.Contains(only, fl.Name) {
			return
		}
		v, ok := e.lookup(envName(fl.Name))
		if !ok {
			return
		}
		values := []string{v}
		if fl.Value.Type() == "stringArray" {
			values = strings.Split(v, ",")
		}
		for _, x := range values {
			if err := fs.Set(fl.Name, strings.TrimSpace(x)); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v (it sets --%s)", envName(fl.Name), v, err, fl.Name))
				return
			}
		}
		if fl.Annotations == nil {
			fl.Annotations = map[string][]string{}
		}
		fl.Annotations[envAnnotation] = []string{envName(fl.Name)}
	})
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// envAnnotation marks a flag set from its environment variable.
const envAnnotation = "sseaudit-env"

// policyFlags are the flags that select the policies, bound from the
// environment by every command that evaluates them.
var policyFlags = []string{"policy", "config", "profile", "waivers", "allow-broad-waivers", "allow-permanent-waivers"}

// blameEnv adds to err which environment variable set a flag it names,
// since the user did not type that flag.
func blameEnv(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	var vars []string
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		if v := fl.Annotations[envAnnotation]; len(v) > 0 && strings.Contains(err.Error(), "--"+fl.Name) {
			vars = append(vars, v[0])
		}
	})
	if len(vars) == 0 {
		return err
	}
	return fmt.Errorf("%w (set by %s)", err, strings.Join(vars, ", "))
}

// notFromEnv are the flags no SSEAUDIT_ variable sets: help, and
// --kms-endpoint, whose variable SSEAUDIT_KMS_ENDPOINT already means the
// default endpoint of the kms commands (a demo scan would otherwise pick
// it up and refuse to run).
var notFromEnv = map[string]bool{"help": true, "kms-endpoint": true}

// envHelp is appended to the help of commands that read SSEAUDIT_ vars.
const envHelp = `

Every flag can also be set with an environment variable named SSEAUDIT_
and the flag in upper case with underscores (--fail-on: SSEAUDIT_FAIL_ON,
--accept-gaps: SSEAUDIT_ACCEPT_GAPS); the command line wins.`

// options turns the flags into pipeline options.
func (f *runFlags) options(e env) (pipeline.Options, error) {
	failOn, err := findings.FailOnSeverity(f.failOn)
	if err != nil {
		return pipeline.Options{}, fmt.Errorf("--fail-on %q: use critical, high, medium, low, info or none", f.failOn)
	}
	if f.format != "table" && !slices.Contains(formatNames(), f.format) {
		return pipeline.Options{}, fmt.Errorf("--format %q: use table or one of %s", f.format, strings.Join(formatNames(), ", "))
	}
	var shard *snapshot.Shard
	if f.shard != "" {
		var i, n int
		if _, err := fmt.Sscanf(f.shard, "%d/%d", &i, &n); err != nil || fmt.Sprintf("%d/%d", i, n) != f.shard {
			return pipeline.Options{}, fmt.Errorf("--shard %q: use i/n, e.g. 0/4 (shards 0 to n-1)", f.shard)
		}
		shard = &snapshot.Shard{Index: i, Count: n, Split: f.shardSplit}
		if _, err := path.Match(f.shardSplit, ""); err != nil {
			return pipeline.Options{}, fmt.Errorf("--shard-split %q: not a glob (%v); use e.g. 'logs-*' or a bucket name", f.shardSplit, err)
		}
	} else if f.shardSplit != "" {
		return pipeline.Options{}, fmt.Errorf("--shard-split %q needs --shard i/n", f.shardSplit)
	}
	var inv []scan.InventorySource
	for _, v := range f.inventory {
		s, err := scan.ParseInventoryFlag(v)
		if err != nil {
			return pipeline.Options{}, err
		}
		s.KeyIDs, s.Sample = f.inventoryKeyIDs, f.inventorySample
		if s.Sample == 0 {
			s.Sample = -1 // --inventory-sample 0: none (Config's 0 means the default)
		}
		inv = append(inv, s)
	}
	if f.concurrency < 1 {
		return pipeline.Options{}, fmt.Errorf("--concurrency %d: use 1 or more requests in flight", f.concurrency)
	}
	if f.requestRate < 0 || math.IsNaN(f.requestRate) || math.IsInf(f.requestRate, 0) {
		return pipeline.Options{}, fmt.Errorf("--request-rate %v: use a positive number of requests per second, or 0 for no limit", f.requestRate)
	}
	probe, err := scan.ParseReadProbe(f.readProbe)
	if err != nil {
		return pipeline.Options{}, fmt.Errorf("--read-probe: %w", err)
	}
	if f.maxRows < 0 {
		return pipeline.Options{}, fmt.Errorf("--max-rows %d: use 0 (all) or more", f.maxRows)
	}
	o := pipeline.Options{
		Target:  pipeline.Target{Endpoint: f.endpoint, Dialect: f.dialect, KMSEndpoint: f.kmsEndpoint, KMSDialect: strings.ToLower(strings.TrimSpace(f.kmsDialect))},
		Buckets: f.buckets, Versions: f.versions, NoAccess: f.noAccess, ReadProbe: probe, Concurrency: f.concurrency, RequestRate: f.requestRate, Shard: shard, Inventory: inv,
		Checkpoint: true, Resume: f.resume, FromSnapshot: f.fromSnapshot, Previous: f.previous,
		Policy: pipeline.PolicyOptions{Dirs: f.policyDirs, Config: f.config, Profile: f.profile,
			Waivers: f.waivers, AllowBroadWaivers: f.allowBroadWaivers, AllowPermanentWaivers: f.allowPermWaivers,
			Sandbox: policy.Sandbox{BucketTimeout: f.policyTimeout, ScanTimeout: f.policyScanTimeout, MaxMemory: f.policyMaxMemory}},
		HistoryPath: f.historyPath, Out: f.out,
		FailOn: failOn, FailOnName: strings.ToLower(strings.TrimSpace(f.failOn)), AcceptGaps: f.acceptGaps,
		ToolVersion: toolVersion(), Progress: e.stderr, Notes: e.stderr,
		NeedModel: f.format != "table",
	}
	if o.FailOnName == "" {
		o.FailOnName = "none"
	}
	if f.quiet {
		o.Progress, o.Notes = nil, nil
	}
	if f.endpoint != "" {
		o.Target.Region = f.region
		o.Target.AccessKeyID, o.Target.AccessKeySecret = pipeline.Credentials(e.getenv, client.Dialect(f.dialect))
		if f.kmsEndpoint != "" {
			if o.Target.KMSDialectOf() == pipeline.KMSAWS {
				o.Target.KMSAccessKeyID, o.Target.KMSAccessKeySecret, o.Target.KMSSessionToken = pipeline.AWSKMSCredentials(e.getenv)
			} else {
				o.Target.KMSAccessKeyID, o.Target.KMSAccessKeySecret = pipeline.KMSCredentials(e.getenv)
			}
		}
	}
	return o, nil
}

var errConformanceFlag = fmt.Errorf("--conformance is for --endpoint; the embedded reference always runs the conformance suite")

// run runs the pipeline with the flags (adjusted by the command) and
// prints what it produced; its error is the run's (exit 1 or 2).
func (f *runFlags) run(cmd *cobra.Command, e env, adjust func(*pipeline.Options) error) error {
	opts, err := f.options(e)
	if err != nil {
		return blameEnv(cmd, err)
	}
	if adjust != nil {
		if err := adjust(&opts); err != nil {
			return err
		}
	}
	res, err := pipeline.Run(cmd.Context(), opts)
	if perr := printResult(e, f, res); perr != nil && err == nil {
		err = perr
	}
	var ie *pipeline.InputError
	if errors.As(err, &ie) {
		err = blameEnv(cmd, err)
	}
	return err
}
