package policy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// rawEstate is an estate whose findings carry raw response bodies as
// evidence: a public bucket (ACL and policy bodies), a bucket only its
// policy guards, a bucket with an SM4 default (rule body), and objects
// without encryption in each.
func rawEstate() (*MemorySnapshot, []string) {
	pad := strings.Repeat(" ", 4000)
	raws := []string{
		`<AccessControlPolicy><Grant>public-read</Grant></AccessControlPolicy>` + pad,
		`{"Version":"1","Statement":[{"Effect":"Allow","Principal":"*","Action":"oss:GetObject"}]}` + pad,
		`{"Version":"1","Statement":[{"Effect":"Deny","Principal":"*","Action":"oss:PutObject","Condition":{"Null":{"x-oss-server-side-encryption":"true"}}}]}` + pad,
		`<ServerSideEncryptionRule><SSEAlgorithm>SM4</SSEAlgorithm></ServerSideEncryptionRule>` + pad,
	}
	pub := bucket("a-pub", &snapshot.Rule{Algorithm: "AES256", Method: snapshot.MethodOSSManaged, Raw: `<ServerSideEncryptionRule>AES256</ServerSideEncryptionRule>`},
		obj("a-pub", "x", snapshot.MethodNone, ""), obj("a-pub", "y", snapshot.MethodOSSManaged, ""))
	pub.ACL = &snapshot.ACL{Canned: "public-read", PublicRead: true, Raw: raws[0]}
	pub.Policy = &snapshot.Policy{Status: snapshot.PolicySet, Raw: raws[1], RawSHA256: "d1", AllowsPublicRead: true}
	guard := bucket("b-guard", nil, obj("b-guard", "z", snapshot.MethodNone, ""))
	guard.Policy = &snapshot.Policy{Status: snapshot.PolicySet, Raw: raws[2], RawSHA256: "d2", DeniesUnencryptedPut: true}
	guard.ACL = &snapshot.ACL{Canned: "private", Raw: `<AccessControlPolicy>private</AccessControlPolicy>`}
	sm4 := bucket("c-sm4", &snapshot.Rule{Algorithm: "SM4", Method: snapshot.MethodOther, Raw: raws[3]}, obj("c-sm4", "w", snapshot.MethodNone, ""))
	return mem("s-raw", pub, guard, sm4, bucket("d-empty", ruleCMK)), raws
}

// TestLeanSummaryFindingsIdentical: an evaluation from a lean summary
// (snapshot.ReadLeanHeaders, no raw bodies) gives exactly the findings of
// one from the full headers, raw bodies in their evidence included; also
// with a bucket whose policy follows its objects in the file (the stream
// cannot give that body before the objects: the summary keeps it), and
// with user rules that read the bodies from input.bucket and
// input.scan.buckets.
func TestLeanSummaryFindingsIdentical(t *testing.T) {
	dir := t.TempDir()
	m, raws := rawEstate()
	p := writeSnapshot(t, dir, "raw.json", m)
	// The same snapshot with b-guard's policy after its objects.
	doc, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := json.Marshal(m.Buckets[1].Policy)
	if err != nil {
		t.Fatal(err)
	}
	member := append([]byte(`,"policy":`), pol...)
	at := bytes.Index(doc, member)
	tail := []byte(`,"objects_listed":1`)
	end := bytes.Index(doc[at:], tail)
	if at < 0 || end < 0 {
		t.Fatalf("b-guard's policy or counts not found in %s", doc)
	}
	moved := append(append([]byte{}, doc[:at]...), doc[at+len(member):at+end]...)
	moved = append(append(moved, member...), doc[at+end:]...)
	late := filepath.Join(dir, "late.json")
	if err := os.WriteFile(late, moved, 0o600); err != nil {
		t.Fatal(err)
	}
	udir := filepath.Join(dir, "user")
	if err := os.MkdirAll(udir, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := func(id, rt string) string {
		return "# METADATA\n# title: raw bodies\n# description: what a user rule reads of them.\n# custom:\n#   id: " + id +
			"\n#   severity: low\n#   resource_type: " + rt + "\n#   remediation:\n#     text: none.\n#     cli: echo\n#   controls:\n#     - {framework: T, version: \"1\", id: \"1\", title: T}\n"
	}
	userRules := "package user.raws\n\nimport data.sseaudit.lib\n\n" + meta("USER-RAW", "bucket") +
		`deny contains {"rule": "USER-RAW", "resource": lib.bucket_resource(input.bucket), "message": "raw", "observed": {"policy": object.get(input.bucket, ["policy", "raw"], null), "rule": object.get(input.bucket, ["encryption", "raw"], null), "acl": object.get(input.bucket, ["acl", "raw"], null)}} if {
	input.bucket.name
}

` + meta("USER-SCAN-RAW", "scan") + `scan_deny contains {"rule": "USER-SCAN-RAW", "resource": lib.scan_resource, "message": "raws", "observed": {"raws": [r | some b in input.scan.buckets; r := object.get(b, ["policy", "raw"], "")]}} if {
	input.scan
}
`
	if err := os.WriteFile(filepath.Join(udir, "raws.rego"), []byte(userRules), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		opts       Options
	}{
		{"writer layout", p, Options{}},
		{"policy after objects", late, Options{}},
		{"user rules", p, Options{ExtraDirs: []string{udir}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := load(t, c.opts)
			full, err := snapshot.ReadHeaders(c.path)
			if err != nil {
				t.Fatal(err)
			}
			lean, err := snapshot.ReadLeanHeaders(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if !lean.Lean || lean.Buckets[0].Policy.Raw != "" || lean.Buckets[0].ACL.Raw != "" || lean.Buckets[2].Encryption.Raw != "" {
				t.Fatalf("the lean summary holds raw bodies: %+v", lean.Buckets)
			}
			if late := c.path == late; late != (lean.Buckets[1].Policy.Raw != "") {
				t.Errorf("b-guard's policy body in the lean summary: %q (policy after its objects: %v)", lean.Buckets[1].Policy.Raw, late)
			}
			want := eval(t, e, HeadedFileSource(c.path, &full), nil, nil)
			got := eval(t, e, HeadedFileSource(c.path, &lean), nil, nil)
			wj, gj := findingsJSON(t, want), findingsJSON(t, got)
			if !bytes.Equal(wj, gj) {
				t.Errorf("findings from the lean summary differ:\n%s\nwant:\n%s", gj, wj)
			}
			for _, r := range raws {
				if !bytes.Contains(gj, []byte(mustJSON(t, r))) {
					t.Errorf("no finding carries the raw body %.40q...", r)
				}
			}
			if c.opts.ExtraDirs != nil && len(ofRule(got, "USER-SCAN-RAW")) != 1 {
				t.Errorf("user scan rule: %d findings, want 1", len(ofRule(got, "USER-SCAN-RAW")))
			}
		})
	}
}

func findingsJSON(t *testing.T, fs []findings.Finding) []byte {
	t.Helper()
	b, err := json.MarshalIndent(fs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Trim(string(b), `"`)
}

// TestLeanPreviousIdentical: the previous snapshot's summary is read lean
// from a file; input.previous still carries each bucket's raw bodies (a
// user rule reads them), as from a previous snapshot held in memory.
func TestLeanPreviousIdentical(t *testing.T) {
	dir := t.TempDir()
	m, raws := rawEstate()
	p := writeSnapshot(t, dir, "raw.json", m)
	udir := filepath.Join(dir, "user")
	if err := os.MkdirAll(udir, 0o755); err != nil {
		t.Fatal(err)
	}
	rule := `package user.prev

import data.sseaudit.lib

# METADATA
# title: previous raw bodies
# description: what a user rule reads of them.
# custom:
#   id: USER-PREV-RAW
#   severity: low
#   resource_type: bucket
#   remediation:
#     text: none.
#     cli: echo
#   controls:
#     - {framework: T, version: "1", id: "1", title: T}
deny contains {"rule": "USER-PREV-RAW", "resource": lib.bucket_resource(input.bucket), "message": "previous", "observed": {"policy": object.get(input.previous, ["policy", "raw"], null), "rule": object.get(input.previous, ["encryption", "raw"], null), "acl": object.get(input.previous, ["acl", "raw"], null)}} if {
	input.previous.name
}
`
	if err := os.WriteFile(filepath.Join(udir, "prev.rego"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := readPrevSummary(FileSource(p)); err != nil || !s.Lean {
		t.Fatalf("the previous summary from a file: lean %v, %v", s.Lean, err)
	}
	e := load(t, Options{ExtraDirs: []string{udir}})
	want := findingsJSON(t, eval(t, e, FileSource(p), m, nil))
	got := findingsJSON(t, eval(t, e, FileSource(p), FileSource(p), nil))
	if !bytes.Equal(got, want) {
		t.Errorf("findings with the previous snapshot from a file differ:\n%s\nwant:\n%s", got, want)
	}
	for _, r := range raws {
		if !bytes.Contains(got, []byte(mustJSON(t, r))) {
			t.Errorf("no finding carries the previous raw body %.40q...", r)
		}
	}
}
