package api_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestOrganizationsCreateReadUpdateDelete(t *testing.T) {
	m := newMgmt(t)
	created := m.do("POST", "/organizations", map[string]any{"name": "acme", "display_name": "Acme Inc.", "metadata": map[string]string{"tier": "gold"}}, 201)
	id, _ := created["id"].(string)
	if !strings.HasPrefix(id, "org_") || created["name"] != "acme" || created["display_name"] != "Acme Inc." ||
		!reflect.DeepEqual(created["metadata"], map[string]any{"tier": "gold"}) {
		t.Fatalf("create: %v", created)
	}
	m.unchanged(func() {
		m.fails("POST", "/organizations", map[string]any{"name": "acme"}, 409, "organization_conflict")
		m.fails("POST", "/organizations", map[string]any{"name": "Acme"}, 400, "invalid_body") // Auth0: lower-case only
		m.fails("POST", "/organizations", map[string]any{"name": "acme corp"}, 400, "invalid_body")
		m.fails("POST", "/organizations", map[string]any{"display_name": "no name"}, 400, "invalid_body")
		m.fails("POST", "/organizations", map[string]any{"name": "x", "branding": map[string]any{}}, 400, "invalid_body")
		m.fails("POST", "/organizations", map[string]any{"name": "x", "metadata": map[string]any{"n": 1}}, 400, "invalid_body")
	})
	if got := m.do("GET", "/organizations/"+id, nil, 200); got["name"] != "acme" || got["display_name"] != "Acme Inc." {
		t.Errorf("get: %v", got)
	}
	if got := m.do("PATCH", "/organizations/"+id, map[string]any{"display_name": "ACME"}, 200); got["name"] != "acme" || got["display_name"] != "ACME" {
		t.Errorf("patch: %v", got)
	}
	m.org("globex")
	m.unchanged(func() {
		m.fails("PATCH", "/organizations/"+id, map[string]any{"name": "globex"}, 409, "organization_conflict")
		m.fails("PATCH", "/organizations/org_0000000000000000", map[string]any{"display_name": "x"}, 404, "inexistent_organization")
	})
	m.do("DELETE", "/organizations/"+id, nil, 204)
	m.fails("GET", "/organizations/"+id, nil, 404, "inexistent_organization")
	m.fails("GET", "/organizations/nonsense", nil, 404, "inexistent_organization")
}

func TestOrganizationsListPages(t *testing.T) {
	m := newMgmt(t)
	var ids []string
	for i := range 7 {
		ids = append(ids, m.org(fmt.Sprintf("org-%d", i)))
	}
	for _, take := range []int{1, 2, 3, 7, 50} {
		m.sameIDs(fmt.Sprintf("take %d", take), m.pageThrough("/organizations", "organizations", "id", take), sortedCopy(ids...))
	}
}

func TestOrganizationEnabledConnections(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme-okta")
	org := m.org("acme")
	path := "/organizations/" + org + "/enabled_connections"

	got := m.do("POST", path, map[string]any{"connection_id": con, "assign_membership_on_login": true}, 201)
	want := map[string]any{"connection_id": con, "assign_membership_on_login": true, "connection": map[string]any{"name": "acme-okta", "strategy": "okta"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("enable: %v, want %v", got, want)
	}
	m.unchanged(func() {
		m.fails("POST", path, map[string]any{"connection_id": con}, 409, "enabled_connection_conflict")
		m.fails("POST", path, map[string]any{"connection_id": "con_0000000000000000"}, 404, "inexistent_connection")
		m.fails("POST", path, map[string]any{"assign_membership_on_login": true}, 400, "invalid_body")
		m.fails("POST", "/organizations/org_0000000000000000/enabled_connections", map[string]any{"connection_id": con}, 404, "inexistent_organization")
		m.fails("PATCH", path+"/"+con, map[string]any{}, 400, "invalid_body")
		m.fails("PATCH", path+"/"+con, map[string]any{"assign_membership_on_login": "yes"}, 400, "invalid_body")
		m.fails("PATCH", path+"/con_0000000000000000", map[string]any{"assign_membership_on_login": false}, 404, "inexistent_connection")
	})
	if got := m.do("GET", path, nil, 200)["enabled_connections"].([]any); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("list: %v", got)
	}
	if got := m.do("PATCH", path+"/"+con, map[string]any{"assign_membership_on_login": false}, 200); got["assign_membership_on_login"] != false {
		t.Errorf("patch: %v", got)
	}
	if got := m.do("GET", path+"/"+con, nil, 200); got["assign_membership_on_login"] != false || got["connection_id"] != con {
		t.Errorf("get after patch: %v", got)
	}
	m.do("DELETE", path+"/"+con, nil, 204)
	m.fails("GET", path+"/"+con, nil, 404, "inexistent_connection")
	m.fails("DELETE", path+"/"+con, nil, 404, "inexistent_connection")
	m.fails("GET", "/organizations/org_0000000000000000/enabled_connections/"+con, nil, 404, "inexistent_organization")
	if got := m.do("GET", path, nil, 200)["enabled_connections"].([]any); len(got) != 0 {
		t.Errorf("list after disabling: %v", got)
	}
	for _, typ := range []string{"organization.connection.added", "organization.connection.updated", "organization.connection.removed"} {
		if logs := m.logs(typ); len(logs) != 1 || logs[0]["target"].(map[string]any)["id"] != org {
			t.Errorf("%s entries: %v, want one for the organization", typ, logs)
		}
	}
}

func TestOrganizationMembersAndTheirRoles(t *testing.T) {
	m := newMgmt(t)
	acme, globex := m.connection("acme"), m.connection("globex")
	alice := m.userDoc(acme, "alice", "", aliceDoc)
	bob := m.user(acme, "bob")
	carol := m.user(globex, "carol")
	dave := m.user(globex, "dave")
	org := m.org("acme")
	path := "/organizations/" + org + "/members"

	m.do("POST", path, map[string]any{"members": []string{alice, bob, alice}}, 204)
	m.do("POST", path, map[string]any{"members": []string{bob}}, 204)
	m.unchanged(func() {
		m.fails("POST", path, map[string]any{"members": []string{carol, "usr_0000000000000000"}}, 404, "inexistent_user")
		m.fails("DELETE", path, map[string]any{"members": []string{alice, "nonsense"}}, 404, "inexistent_user")
		m.fails("POST", path, map[string]any{"members": []string{}}, 400, "invalid_body")
		m.fails("POST", "/organizations/org_0000000000000000/members", map[string]any{"members": []string{carol}}, 404, "inexistent_organization")
	})
	if logs := m.logs("organization.member.added"); len(logs) != 2 {
		t.Errorf("organization.member.added entries: %v, want two", logs)
	}
	for _, take := range []int{1, 2, 50} {
		m.sameIDs("members", m.pageThrough(path, "members", "user_id", take), sortedCopy(alice, bob))
	}
	for _, it := range m.do("GET", path, nil, 200)["members"].([]any) {
		if mv := it.(map[string]any); mv["user_id"] == alice && (mv["email"] != "alice@acme.example" || mv["connection_id"] != acme || mv["user_name"] != "alice") {
			t.Errorf("alice as a member: %v", mv)
		}
	}

	admin, viewer := m.role("admin"), m.role("viewer")
	rolesPath := func(u string) string { return path + "/" + u + "/roles" }
	m.do("POST", rolesPath(alice), map[string]any{"roles": []string{admin, viewer}}, 204)
	m.do("POST", rolesPath(alice), map[string]any{"roles": []string{admin}}, 204)
	m.sameIDs("alice's roles", listField(m.do("GET", rolesPath(alice), nil, 200), "roles", "id"), sortedCopy(admin, viewer))
	m.unchanged(func() {
		// carol is not a member: globex is not enabled on the organization.
		m.fails("POST", rolesPath(carol), map[string]any{"roles": []string{admin}}, 404, "inexistent_organization_member")
		m.fails("POST", rolesPath(alice), map[string]any{"roles": []string{"rol_0000000000000000"}}, 404, "inexistent_role")
		m.fails("POST", rolesPath("usr_0000000000000000"), map[string]any{"roles": []string{admin}}, 404, "inexistent_user")
		m.fails("GET", rolesPath("usr_0000000000000000"), nil, 404, "inexistent_user")
		m.fails("POST", rolesPath(alice), map[string]any{"roles": []string{}}, 400, "invalid_body")
	})
	// Auto-membership makes every user of an enabled connection a member.
	m.do("POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": globex, "assign_membership_on_login": true}, 201)
	m.do("POST", rolesPath(carol), map[string]any{"roles": []string{viewer}}, 204)
	m.sameIDs("carol's roles", listField(m.do("GET", rolesPath(carol), nil, 200), "roles", "id"), []string{viewer})
	m.sameIDs("dave's roles", listField(m.do("GET", rolesPath(dave), nil, 200), "roles", "id"), []string{})

	m.do("DELETE", rolesPath(alice), map[string]any{"roles": []string{viewer, viewer}}, 204)
	m.sameIDs("alice's roles after removal", listField(m.do("GET", rolesPath(alice), nil, 200), "roles", "id"), []string{admin})
	// Removing a member takes its roles in the organization with it.
	m.do("DELETE", path, map[string]any{"members": []string{alice, carol}}, 204) // carol is no explicit member: ignored
	// bob is left as an explicit member; carol and dave are members through
	// globex's auto-membership, listed with it (in creation order) before
	// the explicit members of other connections.
	m.sameIDs("members after removal", m.pageThrough(path, "members", "user_id", 50), []string{carol, dave, bob})
	m.sameIDs("alice's roles after leaving", listField(m.do("GET", rolesPath(alice), nil, 200), "roles", "id"), []string{})

	if logs := m.logs("organization.member.role.assigned"); len(logs) != 3 {
		t.Errorf("organization.member.role.assigned entries: %v, want three", logs)
	}
	if logs := m.logs("organization.member.deleted"); len(logs) != 1 || logs[0]["before"].(map[string]any)["user_id"] != alice {
		t.Errorf("organization.member.deleted entries: %v, want alice's", logs)
	}
}

func TestOrganizationGroupsAreTheGroupsOfItsEnabledConnections(t *testing.T) {
	m := newMgmt(t)
	acme, globex, initech := m.connection("acme"), m.connection("globex"), m.connection("initech")
	var want []string
	var acmeGroups, globexGroups []string
	for i := range 3 {
		acmeGroups = append(acmeGroups, m.group(acme, fmt.Sprintf("acme team %d", i)))
		globexGroups = append(globexGroups, m.group(globex, fmt.Sprintf("globex team %d", i)))
	}
	m.group(initech, "initech team")
	org := m.org("holding")
	ec := "/organizations/" + org + "/enabled_connections"
	m.do("POST", ec, map[string]any{"connection_id": acme, "assign_membership_on_login": true}, 201)
	m.do("POST", ec, map[string]any{"connection_id": globex}, 201)
	// Connection by connection in connection id order, each in creation order.
	wantSearch := []string{acmeGroups[1], globexGroups[1]}
	if acme < globex {
		want = append(append(want, acmeGroups...), globexGroups...)
	} else {
		want = append(append(want, globexGroups...), acmeGroups...)
		wantSearch = []string{globexGroups[1], acmeGroups[1]}
	}
	path := "/organizations/" + org + "/groups"
	for _, take := range []int{1, 2, 3, 4, 6, 50} {
		m.sameIDs(fmt.Sprintf("take %d", take), m.pageThrough(path, "groups", "id", take), want)
	}
	for _, take := range []int{1, 2} {
		m.sameIDs("search", m.pageThrough(path+"?search=TEAM+1", "groups", "id", take), wantSearch)
	}
	for _, it := range m.do("GET", path, nil, 200)["groups"].([]any) {
		g := it.(map[string]any)
		if auto := g["connection_id"] == acme; g["auto_membership"] != auto || g["name"] == nil || g["members_count"] == nil {
			t.Errorf("organization group %v: want auto_membership %v and the group view", g, auto)
		}
	}
	m.fails("GET", path+"?from=garbage", nil, 400, "invalid_query_string")
	m.fails("GET", "/organizations/org_0000000000000000/groups", nil, 404, "inexistent_organization")
}

// TestInertOrganizationGroupBindingsSayWhy follows one binding through the
// states of DESIGN §7: inert without auto-membership, effective with it; once
// the connection is disabled, 404 for reading as for binding, and the binding
// is removable then.
func TestInertOrganizationGroupBindingsSayWhy(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	g := m.group(con, "Engineering")
	admin := m.role("admin")
	org := m.org("acme")
	path := "/organizations/" + org + "/groups/" + g + "/roles"
	ecPath := "/organizations/" + org + "/enabled_connections"

	m.unchanged(func() {
		m.fails("POST", path, map[string]any{"roles": []string{admin}}, 404, "inexistent_organization_group")
	})
	m.do("POST", ecPath, map[string]any{"connection_id": con, "assign_membership_on_login": false}, 201)
	m.do("POST", path, map[string]any{"roles": []string{admin}}, 204)
	m.do("POST", path, map[string]any{"roles": []string{admin}}, 204)

	state := func(want bool, reason string) {
		t.Helper()
		got := m.do("GET", path, nil, 200)["roles"].([]any)
		if len(got) != 1 {
			t.Fatalf("organization group roles: %v, want the admin role", got)
		}
		r := got[0].(map[string]any)
		if r["id"] != admin || r["name"] != "admin" || r["description"] != "the admin role" || r["effective"] != want {
			t.Errorf("binding %v: want the admin role view with effective %v", r, want)
		}
		if gotReason, _ := r["reason"].(string); gotReason != reason {
			t.Errorf("reason %q, want %q", gotReason, reason)
		}
	}
	state(false, "auto_membership_disabled")
	m.do("PATCH", ecPath+"/"+con, map[string]any{"assign_membership_on_login": true}, 200)
	state(true, "")
	m.do("DELETE", ecPath+"/"+con, nil, 204)

	// With the connection disabled the group is no Organization Group: reading
	// its bindings is the same 404, with the same message, as binding to it.
	m.unchanged(func() {
		_, post := m.send(mgmtAdminToken, "POST", path, map[string]any{"roles": []string{admin}})
		_, get := m.send(mgmtAdminToken, "GET", path, nil)
		if post["errorCode"] != "inexistent_organization_group" || get["statusCode"] != post["statusCode"] ||
			get["errorCode"] != post["errorCode"] || get["message"] != post["message"] {
			t.Errorf("GET answers %v, POST %v: want the same 404 inexistent_organization_group", get, post)
		}
		m.fails("GET", "/organizations/"+org+"/groups/grp_0000000000000000/roles", nil, 404, "inexistent_group")
		m.fails("DELETE", path, map[string]any{"roles": []string{"rol_0000000000000000"}}, 404, "inexistent_role")
	})
	m.do("DELETE", path, map[string]any{"roles": []string{admin}}, 204) // inert bindings can be removed
	m.do("POST", ecPath, map[string]any{"connection_id": con, "assign_membership_on_login": true}, 201)
	if got := m.do("GET", path, nil, 200)["roles"].([]any); len(got) != 0 {
		t.Errorf("roles after removal: %v", got)
	}
	assigned, deleted := m.logs("organization.group.role.assigned"), m.logs("organization.group.role.deleted")
	if len(assigned) != 1 || assigned[0]["after"].(map[string]any)["group_id"] != g || len(deleted) != 1 || deleted[0]["channel"] != "api" {
		t.Errorf("audit: assigned %v, deleted %v; want one of each, about the group", assigned, deleted)
	}
}

func TestDeletingAnOrganizationTakesEverythingInIt(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	alice := m.user(con, "alice")
	g := m.group(con, "Engineering", alice)
	admin := m.role("admin")
	org := m.org("acme")
	m.do("POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": con, "assign_membership_on_login": true}, 201)
	m.do("POST", "/organizations/"+org+"/members", map[string]any{"members": []string{alice}}, 204)
	m.do("POST", "/organizations/"+org+"/members/"+alice+"/roles", map[string]any{"roles": []string{admin}}, 204)
	m.do("POST", "/organizations/"+org+"/groups/"+g+"/roles", map[string]any{"roles": []string{admin}}, 204)

	m.do("DELETE", "/organizations/"+org, nil, 204)
	m.fails("GET", "/organizations/"+org+"/groups/"+g+"/roles", nil, 404, "inexistent_organization")
	m.fails("GET", "/organizations/"+org+"/members", nil, 404, "inexistent_organization")
	for _, typ := range []string{"organization.group.role.deleted", "organization.member.role.deleted", "organization.member.deleted", "organization.connection.removed"} {
		if logs := m.logs(typ); len(logs) != 1 || logs[0]["channel"] != "cascade" {
			t.Errorf("%s entries: %v, want one cascade", typ, logs)
		}
	}
	// The role itself and the tenant-scope data are untouched.
	m.do("GET", "/roles/"+admin, nil, 200)
	m.sameIDs("alice's groups", listField(m.do("GET", "/users/"+alice+"/groups", nil, 200), "groups", "id"), []string{g})
	// A new organization of the same name starts empty.
	again := m.org("acme")
	m.sameIDs("members of the new organization", m.pageThrough("/organizations/"+again+"/members", "members", "user_id", 50), []string{})
}
