package conformance_test

// The reference server's RFC 7644 §3.4.2.2 filter parser and evaluator, also used for the value
// filters of PATCH paths.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

var errBadFilter = errors.New("invalid filter")

type token struct {
	kind string // "(", ")", "[", "]", "str", "word"
	text string
	at   int // byte offset in the filter, for error messages
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case strings.IndexByte("()[]", c) >= 0:
			toks = append(toks, token{kind: string(c), at: i})
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("%w: unterminated string at byte %d", errBadFilter, i)
			}
			v, err := strconv.Unquote(s[i : j+1])
			if err != nil {
				return nil, fmt.Errorf("%w: %v at byte %d", errBadFilter, err, i)
			}
			toks = append(toks, token{kind: "str", text: v, at: i})
			i = j + 1
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t()[]\"", s[j]) < 0 {
				j++
			}
			toks = append(toks, token{kind: "word", text: s[i:j], at: i})
			i = j
		}
	}
	return toks, nil
}

// A filter is evaluated against a JSON object: a resource, or an element of a multi-valued
// attribute inside a value path.
type filter interface{ match(obj map[string]any) bool }

type andFilter struct{ l, r filter }
type orFilter struct{ l, r filter }
type notFilter struct{ f filter }
type presentFilter struct{ ref attrRef }
type compareFilter struct {
	ref   attrRef
	op    string
	value any
}
type valuePathFilter struct {
	ref   attrRef // the multi-valued attribute
	inner filter  // on its elements
	sub   *attrDef
	op    string // with sub: a comparison on the selected sub-attribute
	value any
}

func (f andFilter) match(o map[string]any) bool { return f.l.match(o) && f.r.match(o) }
func (f orFilter) match(o map[string]any) bool  { return f.l.match(o) || f.r.match(o) }
func (f notFilter) match(o map[string]any) bool { return !f.f.match(o) }

// attrRef is a resolved attribute path: an optional extension URN, an attribute, a sub-attribute.
type attrRef struct {
	ext  string
	attr *attrDef
	sub  *attrDef
}

// scope resolves names: a resource type's attributes, or the sub-attributes of one attribute.
type scope struct {
	attrs    []*attrDef
	extURN   string
	extAttrs []*attrDef
}

func resourceScope(rt *resourceType) scope {
	return scope{attrs: rt.attrs, extURN: rt.extURN, extAttrs: rt.extAttrs}
}

// resolve turns "name.givenName", "urn:…:User:department" or "emails" into an attrRef; ok is
// false for an unknown attribute.
func (s scope) resolve(path string) (attrRef, bool) {
	ext, defs := "", s.attrs
	if s.extURN != "" && len(path) > len(s.extURN) && strings.EqualFold(path[:len(s.extURN)], s.extURN) && path[len(s.extURN)] == ':' {
		ext, defs, path = s.extURN, s.extAttrs, path[len(s.extURN)+1:]
	} else if strings.HasPrefix(strings.ToLower(path), "urn:") {
		for _, urn := range []string{userSchema, groupSchema} {
			if len(path) > len(urn) && strings.EqualFold(path[:len(urn)], urn) && path[len(urn)] == ':' {
				path = path[len(urn)+1:]
				break
			}
		}
	}
	top, subName, hasSub := strings.Cut(path, ".")
	a := find(defs, top)
	if a == nil && ext == "" && s.extURN != "" {
		if a = find(s.extAttrs, top); a != nil {
			ext = s.extURN
		}
	}
	if a == nil {
		return attrRef{}, false
	}
	ref := attrRef{ext: ext, attr: a}
	if hasSub {
		if ref.sub = find(a.sub, subName); ref.sub == nil {
			return attrRef{}, false
		}
	}
	return ref, true
}

// values returns every value the reference selects in obj, flattened; a complex attribute
// without a sub-attribute compares by its "value" sub-attribute.
func (ref attrRef) values(obj map[string]any) []any {
	container := obj
	if ref.ext != "" {
		m, _ := obj[ref.ext].(map[string]any)
		container = m
	}
	v, ok := container[ref.attr.name]
	if !ok || v == nil {
		return nil
	}
	items := []any{v}
	if list, ok := v.([]any); ok {
		items = list
	}
	subName := ""
	if ref.sub != nil {
		subName = ref.sub.name
	} else if ref.attr.typ == "complex" {
		subName = "value"
	}
	if subName == "" {
		return items
	}
	var out []any
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if sv, ok := m[subName]; ok && sv != nil {
				out = append(out, sv)
			}
		}
	}
	return out
}

func (ref attrRef) leaf() *attrDef {
	if ref.sub != nil {
		return ref.sub
	}
	if ref.attr.typ == "complex" {
		if v := find(ref.attr.sub, "value"); v != nil {
			return v
		}
	}
	return ref.attr
}

func (f presentFilter) match(o map[string]any) bool {
	for _, v := range f.ref.values(o) {
		if s, ok := v.(string); !ok || s != "" {
			return true
		}
	}
	return false
}

func (f compareFilter) match(o map[string]any) bool {
	vals := f.ref.values(o)
	if f.op == "ne" {
		for _, v := range vals {
			if compare(f.ref.leaf(), "eq", v, f.value) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if compare(f.ref.leaf(), f.op, v, f.value) {
			return true
		}
	}
	return false
}

func (f valuePathFilter) match(o map[string]any) bool {
	for _, el := range f.ref.elements(o) {
		if !f.inner.match(el) {
			continue
		}
		if f.sub == nil {
			return true
		}
		if v, ok := el[f.sub.name]; ok && compare(f.sub, f.op, v, f.value) {
			return true
		}
	}
	return false
}

// elements returns the objects of a multi-valued complex attribute.
func (ref attrRef) elements(obj map[string]any) []map[string]any {
	container := obj
	if ref.ext != "" {
		container, _ = obj[ref.ext].(map[string]any)
	}
	list, _ := container[ref.attr.name].([]any)
	var out []map[string]any
	for _, it := range list {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func compare(def *attrDef, op string, got, want any) bool {
	switch g := got.(type) {
	case bool:
		w, ok := want.(bool)
		return ok && op == "eq" && g == w
	case string:
		w, ok := want.(string)
		if !ok {
			return false
		}
		if def.typ == "dateTime" {
			gt, err1 := time.Parse(time.RFC3339Nano, g)
			wt, err2 := time.Parse(time.RFC3339Nano, w)
			if err1 != nil || err2 != nil {
				return false
			}
			return order(op, gt.Compare(wt))
		}
		if !def.caseExact {
			g, w = strings.ToLower(g), strings.ToLower(w)
		}
		switch op {
		case "co":
			return strings.Contains(g, w)
		case "sw":
			return strings.HasPrefix(g, w)
		case "ew":
			return strings.HasSuffix(g, w)
		}
		return order(op, strings.Compare(g, w))
	}
	return false
}

func order(op string, c int) bool {
	switch op {
	case "eq":
		return c == 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

type filterParser struct {
	toks  []token
	pos   int
	scope scope
	end   int  // the filter's length: the position of an unexpected end
	rule  bool // an attribute rule's filter: unknown attributes are errors, not "no match"
}

// errorf is a filter error naming the byte offset of the token where parsing stopped.
func (p *filterParser) errorf(format string, args ...any) error {
	at := p.end
	if p.pos < len(p.toks) {
		at = p.toks[p.pos].at
	}
	return fmt.Errorf("%w: %s at byte %d", errBadFilter, fmt.Sprintf(format, args...), at)
}

func parseFilter(s string, sc scope) (filter, error) {
	return parseFilterAs(s, sc, false)
}

// parseRuleFilter parses an attribute rule's filter over User attributes: like a list filter,
// except that an attribute the schema lacks is an error.
func parseRuleFilter(s string) (filter, error) {
	return parseFilterAs(s, resourceScope(userType), true)
}

func parseFilterAs(s string, sc scope, rule bool) (filter, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks, scope: sc, end: len(s), rule: rule}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, p.errorf("unexpected %q", p.toks[p.pos].kind+p.toks[p.pos].text)
	}
	return f, nil
}

func (p *filterParser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

func (p *filterParser) keyword(word string) bool {
	t, ok := p.peek()
	if ok && t.kind == "word" && strings.EqualFold(t.text, word) {
		p.pos++
		return true
	}
	return false
}

func (p *filterParser) expect(kind string) error {
	t, ok := p.peek()
	if !ok || t.kind != kind {
		return p.errorf("want %q", kind)
	}
	p.pos++
	return nil
}

func (p *filterParser) or() (filter, error) {
	l, err := p.and()
	for err == nil && p.keyword("or") {
		var r filter
		if r, err = p.and(); err == nil {
			l = orFilter{l, r}
		}
	}
	return l, err
}

func (p *filterParser) and() (filter, error) {
	l, err := p.not()
	for err == nil && p.keyword("and") {
		var r filter
		if r, err = p.not(); err == nil {
			l = andFilter{l, r}
		}
	}
	return l, err
}

func (p *filterParser) not() (filter, error) {
	if p.keyword("not") {
		if err := p.expect("("); err != nil {
			return nil, err
		}
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		return notFilter{f}, p.expect(")")
	}
	return p.atom()
}

var compareOps = []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}

func (p *filterParser) atom() (filter, error) {
	t, ok := p.peek()
	if !ok {
		return nil, p.errorf("unexpected end")
	}
	if t.kind == "(" {
		p.pos++
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		return f, p.expect(")")
	}
	if t.kind != "word" {
		return nil, p.errorf("want an attribute")
	}
	ref, known := p.scope.resolve(t.text)
	if p.rule {
		// A rule reads the user's own attributes: not what the server keeps about it.
		if !known {
			return nil, p.errorf("unknown attribute %q", t.text)
		}
		if n := ref.attr.name; n == "groups" || n == "meta" {
			return nil, p.errorf("a rule may not read %s", n)
		}
	}
	p.pos++
	if next, ok := p.peek(); ok && next.kind == "[" {
		return p.valuePath(ref, known)
	}
	if p.keyword("pr") {
		return p.orNone(presentFilter{ref}, known), nil
	}
	op, value, err := p.comparison()
	if err != nil {
		return nil, err
	}
	return p.orNone(compareFilter{ref: ref, op: op, value: value}, known), nil
}

// orNone makes a filter on an unknown attribute match nothing rather than fail.
func (p *filterParser) orNone(f filter, known bool) filter {
	if !known {
		return nothing{}
	}
	return f
}

type nothing struct{}

func (nothing) match(map[string]any) bool { return false }

func (p *filterParser) comparison() (string, any, error) {
	t, ok := p.peek()
	if !ok || t.kind != "word" {
		return "", nil, p.errorf("want an operator")
	}
	op := strings.ToLower(t.text)
	if !contains(compareOps, op) {
		return "", nil, p.errorf("unknown operator %q", t.text)
	}
	p.pos++
	v, ok := p.peek()
	if !ok || (v.kind != "str" && v.kind != "word") {
		return "", nil, p.errorf("%s needs a value", op)
	}
	p.pos++
	if v.kind == "str" {
		return op, v.text, nil
	}
	switch strings.ToLower(v.text) {
	case "true":
		return op, true, nil
	case "false":
		return op, false, nil
	case "null":
		return op, nil, nil
	}
	if n, err := strconv.ParseFloat(v.text, 64); err == nil {
		return op, n, nil
	}
	return "", nil, p.errorf("bad value %q", v.text)
}

func (p *filterParser) valuePath(ref attrRef, known bool) (filter, error) {
	p.pos++ // [
	var inner filter = nothing{}
	if known {
		sub := &filterParser{toks: p.toks, pos: p.pos, scope: scope{attrs: ref.attr.sub}, end: p.end, rule: p.rule}
		f, err := sub.or()
		if err != nil {
			return nil, err
		}
		inner, p.pos = f, sub.pos
	} else {
		for depth := 1; depth > 0; p.pos++ {
			if p.pos >= len(p.toks) {
				return nil, p.errorf("unclosed [")
			}
			switch p.toks[p.pos].kind {
			case "[":
				depth++
			case "]":
				depth--
			}
		}
		p.pos--
	}
	if err := p.expect("]"); err != nil {
		return nil, err
	}
	vp := valuePathFilter{ref: ref, inner: inner}
	// Entra writes emails[type eq "work"].value eq "…" in lookups.
	if t, ok := p.peek(); ok && t.kind == "word" && strings.HasPrefix(t.text, ".") {
		p.pos++
		if known {
			vp.sub = find(ref.attr.sub, t.text[1:])
		}
		op, value, err := p.comparison()
		if err != nil {
			return nil, err
		}
		if vp.sub == nil {
			return nothing{}, nil
		}
		vp.op, vp.value = op, value
	}
	return p.orNone(vp, known), nil
}

// equalities lists the attr eq "value" terms of an and-chain, to build the element a filtered
// PATCH add creates (emails[type eq "work"].value on a user with no work email).
func equalities(f filter) map[string]any {
	out := map[string]any{}
	var walk func(filter)
	walk = func(f filter) {
		switch f := f.(type) {
		case andFilter:
			walk(f.l)
			walk(f.r)
		case compareFilter:
			if f.op == "eq" && f.ref.sub == nil {
				out[f.ref.attr.name] = f.value
			}
		}
	}
	walk(f)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
