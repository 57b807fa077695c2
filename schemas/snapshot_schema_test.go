package schemas_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/schemas"
	"github.com/sseaudit/sseaudit/snapshot"
)

// writeFull writes a snapshot that uses every member of the format, the
// optional ones included, through snapshot.Writer.
func writeFull(t *testing.T) []byte {
	t.Helper()
	t0 := time.Date(2026, 8, 1, 10, 0, 0, 123456789, time.UTC)
	var buf bytes.Buffer
	w, err := snapshot.NewWriter(&buf, snapshot.Provenance{ScanID: "scan-1", StartedAt: t0, ToolVersion: "v1.2.3",
		Target:  snapshot.Target{Kind: "s3", Dialect: "s3", Endpoint: "https://s3.example", KMSEndpoint: "https://kms.example", Principal: "AKIA-TEST"},
		Regions: []string{"r1", "r2"}, BucketFilter: "prod-*", PolicyDigest: "sha256:feed",
		ResumedFrom: &snapshot.Resumed{ScanID: "scan-0", StartedAt: t0.Add(-time.Hour), BucketsCopied: 1}},
		snapshot.WithClock(func() time.Time { return t0.Add(time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e := func(scope, res string) *snapshot.Error {
		return &snapshot.Error{Scope: scope, Resource: res, StatusCode: 403, Code: "AccessDenied", Message: "denied", Attempts: 3}
	}
	must(w.BeginBucket(snapshot.Bucket{Name: "a", Region: "r1", CreationDate: t0, ReadAt: t0,
		Encryption: &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: "k1", KMSDataEncryption: "SM4", Method: snapshot.MethodKMSCMK, Raw: "<x/>"},
		Versioning: "Enabled", VersionsInspected: true,
		ACL: &snapshot.ACL{Canned: "public-read", PublicRead: true, Raw: "<AccessControlPolicy/>",
			Grants: []snapshot.Grant{{Type: "Group", ID: "http://acs.amazonaws.com/groups/global/AllUsers", Permission: "READ"}}},
		Policy: &snapshot.Policy{Status: snapshot.PolicySet, Raw: `{"Statement":[]}`, RawTruncated: true,
			RawSHA256: "0000000000000000000000000000000000000000000000000000000000000000", ParseError: "p",
			DeniesUnencryptedPut: true, RequiredSSE: "KMS", RequiredKMSKeyIDs: []string{"k1"}, DeniesInsecureTransport: true,
			AllowsPublicRead: true, Notes: []string{"n"}}}))
	must(w.Object(snapshot.Object{Key: "o", Size: 10, ETag: `"e"`, LastModified: t0, VersionID: "2", StorageClass: "STANDARD",
		SSE: "KMS", KMSKeyID: "k1", Method: snapshot.MethodKMSCMK, DataEncryption: "SM4", Attempts: 2}))
	must(w.Object(snapshot.Object{Key: "o", Size: 9, LastModified: t0, VersionID: "1", Noncurrent: true, Method: snapshot.MethodNone}))
	must(w.Object(snapshot.Object{Key: "p", Method: snapshot.MethodUnknown, Error: e("object", "a/p")}))
	must(w.EndBucket(4, 2, e("list", "a")))
	must(w.BeginBucket(snapshot.Bucket{Name: "b", ReadAt: t0, EncryptionError: e("rule", "b"), RegionError: e("bucket", "b"),
		VersioningError: e("versioning", "b"), ACLError: e("acl", "b"), PolicyError: e("policy", "b")}))
	must(w.EndBucket(0, 0, nil))
	must(w.Key(snapshot.Key{KeyID: "k1", Region: "r1", Arn: "arn:aws:kms:r1:1:key/k1", State: "Enabled", Creator: "me", Origin: "Aliyun_KMS",
		AutomaticRotation: "Enabled", RotationInterval: "31536000s", LastRotationDate: "2026-01-01T00:00:00Z", NextRotationDate: "2027-01-01T00:00:00Z",
		CreationDate: "2025-01-01T00:00:00Z", ReadAt: t0, ResolvedKeyID: "k1-resolved"}))
	must(w.Key(snapshot.Key{KeyID: "alias/gone", Region: "r1", Missing: true, DeleteDate: "2026-09-01T00:00:00Z", ReadAt: t0}))
	must(w.Key(snapshot.Key{KeyID: "k3", Region: "r2", ServiceKey: true, Error: e("key", "k3"), ReadAt: t0}))
	must(w.Close(snapshot.Coverage{Buckets: 3, BucketsRead: 1, ObjectsListed: 4, ObjectsInspected: 2, KeysReferenced: 3, KeysDescribed: 2,
		Errors: []snapshot.Error{*e("object", "a/p")}, ErrorsOmitted: 7, Retries: 5, ListBucketsError: e("scan", "list")}, false))
	return buf.Bytes()
}

// TestWriterOutputFollowsSchema: documents written by snapshot.Writer (one
// with every member, one closed mid-bucket by a cancelled scan, an empty
// one) follow the embedded snapshot schema.
func TestWriterOutputFollowsSchema(t *testing.T) {
	var cancelled bytes.Buffer
	w, err := snapshot.NewWriter(&cancelled, snapshot.Provenance{ScanID: "c", Target: snapshot.Target{Kind: "oss", Dialect: "oss", Endpoint: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.BeginBucket(snapshot.Bucket{Name: "half"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Object(snapshot.Object{Key: "k", Method: snapshot.MethodOSSManaged, SSE: "AES256"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(snapshot.Coverage{}, true); err != nil {
		t.Fatal(err)
	}
	var empty bytes.Buffer
	w, err = snapshot.NewWriter(&empty, snapshot.Provenance{ScanID: "e"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(snapshot.Coverage{}, true); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string][]byte{"full": writeFull(t), "cancelled": cancelled.Bytes(), "empty": empty.Bytes()} {
		if err := schemas.Validate(schemas.SnapshotFormat, bytes.NewReader(doc)); err != nil {
			t.Errorf("%s: %v\n%s", name, err, doc)
		}
	}
}

// TestSchemaRefusesWhatTheReaderRefuses: the snapshot's readers and its
// schema agree on documents that are not snapshots: unknown members
// anywhere, missing required members and members of the wrong type are
// refused by both. The schema is stricter than the readers in two places:
// an object's method must be one of the format's methods, and sizes and
// counts cannot be negative.
func TestSchemaRefusesWhatTheReaderRefuses(t *testing.T) {
	good := writeFull(t)
	read := readers(t)
	if err := read(mutate(t, good, "/complete", "set", false)); err != nil {
		t.Fatalf("the test's re-encoding is not readable: %v", err)
	}
	cases := []struct {
		path   string
		v      any
		del    bool
		reader bool // the reader refuses it too
	}{
		{path: "/bogus", v: 1, reader: true},
		{path: "/provenance/bogus", v: 1, reader: true},
		{path: "/provenance/target/secret", v: "s", reader: true},
		{path: "/buckets/0/bogus", v: 1, reader: true},
		{path: "/buckets/0/encryption/bogus", v: 1, reader: true},
		{path: "/buckets/0/objects/0/bogus", v: 1, reader: true},
		{path: "/buckets/0/objects/0/error", v: map[string]any{"scope": "object", "resource": "r", "message": "m", "bogus": 1}, reader: true},
		{path: "/keys/0/bogus", v: 1, reader: true},
		{path: "/coverage/bogus", v: 1, reader: true},
		{path: "/coverage", del: true, reader: true},
		{path: "/finished_at", del: true, reader: true},
		{path: "/buckets/0/name", del: true, reader: true},
		{path: "/buckets/0/objects", del: true, reader: true},
		{path: "/buckets/0/objects_listed", v: "4", reader: true},
		{path: "/buckets/0/objects/0/size", v: "10", reader: true},
		{path: "/keys/0/read_at", v: "yesterday", reader: true},
		{path: "/complete", v: "yes", reader: true},
		{path: "/buckets/0/objects/0/method", del: true, reader: true},
		{path: "/buckets/0/objects/0/etag", del: true, reader: true},
		{path: "/buckets/0/objects/0/method", v: "rot13"},
		{path: "/buckets/0/objects/0/size", v: -1, reader: true},
		{path: "/buckets/0/objects_listed", v: -1, reader: true},
		{path: "/buckets/0/region", del: true, reader: true},
		{path: "/buckets/0/encryption", del: true, reader: true},
		{path: "/provenance/scan_id", del: true, reader: true},
		{path: "/buckets/0/acl/bogus", v: 1, reader: true},
		{path: "/buckets/0/acl/public_read", del: true, reader: true},
		{path: "/buckets/0/acl/grants/0/bogus", v: 1, reader: true},
		{path: "/buckets/0/policy/bogus", v: 1, reader: true},
		{path: "/buckets/0/policy/denies_unencrypted_put", del: true, reader: true},
		{path: "/buckets/0/policy/status", v: "maybe"},
		{path: "/buckets/0/policy/required_kms_key_ids", v: "k1", reader: true},
	}
	for _, c := range cases {
		op := "set"
		if c.del {
			op = "delete"
		}
		bad := mutate(t, good, c.path, op, c.v)
		if err := schemas.Validate(schemas.SnapshotFormat, bytes.NewReader(bad)); err == nil {
			t.Errorf("%s (delete %v): the schema accepted it", c.path, c.del)
		}
		if err := read(bad); (err != nil) != c.reader {
			t.Errorf("%s (delete %v): reader error %v, want refused=%v", c.path, c.del, err, c.reader)
		}
	}
}

// readers returns a function that reads a document through both snapshot
// readers (ReadSummary, then EachBucket) and returns the first refusal.
func readers(t *testing.T) func(doc []byte) error {
	path := filepath.Join(t.TempDir(), "snapshot.json")
	return func(doc []byte) error {
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := snapshot.ReadSummary(path); err != nil {
			return err
		}
		return snapshot.EachBucket(path, func(snapshot.Bucket) error { return nil })
	}
}
