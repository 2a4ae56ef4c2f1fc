package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/storetest"
)

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// A preview counts exactly the users the rule, once saved with the same
// scope, gives its roles to: active users only, of the chosen connection,
// and in an organization only those of connections auto-enabled on it.
func TestRoleRulePreviewAgreesWithTheSavedRule(t *testing.T) {
	m := newMgmt(t)
	auto, explicit, elsewhere := m.connection("auto"), m.connection("explicit"), m.connection("elsewhere")
	org := m.org("acme")
	m.do("POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": auto, "assign_membership_on_login": true}, 201)
	m.do("POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": explicit, "assign_membership_on_login": false}, 201)
	var users []string
	storetest.MustUpdate(t, m.db, func(tx *store.Tx) error {
		for _, con := range []string{auto, explicit, elsewhere} {
			for _, u := range []struct {
				department string
				active     bool
			}{{"Sales", true}, {"Sales", false}, {"Engineering", true}} {
				name := fmt.Sprintf("%s-%s-%v", con, u.department, u.active)
				doc, _ := json.Marshal(map[string]any{"userName": name, "active": u.active, enterprise: map[string]any{"department": u.department}})
				created, err := tx.CreateUser(store.User{ConnectionID: con, UserName: name, Active: u.active, Doc: doc})
				if err != nil {
					return err
				}
				users = append(users, created.ID)
			}
		}
		return nil
	})
	// Explicit members too: a rule in the organization still does not
	// apply to them, as the organization's group roles do not.
	m.do("POST", "/organizations/"+org+"/members", map[string]any{"members": users}, 204)

	for _, tc := range []struct {
		name     string
		org, con any
		want     int
	}{
		{"tenant, every connection", nil, nil, 3},
		{"tenant, one connection", nil, explicit, 1},
		{"organization", org, nil, 1},
		{"organization, its auto-enabled connection", org, auto, 1},
		{"organization, a connection without auto-membership", org, explicit, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := `department eq "Sales"`
			preview := m.do("POST", "/role-rules/preview", map[string]any{"filter": f, "organization_id": tc.org, "connection_id": tc.con}, 200)
			role := m.role("r " + tc.name)
			m.do("POST", "/role-rules", map[string]any{"name": tc.name, "filter": f, "roles": []string{role}, "organization_id": tc.org, "connection_id": tc.con}, 201)
			query := fmt.Sprintf("?min_revision=%d", m.db.Revision())
			if tc.org != nil {
				query += "&organization_id=" + org
			}
			granted := 0
			for _, u := range users {
				for _, r := range m.do("GET", "/users/"+u+"/effective-roles"+query, nil, 200)["roles"].([]any) {
					if r.(map[string]any)["id"] == role {
						granted++
					}
				}
			}
			if got := int(preview["matches"].(float64)); got != granted || got != tc.want {
				t.Errorf("preview matches %d, the saved rule grants %d users, want %d", got, granted, tc.want)
			}
		})
	}
}
