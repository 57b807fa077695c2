// Package embedded is the one door from sseaudit's auditor side (the CLI,
// the conformance steps, the scanner's and the reports' tests) into the
// reference implementation under reference/. It starts the reference
// OSS/S3 + KMS server on loopback (or on the address asked for), hands out
// its endpoints and root credentials, and exposes the admin hooks that only
// an in-process reference has: the bytes at rest, master key rotation, a
// movable clock, keys in another region, deliberate faults.
//
// No other auditor-side package imports reference/ (a test in this package
// checks the whole module), so the auditor can never come to depend on the
// reference's internals and every check it makes also works against an
// endpoint nobody here wrote. This package must not import the auditor
// side either (client, scan, policy...): it is a leaf that tests of any
// auditor package can use.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/faults"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/kmshttp"
	"github.com/sseaudit/sseaudit/reference/rootkey"
	"github.com/sseaudit/sseaudit/reference/server"
)

// Environment variables the reference reads for its root credentials and
// its root key.
const (
	EnvRootAccessKeyID     = auth.EnvRootAccessKeyID
	EnvRootAccessKeySecret = auth.EnvRootAccessKeySecret
	EnvRootKey             = rootkey.EnvVar
)

// DefaultRegion is the region the reference serves unless told otherwise.
const DefaultRegion = "cn-hangzhou"

// Fault is a deliberate defect that breaks one SSE rule, used only to prove
// the conformance suite and the scanner fail when a rule is broken.
type Fault = faults.Fault

// Faults is a set of enabled faults; nil has none.
type Faults = faults.Set

// The faults, each breaking one rule of the seed document.
const (
	ApplyDefaultToExisting = faults.ApplyDefaultToExisting
	OmitSSEHeader          = faults.OmitSSEHeader
	IgnoreNamedCMK         = faults.IgnoreNamedCMK
	PlaintextAtRest        = faults.PlaintextAtRest
	AcceptKeyIDWithAES256  = faults.AcceptKeyIDWithAES256
	UseDisabledKey         = faults.UseDisabledKey
	// OmitSSEHeaderCopyMultipart drops the SSE headers of copy and
	// multipart responses only (the object is still encrypted).
	OmitSSEHeaderCopyMultipart = faults.OmitSSEHeaderCopyMultipart
)

// AllFaults lists every fault in a stable order.
func AllFaults() []Fault { return faults.All() }

// FaultsOf builds a fault set.
func FaultsOf(fs ...Fault) Faults { return faults.Of(fs...) }

// ParseFaults parses a comma-separated fault list ("" is none).
func ParseFaults(list string) (Faults, error) { return faults.Parse(list) }

// Config configures Start. The zero value plus a DataDir starts a
// reference on free loopback ports.
type Config struct {
	// DataDir holds everything the server keeps (created 0700).
	DataDir string
	// Addr and KMSAddr are the listen addresses (default 127.0.0.1:0, a
	// free loopback port). Addr "-" serves KMS only.
	Addr, KMSAddr string
	// Region served (default DefaultRegion).
	Region string
	// UsersFile is a YAML file of extra principals and grants ("" keeps
	// the saved ones).
	UsersFile string
	// RootKeyFile is the root key's file ("" = root.key in DataDir; a
	// file outside DataDir is recommended, and one inside draws a
	// warning).
	RootKeyFile string
	// AdoptState authenticates state files found without a state manifest
	// (a data directory of an older build) instead of refusing them.
	AdoptState bool
	// DefaultSSE gives AWS's behaviour since 2023 (new buckets AES256).
	DefaultSSE bool
	// MasterKeyRotateEvery is the OSS-managed master key's rotation age.
	MasterKeyRotateEvery time.Duration
	// Getenv supplies root credentials and users-file secrets. nil means
	// an empty environment: the reference generates its root credentials
	// (never read from the caller's process environment by accident).
	Getenv func(string) string
	// Logger receives the server's logs (default: discarded).
	Logger *slog.Logger
	// MovableClock lets AdvanceClock move the server's clock forward.
	MovableClock bool
	// Faults are deliberate defects (nil for a correct server).
	Faults Faults
	// Limits bound connections, request progress and concurrent uploads
	// (zero fields take the defaults, negative ones switch a bound off).
	Limits Limits
}

// Limits bound what one connection, request or principal may hold: header,
// idle, body-progress and write-stall timeouts, a connection cap per
// endpoint and a cap on each principal's concurrent uploads.
type Limits = server.Limits

// DefaultLimits returns the limits a zero Limits stands for.
func DefaultLimits() Limits { return server.DefaultLimits() }

// Reference is a running reference implementation.
type Reference struct {
	// Endpoint is the OSS/S3 base URL (http://127.0.0.1:PORT), "" when
	// serving KMS only; KMSEndpoint the KMS base URL (Alibaba Cloud KMS
	// API).
	Endpoint, KMSEndpoint string
	// AWSKMSEndpoint is the base URL of the AWS KMS API (JSON 1.1, SigV4
	// with the credential scope Region/kms), the one S3-dialect runs read
	// key states through. The reference serves it on the KMS port, so it
	// equals KMSEndpoint today; callers use this field so that they keep
	// working if it ever gets a port of its own.
	AWSKMSEndpoint string
	// Region is the region served.
	Region string
	// AccessKeyID and AccessKeySecret are the root principal's credential.
	AccessKeyID, AccessKeySecret string
	// RootGenerated is true when the root credential was generated by this
	// start and has never been shown before.
	RootGenerated bool

	srv   *server.Server
	clock *clock.Offset
}

// Start starts a reference server as cfg says. Close stops it.
func Start(ctx context.Context, cfg Config) (*Reference, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded: a data directory is required")
	}
	sc := server.Config{
		DataDir: cfg.DataDir, Addr: cfg.Addr, KMSAddr: cfg.KMSAddr, Region: cfg.Region,
		UsersFile: cfg.UsersFile, RootKeyFile: cfg.RootKeyFile, AdoptState: cfg.AdoptState, DefaultSSE: cfg.DefaultSSE, MasterKeyRotateEvery: cfg.MasterKeyRotateEvery,
		Getenv: cfg.Getenv, Logger: cfg.Logger, Faults: cfg.Faults, Limits: cfg.Limits,
	}
	switch sc.Addr {
	case "":
		sc.Addr = "127.0.0.1:0"
	case "-":
		sc.Addr = ""
	}
	if sc.KMSAddr == "" {
		sc.KMSAddr = "127.0.0.1:0"
	}
	if sc.Getenv == nil {
		sc.Getenv = func(string) string { return "" }
	}
	r := &Reference{}
	if cfg.MovableClock {
		r.clock = &clock.Offset{}
		sc.Clock = r.clock
	}
	srv, err := server.Start(ctx, sc)
	if err != nil {
		return nil, err
	}
	r.srv = srv
	r.Endpoint, r.KMSEndpoint, r.Region = srv.Endpoint, srv.KMSEndpoint, srv.Region
	r.AWSKMSEndpoint = srv.KMSEndpoint // one port, both protocols (server.Server dispatches per request)
	r.AccessKeyID, r.AccessKeySecret, r.RootGenerated = srv.Root.AccessKeyID, srv.Root.AccessKeySecret, srv.RootGenerated
	return r, nil
}

// Close stops the server, letting in-flight requests finish, and flushes
// everything to disk.
func (r *Reference) Close(ctx context.Context) error { return r.srv.Close(ctx) }

// StartTemp starts a reference on free loopback ports in a new temporary
// directory, removed again by the returned stop function.
func StartTemp(ctx context.Context, cfg Config) (*Reference, func(context.Context) error, error) {
	dir, err := os.MkdirTemp("", "sseaudit-reference-")
	if err != nil {
		return nil, nil, fmt.Errorf("embedded: %w", err)
	}
	cfg.DataDir = dir
	r, err := Start(ctx, cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return r, func(ctx context.Context) error {
		err := r.Close(ctx)
		os.RemoveAll(dir)
		return err
	}, nil
}

// RotateMasterKey makes a new OSS-managed master key version active.
func (r *Reference) RotateMasterKey(ctx context.Context) error {
	if r.srv.Master == nil {
		return errors.New("embedded: no object store (KMS only)")
	}
	_, err := r.srv.Master.Rotate(ctx)
	return err
}

// AtRest is how one object is stored, as only the server itself can see.
type AtRest struct {
	// Encrypted says whether the store marks the object encrypted.
	Encrypted bool
	// Algorithm, KeyID and KeyVersion come from the object's encryption
	// record ("" when it has none).
	Algorithm, KeyID, KeyVersion string
	// Data holds the object's data files as stored, in part order.
	Data [][]byte
}

// AtRest reads how bucket/key is stored.
func (r *Reference) AtRest(ctx context.Context, bucket, key string) (AtRest, error) {
	if r.srv.Store == nil {
		return AtRest{}, errors.New("embedded: no object store (KMS only)")
	}
	info, err := r.srv.Store.AtRest(ctx, bucket, key)
	if err != nil {
		return AtRest{}, err
	}
	out := AtRest{Encrypted: info.Encrypted}
	if info.Record != nil {
		rec, err := envelope.ParseRecord(info.Record)
		if err != nil {
			return AtRest{}, err
		}
		out.Algorithm, out.KeyID, out.KeyVersion = rec.Algorithm, rec.KeyID, rec.KeyVersion
	}
	for _, f := range info.DataFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return AtRest{}, err
		}
		out.Data = append(out.Data, b)
	}
	return out, nil
}

// AdvanceClock moves the server's clock forward by d (key rotation,
// deletion windows, timestamps). It needs Config.MovableClock.
func (r *Reference) AdvanceClock(d time.Duration) error {
	if r.clock == nil {
		return errors.New("embedded: the clock is not movable (start with Config.MovableClock)")
	}
	r.clock.Advance(d)
	return nil
}

// CreateKeyInRegion creates a KMS customer master key in region, which
// need not be the region the endpoint serves. It acts as root (the
// emulator authorizes every call by its principal).
func (r *Reference) CreateKeyInRegion(ctx context.Context, region, description string) (string, error) {
	ctx = kms.WithPrincipal(ctx, auth.RootPrincipal)
	md, err := r.srv.KMS.Region(region).CreateKey(ctx, kms.CreateKeyInput{Description: description})
	if err != nil {
		return "", err
	}
	return md.KeyId, nil
}

// KMSAccount is the account id the KMS emulator records as the Creator of
// customer keys (service keys say "Oss").
func (r *Reference) KMSAccount() string { return r.srv.KMS.Account() }

// KMSServer is an in-memory KMS endpoint (no data directory), for tests of
// KMS clients.
type KMSServer struct {
	Endpoint string
	srv      *httptest.Server
}

// StartKMS serves an in-memory KMS on a free 127.0.0.1 port, accepting one
// root credential.
func StartKMS(accessKeyID, accessKeySecret string) (*KMSServer, error) {
	emu, err := kms.New(kms.Config{Clock: clock.NewFake(time.Now())})
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	store, err := auth.NewStore(auth.Credential{AccessKeyID: accessKeyID, AccessKeySecret: accessKeySecret, Principal: auth.RootPrincipal})
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	h, err := kmshttp.NewHandler(kmshttp.Config{Emulator: emu, Credentials: store})
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	srv := httptest.NewServer(h)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		srv.Close()
		return nil, fmt.Errorf("embedded: KMS test server not on 127.0.0.1: %s", srv.URL)
	}
	return &KMSServer{Endpoint: srv.URL, srv: srv}, nil
}

// Close stops the KMS server.
func (k *KMSServer) Close() { k.srv.Close() }

// Problem is one thing Check found wrong in a data directory.
type Problem = server.Problem

// Check verifies a stopped reference's data directory (cfg.DataDir, with
// cfg.RootKeyFile and the root key variable through cfg.Getenv) without
// serving or writing it: see server.Check. plainData also reads every
// unencrypted data file to verify its checksum.
func Check(ctx context.Context, cfg Config, plainData bool) ([]Problem, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return server.Check(ctx, server.Config{DataDir: cfg.DataDir, RootKeyFile: cfg.RootKeyFile, Getenv: getenv, CheckPlainData: plainData})
}
