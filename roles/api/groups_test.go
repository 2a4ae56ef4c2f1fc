package api_test

import (
	"fmt"
	"net/url"
	"testing"
)

func TestGroupsListFiltersAndPages(t *testing.T) {
	m := newMgmt(t)
	acme, globex := m.connection("acme"), m.connection("globex")
	var acmeGroups []string
	for i := range 5 {
		acmeGroups = append(acmeGroups, m.groupExt(acme, fmt.Sprintf("Team %d", i), fmt.Sprintf("ext-%d", i%2)))
	}
	globexTeam := m.groupExt(globex, "Team 1", "ext-1")
	admins := m.groupExt(globex, "Administrators", "")
	all := append([]string{globexTeam, admins}, acmeGroups...)

	tests := []struct {
		query string
		want  []string
	}{
		{"", sortedCopy(all...)},
		{"connection_id=" + acme, acmeGroups}, // creation order
		{"name=TEAM+1", sortedCopy(acmeGroups[1], globexTeam)},
		{"name=team+1&connection_id=" + globex, []string{globexTeam}},
		{"name=Team", nil},
		{"external_id=ext-1", sortedCopy(acmeGroups[1], acmeGroups[3], globexTeam)},
		{"external_id=EXT-1", nil},
		{"external_id=ext-0&connection_id=" + acme, sortedCopy(acmeGroups[0], acmeGroups[2], acmeGroups[4])},
		{"search=eam", sortedCopy(append([]string{globexTeam}, acmeGroups...)...)},
		{"search=ADMIN", []string{admins}},
		{"search=team&connection_id=" + globex, []string{globexTeam}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			m.t = t
			for _, take := range []int{1, 2, 100} {
				got := m.pageThrough("/groups?"+tt.query, "groups", "id", take)
				if tt.want == nil {
					tt.want = []string{}
				}
				m.sameIDs(fmt.Sprintf("take %d", take), got, tt.want)
			}
		})
	}
	m.t = t

	g := m.do("GET", "/groups?name=administrators", nil, 200)["groups"].([]any)[0].(map[string]any)
	if g["name"] != "Administrators" || g["connection_id"] != globex || g["members_count"] != float64(0) ||
		g["created_at"] == nil || g["updated_at"] == nil || g["external_id"] != nil {
		t.Errorf("group view %v: want name, connection_id, members_count 0, times and no external_id", g)
	}
	m.fails("GET", "/groups?connection_id=con_0000000000000000", nil, 404, "inexistent_connection")
	m.fails("GET", "/groups?connection_id="+acme+"&from=grp_0000000000000000", nil, 400, "invalid_query_string")
	m.fails("GET", "/groups?from=12", nil, 400, "invalid_query_string")
	m.fails("GET", "/groups?take=0", nil, 400, "invalid_query_string")
}

func TestGroupGetAndMembersPageWithACursor(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	alice := m.userDoc(con, "alice", "", `{"userName":"alice","displayName":"Alice Liddell","active":true}`)
	var users []string
	users = append(users, alice)
	for i := range 4 {
		users = append(users, m.user(con, fmt.Sprintf("user-%d", i)))
	}
	nested := m.group(con, "Nested")
	g := m.group(con, "Everyone", append([]string{nested}, users...)...)

	got := m.do("GET", "/groups/"+g, nil, 200)
	if got["id"] != g || got["name"] != "Everyone" || got["members_count"] != float64(6) {
		t.Errorf("get group: %v, want Everyone with 6 members", got)
	}
	m.fails("GET", "/groups/grp_0000000000000000", nil, 404, "inexistent_group")
	m.fails("GET", "/groups/grp_0000000000000000/members", nil, 404, "inexistent_group")

	for _, take := range []int{1, 2, 4, 50} {
		m.sameIDs(fmt.Sprintf("members, take %d", take), m.pageThrough("/groups/"+g+"/members", "members", "user_id", take), sortedCopy(append([]string{nested}, users...)...))
	}
	members := m.do("GET", "/groups/"+g+"/members", nil, 200)["members"].([]any)
	for _, it := range members {
		mv := it.(map[string]any)
		switch mv["user_id"] {
		case alice:
			if mv["user_name"] != "alice" || mv["display_name"] != "Alice Liddell" || mv["active"] != true || mv["type"] != "user" {
				t.Errorf("alice as a member: %v", mv)
			}
		case nested:
			if mv["user_name"] != "Nested" || mv["type"] != "group" {
				t.Errorf("a nested group as a member: %v", mv)
			}
		}
	}
}

func TestGroupRolesBindingIsIdempotentAndAllOrNothing(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	g := m.group(con, "Engineering")
	admin, viewer, editor := m.role("admin"), m.role("viewer"), m.role("editor")
	path := "/groups/" + g + "/roles"

	m.do("POST", path, map[string]any{"roles": []string{admin, admin}}, 204)
	m.do("POST", path, map[string]any{"roles": []string{admin}}, 204)
	m.sameIDs("roles", listField(m.do("GET", path, nil, 200), "roles", "id"), []string{admin})
	assigned := m.logs("group.role.assigned")
	if len(assigned) != 1 {
		t.Fatalf("group.role.assigned entries: %v, want exactly one (binding twice is a no-op)", assigned)
	}
	e := assigned[0]
	if e["channel"] != "api" || e["actor"].(map[string]any)["type"] != "api_key" || e["actor"].(map[string]any)["id"] != "bootstrap" ||
		e["target"].(map[string]any)["id"] != g || e["after"].(map[string]any)["role_id"] != admin {
		t.Errorf("group.role.assigned entry %v: want the API key, channel api, the group as target and the role after", e)
	}

	m.unchanged(func() {
		m.fails("POST", path, map[string]any{"roles": []string{viewer, "rol_0000000000000000"}}, 404, "inexistent_role")
		m.fails("POST", path, map[string]any{"roles": []string{viewer, "admin"}}, 404, "inexistent_role")
		m.fails("POST", "/groups/grp_0000000000000000/roles", map[string]any{"roles": []string{viewer}}, 404, "inexistent_group")
		m.fails("DELETE", path, map[string]any{"roles": []string{admin, "rol_0000000000000000"}}, 404, "inexistent_role")
		m.fails("POST", path, map[string]any{"roles": []string{}}, 400, "invalid_body")
		m.fails("POST", path, `{"roles":null}`, 400, "invalid_body")
		m.fails("POST", path, ``, 400, "invalid_body")
		m.fails("POST", path, map[string]any{"roles": []int{1}}, 400, "invalid_body")
		m.fails("POST", path, `{"roles":["`+viewer+`"]`, 400, "invalid_body")
	})
	m.sameIDs("roles after rejected writes", listField(m.do("GET", path, nil, 200), "roles", "id"), []string{admin})

	m.do("POST", path, map[string]any{"roles": []string{viewer, editor}}, 204)
	m.do("DELETE", path, map[string]any{"roles": []string{admin, editor}}, 204)
	rev := m.db.Revision()
	m.do("DELETE", path, map[string]any{"roles": []string{admin}}, 204) // not bound: a no-op
	if m.db.Revision() != rev {
		t.Errorf("removing an unbound role wrote something")
	}
	got := m.do("GET", path, nil, 200)["roles"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["id"] != viewer || got[0].(map[string]any)["name"] != "viewer" ||
		got[0].(map[string]any)["description"] != "the viewer role" {
		t.Errorf("roles after removal: %v, want the viewer role view", got)
	}
	if deleted := m.logs("group.role.deleted"); len(deleted) != 2 || deleted[0]["channel"] != "api" {
		t.Errorf("group.role.deleted entries: %v, want two in the api channel", deleted)
	}
	m.fails("GET", "/groups/grp_0000000000000000/roles", nil, 404, "inexistent_group")
}

func TestGroupListingSurvivesAQueryStringWithReservedCharacters(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	g := m.groupExt(con, "R&D / Ops?", "a&b=c")
	m.sameIDs("name with reserved characters", listField(m.do("GET", "/groups?name="+url.QueryEscape("r&d / ops?"), nil, 200), "groups", "id"), []string{g})
	m.sameIDs("external_id with reserved characters", listField(m.do("GET", "/groups?external_id="+url.QueryEscape("a&b=c"), nil, 200), "groups", "id"), []string{g})
	m.sameIDs("search with reserved characters", listField(m.do("GET", "/groups?search="+url.QueryEscape("&d /"), nil, 200), "groups", "id"), []string{g})
}
