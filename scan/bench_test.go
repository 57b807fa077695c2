package scan

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
)

// The census benchmarks compare the scan with a baseline measured in the
// same iteration against the same in-process reference, alternating which
// runs first, so that load from other processes on a shared machine hits
// both sides. Each side reports objects per second of wall time and the
// CPU time (user+system, client and server together: the reference runs
// in this process) per object, which load from other processes does not
// inflate. Run them with scripts/census-bench.sh, which repeats them and
// summarises with benchstat.

// benchObjects is the number of objects each side of a comparison reads.
const benchObjects = 5000

// side accumulates one side of a comparison.
type side struct{ wall, cpu time.Duration }

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs f and adds its wall and CPU time to s.
func (s *side) measure(f func()) {
	c0, t0 := cpuTime(), time.Now()
	f()
	s.wall += time.Since(t0)
	s.cpu += cpuTime() - c0
}

// report reports the side's objects per second and CPU per object.
func (s *side) report(b *testing.B, name string, objects float64) {
	b.ReportMetric(objects/s.wall.Seconds(), name+"-obj/s")
	b.ReportMetric(float64(s.cpu.Microseconds())/objects, name+"-cpu-us/obj")
}

// seedBench creates bucket (AES256 by default) holding n one-byte objects
// named key(i), unless an earlier run of the benchmark in this process
// already did.
func seedBench(b *testing.B, c *client.Client, bucket string, n int, key func(int) string) {
	b.Helper()
	if err := c.CreateBucket(context.Background(), bucket, &client.SSE{Algorithm: client.AlgorithmAES256}); err != nil {
		if te, ok := client.AsError(err); ok && te.StatusCode == 409 {
			return // seeded by an earlier -count round
		}
		b.Fatalf("CreateBucket %s: %v", bucket, err)
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if _, err := c.PutObject(context.Background(), bucket, key(i), strings.NewReader("x"), 1, client.PutOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// bareHEAD HEADs bucket/key(i) for i < n with 16 goroutines through c: the
// least a census of those objects must do, without listing or writing.
func bareHEAD(b *testing.B, c *client.Client, bucket string, n int, key func(int) string) {
	b.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	var failed atomic.Int64
	for range DefaultConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if _, err := c.HeadObject(context.Background(), bucket, key(i)); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		b.Fatalf("bare HEAD loop: %d of %d failed", f, n)
	}
}

// censusOnce scans cfg into a snapshot file, as `sseaudit scan` does, and
// checks that it inspected want objects.
func censusOnce(b *testing.B, cfg Config, want int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "snapshot.json")
	sum, err := RunToFile(context.Background(), cfg, path)
	if err != nil {
		b.Fatal(err)
	}
	if sum.Coverage.ObjectsInspected != want || !sum.Complete {
		b.Fatalf("census inspected %d of %d objects (complete %v)", sum.Coverage.ObjectsInspected, want, sum.Complete)
	}
}

// BenchmarkCensusVsBareHEAD compares the census of one bucket with a bare
// 16-goroutine HEAD loop over the same objects, the same server and the
// same client: census-obj/s, bare-obj/s and their ratio (census/bare).
func BenchmarkCensusVsBareHEAD(b *testing.B) {
	c := rootClient(b, client.OSS)
	const bucket = "bench-census-one"
	key := func(i int) string { return fmt.Sprintf("obj-%06d", i) }
	seedBench(b, c, bucket, benchObjects, key)
	cfg := Config{Client: c, KMS: rootKMS, BucketGlob: bucket}
	var census, bare side
	for i := 0; b.Loop(); i++ {
		runCensus := func() { census.measure(func() { censusOnce(b, cfg, benchObjects) }) }
		// The reference runs in this process, so the census's GC
		// setting (DefaultCensusGCPercent) also spares the server's
		// collections: the bare loop runs under it too, or the
		// comparison would credit the census with the server's savings.
		// (scripts/census-bench.sh's end-to-end comparison runs the
		// server, the scan and the loop as three processes, each with
		// its own setting.)
		runBare := func() {
			bare.measure(func() {
				defer raiseGC(DefaultCensusGCPercent)()
				bareHEAD(b, c, bucket, benchObjects, key)
			})
		}
		if i%2 == 0 {
			runCensus()
			runBare()
		} else {
			runBare()
			runCensus()
		}
	}
	n := float64(b.N * benchObjects)
	census.report(b, "census", n)
	bare.report(b, "bare", n)
	b.ReportMetric(bare.wall.Seconds()/census.wall.Seconds(), "census/bare")
	b.ReportMetric(bare.cpu.Seconds()/census.cpu.Seconds(), "census/bare-cpu")
}

// BenchmarkCensusManySmallBuckets compares the census of 500 buckets of
// 10 objects with the census of one bucket of 5,000 objects, in objects
// per second, in each dialect: many-obj/s, single-obj/s and their ratio
// (many/single), and the requests each side sent per object and kept in
// flight on average. A census keeps its budget of requests in flight
// nearly full either way (many-inflight and single-inflight 12-15 of
// 16: a request holds its slot until its response headers arrive, not
// while its body is decoded), so the ratio follows the requests: many/single-req (single's requests over many's)
// is what it would be if every request cost the same (a small bucket's
// five bucket-level reads cost about what five HEADs do, see
// BenchmarkRequestCosts), and many/single-req/s sets the two censuses'
// request rates against each other.
func BenchmarkCensusManySmallBuckets(b *testing.B) {
	const nb, per = benchObjects / 10, 10
	const single = "bench-single"
	key := func(i int) string { return fmt.Sprintf("obj-%06d", i) }
	seeder := rootClient(b, client.OSS)
	seedBench(b, seeder, single, benchObjects, key)
	for i := range nb {
		seedBench(b, seeder, fmt.Sprintf("bench-many-%03d", i), per, key)
	}
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		b.Run(string(d), func(b *testing.B) {
			c := rootClient(b, d)
			var manyReqs, oneReqs requestCount
			many := Config{Client: c, KMS: rootKMS, BucketGlob: "bench-many-*", requests: &manyReqs}
			one := Config{Client: c, KMS: rootKMS, BucketGlob: single, requests: &oneReqs}
			var sm, ss side
			for i := 0; b.Loop(); i++ {
				runMany := func() { sm.measure(func() { censusOnce(b, many, benchObjects) }) }
				runOne := func() { ss.measure(func() { censusOnce(b, one, benchObjects) }) }
				if i%2 == 0 {
					runMany()
					runOne()
				} else {
					runOne()
					runMany()
				}
			}
			n := float64(b.N * benchObjects)
			sm.report(b, "many", n)
			ss.report(b, "single", n)
			b.ReportMetric(ss.wall.Seconds()/sm.wall.Seconds(), "many/single")
			b.ReportMetric(ss.cpu.Seconds()/sm.cpu.Seconds(), "many/single-cpu")
			b.ReportMetric(float64(manyReqs.n.Load())/n, "many-req/obj")
			b.ReportMetric(float64(oneReqs.n.Load())/n, "single-req/obj")
			// The mean number of requests in flight: a census that keeps
			// its budget (DefaultConcurrency) busy can go faster only by
			// sending fewer or cheaper requests.
			b.ReportMetric(float64(manyReqs.busy.Load())/float64(sm.wall), "many-inflight")
			b.ReportMetric(float64(oneReqs.busy.Load())/float64(ss.wall), "single-inflight")
			bound := float64(oneReqs.n.Load()) / float64(manyReqs.n.Load())
			b.ReportMetric(bound, "many/single-req")
			// Requests per second of many against single: how near the
			// census of many small buckets comes to its bound.
			b.ReportMetric(ss.wall.Seconds()/sm.wall.Seconds()/bound, "many/single-req/s")
		})
	}
}

// parallel16 runs op(0..n-1) with 16 goroutines.
func parallel16(b *testing.B, n int, op func(i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkRequestCosts measures the CPU (client and server together) of
// each request a census sends, 16 at a time: a HEAD, a bucket's rule,
// versioning, ACL and policy reads, a listing of a 10-object bucket, and
// one listing entry (from 1,000-object pages). They bound the ratios
// above on a CPU-bound machine: a census costs at least a HEAD plus a
// listing entry per object, and a bucket of n objects its five bucket
// requests on top of n of those.
func BenchmarkRequestCosts(b *testing.B) {
	c := rootClient(b, client.OSS)
	key := func(i int) string { return fmt.Sprintf("obj-%06d", i) }
	seedBench(b, c, "bench-census-one", benchObjects, key)
	many := func(i int) string { return fmt.Sprintf("bench-many-%03d", i%100) }
	for i := range 100 {
		seedBench(b, c, many(i), 10, key)
	}
	ctx := context.Background()
	nop := func(client.ObjectSummary) error { return nil }
	for _, r := range []struct {
		name   string
		n, per int // calls per iteration, units per call
		op     func(i int) error
	}{
		{"head", 2000, 1, func(i int) error { _, err := c.HeadObject(ctx, "bench-census-one", key(i%benchObjects)); return err }},
		{"rule", 2000, 1, func(i int) error { _, err := c.BucketEncryption(ctx, many(i)); return err }},
		{"versioning", 2000, 1, func(i int) error { _, err := c.BucketVersioning(ctx, many(i)); return err }},
		{"acl", 2000, 1, func(i int) error { _, err := c.BucketACL(ctx, many(i)); return err }},
		// No policy is set: the answer is 404 NoSuchBucketPolicy, as for
		// most buckets.
		{"policy", 2000, 1, func(i int) error { _, _, err := c.BucketPolicy(ctx, many(i)); return err }},
		{"list-10", 1000, 1, func(i int) error { return c.ListObjects(ctx, many(i), "", nop) }},
		{"list-entry", 16, benchObjects, func(int) error { return c.ListObjects(ctx, "bench-census-one", "", nop) }},
	} {
		b.Run(r.name, func(b *testing.B) {
			var s side
			for b.Loop() {
				s.measure(func() { parallel16(b, r.n, r.op) })
			}
			b.ReportMetric(float64(s.cpu.Microseconds())/float64(b.N*r.n*r.per), "cpu-us/op")
		})
	}
}
