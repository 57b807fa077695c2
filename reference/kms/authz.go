package kms

import (
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Action groups: every Alibaba KMS action the emulator serves belongs to
// exactly one. A principal's grants (package users) are given per group.
const (
	// GroupUse is the cryptographic operations: Encrypt, Decrypt,
	// GenerateDataKey, GenerateDataKeyWithoutPlaintext and ReEncrypt.
	GroupUse = "use"
	// GroupRead is the read-only control plane: DescribeKey, ListKeys,
	// ListKeyVersions, DescribeKeyVersion, ListAliases and
	// ListAliasesByKeyId.
	GroupRead = "read"
	// GroupManage is every control-plane mutation: CreateKey,
	// UpdateKeyDescription, EnableKey, DisableKey, ScheduleKeyDeletion,
	// CancelKeyDeletion, CreateKeyVersion, UpdateRotationPolicy,
	// CreateAlias, UpdateAlias and DeleteAlias.
	GroupManage = "manage"
)

var actionGroups = map[string]string{
	"Encrypt": GroupUse, "Decrypt": GroupUse, "GenerateDataKey": GroupUse,
	"GenerateDataKeyWithoutPlaintext": GroupUse, "ReEncrypt": GroupUse,

	"DescribeKey": GroupRead, "ListKeys": GroupRead, "ListKeyVersions": GroupRead,
	"DescribeKeyVersion": GroupRead, "ListAliases": GroupRead, "ListAliasesByKeyId": GroupRead,

	"CreateKey": GroupManage, "UpdateKeyDescription": GroupManage, "EnableKey": GroupManage,
	"DisableKey": GroupManage, "ScheduleKeyDeletion": GroupManage, "CancelKeyDeletion": GroupManage,
	"CreateKeyVersion": GroupManage, "UpdateRotationPolicy": GroupManage,
	"CreateAlias": GroupManage, "UpdateAlias": GroupManage, "DeleteAlias": GroupManage,
}

// ActionGroup returns the group (GroupUse, GroupRead or GroupManage) of an
// Alibaba KMS action name such as "Decrypt", or "" for a name the emulator
// does not serve (which an Authorizer must refuse).
func ActionGroup(action string) string { return actionGroups[action] }

// Containers: the resource of the operations Alibaba RAM authorizes on the
// key or alias container (acs:kms:<region>:<account>:key, ...:alias)
// rather than on one key.
const (
	ContainerKeys    = "key"   // CreateKey, ListKeys
	ContainerAliases = "alias" // ListAliases
)

// Resource is what one authorization decision is about. Exactly one of
// three shapes:
//   - Container set: CreateKey, ListKeys or ListAliases, which name no key;
//   - Alias set: the alias an alias operation creates, repoints or deletes
//     (CreateAlias, UpdateAlias and DeleteAlias are also decided on the
//     keys they touch, as separate key resources);
//   - otherwise a key: KeyID and the aliases pointing at it now. When the
//     key a request names does not exist, KeyID (or the single alias in
//     Aliases) is the name the request gave, so that a principal without
//     a grant on that name learns nothing about whether it exists.
type Resource struct {
	Container string
	Alias     string
	KeyID     string
	Aliases   []string
}

// Authorizer decides whether principal may perform action (an Alibaba KMS
// action name) on r. The emulator asks it inside the operation, under the
// keystore lock, after resolving the key and before any state change or
// cryptographic work, so the decision and the effect see the same keys and
// aliases. It must be safe for concurrent use and must not call back into
// the emulator. principal is "" when the caller named none (an in-process
// caller that did not use WithPrincipal); an Authorizer should refuse it.
type Authorizer interface {
	AuthorizeKMS(principal, action string, r Resource) bool
}

// describe names r for a refusal message.
func describe(r Resource) string {
	switch {
	case r.Container == ContainerKeys:
		return `the key container (a "*" grant is needed)`
	case r.Container == ContainerAliases:
		return `the alias container (a "*" grant is needed)`
	case r.Alias != "":
		return "alias " + r.Alias
	case r.KeyID == "" && len(r.Aliases) == 1:
		return r.Aliases[0]
	}
	return "key " + r.KeyID
}

// errNoPermission is the refusal of an authorization decision, as Alibaba
// KMS answers a RAM denial: 403 Forbidden.NoPermission. The message names
// the principal, the action and what (the resource as the request named
// it), never a key id the caller did not give, so a refusal does not tell
// which key an alias points at.
func errNoPermission(principal, action, what string) error {
	who := principal
	if who == "" {
		who = "a caller that names no principal (in-process callers use kms.WithPrincipal)"
	}
	group := ActionGroup(action)
	if group == "" {
		group = "unknown"
	}
	return Errorf(http.StatusForbidden, CodeAccessDenied,
		"This operation is forbidden by permission system. %s may not call %s (%s) on %s.", who, action, group, what)
}

// allow asks the configured Authorizer about r for the call's principal and
// operation; nil when there is no Authorizer.
func (t *txn) allow(r Resource) error { return t.allowAs(r, describe(r)) }

// allowAs is allow with what the refusal says it was about.
func (t *txn) allowAs(r Resource, what string) error {
	a := t.e.authz
	if a == nil || a.AuthorizeKMS(t.principal, t.op, r) {
		return nil
	}
	return errNoPermission(t.principal, t.op, what)
}

// aliasesOf lists the aliases pointing at key id, sorted.
func (rs *regionState) aliasesOf(id string) []string {
	var out []string
	for a, k := range rs.aliases {
		if k == id {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

func (t *txn) keyResource(k *keyRecord) Resource {
	return Resource{KeyID: k.id, Aliases: t.rs.aliasesOf(k.id)}
}

// nameResource is the resource of a key reference that does not resolve:
// the key id or alias as the request gave it (ARNs reduced to either).
func nameResource(name string) Resource {
	if rest, ok := strings.CutPrefix(name, "acs:"); ok {
		parts := strings.SplitN(rest, ":", 4)
		if len(parts) == 4 {
			name = strings.TrimPrefix(parts[3], "key/")
		}
	}
	if strings.HasPrefix(name, AliasPrefix) {
		return Resource{Aliases: []string{name}}
	}
	return Resource{KeyID: name}
}

func isNotFound(err error) bool {
	var ke *Error
	return errors.As(err, &ke) && (ke.Code == CodeKeyNotFound || ke.Code == CodeAliasNotFound)
}

// resolveFor resolves ref like resolve and authorizes the call on the key.
// A reference that does not resolve is authorized on the name it gives,
// and the not-found error is returned only to a principal granted that
// name; others get Forbidden.NoPermission, as if the key existed. The OSS
// service key is created on first use only for a principal granted
// alias/acs/oss (or "*").
func (t *txn) resolveFor(ref, param string) (*keyRecord, error) {
	if t.e.authz == nil {
		return t.resolve(ref, param)
	}
	if ref == "" {
		return nil, errMissingParam(param)
	}
	k, err := t.lookup(ref, param)
	if err == nil {
		if err := t.allowAs(t.keyResource(k), describe(nameResource(ref))); err != nil {
			t.keyID = k.id // the audit log names the refused key
			return nil, err
		}
		return k, nil
	}
	if !isNotFound(err) {
		return nil, err
	}
	if aerr := t.allow(nameResource(ref)); aerr != nil {
		return nil, aerr
	}
	if t.isUnboundServiceAlias(ref) {
		return t.ensureServiceKey()
	}
	return nil, err
}

// Authorized reports, without performing it, whether principal may call
// action on the key with id keyID, by the same decision the operations
// make (the Authorizer with the key's current aliases). Key ids are unique
// across regions, so no region is needed; an unknown id is decided on the
// id alone. Without an Authorizer everything is authorized. The object
// store uses it to refuse a read before asking KMS for the data key.
func (e *Emulator) Authorized(principal, action, keyID string) bool {
	if e.authz == nil {
		return true
	}
	e.mu.RLock()
	r := Resource{KeyID: keyID}
	for _, rs := range e.st.regions {
		if _, ok := rs.keys[keyID]; ok {
			r.Aliases = rs.aliasesOf(keyID)
			break
		}
	}
	e.mu.RUnlock()
	return e.authz.AuthorizeKMS(principal, action, r)
}
