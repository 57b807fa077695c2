package scan

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
)

// The census benchmarks compare the scan with a baseline measured in the
// same iteration against the same in-process reference, alternating which
// runs first, so that load from other processes on a shared machine hits
// both sides. Run them with scripts/census-bench.sh (or `make
// bench-census`), which repeats them and summarises with benchstat.

// benchObjects is the number of objects each side of a comparison reads.
const benchObjects = 5000

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
func bareHEAD(b *testing.B, c *client.Client, bucket string, n int, key func(int) string) time.Duration {
	b.Helper()
	start := time.Now()
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
	return time.Since(start)
}

// censusOnce scans cfg into a snapshot file, as `sseaudit scan` does, and
// checks that it inspected want objects.
func censusOnce(b *testing.B, cfg Config, want int64) time.Duration {
	b.Helper()
	path := filepath.Join(b.TempDir(), "snapshot.json")
	start := time.Now()
	sum, err := RunToFile(context.Background(), cfg, path)
	d := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if sum.Coverage.ObjectsInspected != want || !sum.Complete {
		b.Fatalf("census inspected %d of %d objects (complete %v)", sum.Coverage.ObjectsInspected, want, sum.Complete)
	}
	return d
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
	var census, bare time.Duration
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			census += censusOnce(b, cfg, benchObjects)
			bare += bareHEAD(b, c, bucket, benchObjects, key)
		} else {
			bare += bareHEAD(b, c, bucket, benchObjects, key)
			census += censusOnce(b, cfg, benchObjects)
		}
	}
	n := float64(b.N * benchObjects)
	b.ReportMetric(n/census.Seconds(), "census-obj/s")
	b.ReportMetric(n/bare.Seconds(), "bare-obj/s")
	b.ReportMetric(bare.Seconds()/census.Seconds(), "census/bare")
}

// BenchmarkCensusManySmallBuckets compares the census of 500 buckets of
// 10 objects with the census of one bucket of 5,000 objects, in objects
// per second: many-obj/s, single-obj/s and their ratio (many/single).
func BenchmarkCensusManySmallBuckets(b *testing.B) {
	c := rootClient(b, client.OSS)
	const nb, per = benchObjects / 10, 10
	const single = "bench-single"
	key := func(i int) string { return fmt.Sprintf("obj-%06d", i) }
	seedBench(b, c, single, benchObjects, key)
	for i := range nb {
		seedBench(b, c, fmt.Sprintf("bench-many-%03d", i), per, key)
	}
	many := Config{Client: c, KMS: rootKMS, BucketGlob: "bench-many-*"}
	one := Config{Client: c, KMS: rootKMS, BucketGlob: single}
	var tm, ts time.Duration
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			tm += censusOnce(b, many, benchObjects)
			ts += censusOnce(b, one, benchObjects)
		} else {
			ts += censusOnce(b, one, benchObjects)
			tm += censusOnce(b, many, benchObjects)
		}
	}
	n := float64(b.N * benchObjects)
	b.ReportMetric(n/tm.Seconds(), "many-obj/s")
	b.ReportMetric(n/ts.Seconds(), "single-obj/s")
	b.ReportMetric(ts.Seconds()/tm.Seconds(), "many/single")
}
