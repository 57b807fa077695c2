package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/net/netutil"
)

// Limits bound what one connection, one request or one principal may hold,
// so a client that stops sending, never reads, or keeps connections idle
// cannot pin the server's descriptors, temp files and memory. A zero field
// takes its default; a negative one switches that bound off.
//
// Bodies and responses are bounded by progress, not by total time: a 5 GiB
// upload over a slow but moving link completes, a stalled one is cut.
type Limits struct {
	// ReadHeaderTimeout is how long a client may take to send a request's
	// headers (default 10s).
	ReadHeaderTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request (default 30s).
	IdleTimeout time.Duration
	// BodyStallTimeout is the longest wait for the next bytes of a request
	// body (default 30s). When it fires the request fails, the upload's
	// temp file is removed and the connection is closed.
	BodyStallTimeout time.Duration
	// BodyMinRate is the slowest average a request body may arrive at, in
	// bytes per second, after a first BodyStallTimeout of grace (default
	// 1024). It cuts a client trickling a byte now and then.
	BodyMinRate int64
	// WriteStallTimeout is the longest one write to the connection may
	// block on a client that does not read (default 30s). Responses are
	// written in pieces of tens of KiB, so a slow download that keeps
	// reading is not cut.
	WriteStallTimeout time.Duration
	// MaxConns caps the open connections of each endpoint (default 1024);
	// further clients wait in the listen backlog until one closes.
	MaxConns int
	// MaxUploadsPerPrincipal caps one principal's concurrent uploads
	// (PutObject, UploadPart and their copies; default 64); more are
	// refused with 503 SlowDown (S3) or ServiceUnavailable (OSS).
	MaxUploadsPerPrincipal int
}

// Default limits.
const (
	DefaultReadHeaderTimeout      = 10 * time.Second
	DefaultIdleTimeout            = 30 * time.Second
	DefaultBodyStallTimeout       = 30 * time.Second
	DefaultBodyMinRate            = 1024
	DefaultWriteStallTimeout      = 30 * time.Second
	DefaultMaxConns               = 1024
	DefaultMaxUploadsPerPrincipal = 64
)

// DefaultLimits returns the limits a zero Limits stands for.
func DefaultLimits() Limits { return Limits{}.withDefaults() }

// withDefaults fills zero fields with the defaults and turns negative
// ones into 0 (off).
func (l Limits) withDefaults() Limits {
	dur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0
		}
	}
	num := func(n *int64, def int64) {
		switch {
		case *n == 0:
			*n = def
		case *n < 0:
			*n = 0
		}
	}
	dur(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	dur(&l.IdleTimeout, DefaultIdleTimeout)
	dur(&l.BodyStallTimeout, DefaultBodyStallTimeout)
	dur(&l.WriteStallTimeout, DefaultWriteStallTimeout)
	num(&l.BodyMinRate, DefaultBodyMinRate)
	conns, uploads := int64(l.MaxConns), int64(l.MaxUploadsPerPrincipal)
	num(&conns, DefaultMaxConns)
	num(&uploads, DefaultMaxUploadsPerPrincipal)
	l.MaxConns, l.MaxUploadsPerPrincipal = int(conns), int(uploads)
	return l
}

// ErrBodyTooSlow is the read error of a request body that arrived slower
// than Limits.BodyMinRate on average. It matches os.ErrDeadlineExceeded, as
// a stalled body's error does, so the store treats both as a timeout.
var ErrBodyTooSlow = fmt.Errorf("request body slower than the minimum rate: %w", os.ErrDeadlineExceeded)

// newHTTPServer builds the http.Server of one endpoint under l.
func newHTTPServer(h http.Handler, l Limits) *http.Server {
	if l.BodyStallTimeout > 0 || l.BodyMinRate > 0 {
		h = bodyProgress(h, l.BodyStallTimeout, l.BodyMinRate)
	}
	// No ReadTimeout or WriteTimeout: both bound a whole request, which
	// would cut a large transfer that is making progress. Bodies and
	// writes are bounded per step instead (bodyProgress, progressConn).
	return &http.Server{Handler: h, ReadHeaderTimeout: l.ReadHeaderTimeout, IdleTimeout: l.IdleTimeout}
}

// limitListener applies MaxConns and the write stall timeout to ln.
func limitListener(ln net.Listener, l Limits) net.Listener {
	if l.MaxConns > 0 {
		ln = netutil.LimitListener(ln, l.MaxConns)
	}
	if l.WriteStallTimeout > 0 {
		ln = progressListener{Listener: ln, writeStall: l.WriteStallTimeout}
	}
	return ln
}

// progressListener hands out connections whose writes each get a fresh
// deadline: a response to a client that stops reading fails after
// writeStall instead of blocking its goroutine and buffers forever.
type progressListener struct {
	net.Listener
	writeStall time.Duration
}

func (l progressListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &progressConn{Conn: c, writeStall: l.writeStall}, nil
}

type progressConn struct {
	net.Conn
	writeStall time.Duration
}

func (c *progressConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.writeStall)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// bodyProgress gives every request body a read deadline that moves with the
// data: each Read may wait at most stall for bytes, and the body as a whole
// must keep an average of minRate bytes per second after a first stall of
// grace. When a deadline passes, the Read fails with a timeout, the handler
// gives up (the store removes the upload's temp file) and the connection is
// closed. Requests without a body pay nothing.
func bodyProgress(h http.Handler, stall time.Duration, minRate int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			// A shallow copy, not r itself: after the handler, net/http
			// looks at its own request's body to decide whether an unread
			// remainder is too big to drain (then it closes the
			// connection). Replacing r.Body would hide that and make it
			// drain a refused upload from a client that may never send.
			r2 := new(http.Request)
			*r2 = *r
			pb := &progressBody{ReadCloser: r.Body, rc: http.NewResponseController(w),
				stall: stall, minRate: minRate, start: time.Now()}
			r2.Body = pb
			h.ServeHTTP(w, r2)
			if !pb.done {
				// The handler left part of the body unread (it refused the
				// request early). net/http drains a chunked remainder, up
				// to 256 KiB, before it writes the answer, with no deadline
				// of its own: bound it like any other body read, so a
				// stalled client gets its answer and loses the connection
				// instead of holding it forever.
				_ = pb.rc.SetReadDeadline(time.Now().Add(pb.stallOrGrace()))
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}

type progressBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	stall   time.Duration
	minRate int64
	start   time.Time
	n       int64 // bytes read so far
	done    bool  // EOF or error seen: the deadline is no longer ours
}

// stallOrGrace is the stall timeout, or when that is off the default one:
// the grace of the minimum rate and the bound on draining an unread rest.
func (b *progressBody) stallOrGrace() time.Duration {
	if b.stall > 0 {
		return b.stall
	}
	return DefaultBodyStallTimeout
}

func (b *progressBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	now := time.Now()
	var deadline time.Time
	if b.stall > 0 {
		deadline = now.Add(b.stall)
	}
	if b.minRate > 0 {
		// The body may take grace plus n/minRate seconds in all.
		byRate := b.start.Add(b.stallOrGrace() + time.Duration(float64(b.n)/float64(b.minRate)*float64(time.Second)))
		if !byRate.After(now) {
			b.done = true
			_ = b.rc.SetReadDeadline(now) // fail the connection's pending reads too
			return 0, ErrBodyTooSlow
		}
		if deadline.IsZero() || byRate.Before(deadline) {
			deadline = byRate
		}
	}
	if err := b.rc.SetReadDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err != nil {
		b.done = true
		if err == io.EOF {
			// The server now watches the idle connection in the
			// background; a deadline left here would cancel the
			// request's context while the handler still works.
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}
