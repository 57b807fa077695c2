package s3http

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sseaudit/sseaudit/reference/objstore"
)

func (h *handler) createMultipartUpload(rc *reqCtx) {
	sse, ck, aerr := parseSSEOrCustomer(rc.r.Header)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	if aerr := refuseChecksumValues(rc.r.Header, "CreateMultipartUpload"); aerr != nil {
		rc.fail(aerr)
		return
	}
	opts, aerr := putOptions(rc.r)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	opts.SSE = sse
	if opts.ChecksumAlgorithm, aerr = requestedAlgorithm(rc.r.Header); aerr != nil {
		rc.fail(aerr)
		return
	}
	opts.ChecksumType = rc.r.Header.Get(hChecksumType)
	up, err := h.cfg.Store.CreateMultipartUpload(rc.ctx, rc.p, rc.bucket, rc.key, opts)
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	hd := rc.w.Header()
	h.setSSEHeaders(hd, up.SSE)
	echoCustomerKey(hd, up.SSE, ck)
	if up.ChecksumAlgorithm != "" {
		hd.Set(hChecksumAlgorithm, up.ChecksumAlgorithm)
		hd.Set(hChecksumType, up.ChecksumType)
	}
	rc.writeXML(initiateOut{Xmlns: s3Namespace, Bucket: rc.bucket, Key: rc.key, UploadID: up.UploadID})
}

// partParams reads partNumber (1..10000) and uploadId.
func partParams(rc *reqCtx) (int, string, *apiError) {
	uploadID := rc.query("uploadId")
	if uploadID == "" {
		return 0, "", errInvalidArgument("This operation needs both the uploadId and partNumber query parameters")
	}
	n, err := strconv.Atoi(rc.query("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return 0, "", errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
	}
	return n, uploadID, nil
}

// uploadPart stores one part. Encryption was fixed at
// CreateMultipartUpload; an SSE header here is 400 InvalidArgument, as on
// AWS; an SSE-C upload's parts carry its customer key (the store checks it
// opens the upload's data key).
func (h *handler) uploadPart(rc *reqCtx) {
	n, uploadID, aerr := partParams(rc)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	// AWS UploadPart takes only SSE-C headers; the upload's encryption was
	// fixed at CreateMultipartUpload (minio-go sends none here).
	if aerr := refuseSSEOnRead(rc.r.Header); aerr != nil {
		rc.fail(aerr)
		return
	}
	ctx, ck, aerr := withCustomerKey(rc.ctx, rc.r.Header, false)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	md5sum, aerr := parseContentMD5(rc.r)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	b, aerr := rc.openBody(true, nil, true)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	declared, aerr := writeChecksumAlgorithm(rc.r.Header, b.r.cks)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	if b.size > maxSinglePut {
		rc.fail(newErr(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."))
		return
	}
	if aerr := b.preverifyEmpty(); aerr != nil {
		rc.fail(aerr)
		return
	}
	part, up, err := h.cfg.Store.UploadPart(ctx, rc.p, rc.bucket, rc.key, uploadID, n, b.r, b.size,
		objstore.PartOptions{ContentMD5: md5sum, ChecksumAlgorithm: declared})
	if err != nil {
		if ae := b.r.bodyError(); ae != nil {
			rc.fail(ae)
			return
		}
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	hd := rc.w.Header()
	hd.Set("ETag", quoteETag(part.ETag))
	h.setSSEHeaders(hd, up.SSE)
	echoCustomerKey(hd, up.SSE, ck)
	// The part's checksum in the upload's algorithm, else the one the
	// client declared (verified); an upload without an algorithm reports
	// its default checksum on the object only.
	cks := b.verifiedChecksum()
	if up.ChecksumAlgorithm != "" {
		cks = part.Checksum
	}
	if cks.IsSet() {
		hd.Set(checksumHeaderPrefix+strings.ToLower(cks.Algorithm), cks.Encoded())
	}
	hd.Set("Content-Length", "0")
	rc.w.WriteHeader(http.StatusOK)
}

// uploadPartCopy copies a range of an existing object into a part: the
// source is opened (read and decrypt permission, KMS key state) and its
// plaintext re-encrypted under the upload's data key.
func (h *handler) uploadPartCopy(rc *reqCtx) {
	n, uploadID, aerr := partParams(rc)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	srcBucket, srcKey, srcVersion, aerr := parseCopySource(rc.r.Header.Get("X-Amz-Copy-Source"))
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	if aerr := refuseChecksumValues(rc.r.Header, "UploadPartCopy"); aerr != nil {
		rc.fail(aerr)
		return
	}
	// The source's and the upload's customer keys, each for its own.
	srcCtx, _, aerr := withCustomerKey(rc.ctx, rc.r.Header, true)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	dstCtx, ck, aerr := withCustomerKey(rc.ctx, rc.r.Header, false)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	if aerr := h.checkCopyPreconditions(rc, srcCtx, srcBucket, srcKey, srcVersion); aerr != nil {
		rc.fail(aerr)
		return
	}
	obj, err := h.cfg.Store.OpenObjectVersion(srcCtx, rc.p, srcBucket, srcKey, srcVersion)
	if err != nil {
		rc.fail(errorFromStore(err, srcKey))
		return
	}
	defer obj.Close()
	size := obj.Info().Size
	off, length := int64(0), size
	if v := rc.r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		spec, ok := strings.CutPrefix(v, "bytes=")
		first, last, ok2 := strings.Cut(spec, "-")
		s, err1 := strconv.ParseInt(first, 10, 64)
		e, err2 := strconv.ParseInt(last, 10, 64)
		if !ok || !ok2 || err1 != nil || err2 != nil || s < 0 || e < s || e >= size {
			rc.fail(errInvalidArgument("Range specified is not valid for source object of size: %d", size))
			return
		}
		off, length = s, e-s+1
	}
	if length > maxSinglePut {
		rc.fail(newErr(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size."))
		return
	}
	var rd io.ReadCloser = io.NopCloser(http.NoBody)
	if length > 0 {
		rd, err = obj.Range(rc.ctx, off, length)
		if err != nil {
			rc.fail(errorFromStore(err, srcKey))
			return
		}
	}
	defer rd.Close()
	part, up, err := h.cfg.Store.UploadPart(dstCtx, rc.p, rc.bucket, rc.key, uploadID, n, rd, length, objstore.PartOptions{})
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	h.setSSEHeaders(rc.w.Header(), up.SSE)
	echoCustomerKey(rc.w.Header(), up.SSE, ck)
	out := copyPartOut{Xmlns: s3Namespace, LastModified: s3Time(part.LastModified), ETag: quoteETag(part.ETag)}
	if up.ChecksumAlgorithm != "" {
		out.checksumXML = checksumOut(part.Checksum, false)
	}
	rc.writeXML(out)
}

func (h *handler) completeMultipartUpload(rc *reqCtx) {
	uploadID := rc.query("uploadId")
	if uploadID == "" {
		rc.fail(errInvalidArgument("uploadId must not be empty"))
		return
	}
	data, aerr := rc.readXMLBody(false, false)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	parts, aerr := parseComplete(data)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	opts := objstore.CompleteOptions{MinPartSize: MinPartSize, ChecksumType: rc.r.Header.Get(hChecksumType),
		Condition: writeCondition(rc.r.Header)}
	if opts.Checksum, aerr = declaredObjectChecksum(rc.r.Header); aerr != nil {
		rc.fail(aerr)
		return
	}
	info, err := h.cfg.Store.CompleteMultipartUpload(rc.ctx, rc.p, rc.bucket, rc.key, uploadID, parts, opts)
	if us, ok := h.cfg.Store.(objstore.UploadsStore); ok && objstore.KindOf(err) == objstore.KindNoSuchUpload {
		// A retry of a completion that succeeded (its response lost) is
		// answered as the first was, as S3 does for a while.
		if prev, perr := us.CompletedMultipartUpload(rc.ctx, rc.p, rc.bucket, rc.key, uploadID, parts); perr == nil {
			info, err = prev, nil
		}
	}
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	h.setSSEHeaders(rc.w.Header(), info.SSE)
	setVersionHeader(rc.w.Header(), info.VersionID)
	scheme := "http"
	if rc.r.TLS != nil {
		scheme = "https"
	}
	loc := scheme + "://" + rc.r.Host + "/" + uriEncode(rc.bucket, true) + "/" + uriEncode(rc.key, false)
	rc.writeXML(completeOut{Xmlns: s3Namespace, Location: loc, Bucket: rc.bucket, Key: rc.key, ETag: quoteETag(info.ETag),
		checksumXML: checksumOut(info.Checksum, true), ChecksumType: info.Checksum.Type})
}

// declaredObjectChecksum reads the whole-object x-amz-checksum-<alg> header
// of CompleteMultipartUpload (at most one; a composite may carry "-N").
func declaredObjectChecksum(h http.Header) (objstore.Checksum, *apiError) {
	var out objstore.Checksum
	for _, a := range checksumAlgos {
		vs := h.Values(a.Header)
		if len(vs) == 0 {
			continue
		}
		if out.Algorithm != "" || len(vs) > 1 {
			return objstore.Checksum{}, errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		c, ok := objstore.ParseChecksumValue(a.Name, vs[0], true)
		if !ok {
			return objstore.Checksum{}, errInvalidRequest("Value for %s header is invalid.", a.Header)
		}
		out = c
	}
	return out, nil
}

func (h *handler) abortMultipartUpload(rc *reqCtx) {
	uploadID := rc.query("uploadId")
	if uploadID == "" {
		rc.fail(errInvalidArgument("uploadId must not be empty"))
		return
	}
	if err := h.cfg.Store.AbortMultipartUpload(rc.ctx, rc.p, rc.bucket, rc.key, uploadID); err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	rc.w.WriteHeader(http.StatusNoContent)
}

func (h *handler) listParts(rc *reqCtx) {
	uploadID := rc.query("uploadId")
	if uploadID == "" {
		rc.fail(errInvalidArgument("uploadId must not be empty"))
		return
	}
	marker, aerr := parseMaxKeys(rc.query("part-number-marker"), rc.has("part-number-marker"), 0, 10000, "part-number-marker")
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	maxParts, aerr := parseMaxKeys(rc.query("max-parts"), rc.has("max-parts"), 1000, 1000, "max-parts")
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	out := listPartsOut{Xmlns: s3Namespace, Bucket: rc.bucket, Key: rc.key, UploadID: uploadID,
		PartNumberMarker: marker, MaxParts: maxParts, Parts: []partOut{}}
	owner := ownerOut{ID: rc.p.Name, DisplayName: rc.p.Name}
	out.Initiator, out.Owner = owner, owner
	// With max-parts 0 this only validates the upload.
	res, up, err := h.cfg.Store.ListParts(rc.ctx, rc.p, rc.bucket, rc.key, uploadID, marker, max(maxParts, 1))
	if err != nil {
		rc.fail(errorFromStore(err, rc.key))
		return
	}
	out.StorageClass = storageClassS3(up.StorageClass)
	out.ChecksumAlgorithm, out.ChecksumType = up.ChecksumAlgorithm, up.ChecksumType
	if maxParts == 0 {
		rc.writeXML(out)
		return
	}
	out.IsTruncated = res.IsTruncated
	out.NextPartNumberMarker = res.NextPartNumberMarker
	for _, p := range res.Parts {
		po := partOut{PartNumber: p.PartNumber, LastModified: s3Time(p.LastModified), ETag: quoteETag(p.ETag), Size: p.Size}
		if up.ChecksumAlgorithm != "" {
			po.checksumXML = checksumOut(p.Checksum, false)
		}
		out.Parts = append(out.Parts, po)
	}
	if !res.IsTruncated && len(res.Parts) > 0 {
		out.NextPartNumberMarker = res.Parts[len(res.Parts)-1].PartNumber
	}
	rc.writeXML(out)
}

func (h *handler) listMultipartUploads(rc *reqCtx) {
	enc, aerr := parseEncodingType(rc)
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	maxUploads, aerr := parseMaxKeys(rc.query("max-uploads"), rc.has("max-uploads"), 1000, 1000, "max-uploads")
	if aerr != nil {
		rc.fail(aerr)
		return
	}
	opts := objstore.ListUploadsOptions{
		Prefix: rc.query("prefix"), Delimiter: rc.query("delimiter"),
		KeyMarker: rc.query("key-marker"), UploadIDMarker: rc.query("upload-id-marker"), MaxUploads: maxUploads,
	}
	out := listUploadsOut{Xmlns: s3Namespace, Bucket: rc.bucket, KeyMarker: maybeEnc(opts.KeyMarker, enc),
		UploadIDMarker: opts.UploadIDMarker, Delimiter: maybeEnc(opts.Delimiter, enc), Prefix: maybeEnc(opts.Prefix, enc),
		MaxUploads: maxUploads}
	if enc {
		out.EncodingType = "url"
	}
	if maxUploads == 0 {
		if _, err := h.cfg.Store.GetBucket(rc.ctx, rc.p, rc.bucket); err != nil {
			rc.fail(errorFromStore(err, ""))
			return
		}
		rc.writeXML(out)
		return
	}
	res, err := h.cfg.Store.ListMultipartUploads(rc.ctx, rc.p, rc.bucket, opts)
	if err != nil {
		rc.fail(errorFromStore(err, ""))
		return
	}
	owner := ownerOut{ID: rc.p.Name, DisplayName: rc.p.Name}
	out.IsTruncated = res.IsTruncated
	out.NextKeyMarker = maybeEnc(res.NextKeyMarker, enc)
	out.NextUploadIDMarker = res.NextUploadIDMarker
	for _, u := range res.Uploads {
		out.Uploads = append(out.Uploads, uploadOut{Key: maybeEnc(u.Key, enc), UploadID: u.UploadID, Initiator: owner,
			Owner: owner, StorageClass: storageClassS3(u.StorageClass), Initiated: s3Time(u.Initiated),
			ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType})
	}
	out.CommonPrefixes = prefixesOut(res.CommonPrefixes, enc)
	rc.writeXML(out)
}
