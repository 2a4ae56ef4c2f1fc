package roles_test

import (
	"testing"

	"github.com/rolecall/rolecall/roles"
)

// TestEveryRoleEndpointNeedsAKeyAndItsOwnScope: with no key each endpoint is
// 401; with a key holding every scope but its own it is 403, and nothing is
// written.
func TestEveryRoleEndpointNeedsAKeyAndItsOwnScope(t *testing.T) {
	m := newMgmt(t)
	con := m.connection("acme")
	u := m.user(con, "alice")
	g := m.group(con, "eng", u)
	role := m.role("admin")
	org := m.org("acme")
	m.do("POST", "/organizations/"+org+"/enabled_connections", map[string]any{"connection_id": con, "assign_membership_on_login": true}, 201)

	roles1 := map[string]any{"roles": []string{role}}
	tests := []struct {
		method, path string
		body         any
		scope        string
	}{
		{"POST", "/roles", map[string]any{"name": "x"}, roles.ScopeCreateRoles},
		{"GET", "/roles", nil, roles.ScopeReadRoles},
		{"GET", "/roles/" + role, nil, roles.ScopeReadRoles},
		{"PATCH", "/roles/" + role, map[string]any{"name": "y"}, roles.ScopeUpdateRoles},
		{"DELETE", "/roles/" + role, nil, roles.ScopeDeleteRoles},
		{"GET", "/roles/" + role + "/permissions", nil, roles.ScopeReadRoles},
		{"POST", "/roles/" + role + "/permissions", map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "api", "permission_name": "p"}}}, roles.ScopeUpdateRoles},
		{"DELETE", "/roles/" + role + "/permissions", map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "api", "permission_name": "p"}}}, roles.ScopeUpdateRoles},
		{"GET", "/roles/" + role + "/groups", nil, roles.ScopeReadRoles},
		{"POST", "/roles/" + role + "/groups", map[string]any{"groups": []string{g}}, roles.ScopeUpdateGroups},
		{"DELETE", "/roles/" + role + "/groups", map[string]any{"groups": []string{g}}, roles.ScopeUpdateGroups},

		{"GET", "/groups", nil, roles.ScopeReadGroups},
		{"GET", "/groups/" + g, nil, roles.ScopeReadGroups},
		{"GET", "/groups/" + g + "/members", nil, roles.ScopeReadGroups},
		{"GET", "/groups/" + g + "/roles", nil, roles.ScopeReadGroups},
		{"POST", "/groups/" + g + "/roles", roles1, roles.ScopeUpdateGroups},
		{"DELETE", "/groups/" + g + "/roles", roles1, roles.ScopeUpdateGroups},

		{"GET", "/users", nil, roles.ScopeReadUsers},
		{"GET", "/users/" + u, nil, roles.ScopeReadUsers},
		{"GET", "/users/" + u + "/groups", nil, roles.ScopeReadUsers},
		{"GET", "/users/" + u + "/roles", nil, roles.ScopeReadUsers},
		{"POST", "/users/" + u + "/roles", roles1, roles.ScopeUpdateUsers},
		{"DELETE", "/users/" + u + "/roles", roles1, roles.ScopeUpdateUsers},

		{"POST", "/organizations", map[string]any{"name": "x"}, roles.ScopeCreateOrganizations},
		{"GET", "/organizations", nil, roles.ScopeReadOrganizations},
		{"GET", "/organizations/" + org, nil, roles.ScopeReadOrganizations},
		{"PATCH", "/organizations/" + org, map[string]any{"display_name": "X"}, roles.ScopeUpdateOrganizations},
		{"DELETE", "/organizations/" + org, nil, roles.ScopeDeleteOrganizations},
		{"GET", "/organizations/" + org + "/enabled_connections", nil, roles.ScopeReadOrganizationConnections},
		{"POST", "/organizations/" + org + "/enabled_connections", map[string]any{"connection_id": con}, roles.ScopeCreateOrganizationConnections},
		{"GET", "/organizations/" + org + "/enabled_connections/" + con, nil, roles.ScopeReadOrganizationConnections},
		{"PATCH", "/organizations/" + org + "/enabled_connections/" + con, map[string]any{"assign_membership_on_login": false}, roles.ScopeUpdateOrganizationConnections},
		{"DELETE", "/organizations/" + org + "/enabled_connections/" + con, nil, roles.ScopeDeleteOrganizationConnections},
		{"GET", "/organizations/" + org + "/members", nil, roles.ScopeReadOrganizationMembers},
		{"POST", "/organizations/" + org + "/members", map[string]any{"members": []string{u}}, roles.ScopeCreateOrganizationMembers},
		{"DELETE", "/organizations/" + org + "/members", map[string]any{"members": []string{u}}, roles.ScopeDeleteOrganizationMembers},
		{"GET", "/organizations/" + org + "/members/" + u + "/roles", nil, roles.ScopeReadOrganizationMemberRoles},
		{"POST", "/organizations/" + org + "/members/" + u + "/roles", roles1, roles.ScopeCreateOrganizationMemberRoles},
		{"DELETE", "/organizations/" + org + "/members/" + u + "/roles", roles1, roles.ScopeDeleteOrganizationMemberRoles},
		{"GET", "/organizations/" + org + "/groups", nil, roles.ScopeReadOrganizationGroups},
		{"GET", "/organizations/" + org + "/groups/" + g + "/roles", nil, roles.ScopeReadOrganizationGroups},
		{"POST", "/organizations/" + org + "/groups/" + g + "/roles", roles1, roles.ScopeCreateOrganizationGroupRoles},
		{"DELETE", "/organizations/" + org + "/groups/" + g + "/roles", roles1, roles.ScopeDeleteOrganizationGroupRoles},
	}
	keys := map[string]string{}
	for _, tt := range tests {
		if keys[tt.scope] == "" {
			keys[tt.scope] = m.keyWithout(tt.scope)
		}
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			m.t = t
			m.unchanged(func() {
				rec, out := m.send("", tt.method, tt.path, tt.body)
				assertMgmtError(t, "no key", rec, out, 401, "missing_authorization")
				rec, out = m.send(keys[tt.scope], tt.method, tt.path, tt.body)
				assertMgmtError(t, "a key without "+tt.scope, rec, out, 403, "insufficient_scope")
			})
		})
	}
}
