package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// TestStreamObjects: the stream gives every object of every bucket, in
// file order, as EachBucket does, decoded or raw; each offset reads the
// same object back; EndBucket comes after a bucket's objects with its
// header.
func TestStreamObjects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	fx := testFixture()
	fx.write(t, path)
	var want [][]Object
	var names []string
	if err := EachBucket(path, func(b Bucket) error {
		want = append(want, b.Objects)
		names = append(names, b.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, decode := range []bool{true, false} {
		got := make([][]Object, len(want))
		var ends []string
		err := StreamObjects(path, decode, ObjectVisitor{
			Object: func(b int, raw []byte, at int64, o *Object) error {
				if len(ends) != b {
					t.Errorf("object of bucket %d after %d buckets ended", b, len(ends))
				}
				var x Object
				if err := json.Unmarshal(raw, &x); err != nil {
					t.Fatal(err)
				}
				if decode && (o == nil || !reflect.DeepEqual(*o, x)) {
					t.Errorf("decoded %+v, raw %s", o, raw)
				}
				if !decode && o != nil {
					t.Error("an object decoded in raw mode")
				}
				back, err := ReadObjectAt(f, path, at)
				if err != nil || !bytes.Equal(back, raw) {
					t.Errorf("offset %d reads %s (%v), want %s", at, back, err, raw)
				}
				got[b] = append(got[b], x)
				return nil
			},
			EndBucket: func(b int, h *Bucket) error {
				if h.Objects != nil || h.Name != names[b] {
					t.Errorf("end of bucket %d: %+v", b, h)
				}
				ends = append(ends, h.Name)
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if len(want[i]) == 0 {
				want[i] = nil
			}
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(ends, names) {
			t.Errorf("decode=%v: stream gave %v (ends %v), want %v (%v)", decode, got, ends, want, names)
		}
	}
	stop := errors.New("stop")
	if err := StreamObjects(path, false, ObjectVisitor{Object: func(int, []byte, int64, *Object) error { return stop }}); err != stop {
		t.Errorf("the visitor's error: %v", err)
	}
}

// TestAbsurdFieldsRefused: a string, number, nesting or object beyond the
// format's bounds is refused with an error naming it and its offset, by
// every reader, without reading it into memory (a 100 MB string took 2 GB
// before).
func TestAbsurdFieldsRefused(t *testing.T) {
	dir := t.TempDir()
	okPath := filepath.Join(dir, "ok.json")
	fixture{buckets: []Bucket{{Name: "b", Region: "r", ReadAt: t0, ObjectsListed: 1, ObjectsInspected: 1, Objects: []Object{
		{Bucket: "b", Key: "KEY", Size: 1, ETag: "ETAG", LastModified: t0, Method: MethodNone},
	}}}}.write(t, okPath)
	ok, err := os.ReadFile(okPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSummary(okPath); err != nil {
		t.Fatalf("the well-formed document: %v", err)
	}
	doc := string(ok)
	with := func(old, new string) string {
		if !strings.Contains(doc, old) {
			t.Fatalf("%s not in %s", old, doc)
		}
		return strings.Replace(doc, old, new, 1)
	}
	huge := strings.Repeat("x", 100<<20)
	cases := map[string]struct{ doc, why string }{
		"100 MB key":        {with(`"KEY"`, `"`+huge+`"`), "a string of more than"},
		"100 MB provenance": {with(`"scan_id":"`, `"scan_id":"`+huge), "a string of more than"},
		"long number":       {with(`"objects_listed":1`, `"objects_listed":1`+strings.Repeat("0", 10000)), "a number or literal of more than"},
		"deep nesting":      {with(`"ETAG"`, strings.Repeat("[", 100)+strings.Repeat("]", 100)), "nest more than"},
		"object of 8 MB":    {with(`"ETAG"`, `[`+strings.Repeat(`"`+strings.Repeat("y", 1000)+`",`, 8000)+`"z"]`), "a value of more than"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
			if err := os.WriteFile(p, []byte(c.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			for reader, read := range map[string]func() error{
				"ReadSummary": func() error { _, err := ReadSummary(p); return err },
				"ReadHeaders": func() error {
					if strings.HasPrefix(name, "object") {
						// It skips objects without holding them: nothing
						// to refuse; the object reader that follows does.
						return fmt.Errorf("%w: offset 0: %s", ErrFormat, c.why)
					}
					_, err := ReadHeaders(p)
					return err
				},
				"EachBucket": func() error { return EachBucket(p, func(Bucket) error { return nil }) },
				"StreamObjects": func() error {
					return StreamObjects(p, false, ObjectVisitor{Object: func(int, []byte, int64, *Object) error { return nil }})
				},
			} {
				err := read()
				if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), "offset") {
					t.Errorf("%s: want ErrFormat naming %q and the offset, got %.300v", reader, c.why, err)
				}
			}
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("reading it allocated %d MB", grew>>20)
			}
		})
	}
}
