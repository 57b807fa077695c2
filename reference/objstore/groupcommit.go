package objstore

import (
	"fmt"
	"os"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Group commit. Every acknowledged write is durable: its data file was
// fsynced, then data/ (holding its new name), then the bbolt transaction
// referencing it. Done one writer at a time, concurrent writers queue on
// bbolt's single writer lock, and each pays two fdatasyncs of meta.db and
// one fsync of data/ on its own. Here writers that arrive while a sync or
// commit is running wait together and share the next one: one fsync of
// data/ covers every rename made before it started, one bbolt transaction
// commits every queued update. Nothing is acknowledged before the sync or
// commit that covers it has returned, so what an acknowledged write
// promises is unchanged; only the number of syncs per write drops as the
// number of concurrent writers grows. A lone writer never waits for
// company: a sync or commit starts as soon as none is running.

// dirSyncer coalesces fsyncs of one directory.
type dirSyncer struct {
	fsync func() error // of the directory

	mu       sync.Mutex
	cond     *sync.Cond
	running  bool
	started  uint64 // rounds started
	finished uint64 // rounds finished (rounds finish in order)
	failed   uint64 // the last round whose fsync failed (0 = none)
	failErr  error
	waiting  int // callers waiting for a round (observed by tests)
}

func newDirSyncer(fd *os.File) *dirSyncer {
	d := &dirSyncer{fsync: fd.Sync}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// sync returns once an fsync of the directory that started after sync was
// called has succeeded, so every entry created before the call is
// durable. If that round, or one after it that the caller waited for,
// failed, it returns the error: after a failed fsync the kernel may have
// dropped dirty state, and a later success does not prove it was written.
func (d *dirSyncer) sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	// The round running now may have started before the caller's rename:
	// only the next one to start is known to cover it.
	target := d.started + 1
	for d.finished < target {
		if d.running {
			d.waiting++
			d.cond.Wait()
			d.waiting--
			continue
		}
		d.running = true
		d.started++
		round := d.started
		d.mu.Unlock()
		err := d.fsync()
		d.mu.Lock()
		d.running = false
		d.finished = round
		if err != nil {
			d.failed, d.failErr = round, err
		}
		d.cond.Broadcast()
	}
	if d.failed >= target {
		return d.failErr
	}
	return nil
}

// committer runs bbolt update functions of concurrent callers in shared
// transactions (group commit). A caller whose function arrives while a
// commit is running queues; when that commit ends, the first queued
// caller becomes the leader and commits everything queued by then in one
// transaction. The functions of one transaction run one after another, in
// arrival order, each seeing the writes of those before it, exactly as if
// each had its own transaction in that order.
//
// A function may run more than once (its transaction is rolled back and
// retried when another function in it fails), so it must set its results
// afresh on every run and change nothing outside tx that a rerun would
// not overwrite. A function that fails is rerun in a transaction of its
// own after the rest committed, and that run's error is the caller's, so
// an error never depends on writes that did not commit.
type committer struct {
	// runTx runs a write transaction (DiskStore.update: memory faults
	// reading a corrupt page become a typed error, not a crash; the
	// leader runs every update of its batch on its own goroutine).
	runTx func(func(*bolt.Tx) error) error
	// panicked is the error of one update that panicked (nil: a generic one).
	panicked func(any) error

	mu      sync.Mutex
	queue   []*commitCall
	leading bool
}

type commitCall struct {
	fn   func(*bolt.Tx) error
	done chan commitResult // one message: lead, then (as leader) the result
}

type commitResult struct {
	lead bool
	err  error
}

// maxCommitBatch bounds one transaction; more queued functions wait for
// the next one.
const maxCommitBatch = 256

// update runs fn in a write transaction shared with other callers' and
// returns once that transaction committed (nil) or failed.
func (g *committer) update(fn func(*bolt.Tx) error) error {
	c := &commitCall{fn: fn, done: make(chan commitResult, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.leading {
		g.mu.Unlock()
		if r := <-c.done; !r.lead {
			return r.err
		}
		g.mu.Lock()
	}
	g.leading = true
	n := min(len(g.queue), maxCommitBatch)
	batch := make([]*commitCall, n)
	copy(batch, g.queue)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	g.mu.Unlock()

	g.run(batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].done <- commitResult{lead: true} // hand over; leading stays true
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	return (<-c.done).err
}

// run commits batch in one transaction and delivers every call's result.
func (g *committer) run(batch []*commitCall) {
	if len(batch) == 0 {
		return
	}
	failed := -1
	err := g.runTx(func(tx *bolt.Tx) error {
		for i, c := range batch {
			if err := g.safeCall(c.fn, tx); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	if failed < 0 { // committed, or the commit itself failed for all
		for _, c := range batch {
			c.done <- commitResult{err: err}
		}
		return
	}
	solo := batch[failed]
	rest := make([]*commitCall, 0, len(batch)-1)
	rest = append(append(rest, batch[:failed]...), batch[failed+1:]...)
	g.run(rest)
	solo.done <- commitResult{err: g.runTx(func(tx *bolt.Tx) error { return g.safeCall(solo.fn, tx) })}
}

// safeCall runs fn, turning a panic (bbolt meeting a corrupt page) into
// fn's error, so that one bad update cannot fail or stall the others of
// its transaction; rerun alone, it fails the same way.
func (g *committer) safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if g.panicked != nil {
				err = g.panicked(p)
			} else {
				err = fmt.Errorf("objstore: panic in a metadata update: %v", p)
			}
		}
	}()
	return fn(tx)
}
