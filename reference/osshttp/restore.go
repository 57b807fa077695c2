package osshttp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Restore state of archive-class objects. RestoreObject on an object of
// an archive class starts a restore that is in progress for OSS's
// documented minimum time (Archive 1 minute; ColdArchive Expedited 1
// hour, Standard 2 hours, Bulk 5 hours; DeepColdArchive Expedited 12
// hours, Standard 48 hours) and then keeps the object restored for Days
// (default 1). Meanwhile HEAD answers x-oss-restore: ongoing-request="true",
// afterwards ongoing-request="false", expiry-date="<RFC 1123>"; a second
// RestoreObject during the restore is 409 RestoreAlreadyInProgress (EC
// 0016-00000701), after it 200 (the expiry is extended);
// CleanRestoredObject (POST ?cleanRestoredObject) ends a finished restore
// (200) and is 409 ArchiveRestoreNotFinished (EC 0016-00000719) while one
// is in progress or none was made. Reads do not wait for a restore (the
// class changes nothing else here, see the package comment).
//
// The state is a bucket configuration record per object version (objstore
// bucketconfig.go), named by a hash of the key, version id, ETag and
// modification time, so that a new write of the key starts unrestored.

type restoreState struct {
	Requested time.Time `json:"requested"`
	Ready     time.Time `json:"ready"`
	Days      int       `json:"days"`
}

func (s restoreState) expiry() time.Time { return s.Ready.Add(time.Duration(s.Days) * 24 * time.Hour) }

// restoreDuration is how long OSS documents a restore of class at tier to
// take, at least.
func restoreDuration(class, tier string) time.Duration {
	switch class {
	case "ColdArchive":
		switch tier {
		case "Expedited":
			return time.Hour
		case "Bulk":
			return 5 * time.Hour
		}
		return 2 * time.Hour
	case "DeepColdArchive":
		if tier == "Expedited" {
			return 12 * time.Hour
		}
		return 48 * time.Hour
	}
	return time.Minute
}

func restoreRecordName(key string, info objstore.ObjectInfo) string {
	h := sha256.New()
	h.Write([]byte(key + "\x00" + info.VersionID + "\x00" + info.ETag + "\x00" + strconv.FormatInt(info.LastModified.UnixNano(), 10)))
	return "restore/" + hex.EncodeToString(h.Sum(nil))[:40]
}

func (h *handler) restoreOf(req *request, info objstore.ObjectInfo) (*restoreState, *ossError) {
	doc, err := h.cfg.Store.GetBucketConfig(req.ctx(), req.principal, req.res.bucket, restoreRecordName(req.res.key, info))
	if err != nil {
		return nil, fromStore(err, req.res.bucket, req.res.key)
	}
	if doc == nil {
		return nil, nil
	}
	var s restoreState
	if err := json.Unmarshal(doc, &s); err != nil {
		return nil, errInternal()
	}
	if h.cfg.Clock.Now().After(s.expiry()) {
		return nil, nil // the restored copy has expired
	}
	return &s, nil
}

func (h *handler) putRestore(req *request, info objstore.ObjectInfo, s restoreState) *ossError {
	doc, _ := json.Marshal(s)
	if err := h.cfg.Store.PutBucketConfig(req.ctx(), req.principal, req.res.bucket, restoreRecordName(req.res.key, info), doc); err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	return nil
}

// setRestoreHeader adds x-oss-restore to a HEAD of an archive-class
// object that has a restore.
func (h *handler) setRestoreHeader(req *request, info objstore.ObjectInfo) *ossError {
	if !archiveClasses[storageClassOf(info.StorageClass)] {
		return nil
	}
	s, e := h.restoreOf(req, info)
	if e != nil || s == nil {
		return e
	}
	if h.cfg.Clock.Now().Before(s.Ready) {
		req.w.Header().Set("X-Oss-Restore", `ongoing-request="true"`)
	} else {
		req.w.Header().Set("X-Oss-Restore", `ongoing-request="false", expiry-date="`+httpTime(s.expiry())+`"`)
	}
	return nil
}

// startRestore records a restore (RestoreObject), or answers that one is
// in progress; status is the success status to send.
func (h *handler) startRestore(req *request, info objstore.ObjectInfo, days int, tier string) (int, *ossError) {
	s, e := h.restoreOf(req, info)
	if e != nil {
		return 0, e
	}
	now := h.cfg.Clock.Now()
	if days <= 0 {
		days = 1
	}
	if s != nil {
		if now.Before(s.Ready) {
			return 0, newErr(http.StatusConflict, "RestoreAlreadyInProgress", "The restore operation is in progress.").withEC("0016-00000701")
		}
		s.Days = days + int(now.Sub(s.Ready)/(24*time.Hour)) // extend from now
		return http.StatusOK, h.putRestore(req, info, *s)
	}
	st := restoreState{Requested: now, Ready: now.Add(restoreDuration(storageClassOf(info.StorageClass), tier)), Days: days}
	return http.StatusAccepted, h.putRestore(req, info, st)
}

// cleanRestoredObject is POST ?cleanRestoredObject.
func (h *handler) cleanRestoredObject(req *request) *ossError {
	info, err := h.cfg.Store.HeadObjectVersion(req.ctx(), req.principal, req.res.bucket, req.res.key, req.q.Get("versionId"))
	if err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	if !archiveClasses[storageClassOf(info.StorageClass)] {
		return newErr(http.StatusBadRequest, CodeOperationNotSupported, "The operation is not supported for this resource.")
	}
	s, e := h.restoreOf(req, info)
	if e != nil {
		return e
	}
	if s == nil || h.cfg.Clock.Now().Before(s.Ready) {
		return newErr(http.StatusConflict, "ArchiveRestoreNotFinished", "The archive file's restore is not finished.").withEC("0016-00000719")
	}
	if err := h.cfg.Store.DeleteBucketConfig(req.ctx(), req.principal, req.res.bucket, restoreRecordName(req.res.key, info)); err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	writeEmpty(req.w, http.StatusOK)
	return nil
}
