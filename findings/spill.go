package findings

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
)

// Spilling findings to disk
//
// An estate of many buckets gives many aggregated findings (one per rule,
// bucket and distinguishing fact), each a few kilobytes with its example,
// sample and evidence. A SpillWriter keeps memory flat in their number:
// it holds at most RunSize of them, writes each full batch as a sorted run
// (JSON lines) to a temporary file, and merges the runs into one sorted
// file on Close. Readers (Document.Each) then decode one finding at a time.
// JSON is the format because it round-trips a finding exactly as Encode
// writes it (numbers in observed, expected and evidence data decode as
// json.Number), so a spilled document renders the same bytes.

// DefaultRunSize is how many findings a SpillWriter holds before it writes
// a sorted run: a few tens of megabytes of aggregated findings.
const DefaultRunSize = 4096

// mergeFanIn bounds the runs (open files) one merge pass reads.
const mergeFanIn = 64

// SpillWriter collects findings and returns them sorted as Sort sorts
// them (stable: findings that compare equal keep the order they were
// added in). It is for one goroutine.
type SpillWriter struct {
	dir     string
	runSize int
	buf     []Finding
	runs    []string
	n       int
	err     error
	closed  bool
}

// NewSpillWriter spills into temporary files in dir ("" for the system's
// temporary directory), runSize findings a run (DefaultRunSize when not
// positive).
func NewSpillWriter(dir string, runSize int) *SpillWriter {
	if runSize <= 0 {
		runSize = DefaultRunSize
	}
	return &SpillWriter{dir: dir, runSize: runSize}
}

// Add adds findings (copied: the caller may reuse fs).
func (w *SpillWriter) Add(fs ...Finding) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("findings: spill writer is closed")
	}
	for i := range fs {
		w.buf = append(w.buf, fs[i])
		w.n++
		if len(w.buf) >= w.runSize {
			if err := w.writeRun(); err != nil {
				w.err = err
				return err
			}
		}
	}
	return nil
}

// writeRun sorts the buffer and writes it as one run.
func (w *SpillWriter) writeRun() error {
	Sort(w.buf)
	f, err := os.CreateTemp(w.dir, "sseaudit-findings-run-*.jsonl")
	if err != nil {
		return fmt.Errorf("findings: spill: %w", err)
	}
	w.runs = append(w.runs, f.Name())
	bw := bufio.NewWriterSize(f, 1<<16)
	for i := range w.buf {
		if err := writeLine(bw, &w.buf[i]); err != nil {
			f.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("findings: spill: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("findings: spill: %w", err)
	}
	clear(w.buf)
	w.buf = w.buf[:0]
	return nil
}

func writeLine(bw *bufio.Writer, f *Finding) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("findings: spill finding %s: %w", f.ID, err)
	}
	bw.Write(b)
	if err := bw.WriteByte('\n'); err != nil {
		return fmt.Errorf("findings: spill: %w", err)
	}
	return nil
}

// Close ends the writer. When every finding fit in one run, they are
// returned in memory, sorted, and the Spill is nil; otherwise the runs are
// merged into one sorted file, returned as a Spill (the slice is nil),
// which the caller removes when done.
func (w *SpillWriter) Close() ([]Finding, *Spill, error) {
	if w.closed {
		return nil, nil, errors.New("findings: spill writer closed twice")
	}
	w.closed = true
	if w.err != nil {
		w.removeRuns()
		return nil, nil, w.err
	}
	if len(w.runs) == 0 {
		fs := w.buf
		w.buf = nil
		if fs == nil {
			fs = []Finding{}
		}
		Sort(fs)
		return fs, nil, nil
	}
	if len(w.buf) > 0 {
		if err := w.writeRun(); err != nil {
			w.removeRuns()
			return nil, nil, err
		}
	}
	w.buf = nil
	// Merge passes of at most mergeFanIn runs, oldest first, so that
	// findings that compare equal keep the order they were added in; the
	// last pass counts the summary.
	for len(w.runs) > 1 {
		var next []string
		for i := 0; i < len(w.runs); i += mergeFanIn {
			group := w.runs[i:min(i+mergeFanIn, len(w.runs))]
			out, err := w.merge(group)
			if err != nil {
				w.removeRuns()
				for _, n := range next {
					os.Remove(n)
				}
				return nil, nil, err
			}
			for _, r := range group {
				os.Remove(r)
			}
			next = append(next, out)
		}
		w.runs = next
	}
	// One run left: count it (a pass that only reads).
	sp, err := openSpill(w.runs[0], w.n)
	if err != nil {
		w.removeRuns()
		return nil, nil, err
	}
	w.runs = nil
	c := newSummarizer()
	seen := map[string]bool{}
	err = sp.Each(func(f *Finding) error {
		c.add(f)
		if !seen[f.Rule] {
			seen[f.Rule] = true
			sp.firsts = append(sp.firsts, *f)
		}
		return nil
	})
	if err != nil {
		sp.Remove()
		return nil, nil, err
	}
	sp.sum = c.summary()
	return nil, sp, nil
}

// openSpill opens the sorted run at path as a Spill. Where the system
// allows it the file is unlinked at once (its descriptor keeps it): it
// then needs no removal, even when the process dies. Elsewhere Remove, or
// the garbage collector once the Spill is unreachable, removes it.
func openSpill(path string, n int) (*Spill, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("findings: spill: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("findings: spill: %w", err)
	}
	sp := &Spill{f: f, size: st.Size(), n: n, path: path}
	if os.Remove(path) == nil {
		sp.path = ""
	}
	sp.cleanup = runtime.AddCleanup(sp, func(h spillHandle) {
		h.f.Close()
		if h.path != "" {
			os.Remove(h.path)
		}
	}, spillHandle{f, sp.path})
	return sp, nil
}

type spillHandle struct {
	f    *os.File
	path string
}

func (w *SpillWriter) removeRuns() {
	for _, r := range w.runs {
		os.Remove(r)
	}
	w.runs = nil
}

// merge merges sorted runs into a new run file.
func (w *SpillWriter) merge(runs []string) (string, error) {
	out, err := os.CreateTemp(w.dir, "sseaudit-findings-run-*.jsonl")
	if err != nil {
		return "", fmt.Errorf("findings: spill: %w", err)
	}
	fail := func(err error) (string, error) {
		out.Close()
		os.Remove(out.Name())
		return "", err
	}
	h := &runHeap{}
	defer func() {
		for _, r := range h.rs {
			r.f.Close()
		}
	}()
	for i, name := range runs {
		r, err := openRun(name, i)
		if err != nil {
			return fail(err)
		}
		ok, err := r.next()
		if err != nil {
			r.f.Close()
			return fail(err)
		}
		if !ok {
			r.f.Close()
			continue
		}
		h.rs = append(h.rs, r)
	}
	heap.Init(h)
	bw := bufio.NewWriterSize(out, 1<<16)
	for h.Len() > 0 {
		r := h.rs[0]
		// The line as it was read: the finding was encoded once.
		bw.Write(r.line)
		if err := bw.WriteByte('\n'); err != nil {
			return fail(fmt.Errorf("findings: spill: %w", err))
		}
		ok, err := r.next()
		if err != nil {
			return fail(err)
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			r.f.Close()
			heap.Pop(h)
		}
	}
	if err := bw.Flush(); err != nil {
		return fail(fmt.Errorf("findings: spill: %w", err))
	}
	if err := out.Close(); err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("findings: spill: %w", err)
	}
	return out.Name(), nil
}

// runReader reads one run, a finding at a time.
type runReader struct {
	f    io.Closer
	br   *bufio.Reader
	ord  int // the run's place: earlier runs win ties (stability)
	line []byte
	cur  Finding
}

func openRun(name string, ord int) (*runReader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("findings: spill: %w", err)
	}
	return &runReader{f: f, br: bufio.NewReaderSize(f, 1<<16), ord: ord}, nil
}

// next reads the next finding (false at the end of the run).
func (r *runReader) next() (bool, error) {
	line, err := r.br.ReadBytes('\n')
	if err == io.EOF && len(line) == 0 {
		return false, nil
	}
	if err != nil && err != io.EOF {
		return false, fmt.Errorf("findings: spill: %w", err)
	}
	r.line = bytes.TrimSuffix(line, []byte("\n"))
	r.cur = Finding{}
	if err := decodeLine(r.line, &r.cur); err != nil {
		return false, err
	}
	return true, nil
}

func decodeLine(line []byte, f *Finding) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(f); err != nil {
		return fmt.Errorf("findings: spill: read back: %w", err)
	}
	return nil
}

type runHeap struct{ rs []*runReader }

func (h *runHeap) Len() int { return len(h.rs) }
func (h *runHeap) Less(i, j int) bool {
	if c := Compare(h.rs[i].cur, h.rs[j].cur); c != 0 {
		return c < 0
	}
	return h.rs[i].ord < h.rs[j].ord
}
func (h *runHeap) Swap(i, j int) { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *runHeap) Push(x any)    { h.rs = append(h.rs, x.(*runReader)) }
func (h *runHeap) Pop() any {
	x := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return x
}

// Spill is a sorted file of findings written by a SpillWriter. Its
// methods may be called from several goroutines (each reads the file
// through its own section).
type Spill struct {
	f       *os.File
	size    int64
	path    string // "" once unlinked
	n       int
	sum     Summary
	firsts  []Finding // each rule's first finding, in order
	cleanup runtime.Cleanup
}

// reader reads the spill from its beginning.
func (s *Spill) reader() (*bufio.Reader, error) {
	if s.f == nil {
		return nil, errors.New("findings: spill: read after Remove")
	}
	return bufio.NewReaderSize(io.NewSectionReader(s.f, 0, s.size), 1<<16), nil
}

// Len is the number of findings.
func (s *Spill) Len() int { return s.n }

// Summary counts the findings as Summarize does (a copy: the caller may
// change it).
func (s *Spill) Summary() Summary {
	c := s.sum
	c.BySeverity = maps.Clone(s.sum.BySeverity)
	c.SuppressedBySeverity = maps.Clone(s.sum.SuppressedBySeverity)
	c.ByRule = maps.Clone(s.sum.ByRule)
	c.ByCategory = maps.Clone(s.sum.ByCategory)
	return c
}

// Each calls fn with every finding in order, each decoded anew (fn may
// keep it), stopping at fn's first error.
func (s *Spill) Each(fn func(*Finding) error) error {
	br, err := s.reader()
	if err != nil {
		return err
	}
	// One decoder for the whole file (the lines are JSON values).
	dec := json.NewDecoder(br)
	dec.UseNumber()
	for {
		var f Finding
		if err := dec.Decode(&f); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("findings: spill: read back: %w", err)
		}
		if err := fn(&f); err != nil {
			return err
		}
	}
}

// Remove closes and deletes the spill's file now (without it, the file
// goes when the Spill is garbage collected or the process ends). The
// spill cannot be read after.
func (s *Spill) Remove() error {
	if s == nil || s.f == nil {
		return nil
	}
	s.cleanup.Stop()
	err := s.f.Close()
	s.f = nil
	if s.path != "" {
		if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
		s.path = ""
	}
	return err
}

// Collect reads every finding of d into memory (tests and small tools:
// the memory grows with the findings).
func Collect(d *Document) ([]Finding, error) {
	out := make([]Finding, 0, d.Len())
	err := d.Each(func(f *Finding) error {
		out = append(out, *f)
		return nil
	})
	return slices.Clip(out), err
}

// EachRange calls fn with the findings at positions lo (inclusive) to hi
// (exclusive) in order. The findings before lo are skipped without being
// decoded.
func (s *Spill) EachRange(lo, hi int, fn func(*Finding) error) error {
	br, err := s.reader()
	if err != nil {
		return err
	}
	for i := 0; i < hi; i++ {
		if i < lo {
			// Skipped: read to the line's end without keeping it.
			_, err := br.ReadSlice('\n')
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("findings: spill: %w", err)
			}
			continue
		}
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("findings: spill: %w", err)
		}
		var x Finding
		if err := decodeLine(bytes.TrimSuffix(line, []byte("\n")), &x); err != nil {
			return err
		}
		if err := fn(&x); err != nil {
			return err
		}
	}
	return nil
}

// EachRange is Each for the findings at positions lo to hi (exclusive).
func (d *Document) EachRange(lo, hi int, fn func(*Finding) error) error {
	if d.Spill != nil {
		return d.Spill.EachRange(lo, hi, fn)
	}
	hi = min(hi, len(d.Findings))
	for i := max(lo, 0); i < hi; i++ {
		if err := fn(&d.Findings[i]); err != nil {
			return err
		}
	}
	return nil
}
