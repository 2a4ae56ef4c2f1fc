package dashboard_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/rolecall/rolecall/store/storetest"
)

// TestRoleDeletePageListsEveryBindingItRemoves: the confirmation names the
// Enterprise Groups, the users who have the role directly, and the
// organization groups and members that have it inside organizations; past
// the first hundred of a kind it counts the rest.
func TestRoleDeletePageListsEveryBindingItRemoves(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	one := map[string]any{"roles": []string{f.admin}}
	e.apiCall("POST", "/groups/"+f.eng+"/roles", one, 204)
	e.apiCall("POST", "/users/"+f.bob+"/roles", one, 204)
	for i := range 101 {
		u := storetest.MustUser(t, e.db, f.con, fmt.Sprintf("direct%03d", i)).ID
		e.apiCall("POST", "/users/"+u+"/roles", one, 204)
	}
	e.apiCall("POST", "/organizations/"+f.org+"/enabled_connections", map[string]any{"connection_id": f.con, "assign_membership_on_login": false}, 201)
	e.apiCall("POST", "/organizations/"+f.org+"/groups/"+f.ops+"/roles", one, 204)
	e.apiCall("POST", "/organizations/"+f.org+"/members", map[string]any{"members": []string{f.alice}}, 204)
	e.apiCall("POST", "/organizations/"+f.org+"/members/"+f.alice+"/roles", one, 204)
	b := e.browser()
	b.signIn(adminToken)

	p := b.visit("/dashboard/roles/" + f.admin + "/delete")
	mustContain(t, "delete page", p.body,
		"removes 105 bindings",
		`Enterprise Groups <span class="count">1</span>`, `href="/dashboard/groups/`+f.eng+`/roles">Engineering</a>`,
		`Users assigned directly <span class="count">102</span>`, `href="/dashboard/users/`+f.bob+`">bob</a>`, "…and 2 more users.",
		`Organization Groups <span class="count">1</span>`, `href="/dashboard/organizations/`+f.org+`/groups/`+f.ops+`">Operations</a>`,
		`Organization members <span class="count">1</span>`, `href="/dashboard/organizations/`+f.org+`/members/`+f.alice+`">alice</a>`,
		"Delete role and its bindings")
	mustNotContain(t, "delete page", p.body, "…and 0")

	p = b.visit("/dashboard/roles/" + f.viewer + "/delete")
	mustContain(t, "a role without bindings", p.body, "is not assigned to anyone", "No Enterprise Group carries it", "No user has it directly",
		"No organization group has it", "No organization member has it")

	p = b.submit("/dashboard/roles/"+f.admin+"/delete", url.Values{"name": {"admin"}})
	mustContain(t, "deleted", p.body, "Role admin deleted")
	if got := e.apiCall("GET", "/organizations/"+f.org+"/members/"+f.alice+"/roles", nil, 200)["roles"].([]any); len(got) != 0 {
		t.Errorf("alice's organization roles after the delete: %v", got)
	}
}
