package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aws/aws-sdk-go-v2/aws"
	awskmssdk "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/kmsclient/awskms"
	"github.com/sseaudit/sseaudit/snapshot"
)

// ---- KMS keys ----

func (w *world) newKey(ctx context.Context) error {
	return w.newRotatingKey(ctx, 0)
}

func (w *world) newRotatingKey(ctx context.Context, days int) error {
	if w.named != nil {
		return errors.New("the scenario already has its named key")
	}
	k, err := w.createKey(ctx, days)
	if err != nil {
		return err
	}
	w.named = k
	return nil
}

// namedKeyOp runs a KMS operation on the scenario's named key, through
// the Alibaba SDK (ali) or, in an S3 scenario with AWS KMS, the AWS SDK
// (aws).
func (w *world) namedKeyOp(ctx context.Context, op string, ali func(k *kmssdk.Client, id *string) error, awsOp func(k *awskmssdk.Client, id *string) error) error {
	if w.named == nil {
		return errors.New("the scenario has no named key yet")
	}
	if w.useAWS() {
		k, err := w.requireAWSKMS(ctx)
		if err != nil {
			return err
		}
		if err := awsOp(k.SDK(), aws.String(w.named.id)); err != nil {
			return kmsErr(op+" "+w.named.id, err)
		}
		return nil
	}
	k, err := w.requireKMS()
	if err != nil {
		return err
	}
	if err := ali(k, tea.String(w.named.id)); err != nil {
		return kmsErr(op+" "+w.named.id, err)
	}
	return nil
}

func (w *world) disableKey(ctx context.Context) error {
	return w.namedKeyOp(ctx, "DisableKey", func(k *kmssdk.Client, id *string) error {
		_, err := k.DisableKey(&kmssdk.DisableKeyRequest{KeyId: id})
		return err
	}, func(k *awskmssdk.Client, id *string) error {
		_, err := k.DisableKey(ctx, &awskmssdk.DisableKeyInput{KeyId: id})
		return err
	})
}

func (w *world) enableKey(ctx context.Context) error {
	return w.namedKeyOp(ctx, "EnableKey", func(k *kmssdk.Client, id *string) error {
		_, err := k.EnableKey(&kmssdk.EnableKeyRequest{KeyId: id})
		return err
	}, func(k *awskmssdk.Client, id *string) error {
		_, err := k.EnableKey(ctx, &awskmssdk.EnableKeyInput{KeyId: id})
		return err
	})
}

func (w *world) scheduleDeletion(ctx context.Context, days int) error {
	return w.namedKeyOp(ctx, "ScheduleKeyDeletion", func(k *kmssdk.Client, id *string) error {
		_, err := k.ScheduleKeyDeletion(&kmssdk.ScheduleKeyDeletionRequest{KeyId: id, PendingWindowInDays: tea.Int32(int32(days))})
		return err
	}, func(k *awskmssdk.Client, id *string) error {
		_, err := k.ScheduleKeyDeletion(ctx, &awskmssdk.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(int32(days))})
		return err
	})
}

// cancelDeletion cancels the named key's deletion. AWS leaves a key whose
// deletion was cancelled Disabled (Alibaba: Enabled), so through AWS the
// step also enables it, as AWS documents (cancel-key-deletion, then
// enable-key): either way the key is usable again, which is what the
// scenarios then check.
func (w *world) cancelDeletion(ctx context.Context) error {
	return w.namedKeyOp(ctx, "CancelKeyDeletion", func(k *kmssdk.Client, id *string) error {
		_, err := k.CancelKeyDeletion(&kmssdk.CancelKeyDeletionRequest{KeyId: id})
		return err
	}, func(k *awskmssdk.Client, id *string) error {
		if _, err := k.CancelKeyDeletion(ctx, &awskmssdk.CancelKeyDeletionInput{KeyId: id}); err != nil {
			return err
		}
		_, err := k.EnableKey(ctx, &awskmssdk.EnableKeyInput{KeyId: id})
		return err
	})
}

// createAWSKey creates a CMK through AWS KMS. Its key version (an Alibaba
// notion the @emulator rotation scenarios compare) is read through the
// Alibaba API when the run has it too (the reference).
func (w *world) createAWSKey(ctx context.Context) (*namedKey, error) {
	k, err := w.requireAWSKMS(ctx)
	if err != nil {
		return nil, err
	}
	out, err := k.SDK().CreateKey(ctx, &awskmssdk.CreateKeyInput{Description: aws.String("sseaudit conformance: " + w.rec.res.Name)})
	if err != nil {
		return nil, kmsErr("CreateKey", err)
	}
	if out.KeyMetadata == nil || aws.ToString(out.KeyMetadata.KeyId) == "" {
		return nil, errors.New("AWS KMS CreateKey returned no key id")
	}
	nk := &namedKey{id: aws.ToString(out.KeyMetadata.KeyId)}
	w.createdKeys = append(w.createdKeys, nk.id)
	if w.r.opts.KMS != nil {
		md, err := w.describeKey(nk.id)
		if err != nil {
			return nil, err
		}
		nk.versionBefore = tea.StringValue(md.PrimaryKeyVersion)
	}
	return nk, nil
}

// newAWSKMS builds an AWS KMS client for cfg (its own retries off: a
// conformance step reports what the endpoint answered).
func newAWSKMS(ctx context.Context, cfg client.KMSConfig) (*awskms.Client, error) {
	return awskms.New(ctx, awskms.Config{Endpoint: cfg.Endpoint, Region: cfg.Region, AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.AccessKeySecret})
}

// rotateKey makes a new primary version of the named key. Only the
// Alibaba API has key versions (AWS's RotateKeyOnDemand shows none), so
// an S3 scenario also rotates through it (an @emulator scenario: the
// reference serves both APIs on one keystore).
func (w *world) rotateKey(ctx context.Context) error {
	if w.named == nil {
		return errors.New("the scenario has no named key yet")
	}
	k, err := w.requireKMS()
	if err != nil {
		return err
	}
	return w.aliKeyOp(k, "CreateKeyVersion", func(k *kmssdk.Client, id *string) error {
		resp, err := k.CreateKeyVersion(&kmssdk.CreateKeyVersionRequest{KeyId: id})
		if err != nil {
			return err
		}
		if resp.Body.KeyVersion == nil || tea.StringValue(resp.Body.KeyVersion.KeyVersionId) == "" {
			return errors.New("no KeyVersionId in the answer")
		}
		w.named.versionAfter = tea.StringValue(resp.Body.KeyVersion.KeyVersionId)
		return nil
	})
}

func (w *world) aliKeyOp(k *kmssdk.Client, op string, fn func(k *kmssdk.Client, id *string) error) error {
	if err := fn(k, tea.String(w.named.id)); err != nil {
		return kmsErr(op+" "+w.named.id, err)
	}
	return nil
}

func (w *world) advanceClock(ctx context.Context, days int) error {
	em, err := w.requireEmulator()
	if err != nil {
		return err
	}
	return em.AdvanceClock(time.Duration(days) * 24 * time.Hour)
}

func (w *world) keyInOtherRegion(ctx context.Context) error {
	em, err := w.requireEmulator()
	if err != nil {
		return err
	}
	region := "cn-shanghai"
	if w.client.Region() == region {
		region = "cn-beijing"
	}
	id, err := em.CreateKeyInRegion(ctx, region)
	if err != nil {
		return fmt.Errorf("create a key in %s: %w", region, err)
	}
	w.otherRegionKey = id
	return nil
}

func (w *world) uploadOtherRegionKey(ctx context.Context, key string) error {
	if w.otherRegionKey == "" {
		return errors.New("the scenario has no key in another region")
	}
	return w.uploadKMSKey(ctx, key, w.otherRegionKey)
}

// uploadDefaultAlias uploads key asking for KMS with the dialect's alias
// of the default key: alias/acs/oss on OSS, Options.S3DefaultKeyAlias on
// S3. On S3 with AWS KMS the alias is resolved first, so the response must
// name the key the alias names.
func (w *world) uploadDefaultAlias(ctx context.Context, key string) error {
	alias := defaultKeyAlias
	if w.dialect == client.S3 {
		alias = w.r.opts.S3DefaultKeyAlias
		if w.useAWS() {
			id, err := w.keyID(alias)
			if err != nil {
				return err
			}
			if got := w.r.learnDefaultKey(w.dialect, id); !snapshot.SameKey(got, id) {
				return fmt.Errorf("%s is the key %s, but the store answered earlier in this run with %s as its default key", alias, id, got)
			}
		}
	}
	return w.uploadKMSKey(ctx, key, alias)
}

func (w *world) uploadUnknownKey(ctx context.Context, key string) error {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	return w.uploadKMSKey(ctx, key, id)
}

// ---- at rest (@emulator) ----

func (w *world) atRest(ctx context.Context, key string) (*object, AtRest, error) {
	em, err := w.requireEmulator()
	if err != nil {
		return nil, AtRest{}, err
	}
	o, err := w.obj(key)
	if err != nil {
		return nil, AtRest{}, err
	}
	at, err := em.AtRest(ctx, w.bucket, key)
	if err != nil {
		return nil, AtRest{}, fmt.Errorf("inspect %s at rest: %w", key, err)
	}
	return o, at, nil
}

func (w *world) storedUnderVersionBefore(ctx context.Context, key string) error {
	if w.named == nil {
		return errors.New("the scenario has no named key")
	}
	_, at, err := w.atRest(ctx, key)
	if err != nil {
		return err
	}
	return w.checkKeyVersion(key, at, w.named.versionBefore, "the version that was primary before the rotation")
}

func (w *world) storedUnderNewVersion(ctx context.Context, key string) error {
	if w.named == nil {
		return errors.New("the scenario has no named key")
	}
	want := w.named.versionAfter
	if want == "" { // automatic rotation: ask KMS for the primary version now
		md, err := w.describeKey(w.named.id)
		if err != nil {
			return err
		}
		want = tea.StringValue(md.PrimaryKeyVersion)
	}
	if want == w.named.versionBefore {
		return fmt.Errorf("the named key was not rotated: its primary version is still %s", want)
	}
	_, at, err := w.atRest(ctx, key)
	if err != nil {
		return err
	}
	return w.checkKeyVersion(key, at, want, "the key's new primary version")
}

func (w *world) checkKeyVersion(key string, at AtRest, version, desc string) error {
	if at.Algorithm != client.AlgorithmKMS || !snapshot.SameKey(at.KeyID, w.named.id) {
		return fmt.Errorf("%s is stored with algorithm %q and key %q, want KMS with the named key %s", key, at.Algorithm, at.KeyID, w.named.id)
	}
	if at.KeyVersion != version {
		return fmt.Errorf("%s is stored under key version %q, want %s %q", key, at.KeyVersion, desc, version)
	}
	return nil
}

func (w *world) rotateMasterKey(ctx context.Context) error {
	em, err := w.requireEmulator()
	if err != nil {
		return err
	}
	return em.RotateMasterKey(ctx)
}

func (w *world) newerMasterVersion(ctx context.Context, newKey, oldKey string) error {
	_, n, err := w.atRest(ctx, newKey)
	if err != nil {
		return err
	}
	_, o, err := w.atRest(ctx, oldKey)
	if err != nil {
		return err
	}
	var errs []error
	for _, x := range []struct {
		key string
		at  AtRest
	}{{newKey, n}, {oldKey, o}} {
		if x.at.Algorithm != client.AlgorithmAES256 {
			errs = append(errs, fmt.Errorf("%s is stored with algorithm %q, want AES256 (OSS-managed)", x.key, x.at.Algorithm))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	nv, err1 := strconv.ParseUint(n.KeyVersion, 10, 32)
	ov, err2 := strconv.ParseUint(o.KeyVersion, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("master key versions %q and %q: %w", n.KeyVersion, o.KeyVersion, err)
	}
	if nv <= ov {
		return fmt.Errorf("%s is stored under master key version %d, not newer than %s's %d", newKey, nv, oldKey, ov)
	}
	return nil
}

func (w *world) uploadRecognisable(ctx context.Context, key string) error {
	data, marker := recognisable(8 << 10)
	if o, _ := w.put(ctx, key, data, nil); o != nil {
		o.marker = marker
	}
	return nil
}

func (w *world) uploadRecognisableParts(ctx context.Context, key string, n int) error {
	data, marker := recognisable((n-1)*w.minPartSize() + 4096)
	if err := w.uploadParts(ctx, key, n, nil, data); err != nil {
		return err
	}
	if o := w.objects[key]; o != nil && w.lastErr == nil {
		o.marker = marker
	}
	return nil
}

func (w *world) noPlaintextAtRest(ctx context.Context, key string) error {
	o, at, err := w.atRest(ctx, key)
	if err != nil {
		return err
	}
	if o.marker == nil {
		return fmt.Errorf("internal: %s was not uploaded with a recognisable plaintext", key)
	}
	if len(at.Data) == 0 {
		return fmt.Errorf("%s has no data files", key)
	}
	var errs []error
	for i, d := range at.Data {
		if bytes.Contains(d, o.marker) {
			errs = append(errs, fmt.Errorf("data file %d of %s holds the plaintext (%q found at byte %d)", i+1, key, bytes.TrimSpace(o.marker), bytes.Index(d, o.marker)))
		}
	}
	if !at.Encrypted {
		errs = append(errs, fmt.Errorf("the store does not mark %s as encrypted", key))
	}
	return errors.Join(errs...)
}

func (w *world) recordNames(ctx context.Context, key, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	_, at, err := w.atRest(ctx, key)
	if err != nil {
		return err
	}
	wantKey, err := w.expectedKeyID(m)
	if err != nil {
		return err
	}
	if wantKey == "" && m.algorithm == client.AlgorithmKMS && !m.named {
		if wantKey, err = w.learnDefaultKey(at.KeyID); err != nil {
			return err
		}
	}
	// The store's record names the key by id; S3 answered its ARN, which
	// is where an S3 run learned the default key from.
	if at.Algorithm != m.algorithm || !snapshot.SameKey(at.KeyID, wantKey) {
		return fmt.Errorf("the stored encryption record of %s names algorithm %q and key %q, want %q and %q (%s)", key, at.Algorithm, at.KeyID, m.algorithm, wantKey, m.name)
	}
	if m.algorithm != "" && at.KeyVersion == "" {
		return fmt.Errorf("the stored encryption record of %s names no key version", key)
	}
	return nil
}

func (w *world) storedAsIs(ctx context.Context, key string) error {
	o, at, err := w.atRest(ctx, key)
	if err != nil {
		return err
	}
	var errs []error
	if at.Encrypted || at.Algorithm != "" {
		errs = append(errs, fmt.Errorf("%s is stored encrypted (algorithm %q), but it was written without encryption", key, at.Algorithm))
	}
	if err := sameBytes("the stored data of "+key, bytes.Join(at.Data, nil), o.data); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
