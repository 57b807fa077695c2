package snapshot

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Summary is a snapshot without its objects: what ReadSummary returns and
// Writer.Summary reports. Buckets carry their headers and counts; their
// Objects are nil.
type Summary struct {
	Schema     string     `json:"schema"`
	Provenance Provenance `json:"provenance"`
	Keys       []Key      `json:"keys"`
	Coverage   Coverage   `json:"coverage"`
	FinishedAt time.Time  `json:"finished_at"`
	Complete   bool       `json:"complete"`
	Buckets    []Bucket   `json:"buckets"`
}

// ErrSchema is wrapped by the error for a document that is not a snapshot
// of this schema version.
var ErrSchema = errors.New("snapshot: unsupported schema")

// ErrFormat is wrapped by every error for a document that does not follow
// the layout (malformed or truncated JSON, unknown or missing members).
var ErrFormat = errors.New("snapshot: malformed document")

// ReadSummary reads path through once and returns everything but the
// objects. Memory is bounded by the number of buckets and keys, not
// objects. The schema is checked strictly: an unknown schema version,
// unknown members, missing members or trailing data are errors.
func ReadSummary(path string) (Summary, error) {
	r, err := openReader(path)
	if err != nil {
		return Summary{}, err
	}
	defer r.close()
	return r.summary()
}

func (r *reader) summary() (Summary, error) {
	for {
		b, err := r.next(false)
		if err != nil {
			return Summary{}, err
		}
		if b == nil {
			break
		}
		r.sum.Buckets = append(r.sum.Buckets, *b)
	}
	if r.sum.Buckets == nil {
		r.sum.Buckets = []Bucket{}
	}
	return r.sum, nil
}

// EachBucket calls fn for every bucket of path in file order, with
// b.Objects holding that bucket's objects only; memory is bounded by the
// largest bucket. An error from fn stops the walk and is returned as is.
// The whole document is validated as for ReadSummary (a malformed tail is
// reported after the buckets before it were passed to fn). Keys come after
// the buckets in the file: read them with ReadSummary first when needed.
func EachBucket(path string, fn func(b Bucket) error) error {
	r, err := openReader(path)
	if err != nil {
		return err
	}
	defer r.close()
	for {
		b, err := r.next(true)
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		if err := fn(*b); err != nil {
			return err
		}
	}
}

// Digest is the lowercase hex SHA-256 of the file at path (for provenance
// and signing).
func Digest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("snapshot: digest: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("snapshot: digest %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// reader parses a document incrementally: top-level members until
// "buckets", then one bucket per next call, then the rest.
type reader struct {
	path string
	f    io.Closer
	dec  *json.Decoder

	sum       Summary
	seen      map[string]bool
	inBuckets bool
	done      bool
	obj       Object // scratch for skipped objects
}

// Top-level members in the order the Writer writes them; all are required.
var topMembers = []string{"schema", "provenance", "buckets", "keys", "coverage", "finished_at", "complete"}

func openReader(path string) (*reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot: open: %w", err)
	}
	r, err := newReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.f = f
	return r, nil
}

// newReader starts reading a document from in; name is for errors.
func newReader(in io.Reader, name string) (*reader, error) {
	r := &reader{path: name, f: io.NopCloser(nil), dec: json.NewDecoder(bufio.NewReaderSize(in, 256<<10)), seen: map[string]bool{}}
	r.dec.DisallowUnknownFields()
	if err := r.start(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reader) close() { r.f.Close() }

func (r *reader) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s (offset %d): %s", ErrFormat, r.path, r.dec.InputOffset(), fmt.Sprintf(format, args...))
}

func (r *reader) wrap(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.fail("%s: the document ends early (truncated file?)", what)
	}
	return r.fail("%s: %v", what, err)
}

func (r *reader) delim(want json.Delim, what string) error {
	t, err := r.dec.Token()
	if err != nil {
		return r.wrap(what, err)
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return r.fail("%s: want %q, found %v", what, string(want), t)
	}
	return nil
}

func (r *reader) key(what string) (string, error) {
	t, err := r.dec.Token()
	if err != nil {
		return "", r.wrap(what, err)
	}
	k, ok := t.(string)
	if !ok {
		return "", r.fail("%s: want a member name, found %v", what, t)
	}
	return k, nil
}

func (r *reader) decode(v any, what string) error {
	if err := r.dec.Decode(v); err != nil {
		return r.wrap(what, err)
	}
	return nil
}

// start reads the opening brace and the schema member, which must come
// first so that a foreign or future document is refused before anything
// else is read.
func (r *reader) start() error {
	if err := r.delim('{', "document"); err != nil {
		return err
	}
	k, err := r.key("document")
	if err != nil {
		return err
	}
	if k != "schema" {
		return fmt.Errorf("%w: %s: the first member is %q, not \"schema\": this is not an sseaudit snapshot", ErrSchema, r.path, k)
	}
	var s string
	if err := r.decode(&s, "schema"); err != nil {
		return err
	}
	if s != Schema {
		return fmt.Errorf("%w: %s has schema %q; this build reads %q only (use the sseaudit version that wrote it)", ErrSchema, r.path, s, Schema)
	}
	r.sum.Schema = s
	r.seen["schema"] = true
	return nil
}

// next returns the next bucket, or nil when there are no more (the whole
// document has then been read and validated).
func (r *reader) next(withObjects bool) (*Bucket, error) {
	for {
		if r.inBuckets {
			if r.dec.More() {
				return r.bucket(withObjects)
			}
			if err := r.delim(']', "buckets"); err != nil {
				return nil, err
			}
			r.inBuckets = false
			continue
		}
		if r.done {
			return nil, nil
		}
		if !r.dec.More() {
			if err := r.finish(); err != nil {
				return nil, err
			}
			continue
		}
		k, err := r.key("document")
		if err != nil {
			return nil, err
		}
		if r.seen[k] {
			return nil, r.fail("member %q appears twice", k)
		}
		r.seen[k] = true
		switch k {
		case "provenance":
			err = r.decode(&r.sum.Provenance, k)
		case "buckets":
			if err = r.delim('[', k); err == nil {
				r.inBuckets = true
			}
		case "keys":
			err = r.keys()
		case "coverage":
			err = r.decode(&r.sum.Coverage, k)
		case "finished_at":
			err = r.decode(&r.sum.FinishedAt, k)
		case "complete":
			err = r.decode(&r.sum.Complete, k)
		default:
			err = r.fail("unknown member %q", k)
		}
		if err != nil {
			return nil, err
		}
	}
}

func (r *reader) keys() error {
	if err := r.delim('[', "keys"); err != nil {
		return err
	}
	r.sum.Keys = []Key{}
	for r.dec.More() {
		var k Key
		if err := r.decode(&k, "key"); err != nil {
			return err
		}
		r.sum.Keys = append(r.sum.Keys, k)
	}
	return r.delim(']', "keys")
}

// finish checks the closing brace, the required members and that nothing
// follows.
func (r *reader) finish() error {
	if err := r.delim('}', "document"); err != nil {
		return err
	}
	for _, m := range topMembers {
		if !r.seen[m] {
			return r.fail("member %q is missing (the document was not closed by its writer?)", m)
		}
	}
	if _, err := r.dec.Token(); err != io.EOF {
		return r.fail("data after the end of the document")
	}
	r.done = true
	return nil
}

// bucket reads one bucket object; objects are kept only withObjects (they
// are decoded, and so validated, either way).
func (r *reader) bucket(withObjects bool) (*Bucket, error) {
	if err := r.delim('{', "bucket"); err != nil {
		return nil, err
	}
	b := &Bucket{}
	seen := map[string]bool{}
	for r.dec.More() {
		k, err := r.key("bucket")
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, r.fail("bucket %q: member %q appears twice", b.Name, k)
		}
		seen[k] = true
		var v any
		switch k {
		case "name":
			v = &b.Name
		case "region":
			v = &b.Region
		case "creation_date":
			v = &b.CreationDate
		case "encryption":
			v = &b.Encryption
		case "encryption_error":
			v = &b.EncryptionError
		case "region_error":
			v = &b.RegionError
		case "versioning":
			v = &b.Versioning
		case "versioning_error":
			v = &b.VersioningError
		case "versions_inspected":
			v = &b.VersionsInspected
		case "list_error":
			v = &b.ListError
		case "objects_listed":
			v = &b.ObjectsListed
		case "objects_inspected":
			v = &b.ObjectsInspected
		case "read_at":
			v = &b.ReadAt
		case "objects":
			if err := r.objects(b, withObjects); err != nil {
				return nil, err
			}
			continue
		default:
			return nil, r.fail("bucket %q: unknown member %q", b.Name, k)
		}
		if err := r.decode(v, "bucket "+k); err != nil {
			return nil, err
		}
	}
	if err := r.delim('}', "bucket"); err != nil {
		return nil, err
	}
	for _, m := range []string{"name", "objects", "objects_listed", "objects_inspected"} {
		if !seen[m] {
			return nil, r.fail("bucket %q: member %q is missing", b.Name, m)
		}
	}
	if b.Name == "" {
		return nil, r.fail("a bucket has an empty name")
	}
	if withObjects && b.Objects == nil {
		b.Objects = []Object{}
	}
	return b, nil
}

func (r *reader) objects(b *Bucket, keep bool) error {
	if b.Name == "" {
		return r.fail("bucket objects come before the bucket's name")
	}
	if err := r.delim('[', "objects"); err != nil {
		return err
	}
	for r.dec.More() {
		o := &r.obj
		if keep {
			b.Objects = append(b.Objects, Object{})
			o = &b.Objects[len(b.Objects)-1]
		} else {
			*o = Object{}
		}
		if err := r.decode(o, "object"); err != nil {
			return err
		}
		if o.Bucket != b.Name {
			return r.fail("object %q in bucket %q names bucket %q", o.Key, b.Name, o.Bucket)
		}
	}
	return r.delim(']', "objects")
}
