package scan

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// The census scans buckets concurrently, one pool of Concurrency HEAD
// workers serving every bucket, while the snapshot receives them one at a
// time in name order (snapshot.Writer requires it):
//
//   - a starter opens buckets in name order, ahead of the one being
//     written, while the work in sight runs low: each open bucket reads
//     its rule and versioning state, lists its objects into the shared
//     queue, and its inspected objects come back on its own channel. The
//     work in sight is the objects listed and not yet inspected, plus,
//     per open bucket still listing, a full target once it has listed
//     anything (a large bucket keeps the pool to itself) and the mean
//     size of the buckets listed so far before that (many small buckets
//     are read several at once, hiding each one's rule and listing round
//     trips; the first bucket counts as large, until its listing ends);
//   - the bucket being written (the head) goes straight to the snapshot;
//     a bucket opened ahead keeps its objects in a spool (memory up to
//     spoolMemObjects, then a temporary file), handed to the writer when
//     its turn comes;
//   - a bucket ahead lists at most lookaheadObjects before its turn, and
//     at most maxOpen buckets are open, so memory is bounded by constants
//     and disk by lookaheadObjects per open bucket, never by bucket size.
const (
	spoolMemObjects  = 1000
	lookaheadObjects = 20000
	// Past its first listDirect entries, a bucket's listing may run
	// listAhead entries (a listing page and more) ahead of the workers'
	// queue, into a buffer a feeder empties into it, so that the next
	// page's round trip and decoding overlap the HEADs of this one
	// instead of leaving the workers idle at every page boundary. (A
	// small bucket goes straight to the queue, listed as it is
	// inspected.)
	listDirect = 256
	listAhead  = 1024
)

// job is one listed object to inspect, at position seq of its bucket's
// listing (the checkpoint finds its resume point from them).
type job struct {
	bs  *bucketScan
	o   client.VersionSummary
	seq int64
}

// result is an inspected object and its position in the listing.
type result struct {
	O   snapshot.Object
	Seq int64
}

// bucketScan is one bucket of the census.
type bucketScan struct {
	info   bucketInfo
	region string
	// resumed is the bucket's part in the checkpoint, when a resumed scan
	// continues it (nil: scanned from its beginning).
	resumed *loggedBucket

	// hb is the bucket's header (rule, versioning), complete when ready
	// is closed; versions is hb.VersionsInspected for the workers.
	hb       snapshot.Bucket
	versions bool
	ready    chan struct{}

	// results carries the inspected objects; it is closed once the
	// listing ended and every listed object was inspected, and listErr
	// is set before.
	results  chan result
	inflight sync.WaitGroup
	listed   atomic.Int64
	listing  atomic.Bool
	listErr  *snapshot.Error

	// head is closed when the bucket's turn to be written comes; the
	// spooler keeps results until handover is closed, then closes
	// spooled (drained: results was closed before).
	head     chan struct{}
	handover chan struct{}
	spooled  chan struct{}
	spool    spool
	drained  bool
}

// limits are the spool and lookahead bounds of a scan.
func (c *Config) limits() (spoolMem, lookahead int64) {
	spoolMem, lookahead = spoolMemObjects, lookaheadObjects
	if c.spoolMem > 0 {
		spoolMem = int64(c.spoolMem)
	}
	if c.lookahead > 0 {
		lookahead = int64(c.lookahead)
	}
	return spoolMem, lookahead
}

// census runs the buckets of one scan.
type census struct {
	s     *scanner
	ctx   context.Context // ends on cancellation or a write error
	infos []bucketInfo
	// scans holds the open buckets' state (under mu): a bucket's entry is
	// made when it is opened and dropped once it is written, so memory
	// grows with the open buckets, not with the number of buckets.
	scans    []*bucketScan
	spoolMem int64
	jobs     chan job
	// target is the work in sight (objects) under which more buckets
	// are opened.
	target           int64
	maxOpen, maxBusy int
	// pending counts objects listed and not yet inspected.
	pending atomic.Int64
	// lookahead bounds what a bucket lists before its turn.
	lookahead int64

	mu    sync.Mutex
	first int // the bucket being written (or next to be)
	next  int // first bucket neither started nor skipped
	open  int // started and not yet written
	busy  int // started and still reading its rule or listing
	// sizeSum and sizeN give the mean size of the listings ended.
	sizeSum, sizeN int64
	kick           chan struct{}

	listers sync.WaitGroup
	workers sync.WaitGroup
	starter sync.WaitGroup
}

// newCensus starts the census of buckets from index from (the buckets
// before are copied from a checkpoint by the writer).
func newCensus(ctx context.Context, s *scanner, buckets []bucketInfo, from int) *census {
	c := &s.cfg
	spoolMem, lookahead := c.limits()
	cs := &census{
		s: s, ctx: ctx, infos: buckets, scans: make([]*bucketScan, len(buckets)), spoolMem: spoolMem, lookahead: lookahead,
		first: from, next: from,
		jobs: make(chan job, 2*c.Concurrency), target: 4 * int64(c.Concurrency),
		maxOpen: max(2, 2*c.Concurrency), maxBusy: max(1, c.Concurrency/2), kick: make(chan struct{}, 1),
	}
	for range c.Concurrency {
		cs.workers.Add(1)
		go cs.work()
	}
	cs.starter.Add(1)
	go cs.start()
	return cs
}

// poke wakes the starter (never blocks).
func (cs *census) poke() {
	select {
	case cs.kick <- struct{}{}:
	default:
	}
}

// start opens buckets in order while the pipeline has room for them.
func (cs *census) start() {
	defer cs.starter.Done()
	for {
		cs.mu.Lock()
		for cs.next < len(cs.infos) && cs.ctx.Err() == nil &&
			(cs.open == 0 || (cs.open < cs.maxOpen && cs.busy < cs.maxBusy && cs.inSightLocked() < cs.target)) {
			if cs.s.inventories[cs.infos[cs.next].Name] != nil {
				cs.next++ // the writer censuses it from its report
				continue
			}
			cs.openLocked(cs.next)
		}
		done := cs.next >= len(cs.infos)
		cs.mu.Unlock()
		if done {
			return
		}
		select {
		case <-cs.kick:
		case <-cs.ctx.Done():
			return
		}
	}
}

// inSightLocked is the work in sight, in objects (see the top of this
// file).
func (cs *census) inSightLocked() int64 {
	est := cs.target
	if cs.sizeN > 0 {
		est = min(max(cs.sizeSum/cs.sizeN, 1), cs.target)
	}
	n := cs.pending.Load()
	for _, bs := range cs.scans[cs.first:cs.next] {
		switch {
		case bs == nil || !bs.listing.Load(): // skipped, or done listing
		case bs.listed.Load() > 0:
			n += cs.target
		default:
			n += est
		}
	}
	return n
}

func (cs *census) openLocked(i int) {
	c, b := &cs.s.cfg, cs.infos[i]
	bs := &bucketScan{
		info: b, region: cs.s.regionOf(b), ready: make(chan struct{}), results: make(chan result, c.Concurrency),
		head: make(chan struct{}), handover: make(chan struct{}), spooled: make(chan struct{}),
		spool: spool{dir: c.SpoolDir, max: cs.spoolMem},
	}
	if ck := cs.s.resume; ck != nil && ck.partial != nil && i == len(ck.done) {
		bs.resumed = ck.partial
	}
	cs.scans[i] = bs
	cs.next = i + 1
	cs.open++
	cs.busy++
	bs.listing.Store(true)
	cs.listers.Add(1)
	go cs.read(bs)
	go bs.keep(cs)
}

// turn is called by the writer when bucket i is next. It opens the bucket
// if the starter has not, unless the scan was cancelled, and returns it
// (nil: not opened, write it as not read).
func (cs *census) turn(i int) *bucketScan {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.scans[i] == nil && cs.next == i {
		if cs.ctx.Err() != nil {
			cs.next = i + 1 // the starter must not open it any more
			return nil
		}
		cs.openLocked(i)
	}
	return cs.scans[i]
}

// skip is called by the writer for bucket i, which it censuses itself
// (from an inventory report): the starter must not open it.
func (cs *census) skip(i int) {
	cs.mu.Lock()
	if cs.next == i {
		cs.next = i + 1
	}
	cs.mu.Unlock()
}

// written is called by the writer when bucket i is complete.
func (cs *census) written(i int) {
	cs.mu.Lock()
	if cs.scans[i] != nil {
		cs.open--
		cs.scans[i] = nil
	}
	cs.first++
	cs.mu.Unlock()
	cs.poke()
}

// read reads a bucket's rule and versioning state, then lists its objects
// into the workers' queue.
func (cs *census) read(bs *bucketScan) {
	defer cs.listers.Done()
	s, ctx := cs.s, cs.ctx
	b := bs.info
	var after bound
	if r := bs.resumed; r != nil {
		// Its rule and versioning state as read before the interruption
		// (writeBucket records their errors).
		bs.hb = r.hb
		after = r.resumeAfter()
	} else {
		bs.hb = s.header(ctx, b, bs.region)
	}
	bs.versions = bs.hb.VersionsInspected
	close(bs.ready)

	headed := false
	var seq int64
	queue := cs.jobs
	var fed chan struct{}
	bs.listErr = s.list(ctx, b.Name, bs.versions, after, func(o client.VersionSummary) error {
		if !headed && bs.listed.Load() >= cs.lookahead {
			// Ahead of its turn: wait for it rather than grow the spool.
			select {
			case <-bs.head:
				headed = true
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if fed == nil && bs.listed.Load() >= listDirect {
			// A large bucket: list ahead from now on.
			ahead := make(chan job, listAhead)
			fed = make(chan struct{})
			go func() {
				defer close(fed)
				for j := range ahead {
					cs.jobs <- j // the workers run until every lister is done
				}
			}()
			queue = ahead
		}
		bs.inflight.Add(1)
		cs.pending.Add(1)
		select {
		case queue <- job{bs: bs, o: o, seq: seq}:
			seq++
			bs.listed.Add(1)
			return nil
		case <-ctx.Done():
			cs.pending.Add(-1)
			bs.inflight.Done()
			return ctx.Err()
		}
	})
	if fed != nil {
		close(queue)
		<-fed
	}
	cs.mu.Lock()
	bs.listing.Store(false)
	cs.busy--
	cs.sizeSum += bs.listed.Load()
	cs.sizeN++
	cs.mu.Unlock()
	cs.poke()
	bs.inflight.Wait()
	close(bs.results)
}

// header reads bucket b's rule, versioning state and access settings
// into its header.
// They are independent requests: both in flight at once halve a small
// bucket's time to its listing.
func (s *scanner) header(ctx context.Context, b bucketInfo, region string) snapshot.Bucket {
	hb := snapshot.Bucket{Name: b.Name, Region: b.Region, CreationDate: b.CreationDate, RegionError: b.regionErr, ReadAt: s.now()}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.versioning(ctx, &hb)
	}()
	go func() {
		defer wg.Done()
		s.access(ctx, &hb) // ACL and policy (access.go)
	}()
	s.rule(ctx, region, &hb)
	wg.Wait()
	return hb
}

// work inspects queued objects (after a cancellation without a request:
// inspect records them as not inspected).
func (cs *census) work() {
	defer cs.workers.Done()
	for j := range cs.jobs {
		o := cs.s.inspect(cs.ctx, j.bs.info.Name, j.bs.region, j.o, j.bs.versions)
		if cs.pending.Add(-1) < cs.target {
			cs.poke()
		}
		j.bs.results <- result{o, j.seq}
		j.bs.inflight.Done()
	}
}

// keep spools a bucket's results until the writer takes them over. A
// spool failure stops the scan (the writer reports it) but results are
// still drained, so no worker ever blocks on this bucket.
func (bs *bucketScan) keep(cs *census) {
	defer close(bs.spooled)
	for {
		select {
		case <-bs.handover:
			return
		case o, ok := <-bs.results:
			if !ok {
				bs.drained = true
				return
			}
			if bs.spool.err == nil {
				if err := bs.spool.add(o); err != nil {
					cs.s.stop()
				}
			}
		}
	}
}

// wait waits for every goroutine of the census to end; the caller has
// made sure they will (every opened bucket written or drained, or ctx
// ended).
func (cs *census) wait() {
	cs.starter.Wait()
	cs.listers.Wait()
	close(cs.jobs)
	cs.workers.Wait()
}

// drain consumes what is left of the buckets after a write error (ctx
// has ended, so the starter opens no more), so that every goroutine ends,
// and removes their spools.
func (cs *census) drain(from int) {
	cs.starter.Wait()
	for i := from; i < len(cs.scans); i++ {
		cs.mu.Lock()
		bs := cs.scans[i]
		cs.mu.Unlock()
		if bs == nil {
			continue
		}
		select {
		case <-bs.handover:
		default:
			close(bs.handover)
		}
		<-bs.spooled
		if !bs.drained {
			for range bs.results {
			}
		}
		bs.spool.close()
	}
}

// writeBucket writes bucket i, its turn having come: its header, what its
// spool kept, then its objects as they are inspected.
//
// A bucket a resumed scan continues starts with the objects the
// checkpoint keeps of it (not logged again: they are in the log).
func (s *scanner) writeBucket(cs *census, w *sink, bs *bucketScan, i int) (snapshot.Bucket, error) {
	close(bs.head)
	<-bs.ready
	hb := bs.hb
	if bs.resumed != nil {
		s.replayHeader(cs.ctx, bs.region, &hb)
	} else if hb.EncryptionError != nil {
		s.recordError(*hb.EncryptionError)
	}
	s.prog.bucket(i, len(cs.infos), hb.Name)
	defer s.prog.end()
	if err := w.beginBucket(hb, bs.resumed == nil); err != nil {
		return hb, err
	}
	var inspected, kept int64
	if bs.resumed != nil {
		if _, err := s.resume.eachObject(bs.resumed, false, func(o snapshot.Object) error {
			kept++
			if s.replayObject(cs.ctx, bs.region, &o) {
				inspected++
			}
			return w.object(o, 0, false)
		}); err != nil {
			return hb, err
		}
	}
	close(bs.handover)
	<-bs.spooled
	defer bs.spool.close()
	if bs.spool.err != nil {
		return hb, fmt.Errorf("spool of bucket %s: %w", hb.Name, bs.spool.err)
	}
	write := func(r result) error {
		if r.O.Error != nil {
			s.recordError(*r.O.Error)
		} else {
			inspected++
		}
		if err := w.object(r.O, r.Seq, true); err != nil {
			return err
		}
		s.prog.update(bs.listed.Load(), bs.listing.Load())
		return nil
	}
	if err := bs.spool.replay(write); err != nil {
		return hb, err
	}
	if !bs.drained {
		for r := range bs.results {
			if err := write(r); err != nil {
				return hb, err
			}
		}
	}
	// results is closed: the listing is over and listErr final.
	if bs.listErr != nil {
		s.recordError(*bs.listErr)
	}
	hb.ObjectsListed, hb.ObjectsInspected, hb.ListError = kept+bs.listed.Load(), inspected, bs.listErr
	return hb, w.endBucket(hb.ObjectsListed, inspected, bs.listErr, true)
}
