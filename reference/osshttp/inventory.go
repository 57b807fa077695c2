package osshttp

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Bucket inventory: PutBucketInventory, GetBucketInventory,
// ListBucketInventory and DeleteBucketInventory (?inventory, with
// inventoryId for one configuration). The XML is InventoryConfiguration
// as both SDKs marshal it (aliyun-oss-go-sdk's oss.InventoryConfiguration,
// alibabacloud-oss-go-sdk-v2's oss.InventoryConfiguration). Statuses: Put
// 200, Get 200, List 200, Delete 204 (the v1 SDK accepts nothing else).
//
// Errors: a missing configuration is 404 NoSuchInventory (chosen: the
// documented name of the case); an id in the URL that differs from the
// body's Id is 400 InvalidArgument with EC 0020-00000043, an unknown
// optional field EC 0020-00000036, a missing Format EC 0020-00000012 (the
// EC pages of OSS); putting an id that exists is 409
// InventoryAlreadyExist. Filters other than Prefix (time ranges, sizes,
// storage classes) and incremental inventories are 501 NotImplemented: the
// reference does not apply them, and a report silently ignoring them
// would list objects the configuration excludes.

const (
	codeNoSuchInventory       = "NoSuchInventory"
	codeInventoryAlreadyExist = "InventoryAlreadyExist"
	ecInventoryIDMismatch     = "0020-00000043"
	ecInventoryBadField       = "0020-00000036"
	ecInventoryNoFormat       = "0020-00000012"
)

// ossInventoryFields are the optional fields OSS documents
// (alibabacloud-oss-go-sdk-v2 InventoryOptionalFieldType).
var ossInventoryFields = []string{
	"Size", "LastModifiedDate", "ETag", "StorageClass", "IsMultipartUploaded", "EncryptionStatus",
	"TransitionTime", "ObjectAcl", "TaggingCount", "ObjectType", "Crc64",
}

type xmlInvSSEKMS struct {
	KeyID string `xml:"KeyId,omitempty"`
}

type xmlInvEncryption struct {
	SSEOSS *struct{}     `xml:"SSE-OSS"`
	SSEKMS *xmlInvSSEKMS `xml:"SSE-KMS"`
}

type xmlInvDestination struct {
	Format     string            `xml:"Format"`
	AccountID  string            `xml:"AccountId,omitempty"`
	RoleArn    string            `xml:"RoleArn,omitempty"`
	Bucket     string            `xml:"Bucket"`
	Prefix     string            `xml:"Prefix,omitempty"`
	Encryption *xmlInvEncryption `xml:"Encryption"`
}

type xmlInvFilter struct {
	Prefix string `xml:"Prefix,omitempty"`
	// Read only to refuse them (see above).
	LastModifyBeginTimeStamp string `xml:"LastModifyBeginTimeStamp,omitempty"`
	LastModifyEndTimeStamp   string `xml:"LastModifyEndTimeStamp,omitempty"`
	LowerSizeBound           string `xml:"LowerSizeBound,omitempty"`
	UpperSizeBound           string `xml:"UpperSizeBound,omitempty"`
	StorageClass             string `xml:"StorageClass,omitempty"`
}

type xmlInventoryConfiguration struct {
	XMLName                xml.Name          `xml:"InventoryConfiguration"`
	ID                     string            `xml:"Id"`
	IsEnabled              string            `xml:"IsEnabled"`
	Filter                 *xmlInvFilter     `xml:"Filter"`
	Destination            xmlInvDestination `xml:"Destination>OSSBucketDestination"`
	Frequency              string            `xml:"Schedule>Frequency"`
	IncludedObjectVersions string            `xml:"IncludedObjectVersions"`
	Fields                 []string          `xml:"OptionalFields>Field"`
	Incremental            *struct{}         `xml:"IncrementalInventory"`
}

type xmlListInventory struct {
	XMLName     xml.Name                    `xml:"ListInventoryConfigurationsResult"`
	Configs     []xmlInventoryConfiguration `xml:"InventoryConfiguration"`
	IsTruncated bool                        `xml:"IsTruncated"`
}

const ossBucketARNPrefix = "acs:oss:::"

func parseOSSInventory(body []byte, id string) (objstore.InventoryConfig, *ossError) {
	var x xmlInventoryConfiguration
	if err := decodeXMLStrict(body, &x); err != nil {
		return objstore.InventoryConfig{}, errMalformedXML()
	}
	bad := func(ec, msg string) (objstore.InventoryConfig, *ossError) {
		return objstore.InventoryConfig{}, errInvalidArgument(msg).withEC(ec)
	}
	if x.ID != id {
		return bad(ecInventoryIDMismatch, "The inventoryId in the URL and the Id in the body differ.")
	}
	if x.Incremental != nil {
		return objstore.InventoryConfig{}, errNotImplemented()
	}
	if f := x.Filter; f != nil && (f.LastModifyBeginTimeStamp != "" || f.LastModifyEndTimeStamp != "" ||
		f.LowerSizeBound != "" || f.UpperSizeBound != "" || f.StorageClass != "") {
		return objstore.InventoryConfig{}, errNotImplemented()
	}
	cfg := objstore.InventoryConfig{ID: x.ID, Dialect: objstore.InventoryDialectOSS}
	switch x.IsEnabled {
	case "true":
		cfg.Enabled = true
	case "false":
	default:
		return bad("", "IsEnabled must be true or false.")
	}
	d := x.Destination
	switch d.Format {
	case "":
		return bad(ecInventoryNoFormat, "Destination/OSSBucketDestination/Format is missing.")
	case "CSV":
		cfg.Format = d.Format
	default:
		return bad("", "The inventory Format must be CSV.")
	}
	dest, ok := strings.CutPrefix(d.Bucket, ossBucketARNPrefix)
	if !ok || !objstore.ValidBucketName(dest) {
		return bad("", "The destination Bucket must be acs:oss:::BUCKET-NAME.")
	}
	cfg.DestBucket, cfg.DestPrefix, cfg.DestAccountID, cfg.DestRoleArn = dest, d.Prefix, d.AccountID, d.RoleArn
	if e := d.Encryption; e != nil {
		switch {
		case e.SSEOSS != nil && e.SSEKMS == nil:
			cfg.Encryption = "SSE-OSS"
		case e.SSEKMS != nil && e.SSEOSS == nil:
			cfg.Encryption, cfg.EncryptionKeyID = "SSE-KMS", e.SSEKMS.KeyID
		default:
			return bad("", "Encryption must hold one of SSE-OSS and SSE-KMS.")
		}
	}
	switch x.Frequency {
	case "Daily", "Weekly":
		cfg.Frequency = x.Frequency
	default:
		return bad("", "Schedule/Frequency must be Daily or Weekly.")
	}
	switch x.IncludedObjectVersions {
	case "All", "Current":
		cfg.IncludedVersions = x.IncludedObjectVersions
	default:
		return bad("", "IncludedObjectVersions must be All or Current.")
	}
	for _, f := range x.Fields {
		if !slices.Contains(ossInventoryFields, f) {
			return bad(ecInventoryBadField, "The OptionalFields hold an unsupported Field: "+f+".")
		}
		if slices.Contains(cfg.OptionalFields, f) {
			return bad(ecInventoryBadField, "The OptionalFields name "+f+" twice.")
		}
		cfg.OptionalFields = append(cfg.OptionalFields, f)
	}
	if x.Filter != nil {
		cfg.Prefix = x.Filter.Prefix
	}
	return cfg, nil
}

// ossInventoryOut renders a configuration, whichever dialect put it.
func ossInventoryOut(c objstore.InventoryConfig) xmlInventoryConfiguration {
	x := xmlInventoryConfiguration{
		ID: c.ID, IsEnabled: "false", Frequency: c.Frequency, IncludedObjectVersions: c.IncludedVersions,
		Fields: c.OptionalFields,
		Destination: xmlInvDestination{
			Format: c.Format, AccountID: c.DestAccountID, RoleArn: c.DestRoleArn,
			Bucket: ossBucketARNPrefix + c.DestBucket, Prefix: c.DestPrefix,
		},
	}
	if c.Enabled {
		x.IsEnabled = "true"
	}
	if c.Prefix != "" {
		x.Filter = &xmlInvFilter{Prefix: c.Prefix}
	}
	switch c.Encryption {
	case "SSE-OSS", "SSE-S3":
		x.Destination.Encryption = &xmlInvEncryption{SSEOSS: &struct{}{}}
	case "SSE-KMS":
		x.Destination.Encryption = &xmlInvEncryption{SSEKMS: &xmlInvSSEKMS{KeyID: c.EncryptionKeyID}}
	}
	return x
}

func (h *handler) inventoryStore() (objstore.InventoryStore, *ossError) {
	s, ok := h.cfg.Store.(objstore.InventoryStore)
	if !ok {
		return nil, errNotImplemented()
	}
	return s, nil
}

func inventoryErr(err error, bucket string) *ossError {
	if objstore.KindOf(err) == objstore.KindNoSuchInventory {
		return newErr(http.StatusNotFound, codeNoSuchInventory, "The specified inventory does not exist.").with("BucketName", bucket)
	}
	return fromStore(err, bucket, "")
}

func (h *handler) putBucketInventory(req *request) *ossError {
	st, e := h.inventoryStore()
	if e != nil {
		return e
	}
	id := req.q.Get("inventoryId")
	if id == "" {
		return errInvalidArgument("The inventoryId parameter is required.")
	}
	body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
	if e != nil {
		return e
	}
	cfg, e := parseOSSInventory(body, id)
	if e != nil {
		return e
	}
	switch _, err := st.GetBucketInventory(req.ctx(), req.principal, req.res.bucket, id); {
	case err == nil:
		return newErr(http.StatusConflict, codeInventoryAlreadyExist, "The inventory already exists.")
	case objstore.KindOf(err) != objstore.KindNoSuchInventory:
		return inventoryErr(err, req.res.bucket)
	}
	if err := st.PutBucketInventory(req.ctx(), req.principal, req.res.bucket, cfg); err != nil {
		return inventoryErr(err, req.res.bucket)
	}
	writeEmpty(req.w, http.StatusOK)
	return nil
}

func (h *handler) getBucketInventory(req *request) *ossError {
	st, e := h.inventoryStore()
	if e != nil {
		return e
	}
	c, err := st.GetBucketInventory(req.ctx(), req.principal, req.res.bucket, req.q.Get("inventoryId"))
	if err != nil {
		return inventoryErr(err, req.res.bucket)
	}
	return h.reply(req, ossInventoryOut(c))
}

// listBucketInventory answers every configuration in one page: a bucket
// holds at most objstore.MaxInventoryConfigs, and IsTruncated is false.
func (h *handler) listBucketInventory(req *request) *ossError {
	st, e := h.inventoryStore()
	if e != nil {
		return e
	}
	all, err := st.ListBucketInventory(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return inventoryErr(err, req.res.bucket)
	}
	out := xmlListInventory{}
	for _, c := range all {
		out.Configs = append(out.Configs, ossInventoryOut(c))
	}
	return h.reply(req, out)
}

func (h *handler) deleteBucketInventory(req *request) *ossError {
	st, e := h.inventoryStore()
	if e != nil {
		return e
	}
	if err := st.DeleteBucketInventory(req.ctx(), req.principal, req.res.bucket, req.q.Get("inventoryId")); err != nil {
		return inventoryErr(err, req.res.bucket)
	}
	writeEmpty(req.w, http.StatusNoContent)
	return nil
}
