package kmsclient_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/kmsclient"
)

func TestNewEndpoints(t *testing.T) {
	cases := []struct {
		endpoint, protocol, host, noProxy string
		v2                                bool
	}{
		{endpoint: "http://127.0.0.1:9001", protocol: "http", host: "127.0.0.1:9001", noProxy: "127.0.0.1:9001"},
		{endpoint: "http://127.0.0.1:9001/", protocol: "http", host: "127.0.0.1:9001", noProxy: "127.0.0.1:9001", v2: true},
		{endpoint: "https://127.0.0.1", protocol: "https", host: "127.0.0.1", noProxy: "127.0.0.1"},
		{endpoint: "127.0.0.1:9443", protocol: "https", host: "127.0.0.1:9443", noProxy: "127.0.0.1:9443"},
		{endpoint: "http://localhost:9001", protocol: "http", host: "localhost:9001", noProxy: "localhost:9001"},
		{endpoint: "http://[::1]:9001", protocol: "http", host: "[::1]:9001", noProxy: "[::1]:9001"},
	}
	for _, tc := range cases {
		t.Run(tc.endpoint, func(t *testing.T) {
			var opts []kmsclient.Option
			if tc.v2 {
				opts = append(opts, kmsclient.WithSignatureV2())
			}
			c, err := kmsclient.New(tc.endpoint, "cn-hangzhou", "id", "secret", opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := tea.StringValue(c.Protocol); got != tc.protocol {
				t.Errorf("Protocol %q, want %q", got, tc.protocol)
			}
			if got := tea.StringValue(c.Endpoint); got != tc.host {
				t.Errorf("Endpoint %q, want %q", got, tc.host)
			}
			if got := tea.StringValue(c.NoProxy); got != tc.noProxy {
				t.Errorf("NoProxy %q, want %q", got, tc.noProxy)
			}
			if got := tea.StringValue(c.SignatureAlgorithm); (got == "v2") != tc.v2 {
				t.Errorf("SignatureAlgorithm %q", got)
			}
			if tea.StringValue(c.RegionId) != "cn-hangzhou" {
				t.Errorf("RegionId %q", tea.StringValue(c.RegionId))
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct{ endpoint, region, id, secret string }{
		{"", "cn-hangzhou", "id", "s"},
		{"ftp://127.0.0.1", "cn-hangzhou", "id", "s"},
		{"http://127.0.0.1:9001/kms", "cn-hangzhou", "id", "s"},
		{"http://127.0.0.1:9001?x=1", "cn-hangzhou", "id", "s"},
		{"http://user:pw@127.0.0.1:9001", "cn-hangzhou", "id", "s"},
		{"http://", "cn-hangzhou", "id", "s"},
		{"http://127.0.0.1:9001", "", "id", "s"},
		{"http://127.0.0.1:9001", "cn-hangzhou", "", "s"},
		{"http://127.0.0.1:9001", "cn-hangzhou", "id", ""},
	} {
		if _, err := kmsclient.New(tc.endpoint, tc.region, tc.id, tc.secret); err == nil {
			t.Errorf("New(%q, %q, %q, %q) succeeded", tc.endpoint, tc.region, tc.id, tc.secret)
		}
	}
}

// TestErrorInfo reads a real service error and the SDK's error for a
// request that never reached a server.
func TestErrorInfo(t *testing.T) {
	cred := struct{ AccessKeyID, AccessKeySecret string }{"LTAICLIENT", "client-secret"}
	srv, err := embedded.StartKMS(cred.AccessKeyID, cred.AccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	for _, v2 := range []bool{false, true} {
		var opts []kmsclient.Option
		if v2 {
			opts = append(opts, kmsclient.WithSignatureV2(), kmsclient.WithTimeouts(time.Second, 5*time.Second))
		}
		c, err := kmsclient.New(srv.Endpoint, "cn-hangzhou", cred.AccessKeyID, cred.AccessKeySecret, opts...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String("missing")})
		status, code, msg, ok := kmsclient.ErrorInfo(fmt.Errorf("wrapped: %w", err))
		if !ok || status != 404 || code != "Forbidden.KeyNotFound" || msg != "The specified Key is not found." {
			t.Fatalf("v2=%v: ErrorInfo = %d %q %q %v (from %v)", v2, status, code, msg, ok, err)
		}
		se, _ := kmsclient.AsServiceError(err)
		if len(se.RequestID) != 36 || se.Error() != "Forbidden.KeyNotFound (404): The specified Key is not found." {
			t.Fatalf("ServiceError %+v", se)
		}
	}

	// Nothing listens on port 1 of 127.0.0.1: not a service error.
	c, err := kmsclient.New("http://127.0.0.1:1", "cn-hangzhou", "id", "secret")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListKeys(&kmssdk.ListKeysRequest{})
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	if _, _, _, ok := kmsclient.ErrorInfo(err); ok {
		t.Fatalf("connection failure reported as a service error: %v", err)
	}
	if _, _, _, ok := kmsclient.ErrorInfo(errors.New("plain")); ok {
		t.Fatal("plain error reported as a service error")
	}
	// The SDK's message is the fallback when Data carries no Message.
	se := tea.NewSDKError(map[string]interface{}{"code": "X", "message": "code: 400, the text request id: ABC", "statusCode": 400})
	if got, ok := kmsclient.AsServiceError(se); !ok || got.Message != "the text" || got.RequestID != "ABC" || got.StatusCode != 400 {
		t.Fatalf("fallback parse: %+v", got)
	}
}
