package store

// Audit event types: the Type of every AuditEntry the store writes, named as
// Auth0 names its log events where it has one. The store writes no other
// type; EventTypes lists them all for the layers that offer a filter.
const (
	EventAPIKeyCreated = "api_key.created"
	EventAPIKeyDeleted = "api_key.deleted"

	EventConnectionCreated            = "connection.created"
	EventConnectionDeleted            = "connection.deleted"
	EventConnectionRoleMappingCreated = "connection.role_mapping.created"
	EventConnectionRoleMappingDeleted = "connection.role_mapping.deleted"
	EventConnectionUpdated            = "connection.updated"

	EventEventStreamCreated = "event_stream.created"
	EventEventStreamDeleted = "event_stream.deleted"
	EventEventStreamUpdated = "event_stream.updated" // also: disabled by delivery failures, secret rotated

	EventGroupCreated       = "group.created"
	EventGroupDeleted       = "group.deleted"
	EventGroupMemberAdded   = "group.member.added"
	EventGroupMemberDeleted = "group.member.deleted"
	EventGroupRoleAssigned  = "group.role.assigned"
	EventGroupRoleDeleted   = "group.role.deleted"
	EventGroupUpdated       = "group.updated"

	EventOrganizationConnectionAdded    = "organization.connection.added"
	EventOrganizationConnectionRemoved  = "organization.connection.removed"
	EventOrganizationConnectionUpdated  = "organization.connection.updated"
	EventOrganizationCreated            = "organization.created"
	EventOrganizationDeleted            = "organization.deleted"
	EventOrganizationGroupRoleAssigned  = "organization.group.role.assigned"
	EventOrganizationGroupRoleDeleted   = "organization.group.role.deleted"
	EventOrganizationMemberAdded        = "organization.member.added"
	EventOrganizationMemberDeleted      = "organization.member.deleted"
	EventOrganizationMemberRoleAssigned = "organization.member.role.assigned"
	EventOrganizationMemberRoleDeleted  = "organization.member.role.deleted"
	EventOrganizationUpdated            = "organization.updated"

	EventResourceServerCreated = "resource_server.created"
	EventResourceServerDeleted = "resource_server.deleted"
	EventResourceServerUpdated = "resource_server.updated"

	EventRoleCreated           = "role.created"
	EventRoleDeleted           = "role.deleted"
	EventRolePermissionDeleted = "role.permission.deleted"
	EventRoleUpdated           = "role.updated"

	EventRoleRuleCreated = "role_rule.created"
	EventRoleRuleDeleted = "role_rule.deleted"
	EventRoleRuleUpdated = "role_rule.updated"

	EventSCIMConfigurationCreated = "scim_configuration.created"
	EventSCIMConfigurationDeleted = "scim_configuration.deleted"
	EventSCIMConfigurationUpdated = "scim_configuration.updated"

	EventSCIMTokenCreated = "scim_token.created"
	EventSCIMTokenDeleted = "scim_token.deleted"
	EventSessionCreated   = "session.created"
	EventSessionDeleted   = "session.deleted"

	EventTenantSettingsUpdated = "tenant.settings.updated"

	EventUserCreated = "user.created"
	EventUserDeleted = "user.deleted"
	// EventUserEffectiveRolesChanged is derived, not written by a change:
	// the roles and permissions a user has in one scope changed, whatever
	// the cause (EffectiveRolesChange is its data).
	EventUserEffectiveRolesChanged = "user.effective_roles.changed"
	EventUserPermissionAssigned    = "user.permission.assigned"
	EventUserPermissionDeleted     = "user.permission.deleted"
	EventUserRoleAssigned          = "user.role.assigned"
	EventUserRoleDeleted           = "user.role.deleted"
	EventUserUpdated               = "user.updated"
)

// EventTypes are all the audit event types, sorted: what an audit log filter
// may ask for. Callers must not modify it.
var EventTypes = []string{
	EventAPIKeyCreated,
	EventAPIKeyDeleted,
	EventConnectionCreated,
	EventConnectionDeleted,
	EventConnectionRoleMappingCreated,
	EventConnectionRoleMappingDeleted,
	EventConnectionUpdated,
	EventEventStreamCreated,
	EventEventStreamDeleted,
	EventEventStreamUpdated,
	EventGroupCreated,
	EventGroupDeleted,
	EventGroupMemberAdded,
	EventGroupMemberDeleted,
	EventGroupRoleAssigned,
	EventGroupRoleDeleted,
	EventGroupUpdated,
	EventOrganizationConnectionAdded,
	EventOrganizationConnectionRemoved,
	EventOrganizationConnectionUpdated,
	EventOrganizationCreated,
	EventOrganizationDeleted,
	EventOrganizationGroupRoleAssigned,
	EventOrganizationGroupRoleDeleted,
	EventOrganizationMemberAdded,
	EventOrganizationMemberDeleted,
	EventOrganizationMemberRoleAssigned,
	EventOrganizationMemberRoleDeleted,
	EventOrganizationUpdated,
	EventResourceServerCreated,
	EventResourceServerDeleted,
	EventResourceServerUpdated,
	EventRoleCreated,
	EventRoleDeleted,
	EventRolePermissionDeleted,
	EventRoleUpdated,
	EventRoleRuleCreated,
	EventRoleRuleDeleted,
	EventRoleRuleUpdated,
	EventSCIMConfigurationCreated,
	EventSCIMConfigurationDeleted,
	EventSCIMConfigurationUpdated,
	EventSCIMTokenCreated,
	EventSCIMTokenDeleted,
	EventSessionCreated,
	EventSessionDeleted,
	EventTenantSettingsUpdated,
	EventUserCreated,
	EventUserDeleted,
	EventUserEffectiveRolesChanged,
	EventUserPermissionAssigned,
	EventUserPermissionDeleted,
	EventUserRoleAssigned,
	EventUserRoleDeleted,
	EventUserUpdated,
}
