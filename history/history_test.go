package history

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/snapshot"
)

var t0 = time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)

var (
	ossTarget = snapshot.Target{Kind: "oss", Dialect: "oss", Endpoint: "http://127.0.0.1:9000"}
	s3Target  = snapshot.Target{Kind: "s3", Dialect: "s3", Endpoint: "http://127.0.0.1:9000"}
)

// writeSnapshot writes a small snapshot of tgt started at at, with the
// given bucket rules (nil: none; a bucket named "unreadable-*" gets a
// rule error instead).
func writeSnapshot(t *testing.T, dir, scanID string, tgt snapshot.Target, at time.Time, complete bool, rules map[string]*snapshot.Rule) string {
	t.Helper()
	path := filepath.Join(dir, scanID+"-src.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := snapshot.NewWriter(f, snapshot.Provenance{ScanID: scanID, StartedAt: at, Target: tgt, PolicyDigest: "sha256:p1"},
		snapshot.WithClock(func() time.Time { return at.Add(time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(rules))
	for n := range rules {
		names = append(names, n)
	}
	sortStrings(names)
	for _, n := range names {
		b := snapshot.Bucket{Name: n, Encryption: rules[n], ReadAt: at.Add(time.Second)}
		if strings.HasPrefix(n, "unreadable") {
			b.Encryption, b.EncryptionError = nil, &snapshot.Error{Scope: "rule", Code: "AccessDenied", Message: "denied"}
		}
		if err := w.BeginBucket(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Object(snapshot.Object{Key: "k", Method: snapshot.MethodNone}); err != nil {
			t.Fatal(err)
		}
		if err := w.EndBucket(1, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(snapshot.Coverage{Buckets: len(rules), ObjectsListed: int64(len(rules)), ObjectsInspected: int64(len(rules))}, complete); err != nil {
		t.Fatal(err)
	}
	return path
}

// document is the snapshot document the file at path holds, read as
// package snapshot reads it (decompressed when compressed).
func document(t *testing.T, path string) []byte {
	t.Helper()
	f, err := snapshot.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

// isZstd reports whether the file at path starts a zstd frame.
func isZstd(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd})
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func openDB(t testing.TB, path string, now *time.Time) *DB {
	t.Helper()
	db, err := Open(path, WithClock(func() time.Time { return *now }), WithLockTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

var (
	aes = &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged, Raw: "<raw1/>"}
	cmk = &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: "k1", Method: snapshot.MethodKMSCMK}
)

func TestRecordAndQuery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "state", "history.db")
	now := t0.Add(100 * 24 * time.Hour)
	db := openDB(t, dbPath, &now)

	if st, err := os.Stat(dbPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("database mode: %v %v", st.Mode(), err)
	}
	if _, err := Open(dbPath, WithLockTimeout(50*time.Millisecond)); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Open = %v, want ErrInUse", err)
	}

	// Three scans of the OSS target a day apart, one of S3; recorded out
	// of order on purpose.
	day := 24 * time.Hour
	aesRaw2 := *aes
	aesRaw2.Raw = "<raw2/>" // only the evidence differs: the same rule
	scans := []struct {
		id       string
		tgt      snapshot.Target
		at       time.Time
		complete bool
		rules    map[string]*snapshot.Rule
	}{
		{"s1", ossTarget, t0, true, map[string]*snapshot.Rule{"b-flip": nil, "b-steady": aes, "unreadable-x": nil}},
		{"s3", ossTarget, t0.Add(2 * day), false, map[string]*snapshot.Rule{"b-flip": cmk, "b-steady": &aesRaw2, "unreadable-x": nil}},
		{"s2", ossTarget, t0.Add(day), true, map[string]*snapshot.Rule{"b-flip": nil, "b-steady": aes, "unreadable-x": nil}},
		{"x1", s3Target, t0.Add(day), true, map[string]*snapshot.Rule{"b-flip": aes}},
	}
	recs := map[string]ScanRecord{}
	for _, s := range scans {
		src := writeSnapshot(t, dir, s.id, s.tgt, s.at, s.complete, s.rules)
		rec, err := db.RecordScan(ctx, src, "")
		if err != nil {
			t.Fatal(err)
		}
		recs[s.id] = rec
		digest, _ := snapshot.Digest(src)
		if rec.SnapshotDigest != digest || filepath.Dir(rec.SnapshotPath) != db.Dir() || rec.TargetKey != TargetKey(s.tgt) ||
			rec.Complete != s.complete || rec.Buckets != len(s.rules) || rec.PolicyDigest != "sha256:p1" || !rec.StartedAt.Equal(s.at) {
			t.Errorf("record %s: %+v", s.id, rec)
		}
		if st, err := os.Stat(rec.SnapshotPath); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("copy of %s: %v %v", s.id, st, err)
		}
		// The copy is compressed and holds the very same document.
		if !strings.HasSuffix(rec.SnapshotPath, ".json.zst") || !isZstd(t, rec.SnapshotPath) {
			t.Errorf("copy of %s is not zstd-compressed: %s", s.id, rec.SnapshotPath)
		}
		if plain, _ := os.ReadFile(src); !bytes.Equal(document(t, rec.SnapshotPath), plain) {
			t.Errorf("copy of %s differs", s.id)
		}
	}
	if _, err := db.RecordScan(ctx, writeSnapshot(t, dir, "s1", ossTarget, t0, true, nil), ""); !errors.Is(err, ErrExists) {
		t.Errorf("recording s1 twice: %v", err)
	}
	if rec, err := db.RecordScan(ctx, writeSnapshot(t, dir, "p9", s3Target, t0.Add(-day), true, nil), "sha256:override"); err != nil || rec.PolicyDigest != "sha256:override" {
		t.Errorf("policy digest override: %+v %v", rec, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema":"other"}`), 0o600)
	if _, err := db.RecordScan(ctx, bad, ""); !errors.Is(err, snapshot.ErrSchema) {
		t.Errorf("recording a foreign file: %v", err)
	}
	if _, err := db.RecordScan(ctx, writeSnapshot(t, dir, "../escape", ossTarget, t0, true, nil), ""); err == nil {
		t.Error("a scan id with a path was accepted")
	}

	oss := TargetKey(ossTarget)
	if oss != "oss+http://127.0.0.1:9000" {
		t.Errorf("TargetKey = %q", oss)
	}
	// The embedded reference is one target whatever port it got.
	for _, port := range []string{"9000", "41234"} {
		if k := TargetKey(snapshot.Target{Kind: "reference", Dialect: "oss", Endpoint: "http://127.0.0.1:" + port}); k != "reference+oss" {
			t.Errorf("TargetKey(reference on %s) = %q", port, k)
		}
	}
	for _, tc := range []struct {
		before time.Time
		want   string // "" none
	}{
		{t0, ""},
		{t0.Add(time.Nanosecond), "s1"},
		{t0.Add(day), "s1"},
		{t0.Add(day + time.Hour), "s2"},
		{t0.Add(30 * day), "s3"},
	} {
		rec, ok, err := db.Previous(oss, tc.before)
		if err != nil || ok != (tc.want != "") || rec.ScanID != tc.want {
			t.Errorf("Previous(%v) = %q %v %v, want %q", tc.before, rec.ScanID, ok, err, tc.want)
		}
	}
	if _, ok, _ := db.Previous("oss+http://127.0.0.1:900", t0.Add(30*day)); ok {
		t.Error("Previous matched a target key that is a prefix of another")
	}
	list, err := db.Scans(oss)
	if err != nil || len(list) != 3 || list[0].ScanID != "s1" || list[1].ScanID != "s2" || list[2].ScanID != "s3" {
		t.Errorf("Scans = %+v, %v", list, err)
	}

	// Rule history: b-steady's rule is unchanged since s1 (the raw
	// evidence differs, the rule does not); b-flip changed at s3; the
	// unreadable bucket has no observation; S3 is a separate target.
	for _, tc := range []struct {
		tgt, bucket string
		ok          bool
		at          time.Time
		method      string
	}{
		{oss, "b-steady", true, t0.Add(time.Second), snapshot.MethodOSSManaged},
		{oss, "b-flip", true, t0.Add(2*day + time.Second), snapshot.MethodKMSCMK},
		{oss, "unreadable-x", false, time.Time{}, ""},
		{oss, "nope", false, time.Time{}, ""},
		{TargetKey(s3Target), "b-flip", true, t0.Add(day + time.Second), snapshot.MethodOSSManaged},
	} {
		at, rule, ok, err := db.RuleFirstSeen(tc.tgt, tc.bucket)
		if err != nil || ok != tc.ok || !at.Equal(tc.at) || rule.Method != tc.method || rule.Raw != "" {
			t.Errorf("RuleFirstSeen(%s, %s) = %v %+v %v %v", tc.tgt, tc.bucket, at, rule, ok, err)
		}
	}

	// Finding sightings.
	if err := db.RecordFindings("s2", t0.Add(day), []string{"f1", "f2"}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordFindings("s3", t0.Add(2*day), []string{"f2", "f3"}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordFindings("s1", t0, []string{"f2"}); err != nil { // an earlier scan recorded late
		t.Fatal(err)
	}
	if err := db.RecordFindings("s1", t0, []string{""}); err == nil {
		t.Error("an empty finding id was accepted")
	}
	fs, err := db.FirstSeen([]string{"f1", "f2", "f3", "f4"})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 || !fs["f1"].Equal(t0.Add(day)) || !fs["f2"].Equal(t0) || !fs["f3"].Equal(t0.Add(2*day)) {
		t.Errorf("FirstSeen = %v", fs)
	}

	// Reopen: everything persisted.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dbPath, &now)
	defer db.Close()
	if rec, ok, err := db.Previous(oss, t0.Add(30*day)); err != nil || !ok || rec != recs["s3"] {
		t.Errorf("after reopen, Previous = %+v %v %v; want %+v", rec, ok, err, recs["s3"])
	}
	if fs, _ := db.FirstSeen([]string{"f2"}); !fs["f2"].Equal(t0) {
		t.Errorf("after reopen, FirstSeen = %v", fs)
	}
	if at, _, ok, _ := db.RuleFirstSeen(oss, "b-steady"); !ok || !at.Equal(t0.Add(time.Second)) {
		t.Errorf("after reopen, RuleFirstSeen = %v %v", at, ok)
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	day := 24 * time.Hour
	for _, tc := range []struct {
		name      string
		keepN     int
		maxAge    time.Duration
		wantOSS   []string // scans left, oldest first
		wantS3    []string
		wantFinds []string
	}{
		{"no policy", 0, 0, []string{"o1", "o2", "o3", "o4"}, []string{"x1"}, []string{"old", "new"}},
		{"keep 2", 2, 0, []string{"o3", "o4"}, []string{"x1"}, []string{"old", "new"}},
		{"max age 2.5 days", 0, 60 * time.Hour, []string{"o3", "o4"}, []string{}, []string{"new"}},
		{"keep 1, then nothing younger than 5 days goes", 1, 5 * day, []string{"o1", "o2", "o3", "o4"}, []string{"x1"}, []string{"old", "new"}},
		{"keep 1, max age 3.5 days", 1, 84 * time.Hour, []string{"o2", "o3", "o4"}, []string{"x1"}, []string{"new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			now := t0.Add(4 * day)
			db := openDB(t, filepath.Join(dir, "h.db"), &now)
			defer db.Close()
			paths := map[string]string{}
			for i, id := range []string{"o1", "o2", "o3", "o4"} {
				rec, err := db.RecordScan(ctx, writeSnapshot(t, dir, id, ossTarget, t0.Add(time.Duration(i)*day), true, map[string]*snapshot.Rule{"b": aes}), "")
				if err != nil {
					t.Fatal(err)
				}
				paths[id] = rec.SnapshotPath
			}
			rec, err := db.RecordScan(ctx, writeSnapshot(t, dir, "x1", s3Target, t0, true, nil), "")
			if err != nil {
				t.Fatal(err)
			}
			paths["x1"] = rec.SnapshotPath
			db.RecordFindings("o1", t0, []string{"old"})
			db.RecordFindings("o4", t0.Add(3*day), []string{"new"})
			// What a crash can leave: an unfinished copy, copies whose
			// record was never committed; and a file history never writes.
			strays := []string{".copy-123", "ghost.json.zst", "ghost.json"}
			for _, f := range append(strays, "notes.txt") {
				if err := os.WriteFile(filepath.Join(db.Dir(), f), []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}

			removed, err := db.Prune(tc.keepN, tc.maxAge)
			if err != nil {
				t.Fatal(err)
			}
			left := func(tgt snapshot.Target) []string {
				out := []string{}
				list, err := db.Scans(TargetKey(tgt))
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range list {
					out = append(out, r.ScanID)
				}
				return out
			}
			gotOSS, gotS3 := left(ossTarget), left(s3Target)
			if strings.Join(gotOSS, ",") != strings.Join(tc.wantOSS, ",") || strings.Join(gotS3, ",") != strings.Join(tc.wantS3, ",") {
				t.Errorf("left: oss %v s3 %v; want %v %v", gotOSS, gotS3, tc.wantOSS, tc.wantS3)
			}
			if removed != 5-len(tc.wantOSS)-len(tc.wantS3) {
				t.Errorf("removed %d", removed)
			}
			kept := map[string]bool{}
			for _, id := range append(gotOSS, gotS3...) {
				kept[id] = true
			}
			for id, p := range paths {
				_, err := os.Stat(p)
				if kept[id] != (err == nil) {
					t.Errorf("snapshot copy of %s: kept %v, stat %v", id, kept[id], err)
				}
			}
			pruning := tc.keepN > 0 || tc.maxAge > 0
			for _, f := range strays {
				if _, err := os.Stat(filepath.Join(db.Dir(), f)); pruning != errors.Is(err, os.ErrNotExist) {
					t.Errorf("stray %s: pruning %v, stat %v", f, pruning, err)
				}
			}
			if _, err := os.Stat(filepath.Join(db.Dir(), "notes.txt")); err != nil {
				t.Errorf("Prune removed a file history does not write: %v", err)
			}
			fs, _ := db.FirstSeen([]string{"old", "new"})
			if len(fs) != len(tc.wantFinds) {
				t.Errorf("findings left: %v, want %v", fs, tc.wantFinds)
			}
			// The rule history is kept whatever is pruned.
			if _, _, ok, _ := db.RuleFirstSeen(TargetKey(ossTarget), "b"); !ok {
				t.Error("rule history pruned")
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not.db")
	os.WriteFile(notDB, []byte("this is not a bbolt file, not at all, no"), 0o600)
	if _, err := Open(notDB, WithLockTimeout(50*time.Millisecond)); err == nil {
		t.Error("opened a file that is not a database")
	}
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o600)
	if _, err := Open(filepath.Join(blocker, "h.db")); err == nil {
		t.Error("opened a database under a file")
	}
	if got := SnapshotDir("/x/history.db"); got != "/x/history.snapshots" {
		t.Errorf("SnapshotDir = %q", got)
	}
}

// TestRecordOutcome keeps a scan's finding counts with its record, in
// Scans and Get, replaces them on re-evaluation, and refuses unknown scans.
func TestRecordOutcome(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := t0.Add(10 * 24 * time.Hour)
	db := openDB(t, filepath.Join(dir, "h.db"), &now)
	for i, id := range []string{"o1", "o2"} {
		src := writeSnapshot(t, dir, id, ossTarget, t0.Add(time.Duration(i)*time.Hour), true, map[string]*snapshot.Rule{"b": nil})
		if _, err := db.RecordScan(ctx, src, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.RecordOutcome("o2", Outcome{Open: 3, BySeverity: map[string]int{"high": 2, "low": 1}}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordOutcome("o2", Outcome{Open: 1, BySeverity: map[string]int{"high": 1}, Suppressed: 2}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordOutcome("nope", Outcome{}); err == nil || !strings.Contains(err.Error(), "not recorded") {
		t.Fatalf("RecordOutcome(unknown) = %v", err)
	}
	recs, err := db.Scans(TargetKey(ossTarget))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Outcome != nil || recs[1].Outcome == nil {
		t.Fatalf("Scans = %+v", recs)
	}
	if o := recs[1].Outcome; o.Open != 1 || o.BySeverity["high"] != 1 || o.Suppressed != 2 || len(o.BySeverity) != 1 {
		t.Fatalf("outcome = %+v, want the second recording", o)
	}
}
