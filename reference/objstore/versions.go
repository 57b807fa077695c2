package objstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Bucket versioning states, as both dialects spell them; BucketInfo's ""
// means versioning was never enabled.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
	// NullVersionID is the id of the version written while versioning was
	// off or suspended.
	NullVersionID = "null"
)

const msgNoSuchVersion = "The specified version does not exist."

// tblVersions holds, per bucket, every version that is not the current
// object: noncurrent versions and delete markers (current or not). The
// current non-marker version stays in tblObjects, so plain reads,
// listings and the admin hooks see exactly what they saw before
// versioning existed.
var tblVersions = []byte("versions")

// metaFormatVersioned is written the first time a bucket uses versioning:
// a build that does not know tblVersions would collect the data files of
// noncurrent versions as garbage, so it must refuse the database instead.
const metaFormatVersioned = "sseaudit/objstore/v2"

// versionKey orders the versions of a key newest first: the object key
// encoded as uploadKey does, then the inverted creation sequence.
func versionKey(key string, seq uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], ^seq)
	return uploadKey(key, string(b[:]))
}

// versionPrefix is the prefix of every versionKey of key (and of no other
// key's).
func versionPrefix(key string) []byte { return uploadKey(key, "") }

// newVersionID is the id of the version created as sequence seq: the
// sequence (which orders versions and locates a noncurrent one without a
// scan) and 64 random bits, so ids of a recreated bucket never repeat.
func newVersionID(seq uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return hex.EncodeToString(b[:]) + randomName(8)
}

// parseVersionID returns the sequence of an id newVersionID made.
func parseVersionID(id string) (uint64, bool) {
	if len(id) != 32 {
		return 0, false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return 0, false
		}
	}
	seq, err := strconv.ParseUint(id[:16], 16, 64)
	return seq, err == nil
}

// ValidVersionID reports whether id is "null" or an id this store can have
// made.
func ValidVersionID(id string) bool {
	_, ok := parseVersionID(id)
	return ok || id == NullVersionID
}

// checkVersionID answers a version id this store cannot have made with
// KindNoSuchVersion: ids are opaque to clients (MinIO's are UUIDs, AWS's
// arbitrary strings), so one of another form simply names no version.
func checkVersionID(res, id string) error {
	if id == "" || ValidVersionID(id) {
		return nil
	}
	e := newErr(KindNoSuchVersion, res, msgNoSuchVersion, nil)
	e.VersionID = id
	return e
}

// versionLabel is the id a client sees for rec: none in a bucket that
// never had versioning, "null" for the null version.
func versionLabel(versioning string, rec *objectRecord) string {
	switch {
	case versioning == "":
		return ""
	case rec.VersionID == "":
		return NullVersionID
	}
	return rec.VersionID
}

func (r *objectRecord) versionInfo(b *bucketRecord, key string) ObjectInfo {
	i := r.info(b.Name, key)
	i.VersionID, i.DeleteMarker = versionLabel(b.Versioning, r), r.DeleteMarker
	return i
}

// noncurrentTx lists the entries of key in the versions table, newest
// first, with their table keys.
func noncurrentTx(vt *objTable, key string, fn func(k []byte, rec *objectRecord) (stop bool, err error)) error {
	if vt == nil {
		return nil
	}
	p := versionPrefix(key)
	c := vt.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		rec, err := vt.decode(k, v)
		if err != nil {
			return err
		}
		stop, err := fn(bytes.Clone(k), rec)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// newestNoncurrentTx is the newest entry of key in the versions table.
func newestNoncurrentTx(vt *objTable, key string) (k []byte, rec *objectRecord, err error) {
	err = noncurrentTx(vt, key, func(kk []byte, r *objectRecord) (bool, error) {
		k, rec = kk, r
		return true, nil
	})
	return k, rec, err
}

// findVersionTx locates version id ("null" or one of newVersionID) of
// key: the current object (vkey nil) or an entry of the versions table.
func findVersionTx(objs, vt *objTable, key, id string) (rec *objectRecord, vkey []byte, err error) {
	want := id
	if id == NullVersionID {
		want = ""
	}
	cur, err := currentObjectTx(objs, key)
	if err != nil {
		return nil, nil, err
	}
	if cur != nil && cur.VersionID == want {
		return cur, nil, nil
	}
	if vt == nil {
		return nil, nil, nil
	}
	if want == "" {
		err = noncurrentTx(vt, key, func(k []byte, r *objectRecord) (bool, error) {
			if r.VersionID == "" {
				rec, vkey = r, k
				return true, nil
			}
			return false, nil
		})
		return rec, vkey, err
	}
	seq, ok := parseVersionID(id)
	if !ok {
		return nil, nil, nil
	}
	k := versionKey(key, seq)
	v := vt.Get(k)
	if v == nil {
		return nil, nil, nil
	}
	r, err := vt.decode(k, v)
	if err != nil || r.VersionID != id {
		return nil, nil, err
	}
	return r, k, nil
}

// removeNullNoncurrentTx deletes key's null version from the versions
// table and returns its data files.
func removeNullNoncurrentTx(vt *objTable, key string) ([]string, error) {
	var files []string
	var del []byte
	err := noncurrentTx(vt, key, func(k []byte, r *objectRecord) (bool, error) {
		if r.VersionID == "" {
			files, del = r.fileNames(), k
			return true, nil
		}
		return false, nil
	})
	if err != nil || del == nil {
		return nil, err
	}
	return files, vt.Delete(del)
}

// promoteTx restores the invariant after a version was removed: when key
// has no current object and its newest remaining version holds data, that
// version becomes the current object again.
func promoteTx(objs, vt *objTable, key string) error {
	if vt == nil || objs.Get([]byte(key)) != nil {
		return nil
	}
	k, rec, err := newestNoncurrentTx(vt, key)
	if err != nil || rec == nil || rec.DeleteMarker {
		return err
	}
	if err := vt.Delete(k); err != nil {
		return err
	}
	return objs.putRec([]byte(key), rec)
}

// versionPlan is a version id reserved before a write's data was
// encrypted, so that the data key's identity includes it (reserveVersion);
// the zero plan means the id is assigned at the commit, as for multipart
// uploads, whose data key is created at initiation and binds the upload
// id instead.
type versionPlan struct {
	seq uint64
	id  string
}

// reserveVersion reserves the sequence and id of a version a write to an
// Enabled bucket will commit. Reservations live in memory: the sequence
// is only persisted by the commit that uses it (and a reservation lost to
// a crash or failed write leaves a harmless gap), and every sequence the
// store hands out, reserved or allocated in a commit, comes from
// s.reserved, so none is handed out twice.
func (s *DiskStore) reserveVersion(bucket string) (versionPlan, error) {
	var cur uint64
	if err := s.view(func(tx *bolt.Tx) error {
		if vt := s.versionsTx(tx, bucket); vt != nil {
			cur = vt.Sequence()
		}
		return nil
	}); err != nil {
		return versionPlan{}, err
	}
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	n := max(cur, s.reserved[bucket]) + 1
	s.reserved[bucket] = n
	return versionPlan{seq: n, id: newVersionID(n)}, nil
}

// nextSeqTx allocates a sequence in a commit (delete markers, Suspended
// and multipart writes): past both the table's and every reservation.
func (s *DiskStore) nextSeqTx(vt *objTable) (uint64, error) {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	n := max(vt.Sequence(), s.reserved[vt.bucket]) + 1
	s.reserved[vt.bucket] = n
	return n, vt.SetSequence(n)
}

// useSeqTx persists a reserved sequence in its commit.
func (s *DiskStore) useSeqTx(vt *objTable, seq uint64) error {
	if vt.Sequence() >= seq {
		return nil
	}
	return vt.SetSequence(seq)
}

// putVersionTx makes rec the current version of key, old being the
// current object (nil when there is none), under the bucket's versioning
// state, and returns the data files no record references any more.
//
// Unversioned: rec replaces old. Enabled: old becomes noncurrent and rec
// gets a new version id. Suspended: rec is the null version and replaces
// the previous null version wherever it is; a non-null old version
// becomes noncurrent.
//
// A write with a reserved version (plan) commits with that id even if
// the bucket was suspended meanwhile (its data key is bound to it: the
// write is ordered as of its start). Versions are ordered by sequence,
// so when a concurrent write with a later sequence committed first, rec
// is stored as the noncurrent version it is and the current one stays.
func (s *DiskStore) putVersionTx(tx *bolt.Tx, b *bucketRecord, objs *objTable, key string, rec, old *objectRecord, plan versionPlan) (removed []string, err error) {
	if b.Versioning == "" {
		if old != nil {
			removed = old.fileNames()
		}
		return removed, objs.putRec([]byte(key), rec)
	}
	vt, err := s.versionsTxCreate(tx, b.Name)
	if err != nil {
		return nil, err
	}
	if plan.id != "" {
		if err := s.useSeqTx(vt, plan.seq); err != nil {
			return nil, err
		}
		rec.Seq, rec.VersionID = plan.seq, plan.id
		newest := uint64(0)
		if old != nil {
			newest = old.Seq
		}
		if _, latest, err := newestNoncurrentTx(vt, key); err != nil {
			return nil, err
		} else if latest != nil {
			newest = max(newest, latest.Seq)
		}
		if newest > plan.seq {
			return nil, vt.putRec(versionKey(key, plan.seq), rec)
		}
		if removed, err = retireCurrentTx(vt, key, old, false); err != nil {
			return nil, err
		}
		return removed, objs.putRec([]byte(key), rec)
	}
	seq, err := s.nextSeqTx(vt)
	if err != nil {
		return nil, err
	}
	rec.Seq, rec.VersionID = seq, ""
	if b.Versioning == VersioningEnabled {
		rec.VersionID = newVersionID(seq)
	}
	if removed, err = retireCurrentTx(vt, key, old, rec.VersionID == ""); err != nil {
		return nil, err
	}
	return removed, objs.putRec([]byte(key), rec)
}

// retireCurrentTx moves the current object old (if any) into the versions
// table; with replaceNull a null version is removed instead, wherever it
// is, and its files returned.
func retireCurrentTx(vt *objTable, key string, old *objectRecord, replaceNull bool) (removed []string, err error) {
	if old != nil {
		if replaceNull && old.VersionID == "" {
			removed = old.fileNames()
		} else if err := vt.putRec(versionKey(key, old.Seq), old); err != nil {
			return nil, err
		}
	}
	if replaceNull {
		files, err := removeNullNoncurrentTx(vt, key)
		if err != nil {
			return nil, err
		}
		removed = append(removed, files...)
	}
	return removed, nil
}

// DeleteResult is what DeleteObjectVersion did.
type DeleteResult struct {
	// VersionID is the version removed (a version was given) or the delete
	// marker created; "" in a bucket that never had versioning.
	VersionID string
	// DeleteMarker reports that a delete marker was created, or that the
	// version removed was one.
	DeleteMarker bool
}

// DeleteObjectVersion deletes bucket/key. Without versionID it removes the
// object in a bucket that never had versioning, and otherwise adds a
// delete marker as the current version (Suspended: the null marker, which
// replaces the null version). With versionID it removes that version for
// good, a delete marker included, and the newest remaining version becomes
// current. A missing key or version is not an error.
func (s *DiskStore) DeleteObjectVersion(ctx context.Context, p Principal, bucket, key, versionID string) (DeleteResult, error) {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return DeleteResult{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return DeleteResult{}, err
	}
	if versionID != "" && !ValidVersionID(versionID) {
		return DeleteResult{VersionID: versionID}, nil // names no version: nothing to delete
	}
	var files []string
	var out DeleteResult
	err := s.update(func(tx *bolt.Tx) error {
		files, out = nil, DeleteResult{}
		b, err := getBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		objs := s.objectsTx(tx, bucket)
		if b == nil || objs == nil {
			return noSuchBucket(bucket)
		}
		if versionID != "" {
			return s.deleteVersionTx(tx, b, objs, key, versionID, &files, &out)
		}
		old, err := currentObjectTx(objs, key)
		if err != nil {
			return err
		}
		if b.Versioning == "" {
			if old == nil {
				return nil
			}
			files = old.fileNames()
			return objs.Delete([]byte(key))
		}
		vt, err := s.versionsTxCreate(tx, bucket)
		if err != nil {
			return err
		}
		seq, err := s.nextSeqTx(vt)
		if err != nil {
			return err
		}
		marker := &objectRecord{DeleteMarker: true, Seq: seq, LastModified: s.now(), Files: []dataFile{}}
		if b.Versioning == VersioningEnabled {
			marker.VersionID = newVersionID(seq)
		}
		if files, err = retireCurrentTx(vt, key, old, marker.VersionID == ""); err != nil {
			return err
		}
		if old != nil {
			if err := objs.Delete([]byte(key)); err != nil {
				return err
			}
		}
		out = DeleteResult{VersionID: versionLabel(b.Versioning, marker), DeleteMarker: true}
		return vt.putRec(versionKey(key, seq), marker)
	})
	if err != nil {
		return DeleteResult{}, asError(res, err)
	}
	s.removeFiles(files)
	return out, nil
}

func (s *DiskStore) deleteVersionTx(tx *bolt.Tx, b *bucketRecord, objs *objTable, key, id string, files *[]string, out *DeleteResult) error {
	vt := s.versionsTx(tx, b.Name)
	rec, vkey, err := findVersionTx(objs, vt, key, id)
	if err != nil {
		return err
	}
	*out = DeleteResult{VersionID: id}
	if b.Versioning == "" && id == NullVersionID {
		out.VersionID = ""
	}
	if rec == nil {
		return nil
	}
	out.DeleteMarker = rec.DeleteMarker
	*files = rec.fileNames()
	if vkey == nil {
		err = objs.Delete([]byte(key))
	} else {
		err = vt.Delete(vkey)
	}
	if err != nil {
		return err
	}
	return promoteTx(objs, vt, key)
}

// lookupTx finds the version a read addresses (versionID "" = the current
// one). A current delete marker is KindNoSuchKey, an addressed one
// KindMethodNotAllowed, both carrying the marker's id.
func (s *DiskStore) lookupTx(tx *bolt.Tx, bucket, key, versionID string) (*bucketRecord, *objectRecord, error) {
	b, err := getBucketTx(tx, bucket)
	if err != nil {
		return nil, nil, err
	}
	objs := s.objectsTx(tx, bucket)
	if b == nil || objs == nil {
		return nil, nil, noSuchBucket(bucket)
	}
	if versionID == "" {
		// The current version is the common case (every HEAD of a
		// census): it needs neither the versions table nor res.
		cur, err := currentObjectTx(objs, key)
		if err != nil || cur != nil {
			return b, cur, err
		}
	}
	res := objectRes(bucket, key)
	vt := s.versionsTx(tx, bucket)
	if versionID == "" {
		_, latest, err := newestNoncurrentTx(vt, key)
		if err != nil {
			return nil, nil, err
		}
		e := newErr(KindNoSuchKey, res, msgNoSuchKey, nil)
		if latest != nil && latest.DeleteMarker {
			e.DeleteMarker, e.VersionID, e.LastModified = true, versionLabel(b.Versioning, latest), latest.LastModified
		}
		return nil, nil, e
	}
	if err := checkVersionID(res, versionID); err != nil {
		return nil, nil, err
	}
	rec, _, err := findVersionTx(objs, vt, key, versionID)
	if err != nil {
		return nil, nil, err
	}
	if rec == nil {
		if b.Versioning == "" && versionID == NullVersionID {
			return nil, nil, newErr(KindNoSuchKey, res, msgNoSuchKey, nil)
		}
		e := newErr(KindNoSuchVersion, res, msgNoSuchVersion, nil)
		e.VersionID = versionID
		return nil, nil, e
	}
	if rec.DeleteMarker {
		e := newErr(KindMethodNotAllowed, res, "The specified method is not allowed against this resource.", nil)
		e.DeleteMarker, e.VersionID, e.LastModified = true, versionLabel(b.Versioning, rec), rec.LastModified
		return nil, nil, e
	}
	return b, rec, nil
}

// PutBucketVersioning sets the bucket's versioning state. Once set, a
// bucket can be switched between Enabled and Suspended but never back to
// unversioned. Existing objects are untouched (the ones written so far
// are the null version).
func (s *DiskStore) PutBucketVersioning(ctx context.Context, p Principal, bucket, status string) error {
	res := bucketRes(bucket)
	if err := s.writableBucket(p, bucket); err != nil {
		return err
	}
	if status != VersioningEnabled && status != VersioningSuspended {
		return newErr(KindInvalidArgument, res, "The versioning status must be Enabled or Suspended.", nil)
	}
	err := s.update(func(tx *bolt.Tx) error {
		b, err := existingBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		b.Versioning = status
		return putBucketRec(tx, b)
	})
	if err != nil {
		return asError(res, err)
	}
	s.log.Info("bucket versioning set", "bucket", bucket, "status", status, "principal", p.Name)
	return nil
}

// HeadObjectVersion returns the metadata of a version of bucket/key
// (versionID "" = the current one) without calling KMS. Every version
// reports the encryption it was written with. An SSE-C version needs the
// customer key in ctx (WithCustomerKey; KindCustomerKeyRequired without,
// KindCustomerKeyMismatch with another), which is checked by unsealing
// the data key.
func (s *DiskStore) HeadObjectVersion(ctx context.Context, p Principal, bucket, key, versionID string) (ObjectInfo, error) {
	res := objectRes(bucket, key)
	if !s.canRead(p, bucket) {
		return ObjectInfo{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	var info ObjectInfo
	err := s.view(func(tx *bolt.Tx) error {
		b, rec, err := s.lookupTx(tx, bucket, key, versionID)
		if err != nil {
			return err
		}
		// An SSE-C version answers only to its customer key (checked
		// here, while the record's bytes are the transaction's).
		if err := s.checkCustomerKey(ctx, res, rec, bucket, key); err != nil {
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

// OpenObjectVersion opens a version of bucket/key (versionID "" = the
// current one) for reading, with that version's own data key.
func (s *DiskStore) OpenObjectVersion(ctx context.Context, p Principal, bucket, key, versionID string) (Object, error) {
	if !s.canRead(p, bucket) {
		return nil, denied(objectRes(bucket, key))
	}
	if err := checkObjectName(bucket, key); err != nil {
		return nil, err
	}
	o, err := s.openObject(ctx, p, bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// ListVersionsOptions select a page of ListObjectVersions.
type ListVersionsOptions struct {
	Prefix, Delimiter string
	// KeyMarker lists keys after it; with VersionIDMarker, the versions of
	// KeyMarker older than that one come first.
	KeyMarker, VersionIDMarker string
	MaxKeys                    int // 0 = 1000; capped at 1000
}

// ListVersionsResult is one page of ListObjectVersions.
type ListVersionsResult struct {
	// Versions are object versions and delete markers (DeleteMarker),
	// keys ascending, each key's newest first (IsLatest).
	Versions       []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	// NextKeyMarker and NextVersionIDMarker continue a truncated listing.
	NextKeyMarker, NextVersionIDMarker string
}

// ListObjectVersions lists a page of every version and delete marker of
// bucket. In a bucket that never had versioning every object is its null
// version.
func (s *DiskStore) ListObjectVersions(ctx context.Context, p Principal, bucket string, opts ListVersionsOptions) (ListVersionsResult, error) {
	res := bucketRes(bucket)
	if !s.canRead(p, bucket) {
		return ListVersionsResult{}, denied(res)
	}
	if err := checkBucketName(bucket); err != nil {
		return ListVersionsResult{}, err
	}
	limit := opts.MaxKeys
	if limit <= 0 || limit > MaxListKeys {
		limit = MaxListKeys
	}
	// skipSeq: at KeyMarker, versions with a sequence >= it were listed.
	skipKey, skipAll, skipSeq := "", false, uint64(0)
	from := opts.Prefix
	if opts.KeyMarker != "" {
		from = max(opts.KeyMarker+"\x00", opts.Prefix)
	}
	var out ListVersionsResult
	err := s.view(func(tx *bolt.Tx) error {
		b, err := getBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		objs := s.objectsTx(tx, bucket)
		if b == nil || objs == nil {
			return noSuchBucket(bucket)
		}
		vt := s.versionsTx(tx, bucket)
		if opts.KeyMarker != "" && opts.VersionIDMarker != "" {
			skipKey, skipAll = opts.KeyMarker, true
			if seq, ok := parseVersionID(opts.VersionIDMarker); ok {
				skipAll, skipSeq = false, seq
			} else if opts.VersionIDMarker == NullVersionID {
				rec, _, err := findVersionTx(objs, vt, opts.KeyMarker, NullVersionID)
				if err != nil {
					return err
				}
				if rec != nil {
					skipAll, skipSeq = false, rec.Seq
				}
			}
			from = max(opts.KeyMarker, opts.Prefix)
		}
		count := 0
		emit := func(key string, rec *objectRecord, latest bool) bool {
			if count == limit {
				out.IsTruncated = true
				return false
			}
			i := rec.info(bucket, key)
			i.VersionID, i.DeleteMarker, i.IsLatest = rec.VersionID, rec.DeleteMarker, latest
			if i.VersionID == "" {
				i.VersionID = NullVersionID
			}
			out.Versions = append(out.Versions, i)
			out.NextKeyMarker, out.NextVersionIDMarker = key, i.VersionID
			count++
			return true
		}
		for {
			key, ok := nextKeyTx(objs, vt, from)
			if !ok || !strings.HasPrefix(key, opts.Prefix) {
				return nil
			}
			if opts.Delimiter != "" {
				if i := strings.Index(key[len(opts.Prefix):], opts.Delimiter); i >= 0 {
					cp := key[:len(opts.Prefix)+i+len(opts.Delimiter)]
					if cp > opts.KeyMarker {
						if count == limit {
							out.IsTruncated = true
							return nil
						}
						out.CommonPrefixes = append(out.CommonPrefixes, cp)
						out.NextKeyMarker, out.NextVersionIDMarker = cp, ""
						count++
					}
					end := prefixEnd([]byte(cp))
					if end == nil {
						return nil
					}
					from = string(end)
					continue
				}
			}
			skip := func(rec *objectRecord) bool {
				return key == skipKey && (skipAll || rec.Seq >= skipSeq)
			}
			latest := true
			cur, err := currentObjectTx(objs, key)
			if err != nil {
				return err
			}
			if cur != nil {
				if !skip(cur) && !emit(key, cur, true) {
					return nil
				}
				latest = false
			}
			full := false
			err = noncurrentTx(vt, key, func(_ []byte, rec *objectRecord) (bool, error) {
				isLatest := latest
				latest = false
				if skip(rec) {
					return false, nil
				}
				if !emit(key, rec, isLatest) {
					full = true
					return true, nil
				}
				return false, nil
			})
			if err != nil || full {
				return err
			}
			from = key + "\x00"
		}
	})
	if err != nil {
		return ListVersionsResult{}, asError(res, err)
	}
	if !out.IsTruncated {
		out.NextKeyMarker, out.NextVersionIDMarker = "", ""
	}
	return out, nil
}

// nextKeyTx is the smallest object key >= from that has a current object
// or an entry in the versions table.
func nextKeyTx(objs, vt *objTable, from string) (string, bool) {
	var best string
	found := false
	if k, _ := objs.Cursor().Seek([]byte(from)); k != nil {
		best, found = string(k), true
	}
	if vt != nil {
		if k, _ := vt.Cursor().Seek(uploadKeyPrefix(from)); k != nil {
			if key, _, ok := parseUploadKey(k); ok && (!found || key < best) {
				best, found = key, true
			}
		}
	}
	return best, found
}

// AtRestVersion is AtRest for one version of bucket/key ("" = current).
func (s *DiskStore) AtRestVersion(ctx context.Context, bucket, key, versionID string) (AtRestInfo, error) {
	res := objectRes(bucket, key)
	var rec *objectRecord
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		_, rec, err = s.lookupTx(tx, bucket, key, versionID)
		return err
	})
	if err != nil {
		return AtRestInfo{}, asError(res, err)
	}
	return s.atRest(rec), nil
}
