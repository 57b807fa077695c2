package stream

import (
	"errors"
	"fmt"
	"io"
)

// Reader decrypts a stream sequentially. It is an io.Reader and an
// io.WriterTo. It holds one ciphertext and one plaintext chunk buffer and
// performs no allocation per chunk; the buffers are recycled for another
// stream once Read or WriteTo has returned the end of the stream or an
// error (a Reader abandoned before that leaves them to the garbage
// collector). A Reader is not safe for concurrent use.
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
	bufs   chunkBufs
	have   int    // bytes of the next chunk already in ct
	out    []byte // verified plaintext not yet returned (sub-slice of pt, capacity cut)
	idx    uint64 // index of the next chunk
	done   bool   // the final chunk was verified
	tried  bool   // WriteTo tried a pushed tail as the final chunk (once per stream)
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
	sr.bufs.get()
	return sr, nil
}

// chunkBufs are the two chunk buffers of a reader, from the pools.
type chunkBufs struct {
	ctArr, ptArr *chunkBuf
	ct           []byte // ctArr[:]: a chunk plus one read-ahead byte
	pt           []byte // ptArr[:ChunkSize]
}

func (b *chunkBufs) get() {
	b.ctArr, b.ptArr = getBuf(&wirePool), getBuf(&plainPool)
	b.ct, b.pt = b.ctArr[:], b.ptArr[:ChunkSize]
}

// put returns the buffers to their pools. The caller must not use them
// afterwards: it calls put only once its error is sticky and no plaintext
// is pending.
func (b *chunkBufs) put() {
	putBuf(&wirePool, b.ctArr)
	putBuf(&plainPool, b.ptArr)
	*b = chunkBufs{}
}

// release recycles the buffers once the stream has ended for the caller:
// the error (io.EOF included) is sticky and all plaintext was returned.
func (r *Reader) release() {
	if r.err != nil && len(r.out) == 0 {
		r.bufs.put()
	}
}

// Header returns the parsed stream header.
func (r *Reader) Header() Header { return r.header }

// Read implements io.Reader. When p has room for a whole chunk
// (ChunkSize bytes), the next chunk is opened straight into p instead of
// being copied out of the Reader's buffer; p then returns that chunk's
// plaintext only, and a chunk that fails to authenticate leaves zeros.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(r.out) == 0 {
		if r.err != nil {
			r.release()
			return 0, r.err
		}
		if len(p) >= ChunkSize {
			// Any chunk's plaintext fits in p: open it there, saving the
			// copy out of the chunk buffer. Open clears what it wrote to
			// p if the chunk fails to authenticate, as Read's scratch
			// space may be.
			if r.err = r.next(r.src, p[:ChunkSize:ChunkSize]); r.err != nil {
				continue
			}
			n := len(r.out)
			r.out = nil
			return n, nil
		}
		r.err = r.next(r.src, r.bufs.pt)
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// WriteTo implements io.WriterTo: it writes each verified chunk to w
// directly from the plaintext buffer and returns nil at the end of a valid
// stream. If the source implements io.WriterTo (bytes.Reader,
// bytes.Buffer, ...), the source pushes its data: a large buffer is
// copied chunk by chunk into the chunk buffer and opened there, a small
// one (directOpenMax) opened in place (that memory MUST NOT be modified
// concurrently, as for any argument of Write). If w fails, its error is returned and
// the Reader is unusable afterwards (unwritten data is discarded).
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	defer r.release()
	d := &decryptingWriter{r: r, dst: w}
	if err := d.flush(); err != nil || r.err != nil {
		return d.total, d.result()
	}
	if wt, ok := r.src.(io.WriterTo); ok {
		_, err := wt.WriteTo(d)
		d.finish(err)
	} else {
		d.pull(r.src)
	}
	return d.total, d.result()
}

// next reads, verifies and decrypts the next chunk from src (r.src or a
// wrapper of it) into dst (r.bufs.pt or the caller's buffer, ChunkSize
// bytes), which r.out then holds.
func (r *Reader) next(src io.Reader, dst []byte) error {
	if r.done {
		return io.EOF
	}
	m, err := io.ReadFull(src, r.bufs.ct[r.have:])
	r.have += m
	switch err {
	case nil: // a full chunk and at least one more byte: not final
		if err := r.openChunk(dst, r.bufs.ct[:ctChunkSize], false); err != nil {
			return err
		}
		r.bufs.ct[0] = r.bufs.ct[ctChunkSize] // carry the read-ahead byte
		r.have = 1
		return nil
	case io.EOF, io.ErrUnexpectedEOF:
		return r.finalChunk(dst)
	default:
		return fmt.Errorf("stream: reading chunk %d: %w", r.idx, err)
	}
}

// finalChunk opens the buffered bytes as the final chunk: the source ended.
func (r *Reader) finalChunk(dst []byte) error {
	have := r.have
	r.have = 0
	if have < TagSize {
		return fmt.Errorf("%w: stream ends inside chunk %d (%d bytes, a chunk has at least %d)", ErrTruncated, r.idx, have, TagSize)
	}
	return r.openChunk(dst, r.bufs.ct[:have], true)
}

// openChunk verifies and decrypts chunk r.idx from ct into dst (which must
// not overlap it) and makes the plaintext r.out. ct is not modified.
func (r *Reader) openChunk(dst, ct []byte, last bool) error {
	if !last && r.idx >= maxChunks-1 {
		return fmt.Errorf("%w: more than %d chunks", ErrTooLarge, int64(maxChunks))
	}
	pt, err := r.c.open(dst, ct, r.idx, last)
	if err != nil {
		return err
	}
	r.out = pt[:len(pt):len(pt)] // dst.Write(r.out) cannot reach past it
	r.done = last
	r.idx++
	return nil
}

// openFinal reports whether ct authenticates as the final chunk r.idx and
// if so makes its plaintext r.out. A false result is no error: ct is
// then treated as any other data.
func (r *Reader) openFinal(ct []byte) bool {
	pt, ok := r.c.tryOpen(r.bufs.pt, ct, r.idx, true)
	if !ok {
		return false
	}
	r.out = pt[:len(pt):len(pt)]
	r.done = true
	r.idx++
	return true
}

// decryptingWriter implements Reader.WriteTo. As an io.Writer it is fed
// the ciphertext by the source's WriteTo (push); as an io.ReaderFrom it
// reads it (pull), so that sources whose WriteTo falls back to io.Copy
// (os.File, net.TCPConn) still read straight into the chunk buffer.
// Either way it writes verified plaintext to dst.
type decryptingWriter struct {
	r     *Reader
	dst   io.Writer
	total int64
	werr  error // dst failed
}

// result is WriteTo's error: nil at the end of a valid stream.
func (d *decryptingWriter) result() error {
	if d.werr != nil {
		return d.werr
	}
	if d.r.err == io.EOF {
		return nil
	}
	return d.r.err
}

// flush writes the pending plaintext to dst.
func (d *decryptingWriter) flush() error {
	r := d.r
	if len(r.out) == 0 {
		return nil
	}
	n, err := d.dst.Write(r.out)
	d.total += int64(n)
	if err == nil && n < len(r.out) {
		err = io.ErrShortWrite
	}
	r.out = nil
	if err != nil {
		d.werr = err
		r.err = fmt.Errorf("stream: Reader unusable after WriteTo failed: %w", err)
	}
	return err
}

// stop returns the error that must end the source's WriteTo or ReadFrom.
func (d *decryptingWriter) stop() error {
	if d.werr != nil {
		return d.werr
	}
	if d.r.err != nil && d.r.err != io.EOF {
		return d.r.err
	}
	return nil
}

// emit verifies and decrypts one chunk and writes its plaintext to dst.
func (d *decryptingWriter) emit(ct []byte, last bool) error {
	if err := d.r.openChunk(d.r.bufs.pt, ct, last); err != nil {
		d.r.err = err
		return err
	}
	return d.flush()
}

// directOpenMax is the largest pushed buffer whose whole chunks are
// opened in place; larger ones are copied into the chunk buffer first.
// Go's AES-GCM Open reading a large buffer straight from memory ran at
// about 0.4x of its speed on a cache-resident one (VAES, Go 1.26:
// BenchmarkGCMOpen64MiB against BenchmarkGCMOpen64KiB), and copying each
// chunk first made BenchmarkDecrypt (64 MiB) about 1.3x faster; on a
// buffer small enough to be in cache already (about an L2 cache's size)
// the copy only costs (BenchmarkDecrypt1MiB, a stream a little over
// 1 MiB: 0.85x of BenchmarkGCMOpen64KiB opened in place, 0.69x copied).
// Sealing shows no such gap, so Writer seals whole chunks straight from
// its argument whatever its size.
const directOpenMax = 2 << 20

// Write consumes ciphertext pushed by the source. A chunk is known to be
// non-final once at least one more byte follows it; whole chunks are
// opened directly from p when p is at most directOpenMax bytes, else
// copied into the chunk buffer first, as partial ones are.
func (d *decryptingWriter) Write(p []byte) (int, error) {
	if err := d.stop(); err != nil {
		return 0, err
	}
	r := d.r
	if r.done && len(p) > 0 {
		r.err = fmt.Errorf("%w: final chunk %d is followed by more data", ErrTrailingData, r.idx-1)
		return 0, r.err
	}
	total := len(p)
	for len(p) > 0 {
		if r.have == ctChunkSize { // a buffered full chunk, and more data: not final
			r.have = 0
			if err := d.emit(r.bufs.ct[:ctChunkSize], false); err != nil {
				return total - len(p), err
			}
		}
		if r.have == 0 && len(p) > ctChunkSize && total <= directOpenMax {
			if err := d.emit(p[:ctChunkSize], false); err != nil {
				return total - len(p), err
			}
			p = p[ctChunkSize:]
			continue
		}
		if r.have == 0 && len(p) >= TagSize && len(p) <= ctChunkSize && total <= directOpenMax && !r.tried {
			// p ends with what may be the final chunk (a source that
			// pushes the whole stream in one Write, as bytes.Reader
			// does): open it in place as final rather than copy it and
			// wait for the end. If it is not final it fails to
			// authenticate as such, and is copied as before; trying
			// once per stream bounds the wasted work for a source that
			// pushes chunk-sized pieces.
			r.tried = true
			if r.openFinal(p) {
				return total, d.flush()
			}
		}
		c := copy(r.bufs.ct[r.have:ctChunkSize], p)
		r.have += c
		p = p[c:]
	}
	return total, nil
}

// ReadFrom reads the rest of the stream from src (the Reader's source,
// possibly wrapped by its WriteTo) directly into the chunk buffer.
func (d *decryptingWriter) ReadFrom(src io.Reader) (int64, error) {
	start := d.total
	d.pull(src)
	return d.total - start, d.stop()
}

// pull decrypts from src until the stream ends or fails.
func (d *decryptingWriter) pull(src io.Reader) {
	r := d.r
	for r.err == nil {
		r.err = r.next(src, r.bufs.pt)
		if r.err == nil && d.flush() != nil {
			return
		}
	}
}

// finish ends push mode: the source's WriteTo returned err.
func (d *decryptingWriter) finish(err error) {
	r := d.r
	switch {
	case d.werr != nil || r.err != nil:
		// dst failed, the stream failed, or pull mode already ended it
	case err != nil:
		r.err = fmt.Errorf("stream: reading chunk %d: %w", r.idx, err)
	case r.done:
		r.err = io.EOF
	default: // the source ended: the buffered bytes are the final chunk
		if r.err = r.finalChunk(r.bufs.pt); r.err == nil {
			r.err = io.EOF
			d.flush()
		}
	}
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
	rr.bufs.get()
	return rr, nil
}

type rangeReader struct {
	src     io.ReaderAt
	c       chunkCipher
	encSize int64
	chunks  uint64    // chunks in the stream
	next    uint64    // next chunk to read
	end     uint64    // last chunk to read (inclusive)
	skip    int       // plaintext bytes to skip in the next chunk
	remain  int64     // plaintext bytes still to return
	bufs    chunkBufs // recycled once err is set and out drained
	out     []byte
	err     error
}

func (r *rangeReader) release() {
	if r.err != nil && len(r.out) == 0 {
		r.bufs.put()
	}
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(r.out) == 0 {
		if r.err != nil {
			r.release()
			return 0, r.err
		}
		r.err = r.fill()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

func (r *rangeReader) WriteTo(w io.Writer) (int64, error) {
	defer r.release()
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
	got, err := r.src.ReadAt(r.bufs.ct[:want], off)
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: source ends inside chunk %d (%d of %d bytes)", ErrTruncated, i, got, n)
		}
		return fmt.Errorf("stream: reading chunk %d: %w", i, err)
	}
	pt, err := r.c.open(r.bufs.pt, r.bufs.ct[:n], i, last)
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
	r.out = pt[:len(pt):len(pt)]
	r.next++
	return nil
}
