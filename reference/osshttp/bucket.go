package osshttp

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/objstore"
)

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// ctx is the request context, carrying the request id to the KMS audit log.
func (req *request) ctx() context.Context {
	return kms.WithRequestID(req.r.Context(), req.id)
}

type xmlOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type xmlBucket struct {
	CreationDate     string `xml:"CreationDate"`
	ExtranetEndpoint string `xml:"ExtranetEndpoint"`
	IntranetEndpoint string `xml:"IntranetEndpoint"`
	Location         string `xml:"Location"`
	Name             string `xml:"Name"`
	Region           string `xml:"Region"`
	StorageClass     string `xml:"StorageClass"`
	ResourceGroupID  string `xml:"ResourceGroupId"`
}

// defaultResourceGroupID is the resource group every bucket is in: OSS
// puts a bucket created without one in the account's default group, and
// clients expect the element (the v2 SDK's tests dereference it). There
// are no resource groups here; the id is a fixed, recognisably local one.
const defaultResourceGroupID = "rg-default"

type xmlListAllMyBucketsResult struct {
	XMLName     xml.Name    `xml:"ListAllMyBucketsResult"`
	Prefix      string      `xml:"Prefix"`
	Marker      string      `xml:"Marker"`
	MaxKeys     int         `xml:"MaxKeys"`
	IsTruncated bool        `xml:"IsTruncated"`
	NextMarker  string      `xml:"NextMarker"`
	Owner       xmlOwner    `xml:"Owner"`
	Buckets     []xmlBucket `xml:"Buckets>Bucket"`
}

// parseMaxKeys reads a page-size parameter: def when absent, 1..1000.
func parseMaxKeys(q url.Values, name string, def int) (int, *ossError) {
	vs, ok := q[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
	if len(vs) != 1 || err != nil || n < 1 || n > 1000 {
		return 0, errInvalidArgument("The " + name + " parameter must be an integer between 1 and 1000.")
	}
	return n, nil
}

// parseEncodingType accepts no encoding-type or "url".
func parseEncodingType(q url.Values) (bool, *ossError) {
	vs, ok := q["encoding-type"]
	if !ok {
		return false, nil
	}
	if len(vs) != 1 || !strings.EqualFold(vs[0], "url") {
		return false, errInvalidArgument("The encoding-type parameter must be url.")
	}
	return true, nil
}

func ownerOf(name string) xmlOwner { return xmlOwner{ID: name, DisplayName: name} }

func (h *handler) listBuckets(req *request) *ossError {
	q := req.q
	prefix, marker := q.Get("prefix"), q.Get("marker")
	maxKeys, e := parseMaxKeys(q, "max-keys", 100)
	if e != nil {
		return e
	}
	if !validBucketPrefix(prefix) {
		return errInvalidArgument("The prefix is not the start of a valid bucket name (lower-case letters, digits and hyphens, at most 63).").
			with("ArgumentName", "prefix").with("ArgumentValue", prefix)
	}
	filter, e := bucketTagFilter(q)
	if e != nil {
		return e
	}
	all, err := h.cfg.Store.ListBuckets(req.ctx(), req.principal)
	if err != nil {
		return fromStore(err, "", "")
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	out := xmlListAllMyBucketsResult{Prefix: prefix, Marker: marker, MaxKeys: maxKeys, Owner: ownerOf(req.principal.Name)}
	endpoint := endpointOf(req)
	for _, b := range all {
		if !strings.HasPrefix(b.Name, prefix) || b.Name <= marker {
			continue
		}
		if filter != nil {
			tags, e := h.bucketTags(req, b.Name)
			if e != nil {
				return e
			}
			if !filter(tags) {
				continue
			}
		}
		if len(out.Buckets) == maxKeys {
			out.IsTruncated = true
			out.NextMarker = out.Buckets[len(out.Buckets)-1].Name
			break
		}
		region := b.Region
		if region == "" {
			region = h.cfg.Region
		}
		out.Buckets = append(out.Buckets, xmlBucket{
			CreationDate:     ossTime(b.CreationDate),
			ExtranetEndpoint: endpoint,
			IntranetEndpoint: endpoint,
			Location:         locationOf(region),
			Name:             b.Name,
			Region:           region,
			StorageClass:     storageClassOf(b.StorageClass),
			ResourceGroupID:  defaultResourceGroupID,
		})
	}
	return h.reply(req, out)
}

// storageClassOf is the OSS name of a stored class: OSS's own as written,
// S3's mapped to the nearest OSS class.
func storageClassOf(s string) string {
	if ossStorageClasses[s] {
		return s
	}
	switch s {
	case "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING":
		return "IA"
	case "GLACIER", "GLACIER_IR":
		return "Archive"
	case "DEEP_ARCHIVE":
		return "DeepColdArchive"
	}
	return "Standard"
}

// reply sends a 200 XML document.
func (h *handler) reply(req *request, v any) *ossError {
	body, err := marshalXML(v)
	if err != nil {
		h.log.Error("oss response encoding failed", "request_id", req.id, "op", req.op, "error", err.Error())
		return errInternal()
	}
	return h.replyBody(req, body)
}

// replyBody sends a 200 XML document already encoded.
func (h *handler) replyBody(req *request, body []byte) *ossError {
	hdr := req.w.Header()
	hdr.Set("Content-Type", "application/xml")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	req.w.WriteHeader(http.StatusOK)
	if req.r.Method != http.MethodHead {
		_, _ = req.w.Write(body)
	}
	return nil
}

// xmlCreateBucketConfiguration is PutBucket's optional body.
type xmlCreateBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	StorageClass       string   `xml:"StorageClass"`
	DataRedundancyType string   `xml:"DataRedundancyType"`
	ObjectHashFunction string   `xml:"ObjectHashFunction"`
}

// parseCreateBucketConfiguration validates PutBucket's body (empty is
// fine) and returns its storage class ("" = Standard): one of the classes
// OSS accepts on buckets, kept and given to objects written without one
// (metadata only, see the package comment), and its data redundancy type
// ("" = LRS): LRS or ZRS, kept and reported (redundancy.go).
func parseCreateBucketConfiguration(body []byte) (string, string, *ossError) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return "", "", nil
	}
	var c xmlCreateBucketConfiguration
	if err := decodeXMLStrict(body, &c); err != nil {
		return "", "", errMalformedXML()
	}
	class := strings.TrimSpace(c.StorageClass)
	if class != "" && !ossStorageClasses[class] {
		return "", "", errInvalidArgument("The storage class you specified is not valid.")
	}
	redundancy := strings.TrimSpace(c.DataRedundancyType)
	switch redundancy {
	case "", redundancyLRS, redundancyZRS:
	default:
		return "", "", errInvalidArgument("The data redundancy type you specified is not valid.")
	}
	switch strings.TrimSpace(c.ObjectHashFunction) {
	case "", "SHA-1", "SHA-256":
	default:
		return "", "", errInvalidArgument("The object hash function you specified is not valid.")
	}
	return class, redundancy, nil
}

func (h *handler) putBucket(req *request) *ossError {
	sse, e := parseSSEHeaders(req.r.Header)
	if e != nil {
		return e
	}
	acl, _, e := aclHeader(req.r.Header, hBucketACL, false)
	if e != nil {
		return e
	}
	body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
	if e != nil {
		return e
	}
	class, redundancy, e := parseCreateBucketConfiguration(body)
	if e != nil {
		return e
	}
	opts := objstore.CreateBucketOptions{Rule: ruleFromSSE(sse.SSE), StorageClass: class, ACL: acl}
	if _, err := h.cfg.Store.CreateBucketWithOptions(req.ctx(), req.principal, req.res.bucket, opts); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	if redundancy == redundancyZRS {
		if e := h.setRedundancy(req, redundancy); e != nil {
			// The bucket is new and empty: undo it rather than leave it
			// with a redundancy type other than the one asked for.
			_ = h.cfg.Store.DeleteBucket(req.ctx(), req.principal, req.res.bucket)
			return e
		}
	}
	writeEmpty(req.w, http.StatusOK)
	return nil
}

func (h *handler) deleteBucket(req *request) *ossError {
	if err := h.cfg.Store.DeleteBucket(req.ctx(), req.principal, req.res.bucket); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	writeEmpty(req.w, http.StatusNoContent)
	return nil
}

type xmlSSERuleFlat struct {
	SSEAlgorithm      string `xml:"SSEAlgorithm"`
	KMSMasterKeyID    string `xml:"KMSMasterKeyID,omitempty"`
	KMSDataEncryption string `xml:"KMSDataEncryption,omitempty"`
}

type xmlBucketPolicy struct {
	LogBucket string `xml:"LogBucket"`
	LogPrefix string `xml:"LogPrefix"`
}

type xmlBucketInfoBody struct {
	AccessMonitor          string         `xml:"AccessMonitor"`
	CreationDate           string         `xml:"CreationDate"`
	ExtranetEndpoint       string         `xml:"ExtranetEndpoint"`
	IntranetEndpoint       string         `xml:"IntranetEndpoint"`
	Location               string         `xml:"Location"`
	StorageClass           string         `xml:"StorageClass"`
	TransferAcceleration   string         `xml:"TransferAcceleration"`
	CrossRegionReplication string         `xml:"CrossRegionReplication"`
	Name                   string         `xml:"Name"`
	ResourceGroupID        string         `xml:"ResourceGroupId"`
	Owner                  xmlOwner       `xml:"Owner"`
	ACL                    string         `xml:"AccessControlList>Grant"`
	DataRedundancyType     string         `xml:"DataRedundancyType"`
	SSE                    xmlSSERuleFlat `xml:"ServerSideEncryptionRule"`
	// Versioning is Enabled or Suspended, absent for a bucket that never
	// had versioning (as GetBucketVersioning has no Status then).
	Versioning   string          `xml:"Versioning,omitempty"`
	BucketPolicy xmlBucketPolicy `xml:"BucketPolicy"`
	// BlockPublicAccess is the bucket's or the account's public access
	// block (bucketconfig.go).
	BlockPublicAccess bool `xml:"BlockPublicAccess"`
}

type xmlBucketInfo struct {
	XMLName xml.Name          `xml:"BucketInfo"`
	Bucket  xmlBucketInfoBody `xml:"Bucket"`
}

func (h *handler) getBucketInfo(req *request) *ossError {
	b, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	region := b.Region
	if region == "" {
		region = h.cfg.Region
	}
	endpoint := endpointOf(req)
	info := xmlBucketInfoBody{
		AccessMonitor:          "Disabled",
		CreationDate:           ossTime(b.CreationDate),
		ExtranetEndpoint:       endpoint,
		IntranetEndpoint:       endpoint,
		Location:               locationOf(region),
		StorageClass:           storageClassOf(b.StorageClass),
		TransferAcceleration:   "Disabled",
		CrossRegionReplication: "Disabled",
		Name:                   b.Name,
		ResourceGroupID:        defaultResourceGroupID,
		Owner:                  ownerOf(b.Owner),
		ACL:                    b.ACL,
		DataRedundancyType:     redundancyLRS,
		SSE:                    xmlSSERuleFlat{SSEAlgorithm: "None"},
		Versioning:             b.Versioning,
	}
	if doc, err := h.cfg.Store.GetBucketConfig(req.ctx(), req.principal, b.Name, "logging"); err != nil {
		return fromStore(err, b.Name, "")
	} else if doc != nil {
		var l xmlBucketLoggingStatus
		if xml.Unmarshal(doc, &l) == nil && l.LoggingEnabled != nil {
			info.BucketPolicy = xmlBucketPolicy{LogBucket: l.LoggingEnabled.TargetBucket, LogPrefix: l.LoggingEnabled.TargetPrefix}
		}
	}
	redundancy, e := h.redundancy(req, b.Name)
	if e != nil {
		return e
	}
	info.DataRedundancyType = redundancy
	blocked, e := h.publicAccessBlocked(req, b.Name)
	if e != nil {
		return e
	}
	info.BlockPublicAccess = blocked
	for _, f := range []struct {
		name string
		dst  *string
	}{{"transferacceleration", &info.TransferAcceleration}, {"accessmonitor", &info.AccessMonitor}} {
		if on, e := h.configOn(req, b.Name, f.name); e != nil {
			return e
		} else if on {
			*f.dst = "Enabled"
		}
	}
	if r := b.Encryption; r != nil && r.Algorithm != "" {
		info.SSE = xmlSSERuleFlat{SSEAlgorithm: r.Algorithm}
		if r.Algorithm == objstore.AlgorithmKMS {
			info.SSE.KMSMasterKeyID = r.KMSMasterKeyID
			info.SSE.KMSDataEncryption = r.KMSDataEncryption
		}
	}
	return h.reply(req, xmlBucketInfo{Bucket: info})
}

type xmlLocation struct {
	XMLName  xml.Name `xml:"LocationConstraint"`
	Location string   `xml:",chardata"`
}

func (h *handler) getBucketLocation(req *request) *ossError {
	b, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	region := b.Region
	if region == "" {
		region = h.cfg.Region
	}
	return h.reply(req, xmlLocation{Location: locationOf(region)})
}

type xmlAccessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   xmlOwner `xml:"Owner"`
	Grant   string   `xml:"AccessControlList>Grant"`
}

func (h *handler) getBucketACL(req *request) *ossError {
	b, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	return h.reply(req, xmlAccessControlPolicy{Owner: ownerOf(b.Owner), Grant: b.ACL})
}

func (h *handler) putBucketEncryption(req *request) *ossError {
	body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
	if e != nil {
		return e
	}
	rule, e := parseEncryptionRule(body)
	if e != nil {
		return e
	}
	if err := h.cfg.Store.PutBucketEncryption(req.ctx(), req.principal, req.res.bucket, rule); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	writeEmpty(req.w, http.StatusOK)
	return nil
}

type xmlSSEDefaultOut struct {
	SSEAlgorithm      string `xml:"SSEAlgorithm"`
	KMSMasterKeyID    string `xml:"KMSMasterKeyID,omitempty"`
	KMSDataEncryption string `xml:"KMSDataEncryption,omitempty"`
}

type xmlSSERuleOut struct {
	XMLName xml.Name         `xml:"ServerSideEncryptionRule"`
	Default xmlSSEDefaultOut `xml:"ApplyServerSideEncryptionByDefault"`
}

func (h *handler) getBucketEncryption(req *request) *ossError {
	rule, err := h.cfg.Store.GetBucketEncryption(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	out := xmlSSERuleOut{Default: xmlSSEDefaultOut{SSEAlgorithm: rule.Algorithm}}
	if rule.Algorithm == objstore.AlgorithmKMS {
		out.Default.KMSMasterKeyID = rule.KMSMasterKeyID
		out.Default.KMSDataEncryption = rule.KMSDataEncryption
	}
	return h.reply(req, out)
}

func (h *handler) deleteBucketEncryption(req *request) *ossError {
	if err := h.cfg.Store.DeleteBucketEncryption(req.ctx(), req.principal, req.res.bucket); err != nil &&
		objstore.KindOf(err) != objstore.KindNoSuchEncryptionRule {
		return fromStore(err, req.res.bucket, "")
	}
	writeEmpty(req.w, http.StatusNoContent)
	return nil
}

type xmlListLiveChannelResult struct {
	XMLName     xml.Name `xml:"ListLiveChannelResult"`
	Prefix      string   `xml:"Prefix"`
	Marker      string   `xml:"Marker"`
	MaxKeys     int      `xml:"MaxKeys"`
	IsTruncated bool     `xml:"IsTruncated"`
	NextMarker  string   `xml:"NextMarker"`
}

// listLiveChannels answers ListLiveChannel (GET ?live) with no channels:
// live channels (RTMP ingest) cannot be created here, so every bucket has
// none. Cleanup code lists them before deleting a bucket (the v1 SDK
// suite's ForceDeleteBucket does), which must not fail.
func (h *handler) listLiveChannels(req *request) *ossError {
	maxKeys, e := parseMaxKeys(req.q, "max-keys", 100)
	if e != nil {
		return e
	}
	if _, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, req.res.bucket); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	return h.reply(req, xmlListLiveChannelResult{Prefix: req.q.Get("prefix"), Marker: req.q.Get("marker"), MaxKeys: maxKeys})
}

// validBucketPrefix reports whether p can begin a bucket name: OSS
// refuses a ListBuckets prefix that no bucket name can start with (the v1
// SDK's IsBucketExist relies on it to reject an invalid name).
func validBucketPrefix(p string) bool {
	if len(p) > 63 {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
