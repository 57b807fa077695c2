package client

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/crc32"
	"net/http"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7"
	"github.com/zeebo/xxh3"
)

// S3 additional-checksum types (x-amz-checksum-type).
const (
	ChecksumFullObject = "FULL_OBJECT"
	ChecksumComposite  = "COMPOSITE"
)

// Checksum is an object's S3 additional checksum, as HEAD answers it with
// x-amz-checksum-mode: ENABLED. OSS has none (its CRC-64 is
// x-oss-hash-crc64ecma, on every HEAD).
type Checksum struct {
	// Algorithm as x-amz-checksum-algorithm spells it (CRC32, CRC32C,
	// CRC64NVME, SHA1, SHA256, ...); "" when the object carries none.
	Algorithm string `json:"algorithm"`
	// Type is FULL_OBJECT (a digest of the whole content) or COMPOSITE (a
	// digest of a multipart object's part digests).
	Type string `json:"type,omitempty"`
	// Value is the base64 digest as answered, a composite with "-N".
	Value string `json:"value"`
}

// IsZero reports whether c holds no checksum.
func (c Checksum) IsZero() bool { return c.Algorithm == "" }

// FullObject reports whether c is a digest of the whole content, which a
// copy of the same content in the same algorithm reproduces exactly.
func (c Checksum) FullObject() bool { return !c.IsZero() && c.Type != ChecksumComposite }

func (c Checksum) String() string {
	if c.IsZero() {
		return "none"
	}
	return fmt.Sprintf("%s %s %s", c.Algorithm, c.Type, c.Value)
}

// checksumHeaderNotValues are x-amz-checksum-* headers that carry no value.
var checksumHeaderNotValues = map[string]bool{"mode": true, "type": true, "algorithm": true}

// ChecksumFromHeaders reads the additional checksum from a response's
// x-amz-checksum-<alg> and x-amz-checksum-type headers (zero when there is
// none). Without a type header, a value with a "-N" suffix is composite.
func ChecksumFromHeaders(h http.Header) Checksum {
	var c Checksum
	for k, vs := range h {
		alg, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-checksum-")
		if !ok || checksumHeaderNotValues[alg] || len(vs) == 0 {
			continue
		}
		c = Checksum{Algorithm: strings.ToUpper(alg), Value: vs[0]}
		break
	}
	if c.IsZero() {
		return c
	}
	c.Type = strings.ToUpper(h.Get("X-Amz-Checksum-Type"))
	if c.Type == "" {
		c.Type = ChecksumFullObject
		if i := strings.LastIndexByte(c.Value, '-'); i > 0 {
			c.Type = ChecksumComposite
		}
	}
	return c
}

// NewChecksumHash returns a hash computing the full-object checksum alg
// (as S3 names it), nil for an algorithm this package cannot compute.
func NewChecksumHash(alg string) hash.Hash {
	switch strings.ToUpper(alg) {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "CRC64NVME":
		return crc64nvme.New()
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	case "MD5":
		return md5.New()
	case "SHA512":
		return sha512.New()
	case "XXHASH64":
		return xxhash.New()
	case "XXHASH3":
		return xxh3.New()
	case "XXHASH128":
		return xxh3.New128()
	}
	return nil
}

// HeadObjectChecksum is HeadObject that also asks for the object's
// additional checksum (S3: x-amz-checksum-mode: ENABLED) and returns it;
// on OSS it is HeadObject with a zero Checksum. It is apart from
// HeadObject because AWS asks kms:Decrypt of a checksum-mode HEAD of an
// SSE-KMS object, which a read-only audit principal may lack.
func (c *Client) HeadObjectChecksum(ctx context.Context, bucket, key string) (ObjectResult, Checksum, error) {
	s, ok := c.b.(*s3Backend)
	if !ok {
		r, err := c.HeadObject(ctx, bucket, key)
		return r, Checksum{}, err
	}
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	opts := minio.StatObjectOptions{}
	opts.Checksum = true
	if _, err := s.c.StatObject(ctx, bucket, key, opts); err != nil {
		return ObjectResult{}, Checksum{}, c.fail("HeadObject", bucket, key, cp, err)
	}
	r := finish(ObjectResult{}, cp)
	fillFromHeaders(&r, c.cfg.Dialect, true)
	return r, ChecksumFromHeaders(r.Headers), nil
}

// PutObjectChecksum writes body (S3 only) declaring its checksum in
// algorithm alg, computed here and sent as x-amz-checksum-<alg> with
// x-amz-checksum-algorithm, so the service verifies it and keeps it.
func (c *Client) PutObjectChecksum(ctx context.Context, bucket, key string, body []byte, alg string, opts PutOptions) (ObjectResult, error) {
	if c.cfg.Dialect != S3 {
		return ObjectResult{}, fmt.Errorf("client: PutObjectChecksum %s: additional checksums are S3's; OSS keeps a CRC-64 of every object", resource(bucket, key))
	}
	h := NewChecksumHash(alg)
	if h == nil {
		return ObjectResult{}, fmt.Errorf("client: PutObjectChecksum %s: checksum algorithm %q: use CRC32, CRC32C, CRC64NVME, SHA1 or SHA256", resource(bucket, key), alg)
	}
	h.Write(body)
	meta := map[string]string{}
	for k, v := range opts.Metadata {
		meta[k] = v
	}
	alg = strings.ToUpper(alg)
	meta["x-amz-checksum-algorithm"] = alg
	meta["x-amz-checksum-"+strings.ToLower(alg)] = base64.StdEncoding.EncodeToString(h.Sum(nil))
	opts.Metadata = meta
	return c.PutObject(ctx, bucket, key, bytes.NewReader(body), int64(len(body)), opts)
}
