// Package results holds what a conformance run did, scenario by scenario
// and step by step: the data the conformance suite (package steps) produces
// and report renderers consume. It must not run anything or know how a
// report looks.
package results

import "time"

// Scenario is what one scenario (one Examples row of an outline) did.
type Scenario struct {
	Feature, Name string
	// Tags are the scenario's tags with their "@", inherited ones included.
	Tags []string
	// Status is passed, failed, skipped, pending or undefined.
	Status string
	// Error is the failure, or for a skipped scenario why it was skipped.
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

// Run is a whole run.
type Run struct {
	Scenarios []Scenario
	// Failed counts failed, undefined and pending scenarios (the run is
	// strict).
	Passed, Failed, Skipped int
	// ExitCode is 0 when every scenario that ran passed and at least one
	// ran; otherwise non-zero (godog's 1 for failures, 2 for bad options).
	ExitCode int
}
