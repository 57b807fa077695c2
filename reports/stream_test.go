package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/findings"
)

// TestWriteSpliced: a document written element by element is byte for
// byte the one json.Encoder writes whole, wherever the array is.
func TestWriteSpliced(t *testing.T) {
	type item struct {
		Name string         `json:"name"`
		Tags []string       `json:"tags"`
		M    map[string]any `json:"m,omitempty"`
	}
	type inner struct {
		Before string `json:"before"`
		Items  []item `json:"items"`
		After  []int  `json:"after"`
	}
	type doc struct {
		A     int     `json:"a"`
		Inner []inner `json:"inner"`
		Z     string  `json:"z"`
	}
	items := []item{{Name: "x <&> \"q\"", Tags: []string{"a"}}, {Name: "y", Tags: []string{}, M: map[string]any{"k": []int{1, 2}}}, {Name: "z"}}
	for n := 0; n <= len(items); n++ {
		full := doc{A: 1, Inner: []inner{{Before: "b", Items: items[:n], After: []int{3}}}, Z: "end"}
		want, err := encodeIndented(&full, "")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		head := full
		head.Inner = []inner{{Before: "b", Items: []item{}, After: []int{3}}}
		h, _ := encodeIndented(&head, "")
		var got bytes.Buffer
		if err := writeSpliced(&got, append(h, '\n'), `"items": `, n, func(i int) (any, error) { return &items[i], nil }); err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("%d items:\n got %s\nwant %s", n, got.String(), want)
		}
		// A document that is the array.
		arr, _ := encodeIndented(items[:n], "")
		got.Reset()
		if err := writeSpliced(&got, []byte("[]\n"), "", n, func(i int) (any, error) { return &items[i], nil }); err != nil {
			t.Fatal(err)
		}
		if got.String() != string(arr)+"\n" {
			t.Errorf("%d items as the document:\n got %s\nwant %s", n, got.String(), arr)
		}
	}
	// Two arrays of one document, given in either order.
	type two struct {
		First  []item `json:"first"`
		Mid    string `json:"mid"`
		Second []item `json:"second"`
	}
	want, _ := encodeIndented(&two{First: items[:2], Mid: "m", Second: items}, "")
	h, _ := encodeIndented(&two{First: []item{}, Mid: "m", Second: []item{}}, "")
	var got bytes.Buffer
	elem := func(i int) (any, error) { return &items[i], nil }
	if err := writeSplices(&got, append(h, '\n'), splice{`"second": `, 3, elem}, splice{`"first": `, 2, elem}); err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want)+"\n" {
		t.Errorf("two arrays:\n got %s\nwant %s", got.String(), want)
	}
	// The marker must be there once.
	if err := writeSpliced(&bytes.Buffer{}, []byte(`{"a": [], "b": []}`), `"c": `, 0, nil); err == nil {
		t.Error("missing marker accepted")
	}
	if err := writeSpliced(&bytes.Buffer{}, []byte(`{"a": {"c": []}, "b": {"c": []}}`), `"c": `, 0, nil); err == nil {
		t.Error("marker twice accepted")
	}
}

// TestStreamedFormatsMatchWhole: OCSF, SARIF and report.json written
// element by element are the documents their readers expect.
func TestStreamedFormatsMatchWhole(t *testing.T) {
	m := aggregateModel(30, 1000)
	var b bytes.Buffer
	if err := OCSF(&b, m); err != nil {
		t.Fatal(err)
	}
	want, _ := encodeIndented(OCSFFindings(m), "")
	if b.String() != string(want)+"\n" {
		t.Error("streamed OCSF differs from the whole array encoded")
	}
	b.Reset()
	if err := SARIF(&b, m); err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Runs []struct {
			Results []map[string]any `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &sarif); err != nil || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) != 30 {
		t.Errorf("SARIF: %v, %+v", err, sarif)
	}
	b.Reset()
	if err := m.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	back, err := DecodeModel(strings.NewReader(b.String()))
	if err != nil || len(back.Findings.Findings) != 30 || back.Findings.Findings[7].Aggregate.Objects != 1000 {
		t.Errorf("report.json reads back: %v", err)
	}
}

// TestJUnitSuiteBySuite: JUnit written a suite at a time is byte for byte
// the document written whole.
func TestJUnitSuiteBySuite(t *testing.T) {
	m := aggregateModel(40, 10)
	m.Findings.Rules = append(m.Findings.Rules, *ruleMeta("SSE-999", findings.SeverityMedium, findings.CategoryEncryption, findings.ResourceBucket))
	var lazy bytes.Buffer
	if err := FindingsJUnit(&lazy, m); err != nil {
		t.Fatal(err)
	}
	var out junitSuites
	if err := xml.Unmarshal(lazy.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Suites) < 2 || len(out.Suites[0].Cases) != 40 {
		t.Fatalf("suites %+v", out.Suites)
	}
	out.Tests, out.Failures, out.Errors, out.Skipped = 0, 0, 0, 0
	var whole bytes.Buffer
	if err := writeJUnit(&whole, &out); err != nil {
		t.Fatal(err)
	}
	if lazy.String() != whole.String() {
		t.Errorf("suite by suite:\n%s\nwhole:\n%s", lazy.String(), whole.String())
	}
}
