package api_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles/api"
	"github.com/rolecall/rolecall/store/httpconv"
)

func TestRolesCreateReadUpdateDelete(t *testing.T) {
	m := newMgmt(t)
	rec, created := m.send(mgmtAdminToken, "POST", "/roles", map[string]any{"name": "Admin", "description": "all powers"})
	if rec.Code != 201 || !strings.HasPrefix(created["id"].(string), "rol_") || created["name"] != "Admin" || created["description"] != "all powers" {
		t.Fatalf("create: %d %v, want 201 with a rol_ id, the name and the description", rec.Code, created)
	}
	if rec.Header().Get(httpconv.RevisionHeader) == "" {
		t.Errorf("create answer lacks %s", httpconv.RevisionHeader)
	}
	id := created["id"].(string)

	m.unchanged(func() {
		m.fails("POST", "/roles", map[string]any{"name": "ADMIN"}, 409, "role_conflict")
		m.fails("POST", "/roles", map[string]any{"description": "no name"}, 400, "invalid_body")
		m.fails("POST", "/roles", map[string]any{"name": "x", "bogus": true}, 400, "invalid_body")
		m.fails("POST", "/roles", map[string]any{"name": strings.Repeat("x", 257)}, 400, "invalid_body")
		m.fails("POST", "/roles", `{"name":"x"} trailing`, 400, "invalid_body")
	})

	if got := m.do("GET", "/roles/"+id, nil, 200); got["name"] != "Admin" || got["description"] != "all powers" {
		t.Errorf("get: %v", got)
	}
	m.fails("GET", "/roles/rol_0000000000000000", nil, 404, "inexistent_role")
	m.fails("GET", "/roles/not-an-id", nil, 404, "inexistent_role")

	if got := m.do("PATCH", "/roles/"+id, map[string]any{"description": "fewer powers"}, 200); got["name"] != "Admin" || got["description"] != "fewer powers" {
		t.Errorf("patch description: %v", got)
	}
	if got := m.do("PATCH", "/roles/"+id, map[string]any{"name": "Administrator"}, 200); got["name"] != "Administrator" {
		t.Errorf("patch name: %v", got)
	}
	m.role("viewer")
	m.unchanged(func() {
		m.fails("PATCH", "/roles/"+id, map[string]any{"name": "VIEWER"}, 409, "role_conflict")
		m.fails("PATCH", "/roles/"+id, map[string]any{"name": ""}, 400, "invalid_body")
		m.fails("PATCH", "/roles/rol_0000000000000000", map[string]any{"name": "x"}, 404, "inexistent_role")
	})

	m.do("DELETE", "/roles/"+id, nil, 204)
	m.fails("GET", "/roles/"+id, nil, 404, "inexistent_role")
	m.fails("DELETE", "/roles/"+id, nil, 404, "inexistent_role")
	if logs := m.logs("role.deleted"); len(logs) != 1 || logs[0]["target"].(map[string]any)["id"] != id {
		t.Errorf("role.deleted entries: %v", logs)
	}
}

func TestRolesListPagesAndFiltersByName(t *testing.T) {
	m := newMgmt(t)
	var all, admins []string
	for _, name := range []string{"org-admin", "viewer", "Billing ADMIN", "editor", "admin"} {
		id := m.role(name)
		all = append(all, id)
		if strings.Contains(strings.ToLower(name), "admin") {
			admins = append(admins, id)
		}
	}
	for _, take := range []int{1, 2, 50} {
		m.sameIDs("all roles", m.pageThrough("/roles", "roles", "id", take), sortedCopy(all...))
		m.sameIDs("name_filter=Admin", m.pageThrough("/roles?name_filter=Admin", "roles", "id", take), sortedCopy(admins...))
	}
	for _, bad := range []string{"0", "101", "x"} {
		m.fails("GET", "/roles?take="+bad, nil, 400, "invalid_query_string")
	}
}

func TestRolePermissionsAddListRemove(t *testing.T) {
	m := newMgmt(t)
	id := m.role("admin")
	perm := func(api, name string) map[string]string {
		return map[string]string{"resource_server_identifier": api, "permission_name": name}
	}
	path := "/roles/" + id + "/permissions"
	m.do("POST", "/resource-servers", map[string]any{"identifier": "https://api", "scopes": []any{map[string]string{"value": "read:x"}, map[string]string{"value": "write:x"}}}, 201)
	m.do("POST", path, map[string]any{"permissions": []any{perm("https://api", "write:x"), perm("https://api", "read:x")}}, 201)
	m.do("POST", path, map[string]any{"permissions": []any{perm("https://api", "read:x")}}, 201) // already there: kept once
	got := m.do("GET", path, nil, 200)
	m.sameIDs("permissions", listField(got, "permissions", "permission_name"), []string{"read:x", "write:x"})
	m.sameIDs("resource servers", listField(got, "permissions", "resource_server_identifier"), []string{"https://api", "https://api"})

	m.do("DELETE", path, map[string]any{"permissions": []any{perm("https://api", "write:x"), perm("https://other", "read:x")}}, 204)
	m.sameIDs("permissions after removal", listField(m.do("GET", path, nil, 200), "permissions", "permission_name"), []string{"read:x"})

	m.unchanged(func() {
		m.fails("POST", path, map[string]any{"permissions": []any{}}, 400, "invalid_body")
		m.fails("POST", path, map[string]any{}, 400, "invalid_body")
		m.fails("POST", path, map[string]any{"permissions": []any{map[string]string{"permission_name": "x"}}}, 400, "invalid_body")
		m.fails("POST", path, map[string]any{"permissions": []any{map[string]string{"resource_server_identifier": "a", "permission_name": "x", "extra": "y"}}}, 400, "invalid_body")
		m.fails("DELETE", path, map[string]any{"permissions": []any{}}, 400, "invalid_body")
		m.fails("POST", "/roles/rol_0000000000000000/permissions", map[string]any{"permissions": []any{perm("a", "b")}}, 404, "inexistent_role")
		m.fails("GET", "/roles/rol_0000000000000000/permissions", nil, 404, "inexistent_role")
	})
}

func TestRoleGroupsBindFromTheRoleSideAllOrNothing(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	alice := m.user(con, "alice")
	eng := m.group(con, "Engineering", alice)
	ops := m.group(con, "Ops")
	sales := m.group(con, "Sales")
	role := m.role("admin")
	path := "/roles/" + role + "/groups"

	m.do("POST", path, map[string]any{"groups": []string{eng, ops, eng}}, 204)
	rev := m.db.Revision()
	m.do("POST", path, map[string]any{"groups": []string{ops}}, 204) // bound already: a no-op
	if m.db.Revision() != rev {
		t.Errorf("binding twice wrote something")
	}
	m.sameIDs("role groups", m.pageThrough(path, "groups", "id", 1), sortedCopy(eng, ops))
	got := m.do("GET", path, nil, 200)["groups"].([]any)
	for _, g := range got {
		g := g.(map[string]any)
		if g["id"] == eng && (g["name"] != "Engineering" || g["members_count"] != float64(1) || g["connection_id"] != con) {
			t.Errorf("group view %v: want name Engineering, members_count 1 and connection_id %s", g, con)
		}
	}
	m.sameIDs("roles of Ops", listField(m.do("GET", "/groups/"+ops+"/roles", nil, 200), "roles", "id"), []string{role})

	m.unchanged(func() {
		m.fails("POST", path, map[string]any{"groups": []string{sales, "grp_0000000000000000"}}, 404, "inexistent_group")
		m.fails("POST", path, map[string]any{"groups": []string{sales, "garbage"}}, 404, "inexistent_group")
		m.fails("POST", "/roles/rol_0000000000000000/groups", map[string]any{"groups": []string{sales}}, 404, "inexistent_role")
		m.fails("DELETE", path, map[string]any{"groups": []string{eng, "grp_0000000000000000"}}, 404, "inexistent_group")
		m.fails("POST", path, map[string]any{"groups": []string{}}, 400, "invalid_body")
		m.fails("POST", path, map[string]any{}, 400, "invalid_body")
		m.fails("POST", path, map[string]any{"groups": sales}, 400, "invalid_body")
		m.fails("POST", path, map[string]any{"roles": []string{sales}}, 400, "invalid_body")
	})
	m.sameIDs("role groups after rejected writes", m.pageThrough(path, "groups", "id", 50), sortedCopy(eng, ops))

	m.do("DELETE", path, map[string]any{"groups": []string{eng, sales}}, 204) // Sales is not bound: ignored
	m.sameIDs("role groups after removal", m.pageThrough(path, "groups", "id", 50), []string{ops})
	m.fails("GET", "/roles/rol_0000000000000000/groups", nil, 404, "inexistent_role")
}

// TestDeletingARoleRemovesItsBindingsEverywhere: the store cascades, and
// every listing of the API shows it at once.
func TestDeletingARoleRemovesItsBindingsEverywhere(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	alice := m.user(con, "alice")
	eng := m.group(con, "Engineering", alice)
	org := m.org("acme")
	m.do("POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": con, "assign_membership_on_login": true}, 201)
	doomed, kept := m.role("doomed"), m.role("kept")
	both := map[string]any{"roles": []string{doomed, kept}}
	m.do("POST", "/groups/"+eng+"/roles", both, 204)
	m.do("POST", "/users/"+alice+"/roles", both, 204)
	m.do("POST", "/organizations/"+org+"/groups/"+eng+"/roles", both, 204)
	m.do("POST", "/organizations/"+org+"/members/"+alice+"/roles", both, 204)

	m.do("DELETE", "/roles/"+doomed, nil, 204)
	for _, path := range []string{
		"/groups/" + eng + "/roles",
		"/users/" + alice + "/roles",
		"/organizations/" + org + "/groups/" + eng + "/roles",
		"/organizations/" + org + "/members/" + alice + "/roles",
	} {
		m.sameIDs(path, listField(m.do("GET", path, nil, 200), "roles", "id"), []string{kept})
	}
	for _, typ := range []string{"group.role.deleted", "user.role.deleted", "organization.group.role.deleted", "organization.member.role.deleted"} {
		logs := m.logs(typ)
		if len(logs) != 1 || logs[0]["channel"] != "cascade" {
			t.Errorf("%s entries %v: want one, in the cascade channel", typ, logs)
		}
	}
}

// TestARolesUsersAndOrganizationBindingsListFromTheRoleSide: GET
// /roles/{id}/users (Auth0's direct assignments) and GET
// /roles/{id}/organization-bindings page with from/take, name what they
// list, count with include_totals, and need read:roles.
func TestARolesUsersAndOrganizationBindingsListFromTheRoleSide(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	alice := m.userDoc(con, "alice", "ext-alice", `{"userName":"alice","displayName":"Alice A.","emails":[{"value":"alice@acme.example","primary":true}]}`)
	bob, carol := m.user(con, "bob"), m.user(con, "carol")
	eng := m.group(con, "Engineering", alice, bob)
	globex, initech := m.org("globex"), m.org("initech")
	for _, org := range []string{globex, initech} {
		m.do("POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": con, "assign_membership_on_login": true}, 201)
	}
	role, other := m.role("admin"), m.role("viewer")
	one := map[string]any{"roles": []string{role}}
	for _, u := range []string{alice, bob, carol} {
		m.do("POST", "/users/"+u+"/roles", one, 204)
	}
	m.do("POST", "/users/"+bob+"/roles", map[string]any{"roles": []string{other}}, 204)
	m.do("POST", "/groups/"+eng+"/roles", one, 204) // tenant scope: neither list shows it
	m.do("POST", "/organizations/"+globex+"/groups/"+eng+"/roles", one, 204)
	m.do("POST", "/organizations/"+globex+"/members/"+carol+"/roles", one, 204)
	m.do("POST", "/organizations/"+initech+"/members/"+alice+"/roles", one, 204)
	m.do("POST", "/organizations/"+initech+"/members/"+bob+"/roles", map[string]any{"roles": []string{other}}, 204)

	users := "/roles/" + role + "/users"
	for _, take := range []int{1, 2, 50} {
		m.sameIDs("users of admin", m.pageThrough(users, "users", "user_id", take), sortedCopy(alice, bob, carol))
	}
	got := m.do("GET", users+"?take=1", nil, 200)
	u := got["users"].([]any)[0].(map[string]any)
	if u["user_id"] != sortedCopy(alice, bob, carol)[0] || got["total"] != nil {
		t.Errorf("first page %v: want the lowest user id and no total unless asked", got)
	}
	for _, v := range m.do("GET", users, nil, 200)["users"].([]any) {
		if v := v.(map[string]any); v["user_id"] == alice && (v["user_name"] != "alice" || v["email"] != "alice@acme.example" ||
			v["display_name"] != "Alice A." || v["connection_id"] != con || v["active"] != true) {
			t.Errorf("alice as a user of the role: %v", v)
		}
	}
	if got := m.do("GET", users+"?take=1&include_totals=true", nil, 200); got["total"] != float64(3) || got["next"] == nil {
		t.Errorf("include_totals: %v, want total 3 and a next cursor", got)
	}
	m.sameIDs("users of viewer", listField(m.do("GET", "/roles/"+other+"/users", nil, 200), "users", "user_id"), []string{bob})

	// Organization bindings: by organization, a group's before a member's.
	bindings := "/roles/" + role + "/organization-bindings"
	key := func(b map[string]any) string {
		id, _ := b["group_id"].(string)
		if id == "" {
			id, _ = b["user_id"].(string)
		}
		return b["organization_id"].(string) + "/" + b["type"].(string) + "/" + id
	}
	want := []string{globex + "/group/" + eng, globex + "/member/" + carol, initech + "/member/" + alice}
	if initech < globex {
		want = []string{initech + "/member/" + alice, globex + "/group/" + eng, globex + "/member/" + carol}
	}
	for _, take := range []int{1, 2, 50} {
		var all []string
		for from := ""; ; {
			path := bindings + "?take=" + strconv.Itoa(take)
			if from != "" {
				path += "&from=" + url.QueryEscape(from)
			}
			out := m.do("GET", path, nil, 200)
			for _, b := range out["bindings"].([]any) {
				all = append(all, key(b.(map[string]any)))
			}
			if from, _ = out["next"].(string); from == "" {
				break
			}
		}
		m.sameIDs("organization bindings, take "+strconv.Itoa(take), all, want)
	}
	for _, b := range m.do("GET", bindings, nil, 200)["bindings"].([]any) {
		b := b.(map[string]any)
		switch b["type"] {
		case "group":
			if b["group_name"] != "Engineering" || b["organization_name"] != "globex" || b["connection_id"] != con || b["user_id"] != nil {
				t.Errorf("group binding %v", b)
			}
		case "member":
			if b["user_name"] == nil || b["organization_name"] == nil || b["group_id"] != nil {
				t.Errorf("member binding %v", b)
			}
		default:
			t.Errorf("binding of type %v", b["type"])
		}
	}
	groupsOnly := m.do("GET", bindings+"?type=group&include_totals=true", nil, 200)
	m.sameIDs("group bindings", listField(groupsOnly, "bindings", "group_id"), []string{eng})
	if groupsOnly["total"] != float64(1) {
		t.Errorf("group bindings total %v, want 1", groupsOnly["total"])
	}
	members := m.do("GET", bindings+"?type=member&include_totals=true", nil, 200)
	wantMembers := []string{carol, alice} // by organization: carol's globex, then alice's initech
	if initech < globex {
		wantMembers = []string{alice, carol}
	}
	m.sameIDs("member bindings", listField(members, "bindings", "user_id"), wantMembers)
	if members["total"] != float64(2) || m.do("GET", bindings+"?include_totals=true", nil, 200)["total"] != float64(3) {
		t.Errorf("member bindings total %v, want 2 (and 3 for both kinds)", members["total"])
	}
	if total := m.do("GET", "/roles/"+role+"/groups?include_totals=true", nil, 200)["total"]; total != float64(1) {
		t.Errorf("GET /roles/{id}/groups?include_totals=true: total %v, want 1", total)
	}

	for _, path := range []string{users, bindings} {
		m.fails("GET", path+"?take=0", nil, 400, "invalid_query_string")
		m.fails("GET", path+"?include_totals=yes", nil, 400, "invalid_query_string")
		m.fails("GET", strings.Replace(path, role, "rol_0000000000000000", 1), nil, 404, "inexistent_role")
		rec, out := m.send(m.keyWithout(api.ScopeReadRoles), "GET", path, nil)
		assertMgmtError(t, path+" without read:roles", rec, out, 403, "insufficient_scope")
	}
	m.fails("GET", bindings+"?type=user", nil, 400, "invalid_query_string")

	// Deleting the role's last bindings empties the lists.
	m.do("DELETE", "/users/"+alice+"/roles", one, 204)
	m.do("DELETE", "/organizations/"+globex+"/groups/"+eng+"/roles", one, 204)
	m.sameIDs("users after a removal", listField(m.do("GET", users, nil, 200), "users", "user_id"), sortedCopy(bob, carol))
	m.sameIDs("group bindings after a removal", listField(m.do("GET", bindings+"?type=group", nil, 200), "bindings", "group_id"), []string{})
}
