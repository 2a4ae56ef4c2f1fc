package document_test

import (
	"testing"

	"github.com/rolecall/rolecall/scim/document"
)

const fullUser = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"id": "usr_1",
	"externalId": "e1",
	"userName": "bjensen",
	"name": {"givenName": "Barbara", "familyName": "Jensen"},
	"emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "h@x", "type": "home"}],
	"groups": [{"value": "grp_1", "display": "Sales"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations", "costCenter": "4130"},
	"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z", "version": "W/\"1\""}
}`

const fullGroup = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
	"id": "grp_1",
	"displayName": "Sales",
	"members": [{"value": "usr_1"}, {"value": "usr_2"}],
	"meta": {"resourceType": "Group", "version": "W/\"2\""}
}`

func TestProject(t *testing.T) {
	schemas := `"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], "id": "usr_1"`
	tests := []struct {
		name                 string
		rt                   *document.ResourceType
		full                 string
		attributes, excluded []string
		want                 string
	}{
		{
			name: "no lists: everything",
			rt:   document.Group, full: fullGroup,
			want: fullGroup,
		},
		{
			name: "attributes: only those, plus id and schemas",
			rt:   document.User, full: fullUser,
			attributes: []string{"userName", "NAME.givenName"},
			want:       `{` + schemas + `, "userName": "bjensen", "name": {"givenName": "Barbara"}}`,
		},
		{
			name: "attributes: sub-attributes of a multi-valued attribute",
			rt:   document.User, full: fullUser,
			attributes: []string{"emails.value", "emails.type"},
			want:       `{` + schemas + `, "emails": [{"value": "b@x", "type": "work"}, {"value": "h@x", "type": "home"}]}`,
		},
		{
			name: "attributes: URN-qualified names",
			rt:   document.User, full: fullUser,
			attributes: []string{"urn:ietf:params:scim:schemas:core:2.0:User:userName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
			want:       `{` + schemas + `, "userName": "bjensen", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"}}`,
		},
		{
			name: "attributes: a whole extension",
			rt:   document.User, full: fullUser,
			attributes: []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
			want:       `{` + schemas + `, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations", "costCenter": "4130"}}`,
		},
		{
			name: "attributes: Entra's value filter selects the whole attribute",
			rt:   document.User, full: fullUser,
			attributes: []string{`emails[type eq "work"]`},
			want:       `{` + schemas + `, "emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "h@x", "type": "home"}]}`,
		},
		{
			name: "attributes: meta.created and unknown names",
			rt:   document.User, full: fullUser,
			attributes: []string{"meta.created", "bogus", "name.bogus"},
			want:       `{` + schemas + `, "meta": {"created": "2010-01-23T04:56:22Z"}}`,
		},
		{
			name: "attributes as the raw comma-separated query parameter",
			rt:   document.User, full: fullUser,
			attributes: []string{"userName, emails[type eq \"a,b\"],,externalId"},
			want:       `{` + schemas + `, "userName": "bjensen", "externalId": "e1", "emails": [{"value": "b@x", "type": "work", "primary": true}, {"value": "h@x", "type": "home"}]}`,
		},
		{
			name: "attributes win over excludedAttributes",
			rt:   document.Group, full: fullGroup,
			attributes: []string{"displayName"}, excluded: []string{"displayName"},
			want: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "grp_1", "displayName": "Sales"}`,
		},
		{
			name: "excludedAttributes: members",
			rt:   document.Group, full: fullGroup,
			excluded: []string{"Members"},
			want:     `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "grp_1", "displayName": "Sales", "meta": {"resourceType": "Group", "version": "W/\"2\""}}`,
		},
		{
			name: "excludedAttributes cannot remove id or schemas",
			rt:   document.Group, full: fullGroup,
			excluded: []string{"id", "schemas", "meta", "members", "displayName"},
			want:     `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "grp_1"}`,
		},
		{
			name: "excludedAttributes: sub-attributes and extension attributes",
			rt:   document.User, full: fullUser,
			excluded: []string{"emails.primary", "name.familyName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", "groups", "meta", "externalId"},
			want: `{` + schemas + `, "userName": "bjensen", "name": {"givenName": "Barbara"},
				"emails": [{"value": "b@x", "type": "work"}, {"value": "h@x", "type": "home"}],
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations"}}`,
		},
		{
			name: "excludedAttributes: a whole extension",
			rt:   document.User, full: `{"id": "u", "userName": "b", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "D"}}`,
			excluded: []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
			want:     `{"id": "u", "userName": "b"}`,
		},
		{
			name: "password is never returned",
			rt:   document.User, full: `{"id": "u", "userName": "b", "password": "p"}`,
			want: `{"id": "u", "userName": "b"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := decodeObject(t, tt.full)
			got := tt.rt.Project(full, tt.attributes, tt.excluded)
			if !sameJSON(t, got, tt.want) {
				t.Errorf("Project =\n%s\nwant\n%s", toJSON(got), tt.want)
			}
			if !sameJSON(t, full, tt.full) {
				t.Errorf("Project changed its input: %s", toJSON(full))
			}
		})
	}
}

func TestWants(t *testing.T) {
	tests := []struct {
		name                 string
		rt                   *document.ResourceType
		attributes, excluded []string
		attr                 string
		want                 bool
	}{
		{"members by default", document.Group, nil, nil, "members", true},
		{"excludedAttributes=members", document.Group, nil, []string{"members"}, "members", false},
		{"excludedAttributes=MEMBERS", document.Group, nil, []string{"MEMBERS"}, "members", false},
		{"excludedAttributes=meta,members", document.Group, nil, []string{"meta,members"}, "members", false},
		{"excluding a member sub-attribute still needs members", document.Group, nil, []string{"members.display"}, "members", true},
		{"attributes=displayName", document.Group, []string{"displayName"}, nil, "members", false},
		{"attributes=members.value", document.Group, []string{"members.value"}, nil, "members", true},
		{"attributes win over excludedAttributes", document.Group, []string{"members"}, []string{"members"}, "members", true},
		{"groups by default", document.User, nil, nil, "groups", true},
		{"attributes=userName skips groups", document.User, []string{"userName"}, nil, "groups", false},
		{"attributes=groups.display", document.User, []string{"groups.display"}, nil, "groups", true},
		{"attributes=name covers name.givenName", document.User, []string{"name"}, nil, "name.givenName", true},
		{"id is always returned", document.User, []string{"userName"}, []string{"id"}, "id", true},
		{"password never is", document.User, nil, nil, "password", false},
		{"unknown attributes are not wanted", document.User, nil, nil, "members", false},
		{"an excluded extension", document.User, nil, []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rt.Wants(tt.attributes, tt.excluded, tt.attr); got != tt.want {
				t.Errorf("Wants(%q, %q, %q) = %v, want %v", tt.attributes, tt.excluded, tt.attr, got, tt.want)
			}
		})
	}
}
