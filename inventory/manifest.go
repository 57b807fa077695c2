// Package inventory reads bucket inventory reports, as Alibaba Cloud OSS
// Bucket Inventory and Amazon S3 Inventory publish them: it finds the
// newest manifest among a listing's keys, checks manifest.json against
// manifest.checksum and a data file against the size and MD5 the manifest
// gives, and parses data files row by row with bounded memory: gzipped CSV
// (both services; one row at a time, the record reused) and Parquet (S3;
// a batch of values per column, one page per column held, see
// parquet.go). ORC, the third S3 format, is refused with an error saying
// so: no maintained pure-Go ORC reader could be had.
//
// Layouts (the report's folder is the time the service began scanning):
//
//	[destination-prefix/]source-bucket/config-id/YYYY-MM-DDTHH-MMZ/manifest.json
//	[destination-prefix/]source-bucket/config-id/YYYY-MM-DDTHH-MMZ/manifest.checksum
//	[destination-prefix/]source-bucket/config-id/data/*.csv.gz (S3 Parquet: *.parquet)
//
// OSS manifests have a creationTimestamp in seconds and destinationBucket
// as a name; S3 manifests milliseconds and an arn:aws:s3::: ARN; both list
// files with key, size and MD5checksum (hex, OSS upper-case) and name the
// columns in fileSchema (a CSV header line, or for Parquet the Parquet
// message schema, whose snake_case columns Manifest.Schema gives by their
// CSV names). Keys in CSV data files are URL-encoded, in Parquet not.
//
// The package does no I/O of its own beyond the readers it is given: the
// census (package scan) fetches the files through package client. It makes
// no judgement either: an encryption status is classified (Row.Encryption),
// never turned into a finding.
package inventory

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dialects of a report.
const (
	OSS = "oss"
	S3  = "s3"
)

// Formats of a report's data files (Manifest.FileFormat, as S3 spells
// them in manifest.json).
const (
	FormatCSV     = "CSV"
	FormatParquet = "Parquet"
	FormatORC     = "ORC"
)

// ErrInvalid marks every problem with a report's content (checksums,
// sizes, a manifest of another bucket, malformed rows): errors.Is(err,
// ErrInvalid) tells bad input from a failed read.
var ErrInvalid = errors.New("invalid inventory report")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// File is one data file a manifest lists.
type File struct {
	Key  string
	Size int64
	MD5  []byte
}

// Manifest is a parsed, checked manifest.json.
type Manifest struct {
	Dialect           string
	SourceBucket      string
	DestinationBucket string // a bucket name (an S3 ARN is reduced to it)
	Version           string
	Created           time.Time
	// FileFormat is FormatCSV or FormatParquet.
	FileFormat string
	// Schema is the fileSchema's column names as CSV names them (a
	// Parquet schema's e_tag is ETag, version_id VersionId, ...).
	Schema []string
	Files  []File
	// SHA256 is the lower-case hex SHA-256 of manifest.json as read, the
	// digest a snapshot records.
	SHA256 string
}

type manifestFileJSON struct {
	Key  *string `json:"key"`
	Size *int64  `json:"size"`
	MD5  *string `json:"MD5checksum"`
}

type manifestJSON struct {
	SourceBucket      *string            `json:"sourceBucket"`
	DestinationBucket *string            `json:"destinationBucket"`
	Version           string             `json:"version"`
	CreationTimestamp *string            `json:"creationTimestamp"`
	FileFormat        *string            `json:"fileFormat"`
	FileSchema        *string            `json:"fileSchema"`
	Files             []manifestFileJSON `json:"files"`
}

// Expect is what a manifest must say to be the report asked for.
type Expect struct {
	Dialect      string
	SourceBucket string
	DestBucket   string
}

// ParseManifest checks body (manifest.json) against checksum (the content
// of manifest.checksum, the hex MD5 of body) and parses it. It refuses a
// checksum mismatch, a manifest of another source or destination bucket,
// a format other than CSV, a schema without Key, and files without key,
// size or a 16-byte MD5.
func ParseManifest(body, checksum []byte, want Expect) (Manifest, error) {
	sum := md5.Sum(body)
	got := strings.TrimSpace(string(checksum))
	if !strings.EqualFold(got, hex.EncodeToString(sum[:])) {
		return Manifest{}, invalidf("manifest.checksum says %.40q, the manifest's MD5 is %x: the manifest was changed or truncated after it was written", got, sum)
	}
	var j manifestJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&j); err != nil {
		return Manifest{}, invalidf("manifest.json is not JSON: %v", err)
	}
	if j.SourceBucket == nil || j.DestinationBucket == nil || j.CreationTimestamp == nil || j.FileFormat == nil || j.FileSchema == nil || j.Files == nil {
		return Manifest{}, invalidf("manifest.json lacks sourceBucket, destinationBucket, creationTimestamp, fileFormat, fileSchema or files")
	}
	h := sha256.Sum256(body)
	m := Manifest{Dialect: want.Dialect, SourceBucket: *j.SourceBucket, DestinationBucket: strings.TrimPrefix(*j.DestinationBucket, "arn:aws:s3:::"),
		Version: j.Version, FileFormat: *j.FileFormat, SHA256: hex.EncodeToString(h[:])}
	if m.SourceBucket != want.SourceBucket {
		return Manifest{}, invalidf("the manifest is of bucket %q, not %q: point the inventory of %s at its own reports", m.SourceBucket, want.SourceBucket, want.SourceBucket)
	}
	if want.DestBucket != "" && m.DestinationBucket != want.DestBucket {
		return Manifest{}, invalidf("the manifest names destination bucket %q but was read from %q", m.DestinationBucket, want.DestBucket)
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(*j.CreationTimestamp), 10, 64)
	if err != nil || ts <= 0 {
		return Manifest{}, invalidf("creationTimestamp %q is not a number", *j.CreationTimestamp)
	}
	if want.Dialect == S3 {
		m.Created = time.UnixMilli(ts).UTC()
	} else {
		m.Created = time.Unix(ts, 0).UTC()
	}
	switch {
	case strings.EqualFold(m.FileFormat, FormatCSV):
		m.FileFormat = FormatCSV
		for _, c := range strings.Split(*j.FileSchema, ",") {
			m.Schema = append(m.Schema, strings.TrimSpace(c))
		}
	case strings.EqualFold(m.FileFormat, FormatParquet) && want.Dialect == S3:
		m.FileFormat = FormatParquet
		if m.Schema, err = parseParquetSchema(*j.FileSchema); err != nil {
			return Manifest{}, invalidf("fileSchema %.200q: %v", *j.FileSchema, err)
		}
	case strings.EqualFold(m.FileFormat, FormatORC) && want.Dialect == S3:
		return Manifest{}, invalidf("the report's format is ORC, which sseaudit does not read (no maintained pure-Go ORC reader): configure the inventory with Format Parquet or CSV")
	case want.Dialect == S3:
		return Manifest{}, invalidf("the report's format is %.40q: S3 inventories are CSV, ORC or Parquet, and sseaudit reads CSV and Parquet", m.FileFormat)
	default:
		return Manifest{}, invalidf("the report's format is %.40q: OSS inventories are CSV only", m.FileFormat)
	}
	if idx(m.Schema, "Key") < 0 || idx(m.Schema, "Bucket") < 0 {
		return Manifest{}, invalidf("fileSchema %q has no Bucket or Key column", *j.FileSchema)
	}
	for i, f := range j.Files {
		if f.Key == nil || *f.Key == "" || f.Size == nil || *f.Size < 0 || f.MD5 == nil {
			return Manifest{}, invalidf("files[%d] lacks its key, size or MD5checksum", i)
		}
		d, err := hex.DecodeString(*f.MD5)
		if err != nil || len(d) != md5.Size {
			return Manifest{}, invalidf("files[%d] (%s): MD5checksum %q is not an MD5", i, *f.Key, *f.MD5)
		}
		m.Files = append(m.Files, File{Key: *f.Key, Size: *f.Size, MD5: d})
	}
	return m, nil
}

func idx(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// ReportKey is a manifest.json's place in a report layout.
type ReportKey struct {
	Key      string
	ConfigID string
	// Stamp is the report's folder name, YYYY-MM-DDTHH-MMZ; newer stamps
	// sort after older ones.
	Stamp string
}

// ParseReportKey recognises base/CONFIG/YYYY-MM-DDTHH-MMZ/manifest.json,
// where base is [destination-prefix/]source-bucket.
func ParseReportKey(key, base string) (ReportKey, bool) {
	rest, ok := strings.CutPrefix(key, strings.Trim(base, "/")+"/")
	if !ok {
		return ReportKey{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[2] != "manifest.json" || parts[0] == "" {
		return ReportKey{}, false
	}
	if _, err := time.Parse("2006-01-02T15-04Z", parts[1]); err != nil {
		return ReportKey{}, false
	}
	return ReportKey{Key: key, ConfigID: parts[0], Stamp: parts[1]}, true
}

// Newest picks the newest report of configID ("" = the only configuration
// reporting under base) from the keys seen. It names what it found when
// there is nothing to pick or the choice is ambiguous.
type Newest struct {
	Base, ConfigID string
	best           map[string]ReportKey // by config id
}

// Add considers one listed key.
func (n *Newest) Add(key string) {
	rk, ok := ParseReportKey(key, n.Base)
	if !ok || (n.ConfigID != "" && rk.ConfigID != n.ConfigID) {
		return
	}
	if n.best == nil {
		n.best = map[string]ReportKey{}
	}
	if b, ok := n.best[rk.ConfigID]; !ok || rk.Stamp > b.Stamp {
		n.best[rk.ConfigID] = rk
	}
}

// Result is the newest manifest key, or why there is none.
func (n *Newest) Result() (ReportKey, error) {
	switch len(n.best) {
	case 0:
		what := "any inventory"
		if n.ConfigID != "" {
			what = "inventory " + n.ConfigID
		}
		return ReportKey{}, invalidf("no manifest.json of %s under %s/: has the inventory run yet, and is the destination bucket/prefix right?", what, n.Base)
	case 1:
		for _, rk := range n.best {
			return rk, nil
		}
	}
	var ids []string
	for id := range n.best {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ReportKey{}, invalidf("several inventories report under %s/ (%s): name the one to read", n.Base, strings.Join(ids, ", "))
}

// Copy copies the data file f from src to dst and checks that exactly
// f.Size bytes with f.MD5 arrived: a truncated, extended or altered file is
// an ErrInvalid error naming it. dst has then received everything read.
func Copy(dst io.Writer, src io.Reader, f File) error {
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(dst, h), io.LimitReader(src, f.Size+1))
	if err != nil {
		return fmt.Errorf("inventory: read %s: %w", f.Key, err)
	}
	return check(f, n, h)
}

func check(f File, n int64, h hash.Hash) error {
	switch {
	case n < f.Size:
		return invalidf("data file %s has %d bytes, the manifest says %d: it is truncated", f.Key, n, f.Size)
	case n > f.Size:
		return invalidf("data file %s is longer than the %d bytes the manifest says: it was replaced or extended", f.Key, f.Size)
	}
	if got := h.Sum(nil); !bytes.Equal(got, f.MD5) {
		return invalidf("data file %s has MD5 %x, the manifest says %x: it was altered after the report was written", f.Key, got, f.MD5)
	}
	return nil
}
