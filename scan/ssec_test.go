package scan

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// TestSSECObjects: an S3 HEAD answered 400 is SSE-C only when a one-byte
// GET confirms it (InvalidRequest, "...stored using a form of Server Side
// Encryption..."); other 400s stay errors. The confirmation costs one GET
// per 400 and none for objects HEAD answered; SSE-C objects are never
// read-probed; the bucket's BlockedEncryptionTypes is recorded.
func TestSSECObjects(t *testing.T) {
	ctx := context.Background()
	sc := s3.New(s3.Options{Region: srv.Region, BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: awscreds.NewStaticCredentialsProvider(rootAK, rootSK, "")})
	const bucket = "ssec-scan"
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
			BlockedEncryptionTypes:             &s3types.BlockedEncryptionTypes{EncryptionType: []s3types.EncryptionType{"NONE"}},
		}}}}); err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{0x77}, 32)
	sum := md5.Sum(key)
	for _, k := range []string{"ssec", "plain", "head400", "both400"} {
		in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader("data")}
		if k == "ssec" {
			in.SSECustomerAlgorithm = aws.String("AES256")
			in.SSECustomerKey = aws.String(base64.StdEncoding.EncodeToString(key))
			in.SSECustomerKeyMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
		}
		if _, err := sc.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	// head400: HEAD answers 400 but the object reads (not SSE-C);
	// both400: HEAD and GET answer 400 with another code.
	p := startProxy(t,
		&rule{method: http.MethodHead, path: "/" + bucket + "/head400", status: 400, times: -1},
		&rule{path: "/" + bucket + "/both400", status: 400, times: -1})
	var mu sync.Mutex
	gets := map[string]int{}
	p.onRequest = func(req *http.Request) {
		if k := strings.TrimPrefix(req.URL.Path, "/"+bucket+"/"); req.Method == http.MethodGet && k != "" && k != req.URL.Path {
			mu.Lock()
			gets[k]++
			mu.Unlock()
		}
	}
	c := clientFor(t, client.S3, "", p.URL, rootAK, rootSK, 30*time.Second)
	for _, probe := range []ReadProbe{{}, {Percent: 100}} {
		mu.Lock()
		clear(gets)
		mu.Unlock()
		_, path, err := scanFile(t, Config{Client: c, KMS: rootKMS, BucketGlob: bucket, ToolVersion: "test", ReadProbe: probe})
		if err != nil {
			t.Fatal(err)
		}
		bs := readBuckets(t, path)
		if len(bs) != 1 {
			t.Fatalf("buckets: %d", len(bs))
		}
		if b := bs[0]; b.SSECBlocked == nil || *b.SSECBlocked {
			t.Errorf("ssec_blocked %v, want false", b.SSECBlocked)
		}
		got := map[string]snapshot.Object{}
		for _, o := range bs[0].Objects {
			got[o.Key] = o
		}
		if o := got["ssec"]; o.Method != snapshot.MethodSSEC || o.SSE != "SSE-C" || o.Error != nil || o.ReadProbed || o.Size != 4 {
			t.Errorf("ssec: %+v", o)
		}
		if o := got["plain"]; o.Method != snapshot.MethodOSSManaged || o.Error != nil || o.ReadProbed != (probe.Percent > 0) {
			t.Errorf("plain: %+v", o)
		}
		for _, k := range []string{"head400", "both400"} {
			if o := got[k]; o.Method != snapshot.MethodUnknown || o.Error == nil || o.Error.StatusCode != 400 {
				t.Errorf("%s: %+v", k, o)
			}
		}
		// One GET per 400 to tell SSE-C apart; the probe reads plain only.
		// (The proxy's injected 400 says InternalError, which the scan
		// retries like any InternalError: count its GETs as one.)
		mu.Lock()
		if gets["both400"] > 0 {
			gets["both400"] = 1
		}
		mu.Unlock()
		want := map[string]int{"ssec": 1, "head400": 1, "both400": 1}
		if probe.Percent > 0 {
			want["plain"] = 1
		}
		mu.Lock()
		if len(gets) != len(want) {
			t.Errorf("probe %v: GETs %v, want %v", probe, gets, want)
		}
		for k, n := range want {
			if gets[k] != n {
				t.Errorf("probe %v: GETs %v, want %v", probe, gets, want)
				break
			}
		}
		mu.Unlock()
	}
}
