// Package objstore is the reference server's dialect-neutral object store:
// buckets with a default encryption rule, objects, multipart uploads and
// listings, with server-side envelope encryption of every object written
// while a rule or request asks for it. The OSS and S3 HTTP front ends both
// call the Store interface (api.go); DiskStore implements it on a local
// directory.
//
// It holds bucket and object metadata, the envelope records (sealed data
// keys) and the object bytes. It must not speak any wire protocol (front
// ends map Kind to codes and statuses), must not hold or log a data key
// beyond the request that unsealed it, must never write an encrypted
// object's plaintext to disk, must never return plaintext that did not
// authenticate, and must never re-encrypt or otherwise touch an existing
// object when a bucket's rule changes (only a write — Put, Copy, Complete
// — creates objects, and only with the encryption in force at that time).
//
// # On-disk layout
//
//	<Dir>/meta.db        bbolt database, mode 0600:
//	    meta      "format" -> schema version
//	    buckets   name -> {name, region, created, owner, rule (with
//	              SSE-C allowed or not), versioning, storage class,
//	              canned ACL}
//	    objects   one nested table per bucket: key -> {size, etag, times,
//	              metadata, crc64, multipart, storage class, checksum, sse,
//	              envelope record, data files [{name, part, size, stored
//	              size, etag, crc64, part checksum}], canned ACL, tags}
//	    uploads   one nested table per bucket: (key, upload id) -> {initiated,
//	              initiator, metadata, storage class, checksum algorithm and
//	              type, sse, envelope record}
//	    parts     one nested table per upload id: part number -> {data file,
//	              last modified, declared checksum}
//	    inventory one nested table per bucket: configuration id -> bucket
//	              inventory configuration (inventory.go; made on first use)
//	    completed one nested table per bucket: upload id -> the result of
//	              a completed upload, kept CompletedUploadRetention so that
//	              a retried S3 completion answers it again (completed.go;
//	              made on first use)
//	<Dir>/data/<32 hex>  one file per single-part object or per part: the
//	              plaintext of an unencrypted object, or one stream of
//	              package stream (header, 64 KiB authenticated chunks)
//	<Dir>/tmp/w-*        files being written
//
// Bucket and object (and version) records are binary (record.go): a
// format byte, then the fields in a fixed order, so that a HEAD or a
// listing entry costs a few allocations instead of a JSON decoding.
// Object and version records are format 2, authenticated (integrity.go
// and "Integrity" below); the database is v4 (sseaudit/objstore/v4),
// which older builds refuse to open. Bucket records are format 1 (builds
// before binary records wrote JSON, still read). Upload and part records
// stay JSON.
//
// Data file names are random (crypto/rand), never derived from bucket or
// object names, and checked on every read. Each data file is referenced by at most one record. An
// encrypted single-part object is stream part 0 of its data key; a
// multipart upload has one data key (created at initiation, its identity
// including the upload id) and every part is its own stream numbered by
// its part number; completing the upload moves the part files, unchanged,
// into the object record, which keeps the upload's envelope record.
//
// # Integrity
//
// Every object and version record carries an HMAC-SHA256 tag under a key
// derived from the root key (rootkey.DeriveKey(RecordMACPurpose)) over
// its bucket, table (current or versions), table key and every field:
// size, ETag, checksums, algorithm ("" = none), KMS key id, the envelope
// record (key or master version, sealed key, commitment, upload and
// version id), the part list (number, plaintext and stored size, ETag,
// CRC-64, CRC-32C and checksum of each data file), the version fields,
// the object's canned ACL and its tags (so an edited ACL or tag fails as
// an edited size does; PutObjectACL and PutObjectTagging re-authenticate
// the record they change, in place).
// Every read of a record verifies it: HEAD, GET, copy, both listings, the
// admin views, overwrites and deletes that retire or promote a version,
// and garbage collection, which removes no file while any record fails.
// A failure is an *IntegrityError (bucket, key, version, what failed; no
// secrets) inside an *Error of KindIntegrity, which the front ends answer
// as a 500 InternalError without the object's headers or bytes and log
// as an integrity failure. Data file names must be the 32 lowercase hex
// characters the store writes; any other is an integrity error, never a
// path (and never removed). The version id of a single-part write to an
// Enabled bucket is reserved before its data key is made and bound into
// it (package envelope), so one version's data never reads as another's.
//
// Unencrypted data is checked too: a read of a whole data file verifies
// its CRC-32C (CRC-64 for files written before format 2) as it streams
// and withholds the file's last bytes until it matched, so a flipped bit
// aborts the response (a body shorter than Content-Length) instead of a
// complete 200. Ranges inside a file are not checked, and a CRC detects
// corruption, not a deliberate substitution: encrypted objects are
// authenticated chunk by chunk by the stream format, plain ones are not.
//
// What is not detected: a record, or the whole database, rolled back to
// an older authentic copy, and a deleted record (both need state outside
// the data directory); bucket, upload and part records are not
// authenticated (a completed upload's files are name-checked and, when
// encrypted, bound to their part numbers).
//
// A database written before record authentication (v1 to v3) is refused
// with ErrUnauthenticatedDatabase unless Config.AdoptUnauthenticated is
// set; then Open authenticates its records as found, logs how many, and
// marks it v4 (an interrupted adoption resumes). An attacker who strips
// tags to have edits adopted therefore needs the operator to opt in. A
// meta.db that bbolt refuses, that fails bbolt's page check at Open, or
// whose reading panics there is a *CorruptDatabaseError, never a panic.
// The page check cannot see every corruption (a flipped length inside a
// leaf is met only when that record is read), so every transaction runs
// the same guard: a panic or memory fault while reading becomes an
// internal *Error wrapping a *CorruptDatabaseError, answered 500.
//
// # Crash safety
//
// A write streams the body through MD5 and CRC-64 (of the plaintext; and
// CRC-32C when unencrypted) and, when encrypted, envelope.DataKey.Encrypt
// (told the declared size, writing page-aligned pieces of at least
// 256 KiB from its own buffer, write.go) into a temp file (MD5 on a
// goroutine of its own beside the rest, hashpipe.go); checks length and
// Content-MD5; closes the stream; renames the file into data/;
// fsyncs the file, then data/;
// and only then commits the bbolt transaction that references it, which
// is the single point at which the object (or part) becomes visible.
// Afterwards it deletes the files of whatever the commit replaced.
// (Renaming before the fsyncs is safe because the name is referenced by
// no record until the commit; it lets ext4 commit the data, inode and
// entry in one journal transaction.) Concurrent writers share the syncs
// (groupcommit.go): a writer's fsync of data/ is one that started after
// its rename, possibly run by another writer for several, and object and
// part commits queued while a commit runs are committed together in the
// next bbolt transaction, in arrival order, each seeing the writes before
// it. Every write still returns only after the sync and the commit that
// cover it returned, so an acknowledged write is as durable as before;
// only the number of syncs per write falls as concurrency rises. So:
//
//   - a crash before the commit leaves the old metadata, which references
//     only old, complete files; the new file is in tmp/ or unreferenced in
//     data/;
//   - a crash after the commit leaves the new metadata, whose files were
//     durable before it was written; the replaced files are unreferenced;
//   - Open deletes everything in tmp/ and every data file no object or
//     part record references, so orphans of either case disappear, and
//     nothing visible can be deleted because visibility is exactly
//     "referenced by a committed record".
//
// A write that fails before its commit (a body that ends early, a read
// deadline the server set firing on a stalled client: KindRequestTimeout)
// closes and removes its temp file at once, not at the next Open. While it
// streams, a write holds one of its principal's Config.MaxUploadsPerPrincipal
// upload slots; with none free it is refused with KindSlowDown before a
// temp file is created.
//
// Bucket and rule operations are single bbolt transactions. No bbolt
// transaction is held while data is streamed. Readers hold their data
// files open, and removal of replaced files is ordered after any reader
// that already looked the old record up has opened them, so a concurrent
// overwrite or delete never changes what an open Object returns.
//
// # Encryption
//
// The effective encryption of a write is the request's, else the bucket's
// rule, else none; AES256 is SSE-OSS (master keyring), KMS is SSE-KMS with
// the request or rule key ("" = alias/acs/oss) in the store's region. SM4,
// data encryption and unknown algorithms are refused. The resolved CMK id
// from the envelope record, never an alias, is what ObjectInfo.SSE
// reports. Reads of KMS objects check Authorizer.CanDecrypt before KMS is
// called; every KMS call names the requesting principal
// (kms.WithPrincipal; Rewrap, an operator action, names root), so a KMS
// Authorizer decides writes (GenerateDataKey) and reads (Decrypt) as it
// decides the KMS endpoint's calls, and its 403 Forbidden.NoPermission is
// KindKMSAccessDenied like CanDecrypt's refusal; KMS key states map to
// their Kinds; any authentication failure of
// a record, sealed key or chunk is KindDecryptFailed. Range reads decrypt
// only the chunks they need.
//
// # SSE-C
//
// AlgorithmSSEC (S3's SSE-C; the OSS front end never asks for it) seals
// the object's data key under a key the client sends with every request
// (package envelope: HKDF-SHA256 of the customer key with a random salt,
// AES-256-GCM over the data key, bound to the object's identity; the
// stream format is the same as for every encrypted object). The store
// never keeps the customer key or anything computed from it but that
// sealed key: the GCM tag verifies the key on every read (another key is
// KindCustomerKeyMismatch, none KindCustomerKeyRequired) where AWS keeps
// a salted HMAC of it. Writes name the key in SSE.CustomerKey (Put,
// CreateMultipartUpload, a copy's destination); HEAD, GET, a copy's
// source and UploadPart take it from their context (WithCustomerKey).
// HEAD unseals and discards the data key to check the key, without any
// KMS call, except a HEAD for an object's ACL or tags (MetadataOnly),
// which S3 serves without the key. A customer key sent for an object that is not SSE-C is
// KindInvalidRequest. A bucket's rule blocks SSE-C writes unless it says
// otherwise (EncryptionRule.AllowSSEC, S3's BlockedEncryptionTypes NONE;
// a bucket without a rule blocks them too): a blocked write is
// KindAccessDenied, and blocking never touches existing SSE-C objects,
// which stay readable with their key. Rewrap, Check and the
// ApplyDefaultToExisting fault leave SSE-C objects alone (their keys are
// not the server's to unseal). The object record keeps the algorithm
// "SSE-C" and the envelope record like any other, so the record MAC
// covers them unchanged; the bucket record marks an unblocking rule with
// a flag (record.go).
//
// # Checksums
//
// Every object written has one checksum (S3's additional checksums:
// CRC32, CRC32C, CRC64NVME, SHA1, SHA256, MD5, SHA512, and the xxHash
// family XXHASH64, XXHASH3, XXHASH128 added in 2026): the algorithm the
// write names, else CRC64NVME, as S3 computes for every new object since
// December 2024. The store computes it over the plaintext on the way in and
// keeps the raw value with its type. A single-part object's is FULL_OBJECT.
// A multipart upload fixes its algorithm and type at initiation (COMPOSITE
// by default, FULL_OBJECT allowed for the CRCs only, CRC64NVME only
// FULL_OBJECT; no algorithm = CRC64NVME FULL_OBJECT); every part keeps its
// checksum, and completion makes the object's: COMPOSITE = the checksum of
// the concatenated raw part checksums over N parts ("-N" on the wire),
// FULL_OBJECT = the part CRCs combined (crcCombine). A part may also keep
// a checksum the client declared in another algorithm when the upload
// named none, so that completion can check what the client lists; every
// checksum a client lists on completion must equal a stored one
// (KindInvalidPart). A copy computes its checksum over the copied bytes in
// the requested algorithm or else the source's (a carried full-object
// value must match them). Verifying a client's declared value against the
// body is the front end's job; it names the declared algorithm so that the
// store keeps exactly what was checked. Records from before checksums were
// kept have none and report none.
//
// # Storage classes
//
// Objects and uploads keep the storage class they were written with,
// OSS's or S3's name (StorageClasses); old records without one are
// Standard. A bucket has a class too (CreateBucketOptions, OSS's
// PutBucket; Standard unless given), which objects written to it without
// one get; its record carries the class only when it is not Standard, so
// Standard buckets' records stay as older builds wrote them. The class is
// metadata only: every class is stored on the same disk and read the same
// way. In particular GET of an archive class (Archive, ColdArchive,
// DeepColdArchive, GLACIER, DEEP_ARCHIVE) does not require RestoreObject
// here, a deliberate simplification of the reference, which serves
// encryption audits, not storage tiers (the OSS front end accepts
// RestoreObject and changes nothing).
//
// # Versioning
//
// A bucket's versioning state is "" (never enabled), Enabled or
// Suspended; once set it never returns to "". The current version of a
// key that holds data stays in the objects table, so plain reads,
// listings, the admin hooks and every record written before versioning
// are unchanged; every other version (noncurrent versions and delete
// markers, current or not) is in the versions table:
//
//	versions  one nested table per bucket: (key, ^seq) -> the same record
//	          as objects, plus version id, seq and delete marker flag
//
// seq is the bucket's bbolt sequence at the commit that created the
// version (or reserved before an encrypted single-part write, whose data
// key binds the version id; a reserved write that commits after a later
// one is stored noncurrent), so the table holds each key's versions
// newest first; version ids are hex(seq) and 64 random bits, "null" (stored as "") for the
// version written while the bucket was unversioned or suspended. A write
// (Put, Copy, Complete) in an Enabled bucket moves the current version
// into the versions table and commits the new one in the same
// transaction; Suspended replaces the null version wherever it is; a
// delete without version adds a delete marker; removing a version for
// good makes the newest remaining one current again when it holds data.
// Every version keeps its own files and envelope record forever: a rule
// change re-encrypts nothing, and reading an old version unseals its own
// data key. Garbage collection counts the files of both tables as
// referenced. Builds without the versions table refuse v4 databases
// (as they refused v2 and v3 ones: their garbage collection would delete
// noncurrent versions' files).
//
// # ACLs and tags
//
// Buckets and objects keep a canned ACL by name (acl.go); objects keep up
// to MaxTags tags (CheckTags). Both are set by the write that creates an
// object (PutOptions; CreateMultipartUpload keeps them for the completed
// object) and changed in place by PutObjectACL and PutObjectTagging. A
// copy takes the request's ACL, never its source's (both services), and
// its source's tags unless CopyOptions.ReplaceTags. ACLs are stored and
// reported, not enforced: every request is still authorized by the
// Authorizer alone, and nothing is served anonymously.
//
// # Bucket policies and appendable objects
//
// A bucket policy (policy.go: the subset of OSS's and S3's policy
// language SSE guardrails use, and how it is evaluated) is stored in its
// own table, authenticated with the record MAC unlike bucket records, and
// cached in memory for PolicyDenies, which the front ends ask before
// every operation. Appendable objects (append.go) are one data file per
// append, each its own stream part under the object's one data key, as
// multipart parts are; the first append fixes the encryption.
//
// # Conditional writes
//
// PutObject, CopyObject and CompleteMultipartUpload take a WriteCondition
// (If-Match, If-None-Match) on the object they would replace. It is
// checked once before any data is written, to fail early, and again in the
// bbolt transaction that commits the write, so no other write can slip in
// between the check and the commit.
package objstore
