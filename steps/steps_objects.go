package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/cucumber/godog"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/results"
)

// ---- buckets and rules ----

// createBucket creates the scenario's bucket with m as its rule (method 1:
// the rule is part of bucket creation).
func (w *world) createBucket(ctx context.Context, m method) error {
	sse, err := w.sseFor(m)
	if err != nil {
		return err
	}
	name := w.newName()
	w.buckets = append(w.buckets, name)
	if err := w.client.CreateBucket(ctx, name, sse); err != nil {
		return fmt.Errorf("create bucket %s with encryption %s: %s", name, m.name, describeErr(err))
	}
	w.bucket = name
	return nil
}

func (w *world) aBucketWithoutDefault(ctx context.Context) error {
	if err := w.createBucket(ctx, method{name: methodNone}); err != nil {
		return err
	}
	return w.ensureNoRule(ctx)
}

func (w *world) aBucketWithDefault(ctx context.Context, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	if err := w.createBucket(ctx, m); err != nil {
		return err
	}
	if m.algorithm == "" {
		return w.ensureNoRule(ctx)
	}
	return nil
}

// ensureNoRule reaches "the bucket has no default rule" on any store: a
// store may give every new bucket a rule (AWS S3 since 2023: SSE-S3), so
// the rule is read, deleted when there is one, and read again. A store
// that keeps a rule whatever is deleted cannot give the scenario its
// precondition: the scenario is skipped saying so, never failed.
func (w *world) ensureNoRule(ctx context.Context) error {
	rule, err := w.client.BucketEncryption(ctx, w.bucket)
	if err != nil {
		return fmt.Errorf("read the default encryption of %s: %s", w.bucket, describeErr(err))
	}
	if rule == nil {
		return nil
	}
	if err := w.client.DeleteBucketEncryption(ctx, w.bucket); err != nil {
		return fmt.Errorf("delete the default encryption (%s) the store gave %s: %s", rule.Algorithm, w.bucket, describeErr(err))
	}
	if rule, err = w.client.BucketEncryption(ctx, w.bucket); err != nil {
		return fmt.Errorf("read the default encryption of %s after deleting it: %s", w.bucket, describeErr(err))
	}
	if rule == nil {
		return nil
	}
	why := fmt.Sprintf("the store keeps a default encryption rule (%s) on every bucket, even after DeleteBucketEncryption, as AWS S3 does since 2023: the scenario needs a bucket without one", rule.Algorithm)
	w.rec.mu.Lock()
	w.rec.skip = why
	w.rec.mu.Unlock()
	return fmt.Errorf("%w: %s", godog.ErrSkip, why)
}

// setDefault configures m on the existing bucket (method 2); none deletes
// the rule.
func (w *world) setDefault(ctx context.Context, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	if m.algorithm == "" {
		return w.deleteDefaultStep(ctx)
	}
	rule, err := w.ruleFor(m)
	if err != nil {
		return err
	}
	if err := w.client.PutBucketEncryption(ctx, w.bucket, *rule); err != nil {
		return fmt.Errorf("set the default encryption of %s to %s: %s", w.bucket, m.name, describeErr(err))
	}
	return nil
}

// deleteDefault reaches "no default rule" without depending on how a
// store answers the edge case of deleting a rule that is not there (some
// answer 404, S3 and OSS 204): it reads the rule first and sends DELETE
// only when there is one to delete. The scenario's own rule (existing
// objects untouched) is checked by its later steps either way.
func (w *world) deleteDefault(ctx context.Context) error {
	rule, err := w.client.BucketEncryption(ctx, w.bucket)
	if err != nil {
		return fmt.Errorf("read the default encryption of %s before deleting it: %s", w.bucket, describeErr(err))
	}
	if rule == nil {
		return nil
	}
	if err := w.client.DeleteBucketEncryption(ctx, w.bucket); err != nil {
		return fmt.Errorf("delete the default encryption of %s: %s", w.bucket, describeErr(err))
	}
	return nil
}

// deleteDefaultStep deletes the bucket's rule and makes sure none is
// left (ensureNoRule): a store that keeps one skips the scenario.
func (w *world) deleteDefaultStep(ctx context.Context) error {
	if err := w.deleteDefault(ctx); err != nil {
		return err
	}
	return w.ensureNoRule(ctx)
}

func (w *world) ruleReadsBackAs(ctx context.Context, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	rule, err := w.client.BucketEncryption(ctx, w.bucket)
	if err != nil {
		return fmt.Errorf("read the default encryption of %s: %s", w.bucket, describeErr(err))
	}
	if m.algorithm == "" {
		if rule != nil {
			return fmt.Errorf("the bucket has a default encryption rule (SSEAlgorithm %q, KMSMasterKeyID %q), want none", rule.Algorithm, rule.KMSMasterKeyID)
		}
		return nil
	}
	if rule == nil {
		return fmt.Errorf("the bucket has no default encryption rule, want %s", m.name)
	}
	want, err := w.ruleFor(m)
	if err != nil {
		return err
	}
	if rule.Algorithm != want.Algorithm || rule.KMSMasterKeyID != want.KMSMasterKeyID {
		return fmt.Errorf("the rule reads back as SSEAlgorithm %q KMSMasterKeyID %q, want %q %q (%s); document: %s",
			rule.Algorithm, rule.KMSMasterKeyID, want.Algorithm, want.KMSMasterKeyID, m.name, oneLine(rule.Raw))
	}
	return nil
}

// noRuleCode is the dialect's error code for "no rule is set".
func (w *world) noRuleCode() string {
	if w.dialect == client.S3 {
		return "ServerSideEncryptionConfigurationNotFoundError"
	}
	return "NoSuchServerSideEncryptionRule"
}

func (w *world) hasNoRule(ctx context.Context) error {
	err := w.rawEncryption(ctx, "GET", nil)
	w.observeBucket("GetBucketEncryption", err)
	if err == nil {
		rule, rerr := w.client.BucketEncryption(ctx, w.bucket)
		if rerr == nil && rule != nil {
			return expect(results.CheckRule, results.SeverityHigh, fmt.Errorf("the bucket has a default encryption rule: SSEAlgorithm %q KMSMasterKeyID %q", rule.Algorithm, rule.KMSMasterKeyID))
		}
		// No rule, answered as an empty success rather than the
		// dialect's 404: the state is right, the answer differs.
		return expect(results.CheckRefusal, results.SeverityInfo, errors.New("reading the bucket's encryption rule succeeded without a rule, where the dialect documents 404 "+w.noRuleCode()))
	}
	return checkRefusal("reading the encryption rule of a bucket without one", err, 404, w.noRuleCode())
}

func (w *world) readRule(ctx context.Context) error {
	w.lastOp = "GetBucketEncryption"
	w.lastErr = w.rawEncryption(ctx, "GET", nil)
	w.observeBucket(w.lastOp, w.lastErr)
	return nil
}

func (w *world) sendRuleDocument(ctx context.Context, doc *godog.DocString) error {
	w.lastOp = "PutBucketEncryption"
	w.lastErr = w.rawEncryption(ctx, "PUT", []byte(doc.Content))
	w.observeBucket(w.lastOp, w.lastErr)
	return nil
}

func (w *world) trySetAlgorithm(ctx context.Context, alg string) error {
	return w.trySetRule(ctx, client.Rule{Algorithm: alg})
}

func (w *world) trySetAlgorithmWithKey(ctx context.Context, alg, keyID string) error {
	return w.trySetRule(ctx, client.Rule{Algorithm: alg, KMSMasterKeyID: keyID})
}

func (w *world) trySetKMSDataEncryption(ctx context.Context, dataEnc string) error {
	return w.trySetRule(ctx, client.Rule{Algorithm: client.AlgorithmKMS, KMSDataEncryption: dataEnc})
}

func (w *world) trySetRule(ctx context.Context, r client.Rule) error {
	w.lastOp = "PutBucketEncryption"
	w.lastErr = w.client.PutBucketEncryption(ctx, w.bucket, r)
	w.observeBucket("PutBucketEncryption", w.lastErr)
	return nil
}

// ---- writes ----

// put uploads data as key with sse and records the outcome.
func (w *world) put(ctx context.Context, key string, data []byte, sse *client.SSE) (*object, error) {
	res, err := w.client.PutObject(ctx, w.bucket, key, bytes.NewReader(data), int64(len(data)), client.PutOptions{SSE: sse})
	return w.recordWrite("PutObject", key, data, res, err), err
}

// snapshot records the HEAD answer of a freshly stored object, the
// "before" of later comparisons.
func (w *world) snapshot(ctx context.Context, key string, o *object) error {
	h, err := w.client.HeadObject(ctx, w.bucket, key)
	if err != nil {
		return fmt.Errorf("HEAD %s right after storing it: %s", key, describeErr(err))
	}
	o.head = &h
	return nil
}

func (w *world) holds(ctx context.Context, key string, sse *client.SSE, data []byte) error {
	o, err := w.put(ctx, key, data, sse)
	if err != nil {
		return fmt.Errorf("upload %s: %s", key, describeErr(err))
	}
	return w.snapshot(ctx, key, o)
}

func (w *world) holdsPlain(ctx context.Context, key string) error {
	return w.holds(ctx, key, nil, newContent(key))
}

func (w *world) holdsWith(ctx context.Context, key, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	sse, err := w.sseFor(m)
	if err != nil {
		return err
	}
	return w.holds(ctx, key, sse, newContent(key))
}

func (w *world) holdsKiB(ctx context.Context, key string, kib int) error {
	return w.holds(ctx, key, nil, randomBytes(kib<<10))
}

func (w *world) holdsInParts(ctx context.Context, key string, n int) error {
	if err := w.uploadParts(ctx, key, n, nil, nil); err != nil {
		return err
	}
	if w.lastErr != nil {
		return fmt.Errorf("multipart upload of %s: %s", key, describeErr(w.lastErr))
	}
	return w.snapshot(ctx, key, w.objects[key])
}

func (w *world) uploadPlain(ctx context.Context, key string) error {
	w.put(ctx, key, newContent(key), nil)
	return nil
}

func (w *world) uploadWith(ctx context.Context, key, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	sse, err := w.sseFor(m)
	if err != nil {
		return err
	}
	w.put(ctx, key, newContent(key), sse)
	return nil
}

func (w *world) uploadWithHeader(ctx context.Context, key, alg string) error {
	w.put(ctx, key, newContent(key), &client.SSE{Algorithm: alg})
	return nil
}

func (w *world) uploadWithHeaderAndKey(ctx context.Context, key, alg, keyID string) error {
	w.put(ctx, key, newContent(key), &client.SSE{Algorithm: alg, KeyID: keyID})
	return nil
}

func (w *world) uploadKMSDataEncryption(ctx context.Context, key, dataEnc string) error {
	w.put(ctx, key, newContent(key), &client.SSE{Algorithm: client.AlgorithmKMS, DataEncryption: dataEnc})
	return nil
}

func (w *world) uploadKMSKey(ctx context.Context, key, keyRef string) error {
	w.put(ctx, key, newContent(key), &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: keyRef})
	return nil
}

// uploadParts uploads n parts (all but the last of the dialect's minimum
// part size) and records the outcome; data nil means random content.
func (w *world) uploadParts(ctx context.Context, key string, n int, sse *client.SSE, data []byte) error {
	if n < 1 {
		return fmt.Errorf("a multipart upload needs at least 1 part, not %d", n)
	}
	size := w.minPartSize()
	if data == nil {
		data = randomBytes((n-1)*size + 1024 + 17)
	}
	parts := partsOf(data, size)
	if len(parts) != n {
		return fmt.Errorf("internal: %d bytes make %d parts, not %d", len(data), len(parts), n)
	}
	mr, err := w.client.MultipartUpload(ctx, w.bucket, key, parts, client.PutOptions{SSE: sse})
	o := w.recordWrite("MultipartUpload", key, data, mr.Complete, err)
	w.multipart = &mr
	if o != nil {
		for _, p := range parts {
			o.partSizes = append(o.partSizes, len(p))
		}
	}
	return nil
}

func (w *world) uploadInParts(ctx context.Context, key string, n int) error {
	return w.uploadParts(ctx, key, n, nil, nil)
}

func (w *world) uploadInPartsWith(ctx context.Context, key string, n int, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	sse, err := w.sseFor(m)
	if err != nil {
		return err
	}
	return w.uploadParts(ctx, key, n, sse, nil)
}

func (w *world) copyObject(ctx context.Context, src, dst string, sse *client.SSE) error {
	o, err := w.obj(src)
	if err != nil {
		return err
	}
	res, cerr := w.client.CopyObject(ctx, w.bucket, src, w.bucket, dst, client.PutOptions{SSE: sse})
	w.recordWrite("CopyObject", dst, o.data, res, cerr)
	if src == dst && o.head != nil {
		if n, ok := w.objects[dst]; ok && n != o {
			n.previous = o.head
		}
	}
	return nil
}

func (w *world) copyOntoItself(ctx context.Context, key string) error {
	return w.copyObject(ctx, key, key, nil)
}

func (w *world) copyWith(ctx context.Context, src, dst, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	sse, err := w.sseFor(m)
	if err != nil {
		return err
	}
	return w.copyObject(ctx, src, dst, sse)
}

// ---- checks ----

func (w *world) responseSays(ctx context.Context, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	if w.lastOp == "" {
		return errors.New("no request was sent before this check")
	}
	if w.lastErr != nil {
		return fmt.Errorf("%s was refused: %s", w.lastOp, describeErr(w.lastErr))
	}
	return w.writeSSE(ctx, w.lastKey, m, w.checkSSE("the "+w.lastOp+" response", w.last.SSE, m))
}

func (w *world) multipartSays(ctx context.Context, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	if w.multipart == nil {
		return errors.New("no multipart upload was sent before this check")
	}
	if w.lastErr != nil {
		return fmt.Errorf("the multipart upload failed: %s", describeErr(w.lastErr))
	}
	var errs []error
	errs = append(errs, w.checkSSE("the InitiateMultipartUpload response", w.multipart.Initiate.SSE, m))
	for i, p := range w.multipart.Parts {
		errs = append(errs, w.checkSSE(fmt.Sprintf("the UploadPart response of part %d", i+1), p.SSE, m))
	}
	errs = append(errs, w.checkSSE("the CompleteMultipartUpload response", w.multipart.Complete.SSE, m))
	return w.writeSSE(ctx, w.lastKey, m, errors.Join(errs...))
}

// readingReports checks HEAD and GET of key against m.
func (w *world) readingReports(ctx context.Context, key, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	if _, err := w.obj(key); err != nil {
		return err
	}
	h, err := w.client.HeadObject(ctx, w.bucket, key)
	w.observe("HEAD "+key, h, err)
	if err != nil {
		return fmt.Errorf("HEAD %s: %s", key, describeErr(err))
	}
	_, g, err := w.client.GetObject(ctx, w.bucket, key, nil)
	w.observe("GET "+key, g, err)
	if err != nil {
		return fmt.Errorf("GET %s: %s", key, describeErr(err))
	}
	return readSSE(errors.Join(w.checkSSE("the HEAD response of "+key, h.SSE, m), w.checkSSE("the GET response of "+key, g.SSE, m)))
}

func (w *world) downloadReturnsBytes(ctx context.Context, key string) error {
	return w.downloadAs(ctx, w.client, key)
}

func (w *world) downloadAs(ctx context.Context, c *client.Client, key string) error {
	o, err := w.obj(key)
	if err != nil {
		return err
	}
	data, _, err := c.GetObject(ctx, w.bucket, key, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %s", key, describeErr(err))
	}
	return sameBytes(key, data, o.data)
}

func sameBytes(what string, got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Errorf("%s: got %d bytes, want %d; they differ from byte %d on", what, len(got), len(want), i)
}

// keeps checks that key still has its encryption m and the bytes, ETag and
// last-modified time it had right after it was stored.
func (w *world) keeps(ctx context.Context, key, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	o, err := w.obj(key)
	if err != nil {
		return err
	}
	if o.head == nil {
		return fmt.Errorf("internal: %s was not stored by a Given step, so there is no earlier state to compare with", key)
	}
	h, err := w.client.HeadObject(ctx, w.bucket, key)
	if err != nil {
		return fmt.Errorf("HEAD %s: %s", key, describeErr(err))
	}
	var errs []error
	errs = append(errs, readSSE(w.checkSSE("the HEAD response of "+key, h.SSE, m)))
	if h.ETag != o.head.ETag {
		errs = append(errs, expect(results.CheckStoredState, results.SeverityHigh, fmt.Errorf("the ETag of %s changed from %q to %q", key, o.head.ETag, h.ETag)))
	}
	if !h.LastModified.Equal(o.head.LastModified) {
		errs = append(errs, expect(results.CheckStoredState, results.SeverityHigh, fmt.Errorf("the last-modified time of %s changed from %s to %s", key,
			o.head.LastModified.Format("2006-01-02T15:04:05Z07:00"), h.LastModified.Format("2006-01-02T15:04:05Z07:00"))))
	}
	errs = append(errs, expect(results.CheckReadBack, results.SeverityHigh, w.downloadReturnsBytes(ctx, key)))
	return errors.Join(errs...)
}

func (w *world) rangesReturn(ctx context.Context, key, name string, table *godog.Table) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	o, err := w.obj(key)
	if err != nil {
		return err
	}
	var ranges [][2]int64
	for i, row := range table.Rows {
		if i == 0 {
			continue // header
		}
		if len(row.Cells) != 2 {
			return fmt.Errorf("range table row %d: want 2 cells (first, last)", i)
		}
		first, err := strconv.ParseInt(row.Cells[0].Value, 10, 64)
		if err != nil {
			return fmt.Errorf("range table row %d: %w", i, err)
		}
		last := int64(-1)
		if v := row.Cells[1].Value; v != "end" {
			if last, err = strconv.ParseInt(v, 10, 64); err != nil {
				return fmt.Errorf("range table row %d: %w", i, err)
			}
		}
		ranges = append(ranges, [2]int64{first, last})
	}
	return w.checkRanges(ctx, key, o, m, ranges)
}

func (w *world) rangesAcrossParts(ctx context.Context, key, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	o, err := w.obj(key)
	if err != nil {
		return err
	}
	if len(o.partSizes) < 2 {
		return fmt.Errorf("%s is not a multipart object with at least 2 parts", key)
	}
	b := int64(o.partSizes[0]) // first byte of part 2
	ranges := [][2]int64{{b - 1, b}, {b - 100, b + 99}, {max(0, b-65536-7), b + 200}, {b - 1, -1}, {b, b}}
	return w.checkRanges(ctx, key, o, m, ranges)
}

// checkRanges reads every range ({first, last}, last -1 for the end) and
// compares bytes, Content-Range and encryption.
func (w *world) checkRanges(ctx context.Context, key string, o *object, m method, ranges [][2]int64) error {
	size := int64(len(o.data))
	var errs []error
	for _, r := range ranges {
		first, last := r[0], r[1]
		rng := &client.Range{Offset: first}
		if last >= 0 {
			rng.Length = last - first + 1
		} else {
			last = size - 1
		}
		if first < 0 || last >= size || first > last {
			return fmt.Errorf("range %d-%d does not fit %s (%d bytes)", first, last, key, size)
		}
		what := fmt.Sprintf("bytes %d-%d of %s", first, last, key)
		data, res, err := w.client.GetObject(ctx, w.bucket, key, rng)
		if err != nil {
			errs = append(errs, expect(results.CheckReadBack, results.SeverityHigh, fmt.Errorf("GET %s: %s", what, describeErr(err))))
			continue
		}
		if cr, want := res.Headers.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", first, last, size); cr != want {
			errs = append(errs, expect(results.CheckReadBack, results.SeverityLow, fmt.Errorf("GET %s: Content-Range %q, want %q", what, cr, want)))
		}
		if err := sameBytes("GET "+what, data, o.data[first:last+1]); err != nil {
			errs = append(errs, expect(results.CheckReadBack, results.SeverityHigh, err))
		}
		if err := w.checkSSE("the GET response for "+what, res.SSE, m); err != nil {
			errs = append(errs, readSSE(err))
		}
	}
	return errors.Join(errs...)
}

func (w *world) refused(ctx context.Context, status int, code string) error {
	if w.lastOp == "" {
		return errors.New("no request was sent before this check")
	}
	return checkRefusal("the "+w.lastOp+" request", w.lastErr, status, code)
}

func (w *world) holdsNoObject(ctx context.Context, key string) error {
	h, err := w.client.HeadObject(ctx, w.bucket, key)
	w.observe("HEAD "+key, h, err)
	if err == nil {
		return expect(results.CheckRefusal, results.SeverityHigh, fmt.Errorf("%s exists (encryption %q, key %q), but the request storing it was to be refused", key, h.SSE.Algorithm, h.SSE.KeyID))
	}
	if e, ok := client.AsError(err); ok && e.StatusCode == 404 {
		return nil
	}
	return fmt.Errorf("HEAD %s: %s, want 404", key, describeErr(err))
}

func (w *world) downloadRefused(ctx context.Context, key string, status int, code string) error {
	if _, err := w.obj(key); err != nil {
		return err
	}
	_, g, err := w.client.GetObject(ctx, w.bucket, key, nil)
	w.observe("GET "+key, g, err)
	return checkRefusal("GET "+key, err, status, code)
}

func (w *world) uploadRefused(ctx context.Context, key string, status int, code string) error {
	_, err := w.put(ctx, key, newContent(key), nil)
	return checkRefusal("PUT "+key, err, status, code)
}

func (w *world) uploadSucceeds(ctx context.Context, key string) error {
	o, err := w.put(ctx, key, newContent(key), nil)
	if err != nil {
		return fmt.Errorf("PUT %s: %s", key, describeErr(err))
	}
	data, _, err := w.client.GetObject(ctx, w.bucket, key, nil)
	if err != nil {
		return fmt.Errorf("GET %s after uploading it: %s", key, describeErr(err))
	}
	return sameBytes("GET "+key, data, o.data)
}

func (w *world) principalRefused(ctx context.Context, who, key string, status int, code string) error {
	c, err := w.clientFor(who)
	if err != nil {
		return err
	}
	if _, err := w.obj(key); err != nil {
		return err
	}
	_, _, gerr := c.GetObject(ctx, w.bucket, key, nil)
	return checkRefusal(fmt.Sprintf("GET %s as %s", key, who), gerr, status, code)
}

func (w *world) principalCanDownload(ctx context.Context, who, key string) error {
	c, err := w.clientFor(who)
	if err != nil {
		return err
	}
	if err := w.downloadAs(ctx, c, key); err != nil {
		return fmt.Errorf("as %s: %w", who, err)
	}
	return nil
}
