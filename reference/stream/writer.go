package stream

import (
	"crypto/rand"
	"fmt"
	"io"
	"sync"
)

// Option configures NewWriter.
type Option func(*config)

type config struct {
	rand    io.Reader
	size    int64 // declared plaintext size (WithSize)
	sizeSet bool
	aligned bool // WithAlignedWrites
}

// WithRand sets the source of the header's salt and nonce prefix (39
// bytes, read once per stream). The default is crypto/rand.Reader.
// Inject a deterministic reader only in tests: two streams with the same
// data key, identity and random bytes are identical, and with a
// predictable source the salt no longer guarantees a fresh key per stream.
func WithRand(r io.Reader) Option {
	return func(c *config) { c.rand = r }
}

// WithSize declares that exactly size bytes of plaintext will be written
// (for instance a request's Content-Length). The Writer then knows which
// chunk is the final one, so it seals every full non-final chunk straight
// from the caller's slice instead of holding the last one of each Write
// back in its buffer (a copy of up to ChunkSize bytes per Write) until
// more data proves it is not final. The stream is byte-for-byte the one
// an undeclared Writer produces from the same bytes.
//
// The declaration is enforced: a Write or ReadFrom that would exceed size
// fails before anything of it is sealed, and Close after fewer bytes
// fails without writing the final chunk (the partial stream is rejected
// by readers as truncated); both errors wrap ErrSizeMismatch and are
// sticky. NewWriter rejects a negative size (ErrInvalidSize) and one above
// MaxPlaintextSize (ErrTooLarge). Without WithSize the size is unknown
// and any length up to MaxPlaintextSize may be written.
func WithSize(size int64) Option {
	return func(c *config) { c.size, c.sizeSet = size, true }
}

// WithAlignedWrites makes the Writer seal chunks into an output buffer of
// its own and write the destination in page-aligned pieces: every write
// but the one Close makes is a multiple of 4 KiB (a page) and at least
// AlignedWriteSize bytes, so each starts at a page boundary of the
// stream. Without it the header and every chunk (ChunkSize plus a
// tag, which after the header starts and ends inside a page) are written
// on their own. Use it when the destination is a file: it replaces a
// bufio.Writer in front of it, which would copy every chunk once more.
// The output buffer holds only the header and ciphertext and is recycled
// when Close succeeds; the stream's bytes are the same.
func WithAlignedWrites() Option {
	return func(c *config) { c.aligned = true }
}

// Sizes of WithAlignedWrites' output.
const (
	// AlignedWriteSize is the least size of a write WithAlignedWrites
	// makes before Close. Larger writes to a file were no cheaper (ext4,
	// 1 MiB measured).
	AlignedWriteSize = 256 << 10
	// pageSize is the alignment of those writes.
	pageSize = 4 << 10
)

// outBuf holds sealed chunks until at least AlignedWriteSize bytes can be
// written: less than that plus one full chunk.
type outBuf = [AlignedWriteSize + ctChunkSize]byte

// outPool recycles outBufs. They hold only header and ciphertext bytes
// and are handed to nothing but the destination's Write.
var outPool = sync.Pool{New: func() any { return new(outBuf) }}

// Writer encrypts a stream. It is an io.WriteCloser and an io.ReaderFrom.
// It buffers at most one chunk (ChunkSize bytes) of plaintext (and with
// WithAlignedWrites less than AlignedWriteSize plus a chunk of ciphertext)
// and performs no allocation per chunk; its buffers are recycled for
// another stream when Close succeeds. A Writer is not safe for concurrent
// use.
//
// The caller MUST call Close to write the final chunk: a stream that was
// not closed is rejected by readers as truncated. Close does not close the
// underlying writer. After the first error from the underlying writer (or
// a size mismatch, see WithSize) the Writer is unusable and returns that
// error from every call.
type Writer struct {
	dst    io.Writer
	c      chunkCipher
	header Header
	arr    *chunkBuf // from wirePool, returned cleared by a successful Close
	buf    []byte    // arr[:ctChunkSize]; plaintext in buf[:n], sealed in place
	n      int       // buffered plaintext bytes, 0..ChunkSize (ChunkSize+1 transiently in ReadFrom)
	size   int64     // declared plaintext size (WithSize); -1: unknown
	in     int64     // plaintext bytes accepted so far
	idx    uint64    // index of the next chunk to seal
	sent   bool      // header written (or, with out, put in out)
	out    *outBuf   // WithAlignedWrites: sealed bytes not yet written, out[:on]
	on     int
	closed bool
	err    error // sticky error from dst or the size limit
}

// NewWriter returns a Writer that encrypts to w under dataKey (exactly 32
// bytes, normally a fresh random key per object) bound to identity (an
// opaque, canonical encoding of where the object lives; the same bytes
// MUST be passed to the reader). NewWriter does no I/O on w: the header
// is written just before the first chunk, at the latest by Close.
//
// The per-stream salt and nonce prefix are drawn from crypto/rand unless
// WithRand is given.
func NewWriter(w io.Writer, dataKey, identity []byte, opts ...Option) (*Writer, error) {
	if err := checkKey(dataKey); err != nil {
		return nil, err
	}
	cfg := config{rand: rand.Reader}
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.sizeSet {
		cfg.size = -1
	} else {
		switch {
		case cfg.size < 0:
			return nil, fmt.Errorf("%w: declared plaintext size %d is negative", ErrInvalidSize, cfg.size)
		case cfg.size > MaxPlaintextSize:
			return nil, fmt.Errorf("%w: declared plaintext size %d exceeds %d", ErrTooLarge, cfg.size, MaxPlaintextSize)
		}
	}
	h := Header{Version: Version, ChunkSize: ChunkSize}
	var random [saltSize + prefixSize]byte
	if _, err := io.ReadFull(cfg.rand, random[:]); err != nil {
		return nil, fmt.Errorf("stream: reading random salt: %w", err)
	}
	copy(h.Salt[:], random[:saltSize])
	copy(h.NoncePrefix[:], random[saltSize:])
	encKey, commitment, err := deriveKeys(dataKey, h.Salt[:], identity)
	if err != nil {
		return nil, err
	}
	copy(h.Commitment[:], commitment)
	sw := &Writer{dst: w, header: h, size: cfg.size}
	hdr := h.marshal()
	if err := sw.c.init(encKey, &hdr); err != nil {
		return nil, err
	}
	if cfg.aligned {
		sw.out = outPool.Get().(*outBuf)
	}
	sw.arr = getBuf(&wirePool)
	sw.buf = sw.arr[:ctChunkSize]
	return sw, nil
}

// Header returns the stream header (the same for the whole stream).
func (w *Writer) Header() Header { return w.header }

// Commitment returns a copy of the stream's 32-byte key commitment, for
// the caller to record in its metadata. It is not secret.
func (w *Writer) Commitment() []byte {
	return append([]byte(nil), w.header.Commitment[:]...)
}

// Write encrypts p. Whole chunks are sealed and written as soon as it is
// known that more data follows them; at most ChunkSize bytes stay
// buffered until the next Write or Close. When the buffer is empty and p
// holds more than ChunkSize bytes, chunks are sealed directly from p; with
// a declared size (WithSize) so is a last full chunk of p that is not the
// stream's final chunk.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	if err := w.accept(int64(len(p))); err != nil {
		return 0, err
	}
	total := len(p)
	for len(p) > 0 {
		if w.n == ChunkSize { // more data follows a full buffer: it is not final
			if err := w.sealAndWrite(w.buf, w.buf[:ChunkSize], false); err != nil {
				return total - len(p), err
			}
			w.n = 0
		}
		if w.n == 0 && (len(p) > ChunkSize || len(p) == ChunkSize && w.knownNonFinal()) {
			if err := w.sealAndWrite(w.buf, p[:ChunkSize], false); err != nil {
				return total - len(p), err
			}
			p = p[ChunkSize:]
			continue
		}
		c := copy(w.buf[w.n:ChunkSize], p)
		w.n += c
		p = p[c:]
	}
	return total, nil
}

// ReadFrom encrypts everything read from r until io.EOF, reading directly
// into a chunk buffer (no intermediate copy). It returns the number of
// plaintext bytes read. An error from r is returned as is and leaves the
// Writer usable; Close must still be called.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	var total int64
	for {
		// Invariant: w.n <= ChunkSize. Fill up to ChunkSize+1 bytes: the
		// extra byte proves that the first ChunkSize bytes are not final.
		n, err := fill(r, w.buf[:ChunkSize+1], w.n)
		total += int64(n - w.n)
		if aerr := w.accept(int64(n - w.n)); aerr != nil {
			return total, aerr
		}
		w.n = n
		if w.n == ChunkSize+1 {
			next := w.buf[ChunkSize]
			if err := w.sealAndWrite(w.buf, w.buf[:ChunkSize], false); err != nil {
				w.n = 0
				return total, err
			}
			w.buf[0] = next
			w.n = 1
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// fill reads from r into buf[n:] until buf is full, r ends (io.EOF) or r
// fails; a full buffer may come with an error. It returns the new fill
// level.
func fill(r io.Reader, buf []byte, n int) (int, error) {
	empty := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// Close seals and writes the final chunk (possibly empty), writing the
// header first if nothing was written yet. It does not close the
// underlying writer. Calling Close again returns the first Close's result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.size >= 0 && w.in != w.size {
		w.err = fmt.Errorf("%w: %d bytes written, %d declared", ErrSizeMismatch, w.in, w.size)
		return w.err
	}
	if err := w.sealAndWrite(w.buf, w.buf[:w.n], true); err != nil {
		return err
	}
	w.n = 0
	// Sealing in place overwrote every byte this stream filled in (with
	// WithAlignedWrites sealing does not, it writes into out), and
	// ReadFrom's source may have used the rest of the buffer as scratch
	// space (as io.Reader allows); the next user hands the buffer to its
	// own source: clear it.
	clear(w.arr[:])
	putBuf(&wirePool, w.arr)
	w.arr, w.buf = nil, nil
	if w.out != nil {
		outPool.Put(w.out)
		w.out = nil
	}
	return nil
}

// accept counts n more plaintext bytes, failing (sticky) if they exceed
// the declared size. It runs before any of them is sealed.
func (w *Writer) accept(n int64) error {
	if w.size >= 0 && n > w.size-w.in {
		w.err = fmt.Errorf("%w: more than the %d bytes declared", ErrSizeMismatch, w.size)
		return w.err
	}
	w.in += n
	return nil
}

// knownNonFinal reports whether the declared size proves that chunk w.idx
// is not the final one: more plaintext than that chunk's end is declared.
// It is false when the size is unknown.
func (w *Writer) knownNonFinal() bool {
	return w.size >= 0 && int64(w.idx+1)*ChunkSize < w.size
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// sealAndWrite seals pt as chunk w.idx into dst[:0] (in place when pt is
// dst[:len(pt)]) and writes it, preceded by the header for the first chunk.
func (w *Writer) sealAndWrite(dst, pt []byte, last bool) error {
	if !last && w.idx >= maxChunks-1 {
		w.err = fmt.Errorf("%w: more than %d chunks (%d bytes)", ErrTooLarge, int64(maxChunks), MaxPlaintextSize)
		return w.err
	}
	if w.out != nil {
		return w.sealToOut(pt, last)
	}
	sealed := w.c.seal(dst[:0], pt, w.idx, last)
	if !w.sent {
		if err := w.write(w.c.aad[:]); err != nil {
			return err
		}
		w.sent = true
	}
	if err := w.write(sealed); err != nil {
		return err
	}
	w.idx++
	return nil
}

// sealToOut seals pt as chunk w.idx into w.out after the bytes not yet
// written (the header first), then writes the largest page-aligned prefix
// of them once there are at least AlignedWriteSize, or all of them for
// the final chunk. The few bytes after the prefix (less than a page) move
// to the front of the buffer.
func (w *Writer) sealToOut(pt []byte, last bool) error {
	if !w.sent {
		w.on = copy(w.out[:], w.c.aad[:])
		w.sent = true
	}
	w.on += len(w.c.seal(w.out[w.on:w.on], pt, w.idx, last))
	w.idx++
	if w.on < AlignedWriteSize && !last {
		return nil
	}
	n := w.on
	if !last {
		n &^= pageSize - 1
	}
	if err := w.write(w.out[:n:n]); err != nil { // capacity cut: nothing past the bytes written
		return err
	}
	w.on = copy(w.out[:], w.out[n:w.on])
	return nil
}

func (w *Writer) write(b []byte) error {
	n, err := w.dst.Write(b)
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("stream: writing chunk %d: %w", w.idx, err)
	}
	return w.err
}
