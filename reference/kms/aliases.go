package kms

import (
	"context"
	"regexp"
	"slices"
	"strings"
)

// ServiceAliasPrefix is reserved for service keys (alias/acs/<service>).
const ServiceAliasPrefix = "alias/acs/"

// aliasRE: "alias/" then 1 to 255 letters, digits, '_', '-' or '/'.
var aliasRE = regexp.MustCompile(`^alias/[A-Za-z0-9_/-]{1,255}$`)

// validateUserAlias checks an alias name a user may create, repoint or
// delete.
func validateUserAlias(name string) error {
	if name == "" {
		return errMissingParam("AliasName")
	}
	if !aliasRE.MatchString(name) {
		return errInvalidParam("AliasName", "An alias is alias/ followed by 1 to 255 letters, digits, '_', '-' or '/'.")
	}
	if name == "alias/acs" || strings.HasPrefix(name, ServiceAliasPrefix) {
		return errInvalidParam("AliasName", "The prefix alias/acs/ is reserved for service keys.")
	}
	return nil
}

// CreateAlias binds a new alias to a key.
func (r *Regional) CreateAlias(ctx context.Context, aliasName, keyID string) error {
	return r.do(ctx, "CreateAlias", true, func(t *txn) error {
		if err := validateUserAlias(aliasName); err != nil {
			return err
		}
		if err := t.allow(Resource{Alias: aliasName}); err != nil {
			return err
		}
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := refuseService("CreateAlias", k); err != nil {
			return err
		}
		if k.state == StatePendingDeletion {
			return errStateModifiedFailed(k.state)
		}
		if _, ok := t.rs.aliases[aliasName]; ok {
			return errAliasExists()
		}
		t.rs.aliases[aliasName] = k.id
		t.dirty = true
		return nil
	})
}

// UpdateAlias points an existing alias at another key. Only the target
// key's state matters (doc 44211): PendingDeletion is refused.
func (r *Regional) UpdateAlias(ctx context.Context, aliasName, keyID string) error {
	return r.do(ctx, "UpdateAlias", true, func(t *txn) error {
		if err := validateUserAlias(aliasName); err != nil {
			return err
		}
		if err := t.allow(Resource{Alias: aliasName}); err != nil {
			return err
		}
		cur, ok := t.rs.aliases[aliasName]
		if !ok {
			return errAliasNotFound()
		}
		// Repointing takes the alias (and grants made through it) away
		// from the current key, so that key must be managed too.
		if ck := t.rs.keys[cur]; ck != nil {
			if err := t.allowAs(t.keyResource(ck), "the key "+aliasName+" points at"); err != nil {
				return err
			}
		}
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		if err := refuseService("UpdateAlias", k); err != nil {
			return err
		}
		if k.state == StatePendingDeletion {
			return errStatePendingDeletion()
		}
		t.rs.aliases[aliasName] = k.id
		t.dirty = true
		return nil
	})
}

// DeleteAlias removes an alias; the key is not affected.
func (r *Regional) DeleteAlias(ctx context.Context, aliasName string) error {
	return r.do(ctx, "DeleteAlias", true, func(t *txn) error {
		if err := validateUserAlias(aliasName); err != nil {
			return err
		}
		if err := t.allow(Resource{Alias: aliasName}); err != nil {
			return err
		}
		id, ok := t.rs.aliases[aliasName]
		if !ok {
			return errAliasNotFound()
		}
		if k := t.rs.keys[id]; k != nil {
			if err := t.allowAs(t.keyResource(k), "the key "+aliasName+" points at"); err != nil {
				return err
			}
		}
		t.keyID = id
		delete(t.rs.aliases, aliasName)
		t.dirty = true
		return nil
	})
}

func (t *txn) aliasList(filter string, p Page) (ListAliasesOutput, error) {
	names := make([]string, 0, len(t.rs.aliases))
	for a, id := range t.rs.aliases {
		if filter == "" || id == filter {
			names = append(names, a)
		}
	}
	slices.Sort(names)
	num, size, lo, hi, err := page(p, len(names))
	if err != nil {
		return ListAliasesOutput{}, err
	}
	out := ListAliasesOutput{Aliases: []Alias{}, TotalCount: len(names), PageNumber: num, PageSize: size}
	for _, a := range names[lo:hi] {
		out.Aliases = append(out.Aliases, Alias{AliasName: a, AliasArn: t.e.aliasARN(t.region, a), KeyId: t.rs.aliases[a]})
	}
	return out, nil
}

// ListAliases lists the region's aliases in name order.
func (r *Regional) ListAliases(ctx context.Context, p Page) (ListAliasesOutput, error) {
	var out ListAliasesOutput
	err := r.do(ctx, "ListAliases", false, func(t *txn) error {
		if err := t.allow(Resource{Container: ContainerAliases}); err != nil {
			return err
		}
		var err error
		out, err = t.aliasList("", p)
		return err
	})
	return out, err
}

// ListAliasesByKeyID lists the aliases bound to one key, in name order.
func (r *Regional) ListAliasesByKeyID(ctx context.Context, keyID string, p Page) (ListAliasesOutput, error) {
	var out ListAliasesOutput
	err := r.do(ctx, "ListAliasesByKeyId", false, func(t *txn) error {
		k, err := t.resolveFor(keyID, "KeyId")
		if err != nil {
			return err
		}
		t.keyID = k.id
		out, err = t.aliasList(k.id, p)
		return err
	})
	return out, err
}
