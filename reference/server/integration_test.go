package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	rootAK = "ROOTAK"
	rootSK = "root-secret"
)

func rootEnv(k string) string {
	return map[string]string{
		"SSEAUDIT_ROOT_ACCESS_KEY_ID": rootAK, "SSEAUDIT_ROOT_ACCESS_KEY_SECRET": rootSK,
		"NOKMS_SECRET": "nokms-secret", "KMSREADER_SECRET": "kmsreader-secret",
	}[k]
}

const usersYAML = `
users:
  - name: nokms
    access_key_id: NOKMS
    access_key_secret_env: NOKMS_SECRET
    buckets: {read: ["*"]}
  - name: kmsreader
    access_key_id: KMSREADER
    access_key_secret_env: KMSREADER_SECRET
    buckets: {read: ["shared"]}
    kms: {decrypt: ["*"]}
`

func ossBucket(t *testing.T, s *Server, ak, sk, bucket string) *oss.Bucket {
	t.Helper()
	c, err := oss.New(s.Endpoint, ak, sk, oss.ForcePathStyle(true))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Bucket(bucket)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ossCode(err error) (int, string, string) {
	var se oss.ServiceError
	if errors.As(err, &se) {
		return se.StatusCode, se.Code, se.Message
	}
	return 0, "", fmt.Sprint(err)
}

// TestOneStoreTwoDialectsGrantsAndNoPlaintextAtRest runs the whole server:
// objects written through OSS are read through S3, grants from --users are
// enforced (KMS decrypt included), nothing encrypted reaches disk in
// plaintext, and a restart keeps users, buckets, rules and objects.
func TestOneStoreTwoDialectsGrantsAndNoPlaintextAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	usersFile := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(usersFile, []byte(usersYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Start(ctx, Config{DataDir: dir, Addr: "127.0.0.1:0", KMSAddr: "127.0.0.1:0", UsersFile: usersFile, Getenv: rootEnv})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			s.Close(ctx)
		}
	}()

	kc, err := kmsClient(s.KMSEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := kc.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String("named CMK")})
	if err != nil {
		t.Fatal(err)
	}
	cmk := tea.StringValue(ck.Body.KeyMetadata.KeyId)

	oc, _ := oss.New(s.Endpoint, rootAK, rootSK, oss.ForcePathStyle(true))
	if err := oc.CreateBucket("shared"); err != nil {
		t.Fatal(err)
	}
	root := ossBucket(t, s, rootAK, rootSK, "shared")
	type obj struct {
		key    string
		opts   []oss.Option
		sse    string
		keyID  string
		canary []byte
	}
	objs := []obj{
		{key: "plain", sse: ""},
		{key: "aes", opts: []oss.Option{oss.ServerSideEncryption("AES256")}, sse: "AES256"},
		{key: "kms-default", opts: []oss.Option{oss.ServerSideEncryption("KMS")}, sse: "KMS"},
		{key: "kms-named", opts: []oss.Option{oss.ServerSideEncryption("KMS"), oss.ServerSideEncryptionKeyID(cmk)}, sse: "KMS", keyID: cmk},
	}
	for i := range objs {
		o := &objs[i]
		o.canary = []byte(fmt.Sprintf("CANARY-%s-%x", o.key, bytes.Repeat([]byte{byte(i + 1)}, 8)))
		body := bytes.Repeat(o.canary, 5000)
		if err := root.PutObject(o.key, bytes.NewReader(body), o.opts...); err != nil {
			t.Fatalf("put %s: %v", o.key, err)
		}
	}

	// The S3 dialect sees the same objects and their encryption.
	mc, err := minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds: miniocreds.NewStaticV4(rootAK, rootSK, ""), Region: s.Region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantS3 := map[string]string{"": "", "AES256": "AES256", "KMS": "aws:kms"}
	for _, o := range objs {
		st, err := mc.StatObject(ctx, "shared", o.key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatalf("s3 stat %s: %v", o.key, err)
		}
		if got := st.Metadata.Get("X-Amz-Server-Side-Encryption"); got != wantS3[o.sse] {
			t.Errorf("s3 sees %s with SSE %q, want %q", o.key, got, wantS3[o.sse])
		}
		r, err := mc.GetObject(ctx, "shared", o.key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, bytes.Repeat(o.canary, 5000)) {
			t.Errorf("s3 read of %s differs (err %v)", o.key, err)
		}
	}
	// OSS reports the named CMK's id, and the default key's real id.
	meta, err := root.GetObjectDetailedMeta("kms-named")
	if err != nil || meta.Get("X-Oss-Server-Side-Encryption-Key-Id") != cmk {
		t.Fatalf("kms-named key id header = %q (err %v), want %s", meta.Get("X-Oss-Server-Side-Encryption-Key-Id"), err, cmk)
	}

	// Grants: nokms may read the bucket but not decrypt with KMS keys.
	nokms := ossBucket(t, s, "NOKMS", "nokms-secret", "shared")
	if _, err := nokms.GetObject("kms-named"); err == nil {
		t.Fatal("a principal without KMS decrypt read a KMS object")
	} else if st, code, msg := ossCode(err); st != 403 || code != "AccessDenied" || !strings.Contains(msg, "forbidden by kms") {
		t.Fatalf("nokms reading a KMS object: %d %s %q, want 403 AccessDenied ...forbidden by kms", st, code, msg)
	}
	if r, err := nokms.GetObject("aes"); err != nil {
		t.Fatalf("nokms reading an SSE-OSS object: %v", err)
	} else {
		r.Close()
	}
	if err := nokms.PutObject("x", strings.NewReader("x")); err == nil {
		t.Fatal("a read-only principal wrote an object")
	}
	kr := ossBucket(t, s, "KMSREADER", "kmsreader-secret", "shared")
	if r, err := kr.GetObject("kms-named"); err != nil {
		t.Fatalf("kmsreader reading a KMS object: %v", err)
	} else {
		r.Close()
	}

	// No encrypted canary anywhere on disk; the unencrypted one is there.
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	closed = true
	found := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if bytes.Contains(data, o.canary) {
				found[o.key] = true
			}
		}
		for _, secret := range []string{rootSK, "nokms-secret", "kmsreader-secret"} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds a secret in the clear", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if want := o.sse == ""; found[o.key] != want {
			t.Errorf("canary of %s (SSE %q) found on disk = %v, want %v", o.key, o.sse, found[o.key], want)
		}
	}

	// Restart without --users: users, bucket, objects and keys are kept.
	s2, err := Start(ctx, Config{DataDir: dir, Addr: "127.0.0.1:0", KMSAddr: "127.0.0.1:0", Getenv: rootEnv})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	for _, o := range objs {
		r, err := ossBucket(t, s2, "KMSREADER", "kmsreader-secret", "shared").GetObject(o.key)
		if err != nil {
			t.Fatalf("after restart, %s: %v", o.key, err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, bytes.Repeat(o.canary, 5000)) {
			t.Errorf("after restart %s differs", o.key)
		}
	}
}
