package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store/storetest"
)

// TestNestedGroupRolesAreTurnedOnAfterConfirmationAndShowTheirPath: the
// Settings page explains the switch and asks before turning it on; once on,
// a user in a member group gets the roles of the group above, and the user's
// page shows the path with links.
func TestNestedGroupRolesAreTurnedOnAfterConfirmationAndShowTheirPath(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	platform := storetest.MustGroup(t, e.db, f.con, "Platform", f.ops).ID // Operations (bob) is in Platform
	e.apiCall("POST", "/groups/"+platform+"/roles", map[string]any{"roles": []string{f.admin}}, 204)
	b := e.browser()
	b.signIn(adminToken)

	p := b.visit("/dashboard/roles")
	mustContain(t, "navigation", p.body, `href="/dashboard/settings"`, ">Settings<", `href="/dashboard/api-keys"`, ">API keys<")
	p = b.visit("/dashboard/settings")
	mustContain(t, "settings page", p.body, "Nested group roles", `id="nested-state">Off<`, "the default", "Cycles",
		"Turn on nested group roles", `name="nested_group_roles" value="on"`, `data-confirm="Turn on nested group roles?`)
	if got := roleNames(e.apiCall("GET", "/users/"+f.bob+"/effective-roles", nil, 200)); len(got) != 0 {
		t.Fatalf("bob's roles with nested group roles off: %v", got)
	}

	// Unconfirmed, it asks on a page and changes nothing.
	e.unchanged(func() {
		p := b.postWith("/dashboard/settings", url.Values{"csrf": {b.csrf}, "nested_group_roles": {"on"}}, nil)
		mustContain(t, "unconfirmed", p.body, "Turn on nested group roles?", html.EscapeString("this can give roles to many more users"), `name="confirm" value="yes"`)
	})
	e.unchanged(func() {
		p := b.submit("/dashboard/settings", url.Values{"nested_group_roles": {"maybe"}})
		mustContain(t, "bad value", p.body, "Choose whether to turn nested group roles on or off")
	})
	p = b.submit("/dashboard/settings", url.Values{"nested_group_roles": {"on"}})
	mustContain(t, "turned on", p.body, "Nested group roles are on", `id="nested-state">On<`, "Turn off nested group roles", `data-confirm="Turn off nested group roles?`)
	if got := e.apiCall("GET", "/tenants/settings", nil, 200)["flags"].(map[string]any)["nested_group_roles"]; got != true {
		t.Errorf("the API's setting after turning it on: %v", got)
	}
	if got := roleNames(e.apiCall("GET", "/users/"+f.bob+"/effective-roles", nil, 200)); len(got) != 1 || got[0] != "admin" {
		t.Errorf("bob's roles with nested group roles on: %v, want admin through Operations", got)
	}

	// The user page says how: member of Operations → in Platform, with links.
	p = b.visit("/dashboard/users/" + f.bob)
	mustContain(t, "bob's page", p.body, "Nested",
		`member of <a href="/dashboard/groups/`+f.ops+`">Operations</a> <span class="via" aria-hidden="true">→</span> in <a href="/dashboard/groups/`+platform+`">Platform</a>`,
		"(tenant scope)")

	p = b.submit("/dashboard/settings", url.Values{"nested_group_roles": {"off"}})
	mustContain(t, "turned off", p.body, "Nested group roles are off", `id="nested-state">Off<`)
	if got := roleNames(e.apiCall("GET", "/users/"+f.bob+"/effective-roles", nil, 200)); len(got) != 0 {
		t.Errorf("bob's roles after turning it off: %v", got)
	}
}

// TestSettingsAreReadOnlyWithoutUpdateTenantSettings: a key that may read
// the settings sees them without the switch, and forcing the form is the
// API's 403; a key that may not read them has no Settings entry.
func TestSettingsAreReadOnlyWithoutUpdateTenantSettings(t *testing.T) {
	e := newEnv(t)
	_, reader := e.key("settings reader", api.ScopeReadTenantSettings, api.ScopeReadRoles)
	b := e.browser()
	b.signIn(reader)
	p := b.visit("/dashboard/settings")
	mustContain(t, "read-only settings", p.body, "Nested group roles", "lacks <code>update:tenant_settings</code>", `id="nested-state">Off<`)
	mustNotContain(t, "read-only settings", p.body, "Turn on nested group roles")
	e.unchanged(func() {
		p := b.submit("/dashboard/settings", url.Values{"nested_group_roles": {"on"}})
		mustContain(t, "forced", p.body, "Insufficient scope, expected: update:tenant_settings", "HTTP 403")
	})

	_, other := e.key("roles only", api.ScopeReadRoles)
	b = e.browser()
	b.signIn(other)
	mustNotContain(t, "navigation without read:tenant_settings", b.visit("/dashboard/roles").body, ">Settings<", ">API keys<")
	if p := b.get("/dashboard/settings"); p.status != http.StatusForbidden {
		t.Errorf("settings without read:tenant_settings: %d, want 403", p.status)
	}
}

// TestTenantRolesInOrganizationsSwitch: the Settings page explains the
// organization rule and asks before including tenant roles in
// organization logins; the user page, showing roles in an organization,
// says which rule is in force.
func TestTenantRolesInOrganizationsSwitch(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	e.apiCall("POST", "/users/"+f.bob+"/roles", map[string]any{"roles": []string{f.admin}}, 204)
	e.apiCall("POST", "/organizations/"+f.org+"/members", map[string]any{"members": []string{f.bob}}, 204)
	inOrg := func() []string {
		return roleNames(e.apiCall("GET", "/organizations/"+f.org+"/members/"+f.bob+"/effective-roles", nil, 200))
	}
	b := e.browser()
	b.signIn(adminToken)
	p := b.visit("/dashboard/settings")
	mustContain(t, "settings page", p.body, "Tenant roles in organization logins", `id="tenant-roles-state">Left out<`, "Auth0",
		"Include tenant roles in organization logins", `name="tenant_roles_in_organizations" value="on"`,
		`data-confirm="Include tenant roles in organization logins?`)
	user := b.visit("/dashboard/users/" + f.bob + "?organization_id=" + f.org)
	mustContain(t, "bob in the organization, rule off", user.body, `id="org-rule"`, "Only roles assigned within this organization count here", "are left out")
	if got := inOrg(); len(got) != 0 {
		t.Fatalf("bob's roles in the organization with tenant roles left out: %v, want none", got)
	}

	// Unconfirmed, it asks and changes nothing; a bad value is refused.
	e.unchanged(func() {
		p := b.postWith("/dashboard/settings", url.Values{"csrf": {b.csrf}, "tenant_roles_in_organizations": {"on"}}, nil)
		mustContain(t, "unconfirmed", p.body, "Include tenant roles in organization logins?", html.EscapeString("reaches every customer organization"), `name="confirm" value="yes"`)
	})
	e.unchanged(func() {
		p := b.submit("/dashboard/settings", url.Values{"tenant_roles_in_organizations": {"yes"}})
		mustContain(t, "bad value", p.body, "Choose whether to include tenant roles in organization logins or not")
	})
	p = b.submit("/dashboard/settings", url.Values{"tenant_roles_in_organizations": {"on"}})
	mustContain(t, "included", p.body, "Tenant roles are included in organization logins", `id="tenant-roles-state">Included<`,
		"Leave tenant roles out of organization logins", `id="nested-state">Off<`)
	if got := inOrg(); len(got) != 1 || got[0] != "admin" {
		t.Errorf("bob's roles in the organization with tenant roles included: %v, want admin", got)
	}
	user = b.visit("/dashboard/users/" + f.bob + "?organization_id=" + f.org)
	mustContain(t, "bob in the organization, rule on", user.body, `id="org-rule"`, "and so do tenant roles", "are included")
	// Without an organization the page says nothing of the rule.
	mustNotContain(t, "bob at tenant level", b.visit("/dashboard/users/"+f.bob).body, `id="org-rule"`)

	p = b.submit("/dashboard/settings", url.Values{"tenant_roles_in_organizations": {"off"}})
	mustContain(t, "left out again", p.body, "Tenant roles are left out of organization logins", `id="tenant-roles-state">Left out<`)
	if got := inOrg(); len(got) != 0 {
		t.Errorf("bob's roles in the organization after leaving tenant roles out: %v, want none", got)
	}
	if got := e.apiCall("GET", "/tenants/settings", nil, 200)["flags"].(map[string]any)["nested_group_roles"]; got != false {
		t.Errorf("the nested switch moved with the other: %v", got)
	}
}
