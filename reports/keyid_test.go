package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestCSVKeyIDs evaluates the built-in policies on a snapshot where every
// rule that names a KMS key fires, and checks findings.csv's kms_key_id:
// the bucket default's key (SSE-002 not allowed, SSE-003 disabled), the
// object's key (SSE-005 cannot decrypt, SSE-006 not allowed) and the key
// itself (SSE-010 state unknown). Any finding of category key, or about a
// key, must name one.
func TestCSVKeyIDs(t *testing.T) {
	keys := []snapshot.Key{
		{KeyID: "k-dis", Region: "r1", State: "Disabled"},
		{KeyID: "k-ok", Region: "r1", State: "Enabled"},
		{KeyID: "k-stranger", Region: "r1", State: "Enabled"},
		{KeyID: "k-unknown", Region: "r1", Error: &snapshot.Error{Scope: "key", Resource: "k-unknown", Message: "AccessDenied"}},
	}
	path := writeSnap(t, DialectOSS, []fixBucket{
		{Bucket: snapshot.Bucket{Name: "b-disabled", Encryption: cmkRule("k-dis")}, Objects: []snapshot.Object{cmkObject("locked", "k-dis", 1)}},
		{Bucket: snapshot.Bucket{Name: "b-other", Encryption: cmkRule("k-ok")}, Objects: []snapshot.Object{cmkObject("foreign", "k-stranger", 1)}},
		{Bucket: snapshot.Bucket{Name: "b-stranger", Encryption: cmkRule("k-stranger")}},
		{Bucket: snapshot.Bucket{Name: "b-unknown", Encryption: cmkRule("k-unknown")}},
	}, keys, nil, true)
	prof := policy.DefaultProfile()
	prof.Name = "allow-list"
	prof.AllowedCMKIDs = []string{"k-dis", "k-ok", "k-unknown"}
	ctx := context.Background()
	e, err := policy.Load(ctx, policy.Options{Profile: &prof, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := e.EvaluateSnapshot(ctx, path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := snapshot.ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	m := build(t, ModelInput{SnapshotPath: path, Findings: e.Document(policy.ScanInfo(&sum, path, nil), fs), ToolVersion: "v1"})
	var buf bytes.Buffer
	if err := CSV(&buf, m); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	byRule := map[string][]string{} // rule -> resource|kms_key_id
	for _, r := range rows[1:] {
		rule, cat, rtype, key := r[col["rule"]], r[col["category"]], r[col["resource_type"]], UnescapeCSVCell(r[col["kms_key_id"]])
		byRule[rule] = append(byRule[rule], r[col["resource_uid"]]+"|"+key)
		if (cat == findings.CategoryKey || rtype == findings.ResourceKey) && key == "" {
			t.Errorf("%s on %s: no kms_key_id", rule, r[col["resource_uid"]])
		}
	}
	want := []struct{ rule, entry string }{
		{"SSE-002", "oss://b-stranger|k-stranger"},
		{"SSE-003", "oss://b-disabled|k-dis"},
		{"SSE-005", "oss://b-disabled/locked|k-dis"},
		{"SSE-006", "oss://b-other/foreign|k-stranger"},
		{"SSE-010", "kms://r1/k-unknown|k-unknown"},
	}
	for _, w := range want {
		found := false
		for _, e := range byRule[w.rule] {
			found = found || e == w.entry
		}
		if !found {
			t.Errorf("%s: rows %v, want %q", w.rule, byRule[w.rule], w.entry)
		}
	}
}
