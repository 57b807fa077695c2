package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
)

// Formats whose size follows the findings (report.json, SARIF, OCSF) are
// written element by element, so that writing one never holds the whole
// file in memory: a report of 20,000 findings is 100 MB of OCSF.

// encodeIndented marshals v as json.Encoder does with SetIndent(prefix,
// "  ") and SetEscapeHTML(false), without the trailing newline.
func encodeIndented(v any, prefix string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// A splice is one array written element by element into a document head:
// the empty array that follows marker (a member name such as
// `"results": `, or "" for a document that is the array) is replaced by
// the n elements elem yields.
type splice struct {
	marker string
	n      int
	elem   func(i int) (any, error)
}

// writeSpliced writes the indented JSON document head with the elements
// elem yields (n of them) in place of the empty array that follows marker.
// The bytes are those json.Encoder with SetIndent("", "  ") writes for the
// whole document.
func writeSpliced(w io.Writer, head []byte, marker string, n int, elem func(i int) (any, error)) error {
	return writeSplices(w, head, splice{marker, n, elem})
}

// writeSplices is writeSpliced for several arrays of one document (each
// marker must occur once, followed by an empty array).
func writeSplices(w io.Writer, head []byte, sp ...splice) error {
	type cut struct {
		at int
		s  splice
	}
	cuts := make([]cut, 0, len(sp))
	for _, s := range sp {
		at := 0
		if s.marker != "" {
			at = bytes.Index(head, []byte(s.marker+"[]"))
			if at < 0 || bytes.Contains(head[at+1:], []byte(s.marker+"[]")) {
				return fmt.Errorf("reports: %s[] is not in the document once", s.marker)
			}
			at += len(s.marker)
		} else if !bytes.HasPrefix(head, []byte("[]")) {
			return fmt.Errorf("reports: the document is not an empty array")
		}
		cuts = append(cuts, cut{at, s})
	}
	slices.SortFunc(cuts, func(a, b cut) int { return a.at - b.at })
	bw := bufio.NewWriterSize(w, 1<<16)
	from := 0
	for _, c := range cuts {
		if c.at < from {
			return fmt.Errorf("reports: spliced arrays overlap")
		}
		bw.Write(head[from:c.at])
		if err := writeArray(bw, head, c.at, c.s); err != nil {
			return err
		}
		from = c.at + 2
	}
	bw.Write(head[from:])
	return bw.Flush()
}

// writeArray writes s's elements as an array indented like the line of
// head that holds offset at.
func writeArray(bw *bufio.Writer, head []byte, at int, s splice) error {
	line := bytes.LastIndexByte(head[:at], '\n') + 1
	indent := head[line:at]
	indent = indent[:len(indent)-len(bytes.TrimLeft(indent, " "))]
	if s.n == 0 {
		bw.WriteString("[]")
		return nil
	}
	bw.WriteString("[")
	inner := string(indent) + "  "
	for i := 0; i < s.n; i++ {
		v, err := s.elem(i)
		if err != nil {
			return err
		}
		b, err := encodeIndented(v, inner)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		bw.WriteString(inner)
		bw.Write(b)
	}
	bw.WriteString("\n")
	bw.Write(indent)
	bw.WriteString("]")
	return nil
}

// errStopPull ends a pulled sequence early.
var errStopPull = errors.New("reports: stop")

// pulled adapts a sequence of n elements to writeSpliced's elem, which is
// called with 0, 1, 2... in order, so a document whose findings are read
// back from disk one at a time streams as an indexed slice does. stop must
// be called once the array is written.
func pulled(n int, each func(yield func(any) error) error) (elem func(int) (any, error), stop func()) {
	seq := func(yield func(any, error) bool) {
		err := each(func(v any) error {
			if !yield(v, nil) {
				return errStopPull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopPull) {
			yield(nil, err)
		}
	}
	next, stop := iter.Pull2(seq)
	return func(i int) (any, error) {
		v, err, ok := next()
		if !ok {
			return nil, fmt.Errorf("reports: %d elements, not the %d counted", i, n)
		}
		return v, err
	}, stop
}
