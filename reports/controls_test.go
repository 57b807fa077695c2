package reports

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
)

// TestHTMLControlsView: with rules mapped to different controls, each
// control lists only its own rules and their findings, grouped by
// framework and version (two versions of one benchmark are two groups),
// with the control's id and title; a rule with no control is listed apart
// as "No control (coverage)".
func TestHTMLControlsView(t *testing.T) {
	const (
		cis   = "CIS Alibaba Cloud Foundations Benchmark"
		nist  = "NIST SP 800-53"
		aws   = "CIS Amazon Web Services Foundations Benchmark"
		pci   = "PCI DSS"
		t58   = "Ensure server-side encryption is enabled for OSS buckets"
		t59   = "Ensure server-side encryption with a customer key for OSS buckets"
		tSC28 = "Protection of Information at Rest"
		tSC12 = "Cryptographic Key Establishment and Management"
	)
	c58 := findings.Control{Framework: cis, Version: "v2.0.0", ID: "5.8", Title: t58}
	c59 := findings.Control{Framework: cis, Version: "v2.0.0", ID: "5.9", Title: t59}
	sc28 := findings.Control{Framework: nist, Version: "Rev. 5", ID: "SC-28", Title: tSC28}
	sc12 := findings.Control{Framework: nist, Version: "Rev. 5", ID: "SC-12", Title: tSC12}
	awsOld := findings.Control{Framework: aws, Version: "v1.4.0", ID: "2.1.1", Title: "Ensure all S3 buckets employ encryption-at-rest"}
	awsNew := findings.Control{Framework: aws, Version: "v3.0.0", ID: "2.1.1", Title: "Ensure S3 Bucket Policy is set to deny HTTP requests"}
	pci36 := findings.Control{Framework: pci, Version: "v4.0", ID: "3.6.1", Title: "Procedures to protect cryptographic keys"}

	rA := ruleMeta("R-A", findings.SeverityHigh, findings.CategoryEncryption, findings.ResourceBucket, c58, sc28, awsOld)
	rB := ruleMeta("R-B", findings.SeverityMedium, findings.CategoryEncryption, findings.ResourceBucket, c59, sc28)
	rC := ruleMeta("R-C", findings.SeverityHigh, findings.CategoryKey, findings.ResourceKey, sc12, pci36, awsNew)
	rCov := ruleMeta("R-COV", findings.SeverityMedium, findings.CategoryCoverage, findings.ResourceBucket)
	fa := bucketFinding(rA, "oss", "a")
	fb := bucketFinding(rB, "oss", "b")
	fb.Suppressed = true
	fb.Waiver = &findings.AppliedWaiver{Rule: "R-B", Resource: "oss://b", Reason: "r", State: findings.WaiverActive}
	fcov := bucketFinding(rCov, "oss", "c")
	m := &Model{Findings: docOf([]*findings.RuleMeta{rA, rB, rC, rCov}, fa, fb, fcov)}
	_, byID := htmlDoc(t, m)

	type row struct {
		title, rules string
		findings     []string
		fail         bool
	}
	got := map[string]map[string]row{} // framework -> control id -> row
	var order []string
	for _, fw := range htmlFind(byID["controls"], "framework") {
		name, _ := htmlAttr(fw, "data-framework")
		if fw == byID["no-control"] {
			continue
		}
		order = append(order, name)
		got[name] = map[string]row{}
		for _, tr := range htmlFind(fw, "ctl") {
			id, _ := htmlAttr(tr, "data-control")
			r := row{fail: htmlHasClass(tr, "fail")}
			if td := htmlFind(tr, "ctitle"); len(td) == 1 {
				r.title = htmlNodeText(td[0])
			}
			if td := htmlFind(tr, "crules"); len(td) == 1 {
				r.rules = htmlNodeText(td[0])
			}
			htmlWalk(tr, func(n *html.Node) {
				if n.Data == "a" {
					r.findings = append(r.findings, htmlNodeText(n))
				}
			})
			got[name][id] = r
		}
	}
	wantOrder := []string{cis + " v2.0.0", aws + " v1.4.0", aws + " v3.0.0", nist + " Rev. 5", pci + " v4.0"}
	if !reflect.DeepEqual(order, wantOrder) {
		t.Errorf("frameworks %q, want %q", order, wantOrder)
	}
	want := map[string]map[string]row{
		cis + " v2.0.0":  {"5.8": {t58, "R-A", []string{"R-A"}, true}, "5.9": {t59, "R-B", []string{"R-B"}, false}},
		aws + " v1.4.0":  {"2.1.1": {awsOld.Title, "R-A", []string{"R-A"}, true}},
		aws + " v3.0.0":  {"2.1.1": {awsNew.Title, "R-C", nil, false}},
		nist + " Rev. 5": {"SC-12": {tSC12, "R-C", nil, false}, "SC-28": {tSC28, "R-A, R-B", []string{"R-A", "R-B"}, true}},
		pci + " v4.0":    {"3.6.1": {pci36.Title, "R-C", nil, false}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("controls view:\n got %+v\nwant %+v", got, want)
	}
	nc := byID["no-control"]
	if nc == nil {
		t.Fatal("no list of rules without a control")
	}
	if txt := htmlNodeText(nc); !strings.Contains(txt, "No control (coverage)") || !strings.Contains(txt, "R-COV") || strings.Contains(txt, "R-A") {
		t.Errorf("no-control list: %q", txt)
	}
	for name, fw := range got {
		for id, r := range fw {
			if strings.Contains(r.rules, "R-COV") {
				t.Errorf("coverage rule listed under %s %s", name, id)
			}
		}
	}
}

// TestHTMLConformanceCounts: skipped scenarios are shown as skipped with
// their reason (not as failed or passed); the scenarios that cannot apply
// to the run (not among the scenarios) are counted as not applicable with
// why; the counts agree with the run's; a dry run's scenarios are "not
// run", not failed; a status the page does not know is counted under its
// own name; and when the run's totals do not agree with its scenarios, the
// page says so.
func TestHTMLConformanceCounts(t *testing.T) {
	sc := func(feature, name, status, reason string) results.Scenario {
		return results.Scenario{Feature: feature, Name: name, Status: status, Error: reason, Dialect: "s3", Duration: time.Millisecond}
	}
	counts := func(byID map[string]*html.Node) map[string]string {
		out := map[string]string{}
		for _, n := range htmlFind(byID["conformance-counts"], "stat") {
			if k, ok := htmlAttr(n, "data-count"); ok {
				out[k] = htmlNodeText(htmlFind(n, "n")[0])
			}
		}
		return out
	}
	run := &results.Run{Scenarios: []results.Scenario{
		sc("F1", "works", results.StatusPassed, ""),
		sc("F1", "breaks", results.StatusFailed, "want 403, got 200"),
		sc("F1", "versioning", results.StatusSkipped, "@versioning: the store answered 501 to PutBucketVersioning"),
		sc("F2", "undefined step", "undefined", "step undefined"), // a run from before the run was strict
		sc("F2", "skipped too", results.StatusSkipped, "@emulator: needs the reference"),
	}, Passed: 1, Failed: 2, Skipped: 2, ExitCode: 1, NotApplicable: 61,
		NotApplicableBy: []results.Exclusion{{Tag: "@oss", Reason: "the run has no OSS target", Count: 61}}}
	m := &Model{Findings: docOf(nil), Conformance: run}
	_, byID := htmlDoc(t, m)
	if got, want := counts(byID), map[string]string{"passed": "1", "failed": "2", "skipped": "2", "not applicable": "61"}; !reflect.DeepEqual(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	conf := htmlNodeText(byID["conformance"])
	if strings.Contains(conf, "disagree") {
		t.Error("counts that agree reported as disagreeing")
	}
	if na := htmlNodeText(byID["not-applicable"].NextSibling); !strings.Contains(na, "@oss 61 scenarios: the run has no OSS target") {
		t.Errorf("not applicable reasons: %q", na)
	}
	scen := map[string]string{} // name -> classes
	htmlWalk(byID["conformance"], func(n *html.Node) {
		if n.Type == html.ElementNode && htmlHasClass(n, "scenario") {
			txt := htmlNodeText(n)
			for _, s := range run.Scenarios {
				if strings.Contains(txt, " "+s.Name) {
					scen[s.Name] = htmlClasses(n)
				}
			}
			if htmlHasClass(n, "sc-skipped") && !strings.Contains(txt, "— @") {
				t.Errorf("skipped scenario without its reason: %q", txt)
			}
			if htmlHasClass(n, "sc-skipped") && len(htmlFind(n, "err")) > 0 {
				t.Errorf("skip reason shown as an error: %q", txt)
			}
		}
	})
	want := map[string]string{"works": "sc-passed", "breaks": "sc-failed", "versioning": "sc-skipped", "undefined step": "sc-failed", "skipped too": "sc-skipped"}
	for name, class := range want {
		if !strings.Contains(scen[name], class) {
			t.Errorf("scenario %q has classes %q, want %s", name, scen[name], class)
		}
	}
	// Feature F2 has no passed scenario: no "0 passed" badge.
	if strings.Contains(conf, "0 passed") {
		t.Error("a feature shows 0 passed")
	}

	// A dry run: nothing ran, nothing failed.
	dry := &results.Run{DryRun: true, NotRun: 2, Skipped: 1, ExitCode: 0, Scenarios: []results.Scenario{
		sc("F", "a", results.StatusNotRun, ""), sc("F", "b", results.StatusNotRun, "may be skipped: @kms needs a KMS endpoint"),
		sc("F", "c", results.StatusSkipped, "@emulator: needs the reference"),
	}}
	_, byID = htmlDoc(t, &Model{Findings: docOf(nil), Conformance: dry})
	if got, want := counts(byID), map[string]string{"passed": "0", "failed": "0", "skipped": "1", "not run": "2", "not applicable": "0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("dry run counts %v, want %v", got, want)
	}
	var sarif bytes.Buffer
	if err := SARIF(&sarif, &Model{Findings: docOf(nil), Conformance: dry}); err != nil || strings.Contains(sarif.String(), `"ruleId": "CONF"`) {
		t.Errorf("a dry run's scenarios are SARIF results: %v", err)
	}
	var ju bytes.Buffer
	if err := ConformanceJUnit(&ju, "dry", *dry); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ju.String(), `<testsuites name="dry" tests="3" failures="0" errors="0" skipped="3"`) {
		t.Errorf("a dry run's JUnit:\n%s", ju.String())
	}

	// Totals that disagree with the scenarios (e.g. skips counted as
	// passed) are reported; so is a status the page does not know.
	run.Passed, run.Skipped = 3, 0
	_, byID = htmlDoc(t, m)
	if !strings.Contains(htmlNodeText(byID["conformance"]), "disagree") {
		t.Error("totals that disagree with the scenarios are not reported")
	}
	run.Passed, run.Skipped = 1, 2
	run.Scenarios = append(run.Scenarios, sc("F3", "odd", "mystery", "?"))
	_, byID = htmlDoc(t, m)
	if c := counts(byID); c["mystery"] != "1" || c["passed"] != "1" || c["failed"] != "2" {
		t.Errorf("unknown status counted as %v", c)
	}
}
