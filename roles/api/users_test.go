package api_test

import (
	"fmt"
	"reflect"
	"testing"
)

const aliceDoc = `{"userName":"alice@acme.example","active":true,"displayName":"Alice Liddell",` +
	`"name":{"givenName":"Alice","familyName":"Liddell","formatted":"Alice Liddell"},` +
	`"emails":[{"value":"alice@acme.example","type":"work","primary":true},{"value":"alice@home.example","type":"home"}],` +
	`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`

func TestUsersGetShowsTheProfileInSnakeCase(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	alice := m.userDoc(con, "alice@acme.example", "00u-alice", aliceDoc)
	got := m.do("GET", "/users/"+alice, nil, 200)
	want := map[string]any{
		"user_id": alice, "connection_id": con, "user_name": "alice@acme.example", "external_id": "00u-alice", "active": true,
		"display_name": "Alice Liddell",
		"name":         map[string]any{"given_name": "Alice", "family_name": "Liddell", "formatted": "Alice Liddell"},
		"emails": []any{
			map[string]any{"value": "alice@acme.example", "type": "work", "primary": true},
			map[string]any{"value": "alice@home.example", "type": "home"},
		},
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if got["created_at"] == nil || got["updated_at"] == nil {
		t.Errorf("user view lacks created_at or updated_at: %v", got)
	}
	bare := m.do("GET", "/users/"+m.user(con, "bob"), nil, 200)
	for _, k := range []string{"external_id", "emails", "name", "display_name"} {
		if _, ok := bare[k]; ok {
			t.Errorf("a user without %s shows %s: %v", k, k, bare)
		}
	}
	m.fails("GET", "/users/usr_0000000000000000", nil, 404, "inexistent_user")
	m.fails("GET", "/users/alice", nil, 404, "inexistent_user")
}

func TestUsersListFiltersSearchesAndPages(t *testing.T) {
	m := newMgmt(t)
	acme, globex := m.connection("acme"), m.connection("globex")
	alice := m.userDoc(acme, "alice@acme.example", "00u-alice", aliceDoc)
	var acmeUsers []string
	acmeUsers = append(acmeUsers, alice)
	for i := range 4 {
		acmeUsers = append(acmeUsers, m.user(acme, fmt.Sprintf("user-%d", i)))
	}
	alice2 := m.userDoc(globex, "Alice@Acme.Example", "00u-ALICE", `{"emails":[{"value":"a@globex.example"}]}`)

	tests := []struct {
		query string
		want  []string
	}{
		{"connection_id=" + acme, acmeUsers},
		{"user_name=ALICE@acme.example", sortedCopy(alice, alice2)},
		{"user_name=alice@acme.example&connection_id=" + globex, []string{alice2}},
		{"external_id=00u-alice", []string{alice}},
		{"search=HOME.example", []string{alice}},
		{"search=globex.EXAMPLE", []string{alice2}},
		{"search=00U-A", sortedCopy(alice, alice2)},
		{"search=user-&connection_id=" + acme, sortedCopy(acmeUsers[1:]...)},
		{"search=nobody", []string{}},
		{"", sortedCopy(append([]string{alice2}, acmeUsers...)...)},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			m.t = t
			for _, take := range []int{1, 3, 100} {
				m.sameIDs(fmt.Sprintf("take %d", take), m.pageThrough("/users?"+tt.query, "users", "user_id", take), tt.want)
			}
		})
	}
	m.t = t
	m.fails("GET", "/users?connection_id=con_0000000000000000", nil, 404, "inexistent_connection")
	m.fails("GET", "/users?connection_id="+acme+"&from=usr_x", nil, 400, "invalid_query_string")
}

func TestUserGroupsAndDirectRoles(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	alice := m.user(con, "alice")
	eng, ops := m.group(con, "Engineering", alice), m.group(con, "Ops", alice)
	m.group(con, "Sales")
	m.sameIDs("groups", listField(m.do("GET", "/users/"+alice+"/groups", nil, 200), "groups", "id"), sortedCopy(eng, ops))
	m.fails("GET", "/users/usr_0000000000000000/groups", nil, 404, "inexistent_user")

	admin, viewer := m.role("admin"), m.role("viewer")
	path := "/users/" + alice + "/roles"
	if got := m.do("GET", path, nil, 200); len(got["roles"].([]any)) != 0 {
		t.Errorf("roles of a new user: %v", got)
	}
	m.do("POST", path, map[string]any{"roles": []string{admin}}, 204)
	m.do("POST", path, map[string]any{"roles": []string{admin}}, 204)
	m.unchanged(func() {
		m.fails("POST", path, map[string]any{"roles": []string{viewer, "rol_0000000000000000"}}, 404, "inexistent_role")
		m.fails("POST", "/users/usr_0000000000000000/roles", map[string]any{"roles": []string{viewer}}, 404, "inexistent_user")
		m.fails("POST", path, map[string]any{"roles": []string{}}, 400, "invalid_body")
		m.fails("DELETE", path, map[string]any{}, 400, "invalid_body")
	})
	m.sameIDs("roles", listField(m.do("GET", path, nil, 200), "roles", "id"), []string{admin})
	if logs := m.logs("user.role.assigned"); len(logs) != 1 || logs[0]["target"].(map[string]any)["id"] != alice {
		t.Errorf("user.role.assigned entries: %v, want one for alice", logs)
	}
	m.do("DELETE", path, map[string]any{"roles": []string{admin, viewer}}, 204)
	m.sameIDs("roles after removal", listField(m.do("GET", path, nil, 200), "roles", "id"), []string{})
	if logs := m.logs("user.role.deleted"); len(logs) != 1 {
		t.Errorf("user.role.deleted entries: %v, want one", logs)
	}
	m.fails("GET", "/users/usr_0000000000000000/roles", nil, 404, "inexistent_user")
}
