package s3http

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Bucket policies: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy
// with AWS's policy JSON, and their enforcement (policyCheck) before every
// operation on a bucket. The language and what of it is enforced are
// objstore's (policy.go): Deny statements with the SSE and
// aws:SecureTransport conditions guardrails use; anything else is 400
// MalformedPolicy naming it.

// s3Op names the operation a request is, as serveBucket and serveObject
// route it (the names of S3's API, which policyAction maps to actions).
func s3Op(rc *reqCtx) string {
	m := rc.r.Method
	if rc.key == "" {
		switch m {
		case http.MethodPut:
			for _, c := range [][2]string{{"policy", "PutBucketPolicy"}, {"encryption", "PutBucketEncryption"},
				{"versioning", "PutBucketVersioning"}, {"inventory", "PutBucketInventory"}, {"acl", "PutBucketACL"}} {
				if rc.has(c[0]) {
					return c[1]
				}
			}
			return "CreateBucket"
		case http.MethodGet:
			for _, c := range [][2]string{{"policy", "GetBucketPolicy"}, {"encryption", "GetBucketEncryption"},
				{"location", "GetBucketLocation"}, {"acl", "GetBucketACL"}, {"uploads", "ListMultipartUploads"},
				{"versioning", "GetBucketVersioning"}, {"versions", "ListObjectVersions"}, {"inventory", "GetBucketInventory"}} {
				if rc.has(c[0]) {
					return c[1]
				}
			}
			return "ListObjects"
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodDelete:
			for _, c := range [][2]string{{"policy", "DeleteBucketPolicy"}, {"encryption", "DeleteBucketEncryption"},
				{"inventory", "DeleteBucketInventory"}} {
				if rc.has(c[0]) {
					return c[1]
				}
			}
			return "DeleteBucket"
		case http.MethodPost:
			return "DeleteObjects"
		}
		return m
	}
	copySrc := rc.r.Header.Get("X-Amz-Copy-Source") != ""
	switch m {
	case http.MethodPut:
		switch {
		case rc.has("acl"):
			return "PutObjectACL"
		case rc.has("tagging"):
			return "PutObjectTagging"
		case (rc.has("partNumber") || rc.has("uploadId")) && copySrc:
			return "UploadPartCopy"
		case rc.has("partNumber") || rc.has("uploadId"):
			return "UploadPart"
		case copySrc:
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodGet:
		switch {
		case rc.has("uploadId"):
			return "ListParts"
		case rc.has("attributes"):
			return "GetObjectAttributes"
		case rc.has("acl"):
			return "GetObjectACL"
		case rc.has("tagging"):
			return "GetObjectTagging"
		}
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodDelete:
		switch {
		case rc.has("uploadId"):
			return "AbortMultipartUpload"
		case rc.has("tagging"):
			return "DeleteObjectTagging"
		}
		return "DeleteObject"
	case http.MethodPost:
		if rc.has("uploads") {
			return "CreateMultipartUpload"
		}
		return "CompleteMultipartUpload"
	}
	return m
}

// sseOfHeader is x-amz-server-side-encryption in the store's spelling
// for policy conditions ("" when absent; unknown values as sent).
func sseOfHeader(v string) string {
	v = strings.TrimSpace(v)
	if v == "aws:kms" {
		return objstore.AlgorithmKMS
	}
	return v
}

// policyCheck refuses rc with 403 AccessDenied when its bucket's policy
// denies it, before anything is read or written.
func (h *handler) policyCheck(rc *reqCtx, op, sse, keyID string) *apiError {
	if rc.bucket == "" {
		return nil
	}
	pr := objstore.PolicyRequest{
		Op: op, Principal: rc.p, Bucket: rc.bucket, Key: rc.key,
		SecureTransport: rc.r.TLS != nil, SSEAlgorithm: sseOfHeader(sse), KMSKeyID: strings.TrimSpace(keyID),
	}
	if h.cfg.Store.PolicyDenies(pr) {
		h.log.Info("request denied by bucket policy", "op", op, "bucket", rc.bucket, "principal", rc.p.Name)
		return errAccessDenied("")
	}
	return nil
}

func (h *handler) putBucketPolicy(rc *reqCtx) {
	body, err := io.ReadAll(io.LimitReader(rc.r.Body, objstore.MaxPolicySize+1))
	if err != nil {
		rc.fail(errInvalidArgument("The policy document could not be read"))
		return
	}
	pol, err := objstore.ParseBucketPolicy(objstore.PolicyDialectS3, rc.bucket, body)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	if err := h.cfg.Store.PutBucketPolicy(rc.ctx, rc.p, rc.bucket, pol); err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.w.WriteHeader(http.StatusNoContent)
}

func (h *handler) getBucketPolicy(rc *reqCtx) {
	pol, err := h.cfg.Store.GetBucketPolicy(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	hdr := rc.w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(pol.Document)))
	rc.w.WriteHeader(http.StatusOK)
	_, _ = rc.w.Write(pol.Document)
}

func (h *handler) deleteBucketPolicy(rc *reqCtx) {
	if err := h.cfg.Store.DeleteBucketPolicy(rc.ctx, rc.p, rc.bucket); err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.w.WriteHeader(http.StatusNoContent)
}
