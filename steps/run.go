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

// DefaultS3KeyAlias is the alias of AWS S3's managed KMS key.
const DefaultS3KeyAlias = "alias/aws/s3"

// Options configure Run.
type Options struct {
	// Targets per dialect (at least one). The scenarios of a dialect absent
	// here are not applicable: they are not selected, and Result counts
	// them in NotApplicable. A Config's Dialect may be left empty (the map
	// key is used).
	Targets map[client.Dialect]client.Config
	// KMS is the Alibaba Cloud KMS endpoint that goes with the targets;
	// nil (and no AWSKMS) makes @kms scenarios skip.
	KMS *client.KMSConfig
	// AWSKMS is an AWS KMS endpoint (AWS KMS API, SigV4): S3 scenarios
	// create, disable, enable and delete their keys through it instead of
	// KMS. Steps that need key versions (manual rotation, rotation more
	// often than AWS's 90 days) still need KMS, which the reference
	// offers on the same keystore.
	AWSKMS *client.KMSConfig
	// S3DefaultKeyAlias is the alias of the S3 store's own managed KMS key,
	// the key it uses for KMS without a key id (default
	// DefaultS3KeyAlias, AWS's).
	S3DefaultKeyAlias string
	// Keys are existing KMS keys (ids or ARNs, at most MaxKeys) that the
	// scenarios use as their named key instead of creating one: with them
	// the @kms scenarios that need no key administration run on any store,
	// with or without a KMS endpoint. They are never disabled, deleted or
	// rotated.
	Keys []string
	// DisabledKey is an existing disabled key, for the scenario that
	// checks a disabled key cannot encrypt without disabling one itself.
	DisabledKey string
	// Emulator is the reference's admin hooks; nil makes @emulator
	// scenarios skip.
	Emulator Emulator
	// Tags is a godog tag expression ("@a && ~@b", "," is OR; not Cucumber's
	// "not @x") over the tags of features.Tags. It selects; the dialects
	// of Targets restrict the selection; skips apply to what is selected.
	Tags string
	// Format lists godog formats, e.g.
	// "pretty,junit:out/junit.xml,cucumber:out/cucumber.json" (a format
	// without a path writes to Output; the directories of paths are
	// created). Empty means "pretty". pretty and progress are godog's,
	// with skipped scenarios counted as skipped in their summary.
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
	// no client is built, no request is sent, nothing is created, no
	// format is written. Each selected scenario is reported StatusNotRun
	// (a real run would run it) or StatusSkipped with the reason a real
	// run would give, and Run writes the listing to Output.
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
	// hasKMS says Options.KMS or Options.AWSKMS is set (and a client
	// could be built from it; AWSKMS serves S3 scenarios only). Each
	// scenario builds its own KMS SDK client: the Alibaba SDK's client is
	// not safe for concurrent use (it keeps per-call headers in the client).
	hasKMS bool
	runID  string
	// tags is the user's tag expression, parsed.
	tags     tagExpr
	features map[string]string // feature file base name -> feature name

	seq       atomic.Int64 // bucket and key name counter
	clockLock sync.RWMutex // @clock scenarios run alone when concurrent

	mu      sync.Mutex
	records []*record
	// defaultKeys is, per dialect, the default KMS key the store answered
	// with (S3: learned from the first answer; see world.defaultKey).
	defaultKeys map[client.Dialect]string
}

func (r *runner) defaultKeyOf(d client.Dialect) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.defaultKeys[d]
}

// learnDefaultKey records id as d's default key unless one is known, and
// returns the known one.
func (r *runner) learnDefaultKey(d client.Dialect, id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.defaultKeys == nil {
		r.defaultKeys = map[client.Dialect]string{}
	}
	if r.defaultKeys[d] == "" {
		r.defaultKeys[d] = id
	}
	return r.defaultKeys[d]
}

// record collects one scenario's result as its hooks report it.
type record struct {
	mu  sync.Mutex
	res ScenarioResult
	// skip is why the scenario was (or in a dry run, would be) skipped.
	skip string
	// dry marks a dry run's scenario; note says how it may still be
	// skipped at run time.
	dry   bool
	note  string
	start time.Time
	// curSev and curErr are the worst severity and the text of the
	// expectations the current outcome step failed (settle), which its
	// step record takes.
	curSev, curErr string
	// hardErr is the first step godog failed (a set-up or action step, or
	// an undefined one): it stopped the scenario.
	hardErr string
}

// Run runs the suite as opts select, reports every selected scenario and
// writes the summary (WriteSummary) to Output after godog's own output. The
// error is for a run that could not happen: bad options, no scenario
// selected, an endpoint that cannot be reached or refuses the credentials,
// or a run in which no scenario ran (ExitCode 2). Failing scenarios are
// reported in the Result (ExitCode 1), not as an error.
func Run(ctx context.Context, opts Options) (Result, error) {
	res := Result{ExitCode: 2, DryRun: opts.DryRun}
	r, err := newRunner(opts)
	if err != nil {
		return res, err
	}
	opts = r.opts
	format, err := prepareFormats(opts.Format, !opts.DryRun)
	if err != nil {
		return res, err
	}
	dialects := map[client.Dialect]bool{}
	for d := range r.clients {
		dialects[d] = true
	}
	sel, err := selectScenarios(r.tags, dialects)
	if err != nil {
		return res, err
	}
	res.NotApplicable, res.NotApplicableBy = sel.notApplicable(), sel.excluded
	if sel.count == 0 {
		return res, noMatch(opts.Tags, sel)
	}
	output := opts.Output
	if opts.DryRun {
		// A dry run writes no report: godog's output is dropped and the
		// summary lists the selection.
		format, output = fmtProgress, io.Discard
	} else if err := r.probe(ctx); err != nil {
		return res, err
	}
	suite := godog.TestSuite{
		Name:                "sseaudit-conformance",
		ScenarioInitializer: r.initScenario,
		Options: &godog.Options{
			Format:         format,
			Output:         output,
			Tags:           sel.expr,
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
		return res, err
	}
	run := r.result()
	run.NotApplicable, run.NotApplicableBy, run.DryRun = res.NotApplicable, res.NotApplicableBy, opts.DryRun
	run.ExitCode = 2
	switch {
	case code == 2:
		err = errors.New("steps: godog refused the options (see its message on stderr)")
	case len(run.Scenarios) != sel.count:
		err = fmt.Errorf("steps: internal: godog ran %d scenarios, the selection has %d", len(run.Scenarios), sel.count)
	case opts.DryRun && run.NotRun == 0:
		err = fmt.Errorf("steps: no scenario would run: all %d selected scenarios would be skipped (%s)", len(run.Scenarios), skipReasons(run))
	case opts.DryRun:
		run.ExitCode = 0
	case run.Failed > 0 || code == 1:
		run.ExitCode = 1
	case run.Passed == 0:
		err = fmt.Errorf("steps: no scenario ran: all %d selected scenarios were skipped (%s)", len(run.Scenarios), skipReasons(run))
	default:
		run.ExitCode = 0
	}
	if !opts.DryRun {
		fmt.Fprintln(opts.Output) // after godog's output
	}
	if werr := WriteSummary(opts.Output, run); werr != nil && err == nil {
		err = fmt.Errorf("steps: write the summary: %w", werr)
	}
	return run, err
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
	if opts.S3DefaultKeyAlias == "" {
		opts.S3DefaultKeyAlias = DefaultS3KeyAlias
	}
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	tags, err := parseTags(opts.Tags)
	if err != nil {
		return nil, err
	}
	if err := checkKeys(opts); err != nil {
		return nil, err
	}
	if len(opts.Targets) == 0 {
		return nil, errors.New("steps: no target is configured: Options.Targets needs an OSS or S3 endpoint")
	}
	if !bucketPrefixRE.MatchString(opts.BucketPrefix) {
		return nil, fmt.Errorf("steps: BucketPrefix %q: use 3 to 40 lower-case letters, digits and hyphens, starting with a letter or digit", opts.BucketPrefix)
	}
	id := make([]byte, 3)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	r := &runner{opts: opts, clients: map[client.Dialect]*client.Client{}, runID: hex.EncodeToString(id), tags: tags}
	for d, cfg := range opts.Targets {
		if cfg.Dialect == "" {
			cfg.Dialect = d
		}
		if cfg.Dialect != d {
			return nil, fmt.Errorf("steps: Targets[%q] has Dialect %q", d, cfg.Dialect)
		}
		if d != client.OSS && d != client.S3 {
			return nil, fmt.Errorf("steps: Targets[%q]: the dialects are %q and %q", d, client.OSS, client.S3)
		}
		if opts.DryRun {
			r.clients[d] = nil // selected as a real run would, never called
			continue
		}
		c, err := client.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("steps: target %s: %w", d, err)
		}
		r.clients[d] = c
	}
	if (opts.KMS != nil || opts.AWSKMS != nil) && opts.DryRun {
		r.hasKMS = true
	} else if opts.KMS != nil || opts.AWSKMS != nil {
		if opts.KMS != nil {
			if _, err := client.KMS(*opts.KMS); err != nil {
				return nil, fmt.Errorf("steps: KMS: %w", err)
			}
		}
		if opts.AWSKMS != nil {
			if _, err := newAWSKMS(context.Background(), *opts.AWSKMS); err != nil { // sends nothing
				return nil, fmt.Errorf("steps: AWS KMS: %w", err)
			}
		}
		r.hasKMS = true
	}
	if len(opts.Keys) > 0 || opts.DisabledKey != "" {
		r.hasKMS = true
	}
	names, err := featureNames(features.FS)
	if err != nil {
		return nil, err
	}
	r.features = names
	return r, nil
}

var bucketPrefixRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,39}$`)

// prepareFormats checks the formatter names, creates the directories of
// report files (when create is set) and returns godog's format string,
// with pretty and progress replaced by their wrappers that count skipped
// scenarios as skipped.
func prepareFormats(format string, create bool) (string, error) {
	var out []string
	for _, f := range strings.Split(format, ",") {
		f = strings.TrimSpace(f)
		name, file, hasFile := strings.Cut(f, ":")
		if !slices.Contains(knownFormats, name) {
			return "", fmt.Errorf("steps: format %q: use one of %s, optionally with :path", f, strings.Join(knownFormats, ", "))
		}
		if hasFile {
			if file == "" {
				return "", fmt.Errorf("steps: format %q has an empty path", f)
			}
			if create {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					return "", fmt.Errorf("steps: format %q: %w", f, err)
				}
			}
		}
		switch name {
		case "pretty":
			f = fmtPretty + strings.TrimPrefix(f, name)
		case "progress":
			f = fmtProgress + strings.TrimPrefix(f, name)
		}
		out = append(out, f)
	}
	return strings.Join(out, ","), nil
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
	sc.StepContext().Before(func(ctx context.Context, st *godog.Step) (context.Context, error) {
		if w := from(ctx); w != nil {
			// godog's Outcome type: a Then step, or an And/But after one.
			w.stepText, w.outcome = st.Text, string(st.Type) == "Outcome"
		}
		return ctx, nil
	})
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
	for _, t := range features.TagsOfKind(features.KindDialect) {
		if hasTag(tags, t.Name) {
			dialects = append(dialects, dialectOf(t))
		}
	}
	if len(dialects) != 1 {
		return ctx, fmt.Errorf("scenario %q must have exactly one of the tags %s and %s, it has %d", p.Name, features.TagOSS, features.TagS3, len(dialects))
	}
	w.dialect = dialects[0]
	rec.res.Dialect = string(w.dialect)
	if _, ok := r.clients[w.dialect]; !ok {
		// Selection leaves out the dialects without a target.
		return ctx, fmt.Errorf("internal: scenario %q was selected but the run has no %s target", p.Name, w.dialect)
	}
	why, err := r.missing(tags)
	if err != nil {
		return ctx, err
	}
	var texts []string
	for _, st := range p.Steps {
		texts = append(texts, st.Text)
		w.administers = w.administers || adminSteps.MatchString(st.Text) || (st.Text == disabledKeyStep && r.opts.DisabledKey == "")
	}
	if k := r.kmsSkip(w.dialect, tags, texts); k != "" && !slices.ContainsFunc(why, func(s string) bool { return strings.HasPrefix(s, features.TagKMS+":") }) {
		why = append(why, k)
	}
	if r.opts.DryRun {
		rec.mu.Lock()
		rec.dry, rec.skip, rec.note = true, strings.Join(why, "; "), runTimeSkips(tags)
		rec.mu.Unlock()
		return ctx, fmt.Errorf("%w: dry run", godog.ErrSkip)
	}
	if len(why) > 0 {
		rec.mu.Lock()
		rec.skip = strings.Join(why, "; ")
		rec.mu.Unlock()
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

// missing says, for each capability tag of the scenario that the run
// cannot offer, why the scenario is skipped ("@kms: no KMS endpoint ...").
// Capabilities decided at run time (features.Tag.RunTime) are left to the
// steps.
func (r *runner) missing(tags []string) ([]string, error) {
	var why []string
	for _, t := range features.TagsOfKind(features.KindCapability) {
		if t.RunTime || !hasTag(tags, t.Name) {
			continue
		}
		has, known := r.offers(t.Name)
		if t.Name == features.TagKMS {
			// Which keys and KMS endpoints a @kms scenario needs depends
			// on its dialect and steps: kmsSkip decides.
			continue
		}
		if !known {
			return nil, fmt.Errorf("internal: the capability tag %s has no check in package steps", t.Name)
		}
		if !has {
			why = append(why, t.Name+": "+t.Skip)
		}
	}
	return why, nil
}

// offers says whether the run offers the capability of tag; known is false
// for a tag this package does not check.
func (r *runner) offers(tag string) (has, known bool) {
	switch tag {
	case features.TagKMS:
		return r.hasKMS, true
	case features.TagEmulator:
		return r.opts.Emulator != nil, true
	}
	return false, false
}

// runTimeSkips says how a scenario a dry run would run may still be
// skipped: the endpoint's answer decides ("" when it cannot be).
func runTimeSkips(tags []string) string {
	var why []string
	for _, t := range features.TagsOfKind(features.KindCapability) {
		if t.RunTime && hasTag(tags, t.Name) {
			why = append(why, t.Name+": "+t.Skip)
		}
	}
	if len(why) == 0 {
		return ""
	}
	return "skipped at run time if " + strings.Join(why, "; ")
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
	var errs []error
	if msg := w.rec.expectationFailure(); msg != "" {
		errs = append(errs, errors.New(msg))
	}
	if cerr != nil {
		w.rec.fail("clean-up failed: " + cerr.Error())
		errs = append(errs, fmt.Errorf("clean-up failed: %w", cerr))
	}
	return ctx, errors.Join(errs...)
}

func (rec *record) step(text, status string, err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s := StepResult{Text: text, Status: status}
	if err != nil && status != "skipped" && status != "passed" {
		s.Error = err.Error()
	}
	if status != "passed" && status != "skipped" && rec.hardErr == "" {
		rec.hardErr = status + " step: " + text
		if s.Error != "" {
			rec.hardErr = s.Error
		}
	}
	if rec.curErr != "" && status == "passed" {
		// An outcome step whose expectations failed: failed for a low or
		// high one, passed with the note for info ones.
		s.Error = rec.curErr
		if results.SeverityRank(rec.curSev) >= results.SeverityRank(results.SeverityLow) {
			s.Status = "failed"
		}
	}
	rec.curSev, rec.curErr = "", ""
	rec.res.Steps = append(rec.res.Steps, s)
}

func (rec *record) fail(msg string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.res.Error != "" {
		rec.res.Error += "; "
	}
	rec.res.Error += msg
	rec.res.Status = results.StatusFailed
}

// final computes the scenario's status from its steps: failed when a step
// failed or was undefined, pending or ambiguous (the run is strict), or
// clean-up failed; skipped when a step was skipped and none failed (a hook
// or a step skipped the scenario); passed otherwise. It counts the way
// the summary of the wrapped godog formatters does (countGodog).
func (rec *record) final() ScenarioResult {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	res := rec.res
	res.Steps = append([]StepResult(nil), rec.res.Steps...)
	res.Expectations = append([]results.Expectation(nil), rec.res.Expectations...)
	res.Tags = append([]string(nil), rec.res.Tags...)
	if res.Status == results.StatusFailed { // clean-up failure
		return res
	}
	if rec.dry {
		res.Status, res.Error = results.StatusSkipped, rec.skip
		if rec.skip == "" {
			res.Status, res.Error = results.StatusNotRun, rec.note
		}
		return res
	}
	// A scenario fails for a failed set-up or action step (godog stopped
	// it there) or for a failed expectation of severity low or higher; a
	// failed info expectation is a compatibility note.
	bad, skipped := (len(res.Steps) == 0 && rec.skip == "") || rec.hardErr != "", false
	for _, s := range res.Steps {
		if s.Status == "skipped" {
			skipped = true
		}
	}
	res.Severity = ""
	for _, x := range res.Expectations {
		if !x.Passed && results.SeverityRank(x.Severity) > results.SeverityRank(res.Severity) {
			res.Severity = x.Severity
		}
	}
	if rec.hardErr != "" {
		res.Severity = results.SeverityHigh
	}
	failedExp := expectationSummary(res.Expectations)
	switch {
	case bad || failedExp != "":
		var why []string
		if rec.hardErr != "" {
			why = append(why, rec.hardErr)
		}
		if failedExp != "" {
			why = append(why, failedExp)
		}
		if len(why) == 0 {
			why = append(why, "the scenario has no steps")
		}
		res.Status, res.Error = results.StatusFailed, strings.Join(why, "; ")
	case skipped:
		res.Status, res.Error = results.StatusSkipped, rec.skip
		if rec.skip == "" {
			res.Error = "a step was skipped without a reason"
		}
	default:
		res.Status, res.Error = results.StatusPassed, ""
	}
	return res
}

func (r *runner) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	var res Result
	for d, id := range r.defaultKeys {
		if res.DefaultKeys == nil {
			res.DefaultKeys = map[string]string{}
		}
		res.DefaultKeys[string(d)] = id
	}
	for _, rec := range r.records {
		s := rec.final()
		res.Scenarios = append(res.Scenarios, s)
		switch s.Status {
		case results.StatusPassed:
			res.Passed++
			if s.Severity == results.SeverityInfo {
				res.Notes++
			}
		case results.StatusSkipped:
			res.Skipped++
		case results.StatusNotRun:
			res.NotRun++
		default:
			res.Failed++
		}
	}
	return res
}

// skipReasons lists each distinct reason scenarios were skipped for, with
// how many scenarios it skipped.
func skipReasons(res Result) string {
	count := map[string]int{}
	for _, s := range res.Scenarios {
		if s.Status != results.StatusSkipped {
			continue
		}
		// A scenario skipped for several reasons lists them with "; ".
		for _, why := range strings.Split(s.Error, "; ") {
			count[why]++
		}
	}
	out := make([]string, 0, len(count))
	for why, n := range count {
		out = append(out, fmt.Sprintf("%s (%d)", why, n))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
