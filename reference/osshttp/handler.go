package osshttp

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Defaults applied by NewHandler to zero Config fields, and OSS limits.
const (
	DefaultRegion     = "cn-hangzhou"
	DefaultMaxSkew    = 15 * time.Minute
	DefaultMaxXMLBody = 2 << 20
	// MinPartSize is OSS's minimum size of every part but the last.
	MinPartSize = 100 << 10
	// MaxObjectSize bounds PutObject and UploadPart bodies (5 GiB).
	MaxObjectSize = 5 << 30
	// MaxPartNumber is the highest part number OSS accepts.
	MaxPartNumber = 10000
	// maxUserMetadata bounds the x-oss-meta-* headers of one object (8 KiB).
	maxUserMetadata = 8 << 10
)

// Config configures NewHandler.
type Config struct {
	// Store holds buckets and objects (required).
	Store objstore.Store
	// Credentials authenticate requests (required).
	Credentials *auth.Store
	// Region is the region this endpoint serves, the one V4 signatures
	// must be scoped to (default Store.Region(), else cn-hangzhou). It must
	// agree with Store.Region() when both are set.
	Region string
	// Clock is the time request timestamps and presigned URLs are checked
	// against and the Date header is written from (default the system
	// clock). Keep it on wall time: clients sign with their own clocks.
	Clock clock.Clock
	// MaxSkew is how far a request time may be from Clock (default 15m).
	MaxSkew time.Duration
	// Logger receives one line per request (default: discard). Secrets,
	// signatures and object data are never logged.
	Logger *slog.Logger
	// MaxXMLBody bounds XML request bodies (default 2 MiB); larger ones
	// are 400 MalformedXML.
	MaxXMLBody int64
	// HostSuffixes are the endpoint host names (port ignored) under which
	// virtual-hosted requests arrive as <bucket>.<suffix>. A request whose
	// Host is an IP address, one of these names, or anything else is
	// path-style. Default: oss-<region>.aliyuncs.com,
	// oss-<region>-internal.aliyuncs.com and localhost.
	HostSuffixes []string
}

type handler struct {
	cfg      Config
	log      *slog.Logger
	suffixes []string
}

// NewHandler returns an http.Handler that speaks the Alibaba Cloud OSS
// protocol (see the package documentation) in front of cfg.Store. Mount it
// at the root of a server, without path cleaning.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("osshttp: Config.Store is required")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("osshttp: Config.Credentials is required")
	}
	storeRegion := cfg.Store.Region()
	switch {
	case cfg.Region == "" && storeRegion != "":
		cfg.Region = storeRegion
	case cfg.Region == "":
		cfg.Region = DefaultRegion
	case storeRegion != "" && storeRegion != cfg.Region:
		return nil, fmt.Errorf("osshttp: Config.Region %q differs from the store's region %q", cfg.Region, storeRegion)
	}
	if !kms.ValidRegion(cfg.Region) {
		return nil, fmt.Errorf("osshttp: %q is not a region ID such as cn-hangzhou", cfg.Region)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.MaxXMLBody <= 0 {
		cfg.MaxXMLBody = DefaultMaxXMLBody
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	suffixes := cfg.HostSuffixes
	if len(suffixes) == 0 {
		suffixes = []string{extranetEndpoint(cfg.Region), intranetEndpoint(cfg.Region), "localhost"}
	}
	h := &handler{cfg: cfg, log: log}
	for _, s := range suffixes {
		s = strings.ToLower(strings.TrimSpace(s))
		if host, _, err := net.SplitHostPort(s); err == nil {
			s = host
		}
		s = strings.Trim(s, ".")
		if s != "" {
			h.suffixes = append(h.suffixes, s)
		}
	}
	return h, nil
}

func extranetEndpoint(region string) string { return "oss-" + region + ".aliyuncs.com" }
func intranetEndpoint(region string) string { return "oss-" + region + "-internal.aliyuncs.com" }
func locationOf(region string) string       { return "oss-" + region }

// endpointOf is the endpoint a request came to: its Host, port included,
// without the bucket of a virtual-hosted request. ListBuckets and
// GetBucketInfo name it as ExtranetEndpoint and IntranetEndpoint, and
// CompleteMultipartUpload builds Location from it, because clients follow
// those names (the v2 SDK's test harness connects to ExtranetEndpoint): a
// real Alibaba Cloud host there would send them out of the machine. With
// no Host (HTTP/1.0) it is the local address the connection came in on.
func endpointOf(req *request) string {
	host := req.r.Host
	if req.res.vhost && len(host) > len(req.res.bucket)+1 && strings.EqualFold(host[:len(req.res.bucket)+1], req.res.bucket+".") {
		host = host[len(req.res.bucket)+1:]
	}
	if host == "" {
		if a, ok := req.r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	return host
}

// IsOSSRequest reports whether r is signed the OSS way: an Authorization
// header "OSS ...", "OSS2 ..." or "OSS4-HMAC-SHA256 ...", or a presigned
// URL with OSSAccessKeyId, x-oss-signature-version or x-oss-credential. A
// server answering OSS and S3 on one port dispatches on it.
func IsOSSRequest(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	if strings.HasPrefix(a, "OSS ") || strings.HasPrefix(a, "OSS2 ") || strings.HasPrefix(a, algorithmV4) {
		return true
	}
	if a != "" || r.URL == nil || r.URL.RawQuery == "" {
		return false
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	for _, k := range []string{"OSSAccessKeyId", "x-oss-signature-version", "x-oss-credential"} {
		if _, ok := q[k]; ok {
			return true
		}
	}
	return false
}

// newRequestID returns 24 upper-case hex digits, like OSS request ids.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// respWriter remembers what was sent, for the log and for errors raised
// after the headers went out.
type respWriter struct {
	http.ResponseWriter
	status  int
	written int64
}

func (w *respWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// request is one request in flight.
type request struct {
	w         *respWriter
	r         *http.Request
	id        string
	q         url.Values
	res       resource
	principal objstore.Principal
	op        string
	scheme    string // signature scheme, for the log
	accessKey string
	code      string // error code sent, for the log
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &respWriter{ResponseWriter: w}
	req := &request{w: rw, r: r, id: newRequestID()}
	hdr := rw.Header()
	hdr.Set("X-Oss-Request-Id", req.id)
	hdr.Set("Server", "AliyunOSS")
	hdr.Set("Date", httpTime(h.cfg.Clock.Now()))
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("oss handler panic", "request_id", req.id, "op", req.op, "panic", fmt.Sprint(p))
			if rw.status == 0 {
				h.writeError(req, errInternal())
			}
		}
		level := slog.LevelInfo
		if rw.status >= 500 && rw.status != http.StatusNotImplemented {
			// A designed 501 (a feature not served here) is no fault of
			// the server: it stays at INFO, writeError says what it was.
			level = slog.LevelError
		}
		if !h.log.Enabled(r.Context(), level) {
			return // spare building the line's attributes
		}
		h.log.Log(r.Context(), level, "oss request",
			"request_id", req.id, "method", r.Method, "op", req.op, "bucket", req.res.bucket, "key", req.res.key,
			"principal", req.principal.Name, "access_key_id", req.accessKey, "signature", req.scheme, "status", rw.status, "code", req.code,
			"bytes", rw.written, "duration", time.Since(start))
	}()
	if e := h.serve(req); e != nil {
		if rw.status != 0 {
			// The answer was under way (a GET body failing half-way):
			// nothing can be added; the short body tells the client.
			if e.integrity != nil {
				h.log.Error("oss integrity check failed; response aborted", "request_id", req.id, "op", req.op, "error", e.integrity.Error())
				return
			}
			h.log.Warn("oss response aborted", "request_id", req.id, "op", req.op, "error", e.Error())
			return
		}
		h.writeError(req, e)
	}
}

// writeError sends an OSS error: the XML document (or, for HEAD, no body
// and the document base64-encoded in x-oss-err), x-oss-ec when known.
func (h *handler) writeError(req *request, e *ossError) {
	req.code = e.Code
	switch {
	case e.integrity != nil:
		h.log.Error("oss integrity check failed", "request_id", req.id, "op", req.op, "error", e.integrity.Error())
	case e.Status == http.StatusNotImplemented:
		h.log.Info("oss request not implemented", "request_id", req.id, "method", req.r.Method,
			"bucket", req.res.bucket, "subresources", queryKeys(req.q), "header", e.unsupported)
	case e.Status >= 500:
		h.log.Error("oss request failed", "request_id", req.id, "op", req.op, "code", e.Code, "message", e.Message)
	}
	body := e.xmlBody(req.id, req.r.Host)
	hdr := req.w.Header()
	for _, k := range []string{"Content-Range", "Content-Md5", "Etag", "Last-Modified", "X-Oss-Hash-Crc64ecma",
		hSSE, hSSEKeyID, hSSEDataEnc, "X-Oss-Object-Type", "X-Oss-Storage-Class", "Accept-Ranges"} {
		hdr.Del(k)
	}
	for k, v := range e.Header {
		hdr.Set(k, v)
	}
	hdr.Set("Content-Type", "application/xml")
	if e.EC != "" {
		hdr.Set("X-Oss-Ec", e.EC)
	}
	if e.Status == http.StatusNotModified {
		hdr.Del("Content-Type")
		req.w.WriteHeader(e.Status)
		return
	}
	if req.r.Method == http.MethodHead {
		hdr.Set("X-Oss-Err", base64Std(body))
		hdr.Set("Content-Length", "0")
		req.w.WriteHeader(e.Status)
		return
	}
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	req.w.WriteHeader(e.Status)
	_, _ = req.w.Write(body)
}

// resolve finds the bucket and key a request addresses: virtual-hosted
// when the Host is <bucket>.<suffix>, path-style otherwise.
func (h *handler) resolve(r *http.Request) (resource, *ossError) {
	host := strings.ToLower(r.Host)
	if hp, _, err := net.SplitHostPort(host); err == nil {
		host = hp
	}
	host = strings.TrimSuffix(host, ".")
	path := r.URL.Path
	if !strings.HasPrefix(path, "/") {
		return resource{}, errInvalidArgument("The request path must begin with a slash.")
	}
	if net.ParseIP(strings.Trim(host, "[]")) == nil {
		for _, s := range h.suffixes {
			if b, ok := strings.CutSuffix(host, "."+s); ok && b != "" {
				return resource{bucket: b, key: path[1:], vhost: true}, nil
			}
		}
	}
	rest := path[1:]
	if rest == "" {
		return resource{}, nil
	}
	b, k, _ := strings.Cut(rest, "/")
	if b == "" {
		return resource{}, newErr(http.StatusBadRequest, CodeInvalidBucketName, "The specified bucket is not valid.")
	}
	return resource{bucket: b, key: k}, nil
}

func (h *handler) serve(req *request) *ossError {
	r := req.r
	res, e := h.resolve(r)
	if e != nil {
		return e
	}
	req.res = res
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return errInvalidArgument("The query string is malformed.")
	}
	req.q = q
	if r.Method == http.MethodOptions && res.bucket != "" {
		// The browser's CORS preflight carries no credentials (OSS answers
		// it from the bucket's CORS rules alone).
		return h.preflight(req)
	}
	out, e := h.authenticate(r, q, res)
	if e != nil {
		// OSS answers NoSuchBucket for a bucket that does not exist
		// whatever the credentials (bucket names are public, in DNS);
		// the v2 SDK's IsBucketExist relies on it.
		isPutBucket := r.Method == http.MethodPut && res.key == "" && len(q) == 0
		if e.Status == http.StatusForbidden && res.bucket != "" && !isPutBucket {
			if ok, err := h.cfg.Store.BucketExists(r.Context(), res.bucket); err == nil && !ok {
				return fromStore(&objstore.Error{Kind: objstore.KindNoSuchBucket}, res.bucket, "")
			}
		}
		return e
	}
	req.principal = objstore.Principal{Name: out.cred.Principal}
	req.scheme, req.accessKey = out.scheme, out.cred.AccessKeyID
	switch {
	case res.bucket == "":
		return h.serveService(req)
	case res.key == "":
		return h.serveBucket(req)
	default:
		return h.serveObject(req)
	}
}

// unsupportedSubResources are sub-resources of real OSS this front end
// does not implement; a request naming one gets 501 NotImplemented rather
// than being mistaken for a plain object or bucket operation.
var unsupportedSubResources = toSet([]string{
	"cors", "logging", "website", "referer", "lifecycle", "tagging", "append", "position",
	"symlink", "x-oss-process", "x-oss-async-process", "img", "style", "styleName",
	"replication", "replicationProgress", "replicationLocation", "cname", "comp", "qos",
	"live", "status", "vod", "restore", "callback", "qosInfo", "policy", "policyStatus",
	"stat", "requestPayment",
	"asyncFetch", "worm", "wormId", "wormExtend", "transferAcceleration", "regionList",
	"regions", "cloudboxes", "metaQuery", "resourceGroup", "rtc", "responseHeader", "seal",
	"publicAccessBlock", "httpsConfig", "redundancyTransition", "accessPoint",
	"accessPointPolicy", "objectWorm", "retention", "legalHold", "quota", "overwriteConfig",
	"bucketArchiveDirectRead", "cleanRestoredObject", "agenticBucket", "udf",
	"metadataConfiguration", "userDefinedLogFieldsConfig", "x-oss-write-get-object-response",
})

// hasUnsupported reports a sub-resource that is neither handled by the
// operation (handled) nor a plain parameter.
func hasUnsupported(q url.Values, handled ...string) bool {
	for k := range q {
		if unsupportedSubResources[k] {
			ok := false
			for _, hk := range handled {
				if hk == k {
					ok = true
				}
			}
			if !ok {
				return true
			}
		}
	}
	return false
}

func has(q url.Values, k string) bool { _, ok := q[k]; return ok }

// queryKeys lists the query parameter names (never their values, which
// may carry a signature), sorted, for the log line of a 501.
func queryKeys(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func (h *handler) serveService(req *request) *ossError {
	if has(req.q, "publicAccessBlock") {
		return h.serveAccountPublicAccessBlock(req)
	}
	if has(req.q, "qosInfo") {
		return h.getUserQoSInfo(req)
	}
	if req.r.Method == http.MethodGet && has(req.q, "regions") {
		return h.describeRegions(req)
	}
	if req.r.Method == http.MethodGet && has(req.q, "redundancyTransition") {
		return h.listUserRedundancyTransitions(req)
	}
	if req.r.Method != http.MethodGet {
		return errMethodNotAllowed("GET")
	}
	if hasUnsupported(req.q, "tagging") {
		return errNotImplemented()
	}
	req.op = "ListBuckets"
	return h.listBuckets(req)
}

func (h *handler) serveBucket(req *request) *ossError {
	q := req.q
	switch {
	case has(q, "resourceGroup"):
		return h.serveResourceGroup(req)
	case has(q, "redundancyTransition"):
		return h.serveRedundancyTransition(req)
	case has(q, "policyStatus") && req.r.Method == http.MethodGet:
		return h.getBucketPolicyStatus(req)
	case has(q, "stat") && req.r.Method == http.MethodGet:
		return h.getBucketStat(req)
	}
	if k := configKindOf(q); k != nil {
		return h.serveConfig(req, k)
	}
	switch req.r.Method {
	case http.MethodPut:
		switch {
		case has(q, "encryption"):
			req.op = "PutBucketEncryption"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.putBucketEncryption(req)
		case has(q, "versioning"):
			req.op = "PutBucketVersioning"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.putBucketVersioning(req)
		case has(q, "inventory"):
			req.op = "PutBucketInventory"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.putBucketInventory(req)
		case has(q, "policy") && !hasUnsupported(q, "policy"):
			req.op = "PutBucketPolicy"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.putBucketPolicy(req)
		case has(q, "acl"):
			req.op = "PutBucketAcl"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.putBucketACL(req)
		case hasUnsupported(q):
			return errNotImplemented()
		}
		req.op = "PutBucket"
		if e := h.policyCheck(req); e != nil {
			return e
		}
		return h.putBucket(req)
	case http.MethodGet:
		switch {
		case has(q, "encryption"):
			req.op = "GetBucketEncryption"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getBucketEncryption(req)
		case has(q, "bucketInfo"):
			req.op = "GetBucketInfo"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getBucketInfo(req)
		case has(q, "location"):
			req.op = "GetBucketLocation"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getBucketLocation(req)
		case has(q, "policy") && !hasUnsupported(q, "policy"):
			req.op = "GetBucketPolicy"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getBucketPolicy(req)
		case has(q, "acl"):
			req.op = "GetBucketAcl"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getBucketACL(req)
		case has(q, "uploads"):
			req.op = "ListMultipartUploads"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.listMultipartUploads(req)
		case has(q, "versioning"):
			req.op = "GetBucketVersioning"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getBucketVersioning(req)
		case has(q, "versions"):
			req.op = "ListObjectVersions"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.listObjectVersions(req)
		case has(q, "inventory") && has(q, "inventoryId"):
			req.op = "GetBucketInventory"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getBucketInventory(req)
		case has(q, "inventory"):
			req.op = "ListBucketInventory"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.listBucketInventory(req)
		case has(q, "live") && !hasUnsupported(q, "live"):
			req.op = "ListLiveChannel"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.listLiveChannels(req)
		case hasUnsupported(q):
			return errNotImplemented()
		case q.Get("list-type") == "2":
			req.op = "ListObjectsV2"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.listObjectsV2(req)
		case has(q, "list-type"):
			return errInvalidArgument("The list-type parameter must be 2.")
		}
		req.op = "ListObjects"
		if e := h.policyCheck(req); e != nil {
			return e
		}
		return h.listObjects(req)
	case http.MethodDelete:
		switch {
		case has(q, "encryption"):
			req.op = "DeleteBucketEncryption"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.deleteBucketEncryption(req)
		case has(q, "policy") && !hasUnsupported(q, "policy"):
			req.op = "DeleteBucketPolicy"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.deleteBucketPolicy(req)
		case has(q, "inventory"):
			req.op = "DeleteBucketInventory"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.deleteBucketInventory(req)
		case has(q, "acl") || hasUnsupported(q):
			return errNotImplemented()
		}
		req.op = "DeleteBucket"
		if e := h.policyCheck(req); e != nil {
			return e
		}
		return h.deleteBucket(req)
	case http.MethodPost:
		switch {
		case has(q, "delete"):
			req.op = "DeleteMultipleObjects"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.deleteMultipleObjects(req)
		case hasUnsupported(q) || strings.HasPrefix(req.r.Header.Get("Content-Type"), "multipart/form-data"):
			return errNotImplemented() // e.g. PostObject form uploads
		}
		return errMethodNotAllowed("GET, PUT, DELETE")
	default:
		return errMethodNotAllowed("GET, PUT, DELETE, POST")
	}
}

func (h *handler) serveObject(req *request) *ossError {
	q := req.q
	if e := checkVersionID(q); e != nil {
		return e
	}
	if e := applyTrafficLimit(req); e != nil {
		return e
	}
	if m := req.r.Method; m == http.MethodPut || m == http.MethodPost {
		// Any write naming a public object ACL meets the public access
		// block (PutObject, CopyObject, Initiate, Append, Complete, PutObjectAcl).
		if e := h.refusePublic(req, strings.TrimSpace(req.r.Header.Get(hObjectACL))); e != nil {
			return e
		}
	}
	switch req.r.Method {
	case http.MethodPut:
		switch {
		case has(q, "uploadId") || has(q, "partNumber"):
			req.op = "UploadPart"
			if _, ok := req.r.Header[hCopySource]; ok {
				req.op = "UploadPartCopy"
			}
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.uploadPart(req)
		case has(q, "acl"):
			req.op = "PutObjectACL"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.putObjectACL(req)
		case has(q, "tagging") && !hasUnsupported(q, "tagging"):
			req.op = "PutObjectTagging"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.putObjectTagging(req)
		case has(q, "symlink") && !hasUnsupported(q, "symlink"):
			req.op = "PutSymlink"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.putSymlink(req)
		case hasUnsupported(q):
			return errNotImplemented()
		case req.r.Header.Get("X-Oss-Copy-Source") != "":
			req.op = "CopyObject"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.copyObject(req)
		}
		req.op = "PutObject"
		if e := h.policyCheck(req); e != nil {
			return e
		}
		if e := refuseWriteConditions(req.r.Header); e != nil {
			return e
		}
		return h.putObject(req)
	case http.MethodGet:
		switch {
		case has(q, "uploadId"):
			req.op = "ListParts"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.listParts(req)
		case has(q, "acl"):
			req.op = "GetObjectACL"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getObjectACL(req)
		case has(q, "tagging") && !hasUnsupported(q, "tagging"):
			req.op = "GetObjectTagging"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getObjectTagging(req)
		case has(q, "symlink") && !hasUnsupported(q, "symlink"):
			req.op = "GetSymlink"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getSymlink(req)
		case hasUnsupported(q):
			return errNotImplemented()
		}
		req.op = "GetObject"
		if e := h.policyCheck(req); e != nil {
			return e
		}
		return h.getObject(req)
	case http.MethodHead:
		if has(q, "objectMeta") {
			req.op = "GetObjectMeta"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.getObjectMeta(req)
		}
		if has(q, "acl") || hasUnsupported(q) {
			return errNotImplemented()
		}
		req.op = "HeadObject"
		if e := h.policyCheck(req); e != nil {
			return e
		}
		return h.headObject(req)
	case http.MethodDelete:
		switch {
		case has(q, "uploadId"):
			req.op = "AbortMultipartUpload"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.abortMultipartUpload(req)
		case has(q, "tagging") && !hasUnsupported(q, "tagging"):
			req.op = "DeleteObjectTagging"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.deleteObjectTagging(req)
		case has(q, "acl") || hasUnsupported(q):
			return errNotImplemented()
		}
		req.op = "DeleteObject"
		if e := h.policyCheck(req); e != nil {
			return e
		}
		return h.deleteObject(req)
	case http.MethodPost:
		switch {
		case has(q, "uploads"):
			req.op = "InitiateMultipartUpload"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.initiateMultipartUpload(req)
		case has(q, "uploadId"):
			req.op = "CompleteMultipartUpload"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.completeMultipartUpload(req)
		case has(q, "append") && !hasUnsupported(q, "append", "position"):
			req.op = "AppendObject"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.appendObject(req)
		case has(q, "seal") && !hasUnsupported(q, "seal", "position"):
			req.op = "SealAppendObject"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.sealAppendObject(req)
		case has(q, "cleanRestoredObject") && !hasUnsupported(q, "cleanRestoredObject"):
			req.op = "CleanRestoredObject"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.cleanRestoredObject(req)
		case has(q, "restore") && !hasUnsupported(q, "restore"):
			req.op = "RestoreObject"
			if e := h.policyCheck(req); e != nil {
				return e
			}
			return h.restoreObject(req)
		case hasUnsupported(q):
			return errNotImplemented()
		}
		return errMethodNotAllowed("GET, HEAD, PUT, DELETE")
	default:
		return errMethodNotAllowed("GET, HEAD, PUT, DELETE, POST")
	}
}

// checkVersionID refuses a versionId given twice or empty; one this store
// cannot have made names no version (OSS answers NoSuchVersion).
func checkVersionID(q url.Values) *ossError {
	vs, ok := q["versionId"]
	switch {
	case !ok:
		return nil
	case len(vs) != 1 || vs[0] == "":
		return errInvalidArgument("Invalid version id specified")
	case !objstore.ValidVersionID(vs[0]):
		return errNoSuchVersion()
	}
	return nil
}

func errNoSuchVersion() *ossError {
	return newErr(http.StatusNotFound, CodeNoSuchVersion, "The specified version does not exist.")
}
