// Package faults names the deliberate defects the reference server can be
// started with, so that the conformance suite can be shown to fail when a
// rule of the seed document is broken. Each fault breaks exactly one rule
// (two may break the same one in different places).
// Faults exist only for that proof: nothing enables them by default, the
// serve flag that sets them is hidden, and the server logs a warning when
// any is on. This package holds names and parsing only; the packages that
// implement each fault check Set.Has at the one place the rule lives.
package faults

import (
	"fmt"
	"slices"
	"strings"
)

// Fault is one deliberate defect.
type Fault string

// The faults, with the rule each one breaks.
const (
	// ApplyDefaultToExisting silently re-encrypts existing objects (keeping
	// their ETag and LastModified) when a bucket's
	// default changes ("the default never affects existing objects").
	ApplyDefaultToExisting Fault = "apply-default-to-existing"
	// OmitSSEHeader leaves the SSE response headers out ("a header is added
	// in the response to indicate that the object is encrypted").
	OmitSSEHeader Fault = "omit-sse-header"
	// OmitSSEHeaderCopyMultipart leaves the SSE response headers out of
	// CopyObject and multipart upload responses only, while still
	// encrypting, as some third-party S3 servers do (the same rule as
	// OmitSSEHeader, broken where only the response header is wrong).
	OmitSSEHeaderCopyMultipart Fault = "omit-sse-header-copy-multipart"
	// IgnoreNamedCMK encrypts with the default key alias/acs/oss when a
	// named CMK was asked for ("the specified CMK ID is recorded").
	IgnoreNamedCMK Fault = "ignore-named-cmk"
	// PlaintextAtRest stores SSE objects unencrypted while reporting them
	// as encrypted ("OSS encrypts the object and stores the encrypted object").
	PlaintextAtRest Fault = "plaintext-at-rest"
	// AcceptKeyIDWithAES256 accepts a KMS key id together with AES256
	// (a key id is only applicable to KMS).
	AcceptKeyIDWithAES256 Fault = "accept-key-id-with-aes256"
	// UseDisabledKey lets KMS use a Disabled key (only Enabled keys may
	// encrypt or decrypt).
	UseDisabledKey Fault = "use-disabled-key"
)

// All lists every fault in a stable order.
func All() []Fault {
	return []Fault{ApplyDefaultToExisting, OmitSSEHeader, IgnoreNamedCMK, PlaintextAtRest, AcceptKeyIDWithAES256, UseDisabledKey, OmitSSEHeaderCopyMultipart}
}

// Set is a set of enabled faults. The nil Set has none. It is not modified
// after Parse or Of, so it is safe to share.
type Set map[Fault]bool

// Of builds a set.
func Of(fs ...Fault) Set {
	s := Set{}
	for _, f := range fs {
		s[f] = true
	}
	return s
}

// Has reports whether f is enabled.
func (s Set) Has(f Fault) bool { return s[f] }

// Parse reads a comma-separated list of fault names; "" is the empty set.
func Parse(list string) (Set, error) {
	s := Set{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !slices.Contains(All(), Fault(name)) {
			names := make([]string, 0, len(All()))
			for _, f := range All() {
				names = append(names, string(f))
			}
			return nil, fmt.Errorf("unknown fault %q; known faults: %s", name, strings.Join(names, ", "))
		}
		s[Fault(name)] = true
	}
	return s, nil
}

// String lists the enabled faults in stable order.
func (s Set) String() string {
	var out []string
	for _, f := range All() {
		if s[f] {
			out = append(out, string(f))
		}
	}
	return strings.Join(out, ",")
}
