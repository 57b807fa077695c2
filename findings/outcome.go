package findings

// Verdicts of a run, one per exit code of the CLI.
const (
	VerdictPass  = "pass"  // exit 0: nothing at or above the gate, nothing left unchecked
	VerdictFail  = "fail"  // exit 1: findings at or above the gate, unaccepted coverage gaps, or a failed scenario
	VerdictError = "error" // exit 2: the run itself failed or its input was bad
)

// Kinds of coverage gap: what a run was asked to judge and could not see.
const (
	GapScan     = "scan"     // the scan did not run to its end, or could not list the buckets
	GapBuckets  = "buckets"  // buckets whose rule, region or listing could not be read
	GapObjects  = "objects"  // listed objects never inspected, or whose HEAD failed
	GapKeys     = "keys"     // KMS keys in use whose state is unknown
	GapVersions = "versions" // versioned buckets whose noncurrent versions were not inspected
	GapDrift    = "drift"    // the previous snapshot could not be read, so existing objects were not compared
	// GapInventory: buckets censused from an inventory report, whose
	// objects written after the report's time were not checked.
	GapInventory = "inventory"
)

// GapKinds are the kinds of gap a user may accept (GapScan never: a scan
// that did not run to its end is an error, not a gap).
var GapKinds = []string{GapBuckets, GapObjects, GapKeys, GapVersions, GapDrift, GapInventory}

// Outcome is a run's verdict, exactly as the CLI's exit code gives it, with
// what led to it. Every report of the run carries the same Outcome.
type Outcome struct {
	Verdict  string   `json:"verdict"`   // VerdictPass, VerdictFail or VerdictError
	ExitCode int      `json:"exit_code"` // 0, 1 or 2
	FailOn   string   `json:"fail_on"`   // the severity gate (critical ... info, or none)
	Reasons  []string `json:"reasons"`   // why the verdict is not pass; empty on pass
	Gaps     []Gap    `json:"gaps"`      // what was not checked, accepted or not
}

// Gap is one kind of thing a run could not check.
type Gap struct {
	Kind     string `json:"kind"`     // Gap* constant
	Count    int64  `json:"count"`    // how many (buckets, objects, keys...)
	Detail   string `json:"detail"`   // one line for a person
	Accepted bool   `json:"accepted"` // the user accepted it (--accept-gaps); it does not fail the gate
}
