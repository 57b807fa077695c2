package scan

import (
	"context"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/policy"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestExtraKeyRefs: an allow-list may name a CMK by alias, which only KMS
// can resolve. Given the allow-list, the scan records what each alias
// resolves to, and the policies then accept the key the estate names by
// id; without it, the alias matches nothing (and the key is flagged).
func TestExtraKeyRefs(t *testing.T) {
	root := rootClient(t, client.OSS)
	cmk := createKey(t, "allow-listed by alias")
	other := createKey(t, "not allow-listed")
	if _, err := rootKMS.CreateAlias(&kmssdk.CreateAliasRequest{AliasName: tea.String("alias/xref-payments"), KeyId: tea.String(cmk)}); err != nil {
		t.Fatal(err)
	}
	mkBucket(t, root, "xref-good", &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: cmk})
	put(t, root, "xref-good", "a", nil)
	put(t, root, "xref-good", "b", &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: other})

	arn := "acs:kms:" + srv.Region + ":" + srv.KMSAccount() + ":alias/xref-payments"
	allow := []string{"alias/xref-payments", arn, "alias/xref-nowhere", cmk, "acs:kms:" + srv.Region + ":" + srv.KMSAccount() + ":key/" + other, "  "}
	cfg := Config{Client: root, KMS: rootKMS, BucketGlob: "xref-*", ExtraKeyRefs: allow}
	sum, path, err := scanFile(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]snapshot.Key{}
	for _, k := range sum.Keys {
		byID[k.KeyID] = k
	}
	// The two keys in use, plus the three alias references; key ids and
	// key ARNs need no KMS and are not described for the allow-list.
	if len(sum.Keys) != 5 || sum.Coverage.KeysReferenced != 5 || sum.Coverage.KeysDescribed != 5 {
		t.Fatalf("keys %s\ncoverage %s", mustJSON(sum.Keys), mustJSON(sum.Coverage))
	}
	for _, ref := range []string{"alias/xref-payments", arn} {
		k := byID[ref]
		if k.ResolvedKeyID != cmk || k.Arn != "acs:kms:"+srv.Region+":"+srv.KMSAccount()+":key/"+cmk || k.State != "Enabled" || k.Missing {
			t.Errorf("%s: %s", ref, mustJSON(k))
		}
	}
	if k := byID["alias/xref-nowhere"]; !k.Missing || k.Error != nil {
		t.Errorf("unknown alias: %s", mustJSON(k))
	}

	// The policies, with the allow-list naming the key by alias only.
	p := policy.BuiltinProfiles()["byok"]
	p.AllowedCMKIDs = []string{"alias/xref-payments"}
	e, err := policy.Load(context.Background(), policy.Options{Profile: &p})
	if err != nil {
		t.Fatal(err)
	}
	judge := func(path string) map[string]int {
		fs, err := e.EvaluateSnapshot(context.Background(), path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, f := range fs {
			if f.Rule == "SSE-002" || f.Rule == "SSE-006" {
				got[f.Rule+" "+f.Resource.UID]++
			}
		}
		return got
	}
	want := map[string]int{"SSE-006 oss://xref-good/b": 1} // only the object under the other key
	if got := judge(path); mustJSON(got) != mustJSON(want) {
		t.Errorf("with the allow-list resolved: %v, want %v", got, want)
	}
	// Without ExtraKeyRefs the alias cannot be resolved: the key the
	// default and object a name by id is not recognised as allowed.
	cfg.ExtraKeyRefs = nil
	_, path2, err := scanFile(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]int{"SSE-002 oss://xref-good": 1, "SSE-006 oss://xref-good/a": 1, "SSE-006 oss://xref-good/b": 1}
	if got := judge(path2); mustJSON(got) != mustJSON(want) {
		t.Errorf("without the allow-list resolved: %v, want %v", got, want)
	}
}

func TestAliasRegion(t *testing.T) {
	for ref, want := range map[string]struct {
		region string
		alias  bool
	}{
		"alias/x":                          {"", true},
		"acs:kms:cn-shanghai:123:alias/x":  {"cn-shanghai", true},
		"arn:aws:kms:us-east-1:1:alias/x":  {"us-east-1", true},
		"acs:kms:cn-shanghai:123:key/k1":   {"", false},
		"arn:aws:kms:us-east-1:1:key/k2":   {"", false},
		"1234abcd-0000-0000-0000-00000000": {"", false},
		"":                                 {"", false},
	} {
		r, a := aliasRegion(ref)
		if r != want.region || a != want.alias {
			t.Errorf("%q: %q %v, want %q %v", ref, r, a, want.region, want.alias)
		}
	}
}
