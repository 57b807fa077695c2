package remediate

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/snapshot"
)

// Copy modes, as the journal and the result name them.
const (
	ModeSingle    = "single"    // one CopyObject
	ModeMultipart = "multipart" // UploadPartCopy parts
)

const hCRC64 = "X-Oss-Hash-Crc64ecma"

// object rewrites one planned object; the error it returns stops the run
// (a refusal: later writes would be refused too). Anything else about the
// object is journalled and the run goes on.
func (a *applier) object(ctx context.Context, b *BucketPlan, ob *Object) error {
	c := a.o.Client
	st := a.states[[2]string{b.Name, ob.Key}]
	head, ck, err := c.HeadObjectChecksum(ctx, b.Name, ob.Key)
	if err != nil {
		if e, ok := client.AsError(err); ok && e.StatusCode == http.StatusNotFound {
			return a.skip(b, ob, "deleted since the scan")
		}
		return a.failed(b, ob, err)
	}
	if st != nil && st.last == OpStart && st.start != nil && st.start.State != nil && a.landed(head, st.start.State) {
		// Interrupted after the copy landed and before it was
		// journalled: verify it, do not copy again.
		after, problems := a.verify(ctx, b.Name, ob.Key, st.start.State)
		a.logf("rewritten %s/%s (found in place after an interruption)", b.Name, ob.Key)
		return a.j.append(Entry{Op: OpDone, Time: a.now().UTC(), Bucket: b.Name, Key: ob.Key, After: after, Recovered: true, Problems: problems})
	}
	if !strings.EqualFold(head.ETag, ob.ETag) {
		return a.skip(b, ob, fmt.Sprintf("changed since the scan: ETag %s, the scan saw %s", head.ETag, ob.ETag))
	}
	if a.matches(head.SSE) {
		return a.skip(b, ob, "already encrypted as planned")
	}
	state, err := a.readState(ctx, b.Name, ob.Key, head, ck)
	if err != nil {
		return a.failed(b, ob, err)
	}
	if state.ACL == "" {
		return a.skip(b, ob, "its ACL grants match no canned ACL, and a copy would not keep them")
	}
	mode := ModeSingle
	if head.Size >= a.o.Threshold {
		mode = ModeMultipart
	}
	if err := a.j.append(Entry{Op: OpStart, Time: a.now().UTC(), Bucket: b.Name, Key: ob.Key, State: state, Mode: mode}); err != nil {
		return err
	}
	ro := client.RewriteOptions{SSE: a.p.Encryption.SSE(), IfMatch: ob.ETag, ContentType: state.ContentType, Headers: state.Headers,
		Metadata: state.Metadata, StorageClass: state.StorageClass, ACL: state.ACL, Tags: state.Tags}
	if state.Checksum != nil {
		// Named, not left to the service: S3 then computes the copy's
		// checksum over the copied content in the source's algorithm
		// (full-object where the algorithm allows it), which verify
		// compares; a multipart upload naming none gets the default
		// CRC64NVME instead, and the object's own checksum is lost.
		ro.ChecksumAlgorithm = state.Checksum.Algorithm
		if mode == ModeMultipart {
			ro.ChecksumType = multipartChecksumType(state.Checksum.Algorithm)
		}
	}
	if mode == ModeSingle {
		_, err = c.CopyInPlace(ctx, b.Name, ob.Key, ro)
	} else {
		_, err = c.MultipartCopyInPlace(ctx, b.Name, ob.Key, head.Size, a.o.PartSize, ro)
	}
	if err != nil {
		if e, ok := client.AsError(err); ok && e.StatusCode == http.StatusPreconditionFailed {
			return a.skip(b, ob, "changed since the scan: the copy conditional on the scanned ETag was refused (412), nothing was overwritten")
		}
		return a.failed(b, ob, err)
	}
	after, problems := a.verify(ctx, b.Name, ob.Key, state)
	if len(problems) > 0 {
		a.logf("rewritten %s/%s, but verification failed: %s", b.Name, ob.Key, strings.Join(problems, "; "))
	} else {
		a.logf("rewritten %s/%s (%s, verified by %s)", b.Name, ob.Key, mode, after.Checksum)
	}
	return a.j.append(Entry{Op: OpDone, Time: a.now().UTC(), Bucket: b.Name, Key: ob.Key, After: after, Problems: problems})
}

func (a *applier) skip(b *BucketPlan, ob *Object, reason string) error {
	a.logf("skipped %s/%s: %s", b.Name, ob.Key, reason)
	return a.j.append(Entry{Op: OpSkip, Time: a.now().UTC(), Bucket: b.Name, Key: ob.Key, Reason: reason})
}

// failed journals a failure; a refusal (403) also stops the run.
func (a *applier) failed(b *BucketPlan, ob *Object, err error) error {
	a.logf("failed %s/%s: %v", b.Name, ob.Key, err)
	if jerr := a.j.append(Entry{Op: OpFail, Time: a.now().UTC(), Bucket: b.Name, Key: ob.Key, Reason: err.Error()}); jerr != nil {
		return jerr
	}
	if e, ok := client.AsError(err); ok && e.StatusCode == http.StatusForbidden {
		return fmt.Errorf("remediate: %s/%s: the write was refused (%w): stopped; the objects done so far are in the journal", b.Name, ob.Key, err)
	}
	return nil
}

// matches reports whether s is the planned encryption.
func (a *applier) matches(s client.SSE) bool {
	e := a.p.Encryption
	if s.Algorithm != e.Algorithm {
		return false
	}
	// S3 answers the key's ARN for a key asked for by id.
	return e.KMSKeyID == "" || snapshot.SameKey(s.KeyID, e.KMSKeyID)
}

// landed reports whether head is the copy started from pre: the planned
// encryption, written at or after pre, as another version where the
// bucket keeps versions.
func (a *applier) landed(head client.ObjectResult, pre *State) bool {
	if !a.matches(head.SSE) || head.LastModified.Before(pre.LastModified) {
		return false
	}
	return pre.VersionID == "" || head.VersionID != pre.VersionID
}

// readState reads what the copy must keep.
func (a *applier) readState(ctx context.Context, bucket, key string, head client.ObjectResult, ck client.Checksum) (*State, error) {
	c := a.o.Client
	s := &State{VersionID: head.VersionID, ETag: head.ETag, Size: head.Size, LastModified: head.LastModified,
		SSE: head.SSE.Algorithm, KMSKeyID: head.SSE.KeyID, ContentType: head.ContentType, Metadata: head.Metadata,
		StorageClass: head.StorageClass, Headers: systemHeaders(head.Headers)}
	var err error
	if s.ACL, err = c.ObjectACL(ctx, bucket, key); err != nil {
		return nil, err
	}
	if s.Tags, err = c.ObjectTagging(ctx, bucket, key); err != nil {
		return nil, err
	}
	s.CRC64 = head.Headers.Get(hCRC64)
	if !ck.IsZero() {
		s.Checksum = &ck
	}
	if s.CRC64 == "" && !isMD5(s.ETag) && !checkable(s.Checksum) {
		// Neither a CRC-64, an MD5 ETag nor a full-object checksum to
		// compare with afterwards: read the content now.
		if _, s.SHA256, _, err = readBack(ctx, c, bucket, key, ""); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func systemHeaders(h http.Header) map[string]string {
	var out map[string]string
	for _, n := range client.SystemHeaders {
		if v := h.Get(n); v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[n] = v
		}
	}
	return out
}

func isMD5(etag string) bool {
	if len(etag) != 32 {
		return false
	}
	_, err := hex.DecodeString(etag)
	return err == nil
}

// checkable reports whether ck is a full-object checksum this package can
// compute from the content: then it alone shows the content unchanged.
func checkable(ck *client.Checksum) bool {
	return ck != nil && ck.FullObject() && client.NewChecksumHash(ck.Algorithm) != nil
}

// multipartChecksumType is the checksum type a multipart copy asks for:
// FULL_OBJECT where S3 can combine the parts' checksums into the whole
// content's (the CRCs), so the copy carries the very value the source
// did; COMPOSITE otherwise (SHA-1, SHA-256), as S3 allows no other.
func multipartChecksumType(alg string) string {
	switch strings.ToUpper(alg) {
	case "CRC32", "CRC32C", "CRC64NVME":
		return client.ChecksumFullObject
	}
	return client.ChecksumComposite
}

// readBack reads the object and returns the MD5 and SHA-256 of its
// content (hex), and its checksum in algorithm alg (base64; "" when alg
// is "" or cannot be computed here).
func readBack(ctx context.Context, c *client.Client, bucket, key, alg string) (md5hex, sha, cks string, err error) {
	rc, _, err := c.GetObjectStream(ctx, bucket, key, nil)
	if err != nil {
		return "", "", "", err
	}
	defer rc.Close()
	m, s := md5.New(), sha256.New()
	w := []io.Writer{m, s}
	var h hash.Hash
	if alg != "" {
		if h = client.NewChecksumHash(alg); h != nil {
			w = append(w, h)
		}
	}
	if _, err := io.Copy(io.MultiWriter(w...), rc); err != nil {
		return "", "", "", fmt.Errorf("remediate: read back %s/%s: %w", bucket, key, err)
	}
	if h != nil {
		cks = base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	return hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(s.Sum(nil)), cks, nil
}

// verify checks the object after its copy against pre, the state read
// before it: the planned encryption, the content unchanged, and
// metadata, content headers, storage class, tags and ACL equal.
func (a *applier) verify(ctx context.Context, bucket, key string, pre *State) (*After, []string) {
	c := a.o.Client
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	head, ck, err := c.HeadObjectChecksum(ctx, bucket, key)
	if err != nil {
		return &After{}, []string{fmt.Sprintf("HEAD after the copy failed: %v", err)}
	}
	after := &After{VersionID: head.VersionID, ETag: head.ETag, SSE: head.SSE.Algorithm, KMSKeyID: head.SSE.KeyID}
	if !ck.IsZero() {
		after.AdditionalChecksum = &ck
	}
	if pc := pre.Checksum; pc != nil && !strings.EqualFold(ck.Algorithm, pc.Algorithm) {
		bad("additional checksum %s, was %s: the copy did not keep the object's %s checksum", ck, pc, pc.Algorithm)
	}
	if !a.matches(head.SSE) {
		bad("encryption is %q key %q, planned %s", head.SSE.Algorithm, head.SSE.KeyID, describe(a.p.Encryption))
	}
	if head.Size != pre.Size {
		bad("size %d, was %d", head.Size, pre.Size)
	}
	if head.ContentType != pre.ContentType {
		bad("Content-Type %q, was %q", head.ContentType, pre.ContentType)
	}
	if !equalMaps(systemHeaders(head.Headers), pre.Headers) {
		bad("content headers %v, were %v", systemHeaders(head.Headers), pre.Headers)
	}
	if !equalMaps(head.Metadata, pre.Metadata) {
		bad("user metadata %v, was %v", head.Metadata, pre.Metadata)
	}
	if normClass(head.StorageClass) != normClass(pre.StorageClass) {
		bad("storage class %q, was %q", head.StorageClass, pre.StorageClass)
	}
	if tags, err := c.ObjectTagging(ctx, bucket, key); err != nil {
		bad("tags unreadable after the copy: %v", err)
	} else if !equalMaps(tags, pre.Tags) {
		bad("tags %v, were %v", tags, pre.Tags)
	}
	if acl, err := c.ObjectACL(ctx, bucket, key); err != nil {
		bad("ACL unreadable after the copy: %v", err)
	} else if acl != pre.ACL {
		bad("ACL %q, was %q", acl, pre.ACL)
	}
	switch {
	case pre.CRC64 != "":
		after.Checksum = "crc64"
		if got := head.Headers.Get(hCRC64); got != pre.CRC64 {
			bad("CRC-64 %q, was %q: the content changed", got, pre.CRC64)
		}
	case pre.Checksum != nil && pre.Checksum.FullObject() && ck.FullObject() && strings.EqualFold(ck.Algorithm, pre.Checksum.Algorithm):
		// The service computed the copy's checksum over the copied
		// content (the copy named the algorithm): equal values, equal
		// content.
		after.Checksum = "checksum-" + strings.ToLower(ck.Algorithm)
		if ck.Value != pre.Checksum.Value {
			bad("%s checksum %s, was %s: the content changed", ck.Algorithm, ck.Value, pre.Checksum.Value)
		}
	case isMD5(pre.ETag) && strings.EqualFold(head.ETag, pre.ETag):
		after.Checksum = "etag-md5"
	default:
		// The content is read anyway: it checks the source's full-object
		// checksum, else the one the copy now carries (a composite
		// source copied in one request gets a full-object one).
		alg, fromPre := "", checkable(pre.Checksum)
		if fromPre {
			alg = pre.Checksum.Algorithm
		} else if checkable(&ck) {
			alg = ck.Algorithm
		}
		m, s, cks, err := readBack(ctx, c, bucket, key, alg)
		if err == nil && !fromPre && alg != "" && cks != ck.Value {
			bad("the copy's %s checksum %s is not its content's (%s)", alg, ck.Value, cks)
		}
		switch {
		case err != nil:
			bad("read back failed: %v", err)
		case fromPre:
			// A multipart copy of a SHA checksum is COMPOSITE (S3 has no
			// other): the content read back must still have the
			// source's full-object value.
			after.Checksum = "read-back-" + strings.ToLower(alg)
			if cks != pre.Checksum.Value {
				bad("content %s %s, was %s", alg, cks, pre.Checksum.Value)
			}
		case pre.SHA256 != "":
			after.Checksum = "read-back-sha256"
			if s != pre.SHA256 {
				bad("content SHA-256 %s, was %s", s, pre.SHA256)
			}
		default:
			after.Checksum = "read-back-md5"
			if !strings.EqualFold(m, pre.ETag) {
				bad("content MD5 %s, the ETag before was %s", m, pre.ETag)
			}
		}
	}
	return after, problems
}

// normClass makes the class a HEAD leaves out (S3 STANDARD) comparable.
func normClass(s string) string {
	if s == "" {
		return "STANDARD"
	}
	return strings.ToUpper(s)
}

func equalMaps(x, y map[string]string) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if w, ok := y[k]; !ok || w != v {
			return false
		}
	}
	return true
}
