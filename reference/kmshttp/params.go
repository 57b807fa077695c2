package kmshttp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/kms"
)

// params are an action's decoded parameters (query and form body merged;
// every name occurs once).
type params map[string]string

// mergeParams decodes a raw query string and an optional form body into one
// map, refusing malformed encodings and parameters given more than once.
func mergeParams(rawQuery string, form []byte) (query, all params, e *kms.Error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, nil, newErr(http.StatusBadRequest, CodeInvalidParameter, "The query string is not valid URL encoding.")
	}
	query = make(params, len(q))
	all = make(params, len(q))
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, nil, errInvalid(k, "it is given more than once")
		}
		query[k] = vs[0]
		all[k] = vs[0]
	}
	if form == nil {
		return query, all, nil
	}
	f, err := url.ParseQuery(string(form))
	if err != nil {
		return nil, nil, newErr(http.StatusBadRequest, CodeInvalidParameter, "The form body is not valid URL encoding.")
	}
	for k, vs := range f {
		if _, dup := all[k]; dup || len(vs) != 1 {
			return nil, nil, errInvalid(k, "it is given more than once")
		}
		all[k] = vs[0]
	}
	return query, all, nil
}

// required returns a parameter that must be present and non-empty.
func (p params) required(name string) (string, *kms.Error) {
	v := p[name]
	if v == "" {
		return "", errMissing(name)
	}
	return v, nil
}

// optInt parses an optional 32-bit decimal integer; absent or empty is 0.
func (p params) optInt(name string) (int, *kms.Error) {
	v, ok := p[name]
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, errInvalid(name, "it must be a decimal integer")
	}
	return int(n), nil
}

// requiredInt parses a required 32-bit decimal integer.
func (p params) requiredInt(name string) (int, *kms.Error) {
	if p[name] == "" {
		return 0, errMissing(name)
	}
	return p.optInt(name)
}

// optBool parses an optional "true"/"false" (any case); absent is false.
func (p params) optBool(name string) (bool, *kms.Error) {
	switch strings.ToLower(p[name]) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, errInvalid(name, "it must be true or false")
}

// requiredBool parses a required "true"/"false".
func (p params) requiredBool(name string) (bool, *kms.Error) {
	if p[name] == "" {
		return false, errMissing(name)
	}
	return p.optBool(name)
}

// base64Value decodes a required standard-base64 parameter.
func (p params) base64Value(name string) ([]byte, *kms.Error) {
	v, e := p.required(name)
	if e != nil {
		return nil, e
	}
	b, err := base64.StdEncoding.Strict().DecodeString(v)
	if err != nil {
		return nil, errInvalid(name, "it is not valid standard base64")
	}
	return b, nil
}

// context parses an optional EncryptionContext: a JSON object whose values
// are strings. Absent, empty or "{}" is nil.
func (p params) context(name string) (map[string]string, *kms.Error) {
	v := p[name]
	if v == "" {
		return nil, nil
	}
	var raw map[string]any
	d := json.NewDecoder(strings.NewReader(v))
	if err := d.Decode(&raw); err != nil || raw == nil {
		return nil, errInvalid(name, "it must be a JSON object of string values")
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errInvalid(name, "it has data after the JSON object")
	}
	if len(raw) == 0 {
		return nil, nil
	}
	ctx := make(map[string]string, len(raw))
	for k, val := range raw {
		s, ok := val.(string)
		if !ok {
			return nil, errInvalid(name, "the value of "+strconv.Quote(k)+" is not a string")
		}
		ctx[k] = s
	}
	return ctx, nil
}

// page reads PageNumber and PageSize.
func (p params) page() (kms.Page, *kms.Error) {
	n, e := p.optInt("PageNumber")
	if e != nil {
		return kms.Page{}, e
	}
	s, e := p.optInt("PageSize")
	if e != nil {
		return kms.Page{}, e
	}
	return kms.Page{PageNumber: n, PageSize: s}, nil
}

// unsupported refuses parameters this emulator does not implement when
// they carry a value.
func (p params) unsupported(names ...string) *kms.Error {
	for _, n := range names {
		if p[n] != "" {
			return errUnsupported(n)
		}
	}
	return nil
}

// isForm reports whether a Content-Type is a URL-encoded form.
func isForm(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

// jsonBody encodes v as the SDK reads it (no HTML escaping).
func jsonBody(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
