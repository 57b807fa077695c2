package policy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sseaudit/sseaudit/snapshot"
)

// hostileDir copies testdata/hostile/NAME.rego into a policy directory of
// its own, with {{URL}} replaced by url.
func hostileDir(t *testing.T, name, url string) (dir, file string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "hostile", name+".rego"))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	file = filepath.Join(dir, name+".rego")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(src), "{{URL}}", url)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

// lineOf is the 1-based line of the first line of file holding s.
func lineOf(t *testing.T, file, s string) int {
	t.Helper()
	if s == "" {
		return 0
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) && !strings.HasPrefix(l, "#") {
			return i + 1
		}
	}
	t.Fatalf("%s does not hold %q", file, s)
	return 0
}

// peakMemory samples the heap and the memory the runtime has mapped every
// millisecond until stopped, and returns their peaks.
func peakMemory() (stop func() (heap, total uint64)) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	var heap, total atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > heap.Load() {
				heap.Store(v)
			}
			if v := s[1].Value.Uint64(); v > total.Load() {
				total.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() (uint64, uint64) { close(done); wg.Wait(); return heap.Load(), total.Load() }
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// A user policy that would reach the network, the environment or the clock
// does not load: the built-ins it calls are not in the sandbox's
// capabilities. The HTTP server must never see a request.
func TestSandboxRefusesDeniedBuiltins(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	cases := []struct {
		name, call, why string
	}{
		{"http_send", "http.send", "network access"},
		{"lookup", "net.lookup_ip_addr", "network access (DNS)"},
		{"runtime", "opa.runtime", "process environment"},
		{"clock", "time.now_ns", "non-deterministic"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, file := hostileDir(t, tc.name, srv.URL)
			e, err := Load(context.Background(), Options{ExtraDirs: []string{dir}})
			if err == nil {
				// What the unsandboxed engine did: evaluate, and call out.
				_, err = e.Evaluate(context.Background(), mem("s", bucket("b1", ruleCMK), bucket("b2", ruleCMK)), nil, nil)
				t.Fatalf("a policy calling %s loaded (evaluation: %v; requests received: %d)", tc.call, err, hits.Load())
			}
			t.Logf("%v", err)
			want := []string{file + ":" + strconv.Itoa(lineOf(t, file, tc.call+"(")) + ": rule deny (HOSTILE-", tc.call + " is not available to policies", tc.why}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback server received %d request(s)", n)
	}
}

// A user policy that runs too long or builds too much is stopped quickly,
// with an error naming its file, line and rule, and the process stays
// small.
func TestSandboxStopsHostilePolicies(t *testing.T) {
	objs := []snapshot.Object{obj("b1", "a.txt", snapshot.MethodKMSCMK, cmk), obj("b1", "b.txt", snapshot.MethodKMSCMK, cmk)}
	cases := []struct {
		name   string
		box    Sandbox
		bound  string // SandboxError.Bound
		line   string // the line the error names holds this ("": any line of the rule)
		detail string
		within time.Duration
	}{
		{name: "big_range", bound: "value size", line: "numbers.range(1, 1e10)", detail: "numbers.range: would build 10000000000 numbers", within: 2 * time.Second},
		{name: "doubling", bound: "value size", line: "s18 := hex.encode(s17)", detail: "hex.encode: built a value of more than 16 MiB", within: 5 * time.Second},
		{name: "separator", bound: "value size", line: "s := concat(sep", detail: "concat: would build a string of", within: 5 * time.Second},
		{name: "grow", bound: "memory", line: "xs := [[i, j]", detail: "grew the heap by more than 256 MiB", within: 20 * time.Second},
		{name: "spin", box: Sandbox{BucketTimeout: time.Second}, bound: "time", detail: "(sandbox bound: 1s per evaluation)", within: 4 * time.Second},
		{name: "spin", box: Sandbox{BucketTimeout: time.Minute, ScanTimeout: 1500 * time.Millisecond}, bound: "scan time", detail: "more than 1.5s in total over the scan", within: 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name+" "+tc.bound, func(t *testing.T) {
			dir, file := hostileDir(t, tc.name, "")
			e, err := Load(context.Background(), Options{ExtraDirs: []string{dir}, Sandbox: tc.box, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			stop := peakMemory()
			start := time.Now()
			_, err = e.Evaluate(context.Background(), mem("s", bucket("b1", ruleCMK, objs...), bucket("b2", ruleCMK), bucket("b3", ruleCMK)), nil, nil)
			took := time.Since(start)
			heap, total := stop()
			t.Logf("%s: stopped after %s; peak heap %.0f MiB, peak runtime memory %.0f MiB; %v", tc.name, took.Round(time.Millisecond), mib(heap), mib(total), err)
			var se *SandboxError
			if !errors.As(err, &se) {
				t.Fatalf("want a *SandboxError, got %v", err)
			}
			// A rule stopped while running is named with the line it was
			// on: any line of its body.
			wantLine, lastLine := lineOf(t, file, tc.line), lineOf(t, file, tc.line)
			if tc.line == "" {
				b, _ := os.ReadFile(file)
				wantLine, lastLine = lineOf(t, file, "deny contains"), strings.Count(string(b), "\n")
			}
			if se.File != file || se.Line < wantLine || se.Line > lastLine || se.Rule != "deny (HOSTILE-"+hostileID(tc.name)+")" || se.Bound != tc.bound {
				t.Errorf("error names %s:%d rule %q bound %q; want %s:%d rule deny (HOSTILE-%s) bound %q", se.File, se.Line, se.Rule, se.Bound, file, wantLine, hostileID(tc.name), tc.bound)
			}
			if !strings.Contains(err.Error(), tc.detail) || !strings.HasPrefix(err.Error(), "policy: user policy "+file+":") {
				t.Errorf("error %q does not say %q", err, tc.detail)
			}
			if took > tc.within*raceSlowdown {
				t.Errorf("took %s, want under %s", took, tc.within)
			}
			if heap > 600<<20 || total > 900<<20 {
				t.Errorf("peak heap %.0f MiB, runtime memory %.0f MiB: the bound did not hold memory down", mib(heap), mib(total))
			}
		})
	}
}

func hostileID(name string) string {
	return map[string]string{"big_range": "5", "grow": "6", "spin": "7", "dag": "8", "doubling": "9", "separator": "10"}[name]
}

// Rego forbids recursion and a syntax error stops the load; both name the
// file and line.
func TestSandboxCompileErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, line, want string }{
		{"syntax", "x := [1, 2", "rego_parse_error"},
		{"recursion", "f(n) := f(n + 1)", "rego_recursion_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, file := hostileDir(t, tc.name, "")
			_, err := Load(context.Background(), Options{ExtraDirs: []string{dir}})
			if err == nil {
				t.Fatal("loaded")
			}
			// The parser reports the line where it gave up: the one after
			// the unclosed bracket, or the recursive rule itself.
			at := lineOf(t, file, tc.line)
			if !strings.Contains(err.Error(), file+":"+strconv.Itoa(at)) && !strings.Contains(err.Error(), file+":"+strconv.Itoa(at+1)) {
				t.Errorf("error does not name %s:%d: %v", file, at, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not say %s: %v", tc.want, err)
			}
			t.Logf("%v", err)
		})
	}
}

// A value that nests itself (x1 := [x0, x0], ... x40) would be expanded
// by OPA in one step that nothing can interrupt (2^40 elements): such a
// policy does not load.
func TestSandboxRefusesSelfNestingValues(t *testing.T) {
	dir, file := hostileDir(t, "dag", "")
	stop := peakMemory()
	start := time.Now()
	_, err := Load(context.Background(), Options{ExtraDirs: []string{dir}})
	took := time.Since(start)
	heap, total := stop()
	t.Logf("dag: refused after %s; peak heap %.0f MiB, runtime memory %.0f MiB: %v", took.Round(time.Millisecond), mib(heap), mib(total), err)
	var se *SandboxError
	if !errors.As(err, &se) {
		t.Fatalf("want a *SandboxError, got %v", err)
	}
	// The check weighs each level of nesting twice (OPA's type checker
	// unifies both ways at every level), so it stops at x10, not x20.
	if se.File != file || se.Line != lineOf(t, file, "x10 := [x9, x9]") || se.Rule != "deny (HOSTILE-8)" || !strings.Contains(err.Error(), "weighs more than 1048576") {
		t.Errorf("error %v", err)
	}
}

// A user policy that reads every object, builds a list and formats a
// message runs under the sandbox as before.
func TestSandboxRunsBenignPolicies(t *testing.T) {
	dir, _ := hostileDir(t, "benign", "")
	e := load(t, Options{ExtraDirs: []string{dir}})
	var objs []snapshot.Object
	for _, k := range []string{"a", "b", "c", "d"} {
		objs = append(objs, obj("b1", k, snapshot.MethodKMSCMK, cmk))
	}
	fs := ofRule(eval(t, e, mem("s", bucket("b1", ruleCMK, objs...)), nil, nil), "HOSTILE-13")
	if len(fs) != 1 || fs[0].Message != "4 objects, first a, a,b,c" {
		t.Fatalf("findings %+v", fs)
	}
}

// The built-in policies compile under the sandbox's capabilities and use
// none of the denied built-ins.
func TestBuiltinPoliciesCompileInTheSandbox(t *testing.T) {
	e := load(t, Options{})
	denied := DeniedBuiltins()
	for _, name := range []string{"http.send", "net.lookup_ip_addr", "opa.runtime", "time.now_ns", "rand.intn", "uuid.rfc4122", "json.match_schema"} {
		if _, ok := denied[name]; !ok {
			t.Errorf("%s is not denied", name)
		}
	}
	for _, m := range e.compiler.Modules {
		for _, name := range []string{"http.send", "net.lookup_ip_addr", "opa.runtime", "time.now_ns"} {
			if strings.Contains(m.String(), name+"(") {
				t.Errorf("%s calls %s", m.Package, name)
			}
		}
	}
}
