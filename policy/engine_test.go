package policy

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/snapshot"
)

func TestLoadBuiltinRules(t *testing.T) {
	e := load(t, Options{})
	rules := e.Rules()
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
		if r.ID == findings.ExpiredWaiverRule {
			continue
		}
		if !r.Builtin || r.Title == "" || r.Description == "" || !r.Severity.Valid() || r.Remediation.Text == "" || r.Remediation.CLI == "" {
			t.Errorf("%s: incomplete metadata %+v", r.ID, r)
		}
		if !strings.HasPrefix(r.File, "builtin/") || !strings.HasPrefix(r.Package, "data.sseaudit.") {
			t.Errorf("%s: file %q package %q", r.ID, r.File, r.Package)
		}
	}
	want := "SSE-001 SSE-002 SSE-003 SSE-004 SSE-005 SSE-006 SSE-007 SSE-008 SSE-009 SSE-010 SSE-011 SSE-012 SSE-013 SSE-014 SSE-015 SSE-016 SSE-017 SSE-018 SSE-019 SSE-020 SSE-021 SSE-022 SSE-023 SSE-024 SSE-900"
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("rules %s, want %s", got, want)
	}
	if d := e.Digest(); !strings.HasPrefix(d, "sha256:") || len(d) != 71 {
		t.Errorf("digest %q", d)
	}
	if d2 := load(t, Options{}).Digest(); d2 != e.Digest() {
		t.Errorf("digest not stable: %s vs %s", e.Digest(), d2)
	}
	if r, _ := e.Rule("SSE-005"); r.Severity != findings.SeverityCritical || r.Entrypoint != BucketEntrypoint {
		t.Errorf("SSE-005 %+v", r)
	}
	if r, _ := e.Rule("SSE-009"); r.Entrypoint != ScanEntrypoint || r.Category != findings.CategoryCoverage {
		t.Errorf("SSE-009 %+v", r)
	}
}

func TestCleanEstateHasNoFindings(t *testing.T) {
	e := load(t, Options{})
	fs := eval(t, e, mem("s1", bucket("b1", ruleCMK, goodObjects("b1")...), bucket("b2", ruleAES, goodObjects("b2")...)), nil, nil)
	if len(fs) != 0 {
		t.Fatalf("findings on a clean estate: %+v", fs)
	}
}

// TestEveryRule evaluates, for every rule, an estate that complies (no
// finding of that rule) and one that violates it (exactly one).
func TestEveryRule(t *testing.T) {
	byok := BuiltinProfiles()["byok"]
	aesOnly := DefaultProfile()
	aesOnly.AllowedAlgorithms = []string{"AES256"}
	restricted := DefaultProfile()
	restricted.AllowedCMKIDs = []string{cmk}
	failed := obj("b1", "failed.txt", snapshot.MethodNone, "")
	failed.Error = &snapshot.Error{Scope: "object", Resource: "b1/failed.txt", StatusCode: 500, Message: "boom"}
	plain := obj("b1", "plain.txt", snapshot.MethodNone, "")
	silently := plain
	silently.SSE, silently.KMSKeyID, silently.Method = "KMS", cmk, snapshot.MethodKMSCMK

	type tc struct {
		profile   *Profile
		cur, prev *MemorySnapshot
		wantRes   string // resource UID of the violation
	}
	incomplete := mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))
	incomplete.Complete = false
	keyErr := mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))
	keyErr.Keys = append(keyErr.Keys, key("dddddddd-0000-0000-0000-000000000005", func(k *snapshot.Key) {
		k.State = ""
		k.Error = &snapshot.Error{Scope: "key", Resource: k.KeyID, StatusCode: 403, Message: "denied"}
	}))
	noRotation := mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))
	noRotation.Keys[0].AutomaticRotation, noRotation.Keys[0].RotationInterval = "Disabled", ""
	cases := map[string]struct{ ok, bad tc }{
		"SSE-001": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleAES))},
			bad: tc{cur: mem("s2", bucket("b1", nil)), wantRes: "oss://b1"},
		},
		"SSE-002": {
			ok:  tc{profile: &aesOnly, cur: mem("s2", bucket("b1", ruleAES))},
			bad: tc{profile: &aesOnly, cur: mem("s2", bucket("b1", ruleSM4)), wantRes: "oss://b1"},
		},
		"SSE-003": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleCMK))},
			bad: tc{cur: mem("s2", bucket("b1", ruleWith(keyPend))), wantRes: "oss://b1"},
		},
		"SSE-004": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))},
			bad: tc{cur: mem("s2", bucket("b1", ruleCMK, append(goodObjects("b1"), plain)...)), wantRes: "oss://b1/plain.txt"},
		},
		"SSE-005": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))},
			bad: tc{cur: mem("s2", bucket("b1", ruleCMK, obj("b1", "locked", snapshot.MethodKMSCMK, keyDis))), wantRes: "oss://b1/locked"},
		},
		"SSE-006": {
			ok:  tc{profile: &restricted, cur: mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))},
			bad: tc{profile: &restricted, cur: mem("s2", bucket("b1", ruleCMK, obj("b1", "other", snapshot.MethodKMSCMK, cmk2))), wantRes: "oss://b1/other"},
		},
		"SSE-007": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleCMK, plain)), prev: mem("s1", bucket("b1", nil, plain))},
			bad: tc{cur: mem("s2", bucket("b1", ruleCMK, silently)), prev: mem("s1", bucket("b1", nil, plain)), wantRes: "oss://b1/plain.txt"},
		},
		"SSE-008": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))},
			bad: tc{cur: mem("s2", bucket("b1", ruleCMK, failed)), wantRes: "oss://b1"},
		},
		"SSE-009": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))},
			bad: tc{cur: incomplete, wantRes: "scan://reference/127.0.0.1:9000"},
		},
		"SSE-010": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))},
			bad: tc{cur: keyErr, wantRes: "kms://cn-hangzhou/dddddddd-0000-0000-0000-000000000005"},
		},
		"SSE-013": {
			ok:  tc{profile: &byok, cur: mem("s2", bucket("b1", ruleCMK, obj("b1", "a", snapshot.MethodKMSCMK, cmk)))},
			bad: tc{profile: &byok, cur: mem("s2", bucket("b1", ruleCMK, obj("b1", "a", snapshot.MethodKMSCMK, cmk), obj("b1", "aes", snapshot.MethodOSSManaged, ""))), wantRes: "oss://b1/aes"},
		},
		"SSE-014": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))},
			bad: tc{cur: mem("s2", bucket("b1", ruleCMK, append(goodObjects("b1"), obj("b1", "odd", "kms-odd", ""))...)), wantRes: "oss://b1/odd"},
		},
		"SSE-015": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleCMK, goodObjects("b1")...))},
			bad: tc{cur: noRotation, wantRes: "kms://cn-hangzhou/" + cmk},
		},
		"SSE-016": {
			ok:  tc{cur: mem("s2", bucket("b1", ruleWith(keyPend)))},
			bad: tc{cur: mem("s2", bucket("b1", ruleCMK, obj("b1", "p", snapshot.MethodKMSCMK, keyPend))), wantRes: "kms://cn-hangzhou/" + keyPend},
		},
	}
	for id, c := range cases {
		t.Run(id, func(t *testing.T) {
			run := func(x tc) []findings.Finding {
				e := load(t, Options{Profile: x.profile})
				var prev Source
				if x.prev != nil {
					prev = x.prev
				}
				return ofRule(eval(t, e, x.cur, prev, nil), id)
			}
			if fs := run(c.ok); len(fs) != 0 {
				t.Errorf("compliant estate: %d findings: %+v", len(fs), fs)
			}
			fs := run(c.bad)
			if len(fs) != 1 {
				t.Fatalf("violating estate: %d findings, want 1: %+v", len(fs), fs)
			}
			f := fs[0]
			if f.Resource.UID != c.bad.wantRes {
				t.Errorf("resource %q, want %q", f.Resource.UID, c.bad.wantRes)
			}
			meta, _ := load(t, Options{}).Rule(id)
			if f.ID != findings.ID(id, f.Resource) || f.Title == "" || f.Message == "" || !reflect.DeepEqual(f.Controls, meta.Controls) || f.Remediation.CLI == "" || len(f.Evidence) == 0 {
				t.Errorf("incomplete finding %+v", f)
			}
			if !f.FirstSeen.Equal(tScan) || !f.LastSeen.Equal(tScan) {
				t.Errorf("first/last seen %v %v, want the scan's finish %v", f.FirstSeen, f.LastSeen, tScan)
			}
		})
	}
}

// TestDrift runs the drift rule over two snapshot files written with
// snapshot.Writer, through EvaluateSnapshot.
func TestDrift(t *testing.T) {
	dir := t.TempDir()
	e := load(t, Options{})
	plain := obj("b1", "x.bin", snapshot.MethodNone, "")
	reenc := plain
	reenc.SSE, reenc.KMSKeyID, reenc.Method = "KMS", cmk, snapshot.MethodKMSCMK
	rewritten := reenc
	rewritten.ETag, rewritten.LastModified = `"etag-new"`, tMid
	touched := plain
	touched.ETag = `"etag-other"`

	prevSnap := func(enc *snapshot.Rule, objs ...snapshot.Object) *MemorySnapshot {
		m := mem("s1", bucket("a0", ruleAES), bucket("b1", enc, objs...), bucket("c9", ruleAES))
		m.FinishedAt = tPrevScan
		return m
	}
	cases := []struct {
		name      string
		prev, cur *MemorySnapshot
		want      string // change, "" = no finding
	}{
		{"encryption changed, ETag and LastModified same", prevSnap(nil, plain), mem("s2", bucket("b1", ruleCMK, reenc)), "encryption state changed while ETag and LastModified stayed the same"},
		{"ETag changed, LastModified same", prevSnap(ruleAES, plain), mem("s2", bucket("b1", ruleCMK, touched)), "ETag changed while LastModified stayed the same"},
		{"no change of default", prevSnap(ruleCMK, plain), mem("s2", bucket("b1", ruleCMK, reenc)), ""},
		{"object rewritten", prevSnap(nil, plain), mem("s2", bucket("b1", ruleCMK, rewritten)), ""},
		{"objects untouched", prevSnap(nil, plain), mem("s2", bucket("b1", ruleCMK, plain)), ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pp := writeSnapshot(t, dir, "prev"+string(rune('0'+i))+".json", c.prev)
			cp := writeSnapshot(t, dir, "cur"+string(rune('0'+i))+".json", c.cur)
			fs, err := e.EvaluateSnapshot(context.Background(), cp, pp, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := ofRule(fs, "SSE-007")
			if c.want == "" {
				if len(got) != 0 {
					t.Fatalf("want no SSE-007, got %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("want one SSE-007, got %d: %+v", len(got), fs)
			}
			f := got[0]
			if f.Observed["change"] != c.want || f.Category != findings.CategoryConformance || !strings.HasPrefix(f.Message, "storage conformance failure") {
				t.Errorf("finding %+v", f)
			}
			if len(f.Evidence) != 2 || f.Evidence[0].Snapshot != "s1" || f.Evidence[1].Snapshot != "s2" {
				t.Errorf("evidence %+v", f.Evidence)
			}
		})
	}
	// No previous snapshot: nothing to compare.
	cp := writeSnapshot(t, dir, "alone.json", mem("s2", bucket("b1", ruleCMK, reenc)))
	fs, err := e.EvaluateSnapshot(context.Background(), cp, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ofRule(fs, "SSE-007")) != 0 {
		t.Errorf("SSE-007 without a previous snapshot: %+v", fs)
	}
}

// TestPreviousOutOfOrder joins a previous snapshot whose buckets are not in
// the current order (only possible with a custom Source).
func TestPreviousOutOfOrder(t *testing.T) {
	e := load(t, Options{})
	plain := obj("b1", "x.bin", snapshot.MethodNone, "")
	reenc := plain
	reenc.SSE, reenc.KMSKeyID, reenc.Method = "KMS", cmk, snapshot.MethodKMSCMK
	prev := mem("s1", bucket("z9", nil, obj("z9", "x.bin", snapshot.MethodNone, "")), bucket("b1", nil, plain))
	cur := mem("s2", bucket("b1", ruleCMK, reenc), bucket("z9", ruleCMK, func() snapshot.Object { o := reenc; o.Bucket = "z9"; return o }()))
	fs := ofRule(eval(t, e, cur, prev, nil), "SSE-007")
	if len(fs) != 2 {
		t.Fatalf("want SSE-007 on both buckets, got %+v", fs)
	}
}

func TestSnapshotFileMatchesMemory(t *testing.T) {
	e := load(t, Options{})
	plain := obj("b1", "plain.txt", snapshot.MethodNone, "")
	m := mem("s2", bucket("b0", nil), bucket("b1", ruleCMK, append(goodObjects("b1"), plain, obj("b1", "locked", snapshot.MethodKMSCMK, keyDis))...), bucket("b2", ruleWith(keyGone)))
	p := writeSnapshot(t, t.TempDir(), "s.json", m)
	fromFile, err := e.EvaluateSnapshot(context.Background(), p, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	fromMem := eval(t, e, m, nil, nil)
	if !reflect.DeepEqual(ids(fromFile), ids(fromMem)) || len(fromFile) != 4 {
		t.Fatalf("file %v, memory %v", ids(fromFile), ids(fromMem))
	}
	// Deterministic order: severity first.
	if fromFile[0].Rule != "SSE-005" {
		t.Errorf("first finding %s, want the critical SSE-005", fromFile[0].Rule)
	}
}

func ids(fs []findings.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule+" "+f.Resource.UID+" "+f.ID)
	}
	return out
}

func TestStableIDs(t *testing.T) {
	e := load(t, Options{})
	plain := obj("b1", "plain.txt", snapshot.MethodNone, "")
	a := eval(t, e, mem("scan-A", bucket("b0", nil), bucket("b1", ruleCMK, plain)), nil, nil)
	m := mem("scan-B", bucket("b0", nil), bucket("b1", ruleAES, plain))
	m.FinishedAt = tScan.Add(24 * time.Hour)
	m.Provenance.Target.Endpoint = "127.0.0.1:9000"
	b := eval(t, e, m, nil, nil)
	if len(a) != 2 || !reflect.DeepEqual(ids(a), ids(b)) {
		t.Fatalf("ids changed across scans:\n%v\n%v", ids(a), ids(b))
	}
	if a[0].ID == a[1].ID {
		t.Errorf("two findings share id %s", a[0].ID)
	}
	// Versioned object: each version is its own resource.
	v1, v2 := plain, plain
	v1.VersionID, v2.VersionID = "v1", "v2"
	c := eval(t, e, mem("scan-C", bucket("b1", ruleCMK, v1, v2)), nil, nil)
	if len(c) != 2 || c[0].ID == c[1].ID || !strings.Contains(c[0].Resource.UID, "?versionId=v") {
		t.Errorf("versions: %v", ids(c))
	}
}

func TestHistory(t *testing.T) {
	e := load(t, Options{})
	plain := obj("b1", "plain.txt", snapshot.MethodNone, "")
	m := mem("s2", bucket("b1", ruleCMK, plain))
	fs := eval(t, e, m, nil, nil)
	id := fs[0].ID
	first := tScan.Add(-30 * 24 * time.Hour)
	h := &fakeHistory{ruleFirstSeen: map[string]time.Time{"b1": tMid}, firstSeen: map[string]time.Time{id: first}}
	fs = eval(t, e, m, nil, h)
	f := fs[0]
	if !f.FirstSeen.Equal(first) || !f.LastSeen.Equal(tScan) {
		t.Errorf("first/last seen %v %v", f.FirstSeen, f.LastSeen)
	}
	if f.Observed["basis"] != "history" || f.Observed["written_before_default"] != true || !strings.Contains(f.Message, "written before the default was set") {
		t.Errorf("finding %+v", f)
	}
	// Without history but with a previous snapshot that had no default.
	prev := mem("s1", bucket("b1", nil, plain))
	prev.Buckets[0].ReadAt = tPrevScan
	fs = ofRule(eval(t, e, m, prev, nil), "SSE-004")
	if len(fs) != 1 || fs[0].Observed["basis"] != "previous_snapshot" || fs[0].Observed["written_before_default"] != true {
		t.Errorf("previous-snapshot basis: %+v", fs)
	}
}

func TestUserPolicyDir(t *testing.T) {
	dir := t.TempDir()
	good := `package acme.naming

import data.sseaudit.lib

# METADATA
# title: Bucket name must not say tmp
# description: Temporary buckets must not hold data.
# custom:
#   id: ACME-001
#   severity: low
#   resource_type: bucket
#   remediation:
#     text: Delete it.
#     cli: ossutil rm oss://BUCKET -b
#   controls:
#     - {framework: ACME Storage Standard, version: "2024", id: "7", title: Temporary buckets hold no data}
deny contains {"rule": rego.metadata.rule().custom.id, "resource": lib.bucket_resource(input.bucket), "message": "tmp bucket"} if {
	contains(input.bucket.name, "tmp")
}
`
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "naming.rego"), []byte(good), 0o644)
	os.WriteFile(filepath.Join(dir, "naming_test.rego"), []byte("package broken\nthis is not rego"), 0o644)
	e := load(t, Options{ExtraDirs: []string{dir}})
	r, ok := e.Rule("ACME-001")
	if !ok || r.Builtin || r.File != filepath.Join(dir, "sub", "naming.rego") || r.Package != "data.acme.naming" {
		t.Fatalf("user rule %+v %v", r, ok)
	}
	if e.Digest() == load(t, Options{}).Digest() {
		t.Error("digest does not change with a user policy")
	}
	fs := eval(t, e, mem("s", bucket("tmp-1", ruleCMK), bucket("prod", ruleCMK)), nil, nil)
	if len(fs) != 1 || fs[0].Rule != "ACME-001" || fs[0].Resource.UID != "oss://tmp-1" || fs[0].Severity != findings.SeverityLow {
		t.Fatalf("findings %+v", fs)
	}

	bad := func(name, src string) error {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, name), []byte(src), 0o644)
		_, err := Load(context.Background(), Options{ExtraDirs: []string{d}})
		if err == nil {
			t.Fatalf("%s: loaded", name)
		}
		return err
	}
	err := bad("nometa.rego", "package acme.x\n\ndeny contains {\"rule\": \"X\"} if true\n")
	if !strings.Contains(err.Error(), "nometa.rego:3: rule deny in package acme.x") || !strings.Contains(err.Error(), "no # METADATA") {
		t.Errorf("missing metadata: %v", err)
	}
	err = bad("partial.rego", strings.Replace(good, "#   severity: low\n", "", 1))
	if !strings.Contains(err.Error(), "partial.rego") || !strings.Contains(err.Error(), "custom.severity is required") {
		t.Errorf("missing severity: %v", err)
	}
	err = bad("dup.rego", strings.Replace(good, "ACME-001", "SSE-001", 1))
	if !strings.Contains(err.Error(), "custom.id SSE-001 is already used by builtin/bucket_default.rego") {
		t.Errorf("duplicate id: %v", err)
	}
	err = bad("cli.rego", strings.Replace(good, "#     cli: ossutil rm oss://BUCKET -b\n", "", 1))
	if !strings.Contains(err.Error(), "remediation.cli is required") {
		t.Errorf("missing cli: %v", err)
	}
	err = bad("syntax.rego", "package acme.y\n\ndeny[x] { x := 1 }\n")
	if !strings.Contains(err.Error(), "syntax.rego") {
		t.Errorf("syntax: %v", err)
	}
	if _, err := Load(context.Background(), Options{ExtraDirs: []string{filepath.Join(dir, "nope")}}); err == nil {
		t.Error("missing dir loaded")
	}
	if _, err := Load(context.Background(), Options{ExtraDirs: []string{t.TempDir()}}); err == nil || !strings.Contains(err.Error(), "no .rego policy files") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestUserRuleSpoofingABuiltinID(t *testing.T) {
	d := t.TempDir()
	src := `package acme.spoof

# METADATA
# title: t
# description: d
# custom:
#   id: ACME-002
#   severity: low
#   resource_type: bucket
#   remediation: {text: t, cli: c}
#   controls: [{framework: F, version: "1", id: "1", title: T}]
deny contains {"rule": "SSE-001", "resource": {"type": "bucket", "bucket": input.bucket.name}, "message": "m"} if true
`
	os.WriteFile(filepath.Join(d, "spoof.rego"), []byte(src), 0o644)
	e := load(t, Options{ExtraDirs: []string{d}})
	_, err := e.Evaluate(context.Background(), mem("s", bucket("b", ruleCMK)), nil, nil)
	if err == nil || !strings.Contains(err.Error(), `names rule "SSE-001", which this package does not define`) {
		t.Fatalf("spoofed rule id: %v", err)
	}
}

func TestWaivers(t *testing.T) {
	plain := obj("b1", "plain.txt", snapshot.MethodNone, "")
	m := mem("s2", bucket("legacy", nil), bucket("b1", ruleCMK, plain))
	ws, err := findings.ParseWaivers([]byte(`waivers:
  - rule: SSE-004
    resource: "oss://b1/*"
    reason: legacy upload, re-encrypted in Q3
    owner: storage@example.com
    expires: 2024-12-31
  - rule: SSE-001
    resource: oss://legacy
    reason: decommissioned
    owner: ops@example.com
    expires: 2024-05-31
`), "waivers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := load(t, Options{Waivers: ws})
	fs := eval(t, e, m, nil, nil)
	if len(fs) != 3 {
		t.Fatalf("want SSE-001, SSE-004 and SSE-900, got %v", ids(fs))
	}
	for _, f := range fs {
		switch f.Rule {
		case "SSE-004":
			if !f.Suppressed || f.Waiver == nil || f.Waiver.State != findings.WaiverActive || f.Waiver.Owner != "storage@example.com" {
				t.Errorf("active waiver not applied: %+v", f)
			}
		case "SSE-001":
			if f.Suppressed || f.Waiver == nil || f.Waiver.State != findings.WaiverExpired {
				t.Errorf("expired waiver suppresses: %+v", f)
			}
		case findings.ExpiredWaiverRule:
			if f.Suppressed || f.Resource.UID != "waiver://SSE-001/oss://legacy" || !strings.Contains(f.Message, "expired on 2024-05-31") || f.Observed["matched_findings"] != 1 {
				t.Errorf("expired waiver finding %+v", f)
			}
		default:
			t.Errorf("unexpected %+v", f)
		}
	}
	if n := findings.Failing(fs, findings.SeverityHigh); n != 1 {
		t.Errorf("--fail-on high: %d failing, want 1 (SSE-001; SSE-004 is waived)", n)
	}
	sum := findings.Summarize(fs)
	if sum.Suppressed != 1 || sum.Open != 2 || sum.ExpiredWaivers != 1 {
		t.Errorf("summary %+v", sum)
	}

	_, err = findings.ParseWaivers([]byte("waivers:\n  - rule: SSE-004\n    resource: '*'\n    owner: me\n    expires: 31/12/2024\n"), "w.yaml")
	if err == nil || !strings.Contains(err.Error(), "w.yaml:2: waiver 1: reason is required") || !strings.Contains(err.Error(), "want a date YYYY-MM-DD") {
		t.Errorf("invalid waiver: %v", err)
	}
}

func TestSeverityOverride(t *testing.T) {
	cfg, err := ParseConfig([]byte("profile:\n  severity: {SSE-001: critical, SSE-900: low}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.SelectProfile("")
	e := load(t, Options{Profile: &p})
	fs := eval(t, e, mem("s", bucket("b", nil)), nil, nil)
	if len(fs) != 1 || fs[0].Severity != findings.SeverityCritical {
		t.Fatalf("override not applied: %+v", fs)
	}
	if r, _ := e.Rule("SSE-001"); r.Severity != findings.SeverityCritical {
		t.Errorf("Rules() severity %v", r.Severity)
	}
	bad := Profile{Name: "x", AllowedMethods: []string{"kms-cmk"}, AllowedAlgorithms: []string{"AES256"}, SeverityOverrides: map[string]findings.Severity{"SSE-999": findings.SeverityLow}}
	if _, err := Load(context.Background(), Options{Profile: &bad}); err == nil || !strings.Contains(err.Error(), `unknown rule "SSE-999"`) {
		t.Errorf("unknown rule override: %v", err)
	}
}

// TestDefaultProfileMatchesRego keeps policy.DefaultProfile and
// data.sseaudit.lib.default_profile in step.
func TestDefaultProfileMatchesRego(t *testing.T) {
	e := load(t, Options{})
	rs, err := rego.New(rego.Compiler(e.compiler), rego.Query("data.sseaudit.lib.default_profile")).Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatal(rs, err)
	}
	got, _ := json.Marshal(rs[0].Expressions[0].Value)
	p := DefaultProfile()
	want, _ := json.Marshal(map[string]any{
		"name": p.Name, "allowed_methods": p.AllowedMethods, "require_customer_cmk": p.RequireCustomerCMK,
		"allowed_cmk_ids": p.AllowedCMKIDs, "allowed_algorithms": p.AllowedAlgorithms, "max_rotation_days": p.MaxRotationDays,
	})
	if string(got) != string(want) {
		t.Errorf("rego default_profile %s, Go DefaultProfile %s", got, want)
	}
}

func TestDocumentRoundTrip(t *testing.T) {
	e := load(t, Options{})
	m := mem("s2", bucket("b0", nil), bucket("b1", ruleCMK, obj("b1", "p", snapshot.MethodNone, "")))
	fs := eval(t, e, m, nil, nil)
	sum, _ := m.ReadSummary()
	doc := e.Document(ScanInfo(&sum, "s.json", nil), fs)
	var buf strings.Builder
	if err := findings.Encode(&buf, doc); err != nil {
		t.Fatal(err)
	}
	back, err := findings.Decode(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if back.PolicyDigest != e.Digest() || len(back.Findings) != 2 || len(back.Rules) != 25 || back.Summary.Open != 2 || back.Scan.ScanID != "s2" {
		t.Fatalf("round trip: %+v", back)
	}
	if back.Findings[0].ID != fs[0].ID || back.Findings[1].Rule != "SSE-004" || back.Findings[1].Observed["size"] != json.Number("10") {
		t.Errorf("finding round trip %+v", back.Findings)
	}
}

// TestWorkersAndPreviousDeterministic evaluates a synthetic estate (with a
// previous snapshot) with 1 and 4 workers: same findings, in the same order.
func TestWorkersAndPreviousDeterministic(t *testing.T) {
	dir := t.TempDir()
	prev := writeSynthetic(t, dir, "prev.json", synth.Options{Buckets: 30, Objects: 120, ScanID: "p"})
	cur := writeSynthetic(t, dir, "cur.json", synth.Options{Buckets: 30, Objects: 120, ScanID: "c", ReencryptDefault: true})
	var runs [][]string
	for _, w := range []int{1, 4} {
		e := load(t, Options{Workers: w})
		fs, err := e.EvaluateSnapshot(context.Background(), cur, prev, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, ids(fs))
		if n := len(ofRule(fs, "SSE-007")); n == 0 {
			t.Errorf("workers %d: no SSE-007 although bucket 0 was re-encrypted in place", w)
		}
	}
	if !reflect.DeepEqual(runs[0], runs[1]) {
		t.Errorf("1 worker: %d findings, 4 workers: %d", len(runs[0]), len(runs[1]))
	}
}

func TestCancel(t *testing.T) {
	p := writeSynthetic(t, t.TempDir(), "s.json", synth.Options{Buckets: 50, Objects: 200})
	e := load(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.EvaluateSnapshot(ctx, p, p, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled evaluation: %v", err)
	}
	if _, err := e.EvaluateSnapshot(context.Background(), p, filepath.Join(t.TempDir(), "missing.json"), nil); err == nil {
		t.Error("missing previous snapshot accepted")
	}
}

// TestHistoryDB runs two scans through a real history database: finding
// ages come from it, and so does when the bucket's default was first seen.
func TestHistoryDB(t *testing.T) {
	dir := t.TempDir()
	db, err := history.Open(filepath.Join(dir, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	e := load(t, Options{})
	plain := obj("b1", "plain", snapshot.MethodNone, "")

	s1 := mem("scan-1", bucket("b1", nil, plain))
	s1.Provenance.StartedAt, s1.FinishedAt, s1.Buckets[0].ReadAt = tPrevScan.Add(-time.Hour), tPrevScan, tPrevScan
	p1 := writeSnapshot(t, dir, "s1.json", s1)
	rec1, err := db.RecordScan(ctx, p1, e.Digest())
	if err != nil {
		t.Fatal(err)
	}
	fs1, err := e.EvaluateSnapshot(ctx, p1, "", db)
	if err != nil {
		t.Fatal(err)
	}
	var ids1 []string
	for _, f := range fs1 {
		ids1 = append(ids1, f.ID)
	}
	if err := db.RecordFindings("scan-1", tPrevScan, ids1); err != nil {
		t.Fatal(err)
	}

	// Scan 2: the default was set; the old object is still unencrypted.
	p2 := writeSnapshot(t, dir, "s2.json", mem("scan-2", bucket("b1", ruleCMK, plain)))
	if _, err := db.RecordScan(ctx, p2, e.Digest()); err != nil {
		t.Fatal(err)
	}
	for _, prev := range []string{rec1.SnapshotPath, ""} {
		fs, err := e.EvaluateSnapshot(ctx, p2, prev, db)
		if err != nil {
			t.Fatal(err)
		}
		got := ofRule(fs, "SSE-004")
		if len(got) != 1 {
			t.Fatalf("previous %q: SSE-004 %+v", prev, fs)
		}
		f := got[0]
		if !f.FirstSeen.Equal(tPrevScan) || !f.LastSeen.Equal(tScan) {
			t.Errorf("first/last seen %v %v, want %v %v", f.FirstSeen, f.LastSeen, tPrevScan, tScan)
		}
		wantBasis := "previous_snapshot"
		if prev == "" {
			wantBasis = "history" // the default was first seen by scan 2, after the object was written
		}
		if f.Observed["basis"] != wantBasis || f.Observed["written_before_default"] != true || !strings.Contains(f.Message, "written before the default was set") {
			t.Errorf("previous %q: %v / %s", prev, f.Observed, f.Message)
		}
	}
}
