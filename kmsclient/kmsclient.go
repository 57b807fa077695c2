// Package kmsclient builds the official Alibaba Cloud KMS SDK client
// (github.com/alibabacloud-go/kms-20160120/v3) for an explicit endpoint such
// as the sseaudit reference server ("http://127.0.0.1:9001") or a real KMS
// endpoint ("https://kms.cn-hangzhou.aliyuncs.com"), and reads the SDK's
// errors back as (HTTP status, Code, Message).
//
// The SDK is used unmodified: New only fills its openapi.Config. By default
// requests are signed with ACS3-HMAC-SHA256 (the SDK default); WithSignatureV2
// selects the classic RPC HMAC-SHA1 signature.
package kmsclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
)

// Option adjusts the SDK configuration New builds.
type Option func(*openapi.Config)

// WithSignatureV2 makes the client sign requests with the classic RPC
// signature (HMAC-SHA1 over the sorted query, SignatureVersion 1.0) instead
// of ACS3-HMAC-SHA256.
func WithSignatureV2() Option {
	return func(c *openapi.Config) { c.SignatureAlgorithm = tea.String("v2") }
}

// WithTimeouts sets the SDK's connect and read timeouts (defaults 5 s and 30 s).
func WithTimeouts(connect, read time.Duration) Option {
	return func(c *openapi.Config) {
		c.ConnectTimeout = tea.Int(int(connect / time.Millisecond))
		c.ReadTimeout = tea.Int(int(read / time.Millisecond))
	}
}

// New returns an SDK client for endpoint, which is "http://host[:port]",
// "https://host[:port]" or a bare "host[:port]" (HTTPS). The scheme becomes
// the SDK's Protocol and host[:port] its Endpoint; a path other than "/",
// a query, a fragment or user info is refused. For a loopback host the
// endpoint is exempted from HTTP(S)_PROXY, which the SDK would otherwise
// apply even to 127.0.0.1.
func New(endpoint, region, accessKeyID, accessKeySecret string, opts ...Option) (*kms.Client, error) {
	protocol, host, err := parseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if region == "" {
		return nil, errors.New("kmsclient: region is required")
	}
	if accessKeyID == "" || accessKeySecret == "" {
		return nil, errors.New("kmsclient: access key id and secret are required")
	}
	cfg := &openapi.Config{
		AccessKeyId:     tea.String(accessKeyID),
		AccessKeySecret: tea.String(accessKeySecret),
		RegionId:        tea.String(region),
		Endpoint:        tea.String(host),
		Protocol:        tea.String(protocol),
		ConnectTimeout:  tea.Int(5000),
		ReadTimeout:     tea.Int(30000),
	}
	if isLoopback(host) {
		cfg.NoProxy = tea.String(host)
	}
	for _, o := range opts {
		o(cfg)
	}
	c, err := kms.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("kmsclient: %w", err)
	}
	return c, nil
}

func parseEndpoint(endpoint string) (protocol, host string, err error) {
	raw := strings.TrimSpace(endpoint)
	if raw == "" {
		return "", "", errors.New("kmsclient: endpoint is required")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("kmsclient: endpoint %q: %w", endpoint, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("kmsclient: endpoint %q: scheme must be http or https", endpoint)
	case u.Host == "" || u.Hostname() == "":
		return "", "", fmt.Errorf("kmsclient: endpoint %q has no host", endpoint)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/"):
		return "", "", fmt.Errorf("kmsclient: endpoint %q must be scheme://host[:port] only", endpoint)
	}
	return u.Scheme, u.Host, nil
}

func isLoopback(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// ServiceError is an error answered by the KMS service, as the SDK reports it.
type ServiceError struct {
	StatusCode int    // HTTP status
	Code       string // Alibaba error code, e.g. "Rejected.Disabled"
	Message    string // the service's message, without the SDK's decorations
	RequestID  string // the service's RequestId, when it sent one
}

func (e *ServiceError) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.Code, e.StatusCode, e.Message)
}

// AsServiceError extracts the service's answer from an error returned by
// the SDK (a *tea.SDKError, possibly wrapped). It reports false for errors
// that never reached the service (connection refused, bad configuration...),
// which the SDK also returns as *tea.SDKError but without a status code.
func AsServiceError(err error) (*ServiceError, bool) {
	var se *tea.SDKError
	if !errors.As(err, &se) || se.StatusCode == nil {
		return nil, false
	}
	out := &ServiceError{StatusCode: tea.IntValue(se.StatusCode), Code: tea.StringValue(se.Code)}
	// Data is the error body the SDK parsed, re-encoded as JSON.
	var body struct {
		Message   *string `json:"Message"`
		RequestID *string `json:"RequestId"`
	}
	if se.Data != nil && json.Unmarshal([]byte(*se.Data), &body) == nil && body.Message != nil {
		out.Message = *body.Message
		out.RequestID = tea.StringValue(body.RequestID)
		return out, true
	}
	// Fall back to the SDK's "code: <status>, <message> request id: <id>".
	msg := tea.StringValue(se.Message)
	msg = strings.TrimPrefix(msg, fmt.Sprintf("code: %d, ", out.StatusCode))
	if i := strings.LastIndex(msg, " request id: "); i >= 0 {
		out.RequestID = msg[i+len(" request id: "):]
		msg = msg[:i]
	}
	out.Message = msg
	return out, true
}

// ErrorInfo returns the HTTP status, error code and message of an SDK error
// answered by the service; ok is false for any other error.
func ErrorInfo(err error) (statusCode int, code, message string, ok bool) {
	se, ok := AsServiceError(err)
	if !ok {
		return 0, "", "", false
	}
	return se.StatusCode, se.Code, se.Message, true
}
