package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/schemas"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestOutputsFollowSchemas validates report.json and findings.json of the
// reports fixtures (with and without conformance, outcome, compliance and
// snapshot; the HTML fixture; an empty model) against the embedded JSON
// Schemas, as WriteAll writes them.
func TestOutputsFollowSchemas(t *testing.T) {
	withOutcome := func(t *testing.T) *Model {
		path := writeSnap(t, DialectS3, []fixBucket{
			{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k"), Versioning: "Enabled", VersionsInspected: true},
				Objects: []snapshot.Object{cmkObject("o", "k", 5), {Key: "o", VersionID: "1", Noncurrent: true, Method: snapshot.MethodNone}}},
		}, []snapshot.Key{{KeyID: "k", Region: "r1", State: "Enabled"}}, nil, true)
		return build(t, ModelInput{SnapshotPath: path, Findings: docOf(allTestRules, objFinding(ruleLow, "s3", "b", "o", map[string]any{"kms_key_id": "k"})),
			ToolVersion: "v1.0.0", Conformance: testRun(), Trend: []TrendPoint{{ScanID: "s0", At: t0, Open: 1, BySeverity: map[string]int{"low": 1}}},
			Outcome: &findings.Outcome{Verdict: "fail", ExitCode: 1, FailOn: "low", Reasons: []string{"1 finding at or above low"},
				Gaps: []findings.Gap{{Kind: findings.GapKeys, Count: 1, Detail: "d", Accepted: true}}}})
	}
	models := map[string]func(t *testing.T) *Model{
		"fixture":             func(t *testing.T) *Model { return testModel(t, false) },
		"fixture+conformance": func(t *testing.T) *Model { return testModel(t, true) },
		"html fixture":        func(*testing.T) *Model { return htmlTestModel() },
		"outcome+compliance":  withOutcome,
		"no snapshot":         func(t *testing.T) *Model { return build(t, ModelInput{Findings: testDoc(), ToolVersion: "v1"}) },
		"empty":               func(t *testing.T) *Model { return build(t, ModelInput{}) },
		"zero model":          func(*testing.T) *Model { return &Model{} },
	}
	for name, mk := range models {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := WriteAll(dir, mk(t)); err != nil {
				t.Fatal(err)
			}
			for file, format := range map[string]string{ModelFile: schemas.ReportFormat, FindingsFile: schemas.FindingsFormat} {
				b, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if err := schemas.Validate(format, bytes.NewReader(b)); err != nil {
					t.Errorf("%s: %v", file, err)
				}
			}
		})
	}
	if ModelSchema != schemas.ReportFormat || findings.SchemaVersion != schemas.FindingsFormat || snapshot.Schema != schemas.SnapshotFormat {
		t.Error("the schemas package names other format versions than the format packages")
	}
}

// TestReportSchemaRefusesWhatDecodeModelRefuses: a report.json with an
// unknown member, also inside its findings document, is refused by both
// DecodeModel and the schema; findings.json alone may carry one.
func TestReportSchemaRefusesWhatDecodeModelRefuses(t *testing.T) {
	var buf bytes.Buffer
	if err := testModel(t, true).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	for name, doc := range map[string]string{
		"top":                    strings.Replace(good, `"schema"`, `"bogus": 1, "schema"`, 1),
		"findings document":      strings.Replace(good, `"policy_digest": "sha256:feed"`, `"policy_digest": "sha256:feed", "bogus": 1`, 1),
		"a finding":              strings.Replace(good, `"suppressed": true`, `"suppressed": true, "bogus": 1`, 1),
		"a bucket":               strings.Replace(good, `"open_findings": 2`, `"open_findings": 2, "bogus": 1`, 1),
		"a conformance scenario": strings.Replace(good, `"Feature": "Copy"`, `"Feature": "Copy", "Bogus": 1`, 1),
	} {
		if doc == good {
			t.Fatalf("%s: the fixture changed, nothing replaced", name)
		}
		if _, err := DecodeModel(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: DecodeModel accepted an unknown member", name)
		}
		if err := schemas.Validate(schemas.ReportFormat, strings.NewReader(doc)); err == nil {
			t.Errorf("%s: the report schema accepted an unknown member", name)
		}
	}
	var fb bytes.Buffer
	if err := FindingsJSON(&fb, testModel(t, false)); err != nil {
		t.Fatal(err)
	}
	open := strings.Replace(fb.String(), `"suppressed": true`, `"suppressed": true, "added_in_v1_1": 1`, 1)
	if _, err := findings.Decode(strings.NewReader(open)); err != nil {
		t.Fatalf("findings.Decode refused an unknown member: %v", err)
	}
	if err := schemas.Validate(schemas.FindingsFormat, strings.NewReader(open)); err != nil {
		t.Errorf("findings schema refused an unknown member its reader accepts: %v", err)
	}
}
