package reports

import (
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/snapshot"
)

// ModelSchema identifies report.json, the source every other format is
// rendered from.
const ModelSchema = "sseaudit.report/v1"

// Model is everything one audit run found: the findings document of the
// scan, the conformance results (when conformance ran), the run's verdict,
// and the facts about the snapshot that charts and drill-downs need. It
// holds no secrets.
//
// Later additions to v1 are optional members, absent when they carry
// nothing: "outcome", "compliance", a bucket's "keys" and "encryption", and
// provenance's "scan_tool_version".
type Model struct {
	Schema      string             `json:"schema"`
	GeneratedAt time.Time          `json:"generated_at"`
	Tool        Tool               `json:"tool"`
	Provenance  Provenance         `json:"provenance"`
	Findings    *findings.Document `json:"findings"`
	Conformance *results.Run       `json:"conformance,omitempty"`
	// Outcome is the run's verdict, the same the CLI's exit code gives and
	// the findings document carries; nil when the run recorded none.
	Outcome *findings.Outcome `json:"outcome,omitempty"`
	// Compliance is the compliance headline (see Compliance); nil when
	// there is no snapshot or no rule was evaluated.
	Compliance *Compliance       `json:"compliance,omitempty"`
	Buckets    []BucketStat      `json:"buckets"`
	Coverage   snapshot.Coverage `json:"coverage"`
	// Trend holds earlier scans of the same target, oldest first, when
	// history exists; the current scan is the last point.
	Trend []TrendPoint `json:"trend,omitempty"`
}

// Tool names the producer of the report: the running sseaudit, whose
// version ModelInput.ToolVersion gives.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Provenance ties the report to its inputs by digest.
type Provenance struct {
	ScanID     string          `json:"scan_id"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at"`
	Complete   bool            `json:"complete"`
	Target     snapshot.Target `json:"target"`
	Regions    []string        `json:"regions,omitempty"`
	// ScanToolVersion is the version of the sseaudit that took the
	// snapshot (from the snapshot or the findings document); it differs
	// from Tool.Version when a report is built from an older snapshot.
	ScanToolVersion string `json:"scan_tool_version,omitempty"`
	PolicyDigest    string `json:"policy_digest"`
	SnapshotDigest  string `json:"snapshot_digest"` // "sha256:<hex>" of snapshot.json
}

// BucketStat is one bucket's row in the per-bucket view.
type BucketStat struct {
	Name          string `json:"name"`
	Region        string `json:"region"`
	DefaultMethod string `json:"default_method"` // snapshot.Method*, "unknown" when unreadable
	DefaultKeyID  string `json:"default_key_id,omitempty"`
	// DefaultAlgorithm and DefaultDataEncryption are the default rule's
	// algorithm and KMS data encryption as the endpoint said them (AES256,
	// KMS, SM4, aws:kms:dsse...), for the target's own vocabulary.
	DefaultAlgorithm      string         `json:"default_algorithm,omitempty"`
	DefaultDataEncryption string         `json:"default_data_encryption,omitempty"`
	Objects               int64          `json:"objects"`
	Encrypted             int64          `json:"encrypted"`
	Unencrypted           int64          `json:"unencrypted"`
	Unknown               int64          `json:"unknown"` // HEAD failed or not inspected
	ByMethod              map[string]int `json:"by_method"`
	// Encryption counts the current objects by how they are encrypted
	// (method, algorithm and data encryption as read), most used first.
	Encryption   []EncryptionCount `json:"encryption,omitempty"`
	OpenFindings int               `json:"open_findings"`
	// WorstOpen is the highest severity of the open findings on the
	// bucket, its objects and the KMS keys it uses ("" when none).
	WorstOpen string `json:"worst_open,omitempty"`
	// Compliant, ObjectsCompliant, Bytes and BytesCompliant: see
	// Compliance. Bytes counts the current objects recorded in the
	// snapshot (a listed object never recorded has no known size).
	Compliant        bool  `json:"compliant"`
	ObjectsCompliant int64 `json:"objects_compliant"`
	Bytes            int64 `json:"bytes"`
	BytesCompliant   int64 `json:"bytes_compliant"`
	// Keys are the KMS keys the bucket's default rule and current objects
	// name, with their state as the snapshot recorded it.
	Keys []BucketKey `json:"keys,omitempty"`
	// Versioning is the bucket's versioning state ("" when never
	// enabled). With scan --versions, noncurrent versions are counted
	// here and not in Objects and the counts above.
	Versioning            string `json:"versioning,omitempty"`
	NoncurrentVersions    int64  `json:"noncurrent_versions,omitempty"`
	NoncurrentUnencrypted int64  `json:"noncurrent_unencrypted,omitempty"`
}

// EncryptionCount is how many objects of a bucket share one encryption.
type EncryptionCount struct {
	Method         string `json:"method"`                    // snapshot.Method*
	Algorithm      string `json:"algorithm,omitempty"`       // as returned: AES256, KMS, SM4, aws:kms:dsse...
	DataEncryption string `json:"data_encryption,omitempty"` // OSS's x-oss-server-side-data-encryption (SM4)
	Objects        int64  `json:"objects"`
}

// Key states a report shows besides the KMS ones (Enabled, Disabled,
// PendingDeletion...).
const (
	KeyStateMissing = "missing" // KMS says the key does not exist
	KeyStateUnknown = "unknown" // not described (no KMS access, or it failed)
)

// BucketKey is a KMS key one bucket uses.
type BucketKey struct {
	KeyID string `json:"key_id"` // as the rule or object names it
	// Region is the key's region as described ("" when not described).
	Region string `json:"region,omitempty"`
	// State is KMS's key state (Enabled, Disabled, PendingDeletion...),
	// KeyStateMissing or KeyStateUnknown.
	State      string `json:"state"`
	ServiceKey bool   `json:"service_key,omitempty"`
	// Default: the bucket's default rule names this key.
	Default bool `json:"default,omitempty"`
	// Objects counts the bucket's current objects encrypted under it.
	Objects int64 `json:"objects"`
}

// Compliance is the compliance headline: how many buckets, objects and
// bytes are compliant. A resource is compliant when it is verified to be
// encrypted and nothing open is held against it:
//
//   - An open finding is one not waived whose severity is at or above
//     Threshold (low: info findings are advisory). Waived findings do not
//     count; they are listed as waived.
//   - An object (current version) is compliant when its state was read (no
//     HEAD error, a known method), it is encrypted (method not none), no
//     open finding names it, and the KMS key it names, if any, was
//     described as Enabled with no open finding on it. A listed object that
//     was never inspected is not compliant.
//   - A bucket is compliant when its region, default rule and listing were
//     read without error, it has a default encryption rule, the KMS key
//     that rule names (if any) was described as Enabled with no open
//     finding on it, no open finding names the bucket, and every one of its
//     current objects is compliant.
//   - Bytes are the sizes of the current objects recorded in the snapshot;
//     BytesCompliant those of the compliant ones.
//
// Rates are Compliant / total; with a total of 0 there is no rate.
// Compliance is measured on what the scan read: the run's gaps (see
// findings.Outcome) say what it did not.
type Compliance struct {
	Threshold        string `json:"threshold"` // findings severity name
	Buckets          int    `json:"buckets"`
	BucketsCompliant int    `json:"buckets_compliant"`
	Objects          int64  `json:"objects"`
	ObjectsCompliant int64  `json:"objects_compliant"`
	Bytes            int64  `json:"bytes"`
	BytesCompliant   int64  `json:"bytes_compliant"`
}

// ComplianceThreshold is the lowest severity of an open finding that makes
// a resource non-compliant.
const ComplianceThreshold = findings.SeverityLow

// TrendPoint is one scan in the trend chart.
type TrendPoint struct {
	ScanID     string         `json:"scan_id"`
	At         time.Time      `json:"at"`
	Open       int            `json:"open"`
	BySeverity map[string]int `json:"by_severity"`
}
