package policy

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// DefaultChunkSize is how many objects of a bucket one evaluation of the
// object rules sees (Options.ChunkSize).
const DefaultChunkSize = 1000

// An evaluation is a sequence of units, in the snapshot's order: for each
// bucket, its objects in chunks of at most the chunk size (the object
// rules and every user rule), then the bucket itself (the built-in rules
// about buckets and keys, with input.stats instead of the objects). Memory
// holds a few chunks and each bucket's bounded summary, whatever the
// number or size of the buckets.

// bucketState is what the units of one bucket share.
type bucketState struct {
	head *snapshot.Bucket
	hdr  [][2]*ast.Term // the header's members, without objects (immutable)
	keys *ast.Term
	rfs  *ast.Term
	prev *prevBucket // the same bucket in the previous snapshot, or nil
	// rewrites are the bucket's journalled remediation rewrites by key
	// (rewrites.go), nil without a previous snapshot.
	rewrites map[string][]*ast.Term
	// stats is merged by the deliverer, chunk by chunk in order, so it is
	// complete when the bucket's own unit is delivered.
	stats bucketStats
	// whole keeps every object (tests: wholeBuckets).
	whole []*ast.Term
}

// chunkJob is one chunk of a bucket's objects: raw JSON ("[o,o,...]", from
// a file) or records (from memory).
type chunkJob struct {
	b    *bucketState
	base int // position of its first object in the bucket
	raw  []byte
	objs []snapshot.Object
}

// unitResult is what a worker or the reader hands the deliverer.
type unitResult struct {
	seq   int
	b     *bucketState // a chunk's bucket
	out   *unitOut
	stats *bucketStats
	objs  []*ast.Term  // tests: wholeBuckets
	end   *bucketState // the bucket's own unit: evaluated on delivery
	err   error
}

// run evaluates the scan rules, then every bucket, chunk by chunk, with the
// engine's workers, and calls deliver with each unit's findings in the
// snapshot's order (scan rules first), from one goroutine. A window of
// units bounds what is held while a slow unit holds up those after it.
func (e *Engine) run(ctx context.Context, cur, prev Source, hist HistoryLookup, deliver func(*scanEnv, *unitOut) error) error {
	sum, err := readSummary(cur)
	if err != nil {
		return fmt.Errorf("policy: snapshot: %w", err)
	}
	if f, ok := asFile(cur); ok && sum.Lean && e.userScanQ != nil {
		// User scan rules get every bucket header in input.scan.buckets,
		// raw bodies included (doc.go): a lean summary lacks them.
		if sum, err = snapshot.ReadHeaders(string(f)); err != nil {
			return fmt.Errorf("policy: snapshot: %w", err)
		}
	}
	var prevSum *snapshot.Summary
	if prev != nil {
		ps, err := readPrevSummary(prev)
		if err != nil {
			return fmt.Errorf("policy: previous snapshot: %w", err)
		}
		prevSum = &ps
	}
	env, err := e.newScanEnv(&sum, prevSum, hist)
	if err != nil {
		return err
	}
	env.noIndex = e.testNoIndex
	_, env.checkCounts = cur.(fastSource)
	env.path = sourceName(cur)

	budget := &scanBudget{}
	scanFs, err := e.evalScan(ctx, env, budget)
	if err != nil {
		return err
	}
	if err := deliver(env, splitUnit(scanFs, nil)); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var join *prevJoin
	if prev != nil {
		join = newPrevJoin(ctx, prev, prevSum, &sum)
		defer join.close()
	}

	window := 2*e.workers + 2
	slots := make(chan struct{}, window)
	type job struct {
		seq int
		c   chunkJob
	}
	jobs := make(chan job)
	// Every unit holds a slot until delivered, so at most window results
	// are ever pending: sends on dones never block.
	dones := make(chan unitResult, window)
	var (
		errMu    sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}
	var workers sync.WaitGroup
	for w := 0; w < e.workers; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					dones <- unitResult{seq: j.seq, err: ctx.Err()}
					continue
				}
				r := e.evalChunk(ctx, env, &j.c, budget)
				r.seq = j.seq
				dones <- r
			}
		}()
	}
	var readErr error
	readerDone := make(chan struct{})
	go func() {
		seq := 0
		acquire := func() error {
			select {
			case slots <- struct{}{}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		r := chunkReader{
			e: e, env: env, sum: &sum, join: join,
			emit: func(c chunkJob) error {
				if err := acquire(); err != nil {
					return err
				}
				select {
				case jobs <- job{seq, c}:
					seq++
					return nil
				case <-ctx.Done():
					<-slots
					return ctx.Err()
				}
			},
			end: func(b *bucketState) error {
				if err := acquire(); err != nil {
					return err
				}
				dones <- unitResult{seq: seq, end: b}
				seq++
				return nil
			},
		}
		readErr = r.read(ctx, cur)
		close(jobs)
		close(readerDone)
	}()
	go func() {
		workers.Wait()
		<-readerDone // the reader sends the buckets' own units on dones too
		close(dones)
	}()
	pending := map[int]unitResult{}
	next := 0
	for d := range dones {
		if d.err != nil {
			fail(d.err)
		}
		if ctx.Err() != nil {
			continue // drain
		}
		pending[d.seq] = d
		for {
			u, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			out := u.out
			if u.b != nil {
				u.b.stats.merge(u.stats)
				if e.testWholeBuckets {
					u.b.whole = append(u.b.whole, u.objs...)
				}
			}
			if u.end != nil {
				if err := env.endBucket(u.end); err != nil {
					fail(err)
					break
				}
				var err error
				if out, err = e.evalBucketEnd(ctx, env, u.end); err != nil {
					fail(err)
					break
				}
				out.ended = u.end.head.Name
			}
			if err := deliver(env, out); err != nil {
				fail(err)
				break
			}
		}
	}
	<-readerDone
	if firstErr != nil {
		return firstErr
	}
	if readErr != nil {
		return fmt.Errorf("policy: snapshot: %w", readErr)
	}
	return ctx.Err()
}

// readPrevSummary reads the previous snapshot's summary: lean from a file
// (its raw bodies come with each bucket's header as prevJoin streams it),
// as nothing but input.previous, which prevJoin builds, reads its buckets.
func readPrevSummary(src Source) (snapshot.Summary, error) {
	if f, ok := asFile(src); ok {
		return snapshot.ReadLeanHeaders(string(f))
	}
	return readSummary(src)
}

// chunkReader reads a snapshot's buckets into chunks.
type chunkReader struct {
	e    *Engine
	env  *scanEnv
	sum  *snapshot.Summary
	join *prevJoin
	emit func(chunkJob) error
	end  func(*bucketState) error
}

func (r *chunkReader) read(ctx context.Context, src Source) error {
	size := r.e.chunkSize
	if f, ok := asFile(src); ok {
		var b *bucketState
		cur := -1
		var buf []byte
		n, base := 0, 0
		// streamed is bucket streamedAt's header as the stream read it
		// before its objects, raw bodies included.
		var streamed *snapshot.Bucket
		streamedAt := -1
		start := func(i int) error {
			if i >= len(r.sum.Buckets) {
				return fmt.Errorf("%w: more buckets than the summary read before (the file changed?)", snapshot.ErrFormat)
			}
			head := &r.sum.Buckets[i]
			if streamedAt == i {
				head = withRaw(head, streamed)
			}
			streamed, streamedAt = nil, -1
			var err error
			b, err = r.bucket(head)
			cur, buf, n, base = i, buf[:0], 0, 0
			return err
		}
		flush := func() error {
			if n == 0 {
				return nil
			}
			raw := append(append(make([]byte, 0, len(buf)+1), buf...), ']')
			c := chunkJob{b: b, base: base, raw: raw}
			base += n
			buf, n = buf[:0], 0
			return r.emit(c)
		}
		v := snapshot.ObjectVisitor{
			Object: func(i int, raw []byte, _ int64, _ *snapshot.Object) error {
				if i != cur {
					if err := start(i); err != nil {
						return err
					}
				}
				if n == 0 {
					buf = append(buf, '[')
				} else {
					buf = append(buf, ',')
				}
				buf = append(buf, raw...)
				n++
				if n == size {
					if err := ctx.Err(); err != nil {
						return err
					}
					return flush()
				}
				return nil
			},
			EndBucket: func(i int, h *snapshot.Bucket) error {
				if i != cur {
					if err := start(i); err != nil {
						return err
					}
				}
				if h.Name != b.head.Name {
					return fmt.Errorf("%w: bucket %q where the summary has %q (the file changed?)", snapshot.ErrFormat, h.Name, b.head.Name)
				}
				if n == 0 && base == 0 && r.e.userBucketQ != nil {
					// User rules see every bucket, also one without objects.
					if err := r.emit(chunkJob{b: b}); err != nil {
						return err
					}
				}
				if err := flush(); err != nil {
					return err
				}
				cur = -1
				return r.end(b)
			},
		}
		if r.sum.Lean {
			v.Header = func(i int, h *snapshot.Bucket) error {
				streamed, streamedAt = h, i
				return nil
			}
		}
		return snapshot.StreamObjects(string(f), false, v)
	}
	i := 0
	return src.EachBucket(func(sb snapshot.Bucket) error {
		if i >= len(r.sum.Buckets) || r.sum.Buckets[i].Name != sb.Name {
			return fmt.Errorf("%w: bucket %q is not where the summary has it (the file changed?)", snapshot.ErrFormat, sb.Name)
		}
		b, err := r.bucket(&r.sum.Buckets[i])
		i++
		if err != nil {
			return err
		}
		objs := sb.Objects
		if len(objs) == 0 && r.e.userBucketQ != nil {
			if err := r.emit(chunkJob{b: b}); err != nil {
				return err
			}
		}
		for base := 0; base < len(objs); base += size {
			if err := r.emit(chunkJob{b: b, base: base, objs: objs[base:min(base+size, len(objs))]}); err != nil {
				return err
			}
		}
		return r.end(b)
	})
}

// withRaw is the summary's header h with the raw bodies (which a lean
// summary leaves out, and the rules put in findings as evidence) of s, the
// header the stream read before the bucket's objects: for each of
// encryption, acl and policy whose facts in s are h's. A member that
// follows the objects in the file is not in s, and h kept its body
// (snapshot.ReadLeanHeaders).
func withRaw(h, s *snapshot.Bucket) *snapshot.Bucket {
	l := s.WithoutRaw()
	c := *h
	changed := false
	if h.Encryption != nil && reflect.DeepEqual(l.Encryption, h.Encryption) {
		c.Encryption, changed = s.Encryption, true
	}
	if h.ACL != nil && reflect.DeepEqual(l.ACL, h.ACL) {
		c.ACL, changed = s.ACL, true
	}
	if h.Policy != nil && reflect.DeepEqual(l.Policy, h.Policy) {
		c.Policy, changed = s.Policy, true
	}
	if !changed {
		return h
	}
	return &c
}

// bucket prepares what the units of the bucket h share.
func (r *chunkReader) bucket(h *snapshot.Bucket) (*bucketState, error) {
	env := r.env
	b := &bucketState{head: h, rfs: ast.NullTerm()}
	hdr, err := bucketHeader(h)
	if err != nil {
		return nil, err
	}
	hdr.Foreach(func(k, v *ast.Term) { b.hdr = append(b.hdr, [2]*ast.Term{k, v}) })
	if b.keys, err = env.keysFor(h.Region); err != nil {
		return nil, err
	}
	if env.hist != nil && h.Encryption != nil {
		t, rule, ok, err := env.hist.RuleFirstSeen(env.targetKey, h.Name)
		if err != nil {
			return nil, err
		}
		if ok && sameRule(rule, *h.Encryption) {
			b.rfs = ast.StringTerm(t.UTC().Format(time.RFC3339Nano))
		}
	}
	if r.join != nil {
		if b.prev, err = r.join.get(h.Name); err != nil {
			return nil, err
		}
		if b.prev != nil {
			if b.rewrites, err = env.bucketRewrites(h.Name); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// evalChunk evaluates the object rules and the user rules over one chunk.
func (e *Engine) evalChunk(ctx context.Context, env *scanEnv, c *chunkJob, budget *scanBudget) unitResult {
	b := c.b
	objs, err := chunkObjects(c)
	if err != nil {
		return unitResult{err: fmt.Errorf("policy: %w", err)}
	}
	res := unitResult{b: b, stats: chunkStats(objs, c.base)}
	if e.testWholeBuckets {
		res.objs = objs
	}
	if e.objectQ == nil && e.userBucketQ == nil {
		res.out = &unitOut{}
		return res
	}
	in, err := env.chunkInput(b, objs, e.userBucketQ != nil)
	if err != nil {
		return unitResult{err: fmt.Errorf("policy: bucket %q: %w", b.head.Name, err)}
	}
	var out []findings.Finding
	if e.objectQ != nil && len(objs) > 0 {
		rs, err := e.evalBuiltin(ctx, e.objectQ, in)
		if err != nil {
			return unitResult{err: fmt.Errorf("policy: evaluate bucket %q: %w", b.head.Name, err)}
		}
		if out, err = e.collect(rs, e.objectPkgs, env, "bucket "+b.head.Name); err != nil {
			return unitResult{err: err}
		}
	}
	if e.userBucketQ != nil {
		rs, err := e.evalUser(ctx, e.userBucketQ, in, budget, fmt.Sprintf("bucket %q", b.head.Name))
		if err != nil {
			return unitResult{err: err}
		}
		fs, err := e.collect(rs, e.userBucketPkgs, env, "bucket "+b.head.Name)
		if err != nil {
			return unitResult{err: err}
		}
		out = append(out, fs...)
	}
	res.out = splitUnit(out, objs)
	return res
}

// endBucket holds the bucket b, whose objects have all been delivered, to
// its counts (when the summary did not) and gathers its objects' key
// references.
func (env *scanEnv) endBucket(b *bucketState) error {
	s, h := &b.stats, b.head
	if env.checkCounts {
		// What snapshot.ReadSummary checks (the Writer's EndBucket
		// guarantees it): inspected counts the objects recorded without an
		// error, and no more are recorded than were listed. Coverage gaps
		// are counted from these numbers.
		if inspected := s.objects - s.failed; s.objects > h.ObjectsListed || inspected != h.ObjectsInspected {
			return fmt.Errorf("policy: snapshot: %w: %s: bucket %q: counts disagree with its objects: %d listed, %d inspected, but %d recorded of which %d without an error",
				snapshot.ErrFormat, env.path, h.Name, h.ObjectsListed, h.ObjectsInspected, s.objects, inspected)
		}
	}
	for _, k := range s.keys {
		if !env.objectKeys[k] {
			if env.objectKeys == nil {
				env.objectKeys = map[string]bool{}
			}
			env.objectKeys[k] = true
			env.objectKeyIDs = append(env.objectKeyIDs, k)
		}
	}
	return nil
}

// evalBucketEnd evaluates the built-in rules about a bucket and its keys,
// once, after its last chunk: with no objects and input.stats, the
// bucket's summary (tests: wholeBuckets, with every object and no stats).
func (e *Engine) evalBucketEnd(ctx context.Context, env *scanEnv, b *bucketState) (*unitOut, error) {
	if e.bucketQ == nil {
		return &unitOut{}, nil
	}
	objs := []*ast.Term{}
	stats := b.stats.term()
	if e.testWholeBuckets {
		objs, stats = b.whole, nil
	}
	items := [][2]*ast.Term{
		{tBucket, ast.NewTerm(ast.NewObject(append(b.hdr, [2]*ast.Term{tObjects, ast.ArrayTerm(objs...)})...))},
		{tKeys, b.keys},
		{tPrevious, env.prevHeadTerm(b.prev, nil)},
		{tPreviousScan, env.prevScanOf()},
		{tRuleFirstSeen, b.rfs},
		{tProfile, env.profileTerm},
		{tProvenance, env.provTerm},
	}
	if stats != nil {
		items = append(items, [2]*ast.Term{tStats, stats})
	}
	rs, err := e.evalBuiltin(ctx, e.bucketQ, ast.NewObject(items...))
	if err != nil {
		return nil, fmt.Errorf("policy: evaluate bucket %q: %w", b.head.Name, err)
	}
	fs, err := e.collect(rs, e.bucketPkgs, env, "bucket "+b.head.Name)
	if err != nil {
		return nil, err
	}
	return splitUnit(fs, nil), nil
}

// chunkObjects parses a chunk's objects into terms, holding each to the
// format as the struct reader does.
func chunkObjects(c *chunkJob) ([]*ast.Term, error) {
	name := c.b.head.Name
	if c.raw == nil {
		objs := make([]*ast.Term, len(c.objs))
		for i := range c.objs {
			objs[i] = objectTerm(&c.objs[i])
		}
		return objs, nil
	}
	t, err := parseJSONTerm(c.raw)
	if err != nil {
		return nil, fmt.Errorf("%w: bucket %q: objects from %d: %v", snapshot.ErrFormat, name, c.base, err)
	}
	arr, ok := t.Value.(*ast.Array)
	if !ok {
		return nil, fmt.Errorf("%w: bucket %q: objects is not an array", snapshot.ErrFormat, name)
	}
	bname := ast.String(name)
	objs := make([]*ast.Term, arr.Len())
	for i := range objs {
		o := arr.Elem(i)
		oo, ok := o.Value.(ast.Object)
		pos := c.base + i
		if !ok {
			return nil, fmt.Errorf("%w: bucket %q: object %d is not an object", snapshot.ErrFormat, name, pos)
		}
		if b := oo.Get(tBucket); b == nil || b.Value.Compare(bname) != 0 {
			return nil, fmt.Errorf("%w: bucket %q: object %d names bucket %v", snapshot.ErrFormat, name, pos, b)
		}
		if k := oo.Get(tKey); k == nil {
			return nil, fmt.Errorf("%w: bucket %q: object %d has no key", snapshot.ErrFormat, name, pos)
		} else if _, ok := k.Value.(ast.String); !ok {
			return nil, fmt.Errorf("%w: bucket %q: object %d: key is not a string", snapshot.ErrFormat, name, pos)
		}
		if err := checkObjectTerm(oo); err != nil {
			return nil, fmt.Errorf("%w: bucket %q: object %d (%v): %v", snapshot.ErrFormat, name, pos, oo.Get(tKey), err)
		}
		objs[i] = o
	}
	return objs, nil
}

// chunkInput builds the input of one chunk: the bucket's header with the
// chunk's objects, the previous snapshot's records of those objects (all
// of them when allPrev, for user rules; else only those whose state
// changed, which is all the drift rule reads), and the index of the chunk.
func (env *scanEnv) chunkInput(b *bucketState, objs []*ast.Term, allPrev bool) (ast.Value, error) {
	prevTerm := ast.NullTerm()
	var changed []*ast.Term // nil: no previous bucket
	if b.prev != nil {
		prevObjs, ch, err := b.prev.match(objs, allPrev)
		if err != nil {
			return nil, fmt.Errorf("previous snapshot: %w", err)
		}
		prevTerm, changed = env.prevHeadTerm(b.prev, prevObjs), ch
	}
	items := [][2]*ast.Term{
		{tBucket, ast.NewTerm(ast.NewObject(append(b.hdr[:len(b.hdr):len(b.hdr)], [2]*ast.Term{tObjects, ast.ArrayTerm(objs...)})...))},
		{tKeys, b.keys},
		{tPrevious, prevTerm},
		{tPreviousScan, env.prevScanOf()},
		{tRuleFirstSeen, b.rfs},
		{tProfile, env.profileTerm},
		{tProvenance, env.provTerm},
		{tRewrites, rewritesTerm(b.rewrites, objs)},
	}
	if !env.noIndex {
		items = append(items, [2]*ast.Term{tIndex, objectIndex(objs, changed)})
	}
	return ast.NewObject(items...), nil
}

// prevScanOf is input.previous_scan.
func (env *scanEnv) prevScanOf() *ast.Term {
	if env.prevSum != nil {
		return env.prevScanTerm
	}
	return ast.NullTerm()
}

// prevHeadTerm is input.previous: the previous bucket's header with the
// given objects ({key: {version id: object}}), null without one.
func (env *scanEnv) prevHeadTerm(p *prevBucket, objs ast.Object) *ast.Term {
	if p == nil {
		return ast.NullTerm()
	}
	if objs == nil {
		objs = ast.NewObject()
	}
	return ast.NewTerm(ast.NewObject(append(p.hdr[:len(p.hdr):len(p.hdr)], [2]*ast.Term{tObjects, ast.NewTerm(objs)})...))
}

// failedSampleMax is how many objects whose HEAD failed input.stats names.
const failedSampleMax = 5

// bucketStats is input.stats: what the rules about a bucket need to know of
// all its objects, in bounded size.
type bucketStats struct {
	objects, bytes, noMethod, failed int64
	methods, keys                    []string // in order of first appearance
	byMethod, byKey                  map[string]int64
	sample                           []failedObject // first by key, then position
}

type failedObject struct {
	key string
	pos int
	err *ast.Term
}

func chunkStats(objs []*ast.Term, base int) *bucketStats {
	s := &bucketStats{}
	for i, o := range objs {
		oo := o.Value.(ast.Object)
		s.objects++
		if n, ok := oo.Get(tSize).Value.(ast.Number); ok {
			if v, ok := n.Int64(); ok {
				s.bytes += v
			}
		}
		if m, ok := methodOf(oo); ok {
			s.count(&s.methods, &s.byMethod, m, 1)
		} else {
			s.noMethod++
		}
		if k := oo.Get(tKMSKeyID); k != nil {
			if id, ok := k.Value.(ast.String); ok {
				s.count(&s.keys, &s.byKey, string(id), 1)
			}
		}
		if er := oo.Get(tError); er != nil {
			if _, null := er.Value.(ast.Null); !null {
				s.failed++
				s.addFailed(failedObject{key: termString(oo.Get(tKey)), pos: base + i, err: er})
			}
		}
	}
	// What stays of a chunk must not pin it (see detach).
	for k, f := range s.sample {
		s.sample[k] = failedObject{key: strings.Clone(f.key), pos: f.pos, err: detach(f.err)}
	}
	return s
}

func (s *bucketStats) count(order *[]string, m *map[string]int64, k string, n int64) {
	if *m == nil {
		*m = map[string]int64{}
	}
	if _, ok := (*m)[k]; !ok {
		k = strings.Clone(k) // it outlives the chunk it came from
		*order = append(*order, k)
	}
	(*m)[k] += n
}

// detach copies a term with copies of its strings: a term of a parsed
// chunk shares memory with the whole chunk.
func detach(t *ast.Term) *ast.Term {
	switch v := t.Value.(type) {
	case ast.String:
		return ast.StringTerm(strings.Clone(string(v)))
	case ast.Number:
		return ast.NewTerm(ast.Number(strings.Clone(string(v))))
	case ast.Object:
		kv := make([][2]*ast.Term, 0, v.Len())
		v.Foreach(func(k, x *ast.Term) { kv = append(kv, [2]*ast.Term{detach(k), detach(x)}) })
		return ast.NewTerm(ast.NewObject(kv...))
	case *ast.Array:
		ts := make([]*ast.Term, v.Len())
		for i := range ts {
			ts[i] = detach(v.Elem(i))
		}
		return ast.ArrayTerm(ts...)
	}
	return ast.NewTerm(t.Value)
}

func (s *bucketStats) addFailed(f failedObject) {
	i := sort.Search(len(s.sample), func(i int) bool {
		x := s.sample[i]
		return x.key > f.key || x.key == f.key && x.pos > f.pos
	})
	if i == failedSampleMax {
		return
	}
	s.sample = append(s.sample, failedObject{})
	copy(s.sample[i+1:], s.sample[i:])
	s.sample[i] = f
	if len(s.sample) > failedSampleMax {
		s.sample = s.sample[:failedSampleMax]
	}
}

// merge adds the next chunk's stats.
func (s *bucketStats) merge(o *bucketStats) {
	s.objects += o.objects
	s.bytes += o.bytes
	s.noMethod += o.noMethod
	s.failed += o.failed
	for _, m := range o.methods {
		s.count(&s.methods, &s.byMethod, m, o.byMethod[m])
	}
	for _, k := range o.keys {
		s.count(&s.keys, &s.byKey, k, o.byKey[k])
	}
	for _, f := range o.sample {
		s.addFailed(f)
	}
}

func (s *bucketStats) term() *ast.Term {
	group := func(order []string, m map[string]int64) *ast.Term {
		obj := ast.NewObjectWithCapacity(len(order))
		for _, k := range order {
			obj.Insert(str(k), ast.IntNumberTerm(int(m[k])))
		}
		return ast.NewTerm(obj)
	}
	sample := make([]*ast.Term, len(s.sample))
	for i, f := range s.sample {
		sample[i] = ast.NewTerm(ast.NewObject([2]*ast.Term{tKey, ast.StringTerm(f.key)}, [2]*ast.Term{tError, f.err}))
	}
	return ast.NewTerm(ast.NewObject(
		[2]*ast.Term{tObjectsN, ast.IntNumberTerm(int(s.objects))},
		[2]*ast.Term{tBytes, ast.IntNumberTerm(int(s.bytes))},
		[2]*ast.Term{tByMethod, group(s.methods, s.byMethod)},
		[2]*ast.Term{tNoMethod, ast.IntNumberTerm(int(s.noMethod))},
		[2]*ast.Term{tByKMSKey, group(s.keys, s.byKey)},
		[2]*ast.Term{tFailed, ast.IntNumberTerm(int(s.failed))},
		[2]*ast.Term{tFailedSample, ast.ArrayTerm(sample...)},
	))
}

var (
	tStats        = ast.StringTerm("stats")
	tObjectsN     = ast.StringTerm("objects")
	tBytes        = ast.StringTerm("bytes")
	tFailedSample = ast.StringTerm("failed_sample")
)
