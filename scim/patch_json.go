package scim

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rolecall/rolecall/scim/document"
)

// A PATCH of a thousand member operations is most of the work of its
// request, and encoding/json spent more time on it (two passes over the
// body, reflection, every value decoded a second time) than the store spent
// writing the thousand memberships. patchReader reads a PatchOp message in
// one pass, straight into operations. It decodes what encoding/json would
// decode into the struct decodePatch used to give it, with UseNumber for the
// values (TestPatchReaderDecodesAsEncodingJSON compares the two on
// thousands of bodies): the same grammar, the envelope's keys matched
// case-insensitively, invalid UTF-8 and lone surrogates replaced with
// U+FFFD, a repeated key decoded over the earlier value, nesting at most
// maxJSONDepth deep.

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

type patchRequest struct {
	schemas    []string
	operations []document.Operation
	count      int // operations in the body; past MaxPatchOperations they are counted, not kept
}

type patchReader struct {
	b     []byte
	i     int
	depth int
	keys  map[string]string // object keys, interned: values repeat them per operation
	err   error             // the first type mismatch; decoding goes on, as encoding/json's does
}

// syntaxError is a malformed body; its text names the byte offset.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

func readPatch(body []byte) (req patchRequest, err error) {
	r := &patchReader{b: body}
	defer func() {
		// Every syntax error unwinds the recursion as a panic of this one
		// type; anything else is a bug and goes on up.
		if p := recover(); p != nil {
			se, ok := p.(*syntaxError)
			if !ok {
				panic(p)
			}
			err = se
		}
	}()
	r.space()
	if r.literal("null") {
		// Leaves the request empty, as encoding/json does.
	} else {
		r.openObject()
		for key, ok := r.nextKey(true); ok; key, ok = r.nextKey(false) {
			switch {
			case strings.EqualFold(key, "schemas"):
				req.schemas = r.strings(req.schemas)
			case strings.EqualFold(key, "Operations"):
				req.operations, req.count = r.operations(req.operations)
			default:
				r.value(false)
			}
		}
	}
	r.space()
	if r.i < len(r.b) {
		r.fail("invalid character " + quoteChar(r.b[r.i]) + " after top-level value")
	}
	return req, r.err
}

func (r *patchReader) fail(msg string) { panic(&syntaxError{msg, r.i}) }

func (r *patchReader) mismatch(what, field string) {
	if r.err == nil {
		r.err = fmt.Errorf("cannot decode %s into %s", what, field)
	}
}

func (r *patchReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next significant byte, or fails at the end of input.
func (r *patchReader) peek() byte {
	r.space()
	if r.i >= len(r.b) {
		r.fail("unexpected end of JSON input")
	}
	return r.b[r.i]
}

func (r *patchReader) literal(word string) bool {
	if r.i < len(r.b) && r.b[r.i] == word[0] {
		if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
			r.fail("invalid literal")
		}
		r.i += len(word)
		return true
	}
	return false
}

func (r *patchReader) enter() {
	if r.depth++; r.depth > maxJSONDepth {
		r.fail("exceeded max depth")
	}
}

// Objects and arrays are read with loops, not callbacks: a value nested
// 10,000 deep then costs one frame per level, not three.

// openObject reads the '{' of an object.
func (r *patchReader) openObject() {
	if r.peek() != '{' {
		r.fail("expected an object")
	}
	r.enter()
	r.i++
}

// nextKey reads up to the value of the object's next member (the ','
// before it unless first, its key, the ':') and returns its key, or reads
// the closing '}' and returns ok false.
func (r *patchReader) nextKey(first bool) (key string, ok bool) {
	switch c := r.peek(); {
	case c == '}': // after '{' or a value; after ',' the key check fails on it
		r.i++
		r.depth--
		return "", false
	case first:
	case c == ',':
		r.i++
	default:
		r.fail("expected ',' or '}' after an object value")
	}
	if r.peek() != '"' {
		r.fail("expected a string as an object key")
	}
	key = r.key()
	if r.peek() != ':' {
		r.fail("expected ':' after an object key")
	}
	r.i++
	r.peek()
	return key, true
}

// openArray reads the '[' of an array (the caller has seen it).
func (r *patchReader) openArray() {
	r.enter()
	r.i++
}

// nextElem reads up to the array's next element (the ',' before it unless
// first) and reports true, or reads the closing ']' and reports false.
func (r *patchReader) nextElem(first bool) bool {
	switch c := r.peek(); {
	case c == ']':
		r.i++
		r.depth--
		return false
	case first:
	case c == ',':
		r.i++
		r.peek()
	default:
		r.fail("expected ',' or ']' after an array element")
	}
	return true
}

// strings reads an array of strings into old's elements, as encoding/json
// does: a null element keeps what old held there.
func (r *patchReader) strings(old []string) []string {
	switch r.peek() {
	case 'n':
		r.literal("null")
		return nil
	case '[':
	default:
		r.mismatch("a non-array", "schemas")
		r.value(false)
		return old
	}
	out := old[:0]
	r.openArray()
	for i := 0; r.nextElem(i == 0); i++ {
		if i < len(old) {
			out = out[:i+1]
		} else {
			out = append(out, "")
		}
		switch r.peek() {
		case '"':
			out[i] = r.string()
		case 'n':
			r.literal("null")
		default:
			r.mismatch("a non-string", "schemas")
			r.value(false)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// operations reads the Operations array, decoding each object over the
// operation old holds at its position (encoding/json's way with a repeated
// key). It counts every element and keeps at most MaxPatchOperations.
func (r *patchReader) operations(old []document.Operation) ([]document.Operation, int) {
	switch r.peek() {
	case 'n':
		r.literal("null")
		return nil, 0
	case '[':
	default:
		r.mismatch("a non-array", "Operations")
		r.value(false)
		return old, len(old)
	}
	ops, n := old[:0], 0
	r.openArray()
	for i := 0; r.nextElem(i == 0); i++ {
		n = i + 1
		if i >= MaxPatchOperations {
			r.value(false) // refused for their number: checked, not kept
			continue
		}
		if i < len(old) {
			ops = ops[:i+1]
		} else {
			ops = append(ops, document.Operation{})
		}
		op := &ops[i]
		switch r.peek() {
		case '{':
		case 'n':
			r.literal("null")
			continue
		default:
			r.mismatch("a non-object", "Operations")
			r.value(false)
			continue
		}
		r.openObject()
		for key, ok := r.nextKey(true); ok; key, ok = r.nextKey(false) {
			switch {
			case strings.EqualFold(key, "op"):
				r.stringField(&op.Op, "op", true)
			case strings.EqualFold(key, "path"):
				r.stringField(&op.Path, "path", false)
			case strings.EqualFold(key, "value"):
				op.Value = r.value(true)
			default:
				r.value(false)
			}
		}
	}
	if ops == nil {
		ops = []document.Operation{}
	}
	return ops, n
}

// stringField reads a string field; intern is for a field whose values
// repeat (op: add, remove, replace).
func (r *patchReader) stringField(dst *string, name string, intern bool) {
	switch r.peek() {
	case '"':
		if intern {
			*dst = r.key()
		} else {
			*dst = r.string()
		}
	case 'n':
		r.literal("null")
	default:
		r.mismatch("a non-string", name)
		r.value(false)
	}
}

// value reads any JSON value: as map[string]any, []any, string,
// json.Number, bool or nil when keep is set, only checked when not.
func (r *patchReader) value(keep bool) any {
	switch c := r.peek(); {
	case c == '{':
		var m map[string]any
		if keep {
			m = map[string]any{}
		}
		r.openObject()
		for key, ok := r.nextKey(true); ok; key, ok = r.nextKey(false) {
			v := r.value(keep)
			if keep {
				m[key] = v
			}
		}
		if keep {
			return m
		}
	case c == '[':
		var a []any
		if keep {
			a = []any{}
		}
		r.openArray()
		for first := true; r.nextElem(first); first = false {
			v := r.value(keep)
			if keep {
				a = append(a, v)
			}
		}
		if keep {
			return a
		}
	case c == '"':
		if keep {
			return r.string()
		}
		r.skipString()
	case c == '-' || '0' <= c && c <= '9':
		n := r.number()
		if keep {
			return n
		}
	case r.literal("true"):
		return true
	case r.literal("false"):
		return false
	case r.literal("null"):
		return nil
	default:
		r.fail("invalid character " + quoteChar(c) + " looking for beginning of value")
	}
	return nil
}

// number reads a number as JSON writes them, keeping its text.
func (r *patchReader) number() json.Number {
	start := r.i
	b := r.b
	digits := func() bool {
		from := r.i
		for r.i < len(b) && '0' <= b[r.i] && b[r.i] <= '9' {
			r.i++
		}
		return r.i > from
	}
	if b[r.i] == '-' {
		r.i++
	}
	switch {
	case r.i < len(b) && b[r.i] == '0':
		r.i++
	case !digits():
		r.fail("invalid number")
	}
	if r.i < len(b) && b[r.i] == '.' {
		r.i++
		if !digits() {
			r.fail("invalid number")
		}
	}
	if r.i < len(b) && (b[r.i] == 'e' || b[r.i] == 'E') {
		r.i++
		if r.i < len(b) && (b[r.i] == '+' || b[r.i] == '-') {
			r.i++
		}
		if !digits() {
			r.fail("invalid number")
		}
	}
	return json.Number(b[start:r.i])
}

// key reads an object key, interned: the thousand member values of a PATCH
// share one "value". The table keeps the first 64 strings.
func (r *patchReader) key() string {
	start := r.i + 1
	end, plain := r.scanString()
	if !plain {
		return r.unquote(start, end)
	}
	raw := r.b[start:end]
	if k, ok := r.keys[string(raw)]; ok {
		return k
	}
	k := string(raw)
	if r.keys == nil {
		r.keys = map[string]string{}
	}
	if len(r.keys) < 64 {
		r.keys[k] = k
	}
	return k
}

func (r *patchReader) string() string {
	start := r.i + 1
	end, plain := r.scanString()
	if plain {
		return string(r.b[start:end])
	}
	return r.unquote(start, end)
}

func (r *patchReader) skipString() { r.scanString() }

// scanString moves past the string at r.i and returns where its contents
// end; plain reports that they hold no escape and only valid UTF-8, so the
// bytes are the string.
func (r *patchReader) scanString() (end int, plain bool) {
	b := r.b
	plain = true
	r.i++ // the opening quote
	for r.i < len(b) {
		c := b[r.i]
		switch {
		case c == '"':
			end = r.i
			r.i++
			return end, plain
		case c == '\\':
			plain = false
			r.i++
			if r.i >= len(b) {
				break
			}
			switch b[r.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i++
			case 'u':
				r.i++
				for range 4 {
					if r.i >= len(b) || !isHex(b[r.i]) {
						r.fail("invalid character in \\u hexadecimal character escape")
					}
					r.i++
				}
			default:
				r.fail("invalid character " + quoteChar(b[r.i]) + " in string escape code")
			}
		case c < 0x20:
			r.fail("invalid character " + quoteChar(c) + " in string literal")
		case c < utf8.RuneSelf:
			r.i++
		default:
			rn, size := utf8.DecodeRune(b[r.i:])
			if rn == utf8.RuneError && size == 1 {
				plain = false
			}
			r.i += size
		}
	}
	r.fail("unexpected end of JSON input")
	return 0, false
}

// unquote decodes string contents with escapes or invalid UTF-8 (already
// checked by scanString), as encoding/json does.
func (r *patchReader) unquote(start, end int) string {
	b := r.b[start:end]
	var out strings.Builder
	out.Grow(len(b) + utf8.UTFMax)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\':
			i++
			switch b[i] {
			case 'b':
				out.WriteByte('\b')
			case 'f':
				out.WriteByte('\f')
			case 'n':
				out.WriteByte('\n')
			case 'r':
				out.WriteByte('\r')
			case 't':
				out.WriteByte('\t')
			case 'u':
				rn := hex4(b[i+1:])
				i += 4
				if utf16.IsSurrogate(rn) {
					// A pair's second half must follow at once.
					if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
						if dec := utf16.DecodeRune(rn, hex4(b[i+3:])); dec != utf8.RuneError {
							rn = dec
							i += 6
						} else {
							rn = utf8.RuneError
						}
					} else {
						rn = utf8.RuneError
					}
				}
				out.WriteRune(rn)
			default: // '"', '\\', '/'
				out.WriteByte(b[i])
			}
			i++
		case c < utf8.RuneSelf:
			out.WriteByte(c)
			i++
		default:
			rn, size := utf8.DecodeRune(b[i:])
			out.WriteRune(rn) // an invalid byte becomes U+FFFD
			i += size
		}
	}
	return out.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	return fmt.Sprintf("%q", rune(c))
}
