package dashboard

import (
	"encoding/json"
	"time"
)

// The Management API's answers, as far as the pages show them.

type connection struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	DisplayName  string    `json:"display_name"`
	Strategy     string    `json:"strategy"`
	CreatedAt    time.Time `json:"created_at"`
	SCIMEndpoint string    `json:"scim_endpoint"`
}

type connectionList struct {
	Connections []connection `json:"connections"`
	Next        string       `json:"next"`
}

type scimToken struct {
	TokenID    string     `json:"token_id"`
	Token      string     `json:"token"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ValidUntil *time.Time `json:"valid_until"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

type group struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	ExternalID     string    `json:"external_id"`
	ConnectionID   string    `json:"connection_id"`
	MembersCount   int       `json:"members_count"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	AutoMembership bool      `json:"auto_membership"` // organization group listings only
}

type groupList struct {
	Groups []group `json:"groups"`
	Next   string  `json:"next"`
	Total  int     `json:"total"` // with include_totals=true
}

// member is a group's member (a user, or a group when Type is "group"), an
// organization's explicit member, or a user a role is assigned to directly.
type member struct {
	UserID       string `json:"user_id"`
	ConnectionID string `json:"connection_id"`
	UserName     string `json:"user_name"`
	DisplayName  string `json:"display_name"`
	Email        string `json:"email"`
	Active       bool   `json:"active"`
	Type         string `json:"type"`
	// Membership is "explicit" or "auto" in organization member listings:
	// an auto member is one through auto-membership only, and cannot be
	// removed from the list (only by turning auto-membership off).
	Membership string `json:"membership"`
}

type memberList struct {
	Members []member `json:"members"`
	Next    string   `json:"next"`
}

// roleUserList is GET /roles/{id}/users.
type roleUserList struct {
	Users []member `json:"users"`
	Next  string   `json:"next"`
	Total int      `json:"total"`
}

// orgBinding is one binding of a role inside an organization, to a group
// (Type "group") or to a member (Type "member").
type orgBinding struct {
	Type             string `json:"type"`
	OrganizationID   string `json:"organization_id"`
	OrganizationName string `json:"organization_name"`
	GroupID          string `json:"group_id"`
	GroupName        string `json:"group_name"`
	UserID           string `json:"user_id"`
	UserName         string `json:"user_name"`
	ConnectionID     string `json:"connection_id"`
}

type orgBindingList struct {
	Bindings []orgBinding `json:"bindings"`
	Next     string       `json:"next"`
	Total    int          `json:"total"`
}

type role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Organization group bindings only: whether the binding takes effect,
	// and why not.
	Effective *bool  `json:"effective"`
	Reason    string `json:"reason"`
}

// HasState reports whether the binding says if it takes effect.
func (r role) HasState() bool { return r.Effective != nil }

// Inert reports a binding that is kept but has no effect.
func (r role) Inert() bool { return r.Effective != nil && !*r.Effective }

type roleList struct {
	Roles []role `json:"roles"`
	Next  string `json:"next"`
}

type permission struct {
	ResourceServerIdentifier string `json:"resource_server_identifier"`
	PermissionName           string `json:"permission_name"`
	ResourceServerName       string `json:"resource_server_name,omitempty"`
	Description              string `json:"description,omitempty"`
}

// resourceServer is an API: permissions are its scopes.
type resourceServer struct {
	ID         string     `json:"id"`
	Identifier string     `json:"identifier"`
	Name       string     `json:"name"`
	Scopes     []apiScope `json:"scopes"`
}

type apiScope struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

type resourceServerList struct {
	ResourceServers []resourceServer `json:"resource_servers"`
	Next            string           `json:"next"`
}

type permissionList struct {
	Permissions []permission `json:"permissions"`
}

type email struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

type user struct {
	UserID       string    `json:"user_id"`
	ConnectionID string    `json:"connection_id"`
	UserName     string    `json:"user_name"`
	ExternalID   string    `json:"external_id"`
	Active       bool      `json:"active"`
	Emails       []email   `json:"emails"`
	DisplayName  string    `json:"display_name"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Email is the user's primary (or first) email address.
func (u user) Email() string {
	for _, e := range u.Emails {
		if e.Primary {
			return e.Value
		}
	}
	if len(u.Emails) > 0 {
		return u.Emails[0].Value
	}
	return ""
}

type userList struct {
	Users []user `json:"users"`
	Next  string `json:"next"`
}

type source struct {
	Type      string `json:"type"` // direct, group, idp_role or rule
	GroupID   string `json:"group_id"`
	GroupName string `json:"group_name"`
	// Value and ConnectionID (idp_role): the user's SCIM roles or
	// entitlements value a role mapping of the connection maps.
	Value        string `json:"value"`
	ConnectionID string `json:"connection_id"`
	// RuleID and RuleName (rule): the attribute rule the user matches.
	RuleID   string `json:"rule_id"`
	RuleName string `json:"rule_name"`
	Scope    string `json:"scope"` // tenant or organization
	// Via is the path from the user's own group up to, not including, the
	// group above (nested group roles on): the user is in Via[0], which is
	// in Via[1], …, which is in the group the role is bound to.
	Via []struct {
		GroupID   string `json:"group_id"`
		GroupName string `json:"group_name"`
	} `json:"via"`
	// ViaLength is the whole path's length when the API shortened Via: the
	// user's own group (Via[0]), then the groups just below the bound one.
	ViaLength int `json:"via_length"`
}

// ViaGap is how many groups of the path the API left out after Via[0]: 0
// when Via is the whole path.
func (s source) ViaGap() int {
	if s.ViaLength > len(s.Via) {
		return s.ViaLength - len(s.Via)
	}
	return 0
}

type effectiveRole struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Scope       string   `json:"scope"`
	Sources     []source `json:"sources"`
}

type effectiveRoles struct {
	UserID       string `json:"user_id"`
	Active       bool   `json:"active"`
	Organization *struct {
		ID             string `json:"id"`
		Member         bool   `json:"member"`
		AutoMembership bool   `json:"auto_membership"`
	} `json:"organization"`
	Roles []effectiveRole `json:"roles"`
}

type organization struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
}

// userOrganization is an organization a user is a member of, and how.
type userOrganization struct {
	organization
	Membership string `json:"membership"` // explicit or auto
}

type userOrganizationList struct {
	Organizations []userOrganization `json:"organizations"`
	Next          string             `json:"next"`
}

type organizationList struct {
	Organizations []organization `json:"organizations"`
	Next          string         `json:"next"`
}

type enabledConnection struct {
	ConnectionID            string `json:"connection_id"`
	AssignMembershipOnLogin bool   `json:"assign_membership_on_login"`
	Connection              struct {
		Name     string `json:"name"`
		Strategy string `json:"strategy"`
	} `json:"connection"`
}

type enabledConnectionList struct {
	EnabledConnections []enabledConnection `json:"enabled_connections"`
}

type logEntry struct {
	ID      string    `json:"id"`
	Date    time.Time `json:"date"`
	Type    string    `json:"type"`
	Channel string    `json:"channel"`
	Actor   struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"actor"`
	Target struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"target"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	RequestID string          `json:"request_id"`
	Revision  uint64          `json:"revision"`
}

type logList struct {
	Logs []logEntry `json:"logs"`
	Next string     `json:"next"`
}

type apiKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Key        string     `json:"key"` // the secret: only in the create answer
}

type apiKeyList struct {
	APIKeys []apiKey `json:"api_keys"`
}

type tenantSettings struct {
	Flags struct {
		NestedGroupRoles           bool `json:"nested_group_roles"`
		TenantRolesInOrganizations bool `json:"tenant_roles_in_organizations"`
	} `json:"flags"`
}
