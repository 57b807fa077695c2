package objstore

import (
	"context"
	"github.com/sseaudit/sseaudit/reference/faults"
	"io"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/envelope"
)

func noSuchKey(bucket, key string) error {
	return newErr(KindNoSuchKey, objectRes(bucket, key), msgNoSuchKey, nil)
}

// commitObject makes rec the visible object bucket/key in one transaction
// and returns the data files of the object it replaced, which the caller
// removes after the commit. extra runs inside the same transaction (used by
// CompleteMultipartUpload to drop the upload).
func (s *DiskStore) commitObject(bucket, key string, rec *objectRecord, extra func(tx *bolt.Tx) error) (replaced []string, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		objs := objectsTx(tx, bucket)
		if objs == nil || tx.Bucket(tblBuckets).Get([]byte(bucket)) == nil {
			return noSuchBucket(bucket)
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		replaced = nil
		if v := objs.Get([]byte(key)); v != nil {
			old, err := decode[objectRecord](v, "object")
			if err != nil {
				return err
			}
			replaced = old.fileNames()
		}
		return objs.Put([]byte(key), encode(rec))
	})
	if err != nil {
		return nil, asError(objectRes(bucket, key), err)
	}
	return replaced, nil
}

// storeObject writes a new single-part object to bucket b with the given
// effective encryption and metadata, commits it and removes what it
// replaced.
func (s *DiskStore) storeObject(ctx context.Context, p Principal, b *bucketRecord, key string, body io.Reader, size int64, contentMD5 []byte, w writeSSE, meta objMeta) (ObjectInfo, error) {
	res := objectRes(b.Name, key)
	dk, rec, recBytes, err := s.newDataKey(ctx, p, res, b.Region, w, envelope.Identity{Bucket: b.Name, Object: key})
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
	wr, err := s.writeData(ctx, res, body, size, contentMD5, dk, 0)
	if err != nil {
		return ObjectInfo{}, err
	}
	obj := &objectRecord{
		Size: wr.file.Size, ETag: wr.file.ETag, LastModified: s.now(), objMeta: meta, CRC64: wr.file.CRC64,
		Algorithm: rec.Algorithm, KMSKeyID: rec.KeyID, Record: recBytes, FaultPlaintext: plaintextFault,
		Files: []dataFile{{Name: wr.file.Name, Size: wr.file.Size, Stored: wr.file.Stored, CRC64: wr.file.CRC64}},
	}
	replaced, err := s.commitObject(b.Name, key, obj, nil)
	if err != nil {
		s.removeFiles([]string{wr.file.Name})
		return ObjectInfo{}, err
	}
	s.removeFiles(replaced)
	return obj.info(b.Name, key), nil
}

// PutObject stores body as bucket/key, encrypted with opts.SSE or else the
// bucket's default rule. It becomes visible only once written, checked
// (length, Content-MD5) and durable; the object it replaces stays visible
// until then.
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
	b, err := s.bucket(bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	w, err := resolveSSE(res, opts.SSE, b.Rule, s.faults)
	if err != nil {
		return ObjectInfo{}, err
	}
	return s.storeObject(ctx, p, b, key, body, size, opts.ContentMD5, w, metaFromPut(opts))
}

// getObject loads an object record; it reports NoSuchBucket or NoSuchKey.
func getObjectTx(tx *bolt.Tx, bucket, key string) (*objectRecord, error) {
	objs := objectsTx(tx, bucket)
	if objs == nil {
		return nil, noSuchBucket(bucket)
	}
	v := objs.Get([]byte(key))
	if v == nil {
		return nil, noSuchKey(bucket, key)
	}
	return decode[objectRecord](v, "object")
}

// HeadObject returns an object's metadata without calling KMS.
func (s *DiskStore) HeadObject(ctx context.Context, p Principal, bucket, key string) (ObjectInfo, error) {
	res := objectRes(bucket, key)
	if !s.canRead(p, bucket) {
		return ObjectInfo{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	var rec *objectRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = getObjectTx(tx, bucket, key)
		return err
	})
	if err != nil {
		return ObjectInfo{}, asError(res, err)
	}
	return rec.info(bucket, key), nil
}

// OpenObject opens bucket/key for reading: it checks read permission and,
// for a KMS object, the principal's decrypt grant on the CMK (before KMS is
// called) and the key's state, and unseals the data key.
func (s *DiskStore) OpenObject(ctx context.Context, p Principal, bucket, key string) (Object, error) {
	if !s.canRead(p, bucket) {
		return nil, denied(objectRes(bucket, key))
	}
	if err := checkObjectName(bucket, key); err != nil {
		return nil, err
	}
	o, err := s.openObject(ctx, p, bucket, key)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// DeleteObject deletes bucket/key; a missing key is not an error.
func (s *DiskStore) DeleteObject(ctx context.Context, p Principal, bucket, key string) error {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return err
	}
	var files []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		rec, err := getObjectTx(tx, bucket, key)
		if KindOf(err) == KindNoSuchKey {
			return nil
		}
		if err != nil {
			return err
		}
		files = rec.fileNames()
		return objectsTx(tx, bucket).Delete([]byte(key))
	})
	if err != nil {
		return asError(res, err)
	}
	s.removeFiles(files)
	return nil
}

// CopyObject writes a new object dstBucket/dstKey with the content of
// srcBucket/srcKey. The source is read with its own data key (its key
// state and the principal's decrypt grant apply); the destination is
// encrypted with opts.Put.SSE or else the destination bucket's default,
// never with the source's settings. Copying an object onto itself is how
// existing objects are re-encrypted: the source stays open while the new
// file is written, and replaces it only when complete.
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
	dst, err := s.bucket(dstBucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	w, err := resolveSSE(dstRes, opts.Put.SSE, dst.Rule, s.faults)
	if err != nil {
		return ObjectInfo{}, err
	}
	src, err := s.openObject(ctx, p, srcBucket, srcKey)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer src.Close()
	meta := metaFromInfo(src.info)
	if opts.ReplaceMetadata {
		meta = metaFromPut(opts.Put)
	}
	r, err := src.Range(ctx, 0, src.info.Size)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer r.Close()
	return s.storeObject(ctx, p, dst, dstKey, r, src.info.Size, nil, w, meta)
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
	err := s.db.View(func(tx *bolt.Tx) error {
		objs := objectsTx(tx, bucket)
		if objs == nil {
			return noSuchBucket(bucket)
		}
		c := objs.Cursor()
		start := opts.Prefix
		if opts.After > start {
			start = opts.After
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
			rec, err := decode[objectRecord](v, "object")
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
