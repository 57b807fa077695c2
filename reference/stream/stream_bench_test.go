package stream

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sseaudit/sseaudit/internal/meter"
)

// cpuThroughput reports cpu-MB/s: the bytes processed over the process CPU
// time the benchmark loop used. Unlike MB/s it leaves out the time the
// benchmark waited for a core on a shared machine, so ratios of it are
// steadier there (scripts/benchratio -unit cpu-MB/s). Call it just before
// the loop and the returned function just after.
func cpuThroughput(b *testing.B, perOp int64) func() {
	start := meter.CPUTime()
	return func() {
		if d := meter.CPUTime() - start; d > 0 {
			b.ReportMetric(float64(perOp)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
		}
	}
}

const benchStreamSize = 64 << 20

// BenchmarkGCMSeal64KiB is the baseline: one raw AES-256-GCM Seal of a
// 64 KiB buffer, in place, with Go's own cipher.AEAD.
func BenchmarkGCMSeal64KiB(b *testing.B) {
	block, err := aes.NewCipher(testKey)
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, ChunkSize, ChunkSize+TagSize)
	nonce := make([]byte, aead.NonceSize())
	b.SetBytes(ChunkSize)
	b.ReportAllocs()
	defer cpuThroughput(b, ChunkSize)()
	for b.Loop() {
		aead.Seal(buf[:0], nonce, buf[:ChunkSize], nil)
	}
}

// BenchmarkGCMOpen64KiB is the matching raw Open baseline (informational).
func BenchmarkGCMOpen64KiB(b *testing.B) {
	block, err := aes.NewCipher(testKey)
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	ct := aead.Seal(nil, nonce, make([]byte, ChunkSize), nil)
	out := make([]byte, ChunkSize)
	b.SetBytes(ChunkSize)
	b.ReportAllocs()
	defer cpuThroughput(b, ChunkSize)()
	for b.Loop() {
		if _, err := aead.Open(out[:0], nonce, ct, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncrypt streams 64 MiB from memory through a Writer to
// io.Discard with io.Copy (bytes.Reader.WriteTo -> Writer.Write).
func BenchmarkEncrypt(b *testing.B) {
	pt := plaintext(benchStreamSize, 60)
	b.SetBytes(benchStreamSize)
	b.ReportAllocs()
	defer cpuThroughput(b, benchStreamSize)()
	for b.Loop() {
		w, err := NewWriter(io.Discard, testKey, testIdentity)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(w, bytes.NewReader(pt)); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecrypt streams a 64 MiB object from memory through a Reader to
// io.Discard with io.Copy (Reader.WriteTo).
func BenchmarkDecrypt(b *testing.B) {
	pt := plaintext(benchStreamSize, 61)
	ct := seal(b, pt, testKey, testIdentity)
	b.SetBytes(benchStreamSize)
	b.ReportAllocs()
	defer cpuThroughput(b, benchStreamSize)()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(ct), testKey, testIdentity)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != benchStreamSize {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkEncryptReadFrom is BenchmarkEncrypt with a source that must be
// copied from (no WriterTo), as a file or socket would: io.Copy uses
// Writer.ReadFrom, which reads into the chunk buffer.
func BenchmarkEncryptReadFrom(b *testing.B) {
	pt := plaintext(benchStreamSize, 62)
	b.SetBytes(benchStreamSize)
	b.ReportAllocs()
	defer cpuThroughput(b, benchStreamSize)()
	for b.Loop() {
		w, err := NewWriter(io.Discard, testKey, testIdentity)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(w, onlyReader{bytes.NewReader(pt)}); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecryptReader is BenchmarkDecrypt with a source that must be
// copied from (no WriterTo), as a file or socket would: the ciphertext is
// read into the chunk buffer before it is opened.
func BenchmarkDecryptReader(b *testing.B) {
	pt := plaintext(benchStreamSize, 63)
	ct := seal(b, pt, testKey, testIdentity)
	b.SetBytes(benchStreamSize)
	b.ReportAllocs()
	defer cpuThroughput(b, benchStreamSize)()
	for b.Loop() {
		r, err := NewReader(onlyReader{bytes.NewReader(ct)}, testKey, testIdentity)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != benchStreamSize {
			b.Fatal(n, err)
		}
	}
}

// genReader produces n bytes without holding them in memory. It does not
// write into p (its content is whatever the Writer's buffer held), so it
// costs nothing per byte and the benchmark measures the Writer alone.
type genReader struct{ n int64 }

func (g *genReader) Read(p []byte) (int, error) {
	if g.n <= 0 {
		return 0, io.EOF
	}
	m := int(min(int64(len(p)), g.n))
	g.n -= int64(m)
	return m, nil
}

// BenchmarkEncrypt1GiB streams 1 GiB from a generating reader with io.Copy
// (Writer.ReadFrom). B/op stays near one chunk buffer, showing that
// memory is bounded by the chunk size, not the object size.
func BenchmarkEncrypt1GiB(b *testing.B) {
	const size = 1 << 30
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewWriter(io.Discard, testKey, testIdentity)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(w, &genReader{n: size}); err != nil || n != size {
			b.Fatal(n, err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAEAD(b *testing.B) cipher.AEAD {
	block, err := aes.NewCipher(testKey)
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return aead
}

// BenchmarkGCMSeal64MiB is the like-for-like baseline of BenchmarkEncrypt:
// Go's GCM sealing the same 64 MiB plaintext in 64 KiB pieces into one
// output buffer, without the format (no header, chunk nonces or associated
// data). The plaintext has to come from memory here as there, which the
// single cache-resident buffer of BenchmarkGCMSeal64KiB never does, so
// Encrypt over this is the cost of the format alone.
func BenchmarkGCMSeal64MiB(b *testing.B) {
	aead := benchAEAD(b)
	pt := plaintext(benchStreamSize, 60)
	out := make([]byte, ChunkSize+TagSize)
	nonce := make([]byte, aead.NonceSize())
	b.SetBytes(benchStreamSize)
	b.ReportAllocs()
	defer cpuThroughput(b, benchStreamSize)()
	for b.Loop() {
		for off := 0; off < len(pt); off += ChunkSize {
			aead.Seal(out[:0], nonce, pt[off:off+ChunkSize], nil)
		}
	}
}

// BenchmarkGCMOpen64MiB is the like-for-like baseline of BenchmarkDecrypt:
// Go's GCM opening 64 MiB of sealed 64 KiB pieces straight from memory
// into one output buffer.
func BenchmarkGCMOpen64MiB(b *testing.B) { benchGCMOpenPieces(b, benchStreamSize, 61) }

// BenchmarkGCMOpen1MiB is the like-for-like baseline of
// BenchmarkDecrypt1MiB: Go's GCM opening the same 1 MiB in 16 sealed
// 64 KiB pieces straight from one buffer into one 64 KiB output, as the
// stream does. It differs from BenchmarkGCMOpen64KiB only in reading
// 1 MiB of ciphertext instead of the same 64 KiB again, which a 1 MiB
// stream cannot avoid; Decrypt1MiB over this is the format's own cost.
func BenchmarkGCMOpen1MiB(b *testing.B) { benchGCMOpenPieces(b, 1<<20, 65) }

// benchGCMOpenPieces opens size bytes sealed in ChunkSize pieces.
func benchGCMOpenPieces(b *testing.B, size int, seed uint64) {
	aead := benchAEAD(b)
	pt := plaintext(size, seed)
	nonce := make([]byte, aead.NonceSize())
	ct := make([]byte, 0, size+size/ChunkSize*TagSize)
	for off := 0; off < len(pt); off += ChunkSize {
		ct = aead.Seal(ct, nonce, pt[off:off+ChunkSize], nil)
	}
	out := make([]byte, ChunkSize)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	defer cpuThroughput(b, int64(size))()
	for b.Loop() {
		for off := 0; off < len(ct); off += ChunkSize + TagSize {
			if _, err := aead.Open(out[:0], nonce, ct[off:off+ChunkSize+TagSize], nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEncryptWrites256KiB encrypts 64 MiB written as 256 Writes of one
// cache-resident 256 KiB buffer, as the object store does (it fills a
// 256 KiB buffer from the request body and writes it to the Writer, which
// it tells the object's size with WithSize): no cold source memory, so it
// shows the format's own per-chunk cost against BenchmarkGCMSeal64KiB.
func BenchmarkEncryptWrites256KiB(b *testing.B) {
	benchEncryptWrites(b, WithSize(benchStreamSize))
}

// BenchmarkEncryptWrites256KiBUndeclared is BenchmarkEncryptWrites256KiB
// without WithSize (an object of unknown size): each Write keeps its last
// chunk back, copied, until the next Write shows it is not final.
func BenchmarkEncryptWrites256KiBUndeclared(b *testing.B) { benchEncryptWrites(b) }

func benchEncryptWrites(b *testing.B, opts ...Option) {
	buf := plaintext(4*ChunkSize, 64)
	b.SetBytes(benchStreamSize)
	b.ReportAllocs()
	defer cpuThroughput(b, benchStreamSize)()
	for b.Loop() {
		w, err := NewWriter(io.Discard, testKey, testIdentity, opts...)
		if err != nil {
			b.Fatal(err)
		}
		for range benchStreamSize / len(buf) {
			if _, err := w.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecrypt1MiB decrypts a 1 MiB stream that stays cache-resident
// (the object store reads each chunk into the Reader's buffer from the
// page cache, so the cipher works on hot memory there too), including
// each stream's set-up (key derivation, commitment check, buffers): the
// format's own cost against BenchmarkGCMOpen64KiB.
func BenchmarkDecrypt1MiB(b *testing.B) {
	const size = 1 << 20
	ct := seal(b, plaintext(size, 65), testKey, testIdentity)
	b.SetBytes(size)
	b.ReportAllocs()
	defer cpuThroughput(b, size)()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(ct), testKey, testIdentity)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != size {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkEncryptToFile writes 64 MiB in 256 KiB Writes into a temp file
// (page cache, no fsync) as the object store does, with WithAlignedWrites
// and WithSize; BenchmarkEncryptToFileBufio is the path it replaced (each
// chunk written on its own into a 256 KiB bufio.Writer, size undeclared).
func BenchmarkEncryptToFile(b *testing.B) {
	benchEncryptToFile(b, false, WithAlignedWrites(), WithSize(benchStreamSize))
}

func BenchmarkEncryptToFileBufio(b *testing.B) { benchEncryptToFile(b, true) }

func benchEncryptToFile(b *testing.B, useBufio bool, opts ...Option) {
	buf := plaintext(4*ChunkSize, 64)
	f, err := os.Create(filepath.Join(b.TempDir(), "f"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var dst io.Writer = f
	bw := bufio.NewWriterSize(f, 256<<10)
	if useBufio {
		dst = bw
	}
	b.SetBytes(benchStreamSize)
	b.ReportAllocs()
	defer cpuThroughput(b, benchStreamSize)()
	for b.Loop() {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		w, err := NewWriter(dst, testKey, testIdentity, opts...)
		if err != nil {
			b.Fatal(err)
		}
		for range benchStreamSize / len(buf) {
			if _, err := w.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
