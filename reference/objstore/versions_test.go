package objstore

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func readVersion(t testing.TB, s *DiskStore, bucket, key, vid string) []byte {
	t.Helper()
	o, err := s.OpenObjectVersion(bg, root, bucket, key, vid)
	if err != nil {
		t.Fatalf("open %s/%s?versionId=%s: %v", bucket, key, vid, err)
	}
	defer o.Close()
	r, err := o.Range(bg, 0, o.Info().Size)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func enableVersioning(t testing.TB, s *DiskStore, bucket, status string) {
	t.Helper()
	if err := s.PutBucketVersioning(bg, root, bucket, status); err != nil {
		t.Fatalf("PutBucketVersioning %s: %v", status, err)
	}
}

// allVersions lists every version of bucket in pages of pageSize.
func allVersions(t testing.TB, s *DiskStore, bucket string, opts ListVersionsOptions) (vs []ObjectInfo, cps []string) {
	t.Helper()
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("listing does not end")
		}
		r, err := s.ListObjectVersions(bg, root, bucket, opts)
		if err != nil {
			t.Fatal(err)
		}
		vs, cps = append(vs, r.Versions...), append(cps, r.CommonPrefixes...)
		if !r.IsTruncated {
			return vs, cps
		}
		if len(r.Versions)+len(r.CommonPrefixes) != opts.MaxKeys {
			t.Fatalf("truncated page of %d entries, max %d", len(r.Versions)+len(r.CommonPrefixes), opts.MaxKeys)
		}
		opts.KeyMarker, opts.VersionIDMarker = r.NextKeyMarker, r.NextVersionIDMarker
	}
}

func versionIDs(vs []ObjectInfo) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Key+"@"+v.VersionID)
	}
	return out
}

// TestVersionKeepsItsEncryption is the case sseaudit --versions looks for:
// re-encrypting an object by copying it onto itself leaves the plaintext
// original behind as a noncurrent version, which keeps its (lack of)
// encryption and its data.
func TestVersionKeepsItsEncryption(t *testing.T) {
	e := newTestEnv(t)
	s := e.s
	mustBucket(t, s, "vbkt", nil)
	old := put(t, s, "vbkt", "doc", []byte("plaintext before versioning"), PutOptions{})
	if old.VersionID != "" {
		t.Fatalf("unversioned write has version %q", old.VersionID)
	}
	enableVersioning(t, s, "vbkt", VersioningEnabled)
	v1 := put(t, s, "vbkt", "doc", []byte("v1 plaintext"), PutOptions{})
	if v1.VersionID == "" || v1.VersionID == NullVersionID || v1.SSE.Algorithm != "" {
		t.Fatalf("v1 = %+v", v1)
	}
	if err := s.PutBucketEncryption(bg, root, "vbkt", EncryptionRule{Algorithm: AlgorithmAES256}); err != nil {
		t.Fatal(err)
	}
	v2, err := s.CopyObject(bg, root, "vbkt", "doc", "vbkt", "doc", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v2.VersionID == v1.VersionID || v2.SSE.Algorithm != AlgorithmAES256 {
		t.Fatalf("v2 = %+v", v2)
	}
	h1, err := s.HeadObjectVersion(bg, root, "vbkt", "doc", v1.VersionID)
	if err != nil || h1.SSE.Algorithm != "" || h1.VersionID != v1.VersionID {
		t.Fatalf("head v1: %+v %v", h1, err)
	}
	h0, err := s.HeadObjectVersion(bg, root, "vbkt", "doc", NullVersionID)
	if err != nil || h0.SSE.Algorithm != "" || h0.VersionID != NullVersionID || h0.ETag != old.ETag {
		t.Fatalf("head null: %+v %v", h0, err)
	}
	cur, err := s.HeadObject(bg, root, "vbkt", "doc")
	if err != nil || cur.VersionID != v2.VersionID || cur.SSE.Algorithm != AlgorithmAES256 {
		t.Fatalf("head current: %+v %v", cur, err)
	}
	if got := readVersion(t, s, "vbkt", "doc", v1.VersionID); string(got) != "v1 plaintext" {
		t.Fatalf("v1 reads %q", got)
	}
	if got := get(t, s, "vbkt", "doc"); string(got) != "v1 plaintext" {
		t.Fatalf("current reads %q", got)
	}
	ar1, err := s.AtRestVersion(bg, "vbkt", "doc", v1.VersionID)
	if err != nil || ar1.Encrypted {
		t.Fatalf("v1 at rest: %+v %v", ar1, err)
	}
	if raw, _ := os.ReadFile(ar1.DataFiles[0]); string(raw) != "v1 plaintext" {
		t.Fatalf("v1 data file holds %q", raw)
	}
	ar2, err := s.AtRest(bg, "vbkt", "doc")
	if err != nil || !ar2.Encrypted {
		t.Fatalf("current at rest: %+v %v", ar2, err)
	}
	if raw, _ := os.ReadFile(ar2.DataFiles[0]); bytes.Contains(raw, []byte("v1 plaintext")) {
		t.Fatal("current version's plaintext on disk")
	}
	// Changing the default again changes no version.
	if err := s.DeleteBucketEncryption(bg, root, "vbkt"); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.HeadObjectVersion(bg, root, "vbkt", "doc", v2.VersionID); h.SSE.Algorithm != AlgorithmAES256 {
		t.Fatalf("v2 after rule change: %+v", h.SSE)
	}
	vs, _ := allVersions(t, s, "vbkt", ListVersionsOptions{MaxKeys: 1})
	want := []string{"doc@" + v2.VersionID, "doc@" + v1.VersionID, "doc@null"}
	if got := versionIDs(vs); !slices.Equal(got, want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	if !vs[0].IsLatest || vs[1].IsLatest || vs[2].IsLatest {
		t.Fatalf("IsLatest: %+v", vs)
	}
	// Every version survives a restart: garbage collection keeps the
	// files of noncurrent versions.
	e.reopen(t)
	s = e.s
	if got := readVersion(t, s, "vbkt", "doc", NullVersionID); string(got) != "plaintext before versioning" {
		t.Fatalf("null version after reopen reads %q", got)
	}
}

func TestDeleteMarkers(t *testing.T) {
	e := newTestEnv(t)
	s := e.s
	mustBucket(t, s, "dmbkt", nil)
	enableVersioning(t, s, "dmbkt", VersioningEnabled)
	v1 := put(t, s, "dmbkt", "k", []byte("one"), PutOptions{})
	dr, err := s.DeleteObjectVersion(bg, root, "dmbkt", "k", "")
	if err != nil || !dr.DeleteMarker || dr.VersionID == "" || dr.VersionID == v1.VersionID {
		t.Fatalf("delete: %+v %v", dr, err)
	}
	_, err = s.HeadObject(bg, root, "dmbkt", "k")
	wantKind(t, err, KindNoSuchKey)
	if se := err.(*Error); !se.DeleteMarker || se.VersionID != dr.VersionID {
		t.Fatalf("head of a deleted key: %+v", se)
	}
	_, err = s.OpenObjectVersion(bg, root, "dmbkt", "k", dr.VersionID)
	wantKind(t, err, KindMethodNotAllowed)
	_, err = s.HeadObjectVersion(bg, root, "dmbkt", "k", "00000000000000ff0123456789abcdef")
	wantKind(t, err, KindNoSuchVersion)
	_, err = s.HeadObjectVersion(bg, root, "dmbkt", "k", "bogus")
	wantKind(t, err, KindNoSuchVersion)
	if l, _ := s.ListObjects(bg, root, "dmbkt", ListOptions{}); len(l.Objects) != 0 {
		t.Fatalf("plain listing shows %+v", l.Objects)
	}
	if got := readVersion(t, s, "dmbkt", "k", v1.VersionID); string(got) != "one" {
		t.Fatalf("v1 reads %q", got)
	}
	// A second delete stacks another marker.
	dr2, _ := s.DeleteObjectVersion(bg, root, "dmbkt", "k", "")
	vs, _ := allVersions(t, s, "dmbkt", ListVersionsOptions{MaxKeys: 2})
	if len(vs) != 3 || !vs[0].DeleteMarker || !vs[0].IsLatest || !vs[1].DeleteMarker || vs[2].DeleteMarker {
		t.Fatalf("versions %+v", vs)
	}
	wantKind(t, s.DeleteBucket(bg, root, "dmbkt"), KindBucketNotEmpty)
	// Removing both markers makes v1 current again.
	for _, id := range []string{dr2.VersionID, dr.VersionID} {
		r, err := s.DeleteObjectVersion(bg, root, "dmbkt", "k", id)
		if err != nil || !r.DeleteMarker || r.VersionID != id {
			t.Fatalf("remove marker: %+v %v", r, err)
		}
	}
	if got := get(t, s, "dmbkt", "k"); string(got) != "one" {
		t.Fatalf("restored current reads %q", got)
	}
	// Removing the current version for good deletes its file.
	ar, _ := s.AtRest(bg, "dmbkt", "k")
	if r, err := s.DeleteObjectVersion(bg, root, "dmbkt", "k", v1.VersionID); err != nil || r.DeleteMarker {
		t.Fatalf("remove v1: %+v %v", r, err)
	}
	if _, err := os.Stat(ar.DataFiles[0]); !os.IsNotExist(err) {
		t.Fatalf("v1's data file: %v", err)
	}
	// A version that is not there is no error.
	if _, err := s.DeleteObjectVersion(bg, root, "dmbkt", "k", v1.VersionID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(bg, root, "dmbkt"); err != nil {
		t.Fatalf("delete emptied bucket: %v", err)
	}
}

func TestDeleteBucketWithOnlyNoncurrentVersions(t *testing.T) {
	e := newTestEnv(t)
	s := e.s
	mustBucket(t, s, "ncbkt", nil)
	enableVersioning(t, s, "ncbkt", VersioningEnabled)
	v1 := put(t, s, "ncbkt", "k", []byte("x"), PutOptions{})
	v2 := put(t, s, "ncbkt", "k", []byte("y"), PutOptions{})
	if _, err := s.DeleteObjectVersion(bg, root, "ncbkt", "k", v2.VersionID); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "ncbkt", "k"); string(got) != "x" {
		t.Fatalf("after removing the current version the key reads %q", got)
	}
	dm, _ := s.DeleteObjectVersion(bg, root, "ncbkt", "k", "")
	wantKind(t, s.DeleteBucket(bg, root, "ncbkt"), KindBucketNotEmpty)
	s.DeleteObjectVersion(bg, root, "ncbkt", "k", v1.VersionID)
	wantKind(t, s.DeleteBucket(bg, root, "ncbkt"), KindBucketNotEmpty) // the marker is left
	s.DeleteObjectVersion(bg, root, "ncbkt", "k", dm.VersionID)
	if err := s.DeleteBucket(bg, root, "ncbkt"); err != nil {
		t.Fatal(err)
	}
}

func TestSuspendedVersioning(t *testing.T) {
	e := newTestEnv(t)
	s := e.s
	mustBucket(t, s, "svbkt", nil)
	enableVersioning(t, s, "svbkt", VersioningEnabled)
	v1 := put(t, s, "svbkt", "k", []byte("enabled"), PutOptions{})
	enableVersioning(t, s, "svbkt", VersioningSuspended)
	if b, _ := s.GetBucket(bg, root, "svbkt"); b.Versioning != VersioningSuspended {
		t.Fatalf("state %q", b.Versioning)
	}
	n1 := put(t, s, "svbkt", "k", []byte("null one"), PutOptions{})
	if n1.VersionID != NullVersionID {
		t.Fatalf("suspended write has version %q", n1.VersionID)
	}
	ar, _ := s.AtRest(bg, "svbkt", "k")
	n2 := put(t, s, "svbkt", "k", []byte("null two"), PutOptions{})
	if n2.VersionID != NullVersionID {
		t.Fatalf("suspended write has version %q", n2.VersionID)
	}
	if _, err := os.Stat(ar.DataFiles[0]); !os.IsNotExist(err) {
		t.Fatalf("replaced null version's file: %v", err)
	}
	vs, _ := allVersions(t, s, "svbkt", ListVersionsOptions{MaxKeys: 1000})
	if got, want := versionIDs(vs), []string{"k@null", "k@" + v1.VersionID}; !slices.Equal(got, want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	// Re-enabled, the null version becomes noncurrent and stays.
	enableVersioning(t, s, "svbkt", VersioningEnabled)
	v3 := put(t, s, "svbkt", "k", []byte("three"), PutOptions{})
	// Suspended again, a delete is the null marker, replacing the null version.
	enableVersioning(t, s, "svbkt", VersioningSuspended)
	dr, err := s.DeleteObjectVersion(bg, root, "svbkt", "k", "")
	if err != nil || !dr.DeleteMarker || dr.VersionID != NullVersionID {
		t.Fatalf("suspended delete: %+v %v", dr, err)
	}
	vs, _ = allVersions(t, s, "svbkt", ListVersionsOptions{MaxKeys: 1000})
	if got, want := versionIDs(vs), []string{"k@null", "k@" + v3.VersionID, "k@" + v1.VersionID}; !slices.Equal(got, want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	if !vs[0].DeleteMarker {
		t.Fatalf("null entry is not the marker: %+v", vs[0])
	}
	wantKind(t, s.PutBucketVersioning(bg, root, "svbkt", "Disabled"), KindInvalidArgument)
}

func TestListObjectVersionsPaging(t *testing.T) {
	e := newTestEnv(t)
	s := e.s
	mustBucket(t, s, "lpbkt", nil)
	put(t, s, "lpbkt", "a", []byte("a0"), PutOptions{}) // null version from before
	enableVersioning(t, s, "lpbkt", VersioningEnabled)
	keys := []string{"a", "b/1", "b/2", "c", "c\x00x", "d"}
	for round := range 3 {
		for _, k := range keys {
			put(t, s, "lpbkt", k, []byte(fmt.Sprint(k, round)), PutOptions{})
		}
	}
	s.DeleteObjectVersion(bg, root, "lpbkt", "c", "")
	full, _ := allVersions(t, s, "lpbkt", ListVersionsOptions{MaxKeys: 1000})
	if len(full) != 3*len(keys)+2 {
		t.Fatalf("%d versions", len(full))
	}
	for i := 1; i < len(full); i++ {
		if full[i].Key < full[i-1].Key {
			t.Fatalf("not in key order: %v", versionIDs(full))
		}
		if full[i].Key == full[i-1].Key && (full[i].IsLatest || !full[i].LastModified.Before(full[i-1].LastModified.Add(1))) {
			t.Fatalf("not newest first: %+v then %+v", full[i-1], full[i])
		}
	}
	for _, n := range []int{1, 2, 3, 5} {
		got, _ := allVersions(t, s, "lpbkt", ListVersionsOptions{MaxKeys: n})
		if !slices.Equal(versionIDs(got), versionIDs(full)) {
			t.Fatalf("pages of %d: %v, want %v", n, versionIDs(got), versionIDs(full))
		}
	}
	vs, cps := allVersions(t, s, "lpbkt", ListVersionsOptions{Delimiter: "/", MaxKeys: 2})
	if !slices.Equal(cps, []string{"b/"}) || len(vs) != len(full)-6 {
		t.Fatalf("delimited: %v %v", versionIDs(vs), cps)
	}
	vs, _ = allVersions(t, s, "lpbkt", ListVersionsOptions{Prefix: "b/", MaxKeys: 4})
	if len(vs) != 6 || vs[0].Key != "b/1" {
		t.Fatalf("prefixed: %v", versionIDs(vs))
	}
	// Plain listings show current objects only (c's is a marker).
	l, _ := s.ListObjects(bg, root, "lpbkt", ListOptions{})
	var names []string
	for _, o := range l.Objects {
		names = append(names, o.Key)
	}
	if !slices.Equal(names, []string{"a", "b/1", "b/2", "c\x00x", "d"}) {
		t.Fatalf("plain listing %q", names)
	}
}

func TestConcurrentVersionedPuts(t *testing.T) {
	e := newTestEnv(t)
	s := e.s
	mustBucket(t, s, "ccbkt", nil)
	enableVersioning(t, s, "ccbkt", VersioningEnabled)
	const n = 8
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			info, err := s.PutObject(bg, root, "ccbkt", "k", strings.NewReader(fmt.Sprint("body ", i)), -1, PutOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = info.VersionID
		}()
	}
	wg.Wait()
	vs, _ := allVersions(t, s, "ccbkt", ListVersionsOptions{MaxKeys: 3})
	if len(vs) != n {
		t.Fatalf("%d versions of %d writes", len(vs), n)
	}
	for i, id := range ids {
		if got := readVersion(t, s, "ccbkt", "k", id); string(got) != fmt.Sprint("body ", i) {
			t.Fatalf("version %s reads %q", id, got)
		}
	}
}

// TestOldFormatDataDir opens a data dir as the build before versioning
// wrote it (format v1, no versions table, JSON records without version
// fields): adopted, it reads unchanged, its objects become null
// versions, and the database is v4 (authenticated records, which implies
// v2's versions and v3's binary records).
func TestOldFormatDataDir(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "oldbkt", nil)
	put(t, e.s, "oldbkt", "plain", []byte("open"), PutOptions{StorageClass: "IA"})
	if err := e.s.PutBucketEncryption(bg, root, "oldbkt", EncryptionRule{Algorithm: AlgorithmAES256}); err != nil {
		t.Fatal(err)
	}
	put(t, e.s, "oldbkt", "enc", []byte("sealed"), PutOptions{})
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(e.dir, MetaFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	toLegacyJSON(t, db, metaFormat)
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(tblVersions); err != nil {
			return err
		}
		for _, k := range []string{"enc", "plain"} {
			v := tx.Bucket(tblObjects).Bucket([]byte("oldbkt")).Get([]byte(k))
			for _, field := range []string{`"version_id"`, `"seq"`, `"delete_marker"`} {
				if bytes.Contains(v, []byte(field)) {
					return fmt.Errorf("unversioned record has %s: %s", field, v)
				}
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.AdoptUnauthenticated = true
	s, err := Open(bg, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	if got := get(t, s, "oldbkt", "enc"); string(got) != "sealed" {
		t.Fatalf("old encrypted object reads %q", got)
	}
	h, err := s.HeadObject(bg, root, "oldbkt", "enc")
	if err != nil || h.VersionID != "" || h.SSE.Algorithm != AlgorithmAES256 {
		t.Fatalf("head old object: %+v %v", h, err)
	}
	if b, _ := s.GetBucket(bg, root, "oldbkt"); b.Versioning != "" {
		t.Fatalf("old bucket versioning %q", b.Versioning)
	}
	vs, _ := allVersions(t, s, "oldbkt", ListVersionsOptions{MaxKeys: 1})
	if got := versionIDs(vs); !slices.Equal(got, []string{"enc@null", "plain@null"}) {
		t.Fatalf("old objects as versions: %v", got)
	}
	formatIs := func(want string) {
		t.Helper()
		s.db.View(func(tx *bolt.Tx) error {
			if v := string(tx.Bucket(tblMeta).Get(keyFormat)); v != want {
				t.Fatalf("format %q, want %q", v, want)
			}
			return nil
		})
	}
	// Adoption authenticated the records: v4, which implies v2's versions
	// and v3's binary records.
	formatIs(metaFormatAuthenticated)
	enableVersioning(t, s, "oldbkt", VersioningEnabled)
	formatIs(metaFormatAuthenticated)
	v := put(t, s, "oldbkt", "plain", []byte("new"), PutOptions{})
	if got := readVersion(t, s, "oldbkt", "plain", NullVersionID); string(got) != "open" {
		t.Fatalf("old object as null version reads %q", got)
	}
	if h, _ := s.HeadObjectVersion(bg, root, "oldbkt", "plain", NullVersionID); h.StorageClass != "IA" || h.SSE.Algorithm != "" {
		t.Fatalf("null version %+v", h)
	}
	if v.SSE.Algorithm != AlgorithmAES256 {
		t.Fatalf("new version under the bucket rule: %+v", v.SSE)
	}
}

// TestVersionAuthorization: every version-addressed operation applies the
// checks of its unversioned form, and a noncurrent KMS version needs
// decrypt permission on its own CMK (not on the current version's).
func TestVersionAuthorization(t *testing.T) {
	e := newTestEnv(t)
	s := e.s
	cmk := e.createKey(t)
	mustBucket(t, s, "vauth", nil)
	enableVersioning(t, s, "vauth", VersioningEnabled)
	secret := pattern(3000, 5)
	old, err := s.PutObject(bg, root, "vauth", "k", bytes.NewReader(secret), int64(len(secret)),
		PutOptions{SSE: SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "vauth", "k", []byte("current, SSE-OSS"), PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}})
	e.authz.set(e.authz.noDecrypt, "bob/"+cmk, true)

	decrypts := e.audit.count("Decrypt")
	_, err = s.OpenObjectVersion(bg, bob, "vauth", "k", old.VersionID)
	wantKind(t, err, KindKMSAccessDenied)
	_, err = s.CopyObject(bg, bob, "vauth", "k", "vauth", "stolen",
		CopyOptions{SourceVersionID: old.VersionID, Put: PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}}})
	wantKind(t, err, KindKMSAccessDenied)
	if n := e.audit.count("Decrypt"); n != decrypts {
		t.Fatalf("KMS Decrypt called %d times for a principal without decrypt permission", n-decrypts)
	}
	if got, err := readRange(s, bob, "vauth", "k", 0, -1); err != nil || string(got) != "current, SSE-OSS" {
		t.Fatalf("bob reading the current SSE-OSS version: %q %v", got, err)
	}

	e.authz.set(e.authz.noRead, "bob/vauth", true)
	_, err = s.HeadObjectVersion(bg, bob, "vauth", "k", old.VersionID)
	wantKind(t, err, KindAccessDenied)
	_, err = s.OpenObjectVersion(bg, bob, "vauth", "k", old.VersionID)
	wantKind(t, err, KindAccessDenied)
	_, err = s.ListObjectVersions(bg, bob, "vauth", ListVersionsOptions{})
	wantKind(t, err, KindAccessDenied)
	e.authz.set(e.authz.noWrite, "bob/vauth", true)
	_, err = s.DeleteObjectVersion(bg, bob, "vauth", "k", old.VersionID)
	wantKind(t, err, KindAccessDenied)
	_, err = s.DeleteObjectVersion(bg, bob, "vauth", "k", "not-a-version-id")
	wantKind(t, err, KindAccessDenied)
	wantKind(t, s.PutBucketVersioning(bg, bob, "vauth", VersioningSuspended), KindAccessDenied)
	if !bytes.Equal(readVersion(t, s, "vauth", "k", old.VersionID), secret) {
		t.Fatal("the noncurrent version changed")
	}
}
