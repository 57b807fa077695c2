package policy

import (
	"context"
	"fmt"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/snapshot"
)

// BenchmarkBucket splits one chunk's cost into parsing its raw JSON into
// AST (with the input index) and evaluating the object rules on it.
func BenchmarkBucket(b *testing.B) {
	dir := b.TempDir()
	for _, n := range []int{0, 100, 1000} {
		p := writeSynthetic(b, dir, fmt.Sprintf("m%d.json", n), synth.Options{Buckets: 4, Objects: n})
		sum, err := snapshot.ReadHeaders(p)
		if err != nil {
			b.Fatal(err)
		}
		raw := []byte{'['}
		if err := snapshot.StreamObjects(p, false, snapshot.ObjectVisitor{Object: func(i int, r []byte, _ int64, _ *snapshot.Object) error {
			if i == 3 {
				if len(raw) > 1 {
					raw = append(raw, ',')
				}
				raw = append(raw, r...)
			}
			return nil
		}}); err != nil {
			b.Fatal(err)
		}
		raw = append(raw, ']')
		e := load(b, Options{})
		env, err := e.newScanEnv(&sum, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		r := chunkReader{e: e, env: env, sum: &sum}
		bs, err := r.bucket(&sum.Buckets[3])
		if err != nil {
			b.Fatal(err)
		}
		c := &chunkJob{b: bs, raw: raw}
		input := func() ast.Value {
			objs, err := chunkObjects(c)
			if err != nil {
				b.Fatal(err)
			}
			in, err := env.chunkInput(bs, objs, false)
			if err != nil {
				b.Fatal(err)
			}
			return in
		}
		b.Run(fmt.Sprintf("input-%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				input()
			}
		})
		in := input()
		b.Run(fmt.Sprintf("eval-%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := e.objectQ.Eval(context.Background(), rego.EvalParsedInput(in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
