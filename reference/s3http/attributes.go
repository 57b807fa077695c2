package s3http

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

type attrChecksumOut struct {
	checksumXML
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

type attrPartOut struct {
	checksumXML
	PartNumber int   `xml:"PartNumber"`
	Size       int64 `xml:"Size"`
}

type attrPartsOut struct {
	IsTruncated          bool          `xml:"IsTruncated"`
	MaxParts             int           `xml:"MaxParts"`
	NextPartNumberMarker int           `xml:"NextPartNumberMarker"`
	PartNumberMarker     int           `xml:"PartNumberMarker"`
	Parts                []attrPartOut `xml:"Part"`
	PartsCount           int           `xml:"PartsCount"`
}

type attributesOut struct {
	XMLName      xml.Name         `xml:"GetObjectAttributesResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	ETag         string           `xml:"ETag,omitempty"`
	Checksum     *attrChecksumOut `xml:"Checksum,omitempty"`
	ObjectParts  *attrPartsOut    `xml:"ObjectParts,omitempty"`
	StorageClass string           `xml:"StorageClass,omitempty"`
	ObjectSize   *int64           `xml:"ObjectSize,omitempty"`
}

// objectAttributes are the names x-amz-object-attributes may list.
var objectAttributes = map[string]bool{"ETag": true, "Checksum": true, "ObjectParts": true, "StorageClass": true, "ObjectSize": true}

// headerInt reads an optional non-negative integer header.
func headerInt(h http.Header, name string, def, limit int) (int, *apiError) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errInvalidArgument("%s must be a non-negative integer", strings.ToLower(name))
	}
	return min(n, limit), nil
}

// getObjectAttributes serves GetObjectAttributes from the object's
// metadata (no KMS call, as HEAD). As on S3 the answer carries
// Last-Modified but no ETag header (minio-go takes one as a sign the
// endpoint does not implement the call), the ETag element is unquoted, and
// a composite checksum has no "-N" suffix. ObjectParts appears for
// multipart objects only.
func (h *handler) getObjectAttributes(rc *reqCtx) {
	r := rc.r
	if aerr := refuseSSEOnRead(r.Header); aerr != nil {
		rc.fail(aerr)
		return
	}
	want := map[string]bool{}
	for _, v := range r.Header.Values("X-Amz-Object-Attributes") {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			if !objectAttributes[a] {
				rc.fail(errInvalidArgument("Invalid attribute name specified: %q", truncate(a, 64)))
				return
			}
			want[a] = true
		}
	}
	if len(want) == 0 {
		rc.fail(errInvalidRequest("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty"))
		return
	}
	maxParts, aerr := headerInt(r.Header, "X-Amz-Max-Parts", 1000, 1000)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	marker, aerr := headerInt(r.Header, "X-Amz-Part-Number-Marker", 0, objstore.MaxPartNumber)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	// GetObjectAttributes of an SSE-C object needs its key, as on S3.
	ctx, _, aerr := withCustomerKey(rc.ctx, r.Header, false)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	info, err := h.cfg.Store.HeadObjectVersion(ctx, rc.p, rc.bucket, rc.key, rc.query("versionId"))
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	out := attributesOut{Xmlns: s3Namespace}
	if want["ETag"] {
		out.ETag = strings.ToLower(info.ETag)
	}
	if want["Checksum"] && info.Checksum.IsSet() {
		out.Checksum = &attrChecksumOut{checksumXML: checksumOut(info.Checksum, false), ChecksumType: info.Checksum.Type}
	}
	if want["ObjectParts"] && info.Multipart {
		po := &attrPartsOut{MaxParts: maxParts, PartNumberMarker: marker, PartsCount: len(info.Parts)}
		for _, p := range info.Parts {
			if p.PartNumber <= marker {
				continue
			}
			if len(po.Parts) == maxParts {
				po.IsTruncated = true
				break
			}
			po.Parts = append(po.Parts, attrPartOut{checksumXML: checksumOut(p.Checksum, false), PartNumber: p.PartNumber, Size: p.Size})
			po.NextPartNumberMarker = p.PartNumber
		}
		out.ObjectParts = po
	}
	if want["StorageClass"] {
		out.StorageClass = storageClassS3(info.StorageClass)
	}
	if want["ObjectSize"] {
		size := info.Size
		out.ObjectSize = &size
	}
	rc.w.Header().Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	setVersionHeader(rc.w.Header(), info.VersionID)
	rc.writeXML(out)
}
