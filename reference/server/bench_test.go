package server

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/sseaudit/sseaudit/internal/meter"
)

// benchServer starts one in-process server for a benchmark; every
// comparison in a benchmark runs against the same running server.
func benchServer(b *testing.B) (*Server, *oss.Client) {
	b.Helper()
	env := map[string]string{"SSEAUDIT_ROOT_ACCESS_KEY_ID": "BENCHAK", "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": "bench-secret"}
	s, err := Start(context.Background(), Config{
		DataDir: b.TempDir(), Addr: "127.0.0.1:0", KMSAddr: "127.0.0.1:0",
		Getenv: func(k string) string { return env[k] },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(context.Background()) })
	c, err := oss.New(s.Endpoint, "BENCHAK", "bench-secret", oss.ForcePathStyle(true))
	if err != nil {
		b.Fatal(err)
	}
	return s, c
}

// patternReader yields n deterministic bytes without holding them.
type patternReader struct{ left int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	for i := range p {
		p[i] = byte(i * 31)
	}
	r.left -= int64(len(p))
	return len(p), nil
}

// BenchmarkPutGet64MiB puts then gets a 64 MiB object through the OSS SDK
// over loopback, without SSE and with SSE-KMS (and SSE-OSS), on the same
// running server. Compare the sub-benchmarks' MB/s with benchstat; the
// ratio KMS/none is the cost of encryption as a client sees it.
func BenchmarkPutGet64MiB(b *testing.B) {
	_, c := benchServer(b)
	const size = 64 << 20
	for _, mode := range []struct{ name, algo string }{{"none", ""}, {"KMS", "KMS"}, {"AES256", "AES256"}} {
		bucket := "bench-" + map[string]string{"": "none", "KMS": "kms", "AES256": "aes"}[mode.algo]
		if err := c.CreateBucket(bucket); err != nil {
			b.Fatal(err)
		}
		bk, _ := c.Bucket(bucket)
		b.Run(mode.name, func(b *testing.B) {
			var opts []oss.Option
			if mode.algo != "" {
				opts = append(opts, oss.ServerSideEncryption(mode.algo))
			}
			b.SetBytes(2 * size) // PUT and GET
			// cpu-MB/s: bytes per CPU second of the whole process (server
			// and client), steadier than MB/s on a shared machine.
			cpu0 := meter.CPUTime()
			defer func() {
				if d := meter.CPUTime() - cpu0; d > 0 {
					b.ReportMetric(2*size*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
				}
			}()
			// put-MB/s and get-MB/s: each half timed on its own, so a
			// change shows which path it moved.
			var putTime, getTime time.Duration
			defer func() {
				if putTime > 0 && getTime > 0 {
					b.ReportMetric(size*float64(b.N)/putTime.Seconds()/1e6, "put-MB/s")
					b.ReportMetric(size*float64(b.N)/getTime.Seconds()/1e6, "get-MB/s")
				}
			}()
			for b.Loop() {
				t0 := time.Now()
				if err := bk.PutObject("obj", &patternReader{left: size}, append(opts, oss.ContentLength(size))...); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				putTime += t1.Sub(t0)
				r, err := bk.GetObject("obj")
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, r)
				r.Close()
				if err != nil || n != size {
					b.Fatalf("get: %d bytes, %v", n, err)
				}
				getTime += time.Since(t1)
			}
		})
	}
}

// BenchmarkPutGet64MiBInterleaved is the SSE-KMS target's benchmark
// (issue 13: PUT+GET of 64 MiB with SSE-KMS at least 0.92x of plain,
// the minimum over runs). Each iteration puts 64 MiB without SSE and
// with SSE-KMS on the same running server, then gets both back,
// alternating which mode goes first, so drift on a shared machine hits
// both alike (separate sub-benchmarks run seconds apart, under whatever load
// the other tenants had then). It reports each mode's MB/s and the ratios
// none/KMS of time, so 0.92 means SSE-KMS at 0.92x of plain's throughput:
// of wall time for PUT+GET (x-wall), PUT (x-put) and GET (x-get), and of
// the process CPU each used (x-cpu: server and client, steadier when the
// cores are contended).
// make bench-kms (scripts/bench-kms.sh) and scripts/bench.sh run it
// several times and benchratio -metric prints the median and the minimum
// of the ratios over those runs.
func BenchmarkPutGet64MiBInterleaved(b *testing.B) {
	_, c := benchServer(b)
	const size = 64 << 20
	modes := []struct {
		name, bucket string
		opts         []oss.Option
	}{
		{"none", "inter-none", nil},
		{"KMS", "inter-kms", []oss.Option{oss.ServerSideEncryption("KMS")}},
	}
	var bks [2]*oss.Bucket
	for i, m := range modes {
		if err := c.CreateBucket(m.bucket); err != nil {
			b.Fatal(err)
		}
		bks[i], _ = c.Bucket(m.bucket)
	}
	put := func(i int) {
		if err := bks[i].PutObject("obj", &patternReader{left: size}, append(modes[i].opts, oss.ContentLength(size))...); err != nil {
			b.Fatal(err)
		}
	}
	get := func(i int) {
		r, err := bks[i].GetObject("obj")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if err != nil || n != size {
			b.Fatalf("%s get: %d bytes, %v", modes[i].name, n, err)
		}
	}
	// One untimed round: the first write to each bucket pays for
	// creating its table and the KMS key.
	for i := range modes {
		put(i)
		get(i)
	}
	// [op][mode]: op 0 PUT, 1 GET.
	var wall, cpu [2][2]time.Duration
	b.SetBytes(2 * 2 * size) // PUT and GET, both modes
	iter := 0
	for b.Loop() {
		// PUT none, PUT KMS, GET none, GET KMS on even iterations, KMS
		// first on odd ones: each comparison is between neighbours in
		// time.
		for op, f := range []func(int){put, get} {
			for k := range 2 {
				i := (iter + k) % 2
				t0, c0 := time.Now(), meter.CPUTime()
				f(i)
				wall[op][i] += time.Since(t0)
				cpu[op][i] += meter.CPUTime() - c0
			}
		}
		iter++
	}
	sum := func(d [2][2]time.Duration, i int) float64 { return (d[0][i] + d[1][i]).Seconds() }
	for i, m := range modes {
		b.ReportMetric(2*size*float64(iter)/sum(wall, i)/1e6, m.name+"-MB/s")
	}
	b.ReportMetric(sum(wall, 0)/sum(wall, 1), "x-wall")
	b.ReportMetric(wall[0][0].Seconds()/wall[0][1].Seconds(), "x-put")
	b.ReportMetric(wall[1][0].Seconds()/wall[1][1].Seconds(), "x-get")
	if sum(cpu, 0) > 0 && sum(cpu, 1) > 0 {
		b.ReportMetric(sum(cpu, 0)/sum(cpu, 1), "x-cpu")
	}
}

// BenchmarkHead16Clients measures HEAD requests per second with 16
// concurrent clients on a KMS-encrypted object (HEAD never calls KMS).
func BenchmarkHead16Clients(b *testing.B) {
	_, c := benchServer(b)
	if err := c.CreateBucket("head-bench"); err != nil {
		b.Fatal(err)
	}
	bk, _ := c.Bucket("head-bench")
	if err := bk.PutObject("obj", &patternReader{left: 4096}, oss.ServerSideEncryption("KMS")); err != nil {
		b.Fatal(err)
	}
	var done atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/16 + 1
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				if _, err := bk.GetObjectMeta("obj"); err != nil {
					b.Error(err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(done.Load())/time.Since(start).Seconds(), "heads/s")
}

// BenchmarkStream1GiB puts and gets a 1 GiB SSE-KMS object and reports the
// peak heap in use on top of the idle server: it must stay bounded by
// chunk and buffer sizes, not the object size.
func BenchmarkStream1GiB(b *testing.B) {
	_, c := benchServer(b)
	if err := c.CreateBucket("big"); err != nil {
		b.Fatal(err)
	}
	bk, _ := c.Bucket("big")
	const size = 1 << 30
	for b.Loop() {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}()
		if err := bk.PutObject("huge", &patternReader{left: size}, oss.ServerSideEncryption("KMS"), oss.ContentLength(size)); err != nil {
			b.Fatal(err)
		}
		r, err := bk.GetObject("huge")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		r.Close()
		close(stop)
		if err != nil || n != size {
			b.Fatal(fmt.Errorf("get: %d bytes, %v", n, err))
		}
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak-heap-MiB")
	}
}

// BenchmarkPut4KiB16Clients measures 4 KiB PUTs per second with 16
// concurrent clients, without SSE and with SSE-KMS, on the same running
// server: every PUT is durable (data file, data directory and metadata
// commit) before it is acknowledged, so this is the cost of durability
// under concurrency.
func BenchmarkPut4KiB16Clients(b *testing.B) {
	_, c := benchServer(b)
	const size = 4096
	for _, mode := range []struct{ name, algo string }{{"none", ""}, {"KMS", "KMS"}} {
		bucket := "put4k-" + map[string]string{"": "none", "KMS": "kms"}[mode.algo]
		if err := c.CreateBucket(bucket); err != nil {
			b.Fatal(err)
		}
		bk, _ := c.Bucket(bucket)
		b.Run(mode.name, func(b *testing.B) {
			opts := []oss.Option{oss.ContentLength(size)}
			if mode.algo != "" {
				opts = append(opts, oss.ServerSideEncryption(mode.algo))
			}
			var done atomic.Int64
			var next atomic.Int64
			b.SetBytes(size)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						// 256 keys: overwrites too, which retire the old file.
						key := fmt.Sprintf("obj-%03d", i%256)
						if err := bk.PutObject(key, &patternReader{left: size}, opts...); err != nil {
							b.Error(err)
							return
						}
						done.Add(1)
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(done.Load())/time.Since(start).Seconds(), "puts/s")
		})
	}
}
