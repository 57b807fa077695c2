package s3http

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// S3 SSE header names and values.
const (
	hdrSSE              = "X-Amz-Server-Side-Encryption"
	hdrSSEKMSKeyID      = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
	hdrSSEContext       = "X-Amz-Server-Side-Encryption-Context"
	hdrSSEBucketKey     = "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled"
	sseAES256           = "AES256"
	sseKMS              = "aws:kms"
	sseKMSDSSE          = "aws:kms:dsse"
	ssecHeaderPrefix    = "x-amz-server-side-encryption-customer-"
	ssecCopyHeaderPrefx = "x-amz-copy-source-server-side-encryption-customer-"
	// SSE-C header suffixes (after either prefix).
	ssecAlgorithm = "algorithm"
	ssecKey       = "key"
	ssecKeyMD5    = "key-MD5"
)

// customerKey is a validated SSE-C key of a request, with the base64 MD5
// the client sent (echoed on responses; never logged).
type customerKey struct {
	key    [32]byte
	md5B64 string
}

// parseCustomerKey reads the SSE-C headers of the object a request writes
// or reads (copySource false: x-amz-server-side-encryption-customer-*) or
// of a copy's source (x-amz-copy-source-server-side-encryption-customer-*).
// It returns nil when none was sent. AWS's rules and messages: the
// algorithm must be AES256, the key base64 of 32 bytes, and the key MD5
// base64 of the key's MD5; all three are required.
func parseCustomerKey(h http.Header, copySource bool) (*customerKey, *apiError) {
	prefix := ssecHeaderPrefix
	if copySource {
		prefix = ssecCopyHeaderPrefx
	}
	alg, algPresent, ok1 := singleHeader(h, prefix+ssecAlgorithm)
	k, keyPresent, ok2 := singleHeader(h, prefix+ssecKey)
	sum, sumPresent, ok3 := singleHeader(h, prefix+ssecKeyMD5)
	if !ok1 || !ok2 || !ok3 {
		return nil, errInvalidArgument("An SSE-C header was given more than once")
	}
	if !algPresent && !keyPresent && !sumPresent {
		return nil, nil
	}
	switch {
	case !algPresent:
		return nil, errInvalidArgument("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	case alg != sseAES256:
		return nil, errInvalidEncryptionAlgorithm()
	case !keyPresent:
		return nil, errInvalidArgument("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
	case !sumPresent:
		return nil, errInvalidArgument("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
	}
	raw, err := base64.StdEncoding.DecodeString(k)
	if err != nil || len(raw) != 32 {
		clear(raw)
		return nil, errInvalidArgument("The secret key was invalid for the specified algorithm.")
	}
	want := md5.Sum(raw)
	got, err := base64.StdEncoding.DecodeString(sum)
	if err != nil || subtle.ConstantTimeCompare(got, want[:]) != 1 {
		clear(raw)
		return nil, errInvalidArgument("The calculated MD5 hash of the key did not match the hash that was provided.")
	}
	ck := &customerKey{md5B64: sum}
	copy(ck.key[:], raw)
	clear(raw)
	return ck, nil
}

func errInvalidEncryptionAlgorithm() *apiError {
	return newErr(http.StatusBadRequest, "InvalidEncryptionAlgorithmError",
		"The encryption request you specified is not valid. The valid value is AES256.")
}

// withCustomerKey returns ctx carrying the request's SSE-C key for the
// object it reads (or, copySource, for a copy's source), for the store's
// reads (objstore.WithCustomerKey).
func withCustomerKey(ctx context.Context, h http.Header, copySource bool) (context.Context, *customerKey, *apiError) {
	ck, aerr := parseCustomerKey(h, copySource)
	if aerr != nil || ck == nil {
		return ctx, nil, aerr
	}
	return objstore.WithCustomerKey(ctx, ck.key[:]), ck, nil
}

// echoCustomerKey sets the SSE-C response headers of an SSE-C object:
// the algorithm, and the key MD5 the request sent (AWS echoes both).
func echoCustomerKey(h http.Header, s objstore.SSE, ck *customerKey) {
	if s.Algorithm != objstore.AlgorithmSSEC {
		return
	}
	h.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", sseAES256)
	if ck != nil {
		h.Set("X-Amz-Server-Side-Encryption-Customer-Key-Md5", ck.md5B64)
	}
}

func errKMSHeaderNeedsKMS() *apiError {
	return errInvalidArgument("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
}

func errUnsupportedSSE() *apiError {
	return errInvalidArgument("The encryption method specified is not supported")
}

// singleHeader returns a header's only value; present reports whether it
// was sent at all, ok is false when it was sent more than once.
func singleHeader(h http.Header, name string) (v string, present, ok bool) {
	vals := h.Values(name)
	switch len(vals) {
	case 0:
		return "", false, true
	case 1:
		return strings.TrimSpace(vals[0]), true, true
	default:
		return "", true, false
	}
}

// parseSSERequest reads the encryption request of PutObject, CopyObject
// and CreateMultipartUpload:
//
//   - x-amz-server-side-encryption: AES256 (SSE-S3) or aws:kms (SSE-KMS);
//     aws:kms:dsse and anything else is 400 InvalidArgument;
//   - x-amz-server-side-encryption-aws-kms-key-id: the CMK (id, alias, or
//     key or alias ARN in AWS or acs: form; see fromAWSKeyARN), only with
//     aws:kms; absent = the default key;
//   - x-amz-server-side-encryption-context: refused (400 InvalidArgument):
//     the reference binds the KMS encryption context to the bucket and
//     object itself and would otherwise silently drop the caller's;
//   - x-amz-server-side-encryption-bucket-key-enabled: true|false,
//     accepted and ignored (every object gets its own data key).
//
// The zero SSE means "use the bucket default".
func parseSSERequest(h http.Header) (objstore.SSE, *apiError) {
	sse, _, aerr := parseSSEOrCustomer(h)
	return sse, aerr
}

// parseSSEOrCustomer is parseSSERequest that also returns the SSE-C key a
// write names (x-amz-server-side-encryption-customer-*, which excludes
// x-amz-server-side-encryption and the KMS headers, 400 InvalidArgument).
// Whether the bucket accepts SSE-C writes is the store's decision.
func parseSSEOrCustomer(h http.Header) (objstore.SSE, *customerKey, *apiError) {
	ck, aerr := parseCustomerKey(h, false)
	if aerr != nil {
		return objstore.SSE{}, nil, aerr
	}
	if ck != nil {
		for _, n := range []string{hdrSSE, hdrSSEKMSKeyID, hdrSSEContext} {
			if len(h.Values(n)) > 0 {
				return objstore.SSE{}, nil, errInvalidArgument("Server Side Encryption with Customer provided key is incompatible with the encryption method specified")
			}
		}
		return objstore.SSE{Algorithm: objstore.AlgorithmSSEC, CustomerKey: &ck.key}, ck, nil
	}
	sse, aerr := parseSSEHeaders(h)
	return sse, nil, aerr
}

// parseSSEHeaders reads x-amz-server-side-encryption and its companions.
func parseSSEHeaders(h http.Header) (objstore.SSE, *apiError) {
	alg, algPresent, ok1 := singleHeader(h, hdrSSE)
	keyID, keyPresent, ok2 := singleHeader(h, hdrSSEKMSKeyID)
	ctx, ctxPresent, ok3 := singleHeader(h, hdrSSEContext)
	bk, bkPresent, ok4 := singleHeader(h, hdrSSEBucketKey)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return objstore.SSE{}, errInvalidArgument("An x-amz-server-side-encryption header was given more than once")
	}
	if bkPresent && !strings.EqualFold(bk, "true") && !strings.EqualFold(bk, "false") {
		return objstore.SSE{}, errInvalidArgument("x-amz-server-side-encryption-bucket-key-enabled must be true or false")
	}
	switch {
	case !algPresent:
		if keyPresent || ctxPresent {
			return objstore.SSE{}, errKMSHeaderNeedsKMS()
		}
		return objstore.SSE{}, nil
	case alg == sseAES256:
		if ctxPresent {
			return objstore.SSE{}, errKMSHeaderNeedsKMS()
		}
		// A key id with AES256 is refused by the store (400 InvalidArgument),
		// the one place that rule lives for both dialects.
		return objstore.SSE{Algorithm: objstore.AlgorithmAES256, KMSKeyID: strings.TrimSpace(keyID)}, nil
	case alg == sseKMS:
		if ctxPresent {
			if msg := checkEncryptionContext(ctx); msg != "" {
				return objstore.SSE{}, errInvalidArgument("%s", msg)
			}
			return objstore.SSE{}, errInvalidArgument("x-amz-server-side-encryption-context is not supported: this server binds the KMS encryption context to the bucket and object name itself")
		}
		return objstore.SSE{Algorithm: objstore.AlgorithmKMS, KMSKeyID: fromAWSKeyARN(keyID)}, nil
	default:
		return objstore.SSE{}, errUnsupportedSSE()
	}
}

// checkEncryptionContext validates the base64 JSON object of
// x-amz-server-side-encryption-context; "" means well-formed.
func checkEncryptionContext(v string) string {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map"
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return "The header 'x-amz-server-side-encryption-context' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map"
	}
	return ""
}

// refuseSSEOnRead implements AWS's rule that GET, HEAD and UploadPart take
// no SSE-S3 or SSE-KMS headers (400 InvalidArgument).
func refuseSSEOnRead(h http.Header) *apiError {
	for _, n := range []string{hdrSSE, hdrSSEKMSKeyID, hdrSSEContext} {
		if len(h.Values(n)) > 0 {
			return errInvalidArgument("The %s header is not supported for this operation.", strings.ToLower(n))
		}
	}
	return nil
}

// setSSEHeaders adds the response headers for an object's encryption. The
// KMS key is named by its ARN, as AWS S3 names it on every object response
// however the request named it (id, alias or ARN: S3 resolves the key when
// it encrypts): the store reports the resolved key id (never an alias).
func (h *handler) setSSEHeaders(hd http.Header, s objstore.SSE) {
	switch s.Algorithm {
	case objstore.AlgorithmAES256:
		hd.Set(hdrSSE, sseAES256)
	case objstore.AlgorithmKMS:
		hd.Set(hdrSSE, sseKMS)
		if s.KMSKeyID != "" {
			hd.Set(hdrSSEKMSKeyID, h.keyARN(s.KMSKeyID))
		}
	case objstore.AlgorithmSSEC:
		// S3 sends no x-amz-server-side-encryption for SSE-C, only the
		// customer algorithm (and the key MD5 the request carried:
		// echoCustomerKey).
		hd.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", sseAES256)
	}
}
