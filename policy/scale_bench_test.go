package policy

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/internal/meter"
	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/snapshot"
)

// countSink counts the per-object findings and drops them: the engine's
// own cost, without aggregation or a side file.
type countSink struct{ n int64 }

func (s *countSink) AddObjects(batch []findings.ObjectFinding) error {
	s.n += int64(len(batch))
	return nil
}

// BenchmarkEngineStream is the engine's own path over a snapshot file:
// EvaluateStream with a sink that drops the per-object findings, as the
// pipeline calls it but without aggregating them. scripts/scale-bench.sh
// compares `sseaudit scan --from-snapshot` with it on the same file
// (SSEAUDIT_BENCH_SNAPSHOT names it, SSEAUDIT_BENCH_OBJECTS may give its
// object count; without them, a synthetic 100 x 1,000 objects all
// unencrypted). The engine is loaded outside the timer, as the
// CLI's load is a constant the CLI pays once.
func BenchmarkEngineStream(b *testing.B) {
	path := os.Getenv("SSEAUDIT_BENCH_SNAPSHOT")
	if path == "" {
		path = writeSynthetic(b, b.TempDir(), "cur.json", synth.Options{Buckets: 100, Objects: 1000, Mix: synth.MixUnencrypted})
	}
	// The object count for the per-object metrics: from the caller, or
	// the snapshot's headers (not ReadSummary, whose decoding of every
	// object would add to the process's CPU what the engine does not do).
	objects, _ := strconv.ParseFloat(os.Getenv("SSEAUDIT_BENCH_OBJECTS"), 64)
	if objects <= 0 {
		sum, err := snapshot.ReadHeaders(path)
		if err != nil {
			b.Fatal(err)
		}
		objects = float64(sum.Coverage.ObjectsListed)
	}
	e := load(b, Options{})
	runtime.GC()
	b.ResetTimer()
	cpu0 := meter.CPUTime()
	start := time.Now()
	var peak uint64
	var n int64
	for i := 0; i < b.N; i++ {
		h := meter.StartHeapPeak()
		sink := &countSink{}
		st, err := e.EvaluateStream(context.Background(), FileSource(path), nil, nil, sink)
		if p := h.Stop(); p > peak {
			peak = p
		}
		if err != nil {
			b.Fatal(err)
		}
		n = sink.n + int64(len(st.Findings))
	}
	elapsed := time.Since(start) / time.Duration(b.N)
	cpu := (meter.CPUTime() - cpu0) / time.Duration(b.N)
	b.StopTimer()
	b.ReportMetric(cpu.Seconds(), "cpu-s/op")
	b.ReportMetric(float64(cpu.Nanoseconds())/objects, "cpu-ns/object")
	b.ReportMetric(objects/elapsed.Seconds(), "objects/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(meter.VMHWM())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(n), "findings")
}
