package objstore

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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

// benchObjectsSeeded fills bucket "meta" with n small AES256 objects carrying
// some descriptive metadata, as a census target does.
func benchObjectsSeeded(b *testing.B, n int) *testEnv {
	b.Helper()
	e := newTestEnv(b)
	mustBucket(b, e.s, "meta", &EncryptionRule{Algorithm: AlgorithmAES256})
	for i := range n {
		opts := PutOptions{ContentType: "application/octet-stream", UserMetadata: map[string]string{"owner": "team-a"}}
		if _, err := e.s.PutObject(bg, root, "meta", fmt.Sprintf("obj-%06d", i), bytes.NewReader([]byte("x")), 1, opts); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// BenchmarkHeadObject is the store's part of a HEAD: the metadata read of
// one object (bucket and object record), which a census does once per
// object.
func BenchmarkHeadObject(b *testing.B) {
	const n = 100
	e := benchObjectsSeeded(b, n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := e.s.HeadObject(bg, root, "meta", fmt.Sprintf("obj-%06d", i%n)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkListObjects1000 lists one full page of 1,000 objects, the
// store's part of a census listing.
func BenchmarkListObjects1000(b *testing.B) {
	const n = 1000
	e := benchObjectsSeeded(b, n)
	b.ReportAllocs()
	for b.Loop() {
		res, err := e.s.ListObjects(bg, root, "meta", ListOptions{MaxKeys: n})
		if err != nil || len(res.Objects) != n {
			b.Fatal(len(res.Objects), err)
		}
	}
}

// BenchmarkPut4KiB16Writers is the store's part of 4 KiB PUTs from 16
// concurrent clients, without SSE and with SSE-KMS: every PutObject is
// durable (data file, data/ and the metadata commit) before it returns,
// so this measures the durability work under concurrency. Overwrites of
// 256 keys also retire the replaced files.
func BenchmarkPut4KiB16Writers(b *testing.B) {
	const size = 4096
	data := pattern(size, 7)
	for _, c := range []struct {
		name string
		sse  SSE
	}{
		{"none", SSE{}},
		{"KMS", SSE{Algorithm: AlgorithmKMS}},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newTestEnv(b)
			mustBucket(b, e.s, "bench", nil)
			b.SetBytes(size)
			b.ReportAllocs()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						key := fmt.Sprintf("obj-%03d", i%256)
						if _, err := e.s.PutObject(bg, root, "bench", key, bytes.NewReader(data), size, PutOptions{SSE: c.sse}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "puts/s")
		})
	}
}
