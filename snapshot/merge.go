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

// ErrMerge is wrapped by every error for shards that cannot be merged.
var ErrMerge = errors.New("snapshot: cannot merge")

// Merge joins the snapshots of every shard of one sharded scan into one
// snapshot written to out, as if one scan had read every bucket: buckets
// in name order, keys once each (the most recent reading of a key), the
// coverage added up, complete only if every shard is. It refuses, with an
// error wrapping ErrMerge, shards of different targets, policy bundles,
// bucket filters or tool versions, shards of another sharding, a shard
// missing or given twice, and shards that share a bucket. Memory is
// bounded by one bucket per shard.
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
		cov.Buckets += c.Buckets
		cov.BucketsRead += c.BucketsRead
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
	streams := make([]*bucketStream, len(order))
	heads := make([]*Bucket, len(order))
	for j, i := range order {
		streams[j] = streamBuckets(ctx, paths[i])
		if heads[j], err = streams[j].next(); err != nil {
			return Summary{}, fmt.Errorf("shard %s: %w", paths[i], err)
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return Summary{}, err
		}
		// The smallest bucket name among the shards' next buckets.
		j := -1
		for k, b := range heads {
			if b != nil && (j < 0 || b.Name < heads[j].Name) {
				j = k
			}
		}
		if j < 0 {
			break
		}
		b := heads[j]
		for k, o := range heads {
			if k != j && o != nil && o.Name == b.Name {
				return Summary{}, fmt.Errorf("%w: bucket %q is in shards %s and %s (overlapping shards)", ErrMerge, b.Name, paths[order[j]], paths[order[k]])
			}
		}
		hdr := *b
		hdr.Objects = nil
		if err := w.BeginBucket(hdr); err != nil {
			return Summary{}, fmt.Errorf("snapshot: merge: %w", err)
		}
		for _, o := range b.Objects {
			if err := w.Object(o); err != nil {
				return Summary{}, fmt.Errorf("snapshot: merge: %w", err)
			}
		}
		if err := w.EndBucket(b.ObjectsListed, b.ObjectsInspected, b.ListError); err != nil {
			return Summary{}, fmt.Errorf("snapshot: merge: %w", err)
		}
		if heads[j], err = streams[j].next(); err != nil {
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
		for _, b := range s.Buckets {
			if got := ShardOf(b.Name, count); got != p.Shard.Index {
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
