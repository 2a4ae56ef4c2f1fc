package dashboard_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// A user's page says which IdP value granted a role through a role mapping,
// and links the connection that maps it.
func TestUserPageShowsIdPRoleSources(t *testing.T) {
	e := newEnv(t)
	con := storetest.MustConnection(t, e.db, "entra")
	var u store.User
	storetest.MustUpdate(t, e.db, func(tx *store.Tx) (err error) {
		u, err = tx.CreateUser(store.User{ConnectionID: con.ID, UserName: "alice", Active: true,
			Doc: json.RawMessage(`{"roles":[{"value":"Billing.Admin","type":"WindowsAzureActiveDirectoryRole"}]}`)})
		return err
	})
	role := e.apiCall("POST", "/roles", map[string]any{"name": "billing-admin"}, http.StatusCreated)["id"].(string)
	e.apiCall("POST", "/connections/"+con.ID+"/role-mappings", map[string]any{"idp_value": "Billing.Admin", "role_id": role}, http.StatusCreated)
	b := e.browser()
	b.signIn(adminToken)
	p := b.visit("/dashboard/users/" + u.ID)
	mustContain(t, "user page", p.body, "billing-admin", "IdP role", "<code>Billing.Admin</code>", `href="/dashboard/connections/`+con.ID+`"`)
}
