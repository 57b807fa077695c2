package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"slices"
)

// Sizes of the data plane.
const (
	// MaxEncryptPlaintext is the largest Plaintext Encrypt accepts (6 KiB).
	MaxEncryptPlaintext = 6 * 1024
	// MaxNumberOfBytes is the largest data key GenerateDataKey returns.
	MaxNumberOfBytes = 1024
	// DefaultDataKeyBytes is the data key size when neither KeySpec nor
	// NumberOfBytes is given.
	DefaultDataKeyBytes = 32

	materialSize = 32
)

// Ciphertext blob, format 1 (see doc.go):
//
//	magic "KEB1" | 0x01 | len(KeyId) u8 | KeyId | len(KeyVersionId) u8 | KeyVersionId |
//	salt(32) | nonce(12) | AES-256-GCM ciphertext | tag(16)
const (
	blobMagic    = "KEB1"
	blobVersion  = 0x01
	blobSaltSize = 32
	blobNonce    = 12
	blobTag      = 16
	guidLen      = 36
	wrapInfo     = "sseaudit/kms/v1/wrap"
	// blobHeaderLen is the header length for 36-character ids, the only
	// ids the emulator issues and the only ones the parser accepts.
	blobHeaderLen = len(blobMagic) + 1 + 1 + guidLen + 1 + guidLen + blobSaltSize + blobNonce
	// maxBlobLen bounds what Decrypt will even try to open: the largest
	// plaintext any operation seals is MaxEncryptPlaintext.
	maxBlobLen = blobHeaderLen + MaxEncryptPlaintext + blobTag
)

// blobHeader is a parsed blob header. raw aliases the blob's header bytes.
type blobHeader struct {
	keyID, versionID string
	salt, nonce      []byte
	raw              []byte
}

// parseBlob parses a ciphertext blob strictly. Every failure is the single
// invalid-ciphertext *Error; it never panics on any input.
func parseBlob(blob []byte) (blobHeader, []byte, error) {
	var h blobHeader
	if len(blob) < blobHeaderLen+blobTag || len(blob) > maxBlobLen {
		return h, nil, errInvalidCiphertext()
	}
	if string(blob[:4]) != blobMagic || blob[4] != blobVersion {
		return h, nil, errInvalidCiphertext()
	}
	p := 5
	readID := func() (string, bool) {
		n := int(blob[p])
		p++
		if n != guidLen {
			return "", false
		}
		id := string(blob[p : p+n])
		p += n
		return id, validGUID(id)
	}
	var ok bool
	if h.keyID, ok = readID(); !ok {
		return h, nil, errInvalidCiphertext()
	}
	if h.versionID, ok = readID(); !ok {
		return h, nil, errInvalidCiphertext()
	}
	h.salt = blob[p : p+blobSaltSize]
	p += blobSaltSize
	h.nonce = blob[p : p+blobNonce]
	p += blobNonce
	h.raw = blob[:p:p]
	return h, blob[p:], nil
}

// wrapAEAD derives the one-blob wrapping key.
//
// Why a per-blob HKDF subkey: with 96-bit random nonces NIST SP 800-38D
// (§8.3) allows at most 2^32 encryptions under one AES-GCM key before the
// nonce-collision probability becomes unacceptable, and a nonce collision
// under GCM leaks the XOR of plaintexts and the authentication key. A KMS
// key version is long-lived and wraps one data key per object PUT, so it can
// plausibly exceed 2^32 uses. Deriving wrapKey = HKDF(material, salt) with a
// fresh 256-bit salt per blob means every GCM key encrypts exactly one
// message; the only remaining bound is a salt collision, at about 2^128
// blobs.
func wrapAEAD(material, salt []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, material, salt, wrapInfo, 32)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// sealBlob encrypts plaintext under one key version, binding the header and
// the encryption context as associated data.
func sealBlob(rnd io.Reader, keyID string, v *keyVersion, plaintext []byte, ectx map[string]string) ([]byte, error) {
	canon, err := canonicalContext(ectx)
	if err != nil {
		return nil, err
	}
	if len(keyID) != guidLen || len(v.id) != guidLen {
		return nil, errInternal("malformed key identifier")
	}
	out := make([]byte, 0, blobHeaderLen+len(plaintext)+blobTag)
	out = append(out, blobMagic...)
	out = append(out, blobVersion, byte(len(keyID)))
	out = append(out, keyID...)
	out = append(out, byte(len(v.id)))
	out = append(out, v.id...)
	rndStart := len(out)
	out = out[:rndStart+blobSaltSize+blobNonce]
	if _, err := io.ReadFull(rnd, out[rndStart:]); err != nil {
		return nil, errInternal("random source failed")
	}
	salt := out[rndStart : rndStart+blobSaltSize]
	nonce := out[rndStart+blobSaltSize:]
	g, err := wrapAEAD(v.material, salt)
	if err != nil {
		return nil, errInternal("cipher setup failed")
	}
	aad := make([]byte, 0, len(out)+len(canon))
	aad = append(append(aad, out...), canon...)
	return g.Seal(out, nonce, plaintext, aad), nil
}

// openBlob authenticates and decrypts a parsed blob under version v.
func openBlob(v *keyVersion, h blobHeader, body []byte, ectx map[string]string) ([]byte, error) {
	canon, err := canonicalContext(ectx)
	if err != nil {
		return nil, err
	}
	g, err := wrapAEAD(v.material, h.salt)
	if err != nil {
		return nil, errInvalidCiphertext()
	}
	aad := make([]byte, 0, len(h.raw)+len(canon))
	aad = append(append(aad, h.raw...), canon...)
	pt, err := g.Open(nil, h.nonce, body, aad)
	if err != nil {
		return nil, errInvalidCiphertext()
	}
	return pt, nil
}

// canonicalContext encodes an EncryptionContext unambiguously:
//
//	BE32(pair count) || for each pair in ascending byte order of key:
//	    BE32(len(key)) || key || BE32(len(value)) || value
//
// A nil and an empty map encode identically (no context). Because every
// string is length-prefixed, no two different maps share an encoding
// ({"ab":"c"} vs {"a":"bc"}, {"a":"b","c":"d"} vs {"a":"bc=d"} and so on).
func canonicalContext(ectx map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(ectx))
	size := 4
	for k, v := range ectx {
		if uint64(len(k)) > math.MaxUint32 || uint64(len(v)) > math.MaxUint32 {
			return nil, errInvalidParam("EncryptionContext", "An entry is too long.")
		}
		keys = append(keys, k)
		size += 8 + len(k) + len(v)
	}
	slices.Sort(keys)
	out := make([]byte, 0, size)
	out = binary.BigEndian.AppendUint32(out, uint32(len(keys)))
	for _, k := range keys {
		v := ectx[k]
		out = binary.BigEndian.AppendUint32(out, uint32(len(k)))
		out = append(out, k...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(v)))
		out = append(out, v...)
	}
	return out, nil
}

// newGUID returns a random (version 4) GUID in lowercase, 36 characters.
func newGUID(rnd io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:]), nil
}

// validGUID reports whether s is a 36-character lowercase GUID.
func validGUID(s string) bool {
	if len(s) != guidLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// materialAAD binds sealed key material to its region, key and version so
// a sealed blob moved to another key or version in the keystore file does
// not open.
func materialAAD(region, keyID, versionID string) []byte {
	var out []byte
	for _, s := range []string{"sseaudit/kms/v1/material", region, keyID, versionID} {
		out = binary.BigEndian.AppendUint32(out, uint32(len(s)))
		out = append(out, s...)
	}
	return out
}

const materialPurpose = "kms/key-version/v1"

// newVersion creates a fresh key version for k, makes it primary and marks
// the transaction dirty. Only call it under the write lock.
func (t *txn) newVersion(k *keyRecord) (*keyVersion, error) {
	id, err := t.e.newUniqueVersionID(k)
	if err != nil {
		return nil, errInternal("random source failed")
	}
	material := make([]byte, materialSize)
	if _, err := io.ReadFull(t.e.rand, material); err != nil {
		return nil, errInternal("random source failed")
	}
	v := &keyVersion{id: id, created: t.now, material: material}
	if t.e.root != nil && t.e.path != "" {
		v.sealed, err = t.e.root.Seal(materialPurpose, material, materialAAD(t.region, k.id, id))
		if err != nil {
			return nil, errInternal("sealing key material failed")
		}
	}
	k.versions = append(k.versions, v)
	k.primary = id
	t.dirty = true
	return v, nil
}

func (e *Emulator) newUniqueVersionID(k *keyRecord) (string, error) {
	for range 8 {
		id, err := newGUID(e.rand)
		if err != nil {
			return "", err
		}
		if k.version(id) == nil {
			return id, nil
		}
	}
	return "", fmt.Errorf("kms: could not draw a unique version id")
}

func (e *Emulator) newUniqueKeyID() (string, error) {
	for range 8 {
		id, err := newGUID(e.rand)
		if err != nil {
			return "", err
		}
		if !e.st.keyExists(id) {
			return id, nil
		}
	}
	return "", fmt.Errorf("kms: could not draw a unique key id")
}
