package roles

// roleRoutes registers the roles, groups, users and organizations endpoints.
func (a *API) roleRoutes(p string) {
	a.handle("POST "+p+"/roles", ScopeCreateRoles, "role", a.createRole)
	a.handle("GET "+p+"/roles", ScopeReadRoles, "role", a.listRoles)
	a.handle("GET "+p+"/roles/{id}", ScopeReadRoles, "role", a.getRole)
	a.handle("PATCH "+p+"/roles/{id}", ScopeUpdateRoles, "role", a.updateRole)
	a.handle("DELETE "+p+"/roles/{id}", ScopeDeleteRoles, "role", a.deleteRole)
	a.handle("GET "+p+"/roles/{id}/permissions", ScopeReadRoles, "role", a.listRolePermissions)
	a.handle("POST "+p+"/roles/{id}/permissions", ScopeUpdateRoles, "role", a.addRolePermissions)
	a.handle("DELETE "+p+"/roles/{id}/permissions", ScopeUpdateRoles, "role", a.removeRolePermissions)
	a.handle("GET "+p+"/roles/{id}/groups", ScopeReadRoles, "role", a.listRoleGroups)
	a.handle("POST "+p+"/roles/{id}/groups", ScopeUpdateGroups, "role", a.bindRoleGroups)
	a.handle("DELETE "+p+"/roles/{id}/groups", ScopeUpdateGroups, "role", a.unbindRoleGroups)
	a.handle("GET "+p+"/roles/{id}/users", ScopeReadRoles, "role", a.listRoleUsers)
	a.handle("POST "+p+"/roles/{id}/users", ScopeCreateRoleMembers, "role", a.assignRoleUsers)
	a.handle("DELETE "+p+"/roles/{id}/users", ScopeDeleteRoleMembers, "role", a.removeRoleUsers)
	a.handle("GET "+p+"/roles/{id}/organization-bindings", ScopeReadRoles, "role", a.listRoleOrganizationBindings)

	a.handle("GET "+p+"/groups", ScopeReadGroups, "group", a.heavy(a.listGroups))
	a.handle("GET "+p+"/groups/{id}", ScopeReadGroups, "group", a.getGroup)
	a.handle("GET "+p+"/groups/{id}/members", ScopeReadGroups, "group", a.heavy(a.listGroupMembers))
	a.handle("GET "+p+"/groups/{id}/roles", ScopeReadGroups, "group", a.listGroupRoles)
	a.handle("POST "+p+"/groups/{id}/roles", ScopeUpdateGroups, "group", a.bindGroupRoles)
	a.handle("DELETE "+p+"/groups/{id}/roles", ScopeUpdateGroups, "group", a.unbindGroupRoles)

	a.handle("GET "+p+"/users", ScopeReadUsers, "user", a.heavy(a.listUsers))
	a.handle("GET "+p+"/users/{id}", ScopeReadUsers, "user", a.getUser)
	a.handle("GET "+p+"/users/{id}/groups", ScopeReadUsers, "user", a.listUserGroups)
	a.handle("GET "+p+"/users/{id}/roles", ScopeReadUsers, "user", a.listUserRoles)
	a.handle("GET "+p+"/users/{id}/organizations", ScopeReadUsers, "user", a.listUserOrganizations)
	a.handle("POST "+p+"/users/{id}/roles", ScopeUpdateUsers, "user", a.bindUserRoles)
	a.handle("DELETE "+p+"/users/{id}/roles", ScopeUpdateUsers, "user", a.unbindUserRoles)

	const org = "organization"
	a.handle("POST "+p+"/organizations", ScopeCreateOrganizations, org, a.createOrganization)
	a.handle("GET "+p+"/organizations", ScopeReadOrganizations, org, a.listOrganizations)
	a.handle("GET "+p+"/organizations/{id}", ScopeReadOrganizations, org, a.getOrganization)
	// GET /organizations/name/{name}, routed through {id}/{sub} (see organizationSubresource).
	a.handle("GET "+p+"/organizations/{id}/{sub}", ScopeReadOrganizations, org, a.organizationSubresource)
	a.handle("PATCH "+p+"/organizations/{id}", ScopeUpdateOrganizations, org, a.updateOrganization)
	a.handle("DELETE "+p+"/organizations/{id}", ScopeDeleteOrganizations, org, a.deleteOrganization)

	a.handle("GET "+p+"/organizations/{id}/enabled_connections", ScopeReadOrganizationConnections, org, a.listEnabledConnections)
	a.handle("POST "+p+"/organizations/{id}/enabled_connections", ScopeCreateOrganizationConnections, org, a.enableConnection)
	a.handle("GET "+p+"/organizations/{id}/enabled_connections/{connection_id}", ScopeReadOrganizationConnections, org, a.getEnabledConnection)
	a.handle("PATCH "+p+"/organizations/{id}/enabled_connections/{connection_id}", ScopeUpdateOrganizationConnections, org, a.updateEnabledConnection)
	a.handle("DELETE "+p+"/organizations/{id}/enabled_connections/{connection_id}", ScopeDeleteOrganizationConnections, org, a.disableConnection)

	a.handle("GET "+p+"/organizations/{id}/members", ScopeReadOrganizationMembers, org, a.listOrganizationMembers)
	a.handle("POST "+p+"/organizations/{id}/members", ScopeCreateOrganizationMembers, org, a.addOrganizationMembers)
	a.handle("DELETE "+p+"/organizations/{id}/members", ScopeDeleteOrganizationMembers, org, a.removeOrganizationMembers)
	a.handle("GET "+p+"/organizations/{id}/members/{user_id}/roles", ScopeReadOrganizationMemberRoles, org, a.listOrganizationMemberRoles)
	a.handle("POST "+p+"/organizations/{id}/members/{user_id}/roles", ScopeCreateOrganizationMemberRoles, org, a.bindOrganizationMemberRoles)
	a.handle("DELETE "+p+"/organizations/{id}/members/{user_id}/roles", ScopeDeleteOrganizationMemberRoles, org, a.unbindOrganizationMemberRoles)

	a.handle("GET "+p+"/organizations/{id}/groups", ScopeReadOrganizationGroups, org, a.listOrganizationGroups)
	a.handle("GET "+p+"/organizations/{id}/groups/{group_id}/roles", ScopeReadOrganizationGroups, org, a.listOrganizationGroupRoles)
	a.handle("POST "+p+"/organizations/{id}/groups/{group_id}/roles", ScopeCreateOrganizationGroupRoles, org, a.bindOrganizationGroupRoles)
	a.handle("DELETE "+p+"/organizations/{id}/groups/{group_id}/roles", ScopeDeleteOrganizationGroupRoles, org, a.unbindOrganizationGroupRoles)
}
