package schemas_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/schemas"
	"github.com/sseaudit/sseaudit/snapshot"
)

// errorSnapshot is a snapshot.json, as the Writer writes it, with an error
// recorded everywhere one can be: an object whose HEAD failed, a key KMS
// could not describe, a scan-level error, and a bucket without a rule.
func errorSnapshot(t *testing.T) []byte {
	t.Helper()
	var sb bytes.Buffer
	t0 := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	w, err := snapshot.NewWriter(&sb, snapshot.Provenance{ScanID: "s1", StartedAt: t0, ToolVersion: "dev",
		Target: snapshot.Target{Kind: "oss", Dialect: "oss", Endpoint: "e"}, Regions: []string{"r"}}, snapshot.WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.BeginBucket(snapshot.Bucket{Name: "a", Region: "r"}))
	must(w.Object(snapshot.Object{Key: "ok", Size: 1, Method: snapshot.MethodNone, ETag: "e"}))
	must(w.Object(snapshot.Object{Key: "head-failed", Method: snapshot.MethodUnknown,
		Error: &snapshot.Error{Scope: "object", Resource: "a/head-failed", StatusCode: 500, Message: "HEAD failed"}}))
	must(w.EndBucket(2, 1, nil))
	must(w.Key(snapshot.Key{KeyID: "k", Region: "r", Error: &snapshot.Error{Scope: "key", Resource: "k", Message: "denied"}}))
	must(w.Close(snapshot.Coverage{Buckets: 1, BucketsRead: 1, ObjectsListed: 2, ObjectsInspected: 1, KeysReferenced: 1,
		Errors: []snapshot.Error{{Scope: "scan", Resource: "", Message: "throttled"}}}, true))
	return sb.Bytes()
}

// The snapshot readers read a null as the member's zero value, so a
// snapshot whose error said "resource": null was read, judged and copied
// into the report as snapshot.json, which then failed its own schema (the
// reviewer's "error without resource"). The Writer writes null only for a
// bucket without a rule ("encryption"); the schema and the readers now
// agree on every other null: refused. (The Writer always writes an error's
// resource, "" when there is none, so the schema keeps it required.)
func TestSnapshotReaderAndSchemaAgreeOnNull(t *testing.T) {
	good := errorSnapshot(t)
	read := readers(t)
	for name, doc := range map[string][]byte{"as written": good, "re-encoded": mutate(t, good, "/complete", "set", true)} {
		if err := read(doc); err != nil {
			t.Fatalf("%s: the reader refused it: %v", name, err)
		}
		if err := schemas.Validate(schemas.SnapshotFormat, bytes.NewReader(doc)); err != nil {
			t.Fatalf("%s: the schema refused it: %v", name, err)
		}
	}
	cases := []struct {
		path string
		ok   bool // null is what the Writer writes there
	}{
		{path: "/buckets/0/encryption", ok: true},
		{path: "/buckets/0/objects/1/error/resource"},
		{path: "/buckets/0/objects/1/error/message"},
		{path: "/keys/0/error/resource"},
		{path: "/coverage/errors/0/resource"},
		{path: "/coverage/errors/0"},
		{path: "/coverage/errors"},
		{path: "/buckets/0/objects/0/etag"},
		{path: "/buckets/0/objects/0/size"},
		{path: "/buckets/0/objects/1/error"},
		{path: "/buckets/0/region"},
		{path: "/keys/0/error"},
		{path: "/keys/0/missing"},
		{path: "/keys/0"},
		{path: "/keys"},
		{path: "/provenance/regions/0"},
		{path: "/provenance/regions"},
		{path: "/provenance"},
		{path: "/coverage"},
		{path: "/finished_at"},
		{path: "/complete"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			doc := mutate(t, good, c.path, "set", nil)
			rerr := read(doc)
			serr := schemas.Validate(schemas.SnapshotFormat, bytes.NewReader(doc))
			if (rerr == nil) != c.ok || (serr == nil) != c.ok {
				t.Errorf("null at %s: reader error %v, schema error %v; want both to accept it: %v", c.path, rerr, serr, c.ok)
			}
		})
	}
}
