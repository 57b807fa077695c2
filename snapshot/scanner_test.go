package snapshot

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestByteScannerBoundaries(t *testing.T) {
	vals := []any{
		`\`, `\\`, `\"`, `"\\"`, `a\\\"b`, strings.Repeat(`\`, 37) + `"`, "ü\u2028\\",
		map[string]any{`k\"`: []any{`\\`, 1.5, nil, true, map[string]any{"x": `"]}`}}},
		[]any{}, map[string]any{}, 12, -0.5e3, false,
	}
	for _, v := range vals {
		b, _ := json.Marshal(v)
		doc := append(append([]byte("[ "), b...), []byte(` ,"tail"]`)...)
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(doc)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			s := newByteScanner(r, "t")
			s.buf = make([]byte, 0, 4)
			if err := s.expect('['); err != nil {
				t.Fatal(err)
			}
			got, err := s.value(nil, true)
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("%s (one byte %v): got %s, %v", b, oneByte, got, err)
			}
			if ok, err := s.more(false, ']'); !ok || err != nil {
				t.Fatalf("%s: after value: %v %v", b, ok, err)
			}
			tail, err := s.value(nil, true)
			if err != nil || string(tail) != `"tail"` {
				t.Fatalf("%s: tail %s %v", b, tail, err)
			}
			// Skipping lands on the same place.
			s = newByteScanner(bytes.NewReader(doc), "t")
			s.buf = make([]byte, 0, 4)
			s.expect('[')
			if _, err := s.value(nil, false); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.more(false, ']'); !ok || err != nil {
				t.Fatalf("%s: skip: %v %v", b, ok, err)
			}
		}
	}
}
