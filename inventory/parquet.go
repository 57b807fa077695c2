package inventory

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// Parquet data files (S3 Inventory with Format Parquet). The columns are
// the snake_case forms of the CSV names (bucket, key, version_id, ...;
// e_tag for ETag), strings as UTF-8 byte arrays, size as int64,
// last_modified_date as an int64 timestamp (milliseconds in the files S3
// writes), flags as booleans. Keys are not URL-encoded: only CSV encodes
// them.
//
// Memory is bounded by a page, not by the file or a row group: the reader
// decodes a batch of values per column at a time, one page per column
// held. A page's declared size, and what its data decompresses to, are
// checked against MaxParquetPage before the library allocates it (every
// page header of a row group's columns is read first), and the footer
// against MaxParquetFooter.

// Limits on a Parquet data file; past them the file is refused with an
// ErrInvalid error naming the limit. Pages S3 and common writers produce
// are about 1 MiB, footers a few KiB per row group.
const (
	MaxParquetPage   = 64 << 20
	MaxParquetFooter = 64 << 20
)

// Fields a census reads, and their Parquet column names.
type field int

const (
	fBucket field = iota
	fKey
	fVersion
	fLatest
	fDeleteMarker
	fSize
	fModified
	fETag
	fClass
	fMultipart
	fEnc
	fBucketKey
	nFields
)

var parquetFields = [nFields]struct {
	column, name string // Parquet column, fileSchema name as in CSV
	kind         parquet.Kind
}{
	fBucket:       {"bucket", "Bucket", parquet.ByteArray},
	fKey:          {"key", "Key", parquet.ByteArray},
	fVersion:      {"version_id", "VersionId", parquet.ByteArray},
	fLatest:       {"is_latest", "IsLatest", parquet.Boolean},
	fDeleteMarker: {"is_delete_marker", "IsDeleteMarker", parquet.Boolean},
	fSize:         {"size", "Size", parquet.Int64},
	fModified:     {"last_modified_date", "LastModifiedDate", parquet.Int64},
	fETag:         {"e_tag", "ETag", parquet.ByteArray},
	fClass:        {"storage_class", "StorageClass", parquet.ByteArray},
	fMultipart:    {"is_multipart_uploaded", "IsMultipartUploaded", parquet.Boolean},
	fEnc:          {"encryption_status", "EncryptionStatus", parquet.ByteArray},
	fBucketKey:    {"bucket_key_status", "BucketKeyStatus", parquet.ByteArray},
}

// columnName is the CSV-style name (fileSchema of a CSV report) of the
// S3 Parquet/ORC column c: e_tag is ETag, version_id VersionId, other
// names in snake_case become CamelCase.
func columnName(c string) string {
	switch c {
	case "e_tag":
		return "ETag"
	case "version_id":
		return "VersionId"
	}
	var b strings.Builder
	for _, part := range strings.Split(c, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// parseParquetSchema reads the column names of a Parquet fileSchema,
// "message s3.inventory { required binary bucket (UTF8); ... }", as
// CSV-style names.
func parseParquetSchema(s string) ([]string, error) {
	open, end := strings.Index(s, "{"), strings.LastIndex(s, "}")
	if !strings.HasPrefix(strings.TrimSpace(s), "message ") || open < 0 || end < open {
		return nil, fmt.Errorf("it is not a Parquet message schema (message NAME { ... })")
	}
	var cols []string
	for _, decl := range strings.Split(s[open+1:end], ";") {
		words := strings.Fields(decl)
		if len(words) == 0 {
			continue
		}
		if len(words) < 3 || (words[0] != "required" && words[0] != "optional" && words[0] != "repeated") || words[1] == "group" {
			return nil, fmt.Errorf("%q is not a flat column declaration (required|optional TYPE NAME)", strings.TrimSpace(decl))
		}
		name, _, _ := strings.Cut(words[2], "(")
		cols = append(cols, columnName(name))
	}
	return cols, nil
}

// parquetColumn streams one column chunk's values, a batch at a time.
type parquetColumn struct {
	index int // leaf column index
	pages parquet.Pages
	page  parquet.Page
	vr    parquet.ValueReader
	buf   []parquet.Value
	n, i  int
}

func (c *parquetColumn) next() (parquet.Value, error) {
	for c.i == c.n {
		if c.vr != nil {
			n, err := c.vr.ReadValues(c.buf)
			c.n, c.i = n, 0
			if n > 0 {
				break
			}
			if err != nil && err != io.EOF {
				return parquet.Value{}, err
			}
		}
		c.release()
		p, err := c.pages.ReadPage()
		if err != nil {
			return parquet.Value{}, err
		}
		c.page, c.vr = p, p.Values()
	}
	v := c.buf[c.i]
	c.i++
	return v, nil
}

func (c *parquetColumn) release() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page, c.vr = nil, nil
	}
}

func (c *parquetColumn) close() {
	c.release()
	if c.pages != nil {
		_ = c.pages.Close()
		c.pages = nil
	}
	c.n, c.i = 0, 0
}

// ParquetReader reads one Parquet data file, a row at a time.
type ParquetReader struct {
	name  string
	ra    io.ReaderAt
	size  int64
	f     *parquet.File
	cols  [nFields]*parquetColumn // nil: the file has no such column
	scale time.Duration           // of last_modified_date
	rg    int                     // next row group
	left  int64                   // rows left in the current one
	row   int64
	// small repeats the few distinct values of low-cardinality columns
	// (bucket, storage class, statuses) instead of allocating each.
	small map[string]string
}

// NewParquetReader reads the Parquet data file r of size bytes (name is
// for errors). schema is the manifest's fileSchema as CSV-style names:
// every column it names that a census reads must be in the file, with
// its S3 type. Bucket and Key are required whatever the schema says.
func NewParquetReader(r io.ReaderAt, size int64, name string, schema []string) (pr *ParquetReader, err error) {
	defer func() {
		if p := recover(); p != nil {
			pr, err = nil, invalidf("data file %s is not a readable Parquet file: %v", name, p)
		}
	}()
	if size < 12 {
		return nil, invalidf("data file %s has %d bytes: too short for Parquet (is it truncated?)", name, size)
	}
	var tail [8]byte
	if n, err := r.ReadAt(tail[:], size-8); n < len(tail) {
		return nil, fmt.Errorf("inventory: read %s: %w", name, err)
	}
	if string(tail[4:]) != "PAR1" {
		return nil, invalidf("data file %s does not end with the Parquet magic PAR1: it is truncated or not Parquet", name)
	}
	if n := binary.LittleEndian.Uint32(tail[:4]); n > MaxParquetFooter {
		return nil, invalidf("data file %s has a Parquet footer of %d bytes, over the %d-byte limit", name, n, MaxParquetFooter)
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, invalidf("data file %s is not a readable Parquet file: %v", name, err)
	}
	pr = &ParquetReader{name: name, ra: r, size: size, f: f, scale: time.Millisecond, small: map[string]string{}}
	byName := map[string]*parquet.Column{}
	for _, c := range f.Root().Columns() {
		byName[c.Name()] = c
	}
	for i, pf := range parquetFields {
		c := byName[pf.column]
		if c == nil {
			if i <= int(fKey) || idx(schema, pf.name) >= 0 {
				return nil, invalidf("data file %s has no column %s (%s), which the manifest's fileSchema names: the file is not the report the manifest describes", name, pf.column, pf.name)
			}
			continue
		}
		if !c.Leaf() || c.Repeated() || c.Type().Kind() != pf.kind {
			return nil, invalidf("data file %s: column %s is %s, S3 Inventory writes it as %s %s", name, pf.column, describe(c), optionalOrRequired(i), pf.kind)
		}
		if field(i) == fModified {
			if pr.scale, err = timestampScale(c.Type()); err != nil {
				return nil, invalidf("data file %s: column %s: %v", name, pf.column, err)
			}
		}
		pr.cols[i] = &parquetColumn{index: c.Index(), buf: make([]parquet.Value, 256)}
	}
	return pr, nil
}

func optionalOrRequired(i int) string {
	if i <= int(fKey) {
		return "required"
	}
	return "optional"
}

func describe(c *parquet.Column) string {
	if !c.Leaf() {
		return "a group"
	}
	rep := "optional"
	switch {
	case c.Repeated():
		rep = "repeated"
	case c.Required():
		rep = "required"
	}
	return rep + " " + c.Type().Kind().String()
}

// timestampScale is the unit of an int64 timestamp column: its logical or
// converted type, or milliseconds when it has neither (S3 documents
// TIMESTAMP_MILLIS).
func timestampScale(t parquet.Type) (time.Duration, error) {
	if lt := t.LogicalType(); lt != nil && lt.Value != nil {
		ts, ok := lt.Value.(*format.TimestampType)
		if !ok || ts.Unit.Value == nil {
			return 0, fmt.Errorf("logical type %s is not a timestamp", lt)
		}
		return ts.Unit.Value.Duration(), nil
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.TimestampMillis:
			return time.Millisecond, nil
		case deprecated.TimestampMicros:
			return time.Microsecond, nil
		}
		return 0, fmt.Errorf("converted type %d is not a timestamp", *ct)
	}
	return time.Millisecond, nil
}

// openRowGroup checks the page headers of the next row group's columns
// and opens their pages.
func (r *ParquetReader) openRowGroup() error {
	groups := r.f.RowGroups()
	meta := r.f.Metadata().RowGroups
	g := r.rg
	r.rg++
	if len(meta) != len(groups) {
		return invalidf("data file %s: the footer's row groups do not match", r.name)
	}
	chunks := groups[g].ColumnChunks()
	for _, c := range r.cols {
		if c == nil {
			continue
		}
		c.close()
		if c.index >= len(chunks) || c.index >= len(meta[g].Columns) {
			return invalidf("data file %s: row group %d lacks column %d", r.name, g, c.index)
		}
		if err := r.checkPages(g, meta[g].Columns[c.index].MetaData); err != nil {
			return err
		}
		c.pages = chunks[c.index].Pages()
	}
	r.left = groups[g].NumRows()
	if r.left < 0 {
		return invalidf("data file %s: row group %d has %d rows", r.name, g, r.left)
	}
	return nil
}

// checkPages reads every page header of a column chunk (a few dozen bytes
// each, the pages themselves skipped) and refuses a chunk outside the
// file or a page over MaxParquetPage, before the library allocates a
// buffer of the size a header claims.
func (r *ParquetReader) checkPages(g int, md format.ColumnMetaData) error {
	start := md.DataPageOffset
	if md.DictionaryPageOffset > 0 {
		start = md.DictionaryPageOffset
	}
	end := start + md.TotalCompressedSize
	if start < 4 || md.TotalCompressedSize < 0 || end > r.size-8 || end < start {
		return invalidf("data file %s: row group %d column %s lies outside the file (bytes %d to %d of %d): it is truncated or corrupt", r.name, g, strings.Join(md.PathInSchema, "."), start, end, r.size)
	}
	var proto thrift.CompactProtocol
	buf := make([]byte, 4096)
	for off := start; off < end; {
		var h format.PageHeader
		window := buf[:min(int64(len(buf)), end-off)]
		n, err := r.ra.ReadAt(window, off)
		if err != nil && err != io.EOF {
			return fmt.Errorf("inventory: read %s: %w", r.name, err)
		}
		br := proto.NewReaderFromBytes(window[:n])
		if err := thrift.NewDecoder(br).Decode(&h); err != nil {
			// A header longer than the window (large statistics) is
			// read again whole; past the page limit it is corrupt.
			if len(buf) < 1<<20 && int64(len(buf)) < end-off {
				buf = make([]byte, 4*len(buf))
				continue
			}
			return invalidf("data file %s: row group %d column %s: page header at byte %d: %v", r.name, g, strings.Join(md.PathInSchema, "."), off, err)
		}
		if h.CompressedPageSize < 0 || h.UncompressedPageSize < 0 || h.CompressedPageSize > MaxParquetPage || h.UncompressedPageSize > MaxParquetPage {
			return invalidf("data file %s: row group %d column %s has a page of %d bytes (%d uncompressed), over the %d-byte limit", r.name, g, strings.Join(md.PathInSchema, "."), h.CompressedPageSize, h.UncompressedPageSize, MaxParquetPage)
		}
		data := off + int64(br.BytesRead())
		off = data + int64(h.CompressedPageSize)
		if off > end {
			return invalidf("data file %s: row group %d column %s: a page runs past the column chunk: the file is truncated or corrupt", r.name, g, strings.Join(md.PathInSchema, "."))
		}
		if err := r.checkDecoded(md.Codec, &h, data); err != nil {
			return invalidf("data file %s: row group %d column %s: page at byte %d: %v", r.name, g, strings.Join(md.PathInSchema, "."), data, err)
		}
	}
	return nil
}

// checkDecoded bounds what a page's data decompresses to: the library
// grows its buffer past the header's uncompressed size, so a page that a
// header calls small could still expand a thousandfold. Snappy says its
// length up front; gzip, zstd and brotli are decoded once, into nothing,
// to count; LZ4_RAW into a buffer of the declared size.
func (r *ParquetReader) checkDecoded(codec format.CompressionCodec, h *format.PageHeader, data int64) error {
	n := int64(h.CompressedPageSize)
	if v2 := h.DataPageHeaderV2; v2.Valid {
		if v2.V.IsCompressed.Valid && !v2.V.IsCompressed.V {
			return nil // levels and values stored as they are
		}
		levels := int64(v2.V.RepetitionLevelsByteLength) + int64(v2.V.DefinitionLevelsByteLength)
		if levels < 0 || levels > n {
			return fmt.Errorf("its levels (%d bytes) exceed the page", levels)
		}
		data, n = data+levels, n-levels
	}
	if n == 0 {
		return nil
	}
	src := io.NewSectionReader(r.ra, data, n)
	var dec io.Reader
	switch codec {
	case format.Uncompressed:
		return nil
	case format.Snappy:
		var head [binary.MaxVarintLen64]byte
		k, _ := src.ReadAt(head[:min(int64(len(head)), n)], 0)
		size, used := binary.Uvarint(head[:k])
		if used <= 0 {
			return fmt.Errorf("its snappy header is corrupt")
		}
		if size > MaxParquetPage {
			return fmt.Errorf("it decompresses to %d bytes, over the %d-byte limit", size, MaxParquetPage)
		}
		return nil
	case format.Gzip:
		zr, err := gzip.NewReader(src)
		if err != nil {
			return fmt.Errorf("its gzip data is corrupt: %v", err)
		}
		dec = zr
	case format.Zstd:
		zr, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxParquetPage+1))
		if err != nil {
			return fmt.Errorf("its zstd data is corrupt: %v", err)
		}
		defer zr.Close()
		dec = zr
	case format.Brotli:
		dec = brotli.NewReader(src)
	case format.Lz4Raw:
		// A block says nothing of its length: it is decoded into a buffer
		// of the size the header declares (at most MaxParquetPage, as the
		// library will allocate), which it must not overflow.
		in := make([]byte, n)
		if _, err := src.ReadAt(in, 0); err != nil {
			return fmt.Errorf("read: %v", err)
		}
		out := make([]byte, h.UncompressedPageSize)
		if _, err := lz4.UncompressBlock(in, out); err != nil {
			return fmt.Errorf("its LZ4 data is corrupt or longer than the %d bytes its header declares: %v", h.UncompressedPageSize, err)
		}
		return nil
	default:
		return fmt.Errorf("its compression %s is not read (S3 writes snappy; gzip, zstd, brotli and LZ4_RAW are read too)", codec)
	}
	got, err := io.Copy(io.Discard, io.LimitReader(dec, MaxParquetPage+1))
	if err != nil {
		return fmt.Errorf("its %s data is corrupt: %v", codec, err)
	}
	if got > MaxParquetPage {
		return fmt.Errorf("it decompresses to more than the %d-byte limit", MaxParquetPage)
	}
	return nil
}

// Next fills row with the next row; io.EOF after the last one. A file
// that cannot be decoded, or a row without bucket or key, is an ErrInvalid
// error naming file and row.
func (r *ParquetReader) Next(row *Row) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = invalidf("data file %s is corrupt near row %d: %v", r.name, r.row, p)
		}
	}()
	for r.left == 0 {
		if r.rg >= len(r.f.RowGroups()) {
			return io.EOF
		}
		if err := r.openRowGroup(); err != nil {
			return err
		}
	}
	r.left--
	r.row++
	var v [nFields]parquet.Value
	for i, c := range r.cols {
		if c == nil {
			continue
		}
		if v[i], err = c.next(); err != nil {
			if err == io.EOF {
				return invalidf("data file %s: column %s ends before row %d of row group %d: the file is corrupt", r.name, parquetFields[i].column, r.row, r.rg-1)
			}
			return invalidf("data file %s is corrupt at row %d (column %s): %v", r.name, r.row, parquetFields[i].column, err)
		}
	}
	bad := func(f field, what string) error {
		return invalidf("data file %s row %d: %s %s", r.name, r.row, parquetFields[f].column, what)
	}
	if v[fBucket].IsNull() {
		return bad(fBucket, "is null")
	}
	if v[fKey].IsNull() || len(v[fKey].ByteArray()) == 0 {
		return bad(fKey, "is null or empty")
	}
	*row = Row{Bucket: r.intern(v[fBucket]), Key: string(v[fKey].ByteArray()), IsLatest: true}
	if r.cols[fVersion] != nil && !v[fVersion].IsNull() {
		if b := v[fVersion].ByteArray(); string(b) != "null" {
			row.VersionID = string(b)
		}
	}
	if r.cols[fLatest] != nil {
		if v[fLatest].IsNull() {
			return bad(fLatest, "is null")
		}
		row.IsLatest = v[fLatest].Boolean()
	}
	if r.cols[fDeleteMarker] != nil && !v[fDeleteMarker].IsNull() {
		row.IsDeleteMarker = v[fDeleteMarker].Boolean()
	}
	if row.IsDeleteMarker {
		return nil
	}
	if r.cols[fSize] != nil {
		if v[fSize].IsNull() || v[fSize].Int64() < 0 {
			return bad(fSize, "is null or negative")
		}
		row.Size = v[fSize].Int64()
	}
	if r.cols[fModified] != nil {
		if v[fModified].IsNull() {
			return bad(fModified, "is null")
		}
		t := v[fModified].Int64()
		if t > maxTime/int64(r.scale) || t < -maxTime/int64(r.scale) {
			return bad(fModified, "is out of range")
		}
		row.LastModified = time.Unix(0, t*int64(r.scale)).UTC()
	}
	row.ETag = r.str(v[fETag], false)
	row.StorageClass = r.str(v[fClass], true)
	if r.cols[fMultipart] != nil && !v[fMultipart].IsNull() {
		row.Multipart = v[fMultipart].Boolean()
	}
	row.EncryptionStatus = r.str(v[fEnc], true)
	row.BucketKeyStatus = r.str(v[fBucketKey], true)
	return nil
}

// maxTime bounds a timestamp in nanoseconds (int64 holds years 1678-2262).
const maxTime = 1<<63 - 1

func (r *ParquetReader) str(v parquet.Value, small bool) string {
	if v.IsNull() || v.Kind() != parquet.ByteArray {
		return ""
	}
	if small {
		return r.intern(v)
	}
	return string(v.ByteArray())
}

// intern returns the one string of a low-cardinality value; the map stops
// growing at 256 values, so a column that is not low-cardinality costs an
// allocation per row and no more.
func (r *ParquetReader) intern(v parquet.Value) string {
	b := v.ByteArray()
	if s, ok := r.small[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(r.small) < 256 {
		r.small[s] = s
	}
	return s
}

// Close releases the pages held.
func (r *ParquetReader) Close() error {
	for _, c := range r.cols {
		if c != nil {
			c.close()
		}
	}
	return nil
}

// DataReader reads the rows of one data file, whatever its format.
type DataReader interface {
	// Next fills the row with the next one; io.EOF after the last.
	Next(*Row) error
	Close() error
}

// OpenData reads data file f of the manifest m from r, which holds its
// size bytes (a staged copy already checked with Copy).
func OpenData(r io.ReaderAt, f File, m Manifest) (DataReader, error) {
	if m.FileFormat == FormatParquet {
		return NewParquetReader(r, f.Size, f.Key, m.Schema)
	}
	return NewReader(io.NewSectionReader(r, 0, f.Size), f.Key, m.Schema)
}
