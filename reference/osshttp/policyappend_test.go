package osshttp

import (
	"bytes"
	"hash/crc64"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// TestOSSAppendObject: AppendObject through the v1 SDK, plain, SSE-OSS
// and SSE-KMS named on the first append only. Later appends inherit the
// encryption; one naming another algorithm or a KMS key id is refused;
// a wrong position is 409 PositionNotEqualToLength with
// x-oss-next-append-position; GET returns the concatenation; HEAD says
// Appendable; x-oss-hash-crc64ecma is the whole object's CRC (the SDK
// checks it against its own combination); and every append is encrypted
// at rest under the object's one data key.
func TestOSSAppendObject(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	const b = "appends"
	must(t, c.CreateBucket(b))
	bk, err := c.Bucket(b)
	must(t, err)
	for _, tc := range []struct {
		name, alg string
		other     string // another algorithm a later append may not name
	}{
		{"plain", "", "AES256"},
		{"sse-oss", "AES256", "KMS"},
		{"sse-kms", "KMS", "AES256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "log-" + tc.name
			parts := [][]byte{payload(70000, 1), []byte("second append"), payload(3, 9)}
			var want []byte
			var pos int64
			var crc uint64
			for i, p := range parts {
				opts := []oss1.Option{oss1.InitCRC(crc)}
				if i == 0 && tc.alg != "" {
					opts = append(opts, oss1.ServerSideEncryption(tc.alg))
				}
				var hdr http.Header
				opts = append(opts, oss1.GetResponseHeader(&hdr))
				next, err := bk.AppendObject(key, bytes.NewReader(p), pos, opts...)
				if err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
				want = append(want, p...)
				crc = crc64.Checksum(want, crcTable)
				if next != int64(len(want)) || hdr.Get(hNextAppendPosition) != strconv.Itoa(len(want)) {
					t.Fatalf("append %d: next position %d (%q), want %d", i, next, hdr.Get(hNextAppendPosition), len(want))
				}
				if hdr.Get(hCRC64) != strconv.FormatUint(crc, 10) {
					t.Fatalf("append %d: crc64 %s, want %d", i, hdr.Get(hCRC64), crc)
				}
				if hdr.Get(hSSE) != tc.alg {
					t.Fatalf("append %d: SSE header %q, want the first append's %q", i, hdr.Get(hSSE), tc.alg)
				}
				pos = next
			}
			meta, err := bk.GetObjectDetailedMeta(key)
			must(t, err)
			if meta.Get("X-Oss-Object-Type") != "Appendable" || meta.Get(hNextAppendPosition) != strconv.Itoa(len(want)) ||
				meta.Get(hSSE) != tc.alg {
				t.Fatalf("HEAD: type %q next %q sse %q", meta.Get("X-Oss-Object-Type"), meta.Get(hNextAppendPosition), meta.Get(hSSE))
			}
			if tc.alg == "KMS" && meta.Get(hSSEKeyID) != e.serviceKeyID() {
				t.Fatalf("HEAD: KMS key %q, want the service key", meta.Get(hSSEKeyID))
			}
			body, err := bk.GetObject(key)
			must(t, err)
			if got := readAll(t, body); !bytes.Equal(got, want) {
				t.Fatalf("GET returned %d bytes, want the %d appended", len(got), len(want))
			}
			// Wrong position: 409 with the length to append at.
			var hdr http.Header
			_, err = bk.AppendObject(key, strings.NewReader("x"), 1, oss1.GetResponseHeader(&hdr))
			wantErr(t, err, http.StatusConflict, CodePositionNotEqualToLength)
			if hdr.Get(hNextAppendPosition) != strconv.Itoa(len(want)) {
				t.Fatalf("PositionNotEqualToLength: x-oss-next-append-position %q, want %d", hdr.Get(hNextAppendPosition), len(want))
			}
			// Another encryption, or a KMS key id, is refused.
			_, err = bk.AppendObject(key, strings.NewReader("x"), pos, oss1.ServerSideEncryption(tc.other))
			wantErr(t, err, http.StatusBadRequest, CodeInvalidArgument)
			_, err = bk.AppendObject(key, strings.NewReader("x"), pos, oss1.ServerSideEncryption("KMS"), oss1.ServerSideEncryptionKeyID(e.createKey()))
			wantErr(t, err, http.StatusBadRequest, CodeInvalidArgument)
			// Naming the object's own algorithm again is fine.
			if tc.alg != "" {
				_, err = bk.AppendObject(key, strings.NewReader("!"), pos, oss1.ServerSideEncryption(tc.alg))
				must(t, err)
				want = append(want, '!')
				body, err := bk.GetObject(key)
				must(t, err)
				if got := readAll(t, body); !bytes.Equal(got, want) {
					t.Fatalf("GET after a same-algorithm append returned %d bytes, want %d", len(got), len(want))
				}
			}
			// At rest: one file per append, ciphertext when encrypted.
			ar, err := e.store.AtRest(bg, b, key)
			must(t, err)
			if ar.Encrypted != (tc.alg != "") || len(ar.DataFiles) < len(parts) {
				t.Fatalf("at rest: encrypted %v, %d files", ar.Encrypted, len(ar.DataFiles))
			}
			for i, f := range ar.DataFiles[:len(parts)] {
				raw, err := os.ReadFile(f)
				must(t, err)
				if plain := bytes.Contains(raw, parts[i]); plain == (tc.alg != "") {
					t.Fatalf("append %d at rest: plaintext found %v, encrypted %v", i, plain, tc.alg != "")
				}
			}
		})
	}
	// A first append with a KMS key id is refused too (OSS: appendable
	// objects cannot name a CMK).
	_, err = bk.AppendObject("named-key", strings.NewReader("x"), 0, oss1.ServerSideEncryption("KMS"), oss1.ServerSideEncryptionKeyID(e.createKey()))
	wantErr(t, err, http.StatusBadRequest, CodeInvalidArgument)
	// Position 0 on a new object only.
	_, err = bk.AppendObject("fresh", strings.NewReader("x"), 5)
	wantErr(t, err, http.StatusConflict, CodePositionNotEqualToLength)
}

// TestOSSAppendToNormalObject: an object PutObject wrote is not
// appendable (409 ObjectNotAppendable); PutObject over an appendable
// object makes it Normal.
func TestOSSAppendToNormalObject(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	must(t, c.CreateBucket("normal"))
	bk, err := c.Bucket("normal")
	must(t, err)
	must(t, bk.PutObject("k", strings.NewReader("put")))
	_, err = bk.AppendObject("k", strings.NewReader("more"), 3)
	wantErr(t, err, http.StatusConflict, CodeObjectNotAppendable)
	_, err = bk.AppendObject("a", strings.NewReader("app"), 0)
	must(t, err)
	must(t, bk.PutObject("a", strings.NewReader("replaced")))
	meta, err := bk.GetObjectDetailedMeta("a")
	must(t, err)
	if meta.Get("X-Oss-Object-Type") != "Normal" {
		t.Fatalf("PutObject over an appendable object: type %q", meta.Get("X-Oss-Object-Type"))
	}
	_, err = bk.AppendObject("a", strings.NewReader("x"), 8)
	wantErr(t, err, http.StatusConflict, CodeObjectNotAppendable)
}

// TestOSSBucketPolicy: SetBucketPolicy/GetBucketPolicy/DeleteBucketPolicy
// through the v1 SDK (the SDK's own test policy round-trips byte for
// byte); OSS's SSE guardrails deny PutObject and AppendObject without the
// header, with another algorithm or another key (403 AccessDenied);
// Principal "*" without Condition spares the owner; and
// acs:SecureTransport false denies every request over plain HTTP.
func TestOSSBucketPolicy(t *testing.T) {
	e := newTestEnv(t)
	root := newV1(e, e.srv.URL, rootAK, rootSK).c
	carol := newV1(e, e.srv.URL, carolAK, carolSK).c
	const b = "policed"
	must(t, root.CreateBucket(b))
	_, err := root.GetBucketPolicy(b)
	wantErr(t, err, http.StatusNotFound, CodeNoSuchBucketPolicy)

	// The v1 SDK's own TestBucketPolicy document, verbatim.
	sdkDoc := `
	{
		"Version":"1",
		"Statement":[
			{
				"Action":[
					"oss:GetObject",
					"oss:PutObject"
				],
				"Effect":"Deny",
				"Principal":"[123456790]",
				"Resource":["acs:oss:*:1234567890:*/*"]
			}
		]
	}`
	must(t, root.SetBucketPolicy(b, sdkDoc))
	got, err := root.GetBucketPolicy(b)
	must(t, err)
	if got != sdkDoc {
		t.Fatalf("GetBucketPolicy changed the document:\n%s", got)
	}
	// Its Version "2" twin is refused (the SDK's negative test).
	err = root.SetBucketPolicy(b, strings.Replace(sdkDoc, `"Version":"1"`, `"Version":"2"`, 1))
	wantErr(t, err, http.StatusBadRequest, CodeInvalidPolicyDocument)
	for name, doc := range map[string]string{
		"allow":    `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:policed/*"]}]}`,
		"operator": `{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:policed/*"],"Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8"]}}}]}`,
		"s3 key":   `{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:PutObject"],"Principal":["*"],"Resource":["acs:oss:*:*:policed/*"],"Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}`,
	} {
		err := root.SetBucketPolicy(b, doc)
		wantErr(t, err, http.StatusNotImplemented, CodeNotImplemented)
		if se, ok := err.(oss1.ServiceError); !ok || !strings.Contains(se.Message, "not supported") {
			t.Errorf("%s: the refusal does not name what is unsupported: %v", name, err)
		}
	}

	bk, err := root.Bucket(b)
	must(t, err)
	keyA, keyB := e.createKey(), e.createKey()
	guard := `{"Version":"1","Statement":[
	  {"Effect":"Deny","Action":["oss:PutObject"],"Principal":["*"],"Resource":["acs:oss:*:*:policed/*"],
	   "Condition":{"StringNotEquals":{"oss:x-oss-server-side-encryption":["KMS"]}}},
	  {"Effect":"Deny","Action":["oss:PutObject"],"Principal":["*"],"Resource":["acs:oss:*:*:policed/*"],
	   "Condition":{"StringNotEquals":{"oss:x-oss-server-side-encryption-key-id":["` + keyA + `"]}}}]}`
	must(t, root.SetBucketPolicy(b, guard))
	for _, tc := range []struct {
		name   string
		opts   []oss1.Option
		denied bool
	}{
		{"none", nil, true},
		{"aes256", []oss1.Option{oss1.ServerSideEncryption("AES256")}, true},
		{"kms-default", []oss1.Option{oss1.ServerSideEncryption("KMS")}, true},
		{"kms-other", []oss1.Option{oss1.ServerSideEncryption("KMS"), oss1.ServerSideEncryptionKeyID(keyB)}, true},
		{"kms-right", []oss1.Option{oss1.ServerSideEncryption("KMS"), oss1.ServerSideEncryptionKeyID(keyA)}, false},
	} {
		err := bk.PutObject("o-"+tc.name, strings.NewReader("guarded"), tc.opts...)
		if tc.denied {
			wantErr(t, err, http.StatusForbidden, CodeAccessDenied)
			if _, herr := bk.GetObjectDetailedMeta("o-" + tc.name); herr == nil {
				t.Errorf("%s: a denied PutObject stored the object", tc.name)
			}
		} else {
			must(t, err)
		}
	}
	// AppendObject is oss:PutObject: without the header it is denied.
	_, err = bk.AppendObject("app", strings.NewReader("x"), 0)
	wantErr(t, err, http.StatusForbidden, CodeAccessDenied)

	// Principal "*" without Condition: the owner is spared, others not.
	must(t, root.SetBucketPolicy(b, `{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:*:policed/*"]}]}`))
	if _, err := bk.GetObject("o-kms-right"); err != nil {
		t.Fatalf("owner GET under Principal * without Condition: %v", err)
	}
	cb, err := carol.Bucket(b)
	must(t, err)
	_, err = cb.GetObject("o-kms-right")
	wantErr(t, err, http.StatusForbidden, CodeAccessDenied)

	// TLS only: over plain HTTP everything is denied, the policy's own
	// removal included; the operator removes it through the store.
	must(t, root.SetBucketPolicy(b, `{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:*"],"Principal":["*"],"Resource":["acs:oss:*:*:policed","acs:oss:*:*:policed/*"],"Condition":{"Bool":{"acs:SecureTransport":["false"]}}}]}`))
	_, err = bk.GetObject("o-kms-right")
	wantErr(t, err, http.StatusForbidden, CodeAccessDenied)
	_, err = bk.ListObjects()
	wantErr(t, err, http.StatusForbidden, CodeAccessDenied)
	err = root.DeleteBucketPolicy(b)
	wantErr(t, err, http.StatusForbidden, CodeAccessDenied)
	must(t, e.store.DeleteBucketPolicy(bg, rootPrincipal, b))
	if _, err := bk.GetObject("o-kms-right"); err != nil {
		t.Fatalf("after the policy's removal: %v", err)
	}
	must(t, root.DeleteBucketPolicy(b)) // none left: still 204
}

// TestOSSVersioningAppendObject is the v1 SDK's own
// TestVersioningAppendObject: in an Enabled bucket appends keep one
// version id, a delete marker hides the object, a new append at 0
// creates a new appendable version, and removing the marker leaves that
// one current.
func TestOSSVersioningAppendObject(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	const b = "versioned-appends"
	must(t, c.CreateBucket(b))
	must(t, c.SetBucketVersioning(b, oss1.VersioningConfig{Status: string(oss1.VersionEnabled)}))
	bk, err := c.Bucket(b)
	must(t, err)
	var hdr http.Header
	next, err := bk.AppendObject("k", strings.NewReader("123"), 0, oss1.GetResponseHeader(&hdr))
	must(t, err)
	first := oss1.GetVersionId(hdr)
	_, err = bk.AppendObject("k", strings.NewReader("456"), next, oss1.GetResponseHeader(&hdr))
	must(t, err)
	if v := oss1.GetVersionId(hdr); v == oss1.NullVersion || v == "" || v != first {
		t.Fatalf("appends changed the version id: %q then %q", first, v)
	}
	must(t, bk.DeleteObject("k", oss1.GetResponseHeader(&hdr)))
	marker := oss1.GetVersionId(hdr)
	if _, err := bk.GetObject("k"); err == nil {
		t.Fatal("GET after the delete marker succeeded")
	}
	body, err := bk.GetObject("k", oss1.VersionId(first))
	must(t, err)
	if got := string(readAll(t, body)); got != "123456" {
		t.Fatalf("old appendable version: %q", got)
	}
	next, err = bk.AppendObject("k", strings.NewReader("789"), 0)
	must(t, err)
	must(t, bk.DeleteObject("k", oss1.VersionId(marker)))
	next, err = bk.AppendObject("k", strings.NewReader("789"), next)
	must(t, err)
	if next != 6 {
		t.Fatalf("next position %d, want 6", next)
	}
}
