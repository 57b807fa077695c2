package reports

import (
	"sort"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/snapshot"
)

// judge decides, bucket by bucket, what Compliance counts and which KMS
// keys a bucket uses, from the open findings and the snapshot's keys.
type judge struct {
	// keys by region and id, and by any name a key answers to (its id as
	// referenced, the id KMS resolved, its ARN) when the region differs.
	keys   map[[2]string]*snapshot.Key
	byName map[string]*snapshot.Key

	// Worst open finding at or above ComplianceThreshold...
	objOpen    map[objRef]findings.Severity // ...on an object (version "" = any version)
	bucketOpen map[string]findings.Severity // ...on a bucket or any of its objects
	keyOpen    map[string]findings.Severity // ...on a key, by key id
	// Worst open finding of any severity, for a bucket's colour.
	bucketWorst map[string]findings.Severity // on a bucket or its objects
	keyWorst    map[string]findings.Severity // on a key
	// byBucket are the objects aggregated findings name that would
	// otherwise count as compliant (see findings.FlaggedKey), by bucket.
	byBucket map[string][]flaggedObjects
}

type flaggedObjects struct {
	key   findings.FlaggedKey
	count findings.FlaggedCount
}

// flagged takes in the aggregated findings' objects (see ModelInput).
func (j *judge) flagged(m map[findings.FlaggedKey]findings.FlaggedCount) {
	j.byBucket = map[string][]flaggedObjects{}
	for k, c := range m {
		if !k.Worst.AtLeast(ComplianceThreshold) {
			continue
		}
		j.byBucket[k.Bucket] = append(j.byBucket[k.Bucket], flaggedObjects{k, c})
	}
}

type objRef struct{ bucket, key, version string }

// newJudgeOf builds the judge over a document's findings, in memory or
// spilled (its error is one reading them back).
func newJudgeOf(d *findings.Document, keys []snapshot.Key) (*judge, error) {
	j := &judge{
		keys: map[[2]string]*snapshot.Key{}, byName: map[string]*snapshot.Key{},
		objOpen: map[objRef]findings.Severity{}, bucketOpen: map[string]findings.Severity{},
		keyOpen: map[string]findings.Severity{}, bucketWorst: map[string]findings.Severity{},
		keyWorst: map[string]findings.Severity{},
	}
	for i := range keys {
		k := &keys[i]
		j.keys[[2]string{k.Region, k.KeyID}] = k
		for _, n := range []string{k.KeyID, k.ResolvedKeyID, k.Arn} {
			if _, dup := j.byName[n]; n != "" && !dup {
				j.byName[n] = k
			}
		}
	}
	err := d.Each(func(f *findings.Finding) error {
		j.addFinding(f)
		return nil
	})
	return j, err
}

func (j *judge) addFinding(f *findings.Finding) {
	raise := func(m map[string]findings.Severity, k string, s findings.Severity) {
		if s > m[k] {
			m[k] = s
		}
	}
	if f.Suppressed || !f.Severity.Valid() {
		return
	}
	blocking := f.Severity.AtLeast(ComplianceThreshold)
	r := &f.Resource
	switch r.Type {
	case findings.ResourceBucket, findings.ResourceObject, findings.ResourceObjects:
		if r.Bucket == "" {
			return
		}
		raise(j.bucketWorst, r.Bucket, f.Severity)
		if !blocking {
			return
		}
		raise(j.bucketOpen, r.Bucket, f.Severity)
		if r.Type == findings.ResourceObject {
			ref := objRef{r.Bucket, r.Key, r.VersionID}
			if f.Severity > j.objOpen[ref] {
				j.objOpen[ref] = f.Severity
			}
		}
	case findings.ResourceKey:
		if r.KMSKeyID == "" {
			return
		}
		raise(j.keyWorst, r.KMSKeyID, f.Severity)
		if blocking {
			raise(j.keyOpen, r.KMSKeyID, f.Severity)
		}
	}
}

// key finds the snapshot's record of the key a bucket in region names id.
func (j *judge) key(region, id string) *snapshot.Key {
	if k := j.keys[[2]string{region, id}]; k != nil {
		return k
	}
	return j.byName[id]
}

// keyState is what the report says of k's state.
func keyState(k *snapshot.Key) string {
	switch {
	case k == nil, k.Error != nil:
		return KeyStateUnknown
	case k.Missing:
		return KeyStateMissing
	case k.State == "":
		return KeyStateUnknown
	}
	return k.State
}

// keyFindings is the worst open finding (in m) on the key named id.
func (j *judge) keyFindings(m map[string]findings.Severity, id string, k *snapshot.Key) findings.Severity {
	s := m[id]
	if k != nil {
		for _, n := range []string{k.KeyID, k.ResolvedKeyID} {
			if n != "" && m[n] > s {
				s = m[n]
			}
		}
	}
	return s
}

// keyOK: the key named id in region was described as Enabled and no open
// finding at or above the threshold is held against it.
func (j *judge) keyOK(region, id string) bool {
	k := j.key(region, id)
	return keyState(k) == "Enabled" && j.keyFindings(j.keyOpen, id, k) == 0
}

// judgedBucket is what the judge keeps of a bucket while its objects
// stream past.
type judgedBucket struct {
	uses         map[string]*BucketKey
	defaultKeyOK bool
}

// startBucket begins judging b (its header).
func (j *judge) startBucket(b *snapshot.Bucket) *judgedBucket {
	jb := &judgedBucket{uses: map[string]*BucketKey{}, defaultKeyOK: true}
	if r := b.Encryption; r != nil && r.KMSMasterKeyID != "" {
		j.use(jb, b.Region, r.KMSMasterKeyID).Default = true
		jb.defaultKeyOK = j.keyOK(b.Region, r.KMSMasterKeyID)
	}
	return jb
}

// use is the bucket's record of the KMS key it names id.
func (j *judge) use(jb *judgedBucket, region, id string) *BucketKey {
	if u := jb.uses[id]; u != nil {
		return u
	}
	k := j.key(region, id)
	u := &BucketKey{KeyID: id, State: keyState(k)}
	if k != nil {
		u.Region, u.ServiceKey = k.Region, k.ServiceKey
	}
	jb.uses[id] = u
	return u
}

// object counts one object of the bucket into st's compliance counts.
func (j *judge) object(jb *judgedBucket, st *BucketStat, o *snapshot.Object) {
	if o.Noncurrent {
		return
	}
	st.Bytes += o.Size
	if o.KMSKeyID != "" {
		j.use(jb, st.Region, o.KMSKeyID).Objects++
	}
	if j.objectCompliant(st.Name, st.Region, o) {
		st.ObjectsCompliant++
		st.BytesCompliant += o.Size
	}
}

// finishBucket fills st's keys and worst open severity and whether the
// bucket (its header b) is compliant, once its objects are counted.
func (j *judge) finishBucket(jb *judgedBucket, b *snapshot.Bucket, st *BucketStat) {
	region := b.Region
	// Objects an open aggregated finding names were counted above when
	// they are otherwise compliant (encrypted, read, under a usable key):
	// take them out again.
	for _, fo := range j.byBucket[b.Name] {
		if fo.key.KMSKeyID == "" || j.keyOK(region, fo.key.KMSKeyID) {
			st.ObjectsCompliant -= fo.count.Objects
			st.BytesCompliant -= fo.count.Bytes
		}
	}
	worst := j.bucketWorst[b.Name]
	for id := range jb.uses {
		if s := j.keyFindings(j.keyWorst, id, j.key(region, id)); s > worst {
			worst = s
		}
		st.Keys = append(st.Keys, *jb.uses[id])
	}
	sort.Slice(st.Keys, func(a, c int) bool {
		x, y := &st.Keys[a], &st.Keys[c]
		if x.Default != y.Default {
			return x.Default
		}
		if x.Objects != y.Objects {
			return x.Objects > y.Objects
		}
		return x.KeyID < y.KeyID
	})
	st.WorstOpen = worst.String()

	method := st.DefaultMethod
	st.Compliant = b.EncryptionError == nil && b.ListError == nil && b.RegionError == nil &&
		b.Encryption != nil && method != snapshot.MethodNone && method != snapshot.MethodUnknown &&
		jb.defaultKeyOK && j.bucketOpen[b.Name] == 0 && st.ObjectsCompliant == st.Objects
}

// objectCompliant: see Compliance (o is an object of bucket in region).
func (j *judge) objectCompliant(bucket, region string, o *snapshot.Object) bool {
	switch o.Method {
	case "", snapshot.MethodUnknown, snapshot.MethodNone:
		return false
	}
	if o.Error != nil {
		return false
	}
	if j.objOpen[objRef{bucket, o.Key, o.VersionID}] != 0 || j.objOpen[objRef{bucket, o.Key, ""}] != 0 {
		return false
	}
	return o.KMSKeyID == "" || j.keyOK(region, o.KMSKeyID)
}

// add counts one bucket.
func (c *Compliance) add(st *BucketStat) {
	c.Buckets++
	if st.Compliant {
		c.BucketsCompliant++
	}
	c.Objects += st.Objects
	c.ObjectsCompliant += st.ObjectsCompliant
	c.Bytes += st.Bytes
	c.BytesCompliant += st.BytesCompliant
}
