package objstore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/sseaudit/sseaudit/reference/rootkey"
)

// Record authentication. Every object and version record is stored as
// format 2 (recBinary2):
//
//	record = 0x02 || tag || body
//	tag    = HMAC-SHA256(K, "sseaudit/objstore/record/v2" || BE32(len(bucket)) || bucket
//	                        || table || BE32(len(tableKey)) || tableKey || body)
//	K      = rootkey.DeriveKey("objstore/record-mac/v1")
//	         (HKDF-SHA256 of the root key, info "sseaudit/rootkey/derive/v1/objstore/record-mac/v1")
//
// body is the format 1 encoding (record.go) of every field of the record:
// size, ETag, times, descriptive metadata, CRC-64, checksum, algorithm
// ("" = none), KMS key id, the envelope record (which holds the key
// version or master version, sealed key, key commitment, upload id and
// version id), the part list (name, part number, plaintext and stored
// size, ETag, CRC-64 and checksum of every data file), version id,
// sequence and delete-marker flag. table is 'o' for the objects table
// (the current version) and 'v' for the versions table, and tableKey the
// bbolt key the record is stored under (the object key, or the object key
// and inverted sequence), so a record is authenticated at its position: a
// record copied to another bucket, key or slot (an old version put in the
// current slot) fails as surely as an edited one. Moving a version
// between the tables (a write retiring it, a delete promoting it) decodes
// and verifies it, then re-authenticates it at its new position.
//
// What it does not detect: a whole record replaced by an older copy of
// itself at the same position (rollback of one record, or of the whole
// database) and a deleted record; both need state kept outside the data
// directory. Bucket, upload and part records are not authenticated (an
// upload's part files are name-checked when completed and, encrypted,
// bound to their part numbers by the stream format).
const recBinary2 = 0x02

// RecordMACPurpose is the rootkey.DeriveKey purpose of the record MAC key.
const RecordMACPurpose = "objstore/record-mac/v1"

const (
	recordMACLabel = "sseaudit/objstore/record/v2"
	macSize        = sha256.Size
	tagObjects     = 'o'
	tagVersions    = 'v'
)

// metaFormatAuthenticated marks a database whose every object and version
// record is authenticated (format 2); older builds refuse to open it,
// and a record of another format in it is an integrity error.
const metaFormatAuthenticated = "sseaudit/objstore/v4"

// recordMAC computes record tags. Keyed HMAC states are pooled with a
// scratch buffer: a Reset HMAC restores its keyed state without rehashing
// the key, and the header and sum need no allocation, which keeps the
// tag's cost on a HEAD to a few SHA-256 blocks.
type recordMAC struct{ pool sync.Pool }

type macState struct {
	h   hash.Hash
	buf []byte
	sum [macSize]byte
}

func newRecordMAC(root *rootkey.Key) (*recordMAC, error) {
	key, err := root.DeriveKey(RecordMACPurpose)
	if err != nil {
		return nil, err
	}
	m := &recordMAC{}
	m.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key), buf: make([]byte, 0, 256)} }
	return m, nil
}

// compute sets st.sum to the tag of body stored at (bucket, table, tk).
func (st *macState) compute(bucket string, table byte, tk, body []byte) {
	st.h.Reset()
	b := append(st.buf[:0], recordMACLabel...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(bucket)))
	b = append(b, bucket...)
	b = append(b, table)
	b = binary.BigEndian.AppendUint32(b, uint32(len(tk)))
	b = append(b, tk...)
	st.h.Write(b)
	st.h.Write(body)
	st.h.Sum(st.sum[:0])
	if cap(b) <= 4096 { // keep the scratch buffer unless a huge key grew it
		st.buf = b
	}
}

// tag appends the tag of body stored at (bucket, table, tk) to dst.
func (m *recordMAC) tag(dst []byte, bucket string, table byte, tk, body []byte) []byte {
	st := m.pool.Get().(*macState)
	st.compute(bucket, table, tk, body)
	dst = append(dst, st.sum[:]...)
	m.pool.Put(st)
	return dst
}

// verify reports whether tag is the tag of body stored at (bucket, table, tk).
func (m *recordMAC) verify(tag []byte, bucket string, table byte, tk, body []byte) bool {
	st := m.pool.Get().(*macState)
	st.compute(bucket, table, tk, body)
	ok := hmac.Equal(st.sum[:], tag)
	m.pool.Put(st)
	return ok
}

// seal encodes rec as a format 2 record stored at (bucket, table, tk).
func (m *recordMAC) seal(bucket string, table byte, tk []byte, rec *objectRecord) []byte {
	b := make([]byte, 1+macSize, 1+macSize+160+len(rec.Record)+64*len(rec.Files))
	b[0] = recBinary2
	b = appendObjectBody(b, rec, recBinary2)
	m.tag(b[1:1], bucket, table, tk, b[1+macSize:])
	return b
}

// open verifies and decodes a record stored at (bucket, table, tk). A
// record that is not format 2, does not authenticate or does not decode
// is an *IntegrityError (wrapped in an *Error of KindIntegrity).
func (m *recordMAC) open(bucket string, table byte, tk, v []byte) (*objectRecord, error) {
	fail := func(check, detail string) (*objectRecord, error) {
		return nil, integrityAt(bucket, table, tk, check, detail)
	}
	switch {
	case len(v) == 0:
		return fail("record format", "empty record")
	case v[0] != recBinary2:
		return fail("record authentication", fmt.Sprintf("record of format %#x is not authenticated", v[0]))
	case len(v) < 1+macSize:
		return fail("record format", "record shorter than its tag")
	}
	if !m.verify(v[1:1+macSize], bucket, table, tk, v[1+macSize:]) {
		return fail("record authentication", "record tag does not match its content and position")
	}
	r := &objectRecord{}
	if err := r.unmarshal(v[1+macSize:], recBinary2); err != nil {
		// Authenticated but undecodable: written by a build with another
		// codec under the same key. Still never served.
		return fail("record format", err.Error())
	}
	if err := r.validate(); err != nil {
		return fail("record content", err.Error())
	}
	return r, nil
}

// validate checks what every record this store writes satisfies, so that
// a record that authenticates but breaks it (a bug, or a legacy record
// adopted as found) is never served: valid data file names, and encryption
// metadata present exactly when an algorithm is named.
func (r *objectRecord) validate() error {
	for _, f := range r.Files {
		if !validDataName(f.Name) {
			return fmt.Errorf("data file name %q is not one this store writes", f.Name)
		}
	}
	if r.DeleteMarker {
		if len(r.Files) != 0 || r.Record != nil || r.Algorithm != "" {
			return errors.New("delete marker with data or encryption")
		}
		return nil
	}
	if (r.Algorithm == "") != (r.Record == nil) && !r.FaultPlaintext {
		return fmt.Errorf("algorithm %q with %d bytes of encryption record", r.Algorithm, len(r.Record))
	}
	return nil
}

// objTable is an objects or versions table of one bucket: every record
// read through it is verified at its position, every record written
// through it authenticated.
type objTable struct {
	*bolt.Bucket
	bucket string
	table  byte
	mac    *recordMAC
}

// getRec returns the record under k, nil when there is none.
func (t *objTable) getRec(k []byte) (*objectRecord, error) {
	v := t.Get(k)
	if v == nil {
		return nil, nil
	}
	return t.mac.open(t.bucket, t.table, k, v)
}

// decode verifies v, read under k by a cursor.
func (t *objTable) decode(k, v []byte) (*objectRecord, error) {
	return t.mac.open(t.bucket, t.table, k, v)
}

// putRec stores rec under k, authenticated at that position.
func (t *objTable) putRec(k []byte, rec *objectRecord) error {
	return t.Put(k, t.mac.seal(t.bucket, t.table, k, rec))
}

func (s *DiskStore) objectsTx(tx *bolt.Tx, bucket string) *objTable {
	b := tx.Bucket(tblObjects).Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return &objTable{Bucket: b, bucket: bucket, table: tagObjects, mac: s.mac}
}

func (s *DiskStore) versionsTx(tx *bolt.Tx, bucket string) *objTable {
	t := tx.Bucket(tblVersions)
	if t == nil {
		return nil
	}
	b := t.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	return &objTable{Bucket: b, bucket: bucket, table: tagVersions, mac: s.mac}
}

// versionsTxCreate returns the bucket's versions table, creating it when
// needed. (The database is metaFormatAuthenticated, which builds without
// the versions table refuse, as they refused metaFormatVersioned.)
func (s *DiskStore) versionsTxCreate(tx *bolt.Tx, bucket string) (*objTable, error) {
	top, err := tx.CreateBucketIfNotExists(tblVersions)
	if err != nil {
		return nil, err
	}
	b, err := top.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return nil, err
	}
	return &objTable{Bucket: b, bucket: bucket, table: tagVersions, mac: s.mac}, nil
}

// IntegrityError reports stored state that fails the store's integrity
// checks: a record that does not authenticate at its position, a data
// file name the store never writes, a data file of the wrong size or
// whose plaintext does not match its stored CRC-64. It names what failed
// and where, never key material or data. Reads return it wrapped in an
// *Error of KindIntegrity (errors.As finds both).
type IntegrityError struct {
	Bucket, Key string
	// VersionID is the version the failing record claims or the read
	// addressed ("" when unknown or the null version); Table is "objects"
	// (current version) or "versions".
	VersionID, Table string
	// Check names what failed: "record authentication", "record format",
	// "record content", "data file name", "data file size", "plaintext
	// CRC-64", "data file missing".
	Check  string
	Detail string
}

func (e *IntegrityError) Error() string {
	s := fmt.Sprintf("objstore: integrity check %q failed for %s/%s", e.Check, e.Bucket, e.Key)
	if e.VersionID != "" {
		s += " version " + e.VersionID
	}
	if e.Table != "" {
		s += " (" + e.Table + " table)"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

const msgIntegrity = "The object's stored metadata or data failed an integrity check."

// integrityErr wraps ie in the *Error reads return.
func integrityErr(ie *IntegrityError) *Error {
	return newErr(KindIntegrity, objectRes(ie.Bucket, ie.Key), msgIntegrity, ie)
}

// integrityAt reports a failure of the record stored at (bucket, table, tk).
func integrityAt(bucket string, table byte, tk []byte, check, detail string) *Error {
	ie := &IntegrityError{Bucket: bucket, Key: string(tk), Table: "objects", Check: check, Detail: detail}
	if table == tagVersions {
		ie.Table = "versions"
		if key, seq, ok := parseUploadKey(tk); ok && len(seq) == 8 {
			ie.Key = key
			ie.VersionID = fmt.Sprintf("seq %d", ^binary.BigEndian.Uint64([]byte(seq)))
		}
	}
	return integrityErr(ie)
}

// IsIntegrity reports whether err is (or wraps) an *IntegrityError.
func IsIntegrity(err error) bool {
	var ie *IntegrityError
	return errors.As(err, &ie)
}
