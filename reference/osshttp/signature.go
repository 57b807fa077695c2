package osshttp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
)

// Signature schemes, as logged.
const (
	schemeV1Header = "OSS"
	schemeV1Query  = "OSS-query"
	schemeV4Header = "OSS4-HMAC-SHA256"
	schemeV4Query  = "OSS4-HMAC-SHA256-query"
)

const (
	algorithmV4       = "OSS4-HMAC-SHA256"
	v4Terminator      = "aliyun_v4_request"
	v4Product         = "oss"
	unsignedPayload   = "UNSIGNED-PAYLOAD"
	iso8601Basic      = "20060102T150405Z"
	iso8601Date       = "20060102"
	maxPresignExpires = 7 * 24 * 3600
	maxAuthHeaderSize = 4096
)

// v1SDKSubResources is the aliyun-oss-go-sdk v3.0.2 signKeyList (conn.go):
// the query parameters its V1 signature covers.
var v1SDKSubResources = []string{"acl", "uploads", "location", "cors",
	"logging", "website", "referer", "lifecycle",
	"delete", "append", "tagging", "objectMeta",
	"uploadId", "partNumber", "security-token",
	"position", "img", "style", "styleName",
	"replication", "replicationProgress",
	"replicationLocation", "cname", "bucketInfo",
	"comp", "qos", "live", "status", "vod",
	"startTime", "endTime", "symlink",
	"x-oss-process", "response-content-type", "x-oss-traffic-limit",
	"response-content-language", "response-expires",
	"response-cache-control", "response-content-disposition",
	"response-content-encoding", "udf", "udfName", "udfImage",
	"udfId", "udfImageDesc", "udfApplication",
	"udfApplicationLog", "restore", "callback", "callback-var", "qosInfo",
	"policy", "stat", "encryption", "versions", "versioning", "versionId", "requestPayment",
	"x-oss-request-payer", "sequential",
	"inventory", "inventoryId", "continuation-token", "asyncFetch",
	"worm", "wormId", "wormExtend", "withHashContext",
	"x-oss-enable-md5", "x-oss-enable-sha1", "x-oss-enable-sha256",
	"x-oss-hash-ctx", "x-oss-md5-ctx", "transferAcceleration",
	"regionList", "cloudboxes", "x-oss-ac-source-ip", "x-oss-ac-subnet-mask", "x-oss-ac-vpc-id", "x-oss-ac-forward-allow",
	"metaQuery", "resourceGroup", "rtc", "x-oss-async-process", "responseHeader",
}

// v2SDKSubResources is what alibabacloud-oss-go-sdk-v2 v1.6.1's V1 signer
// covers besides every "x-oss-" parameter: its fixed map
// (signer/v1.go requiredSignedParametersMap) and every operation's
// SubResource metadata.
var v2SDKSubResources = []string{
	"acl", "bucketInfo", "location", "stat", "delete", "append", "tagging", "objectMeta",
	"uploads", "uploadId", "partNumber", "security-token", "position",
	"response-content-type", "response-content-language", "response-expires",
	"response-cache-control", "response-content-disposition", "response-content-encoding",
	"restore", "callback", "callback-var", "versions", "versioning", "versionId",
	"sequential", "continuation-token", "regionList", "cloudboxes", "symlink",
	// Operation SubResource lists.
	"DeleteVectorIndex", "GetVectorIndex", "ListVectorIndexes", "PutVectorIndex",
	"accessPoint", "accessPointConfigForObjectProcess", "accessPointForObjectProcess",
	"accessPointPolicy", "accessPointPolicyForObjectProcess", "agenticBucket",
	"bucketArchiveDirectRead", "cleanRestoredObject", "cname", "comp", "cors",
	"encryption", "httpsConfig", "inventory", "inventoryId", "legalHold", "lifecycle",
	"logging", "metaQuery", "metadataConfiguration", "metadataInventoryTable",
	"metadataJournalTable", "objectWorm", "overwriteConfig", "policy", "policyStatus",
	"publicAccessBlock", "quota", "redundancyTransition", "referer", "regions",
	"replication", "replicationLocation", "replicationProgress", "requestPayment",
	"resourceGroup", "retention", "rtc", "seal", "style", "styleName",
	"transferAcceleration", "userDefinedLogFieldsConfig", "website", "worm",
	"wormExtend", "wormId",
}

var (
	v1OnlySet  = toSet(v1SDKSubResources)
	unionSubRe = toSet(append(append([]string{}, v1SDKSubResources...), v2SDKSubResources...))
)

func toSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, k := range list {
		m[k] = true
	}
	return m
}

// signedUnion is the emulator rule: the union of both SDKs' lists plus
// every "x-oss-" parameter.
func signedUnion(k string) bool { return unionSubRe[k] || strings.HasPrefix(k, "x-oss-") }

// signedV1SDK is exactly the v1 SDK's list (it leaves other "x-oss-"
// parameters unsigned).
func signedV1SDK(k string) bool { return v1OnlySet[k] }

// resource identifies what a request addresses, for canonicalization.
type resource struct {
	bucket string // "" for service operations
	key    string // "" for bucket operations
	vhost  bool   // addressed as <bucket>.<suffix>
}

// canonicalResourceV1 is "/", "/bucket/" or "/bucket/key" (decoded) plus
// "?" and the sorted signed sub-resources, raw, as k or k=v.
func canonicalResourceV1(res resource, q url.Values, signed func(string) bool, skip map[string]bool) string {
	var b strings.Builder
	b.WriteByte('/')
	if res.bucket != "" {
		b.WriteString(res.bucket)
		b.WriteByte('/')
		b.WriteString(res.key)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		if signed(k) && !skip[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if vs := q[k]; len(vs) > 0 && vs[0] != "" {
			b.WriteByte('=')
			b.WriteString(vs[0])
		}
	}
	return b.String()
}

// canonicalOSSHeadersV1 is every x-oss-* header as "name:value\n", names
// lower-cased and sorted, values trimmed (several joined by ",").
func canonicalOSSHeadersV1(h http.Header) string {
	names := make([]string, 0, 8)
	vals := map[string][]string{}
	for k, vs := range h {
		low := strings.ToLower(k)
		if !strings.HasPrefix(low, "x-oss-") {
			continue
		}
		if _, seen := vals[low]; !seen {
			names = append(names, low)
		}
		vals[low] = append(vals[low], vs...)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		for i, v := range vals[n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// stringToSignV1 is VERB\nContent-MD5\nContent-Type\nDate\n +
// CanonicalizedOSSHeaders + CanonicalizedResource.
func stringToSignV1(r *http.Request, date, canonicalResource string) string {
	return r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" +
		date + "\n" + canonicalOSSHeadersV1(r.Header) + canonicalResource
}

func signV1(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// parseV1Authorization splits "OSS <AccessKeyId>:<Signature>".
func parseV1Authorization(v string) (accessKeyID, signature string, e *ossError) {
	rest, ok := strings.CutPrefix(v, "OSS ")
	if !ok {
		return "", "", errAuthHeaderInvalid()
	}
	ak, sig, ok := strings.Cut(rest, ":")
	ak, sig = strings.TrimSpace(ak), strings.TrimSpace(sig)
	if !ok || ak == "" || sig == "" || !printableASCII(ak) || !printableASCII(sig) {
		return "", "", errAuthHeaderInvalid()
	}
	return ak, sig, nil
}

func errAuthHeaderInvalid() *ossError {
	return errInvalidArgument("Authorization header is invalid.")
}

// v4Credential is the parsed Credential of a V4 signature.
type v4Credential struct {
	accessKeyID, date, region, product string
}

func (c v4Credential) scope() string {
	return c.date + "/" + c.region + "/" + c.product + "/" + v4Terminator
}

// parseV4Credential parses <AccessKeyId>/<yyyymmdd>/<region>/<product>/aliyun_v4_request.
func parseV4Credential(v string) (v4Credential, bool) {
	parts := strings.Split(v, "/")
	if len(parts) != 5 || parts[4] != v4Terminator {
		return v4Credential{}, false
	}
	c := v4Credential{accessKeyID: parts[0], date: parts[1], region: parts[2], product: parts[3]}
	if c.accessKeyID == "" || !printableASCII(c.accessKeyID) || c.region == "" || !printableASCII(c.region) || c.product == "" {
		return v4Credential{}, false
	}
	if len(c.date) != 8 {
		return v4Credential{}, false
	}
	if _, err := time.Parse(iso8601Date, c.date); err != nil {
		return v4Credential{}, false
	}
	return c, true
}

// v4Auth is a parsed OSS4-HMAC-SHA256 Authorization header (or the
// equivalent query parameters).
type v4Auth struct {
	cred          v4Credential
	additional    []string // lower-case header names
	additionalRaw string   // as sent, for the canonical request
	signature     string   // lower-case hex
}

// parseAdditionalHeaders parses "h1;h2" into lower-case names.
func parseAdditionalHeaders(v string) ([]string, bool) {
	if v == "" {
		return nil, true
	}
	parts := strings.Split(v, ";")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" || !printableASCII(p) {
			return nil, false
		}
		out = append(out, p)
	}
	return out, true
}

func validHexSignature(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseV4Authorization parses
// "OSS4-HMAC-SHA256 Credential=<cred>[,AdditionalHeaders=<h1;h2>],Signature=<hex>"
// (items separated by "," with optional spaces).
func parseV4Authorization(v string) (v4Auth, *ossError) {
	rest, ok := strings.CutPrefix(v, algorithmV4+" ")
	if !ok {
		return v4Auth{}, errAuthHeaderInvalid()
	}
	var a v4Auth
	var haveCred, haveAdd, haveSig bool
	for _, item := range strings.Split(rest, ",") {
		item = strings.TrimSpace(item)
		k, val, ok := strings.Cut(item, "=")
		if !ok {
			return v4Auth{}, errAuthHeaderInvalid()
		}
		switch strings.TrimSpace(k) {
		case "Credential":
			if haveCred {
				return v4Auth{}, errAuthHeaderInvalid()
			}
			haveCred = true
			c, ok := parseV4Credential(strings.TrimSpace(val))
			if !ok {
				return v4Auth{}, errInvalidArgument("The Credential in the Authorization header is invalid.")
			}
			a.cred = c
		case "AdditionalHeaders":
			if haveAdd {
				return v4Auth{}, errAuthHeaderInvalid()
			}
			haveAdd = true
			a.additionalRaw = strings.TrimSpace(val)
			list, ok := parseAdditionalHeaders(a.additionalRaw)
			if !ok {
				return v4Auth{}, errInvalidArgument("The AdditionalHeaders in the Authorization header are invalid.")
			}
			a.additional = list
		case "Signature":
			if haveSig {
				return v4Auth{}, errAuthHeaderInvalid()
			}
			haveSig = true
			a.signature = strings.TrimSpace(val)
			if !validHexSignature(a.signature) {
				return v4Auth{}, errAuthHeaderInvalid()
			}
		default:
			return v4Auth{}, errAuthHeaderInvalid()
		}
	}
	if !haveCred || !haveSig {
		return v4Auth{}, errAuthHeaderInvalid()
	}
	return a, nil
}

// v4NoEscape marks the bytes the V4 canonical URI leaves as they are.
var v4NoEscape = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~'
	}
	return t
}()

// escapeV4Path percent-encodes every byte but A-Za-z0-9-._~ and "/",
// with upper-case hex, as both SDKs do.
func escapeV4Path(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if v4NoEscape[c] || c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// canonicalURIV4 is "/", "/bucket/" or "/bucket/key", escaped.
func canonicalURIV4(res resource) string {
	if res.bucket == "" {
		return "/"
	}
	return escapeV4Path("/" + res.bucket + "/" + res.key)
}

// canonicalQueryV4 follows the v2 SDK: the raw query with "+" as "%20",
// split on "&" and the first "=", keys (still encoded) sorted, "k=v" or
// "k" when the value is empty; for a repeated key the last value wins.
// skip drops a parameter (x-oss-signature in presigned URLs).
func canonicalQueryV4(rawQuery, skip string) string {
	query := strings.ReplaceAll(rawQuery, "+", "%20")
	values := map[string]string{}
	var params []string
	for query != "" {
		var item string
		item, query, _ = strings.Cut(query, "&")
		if item == "" {
			continue
		}
		k, v, _ := strings.Cut(item, "=")
		if skip != "" && k == skip {
			continue
		}
		values[k] = v
		params = append(params, k)
	}
	sort.Strings(params)
	var b strings.Builder
	for _, k := range params {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if v := values[k]; v != "" {
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
	return b.String()
}

// canonicalHeadersV4 covers every x-oss-* header, Content-Type,
// Content-MD5 and the additional headers ("host" is the request's Host),
// as "name:value\n" with lower-case names sorted and trimmed values (several
// joined by ",").
func canonicalHeadersV4(r *http.Request, additional []string) string {
	add := toSet(additional)
	vals := map[string][]string{}
	var names []string
	for k, vs := range r.Header {
		low := strings.ToLower(k)
		if !(strings.HasPrefix(low, "x-oss-") || low == "content-type" || low == "content-md5" || add[low]) {
			continue
		}
		if _, seen := vals[low]; !seen {
			names = append(names, low)
		}
		vals[low] = append(vals[low], vs...)
	}
	if add["host"] && r.Host != "" {
		if _, seen := vals["host"]; !seen {
			names = append(names, "host")
		}
		vals["host"] = []string{r.Host}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		for i, v := range vals[n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// canonicalRequestV4 is VERB\nURI\nQuery\nHeaders\n\nAdditionalHeaders\nHashedPayload
// (the headers block ends in its own "\n").
func canonicalRequestV4(r *http.Request, res resource, a v4Auth, skipQuery, hashedPayload string) string {
	return r.Method + "\n" + canonicalURIV4(res) + "\n" + canonicalQueryV4(r.URL.RawQuery, skipQuery) + "\n" +
		canonicalHeadersV4(r, a.additional) + "\n" + a.additionalRaw + "\n" + hashedPayload
}

func stringToSignV4(timestamp string, cred v4Credential, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return algorithmV4 + "\n" + timestamp + "\n" + cred.scope() + "\n" + hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signV4 derives the signing key from "aliyun_v4"+secret through date,
// region, product and "aliyun_v4_request", and signs.
func signV4(secret string, cred v4Credential, stringToSign string) string {
	k := hmacSHA256([]byte("aliyun_v4"+secret), cred.date)
	k = hmacSHA256(k, cred.region)
	k = hmacSHA256(k, cred.product)
	k = hmacSHA256(k, v4Terminator)
	return hex.EncodeToString(hmacSHA256(k, stringToSign))
}

// stringToSignBytes renders a string to sign as OSS does in
// <StringToSignBytes>: hex bytes separated by spaces.
func stringToSignBytes(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%02x", s[i])
	}
	return b.String()
}

// authOutcome is what a successful authentication yields.
type authOutcome struct {
	cred   auth.Credential
	scheme string
}

// authenticate verifies the request's signature, whichever of the four
// forms it uses (V1 or V4, header or query). q is the parsed query.
func (h *handler) authenticate(r *http.Request, q url.Values, res resource) (authOutcome, *ossError) {
	authz := r.Header.Values("Authorization")
	_, v1q := q["OSSAccessKeyId"]
	_, sigq := q["Signature"]
	_, v4q := q["x-oss-signature-version"]
	_, v4cred := q["x-oss-credential"]
	hasQuery := v1q || sigq || v4q || v4cred
	if len(authz) > 1 {
		return authOutcome{}, errAuthHeaderInvalid()
	}
	if len(authz) == 1 && hasQuery {
		return authOutcome{}, errInvalidArgument("Only one authentication mechanism is allowed: the Authorization header or the signature query parameters.")
	}
	if r.Header.Get("X-Oss-Security-Token") != "" || q.Get("security-token") != "" || q.Get("x-oss-security-token") != "" {
		// There is no STS here: every security token names unknown
		// temporary credentials, as OSS answers for a permanent key sent
		// with a token.
		return authOutcome{}, errInvalidAccessKeyID()
	}
	switch {
	case len(authz) == 1:
		v := authz[0]
		if len(v) > maxAuthHeaderSize {
			return authOutcome{}, errAuthHeaderInvalid()
		}
		switch {
		case strings.HasPrefix(v, algorithmV4+" "):
			return h.verifyV4Header(r, res, v)
		case strings.HasPrefix(v, "OSS "):
			return h.verifyV1Header(r, q, res, v)
		case strings.HasPrefix(v, "OSS2 "):
			return h.verifyV2Header(r, q, res, v)
		default:
			return authOutcome{}, errAuthHeaderInvalid()
		}
	case v4q && q.Get("x-oss-signature-version") == "OSS2":
		return h.verifyV2Query(r, q, res)
	case v4q || v4cred:
		return h.verifyV4Query(r, q, res)
	case v1q || sigq:
		return h.verifyV1Query(r, q, res)
	default:
		return authOutcome{}, errAccessDenied("You have no right to access this object because of bucket acl.")
	}
}

func errInvalidAccessKeyID() *ossError {
	return newErr(http.StatusForbidden, CodeInvalidAccessKeyID, "The OSS Access Key Id you provided does not exist in our records.").
		withEC(ecInvalidAccessKeyID)
}

func (h *handler) lookup(accessKeyID string) (auth.Credential, *ossError) {
	c, ok := h.cfg.Credentials.Lookup(accessKeyID)
	if !ok {
		return auth.Credential{}, errInvalidAccessKeyID().with("OSSAccessKeyId", accessKeyID)
	}
	return c, nil
}

// checkSkew refuses a request time more than MaxSkew from the server clock.
func (h *handler) checkSkew(t time.Time, raw string) *ossError {
	now := h.cfg.Clock.Now()
	d := now.Sub(t)
	if d < 0 {
		d = -d
	}
	if d > h.cfg.MaxSkew {
		return newErr(http.StatusForbidden, CodeRequestTimeTooSkewed,
			"The difference between the request time and the current time is too large.").
			with("RequestTime", raw).with("ServerTime", ossTime(now))
	}
	return nil
}

// requestTimeV1 reads the request time of a V1 header signature: x-oss-date
// when present (either format), else Date.
func requestTimeV1(r *http.Request) (time.Time, string, bool) {
	if v := r.Header.Get("X-Oss-Date"); v != "" {
		if t, err := time.Parse(iso8601Basic, v); err == nil {
			return t, v, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return t, v, true
		}
		return time.Time{}, v, false
	}
	v := r.Header.Get("Date")
	t, err := http.ParseTime(v)
	return t, v, err == nil
}

func errNoDate() *ossError {
	return errAccessDenied("OSS authentication requires a valid Date.")
}

func (h *handler) verifyV1Header(r *http.Request, q url.Values, res resource, authz string) (authOutcome, *ossError) {
	ak, sig, e := parseV1Authorization(authz)
	if e != nil {
		return authOutcome{}, e
	}
	cred, e := h.lookup(ak)
	if e != nil {
		return authOutcome{}, e
	}
	t, raw, ok := requestTimeV1(r)
	if !ok {
		return authOutcome{}, errNoDate()
	}
	if e := h.checkSkew(t, raw); e != nil {
		return authOutcome{}, e
	}
	if e := h.matchV1(r, q, res, cred, r.Header.Get("Date"), sig, nil); e != nil {
		return authOutcome{}, e
	}
	return authOutcome{cred: cred, scheme: schemeV1Header}, nil
}

// presignV1Params are the query parameters of a V1 presigned URL, which
// the canonical resource leaves out.
var presignV1Params = map[string]bool{"OSSAccessKeyId": true, "Expires": true, "Signature": true}

func (h *handler) verifyV1Query(r *http.Request, q url.Values, res resource) (authOutcome, *ossError) {
	ak, expires, sig := q.Get("OSSAccessKeyId"), q.Get("Expires"), q.Get("Signature")
	if ak == "" || expires == "" || sig == "" || len(q["OSSAccessKeyId"]) > 1 || len(q["Expires"]) > 1 || len(q["Signature"]) > 1 {
		return authOutcome{}, errInvalidArgument("A presigned URL needs exactly one OSSAccessKeyId, Expires and Signature.")
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || exp < 0 {
		return authOutcome{}, errInvalidArgument("The Expires parameter is invalid.")
	}
	cred, e := h.lookup(ak)
	if e != nil {
		return authOutcome{}, e
	}
	now := h.cfg.Clock.Now()
	if now.Unix() > exp {
		return authOutcome{}, errAccessDenied("Request has expired.").
			with("Expires", ossTime(time.Unix(exp, 0))).with("ServerTime", ossTime(now))
	}
	if e := h.matchV1(r, q, res, cred, expires, sig, presignV1Params); e != nil {
		return authOutcome{}, e
	}
	return authOutcome{cred: cred, scheme: schemeV1Query}, nil
}

// matchV1 accepts the signature when it matches the canonical resource
// built with the union sub-resource rule or with the v1 SDK's exact list.
func (h *handler) matchV1(r *http.Request, q url.Values, res resource, cred auth.Credential, date, sig string, skip map[string]bool) *ossError {
	first := ""
	for i, signed := range []func(string) bool{signedUnion, signedV1SDK} {
		sts := stringToSignV1(r, date, canonicalResourceV1(res, q, signed, skip))
		if i == 0 {
			first = sts
		} else if sts == first {
			break
		}
		if subtle.ConstantTimeCompare([]byte(signV1(cred.AccessKeySecret, sts)), []byte(sig)) == 1 {
			return nil
		}
	}
	return newErr(http.StatusForbidden, CodeSignatureDoesNotMatch, msgSignatureDoesNotMatch).withEC(ecSignatureDoesNotMatch).
		with("StringToSign", first).with("StringToSignBytes", stringToSignBytes(first)).
		with("SignatureProvided", sig).with("OSSAccessKeyId", cred.AccessKeyID)
}

// checkScope refuses a credential scope for another product or region.
func (h *handler) checkScope(c v4Credential) *ossError {
	if c.product != v4Product {
		return errInvalidArgument("Invalid signing product in Authorization header.")
	}
	if c.region != h.cfg.Region {
		return errInvalidArgument(fmt.Sprintf("Invalid signing region in Authorization header: this endpoint serves %s.", h.cfg.Region))
	}
	return nil
}

func (h *handler) verifyV4Header(r *http.Request, res resource, authz string) (authOutcome, *ossError) {
	a, e := parseV4Authorization(authz)
	if e != nil {
		return authOutcome{}, e
	}
	if e := h.checkScope(a.cred); e != nil {
		return authOutcome{}, e
	}
	hashed := unsignedPayload
	if vs := r.Header.Values("X-Oss-Content-Sha256"); len(vs) > 0 {
		if len(vs) > 1 || vs[0] != unsignedPayload {
			return authOutcome{}, errInvalidArgument("x-oss-content-sha256 must be UNSIGNED-PAYLOAD.").withEC(ecContentSHA256)
		}
	}
	// The timestamp is x-oss-date when present, else Date, verbatim (the
	// v1 SDK in V4 mode sends no x-oss-date).
	raw := r.Header.Get("X-Oss-Date")
	var t time.Time
	var err error
	if raw != "" {
		t, err = time.Parse(iso8601Basic, raw)
	} else {
		raw = r.Header.Get("Date")
		t, err = http.ParseTime(raw)
	}
	if err != nil {
		return authOutcome{}, errNoDate()
	}
	if t.UTC().Format(iso8601Date) != a.cred.date {
		return authOutcome{}, errInvalidArgument("Invalid signing date in Authorization header: it must be the date of the request time.")
	}
	cred, e := h.lookup(a.cred.accessKeyID)
	if e != nil {
		return authOutcome{}, e
	}
	if e := h.checkSkew(t, raw); e != nil {
		return authOutcome{}, e
	}
	if e := matchV4(r, res, a, cred, raw, "", hashed); e != nil {
		return authOutcome{}, e
	}
	return authOutcome{cred: cred, scheme: schemeV4Header}, nil
}

func (h *handler) verifyV4Query(r *http.Request, q url.Values, res resource) (authOutcome, *ossError) {
	for _, k := range []string{"x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-expires", "x-oss-signature"} {
		if len(q[k]) != 1 || q[k][0] == "" {
			return authOutcome{}, errInvalidArgument("A V4 presigned URL needs exactly one " + k + ".")
		}
	}
	if len(q["x-oss-additional-headers"]) > 1 {
		return authOutcome{}, errInvalidArgument("A V4 presigned URL may have one x-oss-additional-headers.")
	}
	if q.Get("x-oss-signature-version") != algorithmV4 {
		return authOutcome{}, errInvalidArgument("The x-oss-signature-version must be OSS4-HMAC-SHA256.")
	}
	c, ok := parseV4Credential(q.Get("x-oss-credential"))
	if !ok {
		return authOutcome{}, errInvalidArgument("The x-oss-credential parameter is invalid.")
	}
	a := v4Auth{cred: c, signature: q.Get("x-oss-signature"), additionalRaw: q.Get("x-oss-additional-headers")}
	if !validHexSignature(a.signature) {
		return authOutcome{}, errInvalidArgument("The x-oss-signature parameter is invalid.")
	}
	if a.additional, ok = parseAdditionalHeaders(a.additionalRaw); !ok {
		return authOutcome{}, errInvalidArgument("The x-oss-additional-headers parameter is invalid.")
	}
	if e := checkAdditionalPresent(r, a.additional); e != nil {
		return authOutcome{}, e
	}
	if e := h.checkScope(c); e != nil {
		return authOutcome{}, e
	}
	raw := q.Get("x-oss-date")
	t, err := time.Parse(iso8601Basic, raw)
	if err != nil {
		return authOutcome{}, errInvalidArgument("The x-oss-date parameter is invalid.")
	}
	if t.Format(iso8601Date) != c.date {
		return authOutcome{}, errInvalidArgument("Invalid signing date in x-oss-credential: it must be the date of x-oss-date.")
	}
	expires, err := strconv.ParseInt(q.Get("x-oss-expires"), 10, 64)
	if err != nil || expires <= 0 || expires > maxPresignExpires {
		return authOutcome{}, errInvalidArgument("The x-oss-expires parameter must be between 1 and 604800 seconds.")
	}
	cred, e := h.lookup(c.accessKeyID)
	if e != nil {
		return authOutcome{}, e
	}
	now := h.cfg.Clock.Now()
	if t.Sub(now) > h.cfg.MaxSkew {
		return authOutcome{}, h.checkSkew(t, raw)
	}
	if now.After(t.Add(time.Duration(expires) * time.Second)) {
		return authOutcome{}, errAccessDenied("Request has expired.").with("ServerTime", ossTime(now))
	}
	if e := matchV4(r, res, a, cred, raw, "x-oss-signature", unsignedPayload); e != nil {
		return authOutcome{}, e
	}
	return authOutcome{cred: cred, scheme: schemeV4Query}, nil
}

func matchV4(r *http.Request, res resource, a v4Auth, cred auth.Credential, timestamp, skipQuery, hashed string) *ossError {
	creq := canonicalRequestV4(r, res, a, skipQuery, hashed)
	sts := stringToSignV4(timestamp, a.cred, creq)
	want := signV4(cred.AccessKeySecret, a.cred, sts)
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) == 1 {
		return nil
	}
	return newErr(http.StatusForbidden, CodeSignatureDoesNotMatch, msgSignatureDoesNotMatch).withEC(ecSignatureDoesNotMatch).
		with("StringToSign", sts).with("CanonicalRequest", creq).
		with("SignatureProvided", a.signature).with("OSSAccessKeyId", cred.AccessKeyID)
}

// checkAdditionalPresent answers 400 InvalidArgument when a presigned
// URL signs an additional header the request does not carry: the URL
// was made for a request with that header (OSS answers 400, as the v2
// SDK's tests pin, not SignatureDoesNotMatch).
func checkAdditionalPresent(r *http.Request, additional []string) *ossError {
	for _, name := range additional {
		if name == "host" || (name == "content-length" && r.ContentLength >= 0) {
			continue
		}
		if _, ok := r.Header[http.CanonicalHeaderKey(name)]; !ok {
			return errInvalidArgument("The presigned URL signs the header "+strconv.Quote(name)+", which the request does not carry.").
				with("ArgumentName", "x-oss-additional-headers")
		}
	}
	return nil
}
