package features

import "slices"

// Kind groups the tags by what they say about a scenario.
type Kind string

// The kinds of tag.
const (
	// KindDialect: the API the scenario speaks. Every scenario has exactly
	// one; a run without a target of that dialect never selects it (it is
	// not applicable, not skipped).
	KindDialect Kind = "dialect"
	// KindMethod: an encryption method the scenario uses. For selection
	// only (e.g. --tags @kms-cmk); it never skips a scenario.
	KindMethod Kind = "method"
	// KindCapability: something the run must offer; a selected scenario
	// whose capability is missing is skipped, with Tag.Skip as the reason.
	KindCapability Kind = "capability"
	// KindScheduling: how the scenario must be run.
	KindScheduling Kind = "scheduling"
	// KindRule: the rule of the seed document the scenario's checks cover;
	// each matches one deliberate fault of the reference (Tag.Fault).
	KindRule Kind = "rule"
)

// Names of the tags. Go code refers to a tag through these constants so a
// renamed tag cannot leave a stale string behind (a test checks that the
// feature files use exactly the registered tags).
const (
	TagOSS             = "@oss"
	TagS3              = "@s3"
	TagNone            = "@none"
	TagOSSManaged      = "@oss-managed"
	TagKMSDefault      = "@kms-default"
	TagKMSCMK          = "@kms-cmk"
	TagKMS             = "@kms"
	TagVersioning      = "@versioning"
	TagEmulator        = "@emulator"
	TagClock           = "@clock"
	TagRuleNoTouch     = "@rule-no-touch"
	TagRuleSSEHeader   = "@rule-sse-header"
	TagRuleNamedCMK    = "@rule-named-cmk"
	TagRuleAtRest      = "@rule-at-rest"
	TagRuleKeyIDAES256 = "@rule-key-id-aes256"
	TagRuleDisabledKey = "@rule-disabled-key"
)

// Tag is one tag the feature files use.
type Tag struct {
	// Name with its "@", e.g. "@kms".
	Name string
	Kind Kind
	// Meaning says what the tag says about a scenario, for a reader of the
	// README's tag table.
	Meaning string
	// NotApplicable is, for a dialect tag, when a run never selects the
	// scenario ("" for other kinds).
	NotApplicable string
	// Skip is the reason a selected scenario carrying the tag is skipped,
	// worded to be true whenever it is given ("" for a tag that never
	// skips a scenario).
	Skip string
	// RunTime says the skip is decided by the endpoint's answer during
	// the scenario, so a dry run cannot know it beforehand.
	RunTime bool
	// Fault is, for a rule tag, the name of the deliberate fault of the
	// reference that breaks the rule (embedded.Fault's value): the fault
	// proof in package steps checks that the suite fails against it, and
	// only in scenarios with this tag.
	Fault string
	// AlsoFaults are further faults that break the same rule in a
	// narrower place (the fault proof treats each like Fault).
	AlsoFaults []string
}

// registry is every tag, in the order the README lists them. It is never
// modified; Tags hands out copies.
var registry = []Tag{
	{Name: TagOSS, Kind: KindDialect, Meaning: "speaks the Alibaba Cloud OSS API",
		NotApplicable: "the run has no OSS target"},
	{Name: TagS3, Kind: KindDialect, Meaning: "speaks the S3 API",
		NotApplicable: "the run has no S3 target"},

	{Name: TagNone, Kind: KindMethod, Meaning: "uses no server-side encryption"},
	{Name: TagOSSManaged, Kind: KindMethod, Meaning: "uses OSS-managed keys (AES256; SSE-S3 in the S3 dialect)"},
	{Name: TagKMSDefault, Kind: KindMethod, Meaning: "uses KMS with the default key (alias/acs/oss on OSS, the store's own managed key on S3)"},
	{Name: TagKMSCMK, Kind: KindMethod, Meaning: "uses KMS with a named customer master key"},

	{Name: TagKMS, Kind: KindCapability, Meaning: "talks to the KMS endpoint (key administration, resolving alias/acs/oss) or uses the keys the run was given",
		Skip: "no KMS endpoint is configured and no key is given (sseaudit conformance --kms-endpoint, or --kms-key)"},
	{Name: TagVersioning, Kind: KindCapability, Meaning: "turns on bucket versioning",
		Skip:    "the endpoint does not implement bucket versioning (PutBucketVersioning answered 501 NotImplemented)",
		RunTime: true},
	{Name: TagEmulator, Kind: KindCapability,
		Meaning: "needs the reference implementation's admin hooks (bytes at rest, master key rotation, clock, another region, a second principal)",
		Skip:    "needs the reference implementation's admin hooks (only the embedded reference has them)"},

	{Name: TagClock, Kind: KindScheduling, Meaning: "moves the endpoint's clock, so it runs alone when scenarios run concurrently"},

	{Name: TagRuleNoTouch, Kind: KindRule, Meaning: "a bucket default never changes existing objects", Fault: "apply-default-to-existing"},
	{Name: TagRuleSSEHeader, Kind: KindRule, Meaning: "responses say the object is encrypted, and with what", Fault: "omit-sse-header",
		AlsoFaults: []string{"omit-sse-header-copy-multipart"}},
	{Name: TagRuleNamedCMK, Kind: KindRule, Meaning: "the CMK asked for is the one used and recorded", Fault: "ignore-named-cmk"},
	{Name: TagRuleAtRest, Kind: KindRule, Meaning: "an encrypted object is stored encrypted", Fault: "plaintext-at-rest"},
	{Name: TagRuleKeyIDAES256, Kind: KindRule, Meaning: "a KMS key id is refused with AES256", Fault: "accept-key-id-with-aes256"},
	{Name: TagRuleDisabledKey, Kind: KindRule, Meaning: "a disabled key neither encrypts nor decrypts", Fault: "use-disabled-key"},
}

// Tags returns every tag the feature files use, in the README's order.
func Tags() []Tag { return slices.Clone(registry) }

// LookupTag returns the registered tag named name (with its "@").
func LookupTag(name string) (Tag, bool) {
	i := slices.IndexFunc(registry, func(t Tag) bool { return t.Name == name })
	if i < 0 {
		return Tag{}, false
	}
	return registry[i], true
}

// RuleTagOfFault returns the rule tag of the scenarios whose checks cover
// the rule fault breaks.
func RuleTagOfFault(fault string) (Tag, bool) {
	i := slices.IndexFunc(registry, func(t Tag) bool {
		return t.Kind == KindRule && (t.Fault == fault || slices.Contains(t.AlsoFaults, fault))
	})
	if i < 0 {
		return Tag{}, false
	}
	return registry[i], true
}

// TagsOfKind returns the registered tags of kind k, in registry order.
func TagsOfKind(k Kind) []Tag {
	var out []Tag
	for _, t := range registry {
		if t.Kind == k {
			out = append(out, t)
		}
	}
	return out
}
