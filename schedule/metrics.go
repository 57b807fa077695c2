package schedule

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the scheduler's Prometheus metrics, on their own registry.
type Metrics struct {
	Registry      *prometheus.Registry
	runs          *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	findings      *prometheus.GaugeVec
	objects       *prometheus.GaugeVec
	lastSuccess   *prometheus.GaugeVec
	notifications *prometheus.CounterVec
}

// NewMetrics registers the metrics on a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sseaudit_schedule_runs_total",
			Help: "Scheduled runs by job and outcome."}, []string{"job", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sseaudit_schedule_run_duration_seconds",
			Help: "Duration of runs.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)}, []string{"job"}),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sseaudit_schedule_findings",
			Help: "Open findings of the last successful run by severity and rule."}, []string{"job", "severity", "rule"}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sseaudit_schedule_objects_scanned",
			Help: "Objects scanned by the last successful run."}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sseaudit_schedule_last_success_timestamp_seconds",
			Help: "Unix time the last successful run finished."}, []string{"job"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sseaudit_schedule_notifications_total",
			Help: "Webhook notifications by job and result."}, []string{"job", "result"}),
	}
	m.Registry.MustRegister(m.runs, m.duration, m.findings, m.objects, m.lastSuccess, m.notifications,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observe(r *Run) {
	m.runs.WithLabelValues(r.Job, string(r.Outcome)).Inc()
	if !r.Started.IsZero() && !r.Finished.IsZero() {
		m.duration.WithLabelValues(r.Job).Observe(r.Finished.Sub(r.Started).Seconds())
	}
	if r.Outcome != OK {
		return
	}
	m.findings.DeletePartialMatch(prometheus.Labels{"job": r.Job})
	for _, f := range r.Findings {
		m.findings.WithLabelValues(r.Job, f.Severity, f.Rule).Inc()
	}
	m.objects.WithLabelValues(r.Job).Set(float64(r.Objects))
	m.lastSuccess.WithLabelValues(r.Job).Set(float64(r.Finished.Unix()))
}

// Handler serves /healthz, /readyz (ready reports readiness) and /metrics.
func Handler(m *Metrics, ready *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ready == nil || !ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	return mux
}
