package main

import (
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store/postgres/pgtest"
)

const enterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// activeUser creates an active SCIM user with an enterprise department.
func (c scimClient) activeUser(name, department string) string {
	c.t.Helper()
	return c.do("POST", "/Users", map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", enterpriseUser},
		"userName": name, "active": true,
		enterpriseUser: map[string]any{"department": department},
	}, 201)["id"].(string)
}

// An attribute rule over the enterprise department: the IdP moves alice to
// Sales with a SCIM PATCH, and the login query asked at the PATCH's
// revision shows the rule's role with the rule as its source. Rule writes
// answer at once; a query with min_revision at the rule's revision
// reflects it.
func TestAttributeRuleReachesTheLoginAnswer(t *testing.T) {
	s := startServer(t)
	con, base := s.connection(t, "okta")
	idp := scimClient{t, base, s.scimToken(t, con)}
	alice := idp.activeUser("alice@example.test", "Engineering")
	bob := idp.activeUser("bob@example.test", "Sales")
	role := s.api(t, "POST", "/roles", map[string]any{"name": "crm-user"}, 201)["id"].(string)

	resp, rule := call(t, "POST", s.URL+"/api/v2/role-rules", testAdminToken,
		map[string]any{"name": "sales", "filter": `department eq "Sales"`, "roles": []string{role}, "organization_id": nil, "connection_id": nil})
	if resp.StatusCode != 201 || rule["filter"] != `department eq "Sales"` || rule["organization_id"] != nil || rule["connection_id"] != nil {
		t.Fatalf("POST role-rules: %d %v", resp.StatusCode, rule)
	}
	ruleID := rule["id"].(string)
	if got := s.queryAt(t, bob, resp)["roles"].([]any); len(got) != 1 {
		t.Fatalf("bob (Sales) at the rule's revision has %v, want crm-user", got)
	}
	if got := s.queryAt(t, alice, resp)["roles"].([]any); len(got) != 0 {
		t.Fatalf("alice (Engineering) has %v, want nothing", got)
	}

	resp, _ = call(t, "PATCH", base+"/Users/"+alice, idp.token, patchOp(map[string]any{"op": "replace", "path": enterpriseUser + ":department", "value": "Sales"}))
	if resp.StatusCode != 204 && resp.StatusCode != 200 {
		t.Fatalf("SCIM PATCH department: %d", resp.StatusCode)
	}
	roles := s.queryAt(t, alice, resp)["roles"].([]any)
	if len(roles) != 1 {
		t.Fatalf("after the PATCH alice has %v, want crm-user", roles)
	}
	got := roles[0].(map[string]any)
	src := got["sources"].([]any)[0].(map[string]any)
	if got["id"] != role || src["type"] != "rule" || src["rule_id"] != ruleID || src["rule_name"] != "sales" || src["scope"] != "tenant" {
		t.Errorf("role %v, want crm-user from rule %s at tenant scope", got, ruleID)
	}

	// Narrowing the filter takes it from alice once evaluated.
	resp, updated := call(t, "PATCH", s.URL+"/api/v2/role-rules/"+ruleID, testAdminToken, map[string]any{"filter": `department eq "Sales" and userName sw "bob"`})
	if resp.StatusCode != 200 || updated["name"] != "sales" {
		t.Fatalf("PATCH role-rule: %d %v", resp.StatusCode, updated)
	}
	if got := s.queryAt(t, alice, resp)["roles"].([]any); len(got) != 0 {
		t.Errorf("after narrowing alice has %v", got)
	}
	// Deactivated users match no rule.
	resp, _ = call(t, "PATCH", base+"/Users/"+bob, idp.token, patchOp(map[string]any{"op": "replace", "path": "active", "value": false}))
	if got := s.queryAt(t, bob, resp)["roles"].([]any); len(got) != 0 {
		t.Errorf("inactive bob has %v", got)
	}

	resp, _ = call(t, "DELETE", s.URL+"/api/v2/role-rules/"+ruleID, testAdminToken, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("DELETE role-rule: %d", resp.StatusCode)
	}
	for _, typ := range []string{"role_rule.created", "role_rule.updated", "role_rule.deleted"} {
		if logs := s.api(t, "GET", "/logs?type="+typ, nil, 200)["logs"].([]any); len(logs) != 1 {
			t.Errorf("%d %s audit entries, want 1", len(logs), typ)
		}
	}
}

func TestRoleRulesEndpoints(t *testing.T) {
	s := startServer(t)
	con, base := s.connection(t, "okta")
	idp := scimClient{t, base, s.scimToken(t, con)}
	for _, d := range []string{"Sales", "Sales", "Engineering"} {
		idp.activeUser(uniqueName("u")+"@example.test", d)
	}
	role := s.api(t, "POST", "/roles", map[string]any{"name": "reader"}, 201)["id"].(string)
	org := s.api(t, "POST", "/organizations", map[string]any{"name": "acme"}, 201)["id"].(string)
	inOrg := s.api(t, "POST", "/role-rules", map[string]any{"name": "vp", "filter": `title sw "VP"`, "roles": []string{role}, "organization_id": org, "connection_id": con}, 201)
	if inOrg["organization_id"] != org || inOrg["connection_id"] != con {
		t.Errorf("rule %v, want organization %s and connection %s", inOrg, org, con)
	}
	ok := func(f string) map[string]any {
		return map[string]any{"name": "n", "filter": f, "roles": []string{role}}
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
		detail string
	}{
		{"unterminated string, with the position", ok(`department eq "Sales`), 400, "invalid_filter", "byte 14"},
		{"grammar error, with the position", ok(`title eq "x" and`), 400, "invalid_filter", "[00:012]"},
		{"unknown attribute", ok(`shoeSize gt 40`), 400, "invalid_filter", "shoeSize"},
		{"groups are not a user attribute here", ok(`groups eq "grp_1"`), 400, "invalid_filter", "groups"},
		{"too deep", ok(strings.Repeat("(", 40) + `title pr` + strings.Repeat(")", 40)), 400, "invalid_filter", "nesting"},
		{"too long", ok(`title eq "` + strings.Repeat("x", 9000) + `"`), 400, "invalid_filter", "8192"},
		{"no roles", map[string]any{"name": "n", "filter": "title pr", "roles": []string{}}, 400, "invalid_body", "roles"},
		{"too many roles", map[string]any{"name": "n", "filter": "title pr", "roles": make([]string, 51)}, 400, "invalid_body", "50"},
		{"no name", map[string]any{"filter": "title pr", "roles": []string{role}}, 400, "invalid_body", "name"},
		{"name too long", map[string]any{"name": strings.Repeat("n", 257), "filter": "title pr", "roles": []string{role}}, 400, "invalid_body", "256"},
		{"unknown role", map[string]any{"name": "n", "filter": "title pr", "roles": []string{"rol_0000000000000000"}}, 404, "inexistent_role", ""},
		{"unknown organization", map[string]any{"name": "n", "filter": "title pr", "roles": []string{role}, "organization_id": "org_0000000000000000"}, 404, "inexistent_organization", ""},
		{"unknown connection", map[string]any{"name": "n", "filter": "title pr", "roles": []string{role}, "connection_id": "con_0000000000000000"}, 404, "inexistent_connection", ""},
		{"empty organization", map[string]any{"name": "n", "filter": "title pr", "roles": []string{role}, "organization_id": ""}, 400, "invalid_body", "organization_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := call(t, "POST", s.URL+"/api/v2/role-rules", testAdminToken, tc.body)
			assertAPIError(t, resp, body, tc.status, tc.code)
			if msg, _ := body["message"].(string); !strings.Contains(msg, tc.detail) {
				t.Errorf("message %q, want it to name %q", msg, tc.detail)
			}
		})
	}
	list := s.api(t, "GET", "/role-rules?include_totals=true", nil, 200)
	if rules := list["role_rules"].([]any); len(rules) != 1 || list["total"] != float64(1) {
		t.Errorf("GET role-rules: %v, want the one rule created", list)
	}
	resp, body := call(t, "GET", s.URL+"/api/v2/role-rules/rul_0000000000000000", testAdminToken, nil)
	assertAPIError(t, resp, body, 404, "inexistent_role_rule")
	resp, body = call(t, "PATCH", s.URL+"/api/v2/role-rules/"+inOrg["id"].(string), testAdminToken, map[string]any{"filter": `title sw`})
	assertAPIError(t, resp, body, 400, "invalid_filter")
	// organization_id: null moves the rule to tenant scope.
	if got := s.api(t, "PATCH", "/role-rules/"+inOrg["id"].(string), map[string]any{"organization_id": nil}, 200); got["organization_id"] != nil || got["filter"] != `title sw "VP"` {
		t.Errorf("PATCH organization_id null: %v", got)
	}

	preview := s.api(t, "POST", "/role-rules/preview", map[string]any{"filter": `department eq "sales"`, "connection_id": con}, 200)
	if preview["matches"] != float64(2) || len(preview["sample"].([]any)) != 2 {
		t.Errorf("preview %v, want 2 matches with both in the sample", preview)
	}
	if p := s.api(t, "POST", "/role-rules/preview", map[string]any{"filter": `department eq "Sales"`, "organization_id": org}, 200); p["matches"] != float64(0) {
		t.Errorf("preview in an organization the connection is not auto-enabled on: %v, want 0", p)
	}
	resp, body = call(t, "POST", s.URL+"/api/v2/role-rules/preview", testAdminToken, map[string]any{"filter": `department eq`})
	assertAPIError(t, resp, body, 400, "invalid_filter")

	// Scopes: read:role_rules reads and previews, and writes nothing.
	key := s.api(t, "POST", "/api-keys", map[string]any{"name": "ro", "scopes": []string{"read:role_rules"}}, 201)["key"].(string)
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/role-rules", nil, 200},
		{"POST", "/role-rules/preview", map[string]any{"filter": "title pr"}, 200},
		{"POST", "/role-rules", ok("title pr"), 403},
		{"PATCH", "/role-rules/" + inOrg["id"].(string), map[string]any{"name": "x"}, 403},
		{"DELETE", "/role-rules/" + inOrg["id"].(string), nil, 403},
	} {
		if resp, _ := call(t, tc.method, s.URL+"/api/v2"+tc.path, key, tc.body); resp.StatusCode != tc.status {
			t.Errorf("%s %s with read:role_rules: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
	// Deleting the role deletes the rule it was the only role of.
	s.api(t, "DELETE", "/roles/"+role, nil, 204)
	if list := s.api(t, "GET", "/role-rules", nil, 200)["role_rules"].([]any); len(list) != 0 {
		t.Errorf("after its only role is deleted GET lists %v", list)
	}
}

// Two `rolecall serve` processes on one PostgreSQL database (skipped
// without ROLECALL_TEST_POSTGRES): a rule created on node 1 and a SCIM
// PATCH of the department on node 2 reach node 1's index through the
// changes log, and its login query at the PATCH's revision shows the role.
func TestAttributeRuleAcrossNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	one := startProcess(t, t.TempDir(), "--store", dsn, "--scim-rate", "0")
	two := startProcess(t, t.TempDir(), "--store", dsn, "--scim-rate", "0")
	admin := &testServer{URL: one.URL}
	con, _ := admin.connection(t, "nodes")
	idp := scimClient{t, two.URL + "/scim/v2/connections/" + con, admin.scimToken(t, con)}
	alice := idp.activeUser("alice@example.test", "Engineering")
	role := admin.api(t, "POST", "/roles", map[string]any{"name": "crm-user"}, 201)["id"].(string)
	admin.api(t, "POST", "/role-rules", map[string]any{"name": "sales", "filter": `department eq "Sales"`, "roles": []string{role}}, 201)
	resp, _ := call(t, "PATCH", idp.base+"/Users/"+alice, idp.token, patchOp(map[string]any{"op": "replace", "path": enterpriseUser + ":department", "value": "Sales"}))
	if resp.StatusCode != 204 && resp.StatusCode != 200 {
		t.Fatalf("SCIM PATCH on node 2: %d", resp.StatusCode)
	}
	roles := admin.queryAt(t, alice, resp)["roles"].([]any)
	if len(roles) != 1 || roles[0].(map[string]any)["sources"].([]any)[0].(map[string]any)["type"] != "rule" {
		t.Errorf("node 1 answers %v, want crm-user from the rule", roles)
	}
}
