package objstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Bucket policies are stored in their own table, one authenticated record
// per bucket (unlike bucket records, which are not authenticated: a
// policy is a guardrail, and an edited guardrail must not pass):
//
//	policies  bucket name -> 0x01 || tag || uvarint len(dialect) || dialect || document
//	          tag = the record MAC (integrity.go) with table 'p' and the
//	          bucket name as table key
//
// Open loads and parses every policy into memory (Denies is evaluated on
// every request to a bucket, and must cost no database read). A record
// that fails authentication or no longer parses is loaded as a broken
// policy that denies everything but the owner's policy operations, and
// logged: the guardrail fails closed. A deleted record is not detected
// (as deleted object records are not). DeleteBucket removes the policy.
var tblPolicies = []byte("policies")

const (
	policyRecFormat = 0x01
	tagPolicies     = 'p'
)

type policyEntry struct {
	pol   *BucketPolicy
	owner string
}

func (s *DiskStore) encodePolicy(bucket string, p *BucketPolicy) []byte {
	w := recWriter{b: make([]byte, 1+macSize, 1+macSize+16+len(p.Document))}
	w.b[0] = policyRecFormat
	w.str(string(p.Dialect))
	w.bytes(p.Document)
	s.mac.tag(w.b[1:1], bucket, tagPolicies, []byte(bucket), w.b[1+macSize:])
	return w.b
}

func (s *DiskStore) decodePolicy(bucket string, v []byte) (*BucketPolicy, error) {
	if len(v) < 1+macSize || v[0] != policyRecFormat {
		return nil, fmt.Errorf("policy record of unknown format")
	}
	if !s.mac.verify(v[1:1+macSize], bucket, tagPolicies, []byte(bucket), v[1+macSize:]) {
		return nil, fmt.Errorf("policy record tag does not match its content and position")
	}
	r := recReader{b: v[1+macSize:]}
	d := PolicyDialect(r.str())
	doc := r.bytes()
	if err := r.end(); err != nil {
		return nil, fmt.Errorf("corrupt policy record: %w", err)
	}
	return ParseBucketPolicy(d, bucket, doc)
}

// loadPolicies fills the in-memory policy cache at Open.
func (s *DiskStore) loadPolicies() error {
	pols := map[string]*policyEntry{}
	err := s.view(func(tx *bolt.Tx) error {
		t := tx.Bucket(tblPolicies)
		if t == nil {
			return nil
		}
		return t.ForEach(func(k, v []byte) error {
			bucket := string(k)
			b, err := getBucketTx(tx, bucket)
			if err != nil {
				return err
			}
			owner := ""
			if b != nil {
				owner = b.Owner
			}
			p, perr := s.decodePolicy(bucket, v)
			if perr != nil {
				s.log.Error("integrity: bucket policy unreadable; the bucket denies every request but its owner's policy operations until the policy is replaced or deleted",
					"bucket", bucket, "err", perr)
				p = &BucketPolicy{broken: true}
			}
			pols[bucket] = &policyEntry{pol: p, owner: owner}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("objstore: loading bucket policies: %w", err)
	}
	s.policyMu.Lock()
	s.policies = pols
	s.policyMu.Unlock()
	return nil
}

// PolicyDenies reports whether the policy of req.Bucket (if any) denies
// req. It reads memory only.
func (s *DiskStore) PolicyDenies(req PolicyRequest) bool {
	s.policyMu.RLock()
	e := s.policies[req.Bucket]
	s.policyMu.RUnlock()
	if e == nil {
		return false
	}
	return e.pol.Denies(req, e.owner)
}

// PutBucketPolicy sets bucket's policy (ParseBucketPolicy made it).
func (s *DiskStore) PutBucketPolicy(ctx context.Context, p Principal, bucket string, pol *BucketPolicy) error {
	res := bucketRes(bucket)
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	if pol == nil || pol.broken {
		return internal(res, fmt.Errorf("PutBucketPolicy without a parsed policy"))
	}
	// policyWMu orders policy writers, so the cache ends as the last
	// commit left the table.
	s.policyWMu.Lock()
	defer s.policyWMu.Unlock()
	var owner string
	err := s.update(func(tx *bolt.Tx) error {
		b, err := existingBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		owner = b.Owner
		t, err := tx.CreateBucketIfNotExists(tblPolicies)
		if err != nil {
			return err
		}
		return t.Put([]byte(bucket), s.encodePolicy(bucket, pol))
	})
	if err != nil {
		return asError(res, err)
	}
	s.policyMu.Lock()
	s.policies[bucket] = &policyEntry{pol: pol, owner: owner}
	s.policyMu.Unlock()
	s.log.Info("bucket policy set", "bucket", bucket, "principal", p.Name, "dialect", pol.Dialect, "statements", len(pol.stmts))
	return nil
}

// GetBucketPolicy returns bucket's policy, KindNoSuchBucketPolicy when it
// has none.
func (s *DiskStore) GetBucketPolicy(ctx context.Context, p Principal, bucket string) (*BucketPolicy, error) {
	res := bucketRes(bucket)
	if !s.canRead(p, bucket) {
		return nil, denied(res)
	}
	if err := checkBucketName(bucket); err != nil {
		return nil, err
	}
	if _, err := s.bucket(bucket); err != nil {
		return nil, err
	}
	var doc []byte
	var dialect PolicyDialect
	err := s.view(func(tx *bolt.Tx) error {
		t := tx.Bucket(tblPolicies)
		if t == nil {
			return nil
		}
		v := t.Get([]byte(bucket))
		if v == nil {
			return nil
		}
		pol, err := s.decodePolicy(bucket, v)
		if err != nil {
			return integrityAt(bucket, tagPolicies, []byte(bucket), "policy record", err.Error())
		}
		doc, dialect = pol.Document, pol.Dialect
		return nil
	})
	if err != nil {
		return nil, asError(res, err)
	}
	if doc == nil {
		return nil, newErr(KindNoSuchBucketPolicy, res, msgNoSuchBucketPolicy, nil)
	}
	return &BucketPolicy{Dialect: dialect, Document: doc}, nil
}

// DeleteBucketPolicy removes bucket's policy; none is not an error (both
// services answer 204).
func (s *DiskStore) DeleteBucketPolicy(ctx context.Context, p Principal, bucket string) error {
	res := bucketRes(bucket)
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	s.policyWMu.Lock()
	defer s.policyWMu.Unlock()
	err := s.update(func(tx *bolt.Tx) error {
		if _, err := existingBucketTx(tx, bucket); err != nil {
			return err
		}
		return deletePolicyTx(tx, bucket)
	})
	if err != nil {
		return asError(res, err)
	}
	s.policyMu.Lock()
	delete(s.policies, bucket)
	s.policyMu.Unlock()
	s.log.Info("bucket policy deleted", "bucket", bucket, "principal", p.Name)
	return nil
}

func deletePolicyTx(tx *bolt.Tx, bucket string) error {
	if t := tx.Bucket(tblPolicies); t != nil {
		return t.Delete([]byte(bucket))
	}
	return nil
}
