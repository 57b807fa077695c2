package remediate

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
)

// BenchmarkApply measures Apply (conditional copy, state reads, journal,
// verification) against a plain loop of in-place CopyObject calls with
// the same concurrency over the same objects, in the same run, and
// reports both rates and their ratio: objects/s for small objects, and
// bytes/s for 64 MiB ones.
func BenchmarkApply(b *testing.B) {
	envs := map[string]string{"SSEAUDIT_ROOT_ACCESS_KEY_ID": "BENCHAK", "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": "bench-secret"}
	srv, err := embedded.Start(context.Background(), embedded.Config{DataDir: b.TempDir(), Getenv: func(k string) string { return envs[k] }})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(context.Background())
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		c, err := client.New(client.Config{Dialect: d, Endpoint: srv.Endpoint, Region: srv.Region, AccessKeyID: "BENCHAK", AccessKeySecret: "bench-secret"})
		if err != nil {
			b.Fatal(err)
		}
		for _, sz := range []struct {
			name  string
			n     int
			bytes int
		}{{"small", 200, 4 << 10}, {"64MiB", 2, 64 << 20}} {
			b.Run(fmt.Sprintf("%s/%s", d, sz.name), func(b *testing.B) {
				bucket := fmt.Sprintf("bench-%s-%s", d, map[string]string{"small": "small", "64MiB": "large"}[sz.name])
				if err := c.CreateBucket(context.Background(), bucket, nil); err != nil {
					b.Fatal(err)
				}
				body := bytes.Repeat([]byte{'x'}, sz.bytes)
				var applyDur, loopDur time.Duration
				for i := 0; b.Loop(); i++ {
					p := seed(b, c, bucket, sz.n, body)
					t0 := time.Now()
					res, err := Apply(context.Background(), p, ApplyOptions{Client: c, Yes: true, MaxAge: -1,
						JournalPath: filepath.Join(b.TempDir(), "journal"), PlanSHA256: fmt.Sprint(i)})
					applyDur += time.Since(t0)
					if err != nil || res.Counts.Rewritten != sz.n {
						b.Fatalf("apply: %v %+v", err, res)
					}
					seed(b, c, bucket, sz.n, body)
					t0 = time.Now()
					plainLoop(b, c, bucket, sz.n)
					loopDur += time.Since(t0)
				}
				objs := float64(b.N * sz.n)
				if sz.name == "small" {
					b.ReportMetric(objs/applyDur.Seconds(), "apply-objects/s")
					b.ReportMetric(objs/loopDur.Seconds(), "loop-objects/s")
				} else {
					b.ReportMetric(objs*float64(sz.bytes)/applyDur.Seconds()/(1<<20), "apply-MiB/s")
					b.ReportMetric(objs*float64(sz.bytes)/loopDur.Seconds()/(1<<20), "loop-MiB/s")
				}
				b.ReportMetric(loopDur.Seconds()/applyDur.Seconds(), "apply/loop-rate")
			})
		}
	}
}

// seed writes n unencrypted objects and returns the plan to rewrite them.
func seed(b *testing.B, c *client.Client, bucket string, n int, body []byte) *Plan {
	b.Helper()
	p := &Plan{Schema: PlanSchema, Target: Target{Dialect: string(c.Dialect()), Endpoint: c.Endpoint()},
		Source: Source{ScanFinishedAt: time.Now()}, Encryption: Encryption{Algorithm: client.AlgorithmAES256}}
	bp := BucketPlan{Name: bucket}
	for i := range n {
		key := fmt.Sprintf("o/%05d", i)
		r, err := c.PutObject(context.Background(), bucket, key, bytes.NewReader(body), int64(len(body)), client.PutOptions{})
		if err != nil {
			b.Fatal(err)
		}
		bp.Objects = append(bp.Objects, Object{Key: key, ETag: r.ETag, Size: int64(len(body))})
	}
	p.Buckets = []BucketPlan{bp}
	return p
}

// plainLoop copies the objects onto themselves with AES256, nothing else,
// DefaultConcurrency at a time.
func plainLoop(b *testing.B, c *client.Client, bucket string, n int) {
	var wg sync.WaitGroup
	keys := make(chan string)
	for range DefaultConcurrency {
		wg.Go(func() {
			for k := range keys {
				if _, err := c.CopyObject(context.Background(), bucket, k, bucket, k, client.PutOptions{SSE: &client.SSE{Algorithm: client.AlgorithmAES256}}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range n {
		keys <- fmt.Sprintf("o/%05d", i)
	}
	close(keys)
	wg.Wait()
}
