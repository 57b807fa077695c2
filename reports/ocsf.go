package reports

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/sseaudit/sseaudit/findings"
)

// OCSF Compliance Finding (class 2003) constants, OCSF schema 1.3.0.
const (
	OCSFVersion          = "1.3.0"
	OCSFClassUID         = 2003
	OCSFCategoryUID      = 2
	OCSFActivityCreate   = 1
	OCSFTypeUIDCreate    = OCSFClassUID*100 + OCSFActivityCreate // 200301
	ocsfFindingNew       = 1                                     // status_id New
	ocsfFindingSupressed = 3                                     // status_id Suppressed
	ocsfComplianceFail   = 3
	ocsfComplianceUnknwn = 0
)

// OCSFFinding is one OCSF Compliance Finding event.
type OCSFFinding struct {
	ActivityID   int             `json:"activity_id"`
	ActivityName string          `json:"activity_name"`
	CategoryUID  int             `json:"category_uid"`
	CategoryName string          `json:"category_name"`
	ClassUID     int             `json:"class_uid"`
	ClassName    string          `json:"class_name"`
	TypeUID      int             `json:"type_uid"`
	TypeName     string          `json:"type_name"`
	Time         int64           `json:"time"`
	SeverityID   int             `json:"severity_id"`
	Severity     string          `json:"severity"`
	StatusID     int             `json:"status_id"`
	Status       string          `json:"status"`
	StatusDetail string          `json:"status_detail,omitempty"`
	Message      string          `json:"message"`
	FindingInfo  OCSFFindingInfo `json:"finding_info"`
	Compliance   OCSFCompliance  `json:"compliance"`
	Resources    []OCSFResource  `json:"resources"`
	Cloud        *OCSFCloud      `json:"cloud,omitempty"`
	Metadata     OCSFMetadata    `json:"metadata"`
	Remediation  OCSFRemediation `json:"remediation"`
	Unmapped     map[string]any  `json:"unmapped,omitempty"`
}

// OCSFFindingInfo is the finding_info object.
type OCSFFindingInfo struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	Desc          string   `json:"desc,omitempty"`
	FirstSeenTime int64    `json:"first_seen_time,omitempty"`
	LastSeenTime  int64    `json:"last_seen_time,omitempty"`
	Types         []string `json:"types"`
}

// OCSFCompliance is the compliance object.
type OCSFCompliance struct {
	Standards    []string `json:"standards"`
	Requirements []string `json:"requirements"`
	Control      string   `json:"control"`
	StatusID     int      `json:"status_id"`
	Status       string   `json:"status"`
}

// OCSFResource is one resources[] entry.
type OCSFResource struct {
	UID    string         `json:"uid"`
	Type   string         `json:"type"`
	Region string         `json:"region,omitempty"`
	Name   string         `json:"name,omitempty"`
	Data   map[string]any `json:"data,omitempty"`
}

// OCSFCloud is the cloud object (only for real providers).
type OCSFCloud struct {
	Provider string `json:"provider"`
	Region   string `json:"region,omitempty"`
}

// OCSFMetadata is the metadata object.
type OCSFMetadata struct {
	Version string      `json:"version"`
	Product OCSFProduct `json:"product"`
	UID     string      `json:"uid,omitempty"`
}

// OCSFProduct names the producer.
type OCSFProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// OCSFRemediation is the remediation object.
type OCSFRemediation struct {
	Desc string `json:"desc"`
}

var ocsfSeverities = map[findings.Severity]struct {
	id   int
	name string
}{
	findings.SeverityInfo:     {1, "Informational"},
	findings.SeverityLow:      {2, "Low"},
	findings.SeverityMedium:   {3, "Medium"},
	findings.SeverityHigh:     {4, "High"},
	findings.SeverityCritical: {5, "Critical"},
}

// OCSFFindings converts m's findings (suppressed ones included, with
// status Suppressed) into OCSF Compliance Findings.
func OCSFFindings(m *Model) []OCSFFinding {
	d := modelDoc(m)
	out := make([]OCSFFinding, 0, d.Len())
	c := newOCSFContext(m)
	// A spilled document that cannot be read back gives what was read;
	// OCSF (the writer) reports the error.
	_ = d.Each(func(f *findings.Finding) error {
		out = append(out, c.event(f))
		return nil
	})
	return out
}

// ocsfContext is what every event of a model shares.
type ocsfContext struct {
	m     *Model
	t     time.Time
	rules map[string]*findings.RuleMeta
	cloud *OCSFCloud
}

func newOCSFContext(m *Model) *ocsfContext {
	c := &ocsfContext{m: m, t: m.GeneratedAt, rules: ruleIndex(m.Findings)}
	if c.t.IsZero() {
		c.t = m.Provenance.FinishedAt
	}
	switch m.Provenance.Target.Kind {
	case "oss":
		c.cloud = &OCSFCloud{Provider: "Alibaba Cloud"}
	case "s3":
		c.cloud = &OCSFCloud{Provider: "AWS"}
	}
	return c
}

// event is f as an OCSF Compliance Finding.
func (c *ocsfContext) event(f *findings.Finding) OCSFFinding {
	m, t, rules, cloud := c.m, c.t, c.rules, c.cloud
	{
		e := OCSFFinding{
			ActivityID: OCSFActivityCreate, ActivityName: "Create",
			CategoryUID: OCSFCategoryUID, CategoryName: "Findings",
			ClassUID: OCSFClassUID, ClassName: "Compliance Finding",
			TypeUID: OCSFTypeUIDCreate, TypeName: "Compliance Finding: Create",
			Time:       millis(t),
			SeverityID: 0, Severity: "Unknown",
			StatusID: ocsfFindingNew, Status: "New",
			Message: f.Message,
			FindingInfo: OCSFFindingInfo{
				UID: f.ID, Title: f.Title,
				FirstSeenTime: millis(f.FirstSeen), LastSeenTime: millis(f.LastSeen),
				Types: []string{f.Category},
			},
			Compliance: OCSFCompliance{
				Standards: []string{}, Requirements: []string{}, Control: f.Rule,
				StatusID: ocsfComplianceFail, Status: "Fail",
			},
			Resources: []OCSFResource{{
				UID: f.Resource.UID, Type: f.Resource.Type, Region: f.Resource.Region, Name: resourceName(f),
			}},
			Metadata: OCSFMetadata{
				Version: OCSFVersion, UID: f.ID,
				Product: OCSFProduct{Name: ToolName, VendorName: ToolName, Version: m.Tool.Version},
			},
			Remediation: OCSFRemediation{Desc: f.Remediation.Text},
		}
		if s, ok := ocsfSeverities[f.Severity]; ok {
			e.SeverityID, e.Severity = s.id, s.name
		}
		if r := rules[f.Rule]; r != nil {
			e.FindingInfo.Desc = r.Description
		}
		if f.Suppressed {
			e.StatusID, e.Status = ocsfFindingSupressed, "Suppressed"
			e.StatusDetail = waiverText(f)
		}
		if f.Status == findings.StatusError {
			// The state could not be read: neither pass nor a proven fail.
			e.Compliance.StatusID, e.Compliance.Status = ocsfComplianceUnknwn, "Unknown"
			if e.StatusDetail == "" {
				e.StatusDetail = "state unknown: " + firstLine(f.Message)
			}
		}
		std := map[string]bool{}
		for _, c := range f.Controls {
			if c.Framework != "" && !std[c.Framework] {
				std[c.Framework] = true
				e.Compliance.Standards = append(e.Compliance.Standards, c.Framework)
			}
			e.Compliance.Requirements = append(e.Compliance.Requirements, controlString(c))
		}
		sort.Strings(e.Compliance.Standards)
		if cloud != nil {
			c := *cloud
			c.Region = f.Resource.Region
			e.Cloud = &c
		}
		if f.Resource.Bucket != "" || f.Resource.Key != "" || KeyID(f) != "" {
			e.Resources[0].Data = map[string]any{}
			for k, v := range map[string]string{"bucket": f.Resource.Bucket, "key": f.Resource.Key,
				"version_id": f.Resource.VersionID, "kms_key_id": KeyID(f), "provider": f.Resource.Provider} {
				if v != "" {
					e.Resources[0].Data[k] = v
				}
			}
		}
		un := map[string]any{
			"rule":            f.Rule,
			"category":        f.Category,
			"finding_status":  f.Status,
			"suppressed":      f.Suppressed,
			"scan_id":         m.Provenance.ScanID,
			"policy_digest":   m.Provenance.PolicyDigest,
			"snapshot_digest": m.Provenance.SnapshotDigest,
		}
		if f.Remediation.CLI != "" {
			un["remediation_cli"] = f.Remediation.CLI
		}
		if f.Observed != nil {
			un["observed"] = f.Observed
		}
		if f.Expected != nil {
			un["expected"] = f.Expected
		}
		if len(f.Evidence) > 0 {
			un["evidence"] = f.Evidence
		}
		if f.Waiver != nil {
			un["waiver"] = f.Waiver
		}
		if a := f.Aggregate; a != nil {
			// One event per rule and bucket: its objects are counted
			// here and listed, every one, in the side file a.File.
			un["aggregate"] = a
			e.Resources[0].Data["objects"] = a.Objects
			e.Resources[0].Data["bytes"] = a.Bytes
			for k, v := range f.Resource.Facts {
				e.Resources[0].Data[k] = v
			}
		}
		if o := outcomeOf(m); o != nil {
			// The run's verdict travels with each event: a SIEM sees
			// events one by one, and this array has no run-level object.
			un["run_outcome"] = o
		}
		e.Unmapped = un
		return e
	}
}

// OCSF writes m's findings as a JSON array of OCSF 1.3.0 Compliance
// Finding events (class_uid 2003, type_uid 200301): severity and finding
// status (New, or Suppressed for waived findings), finding_info, compliance
// (standards = frameworks, requirements = "framework:id" control ids,
// control = rule id, status Fail, Unknown for findings whose state could not
// be read), resources, metadata (product version: the running tool's),
// remediation and the rest in unmapped, including the run's outcome
// (verdict, exit code, gate, reasons, gaps) as "run_outcome". A run with
// no findings has no event, so the OCSF file cannot carry its verdict:
// report.json, SARIF and JUnit do.
func OCSF(w io.Writer, m *Model) error {
	fs := eachOf(modelDoc(m))
	c := newOCSFContext(m)
	// One event at a time (see writeSpliced).
	each := func(yield func(any) error) error {
		return fs.d.Each(func(f *findings.Finding) error { return yield(c.event(f)) })
	}
	elem, stop := pulled(fs.d.Len(), each)
	defer stop()
	if err := writeSpliced(w, []byte("[]\n"), "", fs.d.Len(), elem); err != nil {
		return fmt.Errorf("reports: encode ocsf: %w", err)
	}
	return nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func resourceName(f *findings.Finding) string {
	switch f.Resource.Type {
	case findings.ResourceBucket:
		return f.Resource.Bucket
	case findings.ResourceObject:
		return f.Resource.Key
	case findings.ResourceObjects:
		return f.Resource.Bucket + "/*"
	case findings.ResourceKey:
		return f.Resource.KMSKeyID
	}
	return f.Resource.UID
}
