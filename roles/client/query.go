package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"
)

// Subject names a user for the login query: by UserID, or by ConnectionID
// with UserName or ExternalID; inside an organization with OrganizationID.
type Subject struct {
	UserID         string `json:"user_id,omitempty"`
	ConnectionID   string `json:"connection_id,omitempty"`
	UserName       string `json:"user_name,omitempty"`
	ExternalID     string `json:"external_id,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
}

// The parts of an answer Include may ask for.
const (
	IncludeRoles       = "roles"
	IncludeSources     = "sources"
	IncludePermissions = "permissions"
	IncludeClaims      = "claims"
)

// QueryRequest is the login query: one subject or a batch of up to 100.
type QueryRequest struct {
	Subjects []Subject `json:"subjects"`
	// MinRevision, when not 0, makes the server wait (up to about a second)
	// until its role index reflects that revision; else 409
	// revision_not_reached (IsRevisionNotReached).
	MinRevision uint64 `json:"min_revision,omitempty"`
	// ResourceServer lists only that resource server's permissions.
	ResourceServer string `json:"resource_server,omitempty"`
	// Include picks the parts of each result (nil: all of them).
	Include []string `json:"include,omitempty"`
}

// QueryAnswer is the login query's answer: one result per subject, in
// order, all at one index Revision.
type QueryAnswer struct {
	Results  []QueryResult `json:"results"`
	Revision uint64        `json:"revision"`
}

// QueryResult is one subject's answer, or its Error (a subject that does
// not resolve: user_not_found, organization_not_found, …) with the Subject
// as asked.
type QueryResult struct {
	User         *QueryUser          `json:"user,omitempty"`
	Organization *OrganizationStatus `json:"organization,omitempty"`
	Roles        []EffectiveRole     `json:"roles,omitempty"`
	Permissions  []PermissionRef     `json:"permissions,omitempty"`
	Claims       *Claims             `json:"claims,omitempty"`

	Subject *Subject      `json:"subject,omitempty"`
	Error   *SubjectError `json:"error,omitempty"`
}

// HasRole reports whether the result holds the role named name.
func (r QueryResult) HasRole(name string) bool {
	for _, role := range r.Roles {
		if role.Name == name {
			return true
		}
	}
	return false
}

// QueryUser is the resolved user; an inactive (deprovisioned) user holds no roles.
type QueryUser struct {
	ID           string `json:"id"`
	ConnectionID string `json:"connection_id"`
	Active       bool   `json:"active"`
}

// SubjectError is why one subject of a query did not resolve.
type SubjectError struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

func (e *SubjectError) Error() string { return "rolecall: " + e.ErrorCode + ": " + e.Message }

// OrganizationStatus is the user's standing in the organization asked about.
type OrganizationStatus struct {
	ID             string `json:"id"`
	Member         bool   `json:"member"`
	AutoMembership bool   `json:"auto_membership"`
}

// EffectiveRole is a role the user holds, with where it comes from.
type EffectiveRole struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Scope       string       `json:"scope"` // "tenant" or "organization"
	Sources     []RoleSource `json:"sources,omitempty"`
}

// RoleSource is one reason a user holds a role: "direct", a "group" the
// role is bound to (GroupID, GroupName, and the Via chain of nested groups
// the user reaches it through), or an "idp_role" value the identity
// provider sent that a role mapping maps to it (Value, ConnectionID). Scope
// is "tenant" or "organization".
type RoleSource struct {
	Type         string     `json:"type"`
	Scope        string     `json:"scope"`
	GroupID      string     `json:"group_id,omitempty"`
	GroupName    string     `json:"group_name,omitempty"`
	Value        string     `json:"value,omitempty"`
	ConnectionID string     `json:"connection_id,omitempty"`
	Via          []ViaGroup `json:"via,omitempty"`
	ViaLength    int        `json:"via_length,omitempty"` // the chain's length when Via is shortened
}

// ViaGroup is one group of a nested-group chain.
type ViaGroup struct {
	GroupID   string `json:"group_id"`
	GroupName string `json:"group_name"`
}

// Claims is the token-shaped block: role names and permission names.
type Claims struct {
	Roles       []string `json:"roles"`
	Permissions []string `json:"permissions"`
}

// EffectivePermission is a permission with the ids of the roles granting it.
type EffectivePermission struct {
	PermissionRef
	Roles []string `json:"roles"`
}

// Query runs the login query.
func (c *Client) Query(ctx context.Context, q QueryRequest) (*QueryAnswer, error) {
	var out QueryAnswer
	_, err := c.call(ctx, "POST", "/effective-roles/query", nil, q, &out)
	return ptr(&out, err), err
}

// EffectiveOptions shape EffectiveRoles.
type EffectiveOptions struct {
	OrganizationID string   // answer inside this organization
	Include        []string // parts (nil: roles with sources)
	ResourceServer string   // list only this resource server's permissions
	MinRevision    uint64   // see QueryRequest.MinRevision
}

// EffectiveAnswer is one user's effective roles at one revision; the parts
// present are the ones Include asked for.
type EffectiveAnswer struct {
	UserID       string                `json:"user_id"`
	Active       bool                  `json:"active"`
	Organization *OrganizationStatus   `json:"organization,omitempty"`
	Roles        []EffectiveRole       `json:"roles,omitempty"`
	Permissions  []EffectivePermission `json:"permissions,omitempty"`
	Claims       *Claims               `json:"claims,omitempty"`
	Revision     uint64                `json:"revision"`
}

// EffectiveRoles is GET /users/{id}/effective-roles: a missing user is a 404.
func (c *Client) EffectiveRoles(ctx context.Context, userID string, opts EffectiveOptions) (*EffectiveAnswer, error) {
	q := url.Values{}
	if opts.OrganizationID != "" {
		q.Set("organization_id", opts.OrganizationID)
	}
	if len(opts.Include) > 0 {
		q.Set("include", strings.Join(opts.Include, ","))
	}
	if opts.ResourceServer != "" {
		q.Set("resource_server", opts.ResourceServer)
	}
	if opts.MinRevision > 0 {
		q.Set("min_revision", strconv.FormatUint(opts.MinRevision, 10))
	}
	var out EffectiveAnswer
	_, err := c.call(ctx, "GET", "/users/"+esc(userID)+"/effective-roles", q, nil, &out)
	return ptr(&out, err), err
}
