// Package scan is the compliance census: it reads a target's buckets,
// their default encryption rules, every object's encryption state and the
// KMS keys they reference, and streams them into a snapshot (package
// snapshot) with provenance and coverage.
//
// # What it holds
//
//   - Run and RunToFile: list buckets (ListBuckets, plus names given
//     explicitly, filtered by a glob), resolve each bucket's region, then
//     read each bucket's rule and versioning state, list its objects and
//     HEAD them (listing does not say how an object is encrypted).
//     Buckets are scanned concurrently by one pool of HEAD workers under
//     one budget of requests in flight (Concurrency) and, optionally, of
//     requests per second per endpoint (RequestRate), and written one at
//     a time in name order: the bucket being written streams each object
//     as its answer arrives, buckets scanned ahead of their turn keep
//     theirs in a bounded spool (memory, then a temporary file; see
//     census.go). Memory is bounded by constants, not by the number or
//     size of buckets. While a scan runs the garbage collector's target
//     is raised (Config.GCPercent, default 400; gc.go says what it saves
//     and costs) and restored after.
//   - Each bucket's access settings (access.go): its ACL and policy, read
//     with its rule, normalised (who the ACL lets in) and, for the policy,
//     the encryption guardrail facts derived from its JSON
//     (bucketpolicy.go, PolicyFacts). An endpoint that does not implement
//     bucket policies is recorded as status "unknown", never "none".
//     Object ACLs are not read (one more request per object).
//   - Retries with exponential backoff and full jitter on throttling, 429,
//     5xx and timeouts (Retry); the attempts are recorded.
//   - KMS keys: every referenced key is described once (DescribeKey) when
//     first seen; Forbidden.KeyNotFound marks it Missing. The region's OSS
//     service key (alias/acs/oss) is resolved lazily, only when a KMS key
//     id has to be classified, unless Config.ServiceKeyIDs gives it. With
//     Config.AWSKMS (an S3 target) keys are read through AWS KMS instead
//     (kms.go): DescribeKey, then GetKeyRotationStatus for customer keys;
//     NotFoundException marks a key Missing, KeyManager AWS (or the alias
//     alias/aws/s3) a service key, and the record is the same as an
//     Alibaba key's, under the id or alias the storage named. A key ARN
//     (S3 names every object's key by ARN) and the id inside it are one
//     key: one record, under the id (snapshot.KeyID), its Arn from KMS;
//     the Alibaba API is asked for an AWS key ARN by its id.
//     Aliases in Config.ExtraKeyRefs (the profile's allow-list) are
//     described too, so the snapshot records what they resolve to.
//   - Normalisation of rules and objects into snapshot methods (Method).
//   - Checkpoints (Config.Checkpoint, checkpoint.go): a checksummed,
//     fsynced log of what the snapshot received, from which a scan killed
//     in the middle resumes (Config.Resume): buckets read whole are
//     copied, the bucket cut short continues after the last key it holds
//     whole, the result is the uninterrupted scan's.
//   - A progress bar with rate and ETA, on a terminal only.
//
// Failures are data: an error answered by the endpoint, a timeout, or a
// cancellation becomes a snapshot.Error in the object, bucket or key it
// concerns and in Coverage.Errors; a bucket that could not be read is
// recorded with its error, never left out. On cancellation no new request
// is sent: objects already listed are written with a "Cancelled" error,
// buckets not yet opened are written with "Cancelled" rule and list
// errors, and the document is closed with complete=false.
//
// # What it must not do
//
// It never writes to the target (no PUT, COPY or DELETE of anything), never
// judges what it reads (policies do), never logs, and never records a
// secret: provenance carries only what Config.TargetInfo gives.
package scan
