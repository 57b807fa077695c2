package steps

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/features"
)

// Keys the user brings. Options.Keys are existing KMS keys (ids or ARNs)
// the scenarios use as their named key instead of creating one, and
// Options.DisabledKey an existing disabled key; with them, the @kms
// scenarios run on any store without a KMS endpoint the suite can drive.
// A scenario that administers its key (disables, enables, schedules for
// deletion, rotates it) never does so to a key it was given: it creates
// its own through the KMS endpoint, or, without one, is skipped with a
// reason naming what went untested.

// MaxKeys is how many keys Options.Keys may name.
const MaxKeys = 2

// adminSteps match the steps that administer the scenario's named key.
var adminSteps = regexp.MustCompile(`^the named key is (disabled|enabled again|scheduled for deletion|rotated)|^the named key's deletion is cancelled|automatic rotation every`)

// namedKeySteps match the steps that need a named key.
var namedKeySteps = regexp.MustCompile(`KMS named key|a new customer master key in KMS|the named key`)

// disabledKeyStep needs a disabled key (given, or made by administration).
const disabledKeyStep = "a customer master key that is disabled"

// checkKeys validates Options.Keys and Options.DisabledKey.
func checkKeys(opts Options) error {
	if len(opts.Keys) > MaxKeys {
		return fmt.Errorf("steps: %d KMS keys given: give 1 or %d (--kms-key ID_OR_ARN, repeatable)", len(opts.Keys), MaxKeys)
	}
	for i, k := range opts.Keys {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t\n") {
			return fmt.Errorf("steps: KMS key %d %q: give a key id or ARN without spaces", i+1, k)
		}
		if k == opts.DisabledKey {
			return fmt.Errorf("steps: KMS key %q is given both as a usable key and as the disabled key: the disabled key must be another key", k)
		}
	}
	if opts.DisabledKey != "" && strings.ContainsAny(opts.DisabledKey, " \t\n") {
		return fmt.Errorf("steps: disabled KMS key %q: give a key id or ARN without spaces", opts.DisabledKey)
	}
	return nil
}

// canAdmin says the run can create and administer keys for dialect d:
// through Alibaba KMS for either dialect, through AWS KMS for S3.
func (r *runner) canAdmin(d client.Dialect) bool {
	return r.opts.KMS != nil || (d == client.S3 && r.opts.AWSKMS != nil)
}

// kmsSkip is why a selected @kms scenario cannot run with the keys and
// KMS endpoints the run has ("" when it can), from its dialect, tags and
// step texts.
func (r *runner) kmsSkip(d client.Dialect, tags, stepTexts []string) string {
	if !hasTag(tags, features.TagKMS) {
		return ""
	}
	t, _ := features.LookupTag(features.TagKMS)
	admin, given := r.canAdmin(d), len(r.opts.Keys) > 0
	var needsAdmin, needsNamed, needsDisabled bool
	for _, s := range stepTexts {
		needsAdmin = needsAdmin || adminSteps.MatchString(s)
		needsNamed = needsNamed || namedKeySteps.MatchString(s)
		needsDisabled = needsDisabled || strings.Contains(s, disabledKeyStep)
	}
	switch {
	case !admin && !given && r.opts.DisabledKey == "":
		return features.TagKMS + ": " + t.Skip
	case needsDisabled && !admin && r.opts.DisabledKey == "":
		return features.TagKMS + ": needs a disabled key: give one (--kms-disabled-key) or a KMS endpoint that can disable one"
	case needsAdmin && !admin:
		return features.TagKMS + ": administers its key (disable, enable, schedule deletion, rotate), which needs a KMS endpoint of the target's ecosystem; the keys given (--kms-key) are never administered"
	case needsNamed && !admin && !given:
		return features.TagKMS + ": needs an existing key (--kms-key) or a KMS endpoint"
	case d == client.OSS && hasTag(tags, features.TagKMSDefault) && r.opts.KMS == nil:
		return features.TagKMS + ": resolving alias/acs/oss needs the Alibaba Cloud KMS API (--kms-endpoint --kms-dialect alibaba)"
	}
	return ""
}

// givenKey returns the key the scenario uses as its named key when the
// run was given keys and the scenario does not administer its key ("",
// false otherwise). With two keys, scenarios use them alternately.
func (w *world) givenKey() (string, bool) {
	if len(w.r.opts.Keys) == 0 || w.administers {
		return "", false
	}
	return w.r.opts.Keys[int(w.r.seq.Add(1))%len(w.r.opts.Keys)], true
}

// aDisabledKey gives the scenario a disabled key: Options.DisabledKey, or
// a key it creates and disables through the KMS endpoint.
func (w *world) aDisabledKey(ctx context.Context) error {
	if w.r.opts.DisabledKey != "" {
		w.disabled = w.r.opts.DisabledKey
		return nil
	}
	if err := w.newKey(ctx); err != nil {
		return err
	}
	if err := w.disableKey(ctx); err != nil {
		return err
	}
	w.disabled = w.named.id
	return nil
}

func (w *world) uploadDisabledKey(ctx context.Context, key string) error {
	if w.disabled == "" {
		return errors.New("the scenario has no disabled key")
	}
	return w.uploadKMSKey(ctx, key, w.disabled)
}
