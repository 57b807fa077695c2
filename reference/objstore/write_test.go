package objstore

import (
	"bytes"
	"crypto/rand"
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

// TestFileBufferWrites streams real ciphertext through fileBuffer and
// checks what the file would see: one write for a small stream, else
// writes of fileBufSize (so every write starts on a page boundary) and
// one tail.
func TestFileBufferWrites(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	for _, c := range []struct {
		name     string
		size     int64 // plaintext bytes
		declared int64 // the size fileBuffer is told (-1: unknown)
		pooled   bool
	}{
		{"empty", 0, 0, false},
		{"4KiB", 4 << 10, 4 << 10, false},
		{"one chunk", stream.ChunkSize, stream.ChunkSize, false},
		{"two chunks", 2 * stream.ChunkSize, 2 * stream.ChunkSize, true},
		{"3MiB+5", 3<<20 + 5, 3<<20 + 5, true},
		{"unknown size", 5<<19 + 7, -1, true},
		{"unknown small", 100, -1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &writeSizes{}
			fb, release := fileBuffer(rec, c.declared)
			defer release()
			if got := fb.Size() == fileBufSize; got != c.pooled {
				t.Fatalf("buffer of %d bytes; want pooled %v", fb.Size(), c.pooled)
			}
			sw, err := stream.NewWriter(fb, key, []byte("id"))
			if err != nil {
				t.Fatal(err)
			}
			// copyHashed hands the stream copyBufSize pieces.
			data := make([]byte, c.size)
			for p := data; len(p) > 0; {
				n := min(len(p), copyBufSize)
				if _, err := sw.Write(p[:n]); err != nil {
					t.Fatal(err)
				}
				p = p[n:]
			}
			if err := sw.Close(); err != nil {
				t.Fatal(err)
			}
			if err := fb.Flush(); err != nil {
				t.Fatal(err)
			}
			want, _ := stream.EncryptedSize(c.size)
			var total int64
			for i, n := range rec.sizes {
				total += int64(n)
				if i < len(rec.sizes)-1 && n != fileBufSize {
					t.Errorf("write %d of %d is %d bytes, want %d: %v", i, len(rec.sizes), n, fileBufSize, rec.sizes)
				}
			}
			if total != want {
				t.Errorf("wrote %d bytes, want %d", total, want)
			}
			if !c.pooled && len(rec.sizes) != 1 {
				t.Errorf("a small stream took %d writes, want 1: %v", len(rec.sizes), rec.sizes)
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
