package osshttp

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// OSS canned ACLs: a bucket's is private, public-read or public-read-write;
// an object's is one of those or "default" (the bucket's applies), stored
// as objstore.ACLDefault.
const aclDefault = "default"

const (
	hBucketACL        = "X-Oss-Acl"
	hObjectACL        = "X-Oss-Object-Acl"
	hTagging          = "X-Oss-Tagging"
	hTaggingDirective = "X-Oss-Tagging-Directive"
	hTaggingCount     = "X-Oss-Tagging-Count"
	CodeInvalidTag    = "InvalidTag"
	ecTagKeyTooLong   = "0010-00000209"
	ecTagValueTooLong = "0010-00000214"
	ecInvalidTag      = "0010-00000217"
	ecTaggingHeader   = "0010-00000219"
)

// aclHeader reads a canned-ACL header: ("", false) when absent; for
// objects "default" reads as objstore.ACLDefault. A value OSS does not
// have is 400 InvalidArgument.
func aclHeader(h http.Header, name string, object bool) (string, bool, *ossError) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return "", false, nil
	}
	if len(vs) > 1 {
		return "", false, errInvalidArgument("The " + strings.ToLower(name) + " header is specified more than once.")
	}
	switch v := strings.TrimSpace(vs[0]); v {
	case objstore.ACLPrivate, objstore.ACLPublicRead, objstore.ACLPublicReadWrite:
		return v, true, nil
	case aclDefault:
		if object {
			return objstore.ACLDefault, true, nil
		}
	}
	return "", false, errInvalidArgument("no such bucket access control exists").
		with("ArgumentName", strings.ToLower(name)).with("ArgumentValue", vs[0])
}

// objectACLName is how OSS names an object's stored ACL.
func objectACLName(acl string) string {
	if acl == objstore.ACLDefault {
		return aclDefault
	}
	return acl
}

// ossTagChar reports whether OSS allows r in a tag key or value: letters,
// digits, space and + - = . _ : /.
func ossTagChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || strings.ContainsRune("+-=._:/", r)
}

// checkTags applies OSS's tag rules, answering its codes: InvalidTag
// with the EC of the broken rule.
func checkTags(tags []objstore.Tag) *ossError {
	for _, t := range tags {
		for _, s := range []string{t.Key, t.Value} {
			if strings.IndexFunc(s, func(r rune) bool { return !ossTagChar(r) }) >= 0 {
				return newErr(http.StatusBadRequest, CodeInvalidTag, "The tag contains characters OSS does not allow (letters, digits, spaces and + - = . _ : / only).").withEC(ecInvalidTag)
			}
		}
	}
	err := objstore.CheckTags(tags)
	if err == nil {
		return nil
	}
	var se *objstore.Error
	errors.As(err, &se)
	ec := ecInvalidTag
	switch {
	case strings.Contains(se.Message, "TagKey you have provided is too long"):
		ec = ecTagKeyTooLong
	case strings.Contains(se.Message, "TagValue you have provided is too long"):
		ec = ecTagValueTooLong
	}
	return newErr(http.StatusBadRequest, CodeInvalidTag, se.Message).withEC(ec)
}

// taggingHeader reads x-oss-tagging: URL-encoded key=value pairs joined
// by & ("key" alone has an empty value). (nil, false) when absent.
func taggingHeader(h http.Header) ([]objstore.Tag, bool, *ossError) {
	vs := h.Values(hTagging)
	if len(vs) == 0 {
		return nil, false, nil
	}
	bad := func() ([]objstore.Tag, bool, *ossError) {
		return nil, false, errInvalidArgument("The x-oss-tagging header must be key1=value1&key2=value2, URL-encoded.").withEC(ecTaggingHeader)
	}
	if len(vs) > 1 {
		return bad()
	}
	var tags []objstore.Tag
	if v := vs[0]; v != "" {
		for _, pair := range strings.Split(v, "&") {
			k, val, _ := strings.Cut(pair, "=")
			if strings.Contains(val, "=") {
				return bad()
			}
			dk, err1 := url.QueryUnescape(k)
			dv, err2 := url.QueryUnescape(val)
			if err1 != nil || err2 != nil {
				return bad()
			}
			tags = append(tags, objstore.Tag{Key: dk, Value: dv})
		}
	}
	if e := checkTags(tags); e != nil {
		return nil, false, e
	}
	return tags, true, nil
}

// setTaggingCount sends x-oss-tagging-count on GET and HEAD of an object
// with tags, as OSS does.
func setTaggingCount(hdr http.Header, info objstore.ObjectInfo) {
	if n := len(info.Tags); n > 0 {
		hdr.Set(hTaggingCount, strconv.Itoa(n))
	}
}

func (h *handler) putBucketACL(req *request) *ossError {
	acl, ok, e := aclHeader(req.r.Header, hBucketACL, false)
	if e != nil {
		return e
	}
	if !ok {
		return errInvalidArgument("PutBucketAcl needs the x-oss-acl header.")
	}
	if e := h.refusePublic(req, acl); e != nil {
		return e
	}
	if err := h.cfg.Store.PutBucketACL(req.ctx(), req.principal, req.res.bucket, acl); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	writeEmpty(req.w, http.StatusOK)
	return nil
}

func (h *handler) getObjectACL(req *request) *ossError {
	info, err := h.cfg.Store.HeadObjectVersion(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"))
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	b, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	setVersionHeader(req.w.Header(), info.VersionID)
	return h.reply(req, xmlAccessControlPolicy{Owner: ownerOf(b.Owner), Grant: objectACLName(info.ACL)})
}

func (h *handler) putObjectACL(req *request) *ossError {
	acl, ok, e := aclHeader(req.r.Header, hObjectACL, true)
	if e != nil {
		return e
	}
	if !ok {
		return errInvalidArgument("PutObjectACL needs the x-oss-object-acl header.")
	}
	if e := h.refusePublic(req, acl); e != nil {
		return e
	}
	info, err := h.cfg.Store.PutObjectACL(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"), acl)
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	setVersionHeader(req.w.Header(), info.VersionID)
	writeEmpty(req.w, http.StatusOK)
	return nil
}

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlTagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Tags    []xmlTag `xml:"TagSet>Tag"`
}

func (h *handler) putObjectTagging(req *request) *ossError {
	body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
	if e != nil {
		return e
	}
	var in xmlTagging
	if err := xml.Unmarshal(body, &in); err != nil {
		return errMalformedXML()
	}
	tags := make([]objstore.Tag, 0, len(in.Tags))
	for _, t := range in.Tags {
		tags = append(tags, objstore.Tag(t))
	}
	if e := checkTags(tags); e != nil {
		return e
	}
	info, err := h.cfg.Store.PutObjectTagging(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"), tags)
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	setVersionHeader(req.w.Header(), info.VersionID)
	writeEmpty(req.w, http.StatusOK)
	return nil
}

func (h *handler) getObjectTagging(req *request) *ossError {
	info, err := h.cfg.Store.HeadObjectVersion(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"))
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	out := xmlTagging{Tags: make([]xmlTag, 0, len(info.Tags))}
	for _, t := range info.Tags {
		out.Tags = append(out.Tags, xmlTag(t))
	}
	setVersionHeader(req.w.Header(), info.VersionID)
	return h.reply(req, out)
}

func (h *handler) deleteObjectTagging(req *request) *ossError {
	info, err := h.cfg.Store.PutObjectTagging(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"), nil)
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	setVersionHeader(req.w.Header(), info.VersionID)
	writeEmpty(req.w, http.StatusNoContent)
	return nil
}

type xmlCopyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// uploadPartCopy copies a range of an existing object (x-oss-copy-source,
// x-oss-copy-source-range) into a part. The part is encrypted as every
// part of its upload is: with the upload's data key, fixed when the
// upload was initiated from its request or the bucket's default, never
// with the source's settings. The source is opened with its own data key
// (the principal's read and decrypt permission, the key's state).
func (h *handler) uploadPartCopy(req *request, n int, uploadID string) *ossError {
	r := req.r
	if len(r.Header.Values(hCopySource)) != 1 {
		return errInvalidArgument("The x-oss-copy-source header must be given once.")
	}
	srcBucket, srcKey, srcVersion, e := parseCopySource(r.Header.Get(hCopySource))
	if e != nil {
		return e
	}
	src, err := h.cfg.Store.HeadObjectVersion(req.ctx(), req.principal, srcBucket, srcKey, srcVersion)
	if err != nil {
		return fromStore(err, srcBucket, srcKey)
	}
	if src.SymlinkTarget != "" {
		// A link has no bytes of its own to copy into a part; which bytes
		// OSS would copy is undocumented, so the request is refused.
		return errInvalidArgument("The copy source is a symbolic link; copy a part of its target (" + src.SymlinkTarget + ") instead.")
	}
	notModified, e := preconditions(r.Header, copyConditions, src)
	if e != nil {
		return e
	}
	if notModified {
		return newErr(http.StatusNotModified, "NotModified", "The source object was not modified.")
	}
	// Pin the version seen by the preconditions.
	obj, err := h.cfg.Store.OpenObjectVersion(req.ctx(), req.principal, srcBucket, srcKey, src.VersionID)
	if err != nil {
		return fromStore(err, srcBucket, srcKey)
	}
	defer obj.Close()
	size := obj.Info().Size
	off, length := int64(0), size
	// A range that is not valid for the source copies the whole source,
	// as OSS documents (GetObject's default range behaviour).
	if v := r.Header.Get("X-Oss-Copy-Source-Range"); v != "" && size > 0 {
		rg, _ := parseRange(v, size, false)
		off, length = rg.start, rg.end-rg.start+1
	}
	if length > MaxObjectSize {
		return fromStore(&objstore.Error{Kind: objstore.KindEntityTooLarge}, "", "")
	}
	var rd io.ReadCloser = io.NopCloser(http.NoBody)
	if length > 0 {
		if rd, err = obj.Range(req.ctx(), off, length); err != nil {
			return fromStore(err, srcBucket, srcKey)
		}
	}
	defer rd.Close()
	part, up, err := h.cfg.Store.UploadPart(req.ctx(), req.principal, req.res.bucket, req.res.key, uploadID, n, rd, length, objstore.PartOptions{})
	if err != nil {
		e := fromStore(err, req.res.bucket, req.res.key)
		if e.Code == CodeNoSuchUpload {
			e.withEC(ecNoSuchUploadPartCopy)
		}
		return e
	}
	hdr := req.w.Header()
	setSSEResponseHeaders(hdr, up.SSE)
	if src.VersionID != "" {
		hdr.Set("X-Oss-Copy-Source-Version-Id", src.VersionID)
	}
	return h.reply(req, xmlCopyPartResult{LastModified: ossTime(part.LastModified), ETag: quotedETag(part.ETag)})
}
