package osshttp

import (
	"bytes"
	"strings"
	"testing"
)

// listV2Of builds a listing with every field set from the given strings.
func listV2Of(key, text string, n int, owner, truncated bool) *xmlListBucketResultV2 {
	out := &xmlListBucketResultV2{
		Name: "b" + text, Prefix: text, StartAfter: text, ContinuationToken: text, MaxKeys: n, Delimiter: text,
		IsTruncated: truncated, NextContinuationToken: text, EncodingType: text, KeyCount: n,
	}
	var o *xmlOwner
	if owner {
		o = &xmlOwner{ID: text, DisplayName: key}
	}
	for i := range n % 4 {
		out.Contents = append(out.Contents, xmlContents{Key: key, LastModified: text, ETag: `"` + key + `"`, Type: "Normal",
			Size: int64(i*n) - 3, StorageClass: text, Owner: o})
		out.CommonPrefixes = append(out.CommonPrefixes, xmlCommonPrefix{Prefix: key + text})
	}
	return out
}

// TestListV2XMLMatchesEncodingXML: the hand-written ListObjectsV2
// document is byte for byte what encoding/xml writes, empty and optional
// fields, escaping and invalid UTF-8 included.
func TestListV2XMLMatchesEncodingXML(t *testing.T) {
	for _, tc := range []struct {
		key, text    string
		n            int
		owner, trunc bool
	}{
		{"", "", 0, false, false},
		{"k", "t", 1, false, true},
		{"a/b c&d<e>\"f'g", "x\ty\nz\r", 3, true, false},
		{"日本語\x00\x01\x7f", "\xff\xfe not utf-8 \uFFFD", 2, true, true},
		{"]]>", "&amp;", 7, false, false},
	} {
		out := listV2Of(tc.key, tc.text, tc.n, tc.owner, tc.trunc)
		want, err := marshalXML(*out)
		if err != nil {
			t.Fatal(err)
		}
		if got := marshalListV2(out); !bytes.Equal(got, want) {
			t.Errorf("%q/%q:\n got %s\nwant %s", tc.key, tc.text, got, want)
		}
	}
}

func FuzzListV2XML(f *testing.F) {
	f.Add("key", "text", 2, true, false)
	f.Add("\xff<&>", "\r\n\t\"'", 3, false, true)
	f.Fuzz(func(t *testing.T, key, text string, n int, owner, trunc bool) {
		out := listV2Of(key, text, n, owner, trunc)
		want, err := marshalXML(*out)
		if err != nil {
			t.Skip()
		}
		if got := marshalListV2(out); !bytes.Equal(got, want) {
			t.Fatalf("differs:\n got %s\nwant %s", got, want)
		}
	})
}

// TestQuotedETag: the ETag upper-cased in quotes, as strings.ToUpper
// does it, in one allocation for ASCII.
func TestQuotedETag(t *testing.T) {
	for _, e := range []string{"", "5b3c0a1f", "d41d8cd98f00b204e9800998ecf8427e-3", "MiXeD", "ß\u00e9x", "\xff"} {
		if got, want := quotedETag(e), `"`+strings.ToUpper(e)+`"`; got != want {
			t.Errorf("quotedETag(%q) = %q, want %q", e, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = quotedETag("d41d8cd98f00b204e9800998ecf8427e") }); n != 1 {
		t.Errorf("%v allocations, want 1", n)
	}
}
