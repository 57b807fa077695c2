package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/snapshot"
)

// TestAppendRecordMatchesJSON: every record's line is the checksum and
// json.Marshal's bytes, whether appendRecord writes it itself (objects of
// the common form) or through encoding/json (the rest), and it reads back
// as the record.
func TestAppendRecordMatchesJSON(t *testing.T) {
	lm := time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.UTC)
	after := "k"
	plain := snapshot.Object{Bucket: "b", Key: "obj-000001", Size: 1, ETag: "5B3C", LastModified: lm, StorageClass: "Standard", SSE: "AES256", Method: snapshot.MethodNone}
	full := snapshot.Object{Bucket: "b", Key: "k", Size: 1 << 40, ETag: "e", LastModified: lm, VersionID: "v1", Noncurrent: true, StorageClass: "IA",
		SSE: "KMS", KMSKeyID: "key-1", Method: "kms-cmk", DataEncryption: "SM4", Attempts: 3,
		ReadProbed: true, ReadError: &snapshot.Error{Scope: "object", Resource: "b/k", StatusCode: 409, Code: "KeyDisabled", Message: "disabled", Attempts: 1}}
	failed := snapshot.Object{Bucket: "b", Key: "k", LastModified: lm, Method: snapshot.MethodUnknown,
		Error: &snapshot.Error{Scope: "object", Resource: "b/k", StatusCode: 503, Code: "SlowDown", Message: "Please reduce your request rate.", Attempts: 4}}
	with := func(f func(o *snapshot.Object)) *snapshot.Object {
		o := plain
		f(&o)
		return &o
	}
	for _, c := range []struct {
		name   string
		r      record
		direct bool // written without encoding/json
	}{
		{"plain", record{T: "o", S: 7, O: &plain}, true},
		{"first", record{T: "o", O: &plain}, true},
		{"every field", record{T: "o", S: 1, O: &full}, true},
		{"failed", record{T: "o", S: 2, O: &failed}, true},
		{"error without code", record{T: "o", O: with(func(o *snapshot.Object) { o.Error = &snapshot.Error{Scope: "object", Message: "m"} })}, true},
		{"probed", record{T: "o", O: with(func(o *snapshot.Object) { o.ReadProbed = true })}, true},
		{"zero time", record{T: "o", O: with(func(o *snapshot.Object) { o.LastModified = time.Time{} })}, true},
		{"html in key", record{T: "o", O: with(func(o *snapshot.Object) { o.Key = "a<b>&c" })}, false},
		{"quote in etag", record{T: "o", O: with(func(o *snapshot.Object) { o.ETag = `"x"` })}, false},
		{"utf-8 key", record{T: "o", O: with(func(o *snapshot.Object) { o.Key = "caf\u00e9\u2028" })}, false},
		{"invalid utf-8", record{T: "o", O: with(func(o *snapshot.Object) { o.Key = "\xff" })}, false},
		{"control byte", record{T: "o", O: with(func(o *snapshot.Object) { o.Key = "a\tb" })}, false},
		{"backslash in message", record{T: "o", O: with(func(o *snapshot.Object) { o.Error = &snapshot.Error{Message: `a\b`} })}, false},
		{"zone", record{T: "o", O: with(func(o *snapshot.Object) { o.LastModified = lm.In(time.FixedZone("X", 3600)) })}, false},
		{"named UTC", record{T: "o", O: with(func(o *snapshot.Object) { o.LastModified = lm.In(time.FixedZone("GMT", 0)) })}, true},
		{"bucket", record{T: "b", B: &snapshot.Bucket{Name: "b"}}, false},
		{"end", record{T: "e", Listed: 3, Inspected: 2, ListError: &snapshot.Error{Message: "x"}}, false},
		{"resumed", record{T: "r", ScanID: "s", After: &after}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkRecordLine(t, &c.r, c.direct)
		})
	}
}

// checkRecordLine fails t unless r's line is the checksum and
// json.Marshal's bytes and reads back; direct says whether appendRecord
// should write it without encoding/json.
func checkRecordLine(t *testing.T, r *record, direct bool) {
	t.Helper()
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("previous line\n")
	line, err := appendRecord(append([]byte(nil), prefix...), r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(line, prefix) {
		t.Fatalf("appendRecord changed what it appends to: %q", line)
	}
	line = line[len(prefix):]
	wantLine := fmt.Appendf(nil, "%08x %s\n", crc32.Checksum(want, crcTable), want)
	if !bytes.Equal(line, wantLine) {
		t.Fatalf("line\n %s\nwant\n %s", line, wantLine)
	}
	if _, ok := appendObjectRecord(nil, r); ok != direct {
		t.Errorf("written without encoding/json: %v, want %v", ok, direct)
	}
	if _, ok := decodeRecord(line); !ok {
		t.Errorf("line does not read back: %s", line)
	}
}

// TestAppendRecordRandom: random objects (printable ASCII or not, with
// and without errors and optional fields) encode as json.Marshal does.
func TestAppendRecordRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	str := func() string {
		n := rng.IntN(8)
		b := make([]byte, n)
		for i := range b {
			if rng.IntN(10) == 0 {
				b[i] = byte(rng.IntN(256))
			} else {
				b[i] = byte(0x20 + rng.IntN(0x5f))
			}
		}
		return string(b)
	}
	direct := 0
	for range 2000 {
		o := snapshot.Object{Bucket: str(), Key: str(), Size: rng.Int64(), ETag: str(),
			LastModified: time.Unix(rng.Int64N(1<<35), rng.Int64N(1e9)).UTC(), VersionID: str(), Noncurrent: rng.IntN(2) == 0,
			StorageClass: str(), SSE: str(), KMSKeyID: str(), Method: str(), DataEncryption: str(), Attempts: rng.IntN(3)}
		if rng.IntN(3) == 0 {
			o.Error = &snapshot.Error{Scope: str(), Resource: str(), StatusCode: rng.IntN(600), Code: str(), Message: str(), Attempts: rng.IntN(3)}
		}
		if rng.IntN(3) == 0 {
			o.ReadProbed = true
			if rng.IntN(2) == 0 {
				o.ReadError = &snapshot.Error{Scope: str(), Resource: str(), StatusCode: rng.IntN(600), Code: str(), Message: str(), Attempts: rng.IntN(3)}
			}
		}
		r := record{T: "o", S: rng.Int64N(3), O: &o}
		_, ok := appendObjectRecord(nil, &r)
		if ok {
			direct++
		}
		checkRecordLine(t, &r, ok)
		if t.Failed() {
			t.Fatalf("object %+v", o)
		}
	}
	if direct < 10 {
		t.Errorf("only %d of 2000 random records written directly: the test checks little", direct)
	}
}

// TestAppendRecordAllocations: an object's record reuses the line it is
// given (encoding/json allocated its bytes and more for every object).
func TestAppendRecordAllocations(t *testing.T) {
	o := snapshot.Object{Bucket: "b", Key: "obj-000001", Size: 1, ETag: "5B3C", LastModified: time.Now().UTC(), StorageClass: "Standard", SSE: "AES256", Method: snapshot.MethodNone}
	r := record{T: "o", S: 7, O: &o}
	line := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(1000, func() {
		var err error
		if line, err = appendRecord(line[:0], &r); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per object record, want 0", n)
	}
}
