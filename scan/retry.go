package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/kmsclient"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
	"github.com/sseaudit/sseaudit/snapshot"
)

// Retry configures retries of failed requests.
type Retry struct {
	// Attempts is the number of times a request may be sent, the first
	// included (default 5; 1 disables retries).
	Attempts int
	// BaseDelay is the backoff cap of the first retry (default 100ms); it
	// doubles per retry up to MaxDelay (default 5s). Each wait is drawn
	// uniformly from [0, cap] (full jitter). A Retry-After header raises it
	// (up to MaxDelay).
	BaseDelay, MaxDelay time.Duration
}

// Defaults.
const (
	DefaultAttempts    = 5
	DefaultBaseDelay   = 100 * time.Millisecond
	DefaultMaxDelay    = 5 * time.Second
	DefaultConcurrency = 16
)

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultAttempts
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = DefaultBaseDelay
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = DefaultMaxDelay
	}
	if r.MaxDelay < r.BaseDelay {
		r.MaxDelay = r.BaseDelay
	}
	return r
}

// throttleCodes are service error codes that mean "slow down" or "try
// again" whatever the status (OSS, S3, KMS).
var throttleCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "Throttling.User": true, "Throttling.Api": true,
	"Throttling.Resource": true, "SlowDown": true, "TooManyRequests": true, "RequestLimitExceeded": true,
	"QpsLimitExceeded": true, "ServiceUnavailable": true, "InternalError": true, "InternalFailure": true,
	"RequestTimeout": true, "RequestTimeoutException": true,
}

func retryableStatus(status int, code string) bool {
	// 501 NotImplemented is an answer, not a failure: asking again
	// cannot change it.
	if status == http.StatusNotImplemented || code == "NotImplemented" {
		return false
	}
	return status == http.StatusTooManyRequests || status >= 500 || throttleCodes[code]
}

// retryable says whether err is worth another attempt: an answer that
// means throttling or a server failure, or a transport failure (timeout,
// reset, refused) while ctx is still live.
func retryable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	if e, ok := client.AsError(err); ok {
		return retryableStatus(e.StatusCode, e.Code)
	}
	if e, ok := kmsclient.AsServiceError(err); ok {
		return retryableStatus(e.StatusCode, e.Code)
	}
	if e, ok := awskms.AsServiceError(err); ok {
		return retryableStatus(e.StatusCode, e.Code)
	}
	return transient(err)
}

// transient reports transport failures: timeouts, resets, refusals, early
// EOFs. Errors of the caller's own making (bad arguments) are not.
func transient(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return true
	}
	// The KMS SDK flattens transport errors into messages.
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"timeout", "connection reset", "connection refused", "eof", "broken pipe"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return true
	}
	return strings.Contains(strings.ToLower(err.Error()), "timeout")
}

// backoff is the wait before retry number n (1 for the first retry).
func (r Retry) backoff(n int, err error) time.Duration {
	limit := r.MaxDelay
	if shift := n - 1; shift < 30 {
		if c := r.BaseDelay << shift; c > 0 && c < limit {
			limit = c
		}
	}
	d := time.Duration(rand.Int64N(int64(limit) + 1))
	if e, ok := client.AsError(err); ok && e.Header != nil {
		if s, perr := strconv.Atoi(strings.TrimSpace(e.Header.Get("Retry-After"))); perr == nil && s > 0 {
			if ra := min(time.Duration(s)*time.Second, r.MaxDelay); ra > d {
				d = ra
			}
		}
	}
	return d
}

// do runs op against the target (see doOn).
func (s *scanner) do(ctx context.Context, op func(context.Context) error) (int, error) {
	return s.doOn(ctx, s.budgets.target, op)
}

// doOn runs op until it succeeds, fails for good, runs out of attempts or
// ctx ends; it returns the number of attempts made. Every attempt waits
// for ep's budget first. No attempt starts after ctx ended.
func (s *scanner) doOn(ctx context.Context, ep *endpoint, op func(context.Context) error) (int, error) {
	var err error
	for n := 1; ; n++ {
		if cerr := ctx.Err(); cerr != nil {
			if err == nil {
				err = cerr
			}
			return n - 1, err
		}
		actx, aerr := ep.admit(ctx)
		if aerr != nil { // ctx ended while waiting for the budget
			if err == nil {
				err = aerr
			}
			return n - 1, err
		}
		err = op(actx)
		if err == nil || n >= s.retry.Attempts || !retryable(ctx, err) {
			return n, err
		}
		s.retries.Add(1)
		t := time.NewTimer(s.retry.backoff(n, err))
		select {
		case <-ctx.Done():
			t.Stop()
			return n, err
		case <-t.C:
		}
	}
}

// Error codes for failures that are not an endpoint's answer.
const (
	CodeCancelled    = "Cancelled"
	CodeTimeout      = "Timeout"
	CodeNetworkError = "NetworkError"
	CodeClientError  = "ClientError"
)

// toError records err as data. ctx tells a cancellation apart from an
// answer or a timeout.
func toError(ctx context.Context, scope, resource string, attempts int, err error) *snapshot.Error {
	e := &snapshot.Error{Scope: scope, Resource: resource, Attempts: attempts}
	if te, ok := client.AsError(err); ok {
		e.StatusCode, e.Code, e.Message = te.StatusCode, te.Code, te.Message
		if e.Message == "" {
			e.Message = te.Error()
		}
		return e
	}
	if ke, ok := kmsclient.AsServiceError(err); ok {
		e.StatusCode, e.Code, e.Message = ke.StatusCode, ke.Code, ke.Message
		if e.Message == "" {
			e.Message = ke.Error()
		}
		return e
	}
	if ae, ok := awskms.AsServiceError(err); ok {
		e.StatusCode, e.Code, e.Message = ae.StatusCode, ae.Code, ae.Message
		if e.Message == "" {
			e.Message = ae.Error()
		}
		return e
	}
	switch {
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, ctx.Err()) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err)):
		e.Code, e.Message = CodeCancelled, "scan cancelled: "+err.Error()
	case isTimeout(err):
		e.Code, e.Message = CodeTimeout, err.Error()
	case transient(err):
		e.Code, e.Message = CodeNetworkError, err.Error()
	default:
		e.Code, e.Message = CodeClientError, err.Error()
	}
	return e
}

func cancelled(scope, resource, what string) *snapshot.Error {
	return &snapshot.Error{Scope: scope, Resource: resource, Code: CodeCancelled, Message: fmt.Sprintf("%s: scan cancelled", what)}
}
