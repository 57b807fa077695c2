package envelope

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/masterkey"
	"github.com/sseaudit/sseaudit/reference/stream"
)

// KMS is the part of the KMS API the envelope needs, for one region.
type KMS interface {
	GenerateDataKey(ctx context.Context, in kms.GenerateDataKeyInput) (kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in kms.DecryptInput) (kms.DecryptOutput, error)
	ReEncrypt(ctx context.Context, in kms.ReEncryptInput) (kms.EncryptOutput, error)
}

// Config wires an Envelope to its key sources.
type Config struct {
	Master *masterkey.Keyring // required for SSE-OSS
	// KMS returns the KMS of a region; required for SSE-KMS.
	KMS  func(region string) KMS
	Rand io.Reader // default crypto/rand
}

// Envelope creates and opens per-object data keys. It is safe for
// concurrent use.
type Envelope struct {
	cfg Config
}

// New returns an Envelope.
func New(cfg Config) *Envelope {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Envelope{cfg: cfg}
}

// Spec says how to encrypt a new object.
type Spec struct {
	Algorithm string // AlgorithmAES256 or AlgorithmKMS
	// KMSKeyID is the CMK (id, alias or ARN); "" means the OSS default
	// key alias/acs/oss. Only with AlgorithmKMS.
	KMSKeyID string
	Region   string // the bucket's region, for KMS
	// CustomerKey is the 32-byte key of an AlgorithmSSEC write. It seals
	// the data key and is never kept: the Record holds no trace of it
	// beyond the sealed key it opens.
	CustomerKey []byte
}

var (
	// ErrCommitment reports a data key that does not match the record's
	// commitment: the sealed key was substituted or the record was moved.
	ErrCommitment = errors.New("envelope: data key does not match the record's key commitment")
	// ErrUnsupported reports an algorithm this envelope cannot serve.
	ErrUnsupported = errors.New("envelope: unsupported encryption algorithm")
)

// DataKey is an unsealed per-object data key. Call Destroy when done.
type DataKey struct {
	key []byte
	id  Identity
}

func commitment(key []byte, id Identity) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sseaudit/envelope/v1/commit"))
	m.Write(id.Binding())
	return m.Sum(nil)
}

// NewDataKey creates the data key for a new object (or multipart upload)
// and the record to store with it.
func (e *Envelope) NewDataKey(ctx context.Context, spec Spec, id Identity) (*DataKey, Record, error) {
	rec := Record{Format: RecordFormat, Algorithm: spec.Algorithm, Cipher: Cipher, UploadID: id.UploadID, VersionID: id.VersionID}
	var key []byte
	switch spec.Algorithm {
	case AlgorithmAES256:
		if spec.KMSKeyID != "" {
			return nil, Record{}, fmt.Errorf("%w: a KMS key id with AES256", ErrUnsupported)
		}
		if e.cfg.Master == nil {
			return nil, Record{}, fmt.Errorf("%w: no master keyring configured", ErrUnsupported)
		}
		key = make([]byte, 32)
		if _, err := io.ReadFull(e.cfg.Rand, key); err != nil {
			return nil, Record{}, fmt.Errorf("generate data key: %w", err)
		}
		v, sealed, err := e.cfg.Master.Seal(ctx, key, id.Binding())
		if err != nil {
			return nil, Record{}, fmt.Errorf("seal data key: %w", err)
		}
		rec.KeyVersion, rec.SealedKey = strconv.FormatUint(uint64(v), 10), sealed
	case AlgorithmKMS:
		if e.cfg.KMS == nil {
			return nil, Record{}, fmt.Errorf("%w: no KMS configured", ErrUnsupported)
		}
		cmk := spec.KMSKeyID
		if cmk == "" {
			cmk = kms.ServiceKeyAliasOSS
		}
		out, err := e.cfg.KMS(spec.Region).GenerateDataKey(ctx, kms.GenerateDataKeyInput{
			KeyId: cmk, KeySpec: kms.DataKeySpecAES256, EncryptionContext: id.kmsContext(),
		})
		if err != nil {
			return nil, Record{}, fmt.Errorf("generate data key with KMS key %s: %w", cmk, err)
		}
		if len(out.Plaintext) != 32 {
			return nil, Record{}, fmt.Errorf("generate data key: KMS returned %d bytes, want 32", len(out.Plaintext))
		}
		key = out.Plaintext
		rec.KeyID, rec.KeyVersion, rec.SealedKey = out.KeyId, out.KeyVersionId, out.CiphertextBlob
	case AlgorithmSSEC:
		if spec.KMSKeyID != "" {
			return nil, Record{}, fmt.Errorf("%w: a KMS key id with SSE-C", ErrUnsupported)
		}
		if len(spec.CustomerKey) != CustomerKeySize {
			return nil, Record{}, fmt.Errorf("%w: a customer key must be %d bytes, got %d", ErrUnsupported, CustomerKeySize, len(spec.CustomerKey))
		}
		key = make([]byte, 32)
		if _, err := io.ReadFull(e.cfg.Rand, key); err != nil {
			return nil, Record{}, fmt.Errorf("generate data key: %w", err)
		}
		sealed, err := sealCustomer(e.cfg.Rand, spec.CustomerKey, key, id.Binding())
		if err != nil {
			clear(key)
			return nil, Record{}, err
		}
		rec.KeyVersion, rec.SealedKey = customerKeyVersion, sealed
	default:
		return nil, Record{}, fmt.Errorf("%w: %q", ErrUnsupported, spec.Algorithm)
	}
	rec.Commitment = commitment(key, id)
	if err := rec.validate(); err != nil {
		clear(key)
		return nil, Record{}, err
	}
	return &DataKey{key: key, id: id}, rec, nil
}

// OpenDataKey unseals the data key of a stored object named bucket/object.
// The record's upload and version ids complete the identity.
func (e *Envelope) OpenDataKey(ctx context.Context, rec Record, region, bucket, object string) (*DataKey, error) {
	if err := rec.validate(); err != nil {
		return nil, err
	}
	id := Identity{Bucket: bucket, Object: object, UploadID: rec.UploadID, VersionID: rec.VersionID}
	var key []byte
	switch rec.Algorithm {
	case AlgorithmAES256:
		if e.cfg.Master == nil {
			return nil, fmt.Errorf("%w: no master keyring configured", ErrUnsupported)
		}
		k, err := e.cfg.Master.Unseal(ctx, rec.SealedKey, id.Binding())
		if err != nil {
			return nil, fmt.Errorf("unseal data key: %w", err)
		}
		key = k
	case AlgorithmKMS:
		if e.cfg.KMS == nil {
			return nil, fmt.Errorf("%w: no KMS configured", ErrUnsupported)
		}
		out, err := e.cfg.KMS(region).Decrypt(ctx, kms.DecryptInput{CiphertextBlob: rec.SealedKey, EncryptionContext: id.kmsContext()})
		if err != nil {
			return nil, fmt.Errorf("decrypt data key with KMS: %w", err)
		}
		if out.KeyId != rec.KeyID {
			clear(out.Plaintext)
			return nil, fmt.Errorf("%w: sealed key belongs to KMS key %s, record names %s", ErrCommitment, out.KeyId, rec.KeyID)
		}
		key = out.Plaintext
	case AlgorithmSSEC:
		return nil, ErrCustomerKeyRequired
	}
	if !hmac.Equal(commitment(key, id), rec.Commitment) {
		clear(key)
		return nil, ErrCommitment
	}
	return &DataKey{key: key, id: id}, nil
}

// Rewrap re-seals the object's data key under the newest master key
// version (SSE-OSS) or the CMK's primary version (SSE-KMS) without reading
// or changing the object data. The returned record replaces rec.
func (e *Envelope) Rewrap(ctx context.Context, rec Record, region, bucket, object string) (Record, error) {
	if err := rec.validate(); err != nil {
		return Record{}, err
	}
	id := Identity{Bucket: bucket, Object: object, UploadID: rec.UploadID, VersionID: rec.VersionID}
	out := rec
	switch rec.Algorithm {
	case AlgorithmAES256:
		if e.cfg.Master == nil {
			return Record{}, fmt.Errorf("%w: no master keyring configured", ErrUnsupported)
		}
		v, sealed, err := e.cfg.Master.Rewrap(ctx, rec.SealedKey, id.Binding())
		if err != nil {
			return Record{}, err
		}
		out.KeyVersion, out.SealedKey = strconv.FormatUint(uint64(v), 10), sealed
	case AlgorithmKMS:
		if e.cfg.KMS == nil {
			return Record{}, fmt.Errorf("%w: no KMS configured", ErrUnsupported)
		}
		ctxMap := id.kmsContext()
		res, err := e.cfg.KMS(region).ReEncrypt(ctx, kms.ReEncryptInput{
			CiphertextBlob: rec.SealedKey, SourceEncryptionContext: ctxMap,
			DestinationKeyId: rec.KeyID, DestinationEncryptionContext: ctxMap,
		})
		if err != nil {
			return Record{}, fmt.Errorf("rewrap with KMS: %w", err)
		}
		out.KeyID, out.KeyVersion, out.SealedKey = res.KeyId, res.KeyVersionId, res.CiphertextBlob
	case AlgorithmSSEC:
		// Sealed under the customer's key, which the server does not
		// have: there is nothing it could rewrap.
		return rec, nil
	}
	return out, nil
}

// Destroy overwrites the key bytes.
func (k *DataKey) Destroy() { clear(k.key) }

// checkPart refuses part numbers the stream identity cannot encode: it
// holds the part as a uint32, so a wrapped value would alias another part.
func checkPart(part int) error {
	if part < 0 || uint64(part) > math.MaxUint32 {
		return fmt.Errorf("envelope: part number %d is outside 0..%d", part, uint64(math.MaxUint32))
	}
	return nil
}

// Encrypt returns a writer that encrypts part (0 for a single-part object)
// into w. The caller must Close it to write the final chunk.
func (k *DataKey) Encrypt(w io.Writer, part int, opts ...stream.Option) (*stream.Writer, error) {
	if err := checkPart(part); err != nil {
		return nil, err
	}
	return stream.NewWriter(w, k.key, k.id.streamIdentity(part), opts...)
}

// Decrypt returns a reader of part's plaintext from its ciphertext r.
func (k *DataKey) Decrypt(r io.Reader, part int) (*stream.Reader, error) {
	if err := checkPart(part); err != nil {
		return nil, err
	}
	return stream.NewReader(r, k.key, k.id.streamIdentity(part))
}

// DecryptRange returns the plaintext bytes [off, off+length) of part,
// reading only the chunks that hold them from r (encSize bytes long).
func (k *DataKey) DecryptRange(r io.ReaderAt, encSize int64, part int, off, length int64) (io.Reader, error) {
	if err := checkPart(part); err != nil {
		return nil, err
	}
	return stream.NewRangeReader(r, encSize, k.key, k.id.streamIdentity(part), off, length)
}
