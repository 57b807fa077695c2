// Package kmshttp serves the reference KMS emulator (package kms) over HTTP
// in the Alibaba Cloud KMS RPC protocol, API version 2016-01-20, so that the
// official SDK (github.com/alibabacloud-go/kms-20160120/v3 on
// darabonba-openapi/v2 v2.0.9) works against it unmodified. Tests drive
// every operation through that SDK over loopback HTTP in both signature
// modes. The reference server's KMS port also answers the AWS KMS protocol
// from the same emulator (package awskmshttp); it sends a request there
// when it carries X-Amz-Target or a SigV4 Authorization header, and
// everything else here, so Alibaba clients and unsigned requests see this
// package's answers unchanged.
//
// # Requests
//
// GET or POST on "/". Action parameters are read from the query string and
// from an application/x-www-form-urlencoded body (the SDK puts all KMS
// parameters in the query); a name given twice, across both, is refused.
// EncryptionContext (and ReEncrypt's Source/DestinationEncryptionContext) is
// a JSON object of string values; NumberOfBytes, PageNumber, PageSize and
// PendingWindowInDays are decimal strings; booleans are "true"/"false";
// Plaintext and CiphertextBlob are standard base64. Every kms.API operation
// is served: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription,
// EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion,
// CreateKeyVersion, ListKeyVersions, DescribeKeyVersion,
// UpdateRotationPolicy, CreateAlias, UpdateAlias, DeleteAlias, ListAliases,
// ListAliasesByKeyId, GenerateDataKey, GenerateDataKeyWithoutPlaintext,
// Encrypt, Decrypt and ReEncrypt.
//
// # Signatures
//
// Both schemes of darabonba-openapi are verified byte for byte as
// openapi-util v0.1.0 computes them (tests compare against its functions
// with values needing every escaping rule):
//
//   - ACS3-HMAC-SHA256 (SDK default, DoRequest). Authorization:
//     "ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2>,Signature=<hex>".
//     Canonical request = METHOD "\n" URI "\n" query "\n" headers "\n"
//     signed-header-list "\n" hex(SHA-256(body)). The query is the decoded
//     parameters sorted bytewise, "k=" + url.QueryEscape(v) joined by "&",
//     then "+"→"%20", "*"→"%2A", "%7E"→"~" over the whole string (keys are
//     not escaped, exactly like the SDK). Headers are "name:value\n" for each
//     signed header in sorted order, values trimmed (several values sorted
//     and joined by ","); host is the request's Host. String to sign =
//     "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonical request)); signature =
//     hex(HMAC-SHA256(secret, string to sign)). host, x-acs-action,
//     x-acs-version, x-acs-date, x-acs-signature-nonce and
//     x-acs-content-sha256 must be present and signed, every other x-acs-*
//     header present must be signed, and x-acs-content-sha256 must equal the
//     body's hash. Action and Version come from x-acs-action/x-acs-version.
//   - Classic RPC, HMAC-SHA1 (SignatureAlgorithm "v2", DoRPCRequest).
//     Parameters Action, Version, Format=json, AccessKeyId,
//     SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, SignatureNonce,
//     Timestamp, Signature. String to sign = METHOD + "&%2F&" +
//     url.QueryEscape(fix(url.Values.Encode(all query and form parameters
//     but Signature))) with the same "+", "*", "%7E" fix-ups; signature =
//     base64(HMAC-SHA1(secret + "&", string to sign)).
//
// Timestamp / x-acs-date is UTC ISO 8601 ending in "Z" (the SDK writes
// 2006-01-02T15:04:05Z; fractional seconds are accepted) and must be within
// Config.MaxSkew (15 minutes, as Alibaba Cloud allows) of Config.Clock; a
// timestamp outside the window is refused before its nonce is looked at.
// Each accepted nonce is remembered per access key until its request's
// timestamp leaves the window (a request signed 14 minutes ahead holds its
// nonce for 29 minutes). Each access key has its own quota of
// Config.MaxNoncesPerKey live nonces; a key over its quota is refused (429
// Rejected.Throttling) instead of forgetting nonces early, and no other key
// is affected, so one principal cannot lock others out. The nonce is
// recorded only after the signature and the timestamp check out, so memory
// is bounded by the quota times the credentials the server knows. STS
// tokens and bearer tokens are refused (UnsupportedParameter).
// Authentication comes before Action and Version are looked at, so an
// unauthenticated caller learns nothing about the operations served.
//
// # Authorization
//
// The handler names the authenticated principal to the emulator
// (kms.WithPrincipal); the emulator's Config.Authorizer decides every
// call (see package kms; the reference server's is the users file, root
// allowed everything, everyone else only what its use/read/manage grants
// cover). A refusal is 403 Forbidden.NoPermission in the error shape below,
// which the SDK reports as a *tea.SDKError with StatusCode 403.
//
// # Responses
//
// JSON (Content-Type application/json;charset=utf-8) shaped as the SDK
// response structs unmarshal them, e.g. ListKeys
// {"Keys":{"Key":[{"KeyId","KeyArn"}]},"TotalCount","PageNumber","PageSize","RequestId"},
// DescribeKey/CreateKey {"KeyMetadata":{...},"RequestId"} with every field
// of kms.KeyMetadata present (empty strings where not applicable; the DKMS
// fields DKMSInstanceId and DeletionProtectionDescription are never sent),
// ListKeyVersions {"KeyVersions":{"KeyVersion":[...]}}, ListAliases and
// ListAliasesByKeyId {"Aliases":{"Alias":[{"AliasName","AliasArn","KeyId"}]}},
// CreateKeyVersion/DescribeKeyVersion {"KeyVersion":{...}}, the data plane
// {"KeyId","KeyVersionId","Plaintext"?,"CiphertextBlob"?} in base64, and
// {"RequestId"} for the rest. Every answer carries RequestId (an upper-case
// random UUID) in the body and in the x-acs-request-id header.
//
// Errors are {"RequestId","HostId","Code","Message","Recommend"?,"HttpStatus"}
// with the HTTP status of the error; the SDK turns that into a
// *tea.SDKError whose Code is Code and StatusCode the HTTP status (both
// modes read JSON error bodies unless Content-Type is text/xml). Recommend
// is a short hint, never a link. Emulator errors (*kms.Error) pass through
// unchanged; any other emulator error is 500 InternalFailure.
//
// # Protocol error codes
//
// Confirmed means the code (and message wording) was found in an Alibaba
// source: the "管控OpenAPI的客户端公用错误码" list (developer.aliyun.com
// ask/278265), the client error code tables (help.aliyun.com 51132,
// 30137), Alibaba SDK sources and issue threads (alibaba-cloud-sdk-go
// signature_does_not_match_wrapper.go; aliyun-openapi-* issues quoting real
// gateway answers).
//
//	Situation                           Status Code                         Source
//	no Authorization and no Signature   400    IncompleteSignature          code confirmed; use for "unsigned" is a choice
//	malformed Authorization, unsigned   400    IncompleteSignature          confirmed (400, "does not conform to Aliyun standards")
//	  required header, SignatureVersion≠1.0
//	signature mismatch, body ≠ hash     400    SignatureDoesNotMatch        confirmed (400, "Specified signature is not matched with our calculation.")
//	other SignatureMethod / algorithm   400    InvalidSignatureMethod       confirmed
//	unknown AccessKeyId                 404    InvalidAccessKeyId.NotFound  confirmed
//	Timestamp malformed                 400    InvalidTimeStamp.Format      confirmed
//	Timestamp off by more than MaxSkew  400    InvalidTimeStamp.Expired     confirmed
//	nonce replayed                      400    SignatureNonceUsed           confirmed
//	missing Action/Version/parameter    400    MissingParameter             confirmed (names the parameter)
//	unknown Action, path other than /   404    InvalidAction.NotFound       code and message confirmed; 404 from the same list's InvalidApi.NotFound
//	Version other than 2016-01-20       400    InvalidVersion               code and message confirmed; status unconfirmed
//	bad base64/JSON/number/bool, dup.   400    InvalidParameter             confirmed (names the parameter)
//	Format other than JSON              400    InvalidParameter.Format      confirmed
//	STS/bearer token, DryRun=true,      400    UnsupportedParameter         code confirmed; use is a choice
//	  DKMSInstanceId/Policy/Tags, Filters, ReEncrypt Source* (asymmetric)
//	method other than GET/POST          400    UnsupportedHTTPMethod        code confirmed; sources disagree on 400 vs 403
//	query or body over MaxBodyBytes     413    RequestEntityTooLarge        unconfirmed (chosen)
//	access key's nonce quota full       429    Rejected.Throttling          confirmed (KMS limits page: 429, "QPS Limit Exceeded"); use is a choice
//	principal not granted the action    403    Forbidden.NoPermission       confirmed (doc 69008; RAM denial), from package kms
//	panic or non-*kms.Error failure     500    InternalFailure              kms.CodeInternal
//
// # Other choices (unconfirmed)
//
// Real KMS answers XML when Format is absent; this endpoint always answers
// JSON and refuses an explicit non-JSON Format. Real DryRun semantics are
// not emulated. A RegionId parameter other than the served region is
// refused with InvalidParameter. Encrypt's Plaintext must be valid base64
// (the SDK documents it so); Decrypt returns base64 of the bytes, so an
// Encrypt/Decrypt round trip returns the canonical base64 given. The
// SignatureDoesNotMatch message omits the server's string to sign, which
// the real gateway appends, because for the RPC scheme it would echo
// plaintexts and blobs into client logs.
//
// # Logging
//
// One structured line per request: request_id, action, principal,
// access_key_id, signature scheme, key (the KeyId, AliasName or
// DestinationKeyId parameter), status, code and duration. Secrets,
// signatures, plaintexts, ciphertexts and encryption contexts are never
// logged.
package kmshttp
