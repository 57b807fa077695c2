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

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
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
	AdvanceClock(d time.Duration) error
	// CreateKeyInRegion creates a KMS key in region (not the endpoint's).
	CreateKeyInRegion(ctx context.Context, region string) (keyID string, err error)
	// Principal returns the credentials of a principal other than the
	// suite's own, e.g. "no-kms-decrypt" (may read and write every bucket,
	// may decrypt with no KMS key).
	Principal(name string) (accessKeyID, secret string, ok bool)
}

// AtRest is how one object is stored (see embedded.AtRest).
type AtRest = embedded.AtRest

// NoKMSDecryptPrincipal is the principal Reference creates without any KMS
// decrypt grant.
const NoKMSDecryptPrincipal = "no-kms-decrypt"

// ReferenceRegion is the region Reference serves.
const ReferenceRegion = "cn-hangzhou"

// Reference starts the embedded reference implementation in dir (its data
// directory and users file go there), with the "no-kms-decrypt" principal,
// a movable clock and the faults fs (nil for a correct server). It returns
// Options filled for both dialects, KMS (Alibaba, for OSS scenarios),
// AWSKMS (for S3 scenarios) and the Emulator, and a function that stops
// the server.
func Reference(ctx context.Context, dir string, fs embedded.Faults) (Options, func(context.Context) error, error) {
	return reference(ctx, dir, fs, false)
}

// reference is Reference; defaultSSE starts the reference the way AWS S3
// behaves since 2023 (every bucket has a default rule, AES256 when none is
// set).
func reference(ctx context.Context, dir string, fs embedded.Faults, defaultSSE bool) (Options, func(context.Context) error, error) {
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
	srv, err := embedded.Start(ctx, embedded.Config{
		DataDir: filepath.Join(dir, "data"), Region: ReferenceRegion, UsersFile: usersFile,
		Getenv: func(k string) string { return env[k] }, MovableClock: true, Faults: fs, DefaultSSE: defaultSSE,
	})
	if err != nil {
		return Options{}, nil, fmt.Errorf("steps: start the reference: %w", err)
	}
	cfg := func(d client.Dialect) client.Config {
		return client.Config{Dialect: d, Endpoint: srv.Endpoint, Region: srv.Region, AccessKeyID: rootAK, AccessKeySecret: rootSK}
	}
	opts := Options{
		Targets: map[client.Dialect]client.Config{client.OSS: cfg(client.OSS), client.S3: cfg(client.S3)},
		KMS:     &client.KMSConfig{Endpoint: srv.KMSEndpoint, Region: srv.Region, AccessKeyID: rootAK, AccessKeySecret: rootSK},
		// S3 scenarios manage their keys through AWS KMS, as S3 users do.
		AWSKMS: &client.KMSConfig{Endpoint: srv.AWSKMSEndpoint, Region: srv.Region, AccessKeyID: rootAK, AccessKeySecret: rootSK},
		Emulator: &referenceEmulator{srv: srv,
			principals: map[string][2]string{NoKMSDecryptPrincipal: {userAK, userSK}}},
		BucketPrefix: DefaultBucketPrefix,
		// The reference's S3 dialect uses its own managed key, the
		// service key alias/acs/oss, where AWS uses alias/aws/s3.
		S3DefaultKeyAlias: defaultKeyAlias,
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

// referenceEmulator implements Emulator over a running embedded reference.
type referenceEmulator struct {
	srv        *embedded.Reference
	principals map[string][2]string
}

func (e *referenceEmulator) RotateMasterKey(ctx context.Context) error {
	return e.srv.RotateMasterKey(ctx)
}

func (e *referenceEmulator) AtRest(ctx context.Context, bucket, key string) (AtRest, error) {
	return e.srv.AtRest(ctx, bucket, key)
}

func (e *referenceEmulator) AdvanceClock(d time.Duration) error { return e.srv.AdvanceClock(d) }

func (e *referenceEmulator) CreateKeyInRegion(ctx context.Context, region string) (string, error) {
	if region == e.srv.Region {
		return "", errors.New("steps: CreateKeyInRegion: the region is the endpoint's own")
	}
	return e.srv.CreateKeyInRegion(ctx, region, "sseaudit conformance: key in another region")
}

func (e *referenceEmulator) Principal(name string) (string, string, bool) {
	c, ok := e.principals[name]
	return c[0], c[1], ok
}
