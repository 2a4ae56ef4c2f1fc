package document

import (
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// Reads names the attributes a filter reads, lower-cased, each once, in the
// form store.ChangedAttributes names the attributes a write changed: a core
// attribute by its name ("title", "emails"), an extension attribute by its
// fully qualified name ("urn:…:enterprise:2.0:user:department"), a whole
// extension by its URN. Sub-attributes and value filters count as their
// top-level attribute. An evaluator that knows which attributes a document
// change touched re-evaluates a filter only when Reads shares one of them.
// Attributes the resource type does not know are left out (ValidateFilter
// reports them).
func (rt *ResourceType) Reads(expr filter.Expression) []string {
	var out []string
	var walk func(filter.Expression)
	walk = func(expr filter.Expression) {
		var p filter.AttributePath
		switch e := expr.(type) {
		case *filter.LogicalExpression:
			walk(e.Left)
			walk(e.Right)
			return
		case *filter.NotExpression:
			walk(e.Expression)
			return
		case *filter.AttributeExpression:
			p = e.AttributePath
		case *filter.ValuePath:
			p = e.AttributePath
		default:
			return
		}
		r, ok := rt.resolveAttrPath(p)
		if !ok {
			return
		}
		var name string
		switch {
		case r.attr == nil:
			name = r.ext.urn
		case r.attr.ext != nil:
			name = r.attr.ext.urn + ":" + r.attr.name
		default:
			name = r.attr.name
		}
		if name = strings.ToLower(name); !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	walk(expr)
	return out
}

// A Guard is an equality a filter cannot match without: the filter is, or
// is an "and" containing, Attr eq "Value" on a single-valued attribute
// compared as text. An evaluator can bucket filters by Value and skip,
// for a document, every filter whose Value differs from the document's:
// values are equal under Match exactly when they are equal (CaseExact) or
// strings.EqualFold. The bucket only narrows: Match decides.
type Guard struct {
	Attr      string // in the form Reads names it
	Value     string
	CaseExact bool
	a         *attribute
}

// GuardOf returns a guard of expr, if it has one.
func (rt *ResourceType) GuardOf(expr filter.Expression) (Guard, bool) {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		if e.Operator != filter.AND {
			return Guard{}, false
		}
		if g, ok := rt.GuardOf(e.Left); ok {
			return g, true
		}
		return rt.GuardOf(e.Right)
	case *filter.AttributeExpression:
		if e.Operator != filter.EQ {
			return Guard{}, false
		}
		want, ok := e.CompareValue.(string)
		if !ok {
			return Guard{}, false
		}
		r, ok := rt.resolveAttrPath(e.AttributePath)
		if !ok || r.attr == nil || r.sub != nil || r.attr.multi {
			return Guard{}, false
		}
		switch r.attr.typ {
		case typeString, typeReference, typeBinary:
		default:
			return Guard{}, false
		}
		name := r.attr.name
		if r.attr.ext != nil {
			name = r.attr.ext.urn + ":" + name
		}
		return Guard{Attr: strings.ToLower(name), Value: want, CaseExact: r.attr.caseExact, a: r.attr}, true
	}
	return Guard{}, false
}

// Get returns doc's value of the guard's attribute as Match compares it,
// or false when doc holds none (the guarded filter cannot match) or one
// Match would not compare as text.
func (g Guard) Get(doc map[string]any) (string, bool) {
	return text(valueOf(doc, g.a))
}
