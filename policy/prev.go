package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/zeebo/xxh3"

	"github.com/sseaudit/sseaudit/snapshot"
)

// prevBucket is a bucket of the previous snapshot, for the drift rule: its
// header, and an index of its objects that holds no object, only a hash of
// each one's key and version and of its state (stateFields) and where to
// read it again: 24 bytes an object, where the objects themselves took
// about 1.5 KB each as terms. Memory still grows with the previous bucket
// (the index), not with its objects' size.
type prevBucket struct {
	hdr     [][2]*ast.Term
	entries []prevEntry // sorted by key hash
	// object reads the object an entry indexes.
	object func(e *prevEntry) (ast.Object, error)
}

type prevEntry struct {
	key   uint64 // keyHash of its key and version id
	state uint64 // stateHash of its state
	at    int64  // its offset in the file, or position in memory
}

// keyHash identifies an object of a bucket: key and version id.
func keyHash(key, version string) uint64 {
	h := xxh3.New()
	h.WriteString(key)
	h.Write([]byte{0})
	h.WriteString(version)
	return h.Sum64()
}

// stateHash fingerprints what sameState compares. Equal hashes mean the
// same state; different ones are checked with sameState (a number may be
// written two ways).
func stateHash(o ast.Object) uint64 {
	h := xxh3.New()
	for _, f := range stateFields {
		if t := o.Get(f); t != nil {
			if s, ok := t.Value.(ast.String); ok {
				h.WriteString(string(s))
			} else {
				h.WriteString(t.Value.String())
			}
		}
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// objectKey is an object term's key and version id.
func objectKey(o ast.Object) (string, string) {
	return termString(o.Get(tKey)), termString(o.Get(tVersionID))
}

func newPrevBucket(h *snapshot.Bucket) (*prevBucket, error) {
	hdr, err := bucketHeader(h)
	if err != nil {
		return nil, err
	}
	p := &prevBucket{}
	hdr.Foreach(func(k, v *ast.Term) { p.hdr = append(p.hdr, [2]*ast.Term{k, v}) })
	return p, nil
}

func (p *prevBucket) add(o ast.Object, at int64) {
	k, v := objectKey(o)
	p.entries = append(p.entries, prevEntry{key: keyHash(k, v), state: stateHash(o), at: at})
}

func (p *prevBucket) sort() {
	slices.SortStableFunc(p.entries, func(a, b prevEntry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
}

// match finds the previous records of a chunk's objects: it returns them
// as {key: {version id: object}} (only those whose state changed unless
// all) and the positions in objs of the objects whose state changed.
func (p *prevBucket) match(objs []*ast.Term, all bool) (ast.Object, []*ast.Term, error) {
	found := ast.NewObject()
	changed := []*ast.Term{}
	for i, t := range objs {
		o := t.Value.(ast.Object)
		k, v := objectKey(o)
		kh := keyHash(k, v)
		at, _ := slices.BinarySearchFunc(p.entries, kh, func(e prevEntry, kh uint64) int {
			switch {
			case e.key < kh:
				return -1
			case e.key > kh:
				return 1
			}
			return 0
		})
		var sh uint64
		if !all {
			sh = stateHash(o)
		}
		for ; at < len(p.entries) && p.entries[at].key == kh; at++ {
			e := &p.entries[at]
			if !all && e.state == sh {
				break // the same object, unchanged
			}
			po, err := p.object(e)
			if err != nil {
				return nil, nil, err
			}
			if pk, pv := objectKey(po); pk != k || pv != v {
				continue // another object with the same hash
			}
			kt := ast.StringTerm(k)
			vs := found.Get(kt)
			if vs == nil {
				vs = ast.NewTerm(ast.NewObject())
				found.Insert(kt, vs)
			}
			vs.Value.(ast.Object).Insert(ast.StringTerm(v), ast.NewTerm(po))
			if !sameState(po, o) {
				changed = append(changed, posTerm(i))
			}
			break
		}
	}
	return found, changed, nil
}

// prevJoin yields, for each bucket of the current snapshot in order, the
// same bucket of the previous snapshot, indexed (prevBucket). When the
// common buckets come in the same relative order in both (the normal case:
// scans list buckets by name) it reads the previous snapshot once, in step
// with the current one, a bucket ahead. Otherwise it re-reads the previous
// snapshot for each bucket it needs (slow, still bounded).
type prevJoin struct {
	src      Source
	sum      *snapshot.Summary
	pos      map[string]int // bucket name -> index in the previous summary
	inOrder  bool
	ctx      context.Context
	ch       chan *prevBucket
	errc     chan error
	cur      *prevBucket
	curName  string
	done     bool
	started  bool
	cancel   context.CancelFunc
	finished chan struct{}
	file     *os.File // the previous snapshot, for prevBucket.object
	plain    string   // its path, decompressed if it was compressed
	remove   func()   // removes a decompressed copy
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

// each indexes the previous snapshot's buckets in file order, calling fn
// with each (and its name) until fn returns errStop.
func (j *prevJoin) each(fn func(name string, p *prevBucket) error) error {
	f, ok := asFile(j.src)
	if !ok {
		i := 0
		return j.src.EachBucket(func(b snapshot.Bucket) error {
			if i >= len(j.sum.Buckets) {
				return fmt.Errorf("%w: more buckets than the summary read before (the file changed?)", snapshot.ErrFormat)
			}
			p, err := newPrevBucket(&j.sum.Buckets[i])
			i++
			if err != nil {
				return err
			}
			terms := make([]ast.Object, len(b.Objects))
			for k := range b.Objects {
				terms[k] = objectTerm(&b.Objects[k]).Value.(ast.Object)
				p.add(terms[k], int64(k))
			}
			p.object = func(e *prevEntry) (ast.Object, error) { return terms[e.at], nil }
			p.sort()
			return fn(b.Name, p)
		})
	}
	if j.file == nil {
		// Objects are read back by offset, which a compressed copy (as
		// history keeps them) does not allow.
		plain, remove, err := snapshot.Seekable(string(f), "")
		if err != nil {
			return fmt.Errorf("previous snapshot: %w", err)
		}
		fh, err := os.Open(plain)
		if err != nil {
			remove()
			return fmt.Errorf("previous snapshot: %w", err)
		}
		j.file, j.plain, j.remove = fh, plain, remove
	}
	path, file := j.plain, j.file
	var p *prevBucket
	cur := -1
	// streamed is bucket streamedAt's header as read before its objects,
	// with the raw bodies a lean summary leaves out (withRaw).
	var streamed *snapshot.Bucket
	streamedAt := -1
	start := func(i int) error {
		if i >= len(j.sum.Buckets) {
			return fmt.Errorf("%w: more buckets than the summary read before (the file changed?)", snapshot.ErrFormat)
		}
		head := &j.sum.Buckets[i]
		if streamedAt == i {
			head = withRaw(head, streamed)
		}
		streamed, streamedAt = nil, -1
		var err error
		p, err = newPrevBucket(head)
		cur = i
		p.object = func(e *prevEntry) (ast.Object, error) {
			raw, err := snapshot.ReadObjectAt(file, path, e.at)
			if err != nil {
				return nil, err
			}
			return parseObject(raw)
		}
		return err
	}
	v := snapshot.ObjectVisitor{
		Object: func(i int, raw []byte, at int64, _ *snapshot.Object) error {
			if i != cur {
				if err := start(i); err != nil {
					return err
				}
			}
			o, err := parseObject(raw)
			if err != nil {
				return err
			}
			p.add(o, at)
			return nil
		},
		EndBucket: func(i int, h *snapshot.Bucket) error {
			if i != cur {
				if err := start(i); err != nil {
					return err
				}
			}
			if err := j.ctx.Err(); err != nil {
				return err
			}
			p.sort()
			cur = -1
			return fn(h.Name, p)
		},
	}
	if j.sum.Lean {
		v.Header = func(i int, h *snapshot.Bucket) error {
			streamed, streamedAt = h, i
			return nil
		}
	}
	return snapshot.StreamObjects(path, false, v)
}

// parseObject parses one raw object of a snapshot.
func parseObject(raw []byte) (ast.Object, error) {
	t, err := parseJSONTerm(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: object: %v", snapshot.ErrFormat, err)
	}
	o, ok := t.Value.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("%w: an object is not a JSON object", snapshot.ErrFormat)
	}
	if err := checkObjectTerm(o); err != nil {
		return nil, fmt.Errorf("%w: object %v: %v", snapshot.ErrFormat, o.Get(tKey), err)
	}
	return o, nil
}

func (j *prevJoin) start() {
	j.started = true
	j.ch = make(chan *prevBucket)
	j.errc = make(chan error, 1)
	j.finished = make(chan struct{})
	go func() {
		defer close(j.finished)
		err := j.each(func(_ string, p *prevBucket) error {
			select {
			case j.ch <- p:
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
func (j *prevJoin) get(name string) (*prevBucket, error) {
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
			if j.curName == name {
				p := j.cur
				j.cur = nil
				return p, nil
			}
			if j.pos[j.curName] > want {
				return nil, nil // not in step (a duplicate name): treat as absent
			}
			j.cur = nil
		}
		p, ok := <-j.ch
		if !ok {
			j.done = true
			if err := <-j.errc; err != nil {
				return nil, fmt.Errorf("previous snapshot: %w", err)
			}
			break
		}
		j.cur, j.curName = p, j.nameOf(p)
	}
	return nil, nil
}

// nameOf is the name of a previous bucket, from its header.
func (j *prevJoin) nameOf(p *prevBucket) string {
	for _, kv := range p.hdr {
		if kv[0].Value.Compare(ast.String("name")) == 0 {
			return strings.Clone(termString(kv[1]))
		}
	}
	return ""
}

// find re-reads the previous snapshot up to bucket name.
func (j *prevJoin) find(name string) (*prevBucket, error) {
	var found *prevBucket
	err := j.each(func(n string, p *prevBucket) error {
		if n == name {
			found = p
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("previous snapshot: %w", err)
	}
	return found, nil
}

// close stops the background reader, waits for it and closes the file.
func (j *prevJoin) close() {
	j.cancel()
	if j.started {
		for range j.ch {
		}
		<-j.finished
	}
	if j.file != nil {
		j.file.Close()
		j.remove()
	}
}
