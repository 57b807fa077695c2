package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

var (
	testKey      = bytes.Repeat([]byte{0x42}, 32)
	testIdentity = []byte("bucket\x00object/key\x00upload\x00part-1\x00v1")
)

// detRand returns a deterministic randomness source for WithRand.
func detRand(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// plaintext returns n deterministic pseudo-random bytes.
func plaintext(n int, seed uint64) []byte {
	b := make([]byte, n)
	detRand(seed + 1000).Read(b)
	return b
}

// onlyReader hides WriterTo/ReaderFrom so that io.Copy uses a plain buffer
// loop (or the destination's ReadFrom).
type onlyReader struct{ io.Reader }

// onlyWriter hides ReadFrom.
type onlyWriter struct{ io.Writer }

func seal(t testing.TB, pt, key, id []byte, opts ...Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, key, id, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pt); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func openAll(ct, key, id []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(ct), key, id)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// writeModes encrypt pt to a fresh buffer in different ways.
var writeModes = []struct {
	name  string
	write func(w *Writer, pt []byte) error
}{
	{"single-write", func(w *Writer, pt []byte) error { _, err := w.Write(pt); return err }},
	{"io.Copy-WriteTo", func(w *Writer, pt []byte) error { _, err := io.Copy(w, bytes.NewReader(pt)); return err }},
	{"io.Copy-ReadFrom", func(w *Writer, pt []byte) error {
		_, err := io.Copy(w, onlyReader{bytes.NewReader(pt)})
		return err
	}},
	{"ReadFrom-one-byte", func(w *Writer, pt []byte) error {
		_, err := w.ReadFrom(iotest.OneByteReader(bytes.NewReader(pt)))
		return err
	}},
	{"io.Copy-plain-loop", func(w *Writer, pt []byte) error {
		_, err := io.Copy(onlyWriter{w}, onlyReader{bytes.NewReader(pt)})
		return err
	}},
	{"odd-writes", func(w *Writer, pt []byte) error {
		sizes := []int{1, 7, 4093, ChunkSize, 65537, 3, ChunkSize - 1}
		for i := 0; len(pt) > 0; i++ {
			n := min(sizes[i%len(sizes)], len(pt))
			if m, err := w.Write(pt[:n]); err != nil || m != n {
				return fmt.Errorf("Write = %d, %v; want %d", m, err, n)
			}
			pt = pt[n:]
		}
		return nil
	}},
	{"mixed-write-readfrom", func(w *Writer, pt []byte) error {
		h := len(pt) / 3
		if _, err := w.Write(pt[:h]); err != nil {
			return err
		}
		_, err := w.ReadFrom(iotest.HalfReader(bytes.NewReader(pt[h:])))
		return err
	}},
}

// sourceKinds wrap a stream in sources that exercise every Reader path.
var sourceKinds = []struct {
	name string
	wrap func(b []byte) io.Reader
}{
	{"bytes.Reader", func(b []byte) io.Reader { return bytes.NewReader(b) }},                 // WriteTo pushes one slice
	{"pieces", func(b []byte) io.Reader { return &pieceSource{b: b} }},                       // WriteTo pushes odd pieces
	{"delegating", func(b []byte) io.Reader { return delegatingSource{bytes.NewReader(b)} }}, // WriteTo calls dst.ReadFrom
	{"plain", func(b []byte) io.Reader { return onlyReader{bytes.NewReader(b)} }},            // no WriterTo: pull
	{"half", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},      // pull, short reads
}

// pieceSource is a source whose WriteTo pushes its data in odd pieces.
type pieceSource struct {
	b []byte
	i int
}

func (s *pieceSource) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

func (s *pieceSource) WriteTo(w io.Writer) (int64, error) {
	sizes := []int{1, 7, ctChunkSize, 4093, ctChunkSize + 1, 2*ctChunkSize + 3, 15, 65537, ctChunkSize - 1}
	var total int64
	for len(s.b) > 0 {
		n := min(sizes[s.i%len(sizes)], len(s.b))
		s.i++
		m, err := w.Write(s.b[:n])
		s.b = s.b[m:]
		total += int64(m)
		if err == nil && m != n {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// delegatingSource's WriteTo falls back to io.Copy, which hands the source
// to the destination's ReadFrom, as os.File and net.TCPConn do.
type delegatingSource struct{ r io.Reader }

func (s delegatingSource) Read(p []byte) (int, error)         { return s.r.Read(p) }
func (s delegatingSource) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, onlyReader{s.r}) }

// readModes decrypt a stream in different ways.
var readModes = func() []readMode {
	modes := []readMode{
		{"io.ReadAll", func(ct []byte) ([]byte, error) { return openAll(ct, testKey, testIdentity) }},
		{"odd-reads-one-byte-source", func(ct []byte) ([]byte, error) {
			r, err := NewReader(iotest.OneByteReader(bytes.NewReader(ct)), testKey, testIdentity)
			if err != nil {
				return nil, err
			}
			var out []byte
			buf := make([]byte, 70001)
			sizes := []int{1, 13, 4099, 70001, 2}
			for i := 0; ; i++ {
				n, err := r.Read(buf[:sizes[i%len(sizes)]])
				out = append(out, buf[:n]...)
				if err == io.EOF {
					return out, nil
				}
				if err != nil {
					return out, err
				}
			}
		}},
		{"range-whole", func(ct []byte) ([]byte, error) {
			plain, err := DecryptedSize(int64(len(ct)))
			if err != nil {
				return nil, err
			}
			r, err := NewRangeReader(bytes.NewReader(ct), int64(len(ct)), testKey, testIdentity, 0, plain)
			if err != nil {
				return nil, err
			}
			return io.ReadAll(r)
		}},
	}
	for _, k := range sourceKinds {
		modes = append(modes, readMode{"WriteTo-" + k.name, func(ct []byte) ([]byte, error) {
			r, err := NewReader(k.wrap(ct), testKey, testIdentity)
			if err != nil {
				return nil, err
			}
			var out bytes.Buffer
			_, err = io.Copy(onlyWriter{&out}, r)
			return out.Bytes(), err
		}})
	}
	return modes
}()

type readMode struct {
	name string
	read func(ct []byte) ([]byte, error)
}

func TestRoundTrip(t *testing.T) {
	// 33 chunks and a bit: pushed whole, more than directOpenMax, so
	// Reader.WriteTo copies the chunks before opening them.
	sizes := []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, 3 * ChunkSize, 3*ChunkSize + 5, 33*ChunkSize + 3}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 4 {
		sizes = append(sizes, rng.IntN(4*ChunkSize))
	}
	for _, size := range sizes {
		pt := plaintext(size, uint64(size))
		want, err := EncryptedSize(int64(size))
		if err != nil {
			t.Fatal(err)
		}
		var ref []byte
		for _, wm := range writeModes {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, testKey, testIdentity, WithRand(detRand(7)))
			if err != nil {
				t.Fatal(err)
			}
			if err := wm.write(w, pt); err != nil {
				t.Fatalf("size %d %s: %v", size, wm.name, err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("size %d %s: Close: %v", size, wm.name, err)
			}
			ct := buf.Bytes()
			if int64(len(ct)) != want {
				t.Errorf("size %d %s: len = %d, EncryptedSize = %d", size, wm.name, len(ct), want)
			}
			if ref == nil {
				ref = ct
			} else if !bytes.Equal(ct, ref) {
				t.Errorf("size %d %s: ciphertext differs from %s", size, wm.name, writeModes[0].name)
			}
		}
		if got, err := DecryptedSize(int64(len(ref))); err != nil || got != int64(size) {
			t.Errorf("DecryptedSize(%d) = %d, %v; want %d", len(ref), got, err, size)
		}
		for _, rm := range readModes {
			got, err := rm.read(ref)
			if err != nil {
				t.Errorf("size %d %s: %v", size, rm.name, err)
			} else if !bytes.Equal(got, pt) {
				t.Errorf("size %d %s: plaintext mismatch (got %d bytes)", size, rm.name, len(got))
			}
		}
		r, err := NewReader(bytes.NewReader(ref), testKey, testIdentity)
		if err != nil {
			t.Fatal(err)
		}
		if err := iotest.TestReader(r, pt); err != nil {
			t.Errorf("size %d: iotest.TestReader: %v", size, err)
		}
	}
}

func TestEmptyStreamLayout(t *testing.T) {
	ct := seal(t, nil, testKey, testIdentity)
	if len(ct) != HeaderSize+TagSize {
		t.Fatalf("empty stream is %d bytes, want %d", len(ct), HeaderSize+TagSize)
	}
}

func TestDeterministicAndFreshSalt(t *testing.T) {
	pt := plaintext(ChunkSize+3, 1)
	a := seal(t, pt, testKey, testIdentity, WithRand(detRand(1)))
	b := seal(t, pt, testKey, testIdentity, WithRand(detRand(1)))
	if !bytes.Equal(a, b) {
		t.Error("same inputs and randomness gave different streams")
	}
	c := seal(t, pt, testKey, testIdentity, WithRand(detRand(2)))
	if bytes.Equal(a[offSalt:offSalt+saltSize], c[offSalt:offSalt+saltSize]) {
		t.Error("different randomness gave the same salt")
	}
	d := seal(t, pt, testKey, testIdentity)
	e := seal(t, pt, testKey, testIdentity)
	if bytes.Equal(d[offSalt:offSalt+saltSize], e[offSalt:offSalt+saltSize]) {
		t.Error("two streams with the default source share a salt")
	}
	if bytes.Equal(d[HeaderSize:], e[HeaderSize:]) {
		t.Error("two streams with the default source share chunk ciphertexts")
	}
}

func TestWriterHeaderAndCommitment(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testKey, testIdentity, WithRand(detRand(3)))
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("NewWriter wrote %d bytes, want 0", buf.Len())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := ParseHeader(buf.Bytes()[:HeaderSize])
	if err != nil {
		t.Fatal(err)
	}
	if h != w.Header() {
		t.Errorf("parsed header %+v != Writer.Header %+v", h, w.Header())
	}
	if !bytes.Equal(w.Commitment(), h.Commitment[:]) {
		t.Error("Writer.Commitment does not match the header")
	}
	_, commit, err := deriveKeys(testKey, h.Salt[:], testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(commit, w.Commitment()) {
		t.Error("commitment is not okm[32:64]")
	}
	c := w.Commitment()
	c[0] ^= 1
	if bytes.Equal(c, w.Commitment()) {
		t.Error("Commitment returned an alias of internal state")
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()), testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if r.Header() != h {
		t.Error("Reader.Header differs")
	}
}

func TestParseHeader(t *testing.T) {
	valid := seal(t, nil, testKey, testIdentity, WithRand(detRand(4)))[:HeaderSize]
	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), valid...))
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"valid", valid, nil},
		{"empty", nil, ErrMalformedHeader},
		{"short", valid[:HeaderSize-1], ErrMalformedHeader},
		{"long", append(append([]byte(nil), valid...), 0), ErrMalformedHeader},
		{"magic", mod(func(b []byte) []byte { b[0] ^= 0x20; return b }), ErrMalformedHeader},
		{"version-0", mod(func(b []byte) []byte { b[offVersion] = 0; return b }), ErrUnsupportedVersion},
		{"version-2", mod(func(b []byte) []byte { b[offVersion] = 2; return b }), ErrUnsupportedVersion},
		{"version-2-short", mod(func(b []byte) []byte { b[offVersion] = 2; return b[:offExp] }), ErrUnsupportedVersion},
		{"chunk-exp-15", mod(func(b []byte) []byte { b[offExp] = 15; return b }), ErrMalformedHeader},
		{"chunk-exp-255", mod(func(b []byte) []byte { b[offExp] = 255; return b }), ErrMalformedHeader},
	}
	for _, tt := range tests {
		h, err := ParseHeader(tt.in)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: ParseHeader error = %v, want %v", tt.name, err, tt.want)
		}
		h2, err2 := ReadHeader(bytes.NewReader(tt.in))
		wantRead := tt.want
		if tt.name == "empty" || tt.name == "short" {
			wantRead = ErrTruncated
		}
		if tt.name == "long" {
			wantRead = nil // ReadHeader consumes exactly HeaderSize bytes
		}
		if !errors.Is(err2, wantRead) || (wantRead == nil) != (err2 == nil) {
			t.Errorf("%s: ReadHeader error = %v, want %v", tt.name, err2, wantRead)
		}
		if err == nil {
			if m := h.marshal(); !bytes.Equal(m[:], tt.in) {
				t.Errorf("%s: marshal(ParseHeader(b)) != b", tt.name)
			}
			if h.Version != Version || h.ChunkSize != ChunkSize {
				t.Errorf("%s: header %+v", tt.name, h)
			}
		}
		if err2 == nil && h2 != (Header{Version: Version, ChunkSize: ChunkSize, Salt: [32]byte(valid[offSalt:]),
			NoncePrefix: [7]byte(valid[offPrefix:]), Commitment: [32]byte(valid[offCommit:])}) {
			t.Errorf("%s: ReadHeader returned %+v", tt.name, h2)
		}
	}
}

func TestInvalidKey(t *testing.T) {
	ct := seal(t, []byte("x"), testKey, testIdentity)
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		key := make([]byte, n)
		if _, err := NewWriter(io.Discard, key, nil); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("NewWriter with %d-byte key: %v", n, err)
		}
		if _, err := NewReader(bytes.NewReader(ct), key, testIdentity); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("NewReader with %d-byte key: %v", n, err)
		}
		if _, err := NewRangeReader(bytes.NewReader(ct), int64(len(ct)), key, testIdentity, 0, 1); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("NewRangeReader with %d-byte key: %v", n, err)
		}
	}
}

func TestSizes(t *testing.T) {
	maxEnc := HeaderSize + MaxPlaintextSize + int64(maxChunks)*TagSize
	enc := []struct {
		plain, enc int64
		err        error
	}{
		{0, HeaderSize + 16, nil},
		{1, HeaderSize + 17, nil},
		{ChunkSize, HeaderSize + ChunkSize + 16, nil},
		{ChunkSize + 1, HeaderSize + ChunkSize + 1 + 32, nil},
		{MaxPlaintextSize, maxEnc, nil},
		{MaxPlaintextSize + 1, 0, ErrTooLarge},
		{-1, 0, ErrInvalidSize},
	}
	for _, tt := range enc {
		got, err := EncryptedSize(tt.plain)
		if got != tt.enc || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("EncryptedSize(%d) = %d, %v; want %d, %v", tt.plain, got, err, tt.enc, tt.err)
		}
	}
	dec := []struct {
		enc, plain int64
		err        error
	}{
		{HeaderSize + 16, 0, nil},
		{HeaderSize + 15, 0, ErrInvalidSize},
		{0, 0, ErrInvalidSize},
		{-5, 0, ErrInvalidSize},
		{HeaderSize + ctChunkSize, ChunkSize, nil},              // one full final chunk
		{HeaderSize + ctChunkSize + 16, ChunkSize, nil},         // full chunk + empty final chunk
		{HeaderSize + ctChunkSize + 8, 0, ErrInvalidSize},       // final chunk shorter than a tag
		{HeaderSize + 2*ctChunkSize + 17, 2*ChunkSize + 1, nil}, // 2 full + 1 byte
		{HeaderSize + 3*ctChunkSize - 1, 3*ChunkSize - 1, nil},  // final chunk one byte short of full
		{maxEnc, MaxPlaintextSize, nil},                         // maximum
		{maxEnc + 16, 0, ErrTooLarge},                           // one more (empty) chunk
		{HeaderSize + int64(maxChunks)*ctChunkSize + ctChunkSize, 0, ErrTooLarge},
	}
	for _, tt := range dec {
		got, err := DecryptedSize(tt.enc)
		if got != tt.plain || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("DecryptedSize(%d) = %d, %v; want %d, %v", tt.enc, got, err, tt.plain, tt.err)
		}
	}
	// EncryptedSize and DecryptedSize are inverse on every Writer output size.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		p := rng.Int64N(MaxPlaintextSize + 1)
		if rng.IntN(2) == 0 {
			p = rng.Int64N(10 * ChunkSize)
		}
		e, err := EncryptedSize(p)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := DecryptedSize(e); err != nil || d != p {
			t.Fatalf("DecryptedSize(EncryptedSize(%d)) = %d, %v", p, d, err)
		}
	}
}

// emptyFinalStream builds a valid stream whose plaintext (n full chunks) is
// followed by an empty final chunk, a layout readers accept but Writer
// never produces.
func emptyFinalStream(t *testing.T, pt []byte) []byte {
	t.Helper()
	if len(pt)%ChunkSize != 0 || len(pt) == 0 {
		t.Fatal("bad plaintext size")
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testKey, testIdentity, WithRand(detRand(9)))
	if err != nil {
		t.Fatal(err)
	}
	for p := pt; len(p) > 0; p = p[ChunkSize:] {
		if err := w.sealAndWrite(w.buf, p[:ChunkSize], false); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEmptyFinalChunkAccepted(t *testing.T) {
	pt := plaintext(2*ChunkSize, 5)
	ct := emptyFinalStream(t, pt)
	canonical, _ := EncryptedSize(int64(len(pt)))
	if int64(len(ct)) != canonical+TagSize {
		t.Fatalf("len = %d, want %d", len(ct), canonical+TagSize)
	}
	for _, rm := range readModes {
		got, err := rm.read(ct)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("%s: %d bytes, %v", rm.name, len(got), err)
		}
	}
	// Dropping the empty final chunk is truncation.
	if _, err := openAll(ct[:len(ct)-TagSize], testKey, testIdentity); !errors.Is(err, ErrTruncated) {
		t.Errorf("dropped empty final chunk: %v, want ErrTruncated", err)
	}
	// A range ending at the end of the plaintext verifies the empty final chunk.
	bad := append([]byte(nil), ct...)
	bad[len(bad)-1] ^= 1
	r, err := NewRangeReader(bytes.NewReader(bad), int64(len(bad)), testKey, testIdentity, ChunkSize, ChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, ErrAuthentication) {
		t.Errorf("range over corrupted empty final chunk: %v, want ErrAuthentication", err)
	}
}

func TestChunkLimit(t *testing.T) {
	// A writer at the last allowed index may seal only a final chunk.
	w, err := NewWriter(io.Discard, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	w.idx = maxChunks - 1
	if _, err := w.Write(make([]byte, ChunkSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Write past the chunk limit: %v, want ErrTooLarge", err)
	}
	if err := w.Close(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Close after ErrTooLarge: %v", err)
	}
	w, err = NewWriter(io.Discard, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	w.idx = maxChunks - 1
	if _, err := w.Write(make([]byte, ChunkSize)); err != nil { // buffered: may still be final
		t.Fatal(err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Write past the chunk limit (buffered): %v, want ErrTooLarge", err)
	}

	// The last two chunk indices still round-trip.
	var buf bytes.Buffer
	w, err = NewWriter(&buf, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	w.idx = maxChunks - 2
	pt := plaintext(ChunkSize+5, 6)
	if _, err := w.Write(pt); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()), testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	r.idx = maxChunks - 2
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("stream at the chunk limit: %d bytes, %v", len(got), err)
	}

	// A reader refuses a non-final chunk at the last index.
	r, err = NewReader(bytes.NewReader(buf.Bytes()), testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	r.idx = maxChunks - 1
	if got, err := io.ReadAll(r); !errors.Is(err, ErrTooLarge) || len(got) != 0 {
		t.Errorf("reader past the chunk limit: %d bytes, %v", len(got), err)
	}
}

type errWriter struct {
	n     int // bytes accepted before failing
	short bool
}

var errBoom = errors.New("boom")

func (w *errWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	if w.short {
		return n, nil
	}
	return n, errBoom
}

func TestWriterErrors(t *testing.T) {
	pt := plaintext(3*ChunkSize, 8)
	for _, short := range []bool{false, true} {
		for _, limit := range []int{0, HeaderSize, HeaderSize + ctChunkSize + 10} {
			dst := &errWriter{n: limit, short: short}
			w, err := NewWriter(dst, testKey, testIdentity)
			if err != nil {
				t.Fatal(err)
			}
			want := errBoom
			if short {
				want = io.ErrShortWrite
			}
			_, err = w.Write(pt)
			if !errors.Is(err, want) {
				t.Errorf("limit %d short %t: Write error %v, want %v", limit, short, err, want)
			}
			if _, err := w.Write([]byte{1}); !errors.Is(err, want) {
				t.Errorf("second Write: %v, want sticky %v", err, want)
			}
			if _, err := w.ReadFrom(bytes.NewReader([]byte{1})); !errors.Is(err, want) {
				t.Errorf("ReadFrom: %v, want sticky %v", err, want)
			}
			if err := w.Close(); !errors.Is(err, want) {
				t.Errorf("Close: %v, want sticky %v", err, want)
			}
		}
	}
	// Close error on the final chunk is reported.
	w, err := NewWriter(&errWriter{n: HeaderSize}, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, errBoom) {
		t.Errorf("Close: %v, want errBoom", err)
	}

	// Use after Close.
	w, err = NewWriter(io.Discard, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if _, err := w.ReadFrom(bytes.NewReader([]byte{1})); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFrom after Close: %v", err)
	}

	// A failing source leaves the Writer usable.
	var buf bytes.Buffer
	w, err = NewWriter(&buf, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	src := io.MultiReader(bytes.NewReader(pt[:ChunkSize+7]), iotest.ErrReader(errBoom))
	if n, err := w.ReadFrom(src); !errors.Is(err, errBoom) || n != ChunkSize+7 {
		t.Errorf("ReadFrom failing source = %d, %v", n, err)
	}
	if _, err := w.Write(pt[ChunkSize+7:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := openAll(buf.Bytes(), testKey, testIdentity); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("after source error: %d bytes, %v", len(got), err)
	}

	// Bad randomness source.
	if _, err := NewWriter(io.Discard, testKey, nil, WithRand(bytes.NewReader(make([]byte, 10)))); err == nil {
		t.Error("NewWriter with a short random source succeeded")
	}
}

func TestReaderIOError(t *testing.T) {
	ct := seal(t, plaintext(3*ChunkSize, 9), testKey, testIdentity)
	for _, cut := range []int{3, HeaderSize, HeaderSize + 100, HeaderSize + ctChunkSize + 1} {
		src := io.MultiReader(bytes.NewReader(ct[:cut]), iotest.ErrReader(errBoom))
		r, err := NewReader(src, testKey, testIdentity)
		if err == nil {
			_, err = io.ReadAll(r)
		}
		if !errors.Is(err, errBoom) {
			t.Errorf("cut %d: %v, want errBoom", cut, err)
		}
		for _, s := range []error{ErrAuthentication, ErrTruncated, ErrMalformedHeader} {
			if errors.Is(err, s) {
				t.Errorf("cut %d: I/O error reported as %v", cut, s)
			}
		}
	}
	// WriteTo reports destination errors.
	r, err := NewReader(bytes.NewReader(ct), testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteTo(&errWriter{n: 10}); !errors.Is(err, errBoom) {
		t.Errorf("WriteTo to failing writer: %v", err)
	}
	r, err = NewReader(bytes.NewReader(ct), testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteTo(&errWriter{n: 10, short: true}); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("WriteTo to short writer: %v", err)
	}
}

func TestNoAllocsPerChunk(t *testing.T) {
	pt := plaintext(ChunkSize, 10)
	w, err := NewWriter(io.Discard, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(50, func() { w.Write(pt) }); a != 0 {
		t.Errorf("Writer.Write: %v allocs per chunk", a)
	}
	src := &repeatReader{}
	if a := testing.AllocsPerRun(5, func() { w.ReadFrom(io.LimitReader(src, 4*ChunkSize)) }); a > 1 {
		t.Errorf("Writer.ReadFrom: %v allocs per 4 chunks", a) // LimitReader itself allocates once
	}
	ct := seal(t, plaintext(60*ChunkSize, 11), testKey, testIdentity)
	r, err := NewReader(bytes.NewReader(ct), testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, ChunkSize)
	if a := testing.AllocsPerRun(50, func() {
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Reader.Read: %v allocs per chunk", a)
	}
}

// repeatReader returns len(p) bytes without touching p.
type repeatReader struct{}

func (repeatReader) Read(p []byte) (int, error) { return len(p), nil }

func TestWriteToModes(t *testing.T) {
	pt := plaintext(5*ChunkSize+17, 12)
	ct := seal(t, pt, testKey, testIdentity)
	for _, k := range sourceKinds {
		t.Run(k.name, func(t *testing.T) {
			// After a partial Read, WriteTo continues from the right place.
			r, err := NewReader(k.wrap(ct), testKey, testIdentity)
			if err != nil {
				t.Fatal(err)
			}
			head := make([]byte, ChunkSize+100)
			if _, err := io.ReadFull(r, head); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			n, err := r.WriteTo(&out)
			if err != nil || n != int64(len(pt)-len(head)) || !bytes.Equal(append(head, out.Bytes()...), pt) {
				t.Errorf("Read then WriteTo: n=%d err=%v", n, err)
			}
			if m, err := r.Read(head); m != 0 || err != io.EOF {
				t.Errorf("Read after WriteTo = %d, %v; want 0, EOF", m, err)
			}
			if m, err := r.WriteTo(&out); m != 0 || err != nil {
				t.Errorf("second WriteTo = %d, %v; want 0, nil", m, err)
			}

			// WriteTo after the final chunk was read but not consumed.
			r, err = NewReader(k.wrap(ct), testKey, testIdentity)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(r, make([]byte, len(pt)-3)); err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if n, err := r.WriteTo(&out); n != 3 || err != nil || !bytes.Equal(out.Bytes(), pt[len(pt)-3:]) {
				t.Errorf("WriteTo of the last 3 bytes = %d, %v", n, err)
			}

			// A destination failing mid-stream is reported, only authentic
			// bytes were written, and the Reader stays failed.
			for _, limit := range []int{10, ChunkSize, 2*ChunkSize + 10, 5 * ChunkSize} {
				r, err := NewReader(k.wrap(ct), testKey, testIdentity)
				if err != nil {
					t.Fatal(err)
				}
				dst := &recordingWriter{limit: limit}
				n, err := r.WriteTo(dst)
				if !errors.Is(err, errBoom) || n != int64(limit) || !bytes.Equal(dst.b, pt[:limit]) {
					t.Errorf("limit %d: WriteTo = %d, %v", limit, n, err)
				}
				if _, err := r.Read(head); err == nil || err == io.EOF {
					t.Errorf("limit %d: Read after failed WriteTo: %v", limit, err)
				}
			}

			// A stream error is reported once the preceding chunks were written.
			bad := bytes.Clone(ct)
			bad[chunkAt(3)+5] ^= 1
			r, err = NewReader(k.wrap(bad), testKey, testIdentity)
			if err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if n, err := r.WriteTo(&out); !errors.Is(err, ErrAuthentication) || n != 3*ChunkSize || !bytes.Equal(out.Bytes(), pt[:n]) {
				t.Errorf("tampered chunk 3: WriteTo = %d, %v", n, err)
			}
			if _, err := r.WriteTo(&out); !errors.Is(err, ErrAuthentication) {
				t.Errorf("second WriteTo: %v", err)
			}
		})
	}

	// Source I/O errors, in push (pieces) and pull mode.
	for _, src := range []io.Reader{
		io.MultiReader(bytes.NewReader(ct[:chunkAt(4)-3]), iotest.ErrReader(errBoom)),
		&failingPieces{pieceSource{b: ct[:chunkAt(4)-3]}},
	} {
		r, err := NewReader(src, testKey, testIdentity)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := r.WriteTo(io.Discard); !errors.Is(err, errBoom) || n != 3*ChunkSize {
			t.Errorf("source error: %d, %v", n, err)
		}
		if _, err := r.Read(make([]byte, 1)); !errors.Is(err, errBoom) {
			t.Errorf("Read after source error: %v", err)
		}
	}
}

// failingPieces pushes its data and then fails.
type failingPieces struct{ pieceSource }

func (s *failingPieces) WriteTo(w io.Writer) (int64, error) {
	n, err := s.pieceSource.WriteTo(w)
	if err == nil {
		err = errBoom
	}
	return n, err
}

// A source whose WriteTo keeps pushing after the final chunk was found by
// a pull (ReadFrom) reports trailing data.
type pushAfterPull struct {
	r     io.Reader
	extra []byte
}

func (s pushAfterPull) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s pushAfterPull) WriteTo(w io.Writer) (int64, error) {
	n, err := w.(io.ReaderFrom).ReadFrom(onlyReader{s.r})
	if err != nil {
		return n, err
	}
	m, err := w.Write(s.extra)
	return n + int64(m), err
}

func TestWriteToPushAfterPull(t *testing.T) {
	pt := plaintext(ChunkSize+5, 15)
	ct := seal(t, pt, testKey, testIdentity)
	r, err := NewReader(pushAfterPull{bytes.NewReader(ct), []byte("x")}, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := r.WriteTo(&out); !errors.Is(err, ErrTrailingData) || !bytes.Equal(out.Bytes(), pt) {
		t.Errorf("WriteTo = %d bytes, %v; want ErrTrailingData", out.Len(), err)
	}
}

func TestWriteToFile(t *testing.T) {
	pt := plaintext(4*ChunkSize+1, 16)
	ct := seal(t, pt, testKey, testIdentity)
	path := filepath.Join(t.TempDir(), "obj")
	if err := os.WriteFile(path, ct, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := io.Copy(onlyWriter{&out}, r); err != nil || !bytes.Equal(out.Bytes(), pt) {
		t.Errorf("file: %d bytes, %v", out.Len(), err)
	}
}

// recordingWriter keeps up to limit bytes and then fails.
type recordingWriter struct {
	b     []byte
	limit int
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	n := min(len(p), w.limit-len(w.b))
	w.b = append(w.b, p[:n]...)
	if n < len(p) {
		return n, errBoom
	}
	return n, nil
}

func TestReadFromModes(t *testing.T) {
	pt := plaintext(6*ChunkSize+5, 13)
	ref := seal(t, pt, testKey, testIdentity, WithRand(detRand(13)))

	// Several ReadFrom calls, failing sources and Writes in between
	// produce the same stream as one Write.
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testKey, testIdentity, WithRand(detRand(13)))
	if err != nil {
		t.Fatal(err)
	}
	cuts := []int{3, ChunkSize + 1, 3*ChunkSize + 7, 3*ChunkSize + 8, 5 * ChunkSize, len(pt)}
	prev := 0
	for i, c := range cuts {
		var src io.Reader = onlyReader{bytes.NewReader(pt[prev:c])}
		if i%2 == 1 {
			src = io.MultiReader(src, iotest.ErrReader(errBoom))
		}
		n, err := w.ReadFrom(src)
		if n != int64(c-prev) || (i%2 == 1) != errors.Is(err, errBoom) || (i%2 == 0 && err != nil) {
			t.Fatalf("ReadFrom #%d = %d, %v; want %d", i, n, err, c-prev)
		}
		prev = c
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), ref) {
		t.Error("ReadFrom sequence produced a different stream")
	}

	// A source returning a full buffer together with an error.
	buf.Reset()
	w, err = NewWriter(&buf, testKey, testIdentity, WithRand(detRand(13)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.ReadFrom(&dataErrReader{b: pt[:2*ChunkSize+1], err: errBoom}); n != 2*ChunkSize+1 || !errors.Is(err, errBoom) {
		t.Fatalf("ReadFrom = %d, %v", n, err)
	}
	if _, err := w.Write(pt[2*ChunkSize+1:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil || !bytes.Equal(buf.Bytes(), ref) {
		t.Errorf("data+error source: Close %v, equal %t", err, bytes.Equal(buf.Bytes(), ref))
	}

	// A source that makes no progress.
	w, err = NewWriter(io.Discard, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ReadFrom(zeroReader{}); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("ReadFrom(zeroReader) = %v", err)
	}

	// A destination failing during ReadFrom is sticky.
	for _, limit := range []int{10, HeaderSize + ctChunkSize + 5, HeaderSize + 3*ctChunkSize} {
		w, err := NewWriter(&errWriter{n: limit}, testKey, testIdentity)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ReadFrom(onlyReader{bytes.NewReader(pt)}); !errors.Is(err, errBoom) {
			t.Errorf("limit %d: ReadFrom: %v", limit, err)
		}
		if err := w.Close(); !errors.Is(err, errBoom) {
			t.Errorf("limit %d: Close: %v", limit, err)
		}
	}
}

// dataErrReader returns all its data in one Read, together with err.
type dataErrReader struct {
	b   []byte
	err error
}

func (r *dataErrReader) Read(p []byte) (int, error) {
	n := copy(p, r.b)
	r.b = r.b[n:]
	if len(r.b) == 0 {
		return n, r.err
	}
	return n, nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { return 0, nil }

// TestWriteToNoAllocsPerChunk checks that every WriteTo path allocates a
// constant amount per stream, independent of the number of chunks.
func TestWriteToNoAllocsPerChunk(t *testing.T) {
	small := seal(t, plaintext(2*ChunkSize+1, 17), testKey, testIdentity)
	large := seal(t, plaintext(40*ChunkSize+1, 17), testKey, testIdentity)
	for _, k := range sourceKinds {
		allocs := func(ct []byte) float64 {
			return testing.AllocsPerRun(5, func() {
				r, err := NewReader(k.wrap(ct), testKey, testIdentity)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.WriteTo(io.Discard); err != nil {
					t.Fatal(err)
				}
			})
		}
		// Under the race detector sync.Pool drops recycled chunk
		// buffers at random, so a stream may allocate one or two more.
		slack := 0.0
		if raceEnabled {
			slack = 2
		}
		if a, b := allocs(small), allocs(large); a < b-slack || a > b+slack {
			t.Errorf("%s: %v allocs for 3 chunks, %v for 41", k.name, a, b)
		}
	}
}
