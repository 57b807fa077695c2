package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/sseaudit/sseaudit/results"
)

// JUnit XML in the shape Jenkins, GitLab and the maven-surefire schema
// accept: a <testsuite> per feature, a <testcase> per scenario (dialect in
// the name), <failure> for a failed scenario, <error> for an undefined or
// pending one, and <skipped> with the reason for a skipped one. (godog's own
// junit formatter writes skipped steps as <error> elements, which Jenkins
// counts as errors; this one does not.)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Timestamp  string           `xml:"timestamp,attr,omitempty"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Time       string           `xml:"time,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
	seconds    float64
}

type junitProperties struct {
	Props []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(f float64) string { return fmt.Sprintf("%.3f", f) }

// ConformanceJUnit writes run as JUnit XML.
func ConformanceJUnit(w io.Writer, name string, run results.Run) error {
	out := junitSuites{Name: name, Suites: conformanceSuites(run, "")}
	return writeJUnit(w, &out)
}

// conformanceSuites turns run into a suite per feature (named prefix +
// feature), a case per scenario.
func conformanceSuites(run results.Run, prefix string) []junitSuite {
	var suites []junitSuite
	index := map[string]int{}
	for _, sc := range run.Scenarios {
		i, ok := index[sc.Feature]
		if !ok {
			i = len(suites)
			index[sc.Feature] = i
			suites = append(suites, junitSuite{Name: prefix + sc.Feature})
		}
		s := &suites[i]
		d := sc.Duration.Seconds()
		c := junitCase{Name: caseName(sc), Classname: sc.Feature, Time: seconds(d), SystemOut: stepLog(sc)}
		switch sc.Status {
		case "passed":
		case results.StatusSkipped:
			c.Skipped = &junitMessage{Message: sc.Error}
			s.Skipped++
		case results.StatusNotRun: // a dry run: nothing ran, nothing failed
			c.Skipped = &junitMessage{Message: strings.TrimSpace("not run (dry run) " + sc.Error)}
			s.Skipped++
		case "failed":
			c.Failure = &junitMessage{Message: firstLine(sc.Error), Type: "failed", Text: sc.Error}
			s.Failures++
		default: // undefined, pending, ambiguous: the suite itself is broken
			c.Error = &junitMessage{Message: sc.Status + ": " + firstLine(sc.Error), Type: sc.Status, Text: sc.Error}
			s.Errors++
		}
		s.Tests++
		s.seconds += d
		s.Cases = append(s.Cases, c)
	}
	return suites
}

// writeJUnit totals the suites into out and writes it.
func writeJUnit(w io.Writer, out *junitSuites) error { return writeJUnitLazy(w, out, nil) }

// writeJUnitLazy is writeJUnit where the cases of suite i, when lazy has
// it, are built just before the suite is written and dropped after it.
// The bytes are those of writing the whole document at once.
func writeJUnitLazy(w io.Writer, out *junitSuites, lazy map[int]junitCases) error {
	var total float64
	for i := range out.Suites {
		s := &out.Suites[i]
		s.Time = seconds(s.seconds)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		total += s.seconds
	}
	out.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if len(lazy) == 0 {
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("encode junit: %w", err)
		}
	} else {
		head := *out
		head.Suites = nil
		start := xml.StartElement{Name: xml.Name{Local: "testsuites"}}
		for _, a := range [][2]string{{"name", head.Name}, {"tests", fmt.Sprint(head.Tests)}, {"failures", fmt.Sprint(head.Failures)},
			{"errors", fmt.Sprint(head.Errors)}, {"skipped", fmt.Sprint(head.Skipped)}, {"time", head.Time}} {
			start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: a[0]}, Value: a[1]})
		}
		if err := enc.EncodeToken(start); err != nil {
			return fmt.Errorf("encode junit: %w", err)
		}
		for i := range out.Suites {
			s := out.Suites[i]
			if build := lazy[i]; build != nil {
				if err := writeSuiteLazy(enc, &s, build); err != nil {
					return fmt.Errorf("encode junit: %w", err)
				}
				continue
			}
			if err := enc.EncodeElement(&s, xml.StartElement{Name: xml.Name{Local: "testsuite"}}); err != nil {
				return fmt.Errorf("encode junit: %w", err)
			}
		}
		if err := enc.EncodeToken(start.End()); err != nil {
			return fmt.Errorf("encode junit: %w", err)
		}
		if err := enc.Flush(); err != nil {
			return fmt.Errorf("encode junit: %w", err)
		}
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitCases hands a suite's cases to yield one at a time, in order.
type junitCases func(yield func(*junitCase) error) error

// writeSuiteLazy writes the suite s with the cases cases gives, each
// encoded as it comes (byte for byte what encoding s with them would
// write), so a rule of 10,000 findings is never held as cases.
func writeSuiteLazy(enc *xml.Encoder, s *junitSuite, cases junitCases) error {
	start := xml.StartElement{Name: xml.Name{Local: "testsuite"}}
	attr := func(k, v string) { start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: k}, Value: v}) }
	// junitSuite's attributes, in its fields' order.
	attr("name", s.Name)
	if s.Timestamp != "" {
		attr("timestamp", s.Timestamp)
	}
	attr("tests", fmt.Sprint(s.Tests))
	attr("failures", fmt.Sprint(s.Failures))
	attr("errors", fmt.Sprint(s.Errors))
	attr("skipped", fmt.Sprint(s.Skipped))
	attr("time", s.Time)
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	if s.Properties != nil {
		if err := enc.EncodeElement(s.Properties, xml.StartElement{Name: xml.Name{Local: "properties"}}); err != nil {
			return err
		}
	}
	for _, c := range s.Cases {
		if err := enc.EncodeElement(&c, xml.StartElement{Name: xml.Name{Local: "testcase"}}); err != nil {
			return err
		}
	}
	if err := cases(func(c *junitCase) error {
		return enc.EncodeElement(c, xml.StartElement{Name: xml.Name{Local: "testcase"}})
	}); err != nil {
		return err
	}
	return enc.EncodeToken(start.End())
}

func caseName(sc results.Scenario) string {
	if sc.Dialect == "" {
		return sc.Name
	}
	return sc.Name + " [" + sc.Dialect + "]"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func stepLog(sc results.Scenario) string {
	var b strings.Builder
	for _, st := range sc.Steps {
		fmt.Fprintf(&b, "%-9s %s\n", st.Status, st.Text)
		if st.Error != "" {
			fmt.Fprintf(&b, "          %s\n", st.Error)
		}
	}
	return b.String()
}
