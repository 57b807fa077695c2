package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Principal is an authenticated caller, as the protocol front ends found it.
type Principal struct {
	Name string // "root" for the root credentials
}

// Authorizer decides what a principal may do. The reference server's
// implementation reads the --users file; nil means everyone may do
// everything (tests of single-principal setups).
type Authorizer interface {
	// CanReadBucket covers GET/HEAD of objects and listings of bucket.
	CanReadBucket(p Principal, bucket string) bool
	// CanWriteBucket covers creating/deleting the bucket, its encryption
	// rule, and putting/copying/deleting objects and multipart uploads in it.
	CanWriteBucket(p Principal, bucket string) bool
	// CanDecrypt covers reading an object sealed with KMS key keyID.
	CanDecrypt(p Principal, keyID string) bool
}

// Algorithms (the OSS names; the S3 front end maps aws:kms to KMS).
const (
	AlgorithmAES256 = "AES256"
	AlgorithmKMS    = "KMS"
	// AlgorithmSM4 is accepted by real OSS but not by the reference, which
	// supports AES-256 only (the seed document says so); requests naming it
	// get KindInvalidEncryptionAlgorithm.
	AlgorithmSM4 = "SM4"
	// AlgorithmSSEC is SSE-C, a key the client provides with every
	// request (S3 only; doc.go "SSE-C"). Writes name it with
	// SSE.CustomerKey; reads carry the key in their context
	// (WithCustomerKey).
	AlgorithmSSEC = "SSE-C"
)

// SSE is an encryption request or result in dialect-neutral form. The zero
// value means "not encrypted" (or, in a request, "not specified").
type SSE struct {
	Algorithm string // "", AlgorithmAES256, AlgorithmKMS or AlgorithmSSEC
	// CustomerKey is the key of an AlgorithmSSEC write request; never set
	// in a result, never stored. A pointer keeps SSE comparable.
	CustomerKey *[32]byte
	// KMSKeyID is the CMK: in a request an id, alias or ARN, "" for the
	// region's default key alias/acs/oss; in a result always the resolved
	// key id (never an alias).
	KMSKeyID string
	// DataEncryption is OSS's x-oss-server-side-data-encryption (only "SM4"
	// exists); the reference refuses it with KindInvalidEncryptionAlgorithm.
	DataEncryption string
}

// EncryptionRule is a bucket's default encryption.
type EncryptionRule struct {
	Algorithm      string // AlgorithmAES256 or AlgorithmKMS
	KMSMasterKeyID string // only with KMS; "" = alias/acs/oss at write time
	// KMSDataEncryption mirrors OSS's KMSDataEncryption element; only "" is
	// accepted by the reference.
	KMSDataEncryption string
	// AllowSSEC is S3's BlockedEncryptionTypes NONE: SSE-C writes are
	// accepted. false (SSE-C blocked, AWS's default for new buckets since
	// April 2026) also holds for a bucket without a rule.
	AllowSSEC bool
}

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name         string
	Region       string
	CreationDate time.Time
	StorageClass string // CreateBucketOptions.StorageClass, StorageClassStandard by default
	Owner        string // principal that created it
	// Encryption is the default rule; nil when none is set.
	Encryption *EncryptionRule
	// Versioning is VersioningEnabled, VersioningSuspended, or "" when
	// versioning was never enabled.
	Versioning string
	// ACL is the bucket's canned ACL (ACLPrivate unless one was set).
	ACL string
}

// CreateBucketOptions are the settings of a new bucket.
type CreateBucketOptions struct {
	// Rule is the default encryption (nil = Config.DefaultSSE).
	Rule *EncryptionRule
	// StorageClass is one of StorageClasses ("" = StorageClassStandard).
	// Objects written to the bucket without a class get it (OSS's
	// behaviour; S3 buckets have no class, so always Standard). Like an
	// object's class it is metadata only.
	StorageClass string
	// ACL is the bucket's canned ACL ("" = ACLPrivate); the front end
	// checks it is one of its dialect's.
	ACL string
}

// ObjectInfo describes a stored object (or, in listings, a listed one).
type ObjectInfo struct {
	Bucket string
	Key    string
	Size   int64
	// ETag is lowercase hex MD5 of the content for single-part objects, and
	// for multipart objects the completing dialect's rule
	// (CompleteOptions.ETagRule: S3's MD5 of the binary part MD5s, or
	// OSS's of their upper-case hex) plus "-N", kept as computed. No
	// quotes; front ends quote it and OSS upper-cases it.
	ETag               string
	LastModified       time.Time
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	Expires            string
	// UserMetadata keys are lower-case, without the x-oss-meta-/x-amz-meta- prefix.
	UserMetadata map[string]string
	CRC64        uint64 // CRC-64/ECMA-182 (Go crc64.ECMA) of the plaintext
	// StorageClass is the class the object was written with, in the
	// spelling of the dialect that wrote it (see StorageClasses);
	// StorageClassStandard for objects written without one.
	StorageClass string
	Multipart    bool // OSS x-oss-object-type Multipart vs Normal
	PartsCount   int
	// Parts are a multipart object's parts, in order (nil otherwise).
	Parts []ObjectPart
	// Checksum is the object's checksum (zero for objects stored before
	// checksums were kept).
	Checksum Checksum
	SSE      SSE
	// VersionID is the version's id, NullVersionID for the null version,
	// and "" in a bucket that never had versioning (front ends then send
	// no version header). ListObjectVersions always sets it.
	VersionID string
	// IsLatest and DeleteMarker are set by ListObjectVersions only.
	IsLatest     bool
	DeleteMarker bool
	// ACL is the object's canned ACL as set, ACLDefault ("") when none
	// was: OSS reports that as "default" (the bucket's ACL applies), S3
	// as private.
	ACL string
	// Tags are the object's tags in the order they were set (nil: none).
	Tags []Tag
	// Appendable marks an object AppendObject wrote (OSS's object type
	// Appendable); its next append position is Size.
	Appendable bool
	// SymlinkTarget is the target key when the object is a symbolic link
	// (PutSymlink; OSS's object type Symlink): it has no content of its
	// own and the store does not follow it (symlink.go).
	SymlinkTarget string
}

// ObjectPart is one part of a multipart object.
type ObjectPart struct {
	PartNumber int
	Size       int64
	// Checksum is the part's checksum in the object's checksum algorithm
	// (Type FULL_OBJECT: it covers exactly the part), zero when the object
	// has none.
	Checksum Checksum
}

// WriteCondition makes a write conditional on the object it would
// replace. The store checks it in the transaction that commits the write,
// so no other write can come between the check and the commit.
type WriteCondition struct {
	// IfMatch, when set, requires the object to exist (else KindNoSuchKey)
	// with one of these ETags (comma-separated, quotes and case ignored;
	// "*" matches any), else KindPreconditionFailed.
	IfMatch string
	// IfNoneMatch, when set, fails with KindPreconditionFailed when the
	// object exists and "*" or its ETag is listed.
	IfNoneMatch string
}

// PutOptions are the request settings of a write.
type PutOptions struct {
	SSE                SSE // zero = use the bucket default
	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	ContentLanguage    string
	Expires            string
	UserMetadata       map[string]string
	// StorageClass is one of StorageClasses; "" = StorageClassStandard
	// (CopyObject: the source's class).
	StorageClass string
	// ContentMD5 is the decoded Content-MD5 header (16 bytes) or nil.
	ContentMD5 []byte
	// ChecksumAlgorithm is the checksum to compute and keep: for PutObject
	// and CopyObject over the content ("" = DefaultChecksumAlgorithm;
	// CopyObject: the source's), for CreateMultipartUpload the upload's
	// algorithm ("" = the default, CRC64NVME FULL_OBJECT). A client's
	// declared value is verified by the front end, which must name its
	// algorithm here so that what is stored is what was checked.
	ChecksumAlgorithm string
	// ChecksumType is CreateMultipartUpload's checksum type: "" = COMPOSITE
	// (FULL_OBJECT for CRC64NVME); FULL_OBJECT only for the CRCs.
	ChecksumType string
	// Condition applies to PutObject and CopyObject (the destination).
	Condition WriteCondition
	// ACL is the new object's canned ACL ("" = ACLDefault). A copy never
	// takes its source's ACL (neither OSS nor S3 copies it): it gets this.
	ACL string
	// Tags are the new object's tags (CheckTags; nil = none). A copy
	// takes them only with CopyOptions.ReplaceTags.
	Tags []Tag
}

// CopyOptions are CopyObject's settings.
type CopyOptions struct {
	// ReplaceMetadata is x-oss-metadata-directive/x-amz-metadata-directive
	// REPLACE: take content type and user metadata from Put instead of the
	// source. Encryption is never copied from the source: the destination
	// gets Put.SSE or, when that is zero, the destination bucket's default.
	// The checksum (Put.ChecksumAlgorithm, else the source's algorithm) is
	// computed over the copied bytes; when the source's full-object value
	// is carried it must match them.
	ReplaceMetadata bool
	Put             PutOptions
	// SourceVersionID selects a version of the source ("" = current).
	SourceVersionID string
	// ReplaceTags is x-oss-tagging-directive/x-amz-tagging-directive
	// REPLACE: the destination gets Put.Tags; otherwise (COPY, the
	// default of both services) the source's tags.
	ReplaceTags bool
}

// ListOptions select a page of a bucket listing, in key order.
type ListOptions struct {
	Prefix    string
	Delimiter string
	// After lists keys strictly greater than After (marker / start-after /
	// decoded continuation token).
	After   string
	MaxKeys int // 0 = 1000; capped at 1000
}

// ListResult is one page of a listing. NextAfter is the key (or common
// prefix) to pass as After for the next page when IsTruncated.
type ListResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	NextAfter      string
}

// Upload describes a multipart upload in progress.
type Upload struct {
	Bucket, Key, UploadID string
	Initiated             time.Time
	SSE                   SSE
	StorageClass          string
	// ChecksumAlgorithm and ChecksumType are what CreateMultipartUpload
	// asked for ("" when it named no algorithm: the store then keeps a
	// CRC64NVME FULL_OBJECT checksum, which it reports on the object only).
	ChecksumAlgorithm string
	ChecksumType      string
}

// Part describes an uploaded part.
type Part struct {
	PartNumber   int
	ETag         string // lowercase hex MD5 of the part's content
	Size         int64
	LastModified time.Time
	CRC64        uint64
	// Checksum is the part's checksum in the upload's algorithm (zero for
	// uploads created before checksums were kept).
	Checksum Checksum
}

// PartOptions are UploadPart's settings.
type PartOptions struct {
	ContentMD5 []byte // decoded Content-MD5 or nil
	// ChecksumAlgorithm is the algorithm of a checksum the client declared
	// (and the front end verifies) for this part, "" for none. An upload
	// created with an algorithm accepts only that one; one created without
	// keeps the declared checksum too, so CompleteMultipartUpload can check
	// it when the client lists it.
	ChecksumAlgorithm string
}

// CompletePart names a part in CompleteMultipartUpload.
type CompletePart struct {
	PartNumber int
	ETag       string // as the client sent it; quotes and case are ignored
	// Checksums the client listed for the part; each must equal the
	// stored checksum of its algorithm (else KindInvalidPart).
	Checksums []Checksum
}

// CompleteOptions are CompleteMultipartUpload's settings.
type CompleteOptions struct {
	// MinPartSize is the dialect's minimum for every part but the last
	// (OSS 100 KiB, S3 5 MiB).
	MinPartSize int64
	// Checksum is the whole-object checksum the client declared (zero =
	// none): its algorithm must be the upload's and its value (Parts, when
	// given) the one computed, else KindInvalidRequest / KindInvalidDigest.
	Checksum Checksum
	// ChecksumType, when set, must be the upload's (KindInvalidRequest).
	ChecksumType string
	Condition    WriteCondition
	// ETagRule is how the object's ETag is made from the part MD5s: the
	// dialect completing the upload chooses (see MultipartETagRule).
	ETagRule MultipartETagRule
	// AllowNoParts lets an empty part list complete the upload into an
	// empty object, as OSS does (the v2 OSS SDK's uploader completes an
	// empty stream of unknown length that way); without it an empty list
	// is KindInvalidArgument, as S3 refuses one.
	AllowNoParts bool
}

// MultipartETagRule says how a multipart object's ETag is computed; the
// ETag is computed once, at completion, and kept.
type MultipartETagRule int

const (
	// MultipartETagS3 is hex(MD5(the binary part MD5s concatenated)) "-N",
	// S3's rule (and the zero value).
	MultipartETagS3 MultipartETagRule = iota
	// MultipartETagOSS is hex(MD5(the part MD5s as upper-case hex,
	// concatenated)) "-N", OSS's rule (pinned by the v1 OSS SDK's own
	// tests: 2351E662233817A7AE974D8C5B0876DD-5 for its sample image in
	// 100 KiB parts).
	MultipartETagOSS
)

// ListUploadsOptions select a page of ListMultipartUploads.
type ListUploadsOptions struct {
	Prefix, Delimiter, KeyMarker, UploadIDMarker string
	MaxUploads                                   int // 0 = 1000
}

// ListUploadsResult is one page of ListMultipartUploads.
type ListUploadsResult struct {
	Uploads                           []Upload
	CommonPrefixes                    []string
	IsTruncated                       bool
	NextKeyMarker, NextUploadIDMarker string
}

// ListPartsResult is one page of ListParts.
type ListPartsResult struct {
	Parts                []Part
	IsTruncated          bool
	NextPartNumberMarker int
}

// Object is an open object for reading. Its data key (if any) has been
// unsealed and its data file is held open, so a concurrent overwrite or
// delete does not change what this reader returns. Close releases it.
type Object interface {
	Info() ObjectInfo
	// Range returns the plaintext bytes [off, off+length). The caller
	// validates the range against Info().Size; an out-of-bounds range is
	// KindInvalidRange.
	Range(ctx context.Context, off, length int64) (io.ReadCloser, error)
	Close() error
}

// Store is the dialect-neutral object store both protocol front ends call.
// Every method checks the principal's grants first. Errors are *Error.
type Store interface {
	// Region is the region every bucket of this store lives in.
	Region() string

	CreateBucket(ctx context.Context, p Principal, name string, rule *EncryptionRule) (BucketInfo, error)
	// CreateBucketWithOptions is CreateBucket with the settings of
	// CreateBucketOptions.
	CreateBucketWithOptions(ctx context.Context, p Principal, name string, opts CreateBucketOptions) (BucketInfo, error)
	DeleteBucket(ctx context.Context, p Principal, name string) error
	GetBucket(ctx context.Context, p Principal, name string) (BucketInfo, error)
	// ListBuckets lists the buckets p may read, in name order.
	ListBuckets(ctx context.Context, p Principal) ([]BucketInfo, error)
	PutBucketEncryption(ctx context.Context, p Principal, bucket string, rule EncryptionRule) error
	// GetBucketEncryption returns KindNoSuchEncryptionRule when none is set.
	GetBucketEncryption(ctx context.Context, p Principal, bucket string) (EncryptionRule, error)
	DeleteBucketEncryption(ctx context.Context, p Principal, bucket string) error

	// PutObject stores body (exactly size bytes; size -1 = until EOF). The
	// object becomes visible only once fully written, checked and durable.
	PutObject(ctx context.Context, p Principal, bucket, key string, body io.Reader, size int64, opts PutOptions) (ObjectInfo, error)
	// HeadObject reads metadata only; it never calls KMS.
	HeadObject(ctx context.Context, p Principal, bucket, key string) (ObjectInfo, error)
	// OpenObject checks read and, for KMS objects, decrypt permission and
	// the key's state, and unseals the data key.
	OpenObject(ctx context.Context, p Principal, bucket, key string) (Object, error)
	// DeleteObject succeeds when the key does not exist. In a bucket with
	// versioning it adds a delete marker (DeleteObjectVersion).
	DeleteObject(ctx context.Context, p Principal, bucket, key string) error
	CopyObject(ctx context.Context, p Principal, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error)
	ListObjects(ctx context.Context, p Principal, bucket string, opts ListOptions) (ListResult, error)

	CreateMultipartUpload(ctx context.Context, p Principal, bucket, key string, opts PutOptions) (Upload, error)
	UploadPart(ctx context.Context, p Principal, bucket, key, uploadID string, partNumber int, body io.Reader, size int64, opts PartOptions) (Part, Upload, error)
	CompleteMultipartUpload(ctx context.Context, p Principal, bucket, key, uploadID string, parts []CompletePart, opts CompleteOptions) (ObjectInfo, error)
	AbortMultipartUpload(ctx context.Context, p Principal, bucket, key, uploadID string) error
	ListParts(ctx context.Context, p Principal, bucket, key, uploadID string, partNumberMarker, maxParts int) (ListPartsResult, Upload, error)
	ListMultipartUploads(ctx context.Context, p Principal, bucket string, opts ListUploadsOptions) (ListUploadsResult, error)

	// PutBucketVersioning sets VersioningEnabled or VersioningSuspended
	// (GetBucket reports the state).
	PutBucketVersioning(ctx context.Context, p Principal, bucket, status string) error
	// HeadObjectVersion and OpenObjectVersion address one version
	// (versionID "" = the current one, "null" = the null version). A
	// current delete marker is KindNoSuchKey, an addressed one
	// KindMethodNotAllowed, an unknown version KindNoSuchVersion; the
	// *Error then carries the marker or version.
	HeadObjectVersion(ctx context.Context, p Principal, bucket, key, versionID string) (ObjectInfo, error)
	OpenObjectVersion(ctx context.Context, p Principal, bucket, key, versionID string) (Object, error)
	// DeleteObjectVersion deletes the object (versionID "") or removes one
	// version for good.
	DeleteObjectVersion(ctx context.Context, p Principal, bucket, key, versionID string) (DeleteResult, error)
	ListObjectVersions(ctx context.Context, p Principal, bucket string, opts ListVersionsOptions) (ListVersionsResult, error)

	// PutBucketACL sets the bucket's canned ACL ("" = ACLPrivate; the
	// front end checks it is one of its dialect's). GetBucket reports it.
	PutBucketACL(ctx context.Context, p Principal, bucket, acl string) error
	// PutObjectACL sets a version's canned ACL (versionID "" = the current
	// one; "" = ACLDefault) and PutObjectTagging replaces its tags (nil
	// removes them); neither changes its data, ETag or LastModified, as on
	// both services. HeadObjectVersion reports both. They return the
	// version's info after the change.
	PutObjectACL(ctx context.Context, p Principal, bucket, key, versionID, acl string) (ObjectInfo, error)
	PutObjectTagging(ctx context.Context, p Principal, bucket, key, versionID string, tags []Tag) (ObjectInfo, error)

	// PutBucketPolicy stores a policy ParseBucketPolicy made; it takes
	// effect for the next request. GetBucketPolicy returns it (the
	// document as sent) or KindNoSuchBucketPolicy; DeleteBucketPolicy
	// removes it (none is not an error).
	PutBucketPolicy(ctx context.Context, p Principal, bucket string, pol *BucketPolicy) error
	GetBucketPolicy(ctx context.Context, p Principal, bucket string) (*BucketPolicy, error)
	DeleteBucketPolicy(ctx context.Context, p Principal, bucket string) error
	// PolicyDenies reports whether the bucket's policy denies a request;
	// front ends ask before every operation on a bucket. Memory only.
	PolicyDenies(req PolicyRequest) bool

	// PutBucketConfig stores a bucket configuration document (CORS,
	// lifecycle, website, ...) the front end validated, under a name the
	// front end chose; GetBucketConfig returns it, nil when none is set;
	// DeleteBucketConfig removes it (none is not an error). The Account
	// forms keep a principal's account-level documents (bucketconfig.go).
	PutBucketConfig(ctx context.Context, p Principal, bucket, name string, doc []byte) error
	GetBucketConfig(ctx context.Context, p Principal, bucket, name string) ([]byte, error)
	DeleteBucketConfig(ctx context.Context, p Principal, bucket, name string) error
	// ReadBucketConfig reads a configuration without a principal: only
	// for the anonymous CORS preflight.
	ReadBucketConfig(ctx context.Context, bucket, name string) ([]byte, error)
	// BucketExists reports whether a bucket exists, without a principal
	// (OSS answers NoSuchBucket before it checks credentials).
	BucketExists(ctx context.Context, bucket string) (bool, error)
	PutAccountConfig(ctx context.Context, p Principal, name string, doc []byte) error
	GetAccountConfig(ctx context.Context, p Principal, name string) ([]byte, error)
	DeleteAccountConfig(ctx context.Context, p Principal, name string) error

	// AppendObject appends body (size bytes, -1 = until EOF) to the
	// appendable object bucket/key at position, creating it at position
	// 0 (append.go).
	AppendObject(ctx context.Context, p Principal, bucket, key string, position int64, body io.Reader, size int64, opts PutOptions) (ObjectInfo, error)
	// PutSymlink writes a symbolic link bucket/key to target, a key of the
	// same bucket (symlink.go).
	PutSymlink(ctx context.Context, p Principal, bucket, key, target string, opts PutOptions) (ObjectInfo, error)
}

// Kind classifies an *Error; front ends map each kind to their dialect's
// code and HTTP status.
type Kind int

const (
	KindInternal Kind = iota
	KindAccessDenied
	KindInvalidBucketName
	KindInvalidObjectName // empty, too long (>1023 bytes) or not UTF-8
	KindNoSuchBucket
	KindBucketAlreadyExists // exists and is owned by someone else
	KindBucketAlreadyOwnedByYou
	KindBucketNotEmpty
	KindNoSuchKey
	KindNoSuchUpload
	KindInvalidPart      // a completed part is missing or its ETag differs
	KindInvalidPartOrder // parts not in ascending order
	KindEntityTooSmall   // a non-final part below the minimum (100 KiB OSS / 5 MiB S3 — front end passes the dialect minimum)
	KindInvalidDigest    // Content-MD5 or a declared checksum does not match
	KindIncompleteBody   // fewer bytes than the declared size
	KindInvalidRange
	KindInvalidArgument // e.g. a KMS key id with AES256, a bad part number
	KindNoSuchEncryptionRule
	KindInvalidEncryptionAlgorithm // unknown or unsupported (SM4) algorithm
	KindKMSAccessDenied            // principal lacks decrypt on the CMK ("This request is forbidden by kms.")
	KindKMSKeyDisabled
	KindKMSKeyPendingDeletion
	KindKMSKeyNotFound
	KindKMSInvalidKeyID // malformed key id
	KindKMSUnavailable  // KMS failed in another way
	KindDecryptFailed   // stored data or record fails authentication (never plaintext)
	KindEntityTooLarge
	KindPreconditionFailed // a WriteCondition does not hold
	// KindInvalidRequest: the request's settings are each valid but do not
	// fit together or with the upload (e.g. a checksum type the algorithm
	// has not, a part checksum of another algorithm than the upload's).
	KindInvalidRequest
	KindNoSuchVersion    // a version id that is not (or no longer) there
	KindMethodNotAllowed // the addressed version is a delete marker
	KindNoSuchInventory  // no bucket inventory configuration with that id
	// KindSlowDown: the principal already holds Config.MaxUploadsPerPrincipal
	// uploads; it may retry when one ends.
	KindSlowDown
	// KindRequestTimeout: the request body stopped arriving (or arrived
	// slower than the server's minimum rate) and the read timed out; the
	// partial upload was discarded.
	KindRequestTimeout
	// KindIntegrity: stored metadata or data failed the store's own
	// integrity checks (record authentication, data file name, size or
	// plaintext CRC-64); the *Error wraps an *IntegrityError. Front ends
	// answer it as an internal error, never with the object's bytes or
	// headers.
	KindIntegrity
	// KindInvalidTag: a tag set breaks CheckTags (count, length,
	// duplicate or invalid key).
	KindInvalidTag
	// KindNoSuchBucketPolicy: the bucket has no policy.
	KindNoSuchBucketPolicy
	// KindMalformedPolicy: a policy document is not valid (policy.go);
	// the message names what is wrong.
	KindMalformedPolicy
	// KindPolicyUnsupported: a valid policy document uses what the
	// reference does not enforce (Allow grants, other operators or keys);
	// it is not stored, and the message names the part. Front ends answer
	// 501 NotImplemented: the document is not wrong, the server lacks it.
	KindPolicyUnsupported
	// KindPositionNotEqualToLength: an append's position is not the
	// object's length; Error.NextPosition carries the length.
	KindPositionNotEqualToLength
	// KindObjectNotAppendable: an append to an object that is not
	// appendable (written by another operation, or at its append limit).
	KindObjectNotAppendable
	// KindCustomerKeyRequired: a read, copy or part of an SSE-C object or
	// upload without the customer key (S3: 400 InvalidRequest).
	KindCustomerKeyRequired
	// KindCustomerKeyMismatch: the customer key does not open the
	// object's data key (S3: 403 AccessDenied).
	KindCustomerKeyMismatch
)

// Error is the store's error type.
type Error struct {
	Kind     Kind
	Message  string // human-readable, safe to send to the client
	Resource string // "/bucket" or "/bucket/key"
	Err      error  // underlying cause (e.g. *kms.Error), for logs; never sent
	// DeleteMarker, VersionID and LastModified describe the delete marker
	// a read met (KindNoSuchKey, KindMethodNotAllowed) or the version not
	// found (KindNoSuchVersion), for the front ends' version headers.
	DeleteMarker bool
	VersionID    string
	LastModified time.Time
	// NextPosition is the object's length on KindPositionNotEqualToLength
	// (OSS's x-oss-next-append-position).
	NextPosition int64
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("objstore: %s: %s: %v", e.Resource, e.Message, e.Err)
	}
	return fmt.Sprintf("objstore: %s: %s", e.Resource, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, KindInternal for errors of other types.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
