package awskmshttp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
)

// SigV4 constants as AWS spells them.
const (
	signV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat   = "20060102T150405Z"
	scopeDateFormat = "20060102"
	serviceKMS      = "kms"
	scopeTerminator = "aws4_request"
)

// scope is the parsed Credential= value "AKID/yyyymmdd/region/service/aws4_request".
type scope struct {
	accessKeyID, date, region, service, terminator string
}

func (s scope) String() string {
	return s.date + "/" + s.region + "/" + s.service + "/" + s.terminator
}

// authHeader is a parsed SigV4 Authorization header.
type authHeader struct {
	cred      scope
	signed    []string
	signature string
}

func errIncompleteSig(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, CodeIncompleteSignature, format, args...)
}

func errInvalidSig(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, CodeInvalidSignature, format, args...)
}

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..."; the same grammar s3http accepts.
func parseAuthorization(v string) (authHeader, *apiError) {
	rest, ok := strings.CutPrefix(v, signV4Algorithm)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != ',') {
		return authHeader{}, errIncompleteSig("Authorization header requires the %s algorithm.", signV4Algorithm)
	}
	var a authHeader
	var haveCred, haveSH, haveSig bool
	for _, field := range strings.Split(rest, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		k, val, found := strings.Cut(field, "=")
		if !found {
			return authHeader{}, errIncompleteSig("Authorization header field %q is not of the form key=value.", truncate(field, 64))
		}
		switch strings.TrimSpace(k) {
		case "Credential":
			parts := strings.Split(val, "/")
			n := len(parts)
			if haveCred || n < 5 {
				return authHeader{}, errIncompleteSig("Authorization header requires a Credential of the form AKID/yyyymmdd/region/kms/aws4_request.")
			}
			a.cred = scope{accessKeyID: strings.Join(parts[:n-4], "/"), date: parts[n-4], region: parts[n-3], service: parts[n-2], terminator: parts[n-1]}
			if a.cred.accessKeyID == "" {
				return authHeader{}, errIncompleteSig("Authorization header requires a non-empty access key id in Credential.")
			}
			haveCred = true
		case "SignedHeaders":
			if haveSH || val == "" {
				return authHeader{}, errIncompleteSig("Authorization header requires one non-empty SignedHeaders list.")
			}
			a.signed = strings.Split(val, ";")
			for _, n := range a.signed {
				if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, ": \t") {
					return authHeader{}, errIncompleteSig("SignedHeaders must be a ';'-separated list of lower-case header names.")
				}
			}
			haveSH = true
		case "Signature":
			if haveSig {
				return authHeader{}, errIncompleteSig("Authorization header has Signature twice.")
			}
			a.signature, haveSig = val, true
		default:
			return authHeader{}, errIncompleteSig("Authorization header has an unknown field %q.", truncate(k, 64))
		}
	}
	if !haveCred || !haveSH || !haveSig {
		return authHeader{}, errIncompleteSig("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	return a, nil
}

// uriEncode is AWS's UriEncode: every byte but A-Z a-z 0-9 - _ . ~ is
// percent-encoded with upper-case hex.
func uriEncode(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		}
	}
	return b.String()
}

// canonicalQuery encodes and sorts the decoded query parameters.
func canonicalQuery(raw string) (string, bool) {
	if raw == "" {
		return "", true
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return "", false
	}
	var pairs []string
	for k, vs := range vals {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k)+"="+uriEncode(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&"), true
}

// canonicalHeaders renders the signed headers: "name:value\n" each, values
// trimmed with inner runs of spaces collapsed, several values joined by ",".
// Go moves Host and Content-Length out of r.Header, so they are read back
// from the request.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		vals := r.Header.Values(name)
		switch {
		case name == "host":
			vals = []string{r.Host}
		case name == "content-length" && len(vals) == 0 && r.ContentLength >= 0:
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.Join(strings.Fields(v), " "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// verifySigV4 authenticates r (path "/", body already read) by its SigV4
// Authorization header. The scope must name this endpoint's region and the
// service "kms"; host, x-amz-date and every x-amz-* header present (so
// X-Amz-Target, which chooses the operation) must be signed; the payload
// hash is computed here from the body, so a body changed in transit fails
// the signature. Errors are AWS's JSON-protocol authentication errors.
func (h *handler) verifySigV4(r *http.Request, authz string, body []byte) (auth.Credential, *apiError) {
	ah, e := parseAuthorization(authz)
	if e != nil {
		return auth.Credential{}, e
	}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		return auth.Credential{}, newErr(http.StatusBadRequest, CodeUnrecognizedClient,
			"The security token included in the request is invalid: this endpoint accepts long-term access keys only, not session tokens.")
	}
	cred, ok := h.cfg.Credentials.Lookup(ah.cred.accessKeyID)
	if !ok {
		return auth.Credential{}, newErr(http.StatusBadRequest, CodeUnrecognizedClient,
			"The security token included in the request is invalid.")
	}
	signed := make(map[string]bool, len(ah.signed))
	for _, n := range ah.signed {
		signed[n] = true
	}
	if !signed["host"] {
		return auth.Credential{}, errIncompleteSig("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return auth.Credential{}, errIncompleteSig("Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return auth.Credential{}, errIncompleteSig("X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'.")
	}
	if !signed["x-amz-date"] {
		return auth.Credential{}, errIncompleteSig("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	}
	var unsigned []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") && !signed[lk] {
			unsigned = append(unsigned, lk)
		}
	}
	if len(unsigned) > 0 {
		sort.Strings(unsigned)
		return auth.Credential{}, errIncompleteSig("Every x-amz-* header must be signed; not signed: %s.", strings.Join(unsigned, ", "))
	}
	switch {
	case ah.cred.date != t.Format(scopeDateFormat):
		return auth.Credential{}, errInvalidSig("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			truncate(ah.cred.date, 16), t.Format(scopeDateFormat), amzDate)
	case ah.cred.region != h.cfg.Region:
		return auth.Credential{}, errInvalidSig("Credential should be scoped to a valid region: this endpoint serves '%s', not '%s'.", h.cfg.Region, truncate(ah.cred.region, 64))
	case ah.cred.service != serviceKMS:
		return auth.Credential{}, errInvalidSig("Credential should be scoped to correct service: '%s'.", serviceKMS)
	case ah.cred.terminator != scopeTerminator:
		return auth.Credential{}, errInvalidSig("Credential should be scoped with a valid terminator: '%s', not '%s'.", scopeTerminator, truncate(ah.cred.terminator, 32))
	}
	now := h.cfg.Clock.Now().UTC()
	if now.Sub(t) > h.cfg.MaxSkew {
		return auth.Credential{}, errInvalidSig("Signature expired: %s is now earlier than %s (%s - %s).",
			amzDate, now.Add(-h.cfg.MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat), h.cfg.MaxSkew)
	}
	if t.Sub(now) > h.cfg.MaxSkew {
		return auth.Credential{}, errInvalidSig("Signature not yet current: %s is still later than %s (%s + %s).",
			amzDate, now.Add(h.cfg.MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat), h.cfg.MaxSkew)
	}
	payload := sha256Hex(body)
	if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" && !strings.EqualFold(v, payload) {
		return auth.Credential{}, errInvalidSig("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	query, ok := canonicalQuery(r.URL.RawQuery)
	if !ok {
		return auth.Credential{}, errIncompleteSig("The query string could not be parsed.")
	}
	canonical := r.Method + "\n/\n" + query + "\n" + canonicalHeaders(r, ah.signed) + "\n" + strings.Join(ah.signed, ";") + "\n" + payload
	sts := signV4Algorithm + "\n" + amzDate + "\n" + ah.cred.String() + "\n" + sha256Hex([]byte(canonical))
	k := hmacSHA256([]byte("AWS4"+cred.AccessKeySecret), ah.cred.date)
	k = hmacSHA256(k, ah.cred.region)
	k = hmacSHA256(k, ah.cred.service)
	k = hmacSHA256(k, ah.cred.terminator)
	want := hex.EncodeToString(hmacSHA256(k, sts))
	if !hmac.Equal([]byte(want), []byte(ah.signature)) {
		// Unlike AWS, the canonical request is not echoed: nothing secret
		// is in it, but the message stays short and stable.
		return auth.Credential{}, errInvalidSig("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return cred, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
