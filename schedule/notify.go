package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Payload is the webhook's JSON body.
type Payload struct {
	Job        string         `json:"job"`
	Run        string         `json:"run"`
	Outcome    Outcome        `json:"outcome"`
	Error      string         `json:"error,omitempty"`
	Scheduled  time.Time      `json:"scheduled"`
	Finished   time.Time      `json:"finished"`
	ScanID     string         `json:"scan_id,omitempty"`
	Objects    int            `json:"objects"`
	BySeverity map[string]int `json:"by_severity,omitempty"`
	New        []FindingRef   `json:"new_findings,omitempty"`
	Grown      []FindingRef   `json:"grown_findings,omitempty"`
	Resolved   int            `json:"resolved"`
	Unchanged  int            `json:"unchanged"`
	Drifts     int            `json:"conformance_failures"`
	EncChanged int            `json:"objects_encryption_changed"`
	ReportDir  string         `json:"report_dir,omitempty"`
}

// ShouldNotify: a run failed or something changed.
func ShouldNotify(r *Run) bool {
	return r.Outcome == Failed || r.Outcome == Incomplete || r.Delta.Changed()
}

func payloadOf(r *Run) Payload {
	p := Payload{Job: r.Job, Run: r.ID, Outcome: r.Outcome, Error: r.Error, Scheduled: r.Scheduled, Finished: r.Finished,
		ScanID: r.ScanID, Objects: r.Objects, BySeverity: r.BySeverity, ReportDir: r.ReportDir}
	if d := r.Delta; d != nil {
		p.New, p.Grown, p.Resolved, p.Unchanged = d.New, d.Grown, len(d.Resolved), len(d.Unchanged)
		p.Drifts, p.EncChanged = d.ConformanceFailures, len(d.EncryptionChanged)
	}
	return p
}

// Notifier sends webhooks from its own goroutine through a bounded queue,
// so the scheduler never waits on a slow endpoint.
type Notifier struct {
	store   *Store
	metrics *Metrics
	log     *slog.Logger
	hooks   map[string]*Webhook
	queue   chan string
	client  *http.Client
	// Backoff is the first retry delay, doubled each time.
	Backoff time.Duration
	done    chan struct{}
}

// NewNotifier prepares a notifier for the jobs' webhooks.
func NewNotifier(store *Store, m *Metrics, log *slog.Logger, jobs []Job) *Notifier {
	n := &Notifier{store: store, metrics: m, log: log, hooks: map[string]*Webhook{}, queue: make(chan string, 256),
		client: &http.Client{}, Backoff: time.Second, done: make(chan struct{})}
	for _, j := range jobs {
		if j.Webhook != nil {
			n.hooks[j.Name] = j.Webhook
		}
	}
	return n
}

// Enqueue queues run id; it never blocks (a full queue leaves the run
// pending, to be sent after a restart).
func (n *Notifier) Enqueue(id string) {
	select {
	case n.queue <- id:
	default:
		n.log.Warn("notification queue full; left pending", "run", id)
	}
}

// Run sends queued notifications until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	defer close(n.done)
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-n.queue:
			n.send(ctx, id)
		}
	}
}

// Done is closed when Run returned.
func (n *Notifier) Done() <-chan struct{} { return n.done }

func (n *Notifier) send(ctx context.Context, id string) {
	r, err := n.store.Get(id)
	if err != nil || r.Notify != NotifyPending {
		return
	}
	h := n.hooks[r.Job]
	if h == nil {
		r.Notify = NotifyNone
		n.store.Put(r)
		return
	}
	body, _ := json.Marshal(payloadOf(r))
	tries := h.Retries
	if tries == 0 {
		tries = 5
	}
	timeout := h.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	delay := n.Backoff
	for attempt := 1; ; attempt++ {
		r.NotifyAttempts++
		err = n.post(ctx, h.URL, timeout, body)
		if err == nil {
			r.Notify, r.NotifyError = NotifySent, ""
			n.metrics.notifications.WithLabelValues(r.Job, "sent").Inc()
			break
		}
		r.NotifyError = fmt.Sprintf("webhook.url: %v", err)
		n.log.Warn("webhook failed", "job", r.Job, "run", r.ID, "attempt", attempt, "error", err)
		if attempt > tries || ctx.Err() != nil {
			if ctx.Err() == nil {
				r.Notify = NotifyFailed
				n.metrics.notifications.WithLabelValues(r.Job, "failed").Inc()
			}
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay *= 2
	}
	if err := n.store.Put(r); err != nil {
		n.log.Error("store notification state", "run", r.ID, "error", err)
	}
}

func (n *Notifier) post(ctx context.Context, url string, timeout time.Duration, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}
