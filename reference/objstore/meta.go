package objstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// metaFormat is the schema version stored under meta/format until a bucket
// uses versioning (then metaFormatVersioned) or a binary record is written
// (then metaFormatBinary, which implies the other two). Open refuses a
// database of any other version rather than guessing.
const metaFormat = "sseaudit/objstore/v1"

// Top-level bbolt buckets. Store buckets are called "buckets" everywhere
// else; the bbolt ones are "tables" in comments to keep the two apart.
var (
	tblMeta    = []byte("meta")    // "format" -> metaFormat
	tblBuckets = []byte("buckets") // bucket name -> bucketRecord
	tblObjects = []byte("objects") // nested table per bucket: object key -> objectRecord
	tblUploads = []byte("uploads") // nested table per bucket: uploadKey(key, id) -> uploadRecord
	tblParts   = []byte("parts")   // nested table per upload id: BE32(part number) -> partRecord
	keyFormat  = []byte("format")
)

// ruleRecord is the stored form of an EncryptionRule (decoupled from the
// API struct so that renaming a Go field never changes the database).
type ruleRecord struct {
	Algorithm         bstr `json:"algorithm"`
	KMSMasterKeyID    bstr `json:"kms_master_key_id,omitempty"`
	KMSDataEncryption bstr `json:"kms_data_encryption,omitempty"`
	// SSECAllowed: the rule unblocks SSE-C (binary records: flagSSECAllowed).
	SSECAllowed bool `json:"ssec_allowed,omitempty"`
}

func ruleToRecord(r *EncryptionRule) *ruleRecord {
	if r == nil {
		return nil
	}
	return &ruleRecord{Algorithm: bstr(r.Algorithm), KMSMasterKeyID: bstr(r.KMSMasterKeyID), KMSDataEncryption: bstr(r.KMSDataEncryption), SSECAllowed: r.AllowSSEC}
}

func (r *ruleRecord) rule() *EncryptionRule {
	if r == nil {
		return nil
	}
	return &EncryptionRule{Algorithm: string(r.Algorithm), KMSMasterKeyID: string(r.KMSMasterKeyID), KMSDataEncryption: string(r.KMSDataEncryption), AllowSSEC: r.SSECAllowed}
}

type bucketRecord struct {
	Name    string      `json:"name"`
	Region  string      `json:"region"`
	Created time.Time   `json:"created"`
	Owner   string      `json:"owner"`
	Rule    *ruleRecord `json:"rule,omitempty"`
	// Versioning is "" (never enabled), VersioningEnabled or
	// VersioningSuspended; absent in records from before versioning.
	Versioning string `json:"versioning,omitempty"`
	// StorageClass is the bucket's class, "" for Standard (and in records
	// from before buckets had one).
	StorageClass string `json:"storage_class,omitempty"`
	// ACL is the bucket's canned ACL, "" for private (and in records from
	// before ACLs were kept).
	ACL string `json:"acl,omitempty"`
}

func (b *bucketRecord) info() BucketInfo {
	return BucketInfo{
		Name: b.Name, Region: b.Region, CreationDate: b.Created, StorageClass: storedClass(b.StorageClass),
		Owner: b.Owner, Encryption: b.Rule.rule(), Versioning: b.Versioning, ACL: bucketACL(b.ACL),
	}
}

// bstr is a string stored byte-exact: as a JSON string when it is valid
// UTF-8 (encoding/json would replace invalid bytes with U+FFFD), else as
// {"b64": base64}. Header values need not be UTF-8.
type bstr string

func (s bstr) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(s)) {
		return json.Marshal(string(s))
	}
	return json.Marshal(struct {
		B64 []byte `json:"b64"`
	}{[]byte(s)})
}

func (s *bstr) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var v struct {
			B64 []byte `json:"b64"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = bstr(v.B64)
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = bstr(v)
	return nil
}

// metaPair is one user metadata entry.
type metaPair struct {
	K bstr `json:"k"`
	V bstr `json:"v"`
}

// objMeta is the descriptive metadata of an object (what COPY keeps and
// REPLACE takes from the request), stored byte-exact.
type objMeta struct {
	ContentType        bstr       `json:"content_type,omitempty"`
	CacheControl       bstr       `json:"cache_control,omitempty"`
	ContentDisposition bstr       `json:"content_disposition,omitempty"`
	ContentEncoding    bstr       `json:"content_encoding,omitempty"`
	ContentLanguage    bstr       `json:"content_language,omitempty"`
	Expires            bstr       `json:"expires,omitempty"`
	UserMetadata       []metaPair `json:"user_metadata,omitempty"` // sorted by key
}

// lowerASCII lower-cases ASCII letters only, leaving every other byte
// (including invalid UTF-8) as it is.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func newMeta(contentType, cacheControl, disposition, encoding, language, expires string, user map[string]string, lower bool) objMeta {
	m := objMeta{
		ContentType: bstr(contentType), CacheControl: bstr(cacheControl), ContentDisposition: bstr(disposition),
		ContentEncoding: bstr(encoding), ContentLanguage: bstr(language), Expires: bstr(expires),
	}
	if len(user) > 0 {
		byKey := make(map[string]string, len(user))
		for k, v := range user {
			if lower {
				k = lowerASCII(k)
			}
			byKey[k] = v
		}
		for _, k := range slices.Sorted(maps.Keys(byKey)) {
			m.UserMetadata = append(m.UserMetadata, metaPair{K: bstr(k), V: bstr(byKey[k])})
		}
	}
	return m
}

// metaFromPut takes the metadata of a request; user metadata keys are
// lower-cased (ASCII), as HTTP header names are case-insensitive.
func metaFromPut(o PutOptions) objMeta {
	return newMeta(o.ContentType, o.CacheControl, o.ContentDisposition, o.ContentEncoding, o.ContentLanguage, o.Expires, o.UserMetadata, true)
}

func metaFromInfo(i ObjectInfo) objMeta {
	return newMeta(i.ContentType, i.CacheControl, i.ContentDisposition, i.ContentEncoding, i.ContentLanguage, i.Expires, i.UserMetadata, false)
}

func (m *objMeta) fill(i *ObjectInfo) {
	i.ContentType, i.CacheControl, i.ContentDisposition = string(m.ContentType), string(m.CacheControl), string(m.ContentDisposition)
	i.ContentEncoding, i.ContentLanguage, i.Expires = string(m.ContentEncoding), string(m.ContentLanguage), string(m.Expires)
	if len(m.UserMetadata) > 0 {
		i.UserMetadata = make(map[string]string, len(m.UserMetadata))
		for _, p := range m.UserMetadata {
			i.UserMetadata[string(p.K)] = string(p.V)
		}
	}
}

// dataFile is one file under data/: the whole object (Part 0) or one part
// of a multipart object or upload, each its own encrypted stream when the
// object is encrypted.
type dataFile struct {
	Name   string `json:"name"`   // random file name under data/, never derived from user input
	Part   int    `json:"part"`   // stream part number: 0 for a single-part object, else 1..10000
	Size   int64  `json:"size"`   // plaintext bytes
	Stored int64  `json:"stored"` // bytes on disk (ciphertext size when encrypted)
	ETag   string `json:"etag,omitempty"`
	CRC64  uint64 `json:"crc64"`
	// CRC32C is 1<<32 plus the CRC-32C (Castagnoli) of the plaintext, so
	// that 0 means "not recorded": files written before format 2 records
	// (their plaintext is checked against CRC64 instead) and encrypted
	// files (authenticated chunk by chunk; write.go). Reads of a whole
	// unencrypted file verify it: reader.go.
	CRC32C uint64 `json:"crc32c,omitempty"`
	// Checksum is a part's raw checksum in its object's (or upload's)
	// checksum algorithm; absent for single-part objects, whose object
	// checksum covers the one file, and in records written before
	// checksums were kept.
	Checksum []byte `json:"checksum,omitempty"`
}

// objectRecord is a visible object.
type objectRecord struct {
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"last_modified"`
	objMeta
	CRC64      uint64 `json:"crc64"`
	Multipart  bool   `json:"multipart,omitempty"`
	PartsCount int    `json:"parts_count,omitempty"`
	// StorageClass is "" in records written before classes were kept: they
	// are Standard.
	StorageClass string `json:"storage_class,omitempty"`
	// Checksum is absent in records written before checksums were kept.
	Checksum *checksumRecord `json:"checksum,omitempty"`
	// Algorithm and KMSKeyID describe the encryption (the resolved CMK id,
	// copied from the envelope record). Algorithm != "" exactly when Record
	// is set; a record that breaks this is never served.
	Algorithm string `json:"algorithm,omitempty"`
	KMSKeyID  string `json:"kms_key_id,omitempty"`
	// Record is the marshalled envelope.Record (nil when unencrypted).
	Record []byte     `json:"record,omitempty"`
	Files  []dataFile `json:"files"`
	// FaultPlaintext marks an object the PlaintextAtRest fault stored
	// unencrypted while reporting Algorithm; only that fault sets it.
	FaultPlaintext bool `json:"fault_plaintext,omitempty"`
	// VersionID is "" for the null version (every record written while
	// the bucket was unversioned or suspended, and all older records).
	VersionID string `json:"version_id,omitempty"`
	// Seq orders the versions of a key (newVersionID); 0 in records
	// written while the bucket never had versioning, which are older than
	// every versioned write.
	Seq uint64 `json:"seq,omitempty"`
	// DeleteMarker records are kept in the versions table only; they have
	// no data, size or encryption.
	DeleteMarker bool `json:"delete_marker,omitempty"`
	// ACL is the object's canned ACL, "" for ACLDefault (and in records
	// from before ACLs were kept).
	ACL string `json:"acl,omitempty"`
	// Tags are the object's tags in the order they were set; nil for none.
	Tags []tagRecord `json:"tags,omitempty"`
	// Appendable marks an object AppendObject wrote: every append is one
	// data file, numbered from 1 (append.go).
	Appendable bool `json:"appendable,omitempty"`
	// SymlinkTarget is the target key of a symbolic link (PutSymlink,
	// symlink.go), "" for every other object.
	SymlinkTarget string `json:"symlink_target,omitempty"`
}

// tagRecord is the stored form of a Tag.
type tagRecord struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

func (r *objectRecord) info(bucket, key string) ObjectInfo {
	i := ObjectInfo{
		Bucket: bucket, Key: key, Size: r.Size, ETag: r.ETag, LastModified: r.LastModified,
		CRC64: r.CRC64, StorageClass: storedClass(r.StorageClass), Multipart: r.Multipart, PartsCount: r.PartsCount,
		Checksum: r.Checksum.checksum(), SSE: SSE{Algorithm: r.Algorithm, KMSKeyID: r.KMSKeyID},
		ACL: r.ACL, Tags: tagsOf(r.Tags), Appendable: r.Appendable, SymlinkTarget: r.SymlinkTarget,
	}
	if r.Multipart {
		i.Parts = make([]ObjectPart, len(r.Files))
		for n, f := range r.Files {
			i.Parts[n] = ObjectPart{PartNumber: f.Part, Size: f.Size}
			if r.Checksum != nil && len(f.Checksum) > 0 {
				i.Parts[n].Checksum = Checksum{Algorithm: r.Checksum.Algorithm, Type: ChecksumFullObject, Value: f.Checksum}
			}
		}
	}
	r.objMeta.fill(&i)
	return i
}

func storedClass(sc string) string {
	if sc == "" {
		return StorageClassStandard
	}
	return sc
}

func (r *objectRecord) fileNames() []string {
	names := make([]string, len(r.Files))
	for i, f := range r.Files {
		names[i] = f.Name
	}
	return names
}

// uploadRecord is a multipart upload in progress. Its envelope record is
// created at initiation and becomes the completed object's record.
type uploadRecord struct {
	Key       string    `json:"key"`
	UploadID  string    `json:"upload_id"`
	Initiated time.Time `json:"initiated"`
	Initiator string    `json:"initiator"`
	objMeta
	StorageClass string `json:"storage_class,omitempty"`
	// ChecksumAlgorithm and ChecksumType are what the upload asked for;
	// DefaultChecksum marks an upload that asked for none and keeps
	// DefaultChecksumAlgorithm FULL_OBJECT. An upload record with neither
	// (written before checksums were kept) completes without a checksum.
	ChecksumAlgorithm string `json:"checksum_algorithm,omitempty"`
	ChecksumType      string `json:"checksum_type,omitempty"`
	DefaultChecksum   bool   `json:"default_checksum,omitempty"`
	Algorithm         string `json:"algorithm,omitempty"`
	KMSKeyID          string `json:"kms_key_id,omitempty"`
	Record            []byte `json:"record,omitempty"`
	// ACL and Tags are what the completed object gets (PutOptions).
	ACL  string      `json:"acl,omitempty"`
	Tags []tagRecord `json:"tags,omitempty"`
}

func (u *uploadRecord) upload(bucket string) Upload {
	return Upload{Bucket: bucket, Key: u.Key, UploadID: u.UploadID, Initiated: u.Initiated,
		SSE: SSE{Algorithm: u.Algorithm, KMSKeyID: u.KMSKeyID}, StorageClass: storedClass(u.StorageClass),
		ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType}
}

// checksum returns the algorithm and type every part of the upload is
// checksummed with ("" for an upload from before checksums were kept).
func (u *uploadRecord) checksum() (alg, typ string) {
	switch {
	case u.ChecksumAlgorithm != "":
		return u.ChecksumAlgorithm, u.ChecksumType
	case u.DefaultChecksum:
		return DefaultChecksumAlgorithm, ChecksumFullObject
	}
	return "", ""
}

// partRecord is an uploaded, durable part.
type partRecord struct {
	dataFile
	LastModified time.Time `json:"last_modified"`
	// Declared is a checksum the client declared (and the front end
	// verified) in another algorithm than the upload's; only uploads that
	// named no algorithm accept one.
	Declared *checksumRecord `json:"declared,omitempty"`
}

func (p *partRecord) part(alg string) Part {
	pt := Part{PartNumber: p.Part, ETag: p.ETag, Size: p.Size, LastModified: p.LastModified, CRC64: p.CRC64}
	if alg != "" && len(p.Checksum) > 0 {
		pt.Checksum = Checksum{Algorithm: alg, Type: ChecksumFullObject, Value: p.Checksum}
	}
	return pt
}

// uploadKey encodes (object key, upload id) so that byte order of the
// encoding is the order of (key, id): every 0x00 of the key becomes
// 0x00 0xFF and the key ends with 0x00 0x01.
func uploadKey(key, id string) []byte {
	b := make([]byte, 0, len(key)+2+len(id))
	for i := 0; i < len(key); i++ {
		b = append(b, key[i])
		if key[i] == 0 {
			b = append(b, 0xFF)
		}
	}
	b = append(b, 0x00, 0x01)
	return append(b, id...)
}

// uploadKeyPrefix is the encoding of key without terminator: every upload
// key of an object key >= key starts at or after it.
func uploadKeyPrefix(key string) []byte {
	full := uploadKey(key, "")
	return full[:len(full)-2]
}

func parseUploadKey(b []byte) (key, id string, ok bool) {
	var k []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			k = append(k, b[i])
			continue
		}
		if i+1 >= len(b) {
			return "", "", false
		}
		switch b[i+1] {
		case 0xFF:
			k = append(k, 0)
			i++
		case 0x01:
			return string(k), string(b[i+2:]), true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

func partKey(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

func decode[T any](v []byte, what string) (*T, error) {
	var r T
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("objstore: corrupt %s record: %w", what, err)
	}
	return &r, nil
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // only plain structs, maps of strings and byte slices: cannot fail
		panic(fmt.Sprintf("objstore: encoding record: %v", err))
	}
	return b
}

// prefixEnd returns the smallest byte string greater than every string
// starting with p, or nil when there is none (p is all 0xFF).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// ErrUnknownFormat reports a metadata database of a format this build does
// not read (a newer build's, or a corrupt format marker).
var ErrUnknownFormat = errors.New("objstore: unknown metadata format")

// ensureTables creates the top-level tables and checks the schema version.
// A new database is authenticated from the start; v1 to v3 databases are
// left to adoptLegacy.
func ensureTables(tx *bolt.Tx) error {
	for _, name := range [][]byte{tblMeta, tblBuckets, tblObjects, tblUploads, tblParts, tblVersions} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(tblMeta)
	switch v := string(meta.Get(keyFormat)); v {
	case "":
		return meta.Put(keyFormat, []byte(metaFormatAuthenticated))
	case metaFormat, metaFormatVersioned, metaFormatBinary, metaFormatAuthenticated:
		return nil
	default:
		return fmt.Errorf("%w: %q, this build reads %q, %q, %q and %q", ErrUnknownFormat, v,
			metaFormat, metaFormatVersioned, metaFormatBinary, metaFormatAuthenticated)
	}
}

// getBucketTx loads a bucket record.
func getBucketTx(tx *bolt.Tx, name string) (*bucketRecord, error) {
	v := tx.Bucket(tblBuckets).Get([]byte(name))
	if v == nil {
		return nil, nil
	}
	return decodeBucket(v)
}

// existingBucketTx loads a bucket record; a missing bucket is NoSuchBucket,
// which is what every request naming the bucket answers.
func existingBucketTx(tx *bolt.Tx, name string) (*bucketRecord, error) {
	b, err := getBucketTx(tx, name)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, noSuchBucket(name)
	}
	return b, nil
}

func uploadsTx(tx *bolt.Tx, bucket string) *bolt.Bucket {
	return tx.Bucket(tblUploads).Bucket([]byte(bucket))
}

func partsTx(tx *bolt.Tx, uploadID string) *bolt.Bucket {
	return tx.Bucket(tblParts).Bucket([]byte(uploadID))
}
