package dashboard_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/rolecall/rolecall/store/storetest"
)

// TestConnectionPageManagesRoleMappings: the connection page lists a
// connection's IdP role mappings with role and organization names, adds one
// through the API and removes it after asking.
func TestConnectionPageManagesRoleMappings(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(adminToken)
	con := storetest.MustConnection(t, e.db, "acme-entra").ID
	role := e.apiCall("POST", "/roles", map[string]any{"name": "billing-admin"}, http.StatusCreated)["id"].(string)
	org := e.apiCall("POST", "/organizations", map[string]any{"name": "acme"}, http.StatusCreated)["id"].(string)

	p := b.visit("/dashboard/connections/" + con)
	mustContain(t, "connection page", p.body, "Role mappings", "No role mappings.", `name="idp_value"`, "billing-admin", "In acme")

	p = b.submit("/dashboard/connections/"+con+"/role-mappings", url.Values{"idp_value": {"Billing.Admin"}, "role_id": {role}, "organization_id": {org}})
	mustContain(t, "after adding", p.body, "Billing.Admin", "billing-admin", "In acme", "now get the role")
	list := mappingsOf(t, e, con)
	if len(list) != 1 || list[0]["idp_value"] != "Billing.Admin" || list[0]["organization_id"] != org {
		t.Fatalf("mappings after the form: %v", list)
	}
	id := list[0]["id"].(string)

	// Without confirmation the form asks first and changes nothing.
	p = b.postWith("/dashboard/connections/"+con+"/role-mappings/"+id+"/delete", url.Values{"csrf": {b.csrf}, "idp_value": {"Billing.Admin"}}, nil)
	mustContain(t, "confirmation", p.body, "Remove the role mapping for Billing.Admin?")
	if n := len(mappingsOf(t, e, con)); n != 1 {
		t.Fatalf("%d mappings after an unconfirmed removal, want 1", n)
	}
	p = b.submit("/dashboard/connections/"+con+"/role-mappings/"+id+"/delete", url.Values{"idp_value": {"Billing.Admin"}})
	mustContain(t, "after removing", p.body, "removed", "No role mappings.")
}

// mappingsOf lists a connection's role mappings through the API (a bare
// array, which apiCall's object decoding does not take).
func mappingsOf(t *testing.T, e *env, con string) []map[string]any {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v2/connections/"+con+"/role-mappings", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, req)
	var out []map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
		t.Fatalf("GET role-mappings: %d %s", rec.Code, rec.Body)
	}
	return out
}
