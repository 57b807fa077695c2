package stream

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"
)

// countingReaderAt counts the bytes returned by ReadAt.
type countingReaderAt struct {
	r     io.ReaderAt
	bytes int64
	calls int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.bytes += int64(n)
	c.calls++
	return n, err
}

func readRange(ct []byte, off, length int64) ([]byte, *countingReaderAt, error) {
	cr := &countingReaderAt{r: bytes.NewReader(ct)}
	r, err := NewRangeReader(cr, int64(len(ct)), testKey, testIdentity, off, length)
	if err != nil {
		return nil, cr, err
	}
	got, err := io.ReadAll(r)
	return got, cr, err
}

// neededBytes is the exact number of stream bytes a range read must touch:
// the header plus every chunk overlapping [off, off+length), plus the final
// chunk when the range reaches the end.
func neededBytes(encSize, plain, off, length int64) int64 {
	n := int64(HeaderSize)
	if length == 0 && off+length != plain {
		return n
	}
	first, last := off/ChunkSize, (off+length-1)/ChunkSize
	chunks := (encSize - HeaderSize + ctChunkSize - 1) / ctChunkSize
	if off+length == plain {
		last = chunks - 1
	}
	first = min(first, last)
	for i := first; i <= last; i++ {
		n += min(ctChunkSize, encSize-(HeaderSize+i*ctChunkSize))
	}
	return n
}

func TestRangeRandom(t *testing.T) {
	for _, size := range []int64{0, 1, 100, ChunkSize, 3 * ChunkSize, 5*ChunkSize + 777} {
		pt := plaintext(int(size), uint64(size)+30)
		ct := seal(t, pt, testKey, testIdentity)
		type rng struct{ off, length int64 }
		cases := []rng{{0, 0}, {0, size}, {size, 0}}
		if size > 0 {
			cases = append(cases, rng{size - 1, 1}, rng{0, 1}, rng{size / 2, 0})
		}
		for k := int64(1); k*ChunkSize <= size; k++ { // chunk boundaries
			b := k * ChunkSize
			cases = append(cases, rng{b, size - b}, rng{b - 1, min(2, size-b+1)}, rng{0, b}, rng{b - ChunkSize, ChunkSize})
			if b < size {
				cases = append(cases, rng{b, 1}, rng{b, 0})
			}
		}
		r := rand.New(rand.NewPCG(uint64(size), 5))
		for range 150 {
			off := r.Int64N(size + 1)
			cases = append(cases, rng{off, r.Int64N(size - off + 1)})
		}
		for _, c := range cases {
			got, cr, err := readRange(ct, c.off, c.length)
			if err != nil {
				t.Fatalf("size %d range [%d,+%d): %v", size, c.off, c.length, err)
			}
			if !bytes.Equal(got, pt[c.off:c.off+c.length]) {
				t.Fatalf("size %d range [%d,+%d): wrong plaintext (%d bytes)", size, c.off, c.length, len(got))
			}
			if want := neededBytes(int64(len(ct)), size, c.off, c.length); cr.bytes != want {
				t.Fatalf("size %d range [%d,+%d): read %d stream bytes, want %d", size, c.off, c.length, cr.bytes, want)
			}
		}
	}
}

func TestRangeReadsOnlyNeededChunks(t *testing.T) {
	pt := plaintext(10*ChunkSize+5, 31)
	ct := seal(t, pt, testKey, testIdentity)
	tests := []struct {
		off, length int64
		want        int64 // stream bytes read
	}{
		{0, 0, HeaderSize},
		{ChunkSize + 5, 0, HeaderSize},
		{0, 1, HeaderSize + ctChunkSize},
		{4*ChunkSize + 10, 100, HeaderSize + ctChunkSize},
		{4*ChunkSize - 1, 2, HeaderSize + 2*ctChunkSize},
		{4 * ChunkSize, ChunkSize, HeaderSize + ctChunkSize},
		{int64(len(pt)) - 1, 1, HeaderSize + 5 + TagSize},
		{int64(len(pt)), 0, HeaderSize + 5 + TagSize},
		{int64(len(pt)) - ChunkSize - 5, ChunkSize + 5, HeaderSize + ctChunkSize + 5 + TagSize},
	}
	for _, tt := range tests {
		got, cr, err := readRange(ct, tt.off, tt.length)
		if err != nil || !bytes.Equal(got, pt[tt.off:tt.off+tt.length]) {
			t.Errorf("[%d,+%d): %d bytes, %v", tt.off, tt.length, len(got), err)
		}
		if cr.bytes != tt.want {
			t.Errorf("[%d,+%d): read %d stream bytes, want %d", tt.off, tt.length, cr.bytes, tt.want)
		}
	}
}

func TestRangeReaderConformance(t *testing.T) {
	pt := plaintext(3*ChunkSize+9, 32)
	ct := seal(t, pt, testKey, testIdentity)
	r, err := NewRangeReader(bytes.NewReader(ct), int64(len(ct)), testKey, testIdentity, 100, 2*ChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	if err := iotest.TestReader(r, pt[100:100+2*ChunkSize]); err != nil {
		t.Error(err)
	}
	r, err = NewRangeReader(bytes.NewReader(ct), int64(len(ct)), testKey, testIdentity, 7, int64(len(pt))-7)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := io.Copy(onlyWriter{&out}, r); err != nil || !bytes.Equal(out.Bytes(), pt[7:]) {
		t.Errorf("WriteTo: %d bytes, %v", out.Len(), err)
	}
}

func TestRangeErrors(t *testing.T) {
	pt := plaintext(3*ChunkSize+9, 33)
	ct := seal(t, pt, testKey, testIdentity)
	enc := int64(len(ct))
	plain := int64(len(pt))
	fullPT := plaintext(2*ChunkSize, 34)
	full := seal(t, fullPT, testKey, testIdentity)

	tests := []struct {
		name        string
		src         []byte // stored bytes
		encSize     int64
		key, id     []byte
		off, length int64
		wantNew     error // from NewRangeReader
		wantRead    error // from reading
	}{
		{name: "negative-off", src: ct, encSize: enc, off: -1, length: 1, wantNew: ErrInvalidRange},
		{name: "negative-length", src: ct, encSize: enc, off: 0, length: -1, wantNew: ErrInvalidRange},
		{name: "off-beyond-end", src: ct, encSize: enc, off: plain + 1, length: 0, wantNew: ErrInvalidRange},
		{name: "end-beyond-end", src: ct, encSize: enc, off: plain - 1, length: 2, wantNew: ErrInvalidRange},
		{name: "overflow", src: ct, encSize: enc, off: 5, length: 1<<63 - 1, wantNew: ErrInvalidRange},
		{name: "empty-object-1-byte", src: seal(t, nil, testKey, testIdentity), encSize: HeaderSize + TagSize, off: 0, length: 1, wantNew: ErrInvalidRange},
		{name: "impossible-size", src: ct, encSize: int64(chunkAt(3) + 5), off: 0, length: 0, wantNew: ErrInvalidSize},
		{name: "negative-size", src: ct, encSize: -1, off: 0, length: 0, wantNew: ErrInvalidSize},
		{name: "too-large-size", src: ct, encSize: 1 << 62, off: 0, length: 0, wantNew: ErrTooLarge},
		{name: "wrong-key", src: ct, encSize: enc, key: bytes.Repeat([]byte{1}, 32), off: 0, length: 1, wantNew: ErrKeyCommitment},
		{name: "wrong-identity", src: ct, encSize: enc, id: []byte("elsewhere"), off: 0, length: 1, wantNew: ErrKeyCommitment},
		{name: "source-shorter-than-header", src: ct[:HeaderSize-1], encSize: enc, off: 0, length: 1, wantNew: ErrTruncated},
		{name: "bad-magic", src: append([]byte("XXXX"), ct[4:]...), encSize: enc, off: 0, length: 1, wantNew: ErrMalformedHeader},
		{name: "source-truncated-mid-chunk", src: ct[:chunkAt(1)+10], encSize: enc, off: ChunkSize, length: 1, wantRead: ErrTruncated},
		{name: "source-truncated-final", src: ct[:enc-1], encSize: enc, off: plain - 1, length: 1, wantRead: ErrTruncated},
		{name: "source-truncated-not-read", src: ct[:chunkAt(2)], encSize: enc, off: 0, length: ChunkSize},
		{name: "source-has-trailing-data", src: append(slices.Clone(ct), 0), encSize: enc, off: plain - 1, length: 1, wantRead: ErrTrailingData},
		{name: "encsize-drops-final-chunk", src: ct, encSize: int64(chunkAt(3)), off: 2 * ChunkSize, length: ChunkSize, wantRead: ErrTruncated},
		{name: "encsize-drops-full-final", src: full, encSize: int64(chunkAt(1)), off: 0, length: ChunkSize, wantRead: ErrTruncated},
		{name: "encsize-cuts-mid-chunk", src: ct, encSize: int64(chunkAt(2) + 500), off: 2 * ChunkSize, length: 10, wantRead: ErrAuthentication},
		{name: "encsize-too-long", src: append(slices.Clone(full), full[HeaderSize:chunkAt(1)]...), encSize: int64(len(full) + ctChunkSize), off: ChunkSize, length: ChunkSize, wantRead: ErrTrailingData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, id := testKey, testIdentity
			if tt.key != nil {
				key = tt.key
			}
			if tt.id != nil {
				id = tt.id
			}
			r, err := NewRangeReader(bytes.NewReader(tt.src), tt.encSize, key, id, tt.off, tt.length)
			if !errors.Is(err, tt.wantNew) || (err == nil) != (tt.wantNew == nil) {
				t.Fatalf("NewRangeReader: %v, want %v", err, tt.wantNew)
			}
			if err != nil {
				return
			}
			got, err := io.ReadAll(r)
			if !errors.Is(err, tt.wantRead) || (err == nil) != (tt.wantRead == nil) {
				t.Errorf("read: %v, want %v", err, tt.wantRead)
			}
			// Whatever was released is the true plaintext at that offset.
			src := pt
			if bytes.Equal(tt.src[:HeaderSize], full[:HeaderSize]) {
				src = fullPT
			}
			if tt.off+int64(len(got)) > int64(len(src)) || !bytes.Equal(got, src[tt.off:tt.off+int64(len(got))]) {
				t.Errorf("released %d bytes of wrong plaintext", len(got))
			}
		})
	}
}

// failingReaderAt fails every read that touches [from, ∞).
type failingReaderAt struct {
	r    io.ReaderAt
	from int64
}

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.from {
		return 0, errBoom
	}
	return f.r.ReadAt(p, off)
}

func TestRangeIOErrors(t *testing.T) {
	pt := plaintext(3*ChunkSize+9, 35)
	ct := seal(t, pt, testKey, testIdentity)
	enc := int64(len(ct))
	// Header read fails.
	if _, err := NewRangeReader(failingReaderAt{bytes.NewReader(ct), 10}, enc, testKey, testIdentity, 0, 1); !errors.Is(err, errBoom) || isSentinel(err) {
		t.Errorf("header I/O error: %v", err)
	}
	// Chunk 1 read fails after chunk 0 was returned, via Read and WriteTo.
	for _, useWriteTo := range []bool{false, true} {
		r, err := NewRangeReader(failingReaderAt{bytes.NewReader(ct), int64(chunkAt(2)) - 1}, enc, testKey, testIdentity, 10, 2*ChunkSize)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		if useWriteTo {
			var out bytes.Buffer
			_, err = r.(io.WriterTo).WriteTo(&out)
			got = out.Bytes()
		} else {
			got, err = io.ReadAll(r)
		}
		if !errors.Is(err, errBoom) || isSentinel(err) || !bytes.Equal(got, pt[10:ChunkSize]) {
			t.Errorf("WriteTo=%t: chunk I/O error: %d bytes, %v", useWriteTo, len(got), err)
		}
	}
	// WriteTo to a failing destination.
	r, err := NewRangeReader(bytes.NewReader(ct), enc, testKey, testIdentity, 0, enc-HeaderSize-4*TagSize)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.(io.WriterTo).WriteTo(&errWriter{n: ChunkSize + 3}); !errors.Is(err, errBoom) || n != ChunkSize+3 {
		t.Errorf("WriteTo failing destination: %d, %v", n, err)
	}
	r, err = NewRangeReader(bytes.NewReader(ct), enc, testKey, testIdentity, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.(io.WriterTo).WriteTo(&errWriter{n: 3, short: true}); !errors.Is(err, io.ErrShortWrite) || n != 3 {
		t.Errorf("WriteTo short destination: %d, %v", n, err)
	}
}
