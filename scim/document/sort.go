package document

import (
	"cmp"
	"strings"
)

// Comparator returns a comparison function for sorting full representations
// (documents with "id" and "meta", as for Match) by sortBy, following RFC
// 7644 §3.4.2.3. sortOrder is the caller's parameter: descending is true for
// sortOrder=descending (the default is ascending).
//
//   - sortBy is an attribute path, case-insensitive: "userName",
//     "name.familyName", "meta.lastModified",
//     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department".
//     A complex attribute stands for its "value" sub-attribute (emails,
//     manager); one without (name) must be given with a sub-attribute.
//   - A multi-valued attribute sorts by its primary value, else its first.
//   - Strings that are not caseExact (userName, displayName, emails) sort
//     case-insensitively; dateTimes chronologically; booleans false first.
//   - Resources without a value sort last in ascending order and first in
//     descending order.
//   - Ties are broken by "id", ascending, so the order is stable across pages.
//
// RFC 7644 defines no error for a bad sortBy; it fails here with a 400
// invalidValue ScimError (the scimType the RFC lists for a query parameter
// value that does not fit the schema) that names the attribute.
func (rt *ResourceType) Comparator(sortBy string, descending bool) (func(a, b map[string]any) int, error) {
	s, err := rt.Sorter(sortBy, descending)
	if err != nil {
		return nil, err
	}
	return func(x, y map[string]any) int { return s.Compare(s.Key(x), s.Key(y)) }, nil
}

// SortKey is where a resource sorts (see Sorter): the value it sorts by, if
// it has one, and its id, which breaks ties. It survives a JSON round trip
// (decoded with json.Decoder.UseNumber), so a cursor can carry it.
type SortKey struct {
	Value   any    `json:"v,omitempty"`
	Present bool   `json:"p,omitempty"`
	ID      string `json:"i"`
}

// Sorter orders full representations as Comparator does, through their sort
// keys: a page boundary can be remembered as a SortKey and compared with the
// keys of resources read later. A Sorter is immutable and safe for
// concurrent use.
type Sorter struct {
	attr, sub, key *attribute
	descending     bool
}

// Sorter returns the ordering Comparator describes. Its errors are
// Comparator's.
func (rt *ResourceType) Sorter(sortBy string, descending bool) (*Sorter, error) {
	r, valueFilter, err := rt.resolvePath(strings.TrimSpace(sortBy))
	switch {
	case err != nil:
		return nil, errInvalidValue("sortBy=%s names no attribute of the %s resource type.", quote(sortBy), rt.name)
	case valueFilter != nil:
		return nil, errInvalidValue("sortBy=%s has a value filter; sortBy takes an attribute path such as emails.value.", quote(sortBy))
	case r.attr == nil:
		return nil, errInvalidValue("sortBy=%s names a whole extension; name one of its attributes.", quote(sortBy))
	}
	a, sub := r.attr, r.sub
	if a.typ == typeComplex && sub == nil {
		if a.valueSub == nil {
			return nil, errInvalidValue("sortBy=%s names a complex attribute; sort by one of its sub-attributes, such as %s.", quote(sortBy), a.subs.list[0].path)
		}
		sub = a.valueSub
	}
	key := a
	if sub != nil {
		key = sub
	}
	return &Sorter{attr: a, sub: sub, key: key, descending: descending}, nil
}

// Key returns the sort key of a full representation.
func (s *Sorter) Key(doc map[string]any) SortKey {
	v, ok := sortValue(doc, s.attr, s.sub)
	id, _ := doc["id"].(string)
	if !ok {
		v = nil
	}
	return SortKey{Value: v, Present: ok, ID: id}
}

// Compare orders two sort keys: negative when x sorts before y. Keys of any
// shape may be compared (a value of the wrong type compares as text), so a
// key decoded from client input is safe to use.
func (s *Sorter) Compare(x, y SortKey) int {
	var c int
	switch {
	case x.Present && y.Present:
		c = compareSortValues(s.key, x.Value, y.Value)
	case x.Present:
		c = -1 // values before missing ones, ascending
	case y.Present:
		c = 1
	}
	if s.descending {
		c = -c
	}
	if c != 0 {
		return c
	}
	return strings.Compare(x.ID, y.ID)
}

// sortValue returns the value that doc sorts by.
func sortValue(doc map[string]any, a, sub *attribute) (any, bool) {
	v := valueOf(doc, a)
	if a.multi {
		var chosen any
		for _, e := range asList(v) {
			if el, ok := e.(map[string]any); ok && el["primary"] == true {
				chosen = e
				break
			}
			if chosen == nil && present(e) {
				chosen = e
			}
		}
		v = chosen
	}
	if sub != nil {
		el, _ := v.(map[string]any)
		v = el[sub.name]
	}
	return v, present(v)
}

func compareSortValues(a *attribute, x, y any) int {
	switch a.typ {
	case typeBoolean:
		bx, _ := boolean(x)
		by, _ := boolean(y)
		switch {
		case bx == by:
			return 0
		case by:
			return -1
		default:
			return 1
		}
	case typeDecimal, typeInteger:
		nx, okx := number(x)
		ny, oky := number(y)
		if okx && oky {
			return cmp.Compare(nx, ny)
		}
	case typeDateTime:
		sx, _ := x.(string)
		sy, _ := y.(string)
		if tx, ok := parseTime(sx); ok {
			if ty, ok := parseTime(sy); ok {
				return tx.Compare(ty)
			}
		}
	}
	sx, _ := text(x)
	sy, _ := text(y)
	return compareText(sx, sy, a.caseExact)
}
