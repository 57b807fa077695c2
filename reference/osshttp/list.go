package osshttp

import (
	"encoding/base64"
	"encoding/xml"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

type xmlContents struct {
	Key          string    `xml:"Key"`
	LastModified string    `xml:"LastModified"`
	ETag         string    `xml:"ETag"`
	Type         string    `xml:"Type"`
	Size         int64     `xml:"Size"`
	StorageClass string    `xml:"StorageClass"`
	Owner        *xmlOwner `xml:"Owner,omitempty"`
}

type xmlListBucketResult struct {
	XMLName        xml.Name          `xml:"ListBucketResult"`
	Name           string            `xml:"Name"`
	Prefix         string            `xml:"Prefix"`
	Marker         string            `xml:"Marker"`
	MaxKeys        int               `xml:"MaxKeys"`
	Delimiter      string            `xml:"Delimiter"`
	IsTruncated    bool              `xml:"IsTruncated"`
	NextMarker     string            `xml:"NextMarker,omitempty"`
	EncodingType   string            `xml:"EncodingType,omitempty"`
	Contents       []xmlContents     `xml:"Contents"`
	CommonPrefixes []xmlCommonPrefix `xml:"CommonPrefixes"`
}

type xmlListBucketResultV2 struct {
	XMLName               xml.Name          `xml:"ListBucketResult"`
	Name                  string            `xml:"Name"`
	Prefix                string            `xml:"Prefix"`
	StartAfter            string            `xml:"StartAfter,omitempty"`
	ContinuationToken     string            `xml:"ContinuationToken,omitempty"`
	MaxKeys               int               `xml:"MaxKeys"`
	Delimiter             string            `xml:"Delimiter"`
	IsTruncated           bool              `xml:"IsTruncated"`
	NextContinuationToken string            `xml:"NextContinuationToken,omitempty"`
	EncodingType          string            `xml:"EncodingType,omitempty"`
	KeyCount              int               `xml:"KeyCount"`
	Contents              []xmlContents     `xml:"Contents"`
	CommonPrefixes        []xmlCommonPrefix `xml:"CommonPrefixes"`
}

func contentsOf(o objstore.ObjectInfo, urlEnc bool, owner *xmlOwner) xmlContents {
	t := objectType(o)
	return xmlContents{
		Key: encodeName(o.Key, urlEnc), LastModified: ossTime(o.LastModified), ETag: quotedETag(o.ETag),
		Type: t, Size: o.Size, StorageClass: storageClassOf(o.StorageClass), Owner: owner,
	}
}

// bucketOwner reads the bucket (checking it exists and may be read) for
// the Owner elements of a listing.
func (h *handler) bucketOwner(req *request) (xmlOwner, *ossError) {
	b, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return xmlOwner{}, fromStore(err, req.res.bucket, "")
	}
	return ownerOf(b.Owner), nil
}

func (h *handler) listObjects(req *request) *ossError {
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
	prefix, marker, delim := q.Get("prefix"), q.Get("marker"), q.Get("delimiter")
	res, err := h.cfg.Store.ListObjects(req.ctx(), req.principal, req.res.bucket,
		objstore.ListOptions{Prefix: prefix, Delimiter: delim, After: marker, MaxKeys: maxKeys})
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	out := xmlListBucketResult{
		Name: req.res.bucket, Prefix: encodeName(prefix, urlEnc), Marker: encodeName(marker, urlEnc),
		MaxKeys: maxKeys, Delimiter: encodeName(delim, urlEnc), IsTruncated: res.IsTruncated,
	}
	if res.IsTruncated {
		out.NextMarker = encodeName(res.NextAfter, urlEnc)
	}
	if urlEnc {
		out.EncodingType = "url"
	}
	for _, o := range res.Objects {
		out.Contents = append(out.Contents, contentsOf(o, urlEnc, &owner))
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, xmlCommonPrefix{Prefix: encodeName(p, urlEnc)})
	}
	return h.reply(req, out)
}

// Continuation tokens are the base64url (unpadded) form of the key to
// continue after: opaque to clients, and unchanged by the URL decoding both
// SDKs apply.
func encodeToken(after string) string { return base64.RawURLEncoding.EncodeToString([]byte(after)) }

func decodeToken(tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(tok))
	if err != nil || len(b) > 2048 {
		return "", false
	}
	return string(b), true
}

func (h *handler) listObjectsV2(req *request) *ossError {
	q := req.q
	urlEnc, e := parseEncodingType(q)
	if e != nil {
		return e
	}
	maxKeys, e := parseMaxKeys(q, "max-keys", 100)
	if e != nil {
		return e
	}
	fetchOwner := false
	if vs, ok := q["fetch-owner"]; ok {
		switch strings.ToLower(vs[0]) {
		case "true":
			fetchOwner = true
		case "false", "":
		default:
			return errInvalidArgument("The fetch-owner parameter must be true or false.")
		}
	}
	owner, e := h.bucketOwner(req)
	if e != nil {
		return e
	}
	prefix, delim, startAfter := q.Get("prefix"), q.Get("delimiter"), q.Get("start-after")
	after := startAfter
	token, hasToken := q["continuation-token"]
	if hasToken {
		t, ok := decodeToken(token[0])
		if !ok || len(token) != 1 {
			return errInvalidArgument("The continuation token provided is incorrect.")
		}
		after = max(t, startAfter)
	}
	res, err := h.cfg.Store.ListObjects(req.ctx(), req.principal, req.res.bucket,
		objstore.ListOptions{Prefix: prefix, Delimiter: delim, After: after, MaxKeys: maxKeys})
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	out := xmlListBucketResultV2{
		Name: req.res.bucket, Prefix: encodeName(prefix, urlEnc), StartAfter: encodeName(startAfter, urlEnc),
		MaxKeys: maxKeys, Delimiter: encodeName(delim, urlEnc), IsTruncated: res.IsTruncated,
		KeyCount: len(res.Objects) + len(res.CommonPrefixes),
	}
	if hasToken {
		out.ContinuationToken = token[0]
	}
	if res.IsTruncated {
		out.NextContinuationToken = encodeToken(res.NextAfter)
	}
	if urlEnc {
		out.EncodingType = "url"
	}
	var ownerp *xmlOwner
	if fetchOwner {
		ownerp = &owner
	}
	out.Contents = make([]xmlContents, 0, len(res.Objects))
	for _, o := range res.Objects {
		out.Contents = append(out.Contents, contentsOf(o, urlEnc, ownerp))
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, xmlCommonPrefix{Prefix: encodeName(p, urlEnc)})
	}
	return h.replyBody(req, marshalListV2(&out))
}

// objectType is OSS's Type (x-oss-object-type) of an object.
func objectType(o objstore.ObjectInfo) string {
	switch {
	case o.SymlinkTarget != "":
		return "Symlink"
	case o.Multipart:
		return "Multipart"
	case o.Appendable:
		return "Appendable"
	}
	return "Normal"
}
