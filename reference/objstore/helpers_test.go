package objstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/masterkey"
	"github.com/sseaudit/sseaudit/reference/rootkey"
)

const testRegion = "cn-hangzhou"

var (
	root = Principal{Name: "root"}
	bob  = Principal{Name: "bob"}
	bg   = context.Background()
)

// auditLog is a concurrency-safe sink for the KMS emulator's audit lines.
type auditLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (a *auditLog) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.Write(p)
}

// count returns the number of audit lines for op.
func (a *auditLog) count(op string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Count(a.buf.String(), `"op":"`+op+`"`)
}

// authz is a test Authorizer: everything is allowed except what is listed.
type authz struct {
	mu        sync.Mutex
	noRead    map[string]bool // principal + "/" + bucket
	noWrite   map[string]bool
	noDecrypt map[string]bool // principal + "/" + key id
}

func newAuthz() *authz {
	return &authz{noRead: map[string]bool{}, noWrite: map[string]bool{}, noDecrypt: map[string]bool{}}
}

func (a *authz) CanReadBucket(p Principal, bucket string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.noRead[p.Name+"/"+bucket]
}

func (a *authz) CanWriteBucket(p Principal, bucket string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.noWrite[p.Name+"/"+bucket]
}

func (a *authz) CanDecrypt(p Principal, keyID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.noDecrypt[p.Name+"/"+keyID]
}

func (a *authz) set(m map[string]bool, k string, v bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m[k] = v
}

// testEnv is a store wired to real components: a master keyring (persisted
// in its own directory), an in-memory KMS emulator and an envelope.
type testEnv struct {
	dir   string
	clk   *clock.Fake
	kms   *kms.Emulator
	hz    kms.API // the store's region
	audit *auditLog
	ring  *masterkey.Keyring
	env   *envelope.Envelope
	authz *authz
	cfg   Config
	s     *DiskStore
}

type envOption func(*Config)

func withDefaultSSE(r *EncryptionRule) envOption { return func(c *Config) { c.DefaultSSE = r } }

func newTestEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	audit := &auditLog{}
	em, err := kms.New(kms.Config{Clock: clk, AuditLog: audit})
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rootkey.New(bytes.Repeat([]byte{7}, rootkey.Size), nil)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := masterkey.Open(bg, masterkey.Config{Dir: t.TempDir(), RootKey: rk, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	env := envelope.New(envelope.Config{Master: ring, KMS: func(region string) envelope.KMS { return em.Region(region) }})
	e := &testEnv{dir: t.TempDir(), clk: clk, kms: em, hz: em.Region(testRegion), audit: audit, ring: ring, env: env, authz: newAuthz()}
	e.cfg = Config{Dir: e.dir, Region: testRegion, Envelope: env, Authorizer: e.authz, Clock: clk, RootKey: rk}
	for _, o := range opts {
		o(&e.cfg)
	}
	e.s, err = Open(bg, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.s.Close() })
	return e
}

// reopen closes the store and opens it again on the same directory.
func (e *testEnv) reopen(t *testing.T) {
	t.Helper()
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(bg, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
}

func (e *testEnv) createKey(t testing.TB) string {
	t.Helper()
	k, err := e.hz.CreateKey(bg, kms.CreateKeyInput{Description: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return k.KeyId
}

// serviceKeyID returns the id behind alias/acs/oss (creating it).
func (e *testEnv) serviceKeyID(t testing.TB) string {
	t.Helper()
	k, err := e.hz.DescribeKey(bg, kms.ServiceKeyAliasOSS)
	if err != nil {
		t.Fatal(err)
	}
	return k.KeyId
}

func mustBucket(t testing.TB, s *DiskStore, name string, rule *EncryptionRule) {
	t.Helper()
	if _, err := s.CreateBucket(bg, root, name, rule); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

func put(t testing.TB, s *DiskStore, bucket, key string, data []byte, opts PutOptions) ObjectInfo {
	t.Helper()
	info, err := s.PutObject(bg, root, bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return info
}

func readRange(s *DiskStore, p Principal, bucket, key string, off, length int64) ([]byte, error) {
	o, err := s.OpenObject(bg, p, bucket, key)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	if length == -1 { // to the end
		length = o.Info().Size - off
	}
	r, err := o.Range(bg, off, length)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func get(t testing.TB, s *DiskStore, bucket, key string) []byte {
	t.Helper()
	b, err := readRange(s, root, bucket, key, 0, -1)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return b
}

func wantKind(t testing.TB, err error, want Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %d", want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error of kind %d", err, err, want)
	}
	if e.Kind != want {
		t.Fatalf("got kind %d (%v), want %d", e.Kind, err, want)
	}
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func md5raw(b []byte) []byte {
	s := md5.Sum(b)
	return s[:]
}

// pattern returns n deterministic, non-repeating-looking bytes.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// snapshot reads every data file of an object, with its metadata.
type snapshot struct {
	info  ObjectInfo
	rest  AtRestInfo
	files [][]byte
}

func takeSnapshot(t testing.TB, s *DiskStore, bucket, key string) snapshot {
	t.Helper()
	info, err := s.HeadObject(bg, root, bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := s.AtRest(bg, bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	sn := snapshot{info: info, rest: rest}
	for _, f := range rest.DataFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sn.files = append(sn.files, b)
	}
	return sn
}

// listFiles returns the names of the regular files under dir.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
