package remediate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sseaudit/sseaudit/client"
)

// Single-request copy limits of the services: larger objects go through
// UploadPartCopy.
const (
	S3CopyLimit  int64 = 5 << 30
	OSSCopyLimit int64 = 1 << 30
	// DefaultPartSize is the UploadPartCopy part size.
	DefaultPartSize int64 = 64 << 20
	// DefaultConcurrency is how many objects are rewritten at once.
	DefaultConcurrency = 8
)

// ApplyOptions configure Apply.
type ApplyOptions struct {
	Client *client.Client
	// Yes applies; without it Apply only checks (target, age, the write
	// probes, which change nothing) and says what it would do.
	Yes bool
	// Rate bounds the requests per second (0: none); Concurrency the
	// objects in flight (0: DefaultConcurrency).
	Rate        float64
	Concurrency int
	// JournalPath is required with Yes.
	JournalPath string
	// PlanSHA256 is the plan's digest (Read returns it).
	PlanSHA256 string
	// MaxAge bounds the scan's age (0: DefaultMaxAge; negative: none).
	MaxAge time.Duration
	// Threshold is the size from which an object is copied in parts (0:
	// the dialect's limit); PartSize the part size (0: DefaultPartSize).
	Threshold, PartSize int64
	// Log gets one line per bucket and per object outcome (nil: none).
	Log io.Writer
	Now func() time.Time
}

// Apply applies p (or, without o.Yes, checks it) and returns the result,
// built from the whole journal so a resumed run reports every object.
// Bad input (another target, a scan too old, refused writes) is an error
// before anything changes. When ctx ends, the copies in flight finish,
// are verified and journalled, and Apply returns ctx's error with the
// result so far.
func Apply(ctx context.Context, p *Plan, o ApplyOptions) (*Result, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if err := checkTarget(p, o.Client); err != nil {
		return nil, err
	}
	if err := checkAge(scanTime(p), o.MaxAge, now()); err != nil {
		return nil, err
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PartSize <= 0 {
		o.PartSize = DefaultPartSize
	}
	if o.Threshold <= 0 {
		o.Threshold = S3CopyLimit
		if o.Client.Dialect() == client.OSS {
			o.Threshold = OSSCopyLimit
		}
	}
	if o.Rate > 0 {
		lim := rate.NewLimiter(rate.Limit(o.Rate), 1)
		ctx = client.WithRequestGate(ctx, func(ctx context.Context) (func(), error) {
			return func() {}, lim.Wait(ctx)
		})
	}
	a := &applier{p: p, o: o, now: now}
	if err := a.probe(ctx); err != nil {
		return nil, err
	}
	if !o.Yes {
		return a.dryRun(), nil
	}
	if o.JournalPath == "" {
		return nil, errors.New("remediate: --yes needs a --journal file: it is what makes an interrupted apply resume without redoing or missing an object")
	}
	j, states, _, err := openJournal(o.JournalPath, o.PlanSHA256, now().UTC())
	if err != nil {
		return nil, err
	}
	a.j, a.states = j, states
	runErr := a.run(ctx)
	if err := j.close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("remediate: close the journal: %w", err)
	}
	res, err := BuildResult(p, o.JournalPath, false)
	if err != nil {
		return nil, errors.Join(runErr, err)
	}
	return res, runErr
}

func scanTime(p *Plan) time.Time {
	if !p.Source.ScanFinishedAt.IsZero() {
		return p.Source.ScanFinishedAt
	}
	return p.Source.ScanStartedAt
}

// checkTarget refuses a plan for another endpoint or dialect than c's.
func checkTarget(p *Plan, c *client.Client) error {
	if string(c.Dialect()) != p.Target.Dialect || strings.TrimRight(c.Endpoint(), "/") != strings.TrimRight(p.Target.Endpoint, "/") {
		return fmt.Errorf("remediate: the plan is for %s %s, not %s %s: apply a plan to the target whose scan it was made from (or leave --endpoint and --dialect out to use the plan's)",
			p.Target.Dialect, p.Target.Endpoint, c.Dialect(), c.Endpoint())
	}
	return nil
}

type applier struct {
	p      *Plan
	o      ApplyOptions
	now    func() time.Time
	j      *journal
	states map[[2]string]*objectState

	mu sync.Mutex
}

func (a *applier) logf(format string, args ...any) {
	if a.o.Log != nil {
		a.mu.Lock()
		fmt.Fprintf(a.o.Log, format+"\n", args...)
		a.mu.Unlock()
	}
}

// probeKey is the key a bucket's write probe names: its first planned
// object, else a key of this tool's (the probe writes nothing either way).
func probeKey(b *BucketPlan) string {
	if len(b.Objects) > 0 {
		return b.Objects[0].Key
	}
	return ".sseaudit-remediate-probe"
}

// probe asks every bucket whether this principal may write it with the
// planned encryption (a multipart upload initiated and aborted: nothing
// changes), so that a principal without write permission or a bucket
// policy denying the writes stops the run before anything is changed.
func (a *applier) probe(ctx context.Context) error {
	for i := range a.p.Buckets {
		b := &a.p.Buckets[i]
		if b.SetDefault == nil && len(b.Objects) == 0 {
			continue
		}
		if err := a.o.Client.ProbeWrite(ctx, b.Name, probeKey(b), a.p.Encryption.SSE()); err != nil {
			if e, ok := client.AsError(err); ok && (e.StatusCode == http.StatusForbidden || e.StatusCode == http.StatusUnauthorized) {
				return fmt.Errorf("remediate: bucket %s refuses a write with the planned encryption (%v): nothing was changed; the credentials need write permission on the bucket (and use of the KMS key), and the bucket policy must allow the copy", b.Name, err)
			}
			return fmt.Errorf("remediate: bucket %s: the write probe failed (%w): nothing was changed", b.Name, err)
		}
	}
	return nil
}

func (a *applier) dryRun() *Result {
	r := &Result{Schema: ResultSchema, DryRun: true, Plan: a.p.Source, Target: a.p.Target, Encryption: a.p.Encryption}
	for _, b := range a.p.Buckets {
		if b.SetDefault != nil {
			a.logf("would set the default encryption of %s to %s", b.Name, describe(*b.SetDefault))
			r.DefaultsSet = append(r.DefaultsSet, b.Name)
		}
		for _, ob := range b.Objects {
			mode := "CopyObject"
			if ob.Size >= a.o.Threshold {
				mode = "UploadPartCopy"
			}
			a.logf("would rewrite %s/%s (%d bytes, %s) with %s", b.Name, ob.Key, ob.Size, mode, describe(a.p.Encryption))
			r.Objects = append(r.Objects, ObjectResult{Bucket: b.Name, Key: ob.Key, Outcome: OutcomePlanned})
			r.Counts.Planned++
		}
		for _, ob := range b.Noncurrent {
			r.NoncurrentKept = append(r.NoncurrentKept, Version{Bucket: b.Name, Key: ob.Key, VersionID: ob.VersionID})
		}
	}
	return r
}

func describe(e Encryption) string {
	if e.KMSKeyID != "" {
		return e.Algorithm + " (" + e.KMSKeyID + ")"
	}
	return e.Algorithm
}

type task struct {
	b  *BucketPlan
	ob *Object
}

func (a *applier) run(ctx context.Context) error {
	// Bucket defaults first: new writes are encrypted from now on, while
	// the old objects are rewritten.
	for i := range a.p.Buckets {
		b := &a.p.Buckets[i]
		if b.SetDefault == nil || a.states[[2]string{b.Name, ""}] != nil || ctx.Err() != nil {
			continue
		}
		rule := client.Rule{Algorithm: b.SetDefault.Algorithm, KMSMasterKeyID: b.SetDefault.KMSKeyID}
		if err := a.o.Client.PutBucketEncryption(context.WithoutCancel(ctx), b.Name, rule); err != nil {
			return fmt.Errorf("remediate: set the default encryption of %s: %w", b.Name, err)
		}
		if err := a.j.append(Entry{Op: OpDefault, Time: a.now().UTC(), Bucket: b.Name}); err != nil {
			return err
		}
		a.logf("set the default encryption of %s to %s", b.Name, describe(*b.SetDefault))
	}
	tasks := make(chan task)
	var wg sync.WaitGroup
	errs := make(chan error, a.o.Concurrency)
	for range a.o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				// In flight, an object is finished whatever happens to
				// ctx: a copy cut off half-way is what an interrupt
				// must not leave behind.
				if err := a.object(context.WithoutCancel(ctx), t.b, t.ob); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var stopErr error
dispatch:
	for i := range a.p.Buckets {
		b := &a.p.Buckets[i]
		for k := range b.Objects {
			ob := &b.Objects[k]
			if st := a.states[[2]string{b.Name, ob.Key}]; st != nil && (st.last == OpDone || st.last == OpSkip) {
				continue
			}
			select {
			case <-ctx.Done():
				stopErr = fmt.Errorf("remediate: interrupted: the copies in flight were finished and journalled; run the same command again to resume: %w", ctx.Err())
				break dispatch
			case err := <-errs:
				stopErr = err
				break dispatch
			case tasks <- task{b, ob}:
			}
		}
	}
	close(tasks)
	wg.Wait()
	close(errs)
	for err := range errs {
		if stopErr == nil {
			stopErr = err
		}
	}
	return stopErr
}
