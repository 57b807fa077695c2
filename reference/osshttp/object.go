package osshttp

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

const (
	hMetaPrefix      = "X-Oss-Meta-"
	hCopySource      = "X-Oss-Copy-Source"
	hForbidOverwrite = "X-Oss-Forbid-Overwrite"
	hStorageClass    = "X-Oss-Storage-Class"
	hCRC64           = "X-Oss-Hash-Crc64ecma"
	defaultCType     = "application/octet-stream"
)

// putOptions reads the object attributes of PutObject, CopyObject (with
// REPLACE) and InitiateMultipartUpload: standard headers, x-oss-meta-*,
// Content-MD5, x-oss-storage-class, x-oss-object-acl, x-oss-tagging, and
// the headers refused here (callbacks).
func putOptions(r *http.Request, sse objstore.SSE) (objstore.PutOptions, *ossError) {
	h := r.Header
	opts := objstore.PutOptions{
		SSE:                sse,
		ContentType:        strings.TrimSpace(h.Get("Content-Type")),
		CacheControl:       h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentEncoding:    h.Get("Content-Encoding"),
		ContentLanguage:    h.Get("Content-Language"),
		Expires:            h.Get("Expires"),
	}
	if opts.ContentType == "" {
		opts.ContentType = defaultCType
	}
	size := 0
	for k, vs := range h {
		if !strings.HasPrefix(k, hMetaPrefix) {
			continue
		}
		name := strings.ToLower(k[len(hMetaPrefix):])
		if name == "" {
			return opts, errInvalidArgument("A user metadata header needs a name after x-oss-meta-.")
		}
		if opts.UserMetadata == nil {
			opts.UserMetadata = map[string]string{}
		}
		v := strings.Join(vs, ",")
		opts.UserMetadata[name] = v
		size += len(name) + len(v)
	}
	if size > maxUserMetadata {
		return opts, errInvalidArgument("Your metadata headers exceed the maximum allowed metadata size (8 KB).")
	}
	md5sum, e := parseContentMD5(h)
	if e != nil {
		return opts, e
	}
	opts.ContentMD5 = md5sum
	if e := checkUnsupportedObjectHeaders(h); e != nil {
		return opts, e
	}
	opts.StorageClass = strings.TrimSpace(h.Get(hStorageClass))
	// x-oss-object-acl is the object's ACL; x-oss-acl (the bucket header,
	// which the v1 SDK's ACL option sends) is not an object write's
	// header and is ignored, as OSS ignores it.
	if opts.ACL, _, e = aclHeader(h, hObjectACL, true); e != nil {
		return opts, e
	}
	if opts.Tags, _, e = taggingHeader(h); e != nil {
		return opts, e
	}
	return opts, nil
}

// ossStorageClasses are the x-oss-storage-class values OSS accepts on
// object writes. Every one is kept and reported; none changes how the
// object is stored or read (see the objstore package comment).
var ossStorageClasses = map[string]bool{"Standard": true, "IA": true, "Archive": true, "ColdArchive": true, "DeepColdArchive": true}

// checkUnsupportedObjectHeaders refuses an invalid storage class and the
// object-write headers whose effect this endpoint cannot provide.
func checkUnsupportedObjectHeaders(h http.Header) *ossError {
	if vs := h.Values(hStorageClass); len(vs) > 0 && (len(vs) > 1 || !ossStorageClasses[strings.TrimSpace(vs[0])]) {
		return errInvalidArgument("The storage class you specified is not valid.").
			with("ArgumentName", "x-oss-storage-class").with("ArgumentValue", strings.Join(vs, ","))
	}
	for _, k := range []string{"X-Oss-Callback", "X-Oss-Callback-Var"} {
		if _, ok := h[k]; ok {
			return errNotImplementedHeader(k)
		}
	}
	return nil
}

// forbidOverwrite reads x-oss-forbid-overwrite.
func forbidOverwrite(h http.Header) (bool, *ossError) {
	v := strings.TrimSpace(h.Get(hForbidOverwrite))
	switch strings.ToLower(v) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, errInvalidArgument("The x-oss-forbid-overwrite header must be true or false.")
	}
}

// checkNoOverwrite answers 409 FileAlreadyExists when the object exists,
// before InitiateMultipartUpload; writes pass noOverwrite to the store,
// which checks atomically with the commit (and early, before the body).
func (h *handler) checkNoOverwrite(req *request, bucket, key string) *ossError {
	_, err := h.cfg.Store.HeadObject(req.ctx(), req.principal, bucket, key)
	switch {
	case err == nil:
		return errFileAlreadyExists()
	case objstore.KindOf(err) == objstore.KindNoSuchKey:
		return nil
	default:
		return fromStore(err, bucket, key)
	}
}

func errFileAlreadyExists() *ossError {
	return newErr(http.StatusConflict, CodeFileAlreadyExists, "The object you specified already exists and can not be overwritten.")
}

// noOverwrite is the store condition of x-oss-forbid-overwrite: true.
func noOverwrite(forbid bool) objstore.WriteCondition {
	if forbid {
		return objstore.WriteCondition{IfNoneMatch: "*"}
	}
	return objstore.WriteCondition{}
}

// fromWrite maps the error of a write made with noOverwrite: its failed
// condition is OSS's FileAlreadyExists.
func fromWrite(err error, bucket, key string) *ossError {
	if objstore.KindOf(err) == objstore.KindPreconditionFailed {
		return errFileAlreadyExists()
	}
	return fromStore(err, bucket, key)
}

// md5OfETag returns the Content-MD5 of a single-part object (its ETag is
// the hex MD5), or "".
func md5OfETag(info objstore.ObjectInfo) string {
	if info.Multipart || info.Appendable {
		return ""
	}
	sum, err := hex.DecodeString(info.ETag)
	if err != nil || len(sum) != 16 {
		return ""
	}
	return base64Std(sum)
}

// setWriteHeaders writes ETag, CRC-64, Content-MD5 and SSE headers of a
// freshly written object.
func setWriteHeaders(hdr http.Header, info objstore.ObjectInfo) {
	hdr.Set("ETag", quotedETag(info.ETag))
	hdr.Set(hCRC64, strconv.FormatUint(info.CRC64, 10))
	if m := md5OfETag(info); m != "" {
		hdr.Set("Content-MD5", m)
	}
	setSSEResponseHeaders(hdr, info.SSE)
	setVersionHeader(hdr, info.VersionID)
}

// setVersionHeader sends x-oss-version-id in buckets that have (or had)
// versioning, as OSS does.
func setVersionHeader(hdr http.Header, versionID string) {
	if versionID != "" {
		hdr.Set("X-Oss-Version-Id", versionID)
	}
}

func (h *handler) putObject(req *request) *ossError {
	r := req.r
	sse, e := parseSSEHeaders(r.Header)
	if e != nil {
		return e
	}
	opts, e := putOptions(r, sse.SSE)
	if e != nil {
		return e
	}
	if r.ContentLength > MaxObjectSize {
		return fromStore(&objstore.Error{Kind: objstore.KindEntityTooLarge}, "", "")
	}
	forbid, e := forbidOverwrite(r.Header)
	if e != nil {
		return e
	}
	opts.Condition = noOverwrite(forbid)
	body := io.Reader(r.Body)
	if r.ContentLength < 0 {
		// Chunked: cap what is read, the store sees the overflow as a
		// larger object.
		body = io.LimitReader(r.Body, MaxObjectSize+1)
	}
	info, err := h.cfg.Store.PutObject(req.ctx(), req.principal, req.res.bucket, req.res.key, body, r.ContentLength, opts)
	if err != nil {
		return fromWrite(err, req.res.bucket, req.res.key)
	}
	setWriteHeaders(req.w.Header(), info)
	writeEmpty(req.w, http.StatusOK)
	return nil
}

// setObjectHeaders writes the headers describing an object on GET and HEAD.
func setObjectHeaders(hdr http.Header, info objstore.ObjectInfo) {
	ct := info.ContentType
	if ct == "" {
		ct = defaultCType
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("ETag", quotedETag(info.ETag))
	hdr.Set("Last-Modified", httpTime(info.LastModified))
	hdr.Set("Accept-Ranges", "bytes")
	switch {
	case info.SymlinkTarget != "":
		hdr.Set("X-Oss-Object-Type", "Symlink")
	case info.Multipart:
		hdr.Set("X-Oss-Object-Type", "Multipart")
	case info.Appendable:
		hdr.Set("X-Oss-Object-Type", "Appendable")
		hdr.Set(hNextAppendPosition, strconv.FormatInt(info.Size, 10))
	default:
		hdr.Set("X-Oss-Object-Type", "Normal")
	}
	hdr.Set(hStorageClass, storageClassOf(info.StorageClass))
	// An array, not a map literal: this runs on every HEAD and GET.
	for _, kv := range [...][2]string{{"Cache-Control", info.CacheControl}, {"Content-Disposition", info.ContentDisposition},
		{"Content-Encoding", info.ContentEncoding}, {"Content-Language", info.ContentLanguage}, {"Expires", info.Expires}} {
		if kv[1] != "" {
			hdr.Set(kv[0], kv[1])
		}
	}
	for k, v := range info.UserMetadata {
		hdr.Set(hMetaPrefix+k, v)
	}
	setSSEResponseHeaders(hdr, info.SSE)
	setVersionHeader(hdr, info.VersionID)
	setTaggingCount(hdr, info)
}

// responseOverrides are GetObject's response-* parameters.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

func etagMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		t = strings.Trim(t, `"`)
		if strings.EqualFold(t, etag) {
			return true
		}
	}
	return false
}

// preconditions evaluates If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since (names given by the caller: GET/HEAD or the copy-source
// variants). notModified reports a 304 answer; a failed match is 412.
func preconditions(h http.Header, names [4]string, info objstore.ObjectInfo) (notModified bool, e *ossError) {
	lm := info.LastModified.Truncate(time.Second)
	if v := h.Get(names[0]); v != "" {
		if !etagMatches(v, info.ETag) {
			return false, errPreconditionFailed()
		}
	} else if v := h.Get(names[1]); v != "" {
		if t, err := http.ParseTime(v); err == nil && lm.After(t) {
			return false, errPreconditionFailed()
		}
	}
	if v := h.Get(names[2]); v != "" {
		if etagMatches(v, info.ETag) {
			return true, nil
		}
	} else if v := h.Get(names[3]); v != "" {
		if t, err := http.ParseTime(v); err == nil && !lm.After(t) {
			return true, nil
		}
	}
	return false, nil
}

var getConditions = [4]string{"If-Match", "If-Unmodified-Since", "If-None-Match", "If-Modified-Since"}

func writeNotModified(req *request, info objstore.ObjectInfo) {
	hdr := req.w.Header()
	hdr.Set("ETag", quotedETag(info.ETag))
	hdr.Set("Last-Modified", httpTime(info.LastModified))
	req.w.WriteHeader(http.StatusNotModified)
}

// byteRange is a resolved range request.
type byteRange struct {
	start, end int64 // inclusive
	partial    bool  // 206 with Content-Range
}

// parseRange applies OSS Range semantics to an object of size bytes.
//
// Only "bytes=" ranges are understood; anything else is ignored (whole
// object, 200). By default (no x-oss-range-behavior) a range reaching
// outside the object is ignored too, and of several ranges the first is
// used. With x-oss-range-behavior: standard a start beyond the object, a
// zero-length suffix or several ranges are 416 InvalidRange, and an end
// beyond the object is clamped (RFC 7233).
func parseRange(header string, size int64, standard bool) (byteRange, *ossError) {
	full := byteRange{start: 0, end: size - 1}
	spec, ok := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !ok || header == "" {
		return full, nil
	}
	if strings.Contains(spec, ",") {
		if standard {
			return full, errInvalidRange()
		}
		spec, _, _ = strings.Cut(spec, ",")
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return full, nil
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	num := func(s string) (int64, bool) {
		if s == "" {
			return 0, false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	switch {
	case a == "": // suffix: last n bytes
		n, ok := num(b)
		if !ok {
			return full, nil
		}
		if n == 0 || size == 0 {
			if standard {
				return full, errInvalidRange()
			}
			return full, nil
		}
		if n > size {
			if standard {
				return byteRange{start: 0, end: size - 1, partial: true}, nil
			}
			return full, nil
		}
		return byteRange{start: size - n, end: size - 1, partial: true}, nil
	default:
		start, ok := num(a)
		if !ok {
			return full, nil
		}
		end := size - 1
		open := b == ""
		if !open {
			if end, ok = num(b); !ok {
				return full, nil
			}
			if end < start {
				return full, nil
			}
		}
		if start >= size {
			if standard {
				return full, errInvalidRange()
			}
			return full, nil
		}
		if end >= size {
			if !standard && !open {
				return full, nil
			}
			end = size - 1
		}
		return byteRange{start: start, end: end, partial: true}, nil
	}
}

func (h *handler) getObject(req *request) *ossError {
	r := req.r
	obj, err := h.cfg.Store.OpenObjectVersion(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"))
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	info := obj.Info()
	if info.SymlinkTarget != "" {
		obj.Close()
		link := info
		var e *ossError
		if obj, e = h.followSymlink(req, link); e != nil {
			return e
		}
		info = asLink(obj.Info(), link)
	}
	defer obj.Close()
	notModified, e := preconditions(r.Header, getConditions, info)
	if e != nil {
		return e
	}
	if notModified {
		writeNotModified(req, info)
		return nil
	}
	standard := strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Oss-Range-Behavior")), "standard")
	rng, e := parseRange(r.Header.Get("Range"), info.Size, standard)
	if e != nil {
		return e.with("ActualObjectSize", strconv.FormatInt(info.Size, 10)).with("RangeRequested", r.Header.Get("Range"))
	}
	length := rng.end - rng.start + 1
	var body io.ReadCloser
	if length > 0 {
		body, err = obj.Range(req.ctx(), rng.start, length)
		if err != nil {
			return fromStore(err, req.res.bucket, req.res.key)
		}
		defer body.Close()
	}
	hdr := req.w.Header()
	setObjectHeaders(hdr, info)
	for param, header := range responseOverrides {
		if vs, ok := req.q[param]; ok {
			hdr.Set(header, vs[0])
		}
	}
	hdr.Set("Content-Length", strconv.FormatInt(max(length, 0), 10))
	status := http.StatusOK
	if rng.partial {
		status = http.StatusPartialContent
		hdr.Set("Content-Range", "bytes "+strconv.FormatInt(rng.start, 10)+"-"+strconv.FormatInt(rng.end, 10)+"/"+strconv.FormatInt(info.Size, 10))
	} else {
		hdr.Set(hCRC64, strconv.FormatUint(info.CRC64, 10))
		if m := md5OfETag(info); m != "" {
			hdr.Set("Content-MD5", m)
		}
	}
	req.w.WriteHeader(status)
	if body == nil {
		return nil
	}
	n, err := io.Copy(req.w, body)
	if err != nil || n != length {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		if errors.Is(err, r.Context().Err()) {
			return nil
		}
		// The store failed after the headers went out; the connection is
		// closed with a short body (Content-Length was promised).
		return fromStore(err, req.res.bucket, req.res.key)
	}
	return nil
}

func (h *handler) headObject(req *request) *ossError {
	info, err := h.cfg.Store.HeadObjectVersion(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"))
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	if info.SymlinkTarget != "" {
		var e *ossError
		if info, e = h.headSymlinkTarget(req, info); e != nil {
			return e
		}
	}
	notModified, e := preconditions(req.r.Header, getConditions, info)
	if e != nil {
		return e
	}
	if notModified {
		writeNotModified(req, info)
		return nil
	}
	hdr := req.w.Header()
	setObjectHeaders(hdr, info)
	hdr.Set(hCRC64, strconv.FormatUint(info.CRC64, 10))
	if m := md5OfETag(info); m != "" {
		hdr.Set("Content-MD5", m)
	} else if m := h.keptContentMD5(req, info); m != "" {
		hdr.Set("Content-MD5", m)
	}
	if e := h.setRestoreHeader(req, info); e != nil {
		return e
	}
	hdr.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *handler) getObjectMeta(req *request) *ossError {
	info, err := h.cfg.Store.HeadObjectVersion(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"))
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	if info.SymlinkTarget != "" {
		var e *ossError
		if info, e = h.headSymlinkTarget(req, info); e != nil {
			return e
		}
	}
	hdr := req.w.Header()
	setVersionHeader(hdr, info.VersionID)
	hdr.Set("ETag", quotedETag(info.ETag))
	hdr.Set("Last-Modified", httpTime(info.LastModified))
	hdr.Set(hCRC64, strconv.FormatUint(info.CRC64, 10))
	hdr.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// deleteObject: OSS answers x-oss-delete-marker and the marker's id when
// it created one, and with versionId echoes the id (and
// x-oss-delete-marker when the version removed was a marker).
func (h *handler) deleteObject(req *request) *ossError {
	dr, err := h.cfg.Store.DeleteObjectVersion(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"))
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	if dr.DeleteMarker {
		req.w.Header().Set("X-Oss-Delete-Marker", "true")
	}
	setVersionHeader(req.w.Header(), dr.VersionID)
	writeEmpty(req.w, http.StatusNoContent)
	return nil
}

// xmlDeleteIn is the DeleteMultipleObjects request body.
type xmlDeleteIn struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   *string  `xml:"Quiet"`
	Objects []struct {
		Key       *string `xml:"Key"`
		VersionID *string `xml:"VersionId"`
	} `xml:"Object"`
}

// deleteTarget is one object of DeleteMultipleObjects.
type deleteTarget struct{ key, versionID string }

// parseDeleteRequest parses a DeleteMultipleObjects body: 1 to 1000
// objects, each with a Key and optionally a VersionId, Quiet true or
// false (default false).
func parseDeleteRequest(body []byte) (keys []deleteTarget, quiet bool, e *ossError) {
	var in xmlDeleteIn
	if err := decodeXMLStrict(markIllegalRefs(body), &in); err != nil {
		return nil, false, errMalformedXML()
	}
	if in.Quiet != nil {
		switch strings.ToLower(strings.TrimSpace(*in.Quiet)) {
		case "true":
			quiet = true
		case "false":
		default:
			return nil, false, errMalformedXML()
		}
	}
	if len(in.Objects) == 0 || len(in.Objects) > 1000 {
		return nil, false, errMalformedXML()
	}
	for _, o := range in.Objects {
		if o.Key == nil {
			return nil, false, errMalformedXML().withEC(ecDeleteObjectWithoutKey)
		}
		key, err := unmarkRefs(*o.Key)
		if err != nil {
			return nil, false, errMalformedXML()
		}
		t := deleteTarget{key: key}
		if o.VersionID != nil {
			// A version id is hex or "null": any marked character makes
			// it one the store never made.
			t.versionID = strings.TrimSpace(*o.VersionID)
		}
		if t.versionID != "" && !objstore.ValidVersionID(t.versionID) {
			return nil, false, errNoSuchVersion()
		}
		keys = append(keys, t)
	}
	return keys, quiet, nil
}

type xmlDeleted struct {
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

type xmlDeleteResult struct {
	XMLName      xml.Name     `xml:"DeleteResult"`
	EncodingType string       `xml:"EncodingType,omitempty"`
	Deleted      []xmlDeleted `xml:"Deleted"`
}

func (h *handler) deleteMultipleObjects(req *request) *ossError {
	urlEnc, e := parseEncodingType(req.q)
	if e != nil {
		return e
	}
	if len(req.r.Header.Values("Content-MD5")) == 0 {
		return newErr(http.StatusBadRequest, CodeMissingArgument, "Missing Some Required Arguments.").withEC(ecDeleteMissingContentMD5)
	}
	body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
	if e != nil {
		return e
	}
	keys, quiet, e := parseDeleteRequest(body)
	if e != nil {
		return e
	}
	out := xmlDeleteResult{}
	if urlEnc {
		out.EncodingType = "url"
	}
	for _, t := range keys {
		dr, err := h.cfg.Store.DeleteObjectVersion(req.ctx(), req.principal, req.res.bucket, t.key, t.versionID)
		if err != nil {
			return fromStore(err, req.res.bucket, t.key)
		}
		if !quiet {
			d := xmlDeleted{Key: encodeName(t.key, urlEnc), VersionID: t.versionID}
			if dr.DeleteMarker {
				d.DeleteMarker, d.DeleteMarkerVersionID = true, dr.VersionID
			}
			out.Deleted = append(out.Deleted, d)
		}
	}
	return h.reply(req, out)
}

// parseCopySource reads x-oss-copy-source: "/bucket/key" with the key
// query-escaped (the v1 SDK writes url.QueryEscape, "+" for a space; the
// v2 SDK percent-escapes), optionally "?versionId=...".
func parseCopySource(v string) (bucket, key, versionID string, e *ossError) {
	v = strings.TrimSpace(v)
	src, version, hasVersion := strings.Cut(v, "?")
	if hasVersion {
		vq, err := url.ParseQuery(version)
		if err != nil || len(vq) != 1 || len(vq["versionId"]) != 1 || vq.Get("versionId") == "" {
			return "", "", "", errInvalidArgument("The x-oss-copy-source header is invalid.")
		}
		versionID = vq.Get("versionId")
		if !objstore.ValidVersionID(versionID) {
			return "", "", "", errNoSuchVersion()
		}
	}
	src = strings.TrimPrefix(src, "/")
	b, k, ok := strings.Cut(src, "/")
	if !ok || b == "" || k == "" {
		return "", "", "", errInvalidArgument("Copy Source must mention the source bucket and key: /sourcebucket/sourcekey.")
	}
	var err error
	if b, err = url.QueryUnescape(b); err != nil {
		return "", "", "", errInvalidArgument("The x-oss-copy-source header is invalid.")
	}
	if k, err = url.QueryUnescape(k); err != nil {
		return "", "", "", errInvalidArgument("The x-oss-copy-source header is invalid.")
	}
	return b, k, versionID, nil
}

type xmlCopyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	ETag         string   `xml:"ETag"`
	LastModified string   `xml:"LastModified"`
}

var copyConditions = [4]string{"X-Oss-Copy-Source-If-Match", "X-Oss-Copy-Source-If-Unmodified-Since",
	"X-Oss-Copy-Source-If-None-Match", "X-Oss-Copy-Source-If-Modified-Since"}

func (h *handler) copyObject(req *request) *ossError {
	r := req.r
	if len(r.Header.Values(hCopySource)) != 1 {
		return errInvalidArgument("The x-oss-copy-source header must be given once.")
	}
	srcBucket, srcKey, srcVersion, e := parseCopySource(r.Header.Get(hCopySource))
	if e != nil {
		return e
	}
	sse, e := parseSSEHeaders(r.Header)
	if e != nil {
		return e
	}
	opts, e := putOptions(r, sse.SSE)
	if e != nil {
		return e
	}
	opts.ContentMD5 = nil
	var replace, replaceTags bool
	switch d := strings.TrimSpace(r.Header.Get("X-Oss-Metadata-Directive")); d {
	case "", "COPY":
	case "REPLACE":
		replace = true
	default:
		return errInvalidArgument("The x-oss-metadata-directive header must be COPY or REPLACE.")
	}
	// The tags are the source's unless REPLACE (then x-oss-tagging's, or
	// none); the ACL is the request's x-oss-object-acl or default, never
	// the source's.
	switch d := strings.ToUpper(strings.TrimSpace(r.Header.Get(hTaggingDirective))); d {
	case "", "COPY":
	case "REPLACE":
		replaceTags = true
	default:
		return errInvalidArgument("The x-oss-tagging-directive header must be Copy or Replace.")
	}
	var conds bool
	for _, n := range copyConditions {
		if r.Header.Get(n) != "" {
			conds = true
		}
	}
	if conds || srcVersion == "" {
		src, err := h.cfg.Store.HeadObjectVersion(req.ctx(), req.principal, srcBucket, srcKey, srcVersion)
		if err != nil {
			return fromStore(err, srcBucket, srcKey)
		}
		if conds {
			notModified, e := preconditions(r.Header, copyConditions, src)
			if e != nil {
				return e
			}
			if notModified {
				return newErr(http.StatusNotModified, "NotModified", "The source object was not modified.")
			}
		}
		// OSS names the copied version in x-oss-copy-source-version-id
		// when the source bucket has (or had) versioning, addressed or
		// not: the copy is pinned to the version seen here, so the header
		// names exactly what was copied ("" in a bucket never versioned).
		srcVersion = src.VersionID
	}
	forbid, e := forbidOverwrite(r.Header)
	if e != nil {
		return e
	}
	opts.Condition = noOverwrite(forbid)
	info, err := h.cfg.Store.CopyObject(req.ctx(), req.principal, srcBucket, srcKey, req.res.bucket, req.res.key,
		objstore.CopyOptions{ReplaceMetadata: replace, Put: opts, SourceVersionID: srcVersion, ReplaceTags: replaceTags})
	if err != nil {
		b, k := req.res.bucket, req.res.key
		if kind := objstore.KindOf(err); kind == objstore.KindNoSuchKey || kind == objstore.KindNoSuchVersion {
			b, k = srcBucket, srcKey
		}
		return fromWrite(err, b, k)
	}
	hdr := req.w.Header()
	hdr.Set(hCRC64, strconv.FormatUint(info.CRC64, 10))
	setSSEResponseHeaders(hdr, info.SSE)
	setVersionHeader(hdr, info.VersionID)
	if srcVersion != "" {
		hdr.Set("X-Oss-Copy-Source-Version-Id", srcVersion)
	}
	return h.reply(req, xmlCopyObjectResult{ETag: quotedETag(info.ETag), LastModified: ossTime(info.LastModified)})
}

// archiveClasses are the classes whose objects OSS serves only once
// restored (S3's archive classes as the OSS front end reports them).
var archiveClasses = map[string]bool{"Archive": true, "ColdArchive": true, "DeepColdArchive": true}

// xmlRestoreRequest is RestoreObject's optional body.
type xmlRestoreRequest struct {
	XMLName xml.Name `xml:"RestoreRequest"`
	Days    *string  `xml:"Days"`
	Tier    *string  `xml:"JobParameters>Tier"`
}

// restoreObject answers RestoreObject: 202 Accepted for an object of an
// archive class (restore.go keeps its state), 400 OperationNotSupported
// for any other (c: OSS's code for a class that needs no restore).
// Objects of every class are readable here without a restore (see the
// package comment).
func (h *handler) restoreObject(req *request) *ossError {
	body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
	if e != nil {
		return e
	}
	days, tier := 1, "Standard"
	if len(bytes.TrimSpace(body)) != 0 {
		var in xmlRestoreRequest
		if err := decodeXMLStrict(body, &in); err != nil {
			return errMalformedXML()
		}
		if in.Days != nil {
			n, err := strconv.Atoi(strings.TrimSpace(*in.Days))
			if err != nil || n < 0 || n > 365 {
				return errInvalidArgument("The Days element must be an integer between 1 and 365.")
			}
			days = n
		}
		if in.Tier != nil {
			switch tier = strings.TrimSpace(*in.Tier); tier {
			case "Expedited", "Standard", "Bulk":
			default:
				return errInvalidArgument("The Tier element must be Expedited, Standard or Bulk.")
			}
		}
	}
	info, err := h.cfg.Store.HeadObjectVersion(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"))
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	if !archiveClasses[storageClassOf(info.StorageClass)] {
		return newErr(http.StatusBadRequest, CodeOperationNotSupported, "The operation is not supported for this resource.")
	}
	status, e := h.startRestore(req, info, days, tier)
	if e != nil {
		return e
	}
	setVersionHeader(req.w.Header(), info.VersionID)
	writeEmpty(req.w, status)
	return nil
}
