package inventory

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Row is one line of a data file. Columns the schema lacks are zero and
// reported by Reader.Has.
type Row struct {
	Bucket         string
	Key            string // decoded
	VersionID      string
	IsLatest       bool
	IsDeleteMarker bool
	Size           int64
	LastModified   time.Time
	ETag           string
	StorageClass   string
	Multipart      bool
	// EncryptionStatus and BucketKeyStatus as written.
	EncryptionStatus string
	BucketKeyStatus  string
}

// Encryption is what a row's EncryptionStatus says.
type Encryption int

const (
	// EncUnknown: no such column, or a value neither service documents.
	EncUnknown Encryption = iota
	// EncNone: not encrypted (S3 NOT-SSE, OSS false).
	EncNone
	// EncManaged: encrypted with service-managed keys (S3 SSE-S3).
	EncManaged
	// EncKMS: SSE-KMS, key not named (S3 inventories never name it).
	EncKMS
	// EncDSSEKMS: S3 dual-layer SSE-KMS, key not named.
	EncDSSEKMS
	// EncCustomer: SSE-C.
	EncCustomer
	// EncEncrypted: encrypted, method not said (OSS true).
	EncEncrypted
)

// Encryption classifies the row's EncryptionStatus in its dialect.
func (r *Row) Encryption(dialect string) Encryption {
	v := r.EncryptionStatus
	if dialect == OSS {
		switch strings.ToLower(v) {
		case "false":
			return EncNone
		case "true":
			return EncEncrypted
		}
	}
	switch v {
	case "NOT-SSE":
		return EncNone
	case "SSE-S3":
		return EncManaged
	case "SSE-KMS":
		return EncKMS
	case "DSSE-KMS":
		return EncDSSEKMS
	case "SSE-C":
		return EncCustomer
	}
	return EncUnknown
}

// column indexes of the fields a census reads (-1 = absent).
type columns struct {
	n                                                      int
	bucket, key, version, latest, deleteMarker             int
	size, modified, etag, class, multipart, enc, bucketKey int
}

func columnsOf(schema []string) columns {
	return columns{n: len(schema), bucket: idx(schema, "Bucket"), key: idx(schema, "Key"), version: idx(schema, "VersionId"),
		latest: idx(schema, "IsLatest"), deleteMarker: idx(schema, "IsDeleteMarker"), size: idx(schema, "Size"),
		modified: idx(schema, "LastModifiedDate"), etag: idx(schema, "ETag"), class: idx(schema, "StorageClass"),
		multipart: idx(schema, "IsMultipartUploaded"), enc: idx(schema, "EncryptionStatus"), bucketKey: idx(schema, "BucketKeyStatus")}
}

// Reader parses one gzipped CSV data file, a row at a time.
type Reader struct {
	name string
	gz   *gzip.Reader
	csv  *csv.Reader
	cols columns
	line int64
}

// NewReader reads the gzipped CSV data file r (name is for errors) whose
// columns are schema (the manifest's fileSchema).
func NewReader(r io.Reader, name string, schema []string) (*Reader, error) {
	gz, err := gzip.NewReader(bufio.NewReaderSize(r, 256<<10))
	if err != nil {
		return nil, invalidf("data file %s is not gzip: %v", name, err)
	}
	c := csv.NewReader(gz)
	c.ReuseRecord = true
	c.FieldsPerRecord = len(schema)
	return &Reader{name: name, gz: gz, csv: c, cols: columnsOf(schema)}, nil
}

// Has reports whether the schema has column name.
func Has(schema []string, name string) bool { return idx(schema, name) >= 0 }

// Next fills row with the next line; io.EOF after the last one. A
// malformed line (wrong field count, a bad number, date or key encoding,
// a truncated gzip stream) is an ErrInvalid error naming file and line.
func (r *Reader) Next(row *Row) error {
	rec, err := r.csv.Read()
	if err == io.EOF {
		return io.EOF
	}
	r.line++
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
			return invalidf("data file %s is truncated or corrupt after line %d: %v", r.name, r.line-1, err)
		}
		return invalidf("data file %s line %d: %v", r.name, r.line, err)
	}
	c := &r.cols
	bad := func(what, v string) error {
		return invalidf("data file %s line %d: %s %.60q is not valid", r.name, r.line, what, v)
	}
	*row = Row{Bucket: rec[c.bucket]}
	if row.Key, err = url.QueryUnescape(rec[c.key]); err != nil || row.Key == "" {
		return bad("Key", rec[c.key])
	}
	if c.version >= 0 {
		row.VersionID = rec[c.version]
		if row.VersionID == "null" {
			row.VersionID = ""
		}
	}
	row.IsLatest = true
	if c.latest >= 0 {
		if row.IsLatest, err = strconv.ParseBool(rec[c.latest]); err != nil {
			return bad("IsLatest", rec[c.latest])
		}
	}
	if c.deleteMarker >= 0 && rec[c.deleteMarker] != "" {
		if row.IsDeleteMarker, err = strconv.ParseBool(rec[c.deleteMarker]); err != nil {
			return bad("IsDeleteMarker", rec[c.deleteMarker])
		}
	}
	if row.IsDeleteMarker {
		return nil
	}
	if c.size >= 0 {
		if row.Size, err = strconv.ParseInt(rec[c.size], 10, 64); err != nil || row.Size < 0 {
			return bad("Size", rec[c.size])
		}
	}
	if c.modified >= 0 {
		if row.LastModified, err = time.Parse(time.RFC3339Nano, rec[c.modified]); err != nil {
			return bad("LastModifiedDate", rec[c.modified])
		}
	}
	if c.etag >= 0 {
		row.ETag = rec[c.etag]
	}
	if c.class >= 0 {
		row.StorageClass = rec[c.class]
	}
	if c.multipart >= 0 && rec[c.multipart] != "" {
		if row.Multipart, err = strconv.ParseBool(rec[c.multipart]); err != nil {
			return bad("IsMultipartUploaded", rec[c.multipart])
		}
	}
	if c.enc >= 0 {
		row.EncryptionStatus = rec[c.enc]
	}
	if c.bucketKey >= 0 {
		row.BucketKeyStatus = rec[c.bucketKey]
	}
	return nil
}

// Close releases the decompressor (not the underlying reader).
func (r *Reader) Close() error {
	if err := r.gz.Close(); err != nil {
		return fmt.Errorf("inventory: %s: %w", r.name, err)
	}
	return nil
}
