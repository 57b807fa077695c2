package awskmshttp

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sseaudit/sseaudit/reference/kms"
)

// AWS KMS error codes (the "__type" of an error body). The SDK maps each to
// its typed error (types.NotFoundException, ...) or, for the protocol
// errors, to a smithy.GenericAPIError with that code.
const (
	CodeNotFound             = "NotFoundException"
	CodeDisabled             = "DisabledException"
	CodeInvalidState         = "KMSInvalidStateException"
	CodeAccessDenied         = "AccessDeniedException"
	CodeValidation           = "ValidationException"
	CodeInvalidCiphertext    = "InvalidCiphertextException"
	CodeIncorrectKey         = "IncorrectKeyException"
	CodeAlreadyExists        = "AlreadyExistsException"
	CodeUnsupportedOperation = "UnsupportedOperationException"
	CodeLimitExceeded        = "LimitExceededException"
	CodeInternal             = "KMSInternalException"

	// Protocol errors, as AWS's JSON services answer them.
	CodeMissingAuthToken    = "MissingAuthenticationTokenException"
	CodeIncompleteSignature = "IncompleteSignatureException"
	CodeInvalidSignature    = "InvalidSignatureException"
	CodeUnrecognizedClient  = "UnrecognizedClientException"
	CodeUnknownOperation    = "UnknownOperationException"
	CodeSerialization       = "SerializationException"
	CodeRequestTooLarge     = "RequestEntityTooLargeException"
)

// apiError is an error as an AWS client sees it.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("awskmshttp: %s (%d): %s", e.code, e.status, e.message)
}

func newErr(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func errValidation(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, CodeValidation, format, args...)
}

// errRequired is AWS's wording for a missing required member.
func errRequired(member string) *apiError {
	return errValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func errUnsupported(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, CodeUnsupportedOperation, format, args...)
}

func errInternal() *apiError {
	return newErr(http.StatusInternalServerError, CodeInternal, "The request processing has failed because of an unknown error.")
}

// mapError turns an emulator error into the AWS error for it. key and alias
// are the key and alias the request named, in ARN form, for the messages
// where AWS names them; the emulator's refusal messages are kept as they
// are, since they already name the resource as the request named it.
//
//	kms code                                         AWS __type                     status
//	Forbidden.KeyNotFound / AliasNotFound /          NotFoundException              400
//	  KeyVersionNotFound
//	Forbidden.NoPermission                           AccessDeniedException          400
//	Rejected.Disabled                                DisabledException              400
//	Rejected.PendingDeletion, StateModifiedFailed    KMSInvalidStateException       400
//	AliasAlreadyExists                               AlreadyExistsException         400
//	InvalidParameter, MissingParameter               ValidationException            400
//	Rejected.InvalidCiphertext                       InvalidCiphertextException     400
//	UnsupportedOperation                             UnsupportedOperationException  400
//	Rejected.LimitExceeded                           LimitExceededException         400
//	InternalFailure and anything else                KMSInternalException           500
func mapError(err error, key, alias string) *apiError {
	if ae, ok := errors.AsType[*apiError](err); ok {
		return ae
	}
	ke, ok := errors.AsType[*kms.Error](err)
	if !ok {
		return errInternal()
	}
	bad := http.StatusBadRequest
	switch ke.Code {
	case kms.CodeKeyNotFound, kms.CodeKeyVersionNotFound:
		if key != "" {
			return newErr(bad, CodeNotFound, "Key '%s' does not exist", key)
		}
		return newErr(bad, CodeNotFound, "The key named in the request does not exist.")
	case kms.CodeAliasNotFound:
		if alias != "" {
			return newErr(bad, CodeNotFound, "Alias '%s' is not found.", alias)
		}
		return newErr(bad, CodeNotFound, "The alias named in the request is not found.")
	case kms.CodeAccessDenied:
		return newErr(bad, CodeAccessDenied, "%s", ke.Message)
	case kms.CodeDisabled:
		return newErr(bad, CodeDisabled, "%s is disabled.", orKey(key))
	case kms.CodePendingDeletion:
		return newErr(bad, CodeInvalidState, "%s is pending deletion.", orKey(key))
	case kms.CodeStateModifiedFailed:
		return newErr(bad, CodeInvalidState, "%s is in a key state that does not allow this operation: %s", orKey(key), ke.Message)
	case kms.CodeAliasExists:
		return newErr(bad, CodeAlreadyExists, "An alias with the name %s already exists", alias)
	case kms.CodeInvalidParameter, kms.CodeMissingParameter:
		return newErr(bad, CodeValidation, "%s", ke.Message)
	case kms.CodeInvalidCiphertext:
		return newErr(bad, CodeInvalidCiphertext, "%s", ke.Message)
	case kms.CodeUnsupportedOp:
		return newErr(bad, CodeUnsupportedOperation, "%s", ke.Message)
	case kms.CodeLimitExceeded:
		return newErr(bad, CodeLimitExceeded, "%s", ke.Message)
	}
	return errInternal()
}

func orKey(key string) string {
	if key == "" {
		return "The key"
	}
	return key
}
