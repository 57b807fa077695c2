package objstore

import (
	"context"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket inventory configurations (OSS PutBucketInventory, S3
// PutBucketInventoryConfiguration). The store keeps them per bucket in the
// dialect-neutral form below; the front ends parse and render each
// dialect's XML, and package reference/inventory writes the reports.
//
//	inventory  one nested table per bucket: config id -> inventoryRecord
//
// The table is created by the first configuration put, so databases
// without it open unchanged. A record remembers the creation time of the
// bucket it was put on: a bucket deleted and created again does not
// inherit the old bucket's configurations (DeleteBucket leaves them).

var tblInventory = []byte("inventory")

// MaxInventoryConfigs is how many inventory configurations a bucket may
// hold (OSS allows 1,000 through the API; S3 1,000).
const MaxInventoryConfigs = 1000

// Inventory dialects: which front end's layout a report is written in.
const (
	InventoryDialectOSS = "oss"
	InventoryDialectS3  = "s3"
)

// InventoryConfig is one bucket inventory configuration.
type InventoryConfig struct {
	ID      string
	Enabled bool
	// Dialect is the front end that put it (InventoryDialectOSS or
	// InventoryDialectS3); the report is written in that dialect's layout.
	Dialect string
	// Prefix filters the objects listed ("" = all).
	Prefix string
	// The other filters OSS documents (the S3 dialect has only Prefix);
	// nil or "" is no bound. An object is listed when it matches every
	// bound given: LastModified, to the second, within
	// [LastModifyBegin, LastModifyEnd] (Unix seconds); Size within
	// [LowerSize, UpperSize] (bytes); StorageClass one of the
	// comma-separated StorageClasses ("All" matches every class). The
	// front end validates them; the store keeps them as given so that
	// they are returned as put.
	LastModifyBegin, LastModifyEnd *int64
	LowerSize, UpperSize           *int64
	StorageClasses                 string
	// DestBucket is the destination bucket's name (the front ends map
	// acs:oss:::NAME and arn:aws:s3:::NAME); DestPrefix the key prefix of
	// the report. DestAccountID and DestRoleArn are kept as given.
	DestBucket, DestPrefix     string
	DestAccountID, DestRoleArn string
	// Format is CSV (both dialects), ORC or Parquet (S3).
	Format string
	// Frequency is Daily or Weekly (OSS also Monthly).
	Frequency string
	// IncludedVersions is All or Current.
	IncludedVersions string
	// OptionalFields are the extra columns, in the order given.
	OptionalFields []string
	// Encryption of the report files: "" (the destination's default),
	// "SSE-OSS"/"SSE-S3" or "SSE-KMS" with EncryptionKeyID.
	Encryption, EncryptionKeyID string
}

// Filtered reports whether the configuration lists only some objects.
func (c InventoryConfig) Filtered() bool {
	return c.Prefix != "" || c.LastModifyBegin != nil || c.LastModifyEnd != nil || c.LowerSize != nil ||
		c.UpperSize != nil || c.StorageClasses != ""
}

// Matches reports whether the report lists o: o's key has the prefix and
// o is within every bound (a delete marker, which has no size or class,
// is judged by its key and time only).
func (c InventoryConfig) Matches(o ObjectInfo) bool {
	if !strings.HasPrefix(o.Key, c.Prefix) {
		return false
	}
	sec := o.LastModified.Unix()
	if (c.LastModifyBegin != nil && sec < *c.LastModifyBegin) || (c.LastModifyEnd != nil && sec > *c.LastModifyEnd) {
		return false
	}
	if o.DeleteMarker {
		return true
	}
	if (c.LowerSize != nil && o.Size < *c.LowerSize) || (c.UpperSize != nil && o.Size > *c.UpperSize) {
		return false
	}
	if c.StorageClasses == "" {
		return true
	}
	for _, sc := range strings.Split(c.StorageClasses, ",") {
		if sc == "All" || strings.EqualFold(sc, o.StorageClass) {
			return true
		}
	}
	return false
}

type inventoryRecord struct {
	Config        InventoryConfig `json:"config"`
	BucketCreated time.Time       `json:"bucket_created"`
}

// InventoryStore is implemented by DiskStore; the front ends reach it by a
// type assertion on Store so that stores without inventory keep working
// (they answer NotImplemented).
type InventoryStore interface {
	PutBucketInventory(ctx context.Context, p Principal, bucket string, cfg InventoryConfig) error
	// GetBucketInventory returns KindNoSuchInventory when id is not set.
	GetBucketInventory(ctx context.Context, p Principal, bucket, id string) (InventoryConfig, error)
	// ListBucketInventory lists the bucket's configurations in id order.
	ListBucketInventory(ctx context.Context, p Principal, bucket string) ([]InventoryConfig, error)
	// DeleteBucketInventory returns KindNoSuchInventory when id is not set.
	DeleteBucketInventory(ctx context.Context, p Principal, bucket, id string) error
}

var _ InventoryStore = (*DiskStore)(nil)

const msgNoSuchInventory = "The specified inventory configuration does not exist."

func noSuchInventory(bucket string) error {
	return newErr(KindNoSuchInventory, bucketRes(bucket), msgNoSuchInventory, nil)
}

// PutBucketInventory adds or replaces the configuration cfg.ID of bucket.
// Writing it needs the same grant as the bucket's encryption rule. The
// front end validates the values; the store checks only what it needs.
func (s *DiskStore) PutBucketInventory(ctx context.Context, p Principal, bucket string, cfg InventoryConfig) error {
	res := bucketRes(bucket)
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	if cfg.ID == "" || cfg.DestBucket == "" {
		return newErr(KindInvalidArgument, res, "The inventory configuration needs an id and a destination bucket.", nil)
	}
	cfg.OptionalFields = slices.Clone(cfg.OptionalFields)
	err := s.update(func(tx *bolt.Tx) error {
		b, err := existingBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		root, err := tx.CreateBucketIfNotExists(tblInventory)
		if err != nil {
			return err
		}
		t, err := root.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		// Records of an earlier bucket of the same name go first.
		n := 0
		var stale [][]byte
		if err := t.ForEach(func(k, v []byte) error {
			r, err := decode[inventoryRecord](v, "inventory")
			if err != nil {
				return err
			}
			if !r.BucketCreated.Equal(b.Created) {
				stale = append(stale, slices.Clone(k))
			} else if string(k) != cfg.ID {
				n++
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range stale {
			if err := t.Delete(k); err != nil {
				return err
			}
		}
		if n >= MaxInventoryConfigs {
			return newErr(KindInvalidArgument, res, "The bucket already has the maximum number of inventory configurations.", nil)
		}
		return t.Put([]byte(cfg.ID), encode(inventoryRecord{Config: cfg, BucketCreated: b.Created}))
	})
	if err != nil {
		return asError(res, err)
	}
	s.log.Info("bucket inventory set", "bucket", bucket, "principal", p.Name, "id", cfg.ID, "destination", cfg.DestBucket)
	return nil
}

// inventoryConfigs reads bucket's current configurations (those of an
// earlier bucket of the same name are skipped).
func (s *DiskStore) inventoryConfigs(bucket string) ([]InventoryConfig, error) {
	var out []InventoryConfig
	err := s.view(func(tx *bolt.Tx) error {
		b, err := existingBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		root := tx.Bucket(tblInventory)
		if root == nil {
			return nil
		}
		t := root.Bucket([]byte(bucket))
		if t == nil {
			return nil
		}
		return t.ForEach(func(_, v []byte) error {
			r, err := decode[inventoryRecord](v, "inventory")
			if err != nil {
				return err
			}
			if r.BucketCreated.Equal(b.Created) {
				out = append(out, r.Config)
			}
			return nil
		})
	})
	if err != nil {
		return nil, asError(bucketRes(bucket), err)
	}
	return out, nil
}

// GetBucketInventory reads one configuration.
func (s *DiskStore) GetBucketInventory(ctx context.Context, p Principal, bucket, id string) (InventoryConfig, error) {
	if !s.canRead(p, bucket) {
		return InventoryConfig{}, denied(bucketRes(bucket))
	}
	if err := checkBucketName(bucket); err != nil {
		return InventoryConfig{}, err
	}
	all, err := s.inventoryConfigs(bucket)
	if err != nil {
		return InventoryConfig{}, err
	}
	for _, c := range all {
		if c.ID == id {
			return c, nil
		}
	}
	return InventoryConfig{}, noSuchInventory(bucket)
}

// ListBucketInventory lists every configuration of bucket, in id order.
func (s *DiskStore) ListBucketInventory(ctx context.Context, p Principal, bucket string) ([]InventoryConfig, error) {
	if !s.canRead(p, bucket) {
		return nil, denied(bucketRes(bucket))
	}
	if err := checkBucketName(bucket); err != nil {
		return nil, err
	}
	return s.inventoryConfigs(bucket)
}

// DeleteBucketInventory removes one configuration.
func (s *DiskStore) DeleteBucketInventory(ctx context.Context, p Principal, bucket, id string) error {
	res := bucketRes(bucket)
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	if _, err := s.GetBucketInventory(ctx, p, bucket, id); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		root := tx.Bucket(tblInventory)
		if root == nil {
			return nil
		}
		t := root.Bucket([]byte(bucket))
		if t == nil {
			return nil
		}
		return t.Delete([]byte(id))
	})
	if err != nil {
		return asError(res, err)
	}
	s.log.Info("bucket inventory deleted", "bucket", bucket, "principal", p.Name, "id", id)
	return nil
}
