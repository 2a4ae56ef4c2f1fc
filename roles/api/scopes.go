package api

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
	// ScopeReadBackup may read a snapshot of the whole store, token and key
	// hashes and the audit log included: give it to backup jobs only.
	ScopeReadBackup = "read:backup"

	ScopeReadTenantSettings   = "read:tenant_settings"
	ScopeUpdateTenantSettings = "update:tenant_settings"

	ScopeReadRoles                     = "read:roles"
	ScopeCreateRoles                   = "create:roles"
	ScopeUpdateRoles                   = "update:roles" // PATCH, permissions
	ScopeDeleteRoles                   = "delete:roles"
	ScopeReadGroups                    = "read:groups"
	ScopeUpdateGroups                  = "update:groups" // role bindings of groups, from either side
	ScopeReadUsers                     = "read:users"
	ScopeUpdateUsers                   = "update:users" // direct role assignments
	ScopeReadUserEffectiveRoles        = "read:user_effective_roles"
	ScopeReadOrganizations             = "read:organizations"
	ScopeCreateOrganizations           = "create:organizations"
	ScopeUpdateOrganizations           = "update:organizations"
	ScopeDeleteOrganizations           = "delete:organizations"
	ScopeReadOrganizationConnections   = "read:organization_connections"
	ScopeCreateOrganizationConnections = "create:organization_connections"
	ScopeUpdateOrganizationConnections = "update:organization_connections"
	ScopeDeleteOrganizationConnections = "delete:organization_connections"
	ScopeReadOrganizationMembers       = "read:organization_members"
	ScopeCreateOrganizationMembers     = "create:organization_members"
	ScopeDeleteOrganizationMembers     = "delete:organization_members"
	ScopeReadOrganizationMemberRoles   = "read:organization_member_roles"
	ScopeCreateOrganizationMemberRoles = "create:organization_member_roles"
	ScopeDeleteOrganizationMemberRoles = "delete:organization_member_roles"
	ScopeReadOrganizationGroups        = "read:organization_groups"
	ScopeCreateOrganizationGroupRoles  = "create:organization_group_roles"
	ScopeDeleteOrganizationGroupRoles  = "delete:organization_group_roles"

	ScopeReadResourceServers   = "read:resource_servers"
	ScopeCreateResourceServers = "create:resource_servers"
	ScopeUpdateResourceServers = "update:resource_servers"
	ScopeDeleteResourceServers = "delete:resource_servers"
	// Assigning a role to users from the role's side (POST and DELETE
	// /roles/{id}/users), named as Auth0 names them.
	ScopeCreateRoleMembers = "create:role_members"
	ScopeDeleteRoleMembers = "delete:role_members"

	// IdP role mappings of a connection (role_mappings.go).
	ScopeReadRoleMappings   = "read:role_mappings"
	ScopeCreateRoleMappings = "create:role_mappings"
	ScopeDeleteRoleMappings = "delete:role_mappings"

	// Event streams (event_streams.go); update also sends test events and
	// rotates signing secrets.
	ScopeReadEventStreams   = "read:event_streams"
	ScopeCreateEventStreams = "create:event_streams"
	ScopeUpdateEventStreams = "update:event_streams"
	ScopeDeleteEventStreams = "delete:event_streams"
	// Attribute rules (role_rules.go).
	ScopeReadRoleRules   = "read:role_rules"
	ScopeCreateRoleRules = "create:role_rules"
	ScopeUpdateRoleRules = "update:role_rules"
	ScopeDeleteRoleRules = "delete:role_rules"
)

// AllScopes is every scope the Management API knows; the bootstrap key has them all.
var AllScopes = []string{
	ScopeReadConnections, ScopeCreateConnections, ScopeUpdateConnections, ScopeDeleteConnections,
	ScopeReadSCIMConfig, ScopeCreateSCIMConfig, ScopeUpdateSCIMConfig, ScopeDeleteSCIMConfig,
	ScopeReadSCIMToken, ScopeCreateSCIMToken, ScopeDeleteSCIMToken,
	ScopeReadAPIKeys, ScopeCreateAPIKeys, ScopeDeleteAPIKeys,
	ScopeReadLogs, ScopeReadBackup,
	ScopeReadTenantSettings, ScopeUpdateTenantSettings,
	ScopeReadRoles, ScopeCreateRoles, ScopeUpdateRoles, ScopeDeleteRoles,
	ScopeReadGroups, ScopeUpdateGroups, ScopeReadUsers, ScopeUpdateUsers, ScopeReadUserEffectiveRoles,
	ScopeReadOrganizations, ScopeCreateOrganizations, ScopeUpdateOrganizations, ScopeDeleteOrganizations,
	ScopeReadOrganizationConnections, ScopeCreateOrganizationConnections, ScopeUpdateOrganizationConnections, ScopeDeleteOrganizationConnections,
	ScopeReadOrganizationMembers, ScopeCreateOrganizationMembers, ScopeDeleteOrganizationMembers,
	ScopeReadOrganizationMemberRoles, ScopeCreateOrganizationMemberRoles, ScopeDeleteOrganizationMemberRoles,
	ScopeReadOrganizationGroups, ScopeCreateOrganizationGroupRoles, ScopeDeleteOrganizationGroupRoles,
	ScopeReadResourceServers, ScopeCreateResourceServers, ScopeUpdateResourceServers, ScopeDeleteResourceServers,
	ScopeCreateRoleMembers, ScopeDeleteRoleMembers,
	ScopeReadRoleMappings, ScopeCreateRoleMappings, ScopeDeleteRoleMappings,
	ScopeReadEventStreams, ScopeCreateEventStreams, ScopeUpdateEventStreams, ScopeDeleteEventStreams,
	ScopeReadRoleRules, ScopeCreateRoleRules, ScopeUpdateRoleRules, ScopeDeleteRoleRules,
}

func knownScope(list []string, s string) bool {
	for _, k := range list {
		if k == s {
			return true
		}
	}
	return false
}
