package s3http

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// decodeXML decodes body into v, whose XMLName names the root element. The
// S3 namespace or none is accepted; anything after the root element other
// than whitespace, comments and processing instructions is refused. Every
// failure is MalformedXML.
func decodeXML(body []byte, root string, v any) *apiError {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	// Find the root start element.
	for {
		tok, err := d.Token()
		if err != nil {
			return errMalformedXML()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != root || (t.Name.Space != "" && t.Name.Space != s3Namespace) {
				return errMalformedXML()
			}
			if err := d.DecodeElement(v, &t); err != nil {
				return errMalformedXML()
			}
			for {
				tok, err := d.Token()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return errMalformedXML()
				}
				switch t := tok.(type) {
				case xml.CharData:
					if len(bytes.TrimSpace(t)) != 0 {
						return errMalformedXML()
					}
				case xml.Comment, xml.ProcInst:
				default:
					return errMalformedXML()
				}
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errMalformedXML()
			}
		case xml.Comment, xml.ProcInst:
		default: // a Directive (DOCTYPE) or stray end element
			return errMalformedXML()
		}
	}
}

// ---- Bucket encryption ----

type sseByDefaultXML struct {
	SSEAlgorithm   *string `xml:"SSEAlgorithm"`
	KMSMasterKeyID *string `xml:"KMSMasterKeyID"`
}

type blockedTypesXML struct {
	EncryptionType []string `xml:"EncryptionType"`
}

type sseRuleXML struct {
	Apply                  *sseByDefaultXML `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled       *string          `xml:"BucketKeyEnabled"`
	BlockedEncryptionTypes *blockedTypesXML `xml:"BlockedEncryptionTypes"`
}

type sseConfigXML struct {
	XMLName xml.Name     `xml:"ServerSideEncryptionConfiguration"`
	Rules   []sseRuleXML `xml:"Rule"`
}

// parseEncryptionConfig parses a PutBucketEncryption body. Schema
// violations (no or several rules, a missing or unknown SSEAlgorithm, a bad
// boolean) are MalformedXML; aws:kms:dsse is valid S3 but not offered here
// (InvalidArgument), and a KMSMasterKeyID without aws:kms is
// InvalidArgument as on AWS. BucketKeyEnabled is accepted and ignored;
// BlockedEncryptionTypes sets whether SSE-C writes are accepted.
func parseEncryptionConfig(body []byte) (objstore.EncryptionRule, *apiError) {
	var c sseConfigXML
	if err := decodeXML(body, "ServerSideEncryptionConfiguration", &c); err != nil {
		return objstore.EncryptionRule{}, err
	}
	if len(c.Rules) != 1 {
		return objstore.EncryptionRule{}, errMalformedXML()
	}
	r := c.Rules[0]
	if r.Apply == nil || r.Apply.SSEAlgorithm == nil {
		return objstore.EncryptionRule{}, errMalformedXML()
	}
	if r.BucketKeyEnabled != nil {
		if v := strings.TrimSpace(*r.BucketKeyEnabled); v != "true" && v != "false" {
			return objstore.EncryptionRule{}, errMalformedXML()
		}
	}
	// BlockedEncryptionTypes: SSE-C blocks SSE-C writes, NONE allows
	// them; both at once contradict each other (InvalidArgument), and no
	// element keeps the default, blocked (AWS's for new buckets since
	// April 2026).
	allowSSEC := false
	if r.BlockedEncryptionTypes != nil {
		var block, none bool
		for _, t := range r.BlockedEncryptionTypes.EncryptionType {
			switch strings.TrimSpace(t) {
			case "SSE-C":
				block = true
			case "NONE":
				none = true
			default:
				return objstore.EncryptionRule{}, errMalformedXML()
			}
		}
		if block && none {
			return objstore.EncryptionRule{}, errInvalidArgument("BlockedEncryptionTypes cannot list NONE with another encryption type")
		}
		allowSSEC = none
	}
	alg := strings.TrimSpace(*r.Apply.SSEAlgorithm)
	var keyID string
	if r.Apply.KMSMasterKeyID != nil {
		keyID = fromAWSKeyARN(strings.TrimSpace(*r.Apply.KMSMasterKeyID))
	}
	switch alg {
	case sseAES256:
		// A key id with AES256 is refused by the store (400 InvalidArgument).
		return objstore.EncryptionRule{Algorithm: objstore.AlgorithmAES256, KMSMasterKeyID: keyID, AllowSSEC: allowSSEC}, nil
	case sseKMS:
		return objstore.EncryptionRule{Algorithm: objstore.AlgorithmKMS, KMSMasterKeyID: keyID, AllowSSEC: allowSSEC}, nil
	case sseKMSDSSE:
		return objstore.EncryptionRule{}, errUnsupportedSSE()
	default:
		return objstore.EncryptionRule{}, errMalformedXML()
	}
}

type sseByDefaultOut struct {
	SSEAlgorithm   string `xml:"SSEAlgorithm"`
	KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
}

type sseRuleOut struct {
	Apply            sseByDefaultOut `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled bool            `xml:"BucketKeyEnabled"`
	Blocked          blockedTypesXML `xml:"BlockedEncryptionTypes"`
}

type sseConfigOut struct {
	XMLName xml.Name   `xml:"ServerSideEncryptionConfiguration"`
	Xmlns   string     `xml:"xmlns,attr"`
	Rule    sseRuleOut `xml:"Rule"`
}

func encryptionConfigOut(rule objstore.EncryptionRule) sseConfigOut {
	out := sseConfigOut{Xmlns: s3Namespace}
	out.Rule.Blocked.EncryptionType = []string{"SSE-C"}
	if rule.AllowSSEC {
		out.Rule.Blocked.EncryptionType = []string{"NONE"}
	}
	switch rule.Algorithm {
	case objstore.AlgorithmKMS:
		out.Rule.Apply = sseByDefaultOut{SSEAlgorithm: sseKMS, KMSMasterKeyID: toAWSKeyARN(rule.KMSMasterKeyID)}
	default:
		out.Rule.Apply = sseByDefaultOut{SSEAlgorithm: sseAES256}
	}
	return out
}

// ---- CreateBucket ----

type createBucketConfigXML struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint *string  `xml:"LocationConstraint"`
}

// ---- Multi-object delete ----

type deleteObjectXML struct {
	Key       *string `xml:"Key"`
	VersionID string  `xml:"VersionId"`
}

type deleteXML struct {
	XMLName xml.Name          `xml:"Delete"`
	Quiet   string            `xml:"Quiet"`
	Objects []deleteObjectXML `xml:"Object"`
}

type deletedOut struct {
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

type deleteErrorOut struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
}

type deleteResultOut struct {
	XMLName xml.Name         `xml:"DeleteResult"`
	Xmlns   string           `xml:"xmlns,attr"`
	Deleted []deletedOut     `xml:"Deleted"`
	Errors  []deleteErrorOut `xml:"Error"`
}

// parseDelete parses a DeleteObjects body: 1 to 1000 objects, each with a
// Key; Quiet true/false.
func parseDelete(body []byte) (deleteXML, *apiError) {
	var d deleteXML
	if err := decodeXML(body, "Delete", &d); err != nil {
		return d, err
	}
	if len(d.Objects) == 0 || len(d.Objects) > 1000 {
		return d, errMalformedXML()
	}
	if q := strings.TrimSpace(d.Quiet); q != "" && q != "true" && q != "false" {
		return d, errMalformedXML()
	}
	for _, o := range d.Objects {
		if o.Key == nil {
			return d, errMalformedXML()
		}
	}
	return d, nil
}

// ---- CompleteMultipartUpload ----

type completePartXML struct {
	PartNumber *string `xml:"PartNumber"`
	ETag       *string `xml:"ETag"`
	// Other holds every other element, among them the Checksum<ALG> ones.
	Other []anyElemXML `xml:",any"`
}

type anyElemXML struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

type completeXML struct {
	XMLName xml.Name          `xml:"CompleteMultipartUpload"`
	Parts   []completePartXML `xml:"Part"`
}

// parseComplete parses a CompleteMultipartUpload body. Part numbers must be
// 1..10000; the order is checked by the store (InvalidPartOrder). A part's
// Checksum<ALG> elements must name a supported algorithm and hold a value
// of its size (InvalidArgument): the store compares them with the parts'.
func parseComplete(body []byte) ([]objstore.CompletePart, *apiError) {
	var c completeXML
	if err := decodeXML(body, "CompleteMultipartUpload", &c); err != nil {
		return nil, err
	}
	if len(c.Parts) == 0 || len(c.Parts) > 10000 {
		return nil, errMalformedXML()
	}
	parts := make([]objstore.CompletePart, 0, len(c.Parts))
	for _, p := range c.Parts {
		if p.PartNumber == nil || p.ETag == nil {
			return nil, errMalformedXML()
		}
		n, err := strconv.Atoi(strings.TrimSpace(*p.PartNumber))
		if err != nil {
			return nil, errMalformedXML()
		}
		if n < 1 || n > 10000 {
			return nil, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
		}
		cp := objstore.CompletePart{PartNumber: n, ETag: strings.TrimSpace(*p.ETag)}
		for _, e := range p.Other {
			name, ok := strings.CutPrefix(e.XMLName.Local, "Checksum")
			if !ok || name == "Type" || (e.XMLName.Space != "" && e.XMLName.Space != s3Namespace) {
				continue
			}
			a, ok := checksumByName(name)
			if !ok {
				return nil, errInvalidArgument("The %s element of part %d names a checksum algorithm this server does not compute.", truncate(e.XMLName.Local, 64), n)
			}
			v, ok := objstore.ParseChecksumValue(a.Name, e.Value, false)
			if !ok {
				return nil, errInvalidArgument("The %s of part %d is not a valid %s checksum.", e.XMLName.Local, n, a.Name)
			}
			cp.Checksums = append(cp.Checksums, v)
		}
		parts = append(parts, cp)
	}
	return parts, nil
}

// ---- Responses ----

func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func quoteETag(e string) string { return `"` + strings.ToLower(strings.Trim(e, `"`)) + `"` }

type ownerOut struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type bucketOut struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion,omitempty"`
}

type listBucketsOut struct {
	XMLName xml.Name    `xml:"ListAllMyBucketsResult"`
	Xmlns   string      `xml:"xmlns,attr"`
	Owner   ownerOut    `xml:"Owner"`
	Buckets []bucketOut `xml:"Buckets>Bucket"`
}

type locationOut struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

type versioningOut struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Xmlns   string   `xml:"xmlns,attr"`
	Status  string   `xml:"Status,omitempty"`
}

type versioningXML struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Status    *string  `xml:"Status"`
	MfaDelete *string  `xml:"MfaDelete"`
}

// versionEntryOut is a Version or a DeleteMarker (XMLName says which), so
// that both kinds keep the listing's order in one slice, as on S3.
type versionEntryOut struct {
	XMLName           xml.Name
	Key               string    `xml:"Key"`
	VersionID         string    `xml:"VersionId"`
	IsLatest          bool      `xml:"IsLatest"`
	LastModified      string    `xml:"LastModified"`
	ETag              string    `xml:"ETag,omitempty"`
	ChecksumAlgorithm string    `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string    `xml:"ChecksumType,omitempty"`
	Size              *int64    `xml:"Size,omitempty"`
	StorageClass      string    `xml:"StorageClass,omitempty"`
	Owner             *ownerOut `xml:"Owner,omitempty"`
}

type listVersionsOut struct {
	XMLName             xml.Name          `xml:"ListVersionsResult"`
	Xmlns               string            `xml:"xmlns,attr"`
	Name                string            `xml:"Name"`
	Prefix              string            `xml:"Prefix"`
	KeyMarker           string            `xml:"KeyMarker"`
	VersionIDMarker     string            `xml:"VersionIdMarker"`
	NextKeyMarker       string            `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string            `xml:"NextVersionIdMarker,omitempty"`
	Delimiter           string            `xml:"Delimiter,omitempty"`
	MaxKeys             int               `xml:"MaxKeys"`
	EncodingType        string            `xml:"EncodingType,omitempty"`
	IsTruncated         bool              `xml:"IsTruncated"`
	Entries             []versionEntryOut // Version and DeleteMarker elements
	CommonPrefixes      []prefixOut       `xml:"CommonPrefixes"`
}

type objectOut struct {
	Key               string    `xml:"Key"`
	LastModified      string    `xml:"LastModified"`
	ETag              string    `xml:"ETag"`
	ChecksumAlgorithm string    `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string    `xml:"ChecksumType,omitempty"`
	Size              int64     `xml:"Size"`
	StorageClass      string    `xml:"StorageClass"`
	Owner             *ownerOut `xml:"Owner,omitempty"`
}

type prefixOut struct {
	Prefix string `xml:"Prefix"`
}

type listV2Out struct {
	XMLName               xml.Name    `xml:"ListBucketResult"`
	Xmlns                 string      `xml:"xmlns,attr"`
	Name                  string      `xml:"Name"`
	Prefix                string      `xml:"Prefix"`
	Delimiter             string      `xml:"Delimiter,omitempty"`
	MaxKeys               int         `xml:"MaxKeys"`
	KeyCount              int         `xml:"KeyCount"`
	IsTruncated           bool        `xml:"IsTruncated"`
	EncodingType          string      `xml:"EncodingType,omitempty"`
	ContinuationToken     string      `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string      `xml:"NextContinuationToken,omitempty"`
	StartAfter            string      `xml:"StartAfter,omitempty"`
	Contents              []objectOut `xml:"Contents"`
	CommonPrefixes        []prefixOut `xml:"CommonPrefixes"`
}

type listV1Out struct {
	XMLName        xml.Name    `xml:"ListBucketResult"`
	Xmlns          string      `xml:"xmlns,attr"`
	Name           string      `xml:"Name"`
	Prefix         string      `xml:"Prefix"`
	Marker         string      `xml:"Marker"`
	NextMarker     string      `xml:"NextMarker,omitempty"`
	Delimiter      string      `xml:"Delimiter,omitempty"`
	MaxKeys        int         `xml:"MaxKeys"`
	IsTruncated    bool        `xml:"IsTruncated"`
	EncodingType   string      `xml:"EncodingType,omitempty"`
	Contents       []objectOut `xml:"Contents"`
	CommonPrefixes []prefixOut `xml:"CommonPrefixes"`
}

// checksumXML is the Checksum<ALG> elements of a result: one is set.
type checksumXML struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
	ChecksumMD5       string `xml:"ChecksumMD5,omitempty"`
	ChecksumSHA512    string `xml:"ChecksumSHA512,omitempty"`
	ChecksumXXHASH64  string `xml:"ChecksumXXHASH64,omitempty"`
	ChecksumXXHASH3   string `xml:"ChecksumXXHASH3,omitempty"`
	ChecksumXXHASH128 string `xml:"ChecksumXXHASH128,omitempty"`
}

// checksumOut fills the element of c's algorithm; withParts adds a
// composite's "-N" (CompleteMultipartUpload and CopyObject results carry
// it, GetObjectAttributes does not).
func checksumOut(c objstore.Checksum, withParts bool) checksumXML {
	var x checksumXML
	if !c.IsSet() {
		return x
	}
	v := c.Base64()
	if withParts {
		v = c.Encoded()
	}
	switch c.Algorithm {
	case objstore.ChecksumCRC32:
		x.ChecksumCRC32 = v
	case objstore.ChecksumCRC32C:
		x.ChecksumCRC32C = v
	case objstore.ChecksumCRC64NVME:
		x.ChecksumCRC64NVME = v
	case objstore.ChecksumSHA1:
		x.ChecksumSHA1 = v
	case objstore.ChecksumSHA256:
		x.ChecksumSHA256 = v
	case objstore.ChecksumMD5:
		x.ChecksumMD5 = v
	case objstore.ChecksumSHA512:
		x.ChecksumSHA512 = v
	case objstore.ChecksumXXHash64:
		x.ChecksumXXHASH64 = v
	case objstore.ChecksumXXHash3:
		x.ChecksumXXHASH3 = v
	case objstore.ChecksumXXHash128:
		x.ChecksumXXHASH128 = v
	}
	return x
}

type copyObjectOut struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	checksumXML
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

type copyPartOut struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	checksumXML
}

type initiateOut struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

type completeOut struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
	checksumXML
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

type partOut struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	checksumXML
}

type listPartsOut struct {
	XMLName              xml.Name  `xml:"ListPartsResult"`
	Xmlns                string    `xml:"xmlns,attr"`
	Bucket               string    `xml:"Bucket"`
	Key                  string    `xml:"Key"`
	UploadID             string    `xml:"UploadId"`
	Initiator            ownerOut  `xml:"Initiator"`
	Owner                ownerOut  `xml:"Owner"`
	StorageClass         string    `xml:"StorageClass"`
	ChecksumAlgorithm    string    `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string    `xml:"ChecksumType,omitempty"`
	PartNumberMarker     int       `xml:"PartNumberMarker"`
	NextPartNumberMarker int       `xml:"NextPartNumberMarker"`
	MaxParts             int       `xml:"MaxParts"`
	IsTruncated          bool      `xml:"IsTruncated"`
	Parts                []partOut `xml:"Part"`
}

type uploadOut struct {
	Key               string   `xml:"Key"`
	UploadID          string   `xml:"UploadId"`
	Initiator         ownerOut `xml:"Initiator"`
	Owner             ownerOut `xml:"Owner"`
	StorageClass      string   `xml:"StorageClass"`
	Initiated         string   `xml:"Initiated"`
	ChecksumAlgorithm string   `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
}

type listUploadsOut struct {
	XMLName            xml.Name    `xml:"ListMultipartUploadsResult"`
	Xmlns              string      `xml:"xmlns,attr"`
	Bucket             string      `xml:"Bucket"`
	KeyMarker          string      `xml:"KeyMarker"`
	UploadIDMarker     string      `xml:"UploadIdMarker"`
	NextKeyMarker      string      `xml:"NextKeyMarker"`
	NextUploadIDMarker string      `xml:"NextUploadIdMarker"`
	Delimiter          string      `xml:"Delimiter,omitempty"`
	Prefix             string      `xml:"Prefix"`
	EncodingType       string      `xml:"EncodingType,omitempty"`
	MaxUploads         int         `xml:"MaxUploads"`
	IsTruncated        bool        `xml:"IsTruncated"`
	Uploads            []uploadOut `xml:"Upload"`
	CommonPrefixes     []prefixOut `xml:"CommonPrefixes"`
}
