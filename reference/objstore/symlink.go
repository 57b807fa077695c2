package objstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
)

// Symbolic links (OSS PutSymlink).
//
// A link is an object record with SymlinkTarget set and nothing else of
// content: no data file, size 0, no encryption of its own (it holds no
// bytes to encrypt, so neither the request's SSE headers nor the bucket's
// default rule apply, and no data key is made or KMS called). It has its
// own descriptive and user metadata, storage class, ACL and tags, and is
// versioned like any write (a new version per PutSymlink in an Enabled
// bucket; a delete marker or another write retires it as usual).
//
// The store does not resolve links: HeadObject and OpenObject of a link
// return the link (ObjectInfo.SymlinkTarget set, an empty body), and
// front ends follow it (osshttp: GET and HEAD read the target's current
// version, as OSS documents). The target need not exist when the link is
// made (OSS does not check it either). The ETag is the MD5 of the target
// name: stable for a link and different for links to other targets.
//
// CopyObject of a link writes a link to the same target (OSS: "only the
// symbolic link is copied"): metadata and tags per the directives, the
// request's ACL and class (else the source's); encryption settings are
// refused, a link having no data to encrypt.

// PutSymlink writes the link bucket/key to target (a key in the same
// bucket). Of opts it uses the metadata, StorageClass, ACL, Tags and
// Condition; SSE and the checksum settings do not apply to a link.
func (s *DiskStore) PutSymlink(ctx context.Context, p Principal, bucket, key, target string, opts PutOptions) (ObjectInfo, error) {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return ObjectInfo{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	if !ValidObjectKey(target) {
		return ObjectInfo{}, newErr(KindInvalidArgument, res, "The symlink target is not a valid object name.", nil)
	}
	b, class, _, err := s.writeTarget(res, bucket, opts, "")
	if err != nil {
		return ObjectInfo{}, err
	}
	return s.storeSymlink(b, key, target, metaFromPut(opts), class, opts.ACL, tagRecords(opts.Tags), opts.Condition)
}

// storeSymlink commits the link b/key to target.
func (s *DiskStore) storeSymlink(b *bucketRecord, key, target string, meta objMeta, class, acl string, tags []tagRecord, cond WriteCondition) (ObjectInfo, error) {
	if err := s.precheckCondition(b.Name, key, cond); err != nil {
		return ObjectInfo{}, err
	}
	sum := md5.Sum([]byte(target))
	rec := &objectRecord{
		ETag: hex.EncodeToString(sum[:]), LastModified: s.now(), objMeta: meta, StorageClass: class,
		ACL: acl, Tags: tags, SymlinkTarget: target,
	}
	// No data key binds a version id, so none is reserved: the commit
	// assigns it (putVersionTx), as for an unencrypted PutObject.
	replaced, versionID, err := s.commitObject(b.Name, key, rec, cond, versionPlan{})
	if err != nil {
		return ObjectInfo{}, err
	}
	s.removeFiles(replaced)
	info := rec.info(b.Name, key)
	info.VersionID = versionID
	return info, nil
}
