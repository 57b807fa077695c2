package snapshot

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLeanHeaders: ReadLeanHeaders keeps every fact of the headers but the
// raw response bodies, and StreamObjects' Header gives each bucket's
// bodies before its objects; a body whose member follows the objects in
// the file stays in the lean summary (a stream cannot give it first).
func TestLeanHeaders(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	body := strings.Repeat("p", 5000)
	mk := func(name string) Bucket {
		return Bucket{Name: name, Region: "r", CreationDate: at, ReadAt: at,
			Encryption: &Rule{Algorithm: "KMS", KMSMasterKeyID: "k", Method: MethodKMSCMK, Raw: "<rule " + name + "/>"},
			ACL:        &ACL{Canned: "private", Grants: []Grant{{Type: "Group", ID: "g", Permission: "READ"}}, Raw: "<acl " + name + "/>"},
			Policy:     &Policy{Status: PolicySet, Raw: body + name, RawSHA256: "d-" + name, RawTruncated: true, DeniesUnencryptedPut: true},
			Objects:    []Object{{Bucket: name, Key: "o", Size: 1, ETag: `"e"`, LastModified: at, Method: MethodNone}}}
	}
	buckets := []Bucket{mk("a"), mk("b"), mk("c")}
	buckets[2].Objects = nil
	p := filepath.Join(dir, "s.json")
	writeSnap(t, p, true, buckets...)
	// The same document with b's policy after its objects.
	doc, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	pol, _ := json.Marshal(buckets[1].Policy)
	member := append([]byte(`,"policy":`), pol...)
	i := bytes.Index(doc, member)
	j := bytes.Index(doc[i+1:], []byte(`,"objects_listed"`))
	if i < 0 || j < 0 {
		t.Fatalf("b's policy or counts not found in %s", doc)
	}
	j += i + 1
	moved := append(append(append(append([]byte{}, doc[:i]...), doc[i+len(member):j]...), member...), doc[j:]...)
	late := filepath.Join(dir, "late.json")
	if err := os.WriteFile(late, moved, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		late       string // the bucket whose policy follows its objects
	}{{"writer layout", p, ""}, {"policy after objects", late, "b"}} {
		t.Run(c.name, func(t *testing.T) {
			full, err := ReadHeaders(c.path)
			if err != nil {
				t.Fatal(err)
			}
			lean, err := ReadLeanHeaders(c.path)
			if err != nil {
				t.Fatal(err)
			}
			checked, err := ReadLeanSummary(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if !checked.Lean || !reflect.DeepEqual(checked.Buckets, lean.Buckets) {
				t.Errorf("ReadLeanSummary's buckets %+v, want ReadLeanHeaders' %+v", checked.Buckets, lean.Buckets)
			}
			if full.Lean || !lean.Lean || len(lean.Buckets) != 3 {
				t.Fatalf("Lean: full %v, lean %v, %d buckets", full.Lean, lean.Lean, len(lean.Buckets))
			}
			for k, b := range lean.Buckets {
				want := full.Buckets[k].WithoutRaw()
				if b.Name == c.late {
					want = full.Buckets[k]
				}
				if !reflect.DeepEqual(b, want) {
					t.Errorf("lean bucket %+v\nwant %+v", b, want)
				}
				if f := full.Buckets[k]; f.Policy.Raw == "" || f.ACL.Raw == "" || f.Encryption.Raw == "" {
					t.Errorf("WithoutRaw changed the full summary: %+v", f)
				}
			}
			var heads []*Bucket
			var events []string
			err = StreamObjects(c.path, false, ObjectVisitor{
				Header: func(i int, b *Bucket) error {
					heads = append(heads, b)
					events = append(events, "h"+b.Name)
					return nil
				},
				Object: func(i int, _ []byte, _ int64, _ *Object) error {
					events = append(events, "o"+full.Buckets[i].Name)
					return nil
				},
				EndBucket: func(_ int, b *Bucket) error {
					events = append(events, "e"+b.Name)
					return nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(events, " "); got != "ha oa ea hb ob eb hc ec" {
				t.Errorf("events %q, want each header before its objects", got)
			}
			for k, h := range heads {
				f := full.Buckets[k]
				wantPolicy := f.Policy
				if h.Name == c.late {
					wantPolicy = nil
				}
				if !reflect.DeepEqual(h.Encryption, f.Encryption) || !reflect.DeepEqual(h.ACL, f.ACL) || !reflect.DeepEqual(h.Policy, wantPolicy) || h.Name != f.Name {
					t.Errorf("streamed header %+v\nwant the raw bodies of %+v", h, f)
				}
			}
		})
	}
}
