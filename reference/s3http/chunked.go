package s3http

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Limits of the aws-chunked decoder.
const (
	maxChunkHeaderLine = 4096
	maxTrailerBytes    = 16 << 10
	maxChunkSize       = 1 << 30 // a single chunk; SDKs use 8-64 KiB
)

// chunkedConfig describes an aws-chunked body (Content-Encoding: aws-chunked).
type chunkedConfig struct {
	// Signed chunks carry ";chunk-signature=" and are verified against the
	// previous signature, starting from Seed.
	Signed     bool
	SigningKey []byte
	AmzDate    string
	Scope      string
	Seed       string
	// Trailer: the stream ends with trailing headers after the 0-size
	// chunk (signed with x-amz-trailer-signature when Signed).
	Trailer bool
	// DecodedLength is x-amz-decoded-content-length; -1 = unknown.
	DecodedLength int64
	// OnTrailers receives the trailing headers (lower-case names) once the
	// stream is complete and verified, before the last data byte is
	// released; an error fails the read.
	OnTrailers func(trailers [][2]string) error
}

// chunkedReader decodes and verifies an aws-chunked stream. It verifies
// each chunk's signature when the chunk ends and the whole stream
// (final chunk, trailers, decoded length) before it returns the last data
// byte, so a reader that stops after the declared length has still seen a
// fully verified stream. Every error is an *apiError and is sticky.
type chunkedReader struct {
	cfg       chunkedConfig
	br        *bufio.Reader
	prevSig   string
	remaining int64 // data bytes left in the current chunk
	chunkSig  string
	h         hash.Hash
	total     int64 // data bytes returned so far
	started   bool
	done      bool
	err       error
}

func newChunkedReader(body io.Reader, cfg chunkedConfig) *chunkedReader {
	return &chunkedReader{cfg: cfg, br: bufio.NewReaderSize(body, maxChunkHeaderLine), prevSig: cfg.Seed, h: sha256.New()}
}

func errChunk(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, "IncompleteBody", "Malformed aws-chunked body: "+format, args...)
}

func errChunkSignature() *apiError {
	return newErr(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided (aws-chunked chunk signature).")
}

func (c *chunkedReader) fail(err error) (int, error) {
	c.err = err
	return 0, err
}

// readLine reads one CRLF-terminated line (without the CRLF).
func (c *chunkedReader) readLine() (string, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", errChunk("chunk header line too long")
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return "", errChunk("the body ended inside a chunk header")
		}
		return "", errChunk("reading a chunk header: %v", err)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", errChunk("chunk header line not terminated by CRLF")
	}
	return string(line[:len(line)-2]), nil
}

// readHeader parses the next chunk header. It returns true for the final
// (0-size) chunk.
func (c *chunkedReader) readHeader() (bool, error) {
	line, err := c.readLine()
	if err != nil {
		return false, err
	}
	sizeStr, ext, hasExt := strings.Cut(line, ";")
	if sizeStr == "" || len(sizeStr) > 16 {
		return false, errChunk("bad chunk size")
	}
	size, perr := strconv.ParseInt(sizeStr, 16, 64)
	if perr != nil || size < 0 || size > maxChunkSize {
		return false, errChunk("bad chunk size %q", truncate(sizeStr, 20))
	}
	if c.cfg.Signed {
		sig, ok := strings.CutPrefix(ext, "chunk-signature=")
		if !hasExt || !ok {
			return false, errChunk("a signed chunk needs chunk-signature=<64 hex digits>")
		}
		if !isHex64(sig) {
			return false, errChunkSignature()
		}
		c.chunkSig = strings.ToLower(sig)
	} else if hasExt {
		return false, errChunk("unexpected chunk extension in an unsigned stream")
	}
	if c.cfg.DecodedLength >= 0 && c.total+size > c.cfg.DecodedLength {
		return false, errChunk("the chunks carry more than x-amz-decoded-content-length (%d) bytes", c.cfg.DecodedLength)
	}
	c.remaining = size
	c.h.Reset()
	return size == 0, nil
}

// verifyChunk checks the signature of the chunk just read (its data hash
// is in c.h).
func (c *chunkedReader) verifyChunk() error {
	if !c.cfg.Signed {
		return nil
	}
	sts := streamingPayloadHdr + "\n" + c.cfg.AmzDate + "\n" + c.cfg.Scope + "\n" + c.prevSig + "\n" +
		emptySHA256 + "\n" + hex.EncodeToString(c.h.Sum(nil))
	if !signatureEqual(hmacSHA256(c.cfg.SigningKey, sts), c.chunkSig) {
		return errChunkSignature()
	}
	c.prevSig = c.chunkSig
	return nil
}

// endData consumes the CRLF after a chunk's data.
func (c *chunkedReader) endData() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
		return errChunk("the body ended inside a chunk")
	}
	if crlf != [2]byte{'\r', '\n'} {
		return errChunk("chunk data not followed by CRLF (chunk size wrong?)")
	}
	return nil
}

// finish handles everything after the final chunk header.
func (c *chunkedReader) finish() error {
	if err := c.verifyChunk(); err != nil {
		return err
	}
	if c.cfg.DecodedLength >= 0 && c.total != c.cfg.DecodedLength {
		return newErr(http.StatusBadRequest, "IncompleteBody",
			"You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header (%d, got %d).", c.cfg.DecodedLength, c.total)
	}
	rest, err := io.ReadAll(io.LimitReader(c.br, maxTrailerBytes+1))
	if err != nil {
		return errChunk("reading the end of the body: %v", err)
	}
	if len(rest) > maxTrailerBytes {
		return errChunk("trailer too long")
	}
	if !c.cfg.Trailer {
		if !bytes.Equal(rest, []byte("\r\n")) {
			return errChunk("the final chunk must be followed by exactly CRLF")
		}
		return nil
	}
	// Trailer lines end in LF or CRLF; blank lines separate them from
	// the trailer signature (minio-go); an empty line ends the body.
	if !bytes.HasSuffix(rest, []byte("\r\n\r\n")) {
		return errChunk("the trailer must end with an empty line")
	}
	var trailers [][2]string
	var trailerSig string
	var canon strings.Builder
	for _, raw := range strings.Split(string(rest), "\n") {
		line := strings.TrimSuffix(raw, "\r")
		if line == "" {
			continue
		}
		if trailerSig != "" {
			return errChunk("data after the trailer signature")
		}
		name, val, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || !validHeaderName(name) {
			return errChunk("malformed trailer line")
		}
		val = strings.TrimSpace(val)
		if name == "x-amz-trailer-signature" {
			if !c.cfg.Signed {
				return errChunk("unexpected x-amz-trailer-signature")
			}
			if !isHex64(val) {
				return errChunkSignature()
			}
			trailerSig = strings.ToLower(val)
			continue
		}
		if len(trailers) >= 16 {
			return errChunk("too many trailers")
		}
		trailers = append(trailers, [2]string{name, val})
		canon.WriteString(name + ":" + val + "\n")
	}
	if c.cfg.Signed {
		if trailerSig == "" {
			return errChunk("a signed trailer needs x-amz-trailer-signature")
		}
		sts := streamingTrailerHdr + "\n" + c.cfg.AmzDate + "\n" + c.cfg.Scope + "\n" + c.prevSig + "\n" +
			sha256Hex([]byte(canon.String()))
		if !signatureEqual(hmacSHA256(c.cfg.SigningKey, sts), trailerSig) {
			return errChunkSignature()
		}
		c.prevSig = trailerSig
	}
	if c.cfg.OnTrailers != nil {
		return c.cfg.OnTrailers(trailers)
	}
	return nil
}

// Read returns decoded data.
func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	if !c.started {
		c.started = true
		final, err := c.readHeader()
		if err != nil {
			return c.fail(err)
		}
		if final {
			if err := c.finish(); err != nil {
				return c.fail(err)
			}
			c.done = true
			return 0, io.EOF
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.br.Read(p)
	if n > 0 {
		c.h.Write(p[:n])
		c.remaining -= int64(n)
		c.total += int64(n)
	}
	if c.remaining == 0 {
		// The chunk is complete: verify it, read the next header and, at
		// the end of the stream, verify the rest before releasing p.
		if err := c.endData(); err != nil {
			return c.fail(err)
		}
		if err := c.verifyChunk(); err != nil {
			return c.fail(err)
		}
		final, err := c.readHeader()
		if err != nil {
			return c.fail(err)
		}
		if final {
			if err := c.finish(); err != nil {
				return c.fail(err)
			}
			c.done = true
		}
		return n, nil
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return c.fail(newErr(http.StatusBadRequest, "IncompleteBody", "The body ended inside a chunk."))
		}
		return c.fail(errChunk("reading chunk data: %v", err))
	}
	return n, nil
}
