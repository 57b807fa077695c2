package s3http

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strings"
)

// checksumAlgo is one of S3's additional checksum algorithms.
type checksumAlgo struct {
	Name   string // as in x-amz-checksum-algorithm: CRC32, CRC32C, ...
	Header string // x-amz-checksum-crc32, ...
	New    func() hash.Hash
	Size   int
}

var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

var checksumAlgos = []checksumAlgo{
	{"CRC32", "x-amz-checksum-crc32", func() hash.Hash { return crc32.NewIEEE() }, 4},
	{"CRC32C", "x-amz-checksum-crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }, 4},
	{"CRC64NVME", "x-amz-checksum-crc64nvme", func() hash.Hash { return crc64.New(crc64NVMETable) }, 8},
	{"SHA1", "x-amz-checksum-sha1", sha1.New, 20},
	{"SHA256", "x-amz-checksum-sha256", sha256.New, 32},
}

func checksumByHeader(name string) (checksumAlgo, bool) {
	name = strings.ToLower(name)
	for _, a := range checksumAlgos {
		if a.Header == name {
			return a, true
		}
	}
	return checksumAlgo{}, false
}

// bodyChecksum is a checksum the client declared for a body, in a header or
// (Trailer) in the aws-chunked trailer.
type bodyChecksum struct {
	Algo     checksumAlgo
	Expected []byte // nil until the trailer arrives
	Trailer  bool
}

func decodeChecksumValue(a checksumAlgo, v string) ([]byte, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(b) != a.Size {
		return nil, false
	}
	return b, true
}

// parseBodyChecksum reads the x-amz-checksum-* header (when useHeaders)
// or the x-amz-trailer declaration of a request body. At most one is
// allowed.
func parseBodyChecksum(r *http.Request, trailerMode, useHeaders bool) (*bodyChecksum, *apiError) {
	var found *bodyChecksum
	for _, a := range checksumAlgos {
		if !useHeaders {
			break
		}
		vals := r.Header.Values(a.Header)
		if len(vals) == 0 {
			continue
		}
		if found != nil || len(vals) > 1 {
			return nil, errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		b, ok := decodeChecksumValue(a, vals[0])
		if !ok {
			return nil, errInvalidRequest("Value for %s header is invalid.", a.Header)
		}
		found = &bodyChecksum{Algo: a, Expected: b}
	}
	tr := strings.TrimSpace(r.Header.Get("X-Amz-Trailer"))
	if tr != "" {
		if !trailerMode {
			return nil, errInvalidRequest("x-amz-trailer is only valid with a STREAMING-*-TRAILER x-amz-content-sha256")
		}
		if strings.Contains(tr, ",") {
			return nil, errInvalidRequest("Expecting a single x-amz-checksum- trailer. Multiple checksum Types are not allowed.")
		}
		a, ok := checksumByHeader(tr)
		if !ok {
			return nil, errInvalidRequest("The value specified in the x-amz-trailer header is not supported")
		}
		if found != nil {
			return nil, errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		found = &bodyChecksum{Algo: a, Trailer: true}
	}
	return found, nil
}

func errChecksumMismatch(a checksumAlgo) *apiError {
	return newErr(http.StatusBadRequest, "BadDigest", "The %s you specified did not match the calculated checksum.", a.Name)
}

// verifyingReader passes a body through, counting it and hashing it with
// the digests the request declared. When the declared size is reached it
// checks them all before returning the last bytes, so the store never
// commits a body that fails a check. Errors are *apiError and sticky.
type verifyingReader struct {
	src      io.Reader
	size     int64 // expected bytes; -1 = until EOF
	n        int64
	sha      hash.Hash // x-amz-content-sha256, when it is a hex hash
	wantSHA  string
	md5      hash.Hash // Content-MD5 check (XML bodies; the store checks objects)
	wantMD5  []byte
	cks      *bodyChecksum
	cksHash  hash.Hash
	checked  bool
	err      error
	finalErr func() error // extra check at the end (e.g. trailer presence)
}

func newVerifyingReader(src io.Reader, size int64, wantSHA string, wantMD5 []byte, cks *bodyChecksum) *verifyingReader {
	v := &verifyingReader{src: src, size: size, wantSHA: wantSHA, wantMD5: wantMD5, cks: cks}
	if wantSHA != "" {
		v.sha = sha256.New()
	}
	if wantMD5 != nil {
		v.md5 = md5.New()
	}
	if cks != nil {
		v.cksHash = cks.Algo.New()
	}
	return v
}

func (v *verifyingReader) check() error {
	v.checked = true
	if v.sha != nil && hex.EncodeToString(v.sha.Sum(nil)) != v.wantSHA {
		return newErr(http.StatusBadRequest, "XAmzContentSHA256Mismatch",
			"The provided 'x-amz-content-sha256' header does not match what was computed.").
			with("ClientComputedContentSHA256", v.wantSHA).with("S3ComputedContentSHA256", hex.EncodeToString(v.sha.Sum(nil)))
	}
	if v.md5 != nil && string(v.md5.Sum(nil)) != string(v.wantMD5) {
		return newErr(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	}
	if v.cks != nil {
		if v.cks.Expected == nil {
			return errInvalidRequest("The %s trailer declared in x-amz-trailer was not sent.", v.cks.Algo.Header)
		}
		if string(v.cksHash.Sum(nil)) != string(v.cks.Expected) {
			return errChecksumMismatch(v.cks.Algo)
		}
	}
	if v.finalErr != nil {
		return v.finalErr()
	}
	return nil
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.size >= 0 && v.n >= v.size {
		if !v.checked {
			// Only a zero-size body gets here unchecked: drain the source
			// first (an aws-chunked stream verifies its final chunk and
			// trailer on that read), then check.
			var one [1]byte
			k, err := v.src.Read(one[:])
			switch {
			case k > 0:
				v.err = newErr(http.StatusBadRequest, "IncompleteBody", "The body is longer than the declared length.")
				return 0, v.err
			case err != nil && !errors.Is(err, io.EOF):
				v.err = asBodyError(err)
				return 0, v.err
			}
			if cerr := v.check(); cerr != nil {
				v.err = cerr
				return 0, cerr
			}
		}
		return 0, io.EOF
	}
	if v.size >= 0 && int64(len(p)) > v.size-v.n {
		p = p[:v.size-v.n]
	}
	k, err := v.src.Read(p)
	if k > 0 {
		v.n += int64(k)
		if v.sha != nil {
			v.sha.Write(p[:k])
		}
		if v.md5 != nil {
			v.md5.Write(p[:k])
		}
		if v.cksHash != nil {
			v.cksHash.Write(p[:k])
		}
		if v.size >= 0 && v.n == v.size {
			if cerr := v.check(); cerr != nil {
				v.err = cerr
				return 0, cerr
			}
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			if v.size >= 0 && v.n < v.size {
				v.err = newErr(http.StatusBadRequest, "IncompleteBody",
					"You did not provide the number of bytes specified by the Content-Length HTTP header.")
				return 0, v.err
			}
			if !v.checked {
				if cerr := v.check(); cerr != nil {
					v.err = cerr
					return 0, cerr
				}
			}
			return k, io.EOF
		}
		v.err = asBodyError(err)
		return 0, v.err
	}
	return k, nil
}

func asBodyError(err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return newErr(http.StatusBadRequest, "IncompleteBody", "Reading the request body failed: %v", err)
}

// bodyError returns the *apiError a failed body read recorded, if any.
func (v *verifyingReader) bodyError() *apiError {
	var ae *apiError
	if v != nil && v.err != nil && errors.As(v.err, &ae) {
		return ae
	}
	return nil
}

// parseContentMD5 decodes the Content-MD5 header (nil when absent).
func parseContentMD5(r *http.Request) ([]byte, *apiError) {
	v, ok := r.Header["Content-Md5"]
	if !ok {
		return nil, nil
	}
	if len(v) != 1 {
		return nil, newErr(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[0]))
	if err != nil || len(b) != md5.Size {
		return nil, newErr(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
	}
	return b, nil
}
