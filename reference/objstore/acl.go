package objstore

import (
	"context"
	"fmt"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Canned ACLs. The store keeps an ACL as the canned value's name and
// does not interpret it: which names a dialect accepts, and what a name
// grants, is the front end's business. Requests are never authorized by
// ACLs here (only by the Authorizer); the ACL is kept and reported
// truthfully so that an audit sees what the services would enforce.
const (
	ACLPrivate         = "private"
	ACLPublicRead      = "public-read"
	ACLPublicReadWrite = "public-read-write"
	// ACLDefault is an object's ACL when none was set: OSS reports it as
	// "default" (the bucket's ACL applies), S3 as private.
	ACLDefault = ""
)

// Tag is one object tag.
type Tag struct{ Key, Value string }

// Tag limits, the same on OSS and S3.
const (
	MaxTags        = 10
	MaxTagKeyLen   = 128 // characters
	MaxTagValueLen = 256 // characters
)

// CheckTags checks the limits both services share: at most MaxTags tags,
// unique non-empty UTF-8 keys of at most MaxTagKeyLen characters, UTF-8
// values of at most MaxTagValueLen. Which characters are allowed differs
// by dialect; the front ends check that. A failure is KindInvalidTag with
// S3's message.
func CheckTags(tags []Tag) error {
	fail := func(msg string) error { return newErr(KindInvalidTag, "", msg, nil) }
	if len(tags) > MaxTags {
		return fail(fmt.Sprintf("Object tags cannot be greater than %d", MaxTags))
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		switch {
		case t.Key == "" || !utf8.ValidString(t.Key):
			return fail("The TagKey you have provided is invalid")
		case !utf8.ValidString(t.Value):
			return fail("The TagValue you have provided is invalid")
		case utf8.RuneCountInString(t.Key) > MaxTagKeyLen:
			return fail(fmt.Sprintf("The TagKey you have provided is too long, max %d", MaxTagKeyLen))
		case utf8.RuneCountInString(t.Value) > MaxTagValueLen:
			return fail(fmt.Sprintf("The TagValue you have provided is too long, max %d", MaxTagValueLen))
		case seen[t.Key]:
			return fail("Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

// checkTagsAt is CheckTags naming the resource.
func checkTagsAt(res string, tags []Tag) error {
	if err := CheckTags(tags); err != nil {
		e := err.(*Error)
		e.Resource = res
		return e
	}
	return nil
}

// bucketACL is the ACL a bucket record's field stands for.
func bucketACL(stored string) string {
	if stored == "" {
		return ACLPrivate
	}
	return stored
}

// storedBucketACL is what a bucket record keeps for acl: "" for private,
// so that private buckets' records stay as older builds wrote them.
func storedBucketACL(acl string) string {
	if acl == ACLPrivate {
		return ""
	}
	return acl
}

func tagsOf(rs []tagRecord) []Tag {
	if len(rs) == 0 {
		return nil
	}
	out := make([]Tag, len(rs))
	for i, r := range rs {
		out[i] = Tag(r)
	}
	return out
}

func tagRecords(ts []Tag) []tagRecord {
	if len(ts) == 0 {
		return nil
	}
	out := make([]tagRecord, len(ts))
	for i, t := range ts {
		out[i] = tagRecord(t)
	}
	return out
}

// PutBucketACL sets bucket's canned ACL.
func (s *DiskStore) PutBucketACL(ctx context.Context, p Principal, bucket, acl string) error {
	res := bucketRes(bucket)
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		b, err := existingBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		b.ACL = storedBucketACL(acl)
		return putBucketRec(tx, b)
	})
	if err != nil {
		return asError(res, err)
	}
	s.log.Info("bucket acl set", "bucket", bucket, "acl", bucketACL(storedBucketACL(acl)), "principal", p.Name)
	return nil
}

// PutObjectACL sets the canned ACL of a version of bucket/key.
func (s *DiskStore) PutObjectACL(ctx context.Context, p Principal, bucket, key, versionID, acl string) (ObjectInfo, error) {
	return s.updateObject(p, bucket, key, versionID, func(r *objectRecord) error {
		r.ACL = acl
		return nil
	})
}

// PutObjectTagging replaces the tags of a version of bucket/key.
func (s *DiskStore) PutObjectTagging(ctx context.Context, p Principal, bucket, key, versionID string, tags []Tag) (ObjectInfo, error) {
	if err := checkTagsAt(objectRes(bucket, key), tags); err != nil {
		return ObjectInfo{}, err
	}
	return s.updateObject(p, bucket, key, versionID, func(r *objectRecord) error {
		r.Tags = tagRecords(tags)
		return nil
	})
}

// updateObject changes the record of a version in place (in whichever
// table holds it), verified on the way in and re-authenticated at the
// same position on the way out. Its data files are not touched. A delete
// marker cannot be changed (KindMethodNotAllowed when addressed,
// KindNoSuchKey when current, as reads).
func (s *DiskStore) updateObject(p Principal, bucket, key, versionID string, change func(*objectRecord) error) (ObjectInfo, error) {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return ObjectInfo{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	var info ObjectInfo
	err := s.update(func(tx *bolt.Tx) error {
		b, rec, err := s.lookupTx(tx, bucket, key, versionID)
		if err != nil {
			return err
		}
		table := s.objectsTx(tx, bucket)
		tk := []byte(key)
		if versionID != "" {
			// lookupTx found it; find where it is stored.
			_, vkey, err := findVersionTx(table, s.versionsTx(tx, bucket), key, versionID)
			if err != nil {
				return err
			}
			if vkey != nil {
				table, tk = s.versionsTx(tx, bucket), vkey
			}
		}
		if err := change(rec); err != nil {
			return err
		}
		if err := table.putRec(tk, rec); err != nil {
			return err
		}
		info = rec.versionInfo(b, key)
		return nil
	})
	if err != nil {
		return ObjectInfo{}, asError(res, err)
	}
	return info, nil
}
