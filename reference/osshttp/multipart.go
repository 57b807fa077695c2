package osshttp

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

type xmlInitiateResult struct {
	XMLName      xml.Name `xml:"InitiateMultipartUploadResult"`
	EncodingType string   `xml:"EncodingType,omitempty"`
	Bucket       string   `xml:"Bucket"`
	Key          string   `xml:"Key"`
	UploadID     string   `xml:"UploadId"`
}

func (h *handler) initiateMultipartUpload(req *request) *ossError {
	r := req.r
	urlEnc, e := parseEncodingType(req.q)
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
	forbid, e := forbidOverwrite(r.Header)
	if e != nil {
		return e
	}
	if forbid {
		if e := h.checkNoOverwrite(req, req.res.bucket, req.res.key); e != nil {
			return e
		}
	}
	up, err := h.cfg.Store.CreateMultipartUpload(req.ctx(), req.principal, req.res.bucket, req.res.key, opts)
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	if has(req.q, "sequential") {
		if e := h.markSequential(req, up.UploadID); e != nil {
			return e
		}
	}
	setSSEResponseHeaders(req.w.Header(), up.SSE)
	out := xmlInitiateResult{Bucket: req.res.bucket, Key: encodeName(req.res.key, urlEnc), UploadID: up.UploadID}
	if urlEnc {
		out.EncodingType = "url"
	}
	return h.reply(req, out)
}

// refuseSSEHeaders answers 400 InvalidArgument when any SSE header is sent
// where OSS does not accept one (UploadPart, CompleteMultipartUpload).
func refuseSSEHeaders(hdr http.Header, op string) *ossError {
	for _, k := range []string{hSSE, hSSEKeyID, hSSEDataEnc} {
		if _, ok := hdr[k]; ok {
			return errInvalidArgument("The " + strings.ToLower(k) + " header is not supported by " + op +
				": server-side encryption is set when the multipart upload is initiated.")
		}
	}
	return nil
}

// uploadIDParam reads the single uploadId parameter.
func uploadIDParam(q url.Values) (string, *ossError) {
	vs := q["uploadId"]
	if len(vs) != 1 || vs[0] == "" {
		return "", errInvalidArgument("The uploadId parameter is invalid.")
	}
	return vs[0], nil
}

func (h *handler) uploadPart(req *request) *ossError {
	r := req.r
	if e := refuseSSEHeaders(r.Header, "UploadPart"); e != nil {
		return e
	}
	uploadID, e := uploadIDParam(req.q)
	if e != nil {
		return e
	}
	pn := req.q["partNumber"]
	n, err := 0, error(nil)
	if len(pn) == 1 {
		n, err = strconv.Atoi(pn[0])
	}
	if len(pn) != 1 || err != nil || n < 1 || n > MaxPartNumber {
		return errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive.").
			with("ArgumentName", "partNumber").with("ArgumentValue", strings.Join(pn, ","))
	}
	if _, ok := r.Header[hCopySource]; ok {
		return h.uploadPartCopy(req, n, uploadID)
	}
	md5sum, e := parseContentMD5(r.Header)
	if e != nil {
		return e
	}
	if r.ContentLength > MaxObjectSize {
		return fromStore(&objstore.Error{Kind: objstore.KindEntityTooLarge}, "", "")
	}
	body := io.Reader(r.Body)
	if r.ContentLength < 0 {
		body = io.LimitReader(r.Body, MaxObjectSize+1)
	}
	part, up, err := h.cfg.Store.UploadPart(req.ctx(), req.principal, req.res.bucket, req.res.key, uploadID, n, body, r.ContentLength,
		objstore.PartOptions{ContentMD5: md5sum})
	if err != nil {
		e := fromStore(err, req.res.bucket, req.res.key)
		if e.Code == CodeNoSuchUpload {
			e.withEC(ecNoSuchUploadPart)
		}
		return e
	}
	hdr := req.w.Header()
	hdr.Set("ETag", quotedETag(part.ETag))
	hdr.Set(hCRC64, strconv.FormatUint(part.CRC64, 10))
	if m := md5OfETag(objstore.ObjectInfo{ETag: part.ETag}); m != "" {
		hdr.Set("Content-MD5", m)
	}
	setSSEResponseHeaders(hdr, up.SSE)
	writeEmpty(req.w, http.StatusOK)
	return nil
}

// xmlCompleteIn is the CompleteMultipartUpload request body.
type xmlCompleteIn struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber *string `xml:"PartNumber"`
		ETag       *string `xml:"ETag"`
	} `xml:"Part"`
}

// parseCompleteRequest parses a CompleteMultipartUpload body: up to 10000
// parts, each with a PartNumber (1..10000) and an ETag. No parts at all
// completes an empty object, as OSS does: the v2 SDK's uploader sends
// that for an empty stream of unknown length.
func parseCompleteRequest(body []byte) ([]objstore.CompletePart, *ossError) {
	var in xmlCompleteIn
	if err := decodeXMLStrict(body, &in); err != nil {
		return nil, errMalformedXML()
	}
	if len(in.Parts) > MaxPartNumber {
		return nil, errMalformedXML()
	}
	parts := make([]objstore.CompletePart, 0, len(in.Parts))
	for _, p := range in.Parts {
		if p.PartNumber == nil || p.ETag == nil {
			return nil, errMalformedXML()
		}
		n, err := strconv.Atoi(strings.TrimSpace(*p.PartNumber))
		if err != nil || n < 1 || n > MaxPartNumber {
			return nil, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
		}
		parts = append(parts, objstore.CompletePart{PartNumber: n, ETag: strings.TrimSpace(*p.ETag)})
	}
	return parts, nil
}

type xmlCompleteResult struct {
	XMLName      xml.Name `xml:"CompleteMultipartUploadResult"`
	EncodingType string   `xml:"EncodingType,omitempty"`
	Location     string   `xml:"Location"`
	Bucket       string   `xml:"Bucket"`
	Key          string   `xml:"Key"`
	ETag         string   `xml:"ETag"`
}

func (h *handler) completeMultipartUpload(req *request) *ossError {
	r := req.r
	if e := refuseSSEHeaders(r.Header, "CompleteMultipartUpload"); e != nil {
		return e
	}
	if e := checkUnsupportedObjectHeaders(r.Header); e != nil {
		return e
	}
	urlEnc, e := parseEncodingType(req.q)
	if e != nil {
		return e
	}
	uploadID, e := uploadIDParam(req.q)
	if e != nil {
		return e
	}
	body, e := readXMLBody(r, h.cfg.MaxXMLBody)
	if e != nil {
		return e
	}
	var parts []objstore.CompletePart
	switch all := strings.TrimSpace(r.Header.Get("X-Oss-Complete-All")); {
	case all == "yes":
		if len(strings.TrimSpace(string(body))) != 0 {
			return errInvalidArgument("Should not speficy both complete all header and http body.").withEC(ecCompleteAllWithBody)
		}
		if parts, e = h.allParts(req, uploadID); e != nil {
			return e
		}
	case all != "":
		return errInvalidArgument("The x-oss-complete-all header must be yes.")
	default:
		if parts, e = parseCompleteRequest(body); e != nil {
			return e
		}
	}
	forbid, e := forbidOverwrite(r.Header)
	if e != nil {
		return e
	}
	// x-oss-object-acl on Complete sets the new object's ACL (the v2
	// SDK's uploaders send their Acl there: Initiate has none). It is
	// checked before and applied right after the commit.
	acl, setACL, e := aclHeader(r.Header, hObjectACL, true)
	if e != nil {
		return e
	}
	if setACL {
		if e := h.refusePublic(req, acl); e != nil {
			return e
		}
	}
	info, err := h.cfg.Store.CompleteMultipartUpload(req.ctx(), req.principal, req.res.bucket, req.res.key, uploadID, parts,
		objstore.CompleteOptions{MinPartSize: MinPartSize, Condition: noOverwrite(forbid),
			ETagRule: objstore.MultipartETagOSS, AllowNoParts: len(parts) == 0})
	if err != nil {
		return fromWrite(err, req.res.bucket, req.res.key)
	}
	if setACL {
		if _, err := h.cfg.Store.PutObjectACL(req.ctx(), req.principal, req.res.bucket, req.res.key, info.VersionID, acl); err != nil {
			return fromStore(err, req.res.bucket, req.res.key)
		}
	}
	if _, e := h.finishSequential(req, uploadID, info); e != nil {
		return e
	}
	hdr := req.w.Header()
	hdr.Set(hCRC64, strconv.FormatUint(info.CRC64, 10))
	hdr.Set("ETag", quotedETag(info.ETag))
	setSSEResponseHeaders(hdr, info.SSE)
	setVersionHeader(hdr, info.VersionID)
	out := xmlCompleteResult{
		Location: locationURL(req),
		Bucket:   req.res.bucket,
		Key:      encodeName(req.res.key, urlEnc),
		ETag:     quotedETag(info.ETag),
	}
	if urlEnc {
		out.EncodingType = "url"
	}
	return h.reply(req, out)
}

// allParts lists every uploaded part, for x-oss-complete-all.
func (h *handler) allParts(req *request, uploadID string) ([]objstore.CompletePart, *ossError) {
	var parts []objstore.CompletePart
	marker := 0
	for {
		res, _, err := h.cfg.Store.ListParts(req.ctx(), req.principal, req.res.bucket, req.res.key, uploadID, marker, 1000)
		if err != nil {
			return nil, fromStore(err, req.res.bucket, req.res.key)
		}
		for _, p := range res.Parts {
			parts = append(parts, objstore.CompletePart{PartNumber: p.PartNumber, ETag: p.ETag})
		}
		if !res.IsTruncated || res.NextPartNumberMarker <= marker {
			break
		}
		marker = res.NextPartNumberMarker
	}
	if len(parts) == 0 {
		return nil, errMalformedXML()
	}
	return parts, nil
}

func (h *handler) abortMultipartUpload(req *request) *ossError {
	uploadID, e := uploadIDParam(req.q)
	if e != nil {
		return e
	}
	if err := h.cfg.Store.AbortMultipartUpload(req.ctx(), req.principal, req.res.bucket, req.res.key, uploadID); err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	writeEmpty(req.w, http.StatusNoContent)
	return nil
}

type xmlPart struct {
	PartNumber    int    `xml:"PartNumber"`
	LastModified  string `xml:"LastModified"`
	ETag          string `xml:"ETag"`
	HashCrc64ecma string `xml:"HashCrc64ecma"`
	Size          int64  `xml:"Size"`
}

type xmlListPartsResult struct {
	XMLName              xml.Name  `xml:"ListPartsResult"`
	EncodingType         string    `xml:"EncodingType,omitempty"`
	Bucket               string    `xml:"Bucket"`
	Key                  string    `xml:"Key"`
	UploadID             string    `xml:"UploadId"`
	PartNumberMarker     int       `xml:"PartNumberMarker"`
	NextPartNumberMarker int       `xml:"NextPartNumberMarker"`
	MaxParts             int       `xml:"MaxParts"`
	IsTruncated          bool      `xml:"IsTruncated"`
	StorageClass         string    `xml:"StorageClass"`
	Parts                []xmlPart `xml:"Part"`
}

func (h *handler) listParts(req *request) *ossError {
	q := req.q
	urlEnc, e := parseEncodingType(q)
	if e != nil {
		return e
	}
	uploadID, e := uploadIDParam(q)
	if e != nil {
		return e
	}
	maxParts, e := parseMaxKeys(q, "max-parts", 1000)
	if e != nil {
		return e
	}
	marker := 0
	if vs, ok := q["part-number-marker"]; ok {
		n, err := strconv.Atoi(vs[0])
		if len(vs) != 1 || err != nil || n < 0 || n > MaxPartNumber {
			return errInvalidArgument("The part-number-marker parameter must be an integer between 0 and 10000.")
		}
		marker = n
	}
	res, up, err := h.cfg.Store.ListParts(req.ctx(), req.principal, req.res.bucket, req.res.key, uploadID, marker, maxParts)
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	out := xmlListPartsResult{
		Bucket: req.res.bucket, Key: encodeName(req.res.key, urlEnc), UploadID: uploadID,
		PartNumberMarker: marker, MaxParts: maxParts, IsTruncated: res.IsTruncated, StorageClass: storageClassOf(up.StorageClass),
	}
	if urlEnc {
		out.EncodingType = "url"
	}
	for _, p := range res.Parts {
		out.Parts = append(out.Parts, xmlPart{
			PartNumber: p.PartNumber, LastModified: ossTime(p.LastModified), ETag: quotedETag(p.ETag),
			HashCrc64ecma: strconv.FormatUint(p.CRC64, 10), Size: p.Size,
		})
	}
	if res.IsTruncated {
		out.NextPartNumberMarker = res.NextPartNumberMarker
	} else if n := len(out.Parts); n > 0 {
		out.NextPartNumberMarker = out.Parts[n-1].PartNumber
	}
	return h.reply(req, out)
}

type xmlUpload struct {
	Key       string `xml:"Key"`
	UploadID  string `xml:"UploadId"`
	Initiated string `xml:"Initiated"`
}

type xmlCommonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type xmlListUploadsResult struct {
	XMLName            xml.Name          `xml:"ListMultipartUploadsResult"`
	EncodingType       string            `xml:"EncodingType,omitempty"`
	Bucket             string            `xml:"Bucket"`
	KeyMarker          string            `xml:"KeyMarker"`
	UploadIDMarker     string            `xml:"UploadIdMarker"`
	NextKeyMarker      string            `xml:"NextKeyMarker"`
	NextUploadIDMarker string            `xml:"NextUploadIdMarker"`
	Delimiter          string            `xml:"Delimiter"`
	Prefix             string            `xml:"Prefix"`
	MaxUploads         int               `xml:"MaxUploads"`
	IsTruncated        bool              `xml:"IsTruncated"`
	Uploads            []xmlUpload       `xml:"Upload"`
	CommonPrefixes     []xmlCommonPrefix `xml:"CommonPrefixes"`
}

func (h *handler) listMultipartUploads(req *request) *ossError {
	q := req.q
	urlEnc, e := parseEncodingType(q)
	if e != nil {
		return e
	}
	maxUploads, e := parseMaxKeys(q, "max-uploads", 1000)
	if e != nil {
		return e
	}
	opts := objstore.ListUploadsOptions{
		Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"),
		KeyMarker: q.Get("key-marker"), UploadIDMarker: q.Get("upload-id-marker"), MaxUploads: maxUploads,
	}
	res, err := h.cfg.Store.ListMultipartUploads(req.ctx(), req.principal, req.res.bucket, opts)
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	out := xmlListUploadsResult{
		Bucket:             req.res.bucket,
		KeyMarker:          encodeName(opts.KeyMarker, urlEnc),
		UploadIDMarker:     opts.UploadIDMarker,
		NextKeyMarker:      encodeName(res.NextKeyMarker, urlEnc),
		NextUploadIDMarker: res.NextUploadIDMarker,
		Delimiter:          encodeName(opts.Delimiter, urlEnc),
		Prefix:             encodeName(opts.Prefix, urlEnc),
		MaxUploads:         maxUploads,
		IsTruncated:        res.IsTruncated,
	}
	if urlEnc {
		out.EncodingType = "url"
	}
	for _, u := range res.Uploads {
		out.Uploads = append(out.Uploads, xmlUpload{Key: encodeName(u.Key, urlEnc), UploadID: u.UploadID, Initiated: ossTime(u.Initiated)})
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, xmlCommonPrefix{Prefix: encodeName(p, urlEnc)})
	}
	return h.reply(req, out)
}

// locationURL is CompleteMultipartUpload's Location: the object's URL on
// the endpoint the request came to (endpointOf), in the request's
// addressing style.
func locationURL(req *request) string {
	scheme := "http://"
	if req.r.TLS != nil {
		scheme = "https://"
	}
	if req.res.vhost {
		return scheme + req.res.bucket + "." + endpointOf(req) + "/" + escapeV4Path(req.res.key)
	}
	return scheme + endpointOf(req) + "/" + req.res.bucket + "/" + escapeV4Path(req.res.key)
}
