// Package invreport writes bucket inventory reports, as OSS Bucket
// Inventory and S3 Inventory publish them, into the destination bucket of
// an inventory configuration (package objstore keeps the configurations;
// the front ends speak their XML). Real services run a configuration daily
// or weekly; the reference runs one when its admin hook is called
// (embedded.Reference.RunInventory), so tests control when a report
// appears.
//
// Layout, in the dialect of the front end that put the configuration:
//
//	OSS: [destination-prefix/]source-bucket/inventory-id/YYYY-MM-DDTHH-MMZ/manifest.json
//	     [destination-prefix/]source-bucket/inventory-id/YYYY-MM-DDTHH-MMZ/manifest.checksum
//	     [destination-prefix/]source-bucket/inventory-id/data/UUID.csv.gz, UUID-1.csv.gz, ...
//	S3:  [destination-prefix/]source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json
//	     [destination-prefix/]source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.checksum
//	     [destination-prefix/]source-bucket/config-ID/hive/dt=YYYY-MM-DD-HH-MM/symlink.txt
//	     [destination-prefix/]source-bucket/config-ID/data/UUID.csv.gz, ...
//
// Data files are gzipped CSV with every value quoted and keys URL-encoded
// (form encoding, as both services document "URL-encoded" keys); columns
// are Bucket, Key, then VersionId, IsLatest, IsDeleteMarker when all
// versions are included, then the optional fields in each service's
// canonical order, named in the manifest's fileSchema. The manifest lists
// every data file with its size and MD5 (upper-case hex on OSS, lower-case
// on S3); manifest.checksum holds the MD5 of manifest.json; the manifest
// is written last, so a reader that finds it finds every file it names.
//
// EncryptionStatus is what each service documents: on S3 NOT-SSE, SSE-S3,
// SSE-KMS (DSSE-KMS and SSE-C the reference never stores); on OSS true or
// false. BucketKeyStatus (S3) is DISABLED for SSE-KMS objects (the
// reference has no bucket keys) and empty otherwise. Fields the reference
// does not model are written with their neutral value (ObjectAcl
// "default", TaggingCount 0, ReplicationStatus and object lock fields
// empty).
//
// An S3 configuration with Format Parquet gets Parquet data files
// (UUID.parquet; see parquet.go for the columns) and the Parquet message
// schema as fileSchema, as S3 writes them. ORC is not written (no
// maintained pure-Go ORC library could be had): such a configuration,
// like any format but CSV on OSS, fails the run with an error saying so.
//
// It reads and writes only through objstore's public API, as the bucket
// owner (the principal a real service assumes a role of): it must not
// reach into the store's files, and it never changes the source bucket.
package invreport

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Store is what a run needs of the object store.
type Store interface {
	objstore.Store
	objstore.InventoryStore
}

// DefaultRowsPerFile is how many rows a data file holds before the next
// one starts.
const DefaultRowsPerFile = 1_000_000

// Options tune a run.
type Options struct {
	// Now is the report's time (its folder and creationTimestamp);
	// default time.Now.
	Now time.Time
	// RowsPerFile splits the data files (default DefaultRowsPerFile).
	RowsPerFile int
}

// Report says what a run wrote.
type Report struct {
	// ManifestKey is the manifest.json's key in DestBucket.
	DestBucket, ManifestKey string
	// DataKeys are the data files, in manifest order.
	DataKeys []string
	Rows     int64
	AsOf     time.Time
}

// Canonical column orders of the optional fields.
var (
	ossFields = []string{"Size", "LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded", "EncryptionStatus",
		"TransitionTime", "ObjectAcl", "TaggingCount", "ObjectType", "Crc64"}
	s3Fields = []string{"Size", "LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded", "ReplicationStatus",
		"EncryptionStatus", "ObjectLockRetainUntilDate", "ObjectLockMode", "ObjectLockLegalHoldStatus",
		"ObjectLockEventHoldStatus", "ObjectLockEventHoldDuration", "IntelligentTieringAccessTier", "BucketKeyStatus",
		"ChecksumAlgorithm", "ObjectAccessControlList", "ObjectOwner", "LifecycleExpirationDate", "IntelligentTieringReferenceDate"}
)

// Run writes one report of bucket's inventory configuration id. admin is
// the principal allowed to read the bucket's record (the reference's
// root); everything else is done as the bucket's owner.
func Run(ctx context.Context, st Store, admin objstore.Principal, bucket, id string, opts Options) (Report, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC()
	if opts.RowsPerFile <= 0 {
		opts.RowsPerFile = DefaultRowsPerFile
	}
	b, err := st.GetBucket(ctx, admin, bucket)
	if err != nil {
		return Report{}, fmt.Errorf("invreport: bucket %s: %w", bucket, err)
	}
	owner := objstore.Principal{Name: b.Owner}
	cfg, err := st.GetBucketInventory(ctx, owner, bucket, id)
	if err != nil {
		return Report{}, fmt.Errorf("invreport: inventory %s of %s: %w", id, bucket, err)
	}
	if !cfg.Enabled {
		return Report{}, fmt.Errorf("invreport: inventory %s of %s is disabled (IsEnabled false): enable it to run it", id, bucket)
	}
	switch {
	case cfg.Format == "CSV":
	case cfg.Format == "Parquet" && cfg.Dialect == objstore.InventoryDialectS3:
	default:
		return Report{}, fmt.Errorf("invreport: inventory %s of %s asks for %s: the reference writes CSV inventories, and Parquet in the S3 dialect (ORC is not written: no maintained pure-Go ORC library)", id, bucket, cfg.Format)
	}
	if _, err := st.GetBucket(ctx, owner, cfg.DestBucket); err != nil {
		return Report{}, fmt.Errorf("invreport: destination bucket %s: %w", cfg.DestBucket, err)
	}
	w := &writer{st: st, owner: owner, cfg: cfg, src: bucket, opts: opts}
	w.base = joinKey(cfg.DestPrefix, bucket, id)
	w.columns = columns(cfg)
	w.putOpts.ContentType = "application/x-gzip"
	if cfg.Format == "Parquet" {
		w.schema, w.fileSchema = parquetSchema(w.columns)
		w.putOpts.ContentType = "application/octet-stream"
	}
	switch cfg.Encryption {
	case "SSE-OSS", "SSE-S3":
		w.putOpts.SSE = objstore.SSE{Algorithm: objstore.AlgorithmAES256}
	case "SSE-KMS":
		w.putOpts.SSE = objstore.SSE{Algorithm: objstore.AlgorithmKMS, KMSKeyID: cfg.EncryptionKeyID}
	}
	w.uuid = newUUID()
	if err := w.rows(ctx); err != nil {
		return Report{}, err
	}
	return w.finish(ctx)
}

type dataFile struct {
	key  string
	size int64
	md5  []byte
}

type writer struct {
	st      Store
	owner   objstore.Principal
	cfg     objstore.InventoryConfig
	src     string
	opts    Options
	base    string
	columns []string
	// schema and fileSchema: a Parquet report's (nil for CSV).
	schema     *parquet.Schema
	fileSchema string
	putOpts    objstore.PutOptions
	uuid       string

	files []dataFile
	rowsN int64
	cur   *openFile
}

// openFile is a data file being streamed into PutObject.
type openFile struct {
	key  string
	pw   *io.PipeWriter
	gz   *gzip.Writer
	bw   *bufio.Writer
	pq   *parquet.GenericWriter[any] // instead of gz and bw for Parquet
	pqs  []parquet.Row               // rows not yet handed to pq
	sum  hash.Hash
	size *int64
	rows int
	done chan error
}

func (w *writer) isS3() bool { return w.cfg.Dialect == objstore.InventoryDialectS3 }

func (w *writer) open(ctx context.Context) {
	n := len(w.files)
	name := w.uuid
	switch {
	case w.isS3() && n > 0:
		name = newUUID()
	case n > 0:
		name = w.uuid + "-" + strconv.Itoa(n)
	}
	ext := ".csv.gz"
	if w.schema != nil {
		ext = ".parquet"
	}
	f := &openFile{key: joinKey(w.base, "data", name+ext), sum: md5.New(), size: new(int64), done: make(chan error, 1)}
	pr, pw := io.Pipe()
	f.pw = pw
	counted := io.TeeReader(pr, io.MultiWriter(f.sum, countWriter{f.size}))
	go func() {
		_, err := w.st.PutObject(ctx, w.owner, w.cfg.DestBucket, f.key, counted, -1, w.putOpts)
		pr.CloseWithError(err) // unblocks the writer if the put failed early
		f.done <- err
	}()
	if w.schema != nil {
		f.pq = newParquetWriter(pw, w.schema)
	} else {
		f.gz = gzip.NewWriter(pw)
		f.bw = bufio.NewWriterSize(f.gz, 64<<10)
	}
	w.cur = f
}

func (w *writer) closeFile() error {
	f := w.cur
	w.cur = nil
	var err error
	if f.pq != nil {
		if err = f.flushParquet(); err == nil {
			err = f.pq.Close()
		}
	} else if err = f.bw.Flush(); err == nil {
		err = f.gz.Close()
	}
	f.pw.CloseWithError(err)
	if perr := <-f.done; perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return fmt.Errorf("invreport: write %s/%s: %w", w.cfg.DestBucket, f.key, err)
	}
	w.files = append(w.files, dataFile{key: f.key, size: *f.size, md5: f.sum.Sum(nil)})
	return nil
}

func (w *writer) row(ctx context.Context, o objstore.ObjectInfo) error {
	if w.cur == nil {
		w.open(ctx)
	}
	if w.cur.pq != nil {
		w.cur.pqs = append(w.cur.pqs, w.parquetRow(o))
		if len(w.cur.pqs) >= parquetRowsPerBatch {
			if err := w.cur.flushParquet(); err != nil {
				return fmt.Errorf("invreport: write %s: %w", w.cur.key, err)
			}
		}
		return w.counted()
	}
	bw := w.cur.bw
	for i, c := range w.columns {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('"')
		bw.WriteString(strings.ReplaceAll(w.value(c, o), `"`, `""`))
		bw.WriteByte('"')
	}
	if err := bw.WriteByte('\n'); err != nil {
		return fmt.Errorf("invreport: write %s: %w", w.cur.key, err)
	}
	return w.counted()
}

// counted counts the row just written and ends the file when it is full.
func (w *writer) counted() error {
	w.rowsN++
	w.cur.rows++
	if w.cur.rows >= w.opts.RowsPerFile {
		return w.closeFile()
	}
	return nil
}

// rows lists the source bucket (current objects, or every version and
// delete marker) and writes one row per entry the configuration's filter
// matches (objstore.InventoryConfig.Matches: prefix, time, size and
// storage class bounds); the others are not listed, as OSS leaves them out.
func (w *writer) rows(ctx context.Context) (err error) {
	defer func() {
		if err != nil && w.cur != nil {
			w.cur.pw.CloseWithError(err)
			<-w.cur.done
		}
	}()
	if w.cfg.IncludedVersions == "All" {
		opts := objstore.ListVersionsOptions{Prefix: w.cfg.Prefix}
		for {
			page, err := w.st.ListObjectVersions(ctx, w.owner, w.src, opts)
			if err != nil {
				return fmt.Errorf("invreport: list versions of %s: %w", w.src, err)
			}
			for _, o := range page.Versions {
				if !w.cfg.Matches(o) {
					continue
				}
				if err := w.row(ctx, o); err != nil {
					return err
				}
			}
			if !page.IsTruncated {
				break
			}
			opts.KeyMarker, opts.VersionIDMarker = page.NextKeyMarker, page.NextVersionIDMarker
		}
	} else {
		opts := objstore.ListOptions{Prefix: w.cfg.Prefix}
		for {
			page, err := w.st.ListObjects(ctx, w.owner, w.src, opts)
			if err != nil {
				return fmt.Errorf("invreport: list %s: %w", w.src, err)
			}
			for _, o := range page.Objects {
				o.IsLatest = true
				if !w.cfg.Matches(o) {
					continue
				}
				if err := w.row(ctx, o); err != nil {
					return err
				}
			}
			if !page.IsTruncated {
				break
			}
			opts.After = page.NextAfter
		}
	}
	if w.cur != nil {
		return w.closeFile()
	}
	return nil
}

type manifestFileOSS struct {
	MD5  string `json:"MD5checksum"`
	Key  string `json:"key"`
	Size int64  `json:"size"`
}

type manifestOSS struct {
	CreationTimestamp string            `json:"creationTimestamp"`
	DestinationBucket string            `json:"destinationBucket"`
	FileFormat        string            `json:"fileFormat"`
	FileSchema        string            `json:"fileSchema"`
	Files             []manifestFileOSS `json:"files"`
	SourceBucket      string            `json:"sourceBucket"`
	Version           string            `json:"version"`
}

type manifestFileS3 struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	MD5  string `json:"MD5checksum"`
}

type manifestS3 struct {
	SourceBucket      string           `json:"sourceBucket"`
	DestinationBucket string           `json:"destinationBucket"`
	Version           string           `json:"version"`
	CreationTimestamp string           `json:"creationTimestamp"`
	FileFormat        string           `json:"fileFormat"`
	FileSchema        string           `json:"fileSchema"`
	Files             []manifestFileS3 `json:"files"`
}

// finish writes the S3 symlink, manifest.json and manifest.checksum.
func (w *writer) finish(ctx context.Context) (Report, error) {
	now := w.opts.Now
	dir := joinKey(w.base, now.Format("2006-01-02T15-04Z"))
	schema := strings.Join(w.columns, ", ")
	if w.schema != nil {
		schema = w.fileSchema
	}
	var doc any
	hexOf := hex.EncodeToString
	if w.isS3() {
		m := manifestS3{SourceBucket: w.src, DestinationBucket: "arn:aws:s3:::" + w.cfg.DestBucket, Version: "2016-11-30",
			CreationTimestamp: strconv.FormatInt(now.UnixMilli(), 10), FileFormat: w.cfg.Format, FileSchema: schema,
			Files: []manifestFileS3{}}
		var links strings.Builder
		for _, f := range w.files {
			m.Files = append(m.Files, manifestFileS3{Key: f.key, Size: f.size, MD5: hexOf(f.md5)})
			links.WriteString("s3://" + w.cfg.DestBucket + "/" + f.key + "\n")
		}
		hive := joinKey(w.base, "hive", "dt="+now.Format("2006-01-02-15-04"), "symlink.txt")
		if err := w.put(ctx, hive, []byte(links.String())); err != nil {
			return Report{}, err
		}
		doc = m
	} else {
		hexOf = func(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }
		m := manifestOSS{CreationTimestamp: strconv.FormatInt(now.Unix(), 10), DestinationBucket: w.cfg.DestBucket,
			FileFormat: w.cfg.Format, FileSchema: schema, Files: []manifestFileOSS{}, SourceBucket: w.src, Version: "2019-09-01"}
		for _, f := range w.files {
			m.Files = append(m.Files, manifestFileOSS{MD5: hexOf(f.md5), Key: f.key, Size: f.size})
		}
		doc = m
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return Report{}, fmt.Errorf("invreport: manifest: %w", err)
	}
	sum := md5.Sum(body)
	if err := w.put(ctx, joinKey(dir, "manifest.checksum"), []byte(hexOf(sum[:]))); err != nil {
		return Report{}, err
	}
	// The manifest last: whoever finds it finds every file it names.
	mkey := joinKey(dir, "manifest.json")
	if err := w.put(ctx, mkey, body); err != nil {
		return Report{}, err
	}
	r := Report{DestBucket: w.cfg.DestBucket, ManifestKey: mkey, Rows: w.rowsN, AsOf: now}
	for _, f := range w.files {
		r.DataKeys = append(r.DataKeys, f.key)
	}
	return r, nil
}

func (w *writer) put(ctx context.Context, key string, body []byte) error {
	opts := w.putOpts
	opts.ContentType = "application/json"
	if _, err := w.st.PutObject(ctx, w.owner, w.cfg.DestBucket, key, strings.NewReader(string(body)), int64(len(body)), opts); err != nil {
		return fmt.Errorf("invreport: write %s/%s: %w", w.cfg.DestBucket, key, err)
	}
	return nil
}

// columns is the fileSchema of cfg.
func columns(cfg objstore.InventoryConfig) []string {
	cols := []string{"Bucket", "Key"}
	if cfg.IncludedVersions == "All" {
		cols = append(cols, "VersionId", "IsLatest", "IsDeleteMarker")
	}
	order := ossFields
	if cfg.Dialect == objstore.InventoryDialectS3 {
		order = s3Fields
	}
	for _, f := range order {
		if slices.Contains(cfg.OptionalFields, f) {
			cols = append(cols, f)
		}
	}
	return cols
}

// value is column c of object o.
func (w *writer) value(c string, o objstore.ObjectInfo) string {
	s3 := w.isS3()
	switch c {
	case "Bucket":
		return w.src
	case "Key":
		return url.QueryEscape(o.Key)
	case "VersionId":
		return o.VersionID
	case "IsLatest":
		return strconv.FormatBool(o.IsLatest)
	case "IsDeleteMarker":
		return strconv.FormatBool(o.DeleteMarker)
	}
	if o.DeleteMarker {
		return "" // a delete marker has no size, etag or encryption
	}
	switch c {
	case "Size":
		return strconv.FormatInt(o.Size, 10)
	case "LastModifiedDate":
		return o.LastModified.UTC().Format("2006-01-02T15:04:05.000Z")
	case "ETag":
		if s3 {
			return strings.ToLower(o.ETag)
		}
		return strings.ToUpper(o.ETag)
	case "StorageClass":
		if s3 && o.StorageClass == objstore.StorageClassStandard {
			return "STANDARD"
		}
		return o.StorageClass
	case "IsMultipartUploaded":
		return strconv.FormatBool(o.Multipart)
	case "EncryptionStatus":
		if !s3 {
			return strconv.FormatBool(o.SSE.Algorithm != "")
		}
		switch o.SSE.Algorithm {
		case objstore.AlgorithmAES256:
			return "SSE-S3"
		case objstore.AlgorithmKMS:
			return "SSE-KMS"
		case "":
			return "NOT-SSE"
		}
		return o.SSE.Algorithm
	case "BucketKeyStatus":
		if o.SSE.Algorithm == objstore.AlgorithmKMS {
			return "DISABLED"
		}
		return ""
	case "ObjectType":
		if o.Multipart {
			return "Multipart"
		}
		return "Normal"
	case "ObjectAcl":
		return "default"
	case "TaggingCount":
		return "0"
	case "Crc64":
		return strconv.FormatUint(o.CRC64, 10)
	case "ChecksumAlgorithm":
		return o.Checksum.Algorithm
	}
	return ""
}

// joinKey joins key parts with "/", leaving out empty ones (an inventory
// without a destination prefix has no prefix folder).
func joinKey(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "/")
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

type countWriter struct{ n *int64 }

func (c countWriter) Write(p []byte) (int, error) { *c.n += int64(len(p)); return len(p), nil }

func (f *openFile) flushParquet() error {
	if len(f.pqs) == 0 {
		return nil
	}
	_, err := f.pq.WriteRows(f.pqs)
	f.pqs = f.pqs[:0]
	return err
}
