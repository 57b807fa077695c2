package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The one reader of the snapshot format is built on byteScanner: it reads
// the document structurally, a few bytes at a time, without building
// values, so that a reader can skip a bucket's objects, keep each object's
// bytes, or slice out a whole bucket, and decode only what it needs. What
// it keeps is decoded strictly with encoding/json (strictDecode).

// byteScanner reads a JSON document structurally, without building values.
type byteScanner struct {
	r    io.Reader
	buf  []byte
	pos  int
	off  int64 // file offset of buf[0]
	err  error // read error (io.EOF at the end)
	path string
	// objectKey, when set, hears every object's KMS key reference as the
	// objects are checked (ReadSummary collects them).
	objectKey func(id string)
	// maxKeep bounds a value kept by value() (0: no bound; see Limits).
	maxKeep int
	// header, when set, gets each bucket's header members that precede
	// its "objects", as a JSON object (valid during the call only).
	header func(hdr []byte) error
	// lateMembers tells that the last bucket read had a member holding a
	// raw body (rawMembers) after its "objects".
	lateMembers bool
}

// Bounds on what a snapshot may hold. The scanner never writes anything
// near them; a file that exceeds one is damaged or hostile, and reading it
// on would cost memory without bound (a single 100 MB string took 2 GB), so
// it is refused with an error naming the offset.
const (
	// MaxStringBytes bounds any JSON string (an object key is at most 1
	// KiB on OSS and S3; error messages are short).
	MaxStringBytes = 1 << 20
	// MaxNumberBytes bounds a number or literal.
	MaxNumberBytes = 4 << 10
	// MaxDepth bounds how deeply values nest (the format nests six deep).
	MaxDepth = 32
	// MaxObjectBytes bounds one object record, and each member of a bucket
	// header.
	MaxObjectBytes = 4 << 20
	// MaxMemberBytes bounds each top-level member but the buckets
	// (provenance, keys, coverage).
	MaxMemberBytes = 256 << 20
)

func newByteScanner(r io.Reader, path string) *byteScanner {
	return &byteScanner{r: r, buf: make([]byte, 0, 1<<20), path: path}
}

func (s *byteScanner) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s: offset %d: %s", ErrFormat, s.path, s.off+int64(s.pos), fmt.Sprintf(format, args...))
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
	return s.fail("the document ends early (truncated file?)")
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
	var strAt int64 // file offset where the open string began
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
					if s.off+int64(i)-strAt > MaxStringBytes {
						s.pos = i
						return dst, s.fail("a string of more than %d bytes (from offset %d): refused, a snapshot holds none; the file is damaged or was not written by sseaudit", MaxStringBytes, strAt)
					}
					break
				}
				i += q
				if s.off+int64(i)-strAt > MaxStringBytes {
					s.pos = i
					return dst, s.fail("a string of more than %d bytes (from offset %d): refused, a snapshot holds none; the file is damaged or was not written by sseaudit", MaxStringBytes, strAt)
				}
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
				strAt = s.off + int64(i)
			case '{', '[':
				depth++
				if depth > MaxDepth {
					s.pos = i
					return dst, s.fail("values nest more than %d deep: refused, a snapshot nests six deep; the file is damaged or was not written by sseaudit", MaxDepth)
				}
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
			if s.maxKeep > 0 && len(dst) > s.maxKeep {
				return dst, s.fail("a value of more than %d bytes: refused, a snapshot holds none that large; the file is damaged or was not written by sseaudit", s.maxKeep)
			}
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
	at := s.off + int64(s.pos)
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
			if s.off+int64(s.pos)-at > MaxNumberBytes {
				return dst, s.fail("a number or literal of more than %d bytes: refused; the file is damaged or was not written by sseaudit", MaxNumberBytes)
			}
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
