package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/snapshot"
)

// plainCopy is how history stored a snapshot before copies were
// compressed (the baseline of BenchmarkHistoryBytesPerObject): a plain
// copy through a synced temporary file renamed into place, hashed as it
// goes.
func plainCopy(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(out.Name())
	h := sha256.New()
	if _, err := io.CopyBuffer(io.MultiWriter(h, out), in, make([]byte, 1<<20)); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Chmod(0o600); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(out.Name(), dst); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readBack reads a snapshot as the next scan reads its previous one: the
// summary (pipeline), then every bucket's raw JSON (the policy engine).
func readBack(path string) error {
	if _, err := snapshot.ReadSummary(path); err != nil {
		return err
	}
	return snapshot.EachRawBucket(path, func([]byte) error { return nil })
}

// BenchmarkHistoryBytesPerObject records a synthetic snapshot of 100,000
// objects (100 buckets x 1,000, package synth) and reads it back, stored
// plain (as before) and compressed (now), in the same run, alternating
// which goes first. Metrics:
//
//	plain-B/obj, zstd-B/obj  history bytes per object, before and after
//	size-ratio               zstd / plain bytes
//	record-ratio             RecordScan (validate + compressed copy +
//	                         record) / what it cost before (validate +
//	                         plain copy; the database update is the same)
//	copy-ratio               compressed copy / plain copy alone
//	read-ratio               reading the compressed copy back / the plain
//	record-ms, read-ms       RecordScan and read-back of the compressed copy
//
// Run: go test -run '^$' -bench HistoryBytesPerObject -benchtime 3x ./history
func BenchmarkHistoryBytesPerObject(b *testing.B) {
	const buckets, perBucket = 100, 1000
	const objects = buckets * perBucket
	dir := b.TempDir()
	src, plainSize := synthSnapshot(b, dir, "bench.json", buckets, perBucket)
	ctx := context.Background()
	var recPlain, recZstd, copyPlain, copyZstd, readPlain, readZstd time.Duration
	var zstdSize int64
	timed := func(d *time.Duration, f func() error) {
		b.Helper()
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		*d += time.Since(start)
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		now := time.Now()
		hdir := filepath.Join(dir, fmt.Sprintf("h%d", i))
		db := openDB(b, filepath.Join(hdir, "history.db"), &now)
		plainDst := filepath.Join(hdir, "plain.json")
		var rec ScanRecord
		b.StartTimer()
		plain := func() {
			timed(&recPlain, func() error {
				if _, err := snapshot.ReadSummary(src); err != nil {
					return err
				}
				_, err := plainCopy(src, plainDst)
				return err
			})
			timed(&copyPlain, func() error { _, err := plainCopy(src, plainDst); return err })
			timed(&readPlain, func() error { return readBack(plainDst) })
		}
		compressed := func() {
			timed(&recZstd, func() error { var err error; rec, err = db.RecordScan(ctx, src, ""); return err })
			timed(&copyZstd, func() error { _, err := compressCopy(ctx, src, rec.SnapshotPath); return err })
			timed(&readZstd, func() error { return readBack(rec.SnapshotPath) })
		}
		if i%2 == 0 {
			plain()
			compressed()
		} else {
			compressed()
			plain()
		}
		b.StopTimer()
		st, err := os.Stat(rec.SnapshotPath)
		if err != nil {
			b.Fatal(err)
		}
		zstdSize = st.Size()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.RemoveAll(hdir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(plainSize)/objects, "plain-B/obj")
	b.ReportMetric(float64(zstdSize)/objects, "zstd-B/obj")
	b.ReportMetric(float64(zstdSize)/float64(plainSize), "size-ratio")
	b.ReportMetric(float64(recZstd)/float64(recPlain), "record-ratio")
	b.ReportMetric(float64(copyZstd)/float64(copyPlain), "copy-ratio")
	b.ReportMetric(float64(readZstd)/float64(readPlain), "read-ratio")
	b.ReportMetric(float64(recZstd.Milliseconds())/n, "record-ms")
	b.ReportMetric(float64(readZstd.Milliseconds())/n, "read-ms")
}

// BenchmarkHistoryDelta measures what storing a scan as a delta against
// the previous scan of the same target would gain over zstd alone (why
// copies are not deltas): the next scan of a synthetic 100,000-object
// estate (every default changed, one bucket re-encrypted) compressed as
// history compresses it, and with the previous snapshot as zstd's raw
// dictionary, once within history's 1 MiB window and once with a window
// spanning the whole previous snapshot (which then has to be held in
// memory to write and to read). Metrics are bytes per object.
func BenchmarkHistoryDelta(b *testing.B) {
	const buckets, perBucket = 100, 1000
	var prev, next bytes.Buffer
	if _, err := synth.Write(&prev, synth.Options{Buckets: buckets, Objects: perBucket, ScanID: "prev"}); err != nil {
		b.Fatal(err)
	}
	if _, err := synth.Write(&next, synth.Options{Buckets: buckets, Objects: perBucket, ScanID: "next", ReencryptDefault: true}); err != nil {
		b.Fatal(err)
	}
	window := 1 << bits.Len(uint(prev.Len()))
	size := func(opts ...zstd.EOption) float64 {
		var out bytes.Buffer
		zw, err := zstd.NewWriter(&out, append([]zstd.EOption{zstd.WithEncoderConcurrency(1)}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := zw.Write(next.Bytes()); err != nil {
			b.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
		return float64(out.Len()) / (buckets * perBucket)
	}
	var alone, small, whole float64
	for range b.N {
		alone = size(zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(1<<20))
		// The fastest level does not search a dictionary as far: the
		// deltas use the better one.
		better := zstd.WithEncoderLevel(zstd.SpeedBetterCompression)
		small = size(better, zstd.WithWindowSize(1<<20), zstd.WithEncoderDictRaw(1, prev.Bytes()))
		whole = size(better, zstd.WithWindowSize(window), zstd.WithEncoderDictRaw(1, prev.Bytes()))
	}
	b.ReportMetric(alone, "zstd-B/obj")
	b.ReportMetric(small, "delta-1MiB-B/obj")
	b.ReportMetric(whole, "delta-whole-B/obj")
	b.ReportMetric(float64(window>>20), "whole-window-MiB")
}
