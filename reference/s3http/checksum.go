package s3http

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// checksumAlgo is one of the additional checksum algorithms the store
// computes (objstore.ChecksumAlgorithms).
type checksumAlgo struct {
	Name   string // as in x-amz-checksum-algorithm: CRC32, CRC32C, ...
	Header string // x-amz-checksum-crc32, ...
	New    func() hash.Hash
	Size   int
}

var checksumAlgos = func() []checksumAlgo {
	var out []checksumAlgo
	for _, name := range objstore.ChecksumAlgorithms() {
		out = append(out, checksumAlgo{
			Name: name, Header: checksumHeaderPrefix + strings.ToLower(name),
			New: func() hash.Hash { return objstore.NewChecksumHash(name) }, Size: objstore.ChecksumSize(name),
		})
	}
	return out
}()

const (
	checksumHeaderPrefix = "x-amz-checksum-"
	hChecksumAlgorithm   = "X-Amz-Checksum-Algorithm"
	hSDKChecksumAlgo     = "X-Amz-Sdk-Checksum-Algorithm"
	hChecksumType        = "X-Amz-Checksum-Type"
	hChecksumMode        = "X-Amz-Checksum-Mode"
)

// checksumHeaderNotValues are the x-amz-checksum-* headers that carry no
// checksum value.
var checksumHeaderNotValues = map[string]bool{"mode": true, "type": true, "algorithm": true}

func checksumByHeader(name string) (checksumAlgo, bool) {
	name = strings.ToLower(name)
	for _, a := range checksumAlgos {
		if a.Header == name {
			return a, true
		}
	}
	return checksumAlgo{}, false
}

func checksumByName(name string) (checksumAlgo, bool) {
	canon, ok := objstore.CanonicalChecksumAlgorithm(name)
	if !ok {
		return checksumAlgo{}, false
	}
	for _, a := range checksumAlgos {
		if a.Name == canon {
			return a, true
		}
	}
	return checksumAlgo{}, false
}

// checkChecksumHeaders refuses a write naming a checksum this server does
// not compute (any x-amz-checksum-<alg> value header, or an algorithm in
// x-amz-checksum-algorithm / x-amz-sdk-checksum-algorithm) and a malformed
// x-amz-checksum-type: ignoring one would accept a body whose declared
// checksum nobody verified.
func checkChecksumHeaders(h http.Header) *apiError {
	for k := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), checksumHeaderPrefix)
		if !ok || checksumHeaderNotValues[name] {
			continue
		}
		if _, known := checksumByHeader(k); !known {
			return errInvalidArgument("The %s header is not supported: this server computes only %s checksums.",
				truncate(strings.ToLower(k), 64), strings.Join(objstore.ChecksumAlgorithms(), ", "))
		}
	}
	for _, k := range []string{hChecksumAlgorithm, hSDKChecksumAlgo} {
		for _, v := range h.Values(k) {
			if _, ok := checksumByName(v); !ok {
				return errInvalidArgument("Checksum algorithm %q in %s is not supported: this server computes only %s checksums.",
					truncate(v, 64), strings.ToLower(k), strings.Join(objstore.ChecksumAlgorithms(), ", "))
			}
		}
	}
	if vs := h.Values(hChecksumType); len(vs) > 0 {
		if len(vs) > 1 || (vs[0] != objstore.ChecksumFullObject && vs[0] != objstore.ChecksumComposite) {
			return errInvalidArgument("Value for x-amz-checksum-type header is invalid: it must be %s or %s.",
				objstore.ChecksumFullObject, objstore.ChecksumComposite)
		}
	}
	return nil
}

// refuseChecksumValues answers 400 InvalidRequest to a checksum value on a
// request that has no body to check it against (CreateMultipartUpload,
// CopyObject, UploadPartCopy): accepting it would keep a declared checksum
// nobody verified. The algorithm alone is named in x-amz-checksum-algorithm.
func refuseChecksumValues(h http.Header, op string) *apiError {
	for _, a := range checksumAlgos {
		if _, ok := h[http.CanonicalHeaderKey(a.Header)]; ok {
			return errInvalidRequest("%s does not take a checksum value (%s): name the algorithm in x-amz-checksum-algorithm; "+
				"the checksum is computed from the data", op, a.Header)
		}
	}
	return nil
}

// requestedAlgorithm is the algorithm a write names in
// x-amz-checksum-algorithm or x-amz-sdk-checksum-algorithm (which must
// agree), "" for none. checkChecksumHeaders has vetted the values.
func requestedAlgorithm(h http.Header) (string, *apiError) {
	alg := ""
	for _, k := range []string{hChecksumAlgorithm, hSDKChecksumAlgo} {
		for _, v := range h.Values(k) {
			a, ok := checksumByName(v)
			if !ok {
				return "", errInvalidArgument("Checksum algorithm %q is not supported.", truncate(v, 64))
			}
			if alg != "" && alg != a.Name {
				return "", errInvalidRequest("The checksum algorithm headers name both %s and %s.", alg, a.Name)
			}
			alg = a.Name
		}
	}
	return alg, nil
}

// writeChecksumAlgorithm is the algorithm the store must compute for a body:
// the declared checksum's (which the verifying reader checks), else the
// one the request names, else "" (the store's default).
func writeChecksumAlgorithm(h http.Header, cks *bodyChecksum) (string, *apiError) {
	alg, aerr := requestedAlgorithm(h)
	if aerr != nil {
		return "", aerr
	}
	if cks == nil {
		return alg, nil
	}
	if alg != "" && alg != cks.Algo.Name {
		return "", errInvalidRequest("x-amz-checksum-algorithm says %s but the checksum sent is %s.", alg, cks.Algo.Name)
	}
	return cks.Algo.Name, nil
}

// setChecksumHeaders reports a stored checksum as S3 does:
// x-amz-checksum-<alg> (with "-N" for a composite) and x-amz-checksum-type.
func setChecksumHeaders(h http.Header, c objstore.Checksum) {
	if !c.IsSet() {
		return
	}
	h.Set(checksumHeaderPrefix+strings.ToLower(c.Algorithm), c.Encoded())
	if c.Type != "" {
		h.Set(hChecksumType, c.Type)
	}
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
			return nil, errInvalidArgument("The value %q specified in the x-amz-trailer header is not supported: this server computes only %s checksums.",
				truncate(tr, 64), strings.Join(objstore.ChecksumAlgorithms(), ", "))
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
