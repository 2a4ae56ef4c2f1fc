package store

import (
	"encoding/json"
	"time"
)

// Organization is a customer workspace. Its members are the users added
// explicitly plus, through EnabledConnection.AssignMembershipOnLogin, the
// users of its enabled connections.
type Organization struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	DisplayName string            `json:"display_name,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// EnabledConnection is a connection enabled on an organization.
// AssignMembershipOnLogin ("auto-membership") makes every user of the
// connection a member, and is what makes organization-scope group bindings of
// the connection's groups take effect.
type EnabledConnection struct {
	OrganizationID          string    `json:"organization_id"`
	ConnectionID            string    `json:"connection_id"`
	AssignMembershipOnLogin bool      `json:"assign_membership_on_login"`
	CreatedAt               time.Time `json:"created_at"`
}

func orgTarget(id string) Target { return Target{"organization", id} }

// Organization returns an organization, or ErrNotFound.
func (r *ReadTx) Organization(id string) (Organization, error) {
	var o Organization
	if !ValidID(PrefixOrganization, id) {
		return o, notFound("organization", id)
	}
	ok, err := r.getJSON(bucketOrgs, []byte(id), &o)
	if err == nil && !ok {
		err = notFound("organization", id)
	}
	return o, err
}

// Organizations lists organizations in id order after `after`, at most take.
func (r *ReadTx) Organizations(after string, take int) (list []Organization, next string, err error) {
	err = r.pageRecords(bucketOrgs, after, take, func(v []byte) error {
		var o Organization
		if err := json.Unmarshal(v, &o); err != nil {
			return err
		}
		list = append(list, o)
		return nil
	}, &next)
	return list, next, err
}

func checkOrganization(o Organization) error {
	if o.Name == "" || len(o.Name) > 128 {
		return errorf(ErrInvalid, "organization name must be 1 to 128 characters")
	}
	return nil
}

// CreateOrganization stores a new organization with a unique name.
func (tx *Tx) CreateOrganization(o Organization) (Organization, error) {
	if err := checkOrganization(o); err != nil {
		return o, err
	}
	nameKey := []byte(Fold(o.Name))
	if tx.has(bucketOrgNames, nameKey) {
		return o, errorf(ErrConflict, "an organization named %q already exists", o.Name)
	}
	o.ID = tx.newID(PrefixOrganization, bucketOrgs)
	o.CreatedAt, o.UpdatedAt = tx.now, tx.now
	tx.put(bucketOrgNames, nameKey, []byte(o.ID))
	tx.putJSON(bucketOrgs, []byte(o.ID), o)
	tx.audit(EventOrganizationCreated, orgTarget(o.ID), nil, o)
	tx.emit(Change{Kind: OrganizationCreated, OrganizationID: o.ID})
	return o, tx.err
}

// UpdateOrganization applies fn (name, display name, metadata) and saves.
func (tx *Tx) UpdateOrganization(id string, fn func(*Organization) error) (Organization, error) {
	old, err := tx.Organization(id)
	if err != nil {
		return old, err
	}
	o := old
	if err := fn(&o); err != nil {
		return old, err
	}
	o.ID, o.CreatedAt = old.ID, old.CreatedAt
	if err := checkOrganization(o); err != nil {
		return old, err
	}
	if oldKey, newKey := Fold(old.Name), Fold(o.Name); oldKey != newKey {
		if tx.has(bucketOrgNames, []byte(newKey)) {
			return old, errorf(ErrConflict, "an organization named %q already exists", o.Name)
		}
		tx.del(bucketOrgNames, []byte(oldKey))
		tx.put(bucketOrgNames, []byte(newKey), []byte(o.ID))
	}
	o.UpdatedAt = tx.now
	tx.putJSON(bucketOrgs, []byte(o.ID), o)
	tx.audit(EventOrganizationUpdated, orgTarget(o.ID), old, o)
	return o, tx.err
}

// DeleteOrganization deletes an organization with its enabled connections,
// members and every role binding in it (each audited as a cascade).
func (tx *Tx) DeleteOrganization(id string) error {
	o, err := tx.Organization(id)
	if err != nil {
		return err
	}
	prefix := []byte(id)
	tx.delPrefix(bucketOrgGroupRoles, prefix, func(k, _ []byte) {
		tx.unbindRole(orgGroupRoles, id, string(k[IDLen:2*IDLen]), string(k[2*IDLen:]), true)
	})
	tx.delPrefix(bucketOrgMemberRoles, prefix, func(k, _ []byte) {
		tx.unbindRole(orgMemberRoles, id, string(k[IDLen:2*IDLen]), string(k[2*IDLen:]), true)
	})
	tx.delPrefix(bucketOrgMembers, prefix, func(k, _ []byte) {
		tx.removeOrgMember(id, string(k[IDLen:]), true)
	})
	tx.delPrefix(bucketOrgConnections, prefix, func(k, _ []byte) {
		tx.removeOrgConnection(id, string(k[IDLen:]), true)
	})
	tx.dropRoleMappingsBy(bucketOrgRoleMappings, id)
	tx.dropRoleRulesBy(bucketOrgRoleRules, id)
	tx.del(bucketOrgNames, []byte(Fold(o.Name)))
	tx.del(bucketOrgs, []byte(id))
	tx.audit(EventOrganizationDeleted, orgTarget(id), o, nil)
	tx.emit(Change{Kind: OrganizationDeleted, OrganizationID: id})
	return tx.err
}

// EnabledConnections lists the connections enabled on an organization.
func (r *ReadTx) EnabledConnections(orgID string) ([]EnabledConnection, error) {
	if _, err := r.Organization(orgID); err != nil {
		return nil, err
	}
	var out []EnabledConnection
	var ferr error
	r.scanPrefix(bucketOrgConnections, []byte(orgID), func(_, v []byte) bool {
		var ec EnabledConnection
		if ferr = json.Unmarshal(v, &ec); ferr != nil {
			return false
		}
		out = append(out, ec)
		return true
	})
	return out, ferr
}

// EnabledConnection returns one enabled connection of an organization, or
// ErrNotFound when the connection is not enabled on it.
func (r *ReadTx) EnabledConnection(orgID, connectionID string) (EnabledConnection, error) {
	var ec EnabledConnection
	if _, err := r.Organization(orgID); err != nil {
		return ec, err
	}
	ok, err := r.getJSON(bucketOrgConnections, catS(orgID, connectionID), &ec)
	if err == nil && !ok {
		err = errorf(ErrNotFound, "connection %q is not enabled on organization %q", connectionID, orgID)
	}
	return ec, err
}

// EnableConnection enables a connection on an organization. ErrConflict when
// it already is.
func (tx *Tx) EnableConnection(orgID, connectionID string, assignMembershipOnLogin bool) (EnabledConnection, error) {
	if _, err := tx.Organization(orgID); err != nil {
		return EnabledConnection{}, err
	}
	if err := tx.connectionExists(connectionID); err != nil {
		return EnabledConnection{}, err
	}
	key := catS(orgID, connectionID)
	if tx.has(bucketOrgConnections, key) {
		return EnabledConnection{}, errorf(ErrConflict, "connection %q is already enabled on organization %q", connectionID, orgID)
	}
	ec := EnabledConnection{OrganizationID: orgID, ConnectionID: connectionID, AssignMembershipOnLogin: assignMembershipOnLogin, CreatedAt: tx.now}
	tx.putJSON(bucketOrgConnections, key, ec)
	tx.putNew(bucketConnectionOrgs, catS(connectionID, orgID), present)
	tx.audit(EventOrganizationConnectionAdded, orgTarget(orgID), nil, ec)
	tx.emit(Change{Kind: OrgConnectionSet, OrganizationID: orgID, ConnectionID: connectionID, AutoMembership: assignMembershipOnLogin})
	return ec, tx.err
}

// UpdateEnabledConnection sets assign_membership_on_login of an enabled
// connection. Unchanged is a no-op.
func (tx *Tx) UpdateEnabledConnection(orgID, connectionID string, assignMembershipOnLogin bool) (EnabledConnection, error) {
	old, err := tx.EnabledConnection(orgID, connectionID)
	if err != nil || old.AssignMembershipOnLogin == assignMembershipOnLogin {
		return old, err
	}
	ec := old
	ec.AssignMembershipOnLogin = assignMembershipOnLogin
	tx.putJSON(bucketOrgConnections, catS(orgID, connectionID), ec)
	tx.audit(EventOrganizationConnectionUpdated, orgTarget(orgID), old, ec)
	tx.emit(Change{Kind: OrgConnectionSet, OrganizationID: orgID, ConnectionID: connectionID, AutoMembership: assignMembershipOnLogin})
	return ec, tx.err
}

// DisableConnection removes a connection from an organization. Organization
// bindings of its groups are kept but no longer take effect.
func (tx *Tx) DisableConnection(orgID, connectionID string) error {
	if _, err := tx.EnabledConnection(orgID, connectionID); err != nil {
		return err
	}
	tx.removeOrgConnection(orgID, connectionID, false)
	return tx.err
}

func (tx *Tx) removeOrgConnection(orgID, connectionID string, cascade bool) {
	var ec EnabledConnection
	if ok, _ := tx.getJSON(bucketOrgConnections, catS(orgID, connectionID), &ec); !ok {
		return
	}
	tx.del(bucketOrgConnections, catS(orgID, connectionID))
	tx.del(bucketConnectionOrgs, catS(connectionID, orgID))
	tx.auditMaybeCascade(cascade, EventOrganizationConnectionRemoved, orgTarget(orgID), ec, nil)
	tx.emit(Change{Kind: OrgConnectionRemoved, OrganizationID: orgID, ConnectionID: connectionID})
}

// OrganizationMembers lists the explicit members of an organization, in user
// id order, after `after`, at most take.
func (r *ReadTx) OrganizationMembers(orgID, after string, take int) ([]string, string, error) {
	if _, err := r.Organization(orgID); err != nil {
		return nil, "", err
	}
	return pageIDs(r.bindingIDs(bucketOrgMembers, orgID), after, take)
}

// IsOrganizationMember reports whether a user is a member of an organization:
// added explicitly, or a user of a connection enabled on it with
// auto-membership.
func (r *ReadTx) IsOrganizationMember(orgID string, u User) bool {
	if r.has(bucketOrgMembers, catS(orgID, u.ID)) {
		return true
	}
	var ec EnabledConnection
	ok, _ := r.getJSON(bucketOrgConnections, catS(orgID, u.ConnectionID), &ec)
	return ok && ec.AssignMembershipOnLogin
}

// AddOrganizationMembers adds users as explicit members. Every user must exist
// (ErrNotFound, nothing added); existing members are skipped.
func (tx *Tx) AddOrganizationMembers(orgID string, userIDs []string) (int, error) {
	if _, err := tx.Organization(orgID); err != nil {
		return 0, err
	}
	for _, uid := range userIDs {
		if _, err := tx.UserByID(uid); err != nil {
			return 0, err
		}
	}
	added := 0
	for _, uid := range userIDs {
		key := catS(orgID, uid)
		if tx.has(bucketOrgMembers, key) {
			continue
		}
		tx.putNew(bucketOrgMembers, key, present)
		tx.putNew(bucketUserOrgs, catS(uid, orgID), present)
		tx.audit(EventOrganizationMemberAdded, orgTarget(orgID), nil, map[string]string{"user_id": uid})
		tx.emit(Change{Kind: OrgMemberAdded, OrganizationID: orgID, UserID: uid})
		added++
	}
	return added, tx.err
}

// RemoveOrganizationMembers removes explicit members and their roles in the
// organization; users that are not members are ignored.
func (tx *Tx) RemoveOrganizationMembers(orgID string, userIDs []string) (int, error) {
	if _, err := tx.Organization(orgID); err != nil {
		return 0, err
	}
	for _, uid := range userIDs {
		if _, err := tx.UserByID(uid); err != nil {
			return 0, err
		}
	}
	removed := 0
	for _, uid := range userIDs {
		if !tx.has(bucketOrgMembers, catS(orgID, uid)) {
			continue
		}
		tx.delPrefix(bucketOrgMemberRoles, catS(orgID, uid), func(k, _ []byte) {
			tx.unbindRole(orgMemberRoles, orgID, uid, string(k[2*IDLen:]), true)
		})
		tx.removeOrgMember(orgID, uid, false)
		removed++
	}
	return removed, tx.err
}

func (tx *Tx) removeOrgMember(orgID, userID string, cascade bool) {
	tx.del(bucketOrgMembers, catS(orgID, userID))
	tx.del(bucketUserOrgs, catS(userID, orgID))
	tx.auditMaybeCascade(cascade, EventOrganizationMemberDeleted, orgTarget(orgID), map[string]string{"user_id": userID}, nil)
	tx.emit(Change{Kind: OrgMemberRemoved, OrganizationID: orgID, UserID: userID})
}

// OrganizationMemberRoles lists the roles of a user within an organization.
func (r *ReadTx) OrganizationMemberRoles(orgID, userID string) ([]string, error) {
	if _, err := r.Organization(orgID); err != nil {
		return nil, err
	}
	if _, err := r.UserByID(userID); err != nil {
		return nil, err
	}
	return r.bindingIDs(bucketOrgMemberRoles, orgID, userID), nil
}

// BindOrganizationMemberRoles assigns roles to a member within an
// organization. The user must be a member (explicit or by auto-membership):
// ErrNotFound otherwise, as for unknown roles.
func (tx *Tx) BindOrganizationMemberRoles(orgID, userID string, roleIDs []string) (int, error) {
	if _, err := tx.Organization(orgID); err != nil {
		return 0, err
	}
	u, err := tx.UserByID(userID)
	if err != nil {
		return 0, err
	}
	roleIDs, err = tx.checkRoles(roleIDs)
	if err != nil {
		return 0, err
	}
	if !tx.IsOrganizationMember(orgID, u) {
		return 0, missing("organization_member", "user %q is not a member of organization %q", userID, orgID)
	}
	return tx.bindRoles(orgMemberRoles, orgID, userID, roleIDs), tx.err
}

// UnbindOrganizationMemberRoles removes a member's roles in an organization.
func (tx *Tx) UnbindOrganizationMemberRoles(orgID, userID string, roleIDs []string) (int, error) {
	if _, err := tx.Organization(orgID); err != nil {
		return 0, err
	}
	if _, err := tx.UserByID(userID); err != nil {
		return 0, err
	}
	roleIDs, err := tx.checkRoles(roleIDs)
	if err != nil {
		return 0, err
	}
	return tx.unbindRoles(orgMemberRoles, orgID, userID, roleIDs), tx.err
}

// OrganizationGroupRoles lists the roles bound to a group within an organization.
func (r *ReadTx) OrganizationGroupRoles(orgID, groupID string) ([]string, error) {
	if _, err := r.Organization(orgID); err != nil {
		return nil, err
	}
	if _, err := r.GroupByID(groupID); err != nil {
		return nil, err
	}
	return r.bindingIDs(bucketOrgGroupRoles, orgID, groupID), nil
}

// OrganizationGroup returns a group of one of the organization's enabled
// connections (its "Organization Groups"), or ErrNotFound.
func (r *ReadTx) OrganizationGroup(orgID, groupID string) (Group, error) {
	if _, err := r.Organization(orgID); err != nil {
		return Group{}, err
	}
	g, err := r.GroupByID(groupID)
	if err != nil {
		return g, err
	}
	if !r.has(bucketOrgConnections, catS(orgID, g.ConnectionID)) {
		return Group{}, missing("organization_group", "group %q is not a group of organization %q: its connection is not enabled on it", groupID, orgID)
	}
	return g, nil
}

// BindOrganizationGroupRoles binds roles to one of the organization's groups
// at organization scope. The group's connection must be enabled on the
// organization; the bindings take effect while it has auto-membership on.
func (tx *Tx) BindOrganizationGroupRoles(orgID, groupID string, roleIDs []string) (int, error) {
	if _, err := tx.Organization(orgID); err != nil {
		return 0, err
	}
	if _, err := tx.GroupByID(groupID); err != nil {
		return 0, err
	}
	roleIDs, err := tx.checkRoles(roleIDs)
	if err != nil {
		return 0, err
	}
	// Checked last, like a member's standing: the ids themselves come first.
	if _, err := tx.OrganizationGroup(orgID, groupID); err != nil {
		return 0, err
	}
	return tx.bindRoles(orgGroupRoles, orgID, groupID, roleIDs), tx.err
}

// UnbindOrganizationGroupRoles removes organization-scope bindings of a
// group. Unlike binding, it works whether or not the group's connection is
// still enabled, so inert bindings can be cleaned up.
func (tx *Tx) UnbindOrganizationGroupRoles(orgID, groupID string, roleIDs []string) (int, error) {
	if _, err := tx.Organization(orgID); err != nil {
		return 0, err
	}
	if _, err := tx.GroupByID(groupID); err != nil {
		return 0, err
	}
	roleIDs, err := tx.checkRoles(roleIDs)
	if err != nil {
		return 0, err
	}
	return tx.unbindRoles(orgGroupRoles, orgID, groupID, roleIDs), tx.err
}

// EachOrganizationID calls fn with every organization id.
func (r *ReadTx) EachOrganizationID(fn func(id string)) {
	r.scanPrefix(bucketOrgs, nil, func(k, _ []byte) bool { fn(string(k)); return true })
}

// EachOrganizationConnection, EachOrganizationMember, EachOrganizationMemberRole
// and EachOrganizationGroupRole walk every organization binding, for loaders.
func (r *ReadTx) EachOrganizationConnection(fn func(EnabledConnection)) error {
	var ferr error
	r.scanPrefix(bucketOrgConnections, nil, func(_, v []byte) bool {
		var ec EnabledConnection
		if ferr = json.Unmarshal(v, &ec); ferr == nil {
			fn(ec)
		}
		return ferr == nil
	})
	return ferr
}

func (r *ReadTx) EachOrganizationMember(fn func(orgID, userID string)) {
	r.eachBinding(bucketOrgMembers, 2, func(ids []string) { fn(ids[0], ids[1]) })
}

func (r *ReadTx) EachOrganizationMemberRole(fn func(orgID, userID, roleID string)) {
	r.eachBinding(bucketOrgMemberRoles, 3, func(ids []string) { fn(ids[0], ids[1], ids[2]) })
}

func (r *ReadTx) EachOrganizationGroupRole(fn func(orgID, groupID, roleID string)) {
	r.eachBinding(bucketOrgGroupRoles, 3, func(ids []string) { fn(ids[0], ids[1], ids[2]) })
}

// dropUserBindings removes every role binding and organization membership of
// a user being deleted (cascades).
func (tx *Tx) dropUserBindings(userID string) {
	tx.dropUserPermissions(userID)
	tx.delPrefix(bucketUserRoles, []byte(userID), func(k, _ []byte) {
		tx.unbindRole(userRoles, "", userID, string(k[IDLen:]), true)
	})
	tx.delPrefix(bucketUserOrgRoles, []byte(userID), func(k, _ []byte) {
		tx.unbindRole(orgMemberRoles, string(k[IDLen:2*IDLen]), userID, string(k[2*IDLen:]), true)
	})
	tx.delPrefix(bucketUserOrgs, []byte(userID), func(k, _ []byte) {
		tx.removeOrgMember(string(k[IDLen:]), userID, true)
	})
}

// dropGroupBindings removes every role binding of a group being deleted.
func (tx *Tx) dropGroupBindings(groupID string) {
	tx.delPrefix(bucketGroupRoles, []byte(groupID), func(k, _ []byte) {
		tx.unbindRole(groupRoles, "", groupID, string(k[IDLen:]), true)
	})
	tx.delPrefix(bucketGroupOrgRoles, []byte(groupID), func(k, _ []byte) {
		tx.unbindRole(orgGroupRoles, string(k[IDLen:2*IDLen]), groupID, string(k[2*IDLen:]), true)
	})
}

// dropConnectionFromOrganizations disables a connection being deleted on
// every organization.
func (tx *Tx) dropConnectionFromOrganizations(connectionID string) {
	tx.delPrefix(bucketConnectionOrgs, []byte(connectionID), func(k, _ []byte) {
		tx.removeOrgConnection(string(k[IDLen:]), connectionID, true)
	})
}
