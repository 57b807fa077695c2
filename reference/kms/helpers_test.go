package kms

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/reference/clock"
)

// detRand is a deterministic, concurrency-safe randomness source.
type detRand struct {
	mu sync.Mutex
	c  *rand.ChaCha8
}

func newDetRand(seed byte) *detRand {
	var s [32]byte
	for i := range s {
		s[i] = seed + byte(i)
	}
	return &detRand{c: rand.NewChaCha8(s)}
}

func (d *detRand) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.c.Read(p)
}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

const testRegion = "cn-hangzhou"

type testEnv struct {
	e   *Emulator
	clk *clock.Fake
	api API
	ctx context.Context
}

// newTestEnv builds an emulator with a Fake clock at t0 and deterministic
// randomness unless cfg sets them.
func newTestEnv(t testing.TB, cfg Config) *testEnv {
	t.Helper()
	clk, _ := cfg.Clock.(*clock.Fake)
	if cfg.Clock == nil {
		clk = clock.NewFake(t0)
		cfg.Clock = clk
	}
	if cfg.Rand == nil {
		cfg.Rand = newDetRand(1)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &testEnv{e: e, clk: clk, api: e.Region(testRegion), ctx: context.Background()}
}

func (te *testEnv) createKey(t testing.TB) string {
	t.Helper()
	md, err := te.api.CreateKey(te.ctx, CreateKeyInput{Description: "test key"})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return md.KeyId
}

func (te *testEnv) describe(t testing.TB, keyID string) KeyMetadata {
	t.Helper()
	md, err := te.api.DescribeKey(te.ctx, keyID)
	if err != nil {
		t.Fatalf("DescribeKey(%s): %v", keyID, err)
	}
	return md
}

func (te *testEnv) encrypt(t testing.TB, keyID string, pt []byte, ectx map[string]string) EncryptOutput {
	t.Helper()
	out, err := te.api.Encrypt(te.ctx, EncryptInput{KeyId: keyID, Plaintext: pt, EncryptionContext: ectx})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return out
}

// wantErr fails unless err is a *Error with the given code and status.
// code "" means success is wanted.
func wantErr(t testing.TB, what string, err error, code string, status int) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	var ke *Error
	if !errors.As(err, &ke) {
		t.Fatalf("%s: got %v, want *Error %s", what, err, code)
	}
	if ke.Code != code || ke.HTTPStatus != status {
		t.Fatalf("%s: got %s/%d (%s), want %s/%d", what, ke.Code, ke.HTTPStatus, ke.Message, code, status)
	}
}
