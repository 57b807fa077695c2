package scan

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal (an *os.File or anything
// else with a file descriptor).
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress draws one bar per bucket: objects inspected out of objects
// listed so far, with the rate and the ETA. It is used from the scanner's
// writing goroutine only. A nil *progress draws nothing.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
	max int64
}

// newProgress returns nil (no output) unless w is a terminal; force is
// for tests, which have no terminal.
func newProgress(w io.Writer, force bool) *progress {
	if w == nil || (!force && !isTerminal(w)) {
		return nil
	}
	return &progress{w: w}
}

// bucket starts the bar of bucket i (0-based) of n.
func (p *progress) bucket(i, n int, name string) {
	if p == nil {
		return
	}
	p.end()
	// The bar is "finished" once its count reaches its maximum, so while
	// the listing runs the maximum is one more than what was listed.
	p.max = 1
	p.bar = progressbar.NewOptions64(p.max,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(fmt.Sprintf("[%d/%d] %s", i+1, n, name)),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("obj"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetRenderBlankState(true),
	)
}

// update sets the bar's maximum to listed (+1 while listing goes on) and
// adds one inspected object.
func (p *progress) update(listed int64, listing bool) {
	if p == nil || p.bar == nil {
		return
	}
	// The bar finishes (and stops drawing) when its count reaches its
	// maximum, so the maximum stays above the count after this Add while
	// the listing goes on, even if the listed count lags behind.
	max := max(listed, int64(p.bar.State().CurrentNum)+1)
	if listing {
		max++
	}
	if max != p.max {
		p.max = max
		p.bar.ChangeMax64(max)
	}
	_ = p.bar.Add(1)
}

// end finishes the current bar and moves to a new line.
func (p *progress) end() {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Finish()
	fmt.Fprintln(p.w)
	p.bar = nil
}
