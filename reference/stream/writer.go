package stream

import (
	"crypto/rand"
	"fmt"
	"io"
	"runtime"
)

// Option configures NewWriter.
type Option func(*config)

type config struct {
	rand io.Reader
}

// WithRand sets the source of the header's salt and nonce prefix (39
// bytes, read once per stream). The default is crypto/rand.Reader.
// Inject a deterministic reader only in tests: two streams with the same
// data key, identity and random bytes are identical, and with a
// predictable source the salt no longer guarantees a fresh key per stream.
func WithRand(r io.Reader) Option {
	return func(c *config) { c.rand = r }
}

// Writer encrypts a stream. It is an io.WriteCloser and an io.ReaderFrom.
// It buffers at most one chunk (ChunkSize bytes) of plaintext and performs
// no allocation per chunk. A Writer is not safe for concurrent use.
//
// The caller MUST call Close to write the final chunk: a stream that was
// not closed is rejected by readers as truncated. Close does not close the
// underlying writer. After the first error from the underlying writer the
// Writer is unusable and returns that error from every call.
type Writer struct {
	dst    io.Writer
	c      chunkCipher
	header Header
	buf    []byte // len ctChunkSize; plaintext in buf[:n], sealed in place
	n      int    // buffered plaintext bytes, 0..ChunkSize (ChunkSize+1 transiently in ReadFrom)
	buf2   []byte // second input buffer of ReadFrom's read-ahead (lazy)
	out    []byte // output buffer of ReadFrom's read-ahead (lazy)
	idx    uint64 // index of the next chunk to seal
	sent   bool   // header written
	closed bool
	err    error // sticky error from dst or the size limit
}

// NewWriter returns a Writer that encrypts to w under dataKey (exactly 32
// bytes, normally a fresh random key per object) bound to identity (an
// opaque, canonical encoding of where the object lives; the same bytes
// MUST be passed to the reader). The header is written to w together
// with the first chunk, so NewWriter itself does no I/O on w.
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
	sw := &Writer{dst: w, header: h, buf: make([]byte, ctChunkSize)}
	hdr := h.marshal()
	if err := sw.c.init(encKey, &hdr); err != nil {
		return nil, err
	}
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
// holds more than ChunkSize bytes, chunks are sealed directly from p.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.usable(); err != nil {
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
		if w.n == 0 && len(p) > ChunkSize {
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
//
// When r yields more than one chunk and GOMAXPROCS > 1, the next chunk is
// read from r by a helper goroutine while the current one is sealed and
// written (two more chunk buffers). The goroutine never outlives the call;
// if the destination fails, ReadFrom first waits for an in-flight Read.
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
		w.n = n
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return total, err
		}
		next := w.buf[ChunkSize]
		if err := w.sealAndWrite(w.buf, w.buf[:ChunkSize], false); err != nil {
			w.n = 0
			return total, err
		}
		w.buf[0] = next
		w.n = 1
		if runtime.GOMAXPROCS(0) > 1 {
			n, err := w.pipeline(r)
			return total + n, err
		}
	}
}

// fill reads from r into buf[n:] until buf is full (nil error), r ends
// (io.EOF) or fails. It returns the new fill level.
func fill(r io.Reader, buf []byte, n int) (int, error) {
	empty := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			if n == len(buf) && err == io.EOF {
				err = nil // the next fill reports the end
			}
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

type fillResult struct {
	buf []byte
	n   int
	err error
}

// pipeline is ReadFrom's loop with a read-ahead goroutine. On entry w.buf
// holds one carried byte (w.n == 1). It returns the bytes read from r.
func (w *Writer) pipeline(r io.Reader) (total int64, err error) {
	if w.buf2 == nil {
		w.buf2 = make([]byte, ctChunkSize)
		w.out = make([]byte, ctChunkSize)
	}
	free := make(chan []byte, 2)
	full := make(chan fillResult, 2)
	carry := w.buf[0]
	go func() {
		defer close(full)
		for buf := range free {
			buf[0] = carry
			n, err := fill(r, buf[:ChunkSize+1], 1)
			if err == nil {
				carry = buf[ChunkSize]
			}
			full <- fillResult{buf, n, err}
			if err != nil {
				return
			}
		}
	}()
	free <- w.buf
	free <- w.buf2
	var end fillResult
	for res := range full {
		total += int64(res.n - 1) // the first byte was carried
		if w.err != nil {
			continue // draining after a destination error
		}
		if res.err != nil { // r ended or failed: res.buf holds the rest
			end = res
			continue
		}
		sealed := w.c.seal(w.out[:0], res.buf[:ChunkSize], w.idx, false)
		free <- res.buf // refill while this chunk is written
		if err := w.writeSealed(sealed, false); err != nil {
			close(free)
		}
	}
	if w.err != nil {
		w.n = 0
		return total, w.err
	}
	if end.buf == nil { // unreachable: the reader goroutine ends with an error result
		w.err = fmt.Errorf("stream: internal error: read-ahead ended without a result")
		return total, w.err
	}
	// Keep the partial chunk buffered for Write/Close.
	if &end.buf[0] == &w.buf2[0] {
		w.buf, w.buf2 = w.buf2, w.buf
	}
	w.n = end.n
	if end.err == io.EOF {
		return total, nil
	}
	return total, end.err
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
	if err := w.sealAndWrite(w.buf, w.buf[:w.n], true); err != nil {
		return err
	}
	w.n = 0
	w.buf = nil
	return nil
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// sealAndWrite seals pt as chunk w.idx into dst[:0] (in place when pt is
// dst[:len(pt)]) and writes it.
func (w *Writer) sealAndWrite(dst, pt []byte, last bool) error {
	return w.writeSealed(w.c.seal(dst[:0], pt, w.idx, last), last)
}

// writeSealed writes sealed chunk w.idx, preceded by the header for the
// first chunk, and advances the index.
func (w *Writer) writeSealed(sealed []byte, last bool) error {
	if !last && w.idx >= maxChunks-1 {
		w.err = fmt.Errorf("%w: more than %d chunks (%d bytes)", ErrTooLarge, int64(maxChunks), MaxPlaintextSize)
		return w.err
	}
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
