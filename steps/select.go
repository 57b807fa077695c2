package steps

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/cucumber/godog"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/features"
	"github.com/sseaudit/sseaudit/results"
)

// Selection happens before godog runs: the user's tag expression is
// restricted to the dialects the run has a target for, so godog's own
// counts are the run's. What the expression matched beyond that is counted
// as not applicable (results.Exclusion), never as skipped: a scenario of
// another dialect can never run here, whatever the endpoint does.

var tagRE = regexp.MustCompile(`^~?@[^\s@~,&]+$`)

// tagExpr is a parsed godog tag expression: an OR (",") of ANDs ("&&") of
// terms, each a tag optionally negated with "~". godog has no parentheses
// and no Cucumber-style "not"/"and"/"or".
type tagExpr [][]string

// parseTags refuses what godog would panic on or silently match nothing
// with: empty terms, Cucumber-style expressions and tags no feature uses.
func parseTags(expr string) (tagExpr, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	var out tagExpr
	for _, or := range strings.Split(expr, ",") {
		var and []string
		for _, term := range strings.Split(or, "&&") {
			term = strings.TrimSpace(term)
			if !tagRE.MatchString(term) {
				return nil, fmt.Errorf("steps: tag expression %q: %q is not a tag; use godog's syntax: @a && ~@b (AND, NOT), @a,@b (OR)", expr, term)
			}
			if _, ok := features.LookupTag(strings.TrimPrefix(term, "~")); !ok {
				return nil, fmt.Errorf("steps: tag expression %q: no scenario has the tag %s; the tags are %s", expr, strings.TrimPrefix(term, "~"), tagNamesList())
			}
			and = append(and, term)
		}
		out = append(out, and)
	}
	return out, nil
}

func tagNamesList() string {
	var names []string
	for _, t := range features.Tags() {
		names = append(names, t.Name)
	}
	return strings.Join(names, " ")
}

// and returns the expression with terms ANDed onto every OR branch (godog
// has no parentheses), as godog's syntax.
func (e tagExpr) and(terms ...string) string {
	if len(e) == 0 {
		return strings.Join(terms, " && ")
	}
	ors := make([]string, 0, len(e))
	for _, a := range e {
		ors = append(ors, strings.Join(append(slices.Clone(a), terms...), " && "))
	}
	return strings.Join(ors, ",")
}

// dialectOf is the dialect a dialect tag names.
func dialectOf(t features.Tag) client.Dialect {
	return client.Dialect(strings.TrimPrefix(t.Name, "@"))
}

// selection is what a run gives godog and what it leaves out.
type selection struct {
	// expr is godog's tag expression: the user's, restricted to the
	// dialects with a target.
	expr     string
	count    int
	excluded []results.Exclusion
}

// notApplicable is the number of scenarios excluded.
func (s selection) notApplicable() int {
	n := 0
	for _, e := range s.excluded {
		n += e.Count
	}
	return n
}

// selectScenarios restricts user to the dialects the run has a target for
// and counts what that leaves out, with godog's own parser and tag filter.
func selectScenarios(user tagExpr, dialects map[client.Dialect]bool) (selection, error) {
	var restrict []string
	var missing []features.Tag
	for _, t := range features.TagsOfKind(features.KindDialect) {
		if !dialects[dialectOf(t)] {
			restrict = append(restrict, "~"+t.Name)
			missing = append(missing, t)
		}
	}
	sel := selection{expr: user.and(restrict...)}
	n, err := countScenarios(sel.expr)
	if err != nil {
		return sel, err
	}
	sel.count = n
	for _, t := range missing {
		k, err := countScenarios(user.and(t.Name))
		if err != nil {
			return sel, err
		}
		if k > 0 {
			sel.excluded = append(sel.excluded, results.Exclusion{Tag: t.Name, Reason: t.NotApplicable, Count: k})
		}
	}
	return sel, nil
}

// countScenarios counts the scenarios (Examples rows) expr selects.
func countScenarios(expr string) (int, error) {
	suite := godog.TestSuite{Options: &godog.Options{FS: features.FS, Paths: []string{"."}, Tags: expr}}
	fts, err := suite.RetrieveFeatures()
	if err != nil {
		return 0, fmt.Errorf("steps: read the feature files: %w", err)
	}
	n := 0
	for _, ft := range fts {
		n += len(ft.Pickles)
	}
	return n, nil
}

// noMatch is the error of a run whose selection is empty.
func noMatch(expr string, sel selection) error {
	what := "the whole suite"
	if expr != "" {
		what = fmt.Sprintf("the tag expression %q", expr)
	}
	if len(sel.excluded) == 0 {
		return fmt.Errorf("steps: no scenario matched %s", what)
	}
	return fmt.Errorf("steps: no scenario of %s applies to this run: %s", what, exclusions(sel.excluded))
}

// exclusions says in one line what was not applicable and why.
func exclusions(ex []results.Exclusion) string {
	parts := make([]string, 0, len(ex))
	for _, e := range ex {
		parts = append(parts, fmt.Sprintf("%d scenarios tagged %s: %s", e.Count, e.Tag, e.Reason))
	}
	return strings.Join(parts, "; ")
}
