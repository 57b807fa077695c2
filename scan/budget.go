package scan

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sseaudit/sseaudit/client"
)

// endpoint is the request budget of one endpoint a scan talks to: a rate
// (Config.RequestRate, nil when unlimited) and, for the target, the
// number of requests in flight (Config.Concurrency), both shared by every
// request of the scan, whichever bucket it is for.
type endpoint struct {
	limiter *rate.Limiter // nil: unlimited
	// slots bounds the target's requests in flight; nil for KMS, whose
	// SDK does not carry a context.
	slots chan struct{}
	// serial is held around every call of a KMS client: the KMS SDK's
	// client is not safe for concurrent use (each call rewrites its
	// Headers field), and buckets scanned concurrently describe keys
	// concurrently. A scan describes each key once, so this costs
	// nothing.
	serial sync.Mutex
	// sent counts the requests admitted (Config.requests; nil: none).
	sent *requestCount
}

// newLimiter returns nil for no limit. The burst is one request: in any
// window of t seconds at most rate*t+1 requests start.
func newLimiter(perSecond float64) *rate.Limiter {
	if perSecond <= 0 || math.IsInf(perSecond, 1) {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), 1)
}

// budgets holds the target's endpoint and one per KMS client.
type budgets struct {
	target *endpoint
	rate   float64

	mu  sync.Mutex
	kms map[any]*endpoint
}

func newBudgets(cfg *Config) *budgets {
	return &budgets{
		target: &endpoint{limiter: newLimiter(cfg.RequestRate), slots: make(chan struct{}, cfg.Concurrency), sent: cfg.requests},
		rate:   cfg.RequestRate,
		kms:    map[any]*endpoint{},
	}
}

// forKMS is the budget of one KMS client (one endpoint per region).
func (b *budgets) forKMS(c any) *endpoint {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.kms[c]
	if e == nil {
		e = &endpoint{limiter: newLimiter(b.rate)}
		b.kms[c] = e
	}
	return e
}

// prepaid is the RequestGate of one attempt whose first request's rate
// token was taken before the call (outside the call's timeout, so that a
// low rate never times a request out while it waits its turn); further
// requests of the attempt (listing pages, an SDK's own retries) wait for
// their own token under the call's context.
type prepaid struct {
	ep   *endpoint
	mu   sync.Mutex
	paid bool
}

func (p *prepaid) gate(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err // nothing is sent after a cancellation
	}
	p.mu.Lock()
	paid := p.paid
	p.paid = false
	p.mu.Unlock()
	if !paid && p.ep.limiter != nil {
		if err := p.ep.limiter.Wait(ctx); err != nil {
			return nil, err
		}
	}
	select {
	case p.ep.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c := p.ep.sent; c != nil {
		c.n.Add(1)
		t0 := time.Now()
		return func() {
			<-p.ep.slots
			c.busy.Add(int64(time.Since(t0)))
		}, nil
	}
	return func() { <-p.ep.slots }, nil
}

// admit waits for ep's rate token for one attempt and returns the context
// to make the attempt's calls with.
func (ep *endpoint) admit(ctx context.Context) (context.Context, error) {
	if ep.limiter != nil {
		if err := ep.limiter.Wait(ctx); err != nil {
			return nil, err
		}
	}
	if ep.slots == nil {
		return ctx, nil
	}
	p := &prepaid{ep: ep, paid: ep.limiter != nil}
	return client.WithRequestGate(ctx, p.gate), nil
}
