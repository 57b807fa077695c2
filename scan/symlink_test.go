package scan

import (
	"context"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestScanSymlinks: an OSS bucket holding symbolic links scans without
// error through both OSS SDKs. A link's HEAD is its target's (the bytes it
// serves are the target's, under the target's encryption), so a link to
// an SSE-KMS object is recorded as KMS with the target's size and one to
// a plain object as none; a link whose target does not exist is recorded
// as that object's error (404 SymlinkTargetNotExist), never as an
// unencrypted object. Links are made with the OSS SDK: package client has
// no symlink API (the scanner never writes).
func TestScanSymlinks(t *testing.T) {
	ctx := context.Background()
	root := rootClient(t, client.OSS)
	const b = "lnk-estate"
	mkBucket(t, root, b, nil)
	kmsTarget := put(t, root, b, "kms-target", &client.SSE{Algorithm: client.AlgorithmKMS})
	put(t, root, b, "plain-target", nil)
	c := oss2.NewClient(oss2.LoadDefaultConfig().WithEndpoint(srv.Endpoint).WithRegion(srv.Region).
		WithCredentialsProvider(osscreds.NewStaticCredentialsProvider(rootAK, rootSK)))
	for link, target := range map[string]string{"link-kms": "kms-target", "link-plain": "plain-target", "link-dangling": "no-such-target"} {
		if _, err := c.PutSymlink(ctx, &oss2.PutSymlinkRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr(link), Target: oss2.Ptr(target)}); err != nil {
			t.Fatalf("PutSymlink %s: %v", link, err)
		}
	}
	for name, sdk := range map[string]string{"v1": "", "v2": client.OSSSDKV2} {
		t.Run(name, func(t *testing.T) {
			cfg := Config{Client: clientFor(t, client.OSS, sdk, srv.Endpoint, rootAK, rootSK, 30*time.Second), KMS: rootKMS, BucketGlob: "lnk-*"}
			sum, path, err := scanFile(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			bs := readBuckets(t, path)
			if len(bs) != 1 || len(bs[0].Objects) != 5 {
				t.Fatalf("buckets: %s", mustJSON(bs))
			}
			objs := map[string]snapshot.Object{}
			for _, o := range bs[0].Objects {
				objs[o.Key] = o
			}
			for _, w := range []struct {
				key, method string
				size        int64
			}{
				{"link-kms", objs["kms-target"].Method, kmsTarget.Size},
				{"link-plain", snapshot.MethodNone, objs["plain-target"].Size},
			} {
				o := objs[w.key]
				if o.Error != nil || o.Method != w.method || o.Size != w.size || w.method == "" {
					t.Errorf("%s: %s, want method %q size %d", w.key, mustJSON(o), w.method, w.size)
				}
			}
			if m := objs["kms-target"].Method; m != snapshot.MethodKMSDefault && m != snapshot.MethodKMSCMK {
				t.Errorf("kms-target method %q", m)
			}
			o := objs["link-dangling"]
			if o.Error == nil || o.Error.StatusCode != 404 || o.Error.Code != "SymlinkTargetNotExist" || o.Method != snapshot.MethodUnknown {
				t.Errorf("dangling link: %s", mustJSON(o))
			}
			if c := sum.Coverage; c.ObjectsListed != 5 || c.ObjectsInspected != 4 || len(c.Errors) != 1 {
				t.Errorf("coverage: %s", mustJSON(c))
			}
		})
	}
}
