package osshttp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// FuzzXMLBodies feeds every request-body parser arbitrary bytes: none may
// panic, and whatever they accept must satisfy their contract.
func FuzzXMLBodies(f *testing.F) {
	for _, s := range []string{
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>KMS</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`,
		`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSDataEncryption>SM4</KMSDataEncryption></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`,
		`<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>null</VersionId></Object></Delete>`,
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"A"</ETag></Part></CompleteMultipartUpload>`,
		`<CreateBucketConfiguration><StorageClass>Standard</StorageClass><DataRedundancyType>ZRS</DataRedundancyType></CreateBucketConfiguration>`,
		`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "zz">]><Delete><Object><Key>&e;</Key></Object></Delete>`,
		`<a><b><c>` + strings.Repeat("<d>", 100) + `</c></b></a>`,
		"\x00\xff<",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if rule, e := parseEncryptionRule(body); e == nil {
			switch rule.Algorithm {
			case objstore.AlgorithmAES256:
				if rule.KMSMasterKeyID != "" || rule.KMSDataEncryption != "" {
					t.Fatalf("AES256 rule with KMS fields: %+v", rule)
				}
			case objstore.AlgorithmKMS:
				if rule.KMSDataEncryption != "" {
					t.Fatalf("KMS rule with data encryption: %+v", rule)
				}
			default:
				t.Fatalf("accepted algorithm %q", rule.Algorithm)
			}
		} else if e.Status >= 500 {
			t.Fatal(e)
		}
		if keys, _, e := parseDeleteRequest(body); e == nil {
			if len(keys) == 0 || len(keys) > 1000 {
				t.Fatalf("%d keys accepted", len(keys))
			}
		} else if e.Status >= 500 {
			t.Fatal(e)
		}
		if parts, e := parseCompleteRequest(body); e == nil {
			for _, p := range parts {
				if p.PartNumber < 1 || p.PartNumber > MaxPartNumber {
					t.Fatalf("part number %d accepted", p.PartNumber)
				}
			}
		} else if e.Status >= 500 {
			t.Fatal(e)
		}
		if _, _, e := parseCreateBucketConfiguration(body); e != nil && e.Status >= 500 {
			t.Fatal(e)
		}
	})
}

// FuzzSSEHeaders checks the SSE header parser: only AES256 and KMS come
// out, a key id only with KMS, and every refusal is a 4xx.
func FuzzSSEHeaders(f *testing.F) {
	f.Add("AES256", "", "", uint8(1))
	f.Add("KMS", "key-1", "SM4", uint8(7))
	f.Add("SM4", "", "", uint8(1))
	f.Add("", "k", "", uint8(2))
	f.Add("KMS", "", "", uint8(3))
	f.Fuzz(func(t *testing.T, alg, keyID, dataEnc string, present uint8) {
		h := http.Header{}
		if present&1 != 0 {
			h.Add(hSSE, alg)
		}
		if present&2 != 0 {
			h.Add(hSSEKeyID, keyID)
		}
		if present&4 != 0 {
			h.Add(hSSEDataEnc, dataEnc)
		}
		if present&8 != 0 {
			h.Add(hSSE, alg)
		}
		got, e := parseSSEHeaders(h)
		if e != nil {
			if e.Status < 400 || e.Status >= 500 || e.Code == "" {
				t.Fatalf("refusal %+v", e)
			}
			return
		}
		if got.Present != (present&15 != 0) {
			t.Fatalf("Present = %v for %d", got.Present, present)
		}
		switch got.SSE.Algorithm {
		case "":
			if got.SSE.KMSKeyID != "" {
				t.Fatal("key id without algorithm")
			}
		case objstore.AlgorithmAES256:
			// A key id with AES256 is passed on: the store refuses it (the
			// one place that rule lives for both dialects).
		case objstore.AlgorithmKMS:
		default:
			t.Fatalf("algorithm %q", got.SSE.Algorithm)
		}
		if got.SSE.DataEncryption != "" {
			t.Fatal("data encryption accepted")
		}
	})
}

// FuzzRange checks that an accepted range lies inside the object.
func FuzzRange(f *testing.F) {
	f.Add("bytes=0-499", int64(1000), false)
	f.Add("bytes=-500", int64(1000), true)
	f.Add("bytes=500-,1-2", int64(10), true)
	f.Add("bytes=9223372036854775807-", int64(5), false)
	f.Fuzz(func(t *testing.T, hdr string, size int64, standard bool) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		r, e := parseRange(hdr, size, standard)
		if e != nil {
			if e.Status != http.StatusRequestedRangeNotSatisfiable || !standard {
				t.Fatalf("range error %+v (standard %v)", e, standard)
			}
			return
		}
		if r.partial && (r.start < 0 || r.end < r.start || r.end >= size) {
			t.Fatalf("range %+v outside %d", r, size)
		}
		if !r.partial && (r.start != 0 || r.end != size-1) {
			t.Fatalf("whole-object answer %+v for %d", r, size)
		}
	})
}

// FuzzSignatureParsers feeds both Authorization parsers garbage.
func FuzzSignatureParsers(f *testing.F) {
	f.Add("OSS ak:sig")
	f.Add("OSS4-HMAC-SHA256 Credential=AK/20260101/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=host,Signature=" + strings.Repeat("a", 64))
	f.Add("OSS4-HMAC-SHA256 Credential=,,,===")
	f.Add("OSS4-HMAC-SHA256 ")
	f.Fuzz(func(t *testing.T, s string) {
		if ak, sig, e := parseV1Authorization(s); e == nil {
			if ak == "" || sig == "" || strings.Contains(ak, ":") {
				t.Fatalf("accepted %q as %q:%q", s, ak, sig)
			}
		} else if e.Status != 400 {
			t.Fatal(e)
		}
		if a, e := parseV4Authorization(s); e == nil {
			if a.cred.accessKeyID == "" || !validHexSignature(a.signature) || a.cred.date == "" {
				t.Fatalf("accepted %q as %+v", s, a)
			}
		} else if e.Status != 400 {
			t.Fatal(e)
		}
		_, _ = parseV4Credential(s)
		_, _ = parseAdditionalHeaders(s)
		_ = canonicalQueryV4(s, "x-oss-signature")
	})
}

// FuzzHandler sends arbitrary requests — unsigned, and signed with the
// root key so they reach the operations — through the handler over the
// real store. Nothing may panic or answer 5xx, and every answer carries a
// request id.
func FuzzHandler(f *testing.F) {
	f.Add("GET", "/", "", "", "", []byte(nil), true)
	f.Add("PUT", "/fuzz/", "encryption", "", "", []byte("<ServerSideEncryptionRule/>"), true)
	f.Add("PUT", "/fuzz/k", "", "X-Oss-Server-Side-Encryption", "KMS", []byte("data"), true)
	f.Add("PUT", "/fuzz/k", "", "X-Oss-Server-Side-Encryption-Key-Id", "\x01", []byte("data"), true)
	f.Add("GET", "/fuzz/k", "", "Range", "bytes=-", []byte(nil), true)
	f.Add("POST", "/fuzz/k", "uploads", "Content-Type", "x", []byte(nil), true)
	f.Add("PUT", "/fuzz/k", "partNumber=1&uploadId=%00", "", "", []byte("x"), true)
	f.Add("POST", "/fuzz/", "delete", "Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==", []byte(""), true)
	f.Add("GET", "/fuzz/", "list-type=2&continuation-token=AAAA&max-keys=1", "", "", []byte(nil), true)
	f.Add("PUT", "/fuzz/c", "", "X-Oss-Copy-Source", "/fuzz/%2e%2e", []byte(nil), true)
	f.Add("GET", "/fuzz/../x", "acl", "Authorization", "OSS a:b", []byte(nil), false)
	f.Add("HEAD", "//", "", "", "", []byte(nil), true)
	f.Add("DELETE", "/fuzz/"+strings.Repeat("k", 2000), "", "", "", []byte(nil), true)
	e := newTestEnv(f)
	if _, err := e.store.CreateBucket(bg, rootPrincipal, "fuzz", nil); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, rawQuery, hname, hvalue string, body []byte, sign bool) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") || len(body) > 1<<16 {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", bytes.NewReader(body))
		req.Method = method
		req.URL = &url.URL{Path: path, RawQuery: rawQuery}
		req.RequestURI = path
		req.Host = "127.0.0.1"
		if hname != "" && validHeaderName(hname) {
			req.Header.Set(hname, hvalue)
		}
		if sign {
			req.Header.Set("Date", httpTime(time.Now()))
			res := resource{}
			if p := strings.TrimPrefix(path, "/"); p != "" {
				res.bucket, res.key, _ = strings.Cut(p, "/")
			}
			q, _ := url.ParseQuery(rawQuery)
			sts := stringToSignV1(req, req.Header.Get("Date"), canonicalResourceV1(res, q, signedUnion, nil))
			req.Header.Set("Authorization", "OSS "+rootAK+":"+signV1(rootSK, sts))
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code >= 500 && !(rec.Code == http.StatusNotImplemented && strings.Contains(rec.Body.String(), "<Code>NotImplemented</Code>")) {
			t.Fatalf("%s %s?%s (%s: %q): %d\n%s", method, path, rawQuery, hname, hvalue, rec.Code, rec.Body.String())
		}
		if !requestIDRE.MatchString(rec.Header().Get("X-Oss-Request-Id")) {
			t.Fatal("no request id")
		}
	})
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}
