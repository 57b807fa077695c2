package reports

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

var (
	ruleUndecryptable = ruleMeta("SSE-005", findings.SeverityCritical, findings.CategoryKey, findings.ResourceObject)
	ruleUnencrypted   = ruleMeta("SSE-004", findings.SeverityHigh, findings.CategoryEncryption, findings.ResourceObject)
	ruleNoDefault     = ruleMeta("SSE-001", findings.SeverityHigh, findings.CategoryEncryption, findings.ResourceBucket)
	ruleLow           = ruleMeta("LOW-1", findings.SeverityLow, findings.CategoryEncryption, findings.ResourceObject)
	ruleInfo          = ruleMeta("INFO-1", findings.SeverityInfo, findings.CategoryEncryption, findings.ResourceObject)
	ruleKeyUnknown    = ruleMeta("SSE-010", findings.SeverityMedium, findings.CategoryCoverage, findings.ResourceKey)
	allTestRules      = []*findings.RuleMeta{ruleUndecryptable, ruleUnencrypted, ruleNoDefault, ruleLow, ruleInfo, ruleKeyUnknown}
)

// cmkRule is a bucket default with CMK id.
func cmkRule(id string) *snapshot.Rule {
	return &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: id, Method: snapshot.MethodKMSCMK}
}

func cmkObject(key, keyID string, size int64) snapshot.Object {
	return snapshot.Object{Key: key, Size: size, SSE: "KMS", KMSKeyID: keyID, Method: snapshot.MethodKMSCMK}
}

// TestComplianceDefinition checks each clause of Compliance's definition on
// a one-bucket snapshot: which objects and whether the bucket count as
// compliant, and their bytes.
func TestComplianceDefinition(t *testing.T) {
	enabled := snapshot.Key{KeyID: "k-ok", Region: "r1", State: "Enabled"}
	disabled := snapshot.Key{KeyID: "k-dis", Region: "r1", State: "Disabled"}
	errored := snapshot.Key{KeyID: "k-err", Region: "r1", Error: &snapshot.Error{Scope: "key", Resource: "k-err", Message: "denied"}}
	missing := snapshot.Key{KeyID: "k-gone", Region: "r1", Missing: true}
	waived := func(f findings.Finding) findings.Finding {
		f.Suppressed = true
		f.Waiver = &findings.AppliedWaiver{Rule: f.Rule, Resource: f.Resource.UID, Reason: "accepted", State: findings.WaiverActive}
		return f
	}
	cases := []struct {
		name          string
		bucket        fixBucket
		keys          []snapshot.Key
		fs            []findings.Finding
		objs, bytes   int64 // compliant
		bucketOK      bool
		objects       int64
		wantKeyStates map[string]string
	}{
		{name: "encrypted under an Enabled CMK, nothing open",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-ok")}, Objects: []snapshot.Object{cmkObject("o", "k-ok", 10)}},
			keys:   []snapshot.Key{enabled}, objs: 1, bytes: 10, bucketOK: true, objects: 1,
			wantKeyStates: map[string]string{"k-ok": "Enabled"}},
		{name: "service-managed keys, no KMS key",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}},
				Objects: []snapshot.Object{{Key: "o", Size: 5, SSE: "AES256", Method: snapshot.MethodOSSManaged}}},
			objs: 1, bytes: 5, bucketOK: true, objects: 1},
		{name: "the only object cannot be decrypted (critical, key Disabled)",
			bucket:  fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-ok")}, Objects: []snapshot.Object{cmkObject("o", "k-dis", 10)}},
			keys:    []snapshot.Key{enabled, disabled},
			fs:      []findings.Finding{objFinding(ruleUndecryptable, "oss", "b", "o", map[string]any{"kms_key_id": "k-dis"})},
			objects: 1, wantKeyStates: map[string]string{"k-ok": "Enabled", "k-dis": "Disabled"}},
		{name: "key Disabled without any finding",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-dis")}, Objects: []snapshot.Object{cmkObject("o", "k-dis", 10)}},
			keys:   []snapshot.Key{disabled}, objects: 1},
		{name: "key missing",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-ok")}, Objects: []snapshot.Object{cmkObject("o", "k-gone", 10)}},
			keys:   []snapshot.Key{enabled, missing}, objects: 1, wantKeyStates: map[string]string{"k-ok": "Enabled", "k-gone": KeyStateMissing}},
		{name: "key not described (no KMS access)",
			bucket:  fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-none")}, Objects: []snapshot.Object{cmkObject("o", "k-none", 10)}},
			objects: 1, wantKeyStates: map[string]string{"k-none": KeyStateUnknown}},
		{name: "key described with an error, and an open finding on the key",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-err")}, Objects: []snapshot.Object{cmkObject("o", "k-err", 10)}},
			keys:   []snapshot.Key{errored}, fs: []findings.Finding{keyFinding(ruleKeyUnknown, "k-err")},
			objects: 1, wantKeyStates: map[string]string{"k-err": KeyStateUnknown}},
		{name: "an open finding on an Enabled key makes its objects non-compliant",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}},
				Objects: []snapshot.Object{cmkObject("o", "k-ok", 10), {Key: "p", Size: 3, SSE: "AES256", Method: snapshot.MethodOSSManaged}}},
			keys: []snapshot.Key{enabled}, fs: []findings.Finding{keyFinding(ruleKeyUnknown, "k-ok")},
			objs: 1, bytes: 3, objects: 2},
		{name: "unencrypted object, its finding waived: still not compliant",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged}},
				Objects: []snapshot.Object{{Key: "o", Size: 4, Method: snapshot.MethodNone}}},
			fs:      []findings.Finding{waived(objFinding(ruleUnencrypted, "oss", "b", "o", nil))},
			objects: 1},
		{name: "open low finding: not compliant",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-ok")}, Objects: []snapshot.Object{cmkObject("o", "k-ok", 10)}},
			keys:   []snapshot.Key{enabled}, fs: []findings.Finding{objFinding(ruleLow, "oss", "b", "o", nil)}, objects: 1},
		{name: "open info finding and a waived high one: compliant",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-ok")}, Objects: []snapshot.Object{cmkObject("o", "k-ok", 10)}},
			keys:   []snapshot.Key{enabled},
			fs:     []findings.Finding{objFinding(ruleInfo, "oss", "b", "o", nil), waived(objFinding(ruleUndecryptable, "oss", "b", "o", nil))},
			objs:   1, bytes: 10, bucketOK: true, objects: 1},
		{name: "HEAD failed and an object listed but never inspected",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-ok")}, Listed: 3,
				Objects: []snapshot.Object{cmkObject("o", "k-ok", 10), {Key: "x", Size: 9, Method: snapshot.MethodUnknown, Error: &snapshot.Error{Scope: "object", Resource: "b/x", Message: "403"}}}},
			keys: []snapshot.Key{enabled}, objs: 1, bytes: 10, objects: 3},
		{name: "no default rule: objects compliant, bucket not",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b"}, Objects: []snapshot.Object{cmkObject("o", "k-ok", 10)}},
			keys:   []snapshot.Key{enabled}, fs: []findings.Finding{bucketFinding(ruleNoDefault, "oss", "b")}, objs: 1, bytes: 10, objects: 1},
		{name: "default rule unreadable",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", EncryptionError: &snapshot.Error{Scope: "rule", Resource: "b", Message: "denied"}},
				Objects: []snapshot.Object{cmkObject("o", "k-ok", 10)}},
			keys: []snapshot.Key{enabled}, objs: 1, bytes: 10, objects: 1},
		{name: "an open finding on a noncurrent version keeps the bucket non-compliant",
			bucket: fixBucket{Bucket: snapshot.Bucket{Name: "b", Encryption: cmkRule("k-ok"), Versioning: "Enabled", VersionsInspected: true},
				Objects: []snapshot.Object{func() snapshot.Object { o := cmkObject("o", "k-ok", 10); o.VersionID = "2"; return o }(),
					{Key: "o", VersionID: "1", Noncurrent: true, Size: 8, Method: snapshot.MethodNone}}},
			keys: []snapshot.Key{enabled},
			fs: []findings.Finding{func() findings.Finding {
				f := findings.NewFinding(ruleUnencrypted, findings.Resource{Type: findings.ResourceObject, Provider: "oss", Bucket: "b", Key: "o", VersionID: "1"}, "noncurrent")
				return f
			}()},
			objs: 1, bytes: 10, objects: 1},
	}
	for _, c := range cases {
		for _, aggregated := range []bool{false, true} {
			name := c.name
			if aggregated {
				name += " (aggregated)"
			}
			t.Run(name, func(t *testing.T) {
				path := writeSnap(t, DialectOSS, []fixBucket{c.bucket}, c.keys, nil, true)
				in := ModelInput{SnapshotPath: path, Findings: docOf(allTestRules, c.fs...), ToolVersion: "v1"}
				if aggregated {
					// As a run reports them: one finding per rule and
					// bucket, the objects counted for compliance aside.
					fs, flagged := aggregateFindings(t, c.fs, c.bucket.Objects)
					in.Findings, in.Flagged = docOf(allTestRules, fs...), flagged
				}
				checkCompliance(t, c.bucket, build(t, in), c.objs, c.bytes, c.objects, c.bucketOK, c.wantKeyStates)
			})
		}
	}
}

// checkCompliance checks a one-bucket model's compliance counts: objs and
// cbytes compliant of objects, the bucket compliant or not, and its keys'
// states when wantKeyStates is set.
func checkCompliance(t *testing.T, bucket fixBucket, m *Model, objs, cbytes, objects int64, bucketOK bool, wantKeyStates map[string]string) {
	t.Helper()
	b := m.Buckets[0]
	bucketsOK := 0
	if bucketOK {
		bucketsOK = 1
	}
	var bytes int64
	for _, o := range bucket.Objects {
		if !o.Noncurrent {
			bytes += o.Size
		}
	}
	want := Compliance{Threshold: "low", Buckets: 1, BucketsCompliant: bucketsOK, Objects: objects,
		ObjectsCompliant: objs, Bytes: bytes, BytesCompliant: cbytes}
	if m.Compliance == nil || *m.Compliance != want {
		t.Errorf("compliance = %+v, want %+v", m.Compliance, want)
	}
	if b.Compliant != bucketOK || b.ObjectsCompliant != objs || b.BytesCompliant != cbytes {
		t.Errorf("bucket %+v", b)
	}
	if wantKeyStates != nil {
		got := map[string]string{}
		for _, k := range b.Keys {
			got[k.KeyID] = k.State
		}
		if !reflect.DeepEqual(got, wantKeyStates) {
			t.Errorf("key states %v, want %v", got, wantKeyStates)
		}
	}
}

// aggregateFindings turns the per-object findings of fs into aggregated
// ones as a run does (findings.Aggregator, with the records of objs), and
// returns them with the rest and the aggregator's compliance counts.
func aggregateFindings(t *testing.T, fs []findings.Finding, objs []snapshot.Object) ([]findings.Finding, map[findings.FlaggedKey]findings.FlaggedCount) {
	t.Helper()
	a := findings.NewAggregator(io.Discard, findings.AggregatorOptions{})
	var out []findings.Finding
	for _, f := range fs {
		if f.Resource.Type != findings.ResourceObject {
			out = append(out, f)
			continue
		}
		of := findings.ObjectFinding{Finding: f}
		for _, o := range objs {
			if o.Key == f.Resource.Key && o.VersionID == f.Resource.VersionID {
				of.Object = findings.ObjectInfo{Found: true, Size: o.Size, Method: o.Method, KMSKeyID: o.KMSKeyID, Noncurrent: o.Noncurrent, Failed: o.Error != nil}
			}
		}
		if err := a.AddObjects([]findings.ObjectFinding{of}); err != nil {
			t.Fatal(err)
		}
	}
	aggs, err := a.Close()
	if err != nil {
		t.Fatal(err)
	}
	return append(out, aggs...), a.Flagged()
}

// TestComplianceNeedsRules: with no rule evaluated nothing was judged, so
// there is no compliance headline (rather than 100%).
func TestComplianceNeedsRules(t *testing.T) {
	path := writeSnap(t, DialectOSS, []fixBucket{{Bucket: snapshot.Bucket{Name: "b"}, Objects: []snapshot.Object{cmkObject("o", "k", 1)}}}, nil, nil, true)
	m := build(t, ModelInput{SnapshotPath: path, Findings: docOf(nil), ToolVersion: "v1"})
	if m.Compliance != nil {
		t.Fatalf("compliance %+v without any rule", m.Compliance)
	}
	_, byID := htmlDoc(t, m)
	if byID["compliance-none"] == nil || byID["compliance"] != nil {
		t.Error("the HTML does not say compliance was not measured")
	}
}

// TestHTMLBucketColourAndKeys: a bucket whose only object cannot be
// decrypted (critical) shows no green: its status badge and bar take the
// critical colour, its default badge and key show the key Disabled. A
// compliant bucket beside it is green. The compliance headline counts both.
func TestHTMLBucketColourAndKeys(t *testing.T) {
	path := writeSnap(t, DialectOSS, []fixBucket{
		{Bucket: snapshot.Bucket{Name: "fine", Encryption: cmkRule("k-ok")}, Objects: []snapshot.Object{cmkObject("a", "k-ok", 3000)}},
		{Bucket: snapshot.Bucket{Name: "locked", Encryption: cmkRule("k-dis")}, Objects: []snapshot.Object{cmkObject("only", "k-dis", 1000)}},
	}, []snapshot.Key{{KeyID: "k-ok", Region: "r1", State: "Enabled"}, {KeyID: "k-dis", Region: "r1", State: "Disabled"}}, nil, true)
	doc := docOf(allTestRules, objFinding(ruleUndecryptable, "oss", "locked", "only", map[string]any{"kms_key_id": "k-dis", "key_state": "Disabled"}))
	m := build(t, ModelInput{SnapshotPath: path, Findings: doc, ToolVersion: "v1",
		Outcome: &findings.Outcome{Verdict: findings.VerdictFail, ExitCode: 1, FailOn: "high", Reasons: []string{"1 finding at or above high"}}})
	_, byID := htmlDoc(t, m)

	locked := htmlBucketNode(byID, "locked")
	if locked == nil {
		t.Fatal("no drill-down for bucket locked")
	}
	summary := locked.FirstChild
	for summary != nil && summary.Data != "summary" {
		summary = summary.NextSibling
	}
	if summary == nil {
		t.Fatal("bucket has no summary")
	}
	for _, p := range htmlFind(summary, "pill") {
		if c := htmlClasses(p); strings.Contains(c, " ok") {
			t.Errorf("bucket locked has a green badge %q: %q", c, htmlNodeText(p))
		}
	}
	status := htmlFind(summary, "bstatus")
	if len(status) != 1 || !htmlHasClass(status[0], "sev-critical") {
		t.Errorf("status badge %v is not critical", status)
	}
	keys := htmlFind(summary, "bkey")
	if len(keys) != 1 || htmlNodeText(keys[0]) != "key k-dis: Disabled" || !htmlHasClass(keys[0], "bad") {
		t.Errorf("key badge: %v", keys)
	}
	if def := htmlFind(summary, "bdefault"); len(def) != 1 || !strings.Contains(htmlNodeText(def[0]), "key Disabled") {
		t.Errorf("default badge does not say the key is Disabled")
	}
	var meter []string
	htmlWalk(htmlFind(summary, "meter")[0], func(n *html.Node) {
		if n.Data == "rect" && !htmlHasClass(n, "track") {
			meter = append(meter, htmlClasses(n))
		}
	})
	if !reflect.DeepEqual(meter, []string{"sev-critical"}) {
		t.Errorf("meter of bucket locked = %v, want one critical bar", meter)
	}
	if txt := htmlNodeText(summary); !strings.Contains(txt, "100.0% encrypted · 0.0% compliant") {
		t.Errorf("bucket summary %q", txt)
	}
	if txt := htmlNodeText(locked); !strings.Contains(txt, "k-dis") || !strings.Contains(txt, "Disabled") {
		t.Error("drill-down does not list the key and its state")
	}

	fine := htmlBucketNode(byID, "fine")
	if st := htmlFind(fine, "bstatus"); len(st) != 1 || !htmlHasClass(st[0], "ok") || htmlNodeText(st[0]) != "compliant" {
		t.Errorf("compliant bucket's badge: %v", htmlNodeText(fine))
	}

	// The bucket chart colours the same way.
	bars := map[string]string{}
	htmlWalk(byID["chart-buckets"], func(n *html.Node) {
		if n.Data == "rect" && htmlHasClass(n, "bar") {
			tgt, _ := htmlAttr(n, "data-target")
			bars[tgt] = htmlClasses(n)
		}
	})
	if want := map[string]string{"bucket-0": "bar enc", "bucket-1": "bar sev-critical"}; !reflect.DeepEqual(bars, want) {
		t.Errorf("bucket chart bars %v, want %v", bars, want)
	}

	// The headline: 1 of 2 buckets, 1 of 2 objects, 3000 of 4000 bytes.
	head := htmlNodeText(byID["compliance"])
	for _, want := range []string{"50.0%", "buckets compliant: 1 of 2", "objects compliant: 1 of 2", "75.0%", "bytes compliant: 2.9 KiB of 3.9 KiB"} {
		if !strings.Contains(head, want) {
			t.Errorf("compliance headline %q lacks %q", head, want)
		}
	}
}
