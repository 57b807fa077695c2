package objstore

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/sseaudit/sseaudit/reference/faults"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ValidBucketName reports whether name is a valid bucket name: 3 to 63
// characters of lowercase letters, digits and hyphens, starting and ending
// with a letter or digit (the OSS rule; S3 accepts this subset).
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(name)-1:
		default:
			return false
		}
	}
	return true
}

// ValidObjectKey reports whether key is a valid object key: 1 to 1023
// bytes of UTF-8.
func ValidObjectKey(key string) bool {
	return len(key) >= 1 && len(key) <= MaxKeyLen && utf8.ValidString(key)
}

func checkBucketName(name string) error {
	if !ValidBucketName(name) {
		return newErr(KindInvalidBucketName, bucketRes(name), msgInvalidBucketName, nil)
	}
	return nil
}

func checkObjectName(bucket, key string) error {
	if err := checkBucketName(bucket); err != nil {
		return err
	}
	if !ValidObjectKey(key) {
		return newErr(KindInvalidObjectName, objectRes(bucket, key), msgInvalidObjectName, nil)
	}
	return nil
}

// writableBucket is the check every bucket-level write starts with: the
// principal may write bucket (asked first, so a denied caller learns
// nothing about the name), and the name is valid.
func (s *DiskStore) writableBucket(p Principal, bucket string) error {
	if !s.canWrite(p, bucket) {
		return denied(bucketRes(bucket))
	}
	return checkBucketName(bucket)
}

func noSuchBucket(bucket string) error {
	return newErr(KindNoSuchBucket, bucketRes(bucket), msgNoSuchBucket, nil)
}

// bucket loads a bucket record in its own read transaction.
func (s *DiskStore) bucket(name string) (*bucketRecord, error) {
	var b *bucketRecord
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		b, err = getBucketTx(tx, name)
		return err
	})
	if err != nil {
		return nil, internal(bucketRes(name), err)
	}
	if b == nil {
		return nil, noSuchBucket(name)
	}
	return b, nil
}

// CreateBucket creates a bucket owned by p in the store's region with rule
// as its default encryption (Config.DefaultSSE when rule is nil).
func (s *DiskStore) CreateBucket(ctx context.Context, p Principal, name string, rule *EncryptionRule) (BucketInfo, error) {
	return s.CreateBucketWithOptions(ctx, p, name, CreateBucketOptions{Rule: rule})
}

// CreateBucketWithOptions creates a bucket owned by p in the store's
// region with opts' default encryption and storage class.
func (s *DiskStore) CreateBucketWithOptions(ctx context.Context, p Principal, name string, opts CreateBucketOptions) (BucketInfo, error) {
	rule := opts.Rule
	res := bucketRes(name)
	if err := s.writableBucket(p, name); err != nil {
		return BucketInfo{}, err
	}
	if err := validateRule(res, rule, s.faults); err != nil {
		return BucketInfo{}, err
	}
	class, ok := normalizeStorageClass(opts.StorageClass)
	if !ok {
		return BucketInfo{}, newErr(KindInvalidArgument, res, msgInvalidStorageClass, nil)
	}
	if class == StorageClassStandard {
		class = ""
	}
	if rule == nil {
		rule = s.defaultSSE
	}
	rec := &bucketRecord{Name: name, Region: s.region, Created: s.now(), Owner: p.Name, Rule: ruleToRecord(rule), StorageClass: class,
		ACL: storedBucketACL(opts.ACL)}
	err := s.update(func(tx *bolt.Tx) error {
		old, err := getBucketTx(tx, name)
		if err != nil {
			return err
		}
		if old != nil {
			if old.Owner == p.Name {
				return newErr(KindBucketAlreadyOwnedByYou, res, msgBucketAlreadyOwnedByYou, nil)
			}
			return newErr(KindBucketAlreadyExists, res, msgBucketAlreadyExists, nil)
		}
		if _, err := tx.Bucket(tblObjects).CreateBucketIfNotExists([]byte(name)); err != nil {
			return err
		}
		if _, err := tx.Bucket(tblUploads).CreateBucketIfNotExists([]byte(name)); err != nil {
			return err
		}
		return putBucketRec(tx, rec)
	})
	if err != nil {
		return BucketInfo{}, asError(res, err)
	}
	s.log.Info("bucket created", "bucket", name, "owner", p.Name, "sse", ruleAlgorithm(rec.Rule))
	return rec.info(), nil
}

func ruleAlgorithm(r *ruleRecord) string {
	if r == nil {
		return ""
	}
	return string(r.Algorithm)
}

// DeleteBucket deletes an empty bucket (no objects, no uploads in progress).
func (s *DiskStore) DeleteBucket(ctx context.Context, p Principal, name string) error {
	return s.deleteBucket(p, name, false)
}

// deleteBucket deletes a bucket without objects or versions; its uploads
// in progress make it KindBucketNotEmpty unless abortUploads, which aborts
// them and removes their part files (UploadsStore).
func (s *DiskStore) deleteBucket(p Principal, name string, abortUploads bool) error {
	res := bucketRes(name)
	if err := s.writableBucket(p, name); err != nil {
		return err
	}
	var remove []string
	err := s.update(func(tx *bolt.Tx) error {
		_, err := existingBucketTx(tx, name)
		if err != nil {
			return err
		}
		for _, tbl := range [][]byte{tblObjects, tblUploads, tblVersions} {
			if abortUploads && string(tbl) == string(tblUploads) {
				continue
			}
			t := tx.Bucket(tbl).Bucket([]byte(name))
			if t == nil {
				continue
			}
			if k, _ := t.Cursor().First(); k != nil {
				return newErr(KindBucketNotEmpty, res, msgBucketNotEmpty, nil)
			}
		}
		remove = nil
		if abortUploads {
			if remove, err = abortBucketUploadsTx(tx, name); err != nil {
				return err
			}
		}
		for _, tbl := range [][]byte{tblObjects, tblUploads, tblVersions} {
			if err := tx.Bucket(tbl).DeleteBucket([]byte(name)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
				return err
			}
		}
		if err := dropCompletedTx(tx, name); err != nil {
			return err
		}
		if err := deletePolicyTx(tx, name); err != nil {
			return err
		}
		if err := deleteBucketConfigsTx(tx, name); err != nil {
			return err
		}
		return tx.Bucket(tblBuckets).Delete([]byte(name))
	})
	if err != nil {
		return asError(res, err)
	}
	s.policyMu.Lock()
	delete(s.policies, name) // the bucket's policy went with it, as on both services
	s.policyMu.Unlock()
	s.removeFiles(remove)
	s.log.Info("bucket deleted", "bucket", name, "principal", p.Name, "uploads_aborted_files", len(remove))
	return nil
}

// GetBucket describes a bucket.
func (s *DiskStore) GetBucket(ctx context.Context, p Principal, name string) (BucketInfo, error) {
	if !s.canRead(p, name) {
		return BucketInfo{}, denied(bucketRes(name))
	}
	if err := checkBucketName(name); err != nil {
		return BucketInfo{}, err
	}
	b, err := s.bucket(name)
	if err != nil {
		return BucketInfo{}, err
	}
	return b.info(), nil
}

// ListBuckets lists the buckets p may read, in name order.
func (s *DiskStore) ListBuckets(ctx context.Context, p Principal) ([]BucketInfo, error) {
	var out []BucketInfo
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(tblBuckets).ForEach(func(k, v []byte) error {
			if !s.canRead(p, string(k)) {
				return nil
			}
			b, err := decodeBucket(v)
			if err != nil {
				return err
			}
			out = append(out, b.info())
			return nil
		})
	})
	if err != nil {
		return nil, internal("/", err)
	}
	return out, nil
}

// setRule replaces a bucket's rule; it never touches objects.
func (s *DiskStore) setRule(name string, rule *EncryptionRule) error {
	res := bucketRes(name)
	err := s.update(func(tx *bolt.Tx) error {
		b, err := existingBucketTx(tx, name)
		if err != nil {
			return err
		}
		b.Rule = ruleToRecord(rule)
		return putBucketRec(tx, b)
	})
	return asError(res, err)
}

// PutBucketEncryption sets the bucket's default encryption. Existing
// objects keep the encryption they were written with. A KMS key is not
// checked here (neither OSS nor S3 does); the first write using it is.
func (s *DiskStore) PutBucketEncryption(ctx context.Context, p Principal, bucket string, rule EncryptionRule) error {
	res := bucketRes(bucket)
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	if err := validateRule(res, &rule, s.faults); err != nil {
		return err
	}
	if err := s.setRule(bucket, &rule); err != nil {
		return err
	}
	s.log.Info("bucket encryption set", "bucket", bucket, "principal", p.Name, "sse", rule.Algorithm, "kms_key", rule.KMSMasterKeyID)
	if s.faults.Has(faults.ApplyDefaultToExisting) {
		return s.faultReencryptAll(ctx, p, bucket)
	}
	return nil
}

// faultReencryptAll is the ApplyDefaultToExisting fault: it rewrites every
// existing object under the bucket's new default, which is exactly what the
// seed document says a default must never do.
func (s *DiskStore) faultReencryptAll(ctx context.Context, p Principal, bucket string) error {
	after := ""
	for {
		page, err := s.ListObjects(ctx, p, bucket, ListOptions{After: after})
		if err != nil {
			return err
		}
		for _, o := range page.Objects {
			if o.SSE.Algorithm == AlgorithmSSEC {
				continue // the fault cannot read what only the customer's key opens
			}
			if _, err := s.CopyObject(ctx, p, bucket, o.Key, bucket, o.Key, CopyOptions{}); err != nil {
				return err
			}
			// Silently, as a background re-encryption would: the object
			// keeps its LastModified, so only its encryption changed.
			if err := s.faultRestoreLastModified(bucket, o.Key, o.LastModified); err != nil {
				return err
			}
		}
		if !page.IsTruncated {
			return nil
		}
		after = page.NextAfter
	}
}

// GetBucketEncryption returns the bucket's default encryption, or
// KindNoSuchEncryptionRule when none is set.
func (s *DiskStore) GetBucketEncryption(ctx context.Context, p Principal, bucket string) (EncryptionRule, error) {
	res := bucketRes(bucket)
	if !s.canRead(p, bucket) {
		return EncryptionRule{}, denied(res)
	}
	if err := checkBucketName(bucket); err != nil {
		return EncryptionRule{}, err
	}
	b, err := s.bucket(bucket)
	if err != nil {
		return EncryptionRule{}, err
	}
	if b.Rule == nil {
		return EncryptionRule{}, newErr(KindNoSuchEncryptionRule, res, msgNoSuchEncryptionRule, nil)
	}
	return *b.Rule.rule(), nil
}

// DeleteBucketEncryption removes the bucket's default encryption, or resets
// it to Config.DefaultSSE when that is set. Existing objects are untouched.
func (s *DiskStore) DeleteBucketEncryption(ctx context.Context, p Principal, bucket string) error {
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	if err := s.setRule(bucket, s.defaultSSE); err != nil {
		return err
	}
	s.log.Info("bucket encryption deleted", "bucket", bucket, "principal", p.Name)
	return nil
}

func (s *DiskStore) faultRestoreLastModified(bucket, key string, t time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
		objs := s.objectsTx(tx, bucket)
		if objs == nil {
			return noSuchBucket(bucket)
		}
		rec, err := objs.getRec([]byte(key))
		if err != nil {
			return err
		}
		if rec == nil {
			return noSuchKey(bucket, key)
		}
		rec.LastModified = t
		return objs.putRec([]byte(key), rec)
	})
}
