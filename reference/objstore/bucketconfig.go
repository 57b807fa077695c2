package objstore

import (
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Bucket configuration documents (CORS, lifecycle, website, logging,
// referer, bucket tags and the other OSS bucket sub-resources) are kept
// as the front end validated them, one authenticated record per bucket
// and configuration name, in a table of their own:
//
//	bucketconfigs  bucket name -> (nested) config name -> 0x01 || tag || document
//	               tag = the record MAC (integrity.go) with table 'c' and
//	               the config name as table key
//
// The store does not interpret a document: the front end that owns the
// sub-resource parses and validates it before PutBucketConfig and after
// GetBucketConfig. A record that fails authentication is an integrity
// error when read. DeleteBucket removes every configuration of the bucket.
// The account-level documents (AccountConfig) live under the reserved
// nested table "\x00account/<principal>", which no bucket name can be.
var tblBucketConfigs = []byte("bucketconfigs")

const (
	configRecFormat = 0x01
	tagBucketConfig = 'c'
	// maxConfigDoc bounds one document; the front ends bound request
	// bodies below it.
	maxConfigDoc = 4 << 20
)

func (s *DiskStore) encodeConfig(bucket, name string, doc []byte) []byte {
	b := make([]byte, 1+macSize, 1+macSize+len(doc))
	b[0] = configRecFormat
	s.mac.tag(b[1:1], bucket, tagBucketConfig, []byte(name), doc)
	return append(b, doc...)
}

func (s *DiskStore) decodeConfig(bucket, name string, v []byte) ([]byte, error) {
	if len(v) < 1+macSize || v[0] != configRecFormat {
		return nil, fmt.Errorf("bucket config record of unknown format")
	}
	if !s.mac.verify(v[1:1+macSize], bucket, tagBucketConfig, []byte(name), v[1+macSize:]) {
		return nil, fmt.Errorf("bucket config record tag does not match its content and position")
	}
	return append([]byte(nil), v[1+macSize:]...), nil
}

func checkConfigName(name string, doc []byte) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("bucket config name %q is empty or too long", name)
	}
	if len(doc) > maxConfigDoc {
		return fmt.Errorf("bucket config %q is %d bytes, over the %d-byte bound", name, len(doc), maxConfigDoc)
	}
	return nil
}

// PutBucketConfig stores doc as bucket's configuration name, replacing
// any earlier one. The caller has validated doc.
func (s *DiskStore) PutBucketConfig(ctx context.Context, p Principal, bucket, name string, doc []byte) error {
	res := bucketRes(bucket)
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	if err := checkConfigName(name, doc); err != nil {
		return internal(res, err)
	}
	err := s.update(func(tx *bolt.Tx) error {
		if _, err := existingBucketTx(tx, bucket); err != nil {
			return err
		}
		return s.putConfigTx(tx, bucket, name, doc)
	})
	if err != nil {
		return asError(res, err)
	}
	s.log.Info("bucket config set", "bucket", bucket, "config", name, "principal", p.Name, "bytes", len(doc))
	return nil
}

func (s *DiskStore) putConfigTx(tx *bolt.Tx, tableKey, name string, doc []byte) error {
	t, err := tx.CreateBucketIfNotExists(tblBucketConfigs)
	if err != nil {
		return err
	}
	nt, err := t.CreateBucketIfNotExists([]byte(tableKey))
	if err != nil {
		return err
	}
	return nt.Put([]byte(name), s.encodeConfig(tableKey, name, doc))
}

// GetBucketConfig returns bucket's configuration name, nil (and no
// error) when none is set: what "none" means is the front end's.
func (s *DiskStore) GetBucketConfig(ctx context.Context, p Principal, bucket, name string) ([]byte, error) {
	if !s.canRead(p, bucket) {
		return nil, denied(bucketRes(bucket))
	}
	return s.ReadBucketConfig(ctx, bucket, name)
}

func (s *DiskStore) getConfigTx(tx *bolt.Tx, tableKey, name string) ([]byte, error) {
	t := tx.Bucket(tblBucketConfigs)
	if t == nil {
		return nil, nil
	}
	nt := t.Bucket([]byte(tableKey))
	if nt == nil {
		return nil, nil
	}
	v := nt.Get([]byte(name))
	if v == nil {
		return nil, nil
	}
	doc, err := s.decodeConfig(tableKey, name, v)
	if err != nil {
		return nil, integrityAt(tableKey, tagBucketConfig, []byte(name), "bucket config record", err.Error())
	}
	return doc, nil
}

// DeleteBucketConfig removes bucket's configuration name; none is not an
// error.
func (s *DiskStore) DeleteBucketConfig(ctx context.Context, p Principal, bucket, name string) error {
	res := bucketRes(bucket)
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		if _, err := existingBucketTx(tx, bucket); err != nil {
			return err
		}
		return deleteConfigTx(tx, bucket, name)
	})
	if err != nil {
		return asError(res, err)
	}
	s.log.Info("bucket config deleted", "bucket", bucket, "config", name, "principal", p.Name)
	return nil
}

func deleteConfigTx(tx *bolt.Tx, tableKey, name string) error {
	t := tx.Bucket(tblBucketConfigs)
	if t == nil {
		return nil
	}
	nt := t.Bucket([]byte(tableKey))
	if nt == nil {
		return nil
	}
	return nt.Delete([]byte(name))
}

// deleteBucketConfigsTx drops every configuration of bucket (DeleteBucket).
func deleteBucketConfigsTx(tx *bolt.Tx, bucket string) error {
	t := tx.Bucket(tblBucketConfigs)
	if t == nil {
		return nil
	}
	if err := t.DeleteBucket([]byte(bucket)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	return nil
}

// accountKey is the nested table of a principal's account-level
// configurations: a NUL cannot start a bucket name.
func accountKey(p Principal) string { return "\x00account/" + p.Name }

// PutAccountConfig stores doc as the principal's account-level
// configuration name (OSS's account-level public access block): each
// principal is an account here.
func (s *DiskStore) PutAccountConfig(ctx context.Context, p Principal, name string, doc []byte) error {
	if err := checkConfigName(name, doc); err != nil {
		return internal("/", err)
	}
	err := s.update(func(tx *bolt.Tx) error { return s.putConfigTx(tx, accountKey(p), name, doc) })
	if err != nil {
		return asError("/", err)
	}
	s.log.Info("account config set", "config", name, "principal", p.Name, "bytes", len(doc))
	return nil
}

// GetAccountConfig returns the principal's account-level configuration
// name, nil when none is set.
func (s *DiskStore) GetAccountConfig(ctx context.Context, p Principal, name string) ([]byte, error) {
	var doc []byte
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		doc, err = s.getConfigTx(tx, accountKey(p), name)
		return err
	})
	if err != nil {
		return nil, asError("/", err)
	}
	return doc, nil
}

// DeleteAccountConfig removes the principal's account-level
// configuration name; none is not an error.
func (s *DiskStore) DeleteAccountConfig(ctx context.Context, p Principal, name string) error {
	err := s.update(func(tx *bolt.Tx) error { return deleteConfigTx(tx, accountKey(p), name) })
	if err != nil {
		return asError("/", err)
	}
	s.log.Info("account config deleted", "config", name, "principal", p.Name)
	return nil
}

// ReadBucketConfig is GetBucketConfig without a principal, for the one
// request OSS answers anonymously from a configuration: the browser's
// CORS preflight (OPTIONS), which carries no credentials and reveals
// only whether the origin and method are allowed.
func (s *DiskStore) ReadBucketConfig(ctx context.Context, bucket, name string) ([]byte, error) {
	res := bucketRes(bucket)
	if err := checkBucketName(bucket); err != nil {
		return nil, err
	}
	var doc []byte
	err := s.view(func(tx *bolt.Tx) error {
		_, err := existingBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		doc, err = s.getConfigTx(tx, bucket, name)
		return err
	})
	if err != nil {
		return nil, asError(res, err)
	}
	return doc, nil
}

// BucketExists reports whether bucket exists, without a principal: OSS
// answers NoSuchBucket to a request for a bucket that does not exist
// before it looks at the credentials (a bucket name is public, in DNS),
// and front ends that follow it ask here when authentication failed.
func (s *DiskStore) BucketExists(ctx context.Context, bucket string) (bool, error) {
	if checkBucketName(bucket) != nil {
		return false, nil
	}
	var ok bool
	err := s.view(func(tx *bolt.Tx) error {
		b, err := getBucketTx(tx, bucket)
		ok = b != nil
		return err
	})
	if err != nil {
		return false, asError(bucketRes(bucket), err)
	}
	return ok, nil
}
