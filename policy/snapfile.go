package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sseaudit/sseaudit/snapshot"
)

// The engine's fast path over a snapshot file. package snapshot decodes
// every object into Go structs with encoding/json (about 6 us per object
// and pass, 13 s for the two passes over a million objects); evaluation
// needs AST values, not structs. So for files the engine:
//
//   - reads the summary with a byte-level scan that skips the objects
//     arrays and decodes everything else strictly into package snapshot's
//     types (unknown members, missing members, a wrong schema or trailing
//     data are errors, as in snapshot.ReadSummary);
//   - then slices each bucket's raw JSON out of the file, and the workers
//     parse it straight into AST terms in parallel (jsonast.go), checking
//     that each object names its bucket.
//
// Tests check the result equals snapshot.ReadSummary / snapshot.EachBucket.

// byteScanner reads a JSON document structurally, without building values.
type byteScanner struct {
	r    io.Reader
	buf  []byte
	pos  int
	off  int64 // file offset of buf[0]
	err  error // read error (io.EOF at the end)
	path string
}

func newByteScanner(r io.Reader, path string) *byteScanner {
	return &byteScanner{r: r, buf: make([]byte, 0, 1<<20), path: path}
}

func (s *byteScanner) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s: offset %d: %s", snapshot.ErrFormat, s.path, s.off+int64(s.pos), fmt.Sprintf(format, args...))
}

// fill makes more bytes available; false at the end of input.
func (s *byteScanner) fill() bool {
	if s.err != nil {
		return false
	}
	if s.pos > 0 {
		n := copy(s.buf[:cap(s.buf)], s.buf[s.pos:])
		s.off += int64(s.pos)
		s.buf = s.buf[:n]
		s.pos = 0
	}
	if len(s.buf) == cap(s.buf) {
		nb := make([]byte, len(s.buf), 2*cap(s.buf))
		copy(nb, s.buf)
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if err != nil {
		s.err = err
	}
	return n > 0 || err == nil
}

// peek returns the next non-whitespace byte without consuming it.
func (s *byteScanner) peek() (byte, error) {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, nil
			}
		}
		if !s.fill() {
			return 0, s.eofErr()
		}
	}
}

func (s *byteScanner) eofErr() error {
	if s.err != nil && !errors.Is(s.err, io.EOF) {
		return fmt.Errorf("snapshot: read %s: %w", s.path, s.err)
	}
	return s.fail("unexpected end of document (truncated?)")
}

func (s *byteScanner) expect(c byte) error {
	got, err := s.peek()
	if err != nil {
		return err
	}
	if got != c {
		return s.fail("want %q, found %q", c, got)
	}
	s.pos++
	return nil
}

// structural marks the bytes value() must look at outside strings.
var structural = func() (t [256]bool) {
	for _, c := range []byte(`"{}[]`) {
		t[c] = true
	}
	return
}()

// value appends the raw bytes of the next JSON value to dst (when keep) or
// skips it. It checks nesting and strings, not the grammar of scalars
// (parsing the captured bytes does).
func (s *byteScanner) value(dst []byte, keep bool) ([]byte, error) {
	c, err := s.peek()
	if err != nil {
		return dst, err
	}
	if c != '{' && c != '[' && c != '"' {
		return s.scalar(dst, keep)
	}
	depth := 0
	inStr := false
	for {
		start := s.pos
		buf := s.buf
		i := s.pos
	scan:
		for i < len(buf) {
			if inStr {
				// Jump to the next quote: it ends the string unless an odd
				// number of backslashes precede it. A chunk never ends in
				// the middle of a run of backslashes (see below), so the run
				// before a quote lies within buf[start:i].
				q := bytes.IndexByte(buf[i:], '"')
				if q < 0 {
					j := len(buf)
					for j > i && buf[j-1] == '\\' {
						j--
					}
					i = j
					break
				}
				i += q
				bs := 0
				for j := i - 1; j >= start && buf[j] == '\\'; j-- {
					bs++
				}
				i++
				if bs%2 == 1 {
					continue
				}
				inStr = false
				if depth == 0 {
					break scan
				}
				continue
			}
			c := buf[i]
			if !structural[c] {
				i++
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth < 0 {
					s.pos = i
					return dst, s.fail("unbalanced %q", c)
				}
				if depth == 0 {
					i++
					break scan
				}
			}
			i++
		}
		s.pos = i
		if keep {
			dst = append(dst, buf[start:i]...)
		}
		if depth == 0 && !inStr {
			return dst, nil
		}
		if !s.fill() {
			return dst, s.eofErr()
		}
	}
}

// scalar reads a number or literal up to the next delimiter.
func (s *byteScanner) scalar(dst []byte, keep bool) ([]byte, error) {
	for {
		start := s.pos
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if keep {
					dst = append(dst, s.buf[start:s.pos]...)
				}
				return dst, nil
			}
			s.pos++
		}
		if keep {
			dst = append(dst, s.buf[start:s.pos]...)
		}
		if !s.fill() {
			if s.err != nil && !errors.Is(s.err, io.EOF) {
				return dst, s.eofErr()
			}
			return dst, nil
		}
	}
}

// key reads a member name and the colon after it.
func (s *byteScanner) key() (string, error) {
	raw, err := s.value(nil, true)
	if err != nil {
		return "", err
	}
	var k string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &k) != nil {
		return "", s.fail("want a member name, found %.20q", raw)
	}
	if err := s.expect(':'); err != nil {
		return "", err
	}
	return k, nil
}

// more consumes a ',' and reports true, or sees close (not consumed) and
// reports false.
func (s *byteScanner) more(first bool, close byte) (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if c == close {
		return false, nil
	}
	if first {
		return true, nil
	}
	if c != ',' {
		return false, s.fail("want ',' or %q, found %q", close, c)
	}
	s.pos++
	return true, nil
}

func strictDecode(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the value")
	}
	return nil
}

var topMembers = []string{"schema", "provenance", "buckets", "keys", "coverage", "finished_at", "complete"}

// readSummaryFast is snapshot.ReadSummary without decoding objects.
func readSummaryFast(path string) (snapshot.Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return snapshot.Summary{}, fmt.Errorf("snapshot: open: %w", err)
	}
	defer f.Close()
	s := newByteScanner(f, path)
	var sum snapshot.Summary
	if err := s.expect('{'); err != nil {
		return sum, err
	}
	seen := map[string]bool{}
	var raw []byte
	for first := true; ; first = false {
		ok, err := s.more(first, '}')
		if err != nil {
			return sum, err
		}
		if !ok {
			break
		}
		k, err := s.key()
		if err != nil {
			return sum, err
		}
		if seen[k] {
			return sum, s.fail("member %q appears twice", k)
		}
		seen[k] = true
		if k == "buckets" {
			if sum.Buckets, err = s.bucketHeaders(); err != nil {
				return sum, err
			}
			continue
		}
		var v any
		switch k {
		case "schema":
			v = &sum.Schema
		case "provenance":
			v = &sum.Provenance
		case "keys":
			v = &sum.Keys
		case "coverage":
			v = &sum.Coverage
		case "finished_at":
			v = &sum.FinishedAt
		case "complete":
			v = &sum.Complete
		default:
			return sum, s.fail("unknown member %q", k)
		}
		at := s.off + int64(s.pos)
		if raw, err = s.value(raw[:0], true); err != nil {
			return sum, err
		}
		if err := strictDecode(raw, v); err != nil {
			return sum, fmt.Errorf("%w: %s: offset %d: %s: %v", snapshot.ErrFormat, path, at, k, err)
		}
		if k == "schema" && sum.Schema != snapshot.Schema {
			return sum, fmt.Errorf("%w: %s: schema %q, want %q", snapshot.ErrSchema, path, sum.Schema, snapshot.Schema)
		}
	}
	s.pos++ // }
	for _, m := range topMembers {
		if !seen[m] {
			return sum, s.fail("member %q is missing (the document was not closed by its writer?)", m)
		}
	}
	if _, err := s.peek(); err == nil {
		return sum, s.fail("data after the end of the document")
	} else if s.err != nil && !errors.Is(s.err, io.EOF) {
		return sum, err
	}
	if sum.Keys == nil {
		sum.Keys = []snapshot.Key{}
	}
	if sum.Buckets == nil {
		sum.Buckets = []snapshot.Bucket{}
	}
	return sum, nil
}

// bucketHeaders reads the buckets array, keeping each bucket without its
// objects.
func (s *byteScanner) bucketHeaders() ([]snapshot.Bucket, error) {
	if err := s.expect('['); err != nil {
		return nil, err
	}
	var out []snapshot.Bucket
	var hdr, raw []byte
	for first := true; ; first = false {
		ok, err := s.more(first, ']')
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		at := s.off + int64(s.pos)
		if err := s.expect('{'); err != nil {
			return nil, err
		}
		hdr = append(hdr[:0], '{')
		seen := map[string]bool{}
		for bfirst := true; ; bfirst = false {
			ok, err := s.more(bfirst, '}')
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			k, err := s.key()
			if err != nil {
				return nil, err
			}
			if seen[k] {
				return nil, s.fail("bucket member %q appears twice", k)
			}
			seen[k] = true
			if k == "objects" {
				if c, err := s.peek(); err != nil {
					return nil, err
				} else if c != '[' {
					return nil, s.fail("objects: want an array")
				}
				if _, err := s.value(nil, false); err != nil {
					return nil, err
				}
				continue
			}
			if raw, err = s.value(raw[:0], true); err != nil {
				return nil, err
			}
			if len(hdr) > 1 {
				hdr = append(hdr, ',')
			}
			kb, _ := json.Marshal(k)
			hdr = append(append(append(hdr, kb...), ':'), raw...)
		}
		s.pos++ // }
		hdr = append(hdr, '}')
		var b snapshot.Bucket
		if err := strictDecode(hdr, &b); err != nil {
			return nil, fmt.Errorf("%w: %s: offset %d: bucket: %v", snapshot.ErrFormat, s.path, at, err)
		}
		for _, m := range []string{"name", "objects", "objects_listed", "objects_inspected"} {
			if !seen[m] {
				return nil, fmt.Errorf("%w: %s: offset %d: bucket %q: member %q is missing", snapshot.ErrFormat, s.path, at, b.Name, m)
			}
		}
		if b.Name == "" {
			return nil, fmt.Errorf("%w: %s: offset %d: a bucket has an empty name", snapshot.ErrFormat, s.path, at)
		}
		out = append(out, b)
	}
	s.pos++ // ]
	return out, nil
}

// eachRawBucket calls fn with the raw JSON of each bucket (a fresh slice fn
// may keep), in file order. It stops after the buckets array: readSummaryFast
// has validated the rest of the document.
func eachRawBucket(path string, fn func(raw []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("snapshot: open: %w", err)
	}
	defer f.Close()
	s := newByteScanner(f, path)
	if err := s.expect('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		ok, err := s.more(first, '}')
		if err != nil {
			return err
		}
		if !ok {
			return s.fail("no buckets member")
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		if k != "buckets" {
			if _, err := s.value(nil, false); err != nil {
				return err
			}
			continue
		}
		if err := s.expect('['); err != nil {
			return err
		}
		size := 64 << 10
		for bfirst := true; ; bfirst = false {
			ok, err := s.more(bfirst, ']')
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			raw, err := s.value(make([]byte, 0, size), true)
			if err != nil {
				return err
			}
			size = max(len(raw)+len(raw)/8, 4<<10)
			if err := fn(raw); err != nil {
				return err
			}
		}
	}
}
