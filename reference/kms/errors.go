package kms

import (
	"errors"
	"fmt"
	"net/http"
)

// Keystore errors returned by New. They are Go errors for the operator
// starting the emulator, not *Error values for KMS clients.
var (
	// ErrCorruptKeystore reports a keystore file that cannot be parsed or
	// whose content does not authenticate under the configured root key
	// (truncated, edited, bad JSON, unknown format, sealed material that
	// fails to open although the root key ID matches).
	ErrCorruptKeystore = errors.New("kms: corrupt keystore")
	// ErrWrongRootKey reports a keystore sealed under a different root key
	// than the one configured. The concrete error is *RootKeyMismatchError.
	ErrWrongRootKey = errors.New("kms: keystore was sealed under a different root key")
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("kms: invalid configuration")
)

// RootKeyMismatchError names both root key IDs (public fingerprints from
// rootkey.Key.ID) so the operator can tell which key file or environment
// variable is wrong. errors.Is(err, ErrWrongRootKey) is true.
type RootKeyMismatchError struct {
	Path       string // keystore file
	Keystore   string // root key ID recorded in the keystore
	Configured string // root key ID of Config.RootKey
}

func (e *RootKeyMismatchError) Error() string {
	return fmt.Sprintf("kms: keystore %s was sealed under root key %s, but the configured root key is %s; "+
		"start with the root key that wrote it or move the keystore away", e.Path, e.Keystore, e.Configured)
}

// Is makes errors.Is(err, ErrWrongRootKey) true.
func (e *RootKeyMismatchError) Is(target error) bool { return target == ErrWrongRootKey }

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorruptKeystore, fmt.Sprintf(format, args...))
}

// Client-visible errors. Messages follow Alibaba's wording where known
// (doc 69008 "Common error codes"); none of them ever carries key material,
// plaintext or ciphertext.

func errAliasNotFound() error {
	return Errorf(http.StatusNotFound, CodeAliasNotFound, "The specified Alias is not found.")
}

func errKeyVersionNotFound() error {
	return Errorf(http.StatusNotFound, CodeKeyVersionNotFound, "The specified Key version is not found.")
}

func errInvalidParam(name, detail string) error {
	msg := fmt.Sprintf("The specified parameter %q is not valid.", name)
	if detail != "" {
		msg += " " + detail
	}
	return Errorf(http.StatusBadRequest, CodeInvalidParameter, "%s", msg)
}

func errMissingParam(name string) error {
	return Errorf(http.StatusBadRequest, CodeMissingParameter, "The parameter %q is needed but not provided.", name)
}

func errStateDisabled() error {
	return Errorf(http.StatusConflict, CodeDisabled, "The request was rejected because the key state is Disabled.")
}

func errStatePendingDeletion() error {
	return Errorf(http.StatusConflict, CodePendingDeletion, "The request was rejected because the key state is PendingDeletion.")
}

func errStateModifiedFailed(state string) error {
	return Errorf(http.StatusConflict, CodeStateModifiedFailed, "Keystate modified failed. The operation is not allowed when the key state is %s.", state)
}

func errAliasExists() error {
	return Errorf(http.StatusBadRequest, CodeAliasExists, "AliasName Already Exists.")
}

// errInvalidCiphertext is the one error for every Decrypt/ReEncrypt failure
// of the blob itself: unparsable, wrong magic or version, tampered, or an
// EncryptionContext that differs from the one sealed. It deliberately says
// nothing about which of these it was.
func errInvalidCiphertext() error {
	return Errorf(http.StatusBadRequest, CodeInvalidCiphertext,
		"The specified CiphertextBlob is not valid, or the EncryptionContext does not match the one used to encrypt it.")
}

func errServiceKey(op, keyID string) error {
	return Errorf(http.StatusForbidden, CodeAccessDenied,
		"This operation is forbidden by permission system. Key %s is a service key managed by %s; %s is not allowed on service keys.",
		keyID, CreatorOSS, op)
}

func errInternal(what string) error {
	return Errorf(http.StatusInternalServerError, CodeInternal, "Internal Failure. %s", what)
}

// errUpgrade is returned by an operation running under the read lock when it
// needs to mutate state (create the OSS service key). The dispatcher retries
// it under the write lock; it never reaches a caller.
var errUpgrade = &Error{HTTPStatus: http.StatusInternalServerError, Code: CodeInternal, Message: "kms: internal: write lock required"}
