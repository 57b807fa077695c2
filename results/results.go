// Package results holds what a conformance run did, scenario by scenario
// and step by step: the data the conformance suite (package steps) produces
// and report renderers consume. It must not run anything or know how a
// report looks.
package results

import "time"

// Scenario statuses. Every scenario of a run has one of the first three; a
// dry run gives StatusNotRun to the scenarios a real run would run.
const (
	StatusPassed  = "passed"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
	StatusNotRun  = "not run"
)

// Scenario is what one scenario (one Examples row of an outline) did.
type Scenario struct {
	Feature, Name string
	// Tags are the scenario's tags with their "@", inherited ones included.
	Tags []string
	// Status is StatusPassed, StatusFailed or StatusSkipped (StatusNotRun
	// in a dry run). The run is strict: a scenario with an undefined,
	// pending or ambiguous step is failed, and its Error says which.
	Status string
	// Error is why the scenario did not pass: the first failure, or for a
	// skipped scenario why it was skipped ("@kms: no KMS endpoint is
	// configured ..."). For StatusNotRun it is "" or says how the scenario
	// may still be skipped at run time.
	Error string
	Steps []Step
	// Dialect is "oss" or "s3" (from the scenario's tag).
	Dialect string
	// Duration is the scenario's run time, clean-up included.
	Duration time.Duration
}

// Step is what one step did.
type Step struct {
	Text   string
	Status string // passed, failed, skipped, pending, undefined or ambiguous
	Error  string
}

// Exclusion is a group of scenarios that the tag expression matched but
// that can never apply to the run, e.g. the OSS scenarios of a run with
// only an S3 target. They are not selected (godog never sees them), are
// not in Run.Scenarios and are in no count but Run.NotApplicable.
type Exclusion struct {
	// Tag excluded them, e.g. "@oss".
	Tag string
	// Reason is why, e.g. "the run has no OSS target".
	Reason string
	Count  int
}

// Run is a whole run.
type Run struct {
	// Scenarios are the selected scenarios, exactly those godog ran (in a
	// dry run, those it would run or skip).
	Scenarios []Scenario
	// Passed, Failed and Skipped count Scenarios by status; in a dry run
	// NotRun counts those a real run would run, and Skipped those it
	// would skip. Their sum is len(Scenarios).
	Passed, Failed, Skipped, NotRun int
	// NotApplicable counts the scenarios the tag expression matched that
	// can never apply to this run, and NotApplicableBy says why (see
	// Exclusion); they are not in Scenarios.
	NotApplicable   int
	NotApplicableBy []Exclusion
	// DryRun says nothing ran: the run only selected scenarios.
	DryRun bool
	// ExitCode is 0 when at least one scenario ran and none failed, 1 when
	// a scenario failed, and 2 when the run could not start or nothing
	// ran (Run then also returns an error).
	ExitCode int
}
