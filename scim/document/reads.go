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
