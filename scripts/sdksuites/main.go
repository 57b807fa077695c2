// Command sdksuites runs the SDKs' own test suites (aliyun-oss-go-sdk's
// gocheck suites, alibabacloud-oss-go-sdk-v2's `go test` integration tests,
// minio-go's mint functional_tests.go) as compiled test binaries, and counts
// what they report. It is a helper of scripts/sdk-suites.sh, which builds
// the binaries, starts `sseaudit serve` and sets each suite's own
// environment variables; this command never changes a test, it only
// chooses which tests a binary runs (the suite's own filter flag) and reads
// the suite's own verdicts.
//
//	sdksuites run -kind gocheck|gotest|mint -bin B -dir D -only REGEX -exclude FILE -suite S -results R.json -log L
//	sdksuites report -suite S -exclude FILE -categories FILE -out OUT.txt R.json...
//
// run keeps going when a test crashes the whole binary (a panic in a
// goroutine, a nil dereference in a `go test` test): the crashing test is
// recorded as failed with the tail of its output, and the binary is run
// again on the tests that have no verdict yet. A mint binary cannot select
// tests, so it is run once.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sdksuites run|report [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "report":
		err = reportCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use run or report", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdksuites:", err)
		if errors.Is(err, errGate) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

// Result is one test's verdict as its suite reported it.
type Result struct {
	Name   string `json:"name"`
	Status string `json:"status"` // pass, fail, skip (the suite skipped it), na (mint: NotImplemented), crash
	Detail string `json:"detail,omitempty"`
}

// Exclusion is one test the script does not run, with its reason.
type Exclusion struct {
	Suite, Name, Reason, Why string
}

// readExclusions reads lines "suite<TAB>test<TAB>reason<TAB>why"; '#'
// starts a comment. The reason must be one of the four the project allows.
func readExclusions(path string) ([]Exclusion, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading exclusions: %w", err)
	}
	return parseExclusions(string(b))
}

// allowedReasons are the only reasons a test may be excluded for: it needs
// the internet, STS, another region, or a feature refused by design; or
// (minio-go's suite only) it pins MinIO's own behaviour where MinIO and S3
// differ and the reference does what S3 does, which the README names.
var allowedReasons = map[string]bool{"internet": true, "sts": true, "region": true, "refused": true, "minio-not-s3": true}

func parseExclusions(text string) ([]Exclusion, error) {
	var out []Exclusion
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 4)
		if len(f) != 4 || f[3] == "" {
			return nil, fmt.Errorf("exclusions line %d: want suite<TAB>test<TAB>reason<TAB>why, got %q", i+1, line)
		}
		if !allowedReasons[f[2]] {
			return nil, fmt.Errorf("exclusions line %d: reason %q is not one of internet, sts, region, refused, minio-not-s3", i+1, f[2])
		}
		if f[2] == "minio-not-s3" && f[0] != "minio" {
			return nil, fmt.Errorf("exclusions line %d: minio-not-s3 excludes only minio-go's tests, not %s's", i+1, f[0])
		}
		out = append(out, Exclusion{f[0], f[1], f[2], f[3]})
	}
	return out, nil
}

func excludedNames(ex []Exclusion, suite string) map[string]Exclusion {
	m := map[string]Exclusion{}
	for _, e := range ex {
		if e.Suite == suite {
			m[e.Name] = e
		}
	}
	return m
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	kind := fs.String("kind", "", "gocheck, gotest or mint")
	bin := fs.String("bin", "", "the compiled test binary")
	dir := fs.String("dir", ".", "working directory of the binary (go test runs it in the package directory)")
	only := fs.String("only", ".", "regular expression over test names: the share of the suite this run takes")
	exclude := fs.String("exclude", "", "exclusions file")
	suite := fs.String("suite", "", "suite name in the exclusions file")
	results := fs.String("results", "", "where to write the verdicts (JSON)")
	logPath := fs.String("log", "", "where to append the binary's output")
	timeout := fs.Duration("timeout", 15*time.Minute, "limit for the whole run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" || *results == "" || *logPath == "" || *suite == "" {
		return errors.New("run needs -bin, -suite, -results and -log")
	}
	onlyRe, err := regexp.Compile(*only)
	if err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	var ex map[string]Exclusion
	if *exclude != "" {
		all, err := readExclusions(*exclude)
		if err != nil {
			return err
		}
		ex = excludedNames(all, *suite)
	}
	logf, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening log: %w", err)
	}
	defer logf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	var res []Result
	switch *kind {
	case "mint":
		res, err = runMint(ctx, *bin, *dir, logf)
	case "gocheck", "gotest":
		res, err = runSelectable(ctx, *kind, *bin, *dir, onlyRe, ex, logf)
	default:
		return fmt.Errorf("-kind %q: use gocheck, gotest or mint", *kind)
	}
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(*results, b, 0o644)
}

// listTests asks the binary for its tests, as its harness names them.
func listTests(ctx context.Context, kind, bin, dir string) ([]string, error) {
	var args []string
	if kind == "gocheck" {
		args = []string{"-check.list"}
	} else {
		args = []string{"-test.list", "."}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the tests of %s: %w", bin, err)
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l == "PASS" || strings.HasPrefix(l, "ok ") {
			continue
		}
		names = append(names, l)
	}
	return names, nil
}

func runSelectable(ctx context.Context, kind, bin, dir string, only *regexp.Regexp, ex map[string]Exclusion, logf io.Writer) ([]Result, error) {
	names, err := listTests(ctx, kind, bin, dir)
	if err != nil {
		return nil, err
	}
	var todo []string
	for _, n := range names {
		if _, skip := ex[n]; !skip && only.MatchString(n) {
			todo = append(todo, n)
		}
	}
	got := map[string]Result{}
	// Every round gives at least one verdict, so this ends.
	for round := 0; len(todo) > 0; round++ {
		filter := "^(" + strings.Join(quoteAll(todo), "|") + ")$"
		var args []string
		if kind == "gocheck" {
			args = []string{"-check.vv", "-check.f", filter, "-test.timeout", "0"}
		} else {
			args = []string{"-test.v", "-test.run", filter, "-test.timeout", "0", "-test.count", "1"}
		}
		fmt.Fprintf(logf, "### round %d: %d tests\n", round+1, len(todo))
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		cmd.WaitDelay = 5 * time.Second
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting %s: %w", bin, err)
		}
		var p parser
		if kind == "gocheck" {
			p = &gocheckParser{}
		} else {
			p = &gotestParser{}
		}
		sc := bufio.NewScanner(io.TeeReader(out, logf))
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			p.line(sc.Text())
		}
		werr := cmd.Wait()
		if ctx.Err() != nil {
			for _, n := range todo {
				if _, ok := got[n]; !ok {
					got[n] = Result{Name: n, Status: "crash", Detail: "the run's time limit ended before this test had a verdict"}
				}
			}
			break
		}
		for _, r := range p.results() {
			got[r.Name] = r
		}
		var rest []string
		for _, n := range todo {
			if _, ok := got[n]; !ok {
				rest = append(rest, n)
			}
		}
		if len(rest) == 0 {
			break
		}
		// Something ended the binary with tests left. A test that
		// panics usually has its FAIL verdict already (go test reports
		// it before the panic ends the binary): then run the rest
		// again. Otherwise blame the test that was running, or, when
		// the round gave no verdict at all, the first one left.
		culprit, tail := p.running()
		if culprit == "" && len(rest) < len(todo) {
			todo = rest
			continue
		}
		if culprit == "" || !slices.Contains(rest, culprit) {
			culprit = rest[0]
		}
		got[culprit] = Result{Name: culprit, Status: "crash", Detail: fmt.Sprintf("the test binary ended (%v) while it ran:\n%s", werr, tail)}
		todo = slices.DeleteFunc(rest, func(s string) bool { return s == culprit })
	}
	var res []Result
	for _, r := range got {
		if r.Status == "fail" {
			if call := failedCall(dir, r.Detail); call != "" {
				r.Detail = call + "\n" + r.Detail
			}
		}
		res = append(res, r)
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Name < res[j].Name })
	return res, nil
}

var (
	failLocRe = regexp.MustCompile(`(?m)^\s*(?:\S*/)?(\w+_test\.go):(\d+):`)
	callRe    = regexp.MustCompile(`\b\w+\.[A-Z]\w*\(`)
)

// failedCall names what a failed assertion checked: the assertion's own
// source line, and the last line with a method call in the few lines
// before it (the SDK call), from the location the suite reports
// ("bucket_test.go:182:"). A 501 names no operation, so this is what says
// which API was missing.
func failedCall(dir, detail string) string {
	ms := failLocRe.FindAllStringSubmatch(detail, -1)
	if len(ms) == 0 {
		return ""
	}
	// gocheck stops a test at its first failure and names the outermost
	// call first, so its last location is the assertion; testify goes on
	// after a failure, so its first one is the cause.
	m := ms[len(ms)-1]
	if strings.Contains(detail, "Error Trace:") {
		m = ms[0]
	}
	b, err := os.ReadFile(dir + "/" + m[1])
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	n, err := strconv.Atoi(m[2])
	if err != nil || n < 1 || n > len(lines) {
		return ""
	}
	out := "at: " + strings.TrimSpace(lines[n-1])
	for i := n - 2; i >= 0 && i >= n-8; i-- {
		l := strings.TrimSpace(lines[i])
		if callRe.MatchString(l) && !strings.HasPrefix(l, "c.Assert") && !strings.HasPrefix(l, "assert.") && !strings.HasPrefix(l, "//") {
			return out + "\nafter: " + l
		}
	}
	return out
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = regexp.QuoteMeta(s)
	}
	return out
}

type parser interface {
	line(string)
	results() []Result
	running() (name, tail string)
}

// detailLimit bounds what is kept of one failing test's output.
const detailLimit = 4000

// tailBuf keeps the last lines of output.
type tailBuf struct{ lines []string }

func (t *tailBuf) add(l string) {
	t.lines = append(t.lines, l)
	if len(t.lines) > 40 {
		t.lines = t.lines[len(t.lines)-40:]
	}
}

func (t *tailBuf) String() string { return strings.Join(t.lines, "\n") }

// gocheckParser reads gocheck's -check.vv output: "START: file:line:
// Suite.Test", the test's own output (and its fixtures' START/PASS lines),
// then PASS, FAIL, SKIP, MISS or PANIC with the same name. In this
// streaming mode a failure's details come before its verdict.
type gocheckParser struct {
	res  []Result
	cur  string // test started and without a verdict
	buf  strings.Builder
	tail tailBuf
}

var gocheckRe = regexp.MustCompile(`^(START|PASS|FAIL|SKIP|MISS|PANIC|FAIL EXPECTED): \S+:\d+: (\S+)(.*)$`)

func (g *gocheckParser) line(l string) {
	g.tail.add(l)
	m := gocheckRe.FindStringSubmatch(l)
	if m == nil {
		if g.cur != "" && g.buf.Len() < detailLimit && strings.TrimSpace(l) != "" {
			g.buf.WriteString(l)
			g.buf.WriteByte('\n')
		}
		return
	}
	verb, name := m[1], m[2]
	if i := strings.LastIndex(name, "."); i >= 0 {
		switch name[i+1:] {
		case "SetUpSuite", "TearDownSuite", "SetUpTest", "TearDownTest":
			// A fixture's failure shows on its tests (MISS) or not
			// at all (TearDownSuite); it stays in the log.
			return
		}
	}
	r := Result{Name: name}
	switch verb {
	case "START":
		g.cur = name
		g.buf.Reset()
		return
	case "PASS", "FAIL EXPECTED":
		r.Status = "pass"
	case "SKIP":
		r.Status, r.Detail = "skip", strings.TrimSpace(m[3])
	case "MISS":
		r.Status, r.Detail = "fail", "MISS: a fixture (SetUpSuite/SetUpTest) failed, so the test did not run"
	case "FAIL", "PANIC":
		r.Status, r.Detail = "fail", strings.TrimSpace(g.buf.String())
		if verb == "PANIC" {
			r.Detail = "PANIC\n" + r.Detail
		}
	}
	g.res = append(g.res, r)
	g.cur = ""
	g.buf.Reset()
}

func (g *gocheckParser) results() []Result { return g.res }

func (g *gocheckParser) running() (string, string) { return g.cur, g.tail.String() }

// gotestParser reads `go test -v` output of top-level tests ("=== RUN",
// "--- PASS/FAIL/SKIP: Name (1.00s)"); subtests and their lines belong to
// their top-level test.
type gotestParser struct {
	out    map[string]*strings.Builder
	cur    string
	last   string // the last test with a verdict
	tail   tailBuf
	order  []string
	status map[string]string
}

var (
	gotestRunRe    = regexp.MustCompile(`^=== (RUN|CONT|PAUSE)\s+(\S+)`)
	gotestResultRe = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+) \(`)
)

func (g *gotestParser) line(l string) {
	if g.out == nil {
		g.out = map[string]*strings.Builder{}
		g.status = map[string]string{}
	}
	g.tail.add(l)
	if m := gotestRunRe.FindStringSubmatch(l); m != nil {
		top, _, _ := strings.Cut(m[2], "/")
		g.cur = top
		if _, ok := g.out[top]; !ok {
			g.out[top] = &strings.Builder{}
			g.order = append(g.order, top)
		}
		return
	}
	if m := gotestResultRe.FindStringSubmatch(l); m != nil {
		if !strings.Contains(m[2], "/") {
			g.status[m[2]] = strings.ToLower(m[1])
			g.last = m[2]
			if g.cur == m[2] {
				g.cur = ""
			}
			return
		}
	}
	cur := g.cur
	if cur == "" {
		// A panic is printed after the test's FAIL verdict.
		cur = g.last
	}
	if b := g.out[cur]; b != nil && b.Len() < detailLimit {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

func (g *gotestParser) results() []Result {
	var res []Result
	for _, n := range g.order {
		st, ok := g.status[n]
		if !ok {
			continue
		}
		r := Result{Name: n, Status: st}
		if st != "pass" {
			r.Detail = strings.TrimSpace(g.out[n].String())
		}
		res = append(res, r)
	}
	return res
}

func (g *gotestParser) running() (string, string) { return g.cur, g.tail.String() }

// mintLine is one line of the mint JSON log.
type mintLine struct {
	Name     string `json:"name"`
	Function string `json:"function"`
	Status   string `json:"status"`
	Alert    string `json:"alert"`
	Message  string `json:"message"`
	Error    string `json:"error"`
}

func runMint(ctx context.Context, bin, dir string, logf io.Writer) ([]Result, error) {
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RUN_ON_FAIL=1")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	m := &mintParser{}
	sc := bufio.NewScanner(io.TeeReader(out, logf))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		m.line(sc.Text())
	}
	werr := cmd.Wait()
	res := m.results()
	if werr != nil {
		res = append(res, Result{Name: "(binary exit)", Status: "crash", Detail: fmt.Sprintf("the functional test binary ended with %v; cases after the last one logged did not run:\n%s", werr, m.tail.String())})
	}
	return res, nil
}

// mintParser folds mint's log lines into one verdict per test function:
// fail if any line failed, else pass if any passed, else na.
type mintParser struct {
	order []string
	by    map[string]*Result
	tail  tailBuf
}

func (m *mintParser) line(l string) {
	if m.by == nil {
		m.by = map[string]*Result{}
	}
	m.tail.add(l)
	var ml mintLine
	if !strings.HasPrefix(l, "{") || json.Unmarshal([]byte(l), &ml) != nil || ml.Status == "" {
		return
	}
	name := strings.TrimPrefix(ml.Name, "minio-go: ")
	r := m.by[name]
	if r == nil {
		r = &Result{Name: name, Status: "na"}
		m.by[name] = r
		m.order = append(m.order, name)
	}
	switch ml.Status {
	case "FAIL":
		r.Status = "fail"
		if len(r.Detail) < detailLimit {
			r.Detail += strings.TrimSpace(fmt.Sprintf("%s: %s: %s", ml.Function, ml.Message, ml.Error)) + "\n"
		}
	case "PASS":
		if r.Status == "na" {
			r.Status = "pass"
		}
	case "NA":
		if len(r.Detail) < detailLimit {
			r.Detail += "NA: " + ml.Function + ": " + ml.Alert + "\n"
		}
	}
}

func (m *mintParser) results() []Result {
	var res []Result
	for _, n := range m.order {
		r := *m.by[n]
		if r.Status == "pass" {
			r.Detail = ""
		}
		r.Detail = strings.TrimSpace(r.Detail)
		res = append(res, r)
	}
	return res
}

// Category names a kind of failure: a regular expression over a failing
// test's name and output, and the category it puts the test in.
type Category struct {
	Re   *regexp.Regexp
	Name string
}

// parseCategories reads lines "regex<TAB>category"; the first match wins.
func parseCategories(text string) ([]Category, error) {
	var out []Category
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 2)
		if len(f) != 2 || strings.TrimSpace(f[1]) == "" {
			return nil, fmt.Errorf("categories line %d: want regex<TAB>category, got %q", i+1, line)
		}
		re, err := regexp.Compile(f[0])
		if err != nil {
			return nil, fmt.Errorf("categories line %d: %w", i+1, err)
		}
		out = append(out, Category{re, strings.TrimSpace(f[1])})
	}
	return out, nil
}

func categorise(cats []Category, r Result) string {
	s := r.Name + "\n" + r.Detail
	for _, c := range cats {
		if c.Re.MatchString(s) {
			return c.Name
		}
	}
	return "uncategorised"
}

// Counts are one suite's numbers.
type Counts struct {
	Total, Excluded, Run, Passed, Failed, Skipped, NA int
}

// Rate is the share of the tests not excluded that passed.
func (c Counts) Rate() float64 {
	if c.Run == 0 {
		return 0
	}
	return float64(c.Passed) / float64(c.Run)
}

// tally counts results against the exclusions: an excluded test is counted
// as excluded whatever it did (mint cannot skip it, so it may have run).
func tally(res []Result, ex map[string]Exclusion, listed []string) Counts {
	var c Counts
	seen := map[string]bool{}
	for _, r := range res {
		seen[r.Name] = true
		if _, ok := ex[r.Name]; ok {
			c.Excluded++
			continue
		}
		c.Run++
		switch r.Status {
		case "pass":
			c.Passed++
		case "skip":
			c.Skipped++
		case "na":
			c.NA++
		default:
			c.Failed++
		}
	}
	for _, n := range listed {
		if _, ok := ex[n]; ok && !seen[n] {
			c.Excluded++
		}
	}
	c.Total = c.Run + c.Excluded
	return c
}

func reportCmd(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	suite := fs.String("suite", "", "suite name in the exclusions file")
	title := fs.String("title", "", "heading of the report")
	exclude := fs.String("exclude", "", "exclusions file")
	catsPath := fs.String("categories", "", "categories file")
	listedPath := fs.String("listed", "", "file of every test name in scope, one a line (excluded ones count even if not run)")
	outPath := fs.String("out", "", "report file")
	maxFailed := fs.Int("max-failed", -1, "exit 1 when more tests than this failed (-1: no limit)")
	minRate := fs.Float64("min-rate", 0, "exit 1 when the pass rate of the tests not excluded is below this (0 to 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *suite == "" || *outPath == "" || fs.NArg() == 0 {
		return errors.New("report needs -suite, -out and results files")
	}
	var ex map[string]Exclusion
	if *exclude != "" {
		all, err := readExclusions(*exclude)
		if err != nil {
			return err
		}
		ex = excludedNames(all, *suite)
	}
	var cats []Category
	if *catsPath != "" {
		b, err := os.ReadFile(*catsPath)
		if err != nil {
			return fmt.Errorf("reading categories: %w", err)
		}
		if cats, err = parseCategories(string(b)); err != nil {
			return err
		}
	}
	var listed []string
	if *listedPath != "" {
		b, err := os.ReadFile(*listedPath)
		if err != nil {
			return fmt.Errorf("reading the test list: %w", err)
		}
		listed = strings.Fields(string(b))
	}
	var res []Result
	for _, p := range fs.Args() {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading results: %w", err)
		}
		var rs []Result
		if err := json.Unmarshal(b, &rs); err != nil {
			return fmt.Errorf("reading results %s: %w", p, err)
		}
		res = append(res, rs...)
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Name < res[j].Name })
	c := tally(res, ex, listed)

	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", *title)
	fmt.Fprintf(&b, "total %d  excluded %d  run %d  passed %d  failed %d  skipped-by-suite %d  not-applicable %d  pass rate %.1f%% of the %d not excluded\n\n",
		c.Total, c.Excluded, c.Run, c.Passed, c.Failed, c.Skipped, c.NA, 100*c.Rate(), c.Run)

	byCat := map[string][]Result{}
	var catOrder []string
	for _, r := range res {
		if _, excluded := ex[r.Name]; excluded || r.Status == "pass" {
			continue
		}
		k := r.Status
		if k == "fail" || k == "crash" {
			k = categorise(cats, r)
		} else {
			k = "(" + k + ") " + categorise(cats, r)
		}
		if _, ok := byCat[k]; !ok {
			catOrder = append(catOrder, k)
		}
		byCat[k] = append(byCat[k], r)
	}
	sort.Strings(catOrder)
	fmt.Fprintf(&b, "## not passed, by category (%d categories)\n\n", len(catOrder))
	for _, k := range catOrder {
		fmt.Fprintf(&b, "### %s (%d)\n", k, len(byCat[k]))
		for _, r := range byCat[k] {
			fmt.Fprintf(&b, "- %s [%s]: %s\n", r.Name, r.Status, firstLines(r.Detail, 4))
		}
		b.WriteString("\n")
	}
	var exNames []string
	for n := range ex {
		exNames = append(exNames, n)
	}
	sort.Strings(exNames)
	fmt.Fprintf(&b, "## excluded (%d)\n\n", len(exNames))
	for _, n := range exNames {
		fmt.Fprintf(&b, "- %s: %s: %s\n", n, ex[n].Reason, ex[n].Why)
	}
	if err := os.WriteFile(*outPath, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	fmt.Printf("%-6s total %4d  excluded %3d  run %4d  passed %4d  failed %4d  skipped %3d  NA %3d  pass rate %5.1f%%\n",
		*suite, c.Total, c.Excluded, c.Run, c.Passed, c.Failed, c.Skipped, c.NA, 100*c.Rate())
	if *maxFailed >= 0 && c.Failed > *maxFailed {
		return fmt.Errorf("%w: %s: %d tests failed, at most %d allowed (see %s)", errGate, *suite, c.Failed, *maxFailed, *outPath)
	}
	if c.Rate() < *minRate {
		return fmt.Errorf("%w: %s: pass rate %.1f%%, at least %.1f%% asked (see %s)", errGate, *suite, 100*c.Rate(), 100**minRate, *outPath)
	}
	return nil
}

// errGate marks a suite below its gate (exit 1), as against a runner
// that could not run (exit 2).
var errGate = errors.New("gate failed")

// firstLines gives the lines of a failure that say the most: assertion
// and error lines first, at most n, joined on one line.
func firstLines(s string, n int) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "Error Trace:") || strings.HasPrefix(l, "/") || failLocRe.MatchString(l) {
			continue
		}
		if len(l) > 300 {
			l = l[:300] + "..."
		}
		keep = append(keep, l)
		if len(keep) == n {
			break
		}
	}
	return strings.Join(keep, " | ")
}
