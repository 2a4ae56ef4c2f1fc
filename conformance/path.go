package conformance

import (
	"fmt"
	"strconv"
	"strings"
)

// A bodyPath addresses values inside a decoded JSON response body. The syntax is described in the
// package documentation; parsePath is its only constructor.
type bodyPath []pathSegment

type segmentKind int

const (
	segmentKey    segmentKind = iota // a member name: userName, ['urn:…:User']
	segmentIndex                     // an array index: [0]
	segmentFilter                    // the elements of an array whose field equals a value: [?type==work]
)

type pathSegment struct {
	kind        segmentKind
	key         string
	index       int
	filterPath  bodyPath // for segmentFilter: the field compared in each element
	filterValue string   // for segmentFilter: the text it must equal
}

// parsePath parses a body path. The empty string addresses the whole body.
func parsePath(s string) (bodyPath, error) {
	var p bodyPath
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == '.':
			if i == 0 || i == len(s)-1 || s[i+1] == '.' || s[i+1] == '[' {
				return nil, fmt.Errorf("path %q: misplaced '.' at %d", s, i)
			}
			i++
		case c == '[':
			end, seg, err := parseBracket(s, i)
			if err != nil {
				return nil, err
			}
			p = append(p, seg)
			i = end
		default:
			if i > 0 && s[i-1] == ']' {
				return nil, fmt.Errorf("path %q: want '.' or '[' after ']' at %d", s, i)
			}
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' && s[j] != ']' {
				j++
			}
			if j < len(s) && s[j] == ']' {
				return nil, fmt.Errorf("path %q: unbalanced ']' at %d", s, j)
			}
			p = append(p, pathSegment{kind: segmentKey, key: s[i:j]})
			i = j
		}
	}
	return p, nil
}

// parseBracket parses the bracket segment starting at s[start] == '[' and returns the index just
// past its closing bracket.
func parseBracket(s string, start int) (int, pathSegment, error) {
	rest := s[start+1:]
	if rest == "" {
		return 0, pathSegment{}, fmt.Errorf("path %q: unclosed '['", s)
	}
	switch rest[0] {
	case '\'', '"':
		q := rest[0]
		end := strings.IndexByte(rest[1:], q)
		if end < 0 || len(rest) < end+3 || rest[end+2] != ']' {
			return 0, pathSegment{}, fmt.Errorf("path %q: quoted key must look like ['key']", s)
		}
		return start + end + 4, pathSegment{kind: segmentKey, key: rest[1 : end+1]}, nil
	case '?':
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return 0, pathSegment{}, fmt.Errorf("path %q: unclosed filter", s)
		}
		field, value, ok := strings.Cut(rest[1:end], "==")
		if !ok {
			return 0, pathSegment{}, fmt.Errorf("path %q: a filter must look like [?field==value]", s)
		}
		fp, err := parsePath(strings.TrimSpace(field))
		if err != nil {
			return 0, pathSegment{}, err
		}
		if len(fp) == 0 {
			return 0, pathSegment{}, fmt.Errorf("path %q: filter has no field", s)
		}
		for _, seg := range fp {
			if seg.kind == segmentFilter {
				return 0, pathSegment{}, fmt.Errorf("path %q: filters do not nest", s)
			}
		}
		return start + end + 2, pathSegment{kind: segmentFilter, filterPath: fp, filterValue: unquote(strings.TrimSpace(value))}, nil
	default:
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return 0, pathSegment{}, fmt.Errorf("path %q: unclosed '['", s)
		}
		n, err := strconv.Atoi(rest[:end])
		if err != nil || n < 0 {
			return 0, pathSegment{}, fmt.Errorf("path %q: %q is not an array index", s, rest[:end])
		}
		return start + end + 2, pathSegment{kind: segmentIndex, index: n}, nil
	}
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// lookup resolves p in doc. found is false when the value is missing or JSON null: RFC 7643 §2.5
// makes an unassigned attribute and null equivalent. A filter that ends the path yields the slice
// of matching elements (found when non-empty); a segment after a filter reads its first match.
func (p bodyPath) lookup(doc any) (value any, found bool) {
	cur := doc
	for i, seg := range p {
		switch seg.kind {
		case segmentKey:
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			v, ok := memberFold(obj, seg.key)
			if !ok {
				return nil, false
			}
			cur = v
		case segmentIndex:
			arr, ok := cur.([]any)
			if !ok || seg.index >= len(arr) {
				return nil, false
			}
			cur = arr[seg.index]
		case segmentFilter:
			arr, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			matches := []any{}
			for _, el := range arr {
				if v, ok := seg.filterPath.lookup(el); ok && scalarText(v) == seg.filterValue {
					matches = append(matches, el)
				}
			}
			if i == len(p)-1 {
				return matches, len(matches) > 0
			}
			if len(matches) == 0 {
				return nil, false
			}
			cur = matches[0]
		}
	}
	return cur, cur != nil
}

// memberFold reads an object member by exact name, then case-insensitively: SCIM attribute names
// are case-insensitive (RFC 7643 §2.1).
func memberFold(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// scalarText renders a JSON scalar the way it is written in a filter or a capture.
func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	default:
		return compactJSON(v, 0)
	}
}
