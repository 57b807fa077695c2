package kms

import (
	"context"
	"fmt"
	"net/http"
)

// API is the Alibaba Cloud KMS (2016-01-20) operation set the emulator serves
// for one region. Key identifiers accepted wherever a KeyId is taken: a key
// id, an alias ("alias/..."), or an ARN "acs:kms:<region>:<account>:key/<id>".
// Every method returns *Error for any failure a KMS client could see.
type API interface {
	CreateKey(ctx context.Context, in CreateKeyInput) (KeyMetadata, error)
	DescribeKey(ctx context.Context, keyID string) (KeyMetadata, error)
	ListKeys(ctx context.Context, page Page) (ListKeysOutput, error)
	UpdateKeyDescription(ctx context.Context, keyID, description string) error
	EnableKey(ctx context.Context, keyID string) error
	DisableKey(ctx context.Context, keyID string) error
	// ScheduleKeyDeletion moves the key to PendingDeletion; days is 7..366.
	ScheduleKeyDeletion(ctx context.Context, keyID string, days int) error
	CancelKeyDeletion(ctx context.Context, keyID string) error

	CreateKeyVersion(ctx context.Context, keyID string) (KeyVersion, error)
	ListKeyVersions(ctx context.Context, keyID string, page Page) (ListKeyVersionsOutput, error)
	DescribeKeyVersion(ctx context.Context, keyID, keyVersionID string) (KeyVersion, error)
	// UpdateRotationPolicy sets automatic rotation; interval is "7d".."730d"
	// or seconds ("604800s"); it is required when enable is true.
	UpdateRotationPolicy(ctx context.Context, keyID string, enable bool, interval string) error

	CreateAlias(ctx context.Context, aliasName, keyID string) error
	UpdateAlias(ctx context.Context, aliasName, keyID string) error
	DeleteAlias(ctx context.Context, aliasName string) error
	ListAliases(ctx context.Context, page Page) (ListAliasesOutput, error)
	ListAliasesByKeyID(ctx context.Context, keyID string, page Page) (ListAliasesOutput, error)

	GenerateDataKey(ctx context.Context, in GenerateDataKeyInput) (GenerateDataKeyOutput, error)
	// GenerateDataKeyWithoutPlaintext returns the output with Plaintext nil.
	GenerateDataKeyWithoutPlaintext(ctx context.Context, in GenerateDataKeyInput) (GenerateDataKeyOutput, error)
	Encrypt(ctx context.Context, in EncryptInput) (EncryptOutput, error)
	Decrypt(ctx context.Context, in DecryptInput) (DecryptOutput, error)
	ReEncrypt(ctx context.Context, in ReEncryptInput) (EncryptOutput, error)
}

// Key states (Alibaba names).
const (
	StateEnabled         = "Enabled"
	StateDisabled        = "Disabled"
	StatePendingDeletion = "PendingDeletion"
)

// Constants the emulator supports; others are refused with InvalidParameter.
const (
	KeySpecAES256         = "Aliyun_AES_256"
	KeyUsageEncrypt       = "ENCRYPT/DECRYPT"
	OriginAliyunKMS       = "Aliyun_KMS"
	ProtectionSoftware    = "SOFTWARE"
	CreatorOSS            = "Oss"
	ServiceKeyAliasOSS    = "alias/acs/oss"
	AliasPrefix           = "alias/"
	DataKeySpecAES256     = "AES_256"
	DataKeySpecAES128     = "AES_128"
	RotationEnabled       = "Enabled"
	RotationDisabled      = "Disabled"
	RotationSuspended     = "Suspended"
	DeletionProtectionOff = "Disabled"
)

// TimeFormat is how KMS renders dates on the wire (UTC, ISO 8601).
const TimeFormat = "2006-01-02T15:04:05Z"

// Page selects a page of a listing: PageNumber from 1, PageSize 1..100
// (zero values mean 1 and 20, as in Alibaba KMS).
type Page struct {
	PageNumber int
	PageSize   int
}

// CreateKeyInput are CreateKey's parameters. Empty strings take defaults
// (Aliyun_AES_256, ENCRYPT/DECRYPT, Aliyun_KMS, SOFTWARE).
type CreateKeyInput struct {
	Description             string
	KeySpec                 string
	KeyUsage                string
	Origin                  string
	ProtectionLevel         string
	EnableAutomaticRotation bool
	RotationInterval        string
}

// KeyMetadata is DescribeKey's KeyMetadata in wire form: dates are
// TimeFormat strings, empty when not applicable.
type KeyMetadata struct {
	KeyId              string
	Arn                string
	Description        string
	KeySpec            string
	KeyUsage           string
	KeyState           string
	Creator            string
	CreationDate       string
	PrimaryKeyVersion  string
	AutomaticRotation  string
	RotationInterval   string // seconds with an "s" suffix, e.g. "2592000s"; empty when AutomaticRotation is Disabled
	LastRotationDate   string
	NextRotationDate   string
	DeleteDate         string
	Origin             string
	ProtectionLevel    string
	DeletionProtection string
	MaterialExpireTime string
}

// KeyRef is one entry of ListKeys.
type KeyRef struct {
	KeyId  string
	KeyArn string
}

// ListKeysOutput is ListKeys' result.
type ListKeysOutput struct {
	Keys       []KeyRef
	TotalCount int
	PageNumber int
	PageSize   int
}

// KeyVersion describes one version of a key.
type KeyVersion struct {
	KeyId        string
	KeyVersionId string
	CreationDate string
}

// ListKeyVersionsOutput is ListKeyVersions' result.
type ListKeyVersionsOutput struct {
	KeyVersions []KeyVersion
	TotalCount  int
	PageNumber  int
	PageSize    int
}

// Alias is one entry of ListAliases.
type Alias struct {
	AliasName string
	AliasArn  string
	KeyId     string
}

// ListAliasesOutput is ListAliases' result.
type ListAliasesOutput struct {
	Aliases    []Alias
	TotalCount int
	PageNumber int
	PageSize   int
}

// GenerateDataKeyInput: NumberOfBytes (1..1024) wins over KeySpec; with
// neither the key is 32 bytes.
type GenerateDataKeyInput struct {
	KeyId             string
	KeySpec           string
	NumberOfBytes     int
	EncryptionContext map[string]string
}

// GenerateDataKeyOutput carries the data key in plaintext (nil for the
// WithoutPlaintext variant) and sealed. KeyId is the resolved key id.
type GenerateDataKeyOutput struct {
	KeyId          string
	KeyVersionId   string
	Plaintext      []byte
	CiphertextBlob []byte
}

// EncryptInput: Plaintext is at most 6 KiB.
type EncryptInput struct {
	KeyId             string
	Plaintext         []byte
	EncryptionContext map[string]string
}

// EncryptOutput is Encrypt's and ReEncrypt's result.
type EncryptOutput struct {
	KeyId          string
	KeyVersionId   string
	CiphertextBlob []byte
}

// DecryptInput has no KeyId: the blob names its key and version.
type DecryptInput struct {
	CiphertextBlob    []byte
	EncryptionContext map[string]string
}

// DecryptOutput is Decrypt's result.
type DecryptOutput struct {
	KeyId        string
	KeyVersionId string
	Plaintext    []byte
}

// ReEncryptInput re-seals a blob under DestinationKeyId without returning
// the plaintext to the caller.
type ReEncryptInput struct {
	CiphertextBlob               []byte
	SourceEncryptionContext      map[string]string
	DestinationKeyId             string
	DestinationEncryptionContext map[string]string
}

// Error is a KMS error as a client sees it: HTTP status, Alibaba error code
// and message. Callers branch on Code (see the Code* constants).
type Error struct {
	HTTPStatus int
	Code       string
	Message    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("kms: %s (%d): %s", e.Code, e.HTTPStatus, e.Message)
}

// Is lets errors.Is match on Code: errors.Is(err, &Error{Code: CodeDisabled}).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Error codes (Alibaba Cloud KMS names). The HTTP status each is returned
// with is noted; "doc" marks codes and statuses confirmed in Alibaba's
// documentation (doc 69008 "Common error codes", doc 44211 "Impact of CMK
// states on API calls"), "chosen" marks the emulator's own choice where no
// Alibaba source was found (see doc.go).
const (
	CodeKeyNotFound         = "Forbidden.KeyNotFound"        // 404, doc
	CodeAliasNotFound       = "Forbidden.AliasNotFound"      // 404, doc
	CodeKeyVersionNotFound  = "Forbidden.KeyVersionNotFound" // 404, doc
	CodeAccessDenied        = "Forbidden.NoPermission"       // 403, doc; used for operations refused on service keys
	CodeDisabled            = "Rejected.Disabled"            // 409, doc
	CodePendingDeletion     = "Rejected.PendingDeletion"     // 409, doc
	CodeStateModifiedFailed = "Rejected.StateModifiedFailed" // 409, doc
	CodeAliasExists         = "AliasAlreadyExists"           // 400, doc ("AliasName Already Exists.")
	CodeLimitExceeded       = "Rejected.LimitExceeded"       // 400, doc; not raised by the emulator
	CodeInvalidParameter    = "InvalidParameter"             // 400, doc
	CodeMissingParameter    = "MissingParameter"             // 400, doc
	CodeInvalidCiphertext   = "Rejected.InvalidCiphertext"   // 400, chosen: Decrypt/ReEncrypt blob unreadable, tampered or context mismatch
	CodeUnsupportedOp       = "UnsupportedOperation"         // 400, doc; not raised by the emulator
	CodeInternal            = "InternalFailure"              // 500, doc
)

// Errorf builds an *Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{HTTPStatus: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common constructors so status codes stay consistent.
func errKeyNotFound() *Error {
	return Errorf(http.StatusNotFound, CodeKeyNotFound, "The specified Key is not found.")
}
