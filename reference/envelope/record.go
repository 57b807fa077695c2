package envelope

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Algorithms, as OSS names them in x-oss-server-side-encryption.
const (
	AlgorithmAES256 = "AES256" // SSE-OSS: OSS-managed master keys
	AlgorithmKMS    = "KMS"    // SSE-KMS: a KMS customer master key
)

// RecordFormat is the only metadata format version this package writes.
const RecordFormat = 1

// Cipher names the data format the record's object is stored in.
const Cipher = "AES-256-GCM-STREAM-v1"

const commitmentSize = 32

// ErrMalformedRecord reports object encryption metadata that is missing a
// field, has an unknown field or value, or does not parse. An object with
// such a record must never be served as plaintext.
var ErrMalformedRecord = errors.New("envelope: malformed encryption record")

// Record is the encryption metadata stored with an encrypted object.
type Record struct {
	Format     int    `json:"format"`
	Algorithm  string `json:"algorithm"`
	Cipher     string `json:"cipher"`
	KeyID      string `json:"key_id,omitempty"` // the CMK id (KMS only)
	KeyVersion string `json:"key_version"`      // master key version, or KMS KeyVersionId
	SealedKey  []byte `json:"sealed_key"`
	Commitment []byte `json:"commitment"`
	UploadID   string `json:"upload_id,omitempty"`
	VersionID  string `json:"version_id,omitempty"`
}

// Marshal encodes r after validating it.
func (r Record) Marshal() ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// ParseRecord decodes a record strictly: unknown fields, trailing data,
// missing or ill-sized fields and unknown values are all ErrMalformedRecord.
func ParseRecord(data []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrMalformedRecord, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, fmt.Errorf("%w: trailing data", ErrMalformedRecord)
	}
	if err := r.validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

func (r Record) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformedRecord, fmt.Sprintf(format, a...))
	}
	switch {
	case r.Format != RecordFormat:
		return bad("format %d, want %d", r.Format, RecordFormat)
	case r.Cipher != Cipher:
		return bad("cipher %q, want %q", r.Cipher, Cipher)
	case len(r.SealedKey) == 0:
		return bad("no sealed key")
	case len(r.Commitment) != commitmentSize:
		return bad("commitment is %d bytes, want %d", len(r.Commitment), commitmentSize)
	case r.KeyVersion == "":
		return bad("no key version")
	}
	switch r.Algorithm {
	case AlgorithmAES256:
		if r.KeyID != "" {
			return bad("key id %q with algorithm AES256", r.KeyID)
		}
		if v, err := strconv.ParseUint(r.KeyVersion, 10, 32); err != nil || v == 0 {
			return bad("master key version %q is not a positive integer", r.KeyVersion)
		}
	case AlgorithmKMS:
		if r.KeyID == "" {
			return bad("algorithm KMS without a key id")
		}
	case AlgorithmSSEC:
		if r.KeyID != "" {
			return bad("key id %q with algorithm SSE-C", r.KeyID)
		}
		if r.KeyVersion != customerKeyVersion {
			return bad("SSE-C key version %q, want %q", r.KeyVersion, customerKeyVersion)
		}
		if len(r.SealedKey) != ssecSealedSize {
			return bad("sealed SSE-C key is %d bytes, want %d", len(r.SealedKey), ssecSealedSize)
		}
	default:
		return bad("algorithm %q", r.Algorithm)
	}
	return nil
}

// Identity names what an encrypted stream or sealed key belongs to.
type Identity struct {
	Bucket    string
	Object    string
	UploadID  string // multipart uploads
	VersionID string // versioned buckets
}

// Binding is the canonical, unambiguous encoding of id: a label, then every
// field as a uint32 big-endian length followed by its bytes.
func (id Identity) Binding() []byte {
	var b []byte
	b = append(b, "sseaudit/object/v1"...)
	for _, f := range []string{id.Bucket, id.Object, id.UploadID, id.VersionID} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// streamIdentity adds the part number (0 for a single-stream object).
func (id Identity) streamIdentity(part int) []byte {
	return binary.BigEndian.AppendUint32(id.Binding(), uint32(part))
}

// kmsContext is the EncryptionContext sent to KMS for id.
func (id Identity) kmsContext() map[string]string {
	c := map[string]string{"acs:oss:bucket": id.Bucket, "acs:oss:object": id.Object}
	if id.UploadID != "" {
		c["acs:oss:upload-id"] = id.UploadID
	}
	if id.VersionID != "" {
		c["acs:oss:version-id"] = id.VersionID
	}
	return c
}
