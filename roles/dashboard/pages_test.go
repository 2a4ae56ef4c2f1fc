package dashboard_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// fixture is a small tenant: a connection with SCIM on, two users in a
// group, a second group, two roles and an organization.
type fixture struct {
	con, alice, bob, eng, ops, admin, viewer, org string
}

func (e *env) fixture() fixture {
	e.t.Helper()
	var f fixture
	f.con = storetest.MustConnection(e.t, e.db, "acme-okta").ID
	mkUser := func(name, email, ext string) string {
		var u store.User
		storetest.MustUpdate(e.t, e.db, func(tx *store.Tx) (err error) {
			u, err = tx.CreateUser(store.User{ConnectionID: f.con, UserName: name, ExternalID: ext, Active: true,
				Doc: []byte(`{"userName":"` + name + `","displayName":"` + strings.ToUpper(name[:1]) + name[1:] + `","emails":[{"value":"` + email + `","primary":true}]}`)})
			return err
		})
		return u.ID
	}
	f.alice = mkUser("alice", "alice@acme.example", "ext-alice")
	f.bob = mkUser("bob", "bob@acme.example", "ext-bob")
	f.eng = storetest.MustGroup(e.t, e.db, f.con, "Engineering", f.alice, f.bob).ID
	f.ops = storetest.MustGroup(e.t, e.db, f.con, "Operations", f.bob).ID
	f.admin = e.apiCall("POST", "/roles", map[string]any{"name": "admin", "description": "Full access"}, 201)["id"].(string)
	f.viewer = e.apiCall("POST", "/roles", map[string]any{"name": "viewer", "description": "Read only"}, 201)["id"].(string)
	f.org = e.apiCall("POST", "/organizations", map[string]any{"name": "acme", "display_name": "Acme Inc."}, 201)["id"].(string)
	return f
}

// roleNames lists the names of the roles in an API answer's "roles", sorted.
func roleNames(out map[string]any) []string {
	var names []string
	for _, r := range out["roles"].([]any) {
		names = append(names, r.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return names
}

// TestEveryPageRenders opens each page with data and empty, as the admin.
func TestEveryPageRenders(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(adminToken)
	// The log is not empty: signing in wrote session.created.
	empty := []string{"/dashboard/connections", "/dashboard/groups", "/dashboard/users", "/dashboard/roles", "/dashboard/organizations", "/dashboard/logs?type=role.created", "/dashboard/api-keys"}
	for _, path := range empty {
		p := b.visit(path)
		mustContain(t, path+" empty", p.body, `class="empty"`)
	}
	f := e.fixture()
	e.apiCall("POST", "/groups/"+f.eng+"/roles", map[string]any{"roles": []string{f.admin}}, 204)
	e.apiCall("POST", "/organizations/"+f.org+"/enabled_connections", map[string]any{"connection_id": f.con, "assign_membership_on_login": true}, 201)
	e.apiCall("POST", "/organizations/"+f.org+"/groups/"+f.ops+"/roles", map[string]any{"roles": []string{f.viewer}}, 204)
	e.apiCall("POST", "/resource-servers", map[string]any{"identifier": "https://api.acme.example", "scopes": []map[string]string{{"value": "write:all"}}}, 201)
	e.apiCall("POST", "/roles/"+f.admin+"/permissions", map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "https://api.acme.example", "permission_name": "write:all"}}}, 201)
	e.apiCall("POST", "/organizations/"+f.org+"/members", map[string]any{"members": []string{f.alice}}, 204)
	e.apiCall("POST", "/organizations/"+f.org+"/members/"+f.alice+"/roles", map[string]any{"roles": []string{f.viewer}}, 204)
	e.key("login server", api.ScopeReadUserEffectiveRoles)
	pages := map[string][]string{
		"/dashboard/":                                                                 {"Connections"},
		"/dashboard/connections":                                                      {"acme-okta"},
		"/dashboard/connections/" + f.con:                                             {"/scim/v2/connections/" + f.con, "Generate New Token"},
		"/dashboard/groups?search=eng":                                                {"Engineering"},
		"/dashboard/groups/" + f.eng:                                                  {"alice", "bob", "acme-okta"},
		"/dashboard/groups/" + f.eng + "/roles":                                       {"admin", "Remove role admin", "Assign Roles"},
		"/dashboard/groups/" + f.eng + "/roles/assign":                                {"viewer", "Already assigned"},
		"/dashboard/users?search=alice@":                                              {"alice", "ext-alice"},
		"/dashboard/users/" + f.alice:                                                 {"Active", "Engineering", "admin", "Enterprise Group"},
		"/dashboard/users/" + f.bob + "?organization_id=" + f.org:                     {"viewer", "organization scope"},
		"/dashboard/roles":                                                            {"admin", "viewer"},
		"/dashboard/roles/" + f.admin:                                                 {"Settings", "Delete role"},
		"/dashboard/roles/" + f.admin + "/permissions":                                {"write:all", "https://api.acme.example"},
		"/dashboard/roles/" + f.admin + "/groups":                                     {"Engineering", "acme-okta"},
		"/dashboard/roles/" + f.admin + "/users":                                      {"No user has this role directly", "Add Users"},
		"/dashboard/roles/" + f.admin + "/users/add?search=ali":                       {"alice", "Assign"},
		"/dashboard/roles/" + f.viewer + "/organizations":                             {"Operations", "alice", "acme"},
		"/dashboard/apis":                                                             {"https://api.acme.example", "write:all", "Create API"},
		"/dashboard/roles/" + f.admin + "/delete":                                     {"Engineering", "Delete role and its bindings"},
		"/dashboard/roles/" + f.viewer + "/delete":                                    {"Operations", "alice", "Organization members"},
		"/dashboard/organizations":                                                    {"acme"},
		"/dashboard/organizations/" + f.org:                                           {"Acme Inc.", "Delete organization"},
		"/dashboard/organizations/" + f.org + "/connections":                          {"acme-okta", "Turn off"},
		"/dashboard/organizations/" + f.org + "/groups":                               {"Operations", "Engineering"},
		"/dashboard/organizations/" + f.org + "/groups/" + f.ops:                      {"viewer", "Effective"},
		"/dashboard/organizations/" + f.org + "/groups/" + f.ops + "/roles/assign":    {"admin"},
		"/dashboard/organizations/" + f.org + "/members":                              {"alice", "Add Members", "Remove member alice"},
		"/dashboard/organizations/" + f.org + "/members/add?search=bob":               {"bob", "Add"},
		"/dashboard/organizations/" + f.org + "/members/" + f.alice:                   {"Roles in acme", "viewer", "Remove role viewer", "Effective roles in acme"},
		"/dashboard/organizations/" + f.org + "/members/" + f.alice + "/roles/assign": {"admin", "Already assigned"},
		"/dashboard/api-keys":                                                         {"login server", "read:user_effective_roles", "Create API key"},
		"/dashboard/settings":                                                         {"Nested group roles", "Turn on nested group roles"},
		"/dashboard/logs":                                                             {"group.role.assigned", "bootstrap"},
		"/dashboard/logs?type=role.created":                                           {"role.created"},
	}
	for path, wants := range pages {
		p := b.visit(path)
		mustContain(t, path, p.body, wants...)
		mustNotContain(t, path, p.body, "<no value>", "ZgotmplZ", adminToken)
	}
	if p := b.get("/dashboard/nowhere"); p.status != http.StatusNotFound {
		t.Errorf("unknown page: %d, want 404", p.status)
	}
	rs := e.apiCall("GET", "/resource-servers", nil, 200)["resource_servers"].([]any)[0].(map[string]any)["id"].(string)
	mustContain(t, "API page", b.visit("/dashboard/apis/"+rs).body, "write:all", "Add scope", "Delete API")
	if p := b.get("/dashboard/groups/grp_missing"); p.status != http.StatusNotFound || !strings.Contains(p.body, "inexistent_group") {
		t.Errorf("missing group: %d, want 404 showing the API's inexistent_group\n%s", p.status, p.body)
	}
}

// TestScopesLimitWhatPagesOffer: a key without a scope sees no action that
// needs it, and forcing the form shows the API's 403 and changes nothing.
func TestScopesLimitWhatPagesOffer(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	e.apiCall("POST", "/groups/"+f.eng+"/roles", map[string]any{"roles": []string{f.admin}}, 204)
	_, secret := e.key("reader", api.ScopeReadConnections, api.ScopeReadSCIMToken, api.ScopeReadGroups, api.ScopeReadRoles)
	b := e.browser()
	b.signIn(secret)

	conn := b.visit("/dashboard/connections/" + f.con)
	mustNotContain(t, "connection page", conn.body, "Delete connection", "Generate New Token")
	mustNotContain(t, "connections page", b.visit("/dashboard/connections").body, "Create connection")
	roles := b.visit("/dashboard/groups/" + f.eng + "/roles")
	mustContain(t, "group roles", roles.body, "admin")
	mustNotContain(t, "group roles", roles.body, "Assign Roles", "Remove role admin")
	nav := b.visit("/dashboard/roles")
	mustNotContain(t, "navigation", nav.body, ">Organizations<", ">Audit log<", ">Users<", "Create role")

	forced := []struct {
		path, scope string
		form        url.Values
	}{
		{"/dashboard/connections/" + f.con + "/delete", "delete:connections", url.Values{"name": {"acme-okta"}}},
		{"/dashboard/groups/" + f.eng + "/roles/remove", "update:groups", url.Values{"role": {f.admin}, "role_name": {"admin"}}},
		{"/dashboard/groups/" + f.eng + "/roles", "update:groups", url.Values{"roles": {f.viewer}}},
		{"/dashboard/roles", "create:roles", url.Values{"name": {"sneaky"}}},
	}
	for _, fc := range forced {
		e.unchanged(func() {
			p := b.submit(fc.path, fc.form)
			mustContain(t, "forced "+fc.path, p.body, "Insufficient scope, expected: "+fc.scope, "insufficient_scope", "HTTP 403")
		})
	}
	// Pages the key cannot read say so with the API's answer.
	p := b.get("/dashboard/users")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "read:users") {
		t.Errorf("users page without read:users: %d, want 403 naming the scope", p.status)
	}
}

// TestAPIErrorsAreShownNeverSwallowed: a refused form comes back with the
// API's message and errorCode, and with what was typed.
func TestAPIErrorsAreShownNeverSwallowed(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	b := e.browser()
	b.signIn(adminToken)
	b.visit("/dashboard/connections")

	p := b.submit("/dashboard/connections", url.Values{"name": {"bad name!"}, "strategy": {"okta"}})
	mustContain(t, "bad connection name", p.body, "invalid_body", html.EscapeString("'name' must be 1-128 letters"), `value="bad name!"`)
	p = b.submit("/dashboard/roles", url.Values{"name": {"admin"}})
	mustContain(t, "duplicate role", p.body, "role_conflict", "HTTP 409")
	p = b.submit("/dashboard/groups/"+f.eng+"/roles", url.Values{})
	mustContain(t, "assign nothing", p.body, "invalid_body", html.EscapeString("'roles' must be an array of at least one id"))
	p = b.submit("/dashboard/organizations/"+f.org+"/groups/"+f.eng+"/roles", url.Values{"roles": {f.admin}})
	mustContain(t, "group of a connection not enabled", p.body, "inexistent_organization_group")
}

// TestATokenSecretAppearsOnlyOnItsOneTimePage: generating a token shows the
// secret once (uncached); no other page ever shows it, nor the API key.
func TestATokenSecretAppearsOnlyOnItsOneTimePage(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	b := e.browser()
	b.signIn(adminToken)
	b.visit("/dashboard/connections/" + f.con)
	form := url.Values{"csrf": {b.csrf}, "scopes_given": {"1"}, "scopes": {"get:users", "get:groups"}, "token_lifetime": {"2592000"}}
	p := b.postWith("/dashboard/connections/"+f.con+"/tokens", form, nil)
	if p.status != http.StatusCreated || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("generate token: %d, Cache-Control %q; want 201, no-store", p.status, p.header.Get("Cache-Control"))
	}
	m := regexp.MustCompile(`id="token-secret" value="([^"]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("token page has no secret:\n%s", p.body)
	}
	secret := m[1]
	mustContain(t, "token page", p.body, "shown only once", "get:users, get:groups", `data-copy="token-secret"`)

	for _, path := range []string{
		"/dashboard/connections", "/dashboard/connections/" + f.con, "/dashboard/logs",
		"/dashboard/logs?type=scim_token.created", "/dashboard/groups", "/dashboard/users/" + f.alice,
	} {
		page := b.visit(path)
		mustNotContain(t, path, page.body, secret, adminToken)
	}
	conn := b.visit("/dashboard/connections/" + f.con)
	mustContain(t, "token list", conn.body, "get:users, get:groups", "Never") // last used: never
}

// TestRolesAssignedInTheDashboardAreTheAPIs: Assign Roles and the trash icon
// on an Enterprise Group and an Organization Group change exactly what the
// API's effective roles say, audited as the signed-in key.
func TestRolesAssignedInTheDashboardAreTheAPIs(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	keyID, secret := e.key("role manager", api.AllScopes...)
	b := e.browser()
	b.signIn(secret)
	b.visit("/dashboard/groups/" + f.eng + "/roles/assign")

	p := b.submit("/dashboard/groups/"+f.eng+"/roles", url.Values{"roles": {f.admin, f.viewer}})
	mustContain(t, "after assign", p.body, "2 roles assigned", "Remove role admin", "Remove role viewer")
	if got := roleNames(e.apiCall("GET", "/users/"+f.alice+"/effective-roles", nil, 200)); strings.Join(got, ",") != "admin,viewer" {
		t.Errorf("alice's effective roles after assigning: %v", got)
	}
	p = b.submit("/dashboard/groups/"+f.eng+"/roles/remove", url.Values{"role": {f.viewer}, "role_name": {"viewer"}})
	mustContain(t, "after remove", p.body, "Role viewer removed")
	mustNotContain(t, "after remove", p.body, "Remove role viewer")
	if got := roleNames(e.apiCall("GET", "/users/"+f.alice+"/effective-roles", nil, 200)); strings.Join(got, ",") != "admin" {
		t.Errorf("alice's effective roles after removing viewer: %v", got)
	}
	logs := e.apiCall("GET", "/logs?type=group.role.deleted", nil, 200)["logs"].([]any)
	if actor := logs[0].(map[string]any)["actor"].(map[string]any); actor["id"] != keyID {
		t.Errorf("the removal is audited as %v, want the signed-in key %s", actor, keyID)
	}

	// A removal without confirmation asks first and changes nothing.
	e.unchanged(func() {
		p := b.postWith("/dashboard/groups/"+f.eng+"/roles/remove", url.Values{"csrf": {b.csrf}, "role": {f.admin}, "role_name": {"admin"}}, nil)
		mustContain(t, "unconfirmed removal", p.body, "Remove role admin from this group?", `name="confirm" value="yes"`)
	})

	// Organization Group: inert while auto-membership is off, effective once on.
	orgRoles := func() []string {
		return roleNames(e.apiCall("GET", "/organizations/"+f.org+"/members/"+f.bob+"/effective-roles", nil, 200))
	}
	b.visit("/dashboard/organizations/" + f.org + "/connections")
	b.submit("/dashboard/organizations/"+f.org+"/connections", url.Values{"connection_id": {f.con}})
	p = b.submit("/dashboard/organizations/"+f.org+"/groups/"+f.ops+"/roles", url.Values{"roles": {f.viewer}})
	mustContain(t, "inert binding", p.body, "These role bindings have no effect until auto-membership is turned on", "No effect: auto-membership is off")
	if got := orgRoles(); len(got) != 0 {
		t.Errorf("bob's roles in the organization with auto-membership off: %v, want none (not a member)", got)
	}
	p = b.submit("/dashboard/organizations/"+f.org+"/connections/"+f.con, url.Values{"assign_membership_on_login": {"on"}, "back": {"/dashboard/organizations/" + f.org + "/groups/" + f.ops}})
	mustContain(t, "effective binding", p.body, "Auto-membership turned on", "Effective")
	mustNotContain(t, "effective binding", p.body, "have no effect until")
	if got := orgRoles(); strings.Join(got, ",") != "viewer" {
		t.Errorf("bob's roles in the organization with auto-membership on: %v, want viewer only (the tenant role admin stays out)", got)
	}
	user := b.visit("/dashboard/users/" + f.bob + "?organization_id=" + f.org)
	mustContain(t, "bob in acme", user.body, "viewer", "Operations", "organization scope", `id="org-rule"`, "are left out")
}

// TestDestructiveFormsAskFirst: without the script's confirm=yes, a delete
// or revoke answers a confirmation page and changes nothing; confirmed, it
// happens.
func TestDestructiveFormsAskFirst(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	tok := e.apiCall("POST", "/connections/"+f.con+"/scim-configuration/tokens", map[string]any{}, 201)["token_id"].(string)
	b := e.browser()
	b.signIn(adminToken)
	b.visit("/dashboard/connections/" + f.con)

	unconfirmed := func(path string, form url.Values, question string) {
		t.Helper()
		form.Set("csrf", b.csrf)
		e.unchanged(func() {
			p := b.postWith(path, form, nil)
			if p.status != http.StatusOK {
				t.Errorf("%s unconfirmed: %d, want the confirmation page", path, p.status)
			}
			mustContain(t, path+" unconfirmed", p.body, html.EscapeString(question), `name="confirm" value="yes"`, "Cancel")
		})
	}
	unconfirmed("/dashboard/connections/"+f.con+"/tokens/"+tok+"/revoke", url.Values{}, "Revoke SCIM token "+tok+"?")
	unconfirmed("/dashboard/connections/"+f.con+"/delete", url.Values{"name": {"acme-okta"}}, "Delete connection acme-okta?")
	unconfirmed("/dashboard/organizations/"+f.org+"/delete", url.Values{"name": {"acme"}}, "Delete organization acme?")
	e.unchanged(func() {
		p := b.postWith("/dashboard/roles/"+f.admin+"/delete", url.Values{"csrf": {b.csrf}}, nil)
		if p.status != http.StatusSeeOther || p.location != "/dashboard/roles/"+f.admin+"/delete" {
			t.Errorf("unconfirmed role delete: %d to %q, want the page listing its bindings", p.status, p.location)
		}
	})

	p := b.submit("/dashboard/connections/"+f.con+"/tokens/"+tok+"/revoke", nil)
	mustContain(t, "revoked", p.body, "Token "+tok+" revoked", "No tokens yet")
	p = b.submit("/dashboard/roles/"+f.admin+"/delete", url.Values{"name": {"admin"}})
	mustContain(t, "role deleted", p.body, "Role admin deleted")
	e.apiCall("GET", "/roles/"+f.admin, nil, http.StatusNotFound)
	p = b.submit("/dashboard/organizations/"+f.org+"/delete", url.Values{"name": {"acme"}})
	mustContain(t, "organization deleted", p.body, "Organization acme deleted", "No organizations yet")
	p = b.submit("/dashboard/connections/"+f.con+"/delete", url.Values{"name": {"acme-okta"}})
	mustContain(t, "connection deleted", p.body, "Connection acme-okta deleted", "No connections yet")
	e.apiCall("GET", "/groups/"+f.eng, nil, http.StatusNotFound)
}

// TestListsPageWithTheAPIsCursor: a long list shows a page and a Next link
// carrying the API's cursor; following the links shows every item once.
func TestListsPageWithTheAPIsCursor(t *testing.T) {
	e := newEnv(t)
	con := storetest.MustConnection(e.t, e.db, "big").ID
	var members []string
	for i := range 120 {
		members = append(members, storetest.MustUser(t, e.db, con, fmt.Sprintf("user%03d", i)).ID)
	}
	g := storetest.MustGroup(t, e.db, con, "Everyone", members...).ID
	for i := range 60 {
		e.apiCall("POST", "/roles", map[string]any{"name": fmt.Sprintf("role-%02d", i)}, 201)
	}
	b := e.browser()
	b.signIn(adminToken)
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`)
	follow := func(path string, item *regexp.Regexp) (seen map[string]int, pages int) {
		seen = map[string]int{}
		for path != "" {
			pages++
			body := b.visit(path).body
			for _, m := range item.FindAllStringSubmatch(body, -1) {
				seen[m[1]]++
			}
			path = ""
			if m := next.FindStringSubmatch(body); m != nil {
				path = html.UnescapeString(m[1])
				if !strings.Contains(path, "from=") {
					t.Fatalf("Next link %q carries no cursor", path)
				}
			}
		}
		return seen, pages
	}
	seen, pages := follow("/dashboard/groups/"+g, regexp.MustCompile(`>(user\d{3})</a>`))
	if len(seen) != 120 || pages != 3 {
		t.Errorf("members: %d distinct over %d pages, want 120 over 3", len(seen), pages)
	}
	seen, pages = follow("/dashboard/roles?search=role-", regexp.MustCompile(`>(role-\d\d)</a>`))
	if len(seen) != 60 || pages != 2 {
		t.Errorf("roles: %d distinct over %d pages, want 60 over 2", len(seen), pages)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", k, n)
		}
	}
}
