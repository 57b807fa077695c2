package objstore

import (
	"bytes"
	"os"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestPolicyEvaluation: IAM's semantics on the supported operators and
// keys, table-driven: absent keys, negated operators, IfExists, Null,
// Bool, wildcards in actions, resources and values, principals, and the
// operations without SSE headers.
func TestPolicyEvaluation(t *testing.T) {
	s3doc := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"` + cond + `}]}`
	}
	put := func(alg, key string) PolicyRequest {
		return PolicyRequest{Op: "PutObject", Principal: Principal{Name: "alice"}, Bucket: "b", Key: "k", SSEAlgorithm: alg, KMSKeyID: key}
	}
	for _, tc := range []struct {
		name    string
		dialect PolicyDialect
		doc     string
		req     PolicyRequest
		deny    bool
	}{
		{"no condition", PolicyDialectS3, s3doc(""), put("", ""), true},
		{"other bucket", PolicyDialectS3, s3doc(""), PolicyRequest{Op: "PutObject", Bucket: "c", Key: "k"}, false},
		{"bucket-level resource only", PolicyDialectS3, s3doc(""), PolicyRequest{Op: "PutObject", Bucket: "b"}, false},
		{"other action", PolicyDialectS3, s3doc(""), PolicyRequest{Op: "GetObject", Bucket: "b", Key: "k"}, false},
		{"copy is PutObject", PolicyDialectS3, s3doc(""), PolicyRequest{Op: "CopyObject", Bucket: "b", Key: "k"}, true},
		{"NotEquals absent", PolicyDialectS3, s3doc(`,"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}`), put("", ""), true},
		{"NotEquals other", PolicyDialectS3, s3doc(`,"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}`), put(AlgorithmAES256, ""), true},
		{"NotEquals same", PolicyDialectS3, s3doc(`,"Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}`), put(AlgorithmKMS, ""), false},
		{"NotEqualsIfExists absent", PolicyDialectS3, s3doc(`,"Condition":{"StringNotEqualsIfExists":{"s3:x-amz-server-side-encryption":"aws:kms"}}`), put("", ""), true},
		{"Equals absent", PolicyDialectS3, s3doc(`,"Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"AES256"}}`), put("", ""), false},
		{"EqualsIfExists absent", PolicyDialectS3, s3doc(`,"Condition":{"StringEqualsIfExists":{"s3:x-amz-server-side-encryption":"AES256"}}`), put("", ""), true},
		{"Equals list", PolicyDialectS3, s3doc(`,"Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":["x","AES256"]}}`), put(AlgorithmAES256, ""), true},
		{"Like", PolicyDialectS3, s3doc(`,"Condition":{"StringLike":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:*:key/bad-*"}}`), put(AlgorithmKMS, "arn:aws:kms:r:1:key/bad-1"), true},
		{"NotLike", PolicyDialectS3, s3doc(`,"Condition":{"StringNotLike":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"good-?"}}`), put(AlgorithmKMS, "good-1"), false},
		{"Null true absent", PolicyDialectS3, s3doc(`,"Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}`), put("", ""), true},
		{"Null true present", PolicyDialectS3, s3doc(`,"Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}`), put(AlgorithmAES256, ""), false},
		{"Null false present", PolicyDialectS3, s3doc(`,"Condition":{"Null":{"s3:x-amz-server-side-encryption":"false"}}`), put(AlgorithmAES256, ""), true},
		{"two conditions AND", PolicyDialectS3, s3doc(`,"Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"aws:kms"},"Null":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"true"}}`), put(AlgorithmKMS, "k1"), false},
		{"UploadPart has no SSE key", PolicyDialectS3, s3doc(`,"Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}`), PolicyRequest{Op: "UploadPart", Bucket: "b", Key: "k"}, false},
		{"Bool secure transport", PolicyDialectS3, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, PolicyRequest{Op: "ListObjects", Bucket: "b"}, true},
		{"Bool over TLS", PolicyDialectS3, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b","Condition":{"Bool":{"aws:SecureTransport":false}}}]}`, PolicyRequest{Op: "ListObjects", Bucket: "b", SecureTransport: true}, false},
		{"named principal", PolicyDialectS3, `{"Statement":{"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::1:user/alice"]},"Action":"s3:GetObject","Resource":"*"}}`, PolicyRequest{Op: "HeadObject", Principal: Principal{Name: "alice"}, Bucket: "b", Key: "k"}, true},
		{"other principal", PolicyDialectS3, `{"Statement":{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::1:user/alice"},"Action":"s3:GetObject","Resource":"*"}}`, PolicyRequest{Op: "GetObject", Principal: Principal{Name: "bob"}, Bucket: "b", Key: "k"}, false},
		{"oss kms value", PolicyDialectOSS, `{"Version":"1","Statement":[{"Effect":"Deny","Principal":["*"],"Action":["oss:PutObject"],"Resource":["acs:oss:*:*:b/*"],"Condition":{"StringNotEquals":{"oss:x-oss-server-side-encryption":["KMS"]}}}]}`, put(AlgorithmKMS, ""), false},
		{"oss append", PolicyDialectOSS, `{"Version":"1","Statement":[{"Effect":"Deny","Principal":[],"Action":["oss:Put*"],"Resource":["acs:oss:*:*:b/*"],"Condition":{"Null":{"oss:x-oss-server-side-encryption":["true"]}}}]}`, PolicyRequest{Op: "AppendObject", Bucket: "b", Key: "k"}, true},
		{"oss owner spared", PolicyDialectOSS, `{"Version":"1","Statement":[{"Effect":"Deny","Principal":["*"],"Action":["oss:GetObject"],"Resource":["acs:oss:*:*:b/*"]}]}`, PolicyRequest{Op: "GetObject", Principal: Principal{Name: "owner"}, Bucket: "b", Key: "k"}, false},
		{"oss other denied", PolicyDialectOSS, `{"Version":"1","Statement":[{"Effect":"Deny","Principal":["*"],"Action":["oss:GetObject"],"Resource":["acs:oss:*:*:b/*"]}]}`, PolicyRequest{Op: "GetObject", Principal: Principal{Name: "alice"}, Bucket: "b", Key: "k"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseBucketPolicy(tc.dialect, "b", []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Denies(tc.req, "owner"); got != tc.deny {
				t.Fatalf("Denies = %v, want %v", got, tc.deny)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"a*", "abc", true}, {"*c", "abc", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"b/*", "b", false}, {"b*", "b", true}, {"*/*", "b/k", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
	} {
		if got := globMatch(tc.p, tc.s); got != tc.ok {
			t.Errorf("globMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// TestBucketPolicyPersistence: a policy survives a restart and is
// enforced after it; DeleteBucket removes it; a policy record edited on
// disk fails closed (everything denied but the owner's policy calls).
func TestBucketPolicyPersistence(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", nil)
	doc := []byte(`{"Version":"1","Statement":[{"Effect":"Deny","Principal":["*"],"Action":["oss:PutObject"],"Resource":["acs:oss:*:*:bkt/*"],"Condition":{"Null":{"oss:x-oss-server-side-encryption":["true"]}}}]}`)
	pol, err := ParseBucketPolicy(PolicyDialectOSS, "bkt", doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.PutBucketPolicy(bg, root, "bkt", pol); err != nil {
		t.Fatal(err)
	}
	unencrypted := PolicyRequest{Op: "PutObject", Principal: root, Bucket: "bkt", Key: "k"}
	e.reopen(t)
	if !e.s.PolicyDenies(unencrypted) {
		t.Fatal("the policy was not enforced after a restart")
	}
	got, err := e.s.GetBucketPolicy(bg, root, "bkt")
	if err != nil || !bytes.Equal(got.Document, doc) {
		t.Fatalf("GetBucketPolicy after restart: %v", err)
	}

	// Edit the stored document (allow unencrypted writes) behind the
	// store's back.
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(e.dir+"/"+MetaFile, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		t := tx.Bucket(tblPolicies)
		v := bytes.Clone(t.Get([]byte("bkt")))
		v = bytes.Replace(v, []byte(`oss:PutObject`), []byte(`oss:PutObjecX`), 1) // still parses, no longer guards
		return t.Put([]byte("bkt"), v)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(bg, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	if !e.s.PolicyDenies(PolicyRequest{Op: "GetObject", Principal: root, Bucket: "bkt", Key: "k", SSEAlgorithm: AlgorithmAES256}) {
		t.Fatal("an edited policy record did not fail closed")
	}
	if e.s.PolicyDenies(PolicyRequest{Op: "DeleteBucketPolicy", Principal: root, Bucket: "bkt"}) {
		t.Fatal("the owner cannot remove an unreadable policy")
	}
	_, err = e.s.GetBucketPolicy(bg, root, "bkt")
	wantKind(t, err, KindIntegrity)
	if err := e.s.DeleteBucketPolicy(bg, root, "bkt"); err != nil {
		t.Fatal(err)
	}
	if e.s.PolicyDenies(unencrypted) {
		t.Fatal("denied after DeleteBucketPolicy")
	}

	// DeleteBucket takes the policy with it.
	if err := e.s.PutBucketPolicy(bg, root, "bkt", pol); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteBucket(bg, root, "bkt"); err != nil {
		t.Fatal(err)
	}
	mustBucket(t, e.s, "bkt", nil)
	if e.s.PolicyDenies(unencrypted) {
		t.Fatal("a recreated bucket inherited the deleted bucket's policy")
	}
	_, err = e.s.GetBucketPolicy(bg, root, "bkt")
	wantKind(t, err, KindNoSuchBucketPolicy)
	e.reopen(t)
	_, err = e.s.GetBucketPolicy(bg, root, "bkt")
	wantKind(t, err, KindNoSuchBucketPolicy)
}

// TestAppendObjectStore: appends survive a restart and read back as the
// concatenation; every append is its own stream part under the object's
// one data key; in an Enabled bucket appends keep one version id and a
// PutObject retires the appendable version, which then takes no appends.
func TestAppendObjectStore(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", &EncryptionRule{Algorithm: AlgorithmKMS})
	if err := e.s.PutBucketVersioning(bg, root, "bkt", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	var want []byte
	var vid string
	for i, p := range [][]byte{pattern(100000, 1), pattern(7, 2), pattern(70000, 3)} {
		info, err := e.s.AppendObject(bg, root, "bkt", "k", int64(len(want)), bytes.NewReader(p), int64(len(p)), PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p...)
		if i == 0 {
			vid = info.VersionID
		}
		if info.VersionID != vid || vid == "" || info.SSE.Algorithm != AlgorithmKMS || !info.Appendable {
			t.Fatalf("append %d: %+v", i, info)
		}
	}
	e.reopen(t)
	if got := get(t, e.s, "bkt", "k"); !bytes.Equal(got, want) {
		t.Fatal("appends did not read back after a restart")
	}
	// A range across the appends decrypts only what it needs.
	got, err := readRange(e.s, root, "bkt", "k", 99990, 20)
	if err != nil || !bytes.Equal(got, want[99990:100010]) {
		t.Fatalf("range across appends: %v", err)
	}
	ar, err := e.s.AtRest(bg, "bkt", "k")
	if err != nil || len(ar.DataFiles) != 3 || !ar.Encrypted {
		t.Fatalf("at rest: %v %d files", err, len(ar.DataFiles))
	}
	put(t, e.s, "bkt", "k", []byte("normal"), PutOptions{})
	_, err = e.s.AppendObject(bg, root, "bkt", "k", 6, strings.NewReader("x"), 1, PutOptions{})
	wantKind(t, err, KindObjectNotAppendable)
	old, err := e.s.OpenObjectVersion(bg, root, "bkt", "k", vid)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if !old.Info().Appendable || old.Info().Size != int64(len(want)) {
		t.Fatalf("retired appendable version: %+v", old.Info())
	}
}

// TestAppendSwappedFiles: two appends of one object are different stream
// parts, so their data files swapped on disk fail authentication instead
// of reading back reordered.
func TestAppendSwappedFiles(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", &EncryptionRule{Algorithm: AlgorithmAES256})
	a, b := pattern(1000, 1), pattern(1000, 2)
	for i, p := range [][]byte{a, b} {
		if _, err := e.s.AppendObject(bg, root, "bkt", "k", int64(i*1000), bytes.NewReader(p), 1000, PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ar, err := e.s.AtRest(bg, "bkt", "k")
	if err != nil {
		t.Fatal(err)
	}
	f0, err := os.ReadFile(ar.DataFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	f1, err := os.ReadFile(ar.DataFiles[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ar.DataFiles[0], f1, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ar.DataFiles[1], f0, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = readRange(e.s, root, "bkt", "k", 0, 2000)
	wantKind(t, err, KindDecryptFailed)
}
