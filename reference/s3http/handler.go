package s3http

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Defaults applied by NewHandler to zero Config fields.
const (
	DefaultRegion     = "cn-hangzhou"
	DefaultMaxSkew    = 15 * time.Minute
	DefaultMaxXMLBody = 2 << 20
	// MinPartSize is S3's minimum size of every part but the last.
	MinPartSize = 5 << 20
)

// DefaultVirtualHostDomains are the base domains under which
// "<bucket>.<domain>[:port]" Host headers address a bucket.
var DefaultVirtualHostDomains = []string{"localhost"}

// Config configures NewHandler.
type Config struct {
	// Store holds buckets and objects (required).
	Store objstore.Store
	// Credentials authenticate requests (required).
	Credentials *auth.Store
	// Region is the region in every credential scope (default
	// cn-hangzhou). It should equal Store.Region(). It is also the region
	// of the KMS key ARNs responses name.
	Region string
	// KMSAccount is the account in the KMS key ARNs that SSE-KMS responses
	// name (x-amz-server-side-encryption-aws-kms-key-id), as AWS S3 names
	// the key by its ARN: give the KMS emulator's Account(), so that the
	// ARN is the one its AWS KMS endpoint (awskmshttp) accepts and returns
	// as KeyMetadata.Arn. Default kms.DefaultAccount, the emulator's own
	// default.
	KMSAccount string
	// Clock is the time request timestamps are checked against (default
	// the system clock). Clients sign with their wall clock, so keep it on
	// wall time.
	Clock clock.Clock
	// MaxSkew is how far a request timestamp may be from Clock (default
	// 15 minutes).
	MaxSkew time.Duration
	// Logger receives one line per request (default: discard).
	Logger *slog.Logger
	// MaxXMLBody bounds XML request bodies (default 2 MiB).
	MaxXMLBody int64
	// VirtualHostDomains are the base domains for virtual-hosted-style
	// addressing (default DefaultVirtualHostDomains). A Host that is an IP
	// address or one of these domains itself is path-style.
	VirtualHostDomains []string
}

type handler struct {
	cfg Config
	log *slog.Logger
}

// NewHandler returns the S3 protocol front end over cfg.Store.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("s3http: a Store is required")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("s3http: Credentials are required")
	}
	if cfg.Region == "" {
		cfg.Region = cfg.Store.Region()
		if cfg.Region == "" {
			cfg.Region = DefaultRegion
		}
	}
	if cfg.KMSAccount == "" {
		cfg.KMSAccount = kms.DefaultAccount
	}
	if strings.ContainsAny(cfg.KMSAccount, ":/ ") {
		return nil, fmt.Errorf("s3http: KMSAccount %q is not an account id such as %s", cfg.KMSAccount, kms.DefaultAccount)
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
	if cfg.VirtualHostDomains == nil {
		cfg.VirtualHostDomains = DefaultVirtualHostDomains
	}
	doms := make([]string, 0, len(cfg.VirtualHostDomains))
	for _, d := range cfg.VirtualHostDomains {
		if d = strings.Trim(strings.ToLower(d), "."); d != "" {
			doms = append(doms, d)
		}
	}
	cfg.VirtualHostDomains = doms
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &handler{cfg: cfg, log: log}, nil
}

// IsS3Request reports whether r is signed the S3 way (AWS Signature
// Version 4 in the Authorization header or the query), so one port can
// serve both OSS and S3.
func IsS3Request(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, signV4Algorithm) || strings.HasPrefix(a, signV2Prefix) {
		return true
	}
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == "X-Amz-Algorithm" || k == "AWSAccessKeyId" {
			return true
		}
	}
	if isFormPost(r) {
		return peekS3Form(r)
	}
	return false
}

// queryPair is one decoded query parameter, in request order.
type queryPair struct{ Key, Value string }

// parseQuery decodes a raw query string strictly ('+' is a space, as the
// SDKs' canonicalisation assumes).
func parseQuery(raw string) ([]queryPair, map[string][]string, error) {
	var pairs []queryPair
	m := map[string][]string{}
	if raw == "" {
		return nil, m, nil
	}
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return nil, nil, err
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return nil, nil, err
		}
		pairs = append(pairs, queryPair{dk, dv})
		m[dk] = append(m[dk], dv)
	}
	return pairs, m, nil
}

// reqCtx is one request in flight.
type reqCtx struct {
	h       *handler
	w       *statusWriter
	r       *http.Request
	ctx     context.Context
	q       map[string][]string
	bucket  string
	key     string
	reqID   string
	hostID  string
	auth    *authResult
	p       objstore.Principal
	errCode string
}

func (rc *reqCtx) query(k string) string {
	if v := rc.q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (rc *reqCtx) has(k string) bool {
	_, ok := rc.q[k]
	return ok
}

type statusWriter struct {
	http.ResponseWriter
	status  int
	written int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.written += int64(n)
	return n, err
}

func newRequestIDs() (string, string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:8])), base64.StdEncoding.EncodeToString(b[8:])
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	rc := &reqCtx{h: h, w: sw, r: r, ctx: r.Context()}
	rc.reqID, rc.hostID = newRequestIDs()
	sw.Header().Set("X-Amz-Request-Id", rc.reqID)
	sw.Header().Set("X-Amz-Id-2", rc.hostID)
	sw.Header().Set("Server", "sseaudit")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				h.log.Warn("s3: response aborted mid-body", "request_id", rc.reqID, "method", r.Method,
					"bucket", rc.bucket, "key", rc.key, "bytes_out", sw.written)
				panic(v)
			}
			h.log.Error("s3: panic serving request", "request_id", rc.reqID, "method", r.Method,
				"path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.status == 0 {
				rc.fail(errInternal(fmt.Errorf("panic: %v", v)))
			}
		}
		if !h.log.Enabled(r.Context(), slog.LevelInfo) {
			return // spare building the line's attributes
		}
		principal := ""
		if rc.auth != nil {
			principal = rc.auth.cred.Principal
		}
		h.log.Info("s3 request", "request_id", rc.reqID, "method", r.Method, "bucket", rc.bucket, "key", rc.key,
			"status", sw.status, "code", rc.errCode, "principal", principal, "bytes_out", sw.written,
			"duration", time.Since(start))
	}()
	h.serve(rc)
}

// fail writes an error response and records its code for the log.
func (rc *reqCtx) fail(e *apiError) {
	rc.errCode = e.Code
	switch {
	case objstore.IsIntegrity(e.cause):
		rc.h.log.Error("s3: integrity check failed", "request_id", rc.reqID, "code", e.Code, "err", e.cause)
	case e.Status == http.StatusNotImplemented:
		// A designed refusal (a feature the reference does not offer), not
		// a fault of the server: the operator may want to know a client
		// asked for it, but nothing is broken.
		rc.h.log.Info("s3: not implemented", "request_id", rc.reqID, "method", rc.r.Method,
			"bucket", rc.bucket, "key", rc.key, "message", e.Message)
	case e.Code == "SlowDown":
		// The per-principal upload cap doing its job.
		rc.h.log.Warn("s3: slow down", "request_id", rc.reqID, "principal", rc.p.Name, "err", e.cause)
	case e.Status >= 500:
		rc.h.log.Error("s3: internal error", "request_id", rc.reqID, "code", e.Code, "err", e.cause)
	case e.cause != nil:
		rc.h.log.Debug("s3: request failed", "request_id", rc.reqID, "code", e.Code, "err", e.cause)
	}
	rc.writeError(e)
}

// route splits the request into bucket and key, virtual-hosted or
// path-style.
func (h *handler) route(r *http.Request) (bucket, key string) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	if b := h.hostBucket(r); b != "" {
		return b, path
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// hostBucket is the bucket named by a virtual-hosted Host, or "".
func (h *handler) hostBucket(r *http.Request) string {
	host := strings.ToLower(r.Host)
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(host, ".")
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return ""
	}
	for _, d := range h.cfg.VirtualHostDomains {
		if b, ok := strings.CutSuffix(host, "."+d); ok && b != "" {
			return b
		}
	}
	return ""
}

// Subresources this front end serves, and those it knows but does not.
var unsupportedSubresources = []string{
	"accelerate", "analytics", "cors", "intelligent-tiering",
	"legal-hold", "lifecycle", "logging", "metadataTable", "metrics", "notification", "object-lock",
	"ownershipControls", "policyStatus", "publicAccessBlock", "renameObject", "replication",
	"requestPayment", "restore", "retention", "select", "session", "torrent", "website",
}

func (h *handler) serve(rc *reqCtx) {
	r := rc.r
	q, qv, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		rc.fail(errInvalidArgument("The query string is not correctly encoded"))
		return
	}
	rc.q = qv
	rc.bucket, rc.key = h.route(r)
	if isFormPost(r) && rc.bucket != "" && rc.key == "" && len(q) == 0 {
		// A browser form carries its signature in the form (postpolicy.go).
		h.postObject(rc)
		return
	}
	a, aerr := h.authenticate(r, q, qv)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	rc.auth = a
	rc.p = objstore.Principal{Name: a.cred.Principal}
	if v, ok := qv["versionId"]; ok && (len(v) != 1 || v[0] == "") {
		rc.fail(errInvalidArgument("Invalid version id specified"))
		return
	}
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		if aerr := checkChecksumHeaders(r.Header); aerr != nil {
			rc.fail(aerr)
			return
		}
	}
	for _, s := range unsupportedSubresources {
		if rc.has(s) {
			rc.fail(errNotImplemented("?" + s))
			return
		}
	}
	// ACLs (buckets, objects) and tags (objects only) are served for the
	// methods S3 has; bucket tagging is not.
	if rc.has("tagging") && (rc.key == "" || r.Method == http.MethodPost || r.Method == http.MethodHead) {
		rc.fail(errNotImplemented("?tagging other than object tagging"))
		return
	}
	if rc.has("acl") && r.Method != http.MethodGet && r.Method != http.MethodPut {
		rc.fail(errNotImplemented("?acl other than Get/Put*Acl"))
		return
	}
	if rc.has("attributes") && (r.Method != http.MethodGet || rc.key == "") {
		rc.fail(errNotImplemented("?attributes other than GetObjectAttributes"))
		return
	}
	if rc.has("policy") && (rc.key != "" || r.Method == http.MethodPost || r.Method == http.MethodHead) {
		rc.fail(errNotImplemented("?policy other than Get/Put/DeleteBucketPolicy"))
		return
	}
	// The bucket's policy decides before the operation does anything.
	if aerr := h.policyCheck(rc, s3Op(rc), r.Header.Get("X-Amz-Server-Side-Encryption"),
		r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")); aerr != nil {
		rc.fail(aerr)
		return
	}
	switch {
	case rc.bucket == "":
		h.serveService(rc)
	case rc.key == "":
		h.serveBucket(rc)
	default:
		h.serveObject(rc)
	}
}

func (h *handler) serveService(rc *reqCtx) {
	switch rc.r.Method {
	case http.MethodGet:
		h.listBuckets(rc)
	default:
		rc.fail(errMethodNotAllowed())
	}
}

func (h *handler) serveBucket(rc *reqCtx) {
	switch rc.r.Method {
	case http.MethodPut:
		switch {
		case rc.has("encryption"):
			h.putBucketEncryption(rc)
		case rc.has("versioning"):
			h.putBucketVersioning(rc)
		case rc.has("inventory"):
			h.putBucketInventory(rc)
		case rc.has("acl"):
			h.putBucketACL(rc)
		case rc.has("policy"):
			h.putBucketPolicy(rc)
		default:
			h.createBucket(rc)
		}
	case http.MethodGet:
		switch {
		case rc.has("encryption"):
			h.getBucketEncryption(rc)
		case rc.has("policy"):
			h.getBucketPolicy(rc)
		case rc.has("location"):
			h.getBucketLocation(rc)
		case rc.has("acl"):
			h.getBucketACL(rc)
		case rc.has("uploads"):
			h.listMultipartUploads(rc)
		case rc.has("versioning"):
			h.getBucketVersioning(rc)
		case rc.has("versions"):
			h.listObjectVersions(rc)
		case rc.has("inventory") && rc.has("id"):
			h.getBucketInventory(rc)
		case rc.has("inventory"):
			h.listBucketInventory(rc)
		case rc.query("list-type") == "2":
			h.listObjectsV2(rc)
		case rc.has("list-type"):
			rc.fail(errInvalidArgument("Invalid list-type"))
		default:
			h.listObjectsV1(rc)
		}
	case http.MethodHead:
		h.headBucket(rc)
	case http.MethodDelete:
		switch {
		case rc.has("encryption"):
			h.deleteBucketEncryption(rc)
		case rc.has("inventory"):
			h.deleteBucketInventory(rc)
		case rc.has("policy"):
			h.deleteBucketPolicy(rc)
		default:
			h.deleteBucket(rc)
		}
	case http.MethodPost:
		switch {
		case rc.has("delete"):
			h.deleteObjects(rc)
		default:
			// Form uploads never get here (serve routes them first, unsigned).
			rc.fail(errNotImplemented("a signed POST on a bucket other than ?delete"))
		}
	default:
		rc.fail(errMethodNotAllowed())
	}
}

func (h *handler) serveObject(rc *reqCtx) {
	switch rc.r.Method {
	case http.MethodPut:
		switch {
		case rc.has("encryption"):
			rc.fail(errNotImplemented("UpdateObjectEncryption (?encryption on an object)"))
		case rc.has("acl"):
			h.putObjectACL(rc)
		case rc.has("tagging"):
			h.putObjectTagging(rc)
		case rc.has("partNumber") || rc.has("uploadId"):
			if rc.r.Header.Get("X-Amz-Copy-Source") != "" {
				h.uploadPartCopy(rc)
			} else {
				h.uploadPart(rc)
			}
		case rc.r.Header.Get("X-Amz-Copy-Source") != "":
			h.copyObject(rc)
		default:
			h.putObject(rc)
		}
	case http.MethodGet:
		switch {
		case rc.has("uploadId"):
			h.listParts(rc)
		case rc.has("attributes"):
			h.getObjectAttributes(rc)
		case rc.has("encryption"):
			rc.fail(errNotImplemented("?encryption on an object"))
		case rc.has("acl"):
			h.getObjectACL(rc)
		case rc.has("tagging"):
			h.getObjectTagging(rc)
		default:
			h.getObject(rc, false)
		}
	case http.MethodHead:
		h.getObject(rc, true)
	case http.MethodDelete:
		switch {
		case rc.has("uploadId"):
			h.abortMultipartUpload(rc)
		case rc.has("tagging"):
			h.deleteObjectTagging(rc)
		default:
			h.deleteObject(rc)
		}
	case http.MethodPost:
		switch {
		case rc.has("uploads"):
			h.createMultipartUpload(rc)
		case rc.has("uploadId"):
			h.completeMultipartUpload(rc)
		default:
			rc.fail(errNotImplemented("POST on an object"))
		}
	default:
		rc.fail(errMethodNotAllowed())
	}
}

// writeXML sends v as an XML document with status 200.
func (rc *reqCtx) writeXML(v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		rc.fail(errInternal(err))
		return
	}
	out = append([]byte(xml.Header), out...)
	h := rc.w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	rc.w.WriteHeader(http.StatusOK)
	_, _ = rc.w.Write(out)
}

// ---- Request bodies ----

// body is a request body opened for reading, with its checks attached.
type body struct {
	r    *verifyingReader
	size int64 // decoded size; -1 unknown
}

// openBody prepares the request body: aws-chunked decoding and chunk
// signatures, the x-amz-content-sha256 hash, and (withChecksum) the
// x-amz-checksum-* header or trailer. contentMD5 is checked here when
// given (the store checks object bodies itself).
func (rc *reqCtx) openBody(withChecksum bool, contentMD5 []byte, requireLength bool) (*body, *apiError) {
	r := rc.r
	a := rc.auth
	var cks *bodyChecksum
	trailerMode := a.mode == payloadStreamingSignedTrailer || a.mode == payloadStreamingUnsignedTrailer
	if withChecksum || trailerMode {
		c, aerr := parseBodyChecksum(r, trailerMode, withChecksum)
		if aerr != nil {
			return nil, aerr
		}
		cks = c
	}
	var src io.Reader = r.Body
	if src == nil {
		src = http.NoBody
	}
	size := r.ContentLength
	if a.mode.streaming() {
		dl := r.Header.Get("X-Amz-Decoded-Content-Length")
		if dl == "" {
			return nil, newErr(http.StatusLengthRequired, "MissingContentLength",
				"You must provide the x-amz-decoded-content-length HTTP header with an aws-chunked body.")
		}
		n, err := strconv.ParseInt(dl, 10, 64)
		if err != nil || n < 0 {
			return nil, errInvalidArgument("x-amz-decoded-content-length is not a valid length")
		}
		size = n
		if trailerMode && (cks == nil || !cks.Trailer) {
			return nil, errInvalidRequest("A STREAMING-*-TRAILER upload needs an x-amz-trailer header naming the trailer")
		}
		if !trailerMode && r.Header.Get("X-Amz-Trailer") != "" {
			return nil, errInvalidRequest("x-amz-trailer is only valid with a STREAMING-*-TRAILER x-amz-content-sha256")
		}
		declared := ""
		if cks != nil && cks.Trailer {
			declared = cks.Algo.Header
		}
		cfg := chunkedConfig{
			Signed:        a.mode == payloadStreamingSigned || a.mode == payloadStreamingSignedTrailer,
			SigningKey:    a.signingKey,
			AmzDate:       a.amzDate,
			Scope:         a.scope,
			Seed:          a.seedSignature,
			Trailer:       trailerMode,
			DecodedLength: n,
			OnTrailers: func(trailers [][2]string) error {
				for _, t := range trailers {
					if t[0] != declared || declared == "" {
						return errInvalidRequest("The trailer %q was not declared in x-amz-trailer", truncate(t[0], 64))
					}
					if cks.Expected != nil {
						return errInvalidRequest("The trailer %q was sent twice", t[0])
					}
					b, ok := decodeChecksumValue(cks.Algo, t[1])
					if !ok {
						return errInvalidRequest("Value for %s trailing header is invalid.", t[0])
					}
					cks.Expected = b
				}
				return nil
			},
		}
		src = newChunkedReader(src, cfg)
	} else if size < 0 && requireLength {
		return nil, newErr(http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
	}
	wantSHA := ""
	if a.mode == payloadHex {
		wantSHA = a.contentSHA256
	}
	return &body{r: newVerifyingReader(src, size, wantSHA, contentMD5, cks), size: size}, nil
}

// readXMLBody reads and checks a small XML request body. AWS requires
// Content-MD5 or an x-amz-checksum-* header on some of these requests
// (requireIntegrity).
//
// CompleteMultipartUpload passes withChecksum=false: there an
// x-amz-checksum-* header is the whole object's checksum (minio-go sends
// one), not the XML body's.
func (rc *reqCtx) readXMLBody(requireIntegrity, withChecksum bool) ([]byte, *apiError) {
	md5sum, aerr := parseContentMD5(rc.r)
	if aerr != nil {
		return nil, aerr
	}
	b, aerr := rc.openBody(withChecksum, md5sum, false)
	if aerr != nil {
		return nil, aerr
	}
	if requireIntegrity && md5sum == nil && b.r.cks == nil {
		return nil, errInvalidRequest("Missing required header for this request: Content-MD5")
	}
	if b.size > rc.h.cfg.MaxXMLBody {
		return nil, newErr(http.StatusBadRequest, "MaxMessageLengthExceeded", "Your request was too big.")
	}
	data, err := io.ReadAll(io.LimitReader(b.r, rc.h.cfg.MaxXMLBody+1))
	if err != nil {
		if ae := b.r.bodyError(); ae != nil {
			return nil, ae
		}
		return nil, newErr(http.StatusBadRequest, "IncompleteBody", "Reading the request body failed.")
	}
	if int64(len(data)) > rc.h.cfg.MaxXMLBody {
		return nil, newErr(http.StatusBadRequest, "MaxMessageLengthExceeded", "Your request was too big.")
	}
	return data, nil
}
