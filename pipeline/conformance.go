package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/results"
	"github.com/sseaudit/sseaudit/steps"
)

// runConformance runs the conformance suite as part of a run: against its
// own embedded reference (both dialects) when the target is the embedded
// one, else against the target in its dialect. cucumber.json goes to
// cucumberPath.
func runConformance(ctx context.Context, opts Options, cucumberPath string) (results.Run, error) {
	var so steps.Options
	t := opts.Target
	if t.Embedded() {
		dir, err := os.MkdirTemp("", "sseaudit-conformance-")
		if err != nil {
			return results.Run{}, err
		}
		defer os.RemoveAll(dir)
		var stop func(context.Context) error
		if so, stop, err = steps.Reference(ctx, dir, nil); err != nil {
			return results.Run{}, fmt.Errorf("start the embedded reference: %w", err)
		}
		defer stop(context.WithoutCancel(ctx))
		if d := client.Dialect(t.Dialect); d != "" {
			// --dialect with the embedded reference: that dialect's
			// scenarios only, keys through the KMS API that goes with it.
			so.Targets = map[client.Dialect]client.Config{d: so.Targets[d]}
			if t.KMSDialectOf() == KMSAlibaba {
				so.AWSKMS = nil
			}
			note(opts.Notes, "conformance: running the suite against the embedded reference (%s, keys through %s KMS)", d, kmsName(t.KMSDialectOf()))
		} else {
			note(opts.Notes, "conformance: running the suite against the embedded reference (both dialects)")
		}
	} else {
		d := client.Dialect(t.Dialect)
		so.Targets = map[client.Dialect]client.Config{d: {Dialect: d, Endpoint: t.Endpoint, Region: t.Region, AccessKeyID: t.AccessKeyID, AccessKeySecret: t.AccessKeySecret}}
		if t.KMSEndpoint != "" {
			kc := &client.KMSConfig{Endpoint: t.KMSEndpoint, Region: t.Region, AccessKeyID: t.KMSAccessKeyID, AccessKeySecret: t.KMSAccessKeySecret}
			if t.KMSDialectOf() == KMSAWS {
				so.AWSKMS = kc
			} else {
				so.KMS = kc
			}
		}
		so.BucketPrefix = opts.Conformance.BucketPrefix
		note(opts.Notes, "conformance: running the suite against %s (%s); @emulator scenarios are skipped: they need the reference's admin hooks", t.Endpoint, d)
	}
	so.Format, so.Output = "cucumber:"+cucumberPath, io.Discard
	return steps.Run(ctx, so)
}
