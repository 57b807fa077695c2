// Package snapshot holds the versioned snapshot format a compliance scan
// writes: what a target looked like (buckets, their default encryption
// rules, objects with their encryption state, the KMS keys they reference)
// plus provenance and coverage. It is written and read as a stream so
// memory stays bounded however many objects there are. It must not talk to
// any endpoint (package scan does) or judge anything (policies do).
//
// File layout (one JSON document, written in this order, see Writer):
//
//	{"schema": "sseaudit.snapshot/v1",
//	 "provenance": {...},                 // Provenance, known at start
//	 "buckets": [                         // one bucket at a time:
//	    {"name": ..., "region": ..., "encryption": ..., ...,   // Bucket fields known before listing
//	     "objects": [ {...}, ... ],       // Object, streamed as inspected
//	     "objects_listed": N, "objects_inspected": N, "list_error": ...}, ...],
//	 "keys": [ {...}, ... ],              // Key, every KMS key referenced
//	 "coverage": {...},                   // Coverage, including every error
//	 "finished_at": "...", "complete": true}
//
// Objects of a bucket are nested in it, so a reader can stream bucket by
// bucket. Buckets appear once each, in ascending byte order of name (the
// Writer enforces it), so two snapshots can be compared bucket by bucket;
// objects appear in the order they were inspected. Keys come last because they are known only at the end; a reader
// that needs them while evaluating buckets reads the file twice.
// A scan that was cancelled still closes the document, with complete=false;
// so does a scan that could not list the buckets it was asked for by a
// pattern (it cannot know what it missed).
//
// Besides these types the package holds the streaming Writer, the strict
// readers ReadSummary (everything but objects) and EachBucket (one bucket
// with its objects at a time), Diff (two snapshots compared bucket by
// bucket) and Digest. Readers refuse any other schema version, unknown or
// missing members and truncated documents. They read a plain file or a
// zstd-compressed one alike (Open), as history stores its copies.
//
// Later additions to v1 are optional members, absent when they carry
// nothing: a bucket's "versioning", "versioning_error" and
// "versions_inspected", an object's "noncurrent", and the provenance's
// "inventories" (the inventory reports a census read instead of HEADs) and
// "resumed_from" (the interrupted scan a resumed one continued), and a
// bucket's "acl", "acl_error", "policy" and "policy_error" (its access
// settings; absent: not read, as by an older scanner, which is not "none"),
// a bucket's "ssec_blocked" (absent: the store did not say), and the
// object method "sse-c". A file without them reads as before.
package snapshot

import (
	"path"
	"time"
)

// Schema is the format identifier of this version.
const Schema = "sseaudit.snapshot/v1"

// Provenance says who scanned what, when, with which policies.
type Provenance struct {
	ScanID       string    `json:"scan_id"`
	StartedAt    time.Time `json:"started_at"`
	ToolVersion  string    `json:"tool_version"`
	Target       Target    `json:"target"`
	Regions      []string  `json:"regions"`
	BucketFilter string    `json:"bucket_filter,omitempty"`
	PolicyDigest string    `json:"policy_digest,omitempty"` // sha256 of the policy bundle, when known at scan time
	// Shard says which share of the buckets a sharded scan read (absent:
	// all of them); Merge joins the n shards of a scan into one snapshot.
	Shard *Shard `json:"shard,omitempty"`
	// MergedFrom lists the scan ids of the shards a merged snapshot was
	// made of, in shard order (absent: not merged).
	MergedFrom []string `json:"merged_from,omitempty"`
	// Inventories are the bucket inventory reports the census read
	// instead of one HEAD per object, one per bucket so censused.
	Inventories []Inventory `json:"inventories,omitempty"`
	// ResumedFrom is set when the scan resumed an interrupted one from its
	// checkpoint (scan --resume): the buckets that one had read whole are
	// in this snapshot as it read them.
	ResumedFrom *Resumed `json:"resumed_from,omitempty"`
	// ReadProbe is the read probe the census ran (scan --read-probe):
	// "all" encrypted objects, or a deterministic sample such as "10%";
	// absent when none ran.
	ReadProbe string `json:"read_probe,omitempty"`
}

// Resumed is the interrupted scan a resumed scan continued.
type Resumed struct {
	// ScanID and StartedAt are the interrupted scan's.
	ScanID    string    `json:"scan_id"`
	StartedAt time.Time `json:"started_at"`
	// BucketsCopied is how many buckets were copied from its checkpoint
	// (read whole before the interruption, not read again).
	BucketsCopied int `json:"buckets_copied"`
}

// Shard is one share of a sharded scan: buckets whose name hashes to
// Index of Count (see ShardOf), and, of the buckets matching Split, the
// objects whose key hashes to Index (see ShardOfKey): one huge bucket is
// then censused by every shard, each a share of its objects.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// Split is a glob (path.Match syntax) of the buckets split by key
	// across the shards ("" for none).
	Split string `json:"split,omitempty"`
}

// Splits reports whether bucket is split by key across the shards.
func (s *Shard) Splits(bucket string) bool {
	if s == nil || s.Split == "" {
		return false
	}
	ok, _ := path.Match(s.Split, bucket)
	return ok
}

// OwnsBucket reports whether the shard reads bucket (its rule and, unless
// the bucket is split, all its objects).
func (s *Shard) OwnsBucket(bucket string) bool {
	return s == nil || s.Splits(bucket) || ShardOf(bucket, s.Count) == s.Index
}

// OwnsObject reports whether the shard inspects the object key of bucket,
// which it reads.
func (s *Shard) OwnsObject(bucket, key string) bool {
	return s == nil || !s.Splits(bucket) || ShardOfKey(bucket, key, s.Count) == s.Index
}

// Inventory is the inventory report a bucket's census read: objects
// written after AsOf are not in it (a coverage gap of the census, see
// package scan), and only the objects HEADed show their live state.
type Inventory struct {
	Bucket  string `json:"bucket"`
	Dialect string `json:"dialect"` // "oss" or "s3": whose report layout
	// DestBucket and ManifestKey locate manifest.json; ManifestSHA256 is
	// its digest as read (its MD5 matched manifest.checksum).
	DestBucket     string `json:"dest_bucket"`
	ManifestKey    string `json:"manifest_key"`
	ManifestSHA256 string `json:"manifest_sha256"`
	// AsOf is the report's creationTimestamp.
	AsOf time.Time `json:"as_of"`
	// KeyIDs says where the KMS key ids of objects come from, which the
	// report does not name: "head-encrypted" (every object the report
	// calls KMS-encrypted, on OSS every encrypted one, was HEADed) or
	// "sample" (only the sampled objects; the others are recorded with
	// method unknown and an error saying why).
	KeyIDs string `json:"key_ids"`
	// Sample is how many objects were to be HEADed to cross-check the
	// report against the live objects (0 = none).
	Sample int `json:"sample"`
}

// Target identifies the scanned endpoint (never its credentials).
type Target struct {
	Kind        string `json:"kind"`    // "reference" (embedded), "oss", "s3"
	Dialect     string `json:"dialect"` // "oss" or "s3"
	Endpoint    string `json:"endpoint"`
	KMSEndpoint string `json:"kms_endpoint,omitempty"`
	Principal   string `json:"principal,omitempty"` // access key id used, for the auditor
}

// Methods, the normalised form of a default rule or an object's encryption.
const (
	MethodNone       = "none"
	MethodOSSManaged = "oss-managed" // AES256 with OSS/S3-managed keys
	MethodKMSDefault = "kms-default" // KMS with the service key alias/acs/oss (or no key id)
	MethodKMSCMK     = "kms-cmk"     // KMS with a customer master key
	MethodOther      = "other"       // e.g. SM4 from a real OSS account
	// MethodSSEC is an object encrypted with a key its writer provides on
	// every request (S3 SSE-C): HEAD without that key answers 400, and a
	// one-byte GET says why (InvalidRequest, "...stored using a form of
	// Server Side Encryption..."). Objects only; SSE is then "SSE-C".
	MethodSSEC    = "sse-c"
	MethodUnknown = "unknown" // the state could not be read (the Error says why): never a pass
)

// Rule is a bucket's default encryption as read.
type Rule struct {
	Algorithm         string `json:"algorithm"` // as the endpoint said: AES256, KMS, SM4, aws:kms...
	KMSMasterKeyID    string `json:"kms_master_key_id,omitempty"`
	KMSDataEncryption string `json:"kms_data_encryption,omitempty"`
	Method            string `json:"method"`        // Method* constant
	Raw               string `json:"raw,omitempty"` // the response body, as evidence
}

// Bucket is one bucket. Encryption is nil when the endpoint says no rule is
// set; EncryptionError is set when the rule could not be read (then the
// state is unknown, which is a finding, never a pass).
type Bucket struct {
	Name             string    `json:"name"`
	Region           string    `json:"region"`
	CreationDate     time.Time `json:"creation_date"`
	Encryption       *Rule     `json:"encryption"`
	EncryptionError  *Error    `json:"encryption_error,omitempty"`
	ListError        *Error    `json:"list_error,omitempty"` // objects could not be (fully) listed
	ObjectsListed    int64     `json:"objects_listed"`
	ObjectsInspected int64     `json:"objects_inspected"`
	ReadAt           time.Time `json:"read_at"`
	// RegionError is set when the bucket's region could not be read
	// (Region is then what the listing said, possibly "").
	RegionError *Error `json:"region_error,omitempty"`
	// Versioning is the bucket's versioning state as read: "Enabled",
	// "Suspended", or "" (never enabled, or the store has no versioning).
	// VersioningError is set when it could not be read.
	Versioning      string `json:"versioning,omitempty"`
	VersioningError *Error `json:"versioning_error,omitempty"`
	// VersionsInspected: every version was listed and inspected, not only
	// the current ones (scan --versions on a versioned bucket); objects
	// then include noncurrent versions.
	VersionsInspected bool `json:"versions_inspected,omitempty"`
	// ACL is the bucket's access control list as read (nil: not read; then
	// ACLError says why, or the snapshot predates ACLs).
	ACL      *ACL   `json:"acl,omitempty"`
	ACLError *Error `json:"acl_error,omitempty"`
	// Policy is the bucket's policy as read (nil: not read; then
	// PolicyError says why, or the snapshot predates policies). Its Status
	// tells "no policy" from "the endpoint does not say".
	Policy      *Policy `json:"policy,omitempty"`
	PolicyError *Error  `json:"policy_error,omitempty"`
	// SSECBlocked is S3's BlockedEncryptionTypes as the bucket's rule
	// reported it: true when SSE-C writes are blocked, false when they
	// are allowed (NONE), nil when the store did not say (no rule, OSS,
	// stores without the setting).
	SSECBlocked *bool `json:"ssec_blocked,omitempty"`
	// Objects are filled by EachBucket only (ReadSummary leaves them nil);
	// in the file they are the "objects" array of the bucket.
	Objects []Object `json:"objects,omitempty"`
}

// WithoutRaw returns a copy of b without the raw response bodies kept as
// evidence (Encryption.Raw, ACL.Raw, Policy.Raw): what ReadLeanHeaders
// keeps of a bucket. b is not modified.
func (b Bucket) WithoutRaw() Bucket {
	if b.Encryption != nil {
		r := *b.Encryption
		r.Raw = ""
		b.Encryption = &r
	}
	if b.ACL != nil {
		a := *b.ACL
		a.Raw = ""
		b.ACL = &a
	}
	if b.Policy != nil {
		p := *b.Policy
		p.Raw = ""
		b.Policy = &p
	}
	return b
}

// ACL is a bucket's access control list, normalised across dialects.
type ACL struct {
	// Canned is the canned ACL: private, public-read, public-read-write,
	// and on S3 authenticated-read or log-delivery-write; "" when S3's
	// grants match no canned ACL (Grants lists them).
	Canned string `json:"canned"`
	// PublicRead: the ACL lets anyone read. On OSS (public-read,
	// public-read-write) anyone may read the bucket's objects whose own
	// ACL is "default"; on S3 (a READ or FULL_CONTROL grant to AllUsers, or
	// to AuthenticatedUsers, which is any AWS account) anyone may list the
	// bucket, and reads of an object follow the object's own ACL. Block
	// Public Access settings, which override ACLs, are not read.
	PublicRead bool `json:"public_read"`
	// PublicWrite: the ACL lets anyone write (OSS public-read-write; S3 a
	// WRITE or FULL_CONTROL grant to AllUsers or AuthenticatedUsers).
	PublicWrite bool `json:"public_write"`
	// Grants are S3's grants besides the owner's own FULL_CONTROL.
	Grants []Grant `json:"grants,omitempty"`
	// Raw is the GetBucketAcl response body, as evidence.
	Raw string `json:"raw,omitempty"`
}

// Grant is one S3 ACL grant.
type Grant struct {
	// Type is the grantee's type (CanonicalUser, Group,
	// AmazonCustomerByEmail); ID its id, group URI or e-mail.
	Type       string `json:"type"`
	ID         string `json:"id"`
	Permission string `json:"permission"`
}

// Policy statuses.
const (
	PolicyNone    = "none"    // the endpoint says no policy is set
	PolicySet     = "set"     // a policy is set: Raw and the facts below
	PolicyUnknown = "unknown" // the endpoint does not implement bucket policies (Note says so): not "none"
)

// MaxPolicyRaw bounds Policy.Raw; the facts are derived from the whole
// document, whose digest RawSHA256 records.
const MaxPolicyRaw = 20 << 10

// Policy is a bucket's policy with the facts about encryption guardrails
// derived from it (by package scan). A fact is true only when a statement
// says so for every principal and every object of the bucket; statements
// that narrow it (by principal, prefix or another condition) are listed in
// Notes instead.
type Policy struct {
	Status string `json:"status"` // Policy* constant
	// Note says why Status is unknown.
	Note string `json:"note,omitempty"`
	// Raw is the policy document as returned (at most MaxPolicyRaw bytes;
	// RawTruncated when it was longer), RawSHA256 the digest of the whole.
	Raw          string `json:"raw,omitempty"`
	RawTruncated bool   `json:"raw_truncated,omitempty"`
	RawSHA256    string `json:"raw_sha256,omitempty"`
	// ParseError is set when the document could not be read as a policy;
	// the facts are then all false and unknown.
	ParseError string `json:"parse_error,omitempty"`
	// DeniesUnencryptedPut: a PutObject without the SSE header is denied.
	DeniesUnencryptedPut bool `json:"denies_unencrypted_put"`
	// RequiredSSE is the one SSE algorithm a PutObject must name, in this
	// package's vocabulary: "AES256", "KMS", another value as the policy
	// says, or "" when the policy requires none in particular.
	RequiredSSE string `json:"required_sse,omitempty"`
	// RequiredKMSKeyIDs are the KMS key ids a PutObject must name (one of),
	// as the policy spells them; empty when the policy names none.
	RequiredKMSKeyIDs []string `json:"required_kms_key_ids,omitempty"`
	// DeniesInsecureTransport: every request without TLS is denied
	// (aws:SecureTransport / acs:SecureTransport false).
	DeniesInsecureTransport bool `json:"denies_insecure_transport"`
	// AllowsPublicRead: a statement allows anyone to read objects without
	// any condition.
	AllowsPublicRead bool `json:"allows_public_read"`
	// Notes are statements that bear on the facts but were not counted,
	// and why (e.g. a deny limited to a prefix).
	Notes []string `json:"notes,omitempty"`
}

// Object is one object's metadata and encryption state (from HEAD).
type Object struct {
	Bucket       string    `json:"bucket"`
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"last_modified"`
	VersionID    string    `json:"version_id,omitempty"`
	// Noncurrent marks an older version of the key (only in buckets with
	// VersionsInspected); the current version has it false.
	Noncurrent   bool   `json:"noncurrent,omitempty"`
	StorageClass string `json:"storage_class,omitempty"`
	SSE          string `json:"sse"`                  // "", AES256, KMS (normalised), SSE-C, or another value as returned
	KMSKeyID     string `json:"kms_key_id,omitempty"` // as the store answered: S3 a key ARN, OSS the id (compare with SameKey)
	Method       string `json:"method"`               // Method*; kms-default when KMSKeyID is the region's service key
	Error        *Error `json:"error,omitempty"`      // HEAD failed: encryption state unknown
	// DataEncryption is OSS's x-oss-server-side-data-encryption (e.g. SM4), as returned.
	DataEncryption string `json:"data_encryption,omitempty"`
	// Attempts is the number of HEAD requests sent, when more than one
	// (retries after throttling or 5xx); with Error it is Error.Attempts.
	Attempts int `json:"attempts,omitempty"`
	// ReadProbed says the scan's read probe (scan --read-probe) read one
	// byte of the object back. ReadError is set when that read failed
	// after its retries although HEAD answered: HEAD is served from
	// metadata, so a disabled or deleted key, or stored data that no
	// longer authenticates, shows only when the store must decrypt.
	ReadProbed bool   `json:"read_probed,omitempty"`
	ReadError  *Error `json:"read_error,omitempty"`
}

// Key is a KMS key referenced by a rule or an object.
type Key struct {
	KeyID             string    `json:"key_id"`
	Region            string    `json:"region"`
	Arn               string    `json:"arn,omitempty"`
	State             string    `json:"state,omitempty"` // Enabled, Disabled, PendingDeletion; "" when unknown
	Creator           string    `json:"creator,omitempty"`
	ServiceKey        bool      `json:"service_key"` // created by OSS (alias/acs/oss), not a customer key
	Origin            string    `json:"origin,omitempty"`
	AutomaticRotation string    `json:"automatic_rotation,omitempty"`
	RotationInterval  string    `json:"rotation_interval,omitempty"`
	LastRotationDate  string    `json:"last_rotation_date,omitempty"`
	NextRotationDate  string    `json:"next_rotation_date,omitempty"`
	DeleteDate        string    `json:"delete_date,omitempty"`
	CreationDate      string    `json:"creation_date,omitempty"`
	Missing           bool      `json:"missing"`         // KMS says the key does not exist (in this region)
	Error             *Error    `json:"error,omitempty"` // could not be described
	ReadAt            time.Time `json:"read_at"`
	// ResolvedKeyID is the key id KMS answered with when it differs from
	// KeyID (KeyID is the reference as the rule or object gave it, an
	// alias or an alias ARN; a key named by key ARN is recorded once,
	// under the id inside the ARN: KeyID(ref)).
	ResolvedKeyID string `json:"resolved_key_id,omitempty"`
}

// Error is a failure recorded as data: nothing a scan could not read is
// silently dropped.
type Error struct {
	Scope      string `json:"scope"` // "bucket", "rule", "list", "object", "key", "scan"
	Resource   string `json:"resource"`
	StatusCode int    `json:"status_code,omitempty"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message"`
	Attempts   int    `json:"attempts,omitempty"`
}

// Coverage compares what was listed with what was inspected.
type Coverage struct {
	Buckets          int     `json:"buckets"`
	BucketsRead      int     `json:"buckets_read"` // region, rule and listing all read without error
	ObjectsListed    int64   `json:"objects_listed"`
	ObjectsInspected int64   `json:"objects_inspected"`
	KeysReferenced   int     `json:"keys_referenced"`
	KeysDescribed    int     `json:"keys_described"`
	Errors           []Error `json:"errors"`
	// ErrorsOmitted counts errors left out of Errors beyond the scan's
	// cap; each is still recorded in its object, bucket or key.
	ErrorsOmitted int64 `json:"errors_omitted,omitempty"`
	// Retries counts requests sent again after throttling, 5xx or timeouts.
	Retries int64 `json:"retries"`
	// ListBucketsError is set when the bucket listing failed; Buckets then
	// holds only the buckets named explicitly.
	ListBucketsError *Error `json:"list_buckets_error,omitempty"`
}
