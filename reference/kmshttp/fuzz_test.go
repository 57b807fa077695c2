package kmshttp

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/kms"
)

// fuzzNow is the fixed server time of the fuzz targets, so that seeds signed
// for it authenticate and reach the actions.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const fuzzHost = "127.0.0.1:9001"

// fuzzHandler is a fresh handler and emulator; panics inside the handler are
// recovered by it and reported through the log it writes to.
func fuzzHandler(t testing.TB) (http.Handler, *syncBuffer) {
	emu, err := kms.New(kms.Config{Clock: clock.NewFake(fuzzNow)})
	if err != nil {
		t.Fatal(err)
	}
	store, err := auth.NewStore(testCred)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	h, err := NewHandler(Config{Emulator: emu, Credentials: store, Clock: clock.NewFake(fuzzNow),
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return h, logs
}

// checkAnswer is what every answer must satisfy, whatever the input.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, logs *syncBuffer) {
	t.Helper()
	if strings.Contains(logs.String(), `"msg":"kms handler panic"`) {
		t.Fatalf("handler panicked: %s", logs.String())
	}
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("answer is not JSON: %q", rec.Body.String())
	}
	if id, _ := body["RequestId"].(string); id == "" || rec.Header().Get("x-acs-request-id") != id {
		t.Fatalf("no RequestId: %q", rec.Body.String())
	}
	if code, _ := body["Code"].(string); rec.Code >= 400 && code == "" {
		t.Fatalf("error without Code: %q", rec.Body.String())
	}
}

func rawRequest(t testing.TB, req *http.Request) []byte {
	b, err := httputil.DumpRequest(req, true)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzHandler feeds raw HTTP requests to the handler.
func FuzzHandler(f *testing.F) {
	add := func(method, query string, header http.Header, body string) {
		req, err := http.NewRequest(method, "http://"+fuzzHost+"/?"+query, strings.NewReader(body))
		if err != nil {
			f.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		f.Add(rawRequest(f, req))
	}
	add("GET", rpcQuery("GET", map[string]string{"Action": "DescribeKey", "KeyId": "alias/acs/oss"}, testCred.AccessKeySecret, fuzzNow), nil, "")
	add("GET", rpcQuery("GET", map[string]string{"Action": "GenerateDataKey", "KeyId": "alias/acs/oss", "EncryptionContext": `{"a":"b"}`, "NumberOfBytes": "16"}, testCred.AccessKeySecret, fuzzNow), nil, "")
	add("POST", rpcQuery("POST", map[string]string{"Action": "CreateKey", "Description": "d"}, testCred.AccessKeySecret, fuzzNow),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "")
	add("POST", "Action=ListKeys", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "PageSize=%zz")
	add("GET", "", http.Header{"Authorization": {"ACS3-HMAC-SHA256 Credential=x,SignedHeaders=host;x-acs-date,Signature=ab"}}, "")

	// An ACS3 request signed for fuzzNow.
	body := "KeyId=alias%2Facs%2Foss"
	sum := sha256.Sum256([]byte(body))
	hv := map[string]string{
		"content-type": "application/x-www-form-urlencoded", "host": fuzzHost, "x-acs-action": "DescribeKey",
		"x-acs-content-sha256": hex.EncodeToString(sum[:]), "x-acs-date": fuzzNow.Format(timestampLayout),
		"x-acs-signature-nonce": "seed", "x-acs-version": APIVersion,
	}
	names := []string{"content-type", "host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	values, header := map[string][]string{}, http.Header{}
	for _, n := range names {
		values[n] = []string{hv[n]}
		if n != "host" {
			header.Set(n, hv[n])
		}
	}
	sig := acs3Sign(acs3StringToSign("POST", "/", map[string]string{}, names, values, hv["x-acs-content-sha256"]), testCred.AccessKeySecret)
	header.Set("Authorization", schemeACS3+" Credential="+testCred.AccessKeyID+",SignedHeaders="+strings.Join(names, ";")+",Signature="+sig)
	req, _ := http.NewRequest("POST", "http://"+fuzzHost+"/", strings.NewReader(body))
	req.Header = header
	f.Add(rawRequest(f, req))

	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		h, logs := fuzzHandler(t)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, logs)
	})
}

// FuzzSignedParams sends correctly signed requests with arbitrary
// parameters, so that every action's parameter parsing and the emulator
// behind it see hostile values.
func FuzzSignedParams(f *testing.F) {
	for name := range actions {
		f.Add(name, "KeyId=alias%2Facs%2Foss&PageSize=2&PageNumber=1", false)
	}
	f.Add("GenerateDataKey", "KeyId=alias%2Facs%2Foss&NumberOfBytes=-1&EncryptionContext=%7B%22%22%3A%22%22%7D", true)
	f.Add("Decrypt", "CiphertextBlob=AAAA&EncryptionContext=%7B%7D", false)
	f.Add("ReEncrypt", "CiphertextBlob=S0VCMQ%3D%3D&DestinationKeyId=alias%2Facs%2Foss", true)
	f.Add("ScheduleKeyDeletion", "KeyId=alias%2Facs%2Foss&PendingWindowInDays=2147483647", false)
	f.Add("CreateAlias", "AliasName=alias%2F..%2F%00&KeyId=alias%2Facs%2Foss", true)
	f.Add("UpdateRotationPolicy", "KeyId=alias%2Facs%2Foss&EnableAutomaticRotation=true&RotationInterval=99999999999999d", false)

	f.Fuzz(func(t *testing.T, action, rawQuery string, post bool) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		p := map[string]string{"Action": action}
		for k, vs := range q {
			if k != "Signature" && k != "Action" {
				p[k] = vs[0]
			}
		}
		method := "GET"
		if post {
			method = "POST"
		}
		h, logs := fuzzHandler(t)
		req := httptest.NewRequest(method, "http://"+fuzzHost+"/?"+rpcQuery(method, p, testCred.AccessKeySecret, fuzzNow), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, logs)
	})
}
