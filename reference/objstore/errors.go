package objstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sseaudit/sseaudit/reference/envelope"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/masterkey"
	"github.com/sseaudit/sseaudit/reference/stream"
)

// Client-safe messages, OSS wording where OSS documents one.
const (
	msgAccessDenied            = "Access Denied."
	msgInvalidBucketName       = "The specified bucket is not valid."
	msgInvalidObjectName       = "The specified object is not valid."
	msgNoSuchBucket            = "The specified bucket does not exist."
	msgBucketAlreadyExists     = "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
	msgBucketAlreadyOwnedByYou = "Your previous request to create the named bucket succeeded and you already own it."
	msgBucketNotEmpty          = "The bucket you tried to delete is not empty."
	msgNoSuchKey               = "The specified key does not exist."
	msgNoSuchUpload            = "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
	msgInvalidPart             = "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag."
	msgInvalidPartOrder        = "The list of parts was not in ascending order. The parts list must be specified in order by part number."
	msgEntityTooSmall          = "Your proposed upload is smaller than the minimum allowed object size."
	msgEntityTooLarge          = "Your proposed upload exceeds the maximum allowed object size."
	msgInvalidDigest           = "The Content-MD5 you specified was invalid."
	msgIncompleteBody          = "You did not provide the number of bytes specified by the Content-Length HTTP header."
	msgInvalidRange            = "The requested range cannot be satisfied."
	msgPreconditionFailed      = "At least one of the pre-conditions you specified did not hold."
	msgInvalidStorageClass     = "The storage class you specified is not valid."
	msgNoSuchEncryptionRule    = "The server side encryption configuration was not found."
	// msgInvalidEncryptionAlgorithm is the message of every
	// KindInvalidEncryptionAlgorithm error; it names the supported values.
	msgInvalidEncryptionAlgorithm = "The Encryption request you specified is not valid. Supported value: AES256/KMS"
	msgKeyIDNotApplicable         = "KMSMasterKeyID is not applicable if the default sse algorithm is not KMS"
	msgKMSAccessDenied            = "This request is forbidden by kms."
	msgKMSKeyDisabled             = "The request was rejected because the key state is Disabled."
	msgKMSKeyPendingDeletion      = "The request was rejected because the key state is PendingDeletion."
	msgKMSKeyNotFound             = "The specified parameter KMS keyId is not found."
	msgKMSAliasNotFound           = "The specified Alias is not found."
	msgKMSInvalidKeyID            = "The specified parameter KMS keyId is not valid."
	msgKMSUnavailable             = "The request to KMS failed. Please try again."
	msgDecryptFailed              = "The object's stored data or encryption metadata failed authentication and cannot be decrypted."
	msgInternal                   = "We encountered an internal error. Please try again."
	msgSlowDown                   = "Please reduce your request rate: too many uploads of this principal are in progress."
	msgNoSuchBucketPolicy         = "The bucket policy does not exist"
	msgRequestTimeout             = "Your socket connection to the server was not read from or written to within the timeout period."
)

func newErr(kind Kind, resource, msg string, cause error) *Error {
	return &Error{Kind: kind, Message: msg, Resource: resource, Err: cause}
}

func internal(resource string, cause error) *Error {
	return newErr(KindInternal, resource, msgInternal, cause)
}

func bucketRes(bucket string) string      { return "/" + bucket }
func objectRes(bucket, key string) string { return "/" + bucket + "/" + key }

// asError returns err unchanged when it already is an *Error and wraps it
// as an internal error otherwise.
func asError(resource string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return internal(resource, err)
}

// authFailures are the content errors of the data key and stream layers:
// the stored record, sealed key or ciphertext does not authenticate.
var authFailures = []error{
	envelope.ErrCommitment, envelope.ErrMalformedRecord,
	masterkey.ErrUnseal, masterkey.ErrUnknownVersion, masterkey.ErrMalformedSealedKey,
	stream.ErrMalformedHeader, stream.ErrUnsupportedVersion, stream.ErrKeyCommitment,
	stream.ErrAuthentication, stream.ErrTruncated, stream.ErrTrailingData, stream.ErrInvalidSize,
}

func isAuthFailure(err error) bool {
	for _, s := range authFailures {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// keyError maps an error of the envelope (creating, opening or rewrapping a
// data key) to an *Error.
func keyError(resource string, err error) error {
	var ke *kms.Error
	if errors.As(err, &ke) {
		switch ke.Code {
		case kms.CodeDisabled:
			return newErr(KindKMSKeyDisabled, resource, msgKMSKeyDisabled, err)
		case kms.CodePendingDeletion:
			return newErr(KindKMSKeyPendingDeletion, resource, msgKMSKeyPendingDeletion, err)
		case kms.CodeKeyNotFound:
			return newErr(KindKMSKeyNotFound, resource, msgKMSKeyNotFound, err)
		case kms.CodeAliasNotFound:
			return newErr(KindKMSKeyNotFound, resource, msgKMSAliasNotFound, err)
		case kms.CodeInvalidParameter, kms.CodeMissingParameter:
			if strings.Contains(ke.Message, "KeyId") {
				return newErr(KindKMSInvalidKeyID, resource, msgKMSInvalidKeyID, err)
			}
		case kms.CodeAccessDenied:
			// KMS refused the caller (kms.Authorizer): the same decision
			// the KMS endpoint makes, answered in the object dialect.
			return newErr(KindKMSAccessDenied, resource, msgKMSAccessDenied, err)
		case kms.CodeInvalidCiphertext:
			// The sealed key or its encryption context (bucket, object,
			// upload id) does not authenticate: the record was altered or
			// moved to another name.
			return newErr(KindDecryptFailed, resource, msgDecryptFailed, err)
		}
		return newErr(KindKMSUnavailable, resource, msgKMSUnavailable, err)
	}
	switch {
	case isAuthFailure(err):
		return newErr(KindDecryptFailed, resource, msgDecryptFailed, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return internal(resource, err)
	case errors.Is(err, envelope.ErrUnsupported):
		return internal(resource, fmt.Errorf("server-side encryption is not configured: %w", err))
	}
	return asError(resource, err)
}

// dataError maps an error met while reading stored data.
func dataError(resource string, err error) error {
	if isAuthFailure(err) {
		return newErr(KindDecryptFailed, resource, msgDecryptFailed, err)
	}
	return asError(resource, err)
}
