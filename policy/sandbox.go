package policy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
)

// Sandbox bounds what user policies (Options.ExtraDirs) may do. The zero
// value of a field means its default. Every policy, built-in or user, is
// compiled without the built-in functions listed by DeniedBuiltins
// (network, process environment, clock and randomness, and a few whose
// output can be exponential in their arguments); user policies are
// further evaluated in queries of their own, one at a time, under these
// bounds. A user policy that breaks a bound stops the evaluation with a
// *SandboxError naming its file, line and rule.
type Sandbox struct {
	// BucketTimeout bounds one evaluation of the user policies: for one
	// bucket (deny rules) or for the scan (scan_deny rules).
	BucketTimeout time.Duration
	// ScanTimeout bounds the time all user-policy evaluations of one
	// Evaluate call take together.
	ScanTimeout time.Duration
	// MaxMemory bounds how much the live heap may grow during one
	// evaluation of the user policies (checked every few milliseconds;
	// confirmed after a garbage collection).
	MaxMemory int64
	// MaxValueBytes bounds the value (string, or a collection counted as
	// the size of its JSON, shared parts counted each time they occur) that
	// one call of a building built-in function (sprintf, concat, replace,
	// json.marshal, base64.encode, ...) may take or build in a user policy.
	MaxValueBytes int64
	// MaxElements bounds the elements one call of numbers.range,
	// array.concat, split, ... may build in a user policy, and the weight
	// of a value a user policy writes (see nesting.go: parts counted each
	// time they occur, twice per level of nesting).
	MaxElements int64
	// MaxDigits bounds the decimal digits (exponent included) of a number
	// a user policy writes, or takes into or gets from arithmetic (the
	// operators + - * / %, sum, product), to_number, units.parse, ...: one
	// multiplication of big numbers cannot be interrupted.
	MaxDigits int64
	// CompileTimeout bounds compiling the policies (OPA's type checker
	// cannot be interrupted: past the bound Load returns an error and the
	// compile is left to end in the background).
	CompileTimeout time.Duration
	// MaxFileBytes bounds one user policy file, and MaxTotalBytes all of
	// them: a larger file is refused unread.
	MaxFileBytes  int64
	MaxTotalBytes int64
}

// Defaults of Sandbox. They leave room for policies that look at every
// object of a large bucket, and stop a runaway rule long before it hurts:
// a rule fails within BucketTimeout, or as soon as it holds MaxMemory more.
const (
	DefaultBucketTimeout = 30 * time.Second
	DefaultScanTimeout   = 10 * time.Minute
	DefaultMaxMemory     = 256 << 20
	DefaultMaxValueBytes = 16 << 20
	DefaultMaxElements   = 1 << 20
	DefaultMaxDigits     = 1000
	// DefaultCompileTimeout leaves room for a slow machine: the built-in
	// policies compile in well under a second.
	DefaultCompileTimeout = 30 * time.Second
	DefaultMaxFileBytes   = 4 << 20
	// DefaultMaxTotalBytes: 16 MiB of plain rules took 28 s and 2.8 GB to
	// load; real policy sets hold kilobytes.
	DefaultMaxTotalBytes = 8 << 20
)

func (s Sandbox) withDefaults() Sandbox {
	if s.BucketTimeout <= 0 {
		s.BucketTimeout = DefaultBucketTimeout
	}
	if s.ScanTimeout <= 0 {
		s.ScanTimeout = DefaultScanTimeout
	}
	if s.MaxMemory <= 0 {
		s.MaxMemory = DefaultMaxMemory
	}
	if s.MaxValueBytes <= 0 {
		s.MaxValueBytes = DefaultMaxValueBytes
	}
	if s.MaxElements <= 0 {
		s.MaxElements = DefaultMaxElements
	}
	if s.MaxDigits <= 0 {
		s.MaxDigits = DefaultMaxDigits
	}
	if s.CompileTimeout <= 0 {
		s.CompileTimeout = DefaultCompileTimeout
	}
	if s.MaxFileBytes <= 0 {
		s.MaxFileBytes = DefaultMaxFileBytes
	}
	if s.MaxTotalBytes <= 0 {
		s.MaxTotalBytes = DefaultMaxTotalBytes
	}
	return s
}

// DeniedBuiltins lists the OPA built-in functions no policy may call, with
// the reason. Every built-in OPA marks non-deterministic is denied: the
// network ones (http.send, net.lookup_ip_addr, and json.match_schema /
// json.verify_schema, which fetch remote $ref schemas), opa.runtime (the
// process environment and configuration), and the clock and randomness
// (time.now_ns, rand.intn, uuid.rfc4122, the io.jwt functions that read the
// clock or draw random numbers): findings must follow from the snapshot
// and the policies alone, so that re-evaluating a stored snapshot
// (scan --from-snapshot) gives the same findings and the report's policy
// digest means something; a policy that needs "now" uses the scan's time
// (input.scan.finished_at, input.provenance). Also denied: functions whose
// output can be exponential in their arguments in one uninterruptible
// step.
func DeniedBuiltins() map[string]string {
	out := map[string]string{}
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		if b.Nondeterministic {
			out[b.Name] = "non-deterministic: findings must follow from the snapshot alone (use input.scan.finished_at for the time)"
		}
	}
	for name, why := range map[string]string{
		"http.send":                "network access",
		"net.lookup_ip_addr":       "network access (DNS)",
		"json.match_schema":        "may fetch remote $ref schemas over the network",
		"json.verify_schema":       "may fetch remote $ref schemas over the network",
		"opa.runtime":              "reads the process environment and configuration",
		"bits.lsh":                 "builds a number as large as its argument in one step",
		"net.cidr_expand":          "builds a set exponential in its argument",
		"graph.reachable_paths":    "the number of paths can be exponential in the graph",
		"strings.render_template":  "the output size is not bounded by the arguments",
		"internal.template_string": "template strings format values without a size bound (use sprintf)",
	} {
		out[name] = why
	}
	return out
}

// sandboxPrefix names the bounded stand-ins of built-in functions that
// user modules call instead of the originals (see rewriteUserModule).
const sandboxPrefix = "sseaudit_sandbox"

// boundedBuiltins are the built-in functions that build values: in a user
// module, each call goes through a stand-in that checks what the call may
// build before running the original, and what it built after.
var boundedBuiltins = map[string]preCheck{
	"sprintf":                          checkSprintf,
	"concat":                           checkConcat,
	"replace":                          checkReplace,
	"strings.replace_n":                checkReplaceN,
	"regex.replace":                    checkRegexReplace,
	"json.marshal":                     checkOperands,
	"json.marshal_with_options":        checkOperands,
	"yaml.marshal":                     checkOperands,
	"json.unmarshal":                   checkOperands,
	"yaml.unmarshal":                   checkOperands,
	"array.flatten":                    checkOperands,
	"array.concat":                     checkArrayConcat,
	"numbers.range":                    checkRange,
	"numbers.range_step":               checkRange,
	"base64.encode":                    checkOperands,
	"base64url.encode":                 checkOperands,
	"base64url.encode_no_pad":          checkOperands,
	"hex.encode":                       checkOperands,
	"urlquery.encode":                  checkOperands,
	"urlquery.encode_object":           checkOperands,
	"upper":                            checkOperands,
	"lower":                            checkOperands,
	"strings.reverse":                  checkOperands,
	"format_int":                       checkOperands,
	"split":                            checkSplit,
	"strings.split_n":                  checkSplit,
	"regex.split":                      checkRegexPieces,
	"regex.find_n":                     checkRegexPieces,
	"regex.find_all_string_submatch_n": checkRegexPieces,
	"indexof_n":                        checkSplit,
	// Numbers: no number beyond MaxDigits may come in (a literal, see
	// checkNumberLiterals) or out (every stand-in's result is checked), so
	// the built-ins left alone only ever see bounded numbers. These check
	// numbers only (numericBuiltins): a set difference or a sum over a
	// large bucket is not bounded in size.
	"plus":              checkNumbers,
	"minus":             checkNumbers,
	"mul":               checkMul,
	"div":               checkNumbers,
	"rem":               checkNumbers,
	"sum":               checkNumberElems,
	"product":           checkProduct,
	"to_number":         checkNumericString,
	"units.parse":       checkNumericString,
	"units.parse_bytes": checkNumericString,
	"bits.and":          checkNumbers,
	"bits.or":           checkNumbers,
	"bits.xor":          checkNumbers,
	"bits.negate":       checkNumbers,
	"bits.rsh":          checkNumbers,
	// Built-ins that make numbers out of text: their results are checked.
	"io.jwt.decode":                         checkOperands,
	"rego.parse_module":                     checkOperands,
	"crypto.x509.parse_certificates":        checkOperands,
	"crypto.x509.parse_certificate_request": checkOperands,
	"crypto.x509.parse_keypair":             checkOperands,
	"crypto.x509.parse_rsa_private_key":     checkOperands,
	"crypto.parse_private_keys":             checkOperands,
}

// numericBuiltins are the stand-ins that bound numbers only: their result
// is checked when it is a number.
var numericBuiltins = map[string]bool{
	"plus": true, "minus": true, "mul": true, "div": true, "rem": true, "sum": true, "product": true,
	"to_number": true, "units.parse": true, "units.parse_bytes": true,
	"bits.and": true, "bits.or": true, "bits.xor": true, "bits.negate": true, "bits.rsh": true,
}

// preCheck refuses a call whose result would break the bounds, from its
// operands alone; "" means go ahead.
type preCheck func(b *Sandbox, ops []*ast.Term) string

// userCapabilities are the capabilities every policy is compiled with:
// this OPA's, without DeniedBuiltins, plus the bounded stand-ins.
func userCapabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion(ast.CapabilitiesRegoVersion(ast.RegoV1))
	denied := DeniedBuiltins()
	caps.Builtins = slices.DeleteFunc(caps.Builtins, func(b *ast.Builtin) bool { _, no := denied[b.Name]; return no })
	for _, name := range boundedNames() {
		orig := ast.BuiltinMap[name]
		caps.Builtins = append(caps.Builtins, &ast.Builtin{Name: sandboxPrefix + "." + name, Decl: orig.Decl})
	}
	caps.AllowNet = []string{} // no remote schemas for the type checker either
	return caps
}

// boundedNames are the built-ins of boundedBuiltins this OPA has and the
// sandbox does not deny (a stand-in of a denied built-in would let it in).
func boundedNames() []string {
	denied := DeniedBuiltins()
	return slices.DeleteFunc(sortedNames(boundedBuiltins), func(name string) bool {
		_, no := denied[name]
		return no || ast.BuiltinMap[name] == nil || topdown.GetBuiltin(name) == nil
	})
}

func sortedNames[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// rewriteUserModule points every call of a bounded built-in in a user
// module at its stand-in, so a user policy cannot build a value beyond the
// bounds in one step (where no cancellation reaches). Built-in modules are
// left alone: they are trusted, and keep OPA's speed.
func rewriteUserModule(m *ast.Module) {
	bounded := map[string]bool{}
	for _, name := range boundedNames() {
		bounded[name] = true
	}
	own := map[string]bool{} // names the module defines or imports: not built-ins
	for _, r := range m.Rules {
		if ref := r.Head.Ref(); len(ref) > 0 {
			own[ref[0].String()] = true
		}
	}
	for _, imp := range m.Imports {
		if imp.Alias != "" {
			own[string(imp.Alias)] = true
		} else if ref, ok := imp.Path.Value.(ast.Ref); ok && len(ref) > 0 {
			own[ref[len(ref)-1].String()] = true
		}
	}
	swap := func(t *ast.Term) {
		ref, ok := t.Value.(ast.Ref)
		if !ok || len(ref) == 0 || own[ref[0].String()] {
			return
		}
		name := ref.String()
		if !bounded[name] {
			return
		}
		nr := ast.Ref{ast.VarTerm(sandboxPrefix)}
		for i, p := range ref {
			if i == 0 {
				nr = append(nr, ast.StringTerm(string(p.Value.(ast.Var))))
			} else {
				nr = append(nr, p)
			}
		}
		t.Value = nr
	}
	ast.WalkExprs(m, func(e *ast.Expr) bool {
		if ts, ok := e.Terms.([]*ast.Term); ok && len(ts) > 0 {
			swap(ts[0])
		}
		return false
	})
	ast.WalkTerms(m, func(t *ast.Term) bool {
		if c, ok := t.Value.(ast.Call); ok && len(c) > 0 {
			swap(c[0])
		}
		return false
	})
}

// sandboxFunctions are the implementations of the stand-ins, for the user
// queries.
func sandboxFunctions(b *Sandbox) []func(*rego.Rego) {
	var out []func(*rego.Rego)
	for _, name := range boundedNames() {
		pre := boundedBuiltins[name]
		orig := topdown.GetBuiltin(name)
		decl := ast.BuiltinMap[name]
		arity := decl.Decl.Arity()
		out = append(out, rego.FunctionDyn(&rego.Function{Name: sandboxPrefix + "." + name, Decl: decl.Decl},
			func(bctx rego.BuiltinContext, ops []*ast.Term) (*ast.Term, error) {
				// The terms may end with the call's output: keep the operands.
				ops = ops[:min(len(ops), arity)]
				refuse := func(why string) error {
					be := &boundError{builtin: name, detail: why, loc: bctx.Location}
					if st, ok := bctx.Context.Value(evalStateKey{}).(*evalState); ok {
						st.refused = be
					}
					return rego.NewHaltError(be)
				}
				if why := pre(b, ops); why != "" {
					return nil, refuse(why)
				}
				var out *ast.Term
				if err := orig(bctx, ops, func(t *ast.Term) error { out = t; return nil }); err != nil {
					var h topdown.Halt
					if errors.As(err, &h) {
						return nil, rego.NewHaltError(err) // e.g. cancelled: stop, not undefined
					}
					return nil, err
				}
				switch {
				case out == nil:
				case numericBuiltins[name]: // a set difference is as large as its operand
					if n, ok := out.Value.(ast.Number); ok {
						if d := numberDigits(string(n)); d > b.MaxDigits {
							return nil, refuse(fmt.Sprintf("built a number of %s digits, more than the sandbox's bound of %d", digitsText(d), b.MaxDigits))
						}
					}
				default:
					st, ok := measure(out.Value, b.MaxValueBytes, b.MaxElements)
					if !ok {
						return nil, refuse(fmt.Sprintf("built a value of more than %s or %d elements (%s, %d so far)", bytesText(b.MaxValueBytes), b.MaxElements, bytesText(st.size), st.elems))
					}
					if st.digits > b.MaxDigits {
						return nil, refuse(fmt.Sprintf("built a number of %s digits, more than the sandbox's bound of %d", digitsText(st.digits), b.MaxDigits))
					}
				}
				return out, nil
			}))
	}
	return out
}

// boundError is a stand-in refusing a call, at loc.
type boundError struct {
	builtin string
	detail  string
	loc     *ast.Location
}

// evalState is what a stand-in tells the evaluation it runs in (through
// the context: OPA does not pass a custom function's error through).
type evalState struct{ refused *boundError }

type evalStateKey struct{}

func (e *boundError) Error() string { return e.builtin + ": " + e.detail }

// valueSize is the size of v as JSON, counting a part each time it occurs
// (a value built by nesting the same part twice, many times over, is as
// large as what serializing it would write), and its element count. It
// stops as soon as either passes its bound (ok false), so it costs at most
// the bound.
func valueSize(v ast.Value, maxBytes, maxElems int64) (size, elems int64, ok bool) {
	st, ok := measure(v, maxBytes, maxElems)
	return st.size, st.elems, ok
}

// stats are what measure found of a value: its size and elements as
// valueSize counts them, and the most digits of a number in it
// (numberDigits).
type stats struct{ size, elems, digits int64 }

// measure is valueSize, also finding the longest number.
func measure(v ast.Value, maxBytes, maxElems int64) (st stats, ok bool) {
	var size, elems, digits int64
	var walk func(v ast.Value) bool
	walk = func(v ast.Value) bool {
		elems++
		switch x := v.(type) {
		case ast.String:
			size += int64(len(x)) + 2
		case ast.Number:
			size += int64(len(x))
			digits = max(digits, numberDigits(string(x)))
		case *ast.Array:
			size += 2
			for i := 0; i < x.Len(); i++ {
				if !walk(x.Elem(i).Value) {
					return false
				}
				size++
			}
		case ast.Set:
			size += 2
			if x.Iter(func(t *ast.Term) error {
				if !walk(t.Value) {
					return errTooLarge
				}
				size++
				return nil
			}) != nil {
				return false
			}
		case ast.Object:
			size += 2
			if x.Iter(func(k, t *ast.Term) error {
				if !walk(k.Value) || !walk(t.Value) {
					return errTooLarge
				}
				size += 2
				return nil
			}) != nil {
				return false
			}
		default:
			size += int64(len(v.String()))
		}
		return size <= maxBytes && elems <= maxElems
	}
	ok = walk(v)
	return stats{size, elems, digits}, ok
}

var errTooLarge = errors.New("too large")

func bytesText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkOperands bounds every operand (a serializer or encoder's output is
// a small multiple of its input; the result is checked after).
func checkOperands(b *Sandbox, ops []*ast.Term) string {
	for i, op := range ops {
		st, ok := measure(op.Value, b.MaxValueBytes, b.MaxElements)
		if !ok {
			return fmt.Sprintf("operand %d is larger than %s or %d elements (%s or more), the sandbox's bound for one value", i+1, bytesText(b.MaxValueBytes), b.MaxElements, bytesText(st.size))
		}
		if st.digits > b.MaxDigits {
			return fmt.Sprintf("operand %d holds a number of %s digits, more than the sandbox's bound of %d", i+1, digitsText(st.digits), b.MaxDigits)
		}
	}
	return ""
}

// checkNumbers refuses a number operand longer than MaxDigits.
func checkNumbers(b *Sandbox, ops []*ast.Term) string {
	_, why := numberDigitsOf(b, ops)
	return why
}

// numberDigitsOf returns the digits of each number operand (0 for other
// operands), or why one is too long.
func numberDigitsOf(b *Sandbox, ops []*ast.Term) ([]int64, string) {
	d := make([]int64, len(ops))
	for i, op := range ops {
		if n, ok := op.Value.(ast.Number); ok {
			if d[i] = numberDigits(string(n)); d[i] > b.MaxDigits {
				return nil, fmt.Sprintf("operand %d is a number of %s digits, more than the sandbox's bound of %d", i+1, digitsText(d[i]), b.MaxDigits)
			}
		}
	}
	return d, ""
}

// elemDigits returns the digits of the numbers in a collection operand,
// added up and the longest.
func elemDigits(op *ast.Term) (total, longest int64) {
	add := func(t *ast.Term) {
		if n, ok := t.Value.(ast.Number); ok {
			d := numberDigits(string(n))
			total, longest = min(total+d, math.MaxInt32), max(longest, d)
		}
	}
	switch c := op.Value.(type) {
	case *ast.Array:
		c.Foreach(add)
	case ast.Set:
		c.Foreach(add)
	}
	return total, longest
}

// checkNumberElems refuses a collection holding a number longer than
// MaxDigits (sum).
func checkNumberElems(b *Sandbox, ops []*ast.Term) string {
	if _, longest := elemDigits(ops[0]); longest > b.MaxDigits {
		return fmt.Sprintf("operand 1 holds a number of %s digits, more than the sandbox's bound of %d", digitsText(longest), b.MaxDigits)
	}
	return ""
}

// checkMul refuses a product longer than MaxDigits before computing it:
// one multiplication of big integers cannot be interrupted, and squaring
// a number 40 times makes it 2^40 times as long.
func checkMul(b *Sandbox, ops []*ast.Term) string {
	d, why := numberDigitsOf(b, ops)
	if why != "" {
		return why
	}
	if len(d) == 2 && d[0]+d[1] > b.MaxDigits {
		return fmt.Sprintf("would build a number of about %d digits, more than the sandbox's bound of %d", d[0]+d[1], b.MaxDigits)
	}
	return ""
}

// checkProduct is checkMul for product: the digits of the elements add up.
func checkProduct(b *Sandbox, ops []*ast.Term) string {
	if why := checkNumberElems(b, ops); why != "" {
		return why
	}
	if total, _ := elemDigits(ops[0]); total > b.MaxDigits {
		return fmt.Sprintf("would build a number of up to %s digits, more than the sandbox's bound of %d", digitsText(total), b.MaxDigits)
	}
	return ""
}

// checkNumericString refuses a string that holds a number longer than
// MaxDigits (to_number, units.parse): turning it into an exact number
// takes time in its full length.
func checkNumericString(b *Sandbox, ops []*ast.Term) string {
	if s, ok := strOp(ops[0]); ok {
		if d := numericStringDigits(s); d > b.MaxDigits {
			return fmt.Sprintf("the string holds a number of %s digits, more than the sandbox's bound of %d", digitsText(d), b.MaxDigits)
		}
	}
	return checkNumbers(b, ops)
}

func strOp(t *ast.Term) (string, bool) {
	s, ok := t.Value.(ast.String)
	return string(s), ok
}

func over(b *Sandbox, est int64, what string) string {
	if est > b.MaxValueBytes {
		return fmt.Sprintf("would build %s of %s, more than the sandbox's bound of %s for one value", what, bytesText(est), bytesText(b.MaxValueBytes))
	}
	return ""
}

var fmtWidth = regexp.MustCompile(`%[-+# 0]*(\*|\d+)?(\.(\*|\d+))?`)

func checkSprintf(b *Sandbox, ops []*ast.Term) string {
	if why := checkOperands(b, ops); why != "" {
		return why
	}
	format, _ := strOp(ops[0])
	est := int64(len(format))
	for _, m := range fmtWidth.FindAllStringSubmatch(format, -1) {
		for _, w := range []string{m[1], m[3]} {
			if w == "*" {
				return "a width or precision taken from the arguments (%*d) is not allowed in user policies"
			}
			if len(w) > 4 {
				return fmt.Sprintf("width or precision %s is more than the 9999 allowed in user policies", w)
			}
		}
		est += 10000
	}
	size, _, _ := valueSize(ops[1].Value, b.MaxValueBytes, b.MaxElements)
	return over(b, est+2*size, "a string")
}

func checkConcat(b *Sandbox, ops []*ast.Term) string {
	if why := checkOperands(b, ops); why != "" {
		return why
	}
	sep, _ := strOp(ops[0])
	var n int
	switch c := ops[1].Value.(type) {
	case *ast.Array:
		n = c.Len()
	case ast.Set:
		n = c.Len()
	}
	size, _, _ := valueSize(ops[1].Value, b.MaxValueBytes, b.MaxElements)
	return over(b, size+int64(len(sep))*int64(n), "a string")
}

func countOf(s, old string) int64 {
	if old == "" {
		return int64(utf8.RuneCountInString(s)) + 1
	}
	return int64(strings.Count(s, old))
}

func checkReplace(b *Sandbox, ops []*ast.Term) string {
	s, ok1 := strOp(ops[0])
	old, ok2 := strOp(ops[1])
	nw, ok3 := strOp(ops[2])
	if !ok1 || !ok2 || !ok3 {
		return "" // the original reports the type error
	}
	return over(b, int64(len(s))+countOf(s, old)*int64(len(nw)), "a string")
}

func checkReplaceN(b *Sandbox, ops []*ast.Term) string {
	pats, ok1 := ops[0].Value.(ast.Object)
	s, ok2 := strOp(ops[1])
	if !ok1 || !ok2 {
		return ""
	}
	est := int64(len(s))
	pats.Foreach(func(k, v *ast.Term) {
		ks, _ := strOp(k)
		vs, _ := strOp(v)
		est += countOf(s, ks) * int64(len(vs))
	})
	return over(b, est, "a string")
}

func checkRegexReplace(b *Sandbox, ops []*ast.Term) string {
	s, ok1 := strOp(ops[0])
	pat, ok2 := strOp(ops[1])
	val, ok3 := strOp(ops[2])
	if !ok1 || !ok2 || !ok3 {
		return ""
	}
	if why := over(b, int64(len(s)), "a string"); why != "" {
		return why
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return "" // the original reports it
	}
	var n int64
	for i := 0; i <= len(s); {
		loc := re.FindStringIndex(s[i:])
		if loc == nil {
			break
		}
		n++
		if loc[1] > 0 {
			i += loc[1]
		} else {
			i++
		}
	}
	// Each match is replaced by val, whose $n expand to at most len(s).
	per := int64(len(val)) + int64(strings.Count(val, "$"))*int64(len(s))
	return over(b, int64(len(s))+n*per, "a string")
}

func checkArrayConcat(b *Sandbox, ops []*ast.Term) string {
	var n int64
	for _, op := range ops {
		if a, ok := op.Value.(*ast.Array); ok {
			n += int64(a.Len())
		}
	}
	if n > b.MaxElements {
		return fmt.Sprintf("would build an array of %d elements, more than the sandbox's bound of %d", n, b.MaxElements)
	}
	return ""
}

func checkRange(b *Sandbox, ops []*ast.Term) string {
	if why := checkOperands(b, ops); why != "" {
		return why
	}
	x, err1 := builtins.BigIntOperand(ops[0].Value, 1)
	y, err2 := builtins.BigIntOperand(ops[1].Value, 2)
	if err1 != nil || err2 != nil {
		return ""
	}
	n := new(big.Int).Abs(new(big.Int).Sub(y, x))
	if len(ops) == 3 {
		step, err := builtins.BigIntOperand(ops[2].Value, 3)
		if err != nil || step.Sign() <= 0 {
			return ""
		}
		n.Quo(n, step)
	}
	n.Add(n, big.NewInt(1))
	if n.Cmp(big.NewInt(b.MaxElements)) > 0 {
		return fmt.Sprintf("would build %s numbers, more than the sandbox's bound of %d elements", n, b.MaxElements)
	}
	return ""
}

func checkSplit(b *Sandbox, ops []*ast.Term) string {
	s, ok1 := strOp(ops[0])
	d, ok2 := strOp(ops[1])
	if !ok1 || !ok2 {
		return ""
	}
	if n := countOf(s, d) + 1; n > b.MaxElements {
		return fmt.Sprintf("would build %d strings, more than the sandbox's bound of %d elements", n, b.MaxElements)
	}
	return ""
}

func checkRegexPieces(b *Sandbox, ops []*ast.Term) string {
	for _, op := range ops {
		if s, ok := strOp(op); ok && int64(len(s)) > b.MaxElements {
			return fmt.Sprintf("a string of %d bytes could give more than the sandbox's bound of %d pieces", len(s), b.MaxElements)
		}
	}
	return ""
}

// sandboxRT is an engine's sandbox at run time.
type sandboxRT struct {
	bounds    Sandbox
	userFiles map[string]bool
	// mu keeps user-policy evaluations alone: built-in evaluations take it
	// shared, a user one exclusively, so the heap growth the watchdog sees
	// during a user evaluation is that evaluation's.
	mu sync.RWMutex
}

// scanBudget is the user-evaluation time left to one Evaluate call, and
// the error of the evaluation that used it up.
type scanBudget struct {
	used atomic.Int64
	// spent names the rule that was running when the budget ran out: the
	// evaluations after it (in other workers) report the same error, so
	// the error Evaluate returns names the rule whichever comes first.
	spent atomic.Pointer[SandboxError]
}

// Causes of a stopped user evaluation.
var (
	errBucketTimeout = errors.New("per-evaluation time bound")
	errScanTimeout   = errors.New("per-scan time bound")
	errMemory        = errors.New("memory bound")
)

// SandboxError is a user policy breaking a bound of the sandbox, or calling
// a denied built-in. File, Line and Rule say where (Rule is the rule's
// name, with its custom.id when it has one).
type SandboxError struct {
	File   string
	Line   int
	Rule   string
	Bound  string // what was broken: "time", "scan time", "memory", "value size", "denied built-in"
	Detail string
}

func (e *SandboxError) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Rule != "" {
		where += ": rule " + e.Rule
	}
	return "policy: user policy " + where + ": " + e.Detail
}

// locTracer remembers where evaluation last was, in a user file if it has
// been in one, so that a stopped evaluation names the rule at fault. It
// records one pointer per event: cheap enough for user queries, which
// alone are traced.
type locTracer struct {
	userFiles map[string]bool
	last      *ast.Location
	lastUser  *ast.Location
}

func (t *locTracer) Enabled() bool { return true }

func (t *locTracer) TraceEvent(ev topdown.Event) {
	// Only the expression being evaluated: other events (unification,
	// redo, index) carry the location of the enclosing rule or of nothing.
	if ev.Op != topdown.EvalOp || ev.Location == nil || ev.Location == t.last {
		return
	}
	t.last = ev.Location
	if t.userFiles[ev.Location.File] {
		t.lastUser = ev.Location
	}
}

func (t *locTracer) Config() topdown.TraceConfig { return topdown.TraceConfig{} }

// evalUser evaluates a user query under the sandbox's bounds.
func (e *Engine) evalUser(ctx context.Context, q *rego.PreparedEvalQuery, in ast.Value, budget *scanBudget, what string) (rego.ResultSet, error) {
	s := e.sandbox
	s.mu.Lock()
	defer s.mu.Unlock()
	left := s.bounds.ScanTimeout - time.Duration(budget.used.Load())
	if left <= 0 {
		if se := budget.spent.Load(); se != nil {
			return nil, se
		}
		return nil, &SandboxError{File: strings.Join(sortedNames(s.userFiles), ", "), Bound: "scan time",
			Detail: fmt.Sprintf("user policies took more than %s in total over the scan (sandbox bound); stopped before %s", s.bounds.ScanTimeout, what)}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timeout, cause := s.bounds.BucketTimeout, errBucketTimeout
	if left < timeout {
		timeout, cause = left, errScanTimeout
	}
	timer := time.AfterFunc(timeout, func() { cancel(cause) })
	defer timer.Stop()
	stop := watchHeap(s.bounds.MaxMemory, func() { cancel(errMemory) })
	tr := &locTracer{userFiles: s.userFiles}
	st := &evalState{}
	ctx = context.WithValue(ctx, evalStateKey{}, st)
	start := time.Now()
	rs, err := q.Eval(ctx, rego.EvalParsedInput(in), rego.EvalQueryTracer(tr))
	stop()
	took := time.Since(start)
	budget.used.Add(int64(took))
	if err == nil && ctx.Err() == nil {
		return rs, nil
	}
	if be := st.refused; be != nil {
		loc := be.loc
		if loc == nil {
			loc = tr.at()
		}
		return nil, e.sandboxError(loc, "value size", fmt.Sprintf("%s (while evaluating %s)", be.Error(), what))
	}
	switch c := context.Cause(ctx); {
	case errors.Is(c, errBucketTimeout):
		return nil, e.sandboxError(tr.at(), "time", fmt.Sprintf("still running after %s while evaluating %s (sandbox bound: %s per evaluation); stopped", took.Round(time.Millisecond), what, s.bounds.BucketTimeout))
	case errors.Is(c, errScanTimeout):
		se := e.sandboxError(tr.at(), "scan time", fmt.Sprintf("user policies took more than %s in total over the scan (sandbox bound); stopped while evaluating %s", s.bounds.ScanTimeout, what))
		budget.spent.Store(se)
		return nil, se
	case errors.Is(c, errMemory):
		return nil, e.sandboxError(tr.at(), "memory", fmt.Sprintf("grew the heap by more than %s while evaluating %s (sandbox bound); stopped after %s", bytesText(s.bounds.MaxMemory), what, took.Round(time.Millisecond)))
	case c != nil:
		return nil, fmt.Errorf("policy: evaluate user policies (%s): %w", what, c)
	}
	return nil, fmt.Errorf("policy: evaluate user policies (%s): %w", what, err)
}

// at is the best location known: the last in a user file, else the last.
func (t *locTracer) at() *ast.Location {
	if t.lastUser != nil {
		return t.lastUser
	}
	return t.last
}

// sandboxError names the file, line and rule of loc.
func (e *Engine) sandboxError(loc *ast.Location, bound, detail string) *SandboxError {
	se := &SandboxError{Bound: bound, Detail: detail}
	if loc == nil {
		se.File = strings.Join(sortedNames(e.sandbox.userFiles), ", ")
		return se
	}
	se.File, se.Line = loc.File, loc.Row
	se.Rule = e.ruleAt(loc.File, loc.Row)
	return se
}

// ruleAt names the rule of file that holds line row: the last rule that
// starts at or before it, with its custom.id when it has METADATA.
func (e *Engine) ruleAt(file string, row int) string {
	var m *ast.Module
	if e.compiler != nil {
		m = e.compiler.Modules[file]
	} else {
		m = e.parsed[file] // before Compile (the checks of userchecks.go)
	}
	if m == nil {
		return ""
	}
	var best *ast.Rule
	for _, r := range m.Rules {
		if r.Location != nil && r.Location.Row <= row && (best == nil || r.Location.Row > best.Location.Row) {
			best = r
		}
	}
	if best == nil {
		return ""
	}
	name := best.Head.Ref().String()
	var as *ast.AnnotationSet
	if e.compiler != nil {
		as = e.compiler.GetAnnotationSet()
	} else {
		as, _ = ast.BuildAnnotationSet([]*ast.Module{m})
	}
	if as == nil {
		return name
	}
	for _, a := range as.GetRuleScope(best) {
		if id, ok := a.Custom["id"].(string); ok && a.Scope == "rule" {
			return fmt.Sprintf("%s (%s)", name, id)
		}
	}
	return name
}

// watchHeap calls over once the live heap has grown by more than limit
// since it started. It samples the heap every 2 ms; a sample above the
// bound is confirmed by a garbage collection, so garbage left by others is
// not blamed. It returns the function that stops it.
func watchHeap(limit int64, over func()) (stop func()) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		threshold := base + uint64(limit)
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Uint64() <= threshold {
				continue
			}
			runtime.GC()
			live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(live)
			l := live[0].Value.Uint64()
			if l > base+uint64(limit) {
				over()
				return
			}
			threshold = l + uint64(limit)
		}
	}()
	return func() { close(done); wg.Wait() }
}

// explainCompileErrors rewords compile errors in user modules: a denied
// built-in is named as such, with the reason, and stand-ins are called by
// the built-in's own name.
func (e *Engine) explainCompileErrors(errs ast.Errors) error {
	denied := DeniedBuiltins()
	var out []error
	for _, ce := range errs {
		msg := strings.ReplaceAll(ce.Message, sandboxPrefix+".", "")
		if name, ok := strings.CutPrefix(msg, "undefined function "); ok {
			if why, no := denied[name]; no {
				msg = fmt.Sprintf("%s is not available to policies: %s (sseaudit's policy sandbox)", name, why)
			}
		}
		where := "policy"
		if loc := ce.Location; loc != nil {
			where = fmt.Sprintf("%s:%d", loc.File, loc.Row)
			if rule := e.ruleAt(loc.File, loc.Row); rule != "" {
				where += ": rule " + rule
			}
		}
		out = append(out, fmt.Errorf("%s: %s: %s", where, ce.Code, msg))
	}
	return errors.Join(out...)
}
