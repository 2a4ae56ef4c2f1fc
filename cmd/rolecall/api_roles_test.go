package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// scimPostUser provisions a user over SCIM and returns its id.
func scimPostUser(t *testing.T, base, token, userName, email string) string {
	t.Helper()
	resp, out := call(t, "POST", base+"/Users", token, map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    userName,
		"externalId":  "ext-" + userName,
		"displayName": "User " + userName,
		"name":        map[string]any{"givenName": "Given " + userName, "familyName": "Family"},
		"emails":      []map[string]any{{"value": email, "type": "work", "primary": true}},
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("SCIM POST /Users %s: %d %v", userName, resp.StatusCode, out)
	}
	return out["id"].(string)
}

// scimPostGroup provisions a group with members over SCIM and returns its id.
func scimPostGroup(t *testing.T, base, token, name string, memberIDs ...string) string {
	t.Helper()
	members := []map[string]any{}
	for _, id := range memberIDs {
		members = append(members, map[string]any{"value": id})
	}
	resp, out := call(t, "POST", base+"/Groups", token, map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": name,
		"externalId":  "ext-" + name,
		"members":     members,
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("SCIM POST /Groups %s: %d %v", name, resp.StatusCode, out)
	}
	return out["id"].(string)
}

// answerIDs collects the key field of every object of a list field of an answer.
func answerIDs(out map[string]any, list, key string) []string {
	got := []string{}
	items, _ := out[list].([]any)
	for _, it := range items {
		got = append(got, it.(map[string]any)[key].(string))
	}
	return got
}

func sortedCopyOf(in ...string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

func assertIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// TestRolesBoundToGroupsProvisionedOverSCIM drives the Management API over
// users and groups an IdP pushed: finding them, binding roles to them from
// either side, and seeing SCIM changes (a member removed, a group deleted)
// in the Management API at once.
func TestRolesBoundToGroupsProvisionedOverSCIM(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme-okta")
	token := s.scimToken(t, conID)
	alice := scimPostUser(t, base, token, "alice@acme.example", "alice@acme.example")
	bob := scimPostUser(t, base, token, "bob@acme.example", "bob@acme.example")
	eng := scimPostGroup(t, base, token, "Engineering", alice, bob)
	ops := scimPostGroup(t, base, token, "Ops", bob)

	// The dashboard finds the groups and users the IdP pushed.
	found := s.api(t, "GET", "/groups?connection_id="+conID+"&name=engineering", nil, 200)
	assertIDs(t, "groups named engineering", answerIDs(found, "groups", "id"), []string{eng})
	if g := found["groups"].([]any)[0].(map[string]any); g["members_count"] != float64(2) || g["external_id"] != "ext-Engineering" {
		t.Errorf("group view %v: want 2 members and the externalId", g)
	}
	assertIDs(t, "groups by external_id", answerIDs(s.api(t, "GET", "/groups?external_id=ext-Ops", nil, 200), "groups", "id"), []string{ops})
	assertIDs(t, "members of Engineering", answerIDs(s.api(t, "GET", "/groups/"+eng+"/members", nil, 200), "members", "user_id"), sortedCopyOf(alice, bob))
	user := s.api(t, "GET", "/users/"+alice, nil, 200)
	if user["user_name"] != "alice@acme.example" || user["display_name"] != "User alice@acme.example" || user["external_id"] != "ext-alice@acme.example" ||
		user["name"].(map[string]any)["given_name"] != "Given alice@acme.example" || user["emails"].([]any)[0].(map[string]any)["value"] != "alice@acme.example" {
		t.Errorf("user view %v: want the SCIM profile", user)
	}
	assertIDs(t, "search by email", answerIDs(s.api(t, "GET", "/users?search="+url.QueryEscape("BOB@ACME"), nil, 200), "users", "user_id"), []string{bob})
	assertIDs(t, "bob's groups", answerIDs(s.api(t, "GET", "/users/"+bob+"/groups", nil, 200), "groups", "id"), sortedCopyOf(eng, ops))

	// Roles bound from either side.
	admin := s.api(t, "POST", "/roles", map[string]any{"name": "admin", "description": "Administrators"}, 201)["id"].(string)
	viewer := s.api(t, "POST", "/roles", map[string]any{"name": "viewer"}, 201)["id"].(string)
	resp, _ := call(t, "POST", s.URL+"/api/v2/groups/"+eng+"/roles", testAdminToken, map[string]any{"roles": []string{admin}})
	if resp.StatusCode != 204 || resp.Header.Get("Rolecall-Revision") == "" {
		t.Errorf("bind: %d, revision %q; want 204 with a revision", resp.StatusCode, resp.Header.Get("Rolecall-Revision"))
	}
	s.api(t, "POST", "/roles/"+viewer+"/groups", map[string]any{"groups": []string{eng, ops}}, 204)
	s.api(t, "POST", "/users/"+alice+"/roles", map[string]any{"roles": []string{viewer}}, 204)
	assertIDs(t, "Engineering's roles", answerIDs(s.api(t, "GET", "/groups/"+eng+"/roles", nil, 200), "roles", "id"), sortedCopyOf(admin, viewer))
	assertIDs(t, "viewer's groups", answerIDs(s.api(t, "GET", "/roles/"+viewer+"/groups", nil, 200), "groups", "id"), sortedCopyOf(eng, ops))
	assertIDs(t, "alice's direct roles", answerIDs(s.api(t, "GET", "/users/"+alice+"/roles", nil, 200), "roles", "id"), []string{viewer})
	resp, body := call(t, "POST", s.URL+"/api/v2/groups/"+eng+"/roles", testAdminToken, map[string]any{"roles": []string{"rol_0000000000000000"}})
	assertAPIError(t, resp, body, 404, "inexistent_role")

	// SCIM removes bob from Engineering: the member list says so at once.
	resp, out := call(t, "PATCH", base+"/Groups/"+eng, token, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", bob)}},
	})
	if resp.StatusCode != 200 && resp.StatusCode != 204 {
		t.Fatalf("SCIM PATCH remove member: %d %v", resp.StatusCode, out)
	}
	assertIDs(t, "members after the PATCH", answerIDs(s.api(t, "GET", "/groups/"+eng+"/members", nil, 200), "members", "user_id"), []string{alice})

	// SCIM deletes Ops: its bindings go with it, audited as cascades.
	if resp, _ := call(t, "DELETE", base+"/Groups/"+ops, token, nil); resp.StatusCode != 204 {
		t.Fatalf("SCIM DELETE /Groups: %d", resp.StatusCode)
	}
	assertIDs(t, "viewer's groups after the delete", answerIDs(s.api(t, "GET", "/roles/"+viewer+"/groups", nil, 200), "groups", "id"), []string{eng})
	resp, body = call(t, "GET", s.URL+"/api/v2/groups/"+ops+"/roles", testAdminToken, nil)
	assertAPIError(t, resp, body, 404, "inexistent_group")
	logs := s.api(t, "GET", "/logs?type=group.role.deleted", nil, 200)["logs"].([]any)
	if len(logs) != 1 || logs[0].(map[string]any)["channel"] != "cascade" {
		t.Errorf("group.role.deleted entries %v: want one cascade", logs)
	}
	assigned := s.api(t, "GET", "/logs?type=group.role.assigned", nil, 200)["logs"].([]any)
	if len(assigned) != 3 || assigned[0].(map[string]any)["actor"].(map[string]any)["id"] != "bootstrap" {
		t.Errorf("group.role.assigned entries %v: want three by the bootstrap key", assigned)
	}

	// Deleting a role empties every listing that showed it.
	s.api(t, "DELETE", "/roles/"+admin, nil, 204)
	assertIDs(t, "Engineering's roles after deleting admin", answerIDs(s.api(t, "GET", "/groups/"+eng+"/roles", nil, 200), "roles", "id"), []string{viewer})
}

// TestOrganizationGroupRolesOverTheRealServer: an organization enables an
// IdP connection; bindings of its SCIM groups are inert until auto-membership
// is on, and say why.
func TestOrganizationGroupRolesOverTheRealServer(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme-okta")
	otherID, otherBase := s.connection(t, "globex-entra")
	token, otherToken := s.scimToken(t, conID), s.scimToken(t, otherID)
	alice := scimPostUser(t, base, token, "alice", "alice@acme.example")
	eng := scimPostGroup(t, base, token, "Engineering", alice)
	scimPostGroup(t, otherBase, otherToken, "Globex Engineering")
	admin := s.api(t, "POST", "/roles", map[string]any{"name": "admin"}, 201)["id"].(string)
	org := s.api(t, "POST", "/organizations", map[string]any{"name": "acme", "display_name": "Acme"}, 201)["id"].(string)
	p := "/organizations/" + org

	resp, body := call(t, "POST", s.URL+"/api/v2"+p+"/groups/"+eng+"/roles", testAdminToken, map[string]any{"roles": []string{admin}})
	assertAPIError(t, resp, body, 404, "inexistent_organization_group")

	s.api(t, "POST", p+"/enabled_connections", map[string]any{"connection_id": conID, "assign_membership_on_login": false}, 201)
	groups := s.api(t, "GET", p+"/groups", nil, 200)
	assertIDs(t, "organization groups", answerIDs(groups, "groups", "id"), []string{eng})
	if g := groups["groups"].([]any)[0].(map[string]any); g["auto_membership"] != false || g["name"] != "Engineering" {
		t.Errorf("organization group %v", g)
	}
	s.api(t, "POST", p+"/groups/"+eng+"/roles", map[string]any{"roles": []string{admin}}, 204)
	binding := func() map[string]any {
		list := s.api(t, "GET", p+"/groups/"+eng+"/roles", nil, 200)["roles"].([]any)
		if len(list) != 1 {
			t.Fatalf("organization group roles: %v", list)
		}
		return list[0].(map[string]any)
	}
	if b := binding(); b["effective"] != false || b["reason"] != "auto_membership_disabled" {
		t.Errorf("binding without auto-membership: %v", b)
	}
	s.api(t, "PATCH", p+"/enabled_connections/"+conID, map[string]any{"assign_membership_on_login": true}, 200)
	if b := binding(); b["effective"] != true || b["reason"] != nil {
		t.Errorf("binding with auto-membership: %v", b)
	}
	// Auto-membership makes alice a member who can hold roles in the organization.
	s.api(t, "POST", p+"/members/"+alice+"/roles", map[string]any{"roles": []string{admin}}, 204)
	assertIDs(t, "alice's organization roles", answerIDs(s.api(t, "GET", p+"/members/"+alice+"/roles", nil, 200), "roles", "id"), []string{admin})

	s.api(t, "DELETE", p+"/enabled_connections/"+conID, nil, 204)
	// The group is no Organization Group any more: reading is 404 as binding is.
	resp, body = call(t, "GET", s.URL+"/api/v2"+p+"/groups/"+eng+"/roles", testAdminToken, nil)
	assertAPIError(t, resp, body, 404, "inexistent_organization_group")
	assertIDs(t, "organization groups after disabling", answerIDs(s.api(t, "GET", p+"/groups", nil, 200), "groups", "id"), []string{})

	// A key with every scope but create:organization_group_roles cannot bind.
	key := s.api(t, "POST", "/api-keys", map[string]any{"name": "no-org-group-roles", "scopes": []string{"read:organization_groups", "delete:organization_group_roles"}}, 201)["key"].(string)
	resp, body = call(t, "POST", s.URL+"/api/v2"+p+"/groups/"+eng+"/roles", key, map[string]any{"roles": []string{admin}})
	assertAPIError(t, resp, body, 403, "insufficient_scope")
	resp, _ = call(t, "DELETE", s.URL+"/api/v2"+p+"/groups/"+eng+"/roles", key, map[string]any{"roles": []string{admin}})
	if resp.StatusCode != 204 {
		t.Errorf("removing an inert binding with delete:organization_group_roles: %d", resp.StatusCode)
	}
	entries := s.api(t, "GET", "/logs?type=organization.group.role.deleted", nil, 200)["logs"].([]any)
	if len(entries) != 1 || entries[0].(map[string]any)["actor"].(map[string]any)["type"] != "api_key" {
		t.Errorf("organization.group.role.deleted entries %v: want one by an API key", entries)
	}

	s.api(t, "DELETE", p, nil, 204)
	resp, body = call(t, "GET", s.URL+"/api/v2"+p+"/members/"+alice+"/roles", testAdminToken, nil)
	assertAPIError(t, resp, body, 404, "inexistent_organization")
}

// TestARolesBindingsListFromTheRoleSideOverHTTP: before deleting a role, an
// admin can list every binding the delete removes: Enterprise Groups
// (/roles/{id}/groups), users it is assigned to directly (Auth0's
// /roles/{id}/users) and its bindings inside organizations
// (/roles/{id}/organization-bindings), each paged with from/take.
func TestARolesBindingsListFromTheRoleSideOverHTTP(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme-okta")
	token := s.scimToken(t, conID)
	alice := scimPostUser(t, base, token, "alice", "alice@acme.example")
	bob := scimPostUser(t, base, token, "bob", "bob@acme.example")
	eng := scimPostGroup(t, base, token, "Engineering", alice)
	admin := s.api(t, "POST", "/roles", map[string]any{"name": "admin"}, 201)["id"].(string)
	org := s.api(t, "POST", "/organizations", map[string]any{"name": "acme"}, 201)["id"].(string)
	s.api(t, "POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": conID, "assign_membership_on_login": true}, 201)
	one := map[string]any{"roles": []string{admin}}
	s.api(t, "POST", "/users/"+alice+"/roles", one, 204)
	s.api(t, "POST", "/users/"+bob+"/roles", one, 204)
	s.api(t, "POST", "/groups/"+eng+"/roles", one, 204)
	s.api(t, "POST", "/organizations/"+org+"/groups/"+eng+"/roles", one, 204)
	s.api(t, "POST", "/organizations/"+org+"/members/"+bob+"/roles", one, 204)

	first := s.api(t, "GET", "/roles/"+admin+"/users?take=1&include_totals=true", nil, 200)
	next, _ := first["next"].(string)
	if first["total"] != float64(2) || next == "" {
		t.Fatalf("first page of users %v: want total 2 and a next cursor", first)
	}
	second := s.api(t, "GET", "/roles/"+admin+"/users?take=1&from="+url.QueryEscape(next), nil, 200)
	assertIDs(t, "users of admin, page by page", append(answerIDs(first, "users", "user_id"), answerIDs(second, "users", "user_id")...), sortedCopyOf(alice, bob))
	if second["next"] != nil {
		t.Errorf("last page %v carries a next cursor", second)
	}
	if u := first["users"].([]any)[0].(map[string]any); u["email"] == nil || u["user_name"] == nil || u["connection_id"] != conID {
		t.Errorf("user of a role %v: want its email, user_name and connection_id", u)
	}

	out := s.api(t, "GET", "/roles/"+admin+"/organization-bindings?include_totals=true", nil, 200)
	bindings, _ := out["bindings"].([]any)
	if out["total"] != float64(2) || len(bindings) != 2 {
		t.Fatalf("organization bindings %v: want two, counted", out)
	}
	g, m := bindings[0].(map[string]any), bindings[1].(map[string]any)
	if g["type"] != "group" || g["group_id"] != eng || g["group_name"] != "Engineering" || g["organization_id"] != org || g["organization_name"] != "acme" {
		t.Errorf("first binding %v: want the group Engineering in acme", g)
	}
	if m["type"] != "member" || m["user_id"] != bob || m["user_name"] != "bob" || m["organization_id"] != org {
		t.Errorf("second binding %v: want the member bob in acme", m)
	}
	assertIDs(t, "member bindings", answerIDs(s.api(t, "GET", "/roles/"+admin+"/organization-bindings?type=member", nil, 200), "bindings", "user_id"), []string{bob})

	// read:roles is the scope; the role delete removes everything listed.
	key := s.api(t, "POST", "/api-keys", map[string]any{"name": "no-roles", "scopes": []string{"read:users"}}, 201)["key"].(string)
	for _, path := range []string{"/users", "/organization-bindings"} {
		resp, body := call(t, "GET", s.URL+"/api/v2/roles/"+admin+path, key, nil)
		assertAPIError(t, resp, body, 403, "insufficient_scope")
	}
	s.api(t, "DELETE", "/roles/"+admin, nil, 204)
	resp, body := call(t, "GET", s.URL+"/api/v2/roles/"+admin+"/users", testAdminToken, nil)
	assertAPIError(t, resp, body, 404, "inexistent_role")
	assertIDs(t, "alice's direct roles after the delete", answerIDs(s.api(t, "GET", "/users/"+alice+"/roles", nil, 200), "roles", "id"), []string{})
}
