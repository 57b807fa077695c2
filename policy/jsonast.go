package policy

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// jsonParser parses JSON (RFC 8259, strict) straight into AST terms, with no
// intermediate Go values: the policy input is then exactly the snapshot's
// JSON. Strings are decoded as encoding/json does (invalid UTF-8 becomes
// U+FFFD), numbers keep their text. Member names and frequent values are
// shared terms.
type jsonParser struct {
	data  string // substrings of it become string values without copies
	pos   int
	scr   []byte
	slab  []ast.Term           // terms are carved from slabs: one allocation per 256
	cache map[string]*ast.Term // values of repetitive members (see internedMembers)
}

type jsonSyntaxError struct {
	off int
	msg string
}

func (e *jsonSyntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

func (p *jsonParser) fail(msg string) error { return &jsonSyntaxError{p.pos, msg} }

// parseJSONTerm parses one JSON value occupying all of data.
func parseJSONTerm(data []byte) (*ast.Term, error) {
	p := &jsonParser{data: string(data)}
	t, err := p.value(false)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos != len(p.data) {
		return nil, p.fail("data after the value")
	}
	return t, nil
}

// term returns a new term for v, carved from the current slab.
func (p *jsonParser) term(v ast.Value) *ast.Term {
	if len(p.slab) == 0 {
		p.slab = make([]ast.Term, 256)
	}
	t := &p.slab[0]
	p.slab = p.slab[1:]
	t.Value = v
	return t
}

// str returns a string term, shared for frequent values.
func (p *jsonParser) strTerm(s string, intern bool) *ast.Term {
	if t, ok := common[s]; ok {
		return t
	}
	if !intern {
		return p.term(ast.String(s))
	}
	if p.cache == nil {
		p.cache = make(map[string]*ast.Term, 16)
	}
	if t, ok := p.cache[s]; ok {
		return t
	}
	t := p.term(ast.String(s))
	if len(p.cache) < 1024 {
		p.cache[s] = t
	}
	return t
}

func (p *jsonParser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value(intern bool) (*ast.Term, error) {
	p.ws()
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of data")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		return p.strTerm(v, intern), nil
	case c == 't':
		return p.lit("true", ast.InternedTerm(true))
	case c == 'f':
		return p.lit("false", ast.InternedTerm(false))
	case c == 'n':
		return p.lit("null", ast.NullTerm())
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func (p *jsonParser) lit(s string, t *ast.Term) (*ast.Term, error) {
	if len(p.data)-p.pos < len(s) || p.data[p.pos:p.pos+len(s)] != s {
		return nil, p.fail("invalid literal")
	}
	p.pos += len(s)
	return t, nil
}

func (p *jsonParser) number() (*ast.Term, error) {
	start := p.pos
	d := p.data
	i := p.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return nil, p.fail("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return nil, p.fail("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			p.pos = i
			return nil, p.fail("invalid number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	s := d[start:i]
	if t := ast.InternedIntNumberTermFromString(s); t != nil {
		return t, nil
	}
	// OPA refuses exponents whose big.Float formatting cost explodes;
	// accepting them here would let one snapshot value stall evaluation.
	n, err := ast.NumberChecked(s)
	if err != nil {
		p.pos = start
		return nil, p.fail(err.Error())
	}
	return p.term(n), nil
}

// str parses a string at p.pos and returns its decoded value: a substring
// of the data when it has no escapes and is valid UTF-8.
func (p *jsonParser) str() (string, error) {
	d := p.data
	i := p.pos + 1
	start := i
	// Fast path: no escapes, ASCII only.
	for i < len(d) {
		c := d[i]
		if c == '"' {
			p.pos = i + 1
			return d[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
		i++
	}
	b := append(p.scr[:0], d[start:i]...)
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			p.scr = b
			return string(b), nil
		case c < 0x20:
			p.pos = i
			return "", p.fail("control character in string")
		case c == '\\':
			if i+1 >= len(d) {
				p.pos = i
				return "", p.fail("unterminated escape")
			}
			i++
			switch d[i] {
			case '"', '\\', '/':
				b = append(b, d[i])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, n, ok := hex4(d[i+1:])
				if !ok {
					p.pos = i
					return "", p.fail("invalid \\u escape")
				}
				i += n
				if utf16.IsSurrogate(r) {
					r2, n2, ok2 := rune(-1), 0, false
					if i+2 < len(d) && d[i+1] == '\\' && d[i+2] == 'u' {
						r2, n2, ok2 = hex4(d[i+3:])
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						r = dec
						i += 2 + n2
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.pos = i
				return "", p.fail("invalid escape")
			}
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(d[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, d[i:i+size]...)
			}
			i += size
		}
	}
	p.pos = i
	return "", p.fail("unterminated string")
}

func hex4(b string) (rune, int, bool) {
	if len(b) < 4 {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(b[:4], 16, 32)
	if err != nil {
		return 0, 0, false
	}
	return rune(v), 4, true
}

func (p *jsonParser) object() (*ast.Term, error) {
	p.pos++ // {
	var kv [16][2]*ast.Term
	items := kv[:0]
	var seen uint64
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return p.term(ast.NewObject()), nil
	}
	for {
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("want a member name")
		}
		kb, err := p.str()
		if err != nil {
			return nil, err
		}
		var k *ast.Term
		intern := false
		if idx, ok := memberIndex[kb]; ok {
			if seen&(1<<idx) != 0 {
				return nil, p.fail(fmt.Sprintf("member %q appears twice", kb))
			}
			seen |= 1 << idx
			k = memberTerms[idx]
			intern = internedMembers&(1<<idx) != 0
		} else {
			name := kb
			for _, it := range items {
				if s, ok := it[0].Value.(ast.String); ok && string(s) == name {
					return nil, p.fail(fmt.Sprintf("member %q appears twice", kb))
				}
			}
			k = p.term(ast.String(name))
		}
		p.ws()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail("want ':'")
		}
		p.pos++
		v, err := p.value(intern)
		if err != nil {
			return nil, err
		}
		items = append(items, [2]*ast.Term{k, v})
		p.ws()
		if p.pos >= len(p.data) {
			return nil, p.fail("unterminated object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return p.term(ast.NewObject(items...)), nil
		default:
			return nil, p.fail("want ',' or '}'")
		}
	}
}

func (p *jsonParser) array() (*ast.Term, error) {
	p.pos++ // [
	var elems []*ast.Term
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return p.term(ast.NewArray()), nil
	}
	for {
		v, err := p.value(false)
		if err != nil {
			return nil, err
		}
		elems = append(elems, v)
		p.ws()
		if p.pos >= len(p.data) {
			return nil, p.fail("unterminated array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return p.term(ast.NewArray(elems...)), nil
		default:
			return nil, p.fail("want ',' or ']'")
		}
	}
}

// memberTerms are shared terms for the snapshot's member names;
// memberIndex maps a name to its index (at most 64).
var memberTerms, memberIndex = func() ([]*ast.Term, map[string]int) {
	names := []string{
		"bucket", "key", "size", "etag", "last_modified", "version_id", "storage_class", "sse", "kms_key_id",
		"method", "error", "data_encryption", "attempts", "scope", "resource", "status_code", "code", "message",
		"name", "region", "creation_date", "encryption", "encryption_error", "region_error", "list_error",
		"objects_listed", "objects_inspected", "read_at", "objects", "algorithm", "kms_master_key_id",
		"kms_data_encryption", "raw", "versioning", "versioning_error", "versions_inspected", "noncurrent",
		"read_probed", "read_error", "ssec_blocked",
	}
	terms := make([]*ast.Term, len(names))
	idx := make(map[string]int, len(names))
	for i, n := range names {
		if t, ok := sharedKeys[n]; ok {
			terms[i] = t
		} else {
			terms[i] = ast.StringTerm(n)
		}
		idx[n] = i
	}
	return terms, idx
}()

// internedMembers marks members whose values repeat across objects (one
// term per distinct value per bucket).
var internedMembers = func() uint64 {
	var m uint64
	for _, n := range []string{"bucket", "sse", "kms_key_id", "method", "storage_class", "data_encryption", "scope", "code", "region", "algorithm", "kms_master_key_id"} {
		m |= 1 << memberIndex[n]
	}
	return m
}()
