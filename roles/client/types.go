package client

import (
	"encoding/json"
	"time"
)

// Connection is an identity provider connection (Auth0's shape).
type Connection struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	DisplayName        string            `json:"display_name,omitempty"`
	Strategy           string            `json:"strategy"`
	Options            json.RawMessage   `json:"options,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	Realms             []string          `json:"realms"`
	EnabledClients     []string          `json:"enabled_clients"`
	IsDomainConnection bool              `json:"is_domain_connection"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
	SCIMEndpoint       string            `json:"scim_endpoint,omitempty"`
}

// ConnectionCreate is the body of CreateConnection; Name is required.
type ConnectionCreate struct {
	Name        string            `json:"name"`
	DisplayName string            `json:"display_name,omitempty"`
	Strategy    string            `json:"strategy,omitempty"`
	Options     json.RawMessage   `json:"options,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// SCIMMapping maps an Auth0 attribute to a SCIM one.
type SCIMMapping struct {
	Auth0 string `json:"auth0"`
	SCIM  string `json:"scim"`
}

// SCIMConfiguration is a connection's SCIM endpoint; SCIMEndpoint is the URL
// an identity provider is given.
type SCIMConfiguration struct {
	ConnectionID    string        `json:"connection_id"`
	ConnectionName  string        `json:"connection_name"`
	Strategy        string        `json:"strategy"`
	TenantName      string        `json:"tenant_name,omitempty"`
	UserIDAttribute string        `json:"user_id_attribute"`
	Mapping         []SCIMMapping `json:"mapping"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedOn       time.Time     `json:"updated_on"`
	SCIMEndpoint    string        `json:"scim_endpoint"`
}

// SCIMConfigurationBody is the body of CreateSCIMConfiguration (all optional).
type SCIMConfigurationBody struct {
	UserIDAttribute string        `json:"user_id_attribute,omitempty"`
	Mapping         []SCIMMapping `json:"mapping,omitempty"`
}

// SCIMToken is a connection's SCIM bearer token. Token, the secret, is set
// only in CreateSCIMToken's answer: it is shown once.
type SCIMToken struct {
	TokenID    string     `json:"token_id"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ValidUntil *time.Time `json:"valid_until"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Token      string     `json:"token,omitempty"`
}

// SCIMTokenCreate is the body of CreateSCIMToken: no scopes means every
// SCIM scope; a nil lifetime means the token does not expire.
type SCIMTokenCreate struct {
	Scopes        []string `json:"scopes,omitempty"`
	TokenLifetime *int     `json:"token_lifetime,omitempty"` // seconds
}

// Role is a role.
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// RoleCreate is the body of CreateRole; Name is required.
type RoleCreate struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// RoleUpdate is the body of UpdateRole: nil fields are left as they are.
type RoleUpdate struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
}

// RoleStatus is a role bound to an organization's group, with whether the
// binding takes effect and, if not, why.
type RoleStatus struct {
	Role
	Effective bool   `json:"effective"`
	Reason    string `json:"reason,omitempty"`
}

// PermissionRef names a permission of a resource server.
type PermissionRef struct {
	ResourceServerIdentifier string `json:"resource_server_identifier"`
	PermissionName           string `json:"permission_name"`
}

// Permission is a role's permission, described.
type Permission struct {
	PermissionRef
	ResourceServerName string `json:"resource_server_name"`
	Description        string `json:"description"`
}

// Group is a group an identity provider pushed over SCIM.
type Group struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	ExternalID   string    `json:"external_id,omitempty"`
	ConnectionID string    `json:"connection_id"`
	MembersCount int       `json:"members_count"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// OrganizationGroup is a group of an organization's enabled connections.
type OrganizationGroup struct {
	Group
	AutoMembership bool `json:"auto_membership"`
}

// GroupMember is a group's member: a user or a nested group.
type GroupMember struct {
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Active      bool   `json:"active"`
	Type        string `json:"type"` // "user" or "group"
}

// Email is one of a user's addresses.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// User is a user an identity provider pushed over SCIM.
type User struct {
	UserID       string    `json:"user_id"`
	ConnectionID string    `json:"connection_id"`
	UserName     string    `json:"user_name"`
	ExternalID   string    `json:"external_id,omitempty"`
	Active       bool      `json:"active"`
	Emails       []Email   `json:"emails,omitempty"`
	DisplayName  string    `json:"display_name,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Name         *struct {
		Formatted  string `json:"formatted,omitempty"`
		FamilyName string `json:"family_name,omitempty"`
		GivenName  string `json:"given_name,omitempty"`
	} `json:"name,omitempty"`
}

// Organization is an organization (tenant of the integrating application).
type Organization struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	DisplayName string            `json:"display_name,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// OrganizationCreate is the body of CreateOrganization; Name is required.
type OrganizationCreate struct {
	Name        string            `json:"name"`
	DisplayName string            `json:"display_name,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// EnabledConnection is a connection enabled for an organization.
type EnabledConnection struct {
	ConnectionID            string `json:"connection_id"`
	AssignMembershipOnLogin bool   `json:"assign_membership_on_login"`
	Connection              struct {
		Name     string `json:"name"`
		Strategy string `json:"strategy"`
	} `json:"connection"`
}

// OrganizationMember is a member of an organization (or a user bound to a role).
type OrganizationMember struct {
	UserID       string `json:"user_id"`
	ConnectionID string `json:"connection_id"`
	UserName     string `json:"user_name"`
	DisplayName  string `json:"display_name,omitempty"`
	Email        string `json:"email,omitempty"`
	Active       bool   `json:"active"`
	Membership   string `json:"membership,omitempty"` // "explicit" or "auto"
}

// ScopeValue is a permission a resource server defines.
type ScopeValue struct {
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

// ResourceServer is an API whose permissions roles grant.
type ResourceServer struct {
	ID         string       `json:"id"`
	Identifier string       `json:"identifier"`
	Name       string       `json:"name"`
	Scopes     []ScopeValue `json:"scopes"`
}

// ResourceServerCreate is the body of CreateResourceServer; Identifier is required.
type ResourceServerCreate struct {
	Identifier string       `json:"identifier"`
	Name       string       `json:"name,omitempty"`
	Scopes     []ScopeValue `json:"scopes,omitempty"`
}
