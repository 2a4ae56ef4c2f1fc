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

// Change is one committed change, as seen by observers. Every field is
// omitted from its JSON when zero: shared engines keep each revision's
// changes (follow.go), and a membership change names three ids of twenty
// fields.
type Change struct {
	Kind         ChangeKind `json:",omitzero"`
	ConnectionID string     `json:",omitzero"`
	UserID       string     `json:",omitzero"` // UserCreated/Updated/Deleted
	GroupID      string     `json:",omitzero"` // Group*, Member*
	MemberID     string     `json:",omitzero"` // Member*: a user or group id
	Active       bool       `json:",omitzero"` // UserCreated/Updated: the user's active flag after the change
	Name         string     `json:",omitzero"` // GroupCreated/Updated: displayName after the change; RoleMapping*: idp_value
	UserName     string     `json:",omitzero"` // UserCreated/Updated: userName after the change
	ExternalID   string     `json:",omitzero"` // UserCreated/Updated: externalId after the change

	RoleID         string         `json:",omitzero"`
	OrganizationID string         `json:",omitzero"`
	AutoMembership bool           `json:",omitzero"` // OrgConnectionSet: assign_membership_on_login
	Role           *Role          `json:",omitzero"` // RoleChanged: the role after the change
	Settings       TenantSettings `json:",omitzero"` // TenantSettingsChanged

	ResourceServer *ResourceServer `json:",omitzero"` // ResourceServerChanged/Deleted
	Permission     Permission      `json:",omitzero"` // UserPermissionAssigned/Removed

	// IdPValues (UserCreated/Updated): the user's roles and entitlements
	// values after the change (IdPValues), the whole list, so an update
	// that drops the last one says so by leaving it empty. Most users have
	// none, and change records stay as they were.
	IdPValues []string `json:",omitzero"`
	MappingID string   `json:",omitzero"` // RoleMapping*: the mapping's id (Name is its idp_value)

	// Doc (UserCreated/Updated) is the user's SCIM document after the
	// change, and ChangedAttrs (UserUpdated) the attributes the change
	// touched (ChangedAttributes): attribute rules re-evaluate a user only
	// for the rules that read one of them, parsing Doc only then.
	Doc          json.RawMessage `json:",omitzero"`
	ChangedAttrs []string        `json:",omitzero"`
	Rule         *RoleRule       `json:",omitzero"` // RoleRuleChanged/Deleted
}
