package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/internal/meter"
	"github.com/sseaudit/sseaudit/policies/bench/synth"
)

// writeSynth writes a synthetic snapshot into dir.
func writeSynth(tb testing.TB, dir string, o synth.Options) string {
	tb.Helper()
	p := filepath.Join(dir, "snapshot-in.json")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := synth.Write(f, o); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// runFromSnapshot runs what `sseaudit scan --from-snapshot` (report false)
// or `sseaudit audit --from-snapshot` (report true, signed) runs, with no
// history, and returns the result.
func runFromSnapshot(tb testing.TB, snap, out string, report bool) *Result {
	tb.Helper()
	o := Options{FromSnapshot: snap, Out: out, Report: report, FailOn: findings.SeverityHigh, FailOnName: "high"}
	if report {
		o.Sign = &Signing{KeyPath: filepath.Join(filepath.Dir(out), "signing.key")}
	}
	res, err := Run(context.Background(), o)
	if err != nil && !IsGate(err) {
		tb.Fatalf("run: %v", err)
	}
	return res
}

// BenchmarkFromSnapshot runs the pipeline the CLI runs over a snapshot
// file: scan (findings.json and the side file) and audit (the whole signed
// report set). SSEAUDIT_BENCH_SNAPSHOT names the file; without it, a
// synthetic 100 x 1,000 objects all unencrypted. scripts/scale-bench.sh
// compares the scan path with policy's BenchmarkEngineStream on the same
// file. Besides time it reports CPU, peak heap and RSS, findings, and for
// audit the size of every report per finding.
func BenchmarkFromSnapshot(b *testing.B) {
	snap := os.Getenv("SSEAUDIT_BENCH_SNAPSHOT")
	if snap == "" {
		snap = writeSynth(b, b.TempDir(), synth.Options{Buckets: 100, Objects: 1000, Mix: synth.MixUnencrypted})
	}
	for _, mode := range []string{"scan", "audit"} {
		b.Run(mode, func(b *testing.B) {
			report := mode == "audit"
			dir := b.TempDir()
			// The policies' load is outside the timer: the engine
			// benchmark does not count it either.
			if _, err := LoadEngine(context.Background(), PolicyOptions{}); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.ResetTimer()
			cpu0 := meter.CPUTime()
			start := time.Now()
			var peak uint64
			var res *Result
			for i := 0; i < b.N; i++ {
				out := filepath.Join(dir, "out"+strconv.Itoa(i))
				h := meter.StartHeapPeak()
				res = runFromSnapshot(b, snap, out, report)
				if p := h.Stop(); p > peak {
					peak = p
				}
				if i < b.N-1 {
					os.RemoveAll(out)
				}
			}
			elapsed := time.Since(start) / time.Duration(b.N)
			cpu := (meter.CPUTime() - cpu0) / time.Duration(b.N)
			b.StopTimer()
			objects := float64(res.Summary.Coverage.ObjectsListed)
			nf := float64(res.Findings.Len())
			b.ReportMetric(cpu.Seconds(), "cpu-s/op")
			b.ReportMetric(float64(cpu.Nanoseconds())/objects, "cpu-ns/object")
			b.ReportMetric(objects/elapsed.Seconds(), "objects/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(meter.VMHWM())/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(nf, "findings")
			if !report {
				return
			}
			for _, f := range []struct{ file, unit string }{
				{"index.html", "html-B/finding"}, {"report.json", "json-B/finding"}, {"results.sarif", "sarif-B/finding"},
				{"ocsf.json", "ocsf-B/finding"}, {"junit.xml", "junit-B/finding"},
			} {
				st, err := os.Stat(filepath.Join(res.Dir, f.file))
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(st.Size())/nf, f.unit)
			}
		})
	}
}

// BenchmarkFindingsMemory measures what a run holds per aggregated
// finding: an estate of SSEAUDIT_BENCH_BUCKETS buckets (default 10,000) of
// two unencrypted objects each (two findings a bucket: the bucket's
// default and its objects' aggregate), evaluated as `scan --from-snapshot`
// and `audit --from-snapshot` run it, with the findings spilled to disk
// (the default) and, to compare, held in memory (a run size larger than
// the estate). It reports the peak live heap (internal/meter) and
// that peak per finding; scripts/scale-bench.sh measures the whole
// process's peak RSS on the shapes of issue 11.
func BenchmarkFindingsMemory(b *testing.B) {
	buckets := 10000
	if s := os.Getenv("SSEAUDIT_BENCH_BUCKETS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("SSEAUDIT_BENCH_BUCKETS=%q: want a positive number", s)
		}
		buckets = n
	}
	snap := writeSynth(b, b.TempDir(), synth.Options{Buckets: buckets, Objects: 2, Mix: synth.MixUnencrypted})
	for _, mode := range []string{"scan", "audit"} {
		for _, held := range []struct {
			name    string
			runSize int
		}{{"spilled", 0}, {"memory", 1 << 30}} {
			b.Run(mode+"/"+held.name, func(b *testing.B) {
				dir := b.TempDir()
				if _, err := LoadEngine(context.Background(), PolicyOptions{}); err != nil {
					b.Fatal(err)
				}
				var peak uint64
				var nf int
				for i := 0; i < b.N; i++ {
					out := filepath.Join(dir, "out"+strconv.Itoa(i))
					o := Options{FromSnapshot: snap, Out: out, Report: mode == "audit", FailOn: findings.SeverityHigh, FailOnName: "high", SpillRunSize: held.runSize}
					if o.Report {
						o.Sign = &Signing{KeyPath: filepath.Join(dir, "signing.key")}
					}
					runtime.GC()
					h := meter.StartLivePeak()
					res, err := Run(context.Background(), o)
					p := h.Stop()
					if err != nil && !IsGate(err) {
						b.Fatalf("run: %v", err)
					}
					if p > peak {
						peak = p
					}
					nf = res.Findings.Len()
					os.RemoveAll(out)
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-live-MiB")
				b.ReportMetric(float64(peak)/float64(nf), "peak-live-B/finding")
				b.ReportMetric(float64(nf), "findings")
			})
		}
	}
}
