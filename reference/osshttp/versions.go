package osshttp

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

type xmlVersioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Status  *string  `xml:"Status"`
}

type xmlVersioningOut struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Status  string   `xml:"Status,omitempty"`
}

// putBucketVersioning sets Enabled or Suspended; a body that is not a
// VersioningConfiguration is MalformedXML, any other Status
// InvalidArgument, as OSS answers.
func (h *handler) putBucketVersioning(req *request) *ossError {
	body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
	if e != nil {
		return e
	}
	var c xmlVersioningConfiguration
	if err := decodeXMLStrict(body, &c); err != nil {
		return errMalformedXML()
	}
	status := ""
	if c.Status != nil {
		status = strings.TrimSpace(*c.Status)
	}
	if status != objstore.VersioningEnabled && status != objstore.VersioningSuspended {
		return errInvalidArgument("The versioning status must be Enabled or Suspended.").
			with("ArgumentName", "Status").with("ArgumentValue", status)
	}
	if err := h.cfg.Store.PutBucketVersioning(req.ctx(), req.principal, req.res.bucket, status); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	writeEmpty(req.w, http.StatusOK)
	return nil
}

// getBucketVersioning answers a VersioningConfiguration without Status for
// a bucket that never had versioning.
func (h *handler) getBucketVersioning(req *request) *ossError {
	b, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	return h.reply(req, xmlVersioningOut{Status: b.Versioning})
}

// xmlVersionEntry is a Version or a DeleteMarker (XMLName says which), so
// that both kinds keep the listing's order in one slice, as on OSS.
type xmlVersionEntry struct {
	XMLName      xml.Name
	Key          string    `xml:"Key"`
	VersionID    string    `xml:"VersionId"`
	IsLatest     bool      `xml:"IsLatest"`
	LastModified string    `xml:"LastModified"`
	ETag         string    `xml:"ETag,omitempty"`
	Type         string    `xml:"Type,omitempty"`
	Size         *int64    `xml:"Size,omitempty"`
	StorageClass string    `xml:"StorageClass,omitempty"`
	Owner        *xmlOwner `xml:"Owner,omitempty"`
}

type xmlListVersionsResult struct {
	XMLName             xml.Name          `xml:"ListVersionsResult"`
	Name                string            `xml:"Name"`
	Prefix              string            `xml:"Prefix"`
	KeyMarker           string            `xml:"KeyMarker"`
	VersionIDMarker     string            `xml:"VersionIdMarker"`
	MaxKeys             int               `xml:"MaxKeys"`
	Delimiter           string            `xml:"Delimiter"`
	IsTruncated         bool              `xml:"IsTruncated"`
	NextKeyMarker       string            `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string            `xml:"NextVersionIdMarker,omitempty"`
	EncodingType        string            `xml:"EncodingType,omitempty"`
	Entries             []xmlVersionEntry // Version and DeleteMarker elements
	CommonPrefixes      []xmlCommonPrefix `xml:"CommonPrefixes"`
}

// listObjectVersions is GET ?versions: every version and delete marker in
// key order, each key's newest first, paged by key-marker and
// version-id-marker (max-keys 1..1000, default 100).
func (h *handler) listObjectVersions(req *request) *ossError {
	q := req.q
	urlEnc, e := parseEncodingType(q)
	if e != nil {
		return e
	}
	maxKeys, e := parseMaxKeys(q, "max-keys", 100)
	if e != nil {
		return e
	}
	owner, e := h.bucketOwner(req)
	if e != nil {
		return e
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	keyMarker, idMarker := q.Get("key-marker"), q.Get("version-id-marker")
	if idMarker != "" && keyMarker == "" {
		return errInvalidArgument("A version-id marker cannot be specified without a key marker.")
	}
	res, err := h.cfg.Store.ListObjectVersions(req.ctx(), req.principal, req.res.bucket, objstore.ListVersionsOptions{
		Prefix: prefix, Delimiter: delim, KeyMarker: keyMarker, VersionIDMarker: idMarker, MaxKeys: maxKeys,
	})
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	out := xmlListVersionsResult{
		Name: req.res.bucket, Prefix: encodeName(prefix, urlEnc), KeyMarker: encodeName(keyMarker, urlEnc),
		VersionIDMarker: idMarker, MaxKeys: maxKeys, Delimiter: encodeName(delim, urlEnc), IsTruncated: res.IsTruncated,
	}
	if res.IsTruncated {
		out.NextKeyMarker, out.NextVersionIDMarker = encodeName(res.NextKeyMarker, urlEnc), res.NextVersionIDMarker
	}
	if urlEnc {
		out.EncodingType = "url"
	}
	for _, v := range res.Versions {
		x := xmlVersionEntry{Key: encodeName(v.Key, urlEnc), VersionID: v.VersionID, IsLatest: v.IsLatest,
			LastModified: ossTime(v.LastModified), Owner: &owner}
		if v.DeleteMarker {
			x.XMLName.Local = "DeleteMarker"
		} else {
			size := v.Size
			x.XMLName.Local, x.ETag, x.Size, x.StorageClass = "Version", quotedETag(v.ETag), &size, storageClassOf(v.StorageClass)
			x.Type = objectType(v)
		}
		out.Entries = append(out.Entries, x)
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, xmlCommonPrefix{Prefix: encodeName(p, urlEnc)})
	}
	return h.reply(req, out)
}
