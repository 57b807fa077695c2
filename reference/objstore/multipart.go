package objstore

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/envelope"
)

func noSuchUpload(bucket, key string) error {
	return newErr(KindNoSuchUpload, objectRes(bucket, key), msgNoSuchUpload, nil)
}

// newUploadID returns 32 hex characters: the initiation time in
// nanoseconds (so that one key's uploads list in initiation order) and 8
// random bytes.
func (s *DiskStore) newUploadID() string {
	t := binary.BigEndian.AppendUint64(nil, uint64(s.clock.Now().UnixNano()))
	return hex.EncodeToString(t) + randomName(8)
}

func getUploadTx(tx *bolt.Tx, bucket, key, id string) (*uploadRecord, error) {
	ups := uploadsTx(tx, bucket)
	if ups == nil {
		return nil, noSuchBucket(bucket)
	}
	v := ups.Get(uploadKey(key, id))
	if v == nil || partsTx(tx, id) == nil {
		return nil, noSuchUpload(bucket, key)
	}
	return decode[uploadRecord](v, "upload")
}

// CreateMultipartUpload starts an upload. Its encryption (request SSE or
// the bucket default) is fixed now: the one data key of the upload is
// created here, bound to the upload id, and its record is kept for the
// parts and the completed object.
func (s *DiskStore) CreateMultipartUpload(ctx context.Context, p Principal, bucket, key string, opts PutOptions) (Upload, error) {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return Upload{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return Upload{}, err
	}
	class, alg, err := writeOptions(res, opts, "")
	if err != nil {
		return Upload{}, err
	}
	if err := checkTagsAt(res, opts.Tags); err != nil {
		return Upload{}, err
	}
	typ := opts.ChecksumType
	switch {
	case alg == "" && typ != "":
		return Upload{}, newErr(KindInvalidRequest, res, "A checksum type needs a checksum algorithm.", nil)
	case alg != "" && typ == "":
		typ = defaultChecksumType(alg)
	case alg != "" && !checksumTypeAllowed(alg, typ):
		return Upload{}, newErr(KindInvalidRequest, res, "The "+typ+" checksum type cannot be used with the "+alg+" checksum algorithm.", nil)
	}
	b, err := s.bucket(bucket)
	if err != nil {
		return Upload{}, err
	}
	if opts.StorageClass == "" && b.StorageClass != "" {
		class = b.StorageClass // the bucket's class is the default
	}
	w, err := resolveSSE(res, opts.SSE, b.Rule, s.faults)
	if err != nil {
		return Upload{}, err
	}
	id := s.newUploadID()
	dk, rec, recBytes, err := s.newDataKey(ctx, p, res, b.Region, w, envelope.Identity{Bucket: bucket, Object: key, UploadID: id})
	if err != nil {
		return Upload{}, err
	}
	if dk != nil {
		dk.Destroy() // each UploadPart unseals it again, so key state and grants apply per part
	}
	u := &uploadRecord{
		Key: key, UploadID: id, Initiated: s.now(), Initiator: p.Name, objMeta: metaFromPut(opts),
		StorageClass: class, ChecksumAlgorithm: alg, ChecksumType: typ, DefaultChecksum: alg == "",
		Algorithm: rec.Algorithm, KMSKeyID: rec.KeyID, Record: recBytes,
		ACL: opts.ACL, Tags: tagRecords(opts.Tags),
	}
	err = s.update(func(tx *bolt.Tx) error {
		ups := uploadsTx(tx, bucket)
		if ups == nil || tx.Bucket(tblBuckets).Get([]byte(bucket)) == nil {
			return noSuchBucket(bucket)
		}
		if _, err := tx.Bucket(tblParts).CreateBucket([]byte(id)); err != nil {
			return err
		}
		return ups.Put(uploadKey(key, id), encode(u))
	})
	if err != nil {
		return Upload{}, asError(res, err)
	}
	return u.upload(bucket), nil
}

// UploadPart stores part partNumber (1..10000) of an upload, encrypted as
// its own stream under the upload's data key, replacing an earlier part
// with that number, with its checksum in the upload's algorithm (and in
// the declared one, see PartOptions). The part is listed only once
// durable. For a KMS upload the principal needs decrypt on the CMK (the
// data key is unsealed for every part, as S3 requires kms:Decrypt for
// multipart uploads).
func (s *DiskStore) UploadPart(ctx context.Context, p Principal, bucket, key, uploadID string, partNumber int, body io.Reader, size int64, opts PartOptions) (Part, Upload, error) {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return Part{}, Upload{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return Part{}, Upload{}, err
	}
	if partNumber < 1 || partNumber > MaxPartNumber {
		return Part{}, Upload{}, newErr(KindInvalidArgument, res,
			"Part number must be an integer between 1 and 10000, inclusive.", nil)
	}
	if size > MaxPutSize {
		return Part{}, Upload{}, newErr(KindEntityTooLarge, res, msgEntityTooLarge, nil)
	}
	declared := opts.ChecksumAlgorithm
	if declared != "" {
		var ok bool
		if declared, ok = CanonicalChecksumAlgorithm(declared); !ok {
			return Part{}, Upload{}, newErr(KindInvalidArgument, res, "The checksum algorithm "+opts.ChecksumAlgorithm+" is not supported.", nil)
		}
	}
	var u *uploadRecord
	var region string
	err := s.view(func(tx *bolt.Tx) error {
		b, err := existingBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		region = b.Region
		u, err = getUploadTx(tx, bucket, key, uploadID)
		return err
	})
	if err != nil {
		return Part{}, Upload{}, asError(res, err)
	}
	var dk *envelope.DataKey
	switch {
	case u.Record != nil:
		if dk, err = s.openDataKey(ctx, p, res, region, u.Record, u.Algorithm, u.KMSKeyID, bucket, key, ""); err != nil {
			return Part{}, Upload{}, err
		}
		defer dk.Destroy()
	case u.Algorithm != "":
		return Part{}, Upload{}, newErr(KindDecryptFailed, res, msgDecryptFailed, errors.New("encrypted upload without an encryption record"))
	}
	alg, _ := u.checksum()
	if u.ChecksumAlgorithm != "" && declared != "" && declared != alg {
		return Part{}, Upload{}, newErr(KindInvalidRequest, res,
			"Checksum type mismatch: the upload uses "+alg+", the part was sent with "+declared+".", nil)
	}
	var algs []string
	if alg != "" {
		algs = append(algs, alg)
	}
	if declared != "" && declared != alg {
		algs = append(algs, declared)
	}
	release, err := s.uploads.acquire(p, res)
	if err != nil {
		return Part{}, Upload{}, err
	}
	wr, err := s.writeData(ctx, res, body, size, opts.ContentMD5, dk, partNumber, algs...)
	release()
	if err != nil {
		return Part{}, Upload{}, err
	}
	pr := &partRecord{dataFile: wr.file, LastModified: s.now()}
	for i, a := range algs {
		if a == alg {
			pr.Checksum = wr.sums[i]
		} else {
			pr.Declared = &checksumRecord{Algorithm: a, Type: ChecksumFullObject, Value: wr.sums[i]}
		}
	}
	var replaced []string
	err = s.commits.update(func(tx *bolt.Tx) error { // may run more than once
		if _, err := getUploadTx(tx, bucket, key, uploadID); err != nil {
			return err // completed or aborted meanwhile
		}
		parts := partsTx(tx, uploadID)
		replaced = nil
		if v := parts.Get(partKey(partNumber)); v != nil {
			old, err := decode[partRecord](v, "part")
			if err != nil {
				return err
			}
			replaced = []string{old.Name}
		}
		return parts.Put(partKey(partNumber), encode(pr))
	})
	if err != nil {
		s.removeFiles([]string{wr.file.Name})
		return Part{}, Upload{}, asError(res, err)
	}
	s.removeFiles(replaced)
	return pr.part(alg), u.upload(bucket), nil
}

// normalizeETag strips the quotes and case a client may add.
func normalizeETag(e string) string {
	e = strings.TrimSpace(e)
	e = strings.TrimPrefix(strings.TrimSuffix(e, `"`), `"`)
	e = strings.TrimPrefix(strings.TrimSuffix(e, "&quot;"), "&quot;")
	return strings.ToLower(e)
}

// CompleteMultipartUpload assembles the listed parts (ascending, each
// existing with a matching ETag and any listed checksum matching, all but
// the last at least opts.MinPartSize) into the object and discards
// unlisted parts, when opts.Condition holds. The parts' files become the
// object's files unchanged; the object keeps the upload's encryption
// record. Its ETag follows opts.ETagRule (partsETag), its CRC64
// the combination of the part CRCs, its checksum the upload's: COMPOSITE
// (the checksum of the raw part checksums, N parts) or FULL_OBJECT (the
// part CRCs combined). With no parts (opts.AllowNoParts) the object is
// empty: no data files, the empty content's checksum, ETag "<md5>-0".
func (s *DiskStore) CompleteMultipartUpload(ctx context.Context, p Principal, bucket, key, uploadID string, parts []CompletePart, opts CompleteOptions) (ObjectInfo, error) {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return ObjectInfo{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	if len(parts) == 0 && !opts.AllowNoParts {
		return ObjectInfo{}, newErr(KindInvalidArgument, res, "You must specify at least one part.", nil)
	}
	if len(parts) > MaxPartNumber {
		return ObjectInfo{}, newErr(KindInvalidArgument, res, "A multipart upload has at most 10000 parts.", nil)
	}
	for i := 1; i < len(parts); i++ {
		if parts[i].PartNumber <= parts[i-1].PartNumber {
			return ObjectInfo{}, newErr(KindInvalidPartOrder, res, msgInvalidPartOrder, nil)
		}
	}
	var obj *objectRecord
	var remove []string
	var versionID string
	err := s.update(func(tx *bolt.Tx) error {
		b, err := getBucketTx(tx, bucket)
		if err != nil {
			return err
		}
		objs := s.objectsTx(tx, bucket)
		if objs == nil || b == nil {
			return noSuchBucket(bucket)
		}
		u, err := getUploadTx(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		old, err := currentObjectTx(objs, key)
		if err != nil {
			return err
		}
		if err := checkCondition(res, opts.Condition, old); err != nil {
			return err
		}
		alg, typ := u.checksum()
		pt := partsTx(tx, uploadID)
		files := make([]dataFile, 0, len(parts))
		sums := make([]byte, 0, md5.Size*len(parts))
		partSums := make([][]byte, 0, len(parts))
		sizes := make([]int64, 0, len(parts))
		var size int64
		var crc uint64
		for i, cp := range parts {
			var v []byte
			if cp.PartNumber >= 1 && cp.PartNumber <= MaxPartNumber {
				v = pt.Get(partKey(cp.PartNumber))
			}
			if v == nil {
				return newErr(KindInvalidPart, res, msgInvalidPart, fmt.Errorf("part %d was not uploaded", cp.PartNumber))
			}
			pr, err := decode[partRecord](v, "part")
			if err != nil {
				return err
			}
			if normalizeETag(cp.ETag) != pr.ETag {
				return newErr(KindInvalidPart, res, msgInvalidPart, fmt.Errorf("part %d has ETag %s, request says %s", cp.PartNumber, pr.ETag, cp.ETag))
			}
			if err := checkListedChecksums(res, cp, pr, alg); err != nil {
				return err
			}
			if i < len(parts)-1 && pr.Size < opts.MinPartSize {
				return newErr(KindEntityTooSmall, res, msgEntityTooSmall,
					fmt.Errorf("part %d is %d bytes, the minimum is %d", cp.PartNumber, pr.Size, opts.MinPartSize))
			}
			raw, err := hex.DecodeString(pr.ETag)
			if err != nil || len(raw) != md5.Size {
				return fmt.Errorf("part %d: stored ETag %q is not an MD5", cp.PartNumber, pr.ETag)
			}
			sums = append(sums, raw...)
			crc = crc64Combine(crc, pr.CRC64, pr.Size)
			size += pr.Size
			files = append(files, pr.dataFile)
			partSums = append(partSums, pr.Checksum)
			sizes = append(sizes, pr.Size)
		}
		cks, err := objectChecksum(res, alg, typ, partSums, sizes)
		if err != nil {
			return err
		}
		if err := checkDeclaredChecksum(res, opts, cks, alg, typ, len(parts)); err != nil {
			return err
		}
		listed := make(map[int]bool, len(parts))
		for _, cp := range parts {
			listed[cp.PartNumber] = true
		}
		remove = nil
		err = pt.ForEach(func(k, v []byte) error {
			if len(k) == 4 && listed[int(binary.BigEndian.Uint32(k))] {
				return nil
			}
			pr, err := decode[partRecord](v, "part")
			if err != nil {
				return err
			}
			remove = append(remove, pr.Name)
			return nil
		})
		if err != nil {
			return err
		}
		obj = &objectRecord{
			Size: size, ETag: partsETag(opts.ETagRule, sums), LastModified: s.now(),
			objMeta: u.objMeta, CRC64: crc, Multipart: true, PartsCount: len(parts),
			StorageClass: u.StorageClass, Checksum: cks,
			Algorithm: u.Algorithm, KMSKeyID: u.KMSKeyID, Record: u.Record, Files: files,
			ACL: u.ACL, Tags: u.Tags,
		}
		replaced, err := s.putVersionTx(tx, b, objs, key, obj, old, versionPlan{})
		if err != nil {
			return err
		}
		remove = append(remove, replaced...)
		versionID = versionLabel(b.Versioning, obj)
		if err := s.recordCompletedTx(tx, bucket, key, uploadID, parts, obj, versionID); err != nil {
			return err
		}
		if err := uploadsTx(tx, bucket).Delete(uploadKey(key, uploadID)); err != nil {
			return err
		}
		return tx.Bucket(tblParts).DeleteBucket([]byte(uploadID))
	})
	if err != nil {
		return ObjectInfo{}, asError(res, err)
	}
	s.removeFiles(remove)
	info := obj.info(bucket, key)
	info.VersionID = versionID
	return info, nil
}

// checkListedChecksums compares the checksums a client listed for a part
// with those stored for it (in the upload's algorithm alg, or the one it
// declared on upload). A checksum of another algorithm cannot be checked,
// so it is refused like a wrong one.
func checkListedChecksums(res string, cp CompletePart, pr *partRecord, alg string) error {
	for _, c := range cp.Checksums {
		var stored []byte
		switch {
		case c.Algorithm == alg && alg != "":
			stored = pr.Checksum
		case pr.Declared != nil && c.Algorithm == pr.Declared.Algorithm:
			stored = pr.Declared.Value
		}
		if stored == nil || !checksumEqual(stored, c.Value) {
			return newErr(KindInvalidPart, res, msgInvalidPart,
				fmt.Errorf("part %d: the listed %s checksum does not match the part's", cp.PartNumber, c.Algorithm))
		}
	}
	return nil
}

// objectChecksum computes a multipart object's checksum from its parts'
// (nil when the upload has none: it predates kept checksums).
func objectChecksum(res, alg, typ string, partSums [][]byte, sizes []int64) (*checksumRecord, error) {
	if alg == "" {
		return nil, nil
	}
	if len(partSums) == 0 {
		// An upload completed with no parts (CompleteOptions.AllowNoParts)
		// is an empty object: its checksum is the empty content's, whole.
		return &checksumRecord{Algorithm: alg, Type: ChecksumFullObject, Value: NewChecksumHash(alg).Sum(nil)}, nil
	}
	var v []byte
	var ok bool
	if typ == ChecksumFullObject {
		v, ok = fullObjectCRC(alg, partSums, sizes)
	} else {
		for _, ps := range partSums {
			if len(ps) == 0 {
				return nil, fmt.Errorf("%s: a part has no %s checksum", res, alg)
			}
		}
		v, ok = compositeChecksum(alg, partSums)
	}
	if !ok {
		return nil, fmt.Errorf("%s: cannot compute the %s %s checksum of the parts", res, typ, alg)
	}
	c := &checksumRecord{Algorithm: alg, Type: typ, Value: v}
	if typ == ChecksumComposite {
		c.Parts = len(partSums)
	}
	return c, nil
}

// checkDeclaredChecksum compares the whole-object checksum and type a
// client declared on completion with the computed ones.
func checkDeclaredChecksum(res string, opts CompleteOptions, cks *checksumRecord, alg, typ string, parts int) error {
	if opts.ChecksumType != "" && opts.ChecksumType != typ {
		return newErr(KindInvalidRequest, res, "The upload was created with the "+typ+" checksum type, not "+opts.ChecksumType+".", nil)
	}
	d := opts.Checksum
	if !d.IsSet() {
		return nil
	}
	if cks == nil || d.Algorithm != alg {
		return newErr(KindInvalidRequest, res, "The upload was not created with the "+d.Algorithm+" checksum algorithm.", nil)
	}
	if !checksumEqual(d.Value, cks.Value) || (d.Parts != 0 && (typ != ChecksumComposite || d.Parts != parts)) {
		return newErr(KindInvalidDigest, res, "The "+alg+" you specified did not match the calculated checksum.", nil)
	}
	return nil
}

// AbortMultipartUpload discards an upload and its parts.
func (s *DiskStore) AbortMultipartUpload(ctx context.Context, p Principal, bucket, key, uploadID string) error {
	res := objectRes(bucket, key)
	if !s.canWrite(p, bucket) {
		return denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return err
	}
	var remove []string
	err := s.update(func(tx *bolt.Tx) error {
		if _, err := getUploadTx(tx, bucket, key, uploadID); err != nil {
			return err
		}
		remove = nil
		err := partsTx(tx, uploadID).ForEach(func(k, v []byte) error {
			pr, err := decode[partRecord](v, "part")
			if err != nil {
				return err
			}
			remove = append(remove, pr.Name)
			return nil
		})
		if err != nil {
			return err
		}
		if err := uploadsTx(tx, bucket).Delete(uploadKey(key, uploadID)); err != nil {
			return err
		}
		return tx.Bucket(tblParts).DeleteBucket([]byte(uploadID))
	})
	if err != nil {
		return asError(res, err)
	}
	s.removeFiles(remove)
	return nil
}

// ListParts lists the durable parts of an upload with numbers above
// partNumberMarker (maxParts 0 = 1000, capped at 1000).
func (s *DiskStore) ListParts(ctx context.Context, p Principal, bucket, key, uploadID string, partNumberMarker, maxParts int) (ListPartsResult, Upload, error) {
	res := objectRes(bucket, key)
	if !s.canRead(p, bucket) {
		return ListPartsResult{}, Upload{}, denied(res)
	}
	if err := checkObjectName(bucket, key); err != nil {
		return ListPartsResult{}, Upload{}, err
	}
	if maxParts <= 0 || maxParts > MaxListKeys {
		maxParts = MaxListKeys
	}
	partNumberMarker = min(max(partNumberMarker, 0), MaxPartNumber)
	var out ListPartsResult
	var up Upload
	err := s.view(func(tx *bolt.Tx) error {
		u, err := getUploadTx(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		up = u.upload(bucket)
		alg, _ := u.checksum()
		c := partsTx(tx, uploadID).Cursor()
		for k, v := c.Seek(partKey(partNumberMarker + 1)); k != nil; k, v = c.Next() {
			if len(out.Parts) == maxParts {
				out.IsTruncated = true
				break
			}
			pr, err := decode[partRecord](v, "part")
			if err != nil {
				return err
			}
			out.Parts = append(out.Parts, pr.part(alg))
			out.NextPartNumberMarker = pr.Part
		}
		return nil
	})
	if err != nil {
		return ListPartsResult{}, Upload{}, asError(res, err)
	}
	return out, up, nil
}

// ListMultipartUploads lists uploads in progress in (key, upload id) order;
// ids grow with initiation time, so one key's uploads are oldest first.
func (s *DiskStore) ListMultipartUploads(ctx context.Context, p Principal, bucket string, opts ListUploadsOptions) (ListUploadsResult, error) {
	res := bucketRes(bucket)
	if !s.canRead(p, bucket) {
		return ListUploadsResult{}, denied(res)
	}
	if err := checkBucketName(bucket); err != nil {
		return ListUploadsResult{}, err
	}
	limit := opts.MaxUploads
	if limit <= 0 || limit > MaxListKeys {
		limit = MaxListKeys
	}
	// after reports whether (key, id) comes after the markers.
	after := func(key, id string) bool {
		if opts.KeyMarker == "" {
			return true
		}
		if key != opts.KeyMarker {
			return key > opts.KeyMarker
		}
		return opts.UploadIDMarker != "" && id > opts.UploadIDMarker
	}
	var out ListUploadsResult
	err := s.view(func(tx *bolt.Tx) error {
		ups := uploadsTx(tx, bucket)
		if ups == nil {
			return noSuchBucket(bucket)
		}
		start := opts.Prefix
		if opts.KeyMarker > start {
			start = opts.KeyMarker
		}
		c := ups.Cursor()
		k, v := c.Seek(uploadKeyPrefix(start))
		count := 0
		for k != nil {
			key, id, ok := parseUploadKey(k)
			if !ok {
				return fmt.Errorf("objstore: corrupt upload key %q", k)
			}
			if !strings.HasPrefix(key, opts.Prefix) {
				if key > opts.Prefix {
					break
				}
				k, v = c.Next()
				continue
			}
			if !after(key, id) {
				k, v = c.Next()
				continue
			}
			if opts.Delimiter != "" {
				if i := strings.Index(key[len(opts.Prefix):], opts.Delimiter); i >= 0 {
					cp := key[:len(opts.Prefix)+i+len(opts.Delimiter)]
					if opts.KeyMarker == "" || cp > opts.KeyMarker {
						if count == limit {
							out.IsTruncated = true
							break
						}
						out.CommonPrefixes = append(out.CommonPrefixes, cp)
						out.NextKeyMarker, out.NextUploadIDMarker = cp, ""
						count++
					}
					end := prefixEnd(uploadKeyPrefix(cp))
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
			u, err := decode[uploadRecord](v, "upload")
			if err != nil {
				return err
			}
			out.Uploads = append(out.Uploads, u.upload(bucket))
			out.NextKeyMarker, out.NextUploadIDMarker = key, id
			count++
			k, v = c.Next()
		}
		return nil
	})
	if err != nil {
		return ListUploadsResult{}, asError(res, err)
	}
	if !out.IsTruncated {
		out.NextKeyMarker, out.NextUploadIDMarker = "", ""
	}
	return out, nil
}

// partsETag is the ETag of a multipart object whose parts have the
// binary MD5s sums (16 bytes each, in order), lower-case hex as every
// ETag is stored.
func partsETag(rule MultipartETagRule, sums []byte) string {
	n := len(sums) / md5.Size
	var sum [md5.Size]byte
	if rule == MultipartETagOSS {
		h := md5.New()
		for i := 0; i < n; i++ {
			h.Write([]byte(strings.ToUpper(hex.EncodeToString(sums[i*md5.Size : (i+1)*md5.Size]))))
		}
		h.Sum(sum[:0])
	} else {
		sum = md5.Sum(sums)
	}
	return hex.EncodeToString(sum[:]) + "-" + strconv.Itoa(n)
}
