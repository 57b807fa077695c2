package policies

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// parseDir parses every .rego file of this directory (policies and tests).
func parseDir(t *testing.T) map[string]*ast.Module {
	t.Helper()
	paths, err := filepath.Glob("*.rego")
	if err != nil {
		t.Fatal(err)
	}
	mods := map[string]*ast.Module{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ast.ParseModuleWithOpts(p, string(b), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		mods[p] = m
	}
	return mods
}

// TestRego runs every *_test.rego through OPA's tester, as `opa test
// policies/` would.
func TestRego(t *testing.T) {
	mods := parseDir(t)
	ctx := context.Background()
	ch, err := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithEnablePrintStatements(true)).
		CapturePrintOutput(true).
		SetModules(mods).
		RaiseBuiltinErrors(true).
		RunTests(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range ch {
		n++
		name := strings.TrimPrefix(r.Package, "data.") + "." + r.Name
		if r.Error != nil {
			t.Errorf("%s: error: %v", name, r.Error)
			continue
		}
		if !r.Pass() {
			t.Errorf("%s: FAIL (%s)\n%s", name, r.Location, r.Output)
		}
	}
	if n < 50 {
		t.Errorf("ran %d Rego tests, want the full suite (>= 50)", n)
	}
	t.Logf("%d Rego tests", n)
}

// TestEveryRuleHasTests checks that every rule id in the built-in policies
// has at least one test_<id>_compliant_* and one test_<id>_violation_* test.
func TestEveryRuleHasTests(t *testing.T) {
	mods := parseDir(t)
	idRe := regexp.MustCompile(`(?m)^#\s+id:\s+(SSE-\d+)\s*$`)
	ids := map[string]bool{}
	tests := map[string]bool{}
	for name, m := range mods {
		if strings.HasSuffix(name, "_test.rego") {
			for _, r := range m.Rules {
				tests[r.Head.Name.String()] = true
			}
			continue
		}
		b, _ := os.ReadFile(name)
		for _, mm := range idRe.FindAllStringSubmatch(string(b), -1) {
			ids[mm[1]] = true
		}
	}
	if len(ids) < 10 {
		t.Fatalf("found %d rule ids, want at least 10", len(ids))
	}
	for id := range ids {
		p := "test_" + strings.ToLower(strings.ReplaceAll(id, "-", "")) + "_"
		var comp, viol bool
		for tn := range tests {
			comp = comp || strings.HasPrefix(tn, p+"compliant")
			viol = viol || strings.HasPrefix(tn, p+"violation")
		}
		if !comp || !viol {
			t.Errorf("%s: want %scompliant_* and %sviolation_* tests (compliant %v, violation %v)", id, p, p, comp, viol)
		}
	}
}

// TestEmbedded checks FS holds exactly the non-test .rego files of this
// directory, and TestFS the tests.
func TestEmbedded(t *testing.T) {
	list := func(fsys fs.FS) []string {
		var out []string
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, p)
			}
			return err
		})
		sort.Strings(out)
		return out
	}
	paths, _ := filepath.Glob("*.rego")
	var want, wantTests []string
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.rego") {
			wantTests = append(wantTests, p)
		} else {
			want = append(want, p)
		}
	}
	sort.Strings(want)
	sort.Strings(wantTests)
	if got := list(FS); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("FS embeds %v, directory has %v: update the //go:embed line in embed.go", got, want)
	}
	if got := list(TestFS); strings.Join(got, ",") != strings.Join(wantTests, ",") {
		t.Errorf("TestFS embeds %v, want %v", got, wantTests)
	}
}

// TestRuleListInOnePlace: the rules are listed by their METADATA blocks
// only; the package doc and README point there instead of keeping a copy
// that goes stale.
func TestRuleListInOnePlace(t *testing.T) {
	idRe := regexp.MustCompile(`SSE-\d{3}`)
	for _, f := range []string{"embed.go", "README.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if ids := idRe.FindAllString(string(b), -1); len(ids) > 0 {
			t.Errorf("%s names rules %v: describe the families and point to the METADATA blocks (sseaudit rules) instead of listing rules", f, ids)
		}
	}
}
