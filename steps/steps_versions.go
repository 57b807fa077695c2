package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cucumber/godog"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/features"
)

// Versioned buckets: re-encrypting an object by copying it onto itself
// writes a new version, and the original stays behind as an older one,
// unencrypted. The seed's rule (a default never changes what exists) holds
// for that older version too.

func (w *world) enableVersioning(ctx context.Context) error {
	if err := w.client.PutBucketVersioning(ctx, w.bucket, client.VersioningEnabled); err != nil {
		// A store without versioning says nothing about its encryption:
		// the scenario does not apply there, it did not fail.
		if e, ok := client.AsError(err); ok && (e.StatusCode == http.StatusNotImplemented || e.Code == "NotImplemented") {
			tag, _ := features.LookupTag(features.TagVersioning)
			if !hasTag(w.tags, tag.Name) {
				return fmt.Errorf("PutBucketVersioning %s: %s, and the scenario is not tagged %s, which would skip it with the reason", w.bucket, describeErr(err), tag.Name)
			}
			why := tag.Name + ": " + tag.Skip
			w.rec.mu.Lock()
			w.rec.skip = why
			w.rec.mu.Unlock()
			return fmt.Errorf("%w: %s", godog.ErrSkip, why)
		}
		return fmt.Errorf("PutBucketVersioning %s: %s", w.bucket, describeErr(err))
	}
	st, err := w.client.BucketVersioning(ctx, w.bucket)
	if err != nil {
		return fmt.Errorf("GetBucketVersioning %s: %s", w.bucket, describeErr(err))
	}
	if st != client.VersioningEnabled {
		return fmt.Errorf("the bucket's versioning reads back as %q, want %q", st, client.VersioningEnabled)
	}
	return nil
}

// versionsOf lists key's versions (delete markers left out), newest first.
func (w *world) versionsOf(ctx context.Context, key string) ([]client.VersionSummary, error) {
	var out []client.VersionSummary
	err := w.client.ListObjectVersions(ctx, w.bucket, key, func(v client.VersionSummary) error {
		if v.Key == key && !v.DeleteMarker {
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ListObjectVersions %s: %s", w.bucket, describeErr(err))
	}
	return out, nil
}

func (w *world) holdsVersions(ctx context.Context, n int, key string) error {
	vs, err := w.versionsOf(ctx, key)
	if err != nil {
		return err
	}
	if len(vs) != n {
		return fmt.Errorf("the bucket holds %d versions of %s, want %d", len(vs), key, n)
	}
	latest := 0
	for _, v := range vs {
		if v.VersionID == "" {
			return fmt.Errorf("a version of %s has no version id", key)
		}
		if v.IsLatest {
			latest++
		}
	}
	if latest != 1 {
		return fmt.Errorf("%d versions of %s are marked latest, want 1", latest, key)
	}
	return nil
}

func (w *world) olderVersionKeeps(ctx context.Context, key, name string) error {
	m, err := parseMethod(name)
	if err != nil {
		return err
	}
	o, err := w.obj(key)
	if err != nil {
		return err
	}
	before := o.previous
	if before == nil {
		return fmt.Errorf("internal: %s was not overwritten in place after a Given step stored it, so there is no older version to compare with", key)
	}
	vs, err := w.versionsOf(ctx, key)
	if err != nil {
		return err
	}
	var older []client.VersionSummary
	for _, v := range vs {
		if !v.IsLatest {
			older = append(older, v)
		}
	}
	if len(older) != 1 {
		return fmt.Errorf("%s has %d older versions, want 1", key, len(older))
	}
	h, err := w.client.HeadObjectVersion(ctx, w.bucket, key, older[0].VersionID)
	if err != nil {
		return fmt.Errorf("HEAD %s version %s: %s", key, older[0].VersionID, describeErr(err))
	}
	var errs []error
	errs = append(errs, w.checkSSE("the HEAD response of the older version of "+key, h.SSE, m))
	if h.ETag != before.ETag {
		errs = append(errs, fmt.Errorf("the older version's ETag is %q, the original was %q", h.ETag, before.ETag))
	}
	if !h.LastModified.Equal(before.LastModified) {
		errs = append(errs, fmt.Errorf("the older version's last-modified time is %s, the original was %s", h.LastModified, before.LastModified))
	}
	return errors.Join(errs...)
}

// removeVersions deletes every version and delete marker of a versioned
// bucket, so that it can be deleted.
func (w *world) removeVersions(ctx context.Context, name string) error {
	st, err := w.client.BucketVersioning(ctx, name)
	if err != nil || st == "" {
		return nil // never versioned (or no versioning API): nothing to do
	}
	type ver struct{ key, id string }
	var vs []ver
	if err := w.client.ListObjectVersions(ctx, name, "", func(v client.VersionSummary) error {
		vs = append(vs, ver{v.Key, v.VersionID})
		return nil
	}); err != nil {
		return fmt.Errorf("list versions of %s: %w", name, err)
	}
	for _, v := range vs {
		if err := w.client.DeleteObjectVersion(ctx, name, v.key, v.id); err != nil {
			return fmt.Errorf("delete %s/%s version %s: %w", name, v.key, v.id, err)
		}
	}
	return nil
}
