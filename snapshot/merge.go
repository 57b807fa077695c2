package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strings"
	"time"
)

// ShardOf is the shard (0..count-1) a bucket belongs to in a scan sharded
// count ways: FNV-1a of its name, so every process agrees without talking.
func ShardOf(bucket string, count int) int {
	h := fnv.New32a()
	h.Write([]byte(bucket))
	return int(h.Sum32() % uint32(count))
}

// ShardOfKey is the shard an object of a split bucket belongs to: FNV-1a
// of the bucket's name and the key, so every version of a key is in one
// shard and a shard's objects keep the listing's order.
func ShardOfKey(bucket, key string, count int) int {
	h := fnv.New32a()
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(count))
}

// ErrMerge is wrapped by every error for shards that cannot be merged.
var ErrMerge = errors.New("snapshot: cannot merge")

// Merge joins the snapshots of every shard of one sharded scan into one
// snapshot written to out, as if one scan had read every bucket: buckets
// in name order, keys once each (the most recent reading of a key), the
// coverage added up, complete only if every shard is. It refuses, with an
// error wrapping ErrMerge, shards of different targets, policy bundles,
// bucket filters or tool versions, shards of another sharding, a shard
// missing or given twice, and shards that share a bucket that is not
// split. A bucket split by key (Shard.Split) is in every shard: its
// objects are merged in key order and its counts added up, and the
// shards must agree on its default rule and versioning. Memory holds one
// object per shard, however large the buckets.
func Merge(ctx context.Context, paths []string, out io.Writer) (Summary, error) {
	if len(paths) == 0 {
		return Summary{}, fmt.Errorf("%w: no shard snapshots given", ErrMerge)
	}
	sums := make([]Summary, len(paths))
	for i, p := range paths {
		s, err := ReadHeaders(p)
		if err != nil {
			return Summary{}, fmt.Errorf("shard %s: %w", p, err)
		}
		sums[i] = s
	}
	order, err := checkShards(paths, sums)
	if err != nil {
		return Summary{}, err
	}

	first := sums[order[0]].Provenance
	prov := Provenance{
		StartedAt: first.StartedAt, ToolVersion: first.ToolVersion, Target: first.Target,
		BucketFilter: first.BucketFilter, PolicyDigest: first.PolicyDigest,
	}
	regions := map[string]bool{}
	h := sha256.New()
	var finished time.Time
	complete := true
	var cov Coverage
	for _, i := range order {
		s := sums[i]
		prov.MergedFrom = append(prov.MergedFrom, s.Provenance.ScanID)
		h.Write([]byte(s.Provenance.ScanID + "\x00"))
		if s.Provenance.StartedAt.Before(prov.StartedAt) {
			prov.StartedAt = s.Provenance.StartedAt
		}
		if s.FinishedAt.After(finished) {
			finished = s.FinishedAt
		}
		for _, r := range s.Provenance.Regions {
			regions[r] = true
		}
		complete = complete && s.Complete
		c := s.Coverage
		cov.ObjectsListed += c.ObjectsListed
		cov.ObjectsInspected += c.ObjectsInspected
		cov.Retries += c.Retries
		cov.ErrorsOmitted += c.ErrorsOmitted
		cov.Errors = append(cov.Errors, c.Errors...)
		if cov.ListBucketsError == nil {
			cov.ListBucketsError = c.ListBucketsError
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	prov.ScanID = "merged-" + sum[:24]
	for r := range regions {
		prov.Regions = append(prov.Regions, r)
	}
	slices.Sort(prov.Regions)
	if cov.Errors == nil {
		cov.Errors = []Error{}
	}

	w, err := NewWriter(out, prov, WithClock(func() time.Time { return finished }))
	if err != nil {
		return Summary{}, fmt.Errorf("snapshot: merge: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	streams := make([]*objectStream, len(order))
	for j, i := range order {
		streams[j] = streamObjects(ctx, paths[i], sums[i].Buckets)
	}
	split := sums[order[0]].Provenance.Shard
	for {
		if err := ctx.Err(); err != nil {
			return Summary{}, err
		}
		// The smallest bucket name among the shards' next buckets, and
		// every shard that holds it.
		name, have := "", []int(nil)
		for k, st := range streams {
			b := st.bucket()
			switch {
			case b == nil:
			case have == nil || b.Name < name:
				name, have = b.Name, []int{k}
			case b.Name == name:
				have = append(have, k)
			}
		}
		if have == nil {
			break
		}
		if !split.Splits(name) && len(have) > 1 {
			return Summary{}, fmt.Errorf("%w: bucket %q is in shards %s and %s (overlapping shards)", ErrMerge, name, paths[order[have[0]]], paths[order[have[1]]])
		}
		if split.Splits(name) && len(have) != len(streams) {
			return Summary{}, fmt.Errorf("%w: bucket %q is split by key across the shards but only %d of %d shards read it (was it created during the scan?): scan every shard again", ErrMerge, name, len(have), len(streams))
		}
		// Buckets are counted here, not added up: a split bucket is in
		// every shard's count.
		read, err := mergeBucket(w, streams, have, paths, order)
		if err != nil {
			return Summary{}, err
		}
		cov.Buckets++
		if read {
			cov.BucketsRead++
		}
	}
	for j, st := range streams {
		if err := st.close(); err != nil {
			return Summary{}, fmt.Errorf("shard %s: %w", paths[order[j]], err)
		}
	}

	// Keys: once each per region, the most recent reading winning.
	keys := map[string]Key{}
	var ids []string
	for _, i := range order {
		for _, k := range sums[i].Keys {
			id := k.Region + "\x00" + k.KeyID
			old, ok := keys[id]
			if !ok {
				ids = append(ids, id)
			}
			if !ok || k.ReadAt.After(old.ReadAt) {
				keys[id] = k
			}
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		k := keys[id]
		cov.KeysReferenced++
		if k.Error == nil {
			cov.KeysDescribed++
		}
		if err := w.Key(k); err != nil {
			return Summary{}, fmt.Errorf("snapshot: merge: %w", err)
		}
	}
	if err := w.Close(cov, complete); err != nil {
		return Summary{}, fmt.Errorf("snapshot: merge: %w", err)
	}
	return w.Summary(), nil
}

// checkShards returns the shards in index order, or why they are not the
// shards of one scan.
func checkShards(paths []string, sums []Summary) ([]int, error) {
	first := sums[0].Provenance
	var count int
	byIndex := map[int]int{}
	for i, s := range sums {
		p := s.Provenance
		switch {
		case p.Shard == nil:
			return nil, fmt.Errorf("%w: %s is not a shard (scan it with --shard i/n)", ErrMerge, paths[i])
		case p.Target.Dialect != first.Target.Dialect || p.Target.Endpoint != first.Target.Endpoint || p.Target.Kind != first.Target.Kind:
			return nil, fmt.Errorf("%w: %s is of %s %s, %s of %s %s: shards must be of one target", ErrMerge, paths[i], p.Target.Kind, p.Target.Endpoint, paths[0], first.Target.Kind, first.Target.Endpoint)
		case p.PolicyDigest != first.PolicyDigest:
			return nil, fmt.Errorf("%w: %s was scanned for policy bundle %s, %s for %s: scan every shard with the same policies", ErrMerge, paths[i], orDash(p.PolicyDigest), paths[0], orDash(first.PolicyDigest))
		case p.BucketFilter != first.BucketFilter:
			return nil, fmt.Errorf("%w: %s selected buckets %q, %s %q", ErrMerge, paths[i], p.BucketFilter, paths[0], first.BucketFilter)
		case p.ToolVersion != first.ToolVersion:
			return nil, fmt.Errorf("%w: %s was written by sseaudit %s, %s by %s", ErrMerge, paths[i], p.ToolVersion, paths[0], first.ToolVersion)
		}
		if i == 0 {
			count = p.Shard.Count
		}
		if p.Shard.Count != count {
			return nil, fmt.Errorf("%w: %s is shard %d/%d, %s of %d shards", ErrMerge, paths[i], p.Shard.Index, p.Shard.Count, paths[0], count)
		}
		if j, dup := byIndex[p.Shard.Index]; dup {
			return nil, fmt.Errorf("%w: %s and %s are both shard %d/%d", ErrMerge, paths[j], paths[i], p.Shard.Index, count)
		}
		byIndex[p.Shard.Index] = i
		if p.Shard.Split != first.Shard.Split {
			return nil, fmt.Errorf("%w: %s split buckets %q by key, %s %q: scan every shard with the same --shard-split", ErrMerge, paths[i], p.Shard.Split, paths[0], first.Shard.Split)
		}
		for _, b := range s.Buckets {
			if got := ShardOf(b.Name, count); got != p.Shard.Index && !p.Shard.Splits(b.Name) {
				return nil, fmt.Errorf("%w: %s (shard %d/%d) holds bucket %q, which belongs to shard %d", ErrMerge, paths[i], p.Shard.Index, count, b.Name, got)
			}
		}
	}
	var missing []string
	order := make([]int, 0, count)
	for i := range count {
		j, ok := byIndex[i]
		if !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, count))
			continue
		}
		order = append(order, j)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: shard %s missing: a merge of fewer than all shards would be a smaller census", ErrMerge, strings.Join(missing, ", "))
	}
	return order, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// mergeBucket writes the bucket the shards have (indexes into streams) at
// their heads: its header, its objects in key order (a k-way merge of the
// shards' shares when it is split), its counts added up. It reports
// whether the bucket was read without error (as the scan counts
// Coverage.BucketsRead).
func mergeBucket(w *Writer, streams []*objectStream, have []int, paths []string, order []int) (bool, error) {
	hdr := *streams[have[0]].bucket()
	hdr.Objects = nil
	for _, k := range have[1:] {
		o := streams[k].bucket()
		if !ruleEqual(hdr.Encryption, o.Encryption) || hdr.VersionsInspected != o.VersionsInspected {
			return false, fmt.Errorf("%w: shards %s and %s read bucket %q's default rule or versioning differently (changed during the scan?): scan every shard again", ErrMerge, paths[order[have[0]]], paths[order[k]], hdr.Name)
		}
		if hdr.EncryptionError == nil {
			hdr.EncryptionError = o.EncryptionError
		}
		if hdr.RegionError == nil {
			hdr.RegionError = o.RegionError
		}
	}
	if err := w.BeginBucket(hdr); err != nil {
		return false, fmt.Errorf("snapshot: merge: %w", err)
	}
	var listed, inspected int64
	var listErr *Error
	for _, k := range have {
		b := streams[k].bucket()
		listed += b.ObjectsListed
		inspected += b.ObjectsInspected
		if listErr == nil {
			listErr = b.ListError
		}
	}
	for {
		j := -1
		for _, k := range have {
			o, err := streams[k].object()
			if err != nil {
				return false, fmt.Errorf("shard %s: %w", paths[order[k]], err)
			}
			if o != nil && (j < 0 || o.Key < streams[j].peek.Key) {
				j = k
			}
		}
		if j < 0 {
			break
		}
		if err := w.Object(*streams[j].peek); err != nil {
			return false, fmt.Errorf("snapshot: merge: %w", err)
		}
		streams[j].peek = nil
	}
	for _, k := range have {
		streams[k].nextBucket()
	}
	if err := w.EndBucket(listed, inspected, listErr); err != nil {
		return false, fmt.Errorf("snapshot: merge: %w", err)
	}
	return hdr.EncryptionError == nil && listErr == nil && hdr.RegionError == nil, nil
}

// objectStream reads one shard's snapshot an object at a time, in file
// order, so a merge holds one object per shard however large a bucket.
type objectStream struct {
	hdrs   []Bucket // the shard's bucket headers (ReadHeaders)
	cur    int      // the bucket at the head
	ch     chan objectEvent
	errc   chan error
	peek   *Object // the head bucket's next object, read ahead
	ended  bool    // the head bucket's objects are all read
	closed bool
}

type objectEvent struct {
	bucket int
	obj    *Object // nil: the bucket ends
}

func streamObjects(ctx context.Context, path string, hdrs []Bucket) *objectStream {
	st := &objectStream{hdrs: hdrs, ch: make(chan objectEvent, 256), errc: make(chan error, 1)}
	send := func(e objectEvent) error {
		select {
		case st.ch <- e:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	go func() {
		defer close(st.ch)
		st.errc <- StreamObjects(path, true, ObjectVisitor{
			Object: func(i int, _ []byte, _ int64, o *Object) error {
				c := *o
				return send(objectEvent{bucket: i, obj: &c})
			},
			EndBucket: func(i int, _ *Bucket) error { return send(objectEvent{bucket: i}) },
		})
	}()
	return st
}

// bucket is the header of the bucket at the head (nil after the last).
func (st *objectStream) bucket() *Bucket {
	if st.cur >= len(st.hdrs) {
		return nil
	}
	return &st.hdrs[st.cur]
}

// object returns the head bucket's next object without consuming it (the
// caller clears peek once written), nil once the bucket's objects end.
func (st *objectStream) object() (*Object, error) {
	if st.peek != nil || st.ended {
		return st.peek, nil
	}
	e, ok := <-st.ch
	if !ok {
		st.closed = true
		if err := <-st.errc; err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: the document ended inside bucket %q (the file changed?)", ErrFormat, st.hdrs[st.cur].Name)
	}
	if e.bucket != st.cur {
		return nil, fmt.Errorf("%w: objects of bucket %d read while expecting bucket %q (the file changed?)", ErrFormat, e.bucket, st.hdrs[st.cur].Name)
	}
	if e.obj == nil {
		st.ended = true
	}
	st.peek = e.obj
	return st.peek, nil
}

// nextBucket moves to the next bucket (the head bucket's objects read).
func (st *objectStream) nextBucket() {
	st.cur++
	st.ended = false
}

// close waits for the end of the document and returns what reading it
// found wrong.
func (st *objectStream) close() error {
	if st.closed {
		return nil
	}
	for e := range st.ch {
		return fmt.Errorf("%w: more in the document than its headers said (bucket %d; the file changed?)", ErrFormat, e.bucket)
	}
	st.closed = true
	return <-st.errc
}
