package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// shardFile writes shard index/count holding the given buckets (each with
// one object) and returns its path.
func shardFile(t *testing.T, index, count int, mutate func(*Provenance), buckets ...string) string {
	t.Helper()
	p := testProvenance()
	p.ScanID = fmt.Sprintf("shard-%d-%s", index, strings.Join(buckets, "-"))
	p.Shard = &Shard{Index: index, Count: count}
	if mutate != nil {
		mutate(&p)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, p, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		w.BeginBucket(Bucket{Name: b})
		w.Object(Object{Bucket: b, Key: "k", Method: MethodNone})
		w.EndBucket(1, 1, nil)
	}
	if err := w.Close(Coverage{Buckets: len(buckets), BucketsRead: len(buckets), ObjectsListed: int64(len(buckets)), ObjectsInspected: int64(len(buckets))}, true); err != nil {
		t.Fatal(err)
	}
	// Each file in a directory of its own: two shards may share a scan id.
	return writeFile(t, t.TempDir(), p.ScanID+".json", buf.String())
}

// bucketsFor returns n bucket names that fall into shard i of count.
func bucketsFor(i, count, n int) []string {
	var out []string
	for k := 0; len(out) < n; k++ {
		if name := fmt.Sprintf("b%03d", k); ShardOf(name, count) == i {
			out = append(out, name)
		}
	}
	return out
}

func TestMerge(t *testing.T) {
	dir := t.TempDir()
	s0 := shardFile(t, 0, 2, nil, bucketsFor(0, 2, 3)...)
	s1 := shardFile(t, 1, 2, nil, bucketsFor(1, 2, 2)...)
	var out bytes.Buffer
	sum, err := Merge(context.Background(), []string{s1, s0}, &out)
	if err != nil {
		t.Fatal(err)
	}
	merged := writeFile(t, dir, "merged.json", out.String())
	got, err := ReadSummary(merged)
	if err != nil {
		t.Fatalf("the merged snapshot does not read: %v", err)
	}
	if len(got.Buckets) != 5 || got.Coverage.Buckets != 5 || got.Coverage.ObjectsInspected != 5 || !got.Complete ||
		got.Provenance.Shard != nil || len(got.Provenance.MergedFrom) != 2 || sum.Provenance.ScanID != got.Provenance.ScanID {
		t.Errorf("merged: %+v", got)
	}

	other := func(p *Provenance) { p.Target.Endpoint = "http://elsewhere" }
	policy := func(p *Provenance) { p.PolicyDigest = "sha256:other" }
	cases := []struct {
		name  string
		paths []string
		want  string
	}{
		{"overlapping shards", []string{s0, shardFile(t, 1, 2, nil, append(bucketsFor(1, 2, 1), bucketsFor(0, 2, 1)...)...)}, "belongs to shard 0"},
		{"another target", []string{s0, shardFile(t, 1, 2, other, bucketsFor(1, 2, 1)...)}, "one target"},
		{"another policy bundle", []string{s0, shardFile(t, 1, 2, policy, bucketsFor(1, 2, 1)...)}, "same policies"},
		{"another sharding", []string{s0, shardFile(t, 1, 3, nil, bucketsFor(1, 3, 1)...)}, "of 2 shards"},
		{"a shard missing", []string{s0}, "shard 1/2 missing"},
		{"nothing", nil, "no shard"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Merge(context.Background(), c.paths, &bytes.Buffer{})
			if !errors.Is(err, ErrMerge) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}
