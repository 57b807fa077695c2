package osshttp

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Bucket policies (PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy)
// and AppendObject. The policy language, what of it is enforced and how,
// is objstore's (policy.go); this file maps it onto OSS's requests.

const (
	hNextAppendPosition = "X-Oss-Next-Append-Position"
	// CodeInvalidPolicyDocument is the reference's answer to a policy it
	// cannot parse or does not enforce (400, with a message naming what).
	CodeInvalidPolicyDocument    = "InvalidPolicyDocument"
	CodeNoSuchBucketPolicy       = "NoSuchBucketPolicy"
	CodePositionNotEqualToLength = "PositionNotEqualToLength"
	CodeObjectNotAppendable      = "ObjectNotAppendable"
)

// policyCheck refuses req with 403 AccessDenied when its bucket's policy
// denies it. It runs once the operation is known and before it does
// anything; the SSE condition keys are the request's own headers.
func (h *handler) policyCheck(req *request) *ossError {
	if req.res.bucket == "" {
		return nil
	}
	hdr := req.r.Header
	pr := objstore.PolicyRequest{
		Op: req.op, Principal: req.principal, Bucket: req.res.bucket, Key: req.res.key,
		SecureTransport: req.r.TLS != nil,
		SSEAlgorithm:    strings.TrimSpace(hdr.Get(hSSE)),
		KMSKeyID:        strings.TrimSpace(hdr.Get(hSSEKeyID)),
	}
	if h.cfg.Store.PolicyDenies(pr) {
		h.log.Info("request denied by bucket policy", "op", req.op, "bucket", req.res.bucket, "principal", req.principal.Name)
		return errAccessDenied("You have no right to access this resource due to bucket policy.")
	}
	return nil
}

func (h *handler) putBucketPolicy(req *request) *ossError {
	body, err := io.ReadAll(io.LimitReader(req.r.Body, objstore.MaxPolicySize+1))
	if err != nil {
		return errInvalidArgument("The policy document could not be read.")
	}
	pol, err := objstore.ParseBucketPolicy(objstore.PolicyDialectOSS, req.res.bucket, body)
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	if err := h.cfg.Store.PutBucketPolicy(req.ctx(), req.principal, req.res.bucket, pol); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	writeEmpty(req.w, http.StatusOK)
	return nil
}

func (h *handler) getBucketPolicy(req *request) *ossError {
	pol, err := h.cfg.Store.GetBucketPolicy(req.ctx(), req.principal, req.res.bucket)
	if err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	hdr := req.w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(pol.Document)))
	req.w.WriteHeader(http.StatusOK)
	_, _ = req.w.Write(pol.Document)
	return nil
}

func (h *handler) deleteBucketPolicy(req *request) *ossError {
	if err := h.cfg.Store.DeleteBucketPolicy(req.ctx(), req.principal, req.res.bucket); err != nil {
		return fromStore(err, req.res.bucket, "")
	}
	writeEmpty(req.w, http.StatusNoContent)
	return nil
}

// appendObject is POST /key?append&position=N.
func (h *handler) appendObject(req *request) *ossError {
	r := req.r
	ps, ok := req.q["position"]
	if !ok || len(ps) != 1 {
		return errInvalidArgument("AppendObject needs one position parameter.").with("ArgumentName", "position")
	}
	pos, err := strconv.ParseInt(ps[0], 10, 64)
	if err != nil || pos < 0 {
		return errInvalidArgument("The position must be a non-negative integer.").
			with("ArgumentName", "position").with("ArgumentValue", ps[0])
	}
	sse, e := parseSSEHeaders(r.Header)
	if e != nil {
		return e
	}
	opts, e := putOptions(r, sse.SSE)
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
	info, err := h.cfg.Store.AppendObject(req.ctx(), req.principal, req.res.bucket, req.res.key, pos, body, r.ContentLength, opts)
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	hdr := req.w.Header()
	hdr.Set("ETag", quotedETag(info.ETag))
	hdr.Set(hCRC64, strconv.FormatUint(info.CRC64, 10))
	hdr.Set(hNextAppendPosition, strconv.FormatInt(info.Size, 10))
	setSSEResponseHeaders(hdr, info.SSE)
	setVersionHeader(hdr, info.VersionID)
	writeEmpty(req.w, http.StatusOK)
	return nil
}
