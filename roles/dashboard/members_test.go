package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
)

// TestOrganizationMembersAreAddedGivenRolesAndRemoved: the Members tab adds
// users found by search or by id, each member's page assigns and removes
// roles inside the organization (Assign Roles, the trash icon), and removing
// a member asks first; the API says the same at each step.
func TestOrganizationMembersAreAddedGivenRolesAndRemoved(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	b := e.browser()
	b.signIn(adminToken)
	org := "/dashboard/organizations/" + f.org

	p := b.visit(org + "/members")
	mustContain(t, "empty members tab", p.body, "No members yet", "Add Members", `aria-current="page">Members<`)

	// Add Members: a search, an id, nothing found.
	p = b.visit(org + "/members/add?search=ALICE@")
	mustContain(t, "search alice@", p.body, `value="`+f.alice+`"`, "alice@acme.example", "acme-okta")
	mustNotContain(t, "search alice@", p.body, `value="`+f.bob+`"`)
	p = b.visit(org + "/members/add?search=" + f.bob)
	mustContain(t, "search by id", p.body, `value="`+f.bob+`"`)
	p = b.visit(org + "/members/add?search=usr_nobody")
	mustContain(t, "unknown id", p.body, "No user matches")
	p = b.submit(org+"/members", url.Values{"members": {f.alice}})
	mustContain(t, "after adding alice", p.body, "1 member added.", ">alice</a>", "alice@acme.example", "Remove member alice")
	p = b.submit(org+"/members", url.Values{"user_id": {f.bob}})
	mustContain(t, "after adding bob by id", p.body, "1 member added.", ">bob</a>")
	if got := memberIDs(e, f.org); got != sortedJoin(f.alice, f.bob) {
		t.Errorf("members after adding: %s", got)
	}
	p = b.submit(org+"/members", url.Values{"members": {"usr_0000000000000000"}, "search": {"x"}})
	mustContain(t, "unknown member", p.body, "inexistent_user", "HTTP 404")

	// A member's page: Assign Roles, then the trash icon.
	member := org + "/members/" + f.alice
	p = b.visit(member)
	mustContain(t, "member page", p.body, "Member of acme", "Roles in acme", "Assign Roles", "Explicit", "No roles assigned to this organization member yet")
	p = b.visit(member + "/roles/assign")
	mustContain(t, "assign page", p.body, "member alice of organization acme", "admin", "viewer")
	p = b.submit(member+"/roles", url.Values{"roles": {f.admin}})
	mustContain(t, "after assigning", p.body, "1 role assigned.", "Remove role admin", "assigned to the user in this organization")
	if got := roleNames(e.apiCall("GET", "/organizations/"+f.org+"/members/"+f.alice+"/roles", nil, 200)); strings.Join(got, ",") != "admin" {
		t.Errorf("alice's roles in the organization: %v", got)
	}
	if got := roleNames(e.apiCall("GET", "/organizations/"+f.org+"/members/"+f.alice+"/effective-roles", nil, 200)); strings.Join(got, ",") != "admin" {
		t.Errorf("alice's effective roles in the organization: %v", got)
	}
	e.unchanged(func() {
		p := b.postWith(member+"/roles/remove", url.Values{"csrf": {b.csrf}, "role": {f.admin}, "role_name": {"admin"}}, nil)
		mustContain(t, "unconfirmed role removal", p.body, "Remove role admin from this organization member?", `name="confirm" value="yes"`)
	})
	p = b.submit(member+"/roles/remove", url.Values{"role": {f.admin}, "role_name": {"admin"}})
	mustContain(t, "after removing the role", p.body, "Role admin removed.")
	mustNotContain(t, "after removing the role", p.body, "Remove role admin")

	// The user page links to the member's page in the organization.
	p = b.visit("/dashboard/users/" + f.alice + "?organization_id=" + f.org)
	mustContain(t, "user page in the organization", p.body, `href="`+member+`"`, "Roles assigned to alice in acme")

	// A user who is not a member cannot be given roles in it: the API says why.
	e.unchanged(func() {
		p := b.submit(org+"/members/"+"usr_0000000000000000"+"/roles", url.Values{"roles": {f.admin}})
		mustContain(t, "roles for a non-member", p.body, "inexistent_user")
	})

	// Removing a member asks first, then removes it.
	question := "Remove member bob from this organization?"
	e.unchanged(func() {
		p := b.postWith(org+"/members/remove", url.Values{"csrf": {b.csrf}, "user_id": {f.bob}, "user_name": {"bob"}}, nil)
		mustContain(t, "unconfirmed member removal", p.body, html.EscapeString(question), `name="confirm" value="yes"`)
	})
	p = b.visit(org + "/members")
	mustContain(t, "members tab", p.body, `data-confirm="`+html.EscapeString(question))
	p = b.submit(org+"/members/remove", url.Values{"user_id": {f.bob}, "user_name": {"bob"}})
	mustContain(t, "after removing bob", p.body, "Member bob removed.")
	mustNotContain(t, "after removing bob", p.body, "Remove member bob")
	if got := memberIDs(e, f.org); got != f.alice {
		t.Errorf("members after removing bob: %s", got)
	}
}

// TestMembersTabOffersOnlyWhatTheKeyMayDo: without the members' write
// scopes the tab and the member page offer no add, remove or assign, and
// forcing those forms shows the API's 403 and changes nothing.
func TestMembersTabOffersOnlyWhatTheKeyMayDo(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	e.apiCall("POST", "/organizations/"+f.org+"/members", map[string]any{"members": []string{f.alice}}, 204)
	e.apiCall("POST", "/organizations/"+f.org+"/members/"+f.alice+"/roles", map[string]any{"roles": []string{f.viewer}}, 204)
	_, secret := e.key("member reader", api.ScopeReadOrganizations, api.ScopeReadOrganizationMembers, api.ScopeReadOrganizationMemberRoles, api.ScopeReadUsers, api.ScopeReadRoles)
	b := e.browser()
	b.signIn(secret)
	org := "/dashboard/organizations/" + f.org

	p := b.visit(org + "/members")
	mustContain(t, "members tab", p.body, ">alice</a>")
	mustNotContain(t, "members tab", p.body, "Add Members", "Remove member alice")
	p = b.visit(org + "/members/" + f.alice)
	mustContain(t, "member page", p.body, "viewer", "cannot read effective roles")
	mustNotContain(t, "member page", p.body, "Assign Roles", "Remove role viewer", "Remove member")

	for _, fc := range []struct {
		path, scope string
		form        url.Values
	}{
		{org + "/members", "create:organization_members", url.Values{"members": {f.bob}}},
		{org + "/members/remove", "delete:organization_members", url.Values{"user_id": {f.alice}}},
		{org + "/members/" + f.alice + "/roles", "create:organization_member_roles", url.Values{"roles": {f.admin}}},
		{org + "/members/" + f.alice + "/roles/remove", "delete:organization_member_roles", url.Values{"role": {f.viewer}}},
	} {
		e.unchanged(func() {
			p := b.submit(fc.path, fc.form)
			mustContain(t, "forced "+fc.path, p.body, "Insufficient scope, expected: "+fc.scope, "HTTP 403")
		})
	}

	// Without read:organization_members there is no Members tab.
	_, secret = e.key("org reader", api.ScopeReadOrganizations)
	b = e.browser()
	b.signIn(secret)
	mustNotContain(t, "organization without read:organization_members", b.visit(org).body, "/members\"")
	if p := b.get(org + "/members"); p.status != http.StatusForbidden {
		t.Errorf("members tab without read:organization_members: %d, want 403", p.status)
	}
}

func memberIDs(e *env, org string) string {
	e.t.Helper()
	var ids []string
	for _, m := range e.apiCall("GET", "/organizations/"+org+"/members", nil, 200)["members"].([]any) {
		ids = append(ids, m.(map[string]any)["user_id"].(string))
	}
	return sortedJoin(ids...)
}

// sortedJoin is ids sorted and joined with commas, for comparisons.
func sortedJoin(ids ...string) string {
	ids = append([]string{}, ids...)
	slices.Sort(ids)
	return strings.Join(ids, ",")
}
