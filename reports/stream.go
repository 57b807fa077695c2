package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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

// writeSpliced writes the indented JSON document head with the elements
// elem yields (n of them) in place of the empty array that follows marker
// (a member name such as `"results": `, or "" for a document that is the
// array). The bytes are those json.Encoder with SetIndent("", "  ") writes
// for the whole document.
func writeSpliced(w io.Writer, head []byte, marker string, n int, elem func(i int) (any, error)) error {
	at := 0
	if marker != "" {
		at = bytes.Index(head, []byte(marker+"[]"))
		if at < 0 || bytes.Contains(head[at+1:], []byte(marker+"[]")) {
			return fmt.Errorf("reports: %s[] is not in the document once", marker)
		}
		at += len(marker)
	} else if !bytes.HasPrefix(head, []byte("[]")) {
		return fmt.Errorf("reports: the document is not an empty array")
	}
	line := bytes.LastIndexByte(head[:at], '\n') + 1
	indent := head[line:at]
	indent = indent[:len(indent)-len(bytes.TrimLeft(indent, " "))]
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(head[:at])
	if n == 0 {
		bw.WriteString("[]")
	} else {
		bw.WriteString("[")
		inner := string(indent) + "  "
		for i := 0; i < n; i++ {
			v, err := elem(i)
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
	}
	bw.Write(head[at+2:])
	return bw.Flush()
}
