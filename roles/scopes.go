package roles

// Management API scopes, named as Auth0 names them. A key holds a subset; every
// endpoint requires exactly one.
const (
	ScopeReadConnections   = "read:connections"
	ScopeCreateConnections = "create:connections"
	ScopeUpdateConnections = "update:connections"
	ScopeDeleteConnections = "delete:connections"
	ScopeReadSCIMConfig    = "read:scim_config"
	ScopeCreateSCIMConfig  = "create:scim_config"
	ScopeUpdateSCIMConfig  = "update:scim_config"
	ScopeDeleteSCIMConfig  = "delete:scim_config"
	ScopeReadSCIMToken     = "read:scim_token"
	ScopeCreateSCIMToken   = "create:scim_token"
	ScopeDeleteSCIMToken   = "delete:scim_token"
	ScopeReadAPIKeys       = "read:api_keys"
	ScopeCreateAPIKeys     = "create:api_keys"
	ScopeDeleteAPIKeys     = "delete:api_keys"
	ScopeReadLogs          = "read:logs"
)

// AllScopes is every scope the Management API knows; the bootstrap key has them all.
var AllScopes = []string{
	ScopeReadConnections, ScopeCreateConnections, ScopeUpdateConnections, ScopeDeleteConnections,
	ScopeReadSCIMConfig, ScopeCreateSCIMConfig, ScopeUpdateSCIMConfig, ScopeDeleteSCIMConfig,
	ScopeReadSCIMToken, ScopeCreateSCIMToken, ScopeDeleteSCIMToken,
	ScopeReadAPIKeys, ScopeCreateAPIKeys, ScopeDeleteAPIKeys,
	ScopeReadLogs,
}

func knownScope(list []string, s string) bool {
	for _, k := range list {
		if k == s {
			return true
		}
	}
	return false
}
