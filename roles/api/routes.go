package api

import "net/http"

// Prefix is the path the Management API is mounted at.
const Prefix = "/api/v2"

// anyKey is the scope of an endpoint any valid key may call: GET
// /api-keys/self and the /sessions endpoints, which the dashboard asks on
// every page to learn what the key may do. It is not rate-limited, so that
// asking never costs a key the requests it came to make (POST /sessions, a
// write, applies the rate limit itself).
const anyKey = ""

// route is one endpoint: who may call it (scope) and what its path
// addresses (resource, for not-found error codes: inexistent_<resource>).
type route struct {
	method, pattern string // pattern is under Prefix
	scope           string
	resource        string
	fn              handlerFunc
}

// routeTable is the whole Management API surface. List endpoints that walk
// large collections are heavy: they share the Limiter with the SCIM surface.
func (a *API) routeTable() []route {
	const (
		conn   = "connection"
		scimCf = "scim_configuration"
		key    = "api_key"
		role   = "role"
		group  = "group"
		user   = "user"
		org    = "organization"
		rs     = "resource_server"
	)
	return []route{
		{"POST", "/connections", ScopeCreateConnections, conn, a.createConnection},
		{"GET", "/connections", ScopeReadConnections, conn, a.listConnections},
		{"GET", "/connections/{id}", ScopeReadConnections, conn, a.getConnection},
		{"PATCH", "/connections/{id}", ScopeUpdateConnections, conn, a.updateConnection},
		{"DELETE", "/connections/{id}", ScopeDeleteConnections, conn, a.deleteConnection},

		{"POST", "/connections/{id}/scim-configuration", ScopeCreateSCIMConfig, conn, a.createSCIMConfig},
		{"GET", "/connections/{id}/scim-configuration", ScopeReadSCIMConfig, scimCf, a.getSCIMConfig},
		{"PATCH", "/connections/{id}/scim-configuration", ScopeUpdateSCIMConfig, scimCf, a.updateSCIMConfig},
		{"DELETE", "/connections/{id}/scim-configuration", ScopeDeleteSCIMConfig, scimCf, a.deleteSCIMConfig},
		{"GET", "/connections/{id}/scim-configuration/tokens", ScopeReadSCIMToken, conn, a.listSCIMTokens},
		{"POST", "/connections/{id}/scim-configuration/tokens", ScopeCreateSCIMToken, scimCf, a.createSCIMToken},
		{"DELETE", "/connections/{id}/scim-configuration/tokens/{token_id}", ScopeDeleteSCIMToken, "scim_token", a.deleteSCIMToken},

		{"GET", "/connections/{id}/role-mappings", ScopeReadRoleMappings, conn, a.listRoleMappings},
		{"POST", "/connections/{id}/role-mappings", ScopeCreateRoleMappings, conn, a.createRoleMapping},
		{"DELETE", "/connections/{id}/role-mappings/{mapping_id}", ScopeDeleteRoleMappings, conn, a.deleteRoleMapping},

		// Attribute rules (role_rules.go); a preview reads every user in scope.
		{"GET", "/role-rules", ScopeReadRoleRules, "role_rule", a.listRoleRules},
		{"POST", "/role-rules", ScopeCreateRoleRules, "role_rule", a.createRoleRule},
		{"POST", "/role-rules/preview", ScopeReadRoleRules, "role_rule", a.heavy(a.previewRoleRule)},
		{"GET", "/role-rules/{id}", ScopeReadRoleRules, "role_rule", a.getRoleRule},
		{"PATCH", "/role-rules/{id}", ScopeUpdateRoleRules, "role_rule", a.updateRoleRule},
		{"DELETE", "/role-rules/{id}", ScopeDeleteRoleRules, "role_rule", a.deleteRoleRule},

		{"POST", "/api-keys", ScopeCreateAPIKeys, key, a.createAPIKey},
		{"GET", "/api-keys", ScopeReadAPIKeys, key, a.listAPIKeys},
		{"GET", "/api-keys/self", anyKey, key, a.apiKeySelf},
		{"DELETE", "/api-keys/{id}", ScopeDeleteAPIKeys, key, a.deleteAPIKey},

		// Dashboard sign-in and sign-out (sessions.go): any key may sign in;
		// a session may ask about and end only itself.
		{"POST", "/sessions", anyKey, "session", a.createSession},
		{"GET", "/sessions/self", anyKey, "session", a.sessionSelf},
		{"DELETE", "/sessions/self", anyKey, "session", a.deleteSessionSelf},

		{"GET", "/logs", ScopeReadLogs, "log", a.heavy(a.listLogs)},
		{"GET", "/backup", ScopeReadBackup, "backup", a.heavy(a.backup)},
		{"GET", "/logs/{id}", ScopeReadLogs, "log", a.getLog},
		// The change feed (events.go): it takes a heavy slot only while it reads.
		{"GET", "/events", ScopeReadLogs, "event", a.listEvents},

		// This API's OpenAPI document (openapi.go): any valid key may read it.
		{"GET", "/openapi.json", anyKey, "openapi", a.openAPI},

		{"GET", "/tenants/settings", ScopeReadTenantSettings, "tenant_settings", a.getTenantSettings},
		{"PATCH", "/tenants/settings", ScopeUpdateTenantSettings, "tenant_settings", a.updateTenantSettings},

		{"POST", "/roles", ScopeCreateRoles, role, a.createRole},
		{"GET", "/roles", ScopeReadRoles, role, a.listRoles},
		{"GET", "/roles/{id}", ScopeReadRoles, role, a.getRole},
		{"PATCH", "/roles/{id}", ScopeUpdateRoles, role, a.updateRole},
		{"DELETE", "/roles/{id}", ScopeDeleteRoles, role, a.deleteRole},
		{"GET", "/roles/{id}/permissions", ScopeReadRoles, role, a.listRolePermissions},
		{"POST", "/roles/{id}/permissions", ScopeUpdateRoles, role, a.addRolePermissions},
		{"DELETE", "/roles/{id}/permissions", ScopeUpdateRoles, role, a.removeRolePermissions},
		{"GET", "/roles/{id}/groups", ScopeReadRoles, role, a.listRoleGroups},
		{"POST", "/roles/{id}/groups", ScopeUpdateGroups, role, groupRoles.bindSubjects(a, true)},
		{"DELETE", "/roles/{id}/groups", ScopeUpdateGroups, role, groupRoles.bindSubjects(a, false)},
		{"GET", "/roles/{id}/users", ScopeReadRoles, role, a.listRoleUsers},
		{"POST", "/roles/{id}/users", ScopeCreateRoleMembers, role, userRoles.bindSubjects(a, true)},
		{"DELETE", "/roles/{id}/users", ScopeDeleteRoleMembers, role, userRoles.bindSubjects(a, false)},
		{"GET", "/roles/{id}/organization-bindings", ScopeReadRoles, role, a.listRoleOrganizationBindings},

		{"GET", "/groups", ScopeReadGroups, group, a.heavy(a.listGroups)},
		{"GET", "/groups/{id}", ScopeReadGroups, group, a.getGroup},
		{"GET", "/groups/{id}/members", ScopeReadGroups, group, a.heavy(a.listGroupMembers)},
		{"GET", "/groups/{id}/roles", ScopeReadGroups, group, groupRoles.listRoles(a)},
		{"POST", "/groups/{id}/roles", ScopeUpdateGroups, group, groupRoles.bindRoles(a, true)},
		{"DELETE", "/groups/{id}/roles", ScopeUpdateGroups, group, groupRoles.bindRoles(a, false)},

		{"GET", "/users", ScopeReadUsers, user, a.heavy(a.listUsers)},
		{"GET", "/users/{id}", ScopeReadUsers, user, a.getUser},
		{"GET", "/users/{id}/groups", ScopeReadUsers, user, a.listUserGroups},
		{"GET", "/users/{id}/organizations", ScopeReadUsers, user, a.listUserOrganizations},
		{"GET", "/users/{id}/roles", ScopeReadUsers, user, userRoles.listRoles(a)},
		{"POST", "/users/{id}/roles", ScopeUpdateUsers, user, userRoles.bindRoles(a, true)},
		{"DELETE", "/users/{id}/roles", ScopeUpdateUsers, user, userRoles.bindRoles(a, false)},
		{"GET", "/users/{id}/permissions", ScopeReadUsers, user, a.listUserPermissions},
		{"POST", "/users/{id}/permissions", ScopeUpdateUsers, user, a.assignUserPermissions},
		{"DELETE", "/users/{id}/permissions", ScopeUpdateUsers, user, a.removeUserPermissions},
		{"GET", "/users/{id}/effective-roles", ScopeReadUserEffectiveRoles, user, a.userEffectiveRoles},
		{"GET", "/users/{id}/effective-permissions", ScopeReadUserEffectiveRoles, user, a.userEffectivePermissions},

		{"POST", "/organizations", ScopeCreateOrganizations, org, a.createOrganization},
		{"GET", "/organizations", ScopeReadOrganizations, org, a.listOrganizations},
		{"GET", "/organizations/{id}", ScopeReadOrganizations, org, a.getOrganization},
		// GET /organizations/name/{name}, routed through {id}/{sub} (see organizationSubresource).
		{"GET", "/organizations/{id}/{sub}", ScopeReadOrganizations, org, a.organizationSubresource},
		{"PATCH", "/organizations/{id}", ScopeUpdateOrganizations, org, a.updateOrganization},
		{"DELETE", "/organizations/{id}", ScopeDeleteOrganizations, org, a.deleteOrganization},

		{"GET", "/organizations/{id}/enabled_connections", ScopeReadOrganizationConnections, org, a.listEnabledConnections},
		{"POST", "/organizations/{id}/enabled_connections", ScopeCreateOrganizationConnections, org, a.enableConnection},
		{"GET", "/organizations/{id}/enabled_connections/{connection_id}", ScopeReadOrganizationConnections, org, a.getEnabledConnection},
		{"PATCH", "/organizations/{id}/enabled_connections/{connection_id}", ScopeUpdateOrganizationConnections, org, a.updateEnabledConnection},
		{"DELETE", "/organizations/{id}/enabled_connections/{connection_id}", ScopeDeleteOrganizationConnections, org, a.disableConnection},

		{"GET", "/organizations/{id}/members", ScopeReadOrganizationMembers, org, a.listOrganizationMembers},
		{"POST", "/organizations/{id}/members", ScopeCreateOrganizationMembers, org, a.addOrganizationMembers},
		{"DELETE", "/organizations/{id}/members", ScopeDeleteOrganizationMembers, org, a.removeOrganizationMembers},
		{"GET", "/organizations/{id}/members/{user_id}/roles", ScopeReadOrganizationMemberRoles, org, orgMemberRoles.listRoles(a)},
		{"POST", "/organizations/{id}/members/{user_id}/roles", ScopeCreateOrganizationMemberRoles, org, orgMemberRoles.bindRoles(a, true)},
		{"DELETE", "/organizations/{id}/members/{user_id}/roles", ScopeDeleteOrganizationMemberRoles, org, orgMemberRoles.bindRoles(a, false)},
		{"GET", "/organizations/{id}/members/{user_id}/effective-roles", ScopeReadUserEffectiveRoles, user, a.memberEffectiveRoles},

		{"GET", "/organizations/{id}/groups", ScopeReadOrganizationGroups, org, a.listOrganizationGroups},
		{"GET", "/organizations/{id}/groups/{group_id}/roles", ScopeReadOrganizationGroups, org, orgGroupRoles.listRoles(a)},
		{"POST", "/organizations/{id}/groups/{group_id}/roles", ScopeCreateOrganizationGroupRoles, org, orgGroupRoles.bindRoles(a, true)},
		{"DELETE", "/organizations/{id}/groups/{group_id}/roles", ScopeDeleteOrganizationGroupRoles, org, orgGroupRoles.bindRoles(a, false)},

		{"POST", "/resource-servers", ScopeCreateResourceServers, rs, a.createResourceServer},
		{"GET", "/resource-servers", ScopeReadResourceServers, rs, a.listResourceServers},
		{"GET", "/resource-servers/{id}", ScopeReadResourceServers, rs, a.getResourceServer},
		{"PATCH", "/resource-servers/{id}", ScopeUpdateResourceServers, rs, a.updateResourceServer},
		{"DELETE", "/resource-servers/{id}", ScopeDeleteResourceServers, rs, a.deleteResourceServer},

		// Event streams to webhooks (event_streams.go).
		{"POST", "/event-streams", ScopeCreateEventStreams, "event_stream", a.createEventStream},
		{"GET", "/event-streams", ScopeReadEventStreams, "event_stream", a.listEventStreams},
		{"GET", "/event-streams/{id}", ScopeReadEventStreams, "event_stream", a.getEventStream},
		{"PATCH", "/event-streams/{id}", ScopeUpdateEventStreams, "event_stream", a.updateEventStream},
		{"DELETE", "/event-streams/{id}", ScopeDeleteEventStreams, "event_stream", a.deleteEventStream},
		{"POST", "/event-streams/{id}/test", ScopeUpdateEventStreams, "event_stream", a.testEventStream},
		{"POST", "/event-streams/{id}/rotate-secret", ScopeUpdateEventStreams, "event_stream", a.rotateEventStreamSecret},
		{"GET", "/event-streams/{id}/deliveries", ScopeReadEventStreams, "event_stream", a.eventStreamDeliveries},

		{"POST", "/effective-roles/query", ScopeReadUserEffectiveRoles, "subject", a.queryEffectiveRoles},
	}
}

// routes registers every endpoint of routeTable behind authentication, the
// rate limit and its scope.
func (a *API) routes() {
	for _, rt := range a.routeTable() {
		a.handle(rt)
	}
	// Anything else under /api/v2 is a JSON 404, never the mux's text page.
	a.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, newError(http.StatusNotFound, "not_found", "no endpoint %s %s", r.Method, r.URL.Path), "endpoint")
	})
}
