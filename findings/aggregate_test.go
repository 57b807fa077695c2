package findings

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	aggUnenc = RuleMeta{ID: "SSE-004", Title: "Object not encrypted", Severity: SeverityHigh, Category: CategoryEncryption, ResourceType: ResourceObject}
	aggKey   = RuleMeta{ID: "SSE-005", Title: "Object key unusable", Severity: SeverityCritical, Category: CategoryKey, ResourceType: ResourceObject, AggregateBy: []string{"kms_key_id"}}
	aggT0    = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
)

// objFinding is a per-object finding of meta on bucket/key, as an
// evaluation gives it.
func perObject(meta *RuleMeta, bucket, key string, size int64, age int, observed map[string]any) ObjectFinding {
	f := NewFinding(meta, Resource{Type: ResourceObject, Provider: "oss", Region: "r1", Bucket: bucket, Key: key}, "object "+key+" is bad")
	f.Observed = observed
	f.FirstSeen = aggT0.Add(-time.Duration(age) * time.Hour)
	f.LastSeen = aggT0
	o := ObjectInfo{Found: true, Size: size, LastModified: aggT0.Add(-time.Duration(age) * 24 * time.Hour), ETag: "e-" + key, Method: "none"}
	if id, ok := observed["kms_key_id"].(string); ok {
		o.Method, o.KMSKeyID = "kms-cmk", id
	}
	return ObjectFinding{Finding: f, Object: o}
}

func aggregate(t *testing.T, opts AggregatorOptions, batches ...[]ObjectFinding) ([]Finding, []AffectedObject, []byte, *Aggregator) {
	t.Helper()
	var side bytes.Buffer
	a := NewAggregator(&side, opts)
	for _, b := range batches {
		if err := a.AddObjects(b); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := a.Close()
	if err != nil {
		t.Fatal(err)
	}
	var lines []AffectedObject
	if err := ReadAffected(bytes.NewReader(side.Bytes()), func(o *AffectedObject) error {
		lines = append(lines, *o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return fs, lines, side.Bytes(), a
}

func TestAggregator(t *testing.T) {
	opts := AggregatorOptions{AggregateBy: AggregateByOf([]RuleMeta{aggUnenc, aggKey}), SampleSize: 3, Seen: aggT0}
	// 25 unencrypted objects of bucket b in two batches, out of key order,
	// two of them waived; objects of b under two unusable keys; one object
	// of bucket c.
	var b1, b2 []ObjectFinding
	for i := 24; i >= 0; i-- {
		of := perObject(&aggUnenc, "b", fmt.Sprintf("k%02d", i), int64(i), i, map[string]any{"method": "none"})
		if i == 3 || i == 7 {
			of.Finding.Suppressed = true
			of.Finding.Waiver = &AppliedWaiver{Rule: "SSE-004", Resource: "oss://b/k0*", Reason: "legacy", State: WaiverActive}
		}
		if i%2 == 0 {
			b1 = append(b1, of)
		} else {
			b2 = append(b2, of)
		}
	}
	b2 = append(b2,
		perObject(&aggKey, "b", "x1", 100, 1, map[string]any{"kms_key_id": "key-1"}),
		perObject(&aggKey, "b", "x2", 100, 1, map[string]any{"kms_key_id": "key-2"}),
		perObject(&aggKey, "b", "x3", 100, 1, map[string]any{"kms_key_id": "key-1"}),
		perObject(&aggUnenc, "c", "only", 5, 0, nil),
	)
	fs, lines, side, a := aggregate(t, opts, b1, b2)

	if got := len(lines); got != 29 {
		t.Fatalf("%d side-file lines, want 29 (one per per-object finding)", got)
	}
	if a.Lines() != 29 {
		t.Errorf("Lines() = %d", a.Lines())
	}
	if len(fs) != 4 {
		t.Fatalf("%d aggregates, want 4 (SSE-004 b, SSE-004 c, SSE-005 b key-1, SSE-005 b key-2): %+v", len(fs), fs)
	}
	byUID := map[string]Finding{}
	for _, f := range fs {
		byUID[f.Rule+" "+f.Resource.UID] = f
		if f.Resource.Type != ResourceObjects || f.Aggregate == nil || f.Aggregate.File != AffectedFile {
			t.Errorf("%s: not an objects aggregate: %+v", f.ID, f.Resource)
		}
		if f.ID != ID(f.Rule, f.Resource) {
			t.Errorf("%s: id is not ID(rule, resource)", f.ID)
		}
	}
	u := byUID["SSE-004 oss://b/*"]
	if u.Aggregate == nil {
		t.Fatalf("no SSE-004 aggregate of oss://b/*: %v", byUID)
	}
	ag := u.Aggregate
	if ag.Objects != 25 || ag.Open != 23 || ag.Suppressed != 2 || ag.Bytes != 300 {
		t.Errorf("counts %+v, want 25 objects, 23 open, 2 waived, 300 bytes", ag)
	}
	if want := aggT0.Add(-24 * 24 * time.Hour); !ag.OldestLastModified.Equal(want) || !ag.NewestLastModified.Equal(aggT0) {
		t.Errorf("last modified %v..%v", ag.OldestLastModified, ag.NewestLastModified)
	}
	if len(ag.Sample) != 3 || ag.Sample[0].Key != "k00" || ag.Sample[1].Key != "k01" || ag.Sample[2].Key != "k02" {
		t.Errorf("sample %+v, want k00 k01 k02 (first by key, bounded)", ag.Sample)
	}
	if u.Suppressed || u.Waiver != nil {
		t.Errorf("partly waived aggregate suppressed=%v waiver=%v", u.Suppressed, u.Waiver)
	}
	if !u.FirstSeen.Equal(aggT0.Add(-24*time.Hour)) || !u.LastSeen.Equal(aggT0) {
		t.Errorf("first/last seen %v %v", u.FirstSeen, u.LastSeen)
	}
	for _, want := range []string{"25 objects (300 B", "last modified 2025-02-05 to 2025-03-01", "2 waived", "e.g. k00: object k00 is bad", AffectedFile} {
		if !strings.Contains(u.Message, want) {
			t.Errorf("message %q lacks %q", u.Message, want)
		}
	}
	k1 := byUID["SSE-005 oss://b/*?kms_key_id=key-1"]
	if k1.Aggregate == nil || k1.Aggregate.Objects != 2 || k1.Resource.KMSKeyID != "key-1" || k1.Resource.Facts["kms_key_id"] != "key-1" {
		t.Errorf("key-1 aggregate %+v", k1)
	}
	if k2 := byUID["SSE-005 oss://b/*?kms_key_id=key-2"]; k2.Aggregate == nil || k2.Aggregate.Objects != 1 {
		t.Errorf("key-2 aggregate %+v", k2)
	}

	// Each line names its own per-object id and its aggregate, in the order
	// the findings came.
	if lines[0].Key != "k24" || lines[0].ID != b1[0].Finding.ID || lines[0].Aggregate != u.ID || lines[0].ETag != "e-k24" || lines[0].Method != "none" {
		t.Errorf("first line %+v", lines[0])
	}
	for _, l := range lines {
		if l.Key == "k03" && (!l.Suppressed || l.Waiver == nil || l.Waiver.Reason != "legacy") {
			t.Errorf("waived line %+v", l)
		}
	}

	// The same input gives the same bytes.
	c1 := append([]ObjectFinding(nil), b1...)
	c2 := append([]ObjectFinding(nil), b2...)
	_, _, again, _ := aggregate(t, opts, c1, c2)
	if !bytes.Equal(side, again) {
		t.Error("the side file differs between two runs over the same findings")
	}

	// Compliance: the key-1/key-2 objects are encrypted, current and open:
	// flagged; unencrypted objects are not (they are not compliant anyway).
	fl := a.Flagged()
	if got := fl[FlaggedKey{Bucket: "b", KMSKeyID: "key-1", Worst: SeverityCritical}]; got.Objects != 2 || got.Bytes != 200 {
		t.Errorf("flagged key-1 %+v (all %v)", got, fl)
	}
	if len(fl) != 2 {
		t.Errorf("flagged %v, want key-1 and key-2 only", fl)
	}
}

func TestAggregatorAllWaived(t *testing.T) {
	w := &AppliedWaiver{Rule: "SSE-004", Resource: "oss://b/*", Reason: "accepted", State: WaiverActive}
	var batch []ObjectFinding
	for _, k := range []string{"b", "a"} {
		of := perObject(&aggUnenc, "b", k, 1, 0, nil)
		of.Finding.Suppressed, of.Finding.Waiver = true, w
		batch = append(batch, of)
	}
	fs, _, _, _ := aggregate(t, AggregatorOptions{Seen: aggT0}, batch)
	if len(fs) != 1 || !fs[0].Suppressed || fs[0].Waiver == nil || fs[0].Waiver.Reason != "accepted" {
		t.Fatalf("every object waived: want one suppressed aggregate with the waiver, got %+v", fs)
	}
	if s := Summarize(fs); s.Suppressed != 1 || s.Open != 0 || s.AffectedObjects != (RuleCount{Open: 0, Suppressed: 2}) {
		t.Errorf("summary %+v", s)
	}
}

// TestAggregatorRefusesOtherResources: only object findings are aggregated.
func TestAggregatorRefusesOtherResources(t *testing.T) {
	a := NewAggregator(&bytes.Buffer{}, AggregatorOptions{})
	f := NewFinding(&aggUnenc, Resource{Type: ResourceBucket, Provider: "oss", Bucket: "b"}, "m")
	if err := a.AddObjects([]ObjectFinding{{Finding: f}}); err == nil || !strings.Contains(err.Error(), "not an object") {
		t.Errorf("bucket finding aggregated: %v", err)
	}
	if _, err := a.Close(); err == nil {
		t.Error("Close after a failed Add: no error")
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"plain", "quote\" back\\slash", "ctl\x00\x1f\n\t\r", "bad\xffutf8", "sep\u2028\u2029", "ünï©ødé"} {
		got := string(appendJSONString(nil, s))
		var want bytes.Buffer
		enc := jsonEncoder(&want)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if w := strings.TrimSuffix(want.String(), "\n"); got != w {
			t.Errorf("%q: %s, encoding/json says %s", s, got, w)
		}
	}
}

func TestHumanNumbers(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 20004: "20,004", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %s", n, got)
		}
	}
	for n, want := range map[int64]string{12: "12 B", 2048: "2.0 KiB", 19188736: "18.3 MiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %s", n, got)
		}
	}
}

func jsonEncoder(w *bytes.Buffer) *json.Encoder {
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	return e
}

// TestAggregatorFlush: the aggregates Flush hands over bucket by bucket
// are those Close gives at once, and an object of a bucket already
// flushed is an error naming the rule and the object.
func TestAggregatorFlush(t *testing.T) {
	batches := [][]ObjectFinding{
		{perObject(&aggUnenc, "a", "k1", 10, 1, nil), perObject(&aggKey, "a", "k2", 20, 2, map[string]any{"kms_key_id": "key-1"})},
		{perObject(&aggUnenc, "a", "k3", 30, 3, nil)},
		{perObject(&aggUnenc, "b", "k1", 40, 4, nil), perObject(&aggKey, "b", "k9", 50, 5, map[string]any{"kms_key_id": "key-2"})},
		{perObject(&aggUnenc, "c", "k1", 60, 6, nil)},
	}
	whole, _, wantSide, _ := aggregate(t, AggregatorOptions{AggregateBy: AggregateByOf([]RuleMeta{aggKey})}, batches...)

	var side bytes.Buffer
	a := NewAggregator(&side, AggregatorOptions{AggregateBy: AggregateByOf([]RuleMeta{aggKey})})
	var got []Finding
	for _, b := range batches {
		if err := a.AddObjects(b); err != nil {
			t.Fatal(err)
		}
		fs, err := a.Flush(b[len(b)-1].Finding.Resource.Bucket)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fs...)
	}
	rest, err := a.Close()
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest...)
	Sort(got)
	Sort(whole)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(whole)
	if len(whole) != 5 || !bytes.Equal(gb, wb) {
		t.Errorf("flushed bucket by bucket:\n%s\nat once:\n%s", gb, wb)
	}
	if !bytes.Equal(side.Bytes(), wantSide) {
		t.Error("the side file differs when the aggregates are flushed")
	}

	a = NewAggregator(&bytes.Buffer{}, AggregatorOptions{})
	if err := a.AddObjects(batches[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Flush("b"); err != nil {
		t.Fatal(err)
	}
	err = a.AddObjects([]ObjectFinding{perObject(&aggUnenc, "a", "late", 1, 1, nil)})
	if err == nil || !strings.Contains(err.Error(), `"late"`) || !strings.Contains(err.Error(), "SSE-004") {
		t.Errorf("an object of a flushed aggregate: %v", err)
	}
}
