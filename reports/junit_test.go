package reports

import (
	"bytes"
	"encoding/xml"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/results"
)

func TestConformanceJUnitParsesBack(t *testing.T) {
	run := results.Run{Scenarios: []results.Scenario{
		{Feature: "F1", Name: "passes", Dialect: "oss", Status: "passed", Duration: time.Second,
			Steps: []results.Step{{Text: "a step", Status: "passed"}}},
		{Feature: "F1", Name: "fails", Dialect: "s3", Status: "failed", Error: "header missing\nmore", Duration: time.Second},
		{Feature: "F2", Name: "skips", Dialect: "oss", Status: "skipped", Error: "@emulator: needs the reference"},
		{Feature: "F2", Name: "undefined", Dialect: "oss", Status: "undefined", Error: "step undefined"},
	}}
	var buf bytes.Buffer
	if err := ConformanceJUnit(&buf, "conformance", run); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Error   *struct{} `xml:"error"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("junit does not parse: %v\n%s", err, buf.String())
	}
	if got.Tests != 4 || got.Failures != 1 || got.Errors != 1 || got.Skipped != 1 || len(got.Suites) != 2 {
		t.Fatalf("totals %+v", got)
	}
	c := got.Suites[0].Cases[1]
	if c.Name != "fails [s3]" || c.Failure == nil || c.Failure.Message != "header missing" {
		t.Fatalf("failed case = %+v", c)
	}
	sk := got.Suites[1].Cases[0]
	if sk.Skipped == nil || sk.Skipped.Message != "@emulator: needs the reference" || sk.Error != nil {
		t.Fatalf("skipped case = %+v", sk)
	}
	if got.Suites[1].Cases[1].Error == nil {
		t.Fatal("an undefined scenario is not an error")
	}
}
