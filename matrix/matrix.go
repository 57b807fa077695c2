// Package matrix holds the cross-target conformance matrix: the results of
// one conformance run per target (package results), lined up scenario by
// target, with the answers (status codes, error codes, SSE headers) that
// differ between targets, rendered as HTML and Markdown. It must not run
// anything: the caller runs the suite once per target (package steps).
package matrix

import (
	"fmt"
	"strings"

	"github.com/sseaudit/sseaudit/results"
)

// Column is one target of the matrix and its run.
type Column struct {
	// Name is what the matrix calls the target, e.g. "reference (S3)".
	Name string
	Run  results.Run
	// Error says why the target's run failed as a whole (it could not be
	// reached, refused the credentials, or ran no scenario); "" when it
	// ran. A target is never dropped from the matrix: its error is shown
	// with it.
	Error string
	// Unreachable says the run never started: Run is then the selection
	// a dry run made for the target, and each of its scenarios is shown as
	// StatusUnreachable, so the rows the target owed stay visible.
	Unreachable bool
}

const (
	// StatusNotApplicable is the cell of a scenario the target's run did
	// not select (another dialect, or left out by the tags): not skipped,
	// not run.
	StatusNotApplicable = "not applicable"
	// StatusUnreachable is the cell of a scenario a target would have run
	// had it been reached (Column.Unreachable).
	StatusUnreachable = "unreachable"
)

// Cell is one scenario on one target.
type Cell struct {
	// Status is the scenario's status, or StatusNotApplicable.
	Status string
	// Dialect is the dialect the scenario ran in ("oss" or "s3").
	Dialect string
	// Severity is the highest severity of its failed expectations.
	Severity string
	// Error says why it did not pass.
	Error string
	// Observed are the answers its requests got.
	Observed []results.Observation
}

// Row is one scenario across the targets.
type Row struct {
	Feature, Name string
	// Cells are in the order of Matrix.Columns.
	Cells []Cell
	// Differs says the targets did not all give the same status, or some
	// request was answered differently.
	Differs bool
	// Differences lists, per request answered differently, what each
	// target answered ("" where a target sent no such request).
	Differences []Difference
}

// Difference is one request that targets answered differently.
type Difference struct {
	Request string
	// Answers are in the order of Matrix.Columns.
	Answers []string
}

// Matrix is scenario by target.
type Matrix struct {
	Columns []string
	Rows    []Row
	// Differing counts the rows that differ.
	Differing int
	// Errors are the columns' errors (Column.Error), in the order of
	// Columns ("" for a target that ran).
	Errors []string
}

// Totals counts one column's cells by status.
type Totals struct {
	Passed, Failed, Skipped, NotApplicable, Unreachable int
}

// Totals counts the cells of column c by status.
func (m Matrix) Totals(c int) Totals {
	var t Totals
	for _, r := range m.Rows {
		switch r.Cells[c].Status {
		case results.StatusPassed:
			t.Passed++
		case results.StatusFailed:
			t.Failed++
		case results.StatusSkipped:
			t.Skipped++
		case StatusNotApplicable:
			t.NotApplicable++
		case StatusUnreachable:
			t.Unreachable++
		}
	}
	return t
}

// Build lines up the runs of cols. A scenario is identified by feature,
// name and its occurrence among the run's scenarios of that name (outline
// rows of one name in one dialect), so a target of either dialect lines up
// with the others.
func Build(cols []Column) Matrix {
	m := Matrix{}
	type key struct {
		feature, name string
		n             int
	}
	index := map[key]int{}
	for c, col := range cols {
		m.Columns = append(m.Columns, col.Name)
		m.Errors = append(m.Errors, col.Error)
		seen := map[[2]string]int{}
		for _, s := range col.Run.Scenarios {
			fn := [2]string{s.Feature, s.Name}
			k := key{s.Feature, s.Name, seen[fn]}
			seen[fn]++
			i, ok := index[k]
			if !ok {
				i = len(m.Rows)
				index[k] = i
				r := Row{Feature: s.Feature, Name: s.Name, Cells: make([]Cell, len(cols))}
				for j := range r.Cells {
					r.Cells[j].Status = StatusNotApplicable
				}
				m.Rows = append(m.Rows, r)
			}
			cell := Cell{Status: s.Status, Dialect: s.Dialect, Severity: s.Severity, Error: s.Error, Observed: s.Observed}
			if col.Unreachable {
				cell = Cell{Status: StatusUnreachable, Dialect: s.Dialect, Error: col.Error}
			}
			m.Rows[i].Cells[c] = cell
		}
	}
	for i := range m.Rows {
		r := &m.Rows[i]
		r.Differences = differences(r.Cells)
		statuses := map[string]bool{}
		for _, c := range r.Cells {
			// Nothing is known of an unreachable target's answers, so its
			// cells make no row differ (its error fails the run instead).
			if c.Status != StatusNotApplicable && c.Status != StatusUnreachable {
				statuses[c.Status+"/"+c.Severity] = true
			}
		}
		r.Differs = len(statuses) > 1 || len(r.Differences) > 0
		if r.Differs {
			m.Differing++
		}
	}
	return m
}

// answered says a cell holds answers to compare: its scenario ran.
func answered(c Cell) bool {
	return c.Status != StatusNotApplicable && c.Status != results.StatusSkipped && c.Status != StatusUnreachable
}

// differences compares the answers of the cells request by request (the
// n-th request of a name with the n-th of the same name), among the cells
// that ran: the status and SSE headers across all targets, the error code
// among the targets of one dialect (each dialect documents its own
// codes).
func differences(cells []Cell) []Difference {
	type req struct {
		name string
		n    int
	}
	var order []req
	answers := map[req][]string{}
	obs := map[req][]*results.Observation{}
	ran := 0
	for c, cell := range cells {
		if !answered(cell) {
			continue
		}
		ran++
		seen := map[string]int{}
		for _, o := range cell.Observed {
			k := req{o.Request, seen[o.Request]}
			seen[o.Request]++
			if _, ok := answers[k]; !ok {
				order = append(order, k)
				answers[k] = make([]string, len(cells))
				obs[k] = make([]*results.Observation, len(cells))
			}
			answers[k][c] = strings.TrimPrefix(o.String(), o.Request+": ")
			obs[k][c] = &o
		}
	}
	if ran < 2 {
		return nil
	}
	var out []Difference
	for _, k := range order {
		a := answers[k]
		neutral, codes := map[string]bool{}, map[string]map[string]bool{}
		for c, cell := range cells {
			if !answered(cell) {
				continue
			}
			o := obs[k][c]
			if o == nil {
				neutral["-"] = true
				continue
			}
			neutral[fmt.Sprintf("%d %s", o.Status, o.SSE)] = true
			if codes[cell.Dialect] == nil {
				codes[cell.Dialect] = map[string]bool{}
			}
			codes[cell.Dialect][o.Code] = true
		}
		differs := len(neutral) > 1
		for _, cs := range codes {
			differs = differs || len(cs) > 1
		}
		if differs {
			name := k.name
			if k.n > 0 {
				name = fmt.Sprintf("%s (#%d)", k.name, k.n+1)
			}
			out = append(out, Difference{Request: name, Answers: a})
		}
	}
	return out
}
