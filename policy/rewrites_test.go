package policy

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestDriftRecognisesJournalledRewrites: a rewrite recorded in history
// (remediate apply) that took x.bin from its previous state to its
// current one within the same second is no SSE-007; y.bin, changed the
// same way in the same bucket without a journal, still is, and so is
// x.bin when the journal says it became something else.
func TestDriftRecognisesJournalledRewrites(t *testing.T) {
	dir := t.TempDir()
	e := load(t, Options{})
	plainX, plainY := obj("b1", "x.bin", snapshot.MethodNone, ""), obj("b1", "y.bin", snapshot.MethodNone, "")
	aes := func(o snapshot.Object) snapshot.Object {
		o.SSE, o.Method = "AES256", snapshot.MethodOSSManaged
		return o
	}
	prev := mem("s1", bucket("b1", nil, plainX, plainY))
	prev.FinishedAt = tPrevScan
	cur := mem("s2", bucket("b1", ruleAES, aes(plainX), aes(plainY)))
	pp := writeSnapshot(t, dir, "prev.json", prev)
	cp := writeSnapshot(t, dir, "cur.json", cur)
	tk := history.TargetKey(prev.Provenance.Target)
	at := prev.Provenance.StartedAt.Add(time.Minute)
	cases := []struct {
		name     string
		rewrites []history.Rewrite
		want     []string // keys with SSE-007
	}{
		{"no journal", nil, []string{"x.bin", "y.bin"}},
		{"x.bin journalled", []history.Rewrite{{Bucket: "b1", Key: "x.bin", At: at,
			Before: history.RewriteState{ETag: plainX.ETag}, After: history.RewriteState{ETag: plainX.ETag, SSE: "AES256"}}}, []string{"y.bin"}},
		{"x.bin journalled to KMS, found AES256", []history.Rewrite{{Bucket: "b1", Key: "x.bin", At: at,
			Before: history.RewriteState{ETag: plainX.ETag}, After: history.RewriteState{ETag: plainX.ETag, SSE: "KMS"}}}, []string{"x.bin", "y.bin"}},
		{"journalled before the previous scan", []history.Rewrite{{Bucket: "b1", Key: "x.bin", At: prev.Provenance.StartedAt.Add(-time.Hour),
			Before: history.RewriteState{ETag: plainX.ETag}, After: history.RewriteState{ETag: plainX.ETag, SSE: "AES256"}}}, []string{"x.bin", "y.bin"}},
		{"journalled in another bucket", []history.Rewrite{{Bucket: "b2", Key: "x.bin", At: at,
			Before: history.RewriteState{ETag: plainX.ETag}, After: history.RewriteState{ETag: plainX.ETag, SSE: "AES256"}}}, []string{"x.bin", "y.bin"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, err := history.Open(filepath.Join(dir, "h"+string(rune('0'+i))+".db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.RecordRewrites(tk, c.rewrites); err != nil {
				t.Fatal(err)
			}
			fs, err := e.EvaluateSnapshot(context.Background(), cp, pp, db)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, f := range ofRule(fs, "SSE-007") {
				got[f.Resource.Key] = true
			}
			if len(got) != len(c.want) {
				t.Fatalf("SSE-007 on %v, want on %v", got, c.want)
			}
			for _, k := range c.want {
				if !got[k] {
					t.Errorf("SSE-007 on %v, want on %v", got, c.want)
				}
			}
		})
	}
}
