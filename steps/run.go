package steps

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/sseaudit/sseaudit/results"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
	"github.com/sseaudit/sseaudit/features"
)

// DefaultBucketPrefix starts the name of every bucket a run creates when
// Options.BucketPrefix is empty.
const DefaultBucketPrefix = "sseaudit-conf-"

// Options configure Run.
type Options struct {
	// Targets per dialect; a dialect absent here makes its scenarios skip.
	// A Config's Dialect may be left empty (the map key is used).
	Targets map[client.Dialect]client.Config
	// KMS is the KMS endpoint that goes with the targets; nil makes @kms
	// scenarios skip.
	KMS *client.KMSConfig
	// Emulator is the reference's admin hooks; nil makes @emulator
	// scenarios skip.
	Emulator Emulator
	// Tags is a godog tag expression ("@a && ~@b", "," is OR; not Cucumber's
	// "not @x"), ANDed with the skips above.
	Tags string
	// Format lists godog formats, e.g.
	// "pretty,junit:out/junit.xml,cucumber:out/cucumber.json" (a format
	// without a path writes to Output; the directories of paths are
	// created). Empty means "pretty".
	Format string
	// Output receives the formats without a path and Run's summary
	// (default os.Stdout).
	Output io.Writer
	// BucketPrefix starts every bucket name (default DefaultBucketPrefix).
	BucketPrefix string
	// Concurrency is how many scenarios run at once (default 1). Scenarios
	// tagged @clock then run alone.
	Concurrency int
	// Randomize shuffles scenarios within each feature with this seed; 0
	// keeps file order, -1 picks a seed.
	Randomize int64
	// TestingT, when set, runs every scenario as a subtest of it.
	TestingT *testing.T
	// DryRun selects scenarios exactly as a real run would but runs none:
	// no client is built, no request is sent, nothing is created. Each
	// scenario is reported skipped with "dry run: would run" or the reason
	// it would be skipped.
	DryRun bool
}

// The result types live in package results, which reports render.
type (
	ScenarioResult = results.Scenario
	StepResult     = results.Step
	Result         = results.Run
)

// RuleTag is the tag of the scenarios whose checks cover the rule fault f
// breaks ("" for an unknown fault), from the tag registry of package
// features.
func RuleTag(f embedded.Fault) string {
	t, _ := features.RuleTagOfFault(string(f))
	return t.Name
}

// knownFormats are godog's registered formatters.
var knownFormats = []string{"pretty", "progress", "junit", "cucumber", "events"}

// runner is one Run: what every scenario shares. Nothing in it changes
// after Run starts the suite except the counters and the results, which
// are guarded.
type runner struct {
	opts    Options
	clients map[client.Dialect]*client.Client
	// hasKMS says Options.KMS is set (and a client could be built from
	// it). Each scenario builds its own KMS SDK client: the SDK's client is
	// not safe for concurrent use (it keeps per-call headers in the client).
	hasKMS bool
	runID  string
	// dryDialects are the dialects a dry run pretends to have clients for.
	dryDialects []client.Dialect
	features    map[string]string // feature file base name -> feature name

	seq       atomic.Int64 // bucket and key name counter
	clockLock sync.RWMutex // @clock scenarios run alone when concurrent

	mu      sync.Mutex
	records []*record
}

// record collects one scenario's result as its hooks report it.
type record struct {
	mu    sync.Mutex
	res   ScenarioResult
	skip  string
	start time.Time
}

// Run runs the suite as opts select and reports every scenario. The error
// is for a run that could not start or in which no scenario ran; failing
// scenarios are reported in the Result (ExitCode != 0), not as an error.
func Run(ctx context.Context, opts Options) (res Result, err error) {
	r, err := newRunner(opts)
	if err != nil {
		return Result{ExitCode: 2}, err
	}
	opts = r.opts
	if err := prepareFormats(opts.Format); err != nil {
		return Result{ExitCode: 2}, err
	}
	suite := godog.TestSuite{
		Name:                "sseaudit-conformance",
		ScenarioInitializer: r.initScenario,
		Options: &godog.Options{
			Format:         opts.Format,
			Output:         opts.Output,
			Tags:           opts.Tags,
			Strict:         true,
			NoColors:       true,
			Concurrency:    opts.Concurrency,
			Randomize:      opts.Randomize,
			TestingT:       opts.TestingT,
			DefaultContext: ctx,
			FS:             features.FS,
			Paths:          []string{"."},
		},
	}
	code, err := runSuite(suite)
	if err != nil {
		return Result{ExitCode: 2}, err
	}
	res = r.result()
	res.ExitCode = code
	if code == 0 && res.Failed > 0 {
		res.ExitCode = 1
	}
	r.summary(opts.Output, res)
	switch {
	case code == 2:
		return res, errors.New("steps: godog refused the options (see its message on stderr)")
	case len(res.Scenarios) == 0:
		if res.ExitCode == 0 {
			res.ExitCode = 1
		}
		return res, fmt.Errorf("steps: no scenario matched the tag expression %q", opts.Tags)
	case opts.DryRun:
		res.ExitCode = 0
	case res.Passed+res.Failed == 0:
		if res.ExitCode == 0 {
			res.ExitCode = 1
		}
		return res, fmt.Errorf("steps: no scenario ran: all %d selected scenarios were skipped (%s)", len(res.Scenarios), skipReasons(res))
	}
	return res, nil
}

// runSuite runs godog, turning a panic (godog panics on some malformed tag
// expressions) into an error.
func runSuite(s godog.TestSuite) (code int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("steps: godog failed: %v", p)
		}
	}()
	return s.Run(), nil
}

// DryRunWouldRun is the skip reason of a scenario a dry run would run.
const DryRunWouldRun = "would run"

func newRunner(opts Options) (*runner, error) {
	if opts.Output == nil {
		opts.Output = os.Stdout
	}
	if opts.Format == "" {
		opts.Format = "pretty"
	}
	if opts.BucketPrefix == "" {
		opts.BucketPrefix = DefaultBucketPrefix
	}
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if err := checkTags(opts.Tags); err != nil {
		return nil, err
	}
	if !bucketPrefixRE.MatchString(opts.BucketPrefix) {
		return nil, fmt.Errorf("steps: BucketPrefix %q: use 3 to 40 lower-case letters, digits and hyphens, starting with a letter or digit", opts.BucketPrefix)
	}
	id := make([]byte, 3)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	r := &runner{opts: opts, clients: map[client.Dialect]*client.Client{}, runID: hex.EncodeToString(id)}
	for d, cfg := range opts.Targets {
		if cfg.Dialect == "" {
			cfg.Dialect = d
		}
		if cfg.Dialect != d {
			return nil, fmt.Errorf("steps: Targets[%q] has Dialect %q", d, cfg.Dialect)
		}
		if opts.DryRun {
			r.clients[d] = nil
			r.dryDialects = append(r.dryDialects, d)
			continue
		}
		c, err := client.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("steps: target %s: %w", d, err)
		}
		r.clients[d] = c
	}
	if opts.KMS != nil && opts.DryRun {
		r.hasKMS = true
	} else if opts.KMS != nil {
		if _, err := client.KMS(*opts.KMS); err != nil {
			return nil, fmt.Errorf("steps: KMS: %w", err)
		}
		r.hasKMS = true
	}
	names, err := featureNames(features.FS)
	if err != nil {
		return nil, err
	}
	r.features = names
	return r, nil
}

var (
	bucketPrefixRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,39}$`)
	tagRE          = regexp.MustCompile(`^~?@[^\s@~,&]+$`)
)

// checkTags refuses what godog would panic on or silently match nothing
// with: empty terms and Cucumber-style "not"/"and"/"or" expressions.
func checkTags(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return nil
	}
	for _, or := range strings.Split(expr, ",") {
		for _, term := range strings.Split(or, "&&") {
			term = strings.TrimSpace(term)
			if !tagRE.MatchString(term) {
				return fmt.Errorf("steps: tag expression %q: %q is not a tag; use godog's syntax: @a && ~@b (AND, NOT), @a,@b (OR)", expr, term)
			}
		}
	}
	return nil
}

// prepareFormats checks the formatter names and creates the directories of
// report files.
func prepareFormats(format string) error {
	for _, f := range strings.Split(format, ",") {
		name, file, hasFile := strings.Cut(strings.TrimSpace(f), ":")
		known := false
		for _, k := range knownFormats {
			known = known || name == k
		}
		if !known {
			return fmt.Errorf("steps: format %q: use one of %s, optionally with :path", f, strings.Join(knownFormats, ", "))
		}
		if hasFile {
			if file == "" {
				return fmt.Errorf("steps: format %q has an empty path", f)
			}
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return fmt.Errorf("steps: format %q: %w", f, err)
			}
		}
	}
	return nil
}

// featureNames reads the "Feature:" line of every feature file.
func featureNames(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	files, err := fs.Glob(fsys, "*.feature")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		fh, err := fsys.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Feature:"); ok {
				out[f] = strings.TrimSpace(name)
				break
			}
		}
		fh.Close()
	}
	return out, nil
}

type worldKey struct{}

func from(ctx context.Context) *world {
	w, _ := ctx.Value(worldKey{}).(*world)
	return w
}

// initScenario wires hooks and steps for one scenario.
func (r *runner) initScenario(sc *godog.ScenarioContext) {
	sc.Before(r.before)
	sc.StepContext().After(func(ctx context.Context, st *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
		if w := from(ctx); w != nil {
			w.rec.step(st.Text, status.String(), err)
		}
		return ctx, nil
	})
	sc.After(r.after)
	registerSteps(sc)
}

func tagNames(p *godog.Scenario) []string {
	out := make([]string, 0, len(p.Tags))
	for _, t := range p.Tags {
		out = append(out, t.Name)
	}
	return out
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

func (r *runner) before(ctx context.Context, p *godog.Scenario) (context.Context, error) {
	tags := tagNames(p)
	rec := &record{res: ScenarioResult{Feature: r.features[path.Base(p.Uri)], Name: p.Name, Tags: tags}, start: time.Now()}
	if rec.res.Feature == "" {
		rec.res.Feature = p.Uri
	}
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
	w := &world{r: r, rec: rec, tags: tags, objects: map[string]*object{}}
	ctx = context.WithValue(ctx, worldKey{}, w)

	var dialects []client.Dialect
	for _, d := range []client.Dialect{client.OSS, client.S3} {
		if hasTag(tags, "@"+string(d)) {
			dialects = append(dialects, d)
		}
	}
	if len(dialects) != 1 {
		return ctx, fmt.Errorf("scenario %q must have exactly one of the tags @oss and @s3, it has %d", p.Name, len(dialects))
	}
	w.dialect = dialects[0]
	rec.res.Dialect = string(w.dialect)
	var why []string
	if r.clients[w.dialect] == nil && !slices.Contains(r.dryDialects, w.dialect) {
		why = append(why, fmt.Sprintf("no %s target is configured", w.dialect))
	}
	if hasTag(tags, "@kms") && !r.hasKMS {
		why = append(why, "@kms: no KMS endpoint is configured")
	}
	if hasTag(tags, "@emulator") && r.opts.Emulator == nil {
		why = append(why, "@emulator: needs the reference implementation's admin hooks (only the embedded reference has them)")
	}
	if r.opts.DryRun {
		if len(why) == 0 {
			why = []string{DryRunWouldRun}
		}
		rec.skip = "dry run: " + strings.Join(why, "; ")
		return ctx, fmt.Errorf("%w: %s", godog.ErrSkip, rec.skip)
	}
	if len(why) > 0 {
		rec.skip = strings.Join(why, "; ")
		if r.opts.TestingT != nil {
			godog.Logf(ctx, "skipped: %s", rec.skip)
		}
		return ctx, fmt.Errorf("%w: %s", godog.ErrSkip, rec.skip)
	}
	w.client = r.clients[w.dialect]
	if r.opts.Concurrency > 1 {
		if hasTag(tags, "@clock") {
			r.clockLock.Lock()
			w.unlock = r.clockLock.Unlock
		} else {
			r.clockLock.RLock()
			w.unlock = r.clockLock.RUnlock
		}
	}
	return ctx, nil
}

func (r *runner) after(ctx context.Context, p *godog.Scenario, scErr error) (context.Context, error) {
	w := from(ctx)
	if w == nil {
		return ctx, nil
	}
	cerr := w.cleanup(context.WithoutCancel(ctx))
	if w.unlock != nil {
		w.unlock()
		w.unlock = nil
	}
	w.rec.mu.Lock()
	w.rec.res.Duration = time.Since(w.rec.start)
	w.rec.mu.Unlock()
	if cerr != nil {
		w.rec.fail("clean-up failed: " + cerr.Error())
		return ctx, fmt.Errorf("clean-up failed: %w", cerr)
	}
	return ctx, nil
}

func (rec *record) step(text, status string, err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s := StepResult{Text: text, Status: status}
	if err != nil && status != "skipped" && status != "passed" {
		s.Error = err.Error()
	}
	rec.res.Steps = append(rec.res.Steps, s)
}

func (rec *record) fail(msg string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.res.Error != "" {
		rec.res.Error += "; "
	}
	rec.res.Error += msg
	rec.res.Status = "failed"
}

// final computes the scenario's status from its steps.
func (rec *record) final() ScenarioResult {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	res := rec.res
	res.Steps = append([]StepResult(nil), rec.res.Steps...)
	res.Tags = append([]string(nil), rec.res.Tags...)
	if res.Status == "failed" { // clean-up failure
		return res
	}
	if rec.skip != "" {
		res.Status, res.Error = "skipped", rec.skip
		return res
	}
	counts := map[string]int{}
	var firstErr string
	for _, s := range res.Steps {
		counts[s.Status]++
		if firstErr == "" && s.Error != "" {
			firstErr = s.Error
		}
	}
	switch {
	case counts["failed"] > 0 || counts["ambiguous"] > 0:
		res.Status = "failed"
	case counts["undefined"] > 0:
		res.Status = "undefined"
	case counts["pending"] > 0:
		res.Status = "pending"
	case len(res.Steps) == 0 || counts["skipped"] == len(res.Steps):
		res.Status = "skipped"
	default:
		res.Status = "passed"
	}
	if res.Status != "passed" && res.Error == "" {
		res.Error = firstErr
	}
	return res
}

func (r *runner) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	var res Result
	for _, rec := range r.records {
		s := rec.final()
		res.Scenarios = append(res.Scenarios, s)
		switch s.Status {
		case "passed":
			res.Passed++
		case "skipped":
			res.Skipped++
		default:
			res.Failed++
		}
	}
	return res
}

func skipReasons(res Result) string {
	seen := map[string]bool{}
	var out []string
	for _, s := range res.Scenarios {
		if s.Status == "skipped" && !seen[s.Error] {
			seen[s.Error] = true
			out = append(out, s.Error)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// summary writes the run's totals, and every scenario that did not pass
// with the reason, after godog's own output.
func (r *runner) summary(w io.Writer, res Result) {
	if w == nil {
		return
	}
	fmt.Fprintf(w, "\nsseaudit conformance: %d scenarios: %d passed, %d failed, %d skipped\n",
		len(res.Scenarios), res.Passed, res.Failed, res.Skipped)
	for _, s := range res.Scenarios {
		if s.Status == "passed" {
			continue
		}
		fmt.Fprintf(w, "  %s: %s / %s [%s]: %s\n", s.Status, s.Feature, s.Name, s.Dialect, oneLine(s.Error))
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}
