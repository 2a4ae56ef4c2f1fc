package document_test

import (
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		rt   *document.ResourceType
		body string
		want string
	}{
		{
			name: "Entra create: nulls, misspelt attributes and read-only ones vanish",
			rt:   document.User,
			body: `{
				"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
				"id": "ignored", "meta": {"created": "2020-01-01T00:00:00Z"}, "groups": [{"value": "g1"}],
				"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
				"userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
				"active": true,
				"password": "secret",
				"adreses": [{"type": "work", "streetAddress": "1 Main"}],
				"addresses": [{"type": "work", "locality": null, "region": "WA", "country": null}],
				"name": {"familyName": "familyName", "givenName": "givenName", "honorificPrefix": null},
				"displayName": null
			}`,
			want: `{
				"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
				"userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
				"active": true,
				"addresses": [{"type": "work", "region": "WA"}],
				"name": {"familyName": "familyName", "givenName": "givenName"}
			}`,
		},
		{
			name: "names are matched case-insensitively and stored canonically",
			rt:   document.User,
			body: `{"UserName": "bjensen", "NAME": {"GivenName": "Barbara", "familyname": "Jensen"}, "Emails": [{"Value": "b@x", "TYPE": "work", "Primary": true}], "nickname": "Babs"}`,
			want: `{"userName": "bjensen", "name": {"givenName": "Barbara", "familyName": "Jensen"}, "emails": [{"value": "b@x", "type": "work", "primary": true}], "nickName": "Babs"}`,
		},
		{
			name: "booleans sent as strings",
			rt:   document.User,
			body: `{"userName": "u", "active": "False", "emails": [{"value": "a@x", "primary": "True"}, {"value": "b@x", "primary": "false"}]}`,
			want: `{"userName": "u", "active": false, "emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": false}]}`,
		},
		{
			name: "complex values sent as JSON text",
			rt:   document.User,
			body: `{"userName": "u", "name": "{\"givenName\": \"A\"}", "emails": "[{\"value\": \"a@x\", \"type\": \"work\"}]", "phoneNumbers": ["{\"value\": \"+1\"}"]}`,
			want: `{"userName": "u", "name": {"givenName": "A"}, "emails": [{"value": "a@x", "type": "work"}], "phoneNumbers": [{"value": "+1"}]}`,
		},
		{
			name: "a multi-valued attribute sent as one object",
			rt:   document.User,
			body: `{"userName": "u", "emails": {"value": "a@x", "type": "work"}}`,
			want: `{"userName": "u", "emails": [{"value": "a@x", "type": "work"}]}`,
		},
		{
			name: "manager as a bare id",
			rt:   document.User,
			body: `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "mgr-id"}}`,
			want: `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "mgr-id"}}}`,
		},
		{
			name: "manager as an object, read-only displayName dropped",
			rt:   document.User,
			body: `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "mgr-id", "displayName": "Boss"}}}`,
			want: `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "mgr-id"}}}`,
		},
		{
			name: "manager as a list: the first element",
			rt:   document.User,
			body: `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": [{"$ref": "../Users/mgr-id", "value": "mgr-id"}, {"value": "other"}]}}`,
			want: `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"$ref": "../Users/mgr-id", "value": "mgr-id"}}}`,
		},
		{
			name: "URN-qualified extension keys fold into the extension object",
			rt:   document.User,
			body: `{
				"userName": "u",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Old", "costCenter": "4130"},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "X",
				"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager": "m1",
				"urn:ietf:params:scim:schemas:core:2.0:User:title": "Boss",
				"name.givenName": "A"
			}`,
			want: `{
				"userName": "u", "title": "Boss", "name": {"givenName": "A"},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "X", "costCenter": "4130", "manager": {"value": "m1"}}
			}`,
		},
		{
			name: "empty objects and lists are dropped",
			rt:   document.User,
			body: `{"userName": "u", "name": {}, "emails": [], "phoneNumbers": [{"value": null}], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": null}}`,
			want: `{"userName": "u"}`,
		},
		{
			name: "binary values in base64, padded or not, with PEM line breaks",
			rt:   document.User,
			body: `{"userName": "u", "x509Certificates": [{"value": "TUlJQw=="}, {"value": "TUlJQw"}, {"value": "TUlJ\nQw=="}]}`,
			want: `{"userName": "u", "x509Certificates": [{"value": "TUlJQw=="}, {"value": "TUlJQw"}, {"value": "TUlJ\nQw=="}]}`,
		},
		{
			name: "Group members are not part of the document",
			rt:   document.Group,
			body: `{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales", "externalId": "e1", "members": [{"value": "usr_1"}]}`,
			want: `{"displayName": "Sales", "externalId": "e1"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.rt.Normalize(decodeObject(t, tt.body))
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if !sameJSON(t, got, tt.want) {
				t.Errorf("Normalize =\n%s\nwant\n%s", toJSON(got), tt.want)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	tests := []struct {
		name   string
		rt     *document.ResourceType
		body   string
		detail string
	}{
		{"missing userName", document.User, `{"displayName": "x"}`, "userName is required"},
		{"empty userName", document.User, `{"userName": ""}`, "userName is required"},
		{"userName of the wrong type", document.User, `{"userName": true}`, "userName takes a string"},
		{"a number where a string belongs", document.User, `{"userName": 5}`, "userName takes a string"},
		{"a number in an extension string", document.User, `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": 701984}}`, "employeeNumber takes a string"},
		{"missing displayName", document.Group, `{"members": []}`, "displayName is required"},
		{"boolean that is not one", document.User, `{"userName": "u", "active": "yes"}`, "active is boolean"},
		{"boolean sub-attribute", document.User, `{"userName": "u", "emails": [{"value": "a", "primary": "maybe"}]}`, "emails.primary"},
		{"name that is not an object", document.User, `{"userName": "u", "name": 5}`, "name takes an object"},
		{"emails as bare strings", document.User, `{"userName": "u", "emails": ["a@x"]}`, "emails takes an object"},
		{"broken JSON text", document.User, `{"userName": "u", "name": "{\"givenName\": "}`, "name holds a string that looks like JSON"},
		{"extension that is not an object", document.User, `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}`, "extension attributes"},
		{"binary that is not base64", document.User, `{"userName": "u", "x509Certificates": [{"value": "not base64!"}]}`, "x509Certificates.value is binary"},
		{"binary that is a number", document.User, `{"userName": "u", "x509Certificates": [{"value": 12}]}`, "x509Certificates.value is binary"},
		{"manager of the wrong type", document.User, `{"userName": "u", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": 7}`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager takes an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.rt.Normalize(decodeObject(t, tt.body))
			wantScimError(t, err, scimerrors.ScimTypeInvalidValue, tt.detail)
		})
	}
}

func TestMembers(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		want        string
		wantPresent bool
		wantErr     string
	}{
		{"list of member objects", `{"members": [{"value": "usr_1", "display": "A"}, {"Value": "usr_2", "type": "User"}]}`, `[{"Value":"usr_1","Display":"A"},{"Value":"usr_2","Display":""}]`, true, ""},
		{"displayName label, as Microsoft's suite sends it", `{"members": [{"value": "usr_1", "displayName": "new User"}]}`, `[{"Value":"usr_1","Display":"new User"}]`, true, ""},
		{"case-insensitive key", `{"Members": [{"value": "usr_1"}]}`, `[{"Value":"usr_1","Display":""}]`, true, ""},
		{"one object", `{"members": {"value": "usr_1"}}`, `[{"Value":"usr_1","Display":""}]`, true, ""},
		{"JSON text", `{"members": "[{\"value\": \"usr_1\", \"display\": \"B\"}]"}`, `[{"Value":"usr_1","Display":"B"}]`, true, ""},
		{"empty list empties the group", `{"members": []}`, `[]`, true, ""},
		{"no members key", `{"displayName": "x"}`, `null`, false, ""},
		{"bare string", `{"members": "string id 1"}`, "", true, `"string id 1"`},
		{"list of bare strings", `{"members": ["usr_1"]}`, "", true, `"usr_1"`},
		{"member without value", `{"members": [{"display": "A"}]}`, "", true, `non-empty string "value"`},
		{"member with a number", `{"members": [{"value": 5}]}`, "", true, `non-empty string "value"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, present, err := document.Group.Members(decodeObject(t, tt.body))
			if tt.wantErr != "" {
				wantScimError(t, err, scimerrors.ScimTypeInvalidValue, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Members: %v", err)
			}
			if present != tt.wantPresent || toJSON(decode(t, toJSON(ids))) != toJSON(decode(t, tt.want)) {
				t.Errorf("Members = %s, %v; want %s, %v", toJSON(ids), present, tt.want, tt.wantPresent)
			}
		})
	}
	if ids, present, err := document.User.Members(decodeObject(t, `{"members": [{"value": "x"}]}`)); ids != nil || present || err != nil {
		t.Errorf("User.Members = %v, %v, %v; want nothing", ids, present, err)
	}
}

func TestNormalizeIsIdempotent(t *testing.T) {
	body := decodeObject(t, `{"userName": "u", "Active": "True", "emails": {"value": "a", "primary": "true"}, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m"}}`)
	once, err := document.User.Normalize(body)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := document.User.Normalize(document.Clone(once))
	if err != nil {
		t.Fatal(err)
	}
	if toJSON(once) != toJSON(twice) {
		t.Errorf("Normalize(Normalize(x)) = %s, want %s", toJSON(twice), toJSON(once))
	}
}
