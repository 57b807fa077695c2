package reports

import (
	"io"
	"runtime"
	"testing"
)

// heapProbe is a writer that discards what it is given and, every MiB,
// collects garbage and records the live heap: the most a renderer held at
// once while writing.
type heapProbe struct {
	n, next int
	peak    uint64
}

func (p *heapProbe) Write(b []byte) (int, error) {
	p.n += len(b)
	if p.n >= p.next {
		p.next = p.n + 1<<20
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		p.peak = max(p.peak, ms.HeapAlloc)
	}
	return len(b), nil
}

// TestReportWritersHoldLittle: writing a report of 10,000 findings of one
// rule (10,000 buckets of unencrypted objects) holds little beyond the
// model: JUnit writes a case at a time (it built the rule's whole suite,
// two copies of every finding's detail, about 40 MB), and the streamed
// formats a finding at a time.
func TestReportWritersHoldLittle(t *testing.T) {
	m := aggregateModel(10000, 1000)
	for _, r := range []struct {
		name   string
		render func(io.Writer, *Model) error
	}{
		{"junit", FindingsJUnit}, {"ocsf", OCSF}, {"sarif", SARIF}, {"report.json", func(w io.Writer, m *Model) error { return m.WriteJSON(w) }},
	} {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		p := &heapProbe{}
		if err := r.render(p, m); err != nil {
			t.Fatal(err)
		}
		grew := int64(p.peak) - int64(base)
		t.Logf("%s: %d MB written, live heap grew by at most %.1f MiB", r.name, p.n>>20, float64(grew)/(1<<20))
		if grew > 8<<20 {
			t.Errorf("%s: writing 10,000 findings held %.1f MiB beyond the model, want at most 8 MiB", r.name, float64(grew)/(1<<20))
		}
	}
}
