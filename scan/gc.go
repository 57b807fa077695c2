package scan

import (
	"runtime/debug"
	"sync"
)

// DefaultCensusGCPercent is the garbage collector's target (GOGC) while a
// census runs, unless Config.GCPercent says otherwise.
//
// A census allocates a little for every request and keeps almost nothing
// (its memory is bounded by constants, see census.go), so the collector
// runs often for little: at the default GOGC of 100 it cost about a fifth
// of the census's CPU on 2 cores, CPU the endpoint (on the same machine
// in a benchmark, or any other process) then lacks. At 400 the heap may
// grow to five times the live heap instead of twice; measured against the
// reference with `sseaudit scan`, peak RSS went from 61-70 MB to 81-88 MB
// (1 x 20,000 and 500 x 10 objects) and the census's CPU per object fell
// by about 12 us.
const DefaultCensusGCPercent = 400

// gcTuning raises the process's GC percent while at least one census
// runs and puts it back when the last one ends. The setting is the
// process's (runtime/debug), so the count of censuses raising it is too:
// with two scans in one process, the first one ending must not lower it
// under the second, nor the second restore the first's raised value.
var gcTuning struct {
	mu     sync.Mutex
	active int
	saved  int // the percent before the first census raised it
	raised bool
}

// raiseGC sets the GC percent to at least percent until the returned
// function is called. It never lowers it, and leaves GOGC=off alone.
// percent < 0 changes nothing.
func raiseGC(percent int) (restore func()) {
	if percent < 0 {
		return func() {}
	}
	g := &gcTuning
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.active == 0 {
		prev := debug.SetGCPercent(percent)
		g.saved, g.raised = prev, prev >= 0 && prev < percent
		if !g.raised {
			debug.SetGCPercent(prev)
		}
	}
	g.active++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.active--; g.active == 0 && g.raised {
				debug.SetGCPercent(g.saved)
				g.raised = false
			}
		})
	}
}
