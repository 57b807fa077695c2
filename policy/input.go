package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/sseaudit/sseaudit/history"
	"github.com/sseaudit/sseaudit/snapshot"
)

// HistoryLookup answers questions about earlier scans; *history.DB
// implements it. Methods are called from several goroutines at once.
type HistoryLookup interface {
	// RuleFirstSeen returns when the bucket's last observed default rule
	// was first observed on the target, and that rule (Method none for no
	// rule); ok is false when no scan ever read the bucket's rule. When the
	// rule is the bucket's current one, its first sighting becomes
	// input.rule_first_seen.
	RuleFirstSeen(targetKey, bucket string) (first time.Time, rule snapshot.Rule, ok bool, err error)
	// FirstSeen returns when each finding id was first reported; ids never
	// recorded are absent.
	FirstSeen(ids []string) (map[string]time.Time, error)
}

var _ HistoryLookup = (*history.DB)(nil)

// sameRule compares default rules as history does (Raw aside).
func sameRule(a, b snapshot.Rule) bool {
	return a.Method == b.Method && a.Algorithm == b.Algorithm && a.KMSMasterKeyID == b.KMSMasterKeyID && a.KMSDataEncryption == b.KMSDataEncryption
}

// scanEnv holds what every evaluation of one snapshot shares, as AST terms
// built once.
type scanEnv struct {
	sum       *snapshot.Summary
	prevSum   *snapshot.Summary
	hist      HistoryLookup
	provider  string // oss or s3
	targetKey string // history's key for the target
	scanUID   string
	scanID    string
	seen      time.Time // last seen time of this scan's findings

	provTerm     *ast.Term
	profileTerm  *ast.Term
	prevScanTerm *ast.Term

	noIndex bool // tests: leave input.index out (the policies compute it)

	// checkCounts: the summary was read without decoding the objects
	// (snapshot.ReadHeaders), so each bucket's counts are held to its
	// objects as they are delivered (endBucket), as snapshot.ReadSummary
	// holds them. objectKeyIDs are the objects' distinct KMS key
	// references in file order (what ReadSummary's ObjectKeyIDs holds),
	// gathered by the deliverer.
	checkCounts  bool
	path         string // the snapshot, for errors
	objectKeys   map[string]bool
	objectKeyIDs []string

	mu           sync.Mutex
	keysAll      *ast.Term
	keysByRegion map[string]*ast.Term
}

func (e *Engine) newScanEnv(sum, prevSum *snapshot.Summary, hist HistoryLookup) (*scanEnv, error) {
	env := &scanEnv{sum: sum, prevSum: prevSum, hist: hist, keysByRegion: map[string]*ast.Term{}}
	env.provider = "oss"
	if sum.Provenance.Target.Dialect == "s3" {
		env.provider = "s3"
	}
	env.scanID = sum.Provenance.ScanID
	env.targetKey = history.TargetKey(sum.Provenance.Target)
	env.scanUID = "scan://" + sum.Provenance.Target.Kind + "/" + sum.Provenance.Target.Endpoint
	env.seen = sum.FinishedAt
	if env.seen.IsZero() {
		env.seen = sum.Provenance.StartedAt
	}
	if env.seen.IsZero() {
		env.seen = e.now()
	}
	var err error
	if env.provTerm, err = jsonTerm(sum.Provenance); err != nil {
		return nil, err
	}
	p := e.profile
	if env.profileTerm, err = jsonTerm(map[string]any{
		"name":                 p.Name,
		"allowed_methods":      nonNil(p.AllowedMethods),
		"require_customer_cmk": p.RequireCustomerCMK,
		"allowed_cmk_ids":      nonNil(p.AllowedCMKIDs),
		"allowed_algorithms":   nonNil(p.AllowedAlgorithms),
		"max_rotation_days":    p.MaxRotationDays,
	}); err != nil {
		return nil, err
	}
	env.prevScanTerm = ast.NullTerm()
	if prevSum != nil {
		if env.prevScanTerm, err = jsonTerm(map[string]any{
			"scan_id":     prevSum.Provenance.ScanID,
			"started_at":  prevSum.Provenance.StartedAt,
			"finished_at": prevSum.FinishedAt,
			"complete":    prevSum.Complete,
		}); err != nil {
			return nil, err
		}
	}
	if env.keysAll, err = keysObject(sum.Keys, ""); err != nil {
		return nil, err
	}
	return env, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// keysFor is input.keys for a bucket in region: every key by its id, ARN
// and resolved id, preferring the record of the bucket's region (a key
// recorded missing there is missing for the bucket, whatever other regions
// say).
func (env *scanEnv) keysFor(region string) (*ast.Term, error) {
	if region == "" {
		return env.keysAll, nil
	}
	env.mu.Lock()
	defer env.mu.Unlock()
	if t, ok := env.keysByRegion[region]; ok {
		return t, nil
	}
	t, err := keysObject(env.sum.Keys, region)
	if err != nil {
		return nil, err
	}
	env.keysByRegion[region] = t
	return t, nil
}

func keysObject(keys []snapshot.Key, region string) (*ast.Term, error) {
	type cand struct {
		score int
		term  *ast.Term
	}
	best := map[string]cand{}
	var order []string
	for i := range keys {
		k := &keys[i]
		t, err := jsonTerm(k)
		if err != nil {
			return nil, err
		}
		score := 0
		if region != "" && k.Region == region {
			score += 2
		}
		if !k.Missing && k.Error == nil {
			score++
		}
		for _, id := range []string{k.KeyID, k.Arn, k.ResolvedKeyID} {
			if id == "" {
				continue
			}
			c, ok := best[id]
			if !ok {
				order = append(order, id)
			}
			if !ok || score > c.score {
				best[id] = cand{score, t}
			}
		}
	}
	obj := ast.NewObjectWithCapacity(len(best))
	for _, id := range order {
		obj.Insert(ast.StringTerm(id), best[id].term)
	}
	return ast.NewTerm(obj), nil
}

// jsonTerm converts a value to AST the way encoding/json would marshal it.
func jsonTerm(v any) (*ast.Term, error) {
	val, err := ast.InterfaceToValue(v)
	if err != nil {
		return nil, fmt.Errorf("policy: input: %w", err)
	}
	return ast.NewTerm(val), nil
}

// bucketHeader is a bucket without its objects, as JSON.
func bucketHeader(b *snapshot.Bucket) (ast.Object, error) {
	h := *b
	h.Objects = nil
	v, err := ast.InterfaceToValue(h)
	if err != nil {
		return nil, fmt.Errorf("policy: bucket %q: %w", b.Name, err)
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("policy: bucket %q: not an object", b.Name)
	}
	return obj, nil
}

// stateFields are what sameState compares (the drift index).
var stateFields = []*ast.Term{tETag, tLastModified, tSize, tStorageClass, tMethod, tSSE, tKMSKeyID, tDataEncryption}

// sameState reports whether two records of an object agree on content and
// encryption (absent fields count as ""), as lib.object_state in Rego.
func sameState(a, b ast.Object) bool {
	for _, f := range stateFields {
		x, y := a.Get(f), b.Get(f)
		if x == y {
			continue
		}
		if x == nil {
			x = common[""]
		}
		if y == nil {
			y = common[""]
		}
		if x.Value.Compare(y.Value) != 0 {
			return false
		}
	}
	return true
}

// objectIndex is input.index: positions of objects in the bucket's objects
// array by method, by KMS key id, of those with no (string) method, of
// those with an error and, with a previous snapshot, of those whose state
// changed since.
func objectIndex(objs []*ast.Term, changed []*ast.Term) *ast.Term {
	byMethod := map[string][]*ast.Term{}
	byKey := map[string][]*ast.Term{}
	var mOrder, kOrder []string
	failed := []*ast.Term{}
	noMethod := []*ast.Term{}
	for i, o := range objs {
		oo := o.Value.(ast.Object)
		pos := posTerm(i)
		if s, ok := methodOf(oo); ok {
			if _, seen := byMethod[s]; !seen {
				mOrder = append(mOrder, s)
			}
			byMethod[s] = append(byMethod[s], pos)
		} else {
			noMethod = append(noMethod, pos)
		}
		if k := oo.Get(tKMSKeyID); k != nil {
			if s, ok := k.Value.(ast.String); ok {
				if _, seen := byKey[string(s)]; !seen {
					kOrder = append(kOrder, string(s))
				}
				byKey[string(s)] = append(byKey[string(s)], pos)
			}
		}
		if e := oo.Get(tError); e != nil {
			if _, null := e.Value.(ast.Null); !null {
				failed = append(failed, pos)
			}
		}
	}
	group := func(order []string, m map[string][]*ast.Term) *ast.Term {
		obj := ast.NewObjectWithCapacity(len(order))
		for _, k := range order {
			obj.Insert(str(k), ast.NewTerm(ast.NewArray(m[k]...)))
		}
		return ast.NewTerm(obj)
	}
	ch := ast.NullTerm()
	if changed != nil {
		ch = ast.NewTerm(ast.NewArray(changed...))
	}
	return ast.NewTerm(ast.NewObject(
		[2]*ast.Term{tByMethod, group(mOrder, byMethod)},
		[2]*ast.Term{tByKMSKey, group(kOrder, byKey)},
		[2]*ast.Term{tFailed, ast.NewTerm(ast.NewArray(failed...))},
		[2]*ast.Term{tChanged, ch},
		[2]*ast.Term{tNoMethod, ast.NewTerm(ast.NewArray(noMethod...))},
	))
}

// methodOf is an object's method, if it has one that is a string.
func methodOf(o ast.Object) (string, bool) {
	m := o.Get(tMethod)
	if m == nil {
		return "", false
	}
	s, ok := m.Value.(ast.String)
	return string(s), ok
}

// posTerms caches position terms (index entries).
var posTerms = func() []*ast.Term {
	ts := make([]*ast.Term, 4096)
	for i := range ts {
		ts[i] = ast.IntNumberTerm(i)
	}
	return ts
}()

func posTerm(i int) *ast.Term {
	if i < len(posTerms) {
		return posTerms[i]
	}
	return ast.IntNumberTerm(i)
}

// scanDoc is input.scan.
type scanDoc struct {
	Schema     string              `json:"schema"`
	Provenance snapshot.Provenance `json:"provenance"`
	Coverage   snapshot.Coverage   `json:"coverage"`
	FinishedAt time.Time           `json:"finished_at"`
	Complete   bool                `json:"complete"`
	Keys       []snapshot.Key      `json:"keys"`
	// What the built-in scan rules need to know about the buckets,
	// bounded by the keys and the coverage errors, not by the buckets:
	// the distinct KMS key references the bucket defaults name, and the
	// resources of the bucket-scope coverage errors that are buckets of
	// the snapshot.
	DefaultKMSKeyIDs  []string `json:"default_kms_key_ids"`
	KnownErrorBuckets []string `json:"known_error_buckets"`
}

// scanInput builds the input of the scan-level evaluation. withBuckets
// adds input.scan.buckets, every bucket without its objects: only user
// scan rules get it (it is their documented input), because its terms
// cost about 1.2 KB a bucket (100,000 buckets: 120 MB), and the built-in
// rules read the bounded default_kms_key_ids and known_error_buckets
// instead.
func (env *scanEnv) scanInput(withBuckets bool) (ast.Value, error) {
	s := env.sum
	d := scanDoc{Schema: s.Schema, Provenance: s.Provenance, Coverage: s.Coverage, FinishedAt: s.FinishedAt, Complete: s.Complete, Keys: s.Keys}
	if d.Keys == nil {
		d.Keys = []snapshot.Key{}
	}
	if d.Coverage.Errors == nil {
		d.Coverage.Errors = []snapshot.Error{}
	}
	d.DefaultKMSKeyIDs, d.KnownErrorBuckets = bucketFacts(s)
	st, err := jsonTerm(d)
	if err != nil {
		return nil, err
	}
	if withBuckets {
		// The buckets are converted one at a time (the same terms as the
		// whole document's conversion gives): converting them at once
		// held the estate three times over, as JSON, as Go values and as
		// terms (100,000 buckets: 130 MB).
		bs := make([]*ast.Term, len(s.Buckets))
		for i := range s.Buckets {
			h, err := bucketHeader(&s.Buckets[i])
			if err != nil {
				return nil, err
			}
			bs[i] = ast.NewTerm(h)
		}
		doc, ok := st.Value.(ast.Object)
		if !ok {
			return nil, fmt.Errorf("policy: input.scan is not an object")
		}
		doc.Insert(tBuckets, ast.ArrayTerm(bs...))
	}
	return ast.NewObject(
		[2]*ast.Term{ast.StringTerm("scan"), st},
		[2]*ast.Term{tKeys, env.keysAll},
		[2]*ast.Term{tProfile, env.profileTerm},
		[2]*ast.Term{tProvenance, env.provTerm},
	), nil
}

// bucketFacts returns input.scan's default_kms_key_ids (the distinct KMS
// key references of the bucket defaults, sorted) and known_error_buckets
// (the distinct resources of bucket-scope coverage errors that name a
// bucket of the snapshot, sorted): what the built-in scan rules read of
// the buckets, never an array per bucket.
func bucketFacts(s *snapshot.Summary) (keyIDs, known []string) {
	errored := map[string]bool{}
	for _, e := range s.Coverage.Errors {
		if e.Scope == "bucket" {
			errored[e.Resource] = false
		}
	}
	refs := map[string]bool{}
	for i := range s.Buckets {
		b := &s.Buckets[i]
		if b.Encryption != nil && b.Encryption.KMSMasterKeyID != "" {
			refs[b.Encryption.KMSMasterKeyID] = true
		}
		if _, ok := errored[b.Name]; ok {
			errored[b.Name] = true
		}
	}
	keyIDs = make([]string, 0, len(refs))
	for r := range refs {
		keyIDs = append(keyIDs, r)
	}
	known = []string{}
	for name, isBucket := range errored {
		if isBucket {
			known = append(known, name)
		}
	}
	slices.Sort(keyIDs)
	slices.Sort(known)
	return keyIDs, known
}

// Shared key terms (AST terms are immutable during evaluation).
var (
	tBucket        = ast.StringTerm("bucket")
	tBuckets       = ast.StringTerm("buckets")
	tKeys          = ast.StringTerm("keys")
	tPrevious      = ast.StringTerm("previous")
	tPreviousScan  = ast.StringTerm("previous_scan")
	tRuleFirstSeen = ast.StringTerm("rule_first_seen")
	tProfile       = ast.StringTerm("profile")
	tProvenance    = ast.StringTerm("provenance")
	tObjects       = ast.StringTerm("objects")
	tName          = ast.StringTerm("name")
	tIndex         = ast.StringTerm("index")
	tByMethod      = ast.StringTerm("by_method")
	tByKMSKey      = ast.StringTerm("by_kms_key")
	tFailed        = ast.StringTerm("failed")
	tChanged       = ast.StringTerm("changed")
	tNoMethod      = ast.StringTerm("no_method")

	tKey            = ast.StringTerm("key")
	tSize           = ast.StringTerm("size")
	tETag           = ast.StringTerm("etag")
	tLastModified   = ast.StringTerm("last_modified")
	tVersionID      = ast.StringTerm("version_id")
	tNoncurrent     = ast.StringTerm("noncurrent")
	tStorageClass   = ast.StringTerm("storage_class")
	tSSE            = ast.StringTerm("sse")
	tKMSKeyID       = ast.StringTerm("kms_key_id")
	tMethod         = ast.StringTerm("method")
	tError          = ast.StringTerm("error")
	tDataEncryption = ast.StringTerm("data_encryption")
	tAttempts       = ast.StringTerm("attempts")
	tReadProbed     = ast.StringTerm("read_probed")
	tReadError      = ast.StringTerm("read_error")

	tScope      = ast.StringTerm("scope")
	tResource   = ast.StringTerm("resource")
	tStatusCode = ast.StringTerm("status_code")
	tCode       = ast.StringTerm("code")
	tMessage    = ast.StringTerm("message")
)

// sharedKeys maps member names to the shared terms above.
var sharedKeys = map[string]*ast.Term{
	"bucket": tBucket, "keys": tKeys, "objects": tObjects, "key": tKey, "size": tSize, "etag": tETag,
	"last_modified": tLastModified, "version_id": tVersionID, "storage_class": tStorageClass, "sse": tSSE,
	"kms_key_id": tKMSKeyID, "method": tMethod, "error": tError, "data_encryption": tDataEncryption,
	"attempts": tAttempts, "noncurrent": tNoncurrent, "scope": tScope, "resource": tResource, "status_code": tStatusCode, "code": tCode,
	"message": tMessage, "name": tName, "read_probed": tReadProbed, "read_error": tReadError,
}

// common holds terms for frequent values (methods, SSE headers, storage
// classes), so a million objects do not allocate them a million times.
var common = func() map[string]*ast.Term {
	m := map[string]*ast.Term{}
	for _, s := range []string{
		"", snapshot.MethodNone, snapshot.MethodOSSManaged, snapshot.MethodKMSDefault, snapshot.MethodKMSCMK, snapshot.MethodSSEC, snapshot.MethodOther,
		"AES256", "KMS", "SM4", "SSE-C", "aws:kms", "aws:kms:dsse",
		"Standard", "STANDARD", "IA", "Archive", "ColdArchive", "STANDARD_IA", "GLACIER",
	} {
		m[s] = ast.StringTerm(s)
	}
	return m
}()

func str(s string) *ast.Term {
	if t, ok := common[s]; ok {
		return t
	}
	return ast.StringTerm(s)
}

// objectTerm converts an Object exactly as encoding/json marshals it
// (omitempty fields left out), without reflection.
func objectTerm(o *snapshot.Object) *ast.Term {
	var kv [16][2]*ast.Term
	n := 0
	add := func(k, v *ast.Term) { kv[n] = [2]*ast.Term{k, v}; n++ }
	add(tBucket, str(o.Bucket))
	add(tKey, ast.StringTerm(o.Key))
	add(tSize, ast.NewTerm(ast.Number(strconv.FormatInt(o.Size, 10))))
	add(tETag, ast.StringTerm(o.ETag))
	add(tLastModified, ast.StringTerm(o.LastModified.Format(time.RFC3339Nano)))
	if o.VersionID != "" {
		add(tVersionID, ast.StringTerm(o.VersionID))
	}
	if o.Noncurrent {
		add(tNoncurrent, ast.BooleanTerm(true))
	}
	if o.StorageClass != "" {
		add(tStorageClass, str(o.StorageClass))
	}
	add(tSSE, str(o.SSE))
	if o.KMSKeyID != "" {
		add(tKMSKeyID, str(o.KMSKeyID))
	}
	add(tMethod, str(o.Method))
	if o.Error != nil {
		add(tError, errorTerm(o.Error))
	}
	if o.DataEncryption != "" {
		add(tDataEncryption, str(o.DataEncryption))
	}
	if o.Attempts != 0 {
		add(tAttempts, ast.IntNumberTerm(o.Attempts))
	}
	if o.ReadProbed {
		add(tReadProbed, ast.BooleanTerm(true))
	}
	if o.ReadError != nil {
		add(tReadError, errorTerm(o.ReadError))
	}
	return ast.NewTerm(ast.NewObject(kv[:n]...))
}

func errorTerm(e *snapshot.Error) *ast.Term {
	var kv [6][2]*ast.Term
	n := 0
	add := func(k, v *ast.Term) { kv[n] = [2]*ast.Term{k, v}; n++ }
	add(tScope, str(e.Scope))
	add(tResource, ast.StringTerm(e.Resource))
	if e.StatusCode != 0 {
		add(tStatusCode, ast.IntNumberTerm(e.StatusCode))
	}
	if e.Code != "" {
		add(tCode, ast.StringTerm(e.Code))
	}
	add(tMessage, ast.StringTerm(e.Message))
	if e.Attempts != 0 {
		add(tAttempts, ast.IntNumberTerm(e.Attempts))
	}
	return ast.NewTerm(ast.NewObject(kv[:n]...))
}

// objectMemberTerms are the members an object of the snapshot format has,
// as terms (required ones first); built once, never changed.
var objectMemberTerms, objectRequiredCount = func() (map[string]*ast.Term, int) {
	req, opt := snapshot.ObjectMembers()
	m := map[string]*ast.Term{}
	for _, n := range append(req, opt...) {
		m[n] = ast.StringTerm(n)
	}
	return m, len(req)
}()

// checkObjectTerm holds a parsed object to the format, as the struct
// reader does: every required member present, no unknown member.
func checkObjectTerm(o ast.Object) error {
	if err := snapshot.CheckObjectMembers(func(m string) bool { return o.Get(objectMemberTerms[m]) != nil }); err != nil {
		return err
	}
	if o.Len() != objectRequiredCount {
		if err := checkObjectMembersKnown(o); err != nil {
			return err
		}
	}
	return checkObjectValues(o)
}

// checkObjectMembersKnown: every member of o is one of the format's.
func checkObjectMembersKnown(o ast.Object) error {
	var unknown error
	o.Until(func(k, _ *ast.Term) bool {
		s, ok := k.Value.(ast.String)
		if _, known := objectMemberTerms[string(s)]; !ok || !known {
			unknown = fmt.Errorf("unknown member %v", k)
			return true
		}
		return false
	})
	return unknown
}

// objectMemberKinds are the kinds of the objects' members (see
// checkObjectValues); never changed.
var objectMemberKinds = snapshot.ObjectMemberKinds()

// checkObjectValues holds a parsed object's member values to the format as
// snapshot.ReadSummary's decoding does, so that a snapshot read with
// snapshot.ReadHeaders (the engine's fast path, and the pipeline's) is held
// to the same format without a second decoding of every object. The rare
// object with an error member or a null is checked by snapshot.CheckObject
// itself.
func checkObjectValues(o ast.Object) error {
	var err error
	slow := false
	o.Until(func(k, v *ast.Term) bool {
		name := string(k.Value.(ast.String)) // checkObjectTerm: strings only
		kind := objectMemberKinds[name]
		if _, null := v.Value.(ast.Null); null || kind == snapshot.KindError {
			slow = true
			return true
		}
		want := ""
		switch kind {
		case snapshot.KindString:
			if _, ok := v.Value.(ast.String); !ok {
				want = "a string"
			}
		case snapshot.KindBool:
			if _, ok := v.Value.(ast.Boolean); !ok {
				want = "true or false"
			}
		case snapshot.KindInt:
			n, ok := v.Value.(ast.Number)
			if !ok {
				want = "an integer"
				break
			}
			i, perr := strconv.ParseInt(string(n), 10, 64)
			if perr != nil {
				want = "an integer"
			} else if i < 0 && name == "size" {
				err = fmt.Errorf("negative size %d", i)
				return true
			}
		case snapshot.KindTime:
			s, ok := v.Value.(ast.String)
			if !ok {
				want = "an RFC 3339 time"
			} else if terr := snapshot.CheckTime(string(s)); terr != nil {
				err = fmt.Errorf("member %q: %v", name, terr)
				return true
			}
		}
		if want != "" {
			err = fmt.Errorf("member %q is %v, want %s", name, v, want)
			return true
		}
		return false
	})
	if err != nil || !slow {
		return err
	}
	v, err := ast.JSON(o)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b, _ := o.Get(tBucket).Value.(ast.String)
	return snapshot.CheckObject(raw, string(b))
}
