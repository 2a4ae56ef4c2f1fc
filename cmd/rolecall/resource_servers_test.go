package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// apiDef is a POST /resource-servers body defining scopes (value → description).
func apiDef(identifier, name string, scopes ...string) map[string]any {
	var defs []any
	for _, s := range scopes {
		defs = append(defs, map[string]any{"value": s, "description": "can " + s})
	}
	return map[string]any{"identifier": identifier, "name": name, "scopes": defs}
}

func permBody(perms ...[2]string) map[string]any {
	var list []any
	for _, p := range perms {
		list = append(list, map[string]any{"resource_server_identifier": p[0], "permission_name": p[1]})
	}
	return map[string]any{"permissions": list}
}

// A typo in a permission's API or scope is a 400 naming it, and adds
// nothing: it no longer creates a new "API" silently.
func TestTypoedPermissionIsRefused(t *testing.T) {
	s := startServer(t)
	const reports = "https://reports.acme.test"
	api := s.api(t, "POST", "/resource-servers", apiDef(reports, "Reports", "read:reports"), http.StatusCreated)
	role := s.api(t, "POST", "/roles", map[string]any{"name": "reader"}, http.StatusCreated)["id"].(string)
	for name, tc := range map[string]struct {
		perm [2]string
		want string
	}{
		"unknown API":     {[2]string{"https://reprots.acme.test", "read:reports"}, `resource server "https://reprots.acme.test" does not exist`},
		"undefined scope": {[2]string{reports, "read:report"}, `does not define the scope "read:report"`},
	} {
		resp, out := call(t, "POST", s.URL+"/api/v2/roles/"+role+"/permissions", testAdminToken, permBody([2]string{reports, "read:reports"}, tc.perm))
		if resp.StatusCode != 400 || out["errorCode"] != "invalid_body" || !strings.Contains(out["message"].(string), tc.want) {
			t.Errorf("%s: %d %v, want 400 invalid_body saying %s", name, resp.StatusCode, out, tc.want)
		}
	}
	if got := s.api(t, "GET", "/roles/"+role+"/permissions", nil, 200)["permissions"].([]any); len(got) != 0 {
		t.Errorf("refused requests added %v", got)
	}
	s.api(t, "POST", "/roles/"+role+"/permissions", permBody([2]string{reports, "read:reports"}), http.StatusCreated)
	got := s.api(t, "GET", "/roles/"+role+"/permissions", nil, 200)["permissions"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["resource_server_name"] != "Reports" || got[0].(map[string]any)["description"] != "can read:reports" {
		t.Errorf("role permissions = %v, want read:reports with its API's name and scope's description", got)
	}

	// The API itself: by id or by identifier; bounds and the fixed identifier.
	if got := s.api(t, "GET", "/resource-servers/"+url.PathEscape(reports), nil, 200)["id"]; got != api["id"] {
		t.Errorf("by identifier: id %v, want %v", got, api["id"])
	}
	for name, tc := range map[string]struct {
		method, path string
		body         any
		status       int
		code, says   string
	}{
		"duplicate identifier": {"POST", "/resource-servers", apiDef(reports, "again"), 409, "resource_server_conflict", reports},
		"missing identifier":   {"POST", "/resource-servers", map[string]any{"name": "x"}, 400, "invalid_body", "identifier"},
		"scope value too long": {"POST", "/resource-servers", apiDef("https://x.test", "x", strings.Repeat("s", 281)), 400, "invalid_body", "1 to 280 characters"},
		"identifier changed":   {"PATCH", "/resource-servers/" + api["id"].(string), map[string]any{"identifier": "https://moved.test"}, 400, "invalid_body", "cannot be changed"},
		"unknown API":          {"GET", "/resource-servers/rsv_0000000000000000", nil, 404, "inexistent_resource_server", "not found"},
	} {
		resp, out := call(t, tc.method, s.URL+"/api/v2"+tc.path, testAdminToken, tc.body)
		if resp.StatusCode != tc.status || out["errorCode"] != tc.code || !strings.Contains(out["message"].(string), tc.says) {
			t.Errorf("%s: %d %v, want %d %s saying %q", name, resp.StatusCode, out, tc.status, tc.code, tc.says)
		}
	}
	// A key without read:resource_servers cannot read APIs.
	key := s.api(t, "POST", "/api-keys", map[string]any{"name": "roles only", "scopes": []string{"read:roles"}}, 201)["key"].(string)
	if resp, out := call(t, "GET", s.URL+"/api/v2/resource-servers", key, nil); resp.StatusCode != 403 {
		t.Errorf("GET /resource-servers without its scope: %d %v, want 403", resp.StatusCode, out)
	}
}

// Deleting an API removes its permissions from every role in the same
// write, audited as cascades; removing a scope does the same for that scope.
func TestDeletingAnAPIRemovesItsRolePermissions(t *testing.T) {
	s := startServer(t)
	const reports, billing = "https://reports.acme.test", "https://billing.acme.test"
	api := s.api(t, "POST", "/resource-servers", apiDef(reports, "Reports", "read:reports", "write:reports"), 201)["id"].(string)
	s.api(t, "POST", "/resource-servers", apiDef(billing, "Billing", "read:invoices"), 201)
	role := s.api(t, "POST", "/roles", map[string]any{"name": "analyst"}, 201)["id"].(string)
	s.api(t, "POST", "/roles/"+role+"/permissions", permBody([2]string{reports, "read:reports"}, [2]string{reports, "write:reports"}, [2]string{billing, "read:invoices"}), 201)

	s.api(t, "PATCH", "/resource-servers/"+api, map[string]any{"scopes": []any{map[string]any{"value": "read:reports"}}}, 200)
	if n := len(s.api(t, "GET", "/roles/"+role+"/permissions", nil, 200)["permissions"].([]any)); n != 2 {
		t.Errorf("after removing the scope write:reports the role has %d permissions, want 2", n)
	}
	s.api(t, "DELETE", "/resource-servers/"+api, nil, http.StatusNoContent)
	got := s.api(t, "GET", "/roles/"+role+"/permissions", nil, 200)["permissions"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["resource_server_identifier"] != billing {
		t.Errorf("after deleting the reports API the role has %v, want only billing's", got)
	}
	logs := s.api(t, "GET", "/logs?type=role.permission.deleted&target_id="+role, nil, 200)
	var channels []string
	for _, e := range logs["logs"].([]any) {
		channels = append(channels, e.(map[string]any)["channel"].(string))
	}
	if strings.Join(channels, ",") != "cascade,cascade" {
		t.Errorf("role.permission.deleted entries have channels %v, want two cascades", channels)
	}
	s.api(t, "GET", "/resource-servers/"+api, nil, 404)
}

// Permissions granted to a user directly join the effective permissions of
// logins without an organization, marked direct, described by their API.
func TestEffectivePermissionsIncludeDirectOnes(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	idp := scimClient{t, base, s.scimToken(t, conID)}
	alice := idp.user("alice@acme.test")
	eng := idp.group("Engineering", alice)
	const reports = "https://reports.acme.test"
	s.api(t, "POST", "/resource-servers", apiDef(reports, "Reports", "read:reports", "export:reports"), 201)
	role := s.api(t, "POST", "/roles", map[string]any{"name": "reader"}, 201)["id"].(string)
	s.api(t, "POST", "/roles/"+role+"/permissions", permBody([2]string{reports, "read:reports"}), 201)
	s.api(t, "POST", "/groups/"+eng+"/roles", map[string]any{"roles": []string{role}}, 204)

	if resp, out := call(t, "POST", s.URL+"/api/v2/users/"+alice+"/permissions", testAdminToken, permBody([2]string{reports, "exprot:reports"})); resp.StatusCode != 400 {
		t.Errorf("a typo'd direct permission: %d %v, want 400", resp.StatusCode, out)
	}
	s.api(t, "POST", "/users/"+alice+"/permissions", permBody([2]string{reports, "export:reports"}, [2]string{reports, "read:reports"}), 201)
	direct := s.api(t, "GET", "/users/"+alice+"/permissions", nil, 200)["permissions"].([]any)
	if len(direct) != 2 || direct[0].(map[string]any)["resource_server_name"] != "Reports" {
		t.Errorf("direct permissions = %v, want two, described", direct)
	}

	eff := s.api(t, "GET", "/users/"+alice+"/effective-permissions", nil, 200)["permissions"].([]any)
	sources := map[string]string{}
	for _, p := range eff {
		m := p.(map[string]any)
		if m["resource_server_name"] != "Reports" || m["description"] != "can "+m["permission_name"].(string) {
			t.Errorf("effective permission %v lacks its API's name or scope's description", m)
		}
		var types []string
		for _, src := range m["sources"].([]any) {
			types = append(types, src.(map[string]any)["type"].(string))
		}
		sources[m["permission_name"].(string)] = strings.Join(types, ",")
	}
	if sources["export:reports"] != "direct" || sources["read:reports"] != "direct,role" || len(sources) != 2 {
		t.Errorf("effective permission sources = %v, want export:reports direct, read:reports direct and role", sources)
	}

	res := s.query(t, testAdminToken, map[string]any{"user_id": alice})
	claims := res["claims"].(map[string]any)["permissions"].([]any)
	if len(claims) != 2 || claims[0] != "export:reports" {
		t.Errorf("login claims = %v, want export:reports and read:reports", claims)
	}
	p0 := res["permissions"].([]any)[0].(map[string]any)
	if p0["resource_server_name"] != "Reports" || p0["description"] != "can export:reports" {
		t.Errorf("login permission %v lacks its API's name or description", p0)
	}

	// Direct permissions are tenant level: an organization login leaves them out.
	org := s.api(t, "POST", "/organizations", map[string]any{"name": "globex"}, 201)["id"].(string)
	s.api(t, "POST", "/organizations/"+org+"/members", map[string]any{"members": []string{alice}}, 204)
	inOrg := s.query(t, testAdminToken, map[string]any{"user_id": alice, "organization_id": org})
	for _, c := range inOrg["claims"].(map[string]any)["permissions"].([]any) {
		if c == "export:reports" {
			t.Errorf("an organization login carries the direct permission export:reports: %v", inOrg)
		}
	}

	s.api(t, "DELETE", "/users/"+alice+"/permissions", permBody([2]string{reports, "export:reports"}), 204)
	res = s.query(t, testAdminToken, map[string]any{"user_id": alice})
	if claims := res["claims"].(map[string]any)["permissions"].([]any); len(claims) != 1 || claims[0] != "read:reports" {
		t.Errorf("after removing the direct permission the claims are %v, want [read:reports]", claims)
	}
}
