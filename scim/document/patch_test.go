package document_test

import (
	"fmt"
	"reflect"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/rolecall/rolecall/scim/document"
)

const (
	enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

	patchUser = `{
		"userName": "bjensen",
		"name": {"givenName": "Barbara", "familyName": "Jensen"},
		"active": true,
		"title": "Tour Guide",
		"emails": [
			{"value": "bjensen@example.com", "type": "work", "primary": true},
			{"value": "babs@jensen.org", "type": "home"}
		],
		"addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
			"department": "Tour Operations",
			"manager": {"value": "m0", "$ref": "../Users/m0"}
		}
	}`
	minimalUser = `{"userName": "u"}`
	patchGroup  = `{"displayName": "Sales"}`
)

// patchCase applies ops to doc. It expects either want (the resulting
// document) or errType, and the MemberEditor calls in calls.
type patchCase struct {
	name      string
	rt        *document.ResourceType
	doc, ops  string
	want      string
	calls     []string
	errType   scimerrors.ScimType
	errDetail []string
}

func (tc patchCase) run(t *testing.T) {
	t.Helper()
	original := decodeObject(t, tc.doc)
	doc := document.Clone(original)
	editor := &recordingEditor{}
	err := tc.rt.Apply(doc, decodeOps(t, tc.ops), editor)
	if tc.errType != "" {
		wantScimError(t, err, tc.errType, tc.errDetail...)
	} else {
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if !sameJSON(t, doc, tc.want) {
			t.Errorf("document after Apply =\n%s\nwant\n%s", toJSON(doc), tc.want)
		}
	}
	if fmt.Sprint(editor.calls) != fmt.Sprint(tc.calls) {
		t.Errorf("MemberEditor calls = %v, want %v", editor.calls, tc.calls)
	}
	if !reflect.DeepEqual(original, decodeObject(t, tc.doc)) {
		t.Errorf("Apply changed the original through the Clone")
	}
}

func TestApplyRFC7644Examples(t *testing.T) {
	for _, tc := range []patchCase{
		{
			name: "add a member (3.5.2.1)",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"add","path":"members","value":[{"display":"Babs Jensen","$ref":"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646","value":"2819c223-7f76-453a-919d-413861904646"}]}]`,
			want:  patchGroup,
			calls: []string{`Add["2819c223-7f76-453a-919d-413861904646"]`},
		},
		{
			name: "add attributes without a path (3.5.2.1)",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickname":"Babs"}}]`,
			want: `{"userName":"u","emails":[{"value":"babs@jensen.org","type":"home"}],"nickName":"Babs"}`,
		},
		{
			name: "remove all members (3.5.2.2)",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"remove","path":"members"}]`,
			want:  patchGroup,
			calls: []string{"RemoveAll"},
		},
		{
			name: "remove one member by filter (3.5.2.2)",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"remove","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]`,
			want:  patchGroup,
			calls: []string{`Remove["2819c223-7f76-453a-919d-413861904646"]`},
		},
		{
			name: "remove matching emails (3.5.2.2)",
			rt:   document.User, doc: patchUser,
			ops:  `[{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}]`,
			want: `{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"title":"Tour Guide","emails":[{"value":"babs@jensen.org","type":"home"}],"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood"}],"` + enterprise + `":{"department":"Tour Operations","manager":{"value":"m0","$ref":"../Users/m0"}}}`,
		},
		{
			name: "remove all members, then add some (3.5.2.2)",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"remove","path":"members"},{"op":"add","path":"members","value":[{"display":"James Smith","value":"08e1d05d"},{"display":"Babs","value":"2819c223"}]}]`,
			want:  patchGroup,
			calls: []string{"RemoveAll", `Add["08e1d05d","2819c223"]`},
		},
		{
			name: "replace all members (3.5.2.3)",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"replace","path":"members","value":[{"display":"Babs","value":"2819c223"},{"value":"902c246b"}]}]`,
			want:  patchGroup,
			calls: []string{`Replace["2819c223","902c246b"]`},
		},
		{
			name: "replace a work address (3.5.2.3): given sub-attributes replace, others stay",
			rt:   document.User, doc: `{"userName":"u","addresses":[{"type":"work","streetAddress":"old","locality":"Hollywood"},{"type":"home","streetAddress":"456"}]}`,
			ops:  `[{"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"911 Universal City Plaza","postalCode":"91608","primary":true}}]`,
			want: `{"userName":"u","addresses":[{"type":"work","streetAddress":"911 Universal City Plaza","locality":"Hollywood","postalCode":"91608","primary":true},{"type":"home","streetAddress":"456"}]}`,
		},
		{
			name: "replace one sub-attribute of a work address (3.5.2.3)",
			rt:   document.User, doc: `{"userName":"u","addresses":[{"type":"work","streetAddress":"old"}]}`,
			ops:  `[{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1010 Broadway Ave"}]`,
			want: `{"userName":"u","addresses":[{"type":"work","streetAddress":"1010 Broadway Ave"}]}`,
		},
		{
			name: "replace attributes without a path (3.5.2.3): a multi-valued one as a whole",
			rt:   document.User, doc: patchUser,
			ops:  `[{"op":"replace","value":{"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"nickname":"Babs"}}]`,
			want: `{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,"title":"Tour Guide","nickName":"Babs","emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood"}],"` + enterprise + `":{"department":"Tour Operations","manager":{"value":"m0","$ref":"../Users/m0"}}}`,
		},
	} {
		t.Run(tc.name, tc.run)
	}
}

func TestApplyIdentityProviderQuirks(t *testing.T) {
	for _, tc := range []patchCase{
		{
			name: "Entra names the enterprise manager without its URN",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"Add","path":"manager","value":[{"$ref":"../Users/m1","value":"m1"}]}]`,
			want: `{"userName":"u","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"$ref":"../Users/m1","value":"m1"}}}`,
		},
		{
			name: "Okta deactivates with a pathless replace",
			rt:   document.User, doc: `{"userName":"u","active":true}`,
			ops:  `[{"op":"replace","value":{"active":false}}]`,
			want: `{"userName":"u","active":false}`,
		},
		{
			name: "Okta renames a group and sends its id along",
			rt:   document.Group, doc: `{"displayName":"Old","externalId":"e"}`,
			ops:  `[{"op":"replace","value":{"id":"g1","displayName":"New"}}]`,
			want: `{"displayName":"New","externalId":"e"}`,
		},
		{
			name: "Entra sends booleans as strings",
			rt:   document.User, doc: `{"userName":"u","active":true}`,
			ops:  `[{"op":"Replace","path":"active","value":"False"}]`,
			want: `{"userName":"u","active":false}`,
		},
		{
			name: "Entra capitalises op names",
			rt:   document.User, doc: `{"userName":"u","nickName":"n"}`,
			ops:  `[{"op":"Add","path":"title","value":"X"},{"op":"REPLACE","path":"DisplayName","value":"B"},{"op":"Remove","path":"nickName"}]`,
			want: `{"userName":"u","title":"X","displayName":"B"}`,
		},
		{
			name: "Entra adds a work email that does not exist yet",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@y"}]`,
			want: `{"userName":"u","emails":[{"type":"work","value":"x@y"}]}`,
		},
		{
			name: "Entra adds to an existing work email",
			rt:   document.User, doc: `{"userName":"u","emails":[{"type":"work","value":"old@y","primary":true}]}`,
			ops:  `[{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@y"}]`,
			want: `{"userName":"u","emails":[{"type":"work","value":"x@y","primary":true}]}`,
		},
		{
			name: "adds with the same filter fill in one element",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"Add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main"},{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Seattle"},{"op":"Add","path":"addresses[type eq \"work\"].primary","value":"True"}]`,
			want: `{"userName":"u","addresses":[{"type":"work","streetAddress":"1 Main","locality":"Seattle","primary":true}]}`,
		},
		{
			name: "Entra replaces with dotted and URN-qualified keys",
			rt:   document.User, doc: patchUser,
			ops:  `[{"op":"Replace","value":{"name.givenName":"A","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"D"}}]`,
			want: `{"userName":"bjensen","name":{"givenName":"A","familyName":"Jensen"},"active":true,"title":"Tour Guide","emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],"addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood"}],"` + enterprise + `":{"department":"D","manager":{"value":"m0","$ref":"../Users/m0"}}}`,
		},
		{
			name: "Entra removes listed members only",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]`,
			want:  patchGroup,
			calls: []string{`Remove["u1"]`},
		},
		{
			name: "members sent as JSON text",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"add","path":"members","value":"[{\"value\":\"u1\"},{\"value\":\"u2\"}]"}]`,
			want:  patchGroup,
			calls: []string{`Add["u1","u2"]`},
		},
		{
			name: "manager as a bare id: a new manager drops the stale $ref",
			rt:   document.User, doc: `{"userName":"u","` + enterprise + `":{"manager":{"value":"m0","$ref":"../Users/m0"}}}`,
			ops:  `[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]`,
			want: `{"userName":"u","` + enterprise + `":{"manager":{"value":"m1"}}}`,
		},
		{
			name: "manager as an object",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m1"}}]`,
			want: `{"userName":"u","` + enterprise + `":{"manager":{"value":"m1"}}}`,
		},
		{
			name: "manager as a list",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":[{"$ref":"../Users/m1","value":"m1"}]}]`,
			want: `{"userName":"u","` + enterprise + `":{"manager":{"$ref":"../Users/m1","value":"m1"}}}`,
		},
		{
			name: "the same manager keeps its $ref",
			rt:   document.User, doc: `{"userName":"u","` + enterprise + `":{"manager":{"value":"m0","$ref":"../Users/m0"}}}`,
			ops:  `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m0","displayName":"read-only, dropped"}}]`,
			want: `{"userName":"u","` + enterprise + `":{"manager":{"value":"m0","$ref":"../Users/m0"}}}`,
		},
		{
			name: "complex value as JSON text",
			rt:   document.User, doc: `{"userName":"u","name":{"familyName":"J"}}`,
			ops:  `[{"op":"replace","path":"name","value":"{\"givenName\":\"X\"}"}]`,
			want: `{"userName":"u","name":{"givenName":"X","familyName":"J"}}`,
		},
		{
			name: "a null value clears",
			rt:   document.User, doc: `{"userName":"u","title":"T","name":{"givenName":"G","familyName":"F","middleName":"M"}}`,
			ops:  `[{"op":"Replace","path":"title","value":null},{"op":"Add","path":"name.givenName","value":null},{"op":"replace","value":{"name":{"familyName":null}}}]`,
			want: `{"userName":"u","name":{"middleName":"M"}}`,
		},
		{
			name: "a null sub-attribute in a filtered replace clears only that sub-attribute",
			rt:   document.User, doc: `{"userName":"u","emails":[{"value":"a@x","type":"work","display":"A"}]}`,
			ops:  `[{"op":"replace","path":"emails[type eq \"work\"]","value":{"display":null}}]`,
			want: `{"userName":"u","emails":[{"value":"a@x","type":"work"}]}`,
		},
		{
			name: "clearing the last name part removes name",
			rt:   document.User, doc: `{"userName":"u","name":{"familyName":"F"}}`,
			ops:  `[{"op":"replace","path":"name","value":{"familyName":null}}]`,
			want: `{"userName":"u"}`,
		},
		{
			name: "unknown and read-only keys of a pathless value are skipped",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"replace","value":{"adreses":"x","groups":[{"value":"g"}],"meta":{"version":"1"},"schemas":["x"],"password":"p","title":"T"}}]`,
			want: `{"userName":"u","title":"T"}`,
		},
		{
			name: "password is accepted and never stored",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"replace","path":"password","value":"p4ssw0rd"}]`,
			want: minimalUser,
		},
		{
			name: "a pathless members key goes to the editor",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"replace","value":{"displayName":"X","members":[{"value":"u1"}]}}]`,
			want:  `{"displayName":"X"}`,
			calls: []string{`Replace["u1"]`},
		},
	} {
		t.Run(tc.name, tc.run)
	}
}

func TestApplySemantics(t *testing.T) {
	for _, tc := range []patchCase{
		{
			name: "add appends new values and skips exact duplicates",
			rt:   document.User, doc: `{"userName":"u","emails":[{"value":"a@x","type":"home"}]}`,
			ops:  `[{"op":"add","path":"emails","value":[{"value":"a@x","type":"home"},{"value":"b@x","type":"other"}]}]`,
			want: `{"userName":"u","emails":[{"value":"a@x","type":"home"},{"value":"b@x","type":"other"}]}`,
		},
		{
			name: "add of a primary value demotes the old primary",
			rt:   document.User, doc: `{"userName":"u","emails":[{"value":"a@x","primary":true}]}`,
			ops:  `[{"op":"add","path":"emails","value":{"value":"b@x","primary":"true"}}]`,
			want: `{"userName":"u","emails":[{"value":"a@x","primary":false},{"value":"b@x","primary":true}]}`,
		},
		{
			name: "replacing the primary through a filter demotes the others",
			rt:   document.User, doc: `{"userName":"u","emails":[{"value":"a@x","type":"work","primary":true},{"value":"b@x","type":"home"}]}`,
			ops:  `[{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}]`,
			want: `{"userName":"u","emails":[{"value":"a@x","type":"work","primary":false},{"value":"b@x","type":"home","primary":true}]}`,
		},
		{
			name: "replace of a complex attribute keeps unnamed sub-attributes",
			rt:   document.User, doc: `{"userName":"u","name":{"givenName":"Barbara","familyName":"Jensen"}}`,
			ops:  `[{"op":"replace","path":"name","value":{"givenName":"Babs"}}]`,
			want: `{"userName":"u","name":{"givenName":"Babs","familyName":"Jensen"}}`,
		},
		{
			name: "replace of a multi-valued attribute replaces the list",
			rt:   document.User, doc: `{"userName":"u","emails":[{"value":"a@x"},{"value":"b@x"}]}`,
			ops:  `[{"op":"replace","path":"emails","value":[{"value":"c@x"}]}]`,
			want: `{"userName":"u","emails":[{"value":"c@x"}]}`,
		},
		{
			name: "a filter can test booleans",
			rt:   document.User, doc: `{"userName":"u","emails":[{"value":"a@x","primary":true},{"value":"b@x"}]}`,
			ops:  `[{"op":"replace","path":"emails[primary eq true].value","value":"new@x"}]`,
			want: `{"userName":"u","emails":[{"value":"new@x","primary":true},{"value":"b@x"}]}`,
		},
		{
			name: "remove of a missing value does nothing",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"remove","path":"nickName"},{"op":"remove","path":"emails[type eq \"work\"]"},{"op":"remove","path":"name.givenName"},{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
			want: minimalUser,
		},
		{
			name: "remove of a sub-attribute from matching elements",
			rt:   document.User, doc: `{"userName":"u","emails":[{"value":"a@x","type":"work","primary":true},{"value":"b@x","type":"home","primary":false}]}`,
			ops:  `[{"op":"remove","path":"emails[type eq \"work\"].primary"}]`,
			want: `{"userName":"u","emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home","primary":false}]}`,
		},
		{
			name: "remove with a value list removes the listed values only",
			rt:   document.User, doc: `{"userName":"u","emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home"}]}`,
			ops:  `[{"op":"remove","path":"emails","value":[{"value":"B@X"}]}]`,
			want: `{"userName":"u","emails":[{"value":"a@x","type":"work"}]}`,
		},
		{
			name: "removing the last extension attribute removes the extension",
			rt:   document.User, doc: `{"userName":"u","` + enterprise + `":{"manager":{"value":"m0"}}}`,
			ops:  `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
			want: minimalUser,
		},
		{
			name: "a whole extension as the path: keys are merged, unknown ones skipped",
			rt:   document.User, doc: `{"userName":"u","` + enterprise + `":{"department":"Old","manager":{"value":"m0"}}}`,
			ops:  `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"New","unknown":1}}]`,
			want: `{"userName":"u","` + enterprise + `":{"department":"New","manager":{"value":"m0"}}}`,
		},
		{
			name: "a pathless extension object",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","employeeNumber":"7"}}}]`,
			want: `{"userName":"u","` + enterprise + `":{"department":"D","employeeNumber":"7"}}`,
		},
		{
			name: "a URN-qualified core path",
			rt:   document.User, doc: minimalUser,
			ops:  `[{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName","value":"J"}]`,
			want: `{"userName":"u","name":{"familyName":"J"}}`,
		},
		{
			name: "remove of members with a filter other than value eq goes to RemoveWhere",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"remove","path":"members[type eq \"Group\"]"},{"op":"remove","path":"members[value eq \"a\" or value eq \"b\"]"}]`,
			want:  patchGroup,
			calls: []string{`RemoveWhere(type eq "Group")`, `Remove["a","b"]`},
		},
		{
			name: "a remove of members with an empty list removes nothing",
			rt:   document.Group, doc: patchGroup,
			ops:  `[{"op":"remove","path":"members","value":[]}]`,
			want: patchGroup,
		},
		{
			name: "replace of members with null empties the group",
			rt:   document.Group, doc: patchGroup,
			ops:   `[{"op":"replace","path":"members","value":null}]`,
			want:  patchGroup,
			calls: []string{"Replace[]"},
		},
	} {
		t.Run(tc.name, tc.run)
	}
}

func TestApplyRejects(t *testing.T) {
	for _, tc := range []patchCase{
		{name: "unknown op", rt: document.User, doc: minimalUser,
			ops: `[{"op":"delete","path":"title"}]`, errType: scimerrors.ScimTypeInvalidValue, errDetail: []string{`"delete"`, "Operations[0]"}},
		{name: "remove without a path", rt: document.User, doc: minimalUser,
			ops: `[{"op":"remove"}]`, errType: scimerrors.ScimTypeNoTarget},
		{name: "replace whose filter matches nothing", rt: document.User, doc: patchUser,
			ops: `[{"op":"replace","path":"emails[type eq \"other\"].value","value":"x"}]`, errType: scimerrors.ScimTypeNoTarget, errDetail: []string{"emails"}},
		{name: "add whose filter cannot describe a new element", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"emails[type eq \"a\" or type eq \"b\"].value","value":"x"}]`, errType: scimerrors.ScimTypeNoTarget},
		{name: "unknown attribute", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"adreses","value":"x"}]`, errType: scimerrors.ScimTypeInvalidPath, errDetail: []string{`"adreses"`}},
		{name: "unknown sub-attribute", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"name.nick","value":"x"}]`, errType: scimerrors.ScimTypeInvalidPath, errDetail: []string{"name.nick"}},
		{name: "unparsable path", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"emails[type eq \"work\"","value":"x"}]`, errType: scimerrors.ScimTypeInvalidPath},
		{name: "value filter on a single-valued attribute", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"name[givenName eq \"x\"].familyName","value":"x"}]`, errType: scimerrors.ScimTypeInvalidPath},
		{name: "value filter with an unknown sub-attribute", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"emails[kind eq \"work\"].value","value":"x"}]`, errType: scimerrors.ScimTypeInvalidFilter, errDetail: []string{`"kind"`}},
		{name: "members on a User", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"members","value":[{"value":"u1"}]}]`, errType: scimerrors.ScimTypeInvalidPath},
		{name: "remove of a required attribute", rt: document.User, doc: minimalUser,
			ops: `[{"op":"remove","path":"userName"}]`, errType: scimerrors.ScimTypeMutability, errDetail: []string{"userName"}},
		{name: "remove of a Group's displayName", rt: document.Group, doc: patchGroup,
			ops: `[{"op":"remove","path":"displayName"}]`, errType: scimerrors.ScimTypeMutability},
		{name: "null for a required attribute", rt: document.User, doc: minimalUser,
			ops: `[{"op":"replace","value":{"userName":null}}]`, errType: scimerrors.ScimTypeMutability},
		{name: "empty required attribute", rt: document.User, doc: minimalUser,
			ops: `[{"op":"replace","path":"userName","value":""}]`, errType: scimerrors.ScimTypeInvalidValue, errDetail: []string{"userName"}},
		{name: "replace of id", rt: document.User, doc: minimalUser,
			ops: `[{"op":"replace","path":"id","value":"x"}]`, errType: scimerrors.ScimTypeMutability, errDetail: []string{"id is read-only"}},
		{name: "replace of meta.created", rt: document.User, doc: minimalUser,
			ops: `[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]`, errType: scimerrors.ScimTypeMutability},
		{name: "add to groups", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"groups","value":[{"value":"g"}]}]`, errType: scimerrors.ScimTypeMutability},
		{name: "manager.displayName is read-only", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}]`, errType: scimerrors.ScimTypeMutability},
		{name: "a boolean that is not one", rt: document.User, doc: minimalUser,
			ops: `[{"op":"replace","path":"active","value":"maybe"}]`, errType: scimerrors.ScimTypeInvalidValue, errDetail: []string{"active"}},
		{name: "a binary value that is not base64", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"x509Certificates","value":[{"value":"not base64!"}]}]`, errType: scimerrors.ScimTypeInvalidValue, errDetail: []string{"x509Certificates.value is binary"}},
		{name: "a pathless value that is not an object", rt: document.User, doc: minimalUser,
			ops: `[{"op":"replace","value":"x"}]`, errType: scimerrors.ScimTypeInvalidValue},
		{name: "a bare string member", rt: document.Group, doc: patchGroup,
			ops: `[{"op":"add","path":"members","value":"string id 1"}]`, errType: scimerrors.ScimTypeInvalidValue, errDetail: []string{`"string id 1"`}},
		{name: "a member list of bare strings", rt: document.Group, doc: patchGroup,
			ops: `[{"op":"Remove","path":"members","value":["u1"]}]`, errType: scimerrors.ScimTypeInvalidValue},
		{name: "add with a member filter", rt: document.Group, doc: patchGroup,
			ops: `[{"op":"add","path":"members[value eq \"u1\"]","value":{"value":"u1"}}]`, errType: scimerrors.ScimTypeInvalidPath},
		{name: "replace of a member in place", rt: document.Group, doc: patchGroup,
			ops: `[{"op":"replace","path":"members[value eq \"u1\"]","value":{"value":"u2"}}]`, errType: scimerrors.ScimTypeMutability},
		{name: "a member sub-attribute", rt: document.Group, doc: patchGroup,
			ops: `[{"op":"replace","path":"members[value eq \"u1\"].display","value":"x"}]`, errType: scimerrors.ScimTypeMutability},
		{name: "the error names the failing operation", rt: document.User, doc: minimalUser,
			ops: `[{"op":"add","path":"title","value":"x"},{"op":"add","path":"bogus","value":"x"}]`, errType: scimerrors.ScimTypeInvalidPath, errDetail: []string{"Operations[1]", `path "bogus"`}},
	} {
		t.Run(tc.name, tc.run)
	}
}

func TestApplyReturnsMemberEditorErrorsUnchanged(t *testing.T) {
	unknown := scimerrors.ScimError{ScimType: scimerrors.ScimTypeInvalidValue, Detail: "unknown member usr_9", Status: 400}
	editor := &recordingEditor{err: unknown}
	err := document.Group.Apply(decodeObject(t, patchGroup), decodeOps(t, `[{"op":"add","path":"members","value":[{"value":"usr_9"}]}]`), editor)
	if err != unknown {
		t.Errorf("Apply = %#v, want the editor's error %#v", err, unknown)
	}
}

func TestApplyGroupMembersWithoutEditorIsAnInternalError(t *testing.T) {
	err := document.Group.Apply(decodeObject(t, patchGroup), decodeOps(t, `[{"op":"add","path":"members","value":[{"value":"u"}]}]`), nil)
	se, ok := err.(scimerrors.ScimError)
	if !ok || se.Status != 500 {
		t.Errorf("Apply = %v, want a 500 ScimError", err)
	}
}

// memberOps returns n operations alternating "add members" and
// "remove members[value eq …]" with distinct ids, as an IdP syncing a large
// group sends them.
func memberOps(n int) []document.Operation {
	ops := make([]document.Operation, n)
	for i := range ops {
		id := fmt.Sprintf("usr_%08d-7f76-453a-919d-413861904646", i)
		if i%2 == 0 {
			ops[i] = document.Operation{Op: "add", Path: "members", Value: []any{map[string]any{"value": id}}}
		} else {
			ops[i] = document.Operation{Op: "remove", Path: `members[value eq "` + id + `"]`}
		}
	}
	return ops
}

func benchmarkApply(b *testing.B, ops []document.Operation) {
	n := len(ops)
	doc := map[string]any{"displayName": "Sales"}
	editor := &countingEditor{}
	b.ReportAllocs()
	for b.Loop() {
		if err := document.Group.Apply(doc, ops, editor); err != nil {
			b.Fatal(err)
		}
	}
	if editor.calls != n*b.N {
		b.Fatalf("editor calls = %d, want %d", editor.calls, n*b.N)
	}
}

// The two single-op benchmarks are the two halves of the 1,000-op mix.
func BenchmarkApply1MemberOp(b *testing.B)       { benchmarkApply(b, memberOps(1)) }
func BenchmarkApply1MemberRemoveOp(b *testing.B) { benchmarkApply(b, memberOps(2)[1:]) }
func BenchmarkApply1000MemberOps(b *testing.B)   { benchmarkApply(b, memberOps(1000)) }
