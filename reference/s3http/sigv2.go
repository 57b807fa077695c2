package s3http

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signature Version 2 (HMAC-SHA1 over a canonical string) is deprecated by
// AWS but still spoken by older tools, by minio-go's V2 mode and by s3-tests;
// MinIO and Ceph accept it, so the reference does too. It covers no body
// hash, so a V2 request is treated like UNSIGNED-PAYLOAD (Content-MD5, when
// sent, is still checked by the body pipeline).

const signV2Prefix = "AWS "

// v2SubResources are the query parameters that are part of the canonical
// resource, in the byte order the string to sign lists them. It is the
// union of AWS's list and the ones minio-go adds (encryption, tagging, ...).
var v2SubResources = stringSet(
	"accelerate", "acl", "analytics", "cors", "delete", "encryption", "inventory",
	"legal-hold", "lifecycle", "location", "logging", "metrics", "notification",
	"object-lock", "partNumber", "policy", "publicAccessBlock", "replication",
	"requestPayment", "response-cache-control", "response-content-disposition",
	"response-content-encoding", "response-content-language", "response-content-type",
	"response-expires", "restore", "retention", "select", "select-type", "tagging",
	"torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website",
)

// botocoreSubResources are the ones botocore's HmacV1Auth signs
// (QSAOfInterest): it leaves out encryption, legal-hold and retention,
// which minio-go signs, and adds defaultObjectAcl and storageClass. A
// request other than a DELETE is accepted when it matches either client's
// list, so boto3's GetBucketEncryption verifies as well as minio-go's.
var botocoreSubResources = stringSet(
	"accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory",
	"lifecycle", "location", "logging", "metrics", "notification", "object-lock",
	"partNumber", "policy", "replication", "requestPayment", "response-cache-control",
	"response-content-disposition", "response-content-encoding", "response-content-language",
	"response-content-type", "response-expires", "restore", "select", "select-type",
	"storageClass", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
	"versions", "website",
)

func stringSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// v2SubResourceString is the "?a&b=v" suffix of the canonical resource:
// the query parameters in set, sorted by name (stably, as the clients do).
func v2SubResourceString(q []queryPair, set map[string]bool) string {
	var subs []queryPair
	for _, p := range q {
		if set[p.Key] {
			subs = append(subs, p)
		}
	}
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].Key < subs[j].Key })
	var sb strings.Builder
	for i, p := range subs {
		if i == 0 {
			sb.WriteByte('?')
		} else {
			sb.WriteByte('&')
		}
		sb.WriteString(p.Key)
		if p.Value != "" {
			sb.WriteByte('=')
			sb.WriteString(p.Value)
		}
	}
	return sb.String()
}

// bucketSlashVariant returns the other spelling of a bucket-level path:
// "/bucket/" for "/bucket" and the reverse. AWS's canonical resource of a
// request on the bucket itself is "/bucket/" for a virtual-hosted request
// (path "/") and "/bucket" for a path-style one; botocore signs "/bucket/"
// in both styles while sending "/bucket" path-style, so both spellings
// name the same resource. ok is false for the service root and for keys.
func bucketSlashVariant(path string) (string, bool) {
	rest, _ := strings.CutPrefix(path, "/")
	if rest == "" {
		return "", false
	}
	if b, found := strings.CutSuffix(rest, "/"); found {
		if b == "" || strings.Contains(b, "/") {
			return "", false
		}
		return "/" + b, true
	}
	if strings.Contains(rest, "/") {
		return "", false
	}
	return "/" + rest + "/", true
}

// v2Resources are the candidate CanonicalizedResources: the bucket-qualified
// path and the sub-resources, sorted. Clients differ in whether they send
// the path as they escaped it or re-escape it, in the spelling of a
// bucket-level path (with or without the trailing slash) and in their
// list of sub-resources, so every combination is returned, without
// repeats, the most common (the path as sent, the full list) first.
func (h *handler) v2Resources(r *http.Request, q []queryPair) []string {
	raw := r.URL.EscapedPath()
	dec := r.URL.Path
	if bucket := h.hostBucket(r); bucket != "" {
		raw = "/" + bucket + raw
		dec = "/" + bucket + dec
	}
	paths := []string{raw, uriEncode(dec, false)}
	if alt, ok := bucketSlashVariant(raw); ok {
		paths = append(paths, alt)
	}
	subs := []string{v2SubResourceString(q, v2SubResources)}
	// botocore leaves ?encryption out of what it signs, so its
	// DeleteBucketEncryption signs exactly as DeleteBucket: accepting that
	// would let a captured DeleteBucket signature remove a bucket's default
	// encryption. A DELETE must therefore sign every sub-resource it names.
	// (PutBucketEncryption is safe: its signed Content-MD5 or checksum
	// binds the body.)
	if r.Method != http.MethodDelete {
		subs = append(subs, v2SubResourceString(q, botocoreSubResources))
	}
	var out []string
	for _, p := range paths {
		for _, sub := range subs {
			if c := p + sub; !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// v2AmzHeaders is CanonicalizedAmzHeaders: x-amz-* headers, lower-cased,
// sorted, values joined with commas, one per line.
func v2AmzHeaders(r *http.Request) string {
	var names []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, n := range names {
		vs := r.Header.Values(n)
		sb.WriteString(n)
		sb.WriteByte(':')
		for i, v := range vs {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(strings.TrimSpace(v))
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// verifyV2 checks sig (base64 HMAC-SHA1) against each candidate string to
// sign built from dateLine; it returns the first candidate for the error.
func (h *handler) verifyV2(r *http.Request, q []queryPair, secret, dateLine, sig string) (bool, string) {
	want, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		want = nil
	}
	head := r.Method + "\n" + r.Header.Get("Content-Md5") + "\n" + r.Header.Get("Content-Type") + "\n" + dateLine + "\n" + v2AmzHeaders(r)
	var first string
	for _, res := range h.v2Resources(r, q) {
		sts := head + res
		if first == "" {
			first = sts
		}
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(sts))
		if want != nil && subtle.ConstantTimeCompare(m.Sum(nil), want) == 1 {
			return true, sts
		}
	}
	return false, first
}

// authV2Header verifies "Authorization: AWS AKID:signature".
func (h *handler) authV2Header(r *http.Request, q []queryPair, authz string) (*authResult, *apiError) {
	ak, sig, ok := strings.Cut(strings.TrimPrefix(authz, signV2Prefix), ":")
	if !ok || ak == "" || sig == "" {
		return nil, errInvalidArgument("Authorization header is invalid -- one and only one ' ' (space) required").with("ArgumentName", "Authorization")
	}
	cred, found := h.cfg.Credentials.Lookup(ak)
	if !found {
		return nil, errInvalidAccessKey(ak)
	}
	// x-amz-date, when present, replaces Date and the Date line is empty.
	dateLine := r.Header.Get("Date")
	ds := dateLine
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		dateLine, ds = "", v
	}
	t, err := http.ParseTime(ds)
	if err != nil {
		if t2, err2 := time.Parse(iso8601Format, ds); err2 == nil {
			t, err = t2, nil
		}
	}
	if ds == "" || err != nil {
		return nil, errAccessDenied("AWS authentication requires a valid Date or x-amz-date header")
	}
	now := h.cfg.Clock.Now()
	if d := now.Sub(t); d > h.cfg.MaxSkew || d < -h.cfg.MaxSkew {
		return nil, newErr(http.StatusForbidden, "RequestTimeTooSkewed",
			"The difference between the request time and the current time is too large.").
			with("RequestTime", ds).with("ServerTime", now.UTC().Format(http.TimeFormat)).
			with("MaxAllowedSkewMilliseconds", strconv.FormatInt(h.cfg.MaxSkew.Milliseconds(), 10))
	}
	okSig, sts := h.verifyV2(r, q, cred.AccessKeySecret, dateLine, sig)
	if !okSig {
		return nil, errSignatureMismatch(ak, sts, sig)
	}
	return &authResult{cred: cred, mode: payloadUnsigned}, nil
}

// authV2Query verifies a V2 presigned URL (AWSAccessKeyId, Expires,
// Signature); Expires is a Unix time and takes the Date line's place.
func (h *handler) authV2Query(r *http.Request, q []queryPair, qv map[string][]string) (*authResult, *apiError) {
	one := func(k string) string {
		if v := qv[k]; len(v) == 1 {
			return v[0]
		}
		return ""
	}
	ak, exp, sig := one("AWSAccessKeyId"), one("Expires"), one("Signature")
	if ak == "" || exp == "" || sig == "" {
		return nil, errAccessDenied("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return nil, errAccessDenied("Invalid date (should be seconds since epoch): " + truncate(exp, 32))
	}
	cred, found := h.cfg.Credentials.Lookup(ak)
	if !found {
		return nil, errInvalidAccessKey(ak)
	}
	now := h.cfg.Clock.Now()
	if now.Unix() > e {
		return nil, errAccessDenied("Request has expired").
			with("Expires", time.Unix(e, 0).UTC().Format(iso8601Format)).
			with("ServerTime", now.UTC().Format(iso8601Format))
	}
	var rest []queryPair
	for _, p := range q {
		switch p.Key {
		case "AWSAccessKeyId", "Expires", "Signature":
		default:
			rest = append(rest, p)
		}
	}
	okSig, sts := h.verifyV2(r, rest, cred.AccessKeySecret, exp, sig)
	if !okSig {
		return nil, errSignatureMismatch(ak, sts, sig)
	}
	return &authResult{cred: cred, presigned: true, mode: payloadUnsigned}, nil
}
