package objstore

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkPutGet64MiB stores and reads back a 64 MiB object in process
// (including fsync of the data file and the metadata commit).
func BenchmarkPutGet64MiB(b *testing.B) {
	const size = 64 << 20
	data := pattern(size, 42)
	for _, c := range []struct {
		name string
		sse  SSE
	}{
		{"none", SSE{}},
		{"AES256", SSE{Algorithm: AlgorithmAES256}},
		{"KMS", SSE{Algorithm: AlgorithmKMS}},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newTestEnv(b)
			mustBucket(b, e.s, "bench", nil)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.s.PutObject(bg, root, "bench", "obj", bytes.NewReader(data), size, PutOptions{SSE: c.sse}); err != nil {
					b.Fatal(err)
				}
				o, err := e.s.OpenObject(bg, root, "bench", "obj")
				if err != nil {
					b.Fatal(err)
				}
				r, err := o.Range(bg, 0, size)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r); err != nil || n != size {
					b.Fatal(n, err)
				}
				r.Close()
				o.Close()
			}
		})
	}
}
