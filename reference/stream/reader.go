package stream

import (
	"errors"
	"fmt"
	"io"
	"runtime"
)

// Reader decrypts a stream sequentially. It is an io.Reader and an
// io.WriterTo. It holds one ciphertext and one plaintext chunk buffer and
// performs no allocation per chunk. A Reader is not safe for concurrent use.
//
// Read returns a chunk's plaintext only after that chunk's tag verified.
// Each released byte is therefore authentic and in its correct position,
// but the stream as a whole (in particular its length) is only verified
// when Read returns io.EOF. Callers MUST treat any other error as a failure
// of the whole object and MUST NOT act on data read before it as if the
// object were complete. Errors are sticky.
type Reader struct {
	src    io.Reader
	c      chunkCipher
	header Header
	ct     []byte // len ctChunkSize+1: a chunk plus one read-ahead byte
	ct2    []byte // second ciphertext buffer for WriteTo's read-ahead (lazy)
	pt     []byte // len ChunkSize
	out    []byte // verified plaintext not yet returned (sub-slice of pt)
	carry  bool   // ct[0] holds the read-ahead byte of the previous chunk
	idx    uint64 // index of the next chunk
	done   bool   // the final chunk was verified
	err    error  // sticky; io.EOF after the final chunk
}

// NewReader reads and parses the header from r and checks the key
// commitment for dataKey (exactly 32 bytes) and identity before returning;
// no chunk is decrypted if this fails (ErrMalformedHeader,
// ErrUnsupportedVersion, ErrTruncated, ErrKeyCommitment, ErrInvalidKey).
//
// Reading then fails with an error wrapping ErrAuthentication if a chunk
// fails authentication, ErrTruncated if the stream provably ends before its
// final chunk (at a chunk boundary, or too short to hold a tag),
// ErrTrailingData if an authenticated final chunk is followed by more
// bytes, and ErrTooLarge past 2^32-1 chunks. Because chunk boundaries are
// found by reading to the end of r, a stream cut or extended inside a chunk
// usually reports ErrAuthentication.
func NewReader(r io.Reader, dataKey, identity []byte) (*Reader, error) {
	if err := checkKey(dataKey); err != nil {
		return nil, err
	}
	h, hdr, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	sr := &Reader{src: r, header: h}
	if err := newOpener(&sr.c, &h, &hdr, dataKey, identity); err != nil {
		return nil, err
	}
	sr.ct = make([]byte, ctChunkSize+1)
	sr.pt = make([]byte, ChunkSize)
	return sr, nil
}

// Header returns the parsed stream header.
func (r *Reader) Header() Header { return r.header }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.err = r.next()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// WriteTo implements io.WriterTo: it writes each verified chunk directly
// from the plaintext buffer to w and returns nil at the end of a valid
// stream. When more than one chunk follows and GOMAXPROCS > 1, the next
// chunk is read from the source by a helper goroutine while the current
// one is decrypted and written (one extra chunk buffer); the goroutine
// never outlives the call. If w fails, its error is returned and the
// Reader is unusable afterwards (unwritten and read-ahead data are
// discarded).
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.out) > 0 {
			n, err := w.Write(r.out)
			total += int64(n)
			r.out = r.out[n:]
			if err == nil && len(r.out) > 0 {
				err = io.ErrShortWrite
			}
			if err != nil {
				r.out = nil
				r.err = fmt.Errorf("stream: Reader unusable after WriteTo failed: %w", err)
				return total, err
			}
		}
		if r.err != nil {
			if r.err == io.EOF {
				return total, nil
			}
			return total, r.err
		}
		if r.idx > 0 && !r.done && runtime.GOMAXPROCS(0) > 1 {
			n, err := r.pipeline(w)
			total += n
			if err != nil { // w failed; the read-ahead is lost
				r.out = nil
				r.err = fmt.Errorf("stream: Reader unusable after WriteTo failed: %w", err)
				return total, err
			}
			continue // r.err is io.EOF or a stream error
		}
		r.err = r.next()
	}
}

// next reads, verifies and decrypts the next chunk into r.out.
func (r *Reader) next() error {
	if r.done {
		return io.EOF
	}
	have := 0
	if r.carry {
		have = 1
	}
	m, err := io.ReadFull(r.src, r.ct[have:])
	if err := r.openRead(r.ct, have+m, err); err != nil {
		return err
	}
	if !r.done {
		r.ct[0] = r.ct[ctChunkSize] // carry the read-ahead byte
		r.carry = true
	}
	return nil
}

// openRead verifies and decrypts the chunk read into buf[:have]; readErr
// is the io.ReadFull error of that read, which tells whether the chunk is
// final (the stream ended before its read-ahead byte).
func (r *Reader) openRead(buf []byte, have int, readErr error) error {
	last := false
	switch readErr {
	case nil: // a full chunk and at least one more byte: not final
		have = ctChunkSize
	case io.EOF, io.ErrUnexpectedEOF:
		last = true
		if have < TagSize {
			return fmt.Errorf("%w: stream ends inside chunk %d (%d bytes, a chunk has at least %d)", ErrTruncated, r.idx, have, TagSize)
		}
	default:
		return fmt.Errorf("stream: reading chunk %d: %w", r.idx, readErr)
	}
	if !last && r.idx >= maxChunks-1 {
		return fmt.Errorf("%w: more than %d chunks", ErrTooLarge, int64(maxChunks))
	}
	pt, err := r.c.open(r.pt, buf[:have], r.idx, last)
	if err != nil {
		return err
	}
	r.out = pt
	r.done = last
	r.idx++
	return nil
}

type readResult struct {
	buf  []byte
	have int
	err  error
}

// pipeline decrypts the rest of the stream to w while a helper goroutine
// reads ahead into a second ciphertext buffer. It returns once the stream
// ends, fails, or w fails, always after the goroutine has exited; on
// return r.err is io.EOF, a stream error, or nil if w failed.
func (r *Reader) pipeline(w io.Writer) (total int64, werr error) {
	if r.ct2 == nil {
		r.ct2 = make([]byte, ctChunkSize+1)
	}
	free := make(chan []byte, 2)
	full := make(chan readResult, 2)
	src, carry := r.src, r.ct[0] // r.carry is true: a chunk was read
	go func() {
		defer close(full)
		for buf := range free {
			buf[0] = carry
			m, err := io.ReadFull(src, buf[1:])
			if err == nil {
				carry = buf[ctChunkSize]
			}
			full <- readResult{buf, 1 + m, err}
			if err != nil {
				return
			}
		}
	}()
	free <- r.ct
	free <- r.ct2
	for res := range full {
		if r.err != nil || werr != nil {
			continue // draining after a failure
		}
		r.err = r.openRead(res.buf, res.have, res.err)
		if r.err == nil && !r.done {
			free <- res.buf // the plaintext is in r.pt; refill this buffer now
		}
		if r.err != nil || r.done {
			close(free)
		}
		if r.err == nil {
			n, err := w.Write(r.out)
			total += int64(n)
			if err == nil && n < len(r.out) {
				err = io.ErrShortWrite
			}
			r.out = r.out[n:]
			if err != nil {
				werr = err
				if !r.done {
					close(free)
				}
			} else if r.done {
				r.err = io.EOF
			}
		}
	}
	return total, werr
}

// NewRangeReader returns a reader of the plaintext bytes [off, off+length)
// of the stream stored in r, which holds exactly encSize bytes (normally
// from the object's metadata; wrap a larger source in io.NewSectionReader).
//
// It reads the header and verifies the key commitment before returning,
// then reads (lazily, one chunk at a time) only the chunks that cover the
// range, verifying each; a chunk is opened with the final flag exactly
// when it is the last chunk implied by encSize. A range that ends at the
// end of the plaintext therefore authenticates the stream length, and the
// final chunk is read with one probe byte beyond encSize to detect
// trailing data; this holds for a zero-length range at the end too. A
// range that does not reach the end proves only that its own bytes are
// authentic, not that encSize is the true length; a zero-length range
// elsewhere verifies only the header.
//
// Errors: ErrInvalidKey, ErrInvalidSize or ErrTooLarge for encSize,
// ErrInvalidRange if off or length is negative or off+length exceeds the
// plaintext size, the header errors of NewReader, and while reading
// ErrAuthentication, ErrTruncated (r holds fewer than encSize bytes, or
// encSize cuts the stream at a chunk boundary) and ErrTrailingData.
func NewRangeReader(r io.ReaderAt, encSize int64, dataKey, identity []byte, off, length int64) (io.Reader, error) {
	if err := checkKey(dataKey); err != nil {
		return nil, err
	}
	plain, chunks, err := layout(encSize)
	if err != nil {
		return nil, err
	}
	if off < 0 || length < 0 || off > plain || length > plain-off {
		return nil, fmt.Errorf("%w: [%d, %d+%d) of a %d-byte plaintext", ErrInvalidRange, off, off, length, plain)
	}
	var hdr [HeaderSize]byte
	if n, err := r.ReadAt(hdr[:], 0); n < HeaderSize {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: source has %d of %d header bytes", ErrTruncated, n, HeaderSize)
		}
		return nil, fmt.Errorf("stream: reading header: %w", err)
	}
	h, err := ParseHeader(hdr[:])
	if err != nil {
		return nil, err
	}
	rr := &rangeReader{src: r, encSize: encSize, chunks: uint64(chunks), remain: length}
	if err := newOpener(&rr.c, &h, &hdr, dataKey, identity); err != nil {
		return nil, err
	}
	switch {
	case off+length == plain:
		// Reaching the end: read through the final chunk (even for a
		// zero-length range, or when it is an empty final chunk) so that
		// the stream length is authenticated.
		rr.end = rr.chunks - 1
	case length == 0:
		rr.err = io.EOF
		return rr, nil
	default:
		rr.end = uint64((off + length - 1) / ChunkSize)
	}
	rr.next = min(uint64(off/ChunkSize), rr.end)
	rr.skip = int(off - int64(rr.next)*ChunkSize)
	rr.ct = make([]byte, ctChunkSize+1)
	rr.pt = make([]byte, ChunkSize)
	return rr, nil
}

type rangeReader struct {
	src     io.ReaderAt
	c       chunkCipher
	encSize int64
	chunks  uint64 // chunks in the stream
	next    uint64 // next chunk to read
	end     uint64 // last chunk to read (inclusive)
	skip    int    // plaintext bytes to skip in the next chunk
	remain  int64  // plaintext bytes still to return
	ct, pt  []byte
	out     []byte
	err     error
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.err = r.fill()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

func (r *rangeReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.out) > 0 {
			n, err := w.Write(r.out)
			total += int64(n)
			r.out = r.out[n:]
			if err == nil && len(r.out) > 0 {
				err = io.ErrShortWrite
			}
			if err != nil {
				return total, err
			}
		}
		if r.err != nil {
			if r.err == io.EOF {
				return total, nil
			}
			return total, r.err
		}
		r.err = r.fill()
	}
}

// fill reads, verifies and decrypts chunk r.next and sets r.out to its
// part of the range.
func (r *rangeReader) fill() error {
	if r.next > r.end {
		return io.EOF
	}
	i := r.next
	last := i == r.chunks-1
	off := HeaderSize + int64(i)*ctChunkSize
	n := ctChunkSize
	want := n
	if last {
		n = int(r.encSize - off)
		want = n + 1 // probe one byte past encSize
	}
	got, err := r.src.ReadAt(r.ct[:want], off)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: source ends inside chunk %d (%d of %d bytes)", ErrTruncated, i, got, n)
		}
		return fmt.Errorf("stream: reading chunk %d: %w", i, err)
	}
	pt, err := r.c.open(r.pt, r.ct[:n], i, last)
	if err != nil {
		return err
	}
	if got > n { // the final chunk verified, but the source goes on
		clear(pt)
		return fmt.Errorf("%w: source is longer than the declared %d bytes", ErrTrailingData, r.encSize)
	}
	if r.skip > len(pt) { // unreachable: encSize fixes every chunk's length
		return fmt.Errorf("%w: offset beyond chunk %d", ErrInvalidRange, i)
	}
	pt = pt[r.skip:]
	r.skip = 0
	if int64(len(pt)) > r.remain {
		pt = pt[:r.remain]
	}
	r.remain -= int64(len(pt))
	r.out = pt
	r.next++
	return nil
}
