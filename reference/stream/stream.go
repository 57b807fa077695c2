package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Format constants.
const (
	// Version is the only format version this package reads and writes.
	Version = 1

	// ChunkSize is the number of plaintext bytes in every non-final chunk.
	// The final chunk holds between 0 and ChunkSize bytes.
	ChunkSize = 1 << chunkSizeExp

	// TagSize is the size of the AES-GCM tag appended to every chunk.
	TagSize = 16

	// HeaderSize is the size of the fixed, versioned stream header.
	HeaderSize = offCommit + commitSize

	// MaxPlaintextSize is the largest plaintext a stream can carry:
	// 2^32-1 chunks of ChunkSize bytes (256 TiB - 64 KiB).
	MaxPlaintextSize int64 = maxChunks * ChunkSize
)

// Header layout and internal sizes.
const (
	magicSize    = 4
	saltSize     = 32
	prefixSize   = 7
	commitSize   = 32
	keySize      = 32
	nonceSize    = 12
	chunkSizeExp = 16

	offVersion = magicSize              // 4
	offExp     = offVersion + 1         // 5
	offSalt    = offExp + 1             // 6
	offPrefix  = offSalt + saltSize     // 38
	offCommit  = offPrefix + prefixSize // 45

	// ctChunkSize is the size of a full (non-final) chunk on the wire.
	ctChunkSize = ChunkSize + TagSize

	// maxChunks is the largest number of chunks in one stream. The chunk
	// index is a 32-bit counter in the nonce; capping the count at 2^32-1
	// keeps every index (0 .. 2^32-2) representable without wrapping.
	maxChunks = 1<<32 - 1

	// infoLabel is the HKDF info prefix; it names the format and version.
	infoLabel = "sseaudit/stream/v1"
)

// magic identifies a stream produced by this package ("SSAS": sseaudit stream).
var magic = [magicSize]byte{'S', 'S', 'A', 'S'}

// Errors. Every error returned by this package that is caused by the
// content of a stream wraps exactly one of these sentinels; test with
// errors.Is. I/O errors of the underlying reader or writer are returned
// wrapped with context but are not mapped to a sentinel.
var (
	// ErrMalformedHeader: the bytes are not a header of this format
	// (wrong magic, wrong length, unknown chunk size).
	ErrMalformedHeader = errors.New("stream: malformed header")
	// ErrUnsupportedVersion: the magic matched but the version byte is not Version.
	ErrUnsupportedVersion = errors.New("stream: unsupported format version")
	// ErrKeyCommitment: the data key and identity do not match the header's
	// key commitment. Nothing was decrypted.
	ErrKeyCommitment = errors.New("stream: key commitment mismatch (wrong data key or identity)")
	// ErrAuthentication: a chunk failed AES-GCM authentication (modified,
	// reordered, spliced or truncated inside a chunk).
	ErrAuthentication = errors.New("stream: chunk authentication failed")
	// ErrTruncated: the stream provably ends before its final chunk.
	ErrTruncated = errors.New("stream: truncated")
	// ErrTrailingData: bytes follow the authenticated final chunk.
	ErrTrailingData = errors.New("stream: data after final chunk")
	// ErrInvalidRange: a plaintext range is negative or exceeds the plaintext size.
	ErrInvalidRange = errors.New("stream: invalid range")
	// ErrInvalidSize: no stream can have this size (or a size is negative).
	ErrInvalidSize = errors.New("stream: invalid size")
	// ErrTooLarge: the stream would need more than 2^32-1 chunks.
	ErrTooLarge = errors.New("stream: stream too large")
	// ErrInvalidKey: the data key is not exactly 32 bytes.
	ErrInvalidKey = errors.New("stream: data key must be 32 bytes")
	// ErrSizeMismatch: more or fewer bytes were written than declared
	// with WithSize.
	ErrSizeMismatch = errors.New("stream: plaintext size differs from the declared size")
	// ErrClosed: Write or ReadFrom was called after Close.
	ErrClosed = errors.New("stream: write after close")
)

// Header is the parsed form of the fixed-size stream header.
//
// Layout (HeaderSize = 77 bytes):
//
//	offset size field
//	     0    4 magic "SSAS"
//	     4    1 version (1)
//	     5    1 log2(chunk size) (16)
//	     6   32 salt (random)
//	    38    7 nonce prefix (random)
//	    45   32 key commitment
type Header struct {
	Version     byte     // format version (1)
	ChunkSize   int      // plaintext bytes per non-final chunk (64 KiB)
	Salt        [32]byte // HKDF salt, random per stream
	NoncePrefix [7]byte  // first 7 bytes of every chunk nonce, random per stream
	Commitment  [32]byte // key commitment: HKDF output bytes 32..64
}

// marshal returns the wire form of h.
func (h *Header) marshal() [HeaderSize]byte {
	var b [HeaderSize]byte
	copy(b[:], magic[:])
	b[offVersion] = h.Version
	b[offExp] = chunkSizeExp
	copy(b[offSalt:], h.Salt[:])
	copy(b[offPrefix:], h.NoncePrefix[:])
	copy(b[offCommit:], h.Commitment[:])
	return b
}

// checkPrefix validates the magic and version of a header prefix of at
// least offExp bytes.
func checkPrefix(b []byte) error {
	if len(b) < offExp {
		return fmt.Errorf("%w: %d bytes, want %d", ErrMalformedHeader, len(b), HeaderSize)
	}
	if [magicSize]byte(b[:magicSize]) != magic {
		return fmt.Errorf("%w: bad magic %x", ErrMalformedHeader, b[:magicSize])
	}
	if b[offVersion] != Version {
		return fmt.Errorf("%w: version %d (supported: %d)", ErrUnsupportedVersion, b[offVersion], Version)
	}
	return nil
}

// ParseHeader strictly parses a header. b must be exactly HeaderSize bytes
// (pass stream[:HeaderSize]). It returns an error wrapping
// ErrMalformedHeader for a wrong length, magic or chunk size, and
// ErrUnsupportedVersion for an unknown version. ParseHeader checks only
// the format; the key commitment is checked by NewReader/NewRangeReader.
func ParseHeader(b []byte) (Header, error) {
	if err := checkPrefix(b); err != nil {
		return Header{}, err
	}
	if len(b) != HeaderSize {
		return Header{}, fmt.Errorf("%w: %d bytes, want %d", ErrMalformedHeader, len(b), HeaderSize)
	}
	if b[offExp] != chunkSizeExp {
		return Header{}, fmt.Errorf("%w: chunk size exponent %d (version 1 requires %d)", ErrMalformedHeader, b[offExp], chunkSizeExp)
	}
	h := Header{Version: b[offVersion], ChunkSize: ChunkSize}
	copy(h.Salt[:], b[offSalt:])
	copy(h.NoncePrefix[:], b[offPrefix:])
	copy(h.Commitment[:], b[offCommit:])
	return h, nil
}

// ReadHeader reads and strictly parses a header from r, consuming exactly
// HeaderSize bytes on success. The version is checked before the rest of
// the header is read. A stream that ends inside the header yields an error
// wrapping ErrTruncated.
func ReadHeader(r io.Reader) (Header, error) {
	h, _, err := readHeader(r)
	return h, err
}

func readHeader(r io.Reader) (Header, [HeaderSize]byte, error) {
	var b [HeaderSize]byte
	if err := readFullHeader(r, b[:offExp]); err != nil {
		return Header{}, b, err
	}
	if err := checkPrefix(b[:offExp]); err != nil {
		return Header{}, b, err
	}
	if err := readFullHeader(r, b[offExp:]); err != nil {
		return Header{}, b, err
	}
	h, err := ParseHeader(b[:])
	return h, b, err
}

func readFullHeader(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w: stream ends inside the %d-byte header", ErrTruncated, HeaderSize)
		}
		return fmt.Errorf("stream: reading header: %w", err)
	}
	return nil
}

// EncryptedSize returns the size of the stream that Writer produces for a
// plaintext of plain bytes: HeaderSize + plain + TagSize*max(1, ceil(plain/ChunkSize)).
func EncryptedSize(plain int64) (int64, error) {
	if plain < 0 {
		return 0, fmt.Errorf("%w: negative plaintext size %d", ErrInvalidSize, plain)
	}
	if plain > MaxPlaintextSize {
		return 0, fmt.Errorf("%w: plaintext size %d exceeds %d", ErrTooLarge, plain, MaxPlaintextSize)
	}
	chunks := max(1, (plain+ChunkSize-1)/ChunkSize)
	return HeaderSize + plain + chunks*TagSize, nil
}

// DecryptedSize returns the plaintext size of a valid stream of enc bytes.
// The size alone determines the chunk layout: every non-final chunk is
// ChunkSize+TagSize bytes and the final chunk is TagSize..ChunkSize+TagSize
// bytes. It returns an error wrapping ErrInvalidSize if no stream has
// this size. The result is not authenticated: only decrypting the final
// chunk proves that a stream really has this length.
func DecryptedSize(enc int64) (int64, error) {
	plain, _, err := layout(enc)
	return plain, err
}

// layout returns the plaintext size and chunk count implied by an
// encrypted size.
func layout(enc int64) (plain, chunks int64, err error) {
	if enc < HeaderSize+TagSize {
		return 0, 0, fmt.Errorf("%w: %d bytes is shorter than the smallest stream (%d)", ErrInvalidSize, enc, HeaderSize+TagSize)
	}
	body := enc - HeaderSize
	full, rem := body/ctChunkSize, body%ctChunkSize
	switch {
	case rem == 0: // the final chunk is full
		chunks, plain = full, full*ChunkSize
	case rem >= TagSize:
		chunks, plain = full+1, full*ChunkSize+rem-TagSize
	default:
		return 0, 0, fmt.Errorf("%w: %d bytes leaves a %d-byte final chunk, shorter than a tag", ErrInvalidSize, enc, rem)
	}
	if chunks > maxChunks {
		return 0, 0, fmt.Errorf("%w: %d chunks exceed %d", ErrTooLarge, chunks, int64(maxChunks))
	}
	return plain, chunks, nil
}

// checkKey rejects data keys that are not AES-256 keys.
func checkKey(dataKey []byte) error {
	if len(dataKey) != keySize {
		return fmt.Errorf("%w: got %d bytes", ErrInvalidKey, len(dataKey))
	}
	return nil
}

// deriveKeys runs the key schedule:
//
//	okm = HKDF-SHA256(ikm=dataKey, salt=salt, info=infoLabel || BE64(len(identity)) || identity, L=64)
//	encKey = okm[0:32], commitment = okm[32:64]
func deriveKeys(dataKey, salt, identity []byte) (encKey, commitment []byte, err error) {
	info := make([]byte, 0, len(infoLabel)+8+len(identity))
	info = append(info, infoLabel...)
	info = binary.BigEndian.AppendUint64(info, uint64(len(identity)))
	info = append(info, identity...)
	okm, err := hkdf.Key(sha256.New, dataKey, salt, string(info), keySize+commitSize)
	if err != nil {
		return nil, nil, fmt.Errorf("stream: deriving keys: %w", err)
	}
	return okm[:keySize], okm[keySize:], nil
}

// chunkBuf holds one sealed chunk and one read-ahead byte; a plaintext
// chunk uses its first ChunkSize bytes.
type chunkBuf = [ctChunkSize + 1]byte

// Chunk buffers are recycled between streams: without it every stream
// allocated and zeroed 128 KiB (a reader) or 64 KiB (a writer) and made
// the garbage collector run every few objects, which cost a 1 MiB stream
// several percent of its decryption time. The pools are caches only:
// nothing in them is state a stream depends on, and both are safe for
// concurrent use.
//
// Two pools because of what the buffers may hold when they come back.
// wirePool's buffers are handed to the caller's io.Reader (Writer.ReadFrom
// and Reader.next read into them), so they must never carry plaintext of
// another stream: they hold only ciphertext, or are cleared first
// (Writer). plainPool's buffers receive opened chunks; they never leave
// the package, and only the bytes a successful Open just wrote are
// returned to a caller (with their capacity cut), so the earlier
// plaintext they hold is never exposed.
var (
	wirePool  = sync.Pool{New: func() any { return new(chunkBuf) }}
	plainPool = sync.Pool{New: func() any { return new(chunkBuf) }}
)

func getBuf(p *sync.Pool) *chunkBuf { return p.Get().(*chunkBuf) }

// putBuf returns b to p unless it is nil.
func putBuf(p *sync.Pool, b *chunkBuf) {
	if b != nil {
		p.Put(b)
	}
}

// chunkCipher seals and opens chunks of one stream. It holds the only
// nonce buffer, so it allocates nothing per chunk.
type chunkCipher struct {
	aead  cipher.AEAD
	aad   [HeaderSize]byte // the header bytes, authenticated with every chunk
	nonce [nonceSize]byte  // prefix7 || BE32(index) || lastFlag
}

func (c *chunkCipher) init(encKey []byte, hdr *[HeaderSize]byte) error {
	block, err := aes.NewCipher(encKey)
	clear(encKey)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	c.aead = aead
	c.aad = *hdr
	copy(c.nonce[:prefixSize], hdr[offPrefix:offPrefix+prefixSize])
	return nil
}

func (c *chunkCipher) setNonce(idx uint64, last bool) {
	binary.BigEndian.PutUint32(c.nonce[prefixSize:], uint32(idx))
	c.nonce[nonceSize-1] = 0
	if last {
		c.nonce[nonceSize-1] = 1
	}
}

func (c *chunkCipher) seal(dst, pt []byte, idx uint64, last bool) []byte {
	c.setNonce(idx, last)
	return c.aead.Seal(dst, c.nonce[:], pt, c.aad[:])
}

// tryOpen authenticates and decrypts chunk idx from ct into dst[:0] with
// the given final flag, without open's diagnosis of a failure: it only
// reports whether ct is that chunk. dst must not overlap ct.
func (c *chunkCipher) tryOpen(dst, ct []byte, idx uint64, last bool) ([]byte, bool) {
	c.setNonce(idx, last)
	pt, err := c.aead.Open(dst[:0], c.nonce[:], ct, c.aad[:])
	return pt, err == nil
}

// open authenticates and decrypts chunk idx from ct into dst[:0]. dst must
// not overlap ct. On failure nothing is returned and dst holds no plaintext.
//
// If the tag fails, open checks (at most once per stream, since the error
// is terminal) whether a full-size chunk authenticates with the opposite
// final flag, which authentically distinguishes a stream cut at a chunk
// boundary (ErrTruncated) and data appended after a full final chunk
// (ErrTrailingData) from tampering (ErrAuthentication).
func (c *chunkCipher) open(dst, ct []byte, idx uint64, last bool) ([]byte, error) {
	c.setNonce(idx, last)
	pt, err := c.aead.Open(dst[:0], c.nonce[:], ct, c.aad[:])
	if err == nil {
		return pt, nil
	}
	if len(ct) == ctChunkSize {
		c.setNonce(idx, !last)
		_, err := c.aead.Open(dst[:0], c.nonce[:], ct, c.aad[:])
		clear(dst[:min(len(ct)-TagSize, cap(dst))])
		if err == nil {
			if last {
				return nil, fmt.Errorf("%w: stream ends after non-final chunk %d", ErrTruncated, idx)
			}
			return nil, fmt.Errorf("%w: final chunk %d is followed by more data", ErrTrailingData, idx)
		}
	}
	return nil, fmt.Errorf("%w: chunk %d (final=%t, %d bytes)", ErrAuthentication, idx, last, len(ct))
}

// newOpener derives the stream keys from dataKey and identity, checks the
// key commitment in constant time and only then builds the chunk cipher.
func newOpener(c *chunkCipher, h *Header, hdr *[HeaderSize]byte, dataKey, identity []byte) error {
	encKey, commitment, err := deriveKeys(dataKey, h.Salt[:], identity)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(commitment, h.Commitment[:]) != 1 {
		clear(encKey)
		return ErrKeyCommitment
	}
	return c.init(encKey, hdr)
}
