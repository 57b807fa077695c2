package reports

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// fixBucket is one bucket of a snapshot written by writeSnap: its header
// and objects; Listed defaults to the number of objects.
type fixBucket struct {
	snapshot.Bucket
	Objects []snapshot.Object
	Listed  int64
}

// writeSnap writes a snapshot of the given dialect (target kind = dialect)
// through snapshot.Writer. Coverage is computed from the buckets and keys
// unless cov is given.
func writeSnap(t *testing.T, dialect string, buckets []fixBucket, keys []snapshot.Key, cov *snapshot.Coverage, complete bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snapshot.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := snapshot.NewWriter(f, snapshot.Provenance{ScanID: "scan-x", StartedAt: t0, ToolVersion: "dev",
		Target: snapshot.Target{Kind: dialect, Dialect: dialect, Endpoint: "store.example:443"}, Regions: []string{"r1"}},
		snapshot.WithClock(func() time.Time { return t1 }))
	if err != nil {
		t.Fatal(err)
	}
	c := snapshot.Coverage{}
	for _, b := range buckets {
		b.Bucket.ReadAt = t0
		if b.Region == "" {
			b.Region = "r1"
		}
		if err := w.BeginBucket(b.Bucket); err != nil {
			t.Fatal(err)
		}
		var inspected int64
		for _, o := range b.Objects {
			o.Bucket = b.Name
			if err := w.Object(o); err != nil {
				t.Fatal(err)
			}
			if o.Error == nil {
				inspected++
			}
		}
		listed := b.Listed
		if listed == 0 {
			listed = int64(len(b.Objects))
		}
		if err := w.EndBucket(listed, inspected, b.ListError); err != nil {
			t.Fatal(err)
		}
		c.Buckets++
		if b.EncryptionError == nil && b.ListError == nil && b.RegionError == nil {
			c.BucketsRead++
		}
		c.ObjectsListed += listed
		c.ObjectsInspected += inspected
	}
	for _, k := range keys {
		k.ReadAt = t1
		if err := w.Key(k); err != nil {
			t.Fatal(err)
		}
		c.KeysReferenced++
		if k.Error == nil {
			c.KeysDescribed++
		}
	}
	if cov != nil {
		c = *cov
	}
	if err := w.Close(c, complete); err != nil {
		t.Fatal(err)
	}
	return path
}

// ruleMeta is a rule of the given id, severity, category and resource type
// for hand-made findings.
func ruleMeta(id string, sev findings.Severity, cat, rtype string, controls ...findings.Control) *findings.RuleMeta {
	return &findings.RuleMeta{ID: id, Title: id + " title", Description: id + " description", Severity: sev, Category: cat,
		ResourceType: rtype, Remediation: findings.Remediation{Text: "fix " + id}, Controls: controls}
}

// objFinding, bucketFinding and keyFinding make findings of meta.
func objFinding(meta *findings.RuleMeta, provider, bucket, key string, observed map[string]any) findings.Finding {
	f := findings.NewFinding(meta, findings.Resource{Type: findings.ResourceObject, Provider: provider, Region: "r1", Bucket: bucket, Key: key}, meta.ID+" on "+key)
	f.Observed = observed
	return f
}

func bucketFinding(meta *findings.RuleMeta, provider, bucket string) findings.Finding {
	return findings.NewFinding(meta, findings.Resource{Type: findings.ResourceBucket, Provider: provider, Region: "r1", Bucket: bucket}, meta.ID+" on "+bucket)
}

func keyFinding(meta *findings.RuleMeta, keyID string) findings.Finding {
	return findings.NewFinding(meta, findings.Resource{Type: findings.ResourceKey, Region: "r1", KMSKeyID: keyID}, meta.ID+" on "+keyID)
}

// docOf is a findings document over rules with fs.
func docOf(rules []*findings.RuleMeta, fs ...findings.Finding) *findings.Document {
	d := &findings.Document{Schema: findings.SchemaVersion, GeneratedAt: t1, PolicyDigest: "sha256:feed",
		Scan: findings.ScanInfo{ScanID: "scan-x", StartedAt: t0, Complete: true, ToolVersion: "dev"}, Findings: fs}
	for _, r := range rules {
		d.Rules = append(d.Rules, *r)
	}
	return d
}

// build is BuildModel with a fixed clock; it fails the test on error.
func build(t *testing.T, in ModelInput) *Model {
	t.Helper()
	in.Now = func() time.Time { return now }
	m, err := BuildModel(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// htmlDoc renders m as HTML and parses it, returning the elements by id.
func htmlDoc(t *testing.T, m *Model) (string, map[string]*html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, m); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*html.Node{}
	htmlWalk(doc, func(n *html.Node) {
		if v, ok := htmlAttr(n, "id"); ok && n.Type == html.ElementNode {
			byID[v] = n
		}
	})
	return buf.String(), byID
}

// htmlFind returns the element nodes under n with the given class.
func htmlFind(n *html.Node, class string) []*html.Node {
	var out []*html.Node
	if n == nil {
		return nil
	}
	htmlWalk(n, func(c *html.Node) {
		if c.Type == html.ElementNode && htmlHasClass(c, class) {
			out = append(out, c)
		}
	})
	return out
}

// htmlBucketNode is the drill-down of the bucket named name.
func htmlBucketNode(byID map[string]*html.Node, name string) *html.Node {
	for id, n := range byID {
		if strings.HasPrefix(id, "bucket-") {
			if v, _ := htmlAttr(n, "data-bucket"); v == name {
				return n
			}
		}
	}
	return nil
}

// htmlClasses is the class attribute of n.
func htmlClasses(n *html.Node) string {
	v, _ := htmlAttr(n, "class")
	return v
}
