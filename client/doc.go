// Package client is the one client through which sseaudit talks to an
// object storage endpoint under test: the sseaudit reference server or a
// real Alibaba Cloud OSS / Amazon S3 (or S3-compatible) account. The
// conformance suite and the compliance scanner call only this package, so
// every difference between dialects and SDKs lives here and nowhere else.
//
// # What it holds
//
// A Client speaks one dialect through an official SDK, used unmodified
// through its public API:
//
//   - OSS through github.com/aliyun/aliyun-oss-go-sdk (Config.OSSSDK "v1",
//     the default; OSS signature V1 by default, V4 with OSSSignature "v4")
//     or github.com/aliyun/alibabacloud-oss-go-sdk-v2 (OSSSDK "v2";
//     signature V4 by default, V1 with OSSSignature "v1");
//   - S3 through github.com/minio/minio-go/v7 (signature V4).
//
// The API is dialect-neutral: SSE is described by SSE and Rule with the OSS
// vocabulary (Algorithm "AES256" or "KMS"); S3's "aws:kms" is mapped both
// ways. Responses come back as ObjectResult, whose SSE field is normalised
// the same way for every variant and whose Headers field keeps the raw
// response headers as evidence. Service errors come back as *Error with the
// HTTP status, the service's code and message, the request id and (OSS)
// the EC sub-code, whatever SDK produced them.
//
// Request-side values are passed through unjudged: an unknown algorithm
// such as "SM4" is sent as is, so the suite can check that an endpoint
// refuses it. Only what cannot be expressed in a dialect at all is refused
// locally, with an error that is not an *Error (for example
// SSE.DataEncryption on S3, which has no such header).
//
// # Where SDKs differ, and what this package does about it
//
//   - S3 has no create-time SSE: CreateBucket with an SSE on S3 is
//     CreateBucket followed by PutBucketEncryption; if the second call is
//     refused the bucket is deleted again (best effort), so that in both
//     dialects a refused create leaves no bucket.
//   - minio-go does not expose response headers for most calls, nor does
//     any SDK expose the raw bodies. Every Client's HTTP transport records
//     the last response of each call (headers always, the body only for
//     small bucket-configuration documents), which fills ObjectResult.Headers
//     and Rule.Raw uniformly.
//   - HEAD errors carry no body. On OSS the code, message and EC come from
//     the x-oss-err header (base64 error XML) and x-oss-ec, as both OSS SDKs
//     read them; when neither is there, and on S3 always, the code is
//     derived from the status as minio-go does (404 NoSuchKey for an object
//     request, NoSuchBucket for a bucket request, 403 AccessDenied, 409
//     Conflict, 412 PreconditionFailed). So on S3 a HEAD of an object in a
//     missing bucket reads NoSuchKey: the answer does not say more.
//   - Only answers become *Error: minio-go also builds ErrorResponse values
//     for its own argument checks; those, connection failures and context
//     ends are returned as ordinary errors.
//   - Copying an object onto itself: S3 refuses a COPY-directive copy onto
//     itself that changes no metadata; OSS ignores the directive and always
//     replaces the metadata. CopyObject therefore sends REPLACE whenever the
//     source and destination are the same, or ContentType or Metadata is
//     given; so in both dialects an in-place copy ends with exactly the
//     metadata PutOptions gives (none when it gives none).
//   - Retries: the v1 OSS SDK never retries; the v2 SDK and minio-go are set
//     to Config.MaxAttempts (default 1, no retries), so an audit sees every
//     answer the endpoint gives.
//   - Contexts: the v1 OSS SDK's bucket-level calls (oss.Client methods)
//     ignore oss.WithContext. They are bounded by Config.Timeout through the
//     HTTP client but not cancelled with the caller's context; and
//     GetBucketEncryption is sent through the SDK's own signed
//     Conn.DoWithContext (the same request) so Rule.Raw can be recorded.
//   - Bucket regions: OSS GetBucketLocation says oss-cn-hangzhou, reported as
//     cn-hangzhou. minio-go's GetBucketLocation answers from its configured
//     region without asking (and reads AccessDenied as us-east-1), so S3
//     BucketRegion uses HeadBucket's x-amz-bucket-region, or else a
//     GetBucketLocation signed by minio-go's signer and sent by this package.
//   - Listing: every page is fetched (OSS ListObjectsV2 and ListBuckets with
//     markers, the v2 SDK's paginators, minio-go's ListObjects V2).
//     ObjectSummary.ETag is unquoted as ObjectResult.ETag is. The v1 OSS
//     SDK's ListObjectsV2 request is sent through its signed
//     Conn.DoWithContext, unchanged, and its pages are decoded by a byte
//     scanner (listv2.go) that gives what the SDK's encoding/xml decoding
//     gives at about a tenth of its CPU; any page outside the common form
//     is decoded the SDK's way.
//   - Access settings (access.go): BucketACL reads the canned ACL (OSS
//     answers the canned value; on S3 the grants, which CannedFromGrants
//     names, are kept too) with the raw document; minio-go has no bucket ACL
//     call, so S3's GetBucketAcl and PutBucketAcl are signed by minio-go's
//     signer and sent by this package. BucketPolicy returns the policy
//     document as is; 404 NoSuchBucketPolicy is "none" (minio-go's own
//     reading of it too), and any other answer, 501 NotImplemented from an
//     endpoint without policies included, is an error, never "none".
//   - Left as the SDKs and endpoints give them: ETag case (OSS upper-case
//     hex, S3 lower-case), the Content-Type an SDK picks when PutOptions has
//     none (the OSS SDKs guess from the key's extension, minio-go sends
//     application/octet-stream), and the KMS key id format (S3 may return
//     an ARN).
//
// # What it must not do
//
// It makes no assertions and applies no policy: it never decides whether an
// answer is right, never retries to hide an answer, and never chooses an
// encryption the caller did not ask for. It knows nothing of the reference
// server's internals and reaches it only over HTTP like any endpoint. It
// never logs, and never puts a secret (access key secret, signature) into
// an error or a result.
//
// KMS is not an object storage dialect: KMS returns the official Alibaba
// Cloud KMS SDK client through package kmsclient.
package client
