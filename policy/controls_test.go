package policy

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/findings"
)

// controlCatalogue is every control the built-in rules may name, with its
// title as the framework's own text has it, checked when the mapping was
// made:
//   - CIS Alibaba Cloud Foundations Benchmark v2.0.0, section 5 Storage:
//     5.8 and 5.9 are distinct recommendations (service key vs BYOK CMK).
//   - CIS Amazon Web Services Foundations Benchmark v1.5.0: 2.1.1 is the S3
//     encryption-at-rest recommendation (as in v1.3.0 and v1.4.0); v2.0.0
//     and v3.0.0 removed it (their 2.1.1 is "Ensure S3 Bucket Policy is set
//     to deny HTTP requests"), so v1.5.0 is the last version that has it.
//     3.8 is the KMS rotation recommendation of v1.5.0.
//   - NIST SP 800-53 Rev. 5 control and enhancement names.
//   - PCI DSS v4.0 requirement statements (the standard has no titles: the
//     statement up to its list of elements stands for one).
//   - ISO/IEC 27001:2022 Annex A control names.
var controlCatalogue = map[[3]string]string{
	{"CIS Alibaba Cloud Foundations Benchmark", "v2.0.0", "5.8"}:         "Ensure server-side encryption is set to 'Encrypt with Service Key'",
	{"CIS Alibaba Cloud Foundations Benchmark", "v2.0.0", "5.9"}:         "Ensure server-side encryption is set to 'Encrypt with BYOK'",
	{"CIS Amazon Web Services Foundations Benchmark", "v1.5.0", "2.1.1"}: "Ensure all S3 buckets employ encryption-at-rest",
	{"CIS Amazon Web Services Foundations Benchmark", "v1.5.0", "3.8"}:   "Ensure rotation for customer created symmetric CMKs is enabled",
	{"NIST SP 800-53", "Rev. 5", "AC-3"}:                                 "Access Enforcement",
	{"NIST SP 800-53", "Rev. 5", "SC-12"}:                                "Cryptographic Key Establishment and Management",
	{"NIST SP 800-53", "Rev. 5", "SC-12(1)"}:                             "Cryptographic Key Establishment and Management | Availability",
	{"NIST SP 800-53", "Rev. 5", "SC-13"}:                                "Cryptographic Protection",
	{"NIST SP 800-53", "Rev. 5", "SC-28"}:                                "Protection of Information at Rest",
	{"NIST SP 800-53", "Rev. 5", "SC-28(1)"}:                             "Protection of Information at Rest | Cryptographic Protection",
	{"NIST SP 800-53", "Rev. 5", "SI-7"}:                                 "Software, Firmware, and Information Integrity",
	{"PCI DSS", "v4.0", "3.5.1"}:                                         "PAN is rendered unreadable anywhere it is stored by using any of the following approaches",
	{"PCI DSS", "v4.0", "3.7.4"}:                                         "Key management policies and procedures are implemented for cryptographic key changes for keys that have reached the end of their cryptoperiod",
	{"PCI DSS", "v4.0", "3.7.5"}:                                         "Key management policies procedures are implemented to include the retirement, replacement, or destruction of keys used to protect stored account data",
	{"PCI DSS", "v4.0", "3.7.7"}:                                         "Key management policies and procedures are implemented to include the prevention of unauthorized substitution of cryptographic keys",
	{"ISO/IEC 27001", "2022", "A.5.22"}:                                  "Monitoring, review and change management of supplier services",
	{"ISO/IEC 27001", "2022", "A.8.3"}:                                   "Information access restriction",
	{"ISO/IEC 27001", "2022", "A.8.24"}:                                  "Use of cryptography",
}

// sharedControls are the rules allowed to have the same control list, and
// why: the same requirement failing at two levels of the same estate.
var sharedControls = map[string]string{
	"SSE-001 SSE-004 SSE-011": "data at rest not encrypted: the bucket default, a current object, an older version",
	"SSE-002 SSE-013":         "encryption weaker than the profile: the bucket default, an object",
	"SSE-003 SSE-005":         "a KMS key that cannot be used: named by the bucket default, protecting an object",
	"SSE-023 SSE-024":         "keys outside the store's key management (SSE-C): an object written so, the bucket accepting such writes",
}

// TestControls: every rule's controls are complete, in the catalogue with
// its exact title, distinct per rule (bar the justified groups), absent for
// coverage rules only; CIS Alibaba 5.8 and 5.9 and the CIS AWS control go
// only where they fit.
func TestControls(t *testing.T) {
	e := load(t, Options{})
	byList := map[string][]string{}
	for _, r := range e.Rules() {
		if r.ID == findings.ExpiredWaiverRule {
			continue
		}
		if r.Category == findings.CategoryCoverage {
			if len(r.Controls) != 0 {
				t.Errorf("%s: coverage rule maps to %v; what was not read tests no control", r.ID, r.Controls)
			}
			continue
		}
		if len(r.Controls) == 0 {
			t.Errorf("%s: no controls", r.ID)
		}
		var key []string
		for _, c := range r.Controls {
			if c.Framework == "" || c.Version == "" || c.ID == "" || c.Title == "" {
				t.Errorf("%s: incomplete control %+v", r.ID, c)
			}
			title, ok := controlCatalogue[[3]string{c.Framework, c.Version, c.ID}]
			if !ok {
				t.Errorf("%s: control %s %s %s is not in the catalogue: check it against the framework's text and add it", r.ID, c.Framework, c.Version, c.ID)
			} else if c.Title != title {
				t.Errorf("%s: %s %s title %q, the framework says %q", r.ID, c.Framework, c.ID, c.Title, title)
			}
			key = append(key, c.Framework+"|"+c.Version+"|"+c.ID)
		}
		k := strings.Join(key, ",")
		byList[k] = append(byList[k], r.ID)
	}
	for _, ids := range byList {
		if len(ids) < 2 {
			continue
		}
		slices.Sort(ids)
		if _, ok := sharedControls[strings.Join(ids, " ")]; !ok {
			t.Errorf("rules %v share one control list; give each the controls it tests, or justify the group in sharedControls", ids)
		}
	}
	for group := range sharedControls {
		ids := strings.Fields(group)
		first, _ := e.Rule(ids[0])
		for _, id := range ids[1:] {
			r, _ := e.Rule(id)
			if !reflect.DeepEqual(r.Controls, first.Controls) {
				t.Errorf("sharedControls group %q is stale: %s and %s differ", group, ids[0], id)
			}
		}
	}

	// Where the CIS controls go.
	has := func(id, fw, ctl string) bool {
		r, _ := e.Rule(id)
		for _, c := range r.Controls {
			if strings.HasPrefix(c.Framework, fw) && c.ID == ctl {
				return true
			}
		}
		return false
	}
	const ali, aws = "CIS Alibaba", "CIS Amazon"
	for _, w := range []struct {
		rule, fw, ctl string
		want          bool
	}{
		{"SSE-001", ali, "5.8", true}, {"SSE-001", ali, "5.9", false}, {"SSE-001", aws, "2.1.1", true},
		{"SSE-004", ali, "5.8", true}, {"SSE-004", ali, "5.9", false},
		{"SSE-002", ali, "5.8", true}, {"SSE-002", ali, "5.9", true}, {"SSE-002", aws, "2.1.1", false},
		{"SSE-013", ali, "5.9", true},
		{"SSE-006", ali, "5.9", true}, {"SSE-006", ali, "5.8", false},
		{"SSE-005", ali, "5.8", false}, {"SSE-005", ali, "5.9", false},
		{"SSE-015", aws, "3.8", true}, {"SSE-015", "PCI DSS", "3.7.4", true}, {"SSE-015", "NIST", "SC-12", true},
		{"SSE-016", "PCI DSS", "3.7.5", true}, {"SSE-016", "NIST", "SC-12", true}, {"SSE-016", "NIST", "SC-28", false},
		{"SSE-003", "NIST", "SC-12", true}, {"SSE-003", "NIST", "SC-28", false},
		{"SSE-007", "NIST", "SI-7", true}, {"SSE-007", ali, "5.8", false},
	} {
		if got := has(w.rule, w.fw, w.ctl); got != w.want {
			t.Errorf("%s maps to %s %s: %v, want %v", w.rule, w.fw, w.ctl, got, w.want)
		}
	}
}

// TestControlsMetadata: custom.controls entries need framework, version,
// id and title; an empty list is accepted for coverage rules only.
func TestControlsMetadata(t *testing.T) {
	rule := func(category, controls string) string {
		return `package acme.ctl

# METADATA
# title: t
# description: d
# custom:
#   id: ACME-9
#   severity: low
#   category: ` + category + `
#   resource_type: bucket
#   remediation: {text: t, cli: c}
` + controls + `
deny contains {"rule": rego.metadata.rule().custom.id, "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"} if false
`
	}
	loadErr := func(src string) error {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "ctl.rego"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(context.Background(), Options{ExtraDirs: []string{d}})
		return err
	}
	full := `#   controls: [{framework: ACME, version: "1", id: "7", title: Seven}]`
	for _, c := range []struct {
		name, category, controls, want string
	}{
		{"complete", "encryption", full, ""},
		{"coverage, none", "coverage", "#   controls: []", ""},
		{"no version or title", "encryption", `#   controls: [{framework: ACME, id: "7"}]`, "custom.controls[0]: version, title required"},
		{"empty title", "key", `#   controls: [{framework: ACME, version: "1", id: "7", title: ""}]`, "custom.controls[0]: title required"},
		{"empty list, not coverage", "encryption", "#   controls: []", "an empty list is allowed only for category coverage (this rule is encryption)"},
		{"absent", "coverage", "", "custom.controls is required"},
		{"number id", "encryption", `#   controls: [{framework: ACME, version: "1", id: 5.10, title: T}]`, "custom.controls[0].id: want a string"},
		{"unknown member", "encryption", `#   controls: [{framework: ACME, version: "1", id: "7", title: T, url: x}]`, `unknown member "url"`},
		{"twice", "encryption", `#   controls: [{framework: ACME, version: "1", id: "7", title: T}, {framework: ACME, version: "1", id: "7", title: T}]`, "listed twice"},
		{"not a list", "encryption", `#   controls: {framework: ACME}`, "want a list"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := loadErr(rule(c.category, c.controls))
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "ctl.rego") {
				t.Errorf("error %v, want it to name ctl.rego and say %q", err, c.want)
			}
		})
	}
}
