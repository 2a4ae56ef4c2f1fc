package roles_test

import (
	"strings"
	"testing"

	"github.com/rolecall/rolecall/roles"
)

func TestRolesCreateReadUpdateDelete(t *testing.T) {
	m := newMgmt(t)
	rec, created := m.send(mgmtAdminToken, "POST", "/roles", map[string]any{"name": "Admin", "description": "all powers"})
	if rec.Code != 201 || !strings.HasPrefix(created["id"].(string), "rol_") || created["name"] != "Admin" || created["description"] != "all powers" {
		t.Fatalf("create: %d %v, want 201 with a rol_ id, the name and the description", rec.Code, created)
	}
	if rec.Header().Get(roles.RevisionHeader) == "" {
		t.Errorf("create answer lacks %s", roles.RevisionHeader)
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
