package invreport

import (
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// S3 Parquet reports: the columns are the fileSchema names in snake_case
// (ETag is e_tag), bucket and key required byte arrays, the rest
// optional: flags boolean, Size int64, dates int64 timestamps in
// milliseconds, everything else UTF-8 strings; a value the CSV report
// leaves empty is null. Keys are written as they are (only CSV encodes
// them). Data files are snappy-compressed, as S3's are.

// parquetRowsPerBatch rows are handed to the Parquet writer at a time.
const parquetRowsPerBatch = 1024

// parquetRowsPerGroup rows make a row group.
const parquetRowsPerGroup = 100_000

type parquetKind int

const (
	pqString parquetKind = iota
	pqBool
	pqInt64
	pqTimestamp
)

func parquetKindOf(column string) parquetKind {
	switch column {
	case "IsLatest", "IsDeleteMarker", "IsMultipartUploaded":
		return pqBool
	case "Size":
		return pqInt64
	case "LastModifiedDate", "ObjectLockRetainUntilDate", "LifecycleExpirationDate", "IntelligentTieringReferenceDate":
		return pqTimestamp
	}
	return pqString
}

// snakeCase is the Parquet column name of a fileSchema column.
func snakeCase(column string) string {
	switch column {
	case "ETag":
		return "e_tag"
	case "VersionId":
		return "version_id"
	}
	var b strings.Builder
	for i, r := range column {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// orderedGroup is a Parquet group whose fields keep the report's column
// order (parquet.Group sorts them by name).
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

type namedField struct {
	parquet.Node
	name string
}

func (f namedField) Name() string { return f.name }

// Value is not used: rows are written as parquet.Row, never from Go
// values by reflection.
func (f namedField) Value(reflect.Value) reflect.Value { return reflect.Value{} }

// parquetSchema is the Parquet schema of columns and its fileSchema
// string in the form S3 writes in manifest.json.
func parquetSchema(columns []string) (*parquet.Schema, string) {
	g := orderedGroup{Group: parquet.Group{}}
	var desc strings.Builder
	desc.WriteString("message s3.inventory {")
	for _, c := range columns {
		name := snakeCase(c)
		var node parquet.Node
		var typ string
		switch parquetKindOf(c) {
		case pqBool:
			node, typ = parquet.Leaf(parquet.BooleanType), "boolean"
		case pqInt64:
			node, typ = parquet.Leaf(parquet.Int64Type), "int64"
		case pqTimestamp:
			node, typ = parquet.Timestamp(parquet.Millisecond), "int64"
		default:
			node, typ = parquet.String(), "binary"
		}
		rep := "optional"
		if c == "Bucket" || c == "Key" {
			rep = "required"
		} else {
			node = parquet.Optional(node)
		}
		g.Group[name] = node
		g.fields = append(g.fields, namedField{Node: node, name: name})
		desc.WriteString(" " + rep + " " + typ + " " + name)
		switch parquetKindOf(c) {
		case pqString:
			desc.WriteString(" (UTF8)")
		case pqTimestamp:
			desc.WriteString(" (TIMESTAMP_MILLIS)")
		}
		desc.WriteString(";")
	}
	desc.WriteString(" }")
	return parquet.NewSchema("s3.inventory", g), desc.String()
}

func newParquetWriter(out io.Writer, schema *parquet.Schema) *parquet.GenericWriter[any] {
	// Row groups bounded so a million-row file is not held whole in
	// memory before it is written.
	return parquet.NewGenericWriter[any](out, schema, parquet.Compression(&snappy.Codec{}), parquet.MaxRowsPerRowGroup(parquetRowsPerGroup),
		parquet.CreatedBy("sseaudit reference", "", ""))
}

// parquetRow is object o's row: the CSV values, typed, null where the CSV
// report leaves them empty.
func (w *writer) parquetRow(o objstore.ObjectInfo) parquet.Row {
	row := make(parquet.Row, len(w.columns))
	for i, c := range w.columns {
		var v parquet.Value
		switch s := w.value(c, o); {
		case c == "Key":
			v = parquet.ByteArrayValue([]byte(o.Key))
		case c == "Bucket":
			v = parquet.ByteArrayValue([]byte(s))
		case s == "":
			v = parquet.NullValue()
		default:
			switch parquetKindOf(c) {
			case pqBool:
				v = parquet.BooleanValue(s == "true")
			case pqInt64:
				n, _ := strconv.ParseInt(s, 10, 64)
				v = parquet.Int64Value(n)
			case pqTimestamp:
				t, _ := time.Parse(time.RFC3339Nano, s)
				v = parquet.Int64Value(t.UnixMilli())
			default:
				v = parquet.ByteArrayValue([]byte(s))
			}
		}
		def := 1
		if c == "Bucket" || c == "Key" || v.IsNull() {
			def = 0
		}
		row[i] = v.Level(0, def, i)
	}
	return row
}
