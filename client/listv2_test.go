package client

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// listDoc is a ListObjectsV2 answer as the reference and OSS write it,
// with n entries.
func listDoc(n int, truncated bool, next string) string {
	var b strings.Builder
	b.WriteString(xml.Header + "<ListBucketResult><Name>b</Name><Prefix></Prefix><MaxKeys>1000</MaxKeys><Delimiter></Delimiter>")
	fmt.Fprintf(&b, "<IsTruncated>%v</IsTruncated>", truncated)
	if next != "" {
		fmt.Fprintf(&b, "<NextContinuationToken>%s</NextContinuationToken>", next)
	}
	fmt.Fprintf(&b, "<EncodingType>url</EncodingType><KeyCount>%d</KeyCount>", n)
	for i := range n {
		fmt.Fprintf(&b, "<Contents><Key>obj-%06d</Key><LastModified>2026-01-02T03:04:%02d.000Z</LastModified>"+
			"<ETag>&#34;5B3C%028X&#34;</ETag><Type>Normal</Type><Size>%d</Size><StorageClass>Standard</StorageClass>"+
			"<Owner><ID>1234</ID><DisplayName>1234</DisplayName></Owner></Contents>", i, i%3, i, i)
	}
	b.WriteString("</ListBucketResult>")
	return b.String()
}

// listV2Docs are answers of every form: the common one (decoded by the
// scanner) and forms left to the SDK's decoding, valid or refused.
var listV2Docs = map[string]string{
	"reference page":    listDoc(3, true, "obj-000002"),
	"last page":         listDoc(2, false, ""),
	"empty":             xml.Header + "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
	"no declaration":    "<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResult>",
	"pretty":            "<ListBucketResult>\n  <Contents>\n    <Key>a%2Fb+c%25</Key>\n    <Size> 7 </Size>\n  </Contents>\n  <IsTruncated> true </IsTruncated><NextContinuationToken>a%2Fb</NextContinuationToken>\n</ListBucketResult>\ntrailing junk <<<",
	"entities":          "<ListBucketResult><Contents><Key>&lt;&gt;&amp;&apos;&quot;&#x41;&#65;&#9;</Key><ETag>&#x22;x&#x22;</ETag></Contents></ListBucketResult>",
	"duplicate fields":  "<ListBucketResult><Contents><Key>a</Key><Key>b</Key><Size>1</Size><Size>2</Size></Contents></ListBucketResult>",
	"nested unknown":    "<ListBucketResult><X><Contents><Key>hidden</Key></Contents><Y></Y></X><Contents><Key>k</Key><RestoreInfo>r</RestoreInfo></Contents></ListBucketResult>",
	"common prefixes":   "<ListBucketResult><CommonPrefixes><Prefix>p%2F</Prefix></CommonPrefixes><Contents><Key>k</Key></Contents></ListBucketResult>",
	"utf-8 key":         "<ListBucketResult><Contents><Key>caf\u00e9</Key></Contents></ListBucketResult>",
	"cdata":             "<ListBucketResult><Contents><Key><![CDATA[a<b]]></Key></Contents></ListBucketResult>",
	"comment":           "<ListBucketResult><!-- c --><Contents><Key>a</Key></Contents></ListBucketResult>",
	"attribute":         `<ListBucketResult xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com"><Contents><Key>a</Key></Contents></ListBucketResult>`,
	"self-closing":      "<ListBucketResult><Contents/><Contents><Key/></Contents></ListBucketResult>",
	"carriage return":   "<ListBucketResult><Contents><Key>a\r\nb</Key></Contents></ListBucketResult>",
	"other root":        "<ListAllMyBucketsResult><Contents><Key>a</Key></Contents></ListAllMyBucketsResult>",
	"bad size":          "<ListBucketResult><Contents><Key>a</Key><Size>x</Size></Contents></ListBucketResult>",
	"bad time":          "<ListBucketResult><Contents><Key>a</Key><LastModified>yesterday</LastModified></Contents></ListBucketResult>",
	"bad escape":        "<ListBucketResult><Contents><Key>a%zz</Key></Contents></ListBucketResult>",
	"bad prefix escape": "<ListBucketResult><Prefix>%</Prefix></ListBucketResult>",
	"bad max-keys":      "<ListBucketResult><MaxKeys>many</MaxKeys></ListBucketResult>",
	"bad truncated":     "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
	"unknown entity":    "<ListBucketResult><Contents><Key>&nbsp;</Key></Contents></ListBucketResult>",
	"control char ref":  "<ListBucketResult><Contents><Key>&#1;</Key></Contents></ListBucketResult>",
	"mismatched tag":    "<ListBucketResult><Contents><Key>a</Size></Contents></ListBucketResult>",
	"truncated body":    listDoc(2, false, "")[:200],
	"cdata end in text": "<ListBucketResult><Contents><Key>a]]>b</Key></Contents></ListBucketResult>",
	"not xml":           "",
}

// sdkListV2 decodes data as Bucket.ListObjectsV2 does.
func sdkListV2(data []byte) (listV2Page, error) {
	var out oss1.ListObjectsResultV2
	if err := xml.Unmarshal(data, &out); err != nil {
		return listV2Page{}, err
	}
	if err := unescapeListV2(&out); err != nil {
		return listV2Page{}, err
	}
	p := listV2Page{truncated: out.IsTruncated, next: out.NextContinuationToken}
	for _, ob := range out.Objects {
		p.objects = append(p.objects, ObjectSummary{Key: ob.Key, Size: ob.Size, ETag: ob.ETag, LastModified: ob.LastModified, StorageClass: ob.StorageClass})
	}
	return p, nil
}

// checkFastPath fails t if the scanner decodes data to anything but what
// the SDK's decoding gives (an answer it does not decode goes to the SDK's
// decoding).
func checkFastPath(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	var got listV2Page
	if !(&listScanner{b: data}).page(&got) {
		return false
	}
	want, err := sdkListV2(data)
	if err != nil {
		t.Fatalf("the scanner decoded an answer the SDK refuses (%v):\n%q", err, data)
	}
	if len(got.objects) == 0 {
		got.objects = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("scanner and SDK differ on %q:\n got %+v\nwant %+v", data, got, want)
	}
	return true
}

// TestListV2MatchesSDK: over loopback, Client.ListObjects (the scanner,
// or the SDK's decoding for what it leaves) lists what the SDK's own
// Bucket.ListObjectsV2 lists from the same answer, page after page, with
// the same error, and sends the same request. The common form goes
// through the scanner; the others do not.
func TestListV2MatchesSDK(t *testing.T) {
	fastWant := map[string]bool{"reference page": true, "last page": true, "empty": true, "no declaration": true,
		"pretty": true, "entities": true, "duplicate fields": true, "nested unknown": true, "common prefixes": true}
	names := make([]string, 0, len(listV2Docs))
	for n := range listV2Docs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		doc := listV2Docs[name]
		t.Run(name, func(t *testing.T) {
			if fast := checkFastPath(t, []byte(doc)); fast != fastWant[name] {
				t.Errorf("decoded by the scanner: %v, want %v", fast, fastWant[name])
			}
			var mu sync.Mutex
			var queries []string
			var headers [][]string
			stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				queries = append(queries, r.URL.RawQuery)
				var hs []string
				for k := range r.Header {
					hs = append(hs, k)
				}
				sort.Strings(hs)
				headers = append(headers, hs)
				mu.Unlock()
				w.Header().Set("Content-Type", "application/xml")
				if r.URL.Query().Get("continuation-token") != "" {
					_, _ = w.Write([]byte(listDoc(1, false, "")))
					return
				}
				_, _ = w.Write([]byte(doc))
			}))
			defer stub.Close()
			c, err := New(Config{Dialect: OSS, Endpoint: stub.URL, Region: "cn-hangzhou", AccessKeyID: "ak", AccessKeySecret: "sk", PathStyle: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []ObjectSummary
			gotErr := c.ListObjects(context.Background(), "bucket", "p/", func(o ObjectSummary) error {
				got = append(got, o)
				return nil
			})
			// The SDK itself, through the same HTTP client, page after
			// page as listObjects goes.
			bk, err := c.b.(*ossV1).c.Bucket("bucket")
			if err != nil {
				t.Fatal(err)
			}
			var want []ObjectSummary
			var wantErr error
			token := ""
			for {
				opts := []oss1.Option{oss1.Prefix("p/"), oss1.MaxKeys(pageSize)}
				if token != "" {
					opts = append(opts, oss1.ContinuationToken(token))
				}
				r, err := bk.ListObjectsV2(opts...)
				if err != nil {
					wantErr = err
					break
				}
				for _, ob := range r.Objects {
					want = append(want, ObjectSummary{Key: ob.Key, Size: ob.Size, ETag: unquote(ob.ETag), LastModified: ob.LastModified, StorageClass: ob.StorageClass})
				}
				if !r.IsTruncated || r.NextContinuationToken == "" || r.NextContinuationToken == token {
					break
				}
				token = r.NextContinuationToken
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("listed\n %+v\nthe SDK lists\n %+v", got, want)
			}
			if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && !strings.Contains(gotErr.Error(), wantErr.Error())) {
				t.Errorf("error %v, the SDK's %v", gotErr, wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if n := len(queries); n%2 != 0 {
				t.Fatalf("%d requests, want as many from each side", n)
			}
			half := len(queries) / 2
			if !reflect.DeepEqual(queries[:half], queries[half:]) || !reflect.DeepEqual(headers[:half], headers[half:]) {
				t.Errorf("requests differ from the SDK's:\n %q %q\n %q %q", queries[:half], headers[:half], queries[half:], headers[half:])
			}
		})
	}
}

// FuzzListV2MatchesSDK: whatever the scanner decodes, it decodes to what
// the SDK's decoding gives.
func FuzzListV2MatchesSDK(f *testing.F) {
	for _, d := range listV2Docs {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastPath(t, data)
	})
}

// TestListV2DecodeAllocations: a page of the common form decodes with a
// few allocations per entry (its strings); the SDK's decoding makes over
// fifty, the CPU a census spends on listing.
func TestListV2DecodeAllocations(t *testing.T) {
	data := []byte(listDoc(1000, true, "obj-000999"))
	var p listV2Page
	allocs := testing.AllocsPerRun(5, func() {
		if err := decodeListV2(data, &p); err != nil {
			t.Fatal(err)
		}
	})
	if len(p.objects) != 1000 || !p.truncated || p.next != "obj-000999" {
		t.Fatalf("decoded %d entries, truncated %v, next %q", len(p.objects), p.truncated, p.next)
	}
	if perEntry := allocs / 1000; perEntry > 3 {
		t.Errorf("%.1f allocations per entry, want at most 3", perEntry)
	}
}

func BenchmarkListV2Decode(b *testing.B) {
	data := []byte(listDoc(1000, true, "obj-000999"))
	for _, side := range []struct {
		name   string
		decode func() error
	}{
		{"scanner", func() error { var p listV2Page; return decodeListV2(data, &p) }},
		{"sdk", func() error { _, err := sdkListV2(data); return err }},
	} {
		b.Run(side.name, func(b *testing.B) {
			for b.Loop() {
				if err := side.decode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/entry")
		})
	}
}
