package pipeline

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/scan"
	"github.com/sseaudit/sseaudit/snapshot"
)

// Target is the endpoint a run judges. The zero Target is the embedded
// reference, seeded with the demo estate.
type Target struct {
	// Endpoint is scheme://host[:port]; "" means the embedded reference.
	Endpoint string
	// Dialect is "oss" or "s3" (required with Endpoint).
	Dialect string
	// Region of the endpoint (and of KMS).
	Region string
	// AccessKeyID and AccessKeySecret authenticate to the endpoint.
	AccessKeyID, AccessKeySecret string
	// KMSEndpoint is the KMS endpoint used to record the state of every
	// key in use; "" leaves key states unknown (a coverage gap).
	KMSEndpoint string
	// KMSDialect is the API KMSEndpoint speaks: KMSAlibaba (Alibaba Cloud
	// KMS) or KMSAWS (AWS KMS); "" takes DefaultKMSDialect(Dialect).
	KMSDialect string
	// KMSAccessKeyID and KMSAccessKeySecret authenticate to KMSEndpoint.
	// For AWS KMS, KMSSessionToken goes with them (temporary credentials),
	// and without an id the AWS SDK's default chain is used (AWS_PROFILE,
	// the shared config and credentials files, SSO, instance roles).
	KMSAccessKeyID, KMSAccessKeySecret, KMSSessionToken string
}

// KMS dialects: the API a KMS endpoint speaks.
const (
	KMSAlibaba = "alibaba"
	KMSAWS     = "aws"
)

// DefaultKMSDialect is the KMS API that goes with a storage dialect: AWS
// KMS for S3, Alibaba Cloud KMS for OSS.
func DefaultKMSDialect(d client.Dialect) string {
	if d == client.S3 {
		return KMSAWS
	}
	return KMSAlibaba
}

// KMSDialectOf is the KMS API t's keys are read through.
func (t Target) KMSDialectOf() string {
	if t.KMSDialect != "" {
		return t.KMSDialect
	}
	return DefaultKMSDialect(client.Dialect(t.Dialect))
}

// CheckKMSDialect refuses a KMS dialect that is not one, or that cannot go
// with the storage dialect d ("" for the embedded reference's default,
// OSS): OSS encrypts only with Alibaba Cloud KMS keys. S3 with Alibaba
// Cloud KMS is OSS's S3-compatible API.
func CheckKMSDialect(kmsDialect string, d client.Dialect) error {
	switch kmsDialect {
	case "", KMSAlibaba:
		return nil
	case KMSAWS:
		if d != client.S3 {
			return inputErrorf("--kms-dialect aws goes with --dialect s3: OSS encrypts with Alibaba Cloud KMS keys; use --kms-dialect alibaba (the default for oss) or --dialect s3")
		}
		return nil
	}
	return inputErrorf("--kms-dialect %q: use aws (AWS KMS, the default for --dialect s3) or alibaba (Alibaba Cloud KMS, the default for --dialect oss)", kmsDialect)
}

// Embedded reports whether t is the embedded reference.
func (t Target) Embedded() bool { return t.Endpoint == "" }

// PolicyOptions select the policies a run evaluates.
type PolicyOptions struct {
	// Dirs are user policy directories, loaded beside the built-in ones.
	Dirs []string
	// Config is a policy config file (profiles); Profile a profile name.
	Config, Profile string
	// Waivers is a waivers file. AllowBroadWaivers accepts waivers that
	// match every rule or no particular resource; AllowPermanentWaivers
	// waivers without an expiry (or expiring more than a year ahead).
	Waivers                                  string
	AllowBroadWaivers, AllowPermanentWaivers bool
	// Sandbox bounds user policies (zero fields: the policy package's
	// defaults).
	Sandbox policy.Sandbox
}

// Conformance asks Run to run the conformance suite too.
type Conformance struct {
	// BucketPrefix starts every bucket the suite creates on a real
	// endpoint (the embedded reference gets its own instance).
	BucketPrefix string
}

// Signing asks Run to sign the report set into a chain.
type Signing struct {
	// KeyPath is the Ed25519 key (created 0600 when missing); its chain
	// log lives beside it.
	KeyPath string
	// Lock serialises signing when several runs share a chain (the
	// scheduler's jobs); nil when only one run signs at a time.
	Lock *sync.Mutex
}

// Options configure Run.
type Options struct {
	Target Target
	// Buckets selects buckets by name (path.Match glob); a name without
	// glob characters is also scanned when the bucket listing does not
	// show it (a principal may read a bucket it cannot list).
	Buckets string
	// BucketNames scans exactly these buckets (and no others), listed or
	// not; it cannot be used with Buckets. A remediation's re-scan of the
	// buckets it touched uses it.
	BucketNames []string
	// Versions inspects every version of versioned buckets.
	Versions bool
	// NoAccess leaves out each bucket's ACL and policy (two requests per
	// bucket); the access rules then have nothing to judge.
	NoAccess bool
	// ReadProbe reads one byte of (a sample of) the encrypted objects
	// after their HEAD, to find data that cannot be decrypted.
	ReadProbe scan.ReadProbe
	// Concurrency bounds the requests in flight (0: the scanner's default).
	Concurrency int
	// Shard scans one share of the buckets (see snapshot.ShardOf); the
	// shards' snapshots are joined with snapshot.Merge.
	Shard *snapshot.Shard
	// Inventory censuses the buckets it names from their bucket inventory
	// reports instead of one HEAD per object.
	Inventory []scan.InventorySource
	// RequestRate bounds the scan's requests per second per endpoint (0:
	// unlimited); see scan.Config.RequestRate.
	RequestRate float64
	// Checkpoint keeps a checkpoint beside Out (CheckpointDir) while a
	// live target is scanned, removed once the result is published whole,
	// so that an interrupted scan can be resumed (scan and audit keep one;
	// the scheduler, whose every run has its own Out, does not).
	Checkpoint bool
	// Resume continues the interrupted scan whose checkpoint is beside
	// Out (it implies Checkpoint). A checkpoint of another scan is
	// refused; without one the scan starts afresh.
	Resume bool
	// FromSnapshot evaluates a stored snapshot instead of scanning.
	FromSnapshot string
	// Previous is the earlier snapshot to compare with for drift; ""
	// takes the target's previous scan from history.
	Previous string

	Policy PolicyOptions

	// HistoryPath is the history database ("" for none); History is an
	// open one (the scheduler's), used instead when set.
	HistoryPath string
	History     *history.DB

	// Out is the directory written: snapshot.json and findings.json, plus
	// the whole report set when Report is set.
	Out string
	// Report writes every report format (and replaces an earlier report
	// in Out, refusing a directory that holds anything else).
	Report bool
	// NeedModel builds the report model (Result.Model) without writing the
	// report set, for a format printed on stdout.
	NeedModel bool
	// Attach, when set with Report, is called with the stage directory
	// once the report set is written and before it is signed, to add
	// files of the caller's (RemediationFile): the run's snapshot and
	// findings are in the directory then.
	Attach func(dir string) error
	// Sign signs the report set (requires Report); nil leaves it unsigned.
	Sign *Signing
	// Conformance runs the conformance suite; nil does not.
	Conformance *Conformance

	// SpillRunSize is how many findings the run holds in memory before it
	// spills them, sorted, to temporary files (0: findings.DefaultRunSize;
	// tests set it small to run the spilled path on a small estate).
	SpillRunSize int

	// FailOn is the severity gate: findings at or above it fail the run.
	FailOn findings.Severity
	// FailOnName is FailOn as the user wrote it ("none" for no gate).
	FailOnName string
	// AcceptGaps names the coverage gaps that do not fail the gate.
	AcceptGaps []string

	// ToolVersion is recorded in the snapshot and every report.
	ToolVersion string
	// Progress receives a progress bar when it is a terminal; Notes
	// receives one-line notes about what the run is doing (both may be nil).
	Progress, Notes io.Writer

	// fullHeaders reads the run's summary with the buckets' raw response
	// bodies (snapshot.ReadHeaders), as before the lean summary (tests:
	// the outputs are the same).
	fullHeaders bool
}

// InputError is bad input: a flag, file or value the run cannot use. Its
// message names the problem and a fix.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}

// validate checks everything Run can check before touching anything.
func (o *Options) validate() error {
	t := &o.Target
	if t.Embedded() {
		if t.KMSEndpoint != "" {
			return inputErrorf("--kms-endpoint needs --endpoint; without it the embedded reference is used, with its own KMS")
		}
		if d := client.Dialect(t.Dialect); d != "" && d != client.OSS && d != client.S3 {
			return inputErrorf("--dialect %q: use oss or s3 (the dialect the embedded reference is scanned in)", t.Dialect)
		}
		if err := CheckKMSDialect(t.KMSDialect, client.Dialect(t.Dialect)); err != nil {
			return err
		}
	} else if o.FromSnapshot == "" {
		if err := checkEndpoint("--endpoint", t.Endpoint); err != nil {
			return err
		}
		if d := client.Dialect(t.Dialect); d != client.OSS && d != client.S3 {
			return inputErrorf("--dialect %q: use oss or s3", t.Dialect)
		}
		if t.Region == "" {
			return inputErrorf("--region is empty: give the endpoint's region, e.g. cn-hangzhou (OSS) or us-east-1 (S3)")
		}
		if t.AccessKeyID == "" || t.AccessKeySecret == "" {
			return inputErrorf("no credentials for the %s endpoint: set %s", t.Dialect, strings.Join(CredentialVars(client.Dialect(t.Dialect)), " and "))
		}
		if err := CheckKMSDialect(t.KMSDialect, client.Dialect(t.Dialect)); err != nil {
			return err
		}
		if t.KMSEndpoint != "" {
			if err := checkEndpoint("--kms-endpoint", t.KMSEndpoint); err != nil {
				return err
			}
			// AWS KMS without a credential uses the AWS SDK's default chain.
			if t.KMSDialectOf() == KMSAlibaba && (t.KMSAccessKeyID == "" || t.KMSAccessKeySecret == "") {
				return inputErrorf("--kms-endpoint needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
			}
		}
	}
	if sh := o.Shard; sh != nil {
		if sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
			return inputErrorf("--shard %d/%d: want i/n with 0 <= i < n, e.g. 0/4", sh.Index, sh.Count)
		}
		if o.FromSnapshot != "" {
			return inputErrorf("--shard scans a share of the buckets: it cannot be used with --from-snapshot (merge the shards with 'sseaudit merge', then evaluate the result)")
		}
	}
	if o.Resume && o.FromSnapshot != "" {
		return inputErrorf("--resume continues an interrupted scan: it cannot be used with --from-snapshot")
	}
	if o.Resume && o.Target.Embedded() {
		return inputErrorf("--resume needs --endpoint: the embedded reference's demo estate is seeded afresh on every run, so there is nothing to resume")
	}
	if o.FromSnapshot != "" && o.Conformance != nil {
		return inputErrorf("--conformance needs a live target, not --from-snapshot")
	}
	if len(o.BucketNames) > 0 && o.Buckets != "" {
		return inputErrorf("pipeline: BucketNames and Buckets (--buckets) cannot be used together")
	}
	if _, err := path.Match(o.Buckets, ""); err != nil {
		return inputErrorf("--buckets %q is not a valid glob (%v): use * and ? as in prod-*", o.Buckets, err)
	}
	if o.Concurrency < 0 {
		return inputErrorf("--concurrency %d is negative: use 1 or more", o.Concurrency)
	}
	if o.Out == "" {
		return inputErrorf("--out is empty: give a directory")
	}
	if o.Out == "-" {
		var names []string
		for _, r := range reports.Formats {
			names = append(names, r.Name)
		}
		return inputErrorf("--out -: the output is a directory; to get a format on stdout use --format (table, %s)", strings.Join(names, ", "))
	}
	if o.Sign != nil && !o.Report {
		return errors.New("pipeline: Sign needs Report")
	}
	for _, g := range o.AcceptGaps {
		if !slices.Contains(findings.GapKinds, g) {
			return inputErrorf("--accept-gaps %q: not a kind of gap; use one or more of %s", g, strings.Join(findings.GapKinds, ", "))
		}
	}
	return nil
}

// checkEndpoint refuses an endpoint without an explicit http or https
// scheme: "localhost:9000" would otherwise silently become https.
func checkEndpoint(flag, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return inputErrorf("%s %q: give the full URL with its scheme, e.g. http://127.0.0.1:9000 or https://oss-cn-hangzhou.aliyuncs.com", flag, redactURL(raw))
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return inputErrorf("%s %q: use scheme://host[:port] only, without a path, query or user info (credentials go in the environment)", flag, redactURL(raw))
	}
	return nil
}

// redactURL is raw without what could be a secret (user info, query,
// fragment), for error messages.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if u.User != nil {
			u.User = url.User("REDACTED")
		}
		u.RawQuery, u.Fragment = "", ""
		return u.String()
	}
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		raw = "REDACTED" + raw[i:]
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	return raw
}

// CredentialVars are the environment variables holding credentials for
// dialect, in the order they are tried (id then secret, per pair).
func CredentialVars(d client.Dialect) []string {
	if d == client.S3 {
		return []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
	}
	return []string{"OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET"}
}

// Credentials reads dialect's credentials with getenv: OSS_ACCESS_KEY_ID
// and OSS_ACCESS_KEY_SECRET (else ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET) for
// OSS, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for S3.
func Credentials(getenv func(string) string, d client.Dialect) (id, secret string) {
	pairs := [][2]string{{"OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET"}, {"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}}
	if d == client.S3 {
		pairs = [][2]string{{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}}
	}
	for _, p := range pairs {
		if a, s := getenv(p[0]), getenv(p[1]); a != "" && s != "" {
			return a, s
		}
	}
	return "", ""
}

// KMSCredentials reads the Alibaba Cloud KMS credentials with getenv.
func KMSCredentials(getenv func(string) string) (id, secret string) {
	return getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
}

// AWSKMSCredentials reads the AWS KMS credentials with getenv: the S3
// target's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with
// AWS_SESSION_TOKEN. Without them ("" id) the AWS SDK's default chain is
// used.
func AWSKMSCredentials(getenv func(string) string) (id, secret, token string) {
	id, secret = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return "", "", ""
	}
	return id, secret, getenv("AWS_SESSION_TOKEN")
}
