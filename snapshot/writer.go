package snapshot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrClosed is returned by every Writer call after Close.
var ErrClosed = errors.New("snapshot: writer is closed")

// writer states, in the order the document is written.
const (
	stBuckets = iota // inside "buckets", between buckets
	stBucket         // inside a bucket's "objects"
	stKeys           // inside "keys"
	stClosed
)

// Writer streams one snapshot document to an io.Writer in the layout of
// the package comment. It holds one bucket's header at a time (plus, for
// Summary, every bucket's header without objects), never the objects, so
// its memory does not grow with the number of objects.
//
// Calls must come in document order: BeginBucket, Object..., EndBucket for
// each bucket (in ascending name order), then Key for each key, then
// Close. A Writer is for one goroutine; the scanner serialises its writes.
// Close may be called in any state (a cancelled scan calls it in the middle
// of a bucket): it closes whatever is open, so the output is always one
// valid JSON document. The first write error is sticky and returned by
// every later call; the document is then incomplete on disk.
//
// The Writer never closes the underlying io.Writer.
type Writer struct {
	bw  *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
	now func() time.Time

	err   error
	state int

	prov      Provenance
	buckets   []Bucket // headers and counts, no objects
	cur       Bucket
	first     bool // no element written yet in the open array
	written   int64
	noError   int64
	keys      []Key
	keySeen   map[string]bool
	summary   Summary
	lastName  string
	anyBucket bool
}

// WriterOption adjusts a Writer.
type WriterOption func(*Writer)

// WithClock sets the clock for finished_at (default time.Now).
func WithClock(now func() time.Time) WriterOption {
	return func(w *Writer) {
		if now != nil {
			w.now = now
		}
	}
}

// NewWriter writes the document's opening (schema, provenance) and opens
// "buckets".
func NewWriter(w io.Writer, p Provenance, opts ...WriterOption) (*Writer, error) {
	if w == nil {
		return nil, errors.New("snapshot: NewWriter needs an io.Writer")
	}
	sw := &Writer{bw: bufio.NewWriterSize(w, 256<<10), now: time.Now, first: true, keySeen: map[string]bool{}}
	sw.enc = json.NewEncoder(&sw.buf)
	sw.enc.SetEscapeHTML(false)
	for _, o := range opts {
		o(sw)
	}
	if p.Regions == nil {
		p.Regions = []string{}
	}
	sw.prov = p
	sw.raw(`{"schema":`)
	sw.value(Schema)
	sw.raw(",\n\"provenance\":")
	sw.value(p)
	sw.raw(",\n\"buckets\":[")
	if sw.err != nil {
		return nil, sw.err
	}
	return sw, nil
}

// raw writes s unless an error is pending.
func (w *Writer) raw(s string) {
	if w.err != nil {
		return
	}
	if _, err := w.bw.WriteString(s); err != nil {
		w.err = fmt.Errorf("snapshot: write: %w", err)
	}
}

// encode marshals v (no HTML escaping, no trailing newline) into w.buf.
func (w *Writer) encode(v any) []byte {
	w.buf.Reset()
	if err := w.enc.Encode(v); err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("snapshot: encode %T: %w", v, err)
		}
		return nil
	}
	return bytes.TrimSuffix(w.buf.Bytes(), []byte("\n"))
}

func (w *Writer) value(v any) {
	b := w.encode(v)
	if w.err != nil {
		return
	}
	if _, err := w.bw.Write(b); err != nil {
		w.err = fmt.Errorf("snapshot: write: %w", err)
	}
}

// sep writes the separator before an array element.
func (w *Writer) sep() {
	if w.first {
		w.first = false
		w.raw("\n")
		return
	}
	w.raw(",\n")
}

func (w *Writer) check(want int, call string) error {
	if w.err != nil {
		return w.err
	}
	if w.state == stClosed {
		return ErrClosed
	}
	if w.state != want {
		names := map[int]string{stBuckets: "between buckets", stBucket: "inside a bucket", stKeys: "in keys"}
		return fmt.Errorf("snapshot: %s called %s: calls must follow the document order (BeginBucket, Object..., EndBucket per bucket, then Key..., then Close)", call, names[w.state])
	}
	return nil
}

// bucketHead is what BeginBucket writes: the fields known before listing.
type bucketHead struct {
	Name            string    `json:"name"`
	Region          string    `json:"region"`
	CreationDate    time.Time `json:"creation_date"`
	Encryption      *Rule     `json:"encryption"`
	EncryptionError *Error    `json:"encryption_error,omitempty"`
	RegionError     *Error    `json:"region_error,omitempty"`
	Versioning      string    `json:"versioning,omitempty"`
	VersioningError *Error    `json:"versioning_error,omitempty"`
	VersionsInsp    bool      `json:"versions_inspected,omitempty"`
	ACL             *ACL      `json:"acl,omitempty"`
	ACLError        *Error    `json:"acl_error,omitempty"`
	Policy          *Policy   `json:"policy,omitempty"`
	PolicyError     *Error    `json:"policy_error,omitempty"`
	SSECBlocked     *bool     `json:"ssec_blocked,omitempty"`
	ReadAt          time.Time `json:"read_at"`
}

// bucketTail is what EndBucket writes after the objects.
type bucketTail struct {
	ObjectsListed    int64  `json:"objects_listed"`
	ObjectsInspected int64  `json:"objects_inspected"`
	ListError        *Error `json:"list_error,omitempty"`
}

// BeginBucket writes b's fields known before listing (name, region,
// creation date, rule or rule error, read time) and opens its "objects".
// b.Objects, ObjectsListed, ObjectsInspected and ListError are ignored
// (EndBucket writes the counts). Names must be non-empty, unique and
// ascending.
func (w *Writer) BeginBucket(b Bucket) error {
	if err := w.check(stBuckets, "BeginBucket"); err != nil {
		return err
	}
	if b.Name == "" {
		return errors.New("snapshot: BeginBucket: the bucket has no name")
	}
	if w.anyBucket && b.Name <= w.lastName {
		return fmt.Errorf("snapshot: BeginBucket %q after %q: buckets must be written once each in ascending name order", b.Name, w.lastName)
	}
	w.anyBucket, w.lastName = true, b.Name
	b.Objects, b.ObjectsListed, b.ObjectsInspected, b.ListError = nil, 0, 0, nil
	w.cur = b
	w.written, w.noError = 0, 0
	w.sep()
	head := w.encode(bucketHead{b.Name, b.Region, b.CreationDate, b.Encryption, b.EncryptionError, b.RegionError, b.Versioning, b.VersioningError, b.VersionsInspected,
		b.ACL, b.ACLError, b.Policy, b.PolicyError, b.SSECBlocked, b.ReadAt})
	if w.err != nil {
		return w.err
	}
	// head is {...}: drop the closing brace to append "objects".
	if _, err := w.bw.Write(head[:len(head)-1]); err != nil {
		w.err = fmt.Errorf("snapshot: write: %w", err)
		return w.err
	}
	w.raw(`,"objects":[`)
	w.first = true
	w.state = stBucket
	return w.err
}

// Object writes one object of the open bucket. o.Bucket is set to the
// bucket's name when empty and must match it otherwise.
func (w *Writer) Object(o Object) error {
	if err := w.check(stBucket, "Object"); err != nil {
		return err
	}
	if o.Bucket == "" {
		o.Bucket = w.cur.Name
	} else if o.Bucket != w.cur.Name {
		return fmt.Errorf("snapshot: Object %q names bucket %q inside bucket %q", o.Key, o.Bucket, w.cur.Name)
	}
	w.sep()
	w.value(o)
	if w.err != nil {
		return w.err
	}
	w.written++
	if o.Error == nil {
		w.noError++
	}
	return nil
}

// EndBucket closes the open bucket with its counts: listed is the number
// of objects the listing returned, inspected those whose HEAD succeeded;
// listErr is set when the listing failed or stopped early. inspected must
// equal the number of objects written without an Error, and listed must
// be at least the number written: what was listed but not inspected is
// visible as listed > inspected, never dropped.
func (w *Writer) EndBucket(listed, inspected int64, listErr *Error) error {
	if err := w.check(stBucket, "EndBucket"); err != nil {
		return err
	}
	if inspected != w.noError {
		return fmt.Errorf("snapshot: EndBucket %q: inspected %d, but %d objects were written without an error", w.cur.Name, inspected, w.noError)
	}
	if listed < w.written {
		return fmt.Errorf("snapshot: EndBucket %q: listed %d, but %d objects were written", w.cur.Name, listed, w.written)
	}
	w.endBucket(listed, inspected, listErr)
	return w.err
}

func (w *Writer) endBucket(listed, inspected int64, listErr *Error) {
	w.raw("\n]")
	tail := w.encode(bucketTail{listed, inspected, listErr})
	if w.err != nil {
		return
	}
	w.raw(",")
	w.raw(string(tail[1:])) // {...} minus the opening brace
	w.cur.ObjectsListed, w.cur.ObjectsInspected, w.cur.ListError = listed, inspected, listErr
	w.buckets = append(w.buckets, w.cur)
	w.cur = Bucket{}
	w.first = false
	w.state = stBuckets
}

// Key writes a KMS key; the first call closes "buckets". Each (region,
// key id) may appear once.
func (w *Writer) Key(k Key) error {
	if w.err != nil {
		return w.err
	}
	if w.state == stBuckets {
		w.closeBuckets()
	}
	if err := w.check(stKeys, "Key"); err != nil {
		return err
	}
	if k.KeyID == "" {
		return errors.New("snapshot: Key: the key has no id")
	}
	id := k.Region + "\x00" + k.KeyID
	if w.keySeen[id] {
		return fmt.Errorf("snapshot: Key %q in region %q written twice", k.KeyID, k.Region)
	}
	w.keySeen[id] = true
	w.sep()
	w.value(k)
	if w.err == nil {
		w.keys = append(w.keys, k)
	}
	return w.err
}

func (w *Writer) closeBuckets() {
	if w.first {
		w.raw("]")
	} else {
		w.raw("\n]")
	}
	w.raw(",\n\"keys\":[")
	w.first = true
	w.state = stKeys
}

// incompleteBucket is the list error EndBucket records for a bucket still
// open at Close.
func incompleteBucket(name string) *Error {
	return &Error{Scope: "list", Resource: name, Code: "Incomplete", Message: "the snapshot was closed before this bucket was finished"}
}

// Close finishes the document: it ends an open bucket (counting what was
// written as listed, with a list error, and forcing complete to false),
// closes "buckets" and "keys", writes coverage, finished_at and complete,
// and flushes. c.Errors nil is written as []. Close returns the first
// error of the Writer's life; calling it again returns ErrClosed.
func (w *Writer) Close(c Coverage, complete bool) error {
	if w.err != nil {
		return w.err
	}
	if w.state == stClosed {
		return ErrClosed
	}
	if w.state == stBucket {
		le := incompleteBucket(w.cur.Name)
		w.endBucket(w.written, w.noError, le)
		c.Errors = append(c.Errors, *le)
		complete = false
	}
	if w.state == stBuckets {
		w.closeBuckets()
	}
	if w.first {
		w.raw("]")
	} else {
		w.raw("\n]")
	}
	if c.Errors == nil {
		c.Errors = []Error{}
	}
	finished := w.now().UTC()
	w.raw(",\n\"coverage\":")
	w.value(c)
	w.raw(",\n\"finished_at\":")
	w.value(finished)
	w.raw(",\n\"complete\":")
	w.value(complete)
	w.raw("}\n")
	if w.err == nil {
		if err := w.bw.Flush(); err != nil {
			w.err = fmt.Errorf("snapshot: write: %w", err)
		}
	}
	w.state = stClosed
	w.summary = Summary{Schema: Schema, Provenance: w.prov, Keys: w.keys, Coverage: c, FinishedAt: finished, Complete: complete, Buckets: w.buckets}
	if w.summary.Keys == nil {
		w.summary.Keys = []Key{}
	}
	if w.summary.Buckets == nil {
		w.summary.Buckets = []Bucket{}
	}
	return w.err
}

// Summary is what the document says without its objects, as ReadSummary
// would read it back; it is complete only after Close.
func (w *Writer) Summary() Summary {
	return w.summary
}
