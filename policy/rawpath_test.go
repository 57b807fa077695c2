package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/snapshot"
)

// awkward is an estate with hard-to-encode names, errors and versions.
func awkward() *MemorySnapshot {
	o1 := obj("b1", "日本/ü \"q\" \\ \t\u2028<&>", snapshot.MethodNone, "")
	o2 := obj("b1", "v", snapshot.MethodKMSCMK, cmk)
	o2.VersionID, o2.StorageClass, o2.DataEncryption, o2.Attempts = "v1", "IA", "SM4", 2
	o3 := obj("b1", "err", snapshot.MethodNone, "")
	o3.Error = &snapshot.Error{Scope: "object", Resource: "b1/err", StatusCode: 503, Code: "SlowDown", Message: "x\ny", Attempts: 3}
	o4 := obj("b1", "nano", snapshot.MethodOSSManaged, "")
	o4.LastModified = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.FixedZone("", 8*3600))
	b0 := bucket("a-empty", nil)
	b0.EncryptionError = &snapshot.Error{Scope: "rule", Resource: "a-empty", StatusCode: 403, Message: "denied"}
	b1 := bucket("b1", &snapshot.Rule{Algorithm: "KMS", KMSMasterKeyID: cmk, KMSDataEncryption: "SM4", Method: snapshot.MethodKMSCMK, Raw: "<xml attr=\"1\"/>"}, o1, o2, o3, o4)
	b1.ListError = &snapshot.Error{Scope: "list", Resource: "b1", Message: "stopped"}
	b1.ObjectsListed += 7
	m := mem("s-awk", b0, b1, bucket("c", ruleAES))
	m.Coverage.Errors = []snapshot.Error{*b0.EncryptionError, *o3.Error}
	m.Complete = false
	return m
}

func TestFastReaderMatchesSnapshotPackage(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"awkward": writeSnapshot(t, dir, "awk.json", awkward()),
		"empty":   writeSnapshot(t, dir, "empty.json", mem("s-empty")),
		"clean":   writeSnapshot(t, dir, "clean.json", mem("s", bucket("b1", ruleCMK, goodObjects("b1")...))),
	}
	f, _ := os.Create(filepath.Join(dir, "synth.json"))
	synth.Write(f, synth.Options{Buckets: 7, Objects: 300})
	f.Close()
	files["synth"] = filepath.Join(dir, "synth.json")
	for name, p := range files {
		want, err := snapshot.ReadSummary(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := snapshot.ReadHeaders(p)
		if err != nil {
			t.Fatalf("%s: fast: %v", name, err)
		}
		// ObjectKeyIDs come from reading every object: ReadSummary only.
		want.ObjectKeyIDs, got.ObjectKeyIDs = nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: summaries differ\n got %+v\nwant %+v", name, got, want)
		}
		var structs []snapshot.Bucket
		if err := snapshot.EachBucket(p, func(b snapshot.Bucket) error { structs = append(structs, b); return nil }); err != nil {
			t.Fatal(err)
		}
		// Objects read raw, one at a time (the engine's path), parsed into
		// terms, with the header of the fast summary.
		rawObjs := make([][]*ast.Term, len(structs))
		err = snapshot.StreamObjects(p, false, snapshot.ObjectVisitor{Object: func(i int, raw []byte, _ int64, _ *snapshot.Object) error {
			o, err := parseObject(raw)
			rawObjs[i] = append(rawObjs[i], ast.NewTerm(o))
			return err
		}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got.Buckets) != len(structs) {
			t.Fatalf("%s: %d buckets in the fast summary, %d from EachBucket", name, len(got.Buckets), len(structs))
		}
		withObjects := func(h *snapshot.Bucket, objs []*ast.Term) ast.Object {
			hdr, err := bucketHeader(h)
			if err != nil {
				t.Fatal(err)
			}
			hdr.Insert(tObjects, ast.ArrayTerm(objs...))
			return hdr
		}
		for i := range structs {
			sobjs := make([]*ast.Term, len(structs[i].Objects))
			for k := range structs[i].Objects {
				sobjs[k] = objectTerm(&structs[i].Objects[k])
			}
			raw, ref := withObjects(&got.Buckets[i], rawObjs[i]), withObjects(&structs[i], sobjs)
			if raw.Compare(ref) != 0 {
				t.Errorf("%s: bucket %s:\n raw %v\nstruct %v", name, structs[i].Name, raw, ref)
			}
			// And both equal the plain JSON of the bucket.
			b, _ := json.Marshal(structs[i])
			jv, _ := ast.ValueFromReader(bytes.NewReader(b))
			if jv.(ast.Object).Get(tObjects) == nil { // omitempty; the Writer always writes it
				jv.(ast.Object).Insert(tObjects, ast.ArrayTerm())
			}
			if raw.Compare(jv) != 0 {
				t.Errorf("%s: bucket %s differs from its JSON", name, structs[i].Name)
			}
		}

	}
}

func TestFastReaderErrors(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile(writeSnapshot(t, dir, "g.json", awkward()))
	cases := map[string][]byte{
		"truncated":      good[:len(good)/2],
		"trailing data":  append(append([]byte{}, good...), []byte(`{}`)...),
		"unknown member": bytes.Replace(good, []byte(`"complete":`), []byte(`"extra":1,"complete":`), 1),
		"unknown bucket": bytes.Replace(good, []byte(`"read_at":`), []byte(`"colour":"red","read_at":`), 1),
		"schema":         bytes.Replace(good, []byte(snapshot.Schema), []byte("sseaudit.snapshot/v9"), 1),
		"missing member": bytes.Replace(good, []byte(`"coverage":`), []byte(`"coverage_":`), 1),
		"not json":       []byte("hello"),
		"empty":          nil,
	}
	for name, data := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		os.WriteFile(p, data, 0o644)
		_, err := snapshot.ReadHeaders(p)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !errors.Is(err, snapshot.ErrFormat) && !errors.Is(err, snapshot.ErrSchema) {
			t.Errorf("%s: error %v does not wrap ErrFormat/ErrSchema", name, err)
		}
		if _, rerr := snapshot.ReadSummary(p); rerr == nil {
			t.Errorf("%s: snapshot.ReadSummary accepts what ReadHeaders refuses", name)
		}
	}
	// An object naming another bucket is caught when the bucket is parsed.
	bad := bytes.Replace(good, []byte(`"bucket":"b1","key":"v"`), []byte(`"bucket":"zz","key":"v"`), 1)
	p := filepath.Join(dir, "wrong-bucket.json")
	os.WriteFile(p, bad, 0o644)
	e := load(t, Options{})
	if _, err := e.EvaluateSnapshot(t.Context(), p, "", nil); err == nil || !strings.Contains(err.Error(), `object 1 names bucket "zz"`) {
		t.Errorf("wrong bucket: %v", err)
	}
	// Objects are held to the format on the raw path as by the struct
	// reader: a missing encryption state or an unknown member is refused,
	// never evaluated as if the object had none.
	for name, c := range map[string]struct{ from, to, want string }{
		"no method":      {`,"method":"none"`, ``, `member "method" is missing`},
		"no sse":         {`"sse":"KMS",`, ``, `member "sse" is missing`},
		"unknown member": {`"bucket":"b1","key":"v"`, `"bucket":"b1","colour":"red","key":"v"`, `"colour"`},
	} {
		bad := bytes.Replace(good, []byte(c.from), []byte(c.to), 1)
		if bytes.Equal(bad, good) {
			t.Fatalf("%s: the fixture has no %s", name, c.from)
		}
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		os.WriteFile(p, bad, 0o644)
		if _, err := e.EvaluateSnapshot(t.Context(), p, "", nil); err == nil || !errors.Is(err, snapshot.ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := snapshot.ReadSummary(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: snapshot.ReadSummary: %v", name, err)
		}
	}
}

func TestParseJSONTerm(t *testing.T) {
	for _, s := range []string{
		`{"a":[1,-2.5e3,true,false,null,"x"],"b":{},"c":[]}`,
		`"\u00e9\ud83d\ude00\n\"\\\/"`,
		`"\ud800x"`, `"\udc00\ud800"`, "\"\xff\xfe\"", `0`, `-0.0E+1`, ` [ 1 , { "k" : "v" } ] `,
	} {
		got, err := parseJSONTerm([]byte(s))
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		want, err := ast.ValueFromReader(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		if got.Value.Compare(want) != 0 {
			t.Errorf("%s: got %v want %v", s, got, want)
		}
	}
	for _, s := range []string{`{"a":1,"a":2}`, `{"x":1,"x":2}`, `[1,]`, `{"a" 1}`, `01`, `1.`, `"a` + "\x01" + `"`, `tru`, `"\x"`, `[1] 2`, ``, `{"a":1`, `"\u12g4"`} {
		if _, err := parseJSONTerm([]byte(s)); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

// FuzzParseJSONTerm checks the direct JSON-to-AST parser against
// encoding/json + ast conversion.
func FuzzParseJSONTerm(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x\u00e9"],"b":null}`, `"\ud83d\ude00"`, `[true,false,{}]`, `-1e-7`, "\"\xed\xa0\x80\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseJSONTerm(data)
		want, werr := ast.ValueFromReader(bytes.NewReader(data))
		if werr == nil && !json.Valid(data) {
			werr = errors.New("not a single valid JSON value")
		}
		if err != nil {
			if werr == nil && !strings.Contains(err.Error(), "appears twice") {
				t.Fatalf("%q: parse error %v, encoding/json accepts it", data, err)
			}
			return
		}
		if werr != nil {
			t.Fatalf("%q: parsed as %v, encoding/json refuses: %v", data, got, werr)
		}
		if got.Value.Compare(want) != 0 {
			t.Fatalf("%q: got %v, want %v", data, got, want)
		}
	})
}

// TestByteScannerBoundaries scans values whose strings are full of quotes
// and backslashes, one byte per read, so every chunk boundary is exercised.
