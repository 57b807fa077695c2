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
// scan, the conformance results (when conformance ran), and the facts about
// the snapshot that charts and drill-downs need. It holds no secrets.
type Model struct {
	Schema      string             `json:"schema"`
	GeneratedAt time.Time          `json:"generated_at"`
	Tool        Tool               `json:"tool"`
	Provenance  Provenance         `json:"provenance"`
	Findings    *findings.Document `json:"findings"`
	Conformance *results.Run       `json:"conformance,omitempty"`
	Buckets     []BucketStat       `json:"buckets"`
	Coverage    snapshot.Coverage  `json:"coverage"`
	// Trend holds earlier scans of the same target, oldest first, when
	// history exists; the current scan is the last point.
	Trend []TrendPoint `json:"trend,omitempty"`
}

// Tool names the producer.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Provenance ties the report to its inputs by digest.
type Provenance struct {
	ScanID         string          `json:"scan_id"`
	StartedAt      time.Time       `json:"started_at"`
	FinishedAt     time.Time       `json:"finished_at"`
	Complete       bool            `json:"complete"`
	Target         snapshot.Target `json:"target"`
	Regions        []string        `json:"regions,omitempty"`
	PolicyDigest   string          `json:"policy_digest"`
	SnapshotDigest string          `json:"snapshot_digest"` // "sha256:<hex>" of snapshot.json
}

// BucketStat is one bucket's row in the per-bucket view.
type BucketStat struct {
	Name          string         `json:"name"`
	Region        string         `json:"region"`
	DefaultMethod string         `json:"default_method"` // snapshot.Method*, "unknown" when unreadable
	DefaultKeyID  string         `json:"default_key_id,omitempty"`
	Objects       int64          `json:"objects"`
	Encrypted     int64          `json:"encrypted"`
	Unencrypted   int64          `json:"unencrypted"`
	Unknown       int64          `json:"unknown"` // HEAD failed or not inspected
	ByMethod      map[string]int `json:"by_method"`
	OpenFindings  int            `json:"open_findings"`
	// Versioning is the bucket's versioning state ("" when never
	// enabled). With scan --versions, noncurrent versions are counted
	// here and not in Objects and the counts above.
	Versioning            string `json:"versioning,omitempty"`
	NoncurrentVersions    int64  `json:"noncurrent_versions,omitempty"`
	NoncurrentUnencrypted int64  `json:"noncurrent_unencrypted,omitempty"`
}

// TrendPoint is one scan in the trend chart.
type TrendPoint struct {
	ScanID     string         `json:"scan_id"`
	At         time.Time      `json:"at"`
	Open       int            `json:"open"`
	BySeverity map[string]int `json:"by_severity"`
}
