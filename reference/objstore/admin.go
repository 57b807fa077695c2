package objstore

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/envelope"
)

// AtRestInfo shows how an object is stored, for the conformance suite's
// emulator scenarios (inspecting ciphertext at rest). It is an admin view:
// it is not authorized per principal and must not be exposed to clients.
type AtRestInfo struct {
	// Record is the marshalled envelope record (nil if unencrypted).
	Record []byte
	// DataFiles are the absolute paths of the object's data files, in part
	// order (one file for a single-part object).
	DataFiles []string
	Encrypted bool
}

// AtRest reports where and how bucket/key is stored. It never calls KMS
// and returns no key material beyond the (sealed) record.
func (s *DiskStore) AtRest(ctx context.Context, bucket, key string) (AtRestInfo, error) {
	res := objectRes(bucket, key)
	var rec *objectRecord
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		rec, err = s.getObjectTx(tx, bucket, key)
		return err
	})
	if err != nil {
		return AtRestInfo{}, asError(res, err)
	}
	return s.atRest(rec), nil
}

func (s *DiskStore) atRest(rec *objectRecord) AtRestInfo {
	info := AtRestInfo{Record: bytes.Clone(rec.Record), Encrypted: rec.Algorithm != ""}
	for _, f := range rec.Files {
		info.DataFiles = append(info.DataFiles, filepath.Join(s.dataDir, f.Name))
	}
	return info
}

// Rewrap re-seals bucket/key's data key under the newest master key
// version (AES256) or the CMK's primary version (KMS) via envelope.Rewrap,
// without reading or changing the data. An unencrypted object is left as
// it is. If the object is replaced meanwhile, the new object is rewrapped.
// It is an operator action: unless ctx names a principal (kms.WithPrincipal)
// its KMS call is made as root, which a KMS Authorizer allows.
func (s *DiskStore) Rewrap(ctx context.Context, bucket, key string) error {
	res := objectRes(bucket, key)
	ctx = withPrincipal(ctx, Principal{Name: "root"})
	for range 5 {
		var rec *objectRecord
		var region string
		err := s.view(func(tx *bolt.Tx) error {
			b, err := existingBucketTx(tx, bucket)
			if err != nil {
				return err
			}
			region = b.Region
			rec, err = s.getObjectTx(tx, bucket, key)
			return err
		})
		if err != nil {
			return asError(res, err)
		}
		if rec.Record == nil || rec.Algorithm == AlgorithmSSEC {
			return nil // nothing to rewrap; SSE-C keys are sealed under the customer's key
		}
		old, err := envelope.ParseRecord(rec.Record)
		if err != nil {
			return keyError(res, err)
		}
		nr, err := s.env.Rewrap(ctx, old, region, bucket, key)
		if err != nil {
			return keyError(res, err)
		}
		raw, err := nr.Marshal()
		if err != nil {
			return internal(res, err)
		}
		changed := false
		err = s.update(func(tx *bolt.Tx) error {
			cur, err := s.getObjectTx(tx, bucket, key)
			if err != nil {
				return err
			}
			if !bytes.Equal(cur.Record, rec.Record) || !slices.Equal(cur.fileNames(), rec.fileNames()) {
				changed = true
				return nil
			}
			cur.Record, cur.KMSKeyID = raw, nr.KeyID
			return s.objectsTx(tx, bucket).putRec([]byte(key), cur)
		})
		if err != nil {
			return asError(res, err)
		}
		if !changed {
			s.log.Info("data key rewrapped", "bucket", bucket, "key", key, "algorithm", nr.Algorithm, "key_version", nr.KeyVersion)
			return nil
		}
	}
	return internal(res, errors.New("object kept changing during rewrap"))
}
