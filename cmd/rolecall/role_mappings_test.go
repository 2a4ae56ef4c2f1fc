package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// queryAt asks the login query for one user with min_revision set to the
// revision a write answered: read-your-writes across the two surfaces.
func (s *testServer) queryAt(t *testing.T, userID string, resp *http.Response) map[string]any {
	t.Helper()
	rev, err := strconv.ParseUint(resp.Header.Get("Rolecall-Revision"), 10, 64)
	if err != nil {
		t.Fatalf("%s %s answered no revision: %v", resp.Request.Method, resp.Request.URL, err)
	}
	r, out := call(t, "POST", s.URL+"/api/v2/effective-roles/query", testAdminToken,
		map[string]any{"subjects": []any{map[string]any{"user_id": userID}}, "min_revision": rev})
	if r.StatusCode != 200 {
		t.Fatalf("query: %d %v", r.StatusCode, out)
	}
	return out["results"].([]any)[0].(map[string]any)
}

// Entra ID provisions an app role assignment as a capitalised PATCH Add
// of the User's roles; with a role mapping on the connection the login
// answer carries the mapped role, with the IdP value and connection as its
// source. Removing the value, or the mapping, takes the role away; each
// answer asked at the write's revision reflects it.
func TestEntraAppRoleReachesTheLoginAnswerThroughARoleMapping(t *testing.T) {
	s := startServer(t)
	con, base := s.connection(t, "entra")
	idp := scimClient{t, base, s.scimToken(t, con)}
	alice := idp.user("alice@contoso.test")
	role := s.api(t, "POST", "/roles", map[string]any{"name": "billing-admin"}, 201)["id"].(string)

	resp, m := call(t, "POST", s.URL+"/api/v2/connections/"+con+"/role-mappings", testAdminToken,
		map[string]any{"idp_value": "Billing.Admin", "role_id": role, "organization_id": nil})
	if resp.StatusCode != 201 || m["idp_value"] != "Billing.Admin" || m["role_id"] != role || m["organization_id"] != nil || m["connection_id"] != con {
		t.Fatalf("POST role-mappings: %d %v", resp.StatusCode, m)
	}
	mapping := m["id"].(string)
	if got := s.queryAt(t, alice, resp)["roles"].([]any); len(got) != 0 {
		t.Fatalf("before the IdP sends the value alice has %v", got)
	}

	resp, _ = call(t, "PATCH", base+"/Users/"+alice, idp.token, patchOp(map[string]any{"op": "Add", "path": "roles", "value": []any{
		map[string]any{"value": "Billing.Admin", "display": "Billing admin", "type": "WindowsAzureActiveDirectoryRole", "primary": false},
	}}))
	if resp.StatusCode != 204 {
		t.Fatalf("Entra PATCH: %d", resp.StatusCode)
	}
	roles := s.queryAt(t, alice, resp)["roles"].([]any)
	if len(roles) != 1 {
		t.Fatalf("after the PATCH alice has %v, want billing-admin", roles)
	}
	got := roles[0].(map[string]any)
	src := got["sources"].([]any)[0].(map[string]any)
	if got["id"] != role || src["type"] != "idp_role" || src["value"] != "Billing.Admin" || src["connection_id"] != con || src["scope"] != "tenant" {
		t.Errorf("role %v, want billing-admin from idp_role Billing.Admin of %s at tenant scope", got, con)
	}

	resp, _ = call(t, "PATCH", base+"/Users/"+alice, idp.token, patchOp(map[string]any{"op": "Remove", "path": `roles[value eq "Billing.Admin"]`}))
	if resp.StatusCode != 204 {
		t.Fatalf("Entra PATCH Remove: %d", resp.StatusCode)
	}
	if roles := s.queryAt(t, alice, resp)["roles"].([]any); len(roles) != 0 {
		t.Errorf("after the value is removed alice has %v", roles)
	}

	resp, _ = call(t, "PATCH", base+"/Users/"+alice, idp.token, patchOp(map[string]any{"op": "Add", "path": "roles", "value": []any{map[string]any{"value": "Billing.Admin"}}}))
	if roles := s.queryAt(t, alice, resp)["roles"].([]any); len(roles) != 1 {
		t.Fatalf("after the value is back alice has %v", roles)
	}
	resp, _ = call(t, "DELETE", s.URL+"/api/v2/connections/"+con+"/role-mappings/"+mapping, testAdminToken, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("DELETE mapping: %d", resp.StatusCode)
	}
	if roles := s.queryAt(t, alice, resp)["roles"].([]any); len(roles) != 0 {
		t.Errorf("after the mapping is deleted alice has %v", roles)
	}
	logs := s.api(t, "GET", "/logs?type=connection.role_mapping.deleted", nil, 200)["logs"].([]any)
	if len(logs) != 1 {
		t.Errorf("no connection.role_mapping.deleted audit entry")
	}
}

func TestRoleMappingsEndpoints(t *testing.T) {
	s := startServer(t)
	con, _ := s.connection(t, "entra")
	role := s.api(t, "POST", "/roles", map[string]any{"name": "reader"}, 201)["id"].(string)
	org := s.api(t, "POST", "/organizations", map[string]any{"name": "acme"}, 201)["id"].(string)
	path := "/api/v2/connections/" + con + "/role-mappings"
	s.api(t, "POST", "/connections/"+con+"/role-mappings", map[string]any{"idp_value": "Reader", "role_id": role}, 201)
	inOrg := s.api(t, "POST", "/connections/"+con+"/role-mappings", map[string]any{"idp_value": "Reader", "role_id": role, "organization_id": org}, 201)
	if inOrg["organization_id"] != org {
		t.Errorf("organization mapping %v, want organization_id %s", inOrg, org)
	}
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		code   string
	}{
		{"duplicate, in another case", path, map[string]any{"idp_value": "reader", "role_id": role}, 409, "role_mapping_conflict"},
		{"unknown role", path, map[string]any{"idp_value": "x", "role_id": "rol_0000000000000000"}, 404, "inexistent_role"},
		{"unknown organization", path, map[string]any{"idp_value": "x", "role_id": role, "organization_id": "org_0000000000000000"}, 404, "inexistent_organization"},
		{"unknown connection", "/api/v2/connections/con_0000000000000000/role-mappings", map[string]any{"idp_value": "x", "role_id": role}, 404, "inexistent_connection"},
		{"no value", path, map[string]any{"role_id": role}, 400, "invalid_body"},
		{"no role", path, map[string]any{"idp_value": "x"}, 400, "invalid_body"},
		{"empty organization", path, map[string]any{"idp_value": "x", "role_id": role, "organization_id": ""}, 400, "invalid_body"},
		{"value too long", path, map[string]any{"idp_value": strings.Repeat("v", 1025), "role_id": role}, 400, "invalid_body"},
		{"unknown field", path, map[string]any{"idp_value": "x", "role_id": role, "scope": "tenant"}, 400, "invalid_body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, "POST", s.URL+tc.path, testAdminToken, tc.body)
			assertAPIError(t, resp, body, tc.status, tc.code)
		})
	}
	resp, body := call(t, "DELETE", s.URL+path+"/rmp_0000000000000000", testAdminToken, nil)
	assertAPIError(t, resp, body, 404, "inexistent_role_mapping")
	if list := s.apiList(t, "/connections/"+con+"/role-mappings"); len(list) != 2 {
		t.Errorf("GET role-mappings lists %d, want the 2 created: %v", len(list), list)
	}
	// Deleting the organization deletes its mapping.
	s.api(t, "DELETE", "/organizations/"+org, nil, 204)
	if list := s.apiList(t, "/connections/"+con+"/role-mappings"); len(list) != 1 {
		t.Errorf("after the organization is deleted GET lists %v, want the tenant mapping", list)
	}
	// A key without the scope is refused.
	key := s.api(t, "POST", "/api-keys", map[string]any{"name": "ro", "scopes": []string{"read:role_mappings"}}, 201)["key"].(string)
	resp, body = call(t, "POST", s.URL+path, key, map[string]any{"idp_value": "y", "role_id": role})
	assertAPIError(t, resp, body, 403, "insufficient_scope")
	if resp, _ := call(t, "GET", s.URL+path, key, nil); resp.StatusCode != 200 {
		t.Errorf("GET with read:role_mappings: %d", resp.StatusCode)
	}
}
