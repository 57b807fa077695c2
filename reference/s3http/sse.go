package s3http

import (
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
)

func errKMSHeaderNeedsKMS() *apiError {
	return errInvalidArgument("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
}

func errUnsupportedSSE() *apiError {
	return errInvalidArgument("The encryption method specified is not supported")
}

// hasSSEC reports whether the request carries any SSE-C header.
func hasSSEC(h http.Header) bool {
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, ssecHeaderPrefix) || strings.HasPrefix(lk, ssecCopyHeaderPrefx) {
			return true
		}
	}
	return false
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
// key id is the resolved CMK id (never an alias), as the store reports it.
func setSSEHeaders(h http.Header, s objstore.SSE) {
	switch s.Algorithm {
	case objstore.AlgorithmAES256:
		h.Set(hdrSSE, sseAES256)
	case objstore.AlgorithmKMS:
		h.Set(hdrSSE, sseKMS)
		if s.KMSKeyID != "" {
			h.Set(hdrSSEKMSKeyID, s.KMSKeyID)
		}
	}
}
