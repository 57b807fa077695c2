package objstore

import (
	"bytes"
	"crypto/rand"
	"io"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/stream"
)

// writeSizes records the size of every Write it receives.
type writeSizes struct{ sizes []int }

func (w *writeSizes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return len(p), nil
}

// TestEncryptedFileWrites streams real ciphertext with encryptOptions,
// in copyHashed's pieces, and checks what the file would see: one write
// for a stream shorter than stream.AlignedWriteSize, else page-aligned
// writes of at least that size and one tail. With a declared size the
// first piece (four chunks, none of them final) is sealed and written
// whole as soon as it is handed over; the stream reads back whole.
func TestEncryptedFileWrites(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	for _, c := range []struct {
		name     string
		size     int64 // plaintext bytes
		declared int64 // the size encryptOptions is told (-1: unknown)
	}{
		{"empty", 0, 0},
		{"4KiB", 4 << 10, 4 << 10},
		{"one chunk", stream.ChunkSize, stream.ChunkSize},
		{"two chunks", 2 * stream.ChunkSize, 2 * stream.ChunkSize},
		{"four chunks", copyBufSize, copyBufSize},
		{"3MiB+5", 3<<20 + 5, 3<<20 + 5},
		{"unknown size", 5<<19 + 7, -1},
		{"unknown small", 100, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &writeSizes{}
			var ct bytes.Buffer
			sw, err := stream.NewWriter(io.MultiWriter(rec, &ct), key, []byte("id"), encryptOptions(c.declared)...)
			if err != nil {
				t.Fatal(err)
			}
			// copyHashed hands the stream copyBufSize pieces.
			data := pattern(int(c.size), 3)
			for p := data; len(p) > 0; {
				n := min(len(p), copyBufSize)
				if _, err := sw.Write(p[:n]); err != nil {
					t.Fatal(err)
				}
				if c.declared > copyBufSize && len(p) == len(data) && len(rec.sizes) != 1 {
					t.Errorf("after the first %d-byte piece of a declared %d bytes the file saw %d writes, want 1", n, c.declared, len(rec.sizes))
				}
				p = p[n:]
			}
			if err := sw.Close(); err != nil {
				t.Fatal(err)
			}
			want, _ := stream.EncryptedSize(c.size)
			var total int64
			for i, n := range rec.sizes {
				total += int64(n)
				if i < len(rec.sizes)-1 && (n < stream.AlignedWriteSize || n%4096 != 0) {
					t.Errorf("write %d of %d is %d bytes, want a multiple of 4096 of at least %d: %v", i, len(rec.sizes), n, stream.AlignedWriteSize, rec.sizes)
				}
			}
			if total != want {
				t.Errorf("wrote %d bytes, want %d", total, want)
			}
			if want < stream.AlignedWriteSize && len(rec.sizes) != 1 {
				t.Errorf("a small stream took %d writes, want 1: %v", len(rec.sizes), rec.sizes)
			}
			r, err := stream.NewReader(&ct, key, []byte("id"))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data) {
				t.Errorf("read back %d bytes, %v", len(got), err)
			}
		})
	}
}

// TestCRC32COnlyForPlainFiles checks that only unencrypted data files
// record a CRC-32C (reads verify it); an encrypted file's record says 0,
// and both objects read back whole.
func TestCRC32COnlyForPlainFiles(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "crcb", nil)
	data := pattern(3<<20+11, 7)
	for _, c := range []struct {
		key     string
		sse     SSE
		wantC32 bool
	}{
		{"plain", SSE{}, true},
		{"kms", SSE{Algorithm: AlgorithmKMS}, false},
		{"oss", SSE{Algorithm: AlgorithmAES256}, false},
	} {
		put(t, e.s, "crcb", c.key, data, PutOptions{SSE: c.sse})
		var files []dataFile
		err := e.s.view(func(tx *bolt.Tx) error {
			_, r, err := e.s.lookupTx(tx, "crcb", c.key, "")
			if r != nil {
				files = r.Files
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 1 {
			t.Fatalf("%s: %d data files", c.key, len(files))
		}
		if got := files[0].CRC32C != 0; got != c.wantC32 {
			t.Errorf("%s: CRC32C recorded %v (%#x), want %v", c.key, got, files[0].CRC32C, c.wantC32)
		}
		if got := get(t, e.s, "crcb", c.key); !bytes.Equal(got, data) {
			t.Errorf("%s: read back %d bytes, not what was written", c.key, len(got))
		}
	}
}

// TestOneKMSCallPerObject pins the data path's KMS work: a multi-chunk
// SSE-KMS PUT makes one GenerateDataKey call and a GET (whole or a range
// spanning chunks) one Decrypt, whatever the object's size.
func TestOneKMSCallPerObject(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "kmscalls", &EncryptionRule{Algorithm: AlgorithmKMS})
	data := pattern(3<<20+17, 9)
	gen, dec := e.audit.count("GenerateDataKey"), e.audit.count("Decrypt")
	put(t, e.s, "kmscalls", "big", data, PutOptions{})
	if n := e.audit.count("GenerateDataKey") - gen; n != 1 {
		t.Errorf("a %d-byte PUT made %d GenerateDataKey calls, want 1", len(data), n)
	}
	if got := get(t, e.s, "kmscalls", "big"); !bytes.Equal(got, data) {
		t.Fatal("read back differs")
	}
	if n := e.audit.count("Decrypt") - dec; n != 1 {
		t.Errorf("a %d-byte GET made %d Decrypt calls, want 1", len(data), n)
	}
	if got, err := readRange(e.s, root, "kmscalls", "big", 100_000, 1<<20); err != nil || !bytes.Equal(got, data[100_000:100_000+1<<20]) {
		t.Fatalf("range read: %v", err)
	}
	if n := e.audit.count("Decrypt") - dec; n != 2 {
		t.Errorf("a GET and a range read made %d Decrypt calls, want 2", n)
	}
}
