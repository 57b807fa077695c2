package kmshttp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/kms"
)

// Signature schemes, as reported in logs.
const (
	schemeACS3 = "ACS3-HMAC-SHA256"
	schemeRPC  = "HMAC-SHA1"
)

// Parameters of the classic RPC signature (they are not action parameters).
const (
	pSignature        = "Signature"
	pSignatureMethod  = "SignatureMethod"
	pSignatureVersion = "SignatureVersion"
	pSignatureNonce   = "SignatureNonce"
	pSignatureType    = "SignatureType"
	pAccessKeyID      = "AccessKeyId"
	pTimestamp        = "Timestamp"
	pSecurityToken    = "SecurityToken"
	pBearerToken      = "BearerToken"
)

// ACS3 headers (lower case, as signed).
const (
	hAction        = "x-acs-action"
	hVersion       = "x-acs-version"
	hDate          = "x-acs-date"
	hNonce         = "x-acs-signature-nonce"
	hContentSHA256 = "x-acs-content-sha256"
	hSecurityToken = "x-acs-security-token"
	hBearerToken   = "x-acs-bearer-token"
)

// acsEscape applies openapi-util's fix-ups to a url.QueryEscape'd string:
// "+" → "%20", "*" → "%2A", "%7E" → "~" (RFC 3986 percent-encoding).
func acsEscape(s string) string {
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

// rpcStringToSign is openapi-util buildRpcStringToSign: the parameters
// (query plus form body, without Signature) encoded by url.Values.Encode
// (sorted by key, both sides QueryEscape'd), fixed up by acsEscape, then
// QueryEscape'd as a whole and prefixed by "METHOD&%2F&".
func rpcStringToSign(method string, params map[string]string) string {
	v := make(url.Values, len(params))
	for k, val := range params {
		v.Set(k, val)
	}
	return method + "&%2F&" + url.QueryEscape(acsEscape(v.Encode()))
}

// rpcSign is HMAC-SHA1 keyed by secret+"&", in standard base64.
func rpcSign(stringToSign, secret string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// acs3CanonicalQuery is openapi-util getCanonicalQueryString: keys sorted
// bytewise and written as they are, values QueryEscape'd, "k=v" joined by
// "&", then acsEscape over the whole string.
func acs3CanonicalQuery(query map[string]string) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(query[k]))
	}
	return acsEscape(b.String())
}

// acs3StringToSign is openapi-util GetAuthorization's string to sign for
// ACS3-HMAC-SHA256: "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonical request)),
// where the canonical request is
// METHOD \n URI \n canonical query \n canonical headers \n signed headers \n payload hash.
// headers maps each signed (lower-case) header name to its values.
func acs3StringToSign(method, uri string, query map[string]string, signed []string, headers map[string][]string, payloadHash string) string {
	var ch strings.Builder
	for _, name := range signed {
		vals := make([]string, len(headers[name]))
		for i, v := range headers[name] {
			vals[i] = strings.TrimSpace(v)
		}
		sort.Strings(vals)
		ch.WriteString(name)
		ch.WriteByte(':')
		ch.WriteString(strings.Join(vals, ","))
		ch.WriteByte('\n')
	}
	canonical := method + "\n" + acsEscape(uri) + "\n" + acs3CanonicalQuery(query) + "\n" +
		ch.String() + "\n" + strings.Join(signed, ";") + "\n" + payloadHash
	sum := sha256.Sum256([]byte(canonical))
	return schemeACS3 + "\n" + hex.EncodeToString(sum[:])
}

// acs3Sign is hex(HMAC-SHA256(secret, stringToSign)).
func acs3Sign(stringToSign, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// signedRequest is what authentication extracts from a request.
type signedRequest struct {
	scheme    string
	cred      auth.Credential
	timestamp string
	nonce     string
}

// acs3Authorization is a parsed
// "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>".
type acs3Authorization struct {
	algorithm, accessKeyID, signature string
	signedHeaders                     []string
}

func parseACS3Authorization(v string) (acs3Authorization, *kms.Error) {
	var a acs3Authorization
	alg, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return a, errIncomplete("the Authorization header has no credential part")
	}
	a.algorithm = alg
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return a, errIncomplete("the Authorization header is malformed")
		}
		seen[k] = true
		switch k {
		case "Credential":
			a.accessKeyID = val
		case "SignedHeaders":
			if val == "" {
				break
			}
			a.signedHeaders = strings.Split(val, ";")
		case "Signature":
			a.signature = val
		default:
			return a, errIncomplete("the Authorization header has an unknown field")
		}
	}
	if a.accessKeyID == "" || a.signature == "" || len(a.signedHeaders) == 0 {
		return a, errIncomplete("the Authorization header needs Credential, SignedHeaders and Signature")
	}
	return a, nil
}

// acs3Required are the headers an ACS3 request must carry and sign.
var acs3Required = []string{"host", hAction, hVersion, hDate, hNonce, hContentSHA256}

// verifyACS3 authenticates an ACS3-HMAC-SHA256 request. query are the
// decoded query parameters; body is the raw request body.
func (h *handler) verifyACS3(r *http.Request, authz string, query map[string]string, body []byte) (signedRequest, *kms.Error) {
	a, e := parseACS3Authorization(authz)
	if e != nil {
		return signedRequest{}, e
	}
	if a.algorithm != schemeACS3 {
		return signedRequest{}, newErr(http.StatusBadRequest, CodeInvalidSignatureMethod,
			"Specified signature method is not valid: only %s is supported.", schemeACS3)
	}
	if r.Header.Get(hSecurityToken) != "" {
		return signedRequest{}, errUnsupported(hSecurityToken)
	}
	if r.Header.Get(hBearerToken) != "" {
		return signedRequest{}, errUnsupported(hBearerToken)
	}
	headers := make(map[string][]string, len(a.signedHeaders))
	signed := make([]string, 0, len(a.signedHeaders))
	for _, name := range a.signedHeaders {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" || headers[name] != nil {
			return signedRequest{}, errIncomplete("SignedHeaders is empty or repeats a header")
		}
		if name == "host" {
			headers[name] = []string{r.Host}
		} else {
			headers[name] = r.Header.Values(name)
		}
		if headers[name] == nil {
			headers[name] = []string{}
		}
		signed = append(signed, name)
	}
	sort.Strings(signed)
	for _, name := range acs3Required {
		if name != "host" && r.Header.Get(name) == "" {
			return signedRequest{}, errMissing(name)
		}
		if headers[name] == nil {
			return signedRequest{}, errIncomplete("header " + name + " must be signed")
		}
	}
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-acs-") && headers[l] == nil {
			return signedRequest{}, errIncomplete("header " + l + " must be signed")
		}
	}
	// The canonical query writes names unescaped (as the SDK does), so a
	// name holding '=' or '&' would make two different queries share one
	// signature ({"A":"1","B":"2"} and {"A=1&B":"2"}): a signed request
	// could be re-sent with parameters merged away. No SDK sends such names.
	for name := range query {
		if strings.ContainsAny(name, "=&") {
			return signedRequest{}, errIncomplete("a query parameter name contains '=' or '&', which ACS3 cannot sign unambiguously")
		}
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if r.Header.Get(hContentSHA256) != payloadHash {
		return signedRequest{}, newErr(http.StatusBadRequest, CodeSignatureDoesNotMatch,
			"The %s header does not match the SHA-256 of the request body.", hContentSHA256)
	}
	cred, ok := h.cfg.Credentials.Lookup(a.accessKeyID)
	if !ok {
		return signedRequest{}, errAccessKey()
	}
	sts := acs3StringToSign(r.Method, r.URL.EscapedPath(), query, signed, headers, payloadHash)
	if !hmac.Equal([]byte(acs3Sign(sts, cred.AccessKeySecret)), []byte(strings.ToLower(a.signature))) {
		return signedRequest{}, errSignatureMismatch()
	}
	return signedRequest{scheme: schemeACS3, cred: cred, timestamp: r.Header.Get(hDate), nonce: r.Header.Get(hNonce)}, nil
}

// verifyRPC authenticates a classic RPC request (Signature parameter,
// HMAC-SHA1). params are all query and form parameters, Signature included.
func (h *handler) verifyRPC(r *http.Request, params map[string]string) (signedRequest, *kms.Error) {
	if params[pSignatureType] != "" || params[pBearerToken] != "" {
		return signedRequest{}, errUnsupported(pSignatureType)
	}
	if params[pSecurityToken] != "" {
		return signedRequest{}, errUnsupported(pSecurityToken)
	}
	for _, name := range []string{pSignature, pSignatureMethod, pSignatureVersion, pAccessKeyID, pTimestamp, pSignatureNonce} {
		if params[name] == "" {
			return signedRequest{}, errMissing(name)
		}
	}
	if params[pSignatureMethod] != schemeRPC {
		return signedRequest{}, newErr(http.StatusBadRequest, CodeInvalidSignatureMethod,
			"Specified signature method is not valid: only %s is supported.", schemeRPC)
	}
	if params[pSignatureVersion] != "1.0" {
		return signedRequest{}, errIncomplete("SignatureVersion must be 1.0")
	}
	cred, ok := h.cfg.Credentials.Lookup(params[pAccessKeyID])
	if !ok {
		return signedRequest{}, errAccessKey()
	}
	toSign := make(map[string]string, len(params))
	for k, v := range params {
		if k != pSignature {
			toSign[k] = v
		}
	}
	want := rpcSign(rpcStringToSign(r.Method, toSign), cred.AccessKeySecret)
	if !hmac.Equal([]byte(want), []byte(params[pSignature])) {
		return signedRequest{}, errSignatureMismatch()
	}
	return signedRequest{scheme: schemeRPC, cred: cred, timestamp: params[pTimestamp], nonce: params[pSignatureNonce]}, nil
}

func errAccessKey() *kms.Error {
	return newErr(http.StatusNotFound, CodeAccessKeyNotFound, "Specified access key is not found.")
}

// timestampLayout is how the SDK writes Timestamp and x-acs-date.
const timestampLayout = "2006-01-02T15:04:05Z"

// checkFreshness rejects a malformed or skewed timestamp and a replayed
// nonce; it records the nonce only when everything else passed.
func (h *handler) checkFreshness(s signedRequest) *kms.Error {
	ts, err := time.Parse(timestampLayout, s.timestamp)
	if err != nil {
		ts, err = time.Parse(time.RFC3339Nano, s.timestamp)
		if err != nil || !strings.HasSuffix(s.timestamp, "Z") {
			return newErr(http.StatusBadRequest, CodeTimestampFormat,
				"Specified time stamp or date value is not well formatted: use UTC ISO 8601, e.g. 2006-01-02T15:04:05Z.")
		}
	}
	now := h.cfg.Clock.Now()
	if d := now.Sub(ts); d > h.cfg.MaxSkew || d < -h.cfg.MaxSkew {
		return newErr(http.StatusBadRequest, CodeTimestampExpired,
			"Specified time stamp or date value is expired: it differs from the server time by more than %s.", h.cfg.MaxSkew)
	}
	// The timestamp check above still accepts a replay at exactly
	// ts+MaxSkew, so the nonce must be remembered through that instant: it
	// expires (is forgotten) only from ts+MaxSkew+1ns on.
	switch h.nonces.use(s.cred.AccessKeyID, s.nonce, ts.Add(h.cfg.MaxSkew+time.Nanosecond), now) {
	case nonceReplayed:
		return newErr(http.StatusBadRequest, CodeNonceUsed, "Specified signature nonce was used already.")
	case nonceFull:
		// Only this access key is refused: its quota of live nonces is
		// full (see nonceCache). Alibaba KMS answers a caller over its
		// request quota with 429 Rejected.Throttling.
		return newErr(http.StatusTooManyRequests, CodeRejectedThrottling,
			"QPS Limit Exceeded: this access key's last %d requests are all still inside their %s replay window; retry later.",
			h.cfg.MaxNoncesPerKey, h.cfg.MaxSkew)
	}
	return nil
}
