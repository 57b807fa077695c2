package stream

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestWithSizeSameStream: a Writer told the size produces byte for byte
// the stream an undeclared Writer produces, in every write mode, at the
// sizes around chunk boundaries (the on-disk format does not depend on
// the option).
func TestWithSizeSameStream(t *testing.T) {
	for _, size := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 4 * ChunkSize, 4*ChunkSize + 7, 8 * ChunkSize} {
		pt := plaintext(size, uint64(size))
		ref := seal(t, pt, testKey, testIdentity, WithRand(detRand(21)))
		for _, m := range append(writeModes, struct {
			name  string
			write func(w *Writer, pt []byte) error
		}{"256KiB-writes", func(w *Writer, pt []byte) error {
			for len(pt) > 0 {
				n := min(4*ChunkSize, len(pt))
				if _, err := w.Write(pt[:n]); err != nil {
					return err
				}
				pt = pt[n:]
			}
			return nil
		}}) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, testKey, testIdentity, WithRand(detRand(21)), WithSize(int64(size)))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.write(w, pt); err != nil {
				t.Fatalf("size %d, %s: %v", size, m.name, err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("size %d, %s: Close: %v", size, m.name, err)
			}
			if !bytes.Equal(buf.Bytes(), ref) {
				t.Errorf("size %d, %s: the sized Writer produced a different stream", size, m.name)
			}
		}
	}
}

// TestWithSizeSealsWholeWrite: with the size declared, a Write of whole
// chunks that are not final seals all of them from the caller's slice
// (the destination has every one of them when Write returns), where an
// undeclared Writer must keep the last one back, copied into its buffer,
// in case it is the final chunk.
func TestWithSizeSealsWholeWrite(t *testing.T) {
	pt := plaintext(8*ChunkSize, 22)
	for _, tc := range []struct {
		name   string
		total  int // bytes written: 4 chunks, then the rest
		opts   []Option
		chunks int // chunks at the destination after the first Write
	}{
		{"undeclared", len(pt), nil, 3},
		{"declared", len(pt), []Option{WithSize(int64(len(pt)))}, 4},
		// The fourth chunk of an object of exactly 4 chunks is final:
		// it is held back until Close as without a size.
		{"declared-final", 4 * ChunkSize, []Option{WithSize(4 * ChunkSize)}, 3},
	} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, testKey, testIdentity, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(pt[:4*ChunkSize]); err != nil {
			t.Fatal(err)
		}
		if want := HeaderSize + tc.chunks*ctChunkSize; buf.Len() != want {
			t.Errorf("%s: %d bytes written after one 4-chunk Write, want %d (%d chunks)", tc.name, buf.Len(), want, tc.chunks)
		}
		if _, err := w.Write(pt[4*ChunkSize : tc.total]); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got, err := openAll(buf.Bytes(), testKey, testIdentity); err != nil || !bytes.Equal(got, pt[:tc.total]) {
			t.Errorf("%s: round trip failed: %d bytes, %v", tc.name, len(got), err)
		}
	}
}

// TestWithSizeMismatch: writing fewer or more bytes than declared is an
// error wrapping ErrSizeMismatch, never a valid stream of another length:
// excess is refused before any of it is sealed, a short stream gets no
// final chunk, the error is sticky, and what reached the destination
// does not decrypt as a complete object.
func TestWithSizeMismatch(t *testing.T) {
	const size = 2*ChunkSize + 10
	pt := plaintext(3*ChunkSize, 23)
	for _, tc := range []struct {
		name  string
		write func(w *Writer) error // the error of the call that must fail, if any
	}{
		{"fewer", func(w *Writer) error { _, err := w.Write(pt[:size-1]); return err }},
		{"fewer-full-chunks", func(w *Writer) error { _, err := w.Write(pt[:2*ChunkSize]); return err }},
		{"none", func(w *Writer) error { return nil }},
		{"more-one-write", func(w *Writer) error { _, err := w.Write(pt[:size+1]); return wantMismatch(err) }},
		{"more-later", func(w *Writer) error {
			if _, err := w.Write(pt[:size]); err != nil {
				return err
			}
			_, err := w.Write(pt[size : size+1])
			return wantMismatch(err)
		}},
		{"more-readfrom", func(w *Writer) error {
			_, err := w.ReadFrom(onlyReader{bytes.NewReader(pt)})
			return wantMismatch(err)
		}},
		{"more-readfrom-after-write", func(w *Writer) error {
			if _, err := w.Write(pt[:ChunkSize]); err != nil {
				return err
			}
			_, err := w.ReadFrom(bytes.NewReader(pt[ChunkSize : size+1]))
			return wantMismatch(err)
		}},
	} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, testKey, testIdentity, WithSize(size))
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.write(w); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if err := w.Close(); !errors.Is(err, ErrSizeMismatch) {
			t.Errorf("%s: Close = %v, want ErrSizeMismatch", tc.name, err)
		}
		if _, err := w.Write([]byte{1}); err == nil {
			t.Errorf("%s: Write after a failed Close succeeded", tc.name)
		}
		if got, err := openAll(buf.Bytes(), testKey, testIdentity); err == nil {
			t.Errorf("%s: the destination holds a valid stream of %d bytes", tc.name, len(got))
		}
	}
}

// wantMismatch turns a call's error into the test's: nil when it is the
// expected ErrSizeMismatch.
func wantMismatch(err error) error {
	if errors.Is(err, ErrSizeMismatch) {
		return nil
	}
	if err == nil {
		return errors.New("writing more than the declared size succeeded")
	}
	return err
}

func TestWithSizeInvalid(t *testing.T) {
	for _, tc := range []struct {
		size int64
		want error
	}{
		{-1, ErrInvalidSize},
		{MaxPlaintextSize + 1, ErrTooLarge},
	} {
		if _, err := NewWriter(io.Discard, testKey, testIdentity, WithSize(tc.size)); !errors.Is(err, tc.want) {
			t.Errorf("WithSize(%d): %v, want %v", tc.size, err, tc.want)
		}
	}
	if _, err := NewWriter(io.Discard, testKey, testIdentity, WithSize(MaxPlaintextSize)); err != nil {
		t.Errorf("WithSize(MaxPlaintextSize): %v", err)
	}
}
