package osshttp

import (
	"bytes"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// forEachFlavor runs fn once per SDK flavor, each against a fresh server.
func forEachFlavor(t *testing.T, fn func(t *testing.T, e *testEnv, c sdkClient)) {
	for _, f := range flavors {
		t.Run(f.name, func(t *testing.T) {
			e := newTestEnv(t)
			fn(t, e, f.mk(e, rootAK, rootSK))
		})
	}
}

func sseHdr(alg, keyID string) map[string]string {
	h := map[string]string{"x-oss-server-side-encryption": alg}
	if keyID != "" {
		h["x-oss-server-side-encryption-key-id"] = keyID
	}
	return h
}

// wantSSE checks the SSE response headers: alg "" means none.
func wantSSE(t testing.TB, what string, h http.Header, alg, keyID string) {
	t.Helper()
	if got := h.Get("X-Oss-Server-Side-Encryption"); got != alg {
		t.Fatalf("%s: x-oss-server-side-encryption = %q, want %q", what, got, alg)
	}
	if got := h.Get("X-Oss-Server-Side-Encryption-Key-Id"); got != keyID {
		t.Fatalf("%s: x-oss-server-side-encryption-key-id = %q, want %q", what, got, keyID)
	}
	if got := h.Get("X-Oss-Server-Side-Data-Encryption"); got != "" {
		t.Fatalf("%s: x-oss-server-side-data-encryption = %q, want none", what, got)
	}
}

func TestBucketOperations(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "bucket-ops"
		must(t, c.CreateBucket(b, nil))
		// The addressing style really is the flavor's.
		vhost := e.sawHost(b + ".localhost:" + e.port)
		if vhost != strings.Contains(t.Name(), "vhost") {
			t.Fatalf("virtual-hosted request seen: %v", vhost)
		}
		wantErr(t, c.CreateBucket(b, nil), 409, CodeBucketAlreadyExists)

		loc, err := c.GetBucketLocation(b)
		must(t, err)
		if loc != "oss-cn-hangzhou" {
			t.Fatalf("location %q", loc)
		}
		info, err := c.GetBucketInfo(b)
		must(t, err)
		// The endpoints are the one the client used, never a real
		// Alibaba Cloud host (clients follow them).
		endpoint := e.addr
		if !strings.Contains(t.Name(), "ip-path") {
			endpoint = "localhost:" + e.port
		}
		if info.name != b || info.location != "oss-cn-hangzhou" || info.extranet != endpoint ||
			info.intranet != endpoint || info.sseAlg != "" || info.kmsKey != "" || info.versioning != "" ||
			info.storageClass != "Standard" || (c.Name() == "v2" && (info.resourceGroup == "" || info.blockPublic == nil || *info.blockPublic)) ||
			time.Since(info.created) > time.Hour {
			t.Fatalf("bucket info %+v", info)
		}

		list, err := c.ListBuckets("bucket-")
		must(t, err)
		if len(list) != 1 || list[0].name != b || list[0].location != "oss-cn-hangzhou" || list[0].region != testRegion ||
			time.Since(list[0].created) > time.Hour {
			t.Fatalf("ListBuckets %+v", list)
		}
		if c.Name() == "v2" && (list[0].extranet != endpoint || list[0].intranet != endpoint) {
			t.Fatalf("ListBuckets endpoints %+v", list[0])
		}
		if list, err := c.ListBuckets("nomatch"); err != nil || len(list) != 0 {
			t.Fatalf("ListBuckets(nomatch) = %v, %v", list, err)
		}

		_, err = c.PutObject(b, "o", []byte("x"), nil)
		must(t, err)
		wantErr(t, c.DeleteBucket(b), 409, CodeBucketNotEmpty)
		must(t, c.DeleteObject(b, "o"))
		must(t, c.DeleteBucket(b))
		_, err = c.GetBucketInfo(b)
		wantErr(t, err, 404, CodeNoSuchBucket)
		wantErr(t, c.DeleteBucket(b), 404, CodeNoSuchBucket)
		_, err = c.PutObject(b, "o", []byte("x"), nil)
		wantErr(t, err, 404, CodeNoSuchBucket)

		// GetBucketInfo reports the versioning state (none until set).
		const vb = "bucket-versioned"
		must(t, c.CreateBucket(vb, nil))
		vc := versionsOf(c)
		for _, st := range []string{"Enabled", "Suspended"} {
			must(t, vc.PutVersioning(vb, st))
			info, err := c.GetBucketInfo(vb)
			must(t, err)
			if info.versioning != st {
				t.Fatalf("GetBucketInfo after versioning %s: Versioning %q", st, info.versioning)
			}
		}
	})
}

func TestBucketEncryptionAPI(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "enc-api"
		must(t, c.CreateBucket(b, nil))
		_, err := c.GetBucketEncryption(b)
		wantErr(t, err, 404, CodeNoSuchServerSideEncryptionRule)
		_, _, ec := svcErr(err)
		if ec != "0005-00000004" {
			t.Fatalf("EC %q", ec)
		}
		_, err = c.GetBucketEncryption("no-such-bucket")
		wantErr(t, err, 404, CodeNoSuchBucket)
		wantErr(t, c.PutBucketEncryption("no-such-bucket", encRule{alg: "AES256"}), 404, CodeNoSuchBucket)

		cmk := e.createKey()
		for _, tc := range []struct {
			rule   encRule
			status int
			code   string
		}{
			{encRule{alg: "SM4"}, 400, CodeInvalidEncryptionAlgorithm},
			{encRule{alg: "random"}, 400, CodeInvalidEncryptionAlgorithm},
			{encRule{alg: "aes256"}, 400, CodeInvalidEncryptionAlgorithm},
			{encRule{alg: "AES256", keyID: cmk}, 400, CodeInvalidArgument},
			{encRule{alg: "KMS", dataEnc: "SM4"}, 400, CodeInvalidEncryptionAlgorithm},
			{encRule{alg: "KMS", keyID: cmk, dataEnc: "abc"}, 400, CodeInvalidDataEncryptionAlgorithm},
		} {
			wantErr(t, c.PutBucketEncryption(b, tc.rule), tc.status, tc.code)
		}
		_, err = c.GetBucketEncryption(b)
		wantErr(t, err, 404, CodeNoSuchServerSideEncryptionRule)

		for _, r := range []encRule{{alg: "AES256"}, {alg: "KMS"}, {alg: "KMS", keyID: cmk}, {alg: "KMS", keyID: "unknown-key-123"}} {
			must(t, c.PutBucketEncryption(b, r))
			got, err := c.GetBucketEncryption(b)
			must(t, err)
			if got != r {
				t.Fatalf("GetBucketEncryption = %+v, want %+v", got, r)
			}
			info, err := c.GetBucketInfo(b)
			must(t, err)
			if info.sseAlg != r.alg || info.kmsKey != r.keyID {
				t.Fatalf("GetBucketInfo rule %q/%q, want %+v", info.sseAlg, info.kmsKey, r)
			}
		}
		// A missing key is accepted in the rule and refused when it is used.
		_, err = c.PutObject(b, "o", []byte("data"), nil)
		wantErr(t, err, 404, CodeKeyNotFound)

		// AES256 with KMSDataEncryption: OSS drops the data encryption.
		must(t, c.PutBucketEncryption(b, encRule{alg: "AES256", dataEnc: "SM4"}))
		if got, err := c.GetBucketEncryption(b); err != nil || got != (encRule{alg: "AES256"}) {
			t.Fatalf("GetBucketEncryption = %+v, %v", got, err)
		}

		must(t, c.DeleteBucketEncryption(b))
		_, err = c.GetBucketEncryption(b)
		wantErr(t, err, 404, CodeNoSuchServerSideEncryptionRule)
		info, err := c.GetBucketInfo(b)
		must(t, err)
		if info.sseAlg != "" {
			t.Fatalf("rule after delete: %+v", info)
		}
		must(t, c.DeleteBucketEncryption(b)) // idempotent, still 204
	})
}

func TestCreateBucketWithSSEHeaders(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		cmk := e.createKey()
		must(t, c.CreateBucket("hdr-aes", sseHdr("AES256", "")))
		must(t, c.CreateBucket("hdr-kms", sseHdr("KMS", cmk)))
		must(t, c.CreateBucket("hdr-kms-default", sseHdr("KMS", "")))
		for _, tc := range []struct {
			hdr  map[string]string
			code string
		}{
			{sseHdr("SM4", ""), CodeInvalidEncryptionAlgorithm},
			{sseHdr("bogus", ""), CodeInvalidEncryptionAlgorithm},
			{sseHdr("AES256", cmk), CodeInvalidArgument},
			{map[string]string{"x-oss-server-side-encryption": "KMS", "x-oss-server-side-data-encryption": "SM4"}, CodeInvalidEncryptionAlgorithm},
		} {
			wantErr(t, c.CreateBucket("hdr-bad", tc.hdr), 400, tc.code)
		}
		_, err := c.GetBucketInfo("hdr-bad")
		wantErr(t, err, 404, CodeNoSuchBucket)

		for _, tc := range []struct {
			bucket, alg, keyID, objKey string
		}{
			{"hdr-aes", "AES256", "", ""},
			{"hdr-kms", "KMS", cmk, cmk},
			{"hdr-kms-default", "KMS", "", e.serviceKeyID()},
		} {
			got, err := c.GetBucketEncryption(tc.bucket)
			must(t, err)
			if got != (encRule{alg: tc.alg, keyID: tc.keyID}) {
				t.Fatalf("%s: rule %+v", tc.bucket, got)
			}
			info, err := c.GetBucketInfo(tc.bucket)
			must(t, err)
			if info.sseAlg != tc.alg || info.kmsKey != tc.keyID {
				t.Fatalf("%s: bucket info %+v", tc.bucket, info)
			}
			// The rule applies to a write without SSE headers; the key id
			// reported is the resolved CMK.
			data := payload(3000, 1)
			h, err := c.PutObject(tc.bucket, "obj", data, nil)
			must(t, err)
			wantSSE(t, "put", h, tc.alg, tc.objKey)
			got2, h, err := c.GetObject(tc.bucket, "obj", nil)
			must(t, err)
			if !bytes.Equal(got2, data) {
				t.Fatal("content differs")
			}
			wantSSE(t, "get", h, tc.alg, tc.objKey)
			h, err = c.HeadObject(tc.bucket, "obj")
			must(t, err)
			wantSSE(t, "head", h, tc.alg, tc.objKey)
		}
	})
}

// TestEncryptionRuleChanges enables encryption on a bucket that already
// holds objects and checks every promise of the bucket default: existing
// objects untouched, new writes follow the rule, request headers win, and
// copy-in-place re-encrypts.
func TestEncryptionRuleChanges(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "rule-change"
		must(t, c.CreateBucket(b, nil))
		cmk, cmk2 := e.createKey(), e.createKey()
		plain := payload(5000, 2)
		_, err := c.PutObject(b, "old", plain, map[string]string{"x-oss-meta-color": "blue", "Content-Type": "text/plain"})
		must(t, err)
		before, err := c.HeadObject(b, "old")
		must(t, err)
		wantSSE(t, "old before", before, "", "")

		atRest, err := e.store.AtRest(bg, b, "old")
		must(t, err)
		storedBefore, err := e.store.HeadObject(bg, rootPrincipal, b, "old")
		must(t, err)
		must(t, c.PutBucketEncryption(b, encRule{alg: "KMS", keyID: cmk}))
		after, err := c.HeadObject(b, "old")
		must(t, err)
		// Not rewritten: same data file, still plaintext at rest, same
		// millisecond timestamp.
		atRest2, err := e.store.AtRest(bg, b, "old")
		must(t, err)
		storedAfter, err := e.store.HeadObject(bg, rootPrincipal, b, "old")
		must(t, err)
		if atRest2.Encrypted || !slices.Equal(atRest.DataFiles, atRest2.DataFiles) || !storedAfter.LastModified.Equal(storedBefore.LastModified) {
			t.Fatalf("the rule change touched the existing object: %+v -> %+v", atRest, atRest2)
		}
		for _, hname := range []string{"ETag", "Last-Modified", "Content-Length", "X-Oss-Hash-Crc64ecma"} {
			if before.Get(hname) != after.Get(hname) {
				t.Fatalf("%s changed: %q -> %q", hname, before.Get(hname), after.Get(hname))
			}
		}
		wantSSE(t, "old after rule", after, "", "")

		h, err := c.PutObject(b, "new-kms", payload(100, 3), nil)
		must(t, err)
		wantSSE(t, "new under KMS rule", h, "KMS", cmk)
		// Request headers override the default.
		h, err = c.PutObject(b, "new-aes", payload(100, 4), sseHdr("AES256", ""))
		must(t, err)
		wantSSE(t, "AES256 header on KMS bucket", h, "AES256", "")
		h, err = c.PutObject(b, "new-kms2", payload(100, 5), sseHdr("KMS", cmk2))
		must(t, err)
		wantSSE(t, "KMS key header on KMS bucket", h, "KMS", cmk2)

		// Switch the rule: nothing existing changes.
		must(t, c.PutBucketEncryption(b, encRule{alg: "AES256"}))
		h, err = c.HeadObject(b, "new-kms")
		must(t, err)
		wantSSE(t, "KMS object after AES rule", h, "KMS", cmk)
		h, err = c.PutObject(b, "new-aes-rule", payload(10, 6), nil)
		must(t, err)
		wantSSE(t, "new under AES rule", h, "AES256", "")
		h, err = c.PutObject(b, "kms-on-aes", payload(10, 7), sseHdr("KMS", cmk))
		must(t, err)
		wantSSE(t, "KMS header on AES bucket", h, "KMS", cmk)

		// Copy in place re-encrypts the old object under the current rule,
		// with the content unchanged.
		_, _, h, err = c.CopyObject(b, "old", "old", map[string]string{"x-oss-meta-color": "blue", "Content-Type": "text/plain"})
		must(t, err)
		wantSSE(t, "copy in place", h, "AES256", "")
		data, h, err := c.GetObject(b, "old", nil)
		must(t, err)
		if !bytes.Equal(data, plain) {
			t.Fatal("content changed by the in-place copy")
		}
		wantSSE(t, "old re-encrypted", h, "AES256", "")
		atRest3, err := e.store.AtRest(bg, b, "old")
		must(t, err)
		if !atRest3.Encrypted || len(atRest3.DataFiles) != 1 {
			t.Fatalf("after copy in place: %+v", atRest3)
		}
		if raw, err := os.ReadFile(atRest3.DataFiles[0]); err != nil || bytes.Contains(raw, plain[:64]) {
			t.Fatalf("copy in place left plaintext at rest (err %v)", err)
		}
		if h.Get("X-Oss-Meta-Color") != "blue" || h.Get("Content-Type") != "text/plain" || h.Get("ETag") != before.Get("ETag") {
			t.Fatalf("metadata after copy in place: %v", h)
		}
		// And to KMS with an explicit header.
		_, _, h, err = c.CopyObject(b, "old", "old", sseHdr("KMS", cmk2))
		must(t, err)
		wantSSE(t, "copy in place to KMS", h, "KMS", cmk2)
		if h, err = c.HeadObject(b, "old"); err != nil || h.Get("X-Oss-Meta-Color") != "blue" || h.Get("Content-Type") != "text/plain" {
			t.Fatalf("in-place copy with COPY keeps the metadata: %v %v", h, err)
		}
		// REPLACE in place takes the request's metadata only.
		_, _, _, err = c.CopyObject(b, "old", "old", map[string]string{"x-oss-metadata-directive": "REPLACE", "x-oss-meta-shape": "round"})
		must(t, err)
		if h, err = c.HeadObject(b, "old"); err != nil || h.Get("X-Oss-Meta-Color") != "" || h.Get("X-Oss-Meta-Shape") != "round" {
			t.Fatalf("in-place copy with REPLACE: %v %v", h, err)
		}
		wantSSE(t, "in-place REPLACE without SSE header, AES256 rule", h, "AES256", "")

		// Deleting the rule: new writes are plain again.
		must(t, c.DeleteBucketEncryption(b))
		h, err = c.PutObject(b, "plain-again", payload(10, 8), nil)
		must(t, err)
		wantSSE(t, "after rule deleted", h, "", "")
		h, err = c.HeadObject(b, "new-aes-rule")
		must(t, err)
		wantSSE(t, "AES object after rule deleted", h, "AES256", "")
	})
}

func TestObjectSSEHeaderErrors(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "sse-errors"
		must(t, c.CreateBucket(b, nil))
		cmk := e.createKey()
		_, err := c.PutObject(b, "src", []byte("source"), nil)
		must(t, err)
		cases := []struct {
			name   string
			hdr    map[string]string
			status int
			code   string
		}{
			{"SM4", sseHdr("SM4", ""), 400, CodeInvalidEncryptionAlgorithm},
			{"unknown", sseHdr("AES128", ""), 400, CodeInvalidEncryptionAlgorithm},
			{"lower-case", sseHdr("kms", ""), 400, CodeInvalidEncryptionAlgorithm},
			{"AES256+keyid", sseHdr("AES256", cmk), 400, CodeInvalidArgument},
			{"keyid-alone", map[string]string{"x-oss-server-side-encryption-key-id": cmk}, 400, CodeInvalidArgument},
			{"KMS+SM4", map[string]string{"x-oss-server-side-encryption": "KMS", "x-oss-server-side-data-encryption": "SM4"}, 400, CodeInvalidEncryptionAlgorithm},
			{"KMS+unknown-key", sseHdr("KMS", "00000000-0000-0000-0000-000000000000"), 404, CodeKeyNotFound},
			{"KMS+unknown-alias", sseHdr("KMS", "alias/nope"), 404, CodeAliasNotFound},
		}
		for _, tc := range cases {
			_, err := c.PutObject(b, "o-"+tc.name, []byte("x"), tc.hdr)
			wantErr(t, err, tc.status, tc.code)
			_, _, _, err = c.CopyObject(b, "src", "c-"+tc.name, tc.hdr)
			wantErr(t, err, tc.status, tc.code)
			_, _, err = c.InitiateMultipart(b, "m-"+tc.name, tc.hdr)
			wantErr(t, err, tc.status, tc.code)
			if _, err := c.HeadObject(b, "o-"+tc.name); err == nil {
				t.Fatalf("%s: object was created", tc.name)
			}
		}
		// AES256 or no algorithm with the data-encryption header: ignored,
		// as OSS ignores it.
		h, err := c.PutObject(b, "aes-sm4", []byte("x"), map[string]string{"x-oss-server-side-encryption": "AES256", "x-oss-server-side-data-encryption": "SM4"})
		must(t, err)
		wantSSE(t, "AES256+SM4 data", h, "AES256", "")
		// KMS without a key id uses alias/acs/oss and reports its key id.
		h, err = c.PutObject(b, "kms-default", []byte("x"), sseHdr("KMS", ""))
		must(t, err)
		wantSSE(t, "KMS default", h, "KMS", e.serviceKeyID())
		// An alias resolves to the key id.
		must(t, e.hz.CreateAlias(bg, "alias/osshttp-test", cmk))
		h, err = c.PutObject(b, "kms-alias", []byte("x"), sseHdr("KMS", "alias/osshttp-test"))
		must(t, err)
		wantSSE(t, "KMS alias", h, "KMS", cmk)
	})
}

func TestKMSKeyStates(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "kms-states"
		must(t, c.CreateBucket(b, nil))
		cmk := e.createKey()
		data := payload(70000, 9)
		_, err := c.PutObject(b, "k", data, sseHdr("KMS", cmk))
		must(t, err)

		must(t, e.hz.DisableKey(bg, cmk))
		_, _, err = c.GetObject(b, "k", nil)
		wantErr(t, err, 409, CodeKeyDisabled)
		_, _, ec := svcErr(err)
		if ec != "0005-00000214" {
			t.Fatalf("EC %q", ec)
		}
		_, _, err = c.GetObject(b, "k", map[string]string{"Range": "bytes=0-9"})
		wantErr(t, err, 409, CodeKeyDisabled)
		_, err = c.PutObject(b, "k2", data, sseHdr("KMS", cmk))
		wantErr(t, err, 409, CodeKeyDisabled)
		_, _, _, err = c.CopyObject(b, "k", "k3", nil)
		wantErr(t, err, 409, CodeKeyDisabled)
		// HEAD reads metadata only.
		h, err := c.HeadObject(b, "k")
		must(t, err)
		wantSSE(t, "head with disabled key", h, "KMS", cmk)

		must(t, e.hz.EnableKey(bg, cmk))
		got, _, err := c.GetObject(b, "k", nil)
		must(t, err)
		if !bytes.Equal(got, data) {
			t.Fatal("content after re-enable")
		}
		_, err = c.PutObject(b, "k2", data, sseHdr("KMS", cmk))
		must(t, err)

		must(t, e.hz.ScheduleKeyDeletion(bg, cmk, 7))
		_, _, err = c.GetObject(b, "k", nil)
		wantErr(t, err, 409, CodeKeyPendingDeletion)
		_, err = c.PutObject(b, "k4", data, sseHdr("KMS", cmk))
		wantErr(t, err, 409, CodeKeyPendingDeletion)
		must(t, e.hz.CancelKeyDeletion(bg, cmk))
		if _, _, err := c.GetObject(b, "k", nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestObjectCRUD(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "objects"
		must(t, c.CreateBucket(b, nil))
		keys := []string{"plain.txt", "dir/sub/a b+c%d.bin", "unicode/日本語 ключ", "~tilde!*'();:@&=$,?#[]", "trailing/"}
		for i, k := range keys {
			data := payload(1000*i+1, byte(i))
			hdr := map[string]string{"x-oss-meta-author": "tester", "x-oss-meta-n": "1", "Content-Type": "application/x-test",
				"Cache-Control": "no-cache", "Content-Disposition": "attachment"}
			h, err := c.PutObject(b, k, data, hdr)
			must(t, err)
			if h.Get("ETag") != etagOf(data) || h.Get("X-Oss-Hash-Crc64ecma") != crcOf(data) {
				t.Fatalf("%q: put headers %v", k, h)
			}
			if len(h.Get("X-Oss-Request-Id")) != 24 {
				t.Fatalf("request id %q", h.Get("X-Oss-Request-Id"))
			}
			got, h, err := c.GetObject(b, k, nil)
			must(t, err)
			if !bytes.Equal(got, data) {
				t.Fatalf("%q: content differs", k)
			}
			for name, want := range map[string]string{
				"ETag": etagOf(data), "X-Oss-Hash-Crc64ecma": crcOf(data), "Content-Length": itoa(len(data)),
				"Content-Type": "application/x-test", "X-Oss-Object-Type": "Normal", "X-Oss-Storage-Class": "Standard",
				"X-Oss-Meta-Author": "tester", "X-Oss-Meta-N": "1", "Cache-Control": "no-cache",
				"Content-Disposition": "attachment", "Server": "AliyunOSS",
			} {
				if h.Get(name) != want {
					t.Fatalf("%q: GET %s = %q, want %q", k, name, h.Get(name), want)
				}
			}
			if _, err := http.ParseTime(h.Get("Last-Modified")); err != nil {
				t.Fatalf("Last-Modified %q", h.Get("Last-Modified"))
			}
			hh, err := c.HeadObject(b, k)
			must(t, err)
			for _, name := range []string{"ETag", "X-Oss-Hash-Crc64ecma", "Content-Length", "Last-Modified", "X-Oss-Meta-Author", "Content-Type"} {
				if hh.Get(name) != h.Get(name) {
					t.Fatalf("%q: HEAD %s = %q, GET had %q", k, name, hh.Get(name), h.Get(name))
				}
			}
			mh, err := c.GetObjectMeta(b, k)
			must(t, err)
			if mh.Get("ETag") != etagOf(data) || mh.Get("Content-Length") != itoa(len(data)) || mh.Get("X-Oss-Hash-Crc64ecma") != crcOf(data) {
				t.Fatalf("%q: GetObjectMeta %v", k, mh)
			}
		}
		page, err := c.ListObjects(b, listOpts{})
		must(t, err)
		want := slices.Clone(keys)
		slices.Sort(want)
		if !slices.Equal(page.keys, want) {
			t.Fatalf("listed %q, want %q", page.keys, want)
		}
		for _, k := range keys {
			must(t, c.DeleteObject(b, k))
			_, _, err := c.GetObject(b, k, nil)
			wantErr(t, err, 404, CodeNoSuchKey)
			_, err = c.HeadObject(b, k)
			wantErr(t, err, 404, CodeNoSuchKey) // from x-oss-err
			_, err = c.GetObjectMeta(b, k)
			wantErr(t, err, 404, CodeNoSuchKey)
		}
		must(t, c.DeleteObject(b, "never-existed"))
		_, _, err = c.GetObject("no-such-bucket", "k", nil)
		wantErr(t, err, 404, CodeNoSuchBucket)
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestRange(t *testing.T) {
	data := payload(1000, 11)
	cases := []struct {
		rng, behavior string
		status        int // 200 whole, 206, 416
		start, end    int
	}{
		{"bytes=0-499", "", 206, 0, 499},
		{"bytes=500-999", "", 206, 500, 999},
		{"bytes=-500", "", 206, 500, 999},
		{"bytes=500-", "", 206, 500, 999},
		{"bytes=0-", "", 206, 0, 999},
		{"bytes=999-999", "", 206, 999, 999},
		{"bytes=0-1000", "", 200, 0, 999},
		{"bytes=1000-2000", "", 200, 0, 999},
		{"bytes=1000-", "", 200, 0, 999},
		{"bytes=-2000", "", 200, 0, 999},
		{"bytes=500-100", "", 200, 0, 999},
		{"bytes=0-9,20-29", "", 206, 0, 9},
		{"bytes=abc", "", 200, 0, 999},
		{"bytes=0-1000", "standard", 206, 0, 999},
		{"bytes=500-2000", "standard", 206, 500, 999},
		{"bytes=-2000", "standard", 206, 0, 999},
		{"bytes=1000-2000", "standard", 416, 0, 0},
		{"bytes=1000-", "standard", 416, 0, 0},
		{"bytes=-0", "standard", 416, 0, 0},
		{"bytes=0-9,20-29", "standard", 416, 0, 0},
		{"bytes=10-19", "standard", 206, 10, 19},
	}
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "ranges"
		must(t, c.CreateBucket(b, nil))
		for _, sse := range []map[string]string{nil, sseHdr("AES256", ""), sseHdr("KMS", "")} {
			_, err := c.PutObject(b, "r", data, sse)
			must(t, err)
			for _, tc := range cases {
				hdr := map[string]string{"Range": tc.rng}
				if tc.behavior != "" {
					hdr["x-oss-range-behavior"] = tc.behavior
				}
				got, h, err := c.GetObject(b, "r", hdr)
				if tc.status == 416 {
					wantErr(t, err, 416, CodeInvalidRange)
					continue
				}
				must(t, err)
				if !bytes.Equal(got, data[tc.start:tc.end+1]) {
					t.Fatalf("%s %s: got %d bytes, want [%d,%d]", tc.rng, tc.behavior, len(got), tc.start, tc.end)
				}
				cr := h.Get("Content-Range")
				if tc.status == 206 {
					if want := "bytes " + itoa(tc.start) + "-" + itoa(tc.end) + "/1000"; cr != want {
						t.Fatalf("%s: Content-Range %q, want %q", tc.rng, cr, want)
					}
				} else if cr != "" || h.Get("X-Oss-Hash-Crc64ecma") != crcOf(data) {
					t.Fatalf("%s: whole-object answer with Content-Range %q crc %q", tc.rng, cr, h.Get("X-Oss-Hash-Crc64ecma"))
				}
			}
		}
	})
}

func TestDeleteMultipleObjects(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "multi-delete"
		must(t, c.CreateBucket(b, nil))
		keys := []string{"a", "b/c d", "e+f%g", "ü/&<>\"'"}
		for _, k := range keys {
			_, err := c.PutObject(b, k, []byte(k), nil)
			must(t, err)
		}
		deleted, err := c.DeleteObjects(b, append(slices.Clone(keys[:2]), "missing"), false)
		must(t, err)
		slices.Sort(deleted)
		if !slices.Equal(deleted, []string{"a", "b/c d", "missing"}) {
			t.Fatalf("deleted %q", deleted)
		}
		deleted, err = c.DeleteObjects(b, keys[2:], true)
		must(t, err)
		if len(deleted) != 0 {
			t.Fatalf("quiet mode listed %q", deleted)
		}
		page, err := c.ListObjects(b, listOpts{})
		must(t, err)
		if len(page.keys) != 0 {
			t.Fatalf("left %q", page.keys)
		}
	})
}

func TestCopyObject(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		must(t, c.CreateBucket("copy-src", nil))
		must(t, c.CreateBucket("copy-dst", nil))
		cmk := e.createKey()
		data := payload(200000, 12)
		_, err := c.PutObject("copy-src", "s p+ace/src", data, map[string]string{"x-oss-meta-a": "1", "Content-Type": "image/png", "x-oss-server-side-encryption": "KMS", "x-oss-server-side-encryption-key-id": cmk})
		must(t, err)

		// COPY (default): metadata from the source, encryption not copied.
		etag, lm, h, err := c.CopyObject("copy-src", "s p+ace/src", "dst-copy", nil)
		must(t, err)
		if etag != etagOf(data) || time.Since(lm) > time.Hour || h.Get("X-Oss-Hash-Crc64ecma") != crcOf(data) {
			t.Fatalf("copy result %q %v %v", etag, lm, h)
		}
		wantSSE(t, "copy without headers", h, "", "")
		got, h, err := c.GetObject("copy-src", "dst-copy", nil)
		must(t, err)
		if !bytes.Equal(got, data) || h.Get("X-Oss-Meta-A") != "1" || h.Get("Content-Type") != "image/png" {
			t.Fatalf("COPY metadata %v", h)
		}
		wantSSE(t, "copied object", h, "", "")

		// REPLACE with new SSE.
		_, _, h, err = c.CopyObject("copy-src", "s p+ace/src", "dst-replace", map[string]string{
			"x-oss-metadata-directive": "REPLACE", "x-oss-meta-b": "2", "Content-Type": "text/csv", "x-oss-server-side-encryption": "AES256"})
		must(t, err)
		wantSSE(t, "copy REPLACE AES", h, "AES256", "")
		_, h, err = c.GetObject("copy-src", "dst-replace", nil)
		must(t, err)
		if h.Get("X-Oss-Meta-A") != "" || h.Get("X-Oss-Meta-B") != "2" || h.Get("Content-Type") != "text/csv" {
			t.Fatalf("REPLACE metadata %v", h)
		}
		wantErr(t, errOf(c.CopyObject("copy-src", "missing", "x", nil)), 404, CodeNoSuchKey)
		wantErr(t, errOf(c.CopyObject("copy-src", "s p+ace/src", "x", map[string]string{"x-oss-metadata-directive": "MOVE"})), 400, CodeInvalidArgument)

		// The destination bucket's default applies when no header is sent.
		must(t, c.PutBucketEncryption("copy-dst", encRule{alg: "KMS", keyID: cmk}))
		if v1, ok := c.(*v1Client); ok {
			src, err := v1.c.Bucket("copy-src")
			must(t, err)
			_, err = src.CopyObjectTo("copy-dst", "cross", "s p+ace/src")
			must(t, err)
		} else {
			v2 := c.(*v2Client)
			r, err := v2.c.CopyObject(bg, &oss2.CopyObjectRequest{Bucket: oss2.Ptr("copy-dst"), Key: oss2.Ptr("cross"), SourceBucket: oss2.Ptr("copy-src"), SourceKey: oss2.Ptr("s p+ace/src")})
			must(t, err)
			if r.ServerSideEncryption == nil || *r.ServerSideEncryption != "KMS" {
				t.Fatalf("cross-bucket copy SSE %v", r.ServerSideEncryption)
			}
		}
		got, h, err = c.GetObject("copy-dst", "cross", nil)
		must(t, err)
		if !bytes.Equal(got, data) {
			t.Fatal("cross-bucket content")
		}
		wantSSE(t, "cross-bucket copy under KMS rule", h, "KMS", cmk)
	})
}

func errOf(_ string, _ time.Time, _ http.Header, err error) error { return err }

func TestListObjects(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		const b = "listing"
		must(t, c.CreateBucket(b, nil))
		keys := []string{"a/1", "a/2", "a/b/3", "b+plus", "c d", "c%25", "d/ü", "e", "f/", "g?h"}
		for _, k := range keys {
			_, err := c.PutObject(b, k, []byte(k), nil)
			must(t, err)
		}
		// Delimiter.
		p, err := c.ListObjects(b, listOpts{delim: "/"})
		must(t, err)
		if !slices.Equal(p.keys, []string{"b+plus", "c d", "c%25", "e", "g?h"}) || !slices.Equal(p.prefixes, []string{"a/", "d/", "f/"}) {
			t.Fatalf("delimiter listing %q %q", p.keys, p.prefixes)
		}
		p, err = c.ListObjectsV2(b, listOpts{delim: "/", prefix: "a/"})
		must(t, err)
		if !slices.Equal(p.keys, []string{"a/1", "a/2"}) || !slices.Equal(p.prefixes, []string{"a/b/"}) {
			t.Fatalf("V2 prefix listing %q %q", p.keys, p.prefixes)
		}
		// Paging, V1 markers and V2 tokens.
		for _, v2 := range []bool{false, true} {
			var all []string
			o := listOpts{max: 3}
			for range 10 {
				var p listPage
				if v2 {
					p, err = c.ListObjectsV2(b, o)
				} else {
					p, err = c.ListObjects(b, o)
				}
				must(t, err)
				all = append(all, p.keys...)
				if !p.truncated {
					break
				}
				if v2 {
					o.token = p.next
				} else {
					o.marker = p.next
				}
			}
			if !slices.Equal(all, keys) {
				t.Fatalf("v2=%v paged listing %q", v2, all)
			}
		}
		p, err = c.ListObjectsV2(b, listOpts{startAfter: "c d"})
		must(t, err)
		if !slices.Equal(p.keys, keys[5:]) {
			t.Fatalf("start-after %q", p.keys)
		}
		for i, et := range p.etags {
			if et != etagOf([]byte(p.keys[i])) {
				t.Fatalf("listed ETag %q", et)
			}
		}
		_, err = c.ListObjects("no-such-bucket", listOpts{})
		wantErr(t, err, 404, CodeNoSuchBucket)
	})
}

func TestAccessDenied(t *testing.T) {
	forEachFlavor(t, func(t *testing.T, e *testEnv, c sdkClient) {
		must(t, c.CreateBucket("private", nil))
		_, err := c.PutObject("private", "o", []byte("x"), nil)
		must(t, err)
		var bob sdkClient
		for _, f := range flavors {
			if strings.HasPrefix(f.name, c.Name()) {
				bob = f.mk(e, bobAK, bobSK)
				break
			}
		}
		_, _, err = bob.GetObject("private", "o", nil)
		wantErr(t, err, 403, CodeAccessDenied)
		_, err = bob.PutObject("private", "o2", []byte("x"), nil)
		wantErr(t, err, 403, CodeAccessDenied)
		wantErr(t, bob.PutBucketEncryption("private", encRule{alg: "AES256"}), 403, CodeAccessDenied)
		if l, err := bob.ListBuckets(""); err != nil || len(l) != 0 {
			t.Fatalf("bob lists %v, %v", l, err)
		}
		// carol may read the bucket but not decrypt with KMS keys.
		var carol sdkClient
		for _, f := range flavors {
			if strings.HasPrefix(f.name, c.Name()) {
				carol = f.mk(e, carolAK, carolSK)
				break
			}
		}
		_, err = c.PutObject("private", "kms", []byte("secret"), sseHdr("KMS", ""))
		must(t, err)
		_, _, err = carol.GetObject("private", "kms", nil)
		wantErr(t, err, 403, CodeAccessDenied)
		if !strings.Contains(err.Error(), "This request is forbidden by kms.") {
			t.Fatalf("KMS denial message: %v", err)
		}
		if _, _, err := carol.GetObject("private", "o", nil); err != nil {
			t.Fatal(err)
		}
	})
}
