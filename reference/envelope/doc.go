// Package envelope is the reference server's server-side encryption of
// object data: it gives every object a fresh random 256-bit data key, seals
// that key under an OSS-managed master key (SSE-OSS, "AES256"), a KMS
// customer master key (SSE-KMS, "KMS") or a key the client provides with
// every request (SSE-C, "SSE-C", S3 dialect only), records how in a strictly parsed
// metadata Record, and encrypts the bytes with the chunked stream format of
// package stream. It must not store anything itself (the storage layer
// keeps the Record and the ciphertext) and must never log or return a data
// key outside a DataKey value.
//
// Construction, per object (record format 1, Cipher AES-256-GCM-STREAM-v1):
//
//	dataKey    = random(32)
//	binding    = "sseaudit/object/v1" || BE32(len(bucket)) || bucket || BE32(len(object)) || object
//	             || BE32(len(uploadID)) || uploadID || BE32(len(versionID)) || versionID
//	             (Identity.Binding; length-prefixed, so no two identities share a binding)
//	commitment = HMAC-SHA256(dataKey, "sseaudit/envelope/v1/commit" || binding)
//	SSE-OSS:   sealedKey = masterkey.Seal(dataKey, aad = binding)   (names its master version)
//	SSE-KMS:   (dataKey, sealedKey) = KMS.GenerateDataKey(CMK, AES_256,
//	               EncryptionContext{"acs:oss:bucket": bucket, "acs:oss:object": object,
//	                                 "acs:oss:upload-id": uploadID   (only when uploadID != ""),
//	                                 "acs:oss:version-id": versionID (only when versionID != "")})
//	SSE-C:     salt = random(32); nonce = random(12)
//	           wrapKey   = HKDF-SHA256(customerKey, salt, "sseaudit/envelope/v1/sse-c-wrap", 32)
//	           sealedKey = 0x01 || salt || nonce || AES-256-GCM(wrapKey, nonce, dataKey, aad = 0x01 || binding)
//	           (KeyVersion "customer", no key id)
//	data       = stream.Encrypt(dataKey, identity = binding || BE32(partNumber))
//
// SSE-C keeps nothing derived from the customer key but the sealed data
// key: no MD5 of it and no HMAC verifier (AWS keeps a salted HMAC; here
// the GCM tag of the sealed key, under a key derived with a random salt,
// is the verifier). OpenCustomerDataKey with another key fails that tag
// (ErrCustomerKeyMismatch); without a key it is ErrCustomerKeyRequired;
// OpenDataKey never opens an SSE-C record. Because GCM is not key
// committing, the data key it yields is still checked against the
// commitment before any byte is decrypted. Rewrap leaves an SSE-C record
// unchanged: the server cannot unseal it.
//
// uploadID is set for a multipart upload (its data key is created at
// initiation, before any version id exists) and versionID for a
// single-part write (Put, Copy) to a bucket with versioning Enabled: the
// object store reserves the version id before it creates the data key.
// Both are "" otherwise (unversioned objects, null versions). The Record
// keeps them ("upload_id", "version_id", omitted when empty) and
// OpenDataKey rebuilds the identity from them, so records written before
// version ids were bound (no "version_id") still open, with "" in the
// binding: the record format did not change, the field's presence tells
// them apart. Relabelling a record with another version id (or none)
// changes the binding, so the seal or KMS context, the commitment and the
// stream identity all fail. The object store checks that a record's
// version id, when present, is the version id of the object record that
// holds it, so one version's data key never reads as another's.
//
// On read the sealed key is opened (master keyring or KMS Decrypt with the
// same context), the commitment is recomputed and compared in constant time
// before any byte is decrypted (a substituted sealed key is caught here),
// and then the stream verifies its own header commitment and every chunk.
// The bucket and object name (and upload and version id) are bound three
// times (seal AAD or KMS context, commitment, stream identity), so
// ciphertext or a sealed key moved to another name never decrypts.
//
// Multipart uploads share one data key per upload; each part is its own
// stream whose identity adds the part number, and the stream derives a
// per-part subkey from it with a fresh random salt.
//
// Rewrap re-seals the data key under the newest master version (SSE-OSS)
// or the CMK's primary version (SSE-KMS, via ReEncrypt) without touching
// the data.
package envelope
