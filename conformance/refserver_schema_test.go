package conformance_test

// The schema of the reference server: the RFC 7643 User, Group and enterprise extension
// attributes that the scenarios use, with their types and case rules.

import "strings"

const (
	userSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	listSchema       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	patchSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	errorSchema      = "urn:ietf:params:scim:api:messages:2.0:Error"
	spcSchema        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)

type attrDef struct {
	name      string
	typ       string // string, boolean, complex, dateTime, reference
	multi     bool
	caseExact bool
	required  bool
	readOnly  bool
	never     bool // returned: never
	sub       []*attrDef
}

func str(name string) *attrDef     { return &attrDef{name: name, typ: "string"} }
func exact(name string) *attrDef   { return &attrDef{name: name, typ: "string", caseExact: true} }
func boolean(name string) *attrDef { return &attrDef{name: name, typ: "boolean"} }
func complexOf(name string, sub ...*attrDef) *attrDef {
	return &attrDef{name: name, typ: "complex", sub: sub}
}
func multiOf(name string, sub ...*attrDef) *attrDef {
	return &attrDef{name: name, typ: "complex", multi: true, sub: sub}
}
func multiValued(name string) *attrDef {
	return multiOf(name, str("value"), str("display"), str("type"), boolean("primary"))
}

// find resolves an attribute name case-insensitively.
func find(defs []*attrDef, name string) *attrDef {
	for _, d := range defs {
		if strings.EqualFold(d.name, name) {
			return d
		}
	}
	return nil
}

var commonAttrs = []*attrDef{
	{name: "id", typ: "string", caseExact: true, readOnly: true},
	exact("externalId"),
	{name: "meta", typ: "complex", readOnly: true, sub: []*attrDef{
		str("resourceType"), {name: "created", typ: "dateTime"}, {name: "lastModified", typ: "dateTime"},
		exact("location"), exact("version"),
	}},
}

var userAttrs = append([]*attrDef{
	{name: "userName", typ: "string", required: true},
	complexOf("name", str("formatted"), str("familyName"), str("givenName"), str("middleName"),
		str("honorificPrefix"), str("honorificSuffix")),
	str("displayName"), str("nickName"), exact("profileUrl"), str("title"), str("userType"),
	str("preferredLanguage"), str("locale"), str("timezone"), boolean("active"),
	{name: "password", typ: "string", never: true},
	multiValued("emails"), multiValued("phoneNumbers"), multiValued("ims"), multiValued("photos"),
	multiOf("addresses", str("formatted"), str("streetAddress"), str("locality"), str("region"),
		str("postalCode"), str("country"), str("type"), boolean("primary")),
	{name: "groups", typ: "complex", multi: true, readOnly: true, sub: []*attrDef{exact("value"), exact("$ref"), str("display"), str("type")}},
	multiValued("entitlements"), multiValued("roles"), multiValued("x509Certificates"),
}, commonAttrs...)

var enterpriseAttrs = []*attrDef{
	str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
	complexOf("manager", exact("value"), exact("$ref"), str("displayName")),
}

var groupAttrs = append([]*attrDef{
	{name: "displayName", typ: "string", required: true},
	multiOf("members", exact("value"), exact("$ref"), str("display"), str("type")),
}, commonAttrs...)

type resourceType struct {
	name, endpoint, schema string
	attrs                  []*attrDef
	extURN                 string // "" when the type has no extension
	extAttrs               []*attrDef
}

var (
	userType  = &resourceType{name: "User", endpoint: "/Users", schema: userSchema, attrs: userAttrs, extURN: enterpriseSchema, extAttrs: enterpriseAttrs}
	groupType = &resourceType{name: "Group", endpoint: "/Groups", schema: groupSchema, attrs: groupAttrs}
)

// schemaJSON renders attribute definitions the way /Schemas describes them.
func schemaJSON(defs []*attrDef) []any {
	out := []any{}
	for _, d := range defs {
		a := map[string]any{
			"name": d.name, "type": d.typ, "multiValued": d.multi, "required": d.required,
			"caseExact": d.caseExact, "mutability": "readWrite", "returned": "default", "uniqueness": "none",
		}
		if d.readOnly {
			a["mutability"] = "readOnly"
		}
		if d.never {
			a["returned"], a["mutability"] = "never", "writeOnly"
		}
		if d.name == "id" {
			a["returned"], a["uniqueness"] = "always", "server"
		}
		if d.name == "userName" {
			a["uniqueness"] = "server"
		}
		if len(d.sub) > 0 {
			a["subAttributes"] = schemaJSON(d.sub)
		}
		out = append(out, a)
	}
	return out
}
