package dashboard_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

// TestNamesAreIsolatedFromTheTextAroundThem: a right-to-left override in a
// name the IdP sent ("\u202Egnp.exe" shows as "exe.png") must not reorder
// the text around it, so every name is rendered inside <bdi>.
func TestNamesAreIsolatedFromTheTextAroundThem(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(adminToken)
	con := storetest.MustConnection(t, e.db, "acme-okta").ID
	const sly = "admin\u202Enimda"
	var u store.User
	storetest.MustUpdate(t, e.db, func(tx *store.Tx) (err error) {
		u, err = tx.CreateUser(store.User{ConnectionID: con, UserName: sly, Active: true, Doc: []byte(`{"userName":"` + sly + `","displayName":"` + sly + `"}`)})
		return err
	})
	g := storetest.MustGroup(t, e.db, con, "Ops\u202Esnimda", u.ID).ID
	role := e.apiCall("POST", "/roles", map[string]any{"name": "role\u202Eelor"}, 201)["id"].(string)
	e.apiCall("POST", "/roles/"+role+"/users", map[string]any{"users": []string{u.ID}}, 204)
	for _, path := range []string{"/dashboard/users", "/dashboard/users/" + u.ID, "/dashboard/groups", "/dashboard/groups/" + g,
		"/dashboard/roles/" + role + "/users", "/dashboard/logs"} {
		p := b.visit(path)
		if !strings.Contains(p.raw, "\u202E") {
			t.Fatalf("%s does not show the name at all", path)
		}
		// Every occurrence in text sits inside a <bdi> that closes right
		// after the name (attributes are not text: a title or a
		// confirmation's question is shown on its own).
		for _, occ := range regexp.MustCompile(`(<[^<>]*>)([^<>]*`+"\u202E"+`[^<>]*)(<[^<>]*>)`).FindAllStringSubmatch(p.raw, -1) {
			if strings.HasPrefix(occ[1], "<title") {
				continue
			}
			if occ[1] != "<bdi>" || occ[3] != "</bdi>" {
				t.Errorf("%s: a name outside <bdi>: %q", path, occ[0])
			}
		}
	}
}
