package osshttp

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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
// InventoryAlreadyExist. Incremental inventories are 501 NotImplemented.
//
// Filter: Prefix, LastModifyBeginTimeStamp and LastModifyEndTimeStamp
// (Unix seconds), LowerSizeBound and UpperSizeBound (bytes) and
// StorageClass (comma-separated) are kept as given, returned by Get and
// List, and applied when a report is written (package invreport: an
// object outside any bound is not listed). Their errors are 400
// InvalidArgument with OSS's EC: a bound that is no integer 0020-00000008
// (begin), 0020-00000009 (end; the number inferred from its neighbours),
// 0020-00000010 (lower, also a negative one), 0020-00000011 (upper); an
// end outside [1262275200, 253402271999] 0020-00000023; a begin outside
// that range (chosen), after the end, or either not before now
// 0020-00000022; an upper bound not in (0, 54975581388800] 0020-00000024
// (the cause documented, the number inferred); a lower bound above that
// maximum or above the upper 0020-00000025; a storage class that is none
// of Standard, IA, Archive, ColdArchive, DeepColdArchive, All
// 0020-00000026 (the EC page lists all but DeepColdArchive, an OSS class
// it predates: accepted, chosen).
//
// ListBucketInventory answers at most 100 configurations a page, in id
// order; a truncated page names its last id as NextContinuationToken and
// continuation-token resumes after it (the paging OSS documents; other
// parameters are ignored, as OSS does with the v1 SDK's marker and
// max-keys). A bucket without any configuration is 404 NoSuchInventory:
// what OSS answers (a live call recorded in the public
// rambow-cloud/alicloud-go-sdk-x verification notes, and the v1 SDK's own
// TestBucketInventoryNegative expects an error there). Deleting an id that
// is not set is 204, as the v1 SDK's TestBucketInventoryNegative expects
// of OSS.

const (
	codeNoSuchInventory       = "NoSuchInventory"
	codeInventoryAlreadyExist = "InventoryAlreadyExist"
	ecInventoryIDMismatch     = "0020-00000043"
	ecInventoryBadField       = "0020-00000036"
	ecInventoryNoFormat       = "0020-00000012"
	ecInvBeginNotInt          = "0020-00000008"
	ecInvEndNotInt            = "0020-00000009"
	ecInvLowerNotInt          = "0020-00000010"
	ecInvUpperNotInt          = "0020-00000011"
	ecInvBegin                = "0020-00000022"
	ecInvEnd                  = "0020-00000023"
	ecInvUpper                = "0020-00000024"
	ecInvLower                = "0020-00000025"
	ecInvStorageClass         = "0020-00000026"
)

// Bounds OSS documents for the inventory filter.
const (
	invMinTimestamp = 1262275200   // 2010-01-01T00:00:00Z
	invMaxTimestamp = 253402271999 // 9999-12-31T23:59:59Z
	invMaxSize      = 54975581388800
	// invListPage is how many configurations a ListBucketInventory page holds.
	invListPage = 100
)

// ossInventoryClasses are the values Filter/StorageClass may list.
var ossInventoryClasses = []string{"Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive", "All"}

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
	Prefix                   string `xml:"Prefix,omitempty"`
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
	XMLName               xml.Name                    `xml:"ListInventoryConfigurationsResult"`
	Configs               []xmlInventoryConfiguration `xml:"InventoryConfiguration"`
	IsTruncated           bool                        `xml:"IsTruncated"`
	NextContinuationToken string                      `xml:"NextContinuationToken,omitempty"`
}

const ossBucketARNPrefix = "acs:oss:::"

func parseOSSInventory(body []byte, id string, now time.Time) (objstore.InventoryConfig, *ossError) {
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
	cfg := objstore.InventoryConfig{ID: x.ID, Dialect: objstore.InventoryDialectOSS}
	if x.Filter != nil {
		if e := parseOSSInventoryFilter(x.Filter, &cfg, now); e != nil {
			return objstore.InventoryConfig{}, e
		}
	}
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
	return cfg, nil
}

// parseOSSInventoryFilter validates and keeps the filter's bounds (see the
// errors above); now is the request's time.
func parseOSSInventoryFilter(f *xmlInvFilter, cfg *objstore.InventoryConfig, now time.Time) *ossError {
	bad := func(ec, msg string) *ossError { return errInvalidArgument(msg).withEC(ec) }
	num := func(v, name, ec string) (*int64, *ossError) {
		if v == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, bad(ec, "Filter/"+name+" must be an integer, not "+strconv.Quote(v)+".")
		}
		return &n, nil
	}
	cfg.Prefix = f.Prefix
	var e *ossError
	if cfg.LastModifyBegin, e = num(f.LastModifyBeginTimeStamp, "LastModifyBeginTimeStamp", ecInvBeginNotInt); e != nil {
		return e
	}
	if cfg.LastModifyEnd, e = num(f.LastModifyEndTimeStamp, "LastModifyEndTimeStamp", ecInvEndNotInt); e != nil {
		return e
	}
	if cfg.LowerSize, e = num(f.LowerSizeBound, "LowerSizeBound", ecInvLowerNotInt); e != nil {
		return e
	}
	if cfg.LowerSize != nil && *cfg.LowerSize < 0 {
		return bad(ecInvLowerNotInt, "Filter/LowerSizeBound must not be negative.")
	}
	if cfg.UpperSize, e = num(f.UpperSizeBound, "UpperSizeBound", ecInvUpperNotInt); e != nil {
		return e
	}
	begin, end := cfg.LastModifyBegin, cfg.LastModifyEnd
	inRange := func(t int64) bool { return t >= invMinTimestamp && t <= invMaxTimestamp }
	switch {
	case end != nil && !inRange(*end):
		return bad(ecInvEnd, fmt.Sprintf("Filter/LastModifyEndTimeStamp must be a Unix time in seconds from %d to %d.", invMinTimestamp, invMaxTimestamp))
	case begin != nil && !inRange(*begin):
		return bad(ecInvBegin, fmt.Sprintf("Filter/LastModifyBeginTimeStamp must be a Unix time in seconds from %d to %d.", invMinTimestamp, invMaxTimestamp))
	case begin != nil && end != nil && *begin > *end:
		return bad(ecInvBegin, "Filter/LastModifyBeginTimeStamp must not be after Filter/LastModifyEndTimeStamp.")
	case begin != nil && *begin >= now.Unix(), end != nil && *end >= now.Unix():
		return bad(ecInvBegin, "Filter/LastModifyBeginTimeStamp and LastModifyEndTimeStamp must be before the current time.")
	}
	lower, upper := cfg.LowerSize, cfg.UpperSize
	switch {
	case upper != nil && (*upper <= 0 || *upper > invMaxSize):
		return bad(ecInvUpper, fmt.Sprintf("Filter/UpperSizeBound must be from 1 to %d bytes.", int64(invMaxSize)))
	case lower != nil && *lower > invMaxSize:
		return bad(ecInvLower, fmt.Sprintf("Filter/LowerSizeBound must be at most %d bytes.", int64(invMaxSize)))
	case lower != nil && upper != nil && *lower > *upper:
		return bad(ecInvLower, "Filter/LowerSizeBound must not be above Filter/UpperSizeBound.")
	}
	if f.StorageClass != "" {
		for _, sc := range strings.Split(f.StorageClass, ",") {
			if !slices.Contains(ossInventoryClasses, sc) {
				return bad(ecInvStorageClass, "Filter/StorageClass lists "+strconv.Quote(sc)+": use a comma-separated list of "+strings.Join(ossInventoryClasses, ", ")+".")
			}
		}
		cfg.StorageClasses = f.StorageClass
	}
	return nil
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
	if c.Filtered() {
		str := func(n *int64) string {
			if n == nil {
				return ""
			}
			return strconv.FormatInt(*n, 10)
		}
		x.Filter = &xmlInvFilter{Prefix: c.Prefix, LastModifyBeginTimeStamp: str(c.LastModifyBegin), LastModifyEndTimeStamp: str(c.LastModifyEnd),
			LowerSizeBound: str(c.LowerSize), UpperSizeBound: str(c.UpperSize), StorageClass: c.StorageClasses}
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

func errNoSuchInventory(bucket string) *ossError {
	return newErr(http.StatusNotFound, codeNoSuchInventory, "The specified inventory does not exist.").with("BucketName", bucket)
}

func inventoryErr(err error, bucket string) *ossError {
	if objstore.KindOf(err) == objstore.KindNoSuchInventory {
		return errNoSuchInventory(bucket)
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
	cfg, e := parseOSSInventory(body, id, h.cfg.Clock.Now())
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

// listBucketInventory answers a page of invListPage configurations after
// continuation-token (see above); none at all is NoSuchInventory.
func (h *handler) listBucketInventory(req *request) *ossError {
	st, e := h.inventoryStore()
	if e != nil {
		return e
	}
	all, err := st.ListBucketInventory(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return inventoryErr(err, req.res.bucket)
	}
	if len(all) == 0 {
		return errNoSuchInventory(req.res.bucket)
	}
	// all is in id order (objstore.InventoryStore).
	if tok := req.q.Get("continuation-token"); tok != "" {
		i, _ := slices.BinarySearchFunc(all, tok, func(c objstore.InventoryConfig, t string) int { return strings.Compare(c.ID, t) })
		for i < len(all) && all[i].ID <= tok {
			i++
		}
		all = all[i:]
	}
	out := xmlListInventory{}
	if len(all) > invListPage {
		all = all[:invListPage]
		out.IsTruncated, out.NextContinuationToken = true, all[len(all)-1].ID
	}
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
	// An id that is not set is 204 (see above); the store checked the
	// grant and the bucket before it looked for the id.
	if err := st.DeleteBucketInventory(req.ctx(), req.principal, req.res.bucket, req.q.Get("inventoryId")); err != nil &&
		objstore.KindOf(err) != objstore.KindNoSuchInventory {
		return inventoryErr(err, req.res.bucket)
	}
	writeEmpty(req.w, http.StatusNoContent)
	return nil
}
