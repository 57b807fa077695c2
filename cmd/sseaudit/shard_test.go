package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/snapshot"
)

// TestShardsMergeToTheUnshardedScan: four shard scans of one estate,
// merged, give exactly the findings (ids, rules, resources, messages) and
// the bucket and object records of one unsharded scan; a merge of shards
// that do not make up one scan is refused.
func TestShardsMergeToTheUnshardedScan(t *testing.T) {
	srv, getenv := startSeeded(t, nil)
	work := t.TempDir()
	target := []string{"--endpoint", srv.Endpoint, "--dialect", "oss", "--region", srv.Region, "--kms-endpoint", srv.KMSEndpoint, "--history", "", "-q"}
	scan := func(out string, args ...string) cliRun {
		return runCLIEnv(t, getenv, append(append([]string{"scan", "--out", out}, target...), args...)...)
	}
	if r := scan(filepath.Join(work, "all")); r.code == exitFailed {
		t.Fatal(r.err)
	}
	// shardAndMerge scans the estate in 4 shards (extra: more shard
	// flags), merges them into merged and evaluates the result into eval.
	shardAndMerge := func(name string, extra ...string) (shards []string, merged, eval string) {
		for i := range 4 {
			out := filepath.Join(work, fmt.Sprintf("%s-%d", name, i))
			if r := scan(out, append([]string{"--shard", fmt.Sprintf("%d/4", i)}, extra...)...); r.code == exitFailed {
				t.Fatalf("shard %d: %v", i, r.err)
			}
			shards = append(shards, out)
		}
		merged = filepath.Join(work, name+"-merged.json")
		if r := runCLIEnv(t, getenv, append([]string{"merge", "--out", merged}, shards...)...); r.code != 0 {
			t.Fatalf("merge: exit %d %v", r.code, r.err)
		}
		eval = filepath.Join(work, name+"-eval")
		if r := runCLIEnv(t, getenv, "scan", "--from-snapshot", merged, "--out", eval, "--history", "", "-q"); r.code == exitFailed {
			t.Fatal(r.err)
		}
		return shards, merged, eval
	}
	shards, merged, eval := shardAndMerge("shard")
	// Every bucket split by key: each shard reads every bucket's rule
	// and inspects a quarter of its objects.
	_, splitMerged, splitEval := shardAndMerge("split", "--shard-split", "*")
	findingsOf := func(p string) []string {
		var out []string
		for _, f := range readFindingsDoc(t, p).Findings {
			out = append(out, f.ID+" "+f.Rule+" "+f.Resource.UID+" "+f.Message)
		}
		slices.Sort(out)
		return out
	}
	// The findings, their summary and the verdict, byte for byte, but for
	// when each thing was read and the snapshot's id, which say which
	// run it was.
	verdictOf := func(p string) string {
		d := readFindingsDoc(t, p)
		j, err := json.Marshal(struct {
			Summary  any
			Outcome  any
			Findings any
		}{d.Summary, d.Outcome, d.Findings})
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(j, &v); err != nil {
			t.Fatal(err)
		}
		var strip func(any)
		strip = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for _, k := range []string{"snapshot", "captured_at", "read_at", "first_seen", "last_seen"} {
					delete(v, k)
				}
				for _, e := range v {
					strip(e)
				}
			case []any:
				for _, e := range v {
					strip(e)
				}
			}
		}
		strip(v)
		j, _ = json.MarshalIndent(v, "", " ")
		return string(j)
	}
	for _, eval := range []string{eval, splitEval} {
		if a, b := verdictOf(filepath.Join(work, "all", "findings.json")), verdictOf(filepath.Join(eval, "findings.json")); a != b {
			t.Errorf("%s: findings differ from the unsharded scan's:\n%s\nvs\n%s", eval, b, a)
		}
	}
	want := findingsOf(filepath.Join(work, "all", "findings.json"))
	for _, eval := range []string{eval, splitEval} {
		if got := findingsOf(filepath.Join(eval, "findings.json")); len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: merged findings differ from the unsharded scan's:\n got %q\nwant %q", eval, got, want)
		}
	}
	bucketsOf := func(p string) string {
		var bs []string
		if err := snapshot.EachBucket(p, func(b snapshot.Bucket) error {
			b.ReadAt = b.ReadAt.Truncate(0)
			for i := range b.Objects {
				b.Objects[i].Attempts = 0
			}
			j, _ := json.Marshal(struct {
				Name              string
				Rule              *snapshot.Rule
				Listed, Inspected int64
				Objects           []snapshot.Object
			}{b.Name, b.Encryption, b.ObjectsListed, b.ObjectsInspected, sortedObjects(b.Objects)})
			bs = append(bs, string(j))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return strings.Join(bs, "\n")
	}
	for _, merged := range []string{merged, splitMerged} {
		if a, b := bucketsOf(filepath.Join(work, "all", "snapshot.json")), bucketsOf(merged); a != b {
			t.Errorf("%s: merged buckets differ:\n%s\nvs\n%s", merged, b, a)
		}
	}

	bad := []struct {
		name   string
		shards []string
		want   string
	}{
		{"a shard missing", shards[:3], "shard 3/4 missing"},
		{"a shard twice", append(slices.Clone(shards[:3]), shards[2], shards[3]), "are both shard 2/4"},
		{"not a shard", append(slices.Clone(shards[:3]), filepath.Join(work, "all")), "is not a shard"},
	}
	for _, c := range bad {
		r := runCLIEnv(t, getenv, append([]string{"merge", "--out", filepath.Join(work, "bad.json")}, c.shards...)...)
		if r.code != exitFailed || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("%s: exit %d %v", c.name, r.code, r.err)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "bad.json")); err == nil {
		t.Error("a refused merge left a file")
	}
	if r := runCLIEnv(t, getenv, append([]string{"scan", "--out", filepath.Join(work, "x"), "--shard", "4/4"}, target...)...); r.code != exitFailed {
		t.Errorf("--shard 4/4: exit %d", r.code)
	}
}

// sortedObjects orders a bucket's objects by key and version: a scan
// records them in the order it inspected them.
func sortedObjects(os []snapshot.Object) []snapshot.Object {
	out := slices.Clone(os)
	slices.SortFunc(out, func(a, b snapshot.Object) int {
		return strings.Compare(a.Key+"\x00"+a.VersionID, b.Key+"\x00"+b.VersionID)
	})
	return out
}
