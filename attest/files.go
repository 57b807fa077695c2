package attest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// Bounds on the files attest reads itself (the listed files are bounded by
// the size the manifest lists for them).
const (
	maxManifestSize  = 64 << 20 // a manifest of a million files is ~150 MB; reports hold hundreds
	maxSignatureSize = 4 << 10  // base64 of 64 bytes and a newline
	maxChainLogSize  = 64 << 20
	maxKeyFileSize   = 64 << 10
	hashChunk        = 1 << 20 // context is checked between chunks
)

// notRegularError says that a path inside a signed directory is not a
// regular file reached through real directories: a symbolic link, a device,
// a FIFO, a socket or a directory where a file is expected, or a file
// swapped for another one while it was being opened. Such a path is never
// followed or read.
type notRegularError struct {
	path   string // relative, slash-separated: the component at fault
	detail string
}

func (e *notRegularError) Error() string { return e.path + " " + e.detail }

// describe names what an entry of mode m is, for notRegularError.
func describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsRegular():
		return "a regular file"
	}
	return "an irregular file"
}

// openRegular opens rel (slash-separated, already cleaned) inside root for
// reading, when every directory on its way is a real directory and rel
// itself a regular file: no symbolic link is followed, not even one that
// stays inside the directory, and a FIFO or device is never opened (so a
// reader cannot be made to block or read for ever). The root keeps the open
// inside the directory even if an entry is swapped while we look; the file
// opened is checked to be the one inspected.
func openRegular(root *os.Root, rel string) (*os.File, fs.FileInfo, error) {
	parts := strings.Split(rel, "/")
	var fi fs.FileInfo
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		var err error
		if fi, err = root.Lstat(p); err != nil {
			return nil, nil, err
		}
		last := i == len(parts)-1
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			d := "is a symbolic link"
			if target, err := root.Readlink(p); err == nil {
				d += " (to " + target + ")"
			}
			want := "a regular file"
			if !last {
				want = "a directory"
			}
			return nil, nil, &notRegularError{path: p, detail: d + ", not " + want + "; it is not followed"}
		case !last && !fi.IsDir():
			return nil, nil, &notRegularError{path: p, detail: "is " + describe(fi.Mode()) + ", not a directory"}
		case last && !fi.Mode().IsRegular():
			return nil, nil, &notRegularError{path: p, detail: "is " + describe(fi.Mode()) + ", not a regular file; it is not read"}
		}
	}
	f, err := root.OpenFile(rel, os.O_RDONLY|openNoBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !os.SameFile(fi, st) || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &notRegularError{path: rel, detail: "was replaced while being verified"}
	}
	return f, st, nil
}

// hashBounded returns the hex SHA-256 of at most limit bytes of r and the
// number of bytes read; more than limit bytes is an error (the file grew).
// It stops when ctx is cancelled.
func hashBounded(ctx context.Context, r io.Reader, limit int64) (string, int64, error) {
	h := sha256.New()
	buf := make([]byte, hashChunk)
	lr := io.LimitReader(r, limit+1)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return "", n, err
		}
		k, err := lr.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", n, err
		}
	}
	if n > limit {
		return "", n, fmt.Errorf("more than %d bytes (the file grew while being read)", limit)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// readRegular reads rel inside root, a regular file of at most max bytes
// reached without following symbolic links (see openRegular).
func readRegular(root *os.Root, rel string, max int64) ([]byte, error) {
	f, st, err := openRegular(root, rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d a valid one can have", rel, st.Size(), max)
	}
	return readAtMost(f, rel, max)
}

// readFileBounded reads a file the user named (a key, a chain log): it may
// be a symbolic link, since the user chose the path, but at most max bytes
// are read, so a path such as /dev/zero fails instead of filling memory.
func readFileBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAtMost(f, path, max)
}

func readAtMost(r io.Reader, name string, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a file of this kind", name, max)
	}
	return b, nil
}
