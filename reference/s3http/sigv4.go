package s3http

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
)

// SigV4 constants, as AWS and the SDKs spell them.
const (
	signV4Algorithm          = "AWS4-HMAC-SHA256"
	streamingPayloadHdr      = "AWS4-HMAC-SHA256-PAYLOAD"
	streamingTrailerHdr      = "AWS4-HMAC-SHA256-TRAILER"
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingPayload         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingPayloadTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256              = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	iso8601Format            = "20060102T150405Z"
	yyyymmdd                 = "20060102"
	serviceS3                = "s3"
	scopeTerminator          = "aws4_request"
	maxPresignExpires        = 7 * 24 * 60 * 60 // seconds
)

// payloadMode is how the request body is protected.
type payloadMode int

const (
	payloadHex                      payloadMode = iota // x-amz-content-sha256 is the body's SHA-256
	payloadUnsigned                                    // UNSIGNED-PAYLOAD
	payloadStreamingSigned                             // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	payloadStreamingSignedTrailer                      // ...-PAYLOAD-TRAILER
	payloadStreamingUnsignedTrailer                    // STREAMING-UNSIGNED-PAYLOAD-TRAILER
)

func (m payloadMode) streaming() bool { return m >= payloadStreamingSigned }

// credentialScope is the parsed Credential= value.
type credentialScope struct {
	AccessKeyID string
	Date        string // yyyymmdd
	Region      string
	Service     string
	Terminator  string
}

func (c credentialScope) scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/" + c.Terminator
}

// authHeader is a parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..." Authorization header.
type authHeader struct {
	Credential    credentialScope
	SignedHeaders []string
	Signature     string
}

func errAuthMalformed(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; "+format, args...)
}

func errQueryAuth(format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, "AuthorizationQueryParametersError", format, args...)
}

// parseCredential splits "AK/yyyymmdd/region/service/aws4_request". The
// access key id is everything before the last four components.
func parseCredential(v string) (credentialScope, bool) {
	parts := strings.Split(v, "/")
	if len(parts) < 5 {
		return credentialScope{}, false
	}
	n := len(parts)
	c := credentialScope{
		AccessKeyID: strings.Join(parts[:n-4], "/"),
		Date:        parts[n-4], Region: parts[n-3], Service: parts[n-2], Terminator: parts[n-1],
	}
	if c.AccessKeyID == "" || c.Date == "" || c.Region == "" || c.Service == "" || c.Terminator == "" {
		return credentialScope{}, false
	}
	return c, true
}

// parseSignedHeaders splits a ';'-separated list of lower-case header names.
func parseSignedHeaders(v string) ([]string, bool) {
	if v == "" {
		return nil, false
	}
	names := strings.Split(v, ";")
	for _, n := range names {
		if n == "" || n != strings.ToLower(n) || !validHeaderName(n) {
			return nil, false
		}
	}
	return names, true
}

func validHeaderName(n string) bool {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// parseAuthorization parses a SigV4 Authorization header value. It checks
// syntax only; the scope is checked against the server by the caller.
func parseAuthorization(v string) (authHeader, *apiError) {
	rest, ok := strings.CutPrefix(v, signV4Algorithm)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != ',') {
		return authHeader{}, errAuthMalformed("the authorization mechanism is not %s", signV4Algorithm)
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
			return authHeader{}, errAuthMalformed("the field %q is not of the form key=value", truncate(field, 64))
		}
		switch strings.TrimSpace(k) {
		case "Credential":
			if haveCred {
				return authHeader{}, errAuthMalformed("Credential appears twice")
			}
			c, ok := parseCredential(val)
			if !ok {
				return authHeader{}, errAuthMalformed("a non-empty Access Key (AKID) must be provided in the credential.")
			}
			a.Credential, haveCred = c, true
		case "SignedHeaders":
			if haveSH {
				return authHeader{}, errAuthMalformed("SignedHeaders appears twice")
			}
			sh, ok := parseSignedHeaders(val)
			if !ok {
				return authHeader{}, errAuthMalformed("SignedHeaders is not a list of lower-case header names")
			}
			a.SignedHeaders, haveSH = sh, true
		case "Signature":
			if haveSig {
				return authHeader{}, errAuthMalformed("Signature appears twice")
			}
			a.Signature, haveSig = val, true
		default:
			return authHeader{}, errAuthMalformed("unknown field %q", truncate(k, 64))
		}
	}
	if !haveCred || !haveSH || !haveSig {
		return authHeader{}, errAuthMalformed("Credential, SignedHeaders and Signature are all required")
	}
	return a, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// authResult is an authenticated request.
type authResult struct {
	cred      auth.Credential
	presigned bool
	mode      payloadMode
	// contentSHA256 is the hex body hash when mode == payloadHex.
	contentSHA256 string
	// For streaming signatures: the seed signature, signing key, the
	// request timestamp and the scope.
	seedSignature string
	signingKey    []byte
	amzDate       string
	scope         string
	signedHeaders map[string]bool
}

// uriEncode is AWS's UriEncode: every byte except the unreserved characters
// A-Z a-z 0-9 - _ . ~ is percent-encoded with upper-case hex; '/' is kept
// when encodeSlash is false.
func uriEncode(s string, encodeSlash bool) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		}
	}
	return b.String()
}

// canonicalQuery builds the canonical query string from decoded pairs,
// leaving out skip (X-Amz-Signature for presigned requests).
func canonicalQuery(q []queryPair, skip string) string {
	enc := make([][2]string, 0, len(q))
	for _, p := range q {
		if skip != "" && p.Key == skip {
			continue
		}
		enc = append(enc, [2]string{uriEncode(p.Key, true), uriEncode(p.Value, true)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i][0] != enc[j][0] {
			return enc[i][0] < enc[j][0]
		}
		return enc[i][1] < enc[j][1]
	})
	var b strings.Builder
	for i, kv := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(kv[1])
	}
	return b.String()
}

// canonicalHeaders returns the canonical header block for the signed names.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		switch name {
		case "host":
			b.WriteString(strings.TrimSpace(r.Host))
		default:
			vals := r.Header.Values(name)
			if len(vals) == 0 && name == "content-length" && r.ContentLength >= 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
			if len(vals) == 0 && name == "transfer-encoding" && len(r.TransferEncoding) > 0 {
				vals = []string{strings.Join(r.TransferEncoding, ",")}
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strings.Join(strings.Fields(v), " "))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func signingKey(secret string, c credentialScope) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.Date)
	k = hmacSHA256(k, c.Region)
	k = hmacSHA256(k, c.Service)
	return hmacSHA256(k, c.Terminator)
}

func stringToSign(amzDate, scope, canonicalRequest string) string {
	return signV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonicalRequest))
}

// signatureEqual compares a computed signature (lower-case hex) with the
// one the client sent, in constant time.
func signatureEqual(computed []byte, provided string) bool {
	want := hex.EncodeToString(computed)
	return hmac.Equal([]byte(want), []byte(provided))
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// parsePayloadHash classifies an x-amz-content-sha256 value.
func parsePayloadHash(v string) (payloadMode, bool) {
	switch v {
	case unsignedPayload:
		return payloadUnsigned, true
	case streamingPayload:
		return payloadStreamingSigned, true
	case streamingPayloadTrailer:
		return payloadStreamingSignedTrailer, true
	case streamingUnsignedTrailer:
		return payloadStreamingUnsignedTrailer, true
	}
	if isHex64(v) {
		return payloadHex, true
	}
	return 0, false
}

// canonicalURIs returns the candidate canonical URIs: S3's encoding of the
// decoded path (what minio-go and the AWS SDKs compute) and, when it
// differs, the path exactly as it arrived on the wire.
func canonicalURIs(r *http.Request) []string {
	p := r.URL.Path
	if p == "" {
		p = "/"
	}
	first := uriEncode(p, false)
	out := []string{first}
	raw := r.RequestURI
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	if raw == "" {
		raw = "/"
	}
	if strings.HasPrefix(raw, "/") && raw != first {
		out = append(out, raw)
	}
	return out
}

// verifySignature checks sig against every candidate canonical request and
// returns the string to sign of the first candidate for error reports.
func verifySignature(r *http.Request, key []byte, amzDate, scope, query string, signed []string, payload, provided string) (bool, string) {
	hdrs := canonicalHeaders(r, signed)
	sh := strings.Join(signed, ";")
	var first string
	for i, uri := range canonicalURIs(r) {
		cr := r.Method + "\n" + uri + "\n" + query + "\n" + hdrs + "\n" + sh + "\n" + payload
		sts := stringToSign(amzDate, scope, cr)
		if i == 0 {
			first = sts
		}
		if signatureEqual(hmacSHA256(key, sts), provided) {
			return true, sts
		}
	}
	return false, first
}

func errSignatureMismatch(ak, sts, provided string) *apiError {
	return newErr(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.").
		with("AWSAccessKeyId", ak).with("StringToSign", sts).with("SignatureProvided", truncate(provided, 128))
}

func errInvalidAccessKey(ak string) *apiError {
	return newErr(http.StatusForbidden, "InvalidAccessKeyId",
		"The AWS Access Key Id you provided does not exist in our records.").with("AWSAccessKeyId", truncate(ak, 128))
}

// authenticate verifies the request's SigV4 signature (header or query)
// and returns who sent it.
func (h *handler) authenticate(r *http.Request, q []queryPair, qv map[string][]string) (*authResult, *apiError) {
	authz := r.Header.Get("Authorization")
	_, presign := qv["X-Amz-Algorithm"]
	switch {
	case authz != "" && presign:
		return nil, errInvalidArgument("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	case presign:
		return h.authPresigned(r, q, qv)
	case authz == "":
		if _, ok := qv["AWSAccessKeyId"]; ok {
			return h.authV2Query(r, q, qv)
		}
		if _, ok := qv["Signature"]; ok {
			return nil, errAccessDenied("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
		}
		return nil, errAccessDenied("Anonymous access is not allowed: sign the request with AWS Signature Version 4")
	case strings.HasPrefix(authz, signV2Prefix):
		if _, ok := qv["AWSAccessKeyId"]; ok {
			return nil, errInvalidArgument("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
		}
		return h.authV2Header(r, q, authz)
	case !strings.HasPrefix(authz, signV4Algorithm):
		return nil, errInvalidRequest("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256 or AWS (Signature Version 2).")
	}
	return h.authHeader(r, q, authz)
}

func (h *handler) checkScope(c credentialScope, date time.Time, mk func(string, ...any) *apiError) *apiError {
	if c.Date != date.Format(yyyymmdd) {
		return mk("Invalid credential date %q. This date is not the same as X-Amz-Date: %q.", truncate(c.Date, 16), date.Format(yyyymmdd))
	}
	if c.Region != h.cfg.Region {
		return mk("the region '%s' is wrong; expecting '%s'", truncate(c.Region, 64), h.cfg.Region).with("Region", h.cfg.Region)
	}
	if c.Service != serviceS3 {
		return mk("incorrect service %q. This endpoint belongs to %q.", truncate(c.Service, 32), serviceS3)
	}
	if c.Terminator != scopeTerminator {
		return mk("incorrect terminal %q. This endpoint uses %q.", truncate(c.Terminator, 32), scopeTerminator)
	}
	return nil
}

// requireSignedAmzHeaders refuses x-amz-* headers the client did not sign,
// as S3 does: an unsigned header (such as an encryption request) could have
// been added in transit.
func requireSignedAmzHeaders(r *http.Request, signed map[string]bool) *apiError {
	var missing []string
	for k := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") && !signed[lk] {
			missing = append(missing, lk)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return errAccessDenied("There were headers present in the request which were not signed").
		with("HeadersNotSigned", strings.Join(missing, ", "))
}

func (h *handler) authHeader(r *http.Request, q []queryPair, authz string) (*authResult, *apiError) {
	ah, aerr := parseAuthorization(authz)
	if aerr != nil {
		return nil, aerr
	}
	cred, ok := h.cfg.Credentials.Lookup(ah.Credential.AccessKeyID)
	if !ok {
		return nil, errInvalidAccessKey(ah.Credential.AccessKeyID)
	}
	signed := make(map[string]bool, len(ah.SignedHeaders))
	for _, n := range ah.SignedHeaders {
		signed[n] = true
	}
	if !signed["host"] {
		return nil, errAuthMalformed("the host header must be signed")
	}
	// The request time: X-Amz-Date, else Date.
	var amzDate string
	var t time.Time
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		pt, err := time.Parse(iso8601Format, v)
		if err != nil {
			return nil, errAccessDenied("AWS authentication requires a valid Date or x-amz-date header")
		}
		amzDate, t = v, pt
	} else if v := r.Header.Get("Date"); v != "" {
		pt, err := http.ParseTime(v)
		if err != nil || !signed["date"] {
			return nil, errAccessDenied("AWS authentication requires a valid Date or x-amz-date header")
		}
		t = pt.UTC()
		amzDate = t.Format(iso8601Format)
	} else {
		return nil, errAccessDenied("AWS authentication requires a valid Date or x-amz-date header")
	}
	if aerr := h.checkScope(ah.Credential, t, errAuthMalformed); aerr != nil {
		return nil, aerr
	}
	now := h.cfg.Clock.Now()
	if d := now.Sub(t); d > h.cfg.MaxSkew || d < -h.cfg.MaxSkew {
		return nil, newErr(http.StatusForbidden, "RequestTimeTooSkewed",
			"The difference between the request time and the current time is too large.").
			with("RequestTime", t.UTC().Format(iso8601Format)).with("ServerTime", now.UTC().Format(iso8601Format)).
			with("MaxAllowedSkewMilliseconds", strconv.FormatInt(h.cfg.MaxSkew.Milliseconds(), 10))
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		return nil, errInvalidRequest("Missing required header for this request: x-amz-content-sha256")
	}
	mode, ok := parsePayloadHash(payload)
	if !ok {
		return nil, errInvalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
	}
	key := signingKey(cred.AccessKeySecret, ah.Credential)
	scope := ah.Credential.scope()
	okSig, sts := verifySignature(r, key, amzDate, scope, canonicalQuery(q, ""), ah.SignedHeaders, payload, ah.Signature)
	if !okSig {
		return nil, errSignatureMismatch(ah.Credential.AccessKeyID, sts, ah.Signature)
	}
	if aerr := requireSignedAmzHeaders(r, signed); aerr != nil {
		return nil, aerr
	}
	res := &authResult{cred: cred, mode: mode, seedSignature: ah.Signature, signingKey: key, amzDate: amzDate, scope: scope, signedHeaders: signed}
	if mode == payloadHex {
		res.contentSHA256 = strings.ToLower(payload)
	}
	return res, nil
}

func (h *handler) authPresigned(r *http.Request, q []queryPair, qv map[string][]string) (*authResult, *apiError) {
	get := func(k string) (string, bool) {
		v, ok := qv[k]
		if !ok || len(v) != 1 {
			return "", false
		}
		return v[0], true
	}
	alg, ok1 := get("X-Amz-Algorithm")
	credV, ok2 := get("X-Amz-Credential")
	dateV, ok3 := get("X-Amz-Date")
	expV, ok4 := get("X-Amz-Expires")
	shV, ok5 := get("X-Amz-SignedHeaders")
	sig, ok6 := get("X-Amz-Signature")
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return nil, errQueryAuth("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	}
	if alg != signV4Algorithm {
		return nil, errQueryAuth("X-Amz-Algorithm only supports \"%s\"", signV4Algorithm)
	}
	c, ok := parseCredential(credV)
	if !ok {
		return nil, errQueryAuth("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	t, err := time.Parse(iso8601Format, dateV)
	if err != nil {
		return nil, errQueryAuth("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	exp, err := strconv.ParseInt(expV, 10, 64)
	if err != nil || exp < 0 {
		return nil, errQueryAuth("X-Amz-Expires should be a number")
	}
	if exp > maxPresignExpires {
		return nil, errQueryAuth("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	signedList, ok := parseSignedHeaders(shV)
	if !ok {
		return nil, errQueryAuth("X-Amz-SignedHeaders is not a list of lower-case header names")
	}
	signed := make(map[string]bool, len(signedList))
	for _, n := range signedList {
		signed[n] = true
	}
	if !signed["host"] {
		return nil, errQueryAuth("X-Amz-SignedHeaders must include host")
	}
	cred, ok := h.cfg.Credentials.Lookup(c.AccessKeyID)
	if !ok {
		return nil, errInvalidAccessKey(c.AccessKeyID)
	}
	qerr := func(format string, args ...any) *apiError {
		return errQueryAuth("Error parsing the X-Amz-Credential parameter; "+format, args...)
	}
	if aerr := h.checkScope(c, t, qerr); aerr != nil {
		return nil, aerr
	}
	now := h.cfg.Clock.Now()
	if t.Sub(now) > h.cfg.MaxSkew {
		return nil, errAccessDenied("Request is not valid yet")
	}
	if now.After(t.Add(time.Duration(exp) * time.Second)) {
		return nil, errAccessDenied("Request has expired").
			with("X-Amz-Expires", expV).with("Expires", t.Add(time.Duration(exp)*time.Second).Format(iso8601Format)).
			with("ServerTime", now.UTC().Format(iso8601Format))
	}
	payload := unsignedPayload
	if v, ok := get("X-Amz-Content-Sha256"); ok {
		payload = v
	} else if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" && signed["x-amz-content-sha256"] {
		payload = v
	}
	mode, ok := parsePayloadHash(payload)
	if !ok || mode.streaming() {
		return nil, errInvalidArgument("a presigned request's payload hash must be UNSIGNED-PAYLOAD or a sha256 value")
	}
	key := signingKey(cred.AccessKeySecret, c)
	okSig, sts := verifySignature(r, key, dateV, c.scope(), canonicalQuery(q, "X-Amz-Signature"), signedList, payload, sig)
	if !okSig {
		return nil, errSignatureMismatch(c.AccessKeyID, sts, sig)
	}
	if aerr := requireSignedAmzHeaders(r, signed); aerr != nil {
		return nil, aerr
	}
	res := &authResult{cred: cred, presigned: true, mode: mode, signingKey: key, amzDate: dateV, scope: c.scope(), signedHeaders: signed}
	if mode == payloadHex {
		res.contentSHA256 = strings.ToLower(payload)
	}
	return res, nil
}
