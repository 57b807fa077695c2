// Package kms is the reference implementation's Alibaba Cloud KMS emulator
// (API version 2016-01-20): symmetric customer master keys with versions,
// aliases, the per-region OSS service key alias/acs/oss, the key state
// machine, automatic and manual rotation, scheduled deletion, and the data
// plane (GenerateDataKey, GenerateDataKeyWithoutPlaintext, Encrypt, Decrypt,
// ReEncrypt). api.go defines the operation set (API), the wire types and
// *Error; New builds an *Emulator and Emulator.Region returns a region's API.
// The HTTP front end lives in package kmshttp.
//
// What it must not do: write key material, plaintext, data keys, ciphertext
// blobs or encryption contexts anywhere except (material only, sealed under
// the root key) the keystore file; never put them in errors or the audit
// log; never panic on client input or on a damaged keystore; never return
// plaintext for a blob or context other than the one sealed. It does not
// authenticate (kmshttp does); it authorizes only through Config.Authorizer.
//
// # Authorization
//
// With Config.Authorizer set (the reference server sets the users file,
// users.Set), every operation asks it whether the principal named by
// WithPrincipal may call the operation on the resource Alibaba RAM
// authorizes it on, inside the operation under the keystore lock, after the
// key is resolved and before any state change or cryptographic work (so an
// alias repointed concurrently cannot split the decision from the effect):
//
//	CreateKey, ListKeys              the key container (Resource.Container "key")
//	ListAliases                      the alias container ("alias")
//	other key operations             the resolved key: id and current aliases
//	Decrypt                          the key named in the blob
//	ReEncrypt                        the blob's key, then DestinationKeyId's
//	CreateAlias                      the alias, then the key
//	UpdateAlias                      the alias, the key it points at, the new key
//	DeleteAlias                      the alias, the key it points at
//
// A refusal is 403 Forbidden.NoPermission (doc 69008, KMS's code for a
// call its permission system refuses), audited like any result. ListKeys and ListAliases
// are refused, not filtered, for a principal without a container grant: RAM
// authorizes them on the container (doc 28953, "ListKeys kms:ListKeys Key
// container"), so Alibaba answers a RAM user without it with the error, not
// a shorter list. A KeyId that does not resolve is decided on the name the
// request gave, and only a principal granted that name gets the real 404,
// so others cannot probe which keys and aliases exist; the OSS service key
// is created on first use only for a caller granted alias/acs/oss.
// Refusal messages name the resource as the request named it, never the key
// an alias points at. A caller that names no principal is refused: in-process
// callers (the object store, admin hooks) name one. Emulator.Authorized
// answers the same question without an operation, for the object store's
// check before it asks for a data key. Parameter errors that need no key
// (a bad PendingWindowInDays, a malformed alias name) come before the
// decision, a choice: they reveal nothing about keys.
//
// # Ciphertext blob, format 1
//
// Self-describing, so Decrypt needs no KeyId and every old key version keeps
// decrypting:
//
//	header  = "KEB1" || 0x01 ||
//	          u8(len KeyId) || KeyId || u8(len KeyVersionId) || KeyVersionId ||
//	          salt(32, random) || nonce(12, random)
//	wrapKey = HKDF-SHA256(ikm=versionMaterial(32), salt=salt, info="sseaudit/kms/v1/wrap", 32 bytes)
//	aad     = header || canonical(EncryptionContext)
//	blob    = header || AES-256-GCM-Seal(wrapKey, nonce, plaintext, aad)   // ciphertext || tag(16)
//
// Ids are always 36-character lowercase GUIDs, so the header is 122 bytes and
// a 32-byte data key's blob is 171 bytes (228 base64 characters). Encryption
// always uses the key's PrimaryKeyVersion; decryption uses the version named
// in the blob. Parsing is strict (magic, format byte, id lengths of exactly
// 36, GUID syntax, minimum and maximum length) and every failure of the blob
// itself, including a wrong EncryptionContext, is the one error
// 400 Rejected.InvalidCiphertext with one fixed message, so a caller cannot
// tell a tampered tag from a context mismatch. A well-formed blob naming a
// key that is not in the region is 404 Forbidden.KeyNotFound; naming an
// unknown version of a known key, 404 Forbidden.KeyVersionNotFound.
//
// The fresh HKDF subkey per blob is what makes random 96-bit GCM nonces safe
// for a long-lived key version: each GCM key seals exactly one message, so
// the 2^32-invocation limit of NIST SP 800-38D does not apply (see wrapAEAD).
//
// # Canonical EncryptionContext
//
//	canonical(ctx) = BE32(number of pairs) ||
//	                 for each pair, keys in ascending byte order:
//	                     BE32(len(key)) || key || BE32(len(value)) || value
//
// nil and {} encode the same (0x00000000). Length prefixes make the encoding
// injective: {"ab":"c"} and {"a":"bc"}, or {"a":"b","c":"d"} and
// {"a":"bc=d"}, bind different AAD (local-kms, moto and LocalStack
// concatenate k||v and collide).
//
// # Keystore
//
// With Config.Dir, <Dir>/keystore.json (mode 0600, replaced through
// atomicfile after every mutation, including lazy rotation, lazy deletion
// and service key creation; a failed write rolls the change back and the
// call fails with 500 InternalFailure):
//
//	{"format":"sseaudit/kms-keystore/v1", "root_key_id":<rootkey.Key.ID()>, "seq":N,
//	 "regions":{"cn-hangzhou":{"keys":[{"key_id", "seq", "description", "key_state",
//	     "creator", "creation_date", "primary_key_version", "automatic_rotation",
//	     "rotation_interval_seconds", "last_rotation_date", "next_rotation_date",
//	     "delete_date", "versions":[{"key_version_id", "creation_date",
//	     "sealed_material": base64(rootkey.Seal("kms/key-version/v1", material,
//	         aad = BE32-length-prefixed("sseaudit/kms/v1/material", region, key_id, key_version_id)))}]}],
//	   "aliases":{"alias/x":"<key_id>"}}}}
//
// The aad binds each sealed material to its region, key and version, so
// moving it inside the file makes the load fail. Loading validates every
// field and opens every version: a different root key is ErrWrongRootKey
// (*RootKeyMismatchError names both key ids); anything else unexpected,
// from an empty file to a flipped byte in sealed material, is
// ErrCorruptKeystore. Without Dir everything is in memory.
//
// # Audit log
//
// With Config.AuditLog, one JSON object per line for every call: time,
// request_id and principal (WithRequestID, WithPrincipal), region, op (the
// Alibaba action name), key_id, key_version_id, source_key_id and
// source_key_version_id (ReEncrypt), and result ("ok" or the error code).
// Lazy mutations are logged as their own lines with principal
// "kms-emulator" and op AutoRotateKey, DeleteKey or CreateServiceKey.
//
// # Concurrency
//
// One RWMutex. Read and data-plane calls run under the shared lock; a call
// takes the exclusive lock only when it mutates, when a lazy event is due in
// its region (tracked as one "next event" time per region, so the check is
// O(1)), or when it resolves alias/acs/oss before the service key exists.
// Config.Rand is read concurrently and must be safe for that.
//
// # Behaviour and where it comes from
//
// Confirmed in Alibaba sources (SDK alibabacloud-go/kms-20160120/v3 v3.2.3
// field docs; help docs 69008 common error codes and 44211 key states;
// OSS/KMS user guides):
//   - state matrix of doc 44211 with 409 Rejected.Disabled,
//     Rejected.PendingDeletion and Rejected.StateModifiedFailed; UpdateAlias
//     is judged by the target key only (PendingDeletion refused);
//   - CancelKeyDeletion returns the key to Enabled (SDK: "If the deletion
//     task of a CMK is canceled, the CMK returns to the Enabled state");
//   - ScheduleKeyDeletion 7..366 days; UpdateRotationPolicy interval 7..730
//     days written as integer[d|h|m|s]; RotationInterval shown in seconds;
//   - GenerateDataKey: NumberOfBytes 1..1024 wins over KeySpec
//     (AES_256|AES_128), neither means 32 bytes; Encrypt up to 6 KB;
//   - alias names are alias/ plus 1..255 of [A-Za-z0-9_/-]; alias/acs/ is
//     reserved for service keys; a duplicate alias is 400
//     AliasAlreadyExists ("AliasName Already Exists.");
//   - 404 Forbidden.KeyNotFound / Forbidden.AliasNotFound /
//     Forbidden.KeyVersionNotFound, 400 InvalidParameter / MissingParameter,
//     403 Forbidden.NoPermission, 500 InternalFailure;
//   - service keys are created by the cloud service on first use and "you
//     cannot create, modify, or delete one through KMS".
//
// Chosen here, because no Alibaba source was found:
//   - Rejected.InvalidCiphertext (400) for every unreadable, tampered or
//     context-mismatched blob (the Decrypt error table lists no such code);
//   - the service key alias/acs/oss is created per region by any call that
//     resolves it (ListKeys/ListAliases do not create it); Creator "Oss", no
//     automatic rotation. EnableKey, DisableKey, ScheduleKeyDeletion,
//     CancelKeyDeletion, UpdateKeyDescription, CreateKeyVersion,
//     UpdateRotationPolicy, and CreateAlias/UpdateAlias pointing at it are
//     refused 403 Forbidden.NoPermission with a message naming the service
//     key; CreateAlias/UpdateAlias/DeleteAlias of any alias/acs/ name are
//     400 InvalidParameter (AliasName). Other alias/acs/ names are not
//     auto-created. "alias/acs" itself is refused; "alias/acsx" is allowed;
//   - states for APIs doc 44211 does not list: UpdateKeyDescription and
//     UpdateRotationPolicy refuse PendingDeletion with Rejected.PendingDeletion;
//     CreateKeyVersion needs Enabled (SDK: only Enabled keys get versions);
//     ReEncrypt needs both source and destination Enabled; ListKeyVersions,
//     DescribeKeyVersion and ListAliasesByKeyId work in every state;
//   - automatic rotation is applied lazily at the first call into the region
//     at or after NextRotationDate: one new version however many intervals
//     elapsed, LastRotationDate = time of that call, NextRotationDate = that
//     time + interval. AutomaticRotation reads Suspended, and nothing
//     rotates, while the key is Disabled or PendingDeletion; an overdue
//     rotation runs at the first call after re-enabling;
//   - CreateKeyVersion sets LastRotationDate and leaves NextRotationDate
//     alone; Alibaba's 7-day minimum between versions and 50-version cap
//     are not enforced;
//   - CreateKey accepts 7..730 days like UpdateRotationPolicy (the CreateKey
//     doc says 7..365 for software keys);
//   - hard deletion happens at the first call into the region at or after
//     DeleteDate (the key and every alias pointing at it disappear);
//   - an empty Plaintext or CiphertextBlob is MissingParameter;
//   - key and version ids are classic-KMS GUIDs, not KMS 3.0 "key-..." ids;
//   - RotationInterval and NextRotationDate are empty while AutomaticRotation
//     is Disabled; DeletionProtection is always Disabled; MaterialExpireTime
//     is empty.
//
// Not emulated: RAM policy documents (Deny statements, conditions), KMS
// grants (CreateGrant), DryRun, tags, asymmetric keys,
// HSM/KMS instances, BYOK (EXTERNAL origin, PendingImport), deletion
// protection, secrets, quotas and throttling.
package kms
