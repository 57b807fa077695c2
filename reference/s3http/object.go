package s3http

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

const (
	maxSinglePut     = 5 << 30 // S3's limit for PutObject and one part
	maxUserMetadata  = 2 << 10 // S3's limit for x-amz-meta-* (names + values)
	userMetaPrefix   = "x-amz-meta-"
	defaultMediaType = "binary/octet-stream"
)

// putOptions reads the content headers and user metadata of a write.
func putOptions(r *http.Request) (objstore.PutOptions, *apiError) {
	h := r.Header
	opts := objstore.PutOptions{
		ContentType:        h.Get("Content-Type"),
		CacheControl:       h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		Expires:            h.Get("Expires"),
	}
	opts.ContentEncoding = storedContentEncoding(h.Values("Content-Encoding"))
	total := 0
	for k, vals := range h {
		lk := strings.ToLower(k)
		name, ok := strings.CutPrefix(lk, userMetaPrefix)
		if !ok {
			continue
		}
		if name == "" {
			return opts, errInvalidArgument("A user metadata header needs a name after x-amz-meta-")
		}
		if opts.UserMetadata == nil {
			opts.UserMetadata = map[string]string{}
		}
		v := strings.Join(vals, ",")
		opts.UserMetadata[name] = v
		total += len(name) + len(v)
	}
	if total > maxUserMetadata {
		return opts, newErr(http.StatusBadRequest, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")
	}
	// Retention and legal holds are not kept: a write asking for one must
	// not succeed as if the version were protected.
	for _, k := range []string{"X-Amz-Object-Lock-Mode", "X-Amz-Object-Lock-Retain-Until-Date", "X-Amz-Object-Lock-Legal-Hold"} {
		if h.Get(k) != "" {
			return opts, errNotImplemented(strings.ToLower(k))
		}
	}
	if vs := h.Values("X-Amz-Storage-Class"); len(vs) > 0 {
		if len(vs) > 1 || !s3StorageClasses[vs[0]] {
			return opts, newErr(http.StatusBadRequest, "InvalidStorageClass", "The storage class you specified is not valid")
		}
		opts.StorageClass = vs[0]
	}
	// The canned ACL takes effect (kept, reported by GetObjectAcl); an
	// explicit grant is refused. No header is private.
	var aerr *apiError
	if opts.ACL, _, aerr = cannedACLHeader(h, objectCannedACLs); aerr != nil {
		return opts, aerr
	}
	if opts.Tags, aerr = taggingHeader(h); aerr != nil {
		return opts, aerr
	}
	return opts, nil
}

// storedContentEncoding is the Content-Encoding S3 keeps: the header as
// sent (several header lines joined by ", "), less the aws-chunked token,
// which is a transfer detail. Everything else, spacing included, is kept
// byte for byte, as S3 returns it ("deflate, gzip" stays "deflate, gzip").
func storedContentEncoding(vals []string) string {
	v := strings.Join(vals, ", ")
	if !strings.Contains(strings.ToLower(v), "aws-chunked") {
		return v
	}
	var keep []string
	for _, e := range strings.Split(v, ",") {
		if t := strings.TrimSpace(e); t != "" && !strings.EqualFold(t, "aws-chunked") {
			keep = append(keep, e)
		}
	}
	return strings.TrimSpace(strings.Join(keep, ","))
}

// s3StorageClasses are the x-amz-storage-class values S3 accepts on
// writes. Every one is kept and reported; none changes how the object is
// stored or read (see the objstore package comment).
var s3StorageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "GLACIER_IR": true,
	"OUTPOSTS": true, "EXPRESS_ONEZONE": true, "SNOW": true,
}

// writeCondition reads If-Match and If-None-Match of a write (PutObject,
// CompleteMultipartUpload).
func writeCondition(h http.Header) objstore.WriteCondition {
	return objstore.WriteCondition{IfMatch: strings.TrimSpace(h.Get("If-Match")), IfNoneMatch: strings.TrimSpace(h.Get("If-None-Match"))}
}

// setObjectHeaders sets the metadata headers of GET/HEAD.
func (h *handler) setObjectHeaders(hd http.Header, info objstore.ObjectInfo) {
	ct := info.ContentType
	if ct == "" {
		ct = defaultMediaType
	}
	hd.Set("Content-Type", ct)
	hd.Set("ETag", quoteETag(info.ETag))
	hd.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	hd.Set("Accept-Ranges", "bytes")
	for name, v := range map[string]string{
		"Cache-Control": info.CacheControl, "Content-Disposition": info.ContentDisposition,
		"Content-Encoding": info.ContentEncoding, "Content-Language": info.ContentLanguage, "Expires": info.Expires,
	} {
		if v != "" {
			hd.Set(name, v)
		}
	}
	keys := make([]string, 0, len(info.UserMetadata))
	for k := range info.UserMetadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// S3 sends user metadata names in lower case (as stored), and boto3
	// and the AWS CLI return them as they came on the wire: a canonical
	// X-Amz-Meta-Foo would read as {'Foo': ...}. Setting the map entry
	// directly keeps net/http from canonicalising the name.
	for _, k := range keys {
		hd[userMetaPrefix+k] = []string{info.UserMetadata[k]}
	}
	if sc := storageClassS3(info.StorageClass); sc != "STANDARD" {
		hd.Set("X-Amz-Storage-Class", sc)
	}
	h.setSSEHeaders(hd, info.SSE)
	setVersionHeader(hd, info.VersionID)
	if n := len(info.Tags); n > 0 {
		hd.Set(hTaggingCount, strconv.Itoa(n))
	}
}

// setVersionHeader sends x-amz-version-id in buckets that have (or had)
// versioning; S3 sends none in a bucket that never had it.
func setVersionHeader(h http.Header, versionID string) {
	if versionID != "" {
		h.Set("X-Amz-Version-Id", versionID)
	}
}

// parseRange parses a single "bytes=" range against size. ok=false means
// the header is to be ignored (not a bytes range, or several ranges, as S3
// does); an error means it is unsatisfiable (416).
func parseRange(v string, size int64) (off, length int64, ok bool, aerr *apiError) {
	spec, found := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	unsat := func() *apiError {
		e := newErr(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable").
			with("RangeRequested", truncate(v, 64)).with("ActualObjectSize", strconv.FormatInt(size, 10))
		e.Headers = map[string]string{"Content-Range": "bytes */" + strconv.FormatInt(size, 10)}
		return e
	}
	if first == "" {
		// Suffix range: the last n bytes.
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, unsat()
		}
		if n > size {
			n = size
		}
		return size - n, n, true, nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false, nil
	}
	end := size - 1
	if last != "" {
		e, err := strconv.ParseInt(last, 10, 64)
		if err != nil || e < start {
			return 0, 0, false, nil
		}
		if e < end {
			end = e
		}
	}
	if start >= size {
		return 0, 0, false, unsat()
	}
	return start, end - start + 1, true, nil
}

// precondition evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since as S3 does. It returns 0 to proceed, 304 or 412.
func precondition(h http.Header, etag string, mod time.Time, prefix string, notModified int) int {
	mod = mod.UTC().Truncate(time.Second)
	etag = strings.ToLower(strings.Trim(etag, `"`))
	matches := func(list string) bool {
		for _, e := range strings.Split(list, ",") {
			e = strings.TrimSpace(e)
			e = strings.TrimPrefix(e, "W/")
			if e == "*" || strings.ToLower(strings.Trim(e, `"`)) == etag {
				return true
			}
		}
		return false
	}
	ifMatch := h.Get(prefix + "If-Match")
	ifNone := h.Get(prefix + "If-None-Match")
	ifUnmod := h.Get(prefix + "If-Unmodified-Since")
	ifMod := h.Get(prefix + "If-Modified-Since")
	if ifMatch != "" {
		if !matches(ifMatch) {
			return http.StatusPreconditionFailed
		}
	} else if ifUnmod != "" {
		if t, err := http.ParseTime(ifUnmod); err == nil && mod.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if ifNone != "" {
		if matches(ifNone) {
			return notModified
		}
	} else if ifMod != "" {
		if t, err := http.ParseTime(ifMod); err == nil && !mod.After(t) {
			return notModified
		}
	}
	return 0
}

func errPreconditionFailed(cond string) *apiError {
	return newErr(http.StatusPreconditionFailed, "PreconditionFailed",
		"At least one of the pre-conditions you specified did not hold").with("Condition", cond)
}

var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

// getObject serves GET and HEAD. HEAD reads metadata only (no KMS call);
// GET opens the object, which checks decrypt permission and the KMS key.
func (h *handler) getObject(rc *reqCtx, head bool) {
	r := rc.r
	if aerr := refuseSSEOnRead(r.Header); aerr != nil {
		rc.fail(aerr)
		return
	}
	// An SSE-C object answers only to its customer key (the store checks
	// it on HEAD too: 400 without, 403 with another).
	ctx, ck, aerr := withCustomerKey(rc.ctx, r.Header, false)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	partNumber := 0
	if v, ok := rc.q["partNumber"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > 10000 {
			rc.fail(errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive"))
			return
		}
		if r.Header.Get("Range") != "" {
			rc.fail(errInvalidRequest("Cannot specify both Range header and partNumber query parameter"))
			return
		}
		partNumber = n
	}
	var info objstore.ObjectInfo
	var obj objstore.Object
	versionID := rc.query("versionId")
	if head {
		i, err := h.cfg.Store.HeadObjectVersion(ctx, rc.p, rc.bucket, rc.key, versionID)
		if err != nil {
			rc.fail(errorFromStore(err, rc.key))
			return
		}
		info = i
	} else {
		o, err := h.cfg.Store.OpenObjectVersion(ctx, rc.p, rc.bucket, rc.key, versionID)
		if err != nil {
			rc.fail(errorFromStore(err, rc.key))
			return
		}
		defer o.Close()
		obj, info = o, o.Info()
	}
	switch precondition(r.Header, info.ETag, info.LastModified, "", http.StatusNotModified) {
	case http.StatusPreconditionFailed:
		rc.fail(errPreconditionFailed("If-Match"))
		return
	case http.StatusNotModified:
		hd := rc.w.Header()
		hd.Set("ETag", quoteETag(info.ETag))
		hd.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
		setVersionHeader(hd, info.VersionID)
		rc.w.WriteHeader(http.StatusNotModified)
		return
	}
	off, length, status := int64(0), info.Size, http.StatusOK
	// cks is the checksum of exactly the bytes answered, when one is kept:
	// the object's, a part's, none for a byte range.
	cks := info.Checksum
	if partNumber > 0 {
		if partNumber > max(len(info.Parts), 1) {
			rc.fail(newErr(http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable"))
			return
		}
		if info.Multipart {
			for _, p := range info.Parts[:partNumber-1] {
				off += p.Size
			}
			part := info.Parts[partNumber-1]
			length = part.Size
			if length > 0 { // an empty part has no byte range to name
				status = http.StatusPartialContent
			}
			cks = part.Checksum
			cks.Type = info.Checksum.Type
			rc.w.Header().Set("X-Amz-Mp-Parts-Count", strconv.Itoa(len(info.Parts)))
		}
	} else if v := r.Header.Get("Range"); v != "" {
		o, l, ok, aerr := parseRange(v, info.Size)
		if aerr != nil {
			rc.fail(aerr)
			return
		}
		if ok {
			off, length, status = o, l, http.StatusPartialContent
			cks = objstore.Checksum{}
		}
	}
	hd := rc.w.Header()
	h.setObjectHeaders(hd, info)
	echoCustomerKey(hd, info.SSE, ck)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get(hChecksumMode)), "ENABLED") {
		setChecksumHeaders(hd, cks)
	}
	for q, name := range responseOverrides {
		if v, ok := rc.q[q]; ok {
			hd.Set(name, v[0])
		}
	}
	if status == http.StatusPartialContent {
		hd.Set("Content-Range", "bytes "+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+length-1, 10)+"/"+strconv.FormatInt(info.Size, 10))
	}
	hd.Set("Content-Length", strconv.FormatInt(length, 10))
	if head {
		rc.w.WriteHeader(status)
		return
	}
	var body io.ReadCloser
	if length > 0 {
		b, err := obj.Range(rc.ctx, off, length)
		if err != nil {
			for k := range hd {
				if k != "X-Amz-Request-Id" && k != "X-Amz-Id-2" && k != "Server" {
					hd.Del(k)
				}
			}
			rc.fail(errorFromStore(err, rc.key))
			return
		}
		defer b.Close()
		body = b
	}
	rc.w.WriteHeader(status)
	if body == nil {
		return
	}
	n, err := io.Copy(rc.w, body)
	if err != nil || n != length {
		// The status line is out: cut the connection so the client sees a
		// truncated body, never a short object that looks complete.
		msg := "s3: object body failed mid-stream"
		if objstore.IsIntegrity(err) {
			msg = "s3: integrity check failed mid-stream; response aborted"
		}
		h.log.Error(msg, "request_id", rc.reqID, "bucket", rc.bucket,
			"key", rc.key, "sent", n, "want", length, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func (h *handler) putObject(rc *reqCtx) {
	info, ok := h.storePut(rc, true, nil)
	if !ok {
		return
	}
	hd := rc.w.Header()
	hd.Set("ETag", quoteETag(info.ETag))
	h.setSSEHeaders(hd, info.SSE)
	if _, ck, _ := parseSSEOrCustomer(rc.r.Header); ck != nil {
		echoCustomerKey(hd, info.SSE, ck)
	}
	setChecksumHeaders(hd, info.Checksum)
	setVersionHeader(hd, info.VersionID)
	hd.Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

// storePut stores rc's body as rc.key with the encryption, metadata,
// checksum and conditions of rc's headers: what PutObject and a form upload
// (postpolicy.go, whose fields become these headers) share. srcErr, when
// set, may explain a failed body before the generic checks do. On failure
// it has answered the request and returns false.
func (h *handler) storePut(rc *reqCtx, requireLength bool, srcErr func() *apiError) (objstore.ObjectInfo, bool) {
	r := rc.r
	fail := func(ae *apiError) (objstore.ObjectInfo, bool) {
		rc.fail(ae)
		return objstore.ObjectInfo{}, false
	}
	sse, aerr := parseSSERequest(r.Header)
	if aerr != nil {
		return fail(aerr)
	}
	opts, aerr := putOptions(r)
	if aerr != nil {
		return fail(aerr)
	}
	opts.SSE = sse
	opts.Condition = writeCondition(r.Header)
	if opts.ContentMD5, aerr = parseContentMD5(r); aerr != nil {
		return fail(aerr)
	}
	b, aerr := rc.openBody(true, nil, requireLength)
	if aerr != nil {
		return fail(aerr)
	}
	if opts.ChecksumAlgorithm, aerr = writeChecksumAlgorithm(r.Header, b.r.cks); aerr != nil {
		return fail(aerr)
	}
	if b.size > maxSinglePut {
		return fail(newErr(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."))
	}
	if aerr := b.preverifyEmpty(); aerr != nil {
		return fail(aerr)
	}
	info, err := h.cfg.Store.PutObject(rc.ctx, rc.p, rc.bucket, rc.key, b.r, b.size, opts)
	if err != nil {
		if srcErr != nil {
			if ae := srcErr(); ae != nil {
				return fail(ae)
			}
		}
		if ae := b.r.bodyError(); ae != nil {
			return fail(ae)
		}
		return fail(errorFromStore(err, rc.key))
	}
	return info, true
}

// preverifyEmpty checks a zero-length body completely before the store is
// called, since a store may never read an empty body (and so never run its
// checks: the final chunk signature, the payload hash, a trailer).
func (b *body) preverifyEmpty() *apiError {
	if b.size != 0 {
		return nil
	}
	if _, err := io.Copy(io.Discard, b.r); err != nil {
		if ae := b.r.bodyError(); ae != nil {
			return ae
		}
		return newErr(http.StatusBadRequest, "IncompleteBody", "Reading the request body failed.")
	}
	return nil
}

// verifiedChecksum is the checksum the client declared for the body, once
// the verifying reader has checked it.
func (b *body) verifiedChecksum() objstore.Checksum {
	if b.r.cks != nil && b.r.checked && b.r.err == nil && b.r.cks.Expected != nil {
		return objstore.Checksum{Algorithm: b.r.cks.Algo.Name, Type: objstore.ChecksumFullObject, Value: b.r.cks.Expected}
	}
	return objstore.Checksum{}
}

// deleteObject: without versionId S3 answers x-amz-delete-marker and the
// marker's id when it created one; with versionId it echoes the id, and
// x-amz-delete-marker when the version removed was a marker.
func (h *handler) deleteObject(rc *reqCtx) {
	dr, err := h.cfg.Store.DeleteObjectVersion(rc.ctx, rc.p, rc.bucket, rc.key, rc.query("versionId"))
	if err != nil && objstore.KindOf(err) != objstore.KindNoSuchKey {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	if dr.DeleteMarker {
		rc.w.Header().Set("X-Amz-Delete-Marker", "true")
	}
	setVersionHeader(rc.w.Header(), dr.VersionID)
	rc.w.WriteHeader(http.StatusNoContent)
}

// parseCopySource decodes x-amz-copy-source:
// "[/]bucket/key[?versionId=id]", URL-encoded.
func parseCopySource(v string) (bucket, key, versionID string, aerr *apiError) {
	v = strings.TrimSpace(v)
	raw, query, hasQuery := strings.Cut(v, "?")
	if hasQuery {
		vals, err := url.ParseQuery(query)
		if err != nil {
			return "", "", "", errInvalidArgument("Invalid copy source encoding")
		}
		for k, vs := range vals {
			if k != "versionId" || len(vs) != 1 || vs[0] == "" {
				return "", "", "", errInvalidArgument("Invalid version id specified")
			}
			versionID = vs[0]
		}
	}
	dec, err := url.PathUnescape(strings.TrimPrefix(raw, "/"))
	if err != nil {
		return "", "", "", errInvalidArgument("Invalid copy source encoding")
	}
	bucket, key, _ = strings.Cut(dec, "/")
	if bucket == "" || key == "" {
		return "", "", "", errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	return bucket, key, versionID, nil
}

// checkCopyPreconditions evaluates x-amz-copy-source-if-* against the
// source; any failure is 412.
func (h *handler) checkCopyPreconditions(rc *reqCtx, srcCtx context.Context, srcBucket, srcKey, srcVersion string) *apiError {
	hd := rc.r.Header
	any := false
	for _, n := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if hd.Get("X-Amz-Copy-Source-"+n) != "" {
			any = true
		}
	}
	if !any {
		return nil
	}
	info, err := h.cfg.Store.HeadObjectVersion(srcCtx, rc.p, srcBucket, srcKey, srcVersion)
	if err != nil {
		return errorFromStore(err, srcKey)
	}
	if precondition(hd, info.ETag, info.LastModified, "X-Amz-Copy-Source-", http.StatusPreconditionFailed) != 0 {
		return errPreconditionFailed("x-amz-copy-source-If-*")
	}
	return nil
}

// copyObject: the destination gets the request's SSE headers or else the
// destination bucket's default, never the source's encryption (as on S3).
// A copy onto itself must change something: REPLACE metadata, or ask for
// encryption (which re-encrypts under a fresh data key), or name a storage
// class.
func (h *handler) copyObject(rc *reqCtx) {
	r := rc.r
	srcBucket, srcKey, srcVersion, aerr := parseCopySource(r.Header.Get("X-Amz-Copy-Source"))
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	var replace bool
	switch d := r.Header.Get("X-Amz-Metadata-Directive"); d {
	case "", "COPY":
	case "REPLACE":
		replace = true
	default:
		rc.fail(errInvalidArgument("Unknown metadata directive."))
		return
	}
	// Tags are the source's unless REPLACE; the ACL is never copied (S3:
	// the copy is private unless x-amz-acl says otherwise).
	replaceTags, aerr := taggingDirective(r.Header)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	sse, dstKey, aerr := parseSSEOrCustomer(r.Header)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	// The source's customer key (x-amz-copy-source-...-customer-*) opens
	// an SSE-C source, for the preconditions' HEAD and the copy itself.
	srcCtx, _, aerr := withCustomerKey(rc.ctx, r.Header, true)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	opts, aerr := putOptions(r)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	opts.SSE = sse
	if aerr := refuseChecksumValues(r.Header, "CopyObject"); aerr != nil {
		rc.fail(aerr)
		return
	}
	if opts.ChecksumAlgorithm, aerr = requestedAlgorithm(r.Header); aerr != nil {
		rc.fail(aerr)
		return
	}
	// Copying an older version onto its key restores it: that changes
	// the object, as S3 agrees.
	if srcBucket == rc.bucket && srcKey == rc.key && srcVersion == "" && !replace && sse.Algorithm == "" && opts.StorageClass == "" && opts.ChecksumAlgorithm == "" {
		rc.fail(errInvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."))
		return
	}
	if opts.StorageClass == "" {
		// S3 does not copy the class: without the header the copy is STANDARD.
		opts.StorageClass = "STANDARD"
	}
	if aerr := h.checkCopyPreconditions(rc, srcCtx, srcBucket, srcKey, srcVersion); aerr != nil {
		rc.fail(aerr)
		return
	}
	info, err := h.cfg.Store.CopyObject(srcCtx, rc.p, srcBucket, srcKey, rc.bucket, rc.key,
		objstore.CopyOptions{ReplaceMetadata: replace, Put: opts, SourceVersionID: srcVersion, ReplaceTags: replaceTags})
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	h.setSSEHeaders(rc.w.Header(), info.SSE)
	echoCustomerKey(rc.w.Header(), info.SSE, dstKey)
	setVersionHeader(rc.w.Header(), info.VersionID)
	if srcVersion != "" {
		rc.w.Header().Set("X-Amz-Copy-Source-Version-Id", srcVersion)
	}
	rc.writeXML(copyObjectOut{Xmlns: s3Namespace, LastModified: s3Time(info.LastModified), ETag: quoteETag(info.ETag),
		checksumXML: checksumOut(info.Checksum, true), ChecksumType: info.Checksum.Type})
}
