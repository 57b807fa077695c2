package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// AlgorithmSSEC is server-side encryption with a customer-provided key:
// the data key is sealed under a key the client sends with every request
// and the server never stores (see the package documentation).
const AlgorithmSSEC = "SSE-C"

// CustomerKeySize is the size of an SSE-C key (AES-256).
const CustomerKeySize = 32

// customerKeyVersion is the KeyVersion of every SSE-C record: there is no
// key version to name, and the record format requires a non-empty one.
const customerKeyVersion = "customer"

// Sealed SSE-C key layout: format byte, HKDF salt, GCM nonce, sealed data
// key with its tag.
const (
	ssecSealedFormat = 1
	ssecSaltSize     = 32
	ssecNonceSize    = 12
	ssecSealedSize   = 1 + ssecSaltSize + ssecNonceSize + 32 + 16
)

var ssecWrapInfo = []byte("sseaudit/envelope/v1/sse-c-wrap")

var (
	// ErrCustomerKeyRequired reports an SSE-C record opened without a
	// customer key.
	ErrCustomerKeyRequired = errors.New("envelope: the object is encrypted with a customer-provided key, which the request did not provide")
	// ErrCustomerKeyMismatch reports a customer key that does not open the
	// sealed data key (a wrong key; a tampered record fails the same way).
	ErrCustomerKeyMismatch = errors.New("envelope: the customer-provided key does not match the object's")
)

// customerAEAD derives the wrapping AEAD of one sealed key from the
// customer key and that key's random salt, so no two objects share a
// GCM key even when a client uses one customer key for all of them.
func customerAEAD(customerKey, salt []byte) (cipher.AEAD, error) {
	if len(customerKey) != CustomerKeySize {
		return nil, fmt.Errorf("%w: a customer key must be %d bytes, got %d", ErrUnsupported, CustomerKeySize, len(customerKey))
	}
	sub, err := hkdf.Key(sha256.New, customerKey, salt, string(ssecWrapInfo), 32)
	if err != nil {
		return nil, fmt.Errorf("derive customer wrap key: %w", err)
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealCustomer seals dataKey under customerKey, bound to binding.
func sealCustomer(rnd io.Reader, customerKey, dataKey, binding []byte) ([]byte, error) {
	out := make([]byte, 1+ssecSaltSize+ssecNonceSize, ssecSealedSize)
	out[0] = ssecSealedFormat
	if _, err := io.ReadFull(rnd, out[1:]); err != nil {
		return nil, fmt.Errorf("seal data key: read random: %w", err)
	}
	g, err := customerAEAD(customerKey, out[1:1+ssecSaltSize])
	if err != nil {
		return nil, err
	}
	aad := append(append([]byte(nil), out[0]), binding...)
	return g.Seal(out, out[1+ssecSaltSize:], dataKey, aad), nil
}

// openCustomer opens a key sealCustomer sealed. Any failure of the GCM
// tag is ErrCustomerKeyMismatch: a wrong key and an altered sealed key
// cannot be told apart, and the record MAC of the object store catches
// the second first.
func openCustomer(customerKey, sealed, binding []byte) ([]byte, error) {
	if len(sealed) != ssecSealedSize || sealed[0] != ssecSealedFormat {
		return nil, fmt.Errorf("%w: sealed SSE-C key of %d bytes", ErrMalformedRecord, len(sealed))
	}
	g, err := customerAEAD(customerKey, sealed[1:1+ssecSaltSize])
	if err != nil {
		return nil, err
	}
	nonce := sealed[1+ssecSaltSize : 1+ssecSaltSize+ssecNonceSize]
	aad := append(append([]byte(nil), sealed[0]), binding...)
	key, err := g.Open(nil, nonce, sealed[1+ssecSaltSize+ssecNonceSize:], aad)
	if err != nil {
		return nil, ErrCustomerKeyMismatch
	}
	return key, nil
}

// OpenCustomerDataKey unseals the data key of an SSE-C object with the
// customer key the request carried. A record of another algorithm is
// ErrUnsupported (the caller checks the algorithm first).
func (e *Envelope) OpenCustomerDataKey(rec Record, customerKey []byte, bucket, object string) (*DataKey, error) {
	if err := rec.validate(); err != nil {
		return nil, err
	}
	if rec.Algorithm != AlgorithmSSEC {
		return nil, fmt.Errorf("%w: a customer key for a %s record", ErrUnsupported, rec.Algorithm)
	}
	if len(customerKey) == 0 {
		return nil, ErrCustomerKeyRequired
	}
	id := Identity{Bucket: bucket, Object: object, UploadID: rec.UploadID, VersionID: rec.VersionID}
	key, err := openCustomer(customerKey, rec.SealedKey, id.Binding())
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(commitment(key, id), rec.Commitment) {
		clear(key)
		return nil, ErrCommitment
	}
	return &DataKey{key: key, id: id}, nil
}
