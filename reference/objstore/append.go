package objstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/envelope"
)

// Appendable objects (OSS AppendObject).
//
// The first append (position 0, no object or a delete marker current)
// creates the object and fixes its encryption, as OSS documents: the
// request's x-oss-server-side-encryption, else the bucket's default rule.
// One data key is made then, bound (package envelope) to the bucket, key,
// a fresh append id in the identity's upload-id slot ("append-" and 32
// hex; KMS sees it as acs:oss:upload-id) and, in an Enabled bucket, the
// version id reserved for the object. Every append is its own data file,
// stream part n (1, 2, ...) under that one key, exactly as the parts of
// a multipart upload are: no new construction, and a file of one
// appendable object never decrypts as part of another (other identity) or
// at another position (other part number). Later appends unseal the
// stored data key (the principal's KMS decrypt grant and the key's state
// apply to each append, as to each UploadPart).
//
// Later appends inherit the encryption: one naming the same algorithm is
// accepted, one naming another is KindInvalidArgument, and a KMS key id
// in any append request is KindInvalidArgument (OSS: "You cannot use KMS
// to encrypt appendable objects on the server by specifying CMK IDs").
// Descriptive metadata, storage class and tags come from the first append
// only; a later append's canned ACL replaces the object's (the v1 OSS
// SDK's own test pins both).
//
// The position must equal the object's length, else
// KindPositionNotEqualToLength with Error.NextPosition; an existing object
// that AppendObject did not write is KindObjectNotAppendable, and so is
// one with MaxAppends appends (the reference keeps one file per append).
// Both are checked before the body is read and again in the commit, so a
// concurrent append to the same position loses cleanly. The object's
// CRC-64 is the appends' CRCs combined (OSS's x-oss-hash-crc64ecma) and
// its checksum the CRC64NVME of the whole (combined the same way). Its
// ETag is the content MD5 while it has one append, afterwards the MD5 of
// the appends' binary MD5s: OSS documents only PutObject ETags as the
// content MD5.
//
// Versioning: appends change the current version in place (same version
// id, no noncurrent version per append, as OSS); a PutObject, copy or
// delete over it retires it as any current version.

// MaxAppends is how many appends an appendable object takes.
const MaxAppends = MaxPartNumber

const appendIDPrefix = "append-"

func positionErr(res string, next int64) error {
	e := newErr(KindPositionNotEqualToLength, res, "Position is not equal to file length", nil)
	e.NextPosition = next
	return e
}

func notAppendable(res string) error {
	return newErr(KindObjectNotAppendable, res, "The object is not appendable", nil)
}

// checkAppendTarget checks an append at position against the current
// record cur (nil: none).
func checkAppendTarget(res string, cur *objectRecord, position int64) error {
	switch {
	case cur == nil && position != 0:
		return positionErr(res, 0)
	case cur == nil:
		return nil
	case !cur.Appendable:
		return notAppendable(res)
	case position != cur.Size:
		return positionErr(res, cur.Size)
	case len(cur.Files) >= MaxAppends:
		return notAppendable(res)
	}
	return nil
}

// AppendObject appends body at position to the appendable object
// bucket/key, creating it at position 0. See the comment above.
func (s *DiskStore) AppendObject(ctx context.Context, p Principal, bucket, key string, position int64, body io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return ObjectInfo{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	if position < 0 {
		return ObjectInfo{}, newErr(KindInvalidArgument, res, "The position must not be negative.", nil)
	}
	if size > MaxPutSize || position+max(size, 0) > MaxPutSize {
		return ObjectInfo{}, newErr(KindEntityTooLarge, res, msgEntityTooLarge, nil)
	}
	if opts.SSE.KMSKeyID != "" {
		return ObjectInfo{}, newErr(KindInvalidArgument, res,
			"Appendable objects cannot be encrypted with a specified KMS key id (x-oss-server-side-encryption-key-id).", nil)
	}
	// class is a new object's only: an append keeps the object's class.
	b, class, _, err := s.writeTarget(res, bucket, opts, "")
	if err != nil {
		return ObjectInfo{}, err
	}
	var cur *objectRecord
	if err := s.view(func(tx *bolt.Tx) error {
		objs := s.objectsTx(tx, bucket)
		if objs == nil {
			return noSuchBucket(bucket)
		}
		cur, err = currentObjectTx(objs, key)
		return err
	}); err != nil {
		return ObjectInfo{}, asError(res, err)
	}
	if err := checkAppendTarget(res, cur, position); err != nil {
		return ObjectInfo{}, err
	}

	var (
		dk       *envelope.DataKey
		plan     versionPlan
		newRec   *objectRecord // the record of a new object
		recBytes []byte
	)
	if cur == nil {
		w, err := resolveSSE(res, opts.SSE, b.Rule, s.faults)
		if err != nil {
			return ObjectInfo{}, err
		}
		if b.Versioning == VersioningEnabled && w.algorithm != "" {
			if plan, err = s.reserveVersion(b.Name); err != nil {
				return ObjectInfo{}, asError(res, err)
			}
		}
		var rec envelope.Record
		dk, rec, recBytes, err = s.newDataKey(ctx, p, res, b.Region, w,
			envelope.Identity{Bucket: bucket, Object: key, UploadID: appendIDPrefix + s.newUploadID(), VersionID: plan.id})
		if err != nil {
			return ObjectInfo{}, err
		}
		newRec = &objectRecord{
			objMeta: metaFromPut(opts), StorageClass: class, Algorithm: rec.Algorithm, KMSKeyID: rec.KeyID,
			Record: recBytes, ACL: opts.ACL, Tags: tagRecords(opts.Tags), Appendable: true,
		}
	} else {
		if a := opts.SSE.Algorithm; a != "" && a != cur.Algorithm {
			return ObjectInfo{}, newErr(KindInvalidArgument, res, fmt.Sprintf(
				"The object's encryption was fixed by its first append (%s); an append cannot change it to %s.", algorithmName(cur.Algorithm), a), nil)
		}
		if cur.Record != nil {
			if dk, err = s.openDataKey(ctx, p, res, b.Region, cur.Record, cur.Algorithm, cur.KMSKeyID, bucket, key, cur.VersionID); err != nil {
				return ObjectInfo{}, err
			}
		} else if cur.Algorithm != "" {
			return ObjectInfo{}, newErr(KindDecryptFailed, res, msgDecryptFailed, fmt.Errorf("encrypted appendable object without an encryption record"))
		}
	}
	if dk != nil {
		defer dk.Destroy()
	}
	part := 1
	if cur != nil {
		part = len(cur.Files) + 1
	}
	release, err := s.uploads.acquire(p, res)
	if err != nil {
		return ObjectInfo{}, err
	}
	wr, err := s.writeData(ctx, res, body, size, opts.ContentMD5, dk, part, DefaultChecksumAlgorithm)
	release()
	if err != nil {
		return ObjectInfo{}, err
	}
	if position+wr.file.Size > MaxPutSize {
		s.removeFiles([]string{wr.file.Name})
		return ObjectInfo{}, newErr(KindEntityTooLarge, res, msgEntityTooLarge, nil)
	}
	f := wr.file
	f.ETag, f.Checksum = hex.EncodeToString(wr.md5[:]), wr.sums[0]

	var info ObjectInfo
	var replaced []string // a null version a first append in a Suspended bucket replaced
	err = s.update(func(tx *bolt.Tx) error {
		bt, err := getBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		objs := s.objectsTx(tx, bucket)
		if objs == nil || bt == nil {
			return noSuchBucket(bucket)
		}
		now, err := currentObjectTx(objs, key)
		if err != nil {
			return err
		}
		// The object must still be the one the data was written for.
		if err := checkAppendTarget(res, now, position); err != nil {
			return err
		}
		if (now == nil) != (cur == nil) || (now != nil && !sameAppendable(now, cur)) {
			return positionErr(res, sizeOf(now))
		}
		if now == nil {
			rec := newRec
			rec.Size, rec.CRC64, rec.Files, rec.LastModified = f.Size, f.CRC64, []dataFile{f}, s.now()
			rec.ETag = f.ETag
			rec.Checksum = &checksumRecord{Algorithm: DefaultChecksumAlgorithm, Type: ChecksumFullObject, Value: f.Checksum}
			if replaced, err = s.putVersionTx(tx, bt, objs, key, rec, nil, plan); err != nil {
				return err
			}
			info = rec.versionInfo(bt, key)
			return nil
		}
		rec := *now
		rec.Files = append(append([]dataFile(nil), now.Files...), f)
		rec.CRC64 = crc64Combine(now.CRC64, f.CRC64, f.Size)
		rec.Checksum = nil
		if c := now.Checksum; c != nil && c.Algorithm == DefaultChecksumAlgorithm {
			if v, ok := fullObjectCRC(DefaultChecksumAlgorithm, [][]byte{c.Value, f.Checksum}, []int64{now.Size, f.Size}); ok {
				rec.Checksum = &checksumRecord{Algorithm: DefaultChecksumAlgorithm, Type: ChecksumFullObject, Value: v}
			}
		}
		rec.Size += f.Size
		rec.ETag = appendETag(rec.Files)
		rec.LastModified = s.now()
		if opts.ACL != "" {
			rec.ACL = opts.ACL
		}
		if err := objs.putRec([]byte(key), &rec); err != nil {
			return err
		}
		info = rec.versionInfo(bt, key)
		return nil
	})
	if err != nil {
		s.removeFiles([]string{wr.file.Name})
		return ObjectInfo{}, asError(res, err)
	}
	s.removeFiles(replaced)
	return info, nil
}

// sameAppendable reports whether two records are the same appendable
// object (same data key record and first data file), whatever was
// appended since.
func sameAppendable(a, b *objectRecord) bool {
	return bytes.Equal(a.Record, b.Record) && len(a.Files) > 0 && len(b.Files) > 0 && a.Files[0].Name == b.Files[0].Name
}

func sizeOf(r *objectRecord) int64 {
	if r == nil {
		return 0
	}
	return r.Size
}

func algorithmName(a string) string {
	if a == "" {
		return "none"
	}
	return a
}

// appendETag is the ETag of an appendable object with files: the content
// MD5 for one append, else the MD5 of the appends' binary MD5s.
func appendETag(files []dataFile) string {
	if len(files) == 1 {
		return files[0].ETag
	}
	h := md5.New()
	for _, f := range files {
		b, _ := hex.DecodeString(f.ETag)
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
