// Package osshttp is the reference server's Alibaba Cloud OSS protocol front
// end: it speaks the OSS REST dialect, as both official Go SDKs use it
// unmodified (github.com/aliyun/aliyun-oss-go-sdk v3.0.2 "v1", and
// github.com/aliyun/alibabacloud-oss-go-sdk-v2 v1.6.1 "v2"), in front of the
// dialect-neutral objstore.Store. It authenticates, parses and validates
// requests, maps them to Store calls and renders OSS answers and errors. It
// must not keep state of its own, must not implement storage or encryption
// (the store and envelope do), and must never log a secret, a signature or
// object data. Tests drive every operation through both SDKs over loopback
// HTTP against the real store, in seven flavors: v1 with V1 and V4
// signatures, v2 with V4 and V1, each path-style and virtual-hosted.
//
// # Addressing
//
// Virtual-hosted requests arrive with Host "<bucket>.<suffix>[:port]" for a
// configured suffix (default oss-<region>.aliyuncs.com,
// oss-<region>-internal.aliyuncs.com and localhost; the port is ignored) and
// the key as the path. Everything else — an IP address (both SDKs switch to
// path style for one), a bare suffix, any other name — is path-style:
// "/<bucket>/<key>", "/<bucket>/" or "/". The path is percent-decoded once
// (the v1 SDK escapes "/" in keys as %2F, the v2 SDK keeps it; "+" is
// literal). Mount the handler at the root without path cleaning. With an
// endpoint of localhost:PORT the SDKs send virtual-hosted requests to
// <bucket>.localhost:PORT; where that name does not resolve, give the SDK an
// HTTP client that dials the server (tests do).
//
// # Signatures
//
// All four forms the SDKs produce are verified (tests also check the v2
// SDK's own signer package byte for byte, for paths and queries needing
// every escaping rule):
//
//   - V1 header, "Authorization: OSS <AccessKeyId>:<base64 HMAC-SHA1>" over
//     VERB "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//     CanonicalizedOSSHeaders CanonicalizedResource. OSS headers are every
//     x-oss-* header, name lower-cased, value trimmed (several values joined
//     by ","), sorted, "name:value\n". The resource is "/", "/bucket/" or
//     "/bucket/key" (decoded key) plus "?" and the sorted signed
//     sub-resources as k or k=v with raw decoded values. Signed sub-resources
//     are the union of the v1 SDK's signKeyList, the v2 SDK's fixed map and
//     every operation SubResource, plus every "x-oss-" parameter; a
//     signature over exactly the v1 SDK's list is accepted too (it leaves
//     other "x-oss-" parameters unsigned). The time is x-oss-date when sent,
//     else Date.
//   - V1 presigned URL: OSSAccessKeyId, Expires (Unix seconds, the Date line
//     of the string to sign) and Signature. Past Expires: 403 AccessDenied
//     "Request has expired.".
//   - V4 header, "OSS4-HMAC-SHA256 Credential=<AK>/<yyyymmdd>/<region>/oss/
//     aliyun_v4_request[,AdditionalHeaders=<h1;h2>],Signature=<hex>" (items
//     split on "," and trimmed). Canonical request = VERB "\n" URI "\n" query
//     "\n" headers "\n" AdditionalHeaders "\n" x-oss-content-sha256. URI:
//     "/", "/bucket/" or "/bucket/key", every byte but A-Za-z0-9-._~ and "/"
//     as %XX. Query: the raw query with "+" as "%20", split on "&" and the
//     first "=", sorted by (still encoded) key, "k=v" or "k" for an empty
//     value, the last value of a repeated key (as the v2 SDK computes it).
//     Headers: every x-oss-*, Content-Type, Content-MD5 and additional
//     header ("host" is the Host), "name:value\n", trimmed, several joined
//     by ",". String to sign: "OSS4-HMAC-SHA256\n" timestamp "\n" scope
//     "\n" hex(SHA-256(canonical request)); key: HMAC-SHA256 chain from
//     "aliyun_v4"+secret over date, region, "oss", "aliyun_v4_request". The
//     timestamp is x-oss-date verbatim when sent, else Date verbatim (the v1
//     SDK in V4 mode sends no x-oss-date). The scope must name this
//     endpoint's region and product "oss", and its date must be the
//     timestamp's, else 400 InvalidArgument. x-oss-content-sha256 must be
//     UNSIGNED-PAYLOAD when sent (400 InvalidArgument, EC 0002-00000214).
//   - V4 presigned URL: x-oss-signature-version, x-oss-credential,
//     x-oss-date, x-oss-expires (1..604800), optional
//     x-oss-additional-headers and x-oss-signature, which the canonical query
//     leaves out; the payload is UNSIGNED-PAYLOAD.
//
// Request times more than Config.MaxSkew (15 minutes) from Config.Clock are
// 403 RequestTimeTooSkewed (with RequestTime and ServerTime); the response
// Date comes from the same clock, which the v2 SDK uses to correct its own
// and retry. An unknown access key is 403 InvalidAccessKeyId (EC
// 0002-00000902); a bad
// signature 403 SignatureDoesNotMatch (EC 0002-00000040, with StringToSign,
// StringToSignBytes or CanonicalRequest, SignatureProvided and
// OSSAccessKeyId, as OSS does); a malformed Authorization 400
// InvalidArgument; no signature at all 403 AccessDenied; a
// missing or unparseable Date 403 AccessDenied "OSS authentication requires
// a valid Date."; a security token (x-oss-security-token, security-token)
// 403 InvalidAccessKeyId, as OSS answers a token it cannot match (there is
// no STS here). IsOSSRequest tells OSS-signed requests from S3 ones.
// When authentication fails for a request naming a bucket that does not
// exist, the answer is 404 NoSuchBucket instead (PutBucket excepted), as
// OSS answers before it looks at credentials; the v2 SDK's IsBucketExist
// relies on it, and bucket names are public (DNS) anyway.
//
// Signature V2 ("OSS2", the v1 SDK's AuthV2) is verified too, header and
// presigned URL (signaturev2.go): HMAC-SHA256 over the V1 layout plus
// the additional headers, with a resource that query-escapes the path and
// signs every query parameter.
//
// # Operations
//
// Service: ListBuckets (GET /; prefix, marker, max-keys 1..1000 default
// 100) with Name, CreationDate, Location oss-<region>, Region,
// ExtranetEndpoint, IntranetEndpoint (the endpoint the request came to),
// StorageClass, ResourceGroupId.
//
// Buckets: PutBucket (optional CreateBucketConfiguration body; the three
// x-oss-server-side-encryption* headers set the default rule), DeleteBucket
// (204; 409 BucketNotEmpty), GetBucketInfo (ServerSideEncryptionRule flat,
// SSEAlgorithm "None" when unset; Versioning Enabled or Suspended, absent
// when never set; StorageClass; ResourceGroupId; AccessControlList/Grant
// the bucket's ACL; BlockPublicAccess false, as it cannot be turned on
// here and public ACLs are kept), GetBucketLocation, GetBucketAcl and
// PutBucketAcl (x-oss-acl private, public-read or public-read-write, also
// on PutBucket; another value 400 InvalidArgument), PutBucketEncryption (200),
// GetBucketEncryption (200, 404 NoSuchServerSideEncryptionRule EC
// 0005-00000004), DeleteBucketEncryption (204, also when no rule is set),
// ListObjects, ListObjectsV2 (list-type=2; KeyCount, fetch-owner,
// continuation tokens are unpadded base64url of the key to continue after),
// ListMultipartUploads, DeleteMultipleObjects (Content-MD5 required: 400
// MissingArgument EC 0016-00000606; Quiet; 1..1000 objects).
//
// Versioning: PutBucketVersioning (Enabled or Suspended, any other Status
// 400 InvalidArgument, a body that is no VersioningConfiguration 400
// MalformedXML), GetBucketVersioning (no Status for a bucket that never had
// versioning), ListObjectVersions (GET ?versions: Version and DeleteMarker
// in listing order, key-marker/version-id-marker paging, max-keys 1..1000
// default 100, encoding-type=url). Writes answer x-oss-version-id in
// buckets that have or had versioning; versionId addresses a version on
// GET, HEAD, GetObjectMeta, DELETE and in x-oss-copy-source; CopyObject
// answers x-oss-copy-source-version-id (the version copied: the current
// one unless addressed) whenever the source bucket has or had versioning; DeleteObject answers x-oss-delete-marker
// and the marker's x-oss-version-id; DeleteMultipleObjects takes VersionId
// and reports DeleteMarker and DeleteMarkerVersionId. A read meeting a
// current delete marker is 404 NoSuchKey with x-oss-delete-marker: true
// and the marker's id; addressing a marker is 405 MethodNotAllowed, EC
// 0017-00000002 (c).
//
// Objects: PutObject, GetObject, HeadObject, GetObjectMeta (HEAD
// ?objectMeta), DeleteObject (204, also when absent), CopyObject
// (x-oss-copy-source "/bucket/key" query-unescaped, x-oss-metadata-directive
// COPY|REPLACE, conditional copy headers), InitiateMultipartUpload,
// UploadPart, CompleteMultipartUpload (also x-oss-complete-all: yes; with a
// body as well it is 400 InvalidArgument "Should not speficy both complete
// all header and http body.", EC 0042-00000216, OSS's wording),
// AbortMultipartUpload, ListParts, RestoreObject (see below),
// UploadPartCopy (x-oss-copy-source, x-oss-copy-source-range, whose
// invalid or out-of-range value copies the whole source as OSS documents,
// and the conditional copy headers; the part is encrypted with its
// upload's data key, i.e. the encryption InitiateMultipartUpload's request
// or the bucket default fixed, never the source's; CopyPartResult).
//
// ACLs and tags: x-oss-object-acl (private, public-read,
// public-read-write, default; another value 400 InvalidArgument) on
// PutObject, CopyObject and InitiateMultipartUpload, GetObjectACL and
// PutObjectACL (?acl, versionId), "default" for an object without one; a
// copy gets the request's ACL or default, never its source's. x-oss-acl
// on an object write is ignored, as on OSS (it is the bucket header; the
// v1 SDK's ACL option sends it). x-oss-tagging (URL-encoded k=v&k2=v2; a
// malformed header 400 InvalidArgument EC 0010-00000219) on the same
// writes, Put/Get/DeleteObjectTagging (?tagging, versionId), and
// x-oss-tagging-count on GET and HEAD; CopyObject's
// x-oss-tagging-directive Copy (default: the source's tags) or Replace
// (x-oss-tagging's, or none). Tags follow OSS's rules: at most 10, unique
// keys, key up to 128 and value up to 256 characters, letters, digits,
// space and + - = . _ : / only; a breach is 400 InvalidTag with EC
// 0010-00000209 (key too long), 0010-00000214 (value too long) or
// 0010-00000217 (the rest). Neither changes Last-Modified. ACLs are kept
// and reported, never enforced: requests are authorized by the --users
// grants only, and anonymous requests are refused as before. Object
// answers carry ETag (upper-case hex
// in quotes; MD5 for single-part objects; for multipart objects OSS's rule,
// MD5 over the part MD5s as upper-case hex, then "-N", as the v1 SDK's
// tests pin it),
// x-oss-hash-crc64ecma (decimal CRC-64/ECMA of the plaintext) on Put,
// UploadPart, Complete, Copy, whole-object Get, Head and GetObjectMeta,
// Content-MD5 for single-part objects, Content-Length, Last-Modified,
// x-oss-object-type Normal|Multipart, x-oss-storage-class (the object's),
// the stored Content-Type (application/octet-stream by default),
// Cache-Control, Content-Disposition, Content-Encoding, Content-Language,
// Expires and x-oss-meta-* (keys lower-cased, at most 8 KiB in all). GetObject honours If-Match /
// If-Unmodified-Since (412 PreconditionFailed) and If-None-Match /
// If-Modified-Since (304), and the response-* overrides. encoding-type=url
// URL-encodes keys, prefixes, markers and delimiters (url.QueryEscape with
// "+" as %20, which both SDKs decode) and echoes EncodingType. Responses
// are never compressed.
//
// Range (GetObject): "bytes=a-b", "bytes=a-", "bytes=-n". By default a range
// reaching outside the object, a reversed range, or a malformed one is
// ignored (whole object, 200, no Content-Range), and of several ranges the
// first is used. With x-oss-range-behavior: standard a start beyond the
// object, "-0" or several ranges are 416 InvalidRange and an end beyond the
// object is clamped. A valid range is 206 with Content-Range.
//
// # Server-side encryption
//
// x-oss-server-side-encryption AES256 or KMS, with
// x-oss-server-side-encryption-key-id (id, alias or ARN; only with KMS;
// none = alias/acs/oss), is accepted on PutObject, CopyObject,
// InitiateMultipartUpload and PutBucket; a request header wins over the
// bucket default, which applies otherwise (CopyObject included: encryption
// is never copied from the source). SM4 — valid on real OSS — and any other
// value are 400 InvalidEncryptionAlgorithmError "The Encryption request you
// specified is not valid. Supported value: AES256/KMS", because the
// reference implements AES-256 only. A key id with AES256 or without an
// algorithm is 400 InvalidArgument; an empty key id with KMS 400
// InvalidArgument (EC 0005-00000205). x-oss-server-side-data-encryption SM4
// with KMS is 400 InvalidEncryptionAlgorithmError, another value 400
// InvalidDataEncryptionAlgorithmError (EC 0005-00000203); with AES256 or no
// algorithm it is ignored, as OSS ignores it. Any of the three headers on
// UploadPart or CompleteMultipartUpload is 400 InvalidArgument. Answers to
// Put, Copy, Initiate, UploadPart, Complete, Get and Head carry
// x-oss-server-side-encryption and, for KMS, the resolved CMK id in
// x-oss-server-side-encryption-key-id; never the data-encryption header.
//
// PutBucketEncryption takes <ServerSideEncryptionRule>
// <ApplyServerSideEncryptionByDefault><SSEAlgorithm/><KMSMasterKeyID/>
// <KMSDataEncryption/></...></...> with the same rules (an empty
// KMSMasterKeyID is the default key; KMSDataEncryption is dropped with
// AES256); KMSMasterKeyID with AES256 is 400 InvalidArgument
// "KMSMasterKeyID is not applicable if the default sse algorithm is not
// KMS". KMS key ids are checked when used, not when configured.
//
// # Errors
//
// Every answer carries x-oss-request-id (24 upper-case hex digits), Date
// and Server: AliyunOSS. Errors are
// <Error><Code/><Message/><RequestId/><HostId/>[details]<EC/><RecommendDoc/></Error>
// (EC and RecommendDoc only where the EC is known) with Content-Type
// application/xml and x-oss-ec; HEAD errors have no body and carry the
// document base64-encoded in x-oss-err, which both SDKs decode. Store
// errors map as follows (C = confirmed by the SDKs, the OSS documentation
// or EC pages; c = chosen here):
//
//	InvalidBucketName        400 InvalidBucketName (C)
//	InvalidObjectName        400 InvalidObjectName (c)
//	NoSuchBucket             404 NoSuchBucket, EC 0015-00000101 (C)
//	BucketAlreadyExists      409 BucketAlreadyExists, EC 0015-00000104 (C; EC from
//	                         the v2 SDK's recorded responses)
//	BucketAlreadyOwnedByYou  409 BucketAlreadyExists (c: OSS has no separate code)
//	BucketNotEmpty           409 BucketNotEmpty, EC 0015-00000301 (C; EC as above)
//	NoSuchKey                404 NoSuchKey, EC 0026-00000001 (C)
//	NoSuchUpload             404 NoSuchUpload, EC 0042-00000104 on UploadPart,
//	                         0042-00000002 on Abort and ListParts (C), and on
//	                         Complete (c)
//	InvalidPart              400 InvalidPart (C)
//	InvalidPartOrder         400 InvalidPartOrder (C)
//	EntityTooSmall           400 EntityTooSmall (C; OSS minimum part 100 KiB)
//	EntityTooLarge           400 EntityTooLarge (C)
//	InvalidDigest            400 InvalidDigest, EC 0017-00000503 (C; malformed: 0017-00000502)
//	IncompleteBody           400 IncompleteBody (c)
//	InvalidRange             416 InvalidRange (C)
//	InvalidArgument          400 InvalidArgument with the store's message (C)
//	NoSuchEncryptionRule     404 NoSuchServerSideEncryptionRule, EC 0005-00000004 (C)
//	InvalidEncryptionAlgorithm 400 InvalidEncryptionAlgorithmError (C)
//	AccessDenied             403 AccessDenied (C)
//	KMSAccessDenied          403 AccessDenied "This request is forbidden by kms." (C)
//	KMSKeyDisabled           409 KeyDisabled, EC 0005-00000214 (C)
//	KMSKeyPendingDeletion    409 KeyPendingDeletion, EC 0005-00000215 (C)
//	KMSKeyNotFound           404 KeyNotFound, EC 0005-00000208 (C); an alias
//	                         naming no key 404 AliasNotFound (C code, no EC)
//	KMSInvalidKeyID          400 InvalidParameter "The specified parameter KMS keyId is not valid." (C)
//	KMSUnavailable           503 ServiceUnavailable (c)
//	SlowDown                 503 ServiceUnavailable (c: OSS documents 503 for
//	                         throttled requests; the code is chosen), when the
//	                         principal has the server's cap of uploads running
//	RequestTimeout           400 RequestTimeout (C code), a body that stalled
//	DecryptFailed, Internal  500 InternalError (c; never plaintext)
//
// Front-end errors: MalformedXML 400 for unparseable, wrongly rooted,
// trailing-content or oversized (Config.MaxXMLBody, default 2 MiB) bodies
// (C code; oversize mapping c); MethodNotAllowed 405 (C code);
// NotImplemented 501 for OSS features not served here (c; logged at INFO):
// callbacks, image processing, PostObject, SelectObject, data
// indexing (MetaQuery), WORM, replication, CNAME, live channels and the
// other sub-resources not named here; NoSuchVersion 404 for
// a versionId that names no version, any id of another form than the
// store's included (c); FileAlreadyExists
// 409 for x-oss-forbid-overwrite: true (C code; on PutObject, CopyObject and
// CompleteMultipartUpload the store checks it atomically with the commit,
// InitiateMultipartUpload checks it when called); PreconditionFailed 412
// (C). A panic is logged and answered 500 InternalError.
//
// # Bucket policies and AppendObject
//
// PutBucketPolicy/GetBucketPolicy/DeleteBucketPolicy (?policy) keep OSS's
// policy JSON (Version "1") verbatim; objstore's policy.go says which
// subset is enforced. Every bucket operation asks the store whether the
// bucket's policy denies it, once the operation is known and before it
// acts (403 AccessDenied). An invalid policy is 400
// InvalidPolicyDocument (the code is the reference's: OSS's own is not
// documented where we looked); a valid one outside the subset (Allow
// grants, other operators and keys) is 501 NotImplemented naming the part;
// GetBucketPolicy without one is 404 NoSuchBucketPolicy.
// AppendObject (POST ?append&position=N) answers x-oss-next-append-position
// and x-oss-hash-crc64ecma (the whole object's); HEAD, GET and listings
// report the object type Appendable (HEAD and GET with the next position).
// A wrong position is 409 PositionNotEqualToLength with
// x-oss-next-append-position, an object another operation wrote 409
// ObjectNotAppendable; an append naming another encryption than the
// first, or any KMS key id, is 400 InvalidArgument (objstore/append.go).
//
// # Symbolic links
//
// symlink.go: PutSymlink (PUT ?symlink, x-oss-symlink-target, URL-decoded
// as the v1 SDK encodes it) keeps user metadata, storage class, object
// ACL and tags on the link and honours x-oss-forbid-overwrite (409
// FileAlreadyExists, checked with the commit); the target need not exist
// (OSS does not check it). Each PutSymlink in an Enabled bucket is a new
// version (x-oss-version-id). GetSymlink (GET ?symlink, with versionId)
// answers x-oss-symlink-target (URL-encoded, which the v1 SDK decodes),
// ETag (the MD5 of the target name; c), Last-Modified, the link's
// x-oss-meta-* and version id; of a normal object it is 400 NotSymlink
// (c). GET, HEAD and GetObjectMeta of a link read the target's current
// version, as OSS documents: its bytes, length, ETag, Last-Modified,
// metadata and ENCRYPTION headers, with X-Oss-Object-Type Symlink and the
// link's version id. The encryption reported is the target's because
// the bytes served are the target's, decrypted with the target's key
// (the principal's KMS grant applies to the target); a link holds no
// data and so has no SSE of its own: PutSymlink with encryption headers
// is 400 InvalidArgument, and GetSymlink sends none. A missing target, or
// a target that is itself a link (links do not chain), is 404
// SymlinkTargetNotExist (C code). ListObjects and ListObjectVersions
// report Type Symlink (size 0). DeleteObject deletes the link, never the
// target; CopyObject of a link makes a link to the same target (OSS:
// only the link is copied; objstore), metadata and tags per the
// directives, and refuses encryption headers (400 InvalidArgument).
// UploadPartCopy from a link is 400 InvalidArgument (c: which bytes OSS
// copies is undocumented). The S3 front end does not follow links (S3
// has none): it serves a link as an empty, unencrypted object.
//
// # Bucket configurations and service operations
//
// bucketconfig.go: CORS (with the anonymous OPTIONS preflight), lifecycle,
// website, logging and its user-defined log fields, Referer, bucket tags
// (and ListBuckets' tag-key/tag-value/tagging filter), transfer
// acceleration, access monitor, HTTPS config, overwrite config, archive
// direct read, storage quota, requester pays, the public access block
// (bucket and account level; it refuses public ACLs) and bucket QoS are
// validated, kept and reported; PutBucketOverwriteConfig on a missing
// bucket is 400 MalformedXML EC 0015-00000231 once its body passes, as
// on OSS. qos.go: GetUserQoSInfo answers OSS's default limits for the
// region (fixed: nothing is throttled here) and bucket QoS may not exceed
// them; DescribeRegions, GetBucketStat (counted when asked),
// GetBucketPolicyStatus (IsPublic false: policies here only deny) and
// Get/PutBucketResourceGroup (rg-default only). traffic.go:
// x-oss-traffic-limit paces uploads and downloads; PutObject with
// If-Modified-Since, If-Unmodified-Since, If-Match or If-None-Match is 400
// NotImplemented (EC 0017-00000245) as on OSS; SealAppendObject is 400
// OperationNotSupported (EC 0016-00000513), OSS's answer where sealing is
// not offered. CompleteMultipartUpload applies x-oss-object-acl; an upload
// initiated with ?sequential gets its whole-object MD5 as Content-MD5 on
// HEAD (sequential.go).
//
// # Choices where OSS is unconfirmed or cannot be matched
//
//   - x-oss-storage-class Standard, IA, Archive, ColdArchive and
//     DeepColdArchive are accepted on PutObject, CopyObject and
//     InitiateMultipartUpload, kept with the object and returned in
//     x-oss-storage-class and listings (classes S3 wrote show as the
//     nearest OSS class); any other value is 400 InvalidArgument. The class
//     changes nothing else: Archive objects are readable without
//     RestoreObject (see objstore). CopyObject without the header keeps the
//     source's class. PutBucket takes the same five classes in
//     CreateBucketConfiguration (any other is 400 InvalidArgument); the
//     bucket keeps it, reports it in GetBucketInfo and ListBuckets, and
//     objects written to it without a class get it, as on OSS. DataRedundancyType LRS
//     and ZRS are accepted, kept and reported; redundancy transitions
//     finish at once (redundancy.go).
//   - RestoreObject (POST ?restore, optional RestoreRequest body with Days
//     0..365 and JobParameters/Tier) answers 202 for an object of an
//     archive class and 400 OperationNotSupported (c) for any other. The
//     restore's state is kept (restore.go): in progress for OSS's
//     documented minimum time, then restored for Days; HEAD reports it
//     in x-oss-restore, a second restore in progress is 409
//     RestoreAlreadyInProgress, CleanRestoredObject ends a finished one.
//     Reads never wait for it.
//   - ListBuckets and GetBucketInfo name the endpoint the request came to
//     (Host, port kept, bucket of a virtual-hosted request removed) as both
//     ExtranetEndpoint and IntranetEndpoint, and CompleteMultipartUpload's
//     Location is built on it: clients follow those names (the v2 SDK's
//     test harness connects to ExtranetEndpoint), so a real Alibaba Cloud
//     host there would send them out of the machine. Every bucket is in
//     resource group "rg-default" (c).
//   - DeleteMultipleObjects accepts character references to characters XML
//     1.0 forbids (&#x0C;: both SDKs write control characters in keys that
//     way) and decodes them; encoding/xml alone refuses them. Deleted keys
//     are answered URL-encoded when encoding-type=url is asked (both SDKs
//     ask); otherwise such characters come back as U+FFFD (c).
//   - ListLiveChannel (GET ?live) lists no channels: none can be created
//     (PutLiveChannel and the rest of live channels are 501), and cleanup
//     code lists them before deleting a bucket.
//   - A designed 501 NotImplemented is logged at INFO as "oss request not
//     implemented" with the query parameter names, not as a server error.
//   - CopyObject onto itself follows x-oss-metadata-directive like any copy
//     (COPY keeps the source's metadata, REPLACE takes the request's), as
//     the current OSS "modify object metadata" guide describes; the 2021
//     CopyObject page said the request's metadata always replaces. Either
//     way the copy is re-encrypted with the request's or the bucket's
//     encryption.
//   - MaxXMLBody defaults to 2 MiB rather than 1 MiB: a DeleteMultipleObjects
//     body naming 1000 keys of the maximum length exceeds 1 MiB.
//   - DeleteMultipleObjects stops at the first failing key (OSS reports no
//     per-key errors); keys before it are deleted.
//   - The multipart ETag is computed once, by the dialect that completes
//     the upload (objstore.CompleteOptions.ETagRule): an object completed
//     through S3 keeps S3's ETag when read through OSS, and the other way
//     round.
//   - CompleteMultipartUpload with an empty part list completes an empty
//     object (OSS does; the v2 SDK's uploader sends it for an empty
//     stream of unknown length) with ETag "D41D8CD98F00B204E9800998ECF8427E-0"
//     (c: the rule over no parts); x-oss-complete-all: yes with no parts
//     uploaded stays 400 MalformedXML (c).
//   - x-oss-hash-crc64ecma is omitted on 206 answers (the SDKs check it only
//     for whole-object downloads).
//   - SSE headers on GET, HEAD and DELETE are ignored.
//   - A V4 header without x-oss-content-sha256 is verified as
//     UNSIGNED-PAYLOAD (both SDKs always send it).
//   - V4 scope region and date mismatches are 400 InvalidArgument.
//   - ListBuckets lists the buckets the principal may read; the Owner is
//     the principal name (IDs are not Alibaba account numbers).
//   - DeleteBucketEncryption resets the rule to the store's DefaultSSE when
//     the store is configured with one (S3 behaviour).
package osshttp
