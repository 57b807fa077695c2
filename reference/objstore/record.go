package objstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Object and bucket records are stored in a compact binary form: a HEAD
// reads one of each, and a listing one object record per entry, so their
// decoding is the reference's metadata cost per request (JSON decoding
// was most of a HEAD's CPU). Older builds wrote JSON, which always starts
// with '{'; a binary record starts with its format byte instead, so both
// are read and a JSON record is rewritten in binary the next time it is
// written (migration is lazy: reads never write). The first binary record
// marks the database metaFormatBinary, which older builds refuse to open.
//
// Format 1 (recBinary1) is the format byte followed by the fields in a
// fixed order: integers as varints (zig-zag for signed ones) except CRCs
// (8 bytes, little endian), strings and byte slices as a uvarint length
// and the bytes, times as seconds and nanoseconds since the Unix epoch
// (UTC), booleans packed in one flags byte. An empty byte slice reads
// back as nil, as it does from JSON (omitempty). A field added to a
// record needs a new format byte; TestRecordCodecCoversEveryField fails
// until the codec writes it.
const recBinary1 = 0x01

// metaFormatBinary was written with the first binary record by the
// builds before record authentication (metaFormatAuthenticated, which
// every database is once open).
const metaFormatBinary = "sseaudit/objstore/v3"

// putBucketRec stores the bucket record b.
func putBucketRec(tx *bolt.Tx, b *bucketRecord) error {
	return tx.Bucket(tblBuckets).Put([]byte(b.Name), encodeBucket(b))
}

// decodeObject reads an object or version record of any format WITHOUT
// verifying it: for adopting legacy records, for garbage collection
// (which only needs the file names, and keeps files of records that fail
// authentication) and for Check. Reads go through objTable, which
// verifies.
func decodeObject(v []byte, what string) (*objectRecord, error) {
	if len(v) > 0 && (v[0] == recBinary1 || v[0] == recBinary2) {
		body := v[1:]
		if v[0] == recBinary2 {
			if len(body) < macSize {
				return nil, fmt.Errorf("objstore: corrupt %s record: shorter than its tag", what)
			}
			body = body[macSize:]
		}
		r := &objectRecord{}
		if err := r.unmarshal(body, v[0]); err != nil {
			return nil, fmt.Errorf("objstore: corrupt %s record: %w", what, err)
		}
		return r, nil
	}
	return decode[objectRecord](v, what)
}

// decodeBucket reads a bucket record in either format.
func decodeBucket(v []byte) (*bucketRecord, error) {
	if len(v) > 0 && v[0] == recBinary1 {
		r := &bucketRecord{}
		if err := r.unmarshal(v[1:]); err != nil {
			return nil, fmt.Errorf("objstore: corrupt bucket record: %w", err)
		}
		return r, nil
	}
	return decode[bucketRecord](v, "bucket")
}

// ---- encoding ----

type recWriter struct{ b []byte }

func (w *recWriter) uint(v uint64)  { w.b = binary.AppendUvarint(w.b, v) }
func (w *recWriter) int(v int64)    { w.b = binary.AppendVarint(w.b, v) }
func (w *recWriter) u64(v uint64)   { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *recWriter) str(s string)   { w.uint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *recWriter) bytes(p []byte) { w.uint(uint64(len(p))); w.b = append(w.b, p...) }
func (w *recWriter) time(t time.Time) {
	w.int(t.Unix())
	w.uint(uint64(t.Nanosecond()))
}

const (
	flagMultipart = 1 << iota
	flagFaultPlaintext
	flagDeleteMarker
	flagChecksum
	flagRule
	flagBucketClass // a bucket record with a storage class other than Standard
	// flagACL and flagTags mark records that carry an ACL other than the
	// default or tags (after every other field). Records without them are
	// exactly what builds before ACLs and tags wrote; those builds refuse
	// a record with the flags (unknown flags) rather than drop the fields.
	flagACL
	flagTags
)

// flagAppendable marks an appendable object (AppendObject). Object
// records never use bucket records' flagRule bit, so it shares it: the
// object flags byte is otherwise full. Builds before appendable objects
// refuse such a record (unknown flag) rather than serve it as a normal
// object.
const flagAppendable = flagRule

// flagSymlink marks a symbolic link (PutSymlink); its target follows every
// other field. Object records never use bucket records' flagBucketClass
// bit, so it shares it; builds before links refuse such a record (unknown
// flag) rather than serve it as an empty object. It is the object flags
// byte's last free bit: the next object field needs a new format byte.
const flagSymlink = flagBucketClass

// flagSSECAllowed marks a bucket record whose rule allows SSE-C writes
// (EncryptionRule.AllowSSEC). Bucket records never use object records'
// flagMultipart bit, so it shares it; a rule that blocks SSE-C (the
// default) leaves the record as builds before SSE-C wrote it, and those
// builds refuse one that allows it (unknown flag) rather than block it.
const flagSSECAllowed = flagMultipart

// appendObjectBody appends the body (every field, after the format byte)
// of r in format (recBinary1 or recBinary2) to b. Format 2 is format 1
// followed by every data file's CRC32C (uvarint), which format 1 lacks.
func appendObjectBody(b []byte, r *objectRecord, format byte) []byte {
	w := recWriter{b: b}
	var flags byte
	if r.Multipart {
		flags |= flagMultipart
	}
	if r.FaultPlaintext {
		flags |= flagFaultPlaintext
	}
	if r.DeleteMarker {
		flags |= flagDeleteMarker
	}
	if r.Checksum != nil {
		flags |= flagChecksum
	}
	if r.ACL != "" {
		flags |= flagACL
	}
	if len(r.Tags) > 0 {
		flags |= flagTags
	}
	if r.Appendable {
		flags |= flagAppendable
	}
	if r.SymlinkTarget != "" {
		flags |= flagSymlink
	}
	w.b = append(w.b, flags)
	w.int(r.Size)
	w.str(r.ETag)
	w.time(r.LastModified)
	m := &r.objMeta
	for _, s := range [...]bstr{m.ContentType, m.CacheControl, m.ContentDisposition, m.ContentEncoding, m.ContentLanguage, m.Expires} {
		w.str(string(s))
	}
	w.uint(uint64(len(m.UserMetadata)))
	for _, p := range m.UserMetadata {
		w.str(string(p.K))
		w.str(string(p.V))
	}
	w.u64(r.CRC64)
	w.int(int64(r.PartsCount))
	w.str(r.StorageClass)
	if c := r.Checksum; c != nil {
		w.str(c.Algorithm)
		w.str(c.Type)
		w.bytes(c.Value)
		w.int(int64(c.Parts))
	}
	w.str(r.Algorithm)
	w.str(r.KMSKeyID)
	w.bytes(r.Record)
	w.uint(uint64(len(r.Files)))
	for _, f := range r.Files {
		w.str(f.Name)
		w.int(int64(f.Part))
		w.int(f.Size)
		w.int(f.Stored)
		w.str(f.ETag)
		w.u64(f.CRC64)
		w.bytes(f.Checksum)
	}
	w.str(r.VersionID)
	w.uint(r.Seq)
	if format == recBinary2 {
		for _, f := range r.Files {
			w.uint(f.CRC32C)
		}
	}
	if r.ACL != "" {
		w.str(r.ACL)
	}
	if len(r.Tags) > 0 {
		w.uint(uint64(len(r.Tags)))
		for _, t := range r.Tags {
			w.str(t.Key)
			w.str(t.Value)
		}
	}
	if r.SymlinkTarget != "" {
		w.str(r.SymlinkTarget)
	}
	return w.b
}

func encodeBucket(b *bucketRecord) []byte {
	w := recWriter{b: make([]byte, 0, 64+len(b.Name))}
	w.b = append(w.b, recBinary1)
	var flags byte
	if b.Rule != nil {
		flags |= flagRule
		if b.Rule.SSECAllowed {
			flags |= flagSSECAllowed
		}
	}
	// Only a class other than Standard sets the flag, so that records of
	// Standard buckets stay readable by builds from before bucket classes
	// (which refuse unknown flags rather than drop the class).
	hasClass := b.StorageClass != "" && b.StorageClass != StorageClassStandard
	if hasClass {
		flags |= flagBucketClass
	}
	hasACL := b.ACL != "" && b.ACL != ACLPrivate
	if hasACL {
		flags |= flagACL
	}
	w.b = append(w.b, flags)
	w.str(b.Name)
	w.str(b.Region)
	w.time(b.Created)
	w.str(b.Owner)
	if b.Rule != nil {
		w.str(string(b.Rule.Algorithm))
		w.str(string(b.Rule.KMSMasterKeyID))
		w.str(string(b.Rule.KMSDataEncryption))
	}
	w.str(b.Versioning)
	if hasClass {
		w.str(b.StorageClass)
	}
	if hasACL {
		w.str(b.ACL)
	}
	return w.b
}

// ---- decoding ----

var errShort = errors.New("truncated")

// recReader reads what recWriter wrote; the first failure sticks, so a
// decoder checks err once at the end. It never panics on any input.
type recReader struct {
	b   []byte
	err error
}

func (r *recReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *recReader) byte() byte {
	if len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *recReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// intN reads an int that must fit Go's int.
func (r *recReader) intN() int {
	v := r.int()
	if v > math.MaxInt32 || v < math.MinInt32 {
		r.fail(fmt.Errorf("integer %d out of range", v))
		return 0
	}
	return int(v)
}

func (r *recReader) u64() uint64 {
	if len(r.b) < 8 {
		r.fail(errShort)
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// raw returns the next length-prefixed bytes, aliasing the input.
func (r *recReader) raw() []byte {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail(errShort)
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *recReader) str() string { return string(r.raw()) }

// bytes copies the next byte slice (bbolt's memory is valid only during
// its transaction); empty is nil.
func (r *recReader) bytes() []byte {
	p := r.raw()
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

func (r *recReader) time() time.Time {
	sec := r.int()
	nsec := r.uint()
	if nsec >= 1e9 {
		r.fail(fmt.Errorf("nanoseconds %d out of range", nsec))
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// count reads a slice length, bounded by the bytes left (each element
// takes at least min bytes), so a corrupt length cannot allocate much.
func (r *recReader) count(min int) int {
	n := r.uint()
	if n > uint64(len(r.b)/min) {
		r.fail(fmt.Errorf("count %d exceeds the record", n))
		return 0
	}
	return int(n)
}

func (r *recReader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return r.err
}

func (o *objectRecord) unmarshal(b []byte, format byte) error {
	r := recReader{b: b}
	flags := r.byte()
	if flags&^(flagMultipart|flagFaultPlaintext|flagDeleteMarker|flagChecksum|flagACL|flagTags|flagAppendable|flagSymlink) != 0 {
		return fmt.Errorf("unknown flags %#x", flags)
	}
	o.Multipart, o.FaultPlaintext, o.DeleteMarker = flags&flagMultipart != 0, flags&flagFaultPlaintext != 0, flags&flagDeleteMarker != 0
	o.Appendable = flags&flagAppendable != 0
	o.Size = r.int()
	o.ETag = r.str()
	o.LastModified = r.time()
	m := &o.objMeta
	for _, s := range [...]*bstr{&m.ContentType, &m.CacheControl, &m.ContentDisposition, &m.ContentEncoding, &m.ContentLanguage, &m.Expires} {
		*s = bstr(r.raw())
	}
	if n := r.count(2); n > 0 {
		m.UserMetadata = make([]metaPair, n)
		for i := range m.UserMetadata {
			m.UserMetadata[i] = metaPair{K: bstr(r.raw()), V: bstr(r.raw())}
		}
	}
	o.CRC64 = r.u64()
	o.PartsCount = r.intN()
	o.StorageClass = r.str()
	if flags&flagChecksum != 0 {
		o.Checksum = &checksumRecord{Algorithm: r.str(), Type: r.str(), Value: r.bytes(), Parts: r.intN()}
	}
	o.Algorithm = r.str()
	o.KMSKeyID = r.str()
	o.Record = r.bytes()
	if n := r.count(14); n > 0 {
		o.Files = make([]dataFile, n)
		for i := range o.Files {
			f := &o.Files[i]
			f.Name = r.str()
			f.Part = r.intN()
			f.Size = r.int()
			f.Stored = r.int()
			f.ETag = r.str()
			f.CRC64 = r.u64()
			f.Checksum = r.bytes()
		}
	}
	o.VersionID = r.str()
	o.Seq = r.uint()
	if format == recBinary2 {
		for i := range o.Files {
			o.Files[i].CRC32C = r.uint()
		}
	}
	if flags&flagACL != 0 {
		o.ACL = r.str()
	}
	if flags&flagTags != 0 {
		if n := r.count(2); n > 0 {
			o.Tags = make([]tagRecord, n)
			for i := range o.Tags {
				o.Tags[i] = tagRecord{Key: r.str(), Value: r.str()}
			}
		} else {
			r.fail(errors.New("tags flag without tags"))
		}
	}
	if flags&flagSymlink != 0 {
		if o.SymlinkTarget = r.str(); o.SymlinkTarget == "" {
			r.fail(errors.New("symlink flag without a target"))
		}
	}
	return r.end()
}

func (b *bucketRecord) unmarshal(p []byte) error {
	r := recReader{b: p}
	flags := r.byte()
	if flags&^(flagRule|flagBucketClass|flagACL|flagSSECAllowed) != 0 || flags&(flagRule|flagSSECAllowed) == flagSSECAllowed {
		return fmt.Errorf("unknown flags %#x", flags)
	}
	b.Name = r.str()
	b.Region = r.str()
	b.Created = r.time()
	b.Owner = r.str()
	if flags&flagRule != 0 {
		b.Rule = &ruleRecord{Algorithm: bstr(r.raw()), KMSMasterKeyID: bstr(r.raw()), KMSDataEncryption: bstr(r.raw()),
			SSECAllowed: flags&flagSSECAllowed != 0}
	}
	b.Versioning = r.str()
	if flags&flagBucketClass != 0 {
		b.StorageClass = r.str()
	}
	if flags&flagACL != 0 {
		b.ACL = r.str()
	}
	return r.end()
}
