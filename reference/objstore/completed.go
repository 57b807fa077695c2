package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// S3 lets the uploads of a bucket outlive their ordinary life in two ways
// the OSS dialect does not: DeleteBucket removes a bucket whose only
// content is in-progress multipart uploads (aborting them), and a
// CompleteMultipartUpload retried after it succeeded (the response was
// lost, say) answers 200 again with the same result instead of
// NoSuchUpload. UploadsStore offers both to the S3 front end; the
// Store's own DeleteBucket and CompleteMultipartUpload keep OSS's rules.

// UploadsStore is implemented by DiskStore; the S3 front end reaches it by
// a type assertion on Store (as InventoryStore), so stores without it keep
// the stricter behaviour.
type UploadsStore interface {
	// DeleteBucketAbortingUploads deletes a bucket that holds no objects
	// and no versions, aborting its in-progress multipart uploads and
	// removing their part files (S3's rule for general purpose buckets).
	// A bucket with objects or versions is KindBucketNotEmpty.
	DeleteBucketAbortingUploads(ctx context.Context, p Principal, bucket string) error
	// CompletedMultipartUpload answers a CompleteMultipartUpload repeated
	// within CompletedUploadRetention of its success: the same key and the
	// same part list (numbers and ETags) return the first completion's
	// result (ETag, size, checksum, encryption, version id). Anything else
	// is KindNoSuchUpload, as for an unknown upload id.
	CompletedMultipartUpload(ctx context.Context, p Principal, bucket, key, uploadID string, parts []CompletePart) (ObjectInfo, error)
}

var _ UploadsStore = (*DiskStore)(nil)

// CompletedUploadRetention is how long a completed upload stays
// answerable: long enough for any client's retries (the SDKs retry within
// seconds to minutes) and for a client that lost the response in a crash
// of the server to come back, short enough that the records stay few.
// Expired records are removed by later completions in the same bucket
// and with the bucket.
const CompletedUploadRetention = 24 * time.Hour

// tblCompleted holds completed uploads, one nested table per bucket (made
// on first use, dropped with the bucket):
//
//	'u' + upload id                          -> completedRecord (JSON)
//	't' + BE64(completion, unix ns) + upload id -> empty (expiry order)
//
// Like upload and part records, these are not authenticated: a tampered
// record can only make a retried completion report a wrong result, never
// serve or remove data.
var tblCompleted = []byte("completed")

// pruneCompletedBatch bounds the expired records one completion removes,
// so that no single commit pays for a long backlog.
const pruneCompletedBatch = 64

// completedRecord is what a retried completion answers with.
type completedRecord struct {
	Key       string    `json:"key"`
	Completed time.Time `json:"completed"`
	// PartsDigest is the SHA-256 of the completed part list (number and
	// normalised ETag of each), so a retry must list exactly those parts.
	PartsDigest  []byte          `json:"parts_digest"`
	Size         int64           `json:"size"`
	ETag         string          `json:"etag"`
	LastModified time.Time       `json:"last_modified"`
	PartsCount   int             `json:"parts_count"`
	StorageClass string          `json:"storage_class,omitempty"`
	Checksum     *checksumRecord `json:"checksum,omitempty"`
	Algorithm    string          `json:"algorithm,omitempty"`
	KMSKeyID     string          `json:"kms_key_id,omitempty"`
	VersionID    string          `json:"version_id,omitempty"`
}

func completedIDKey(uploadID string) []byte { return append([]byte{'u'}, uploadID...) }

func completedTimeKey(t time.Time, uploadID string) []byte {
	k := make([]byte, 9, 9+len(uploadID))
	k[0] = 't'
	binary.BigEndian.PutUint64(k[1:], uint64(t.UnixNano()))
	return append(k, uploadID...)
}

// partsDigest hashes a completion's part list.
func partsDigest(parts []CompletePart) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(p.PartNumber)))
		h.Write([]byte{0})
		h.Write([]byte(normalizeETag(p.ETag)))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// recordCompletedTx keeps a completion's result for retries (in the
// completion's transaction, so a completion that committed is always
// answerable) and removes expired records of the bucket.
func (s *DiskStore) recordCompletedTx(tx *bolt.Tx, bucket, key, uploadID string, parts []CompletePart, obj *objectRecord, versionID string) error {
	root, err := tx.CreateBucketIfNotExists(tblCompleted)
	if err != nil {
		return err
	}
	t, err := root.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	now := s.now()
	rec := completedRecord{
		Key: key, Completed: now, PartsDigest: partsDigest(parts),
		Size: obj.Size, ETag: obj.ETag, LastModified: obj.LastModified, PartsCount: obj.PartsCount,
		StorageClass: obj.StorageClass, Checksum: obj.Checksum,
		Algorithm: obj.Algorithm, KMSKeyID: obj.KMSKeyID, VersionID: versionID,
	}
	if err := t.Put(completedIDKey(uploadID), encode(rec)); err != nil {
		return err
	}
	if err := t.Put(completedTimeKey(now, uploadID), nil); err != nil {
		return err
	}
	// Expired records, oldest first.
	cutoff := uint64(now.Add(-CompletedUploadRetention).UnixNano())
	var expired [][]byte
	c := t.Cursor()
	for k, _ := c.Seek([]byte{'t'}); k != nil && k[0] == 't' && len(expired) < pruneCompletedBatch; k, _ = c.Next() {
		if len(k) < 9 || binary.BigEndian.Uint64(k[1:9]) >= cutoff {
			break
		}
		expired = append(expired, k)
	}
	for _, k := range expired {
		id := string(k[9:])
		if err := t.Delete(k); err != nil {
			return err
		}
		if err := t.Delete(completedIDKey(id)); err != nil {
			return err
		}
	}
	return nil
}

// CompletedMultipartUpload implements UploadsStore.
func (s *DiskStore) CompletedMultipartUpload(ctx context.Context, p Principal, bucket, key, uploadID string, parts []CompletePart) (ObjectInfo, error) {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return ObjectInfo{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	var rec *completedRecord
	err := s.view(func(tx *bolt.Tx) error {
		_, err := existingBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		if root := tx.Bucket(tblCompleted); root != nil {
			if t := root.Bucket([]byte(bucket)); t != nil {
				if v := t.Get(completedIDKey(uploadID)); v != nil {
					if rec, err = decode[completedRecord](v, "completed upload"); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return ObjectInfo{}, asError(res, err)
	}
	if rec == nil || rec.Key != key || s.now().Sub(rec.Completed) > CompletedUploadRetention ||
		string(rec.PartsDigest) != string(partsDigest(parts)) {
		return ObjectInfo{}, noSuchUpload(bucket, key)
	}
	return ObjectInfo{
		Bucket: bucket, Key: key, Size: rec.Size, ETag: rec.ETag, LastModified: rec.LastModified,
		StorageClass: storedClass(rec.StorageClass), Multipart: true, PartsCount: rec.PartsCount,
		Checksum: rec.Checksum.checksum(), SSE: SSE{Algorithm: rec.Algorithm, KMSKeyID: rec.KMSKeyID},
		VersionID: rec.VersionID,
	}, nil
}

// DeleteBucketAbortingUploads implements UploadsStore.
func (s *DiskStore) DeleteBucketAbortingUploads(ctx context.Context, p Principal, bucket string) error {
	return s.deleteBucket(p, bucket, true)
}

// abortBucketUploadsTx drops every upload of bucket with its parts and
// returns the part files to remove once the transaction committed.
func abortBucketUploadsTx(tx *bolt.Tx, bucket string) ([]string, error) {
	ups := uploadsTx(tx, bucket)
	if ups == nil {
		return nil, nil
	}
	var ids []string
	err := ups.ForEach(func(k, _ []byte) error {
		_, id, ok := parseUploadKey(k)
		if !ok {
			return errors.New("objstore: corrupt upload key in bucket " + strconv.Quote(bucket))
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var remove []string
	for _, id := range ids {
		pt := partsTx(tx, id)
		if pt == nil {
			continue
		}
		err := pt.ForEach(func(_, v []byte) error {
			pr, err := decode[partRecord](v, "part")
			if err != nil {
				return err
			}
			remove = append(remove, pr.Name)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if err := tx.Bucket(tblParts).DeleteBucket([]byte(id)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return nil, err
		}
	}
	return remove, nil
}

// dropCompletedTx removes a deleted bucket's completed uploads.
func dropCompletedTx(tx *bolt.Tx, bucket string) error {
	root := tx.Bucket(tblCompleted)
	if root == nil {
		return nil
	}
	if err := root.DeleteBucket([]byte(bucket)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	return nil
}
