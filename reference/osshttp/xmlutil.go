package osshttp

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var errTrailingXML = errors.New("osshttp: content after the XML document element")

// decodeXMLStrict decodes exactly one XML document into v: the root element
// must match v's XMLName, and nothing but white space, comments and
// processing instructions may follow it.
func decodeXMLStrict(body []byte, v any) error {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	if err := dec.Decode(v); err != nil {
		return err
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errTrailingXML
			}
		case xml.Comment, xml.ProcInst:
		default:
			return errTrailingXML
		}
	}
}

// readXMLBody reads a request body of at most max bytes (larger bodies are
// 400 MalformedXML) and checks its Content-MD5 when one is sent.
func readXMLBody(r *http.Request, max int64) ([]byte, *ossError) {
	if r.ContentLength > max {
		return nil, errMalformedXML()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, newErr(http.StatusBadRequest, CodeIncompleteBody, "The request body could not be read completely.")
	}
	if int64(len(body)) > max {
		return nil, errMalformedXML()
	}
	if e := checkContentMD5(r.Header, body); e != nil {
		return nil, e
	}
	return body, nil
}

// parseContentMD5 decodes the Content-MD5 header: nil when absent, 400
// InvalidDigest when it is not base64 of 16 bytes.
func parseContentMD5(h http.Header) ([]byte, *ossError) {
	vs := h.Values("Content-MD5")
	if len(vs) == 0 {
		return nil, nil
	}
	if len(vs) > 1 {
		return nil, newErr(http.StatusBadRequest, CodeInvalidDigest, msgInvalidDigest).withEC(ecMalformedDigest)
	}
	sum, err := base64.StdEncoding.DecodeString(strings.TrimSpace(vs[0]))
	if err != nil || len(sum) != md5.Size {
		return nil, newErr(http.StatusBadRequest, CodeInvalidDigest, msgInvalidDigest).withEC(ecMalformedDigest)
	}
	return sum, nil
}

func checkContentMD5(h http.Header, body []byte) *ossError {
	want, e := parseContentMD5(h)
	if e != nil || want == nil {
		return e
	}
	got := md5.Sum(body)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return newErr(http.StatusBadRequest, CodeInvalidDigest, msgInvalidDigest).withEC(ecInvalidDigest)
	}
	return nil
}

// ossTime formats a timestamp as OSS XML bodies do.
func ossTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// httpTime formats a timestamp as OSS headers do.
func httpTime(t time.Time) string {
	return t.UTC().Format(http.TimeFormat)
}

// quotedETag is the ETag as OSS sends it: upper-case, in double quotes.
func quotedETag(etag string) string {
	for i := 0; i < len(etag); i++ {
		if etag[i] >= 0x80 {
			return `"` + strings.ToUpper(etag) + `"` // Unicode case rules
		}
	}
	// ASCII (every ETag the store makes): one allocation, not two (HEAD
	// and every listing entry send one).
	var b strings.Builder
	b.Grow(len(etag) + 2)
	b.WriteByte('"')
	for i := 0; i < len(etag); i++ {
		c := etag[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// encodeName URL-encodes a key or prefix for encoding-type=url answers.
// Both SDKs decode with url.QueryUnescape, so '+' must be escaped and a
// space is written as %20.
func encodeName(s string, urlEncode bool) string {
	if !urlEncode {
		return s
	}
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// marshalXML renders a response document with the XML declaration.
func marshalXML(v any) ([]byte, error) {
	body, err := xml.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(xml.Header)+len(body))
	out = append(out, xml.Header...)
	return append(out, body...), nil
}

// writeEmpty sends a success answer without a body.
func writeEmpty(w http.ResponseWriter, status int) {
	if status != http.StatusNoContent && status != http.StatusNotModified {
		w.Header().Set("Content-Length", "0")
	}
	w.WriteHeader(status)
}

// refMark stands, in a request body prepared by markIllegalRefs, for a
// character that XML 1.0 cannot carry. It is a Unicode noncharacter, so
// encoding/xml accepts it; its own occurrences are marked too, which
// makes the mapping reversible whatever the keys hold.
const refMark = '\uFDD0'

// xmlCharAllowed reports whether XML 1.0 allows the character (the Char
// production, which encoding/xml enforces for references as well).
func xmlCharAllowed(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// markIllegalRefs prepares a body for encoding/xml, which refuses a
// character reference to a character XML 1.0 forbids. Both OSS SDKs
// write control characters in keys that way (&#x0C;, &#x1F;: the v1
// SDK's EscapeXml, the v2 SDK's escapeXml), and OSS accepts them, so the
// keys of objects such clients wrote can be deleted in a batch. Every such
// reference (outside comments, CDATA sections and processing
// instructions), every reference to refMark and every literal refMark
// becomes refMark followed by the code point as four upper-case hex
// digits; unmarkRefs restores the text after decoding. Everything else is
// copied unchanged, so a malformed body still fails to decode.
func markIllegalRefs(body []byte) []byte {
	const markLen = 3 // UTF-8 length of refMark
	var out []byte
	last := 0
	emit := func(from, to int, r rune) {
		if out == nil {
			out = make([]byte, 0, len(body)+64)
		}
		out = append(out, body[last:from]...)
		out = utf8.AppendRune(out, refMark)
		out = append(out, fmt.Sprintf("%04X", r)...)
		last = to
	}
	for i := 0; i < len(body); {
		switch {
		case bytes.HasPrefix(body[i:], []byte("<!--")):
			i = skipPast(body, i, "-->")
		case bytes.HasPrefix(body[i:], []byte("<![CDATA[")):
			// A literal refMark inside is marked like any other.
			end := skipPast(body, i, "]]>")
			for j := i; j < end; {
				if r, n := utf8.DecodeRune(body[j:]); r == refMark {
					emit(j, j+n, r)
					j += n
				} else {
					j += max(n, 1)
				}
			}
			i = end
		case bytes.HasPrefix(body[i:], []byte("<?")):
			i = skipPast(body, i, "?>")
		case body[i] == '&' && i+2 < len(body) && body[i+1] == '#':
			end := bytes.IndexByte(body[i:], ';')
			if end < 0 {
				return markedOrBody(out, body, last)
			}
			r, ok := parseCharRef(body[i+2 : i+end])
			if !ok {
				i += 2 // not a reference: encoding/xml will say so
				continue
			}
			if r == refMark || (!xmlCharAllowed(r) && r <= 0xFFFF) {
				emit(i, i+end+1, r)
			}
			i += end + 1
		default:
			r, n := utf8.DecodeRune(body[i:])
			if r == refMark && n == markLen {
				emit(i, i+n, r)
			}
			i += max(n, 1)
		}
	}
	return markedOrBody(out, body, last)
}

func markedOrBody(out, body []byte, last int) []byte {
	if out == nil {
		return body
	}
	return append(out, body[last:]...)
}

// skipPast returns the index just after the first end at or after i (or
// len(body)).
func skipPast(body []byte, i int, end string) int {
	if j := bytes.Index(body[i:], []byte(end)); j >= 0 {
		return i + j + len(end)
	}
	return len(body)
}

// parseCharRef reads the inside of "&#...;": "x" and hex digits, or
// decimal digits.
func parseCharRef(s []byte) (rune, bool) {
	base := 10
	if len(s) > 0 && s[0] == 'x' {
		base, s = 16, s[1:]
	}
	if len(s) == 0 || len(s) > 8 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s), base, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

var errMarkedChar = errors.New("osshttp: a character reference names a surrogate or no character")

// unmarkRefs reverses markIllegalRefs on decoded text. A reference to a
// surrogate (no character at all) is an error: it cannot be part of a key.
func unmarkRefs(s string) (string, error) {
	if !strings.ContainsRune(s, refMark) {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexRune(s, refMark)
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i+utf8.RuneLen(refMark):]
		if len(s) < 4 {
			return "", errMarkedChar
		}
		n, err := strconv.ParseUint(s[:4], 16, 32)
		if err != nil || (n >= 0xD800 && n <= 0xDFFF) {
			return "", errMarkedChar
		}
		b.WriteRune(rune(n))
		s = s[4:]
	}
}
