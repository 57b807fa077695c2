package policy

import (
	"context"
	"fmt"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/sseaudit/sseaudit/policies/bench/synth"
	"github.com/sseaudit/sseaudit/snapshot"
)

// BenchmarkBucket splits one bucket's cost into parsing its raw JSON into
// AST (with the input index) and evaluating every bucket rule on it.
func BenchmarkBucket(b *testing.B) {
	dir := b.TempDir()
	for _, n := range []int{0, 100, 1000} {
		p := writeSynthetic(b, dir, fmt.Sprintf("m%d.json", n), synth.Options{Buckets: 4, Objects: n})
		sum, err := snapshot.ReadHeaders(p)
		if err != nil {
			b.Fatal(err)
		}
		var raws [][]byte
		if err := snapshot.EachRawBucket(p, func(r []byte) error { raws = append(raws, r); return nil }); err != nil {
			b.Fatal(err)
		}
		e := load(b, Options{})
		env, err := e.newScanEnv(&sum, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		d := &bucketData{head: &sum.Buckets[3], raw: raws[3]}
		b.Run(fmt.Sprintf("input-%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, _, err := env.bucketInput(d, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		in, _, err := env.bucketInput(d, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("eval-%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := e.bucketQ.Eval(context.Background(), rego.EvalParsedInput(in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
