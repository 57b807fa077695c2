// Package findings is the result schema of a compliance scan: what a policy
// found, about which resource, with the facts it saw, the evidence, how to fix
// it, which controls it maps to, and whether a waiver suppresses it. Reports
// render this package's types; it has no dependency on the policy engine.
//
// A finding's ID is stable across scans: it is derived from the rule id and
// the canonical resource only (see ID), never from the scan, time or message,
// so "first seen" / "last seen" and deltas can be tracked. Waived findings are
// kept and marked Suppressed, never deleted.
//
// # Aggregated object findings
//
// Rules judge objects one at a time, and a legacy bucket can hold millions
// of them. A report lists one finding per rule, bucket and distinguishing
// fact instead (see Aggregator): resource type "objects", with counts,
// bytes, the oldest and newest object, a bounded sample of keys and the
// name of a side file (AffectedFile) that lists every object, one JSON line
// per per-object finding, each with its own stable id. Waivers still apply
// per object; an aggregate is suppressed only when every object in it is.
//
// # Many findings
//
// An estate of many buckets still gives many aggregated findings. A
// SpillWriter keeps them sorted on disk past a bounded number; a Document
// then holds them in Spill instead of Findings, and readers go through
// Document.Each (or Len, Summarized, Failing), which read either.
package findings

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SchemaVersion identifies the findings.json format.
const SchemaVersion = "sseaudit.findings/v1"

// Resource types.
const (
	ResourceBucket = "bucket"
	ResourceObject = "object"
	// ResourceObjects is the objects of one bucket that one rule failed
	// for (with the same distinguishing facts): an aggregated finding.
	ResourceObjects = "objects"
	ResourceKey     = "key"
	ResourceScan    = "scan"
	ResourceWaiver  = "waiver"
)

// Categories of rules: what kind of failure a finding is.
const (
	CategoryEncryption  = "encryption"  // data not encrypted as required
	CategoryKey         = "key"         // KMS key unusable or not allowed
	CategoryConformance = "conformance" // the storage behaved against its contract
	CategoryCoverage    = "coverage"    // something could not be read: state unknown
	CategoryGovernance  = "governance"  // waivers and other process findings
)

// Statuses of a finding. Coverage findings are errors (the state is unknown),
// everything else fails. A suppressed finding keeps its status.
const (
	StatusFail  = "fail"
	StatusError = "error"
)

// Resource identifies what a finding is about. UID is canonical and is what
// waiver resource patterns match against:
//
//	bucket  <provider>://<bucket>                      oss://logs
//	object  <provider>://<bucket>/<key>[?versionId=V]  oss://logs/2024/a.gz
//	objects <provider>://<bucket>/*[?fact=value&...]   oss://logs/*?kms_key_id=1234abcd-...
//	key     kms://<region>/<key id>                    kms://cn-hangzhou/1234abcd-...
//	scan    scan://<target kind>/<endpoint>            scan://reference/127.0.0.1:9000
//	waiver  waiver://<rule>/<resource pattern>         waiver://SSE-004/oss://legacy/*
//
// Provider is "oss" or "s3" (the snapshot's dialect).
type Resource struct {
	Type      string `json:"type"`
	UID       string `json:"uid"`
	Provider  string `json:"provider,omitempty"`
	Region    string `json:"region,omitempty"`
	Bucket    string `json:"bucket,omitempty"`
	Key       string `json:"key,omitempty"`
	VersionID string `json:"version_id,omitempty"`
	KMSKeyID  string `json:"kms_key_id,omitempty"`
	// Facts are what distinguishes one aggregate of a rule's objects in a
	// bucket from another (the rule's METADATA custom.aggregate_by: for
	// example the KMS key id); objects resources only.
	Facts map[string]string `json:"facts,omitempty"`
}

// CanonicalUID builds UID from the other fields (see Resource). scan and
// waiver resources keep the UID they were given.
func (r Resource) CanonicalUID() string {
	p := r.Provider
	if p == "" {
		p = "oss"
	}
	switch r.Type {
	case ResourceBucket:
		return p + "://" + r.Bucket
	case ResourceObject:
		u := p + "://" + r.Bucket + "/" + r.Key
		if r.VersionID != "" {
			u += "?versionId=" + r.VersionID
		}
		return u
	case ResourceObjects:
		u := p + "://" + r.Bucket + "/*"
		if len(r.Facts) > 0 {
			v := url.Values{}
			for k, x := range r.Facts {
				v.Set(k, x)
			}
			u += "?" + v.Encode()
		}
		return u
	case ResourceKey:
		return "kms://" + r.Region + "/" + r.KMSKeyID
	}
	return r.UID
}

// canonical is the unambiguous form hashed into a finding id: JSON of the
// identifying fields (region and display UID are deliberately left out for
// buckets and objects: a bucket does not move, and keys may contain any
// character).
func (r Resource) canonical() string {
	var parts []string
	switch r.Type {
	case ResourceBucket:
		parts = []string{r.Type, r.Provider, r.Bucket}
	case ResourceObject:
		parts = []string{r.Type, r.Provider, r.Bucket, r.Key, r.VersionID}
	case ResourceObjects:
		parts = []string{r.Type, r.Provider, r.Bucket}
		for _, k := range slices.Sorted(maps.Keys(r.Facts)) {
			parts = append(parts, k, r.Facts[k])
		}
	case ResourceKey:
		parts = []string{r.Type, r.Region, r.KMSKeyID}
	default:
		parts = []string{r.Type, r.UID}
	}
	b, _ := json.Marshal(parts)
	return string(b)
}

// ID returns the stable finding id for a rule and resource:
// "F-" + the first 128 bits of sha256(rule id, canonical resource), in hex.
func ID(rule string, r Resource) string {
	h := sha256.New()
	h.Write([]byte(rule))
	h.Write([]byte{0})
	h.Write([]byte(r.canonical()))
	sum := h.Sum(nil)
	return "F-" + hex.EncodeToString(sum[:16])
}

// Control is one compliance-framework mapping: the framework, the version
// of it whose text the mapping was checked against, the control's id in
// that version and its title there.
type Control struct {
	Framework string `json:"framework"`         // e.g. "CIS Alibaba Cloud Foundations Benchmark"
	Version   string `json:"version,omitempty"` // e.g. "v2.0.0"
	ID        string `json:"id"`                // e.g. "5.9"
	Title     string `json:"title,omitempty"`   // the control's title in that version
}

// Remediation says how to fix a finding, in prose and as a CLI example.
type Remediation struct {
	Text string `json:"text"`
	CLI  string `json:"cli,omitempty"`
}

// Evidence is one fact a finding rests on, as captured by the scan.
type Evidence struct {
	Kind       string         `json:"kind"`                  // api_response, head_object, read_probe, kms_key, snapshot_diff, coverage_error, waiver
	Source     string         `json:"source,omitempty"`      // the API or file it came from
	Snapshot   string         `json:"snapshot,omitempty"`    // scan id of the snapshot holding it
	CapturedAt string         `json:"captured_at,omitempty"` // RFC 3339, when the scan read it
	Data       map[string]any `json:"data,omitempty"`
}

// RuleMeta describes a rule: its METADATA block plus where it came from.
type RuleMeta struct {
	ID           string      `json:"id"`
	Title        string      `json:"title"`
	Description  string      `json:"description"`
	Severity     Severity    `json:"severity"`
	Category     string      `json:"category"`
	ResourceType string      `json:"resource_type"`
	Remediation  Remediation `json:"remediation"`
	Controls     []Control   `json:"controls"`
	Package      string      `json:"package,omitempty"`    // rego package, e.g. data.sseaudit.objects
	Entrypoint   string      `json:"entrypoint,omitempty"` // deny (per bucket) or scan_deny (once per scan)
	File         string      `json:"file,omitempty"`       // builtin/objects.rego or the user's path
	Builtin      bool        `json:"builtin"`
	// AggregateBy names the members of an object finding's "observed"
	// whose values split the rule's aggregated findings of one bucket
	// (custom.aggregate_by; none: one aggregate per bucket).
	AggregateBy []string `json:"aggregate_by,omitempty"`
}

// Finding is one rule failing for one resource.
type Finding struct {
	ID          string         `json:"id"`
	Rule        string         `json:"rule"`
	Title       string         `json:"title"`
	Severity    Severity       `json:"severity"`
	Category    string         `json:"category"`
	Status      string         `json:"status"`
	Resource    Resource       `json:"resource"`
	Message     string         `json:"message"`
	Observed    map[string]any `json:"observed,omitempty"`
	Expected    map[string]any `json:"expected,omitempty"`
	Evidence    []Evidence     `json:"evidence,omitempty"`
	Remediation Remediation    `json:"remediation"`
	Controls    []Control      `json:"controls"`
	Suppressed  bool           `json:"suppressed"`
	Waiver      *AppliedWaiver `json:"waiver,omitempty"`
	FirstSeen   time.Time      `json:"first_seen"`
	LastSeen    time.Time      `json:"last_seen"`
	// Aggregate sums up the per-object findings of an objects resource
	// (nil for any other finding). Suppressed is then true only when every
	// object is waived; Waiver is that of the first of them.
	Aggregate *Aggregate `json:"aggregate,omitempty"`
}

// NewFinding fills a finding's rule fields from meta and computes its id.
// The resource UID is made canonical.
func NewFinding(meta *RuleMeta, r Resource, message string) Finding {
	if r.Type != ResourceScan && r.Type != ResourceWaiver {
		r.UID = r.CanonicalUID()
	}
	status := StatusFail
	if meta.Category == CategoryCoverage {
		status = StatusError
	}
	return Finding{
		ID:          ID(meta.ID, r),
		Rule:        meta.ID,
		Title:       meta.Title,
		Severity:    meta.Severity,
		Category:    meta.Category,
		Status:      status,
		Resource:    r,
		Message:     message,
		Remediation: meta.Remediation,
		Controls:    meta.Controls,
	}
}

// Less orders findings for reports: severity descending, then rule, then
// resource UID, then id.
func Less(a, b *Finding) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	if a.Resource.UID != b.Resource.UID {
		return a.Resource.UID < b.Resource.UID
	}
	return a.ID < b.ID
}

// Compare is Less as a three-way comparison, for slices.SortFunc.
func Compare(a, b Finding) int {
	switch {
	case Less(&a, &b):
		return -1
	case Less(&b, &a):
		return 1
	}
	return strings.Compare(a.Message, b.Message)
}
