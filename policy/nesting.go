package policy

import (
	"fmt"
	"maps"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/types"
)

// The nesting check refuses, before OPA compiles anything, a user policy
// whose values nest or share other values so much that OPA would spend
// time exponential in the source on them in one step nothing can stop:
//
//   - OPA's evaluator keeps a value built from variables or rules (r1 :=
//     [r0, r0], ..., r40 := [r39, r39]) as shared parts and expands it
//     whole when the value is used (2^40 elements);
//   - OPA's type checker walks the type of every rule (and, to unify two
//     terms, both types in both directions at every level) without
//     memory of shared parts: 41 rule heads like the above, or 16 pairs
//     of local variables compared once, keep Compile busy for hours,
//     before any deadline of evaluation applies.
//
// So every term gets a weight: a scalar weighs 1; an array, set or object
// 1 plus twice the sum of its parts (each shared part counted each time it
// occurs, and twice per level of nesting, as the type checker's
// unification walks it); a comprehension 1 plus twice its head; a variable
// the weight of what it was bound to; a reference to a rule (by name, by
// data path, through an import) the weight of the rule's values; a call
// of a user function what its value weighs with its parameters weighing
// what the arguments do (a function's weight is affine in its
// parameters', so it is computed once); a call of a built-in 1 when it
// returns a scalar, else 1 plus its arguments. A term heavier than Sandbox.MaxElements is refused, naming
// its file and line. The check is linear in the policies: every rule's
// weight is computed once.

// maxRuleDepth bounds how deep rules may refer to each other (through
// their values), so that the check's own recursion stays small.
const maxRuleDepth = 10000

// aff is a weight: c plus, in a function's body, k[i] times the weight of
// its i-th parameter. Its numbers saturate at the checker's limit.
type aff struct {
	c int64
	k []int64
}

// nestFail is the first term found too heavy.
type nestFail struct {
	loc *ast.Location
	why string
}

// nestChecker holds the rules of every module (built-in and user) in a
// tree by data path, with their weights once computed.
type nestChecker struct {
	max   int64 // the bound; weights saturate just above it
	root  *trieNode
	depth int
	fail  *nestFail
}

type trieNode struct {
	kids     map[string]*trieNode
	defs     []ruleDef
	fn       bool // the rules here are functions
	state    uint8
	w        aff
	subState uint8
	sub      int64
}

type ruleDef struct {
	r   *ast.Rule
	mod *modInfo
}

// modInfo is what resolving a name in a module needs.
type modInfo struct {
	pkg     []*ast.Term          // the package path, without data
	imports map[ast.Var]ast.Ref  // alias (or last element) -> imported path
	names   map[ast.Var]struct{} // rule names of the package (all its modules)
}

const (
	stateNone = iota
	stateBusy
	stateDone
)

func newNestChecker(max int64, mods []*ast.Module) *nestChecker {
	c := &nestChecker{max: max, root: &trieNode{}}
	names := map[string]map[ast.Var]struct{}{}
	for _, m := range mods {
		pkg := m.Package.Path.String()
		if names[pkg] == nil {
			names[pkg] = map[ast.Var]struct{}{}
		}
		for _, r := range m.Rules {
			if v, ok := r.Head.Ref()[0].Value.(ast.Var); ok {
				names[pkg][v] = struct{}{}
			}
		}
	}
	for _, m := range mods {
		mi := &modInfo{pkg: m.Package.Path[1:], imports: map[ast.Var]ast.Ref{}, names: names[m.Package.Path.String()]}
		for _, imp := range m.Imports {
			ref, ok := imp.Path.Value.(ast.Ref)
			if !ok || len(ref) == 0 {
				continue
			}
			alias := imp.Alias
			if alias == "" {
				last := ref[len(ref)-1]
				if s, ok := last.Value.(ast.String); ok {
					alias = ast.Var(s)
				} else if v, ok := last.Value.(ast.Var); ok {
					alias = v
				}
			}
			mi.imports[alias] = ref
		}
		for _, r := range m.Rules {
			n := c.root
			path := append(append([]*ast.Term{}, mi.pkg...), headParts(r.Head.Ref())...)
			for _, p := range path {
				k, _ := groundKey(p)
				if n.kids == nil {
					n.kids = map[string]*trieNode{}
				}
				if n.kids[k] == nil {
					n.kids[k] = &trieNode{}
				}
				n = n.kids[k]
			}
			n.defs = append(n.defs, ruleDef{r: r, mod: mi})
			n.fn = n.fn || len(r.Head.Args) > 0
		}
	}
	return c
}

// headParts is the ground prefix of a rule's head reference, its first
// element (a variable) as a string.
func headParts(ref ast.Ref) []*ast.Term {
	out := []*ast.Term{ast.StringTerm(string(ref[0].Value.(ast.Var)))}
	for _, t := range ref[1:] {
		if _, ok := groundKey(t); !ok {
			break
		}
		out = append(out, t)
	}
	return out
}

func groundKey(t *ast.Term) (string, bool) {
	switch v := t.Value.(type) {
	case ast.String:
		return string(v), true
	case ast.Var:
		return "", false
	}
	if t.IsGround() {
		return t.String(), true
	}
	return "", false
}

// check computes the weight of every rule of the user modules and
// returns the first term found too heavy, or nil.
func (c *nestChecker) check(user []*ast.Module) *nestFail {
	for _, m := range user {
		for _, r := range m.Rules {
			n := c.root
			for _, p := range append(append([]*ast.Term{}, m.Package.Path[1:]...), headParts(r.Head.Ref())...) {
				k, _ := groundKey(p)
				n = n.kids[k]
			}
			c.group(n)
			if c.fail != nil {
				return c.fail
			}
		}
	}
	return nil
}

func (c *nestChecker) failAt(loc *ast.Location, why string) {
	if c.fail == nil {
		c.fail = &nestFail{loc: loc, why: why}
	}
}

// Saturating arithmetic on weights.
func (c *nestChecker) add(a, b int64) int64 { return min(a+b, c.max+1) }

func (c *nestChecker) mul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > (c.max+1)/b {
		return c.max + 1
	}
	return min(a*b, c.max+1)
}

func (c *nestChecker) addAff(a, b aff) aff {
	out := aff{c: c.add(a.c, b.c), k: make([]int64, max(len(a.k), len(b.k)))}
	for i := range out.k {
		if i < len(a.k) {
			out.k[i] = c.add(out.k[i], a.k[i])
		}
		if i < len(b.k) {
			out.k[i] = c.add(out.k[i], b.k[i])
		}
	}
	return out
}

func (c *nestChecker) scale(a aff, s int64) aff {
	out := aff{c: c.mul(a.c, s), k: make([]int64, len(a.k))}
	for i, k := range a.k {
		out.k[i] = c.mul(k, s)
	}
	return out
}

func maxAff(a, b aff) aff {
	out := aff{c: max(a.c, b.c), k: make([]int64, max(len(a.k), len(b.k)))}
	for i := range out.k {
		if i < len(a.k) {
			out.k[i] = max(out.k[i], a.k[i])
		}
		if i < len(b.k) {
			out.k[i] = max(out.k[i], b.k[i])
		}
	}
	return out
}

func (c *nestChecker) over(a aff) bool {
	if a.c > c.max {
		return true
	}
	for _, k := range a.k {
		if k > c.max {
			return true
		}
	}
	return false
}

// collection is the weight of a collection whose parts weigh parts.
func (c *nestChecker) collection(parts aff) aff {
	return c.addAff(aff{c: 1}, c.scale(parts, 2))
}

// group is the weight of the rules at n: the sum over their definitions
// (a function's is affine in its parameters).
func (c *nestChecker) group(n *trieNode) aff {
	switch n.state {
	case stateBusy:
		return aff{c: 1} // a cycle: OPA refuses recursion itself
	case stateDone:
		return n.w
	}
	if c.depth >= maxRuleDepth {
		if len(n.defs) > 0 {
			c.failAt(n.defs[0].r.Location, fmt.Sprintf("is at the end of a chain of more than %d rules referring to each other", maxRuleDepth))
		}
		return aff{c: c.max + 1}
	}
	n.state = stateBusy
	c.depth++
	var w aff
	for _, d := range n.defs {
		for rr := d.r; rr != nil && c.fail == nil; rr = rr.Else {
			w = c.addAff(w, c.ruleDef(rr, d))
		}
	}
	c.depth--
	n.state, n.w = stateDone, w
	return w
}

// ruleDef is the weight of one definition (or else branch) of a rule.
func (c *nestChecker) ruleDef(rr *ast.Rule, d ruleDef) aff {
	args := d.r.Head.Args
	cx := &nestCtx{c: c, mod: d.mod, env: map[ast.Var]aff{}}
	for i, a := range args {
		unit := aff{k: make([]int64, len(args))}
		unit.k[i] = 1
		ast.WalkVars(a, func(v ast.Var) bool {
			cx.env[v] = unit
			return false
		})
	}
	cx.body(rr.Body)
	h := rr.Head
	cx.at = h.Location
	var w aff
	if h.Value != nil {
		w = cx.w(h.Value)
	} else {
		w = aff{c: 1}
	}
	ref := h.Ref()
	if h.Key != nil || len(headParts(ref)) < len(ref) {
		// A partial rule: a set or object of such values.
		if h.Key != nil {
			w = c.addAff(w, cx.w(h.Key))
		}
		for _, t := range ref[len(headParts(ref)):] {
			w = c.addAff(w, cx.w(t))
		}
		w = c.collection(w)
		if c.over(w) {
			cx.failAt(h.Location, w)
		}
	}
	return w
}

func (c *nestChecker) heavy(aff) string {
	return fmt.Sprintf("builds a value that nests or shares other values too much: it weighs more than %d (each part counted every time it occurs, twice per level of nesting)", c.max)
}

// nestCtx is one rule definition being weighed: its module and the
// weights of its variables so far.
type nestCtx struct {
	c   *nestChecker
	mod *modInfo
	env map[ast.Var]aff
	at  *ast.Location // the expression or head being weighed, for errors
}

func (cx *nestCtx) clone() *nestCtx {
	return &nestCtx{c: cx.c, mod: cx.mod, env: maps.Clone(cx.env), at: cx.at}
}

// failAt refuses the expression being weighed (or, outside one, loc).
func (cx *nestCtx) failAt(loc *ast.Location, w aff) {
	if cx.at != nil {
		loc = cx.at
	}
	cx.c.failAt(loc, cx.c.heavy(w))
}

// body weighs a body's expressions in order, binding their variables.
func (cx *nestCtx) body(b ast.Body) {
	for _, e := range b {
		if cx.c.fail != nil {
			return
		}
		at := cx.at
		cx.at = e.Location
		cx.expr(e)
		cx.at = at
	}
}

func (cx *nestCtx) expr(e *ast.Expr) {
	for _, w := range e.With {
		cx.w(w.Value)
	}
	switch t := e.Terms.(type) {
	case *ast.Term:
		cx.w(t)
	case []*ast.Term:
		if len(t) == 0 {
			return
		}
		if (e.IsAssignment() || e.IsEquality()) && len(t) == 3 {
			wa, wb := cx.w(t[1]), cx.w(t[2])
			cx.bind(t[1], wb)
			cx.bind(t[2], wa)
			return
		}
		// A call with an output argument: f(x, out).
		if n := cx.arity(t[0]); n >= 0 && len(t) == n+2 {
			cx.bind(t[n+1], cx.call(ast.Call(t[:n+1]), t[0].Location))
			return
		}
		cx.call(ast.Call(t), t[0].Location)
	case *ast.SomeDecl:
		for _, s := range t.Symbols {
			call, ok := s.Value.(ast.Call)
			if !ok || len(call) < 3 {
				continue
			}
			dom := elem(cx.w(call[len(call)-1]))
			for _, v := range call[1 : len(call)-1] {
				cx.bind(v, dom)
			}
		}
	case *ast.Every:
		dom := elem(cx.w(t.Domain))
		sub := cx.clone()
		if t.Key != nil {
			sub.bind(t.Key, dom)
		}
		sub.bind(t.Value, dom)
		sub.body(t.Body)
	}
}

// bind gives every variable of t (a pattern) at least weight w.
func (cx *nestCtx) bind(t *ast.Term, w aff) {
	ast.WalkVars(t, func(v ast.Var) bool {
		if v == ast.DefaultRootDocument.Value || v == ast.InputRootDocument.Value {
			return false
		}
		cx.env[v] = maxAff(cx.varW(v), w)
		return false
	})
}

// w weighs a term and refuses it (the first time) when it is too heavy.
func (cx *nestCtx) w(t *ast.Term) aff {
	w := cx.w1(t)
	if cx.c.over(w) {
		cx.failAt(t.Location, w)
	}
	return w
}

func (cx *nestCtx) w1(t *ast.Term) aff {
	c := cx.c
	switch v := t.Value.(type) {
	case ast.Var:
		return cx.varW(v)
	case ast.Ref:
		return cx.refW(v)
	case ast.Call:
		return cx.call(v, t.Location)
	case *ast.Array:
		var s aff
		v.Foreach(func(e *ast.Term) { s = c.addAff(s, cx.w(e)) })
		return c.collection(s)
	case ast.Set:
		var s aff
		v.Foreach(func(e *ast.Term) { s = c.addAff(s, cx.w(e)) })
		return c.collection(s)
	case ast.Object:
		var s aff
		v.Foreach(func(k, e *ast.Term) { s = c.addAff(c.addAff(s, cx.w(k)), cx.w(e)) })
		return c.collection(s)
	case *ast.ArrayComprehension:
		sub := cx.clone()
		sub.body(v.Body)
		return c.collection(sub.w(v.Term))
	case *ast.SetComprehension:
		sub := cx.clone()
		sub.body(v.Body)
		return c.collection(sub.w(v.Term))
	case *ast.ObjectComprehension:
		sub := cx.clone()
		sub.body(v.Body)
		return c.collection(c.addAff(sub.w(v.Key), sub.w(v.Value)))
	}
	return aff{c: 1}
}

// varW is the weight of a variable: what it was bound to, or the rule or
// import it names.
func (cx *nestCtx) varW(v ast.Var) aff {
	if w, ok := cx.env[v]; ok {
		return w
	}
	return cx.refW(ast.Ref{ast.NewTerm(v)})
}

// refW is the weight of a reference: the whole document it starts from
// (conservatively, whatever it selects), its index terms weighed too.
func (cx *nestCtx) refW(r ast.Ref) aff {
	for _, t := range r[1:] {
		if _, ok := t.Value.(ast.String); !ok {
			cx.w(t)
		}
	}
	head, ok := r[0].Value.(ast.Var)
	if !ok {
		return cx.w(r[0])
	}
	if w, ok := cx.env[head]; ok {
		for range r[1:] {
			w = elem(w)
		}
		return w
	}
	if path, ok := cx.resolve(r); ok {
		return cx.c.lookup(path)
	}
	return aff{c: 1}
}

// elem bounds the weight of a part of a collection that weighs w: a
// collection weighs 1 plus twice the sum of its parts.
func elem(w aff) aff {
	out := aff{c: max(1, w.c/2), k: make([]int64, len(w.k))}
	for i, k := range w.k {
		out.k[i] = (k + 1) / 2
	}
	return out
}

// resolve turns a reference into the data path it reads (without data),
// or false for input, locals and built-in names.
func (cx *nestCtx) resolve(r ast.Ref) ([]*ast.Term, bool) {
	head := r[0].Value.(ast.Var)
	switch {
	case head == ast.DefaultRootDocument.Value:
		return r[1:], true
	case head == ast.InputRootDocument.Value:
		return nil, false
	}
	if imp, ok := cx.mod.imports[head]; ok {
		if imp[0].Value.Compare(ast.DefaultRootDocument.Value) != 0 {
			return nil, false
		}
		return append(append([]*ast.Term{}, imp[1:]...), r[1:]...), true
	}
	if _, ok := cx.mod.names[head]; ok {
		return append(append(append([]*ast.Term{}, cx.mod.pkg...), ast.StringTerm(string(head))), r[1:]...), true
	}
	return nil, false
}

// lookup is the weight of the document at path: the rules found on the
// way, or every rule under where the path stops being known.
func (c *nestChecker) lookup(path []*ast.Term) aff {
	n := c.root
	rest := path
	for _, p := range path {
		if len(n.defs) > 0 {
			break
		}
		rest = rest[1:]
		k, ok := groundKey(p)
		if !ok {
			return aff{c: c.subtree(n)}
		}
		next := n.kids[k]
		if next == nil {
			return aff{c: 1}
		}
		n = next
	}
	if len(n.defs) > 0 {
		if n.fn {
			return aff{c: 1}
		}
		w := c.group(n)
		for range rest { // a part of the rule's value
			w = elem(w)
		}
		return w
	}
	return aff{c: c.subtree(n)}
}

// subtree is the weight of the document of every rule under n (an
// object of them).
func (c *nestChecker) subtree(n *trieNode) int64 {
	switch n.subState {
	case stateBusy:
		return 1
	case stateDone:
		return n.sub
	}
	n.subState = stateBusy
	var s int64
	if len(n.defs) > 0 && !n.fn {
		s = c.add(s, c.group(n).c)
	}
	for _, k := range n.kids {
		s = c.add(s, c.add(c.subtree(k), 1))
	}
	n.sub, n.subState = c.add(1, c.mul(2, s)), stateDone
	return n.sub
}

// funcNode is the trie node of the user or built-in-policy function op
// names, or nil for a built-in function.
func (cx *nestCtx) funcNode(op *ast.Term) *trieNode {
	r, ok := op.Value.(ast.Ref)
	if !ok || len(r) == 0 {
		return nil
	}
	if _, ok := r[0].Value.(ast.Var); !ok {
		return nil
	}
	path, ok := cx.resolve(r)
	if !ok {
		return nil
	}
	n := cx.c.root
	for _, p := range path {
		k, ok := groundKey(p)
		if !ok {
			return nil
		}
		if n = n.kids[k]; n == nil {
			return nil
		}
	}
	if !n.fn {
		return nil
	}
	return n
}

// arity is the number of operands the function op takes, or -1.
func (cx *nestCtx) arity(op *ast.Term) int {
	if n := cx.funcNode(op); n != nil {
		return len(n.defs[0].r.Head.Args)
	}
	if b, ok := ast.BuiltinMap[op.String()]; ok && b.Decl != nil {
		return b.Decl.Arity()
	}
	return -1
}

// call weighs a call: a function's weight with its parameters weighing
// what the arguments do; a built-in's 1 plus its arguments.
func (cx *nestCtx) call(call ast.Call, loc *ast.Location) aff {
	c := cx.c
	args := make([]aff, len(call)-1)
	for i, a := range call[1:] {
		args[i] = cx.w(a)
	}
	var out aff
	if n := cx.funcNode(call[0]); n != nil {
		f := c.group(n)
		out = aff{c: f.c}
		for i, k := range f.k {
			if i < len(args) {
				out = c.addAff(out, c.scale(args[i], k))
			}
		}
	} else {
		out = cx.builtinCall(call[0].String(), args)
	}
	if c.over(out) {
		cx.failAt(loc, out)
	}
	return out
}

// selects are the built-in functions whose result is a part of one of
// their operands (or of what the operand holds).
var selects = map[string]bool{
	"minus": true, "and": true, "intersection": true, "object.get": true, "object.filter": true,
	"object.remove": true, "object.keys": true, "object.values": true, "json.filter": true,
	"json.remove": true, "array.slice": true, "array.reverse": true, "sort": true, "max": true, "min": true,
}

// builtinCall weighs a call of a built-in function: 1 when it returns a
// scalar (a number, string, boolean or null shares nothing with its
// arguments); the heaviest operand when it selects part of one (selects);
// otherwise, not knowing how the result is built, 1 plus its arguments.
func (cx *nestCtx) builtinCall(name string, args []aff) aff {
	c := cx.c
	if b, ok := ast.BuiltinMap[name]; ok && b.Decl != nil {
		switch b.Decl.Result().(type) {
		case types.Number, types.String, types.Boolean, types.Null:
			return aff{c: 1}
		}
	}
	out := aff{c: 1}
	if selects[name] {
		for _, a := range args {
			out = maxAff(out, a)
		}
		return out
	}
	for _, a := range args {
		out = c.addAff(out, a)
	}
	return out
}

// nestError turns a failure into the error Load returns.
func (e *Engine) nestError(f *nestFail) *SandboxError {
	text := ""
	if f.loc != nil {
		text = strings.TrimSpace(string(f.loc.Text))
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[:i] + " ..."
		}
		if len(text) > 80 {
			text = text[:77] + "..."
		}
	}
	detail := fmt.Sprintf("%q %s, and OPA would expand or type-check it in steps exponential in the source that nothing can stop (sandbox bound); build large values from input, e.g. with a comprehension", text, f.why)
	return e.sandboxError(f.loc, "nesting", detail)
}
