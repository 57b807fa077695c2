package kms

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/sseaudit/sseaudit/reference/faults"
	"github.com/sseaudit/sseaudit/reference/statefile"

	"github.com/sseaudit/sseaudit/reference/clock"
	"github.com/sseaudit/sseaudit/reference/rootkey"
)

// DefaultAccount is the Alibaba Cloud account ID used in ARNs and as the
// Creator of customer keys when Config.Account is empty.
const DefaultAccount = "1234567890123456"

// KeystoreFile is the name of the keystore inside Config.Dir.
const KeystoreFile = "keystore.json"

// Config configures an Emulator.
type Config struct {
	Dir      string       // keystore directory; "" = memory only (tests)
	RootKey  *rootkey.Key // required when Dir != ""
	Account  string       // Alibaba account id used in ARNs; default DefaultAccount
	Clock    clock.Clock  // default clock.System{}
	Rand     io.Reader    // default crypto/rand; must be safe for concurrent use
	AuditLog io.Writer    // JSON lines; nil = off
	// Faults are deliberate defects for proving the conformance suite can
	// fail; only faults.UseDisabledKey applies here. Never set in production.
	Faults faults.Set
	// State reads and writes keystore.json (default statefile.Plain); the
	// server passes its *statefile.Guard, so that an edited, rolled-back
	// or deleted keystore is refused.
	State statefile.Files
	// Authorizer, when set, decides every operation for the principal
	// named by WithPrincipal (see Authorizer); a refusal is 403
	// Forbidden.NoPermission. nil authorizes everything (in-memory tests).
	Authorizer Authorizer
}

// Emulator is an Alibaba Cloud KMS emulator holding keys for any number of
// regions. Use Region to get the per-region API. It is safe for concurrent
// use.
type Emulator struct {
	dir     string
	path    string
	root    *rootkey.Key
	account string
	clock   clock.Clock
	rand    io.Reader

	faults faults.Set
	state  statefile.Files
	authz  Authorizer

	auditMu sync.Mutex
	audit   io.Writer

	// mu guards st. Data-plane calls and reads take it shared; anything
	// that mutates (including lazy rotation, lazy deletion and creation of
	// the OSS service key) takes it exclusively.
	mu sync.RWMutex
	st *store
}

var accountRE = regexp.MustCompile(`^[0-9]{1,32}$`)

// New builds an Emulator. With a Dir it loads <Dir>/keystore.json when it
// exists (creating Dir with mode 0700 when missing) and persists every
// mutation there. Keystore problems are reported as ErrCorruptKeystore or
// ErrWrongRootKey (*RootKeyMismatchError); never as a panic.
func New(cfg Config) (*Emulator, error) {
	e := &Emulator{
		dir:     cfg.Dir,
		root:    cfg.RootKey,
		account: cfg.Account,
		clock:   cfg.Clock,
		rand:    cfg.Rand,
		audit:   cfg.AuditLog,
		faults:  cfg.Faults,
		state:   cfg.State,
		authz:   cfg.Authorizer,
		st:      newStore(),
	}
	if e.state == nil {
		e.state = statefile.Plain{}
	}
	if e.account == "" {
		e.account = DefaultAccount
	}
	if !accountRE.MatchString(e.account) {
		return nil, fmt.Errorf("%w: Account %q must be 1 to 32 decimal digits", ErrConfig, e.account)
	}
	if e.clock == nil {
		e.clock = clock.System{}
	}
	if e.rand == nil {
		e.rand = rand.Reader
	}
	if e.dir == "" {
		return e, nil
	}
	if e.root == nil {
		return nil, fmt.Errorf("%w: RootKey is required when Dir is set", ErrConfig)
	}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		return nil, fmt.Errorf("kms: create keystore directory: %w", err)
	}
	e.path = filepath.Join(e.dir, KeystoreFile)
	data, err := e.state.Read(StateName, e.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return e, nil
	case err != nil:
		return nil, fmt.Errorf("kms: read keystore: %w", err)
	}
	st, err := decodeKeystore(data, e.path, e.root, e.account)
	if err != nil {
		return nil, err
	}
	e.st = st
	return e, nil
}

// regionRE accepts Alibaba region IDs such as cn-hangzhou, ap-southeast-1,
// cn-shanghai-finance-1 and us-east-1.
var regionRE = regexp.MustCompile(`^[a-z]{2,12}(-[a-z0-9]{1,16}){1,4}$`)

// ValidRegion reports whether name has the form of an Alibaba region ID.
func ValidRegion(name string) bool { return len(name) <= 64 && regionRE.MatchString(name) }

// Region returns the KMS API of one region. Keys, aliases and the OSS
// service key are per region. For a malformed region name every method
// returns 400 InvalidParameter naming RegionId.
func (e *Emulator) Region(name string) API {
	r := &Regional{e: e, region: name}
	if !ValidRegion(name) {
		r.bad = errInvalidParam("RegionId", fmt.Sprintf("%q is not a region ID such as cn-hangzhou.", name))
	}
	return r
}

// Regional is one region's view of an Emulator; it implements API.
type Regional struct {
	e      *Emulator
	region string
	bad    error // non-nil for an invalid region name
}

var _ API = (*Regional)(nil)

// Name returns the region ID.
func (r *Regional) Name() string { return r.region }

type ctxKey int

const (
	ctxPrincipal ctxKey = iota
	ctxRequestID
)

// WithPrincipal records who is calling, for the audit log.
func WithPrincipal(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, ctxPrincipal, name)
}

// WithRequestID records the request ID, for the audit log.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxRequestID, id)
}

// PrincipalFrom returns the principal set by WithPrincipal, or "".
func PrincipalFrom(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	s, _ := ctx.Value(ctxPrincipal).(string)
	return s
}

// RequestIDFrom returns the request ID set by WithRequestID, or "".
func RequestIDFrom(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	s, _ := ctx.Value(ctxRequestID).(string)
	return s
}

// Account returns the account ID used in ARNs and as Creator.
func (e *Emulator) Account() string { return e.account }

// ---- state ----

type store struct {
	regions map[string]*regionState
	seq     uint64 // last key sequence number handed out (ListKeys order)
}

type regionState struct {
	keys    map[string]*keyRecord
	aliases map[string]string // alias name -> key id
	// next is the earliest time at which a lazy event (automatic rotation
	// or hard deletion) becomes due for some key; zero when none is.
	next time.Time
}

type keyRecord struct {
	id           string
	seq          uint64
	description  string
	state        string
	creator      string
	created      time.Time
	primary      string
	versions     []*keyVersion // creation order; never shrinks
	rotation     bool          // automatic rotation policy enabled
	interval     time.Duration // rotation interval; 0 = never set
	lastRotation time.Time
	nextRotation time.Time // zero unless rotation is enabled
	deleteDate   time.Time // zero unless PendingDeletion
}

type keyVersion struct {
	id       string
	created  time.Time
	material []byte // 32 bytes; immutable once created
	sealed   []byte // rootkey.Seal of material; nil in memory-only mode
}

func newStore() *store { return &store{regions: map[string]*regionState{}} }

func newRegionState() *regionState {
	return &regionState{keys: map[string]*keyRecord{}, aliases: map[string]string{}}
}

var emptyRegion = newRegionState() // read-only stand-in for a region never written

func (s *store) clone() *store {
	c := &store{regions: make(map[string]*regionState, len(s.regions)), seq: s.seq}
	for name, rs := range s.regions {
		nr := &regionState{keys: make(map[string]*keyRecord, len(rs.keys)), aliases: make(map[string]string, len(rs.aliases)), next: rs.next}
		for id, k := range rs.keys {
			kc := *k
			kc.versions = slices.Clone(k.versions)
			nr.keys[id] = &kc
		}
		for a, id := range rs.aliases {
			nr.aliases[a] = id
		}
		c.regions[name] = nr
	}
	return c
}

// keyExists reports whether id is used in any region (ids are global).
func (s *store) keyExists(id string) bool {
	for _, rs := range s.regions {
		if _, ok := rs.keys[id]; ok {
			return true
		}
	}
	return false
}

func (rs *regionState) due(now time.Time) bool {
	return !rs.next.IsZero() && !now.Before(rs.next)
}

// recompute refreshes rs.next after any mutation of the region.
func (rs *regionState) recompute() {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, k := range rs.keys {
		switch {
		case k.state == StatePendingDeletion:
			consider(k.deleteDate)
		case k.state == StateEnabled && k.rotation:
			consider(k.nextRotation)
		}
	}
	rs.next = next
}

func (rs *regionState) sortedKeys() []*keyRecord {
	ks := make([]*keyRecord, 0, len(rs.keys))
	for _, k := range rs.keys {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b *keyRecord) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return ks
}

func (k *keyRecord) version(id string) *keyVersion {
	for _, v := range k.versions {
		if v.id == id {
			return v
		}
	}
	return nil
}

func (k *keyRecord) primaryVersion() *keyVersion { return k.version(k.primary) }

func (k *keyRecord) isService() bool { return k.creator == CreatorOSS }

// ---- dispatch ----

// txn is the context of one API call against one region.
type txn struct {
	e        *Emulator
	region   string
	rs       *regionState
	now      time.Time
	readOnly bool
	dirty    bool
	// principal and op are the caller (WithPrincipal) and the Alibaba
	// action name, for authorization.
	principal, op string
	events        []auditRecord // lazy mutations, logged after the call
	// audit fields of the call itself
	keyID, versionID       string
	srcKeyID, srcVersionID string
}

// do runs fn for op. Read operations (write == false) run under the shared
// lock unless a lazy event is due in the region or fn asks for an upgrade by
// returning errUpgrade; then, like write operations, they run under the
// exclusive lock after lazy maintenance. Mutations are persisted before the
// lock is released; a failed write rolls the in-memory state back.
func (r *Regional) do(ctx context.Context, op string, write bool, fn func(t *txn) error) error {
	e := r.e
	now := e.clock.Now().UTC()
	if r.bad != nil {
		e.emit(ctx, now, r.region, op, &txn{}, r.bad)
		return r.bad
	}
	if !write {
		e.mu.RLock()
		rs := e.st.regions[r.region]
		if rs == nil {
			rs = emptyRegion
		}
		if !rs.due(now) {
			t := &txn{e: e, region: r.region, rs: rs, now: now, readOnly: true, principal: PrincipalFrom(ctx), op: op}
			err := fn(t)
			e.mu.RUnlock()
			if err != error(errUpgrade) {
				e.emit(ctx, now, r.region, op, t, err)
				return err
			}
		} else {
			e.mu.RUnlock()
		}
	}

	e.mu.Lock()
	var snapshot *store
	if e.path != "" {
		snapshot = e.st.clone()
	}
	rs := e.st.regions[r.region]
	if rs == nil {
		rs = newRegionState()
		e.st.regions[r.region] = rs
	}
	t := &txn{e: e, region: r.region, rs: rs, now: now, principal: PrincipalFrom(ctx), op: op}
	t.maintain()
	err := fn(t)
	if err == error(errUpgrade) { // cannot happen with readOnly false; never leak it
		err = errInternal("unexpected lock upgrade")
	}
	if t.dirty {
		rs.recompute()
		if e.path != "" {
			if perr := e.persistLocked(); perr != nil {
				e.st = snapshot
				t.events = nil
				err = errInternal("The keystore could not be written; the change was not applied.")
			}
		}
	}
	e.mu.Unlock()
	for i := range t.events {
		e.writeAudit(&t.events[i])
	}
	e.emit(ctx, now, r.region, op, t, err)
	return err
}

// maintain applies due lazy events in the region: hard deletion of keys
// whose DeleteDate has passed (with their aliases) and automatic rotation of
// Enabled keys whose NextRotationDate has passed. Keys are visited in
// creation order so that randomness is consumed deterministically.
func (t *txn) maintain() {
	if !t.rs.due(t.now) {
		return
	}
	for _, k := range t.rs.sortedKeys() {
		switch {
		case k.state == StatePendingDeletion && !t.now.Before(k.deleteDate):
			t.deleteKey(k)
			t.events = append(t.events, t.lazyEvent("DeleteKey", k.id, ""))
		case k.state == StateEnabled && k.rotation && !k.nextRotation.IsZero() && !t.now.Before(k.nextRotation):
			v, err := t.newVersion(k)
			if err != nil {
				// Leave the key as it is; the next touch retries.
				t.events = append(t.events, t.lazyEventResult("AutoRotateKey", k.id, "", CodeInternal))
				continue
			}
			k.lastRotation = t.now
			k.nextRotation = t.now.Add(k.interval)
			t.events = append(t.events, t.lazyEvent("AutoRotateKey", k.id, v.id))
		}
	}
	t.rs.recompute()
}

func (t *txn) deleteKey(k *keyRecord) {
	delete(t.rs.keys, k.id)
	for a, id := range t.rs.aliases {
		if id == k.id {
			delete(t.rs.aliases, a)
		}
	}
	t.dirty = true
}

// ---- audit ----

// auditRecord is one JSON line of the audit log. It has no field that could
// carry key material, plaintext, data keys, blobs or encryption contexts.
type auditRecord struct {
	Time               string `json:"time"`
	RequestID          string `json:"request_id"`
	Principal          string `json:"principal"`
	Region             string `json:"region"`
	Op                 string `json:"op"`
	KeyID              string `json:"key_id,omitempty"`
	KeyVersionID       string `json:"key_version_id,omitempty"`
	SourceKeyID        string `json:"source_key_id,omitempty"`
	SourceKeyVersionID string `json:"source_key_version_id,omitempty"`
	Result             string `json:"result"`
}

// LazyPrincipal is the audit principal of mutations the emulator performs
// by itself (automatic rotation, hard deletion, service key creation).
const LazyPrincipal = "kms-emulator"

func (t *txn) lazyEvent(op, keyID, versionID string) auditRecord {
	return t.lazyEventResult(op, keyID, versionID, "ok")
}

func (t *txn) lazyEventResult(op, keyID, versionID, result string) auditRecord {
	return auditRecord{
		Time: t.now.Format(time.RFC3339Nano), Principal: LazyPrincipal, Region: t.region,
		Op: op, KeyID: keyID, KeyVersionID: versionID, Result: result,
	}
}

func (e *Emulator) emit(ctx context.Context, now time.Time, region, op string, t *txn, err error) {
	if e.audit == nil {
		return
	}
	rec := auditRecord{
		Time: now.Format(time.RFC3339Nano), RequestID: RequestIDFrom(ctx), Principal: PrincipalFrom(ctx),
		Region: region, Op: op, KeyID: t.keyID, KeyVersionID: t.versionID,
		SourceKeyID: t.srcKeyID, SourceKeyVersionID: t.srcVersionID, Result: "ok",
	}
	if err != nil {
		var ke *Error
		if errors.As(err, &ke) {
			rec.Result = ke.Code
		} else {
			rec.Result = CodeInternal
		}
	}
	e.writeAudit(&rec)
}

func (e *Emulator) writeAudit(rec *auditRecord) {
	if e.audit == nil {
		return
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return
	}
	line = append(line, '\n')
	e.auditMu.Lock()
	defer e.auditMu.Unlock()
	_, _ = e.audit.Write(line) // the audit log must not fail a KMS call
}
