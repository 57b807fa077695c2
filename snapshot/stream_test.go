package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heapPeak samples the live heap until stop is called and returns the
// peak above the baseline taken at start (after a GC).
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

var synthKMS = "8f1c2a4e-1b2c-4d5e-8f90-0123456789ab"

// writeSynthetic writes nb buckets of no objects each.
func writeSynthetic(tb testing.TB, path string, nb, no int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, testProvenance())
	if err != nil {
		tb.Fatal(err)
	}
	rule := &Rule{Algorithm: "KMS", KMSMasterKeyID: synthKMS, Method: MethodKMSCMK, Raw: "<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>KMS</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>"}
	for b := range nb {
		name := fmt.Sprintf("bucket-%05d", b)
		if err := w.BeginBucket(Bucket{Name: name, Region: "cn-hangzhou", CreationDate: t0, Encryption: rule, ReadAt: t0}); err != nil {
			tb.Fatal(err)
		}
		for o := range no {
			err := w.Object(Object{Bucket: name, Key: fmt.Sprintf("data/2026/09/%08d.parquet", o), Size: int64(o) * 1024,
				ETag: "5D41402ABC4B2A76B9719D911017C592", LastModified: t0, StorageClass: "Standard",
				SSE: "KMS", KMSKeyID: synthKMS, Method: MethodKMSCMK})
			if err != nil {
				tb.Fatal(err)
			}
		}
		if err := w.EndBucket(int64(no), int64(no), nil); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Key(Key{KeyID: synthKMS, Region: "cn-hangzhou", State: "Enabled", ReadAt: t0}); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(Coverage{Buckets: nb, BucketsRead: nb, ObjectsListed: int64(nb * no), ObjectsInspected: int64(nb * no)}, true); err != nil {
		tb.Fatal(err)
	}
}

// TestStreamingMemory writes and reads 1,000 buckets x 1,000 objects
// (fewer under the race detector, which is ~10x slower) and checks that
// the heap stays bounded by one bucket, not the whole snapshot.
func TestStreamingMemory(t *testing.T) {
	nb, no := 1000, 1000
	if raceEnabled || testing.Short() {
		no = 10
	}
	path := filepath.Join(t.TempDir(), "big.json")

	stop := heapPeak()
	start := time.Now()
	writeSynthetic(t, path, nb, no)
	writeDur, writePeak := time.Since(start), stop()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	stop = heapPeak()
	start = time.Now()
	sum, err := ReadSummary(path)
	summaryDur, summaryPeak := time.Since(start), stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Buckets) != nb || sum.Coverage.ObjectsInspected != int64(nb*no) {
		t.Fatalf("summary: %d buckets, %d objects", len(sum.Buckets), sum.Coverage.ObjectsInspected)
	}

	stop = heapPeak()
	start = time.Now()
	var objects int64
	err = EachBucket(path, func(b Bucket) error {
		objects += int64(len(b.Objects))
		return nil
	})
	eachDur, eachPeak := time.Since(start), stop()
	if err != nil || objects != int64(nb*no) {
		t.Fatalf("EachBucket: %d objects, %v", objects, err)
	}

	n := float64(nb * no)
	t.Logf("%d buckets x %d objects = %d objects, file %.1f MiB (%.0f B/object)", nb, no, nb*no, float64(st.Size())/(1<<20), float64(st.Size())/n)
	t.Logf("write:       %v (%.0f objects/s, %.0f MiB/s), peak heap +%.1f MiB", writeDur.Round(time.Millisecond), n/writeDur.Seconds(), float64(st.Size())/(1<<20)/writeDur.Seconds(), float64(writePeak)/(1<<20))
	t.Logf("ReadSummary: %v (%.0f objects/s), peak heap +%.1f MiB", summaryDur.Round(time.Millisecond), n/summaryDur.Seconds(), float64(summaryPeak)/(1<<20))
	t.Logf("EachBucket:  %v (%.0f objects/s), peak heap +%.1f MiB", eachDur.Round(time.Millisecond), n/eachDur.Seconds(), float64(eachPeak)/(1<<20))

	// The whole file is ~250 MiB at full size; one bucket's objects are
	// ~0.5 MiB decoded. Allow generous GC slack, far below the file size.
	const limit = 64 << 20
	for what, peak := range map[string]uint64{"write": writePeak, "ReadSummary": summaryPeak, "EachBucket": eachPeak} {
		if peak > limit {
			t.Errorf("%s: peak heap +%d MiB, want <= %d MiB", what, peak>>20, limit>>20)
		}
	}

	if no > 100 {
		return // Diff streams the same way; it is timed on the small size only
	}
	stop = heapPeak()
	start = time.Now()
	changes := 0
	if err := Diff(context.Background(), path, path, func(Change) error { changes++; return nil }); err != nil || changes != 0 {
		t.Fatalf("Diff: %d changes, %v", changes, err)
	}
	diffDur, diffPeak := time.Since(start), stop()
	t.Logf("Diff (self): %v, peak heap +%.1f MiB", diffDur.Round(time.Millisecond), float64(diffPeak)/(1<<20))
	if diffPeak > limit {
		t.Errorf("Diff: peak heap +%d MiB", diffPeak>>20)
	}
}

func BenchmarkSnapshotWrite(b *testing.B) {
	const perBucket = 1000
	f, err := os.Create(filepath.Join(b.TempDir(), "w.json"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(bufio.NewWriter(f), testProvenance())
	if err != nil {
		b.Fatal(err)
	}
	o := Object{Key: "data/2026/09/00000001.parquet", Size: 1024, ETag: "5D41402ABC4B2A76B9719D911017C592", LastModified: t0,
		StorageClass: "Standard", SSE: "KMS", KMSKeyID: synthKMS, Method: MethodKMSCMK}
	b.ReportAllocs()
	n, bucket := 0, 0
	for b.Loop() {
		if n%perBucket == 0 {
			if n > 0 {
				w.EndBucket(perBucket, perBucket, nil)
			}
			w.BeginBucket(Bucket{Name: fmt.Sprintf("b-%09d", bucket)})
			bucket++
		}
		if err := w.Object(o); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "objects/s")
}

func BenchmarkSnapshotRead(b *testing.B) {
	path := filepath.Join(b.TempDir(), "r.json")
	writeSynthetic(b, path, 100, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if err := EachBucket(path, func(Bucket) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100*1000*b.N)/b.Elapsed().Seconds(), "objects/s")
}

// FuzzReadSummary: no input makes the reader panic, and whatever it
// accepts EachBucket accepts too.
func FuzzReadSummary(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.json")
	testFixture().write(f, seed)
	data, _ := os.ReadFile(seed)
	f.Add(data)
	f.Add([]byte(`{"schema":"sseaudit.snapshot/v1"}`))
	f.Add([]byte(`{"schema":"sseaudit.snapshot/v1","buckets":[{"name":"a","objects":[{}]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var sum, sum2 Summary
		err := walkFrom(bytes.NewReader(doc), "fuzz", &sum, func(s *byteScanner) error {
			return s.buckets(func(s *byteScanner, at int64) error { _, err := s.bucket(at, true, false, nil); return err })
		})
		err2 := walkFrom(bytes.NewReader(doc), "fuzz", &sum2, func(s *byteScanner) error {
			return s.buckets(func(s *byteScanner, at int64) error { _, err := s.bucket(at, true, true, nil); return err })
		})
		if (err == nil) != (err2 == nil) {
			t.Fatalf("summary: %v, buckets: %v", err, err2)
		}
	})
}
