package document

import (
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// ValidateFilter checks a parsed filter against the resource type: every
// attribute must exist (the common attributes id, externalId and meta.* always
// do; URN-qualified names such as
// urn:ietf:params:scim:schemas:core:2.0:User:userName are accepted), and every
// operator and compare value must fit the attribute's type (no gt/ge/lt/le on
// booleans or binaries, booleans compare with true or false, dateTimes with an
// RFC 3339 string, a complex attribute without a "value" sub-attribute only
// with pr). Errors are 400 invalidFilter ScimErrors.
func (rt *ResourceType) ValidateFilter(expr filter.Expression) error {
	switch e := expr.(type) {
	case nil:
		return nil
	case *filter.LogicalExpression:
		if err := rt.ValidateFilter(e.Left); err != nil {
			return err
		}
		return rt.ValidateFilter(e.Right)
	case *filter.NotExpression:
		return rt.ValidateFilter(e.Expression)
	case *filter.AttributeExpression:
		r, ok := rt.resolveAttrPath(e.AttributePath)
		if !ok || r.attr == nil {
			return errInvalidFilter("The filter names %s, which is not an attribute of the %s resource type.", quote(e.AttributePath.String()), rt.name)
		}
		return checkComparison(r.attr, r.sub, e)
	case *filter.ValuePath:
		r, ok := rt.resolveAttrPath(e.AttributePath)
		if !ok || r.attr == nil {
			return errInvalidFilter("The filter names %s, which is not an attribute of the %s resource type.", quote(e.AttributePath.String()), rt.name)
		}
		if r.attr.typ != typeComplex || r.sub != nil {
			return errInvalidFilter("The value filter %s[…] needs a complex attribute such as emails.", r)
		}
		return validateElementFilter(r.attr, e.ValueFilter)
	}
	return errInvalidFilter("The filter has an expression of an unknown kind.")
}

// validateElementFilter checks a value filter, whose attribute names are
// sub-attributes of parent (emails[type eq "work"]).
func validateElementFilter(parent *attribute, expr filter.Expression) error {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		if err := validateElementFilter(parent, e.Left); err != nil {
			return err
		}
		return validateElementFilter(parent, e.Right)
	case *filter.NotExpression:
		return validateElementFilter(parent, e.Expression)
	case *filter.AttributeExpression:
		p := e.AttributePath
		var s *attribute
		if p.URIPrefix == nil && p.SubAttribute == nil {
			s = parent.sub(p.AttributeName)
		}
		if s == nil {
			return errInvalidFilter("The value filter of %s names %s, which is not one of its sub-attributes.", parent.path, quote(p.String()))
		}
		return checkComparison(s, nil, e)
	}
	return errInvalidFilter("The value filter of %s has an expression of an unsupported kind.", parent.path)
}

func checkComparison(a, sub *attribute, e *filter.AttributeExpression) error {
	t := a
	if sub != nil {
		t = sub
	}
	op := e.Operator
	if t.typ == typeComplex {
		if op == filter.PR {
			return nil
		}
		if t.valueSub == nil {
			return errInvalidFilter("%s is complex; compare one of its sub-attributes, as in %s.", t.path, t.subs.list[0].path)
		}
		t = t.valueSub
	}
	switch op {
	case filter.PR:
		return nil
	case filter.EQ, filter.NE, filter.CO, filter.SW, filter.EW, filter.GT, filter.GE, filter.LT, filter.LE:
	default:
		return errInvalidFilter("The filter uses the unknown operator %s.", quote(string(op)))
	}
	if e.CompareValue == nil {
		if op != filter.EQ && op != filter.NE {
			return errInvalidFilter("The filter compares %s with null using %s; null works only with eq and ne.", t.path, op)
		}
		return nil
	}
	switch t.typ {
	case typeBoolean:
		if op != filter.EQ && op != filter.NE {
			return errInvalidFilter("%s is boolean; it supports eq, ne and pr, not %s.", t.path, op)
		}
		if _, ok := boolean(e.CompareValue); !ok {
			return errInvalidFilter("%s is boolean; compare it with true or false, not %s.", t.path, describe(e.CompareValue))
		}
	case typeBinary:
		if op == filter.GT || op == filter.GE || op == filter.LT || op == filter.LE {
			return errInvalidFilter("%s is binary; it supports eq, ne, co, sw, ew and pr, not %s.", t.path, op)
		}
	case typeDateTime:
		if op != filter.CO && op != filter.SW && op != filter.EW {
			s, ok := e.CompareValue.(string)
			if !ok {
				return errInvalidFilter("%s is a dateTime; compare it with a quoted RFC 3339 time such as \"2011-05-13T04:42:34Z\", not %s.", t.path, describe(e.CompareValue))
			}
			if _, ok := parseTime(s); !ok {
				return errInvalidFilter("%s is a dateTime; %s is not an RFC 3339 time such as \"2011-05-13T04:42:34Z\".", t.path, quote(s))
			}
		}
	case typeDecimal, typeInteger:
		if op == filter.CO || op == filter.SW || op == filter.EW {
			return errInvalidFilter("%s is a number; it supports eq, ne, gt, ge, lt, le and pr, not %s.", t.path, op)
		}
		if _, ok := number(e.CompareValue); !ok {
			return errInvalidFilter("%s is a number; compare it with a number, not %s.", t.path, describe(e.CompareValue))
		}
	}
	return nil
}

// Match reports whether doc satisfies expr, following RFC 7644 §3.4.2.2:
//
//   - eq ne co sw ew gt ge lt le pr, and, or, not, grouping, and value filters
//     (emails[type eq "work" and value co "@example.com"]);
//   - a multi-valued attribute matches if any of its values matches, and each
//     value filter is tested element by element;
//   - a complex attribute named without a sub-attribute stands for its
//     "value" sub-attribute (emails co "@x", members eq "usr_1");
//   - strings compare case-insensitively unless the attribute is caseExact
//     (id, externalId); dateTimes compare as instants; booleans and numbers
//     by value; a number or boolean compared with a string attribute compares
//     as its JSON text;
//   - ne matches when no value equals the compare value, including when the
//     attribute has no value; eq null matches an absent attribute.
//
// doc is a document as described in the package comment. For evaluation it may
// also carry "id", "meta" (a map with "created" and "lastModified" as RFC 3339
// strings, "resourceType", "version") and, when the filter references them
// (see References), a Group's "members" or a User's "groups" as lists of
// {"value": id} objects; absent ones never match. A nil expr matches every
// document. Attributes unknown to the resource type never match: call
// ValidateFilter first to report them.
func (rt *ResourceType) Match(expr filter.Expression, doc map[string]any) bool {
	if expr == nil {
		return true
	}
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		switch e.Operator {
		case filter.AND:
			return rt.Match(e.Left, doc) && rt.Match(e.Right, doc)
		case filter.OR:
			return rt.Match(e.Left, doc) || rt.Match(e.Right, doc)
		}
	case *filter.NotExpression:
		return e.Expression != nil && !rt.Match(e.Expression, doc)
	case *filter.AttributeExpression:
		r, ok := rt.resolveAttrPath(e.AttributePath)
		if !ok || r.attr == nil {
			return false
		}
		return matchAttribute(r.attr, r.sub, valueOf(doc, r.attr), e)
	case *filter.ValuePath:
		r, ok := rt.resolveAttrPath(e.AttributePath)
		if !ok || r.attr == nil || r.attr.typ != typeComplex || r.sub != nil {
			return false
		}
		return anyElement(valueOf(doc, r.attr), r.attr, e.ValueFilter)
	}
	return false
}

// valueOf returns attribute a's value in doc, looking in the extension's
// object for extension attributes.
func valueOf(doc map[string]any, a *attribute) any {
	if a.ext != nil {
		ext, _ := doc[a.ext.urn].(map[string]any)
		return ext[a.name]
	}
	return doc[a.name]
}

func anyElement(v any, parent *attribute, expr filter.Expression) bool {
	switch v := v.(type) {
	case map[string]any:
		return matchElement(parent, expr, v)
	case []any:
		for _, e := range v {
			if el, ok := e.(map[string]any); ok && matchElement(parent, expr, el) {
				return true
			}
		}
	}
	return false
}

// matchElement evaluates a value filter against one element of a complex
// attribute.
func matchElement(parent *attribute, expr filter.Expression, el map[string]any) bool {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		switch e.Operator {
		case filter.AND:
			return matchElement(parent, e.Left, el) && matchElement(parent, e.Right, el)
		case filter.OR:
			return matchElement(parent, e.Left, el) || matchElement(parent, e.Right, el)
		}
	case *filter.NotExpression:
		return e.Expression != nil && !matchElement(parent, e.Expression, el)
	case *filter.AttributeExpression:
		p := e.AttributePath
		if p.URIPrefix != nil || p.SubAttribute != nil {
			return false
		}
		if s := parent.sub(p.AttributeName); s != nil {
			return matchAttribute(s, nil, el[s.name], e)
		}
	}
	return false
}

// matchAttribute evaluates e against v, the value of a in a document, or
// against the sub values of v's elements when sub is set.
func matchAttribute(a, sub *attribute, v any, e *filter.AttributeExpression) bool {
	if a.typ == typeComplex && sub == nil {
		if e.Operator == filter.PR {
			return present(v)
		}
		if a.valueSub == nil {
			return false
		}
		sub = a.valueSub
	}
	t := a
	if sub != nil {
		t = sub
	}
	want := e.CompareValue
	switch {
	case e.Operator == filter.PR:
		found, _ := eachValue(v, sub, present)
		return found
	case want == nil && e.Operator == filter.EQ:
		found, _ := eachValue(v, sub, present)
		return !found
	case want == nil && e.Operator == filter.NE:
		found, _ := eachValue(v, sub, present)
		return found
	case e.Operator == filter.NE:
		found, _ := eachValue(v, sub, func(x any) bool { return compareValue(t, filter.EQ, x, want) })
		return !found
	default:
		found, _ := eachValue(v, sub, func(x any) bool { return compareValue(t, e.Operator, x, want) })
		return found
	}
}

// eachValue calls fn for each value of v (the elements of a multi-valued
// attribute, or the sub values of its elements when sub is set) until fn
// returns true, and reports whether it did and how many values it saw.
func eachValue(v any, sub *attribute, fn func(any) bool) (found bool, n int) {
	if sub != nil {
		switch v := v.(type) {
		case map[string]any:
			return eachValue(v[sub.name], nil, fn)
		case []any:
			for _, e := range v {
				if el, ok := e.(map[string]any); ok {
					f, m := eachValue(el[sub.name], nil, fn)
					n += m
					if f {
						return true, n
					}
				}
			}
		}
		return false, n
	}
	switch v := v.(type) {
	case nil:
		return false, 0
	case []any:
		for _, e := range v {
			if e == nil {
				continue
			}
			n++
			if fn(e) {
				return true, n
			}
		}
		return false, n
	default:
		return fn(v), 1
	}
}

// IndexedEquals reports whether expr is, or is an "and" containing, an eq
// comparison of one of attrs (top-level attribute names such as "userName",
// "externalId", "id", "displayName", matched case-insensitively) with a string
// or number. It returns the name as given in attrs and the compared value as a
// string, trying attrs in order, so a storage layer can look candidates up in
// an index. The index only narrows the search: the caller must still Match the
// whole expression against each candidate (the index may fold case
// differently, or the expression may say more).
func IndexedEquals(expr filter.Expression, attrs ...string) (attr, value string, ok bool) {
	for _, name := range attrs {
		if v, found := indexedEquals(expr, name); found {
			return name, v, true
		}
	}
	return "", "", false
}

func indexedEquals(expr filter.Expression, name string) (string, bool) {
	switch e := expr.(type) {
	case *filter.AttributeExpression:
		p := e.AttributePath
		if e.Operator != filter.EQ || p.SubAttribute != nil || !strings.EqualFold(p.AttributeName, name) {
			return "", false
		}
		if p.URIPrefix != nil && !isCoreSchema(*p.URIPrefix) {
			return "", false
		}
		switch e.CompareValue.(type) {
		case string, int, float64:
			return text(e.CompareValue)
		}
	case *filter.LogicalExpression:
		if e.Operator != filter.AND {
			return "", false
		}
		if v, ok := indexedEquals(e.Left, name); ok {
			return v, true
		}
		return indexedEquals(e.Right, name)
	}
	return "", false
}

func isCoreSchema(urn string) bool {
	const core = "urn:ietf:params:scim:schemas:core:2.0:"
	return len(urn) > len(core) && strings.EqualFold(urn[:len(core)], core)
}

// References reports whether expr names the top-level attribute attr
// (case-insensitively, bare or qualified by a core schema URN), alone, with a
// sub-attribute or in a value filter. A storage layer uses it to learn whether
// it must attach a Group's "members" or a User's "groups" before calling Match.
func References(expr filter.Expression, attr string) bool {
	names := func(p filter.AttributePath) bool {
		return strings.EqualFold(p.AttributeName, attr) && (p.URIPrefix == nil || isCoreSchema(*p.URIPrefix))
	}
	switch e := expr.(type) {
	case *filter.AttributeExpression:
		return names(e.AttributePath)
	case *filter.ValuePath:
		return names(e.AttributePath)
	case *filter.LogicalExpression:
		return References(e.Left, attr) || References(e.Right, attr)
	case *filter.NotExpression:
		return References(e.Expression, attr)
	}
	return false
}
