package osshttp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
)

// OSS signature V2 ("OSS2"), as the v1 SDK signs with AuthV2:
//
//   - header: "OSS2 AccessKeyId:<AK>[,AdditionalHeaders:<h1;h2>],Signature:<base64 HMAC-SHA256>"
//   - presigned URL: x-oss-signature-version=OSS2, x-oss-access-key-id,
//     x-oss-expires (Unix seconds, the Date line), optional
//     x-oss-additional-headers, and x-oss-signature (left out of the
//     resource it signs).
//
// String to sign: VERB "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
// + the canonical headers (every x-oss-* header and each additional
// header, "name:value\n", lower-cased, sorted) + the additional header
// names joined by ";" + "\n" + the canonical resource:
// QueryEscape("/bucket/") + QueryEscape(key) ("+" as %20), or
// QueryEscape("/") for the service, then "?" and EVERY query parameter
// (V2 signs them all), key and value query-escaped ("+" as %20), sorted
// by escaped key, "k=v" or "k" for an empty value. The key is
// HMAC-SHA256 with the secret.

const (
	schemeV2Header = "OSS2"
	schemeV2Query  = "OSS2-query"
)

// parseV2Authorization splits "OSS2 AccessKeyId:..,AdditionalHeaders:..,Signature:..".
func parseV2Authorization(v string) (ak, additional, sig string, e *ossError) {
	rest, ok := strings.CutPrefix(v, "OSS2 ")
	if !ok {
		return "", "", "", errAuthHeaderInvalid()
	}
	for _, item := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(item), ":")
		if !ok {
			return "", "", "", errAuthHeaderInvalid()
		}
		switch k {
		case "AccessKeyId":
			ak = val
		case "AdditionalHeaders":
			additional = val
		case "Signature":
			sig = val
		default:
			return "", "", "", errAuthHeaderInvalid()
		}
	}
	if ak == "" || sig == "" || !printableASCII(ak) || !printableASCII(sig) {
		return "", "", "", errAuthHeaderInvalid()
	}
	return ak, additional, sig, nil
}

// parseV2Additional reads "h1;h2" into sorted lower-case names.
func parseV2Additional(v string) ([]string, bool) {
	if v == "" {
		return nil, true
	}
	var out []string
	for _, n := range strings.Split(v, ";") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" || !printableASCII(n) {
			return nil, false
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out, true
}

func escapeV2(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// canonicalResourceV2 builds the resource over every query parameter
// but those in skip.
func canonicalResourceV2(res resource, q url.Values, skip map[string]bool) string {
	var b strings.Builder
	if res.bucket == "" {
		b.WriteString(url.QueryEscape("/"))
	} else {
		b.WriteString(url.QueryEscape("/" + res.bucket + "/"))
		b.WriteString(escapeV2(res.key))
	}
	type kv struct{ k, v string }
	var params []kv
	for k, vs := range q {
		if skip[k] {
			continue
		}
		v := ""
		if len(vs) > 0 {
			v = vs[len(vs)-1]
		}
		params = append(params, kv{url.QueryEscape(k), v})
	}
	sort.Slice(params, func(i, j int) bool { return params[i].k < params[j].k })
	for i, p := range params {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		if p.v != "" {
			b.WriteString("=" + escapeV2(p.v))
		}
	}
	return b.String()
}

func stringToSignV2(r *http.Request, date string, additional []string, resource string) string {
	add := toSet(additional)
	vals := map[string][]string{}
	var names []string
	for k, vs := range r.Header {
		low := strings.ToLower(k)
		if !strings.HasPrefix(low, "x-oss-") && !add[low] {
			continue
		}
		if _, seen := vals[low]; !seen {
			names = append(names, low)
		}
		vals[low] = append(vals[low], vs...)
	}
	if add["host"] {
		// Go's server keeps the Host header in r.Host only.
		names = append(names, "host")
		vals["host"] = []string{r.Host}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + date + "\n")
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
	b.WriteString(strings.Join(additional, ";") + "\n" + resource)
	return b.String()
}

func signV2(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func matchV2(r *http.Request, q url.Values, res resource, cred auth.Credential, date string, additional []string, sig string, skip map[string]bool) *ossError {
	sts := stringToSignV2(r, date, additional, canonicalResourceV2(res, q, skip))
	if subtle.ConstantTimeCompare([]byte(signV2(cred.AccessKeySecret, sts)), []byte(sig)) == 1 {
		return nil
	}
	return newErr(http.StatusForbidden, CodeSignatureDoesNotMatch, msgSignatureDoesNotMatch).withEC(ecSignatureDoesNotMatch).
		with("StringToSign", sts).with("StringToSignBytes", stringToSignBytes(sts)).
		with("SignatureProvided", sig).with("OSSAccessKeyId", cred.AccessKeyID)
}

func (h *handler) verifyV2Header(r *http.Request, q url.Values, res resource, authz string) (authOutcome, *ossError) {
	ak, addRaw, sig, e := parseV2Authorization(authz)
	if e != nil {
		return authOutcome{}, e
	}
	additional, ok := parseV2Additional(addRaw)
	if !ok {
		return authOutcome{}, errInvalidArgument("The AdditionalHeaders in the Authorization header are invalid.")
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
	if e := matchV2(r, q, res, cred, r.Header.Get("Date"), additional, sig, nil); e != nil {
		return authOutcome{}, e
	}
	return authOutcome{cred: cred, scheme: schemeV2Header}, nil
}

// presignV2Skip: the signature is not part of what it signs.
var presignV2Skip = map[string]bool{"x-oss-signature": true}

func (h *handler) verifyV2Query(r *http.Request, q url.Values, res resource) (authOutcome, *ossError) {
	for _, k := range []string{"x-oss-access-key-id", "x-oss-expires", "x-oss-signature"} {
		if len(q[k]) != 1 || q.Get(k) == "" {
			return authOutcome{}, errInvalidArgument("A V2 presigned URL needs exactly one x-oss-access-key-id, x-oss-expires and x-oss-signature.")
		}
	}
	expires := q.Get("x-oss-expires")
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || exp < 0 {
		return authOutcome{}, errInvalidArgument("The x-oss-expires parameter is invalid.")
	}
	additional, ok := parseV2Additional(q.Get("x-oss-additional-headers"))
	if !ok {
		return authOutcome{}, errInvalidArgument("The x-oss-additional-headers parameter is invalid.")
	}
	cred, e := h.lookup(q.Get("x-oss-access-key-id"))
	if e != nil {
		return authOutcome{}, e
	}
	now := h.cfg.Clock.Now()
	if now.Unix() > exp {
		return authOutcome{}, errAccessDenied("Request has expired.").
			with("Expires", ossTime(time.Unix(exp, 0))).with("ServerTime", ossTime(now))
	}
	if e := matchV2(r, q, res, cred, expires, additional, q.Get("x-oss-signature"), presignV2Skip); e != nil {
		return authOutcome{}, e
	}
	return authOutcome{cred: cred, scheme: schemeV2Query}, nil
}
