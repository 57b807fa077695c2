package stream

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

var sentinels = []error{ErrMalformedHeader, ErrUnsupportedVersion, ErrKeyCommitment, ErrAuthentication,
	ErrTruncated, ErrTrailingData, ErrInvalidRange, ErrInvalidSize, ErrTooLarge, ErrSizeMismatch}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzParseHeader(f *testing.F) {
	valid := seal(f, nil, testKey, testIdentity, WithRand(detRand(40)))[:HeaderSize]
	f.Add(valid)
	f.Add(valid[:offExp])
	f.Add([]byte{})
	f.Add([]byte("SSAS\x02"))
	f.Add(append([]byte("SSAS\x01\x10"), make([]byte, HeaderSize-6)...))
	f.Add(append(bytes.Clone(valid), 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedHeader) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("untyped error %v", err)
			}
		} else {
			if len(b) != HeaderSize {
				t.Fatalf("accepted %d bytes", len(b))
			}
			if m := h.marshal(); !bytes.Equal(m[:], b) {
				t.Fatal("marshal(ParseHeader(b)) != b")
			}
		}
		h2, err2 := ReadHeader(bytes.NewReader(b))
		if len(b) >= HeaderSize {
			want, werr := ParseHeader(b[:HeaderSize])
			if (err2 == nil) != (werr == nil) || h2 != want {
				t.Fatalf("ReadHeader = %+v, %v; ParseHeader(b[:HeaderSize]) = %+v, %v", h2, err2, want, werr)
			}
		} else if err2 == nil {
			t.Fatalf("ReadHeader accepted %d bytes", len(b))
		}
	})
}

type knownStream struct{ pt, ct []byte }

// FuzzDecrypt feeds arbitrary bytes to the sequential and range readers
// under a fixed key and identity. Forging is infeasible, so the only
// inputs that may decrypt without error are the known seed streams, to
// their exact plaintext; any plaintext released before an error must be a
// prefix of the known stream with the same header.
func FuzzDecrypt(f *testing.F) {
	var known []knownStream
	for i, n := range []int{0, 1, 33, ChunkSize, ChunkSize + 3} {
		pt := plaintext(n, uint64(50+i))
		known = append(known, knownStream{pt, seal(f, pt, testKey, testIdentity, WithRand(detRand(uint64(50+i))))})
	}
	for _, k := range known {
		f.Add(k.ct, uint32(0), uint32(len(k.pt)))
		f.Add(k.ct, uint32(len(k.pt)/2), uint32(1))
	}
	f.Add(known[2].ct[:len(known[2].ct)-1], uint32(0), uint32(5))
	f.Add(append(bytes.Clone(known[3].ct), known[1].ct[HeaderSize:]...), uint32(0), uint32(5))

	check := func(t *testing.T, what string, ct, got []byte, off int64, err error) {
		if err != nil && !isSentinel(err) {
			t.Fatalf("%s: untyped error %v", what, err)
		}
		if err == nil {
			for _, k := range known {
				if bytes.Equal(k.ct, ct) {
					if off+int64(len(got)) > int64(len(k.pt)) || !bytes.Equal(got, k.pt[off:off+int64(len(got))]) {
						t.Fatalf("%s: wrong plaintext from a known stream", what)
					}
					return
				}
			}
			t.Fatalf("%s: accepted an unknown stream of %d bytes", what, len(ct))
		}
		if len(got) == 0 {
			return
		}
		for _, k := range known {
			if len(ct) >= HeaderSize && bytes.Equal(k.ct[:HeaderSize], ct[:HeaderSize]) &&
				off+int64(len(got)) <= int64(len(k.pt)) && bytes.Equal(got, k.pt[off:off+int64(len(got))]) {
				return
			}
		}
		t.Fatalf("%s: released %d bytes of wrong plaintext before %v", what, len(got), err)
	}

	f.Fuzz(func(t *testing.T, ct []byte, off, length uint32) {
		var got []byte
		r, err := NewReader(bytes.NewReader(ct), testKey, testIdentity)
		if err == nil {
			got, err = io.ReadAll(r)
		}
		check(t, "Reader", ct, got, 0, err)

		// WriteTo, fed by the source's WriteTo (push) and by pieces,
		// releases the same bytes and fails the same way.
		for _, src := range []io.Reader{bytes.NewReader(ct), &pieceSource{b: ct}} {
			var out bytes.Buffer
			r2, err2 := NewReader(src, testKey, testIdentity)
			if err2 == nil {
				_, err2 = r2.WriteTo(&out)
			}
			check(t, "WriteTo", ct, out.Bytes(), 0, err2)
			if !bytes.Equal(out.Bytes(), got) || (err == nil) != (err2 == nil) {
				t.Fatalf("WriteTo: %d bytes, %v; Read: %d bytes, %v", out.Len(), err2, len(got), err)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) != errors.Is(err2, s) {
					t.Fatalf("WriteTo error %v, Read error %v", err2, err)
				}
			}
		}
		if err == nil {
			if p, err := DecryptedSize(int64(len(ct))); err != nil || p != int64(len(got)) {
				t.Fatalf("DecryptedSize = %d, %v for a valid %d-byte plaintext", p, err, len(got))
			}
		}

		got = nil
		rr, err := NewRangeReader(bytes.NewReader(ct), int64(len(ct)), testKey, testIdentity, int64(off), int64(length))
		if err == nil {
			got, err = io.ReadAll(rr)
			if err == nil && int64(len(got)) != int64(length) {
				t.Fatalf("range returned %d bytes, want %d", len(got), length)
			}
		}
		if errors.Is(err, ErrInvalidRange) {
			return // the range does not fit the (claimed) size
		}
		if err == nil && len(got) == 0 {
			return // nothing released (a zero-length range verifies only the header)
		}
		if err == nil {
			// A successful range read need not verify the whole stream; it
			// must still be the plaintext of the stream with this header.
			for _, k := range known {
				if bytes.Equal(k.ct[:HeaderSize], ct[:HeaderSize]) && int64(off)+int64(len(got)) <= int64(len(k.pt)) &&
					bytes.Equal(got, k.pt[off:int64(off)+int64(len(got))]) {
					return
				}
			}
			t.Fatalf("range [%d,+%d) returned wrong plaintext", off, length)
		}
		check(t, "range", ct, got, int64(off), err)
	})
}

// FuzzWriterOptions writes a plaintext in fuzzed pieces (Write or
// ReadFrom) with a declared size off by delta, with or without aligned
// writes. With the size right (or undeclared) the stream is byte for byte
// the one a single Write makes; with it wrong some call fails with
// ErrSizeMismatch and what reached the destination never decrypts.
func FuzzWriterOptions(f *testing.F) {
	f.Add(uint32(3*ChunkSize+5), []byte{0, 1, 255, 7}, int16(0), true, true)
	f.Add(uint32(4*ChunkSize), []byte{4, 4}, int16(-1), true, false)
	f.Add(uint32(ChunkSize), []byte{1}, int16(1), false, true)
	f.Add(uint32(0), []byte{}, int16(0), true, true)
	f.Fuzz(func(t *testing.T, size uint32, cuts []byte, delta int16, sized, aligned bool) {
		size %= 9*ChunkSize + 1
		pt := plaintext(int(size), 70)
		ref := seal(t, pt, testKey, testIdentity, WithRand(detRand(71)))
		declared := int64(size) + int64(delta)
		opts := []Option{WithRand(detRand(71))}
		if sized {
			opts = append(opts, WithSize(declared))
		}
		if aligned {
			opts = append(opts, WithAlignedWrites())
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, testKey, testIdentity, opts...)
		if sized && declared < 0 {
			if !errors.Is(err, ErrInvalidSize) {
				t.Fatalf("WithSize(%d): %v", declared, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		// Each cut byte is a piece of cut*1021 bytes (0: the rest); odd
		// ones go through ReadFrom.
		var werr error
		rest := pt
		for i := 0; len(rest) > 0 && werr == nil; i++ {
			n := len(rest)
			if i < len(cuts) && cuts[i] != 0 {
				n = min(n, int(cuts[i])*1021)
			}
			if i < len(cuts) && cuts[i]%2 == 1 {
				_, werr = w.ReadFrom(onlyReader{bytes.NewReader(rest[:n])})
			} else {
				_, werr = w.Write(rest[:n])
			}
			rest = rest[n:]
		}
		cerr := w.Close()
		if !sized || delta == 0 {
			if werr != nil || cerr != nil {
				t.Fatalf("write: %v, Close: %v", werr, cerr)
			}
			if !bytes.Equal(buf.Bytes(), ref) {
				t.Fatal("a different stream")
			}
			return
		}
		if !errors.Is(cerr, ErrSizeMismatch) || (werr != nil && !errors.Is(werr, ErrSizeMismatch)) {
			t.Fatalf("declared %d of %d: write: %v, Close: %v", declared, size, werr, cerr)
		}
		if _, err := openAll(buf.Bytes(), testKey, testIdentity); err == nil {
			t.Fatalf("declared %d of %d: the destination holds a valid stream", declared, size)
		}
	})
}
