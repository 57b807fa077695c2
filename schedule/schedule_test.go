package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigErrors(t *testing.T) {
	base := "jobs:\n- name: prod\n  output: out\n  schedule: \"@every 6h\"\n"
	cases := map[string]string{
		base + "  bogus: 1\n":                               "bogus",
		strings.Replace(base, "@every 6h", "61 * * * *", 1): "job prod: schedule",
		base + "  time_zone: Mars/Base\n":                   "job prod: time_zone",
		base + "  target: {endpoint: http://x, dialect: oss, access_key_id_env: AK, access_key_secret_env: SK}\n": "job prod: target.access_key_id_env: environment variable AK is not set",
		base + "  webhook: {}\n": "job prod: webhook.url",
	}
	for in, want := range cases {
		_, err := ParseConfig([]byte(in), env(nil))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
	c, err := ParseConfig([]byte(base+"  time_zone: Europe/Paris\n  target: {endpoint: http://x, dialect: oss, access_key_id_env: AK, access_key_secret_env: SK}\n"),
		env(map[string]string{"AK": "a", "SK": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Jobs[0].Location().String() != "Europe/Paris" {
		t.Fatal(c.Jobs[0].Location())
	}
}

type harness struct {
	s     *Scheduler
	clock *FakeClock
	store *Store
}

func newHarness(t *testing.T, yml string, run RunFunc) *harness {
	t.Helper()
	c, err := ParseConfig([]byte(yml), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(filepath.Join(t.TempDir(), "runs.db"), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := &Scheduler{Jobs: c.Jobs, Store: st, Clock: clk, Runner: run, Metrics: NewMetrics()}
	return &harness{s: s, clock: clk, store: st}
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if f() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestFiringTimesCron(t *testing.T) {
	c, err := ParseConfig([]byte("jobs:\n- {name: a, output: o, schedule: '30 2 * * *', time_zone: Asia/Shanghai}\n- {name: b, output: o, schedule: '@every 6h'}\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := c.Jobs[0].Next(start); !got.Equal(time.Date(2026, 1, 1, 18, 30, 0, 0, time.UTC)) {
		t.Errorf("a: %v", got.UTC())
	}
	if got := c.Jobs[1].Next(start); !got.Equal(start.Add(6 * time.Hour)) {
		t.Errorf("b: %v", got)
	}
}

func TestScheduleFiresAndSkipsOverlap(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	h := newHarness(t, "jobs:\n- {name: slow, output: o, schedule: '@every 1h'}\n", func(ctx context.Context, j *Job, r *Run) (Result, error) {
		if calls.Add(1) == 1 {
			<-release
		}
		return Result{Complete: true}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.s.Run(ctx); close(done) }()
	h.clock.BlockUntil(1)
	h.clock.Advance(time.Hour) // run 1 starts and blocks
	waitFor(t, "first run", func() bool { return calls.Load() == 1 })
	h.clock.BlockUntil(1)
	h.clock.Advance(time.Hour) // overlaps: skipped
	waitFor(t, "skip", func() bool { rs, _ := h.store.List("slow"); return len(rs) == 2 })
	close(release)
	waitFor(t, "first done", func() bool { r, _ := h.store.Get("slow-1"); return r != nil && r.Outcome == OK })
	// The run is recorded OK a moment before the job is released; a slot
	// firing in between is (rightly) skipped, so wait for the release.
	waitFor(t, "first released", func() bool {
		if h.s.claim("slow") {
			h.s.release("slow")
			return true
		}
		return false
	})
	h.clock.BlockUntil(1)
	h.clock.Advance(time.Hour)
	waitFor(t, "third", func() bool { r, _ := h.store.Get("slow-3"); return r != nil && r.Outcome == OK })
	cancel()
	<-done
	rs, _ := h.store.List("slow")
	want := []Outcome{OK, Skipped, OK}
	for i, r := range rs {
		if r.Outcome != want[i] {
			t.Errorf("run %d: %s, want %s", i, r.Outcome, want[i])
		}
	}
	if !rs[0].Scheduled.Equal(time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)) || !rs[1].Scheduled.Equal(time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("scheduled %v %v", rs[0].Scheduled, rs[1].Scheduled)
	}
}

func TestFailedRunRecordedAndNextRuns(t *testing.T) {
	var hits []Payload
	var mu sync.Mutex
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(500) // retried
			return
		}
		var p Payload
		json.NewDecoder(r.Body).Decode(&p)
		mu.Lock()
		hits = append(hits, p)
		mu.Unlock()
	}))
	defer srv.Close()
	var calls atomic.Int32
	findingsByRun := [][]FindingRef{nil, {{ID: "f1", Rule: "r", Severity: "high"}}, {{ID: "f1", Rule: "r", Severity: "high"}}}
	h := newHarness(t, "jobs:\n- {name: j, output: o, schedule: '@every 1h', webhook: {url: '"+srv.URL+"'}}\n", func(ctx context.Context, j *Job, r *Run) (Result, error) {
		i := calls.Add(1) - 1
		if i == 0 {
			return Result{}, errors.New("target unreachable")
		}
		return Result{Complete: true, Objects: 3, Findings: findingsByRun[i]}, nil
	})
	h.s.Notifier = NewNotifier(h.store, h.s.Metrics, slogDiscard(), h.s.Jobs)
	h.s.Notifier.Backoff = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.s.Notifier.Run(ctx)
	for i := 0; i < 3; i++ {
		if _, err := h.s.RunNow(ctx, "j"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "notifications", func() bool {
		r1, _ := h.store.Get("j-1")
		r2, _ := h.store.Get("j-2")
		return r1.Notify == NotifySent && r2.Notify == NotifySent
	})
	r1, _ := h.store.Get("j-1")
	if r1.Outcome != Failed || r1.Error != "target unreachable" || r1.NotifyAttempts != 2 {
		t.Errorf("run 1: %+v", r1)
	}
	r3, _ := h.store.Get("j-3")
	if r3.Outcome != OK || r3.Notify != NotifyNone || len(r3.Delta.Unchanged) != 1 {
		t.Errorf("run 3 (unchanged, not notified): %+v", r3)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(hits) != 2 || hits[0].Outcome != Failed || len(hits[1].New) != 1 || hits[1].New[0].ID != "f1" {
		t.Errorf("webhooks: %+v", hits)
	}

	// Metrics scraped over HTTP.
	var ready atomic.Bool
	ready.Store(true)
	ms := httptest.NewServer(Handler(h.s.Metrics, &ready))
	defer ms.Close()
	resp, err := http.Get(ms.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	runs := fams["sseaudit_schedule_runs_total"]
	if runs == nil || len(runs.Metric) != 2 {
		t.Fatalf("runs_total: %v", runs)
	}
	if f := fams["sseaudit_schedule_findings"]; f == nil || f.Metric[0].GetGauge().GetValue() != 1 {
		t.Errorf("findings: %v", f)
	}
	if f := fams["sseaudit_schedule_objects_scanned"]; f == nil || f.Metric[0].GetGauge().GetValue() != 3 {
		t.Errorf("objects: %v", f)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		r, err := http.Get(ms.URL + p)
		if err != nil || r.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, r, err)
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
}

func TestLockAndRecover(t *testing.T) {
	p := filepath.Join(t.TempDir(), "runs.db")
	st, err := OpenStore(p, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	r := &Run{Job: "j", Outcome: Running, Notify: ""}
	st.Create(r)
	r2 := &Run{Job: "j", Outcome: OK, Notify: NotifyPending}
	st.Create(r2)
	if _, err := OpenStore(p, 100*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	st.Close()
	st, err = OpenStore(p, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inc, pend, err := st.Recover(time.Now())
	if err != nil || len(inc) != 1 || inc[0].ID != "j-1" || len(pend) != 1 || pend[0].ID != "j-2" {
		t.Fatalf("recover: %v %v %v", inc, pend, err)
	}
	if got, _ := st.Get("j-1"); got.Outcome != Incomplete {
		t.Fatal(got.Outcome)
	}
	for i := 0; i < 3; i++ {
		st.Put(&Run{ID: "j-" + string(rune('3'+i)), Job: "j", Outcome: OK, Finished: time.Now()})
	}
	if n, err := st.Prune(2, 0, time.Now()); err != nil || n != 3 {
		t.Fatalf("prune: %d %v", n, err)
	}
}

func TestExampleConfig(t *testing.T) {
	all := func(string) string { return "set" }
	if _, err := LoadConfig("../deploy/schedule.example.yaml", all); err != nil {
		t.Fatal(err)
	}
}

// TestRetentionPrunesHistoryToo: retention applies to the history database
// as well as to the runs, always keeping one scan per target (the next
// run's drift baseline).
func TestRetentionPrunesHistoryToo(t *testing.T) {
	h := newHarness(t, "jobs:\n- {name: j, output: o, schedule: '@every 1h'}\n", func(ctx context.Context, j *Job, r *Run) (Result, error) {
		return Result{Complete: true}, nil
	})
	type call struct {
		keep int
		age  time.Duration
	}
	var calls []call
	h.s.PruneHistory = func(keep int, age time.Duration) (int, error) {
		calls = append(calls, call{keep, age})
		return 0, nil
	}
	h.s.Retention = Retention{KeepRuns: 0, KeepDays: 3}
	if _, err := h.s.RunNow(context.Background(), "j"); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != (call{1, 72 * time.Hour}) {
		t.Errorf("history pruned with %+v, want once with keep 1, 72h", calls)
	}
}
