package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cucumber/godog"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/results"
)

// Expectations. The Then steps of a scenario are its checks. A check that
// fails does not stop the scenario: its step records one expectation per
// independent property (the response header, the stored state on HEAD,
// the bytes read back, the bytes at rest) with a severity and returns nil,
// so the checks after it still run and "the response omits the header"
// reads differently from "the object is not encrypted". The scenario's
// After hook then fails the scenario (godog attaches that error to its
// last step, so godog's own formats fail it too) when an expectation of
// severity low or higher failed; info expectations are compatibility
// notes. Given and When steps still stop the scenario when they fail:
// without their state no check means anything.

// expErr is a failed expectation: its kind of check, severity and text.
type expErr struct {
	check, sev string
	err        error
}

func (e *expErr) Error() string { return e.err.Error() }
func (e *expErr) Unwrap() error { return e.err }

// expect marks err (nil stays nil) as a failed expectation of the given
// check and severity.
func expect(check, sev string, err error) error {
	if err == nil {
		return nil
	}
	return &expErr{check: check, sev: sev, err: err}
}

// sseKind says how a response's SSE headers differ from what was asked.
type sseKind int

const (
	// sseMissing: the response has no SSE algorithm header at all, though
	// the object should be encrypted.
	sseMissing sseKind = iota + 1
	// sseKeyMissing: the algorithm is right but the KMS key id header is
	// missing.
	sseKeyMissing
	// sseWrong: another algorithm or another key than asked (or
	// encryption where none was asked).
	sseWrong
	// sseExtraKey: a key id named for an object that has none.
	sseExtraKey
)

// sseErr is a difference between a response's SSE headers and a method.
type sseErr struct {
	kind sseKind
	msg  string
}

func (e *sseErr) Error() string { return e.msg }

// readSSE classifies a difference seen in a HEAD or GET response, where
// the store says how the object is stored: a missing algorithm or a wrong
// one is high (nothing says the object is encrypted as asked), a missing
// key id header while the algorithm is right is low.
func readSSE(err error) error {
	var out []error
	for _, e := range flatten(err) {
		var s *sseErr
		switch {
		case errors.As(e, &s) && (s.kind == sseKeyMissing || s.kind == sseExtraKey):
			out = append(out, expect(results.CheckStoredState, results.SeverityLow, e))
		default:
			out = append(out, expect(results.CheckStoredState, results.SeverityHigh, e))
		}
	}
	return errors.Join(out...)
}

// writeSSE classifies a difference seen in the response to a write of
// key: a header missing (algorithm or key id) is low when HEAD then shows
// the object stored as asked, high otherwise; a wrong algorithm or key is
// high.
func (w *world) writeSSE(ctx context.Context, key string, m method, err error) error {
	if err == nil {
		return nil
	}
	var out, missing []error
	for _, e := range flatten(err) {
		var s *sseErr
		if errors.As(e, &s) && (s.kind == sseMissing || s.kind == sseKeyMissing) {
			missing = append(missing, e)
			continue
		}
		out = append(out, expect(results.CheckResponseHeader, results.SeverityHigh, e))
	}
	if len(missing) > 0 {
		h, herr := w.client.HeadObject(ctx, w.bucket, key)
		var stored error
		if herr != nil {
			stored = fmt.Errorf("HEAD %s: %s", key, describeErr(herr))
		} else {
			stored = w.checkSSE("the HEAD response of "+key, h.SSE, m)
		}
		for _, e := range missing {
			if stored == nil {
				out = append(out, expect(results.CheckResponseHeader, results.SeverityLow,
					fmt.Errorf("%w; HEAD shows %s stored encrypted with %s, so only the header is missing", e, key, m.name)))
			} else {
				out = append(out, expect(results.CheckResponseHeader, results.SeverityHigh,
					fmt.Errorf("%w; HEAD does not show it encrypted as asked either: %v", e, stored)))
			}
		}
	}
	return errors.Join(out...)
}

// flatten lists the leaves of joined errors (an expErr or sseErr is a
// leaf).
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	switch err.(type) {
	case *expErr, *sseErr:
		return []error{err}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// refusalErr classifies a refusal that differs from the dialect's
// documented status and code: accepted is high (the security property is
// lost), a 5xx low (refused, but as a server failure), another 4xx status
// or code info (refused, nothing stored: a compatibility note).
func refusalErr(err error, got error) error {
	if err == nil {
		return nil
	}
	sev := results.SeverityHigh
	if e, ok := client.AsError(got); ok && got != nil {
		switch {
		case e.StatusCode >= 500:
			sev = results.SeverityLow
		case e.StatusCode >= 400:
			sev = results.SeverityInfo
		}
	}
	return expect(results.CheckRefusal, sev, err)
}

// expectations stores the outcome of one outcome step: a passed expectation,
// or one failed expectation per leaf of err (unclassified ones are high).
func (rec *record) expectations(step string, err error) (hard error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if err == nil {
		rec.res.Expectations = append(rec.res.Expectations, results.Expectation{Step: step, Check: checkOf(step), Passed: true})
		return nil
	}
	worst := ""
	for _, e := range flatten(err) {
		x := results.Expectation{Step: step, Check: results.CheckOther, Severity: results.SeverityHigh, Detail: e.Error()}
		var ee *expErr
		if errors.As(e, &ee) {
			x.Check, x.Severity = ee.check, ee.sev
		} else if c := checkOf(step); c != "" {
			x.Check = c
		}
		if results.SeverityRank(x.Severity) > results.SeverityRank(worst) {
			worst = x.Severity
		}
		rec.res.Expectations = append(rec.res.Expectations, x)
	}
	rec.curSev, rec.curErr = worst, err.Error()
	return nil
}

// checkOf guesses the check of a step that passed, or failed without a
// classification, from its text.
func checkOf(step string) string {
	s := strings.ToLower(step)
	switch {
	case strings.Contains(s, "response"):
		return results.CheckResponseHeader
	case strings.Contains(s, "refused"), strings.Contains(s, "holds no object"), strings.Contains(s, "no default encryption rule"):
		return results.CheckRefusal
	case strings.Contains(s, "data file"), strings.Contains(s, "stored"), strings.Contains(s, "record"):
		return results.CheckAtRest
	case strings.Contains(s, "reading"), strings.Contains(s, "keeps encryption"), strings.Contains(s, "older version"):
		return results.CheckStoredState
	case strings.Contains(s, "download"), strings.Contains(s, "byte ranges"), strings.Contains(s, "succeeds"):
		return results.CheckReadBack
	case strings.Contains(s, "default encryption"):
		return results.CheckRule
	}
	return results.CheckOther
}

// settle turns the error of an outcome step into expectations (the step
// then passes for godog and the scenario goes on); other steps' errors,
// skips and internal errors are returned as they are.
func settle(w *world, err error) error {
	if err == nil && !w.outcome {
		return nil
	}
	if !w.outcome || errors.Is(err, godog.ErrSkip) || errors.Is(err, errInternal) {
		return err
	}
	return w.rec.expectations(w.stepText, err)
}

// errInternal marks a step error that is a defect of the suite (a bad
// feature file), never an expectation of the store.
var errInternal = errors.New("internal")

// expectationFailure is the error the After hook returns for a scenario
// whose expectations failed: every failed expectation of severity low or
// higher, with its severity ("" when none).
func (rec *record) expectationFailure() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return expectationSummary(rec.res.Expectations)
}

// expectationSummary lists the failed expectations of severity low or
// higher ("" when none).
func expectationSummary(xs []results.Expectation) string {
	var b []string
	for _, x := range xs {
		if !x.Passed && results.SeverityRank(x.Severity) >= results.SeverityRank(results.SeverityLow) {
			b = append(b, fmt.Sprintf("[%s, %s] %s", x.Severity, x.Check, oneLine(x.Detail)))
		}
	}
	if len(b) == 0 {
		return ""
	}
	return fmt.Sprintf("%d expectations failed: %s", len(b), strings.Join(b, "; "))
}

// observe records the answer to a request of the scenario (res is used
// when err is nil).
func (w *world) observe(req string, res client.ObjectResult, err error) {
	o := results.Observation{Request: req, Status: 200}
	if err != nil {
		o.Status = 0
		if e, ok := client.AsError(err); ok {
			o.Status, o.Code = e.StatusCode, e.Code
		}
	} else {
		o.SSE = sseLabel(res.SSE)
	}
	w.rec.mu.Lock()
	w.rec.res.Observed = append(w.rec.res.Observed, o)
	w.rec.mu.Unlock()
}

// observeBucket records the answer to a bucket request (no SSE headers
// to compare).
func (w *world) observeBucket(req string, err error) {
	w.observe(req, client.ObjectResult{}, err)
	w.rec.mu.Lock()
	w.rec.res.Observed[len(w.rec.res.Observed)-1].SSE = ""
	w.rec.mu.Unlock()
}

// sseLabel names what SSE headers said, without the key id itself.
func sseLabel(s client.SSE) string {
	switch {
	case s.Algorithm == "":
		return "none"
	case s.KeyID != "":
		return s.Algorithm + "+key"
	}
	return s.Algorithm
}
