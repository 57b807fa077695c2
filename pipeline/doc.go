// Package pipeline is sseaudit's one audit pipeline. It joins the pieces in
// the order the data flows, once, for every command that judges a target:
//
//	target -> census (package scan) -> snapshot -> policies (package policy)
//	       -> findings -> history -> report set (package reports, attest)
//	features -> steps -> results -> report set      (when conformance runs)
//	everything above -> Outcome: the verdict and the exit code
//
// `sseaudit scan`, `sseaudit audit` and every scheduled run call Run with
// Options that differ only in what they ask for (a report set, a signature,
// the conformance suite), so the same estate gives the same findings, the
// same exit code and the same report outcome whichever command looked.
//
// # Aggregated findings
//
// A run reports one finding per rule, bucket and distinguishing fact for
// the object rules (findings.Aggregator), never one per object: the
// policies still judge, and waivers still apply to, each object, whose
// finding streams out of the evaluation into AffectedFile, one line each,
// beside findings.json (and into the signed report set). Scan history
// records every per-object id, so each line's first_seen survives
// aggregation.
//
// # Memory
//
// A run's memory does not grow with its findings: each bucket's aggregates
// (findings.Aggregator.Flush) and other findings (policy.OtherSink) leave
// the evaluation as soon as the bucket is evaluated, into a
// findings.SpillWriter that holds at most Options.SpillRunSize of them
// and spills the rest, sorted, to temporary files. The findings document
// then reads them back one at a time (findings.Document.Each), and every
// report format renders them from there byte for byte as from memory.
// What still grows with the estate is per bucket, about 900 bytes a
// bucket (TestAuditBucketMemory): the snapshot's bucket records (the run's
// summary, which the engine and the report model share) and the report
// model's bucket statistics. The built-in scan rules get no
// input.scan.buckets (see package policy), and index.html builds a view
// only of the buckets it lists (at most 1,000).
//
// # Honest outcomes
//
// Decide turns what a run saw into a findings.Outcome:
//
//   - exit 2 (VerdictError): the run itself failed or its input was bad.
//     A target that could not be read (unreachable, refused credentials,
//     wrong region, nothing readable) is one of these. The snapshot,
//     findings and report are still written, marked incomplete, and Run's
//     error says in one line what failed and what to try (*TargetError).
//   - exit 1 (VerdictFail): findings at or above the gate (FailOn), a
//     failed conformance scenario, or a coverage gap the user did not
//     accept with AcceptGaps: objects not inspected, buckets not read, KMS
//     key states unknown, versions not inspected, drift not compared.
//   - exit 0 (VerdictPass): none of the above.
//
// A coverage gap is never a pass: it fails the gate unless the user names
// it in AcceptGaps, and even then the report's headline lists it.
//
// # What it must not do
//
// It holds no rule logic (policies do), speaks to no endpoint itself
// (package client does, through scan and steps) and reaches the embedded
// reference only through package embedded. It never writes a secret:
// credentials live in Target only for the duration of Run.
package pipeline
