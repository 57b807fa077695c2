package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/sseaudit/sseaudit/findings"
	"github.com/sseaudit/sseaudit/policies"
)

// Entry points: the rule names the engine evaluates.
const (
	// BucketEntrypoint rules are evaluated once per bucket (input: one bucket).
	BucketEntrypoint = "deny"
	// ScanEntrypoint rules are evaluated once per scan (input.scan).
	ScanEntrypoint = "scan_deny"
)

// RuleMeta describes a loaded rule (its METADATA block).
type RuleMeta = findings.RuleMeta

// Options configure Load.
type Options struct {
	// ExtraDirs are user policy directories, loaded beside the built-in
	// policies (recursively; *_test.rego files are skipped).
	ExtraDirs []string
	// Profile is the organisation profile; nil means DefaultProfile.
	Profile *Profile
	// Waivers are applied to every evaluation's findings. Load checks them
	// against the rules loaded (findings.CheckWaivers): an unknown rule id,
	// a glob matching no rule, a waiver of coverage rules only, or (unless
	// WaiverOptions.AllowBroad) a glob matching every rule is an error.
	Waivers []findings.Waiver
	// WaiverOptions are the allowances the waivers were parsed with
	// (findings.LoadWaivers); Load uses AllowBroad.
	WaiverOptions findings.WaiverOptions
	// Now is the clock for waiver expiry (default time.Now).
	Now func() time.Time
	// Workers is the number of buckets evaluated concurrently
	// (default GOMAXPROCS).
	Workers int
	// Sandbox bounds the user policies of ExtraDirs (zero fields: the
	// defaults). Every policy is compiled without DeniedBuiltins.
	Sandbox Sandbox
	// ChunkSize is how many objects of a bucket one evaluation sees
	// (default DefaultChunkSize): memory holds a few chunks, however large
	// a bucket.
	ChunkSize int
}

// Engine is a compiled policy bundle with its prepared queries. It is safe
// for concurrent use.
type Engine struct {
	rules     []RuleMeta
	byID      map[string]*RuleMeta
	pkgRules  map[string]map[string]bool // package path -> rule ids it defines
	digest    string
	files     []string
	profile   Profile
	waivers   []findings.Waiver
	now       func() time.Time
	workers   int
	compiler  *ast.Compiler
	chunkSize int
	// Built-in packages whose deny rules are all about objects are
	// evaluated chunk by chunk (objectQ); the others once per bucket,
	// after its objects, with input.stats (bucketQ).
	objectQ    *rego.PreparedEvalQuery
	objectPkgs []string
	bucketQ    *rego.PreparedEvalQuery
	bucketPkgs []string
	scanQ      *rego.PreparedEvalQuery
	scanPkgs   []string
	// Tests: leave input.index out (the policies compute it), and give
	// the bucket rules every object instead of input.stats.
	testNoIndex, testWholeBuckets bool
	// User packages (any package a user file adds an entry rule to) are
	// evaluated in queries of their own, under the sandbox.
	sandbox        *sandboxRT
	parsed         map[string]*ast.Module // by file, until compiled (for ruleAt)
	userBucketQ    *rego.PreparedEvalQuery
	userBucketPkgs []string
	userScanQ      *rego.PreparedEvalQuery
	userScanPkgs   []string
}

type policyFile struct {
	name    string // module name: builtin/<file> or the user's path
	logical string // name in the digest: builtin/<file> or user<N>/<relative path>
	src     []byte
	builtin bool
}

var idPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)

var validResourceTypes = []string{findings.ResourceBucket, findings.ResourceObject, findings.ResourceKey, findings.ResourceScan}

var validCategories = []string{findings.CategoryEncryption, findings.CategoryKey, findings.CategoryConformance, findings.CategoryCoverage, findings.CategoryGovernance}

// Load compiles the built-in policies plus opts.ExtraDirs, extracts and
// checks every rule's METADATA, and prepares the bucket and scan queries.
// A deny or scan_deny rule without the required metadata (title,
// description, custom.id, severity, remediation.text and .cli, controls,
// resource_type) is an error naming its file, line and rule.
func Load(ctx context.Context, opts Options) (*Engine, error) {
	bounds := opts.Sandbox.withDefaults()
	files, err := collectFiles(opts.ExtraDirs, bounds)
	if err != nil {
		return nil, err
	}
	prof := DefaultProfile()
	if opts.Profile != nil {
		prof = opts.Profile.clone()
	}
	if err := prof.Validate(); err != nil {
		return nil, fmt.Errorf("policy: profile %q: %w", prof.Name, err)
	}
	e := &Engine{
		byID:     map[string]*RuleMeta{},
		pkgRules: map[string]map[string]bool{},
		profile:  prof,
		waivers:  slices.Clone(opts.Waivers),
		now:      opts.Now,
		workers:  opts.Workers,
		sandbox:  &sandboxRT{bounds: bounds, userFiles: map[string]bool{}},
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	e.chunkSize = opts.ChunkSize
	if e.chunkSize <= 0 {
		e.chunkSize = DefaultChunkSize
	}
	e.digest = digest(files)

	mods := make(map[string]*ast.Module, len(files))
	var all, user []*ast.Module
	var errs []error
	for _, f := range files {
		e.files = append(e.files, f.name)
		// A large file takes seconds to parse: SIGINT must not wait for it.
		var m *ast.Module
		var perr error
		if err := uninterruptible(ctx, 0, func() {
			m, perr = ast.ParseModuleWithOpts(f.name, string(f.src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		}); err != nil {
			return nil, fmt.Errorf("policy: parse %s: %w", f.name, err)
		}
		if perr != nil {
			errs = append(errs, fmt.Errorf("policy: %w", perr))
			continue
		}
		if !f.builtin {
			e.sandbox.userFiles[f.name] = true
			user = append(user, m)
		}
		all = append(all, m)
		mods[f.name] = m
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// User modules are checked as written, before anything else reads
	// them: OPA's compiler can take time exponential in a hostile policy.
	e.parsed = mods
	if len(user) > 0 {
		if err := e.checkUserModules(all, user); err != nil {
			return nil, err
		}
	}
	for _, m := range user {
		rewriteUserModule(m)
	}
	// Every module is compiled without the denied built-ins; the built-in
	// policies must compile under the same capabilities as the user's.
	c := ast.NewCompiler().WithEnablePrintStatements(false).WithCapabilities(userCapabilities())
	switch err := uninterruptible(ctx, bounds.CompileTimeout, func() { c.Compile(mods) }); {
	case errors.Is(err, errCompileTime):
		return nil, &SandboxError{File: strings.Join(sortedNames(e.sandbox.userFiles), ", "), Bound: "compile time",
			Detail: fmt.Sprintf("compiling the policies took more than %s (sandbox bound); stopped: OPA's type checker is slow on values that nest or share other values deeply, simplify them", bounds.CompileTimeout)}
	case err != nil:
		return nil, fmt.Errorf("policy: compile: %w", err)
	}
	e.compiler = c
	if c.Failed() {
		return nil, fmt.Errorf("policy: compile: %w", e.explainCompileErrors(c.Errors))
	}

	if err := e.extractMeta(c, files); err != nil {
		return nil, err
	}
	if err := findings.CheckWaivers(e.waivers, e.rules, opts.WaiverOptions); err != nil {
		return nil, fmt.Errorf("policy: waivers: %w", err)
	}
	for id, sev := range prof.SeverityOverrides {
		m, ok := e.byID[id]
		if !ok {
			return nil, fmt.Errorf("policy: profile %q: severity override for unknown rule %q", prof.Name, id)
		}
		m.Severity = sev
	}

	if e.objectQ, err = prepare(ctx, c, e.objectPkgs, BucketEntrypoint); err != nil {
		return nil, err
	}
	if e.bucketQ, err = prepare(ctx, c, e.bucketPkgs, BucketEntrypoint); err != nil {
		return nil, err
	}
	if e.scanQ, err = prepare(ctx, c, e.scanPkgs, ScanEntrypoint); err != nil {
		return nil, err
	}
	fns := sandboxFunctions(&e.sandbox.bounds)
	if e.userBucketQ, err = prepare(ctx, c, e.userBucketPkgs, BucketEntrypoint, fns...); err != nil {
		return nil, err
	}
	if e.userScanQ, err = prepare(ctx, c, e.userScanPkgs, ScanEntrypoint, fns...); err != nil {
		return nil, err
	}
	return e, nil
}

// collectFiles returns the built-in policies and every non-test .rego file
// under dirs (see readUserDir), sorted by logical name within each source.
func collectFiles(dirs []string, bounds Sandbox) ([]policyFile, error) {
	var files []policyFile
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isPolicyFile(p) {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		name := path.Join("builtin", p)
		files = append(files, policyFile{name: name, logical: name, src: b, builtin: true})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("policy: built-in policies: %w", err)
	}
	budget := &fileBudget{perFile: bounds.MaxFileBytes, total: bounds.MaxTotalBytes, left: bounds.MaxTotalBytes}
	for i, dir := range dirs {
		fs, err := readUserDir(dir, i, budget)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	return files, nil
}

func isPolicyFile(p string) bool {
	return strings.HasSuffix(p, ".rego") && !strings.HasSuffix(p, "_test.rego")
}

// digest is the bundle digest: sha256 over the sorted lines
// "<sha256 of file> <logical name>\n" (like a sha256sum manifest), so it
// changes with any file's content or name and not with load order.
func digest(files []policyFile) string {
	lines := make([]string, len(files))
	for i, f := range files {
		h := sha256.Sum256(f.src)
		lines[i] = hex.EncodeToString(h[:]) + "  " + f.logical + "\n"
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// extractMeta reads the annotations of every entry-point rule, built-in
// files first (so a user rule reusing a built-in id is the one reported).
func (e *Engine) extractMeta(c *ast.Compiler, files []policyFile) error {
	as := c.GetAnnotationSet()
	bucketPkgs := map[string]bool{} // package -> a user file adds to it
	objectOnly := map[string]bool{} // package -> its deny rules are all about objects
	scanPkgs := map[string]bool{}
	var errs []error
	for _, file := range files {
		name := file.name
		m, ok := c.Modules[name]
		if !ok {
			continue
		}
		pkg := m.Package.Path.String()
		for _, r := range m.Rules {
			ref := r.Head.Ref()
			if len(ref) == 0 {
				continue
			}
			v, ok := ref[0].Value.(ast.Var)
			if !ok {
				continue
			}
			entry := string(v)
			if entry != BucketEntrypoint && entry != ScanEntrypoint {
				continue
			}
			where := fmt.Sprintf("%s:%d: rule %s in package %s", name, r.Location.Row, entry, strings.TrimPrefix(pkg, "data."))
			if len(ref) != 1 || r.Head.RuleKind() != ast.MultiValue {
				errs = append(errs, fmt.Errorf("policy: %s: must be a partial set rule (`%s contains finding if { ... }`)", where, entry))
				continue
			}
			var ann *ast.Annotations
			for _, a := range as.GetRuleScope(r) {
				if a.Scope == "rule" {
					ann = a
					break
				}
			}
			if ann == nil {
				errs = append(errs, fmt.Errorf("policy: %s: no # METADATA block (scope rule) before the rule", where))
				continue
			}
			meta, err := ruleMeta(ann)
			if err != nil {
				errs = append(errs, fmt.Errorf("policy: %s: METADATA: %w", where, err))
				continue
			}
			meta.Package = pkg
			meta.Entrypoint = entry
			meta.File = name
			meta.Builtin = file.builtin
			if prev, dup := e.byID[meta.ID]; dup {
				errs = append(errs, fmt.Errorf("policy: %s: METADATA: custom.id %s is already used by %s", where, meta.ID, prev.File))
				continue
			}
			if meta.ID == findings.ExpiredWaiverRule {
				errs = append(errs, fmt.Errorf("policy: %s: METADATA: custom.id %s is reserved (expired waivers)", where, meta.ID))
				continue
			}
			e.rules = append(e.rules, meta)
			e.byID[meta.ID] = &e.rules[len(e.rules)-1]
			if e.pkgRules[pkg] == nil {
				e.pkgRules[pkg] = map[string]bool{}
			}
			e.pkgRules[pkg][meta.ID] = true
			if entry == BucketEntrypoint {
				bucketPkgs[pkg] = bucketPkgs[pkg] || !file.builtin
				only, seen := objectOnly[pkg]
				objectOnly[pkg] = (only || !seen) && meta.ResourceType == findings.ResourceObject
			} else {
				scanPkgs[pkg] = scanPkgs[pkg] || !file.builtin
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// byID pointed into a growing slice: rebuild it.
	e.rules = append(e.rules, findings.ExpiredWaiverMeta)
	sort.Slice(e.rules, func(i, j int) bool { return e.rules[i].ID < e.rules[j].ID })
	e.byID = make(map[string]*RuleMeta, len(e.rules))
	for i := range e.rules {
		e.byID[e.rules[i].ID] = &e.rules[i]
	}
	var builtin []string
	builtin, e.userBucketPkgs = splitPkgs(bucketPkgs)
	for _, pkg := range builtin {
		if objectOnly[pkg] {
			e.objectPkgs = append(e.objectPkgs, pkg)
		} else {
			e.bucketPkgs = append(e.bucketPkgs, pkg)
		}
	}
	e.scanPkgs, e.userScanPkgs = splitPkgs(scanPkgs)
	return nil
}

// splitPkgs separates the built-in packages from those a user file adds
// an entry rule to, each sorted.
func splitPkgs(m map[string]bool) (builtin, user []string) {
	for _, k := range sortedNames(m) {
		if m[k] {
			user = append(user, k)
		} else {
			builtin = append(builtin, k)
		}
	}
	return builtin, user
}

// ruleMeta validates an annotation block and turns it into RuleMeta.
func ruleMeta(a *ast.Annotations) (RuleMeta, error) {
	var m RuleMeta
	var errs []error
	m.Title = strings.TrimSpace(a.Title)
	if m.Title == "" {
		errs = append(errs, errors.New("title is required"))
	}
	m.Description = strings.TrimSpace(a.Description)
	if m.Description == "" {
		errs = append(errs, errors.New("description is required"))
	}
	cu := a.Custom
	str := func(k string) (string, bool) {
		v, ok := cu[k].(string)
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	if id, ok := str("id"); !ok {
		errs = append(errs, errors.New("custom.id is required (a stable id such as SSE-001)"))
	} else if !idPattern.MatchString(id) {
		errs = append(errs, fmt.Errorf("custom.id %q: want letters, digits, '-', '_' or '.', starting with a letter", id))
	} else {
		m.ID = id
	}
	if s, ok := str("severity"); !ok {
		errs = append(errs, errors.New("custom.severity is required (critical, high, medium, low or info)"))
	} else if sev, err := findings.ParseSeverity(s); err != nil {
		errs = append(errs, fmt.Errorf("custom.severity: %w", err))
	} else {
		m.Severity = sev
	}
	if rt, ok := str("resource_type"); !ok {
		errs = append(errs, fmt.Errorf("custom.resource_type is required (%s)", strings.Join(validResourceTypes, ", ")))
	} else if !slices.Contains(validResourceTypes, rt) {
		errs = append(errs, fmt.Errorf("custom.resource_type %q: want one of %s", rt, strings.Join(validResourceTypes, ", ")))
	} else {
		m.ResourceType = rt
	}
	m.Category = findings.CategoryEncryption
	if cat, ok := str("category"); ok {
		if !slices.Contains(validCategories, cat) {
			errs = append(errs, fmt.Errorf("custom.category %q: want one of %s", cat, strings.Join(validCategories, ", ")))
		}
		m.Category = cat
	}
	rem, ok := cu["remediation"].(map[string]any)
	if !ok {
		errs = append(errs, errors.New("custom.remediation is required, with text and cli"))
	} else {
		text, _ := rem["text"].(string)
		cli, _ := rem["cli"].(string)
		m.Remediation = findings.Remediation{Text: strings.TrimSpace(text), CLI: strings.TrimSpace(cli)}
		if m.Remediation.Text == "" {
			errs = append(errs, errors.New("custom.remediation.text is required"))
		}
		if m.Remediation.CLI == "" {
			errs = append(errs, errors.New("custom.remediation.cli is required (a CLI example)"))
		}
	}
	ctrls, err := parseControls(cu["controls"], m.Category)
	if err != nil {
		errs = append(errs, err)
	}
	m.Controls = ctrls
	if by, err := parseAggregateBy(cu["aggregate_by"], m.ResourceType); err != nil {
		errs = append(errs, err)
	} else {
		m.AggregateBy = by
	}
	return m, errors.Join(errs...)
}

// parseAggregateBy reads custom.aggregate_by: the members of an object
// finding's observed whose values split the rule's aggregated findings of
// a bucket (findings.Aggregator). Absent: one aggregate per bucket.
func parseAggregateBy(v any, resourceType string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("custom.aggregate_by: want a list of observed member names, e.g. [kms_key_id], got %T", v)
	}
	if resourceType != findings.ResourceObject {
		return nil, fmt.Errorf("custom.aggregate_by: only object rules are aggregated (this rule's resource_type is %s)", resourceType)
	}
	var out []string
	for i, x := range list {
		s, ok := x.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("custom.aggregate_by[%d]: want the name of a member of the finding's observed, got %v", i, x)
		}
		s = strings.TrimSpace(s)
		if slices.Contains(out, s) {
			return nil, fmt.Errorf("custom.aggregate_by: %q is listed twice", s)
		}
		out = append(out, s)
	}
	return out, nil
}

// controlFields are the members every custom.controls entry must have.
var controlFields = []string{"framework", "version", "id", "title"}

// parseControls reads custom.controls: a list of {framework, version, id,
// title}, each member a non-empty string. Only a coverage rule may map to no control, and it must say so
// with an explicit empty list: a coverage finding says what was not read,
// which no framework control is about, whereas any other rule that maps to
// nothing is most likely a METADATA block someone forgot to finish.
func parseControls(v any, category string) ([]findings.Control, error) {
	if v == nil {
		return nil, errors.New("custom.controls is required: a list of {framework, version, id, title} ([] only for a coverage rule)")
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("custom.controls: want a list of {framework, version, id, title}, got %T", v)
	}
	if len(list) == 0 && category != findings.CategoryCoverage {
		return nil, fmt.Errorf("custom.controls: an empty list is allowed only for category %s (this rule is %s): map the rule to the controls it tests", findings.CategoryCoverage, category)
	}
	out := make([]findings.Control, 0, len(list))
	var errs []error
	seen := map[findings.Control]bool{}
	for i, c := range list {
		cm, ok := c.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("custom.controls[%d]: want {framework, version, id, title}, got %T", i, c))
			continue
		}
		vals := map[string]string{}
		var missing []string
		for _, f := range controlFields {
			var s string
			switch x := cm[f].(type) {
			case string:
				s = strings.TrimSpace(x)
			case nil:
			default:
				// A YAML number loses what makes an id: 5.10 reads as 5.1.
				errs = append(errs, fmt.Errorf("custom.controls[%d].%s: want a string, got %v (%T): quote it, e.g. %s: \"%v\"", i, f, x, x, f, x))
				vals[f] = fmt.Sprint(x)
				continue
			}
			if s == "" {
				missing = append(missing, f)
			}
			vals[f] = s
		}
		for k := range cm {
			if !slices.Contains(controlFields, k) {
				errs = append(errs, fmt.Errorf("custom.controls[%d]: unknown member %q (want framework, version, id, title)", i, k))
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("custom.controls[%d]: %s required (want {framework, version, id, title}, e.g. {framework: NIST SP 800-53, version: Rev. 5, id: SC-28, title: Protection of Information at Rest})", i, strings.Join(missing, ", ")))
			continue
		}
		ctl := findings.Control{Framework: vals["framework"], Version: vals["version"], ID: vals["id"], Title: vals["title"]}
		if seen[ctl] {
			errs = append(errs, fmt.Errorf("custom.controls[%d]: %s %s %s is listed twice", i, ctl.Framework, ctl.Version, ctl.ID))
			continue
		}
		seen[ctl] = true
		out = append(out, ctl)
	}
	return out, errors.Join(errs...)
}

// prepare builds one query binding p<i> to each package's entry rule; fns
// are the implementations of custom built-ins (the sandbox's stand-ins).
func prepare(ctx context.Context, c *ast.Compiler, pkgs []string, entry string, fns ...func(*rego.Rego)) (*rego.PreparedEvalQuery, error) {
	if len(pkgs) == 0 {
		return nil, nil
	}
	parts := make([]string, len(pkgs))
	for i, p := range pkgs {
		parts[i] = fmt.Sprintf("p%d := %s.%s", i, p, entry)
	}
	pq, err := rego.New(append([]func(*rego.Rego){
		rego.Compiler(c),
		rego.Query(strings.Join(parts, "; ")),
		rego.StrictBuiltinErrors(true),
	}, fns...)...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: prepare %s query: %w", entry, err)
	}
	return &pq, nil
}

// Digest is the policy bundle digest ("sha256:<hex>") over the built-in and
// user policy files (names and contents; test files excluded).
func (e *Engine) Digest() string { return e.digest }

// Rules lists every rule (with the profile's severity overrides applied),
// sorted by id, including the Go-defined SSE-900 (expired waiver).
func (e *Engine) Rules() []RuleMeta {
	out := make([]RuleMeta, len(e.rules))
	for i, r := range e.rules {
		r.Controls = slices.Clone(r.Controls)
		r.AggregateBy = slices.Clone(r.AggregateBy)
		out[i] = r
	}
	return out
}

// Profile returns the organisation profile in force.
func (e *Engine) Profile() Profile { return e.profile.clone() }

// Rule returns one rule's metadata.
func (e *Engine) Rule(id string) (RuleMeta, bool) {
	m, ok := e.byID[id]
	if !ok {
		return RuleMeta{}, false
	}
	return *m, true
}
