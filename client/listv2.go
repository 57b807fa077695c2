package client

import (
	"bytes"
	"encoding/xml"
	"net/url"
	"strconv"
	"time"

	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// A census lists every object once, and the v1 OSS SDK decodes each
// ListObjectsV2 page with encoding/xml's reflection: about 9 us of client
// CPU per entry, more than the rest of the listing and a fifth of a HEAD's
// client CPU, on a machine where the census and the endpoint share the
// cores. decodeListV2 reads the answers every endpoint gives (the
// reference's, OSS's: plain elements, the five XML entities and character
// references, printable ASCII since keys come URL-encoded) with a byte
// scanner, and hands anything else to the SDK's own decoding
// (xml.Unmarshal into oss.ListObjectsResultV2, then the URL-decoding the
// SDK applies), so every page decodes to what the SDK gives, errors
// included. FuzzListV2MatchesSDK holds the two equal.

// listV2Page is what a listing uses of one ListObjectsV2 answer.
type listV2Page struct {
	truncated bool
	next      string // NextContinuationToken, URL-decoded
	objects   []ObjectSummary
}

// decodeListV2 decodes one ListObjectsV2 answer (encoding-type=url) into
// p, reusing p.objects' storage.
func decodeListV2(data []byte, p *listV2Page) error {
	if (&listScanner{b: data}).page(p) {
		return nil
	}
	var out oss1.ListObjectsResultV2
	if err := xml.Unmarshal(data, &out); err != nil {
		return err
	}
	if err := unescapeListV2(&out); err != nil {
		return err
	}
	p.truncated, p.next, p.objects = out.IsTruncated, out.NextContinuationToken, p.objects[:0]
	for _, ob := range out.Objects {
		p.objects = append(p.objects, ObjectSummary{Key: ob.Key, Size: ob.Size, ETag: ob.ETag, LastModified: ob.LastModified, StorageClass: ob.StorageClass})
	}
	return nil
}

// unescapeListV2 is the SDK's decodeListObjectsResultV2 (unexported
// there), which Bucket.ListObjectsV2 applies to every answer.
func unescapeListV2(r *oss1.ListObjectsResultV2) error {
	var err error
	for _, s := range []*string{&r.Prefix, &r.StartAfter, &r.Delimiter, &r.NextContinuationToken} {
		if *s, err = url.QueryUnescape(*s); err != nil {
			return err
		}
	}
	for i := range r.Objects {
		if r.Objects[i].Key, err = url.QueryUnescape(r.Objects[i].Key); err != nil {
			return err
		}
	}
	for i := range r.CommonPrefixes {
		if r.CommonPrefixes[i], err = url.QueryUnescape(r.CommonPrefixes[i]); err != nil {
			return err
		}
	}
	return nil
}

// listScanner reads the common form of a ListObjectsV2 answer. Each
// method returns false on anything outside that form (a comment, CDATA,
// an attribute, a self-closing tag, a byte outside printable ASCII, tab
// and newline, a malformed or mismatched tag, a value the SDK's decoding
// would refuse), and the caller then decodes the answer the SDK's way:
// the fast path only ever answers what the SDK would.
type listScanner struct {
	b   []byte
	i   int
	tmp []byte // decoded text with entities
	// lastMod and lastModText cache the last LastModified parsed: the
	// objects of a page were often written in the same second.
	lastMod     time.Time
	lastModText []byte
}

// page decodes the whole answer into p.
func (s *listScanner) page(p *listV2Page) bool {
	p.truncated, p.next, p.objects = false, "", p.objects[:0]
	s.space()
	if bytes.HasPrefix(s.b[s.i:], []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		s.i += len(`<?xml version="1.0" encoding="UTF-8"?>`)
	}
	s.space()
	if name, ok := s.start(); !ok || string(name) != "ListBucketResult" {
		return false
	}
	var next string
	for {
		if _, ok := s.text(); !ok {
			return false
		}
		name, end, ok := s.tag()
		switch {
		case !ok:
			return false
		case end:
			// Past the root, encoding/xml reads no further.
			if string(name) != "ListBucketResult" {
				return false
			}
			// Fields the SDK URL-decodes, that a listing does not use,
			// are checked so that an answer the SDK refuses is refused.
			u, err := url.QueryUnescape(next)
			if err != nil {
				return false
			}
			p.next = u
			return true
		}
		switch string(name) {
		case "Contents":
			var o ObjectSummary
			if !s.contents(&o) {
				return false
			}
			p.objects = append(p.objects, o)
		case "IsTruncated":
			v, ok := s.leaf(name)
			if !ok {
				return false
			}
			if v = bytes.TrimSpace(v); len(v) == 0 {
				p.truncated = false
			} else if p.truncated, ok = parseBool(v); !ok {
				return false
			}
		case "NextContinuationToken":
			v, ok := s.leaf(name)
			if !ok {
				return false
			}
			next = string(v)
		case "MaxKeys":
			v, ok := s.leaf(name)
			if !ok || !validInt(v) {
				return false
			}
		case "Prefix", "StartAfter", "Delimiter":
			v, ok := s.leaf(name)
			if !ok || !validEscape(v) {
				return false
			}
		case "CommonPrefixes":
			if !s.commonPrefixes() {
				return false
			}
		default:
			if !s.skip(name) {
				return false
			}
		}
	}
}

// contents decodes one <Contents> element, its start tag read.
func (s *listScanner) contents(o *ObjectSummary) bool {
	for {
		if _, ok := s.text(); !ok {
			return false
		}
		name, end, ok := s.tag()
		switch {
		case !ok:
			return false
		case end:
			if string(name) != "Contents" {
				return false
			}
			k, err := url.QueryUnescape(o.Key)
			if err != nil {
				return false
			}
			o.Key = k
			return true
		}
		switch string(name) {
		case "Key", "ETag", "StorageClass", "Size", "LastModified", "Type", "RestoreInfo":
		default: // Owner, and what the SDK does not read
			if !s.skip(name) {
				return false
			}
			continue
		}
		v, ok := s.leaf(name)
		if !ok {
			return false
		}
		switch string(name) {
		case "Key":
			o.Key = string(v)
		case "ETag":
			o.ETag = string(v)
		case "StorageClass":
			o.StorageClass = storageClass(v)
		case "Size":
			o.Size = 0
			if len(v) > 0 {
				// encoding/xml reads an empty element as 0 but trims a
				// non-empty one and parses it, so blanks are an error.
				n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
				if err != nil {
					return false
				}
				o.Size = n
			}
		case "LastModified":
			if s.lastModText == nil || !bytes.Equal(v, s.lastModText) {
				var t time.Time
				if err := t.UnmarshalText(v); err != nil {
					return false
				}
				s.lastMod, s.lastModText = t, append(s.lastModText[:0], v...)
			}
			o.LastModified = s.lastMod
		}
	}
}

// commonPrefixes checks one <CommonPrefixes> element, its start tag
// read: the SDK URL-decodes each Prefix in it.
func (s *listScanner) commonPrefixes() bool {
	for {
		if _, ok := s.text(); !ok {
			return false
		}
		name, end, ok := s.tag()
		switch {
		case !ok:
			return false
		case end:
			return string(name) == "CommonPrefixes"
		case string(name) == "Prefix":
			if v, ok := s.leaf(name); !ok || !validEscape(v) {
				return false
			}
		default:
			if !s.skip(name) {
				return false
			}
		}
	}
}

// leaf reads the text of an element without children, its start tag
// read, and its end tag.
func (s *listScanner) leaf(name []byte) ([]byte, bool) {
	v, ok := s.text()
	if !ok {
		return nil, false
	}
	n, end, ok := s.tag()
	if !ok || !end || !bytes.Equal(n, name) {
		return nil, false
	}
	return v, true
}

// skip passes over an element's content and end tag, its start tag read.
func (s *listScanner) skip(name []byte) bool {
	var names [16][]byte // deeper than this: left to encoding/xml
	names[0] = name
	stack := names[:1]
	for len(stack) > 0 {
		if _, ok := s.text(); !ok {
			return false
		}
		n, end, ok := s.tag()
		switch {
		case !ok:
			return false
		case !end:
			if len(stack) == len(names) {
				return false
			}
			stack = append(stack, n)
		case !bytes.Equal(n, stack[len(stack)-1]):
			return false
		default:
			stack = stack[:len(stack)-1]
		}
	}
	return true
}

// space skips spaces, tabs and newlines.
func (s *listScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n') {
		s.i++
	}
}

// start reads a start tag.
func (s *listScanner) start() ([]byte, bool) {
	n, end, ok := s.tag()
	return n, ok && !end
}

// tag reads <name> or </name> (spaces allowed before the '>'); end says
// which.
func (s *listScanner) tag() (name []byte, end, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '<' {
		return nil, false, false
	}
	s.i++
	if s.i < len(s.b) && s.b[s.i] == '/' {
		end = true
		s.i++
	}
	j := s.i
	for s.i < len(s.b) && isNameByte(s.b[s.i], s.i == j) {
		s.i++
	}
	if s.i == j {
		return nil, false, false
	}
	name = s.b[j:s.i]
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '>' {
		return nil, false, false
	}
	s.i++
	return name, end, true
}

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		return true
	case c >= '0' && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

// text reads character data up to the next '<', entities decoded. The
// result is valid until the next call.
func (s *listScanner) text() ([]byte, bool) {
	j := s.i
	plain := true
	for ; s.i < len(s.b); s.i++ {
		c := s.b[s.i]
		if c == '<' {
			break
		}
		if c == '&' {
			plain = false
		} else if (c < 0x20 && c != '\t' && c != '\n') || c > 0x7e || c == ']' {
			// Control bytes, bytes of multi-byte characters (encoding/xml
			// checks their encoding), and "]]>", which it refuses.
			return nil, false
		}
	}
	if s.i >= len(s.b) {
		return nil, false // every text here is followed by a tag
	}
	raw := s.b[j:s.i]
	if plain {
		return raw, true
	}
	s.tmp = s.tmp[:0]
	for k := 0; k < len(raw); {
		c := raw[k]
		if c != '&' {
			s.tmp = append(s.tmp, c)
			k++
			continue
		}
		semi := bytes.IndexByte(raw[k:], ';')
		if semi < 0 {
			return nil, false
		}
		r, ok := entity(raw[k+1 : k+semi])
		if !ok {
			return nil, false
		}
		s.tmp = append(s.tmp, r)
		k += semi + 1
	}
	return s.tmp, true
}

// entity decodes a predefined entity or a character reference (between
// '&' and ';') to printable ASCII, tab or newline; anything else is left
// to encoding/xml.
func entity(e []byte) (byte, bool) {
	switch string(e) {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "apos":
		return '\'', true
	case "quot":
		return '"', true
	}
	if len(e) < 2 || e[0] != '#' || len(e) > 10 {
		return 0, false
	}
	digits, base := e[1:], uint64(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range digits {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		n = n*base + d
	}
	if (n >= 0x20 && n <= 0x7e) || n == '\t' || n == '\n' {
		return byte(n), true
	}
	return 0, false
}

// parseBool is strconv.ParseBool on bytes.
func parseBool(v []byte) (bool, bool) {
	b, err := strconv.ParseBool(string(v))
	return b, err == nil
}

// validInt says whether encoding/xml would read v into an int.
func validInt(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	_, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	return err == nil
}

// validEscape says whether url.QueryUnescape accepts v.
func validEscape(v []byte) bool {
	_, err := url.QueryUnescape(string(v))
	return err == nil
}

// storageClass returns v as a string, without allocating for the
// classes every listing repeats.
func storageClass(v []byte) string {
	for _, c := range [...]string{"Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive", "STANDARD"} {
		if string(v) == c {
			return c
		}
	}
	return string(v)
}
