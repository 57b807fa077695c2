package remediate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/attest"
	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// PlanSchema is the version of the plan document. A change that a reader
// of an older version would misread gets a new version.
const PlanSchema = "sseaudit.remediation-plan/v1"

// DefaultMaxAge is how old a plan's scan may be, by default, for a plan
// to be made or applied: an estate keeps changing, and objects written
// since the scan are not in the plan.
const DefaultMaxAge = 24 * time.Hour

// Plan is the remediation plan document.
type Plan struct {
	// Schema is PlanSchema.
	Schema    string    `json:"schema"`
	CreatedAt time.Time `json:"created_at"`
	Tool      string    `json:"tool,omitempty"`
	// Source is the signed report the plan was made from.
	Source Source `json:"source"`
	// Target is the endpoint the scan read; apply refuses another.
	Target Target `json:"target"`
	// Encryption is what objects and bucket defaults are given.
	Encryption Encryption `json:"encryption"`
	// Summary counts what the buckets list.
	Summary Summary `json:"summary"`
	// Buckets are in name order; each object list in key order.
	Buckets []BucketPlan `json:"buckets"`
}

// Source names the report a plan was made from.
type Source struct {
	ReportDir      string    `json:"report_dir"`
	ScanID         string    `json:"scan_id"`
	ScanStartedAt  time.Time `json:"scan_started_at"`
	ScanFinishedAt time.Time `json:"scan_finished_at"`
	// SignerKeyID is the key id that signed the report's manifest.
	SignerKeyID string `json:"signer_key_id"`
	// FindingsSHA256 is the digest of findings.json as verified.
	FindingsSHA256 string `json:"findings_sha256"`
	// Profile is the organisation profile the report was judged under
	// (findings.json's profile): apply's re-scan must judge the
	// resolution under the same one. "" in a plan from a report without.
	Profile string `json:"profile,omitempty"`
}

// Target is the scanned endpoint.
type Target struct {
	Dialect  string `json:"dialect"`
	Endpoint string `json:"endpoint"`
	Region   string `json:"region,omitempty"`
}

// Encryption is the planned encryption, in package client's vocabulary.
type Encryption struct {
	Algorithm string `json:"algorithm"` // AES256 or KMS
	KMSKeyID  string `json:"kms_key_id,omitempty"`
}

// SSE is e as a client request.
func (e Encryption) SSE() *client.SSE { return &client.SSE{Algorithm: e.Algorithm, KeyID: e.KMSKeyID} }

// Summary counts a plan.
type Summary struct {
	Buckets           int   `json:"buckets"`
	DefaultsToSet     int   `json:"defaults_to_set"`
	Objects           int   `json:"objects"`
	Bytes             int64 `json:"bytes"`
	NoncurrentObjects int   `json:"noncurrent_versions"`
	NoncurrentBytes   int64 `json:"noncurrent_bytes"`
}

// BucketPlan is one bucket's part of a plan.
type BucketPlan struct {
	Name       string `json:"name"`
	Region     string `json:"region,omitempty"`
	Versioning string `json:"versioning,omitempty"`
	// Default is the bucket's default encryption as scanned (nil: none).
	Default *Encryption `json:"default"`
	// SetDefault is the default to set (nil: keep the current one).
	SetDefault *Encryption `json:"set_default,omitempty"`
	// Objects are the current objects to rewrite.
	Objects []Object `json:"objects"`
	// Noncurrent are noncurrent versions found unencrypted: listed, never
	// rewritten (a copy makes a new current version) nor deleted.
	Noncurrent []Object `json:"noncurrent,omitempty"`
}

// Object is one object as the scan saw it.
type Object struct {
	Key          string    `json:"key"`
	VersionID    string    `json:"version_id,omitempty"`
	ETag         string    `json:"etag"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"last_modified"`
	// Method is the encryption the scan saw (snapshot.Method*), KMSKeyID
	// its key.
	Method   string `json:"method"`
	KMSKeyID string `json:"kms_key_id,omitempty"`
	// Findings are the ids of the per-object findings this rewrite
	// resolves.
	Findings []string `json:"findings"`
}

// PlanOptions configure Build.
type PlanOptions struct {
	Encryption Encryption
	// MaxAge bounds the scan's age (0: DefaultMaxAge; negative: none).
	MaxAge time.Duration
	// Verify pins the report's signer; the zero value checks integrity
	// against the key the manifest carries.
	Verify attest.VerifyOptions
	Now    func() time.Time
	Tool   string
}

// methodRank orders the methods by strength; methods not in it (other,
// unknown) are never planned.
var methodRank = map[string]int{
	snapshot.MethodNone: 0, snapshot.MethodOSSManaged: 1, snapshot.MethodKMSDefault: 2, snapshot.MethodKMSCMK: 3,
}

// CheckEncryption refuses an encryption that cannot be planned.
func CheckEncryption(e Encryption) error {
	switch e.Algorithm {
	case client.AlgorithmAES256:
		if e.KMSKeyID != "" {
			return fmt.Errorf("remediate: --kms-key %q goes with --method KMS, not AES256", e.KMSKeyID)
		}
	case client.AlgorithmKMS:
	default:
		return fmt.Errorf("remediate: --method %q: use AES256 or KMS (with --kms-key for a customer key)", e.Algorithm)
	}
	return nil
}

// targetRank is the rank of the planned encryption.
func (e Encryption) rank() int {
	switch {
	case e.Algorithm == client.AlgorithmAES256:
		return 1
	case e.KMSKeyID == "":
		return 2
	}
	return 3
}

// weaker reports whether (method, key) falls short of e. An object S3
// reports under the ARN of the planned key is under that key.
func (e Encryption) weaker(method, keyID string) bool {
	r, ok := methodRank[method]
	if !ok {
		return false
	}
	if r < e.rank() {
		return true
	}
	return e.rank() == 3 && method == snapshot.MethodKMSCMK && !snapshot.SameKey(keyID, e.KMSKeyID)
}

// Build makes a plan from the signed report directory dir.
func Build(ctx context.Context, dir string, o PlanOptions) (*Plan, error) {
	if err := CheckEncryption(o.Encryption); err != nil {
		return nil, err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	rep, err := attest.Verify(ctx, dir, o.Verify)
	if err != nil {
		if errors.Is(err, attest.ErrTampered) {
			return nil, fmt.Errorf("remediate: the report %s does not verify, so it cannot be planned from: %w (plan from an intact signed report: re-run 'sseaudit audit')", dir, err)
		}
		return nil, fmt.Errorf("remediate: cannot verify the report %s: %w", dir, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "findings.json"))
	if err != nil {
		return nil, fmt.Errorf("remediate: the report %s has no findings.json: %w", dir, err)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(raw, &head); err == nil && head.Schema != findings.SchemaVersion {
		return nil, fmt.Errorf("remediate: the report's findings.json has schema %q; this sseaudit plans from %q: audit again with this version and plan from its report", head.Schema, findings.SchemaVersion)
	}
	doc, err := findings.Decode(strings.NewReader(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("remediate: %s: %w", filepath.Join(dir, "findings.json"), err)
	}
	if !doc.Scan.Complete {
		return nil, fmt.Errorf("remediate: the scan %s in %s is incomplete: objects it could not read would be missing from the plan; plan from a complete scan", doc.Scan.ScanID, dir)
	}
	if doc.Scan.Endpoint == "" || doc.Scan.Dialect == "" {
		return nil, fmt.Errorf("remediate: the report %s names no endpoint or dialect: plan from a scan of an --endpoint", dir)
	}
	scanned := doc.Scan.FinishedAt
	if scanned.IsZero() {
		scanned = doc.Scan.StartedAt
	}
	if err := checkAge(scanned, o.MaxAge, now()); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	p := &Plan{
		Schema: PlanSchema, CreatedAt: now().UTC(), Tool: o.Tool,
		Source: Source{ReportDir: dir, ScanID: doc.Scan.ScanID, ScanStartedAt: doc.Scan.StartedAt, ScanFinishedAt: doc.Scan.FinishedAt,
			SignerKeyID: rep.KeyID, FindingsSHA256: hex.EncodeToString(sum[:]), Profile: doc.Profile},
		Target:     Target{Dialect: doc.Scan.Dialect, Endpoint: doc.Scan.Endpoint},
		Encryption: o.Encryption,
		// A list, empty too: a reviewer reads "nothing to do", not null.
		Buckets: []BucketPlan{},
	}
	if len(doc.Scan.Regions) > 0 {
		p.Target.Region = doc.Scan.Regions[0]
	}
	snapName := doc.Scan.Snapshot
	if snapName == "" || filepath.IsAbs(snapName) || strings.Contains(snapName, "..") {
		snapName = "snapshot.json"
	}
	snap, err := snapshot.ReadHeaders(filepath.Join(dir, snapName))
	if err != nil {
		return nil, fmt.Errorf("remediate: the report's snapshot: %w", err)
	}
	buckets := map[string]*BucketPlan{}
	for _, b := range snap.Buckets {
		bp := &BucketPlan{Name: b.Name, Region: b.Region, Versioning: b.Versioning}
		if b.Encryption != nil {
			bp.Default = &Encryption{Algorithm: b.Encryption.Algorithm, KMSKeyID: b.Encryption.KMSMasterKeyID}
			if o.Encryption.weaker(b.Encryption.Method, b.Encryption.KMSMasterKeyID) {
				bp.SetDefault = &o.Encryption
			}
		} else if b.EncryptionError == nil {
			bp.SetDefault = &o.Encryption
		}
		buckets[b.Name] = bp
	}
	if err := readObjects(dir, doc, o.Encryption, buckets); err != nil {
		return nil, err
	}
	for _, bp := range buckets {
		if bp.SetDefault == nil && len(bp.Objects) == 0 && len(bp.Noncurrent) == 0 {
			continue
		}
		p.Buckets = append(p.Buckets, *bp)
	}
	slices.SortFunc(p.Buckets, func(a, b BucketPlan) int { return strings.Compare(a.Name, b.Name) })
	p.Summary = summarize(p.Buckets)
	return p, nil
}

// readObjects adds the open per-object findings of the side file whose
// objects fall short of enc. Waived (suppressed) objects are left alone:
// someone accepted them as they are.
func readObjects(dir string, doc *findings.Document, enc Encryption, buckets map[string]*BucketPlan) error {
	hasSide := false
	for i := range doc.Findings {
		if doc.Findings[i].Aggregate != nil {
			hasSide = true
		}
	}
	if !hasSide {
		return nil
	}
	f, err := os.Open(filepath.Join(dir, findings.AffectedFile))
	if err != nil {
		return fmt.Errorf("remediate: the report lists aggregated findings but its object list cannot be read: %w", err)
	}
	defer f.Close()
	type id struct{ bucket, key, version string }
	seen := map[id]int{} // index in its list
	return findings.ReadAffected(f, func(a *findings.AffectedObject) error {
		if a.Suppressed || !enc.weaker(a.Method, a.KMSKeyID) {
			return nil
		}
		bp := buckets[a.Bucket]
		if bp == nil {
			bp = &BucketPlan{Name: a.Bucket}
			buckets[a.Bucket] = bp
		}
		list := &bp.Objects
		if a.Noncurrent {
			list = &bp.Noncurrent
		}
		k := id{a.Bucket, a.Key, a.VersionID}
		if i, ok := seen[k]; ok {
			// Several rules flag one object (not encrypted, and public):
			// one rewrite resolves them all.
			o := &(*list)[i]
			if !slices.Contains(o.Findings, a.ID) {
				o.Findings = append(o.Findings, a.ID)
			}
			return nil
		}
		seen[k] = len(*list)
		*list = append(*list, Object{Key: a.Key, VersionID: a.VersionID, ETag: a.ETag, Size: a.Size, LastModified: a.LastModified,
			Method: a.Method, KMSKeyID: a.KMSKeyID, Findings: []string{a.ID}})
		return nil
	})
}

func summarize(bs []BucketPlan) Summary {
	var s Summary
	for i := range bs {
		b := &bs[i]
		slices.SortFunc(b.Objects, func(x, y Object) int { return strings.Compare(x.Key, y.Key) })
		slices.SortFunc(b.Noncurrent, func(x, y Object) int {
			return cmpOr(strings.Compare(x.Key, y.Key), strings.Compare(x.VersionID, y.VersionID))
		})
		s.Buckets++
		if b.SetDefault != nil {
			s.DefaultsToSet++
		}
		for _, o := range b.Objects {
			s.Objects++
			s.Bytes += o.Size
		}
		for _, o := range b.Noncurrent {
			s.NoncurrentObjects++
			s.NoncurrentBytes += o.Size
		}
	}
	return s
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// checkAge refuses a scan older than maxAge (0: DefaultMaxAge; negative:
// no bound).
func checkAge(scanned time.Time, maxAge time.Duration, now time.Time) error {
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	if maxAge < 0 {
		return nil
	}
	if age := now.Sub(scanned); age > maxAge {
		return fmt.Errorf("remediate: the scan is %s old (finished %s), more than --max-age %s: objects written or changed since are not in it; scan again and plan from the new report, or raise --max-age",
			age.Round(time.Second), scanned.UTC().Format(time.RFC3339), maxAge)
	}
	return nil
}

// Write writes p as indented JSON to path (mode 0644, replaced whole).
func Write(path string, p *Plan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("remediate: encode the plan: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("remediate: write the plan: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("remediate: write the plan: %w", err)
	}
	return nil
}

// Read reads a plan and returns it with the SHA-256 of its bytes (which
// the journal records, so a journal is never resumed against another
// plan). Unknown members and another schema are refused.
func Read(path string) (*Plan, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("remediate: read the plan: %w", err)
	}
	var p Plan
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, "", fmt.Errorf("remediate: %s is not a remediation plan: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", fmt.Errorf("remediate: %s: data after the plan", path)
	}
	if p.Schema != PlanSchema {
		return nil, "", fmt.Errorf("remediate: %s has schema %q; this sseaudit reads %q: make the plan again with this version", path, p.Schema, PlanSchema)
	}
	if err := CheckEncryption(p.Encryption); err != nil {
		return nil, "", fmt.Errorf("%w (in %s)", err, path)
	}
	sum := sha256.Sum256(raw)
	return &p, hex.EncodeToString(sum[:]), nil
}

// Estimate is what applying a plan costs, roughly.
type Estimate struct {
	Requests int64
	// Duration at the given rate (0 when no rate is given).
	Duration time.Duration
}

// requestsPerObject: HEAD, ACL and tagging reads before; the copy; HEAD,
// ACL and tagging reads after.
const requestsPerObject = 7

// EstimateCost counts the requests p needs (multipart objects count one
// part copy per partSize plus initiation and completion) and their time
// at rate requests per second.
func EstimateCost(p *Plan, threshold, partSize int64, rate float64) Estimate {
	var e Estimate
	for _, b := range p.Buckets {
		e.Requests += 2 // the write probe: initiate and abort
		if b.SetDefault != nil {
			e.Requests++
		}
		for _, o := range b.Objects {
			e.Requests += requestsPerObject
			if o.Size >= threshold && partSize > 0 {
				e.Requests += (o.Size+partSize-1)/partSize + 1
			}
		}
	}
	if rate > 0 {
		e.Duration = time.Duration(float64(e.Requests) / rate * float64(time.Second))
	}
	return e
}
