package client

import (
	"context"
	"iter"
)

// Every write below returns the revision it committed at; every call
// returns a *Error for an error answer (see IsNotFound and the others).

// Connections.

// CreateConnection creates a connection.
func (c *Client) CreateConnection(ctx context.Context, body ConnectionCreate) (*Connection, uint64, error) {
	var out Connection
	rev, err := c.call(ctx, "POST", "/connections", nil, body, &out)
	return ptr(&out, err), rev, err
}

// Connection returns a connection by id.
func (c *Client) Connection(ctx context.Context, id string) (*Connection, error) {
	var out Connection
	_, err := c.call(ctx, "GET", "/connections/"+esc(id), nil, nil, &out)
	return ptr(&out, err), err
}

// Connections walks every connection.
func (c *Client) Connections(ctx context.Context, opts ListOptions) iter.Seq2[Connection, error] {
	return pages[Connection](c, ctx, "/connections", "connections", opts)
}

// DeleteConnection deletes a connection with its users, groups and tokens.
func (c *Client) DeleteConnection(ctx context.Context, id string) (uint64, error) {
	return c.call(ctx, "DELETE", "/connections/"+esc(id), nil, nil, nil)
}

// CreateSCIMConfiguration gives a connection its SCIM endpoint.
func (c *Client) CreateSCIMConfiguration(ctx context.Context, connectionID string, body SCIMConfigurationBody) (*SCIMConfiguration, uint64, error) {
	var out SCIMConfiguration
	rev, err := c.call(ctx, "POST", "/connections/"+esc(connectionID)+"/scim-configuration", nil, body, &out)
	return ptr(&out, err), rev, err
}

// SCIMConfiguration returns a connection's SCIM configuration.
func (c *Client) SCIMConfiguration(ctx context.Context, connectionID string) (*SCIMConfiguration, error) {
	var out SCIMConfiguration
	_, err := c.call(ctx, "GET", "/connections/"+esc(connectionID)+"/scim-configuration", nil, nil, &out)
	return ptr(&out, err), err
}

// CreateSCIMToken issues a SCIM token; its secret is in the answer's Token only.
func (c *Client) CreateSCIMToken(ctx context.Context, connectionID string, body SCIMTokenCreate) (*SCIMToken, uint64, error) {
	var out SCIMToken
	rev, err := c.call(ctx, "POST", "/connections/"+esc(connectionID)+"/scim-configuration/tokens", nil, body, &out)
	return ptr(&out, err), rev, err
}

// SCIMTokens lists a connection's SCIM tokens (without their secrets).
func (c *Client) SCIMTokens(ctx context.Context, connectionID string) ([]SCIMToken, error) {
	var out []SCIMToken
	_, err := c.call(ctx, "GET", "/connections/"+esc(connectionID)+"/scim-configuration/tokens", nil, nil, &out)
	return out, err
}

// RevokeSCIMToken deletes a SCIM token: the identity provider using it is
// refused from then on.
func (c *Client) RevokeSCIMToken(ctx context.Context, connectionID, tokenID string) (uint64, error) {
	return c.call(ctx, "DELETE", "/connections/"+esc(connectionID)+"/scim-configuration/tokens/"+esc(tokenID), nil, nil, nil)
}

// Roles.

// CreateRole creates a role; a taken name is a 409 (IsConflict).
func (c *Client) CreateRole(ctx context.Context, body RoleCreate) (*Role, uint64, error) {
	var out Role
	rev, err := c.call(ctx, "POST", "/roles", nil, body, &out)
	return ptr(&out, err), rev, err
}

// Role returns a role by id.
func (c *Client) Role(ctx context.Context, id string) (*Role, error) {
	var out Role
	_, err := c.call(ctx, "GET", "/roles/"+esc(id), nil, nil, &out)
	return ptr(&out, err), err
}

// Roles walks every role (Filters: "name_filter").
func (c *Client) Roles(ctx context.Context, opts ListOptions) iter.Seq2[Role, error] {
	return pages[Role](c, ctx, "/roles", "roles", opts)
}

// UpdateRole changes a role's name or description.
func (c *Client) UpdateRole(ctx context.Context, id string, body RoleUpdate) (*Role, uint64, error) {
	var out Role
	rev, err := c.call(ctx, "PATCH", "/roles/"+esc(id), nil, body, &out)
	return ptr(&out, err), rev, err
}

// DeleteRole deletes a role and every binding of it.
func (c *Client) DeleteRole(ctx context.Context, id string) (uint64, error) {
	return c.call(ctx, "DELETE", "/roles/"+esc(id), nil, nil, nil)
}

// RolePermissions lists the permissions a role grants.
func (c *Client) RolePermissions(ctx context.Context, roleID string) ([]Permission, error) {
	var out struct {
		Permissions []Permission `json:"permissions"`
	}
	_, err := c.call(ctx, "GET", "/roles/"+esc(roleID)+"/permissions", nil, nil, &out)
	return out.Permissions, err
}

// AddRolePermissions grants permissions (of existing resource servers) to a role.
func (c *Client) AddRolePermissions(ctx context.Context, roleID string, perms ...PermissionRef) (uint64, error) {
	return c.call(ctx, "POST", "/roles/"+esc(roleID)+"/permissions", nil, map[string]any{"permissions": perms}, nil)
}

// RemoveRolePermissions takes permissions from a role.
func (c *Client) RemoveRolePermissions(ctx context.Context, roleID string, perms ...PermissionRef) (uint64, error) {
	return c.call(ctx, "DELETE", "/roles/"+esc(roleID)+"/permissions", nil, map[string]any{"permissions": perms}, nil)
}

// BindGroups binds a role to groups: their members (nested included) hold it.
func (c *Client) BindGroups(ctx context.Context, roleID string, groupIDs ...string) (uint64, error) {
	return c.call(ctx, "POST", "/roles/"+esc(roleID)+"/groups", nil, map[string]any{"groups": groupIDs}, nil)
}

// UnbindGroups removes a role's bindings to groups.
func (c *Client) UnbindGroups(ctx context.Context, roleID string, groupIDs ...string) (uint64, error) {
	return c.call(ctx, "DELETE", "/roles/"+esc(roleID)+"/groups", nil, map[string]any{"groups": groupIDs}, nil)
}

// BindUsers binds a role to users directly.
func (c *Client) BindUsers(ctx context.Context, roleID string, userIDs ...string) (uint64, error) {
	return c.call(ctx, "POST", "/roles/"+esc(roleID)+"/users", nil, map[string]any{"users": userIDs}, nil)
}

// UnbindUsers removes a role's direct bindings to users.
func (c *Client) UnbindUsers(ctx context.Context, roleID string, userIDs ...string) (uint64, error) {
	return c.call(ctx, "DELETE", "/roles/"+esc(roleID)+"/users", nil, map[string]any{"users": userIDs}, nil)
}

// RoleGroups walks the groups a role is bound to.
func (c *Client) RoleGroups(ctx context.Context, roleID string, opts ListOptions) iter.Seq2[Group, error] {
	return pages[Group](c, ctx, "/roles/"+esc(roleID)+"/groups", "groups", opts)
}

// RoleUsers walks the users a role is bound to directly.
func (c *Client) RoleUsers(ctx context.Context, roleID string, opts ListOptions) iter.Seq2[OrganizationMember, error] {
	return pages[OrganizationMember](c, ctx, "/roles/"+esc(roleID)+"/users", "users", opts)
}

// Groups and users.

// Group returns a group by id.
func (c *Client) Group(ctx context.Context, id string) (*Group, error) {
	var out Group
	_, err := c.call(ctx, "GET", "/groups/"+esc(id), nil, nil, &out)
	return ptr(&out, err), err
}

// Groups walks every group (Filters: "connection_id", "name", "external_id", "search").
func (c *Client) Groups(ctx context.Context, opts ListOptions) iter.Seq2[Group, error] {
	return pages[Group](c, ctx, "/groups", "groups", opts)
}

// GroupMembers walks a group's direct members.
func (c *Client) GroupMembers(ctx context.Context, groupID string, opts ListOptions) iter.Seq2[GroupMember, error] {
	return pages[GroupMember](c, ctx, "/groups/"+esc(groupID)+"/members", "members", opts)
}

// GroupRoles lists the roles bound to a group.
func (c *Client) GroupRoles(ctx context.Context, groupID string) ([]Role, error) {
	var out struct {
		Roles []Role `json:"roles"`
	}
	_, err := c.call(ctx, "GET", "/groups/"+esc(groupID)+"/roles", nil, nil, &out)
	return out.Roles, err
}

// User returns a user by id.
func (c *Client) User(ctx context.Context, id string) (*User, error) {
	var out User
	_, err := c.call(ctx, "GET", "/users/"+esc(id), nil, nil, &out)
	return ptr(&out, err), err
}

// Users walks every user (Filters: "connection_id", "user_name", "external_id", "search").
func (c *Client) Users(ctx context.Context, opts ListOptions) iter.Seq2[User, error] {
	return pages[User](c, ctx, "/users", "users", opts)
}

// UserRoles walks the roles bound to a user directly (not the effective
// ones: see EffectiveRoles).
func (c *Client) UserRoles(ctx context.Context, userID string, opts ListOptions) iter.Seq2[Role, error] {
	return pages[Role](c, ctx, "/users/"+esc(userID)+"/roles", "roles", opts)
}

// Organizations.

// CreateOrganization creates an organization; a taken name is a 409.
func (c *Client) CreateOrganization(ctx context.Context, body OrganizationCreate) (*Organization, uint64, error) {
	var out Organization
	rev, err := c.call(ctx, "POST", "/organizations", nil, body, &out)
	return ptr(&out, err), rev, err
}

// Organization returns an organization by id.
func (c *Client) Organization(ctx context.Context, id string) (*Organization, error) {
	var out Organization
	_, err := c.call(ctx, "GET", "/organizations/"+esc(id), nil, nil, &out)
	return ptr(&out, err), err
}

// Organizations walks every organization.
func (c *Client) Organizations(ctx context.Context, opts ListOptions) iter.Seq2[Organization, error] {
	return pages[Organization](c, ctx, "/organizations", "organizations", opts)
}

// DeleteOrganization deletes an organization and its memberships and bindings.
func (c *Client) DeleteOrganization(ctx context.Context, id string) (uint64, error) {
	return c.call(ctx, "DELETE", "/organizations/"+esc(id), nil, nil, nil)
}

// EnableConnection enables a connection for an organization; with
// assignMembershipOnLogin, the connection's users are members automatically.
func (c *Client) EnableConnection(ctx context.Context, orgID, connectionID string, assignMembershipOnLogin bool) (*EnabledConnection, uint64, error) {
	var out EnabledConnection
	body := map[string]any{"connection_id": connectionID, "assign_membership_on_login": assignMembershipOnLogin}
	rev, err := c.call(ctx, "POST", "/organizations/"+esc(orgID)+"/enabled_connections", nil, body, &out)
	return ptr(&out, err), rev, err
}

// DisableConnection disables a connection for an organization.
func (c *Client) DisableConnection(ctx context.Context, orgID, connectionID string) (uint64, error) {
	return c.call(ctx, "DELETE", "/organizations/"+esc(orgID)+"/enabled_connections/"+esc(connectionID), nil, nil, nil)
}

// EnabledConnections walks an organization's enabled connections.
func (c *Client) EnabledConnections(ctx context.Context, orgID string, opts ListOptions) iter.Seq2[EnabledConnection, error] {
	return pages[EnabledConnection](c, ctx, "/organizations/"+esc(orgID)+"/enabled_connections", "enabled_connections", opts)
}

// AddMembers makes users members of an organization.
func (c *Client) AddMembers(ctx context.Context, orgID string, userIDs ...string) (uint64, error) {
	return c.call(ctx, "POST", "/organizations/"+esc(orgID)+"/members", nil, map[string]any{"members": userIDs}, nil)
}

// RemoveMembers ends users' explicit memberships of an organization.
func (c *Client) RemoveMembers(ctx context.Context, orgID string, userIDs ...string) (uint64, error) {
	return c.call(ctx, "DELETE", "/organizations/"+esc(orgID)+"/members", nil, map[string]any{"members": userIDs}, nil)
}

// Members walks an organization's members, explicit and automatic.
func (c *Client) Members(ctx context.Context, orgID string, opts ListOptions) iter.Seq2[OrganizationMember, error] {
	return pages[OrganizationMember](c, ctx, "/organizations/"+esc(orgID)+"/members", "members", opts)
}

// AssignMemberRoles binds roles to a member inside an organization.
func (c *Client) AssignMemberRoles(ctx context.Context, orgID, userID string, roleIDs ...string) (uint64, error) {
	return c.call(ctx, "POST", "/organizations/"+esc(orgID)+"/members/"+esc(userID)+"/roles", nil, map[string]any{"roles": roleIDs}, nil)
}

// RemoveMemberRoles unbinds roles from a member inside an organization.
func (c *Client) RemoveMemberRoles(ctx context.Context, orgID, userID string, roleIDs ...string) (uint64, error) {
	return c.call(ctx, "DELETE", "/organizations/"+esc(orgID)+"/members/"+esc(userID)+"/roles", nil, map[string]any{"roles": roleIDs}, nil)
}

// MemberRoles walks the roles bound to a member inside an organization.
func (c *Client) MemberRoles(ctx context.Context, orgID, userID string, opts ListOptions) iter.Seq2[Role, error] {
	return pages[Role](c, ctx, "/organizations/"+esc(orgID)+"/members/"+esc(userID)+"/roles", "roles", opts)
}

// OrganizationGroups walks the groups of an organization's enabled connections.
func (c *Client) OrganizationGroups(ctx context.Context, orgID string, opts ListOptions) iter.Seq2[OrganizationGroup, error] {
	return pages[OrganizationGroup](c, ctx, "/organizations/"+esc(orgID)+"/groups", "groups", opts)
}

// AssignGroupRoles binds roles to a group inside an organization: its
// members hold them there.
func (c *Client) AssignGroupRoles(ctx context.Context, orgID, groupID string, roleIDs ...string) (uint64, error) {
	return c.call(ctx, "POST", "/organizations/"+esc(orgID)+"/groups/"+esc(groupID)+"/roles", nil, map[string]any{"roles": roleIDs}, nil)
}

// RemoveGroupRoles unbinds roles from a group inside an organization.
func (c *Client) RemoveGroupRoles(ctx context.Context, orgID, groupID string, roleIDs ...string) (uint64, error) {
	return c.call(ctx, "DELETE", "/organizations/"+esc(orgID)+"/groups/"+esc(groupID)+"/roles", nil, map[string]any{"roles": roleIDs}, nil)
}

// GroupRolesIn lists the roles bound to a group inside an organization,
// with whether each binding takes effect.
func (c *Client) GroupRolesIn(ctx context.Context, orgID, groupID string) ([]RoleStatus, error) {
	var out struct {
		Roles []RoleStatus `json:"roles"`
	}
	_, err := c.call(ctx, "GET", "/organizations/"+esc(orgID)+"/groups/"+esc(groupID)+"/roles", nil, nil, &out)
	return out.Roles, err
}

// Resource servers.

// CreateResourceServer creates a resource server with its permissions (scopes).
func (c *Client) CreateResourceServer(ctx context.Context, body ResourceServerCreate) (*ResourceServer, uint64, error) {
	var out ResourceServer
	rev, err := c.call(ctx, "POST", "/resource-servers", nil, body, &out)
	return ptr(&out, err), rev, err
}

// ResourceServer returns a resource server by id or identifier.
func (c *Client) ResourceServer(ctx context.Context, id string) (*ResourceServer, error) {
	var out ResourceServer
	_, err := c.call(ctx, "GET", "/resource-servers/"+esc(id), nil, nil, &out)
	return ptr(&out, err), err
}

// ResourceServers walks every resource server.
func (c *Client) ResourceServers(ctx context.Context, opts ListOptions) iter.Seq2[ResourceServer, error] {
	return pages[ResourceServer](c, ctx, "/resource-servers", "resource_servers", opts)
}

// ptr returns v, or nil when err is set, so no caller mistakes a zero value
// for an answer.
func ptr[T any](v *T, err error) *T {
	if err != nil {
		return nil
	}
	return v
}
