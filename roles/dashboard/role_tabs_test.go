package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
)

// TestRolePageTabsShowEveryKindOfBinding: a role's page has Auth0's tabs,
// each its own page: Permissions, Enterprise Groups, Users (direct, with Add
// Users and a confirmed removal through /roles/{id}/users) and Organizations
// (group and member bindings).
func TestRolePageTabsShowEveryKindOfBinding(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	e.apiCall("POST", "/groups/"+f.eng+"/roles", map[string]any{"roles": []string{f.viewer}}, 204)
	e.apiCall("POST", "/organizations/"+f.org+"/enabled_connections", map[string]any{"connection_id": f.con, "assign_membership_on_login": true}, 201)
	e.apiCall("POST", "/organizations/"+f.org+"/groups/"+f.ops+"/roles", map[string]any{"roles": []string{f.viewer}}, 204)
	e.apiCall("POST", "/organizations/"+f.org+"/members", map[string]any{"members": []string{f.alice}}, 204)
	e.apiCall("POST", "/organizations/"+f.org+"/members/"+f.alice+"/roles", map[string]any{"roles": []string{f.viewer}}, 204)
	b := e.browser()
	b.signIn(adminToken)
	base := "/dashboard/roles/" + f.viewer

	p := b.visit(base)
	for _, tab := range []string{"Settings", "Permissions", "Enterprise Groups", "Users", "Organizations"} {
		mustContain(t, "tabs", p.body, ">"+tab+"</a>")
	}
	mustContain(t, "settings tab", p.body, `href="`+base+`" aria-current="page">Settings<`)

	p = b.visit(base + "/groups")
	mustContain(t, "groups tab", p.body, `aria-current="page">Enterprise Groups<`, "Engineering", "acme-okta", `<span class="count">1</span>`)
	mustNotContain(t, "groups tab", p.body, "Operations") // bound inside the organization only

	p = b.visit(base + "/organizations")
	mustContain(t, "organizations tab", p.body, `aria-current="page">Organizations<`,
		`href="/dashboard/organizations/`+f.org+`/groups/`+f.ops+`">Operations</a>`,
		`href="/dashboard/organizations/`+f.org+`/members/`+f.alice+`">alice</a>`, "acme")

	p = b.visit(base + "/users")
	mustContain(t, "empty users tab", p.body, "No user has this role directly", `href="`+base+`/users/add"`)

	// Add Users: search, tick, Assign: POST /roles/{id}/users.
	p = b.visit(base + "/users/add?search=bob")
	mustContain(t, "add users search", p.body, `name="users" value="`+f.bob+`"`)
	p = b.submit(base+"/users", url.Values{"users": {f.bob}})
	mustContain(t, "after assign", p.body, "Role assigned to 1 user", "bob", "Remove user bob")
	direct := roleNames(e.apiCall("GET", "/users/"+f.bob+"/roles", nil, 200))
	if strings.Join(direct, ",") != "viewer" {
		t.Fatalf("bob's direct roles after Add Users: %v, want viewer", direct)
	}
	p = b.visit(base + "/users/add?search=" + f.bob)
	mustContain(t, "add users by id", p.body, "Already assigned")
	mustNotContain(t, "add users by id", p.body, `name="users" value="`+f.bob+`"`)

	// An unknown id is the API's 404, shown, and nothing is assigned.
	e.unchanged(func() {
		p := b.submit(base+"/users", url.Values{"user_id": {"usr_nobody"}})
		mustContain(t, "unknown user", p.body, "inexistent_user", "HTTP 404")
	})

	// Removal asks first, then removes only the direct assignment.
	question := "Remove role viewer from user bob? Only the direct assignment goes: roles through the user's groups stay."
	mustContain(t, "users tab", b.visit(base+"/users").body, `data-confirm="`+html.EscapeString(question)+`"`)
	e.unchanged(func() {
		p := b.postWith(base+"/users/remove", url.Values{"csrf": {b.csrf}, "user_id": {f.bob}, "user_name": {"bob"}, "role_name": {"viewer"}}, nil)
		mustContain(t, "unconfirmed removal", p.body, html.EscapeString(question), `name="confirm" value="yes"`)
	})
	p = b.submit(base+"/users/remove", url.Values{"user_id": {f.bob}, "user_name": {"bob"}, "role_name": {"viewer"}})
	mustContain(t, "after removal", p.body, "Role removed from bob", "No user has this role directly")
	if got := e.apiCall("GET", "/users/"+f.bob+"/roles", nil, 200)["roles"].([]any); len(got) != 0 {
		t.Errorf("bob's direct roles after removal: %v, want none", got)
	}
	if got := roleNames(e.apiCall("GET", "/users/"+f.bob+"/effective-roles", nil, 200)); strings.Join(got, ",") != "viewer" {
		t.Errorf("bob's effective roles after removing the direct one: %v, want viewer still, through Engineering", got)
	}
}

// TestRoleUsersTabOffersOnlyWhatTheKeyMayDo: without create:role_members
// and delete:role_members the Users tab lists but offers no change, and a
// forced form is the API's 403.
func TestRoleUsersTabOffersOnlyWhatTheKeyMayDo(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	e.apiCall("POST", "/roles/"+f.admin+"/users", map[string]any{"users": []string{f.alice}}, 204)
	_, secret := e.key("reader", api.ScopeReadRoles, api.ScopeReadUsers)
	b := e.browser()
	b.signIn(secret)
	p := b.visit("/dashboard/roles/" + f.admin + "/users")
	mustContain(t, "read-only users tab", p.body, "alice")
	mustNotContain(t, "read-only users tab", p.body, "Add Users", "Remove user alice")
	e.unchanged(func() {
		p := b.submit("/dashboard/roles/"+f.admin+"/users", url.Values{"users": {f.bob}})
		mustContain(t, "forced assign", p.body, "insufficient_scope", "create:role_members")
	})
}

// TestNotFoundPagesShowAWayBack: an unknown dashboard path and a detail page
// whose object the API does not have answer 404 with the API's message and
// links back to the section and the dashboard's home.
func TestNotFoundPagesShowAWayBack(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(adminToken)
	cases := []struct {
		name, path string
		wants      []string
	}{
		{"unknown path", "/dashboard/nowhere/at/all", []string{"Page not found", "There is no dashboard page at /dashboard/nowhere/at/all", `href="/dashboard/">Dashboard home<`}},
		{"missing role", "/dashboard/roles/rol_missing", []string{"Page not found", "inexistent_role", `href="/dashboard/roles">Back to Roles<`, `href="/dashboard/">Dashboard home<`}},
		{"missing role's tab", "/dashboard/roles/rol_missing/users", []string{"inexistent_role", `href="/dashboard/roles">Back to Roles<`}},
		{"missing user", "/dashboard/users/usr_missing", []string{"inexistent_user", `href="/dashboard/users">Back to Users<`}},
		{"missing API", "/dashboard/apis/rsv_missing", []string{`href="/dashboard/apis">Back to APIs<`}},
		{"missing organization", "/dashboard/organizations/org_missing/members", []string{`href="/dashboard/organizations">Back to Organizations<`}},
	}
	for _, c := range cases {
		p := b.get(c.path)
		if p.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", c.name, p.status)
		}
		mustContain(t, c.name, p.body, c.wants...)
		mustContain(t, c.name, p.body, `aria-label="Sections"`) // still inside the dashboard's frame
	}
	// The page the browser came from is offered too.
	req, _ := http.NewRequest("GET", e.srv.URL+"/dashboard/roles/rol_missing", nil)
	req.Header.Set("Referer", e.srv.URL+"/dashboard/logs?type=role.deleted")
	p := b.do(req)
	mustContain(t, "with a referer", p.body, `href="/dashboard/logs?type=role.deleted">Back to the previous page<`)
}
