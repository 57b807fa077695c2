package snapshot

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// zstdMagic starts every zstd frame (RFC 8878). No snapshot starts with
// it: a JSON document starts with '{' or whitespace.
var zstdMagic = [4]byte{0x28, 0xb5, 0x2f, 0xfd}

// maxZstdWindow bounds the memory a compressed snapshot can ask of its
// reader. History writes 1 MiB windows; the zstd command line uses 8 MiB
// at most unless --long or --ultra is given.
const maxZstdWindow = 8 << 20

// Open opens the snapshot file at path for reading its document bytes: a
// plain file as it is, a zstd-compressed one (history keeps its copies
// so) decompressed as it is read, in memory bounded by the compression
// window whatever the snapshot's size. Which it is, is told by the
// content, not the name. Only a regular file is opened: a FIFO would
// block for ever, a device would never end. Every reader of this package
// reads through Open; Digest alone hashes the file's own bytes.
func Open(path string) (io.ReadCloser, error) {
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrFormat, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot: open: %w", err)
	}
	var head [4]byte
	if n, _ := f.ReadAt(head[:], 0); n < len(head) || head != zstdMagic {
		return f, nil
	}
	// Concurrency 1 decodes synchronously, without goroutines, and low
	// memory suits a document read once, front to back.
	d, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(maxZstdWindow))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("snapshot: open %s: %w", path, err)
	}
	return &zstdFile{f: f, d: d}, nil
}

// zstdFile is a compressed snapshot being read: every decoding error
// (damaged data, a checksum mismatch, a truncated frame, a window too
// large) is an ErrFormat, so a damaged copy is refused like a malformed
// document and never read as a shorter one.
type zstdFile struct {
	f *os.File
	d *zstd.Decoder
}

func (z *zstdFile) Read(p []byte) (int, error) {
	n, err := z.d.Read(p)
	switch {
	case err == nil || err == io.EOF:
	case errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded):
		err = fmt.Errorf("%w: the zstd-compressed file needs more than %d MiB of memory to decompress (%w): recompress it without --long or --ultra", ErrFormat, maxZstdWindow>>20, err)
	default:
		err = fmt.Errorf("%w: the zstd-compressed file is damaged: %w", ErrFormat, err)
	}
	return n, err
}

func (z *zstdFile) Close() error {
	z.d.Close()
	return z.f.Close()
}

// Seekable returns a path to the document of the snapshot at path that
// can be read at offsets (ReadObjectAt): path itself for a plain file; for
// a zstd-compressed one, a decompressed copy in a temporary file (0600,
// in dir, or the system's temporary directory when dir is ""), which
// remove deletes. A compressed stream cannot be read at an offset without
// decoding everything before it, so the copy is made once, as it is read.
func Seekable(path, dir string) (plain string, remove func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("snapshot: open: %w", err)
	}
	var head [4]byte
	n, _ := f.ReadAt(head[:], 0)
	f.Close()
	if n < len(head) || head != zstdMagic {
		return path, func() {}, nil
	}
	r, err := Open(path)
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	tmp, err := os.CreateTemp(dir, "sseaudit-snapshot-*.json")
	if err != nil {
		return "", nil, fmt.Errorf("snapshot: decompress %s: %w", path, err)
	}
	remove = func() { os.Remove(tmp.Name()) }
	if _, err = io.Copy(tmp, r); err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err != nil {
		remove()
		return "", nil, fmt.Errorf("snapshot: decompress %s: %w", path, err)
	}
	return tmp.Name(), remove, nil
}
