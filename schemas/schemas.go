// Package schemas holds the JSON Schemas (draft 2020-12) of the documents
// sseaudit writes for other programs to read: report.json
// (sseaudit.report/v1), findings.json (sseaudit.findings/v1) and
// snapshot.json (sseaudit.snapshot/v1). They are embedded, so the CLI can
// print them and validate a document offline.
//
// The schemas are strict where the formats' readers are: the snapshot and
// report readers refuse unknown members, so those objects are closed;
// findings.json readers ignore members they do not know, so its objects
// are open, except inside report.json, whose schema closes them through
// the dynamic anchor "members". "required" lists what sseaudit always
// writes; "optional" members are absent when they carry nothing.
//
// The schemas live in one package (not beside each format's package)
// because report.json embeds the other two documents: the three reference
// each other by $id, go:embed cannot reach outside a package's directory,
// and a format package then need not depend on a JSON Schema library.
// This package must not import the format packages (package reports' own
// tests import it); its tests check the schemas against their Go types.
package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Format identifiers, as each document's "schema" member names it.
const (
	ReportFormat   = "sseaudit.report/v1"
	FindingsFormat = "sseaudit.findings/v1"
	SnapshotFormat = "sseaudit.snapshot/v1"
)

// Schema is one embedded JSON Schema document.
type Schema struct {
	Format string // e.g. ReportFormat
	ID     string // the schema's $id
	File   string // its file name, e.g. report.v1.schema.json
}

// BaseURI is the base of the schemas' $id.
const BaseURI = "https://github.com/sseaudit/sseaudit/schemas/"

//go:embed report.v1.schema.json findings.v1.schema.json snapshot.v1.schema.json
var files embed.FS

var all = []Schema{
	{ReportFormat, BaseURI + "report.v1.schema.json", "report.v1.schema.json"},
	{FindingsFormat, BaseURI + "findings.v1.schema.json", "findings.v1.schema.json"},
	{SnapshotFormat, BaseURI + "snapshot.v1.schema.json", "snapshot.v1.schema.json"},
}

// All lists the schemas, report first.
func All() []Schema { return append([]Schema(nil), all...) }

// Report is the JSON Schema of report.json.
func Report() []byte { return mustRead("report.v1.schema.json") }

// Findings is the JSON Schema of findings.json.
func Findings() []byte { return mustRead("findings.v1.schema.json") }

// Snapshot is the JSON Schema of snapshot.json.
func Snapshot() []byte { return mustRead("snapshot.v1.schema.json") }

// Bytes returns the schema of format (a *Format constant).
func Bytes(format string) ([]byte, error) {
	s, err := lookup(format)
	if err != nil {
		return nil, err
	}
	return mustRead(s.File), nil
}

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("schemas: " + name + " is not embedded: " + err.Error()) // a build defect, caught by the tests
	}
	return b
}

func lookup(format string) (Schema, error) {
	for _, s := range all {
		if s.Format == format {
			return s, nil
		}
	}
	names := make([]string, 0, len(all))
	for _, s := range all {
		names = append(names, s.Format)
	}
	sort.Strings(names)
	return Schema{}, fmt.Errorf("schemas: unknown format %q (known: %s)", format, strings.Join(names, ", "))
}

// Validate checks the JSON document read from doc against the schema of
// format. The error names each place the document breaks the schema. No
// schema or document is fetched from anywhere: the three schemas refer
// only to each other.
func Validate(format string, doc io.Reader) error {
	s, err := compile(format)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(doc)
	if err != nil {
		return fmt.Errorf("schemas: %s: the document is not JSON: %w", format, err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("schemas: the document does not follow %s: %w", format, err)
	}
	return nil
}

// compile compiles the schema of format with the other two as resources.
func compile(format string) (*jsonschema.Schema, error) {
	target, err := lookup(format)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(jsonschema.SchemeURLLoader{}) // nothing is loaded from outside
	c.AssertFormat()
	for _, s := range all {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(mustRead(s.File)))
		if err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", s.File, err)
		}
		if err := c.AddResource(s.ID, v); err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", s.File, err)
		}
	}
	sch, err := c.Compile(target.ID)
	if err != nil {
		return nil, fmt.Errorf("schemas: compile %s: %w", target.File, err)
	}
	return sch, nil
}
