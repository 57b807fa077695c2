package history

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/snapshot"
)

// synthSnapshot writes a synthetic snapshot (package synth: realistic keys,
// ETags and encryption mix) of buckets x objects to dir/name and returns
// its path and size.
func synthSnapshot(t testing.TB, dir, name string, buckets, objects int) (string, int64) {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Write(f, synth.Options{Buckets: buckets, Objects: objects, ScanID: strings.TrimSuffix(name, ".json")}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, st.Size()
}

// allBuckets reads every bucket of path with its objects.
func allBuckets(t *testing.T, path string) []snapshot.Bucket {
	t.Helper()
	var out []snapshot.Bucket
	if err := snapshot.EachBucket(path, func(b snapshot.Bucket) error { out = append(out, b); return nil }); err != nil {
		t.Fatalf("EachBucket(%s): %v", path, err)
	}
	return out
}

// TestCompressedCopyRoundTrip: the copy history keeps is zstd-compressed,
// much smaller than the snapshot, and every reader of package snapshot
// gets back exactly what was recorded; recording from a compressed file
// stores the same document again, not a compressed compressed one.
func TestCompressedCopyRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, plainSize := synthSnapshot(t, dir, "round.json", 20, 500)
	now := synth.Base.Add(48 * time.Hour)
	db := openDB(t, filepath.Join(dir, "h.db"), &now)
	defer db.Close()
	rec, err := db.RecordScan(ctx, src, "")
	if err != nil {
		t.Fatal(err)
	}

	if !isZstd(t, rec.SnapshotPath) || filepath.Base(rec.SnapshotPath) != "round.json.zst" {
		t.Fatalf("copy %s is not a zstd file named after the scan", rec.SnapshotPath)
	}
	plain, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(document(t, rec.SnapshotPath), plain) {
		t.Error("the copy's document differs from the snapshot recorded")
	}
	if digest, _ := snapshot.Digest(src); rec.SnapshotDigest != digest {
		t.Errorf("SnapshotDigest %s, want the digest of the document %s", rec.SnapshotDigest, digest)
	}
	want, err := snapshot.ReadSummary(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := snapshot.ReadSummary(rec.SnapshotPath)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ReadSummary of the copy = %v, differs: %v", got.Provenance, err)
	}
	if !reflect.DeepEqual(allBuckets(t, rec.SnapshotPath), allBuckets(t, src)) {
		t.Error("EachBucket of the copy differs")
	}
	var rawBuckets int
	if err := snapshot.EachRawBucket(rec.SnapshotPath, func([]byte) error { rawBuckets++; return nil }); err != nil || rawBuckets != 20 {
		t.Errorf("EachRawBucket of the copy: %d buckets, %v", rawBuckets, err)
	}
	// Diff reports objects that could not be inspected on either side;
	// nothing else may differ.
	if err := snapshot.Diff(ctx, src, rec.SnapshotPath, func(c snapshot.Change) error {
		if c.Kind != snapshot.ObjectUnknown {
			t.Errorf("Diff(snapshot, copy) reports %+v", c)
		}
		return nil
	}); err != nil {
		t.Errorf("Diff(snapshot, copy): %v", err)
	}

	st, err := os.Stat(rec.SnapshotPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("copy mode %v", st.Mode())
	}
	t.Logf("10,000 objects: plain %.1f bytes/object, compressed %.1f", float64(plainSize)/1e4, float64(st.Size())/1e4)
	if st.Size()*5 > plainSize {
		t.Errorf("compressed copy is %d bytes, the snapshot %d: not even 5x smaller", st.Size(), plainSize)
	}
	if names := dirNames(t, db.Dir()); !slices.Equal(names, []string{"round.json.zst"}) {
		t.Errorf("history directory holds %v, want the copy alone", names)
	}

	// A compressed snapshot recorded elsewhere: the same document, once
	// compressed.
	now2 := now
	db2 := openDB(t, filepath.Join(dir, "other", "h.db"), &now2)
	defer db2.Close()
	rec2, err := db2.RecordScan(ctx, rec.SnapshotPath, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(document(t, rec2.SnapshotPath), plain) || rec2.SnapshotDigest != rec.SnapshotDigest {
		t.Error("recording a compressed snapshot did not store its document")
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestDamagedCopyIsAnError: a compressed copy that was damaged, truncated
// or extended is refused by every reader with snapshot.ErrFormat, so the
// consumer of Previous (the pipeline's drift comparison, the schedule's
// delta, the policy engine's previous snapshot) sees an error and reports
// a drift gap, never a shorter or empty snapshot.
func TestDamagedCopyIsAnError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, _ := synthSnapshot(t, dir, "dmg.json", 20, 500)
	now := synth.Base.Add(48 * time.Hour)
	db := openDB(t, filepath.Join(dir, "h.db"), &now)
	defer db.Close()
	rec, err := db.RecordScan(ctx, src, "")
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(rec.SnapshotPath)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int) func([]byte) []byte {
		return func(b []byte) []byte { b[at] ^= 0x01; return b }
	}
	n := len(good)
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
		want   string // in the error
	}{
		{"a bit flipped mid-stream", flip(n / 2), "damaged"},
		{"a bit flipped early", flip(n / 10), "damaged"},
		{"the checksum altered", flip(n - 1), "damaged"},
		{"truncated mid-stream", func(b []byte) []byte { return b[:n/2] }, ""},
		{"the checksum cut off", func(b []byte) []byte { return b[:n-4] }, ""},
		{"data after the frame", func(b []byte) []byte { return append(b, "trailing"...) }, "damaged"},
		{"emptied", func([]byte) []byte { return nil }, "ends early"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(rec.SnapshotPath, tc.damage(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			prev, ok, err := db.Previous(rec.TargetKey, now)
			if err != nil || !ok || prev.SnapshotPath != rec.SnapshotPath {
				t.Fatalf("Previous = %+v %v %v", prev, ok, err)
			}
			reads := map[string]func() error{
				"ReadSummary": func() error { _, err := snapshot.ReadSummary(prev.SnapshotPath); return err },
				"ReadHeaders": func() error { _, err := snapshot.ReadHeaders(prev.SnapshotPath); return err },
				"EachBucket": func() error {
					return snapshot.EachBucket(prev.SnapshotPath, func(snapshot.Bucket) error { return nil })
				},
				"EachRawBucket": func() error {
					return snapshot.EachRawBucket(prev.SnapshotPath, func([]byte) error { return nil })
				},
				"Diff": func() error {
					return snapshot.Diff(ctx, prev.SnapshotPath, src, func(snapshot.Change) error { return nil })
				},
			}
			for name, read := range reads {
				err := read()
				if !errors.Is(err, snapshot.ErrFormat) || !strings.Contains(err.Error(), prev.SnapshotPath) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s of the damaged copy: %v, want an ErrFormat naming the file (and %q)", name, err, tc.want)
				}
			}
		})
	}
}

// TestWindowTooLargeIsRefused: a compressed snapshot whose window would
// take more memory than the reader allows is refused with a clear error
// before it is decompressed.
func TestWindowTooLargeIsRefused(t *testing.T) {
	dir := t.TempDir()
	src, _ := synthSnapshot(t, dir, "big-window.json", 2, 10)
	plain, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// One zstd frame (RFC 8878 3.1.1) asking for a 64 MiB window (window
	// descriptor: exponent 26-10, mantissa 0), holding the snapshot in a
	// raw block. A well-formed frame: only its window is refused.
	if len(plain) >= 128<<10 {
		t.Fatal("the snapshot does not fit one raw block")
	}
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 16 << 3}
	hdr := uint32(len(plain))<<3 | 1 // last block, raw
	frame = append(frame, byte(hdr), byte(hdr>>8), byte(hdr>>16))
	frame = append(frame, plain...)
	if got, err := zstd.DecodeTo(nil, frame); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("the crafted frame does not decode: %v", err)
	}
	zpath := filepath.Join(dir, "big-window.json.zst")
	if err := os.WriteFile(zpath, frame, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = snapshot.ReadSummary(zpath)
	if !errors.Is(err, snapshot.ErrFormat) || !strings.Contains(err.Error(), "more than 8 MiB") {
		t.Errorf("ReadSummary of a 64 MiB-window file: %v", err)
	}
}

// setSnapshotPath rewrites a record's SnapshotPath, as a database of an
// earlier version would hold it.
func setSnapshotPath(t *testing.T, db *DB, scanID, path string) {
	t.Helper()
	err := db.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktScans)
		var r ScanRecord
		if err := json.Unmarshal(b.Get([]byte(scanID)), &r); err != nil {
			return err
		}
		r.SnapshotPath = path
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return b.Put([]byte(scanID), v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEarlierPlainCopiesStillRead: databases of earlier versions hold
// plain <scan id>.json copies. They are found by Previous, read by package
// snapshot as before, and pruned with their records like compressed ones.
func TestEarlierPlainCopiesStillRead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := t0.Add(10 * 24 * time.Hour)
	db := openDB(t, filepath.Join(dir, "h.db"), &now)
	defer db.Close()
	var recs []ScanRecord
	for i, id := range []string{"old1", "old2", "new1"} {
		src := writeSnapshot(t, dir, id, ossTarget, t0.Add(time.Duration(i)*time.Hour), true, map[string]*snapshot.Rule{"b": aes})
		rec, err := db.RecordScan(ctx, src, "")
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	// old1 and old2 as an earlier version stored them.
	for _, rec := range recs[:2] {
		plainPath := filepath.Join(db.Dir(), rec.ScanID+".json")
		if err := os.WriteFile(plainPath, document(t, rec.SnapshotPath), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(rec.SnapshotPath); err != nil {
			t.Fatal(err)
		}
		setSnapshotPath(t, db, rec.ScanID, plainPath)
	}

	prev, ok, err := db.Previous(TargetKey(ossTarget), t0.Add(90*time.Minute))
	if err != nil || !ok || prev.ScanID != "old2" || filepath.Base(prev.SnapshotPath) != "old2.json" {
		t.Fatalf("Previous = %+v %v %v, want old2's plain copy", prev, ok, err)
	}
	if isZstd(t, prev.SnapshotPath) {
		t.Fatal("the earlier copy is compressed")
	}
	sum, err := snapshot.ReadSummary(prev.SnapshotPath)
	if err != nil || sum.Provenance.ScanID != "old2" || len(sum.Buckets) != 1 {
		t.Errorf("ReadSummary of a plain copy: %+v %v", sum.Provenance, err)
	}
	if bs := allBuckets(t, prev.SnapshotPath); len(bs) != 1 || len(bs[0].Objects) != 1 {
		t.Errorf("EachBucket of a plain copy: %+v", bs)
	}
	if d, _ := snapshot.Digest(prev.SnapshotPath); d != prev.SnapshotDigest {
		t.Errorf("plain copy digest %s, recorded %s", d, prev.SnapshotDigest)
	}
	// Compare an earlier plain copy with a compressed one.
	if err := snapshot.Diff(ctx, prev.SnapshotPath, recs[2].SnapshotPath, func(snapshot.Change) error { return nil }); err != nil {
		t.Errorf("Diff(plain copy, compressed copy): %v", err)
	}

	// Retention removes plain copies with their records.
	if n, err := db.Prune(1, 0); err != nil || n != 2 {
		t.Fatalf("Prune = %d %v", n, err)
	}
	if names := dirNames(t, db.Dir()); !slices.Equal(names, []string{"new1.json.zst"}) {
		t.Errorf("after Prune the history directory holds %v", names)
	}
}

// TestCancelledRecordingLeavesNothing: a recording interrupted while it
// compresses leaves neither a record nor a file behind.
func TestCancelledRecordingLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	src, _ := synthSnapshot(t, dir, "cancel.json", 2, 10)
	now := synth.Base.Add(time.Hour)
	db := openDB(t, filepath.Join(dir, "h.db"), &now)
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.RecordScan(ctx, src, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("RecordScan with a cancelled context: %v", err)
	}
	if _, found, err := db.Get("cancel"); found || err != nil {
		t.Errorf("a cancelled recording was recorded: %v", err)
	}
	if names := dirNames(t, db.Dir()); len(names) != 0 {
		t.Errorf("a cancelled recording left %v", names)
	}
}

// TestCopyMemoryIsFlat: compressing streams; what it allocates does not
// grow with the snapshot (holding the snapshot would cost its size).
func TestCopyMemoryIsFlat(t *testing.T) {
	dir := t.TempDir()
	var alloc [2]uint64
	var size [2]int64
	for i, buckets := range []int{100, 200} {
		src, n := synthSnapshot(t, dir, "mem.json", buckets, 500)
		size[i] = n
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if _, err := compressCopy(context.Background(), src, filepath.Join(dir, "mem.json.zst")); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		alloc[i] = after.TotalAlloc - before.TotalAlloc
	}
	t.Logf("compressing %d and %d bytes allocated %d and %d bytes", size[0], size[1], alloc[0], alloc[1])
	if alloc[1] > uint64(size[1])/4 || alloc[1] > alloc[0]+(1<<20) {
		t.Errorf("compressing %d bytes allocated %d, %d bytes half as many: memory grows with the snapshot", size[1], alloc[1], alloc[0])
	}
}
