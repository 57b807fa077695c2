// Package s3http is the reference server's Amazon S3 protocol front end: an
// http.Handler that authenticates AWS Signature Version 4 requests, maps the
// S3 REST API onto the dialect-neutral objstore.Store, and renders S3's
// headers, XML documents and errors. minio-go v7 and the AWS SDK for Go v2
// work against it unmodified. It must not store anything itself, must not
// implement encryption (the store and its envelope do), and must never log a
// secret or a request body. IsS3Request lets one port serve OSS and S3.
//
// # Authentication
//
// Every request must be signed with SigV4, in the Authorization header or a
// presigned query (X-Amz-Expires at most 604800 seconds), or with the
// deprecated Signature Version 2 ("AWS AKID:sig" or AWSAccessKeyId/Expires/
// Signature), which older tools, minio-go's V2 mode, boto3 and the AWS CLI
// with signature_version "s3", and s3-tests still use; anonymous requests
// are AccessDenied. A V2 canonical resource is accepted as minio-go or
// botocore builds it: a bucket-level path with or without its trailing
// slash (botocore signs "/bucket/" while sending "/bucket"), and either
// client's list of signed sub-resources (botocore signs no ?encryption,
// ?legal-hold or ?retention), except that a DELETE must sign every
// sub-resource it names: botocore's DeleteBucketEncryption signs exactly
// as DeleteBucket, and accepting it would let a captured DeleteBucket
// signature remove a bucket's default encryption, so it is refused
// (SignatureDoesNotMatch; use SigV4). Browser form uploads (POST Object
// with a SigV4 or V2 signed policy, postpolicy.go) carry their signature
// in the form: the policy must be unexpired and its conditions must hold
// for, and mention, every form field (S3's rule), encryption fields
// included; content-length-range is enforced before the store commits. The canonical request is rebuilt exactly as the SDKs
// build it: S3's URI encoding of the decoded path (the path as it arrived on
// the wire is also tried), the query decoded and re-encoded with %20 for
// spaces and sorted, the signed headers with whitespace collapsed and
// multiple values joined by ",", host from the Host header. The scope's
// date must equal X-Amz-Date's, its region Config.Region, its service "s3".
// Request time (X-Amz-Date, else a signed Date) may differ from Config.Clock
// by at most MaxSkew. Every x-amz-* header present must be signed (an
// unsigned encryption header could have been added in transit).
//
// Bodies: a hex x-amz-content-sha256 is checked against the body;
// UNSIGNED-PAYLOAD is accepted; STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
// and STREAMING-UNSIGNED-PAYLOAD-TRAILER (aws-chunked; the AWS SDK uses it
// over TLS by default) are decoded with every chunk signature, the trailer
// signature and x-amz-decoded-content-length verified. x-amz-checksum-*
// (CRC32, CRC32C, CRC64NVME, SHA1, SHA256, MD5, SHA512, XXHASH64, XXHASH3,
// XXHASH128), as a header or a
// declared trailer, and Content-MD5 are verified too. All checks complete
// before the last body byte reaches the store, so a body that fails one is
// never committed. aws-chunked is stripped from the stored Content-Encoding;
// the rest is stored and returned exactly as sent ("deflate, gzip").
//
// # Checksums
//
// A PUT or POST naming a checksum this server does not compute — any other
// x-amz-checksum-<alg> header (BLAKE3, CRC16, ...), an
// x-amz-trailer naming one, or such a value in x-amz-checksum-algorithm or
// x-amz-sdk-checksum-algorithm — is 400 InvalidArgument naming it, never
// ignored: an ignored checksum would be a declared value nobody verified.
// (x-amz-checksum-mode, -type and -algorithm are not checksum values.) A
// malformed or mismatching value is 400 InvalidRequest / BadDigest;
// x-amz-checksum-algorithm naming another algorithm than the value sent is
// 400 InvalidRequest, and so is a checksum value on CreateMultipartUpload,
// CopyObject or UploadPartCopy, which have no body to check it against.
//
// The store keeps one checksum per object (see objstore): the declared
// one, else the algorithm x-amz-checksum-algorithm names, else CRC64NVME.
// PutObject and UploadPart answer it in x-amz-checksum-<alg> (PutObject
// with x-amz-checksum-type); GET and HEAD with x-amz-checksum-mode: ENABLED
// add it and x-amz-checksum-type, except for a Range (which returns no
// full-object checksum) and with partNumber=N of a multipart object (the
// part's checksum, 206 with Content-Range and x-amz-mp-parts-count).
// CopyObject computes the checksum of x-amz-checksum-algorithm over the
// copy, else keeps the source's algorithm (a composite source yields a
// full-object checksum); CopyObjectResult, CopyPartResult and
// CompleteMultipartUploadResult carry Checksum<ALG> and ChecksumType.
// CreateMultipartUpload takes x-amz-checksum-algorithm and
// x-amz-checksum-type (COMPOSITE by default; FULL_OBJECT for CRC32, CRC32C
// and CRC64NVME only; 400 InvalidRequest otherwise) and answers them; a
// part declaring another algorithm is 400 InvalidRequest. On completion
// every Checksum<ALG> a Part lists must match the stored part checksum
// (400 InvalidPart), and a whole-object x-amz-checksum-<alg> header (with
// or without "-N") the computed object checksum (400 BadDigest). ListParts
// and ListMultipartUploads report the upload's algorithm and the part
// checksums, listings each object's ChecksumAlgorithm and ChecksumType.
// GetObjectAttributes (GET ?attributes) answers ETag, Checksum (a composite
// without "-N"), ObjectParts (multipart objects, paged by
// x-amz-part-number-marker and x-amz-max-parts), StorageClass and
// ObjectSize from metadata, with Last-Modified and no ETag header.
//
// # Addressing
//
// Path-style, and virtual-hosted for Host names "<bucket>.<domain>[:port]"
// where domain is one of Config.VirtualHostDomains (default "localhost").
// An IP address Host is always path-style, as is every host minio-go's
// BucketLookupAuto addresses on a local endpoint.
//
// # Encryption choices
//
//   - x-amz-server-side-encryption AES256 is SSE-S3 (objstore AES256) and
//     aws:kms is SSE-KMS (objstore KMS); aws:kms:dsse and anything else is
//     400 InvalidArgument "The encryption method specified is not
//     supported". A key id (or context) without aws:kms is 400
//     InvalidArgument as on AWS.
//   - The response's x-amz-server-side-encryption-aws-kms-key-id is the ARN
//     of the key the store resolved (arn:aws:kms:<Config.Region>:
//     <Config.KMSAccount>:key/<id>), as AWS S3 answers on PutObject, HEAD,
//     GET, CopyObject and the multipart calls, whether the request named the
//     key by id, alias, key ARN or alias ARN or left it to the bucket default
//     or the default key: S3 resolves the key when it encrypts. It is the ARN
//     the KMS port's AWS protocol (awskmshttp) gives the same key, so
//     DescribeKey accepts it. (OSS answers the bare key id: osshttp.)
//   - The request's key (header or KMSMasterKeyID) may be a key id, an alias,
//     or an AWS key or alias ARN (arn:aws:kms:<region>:<account>:key/<id>,
//     as awskmshttp, the KMS port's AWS protocol, names keys); an AWS ARN is
//     rewritten to the emulator's acs: ARN with the same fields, so another
//     region or account is 400 KMS.NotFoundException. GetBucketEncryption
//     returns a rule's ARN in the AWS form it was written in.
//   - x-amz-server-side-encryption-context is refused (400 InvalidArgument):
//     the store binds the KMS encryption context to bucket and object itself,
//     and silently dropping the caller's context would misstate what was
//     bound. The bucket-key-enabled header and BucketKeyEnabled element are
//     accepted and ignored (every object has its own data key);
//     GetBucketEncryption reports BucketKeyEnabled false.
//   - SSE-C (x-amz-server-side-encryption-customer-algorithm AES256,
//     -customer-key, base64 of 32 bytes, and -customer-key-MD5; the
//     x-amz-copy-source-server-side-encryption-customer-* trio for a
//     copy's source) is served as on AWS since April 2026: a bucket blocks
//     SSE-C writes (PutObject, CopyObject, CreateMultipartUpload,
//     PostObject: 403 AccessDenied) unless its rule's
//     BlockedEncryptionTypes is NONE; GetBucketEncryption reports SSE-C or
//     NONE, and a bucket without a rule blocks. HEAD and GET of an SSE-C
//     object without the key are 400 (GET: InvalidRequest "The object was
//     stored using a form of Server Side Encryption..."), with another
//     key 403 AccessDenied; responses echo the customer algorithm and key
//     MD5. GetObjectAttributes needs the key too; GetObjectAcl and
//     GetObjectTagging do not (as on S3). UploadPart of an SSE-C upload needs the upload's key. A missing
//     or malformed header of the trio, a key MD5 that does not match, or
//     SSE-C with x-amz-server-side-encryption is 400 InvalidArgument; an
//     algorithm other than AES256 is 400 InvalidEncryptionAlgorithmError.
//     Deviation: AWS refuses SSE-C over plain HTTP; the reference, which
//     serves loopback HTTP, does not. The key is never stored (objstore
//     doc.go "SSE-C").
//   - GET and HEAD with x-amz-server-side-encryption (or the key id or
//     context) are 400 InvalidArgument, as on AWS, and so is UploadPart
//     with any of them (AWS takes only SSE-C headers there).
//     CompleteMultipartUpload ignores SSE headers (minio-go sends them on
//     Complete to non-AWS endpoints). Encryption is fixed at
//     CreateMultipartUpload.
//   - PutBucketEncryption needs Content-MD5 or an x-amz-checksum-* header
//     (400 InvalidRequest otherwise). Exactly one Rule; an SSEAlgorithm
//     outside the schema (e.g. SM4) or a malformed document is 400
//     MalformedXML; aws:kms:dsse is 400 InvalidArgument; a KMSMasterKeyID
//     with AES256 is 400 InvalidArgument. The key id is not checked until
//     an object is written, as on AWS. DeleteBucketEncryption is 204 even
//     when no rule is set; GetBucketEncryption without one is 404
//     ServerSideEncryptionConfigurationNotFoundError.
//   - CopyObject never copies the source's encryption: the destination gets
//     the request's SSE headers or its bucket's default. Copying an object
//     onto itself must change something (REPLACE metadata, an SSE header, a
//     storage class or a checksum algorithm) or it is 400 InvalidRequest; an
//     SSE header re-encrypts under a fresh data key.
//
// # Other choices
//
//   - x-amz-storage-class STANDARD, REDUCED_REDUNDANCY, STANDARD_IA,
//     ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, GLACIER_IR,
//     OUTPOSTS, EXPRESS_ONEZONE and SNOW are kept (any other is 400
//     InvalidStorageClass) and reported in x-amz-storage-class on GET and
//     HEAD when not STANDARD and in listings; classes OSS wrote show as the
//     nearest S3 class. CopyObject without the header writes STANDARD, as
//     S3 does. No class needs RestoreObject before GET here.
//   - Content-Language is kept and returned like the other content headers.
//   - User metadata names are kept in lower case and sent so
//     (x-amz-meta-foo, written into the header map directly, past
//     net/http's canonicalisation): boto3 and the AWS CLI return the names
//     as they come on the wire.
//   - DeleteBucket deletes a bucket without objects, versions or delete
//     markers even while multipart uploads are in progress (S3 refuses
//     only for directory buckets): they are aborted with it and their part
//     files removed. A CompleteMultipartUpload repeated after it succeeded
//     (same key, same parts) answers 200 with the first result (ETag,
//     checksum, SSE, version id) for objstore.CompletedUploadRetention (24
//     hours), then 404 NoSuchUpload; both come from objstore.UploadsStore.
//   - POST policy documents: the element names "expiration" and
//     "conditions" are case-sensitive (400 otherwise), condition operators
//     and field names are not (s3-tests pins both).
//   - PutObject and CompleteMultipartUpload honour If-Match (the key must
//     exist, else 404 NoSuchKey, with a listed ETag, else 412
//     PreconditionFailed) and If-None-Match ("*" or a listed ETag of an
//     existing object is 412), checked by the store atomically with the
//     commit.
//   - CreateBucketConfiguration may be absent or name Config.Region; another
//     region is 400 IllegalLocationConstraintException.
//     Object Lock is not implemented: x-amz-bucket-object-lock-enabled:
//     true, the ?object-lock, ?retention, ?legal-hold subresources and the
//     x-amz-object-lock-* write headers are 501 (a bucket claiming WORM
//     protection it cannot give would mislead an auditor).
//   - Versioning: PUT/GET ?versioning (Enabled, Suspended; any other
//     Status, or none, is 400 MalformedXML; MfaDelete Enabled is 501; a
//     bucket that never had versioning answers an empty
//     VersioningConfiguration). Writes answer x-amz-version-id in buckets
//     that have or had versioning; versionId addresses a version on GET,
//     HEAD, DELETE, GetObjectAttributes and in x-amz-copy-source. A read
//     meeting a current delete marker is 404 NoSuchKey with
//     x-amz-delete-marker: true and the marker's x-amz-version-id; one
//     addressing a marker is 405 MethodNotAllowed with Last-Modified too;
//     an unknown version (any id of another form than the store's) is 404
//     NoSuchVersion. GET ?versions is ListObjectVersions (Version and
//     DeleteMarker in listing order, key-marker/version-id-marker paging,
//     a version-id-marker without key-marker is 400 InvalidArgument).
//     DeleteObjects takes VersionId and reports DeleteMarker and
//     DeleteMarkerVersionId. Copying a given version onto its own key is
//     allowed without other changes (it restores that version).
//   - Canned ACLs: x-amz-acl on CreateBucket (private, public-read,
//     public-read-write, authenticated-read, log-delivery-write) and on
//     PutObject, CopyObject, CreateMultipartUpload and form uploads (the
//     object set: private, public-read, public-read-write,
//     authenticated-read, aws-exec-read, bucket-owner-read,
//     bucket-owner-full-control; another value 400 InvalidArgument) is
//     kept and reported: Get/PutBucketAcl and Get/PutObjectAcl (?acl,
//     versionId) with the grants S3 makes of it; PutBucketAcl/
//     PutObjectAcl take the header or an AccessControlPolicy body listing
//     exactly a canned ACL's grants. Explicit grants (x-amz-grant-*, or
//     any other grant list) are 501: only canned ACLs are kept. An object
//     without one, and every copy without x-amz-acl, is private (S3 never
//     copies an ACL). ACLs are reported, never enforced: requests are
//     authorized by the --users grants, and anonymous ones are refused as
//     before; Object Ownership is as for ACL-enabled buckets.
//   - Object tagging: x-amz-tagging on PutObject and CreateMultipartUpload
//     (and on CopyObject with x-amz-tagging-directive REPLACE; COPY, the
//     default, keeps the source's tags), Put/Get/DeleteObjectTagging
//     (?tagging, versionId), x-amz-tagging-count on GET and HEAD. At most
//     10 tags, unique keys of up to 128 and values of up to 256
//     characters, letters, digits, spaces and + - = . _ : / @, no "aws:"
//     prefix: 400 InvalidTag otherwise; a malformed x-amz-tagging is 400
//     InvalidArgument. Bucket tagging is 501.
//   - Bucket policies: Put/Get/DeleteBucketPolicy (?policy) with AWS's
//     policy JSON, returned byte for byte; 404 NoSuchBucketPolicy when
//     none; 400 MalformedPolicy for bad JSON, 501 NotImplemented for a
//     valid document outside the enforced subset (objstore's policy.go:
//     Allow grants, other operators and keys), naming the part. Before every
//     operation on a bucket, form uploads included, the bucket's policy
//     is asked (s3Op names the operation) and a Deny that matches is 403
//     AccessDenied before anything is read or written.
//   - Unsupported subresources (lifecycle, cors, ...) are 501
//     NotImplemented, logged at INFO as "s3: not implemented" (a designed
//     refusal, not an internal error); 503 SlowDown is logged at WARN.
//   - Range: one "bytes=" range; a syntactically invalid or multi-range
//     header is ignored (200, as S3), an unsatisfiable one is 416
//     InvalidRange with Content-Range "bytes */size".
//   - Errors: the S3 error XML with Code, Message, Resource, RequestId,
//     HostId (plus AWS's extra elements for some codes); HEAD errors have no
//     body. Every response carries x-amz-request-id and x-amz-id-2. A panic
//     is recovered as 500 InternalError; a failure after the status line of
//     a GET aborts the connection so a truncated body is never mistaken for
//     a complete one.
//
// objstore error kinds map to S3 codes in errorFromStore (errors.go); a
// principal over the server's cap of concurrent uploads gets 503 SlowDown
// and a body that stalls past the server's read deadline 400
// RequestTimeout, as AWS answers both.
package s3http
