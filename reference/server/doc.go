// Package server starts the reference implementation on loopback or any
// address: the object storage endpoint that speaks both the Alibaba Cloud
// OSS and the S3 dialect on one port (chosen per request from its
// signature), and the KMS endpoint that speaks both the Alibaba Cloud KMS
// API and the AWS KMS API on one port (chosen per request, KMSProtocols).
// It owns the data directory layout, the root key, credentials and users,
// the HTTP servers' fair bounds (Limits: header, idle, body-progress and
// write-stall timeouts, connection caps, per-principal upload caps) and
// graceful shutdown. It must not implement protocol details (osshttp,
// s3http, kmshttp and awskmshttp do) or storage (objstore does), and must
// never log a secret.
//
// # Threat model
//
// The reference is the executable definition of correct SSE, so it states
// what it holds against whom. "Detected" means refused with a typed error
// and logged distinctly, never served as if nothing happened.
//
// A network client without credentials can reach the OSS/S3 and KMS
// endpoints. Every request is signature-checked (OSS V1/V4, S3 SigV2/SigV4
// and signed POST policies, Alibaba KMS RPC, AWS KMS SigV4) and an
// anonymous one is AccessDenied; replayed Alibaba KMS requests are refused
// by per-access-key nonce quotas that one caller cannot exhaust for
// another (SigV4 bounds replay by its clock skew); slow or idle
// connections are closed by read, idle and stall deadlines and a
// connection cap. It learns nothing about which objects or keys exist.
//
// A principal with grants (the users file) can do exactly what its bucket
// grants (read, write) and KMS grants (use, read, manage, by key id, alias
// or glob) allow, decided by one function for the KMS endpoint and for the
// object store's own KMS calls; root may do everything. A refused KMS call
// does not say whether the key exists. Its concurrent uploads are capped
// per principal. It cannot decrypt an SSE-KMS object without "use" on the
// object's key, even holding the sealed data key from the metadata.
//
// Someone with write access to the data directory but not the root key
// cannot read sealed material: KMS key versions, master keys, credentials
// and users are sealed with AES-256-GCM under root-key subkeys, and object
// data is encrypted per object. Edits are detected: every object and
// version record is authenticated (bucket, key, version id, algorithm
// including none, key id and version, sealed key, parts, data files), a
// plain object's bytes carry a checksum verified as it streams, data-file
// names are validated, and the keystore, master keyring and saved users are
// tagged with per-file generations in the state manifest, so an edited,
// older or deleted copy of any of them stops start-up naming the file
// (sseaudit fsck lists them without starting). Not detected: rolling back
// the whole data directory, manifest and database included, to an earlier
// consistent copy (it is all authentic), deleting objects together
// with their records, and editing bucket records (the default encryption
// rule, versioning, the bucket ACL) or upload records, which are not
// authenticated: such an edit changes what later writes get, never an
// existing object, and a scan reports the bucket as it then is. Bucket
// policies are authenticated. Keeping the root key file outside the data directory
// (--root-key-file) means a copy of the directory alone opens nothing.
//
// Someone holding the root key can do everything: it opens every sealed
// key and forges every tag. The key never leaves the process: it is not
// logged, not written to reports, taken out of the environment at start
// (no child process inherits it), and its file must be mode 0600; the
// data directory is made 0700.
package server
