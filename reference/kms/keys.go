package kms

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Rotation interval bounds (UpdateRotationPolicy and CreateKey).
const (
	MinRotationInterval = 7 * 24 * time.Hour
	MaxRotationInterval = 730 * 24 * time.Hour
)

// Deletion window bounds in days (ScheduleKeyDeletion PendingWindowInDays).
const (
	MinPendingWindowDays = 7
	MaxPendingWindowDays = 366
)

// MaxDescriptionLen is the longest key description accepted.
const MaxDescriptionLen = 8192

// serviceKeyDescription is the Description of the OSS service key.
const serviceKeyDescription = "Service key of OSS (alias/acs/oss), created by KMS on first use."

var intervalRE = regexp.MustCompile(`^([0-9]{1,12})([dhms])$`)

// ParseRotationInterval parses an Alibaba rotation interval, an integer
// with a unit d, h, m or s ("30d", "604800s"), and checks it lies within
// 7 to 730 days. The error is a 400 InvalidParameter *Error.
func ParseRotationInterval(s string) (time.Duration, error) {
	m := intervalRE.FindStringSubmatch(s)
	if m == nil {
		return 0, errInvalidParam("RotationInterval", "Use an integer with a unit d, h, m or s, for example 30d or 2592000s.")
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, errInvalidParam("RotationInterval", "")
	}
	unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[m[2]]
	// n < 10^12 and unit <= 86400s, so n*unit/second < 8.64e16: no overflow
	// in seconds; compare in seconds to stay clear of Duration's range.
	secs := n * int64(unit/time.Second)
	if secs < int64(MinRotationInterval/time.Second) || secs > int64(MaxRotationInterval/time.Second) {
		return 0, errInvalidParam("RotationInterval", "The interval must be between 7 and 730 days.")
	}
	return time.Duration(secs) * time.Second, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

func (e *Emulator) keyARN(region, id string) string {
	return fmt.Sprintf("acs:kms:%s:%s:key/%s", region, e.account, id)
}

func (e *Emulator) aliasARN(region, alias string) string {
	return fmt.Sprintf("acs:kms:%s:%s:%s", region, e.account, alias)
}

// metadata renders a key as DescribeKey's KeyMetadata.
func (t *txn) metadata(k *keyRecord) KeyMetadata {
	md := KeyMetadata{
		KeyId:              k.id,
		Arn:                t.e.keyARN(t.region, k.id),
		Description:        k.description,
		KeySpec:            KeySpecAES256,
		KeyUsage:           KeyUsageEncrypt,
		KeyState:           k.state,
		Creator:            k.creator,
		CreationDate:       fmtTime(k.created),
		PrimaryKeyVersion:  k.primary,
		AutomaticRotation:  RotationDisabled,
		LastRotationDate:   fmtTime(k.lastRotation),
		DeleteDate:         fmtTime(k.deleteDate),
		Origin:             OriginAliyunKMS,
		ProtectionLevel:    ProtectionSoftware,
		DeletionProtection: DeletionProtectionOff,
	}
	if k.rotation {
		md.AutomaticRotation = RotationEnabled
		if k.state != StateEnabled {
			md.AutomaticRotation = RotationSuspended
		}
		md.RotationInterval = fmt.Sprintf("%ds", int64(k.interval/time.Second))
		md.NextRotationDate = fmtTime(k.nextRotation)
	}
	return md
}

func keyVersionOut(k *keyRecord, v *keyVersion) KeyVersion {
	return KeyVersion{KeyId: k.id, KeyVersionId: v.id, CreationDate: fmtTime(v.created)}
}

// refName reduces ref (key id, alias, or key/alias ARN) to the key id or
// alias it names in the transaction's region.
func (t *txn) refName(ref, param string) (string, error) {
	if ref == "" {
		return "", errMissingParam(param)
	}
	if !strings.HasPrefix(ref, "acs:") {
		return ref, nil
	}
	parts := strings.SplitN(ref, ":", 5)
	if len(parts) != 5 || parts[1] != "kms" || parts[2] == "" || parts[3] == "" {
		return "", errInvalidParam(param, "A KMS ARN has the form acs:kms:<region>:<account>:key/<key-id>.")
	}
	rest := parts[4]
	isAlias := strings.HasPrefix(rest, AliasPrefix)
	if !isAlias && !strings.HasPrefix(rest, "key/") {
		return "", errInvalidParam(param, "A KMS ARN has the form acs:kms:<region>:<account>:key/<key-id>.")
	}
	if parts[2] != t.region || parts[3] != t.e.account {
		if isAlias {
			return "", errAliasNotFound()
		}
		return "", errKeyNotFound()
	}
	if isAlias {
		return rest, nil
	}
	if id := strings.TrimPrefix(rest, "key/"); id != "" {
		return id, nil
	}
	return "", errKeyNotFound()
}

// lookup finds the key named by ref (key id, alias, or key/alias ARN) in
// the transaction's region, creating nothing.
func (t *txn) lookup(ref, param string) (*keyRecord, error) {
	name, err := t.refName(ref, param)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, AliasPrefix) {
		id, ok := t.rs.aliases[name]
		if !ok {
			return nil, errAliasNotFound()
		}
		k := t.rs.keys[id]
		if k == nil {
			return nil, errAliasNotFound()
		}
		return k, nil
	}
	k := t.rs.keys[name]
	if k == nil {
		return nil, errKeyNotFound()
	}
	return k, nil
}

// isUnboundServiceAlias reports whether ref names alias/acs/oss while the
// region has no service key yet.
func (t *txn) isUnboundServiceAlias(ref string) bool {
	name, err := t.refName(ref, "KeyId")
	if err != nil || name != ServiceKeyAliasOSS {
		return false
	}
	_, ok := t.rs.aliases[name]
	return !ok
}

// resolve finds the key named by ref (key id, alias, or key/alias ARN) in
// the transaction's region. Resolving alias/acs/oss creates the OSS service
// key on first use. It does not authorize; operations use resolveFor.
func (t *txn) resolve(ref, param string) (*keyRecord, error) {
	k, err := t.lookup(ref, param)
	if err != nil && t.isUnboundServiceAlias(ref) {
		return t.ensureServiceKey()
	}
	return k, err
}

// ensureServiceKey creates the region's OSS service key and its alias.
func (t *txn) ensureServiceKey() (*keyRecord, error) {
	if t.readOnly {
		return nil, errUpgrade
	}
	k, err := t.createKey(serviceKeyDescription, CreatorOSS)
	if err != nil {
		return nil, err
	}
	t.rs.aliases[ServiceKeyAliasOSS] = k.id
	t.events = append(t.events, t.lazyEvent("CreateServiceKey", k.id, k.primary))
	return k, nil
}

// createKey adds an Enabled key with one version. Write lock only.
func (t *txn) createKey(description, creator string) (*keyRecord, error) {
	id, err := t.e.newUniqueKeyID()
	if err != nil {
		return nil, errInternal("random source failed")
	}
	k := &keyRecord{
		id: id, seq: t.e.st.seq + 1, description: description, state: StateEnabled,
		creator: creator, created: t.now, lastRotation: t.now,
	}
	if _, err := t.newVersion(k); err != nil {
		return nil, err
	}
	t.e.st.seq++
	t.rs.keys[id] = k
	t.dirty = true
	return k, nil
}

func requireEnabled(k *keyRecord) error {
	switch k.state {
	case StateDisabled:
		return errStateDisabled()
	case StatePendingDeletion:
		return errStatePendingDeletion()
	}
	return nil
}

func refuseService(op string, k *keyRecord) error {
	if k.isService() {
		return errServiceKey(op, k.id)
	}
	return nil
}

// page validates a Page and returns the bounds of the slice to return.
func page(p Page, total int) (num, size, lo, hi int, err error) {
	num, size = p.PageNumber, p.PageSize
	if num == 0 {
		num = 1
	}
	if size == 0 {
		size = 20
	}
	if num < 1 {
		return 0, 0, 0, 0, errInvalidParam("PageNumber", "PageNumber starts at 1.")
	}
	if size < 1 || size > 100 {
		return 0, 0, 0, 0, errInvalidParam("PageSize", "PageSize must be between 1 and 100.")
	}
	if num-1 > total/size {
		return num, size, total, total, nil
	}
	lo = (num - 1) * size
	hi = min(lo+size, total)
	lo = min(lo, total)
	return num, size, lo, hi, nil
}

func validateDescription(d string) error {
	if len(d) > MaxDescriptionLen {
		return errInvalidParam("Description", "The description can be up to 8192 characters long.")
	}
	return nil
}

// CreateKey creates a symmetric Aliyun_AES_256 key (the only kind emulated).
func (r *Regional) CreateKey(ctx context.Context, in CreateKeyInput) (KeyMetadata, error) {
	var md KeyMetadata
	err := r.do(ctx, "CreateKey", true, func(t *txn) error {
		if err := t.allow(Resource{Container: ContainerKeys}); err != nil {
			return err
		}
		if in.KeySpec != "" && in.KeySpec != KeySpecAES256 {
			return errInvalidParam("KeySpec", "The emulator supports only Aliyun_AES_256.")
		}
		if in.KeyUsage != "" && in.KeyUsage != KeyUsageEncrypt {
			return errInvalidParam("KeyUsage", "The emulator supports only ENCRYPT/DECRYPT.")
		}
		if in.Origin != "" && in.Origin != OriginAliyunKMS {
			return errInvalidParam("Origin", "The emulator supports only Aliyun_KMS.")
		}
		if in.ProtectionLevel != "" && in.ProtectionLevel != ProtectionSoftware {
			return errInvalidParam("ProtectionLevel", "The emulator supports only SOFTWARE.")
		}
		if err := validateDescription(in.Description); err != nil {
			return err
		}
		var interval time.Duration
		if in.RotationInterval != "" {
			var err error
			if interval, err = ParseRotationInterval(in.RotationInterval); err != nil {
				return err
			}
		}
		if in.EnableAutomaticRotation && interval == 0 {
			return errMissingParam("RotationInterval")
		}
		k, err := t.createKey(in.Description, t.e.account)
		if err != nil {
			return err
		}
		if in.EnableAutomaticRotation {
			k.rotation, k.interval, k.nextRotation = true, interval, t.now.Add(interval)
		}
		t.keyID, t.versionID = k.id, k.primary
		md = t.metadata(k)
		return nil
	})
	return md, err
}

// DescribeKey returns the key's full metadata.
func (r *Regional) DescribeKey(ctx context.Context, keyID string) (KeyMetadata, error) {
	var md KeyMetadata
	err := r.do(ctx, "DescribeKey", false, func(t *txn) error {
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		md = t.metadata(k)
		return nil
	})
	return md, err
}

// ListKeys lists the region's keys in creation order.
func (r *Regional) ListKeys(ctx context.Context, p Page) (ListKeysOutput, error) {
	var out ListKeysOutput
	err := r.do(ctx, "ListKeys", false, func(t *txn) error {
		// Alibaba RAM authorizes ListKeys on the key container, so a
		// principal without it is refused rather than shown a filtered list.
		if err := t.allow(Resource{Container: ContainerKeys}); err != nil {
			return err
		}
		ks := t.rs.sortedKeys()
		num, size, lo, hi, err := page(p, len(ks))
		if err != nil {
			return err
		}
		out = ListKeysOutput{Keys: []KeyRef{}, TotalCount: len(ks), PageNumber: num, PageSize: size}
		for _, k := range ks[lo:hi] {
			out.Keys = append(out.Keys, KeyRef{KeyId: k.id, KeyArn: t.e.keyARN(t.region, k.id)})
		}
		return nil
	})
	return out, err
}

// UpdateKeyDescription replaces the key's description.
func (r *Regional) UpdateKeyDescription(ctx context.Context, keyID, description string) error {
	return r.do(ctx, "UpdateKeyDescription", true, func(t *txn) error {
		if err := validateDescription(description); err != nil {
			return err
		}
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := refuseService("UpdateKeyDescription", k); err != nil {
			return err
		}
		if k.state == StatePendingDeletion {
			return errStatePendingDeletion()
		}
		k.description = description
		t.dirty = true
		return nil
	})
}

// setState implements EnableKey and DisableKey.
func (r *Regional) setState(ctx context.Context, op, keyID, state string) error {
	return r.do(ctx, op, true, func(t *txn) error {
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := refuseService(op, k); err != nil {
			return err
		}
		if k.state == StatePendingDeletion {
			return errStateModifiedFailed(k.state)
		}
		if k.state != state {
			k.state = state
			t.dirty = true
		}
		return nil
	})
}

// EnableKey enables a Disabled key (a no-op on an Enabled one).
func (r *Regional) EnableKey(ctx context.Context, keyID string) error {
	return r.setState(ctx, "EnableKey", keyID, StateEnabled)
}

// DisableKey disables a key; it then refuses all cryptographic operations.
func (r *Regional) DisableKey(ctx context.Context, keyID string) error {
	return r.setState(ctx, "DisableKey", keyID, StateDisabled)
}

// ScheduleKeyDeletion moves the key to PendingDeletion with DeleteDate =
// now + days; the key is deleted for good at the first call on or after
// DeleteDate.
func (r *Regional) ScheduleKeyDeletion(ctx context.Context, keyID string, days int) error {
	return r.do(ctx, "ScheduleKeyDeletion", true, func(t *txn) error {
		if days < MinPendingWindowDays || days > MaxPendingWindowDays {
			return errInvalidParam("PendingWindowInDays", "The value must be between 7 and 366.")
		}
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := refuseService("ScheduleKeyDeletion", k); err != nil {
			return err
		}
		if k.state == StatePendingDeletion {
			return errStateModifiedFailed(k.state)
		}
		k.state = StatePendingDeletion
		k.deleteDate = t.now.Add(time.Duration(days) * 24 * time.Hour)
		t.dirty = true
		return nil
	})
}

// CancelKeyDeletion returns a PendingDeletion key to Enabled (Alibaba: "If
// the deletion task of a CMK is canceled, the CMK returns to the Enabled
// state").
func (r *Regional) CancelKeyDeletion(ctx context.Context, keyID string) error {
	return r.do(ctx, "CancelKeyDeletion", true, func(t *txn) error {
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := refuseService("CancelKeyDeletion", k); err != nil {
			return err
		}
		if k.state != StatePendingDeletion {
			return errStateModifiedFailed(k.state)
		}
		k.state = StateEnabled
		k.deleteDate = time.Time{}
		t.dirty = true
		return nil
	})
}

// CreateKeyVersion rotates the key by hand: a new version becomes primary
// and LastRotationDate is set; the automatic schedule is left unchanged.
func (r *Regional) CreateKeyVersion(ctx context.Context, keyID string) (KeyVersion, error) {
	var out KeyVersion
	err := r.do(ctx, "CreateKeyVersion", true, func(t *txn) error {
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := refuseService("CreateKeyVersion", k); err != nil {
			return err
		}
		if err := requireEnabled(k); err != nil {
			return err
		}
		v, err := t.newVersion(k)
		if err != nil {
			return err
		}
		k.lastRotation = t.now
		t.versionID = v.id
		out = keyVersionOut(k, v)
		return nil
	})
	return out, err
}

// ListKeyVersions lists the key's versions, oldest first.
func (r *Regional) ListKeyVersions(ctx context.Context, keyID string, p Page) (ListKeyVersionsOutput, error) {
	var out ListKeyVersionsOutput
	err := r.do(ctx, "ListKeyVersions", false, func(t *txn) error {
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		num, size, lo, hi, err := page(p, len(k.versions))
		if err != nil {
			return err
		}
		out = ListKeyVersionsOutput{KeyVersions: []KeyVersion{}, TotalCount: len(k.versions), PageNumber: num, PageSize: size}
		for _, v := range k.versions[lo:hi] {
			out.KeyVersions = append(out.KeyVersions, keyVersionOut(k, v))
		}
		return nil
	})
	return out, err
}

// DescribeKeyVersion describes one version of a key.
func (r *Regional) DescribeKeyVersion(ctx context.Context, keyID, keyVersionID string) (KeyVersion, error) {
	var out KeyVersion
	err := r.do(ctx, "DescribeKeyVersion", false, func(t *txn) error {
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if keyVersionID == "" {
			return errMissingParam("KeyVersionId")
		}
		v := k.version(keyVersionID)
		if v == nil {
			return errKeyVersionNotFound()
		}
		t.versionID = v.id
		out = keyVersionOut(k, v)
		return nil
	})
	return out, err
}

// UpdateRotationPolicy enables automatic rotation (NextRotationDate = now +
// interval) or disables it (NextRotationDate cleared).
func (r *Regional) UpdateRotationPolicy(ctx context.Context, keyID string, enable bool, interval string) error {
	return r.do(ctx, "UpdateRotationPolicy", true, func(t *txn) error {
		var d time.Duration
		if enable {
			if interval == "" {
				return errMissingParam("RotationInterval")
			}
			var err error
			if d, err = ParseRotationInterval(interval); err != nil {
				return err
			}
		}
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := refuseService("UpdateRotationPolicy", k); err != nil {
			return err
		}
		if k.state == StatePendingDeletion {
			return errStatePendingDeletion()
		}
		if enable {
			k.rotation, k.interval, k.nextRotation = true, d, t.now.Add(d)
		} else {
			k.rotation, k.nextRotation = false, time.Time{}
		}
		t.dirty = true
		return nil
	})
}
