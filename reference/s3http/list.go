package s3http

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// s3URLEncode is the encoding of encoding-type=url: every byte but the
// unreserved characters and '/' is percent-encoded (space as %20, '+' as
// %2B), which both url.QueryUnescape (minio-go) and path unescaping read
// back exactly.
func s3URLEncode(s string) string { return uriEncode(s, false) }

// storageClassS3 is the S3 name of a stored class: S3's own as written,
// OSS's mapped to the nearest S3 class.
func storageClassS3(sc string) string {
	if s3StorageClasses[sc] {
		return sc
	}
	switch sc {
	case "IA":
		return "STANDARD_IA"
	case "Archive", "ColdArchive":
		return "GLACIER"
	case "DeepColdArchive":
		return "DEEP_ARCHIVE"
	}
	return "STANDARD"
}

// parseMaxKeys reads a max-keys style parameter: absent = def, at most
// limit.
func parseMaxKeys(v string, present bool, def, limit int, name string) (int, *apiError) {
	if !present {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, errInvalidArgument("Argument %s must be an integer between 0 and 2147483647", name)
	}
	if n > limit {
		n = limit
	}
	return n, nil
}

func parseEncodingType(rc *reqCtx) (bool, *apiError) {
	switch v := rc.query("encoding-type"); v {
	case "":
		return false, nil
	case "url":
		return true, nil
	default:
		return false, errInvalidArgument("Invalid Encoding Method specified in Request")
	}
}

const continuationPrefix = "sseaudit1:"

func encodeContinuation(after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(continuationPrefix + after))
}

func decodeContinuation(tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	after, ok := strings.CutPrefix(string(b), continuationPrefix)
	return after, ok
}

// listPage lists one page; maxKeys 0 returns an empty page, as on S3.
func (h *handler) listPage(rc *reqCtx, prefix, delim, after string, maxKeys int) (objstore.ListResult, *apiError) {
	if maxKeys == 0 {
		if _, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket); err != nil {
			return objstore.ListResult{}, errorFromStore(err, "")
		}
		return objstore.ListResult{}, nil
	}
	res, err := h.cfg.Store.ListObjects(rc.ctx, rc.p, rc.bucket, objstore.ListOptions{
		Prefix: prefix, Delimiter: delim, After: after, MaxKeys: maxKeys,
	})
	if err != nil {
		return objstore.ListResult{}, errorFromStore(err, "")
	}
	return res, nil
}

func (h *handler) bucketOwner(rc *reqCtx) *ownerOut {
	b, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket)
	name := b.Owner
	if err != nil || name == "" {
		name = rc.p.Name
	}
	return &ownerOut{ID: name, DisplayName: name}
}

func objectsOut(objs []objstore.ObjectInfo, enc bool, owner *ownerOut) []objectOut {
	out := make([]objectOut, 0, len(objs))
	for _, o := range objs {
		k := o.Key
		if enc {
			k = s3URLEncode(k)
		}
		oo := objectOut{Key: k, LastModified: s3Time(o.LastModified), ETag: quoteETag(o.ETag),
			Size: o.Size, StorageClass: storageClassS3(o.StorageClass), Owner: owner}
		if o.Checksum.IsSet() {
			oo.ChecksumAlgorithm, oo.ChecksumType = o.Checksum.Algorithm, o.Checksum.Type
		}
		out = append(out, oo)
	}
	return out
}

func prefixesOut(ps []string, enc bool) []prefixOut {
	out := make([]prefixOut, 0, len(ps))
	for _, p := range ps {
		if enc {
			p = s3URLEncode(p)
		}
		out = append(out, prefixOut{Prefix: p})
	}
	return out
}

func maybeEnc(s string, enc bool) string {
	if enc {
		return s3URLEncode(s)
	}
	return s
}

func (h *handler) listObjectsV2(rc *reqCtx) {
	enc, aerr := parseEncodingType(rc)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	mk, aerr := parseMaxKeys(rc.query("max-keys"), rc.has("max-keys"), 1000, 1000, "max-keys")
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	prefix, delim, startAfter := rc.query("prefix"), rc.query("delimiter"), rc.query("start-after")
	after := startAfter
	token, hasToken := rc.q["continuation-token"]
	if hasToken {
		a, ok := decodeContinuation(token[0])
		if !ok {
			rc.fail(errInvalidArgument("The continuation token provided is incorrect"))
			return
		}
		if a > after {
			after = a
		}
	}
	res, aerr := h.listPage(rc, prefix, delim, after, mk)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	var owner *ownerOut
	if rc.query("fetch-owner") == "true" {
		owner = h.bucketOwner(rc)
	}
	out := listV2Out{
		Xmlns: s3Namespace, Name: rc.bucket, Prefix: maybeEnc(prefix, enc), Delimiter: maybeEnc(delim, enc),
		MaxKeys: mk, IsTruncated: res.IsTruncated, StartAfter: maybeEnc(startAfter, enc),
		Contents: objectsOut(res.Objects, enc, owner), CommonPrefixes: prefixesOut(res.CommonPrefixes, enc),
	}
	if enc {
		out.EncodingType = "url"
	}
	if hasToken {
		out.ContinuationToken = token[0]
	}
	out.KeyCount = len(out.Contents) + len(out.CommonPrefixes)
	if res.IsTruncated {
		out.NextContinuationToken = encodeContinuation(res.NextAfter)
	}
	rc.writeXML(out)
}

func (h *handler) listObjectsV1(rc *reqCtx) {
	enc, aerr := parseEncodingType(rc)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	mk, aerr := parseMaxKeys(rc.query("max-keys"), rc.has("max-keys"), 1000, 1000, "max-keys")
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	prefix, delim, marker := rc.query("prefix"), rc.query("delimiter"), rc.query("marker")
	res, aerr := h.listPage(rc, prefix, delim, marker, mk)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	out := listV1Out{
		Xmlns: s3Namespace, Name: rc.bucket, Prefix: maybeEnc(prefix, enc), Marker: maybeEnc(marker, enc),
		Delimiter: maybeEnc(delim, enc), MaxKeys: mk, IsTruncated: res.IsTruncated,
		Contents: objectsOut(res.Objects, enc, h.bucketOwner(rc)), CommonPrefixes: prefixesOut(res.CommonPrefixes, enc),
	}
	if enc {
		out.EncodingType = "url"
	}
	if res.IsTruncated {
		out.NextMarker = maybeEnc(res.NextAfter, enc)
	}
	rc.writeXML(out)
}

// listObjectVersions is GET ?versions: Version and DeleteMarker entries in
// key order, each key's newest first, paged by key-marker and
// version-id-marker.
func (h *handler) listObjectVersions(rc *reqCtx) {
	enc, aerr := parseEncodingType(rc)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	mk, aerr := parseMaxKeys(rc.query("max-keys"), rc.has("max-keys"), 1000, 1000, "max-keys")
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	prefix, delim := rc.query("prefix"), rc.query("delimiter")
	keyMarker, idMarker := rc.query("key-marker"), rc.query("version-id-marker")
	if idMarker != "" && keyMarker == "" {
		rc.fail(errInvalidArgument("A version-id marker cannot be specified without a key marker."))
		return
	}
	owner := h.bucketOwner(rc)
	var res objstore.ListVersionsResult
	if mk == 0 {
		if _, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket); err != nil {
			rc.fail(errorFromStore(err, ""))
			return
		}
	} else {
		r, err := h.cfg.Store.ListObjectVersions(rc.ctx, rc.p, rc.bucket, objstore.ListVersionsOptions{
			Prefix: prefix, Delimiter: delim, KeyMarker: keyMarker, VersionIDMarker: idMarker, MaxKeys: mk,
		})
		if err != nil {
			rc.fail(errorFromStore(err, ""))
			return
		}
		res = r
	}
	out := listVersionsOut{
		Xmlns: s3Namespace, Name: rc.bucket, Prefix: maybeEnc(prefix, enc), KeyMarker: maybeEnc(keyMarker, enc),
		VersionIDMarker: idMarker, Delimiter: maybeEnc(delim, enc), MaxKeys: mk, IsTruncated: res.IsTruncated,
		CommonPrefixes: prefixesOut(res.CommonPrefixes, enc),
	}
	if enc {
		out.EncodingType = "url"
	}
	if res.IsTruncated {
		out.NextKeyMarker, out.NextVersionIDMarker = maybeEnc(res.NextKeyMarker, enc), res.NextVersionIDMarker
	}
	for _, v := range res.Versions {
		e := versionEntryOut{Key: maybeEnc(v.Key, enc), VersionID: v.VersionID, IsLatest: v.IsLatest,
			LastModified: s3Time(v.LastModified), Owner: owner}
		if v.DeleteMarker {
			e.XMLName.Local = "DeleteMarker"
		} else {
			size := v.Size
			e.XMLName.Local, e.ETag, e.Size, e.StorageClass = "Version", quoteETag(v.ETag), &size, storageClassS3(v.StorageClass)
			if v.Checksum.IsSet() {
				e.ChecksumAlgorithm, e.ChecksumType = v.Checksum.Algorithm, v.Checksum.Type
			}
		}
		out.Entries = append(out.Entries, e)
	}
	rc.writeXML(out)
}
