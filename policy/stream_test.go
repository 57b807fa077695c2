package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/snapshot"
)

// collectSink keeps what EvaluateStream gives it, batch by batch.
type collectSink struct {
	batches [][]findings.ObjectFinding
	fail    error
}

func (s *collectSink) AddObjects(b []findings.ObjectFinding) error {
	if s.fail != nil {
		return s.fail
	}
	s.batches = append(s.batches, slices.Clone(b))
	return nil
}

func (s *collectSink) all() []findings.ObjectFinding {
	var out []findings.ObjectFinding
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

// streamEstate has per-object findings of several rules in several
// buckets, waived ones, expired waivers and objects recorded out of key
// order.
func streamEstate(t *testing.T) (*MemorySnapshot, []findings.Waiver) {
	t.Helper()
	var objs []snapshot.Object
	for i := 9; i >= 0; i-- {
		objs = append(objs, obj("plain", fmt.Sprintf("k%d", i), snapshot.MethodNone, ""))
	}
	objs = append(objs, obj("plain", "gone.bin", snapshot.MethodKMSCMK, keyGone), obj("plain", "dis.bin", snapshot.MethodKMSCMK, keyDis))
	m := mem("s", bucket("a-legacy", nil, obj("a-legacy", "old.csv", snapshot.MethodNone, "")),
		bucket("plain", ruleCMK, objs...),
		bucket("z-keys", ruleCMK, obj("z-keys", "x", snapshot.MethodKMSCMK, keyDis), obj("z-keys", "y", snapshot.MethodKMSCMK, keyDis)))
	ws, err := findings.ParseWaivers([]byte(`waivers:
  - rule: SSE-004
    resource: "oss://plain/k1"
    reason: being rewritten
    expires: 2024-12-31
  - rule: SSE-004
    resource: "oss://plain/k*"
    reason: being rewritten
    expires: 2024-12-31
  - rule: SSE-005
    resource: "oss://z-keys/*"
    reason: lapsed
    expires: 2024-05-01
`), "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m, ws
}

// TestEvaluateStreamMatchesEvaluate: the streamed per-object findings are
// exactly Evaluate's, with the same waivers and first-seen times, in the
// snapshot's order; the rest, and the waiver counts, are Evaluate's too.
func TestEvaluateStreamMatchesEvaluate(t *testing.T) {
	m, ws := streamEstate(t)
	e := load(t, Options{Waivers: ws})
	want := eval(t, e, m, nil, nil)
	first := map[string]bool{}
	h := &fakeHistory{firstSeen: map[string]time.Time{}}
	for i, f := range want {
		if f.Resource.Type == findings.ResourceObject && i%2 == 0 {
			h.firstSeen[f.ID] = tPrevScan
			first[f.ID] = true
		}
	}
	want = eval(t, e, m, nil, h)

	var sink collectSink
	st, err := e.EvaluateStream(context.Background(), m, nil, h, &sink)
	if err != nil {
		t.Fatal(err)
	}
	got := sink.all()
	var wantObj, wantOther []findings.Finding
	for _, f := range want {
		if f.Resource.Type == findings.ResourceObject {
			wantObj = append(wantObj, f)
		} else {
			wantOther = append(wantOther, f)
		}
	}
	if len(wantObj) < 12 {
		t.Fatalf("the estate gives %d per-object findings: the test checks too little", len(wantObj))
	}
	gotF := make([]findings.Finding, len(got))
	for i := range got {
		gotF[i] = got[i].Finding
		if !got[i].Object.Found || got[i].Object.Size != 10 || got[i].Object.ETag == "" {
			t.Errorf("%s: object record %+v", got[i].Finding.Resource.UID, got[i].Object)
		}
		if first[gotF[i].ID] != gotF[i].FirstSeen.Equal(tPrevScan) {
			t.Errorf("%s: first seen %v", gotF[i].ID, gotF[i].FirstSeen)
		}
	}
	sorted := slices.Clone(gotF)
	findings.Sort(sorted)
	if a, b := js(t, sorted), js(t, wantObj); a != b {
		t.Errorf("streamed per-object findings differ from Evaluate's:\n got %s\nwant %s", a, b)
	}
	if a, b := js(t, st.Findings), js(t, wantOther); a != b {
		t.Errorf("other findings differ:\n got %s\nwant %s", a, b)
	}
	if a, b := js(t, st.Waivers), js(t, findings.SummarizeWaivers(ws, want, tNow)); a != b {
		t.Errorf("waiver counts differ:\n got %s\nwant %s", a, b)
	}
	if st.Waivers[0].Suppressed != 1 || st.Waivers[1].Suppressed != 9 || st.Waivers[1].Matched != 10 || st.Waivers[2].Matched != 2 {
		t.Errorf("waivers count objects one by one: %+v", st.Waivers)
	}

	// Order: buckets as the snapshot lists them, objects as the bucket
	// records them (k9 first), then rule.
	var order []string
	for _, of := range got {
		order = append(order, of.Finding.Resource.Bucket+"/"+of.Finding.Resource.Key+" "+of.Finding.Rule)
	}
	wantOrder := []string{"a-legacy/old.csv SSE-004"}
	for i := 9; i >= 0; i-- {
		wantOrder = append(wantOrder, fmt.Sprintf("plain/k%d SSE-004", i))
	}
	wantOrder = append(wantOrder, "plain/gone.bin SSE-005", "plain/dis.bin SSE-005", "z-keys/x SSE-005", "z-keys/y SSE-005")
	if !slices.Equal(order, wantOrder) {
		t.Errorf("stream order\n got %v\nwant %v", order, wantOrder)
	}
}

// TestEvaluateStreamDeterministic: a file snapshot streams the same
// batches whatever the number of workers.
func TestEvaluateStreamDeterministic(t *testing.T) {
	m, ws := streamEstate(t)
	p := writeSnapshot(t, t.TempDir(), "s.json", m)
	var outs []string
	for _, w := range []int{1, 2, 8} {
		e := load(t, Options{Waivers: ws, Workers: w})
		var sink collectSink
		if _, err := e.EvaluateStream(context.Background(), FileSource(p), nil, nil, &sink); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, js(t, sink.all()))
	}
	if outs[0] != outs[1] || outs[0] != outs[2] {
		t.Error("the stream differs with the number of workers")
	}
}

// TestEvaluateStreamSinkError: the sink's error stops the evaluation.
func TestEvaluateStreamSinkError(t *testing.T) {
	m, _ := streamEstate(t)
	e := load(t, Options{})
	boom := errors.New("disk full")
	_, err := e.EvaluateStream(context.Background(), m, nil, nil, &collectSink{fail: boom})
	if !errors.Is(err, boom) {
		t.Errorf("want the sink's error, got %v", err)
	}
}

// TestAggregateByMetadata: custom.aggregate_by is read for object rules
// and refused, with the reason, elsewhere or malformed.
func TestAggregateByMetadata(t *testing.T) {
	e := load(t, Options{})
	for id, want := range map[string][]string{"SSE-004": nil, "SSE-005": {"kms_key_id"}, "SSE-006": {"kms_key_id"}, "SSE-013": {"reasons"}} {
		r, _ := e.Rule(id)
		if !slices.Equal(r.AggregateBy, want) {
			t.Errorf("%s aggregate_by %v, want %v", id, r.AggregateBy, want)
		}
	}
	for name, c := range map[string]struct{ typ, by, want string }{
		"bucket rule": {"bucket", "[kms_key_id]", "only object rules are aggregated"},
		"not a list":  {"object", "kms_key_id", "want a list of observed member names"},
		"not a name":  {"object", "[1]", "want the name of a member"},
		"twice":       {"object", "[a, a]", `"a" is listed twice`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := fmt.Sprintf(`package user.agg

# METADATA
# title: t
# description: d
# custom:
#   id: USR-1
#   severity: low
#   resource_type: %s
#   remediation: {text: fix, cli: fix}
#   controls: [{framework: F, version: "1", id: "1", title: T}]
#   aggregate_by: %s
deny contains {"rule": "USR-1"} if false
`, c.typ, c.by)
			if err := os.WriteFile(filepath.Join(dir, "u.rego"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(context.Background(), Options{ExtraDirs: []string{dir}})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "u.rego") {
				t.Errorf("want an error naming u.rego and %q, got %v", c.want, err)
			}
		})
	}
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestChunksChangeNothing: a bucket evaluated in chunks of any size gives
// exactly the findings, the stream order and the waiver counts of one
// evaluation of the whole bucket, from a file or from memory, with a
// previous snapshot for drift.
func TestChunksChangeNothing(t *testing.T) {
	dir := t.TempDir()
	cur := writeSynthetic(t, dir, "cur.json", synth.Options{Buckets: 5, Objects: 997, ScanID: "cur", ReencryptDefault: true})
	prev := writeSynthetic(t, dir, "prev.json", synth.Options{Buckets: 5, Objects: 997, ScanID: "prev"})
	m, ws := streamEstate(t)
	mp := writeSnapshot(t, dir, "m.json", m)
	profile := DefaultProfile()
	profile.AllowedCMKIDs = []string{synth.CMKs[0], synth.CMKs[1]}
	type run struct {
		findings, stream string
		waivers          []findings.WaiverSummary
	}
	eval := func(chunk int, src, prevSrc Source) run {
		e := load(t, Options{Waivers: ws, ChunkSize: chunk, Profile: &profile})
		all, err := e.Evaluate(context.Background(), src, prevSrc, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sink collectSink
		st, err := e.EvaluateStream(context.Background(), src, prevSrc, nil, &sink)
		if err != nil {
			t.Fatal(err)
		}
		return run{js(t, all), js(t, sink.all()), st.Waivers}
	}
	for name, c := range map[string]struct{ cur, prev Source }{
		"synthetic file with previous": {FileSource(cur), FileSource(prev)},
		"estate file":                  {FileSource(mp), nil},
		"estate memory":                {m, nil},
	} {
		t.Run(name, func(t *testing.T) {
			whole := eval(1<<20, c.cur, c.prev)
			rules := []string{"SSE-004", "SSE-005"}
			if c.prev != nil {
				// Drift, failed HEADs, keys outside the allowed list.
				rules = append(rules, "SSE-007", "SSE-008", "SSE-006")
			}
			for _, r := range rules {
				if !strings.Contains(whole.findings, `"rule":"`+r+`"`) {
					t.Fatalf("no %s finding: the test checks too little", r)
				}
			}
			for _, chunk := range []int{1, 3, 100} {
				got := eval(chunk, c.cur, c.prev)
				if got.findings != whole.findings {
					t.Errorf("chunks of %d: findings differ from whole buckets", chunk)
				}
				if got.stream != whole.stream {
					t.Errorf("chunks of %d: the stream differs from whole buckets", chunk)
				}
				if js(t, got.waivers) != js(t, whole.waivers) {
					t.Errorf("chunks of %d: waiver counts %v, whole buckets %v", chunk, got.waivers, whole.waivers)
				}
			}
		})
	}
}

// TestUserRulesSeeChunks: a user rule sees a large bucket a chunk at a
// time and a bucket without objects once; its finding about the bucket is
// reported once.
func TestUserRulesSeeChunks(t *testing.T) {
	dir := t.TempDir()
	src := `package user.chunks

import data.sseaudit.lib

# METADATA
# title: Bucket holds objects
# description: d
# custom:
#   id: USR-B
#   severity: low
#   resource_type: bucket
#   remediation: {text: fix, cli: fix}
#   controls: [{framework: F, version: "1", id: "1", title: T}]
deny contains {"rule": "USR-B", "resource": lib.bucket_resource(input.bucket), "message": "has objects"} if {
	count(input.bucket.objects) > 0
}

# METADATA
# title: Bucket seen
# description: d
# custom:
#   id: USR-E
#   severity: low
#   resource_type: bucket
#   remediation: {text: fix, cli: fix}
#   controls: [{framework: F, version: "1", id: "1", title: T}]
deny contains {"rule": "USR-E", "resource": lib.bucket_resource(input.bucket), "message": "seen"} if {
	count(input.bucket.objects) == 0
}
`
	if err := os.WriteFile(filepath.Join(dir, "u.rego"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	m := mem("s", bucket("empty", ruleCMK), bucket("full", ruleCMK, goodObjects("full")...))
	for _, chunk := range []int{1, 100} {
		e := load(t, Options{ExtraDirs: []string{dir}, ChunkSize: chunk})
		var got []string
		for _, f := range eval(t, e, m, nil, nil) {
			if strings.HasPrefix(f.Rule, "USR-") {
				got = append(got, f.Rule+" "+f.Resource.UID)
			}
		}
		slices.Sort(got)
		if want := []string{"USR-B oss://full", "USR-E oss://empty"}; !slices.Equal(got, want) {
			t.Errorf("chunks of %d: %v, want %v", chunk, got, want)
		}
	}
}

// keepSink keeps what a sink may keep of every per-object finding: its
// object's strings (as the aggregator's compliance counts keep key ids).
type keepSink struct{ kept []string }

func (s *keepSink) AddObjects(b []findings.ObjectFinding) error {
	for _, of := range b {
		s.kept = append(s.kept, of.Object.ETag, of.Object.Method, of.Object.KMSKeyID, of.Finding.Resource.Key)
	}
	return nil
}

// TestStreamDoesNotPinChunks: what a sink keeps of the findings, and what
// the engine keeps of a bucket's objects (input.stats), does not keep
// the chunks they came from alive.
func TestStreamDoesNotPinChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates 150,000 objects")
	}
	p := writeSynthetic(t, t.TempDir(), "s.json", synth.Options{Buckets: 150, Objects: 1000})
	e := load(t, Options{})
	sink := &keepSink{}
	if _, err := e.EvaluateStream(context.Background(), FileSource(p), nil, nil, sink); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d strings kept; heap in use after the evaluation: %d MiB", len(sink.kept), ms.HeapAlloc>>20)
	if len(sink.kept) < 4*150*10 {
		t.Fatalf("only %d strings kept: the test checks too little", len(sink.kept))
	}
	// 150 chunks of 1,000 parsed objects take about 200 MiB; the strings
	// kept, under 1 MiB.
	if ms.HeapAlloc > 40<<20 {
		t.Errorf("%d MiB of heap in use after the evaluation: chunks are pinned by what was kept of them", ms.HeapAlloc>>20)
	}
	runtime.KeepAlive(sink)
}
