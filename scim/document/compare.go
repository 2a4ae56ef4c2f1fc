package document

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"
)

// Case-insensitive helpers that do not allocate: Match and sorting run them
// once per candidate resource. Equality follows strings.EqualFold (Unicode
// simple folding); ordering compares runes after folding both.
//
// These are comparisons, not a canonical form: nothing is stored or keyed by
// what foldRune returns, and the order it gives (lower-case ASCII) is the
// order sortBy answers, so it stays as it is. The one canonical case fold,
// the form the store's indexes are keyed by, is store.Fold; this package
// imports no store and needs none.

func foldEqualRune(a, b rune) bool {
	if a == b {
		return true
	}
	if b < a {
		a, b = b, a
	}
	if b < utf8.RuneSelf {
		return 'A' <= a && a <= 'Z' && b == a+'a'-'A'
	}
	r := unicode.SimpleFold(a)
	for r != a && r < b {
		r = unicode.SimpleFold(r)
	}
	return r == b
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		r1, n1 := utf8.DecodeRuneInString(s)
		r2, n2 := utf8.DecodeRuneInString(prefix)
		if !foldEqualRune(r1, r2) {
			return false
		}
		s, prefix = s[n1:], prefix[n2:]
	}
	return true
}

func hasSuffixFold(s, suffix string) bool {
	for suffix != "" {
		if s == "" {
			return false
		}
		r1, n1 := utf8.DecodeLastRuneInString(s)
		r2, n2 := utf8.DecodeLastRuneInString(suffix)
		if !foldEqualRune(r1, r2) {
			return false
		}
		s, suffix = s[:len(s)-n1], suffix[:len(suffix)-n2]
	}
	return true
}

func containsFold(s, sub string) bool {
	for i := 0; ; {
		if hasPrefixFold(s[i:], sub) {
			return true
		}
		if i >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
}

func compareFold(a, b string) int {
	for a != "" && b != "" {
		r1, n1 := utf8.DecodeRuneInString(a)
		r2, n2 := utf8.DecodeRuneInString(b)
		if r1 != r2 {
			if c := cmp.Compare(foldRune(r1), foldRune(r2)); c != 0 {
				return c
			}
		}
		a, b = a[n1:], b[n2:]
	}
	return cmp.Compare(len(a), len(b))
}

func compareText(a, b string, caseExact bool) int {
	if caseExact {
		return strings.Compare(a, b)
	}
	return compareFold(a, b)
}

// compareStrings applies a comparison operator other than pr and ne.
func compareStrings(op filter.CompareOperator, have, want string, caseExact bool) bool {
	switch op {
	case filter.EQ:
		if caseExact {
			return have == want
		}
		return strings.EqualFold(have, want)
	case filter.CO:
		if caseExact {
			return strings.Contains(have, want)
		}
		return containsFold(have, want)
	case filter.SW:
		if caseExact {
			return strings.HasPrefix(have, want)
		}
		return hasPrefixFold(have, want)
	case filter.EW:
		if caseExact {
			return strings.HasSuffix(have, want)
		}
		return hasSuffixFold(have, want)
	default:
		return ordered(op, compareText(have, want, caseExact))
	}
}

// ordered applies gt, ge, lt or le to the result of a three-way comparison.
func ordered(op filter.CompareOperator, c int) bool {
	switch op {
	case filter.GT:
		return c > 0
	case filter.GE:
		return c >= 0
	case filter.LT:
		return c < 0
	case filter.LE:
		return c <= 0
	case filter.EQ:
		return c == 0
	}
	return false
}

// parseTime reads an xsd:dateTime (RFC 7643 §2.3.5): RFC 3339 with optional
// fractional seconds, or without an offset (read as UTC).
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// number reads a numeric value from a document (json.Number) or a filter
// (int, float64).
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case int:
		return float64(v), true
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// text reads a value as a string: strings as they are, numbers and booleans in
// their JSON form (a lenient filter leaves externalId eq 12345 unquoted).
func text(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case int:
		return strconv.Itoa(v), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// boolean reads a boolean, accepting the strings Entra sends ("True").
func boolean(v any) (value, ok bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch {
		case strings.EqualFold(v, "true"):
			return true, true
		case strings.EqualFold(v, "false"):
			return false, true
		}
	}
	return false, false
}

// compareValue applies op (not pr, not ne) to one value of attribute a.
func compareValue(a *attribute, op filter.CompareOperator, have, want any) bool {
	switch a.typ {
	case typeBoolean:
		h, ok1 := boolean(have)
		w, ok2 := boolean(want)
		return ok1 && ok2 && op == filter.EQ && h == w
	case typeDecimal, typeInteger:
		h, ok1 := number(have)
		w, ok2 := number(want)
		return ok1 && ok2 && ordered(op, cmp.Compare(h, w))
	case typeDateTime:
		h, ok1 := have.(string)
		w, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false
		}
		if op != filter.CO && op != filter.SW && op != filter.EW {
			if ht, ok := parseTime(h); ok {
				if wt, ok := parseTime(w); ok {
					return ordered(op, ht.Compare(wt))
				}
			}
		}
		return compareStrings(op, h, w, a.caseExact)
	case typeComplex:
		return false
	default:
		h, ok1 := text(have)
		w, ok2 := text(want)
		return ok1 && ok2 && compareStrings(op, h, w, a.caseExact)
	}
}

// present implements pr (RFC 7644 §3.4.2.2): a non-empty value, or for
// complex and multi-valued attributes a non-empty node.
func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		for _, e := range v {
			if present(e) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, e := range v {
			if present(e) {
				return true
			}
		}
		return false
	}
	return true
}
