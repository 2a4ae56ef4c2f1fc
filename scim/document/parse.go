package document

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"
)

// Parsing goes through filter-parser, the grammar of record, but only once per
// shape. A shape is the input with every string literal replaced by the empty
// literal "", so `members[value eq "usr_1"]` and `members[value eq "usr_2"]`
// share the shape `members[value eq ""]` and one parse.
//
// Why this is exact: in the grammar (RFC 7644 §3.4.2.2, as filter-parser
// implements it) the only rule that consumes a '"' is the string rule, which
// runs from an opening quote to the first unescaped closing quote and looks at
// nothing else. So when every literal found by scanLiterals is a complete,
// valid string token, the parser consumes exactly those spans as string
// tokens, and replacing their contents changes no other parsing decision: the
// shape parses if and only if the input parses, to the same tree with
// different string values. String values appear in the tree in text order
// (left operands before right ones), so the literals go back in by an in-order
// walk. If a literal is not a valid string token, no parse of the input can
// succeed, and the input is rejected without parsing it.

// Limits on every filter and PATCH path, checked by one iterative scan
// before filter-parser sees the input. filter-parser is recursive (about
// 85,000 nested parentheses overflow the goroutine stack, which kills the
// process), and although linear it costs 2 to 5 KB of allocation and a few
// microseconds per byte of filter syntax. The limits are far above what an
// identity provider sends (Okta and Entra ID send one or two comparisons and
// no nesting) and keep the worst parse near 20 MiB and 25 ms.
//
// Because the parsed tree has at most one node per and, or, not and value
// path, evaluating it (Match, ValidateFilter, IndexedEquals) recurses at most
// a few hundred calls deep.
const (
	// MaxFilterLength bounds a filter or path in bytes, string values
	// included.
	MaxFilterLength = 64 << 10
	// MaxFilterSyntax bounds the bytes of a filter or path outside its
	// string values: what filter-parser actually parses.
	MaxFilterSyntax = 4 << 10
	// MaxFilterDepth bounds how deep parentheses and brackets nest.
	MaxFilterDepth = 32
	// MaxFilterTerms bounds the comparisons of a filter or path, counted as
	// one more than its and and or operators.
	MaxFilterTerms = 256
)

const (
	// cacheLimit bounds each cache. Real clients use a few dozen shapes; when
	// a cache overflows (hostile or unusual traffic) it is emptied, which
	// costs one parse per shape to refill.
	cacheLimit = 4096
	// maxCachedShape keeps huge shapes out of the cache.
	maxCachedShape = 4096
	// maxDirectParse bounds inputs parsed directly only to explain an error:
	// filter-parser is quadratic on long runs of invalid UTF-8 in literals,
	// and each byte it parses costs kilobytes of allocation.
	maxDirectParse = 1024
)

// shapeCache is a bounded, concurrency-safe map from shape to parsed tree,
// or to a parseFailure for a shape that does not parse (LenientFilter asks
// again about the input it repairs). The trees it holds are never handed
// out; callers get copies.
type shapeCache struct {
	entries sync.Map
	size    atomic.Int64 // approximate under concurrent stores
}

func (c *shapeCache) load(shape string) (any, bool) { return c.entries.Load(shape) }

func (c *shapeCache) store(shape string, tree any) {
	if len(shape) > maxCachedShape {
		return
	}
	if c.size.Load() >= cacheLimit {
		c.entries.Clear()
		c.size.Store(0)
	}
	if _, loaded := c.entries.LoadOrStore(shape, tree); !loaded {
		c.size.Add(1)
	}
}

// parseFailure is a cached parse error of a shape.
type parseFailure struct{ err error }

var (
	filterCache shapeCache // shape → filter.Expression or parseFailure
	pathCache   shapeCache // shape → filter.Path or parseFailure
)

// parseFilterShape parses a shape through the cache.
func parseFilterShape(shape string) (filter.Expression, error) {
	cached, ok := filterCache.load(shape)
	if !ok {
		tree, err := filter.ParseFilter([]byte(shape))
		if err != nil {
			filterCache.store(shape, parseFailure{err})
			return nil, err
		}
		filterCache.store(shape, tree)
		return tree, nil
	}
	if f, failed := cached.(parseFailure); failed {
		return nil, f.err
	}
	return cached.(filter.Expression), nil
}

// parsePathShape parses a shape through the cache.
func parsePathShape(shape string) (filter.Path, error) {
	cached, ok := pathCache.load(shape)
	if !ok {
		p, err := filter.ParsePath([]byte(shape))
		if err != nil {
			pathCache.store(shape, parseFailure{err})
			return filter.Path{}, err
		}
		pathCache.store(shape, p)
		return p, nil
	}
	if f, failed := cached.(parseFailure); failed {
		return filter.Path{}, f.err
	}
	return cached.(filter.Path), nil
}

// limitProblem says which limit s exceeds, "" when none. It is one pass
// over s with a counter for nesting, never recursion, and skips the contents
// of string values the way the grammar reads them (to the next unescaped
// quote), so that a parenthesis or an "and" in a value counts for nothing.
// It makes sense of any input, valid or not: LenientFilter asks it about
// filters with bare values.
func limitProblem(s string) string {
	if len(s) > MaxFilterLength {
		return fmt.Sprintf("is %d bytes long; the limit is %d bytes", len(s), MaxFilterLength)
	}
	syntax, depth, deepest, operators := 0, 0, 0, 0
	word := -1 // start of the current word, or -1
	endWord := func(end int) {
		if word >= 0 {
			if w := s[word:end]; strings.EqualFold(w, "and") || strings.EqualFold(w, "or") {
				operators++
			}
			word = -1
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			endWord(i)
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			syntax += 2
			continue
		}
		syntax++
		switch {
		case c == '(' || c == '[':
			endWord(i)
			depth++
			deepest = max(deepest, depth)
		case c == ')' || c == ']':
			endWord(i)
			depth = max(depth-1, 0)
		case c <= ' ':
			endWord(i)
		case word < 0:
			word = i
		}
	}
	endWord(len(s))
	switch {
	case syntax > MaxFilterSyntax:
		return fmt.Sprintf("has %d bytes outside its string values; the limit is %d bytes of filter syntax", syntax, MaxFilterSyntax)
	case deepest > MaxFilterDepth:
		return fmt.Sprintf("nests parentheses and brackets %d deep; the limit is %d levels of nesting", deepest, MaxFilterDepth)
	case operators+1 > MaxFilterTerms:
		return fmt.Sprintf("has %d terms joined by and or or; the limit is %d terms", operators+1, MaxFilterTerms)
	}
	return ""
}

// ParseFilter parses a SCIM filter (RFC 7644 §3.4.2.2). The result is what
// filter-parser's ParseFilter returns for s, except that string compare values
// are JSON-unescaped (filter-parser leaves escapes such as \" in place).
// Numbers are int or float64, as filter-parser returns them. Each call returns
// a fresh tree that the caller may keep or modify.
//
// Errors are 400 invalidFilter ScimErrors, among them a filter beyond
// MaxFilterLength, MaxFilterSyntax, MaxFilterDepth or MaxFilterTerms, whose
// detail names the limit. A client that sends unquoted values (Microsoft's
// reference tests do) can be accommodated with LenientFilter.
func ParseFilter(s string) (filter.Expression, error) {
	if problem := limitProblem(s); problem != "" {
		return nil, errInvalidFilter("The filter %s %s.", quote(s), problem)
	}
	shape, literals, err := scanLiterals(s)
	if err != nil {
		return nil, errInvalidFilter("The filter %s is not valid: %v.", quote(s), err)
	}
	tree, err := parseFilterShape(shape)
	if err != nil {
		return nil, filterSyntaxError(s, shape, err)
	}
	fill := literalFiller{literals: literals}
	out := fill.expression(tree)
	if !fill.done() {
		return parseFilterDirect(s) // unreachable by the argument above; stay correct anyway
	}
	return out, nil
}

// ParsePath parses a PATCH path (RFC 7644 §3.5.2: attrPath, or valuePath with
// an optional sub-attribute). The result is what filter-parser's ParsePath
// returns for s, with string compare values JSON-unescaped. Each call returns a
// fresh value that the caller may keep or modify.
//
// Errors are 400 invalidPath ScimErrors, among them a path beyond the limits
// filters have (MaxFilterLength, MaxFilterSyntax, MaxFilterDepth,
// MaxFilterTerms), whose detail names the limit.
func ParsePath(s string) (filter.Path, error) {
	if problem := limitProblem(s); problem != "" {
		return filter.Path{}, errInvalidPath("The path %s %s.", quote(s), problem)
	}
	shape, literals, err := scanLiterals(s)
	if err != nil {
		return filter.Path{}, errInvalidPath("The path %s is not valid: %v.", quote(s), err)
	}
	p, err := parsePathShape(shape)
	if err != nil {
		return filter.Path{}, pathSyntaxError(s, shape, err)
	}
	fill := literalFiller{literals: literals}
	out := filter.Path{
		AttributePath:   copyAttributePath(p.AttributePath),
		ValueExpression: fill.expression(p.ValueExpression),
		SubAttribute:    copyString(p.SubAttribute),
	}
	if !fill.done() {
		return parsePathDirect(s) // unreachable by the argument above; stay correct anyway
	}
	return out, nil
}

func parseFilterDirect(s string) (filter.Expression, error) {
	e, err := filter.ParseFilter([]byte(s))
	if err != nil {
		return nil, filterSyntaxError(s, s, err)
	}
	return unescapeExpression(e), nil
}

func parsePathDirect(s string) (filter.Path, error) {
	p, err := filter.ParsePath([]byte(s))
	if err != nil {
		return filter.Path{}, pathSyntaxError(s, s, err)
	}
	p.ValueExpression = unescapeExpression(p.ValueExpression)
	return p, nil
}

func filterSyntaxError(s, shape string, shapeErr error) error {
	return errInvalidFilter("The filter %s does not follow the SCIM filter grammar (RFC 7644 §3.4.2.2): %s. String values must be in double quotes, as in userName eq \"bjensen\".", quote(s), explain(s, shape, shapeErr, func(b []byte) error {
		_, err := filter.ParseFilter(b)
		return err
	}))
}

func pathSyntaxError(s, shape string, shapeErr error) error {
	return errInvalidPath("The path %s does not follow the SCIM path grammar (RFC 7644 §3.5.2), as in name.givenName or emails[type eq \"work\"].value: %s.", quote(s), explain(s, shape, shapeErr, func(b []byte) error {
		_, err := filter.ParsePath(b)
		return err
	}))
}

// explain returns filter-parser's message for s itself, whose positions match
// what the client sent, falling back to the shape's message for long inputs.
func explain(s, shape string, shapeErr error, parse func([]byte) error) string {
	err := shapeErr
	if s != shape && len(s) <= maxDirectParse {
		if e := parse([]byte(s)); e != nil {
			err = e
		}
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// scanLiterals returns the shape of s (each string literal replaced by "") and
// the raw contents of the literals, in order. It fails when a literal is not a
// complete string token of the grammar: filter-parser would then reject s too.
func scanLiterals(s string) (shape string, literals []string, err error) {
	first := strings.IndexByte(s, '"')
	if first < 0 {
		return s, nil, nil
	}
	b := make([]byte, 0, len(s))
	rest := 0 // start of the text not yet copied into b
	for i := first; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		end, problem := literalEnd(s, i)
		if problem != "" {
			return "", nil, fmt.Errorf("%s in the string starting at byte %d", problem, i)
		}
		b = append(b, s[rest:i]...)
		b = append(b, '"', '"')
		literals = append(literals, s[i+1:end])
		rest = end + 1
		i = end
	}
	b = append(b, s[rest:]...)
	return string(b), literals, nil
}

// literalEnd returns the index of the quote closing the literal that opens at
// s[open], checking each character against the grammar's string rule:
// unescaped U+0020…U+10FFFF except '"' and '\', or one of the escapes \" \\ \/
// \b \f \n \r \t \uXXXX (upper-case hex digits only, as filter-parser reads
// them). Bytes that are not UTF-8 are accepted, as filter-parser accepts them.
func literalEnd(s string, open int) (end int, problem string) {
	for j := open + 1; j < len(s); {
		c := s[j]
		switch {
		case c == '"':
			return j, ""
		case c == '\\':
			if j+1 >= len(s) {
				return 0, "an unfinished escape"
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(s) || !upperHex(s[j+2:j+6]) {
					return 0, `a \u escape without four upper-case hex digits`
				}
				j += 6
			default:
				return 0, "an unknown escape \\" + string(rune(s[j+1]))
			}
		case c < 0x20:
			return 0, "a control character (escape it)"
		case c < utf8.RuneSelf:
			j++
		default:
			_, size := utf8.DecodeRuneInString(s[j:])
			j += size
		}
	}
	return 0, "a missing closing quote"
}

func upperHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// literalFiller copies a cached tree, putting the literals back in order.
type literalFiller struct {
	literals []string
	next     int
	short    bool // the tree had more string values than there were literals
}

func (f *literalFiller) done() bool { return !f.short && f.next == len(f.literals) }

func (f *literalFiller) expression(e filter.Expression) filter.Expression {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		out := &filter.AttributeExpression{
			AttributePath: copyAttributePath(e.AttributePath),
			Operator:      e.Operator,
			CompareValue:  e.CompareValue,
		}
		if _, ok := e.CompareValue.(string); ok {
			if f.next < len(f.literals) {
				out.CompareValue = unescape(f.literals[f.next])
				f.next++
			} else {
				f.short = true
			}
		}
		return out
	case *filter.LogicalExpression:
		left := f.expression(e.Left) // left first: text order
		right := f.expression(e.Right)
		return &filter.LogicalExpression{Left: left, Right: right, Operator: e.Operator}
	case *filter.NotExpression:
		return &filter.NotExpression{Expression: f.expression(e.Expression)}
	case *filter.ValuePath:
		return &filter.ValuePath{AttributePath: copyAttributePath(e.AttributePath), ValueFilter: f.expression(e.ValueFilter)}
	default:
		return e // nil
	}
}

func copyAttributePath(p filter.AttributePath) filter.AttributePath {
	return filter.AttributePath{
		URIPrefix:     copyString(p.URIPrefix),
		AttributeName: p.AttributeName,
		SubAttribute:  copyString(p.SubAttribute),
	}
}

func copyString(p *string) *string {
	if p == nil {
		return nil
	}
	s := *p
	return &s
}

// unescape decodes the raw contents of a string literal as JSON does.
func unescape(raw string) string {
	if strings.IndexByte(raw, '\\') < 0 && utf8.ValidString(raw) {
		return raw
	}
	var s string
	if err := json.Unmarshal([]byte(`"`+raw+`"`), &s); err != nil {
		return raw // cannot happen for contents the grammar accepts
	}
	return s
}

// unescapeExpression unescapes string compare values in place.
func unescapeExpression(e filter.Expression) filter.Expression {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		if s, ok := e.CompareValue.(string); ok {
			e.CompareValue = unescape(s)
		}
	case *filter.LogicalExpression:
		unescapeExpression(e.Left)
		unescapeExpression(e.Right)
	case *filter.NotExpression:
		unescapeExpression(e.Expression)
	case *filter.ValuePath:
		unescapeExpression(e.ValueFilter)
	}
	return e
}
