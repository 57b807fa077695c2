package stream

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"slices"
	"testing"
)

// streamUse runs one whole stream through one of the package's entry
// points, in the way a caller would.
type streamUse struct {
	name string
	run  func(t *testing.T, ct []byte) error
}

func sequentialUses(copyBuf []byte) []streamUse {
	readAll := func(src func([]byte) io.Reader, viaWriteTo bool) func(*testing.T, []byte) error {
		return func(t *testing.T, ct []byte) error {
			r, err := NewReader(src(ct), testKey, testIdentity)
			if err != nil {
				return err
			}
			if viaWriteTo {
				_, err = r.WriteTo(io.Discard)
			} else {
				_, err = io.CopyBuffer(onlyWriter{io.Discard}, onlyReader{r}, copyBuf)
			}
			return err
		}
	}
	rangeAll := func(viaWriteTo bool) func(*testing.T, []byte) error {
		return func(t *testing.T, ct []byte) error {
			plain, err := DecryptedSize(int64(len(ct)))
			if err != nil {
				return err
			}
			r, err := NewRangeReader(bytes.NewReader(ct), int64(len(ct)), testKey, testIdentity, 1, plain-1)
			if err != nil {
				return err
			}
			if viaWriteTo {
				_, err = r.(io.WriterTo).WriteTo(io.Discard)
			} else {
				_, err = io.CopyBuffer(onlyWriter{io.Discard}, onlyReader{r}, copyBuf)
			}
			return err
		}
	}
	push := func(b []byte) io.Reader { return bytes.NewReader(b) }
	pull := func(b []byte) io.Reader { return onlyReader{bytes.NewReader(b)} }
	return []streamUse{
		{"Reader.Read", readAll(pull, false)},
		{"Reader.WriteTo/push", readAll(push, true)},
		{"Reader.WriteTo/pull", readAll(pull, true)},
		{"rangeReader.Read", rangeAll(false)},
		{"rangeReader.WriteTo", rangeAll(true)},
	}
}

// TestChunkBuffersRecycled checks that a stream's chunk buffers go back
// to the pools when it ends, so that a stream costs far less than its
// 64 KiB (Writer) or 128 KiB (readers) of buffers: before recycling, a
// 1 MiB stream spent several percent of its decryption time allocating
// and zeroing them and in the garbage collector.
func TestChunkBuffersRecycled(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	pt := plaintext(2*ChunkSize+100, 30)
	ct := seal(t, pt, testKey, testIdentity)
	copyBuf := make([]byte, 32<<10)
	uses := append(sequentialUses(copyBuf),
		streamUse{"Writer.Write", func(t *testing.T, _ []byte) error {
			w, err := NewWriter(io.Discard, testKey, testIdentity)
			if err != nil {
				return err
			}
			if _, err := w.Write(pt); err != nil {
				return err
			}
			return w.Close()
		}},
		streamUse{"Writer.ReadFrom", func(t *testing.T, _ []byte) error {
			w, err := NewWriter(io.Discard, testKey, testIdentity)
			if err != nil {
				return err
			}
			if _, err := w.ReadFrom(onlyReader{bytes.NewReader(pt)}); err != nil {
				return err
			}
			return w.Close()
		}},
	)
	const streams = 20
	const limit = 16 << 10 // bytes per stream; a chunk buffer is 64 KiB
	for _, u := range uses {
		t.Run(u.name, func(t *testing.T) {
			if err := u.run(t, ct); err != nil { // warm the pools
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range streams {
				if err := u.run(t, ct); err != nil {
					t.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			if per := (after.TotalAlloc - before.TotalAlloc) / streams; per > limit {
				t.Errorf("%d bytes allocated per stream, want at most %d (chunk buffers not recycled?)", per, limit)
			}
		})
	}
}

// spySource passes reads through to r and records whether a buffer it was
// handed held a run of the marker plaintext.
type spySource struct {
	r    io.Reader
	seen *bool
}

var marker = bytes.Repeat([]byte{0xA5}, 32)

func (s spySource) Read(p []byte) (int, error) {
	if bytes.Contains(p, marker) {
		*s.seen = true
	}
	return s.r.Read(p)
}

// TestRecycledBuffersHoldNoPlaintext checks that a buffer recycled from a
// stream that decrypted plaintext is never handed to another stream's
// source reader (Writer.ReadFrom and Reader read into their buffers, and
// an io.Reader may look at what it is given).
func TestRecycledBuffersHoldNoPlaintext(t *testing.T) {
	secret := seal(t, bytes.Repeat(marker[:1], 2*ChunkSize+300), testKey, testIdentity)
	other := seal(t, make([]byte, 3*ChunkSize), testKey, testIdentity)
	copyBuf := make([]byte, 32<<10)
	for _, u := range sequentialUses(copyBuf) {
		t.Run(u.name, func(t *testing.T) {
			for range 3 {
				if err := u.run(t, secret); err != nil {
					t.Fatal(err)
				}
				// Hold several streams open at once so that they draw
				// every buffer the pool has, not only the last one put.
				var seen bool
				var ws []*Writer
				var rs []*Reader
				for range 4 {
					w, err := NewWriter(io.Discard, testKey, testIdentity)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := w.ReadFrom(spySource{bytes.NewReader(make([]byte, 2*ChunkSize)), &seen}); err != nil {
						t.Fatal(err)
					}
					ws = append(ws, w)
					r, err := NewReader(spySource{bytes.NewReader(other), &seen}, testKey, testIdentity)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := r.Read(make([]byte, 1)); err != nil {
						t.Fatal(err)
					}
					rs = append(rs, r)
				}
				for i := range ws {
					if err := ws[i].Close(); err != nil {
						t.Fatal(err)
					}
					if _, err := io.CopyBuffer(onlyWriter{io.Discard}, onlyReader{rs[i]}, copyBuf); err != nil {
						t.Fatal(err)
					}
				}
				if seen {
					t.Fatal("a source reader was handed a buffer holding another stream's plaintext")
				}
			}
		})
	}
}

// scribbler uses all of p as scratch space, as io.Reader allows, but
// returns one byte, then io.EOF.
type scribbler struct{ done bool }

func (s *scribbler) Read(p []byte) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	s.done = true
	for i := range p {
		p[i] = marker[0]
	}
	return 1, nil
}

// TestWriterClearsRecycledBuffer checks that a Writer clears its buffer
// before recycling it: its source may have left its own data in the
// buffer past the bytes it returned, which sealing does not overwrite.
func TestWriterClearsRecycledBuffer(t *testing.T) {
	w, err := NewWriter(io.Discard, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.ReadFrom(&scribbler{}); err != nil {
		t.Fatal(err)
	}
	arr := w.arr
	if arr[ChunkSize] != marker[0] {
		t.Fatalf("test premise: buffer holds %#x past the data, want %#x", arr[ChunkSize], marker[0])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(arr[:], func(b byte) bool { return b != 0 }); i >= 0 {
		t.Errorf("recycled buffer holds %#x at %d, want all zero", arr[i], i)
	}
}

// capWriter records whether a Write was given a slice with capacity past
// its length, through which it could see other bytes of the buffer.
type capWriter struct{ spare int }

func (w *capWriter) Write(p []byte) (int, error) {
	w.spare = max(w.spare, cap(p)-len(p))
	return len(p), nil
}

// TestWriteToCutsCapacity checks that WriteTo hands its destination only
// the verified plaintext: the rest of the (recycled) plaintext buffer is
// out of reach of the slice's capacity.
func TestWriteToCutsCapacity(t *testing.T) {
	ct := seal(t, plaintext(2*ChunkSize+100, 31), testKey, testIdentity)
	for _, k := range sourceKinds {
		t.Run(k.name, func(t *testing.T) {
			r, err := NewReader(k.wrap(ct), testKey, testIdentity)
			if err != nil {
				t.Fatal(err)
			}
			var w capWriter
			if _, err := r.WriteTo(&w); err != nil {
				t.Fatal(err)
			}
			if w.spare != 0 {
				t.Errorf("Write saw %d bytes of capacity past the plaintext", w.spare)
			}
		})
	}
	t.Run("range", func(t *testing.T) {
		r, err := NewRangeReader(bytes.NewReader(ct), int64(len(ct)), testKey, testIdentity, 5, 2*ChunkSize)
		if err != nil {
			t.Fatal(err)
		}
		var w capWriter
		if _, err := r.(io.WriterTo).WriteTo(&w); err != nil {
			t.Fatal(err)
		}
		if w.spare != 0 {
			t.Errorf("Write saw %d bytes of capacity past the plaintext", w.spare)
		}
	})
}

// TestUseAfterEnd checks that a reader whose buffers went back to the
// pools still answers every later call with its sticky result.
func TestUseAfterEnd(t *testing.T) {
	ct := seal(t, plaintext(2*ChunkSize+100, 32), testKey, testIdentity)
	bad := bytes.Clone(ct)
	bad[HeaderSize+ctChunkSize+7] ^= 1 // chunk 1
	for _, tc := range []struct {
		name string
		ct   []byte
		want error // nil: the end of a valid stream
	}{
		{"valid", ct, nil},
		{"tampered", bad, ErrAuthentication},
	} {
		check := func(t *testing.T, what string, n int64, err error) {
			t.Helper()
			if n != 0 {
				t.Errorf("%s after the end: %d bytes", what, n)
			}
			if tc.want == nil && err != nil && err != io.EOF || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s after the end: %v, want %v", what, err, tc.want)
			}
		}
		t.Run(tc.name+"/Reader", func(t *testing.T) {
			for _, viaWriteTo := range []bool{false, true} {
				r, err := NewReader(bytes.NewReader(tc.ct), testKey, testIdentity)
				if err != nil {
					t.Fatal(err)
				}
				if viaWriteTo {
					_, err = r.WriteTo(io.Discard)
				} else {
					_, err = io.Copy(io.Discard, onlyReader{r})
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("first pass: %v, want %v", err, tc.want)
				}
				for range 2 {
					n, err := r.Read(make([]byte, 10))
					check(t, "Read", int64(n), err)
					n64, err := r.WriteTo(io.Discard)
					check(t, "WriteTo", n64, err)
				}
			}
		})
		t.Run(tc.name+"/range", func(t *testing.T) {
			for _, viaWriteTo := range []bool{false, true} {
				r, err := NewRangeReader(bytes.NewReader(tc.ct), int64(len(tc.ct)), testKey, testIdentity, 0, 2*ChunkSize+100)
				if err != nil {
					t.Fatal(err)
				}
				if viaWriteTo {
					_, err = r.(io.WriterTo).WriteTo(io.Discard)
				} else {
					_, err = io.Copy(io.Discard, onlyReader{r})
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("first pass: %v, want %v", err, tc.want)
				}
				for range 2 {
					n, err := r.Read(make([]byte, 10))
					check(t, "Read", int64(n), err)
					n64, err := r.(io.WriterTo).WriteTo(io.Discard)
					check(t, "WriteTo", n64, err)
				}
			}
		})
	}
}

// TestWriteToOpensPushedFinalChunkInPlace checks that when a source
// pushes a whole (small) stream in one Write, as bytes.Reader does, the
// final chunk is opened where it lies like the others instead of being
// copied into the chunk buffer first, and that the result is unchanged.
func TestWriteToOpensPushedFinalChunkInPlace(t *testing.T) {
	for _, size := range []int{0, 100, ChunkSize, 2*ChunkSize + 100, 16 * ChunkSize} {
		pt := plaintext(size, 33)
		ct := seal(t, pt, testKey, testIdentity)
		r, err := NewReader(bytes.NewReader(ct), testKey, testIdentity)
		if err != nil {
			t.Fatal(err)
		}
		arr := r.bufs.ctArr
		for i := range arr {
			arr[i] = 0xEE
		}
		var out bytes.Buffer
		if _, err := r.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), pt) {
			t.Fatalf("%d bytes: WriteTo: %v (%d bytes out)", size, err, out.Len())
		}
		if i := slices.IndexFunc(arr[:], func(b byte) bool { return b != 0xEE }); i >= 0 {
			t.Errorf("%d bytes: the chunk buffer was written at %d: a pushed chunk was copied", size, i)
		}
	}
}

// TestReadOpensIntoLargeBuffer checks that Read with room for a whole
// chunk opens it straight into the caller's buffer (the Reader's own
// plaintext buffer stays untouched), returns the same bytes as before,
// and leaves no unauthenticated plaintext in the buffer on failure.
func TestReadOpensIntoLargeBuffer(t *testing.T) {
	for _, size := range []int{0, 100, ChunkSize, 3*ChunkSize + 100} {
		pt := plaintext(size, 34)
		ct := seal(t, pt, testKey, testIdentity)
		r, err := NewReader(onlyReader{bytes.NewReader(ct)}, testKey, testIdentity)
		if err != nil {
			t.Fatal(err)
		}
		arr := r.bufs.ptArr
		for i := range arr {
			arr[i] = 0xEE
		}
		var got []byte
		buf := make([]byte, ChunkSize+5)
		for {
			n, err := r.Read(buf)
			got = append(got, buf[:n]...)
			if n > ChunkSize {
				t.Fatalf("%d bytes: Read returned %d bytes, more than a chunk", size, n)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%d bytes: %v", size, err)
			}
		}
		if !bytes.Equal(got, pt) {
			t.Errorf("%d bytes: Read returned %d different bytes", size, len(got))
		}
		if i := slices.IndexFunc(arr[:], func(b byte) bool { return b != 0xEE }); i >= 0 {
			t.Errorf("%d bytes: the plaintext buffer was written at %d: chunks were copied out of it", size, i)
		}
	}

	pt := plaintext(3*ChunkSize, 35)
	ct := seal(t, pt, testKey, testIdentity)
	ct[HeaderSize+ctChunkSize+9] ^= 1 // chunk 1: the rest of it still decrypts to pt under CTR
	r, err := NewReader(onlyReader{bytes.NewReader(ct)}, testKey, testIdentity)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, ChunkSize)
	if n, err := r.Read(buf); n != ChunkSize || err != nil {
		t.Fatalf("chunk 0: %d, %v", n, err)
	}
	if n, err := r.Read(buf); n != 0 || !errors.Is(err, ErrAuthentication) {
		t.Fatalf("tampered chunk 1: %d, %v; want 0, ErrAuthentication", n, err)
	}
	if bytes.Contains(buf, pt[ChunkSize+1000:ChunkSize+1064]) {
		t.Error("after the failed chunk the buffer holds its unauthenticated plaintext")
	}
}
