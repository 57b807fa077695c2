package policy

import (
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/sseaudit/sseaudit/history"
)

// RewriteLookup is implemented by a HistoryLookup that also knows the
// objects 'sseaudit remediate apply' rewrote on purpose (*history.DB
// does). The engine asks it only when a previous snapshot is compared,
// for the rewrites since that snapshot's scan started, and hands them to
// the rules as input.rewrites, so the drift rule (SSE-007) can tell a
// journalled remediation from storage drift.
type RewriteLookup interface {
	Rewrites(targetKey, bucket string, since time.Time) ([]history.Rewrite, error)
}

var _ RewriteLookup = (*history.DB)(nil)

var tRewrites = ast.StringTerm("rewrites")

// bucketRewrites reads the journalled rewrites of bucket since the
// previous scan started, as terms by key; nil when there is no previous
// snapshot, no lookup that knows rewrites, or none.
func (env *scanEnv) bucketRewrites(bucket string) (map[string][]*ast.Term, error) {
	rl, ok := env.hist.(RewriteLookup)
	if !ok || env.prevSum == nil {
		return nil, nil
	}
	rs, err := rl.Rewrites(env.targetKey, bucket, env.prevSum.Provenance.StartedAt)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	out := make(map[string][]*ast.Term, len(rs))
	for i := range rs {
		r := &rs[i]
		t, err := jsonTerm(map[string]any{"key": r.Key, "before": r.Before, "after": r.After, "at": r.At})
		if err != nil {
			return nil, fmt.Errorf("rewrite of %s/%s: %w", bucket, r.Key, err)
		}
		out[r.Key] = append(out[r.Key], t)
	}
	return out, nil
}

// rewritesTerm is input.rewrites of a chunk: {key: [rewrite]} for the
// chunk's objects that have journalled rewrites, null when none do.
func rewritesTerm(rw map[string][]*ast.Term, objs []*ast.Term) *ast.Term {
	if len(rw) == 0 {
		return ast.NullTerm()
	}
	var out ast.Object
	for _, o := range objs {
		k := termString(o.Value.(ast.Object).Get(tKey))
		ts, ok := rw[k]
		if !ok {
			continue
		}
		if out == nil {
			out = ast.NewObject()
		}
		kt := ast.StringTerm(k)
		if out.Get(kt) == nil {
			out.Insert(kt, ast.ArrayTerm(ts...))
		}
	}
	if out == nil {
		return ast.NullTerm()
	}
	return ast.NewTerm(out)
}
