package osshttp

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

// Sequential multipart uploads (InitiateMultipartUpload with ?sequential).
// OSS has the parts of such an upload arrive in order so that it can give
// the completed object a whole-object MD5, answered as Content-MD5 like a
// single-part object's. Here the upload is marked at initiation (a bucket
// record named by the upload id); CompleteMultipartUpload of a marked
// upload reads the new object back once, computes its MD5 and keeps it
// (a bucket record per object version, named like restore.go's); HEAD
// answers it as Content-MD5. Both records are bucket configuration
// records (objstore bucketconfig.go), dropped with the bucket.

func sequentialRecordName(uploadID string) string {
	h := sha256.Sum256([]byte(uploadID))
	return "sequential/" + hex.EncodeToString(h[:])[:40]
}

func contentMD5RecordName(key string, info objstore.ObjectInfo) string {
	return "md5/" + restoreRecordName(key, info)[len("restore/"):]
}

// markSequential records that uploadID is a sequential upload.
func (h *handler) markSequential(req *request, uploadID string) *ossError {
	if err := h.cfg.Store.PutBucketConfig(req.ctx(), req.principal, req.res.bucket, sequentialRecordName(uploadID), []byte("1")); err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	return nil
}

// finishSequential, after a completion, computes and keeps the object's
// whole MD5 when its upload was sequential; it returns the MD5 (base64)
// or "".
func (h *handler) finishSequential(req *request, uploadID string, info objstore.ObjectInfo) (string, *ossError) {
	st, b := h.cfg.Store, req.res.bucket
	name := sequentialRecordName(uploadID)
	mark, err := st.GetBucketConfig(req.ctx(), req.principal, b, name)
	if err != nil || mark == nil {
		return "", nil // not sequential (or unreadable: no MD5, as for any multipart object)
	}
	obj, err := st.OpenObjectVersion(req.ctx(), req.principal, b, req.res.key, info.VersionID)
	if err != nil {
		return "", fromStore(err, b, req.res.key)
	}
	defer obj.Close()
	rc, err := obj.Range(req.ctx(), 0, obj.Info().Size)
	if err != nil {
		return "", fromStore(err, b, req.res.key)
	}
	defer rc.Close()
	m := md5.New()
	if _, err := io.Copy(m, rc); err != nil {
		return "", errInternal()
	}
	sum := base64Std(m.Sum(nil))
	if err := st.PutBucketConfig(req.ctx(), req.principal, b, contentMD5RecordName(req.res.key, obj.Info()), []byte(sum)); err != nil {
		return "", fromStore(err, b, req.res.key)
	}
	_ = st.DeleteBucketConfig(req.ctx(), req.principal, b, name)
	return sum, nil
}

// keptContentMD5 is the whole-object MD5 a sequential upload left, "" if
// none.
func (h *handler) keptContentMD5(req *request, info objstore.ObjectInfo) string {
	if !info.Multipart {
		return ""
	}
	doc, err := h.cfg.Store.GetBucketConfig(req.ctx(), req.principal, req.res.bucket, contentMD5RecordName(req.res.key, info))
	if err != nil {
		return ""
	}
	return string(doc)
}
