package kms

import (
	"context"
	"io"

	"github.com/sseaudit/sseaudit/reference/faults"
)

// dataKeySize applies Alibaba's precedence: NumberOfBytes (1..1024) wins
// and KeySpec is then ignored; otherwise KeySpec AES_256 (32) or AES_128
// (16); with neither, 32 bytes.
func dataKeySize(in GenerateDataKeyInput) (int, error) {
	switch {
	case in.NumberOfBytes != 0:
		if in.NumberOfBytes < 1 || in.NumberOfBytes > MaxNumberOfBytes {
			return 0, errInvalidParam("NumberOfBytes", "The value must be between 1 and 1024.")
		}
		return in.NumberOfBytes, nil
	case in.KeySpec == "" || in.KeySpec == DataKeySpecAES256:
		return 32, nil
	case in.KeySpec == DataKeySpecAES128:
		return 16, nil
	}
	return 0, errInvalidParam("KeySpec", "Valid values are AES_256 and AES_128.")
}

// GenerateDataKey returns a fresh data key in plaintext and sealed under the
// key's primary version.
func (r *Regional) GenerateDataKey(ctx context.Context, in GenerateDataKeyInput) (GenerateDataKeyOutput, error) {
	return r.generateDataKey(ctx, "GenerateDataKey", in, true)
}

// GenerateDataKeyWithoutPlaintext is GenerateDataKey without the plaintext.
func (r *Regional) GenerateDataKeyWithoutPlaintext(ctx context.Context, in GenerateDataKeyInput) (GenerateDataKeyOutput, error) {
	return r.generateDataKey(ctx, "GenerateDataKeyWithoutPlaintext", in, false)
}

func (r *Regional) generateDataKey(ctx context.Context, op string, in GenerateDataKeyInput, withPlaintext bool) (GenerateDataKeyOutput, error) {
	var out GenerateDataKeyOutput
	err := r.do(ctx, op, false, func(t *txn) error {
		n, err := dataKeySize(in)
		if err != nil {
			return err
		}
		k, err := t.resolveFor(in.KeyId, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := t.requireUsable(k); err != nil {
			return err
		}
		v := k.primaryVersion()
		t.versionID = v.id
		dk := make([]byte, n)
		if _, err := io.ReadFull(t.e.rand, dk); err != nil {
			return errInternal("random source failed")
		}
		blob, err := sealBlob(t.e.rand, k.id, v, dk, in.EncryptionContext)
		if err != nil {
			clear(dk)
			return err
		}
		out = GenerateDataKeyOutput{KeyId: k.id, KeyVersionId: v.id, CiphertextBlob: blob}
		if withPlaintext {
			out.Plaintext = dk
		} else {
			clear(dk)
		}
		return nil
	})
	return out, err
}

// Encrypt seals up to 6 KiB under the key's primary version.
func (r *Regional) Encrypt(ctx context.Context, in EncryptInput) (EncryptOutput, error) {
	var out EncryptOutput
	err := r.do(ctx, "Encrypt", false, func(t *txn) error {
		if len(in.Plaintext) == 0 {
			return errMissingParam("Plaintext")
		}
		if len(in.Plaintext) > MaxEncryptPlaintext {
			return errInvalidParam("Plaintext", "Encrypt accepts at most 6 KiB; use envelope encryption (GenerateDataKey) for more.")
		}
		k, err := t.resolveFor(in.KeyId, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := t.requireUsable(k); err != nil {
			return err
		}
		v := k.primaryVersion()
		t.versionID = v.id
		blob, err := sealBlob(t.e.rand, k.id, v, in.Plaintext, in.EncryptionContext)
		if err != nil {
			return err
		}
		out = EncryptOutput{KeyId: k.id, KeyVersionId: v.id, CiphertextBlob: blob}
		return nil
	})
	return out, err
}

// openInRegion finds the key and version a blob names and opens it. The key
// must be in this region and Enabled; the version is the one recorded in the
// blob, so every old version keeps decrypting.
func (t *txn) openInRegion(blob []byte, ectx map[string]string) (*keyRecord, *keyVersion, []byte, error) {
	if len(blob) == 0 {
		return nil, nil, nil, errMissingParam("CiphertextBlob")
	}
	h, body, err := parseBlob(blob)
	if err != nil {
		return nil, nil, nil, err
	}
	k := t.rs.keys[h.keyID]
	if k == nil {
		if err := t.allow(Resource{KeyID: h.keyID}); err != nil {
			return nil, nil, nil, err
		}
		return nil, nil, nil, errKeyNotFound()
	}
	if err := t.allow(t.keyResource(k)); err != nil {
		return k, nil, nil, err // k names the refused key in the audit log
	}
	if err := t.requireUsable(k); err != nil {
		return k, nil, nil, err
	}
	v := k.version(h.versionID)
	if v == nil {
		return k, nil, nil, errKeyVersionNotFound()
	}
	pt, err := openBlob(v, h, body, ectx)
	if err != nil {
		return k, v, nil, err
	}
	return k, v, pt, nil
}

// Decrypt opens a blob; the blob names its key and version.
func (r *Regional) Decrypt(ctx context.Context, in DecryptInput) (DecryptOutput, error) {
	var out DecryptOutput
	err := r.do(ctx, "Decrypt", false, func(t *txn) error {
		k, v, pt, err := t.openInRegion(in.CiphertextBlob, in.EncryptionContext)
		if k != nil {
			t.keyID = k.id
		}
		if v != nil {
			t.versionID = v.id
		}
		if err != nil {
			return err
		}
		out = DecryptOutput{KeyId: k.id, KeyVersionId: v.id, Plaintext: pt}
		return nil
	})
	return out, err
}

// ReEncrypt opens a blob with its source context and seals the plaintext
// under the destination key's primary version and context. The plaintext
// never leaves the emulator.
func (r *Regional) ReEncrypt(ctx context.Context, in ReEncryptInput) (EncryptOutput, error) {
	var out EncryptOutput
	err := r.do(ctx, "ReEncrypt", false, func(t *txn) error {
		if in.DestinationKeyId == "" {
			return errMissingParam("DestinationKeyId")
		}
		sk, sv, pt, err := t.openInRegion(in.CiphertextBlob, in.SourceEncryptionContext)
		if sk != nil {
			t.srcKeyID = sk.id
		}
		if sv != nil {
			t.srcVersionID = sv.id
		}
		if err != nil {
			return err
		}
		defer clear(pt)
		dk, err := t.resolveFor(in.DestinationKeyId, "DestinationKeyId")
		if err != nil {
			return err
		}
		t.keyID = dk.id
		if err := t.requireUsable(dk); err != nil {
			return err
		}
		dv := dk.primaryVersion()
		t.versionID = dv.id
		blob, err := sealBlob(t.e.rand, dk.id, dv, pt, in.DestinationEncryptionContext)
		if err != nil {
			return err
		}
		out = EncryptOutput{KeyId: dk.id, KeyVersionId: dv.id, CiphertextBlob: blob}
		return nil
	})
	return out, err
}

// requireUsable is the data plane's state check: only Enabled keys encrypt
// and decrypt, unless the UseDisabledKey fault is on.
func (t *txn) requireUsable(k *keyRecord) error {
	if k.state == StateDisabled && t.e.faults.Has(faults.UseDisabledKey) {
		return nil
	}
	return requireEnabled(k)
}
