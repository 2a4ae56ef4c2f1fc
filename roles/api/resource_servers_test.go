package api_test

import (
	"testing"

	"github.com/rolecall/rolecall/roles/api"
)

func TestResourceServersCreateListUpdateDelete(t *testing.T) {
	m := newMgmt(t)
	scope := func(v, d string) map[string]string { return map[string]string{"value": v, "description": d} }
	var ids []string
	for _, ident := range []string{"https://a.test", "https://b.test", "https://c.test"} {
		out := m.do("POST", "/resource-servers", map[string]any{"identifier": ident, "scopes": []any{scope("read", "Read")}}, 201)
		if out["name"] != ident {
			t.Errorf("name defaults to the identifier: got %v", out["name"])
		}
		ids = append(ids, out["id"].(string))
	}
	m.sameIDs("paged", m.pageThrough("/resource-servers", "resource_servers", "id", 2), sortedCopy(ids...))

	updated := m.do("PATCH", "/resource-servers/"+ids[0], map[string]any{"name": "A", "scopes": []any{scope("read", "Read all"), scope("write", "")}}, 200)
	if updated["name"] != "A" || len(updated["scopes"].([]any)) != 2 {
		t.Errorf("PATCH answered %v", updated)
	}
	if got := m.logs("resource_server.updated"); len(got) != 1 {
		t.Errorf("resource_server.updated entries = %d, want 1", len(got))
	}
	m.unchanged(func() {
		m.fails("POST", "/resource-servers", map[string]any{"identifier": "https://a.test"}, 409, "resource_server_conflict")
		m.fails("POST", "/resource-servers", map[string]any{"identifier": "https://d.test", "scopes": []any{scope("x", ""), scope("x", "")}}, 400, "invalid_body")
		m.fails("POST", "/resource-servers", map[string]any{"identifier": "https://d.test", "signing_alg": "RS256"}, 400, "invalid_body")
		m.fails("PATCH", "/resource-servers/"+ids[0], map[string]any{"name": ""}, 400, "invalid_body")
		m.fails("DELETE", "/resource-servers/rsv_0000000000000000", nil, 404, "inexistent_resource_server")
		m.fails("GET", "/resource-servers?take=0", nil, 400, "invalid_query_string")
	})
	m.do("DELETE", "/resource-servers/"+ids[1], nil, 204)
	m.fails("GET", "/resource-servers/"+ids[1], nil, 404, "inexistent_resource_server")
	if got := m.logs("resource_server.deleted"); len(got) != 1 {
		t.Errorf("resource_server.deleted entries = %d, want 1", len(got))
	}
}

func TestResourceServerEndpointsNeedTheirScopes(t *testing.T) {
	m := newMgmt(t)
	id := m.do("POST", "/resource-servers", map[string]any{"identifier": "https://a.test"}, 201)["id"].(string)
	for scope, req := range map[string][2]string{
		api.ScopeReadResourceServers:   {"GET", "/resource-servers/" + id},
		api.ScopeCreateResourceServers: {"POST", "/resource-servers"},
		api.ScopeUpdateResourceServers: {"PATCH", "/resource-servers/" + id},
		api.ScopeDeleteResourceServers: {"DELETE", "/resource-servers/" + id},
	} {
		rec, out := m.send(m.keyWithout(scope), req[0], req[1], map[string]any{})
		assertMgmtError(t, req[0]+" "+req[1]+" without "+scope, rec, out, 403, "insufficient_scope")
	}
}

func TestUserPermissionsAssignListRemove(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	alice := m.user(con, "alice")
	m.do("POST", "/resource-servers", map[string]any{"identifier": "https://api.test", "name": "API",
		"scopes": []any{map[string]string{"value": "read", "description": "Read it"}}}, 201)
	perm := func(api, name string) map[string]any {
		return map[string]any{"permissions": []any{map[string]string{"resource_server_identifier": api, "permission_name": name}}}
	}
	path := "/users/" + alice + "/permissions"
	m.unchanged(func() {
		m.fails("POST", path, perm("https://api.test", "write"), 400, "invalid_body")
		m.fails("POST", path, perm("https://nope.test", "read"), 400, "invalid_body")
		m.fails("POST", "/users/usr_0000000000000000/permissions", perm("https://api.test", "read"), 404, "inexistent_user")
	})
	m.do("POST", path, perm("https://api.test", "read"), 201)
	got := m.do("GET", path, nil, 200)["permissions"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["description"] != "Read it" || got[0].(map[string]any)["resource_server_name"] != "API" {
		t.Errorf("user permissions = %v", got)
	}
	if n := len(m.logs("user.permission.assigned")); n != 1 {
		t.Errorf("user.permission.assigned entries = %d, want 1", n)
	}
	m.do("DELETE", path, perm("https://api.test", "read"), 204)
	if got := m.do("GET", path, nil, 200)["permissions"].([]any); len(got) != 0 {
		t.Errorf("after removal: %v", got)
	}
}
