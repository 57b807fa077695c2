package scan

import (
	"encoding/json"
	"hash/crc32"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sseaudit/sseaudit/snapshot"
)

// The checkpoint logs every object the snapshot receives, and
// encoding/json's reflection cost about 2.5 us of a census's CPU per
// object on top of the snapshot's own encoding. appendRecord writes the
// bytes json.Marshal writes (TestAppendRecordMatchesJSON holds them
// equal) directly for the record every object makes, an inspected or
// failed object whose strings need no escaping, and leaves every other
// record to encoding/json.

// appendRecord appends r's line, "CRC32C-HEX JSON\n", to b.
func appendRecord(b []byte, r *record) ([]byte, error) {
	start := len(b)
	b = append(b, "00000000 "...)
	js := len(b)
	var ok bool
	if b, ok = appendObjectRecord(b, r); !ok {
		b = b[:js]
		m, err := json.Marshal(r)
		if err != nil {
			return b[:start], err
		}
		b = append(b, m...)
	}
	sum := crc32.Checksum(b[js:], crcTable)
	const hexDigits = "0123456789abcdef"
	for i := 7; i >= 0; i-- {
		b[start+i] = hexDigits[sum&0xf]
		sum >>= 4
	}
	return append(b, '\n'), nil
}

// appendObjectRecord appends r as json.Marshal writes it when r is an
// object record of the common form; ok false otherwise (b is then to be
// cut back by the caller).
func appendObjectRecord(b []byte, r *record) (_ []byte, ok bool) {
	o := r.O
	if r.T != "o" || o == nil || r.B != nil || r.Listed != 0 || r.Inspected != 0 || r.ListError != nil || r.ScanID != "" || r.After != nil {
		return b, false
	}
	b = append(b, `{"t":"o"`...)
	if r.S != 0 {
		b = append(b, `,"s":`...)
		b = strconv.AppendInt(b, r.S, 10)
	}
	b = append(b, `,"o":{"bucket":`...)
	if b, ok = appendJSONString(b, o.Bucket); !ok {
		return b, false
	}
	b = append(b, `,"key":`...)
	if b, ok = appendJSONString(b, o.Key); !ok {
		return b, false
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, o.Size, 10)
	b = append(b, `,"etag":`...)
	if b, ok = appendJSONString(b, o.ETag); !ok {
		return b, false
	}
	b = append(b, `,"last_modified":`...)
	if b, ok = appendJSONTime(b, o.LastModified); !ok {
		return b, false
	}
	if o.VersionID != "" {
		b = append(b, `,"version_id":`...)
		if b, ok = appendJSONString(b, o.VersionID); !ok {
			return b, false
		}
	}
	if o.Noncurrent {
		b = append(b, `,"noncurrent":true`...)
	}
	if o.StorageClass != "" {
		b = append(b, `,"storage_class":`...)
		if b, ok = appendJSONString(b, o.StorageClass); !ok {
			return b, false
		}
	}
	b = append(b, `,"sse":`...)
	if b, ok = appendJSONString(b, o.SSE); !ok {
		return b, false
	}
	if o.KMSKeyID != "" {
		b = append(b, `,"kms_key_id":`...)
		if b, ok = appendJSONString(b, o.KMSKeyID); !ok {
			return b, false
		}
	}
	b = append(b, `,"method":`...)
	if b, ok = appendJSONString(b, o.Method); !ok {
		return b, false
	}
	if o.Error != nil {
		b = append(b, `,"error":`...)
		if b, ok = appendError(b, o.Error); !ok {
			return b, false
		}
	}
	if o.DataEncryption != "" {
		b = append(b, `,"data_encryption":`...)
		if b, ok = appendJSONString(b, o.DataEncryption); !ok {
			return b, false
		}
	}
	if o.Attempts != 0 {
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(o.Attempts), 10)
	}
	if o.ReadProbed {
		b = append(b, `,"read_probed":true`...)
	}
	if o.ReadError != nil {
		b = append(b, `,"read_error":`...)
		if b, ok = appendError(b, o.ReadError); !ok {
			return b, false
		}
	}
	return append(b, "}}"...), true
}

// appendError appends e as encoding/json marshals a snapshot.Error.
func appendError(b []byte, e *snapshot.Error) ([]byte, bool) {
	var ok bool
	b = append(b, `{"scope":`...)
	if b, ok = appendJSONString(b, e.Scope); !ok {
		return b, false
	}
	b = append(b, `,"resource":`...)
	if b, ok = appendJSONString(b, e.Resource); !ok {
		return b, false
	}
	if e.StatusCode != 0 {
		b = append(b, `,"status_code":`...)
		b = strconv.AppendInt(b, int64(e.StatusCode), 10)
	}
	if e.Code != "" {
		b = append(b, `,"code":`...)
		if b, ok = appendJSONString(b, e.Code); !ok {
			return b, false
		}
	}
	b = append(b, `,"message":`...)
	if b, ok = appendJSONString(b, e.Message); !ok {
		return b, false
	}
	if e.Attempts != 0 {
		b = append(b, `,"attempts":`...)
		b = strconv.AppendInt(b, int64(e.Attempts), 10)
	}
	return append(b, '}'), true
}

// appendJSONString appends s quoted when encoding/json writes it
// unescaped: printable ASCII other than '"', '\\' and the HTML-escaped
// '<', '>' and '&'. Anything else is left to encoding/json (ok false).
func appendJSONString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

// appendJSONTime appends t as time.Time.MarshalJSON does, for UTC times
// of the years it accepts (the census's times come from HTTP dates and
// listings, in UTC).
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	if _, off := t.Zone(); off != 0 {
		return b, false
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}
