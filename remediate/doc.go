// Package remediate plans and applies the re-encryption of what a scan
// found unencrypted (or encrypted more weakly than asked), losing nothing.
//
// # What it holds
//
//   - Plan (plan.go): built from a signed report directory only after the
//     directory verifies (package attest): per bucket the default
//     encryption to set where it is missing or weaker, the objects to
//     rewrite with the ETag, size, version id and LastModified the scan
//     saw, and the noncurrent unencrypted versions, listed apart and never
//     deleted. It is a versioned JSON document (PlanSchema) a reviewer
//     can read and diff.
//   - Apply (apply.go): a dry run unless told otherwise; each object is
//     copied onto itself with the planned encryption (one CopyObject below
//     the size threshold, UploadPartCopy parts above), keeping user
//     metadata, content type and the other content headers, tags, ACL,
//     storage class and S3 additional checksum, conditional on the ETag the scan saw, so an object
//     changed since is skipped and reported, never overwritten. Requests
//     are rate-limited and bounded in number in flight; an interrupt ends
//     after the copies in flight.
//   - The journal (journal.go): an append-only, fsynced record of every
//     step, with the state read before each copy, from which an
//     interrupted apply resumes without redoing or missing an object, and
//     from which the result file is written.
//   - The report (report.go): after an apply, the rewrites for history
//     (Rewrites: before and after of each copied object, which the drift
//     rule SSE-007 then knows for intended), the buckets to re-scan, and
//     Resolve, which judges every planned object against the re-scan's
//     snapshot and object findings (resolved, or open with the reason);
//     WriteReport writes remediation.json (ReportSchema) and
//     remediation.md into the re-scan's report set before it is signed.
//   - Verification (object.go): after each copy, HEAD shows the planned
//     encryption and key, the content checksum is unchanged (OSS's CRC-64,
//     else S3's full-object additional checksum, else the ETag's MD5, else
//     a read back), and metadata, tags and ACL equal what was recorded
//     before the copy.
//   - S3 additional checksums (x-amz-checksum-*): the one an object
//     carries is read before its copy (HEAD with x-amz-checksum-mode:
//     ENABLED) and journalled; the copy names its algorithm
//     (x-amz-checksum-algorithm; a multipart copy FULL_OBJECT for the
//     CRCs, COMPOSITE for SHA-1 and SHA-256, the only type S3 allows
//     them), so the copy carries the same algorithm, with the same value
//     wherever both are full-object. Verification fails a copy with
//     another algorithm or value; a COMPOSITE value after a multipart copy
//     cannot equal the source's, so the content is read back and checked
//     against the source's full-object value instead.
//
// # What it must not do
//
// It never deletes an object or a version, never writes an object whose
// ETag differs from the one planned, and never starts changing anything
// when the plan is for another target, its scan is older than allowed, or
// the principal or a bucket policy refuses the writes (a probe that
// changes nothing asks first). It talks to storage only through package
// client and never imports the reference. It never logs or writes a
// secret.
package remediate
