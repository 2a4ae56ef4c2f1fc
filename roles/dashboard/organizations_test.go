package dashboard_test

import (
	"fmt"
	"testing"

	"github.com/rolecall/rolecall/store/storetest"
)

// TestMembersShowHowTheyAreMembers: the Members tab lists explicit members
// and members through auto-membership, marked; an auto member has no remove
// button, and the page says why. The user page lists the user's
// organizations the same way.
func TestMembersShowHowTheyAreMembers(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	other := storetest.MustConnection(t, e.db, "partner-entra").ID
	carol := storetest.MustUser(t, e.db, other, "carol").ID
	e.apiCall("POST", "/organizations/"+f.org+"/enabled_connections", map[string]any{"connection_id": f.con, "assign_membership_on_login": true}, 201)
	e.apiCall("POST", "/organizations/"+f.org+"/members", map[string]any{"members": []string{carol}}, 204)
	b := e.browser()
	b.signIn(adminToken)

	p := b.visit("/dashboard/organizations/" + f.org + "/members")
	mustContain(t, "members tab", p.body, "alice", "bob", "carol", ">Auto</span>", ">Explicit</span>", "Remove member carol", `id="auto-note"`,
		"Auto members cannot be removed here")
	mustNotContain(t, "members tab", p.body, "Remove member alice", "Remove member bob")

	p = b.visit("/dashboard/users/" + f.alice)
	mustContain(t, "alice's organizations", p.body, "Organizations", "Acme Inc.", ">Auto</span>", "through auto-membership",
		`href="/dashboard/users/`+f.alice+`?organization_id=`+f.org+`"`)
	p = b.visit("/dashboard/users/" + carol)
	mustContain(t, "carol's organizations", p.body, ">Explicit</span>", "added as a member")
	e.apiCall("DELETE", "/organizations/"+f.org+"/members", map[string]any{"members": []string{carol}}, 204)
	p = b.visit("/dashboard/users/" + carol)
	mustContain(t, "no organizations", p.body, "Not a member of any organization")
}

// TestOrganizationGroupOfAConnectionNotEnabled: the API answers a group's
// roles in an organization with 404 inexistent_organization_group when the
// group's connection is not enabled there; the page says "connection not
// enabled" from that answer and offers no Assign Roles.
func TestOrganizationGroupOfAConnectionNotEnabled(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	b := e.browser()
	b.signIn(adminToken)
	p := b.visit("/dashboard/organizations/" + f.org + "/groups/" + f.ops)
	mustContain(t, "not enabled", p.body, "Connection not enabled", `id="not-enabled"`, "inexistent_organization_group", "HTTP 404",
		`href="/dashboard/organizations/`+f.org+`/connections">Connections</a>`)
	mustNotContain(t, "not enabled", p.body, "Assign Roles", "No roles assigned")

	e.apiCall("POST", "/organizations/"+f.org+"/enabled_connections", map[string]any{"connection_id": f.con, "assign_membership_on_login": false}, 201)
	p = b.visit("/dashboard/organizations/" + f.org + "/groups/" + f.ops)
	mustContain(t, "enabled without auto-membership", p.body, "Assign Roles", ">Off</span>")
	mustNotContain(t, "enabled without auto-membership", p.body, `id="not-enabled"`)
}

// TestShortenedNestedPathShowsItsGap: when the API shortens a long nested
// path ("via_length" more than the groups "via" names), the user page marks
// the gap with how many groups it leaves out, after the user's own group.
func TestShortenedNestedPathShowsItsGap(t *testing.T) {
	e := newEnv(t)
	con := storetest.MustConnection(t, e.db, "acme").ID
	alice := storetest.MustUser(t, e.db, con, "alice").ID
	const depth = 12 // more than roles.MaxVia (8)
	chain := []string{storetest.MustGroup(t, e.db, con, "g00", alice).ID}
	for i := 1; i <= depth; i++ {
		chain = append(chain, storetest.MustGroup(t, e.db, con, fmt.Sprintf("g%02d", i), chain[i-1]).ID)
	}
	role := e.apiCall("POST", "/roles", map[string]any{"name": "deep"}, 201)["id"].(string)
	e.apiCall("POST", "/groups/"+chain[depth]+"/roles", map[string]any{"roles": []string{role}}, 204)
	e.apiCall("PATCH", "/tenants/settings", map[string]any{"flags": map[string]any{"nested_group_roles": true}}, 200)
	eff := e.apiCall("GET", "/users/"+alice+"/effective-roles", nil, 200)
	src := eff["roles"].([]any)[0].(map[string]any)["sources"].([]any)[0].(map[string]any)
	via, length := len(src["via"].([]any)), int(src["via_length"].(float64))
	if length != depth || via >= length {
		t.Fatalf("the API's path: %d of %d groups, want a shortened path of %d", via, length, depth)
	}
	b := e.browser()
	b.signIn(adminToken)
	p := b.visit("/dashboard/users/" + alice)
	gap := fmt.Sprintf("… %d more groups …", length-via)
	mustContain(t, "shortened path", p.body, `>g00</a> <span class="via" aria-hidden="true">→</span> in <span class="via-gap"`, gap, ">g11</a>", ">g12</a>")
	mustNotContain(t, "shortened path", p.body, ">g01</a>")
}
