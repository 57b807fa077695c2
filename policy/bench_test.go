package policy

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/snapshot"
)

// writeSynthetic writes a synthetic snapshot of buckets x objects.
func writeSynthetic(b testing.TB, dir, name string, o synth.Options) string {
	b.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := synth.Write(f, o); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

// heapPeak samples the heap in use (objects plus fragmentation, like
// MemStats.HeapInuse) every 10 ms until stopped.
type heapPeak struct {
	peak atomic.Uint64
	stop chan struct{}
	done sync.WaitGroup
}

func startHeapPeak() *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		// runtime/metrics, not ReadMemStats: it does not stop the world.
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64() + sample[1].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapPeak) Stop() uint64 {
	close(h.stop)
	h.done.Wait()
	return h.peak.Load()
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is the process's peak resident set (Linux), in bytes, or 0.
func vmHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.ParseUint(f[1], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

func benchEvaluate(b *testing.B, buckets, objects int, withPrevious bool) {
	dir := b.TempDir()
	cur := writeSynthetic(b, dir, "cur.json", synth.Options{Buckets: buckets, Objects: objects, ScanID: "cur", ReencryptDefault: withPrevious})
	prev := ""
	if withPrevious {
		prev = writeSynthetic(b, dir, "prev.json", synth.Options{Buckets: buckets, Objects: objects, ScanID: "prev"})
	}
	st, _ := os.Stat(cur)
	e := load(b, Options{})
	runtime.GC()
	b.ResetTimer()
	var n int
	var peak uint64
	cpu0 := cpuTime()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		h := startHeapPeak()
		fs, err := e.EvaluateSnapshot(context.Background(), cur, prev, nil)
		p := h.Stop()
		if err != nil {
			b.Fatal(err)
		}
		n = len(fs)
		if p > peak {
			peak = p
		}
	}
	elapsed := time.Since(start) / time.Duration(b.N)
	cpu := (cpuTime() - cpu0) / time.Duration(b.N)
	b.StopTimer()
	total := float64(buckets * objects)
	b.ReportMetric(cpu.Seconds(), "cpu-s/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(vmHWM())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(total/elapsed.Seconds(), "objects/s")
	b.ReportMetric(float64(n), "findings")
	b.ReportMetric(float64(st.Size())/(1<<20), "snapshot-MiB")
}

// BenchmarkEvaluate1M evaluates every built-in rule over a synthetic
// snapshot of 1,000 buckets x 1,000 objects, streamed from a file (target:
// under 10 s and 1 GiB). Run with:
//
//	go test -run '^$' -bench 'Evaluate1M$' -benchtime 1x ./policy/
func BenchmarkEvaluate1M(b *testing.B) { benchEvaluate(b, 1000, 1000, false) }

// BenchmarkEvaluate1MWithPrevious adds a previous snapshot (the drift rule
// joins every bucket with its previous state; every default changed).
func BenchmarkEvaluate1MWithPrevious(b *testing.B) { benchEvaluate(b, 1000, 1000, true) }

// BenchmarkEvaluate10K is a small variant for quick comparisons.
func BenchmarkEvaluate10K(b *testing.B) { benchEvaluate(b, 100, 100, false) }

func benchMemory(b *testing.B, buckets, objects int) {
	dir := b.TempDir()
	cur := writeSynthetic(b, dir, "cur.json", synth.Options{Buckets: buckets, Objects: objects, ScanID: "cur"})
	sum, err := FileSource(cur).ReadSummary()
	if err != nil {
		b.Fatal(err)
	}
	m := MemorySnapshot(sum)
	m.Buckets = nil
	if err := FileSource(cur).EachBucket(func(bk snapshot.Bucket) error { m.Buckets = append(m.Buckets, bk); return nil }); err != nil {
		b.Fatal(err)
	}
	e := load(b, Options{})
	runtime.GC()
	b.ResetTimer()
	var n int
	start := time.Now()
	for i := 0; i < b.N; i++ {
		fs, err := e.Evaluate(context.Background(), &m, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		n = len(fs)
	}
	elapsed := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(buckets*objects)/elapsed.Seconds(), "objects/s")
	b.ReportMetric(float64(n), "findings")
}

// BenchmarkEvaluateOnly100K measures policy evaluation alone (objects
// already decoded in memory), 100 x 1,000.
func BenchmarkEvaluateOnly100K(b *testing.B) { benchMemory(b, 100, 1000) }

// BenchmarkRead100K measures package snapshot's reader alone (ReadSummary
// plus EachBucket), which the engine's fast path replaces for files.
func BenchmarkRead100K(b *testing.B) {
	cur := writeSynthetic(b, b.TempDir(), "cur.json", synth.Options{Buckets: 100, Objects: 1000})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := FileSource(cur).ReadSummary(); err != nil {
			b.Fatal(err)
		}
		if err := FileSource(cur).EachBucket(func(snapshot.Bucket) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
