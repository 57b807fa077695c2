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

// slowCheckingWriter is the same for dst, which runs on a goroutine of
// its own beside the hasher.
type slowCheckingWriter struct {
	w       io.Writer
	changed bool
}

func (s *slowCheckingWriter) Write(p []byte) (int, error) {
	before := bytes.Clone(p)
	time.Sleep(time.Millisecond)
	if !bytes.Equal(before, p) {
		s.changed = true
	}
	return s.w.Write(p)
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
		readErr int // the read fails after this many bytes; 0 = never
	}{
		{"empty", 0, nil, 0, 0},
		{"one byte", 1, nil, 0, 0},
		{"one buffer less one", copyBufSize - 1, nil, 0, 0},
		{"one buffer", copyBufSize, nil, 0, 0},
		{"one buffer and one", copyBufSize + 1, nil, 0, 0},
		{"many buffers", 5*copyBufSize + 12345, nil, 0, 0},
		{"the ring wraps three times", 3*pipeDepth*copyBufSize + 5, nil, 0, 0},
		{"small reads", 3*copyBufSize + 7, iotest.HalfReader, 0, 0},
		{"one byte reads", 70_000, iotest.OneByteReader, 0, 0},
		{"read error in the first buffer", copyBufSize, nil, 0, 10},
		{"read error mid-way", 4 * copyBufSize, nil, 0, 2*copyBufSize + 10},
		{"read error after the ring wrapped", 3 * pipeDepth * copyBufSize, nil, 0, 2*pipeDepth*copyBufSize + 10},
		{"dst fails", 4 * copyBufSize, nil, 2*copyBufSize + 10, 0},
		{"dst fails in the first buffer", copyBufSize - 1, nil, 10, 0},
		{"dst fails after the ring wrapped", 3 * pipeDepth * copyBufSize, nil, 2*pipeDepth*copyBufSize + 10, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := pattern(c.size, byte(c.size))
			var src io.Reader = bytes.NewReader(data)
			if c.readErr > 0 {
				src = io.MultiReader(io.LimitReader(src, int64(c.readErr)), iotest.ErrReader(errRead))
			}
			if c.src != nil {
				src = c.src(src)
			}
			var out bytes.Buffer
			var inner io.Writer = &out
			if c.dstFail > 0 {
				inner = &failingWriter{after: c.dstFail}
			}
			dst := &slowCheckingWriter{w: inner}
			side := &slowCheckingHash{Hash: md5.New()}
			n, err := copyHashed(dst, side, src)
			if side.changed || dst.changed {
				t.Fatal("a buffer was refilled while a worker read it")
			}
			switch {
			case c.readErr > 0:
				if !errors.Is(err, errRead) {
					t.Fatalf("err = %v, want the read error", err)
				}
				// What was read before the error was written, in order.
				if n != int64(c.readErr) || !bytes.Equal(out.Bytes(), data[:c.readErr]) {
					t.Fatalf("copied %d bytes before the read error, want %d", n, c.readErr)
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
