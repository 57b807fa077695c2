package objstore

import (
	"bytes"
	"crypto/md5"
	"errors"
	"hash"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

// slowCheckingHash is MD5 that dawdles over every buffer and checks that
// the buffer did not change meanwhile: a refill while the hasher still
// reads it shows as a mismatch (and, under -race, as a race).
type slowCheckingHash struct {
	hash.Hash
	changed bool
}

func (s *slowCheckingHash) Write(p []byte) (int, error) {
	before := bytes.Clone(p)
	time.Sleep(2 * time.Millisecond)
	if !bytes.Equal(before, p) {
		s.changed = true
	}
	return s.Hash.Write(p)
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after -= len(p); f.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestCopyHashed(t *testing.T) {
	errRead := errors.New("connection reset")
	cases := []struct {
		name    string
		size    int
		src     func(io.Reader) io.Reader
		dstFail int // fail dst after this many bytes; 0 = never
		readErr bool
	}{
		{"empty", 0, nil, 0, false},
		{"one byte", 1, nil, 0, false},
		{"one buffer less one", copyBufSize - 1, nil, 0, false},
		{"one buffer", copyBufSize, nil, 0, false},
		{"one buffer and one", copyBufSize + 1, nil, 0, false},
		{"many buffers", 5*copyBufSize + 12345, nil, 0, false},
		{"small reads", 3*copyBufSize + 7, iotest.HalfReader, 0, false},
		{"one byte reads", 70_000, iotest.OneByteReader, 0, false},
		{"read error mid-way", 4 * copyBufSize, func(r io.Reader) io.Reader {
			return io.MultiReader(io.LimitReader(r, 2*copyBufSize+10), iotest.ErrReader(errRead))
		}, 0, true},
		{"dst fails", 4 * copyBufSize, nil, 2*copyBufSize + 10, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := pattern(c.size, byte(c.size))
			var src io.Reader = bytes.NewReader(data)
			if c.src != nil {
				src = c.src(src)
			}
			var out bytes.Buffer
			var dst io.Writer = &out
			if c.dstFail > 0 {
				dst = &failingWriter{after: c.dstFail}
			}
			side := &slowCheckingHash{Hash: md5.New()}
			n, err := copyHashed(dst, side, src)
			if side.changed {
				t.Fatal("a buffer was refilled while the hasher read it")
			}
			switch {
			case c.readErr:
				if !errors.Is(err, errRead) {
					t.Fatalf("err = %v, want the read error", err)
				}
				return
			case c.dstFail > 0:
				if err == nil || n > int64(c.dstFail) {
					t.Fatalf("copied %d, err %v; want the write error", n, err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if n != int64(c.size) || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("copied %d of %d bytes, equal=%t", n, c.size, bytes.Equal(out.Bytes(), data))
			}
			if want := md5.Sum(data); !bytes.Equal(side.Sum(nil), want[:]) {
				t.Fatalf("side hash %x, want %x", side.Sum(nil), want)
			}
		})
	}
}
