package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
)

// writeLog records every Write it is given, and the sum written before
// the Writer's Close.
type writeLog struct {
	bytes.Buffer
	sizes []int
	caps  []int
}

func (l *writeLog) Write(p []byte) (int, error) {
	l.sizes = append(l.sizes, len(p))
	l.caps = append(l.caps, cap(p))
	return l.Buffer.Write(p)
}

// TestAlignedWrites: with WithAlignedWrites the destination sees the same
// stream, in writes that are page multiples of at least AlignedWriteSize
// bytes (so each starts at a page boundary of the stream), except the one
// Close makes, and no Write sees past its own bytes; in every write mode,
// with and without a declared size.
func TestAlignedWrites(t *testing.T) {
	for _, size := range []int{0, 1, ChunkSize, 4*ChunkSize - 100, 4 * ChunkSize, 4*ChunkSize + 1, 21*ChunkSize + 5} {
		pt := plaintext(size, uint64(size)+30)
		ref := seal(t, pt, testKey, testIdentity, WithRand(detRand(31)))
		for _, m := range writeModes {
			for _, sized := range []bool{false, true} {
				name := fmt.Sprintf("size %d, %s, sized %t", size, m.name, sized)
				opts := []Option{WithRand(detRand(31)), WithAlignedWrites()}
				if sized {
					opts = append(opts, WithSize(int64(size)))
				}
				var log writeLog
				w, err := NewWriter(&log, testKey, testIdentity, opts...)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.write(w, pt); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				before := len(log.sizes)
				if err := w.Close(); err != nil {
					t.Fatalf("%s: Close: %v", name, err)
				}
				if !bytes.Equal(log.Bytes(), ref) {
					t.Errorf("%s: a different stream", name)
				}
				if len(log.sizes) != before+1 {
					t.Errorf("%s: Close made %d writes, want 1", name, len(log.sizes)-before)
				}
				for i, n := range log.sizes[:len(log.sizes)-1] {
					if n < AlignedWriteSize || n%pageSize != 0 {
						t.Errorf("%s: write %d of %d bytes, want a multiple of %d of at least %d", name, i, n, pageSize, AlignedWriteSize)
					}
				}
				for i, c := range log.caps {
					if c != log.sizes[i] {
						t.Errorf("%s: write %d of %d bytes has capacity %d", name, i, log.sizes[i], c)
					}
				}
			}
		}
	}
}

// TestAlignedWritesError: a failing destination fails the Write or Close
// that wrote to it and every call after, and the buffer is not recycled.
func TestAlignedWritesError(t *testing.T) {
	pt := plaintext(9*ChunkSize, 32)
	for _, limit := range []int{0, AlignedWriteSize - 1, AlignedWriteSize + pageSize} {
		dst := &recordingWriter{limit: limit}
		w, err := NewWriter(dst, testKey, testIdentity, WithAlignedWrites())
		if err != nil {
			t.Fatal(err)
		}
		_, werr := w.Write(pt)
		cerr := w.Close()
		if !errors.Is(werr, errBoom) && !errors.Is(cerr, errBoom) {
			t.Errorf("limit %d: Write = %v, Close = %v; want %v", limit, werr, cerr, errBoom)
		}
		if !errors.Is(cerr, errBoom) {
			t.Errorf("limit %d: Close = %v after a failed write", limit, cerr)
		}
		if w.out == nil {
			t.Errorf("limit %d: output buffer recycled after a failure", limit)
		}
	}
}

// TestAlignedWritesBufferHoldsNoPlaintext: the output buffer receives only
// the header and sealed chunks, never plaintext, so recycling it needs no
// clearing (it is cleared by nothing).
func TestAlignedWritesBufferHoldsNoPlaintext(t *testing.T) {
	pt := bytes.Repeat(marker[:1], 9*ChunkSize+3)
	var log writeLog
	w, err := NewWriter(&log, testKey, testIdentity, WithAlignedWrites())
	if err != nil {
		t.Fatal(err)
	}
	out := w.out
	if _, err := w.ReadFrom(onlyReader{bytes.NewReader(pt)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out[:], pt[:64]) {
		t.Error("the output buffer holds plaintext")
	}
	if w.out != nil {
		t.Error("the output buffer was not given back by Close")
	}
}

// TestAlignedSizedNoAllocsPerChunk: with both options, sealing straight
// from the caller's slice into the output buffer allocates nothing.
func TestAlignedSizedNoAllocsPerChunk(t *testing.T) {
	pt := plaintext(4*ChunkSize, 33)
	w, err := NewWriter(io.Discard, testKey, testIdentity, WithAlignedWrites(), WithSize(1<<40))
	if err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(50, func() {
		if _, err := w.Write(pt); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Writer.Write: %v allocs per 4 chunks", a)
	}
}

// TestAlignedWriterClearsChunkBuffer: with WithAlignedWrites a buffered
// chunk is sealed out of place, so the plaintext stays in the chunk
// buffer until Close clears it, before that buffer (which the next
// Writer's ReadFrom hands to its source) is recycled.
func TestAlignedWriterClearsChunkBuffer(t *testing.T) {
	w, err := NewWriter(io.Discard, testKey, testIdentity, WithAlignedWrites())
	if err != nil {
		t.Fatal(err)
	}
	arr := w.arr
	if _, err := w.Write(bytes.Repeat(marker[:1], 2*ChunkSize+100)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(arr[:], marker) {
		t.Fatal("test premise: the chunk buffer holds no plaintext before Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(arr[:], func(b byte) bool { return b != 0 }); i >= 0 {
		t.Errorf("recycled chunk buffer holds %#x at %d, want all zero", arr[i], i)
	}
}
