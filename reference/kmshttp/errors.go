package kmshttp

import (
	"fmt"
	"net/http"

	"github.com/sseaudit/sseaudit/reference/kms"
)

// Protocol-level error codes (Alibaba Cloud OpenAPI gateway names). The KMS
// business codes (Forbidden.KeyNotFound, Rejected.Disabled, ...) come from
// package kms unchanged. doc.go says which of these are confirmed by a source.
const (
	CodeIncompleteSignature    = "IncompleteSignature"
	CodeSignatureDoesNotMatch  = "SignatureDoesNotMatch"
	CodeInvalidSignatureMethod = "InvalidSignatureMethod"
	CodeAccessKeyNotFound      = "InvalidAccessKeyId.NotFound"
	CodeTimestampExpired       = "InvalidTimeStamp.Expired"
	CodeTimestampFormat        = "InvalidTimeStamp.Format"
	CodeNonceUsed              = "SignatureNonceUsed"
	CodeActionNotFound         = "InvalidAction.NotFound"
	CodeInvalidVersion         = "InvalidVersion"
	CodeMissingParameter       = kms.CodeMissingParameter // "MissingParameter"
	CodeInvalidParameter       = kms.CodeInvalidParameter // "InvalidParameter"
	CodeInvalidFormat          = "InvalidParameter.Format"
	CodeUnsupportedParameter   = "UnsupportedParameter"
	CodeUnsupportedHTTPMethod  = "UnsupportedHTTPMethod"
	CodeRequestTooLarge        = "RequestEntityTooLarge"
	CodeRejectedThrottling     = "Rejected.Throttling"
	CodeInternalFailure        = kms.CodeInternal // "InternalFailure"
)

func newErr(status int, code, format string, args ...any) *kms.Error {
	return &kms.Error{HTTPStatus: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errMissing(name string) *kms.Error {
	return newErr(http.StatusBadRequest, CodeMissingParameter,
		"The parameter %q is needed but not provided.", name)
}

func errInvalid(name, why string) *kms.Error {
	return newErr(http.StatusBadRequest, CodeInvalidParameter,
		"The specified parameter %q is not valid: %s.", name, why)
}

func errUnsupported(name string) *kms.Error {
	return newErr(http.StatusBadRequest, CodeUnsupportedParameter,
		"The parameter %q is not supported by this KMS emulator.", name)
}

func errIncomplete(why string) *kms.Error {
	return newErr(http.StatusBadRequest, CodeIncompleteSignature,
		"The request signature does not conform to Aliyun standards: %s.", why)
}

func errSignatureMismatch() *kms.Error {
	return newErr(http.StatusBadRequest, CodeSignatureDoesNotMatch,
		"Specified signature is not matched with our calculation.")
}

func errInternal() *kms.Error {
	return newErr(http.StatusInternalServerError, CodeInternalFailure,
		"The request processing has failed due to some unknown error.")
}

// recommend is the optional Recommend field of an error body: a short hint,
// never a link (the emulator must not point clients at the internet).
func recommend(code string) string {
	switch code {
	case CodeSignatureDoesNotMatch:
		return "Check the AccessKeySecret and that the request is signed as the Alibaba Cloud SDK signs it."
	case CodeAccessKeyNotFound:
		return "Use the access key printed by `sseaudit serve` on its first start."
	case CodeTimestampExpired:
		return "The request time must be within the server's allowed clock skew; check the client clock."
	case CodeNonceUsed:
		return "Every request needs a fresh SignatureNonce; do not replay signed requests."
	case CodeRejectedThrottling:
		return "Back off and retry: this access key's signed requests of the last minutes fill its quota."
	}
	return ""
}
