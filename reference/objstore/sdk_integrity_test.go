package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/masterkey"
	"github.com/sseaudit/sseaudit/reference/objstore"
	"github.com/sseaudit/sseaudit/reference/rootkey"
	"github.com/sseaudit/sseaudit/reference/s3http"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestIntegrityOverSDK drives the integrity checks through the S3 front
// end with the AWS SDK over loopback: a flipped bit in a plain object
// aborts the GET (the SDK reads fewer bytes than Content-Length, never a
// complete 200), and a record edited in meta.db (store closed, bbolt
// opened directly, no root key) answers HEAD and GET with 500
// InternalError; both are logged as integrity failures.
func TestIntegrityOverSDK(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rk, err := rootkey.New(bytes.Repeat([]byte{9}, rootkey.Size), nil)
	if err != nil {
		t.Fatal(err)
	}
	em, err := kms.New(kms.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := masterkey.Open(ctx, masterkey.Config{Dir: t.TempDir(), RootKey: rk})
	if err != nil {
		t.Fatal(err)
	}
	env := envelope.New(envelope.Config{Master: ring, KMS: func(region string) envelope.KMS { return em.Region(region) }})
	creds, err := auth.NewStore(auth.Credential{AccessKeyID: "AKIDINTEGRITY", AccessKeySecret: "secret-integrity", Principal: auth.RootPrincipal})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuf{}
	start := func() (*objstore.DiskStore, *s3.Client, func()) {
		st, err := objstore.Open(ctx, objstore.Config{Dir: dir, Region: "cn-hangzhou", Envelope: env, RootKey: rk})
		if err != nil {
			t.Fatal(err)
		}
		h, err := s3http.NewHandler(s3http.Config{Store: st, Credentials: creds, Region: "cn-hangzhou",
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		srv.Config.ErrorLog = nil
		cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("cn-hangzhou"),
			config.WithCredentialsProvider(awscreds.NewStaticCredentialsProvider("AKIDINTEGRITY", "secret-integrity", "")),
			config.WithRetryMaxAttempts(1), config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
		if err != nil {
			t.Fatal(err)
		}
		cfg.HTTPClient = srv.Client()
		c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(srv.URL); o.UsePathStyle = true })
		return st, c, func() { srv.Close(); st.Close() }
	}
	st, c, stop := start()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("integrity")}); err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("plain object bytes "), 20000)
	for _, o := range []struct {
		key string
		sse types.ServerSideEncryption
	}{{"plain", ""}, {"sealed", types.ServerSideEncryptionAes256}} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("integrity"), Key: aws.String(o.key),
			Body: bytes.NewReader(plain), ServerSideEncryption: o.sse}); err != nil {
			t.Fatal(err)
		}
	}

	// A flipped bit in the plain object's data file.
	rest, err := st.AtRest(ctx, "integrity", "plain")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(rest.DataFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(rest.DataFiles[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("integrity"), Key: aws.String("plain")})
	if err != nil {
		t.Fatal(err) // the status line went out before the flip was read
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err == nil || len(got) >= len(plain) {
		t.Fatalf("GET of a flipped plain object: %d of %d bytes, err %v; want an aborted body", len(got), len(plain), err)
	}
	stop()

	// A record edited without the root key: one byte of its body.
	db, err := bolt.Open(filepath.Join(dir, objstore.MetaFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		objs := tx.Bucket([]byte("objects")).Bucket([]byte("integrity"))
		v := bytes.Clone(objs.Get([]byte("sealed")))
		v[len(v)-1] ^= 1
		return objs.Put([]byte("sealed"), v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, c, stop = start()
	defer stop()
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("integrity"), Key: aws.String("sealed")})
	wantStatus(t, err, http.StatusInternalServerError)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("integrity"), Key: aws.String("sealed")})
	wantStatus(t, err, http.StatusInternalServerError)
	if n := strings.Count(logs.String(), "integrity check failed"); n < 3 {
		t.Fatalf("%d integrity log lines, want 3:\n%s", n, logs.String())
	}
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("got %v, want HTTP %d", err, status)
	}
}
