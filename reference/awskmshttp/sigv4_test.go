package awskmshttp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sseaudit/sseaudit/reference/auth"
)

// doer lets a test change a request after the SDK signed it, as a party
// in the middle would.
type doer func(*http.Request) (*http.Response, error)

func (d doer) Do(r *http.Request) (*http.Response, error) { return d(r) }

func (f *fixture) tamperedClient(tamper func(*http.Request)) *awskms.Client {
	hc := f.srv.Client()
	return awskms.New(awskms.Options{
		Region: testRegion, BaseEndpoint: aws.String(f.srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(rootCred.AccessKeyID, rootCred.AccessKeySecret, ""),
		HTTPClient: doer(func(r *http.Request) (*http.Response, error) {
			tamper(r)
			return hc.Do(r)
		}),
	})
}

func clientWith(f *fixture, region string, cred auth.Credential, token string) *awskms.Client {
	return awskms.New(awskms.Options{
		Region: region, BaseEndpoint: aws.String(f.srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.AccessKeySecret, token),
	})
}

// TestAuthenticationErrors: every way a request can fail SigV4 gets AWS's
// JSON-protocol error, and none of them reaches an operation.
func TestAuthenticationErrors(t *testing.T) {
	f := newFixture(t)
	k := f.makeKeys(f.client(rootCred))
	describe := func(c *awskms.Client) error {
		_, err := c.DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String(k.a)})
		return err
	}
	cases := []struct {
		name    string
		call    func() error
		code    string
		message string // a part of the message
	}{
		{"wrong secret", func() error {
			return describe(clientWith(f, testRegion, auth.Credential{AccessKeyID: rootCred.AccessKeyID, AccessKeySecret: "wrong"}, ""))
		}, CodeInvalidSignature, "does not match"},
		{"unknown access key", func() error {
			return describe(clientWith(f, testRegion, auth.Credential{AccessKeyID: "AKIAUNKNOWN", AccessKeySecret: "x"}, ""))
		}, CodeUnrecognizedClient, "security token"},
		{"session token", func() error { return describe(clientWith(f, testRegion, rootCred, "session-token")) }, CodeUnrecognizedClient, "session tokens"},
		{"another region", func() error { return describe(clientWith(f, "us-east-1", rootCred, "")) }, CodeInvalidSignature, "region"},
		{"body changed after signing", func() error {
			return describe(f.tamperedClient(func(r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				b = bytes.Replace(b, []byte(k.a), []byte(k.b), 1)
				r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			}))
		}, CodeInvalidSignature, "does not match"},
		{"operation changed after signing", func() error {
			return describe(f.tamperedClient(func(r *http.Request) { r.Header.Set("X-Amz-Target", "TrentService.DisableKey") }))
		}, CodeInvalidSignature, "does not match"},
		{"unsigned x-amz header added", func() error {
			return describe(f.tamperedClient(func(r *http.Request) { r.Header.Set("X-Amz-Server-Side-Encryption", "aws:kms") }))
		}, CodeIncompleteSignature, "x-amz-server-side-encryption"},
		{"signed 6 minutes ago", func() error {
			f.srvClock.Advance(6 * time.Minute)
			defer f.srvClock.Advance(-6 * time.Minute)
			return describe(f.client(rootCred))
		}, CodeInvalidSignature, "Signature expired"},
		{"signed 6 minutes ahead", func() error {
			f.srvClock.Advance(-6 * time.Minute)
			defer f.srvClock.Advance(6 * time.Minute)
			return describe(f.client(rootCred))
		}, CodeInvalidSignature, "not yet current"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			wantAPIError(t, err, http.StatusBadRequest, tc.code)
			if !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("message lacks %q: %v", tc.message, err)
			}
		})
	}
	// Nothing above changed the key: the tampered DisableKey never ran.
	out, err := f.client(rootCred).DescribeKey(ctx(t), &awskms.DescribeKeyInput{KeyId: aws.String(k.a)})
	if err != nil || !out.KeyMetadata.Enabled {
		t.Fatalf("key a after the refused requests: %v", err)
	}
}

// signed builds a request signed by the SDK's own SigV4 signer.
func (f *fixture) signed(target, contentType, body string) *http.Request {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", target)
	creds := aws.Credentials{AccessKeyID: rootCred.AccessKeyID, SecretAccessKey: rootCred.AccessKeySecret}
	if err := v4.NewSigner().SignHTTP(ctx(f.t), creds, req, sha256Hex([]byte(body)), "kms", testRegion, time.Now()); err != nil {
		f.t.Fatal(err)
	}
	return req
}

// TestProtocolErrors: raw requests outside what the SDK sends.
func TestProtocolErrors(t *testing.T) {
	f := newFixture(t)
	get, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/", nil)
	unsigned, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/", strings.NewReader("{}"))
	unsigned.Header.Set("X-Amz-Target", "TrentService.NoSuchThing")
	unsigned.Header.Set("Content-Type", contentType)
	cases := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"GET", get, 400, CodeUnknownOperation},
		{"unsigned (before the operation is looked at)", unsigned, 400, CodeMissingAuthToken},
		{"signed unknown operation", f.signed("TrentService.NoSuchThing", contentType, "{}"), 400, CodeUnknownOperation},
		{"another service's target", f.signed("DynamoDB_20120810.ListTables", contentType, "{}"), 400, CodeUnknownOperation},
		{"wrong content type", f.signed("TrentService.ListKeys", "application/json", "{}"), 400, CodeSerialization},
		{"malformed JSON", f.signed("TrentService.ListKeys", contentType, "{"), 400, CodeSerialization},
		{"wrong member type", f.signed("TrentService.ListKeys", contentType, `{"Limit":"ten"}`), 400, CodeSerialization},
		{"empty body is {}", f.signed("TrentService.ListKeys", contentType, ""), 200, ""},
		{"too large", f.signed("TrentService.ListKeys", contentType, `{"Marker":"`+strings.Repeat("x", DefaultMaxBodyBytes)+`"}`), 413, CodeRequestTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := f.srv.Client().Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if resp.StatusCode != tc.status || body.Type != tc.code {
				t.Fatalf("got %d %q (%s), want %d %q", resp.StatusCode, body.Type, body.Message, tc.status, tc.code)
			}
			if resp.Header.Get("Content-Type") != contentType || resp.Header.Get("X-Amzn-RequestId") == "" {
				t.Fatalf("headers: %v", resp.Header)
			}
			if tc.code != "" && (resp.Header.Get("X-Amzn-ErrorType") != tc.code || body.Message == "") {
				t.Fatalf("error type header %q, message %q", resp.Header.Get("X-Amzn-ErrorType"), body.Message)
			}
		})
	}
}
