package dashboard_test

import (
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
)

// permissionKeys lists an API answer's permissions as "identifier scope".
func permissionKeys(out map[string]any) []string {
	var keys []string
	for _, p := range out["permissions"].([]any) {
		m := p.(map[string]any)
		keys = append(keys, m["resource_server_identifier"].(string)+" "+m["permission_name"].(string))
	}
	slices.Sort(keys)
	return keys
}

// pick is the picker option's value for a scope of an API.
func pick(api, scope string) string {
	return url.Values{"api": {api}, "scope": {scope}}.Encode()
}

// TestPermissionsArePickedFromTheAPIsScopes: an API is created with its
// scopes on the APIs page; a role's Permissions tab and a user's page offer
// exactly the scopes not granted yet, grouped by API, and list what is
// granted with the API's name and the scope's description; removing a
// scope or deleting the API asks first, saying the permissions go with it.
func TestPermissionsArePickedFromTheAPIsScopes(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	const api = "https://reports.acme.example"
	b := e.browser()
	b.signIn(adminToken)

	p := b.visit("/dashboard/roles/" + f.admin + "/permissions")
	mustContain(t, "no APIs yet", p.body, "there is no API yet", `href="/dashboard/apis">Create an API</a>`)
	mustNotContain(t, "no APIs yet", p.body, `name="permission_name" required`) // nothing is typed

	b.visit("/dashboard/apis")
	p = b.submit("/dashboard/apis", url.Values{"identifier": {api}, "name": {"Reports"}, "scopes": {"read:reports Read reports\nwrite:reports\n"}})
	mustContain(t, "API page", p.body, "API Reports created", "read:reports", "Read reports", "write:reports", "Add scope")
	rsID := regexp.MustCompile(`<code>(rsv_[^<]+)</code>`).FindStringSubmatch(p.body)
	if rsID == nil {
		t.Fatalf("the API page shows no id:\n%s", p.body)
	}
	apiPage := "/dashboard/apis/" + rsID[1]

	// The role's picker: the API, then one of its scopes.
	p = b.visit("/dashboard/roles/" + f.admin + "/permissions")
	mustContain(t, "picker", p.body, `<option value="`+api+`">Reports</option>`, `data-api="`+api+`"`,
		`value="`+html.EscapeString(pick(api, "read:reports"))+`">read:reports — Read reports</option>`,
		`value="`+html.EscapeString(pick(api, "write:reports"))+`">write:reports</option>`)
	p = b.submit("/dashboard/roles/"+f.admin+"/permissions", url.Values{"permission": {pick(api, "read:reports")}})
	mustContain(t, "granted", p.body, "Permission added", "read:reports", "Read reports", "Reports", api)
	mustNotContain(t, "granted", p.body, html.EscapeString(pick(api, "read:reports"))) // no longer offered
	if got := permissionKeys(e.apiCall("GET", "/roles/"+f.admin+"/permissions", nil, 200)); strings.Join(got, ",") != api+" read:reports" {
		t.Errorf("the role's permissions: %v", got)
	}
	// A scope the API does not define is the API's 400, and nothing changes.
	e.unchanged(func() {
		p := b.submit("/dashboard/roles/"+f.admin+"/permissions", url.Values{"permission": {pick(api, "read:typo")}})
		mustContain(t, "unknown scope", p.body, "HTTP 400")
	})

	// The user's direct permissions: the same picker.
	p = b.visit("/dashboard/users/" + f.alice)
	mustContain(t, "user page", p.body, "Direct permissions", "No direct permissions", `value="`+html.EscapeString(pick(api, "write:reports"))+`"`)
	p = b.submit("/dashboard/users/"+f.alice+"/permissions", url.Values{"permission": {pick(api, "write:reports")}})
	mustContain(t, "user granted", p.body, "Permission granted", "write:reports", "Remove permission write:reports")
	if got := permissionKeys(e.apiCall("GET", "/users/"+f.alice+"/permissions", nil, 200)); strings.Join(got, ",") != api+" write:reports" {
		t.Errorf("alice's direct permissions: %v", got)
	}

	// Removing a scope asks first and warns; confirmed, the role loses it.
	question := "Remove scope read:reports? Every permission that uses it is removed too, from roles and from users, and logins lose it at once."
	mustContain(t, "API page", b.visit(apiPage).body, `data-confirm="`+html.EscapeString(question)+`"`)
	e.unchanged(func() {
		p := b.postWith(apiPage+"/scopes/remove", url.Values{"csrf": {b.csrf}, "value": {"read:reports"}}, nil)
		mustContain(t, "unconfirmed scope removal", p.body, html.EscapeString(question), `name="confirm" value="yes"`)
	})
	p = b.submit(apiPage+"/scopes/remove", url.Values{"value": {"read:reports"}})
	mustContain(t, "scope removed", p.body, "Scope read:reports removed, with the permissions that used it")
	if got := e.apiCall("GET", "/roles/"+f.admin+"/permissions", nil, 200)["permissions"].([]any); len(got) != 0 {
		t.Errorf("the role's permissions after removing the scope: %v, want none", got)
	}
	// Adding a scope, and changing a description by adding it again.
	b.submit(apiPage+"/scopes", url.Values{"value": {"export:reports"}, "description": {"Export"}})
	p = b.submit(apiPage+"/scopes", url.Values{"value": {"write:reports"}, "description": {"Write reports"}})
	mustContain(t, "scopes", p.body, "Scope write:reports saved", "export:reports", "Write reports")
	b.submit(apiPage, url.Values{"name": {"Reporting"}})
	if got := e.apiCall("GET", "/resource-servers/"+rsID[1], nil, 200); got["name"] != "Reporting" || len(got["scopes"].([]any)) != 2 {
		t.Errorf("the API after edits: %v, want name Reporting and 2 scopes", got)
	}

	// Deleting the API asks first; confirmed, the user's permission goes.
	e.unchanged(func() {
		p := b.postWith(apiPage+"/delete", url.Values{"csrf": {b.csrf}, "name": {"Reporting"}}, nil)
		mustContain(t, "unconfirmed delete", p.body, "Delete API Reporting? Every permission on it is removed too")
	})
	p = b.submit(apiPage+"/delete", url.Values{"name": {"Reporting"}})
	mustContain(t, "API deleted", p.body, "API Reporting deleted, with every permission on it", "No APIs yet")
	if got := e.apiCall("GET", "/users/"+f.alice+"/permissions", nil, 200)["permissions"].([]any); len(got) != 0 {
		t.Errorf("alice's direct permissions after the API's deletion: %v, want none", got)
	}
}

// TestPermissionPickerNeedsReadResourceServers: a key that may change roles
// but not read the APIs is told why it cannot pick, and a key that may only
// read sees no picker and no remove button.
func TestPermissionPickerNeedsReadResourceServers(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	e.apiCall("POST", "/resource-servers", map[string]any{"identifier": "https://api.acme.example", "name": "Acme", "scopes": []map[string]string{{"value": "read:all"}}}, 201)
	e.apiCall("POST", "/roles/"+f.admin+"/permissions", map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "https://api.acme.example", "permission_name": "read:all"}}}, 201)

	_, editor := e.key("editor", api.ScopeReadRoles, api.ScopeUpdateRoles)
	b := e.browser()
	b.signIn(editor)
	p := b.visit("/dashboard/roles/" + f.admin + "/permissions")
	mustContain(t, "editor", p.body, "read:all", "Acme", "Remove permission read:all", "lacks <code>read:resource_servers</code>")
	mustNotContain(t, "editor", p.body, ">APIs<") // no navigation entry either

	_, reader := e.key("reader", api.ScopeReadRoles, api.ScopeReadResourceServers)
	b = e.browser()
	b.signIn(reader)
	p = b.visit("/dashboard/roles/" + f.admin + "/permissions")
	mustContain(t, "reader", p.body, "read:all")
	mustNotContain(t, "reader", p.body, "Remove permission", "data-picker", "Add permission")
	p = b.visit("/dashboard/apis")
	mustNotContain(t, "reader's APIs page", p.body, "Create API")
}
