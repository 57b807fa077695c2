package policy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/sseaudit/sseaudit/snapshot"
)

func fromJSON(t *testing.T, v any) ast.Value {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	val, err := ast.ValueFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return val
}

// TestObjectTermMatchesJSON keeps the hand-written object conversion equal
// to what encoding/json writes in a snapshot (what stock opa would read).
func TestObjectTermMatchesJSON(t *testing.T) {
	objs := []snapshot.Object{
		{},
		obj("b", "k", snapshot.MethodNone, ""),
		{
			Bucket: "b", Key: "a/b c?d#e", Size: 1 << 40, ETag: `"x-3"`, LastModified: time.Date(2024, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 8*3600)),
			VersionID: "v1", Noncurrent: true, StorageClass: "IA", SSE: "KMS", KMSKeyID: cmk, Method: snapshot.MethodKMSCMK,
			Error: &snapshot.Error{Scope: "object", Resource: "b/k", StatusCode: 503, Code: "SlowDown", Message: "m", Attempts: 3}, DataEncryption: "SM4", Attempts: 3,
			ReadProbed: true, ReadError: &snapshot.Error{Scope: "object", Resource: "b/k", StatusCode: 409, Code: "KeyDisabled", Message: "m"},
		},
		{Error: &snapshot.Error{Scope: "object", Message: "m"}},
	}
	for i := range objs {
		got := objectTerm(&objs[i]).Value
		want := fromJSON(t, objs[i])
		if got.Compare(want) != 0 {
			t.Errorf("object %d:\n got %v\nwant %v", i, got, want)
		}
	}
	// Every field of Object is covered: a new field must be added to objectTerm.
	b, _ := json.Marshal(objs[2])
	var m map[string]any
	json.Unmarshal(b, &m)
	if n := len(m); n != 16 {
		t.Errorf("snapshot.Object has %d JSON fields, objectTerm knows 16: update it", n)
	}
}

func TestBucketInputMatchesJSON(t *testing.T) {
	e := load(t, Options{})
	m := mem("s", bucket("b1", ruleCMK, goodObjects("b1")...))
	sum, _ := m.ReadSummary()
	env, err := e.newScanEnv(&sum, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := chunkReader{e: e, env: env, sum: &sum}
	b, err := r.bucket(&sum.Buckets[0])
	if err != nil {
		t.Fatal(err)
	}
	objs, err := chunkObjects(&chunkJob{b: b, objs: m.Buckets[0].Objects})
	if err != nil {
		t.Fatal(err)
	}
	in, err := env.chunkInput(b, objs, false)
	if err != nil {
		t.Fatal(err)
	}
	obj := in.(ast.Object)
	got := obj.Get(ast.StringTerm("bucket")).Value
	want := fromJSON(t, m.Buckets[0])
	if got.Compare(want) != 0 {
		t.Errorf("bucket:\n got %v\nwant %v", got, want)
	}
	keys := obj.Get(ast.StringTerm("keys")).Value.(ast.Object)
	if k := keys.Get(ast.StringTerm(cmk)); k == nil || k.Value.Compare(fromJSON(t, allKeys()[0])) != 0 {
		t.Errorf("keys[%s] = %v", cmk, k)
	}
	if k := keys.Get(ast.StringTerm(allKeys()[0].Arn)); k == nil {
		t.Error("keys are not indexed by ARN")
	}
	for _, f := range []string{"previous", "previous_scan", "rule_first_seen"} {
		if v := obj.Get(ast.StringTerm(f)); v == nil || v.Value.Compare(ast.Null{}) != 0 {
			t.Errorf("%s = %v, want null", f, v)
		}
	}
}

// TestKeysPreferBucketRegion: a key recorded missing in the bucket's region
// is missing for that bucket even if another region has it.
func TestKeysPreferBucketRegion(t *testing.T) {
	ks := []snapshot.Key{
		{KeyID: "k", Region: "cn-shanghai", State: "Enabled"},
		{KeyID: "k", Region: "cn-hangzhou", Missing: true},
	}
	hz, err := keysObject(ks, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if v := hz.Value.(ast.Object).Get(ast.StringTerm("k")).Value.(ast.Object).Get(ast.StringTerm("missing")); v.Value.Compare(ast.Boolean(true)) != 0 {
		t.Errorf("cn-hangzhou sees %v", v)
	}
	all, _ := keysObject(ks, "")
	if v := all.Value.(ast.Object).Get(ast.StringTerm("k")).Value.(ast.Object).Get(ast.StringTerm("region")); v.Value.Compare(ast.String("cn-shanghai")) != 0 {
		t.Errorf("no region preference: %v", v)
	}
}

// TestIndexMatchesPolicyFallback evaluates the same estates with and
// without input.index: the findings must be the same.
func TestIndexMatchesPolicyFallback(t *testing.T) {
	failed := obj("b1", "failed", snapshot.MethodNone, "")
	failed.Error = &snapshot.Error{Scope: "object", Resource: "b1/failed", Message: "boom"}
	plain := obj("b1", "plain", snapshot.MethodNone, "")
	m := mem("s", bucket("b0", nil, obj("b0", "x", snapshot.MethodNone, "")),
		bucket("b1", ruleCMK, plain, failed, obj("b1", "dis", snapshot.MethodKMSCMK, keyDis), obj("b1", "c2", snapshot.MethodKMSCMK, cmk2), obj("b1", "undesc", snapshot.MethodKMSCMK, "never-described")))
	restricted := DefaultProfile()
	restricted.AllowedCMKIDs = []string{cmk}
	e := load(t, Options{Profile: &restricted})
	// A previous snapshot with the default changed and objects touched.
	reenc := plain
	reenc.SSE, reenc.KMSKeyID, reenc.Method = "KMS", cmk, snapshot.MethodKMSCMK
	touched := obj("b1", "c2", snapshot.MethodKMSCMK, cmk2)
	touched.ETag = `"other"`
	prev := mem("p", bucket("b1", nil, reenc, failed, touched))
	// The engine's input.index against the policies' own lookups, and the
	// bucket rules' input.stats against every object.
	run := func(noIndex, whole bool) []string {
		e.testNoIndex, e.testWholeBuckets = noIndex, whole
		defer func() { e.testNoIndex, e.testWholeBuckets = false, false }()
		var out []string
		for _, f := range eval(t, e, m, prev, nil) {
			if r, _ := e.Rule(f.Rule); r.Entrypoint != BucketEntrypoint {
				continue
			}
			b, _ := json.Marshal(f)
			out = append(out, string(b))
		}
		sort.Strings(out)
		return out
	}
	with, without, whole := run(false, false), run(true, false), run(false, true)
	if len(with) != 10 {
		t.Errorf("want 10 findings (SSE-001, 2x SSE-004, SSE-005, 3x SSE-006, 2x SSE-007, SSE-008), got %d:\n%s", len(with), strings.Join(with, "\n"))
	}
	if strings.Join(with, "\n") != strings.Join(without, "\n") {
		t.Errorf("index changes findings:\nwith    %v\nwithout %v", with, without)
	}
	if strings.Join(with, "\n") != strings.Join(whole, "\n") {
		t.Errorf("input.stats changes findings:\nwith    %v\nobjects %v", with, whole)
	}
}

// TestScanInputMatchesJSON: input.scan, whose buckets are converted one at
// a time, is the whole document's JSON (buckets without their objects) for
// user scan rules, and the same without the buckets for the built-in ones.
func TestScanInputMatchesJSON(t *testing.T) {
	e := load(t, Options{})
	m := mem("s", bucket("b1", ruleCMK, goodObjects("b1")...), bucket("b2", nil), bucket("b3", ruleCMK))
	sum, _ := m.ReadSummary()
	env, err := e.newScanEnv(&sum, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := scanDoc{Schema: sum.Schema, Provenance: sum.Provenance, Coverage: sum.Coverage, FinishedAt: sum.FinishedAt, Complete: sum.Complete, Keys: sum.Keys}
	if d.Keys == nil {
		d.Keys = []snapshot.Key{}
	}
	if d.Coverage.Errors == nil {
		d.Coverage.Errors = []snapshot.Error{}
	}
	d.DefaultKMSKeyIDs, d.KnownErrorBuckets = []string{ruleCMK.KMSMasterKeyID}, []string{}
	withBuckets := struct {
		scanDoc
		Buckets []snapshot.Bucket `json:"buckets"`
	}{scanDoc: d}
	for _, b := range sum.Buckets {
		b.Objects = nil
		withBuckets.Buckets = append(withBuckets.Buckets, b)
	}
	for _, c := range []struct {
		user bool
		want any
	}{{false, d}, {true, withBuckets}} {
		in, err := env.scanInput(c.user)
		if err != nil {
			t.Fatal(err)
		}
		got := in.(ast.Object).Get(ast.StringTerm("scan")).Value
		if want := fromJSON(t, c.want); got.Compare(want) != 0 {
			t.Errorf("user %v: input.scan:\n got %v\nwant %v", c.user, got, want)
		}
		bs := got.(ast.Object).Get(ast.StringTerm("buckets"))
		switch {
		case c.user && (bs == nil || bs.Value.(*ast.Array).Len() != 3):
			t.Errorf("user scan rules: input.scan.buckets %v, want 3 buckets", bs)
		case !c.user && bs != nil:
			t.Errorf("built-in scan rules: input.scan.buckets %v, want none (it grows with the buckets)", bs)
		}
	}
}

// TestBucketFacts: what the built-in scan rules read instead of
// input.scan.buckets.
func TestBucketFacts(t *testing.T) {
	kms := func(id string) *snapshot.Rule {
		return &snapshot.Rule{Method: snapshot.MethodKMSCMK, KMSMasterKeyID: id}
	}
	for _, c := range []struct {
		name          string
		buckets       []snapshot.Bucket
		errs          []snapshot.Error
		keys, buckErr []string
	}{
		{"none", nil, nil, []string{}, []string{}},
		{"distinct sorted key refs", []snapshot.Bucket{{Name: "a", Encryption: kms("k2")}, {Name: "b", Encryption: kms("k1")}, {Name: "c", Encryption: kms("k2")}, {Name: "d"}, {Name: "e", Encryption: &snapshot.Rule{Method: snapshot.MethodOSSManaged}}}, nil, []string{"k1", "k2"}, []string{}},
		{"bucket errors of known buckets only", []snapshot.Bucket{{Name: "a"}, {Name: "b"}}, []snapshot.Error{
			{Scope: "bucket", Resource: "b"}, {Scope: "bucket", Resource: "gone"}, {Scope: "scan", Resource: "a"}, {Scope: "bucket", Resource: "b"},
		}, []string{}, []string{"b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sum := &snapshot.Summary{}
			sum.Buckets, sum.Coverage.Errors = c.buckets, c.errs
			keys, known := bucketFacts(sum)
			if !slices.Equal(keys, c.keys) || !slices.Equal(known, c.buckErr) {
				t.Errorf("bucketFacts = %q, %q; want %q, %q", keys, known, c.keys, c.buckErr)
			}
		})
	}
}

// TestUserScanRuleSeesBuckets: a user package's scan rules still get
// every bucket in input.scan.buckets (the built-in ones no longer do), with
// the bounded lists beside them.
func TestUserScanRuleSeesBuckets(t *testing.T) {
	dir := t.TempDir()
	src := `package acme.estate

import data.sseaudit.lib

# METADATA
# title: Estate census
# description: Names every bucket.
# custom:
#   id: ACME-100
#   severity: info
#   resource_type: scan
#   remediation:
#     text: Nothing to do.
#     cli: "true"
#   controls:
#     - {framework: ACME Storage Standard, version: "2024", id: "9", title: Census}
scan_deny contains {"rule": rego.metadata.rule().custom.id, "resource": lib.scan_resource, "message": msg} if {
	names := [b.name | some b in input.scan.buckets]
	msg := sprintf("%d buckets %s, default keys %s", [count(names), concat(",", names), concat(",", input.scan.default_kms_key_ids)])
}
`
	if err := os.WriteFile(filepath.Join(dir, "estate.rego"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	e := load(t, Options{ExtraDirs: []string{dir}})
	var got []string
	for _, f := range eval(t, e, mem("s", bucket("b1", ruleCMK), bucket("b2", nil), bucket("b3", ruleAES)), nil, nil) {
		if f.Rule == "ACME-100" {
			got = append(got, f.Message)
		}
	}
	want := "3 buckets b1,b2,b3, default keys " + ruleCMK.KMSMasterKeyID
	if len(got) != 1 || got[0] != want {
		t.Errorf("ACME-100 findings %q, want one %q", got, want)
	}
}
