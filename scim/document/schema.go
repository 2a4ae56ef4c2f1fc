package document

import (
	"strings"

	"github.com/elimity-com/scim/schema"
	filter "github.com/scim2/filter-parser/v2"
)

// ResourceType describes one SCIM resource type: its core schema, the common
// attributes (id, externalId, meta, schemas) and its schema extensions, with
// lookup tables built once so that resolving a name never scans a list.
//
// A ResourceType is immutable and safe for concurrent use. Use the
// package-level User and Group values.
type ResourceType struct {
	name       string
	schema     string
	core       attrTable // core schema attributes plus the common attributes
	extensions []*extension
	all        []*attribute // every top-level attribute, core first
	members    *attribute   // a Group's "members"; nil for User
	required   []*attribute // stored attributes that must be present and non-empty
}

// User is the User resource type: the core User schema (RFC 7643 §4.1) with the
// enterprise extension (RFC 7643 §4.3).
var User = newResourceType("User", schema.CoreUserSchema(), schema.ExtensionEnterpriseUser())

// Group is the Group resource type: the core Group schema (RFC 7643 §4.2).
var Group = newResourceType("Group", schema.CoreGroupSchema())

// Name returns the resource type's name, "User" or "Group".
func (rt *ResourceType) Name() string { return rt.name }

// Schema returns the URN of the resource type's core schema.
func (rt *ResourceType) Schema() string { return rt.schema }

// Extensions returns the URNs of the resource type's schema extensions.
func (rt *ResourceType) Extensions() []string {
	urns := make([]string, len(rt.extensions))
	for i, e := range rt.extensions {
		urns[i] = e.urn
	}
	return urns
}

type dataType uint8

const (
	typeString dataType = iota
	typeBoolean
	typeDecimal
	typeInteger
	typeDateTime
	typeBinary
	typeReference
	typeComplex
)

type mutability uint8

const (
	readWrite mutability = iota
	immutable
	readOnly
	writeOnly
)

type returned uint8

const (
	returnedDefault returned = iota
	returnedAlways
	returnedNever
	returnedRequest
)

// attribute is the flattened, pre-indexed form of an elimity CoreAttribute.
type attribute struct {
	name       string // canonical name
	path       string // full name for error details: "emails.primary", "urn:…:User:manager"
	typ        dataType
	multi      bool
	caseExact  bool
	required   bool
	mutability mutability
	returned   returned
	subs       attrTable
	valueSub   *attribute // the "value" sub-attribute, which stands for a complex value in filters
	stored     bool       // whether documents hold this attribute
	ext        *extension // nil for core and common attributes
	// identifier: a name people and IdPs match on (userName, displayName,
	// externalId). Control characters there are refused: they make one
	// name look like another in logs, lists and the dashboard.
	identifier bool
}

func (a *attribute) sub(name string) *attribute { return a.subs.lookup(name) }

type extension struct {
	urn   string
	attrs attrTable
}

// attrTable maps canonical and lower-case names to attributes.
type attrTable struct {
	byName map[string]*attribute
	list   []*attribute // in schema order
}

func (t *attrTable) add(a *attribute) {
	if t.byName == nil {
		t.byName = make(map[string]*attribute)
	}
	t.byName[a.name] = a
	t.byName[lowerASCII(a.name)] = a
	t.list = append(t.list, a)
}

// lookup finds an attribute by name, case-insensitively. Attribute names are
// ASCII (RFC 7643 §2.1), so ASCII folding is exact; the common canonical
// spelling hits the map directly and the folded lookup does not allocate.
func (t *attrTable) lookup(name string) *attribute {
	if a, ok := t.byName[name]; ok {
		return a
	}
	var buf [64]byte
	if len(name) > len(buf) {
		return nil // longer than any attribute name
	}
	lower := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	return t.byName[string(lower)]
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func newResourceType(name string, core schema.Schema, extensions ...schema.Schema) *ResourceType {
	rt := &ResourceType{name: name, schema: core.ID}
	for _, ca := range schema.CommonAttributes() {
		rt.core.add(newAttribute(ca, "", nil))
	}
	for _, ca := range core.Attributes {
		rt.core.add(newAttribute(ca, "", nil))
	}
	for _, s := range extensions {
		ext := &extension{urn: s.ID}
		for _, ca := range s.Attributes {
			ext.attrs.add(newAttribute(ca, s.ID+":", ext))
		}
		rt.extensions = append(rt.extensions, ext)
	}

	// "schemas" is written by the server, never by a client's PATCH, and
	// always returned.
	if a := rt.core.lookup("schemas"); a != nil {
		a.mutability = readOnly
		a.returned = returnedAlways
	}
	if a := rt.core.lookup("members"); a != nil && name == "Group" {
		rt.members = a
	}
	rt.all = append(rt.all, rt.core.list...)
	for _, e := range rt.extensions {
		rt.all = append(rt.all, e.attrs.list...)
	}
	for _, a := range rt.all {
		a.stored = (a.mutability == readWrite || a.mutability == immutable) && a != rt.members && a.name != "schemas"
		if a.stored && a.required {
			rt.required = append(rt.required, a)
		}
	}
	return rt
}

func newAttribute(ca schema.CoreAttribute, prefix string, ext *extension) *attribute {
	a := &attribute{
		name:      ca.Name(),
		path:      prefix + ca.Name(),
		multi:     ca.MultiValued(),
		caseExact: ca.CaseExact(),
		required:  ca.Required(),
		ext:       ext,
	}
	a.identifier = ext == nil && (a.path == "userName" || a.path == "displayName" || a.path == "externalId")
	switch ca.AttributeType() {
	case "boolean":
		a.typ = typeBoolean
	case "decimal":
		a.typ = typeDecimal
	case "integer":
		a.typ = typeInteger
	case "dateTime":
		a.typ = typeDateTime
	case "binary":
		a.typ = typeBinary
	case "reference":
		a.typ = typeReference
	case "complex":
		a.typ = typeComplex
	default:
		a.typ = typeString
	}
	switch ca.Mutability() {
	case "immutable":
		a.mutability = immutable
	case "readOnly":
		a.mutability = readOnly
	case "writeOnly":
		a.mutability = writeOnly
	}
	switch ca.Returned() {
	case "always":
		a.returned = returnedAlways
	case "never":
		a.returned = returnedNever
	case "request":
		a.returned = returnedRequest
	}
	for _, cs := range ca.SubAttributes() {
		s := newAttribute(cs, a.path+".", ext)
		s.stored = s.mutability == readWrite || s.mutability == immutable
		a.subs.add(s)
	}
	a.valueSub = a.subs.lookup("value")
	return a
}

// lookupName resolves an attribute name given without a schema URN: a core
// attribute, else the attribute of the one extension that defines it. This is
// a leniency: clients write "manager" for the enterprise extension's manager,
// and no other reading of an unambiguous name makes sense.
func (rt *ResourceType) lookupName(name string) *attribute {
	if a := rt.core.lookup(name); a != nil {
		return a
	}
	var found *attribute
	for _, e := range rt.extensions {
		if a := e.attrs.lookup(name); a != nil {
			if found != nil {
				return nil // ambiguous: the client must qualify it
			}
			found = a
		}
	}
	return found
}

// extension finds an extension by URN, case-insensitively.
func (rt *ResourceType) extension(urn string) *extension {
	for _, e := range rt.extensions { // at most one or two
		if strings.EqualFold(e.urn, urn) {
			return e
		}
	}
	return nil
}

// extensionSplit finds the extension whose URN is uri + ":" + name:
// filter-parser reads a bare extension URN such as
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" as the
// attribute "User" of the schema "urn:…:enterprise:2.0".
func (rt *ResourceType) extensionSplit(uri, name string) *extension {
	for _, e := range rt.extensions {
		if len(e.urn) == len(uri)+1+len(name) && e.urn[len(uri)] == ':' &&
			strings.EqualFold(e.urn[:len(uri)], uri) && strings.EqualFold(e.urn[len(uri)+1:], name) {
			return e
		}
	}
	return nil
}

// ref names an attribute, one of its sub-attributes, or a whole extension
// (attr == nil).
type ref struct {
	ext  *extension
	attr *attribute
	sub  *attribute
}

func (r ref) String() string {
	switch {
	case r.attr == nil:
		return r.ext.urn
	case r.sub != nil:
		return r.sub.path
	default:
		return r.attr.path
	}
}

// covers reports whether selecting r selects all of o.
func (r ref) covers(o ref) bool {
	if r.ext != o.ext {
		return false
	}
	if r.attr == nil {
		return true
	}
	return r.attr == o.attr && (r.sub == nil || r.sub == o.sub)
}

// resolveAttrPath resolves a parsed attribute path. URN prefixes may name the
// core schema or an extension; the path may also be a whole extension URN.
func (rt *ResourceType) resolveAttrPath(p filter.AttributePath) (ref, bool) {
	table := &rt.core
	if p.URIPrefix != nil && !strings.EqualFold(*p.URIPrefix, rt.schema) {
		ext := rt.extension(*p.URIPrefix)
		if ext == nil {
			if e := rt.extensionSplit(*p.URIPrefix, p.AttributeName); e != nil && p.SubAttribute == nil {
				return ref{ext: e}, true
			}
			return ref{}, false
		}
		table = &ext.attrs
	}
	var a *attribute
	if p.URIPrefix == nil {
		a = rt.lookupName(p.AttributeName)
	} else {
		a = table.lookup(p.AttributeName)
	}
	if a == nil {
		return ref{}, false
	}
	r := ref{ext: a.ext, attr: a}
	if p.SubAttribute != nil {
		if r.sub = a.sub(*p.SubAttribute); r.sub == nil {
			return ref{}, false
		}
	}
	return r, true
}

// isPlainName reports whether s is a bare attribute name, which needs no
// parsing to resolve.
func isPlainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '$') {
			return false
		}
	}
	return true
}

// resolvePath resolves a path string (a PATCH path, an attributes= entry or a
// sortBy) to a ref and its value filter, if any. Errors are invalidPath
// ScimErrors, or invalidFilter for a bad value filter.
func (rt *ResourceType) resolvePath(s string) (ref, filter.Expression, error) {
	if isPlainName(s) {
		if a := rt.lookupName(s); a != nil {
			return ref{ext: a.ext, attr: a}, nil, nil
		}
		return ref{}, nil, errInvalidPath("The path %s names no attribute of the %s resource type.", quote(s), rt.name)
	}
	if e := rt.extension(s); e != nil {
		return ref{ext: e}, nil, nil
	}
	p, err := ParsePath(s)
	if err != nil {
		return ref{}, nil, err
	}
	if p.SubAttribute != nil && p.AttributePath.SubAttribute != nil {
		return ref{}, nil, errInvalidPath("The path %s filters a sub-attribute; value filters apply to multi-valued complex attributes, as in emails[type eq \"work\"].value.", quote(s))
	}
	r, ok := rt.resolveAttrPath(p.AttributePath)
	if !ok {
		return ref{}, nil, errInvalidPath("The path %s names no attribute of the %s resource type.", quote(s), rt.name)
	}
	if p.SubAttribute != nil {
		if r.attr == nil {
			return ref{}, nil, errInvalidPath("The path %s names no attribute of the %s resource type.", quote(s), rt.name)
		}
		if r.sub = r.attr.sub(*p.SubAttribute); r.sub == nil {
			return ref{}, nil, errInvalidPath("The path %s names no sub-attribute of %s.", quote(s), r.attr.path)
		}
	}
	if p.ValueExpression != nil {
		if r.attr == nil || r.attr.typ != typeComplex || !r.attr.multi {
			return ref{}, nil, errInvalidPath("The path %s has a value filter, but %s is not a multi-valued complex attribute.", quote(s), r)
		}
		if err := validateElementFilter(r.attr, p.ValueExpression); err != nil {
			return ref{}, nil, err
		}
	}
	return r, p.ValueExpression, nil
}
