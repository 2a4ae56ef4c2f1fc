package store

import "encoding/json"

// ChangeKind names what a Change is about.
type ChangeKind uint8

// Change kinds. Observers (in-memory indexes) react to these instead of
// re-reading the store; each mutation method emits the changes it makes.
const (
	UserCreated ChangeKind = iota + 1
	UserUpdated
	UserDeleted
	GroupCreated
	GroupUpdated
	GroupDeleted
	MemberAdded   // GroupID gained member MemberID
	MemberRemoved // GroupID lost member MemberID
	ConnectionDeleted
	RoleChanged           // RoleID was created or updated: Role holds it
	RoleDeleted           // RoleID (its bindings are removed by their own changes)
	GroupRoleBound        // GroupID ← RoleID at tenant scope
	GroupRoleUnbound      //
	UserRoleBound         // UserID ← RoleID directly
	UserRoleUnbound       //
	OrganizationCreated   // OrganizationID
	OrganizationDeleted   // OrganizationID (its parts are removed by their own changes)
	OrgConnectionSet      // ConnectionID enabled on OrganizationID, with AutoMembership
	OrgConnectionRemoved  //
	OrgMemberAdded        // UserID explicitly added to OrganizationID
	OrgMemberRemoved      //
	OrgMemberRoleBound    // (OrganizationID, UserID) ← RoleID
	OrgMemberRoleUnbound  //
	OrgGroupRoleBound     // (OrganizationID, GroupID) ← RoleID
	OrgGroupRoleUnbound   //
	TenantSettingsChanged // Settings holds the settings after the change

	ResourceServerChanged  // ResourceServer holds it after its creation or update
	ResourceServerDeleted  // ResourceServer holds it before (its permissions are removed by their own changes)
	UserPermissionAssigned // UserID ← Permission directly (tenant level)
	UserPermissionRemoved  //

	RoleMappingAdded   // MappingID: ConnectionID's users with the value Name have RoleID (in OrganizationID when set)
	RoleMappingRemoved // MappingID, with the fields it was added with

	RoleRuleChanged // Rule holds the attribute rule after its creation or update
	RoleRuleDeleted // Rule holds the attribute rule before its deletion
)

// Change is one committed change, as seen by observers.
type Change struct {
	Kind         ChangeKind
	ConnectionID string
	UserID       string // UserCreated/Updated/Deleted
	GroupID      string // Group*, Member*
	MemberID     string // Member*: a user or group id
	Active       bool   // UserCreated/Updated: the user's active flag after the change
	Name         string // GroupCreated/Updated: displayName after the change; RoleMapping*: idp_value
	UserName     string // UserCreated/Updated: userName after the change
	ExternalID   string // UserCreated/Updated: externalId after the change

	RoleID         string
	OrganizationID string
	AutoMembership bool           // OrgConnectionSet: assign_membership_on_login
	Role           *Role          // RoleChanged: the role after the change
	Settings       TenantSettings // TenantSettingsChanged

	ResourceServer *ResourceServer // ResourceServerChanged/Deleted
	Permission     Permission      // UserPermissionAssigned/Removed

	// IdPValues (UserCreated/Updated): the user's roles and entitlements
	// values after the change (IdPValues), the whole list, so an update
	// that drops the last one says so by leaving it empty. Most users have
	// none, and change records stay as they were.
	IdPValues []string `json:",omitempty"`
	MappingID string   `json:",omitempty"` // RoleMapping*: the mapping's id (Name is its idp_value)

	// Doc (UserCreated/Updated) is the user's SCIM document after the
	// change, and ChangedAttrs (UserUpdated) the attributes the change
	// touched (ChangedAttributes): attribute rules re-evaluate a user only
	// for the rules that read one of them, parsing Doc only then.
	Doc          json.RawMessage `json:",omitempty"`
	ChangedAttrs []string        `json:",omitempty"`
	Rule         *RoleRule       `json:",omitempty"` // RoleRuleChanged/Deleted
}
