package document_test

import (
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
)

// bjensen is RFC 7643 §8.2's full User, as Match sees it: the document plus
// id and meta.
const bjensen = `{
	"id": "2819c223-7f76-453a-919d-413861904646",
	"externalId": "701984",
	"userName": "bjensen@example.com",
	"name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
	"displayName": "Babs Jensen",
	"title": "Tour Guide",
	"userType": "Employee",
	"active": true,
	"emails": [
		{"value": "bjensen@example.com", "type": "work", "primary": true},
		{"value": "babs@jensen.org", "type": "home"}
	],
	"ims": [{"value": "someaimhandle", "type": "aim"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
		"employeeNumber": "701984",
		"department": "Tour Operations",
		"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d"}
	},
	"meta": {
		"resourceType": "User",
		"created": "2010-01-23T04:56:22Z",
		"lastModified": "2011-05-13T04:42:34.123-07:00",
		"version": "W/\"3694e05e9dff591\""
	}
}`

func TestMatchUser(t *testing.T) {
	doc := decodeObject(t, bjensen)
	tests := []struct {
		filter string
		want   bool
	}{
		// eq and case sensitivity per attribute
		{`userName eq "bjensen@example.com"`, true},
		{`userName eq "BJensen@Example.com"`, true}, // caseExact false
		{`UserName Eq "bjensen@example.com"`, true},
		// an enterprise attribute named without its URN
		{`department eq "Tour Operations"`, true},
		{`manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`externalId eq "701984"`, true},
		{`id eq "2819C223-7F76-453A-919D-413861904646"`, false}, // caseExact true
		{`id eq "2819c223-7f76-453a-919d-413861904646"`, true},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.com"`, true},
		{`displayName eq "Babs"`, false},
		// co sw ew
		{`name.familyName co "ENS"`, true},
		{`name.FamilyName sw "jen"`, true},
		{`userName ew "@EXAMPLE.COM"`, true},
		{`userName co ""`, true},
		{`title sw "Guide"`, false},
		// ne
		{`userType ne "Employee"`, false},
		{`userType ne "Intern"`, true},
		{`nickName ne "Babs"`, true}, // no value: not equal
		{`emails.type ne "work"`, false},
		// pr
		{`title pr`, true},
		{`nickName pr`, false},
		{`emails pr`, true},
		{`name pr`, true},
		{`phoneNumbers pr`, false},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr`, true},
		// multi-valued: any element
		{`emails.value eq "babs@jensen.org"`, true},
		{`emails.type eq "other"`, false},
		{`emails co "jensen.org"`, true}, // complex without sub-attribute: its value
		{`emails eq "BABS@jensen.org"`, true},
		{`emails.primary eq true`, true},
		// value filters test one element at a time
		{`emails[type eq "work" and value co "@example.com"]`, true},
		{`emails[type eq "home" and value co "@example.com"]`, false},
		{`emails.type eq "home" and emails.value co "@example.com"`, true}, // different elements may match
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, true},
		{`emails[not (type eq "work")]`, true},
		{`emails[primary eq true and type eq "home"]`, false},
		// logic and precedence: and binds tighter than or, not tightest
		{`title pr and userType eq "Employee"`, true},
		{`title pr and userType eq "Intern"`, false},
		{`userType eq "Intern" or title pr`, true},
		{`userType eq "Intern" and title pr or active eq true`, true},
		{`userType eq "Intern" and (title pr or active eq true)`, false},
		{`not (userName eq "x")`, true},
		{`not (userName eq "bjensen@example.com")`, false},
		{`userType eq "Employee" and not (emails co "example.com" or emails.value co "example.org")`, false},
		// booleans, including the strings Entra sends
		{`active eq true`, true},
		{`active eq false`, false},
		{`active ne false`, true},
		{`active eq "True"`, true},
		// dateTimes compare as instants
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, true},
		{`meta.lastModified eq "2011-05-13T11:42:34.123Z"`, true}, // same instant, other offset
		{`meta.lastModified lt "2011-05-13T11:42:34.124Z"`, true},
		{`meta.created ge "2010-01-23T04:56:22Z"`, true},
		{`meta.created gt "2010-01-23T04:56:22Z"`, false},
		{`meta.created gt "2015-10-10T14:38:21.8617979-07:00"`, false},
		{`meta.resourceType eq "User"`, true},
		{`meta.version eq "W/\"3694e05e9dff591\""`, true},
		// string ordering
		{`userName gt "a"`, true},
		{`userName lt "B"`, false}, // case-insensitive: "bjensen" > "b"
		{`name.givenName ge "barbara"`, true},
		// the enterprise extension
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 701984`, true}, // number compared as text
		// null
		{`nickName eq null`, true},
		{`title eq null`, false},
		{`title ne null`, true},
		// unknown attributes never match
		{`members eq "x"`, false},
		{`adreses pr`, false},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			if got := document.User.Match(mustParseFilter(t, tt.filter), doc); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchGroupMembersWhenAttached(t *testing.T) {
	doc := decodeObject(t, `{"id": "grp_1", "displayName": "Sales", "members": [{"value": "usr_1"}, {"value": "usr_2", "type": "User"}]}`)
	tests := []struct {
		filter string
		want   bool
	}{
		{`id eq "grp_1" and members eq "usr_1"`, true},
		{`members eq "usr_3"`, false},
		{`members[value eq "usr_2" and type eq "user"]`, true},
		{`members.value eq "usr_2"`, true},
		{`displayName eq "sales"`, true},
		{`displayName eq "Sales" and not (members pr)`, false},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			if got := document.Group.Match(mustParseFilter(t, tt.filter), doc); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchNilFilterMatchesEverything(t *testing.T) {
	if !document.User.Match(nil, map[string]any{}) {
		t.Error("Match(nil) = false, want true")
	}
}

func TestValidateFilter(t *testing.T) {
	tests := []struct {
		rt      *document.ResourceType
		filter  string
		wantErr string // a fragment of the detail, "" for valid
	}{
		{document.User, `userName eq "bjensen"`, ""},
		{document.User, `id eq "x" and externalId eq "y" and meta.created gt "2011-05-13T04:42:34Z"`, ""},
		{document.User, `meta.lastModified gt "2011-05-13T04:42:34Z" and meta.resourceType eq "User" and meta.version eq "x"`, ""},
		{document.User, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, ""},
		{document.User, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`, ""},
		{document.User, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`, ""},
		{document.User, `emails[type eq "work" and value co "@x"] or not (title pr)`, ""},
		{document.User, `emails co "x" and name pr and active eq "False"`, ""},
		{document.User, `meta.created gt "2015-10-10T14:38:21.8617979-07:00"`, ""},
		{document.Group, `displayName eq "Sales" and members eq "usr_1"`, ""},
		{document.User, `adreses pr`, `"adreses"`},
		{document.User, `name.nickName eq "x"`, `"name.nickName"`},
		{document.User, `urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x"`, "displayName"},
		{document.Group, `userName eq "x"`, `"userName"`},
		{document.User, `active gt true`, "active is boolean"},
		{document.User, `emails.primary lt false`, "emails.primary is boolean"},
		{document.User, `active eq "yes"`, "true or false"},
		{document.User, `x509Certificates.value gt "MII"`, "binary"},
		{document.User, `meta.created gt "yesterday"`, "RFC 3339"},
		{document.User, `meta.created gt 5`, "dateTime"},
		{document.User, `name eq "Barbara"`, "name is complex"},
		{document.User, `emails[kind eq "work"]`, `"kind"`},
		{document.User, `userName[value eq "x"]`, "complex attribute"},
		{document.User, `title gt null`, "null"},
	}
	for _, tt := range tests {
		t.Run(tt.rt.Name()+" "+tt.filter, func(t *testing.T) {
			err := tt.rt.ValidateFilter(mustParseFilter(t, tt.filter))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateFilter: %v", err)
				}
				return
			}
			wantScimError(t, err, scimerrors.ScimTypeInvalidFilter, tt.wantErr)
		})
	}
}

func TestIndexedEquals(t *testing.T) {
	indexed := []string{"id", "userName", "externalId"}
	tests := []struct {
		filter          string
		wantAttr, value string
	}{
		{`userName eq "bjensen"`, "userName", "bjensen"},
		{`USERNAME eq "BJensen"`, "userName", "BJensen"},
		{`externalId eq "00u1dhhb1fkIGP7RL1d8"`, "externalId", "00u1dhhb1fkIGP7RL1d8"},
		{`externalId eq 12345`, "externalId", "12345"},
		{`active eq true and userName eq "x"`, "userName", "x"},
		{`userName eq "x" and id eq "usr_1"`, "id", "usr_1"}, // attrs order wins
		{`title pr and (userType eq "a" and externalId eq "e")`, "externalId", "e"},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, "userName", "x"},
		{`userName eq "x" or userName eq "y"`, "", ""},
		{`not (userName eq "x")`, "", ""},
		{`userName sw "x"`, "", ""},
		{`userName eq null`, "", ""},
		{`name.givenName eq "x"`, "", ""},
		{`emails[value eq "x"]`, "", ""},
		{`displayName eq "x"`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			attr, value, ok := document.IndexedEquals(mustParseFilter(t, tt.filter), indexed...)
			if ok != (tt.wantAttr != "") || attr != tt.wantAttr || value != tt.value {
				t.Errorf("IndexedEquals = %q, %q, %v; want %q, %q", attr, value, ok, tt.wantAttr, tt.value)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	tests := []struct {
		filter string
		want   bool
	}{
		{`displayName eq "x" and members eq "usr_1"`, true},
		{`not (Members[value eq "usr_1"])`, true},
		{`members.value eq "x"`, true},
		{`displayName eq "members"`, false},
		{`externalId pr`, false},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			if got := document.References(mustParseFilter(t, tt.filter), "members"); got != tt.want {
				t.Errorf("References = %v, want %v", got, tt.want)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	doc := decodeObject(b, bjensen)
	expr := mustParseFilter(b, `emails[type eq "work" and value co "@EXAMPLE.com"] and userName sw "BJ" and meta.lastModified gt "2011-05-13T04:42:34Z"`)
	b.ReportAllocs()
	for b.Loop() {
		if !document.User.Match(expr, doc) {
			b.Fatal("no match")
		}
	}
}
