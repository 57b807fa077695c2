package kmshttp

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	openapiutil "github.com/alibabacloud-go/openapi-util/service"
	"github.com/alibabacloud-go/tea/tea"
)

// trickyValues exercise every escaping rule of the canonicalizations.
var trickyValues = []string{
	"", "plain", "a b", "a+b", "a*b", "a~b", "a%7Eb", "a/b", "a=b&c", "ü-ß-漢字", `{"k":"v w","x":"*~+"}`,
	"line\nbreak", "tab\t", "quote\"'", "semi;colon", "#hash?q", "100%", "alias/acs/oss",
}

// TestRPCSignatureMatchesSDK compares the server's classic RPC signature with
// openapi-util's GetRPCSignature, which the SDK signs with.
func TestRPCSignatureMatchesSDK(t *testing.T) {
	for _, method := range []string{"GET", "POST"} {
		for i, v := range trickyValues {
			p := map[string]string{"Action": "Encrypt", "Tricky": v, "K*ey~": v + "x", "EncryptionContext": v}
			sdkParams := map[string]*string{}
			for k, val := range p {
				sdkParams[k] = tea.String(val)
			}
			want := tea.StringValue(openapiutil.GetRPCSignature(sdkParams, tea.String(method), tea.String("s3cr3t")))
			if got := rpcSign(rpcStringToSign(method, p), "s3cr3t"); got != want {
				t.Errorf("%s value %d %q: signature %s, SDK %s", method, i, v, got, want)
			}
		}
	}
}

// TestACS3SignatureMatchesSDK compares the server's ACS3-HMAC-SHA256
// signature with openapi-util's GetAuthorization.
func TestACS3SignatureMatchesSDK(t *testing.T) {
	payload := []byte("KeyId=k&Plaintext=aGk%3D")
	sum := sha256.Sum256(payload)
	hash := hex.EncodeToString(sum[:])
	for i, v := range trickyValues {
		query := map[string]string{"KeyId": v, "EncryptionContext": v, "A~*": "x", "Empty": ""}
		headers := map[string]string{
			"host": "127.0.0.1:9001", "x-acs-action": "Encrypt", "x-acs-version": APIVersion,
			"x-acs-date": "2026-01-02T03:04:05Z", "x-acs-signature-nonce": "n" + v,
			"x-acs-content-sha256": hash, "content-type": "application/x-www-form-urlencoded",
			"user-agent": "not signed", "accept": "application/json",
		}
		req := tea.NewRequest()
		req.Method, req.Pathname = tea.String("POST"), tea.String("/")
		for k, val := range query {
			req.Query[k] = tea.String(val)
		}
		for k, val := range headers {
			req.Headers[k] = tea.String(strings.TrimSpace(val))
		}
		authz := tea.StringValue(openapiutil.GetAuthorization(req, tea.String(schemeACS3), tea.String(hash), tea.String("AK"), tea.String("s3cr3t")))
		a, e := parseACS3Authorization(authz)
		if e != nil {
			t.Fatalf("parse %q: %v", authz, e)
		}
		values := map[string][]string{}
		for _, name := range a.signedHeaders {
			values[name] = []string{headers[name]}
		}
		got := acs3Sign(acs3StringToSign("POST", "/", query, a.signedHeaders, values, hash), "s3cr3t")
		if a.accessKeyID != "AK" || got != a.signature {
			t.Errorf("value %d %q: signature %s, SDK %s", i, v, got, a.signature)
		}
	}
}

// TestProtocolErrors sends raw requests and checks the code and status of
// each refusal.
func TestProtocolErrors(t *testing.T) {
	f := newFixture(t)
	now := f.srvClock.Now()
	signed := func(p map[string]string) string { return "/?" + rpcQuery("GET", p, testCred.AccessKeySecret, now) }
	cases := []struct {
		name, method, target string
		header               http.Header
		body                 string
		status               int
		code, mention        string
	}{
		{name: "unsigned", method: "GET", target: "/?Action=DescribeKey&Version=2016-01-20&KeyId=alias/acs/oss", status: 400, code: CodeIncompleteSignature},
		{name: "empty signature", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "Signature": ""}), status: 400, code: CodeMissingParameter, mention: "Signature"},
		{name: "malformed authorization", method: "GET", target: "/", header: http.Header{"Authorization": {"ACS3-HMAC-SHA256 junk"}}, status: 400, code: CodeIncompleteSignature},
		{name: "authorization and signature", method: "GET", target: signed(map[string]string{"Action": "ListKeys"}), header: http.Header{"Authorization": {"ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=00"}}, status: 400, code: CodeIncompleteSignature},
		{name: "other ACS3 algorithm", method: "GET", target: "/", header: http.Header{"Authorization": {"ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=00"}}, status: 400, code: CodeInvalidSignatureMethod},
		{name: "unsigned x-acs header", method: "GET", target: "/", header: http.Header{"Authorization": {"ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=00"}, "X-Acs-Action": {"ListKeys"}}, status: 400, code: CodeIncompleteSignature, mention: "x-acs-action"},
		{name: "HMAC-SHA256 RPC", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "SignatureMethod": "HMAC-SHA256"}), status: 400, code: CodeInvalidSignatureMethod},
		{name: "missing nonce", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "SignatureNonce": "-"}), status: 400, code: CodeMissingParameter, mention: "SignatureNonce"},
		{name: "STS token", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "SecurityToken": "t"}), status: 400, code: CodeUnsupportedParameter},
		{name: "bad timestamp", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "Timestamp": "2026-01-02 03:04:05"}), status: 400, code: CodeTimestampFormat},
		{name: "offset timestamp", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "Timestamp": now.Format("2006-01-02T15:04:05+00:00")}), status: 400, code: CodeTimestampFormat},
		{name: "missing action", method: "GET", target: signed(map[string]string{}), status: 400, code: CodeMissingParameter, mention: "Action"},
		{name: "unknown action", method: "GET", target: signed(map[string]string{"Action": "DeleteEverything"}), status: 404, code: CodeActionNotFound},
		{name: "missing version", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "Version": "-"}), status: 400, code: CodeMissingParameter, mention: "Version"},
		{name: "wrong version", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "Version": "2020-01-01"}), status: 400, code: CodeInvalidVersion},
		{name: "XML format", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "Format": "XML"}), status: 400, code: CodeInvalidFormat},
		{name: "other region", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "RegionId": "cn-beijing"}), status: 400, code: CodeInvalidParameter, mention: "RegionId"},
		{name: "dry run", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "DryRun": "true"}), status: 400, code: CodeUnsupportedParameter, mention: "DryRun"},
		{name: "missing KeyId", method: "GET", target: signed(map[string]string{"Action": "DescribeKey"}), status: 400, code: CodeMissingParameter, mention: "KeyId"},
		{name: "missing days", method: "GET", target: signed(map[string]string{"Action": "ScheduleKeyDeletion", "KeyId": "k"}), status: 400, code: CodeMissingParameter, mention: "PendingWindowInDays"},
		{name: "bad base64", method: "GET", target: signed(map[string]string{"Action": "Decrypt", "CiphertextBlob": "not base64!"}), status: 400, code: CodeInvalidParameter, mention: "CiphertextBlob"},
		{name: "bad plaintext", method: "GET", target: signed(map[string]string{"Action": "Encrypt", "KeyId": "alias/acs/oss", "Plaintext": "aGk"}), status: 400, code: CodeInvalidParameter, mention: "Plaintext"},
		{name: "bad context JSON", method: "GET", target: signed(map[string]string{"Action": "GenerateDataKey", "KeyId": "alias/acs/oss", "EncryptionContext": "{bad"}), status: 400, code: CodeInvalidParameter, mention: "EncryptionContext"},
		{name: "context with a number", method: "GET", target: signed(map[string]string{"Action": "GenerateDataKey", "KeyId": "alias/acs/oss", "EncryptionContext": `{"a":1}`}), status: 400, code: CodeInvalidParameter, mention: "EncryptionContext"},
		{name: "context not an object", method: "GET", target: signed(map[string]string{"Action": "GenerateDataKey", "KeyId": "alias/acs/oss", "EncryptionContext": `["a"]`}), status: 400, code: CodeInvalidParameter, mention: "EncryptionContext"},
		{name: "context trailing data", method: "GET", target: signed(map[string]string{"Action": "GenerateDataKey", "KeyId": "alias/acs/oss", "EncryptionContext": `{"a":"b"} {}`}), status: 400, code: CodeInvalidParameter, mention: "EncryptionContext"},
		{name: "NumberOfBytes not a number", method: "GET", target: signed(map[string]string{"Action": "GenerateDataKey", "KeyId": "alias/acs/oss", "NumberOfBytes": "32.0"}), status: 400, code: CodeInvalidParameter, mention: "NumberOfBytes"},
		{name: "NumberOfBytes too big for int32", method: "GET", target: signed(map[string]string{"Action": "GenerateDataKey", "KeyId": "alias/acs/oss", "NumberOfBytes": "99999999999"}), status: 400, code: CodeInvalidParameter, mention: "NumberOfBytes"},
		{name: "PageSize not a number", method: "GET", target: signed(map[string]string{"Action": "ListKeys", "PageSize": "ten"}), status: 400, code: CodeInvalidParameter, mention: "PageSize"},
		{name: "bool not a bool", method: "GET", target: signed(map[string]string{"Action": "UpdateRotationPolicy", "KeyId": "k", "EnableAutomaticRotation": "yes"}), status: 400, code: CodeInvalidParameter, mention: "EnableAutomaticRotation"},
		{name: "unsupported CreateKey parameter", method: "GET", target: signed(map[string]string{"Action": "CreateKey", "DKMSInstanceId": "kst-1"}), status: 400, code: CodeUnsupportedParameter, mention: "DKMSInstanceId"},
		{name: "duplicate parameter", method: "GET", target: signed(map[string]string{"Action": "ListKeys"}) + "&PageSize=1&PageSize=2", status: 400, code: CodeInvalidParameter, mention: "PageSize"},
		{name: "bad query escape", method: "GET", target: "/?Action=%zz", status: 400, code: CodeInvalidParameter},
		{name: "not a form body", method: "POST", target: signed(map[string]string{"Action": "ListKeys"}), header: http.Header{"Content-Type": {"application/json"}}, body: `{}`, status: 400, code: CodeInvalidParameter},
		{name: "PUT", method: "PUT", target: "/", status: 400, code: CodeUnsupportedHTTPMethod},
		{name: "other path", method: "GET", target: "/v1/keys", status: 404, code: CodeActionNotFound},
		{name: "body too large", method: "POST", target: "/", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: "a=" + strings.Repeat("x", DefaultMaxBodyBytes), status: 413, code: CodeRequestTooLarge},
		{name: "query too large", method: "GET", target: "/?a=" + strings.Repeat("x", DefaultMaxBodyBytes), status: 413, code: CodeRequestTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := f.do(tc.method, tc.target, tc.header, []byte(tc.body))
			if got.status != tc.status || got.code() != tc.code {
				t.Fatalf("got %d %v, want %d %s", got.status, got.body, tc.status, tc.code)
			}
			msg, _ := got.body["Message"].(string)
			if tc.mention != "" && !strings.Contains(msg, tc.mention) {
				t.Fatalf("message %q does not name %s", msg, tc.mention)
			}
			id, _ := got.body["RequestId"].(string)
			if len(id) != 36 || got.header.Get("x-acs-request-id") != id {
				t.Fatalf("RequestId %q, header %q", id, got.header.Get("x-acs-request-id"))
			}
			if hs, _ := got.body["HttpStatus"].(float64); int(hs) != tc.status {
				t.Fatalf("HttpStatus %v", got.body["HttpStatus"])
			}
			if got.body["HostId"] == "" {
				t.Fatal("no HostId")
			}
		})
	}
}

// TestFormBody checks that parameters may come in a signed form body, as
// the SDK sends them for APIs with body parameters, in both modes.
func TestFormBody(t *testing.T) {
	f := newFixture(t)
	now := f.srvClock.Now()

	// Classic RPC: body parameters are part of the signed set.
	q := rpcQuery("POST", map[string]string{"Action": "DescribeKey", "KeyId": "alias/acs/oss"}, testCred.AccessKeySecret, now)
	vals, _ := url.ParseQuery(q)
	form := url.Values{"KeyId": {vals.Get("KeyId")}}
	vals.Del("KeyId")
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if got := f.do("POST", "/?"+vals.Encode(), hdr, []byte(form.Encode())); got.status != 200 || got.body["KeyMetadata"] == nil {
		t.Fatalf("RPC form body: %d %v", got.status, got.body)
	}
	// The same parameter in query and body is ambiguous.
	q = rpcQuery("POST", map[string]string{"Action": "DescribeKey", "KeyId": "alias/acs/oss"}, testCred.AccessKeySecret, now)
	if got := f.do("POST", "/?"+q, hdr, []byte("KeyId=x")); got.code() != CodeInvalidParameter {
		t.Fatalf("duplicate across query and body: %v", got.body)
	}

	// ACS3: the body is covered by x-acs-content-sha256.
	body := []byte("KeyId=alias%2Facs%2Foss")
	sum := sha256.Sum256(body)
	h := map[string]string{
		"host": strings.TrimPrefix(f.srv.URL, "http://"), "x-acs-action": "DescribeKey", "x-acs-version": APIVersion,
		"x-acs-date": now.Format(timestampLayout), "x-acs-signature-nonce": "nonce-form-1",
		"x-acs-content-sha256": hex.EncodeToString(sum[:]), "content-type": "application/x-www-form-urlencoded",
	}
	signedNames := []string{"content-type", "host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	values := map[string][]string{}
	hdr = http.Header{}
	for _, n := range signedNames {
		values[n] = []string{h[n]}
		hdr.Set(n, h[n])
	}
	sig := acs3Sign(acs3StringToSign("POST", "/", map[string]string{}, signedNames, values, h["x-acs-content-sha256"]), testCred.AccessKeySecret)
	hdr.Set("Authorization", schemeACS3+" Credential="+testCred.AccessKeyID+",SignedHeaders="+strings.Join(signedNames, ";")+",Signature="+sig)
	if got := f.do("POST", "/", hdr, body); got.status != 200 || got.body["KeyMetadata"] == nil {
		t.Fatalf("ACS3 form body: %d %v", got.status, got.body)
	}
	// A body that does not match its hash is refused.
	hdr.Set("x-acs-signature-nonce", "nonce-form-2")
	if got := f.do("POST", "/", hdr, []byte("KeyId=alias%2Facs%2Fxxx")); got.code() != CodeSignatureDoesNotMatch {
		t.Fatalf("tampered body: %v", got.body)
	}
}
