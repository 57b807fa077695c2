package scan

import (
	"context"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestVersionsFindsPlaintextLeftBehind re-encrypts an object of a
// versioned reference bucket by copying it onto itself, in each dialect,
// and checks that a --versions scan records both versions: the current
// one encrypted, the noncurrent original unencrypted (what SSE-011
// reports).
func TestVersionsFindsPlaintextLeftBehind(t *testing.T) {
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			c := rootClient(t, d)
			bucket := "ver-" + strings.ToLower(string(d)) + "-left"
			if err := c.CreateBucket(ctx, bucket, nil); err != nil {
				t.Fatal(err)
			}
			if err := c.PutBucketVersioning(ctx, bucket, client.VersioningEnabled); err != nil {
				t.Fatal(err)
			}
			v1, err := c.PutObject(ctx, bucket, "doc", strings.NewReader("plaintext"), 9, client.PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			v2, err := c.CopyObject(ctx, bucket, "doc", bucket, "doc", client.PutOptions{SSE: &client.SSE{Algorithm: "AES256"}})
			if err != nil {
				t.Fatal(err)
			}
			_, path, err := scanFile(t, Config{Client: c, KMS: rootKMS, BucketGlob: bucket, ToolVersion: "test",
				Versions: true, TargetInfo: snapshot.Target{Kind: "reference", Principal: rootAK}})
			if err != nil {
				t.Fatal(err)
			}
			bs := readBuckets(t, path)
			if len(bs) != 1 {
				t.Fatalf("buckets: %s", mustJSON(bs))
			}
			bk, objs := bs[0], bs[0].Objects
			if bk.Versioning != client.VersioningEnabled || !bk.VersionsInspected {
				t.Fatalf("bucket: %s", mustJSON(bk))
			}
			if len(objs) != 2 {
				t.Fatalf("objects: %s", mustJSON(objs))
			}
			cur, old := objs[0], objs[1]
			if cur.Noncurrent { // inspections finish in any order
				cur, old = old, cur
			}
			if cur.Noncurrent || cur.Method != snapshot.MethodOSSManaged || cur.VersionID == "" || (v2.VersionID != "" && cur.VersionID != v2.VersionID) {
				t.Errorf("current version: %s (copy answered %q)", mustJSON(cur), v2.VersionID)
			}
			if !old.Noncurrent || old.Method != snapshot.MethodNone || old.SSE != "" || old.VersionID == "" ||
				(v1.VersionID != "" && old.VersionID != v1.VersionID) || old.Error != nil {
				t.Errorf("noncurrent version: %s (put answered %q)", mustJSON(old), v1.VersionID)
			}
		})
	}
}
