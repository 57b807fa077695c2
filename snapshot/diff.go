package snapshot

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// ChangeKind names what changed between two snapshots.
type ChangeKind string

// The kinds of Change. The "unknown" kinds are reported where one side
// could not be read (an error recorded instead of a state, or a listing
// that stopped early), so a comparison is never silently skipped.
const (
	BucketAdded   ChangeKind = "bucket-added"
	BucketRemoved ChangeKind = "bucket-removed"
	// BucketUnknown: the bucket is in the old snapshot only, and the new
	// one could not list buckets or was not complete.
	BucketUnknown ChangeKind = "bucket-unknown"
	// RuleChanged: the default rule differs (RuleBefore, RuleAfter; nil
	// means no rule was set).
	RuleChanged ChangeKind = "rule-changed"
	// RuleUnknown: the rule could not be read in one of the snapshots.
	RuleUnknown   ChangeKind = "rule-unknown"
	ObjectAdded   ChangeKind = "object-added"
	ObjectRemoved ChangeKind = "object-removed"
	// ObjectEncryptionChanged: SSE algorithm, KMS key or data encryption
	// differ; SameETag and SameLastModified tell whether the content
	// stayed the same (re-encrypted in place) or not (rewritten).
	ObjectEncryptionChanged ChangeKind = "object-encryption-changed"
	// ObjectContentChanged: same encryption, but ETag, size or
	// LastModified differ.
	ObjectContentChanged ChangeKind = "object-content-changed"
	// ObjectUnknown: the object's state could not be read on one side
	// (HEAD failed), or it is missing on a side whose listing of the
	// bucket was incomplete.
	ObjectUnknown ChangeKind = "object-unknown"
	// VersioningChanged: the bucket's versioning state differs
	// (BucketBefore.Versioning, BucketAfter.Versioning).
	VersioningChanged ChangeKind = "versioning-changed"
	// VersioningUnknown: versioning could not be read in one snapshot.
	VersioningUnknown ChangeKind = "versioning-unknown"
	// KeyAdded and KeyRemoved: a KMS key referenced in one snapshot only.
	KeyAdded   ChangeKind = "key-added"
	KeyRemoved ChangeKind = "key-removed"
	// KeyChanged: a key's state, rotation or deletion date differs
	// (KeyBefore, KeyAfter; Note names the fields).
	KeyChanged ChangeKind = "key-changed"
	// KeyUnknown: a key could not be described in one of the snapshots.
	KeyUnknown ChangeKind = "key-unknown"
)

// Change is one difference between an old and a new snapshot.
type Change struct {
	Kind   ChangeKind `json:"kind"`
	Bucket string     `json:"bucket"`
	Key    string     `json:"key,omitempty"`
	// BucketBefore and BucketAfter are the bucket headers (without
	// objects) for bucket and rule changes.
	BucketBefore *Bucket `json:"bucket_before,omitempty"`
	BucketAfter  *Bucket `json:"bucket_after,omitempty"`
	RuleBefore   *Rule   `json:"rule_before,omitempty"`
	RuleAfter    *Rule   `json:"rule_after,omitempty"`
	// Before and After are the object on each side (nil where absent).
	Before           *Object `json:"before,omitempty"`
	After            *Object `json:"after,omitempty"`
	SameETag         bool    `json:"same_etag,omitempty"`
	SameLastModified bool    `json:"same_last_modified,omitempty"`
	// KeyBefore and KeyAfter are a KMS key on each side (key changes).
	KeyBefore *Key `json:"key_before,omitempty"`
	KeyAfter  *Key `json:"key_after,omitempty"`
	// Note explains unknown kinds, and names the fields of a key change.
	Note string `json:"note,omitempty"`
}

// Diff compares the snapshots at oldPath and newPath bucket by bucket and
// calls fn for every change, in bucket name order and, within a bucket,
// in key order; then the KMS keys both reference, in key id order. Both files are streamed together; memory is bounded by
// the largest bucket of each (its objects are indexed by key). Buckets
// added or removed are one change each; their objects are not listed.
// An error from fn stops the comparison and is returned as is.
func Diff(ctx context.Context, oldPath, newPath string, fn func(Change) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	oldR := streamBuckets(ctx, oldPath)
	newR := streamBuckets(ctx, newPath)
	// Whether a bucket missing on the new side was removed depends on the
	// new snapshot's coverage, which comes after the buckets: read it first.
	newSum, err := ReadSummary(newPath)
	if err != nil {
		return fmt.Errorf("snapshot: diff: new: %w", err)
	}
	bucketsTrusted := newSum.Complete && newSum.Coverage.ListBucketsError == nil
	oldSum, err := ReadSummary(oldPath)
	if err != nil {
		return fmt.Errorf("snapshot: diff: old: %w", err)
	}

	d := differ{ctx: ctx, fn: fn}
	ob, err := d.next(oldR, "old")
	if err != nil {
		return err
	}
	nb, err := d.next(newR, "new")
	if err != nil {
		return err
	}
	for ob != nil || nb != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case nb == nil || (ob != nil && ob.Name < nb.Name):
			c := Change{Kind: BucketRemoved, Bucket: ob.Name, BucketBefore: header(ob)}
			if !bucketsTrusted {
				c.Kind, c.Note = BucketUnknown, "not in the new snapshot, which is incomplete or could not list buckets"
			}
			if err := fn(c); err != nil {
				return err
			}
			if ob, err = d.next(oldR, "old"); err != nil {
				return err
			}
		case ob == nil || nb.Name < ob.Name:
			if err := fn(Change{Kind: BucketAdded, Bucket: nb.Name, BucketAfter: header(nb)}); err != nil {
				return err
			}
			if nb, err = d.next(newR, "new"); err != nil {
				return err
			}
		default:
			if err := d.bucket(ob, nb); err != nil {
				return err
			}
			if ob, err = d.next(oldR, "old"); err != nil {
				return err
			}
			if nb, err = d.next(newR, "new"); err != nil {
				return err
			}
		}
	}
	return diffKeys(oldSum.Keys, newSum.Keys, fn)
}

// diffKeys compares the KMS keys of two snapshots by region and key id.
func diffKeys(olds, news []Key, fn func(Change) error) error {
	id := func(k *Key) string { return k.Region + "\x00" + k.KeyID }
	om := map[string]*Key{}
	for i := range olds {
		om[id(&olds[i])] = &olds[i]
	}
	nm := map[string]*Key{}
	var ids []string
	for i := range news {
		nm[id(&news[i])] = &news[i]
		ids = append(ids, id(&news[i]))
	}
	for k := range om {
		if nm[k] == nil {
			ids = append(ids, k)
		}
	}
	sort.Strings(ids)
	for _, k := range compactSorted(ids) {
		o, n := om[k], nm[k]
		var c *Change
		switch {
		case o == nil:
			c = &Change{Kind: KeyAdded, KeyAfter: n}
		case n == nil:
			c = &Change{Kind: KeyRemoved, KeyBefore: o, Note: "no longer referenced by any rule or object scanned"}
		case o.Error != nil || n.Error != nil:
			if o.Error != nil && n.Error != nil {
				continue
			}
			side, e := "old", o.Error
			if e == nil {
				side, e = "new", n.Error
			}
			c = &Change{Kind: KeyUnknown, KeyBefore: o, KeyAfter: n, Note: fmt.Sprintf("the key could not be described in the %s snapshot: %s", side, e.Message)}
		default:
			if fields := keyFieldsChanged(o, n); len(fields) > 0 {
				c = &Change{Kind: KeyChanged, KeyBefore: o, KeyAfter: n, Note: strings.Join(fields, "; ")}
			}
		}
		if c == nil {
			continue
		}
		if err := fn(*c); err != nil {
			return err
		}
	}
	return nil
}

// keyFieldsChanged names what changed about a key between two readings
// ("state Enabled -> Disabled").
func keyFieldsChanged(o, n *Key) []string {
	var out []string
	for _, f := range []struct{ name, a, b string }{
		{"state", o.State, n.State},
		{"missing", fmt.Sprint(o.Missing), fmt.Sprint(n.Missing)},
		{"automatic rotation", o.AutomaticRotation, n.AutomaticRotation},
		{"rotation interval", o.RotationInterval, n.RotationInterval},
		{"delete date", o.DeleteDate, n.DeleteDate},
		{"resolved key id", o.ResolvedKeyID, n.ResolvedKeyID},
		{"creator", o.Creator, n.Creator},
		{"origin", o.Origin, n.Origin},
	} {
		if f.a != f.b {
			out = append(out, fmt.Sprintf("%s %s -> %s", f.name, orNone(f.a), orNone(f.b)))
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

type differ struct {
	ctx     context.Context
	fn      func(Change) error
	last    map[string]string // side -> last bucket name
	started map[string]bool
}

// next reads the next bucket of one side and checks the name order the
// merge relies on.
func (d *differ) next(r *bucketStream, side string) (*Bucket, error) {
	b, err := r.next()
	if err != nil {
		return nil, fmt.Errorf("snapshot: diff: %s: %w", side, err)
	}
	if b == nil {
		return nil, nil
	}
	if d.last == nil {
		d.last, d.started = map[string]string{}, map[string]bool{}
	}
	if d.started[side] && b.Name <= d.last[side] {
		return nil, fmt.Errorf("snapshot: diff: %s: %s: bucket %q follows %q: buckets are not in ascending name order", side, r.path, b.Name, d.last[side])
	}
	d.started[side], d.last[side] = true, b.Name
	return b, nil
}

func header(b *Bucket) *Bucket {
	h := *b
	h.Objects = nil
	return &h
}

func ruleEqual(a, b *Rule) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return strings.EqualFold(a.Algorithm, b.Algorithm) && a.KMSMasterKeyID == b.KMSMasterKeyID &&
		a.KMSDataEncryption == b.KMSDataEncryption && a.Method == b.Method
}

func (d *differ) bucket(ob, nb *Bucket) error {
	switch {
	case ob.EncryptionError != nil || nb.EncryptionError != nil:
		side, e := "old", ob.EncryptionError
		if e == nil {
			side, e = "new", nb.EncryptionError
		}
		c := Change{Kind: RuleUnknown, Bucket: nb.Name, BucketBefore: header(ob), BucketAfter: header(nb), RuleBefore: ob.Encryption, RuleAfter: nb.Encryption,
			Note: fmt.Sprintf("the rule could not be read in the %s snapshot: %s", side, e.Message)}
		if err := d.fn(c); err != nil {
			return err
		}
	case !ruleEqual(ob.Encryption, nb.Encryption):
		if err := d.fn(Change{Kind: RuleChanged, Bucket: nb.Name, BucketBefore: header(ob), BucketAfter: header(nb), RuleBefore: ob.Encryption, RuleAfter: nb.Encryption}); err != nil {
			return err
		}
	}
	switch {
	case ob.VersioningError != nil || nb.VersioningError != nil:
		if ob.VersioningError == nil || nb.VersioningError == nil {
			side, e := "old", ob.VersioningError
			if e == nil {
				side, e = "new", nb.VersioningError
			}
			if err := d.fn(Change{Kind: VersioningUnknown, Bucket: nb.Name, BucketBefore: header(ob), BucketAfter: header(nb),
				Note: fmt.Sprintf("versioning could not be read in the %s snapshot: %s", side, e.Message)}); err != nil {
				return err
			}
		}
	case ob.Versioning != nb.Versioning:
		if err := d.fn(Change{Kind: VersioningChanged, Bucket: nb.Name, BucketBefore: header(ob), BucketAfter: header(nb)}); err != nil {
			return err
		}
	}
	// The diff is of current objects: noncurrent versions (scan
	// --versions) would otherwise stand in for their key.
	olds := make(map[string]*Object, len(ob.Objects))
	for i := range ob.Objects {
		if ob.Objects[i].Noncurrent {
			continue
		}
		olds[ob.Objects[i].Key] = &ob.Objects[i]
	}
	news := make(map[string]*Object, len(nb.Objects))
	keys := make([]string, 0, len(ob.Objects)+len(nb.Objects))
	for i := range nb.Objects {
		if nb.Objects[i].Noncurrent {
			continue
		}
		news[nb.Objects[i].Key] = &nb.Objects[i]
		keys = append(keys, nb.Objects[i].Key)
	}
	for k := range olds {
		if news[k] == nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	keys = compactSorted(keys)
	oldFull, newFull := ob.ListError == nil, nb.ListError == nil
	for i, k := range keys {
		if i%4096 == 0 {
			if err := d.ctx.Err(); err != nil {
				return err
			}
		}
		o, n := olds[k], news[k]
		var c *Change
		switch {
		case o == nil:
			c = &Change{Kind: ObjectAdded, After: n}
			if !oldFull {
				c.Kind, c.Note = ObjectUnknown, "not in the old snapshot, whose listing of the bucket was incomplete"
			}
		case n == nil:
			c = &Change{Kind: ObjectRemoved, Before: o}
			if !newFull {
				c.Kind, c.Note = ObjectUnknown, "not in the new snapshot, whose listing of the bucket was incomplete"
			}
		case o.Error != nil || n.Error != nil:
			side, e := "old", o.Error
			if e == nil {
				side, e = "new", n.Error
			}
			c = &Change{Kind: ObjectUnknown, Before: o, After: n, Note: fmt.Sprintf("the object could not be inspected in the %s snapshot: %s", side, e.Message)}
		default:
			sameETag := strings.EqualFold(o.ETag, n.ETag)
			sameLM := o.LastModified.Equal(n.LastModified)
			switch {
			case !strings.EqualFold(o.SSE, n.SSE) || !SameKey(o.KMSKeyID, n.KMSKeyID) || o.DataEncryption != n.DataEncryption:
				c = &Change{Kind: ObjectEncryptionChanged, Before: o, After: n, SameETag: sameETag, SameLastModified: sameLM}
			case !sameETag || !sameLM || o.Size != n.Size:
				c = &Change{Kind: ObjectContentChanged, Before: o, After: n, SameETag: sameETag, SameLastModified: sameLM}
			}
		}
		if c == nil {
			continue
		}
		c.Bucket, c.Key = nb.Name, k
		if err := d.fn(*c); err != nil {
			return err
		}
	}
	return nil
}

func compactSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// bucketStream yields the buckets of one snapshot, with their objects, one
// at a time: EachBucket runs in a goroutine and hands each bucket over, so
// two snapshots can be merged with memory bounded by a bucket per side.
type bucketStream struct {
	path string
	ch   chan *Bucket
	err  chan error
	done bool
}

func streamBuckets(ctx context.Context, path string) *bucketStream {
	r := &bucketStream{path: path, ch: make(chan *Bucket), err: make(chan error, 1)}
	go func() {
		defer close(r.ch)
		r.err <- EachBucket(path, func(b Bucket) error {
			select {
			case r.ch <- &b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return r
}

// next returns the next bucket, or nil once the whole document has been
// read and validated.
func (r *bucketStream) next() (*Bucket, error) {
	if r.done {
		return nil, nil
	}
	if b, ok := <-r.ch; ok {
		return b, nil
	}
	r.done = true
	return nil, <-r.err
}
