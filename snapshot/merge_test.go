package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
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

// splitShard writes shard index/count of a scan splitting "big" by key:
// the shard's share of keys k000..k(n-1) (a rule per mutate), and the
// whole-name buckets it owns of others.
func splitShard(t *testing.T, index, count, n int, rule *Rule, others ...string) string {
	t.Helper()
	p := testProvenance()
	p.ScanID = fmt.Sprintf("split-%d", index)
	p.Shard = &Shard{Index: index, Count: count, Split: "big*"}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, p, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	names := append([]string{"big"}, others...)
	slices.Sort(names)
	var cov Coverage
	for _, b := range names {
		hdr := Bucket{Name: b}
		if b == "big" {
			hdr.Encryption = rule
		}
		w.BeginBucket(hdr)
		var mine int64
		for k := range n {
			key := fmt.Sprintf("k%03d", k)
			if b != "big" || p.Shard.OwnsObject(b, key) {
				w.Object(Object{Bucket: b, Key: key, Method: MethodNone, Size: int64(k)})
				mine++
			}
		}
		w.EndBucket(mine, mine, nil)
		cov.Buckets++
		cov.BucketsRead++
		cov.ObjectsListed += mine
		cov.ObjectsInspected += mine
	}
	if err := w.Close(cov, true); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, t.TempDir(), p.ScanID+".json", buf.String())
}

// TestMergeSplitBucket: a bucket split by key across the shards comes out
// of the merge whole, in key order, its counts added up; shards that read
// it differently, or that did not all read it, are refused.
func TestMergeSplitBucket(t *testing.T) {
	const count, n = 3, 200
	rule := &Rule{Algorithm: "AES256", Method: MethodOSSManaged}
	var paths []string
	for i := range count {
		var others []string
		for _, b := range []string{"a", "c", "zz"} {
			if ShardOf(b, count) == i {
				others = append(others, b)
			}
		}
		paths = append(paths, splitShard(t, i, count, n, rule, others...))
	}
	var out bytes.Buffer
	sum, err := Merge(context.Background(), paths, &out)
	if err != nil {
		t.Fatal(err)
	}
	if c := sum.Coverage; c.ObjectsListed != 4*n || c.ObjectsInspected != 4*n || c.Buckets != 4 || c.BucketsRead != 4 {
		t.Errorf("coverage %+v: want 4 buckets read, %d objects", c, 4*n)
	}
	merged := writeFile(t, t.TempDir(), "merged.json", out.String())
	var names []string
	if err := EachBucket(merged, func(b Bucket) error {
		names = append(names, b.Name)
		if int64(len(b.Objects)) != n || b.ObjectsListed != n || b.ObjectsInspected != n {
			t.Errorf("bucket %s: %d objects, listed %d inspected %d, want %d", b.Name, len(b.Objects), b.ObjectsListed, b.ObjectsInspected, n)
		}
		for k, o := range b.Objects {
			if want := fmt.Sprintf("k%03d", k); o.Key != want {
				t.Fatalf("bucket %s: object %d is %s, want %s (key order)", b.Name, k, o.Key, want)
			}
		}
		if b.Name == "big" && (b.Encryption == nil || b.Encryption.Method != MethodOSSManaged) {
			t.Errorf("big's rule: %+v", b.Encryption)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"a", "big", "c", "zz"}) {
		t.Errorf("buckets %v", names)
	}

	other := &Rule{Algorithm: "KMS", Method: MethodKMSDefault}
	bad := []struct {
		name  string
		paths []string
		want  string
	}{
		{"rule read differently", []string{paths[0], splitShard(t, 1, count, n, other), paths[2]}, "read bucket \"big\"'s default rule"},
		{"split bucket missing", []string{paths[0], paths[1], shardFile(t, 2, count, func(p *Provenance) { p.Shard.Split = "big*" })}, "only 2 of 3 shards read it"},
		{"different split", []string{paths[0], paths[1], shardFile(t, 2, count, nil)}, "split buckets"},
	}
	for _, c := range bad {
		_, err := Merge(context.Background(), c.paths, &bytes.Buffer{})
		if !errors.Is(err, ErrMerge) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
