package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

var t0 = time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return t0.Add(time.Hour) }

func testProvenance() Provenance {
	return Provenance{ScanID: "scan-1", StartedAt: t0, ToolVersion: "test", Regions: []string{"cn-hangzhou"},
		Target: Target{Kind: "reference", Dialect: "oss", Endpoint: "http://127.0.0.1:9000"}}
}

// fixture is a small snapshot with every kind of field.
type fixture struct {
	buckets []Bucket // with Objects
	keys    []Key
	cov     Coverage
}

func testFixture() fixture {
	denied := &Error{Scope: "rule", Resource: "b-denied", StatusCode: 403, Code: "AccessDenied", Message: "denied", Attempts: 1}
	headErr := &Error{Scope: "object", Resource: "b-kms/broken", StatusCode: 503, Code: "ServiceUnavailable", Message: "busy", Attempts: 5}
	listErr := &Error{Scope: "list", Resource: "b-denied", StatusCode: 403, Code: "AccessDenied", Message: "denied", Attempts: 1}
	f := fixture{
		buckets: []Bucket{
			{Name: "b-aes", Region: "cn-hangzhou", CreationDate: t0.Add(-48 * time.Hour), ReadAt: t0,
				Encryption: &Rule{Algorithm: "AES256", Method: MethodOSSManaged, Raw: "<ServerSideEncryptionRule/>"},
				ACL:        &ACL{Canned: "public-read", PublicRead: true, Raw: "<AccessControlPolicy/>"},
				Policy: &Policy{Status: PolicySet, Raw: `{"Version":"1"}`, RawSHA256: "ab", DeniesUnencryptedPut: true, RequiredSSE: "KMS",
					RequiredKMSKeyIDs: []string{"k1"}, Notes: []string{"statement 2: limited to prefix logs/"}},
				Objects: []Object{
					{Bucket: "b-aes", Key: "a/1", Size: 3, ETag: "E1", LastModified: t0.Add(-time.Hour), SSE: "AES256", Method: MethodOSSManaged, StorageClass: "Standard"},
					{Bucket: "b-aes", Key: "a/<&>", Size: 0, ETag: "E2", LastModified: t0.Add(-time.Hour), Method: MethodNone, VersionID: "v1"},
				}},
			{Name: "b-denied", Region: "cn-hangzhou", EncryptionError: denied, ListError: listErr, ReadAt: t0, Objects: []Object{},
				ACLError:    &Error{Scope: "acl", Resource: "b-denied", StatusCode: 403, Code: "AccessDenied", Message: "denied"},
				PolicyError: &Error{Scope: "policy", Resource: "b-denied", StatusCode: 403, Code: "AccessDenied", Message: "denied"}},
			{Name: "b-kms", Region: "cn-hangzhou", ReadAt: t0,
				ACL:        &ACL{Canned: "", Grants: []Grant{{Type: "CanonicalUser", ID: "u", Permission: "READ"}}},
				Policy:     &Policy{Status: PolicyUnknown, Note: "501 NotImplemented"},
				Encryption: &Rule{Algorithm: "KMS", KMSMasterKeyID: "k1", Method: MethodKMSCMK},
				Objects: []Object{
					{Bucket: "b-kms", Key: "x", Size: 10, ETag: "E3", LastModified: t0, SSE: "KMS", KMSKeyID: "k1", Method: MethodKMSCMK, Attempts: 3},
					{Bucket: "b-kms", Key: "broken", Size: 10, ETag: "E4", LastModified: t0, Method: MethodUnknown, Error: headErr},
				}},
		},
		keys: []Key{{KeyID: "k1", Region: "cn-hangzhou", State: "Enabled", Creator: "acct", ReadAt: t0},
			{KeyID: "k2", Region: "cn-hangzhou", Missing: true, ReadAt: t0}},
	}
	f.buckets[0].ObjectsListed, f.buckets[0].ObjectsInspected = 2, 2
	f.buckets[2].ObjectsListed, f.buckets[2].ObjectsInspected = 2, 1
	f.cov = Coverage{Buckets: 3, BucketsRead: 2, ObjectsListed: 4, ObjectsInspected: 3, KeysReferenced: 2, KeysDescribed: 2,
		Errors: []Error{*denied, *listErr, *headErr}, Retries: 6}
	return f
}

func (f fixture) write(t testing.TB, path string) Summary {
	t.Helper()
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	w, err := NewWriter(file, testProvenance(), WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range f.buckets {
		if err := w.BeginBucket(b); err != nil {
			t.Fatal(err)
		}
		for _, o := range b.Objects {
			if err := w.Object(o); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.EndBucket(b.ObjectsListed, b.ObjectsInspected, b.ListError); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range f.keys {
		if err := w.Key(k); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(f.cov, true); err != nil {
		t.Fatal(err)
	}
	return w.Summary()
}

func headers(bs []Bucket) []Bucket {
	out := make([]Bucket, len(bs))
	for i, b := range bs {
		b.Objects = nil
		out[i] = b
	}
	return out
}

// jsonEqual compares through JSON, which is what the file holds (times
// lose their monotonic reading and location).
func jsonEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	f := testFixture()
	ws := f.write(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatalf("not valid JSON:\n%s", data)
	}
	if bytes.Contains(data, []byte(`\u003c`)) {
		t.Errorf("keys are HTML-escaped: %s", data)
	}
	sum, err := ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Schema: Schema, Provenance: testProvenance(), Keys: f.keys, Coverage: f.cov, FinishedAt: fixedClock(), Complete: true, Buckets: headers(f.buckets)}
	jsonEqual(t, "ReadSummary", sum, want)
	jsonEqual(t, "Writer.Summary", ws, want)
	for _, b := range sum.Buckets {
		if b.Objects != nil {
			t.Errorf("ReadSummary filled objects of %s", b.Name)
		}
	}
	var got []Bucket
	if err := EachBucket(path, func(b Bucket) error { got = append(got, b); return nil }); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "EachBucket", got, f.buckets)
	if got[1].Objects == nil {
		t.Error("EachBucket: an empty bucket's Objects is nil, want empty")
	}
	// The whole document also decodes as one value with encoding/json.
	var whole struct {
		Schema  string   `json:"schema"`
		Buckets []Bucket `json:"buckets"`
	}
	if err := json.Unmarshal(data, &whole); err != nil || len(whole.Buckets) != 3 || len(whole.Buckets[2].Objects) != 2 {
		t.Errorf("json.Unmarshal of the file: %v, %+v", err, whole)
	}
	stop := errors.New("stop")
	n := 0
	if err := EachBucket(path, func(Bucket) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EachBucket with a failing fn: %v after %d calls, want stop after 1", err, n)
	}
}

func TestDigest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	testFixture().write(t, path)
	data, _ := os.ReadFile(path)
	sum := sha256.Sum256(data)
	got, err := Digest(path)
	if err != nil || got != hex.EncodeToString(sum[:]) {
		t.Errorf("Digest = %q, %v; want %x", got, err, sum)
	}
	if _, err := Digest(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Digest of a missing file: no error")
	}
}

// TestWriterOrder checks that calls out of document order are refused
// and leave the document closable.
func TestWriterOrder(t *testing.T) {
	b := func(name string) Bucket { return Bucket{Name: name} }
	cases := []struct {
		name string
		run  func(w *Writer) error
		want string
	}{
		{"object outside a bucket", func(w *Writer) error { return w.Object(Object{Key: "k"}) }, "document order"},
		{"end without begin", func(w *Writer) error { return w.EndBucket(0, 0, nil) }, "document order"},
		{"nested begin", func(w *Writer) error { w.BeginBucket(b("a")); return w.BeginBucket(b("b")) }, "document order"},
		{"unsorted", func(w *Writer) error {
			w.BeginBucket(b("b"))
			w.EndBucket(0, 0, nil)
			return w.BeginBucket(b("a"))
		}, "ascending"},
		{"duplicate", func(w *Writer) error {
			w.BeginBucket(b("a"))
			w.EndBucket(0, 0, nil)
			return w.BeginBucket(b("a"))
		}, "ascending"},
		{"empty name", func(w *Writer) error { return w.BeginBucket(b("")) }, "no name"},
		{"bucket after keys", func(w *Writer) error { w.Key(Key{KeyID: "k"}); return w.BeginBucket(b("a")) }, "document order"},
		{"duplicate key", func(w *Writer) error { w.Key(Key{KeyID: "k"}); return w.Key(Key{KeyID: "k"}) }, "twice"},
		{"object of another bucket", func(w *Writer) error { w.BeginBucket(b("a")); return w.Object(Object{Bucket: "z", Key: "k"}) }, "names bucket"},
		{"inspected miscounted", func(w *Writer) error {
			w.BeginBucket(b("a"))
			w.Object(Object{Key: "k", Error: &Error{Message: "x"}})
			return w.EndBucket(1, 1, nil)
		}, "inspected 1"},
		{"listed below written", func(w *Writer) error {
			w.BeginBucket(b("a"))
			w.Object(Object{Key: "k"})
			return w.EndBucket(0, 1, nil)
		}, "listed 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, testProvenance())
			if err != nil {
				t.Fatal(err)
			}
			err = tc.run(w)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if err := w.Close(Coverage{}, false); err != nil {
				t.Fatal(err)
			}
			if !json.Valid(buf.Bytes()) {
				t.Errorf("document not valid after a refused call:\n%s", buf.String())
			}
			if err := w.Close(Coverage{}, false); !errors.Is(err, ErrClosed) {
				t.Errorf("second Close: %v, want ErrClosed", err)
			}
			if err := w.BeginBucket(b("zz")); !errors.Is(err, ErrClosed) {
				t.Errorf("BeginBucket after Close: %v, want ErrClosed", err)
			}
		})
	}
}

// TestCloseInAnyState is the cancellation guarantee: whatever was open,
// Close leaves a valid document that ReadSummary accepts.
func TestCloseInAnyState(t *testing.T) {
	cases := []struct {
		name         string
		run          func(w *Writer)
		complete     bool
		wantComplete bool
		wantBuckets  int
	}{
		{"nothing written", func(*Writer) {}, true, true, 0},
		{"between buckets", func(w *Writer) { w.BeginBucket(Bucket{Name: "a"}); w.EndBucket(0, 0, nil) }, false, false, 1},
		{"inside a bucket", func(w *Writer) {
			w.BeginBucket(Bucket{Name: "a"})
			w.Object(Object{Key: "k1"})
			w.Object(Object{Key: "k2", Error: &Error{Message: "x"}})
		}, true, false, 1},
		{"in keys", func(w *Writer) { w.Key(Key{KeyID: "k"}) }, true, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.json")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := NewWriter(f, testProvenance())
			if err != nil {
				t.Fatal(err)
			}
			tc.run(w)
			if err := w.Close(Coverage{}, tc.complete); err != nil {
				t.Fatal(err)
			}
			sum, err := ReadSummary(path)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Complete != tc.wantComplete || len(sum.Buckets) != tc.wantBuckets {
				t.Errorf("complete=%v buckets=%d, want %v %d", sum.Complete, len(sum.Buckets), tc.wantComplete, tc.wantBuckets)
			}
			if sum.Coverage.Errors == nil || sum.Keys == nil || sum.Buckets == nil {
				t.Errorf("nil slices read back: %+v", sum)
			}
			if tc.name == "inside a bucket" {
				b := sum.Buckets[0]
				if b.ObjectsListed != 2 || b.ObjectsInspected != 1 || b.ListError == nil || b.ListError.Code != "Incomplete" || len(sum.Coverage.Errors) != 1 {
					t.Errorf("open bucket closed as %+v, coverage errors %+v", b, sum.Coverage.Errors)
				}
			}
		})
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteErrorIsSticky(t *testing.T) {
	w, err := NewWriter(&failWriter{n: 300 << 10}, testProvenance())
	if err != nil {
		t.Fatal(err)
	}
	w.BeginBucket(Bucket{Name: "a"})
	var werr error
	for i := 0; werr == nil && i < 100000; i++ {
		werr = w.Object(Object{Key: fmt.Sprintf("key-%08d", i)})
	}
	if werr == nil || !strings.Contains(werr.Error(), "disk full") {
		t.Fatalf("Object error = %v, want disk full", werr)
	}
	if err := w.Close(Coverage{}, false); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close = %v, want the sticky write error", err)
	}
}

// TestStrictReading is table-driven over documents that must be refused.
func TestStrictReading(t *testing.T) {
	var good bytes.Buffer
	w, _ := NewWriter(&good, testProvenance(), WithClock(fixedClock))
	w.BeginBucket(Bucket{Name: "a"})
	w.Object(Object{Key: "k"})
	w.EndBucket(1, 1, nil)
	w.Close(Coverage{}, true)
	doc := good.String()
	cases := []struct {
		name string
		doc  string
		want error
		msg  string
	}{
		{"future schema", strings.Replace(doc, Schema, "sseaudit.snapshot/v2", 1), ErrSchema, `this build reads "sseaudit.snapshot/v1"`},
		{"schema not first", `{"provenance":{},"schema":"sseaudit.snapshot/v1"}`, ErrSchema, "not an sseaudit snapshot"},
		{"not an object", `[1,2]`, ErrFormat, "want"},
		{"empty file", ``, ErrFormat, "ends early"},
		{"truncated", doc[:len(doc)/2], ErrFormat, "ends early"},
		{"missing complete", strings.Replace(doc, `,
"complete":true}`, "}", 1), ErrFormat, `"complete" is missing`},
		{"unknown member", strings.Replace(doc, `"complete":true}`, `"complete":true,"extra":1}`, 1), ErrFormat, `unknown member "extra"`},
		{"unknown object field", strings.Replace(doc, `"key":"k"`, `"key":"k","colour":"red"`, 1), ErrFormat, "colour"},
		{"unknown bucket field", strings.Replace(doc, `"name":"a"`, `"name":"a","owner":"x"`, 1), ErrFormat, "owner"},
		{"duplicate member", strings.Replace(doc, `"complete":true}`, `"complete":true,"complete":false}`, 1), ErrFormat, "twice"},
		{"trailing data", doc + "{}", ErrFormat, "after the end"},
		{"object of another bucket", strings.Replace(doc, `"bucket":"a"`, `"bucket":"b"`, 1), ErrFormat, "names bucket"},
		{"bucket without counts", strings.Replace(doc, `"objects_listed":1,`, ``, 1), ErrFormat, "objects_listed"},
		{"wrong type", strings.Replace(doc, `"complete":true`, `"complete":"yes"`, 1), ErrFormat, "complete"},
		// An object without its encryption state must never read as one
		// with the zero state (which a rule could take for "not judged").
		{"object without method", strings.Replace(doc, `,"method":""`, ``, 1), ErrFormat, `"method" is missing`},
		{"object without sse", strings.Replace(doc, `"sse":"",`, ``, 1), ErrFormat, `"sse" is missing`},
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "good.json"), good.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSummary(filepath.Join(dir, "good.json")); err != nil {
		t.Fatalf("the base document is refused: %v", err)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("%d.json", i))
			if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadSummary(path)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ReadSummary = %v, want %v containing %q", err, tc.want, tc.msg)
			}
			if err2 := EachBucket(path, func(Bucket) error { return nil }); err2 == nil {
				t.Error("EachBucket accepted it")
			}
		})
	}
	if _, err := ReadSummary(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

func writeSnap(t *testing.T, path string, complete bool, buckets ...Bucket) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, testProvenance())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		w.BeginBucket(b)
		var ok int64
		for _, o := range b.Objects {
			if o.Error == nil {
				ok++
			}
			if err := w.Object(o); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.EndBucket(int64(len(b.Objects)), ok, b.ListError); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(Coverage{}, complete); err != nil {
		t.Fatal(err)
	}
}

func TestDiff(t *testing.T) {
	aes := &Rule{Algorithm: "AES256", Method: MethodOSSManaged, Raw: "<a/>"}
	aesOtherRaw := &Rule{Algorithm: "AES256", Method: MethodOSSManaged, Raw: "<a></a>"}
	cmk := &Rule{Algorithm: "KMS", KMSMasterKeyID: "k1", Method: MethodKMSCMK}
	obj := func(key, sse, kid, etag string, lm time.Time) Object {
		m := MethodNone
		switch sse {
		case "AES256":
			m = MethodOSSManaged
		case "KMS":
			m = MethodKMSCMK
		}
		return Object{Key: key, SSE: sse, KMSKeyID: kid, ETag: etag, LastModified: lm, Size: 1, Method: m}
	}
	t1 := t0.Add(time.Hour)
	failed := Object{Key: "flaky", ETag: "F", LastModified: t0, Method: MethodUnknown, Error: &Error{Message: "503"}}
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "old.json"), filepath.Join(dir, "new.json")
	writeSnap(t, oldPath, true,
		Bucket{Name: "gone", Encryption: aes},
		Bucket{Name: "main", Encryption: nil, Objects: []Object{
			obj("same", "", "", "E0", t0),
			obj("reencrypted", "", "", "E1", t0),
			obj("rewritten", "", "", "E2", t0),
			obj("content", "AES256", "", "E3", t0),
			obj("removed", "", "", "E4", t0),
			obj("flaky", "", "", "F", t0),
			obj("by-id", "KMS", "k1", "E6", t0),
			obj("other-key", "KMS", "k1", "E7", t0),
		}},
		Bucket{Name: "partial", Encryption: aes, Objects: []Object{obj("p1", "AES256", "", "P1", t0), obj("p2", "AES256", "", "P2", t0)}},
		Bucket{Name: "rawonly", Encryption: aes},
		Bucket{Name: "unreadable", Encryption: aes},
	)
	writeSnap(t, newPath, true,
		Bucket{Name: "main", Encryption: cmk, Objects: []Object{
			obj("rewritten", "KMS", "k1", "E2b", t1),
			obj("content", "AES256", "", "E3b", t1),
			obj("reencrypted", "KMS", "k1", "e1", t0), // ETag case differs across dialects
			obj("added", "KMS", "k1", "E5", t1),
			obj("same", "", "", "E0", t0),
			failed,
			// S3 names the key by ARN: the same key as the bare id before.
			obj("by-id", "KMS", "arn:aws:kms:r:111122223333:key/k1", "E6", t0),
			obj("other-key", "KMS", "arn:aws:kms:r:111122223333:key/k2", "E7", t0),
		}},
		Bucket{Name: "new", Encryption: cmk},
		Bucket{Name: "partial", Encryption: aes, Objects: []Object{obj("p1", "AES256", "", "P1", t0)},
			ListError: &Error{Scope: "list", Message: "timeout"}},
		Bucket{Name: "rawonly", Encryption: aesOtherRaw},
		Bucket{Name: "unreadable", EncryptionError: &Error{Scope: "rule", Code: "AccessDenied", Message: "denied"}},
	)
	var got []string
	err := Diff(context.Background(), oldPath, newPath, func(c Change) error {
		s := fmt.Sprintf("%s %s/%s", c.Kind, c.Bucket, c.Key)
		switch c.Kind {
		case ObjectEncryptionChanged, ObjectContentChanged:
			s += fmt.Sprintf(" etag=%v lm=%v", c.SameETag, c.SameLastModified)
		case RuleChanged:
			s += fmt.Sprintf(" %v->%s", c.RuleBefore, c.RuleAfter.Method)
		}
		got = append(got, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bucket-removed gone/",
		"rule-changed main/ <nil>->kms-cmk",
		"object-added main/added",
		"object-content-changed main/content etag=false lm=false",
		"object-unknown main/flaky",
		"object-encryption-changed main/other-key etag=true lm=true",
		"object-encryption-changed main/reencrypted etag=true lm=true",
		"object-removed main/removed",
		"object-encryption-changed main/rewritten etag=false lm=false",
		"bucket-added new/",
		"object-unknown partial/p2",
		"rule-unknown unreadable/",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}

	// Nothing changes between a snapshot and itself.
	n := 0
	if err := Diff(context.Background(), oldPath, oldPath, func(Change) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("Diff with itself: %d changes, %v", n, err)
	}
	// A bucket missing from an incomplete snapshot is unknown, not removed.
	incomplete := filepath.Join(dir, "incomplete.json")
	writeSnap(t, incomplete, false)
	var kinds []ChangeKind
	Diff(context.Background(), oldPath, incomplete, func(c Change) error { kinds = append(kinds, c.Kind); return nil })
	for _, k := range kinds {
		if k != BucketUnknown {
			t.Errorf("against an incomplete snapshot: %s, want only %s", k, BucketUnknown)
		}
	}
	// fn's error and cancellation stop it.
	stop := errors.New("stop")
	if err := Diff(context.Background(), oldPath, newPath, func(Change) error { return stop }); err != stop {
		t.Errorf("Diff with failing fn = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Diff(ctx, oldPath, newPath, func(Change) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Diff with a cancelled ctx = %v", err)
	}
	if err := Diff(context.Background(), oldPath, filepath.Join(dir, "missing"), func(Change) error { return nil }); err == nil {
		t.Error("Diff with a missing file: no error")
	}
}

// TestReaderHoldsTheLayout: what the Writer guarantees, the reader checks,
// because the policies and the verdict rely on it: exact member names,
// buckets once each in name order, counts that match the objects, and a
// regular file.
func TestReaderHoldsTheLayout(t *testing.T) {
	write := func(names []string, objects map[string][]Object) string {
		var buf bytes.Buffer
		w, _ := NewWriter(&buf, testProvenance(), WithClock(fixedClock))
		for _, n := range names {
			w.BeginBucket(Bucket{Name: n})
			var inspected int64
			for _, o := range objects[n] {
				o.Bucket = n
				w.Object(o)
				if o.Error == nil {
					inspected++
				}
			}
			w.EndBucket(int64(len(objects[n])), inspected, nil)
		}
		if err := w.Close(Coverage{}, true); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	two := write([]string{"a", "b"}, map[string][]Object{"a": {{Key: "k", Method: MethodNone}}})
	dir := t.TempDir()
	cases := []struct {
		name, doc, want string
	}{
		{"case-variant member", strings.Replace(two, `"encryption":null`, `"encryption":null,"ENCRYPTION":{"algorithm":"AES256","method":"oss-managed"}`, 1), `unknown member "ENCRYPTION"`},
		{"missing bucket member", strings.Replace(two, `"encryption":null,`, ``, 1), `"encryption" is missing`},
		{"missing provenance member", strings.Replace(two, `"tool_version":"test",`, ``, 1), `"tool_version" is missing`},
		{"buckets out of order", strings.Replace(two, `"name":"b"`, `"name":"0"`, 1), "ascending name order"},
		{"bucket twice", strings.Replace(two, `"name":"b"`, `"name":"a"`, 1), "ascending name order"},
		{"inspected overstated", strings.Replace(two, `"objects_inspected":1`, `"objects_inspected":2`, 1), "counts disagree"},
		{"listed understated", strings.Replace(two, `"objects_listed":1`, `"objects_listed":0`, 1), "counts disagree"},
		{"object member twice", strings.Replace(two, `"method":"none"`, `"method":"none","method":"kms-cmk"`, 1), "appears twice"},
	}
	if _, err := ReadSummary(writeFile(t, dir, "good.json", two)); err != nil {
		t.Fatalf("the base document is refused: %v", err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.doc == two {
				t.Fatal("the case changes nothing")
			}
			p := writeFile(t, dir, fmt.Sprintf("%d.json", i), c.doc)
			if _, err := ReadSummary(p); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadSummary = %v, want %q", err, c.want)
			}
			if err := EachBucket(p, func(Bucket) error { return nil }); err == nil {
				t.Error("EachBucket accepted it")
			}
		})
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadSummary(fifo); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("a FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO blocks")
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
