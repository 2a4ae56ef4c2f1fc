package api_test

import (
	"testing"

	"github.com/rolecall/rolecall/roles/api"
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
		{"POST", "/roles", map[string]any{"name": "x"}, api.ScopeCreateRoles},
		{"GET", "/roles", nil, api.ScopeReadRoles},
		{"GET", "/roles/" + role, nil, api.ScopeReadRoles},
		{"PATCH", "/roles/" + role, map[string]any{"name": "y"}, api.ScopeUpdateRoles},
		{"DELETE", "/roles/" + role, nil, api.ScopeDeleteRoles},
		{"GET", "/roles/" + role + "/permissions", nil, api.ScopeReadRoles},
		{"POST", "/roles/" + role + "/permissions", map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "api", "permission_name": "p"}}}, api.ScopeUpdateRoles},
		{"DELETE", "/roles/" + role + "/permissions", map[string]any{"permissions": []map[string]string{{"resource_server_identifier": "api", "permission_name": "p"}}}, api.ScopeUpdateRoles},
		{"GET", "/roles/" + role + "/groups", nil, api.ScopeReadRoles},
		{"POST", "/roles/" + role + "/groups", map[string]any{"groups": []string{g}}, api.ScopeUpdateGroups},
		{"DELETE", "/roles/" + role + "/groups", map[string]any{"groups": []string{g}}, api.ScopeUpdateGroups},

		{"GET", "/groups", nil, api.ScopeReadGroups},
		{"GET", "/groups/" + g, nil, api.ScopeReadGroups},
		{"GET", "/groups/" + g + "/members", nil, api.ScopeReadGroups},
		{"GET", "/groups/" + g + "/roles", nil, api.ScopeReadGroups},
		{"POST", "/groups/" + g + "/roles", roles1, api.ScopeUpdateGroups},
		{"DELETE", "/groups/" + g + "/roles", roles1, api.ScopeUpdateGroups},

		{"GET", "/users", nil, api.ScopeReadUsers},
		{"GET", "/users/" + u, nil, api.ScopeReadUsers},
		{"GET", "/users/" + u + "/groups", nil, api.ScopeReadUsers},
		{"GET", "/users/" + u + "/roles", nil, api.ScopeReadUsers},
		{"POST", "/users/" + u + "/roles", roles1, api.ScopeUpdateUsers},
		{"DELETE", "/users/" + u + "/roles", roles1, api.ScopeUpdateUsers},

		{"POST", "/organizations", map[string]any{"name": "x"}, api.ScopeCreateOrganizations},
		{"GET", "/organizations", nil, api.ScopeReadOrganizations},
		{"GET", "/organizations/" + org, nil, api.ScopeReadOrganizations},
		{"PATCH", "/organizations/" + org, map[string]any{"display_name": "X"}, api.ScopeUpdateOrganizations},
		{"DELETE", "/organizations/" + org, nil, api.ScopeDeleteOrganizations},
		{"GET", "/organizations/" + org + "/enabled_connections", nil, api.ScopeReadOrganizationConnections},
		{"POST", "/organizations/" + org + "/enabled_connections", map[string]any{"connection_id": con}, api.ScopeCreateOrganizationConnections},
		{"GET", "/organizations/" + org + "/enabled_connections/" + con, nil, api.ScopeReadOrganizationConnections},
		{"PATCH", "/organizations/" + org + "/enabled_connections/" + con, map[string]any{"assign_membership_on_login": false}, api.ScopeUpdateOrganizationConnections},
		{"DELETE", "/organizations/" + org + "/enabled_connections/" + con, nil, api.ScopeDeleteOrganizationConnections},
		{"GET", "/organizations/" + org + "/members", nil, api.ScopeReadOrganizationMembers},
		{"POST", "/organizations/" + org + "/members", map[string]any{"members": []string{u}}, api.ScopeCreateOrganizationMembers},
		{"DELETE", "/organizations/" + org + "/members", map[string]any{"members": []string{u}}, api.ScopeDeleteOrganizationMembers},
		{"GET", "/organizations/" + org + "/members/" + u + "/roles", nil, api.ScopeReadOrganizationMemberRoles},
		{"POST", "/organizations/" + org + "/members/" + u + "/roles", roles1, api.ScopeCreateOrganizationMemberRoles},
		{"DELETE", "/organizations/" + org + "/members/" + u + "/roles", roles1, api.ScopeDeleteOrganizationMemberRoles},
		{"GET", "/organizations/" + org + "/groups", nil, api.ScopeReadOrganizationGroups},
		{"GET", "/organizations/" + org + "/groups/" + g + "/roles", nil, api.ScopeReadOrganizationGroups},
		{"POST", "/organizations/" + org + "/groups/" + g + "/roles", roles1, api.ScopeCreateOrganizationGroupRoles},
		{"DELETE", "/organizations/" + org + "/groups/" + g + "/roles", roles1, api.ScopeDeleteOrganizationGroupRoles},
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
