package objstore

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/minio/crc64nvme"
	"github.com/zeebo/xxh3"
)

// Checksum algorithms, spelled as S3's x-amz-checksum-algorithm spells
// them. Only these are computed; the front ends refuse any other.
const (
	ChecksumCRC32     = "CRC32"
	ChecksumCRC32C    = "CRC32C"
	ChecksumCRC64NVME = "CRC64NVME"
	ChecksumSHA1      = "SHA1"
	ChecksumSHA256    = "SHA256"
	ChecksumMD5       = "MD5"
	ChecksumSHA512    = "SHA512"
	ChecksumXXHash64  = "XXHASH64"
	ChecksumXXHash3   = "XXHASH3"
	ChecksumXXHash128 = "XXHASH128"
)

// Checksum types. A single-part object's checksum is always FULL_OBJECT; a
// multipart object's is COMPOSITE (the checksum of the concatenated raw
// part checksums, reported with a "-N" suffix) or, for the CRCs only,
// FULL_OBJECT (the CRC of the whole content, combined from the parts').
const (
	ChecksumFullObject = "FULL_OBJECT"
	ChecksumComposite  = "COMPOSITE"
)

// DefaultChecksumAlgorithm is computed for every write that names no
// algorithm, as S3 has done for every new object since December 2024, so
// a later copy or GET can always report one.
const DefaultChecksumAlgorithm = ChecksumCRC64NVME

// crc64NVMEPoly is the reflected CRC-64/NVME polynomial (0xad93d23594c93659
// bit-reversed), the table form Go's hash/crc64 takes.
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

type checksumAlgo struct {
	name    string
	size    int
	newHash func() hash.Hash
	// crcPoly and crcBits describe a reflected CRC with all-ones initial
	// value and final XOR, whose values of adjacent data combine without
	// the data (crcCombine); crcBits is 0 for the cryptographic hashes.
	crcPoly uint64
	crcBits int
}

var checksumAlgos = []checksumAlgo{
	{ChecksumCRC32, 4, func() hash.Hash { return crc32.NewIEEE() }, crc32.IEEE, 32},
	{ChecksumCRC32C, 4, func() hash.Hash { return crc32.New(crc32cTable) }, crc32.Castagnoli, 32},
	// crc64nvme has a carry-less-multiply implementation, about 7x Go's
	// table-driven crc64 here; it runs on every write (the default).
	{ChecksumCRC64NVME, 8, func() hash.Hash { return crc64nvme.New() }, crc64NVMEPoly, 64},
	{ChecksumSHA1, sha1.Size, sha1.New, 0, 0},
	{ChecksumSHA256, sha256.Size, sha256.New, 0, 0},
	{ChecksumMD5, md5.Size, md5.New, 0, 0},
	{ChecksumSHA512, sha512.Size, sha512.New, 0, 0},
	{ChecksumXXHash64, 8, func() hash.Hash { return xxhash.New() }, 0, 0},
	{ChecksumXXHash3, 8, func() hash.Hash { return xxh3.New() }, 0, 0},
	{ChecksumXXHash128, 16, func() hash.Hash { return xxh3.New128() }, 0, 0},
}

func lookupChecksum(name string) (checksumAlgo, bool) {
	for _, a := range checksumAlgos {
		if a.name == name {
			return a, true
		}
	}
	return checksumAlgo{}, false
}

// ChecksumAlgorithms lists the supported algorithms.
func ChecksumAlgorithms() []string {
	out := make([]string, len(checksumAlgos))
	for i, a := range checksumAlgos {
		out[i] = a.name
	}
	return out
}

// CanonicalChecksumAlgorithm returns the spelling of a supported
// algorithm name given in any case, and false for an unsupported one.
func CanonicalChecksumAlgorithm(name string) (string, bool) {
	a, ok := lookupChecksum(strings.ToUpper(strings.TrimSpace(name)))
	return a.name, ok
}

// ChecksumSize is the raw digest length of a supported algorithm (0 for
// an unsupported one).
func ChecksumSize(alg string) int {
	a, _ := lookupChecksum(alg)
	return a.size
}

// NewChecksumHash returns a hash computing alg, nil for an unsupported one.
func NewChecksumHash(alg string) hash.Hash {
	a, ok := lookupChecksum(alg)
	if !ok {
		return nil
	}
	return a.newHash()
}

// checksumTypeAllowed reports whether a multipart upload may use typ with
// alg: FULL_OBJECT needs a combinable CRC, and CRC64NVME has no composite
// form (as on S3).
func checksumTypeAllowed(alg, typ string) bool {
	a, ok := lookupChecksum(alg)
	if !ok {
		return false
	}
	switch typ {
	case ChecksumFullObject:
		return a.crcBits != 0
	case ChecksumComposite:
		return alg != ChecksumCRC64NVME
	}
	return false
}

// defaultChecksumType is the type of an upload that names an algorithm but
// no type: COMPOSITE, except for CRC64NVME which only has FULL_OBJECT.
func defaultChecksumType(alg string) string {
	if alg == ChecksumCRC64NVME {
		return ChecksumFullObject
	}
	return ChecksumComposite
}

// Checksum is an object's or a part's checksum.
type Checksum struct {
	Algorithm string // one of the Checksum* algorithms; "" = none
	Type      string // ChecksumFullObject or ChecksumComposite ("" in requests: unspecified)
	Value     []byte // raw digest
	// Parts is the number of parts a composite checksum covers (its "-N"
	// suffix); 0 otherwise, and in a request when no suffix was given.
	Parts int
}

// IsSet reports whether c holds a checksum.
func (c Checksum) IsSet() bool { return c.Algorithm != "" && len(c.Value) > 0 }

// Base64 is the standard base64 encoding of the digest alone.
func (c Checksum) Base64() string { return base64.StdEncoding.EncodeToString(c.Value) }

// Encoded is the wire form S3 uses in x-amz-checksum-* headers and
// Checksum* elements: base64 of the digest, with "-N" for a composite.
func (c Checksum) Encoded() string {
	if c.Type == ChecksumComposite && c.Parts > 0 {
		return c.Base64() + "-" + strconv.Itoa(c.Parts)
	}
	return c.Base64()
}

// ParseChecksumValue decodes the wire form of a checksum of alg: base64 of
// a digest of the algorithm's size, optionally followed by "-N" (a
// composite over N parts) when allowSuffix.
func ParseChecksumValue(alg, v string, allowSuffix bool) (Checksum, bool) {
	a, ok := lookupChecksum(alg)
	if !ok {
		return Checksum{}, false
	}
	v = strings.TrimSpace(v)
	parts := 0
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		if !allowSuffix {
			return Checksum{}, false
		}
		n, err := strconv.Atoi(v[i+1:])
		if err != nil || n < 1 || n > MaxPartNumber {
			return Checksum{}, false
		}
		v, parts = v[:i], n
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) != a.size {
		return Checksum{}, false
	}
	return Checksum{Algorithm: a.name, Value: raw, Parts: parts}, true
}

func checksumEqual(a, b []byte) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}

// checksumRecord is the stored form of a Checksum.
type checksumRecord struct {
	Algorithm string `json:"algorithm"`
	Type      string `json:"type"`
	Value     []byte `json:"value"`
	Parts     int    `json:"parts,omitempty"`
}

func (c *checksumRecord) checksum() Checksum {
	if c == nil {
		return Checksum{}
	}
	return Checksum{Algorithm: c.Algorithm, Type: c.Type, Value: c.Value, Parts: c.Parts}
}

// compositeChecksum is S3's COMPOSITE multipart checksum: the checksum of
// the concatenated raw part checksums.
func compositeChecksum(alg string, parts [][]byte) ([]byte, bool) {
	h := NewChecksumHash(alg)
	if h == nil {
		return nil, false
	}
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil), true
}

// fullObjectCRC combines the part CRCs of alg (big-endian raw values, as
// S3 encodes them) into the CRC of the concatenated parts.
func fullObjectCRC(alg string, parts [][]byte, sizes []int64) ([]byte, bool) {
	a, ok := lookupChecksum(alg)
	if !ok || a.crcBits == 0 || len(parts) == 0 || len(parts) != len(sizes) {
		return nil, false
	}
	get := func(b []byte) (uint64, bool) {
		if len(b) != a.size {
			return 0, false
		}
		if a.crcBits == 32 {
			return uint64(binary.BigEndian.Uint32(b)), true
		}
		return binary.BigEndian.Uint64(b), true
	}
	crc, ok := get(parts[0])
	if !ok {
		return nil, false
	}
	for i := 1; i < len(parts); i++ {
		c, ok := get(parts[i])
		if !ok {
			return nil, false
		}
		crc = crcCombine(a.crcPoly, a.crcBits, crc, c, sizes[i])
	}
	out := make([]byte, a.size)
	if a.crcBits == 32 {
		binary.BigEndian.PutUint32(out, uint32(crc))
	} else {
		binary.BigEndian.PutUint64(out, crc)
	}
	return out, true
}
