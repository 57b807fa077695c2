package policy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Checks of the user modules before anything is compiled: each refuses a
// policy that could break out of the sandbox, with a *SandboxError naming
// its file and line.

// reservedRoot is the namespace of sseaudit's built-in policies.
var reservedRoot = ast.MustParseRef("data.sseaudit")

// checkUserModules runs the checks that must come before Compile, in
// order: no rule inside a built-in package; no with replacing a built-in
// function; no number literal beyond Sandbox.MaxDigits; no value nesting
// beyond Sandbox.MaxElements (see nesting.go). all holds every module,
// built-in ones first; user the user's, in file order.
func (e *Engine) checkUserModules(all, user []*ast.Module) (err error) {
	// A check that fails on a module it did not foresee refuses it, never
	// takes the process down.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("policy: checking the user policies failed (%v): the policy is refused", r)
		}
	}()
	var builtinPkgs []ast.Ref
	for _, m := range all {
		if !e.sandbox.userFiles[m.Package.Location.File] {
			builtinPkgs = append(builtinPkgs, m.Package.Path)
		}
	}
	for _, m := range user {
		if err := e.checkReserved(m, builtinPkgs); err != nil {
			return err
		}
	}
	for _, m := range user {
		if err := e.checkWith(m); err != nil {
			return err
		}
		if err := e.checkNumberLiterals(m); err != nil {
			return err
		}
	}
	if f := newNestChecker(e.sandbox.bounds.MaxElements, all).check(user); f != nil {
		return e.nestError(f)
	}
	return nil
}

// checkReserved refuses a user module whose package is data.sseaudit or
// under it, or that defines a rule inside a built-in package (through a
// package above it and a rule reference reaching down): user modules are
// compiled with the built-in ones, so such a rule would be merged into
// the built-in package and could change or turn off its rules (a
// "failed(_) if true" in package sseaudit.lib silences most of them).
// Reading the built-in packages (import data.sseaudit.lib) is fine.
func (e *Engine) checkReserved(m *ast.Module, builtinPkgs []ast.Ref) *SandboxError {
	pkg := m.Package.Path
	name := strings.TrimPrefix(pkg.String(), "data.")
	if pkg.HasPrefix(reservedRoot) {
		return e.sandboxError(m.Package.Location, "built-in package",
			fmt.Sprintf("package %s is inside data.sseaudit, which holds sseaudit's built-in policies: a user policy may read them (import data.sseaudit.lib) but not define rules in them, which would change or turn off built-in rules; name the package after your organisation (e.g. package acme.sse)", name))
	}
	for _, r := range m.Rules {
		path := append(pkg.Copy(), headParts(r.Head.Ref())...)
		for _, b := range builtinPkgs {
			if path.HasPrefix(b) || b.HasPrefix(path) {
				return e.sandboxError(r.Location, "built-in package",
					fmt.Sprintf("rule %s defines %s, inside sseaudit's built-in package %s: a user policy may read built-in packages but not define rules in them; name the package after your organisation (e.g. package acme.sse)",
						r.Head.Ref(), strings.TrimPrefix(path.String(), "data."), strings.TrimPrefix(b.String(), "data.")))
			}
		}
	}
	return nil
}

// checkWith refuses a with modifier that replaces a built-in function, or
// that replaces anything with one. Rewriting the replacement to its
// bounded stand-in would not be enough: a replaced built-in is replaced
// for everything the expression evaluates, the built-in library's rules
// included (which are not rewritten), and a stand-in put in place of
// another function would be called with operands its checks were not
// written for. Replacing built-in functions is for policy tests, which
// sseaudit does not load; user policies have no need for it. A with that
// replaces input or a data document by a value is allowed.
func (e *Engine) checkWith(m *ast.Module) *SandboxError {
	own := moduleNames(m)
	var bad *SandboxError
	ast.WalkExprs(m, func(x *ast.Expr) bool {
		for _, w := range x.With {
			if bad != nil {
				break
			}
			if name, ok := builtinFuncName(w.Target, own, true); ok {
				bad = e.sandboxError(w.Location, "with", fmt.Sprintf("`with %s as ...` replaces the built-in function %s: user policies may not replace built-in functions (that is for policy tests, which sseaudit does not load); call the function you mean instead", name, name))
			} else if name, ok := builtinFuncName(w.Value, own, false); ok {
				bad = e.sandboxError(w.Location, "with", fmt.Sprintf("`with %s as %s` puts the built-in function %s in place of another: user policies may not use with to call built-in functions (it would bypass the sandbox's bounds on them); call %s directly", w.Target, name, name, name))
			}
		}
		return bad != nil
	})
	return bad
}

// moduleNames are the names a module defines or imports, which are not
// built-in functions there.
func moduleNames(m *ast.Module) map[ast.Var]bool {
	own := map[ast.Var]bool{}
	for _, r := range m.Rules {
		if v, ok := r.Head.Ref()[0].Value.(ast.Var); ok {
			own[v] = true
		}
	}
	for _, imp := range m.Imports {
		if imp.Alias != "" {
			own[imp.Alias] = true
		} else if ref, ok := imp.Path.Value.(ast.Ref); ok && len(ref) > 0 {
			if s, ok := ref[len(ref)-1].Value.(ast.String); ok {
				own[ast.Var(s)] = true
			}
		}
	}
	return own
}

// builtinFuncName says whether t names a built-in function (or a
// sandbox stand-in): a variable or reference rooted at neither data, input
// nor a name the module defines or imports. As a with target every such
// name is a built-in function (OPA allows nothing else there); as a value
// only the names OPA knows as built-ins count.
func builtinFuncName(t *ast.Term, own map[ast.Var]bool, target bool) (string, bool) {
	var head ast.Var
	switch v := t.Value.(type) {
	case ast.Var:
		head = v
	case ast.Ref:
		h, ok := v[0].Value.(ast.Var)
		if !ok {
			return "", false
		}
		head = h
	default:
		return "", false
	}
	if head == ast.DefaultRootDocument.Value || head == ast.InputRootDocument.Value || own[head] {
		return "", false
	}
	name := t.String()
	if target || strings.HasPrefix(name, sandboxPrefix+".") {
		return name, true
	}
	_, ok := ast.BuiltinMap[name]
	return name, ok
}

// checkNumberLiterals refuses a number literal longer than MaxDigits
// (counting its exponent): OPA turns numbers into exact big integers for
// arithmetic, which takes time and memory in the number's full length.
func (e *Engine) checkNumberLiterals(m *ast.Module) *SandboxError {
	max := e.sandbox.bounds.MaxDigits
	var bad *SandboxError
	ast.WalkTerms(m, func(t *ast.Term) bool {
		if bad != nil {
			return true
		}
		if n, ok := t.Value.(ast.Number); ok {
			if d := numberDigits(string(n)); d > max {
				bad = e.sandboxError(t.Location, "number size", fmt.Sprintf("the number %s has %s digits written out, more than the sandbox's bound of %d", abbreviate(string(n)), digitsText(d), max))
			}
		}
		return false
	})
	return bad
}

// numberDigits is about how many decimal digits n (a JSON number) takes
// written out in full: the digits of its mantissa plus the size of its
// exponent. An exponent too large to read counts as more than any bound.
func numberDigits(n string) int64 {
	mant, exp := n, ""
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		mant, exp = n[:i], n[i+1:]
	}
	var d int64
	for i := 0; i < len(mant); i++ {
		if mant[i] >= '0' && mant[i] <= '9' {
			d++
		}
	}
	if exp = strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0"); exp != "" {
		x, err := strconv.ParseInt(exp, 10, 64)
		if err != nil || x > math.MaxInt32 {
			return math.MaxInt32
		}
		d += x
	}
	return d
}

// numericStringDigits is numberDigits for a string holding a number among
// other text (units.parse("10Ki")): every digit counts, and the largest
// exponent.
func numericStringDigits(s string) int64 {
	var d, exp int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			d++
		case (c == 'e' || c == 'E') && i+1 < len(s):
			j := i + 1
			if s[j] == '+' || s[j] == '-' {
				j++
			}
			k := j
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			if k > j {
				if x := numberDigits("1e" + s[j:k]); x-1 > exp {
					exp = x - 1
				}
			}
		}
	}
	return min(d+exp, math.MaxInt32)
}

func digitsText(d int64) string {
	if d >= math.MaxInt32 {
		return "more than 2 billion"
	}
	return strconv.FormatInt(d, 10)
}

// abbreviate shortens a long number for an error message.
func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:20] + "..." + s[len(s)-10:]
	}
	return s
}

// errCompileTime is Compile still running after Sandbox.CompileTimeout.
var errCompileTime = errors.New("compile time bound")

// uninterruptible runs fn, which nothing can stop, until it ends, ctx is
// done or timeout (if not 0) passes, whichever comes first. When ctx or the
// timeout stops the wait, fn goes on in the background and its result must
// be dropped: the CLI exits then (a long-lived caller loses a core until
// fn ends). This is how Load stops waiting for OPA's parser and compiler
// on SIGINT; the checks before Compile make the timeout a last resort. A
// panic in fn is returned as an error.
func uninterruptible(ctx context.Context, timeout time.Duration, fn func()) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("OPA failed: %v", r)
			}
		}()
		fn()
		done <- nil
	}()
	var expired <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-expired:
		return errCompileTime
	}
}
