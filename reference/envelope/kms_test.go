package envelope

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/kms"
)

func newKMSEnvelope(t *testing.T) (*Envelope, *kms.Emulator) {
	t.Helper()
	em, err := kms.New(kms.Config{Clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), Rand: newDetRand(9)})
	if err != nil {
		t.Fatal(err)
	}
	e := New(Config{KMS: func(region string) KMS { return em.Region(region) }})
	return e, em
}

func TestSSEKMSRoundTripAndKeyRules(t *testing.T) {
	ctx := context.Background()
	e, em := newKMSEnvelope(t)
	hz := em.Region("cn-hangzhou")
	cmk, err := hz.CreateKey(ctx, kms.CreateKeyInput{Description: "bucket key"})
	if err != nil {
		t.Fatal(err)
	}
	id := Identity{Bucket: "b", Object: "o"}
	data := bytes.Repeat([]byte("kms "), 40_000)

	// The default key: the record holds the real key id, never the alias.
	recDefault, ctDefault := put(t, e, Spec{Algorithm: AlgorithmKMS, Region: "cn-hangzhou"}, id, data)
	service, err := hz.DescribeKey(ctx, kms.ServiceKeyAliasOSS)
	if err != nil {
		t.Fatal(err)
	}
	rd, _ := ParseRecord(recDefault)
	if rd.KeyID != service.KeyId || rd.KeyVersion != service.PrimaryKeyVersion {
		t.Fatalf("default-key record names %s/%s, want the service key %s/%s", rd.KeyID, rd.KeyVersion, service.KeyId, service.PrimaryKeyVersion)
	}
	if got, err := get(e, "cn-hangzhou", "b", "o", recDefault, ctDefault); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read default-key object: %v", err)
	}

	rec, ct := put(t, e, Spec{Algorithm: AlgorithmKMS, KMSKeyID: cmk.KeyId, Region: "cn-hangzhou"}, id, data)
	r, _ := ParseRecord(rec)
	if r.KeyID != cmk.KeyId || r.KeyVersion != cmk.PrimaryKeyVersion {
		t.Fatalf("record names %s/%s, want %s/%s", r.KeyID, r.KeyVersion, cmk.KeyId, cmk.PrimaryKeyVersion)
	}

	// A disabled CMK refuses reads and new writes; enabling restores both.
	if err := hz.DisableKey(ctx, cmk.KeyId); err != nil {
		t.Fatal(err)
	}
	if _, err := get(e, "cn-hangzhou", "b", "o", rec, ct); !errors.Is(err, &kms.Error{Code: kms.CodeDisabled}) {
		t.Fatalf("read with disabled key: %v, want Rejected.Disabled", err)
	}
	if _, _, err := e.NewDataKey(ctx, Spec{Algorithm: AlgorithmKMS, KMSKeyID: cmk.KeyId, Region: "cn-hangzhou"}, id); !errors.Is(err, &kms.Error{Code: kms.CodeDisabled}) {
		t.Fatalf("write with disabled key: %v, want Rejected.Disabled", err)
	}
	if err := hz.EnableKey(ctx, cmk.KeyId); err != nil {
		t.Fatal(err)
	}
	if got, err := get(e, "cn-hangzhou", "b", "o", rec, ct); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after re-enable: %v", err)
	}

	// The region is part of the key's identity: another region cannot open it.
	if _, err := get(e, "cn-shanghai", "b", "o", rec, ct); err == nil {
		t.Fatal("a cn-hangzhou object opened through cn-shanghai KMS")
	}
	// Moving the object to another name breaks the KMS encryption context.
	if _, err := get(e, "cn-hangzhou", "b", "renamed", rec, ct); !errors.Is(err, &kms.Error{Code: kms.CodeInvalidCiphertext}) {
		t.Fatalf("read under another name: %v, want %s", err, kms.CodeInvalidCiphertext)
	}
	// An unknown CMK is refused at write time.
	if _, _, err := e.NewDataKey(ctx, Spec{Algorithm: AlgorithmKMS, KMSKeyID: "00000000-0000-4000-8000-000000000000", Region: "cn-hangzhou"}, id); !errors.Is(err, &kms.Error{Code: kms.CodeKeyNotFound}) {
		t.Fatalf("unknown CMK: %v, want Forbidden.KeyNotFound", err)
	}

	// Rotating the CMK: the old object still reads; Rewrap moves its data
	// key to the new primary version without touching the data.
	v2, err := hz.CreateKeyVersion(ctx, cmk.KeyId)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := get(e, "cn-hangzhou", "b", "o", rec, ct); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after CMK rotation: %v", err)
	}
	rw, err := e.Rewrap(ctx, r, "cn-hangzhou", "b", "o")
	if err != nil || rw.KeyVersion != v2.KeyVersionId {
		t.Fatalf("rewrap: version %s (want %s), err %v", rw.KeyVersion, v2.KeyVersionId, err)
	}
	rwRaw, _ := rw.Marshal()
	if got, err := get(e, "cn-hangzhou", "b", "o", rwRaw, ct); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after rewrap: %v", err)
	}

	// A record that names another CMK than its sealed key is refused.
	lying := r
	lying.KeyID = service.KeyId
	lyingRaw, _ := lying.Marshal()
	if _, err := get(e, "cn-hangzhou", "b", "o", lyingRaw, ct); !errors.Is(err, ErrCommitment) {
		t.Fatalf("record naming another CMK: %v, want ErrCommitment", err)
	}
}

// TestVersionIDIsBound: a record's version id is part of the data key's
// identity (seal AAD or KMS encryption context, commitment, stream
// identity): the same record relabelled with another version id, or with
// none, never opens, for SSE-OSS and SSE-KMS alike.
func TestVersionIDIsBound(t *testing.T) {
	kmsEnv, _ := newKMSEnvelope(t)
	ossEnv, _ := newOSSEnvelope(t)
	for _, c := range []struct {
		name string
		e    *Envelope
		spec Spec
	}{
		{"AES256", ossEnv, Spec{Algorithm: AlgorithmAES256}},
		{"KMS", kmsEnv, Spec{Algorithm: AlgorithmKMS, Region: "cn-hangzhou"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := Identity{Bucket: "b", Object: "o", VersionID: "00000000000000070123456789abcdef"}
			raw, ct := put(t, c.e, c.spec, id, []byte("version seven"))
			if got, err := get(c.e, "cn-hangzhou", "b", "o", raw, ct); err != nil || string(got) != "version seven" {
				t.Fatalf("round trip: %q, %v", got, err)
			}
			for _, other := range []string{"", "00000000000000080123456789abcdef"} {
				rec, err := ParseRecord(raw)
				if err != nil {
					t.Fatal(err)
				}
				rec.VersionID = other
				relabelled, err := rec.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				if got, err := get(c.e, "cn-hangzhou", "b", "o", relabelled, ct); err == nil {
					t.Fatalf("record relabelled as version %q opened: %q", other, got)
				}
			}
		})
	}
}
