package roles

import "net/http"

// routes is the whole Management API surface.
func (a *API) routes() {
	const p = "/api/v2"
	a.handle("POST "+p+"/connections", ScopeCreateConnections, "connection", a.createConnection)
	a.handle("GET "+p+"/connections", ScopeReadConnections, "connection", a.listConnections)
	a.handle("GET "+p+"/connections/{id}", ScopeReadConnections, "connection", a.getConnection)
	a.handle("PATCH "+p+"/connections/{id}", ScopeUpdateConnections, "connection", a.updateConnection)
	a.handle("DELETE "+p+"/connections/{id}", ScopeDeleteConnections, "connection", a.deleteConnection)

	a.handle("POST "+p+"/connections/{id}/scim-configuration", ScopeCreateSCIMConfig, "connection", a.createSCIMConfig)
	a.handle("GET "+p+"/connections/{id}/scim-configuration", ScopeReadSCIMConfig, "scim_configuration", a.getSCIMConfig)
	a.handle("PATCH "+p+"/connections/{id}/scim-configuration", ScopeUpdateSCIMConfig, "scim_configuration", a.updateSCIMConfig)
	a.handle("DELETE "+p+"/connections/{id}/scim-configuration", ScopeDeleteSCIMConfig, "scim_configuration", a.deleteSCIMConfig)
	a.handle("GET "+p+"/connections/{id}/scim-configuration/tokens", ScopeReadSCIMToken, "connection", a.listSCIMTokens)
	a.handle("POST "+p+"/connections/{id}/scim-configuration/tokens", ScopeCreateSCIMToken, "scim_configuration", a.createSCIMToken)
	a.handle("DELETE "+p+"/connections/{id}/scim-configuration/tokens/{token_id}", ScopeDeleteSCIMToken, "scim_token", a.deleteSCIMToken)

	a.handle("POST "+p+"/api-keys", ScopeCreateAPIKeys, "api_key", a.createAPIKey)
	a.handle("GET "+p+"/api-keys", ScopeReadAPIKeys, "api_key", a.listAPIKeys)
	a.handle("DELETE "+p+"/api-keys/{id}", ScopeDeleteAPIKeys, "api_key", a.deleteAPIKey)

	a.handle("GET "+p+"/logs", ScopeReadLogs, "log", a.heavy(a.listLogs))
	a.handle("GET "+p+"/logs/{id}", ScopeReadLogs, "log", a.getLog)
	a.selfRoutes(p)

	a.settingsRoutes(p)       // tenant settings (api_settings.go)
	a.roleRoutes(p)           // roles, groups, users, organizations (api_*.go)
	a.resourceServerRoutes(p) // APIs and direct user permissions (resource_servers.go, user_permissions.go)
	a.effectiveRoutes(p)      // effective roles and the login query (effective.go)

	// Anything else under /api/v2 is a JSON 404, never the mux's text page.
	a.mux.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, newError(http.StatusNotFound, "not_found", "no endpoint %s %s", r.Method, r.URL.Path), "endpoint")
	})
}
