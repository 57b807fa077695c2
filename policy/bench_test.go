package policy

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/internal/meter"
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
	cpu0 := meter.CPUTime()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		h := meter.StartHeapPeak()
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
	cpu := (meter.CPUTime() - cpu0) / time.Duration(b.N)
	b.StopTimer()
	total := float64(buckets * objects)
	b.ReportMetric(cpu.Seconds(), "cpu-s/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(meter.VMHWM())/(1<<20), "peak-RSS-MiB")
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
