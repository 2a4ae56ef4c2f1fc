package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Matcher is one expectation about a response: the body value at Path, or the header named
// Header, checked by Kind against Want. It is written in a scenario as
// {"path": "emails[0].value", "equals": "x"} or {"header": "ETag", "exists": true}.
type Matcher struct {
	Path   string          // body path; set on body matchers
	Header string          // header name; set on header matchers
	Kind   string          // one of MatcherKinds
	Want   json.RawMessage // the kind's argument, with {{variables}} in its strings
}

// MatcherKinds lists every kind a Matcher may have. For each kind, whether it applies to headers.
var MatcherKinds = map[string]bool{
	"exists":      true, // present and not null
	"absent":      true, // missing or null
	"empty":       true, // missing, null, "", [] or {}
	"equals":      true, // JSON equality (a header compares as a string)
	"notEquals":   true,
	"equalsFold":  true, // string equality ignoring case
	"contains":    true, // substring of a string; element of an array (an object matches a superset)
	"notContains": true,
	"matches":     true, // regular expression (RE2) on a string
	"length":      false,
	"gt":          false,
	"gte":         false,
	"lt":          false,
	"lte":         false,
	"type":        false, // "string", "number", "boolean", "array" or "object"
}

// UnmarshalJSON reads {"path"|"header": …, <kind>: <want>} and rejects unknown or extra kinds.
func (m *Matcher) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	*m = Matcher{}
	if raw, ok := fields["path"]; ok {
		if err := json.Unmarshal(raw, &m.Path); err != nil {
			return fmt.Errorf("matcher path: %w", err)
		}
		delete(fields, "path")
	}
	if raw, ok := fields["header"]; ok {
		if err := json.Unmarshal(raw, &m.Header); err != nil {
			return fmt.Errorf("matcher header: %w", err)
		}
		delete(fields, "header")
	}
	if len(fields) != 1 {
		return fmt.Errorf("matcher %s: want exactly one kind besides path/header, have %d", data, len(fields))
	}
	for k, v := range fields {
		if _, known := MatcherKinds[k]; !known {
			return fmt.Errorf("matcher %s: unknown kind %q", data, k)
		}
		m.Kind, m.Want = k, v
	}
	return nil
}

// MarshalJSON writes the scenario form back, so parsed scenarios round-trip.
func (m Matcher) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if m.Header != "" {
		h, _ := json.Marshal(m.Header)
		fmt.Fprintf(&b, `"header":%s,`, h)
	} else {
		p, _ := json.Marshal(m.Path)
		fmt.Fprintf(&b, `"path":%s,`, p)
	}
	k, _ := json.Marshal(m.Kind)
	fmt.Fprintf(&b, `%s:%s}`, k, m.Want)
	return b.Bytes(), nil
}

// subject names what the matcher looks at, for failure messages.
func (m Matcher) subject() string {
	if m.Header != "" {
		return "header " + m.Header
	}
	if m.Path == "" {
		return "body"
	}
	return "body " + m.Path
}

// check applies the matcher to the value found (or not) and returns "" or what went wrong.
// want is the decoded Want with variables already substituted.
func (m Matcher) check(got any, found bool, want any) string {
	fail := func(format string, args ...any) string {
		return fmt.Sprintf("%s: want %s %s, %s", m.subject(), m.Kind, compactJSON(want, 200), fmt.Sprintf(format, args...))
	}
	gotText := func() string {
		if !found {
			return "got nothing (absent)"
		}
		return "got " + compactJSON(got, 200)
	}
	switch m.Kind {
	case "exists":
		if !found {
			return m.subject() + ": want it present, got nothing (absent)"
		}
	case "absent":
		if found {
			if arr, ok := got.([]any); ok && m.isFilter() {
				return fmt.Sprintf("%s: want no match, got %d: %s", m.subject(), len(arr), compactJSON(got, 200))
			}
			return m.subject() + ": want it absent, got " + compactJSON(got, 200)
		}
	case "empty":
		if found && !isEmpty(got) {
			return m.subject() + ": want it empty or absent, got " + compactJSON(got, 200)
		}
	case "equals":
		if !found || !jsonEqual(got, want) {
			return fail("%s", gotText())
		}
	case "notEquals":
		if found && jsonEqual(got, want) {
			return fail("%s", gotText())
		}
	case "equalsFold":
		g, ok1 := got.(string)
		w, ok2 := want.(string)
		if !found || !ok1 || !ok2 || !strings.EqualFold(g, w) {
			return fail("%s", gotText())
		}
	case "contains", "notContains":
		has, err := containsValue(got, found, want)
		if err != "" {
			return fail("%s (%s)", gotText(), err)
		}
		if has != (m.Kind == "contains") {
			return fail("%s", gotText())
		}
	case "matches":
		pattern, _ := want.(string)
		re, err := regexp.Compile(pattern)
		if err != nil {
			return fail("(bad pattern: %v)", err)
		}
		g, ok := got.(string)
		if !found || !ok || !re.MatchString(g) {
			return fail("%s", gotText())
		}
	case "length":
		n, ok := lengthOf(got, found)
		w, _ := want.(float64)
		if !ok || float64(n) != w {
			if ok {
				return fail("got length %d: %s", n, compactJSON(got, 200))
			}
			return fail("%s", gotText())
		}
	case "gt", "gte", "lt", "lte":
		g, ok := got.(float64)
		w, _ := want.(float64)
		if !found || !ok || !compareNumbers(m.Kind, g, w) {
			return fail("%s", gotText())
		}
	case "type":
		if !found || jsonType(got) != want {
			return fail("%s", gotText())
		}
	default:
		return fmt.Sprintf("%s: unknown matcher kind %q", m.subject(), m.Kind)
	}
	return ""
}

func (m Matcher) isFilter() bool {
	p, err := parsePath(m.Path)
	return err == nil && len(p) > 0 && p[len(p)-1].kind == segmentFilter
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// jsonEqual compares decoded JSON values; numbers are float64 on both sides.
func jsonEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

// containsValue reports whether got (a string or an array) contains want. An array element
// matches an object want when it has every member of want (names compared case-insensitively).
func containsValue(got any, found bool, want any) (bool, string) {
	if !found {
		return false, ""
	}
	switch g := got.(type) {
	case string:
		w, ok := want.(string)
		if !ok {
			return false, "a string contains only strings"
		}
		return strings.Contains(g, w), ""
	case []any:
		for _, el := range g {
			if subsetMatch(el, want) {
				return true, ""
			}
		}
		return false, ""
	case map[string]any:
		// An object contains a string when its JSON text does: "the body nowhere holds X".
		w, ok := want.(string)
		if !ok {
			return false, "an object contains only strings, searched in its JSON text"
		}
		return strings.Contains(compactJSON(g, 0), w), ""
	}
	return false, "contains needs a string, an array or an object"
}

func subsetMatch(el, want any) bool {
	w, ok := want.(map[string]any)
	if !ok {
		return jsonEqual(el, want)
	}
	obj, ok := el.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range w {
		v, ok := memberFold(obj, k)
		if !ok || !subsetMatch(v, wv) {
			return false
		}
	}
	return true
}

// lengthOf counts array elements, object members or string characters. A filter with no match
// has length 0 although it is not "found".
func lengthOf(v any, found bool) (int, bool) {
	switch v := v.(type) {
	case []any:
		return len(v), true
	case map[string]any:
		return len(v), found
	case string:
		return utf8.RuneCountInString(v), found
	}
	return 0, false
}

func compareNumbers(kind string, got, want float64) bool {
	switch kind {
	case "gt":
		return got > want
	case "gte":
		return got >= want
	case "lt":
		return got < want
	default:
		return got <= want
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// checkHeader applies a header matcher. A header is a string; several values are joined by ", ".
func (m Matcher) checkHeader(values []string, want any) string {
	if len(values) == 0 {
		return m.check(nil, false, want)
	}
	return m.check(strings.Join(values, ", "), true, want)
}

// compactJSON renders v on one line, cut to limit bytes (0: no limit).
func compactJSON(v any, limit int) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return truncate(string(b), limit)
}

func truncate(s string, limit int) string {
	if limit <= 0 || len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

// sortedKeys returns the keys of a string-keyed map in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var typeNames = []string{"string", "number", "boolean", "array", "object"}

func knownType(s string) bool { return slices.Contains(typeNames, s) }
