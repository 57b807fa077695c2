package osshttp

import (
	"encoding/xml"
	"strconv"
)

// A census lists every object once, so ListObjectsV2 pages are the
// reference's second most frequent answer after HEAD; encoding/xml's
// reflection cost about 3 us per entry. marshalListV2 writes the same
// bytes as marshalXML (TestListV2XMLMatchesEncodingXML holds them equal)
// directly.

// xmlText appends s as XML character data, escaped as encoding/xml
// escapes it.
func xmlText(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&' || c == '\'' || c == '"' {
			plain = false
			if c > 0x7e || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
				// Multi-byte characters (or invalid UTF-8) and other
				// control bytes: encoding/xml's rules.
				w := appendWriter{b}
				_ = xml.EscapeText(&w, []byte(s))
				return w.b
			}
		}
	}
	if plain { // printable ASCII that needs no escape: most keys
		return append(b, s...)
	}
	// Printable ASCII, tab and line ends, with the escapes
	// xml.EscapeText writes (an ETag's quotes, in every listing entry).
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b = append(b, "&#34;"...)
		case '\'':
			b = append(b, "&#39;"...)
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '\t':
			b = append(b, "&#x9;"...)
		case '\n':
			b = append(b, "&#xA;"...)
		case '\r':
			b = append(b, "&#xD;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// xmlElem appends <name>text</name>.
func xmlElem(b []byte, name, text string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = xmlText(b, text)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, '>')
}

func xmlElemInt(b []byte, name string, v int64) []byte {
	return xmlElem(b, name, strconv.FormatInt(v, 10))
}

// marshalListV2 is marshalXML(out).
func marshalListV2(out *xmlListBucketResultV2) []byte {
	b := make([]byte, 0, 512+300*len(out.Contents))
	b = append(b, xml.Header...)
	b = append(b, "<ListBucketResult>"...)
	b = xmlElem(b, "Name", out.Name)
	b = xmlElem(b, "Prefix", out.Prefix)
	if out.StartAfter != "" {
		b = xmlElem(b, "StartAfter", out.StartAfter)
	}
	if out.ContinuationToken != "" {
		b = xmlElem(b, "ContinuationToken", out.ContinuationToken)
	}
	b = xmlElemInt(b, "MaxKeys", int64(out.MaxKeys))
	b = xmlElem(b, "Delimiter", out.Delimiter)
	b = xmlElem(b, "IsTruncated", strconv.FormatBool(out.IsTruncated))
	if out.NextContinuationToken != "" {
		b = xmlElem(b, "NextContinuationToken", out.NextContinuationToken)
	}
	if out.EncodingType != "" {
		b = xmlElem(b, "EncodingType", out.EncodingType)
	}
	b = xmlElemInt(b, "KeyCount", int64(out.KeyCount))
	for i := range out.Contents {
		c := &out.Contents[i]
		b = append(b, "<Contents>"...)
		b = xmlElem(b, "Key", c.Key)
		b = xmlElem(b, "LastModified", c.LastModified)
		b = xmlElem(b, "ETag", c.ETag)
		b = xmlElem(b, "Type", c.Type)
		b = xmlElemInt(b, "Size", c.Size)
		b = xmlElem(b, "StorageClass", c.StorageClass)
		if c.Owner != nil {
			b = append(b, "<Owner>"...)
			b = xmlElem(b, "ID", c.Owner.ID)
			b = xmlElem(b, "DisplayName", c.Owner.DisplayName)
			b = append(b, "</Owner>"...)
		}
		b = append(b, "</Contents>"...)
	}
	for _, p := range out.CommonPrefixes {
		b = append(b, "<CommonPrefixes>"...)
		b = xmlElem(b, "Prefix", p.Prefix)
		b = append(b, "</CommonPrefixes>"...)
	}
	return append(b, "</ListBucketResult>"...)
}
