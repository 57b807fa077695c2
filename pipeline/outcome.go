package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/snapshot"
)

// GateError is a run that completed and failed its gate (exit 1): findings
// at or above FailOn, unaccepted coverage gaps or failed scenarios.
type GateError struct{ Outcome findings.Outcome }

func (e *GateError) Error() string { return strings.Join(e.Outcome.Reasons, "; ") }

// IsGate reports whether err is a gate failure (exit 1) rather than a
// failed run or bad input (exit 2).
func IsGate(err error) bool {
	var g *GateError
	return errors.As(err, &g)
}

// serviceKeyAliases name a storage service's own KMS key; the service
// manages it, so its state is not the auditor's to know.
var serviceKeyAliases = []string{"alias/acs/oss", "alias/aws/s3"}

// Gaps lists what the snapshot summary says was not checked, plus extra
// gaps found by the run (e.g. drift), with the accepted ones marked.
// Incompleteness of the scan itself is not a gap but an error (see Decide).
func Gaps(sum *snapshot.Summary, extra []findings.Gap, accept []string) []findings.Gap {
	var gaps []findings.Gap
	add := func(kind string, n int64, detail string) {
		if n > 0 {
			gaps = append(gaps, findings.Gap{Kind: kind, Count: n, Detail: detail})
		}
	}
	// Counted from the bucket records, which the snapshot reader holds to
	// their objects, not from the coverage totals a file could misstate.
	var unread, unversioned []string
	var listed, inspected int64
	for _, b := range sum.Buckets {
		if b.EncryptionError != nil || b.ListError != nil || b.RegionError != nil {
			unread = append(unread, b.Name)
		}
		listed += b.ObjectsListed
		inspected += b.ObjectsInspected
		switch {
		case b.VersioningError != nil:
			unversioned = append(unversioned, b.Name+" (versioning could not be read)")
		case (b.Versioning == "Enabled" || b.Versioning == "Suspended") && !b.VersionsInspected:
			unversioned = append(unversioned, b.Name)
		}
	}
	if n := int64(len(unread)); n > 0 {
		add(findings.GapBuckets, n, fmt.Sprintf("%d of %d buckets not fully read (rule, region or listing failed): %s", n, len(sum.Buckets), sample(unread)))
	}
	if n := listed - inspected; n > 0 {
		add(findings.GapObjects, n, fmt.Sprintf("%d of %d listed objects not inspected (HEAD failed or never sent)", n, listed))
	}
	// Keys whose state is unknown: a record with an error or no state, and
	// a key a bucket default or an object names that has no record at all.
	// A key ARN and its bare id are one key (snapshot.KeyID): S3 names an
	// object's key by ARN, the record may hold the id or another ARN form.
	var unknown []string
	described := map[string]bool{}
	for _, k := range sum.Keys {
		for _, n := range []string{k.KeyID, k.Arn, k.ResolvedKeyID} {
			if n != "" {
				described[n] = true
				described[snapshot.KeyID(n)] = true
			}
		}
		if slices.Contains(serviceKeyAliases, k.KeyID) {
			continue
		}
		if k.Error != nil || (!k.Missing && k.State == "") {
			unknown = append(unknown, k.KeyID)
		}
	}
	referenced := slices.Clone(sum.ObjectKeyIDs)
	for _, b := range sum.Buckets {
		if b.Encryption != nil && b.Encryption.KMSMasterKeyID != "" {
			referenced = append(referenced, b.Encryption.KMSMasterKeyID)
		}
	}
	for _, id := range referenced {
		if !described[id] && !described[snapshot.KeyID(id)] && !slices.Contains(serviceKeyAliases, id) && !slices.Contains(unknown, id) {
			unknown = append(unknown, id)
			described[id] = true
		}
	}
	if len(unknown) > 0 {
		why := "KMS could not describe them"
		if sum.Provenance.Target.KMSEndpoint == "" {
			why = "no KMS endpoint was given (--kms-endpoint)"
		}
		add(findings.GapKeys, int64(len(unknown)), fmt.Sprintf("%d KMS keys in use with unknown state, so whether their data can be decrypted is unknown (%s): %s", len(unknown), why, sample(unknown)))
	}
	if len(unversioned) > 0 {
		add(findings.GapVersions, int64(len(unversioned)), fmt.Sprintf("%d buckets whose noncurrent versions were not inspected (versioned, scanned without --versions, or versioning unreadable): %s", len(unversioned), sample(unversioned)))
	}
	// An inventory census sees the bucket as its report did: objects
	// written since are not in it (package scan does not list them).
	if n := len(sum.Provenance.Inventories); n > 0 {
		var which []string
		for _, inv := range sum.Provenance.Inventories {
			which = append(which, inv.Bucket+" (as of "+inv.AsOf.UTC().Format(time.RFC3339)+")")
		}
		add(findings.GapInventory, int64(n), fmt.Sprintf("%d buckets censused from inventory reports: objects written after each report were not checked: %s", n, sample(which)))
	}
	gaps = append(gaps, extra...)
	for i := range gaps {
		gaps[i].Accepted = slices.Contains(accept, gaps[i].Kind)
	}
	return gaps
}

func sample(names []string) string {
	slices.Sort(names)
	const max = 5
	if len(names) > max {
		return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %d more", len(names)-max)
	}
	return strings.Join(names, ", ")
}

// Decide is the verdict of a run: exit 2 when the scan could not read its
// target or did not run to its end, exit 1 when findings reach the gate,
// a coverage gap was not accepted or a scenario failed, exit 0 otherwise.
// fatal, when not nil, is why the run itself failed.
func Decide(sum *snapshot.Summary, doc *findings.Document, conf *results.Run, gaps []findings.Gap, failOn findings.Severity, failOnName string, fatal error) findings.Outcome {
	o := findings.Outcome{FailOn: failOnName, Gaps: gaps, Reasons: []string{}}
	if o.Gaps == nil {
		o.Gaps = []findings.Gap{}
	}
	if o.FailOn == "" {
		o.FailOn = failOn.String()
		if !failOn.Valid() {
			o.FailOn = "none"
		}
	}
	if fatal != nil {
		o.Reasons = append(o.Reasons, fatal.Error())
	} else if sum != nil && !sum.Complete {
		o.Reasons = append(o.Reasons, "the scan did not run to its end; the snapshot is marked incomplete")
	}
	if len(o.Reasons) > 0 {
		o.Verdict, o.ExitCode = findings.VerdictError, 2
		return o
	}
	if doc != nil {
		if n := doc.Failing(failOn); n > 0 {
			o.Reasons = append(o.Reasons, fmt.Sprintf("%d findings at or above %s", n, o.FailOn))
		}
	}
	for _, g := range gaps {
		if !g.Accepted {
			o.Reasons = append(o.Reasons, fmt.Sprintf("not checked: %s (accept with --accept-gaps %s)", g.Detail, g.Kind))
		}
	}
	if conf != nil && (conf.Failed > 0 || conf.ExitCode != 0) {
		o.Reasons = append(o.Reasons, fmt.Sprintf("conformance failed: %d scenarios failed", conf.Failed))
	}
	if len(o.Reasons) > 0 {
		o.Verdict, o.ExitCode = findings.VerdictFail, 1
		return o
	}
	o.Verdict, o.ExitCode = findings.VerdictPass, 0
	return o
}
