package steps

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/faults"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/server"
	"github.com/sseaudit/sseaudit/target"
)

// Emulator is the reference implementation's admin hooks, which @emulator
// scenarios use to check what no client can see: the bytes at rest, key
// versions, and effects of time.
type Emulator interface {
	// RotateMasterKey makes a new OSS-managed master key version active.
	RotateMasterKey(ctx context.Context) error
	// AtRest shows how bucket/key is stored.
	AtRest(ctx context.Context, bucket, key string) (AtRest, error)
	// AdvanceClock moves the endpoint's clock (key rotation, deletion
	// windows, timestamps) forward by d.
	AdvanceClock(d time.Duration)
	// CreateKeyInRegion creates a KMS key in region (not the endpoint's).
	CreateKeyInRegion(ctx context.Context, region string) (keyID string, err error)
	// Principal returns the credentials of a principal other than the
	// suite's own, e.g. "no-kms-decrypt" (may read and write every bucket,
	// may decrypt with no KMS key).
	Principal(name string) (accessKeyID, secret string, ok bool)
}

// AtRest is how one object is stored.
type AtRest struct {
	// Encrypted says whether the store marks the object encrypted.
	Encrypted bool
	// Algorithm, KeyID and KeyVersion come from the object's stored
	// encryption record ("" when it has none): AES256 or KMS, the CMK id
	// (KMS), and the master key version (AES256) or KMS KeyVersionId.
	Algorithm, KeyID, KeyVersion string
	// Data holds the object's data files as stored, in part order.
	Data [][]byte
}

// NoKMSDecryptPrincipal is the principal Reference creates without any KMS
// decrypt grant.
const NoKMSDecryptPrincipal = "no-kms-decrypt"

// ReferenceRegion is the region Reference serves.
const ReferenceRegion = "cn-hangzhou"

// Reference starts the embedded reference implementation in dir (its data
// directory and users file go there), with the "no-kms-decrypt" principal,
// a movable clock and the faults fs (nil for a correct server). It returns
// Options filled for both dialects, KMS and the Emulator, and a function
// that stops the server.
func Reference(ctx context.Context, dir string, fs faults.Set) (Options, func(context.Context) error, error) {
	rootAK, rootSK, err := newCredential("SSEAUDITROOT")
	if err != nil {
		return Options{}, nil, err
	}
	userAK, userSK, err := newCredential("SSEAUDITNOKMS")
	if err != nil {
		return Options{}, nil, err
	}
	env := map[string]string{
		"SSEAUDIT_ROOT_ACCESS_KEY_ID":     rootAK,
		"SSEAUDIT_ROOT_ACCESS_KEY_SECRET": rootSK,
		"SSEAUDIT_CONFORMANCE_NOKMS":      userSK,
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Options{}, nil, err
	}
	usersFile := filepath.Join(dir, "users.yaml")
	users := fmt.Sprintf(`users:
  - name: %s
    access_key_id: %s
    access_key_secret_env: SSEAUDIT_CONFORMANCE_NOKMS
    buckets:
      read: ["*"]
      write: ["*"]
    kms:
      decrypt: []
`, NoKMSDecryptPrincipal, userAK)
	if err := os.WriteFile(usersFile, []byte(users), 0o600); err != nil {
		return Options{}, nil, err
	}
	clk := &clock.Offset{}
	srv, err := server.Start(ctx, server.Config{
		DataDir: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", KMSAddr: "127.0.0.1:0", Region: ReferenceRegion,
		UsersFile: usersFile, Getenv: func(k string) string { return env[k] }, Clock: clk, Faults: fs,
	})
	if err != nil {
		return Options{}, nil, fmt.Errorf("steps: start the reference: %w", err)
	}
	cfg := func(d target.Dialect) target.Config {
		return target.Config{Dialect: d, Endpoint: srv.Endpoint, Region: srv.Region, AccessKeyID: rootAK, AccessKeySecret: rootSK}
	}
	opts := Options{
		Targets: map[target.Dialect]target.Config{target.OSS: cfg(target.OSS), target.S3: cfg(target.S3)},
		KMS:     &target.KMSConfig{Endpoint: srv.KMSEndpoint, Region: srv.Region, AccessKeyID: rootAK, AccessKeySecret: rootSK},
		Emulator: &referenceEmulator{srv: srv, clock: clk,
			principals: map[string][2]string{NoKMSDecryptPrincipal: {userAK, userSK}}},
		BucketPrefix: DefaultBucketPrefix,
	}
	return opts, srv.Close, nil
}

func newCredential(prefix string) (id, secret string, err error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	return prefix + hex.EncodeToString(b[:4]), hex.EncodeToString(b[4:]), nil
}

// referenceEmulator implements Emulator over a running *server.Server.
type referenceEmulator struct {
	srv        *server.Server
	clock      *clock.Offset
	principals map[string][2]string
}

func (e *referenceEmulator) RotateMasterKey(ctx context.Context) error {
	_, err := e.srv.Master.Rotate(ctx)
	return err
}

func (e *referenceEmulator) AtRest(ctx context.Context, bucket, key string) (AtRest, error) {
	info, err := e.srv.Store.AtRest(ctx, bucket, key)
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

func (e *referenceEmulator) AdvanceClock(d time.Duration) { e.clock.Advance(d) }

func (e *referenceEmulator) CreateKeyInRegion(ctx context.Context, region string) (string, error) {
	if region == e.srv.Region {
		return "", errors.New("steps: CreateKeyInRegion: the region is the endpoint's own")
	}
	md, err := e.srv.KMS.Region(region).CreateKey(ctx, kms.CreateKeyInput{Description: "sseaudit conformance: key in another region"})
	if err != nil {
		return "", err
	}
	return md.KeyId, nil
}

func (e *referenceEmulator) Principal(name string) (string, string, bool) {
	c, ok := e.principals[name]
	return c[0], c[1], ok
}
