package osshttp

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Bucket sub-resources that are configuration documents: CORS,
// lifecycle, static website, access logging (and its user-defined log
// fields), Referer (hotlink protection), bucket tags, transfer
// acceleration, access monitor, HTTPS (TLS) settings, overwrite
// protection, archive direct read, storage quota, requester pays, the
// public access block (bucket and account level) and QoS (qos.go). Each
// is validated against OSS's schema and rules (400 MalformedXML for a
// document of the wrong shape, InvalidArgument for a wrong value), kept
// with the bucket (objstore bucketconfig.go) and answered by its Get as
// kept, or, when none is set, as OSS answers: a 404 with the
// sub-resource's code or the document of its default. A bucket that does
// not exist is 404 NoSuchBucket before the body is looked at, except on
// PutBucketOverwriteConfig: OSS validates that body first and answers a
// missing bucket 400 MalformedXML, EC 0015-00000231 (putMissing).
//
// What each one does here: CORS answers browsers' preflight requests
// (OPTIONS, anonymous as on OSS) and adds the CORS headers a matching
// rule grants. The public access block is reported by GetBucketInfo
// (BlockPublicAccess) and, while on (bucket or account), refuses public
// canned ACLs with 403 AccessDenied. The rest are kept and reported, not
// acted on: there is no lifecycle job, website endpoint, log delivery,
// Referer check, acceleration endpoint, TLS listener setting, overwrite
// rule, quota enforcement, bandwidth or QPS throttling or billing here,
// as README says.

// configKind describes one configuration sub-resource.
type configKind struct {
	sub  string // query parameter naming it
	op   string // operation suffix: Put<op>, Get<op>, Delete<op>
	name string // the store's name for it
	del  bool   // a Delete operation exists
	// parse validates a Put body and returns the document to keep.
	parse func(req *request, body []byte) ([]byte, *ossError)
	// absent answers a Get when none is kept: a document or an error.
	absent func(req *request) ([]byte, *ossError)
	// check, when set, validates a parsed document against the bucket's
	// other settings.
	check func(h *handler, req *request, doc []byte) *ossError
	// putMissing, when set, makes Put validate its body before it looks
	// for the bucket and answer a missing bucket with this error instead
	// of NoSuchBucket, as OSS does for the sub-resource.
	putMissing func() *ossError
}

var configKinds = []*configKind{
	{sub: "cors", op: "BucketCors", name: "cors", del: true, parse: parseCORS,
		absent: notFound(CodeNoSuchCORSConfiguration, "The CORS Configuration does not exist.", "0034-00000001")},
	{sub: "lifecycle", op: "BucketLifecycle", name: "lifecycle", del: true, parse: parseLifecycle, check: (*handler).checkLifecycleAccessTime,
		absent: notFound(CodeNoSuchLifecycle, "No Row found in Lifecycle Table.", "")},
	{sub: "website", op: "BucketWebsite", name: "website", del: true, parse: parseWebsite,
		absent: notFound(CodeNoSuchWebsiteConfiguration, "The specified bucket does not have a website configuration.", "")},
	{sub: "logging", op: "BucketLogging", name: "logging", del: true, parse: parseLogging, check: (*handler).checkLoggingTarget,
		absent: fixed(`<BucketLoggingStatus></BucketLoggingStatus>`)},
	{sub: "userDefinedLogFieldsConfig", op: "UserDefinedLogFieldsConfig", name: "logfields", del: true, parse: parseLogFields,
		absent: notFound(CodeNoSuchUserDefinedLogFieldsConfig, "The bucket has no user-defined log fields configuration.", "")},
	{sub: "referer", op: "BucketReferer", name: "referer", parse: parseReferer,
		absent: fixed(`<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer><AllowTruncateQueryString>true</AllowTruncateQueryString><TruncatePath>false</TruncatePath><RefererList></RefererList></RefererConfiguration>`)},
	{sub: "tagging", op: "BucketTags", name: "tagging", del: true, parse: parseBucketTags,
		absent: fixed(`<Tagging><TagSet></TagSet></Tagging>`)},
	{sub: "transferAcceleration", op: "BucketTransferAcceleration", name: "transferacceleration", del: true, parse: parseEnabledDoc("TransferAccelerationConfiguration"),
		absent: notFound(CodeNoSuchTransferAcceleration, "The bucket you specified does not have transfer acceleration configuration.", "")},
	{sub: "accessmonitor", op: "BucketAccessMonitor", name: "accessmonitor", parse: parseAccessMonitor, check: (*handler).checkAccessMonitorOff,
		absent: fixed(`<AccessMonitorConfiguration><Status>Disabled</Status></AccessMonitorConfiguration>`)},
	{sub: "httpsConfig", op: "BucketHttpsConfig", name: "httpsconfig", parse: parseHTTPSConfig,
		absent: fixed(`<HttpsConfiguration><TLS><Enable>false</Enable></TLS></HttpsConfiguration>`)},
	{sub: "overwriteConfig", op: "BucketOverwriteConfig", name: "overwrite", del: true, parse: parseOverwrite,
		absent: fixed(`<OverwriteConfiguration></OverwriteConfiguration>`), putMissing: errOverwriteNoBucket},
	{sub: "bucketArchiveDirectRead", op: "BucketArchiveDirectRead", name: "archivedirectread", parse: parseEnabledDoc("ArchiveDirectReadConfiguration"),
		absent: fixed(`<ArchiveDirectReadConfiguration><Enabled>false</Enabled></ArchiveDirectReadConfiguration>`)},
	{sub: "quota", op: "BucketStorageQuota", name: "quota", del: true, parse: parseQuota,
		absent: fixed(`<QuotaConfiguration><StorageQuota>0</StorageQuota></QuotaConfiguration>`)},
	{sub: "requestPayment", op: "BucketRequestPayment", name: "requestpayment", parse: parseRequestPayment,
		absent: fixed(`<RequestPaymentConfiguration><Payer>BucketOwner</Payer></RequestPaymentConfiguration>`)},
	{sub: "publicAccessBlock", op: "BucketPublicAccessBlock", name: configPublicAccessBlock, del: true, parse: parsePublicAccessBlock,
		absent: fixed(`<PublicAccessBlockConfiguration><BlockPublicAccess>false</BlockPublicAccess></PublicAccessBlockConfiguration>`)},
	{sub: "qosInfo", op: "BucketQoSInfo", name: "qosinfo", del: true, parse: parseQoS, check: (*handler).checkQoSUser,
		absent: notFound(CodeNoSuchQoSConfiguration, "The bucket has no QoS configuration.", "0004-00000002")},
}

// errOverwriteNoBucket is OSS's answer to PutBucketOverwriteConfig on a
// bucket that does not exist: 400 MalformedXML, EC 0015-00000231, for a
// body it accepts on a bucket that exists (the v2 SDK's
// TestBucketOverwriteConfig pins it; Get and Delete answer NoSuchBucket).
func errOverwriteNoBucket() *ossError { return errMalformedXML().withEC("0015-00000231") }

const configPublicAccessBlock = "publicaccessblock"

// Error codes of the configuration sub-resources.
const (
	CodeNoSuchCORSConfiguration          = "NoSuchCORSConfiguration"
	CodeNoSuchLifecycle                  = "NoSuchLifecycle"
	CodeNoSuchWebsiteConfiguration       = "NoSuchWebsiteConfiguration"
	CodeNoSuchTransferAcceleration       = "NoSuchTransferAccelerationConfiguration"
	CodeNoSuchUserDefinedLogFieldsConfig = "NoSuchUserDefinedLogFieldsConfig"
	CodeAccessForbidden                  = "AccessForbidden"
	CodeResourceGroupIDPreCheckError     = "ResourceGroupIdPreCheckError"
)

// configKindOf returns the configuration sub-resource q names, if any.
func configKindOf(q url.Values) *configKind {
	for _, k := range configKinds {
		if has(q, k.sub) {
			return k
		}
	}
	return nil
}

func notFound(code, msg, ec string) func(*request) ([]byte, *ossError) {
	return func(*request) ([]byte, *ossError) {
		return nil, newErr(http.StatusNotFound, code, msg).withEC(ec)
	}
}

func fixed(doc string) func(*request) ([]byte, *ossError) {
	return func(*request) ([]byte, *ossError) { return []byte(xml.Header + doc), nil }
}

// serveConfig answers Put, Get and Delete of a configuration
// sub-resource of req's bucket.
func (h *handler) serveConfig(req *request, k *configKind) *ossError {
	st := h.cfg.Store
	b := req.res.bucket
	switch req.r.Method {
	case http.MethodPut:
		req.op = "Put" + k.op
		if e := h.policyCheck(req); e != nil {
			return e
		}
		// The bucket first: OSS answers NoSuchBucket whatever the body
		// (but for putMissing's sub-resources, after the body).
		if k.putMissing == nil {
			if _, err := st.GetBucket(req.ctx(), req.principal, b); err != nil {
				return fromStore(err, b, "")
			}
		}
		body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
		if e != nil {
			return e
		}
		doc, e := k.parse(req, body)
		if e != nil {
			return e
		}
		if k.putMissing != nil {
			if _, err := st.GetBucket(req.ctx(), req.principal, b); err != nil {
				if se, ok := errorsAsStore(err); ok && se.Kind == objstore.KindNoSuchBucket {
					return k.putMissing()
				}
				return fromStore(err, b, "")
			}
		}
		if k.check != nil {
			if e := k.check(h, req, doc); e != nil {
				return e
			}
		}
		if err := st.PutBucketConfig(req.ctx(), req.principal, b, k.name, doc); err != nil {
			return fromStore(err, b, "")
		}
		writeEmpty(req.w, http.StatusOK)
		return nil
	case http.MethodGet:
		req.op = "Get" + k.op
		if e := h.policyCheck(req); e != nil {
			return e
		}
		doc, err := st.GetBucketConfig(req.ctx(), req.principal, b, k.name)
		if err != nil {
			return fromStore(err, b, "")
		}
		if doc == nil {
			var e *ossError
			if doc, e = k.absent(req); e != nil {
				return e
			}
		}
		return h.replyBody(req, doc)
	case http.MethodDelete:
		if !k.del {
			return errMethodNotAllowed("GET, PUT")
		}
		req.op = "Delete" + k.op
		if e := h.policyCheck(req); e != nil {
			return e
		}
		if k.sub == "tagging" && req.q.Get("tagging") != "" {
			return h.deleteSomeBucketTags(req, k)
		}
		if err := st.DeleteBucketConfig(req.ctx(), req.principal, b, k.name); err != nil {
			return fromStore(err, b, "")
		}
		writeEmpty(req.w, http.StatusNoContent)
		return nil
	}
	return errMethodNotAllowed("GET, PUT, DELETE")
}

// decodeConfig decodes a configuration body strictly (its root must be
// v's), answering MalformedXML as OSS does for any other shape.
func decodeConfig(body []byte, v any) *ossError {
	if err := decodeXMLStrict(body, v); err != nil {
		return errMalformedXML()
	}
	return nil
}

func keep(v any) ([]byte, *ossError) {
	doc, err := marshalXML(v)
	if err != nil {
		return nil, errInternal()
	}
	return doc, nil
}

// ---------------------------------------------------------------- CORS

type xmlCORSRule struct {
	AllowedOrigins []string `xml:"AllowedOrigin"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedHeaders []string `xml:"AllowedHeader,omitempty"`
	ExposeHeaders  []string `xml:"ExposeHeader,omitempty"`
	MaxAgeSeconds  *int64   `xml:"MaxAgeSeconds,omitempty"`
}

type xmlCORSConfiguration struct {
	XMLName      xml.Name      `xml:"CORSConfiguration"`
	Rules        []xmlCORSRule `xml:"CORSRule"`
	ResponseVary *bool         `xml:"ResponseVary,omitempty"`
}

// maxCORSRules is OSS's limit of rules per bucket.
const maxCORSRules = 10

var corsMethods = toSet([]string{"GET", "PUT", "DELETE", "POST", "HEAD"})

// parseCORS applies OSS's CORS rules: 1..10 rules, each with at least one
// AllowedOrigin and AllowedMethod; methods GET, PUT, DELETE, POST, HEAD;
// at most one "*" in an origin or allowed header; none in an expose
// header; MaxAgeSeconds not negative.
func parseCORS(_ *request, body []byte) ([]byte, *ossError) {
	var c xmlCORSConfiguration
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if len(c.Rules) == 0 || len(c.Rules) > maxCORSRules {
		return nil, errInvalidArgument("A CORS configuration has 1 to 10 CORSRule elements.")
	}
	for _, r := range c.Rules {
		if len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 {
			return nil, errMalformedXML()
		}
		for _, m := range r.AllowedMethods {
			if !corsMethods[m] {
				return nil, errInvalidArgument("Unsupported CORS method: "+m+" (GET, PUT, DELETE, POST or HEAD).").
					with("ArgumentName", "AllowedMethod").with("ArgumentValue", m)
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return nil, errInvalidArgument("An AllowedOrigin may hold at most one wildcard (*).").
					with("ArgumentName", "AllowedOrigin").with("ArgumentValue", o)
			}
		}
		for _, x := range r.AllowedHeaders {
			if strings.Count(x, "*") > 1 {
				return nil, errInvalidArgument("An AllowedHeader may hold at most one wildcard (*).").
					with("ArgumentName", "AllowedHeader").with("ArgumentValue", x)
			}
		}
		for _, x := range r.ExposeHeaders {
			if strings.Contains(x, "*") {
				return nil, errInvalidArgument("An ExposeHeader may not hold a wildcard (*).").
					with("ArgumentName", "ExposeHeader").with("ArgumentValue", x)
			}
		}
		if r.MaxAgeSeconds != nil && *r.MaxAgeSeconds < 0 {
			return nil, errInvalidArgument("MaxAgeSeconds must not be negative.")
		}
	}
	return keep(c)
}

// wildMatch matches s against a pattern with at most one "*" (any run of
// characters), case-insensitively when fold is set.
func wildMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	before, after, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

// matchCORS returns the first rule allowing origin, method and every
// requested header, as OSS evaluates them.
func matchCORS(c *xmlCORSConfiguration, origin, method string, headers []string) *xmlCORSRule {
rules:
	for i := range c.Rules {
		r := &c.Rules[i]
		okOrigin := false
		for _, o := range r.AllowedOrigins {
			if wildMatch(o, origin, false) {
				okOrigin = true
				break
			}
		}
		if !okOrigin {
			continue
		}
		okMethod := false
		for _, m := range r.AllowedMethods {
			if m == method {
				okMethod = true
				break
			}
		}
		if !okMethod {
			continue
		}
		for _, hd := range headers {
			found := false
			for _, a := range r.AllowedHeaders {
				if wildMatch(a, hd, true) {
					found = true
					break
				}
			}
			if !found {
				continue rules
			}
		}
		return r
	}
	return nil
}

// preflight answers OPTIONS (the browser's CORS preflight): anonymous,
// as on OSS, from the bucket's CORS rules. 403 AccessForbidden when the
// bucket has none or none allows the request.
func (h *handler) preflight(req *request) *ossError {
	req.op = "OptionObject"
	r := req.r
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	if origin == "" || method == "" {
		return newErr(http.StatusBadRequest, CodeInvalidArgument, "A CORS preflight needs the Origin and Access-Control-Request-Method headers.")
	}
	doc, err := h.cfg.Store.ReadBucketConfig(req.ctx(), req.res.bucket, "cors")
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	if doc == nil {
		return newErr(http.StatusForbidden, CodeAccessForbidden, "CORSResponse: CORS is not enabled for this bucket.")
	}
	var c xmlCORSConfiguration
	if err := xml.Unmarshal(doc, &c); err != nil {
		return errInternal()
	}
	var headers []string
	for _, x := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		if x = strings.TrimSpace(x); x != "" {
			headers = append(headers, x)
		}
	}
	rule := matchCORS(&c, origin, method, headers)
	if rule == nil {
		return newErr(http.StatusForbidden, CodeAccessForbidden, "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.")
	}
	hdr := req.w.Header()
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if len(headers) > 0 {
		hdr.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	}
	if len(rule.ExposeHeaders) > 0 {
		hdr.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if rule.MaxAgeSeconds != nil {
		hdr.Set("Access-Control-Max-Age", strconv.FormatInt(*rule.MaxAgeSeconds, 10))
	}
	if c.ResponseVary != nil && *c.ResponseVary {
		hdr.Set("Vary", "Origin")
	}
	writeEmpty(req.w, http.StatusOK)
	return nil
}

// ----------------------------------------------------------- lifecycle

type xmlLifecycleDays struct {
	Days              *int   `xml:"Days"`
	CreatedBeforeDate string `xml:"CreatedBeforeDate"`
	Date              string `xml:"Date"`
	ExpiredDelMarker  string `xml:"ExpiredObjectDeleteMarker"`
	StorageClass      string `xml:"StorageClass"`
	NoncurrentDays    *int   `xml:"NoncurrentDays"`
	IsAccessTime      string `xml:"IsAccessTime"`
}

type xmlLifecycleRule struct {
	ID                           string             `xml:"ID"`
	Prefix                       *string            `xml:"Prefix"`
	Status                       string             `xml:"Status"`
	Expiration                   *xmlLifecycleDays  `xml:"Expiration"`
	Transitions                  []xmlLifecycleDays `xml:"Transition"`
	AbortMultipartUpload         *xmlLifecycleDays  `xml:"AbortMultipartUpload"`
	NoncurrentVersionExpiration  *xmlLifecycleDays  `xml:"NoncurrentVersionExpiration"`
	NoncurrentVersionTransitions []xmlLifecycleDays `xml:"NoncurrentVersionTransition"`
	Tags                         []xmlTag           `xml:"Tag"`
}

type xmlLifecycleConfiguration struct {
	XMLName xml.Name           `xml:"LifecycleConfiguration"`
	Rules   []xmlLifecycleRule `xml:"Rule"`
}

const maxLifecycleRules = 1000

var lifecycleClasses = toSet([]string{"IA", "Archive", "ColdArchive", "DeepColdArchive"})

// parseLifecycle applies OSS's lifecycle rules: 1..1000 rules with
// unique IDs of at most 255 characters, Status Enabled or Disabled, at
// least one action; an Expiration or AbortMultipartUpload names exactly
// one of Days, CreatedBeforeDate, Date (and, for Expiration,
// ExpiredObjectDeleteMarker); days are positive; dates are ISO 8601
// midnights; a transition names Days or CreatedBeforeDate and a class
// IA, Archive, ColdArchive or DeepColdArchive. The document is kept as
// sent.
func parseLifecycle(req *request, body []byte) ([]byte, *ossError) {
	var c xmlLifecycleConfiguration
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if len(c.Rules) == 0 || len(c.Rules) > maxLifecycleRules {
		return nil, errMalformedXML()
	}
	ids := map[string]bool{}
	for _, r := range c.Rules {
		if len(r.ID) > 255 {
			return nil, errInvalidArgument("The lifecycle rule ID is longer than 255 characters.").with("ArgumentName", "ID")
		}
		if r.ID != "" {
			if ids[r.ID] {
				return nil, errInvalidArgument("Rule ID must be unique. Found same ID for more than one rule.").with("ArgumentName", "ID").with("ArgumentValue", r.ID)
			}
			ids[r.ID] = true
		}
		if r.Status != "Enabled" && r.Status != "Disabled" {
			return nil, errMalformedXML()
		}
		if r.Expiration == nil && len(r.Transitions) == 0 && r.AbortMultipartUpload == nil &&
			r.NoncurrentVersionExpiration == nil && len(r.NoncurrentVersionTransitions) == 0 {
			return nil, errMalformedXML()
		}
		if r.Expiration != nil {
			if e := checkLifecycleWhen(r.Expiration, true, false); e != nil {
				return nil, e
			}
		}
		if r.AbortMultipartUpload != nil {
			if e := checkLifecycleWhen(r.AbortMultipartUpload, false, false); e != nil {
				return nil, e
			}
		}
		for i := range r.Transitions {
			if e := checkLifecycleWhen(&r.Transitions[i], false, true); e != nil {
				return nil, e
			}
		}
		for _, n := range append(r.NoncurrentVersionTransitions, derefDays(r.NoncurrentVersionExpiration)...) {
			if n.NoncurrentDays == nil || *n.NoncurrentDays <= 0 {
				return nil, errInvalidArgument("NoncurrentDays must be a positive integer.").with("ArgumentName", "NoncurrentDays")
			}
		}
		for _, n := range r.NoncurrentVersionTransitions {
			if !lifecycleClasses[n.StorageClass] {
				return nil, errInvalidArgument("Invalid storage class "+strconv.Quote(n.StorageClass)+" for a transition.").with("ArgumentName", "StorageClass")
			}
		}
		tags := make([]objstore.Tag, 0, len(r.Tags))
		for _, t := range r.Tags {
			tags = append(tags, objstore.Tag(t))
		}
		if e := checkTags(tags); e != nil {
			return nil, e
		}
		if e := checkLifecycleOrder(r.Transitions, r.Expiration); e != nil {
			return nil, e
		}
	}
	if e := checkLifecycleOverlap(c.Rules, strings.EqualFold(req.r.Header.Get("X-Oss-Allow-Same-Action-Overlap"), "true")); e != nil {
		return nil, e
	}
	return body, nil
}

// lifecycleColdness orders the classes a transition may go to.
var lifecycleColdness = map[string]int{"IA": 1, "Archive": 2, "ColdArchive": 3, "DeepColdArchive": 4}

// checkLifecycleOrder: the day-based transitions an object meets go to
// ever colder classes, and its day-based expiration comes after them, as
// OSS requires (an object cannot move back to a warmer class).
func checkLifecycleOrder(transitions []xmlLifecycleDays, exp *xmlLifecycleDays) *ossError {
	var ts []xmlLifecycleDays
	for _, t := range transitions {
		if t.Days != nil {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return *ts[i].Days < *ts[j].Days })
	for i := 1; i < len(ts); i++ {
		if lifecycleColdness[ts[i].StorageClass] <= lifecycleColdness[ts[i-1].StorageClass] {
			return errInvalidArgument(fmt.Sprintf("A transition to %s after %d days follows one to %s after %d days: objects only move to colder classes.",
				ts[i].StorageClass, *ts[i].Days, ts[i-1].StorageClass, *ts[i-1].Days))
		}
	}
	if exp != nil && exp.Days != nil && len(ts) > 0 && *exp.Days <= *ts[len(ts)-1].Days {
		return errInvalidArgument("The expiration days must be larger than the transition days.")
	}
	return nil
}

// lifecycleActions names the action types a rule has.
func lifecycleActions(r xmlLifecycleRule) []string {
	var a []string
	if r.Expiration != nil {
		a = append(a, "Expiration")
	}
	if len(r.Transitions) > 0 {
		a = append(a, "Transition")
	}
	if r.AbortMultipartUpload != nil {
		a = append(a, "AbortMultipartUpload")
	}
	if r.NoncurrentVersionExpiration != nil {
		a = append(a, "NoncurrentVersionExpiration")
	}
	if len(r.NoncurrentVersionTransitions) > 0 {
		a = append(a, "NoncurrentVersionTransition")
	}
	return a
}

// checkLifecycleOverlap: two enabled rules whose prefixes overlap (one
// starts the other) and that select by prefix alone may not both have an
// action of one type, unless x-oss-allow-same-action-overlap: true; with
// it, the transitions and expirations an object under both meets must
// still be in order.
func checkLifecycleOverlap(rules []xmlLifecycleRule, allow bool) *ossError {
	prefix := func(r xmlLifecycleRule) string {
		if r.Prefix == nil {
			return ""
		}
		return *r.Prefix
	}
	for i := range rules {
		for j := i + 1; j < len(rules); j++ {
			a, b := rules[i], rules[j]
			if a.Status != "Enabled" || b.Status != "Enabled" || len(a.Tags) > 0 || len(b.Tags) > 0 {
				continue
			}
			pa, pb := prefix(a), prefix(b)
			if !strings.HasPrefix(pa, pb) && !strings.HasPrefix(pb, pa) {
				continue
			}
			if allow {
				exp := a.Expiration
				if exp == nil || (b.Expiration != nil && b.Expiration.Days != nil && (exp.Days == nil || *b.Expiration.Days < *exp.Days)) {
					exp = b.Expiration
				}
				if e := checkLifecycleOrder(append(append([]xmlLifecycleDays{}, a.Transitions...), b.Transitions...), exp); e != nil {
					return e
				}
				continue
			}
			for _, x := range lifecycleActions(a) {
				for _, y := range lifecycleActions(b) {
					if x == y {
						return errInvalidArgument("Overlap for same action type "+x+".").
							with("ArgumentName", "Prefix").with("ArgumentValue", pa+", "+pb)
					}
				}
			}
		}
	}
	return nil
}

// lifecycleUsesAccessTime reports whether a kept lifecycle document has
// a transition on last access time.
func lifecycleUsesAccessTime(doc []byte) bool {
	var c xmlLifecycleConfiguration
	if doc == nil || xml.Unmarshal(doc, &c) != nil {
		return false
	}
	for _, r := range c.Rules {
		for _, t := range append(append([]xmlLifecycleDays{}, r.Transitions...), r.NoncurrentVersionTransitions...) {
			if t.IsAccessTime == "true" {
				return true
			}
		}
	}
	return false
}

// checkLifecycleAccessTime: rules on last access time need the access
// monitor on, as OSS requires.
func (h *handler) checkLifecycleAccessTime(req *request, doc []byte) *ossError {
	if !lifecycleUsesAccessTime(doc) {
		return nil
	}
	on, e := h.configOn(req, req.res.bucket, "accessmonitor")
	if e != nil {
		return e
	}
	if !on {
		return errInvalidArgument("Lifecycle rules on last access time need the bucket's access monitor enabled.")
	}
	return nil
}

// checkAccessMonitorOff: the access monitor cannot be disabled while a
// lifecycle rule uses last access time.
func (h *handler) checkAccessMonitorOff(req *request, doc []byte) *ossError {
	if !strings.Contains(string(doc), "<Status>Disabled</Status>") {
		return nil
	}
	lc, err := h.cfg.Store.GetBucketConfig(req.ctx(), req.principal, req.res.bucket, "lifecycle")
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	if lifecycleUsesAccessTime(lc) {
		return errInvalidArgument("The access monitor cannot be disabled while lifecycle rules use last access time.")
	}
	return nil
}

// checkLoggingTarget: logs go to a bucket that exists and the principal
// may write (400 InvalidTargetBucketForLogging, OSS's code).
func (h *handler) checkLoggingTarget(req *request, doc []byte) *ossError {
	var c xmlBucketLoggingStatus
	if xml.Unmarshal(doc, &c) != nil || c.LoggingEnabled == nil || c.LoggingEnabled.TargetBucket == req.res.bucket {
		return nil
	}
	if _, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, c.LoggingEnabled.TargetBucket); err != nil {
		return newErr(http.StatusBadRequest, "InvalidTargetBucketForLogging", "The target bucket for logging does not exist or is not yours.").
			with("TargetBucket", c.LoggingEnabled.TargetBucket)
	}
	return nil
}

func derefDays(d *xmlLifecycleDays) []xmlLifecycleDays {
	if d == nil {
		return nil
	}
	return []xmlLifecycleDays{*d}
}

// checkLifecycleWhen checks that an action names exactly one time
// condition, valid.
func checkLifecycleWhen(d *xmlLifecycleDays, expiration, transition bool) *ossError {
	n := 0
	if d.Days != nil {
		n++
		if *d.Days <= 0 {
			return errInvalidArgument("Days must be a positive integer.").with("ArgumentName", "Days")
		}
	}
	for _, s := range []string{d.CreatedBeforeDate, d.Date} {
		if s == "" {
			continue
		}
		n++
		if !strings.HasSuffix(s, "T00:00:00.000Z") || len(s) != len("2006-01-02T00:00:00.000Z") {
			return errInvalidArgument("The date must be an ISO 8601 midnight in UTC, such as 2026-01-01T00:00:00.000Z.").with("ArgumentValue", s)
		}
	}
	if expiration && d.ExpiredDelMarker != "" {
		n++
		if d.ExpiredDelMarker != "true" && d.ExpiredDelMarker != "false" {
			return errMalformedXML()
		}
	}
	if n != 1 {
		return errMalformedXML()
	}
	if transition && !lifecycleClasses[d.StorageClass] {
		return errInvalidArgument("Invalid storage class "+strconv.Quote(d.StorageClass)+" for a transition.").with("ArgumentName", "StorageClass")
	}
	return nil
}

// ------------------------------------------------------------- website

type xmlWebsiteConfiguration struct {
	XMLName       xml.Name `xml:"WebsiteConfiguration"`
	IndexDocument *struct {
		Suffix        string `xml:"Suffix"`
		SupportSubDir string `xml:"SupportSubDir"`
		Type          string `xml:"Type"`
	} `xml:"IndexDocument"`
	ErrorDocument *struct {
		Key        string `xml:"Key"`
		HTTPStatus string `xml:"HttpStatus"`
	} `xml:"ErrorDocument"`
	RoutingRules *struct {
		Rules []struct {
			RuleNumber *int      `xml:"RuleNumber"`
			Condition  *struct{} `xml:"Condition"`
			Redirect   *struct {
				RedirectType    string `xml:"RedirectType"`
				MirrorURL       string `xml:"MirrorURL"`
				MirrorDstRegion string `xml:"MirrorDstRegion"`
			} `xml:"Redirect"`
		} `xml:"RoutingRule"`
	} `xml:"RoutingRules"`
}

var websiteRedirects = toSet([]string{"Mirror", "External", "AliCDN", "Internal"})

// parseWebsite applies OSS's static-website rules: an IndexDocument,
// ErrorDocument or RoutingRules; an index suffix without "/" (an empty
// one is none); HttpStatus 200 or 404; each routing rule with a positive,
// unique RuleNumber and a Redirect of type Mirror (with an origin),
// External, AliCDN or Internal (at most 20 rules). The document is kept
// as sent, routing rules completed with OSS's defaults.
func parseWebsite(_ *request, body []byte) ([]byte, *ossError) {
	var c xmlWebsiteConfiguration
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if c.IndexDocument == nil && c.ErrorDocument == nil && c.RoutingRules == nil {
		return nil, errMalformedXML()
	}
	if d := c.IndexDocument; d != nil {
		// An empty Suffix is no index document (the v1 SDK sends one
		// with routing rules only).
		if strings.Contains(d.Suffix, "/") {
			return nil, errInvalidArgument("The index document suffix must not hold a slash.").with("ArgumentName", "Suffix").with("ArgumentValue", d.Suffix)
		}
		if d.Type != "" && d.Type != "0" && d.Type != "1" && d.Type != "2" {
			return nil, errInvalidArgument("The index document Type must be 0, 1 or 2.").with("ArgumentName", "Type")
		}
	}
	if d := c.ErrorDocument; d != nil {
		if d.HTTPStatus != "" && d.HTTPStatus != "200" && d.HTTPStatus != "404" {
			return nil, errInvalidArgument("The error document HttpStatus must be 200 or 404.").with("ArgumentName", "HttpStatus")
		}
	}
	if rr := c.RoutingRules; rr != nil {
		if len(rr.Rules) > 20 {
			return nil, errInvalidArgument("A website configuration has at most 20 routing rules.")
		}
		seen := map[int]bool{}
		for _, r := range rr.Rules {
			if r.RuleNumber == nil || *r.RuleNumber <= 0 || seen[*r.RuleNumber] || r.Redirect == nil {
				return nil, errMalformedXML()
			}
			seen[*r.RuleNumber] = true
			if r.Redirect.RedirectType != "" && !websiteRedirects[r.Redirect.RedirectType] {
				return nil, errInvalidArgument("Unknown RedirectType "+strconv.Quote(r.Redirect.RedirectType)+".").with("ArgumentName", "RedirectType")
			}
			// A mirror needs an origin: a MirrorURL, or a bucket of another
			// region (MirrorDstRegion).
			if r.Redirect.RedirectType == "Mirror" && r.Redirect.MirrorURL == "" && r.Redirect.MirrorDstRegion == "" {
				return nil, errInvalidArgument("A Mirror redirect needs a MirrorURL (or MirrorDstRegion).").with("ArgumentName", "MirrorURL")
			}
		}
		return withRedirectDefaults(body)
	}
	return body, nil
}

// xnode is a generic XML element, for documents kept as sent but
// completed with defaults.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []xnode    `xml:",any"`
}

func (n *xnode) child(name string) *xnode {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == name {
			return &n.Nodes[i]
		}
	}
	return nil
}

// redirectDefaults are the values OSS reports for a routing rule's
// Redirect elements that were not sent.
var redirectDefaults = []struct{ name, value string }{
	{"PassQueryString", "false"},
	{"MirrorPassQueryString", "false"},
	{"MirrorFollowRedirect", "true"},
	{"MirrorCheckMd5", "false"},
}

// withRedirectDefaults completes each routing rule's Redirect with the
// defaults OSS answers (and MirrorHeaders/PassAll false), as
// GetBucketWebsite reports them.
func withRedirectDefaults(body []byte) ([]byte, *ossError) {
	var root xnode
	if err := xml.Unmarshal(body, &root); err != nil {
		return nil, errMalformedXML()
	}
	rr := root.child("RoutingRules")
	if rr == nil {
		return body, nil
	}
	for i := range rr.Nodes {
		red := rr.Nodes[i].child("Redirect")
		if red == nil {
			continue
		}
		for _, d := range redirectDefaults {
			if red.child(d.name) == nil {
				red.Nodes = append(red.Nodes, xnode{XMLName: xml.Name{Local: d.name}, Text: d.value})
			}
		}
		mh := red.child("MirrorHeaders")
		if mh == nil {
			red.Nodes = append(red.Nodes, xnode{XMLName: xml.Name{Local: "MirrorHeaders"}})
			mh = &red.Nodes[len(red.Nodes)-1]
		}
		if mh.child("PassAll") == nil {
			mh.Nodes = append(mh.Nodes, xnode{XMLName: xml.Name{Local: "PassAll"}, Text: "false"})
		}
	}
	return keep(root)
}

// ------------------------------------------------------------- logging

type xmlLoggingEnabled struct {
	TargetBucket string `xml:"TargetBucket"`
	TargetPrefix string `xml:"TargetPrefix,omitempty"`
	LoggingRole  string `xml:"LoggingRole,omitempty"`
}

type xmlBucketLoggingStatus struct {
	XMLName        xml.Name           `xml:"BucketLoggingStatus"`
	LoggingEnabled *xmlLoggingEnabled `xml:"LoggingEnabled"`
}

// parseLogging: a LoggingEnabled without TargetBucket logs into the
// bucket itself (as OSS reports it back); a prefix is at most 32
// characters and holds no "/" at its start.
func parseLogging(req *request, body []byte) ([]byte, *ossError) {
	var c xmlBucketLoggingStatus
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if l := c.LoggingEnabled; l != nil {
		if l.TargetBucket == "" {
			l.TargetBucket = req.res.bucket
		}
		if len(l.TargetPrefix) > 32 || strings.HasPrefix(l.TargetPrefix, "/") {
			return nil, errInvalidArgument("The TargetPrefix is at most 32 characters and does not start with a slash.").
				with("ArgumentName", "TargetPrefix").with("ArgumentValue", l.TargetPrefix)
		}
	}
	return keep(c)
}

type xmlLogFields struct {
	XMLName   xml.Name `xml:"UserDefinedLogFieldsConfiguration"`
	HeaderSet *struct {
		Headers []string `xml:"header"`
	} `xml:"HeaderSet"`
	ParamSet *struct {
		Parameters []string `xml:"parameter"`
	} `xml:"ParamSet"`
}

// parseLogFields: at most 20 headers and 20 parameters, none empty.
func parseLogFields(_ *request, body []byte) ([]byte, *ossError) {
	var c xmlLogFields
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	var lists [][]string
	if c.HeaderSet != nil {
		lists = append(lists, c.HeaderSet.Headers)
	}
	if c.ParamSet != nil {
		lists = append(lists, c.ParamSet.Parameters)
	}
	if len(lists) == 0 {
		return nil, errMalformedXML()
	}
	for _, l := range lists {
		if len(l) > 20 {
			return nil, errInvalidArgument("At most 20 headers and 20 parameters can be logged.")
		}
		for _, s := range l {
			if strings.TrimSpace(s) == "" {
				return nil, errInvalidArgument("A logged header or parameter name is empty.")
			}
		}
	}
	return body, nil
}

// ------------------------------------------------------------- referer

type xmlRefererConfiguration struct {
	XMLName                  xml.Name `xml:"RefererConfiguration"`
	AllowEmptyReferer        *bool    `xml:"AllowEmptyReferer"`
	AllowTruncateQueryString *bool    `xml:"AllowTruncateQueryString"`
	TruncatePath             *bool    `xml:"TruncatePath"`
	RefererList              *struct {
		Referers []string `xml:"Referer"`
	} `xml:"RefererList"`
	RefererBlacklist *struct {
		Referers []string `xml:"Referer"`
	} `xml:"RefererBlacklist"`
}

// parseReferer: AllowEmptyReferer is required; TruncatePath needs
// AllowTruncateQueryString; the lists are kept as sent.
func parseReferer(_ *request, body []byte) ([]byte, *ossError) {
	var c xmlRefererConfiguration
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if c.AllowEmptyReferer == nil {
		return nil, errMalformedXML()
	}
	if c.TruncatePath != nil && *c.TruncatePath && c.AllowTruncateQueryString != nil && !*c.AllowTruncateQueryString {
		return nil, errInvalidArgument("TruncatePath needs AllowTruncateQueryString.").with("ArgumentName", "TruncatePath")
	}
	return body, nil
}

// --------------------------------------------------------- bucket tags

// maxBucketTags is OSS's limit of tags per bucket (objects have 10).
const maxBucketTags = 20

func parseBucketTags(_ *request, body []byte) ([]byte, *ossError) {
	var in xmlTagging
	if e := decodeConfig(body, &in); e != nil {
		return nil, e
	}
	if len(in.Tags) > maxBucketTags {
		return nil, newErr(http.StatusBadRequest, CodeInvalidTag, "A bucket has at most 20 tags.").withEC(ecInvalidTag)
	}
	seen := map[string]bool{}
	for _, t := range in.Tags {
		if t.Key == "" || seen[t.Key] {
			return nil, newErr(http.StatusBadRequest, CodeInvalidTag, "Tag keys must be unique and not empty.").withEC(ecInvalidTag)
		}
		seen[t.Key] = true
		if e := checkTags([]objstore.Tag{objstore.Tag(t)}); e != nil {
			return nil, e
		}
	}
	return keep(in)
}

// deleteSomeBucketTags is DELETE ?tagging=k1,k2: only those keys go.
func (h *handler) deleteSomeBucketTags(req *request, k *configKind) *ossError {
	st, b := h.cfg.Store, req.res.bucket
	doc, err := st.GetBucketConfig(req.ctx(), req.principal, b, k.name)
	if err != nil {
		return fromStore(err, b, "")
	}
	if doc != nil {
		drop := toSet(strings.Split(req.q.Get("tagging"), ","))
		var in xmlTagging
		if err := xml.Unmarshal(doc, &in); err != nil {
			return errInternal()
		}
		out := xmlTagging{Tags: []xmlTag{}}
		for _, t := range in.Tags {
			if !drop[t.Key] {
				out.Tags = append(out.Tags, t)
			}
		}
		nd, e := keep(out)
		if e != nil {
			return e
		}
		if err := st.PutBucketConfig(req.ctx(), req.principal, b, k.name, nd); err != nil {
			return fromStore(err, b, "")
		}
	}
	writeEmpty(req.w, http.StatusNoContent)
	return nil
}

// bucketTags returns a bucket's tags (ListBuckets' tag filter).
func (h *handler) bucketTags(req *request, bucket string) (map[string]string, *ossError) {
	doc, err := h.cfg.Store.GetBucketConfig(req.ctx(), req.principal, bucket, "tagging")
	if err != nil {
		return nil, fromStore(err, bucket, "")
	}
	tags := map[string]string{}
	if doc == nil {
		return tags, nil
	}
	var in xmlTagging
	if err := xml.Unmarshal(doc, &in); err != nil {
		return nil, errInternal()
	}
	for _, t := range in.Tags {
		tags[t.Key] = t.Value
	}
	return tags, nil
}

// ------------------------------------------------------ small settings

// parseEnabledDoc: <root><Enabled>true|false</Enabled></root>.
func parseEnabledDoc(root string) func(*request, []byte) ([]byte, *ossError) {
	return func(_ *request, body []byte) ([]byte, *ossError) {
		var c struct {
			XMLName xml.Name
			Enabled *bool `xml:"Enabled"`
		}
		if err := decodeXMLStrict(body, &c); err != nil || c.XMLName.Local != root || c.Enabled == nil {
			return nil, errMalformedXML()
		}
		return []byte(xml.Header + "<" + root + "><Enabled>" + strconv.FormatBool(*c.Enabled) + "</Enabled></" + root + ">"), nil
	}
}

func parseAccessMonitor(_ *request, body []byte) ([]byte, *ossError) {
	var c struct {
		XMLName xml.Name `xml:"AccessMonitorConfiguration"`
		Status  string   `xml:"Status"`
	}
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if c.Status != "Enabled" && c.Status != "Disabled" {
		return nil, errInvalidArgument("The access monitor Status must be Enabled or Disabled.").with("ArgumentName", "Status").with("ArgumentValue", c.Status)
	}
	return keep(c)
}

var tlsVersions = toSet([]string{"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"})

func parseHTTPSConfig(_ *request, body []byte) ([]byte, *ossError) {
	var c struct {
		XMLName xml.Name `xml:"HttpsConfiguration"`
		TLS     *struct {
			Enable      *bool    `xml:"Enable"`
			TLSVersions []string `xml:"TLSVersion"`
		} `xml:"TLS"`
	}
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if c.TLS == nil || c.TLS.Enable == nil {
		return nil, errMalformedXML()
	}
	if *c.TLS.Enable && len(c.TLS.TLSVersions) == 0 {
		return nil, errInvalidArgument("TLS versions are needed when TLS version control is enabled.").with("ArgumentName", "TLSVersion")
	}
	for _, v := range c.TLS.TLSVersions {
		if !tlsVersions[v] {
			return nil, errInvalidArgument("Unknown TLS version "+strconv.Quote(v)+" (TLSv1.0 to TLSv1.3).").with("ArgumentName", "TLSVersion").with("ArgumentValue", v)
		}
	}
	return body, nil
}

func parseOverwrite(_ *request, body []byte) ([]byte, *ossError) {
	var c struct {
		XMLName xml.Name `xml:"OverwriteConfiguration"`
		Rules   []struct {
			ID     string `xml:"ID"`
			Action string `xml:"Action"`
			Prefix string `xml:"Prefix"`
			Suffix string `xml:"Suffix"`
		} `xml:"Rule"`
	}
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if len(c.Rules) > 100 {
		return nil, errInvalidArgument("An overwrite configuration has at most 100 rules.")
	}
	ids := map[string]bool{}
	for _, r := range c.Rules {
		if r.Action != "forbid" || ids[r.ID] {
			return nil, errMalformedXML().withEC("0015-00000231")
		}
		ids[r.ID] = true
		if len(r.Prefix) > 1023 || len(r.Suffix) > 1023 {
			return nil, errInvalidArgument("An overwrite rule's prefix or suffix is longer than 1023 characters.")
		}
	}
	return body, nil
}

func parseQuota(_ *request, body []byte) ([]byte, *ossError) {
	var c struct {
		XMLName      xml.Name `xml:"QuotaConfiguration"`
		StorageQuota *int64   `xml:"StorageQuota"`
		Mode         string   `xml:"Mode,omitempty"`
	}
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if c.StorageQuota == nil || *c.StorageQuota < 0 {
		return nil, errInvalidArgument("StorageQuota must be a non-negative number of bytes.").with("ArgumentName", "StorageQuota")
	}
	if c.Mode != "" && c.Mode != "Strict" && c.Mode != "Flexible" {
		return nil, errInvalidArgument("The quota Mode must be Strict or Flexible.").with("ArgumentName", "Mode").with("ArgumentValue", c.Mode)
	}
	return keep(c)
}

func parseRequestPayment(_ *request, body []byte) ([]byte, *ossError) {
	var c struct {
		XMLName xml.Name `xml:"RequestPaymentConfiguration"`
		Payer   string   `xml:"Payer"`
	}
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if c.Payer != "BucketOwner" && c.Payer != "Requester" {
		return nil, errMalformedXML()
	}
	return keep(c)
}

type xmlPublicAccessBlock struct {
	XMLName           xml.Name `xml:"PublicAccessBlockConfiguration"`
	BlockPublicAccess *bool    `xml:"BlockPublicAccess"`
}

func parsePublicAccessBlock(_ *request, body []byte) ([]byte, *ossError) {
	var c xmlPublicAccessBlock
	if e := decodeConfig(body, &c); e != nil {
		return nil, e
	}
	if c.BlockPublicAccess == nil {
		return nil, errMalformedXML()
	}
	return keep(c)
}

// blocksPublic reports whether a public access block document is on.
func blocksPublic(doc []byte) bool {
	var c xmlPublicAccessBlock
	return doc != nil && xml.Unmarshal(doc, &c) == nil && c.BlockPublicAccess != nil && *c.BlockPublicAccess
}

// publicAccessBlocked reports whether bucket's or the principal's
// account-level public access block is on.
func (h *handler) publicAccessBlocked(req *request, bucket string) (bool, *ossError) {
	doc, err := h.cfg.Store.GetAccountConfig(req.ctx(), req.principal, configPublicAccessBlock)
	if err != nil {
		return false, fromStore(err, "", "")
	}
	if blocksPublic(doc) {
		return true, nil
	}
	if bucket == "" {
		return false, nil
	}
	doc, err = h.cfg.Store.GetBucketConfig(req.ctx(), req.principal, bucket, configPublicAccessBlock)
	if err != nil {
		return false, fromStore(err, bucket, "")
	}
	return blocksPublic(doc), nil
}

// serveAccountPublicAccessBlock is Put/Get/DeletePublicAccessBlock on
// the service (/?publicAccessBlock): the principal's account-level block.
func (h *handler) serveAccountPublicAccessBlock(req *request) *ossError {
	st := h.cfg.Store
	switch req.r.Method {
	case http.MethodPut:
		req.op = "PutPublicAccessBlock"
		body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
		if e != nil {
			return e
		}
		doc, e := parsePublicAccessBlock(req, body)
		if e != nil {
			return e
		}
		if err := st.PutAccountConfig(req.ctx(), req.principal, configPublicAccessBlock, doc); err != nil {
			return fromStore(err, "", "")
		}
		writeEmpty(req.w, http.StatusOK)
		return nil
	case http.MethodGet:
		req.op = "GetPublicAccessBlock"
		doc, err := st.GetAccountConfig(req.ctx(), req.principal, configPublicAccessBlock)
		if err != nil {
			return fromStore(err, "", "")
		}
		if doc == nil {
			doc, _ = configKindOf(url.Values{"publicAccessBlock": nil}).absent(req)
		}
		return h.replyBody(req, doc)
	case http.MethodDelete:
		req.op = "DeletePublicAccessBlock"
		if err := st.DeleteAccountConfig(req.ctx(), req.principal, configPublicAccessBlock); err != nil {
			return fromStore(err, "", "")
		}
		writeEmpty(req.w, http.StatusNoContent)
		return nil
	}
	return errMethodNotAllowed("GET, PUT, DELETE")
}

// ------------------------------------------------------ resource group

// serveResourceGroup is Get/PutBucketResourceGroup: rg-default is the
// only group, so a Put naming it changes nothing and any other is 400
// ResourceGroupIdPreCheckError, as OSS answers a group that does not
// exist.
func (h *handler) serveResourceGroup(req *request) *ossError {
	b := req.res.bucket
	switch req.r.Method {
	case http.MethodGet:
		req.op = "GetBucketResourceGroup"
	case http.MethodPut:
		req.op = "PutBucketResourceGroup"
	default:
		return errMethodNotAllowed("GET, PUT")
	}
	if e := h.policyCheck(req); e != nil {
		return e
	}
	if _, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, b); err != nil {
		return fromStore(err, b, "")
	}
	if req.r.Method == http.MethodGet {
		return h.replyBody(req, []byte(xml.Header+"<BucketResourceGroupConfiguration><ResourceGroupId>"+defaultResourceGroupID+"</ResourceGroupId></BucketResourceGroupConfiguration>"))
	}
	body, e := readXMLBody(req.r, h.cfg.MaxXMLBody)
	if e != nil {
		return e
	}
	var c struct {
		XMLName         xml.Name `xml:"BucketResourceGroupConfiguration"`
		ResourceGroupID string   `xml:"ResourceGroupId"`
	}
	if e := decodeConfig(body, &c); e != nil {
		return e
	}
	if c.ResourceGroupID != defaultResourceGroupID && c.ResourceGroupID != "" {
		return newErr(http.StatusBadRequest, CodeResourceGroupIDPreCheckError, "The resource group id precheck error").withEC("0039-00000003")
	}
	writeEmpty(req.w, http.StatusOK)
	return nil
}

// ------------------------------------------------------- policy status

// getBucketPolicyStatus is GET ?policyStatus. A policy here can only
// deny (Allow statements are refused), so no policy makes a bucket
// public: IsPublic is always false.
func (h *handler) getBucketPolicyStatus(req *request) *ossError {
	req.op = "GetBucketPolicyStatus"
	if e := h.policyCheck(req); e != nil {
		return e
	}
	if _, err := h.cfg.Store.GetBucket(req.ctx(), req.principal, req.res.bucket); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	return h.replyBody(req, []byte(xml.Header+"<PolicyStatus><IsPublic>false</IsPublic></PolicyStatus>"))
}

// ------------------------------------------------------------- regions

type xmlRegionInfo struct {
	Region             string `xml:"Region"`
	InternetEndpoint   string `xml:"InternetEndpoint"`
	InternalEndpoint   string `xml:"InternalEndpoint"`
	AccelerateEndpoint string `xml:"AccelerateEndpoint"`
}

type xmlRegionInfoList struct {
	XMLName xml.Name        `xml:"RegionInfoList"`
	Regions []xmlRegionInfo `xml:"RegionInfo"`
}

// describeRegions is GET /?regions[=oss-<region>]: this server serves one
// region, described as OSS describes it (its public, internal and
// acceleration endpoint names). Unlike a bucket's ExtranetEndpoint, which
// clients follow to reach the bucket and which therefore names this
// server, these name the region, as Location does. Another region is 404
// NoSuchRegion.
func (h *handler) describeRegions(req *request) *ossError {
	req.op = "DescribeRegions"
	loc := locationOf(h.cfg.Region)
	if want := req.q.Get("regions"); want != "" && want != loc {
		return newErr(http.StatusNotFound, "NoSuchRegion", "The specified region does not exist: "+path.Base(want)+".")
	}
	return h.reply(req, xmlRegionInfoList{Regions: []xmlRegionInfo{{Region: loc, InternetEndpoint: extranetEndpoint(h.cfg.Region),
		InternalEndpoint: intranetEndpoint(h.cfg.Region), AccelerateEndpoint: "oss-accelerate.aliyuncs.com"}}})
}

// refusePublic answers 403 AccessDenied to a public canned ACL while a
// public access block (the bucket's or the account's) is on.
func (h *handler) refusePublic(req *request, acl string) *ossError {
	if acl != objstore.ACLPublicRead && acl != objstore.ACLPublicReadWrite {
		return nil
	}
	blocked, e := h.publicAccessBlocked(req, req.res.bucket)
	if e != nil {
		return e
	}
	if blocked {
		return errAccessDenied("Public access is blocked by the public access block configuration; a public ACL cannot be set.")
	}
	return nil
}

// configOn reports whether a kept <...><Enabled>true</Enabled> or
// <Status>Enabled</Status> document is on (GetBucketInfo's summary).
func (h *handler) configOn(req *request, bucket, name string) (bool, *ossError) {
	doc, err := h.cfg.Store.GetBucketConfig(req.ctx(), req.principal, bucket, name)
	if err != nil {
		return false, fromStore(err, bucket, "")
	}
	var c struct {
		Enabled string `xml:"Enabled"`
		Status  string `xml:"Status"`
	}
	return doc != nil && xml.Unmarshal(doc, &c) == nil && (c.Enabled == "true" || c.Status == "Enabled"), nil
}

// bucketTagFilter reads ListBuckets' tag filter: tag-key (and tag-value)
// for one tag, or tagging, a list of "key":"value" pairs joined by
// commas that a bucket must all carry. Both at once, or a tag-value
// without tag-key, is 400 InvalidArgument. nil: no filter.
func bucketTagFilter(q url.Values) (func(map[string]string) bool, *ossError) {
	key, hasKey := q["tag-key"]
	val, hasVal := q["tag-value"]
	tagging := q.Get("tagging")
	switch {
	case tagging != "" && (hasKey || hasVal):
		return nil, errInvalidArgument("The tagging parameter cannot be used with tag-key and tag-value.").with("ArgumentName", "tagging")
	case hasVal && !hasKey:
		return nil, errInvalidArgument("tag-value needs tag-key.").with("ArgumentName", "tag-value")
	case hasKey:
		return func(tags map[string]string) bool {
			v, ok := tags[key[0]]
			return ok && (!hasVal || v == val[0])
		}, nil
	case tagging != "":
		want := map[string]string{}
		// "k1":"v1","k2":"v2" is the inside of a JSON object.
		if err := json.Unmarshal([]byte("{"+tagging+"}"), &want); err != nil || len(want) == 0 {
			return nil, errInvalidArgument(`The tagging parameter must be "key":"value" pairs joined by commas.`).with("ArgumentName", "tagging")
		}
		return func(tags map[string]string) bool {
			for k, v := range want {
				if got, ok := tags[k]; !ok || got != v {
					return false
				}
			}
			return true
		}, nil
	}
	return nil, nil
}

// ------------------------------------------------------------ bucket stat

type xmlBucketStat struct {
	XMLName                     xml.Name `xml:"BucketStat"`
	Storage                     int64    `xml:"Storage"`
	ObjectCount                 int64    `xml:"ObjectCount"`
	MultipartUploadCount        int64    `xml:"MultipartUploadCount"`
	LiveChannelCount            int64    `xml:"LiveChannelCount"`
	LastModifiedTime            int64    `xml:"LastModifiedTime"`
	StandardStorage             int64    `xml:"StandardStorage"`
	StandardObjectCount         int64    `xml:"StandardObjectCount"`
	InfrequentAccessStorage     int64    `xml:"InfrequentAccessStorage"`
	InfrequentAccessRealStorage int64    `xml:"InfrequentAccessRealStorage"`
	InfrequentAccessObjectCount int64    `xml:"InfrequentAccessObjectCount"`
	ArchiveStorage              int64    `xml:"ArchiveStorage"`
	ArchiveRealStorage          int64    `xml:"ArchiveRealStorage"`
	ArchiveObjectCount          int64    `xml:"ArchiveObjectCount"`
	ColdArchiveStorage          int64    `xml:"ColdArchiveStorage"`
	ColdArchiveRealStorage      int64    `xml:"ColdArchiveRealStorage"`
	ColdArchiveObjectCount      int64    `xml:"ColdArchiveObjectCount"`
	DeepColdArchiveStorage      int64    `xml:"DeepColdArchiveStorage"`
	DeepColdArchiveRealStorage  int64    `xml:"DeepColdArchiveRealStorage"`
	DeepColdArchiveObjectCount  int64    `xml:"DeepColdArchiveObjectCount"`
}

// getBucketStat is GET ?stat. OSS updates its figures within an hour;
// here they are counted when asked, over the current objects (by class)
// and the uploads in progress. LastModifiedTime is the latest object's
// (the bucket's creation when it holds none), in Unix seconds. Real
// storage equals storage: there is no minimum billable size.
func (h *handler) getBucketStat(req *request) *ossError {
	req.op = "GetBucketStat"
	if e := h.policyCheck(req); e != nil {
		return e
	}
	st, b := h.cfg.Store, req.res.bucket
	info, err := st.GetBucket(req.ctx(), req.principal, b)
	if err != nil {
		return fromStore(err, b, "")
	}
	out := xmlBucketStat{LastModifiedTime: info.CreationDate.Unix()}
	after := ""
	for {
		page, err := st.ListObjects(req.ctx(), req.principal, b, objstore.ListOptions{After: after})
		if err != nil {
			return fromStore(err, b, "")
		}
		for _, o := range page.Objects {
			out.Storage += o.Size
			out.ObjectCount++
			if t := o.LastModified.Unix(); t > out.LastModifiedTime {
				out.LastModifiedTime = t
			}
			switch storageClassOf(o.StorageClass) {
			case "IA":
				out.InfrequentAccessStorage += o.Size
				out.InfrequentAccessRealStorage += o.Size
				out.InfrequentAccessObjectCount++
			case "Archive":
				out.ArchiveStorage += o.Size
				out.ArchiveRealStorage += o.Size
				out.ArchiveObjectCount++
			case "ColdArchive":
				out.ColdArchiveStorage += o.Size
				out.ColdArchiveRealStorage += o.Size
				out.ColdArchiveObjectCount++
			case "DeepColdArchive":
				out.DeepColdArchiveStorage += o.Size
				out.DeepColdArchiveRealStorage += o.Size
				out.DeepColdArchiveObjectCount++
			default:
				out.StandardStorage += o.Size
				out.StandardObjectCount++
			}
		}
		if !page.IsTruncated {
			break
		}
		after = page.NextAfter
	}
	var lo objstore.ListUploadsOptions
	for {
		page, err := st.ListMultipartUploads(req.ctx(), req.principal, b, lo)
		if err != nil {
			return fromStore(err, b, "")
		}
		out.MultipartUploadCount += int64(len(page.Uploads))
		if !page.IsTruncated {
			break
		}
		lo.KeyMarker, lo.UploadIDMarker = page.NextKeyMarker, page.NextUploadIDMarker
	}
	return h.reply(req, out)
}
