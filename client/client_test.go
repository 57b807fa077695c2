package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"

	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/snapshot"
)

// The tests drive every variant over loopback HTTP against one in-process
// reference server.

const (
	rootAK = "TARGETROOT"
	rootSK = "target-root-secret-do-not-log"
)

var (
	srv *embedded.Reference
	cmk string // a named CMK created through kmsclient
)

func testEnv(k string) string {
	return map[string]string{
		"SSEAUDIT_ROOT_ACCESS_KEY_ID":     rootAK,
		"SSEAUDIT_ROOT_ACCESS_KEY_SECRET": rootSK,
	}[k]
}

func TestMain(m *testing.M) {
	pageSize = 2 // every listing spans several pages
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sseaudit-target-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err = embedded.Start(ctx, embedded.Config{DataDir: dir, Getenv: testEnv})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start reference server:", err)
		return 1
	}
	defer srv.Close(ctx)
	kc, err := KMS(KMSConfig{Endpoint: srv.KMSEndpoint, Region: srv.Region, AccessKeyID: rootAK, AccessKeySecret: rootSK})
	if err != nil {
		fmt.Fprintln(os.Stderr, "kms client:", err)
		return 1
	}
	ck, err := kc.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String("sseaudit target test CMK")})
	if err != nil {
		fmt.Fprintln(os.Stderr, "create CMK:", err)
		return 1
	}
	cmk = tea.StringValue(ck.Body.KeyMetadata.KeyId)
	return m.Run()
}

type variant struct {
	id  string // short, for bucket names
	cfg Config
}

var variants = []variant{
	{"o1s1", Config{Dialect: OSS}},
	{"o1s4", Config{Dialect: OSS, OSSSignature: OSSSignatureV4}},
	{"o2s4", Config{Dialect: OSS, OSSSDK: OSSSDKV2}},
	{"o2s1", Config{Dialect: OSS, OSSSDK: OSSSDKV2, OSSSignature: OSSSignatureV1}},
	{"s3", Config{Dialect: S3}},
}

func newClient(t *testing.T, v variant) *Client {
	t.Helper()
	cfg := v.cfg
	cfg.Endpoint, cfg.Region, cfg.AccessKeyID, cfg.AccessKeySecret = srv.Endpoint, srv.Region, rootAK, rootSK
	cfg.Timeout = 30 * time.Second
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// forEach runs fn for every variant, in parallel, and returns when all
// are done. name makes the variant's bucket names unique.
func forEach(t *testing.T, fn func(t *testing.T, c *Client, bucket string)) {
	t.Helper()
	t.Run("variants", func(t *testing.T) {
		for _, v := range variants {
			t.Run(v.id, func(t *testing.T) {
				t.Parallel()
				c := newClient(t, v)
				bucket := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
				bucket = strings.NewReplacer("_", "-", "test", "t", "variants-", "").Replace(bucket)
				fn(t, c, bucket)
			})
		}
	})
}

// mkBucket creates a bucket that is emptied and deleted after the test.
func mkBucket(t *testing.T, c *Client, name string, sse *SSE) {
	t.Helper()
	ctx := context.Background()
	if err := c.CreateBucket(ctx, name, sse); err != nil {
		t.Fatalf("%s: CreateBucket %s: %v", c.Variant(), name, err)
	}
	t.Cleanup(func() { cleanBucket(t, c, name) })
}

func cleanBucket(t *testing.T, c *Client, name string) {
	ctx := context.Background()
	var keys []string
	if err := c.ListObjects(ctx, name, "", func(o ObjectSummary) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Errorf("cleanup list %s: %v", name, err)
	}
	for _, k := range keys {
		if err := c.DeleteObject(ctx, name, k); err != nil {
			t.Errorf("cleanup delete %s/%s: %v", name, k, err)
		}
	}
	if err := c.DeleteBucket(ctx, name); err != nil {
		t.Errorf("cleanup delete bucket %s: %v", name, err)
	}
}

// wantError checks that err is the endpoint's answer with this status and
// code.
func wantError(t *testing.T, what string, err error, status int, code string) *Error {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %d %s", what, status, code)
		return nil
	}
	e, ok := AsError(err)
	if !ok {
		t.Errorf("%s: %v (%T) is not an *Error, want %d %s", what, err, err, status, code)
		return nil
	}
	if e.StatusCode != status || e.Code != code {
		t.Errorf("%s: got %d %s (%q), want %d %s", what, e.StatusCode, e.Code, e.Message, status, code)
	}
	if e.RequestID == "" {
		t.Errorf("%s: %s has no request id", what, e.Code)
	}
	if strings.Contains(e.Error(), rootSK) {
		t.Errorf("%s: error text holds the secret", what)
	}
	return e
}

func isAlias(id string) bool { return strings.HasPrefix(id, "alias/") }

func TestNewValidates(t *testing.T) {
	ok := Config{Dialect: OSS, Endpoint: "http://127.0.0.1:9000", Region: "cn-hangzhou", AccessKeyID: "ak", AccessKeySecret: "sk"}
	cases := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no dialect", func(c *Config) { c.Dialect = "" }, "Config.Dialect"},
		{"bad dialect", func(c *Config) { c.Dialect = "gcs" }, "Config.Dialect"},
		{"no endpoint", func(c *Config) { c.Endpoint = "" }, "Config.Endpoint"},
		{"endpoint path", func(c *Config) { c.Endpoint = "http://127.0.0.1:9000/bucket" }, "Config.Endpoint"},
		{"endpoint scheme", func(c *Config) { c.Endpoint = "ftp://127.0.0.1" }, "Config.Endpoint"},
		{"no region", func(c *Config) { c.Region = "" }, "Config.Region"},
		{"no key", func(c *Config) { c.AccessKeyID = "" }, "Config.AccessKeyID"},
		{"no secret", func(c *Config) { c.AccessKeySecret = "" }, "Config.AccessKeySecret"},
		{"bad sdk", func(c *Config) { c.OSSSDK = "v3" }, "Config.OSSSDK"},
		{"bad signature", func(c *Config) { c.OSSSignature = "v2" }, "Config.OSSSignature"},
		{"oss knobs on s3", func(c *Config) { c.Dialect = S3; c.OSSSDK = "v1" }, "Config.OSSSDK"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Config.Timeout"},
		{"negative attempts", func(c *Config) { c.MaxAttempts = -1 }, "Config.MaxAttempts"},
	}
	for _, tc := range cases {
		cfg := ok
		tc.edit(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.field)
		}
		if err != nil && strings.Contains(err.Error(), `"sk"`) {
			t.Errorf("%s: error quotes the secret: %v", tc.name, err)
		}
	}

	for _, tc := range []struct {
		cfg               Config
		variant, endpoint string
		pathStyle         bool
	}{
		{cfg: ok, variant: "oss/v1-sdk/v1-sig", endpoint: "http://127.0.0.1:9000", pathStyle: true},
		{cfg: Config{Dialect: OSS, OSSSDK: "v2", Endpoint: "oss-cn-hangzhou.aliyuncs.com", Region: "cn-hangzhou", AccessKeyID: "a", AccessKeySecret: "b"},
			variant: "oss/v2-sdk/v4-sig", endpoint: "https://oss-cn-hangzhou.aliyuncs.com"},
		{cfg: Config{Dialect: S3, Endpoint: "http://localhost:9000/", Region: "us-east-1", AccessKeyID: "a", AccessKeySecret: "b"},
			variant: "s3/minio", endpoint: "http://localhost:9000", pathStyle: true},
	} {
		c, err := New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if c.Variant() != tc.variant || c.Endpoint() != tc.endpoint || c.cfg.PathStyle != tc.pathStyle ||
			c.Dialect() != tc.cfg.Dialect || c.Region() != tc.cfg.Region || c.cfg.Timeout != DefaultTimeout || c.cfg.MaxAttempts != 1 {
			t.Errorf("New(%+v): variant %q endpoint %q path-style %v timeout %v attempts %d", tc.cfg, c.Variant(), c.Endpoint(),
				c.cfg.PathStyle, c.cfg.Timeout, c.cfg.MaxAttempts)
		}
	}
}

func TestBucketsAndRules(t *testing.T) {
	ctx := context.Background()
	forEach(t, func(t *testing.T, c *Client, b string) {
		// Without SSE: no rule, reported as nil.
		mkBucket(t, c, b, nil)
		if r, err := c.BucketEncryption(ctx, b); err != nil || r != nil {
			t.Fatalf("fresh bucket rule = %+v, %v; want nil, nil", r, err)
		}
		if reg, err := c.BucketRegion(ctx, b); err != nil || reg != srv.Region {
			t.Errorf("BucketRegion = %q, %v; want %q", reg, err, srv.Region)
		}
		// Rule put / get / delete.
		for _, want := range []Rule{
			{Algorithm: AlgorithmAES256},
			{Algorithm: AlgorithmKMS},
			{Algorithm: AlgorithmKMS, KMSMasterKeyID: cmk},
		} {
			if err := c.PutBucketEncryption(ctx, b, want); err != nil {
				t.Fatalf("PutBucketEncryption %+v: %v", want, err)
			}
			got, err := c.BucketEncryption(ctx, b)
			if err != nil || got == nil {
				t.Fatalf("BucketEncryption after %+v: %+v, %v", want, got, err)
			}
			if got.Algorithm != want.Algorithm || got.KMSMasterKeyID != want.KMSMasterKeyID {
				t.Errorf("rule = %+v, want %+v", got, want)
			}
			wantAlg := want.Algorithm
			if c.Dialect() == S3 && wantAlg == AlgorithmKMS {
				wantAlg = "aws:kms"
			}
			if !strings.Contains(got.Raw, "<SSEAlgorithm>"+wantAlg+"</SSEAlgorithm>") {
				t.Errorf("Raw rule %q does not name %s", got.Raw, wantAlg)
			}
		}
		if err := c.DeleteBucketEncryption(ctx, b); err != nil {
			t.Fatalf("DeleteBucketEncryption: %v", err)
		}
		if r, err := c.BucketEncryption(ctx, b); err != nil || r != nil {
			t.Fatalf("rule after delete = %+v, %v; want nil, nil", r, err)
		}

		// With SSE at creation.
		for i, sse := range []SSE{{Algorithm: AlgorithmAES256}, {Algorithm: AlgorithmKMS, KeyID: cmk}} {
			name := fmt.Sprintf("%s-sse%d", b, i)
			mkBucket(t, c, name, &sse)
			r, err := c.BucketEncryption(ctx, name)
			if err != nil || r == nil || r.Algorithm != sse.Algorithm || r.KMSMasterKeyID != sse.KeyID {
				t.Errorf("bucket created with %+v has rule %+v (%v)", sse, r, err)
			}
		}

		// Listing (several pages: pageSize is 2 in tests).
		bs, err := c.ListBuckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]Bucket{}
		for _, x := range bs {
			seen[x.Name] = x
		}
		for _, name := range []string{b, b + "-sse0", b + "-sse1"} {
			x, ok := seen[name]
			if !ok {
				t.Errorf("ListBuckets misses %s (%d buckets)", name, len(bs))
				continue
			}
			if x.Region != srv.Region || time.Since(x.CreationDate) > time.Hour || x.CreationDate.After(time.Now().Add(time.Minute)) {
				t.Errorf("ListBuckets entry %+v", x)
			}
		}

		// A refused create-time rule leaves no bucket in either dialect.
		bad := b + "-bad"
		err = c.CreateBucket(ctx, bad, &SSE{Algorithm: "SM4-BOGUS"})
		if e, ok := AsError(err); !ok || e.StatusCode != http.StatusBadRequest {
			t.Errorf("CreateBucket with an unknown algorithm: %v, want a 400 *Error", err)
		}
		if err == nil {
			cleanBucket(t, c, bad)
		}
		_, err = c.BucketRegion(ctx, bad)
		wantError(t, "BucketRegion of a refused bucket", err, http.StatusNotFound, "NoSuchBucket")

		// Errors on missing buckets.
		_, err = c.BucketEncryption(ctx, b+"-missing")
		wantError(t, "BucketEncryption of a missing bucket", err, http.StatusNotFound, "NoSuchBucket")
		err = c.DeleteBucket(ctx, b+"-missing")
		wantError(t, "DeleteBucket of a missing bucket", err, http.StatusNotFound, "NoSuchBucket")
	})
}

// sseCase is one way of writing an object.
type sseCase struct {
	name string
	sse  *SSE
	want func(SSE) string // "" when the normalised SSE is right
}

func sseCases() []sseCase {
	return []sseCase{
		{"plain", nil, func(s SSE) string {
			if !s.IsZero() {
				return "want no SSE"
			}
			return ""
		}},
		{"aes", &SSE{Algorithm: AlgorithmAES256}, func(s SSE) string {
			if s != (SSE{Algorithm: AlgorithmAES256}) {
				return "want AES256 without key"
			}
			return ""
		}},
		{"kms-default", &SSE{Algorithm: AlgorithmKMS}, func(s SSE) string {
			if s.Algorithm != AlgorithmKMS || s.KeyID == "" || isAlias(s.KeyID) || snapshot.SameKey(s.KeyID, cmk) {
				return "want KMS with the default key's id (not empty, not an alias, not the named CMK)"
			}
			return ""
		}},
		{"kms-named", &SSE{Algorithm: AlgorithmKMS, KeyID: cmk}, func(s SSE) string {
			// S3 names the key by its ARN, OSS by its id.
			if s.Algorithm != AlgorithmKMS || !snapshot.SameKey(s.KeyID, cmk) {
				return "want KMS with " + cmk
			}
			return ""
		}},
	}
}

func TestObjects(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]map[string]SSE{} // case -> variant -> SSE on HEAD
	forEach(t, func(t *testing.T, c *Client, b string) {
		mkBucket(t, c, b, nil)
		for _, tc := range sseCases() {
			body := bytes.Repeat([]byte("sseaudit-"+tc.name+"|"), 300)
			key := "dir/" + tc.name
			opts := PutOptions{SSE: tc.sse, ContentType: "text/x-sseaudit", Metadata: map[string]string{"case": tc.name}}
			put, err := c.PutObject(ctx, b, key, bytes.NewReader(body), int64(len(body)), opts)
			if err != nil {
				t.Fatalf("PutObject %s: %v", tc.name, err)
			}
			if msg := tc.want(put.SSE); msg != "" {
				t.Errorf("PutObject %s: SSE %+v: %s", tc.name, put.SSE, msg)
			}
			if put.ETag == "" || strings.Contains(put.ETag, `"`) || put.Size != int64(len(body)) || put.Headers == nil {
				t.Errorf("PutObject %s: result %+v", tc.name, put)
			}
			head, err := c.HeadObject(ctx, b, key)
			if err != nil {
				t.Fatalf("HeadObject %s: %v", tc.name, err)
			}
			if msg := tc.want(head.SSE); msg != "" {
				t.Errorf("HeadObject %s: SSE %+v: %s", tc.name, head.SSE, msg)
			}
			if head.ETag != put.ETag || head.Size != int64(len(body)) || head.ContentType != "text/x-sseaudit" ||
				head.Metadata["case"] != tc.name || time.Since(head.LastModified) > time.Hour {
				t.Errorf("HeadObject %s: %+v (put ETag %s)", tc.name, head, put.ETag)
			}
			if head.StorageClass == "" && c.Dialect() == OSS {
				t.Errorf("HeadObject %s: OSS sent no storage class", tc.name)
			}
			got, gr, err := c.GetObject(ctx, b, key, nil)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("GetObject %s: %d bytes, %v", tc.name, len(got), err)
			}
			if gr.SSE != head.SSE || gr.ETag != put.ETag || gr.Size != int64(len(body)) {
				t.Errorf("GetObject %s: %+v, head SSE %+v", tc.name, gr, head.SSE)
			}
			part, pr, err := c.GetObject(ctx, b, key, &Range{Offset: 9, Length: 20})
			if err != nil || !bytes.Equal(part, body[9:29]) || pr.Size != int64(len(body)) || pr.SSE != head.SSE {
				t.Errorf("ranged GetObject %s: %q, %+v, %v", tc.name, part, pr, err)
			}
			tail, _, err := c.GetObject(ctx, b, key, &Range{Offset: int64(len(body) - 5)})
			if err != nil || !bytes.Equal(tail, body[len(body)-5:]) {
				t.Errorf("open-ended GetObject %s: %q, %v", tc.name, tail, err)
			}
			mu.Lock()
			if seen[tc.name] == nil {
				seen[tc.name] = map[string]SSE{}
			}
			seen[tc.name][c.Variant()] = head.SSE
			mu.Unlock()
		}

		// In-place copy re-encrypts (and replaces the metadata).
		key := "dir/plain"
		cp, err := c.CopyObject(ctx, b, key, b, key, PutOptions{SSE: &SSE{Algorithm: AlgorithmKMS, KeyID: cmk}, Metadata: map[string]string{"copied": "yes"}})
		if err != nil {
			t.Fatalf("in-place CopyObject: %v", err)
		}
		if cp.SSE.Algorithm != AlgorithmKMS || !snapshot.SameKey(cp.SSE.KeyID, cmk) || cp.ETag == "" || strings.Contains(cp.ETag, `"`) || cp.LastModified.IsZero() {
			t.Errorf("in-place CopyObject result %+v", cp)
		}
		head, err := c.HeadObject(ctx, b, key)
		if err != nil || head.SSE.Algorithm != AlgorithmKMS || !snapshot.SameKey(head.SSE.KeyID, cmk) || head.Metadata["copied"] != "yes" || head.Metadata["case"] != "" {
			t.Errorf("after in-place copy: %+v, %v", head, err)
		}
		// In place without any change still works (REPLACE is sent).
		if _, err := c.CopyObject(ctx, b, key, b, key, PutOptions{}); err != nil {
			t.Errorf("in-place CopyObject without changes: %v", err)
		}
		// A copy to another key keeps the metadata (COPY) and takes the
		// requested encryption.
		cp, err = c.CopyObject(ctx, b, "dir/aes", b, "copy/aes", PutOptions{SSE: &SSE{Algorithm: AlgorithmKMS}})
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		head, err = c.HeadObject(ctx, b, "copy/aes")
		if err != nil || head.Metadata["case"] != "aes" || head.SSE.Algorithm != AlgorithmKMS || head.SSE != cp.SSE {
			t.Errorf("copy: result %+v, head %+v, %v", cp, head, err)
		}
		data, _, err := c.GetObject(ctx, b, "copy/aes", nil)
		if err != nil || !bytes.HasPrefix(data, []byte("sseaudit-aes|")) {
			t.Errorf("copy content: %.20q, %v", data, err)
		}

		// Listing: every page, prefix respected, ETags unquoted.
		var keys []string
		err = c.ListObjects(ctx, b, "dir/", func(o ObjectSummary) error {
			keys = append(keys, o.Key)
			if o.ETag == "" || strings.Contains(o.ETag, `"`) || o.Size == 0 || o.LastModified.IsZero() {
				t.Errorf("listed %+v", o)
			}
			return nil
		})
		sort.Strings(keys)
		if err != nil || strings.Join(keys, ",") != "dir/aes,dir/kms-default,dir/kms-named,dir/plain" {
			t.Errorf("ListObjects dir/ = %v, %v", keys, err)
		}
		stop := errors.New("stop")
		n := 0
		err = c.ListObjects(ctx, b, "", func(ObjectSummary) error { n++; return stop })
		if err != stop || n != 1 {
			t.Errorf("ListObjects stopped by the callback: %v after %d entries, want the callback's error after 1", err, n)
		}

		// Delete.
		if err := c.DeleteObject(ctx, b, "copy/aes"); err != nil {
			t.Fatal(err)
		}
		_, err = c.HeadObject(ctx, b, "copy/aes")
		wantError(t, "HeadObject after delete", err, http.StatusNotFound, "NoSuchKey")
	})

	// Every variant reports the same normalised SSE for the same object
	// (the same key: S3 names it by ARN, OSS by id).
	for name, byVariant := range seen {
		var ref SSE
		var refV string
		for v, s := range byVariant {
			s.KeyID = snapshot.KeyID(s.KeyID)
			if refV == "" {
				ref, refV = s, v
				continue
			}
			if s != ref {
				t.Errorf("%s: %s reports %+v, %s reports %+v", name, v, s, refV, ref)
			}
		}
		if len(byVariant) != len(variants) {
			t.Errorf("%s: only %d variants reported", name, len(byVariant))
		}
	}
}

func TestMultipart(t *testing.T) {
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), (5<<20)/16) // S3's minimum part size
	small := []byte("the last part")
	forEach(t, func(t *testing.T, c *Client, b string) {
		mkBucket(t, c, b, nil)
		for _, tc := range sseCases() {
			key := "mp/" + tc.name
			res, err := c.MultipartUpload(ctx, b, key, [][]byte{big, small}, PutOptions{SSE: tc.sse})
			if err != nil {
				t.Fatalf("MultipartUpload %s: %v", tc.name, err)
			}
			if res.UploadID == "" || len(res.Parts) != 2 {
				t.Fatalf("MultipartUpload %s: %+v", tc.name, res)
			}
			steps := map[string]ObjectResult{"initiate": res.Initiate, "part 1": res.Parts[0], "part 2": res.Parts[1], "complete": res.Complete}
			for step, r := range steps {
				if msg := tc.want(r.SSE); msg != "" {
					t.Errorf("%s %s: SSE %+v: %s", tc.name, step, r.SSE, msg)
				}
				if r.Headers == nil {
					t.Errorf("%s %s: no headers", tc.name, step)
				}
			}
			if res.Parts[0].ETag == "" || res.Parts[0].Size != int64(len(big)) || res.Complete.ETag == "" || strings.Contains(res.Complete.ETag, `"`) {
				t.Errorf("%s: parts %+v complete %+v", tc.name, res.Parts, res.Complete)
			}
			if tc.name == "kms-default" && (res.Initiate.SSE != res.Parts[0].SSE || res.Complete.SSE != res.Initiate.SSE) {
				t.Errorf("default KMS key differs between steps: %+v / %+v / %+v", res.Initiate.SSE, res.Parts[0].SSE, res.Complete.SSE)
			}
			head, err := c.HeadObject(ctx, b, key)
			if err != nil || head.SSE != res.Complete.SSE || head.Size != int64(len(big)+len(small)) || head.ETag != res.Complete.ETag {
				t.Errorf("%s: head %+v (complete %+v), %v", tc.name, head, res.Complete, err)
			}
		}

		// SSE headers on UploadPart / CompleteMultipartUpload.
		partSSE := &SSE{Algorithm: AlgorithmAES256}
		res, err := c.MultipartUpload(ctx, b, "mp/part-sse", [][]byte{small}, PutOptions{}, MultipartOptions{PartSSE: partSSE})
		if c.Dialect() == OSS {
			e := wantError(t, "UploadPart with SSE headers", err, http.StatusBadRequest, "InvalidArgument")
			if e != nil && e.Op != "UploadPart" {
				t.Errorf("refusal came from %s, want UploadPart", e.Op)
			}
			if res.UploadID == "" || len(res.Parts) != 0 {
				t.Errorf("partial result %+v", res)
			}
			_, err = c.MultipartUpload(ctx, b, "mp/complete-sse", [][]byte{small}, PutOptions{}, MultipartOptions{CompleteSSE: partSSE})
			wantError(t, "CompleteMultipartUpload with SSE headers", err, http.StatusBadRequest, "InvalidArgument")
		} else if err != nil {
			wantError(t, "UploadPart with SSE headers", err, http.StatusBadRequest, "InvalidArgument")
		}
		// The failed uploads were aborted: aborting again says so.
		if res.UploadID != "" {
			err := c.AbortMultipartUpload(ctx, b, "mp/part-sse", res.UploadID)
			if c.Dialect() == OSS {
				wantError(t, "AbortMultipartUpload of an aborted upload", err, http.StatusNotFound, "NoSuchUpload")
			}
		}
	})
}

// TestS3UploadPartRefusesSSE: AWS answers UploadPart carrying
// x-amz-server-side-encryption with 400 InvalidArgument "x-amz-server-side-
// encryption header is not supported for this operation." (ArgumentName
// x-amz-server-side-encryption).
func TestS3UploadPartRefusesSSE(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, variants[len(variants)-1])
	mkBucket(t, c, "t-s3-part-sse", nil)
	res, err := c.MultipartUpload(ctx, "t-s3-part-sse", "k", [][]byte{[]byte("part")}, PutOptions{SSE: &SSE{Algorithm: AlgorithmAES256}},
		MultipartOptions{PartSSE: &SSE{Algorithm: AlgorithmAES256}})
	if err == nil {
		t.Fatalf("the S3 dialect accepted UploadPart with x-amz-server-side-encryption: AES256 (part SSE %+v); "+
			"AWS answers 400 InvalidArgument \"x-amz-server-side-encryption header is not supported for this operation.\"", res.Parts[0].SSE)
	}
	e := wantError(t, "UploadPart with SSE headers", err, http.StatusBadRequest, "InvalidArgument")
	if e != nil && e.Op != "UploadPart" {
		t.Errorf("refused by %s, want UploadPart", e.Op)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	forEach(t, func(t *testing.T, c *Client, b string) {
		mkBucket(t, c, b, nil)
		_, _, err := c.GetObject(ctx, b, "missing", nil)
		e := wantError(t, "GetObject missing", err, http.StatusNotFound, "NoSuchKey")
		if e != nil && e.Op != "GetObject" {
			t.Errorf("Op %q", e.Op)
		}
		if e != nil && c.Dialect() == OSS && e.EC != "0026-00000001" {
			t.Errorf("GetObject missing: EC %q", e.EC)
		}
		_, err = c.HeadObject(ctx, b, "missing")
		e = wantError(t, "HeadObject missing", err, http.StatusNotFound, "NoSuchKey")
		if e != nil && c.Dialect() == OSS && (e.EC != "0026-00000001" || e.Message == "" || e.Message == http.StatusText(404)) {
			t.Errorf("HeadObject missing: the x-oss-err document was not read: %+v", e)
		}
		_, _, err = c.GetObject(ctx, b+"-missing", "k", nil)
		wantError(t, "GetObject in a missing bucket", err, http.StatusNotFound, "NoSuchBucket")
		_, err = c.HeadObject(ctx, b+"-missing", "k")
		if c.Dialect() == OSS {
			wantError(t, "HeadObject in a missing bucket", err, http.StatusNotFound, "NoSuchBucket")
		} else {
			// A bodiless S3 404 on an object is NoSuchKey, as minio-go says.
			wantError(t, "HeadObject in a missing bucket", err, http.StatusNotFound, "NoSuchKey")
		}
		_, err = c.PutObject(ctx, b+"-missing", "k", strings.NewReader("x"), 1, PutOptions{})
		wantError(t, "PutObject in a missing bucket", err, http.StatusNotFound, "NoSuchBucket")

		// Unknown algorithms are sent and refused by the endpoint.
		wantCode := "InvalidEncryptionAlgorithmError"
		if c.Dialect() == S3 {
			wantCode = "InvalidArgument"
		}
		for _, alg := range []string{"SM4", "AES128"} {
			_, err = c.PutObject(ctx, b, "bad-"+alg, strings.NewReader("x"), 1, PutOptions{SSE: &SSE{Algorithm: alg}})
			wantError(t, "PutObject with "+alg, err, http.StatusBadRequest, wantCode)
			_, err = c.MultipartUpload(ctx, b, "bad-mp-"+alg, [][]byte{[]byte("x")}, PutOptions{SSE: &SSE{Algorithm: alg}})
			wantError(t, "InitiateMultipartUpload with "+alg, err, http.StatusBadRequest, wantCode)
		}
		err = c.PutBucketEncryption(ctx, b, Rule{Algorithm: "SM4-BOGUS"})
		if e, ok := AsError(err); !ok || e.StatusCode != http.StatusBadRequest {
			t.Errorf("PutBucketEncryption with an unknown algorithm: %v, want a 400 *Error", err)
		}
		// A KMS key that does not exist.
		_, err = c.PutObject(ctx, b, "nokey", strings.NewReader("x"), 1, PutOptions{SSE: &SSE{Algorithm: AlgorithmKMS, KeyID: "00000000-0000-0000-0000-000000000000"}})
		if e, ok := AsError(err); !ok || e.StatusCode < 400 {
			t.Errorf("PutObject with a missing CMK: %v, want an *Error", err)
		}

		// DataEncryption: sent on OSS, refused locally on S3.
		_, err = c.PutObject(ctx, b, "sm4data", strings.NewReader("x"), 1, PutOptions{SSE: &SSE{Algorithm: AlgorithmKMS, DataEncryption: "SM4"}})
		if c.Dialect() == S3 {
			if _, ok := AsError(err); ok || err == nil || !strings.Contains(err.Error(), "DataEncryption") {
				t.Errorf("S3 DataEncryption: %v, want a local error naming DataEncryption", err)
			}
		} else if _, ok := AsError(err); !ok {
			t.Errorf("OSS KMS+SM4 data encryption: %v, want the endpoint's answer (the reference refuses SM4)", err)
		}

		// Wrong credentials: the endpoint's answer, without the secret.
		cfg := c.cfg
		cfg.AccessKeySecret = "wrong-" + rootSK
		bad, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bad.HeadObject(ctx, b, "x")
		if e, ok := AsError(err); !ok || e.StatusCode != http.StatusForbidden {
			t.Errorf("wrong secret: %v, want a 403 *Error", err)
		} else if strings.Contains(err.Error(), rootSK) {
			t.Errorf("error text holds the secret: %v", err)
		}

		// Errors that are not the endpoint's answer.
		if _, _, err := c.GetObject(ctx, b, "k", &Range{Offset: -1}); err == nil {
			t.Error("negative range accepted")
		} else if _, ok := AsError(err); ok {
			t.Errorf("local error %v reads as *Error", err)
		}
	})
}

func TestStreamAndCancellation(t *testing.T) {
	forEach(t, func(t *testing.T, c *Client, b string) {
		ctx := context.Background()
		mkBucket(t, c, b, nil)
		body := bytes.Repeat([]byte("stream|"), 10000)
		if _, err := c.PutObject(ctx, b, "s", io.MultiReader(bytes.NewReader(body)), -1, PutOptions{SSE: &SSE{Algorithm: AlgorithmAES256}}); err != nil {
			t.Fatalf("PutObject of unknown size: %v", err)
		}
		rc, r, err := c.GetObjectStream(ctx, b, "s", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		if cerr := rc.Close(); err != nil || cerr != nil || !bytes.Equal(got, body) || r.SSE.Algorithm != AlgorithmAES256 || r.Size != int64(len(body)) {
			t.Errorf("stream: %d bytes, %v, close %v, result %+v", len(got), err, cerr, r)
		}

		err = c.ListObjects(ctx, b+"-missing", "", func(ObjectSummary) error { return nil })
		wantError(t, "ListObjects of a missing bucket", err, http.StatusNotFound, "NoSuchBucket")

		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = c.HeadObject(cctx, b, "s")
		if err == nil || !errors.Is(err, context.Canceled) {
			t.Errorf("HeadObject with a cancelled context: %v, want context.Canceled", err)
		} else if _, ok := AsError(err); ok {
			t.Errorf("a cancelled call reads as the endpoint's answer: %v", err)
		}
	})
}

// TestS3LocationFallback drives the signed GetBucketLocation BucketRegion
// uses when HeadBucket has no x-amz-bucket-region.
func TestS3LocationFallback(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, variants[len(variants)-1])
	mkBucket(t, c, "t-location-fallback", nil)
	s3b := c.b.(*s3Backend)
	cctx, _ := withCapture(ctx, false)
	if r, err := s3b.bucketLocation(cctx, "t-location-fallback"); err != nil || r != srv.Region {
		t.Errorf("GetBucketLocation = %q, %v; want %q", r, err, srv.Region)
	}
	cctx, cp := withCapture(ctx, false)
	_, err := s3b.bucketLocation(cctx, "t-location-missing")
	if e, ok := c.toError("BucketRegion", "", cp, err); !ok || e.StatusCode != 404 || e.Code != "NoSuchBucket" || e.RequestID == "" {
		t.Errorf("GetBucketLocation of a missing bucket: %+v, %v", e, err)
	}
}

func TestNoSecretInFormatting(t *testing.T) {
	cfg := Config{Dialect: S3, Endpoint: "http://127.0.0.1:9", Region: "r", AccessKeyID: "AK", AccessKeySecret: rootSK}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, rootSK) {
			t.Errorf("formatting shows the secret: %s", s)
		}
	}
}

// TestBodilessErrors: a HEAD answer with neither body nor x-oss-err still
// yields its status, a code derived from it, and the x-oss-ec / request id
// headers. (A loopback stub: the reference always sends x-oss-err.)
func TestBodilessErrors(t *testing.T) {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusNotFound
		if strings.HasSuffix(r.URL.Path, "/forbidden") {
			status = http.StatusForbidden
		}
		w.Header().Set("X-Oss-Request-Id", "STUBREQ")
		w.Header().Set("X-Amz-Request-Id", "STUBREQ")
		w.Header().Set("X-Oss-Ec", "0000-STUB")
		w.WriteHeader(status)
	}))
	defer stub.Close()
	for _, v := range variants {
		cfg := v.cfg
		cfg.Endpoint, cfg.Region, cfg.AccessKeyID, cfg.AccessKeySecret = stub.URL, "cn-hangzhou", "ak", "sk"
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]string{"missing": "NoSuchKey", "forbidden": "AccessDenied"} {
			_, err := c.HeadObject(context.Background(), "bucket", key)
			e, ok := AsError(err)
			if !ok || e.Code != want || e.RequestID != "STUBREQ" || e.Op != "HeadObject" {
				t.Errorf("%s HEAD %s: %+v (%v), want %s", c.Variant(), key, e, err, want)
				continue
			}
			if wantEC := map[Dialect]string{OSS: "0000-STUB", S3: ""}[c.Dialect()]; e.EC != wantEC {
				t.Errorf("%s HEAD %s: EC %q, want %q", c.Variant(), key, e.EC, wantEC)
			}
		}
	}
}

func TestConnectionErrorIsNotServiceError(t *testing.T) {
	for _, v := range variants {
		cfg := v.cfg
		cfg.Endpoint, cfg.Region, cfg.AccessKeyID, cfg.AccessKeySecret = "http://127.0.0.1:1", "cn-hangzhou", "a", "b"
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.HeadObject(context.Background(), "bucket", "key")
		if err == nil {
			t.Errorf("%s: no error from a closed port", c.Variant())
		} else if e, ok := AsError(err); ok {
			t.Errorf("%s: connection failure reads as service error %+v", c.Variant(), e)
		}
	}
}

func TestAsErrorConvertsSDKErrors(t *testing.T) {
	type fields struct {
		StatusCode                   int
		Code, Message, RequestID, EC string
	}
	cases := []struct {
		name string
		err  error
		want fields
	}{
		{"v1", fmt.Errorf("wrapped: %w", oss1.ServiceError{StatusCode: 404, Code: "NoSuchKey", Message: "m", RequestID: "r", Ec: "0026-00000001"}),
			fields{StatusCode: 404, Code: "NoSuchKey", Message: "m", RequestID: "r", EC: "0026-00000001"}},
		{"v1 bodiless", oss1.ServiceError{StatusCode: 403, RequestID: "r"},
			fields{StatusCode: 403, Code: "AccessDenied", Message: "Forbidden", RequestID: "r"}},
		{"v2", &oss2.OperationError{}, fields{}},
		{"v2 service", &oss2.ServiceError{StatusCode: 400, Code: "InvalidArgument", Message: "m", RequestID: "r", EC: "e",
			Headers: http.Header{"X-Oss-Ec": {"other"}}},
			fields{StatusCode: 400, Code: "InvalidArgument", Message: "m", RequestID: "r", EC: "e"}},
		{"minio", minio.ErrorResponse{StatusCode: 404, Code: "NoSuchBucket", Message: "m", RequestID: "r"},
			fields{StatusCode: 404, Code: "NoSuchBucket", Message: "m", RequestID: "r"}},
		{"other", errors.New("dial tcp: refused"), fields{}},
	}
	for _, tc := range cases {
		e, ok := AsError(tc.err)
		if tc.want.StatusCode == 0 {
			if ok {
				t.Errorf("%s: converted to %+v", tc.name, e)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: not converted", tc.name)
			continue
		}
		got := fields{StatusCode: e.StatusCode, Code: e.Code, Message: e.Message, RequestID: e.RequestID, EC: e.EC}
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
		if !errors.Is(e, tc.err) && e.Err != tc.err {
			t.Errorf("%s: the SDK error is not kept", tc.name)
		}
	}
	if _, ok := AsError(nil); ok {
		t.Error("AsError(nil) reports an error")
	}
}

func TestKMSWrapperValidates(t *testing.T) {
	if _, err := KMS(KMSConfig{Endpoint: "http://127.0.0.1:1", Region: "", AccessKeyID: "a", AccessKeySecret: "b"}); err == nil {
		t.Error("KMS without a region accepted")
	}
}
