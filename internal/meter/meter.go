// Package meter measures a benchmark's own process: the peak of its heap
// in use, its CPU time and its peak resident set. It is for benchmarks
// only (the policy engine's and the pipeline's scale benchmarks share it)
// and must not be imported by the tool itself.
package meter

import (
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// HeapPeak is the peak of a heap measure sampled until Stop.
type HeapPeak struct {
	peak atomic.Uint64
	stop chan struct{}
	done sync.WaitGroup
}

// StartHeapPeak samples the heap in use (objects plus fragmentation, like
// MemStats.HeapInuse) every 10 ms.
func StartHeapPeak() *HeapPeak {
	return start([]string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes"}, 10*time.Millisecond, false)
}

// StartLivePeak samples the live heap as of the last garbage collection
// (/gc/heap/live:bytes, which unlike the heap in use does not depend on
// when the collector runs) every 5 ms, and once more after a collection
// at Stop.
func StartLivePeak() *HeapPeak {
	return start([]string{"/gc/heap/live:bytes"}, 5*time.Millisecond, true)
}

// start samples the sum of the named metrics (runtime/metrics, not
// ReadMemStats: it does not stop the world).
func start(names []string, every time.Duration, gcAtStop bool) *HeapPeak {
	h := &HeapPeak{stop: make(chan struct{})}
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	read := func() {
		metrics.Read(s)
		var v uint64
		for _, x := range s {
			v += x.Value.Uint64()
		}
		if v > h.peak.Load() {
			h.peak.Store(v)
		}
	}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			read()
			select {
			case <-h.stop:
				if gcAtStop {
					runtime.GC()
					read()
				}
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// Stop ends sampling and returns the peak in bytes.
func (h *HeapPeak) Stop() uint64 {
	close(h.stop)
	h.done.Wait()
	return h.peak.Load()
}

// CPUTime is the process's user+system CPU time so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// VMHWM is the process's peak resident set (Linux) in bytes, or 0.
func VMHWM() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			return n << 10
		}
	}
	return 0
}
