package s3http

import (
	"errors"
	"net/http"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

func (h *handler) listBuckets(rc *reqCtx) {
	bs, err := h.cfg.Store.ListBuckets(rc.ctx, rc.p)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	out := listBucketsOut{Xmlns: s3Namespace, Owner: ownerOut{ID: rc.p.Name, DisplayName: rc.p.Name}, Buckets: []bucketOut{}}
	for _, b := range bs {
		out.Buckets = append(out.Buckets, bucketOut{Name: b.Name, CreationDate: s3Time(b.CreationDate), BucketRegion: b.Region})
	}
	rc.writeXML(out)
}

// createBucket: the optional CreateBucketConfiguration may name this
// server's region or nothing; another region is
// IllegalLocationConstraintException, as on an AWS regional endpoint.
func (h *handler) createBucket(rc *reqCtx) {
	// Object Lock is refused rather than half-accepted: a bucket that said
	// it had WORM protection while no retention could ever be set would
	// mislead exactly the auditors this server is for.
	if strings.EqualFold(strings.TrimSpace(rc.r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled")), "true") {
		rc.fail(errNotImplemented("Object Lock (x-amz-bucket-object-lock-enabled)"))
		return
	}
	acl, _, aerr := cannedACLHeader(rc.r.Header, bucketCannedACLs)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	data, aerr := rc.readXMLBody(false, true)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		var c createBucketConfigXML
		if aerr := decodeXML(data, "CreateBucketConfiguration", &c); aerr != nil {
			rc.fail(aerr)
			return
		}
		if c.LocationConstraint != nil {
			lc := strings.TrimSpace(*c.LocationConstraint)
			if lc != "" && lc != h.cfg.Region {
				rc.fail(newErr(http.StatusBadRequest, "IllegalLocationConstraintException",
					"The %s location constraint is incompatible for the region specific endpoint this request was sent to.", truncate(lc, 64)))
				return
			}
		}
	}
	if _, err := h.cfg.Store.CreateBucketWithOptions(rc.ctx, rc.p, rc.bucket, objstore.CreateBucketOptions{ACL: acl}); err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.w.Header().Set("Location", "/"+rc.bucket)
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

func (h *handler) headBucket(rc *reqCtx) {
	b, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.w.Header().Set("X-Amz-Bucket-Region", b.Region)
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

func (h *handler) getBucketLocation(rc *reqCtx) {
	b, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.writeXML(locationOut{Xmlns: s3Namespace, Region: b.Region})
}

// getBucketVersioning answers an empty VersioningConfiguration for a
// bucket that never had versioning, as S3 does.
func (h *handler) getBucketVersioning(rc *reqCtx) {
	b, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.writeXML(versioningOut{Xmlns: s3Namespace, Status: b.Versioning})
}

// putBucketVersioning sets Enabled or Suspended. A Status outside the
// schema's enumeration (or none) is MalformedXML, as on S3; MFA delete
// needs the x-amz-mfa header of a hardware token and is not offered.
func (h *handler) putBucketVersioning(rc *reqCtx) {
	data, aerr := rc.readXMLBody(false, true)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	var c versioningXML
	if aerr := decodeXML(data, "VersioningConfiguration", &c); aerr != nil {
		rc.fail(aerr)
		return
	}
	switch c.MfaDelete {
	case nil:
	default:
		switch strings.TrimSpace(*c.MfaDelete) {
		case "Disabled":
		case "Enabled":
			rc.fail(errNotImplemented("MfaDelete"))
			return
		default:
			rc.fail(errMalformedXML())
			return
		}
	}
	if c.Status == nil {
		rc.fail(errMalformedXML())
		return
	}
	status := strings.TrimSpace(*c.Status)
	if status != objstore.VersioningEnabled && status != objstore.VersioningSuspended {
		rc.fail(errMalformedXML())
		return
	}
	if err := h.cfg.Store.PutBucketVersioning(rc.ctx, rc.p, rc.bucket, status); err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

// deleteBucket deletes a bucket without objects or versions. Uploads in
// progress do not keep it (S3 refuses only for directory buckets): they
// are aborted with it when the store offers that (objstore.UploadsStore).
func (h *handler) deleteBucket(rc *reqCtx) {
	del := h.cfg.Store.DeleteBucket
	if us, ok := h.cfg.Store.(objstore.UploadsStore); ok {
		del = us.DeleteBucketAbortingUploads
	}
	if err := del(rc.ctx, rc.p, rc.bucket); err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.w.WriteHeader(http.StatusNoContent)
}

func (h *handler) putBucketEncryption(rc *reqCtx) {
	data, aerr := rc.readXMLBody(true, true)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	rule, aerr := parseEncryptionConfig(data)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	if err := h.cfg.Store.PutBucketEncryption(rc.ctx, rc.p, rc.bucket, rule); err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.w.Header().Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

func (h *handler) getBucketEncryption(rc *reqCtx) {
	rule, err := h.cfg.Store.GetBucketEncryption(rc.ctx, rc.p, rc.bucket)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	rc.writeXML(encryptionConfigOut(rule))
}

func (h *handler) deleteBucketEncryption(rc *reqCtx) {
	if err := h.cfg.Store.DeleteBucketEncryption(rc.ctx, rc.p, rc.bucket); err != nil {
		// Deleting a rule that is not there succeeds, as on S3.
		if objstore.KindOf(err) != objstore.KindNoSuchEncryptionRule {
			rc.fail(errorFromStore(err, ""))
			return
		}
	}
	rc.w.WriteHeader(http.StatusNoContent)
}

// deleteObjects is the multi-object delete (POST ?delete). Every key gets
// a Deleted or an Error entry; Quiet drops the Deleted ones.
func (h *handler) deleteObjects(rc *reqCtx) {
	data, aerr := rc.readXMLBody(true, true)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	d, aerr := parseDelete(data)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	// A missing bucket (or no permission at all) fails the whole request.
	if _, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket); err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	quiet := strings.TrimSpace(d.Quiet) == "true"
	out := deleteResultOut{Xmlns: s3Namespace}
	for _, o := range d.Objects {
		key := *o.Key
		vid := strings.TrimSpace(o.VersionID)
		dr, err := h.cfg.Store.DeleteObjectVersion(rc.ctx, rc.p, rc.bucket, key, vid)
		if err != nil && objstore.KindOf(err) != objstore.KindNoSuchKey {
			ae := errorFromStore(err, key)
			if ae.Status >= 500 {
				rc.h.log.Error("s3: delete in multi-delete failed", "request_id", rc.reqID, "key", key, "err", err)
			}
			var se *objstore.Error
			if errors.As(err, &se) && se.Kind == objstore.KindInternal {
				ae.Message = "We encountered an internal error. Please try again."
			}
			out.Errors = append(out.Errors, deleteErrorOut{Key: key, Code: ae.Code, Message: ae.Message, VersionID: vid})
			continue
		}
		if !quiet {
			d := deletedOut{Key: key, VersionID: vid}
			if dr.DeleteMarker {
				d.DeleteMarker = true
				if vid == "" {
					d.DeleteMarkerVersionID = dr.VersionID
				} else {
					d.DeleteMarkerVersionID = vid
				}
			}
			out.Deleted = append(out.Deleted, d)
		}
	}
	rc.writeXML(out)
}
