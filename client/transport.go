package client

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxCapturedBody bounds the response bodies recorded for Rule.Raw.
const maxCapturedBody = 64 << 10

// capture records the last HTTP response of one Client call. The SDKs
// carry the call's context into their http.Request, where the transport
// finds it.
type capture struct {
	wantBody bool

	mu     sync.Mutex
	status int
	header http.Header
	body   []byte
}

type captureKey struct{}

func withCapture(ctx context.Context, wantBody bool) (context.Context, *capture) {
	c := &capture{wantBody: wantBody}
	return context.WithValue(ctx, captureKey{}, c), c
}

func captureFrom(ctx context.Context) *capture {
	c, _ := ctx.Value(captureKey{}).(*capture)
	return c
}

// Status is the HTTP status of the last response (0: none was received).
func (c *capture) Status() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Header is a copy of the last response's headers (nil: none received).
func (c *capture) Header() http.Header {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.header.Clone()
}

// Body is the last response's body when it was asked for and small.
func (c *capture) Body() []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.body...)
}

// RequestGate admits the HTTP requests of calls made with a context that
// carries it (WithRequestGate): it is called before each request is sent,
// every page of a listing and every retry an SDK makes included, and may
// wait (a rate or concurrency budget shared by a caller's calls). It
// returns done, called once the response headers arrived or the request
// failed, or an error, which fails the request unsent. It must return
// when ctx ends.
type RequestGate func(ctx context.Context) (done func(), err error)

type gateKey struct{}

// WithRequestGate returns ctx carrying gate for every request of the
// Client calls made with it. Calls the v1 OSS SDK makes without the
// caller's context (see ossV1) are not gated.
func WithRequestGate(ctx context.Context, gate RequestGate) context.Context {
	return context.WithValue(ctx, gateKey{}, gate)
}

// captureTransport records responses for calls whose context carries a
// capture, and admits requests through a context's RequestGate. It never
// looks at requests, so no credential passes through it.
type captureTransport struct {
	base http.RoundTripper
}

func (t *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if gate, ok := req.Context().Value(gateKey{}).(RequestGate); ok {
		done, err := gate(req.Context())
		if err != nil {
			if req.Body != nil {
				req.Body.Close() // RoundTrip closes the body, even on errors
			}
			return nil, err
		}
		defer done()
	}
	resp, err := t.base.RoundTrip(req)
	c := captureFrom(req.Context())
	if c == nil || resp == nil {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status = resp.StatusCode
	// Kept, not cloned: Header() hands out copies, and the SDKs only read
	// a response's headers. (Cloning here cost a sixth of a HEAD's client
	// CPU, for headers most calls never look at again.)
	c.header = resp.Header
	c.body = nil
	if c.wantBody && resp.Body != nil && req.Method != http.MethodHead {
		data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxCapturedBody+1))
		if rerr != nil || len(data) > maxCapturedBody {
			// Too large (or broken) to keep: hand the SDK what was read
			// followed by the rest.
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(data), resp.Body), resp.Body}
			return resp, err
		}
		resp.Body.Close()
		c.body = data
		resp.Body = io.NopCloser(bytes.NewReader(data))
	}
	return resp, err
}

// newHTTPClient returns the http.Client every SDK of a Client uses: the
// standard transport (no proxy for loopback endpoints, the environment's
// proxy otherwise) wrapped by captureTransport. Config.Timeout is applied
// to each call's context, and also here for the v1 OSS SDK's calls that
// drop the context.
func newHTTPClient(host string, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// The scanner HEADs objects with up to this many requests in flight;
	// Go's default of 2 idle connections per host would open (and, over
	// TLS, handshake) a new connection for most of them.
	tr.MaxIdleConnsPerHost = 128
	if isLoopback(host) {
		tr.Proxy = nil
	} else {
		tr.Proxy = http.ProxyFromEnvironment
	}
	return &http.Client{Transport: &captureTransport{base: tr}, Timeout: timeout}
}

func isLoopback(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func isIP(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return net.ParseIP(strings.Trim(h, "[]")) != nil
}
