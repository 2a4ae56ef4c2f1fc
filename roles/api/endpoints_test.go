package api_test

import (
	"net/http"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
)

// TestRoleUsersAreAssignedFromTheRoleSide: POST and DELETE /roles/{id}/users
// assign and remove the role directly, all or nothing, audited as user role
// assignments, under create:/delete:role_members.
func TestRoleUsersAreAssignedFromTheRoleSide(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	alice, bob := m.user(con, "alice"), m.user(con, "bob")
	admin := m.role("admin")
	path := "/roles/" + admin + "/users"

	keys := map[string]string{api.ScopeCreateRoleMembers: m.keyWithout(api.ScopeCreateRoleMembers), api.ScopeDeleteRoleMembers: m.keyWithout(api.ScopeDeleteRoleMembers)}
	m.unchanged(func() {
		m.fails("POST", path, map[string]any{"users": []string{alice, "usr_0000000000000000"}}, 404, "inexistent_user")
		m.fails("POST", "/roles/rol_0000000000000000/users", map[string]any{"users": []string{alice}}, 404, "inexistent_role")
		m.fails("POST", path, map[string]any{"users": []string{}}, 400, "invalid_body")
		m.fails("POST", path, map[string]any{"members": []string{alice}}, 400, "invalid_body")
		m.fails("DELETE", path, map[string]any{"users": []string{"nonsense"}}, 404, "inexistent_user")
		for scope, method := range map[string]string{api.ScopeCreateRoleMembers: "POST", api.ScopeDeleteRoleMembers: "DELETE"} {
			rec, out := m.send(keys[scope], method, path, map[string]any{"users": []string{alice}})
			assertMgmtError(t, method+" without "+scope, rec, out, http.StatusForbidden, "insufficient_scope")
		}
	})
	m.do("POST", path, map[string]any{"users": []string{alice, bob, alice}}, 204)
	m.do("POST", path, map[string]any{"users": []string{bob}}, 204) // already assigned: a no-op
	m.sameIDs("role users", m.pageThrough(path, "users", "user_id", 50), sortedCopy(alice, bob))
	m.sameIDs("alice's roles", listField(m.do("GET", "/users/"+alice+"/roles", nil, 200), "roles", "id"), []string{admin})
	if logs := m.logs("user.role.assigned"); len(logs) != 2 {
		t.Errorf("user.role.assigned entries: %v, want two, as POST /users/{id}/roles writes", logs)
	}
	m.do("DELETE", path, map[string]any{"users": []string{alice}}, 204)
	m.do("DELETE", path, map[string]any{"users": []string{alice}}, 204) // not assigned: ignored
	m.sameIDs("role users after removal", m.pageThrough(path, "users", "user_id", 50), []string{bob})
	if logs := m.logs("user.role.deleted"); len(logs) != 1 || logs[0]["target"].(map[string]any)["id"] != alice {
		t.Errorf("user.role.deleted entries: %v, want alice's", logs)
	}
}

// TestOrganizationMembershipIsMarked: member lists and a user's organizations
// include auto-membership, each marked "explicit" or "auto" (explicit wins
// for a user who is both), and agree with each other.
func TestOrganizationMembershipIsMarked(t *testing.T) {
	m := newMgmt(t)
	acme, globex := m.connection("acme"), m.connection("globex")
	alice := m.user(acme, "alice")
	carol, dave := m.user(globex, "carol"), m.user(globex, "dave")
	org, other, third := m.org("acme"), m.org("other"), m.org("third")
	m.do("POST", "/organizations/"+org+"/members", map[string]any{"members": []string{alice, carol}}, 204)
	m.do("POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": globex, "assign_membership_on_login": true}, 201)
	m.do("POST", "/organizations/"+other+"/enabled_connections", map[string]any{"connection_id": globex, "assign_membership_on_login": true}, 201)
	// Enabled without auto-membership: no member through it.
	m.do("POST", "/organizations/"+third+"/enabled_connections", map[string]any{"connection_id": acme, "assign_membership_on_login": false}, 201)

	marks := func(out map[string]any, list, key string) map[string]string {
		got := map[string]string{}
		for _, it := range out[list].([]any) {
			v := it.(map[string]any)
			got[v[key].(string)], _ = v["membership"].(string)
		}
		return got
	}
	members := marks(m.do("GET", "/organizations/"+org+"/members?include_totals=true", nil, 200), "members", "user_id")
	want := map[string]string{alice: "explicit", carol: "explicit", dave: "auto"}
	if len(members) != len(want) || members[alice] != want[alice] || members[carol] != want[carol] || members[dave] != want[dave] {
		t.Errorf("members %v, want %v", members, want)
	}
	if out := m.do("GET", "/organizations/"+org+"/members?include_totals=true", nil, 200); out["total"] != float64(3) {
		t.Errorf("total %v, want 3", out["total"])
	}
	for user, want := range map[string]map[string]string{
		alice: {org: "explicit"},
		carol: {org: "explicit", other: "auto"},
		dave:  {org: "auto", other: "auto"},
	} {
		got := marks(m.do("GET", "/users/"+user+"/organizations", nil, 200), "organizations", "id")
		if len(got) != len(want) {
			t.Errorf("%s's organizations %v, want %v", user, got, want)
		}
		for id, mark := range want {
			if got[id] != mark {
				t.Errorf("%s in %s: %q, want %q", user, id, got[id], mark)
			}
		}
	}
	// Auto-membership off: dave is no member any more; carol still is, explicitly.
	m.do("PATCH", "/organizations/"+org+"/enabled_connections/"+globex, map[string]any{"assign_membership_on_login": false}, 200)
	m.sameIDs("members without auto-membership", m.pageThrough("/organizations/"+org+"/members", "members", "user_id", 1), sortedCopy(alice, carol))
	m.fails("GET", "/users/usr_0000000000000000/organizations", nil, 404, "inexistent_user")
}

// TestOrganizationByNameAndLogByID: Auth0's lookups by name and by log id.
func TestOrganizationByNameAndLogByID(t *testing.T) {
	m := newMgmt(t)
	org := m.org("acme-corp")
	if out := m.do("GET", "/organizations/name/acme-corp", nil, 200); out["id"] != org || out["name"] != "acme-corp" {
		t.Errorf("by name: %v, want %s", out, org)
	}
	m.fails("GET", "/organizations/name/nobody", nil, 404, "inexistent_organization")
	m.fails("GET", "/organizations/"+org+"/nonsense", nil, 404, "not_found")
	// The routes beside it still answer.
	m.do("GET", "/organizations/"+org+"/members", nil, 200)
	m.do("GET", "/organizations/"+org+"/enabled_connections", nil, 200)

	entries := m.do("GET", "/logs", nil, 200)["logs"].([]any)
	last := entries[len(entries)-1].(map[string]any)
	got := m.do("GET", "/logs/"+last["id"].(string), nil, 200)
	if got["id"] != last["id"] || got["type"] != "organization.created" {
		t.Errorf("log by id: %v, want %v", got, last)
	}
	for _, id := range []string{"0", "99999", "x", "01", "-1"} {
		m.fails("GET", "/logs/"+id, nil, 404, "inexistent_log")
	}
	rec, out := m.send(m.keyWithout(api.ScopeReadLogs), "GET", "/logs/1", nil)
	assertMgmtError(t, "log without read:logs", rec, out, http.StatusForbidden, "insufficient_scope")
}
