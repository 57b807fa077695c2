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
	// Expectations are the independent checks of the scenario's Then
	// steps, each with its own result: a failed check does not stop the
	// checks after it, so "the response omits the header" and "the object
	// is not encrypted" are different results.
	Expectations []Expectation `json:",omitempty"`
	// Severity is the highest severity of a failed expectation or step
	// ("" when none failed). A failed step outside the checks (a set-up
	// step) is high.
	Severity string `json:",omitempty"`
	// Observed are the answers the scenario's requests got, in order
	// (status, error code, SSE headers), so runs against several stores
	// can be compared request by request.
	Observed []Observation `json:",omitempty"`
	// Dialect is "oss" or "s3" (from the scenario's tag).
	Dialect string
	// Duration is the scenario's run time, clean-up included.
	Duration time.Duration
}

// Severities of a failed expectation, highest first. A scenario fails
// when an expectation of severity low or higher fails; an info one is a
// compatibility note and leaves the scenario passed.
const (
	// SeverityHigh: encryption missing or with the wrong key, data read
	// back wrong, or a request that must be refused accepted.
	SeverityHigh = "high"
	// SeverityLow: a response header missing or incomplete while the
	// object is stored encrypted as asked, or a server error (5xx) where
	// a refusal was due and nothing was stored.
	SeverityLow = "low"
	// SeverityInfo: a deviation that keeps the security property, e.g. a
	// refusal with another 4xx status or error code than the dialect
	// documents.
	SeverityInfo = "info"
)

// SeverityRank orders severities: high 3, low 2, info 1, anything else 0.
func SeverityRank(s string) int {
	switch s {
	case SeverityHigh:
		return 3
	case SeverityLow:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// Check kinds of an Expectation: which independent property it checks.
const (
	CheckResponseHeader = "response header"
	CheckStoredState    = "stored state (HEAD)"
	CheckReadBack       = "read-back"
	CheckAtRest         = "bytes at rest"
	CheckRefusal        = "refusal"
	CheckRule           = "bucket rule"
	CheckOther          = "other"
)

// Expectation is one independent check of a scenario and its result.
type Expectation struct {
	// Step is the text of the step that checked it.
	Step string
	// Check is the kind of property checked (Check* constants).
	Check string
	// Passed says the check held; Severity and Detail describe a failed
	// one.
	Passed   bool
	Severity string `json:",omitempty"`
	Detail   string `json:",omitempty"`
}

// Observation is one answer a store gave in a scenario.
type Observation struct {
	// Request names it, e.g. "PutObject doc.txt" or "HEAD doc.txt".
	Request string
	// Status is the HTTP status (0 when no answer came).
	Status int
	// Code is the error code of a refusal.
	Code string `json:",omitempty"`
	// SSE is the encryption the answer's headers named: "none",
	// "AES256", "KMS" or "KMS+key" (a key id named; the id itself
	// differs from store to store and is left out).
	SSE string `json:",omitempty"`
}

// String is the observation as one comparable line.
func (o Observation) String() string {
	s := o.Request + ": "
	if o.Status == 0 {
		return s + "no answer"
	}
	s += itoa(o.Status)
	if o.Code != "" {
		s += " " + o.Code
	}
	if o.SSE != "" {
		s += ", SSE " + o.SSE
	}
	return s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
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
	// Notes counts the scenarios that passed with compatibility notes
	// (failed expectations of severity info).
	Notes int `json:",omitempty"`
	// DefaultKeys is, per dialect, the default KMS key the store answered
	// with when asked for KMS without a key id (S3: the store's own
	// managed key, e.g. AWS's alias/aws/s3 key ARN).
	DefaultKeys map[string]string `json:",omitempty"`
	// DryRun says nothing ran: the run only selected scenarios.
	DryRun bool
	// ExitCode is 0 when at least one scenario ran and none failed, 1 when
	// a scenario failed, and 2 when the run could not start or nothing
	// ran (Run then also returns an error).
	ExitCode int
}
