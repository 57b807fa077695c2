package schemas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/reports"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/schemas"
	"github.com/sseaudit/sseaudit/snapshot"
)

func TestSchemasAreEmbeddedAndCompile(t *testing.T) {
	for _, s := range schemas.All() {
		b, err := schemas.Bytes(s.Format)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", s.File, err)
		}
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" || doc["$id"] != s.ID {
			t.Errorf("%s: $schema %v, $id %v", s.File, doc["$schema"], doc["$id"])
		}
		props, _ := doc["properties"].(map[string]any)
		if c := props["schema"].(map[string]any)["const"]; c != s.Format {
			t.Errorf("%s: the schema member must be %q, the schema says %v", s.File, s.Format, c)
		}
		// Compiling is part of validating: an empty object is refused
		// (every format has required members), so the schema compiled.
		if err := schemas.Validate(s.Format, strings.NewReader(`{}`)); err == nil || !strings.Contains(err.Error(), "missing propert") {
			t.Errorf("%s: {} gave %v", s.File, err)
		}
	}
	for f, b := range map[string][]byte{schemas.ReportFormat: schemas.Report(), schemas.FindingsFormat: schemas.Findings(), schemas.SnapshotFormat: schemas.Snapshot()} {
		if x, _ := schemas.Bytes(f); !bytes.Equal(x, b) {
			t.Errorf("%s: accessor and Bytes differ", f)
		}
	}
	if _, err := schemas.Bytes("sseaudit.report/v0"); err == nil || !strings.Contains(err.Error(), schemas.ReportFormat) {
		t.Errorf("unknown format: %v", err)
	}
	if err := schemas.Validate(schemas.ReportFormat, strings.NewReader(`{"schema":`)); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("truncated document: %v", err)
	}
	if reports.ModelSchema != schemas.ReportFormat || findings.SchemaVersion != schemas.FindingsFormat || snapshot.Schema != schemas.SnapshotFormat {
		t.Error("the schemas package names other format versions than the format packages")
	}
}

// binding ties a Go type to the schema object that describes it.
type binding struct {
	typ     reflect.Type
	format  string
	pointer string   // JSON pointer into the schema ("" = root)
	written []string // members always written although the field is omitempty
}

var bindings = []binding{
	{reflect.TypeFor[reports.Model](), schemas.ReportFormat, "", nil},
	{reflect.TypeFor[reports.Tool](), schemas.ReportFormat, "/$defs/tool", nil},
	{reflect.TypeFor[reports.Provenance](), schemas.ReportFormat, "/$defs/provenance", nil},
	{reflect.TypeFor[reports.Compliance](), schemas.ReportFormat, "/$defs/compliance", nil},
	{reflect.TypeFor[reports.BucketStat](), schemas.ReportFormat, "/$defs/bucket", nil},
	{reflect.TypeFor[reports.EncryptionCount](), schemas.ReportFormat, "/$defs/encryptionCount", nil},
	{reflect.TypeFor[reports.BucketKey](), schemas.ReportFormat, "/$defs/bucketKey", nil},
	{reflect.TypeFor[reports.TrendPoint](), schemas.ReportFormat, "/$defs/trendPoint", nil},
	{reflect.TypeFor[results.Run](), schemas.ReportFormat, "/$defs/run", nil},
	{reflect.TypeFor[results.Scenario](), schemas.ReportFormat, "/$defs/scenario", nil},
	{reflect.TypeFor[results.Step](), schemas.ReportFormat, "/$defs/step", nil},
	{reflect.TypeFor[results.Exclusion](), schemas.ReportFormat, "/$defs/exclusion", nil},

	{reflect.TypeFor[findings.Document](), schemas.FindingsFormat, "", nil},
	{reflect.TypeFor[findings.ScanInfo](), schemas.FindingsFormat, "/$defs/scan", nil},
	{reflect.TypeFor[findings.RuleMeta](), schemas.FindingsFormat, "/$defs/rule", nil},
	{reflect.TypeFor[findings.Control](), schemas.FindingsFormat, "/$defs/control", nil},
	{reflect.TypeFor[findings.Remediation](), schemas.FindingsFormat, "/$defs/remediation", nil},
	{reflect.TypeFor[findings.Summary](), schemas.FindingsFormat, "/$defs/summary", nil},
	{reflect.TypeFor[findings.RuleCount](), schemas.FindingsFormat, "/$defs/summary/properties/by_rule/additionalProperties", nil},
	{reflect.TypeFor[findings.Outcome](), schemas.FindingsFormat, "/$defs/outcome", nil},
	{reflect.TypeFor[findings.Gap](), schemas.FindingsFormat, "/$defs/gap", nil},
	{reflect.TypeFor[findings.Resource](), schemas.FindingsFormat, "/$defs/resource", nil},
	{reflect.TypeFor[findings.Evidence](), schemas.FindingsFormat, "/$defs/evidence", nil},
	{reflect.TypeFor[findings.AppliedWaiver](), schemas.FindingsFormat, "/$defs/waiver", nil},
	{reflect.TypeFor[findings.WaiverSummary](), schemas.FindingsFormat, "/$defs/waiverSummary", nil},
	{reflect.TypeFor[findings.Finding](), schemas.FindingsFormat, "/$defs/finding", nil},
	{reflect.TypeFor[findings.Aggregate](), schemas.FindingsFormat, "/$defs/aggregate", nil},
	{reflect.TypeFor[findings.AffectedSample](), schemas.FindingsFormat, "/$defs/aggregate/properties/sample/items", nil},

	{reflect.TypeFor[snapshot.Summary](), schemas.SnapshotFormat, "", nil},
	{reflect.TypeFor[snapshot.Provenance](), schemas.SnapshotFormat, "/$defs/provenance", nil},
	{reflect.TypeFor[snapshot.Target](), schemas.SnapshotFormat, "/$defs/target", nil},
	{reflect.TypeFor[snapshot.Shard](), schemas.SnapshotFormat, "/$defs/provenance/properties/shard", nil},
	{reflect.TypeFor[snapshot.Rule](), schemas.SnapshotFormat, "/$defs/rule", nil},
	// The Writer always writes a bucket's "objects" (the readers require
	// it); the Go field is omitempty for ReadSummary's buckets.
	{reflect.TypeFor[snapshot.Bucket](), schemas.SnapshotFormat, "/$defs/bucket", []string{"objects"}},
	{reflect.TypeFor[snapshot.Object](), schemas.SnapshotFormat, "/$defs/object", nil},
	{reflect.TypeFor[snapshot.Key](), schemas.SnapshotFormat, "/$defs/key", nil},
	{reflect.TypeFor[snapshot.Error](), schemas.SnapshotFormat, "/$defs/error", nil},
	{reflect.TypeFor[snapshot.Coverage](), schemas.SnapshotFormat, "/$defs/coverage", nil},
}

// schemaAt is the schema object at pointer in the schema of format.
func schemaAt(t *testing.T, format, pointer string) map[string]any {
	t.Helper()
	b, err := schemas.Bytes(format)
	if err != nil {
		t.Fatal(err)
	}
	var cur any
	if err := json.Unmarshal(b, &cur); err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if p == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s%s: not an object at %q", format, pointer, p)
		}
		cur = m[p]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("%s: nothing at %s", format, pointer)
	}
	return m
}

// TestSchemasMatchGoTypes: every member the Go types write is in the
// schema and nothing else is; a member is required exactly when it is
// always written (no omitempty/omitzero). A field added to a format type
// (e.g. a new count in results.Run) fails here until the schema has it.
func TestSchemasMatchGoTypes(t *testing.T) {
	for _, b := range bindings {
		s := schemaAt(t, b.format, b.pointer)
		props, _ := s["properties"].(map[string]any)
		var schemaProps, required []string
		for k := range props {
			schemaProps = append(schemaProps, k)
		}
		for _, r := range s["required"].([]any) {
			required = append(required, r.(string))
		}
		var goProps, goRequired []string
		for i := 0; i < b.typ.NumField(); i++ {
			f := b.typ.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			goProps = append(goProps, name)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") || contains(b.written, name) {
				goRequired = append(goRequired, name)
			}
		}
		sort.Strings(schemaProps)
		sort.Strings(required)
		sort.Strings(goProps)
		sort.Strings(goRequired)
		where := b.format + " schema at " + strconv.Quote("#"+b.pointer)
		for _, p := range diff(goProps, schemaProps) {
			t.Errorf("%s lacks member %q of Go type %v: add it to schemas/", where, p, b.typ)
		}
		for _, p := range diff(schemaProps, goProps) {
			t.Errorf("%s has member %q that Go type %v does not write", where, p, b.typ)
		}
		if !reflect.DeepEqual(required, goRequired) {
			t.Errorf("%s requires %v; %v always writes %v", where, required, b.typ, goRequired)
		}
		if b.typ != reflect.TypeFor[findings.RuleCount]() && b.format != schemas.FindingsFormat && s["additionalProperties"] != false {
			t.Errorf("%s is not closed, but its reader refuses unknown members", where)
		}
	}
}

// TestGapKinds: the findings schema knows every kind of gap package
// findings defines (an enum a reflection cannot see).
func TestGapKinds(t *testing.T) {
	var kinds []string
	for _, k := range schemaAt(t, schemas.FindingsFormat, "/$defs/gap/properties/kind")["enum"].([]any) {
		kinds = append(kinds, k.(string))
	}
	want := append([]string{findings.GapScan}, findings.GapKinds...)
	sort.Strings(kinds)
	sort.Strings(want)
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("findings schema gap kinds %v, package findings %v", kinds, want)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// diff is a minus b.
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// mutate applies op at the JSON pointer path of doc: "delete" a member, or
// "set" a member or array element to v. The document is re-encoded with
// "schema" first, as the snapshot readers require.
func mutate(t *testing.T, doc []byte, path, op string, v any) []byte {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var cur any = root
	for _, p := range parts[:len(parts)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i, _ := strconv.Atoi(p)
			cur = c[i]
		}
		if cur == nil {
			t.Fatalf("%s: nothing at %q", path, p)
		}
	}
	last := parts[len(parts)-1]
	switch c := cur.(type) {
	case map[string]any:
		if _, ok := c[last]; !ok && op == "delete" {
			t.Fatalf("%s: no member to delete", path)
		}
		if op == "delete" {
			delete(c, last)
		} else {
			c[last] = v
		}
	case []any:
		i, _ := strconv.Atoi(last)
		if op == "delete" {
			t.Fatalf("%s: cannot delete an array element", path)
		}
		c[i] = v
	default:
		t.Fatalf("%s: parent is not an object or array", path)
	}
	schema, hasSchema := root["schema"]
	delete(root, "schema")
	rest, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	if !hasSchema {
		return rest
	}
	sb, _ := json.Marshal(schema)
	if len(rest) == 2 {
		return []byte(`{"schema":` + string(sb) + "}")
	}
	return append(append([]byte(`{"schema":`+string(sb)+`,`), rest[1:]...), '\n')
}

// goodReport is a report.json with an outcome, compliance, buckets,
// conformance and findings, built through package reports.
func goodReport(t *testing.T) (report, findingsJSON []byte) {
	t.Helper()
	dir := t.TempDir()
	path := dir + "/snapshot.json"
	var sb bytes.Buffer
	t0 := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	w, err := snapshot.NewWriter(&sb, snapshot.Provenance{ScanID: "s1", StartedAt: t0, ToolVersion: "dev",
		Target: snapshot.Target{Kind: "oss", Dialect: "oss", Endpoint: "e"}}, snapshot.WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.BeginBucket(snapshot.Bucket{Name: "b", Region: "r", Encryption: &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: "k", Method: snapshot.MethodKMSCMK}}))
	must(w.Object(snapshot.Object{Key: "o", Size: 3, SSE: "KMS", KMSKeyID: "k", Method: snapshot.MethodKMSCMK}))
	must(w.EndBucket(1, 1, nil))
	must(w.Key(snapshot.Key{KeyID: "k", Region: "r", State: "Disabled"}))
	must(w.Close(snapshot.Coverage{Buckets: 1, BucketsRead: 1, ObjectsListed: 1, ObjectsInspected: 1, KeysReferenced: 1, KeysDescribed: 1}, true))
	if err := os.WriteFile(path, sb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	meta := &findings.RuleMeta{ID: "SSE-005", Title: "t", Description: "d", Severity: findings.SeverityCritical, Category: findings.CategoryKey,
		ResourceType: findings.ResourceObject, Remediation: findings.Remediation{Text: "fix"},
		Controls: []findings.Control{{Framework: "NIST SP 800-53", Version: "Rev. 5", ID: "SC-12", Title: "Cryptographic Key Establishment and Management"}}}
	f := findings.NewFinding(meta, findings.Resource{Type: findings.ResourceObject, Provider: "oss", Bucket: "b", Key: "o"}, "cannot decrypt")
	f.Observed = map[string]any{"kms_key_id": "k"}
	f.Evidence = []findings.Evidence{{Kind: "kms_key", Data: map[string]any{"state": "Disabled"}}}
	doc := &findings.Document{Scan: findings.ScanInfo{ScanID: "s1", StartedAt: t0, Complete: true}, PolicyDigest: "sha256:x",
		Rules: []findings.RuleMeta{*meta}, Findings: []findings.Finding{f}}
	m, err := reports.BuildModel(context.Background(), reports.ModelInput{SnapshotPath: path, Findings: doc, ToolVersion: "v1.2.3",
		Outcome: &findings.Outcome{Verdict: "fail", ExitCode: 1, FailOn: "high", Reasons: []string{"1 critical finding"},
			Gaps: []findings.Gap{{Kind: "versions", Count: 1, Detail: "d", Accepted: true}}},
		Conformance: &results.Run{Scenarios: []results.Scenario{{Feature: "F", Name: "n", Status: "passed", Steps: []results.Step{{Text: "s", Status: "passed"}}}}, Passed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var rb, fb bytes.Buffer
	if err := m.WriteJSON(&rb); err != nil {
		t.Fatal(err)
	}
	if err := reports.FindingsJSON(&fb, m); err != nil {
		t.Fatal(err)
	}
	return rb.Bytes(), fb.Bytes()
}

// TestSchemasRejectBadDocuments: a valid report.json and findings.json
// pass; the same documents missing a required member, with a member of the
// wrong type or value, or (in report.json) an unknown member, are refused.
func TestSchemasRejectBadDocuments(t *testing.T) {
	report, fjson := goodReport(t)
	for format, doc := range map[string][]byte{schemas.ReportFormat: report, schemas.FindingsFormat: fjson} {
		if err := schemas.Validate(format, bytes.NewReader(doc)); err != nil {
			t.Fatalf("valid %s refused: %v", format, err)
		}
	}
	cases := []struct {
		format, path, op string
		v                any
		why              string
	}{
		{schemas.ReportFormat, "/findings", "delete", nil, "findings"},
		{schemas.ReportFormat, "/schema", "set", "sseaudit.report/v2", "must be"},
		{schemas.ReportFormat, "/tool/version", "set", 1, "string"},
		{schemas.ReportFormat, "/buckets/0/objects", "set", -1, "minimum"},
		{schemas.ReportFormat, "/buckets/0/compliant", "set", "yes", "boolean"},
		{schemas.ReportFormat, "/outcome/verdict", "set", "maybe", "verdict"},
		{schemas.ReportFormat, "/outcome/exit_code", "set", 0, "exit_code"},
		{schemas.ReportFormat, "/outcome/gaps/0/kind", "set", "everything", "kind"},
		{schemas.ReportFormat, "/compliance/threshold", "set", "urgent", "threshold"},
		{schemas.ReportFormat, "/findings/findings/0/severity", "set", "urgent", "severity"},
		{schemas.ReportFormat, "/findings/findings/0/bogus", "set", 1, "bogus"},
		{schemas.ReportFormat, "/findings/rules/0/controls/0/bogus", "set", 1, "bogus"},
		{schemas.ReportFormat, "/conformance/Passed", "set", "1", "integer"},
		{schemas.ReportFormat, "/conformance/Excluded", "set", 1, "Excluded"},
		{schemas.ReportFormat, "/provenance/snapshot_digest", "set", "md5:abc", "snapshot_digest"},
		{schemas.ReportFormat, "/generated_at", "set", "yesterday", "generated_at"},
		{schemas.FindingsFormat, "/rules", "delete", nil, "rules"},
		{schemas.FindingsFormat, "/findings/0/resource/uid", "delete", nil, "uid"},
		{schemas.FindingsFormat, "/findings/0/id", "set", "x", "id"},
		{schemas.FindingsFormat, "/findings/0/resource/type", "set", "disk", "type"},
		{schemas.FindingsFormat, "/summary/open", "set", "3", "integer"},
		{schemas.FindingsFormat, "/outcome/reasons", "set", "one reason", "reasons"},
		{schemas.FindingsFormat, "/outcome/verdict", "delete", nil, "verdict"},
		{schemas.FindingsFormat, "/findings/0/first_seen", "set", "2026-13-01", "first_seen"},
		// An aggregated finding (objects) carries its aggregate; no other
		// finding does.
		{schemas.FindingsFormat, "/findings/0/resource/type", "set", "objects", "aggregate"},
		{schemas.FindingsFormat, "/findings/0/aggregate", "set", map[string]any{"objects": 1, "open": 1, "suppressed": 0, "bytes": 1, "sample": []any{}, "file": "x"}, "aggregate"},
		{schemas.ReportFormat, "/findings/findings/0/aggregate", "set", map[string]any{"objects": -1, "open": 1, "suppressed": 0, "bytes": 1, "sample": []any{}, "file": "x"}, "minimum"},
		// A finding's status is fail or error; "waived" is how reports show
		// a suppressed one, not a status.
		{schemas.FindingsFormat, "/findings/0/status", "set", "waived", "status"},
		{schemas.FindingsFormat, "/findings/0/status", "set", "skipped", "status"},
		{schemas.ReportFormat, "/findings/findings/0/status", "set", "pass", "status"},
		// report.json and its findings document carry the same outcome:
		// one without the other is not what the writer writes.
		{schemas.ReportFormat, "/outcome", "delete", nil, "outcome"},
		{schemas.ReportFormat, "/findings/outcome", "delete", nil, "outcome"},
	}
	// A report.json from before outcomes existed has neither, and is a v1
	// document all the same; so is such a findings.json.
	old := mutate(t, mutate(t, report, "/outcome", "delete", nil), "/findings/outcome", "delete", nil)
	if err := schemas.Validate(schemas.ReportFormat, bytes.NewReader(old)); err != nil {
		t.Errorf("a report.json without any outcome: %v", err)
	}
	if err := schemas.Validate(schemas.FindingsFormat, bytes.NewReader(mutate(t, fjson, "/outcome", "delete", nil))); err != nil {
		t.Errorf("a findings.json without an outcome: %v", err)
	}
	for _, c := range cases {
		doc := report
		if c.format == schemas.FindingsFormat {
			doc = fjson
		}
		bad := mutate(t, doc, c.path, c.op, c.v)
		err := schemas.Validate(c.format, bytes.NewReader(bad))
		if err == nil {
			t.Errorf("%s %s %s %v: accepted", c.format, c.op, c.path, c.v)
			continue
		}
		if !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s %s %s: the error does not name %q: %v", c.format, c.op, c.path, c.why, err)
		}
		if c.format == schemas.ReportFormat {
			// What the schema refuses, report.json's reader refuses too
			// where it checks: unknown members, types, the schema name.
			switch c.why {
			case "bogus", "Excluded", "string", "boolean", "integer", "must be", "generated_at":
				if _, err := reports.DecodeModel(bytes.NewReader(bad)); err == nil {
					t.Errorf("%s %s: DecodeModel accepted what the schema refuses", c.op, c.path)
				}
			}
		}
	}
}
