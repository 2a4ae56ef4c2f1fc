package document

import (
	"encoding/json"
	"fmt"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"
)

// Operation is one PATCH operation as decoded from the request body (with
// json.Decoder.UseNumber): {"op": …, "path": …, "value": …}.
type Operation struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// MemberEditor receives the member changes of a Group PATCH. Group membership
// is not part of the document, so Apply translates every operation on
// "members", in order, into calls on it. Members and ids are in request
// order, possibly repeated; a Member carries the id (the "value" of the
// member object) and the display label sent with it. An error is
// returned by Apply unchanged; make it a ScimError (for example 400
// invalidValue for an unknown member id).
type MemberEditor interface {
	// Add adds members (RFC 7644 §3.5.2.1: ones already in the group are
	// no change; DESIGN §7: unknown ids are a 400 invalidValue).
	Add(members []Member) error
	// Replace makes members the whole membership; none empties the group.
	Replace(members []Member) error
	// Remove removes the listed members only, as Entra means
	// {"op":"Remove","path":"members","value":[{"value":id}]}.
	Remove(ids []string) error
	// RemoveAll empties the group.
	RemoveAll() error
	// RemoveWhere removes the members matching a value filter of
	// members[…] other than value eq "…" (or an or of those), such as
	// type eq "Group". Its attribute names are members' sub-attributes
	// (value, $ref, type, display) as the client spelled them.
	RemoveWhere(expr filter.Expression) error
}

type opKind uint8

const (
	opAdd opKind = iota + 1
	opRemove
	opReplace
)

func (k opKind) String() string {
	switch k {
	case opAdd:
		return "add"
	case opRemove:
		return "remove"
	default:
		return "replace"
	}
}

// Apply applies PATCH operations (RFC 7644 §3.5.2) to doc in place, in order,
// calling members for operations on a Group's members. It stops at the first
// error and leaves doc partly changed: apply to a Clone and keep it only on
// success, and discard the member changes too (for example by aborting the
// transaction they were made in). members may be nil for User.
//
// Accepted, beyond the RFC, because Okta and Entra ID send it: op names in
// any case ("Replace"); booleans as strings ("False"); complex values as JSON
// text; manager as a bare id, an object or a list; pathless values whose keys
// are dotted ("name.givenName") or URN-qualified, or an extension URN holding
// an object; "id", "schemas" and "meta" keys in pathless values (ignored);
// remove of "members" with a value list (removes only those members).
//
// Semantics decided here, in RFC terms:
//
//   - add to a multi-valued attribute appends values not already present;
//     add or replace of a single-valued one sets it; add or replace of a
//     complex one sets the sub-attributes given and keeps the others
//     (§3.5.2.3), except that a new "value" (a different manager) drops the
//     stale $ref and displayName; replace of a multi-valued attribute
//     without a filter replaces the whole list;
//   - with a value filter, add and replace change the matching elements
//     (attr[filter] merges the given sub-attributes into each,
//     attr[filter].sub sets one); when nothing matches, replace fails with
//     noTarget (§3.5.2.3) and add creates an element from the filter's eq
//     terms (emails[type eq "work"].value → {"type": "work", "value": …}),
//     so later adds with the same filter fill in the same element;
//   - setting primary to true on a value sets it to false on the others;
//   - a null or empty value clears the target, as an unassigned attribute
//     and null are equivalent (RFC 7643 §2.5);
//   - remove of a missing value does nothing; remove of a required
//     attribute (userName, displayName) fails with mutability, as §3.5.2.2
//     prescribes for an attribute that "becomes unassigned";
//   - in a pathless value, unknown attributes are ignored and read-only ones
//     skipped, as in POST and PUT bodies; with a path they are errors.
//
// Errors are 400 ScimErrors whose detail names the operation: invalidValue
// for an unknown op, a value of the wrong type or an empty required value;
// invalidPath for an unparsable path or an unknown attribute; invalidFilter
// for a bad value filter in a path; mutability for read-only attributes and
// for removing required ones; noTarget for remove without a path and for
// replace whose filter matches nothing. A Group's members ops fail with 500
// if members is nil.
//
// Apply's work is bounded: more than MaxOperations operations, or operations
// on multi-valued attributes whose cost adds up to more than MaxCost, fail
// with 400 tooMany before anything beyond the bound is done.
func (rt *ResourceType) Apply(doc map[string]any, ops []Operation, members MemberEditor) error {
	if len(ops) > MaxOperations {
		return errTooManyOperations(len(ops))
	}
	b := &budget{left: MaxCost}
	for i := range ops {
		if err := rt.apply(doc, &ops[i], members, b); err != nil {
			return inOperation(err, i, &ops[i])
		}
	}
	return nil
}

// MaxOperations is the most operations one PATCH request may carry (RFC 7644
// §3.5.2 sets no limit; IdPs send a handful, and Entra ID at most a few
// hundred member changes at once). More are refused with 400 tooMany, whose
// detail names this limit, and nothing is applied.
const MaxOperations = 10_000

// MaxCost bounds the work one Apply may do on a document's multi-valued
// attributes (a Group's members are the MemberEditor's to bound). An
// operation on a multi-valued attribute that holds n values, carrying v
// values (1 for a filtered path), costs (n+v+1)·(v+1): the comparisons it may
// make to find, de-duplicate or remove values. When the costs of a request's
// operations add up to more than MaxCost, Apply stops with 400 tooMany. A
// user's emails, phone numbers or roles are a handful of values, so real
// requests cost thousands at most; the bound keeps a crafted request (a
// 100,000-value list, or thousands of values added one by one) to a few
// hundred milliseconds of CPU.
const MaxCost = 1 << 20

func errTooManyOperations(n int) error {
	return scimError(scimerrors.ScimTypeTooMany, "The PATCH has %d operations; at most %d (MaxOperations) are accepted in one request. Split it into several PATCHes.", n, MaxOperations)
}

// budget is what is left of MaxCost for the rest of one Apply.
type budget struct{ left int }

// charge spends cost, failing when the request would go over MaxCost.
func (b *budget) charge(cost int, a *attribute) error {
	b.left -= cost
	if b.left < 0 {
		return scimError(scimerrors.ScimTypeTooMany, "The PATCH does too much work on multi-valued attributes (at %s): its operations would cost more than %d (MaxCost), counting for each the values the attribute holds and the values it carries. Send fewer or smaller operations.", a.path, MaxCost)
	}
	return nil
}

// chargeValues charges an operation carrying v values (normalised, so a
// list sent as JSON text counts in full) on a's values in c (see MaxCost).
// Single-valued attributes cost nothing: their work does not grow.
func (b *budget) chargeValues(c map[string]any, a *attribute, v int) error {
	if !a.multi {
		return nil
	}
	n := len(asList(c[a.name]))
	return b.charge((n+v+1)*(v+1), a)
}

// editorError carries a MemberEditor's error through Apply unchanged.
type editorError struct{ err error }

func (e editorError) Error() string { return e.err.Error() }

func fromEditor(err error) error {
	if err == nil {
		return nil
	}
	return editorError{err}
}

func inOperation(err error, i int, op *Operation) error {
	if e, ok := err.(editorError); ok {
		return e.err
	}
	if e, ok := err.(scimerrors.ScimError); ok {
		where := fmt.Sprintf("Operations[%d] (op %s", i, quote(op.Op))
		if op.Path != "" {
			where += ", path " + quote(op.Path)
		}
		e.Detail = where + "): " + e.Detail
		return e
	}
	return err
}

func (rt *ResourceType) apply(doc map[string]any, op *Operation, members MemberEditor, b *budget) error {
	var kind opKind
	switch name := strings.TrimSpace(op.Op); {
	case strings.EqualFold(name, "add"):
		kind = opAdd
	case strings.EqualFold(name, "remove"):
		kind = opRemove
	case strings.EqualFold(name, "replace"):
		kind = opReplace
	default:
		return errInvalidValue("%s is not a PATCH op; use add, remove or replace (RFC 7644 §3.5.2).", quote(op.Op))
	}
	path := strings.TrimSpace(op.Path)
	if path == "" {
		if kind == opRemove {
			return errNoTarget("remove needs a path naming what to remove (RFC 7644 §3.5.2.2).")
		}
		return rt.applyPathless(doc, kind, op.Value, members, b)
	}
	r, valueFilter, err := rt.resolvePath(path)
	if err != nil {
		return err
	}
	return rt.applyAt(doc, kind, r, valueFilter, op.Value, members, false, b)
}

// applyPathless applies an add or replace whose value is an object of
// attributes, each key as if it were the path.
func (rt *ResourceType) applyPathless(doc map[string]any, kind opKind, value any, members MemberEditor, b *budget) error {
	obj, err := objectValue(value)
	if err != nil {
		return errInvalidValue("%s without a path needs an object of attributes as its value, not %s.", kind, describe(value))
	}
	for _, key := range orderedKeys(obj) {
		// Read-only keys such as the "id" Okta sends with a group rename
		// resolve, and applyAt skips them.
		r, ok := rt.resolveKey(&rt.core, key)
		if !ok {
			continue
		}
		if err := rt.applyAt(doc, kind, r, nil, obj[key], members, true, b); err != nil {
			return err
		}
	}
	return nil
}

// applyAt applies one operation at r. lenient is set for the keys of an
// object value, where read-only attributes are skipped rather than refused.
func (rt *ResourceType) applyAt(doc map[string]any, kind opKind, r ref, valueFilter filter.Expression, value any, members MemberEditor, lenient bool, b *budget) error {
	if r.attr == nil {
		return rt.applyExtension(doc, kind, r.ext, value, members, b)
	}
	a := r.attr
	if a == rt.members {
		return applyMembers(kind, r, valueFilter, value, members)
	}
	target := a
	if r.sub != nil {
		target = r.sub
	}
	switch {
	case a.mutability == readOnly || target.mutability == readOnly:
		if lenient {
			return nil
		}
		return errMutability("%s is read-only; clients cannot change it (RFC 7643 §2.2).", r)
	case a.mutability == writeOnly || target.mutability == writeOnly:
		return nil // password: accepted, never stored
	case (a.mutability == immutable || target.mutability == immutable) &&
		(kind != opAdd || present(container(doc, a, false)[a.name])):
		return errMutability("%s is immutable; it can be added once but not changed or removed (RFC 7643 §2.2).", r)
	}
	if kind == opRemove {
		return removeAt(doc, r, valueFilter, value, b)
	}
	return setAt(doc, kind, r, valueFilter, value, b)
}

// applyExtension applies an operation whose target is a whole extension
// object, key by key.
func (rt *ResourceType) applyExtension(doc map[string]any, kind opKind, ext *extension, value any, members MemberEditor, b *budget) error {
	if kind == opRemove || value == nil {
		delete(doc, ext.urn)
		return nil
	}
	obj, err := objectValue(value)
	if err != nil {
		return errInvalidValue("%s takes an object of extension attributes, not %s.", ext.urn, describe(value))
	}
	for _, key := range orderedKeys(obj) {
		r, ok := rt.resolveKey(&ext.attrs, key)
		if !ok || r.attr == nil {
			continue
		}
		if err := rt.applyAt(doc, kind, r, nil, obj[key], members, true, b); err != nil {
			return err
		}
	}
	return nil
}

// setAt applies add or replace at r.
func setAt(doc map[string]any, kind opKind, r ref, valueFilter filter.Expression, value any, b *budget) error {
	a := r.attr
	// An object for a complex value may clear sub-attributes with nulls:
	// {"name": {"familyName": null}} keeps the other name parts.
	mergesObject := r.sub == nil && a.typ == typeComplex && (valueFilter != nil || !a.multi)
	var nulls []string
	if mergesObject {
		nulls = explicitNulls(a, value)
	}
	var nv any
	var err error
	switch {
	case r.sub != nil:
		nv, err = normalizeValue(r.sub, value)
	case valueFilter != nil:
		nv, err = normalizeSingle(a, value) // one element
	default:
		nv, err = normalizeValue(a, value)
	}
	if err != nil {
		return err
	}
	carried := 1
	if list, ok := nv.([]any); ok && r.sub == nil && valueFilter == nil {
		carried = len(list)
	}
	if err := b.chargeValues(container(doc, a, false), a, carried); err != nil {
		return err
	}
	if nv == nil && len(nulls) == 0 {
		if kind == opAdd && a.multi && r.sub == nil && valueFilter == nil {
			return nil // adding no values
		}
		return removeAt(doc, r, valueFilter, nil, b)
	}
	if a.required && r.sub == nil && nv == "" {
		return errInvalidValue("%s is required and cannot be empty.", a.path)
	}
	c := container(doc, a, true)
	switch {
	case valueFilter != nil:
		return setFiltered(c, kind, a, r.sub, valueFilter, nv, nulls)
	case r.sub != nil:
		setSub(c, a, r.sub, nv)
	case a.multi:
		values := nv.([]any)
		if kind == opReplace {
			c[a.name] = values
			return nil
		}
		old := asList(c[a.name])
		list := make([]any, len(old), len(old)+len(values))
		copy(list, old)
		for _, v := range values {
			if !containsEqual(list, v) {
				list = append(list, v)
			}
		}
		c[a.name] = list
		demoteOtherPrimaries(list, lastPrimary(list, len(old)))
	case a.typ == typeComplex:
		nm, _ := nv.(map[string]any)
		m := mergeComplex(a, c[a.name], nm)
		for _, name := range nulls {
			delete(m, name)
		}
		if len(m) == 0 {
			delete(c, a.name)
			if a.ext != nil && len(c) == 0 {
				delete(doc, a.ext.urn)
			}
		} else {
			c[a.name] = m
		}
	default:
		c[a.name] = nv
	}
	return nil
}

// explicitNulls lists the sub-attributes that an object value sets to null.
func explicitNulls(a *attribute, v any) []string {
	m, err := objectValue(v)
	if err != nil {
		return nil
	}
	var names []string
	for k, x := range m {
		if s := a.sub(k); x == nil && s != nil {
			names = append(names, s.name)
		}
	}
	return names
}

// setSub sets sub-attribute sub of a: on the object of a single-valued
// attribute, or on every element of a multi-valued one (creating one element
// when there are none).
func setSub(c map[string]any, a, sub *attribute, nv any) {
	if !a.multi {
		old, _ := c[a.name].(map[string]any)
		m := make(map[string]any, len(old)+1)
		for k, v := range old {
			m[k] = v
		}
		m[sub.name] = nv
		c[a.name] = m
		return
	}
	list := asList(c[a.name])
	touched := false
	for _, e := range list {
		if el, ok := e.(map[string]any); ok {
			el[sub.name] = nv
			touched = true
		}
	}
	if !touched {
		c[a.name] = []any{map[string]any{sub.name: nv}}
		return
	}
	demoteOtherPrimaries(list, lastPrimary(list, 0)) // "emails.primary": true names no single value
}

// mergeComplex sets the sub-attributes in nv on the old value of a
// single-valued complex attribute, keeping the others (RFC 7644 §3.5.2.3).
// A new "value" refers to another resource, so the old sub-attributes that
// described the old one are dropped.
func mergeComplex(a *attribute, old any, nv map[string]any) map[string]any {
	oldMap, ok := old.(map[string]any)
	if !ok {
		if nv == nil {
			return map[string]any{}
		}
		return nv
	}
	if a.valueSub != nil {
		if v, ok := nv["value"]; ok && !valuesEqual(v, oldMap["value"]) {
			return nv
		}
	}
	m := make(map[string]any, len(oldMap)+len(nv))
	for k, v := range oldMap {
		m[k] = v
	}
	for k, v := range nv {
		m[k] = v
	}
	return m
}

// setFiltered applies add or replace to the elements of a matching
// valueFilter: attr[filter] merges nv's sub-attributes into each,
// attr[filter].sub sets sub.
func setFiltered(c map[string]any, kind opKind, a, sub *attribute, valueFilter filter.Expression, nv any, nulls []string) error {
	list := asList(c[a.name])
	matched, primary := false, -1
	for i, e := range list {
		el, ok := e.(map[string]any)
		if !ok || !matchElement(a, valueFilter, el) {
			continue
		}
		setElement(el, sub, nv, nulls)
		matched = true
		if el["primary"] == true {
			primary = i
		}
	}
	if !matched {
		if nv == nil {
			return nil // only nulls: nothing to create
		}
		if kind == opReplace {
			return errNoTarget("No value of %s matches the filter [%v]; replace changes existing values only (RFC 7644 §3.5.2.3). Use add to create one.", a.path, valueFilter)
		}
		el, ok := elementFromFilter(a, valueFilter)
		if !ok {
			return errNoTarget("No value of %s matches the filter [%v], and add can create one only from a filter of eq comparisons joined by and.", a.path, valueFilter)
		}
		setElement(el, sub, nv, nil)
		grown := make([]any, len(list), len(list)+1)
		copy(grown, list)
		list = append(grown, el)
		c[a.name] = list
		primary = lastPrimary(list, len(list)-1)
	}
	demoteOtherPrimaries(list, primary)
	if len(nulls) > 0 { // nulls may have emptied elements
		setList(c, a, keepIf(list, func(e any) bool {
			el, ok := e.(map[string]any)
			return !ok || len(el) > 0
		}))
	}
	return nil
}

func setElement(el map[string]any, sub *attribute, nv any, nulls []string) {
	if sub != nil {
		el[sub.name] = nv
		return
	}
	nm, _ := nv.(map[string]any)
	for k, v := range nm {
		el[k] = v
	}
	for _, name := range nulls {
		delete(el, name)
	}
}

// elementFromFilter builds the element that a filter of eq comparisons
// joined by and describes: emails[type eq "work"] → {"type": "work"}.
func elementFromFilter(a *attribute, expr filter.Expression) (map[string]any, bool) {
	el := make(map[string]any)
	var collect func(filter.Expression) bool
	collect = func(expr filter.Expression) bool {
		switch e := expr.(type) {
		case *filter.LogicalExpression:
			return e.Operator == filter.AND && collect(e.Left) && collect(e.Right)
		case *filter.AttributeExpression:
			p := e.AttributePath
			if e.Operator != filter.EQ || p.URIPrefix != nil || p.SubAttribute != nil {
				return false
			}
			s := a.sub(p.AttributeName)
			if s == nil || !s.stored {
				return false
			}
			v, err := normalizeValue(s, e.CompareValue)
			if err != nil || v == nil {
				return false
			}
			el[s.name] = v
			return true
		}
		return false
	}
	return el, collect(expr)
}

// demoteOtherPrimaries keeps "primary": true on one element at most (RFC 7643
// §2.4): when the element at keep was just made primary, the others stop
// being primary. keep < 0 means no element was.
func demoteOtherPrimaries(list []any, keep int) {
	if keep < 0 {
		return
	}
	for i, e := range list {
		if el, ok := e.(map[string]any); ok && i != keep && el["primary"] == true {
			el["primary"] = false
		}
	}
}

// lastPrimary returns the index of the last element of list[from:] whose
// primary is true, or -1.
func lastPrimary(list []any, from int) int {
	for i := len(list) - 1; i >= from && i >= 0; i-- {
		if el, ok := list[i].(map[string]any); ok && el["primary"] == true {
			return i
		}
	}
	return -1
}

// removeAt applies remove at r. With a value and no filter, only the listed
// values of a multi-valued attribute are removed.
func removeAt(doc map[string]any, r ref, valueFilter filter.Expression, value any, b *budget) error {
	a := r.attr
	if a.required && r.sub == nil && valueFilter == nil {
		return errMutability("%s is required; it can be replaced but not removed (RFC 7644 §3.5.2.2).", a.path)
	}
	c := container(doc, a, false)
	old, exists := c[a.name]
	if !exists {
		return nil
	}
	if err := b.chargeValues(c, a, 1); err != nil {
		return err
	}
	switch {
	case valueFilter == nil && r.sub == nil:
		if !a.multi || value == nil {
			delete(c, a.name)
			break
		}
		listed, err := normalizeValue(a, value)
		if err != nil {
			return err
		}
		if err := b.chargeValues(c, a, len(asList(listed))); err != nil {
			return err
		}
		setList(c, a, keepIf(asList(old), func(e any) bool {
			for _, v := range asList(listed) {
				if isDescribedBy(a, e, v) {
					return false
				}
			}
			return true
		}))
	case valueFilter == nil:
		if el, ok := old.(map[string]any); ok {
			m := make(map[string]any, len(el))
			for k, v := range el {
				if k != r.sub.name {
					m[k] = v
				}
			}
			if len(m) == 0 {
				delete(c, a.name)
			} else {
				c[a.name] = m
			}
			break
		}
		setList(c, a, keepIf(asList(old), func(e any) bool {
			if el, ok := e.(map[string]any); ok {
				delete(el, r.sub.name)
				return len(el) > 0
			}
			return true
		}))
	default:
		setList(c, a, keepIf(asList(old), func(e any) bool {
			el, ok := e.(map[string]any)
			if !ok || !matchElement(a, valueFilter, el) {
				return true
			}
			if r.sub == nil {
				return false
			}
			delete(el, r.sub.name)
			return len(el) > 0
		}))
	}
	if a.ext != nil && len(c) == 0 {
		delete(doc, a.ext.urn)
	}
	return nil
}

func setList(c map[string]any, a *attribute, list []any) {
	if len(list) == 0 {
		delete(c, a.name)
		return
	}
	c[a.name] = list
}

func keepIf(list []any, keep func(any) bool) []any {
	out := make([]any, 0, len(list))
	for _, e := range list {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// isDescribedBy reports whether element e has every sub-attribute value
// that v gives (or equals v, for simple values), respecting caseExact.
func isDescribedBy(a *attribute, e, v any) bool {
	vm, ok := v.(map[string]any)
	if !ok {
		return compareValue(a, filter.EQ, e, v)
	}
	em, ok := e.(map[string]any)
	if !ok {
		return false
	}
	for k, want := range vm {
		s := a.sub(k)
		if s == nil || !compareValue(s, filter.EQ, em[k], want) {
			return false
		}
	}
	return true
}

func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

func containsEqual(list []any, v any) bool {
	for _, e := range list {
		if valuesEqual(e, v) {
			return true
		}
	}
	return false
}

// valuesEqual compares decoded JSON values exactly.
func valuesEqual(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !valuesEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !valuesEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	case string:
		b, ok := b.(string)
		return ok && a == b
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case json.Number:
		b, ok := b.(json.Number)
		return ok && a == b
	case nil:
		return b == nil
	}
	return false
}

// applyMembers translates an operation on a Group's members into
// MemberEditor calls.
func applyMembers(kind opKind, r ref, valueFilter filter.Expression, value any, members MemberEditor) error {
	if members == nil {
		return scimerrors.ScimError{Status: statusInternalServerError, Detail: "Group members cannot be changed here: no MemberEditor was given."}
	}
	if r.sub != nil {
		return errMutability("The sub-attributes of members are immutable; add or remove whole members instead.")
	}
	if valueFilter != nil {
		switch kind {
		case opRemove:
			if ids, ok := memberEqualities(valueFilter, nil); ok {
				return fromEditor(members.Remove(ids))
			}
			return fromEditor(members.RemoveWhere(valueFilter))
		case opReplace:
			return errMutability("A member cannot be replaced in place: member references are immutable. Remove it and add another.")
		default:
			return errInvalidPath("add takes the path \"members\" and a list of members as its value, not a filtered path.")
		}
	}
	list, err := memberList(value)
	if err != nil {
		return err
	}
	switch kind {
	case opAdd:
		if len(list) == 0 {
			return nil
		}
		return fromEditor(members.Add(list))
	case opReplace:
		if list == nil {
			list = []Member{}
		}
		return fromEditor(members.Replace(list))
	default:
		if value == nil {
			return fromEditor(members.RemoveAll())
		}
		if len(list) == 0 {
			return nil
		}
		return fromEditor(members.Remove(memberValues(list))) // Entra: only the listed members
	}
}

// memberEqualities reads value eq "a" (or value eq "a" or value eq "b") as the
// list of ids it names.
func memberEqualities(expr filter.Expression, ids []string) ([]string, bool) {
	switch e := expr.(type) {
	case *filter.AttributeExpression:
		p := e.AttributePath
		id, isString := e.CompareValue.(string)
		if e.Operator != filter.EQ || p.URIPrefix != nil || p.SubAttribute != nil || !strings.EqualFold(p.AttributeName, "value") || !isString {
			return nil, false
		}
		return append(ids, id), true
	case *filter.LogicalExpression:
		if e.Operator != filter.OR {
			return nil, false
		}
		ids, ok := memberEqualities(e.Left, ids)
		if !ok {
			return nil, false
		}
		return memberEqualities(e.Right, ids)
	}
	return nil, false
}
