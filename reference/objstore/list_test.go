package objstore

import (
	"bytes"
	"fmt"
	"hash/crc64"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestListObjects(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "list", nil)
	keys := []string{"a", "a/1", "a/2", "a/b/c", "b", "b/", "c/x", "c/y", "d", "d\x00z", "e/é", "e/z"}
	for _, k := range keys {
		put(t, e.s, "list", k, []byte(k), PutOptions{})
	}
	cases := []struct {
		name       string
		opts       ListOptions
		wantKeys   string
		wantPrefix string
		truncated  bool
		next       string
	}{
		{"all", ListOptions{}, "a a/1 a/2 a/b/c b b/ c/x c/y d d\x00z e/z e/é", "", false, ""},
		{"prefix", ListOptions{Prefix: "a/"}, "a/1 a/2 a/b/c", "", false, ""},
		{"delimiter", ListOptions{Delimiter: "/"}, "a b d d\x00z", "a/ b/ c/ e/", false, ""},
		{"prefix and delimiter", ListOptions{Prefix: "a/", Delimiter: "/"}, "a/1 a/2", "a/b/", false, ""},
		{"after", ListOptions{After: "c/x"}, "c/y d d\x00z e/z e/é", "", false, ""},
		{"after a common prefix", ListOptions{After: "a/", Delimiter: "/"}, "b d d\x00z", "b/ c/ e/", false, ""},
		{"max keys counts prefixes", ListOptions{Delimiter: "/", MaxKeys: 3}, "a b", "a/", true, "b"},
		{"page after a key", ListOptions{Delimiter: "/", MaxKeys: 3, After: "b"}, "d", "b/ c/", true, "d"},
		{"max keys ends on key", ListOptions{MaxKeys: 2}, "a a/1", "", true, "a/1"},
		{"exact fit is not truncated", ListOptions{Prefix: "c/", MaxKeys: 2}, "c/x c/y", "", false, ""},
		{"no match", ListOptions{Prefix: "zz"}, "", "", false, ""},
		{"multi-byte delimiter", ListOptions{Delimiter: "/é"}, "a a/1 a/2 a/b/c b b/ c/x c/y d d\x00z e/z", "e/é", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := e.s.ListObjects(bg, root, "list", c.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range res.Objects {
				got = append(got, o.Key)
				if o.ETag != md5hex([]byte(o.Key)) || o.Size != int64(len(o.Key)) || o.StorageClass != "Standard" {
					t.Fatalf("listed info %+v", o)
				}
			}
			if strings.Join(got, " ") != c.wantKeys || strings.Join(res.CommonPrefixes, " ") != c.wantPrefix ||
				res.IsTruncated != c.truncated || res.NextAfter != c.next {
				t.Fatalf("got keys %q prefixes %q truncated %v next %q", got, res.CommonPrefixes, res.IsTruncated, res.NextAfter)
			}
		})
	}
	_, err := e.s.ListObjects(bg, root, "nolist", ListOptions{})
	wantKind(t, err, KindNoSuchBucket)
}

// TestListPagination pages through a larger bucket with every page size
// and checks that the pages concatenate to the full listing.
func TestListPagination(t *testing.T) {
	e := newTestEnv(t)
	mustBucket(t, e.s, "pages", nil)
	var keys []string
	for i := range 40 {
		k := fmt.Sprintf("k%02d", i)
		if i%5 == 0 {
			k = fmt.Sprintf("dir%d/%02d", i%3, i)
		}
		keys = append(keys, k)
		put(t, e.s, "pages", k, []byte("x"), PutOptions{})
	}
	slices.Sort(keys)
	for _, delim := range []string{"", "/"} {
		full, err := e.s.ListObjects(bg, root, "pages", ListOptions{Delimiter: delim})
		if err != nil {
			t.Fatal(err)
		}
		want := entries(full)
		if delim == "" && !slices.Equal(want, keys) {
			t.Fatalf("full listing %v", want)
		}
		for size := 1; size <= 7; size++ {
			var got []string
			opts := ListOptions{Delimiter: delim, MaxKeys: size}
			for page := 0; ; page++ {
				res, err := e.s.ListObjects(bg, root, "pages", opts)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(res.Objects) + len(res.CommonPrefixes); n > size || (res.IsTruncated && n != size) {
					t.Fatalf("page of %d entries with MaxKeys %d", n, size)
				}
				got = append(got, entries(res)...)
				if !res.IsTruncated {
					break
				}
				if page > 50 {
					t.Fatal("pagination does not end")
				}
				opts.After = res.NextAfter
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("delimiter %q size %d: pages give %v, want %v", delim, size, got, want)
			}
		}
	}
}

func entries(r ListResult) []string {
	var out []string
	for _, o := range r.Objects {
		out = append(out, o.Key)
	}
	out = append(out, r.CommonPrefixes...)
	slices.Sort(out)
	return out
}

func TestRangeReadsSinglePart(t *testing.T) {
	data := pattern(3*65536+123, 4)
	for _, alg := range []string{"", AlgorithmAES256, AlgorithmKMS} {
		t.Run("alg="+alg, func(t *testing.T) {
			e := newTestEnv(t)
			mustBucket(t, e.s, "ranges", nil)
			put(t, e.s, "ranges", "k", data, PutOptions{SSE: SSE{Algorithm: alg}})
			put(t, e.s, "ranges", "empty", nil, PutOptions{SSE: SSE{Algorithm: alg}})
			n := int64(len(data))
			for _, r := range [][2]int64{
				{0, 0}, {0, 1}, {0, n}, {n, 0}, {n - 1, 1}, {65535, 2}, {65536, 65536}, {100, 190_000}, {3 * 65536, 123},
			} {
				got, err := readRange(e.s, root, "ranges", "k", r[0], r[1])
				if err != nil || !bytes.Equal(got, data[r[0]:r[0]+r[1]]) {
					t.Fatalf("range [%d,+%d): %v", r[0], r[1], err)
				}
			}
			for _, r := range [][2]int64{{n, 1}, {-1, 2}, {0, n + 1}, {5, -2}} {
				_, err := readRange(e.s, root, "ranges", "k", r[0], r[1])
				wantKind(t, err, KindInvalidRange)
			}
			if got := get(t, e.s, "ranges", "empty"); len(got) != 0 {
				t.Fatal("empty object not empty")
			}
			info, _ := e.s.HeadObject(bg, root, "ranges", "empty")
			if info.ETag != "d41d8cd98f00b204e9800998ecf8427e" || info.CRC64 != 0 || info.Size != 0 {
				t.Fatalf("empty object info %+v", info)
			}
		})
	}
}

func TestCRC64Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := pattern(300_000, 7)
	if got := crc64.Checksum([]byte("123456789"), crcTable); got != 0x995DC9BBDF1939FA {
		t.Fatalf("table is not CRC-64/XZ: %x", got)
	}
	for range 50 {
		n := rng.IntN(len(data))
		parts := []int{0, n}
		for range rng.IntN(6) {
			parts = append(parts, rng.IntN(n+1))
		}
		slices.Sort(parts)
		var crc uint64
		for i := 1; i < len(parts); i++ {
			seg := data[parts[i-1]:parts[i]]
			crc = crc64Combine(crc, crc64.Checksum(seg, crcTable), int64(len(seg)))
		}
		if want := crc64.Checksum(data[:n], crcTable); crc != want {
			t.Fatalf("combined %x, want %x (cuts %v)", crc, want, parts)
		}
	}
	if crc64Combine(42, 0, 0) != 42 {
		t.Fatal("combining an empty suffix changed the CRC")
	}
}
