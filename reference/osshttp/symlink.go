package osshttp

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Symbolic links: PutSymlink (PUT ?symlink), GetSymlink (GET ?symlink)
// and how GET and HEAD follow a link (doc.go, "Symbolic links").

const (
	hSymlinkTarget = "X-Oss-Symlink-Target"

	// CodeSymlinkTargetNotExist answers GET or HEAD of a link whose target
	// does not exist (404, OSS's code).
	CodeSymlinkTargetNotExist = "SymlinkTargetNotExist"
	// CodeNotSymlink answers GetSymlink of an object that is not a link.
	CodeNotSymlink = "NotSymlink"
)

func errSymlinkTargetNotExist() *ossError {
	return newErr(http.StatusNotFound, CodeSymlinkTargetNotExist, "The symlink target object does not exist")
}

// symlinkTarget reads x-oss-symlink-target: the v1 SDK sends it
// URL-encoded (QueryEscape), the v2 SDK as is; a value that does not
// decode is taken as sent.
func symlinkTarget(h http.Header) (string, *ossError) {
	vs := h.Values(hSymlinkTarget)
	if len(vs) != 1 || strings.TrimSpace(vs[0]) == "" {
		return "", errInvalidArgument("PutSymlink needs one x-oss-symlink-target header naming the target object.").
			with("ArgumentName", "x-oss-symlink-target")
	}
	t, err := url.QueryUnescape(vs[0])
	if err != nil {
		t = vs[0]
	}
	return t, nil
}

func (h *handler) putSymlink(req *request) *ossError {
	r := req.r
	target, e := symlinkTarget(r.Header)
	if e != nil {
		return e
	}
	// A link holds no data, so encryption headers have nothing to apply
	// to; they are refused rather than silently ignored.
	if sse, e := parseSSEHeaders(r.Header); e != nil {
		return e
	} else if sse.SSE != (objstore.SSE{}) {
		return errInvalidArgument("A symbolic link holds no data and takes no x-oss-server-side-encryption headers; encrypt the target object.")
	}
	opts, e := putOptions(r, objstore.SSE{})
	if e != nil {
		return e
	}
	forbid, e := forbidOverwrite(r.Header)
	if e != nil {
		return e
	}
	opts.Condition = noOverwrite(forbid)
	info, err := h.cfg.Store.PutSymlink(req.ctx(), req.principal, req.res.bucket, req.res.key, target, opts)
	if err != nil {
		return fromWrite(err, req.res.bucket, req.res.key)
	}
	hdr := req.w.Header()
	hdr.Set("ETag", quotedETag(info.ETag))
	setVersionHeader(hdr, info.VersionID)
	writeEmpty(req.w, http.StatusOK)
	return nil
}

func (h *handler) getSymlink(req *request) *ossError {
	info, err := h.cfg.Store.HeadObjectVersion(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"))
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	if info.SymlinkTarget == "" {
		return newErr(http.StatusBadRequest, CodeNotSymlink, "The specified object is not a symlink.")
	}
	hdr := req.w.Header()
	// URL-encoded, as the v1 SDK decodes it (QueryUnescape).
	hdr.Set(hSymlinkTarget, url.QueryEscape(info.SymlinkTarget))
	hdr.Set("ETag", quotedETag(info.ETag))
	hdr.Set("Last-Modified", httpTime(info.LastModified))
	hdr.Set(hStorageClass, storageClassOf(info.StorageClass))
	for k, v := range info.UserMetadata {
		hdr.Set(hMetaPrefix+k, v)
	}
	setVersionHeader(hdr, info.VersionID)
	writeEmpty(req.w, http.StatusOK)
	return nil
}

// followSymlink opens the target of the link described by link: the
// target's current version in the same bucket. A missing target, or one
// that is itself a link (OSS links do not chain), is SymlinkTargetNotExist.
func (h *handler) followSymlink(req *request, link objstore.ObjectInfo) (objstore.Object, *ossError) {
	obj, err := h.cfg.Store.OpenObject(req.ctx(), req.principal, req.res.bucket, link.SymlinkTarget)
	if err != nil {
		if objstore.KindOf(err) == objstore.KindNoSuchKey {
			return nil, errSymlinkTargetNotExist()
		}
		return nil, fromStore(err, req.res.bucket, link.SymlinkTarget)
	}
	if obj.Info().SymlinkTarget != "" {
		obj.Close()
		return nil, errSymlinkTargetNotExist()
	}
	return obj, nil
}

// headSymlinkTarget is followSymlink for HEAD: the target's metadata.
func (h *handler) headSymlinkTarget(req *request, link objstore.ObjectInfo) (objstore.ObjectInfo, *ossError) {
	info, err := h.cfg.Store.HeadObject(req.ctx(), req.principal, req.res.bucket, link.SymlinkTarget)
	if err != nil {
		if objstore.KindOf(err) == objstore.KindNoSuchKey {
			return objstore.ObjectInfo{}, errSymlinkTargetNotExist()
		}
		return objstore.ObjectInfo{}, fromStore(err, req.res.bucket, link.SymlinkTarget)
	}
	if info.SymlinkTarget != "" {
		return objstore.ObjectInfo{}, errSymlinkTargetNotExist()
	}
	return asLink(info, link), nil
}

// asLink is the target's info as GET and HEAD of the link report it: the
// target's content, metadata and encryption, with the link's object type
// and version id (the version the request addressed).
func asLink(target, link objstore.ObjectInfo) objstore.ObjectInfo {
	target.SymlinkTarget = link.SymlinkTarget
	target.VersionID = link.VersionID
	return target
}
