package objstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sseaudit/sseaudit/reference/faults"

	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/envelope"
)

func noSuchKey(bucket, key string) error {
	return newErr(KindNoSuchKey, objectRes(bucket, key), msgNoSuchKey, nil)
}

// commitObject makes rec the visible object bucket/key in one transaction,
// when cond holds for the object it replaces, and returns the data files
// of that object, which the caller removes after the commit.
func (s *DiskStore) commitObject(bucket, key string, rec *objectRecord, cond WriteCondition, plan versionPlan) (replaced []string, versionID string, err error) {
	res := objectRes(bucket, key)
	// Group commit: fn may run more than once (committer), and sets its
	// results afresh each time.
	err = s.commits.update(func(tx *bolt.Tx) error {
		b, err := getBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		objs := s.objectsTx(tx, bucket)
		if objs == nil || b == nil {
			return noSuchBucket(bucket)
		}
		old, err := currentObjectTx(objs, key)
		if err != nil {
			return err
		}
		if err := checkCondition(res, cond, old); err != nil {
			return err
		}
		if replaced, err = s.putVersionTx(tx, b, objs, key, rec, old, plan); err != nil {
			return err
		}
		versionID = versionLabel(b.Versioning, rec)
		return nil
	})
	if err != nil {
		return nil, "", asError(res, err)
	}
	return replaced, versionID, nil
}

// currentObjectTx returns the record of key, nil when there is none.
func currentObjectTx(objs *objTable, key string) (*objectRecord, error) {
	return objs.getRec([]byte(key))
}

// checkCondition evaluates a write condition against the object the write
// would replace (nil when there is none).
func checkCondition(res string, cond WriteCondition, cur *objectRecord) error {
	if cond.IfMatch != "" {
		if cur == nil {
			return newErr(KindNoSuchKey, res, msgNoSuchKey, nil)
		}
		if !etagListMatches(cond.IfMatch, cur.ETag) {
			return newErr(KindPreconditionFailed, res, msgPreconditionFailed, nil)
		}
	}
	if cond.IfNoneMatch != "" && cur != nil && etagListMatches(cond.IfNoneMatch, cur.ETag) {
		return newErr(KindPreconditionFailed, res, msgPreconditionFailed, nil)
	}
	return nil
}

// etagListMatches reports whether a comma-separated If-Match style list
// names etag or is "*".
func etagListMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimPrefix(strings.TrimSpace(e), "W/")
		if e == "*" || (e != "" && normalizeETag(e) == etag) {
			return true
		}
	}
	return false
}

// precheckCondition fails a conditional write early, before its body is
// streamed; commitObject checks again, atomically with the commit.
func (s *DiskStore) precheckCondition(bucket, key string, cond WriteCondition) error {
	if cond == (WriteCondition{}) {
		return nil
	}
	res := objectRes(bucket, key)
	err := s.view(func(tx *bolt.Tx) error {
		objs := s.objectsTx(tx, bucket)
		if objs == nil {
			return noSuchBucket(bucket)
		}
		cur, err := currentObjectTx(objs, key)
		if err != nil {
			return err
		}
		return checkCondition(res, cond, cur)
	})
	return asError(res, err)
}

// objectWrite is what storeObject writes.
type objectWrite struct {
	body         io.Reader
	size         int64
	contentMD5   []byte
	sse          writeSSE
	meta         objMeta
	storageClass string // normalized
	checksumAlg  string // computed over the content
	// carried is a full-object checksum value the content must have (a
	// copy keeping its source's checksum); nil = none to check.
	carried []byte
	cond    WriteCondition
	acl     string
	tags    []tagRecord
}

// storeObject writes a new single-part object to bucket b, commits it and
// removes what it replaced.
func (s *DiskStore) storeObject(ctx context.Context, p Principal, b *bucketRecord, key string, ow objectWrite) (ObjectInfo, error) {
	res := objectRes(b.Name, key)
	if err := s.precheckCondition(b.Name, key, ow.cond); err != nil {
		return ObjectInfo{}, err
	}
	// In an Enabled bucket the version id is reserved first, so that the
	// data key's identity binds it (envelope.Identity.VersionID).
	var plan versionPlan
	if b.Versioning == VersioningEnabled && ow.sse.algorithm != "" {
		var err error
		if plan, err = s.reserveVersion(b.Name); err != nil {
			return ObjectInfo{}, asError(res, err)
		}
	}
	dk, rec, recBytes, err := s.newDataKey(ctx, p, res, b.Region, ow.sse, envelope.Identity{Bucket: b.Name, Object: key, VersionID: plan.id})
	if err != nil {
		return ObjectInfo{}, err
	}
	if dk != nil {
		defer dk.Destroy()
	}
	plaintextFault := dk != nil && s.faults.Has(faults.PlaintextAtRest)
	if plaintextFault {
		dk, recBytes = nil, nil
	}
	release, err := s.uploads.acquire(p, res)
	if err != nil {
		return ObjectInfo{}, err
	}
	wr, err := s.writeData(ctx, res, ow.body, ow.size, ow.contentMD5, dk, 0, ow.checksumAlg)
	release()
	if err != nil {
		return ObjectInfo{}, err
	}
	if ow.carried != nil && !checksumEqual(ow.carried, wr.sums[0]) {
		s.removeFiles([]string{wr.file.Name})
		return ObjectInfo{}, internal(res, fmt.Errorf("copied content does not match the source's stored %s checksum", ow.checksumAlg))
	}
	obj := &objectRecord{
		Size: wr.file.Size, ETag: wr.file.ETag, LastModified: s.now(), objMeta: ow.meta, CRC64: wr.file.CRC64,
		StorageClass: ow.storageClass,
		Checksum:     &checksumRecord{Algorithm: ow.checksumAlg, Type: ChecksumFullObject, Value: wr.sums[0]},
		Algorithm:    rec.Algorithm, KMSKeyID: rec.KeyID, Record: recBytes, FaultPlaintext: plaintextFault,
		Files: []dataFile{{Name: wr.file.Name, Size: wr.file.Size, Stored: wr.file.Stored, CRC64: wr.file.CRC64, CRC32C: wr.file.CRC32C}},
		ACL:   ow.acl, Tags: ow.tags,
	}
	replaced, versionID, err := s.commitObject(b.Name, key, obj, ow.cond, plan)
	if err != nil {
		s.removeFiles([]string{wr.file.Name})
		return ObjectInfo{}, err
	}
	s.removeFiles(replaced)
	info := obj.info(b.Name, key)
	info.VersionID = versionID
	return info, nil
}

// writeTarget checks an object write's options (storage class, checksum
// algorithm with def as the default, tags) and reads the bucket it goes
// to. class is the object's storage class: the request's, else the
// bucket's default.
func (s *DiskStore) writeTarget(res, bucket string, opts PutOptions, def string) (b *bucketRecord, class, alg string, err error) {
	if class, alg, err = writeOptions(res, opts, def); err != nil {
		return nil, "", "", err
	}
	if err := checkTagsAt(res, opts.Tags); err != nil {
		return nil, "", "", err
	}
	if b, err = s.bucket(bucket); err != nil {
		return nil, "", "", err
	}
	if opts.StorageClass == "" && b.StorageClass != "" {
		class = b.StorageClass // the bucket's class is the default
	}
	return b, class, alg, nil
}

// writeOptions checks the storage class and checksum algorithm of a
// write; an empty algorithm becomes def.
func writeOptions(res string, opts PutOptions, def string) (class, alg string, err error) {
	class, ok := normalizeStorageClass(opts.StorageClass)
	if !ok {
		return "", "", newErr(KindInvalidArgument, res, msgInvalidStorageClass, nil)
	}
	alg = def
	if opts.ChecksumAlgorithm != "" {
		if alg, ok = CanonicalChecksumAlgorithm(opts.ChecksumAlgorithm); !ok {
			return "", "", newErr(KindInvalidArgument, res, "The checksum algorithm "+opts.ChecksumAlgorithm+" is not supported.", nil)
		}
	}
	return class, alg, nil
}

// PutObject stores body as bucket/key, encrypted with opts.SSE or else the
// bucket's default rule. It becomes visible only once written, checked
// (length, Content-MD5, opts.Condition) and durable; the object it
// replaces stays visible until then.
func (s *DiskStore) PutObject(ctx context.Context, p Principal, bucket, key string, body io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return ObjectInfo{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	if size > MaxPutSize {
		return ObjectInfo{}, newErr(KindEntityTooLarge, res, msgEntityTooLarge, nil)
	}
	b, class, alg, err := s.writeTarget(res, bucket, opts, DefaultChecksumAlgorithm)
	if err != nil {
		return ObjectInfo{}, err
	}
	w, err := resolveSSE(res, opts.SSE, b.Rule, s.faults)
	if err != nil {
		return ObjectInfo{}, err
	}
	return s.storeObject(ctx, p, b, key, objectWrite{body: body, size: size, contentMD5: opts.ContentMD5, sse: w,
		meta: metaFromPut(opts), storageClass: class, checksumAlg: alg, cond: opts.Condition,
		acl: opts.ACL, tags: tagRecords(opts.Tags)})
}

// getObject loads an object record; it reports NoSuchBucket or NoSuchKey.
func (s *DiskStore) getObjectTx(tx *bolt.Tx, bucket, key string) (*objectRecord, error) {
	objs := s.objectsTx(tx, bucket)
	if objs == nil {
		return nil, noSuchBucket(bucket)
	}
	rec, err := objs.getRec([]byte(key))
	if err == nil && rec == nil {
		return nil, noSuchKey(bucket, key)
	}
	return rec, err
}

// HeadObject returns the current version's metadata without calling KMS.
func (s *DiskStore) HeadObject(ctx context.Context, p Principal, bucket, key string) (ObjectInfo, error) {
	return s.HeadObjectVersion(ctx, p, bucket, key, "")
}

// OpenObject opens the current version of bucket/key for reading: it
// checks read permission and, for a KMS object, the principal's decrypt
// grant on the CMK (before KMS is called) and the key's state, and
// unseals the data key.
func (s *DiskStore) OpenObject(ctx context.Context, p Principal, bucket, key string) (Object, error) {
	return s.OpenObjectVersion(ctx, p, bucket, key, "")
}

// DeleteObject deletes bucket/key (in a bucket with versioning: adds a
// delete marker); a missing key is not an error.
func (s *DiskStore) DeleteObject(ctx context.Context, p Principal, bucket, key string) error {
	_, err := s.DeleteObjectVersion(ctx, p, bucket, key, "")
	return err
}

// CopyObject writes a new object dstBucket/dstKey with the content of
// srcBucket/srcKey. The source is read with its own data key (its key
// state and the principal's decrypt grant apply); the destination is
// encrypted with opts.Put.SSE or else the destination bucket's default,
// never with the source's settings. Copying an object onto itself is how
// existing objects are re-encrypted: the source stays open while the new
// file is written, and replaces it only when complete. The destination's
// storage class is opts.Put.StorageClass, else the source's; its checksum
// is computed over the copied bytes in opts.Put.ChecksumAlgorithm, else
// the source's algorithm (a single-part copy of a composite checksum is a
// full-object one), else DefaultChecksumAlgorithm.
func (s *DiskStore) CopyObject(ctx context.Context, p Principal, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error) {
	srcRes, dstRes := objectRes(srcBucket, srcKey), objectRes(dstBucket, dstKey)
	if !s.canRead(p, srcBucket) {
		return ObjectInfo{}, denied(srcRes)
	}
	if !s.canWrite(p, dstBucket) {
		return ObjectInfo{}, denied(dstRes)
	}
	if err := checkObjectName(srcBucket, srcKey); err != nil {
		return ObjectInfo{}, err
	}
	if err := checkObjectName(dstBucket, dstKey); err != nil {
		return ObjectInfo{}, err
	}
	class, alg, err := writeOptions(dstRes, opts.Put, "")
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := checkTagsAt(dstRes, opts.Put.Tags); err != nil {
		return ObjectInfo{}, err
	}
	dst, err := s.bucket(dstBucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	w, err := resolveSSE(dstRes, opts.Put.SSE, dst.Rule, s.faults)
	if err != nil {
		return ObjectInfo{}, err
	}
	src, err := s.openObject(ctx, p, srcBucket, srcKey, opts.SourceVersionID)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer src.Close()
	meta := metaFromInfo(src.info)
	if opts.ReplaceMetadata {
		meta = metaFromPut(opts.Put)
	}
	if opts.Put.StorageClass == "" {
		class = src.info.StorageClass
	}
	// Tags follow the tagging directive; the ACL is never the source's.
	tags := src.info.Tags
	if opts.ReplaceTags {
		tags = opts.Put.Tags
	}
	if t := src.info.SymlinkTarget; t != "" {
		if opts.Put.SSE != (SSE{}) {
			return ObjectInfo{}, newErr(KindInvalidArgument, dstRes,
				"The copy source is a symbolic link, which holds no data and takes no server-side encryption settings.", nil)
		}
		return s.storeSymlink(dst, dstKey, t, meta, class, opts.Put.ACL, tagRecords(tags), opts.Put.Condition)
	}
	var carried []byte
	if alg == "" {
		switch sc := src.info.Checksum; {
		case !sc.IsSet():
			alg = DefaultChecksumAlgorithm
		case sc.Type == ChecksumComposite:
			alg = sc.Algorithm
		default:
			alg, carried = sc.Algorithm, sc.Value
		}
	}
	r, err := src.Range(ctx, 0, src.info.Size)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer r.Close()
	return s.storeObject(ctx, p, dst, dstKey, objectWrite{body: r, size: src.info.Size, sse: w, meta: meta,
		storageClass: class, checksumAlg: alg, carried: carried, cond: opts.Put.Condition,
		acl: opts.Put.ACL, tags: tagRecords(tags)})
}

// ListObjects lists a page of bucket in key order.
func (s *DiskStore) ListObjects(ctx context.Context, p Principal, bucket string, opts ListOptions) (ListResult, error) {
	res := bucketRes(bucket)
	if !s.canRead(p, bucket) {
		return ListResult{}, denied(res)
	}
	if err := checkBucketName(bucket); err != nil {
		return ListResult{}, err
	}
	limit := opts.MaxKeys
	if limit <= 0 || limit > MaxListKeys {
		limit = MaxListKeys
	}
	var out ListResult
	err := s.view(func(tx *bolt.Tx) error {
		objs := s.objectsTx(tx, bucket)
		if objs == nil {
			return noSuchBucket(bucket)
		}
		c := objs.Cursor()
		start := opts.Prefix
		if opts.After > start {
			start = opts.After
		}
		// Size the page once: a census lists every object, and growing a
		// slice of ObjectInfo to a thousand entries cost a fifth of the
		// listing's CPU. Counting keys (no values decoded) is cheap; with
		// a delimiter the count is an upper bound.
		n, prefix := 0, []byte(opts.Prefix)
		for k, _ := c.Seek([]byte(start)); k != nil && n <= limit && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		if n > 0 {
			out.Objects = make([]ObjectInfo, 0, min(n, limit))
		}
		k, v := c.Seek([]byte(start))
		count := 0
		for k != nil {
			key := string(k)
			if key <= opts.After {
				k, v = c.Next()
				continue
			}
			if !strings.HasPrefix(key, opts.Prefix) {
				break // keys are sorted: every later key is past the prefix too
			}
			if opts.Delimiter != "" {
				if i := strings.Index(key[len(opts.Prefix):], opts.Delimiter); i >= 0 {
					cp := key[:len(opts.Prefix)+i+len(opts.Delimiter)]
					if cp > opts.After {
						if count == limit {
							out.IsTruncated = true
							break
						}
						out.CommonPrefixes = append(out.CommonPrefixes, cp)
						out.NextAfter = cp
						count++
					}
					end := prefixEnd([]byte(cp))
					if end == nil {
						break
					}
					k, v = c.Seek(end)
					continue
				}
			}
			if count == limit {
				out.IsTruncated = true
				break
			}
			rec, err := objs.decode(k, v)
			if err != nil {
				return err
			}
			out.Objects = append(out.Objects, rec.info(bucket, key))
			out.NextAfter = key
			count++
			k, v = c.Next()
		}
		return nil
	})
	if err != nil {
		return ListResult{}, asError(res, err)
	}
	if !out.IsTruncated {
		out.NextAfter = ""
	}
	return out, nil
}
