package osshttp

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
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
