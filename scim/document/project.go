package document

import "strings"

// Project returns the representation of a resource that a response carries,
// following RFC 7644 §3.4.2.5 and §3.9. full is the complete representation:
// the document plus "id", "externalId", "meta", "schemas", and a Group's
// "members" or a User's "groups" when the caller loaded them (see Wants).
//
//   - Attributes whose "returned" is "always" (id, schemas) are always
//     included; "never" ones (password) never are.
//   - attributes, when not empty, lists the only other attributes to return:
//     case-insensitive paths such as "userName", "name.givenName", "emails",
//     "meta.created",
//     "urn:ietf:params:scim:schemas:core:2.0:User:userName",
//     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
//     or the extension URN itself. A value filter, as Entra sends
//     (emails[type eq "work"]), selects the whole attribute: attributes
//     chooses attributes, not values.
//   - excludedAttributes removes the listed paths from the default set. When
//     both lists are given, attributes wins and excludedAttributes is ignored.
//   - Unknown names are ignored. An entry may itself be a comma-separated
//     list, as the query parameter is.
//
// The result is a new map, but it shares the values it did not have to cut
// (a kept "members" list, for one) with full: treat both as read-only.
func (rt *ResourceType) Project(full map[string]any, attributes, excludedAttributes []string) map[string]any {
	if attributes = splitLists(attributes); len(attributes) > 0 {
		return rt.include(full, attributes)
	}
	return rt.exclude(full, splitLists(excludedAttributes))
}

// splitLists splits entries that are themselves comma-separated, as the
// query parameters are (attributes=userName,emails), and drops empty ones.
// Commas inside a value filter's brackets do not split.
func splitLists(list []string) []string {
	simple := true
	for _, s := range list {
		if s == "" || strings.IndexByte(s, ',') >= 0 {
			simple = false
			break
		}
	}
	if simple {
		return list
	}
	var out []string
	for _, s := range list {
		depth, start := 0, 0
		for i := 0; i <= len(s); i++ {
			switch {
			case i < len(s) && s[i] == '[':
				depth++
			case i < len(s) && s[i] == ']':
				depth--
			case i == len(s) || s[i] == ',' && depth <= 0:
				if part := strings.TrimSpace(s[start:i]); part != "" {
					out = append(out, part)
				}
				start = i + 1
			}
		}
	}
	return out
}

// selection resolves an attributes= or excludedAttributes= entry.
func (rt *ResourceType) selection(path string) (ref, bool) {
	r, _, err := rt.resolvePath(strings.TrimSpace(path))
	return r, err == nil
}

func (rt *ResourceType) include(full map[string]any, attributes []string) map[string]any {
	out := make(map[string]any)
	for _, a := range rt.core.list {
		if v, ok := full[a.name]; ok && a.returned == returnedAlways {
			out[a.name] = v
		}
	}
	type pick struct {
		whole bool
		subs  []*attribute
	}
	picks := make(map[*attribute]*pick)
	var order []*attribute // picks in request order, for deterministic output
	for _, path := range attributes {
		r, ok := rt.selection(path)
		if !ok {
			continue
		}
		if r.attr == nil {
			if v, ok := full[r.ext.urn]; ok {
				out[r.ext.urn] = v
			}
			continue
		}
		if r.attr.returned == returnedNever || r.sub != nil && r.sub.returned == returnedNever {
			continue
		}
		p := picks[r.attr]
		if p == nil {
			p = &pick{}
			picks[r.attr] = p
			order = append(order, r.attr)
		}
		if r.sub == nil {
			p.whole = true
		} else {
			p.subs = append(p.subs, r.sub)
		}
	}
	ownExt := make(map[*extension]map[string]any)
	for _, a := range order {
		if a.ext != nil {
			if _, whole := out[a.ext.urn]; whole && ownExt[a.ext] == nil {
				continue // the whole extension is already selected
			}
		}
		v := valueOf(full, a)
		if v == nil {
			continue
		}
		if p := picks[a]; !p.whole {
			if v = pickSubs(v, p.subs); v == nil {
				continue
			}
		}
		if a.ext == nil {
			out[a.name] = v
			continue
		}
		m := ownExt[a.ext]
		if m == nil {
			m = make(map[string]any)
			ownExt[a.ext] = m
			out[a.ext.urn] = m
		}
		m[a.name] = v
	}
	return out
}

// pickSubs keeps only the given sub-attributes of a complex value.
func pickSubs(v any, subs []*attribute) any {
	pickOne := func(e any) map[string]any {
		el, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		m := make(map[string]any, len(subs))
		for _, s := range subs {
			if x, ok := el[s.name]; ok {
				m[s.name] = x
			}
		}
		if len(m) == 0 {
			return nil
		}
		return m
	}
	if list, ok := v.([]any); ok {
		out := make([]any, 0, len(list))
		for _, e := range list {
			if m := pickOne(e); m != nil {
				out = append(out, m)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	if m := pickOne(v); m != nil {
		return m
	}
	return nil
}

func (rt *ResourceType) exclude(full map[string]any, excluded []string) map[string]any {
	out := make(map[string]any, len(full))
	for k, v := range full {
		out[k] = v
	}
	copied := make(map[*extension]bool)
	drop := func(a, sub *attribute) {
		c := out
		if a.ext != nil {
			m, ok := out[a.ext.urn].(map[string]any)
			if !ok {
				return
			}
			if !copied[a.ext] {
				m = cloneMap(m, false)
				out[a.ext.urn] = m
				copied[a.ext] = true
			}
			c = m
		}
		if sub == nil {
			delete(c, a.name)
		} else if v, ok := c[a.name]; ok {
			if v = withoutSub(v, sub); v == nil {
				delete(c, a.name)
			} else {
				c[a.name] = v
			}
		}
		if a.ext != nil && len(c) == 0 {
			delete(out, a.ext.urn)
		}
	}
	for _, a := range rt.all {
		if a.returned == returnedNever || a.returned == returnedRequest {
			drop(a, nil)
		}
	}
	for _, path := range excluded {
		r, ok := rt.selection(path)
		switch {
		case !ok:
		case r.attr == nil:
			delete(out, r.ext.urn)
		case r.attr.returned != returnedAlways && (r.sub == nil || r.sub.returned != returnedAlways):
			drop(r.attr, r.sub)
		}
	}
	return out
}

// withoutSub returns a copy of a complex value without one sub-attribute, or
// nil when nothing is left.
func withoutSub(v any, sub *attribute) any {
	cut := func(e any) any {
		el, ok := e.(map[string]any)
		if !ok {
			return e
		}
		m := make(map[string]any, len(el))
		for k, x := range el {
			if k != sub.name {
				m[k] = x
			}
		}
		if len(m) == 0 {
			return nil
		}
		return m
	}
	list, ok := v.([]any)
	if !ok {
		return cut(v)
	}
	out := make([]any, 0, len(list))
	for _, e := range list {
		if x := cut(e); x != nil {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Wants reports whether a response projected with attributes and
// excludedAttributes (as for Project) includes attr, a path such as
// "members", "groups" or "name.givenName", or any part of it. Callers use it
// to skip expensive work: a Group's 50,000 members need not be read for
// excludedAttributes=members, nor a User's groups for attributes=userName.
// Unknown attributes and "never" returned ones are not wanted.
func (rt *ResourceType) Wants(attributes, excludedAttributes []string, attr string) bool {
	r, ok := rt.selection(attr)
	if !ok {
		return false
	}
	attributes, excludedAttributes = splitLists(attributes), splitLists(excludedAttributes)
	if r.attr != nil && (r.attr.returned == returnedNever || r.sub != nil && r.sub.returned == returnedNever) {
		return false
	}
	if r.attr != nil && r.attr.returned == returnedAlways {
		return true
	}
	if len(attributes) > 0 {
		for _, path := range attributes {
			if s, ok := rt.selection(path); ok && (s.covers(r) || r.covers(s)) {
				return true
			}
		}
		return false
	}
	for _, path := range excludedAttributes {
		if s, ok := rt.selection(path); ok && s.covers(r) {
			return false
		}
	}
	return r.attr == nil || r.attr.returned != returnedRequest
}
