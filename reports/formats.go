package reports

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/sseaudit/sseaudit/findings"
)

// Renderer writes one report file.
type Renderer struct {
	Name      string // format name, e.g. "sarif"
	File      string // file name in the report directory
	MediaType string
	Render    func(io.Writer, *Model) error
}

// File names of the standard formats.
const (
	ModelFile    = "report.json"
	FindingsFile = "findings.json"
	JUnitFile    = "junit.xml"
	SARIFFile    = "results.sarif"
	OCSFFile     = "ocsf.json"
	MarkdownFile = "summary.md"
	CSVFile      = "findings.csv"
	HTMLFile     = "index.html"
)

// Formats are the report formats, report.json first: the one registry of
// what a report set holds, what `--format` can print and what WriteAll
// writes.
var Formats = []Renderer{
	{Name: "json", File: ModelFile, MediaType: "application/json", Render: func(w io.Writer, m *Model) error { return m.WriteJSON(w) }},
	{Name: "findings", File: FindingsFile, MediaType: "application/json", Render: FindingsJSON},
	{Name: "junit", File: JUnitFile, MediaType: "application/xml", Render: FindingsJUnit},
	{Name: "sarif", File: SARIFFile, MediaType: "application/sarif+json", Render: SARIF},
	{Name: "ocsf", File: OCSFFile, MediaType: "application/json", Render: OCSF},
	{Name: "markdown", File: MarkdownFile, MediaType: "text/markdown", Render: Markdown},
	{Name: "csv", File: CSVFile, MediaType: "text/csv", Render: CSV},
	{Name: "html", File: HTMLFile, MediaType: "text/html", Render: HTML},
}

// Format returns the registered format called name.
func Format(name string) (Renderer, bool) {
	for _, r := range Formats {
		if r.Name == name {
			return r, true
		}
	}
	return Renderer{}, false
}

// FindingsJSON writes m's findings document as findings.json, carrying the
// model's outcome (the same verdict as every other format).
func FindingsJSON(w io.Writer, m *Model) error {
	d := copyDocument(nil)
	if m.Findings != nil {
		c := *m.Findings
		d = &c
	}
	if o := outcomeOf(m); o != nil {
		d.Outcome = cloneOutcome(o)
	}
	return findings.Encode(w, d)
}

// WriteAll renders every format of Formats into dir (created if missing)
// and returns the sorted file names.
// Each file is written to a temporary file in dir and renamed into place
// (mode 0644), so a reader never sees a partial file. It stops at the first
// error; files already written stay.
func WriteAll(dir string, m *Model) ([]string, error) { return writeAll(dir, m, Formats) }

func writeAll(dir string, m *Model, all []Renderer) ([]string, error) {
	if m == nil {
		return nil, fmt.Errorf("reports: nil model")
	}
	seen := map[string]bool{}
	for _, r := range all {
		if r.File == "" || r.Render == nil || filepath.Base(r.File) != r.File || r.File == "." || r.File == ".." {
			return nil, fmt.Errorf("reports: bad renderer %q (file %q)", r.Name, r.File)
		}
		if seen[r.File] {
			return nil, fmt.Errorf("reports: two renderers write %s", r.File)
		}
		seen[r.File] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	var names []string
	for _, r := range all {
		if err := writeFileAtomic(filepath.Join(dir, r.File), func(w io.Writer) error { return r.Render(w, m) }); err != nil {
			return nil, fmt.Errorf("reports: %s: %w", r.File, err)
		}
		names = append(names, r.File)
	}
	sort.Strings(names)
	return names, nil
}

// writeFileAtomic writes path through a temporary file in the same
// directory, synced, chmod 0644 and renamed over path.
func writeFileAtomic(path string, render func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<16)
	if err = render(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
