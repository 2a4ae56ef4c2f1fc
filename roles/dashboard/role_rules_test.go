package dashboard_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// The rule editor previews how many users a filter matches before saving,
// saves the rule, and the user page then names the rule that granted the
// role; a refused filter shows the API's message and saves nothing.
func TestRoleRuleEditorPreviewsAndSaves(t *testing.T) {
	e := newEnv(t)
	con := storetest.MustConnection(t, e.db, "okta")
	var alice store.User
	storetest.MustUpdate(t, e.db, func(tx *store.Tx) (err error) {
		for _, u := range []struct{ name, title string }{{"alice", "VP Sales"}, {"bob", "VP Eng"}, {"carol", "Engineer"}} {
			doc, _ := json.Marshal(map[string]any{"userName": u.name, "active": true, "title": u.title})
			created, err := tx.CreateUser(store.User{ConnectionID: con.ID, UserName: u.name, Active: true, Doc: doc})
			if err != nil {
				return err
			}
			if u.name == "alice" {
				alice = created
			}
		}
		return nil
	})
	role := e.apiCall("POST", "/roles", map[string]any{"name": "approver"}, http.StatusCreated)["id"].(string)
	b := e.browser()
	b.signIn(adminToken)

	p := b.visit("/dashboard/role-rules")
	mustContain(t, "rules list", p.body, "Role rules", "No role rules yet.", "New rule")
	p = b.visit("/dashboard/role-rules/new")
	mustContain(t, "editor", p.body, `name="filter"`, "approver", "Preview")

	form := url.Values{"csrf": {b.csrf}, "name": {"vps"}, "filter": {`title sw "VP"`}, "roles": {role}, "action": {"preview"}}
	p = b.postWith("/dashboard/role-rules", form, nil)
	mustContain(t, "preview", p.body, "2 users match", ">alice<", ">bob<", `value="title sw &#34;VP&#34;"`)
	if list := e.apiCall("GET", "/role-rules", nil, http.StatusOK)["role_rules"].([]any); len(list) != 0 {
		t.Fatalf("a preview saved %v", list)
	}

	bad := url.Values{"csrf": {b.csrf}, "name": {"bad"}, "filter": {`title sw`}, "roles": {role}, "action": {"preview"}}
	p = b.postWith("/dashboard/role-rules", bad, nil)
	mustContain(t, "refused preview", p.body, "does not follow the SCIM filter grammar")

	form.Set("action", "save")
	p = b.submit("/dashboard/role-rules", form)
	mustContain(t, "after saving", p.body, "Rule vps created")
	list := e.apiCall("GET", "/role-rules", nil, http.StatusOK)["role_rules"].([]any)
	if len(list) != 1 {
		t.Fatalf("rules after saving: %v", list)
	}
	rule := list[0].(map[string]any)["id"].(string)
	e.apiCall("GET", "/users/"+alice.ID+"/effective-roles?min_revision="+revisionOf(t, e), nil, http.StatusOK)
	p = b.visit("/dashboard/users/" + alice.ID)
	mustContain(t, "user page", p.body, "approver", "Rule", `href="/dashboard/role-rules/`+rule+`"`, "vps")
}

// revisionOf is the store's current revision, as a query parameter.
func revisionOf(t *testing.T, e *env) string {
	t.Helper()
	raw, _ := json.Marshal(e.db.Revision())
	return string(raw)
}

// A save the API refuses comes back to the editor as submitted: the name
// and filter typed, the roles checked, the organization and connection
// chosen, not the rule as stored.
func TestRoleRuleEditorRefilledAfterRefusedSave(t *testing.T) {
	e := newEnv(t)
	con := storetest.MustConnection(t, e.db, "okta")
	approver := e.apiCall("POST", "/roles", map[string]any{"name": "approver"}, http.StatusCreated)["id"].(string)
	viewer := e.apiCall("POST", "/roles", map[string]any{"name": "viewer"}, http.StatusCreated)["id"].(string)
	org := e.apiCall("POST", "/organizations", map[string]any{"name": "acme"}, http.StatusCreated)["id"].(string)
	rule := e.apiCall("POST", "/role-rules", map[string]any{"name": "vps", "filter": `title sw "VP"`, "roles": []string{approver}}, http.StatusCreated)["id"].(string)
	b := e.browser()
	b.signIn(adminToken)
	b.visit("/dashboard/role-rules/new")

	for _, tc := range []struct{ name, path string }{
		{"new rule", "/dashboard/role-rules"},
		{"existing rule", "/dashboard/role-rules/" + rule},
	} {
		form := url.Values{"csrf": {b.csrf}, "name": {"typed"}, "filter": {`title sw`}, "roles": {viewer},
			"organization_id": {org}, "connection_id": {con.ID}, "action": {"save"}}
		p := b.submit(tc.path, form)
		mustContain(t, tc.name, p.body, "does not follow the SCIM filter grammar", `value="typed"`, `value="title sw"`,
			`value="`+viewer+`" checked`, `<option value="`+org+`" selected`, `<option value="`+con.ID+`" selected`)
		mustNotContain(t, tc.name, p.body, `value="`+approver+`" checked`)
	}
	got := e.apiCall("GET", "/role-rules/"+rule, nil, http.StatusOK)
	if got["name"] != "vps" || got["filter"] != `title sw "VP"` {
		t.Errorf("after refused saves the rule is %v, want it unchanged", got)
	}
}
