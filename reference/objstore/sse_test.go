package objstore

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/kms"
)

func record(t testing.TB, s *DiskStore, bucket, key string) envelope.Record {
	t.Helper()
	rest, err := s.AtRest(bg, bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	if rest.Record == nil {
		t.Fatalf("%s/%s has no envelope record", bucket, key)
	}
	r, err := envelope.ParseRecord(rest.Record)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRuleValidation(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "rules", nil)
	cases := []struct {
		name string
		rule EncryptionRule
		want Kind // KindInternal = accepted
	}{
		{"AES256", EncryptionRule{Algorithm: AlgorithmAES256}, KindInternal},
		{"KMS default key", EncryptionRule{Algorithm: AlgorithmKMS}, KindInternal},
		{"KMS with a key that does not exist (not checked)", EncryptionRule{Algorithm: AlgorithmKMS, KMSMasterKeyID: "no-such-key"}, KindInternal},
		{"SM4", EncryptionRule{Algorithm: AlgorithmSM4}, KindInvalidEncryptionAlgorithm},
		{"unknown", EncryptionRule{Algorithm: "random"}, KindInvalidEncryptionAlgorithm},
		{"lower case", EncryptionRule{Algorithm: "aes256"}, KindInvalidEncryptionAlgorithm},
		{"empty", EncryptionRule{}, KindInvalidEncryptionAlgorithm},
		{"KMS data encryption SM4", EncryptionRule{Algorithm: AlgorithmKMS, KMSDataEncryption: "SM4"}, KindInvalidEncryptionAlgorithm},
		{"AES256 with key id", EncryptionRule{Algorithm: AlgorithmAES256, KMSMasterKeyID: "k"}, KindInvalidArgument},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := e.s.GetBucketEncryption(bg, root, "rules")
			err := e.s.PutBucketEncryption(bg, root, "rules", c.rule)
			bucket := "created-" + strconv.Itoa(i)
			rule := c.rule
			_, cerr := e.s.CreateBucket(bg, root, bucket, &rule)
			if c.want == KindInternal {
				if err != nil || cerr != nil {
					t.Fatalf("PutBucketEncryption: %v; CreateBucket: %v", err, cerr)
				}
				for _, b := range []string{"rules", bucket} {
					got, err := e.s.GetBucketEncryption(bg, root, b)
					if err != nil || got != c.rule {
						t.Fatalf("GetBucketEncryption(%s) = %+v, %v; want %+v", b, got, err, c.rule)
					}
				}
				return
			}
			wantKind(t, err, c.want)
			wantKind(t, cerr, c.want)
			if c.want == KindInvalidEncryptionAlgorithm && !strings.Contains(err.(*Error).Message, "Supported value: AES256/KMS") {
				t.Errorf("message %q does not name the supported values", err.(*Error).Message)
			}
			if c.want == KindInvalidArgument && err.(*Error).Message != "KMSMasterKeyID is not applicable if the default sse algorithm is not KMS" {
				t.Errorf("message %q", err.(*Error).Message)
			}
			after, _ := e.s.GetBucketEncryption(bg, root, "rules")
			if after != before {
				t.Fatalf("a refused rule changed the bucket: %+v -> %+v", before, after)
			}
			if _, err := e.s.GetBucket(bg, root, bucket); KindOf(err) != KindNoSuchBucket {
				t.Fatalf("a refused CreateBucket left bucket %s: %v", bucket, err)
			}
		})
	}
}

func TestRequestSSEValidation(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "req", nil)
	// A bucket whose stored rule is SM4 cannot exist (validated on the way
	// in); the request side is checked on every write operation.
	cases := []struct {
		name string
		sse  SSE
		want Kind
	}{
		{"SM4", SSE{Algorithm: AlgorithmSM4}, KindInvalidEncryptionAlgorithm},
		{"unknown", SSE{Algorithm: "aws:kms"}, KindInvalidEncryptionAlgorithm},
		{"data encryption with KMS", SSE{Algorithm: AlgorithmKMS, DataEncryption: "SM4"}, KindInvalidEncryptionAlgorithm},
		{"data encryption alone", SSE{DataEncryption: "SM4"}, KindInvalidEncryptionAlgorithm},
		{"AES256 with key id", SSE{Algorithm: AlgorithmAES256, KMSKeyID: "k"}, KindInvalidArgument},
		{"key id without algorithm", SSE{KMSKeyID: "k"}, KindInvalidArgument},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.s.PutObject(bg, root, "req", "k", strings.NewReader("x"), 1, PutOptions{SSE: c.sse})
			wantKind(t, err, c.want)
			_, err = e.s.CreateMultipartUpload(bg, root, "req", "k", PutOptions{SSE: c.sse})
			wantKind(t, err, c.want)
			put(t, e.s, "req", "src", []byte("x"), PutOptions{})
			_, err = e.s.CopyObject(bg, root, "req", "src", "req", "k", CopyOptions{Put: PutOptions{SSE: c.sse}})
			wantKind(t, err, c.want)
			if _, err := e.s.HeadObject(bg, root, "req", "k"); KindOf(err) != KindNoSuchKey {
				t.Fatalf("refused write is visible: %v", err)
			}
		})
	}
}

func TestEncryptionAtCreateBucket(t *testing.T) {
	e := newTestEnv(t)
	cmk := e.createKey(t)
	cases := []struct {
		bucket  string
		rule    *EncryptionRule
		wantAlg string
		wantKey func() string
	}{
		{"plain", nil, "", func() string { return "" }},
		{"sse-oss", &EncryptionRule{Algorithm: AlgorithmAES256}, AlgorithmAES256, func() string { return "" }},
		{"sse-kms-default", &EncryptionRule{Algorithm: AlgorithmKMS}, AlgorithmKMS, func() string { return e.serviceKeyID(t) }},
		{"sse-kms-cmk", &EncryptionRule{Algorithm: AlgorithmKMS, KMSMasterKeyID: cmk}, AlgorithmKMS, func() string { return cmk }},
		{"sse-kms-arn", &EncryptionRule{Algorithm: AlgorithmKMS, KMSMasterKeyID: "acs:kms:" + testRegion + ":" + kms.DefaultAccount + ":key/" + cmk}, AlgorithmKMS, func() string { return cmk }},
	}
	for _, c := range cases {
		t.Run(c.bucket, func(t *testing.T) {
			info, err := e.s.CreateBucket(bg, root, c.bucket, c.rule)
			if err != nil {
				t.Fatal(err)
			}
			if (info.Encryption == nil) != (c.rule == nil) || (c.rule != nil && *info.Encryption != *c.rule) {
				t.Fatalf("bucket rule = %+v, want %+v", info.Encryption, c.rule)
			}
			data := pattern(200_000, 1)
			got := put(t, e.s, c.bucket, "obj", data, PutOptions{ContentType: "text/plain"})
			want := SSE{Algorithm: c.wantAlg, KMSKeyID: c.wantKey()}
			if got.SSE != want {
				t.Fatalf("Put SSE = %+v, want %+v", got.SSE, want)
			}
			head, err := e.s.HeadObject(bg, root, c.bucket, "obj")
			if err != nil || head.SSE != want {
				t.Fatalf("Head SSE = %+v, %v; want %+v", head.SSE, err, want)
			}
			o, err := e.s.OpenObject(bg, root, c.bucket, "obj")
			if err != nil {
				t.Fatal(err)
			}
			if o.Info().SSE != want {
				t.Fatalf("Open SSE = %+v", o.Info().SSE)
			}
			o.Close()
			if !bytes.Equal(get(t, e.s, c.bucket, "obj"), data) {
				t.Fatal("read back differs")
			}
			if got.ETag != md5hex(data) || got.Size != int64(len(data)) || got.Multipart {
				t.Fatalf("info = %+v", got)
			}
			rest := takeSnapshot(t, e.s, c.bucket, "obj")
			if rest.rest.Encrypted != (c.wantAlg != "") {
				t.Fatalf("AtRest.Encrypted = %v", rest.rest.Encrypted)
			}
			if c.wantAlg == "" {
				if !bytes.Equal(rest.files[0], data) || rest.rest.Record != nil {
					t.Fatal("unencrypted object not stored as is")
				}
				return
			}
			if bytes.Contains(rest.files[0], data[:64]) {
				t.Fatal("plaintext found at rest")
			}
			rec := record(t, e.s, c.bucket, "obj")
			if rec.Algorithm != c.wantAlg || rec.KeyID != want.KMSKeyID {
				t.Fatalf("record %s/%s, want %s/%s", rec.Algorithm, rec.KeyID, c.wantAlg, want.KMSKeyID)
			}
		})
	}
}

func TestRequestOverridesDefault(t *testing.T) {
	e := newTestEnv(t)
	cmk := e.createKey(t)
	mustBucket(t, e.s, "kms-default", &EncryptionRule{Algorithm: AlgorithmKMS})
	mustBucket(t, e.s, "oss-default", &EncryptionRule{Algorithm: AlgorithmAES256})
	cases := []struct {
		bucket string
		req    SSE
		want   SSE
	}{
		{"kms-default", SSE{Algorithm: AlgorithmAES256}, SSE{Algorithm: AlgorithmAES256}},
		{"kms-default", SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}, SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}},
		{"oss-default", SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}, SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}},
		{"oss-default", SSE{Algorithm: AlgorithmKMS}, SSE{Algorithm: AlgorithmKMS, KMSKeyID: e.serviceKeyID(t)}},
	}
	for i, c := range cases {
		key := "o" + strconv.Itoa(i)
		data := pattern(1000, byte(i))
		for _, op := range []string{"put", "copy", "multipart"} {
			var got SSE
			switch op {
			case "put":
				got = put(t, e.s, c.bucket, key, data, PutOptions{SSE: c.req}).SSE
			case "copy":
				info, err := e.s.CopyObject(bg, root, c.bucket, key, c.bucket, key+"c", CopyOptions{Put: PutOptions{SSE: c.req}})
				if err != nil {
					t.Fatal(err)
				}
				got = info.SSE
			case "multipart":
				up, err := e.s.CreateMultipartUpload(bg, root, c.bucket, key+"m", PutOptions{SSE: c.req})
				if err != nil {
					t.Fatal(err)
				}
				got = up.SSE
			}
			if got != c.want {
				t.Errorf("%s in %s with %+v: SSE %+v, want %+v", op, c.bucket, c.req, got, c.want)
			}
		}
		if !bytes.Equal(get(t, e.s, c.bucket, key+"c"), data) {
			t.Errorf("copy %d reads back wrong", i)
		}
	}
}

// TestRuleChangesNeverTouchObjects: putting, switching and deleting a
// bucket's rule leaves every existing object's bytes at rest and metadata
// exactly as they were, and only new writes follow the new rule.
func TestRuleChangesNeverTouchObjects(t *testing.T) {
	e := newTestEnv(t)
	cmk := e.createKey(t)
	mustBucket(t, e.s, "bkt", nil)
	objs := map[string]PutOptions{
		"plain":  {},
		"oss":    {SSE: SSE{Algorithm: AlgorithmAES256}},
		"kms":    {SSE: SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}},
		"kmsdef": {SSE: SSE{Algorithm: AlgorithmKMS}, UserMetadata: map[string]string{"a": "bkt"}},
	}
	content := map[string][]byte{}
	for k, o := range objs {
		content[k] = pattern(150_000, byte(len(k)))
		put(t, e.s, "bkt", k, content[k], o)
	}
	snap := map[string]snapshot{}
	for k := range objs {
		snap[k] = takeSnapshot(t, e.s, "bkt", k)
	}
	steps := []struct {
		name    string
		apply   func() error
		wantNew SSE
	}{
		{"put KMS rule", func() error {
			return e.s.PutBucketEncryption(bg, root, "bkt", EncryptionRule{Algorithm: AlgorithmKMS, KMSMasterKeyID: cmk})
		}, SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}},
		{"switch to AES256", func() error {
			return e.s.PutBucketEncryption(bg, root, "bkt", EncryptionRule{Algorithm: AlgorithmAES256})
		}, SSE{Algorithm: AlgorithmAES256}},
		{"switch to KMS default key", func() error {
			return e.s.PutBucketEncryption(bg, root, "bkt", EncryptionRule{Algorithm: AlgorithmKMS})
		}, SSE{Algorithm: AlgorithmKMS, KMSKeyID: e.serviceKeyID(t)}},
		{"delete rule", func() error { return e.s.DeleteBucketEncryption(bg, root, "bkt") }, SSE{}},
	}
	for i, st := range steps {
		e.clk.Advance(1000)
		if err := st.apply(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for k := range objs {
			now := takeSnapshot(t, e.s, "bkt", k)
			if !equalSnapshots(snap[k], now) {
				t.Fatalf("%s changed existing object %s:\nbefore %+v\nafter  %+v", st.name, k, snap[k].info, now.info)
			}
			if !bytes.Equal(get(t, e.s, "bkt", k), content[k]) {
				t.Fatalf("%s: object %s no longer reads back", st.name, k)
			}
		}
		newKey := "new-" + strconv.Itoa(i)
		if got := put(t, e.s, "bkt", newKey, []byte("n"), PutOptions{}).SSE; got != st.wantNew {
			t.Fatalf("after %s a new object gets %+v, want %+v", st.name, got, st.wantNew)
		}
	}
	if _, err := e.s.GetBucketEncryption(bg, root, "bkt"); KindOf(err) != KindNoSuchEncryptionRule {
		t.Fatalf("GetBucketEncryption after delete: %v", err)
	}
}

func equalSnapshots(a, b snapshot) bool {
	if a.info.ETag != b.info.ETag || !a.info.LastModified.Equal(b.info.LastModified) || a.info.SSE != b.info.SSE ||
		a.info.Size != b.info.Size || a.info.CRC64 != b.info.CRC64 || a.info.ContentType != b.info.ContentType ||
		len(a.info.UserMetadata) != len(b.info.UserMetadata) || !bytes.Equal(a.rest.Record, b.rest.Record) ||
		len(a.files) != len(b.files) || strings.Join(a.rest.DataFiles, ",") != strings.Join(b.rest.DataFiles, ",") {
		return false
	}
	for k, v := range a.info.UserMetadata {
		if b.info.UserMetadata[k] != v {
			return false
		}
	}
	for i := range a.files {
		if !bytes.Equal(a.files[i], b.files[i]) {
			return false
		}
	}
	return true
}

func TestDefaultSSEConfig(t *testing.T) {
	e := newTestEnv(t, withDefaultSSE(&EncryptionRule{Algorithm: AlgorithmAES256}))
	mustBucket(t, e.s, "aws-like", nil)
	rule, err := e.s.GetBucketEncryption(bg, root, "aws-like")
	if err != nil || rule.Algorithm != AlgorithmAES256 {
		t.Fatalf("new bucket rule = %+v, %v", rule, err)
	}
	if err := e.s.PutBucketEncryption(bg, root, "aws-like", EncryptionRule{Algorithm: AlgorithmKMS}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteBucketEncryption(bg, root, "aws-like"); err != nil {
		t.Fatal(err)
	}
	rule, err = e.s.GetBucketEncryption(bg, root, "aws-like")
	if err != nil || rule.Algorithm != AlgorithmAES256 {
		t.Fatalf("rule after delete = %+v, %v; want the AES256 default", rule, err)
	}
	if got := put(t, e.s, "aws-like", "k", []byte("x"), PutOptions{}).SSE.Algorithm; got != AlgorithmAES256 {
		t.Fatalf("plain put got %q", got)
	}
	if _, err := Open(bg, Config{Dir: t.TempDir(), Region: testRegion, Envelope: e.env, DefaultSSE: &EncryptionRule{Algorithm: "SM4"}}); err == nil {
		t.Fatal("Open accepted an SM4 DefaultSSE")
	}
}

// TestCopyReencrypts covers re-encryption of existing objects by copying
// them onto themselves, and that a copy never inherits the source's SSE.
func TestCopyReencrypts(t *testing.T) {
	e := newTestEnv(t)
	cmk := e.createKey(t)
	mustBucket(t, e.s, "bkt", nil)
	data := pattern(300_000, 9)
	meta := map[string]string{"owner": "team-a"}
	put(t, e.s, "bkt", "doc", data, PutOptions{ContentType: "application/pdf", UserMetadata: meta})
	before := takeSnapshot(t, e.s, "bkt", "doc")

	// Enabling a rule does nothing to the object...
	if err := e.s.PutBucketEncryption(bg, root, "bkt", EncryptionRule{Algorithm: AlgorithmKMS, KMSMasterKeyID: cmk}); err != nil {
		t.Fatal(err)
	}
	if h, _ := e.s.HeadObject(bg, root, "bkt", "doc"); h.SSE != (SSE{}) {
		t.Fatalf("rule encrypted an existing object: %+v", h.SSE)
	}
	// ...copying it onto itself encrypts it under the rule.
	e.clk.Advance(5e9)
	info, err := e.s.CopyObject(bg, root, "bkt", "doc", "bkt", "doc", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.SSE != (SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}) || info.ETag != md5hex(data) ||
		info.ContentType != "application/pdf" || info.UserMetadata["owner"] != "team-a" || !info.LastModified.After(before.info.LastModified) {
		t.Fatalf("copy-in-place result %+v", info)
	}
	after := takeSnapshot(t, e.s, "bkt", "doc")
	if !after.rest.Encrypted || bytes.Contains(after.files[0], data[:100]) {
		t.Fatal("object not encrypted at rest after copy in place")
	}
	if _, err := os.Stat(before.rest.DataFiles[0]); !os.IsNotExist(err) {
		t.Fatalf("plaintext data file of the replaced object still exists: %v", err)
	}
	if !bytes.Equal(get(t, e.s, "bkt", "doc"), data) {
		t.Fatal("content changed")
	}

	// Re-encrypt again with an explicit request SSE and REPLACE metadata.
	info, err = e.s.CopyObject(bg, root, "bkt", "doc", "bkt", "doc", CopyOptions{ReplaceMetadata: true,
		Put: PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}, ContentType: "text/x", UserMetadata: map[string]string{"New": "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if info.SSE != (SSE{Algorithm: AlgorithmAES256}) || info.ContentType != "text/x" || info.UserMetadata["new"] != "1" || info.UserMetadata["owner"] != "" {
		t.Fatalf("REPLACE copy = %+v", info)
	}

	// A copy to a bucket without a rule is unencrypted, whatever the source.
	mustBucket(t, e.s, "plain", nil)
	info, err = e.s.CopyObject(bg, root, "bkt", "doc", "plain", "doc", CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.SSE != (SSE{}) {
		t.Fatalf("copy inherited the source SSE: %+v", info.SSE)
	}
	if rest := takeSnapshot(t, e.s, "plain", "doc"); !bytes.Equal(rest.files[0], data) {
		t.Fatal("unencrypted copy not stored as plaintext")
	}
	_, err = e.s.CopyObject(bg, root, "bkt", "missing", "plain", "x", CopyOptions{})
	wantKind(t, err, KindNoSuchKey)
}

func TestKMSFailures(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", nil)
	sh := e.kms.Region("cn-shanghai")
	other, err := sh.CreateKey(bg, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	writeCases := []struct {
		name  string
		keyID string
		want  Kind
	}{
		{"unknown key id", "00000000-0000-4000-8000-000000000000", KindKMSKeyNotFound},
		{"unknown alias", "alias/nope", KindKMSKeyNotFound},
		{"another region's key id", other.KeyId, KindKMSKeyNotFound},
		{"another region's ARN", "acs:kms:cn-shanghai:" + kms.DefaultAccount + ":key/" + other.KeyId, KindKMSKeyNotFound},
		{"malformed ARN", "acs:kms:bad", KindKMSInvalidKeyID},
	}
	for _, c := range writeCases {
		t.Run("write/"+c.name, func(t *testing.T) {
			_, err := e.s.PutObject(bg, root, "bkt", "k", strings.NewReader("x"), 1, PutOptions{SSE: SSE{Algorithm: AlgorithmKMS, KMSKeyID: c.keyID}})
			wantKind(t, err, c.want)
			// The bucket rule takes any key id but the write fails the same way.
			if err := e.s.PutBucketEncryption(bg, root, "bkt", EncryptionRule{Algorithm: AlgorithmKMS, KMSMasterKeyID: c.keyID}); err != nil {
				t.Fatal(err)
			}
			_, err = e.s.PutObject(bg, root, "bkt", "k", strings.NewReader("x"), 1, PutOptions{})
			wantKind(t, err, c.want)
			_, err = e.s.CreateMultipartUpload(bg, root, "bkt", "k", PutOptions{})
			wantKind(t, err, c.want)
			if err := e.s.DeleteBucketEncryption(bg, root, "bkt"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.HeadObject(bg, root, "bkt", "k"); KindOf(err) != KindNoSuchKey {
				t.Fatalf("failed write is visible: %v", err)
			}
			if files := listFiles(t, e.dir+"/tmp"); len(files) != 0 {
				t.Fatalf("tmp not empty: %v", files)
			}
		})
	}

	stateCases := []struct {
		name    string
		disable func(id string) error
		enable  func(id string) error
		want    Kind
	}{
		{"disabled", func(id string) error { return e.hz.DisableKey(bg, id) }, func(id string) error { return e.hz.EnableKey(bg, id) }, KindKMSKeyDisabled},
		{"pending deletion", func(id string) error { return e.hz.ScheduleKeyDeletion(bg, id, 7) }, func(id string) error { return e.hz.CancelKeyDeletion(bg, id) }, KindKMSKeyPendingDeletion},
	}
	for _, c := range stateCases {
		t.Run("state/"+c.name, func(t *testing.T) {
			cmk := e.createKey(t)
			sse := SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}
			data := pattern(70_000, 3)
			put(t, e.s, "bkt", "sealed", data, PutOptions{SSE: sse})
			up, err := e.s.CreateMultipartUpload(bg, root, "bkt", "mp", PutOptions{SSE: sse})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.disable(cmk); err != nil {
				t.Fatal(err)
			}
			_, err = e.s.OpenObject(bg, root, "bkt", "sealed")
			wantKind(t, err, c.want)
			_, err = e.s.PutObject(bg, root, "bkt", "new", strings.NewReader("x"), 1, PutOptions{SSE: sse})
			wantKind(t, err, c.want)
			_, err = e.s.CopyObject(bg, root, "bkt", "sealed", "bkt", "copy", CopyOptions{})
			wantKind(t, err, c.want)
			_, _, err = e.s.UploadPart(bg, root, "bkt", "mp", up.UploadID, 1, strings.NewReader("x"), 1, PartOptions{})
			wantKind(t, err, c.want)
			if _, err := e.s.HeadObject(bg, root, "bkt", "sealed"); err != nil {
				t.Fatalf("HeadObject must not need KMS: %v", err)
			}
			wantKind(t, e.s.Rewrap(bg, "bkt", "sealed"), c.want)
			if err := c.enable(cmk); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(get(t, e.s, "bkt", "sealed"), data) {
				t.Fatal("object unreadable after the key was re-enabled")
			}
			if _, _, err := e.s.UploadPart(bg, root, "bkt", "mp", up.UploadID, 1, strings.NewReader("x"), 1, PartOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestKMSAccessDenied(t *testing.T) {
	e := newTestEnv(t)
	cmk := e.createKey(t)
	mustBucket(t, e.s, "bkt", &EncryptionRule{Algorithm: AlgorithmKMS, KMSMasterKeyID: cmk})
	data := pattern(5000, 4)
	put(t, e.s, "bkt", "secret", data, PutOptions{})
	put(t, e.s, "bkt", "oss", data, PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}})
	up, err := e.s.CreateMultipartUpload(bg, root, "bkt", "mp", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.authz.set(e.authz.noDecrypt, "bob/"+cmk, true)

	decrypts := e.audit.count("Decrypt")
	_, err = e.s.OpenObject(bg, bob, "bkt", "secret")
	wantKind(t, err, KindKMSAccessDenied)
	if err.(*Error).Message != "This request is forbidden by kms." {
		t.Fatalf("message %q", err.(*Error).Message)
	}
	_, err = e.s.CopyObject(bg, bob, "bkt", "secret", "bkt", "stolen", CopyOptions{Put: PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}}})
	wantKind(t, err, KindKMSAccessDenied)
	_, _, err = e.s.UploadPart(bg, bob, "bkt", "mp", up.UploadID, 1, strings.NewReader("x"), 1, PartOptions{})
	wantKind(t, err, KindKMSAccessDenied)
	if n := e.audit.count("Decrypt"); n != decrypts {
		t.Fatalf("KMS Decrypt was called %d times for a principal without decrypt permission", n-decrypts)
	}
	if _, err := e.s.HeadObject(bg, bob, "bkt", "secret"); err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	// The grant is per key: SSE-OSS objects and root are unaffected.
	if got, err := readRange(e.s, bob, "bkt", "oss", 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("bob reading the SSE-OSS object: %v", err)
	}
	if !bytes.Equal(get(t, e.s, "bkt", "secret"), data) {
		t.Fatal("root cannot read")
	}
	// Writing with the key needs no decrypt grant.
	if _, err := e.s.PutObject(bg, bob, "bkt", "bobs", strings.NewReader("x"), 1, PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestHeadNeverCallsKMS(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", &EncryptionRule{Algorithm: AlgorithmKMS})
	put(t, e.s, "bkt", "k", []byte("hello"), PutOptions{})
	before := e.audit.count("Decrypt") + e.audit.count("GenerateDataKey")
	for range 3 {
		if _, err := e.s.HeadObject(bg, root, "bkt", "k"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.ListObjects(bg, root, "bkt", ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if after := e.audit.count("Decrypt") + e.audit.count("GenerateDataKey"); after != before {
		t.Fatalf("HEAD/list called KMS %d times", after-before)
	}
	get(t, e.s, "bkt", "k")
	if e.audit.count("Decrypt") == 0 {
		t.Fatal("reading a KMS object did not call KMS Decrypt (audit check is broken)")
	}
}

func TestRotationKeepsObjectsReadable(t *testing.T) {
	e := newTestEnv(t)
	cmk := e.createKey(t)
	mustBucket(t, e.s, "bkt", nil)
	oldOSS, oldKMS := pattern(100_000, 5), pattern(100_000, 6)
	put(t, e.s, "bkt", "oss", oldOSS, PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}})
	put(t, e.s, "bkt", "kms", oldKMS, PutOptions{SSE: SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}})
	oss1, kms1 := record(t, e.s, "bkt", "oss"), record(t, e.s, "bkt", "kms")

	v2, err := e.ring.Rotate(bg)
	if err != nil {
		t.Fatal(err)
	}
	kv2, err := e.hz.CreateKeyVersion(bg, cmk)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(get(t, e.s, "bkt", "oss"), oldOSS) || !bytes.Equal(get(t, e.s, "bkt", "kms"), oldKMS) {
		t.Fatal("objects written before rotation no longer read back")
	}
	put(t, e.s, "bkt", "oss-new", []byte("n"), PutOptions{SSE: SSE{Algorithm: AlgorithmAES256}})
	put(t, e.s, "bkt", "kms-new", []byte("n"), PutOptions{SSE: SSE{Algorithm: AlgorithmKMS, KMSKeyID: cmk}})
	if r := record(t, e.s, "bkt", "oss-new"); r.KeyVersion != strconv.Itoa(int(v2)) || r.KeyVersion == oss1.KeyVersion {
		t.Fatalf("new SSE-OSS object sealed under version %s, want %d", r.KeyVersion, v2)
	}
	if r := record(t, e.s, "bkt", "kms-new"); r.KeyVersion != kv2.KeyVersionId || r.KeyVersion == kms1.KeyVersion {
		t.Fatalf("new SSE-KMS object sealed under %s, want %s", r.KeyVersion, kv2.KeyVersionId)
	}

	// Rewrap moves old objects to the new versions without touching data.
	for _, k := range []string{"oss", "kms"} {
		before := takeSnapshot(t, e.s, "bkt", k)
		if err := e.s.Rewrap(bg, "bkt", k); err != nil {
			t.Fatal(err)
		}
		after := takeSnapshot(t, e.s, "bkt", k)
		if bytes.Equal(before.rest.Record, after.rest.Record) {
			t.Fatalf("%s: Rewrap did not change the record", k)
		}
		if !bytes.Equal(before.files[0], after.files[0]) || before.info.ETag != after.info.ETag || before.info.SSE != after.info.SSE {
			t.Fatalf("%s: Rewrap changed the data or metadata", k)
		}
	}
	if r := record(t, e.s, "bkt", "oss"); r.KeyVersion != strconv.Itoa(int(v2)) {
		t.Fatalf("rewrapped SSE-OSS record names version %s", r.KeyVersion)
	}
	if r := record(t, e.s, "bkt", "kms"); r.KeyVersion != kv2.KeyVersionId || r.KeyID != cmk {
		t.Fatalf("rewrapped SSE-KMS record names %s/%s", r.KeyID, r.KeyVersion)
	}
	if !bytes.Equal(get(t, e.s, "bkt", "oss"), oldOSS) || !bytes.Equal(get(t, e.s, "bkt", "kms"), oldKMS) {
		t.Fatal("rewrapped objects do not read back")
	}
	put(t, e.s, "bkt", "plain", []byte("p"), PutOptions{})
	if err := e.s.Rewrap(bg, "bkt", "plain"); err != nil {
		t.Fatalf("Rewrap of an unencrypted object: %v", err)
	}
	wantKind(t, e.s.Rewrap(bg, "bkt", "missing"), KindNoSuchKey)
}

// TestTamperingIsDetected: ciphertext that was altered, or moved between
// objects, never decrypts; the error is KindDecryptFailed.
func TestTamperingIsDetected(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "bkt", &EncryptionRule{Algorithm: AlgorithmAES256})
	data := pattern(200_000, 8)
	put(t, e.s, "bkt", "one", data, PutOptions{})
	put(t, e.s, "bkt", "two", pattern(200_000, 9), PutOptions{})
	put(t, e.s, "bkt", "flip", data, PutOptions{})
	put(t, e.s, "bkt", "cut", data, PutOptions{})
	one, _ := e.s.AtRest(bg, "bkt", "one")
	two, _ := e.s.AtRest(bg, "bkt", "two")
	flip, _ := e.s.AtRest(bg, "bkt", "flip")
	cut, _ := e.s.AtRest(bg, "bkt", "cut")

	// Swap: "two"'s ciphertext placed under "one" (same size).
	b2, _ := os.ReadFile(two.DataFiles[0])
	if err := os.WriteFile(one.DataFiles[0], b2, 0o600); err != nil {
		t.Fatal(err)
	}
	// Flip one byte in the second chunk.
	bf, _ := os.ReadFile(flip.DataFiles[0])
	bf[100_000] ^= 1
	os.WriteFile(flip.DataFiles[0], bf, 0o600)
	// Truncate.
	os.Truncate(cut.DataFiles[0], 150_000)

	for _, k := range []string{"one", "flip", "cut"} {
		got, err := readRange(e.s, root, "bkt", k, 0, -1)
		wantKind(t, err, KindDecryptFailed)
		if k != "flip" && len(got) != 0 {
			t.Fatalf("%s: %d bytes returned", k, len(got))
		}
	}
	// The flipped object still serves ranges in untouched chunks, and
	// fails the range that covers the flipped chunk.
	if got, err := readRange(e.s, root, "bkt", "flip", 0, 1000); err != nil || !bytes.Equal(got, data[:1000]) {
		t.Fatalf("untouched chunk: %v", err)
	}
	_, err := readRange(e.s, root, "bkt", "flip", 99_000, 100)
	wantKind(t, err, KindDecryptFailed)
}
