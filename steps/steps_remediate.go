package steps

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/remediate"
)

// Remediation: 'sseaudit remediate apply' (package remediate) run on the
// scenario's bucket. The plan is made from the objects the scenario
// stored, as HEAD answers them (the ETag, size, version and LastModified a
// scan would have seen), without setting a bucket default: the scenarios
// judge the rewrite of existing objects, which the rule "a default never
// changes existing objects" does not cover. The checks read the objects
// back through package client, independently of remediate's own
// verification.
//
// Each scenario's remediation state is a *remediation carried in the step
// context (remediationKey), created by the first step that needs it.

type remediationKey struct{}

// remediation is one scenario's remediation: the plan, its result, and
// what the scenario stored with attributes to keep.
type remediation struct {
	plan   *remediate.Plan
	result *remediate.Result
	// kept are the attributes of the objects stored with them, to compare
	// after the rewrite.
	kept map[string]*keptAttrs
	// threshold is the size from which objects are copied in parts (0:
	// the dialect's limit).
	threshold int64
}

type keptAttrs struct {
	contentType, acl, class string
	meta, tags, headers     map[string]string
}

// remOf returns the scenario's remediation, creating it in a new context
// when none is there yet.
func remOf(ctx context.Context) (context.Context, *remediation) {
	if r, ok := ctx.Value(remediationKey{}).(*remediation); ok {
		return ctx, r
	}
	r := &remediation{kept: map[string]*keptAttrs{}}
	return context.WithValue(ctx, remediationKey{}, r), r
}

// r0..r2 adapt a remediation step (a method of the remediation, given the
// world) to godog, passing
// the context on so the state survives to the next step.
func r0(f func(*remediation, *world, context.Context) error) func(context.Context) (context.Context, error) {
	return func(ctx context.Context) (context.Context, error) {
		w := from(ctx)
		if w == nil {
			return ctx, errNoWorld
		}
		ctx, r := remOf(ctx)
		return ctx, f(r, w, ctx)
	}
}

func r1[A any](f func(*remediation, *world, context.Context, A) error) func(context.Context, A) (context.Context, error) {
	return func(ctx context.Context, a A) (context.Context, error) {
		w := from(ctx)
		if w == nil {
			return ctx, errNoWorld
		}
		ctx, r := remOf(ctx)
		return ctx, f(r, w, ctx, a)
	}
}

func r2[A, B any](f func(*remediation, *world, context.Context, A, B) error) func(context.Context, A, B) (context.Context, error) {
	return func(ctx context.Context, a A, b B) (context.Context, error) {
		w := from(ctx)
		if w == nil {
			return ctx, errNoWorld
		}
		ctx, r := remOf(ctx)
		return ctx, f(r, w, ctx, a, b)
	}
}

func registerRemediationSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the bucket holds `+q+` with user metadata, content headers, tags, a public-read ACL and an infrequent-access storage class, uploaded without encryption settings$`, r1((*remediation).holdsWithAttributes))
	sc.Step(`^a remediation plan to `+q+` is made from the bucket's objects$`, r1((*remediation).makePlan))
	sc.Step(`^I apply the remediation plan$`, r0((*remediation).apply))
	sc.Step(`^I apply the remediation plan, copying objects of (\d+) KiB or more in parts$`, r1((*remediation).applyWithThreshold))
	sc.Step(`^I remediate the bucket's objects to `+q+`$`, r1((*remediation).remediateTo))
	sc.Step(`^the remediation rewrote `+q+` with (a single copy|a multipart copy), and verified it$`, r2((*remediation).rewrote))
	sc.Step(`^the remediation skipped `+q+` as changed since the scan$`, r1((*remediation).skipped))
	sc.Step(`^`+q+` keeps its user metadata, content headers, tags, ACL, storage class and bytes$`, r1((*remediation).keepsAttributes))
	sc.Step(`^the remediation reports the original of `+q+` kept unencrypted as a noncurrent version, with its original ETag$`, r1((*remediation).reportsNoncurrent))
}

// The steps: each hands the world's method the scenario's remediation.

func (r *remediation) holdsWithAttributes(w *world, ctx context.Context, key string) error {
	return w.holdsWithAttributes(ctx, r, key)
}
func (r *remediation) makePlan(w *world, ctx context.Context, name string) error {
	return w.makeRemediationPlan(ctx, r, name)
}
func (r *remediation) apply(w *world, ctx context.Context) error { return w.applyRemediation(ctx, r) }
func (r *remediation) applyWithThreshold(w *world, ctx context.Context, kib int) error {
	r.threshold = int64(kib) << 10
	return w.applyRemediation(ctx, r)
}
func (r *remediation) remediateTo(w *world, ctx context.Context, name string) error {
	if err := w.makeRemediationPlan(ctx, r, name); err != nil {
		return err
	}
	return w.applyRemediation(ctx, r)
}
func (r *remediation) rewrote(w *world, _ context.Context, key, how string) error {
	return w.remediationRewrote(r, key, how)
}
func (r *remediation) skipped(w *world, _ context.Context, key string) error {
	return w.remediationSkipped(r, key)
}
func (r *remediation) keepsAttributes(w *world, ctx context.Context, key string) error {
	return w.keepsAttributes(ctx, r, key)
}
func (r *remediation) reportsNoncurrent(w *world, ctx context.Context, key string) error {
	return w.reportsNoncurrent(ctx, r, key)
}

func (w *world) holdsWithAttributes(ctx context.Context, r *remediation, key string) error {
	k := &keptAttrs{contentType: "text/plain", acl: "public-read", class: "IA",
		meta:    map[string]string{"owner": "alice", "team": "audit"},
		tags:    map[string]string{"env": "prod", "cost": "42"},
		headers: map[string]string{"Cache-Control": "max-age=60", "Content-Disposition": "attachment; filename=doc.txt"}}
	if w.dialect == client.S3 {
		k.class = "STANDARD_IA"
	}
	data := newContent(key)
	res, err := w.client.PutObject(ctx, w.bucket, key, bytes.NewReader(data), int64(len(data)), client.PutOptions{ContentType: k.contentType, Metadata: k.meta})
	o := w.recordWrite("PutObject", key, data, res, err)
	if err != nil {
		return fmt.Errorf("upload %s: %s", key, describeErr(err))
	}
	// Content headers and the class are set by a copy without encryption
	// settings: the object stays unencrypted.
	if _, err := w.client.CopyInPlace(ctx, w.bucket, key, client.RewriteOptions{ContentType: k.contentType, Metadata: k.meta, Headers: k.headers, StorageClass: k.class}); err != nil {
		return fmt.Errorf("set the content headers and storage class of %s: %s", key, describeErr(err))
	}
	if err := w.client.PutObjectACL(ctx, w.bucket, key, k.acl); err != nil {
		return fmt.Errorf("set the ACL of %s: %s", key, describeErr(err))
	}
	if err := w.client.PutObjectTagging(ctx, w.bucket, key, k.tags); err != nil {
		return fmt.Errorf("tag %s: %s", key, describeErr(err))
	}
	r.kept[key] = k
	return w.snapshot(ctx, key, o)
}

// makeRemediationPlan plans the rewrite of every object the scenario
// stored, with what HEAD answers now (as a scan would record it).
func (w *world) makeRemediationPlan(ctx context.Context, r *remediation, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	sse, err := w.sseFor(m)
	if err != nil {
		return err
	}
	if sse == nil {
		return fmt.Errorf("a remediation plan to %q: remediation gives objects encryption; use %q, %q or %q", name, methodOSSManaged, methodKMSDefault, methodKMSNamed)
	}
	now := time.Now().UTC()
	p := &remediate.Plan{Schema: remediate.PlanSchema, CreatedAt: now, Tool: "sseaudit conformance",
		Source:     remediate.Source{ScanID: "conformance-" + w.bucket, ScanStartedAt: now, ScanFinishedAt: now},
		Target:     remediate.Target{Dialect: string(w.dialect), Endpoint: w.client.Endpoint(), Region: w.client.Region()},
		Encryption: remediate.Encryption{Algorithm: sse.Algorithm, KMSKeyID: sse.KeyID}}
	b := remediate.BucketPlan{Name: w.bucket}
	keys := make([]string, 0, len(w.objects))
	for k := range w.objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h, err := w.client.HeadObject(ctx, w.bucket, k)
		if err != nil {
			return fmt.Errorf("HEAD %s for the plan: %s", k, describeErr(err))
		}
		b.Objects = append(b.Objects, remediate.Object{Key: k, VersionID: h.VersionID, ETag: h.ETag, Size: h.Size, LastModified: h.LastModified,
			Method: "none", Findings: []string{}})
	}
	p.Buckets = []remediate.BucketPlan{b}
	r.plan, r.result = p, nil
	return nil
}

// applyRemediation applies the plan as 'sseaudit remediate apply --yes'
// does, with a journal of its own that is removed afterwards.
func (w *world) applyRemediation(ctx context.Context, r *remediation) error {
	if r.plan == nil {
		return errors.New("no remediation plan was made before it was applied")
	}
	dir, err := os.MkdirTemp("", "sseaudit-conformance-remediate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sum := sha256.Sum256([]byte(r.plan.Source.ScanID + r.plan.Encryption.Algorithm + r.plan.Encryption.KMSKeyID))
	o := remediate.ApplyOptions{Client: w.client, Yes: true, JournalPath: dir + "/journal", PlanSHA256: hex.EncodeToString(sum[:]),
		Threshold: r.threshold, Concurrency: 2}
	if r.threshold > 0 {
		o.PartSize = int64(w.minPartSize())
	}
	res, err := remediate.Apply(ctx, r.plan, o)
	if err != nil {
		return fmt.Errorf("remediate apply: %w", err)
	}
	r.result = res
	return nil
}

func (r *remediation) outcome(key string) (remediate.ObjectResult, error) {
	if r.result == nil {
		return remediate.ObjectResult{}, errors.New("no remediation was applied before this check")
	}
	for _, o := range r.result.Objects {
		if o.Key == key {
			return o, nil
		}
	}
	return remediate.ObjectResult{}, fmt.Errorf("the remediation result does not list %s", key)
}

func (w *world) remediationRewrote(r *remediation, key, how string) error {
	o, err := r.outcome(key)
	if err != nil {
		return err
	}
	want := remediate.ModeSingle
	if how == "a multipart copy" {
		want = remediate.ModeMultipart
	}
	switch {
	case o.Outcome == remediate.OutcomeUnverified:
		return fmt.Errorf("%s was copied, but the copy does not verify: %s", key, strings.Join(o.Problems, "; "))
	case o.Outcome != remediate.OutcomeRewritten:
		return fmt.Errorf("%s was not rewritten: %s %s", key, o.Outcome, o.Reason)
	case o.Mode != want:
		return fmt.Errorf("%s was copied as %q, want %q", key, o.Mode, want)
	case o.Copies != 1:
		return fmt.Errorf("%s was copied %d times, want once", key, o.Copies)
	}
	return nil
}

func (w *world) remediationSkipped(r *remediation, key string) error {
	o, err := r.outcome(key)
	if err != nil {
		return err
	}
	if o.Outcome != remediate.OutcomeSkipped || !strings.Contains(o.Reason, "changed since the scan") {
		return fmt.Errorf("%s: %s %q, want skipped as changed since the scan", key, o.Outcome, o.Reason)
	}
	return nil
}

func (w *world) keepsAttributes(ctx context.Context, r *remediation, key string) error {
	o, err := w.obj(key)
	if err != nil {
		return err
	}
	k := r.kept[key]
	if k == nil {
		return fmt.Errorf("internal: %s was not stored with attributes to keep", key)
	}
	data, h, err := w.client.GetObject(ctx, w.bucket, key, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %s", key, describeErr(err))
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(key+": "+format, args...)) }
	if !bytes.Equal(data, o.data) {
		bad("the content changed (%d bytes, stored %d)", len(data), len(o.data))
	}
	if h.ContentType != k.contentType {
		bad("Content-Type %q, was %q", h.ContentType, k.contentType)
	}
	if !sameMap(h.Metadata, k.meta) {
		bad("user metadata %v, was %v", h.Metadata, k.meta)
	}
	for n, v := range k.headers {
		if got := h.Headers.Get(n); got != v {
			bad("%s %q, was %q", n, got, v)
		}
	}
	if !strings.EqualFold(h.StorageClass, k.class) {
		bad("storage class %q, was %q", h.StorageClass, k.class)
	}
	if tags, err := w.client.ObjectTagging(ctx, w.bucket, key); err != nil {
		bad("tags unreadable: %s", describeErr(err))
	} else if !sameMap(tags, k.tags) {
		bad("tags %v, were %v", tags, k.tags)
	}
	if acl, err := w.client.ObjectACL(ctx, w.bucket, key); err != nil {
		bad("ACL unreadable: %s", describeErr(err))
	} else if acl != k.acl {
		bad("ACL %q, was %q", acl, k.acl)
	}
	return errors.Join(errs...)
}

func (w *world) reportsNoncurrent(ctx context.Context, r *remediation, key string) error {
	o, err := w.obj(key)
	if err != nil {
		return err
	}
	if o.head == nil || o.head.VersionID == "" {
		return fmt.Errorf("internal: %s was stored without a version id to compare with", key)
	}
	if r.result == nil {
		return errors.New("no remediation was applied before this check")
	}
	orig := o.head.VersionID
	if !slices.ContainsFunc(r.result.NoncurrentKept, func(v remediate.Version) bool { return v.Key == key && v.VersionID == orig }) {
		return fmt.Errorf("the remediation result does not report the original version %s of %s as kept: %+v", orig, key, r.result.NoncurrentKept)
	}
	h, err := w.client.HeadObjectVersion(ctx, w.bucket, key, orig)
	if err != nil {
		return fmt.Errorf("HEAD %s version %s: %s", key, orig, describeErr(err))
	}
	if h.SSE.Algorithm != "" || !strings.EqualFold(h.ETag, o.head.ETag) {
		return fmt.Errorf("the original version %s of %s: encryption %q ETag %s, want unencrypted with ETag %s", orig, key, h.SSE.Algorithm, h.ETag, o.head.ETag)
	}
	vs, err := w.versionsOf(ctx, key)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.VersionID == orig && v.IsLatest {
			return fmt.Errorf("the original version %s of %s is still the latest: the rewrite did not make a new version", orig, key)
		}
	}
	return nil
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
