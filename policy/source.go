package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/sseaudit/sseaudit/snapshot"
)

// Source is a snapshot the engine can read: its summary (everything but
// the objects), then its buckets one at a time with b.Objects filled. The
// signatures are those of snapshot.ReadSummary and snapshot.EachBucket.
// EachBucket must yield buckets in the order of the summary's Buckets.
type Source interface {
	ReadSummary() (snapshot.Summary, error)
	EachBucket(fn func(b snapshot.Bucket) error) error
}

// FileSource reads a snapshot file with package snapshot, streaming one
// bucket at a time.
type FileSource string

// ReadSummary implements Source.
func (s FileSource) ReadSummary() (snapshot.Summary, error) { return snapshot.ReadSummary(string(s)) }

// EachBucket implements Source.
func (s FileSource) EachBucket(fn func(snapshot.Bucket) error) error {
	return snapshot.EachBucket(string(s), fn)
}

// fastSource is implemented by FileSource: the engine's fast path. The
// summary is read without decoding objects (snapshot.ReadHeaders) and each
// bucket's raw JSON (snapshot.EachRawBucket) is parsed straight into AST
// terms by the workers (jsonast.go), which check each object's members
// against the format (snapshot.CheckObjectMembers) and its bucket name.
type fastSource interface {
	fastSummary() (snapshot.Summary, error)
	eachRaw(fn func(raw []byte) error) error
}

func (s FileSource) fastSummary() (snapshot.Summary, error) { return snapshot.ReadHeaders(string(s)) }

func (s FileSource) eachRaw(fn func([]byte) error) error {
	return snapshot.EachRawBucket(string(s), fn)
}

// bucketData is one bucket to evaluate: its header and either its objects
// (head.Objects, from EachBucket) or its raw JSON (from a file).
type bucketData struct {
	head *snapshot.Bucket
	raw  []byte
}

// readSummary reads a source's summary, by the fast path when it has one.
func readSummary(src Source) (snapshot.Summary, error) {
	if f, ok := src.(fastSource); ok {
		return f.fastSummary()
	}
	return src.ReadSummary()
}

// eachBucket walks a source's buckets; sum is the summary readSummary gave.
func eachBucket(src Source, sum *snapshot.Summary, fn func(bucketData) error) error {
	if f, ok := src.(fastSource); ok {
		i := 0
		return f.eachRaw(func(raw []byte) error {
			if i >= len(sum.Buckets) {
				return fmt.Errorf("%w: more buckets than the summary read before (the file changed?)", snapshot.ErrFormat)
			}
			d := bucketData{head: &sum.Buckets[i], raw: raw}
			i++
			return fn(d)
		})
	}
	return src.EachBucket(func(b snapshot.Bucket) error { return fn(bucketData{head: &b}) })
}

// MemorySnapshot is a snapshot held in memory (tests, small scans): a
// summary whose buckets carry their Objects.
type MemorySnapshot snapshot.Summary

// ReadSummary implements Source: the summary with every bucket's Objects nil.
func (m *MemorySnapshot) ReadSummary() (snapshot.Summary, error) {
	s := snapshot.Summary(*m)
	s.Buckets = make([]snapshot.Bucket, len(m.Buckets))
	for i, b := range m.Buckets {
		b.Objects = nil
		s.Buckets[i] = b
	}
	return s, nil
}

// EachBucket implements Source.
func (m *MemorySnapshot) EachBucket(fn func(snapshot.Bucket) error) error {
	for _, b := range m.Buckets {
		if b.Objects == nil {
			b.Objects = []snapshot.Object{}
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

var errStop = errors.New("stop")

// prevJoin yields, for each bucket of the current snapshot in order, the
// same bucket of the previous snapshot. When the common buckets come in the
// same relative order in both (the normal case: scans list buckets by name)
// it reads the previous snapshot once, in step with the current one, so
// memory holds one previous bucket at a time. Otherwise it re-reads the
// previous snapshot for each bucket it needs (slow, still bounded).
type prevJoin struct {
	src      Source
	sum      *snapshot.Summary
	pos      map[string]int // bucket name -> index in the previous summary
	inOrder  bool
	ctx      context.Context
	ch       chan bucketData
	errc     chan error
	cur      *bucketData
	done     bool
	started  bool
	cancel   context.CancelFunc
	finished chan struct{}
}

func newPrevJoin(ctx context.Context, src Source, prev, cur *snapshot.Summary) *prevJoin {
	j := &prevJoin{src: src, sum: prev, pos: make(map[string]int, len(prev.Buckets)), inOrder: true}
	for i, b := range prev.Buckets {
		if _, dup := j.pos[b.Name]; !dup {
			j.pos[b.Name] = i
		}
	}
	last := -1
	for _, b := range cur.Buckets {
		p, ok := j.pos[b.Name]
		if !ok {
			continue
		}
		if p <= last {
			j.inOrder = false
			break
		}
		last = p
	}
	j.ctx, j.cancel = context.WithCancel(ctx)
	return j
}

func (j *prevJoin) start() {
	j.started = true
	j.ch = make(chan bucketData)
	j.errc = make(chan error, 1)
	j.finished = make(chan struct{})
	go func() {
		defer close(j.finished)
		err := eachBucket(j.src, j.sum, func(d bucketData) error {
			select {
			case j.ch <- d:
				return nil
			case <-j.ctx.Done():
				return errStop
			}
		})
		if errors.Is(err, errStop) {
			err = nil
		}
		j.errc <- err
		close(j.ch)
	}()
}

// get returns the previous snapshot's bucket called name, or nil.
func (j *prevJoin) get(name string) (*bucketData, error) {
	want, ok := j.pos[name]
	if !ok {
		return nil, nil
	}
	if !j.inOrder {
		return j.find(name)
	}
	if !j.started {
		j.start()
	}
	for !j.done {
		if j.cur != nil {
			if j.cur.head.Name == name {
				d := j.cur
				j.cur = nil
				return d, nil
			}
			if j.pos[j.cur.head.Name] > want {
				return nil, nil // not in step (a duplicate name): treat as absent
			}
			j.cur = nil
		}
		d, ok := <-j.ch
		if !ok {
			j.done = true
			if err := <-j.errc; err != nil {
				return nil, fmt.Errorf("previous snapshot: %w", err)
			}
			break
		}
		j.cur = &d
	}
	return nil, nil
}

// find re-reads the previous snapshot up to bucket name.
func (j *prevJoin) find(name string) (*bucketData, error) {
	var found *bucketData
	err := eachBucket(j.src, j.sum, func(d bucketData) error {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		if d.head.Name == name {
			found = &d
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("previous snapshot: %w", err)
	}
	return found, nil
}

// close stops the background reader and waits for it.
func (j *prevJoin) close() {
	j.cancel()
	if j.started {
		for range j.ch {
		}
		<-j.finished
	}
}
