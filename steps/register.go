package steps

import (
	"context"
	"errors"

	"github.com/cucumber/godog"
)

// The adapters turn a *world method into a godog step: the world comes
// from the step's context, and the error of an outcome (Then) step
// becomes the scenario's expectations (settle).

var errNoWorld = errors.New("internal: the scenario has no state (its Before hook did not run)")

func s0(f func(*world, context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		if w := from(ctx); w != nil {
			return settle(w, f(w, ctx))
		}
		return errNoWorld
	}
}

func s1[A any](f func(*world, context.Context, A) error) func(context.Context, A) error {
	return func(ctx context.Context, a A) error {
		if w := from(ctx); w != nil {
			return settle(w, f(w, ctx, a))
		}
		return errNoWorld
	}
}

func s2[A, B any](f func(*world, context.Context, A, B) error) func(context.Context, A, B) error {
	return func(ctx context.Context, a A, b B) error {
		if w := from(ctx); w != nil {
			return settle(w, f(w, ctx, a, b))
		}
		return errNoWorld
	}
}

func s3[A, B, C any](f func(*world, context.Context, A, B, C) error) func(context.Context, A, B, C) error {
	return func(ctx context.Context, a A, b B, c C) error {
		if w := from(ctx); w != nil {
			return settle(w, f(w, ctx, a, b, c))
		}
		return errNoWorld
	}
}

func s4[A, B, C, D any](f func(*world, context.Context, A, B, C, D) error) func(context.Context, A, B, C, D) error {
	return func(ctx context.Context, a A, b B, c C, d D) error {
		if w := from(ctx); w != nil {
			return settle(w, f(w, ctx, a, b, c, d))
		}
		return errNoWorld
	}
}

// q matches a double-quoted argument.
const q = `"([^"]*)"`

func registerSteps(sc *godog.ScenarioContext) {
	// Buckets and rules.
	sc.Step(`^a bucket without default encryption$`, s0((*world).aBucketWithoutDefault))
	sc.Step(`^a bucket whose default encryption is `+q+`$`, s1((*world).aBucketWithDefault))
	sc.Step(`^I create a bucket with server-side encryption `+q+`$`, s1((*world).aBucketWithDefault))
	sc.Step(`^the bucket's default encryption reads back as `+q+`$`, s1((*world).ruleReadsBackAs))
	sc.Step(`^I (?:set|change) the bucket's default encryption to `+q+`$`, s1((*world).setDefault))
	sc.Step(`^the bucket's default encryption is set to `+q+`$`, s1((*world).setDefault))
	sc.Step(`^I delete the bucket's default encryption$`, s0((*world).deleteDefaultStep))
	sc.Step(`^the bucket has no default encryption rule$`, s0((*world).hasNoRule))
	sc.Step(`^I read the bucket's default encryption rule$`, s0((*world).readRule))
	sc.Step(`^I send this bucket encryption document:$`, s1((*world).sendRuleDocument))
	sc.Step(`^I try to set the bucket's default encryption to algorithm `+q+`$`, s1((*world).trySetAlgorithm))
	sc.Step(`^I try to set the bucket's default encryption to algorithm `+q+` with the key id `+q+`$`, s2((*world).trySetAlgorithmWithKey))
	sc.Step(`^I try to set the bucket's default encryption to KMS with the data encryption `+q+`$`, s1((*world).trySetKMSDataEncryption))

	// Objects already in the bucket.
	sc.Step(`^the bucket holds `+q+` uploaded without encryption settings$`, s1((*world).holdsPlain))
	sc.Step(`^the bucket holds `+q+` uploaded asking for `+q+`$`, s2((*world).holdsWith))
	sc.Step(`^the bucket holds `+q+` of (\d+) KiB uploaded without encryption settings$`, s2((*world).holdsKiB))
	sc.Step(`^the bucket holds `+q+` uploaded in (\d+) parts without encryption settings$`, s2((*world).holdsInParts))

	// Writes.
	sc.Step(`^I upload `+q+` without encryption settings$`, s1((*world).uploadPlain))
	sc.Step(`^I upload `+q+` asking for `+q+`$`, s2((*world).uploadWith))
	sc.Step(`^I upload `+q+` in (\d+) parts without encryption settings$`, s2((*world).uploadInParts))
	sc.Step(`^I upload `+q+` in (\d+) parts asking for `+q+`$`, s3((*world).uploadInPartsWith))
	sc.Step(`^I upload `+q+` with the encryption header `+q+`$`, s2((*world).uploadWithHeader))
	sc.Step(`^I upload `+q+` with the encryption header `+q+` and the key id `+q+`$`, s3((*world).uploadWithHeaderAndKey))
	sc.Step(`^I upload `+q+` asking for KMS with the data encryption `+q+`$`, s2((*world).uploadKMSDataEncryption))
	sc.Step(`^I upload `+q+` asking for KMS with the key `+q+`$`, s2((*world).uploadKMSKey))
	sc.Step(`^I upload `+q+` asking for KMS with a key id that does not exist$`, s1((*world).uploadUnknownKey))
	sc.Step(`^I upload `+q+` asking for KMS with the default key's alias$`, s1((*world).uploadDefaultAlias))
	sc.Step(`^a customer master key that is disabled$`, s0((*world).aDisabledKey))
	sc.Step(`^I upload `+q+` asking for KMS with the disabled key$`, s1((*world).uploadDisabledKey))
	sc.Step(`^I upload `+q+` asking for KMS with the key from the other region$`, s1((*world).uploadOtherRegionKey))
	sc.Step(`^I copy `+q+` onto itself without encryption settings$`, s1((*world).copyOntoItself))
	sc.Step(`^the bucket keeps object versions$`, s0((*world).enableVersioning))
	sc.Step(`^I copy `+q+` to `+q+` asking for `+q+`$`, s3((*world).copyWith))

	// What the endpoint said and serves.
	sc.Step(`^the (?:upload|copy) response says the object is encrypted with `+q+`$`, s1((*world).responseSays))
	sc.Step(`^the initiation, every part and the completion responses say the object is encrypted with `+q+`$`, s1((*world).multipartSays))
	sc.Step(`^reading `+q+` reports it encrypted with `+q+`$`, s2((*world).readingReports))
	sc.Step(`^downloading `+q+` returns exactly the uploaded bytes$`, s1((*world).downloadReturnsBytes))
	sc.Step(`^`+q+` keeps encryption `+q+` and its original bytes, ETag and last-modified time$`, s2((*world).keeps))
	sc.Step(`^the bucket holds (\d+) versions of `+q+`$`, s2((*world).holdsVersions))
	sc.Step(`^the older version of `+q+` still has encryption `+q+` and its original ETag and last-modified time$`, s2((*world).olderVersionKeeps))
	sc.Step(`^each of these byte ranges of `+q+` returns exactly the requested bytes, encrypted with `+q+`:$`, s3((*world).rangesReturn))
	sc.Step(`^byte ranges of `+q+` that cross the boundary between its parts return exactly the requested bytes, encrypted with `+q+`$`, s2((*world).rangesAcrossParts))
	sc.Step(`^the request is refused with status (\d+) and code `+q+`$`, s2((*world).refused))
	sc.Step(`^the bucket holds no object `+q+`$`, s1((*world).holdsNoObject))
	sc.Step(`^downloading `+q+` is refused with status (\d+) and code `+q+`$`, s3((*world).downloadRefused))
	sc.Step(`^uploading `+q+` without encryption settings is refused with status (\d+) and code `+q+`$`, s3((*world).uploadRefused))
	sc.Step(`^uploading `+q+` without encryption settings succeeds$`, s1((*world).uploadSucceeds))
	sc.Step(`^the principal `+q+` is refused downloading `+q+` with status (\d+) and code `+q+`$`, s4((*world).principalRefused))
	sc.Step(`^the principal `+q+` can download `+q+`$`, s2((*world).principalCanDownload))

	// KMS keys.
	sc.Step(`^a new customer master key in KMS$`, s0((*world).newKey))
	sc.Step(`^a new customer master key in KMS with automatic rotation every (\d+) days$`, s1((*world).newRotatingKey))
	sc.Step(`^the named key is disabled in KMS$`, s0((*world).disableKey))
	sc.Step(`^the named key is enabled again in KMS$`, s0((*world).enableKey))
	sc.Step(`^the named key is scheduled for deletion in (\d+) days$`, s1((*world).scheduleDeletion))
	sc.Step(`^the named key's deletion is cancelled$`, s0((*world).cancelDeletion))
	sc.Step(`^the named key is rotated in KMS$`, s0((*world).rotateKey))
	sc.Step(`^the clock moves forward by (\d+) days$`, s1((*world).advanceClock))
	sc.Step(`^a customer master key in a region other than the bucket's$`, s0((*world).keyInOtherRegion))
	sc.Step(`^`+q+` is stored under the named key's version from before the rotation$`, s1((*world).storedUnderVersionBefore))
	sc.Step(`^`+q+` is stored under the named key's new version$`, s1((*world).storedUnderNewVersion))
	sc.Step(`^the OSS-managed master key is rotated$`, s0((*world).rotateMasterKey))
	sc.Step(`^`+q+` is stored under a newer master key version than `+q+`$`, s2((*world).newerMasterVersion))

	// At rest.
	sc.Step(`^I upload `+q+` holding a recognisable plaintext without encryption settings$`, s1((*world).uploadRecognisable))
	sc.Step(`^I upload `+q+` holding a recognisable plaintext in (\d+) parts without encryption settings$`, s2((*world).uploadRecognisableParts))
	sc.Step(`^no data file of `+q+` contains the plaintext$`, s1((*world).noPlaintextAtRest))
	sc.Step(`^the stored encryption record of `+q+` names `+q+`$`, s2((*world).recordNames))
	sc.Step(`^`+q+` is stored exactly as uploaded, without an encryption record$`, s1((*world).storedAsIs))

	// Remediation (steps_remediate.go).
	registerRemediationSteps(sc)
}
