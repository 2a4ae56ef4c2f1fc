package conformance_test

// PATCH for the reference server (RFC 7644 §3.5.2), with the Okta and Entra forms the scenarios
// record: capitalized ops, pathless values with dotted and URN-qualified keys, filtered paths that
// create their element, and Remove on members with a value list.

import (
	"maps"
	"reflect"
	"slices"
	"strings"
)

func (h *handler) patch(res *resource) error {
	body, err := h.decode()
	if err != nil {
		return err
	}
	if err := requireSchema(body, patchSchema); err != nil {
		return err
	}
	ops, ok := memberFold(body, "Operations").([]any)
	if !ok || len(ops) == 0 {
		return fail(400, "invalidSyntax", "Operations must be a non-empty list")
	}
	next := *res
	next.attrs = deepCopy(res.attrs).(map[string]any)
	for i, raw := range ops {
		op, ok := raw.(map[string]any)
		if !ok {
			return fail(400, "invalidSyntax", "operation %d is not an object", i)
		}
		name, _ := memberFold(op, "op").(string)
		name = strings.ToLower(name)
		if name != "add" && name != "remove" && name != "replace" {
			return fail(400, "invalidSyntax", "operation %d: unknown op %q", i, name)
		}
		path, hasPath := memberFold(op, "path").(string)
		value := memberFold(op, "value")
		if err := h.applyOp(&next, name, path, hasPath && path != "", value); err != nil {
			if h.s.defects[defectPartialPatch] {
				h.commit(res, &next)
			}
			return err
		}
	}
	if err := h.check(&next); err != nil {
		if h.s.defects[defectPartialPatch] {
			h.commit(res, &next)
		}
		return err
	}
	h.commit(res, &next)
	if h.rt == groupType {
		h.w.Header().Set("ETag", etag(res))
		h.w.WriteHeader(204) // groups answer 204, users 200: scenarios accept both
		return nil
	}
	return h.respond(200, res)
}

func (h *handler) applyOp(res *resource, op, path string, hasPath bool, value any) error {
	if hasPath {
		pp, err := parsePatchPath(h.rt, path)
		if err != nil {
			return err
		}
		pp.defects = h.s.defects
		return pp.apply(res.attrs, op, value)
	}
	if op == "remove" {
		return fail(400, "noTarget", "remove needs a path")
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return fail(400, "invalidValue", "a %s without a path needs an object value", op)
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		v := obj[k]
		switch {
		case strings.EqualFold(k, "schemas") || strings.EqualFold(k, "meta"):
			continue
		case strings.EqualFold(k, "id"):
			if v != res.id {
				return fail(400, "mutability", "id is read-only")
			}
			continue
		case h.rt.extURN != "" && strings.EqualFold(k, h.rt.extURN):
			ext, ok := v.(map[string]any)
			if !ok {
				return fail(400, "invalidValue", "%s must be an object", k)
			}
			for _, ek := range slices.Sorted(maps.Keys(ext)) {
				if err := h.applyOp(res, op, h.rt.extURN+":"+ek, true, ext[ek]); err != nil {
					return err
				}
			}
			continue
		}
		if err := h.applyOp(res, op, k, true, v); err != nil {
			return err
		}
	}
	return nil
}

type patchPath struct {
	ref     attrRef
	filter  filter // on the elements of a multi-valued attribute
	sub     *attrDef
	defects map[string]bool
}

func parsePatchPath(rt *resourceType, path string) (patchPath, error) {
	bad := func(why string) (patchPath, error) {
		return patchPath{}, fail(400, "invalidPath", "path %q: %s", path, why)
	}
	attrPart, filterPart, subPart := path, "", ""
	if open := strings.IndexByte(path, '['); open >= 0 {
		closing := strings.LastIndexByte(path, ']')
		if closing < open {
			return bad("unclosed value filter")
		}
		attrPart, filterPart, subPart = path[:open], path[open+1:closing], path[closing+1:]
		if subPart != "" && !strings.HasPrefix(subPart, ".") {
			return bad("junk after the value filter")
		}
		subPart = strings.TrimPrefix(subPart, ".")
	}
	ref, ok := resourceScope(rt).resolve(attrPart)
	if !ok || ref.attr.readOnly {
		return bad("no such attribute")
	}
	pp := patchPath{ref: ref}
	if filterPart != "" || strings.Contains(path, "[") {
		if !ref.attr.multi || ref.sub != nil {
			return bad("a value filter needs a multi-valued attribute")
		}
		f, err := parseFilter(filterPart, scope{attrs: ref.attr.sub})
		if err != nil {
			return bad(err.Error())
		}
		pp.filter = f
		if subPart != "" {
			if pp.sub = find(ref.attr.sub, subPart); pp.sub == nil {
				return bad("no such sub-attribute")
			}
		}
	}
	return pp, nil
}

func (pp patchPath) container(attrs map[string]any, create bool) map[string]any {
	if pp.ref.ext == "" {
		return attrs
	}
	ext, _ := attrs[pp.ref.ext].(map[string]any)
	if ext == nil && create {
		ext = map[string]any{}
		attrs[pp.ref.ext] = ext
	}
	return ext
}

func (pp patchPath) apply(attrs map[string]any, op string, value any) error {
	c := pp.container(attrs, op != "remove")
	if c == nil {
		return nil
	}
	a := pp.ref.attr
	switch {
	case pp.filter != nil:
		return pp.applyFiltered(c, op, value)
	case pp.ref.sub != nil:
		return applySub(c, a, pp.ref.sub, op, value)
	case op == "remove":
		if list, ok := c[a.name].([]any); ok && value != nil && !pp.defects[defectRemoveAllMembers] {
			// Entra removes members with a value list: only those go.
			gone := valuesOf(value)
			kept := slices.DeleteFunc(list, func(el any) bool {
				v, _ := el.(map[string]any)["value"].(string)
				return slices.Contains(gone, v)
			})
			setOrDelete(c, a.name, kept)
			return nil
		}
		delete(c, a.name)
		return nil
	case a.multi:
		nv, err := normalizeValue(a, value)
		if err != nil {
			return err
		}
		list, _ := nv.([]any)
		if op == "add" {
			existing, _ := c[a.name].([]any)
			for _, el := range list {
				if !slices.ContainsFunc(existing, func(x any) bool { return sameElement(a, x, el) }) {
					existing = append(existing, el)
				}
			}
			list = existing
		}
		setOrDelete(c, a.name, list)
		return nil
	case a.typ == "complex":
		nv, err := normalizeValue(a, value)
		if err != nil {
			return err
		}
		merged, _ := c[a.name].(map[string]any)
		if merged == nil {
			merged = map[string]any{}
		}
		if m, ok := nv.(map[string]any); ok {
			maps.Copy(merged, m)
		}
		setOrDelete(c, a.name, merged)
		return nil
	default:
		nv, err := normalizeValue(a, value)
		if err != nil {
			return err
		}
		if nv == nil {
			delete(c, a.name)
		} else {
			c[a.name] = nv
		}
		return nil
	}
}

func applySub(c map[string]any, a, sub *attrDef, op string, value any) error {
	if a.multi { // emails.value without a filter: every element
		list, _ := c[a.name].([]any)
		for _, el := range list {
			m := el.(map[string]any)
			if op == "remove" {
				delete(m, sub.name)
				continue
			}
			nv, err := normalizeSingle(sub, value)
			if err != nil {
				return err
			}
			m[sub.name] = nv
		}
		return nil
	}
	m, _ := c[a.name].(map[string]any)
	if op == "remove" {
		if m != nil {
			delete(m, sub.name)
			setOrDelete(c, a.name, m)
		}
		return nil
	}
	nv, err := normalizeSingle(sub, value)
	if err != nil {
		return err
	}
	if m == nil {
		m = map[string]any{}
	}
	if nv == nil {
		delete(m, sub.name)
	} else {
		m[sub.name] = nv
	}
	setOrDelete(c, a.name, m)
	return nil
}

func (pp patchPath) applyFiltered(c map[string]any, op string, value any) error {
	a := pp.ref.attr
	list, _ := c[a.name].([]any)
	var hits []int
	for i, el := range list {
		if pp.filter.match(el.(map[string]any)) {
			hits = append(hits, i)
		}
	}
	if op == "remove" {
		for _, i := range slices.Backward(hits) {
			if pp.sub != nil {
				delete(list[i].(map[string]any), pp.sub.name)
			} else {
				list = slices.Delete(list, i, i+1)
			}
		}
		setOrDelete(c, a.name, list)
		return nil
	}
	if pp.sub != nil {
		nv, err := normalizeSingle(pp.sub, value)
		if err != nil {
			return err
		}
		if len(hits) == 0 {
			// The filter names an element that does not exist yet: create it.
			el := equalities(pp.filter)
			el[pp.sub.name] = nv
			c[a.name] = append(list, el)
			return nil
		}
		for _, i := range hits {
			list[i].(map[string]any)[pp.sub.name] = nv
		}
		return nil
	}
	nv, err := normalizeSingle(a, value)
	if err != nil {
		return err
	}
	el, _ := nv.(map[string]any)
	if len(hits) == 0 {
		if op == "replace" {
			return fail(400, "noTarget", "no element matches the filter")
		}
		c[a.name] = append(list, el)
		return nil
	}
	for _, i := range hits {
		list[i] = deepCopy(el)
	}
	return nil
}

func setOrDelete(c map[string]any, name string, v any) {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			delete(c, name)
			return
		}
	case map[string]any:
		if len(x) == 0 {
			delete(c, name)
			return
		}
	}
	c[name] = v
}

// sameElement: members are the same when their values are; other elements when all is equal.
func sameElement(a *attrDef, x, y any) bool {
	if a.name == "members" {
		return x.(map[string]any)["value"] == y.(map[string]any)["value"]
	}
	return reflect.DeepEqual(x, y)
}

func valuesOf(v any) []string {
	var out []string
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	for _, el := range list {
		if m, ok := el.(map[string]any); ok {
			if s, ok := m["value"].(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
