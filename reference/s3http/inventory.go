package s3http

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Bucket inventory: PutBucketInventoryConfiguration,
// GetBucketInventoryConfiguration, ListBucketInventoryConfigurations and
// DeleteBucketInventoryConfiguration (?inventory, with id for one
// configuration), with the XML aws-sdk-go-v2 marshals
// (types.InventoryConfiguration). Put replaces a configuration of the same
// id (200), Get 200, List 200 (every configuration in one page, at most
// 1,000), Delete 204. A missing configuration is 404 NoSuchConfiguration,
// the 1,001st is 400 TooManyConfigurations, a body that does not fit the
// schema (unknown format, frequency, field, a destination that is not an
// S3 bucket ARN, an Id other than the URL's) 400 MalformedXML or
// InvalidArgument as S3 answers them. Filters other than Prefix are 501
// NotImplemented (see package osshttp for why).

type s3InvSSEKMS struct {
	KeyID string `xml:"KeyId"`
}

type s3InvEncryption struct {
	SSES3  *struct{}    `xml:"SSE-S3"`
	SSEKMS *s3InvSSEKMS `xml:"SSE-KMS"`
}

type s3InvDestination struct {
	AccountID  string           `xml:"AccountId,omitempty"`
	Bucket     string           `xml:"Bucket"`
	Encryption *s3InvEncryption `xml:"Encryption"`
	Format     string           `xml:"Format"`
	Prefix     string           `xml:"Prefix,omitempty"`
}

type s3InvFilter struct {
	Prefix string `xml:"Prefix"`
}

type s3InventoryConfiguration struct {
	XMLName                xml.Name         `xml:"InventoryConfiguration"`
	Xmlns                  string           `xml:"xmlns,attr,omitempty"`
	Destination            s3InvDestination `xml:"Destination>S3BucketDestination"`
	Filter                 *s3InvFilter     `xml:"Filter"`
	ID                     string           `xml:"Id"`
	IncludedObjectVersions string           `xml:"IncludedObjectVersions"`
	IsEnabled              string           `xml:"IsEnabled"`
	Fields                 []string         `xml:"OptionalFields>Field"`
	Frequency              string           `xml:"Schedule>Frequency"`
	// Read only to refuse it.
	TableConfiguration *struct{} `xml:"InventoryTableConfiguration"`
}

type s3ListInventory struct {
	XMLName     xml.Name                   `xml:"ListInventoryConfigurationsResult"`
	Xmlns       string                     `xml:"xmlns,attr"`
	Configs     []s3InventoryConfiguration `xml:"InventoryConfiguration"`
	IsTruncated bool                       `xml:"IsTruncated"`
}

// s3InventoryFields are aws-sdk-go-v2's types.InventoryOptionalField values.
var s3InventoryFields = []string{
	"Size", "LastModifiedDate", "StorageClass", "ETag", "IsMultipartUploaded", "ReplicationStatus",
	"EncryptionStatus", "ObjectLockRetainUntilDate", "ObjectLockMode", "ObjectLockLegalHoldStatus",
	"ObjectLockEventHoldStatus", "ObjectLockEventHoldDuration", "IntelligentTieringAccessTier",
	"BucketKeyStatus", "ChecksumAlgorithm", "ObjectAccessControlList", "ObjectOwner",
	"LifecycleExpirationDate", "IntelligentTieringReferenceDate",
}

const s3BucketARNPrefix = "arn:aws:s3:::"

func parseS3Inventory(body []byte, id string) (objstore.InventoryConfig, *apiError) {
	var x s3InventoryConfiguration
	if aerr := decodeXML(body, "InventoryConfiguration", &x); aerr != nil {
		return objstore.InventoryConfig{}, aerr
	}
	if x.ID != id {
		return objstore.InventoryConfig{}, errInvalidArgument("The inventory id in the URL and in the body differ")
	}
	if x.TableConfiguration != nil {
		return objstore.InventoryConfig{}, errNotImplemented("InventoryTableConfiguration")
	}
	cfg := objstore.InventoryConfig{ID: x.ID, Dialect: objstore.InventoryDialectS3}
	switch strings.TrimSpace(x.IsEnabled) {
	case "true":
		cfg.Enabled = true
	case "false":
	default:
		return objstore.InventoryConfig{}, errMalformedXML()
	}
	d := x.Destination
	switch d.Format {
	case "CSV", "ORC", "Parquet":
		cfg.Format = d.Format
	default:
		return objstore.InventoryConfig{}, errMalformedXML()
	}
	dest, ok := strings.CutPrefix(d.Bucket, s3BucketARNPrefix)
	if !ok || !objstore.ValidBucketName(dest) {
		return objstore.InventoryConfig{}, errInvalidArgument("Invalid destination bucket ARN: %s", d.Bucket)
	}
	cfg.DestBucket, cfg.DestPrefix, cfg.DestAccountID = dest, d.Prefix, d.AccountID
	if e := d.Encryption; e != nil {
		switch {
		case e.SSES3 != nil && e.SSEKMS == nil:
			cfg.Encryption = "SSE-S3"
		case e.SSEKMS != nil && e.SSES3 == nil && e.SSEKMS.KeyID != "":
			cfg.Encryption, cfg.EncryptionKeyID = "SSE-KMS", e.SSEKMS.KeyID
		default:
			return objstore.InventoryConfig{}, errMalformedXML()
		}
	}
	switch x.Frequency {
	case "Daily", "Weekly":
		cfg.Frequency = x.Frequency
	default:
		return objstore.InventoryConfig{}, errMalformedXML()
	}
	switch x.IncludedObjectVersions {
	case "All", "Current":
		cfg.IncludedVersions = x.IncludedObjectVersions
	default:
		return objstore.InventoryConfig{}, errMalformedXML()
	}
	for _, f := range x.Fields {
		if !slices.Contains(s3InventoryFields, f) {
			return objstore.InventoryConfig{}, errMalformedXML()
		}
		if slices.Contains(cfg.OptionalFields, f) {
			return objstore.InventoryConfig{}, errInvalidArgument("Duplicate field in OptionalFields: %s", f)
		}
		cfg.OptionalFields = append(cfg.OptionalFields, f)
	}
	if x.Filter != nil {
		cfg.Prefix = x.Filter.Prefix
	}
	return cfg, nil
}

// s3InventoryOut renders a configuration, whichever dialect put it.
func s3InventoryOut(c objstore.InventoryConfig, xmlns bool) s3InventoryConfiguration {
	x := s3InventoryConfiguration{
		ID: c.ID, IsEnabled: "false", Frequency: c.Frequency, IncludedObjectVersions: c.IncludedVersions,
		Fields: c.OptionalFields,
		Destination: s3InvDestination{
			Format: c.Format, AccountID: c.DestAccountID, Bucket: s3BucketARNPrefix + c.DestBucket, Prefix: c.DestPrefix,
		},
	}
	if xmlns {
		x.Xmlns = s3Namespace
	}
	if c.Enabled {
		x.IsEnabled = "true"
	}
	if c.Prefix != "" {
		x.Filter = &s3InvFilter{Prefix: c.Prefix}
	}
	switch c.Encryption {
	case "SSE-OSS", "SSE-S3":
		x.Destination.Encryption = &s3InvEncryption{SSES3: &struct{}{}}
	case "SSE-KMS":
		x.Destination.Encryption = &s3InvEncryption{SSEKMS: &s3InvSSEKMS{KeyID: c.EncryptionKeyID}}
	}
	return x
}

func (h *handler) inventoryStore(rc *reqCtx) (objstore.InventoryStore, bool) {
	s, ok := h.cfg.Store.(objstore.InventoryStore)
	if !ok {
		rc.fail(errNotImplemented("?inventory"))
	}
	return s, ok
}

func inventoryErr(err error) *apiError {
	if objstore.KindOf(err) == objstore.KindNoSuchInventory {
		return newErr(http.StatusNotFound, "NoSuchConfiguration", "The specified configuration does not exist.")
	}
	return errorFromStore(err, "")
}

func (h *handler) putBucketInventory(rc *reqCtx) {
	st, ok := h.inventoryStore(rc)
	if !ok {
		return
	}
	id := rc.query("id")
	if id == "" {
		rc.fail(errInvalidArgument("Inventory id is required"))
		return
	}
	// S3 does not require an integrity header on this operation (the SDK
	// sends a flexible checksum when it can).
	data, aerr := rc.readXMLBody(false, true)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	cfg, aerr := parseS3Inventory(data, id)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	all, err := st.ListBucketInventory(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(inventoryErr(err))
		return
	}
	if len(all) >= objstore.MaxInventoryConfigs && !slices.ContainsFunc(all, func(c objstore.InventoryConfig) bool { return c.ID == id }) {
		rc.fail(newErr(http.StatusBadRequest, "TooManyConfigurations",
			"You are attempting to create a new configuration but have already reached the 1,000-configuration limit."))
		return
	}
	if err := st.PutBucketInventory(rc.ctx, rc.p, rc.bucket, cfg); err != nil {
		rc.fail(inventoryErr(err))
		return
	}
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

func (h *handler) getBucketInventory(rc *reqCtx) {
	st, ok := h.inventoryStore(rc)
	if !ok {
		return
	}
	c, err := st.GetBucketInventory(rc.ctx, rc.p, rc.bucket, rc.query("id"))
	if err != nil {
		rc.fail(inventoryErr(err))
		return
	}
	rc.writeXML(s3InventoryOut(c, true))
}

func (h *handler) listBucketInventory(rc *reqCtx) {
	st, ok := h.inventoryStore(rc)
	if !ok {
		return
	}
	all, err := st.ListBucketInventory(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(inventoryErr(err))
		return
	}
	out := s3ListInventory{Xmlns: s3Namespace}
	for _, c := range all {
		out.Configs = append(out.Configs, s3InventoryOut(c, false))
	}
	rc.writeXML(out)
}

func (h *handler) deleteBucketInventory(rc *reqCtx) {
	st, ok := h.inventoryStore(rc)
	if !ok {
		return
	}
	if err := st.DeleteBucketInventory(rc.ctx, rc.p, rc.bucket, rc.query("id")); err != nil {
		rc.fail(inventoryErr(err))
		return
	}
	rc.w.WriteHeader(http.StatusNoContent)
}
