package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Summary is a snapshot without its objects: what ReadSummary returns and
// Writer.Summary reports. Buckets carry their headers and counts; their
// Objects are nil.
type Summary struct {
	Schema     string     `json:"schema"`
	Provenance Provenance `json:"provenance"`
	Keys       []Key      `json:"keys"`
	Coverage   Coverage   `json:"coverage"`
	FinishedAt time.Time  `json:"finished_at"`
	Complete   bool       `json:"complete"`
	Buckets    []Bucket   `json:"buckets"`
	// ObjectKeyIDs are the distinct KMS key references of the objects, in
	// order of first appearance (ReadSummary only: it reads every object;
	// not part of the file).
	ObjectKeyIDs []string `json:"-"`
	// Lean: the buckets were read by ReadLeanHeaders, without their raw
	// response bodies (not part of the file).
	Lean bool `json:"-"`
}

// ErrSchema is wrapped by the error for a document that is not a snapshot
// of this schema version.
var ErrSchema = errors.New("snapshot: unsupported schema")

// ErrFormat is wrapped by every error for a document that does not follow
// the layout (malformed or truncated JSON, unknown or missing members).
var ErrFormat = errors.New("snapshot: malformed document")

// ReadSummary reads path through once and returns everything but the
// objects. Memory is bounded by the number of buckets and keys, not
// objects. The schema is checked strictly: an unknown schema version,
// unknown members, missing members (objects' included), an object naming
// another bucket, or trailing data are errors.
func ReadSummary(path string) (Summary, error) { return readSummary(path, true, false) }

// ReadHeaders is ReadSummary without decoding the objects: each is only
// checked to be well-formed JSON. It is for readers that parse the objects
// themselves afterwards (EachRawBucket) and validate them with
// CheckObjectMembers.
func ReadHeaders(path string) (Summary, error) { return readSummary(path, false, false) }

// ReadLeanHeaders is ReadHeaders without the raw response bodies kept as
// evidence (Encryption.Raw, ACL.Raw and Policy.Raw; every fact parsed from
// them stays, RawSHA256 and RawTruncated included) of each bucket whose
// members holding them (encryption, acl, policy) precede its "objects"
// (as the Writer writes them), and with Lean set. Those bodies (a policy alone up to MaxPolicyRaw) are
// most of a bucket header; a reader that needs them while it evaluates a
// bucket gets them with the header StreamObjects passes to
// ObjectVisitor.Header before the bucket's first object. A bucket with one
// of those members after "objects" keeps its bodies here: a stream cannot
// give them before its objects.
func ReadLeanHeaders(path string) (Summary, error) { return readSummary(path, false, true) }

// ReadLeanSummary is ReadSummary (every object decoded and checked) with
// the buckets of ReadLeanHeaders, for a reader that needs only the
// summary's scan-wide facts.
func ReadLeanSummary(path string) (Summary, error) { return readSummary(path, true, true) }

func readSummary(path string, checkObjects, lean bool) (Summary, error) {
	var sum Summary
	var order bucketOrder
	keys := map[string]bool{}
	err := walk(path, &sum, func(s *byteScanner) error {
		s.objectKey = func(id string) {
			if !keys[id] {
				keys[id] = true
				sum.ObjectKeyIDs = append(sum.ObjectKeyIDs, id)
			}
		}
		return s.buckets(func(s *byteScanner, at int64) error {
			b, err := s.bucket(at, checkObjects, false, nil)
			if err != nil {
				return err
			}
			if err := order.next(s, at, b.Name); err != nil {
				return err
			}
			if lean && !s.lateMembers {
				*b = b.WithoutRaw()
			}
			sum.Buckets = append(sum.Buckets, *b)
			return nil
		})
	})
	if err != nil {
		return Summary{}, err
	}
	if sum.Buckets == nil {
		sum.Buckets = []Bucket{}
	}
	sum.Lean = lean
	return sum, nil
}

// rawMembers are the bucket members that hold a raw response body.
var rawMembers = map[string]bool{"encryption": true, "acl": true, "policy": true}

// EachBucket calls fn for every bucket of path in file order, with
// b.Objects holding that bucket's objects only; memory is bounded by the
// largest bucket. An error from fn stops the walk and is returned as is.
// The whole document is validated as for ReadSummary (a malformed tail is
// reported after the buckets before it were passed to fn). Keys come after
// the buckets in the file: read them with ReadSummary first when needed.
func EachBucket(path string, fn func(b Bucket) error) error {
	var sum Summary
	var order bucketOrder
	return walk(path, &sum, func(s *byteScanner) error {
		return s.buckets(func(s *byteScanner, at int64) error {
			b, err := s.bucket(at, true, true, nil)
			if err != nil {
				return err
			}
			if err := order.next(s, at, b.Name); err != nil {
				return err
			}
			return fn(*b)
		})
	})
}

// bucketOrder holds buckets to the layout: each once, in ascending byte
// order of name (what the Writer enforces, and what comparing two
// snapshots bucket by bucket relies on).
type bucketOrder struct{ last *string }

func (o *bucketOrder) next(s *byteScanner, at int64, name string) error {
	if o.last != nil && name <= *o.last {
		return fmt.Errorf("%w: %s: offset %d: bucket %q follows %q: buckets must appear once each, in ascending name order", ErrFormat, s.path, at, name, *o.last)
	}
	o.last = &name
	return nil
}

// EachRawBucket calls fn with the raw JSON of each bucket (a fresh slice fn
// may keep), in file order, and then validates the rest of the document.
// The buckets' contents are not checked: read the document with
// ReadHeaders first, and check each object with CheckObjectMembers.
func EachRawBucket(path string, fn func(raw []byte) error) error {
	var sum Summary
	return walk(path, &sum, func(s *byteScanner) error {
		size := 64 << 10
		return s.buckets(func(s *byteScanner, _ int64) error {
			s.maxKeep = 0 // a whole bucket, however large
			raw, err := s.value(make([]byte, 0, size), true)
			if err != nil {
				return err
			}
			size = max(len(raw)+len(raw)/8, 4<<10)
			return fn(raw)
		})
	})
}

// ObjectVisitor is what StreamObjects calls, in file order.
type ObjectVisitor struct {
	// Object is called with each object: the position of its bucket in the
	// file (0 for the first), its raw JSON (valid during the call only),
	// its offset in the file, and, when decoding, the object decoded and
	// checked (nil otherwise).
	Object func(bucket int, raw []byte, at int64, o *Object) error
	// EndBucket, when set, is called after each bucket's last object (also
	// for a bucket without objects) with its header and counts (Objects
	// nil).
	EndBucket func(bucket int, b *Bucket) error
	// Header, when set, is called before each bucket's first object (also
	// for a bucket without objects) with the header decoded from the
	// members that precede its "objects" in the file, raw bodies included
	// (in a file the Writer wrote: all but the counts and list_error,
	// which follow the objects). Members after "objects" are missing from
	// it (see ReadLeanHeaders). Header is not called when those members
	// do not decode (the bucket is then an error before EndBucket).
	Header func(bucket int, b *Bucket) error
}

// StreamObjects walks the buckets of path in file order one object at a
// time: memory holds one object, however large its bucket. With decode,
// objects are decoded and checked as ReadSummary checks them (and each
// bucket's counts against its objects); without, they are only checked
// to be JSON within the format's bounds, for a reader that parses them
// itself after ReadHeaders (holding them to CheckObjectMembers). The rest
// of the document is validated as by EachBucket. An error from v stops the
// walk and is returned as is.
func StreamObjects(path string, decode bool, v ObjectVisitor) error {
	var sum Summary
	var order bucketOrder
	i := 0
	return walk(path, &sum, func(s *byteScanner) error {
		if v.Header != nil {
			s.header = func(hdr []byte) error {
				b := &Bucket{}
				if strictDecode(hdr, b) != nil {
					return nil
				}
				return v.Header(i, b)
			}
		}
		return s.buckets(func(s *byteScanner, at int64) error {
			n := i
			b, err := s.bucket(at, decode, false, func(raw []byte, at int64, o *Object) error {
				return v.Object(n, raw, at, o)
			})
			if err != nil {
				return err
			}
			if err := order.next(s, at, b.Name); err != nil {
				return err
			}
			i++
			if v.EndBucket != nil {
				return v.EndBucket(n, b)
			}
			return nil
		})
	})
}

// ReadObjectAt reads the raw JSON of the object at offset at of path's
// file f (an offset StreamObjects gave), at most MaxObjectBytes.
func ReadObjectAt(f io.ReaderAt, path string, at int64) ([]byte, error) {
	s := newByteScanner(io.NewSectionReader(f, at, MaxObjectBytes+1), path)
	s.off = at
	s.maxKeep = MaxObjectBytes
	if c, err := s.peek(); err != nil {
		return nil, err
	} else if c != '{' {
		return nil, s.fail("no object at offset %d (the file changed?)", at)
	}
	return s.value(nil, true)
}

// Digest is the lowercase hex SHA-256 of the file at path (for provenance
// and signing).
func Digest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("snapshot: digest: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("snapshot: digest %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Top-level members in the order the Writer writes them; all are required.
var topMembers = []string{"schema", "provenance", "buckets", "keys", "coverage", "finished_at", "complete"}

// walk reads the document at path: the top-level members are decoded
// strictly into sum, and the buckets array is handed to buckets, which
// consumes it. The schema member must come first, so that a foreign or
// future document is refused before anything else is read.
func walk(path string, sum *Summary, buckets func(s *byteScanner) error) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return walkFrom(f, path, sum, buckets)
}

// walkFrom is walk over in; name is for errors.
func walkFrom(in io.Reader, path string, sum *Summary, buckets func(s *byteScanner) error) error {
	s := newByteScanner(in, path)
	if err := s.expect('{'); err != nil {
		return err
	}
	seen := map[string]bool{}
	var raw []byte
	for first := true; ; first = false {
		ok, err := s.more(first, '}')
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		k, err := s.key()
		if err != nil {
			return err
		}
		if first && k != "schema" {
			return fmt.Errorf("%w: %s: the first member is %q, not \"schema\": this is not an sseaudit snapshot", ErrSchema, path, k)
		}
		if seen[k] {
			return s.fail("member %q appears twice", k)
		}
		seen[k] = true
		if k == "buckets" {
			if err := buckets(s); err != nil {
				return err
			}
			continue
		}
		var v any
		switch k {
		case "schema":
			v = &sum.Schema
		case "provenance":
			v = &sum.Provenance
		case "keys":
			v = &sum.Keys
		case "coverage":
			v = &sum.Coverage
		case "finished_at":
			v = &sum.FinishedAt
		case "complete":
			v = &sum.Complete
		default:
			return s.fail("unknown member %q", k)
		}
		at := s.off + int64(s.pos)
		s.maxKeep = MaxMemberBytes
		if raw, err = s.value(raw[:0], true); err != nil {
			return err
		}
		if isNull(raw) {
			return fmt.Errorf("%w: %s: offset %d: member %q is null", ErrFormat, path, at, k)
		}
		if err := strictDecode(raw, v); err != nil {
			return fmt.Errorf("%w: %s: offset %d: %s: %v", ErrFormat, path, at, k, err)
		}
		if err := checkMembers(raw, reflect.TypeOf(v).Elem(), k); err != nil {
			return fmt.Errorf("%w: %s: offset %d: %v", ErrFormat, path, at, err)
		}
		if k == "schema" && sum.Schema != Schema {
			return fmt.Errorf("%w: %s has schema %q; this build reads %q only (use the sseaudit version that wrote it)", ErrSchema, path, sum.Schema, Schema)
		}
	}
	s.pos++ // }
	for _, m := range topMembers {
		if !seen[m] {
			return s.fail("member %q is missing (the document was not closed by its writer?)", m)
		}
	}
	if _, err := s.peek(); err == nil {
		return s.fail("data after the end of the document")
	} else if s.err != nil && !errors.Is(s.err, io.EOF) {
		return err
	}
	if sum.Keys == nil {
		sum.Keys = []Key{}
	}
	return nil
}

// buckets walks the buckets array, calling each with the scanner at the
// start of each bucket (at is its offset); each must consume the bucket.
func (s *byteScanner) buckets(each func(s *byteScanner, at int64) error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	for first := true; ; first = false {
		ok, err := s.more(first, ']')
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := each(s, s.off+int64(s.pos)); err != nil {
			return err
		}
	}
	s.pos++ // ]
	return nil
}

// bucket reads one bucket: the header is decoded strictly; its objects are
// decoded and checked when check (and kept when keep), else skipped, and
// passed to each when it is not nil (see objects).
func (s *byteScanner) bucket(at int64, check, keep bool, each objectFunc) (*Bucket, error) {
	if err := s.expect('{'); err != nil {
		return nil, err
	}
	s.maxKeep = MaxObjectBytes
	hdr := []byte{'{'}
	var raw []byte
	var objects []Object
	var n objectCounts
	name := ""
	seen := map[string]bool{}
	s.lateMembers = false
	for first := true; ; first = false {
		ok, err := s.more(first, '}')
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		k, err := s.key()
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, s.fail("bucket %q: member %q appears twice", name, k)
		}
		seen[k] = true
		if k == "objects" {
			if s.header != nil {
				if err := s.header(append(hdr[:len(hdr):len(hdr)], '}')); err != nil {
					return nil, err
				}
			}
			if objects, n, err = s.objects(name, check, keep, each); err != nil {
				return nil, err
			}
			continue
		}
		if seen["objects"] && rawMembers[k] {
			s.lateMembers = true
		}
		if raw, err = s.value(raw[:0], true); err != nil {
			return nil, err
		}
		if k == "name" {
			_ = json.Unmarshal(raw, &name)
		}
		if len(hdr) > 1 {
			hdr = append(hdr, ',')
		}
		kb, _ := json.Marshal(k)
		hdr = append(append(append(hdr, kb...), ':'), raw...)
	}
	s.pos++ // }
	hdr = append(hdr, '}')
	b := &Bucket{}
	if err := strictDecode(hdr, b); err != nil {
		return nil, fmt.Errorf("%w: %s: offset %d: bucket %q: %v", ErrFormat, s.path, at, name, err)
	}
	if !seen["objects"] {
		return nil, fmt.Errorf("%w: %s: offset %d: bucket %q: member \"objects\" is missing", ErrFormat, s.path, at, b.Name)
	}
	if err := checkMembers(hdr, reflect.TypeFor[Bucket](), fmt.Sprintf("bucket %q", name)); err != nil {
		return nil, fmt.Errorf("%w: %s: offset %d: %v", ErrFormat, s.path, at, err)
	}
	if b.Name == "" {
		return nil, fmt.Errorf("%w: %s: offset %d: a bucket has an empty name", ErrFormat, s.path, at)
	}
	if b.ObjectsListed < 0 || b.ObjectsInspected < 0 {
		return nil, fmt.Errorf("%w: %s: offset %d: bucket %q: negative object counts (%d listed, %d inspected)", ErrFormat, s.path, at, b.Name, b.ObjectsListed, b.ObjectsInspected)
	}
	if check {
		// What the Writer guarantees (EndBucket): inspected counts the
		// objects recorded without an error, and no more are recorded than
		// were listed. Coverage gaps are counted from these numbers.
		if n.recorded > b.ObjectsListed || n.inspected != b.ObjectsInspected {
			return nil, fmt.Errorf("%w: %s: offset %d: bucket %q: counts disagree with its objects: %d listed, %d inspected, but %d recorded of which %d without an error",
				ErrFormat, s.path, at, b.Name, b.ObjectsListed, b.ObjectsInspected, n.recorded, n.inspected)
		}
	}
	if keep {
		b.Objects = objects
		if b.Objects == nil {
			b.Objects = []Object{}
		}
	}
	return b, nil
}

// objectFunc receives one object as a stream reads it: its raw JSON (valid
// during the call only), its offset, and the object decoded when the
// stream decodes (nil otherwise).
type objectFunc func(raw []byte, at int64, o *Object) error

// objects reads a bucket's objects array (after its name: the Writer puts
// the name first, so each object can be checked against it), passing each
// object to each when it is not nil.
func (s *byteScanner) objects(bucket string, check, keep bool, each objectFunc) ([]Object, objectCounts, error) {
	var n objectCounts
	if c, err := s.peek(); err != nil {
		return nil, n, err
	} else if c != '[' {
		return nil, n, s.fail("bucket %q: objects: want an array", bucket)
	}
	if !check && each == nil {
		_, err := s.value(nil, false)
		return nil, n, err
	}
	if check && bucket == "" {
		return nil, n, s.fail("bucket objects come before the bucket's name")
	}
	s.pos++ // [
	var out []Object
	var raw []byte
	var scratch Object
	for first := true; ; first = false {
		ok, err := s.more(first, ']')
		if err != nil {
			return nil, n, err
		}
		if !ok {
			break
		}
		at := s.off + int64(s.pos)
		if raw, err = s.value(raw[:0], true); err != nil {
			return nil, n, err
		}
		if !check {
			if err := each(raw, at, nil); err != nil {
				return nil, n, err
			}
			continue
		}
		o := &scratch
		if keep {
			out = append(out, Object{})
			o = &out[len(out)-1]
		} else {
			scratch = Object{}
		}
		if err := decodeObject(raw, bucket, o); err != nil {
			return nil, n, fmt.Errorf("%w: %s: offset %d: %v", ErrFormat, s.path, at, err)
		}
		n.recorded++
		if o.Error == nil {
			n.inspected++
		}
		if o.KMSKeyID != "" && s.objectKey != nil {
			s.objectKey(o.KMSKeyID)
		}
		if each != nil {
			if err := each(raw, at, o); err != nil {
				return nil, n, err
			}
		}
	}
	s.pos++ // ]
	return out, n, nil
}

var nullJSON = []byte("null")

// objectCounts counts a bucket's object records, for its counts' check.
type objectCounts struct{ recorded, inspected int64 }

// decodeObject decodes one object of bucket strictly: no unknown member,
// every required member present, the bucket named right. (It is on the
// path of every object read, so it checks members on the raw bytes rather
// than through a second decoder.)
func decodeObject(raw []byte, bucket string, o *Object) error {
	if err := json.Unmarshal(raw, o); err != nil {
		return fmt.Errorf("bucket %q: object: %v", bucket, err)
	}
	if o.Error != nil || bytes.Contains(raw, nullJSON) {
		// The only nested member: hold it to its fields too, and refuse a
		// null the Writer never writes (rare, so the slower checks cost
		// nothing on the common path).
		if err := strictDecode(raw, &Object{}); err != nil {
			return fmt.Errorf("bucket %q: object %q: %v", bucket, o.Key, err)
		}
		if err := checkMembers(raw, reflect.TypeFor[Object](), fmt.Sprintf("bucket %q: object %q", bucket, o.Key)); err != nil {
			return err
		}
	}
	var seen uint64
	var unknown, twice []byte
	eachTopKey(raw, func(k []byte) bool {
		i, ok := objectMemberIndex[string(k)]
		switch {
		case !ok:
			unknown = k
			return false
		case seen&(1<<i) != 0:
			twice = k
			return false
		}
		seen |= 1 << i
		return true
	})
	if unknown != nil {
		return fmt.Errorf("bucket %q: object %q: unknown member %q", bucket, o.Key, unknown)
	}
	if twice != nil {
		return fmt.Errorf("bucket %q: object %q: member %q appears twice", bucket, o.Key, twice)
	}
	if o.Size < 0 {
		return fmt.Errorf("bucket %q: object %q: negative size %d", bucket, o.Key, o.Size)
	}
	if seen&objectRequiredMask != objectRequiredMask {
		err := CheckObjectMembers(func(m string) bool { return seen&(1<<objectMemberIndex[m]) != 0 })
		return fmt.Errorf("bucket %q: object %q: %v", bucket, o.Key, err)
	}
	if o.Bucket != bucket {
		return fmt.Errorf("object %q in bucket %q names bucket %q", o.Key, bucket, o.Bucket)
	}
	return nil
}

// objectRequired are the members every object has (the Writer always
// writes them: Object's fields without omitempty); objectOptional the
// others.
var objectRequired, objectOptional = objectMembers()

// objectMemberIndex numbers every member (required ones first), and
// objectRequiredMask has a bit for each required one.
var objectMemberIndex, objectRequiredMask = func() (map[string]int, uint64) {
	m := map[string]int{}
	for i, n := range append(slices.Clone(objectRequired), objectOptional...) {
		m[n] = i
	}
	return m, 1<<len(objectRequired) - 1
}()

func objectMembers() (req, opt []string) {
	t := reflect.TypeFor[Object]()
	for i := range t.NumField() {
		name, flags, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if strings.Contains(flags, "omitempty") {
			opt = append(opt, name)
		} else {
			req = append(req, name)
		}
	}
	return req, opt
}

// MemberKind is the JSON value an object member must hold, as ReadSummary's
// decoding holds it (for readers that parse objects themselves).
type MemberKind uint8

// Kinds of object members.
const (
	KindString MemberKind = iota + 1
	// KindInt is a JSON integer within int64 (and for size, not negative).
	KindInt
	KindBool
	// KindTime is an RFC 3339 string (CheckTime).
	KindTime
	// KindError is an Error object: readers hold an object with one to
	// CheckObject, as they do one with a null member.
	KindError
)

// ObjectMemberKinds maps every member of an object to its kind.
func ObjectMemberKinds() map[string]MemberKind {
	m := map[string]MemberKind{}
	t := reflect.TypeFor[Object]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Type == reflect.TypeFor[time.Time]():
			m[name] = KindTime
		case f.Type == reflect.TypeFor[*Error]():
			m[name] = KindError
		case f.Type.Kind() == reflect.String:
			m[name] = KindString
		case f.Type.Kind() == reflect.Bool:
			m[name] = KindBool
		case f.Type.Kind() == reflect.Int || f.Type.Kind() == reflect.Int64:
			m[name] = KindInt
		default:
			panic(fmt.Sprintf("snapshot: object member %s of type %s has no kind", name, f.Type))
		}
	}
	return m
}

// CheckTime reports whether s is a time as ReadSummary reads one (RFC
// 3339, strictly).
func CheckTime(s string) error {
	var t time.Time
	return t.UnmarshalText([]byte(s))
}

// CheckObject holds the raw JSON of an object of bucket to the format
// exactly as ReadSummary does (members, their values, the bucket it
// names), for readers that parse objects themselves and meet one they do
// not check member by member (an error member, a null).
func CheckObject(raw []byte, bucket string) error {
	return decodeObject(raw, bucket, &Object{})
}

// ObjectMembers lists the members an object of the format has: those it
// must have and those it may have. Readers that parse objects themselves
// check them with CheckObjectMembers.
func ObjectMembers() (required, optional []string) {
	return slices.Clone(objectRequired), slices.Clone(objectOptional)
}

// CheckObjectMembers reports the first required object member that has
// says is missing.
func CheckObjectMembers(has func(member string) bool) error {
	for _, m := range objectRequired {
		if !has(m) {
			return fmt.Errorf("member %q is missing", m)
		}
	}
	return nil
}

// eachTopKey calls fn with each member name of the JSON object raw (well
// formed, as json.Unmarshal just checked), without decoding its values,
// until fn returns false. Names are passed raw: a name with an escape
// reads as unknown, and no member name of the format has one.
func eachTopKey(raw []byte, fn func(k []byte) bool) {
	depth, inStr, start := 0, false, 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
				if depth == 1 {
					j := i + 1
					for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r') {
						j++
					}
					if j < len(raw) && raw[j] == ':' && !fn(raw[start:i]) {
						return
					}
				}
			}
			continue
		}
		switch c {
		case '"':
			inStr, start = true, i+1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
}
