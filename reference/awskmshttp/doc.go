// Package awskmshttp serves the reference KMS emulator (package kms) in the
// AWS KMS protocol, so that aws-sdk-go-v2's KMS client (service/kms, and any
// AWS SDK or the AWS CLI) works against it unmodified: JSON 1.1 over HTTP,
// POST / with X-Amz-Target: TrentService.<Operation> and Content-Type
// application/x-amz-json-1.1, authenticated by AWS Signature Version 4. The
// reference server serves it on the KMS port next to the Alibaba RPC
// protocol (package kmshttp), choosing per request (IsAWSRequest): one
// keystore, two protocols. Tests drive every operation through the
// unmodified SDK over loopback. It must not hold keys or decide
// authorization itself (the emulator does both) and must never log a
// secret, a plaintext, a ciphertext or an encryption context.
//
// # Operations
//
// CreateKey, DescribeKey, ListKeys (Limit 1..1000, Marker), EnableKey,
// DisableKey, ScheduleKeyDeletion (PendingWindowInDays 7..30, default 30),
// CancelKeyDeletion, EnableKeyRotation (RotationPeriodInDays, default 365),
// DisableKeyRotation, GetKeyRotationStatus, CreateAlias, UpdateAlias,
// DeleteAlias, ListAliases (KeyId filter, Limit 1..100, Marker),
// GenerateDataKey and GenerateDataKeyWithoutPlaintext (exactly one of
// KeySpec AES_256/AES_128 and NumberOfBytes 1..1024), Encrypt (Plaintext
// 1..4096 bytes), Decrypt (KeyId optional: the blob names its key) and
// ReEncrypt. Any other X-Amz-Target is 400 UnknownOperationException.
// EncryptionContext is bound to the blob exactly as on the Alibaba side
// (package kms: canonical, length-prefixed AAD).
//
// # Key ids
//
// The emulator's key ids (lower-case GUIDs) are the AWS key ids unchanged,
// so a key created over either protocol has the same id on both. ARNs are
// arn:<partition>:kms:<region>:<account>:key/<id> and
// arn:<partition>:kms:<region>:<account>:alias/<name>, with partition
// Config.Partition ("aws"), the served region and the emulator's account
// (kms.Emulator.Account, the same digits as in its acs: ARNs). Wherever
// AWS takes a KeyId this endpoint takes a key id, key ARN, alias name or
// alias ARN (CreateAlias/UpdateAlias's TargetKeyId: key id or key ARN
// only); an ARN of another partition, region or account, or an Alibaba
// acs: ARN, is NotFoundException. As AWS: DescribeKey/CreateKey's KeyId is
// the id and Arn the ARN, ListKeys gives both, ListAliases' TargetKeyId is
// the id, and the KeyId of GenerateDataKey(WithoutPlaintext), Encrypt,
// Decrypt, ReEncrypt (and its SourceKeyId), ScheduleKeyDeletion,
// CancelKeyDeletion and GetKeyRotationStatus is the key ARN. Timestamps are
// epoch seconds. KeyManager is AWS for the OSS service key (alias/acs/oss,
// created by the object store) and CUSTOMER otherwise; KeySpec and
// CustomerMasterKeySpec are SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT,
// Origin AWS_KMS, EncryptionAlgorithms [SYMMETRIC_DEFAULT].
//
// # Key states
//
// The emulator's Enabled, Disabled and PendingDeletion are AWS's KeyState
// values of the same name. Where Alibaba and AWS differ, this endpoint
// follows AWS: CancelKeyDeletion leaves the key Disabled (the emulator's
// CancelKeyDeletion, then its DisableKey in the caller's name; two audited
// calls, not one transaction). Where it does not (noted as differences):
// Enable/DisableKeyRotation on a Disabled key succeed (AWS: DisabledException);
// RotationPeriodInDays stops at 730 (AWS: 2560; more is a ValidationException
// saying so); alias/aws/ names are not reserved (alias/acs/ is).
//
// # Authentication
//
// SigV4 in the Authorization header only, with the credential scope
// <date>/<Config.Region>/kms/aws4_request. host, x-amz-date and every
// x-amz-* header present (X-Amz-Target among them, since it chooses the
// operation) must be signed; the payload hash is computed from the body
// (an X-Amz-Content-Sha256 header, when sent, must equal it); X-Amz-Date
// must be within Config.MaxSkew (5 minutes, as AWS) of wall time. SigV4
// has no nonce, so unlike kmshttp there is no replay cache: as with AWS, a
// captured request can be replayed inside the window. Session tokens
// (X-Amz-Security-Token) are refused. The verifier is this package's own:
// s3http's returns S3's XML errors and handles streaming and presigned
// modes KMS has none of; the canonical request is the same. Authentication
// comes before X-Amz-Target is looked at.
//
// # Authorization
//
// The authenticated principal is named to the emulator (kms.WithPrincipal)
// and its Config.Authorizer decides every call exactly as for kmshttp (the
// reference server's is the users file: root everything, others their
// use/read/manage grants). GetKeyRotationStatus is the emulator's
// DescribeKey (read); EnableKeyRotation/DisableKeyRotation its
// UpdateRotationPolicy (manage); ListAliases with KeyId its
// ListAliasesByKeyId (read); the audit log names those operations. A
// refusal is 400 AccessDeniedException with the emulator's message. For
// Decrypt and ReEncrypt the emulator authorizes the key the blob names;
// only after that call succeeded is the optional KeyId (SourceKeyId)
// compared with it (IncorrectKeyException on a mismatch), so the
// comparison tells nothing to a caller that may not use the key.
//
// # Errors
//
// {"__type": "<Code>", "message": "..."} with Content-Type
// application/x-amz-json-1.1, X-Amzn-ErrorType and X-Amzn-RequestId.
// Emulator errors map as mapError's table says (NotFoundException,
// AccessDeniedException, DisabledException, KMSInvalidStateException,
// AlreadyExistsException, ValidationException, InvalidCiphertextException,
// UnsupportedOperationException, LimitExceededException, all 400;
// KMSInternalException 500). Protocol errors, all 400 unless noted:
//
//	no Authorization header                   MissingAuthenticationTokenException
//	malformed Authorization, unsigned host,   IncompleteSignatureException
//	  x-amz-date or x-amz-* header, no X-Amz-Date
//	wrong scope date/region/service/terminator,  InvalidSignatureException
//	  signature mismatch, skew ("Signature expired: ...")
//	unknown access key, session token         UnrecognizedClientException
//	unknown X-Amz-Target, method or path      UnknownOperationException
//	wrong Content-Type, malformed JSON body   SerializationException
//	body over Config.MaxBodyBytes             RequestEntityTooLargeException (413, chosen)
//	a member with an unserved value (asymmetric KeySpec, Policy, Tags,
//	  MultiRegion, custom key stores, DryRun, Recipient)  UnsupportedOperationException
//	EncryptionAlgorithm other than SYMMETRIC_DEFAULT      InvalidKeyUsageException
//
// # Logging
//
// One structured line per request: request_id, operation, principal,
// access_key_id, key and alias as the request named them, status, code and
// duration.
package awskmshttp
