package roles

import (
	"slices"
	"strings"

	"github.com/rolecall/rolecall/store"
)

// apply folds one committed change into the index, under the write lock.
// Every change names ids; one whose user, group or role the index does not
// hold (deleted later in the same batch, say) changes nothing.
func (ix *Index) apply(c *store.Change) {
	if ix.dirty != nil {
		ix.markDirty(c) // before the change: it reads what the change replaces
	}
	switch c.Kind {
	case store.UserCreated, store.UserUpdated:
		ix.putUser(c)
	case store.UserDeleted:
		ix.deleteUser(c.UserID)
	case store.GroupCreated, store.GroupUpdated:
		ix.putGroup(c)
	case store.GroupDeleted:
		delete(ix.groups, c.GroupID)
	case store.MemberAdded:
		ix.addMember(c.GroupID, c.MemberID)
	case store.MemberRemoved:
		ix.removeMember(c.GroupID, c.MemberID)
	case store.TenantSettingsChanged:
		ix.nested, ix.tenantInOrgs = c.Settings.NestedGroupRoles, c.Settings.TenantRolesInOrganizations
	case store.ResourceServerChanged, store.ResourceServerDeleted, store.UserPermissionAssigned, store.UserPermissionRemoved:
		ix.applyPermissionChange(c)
	case store.RoleChanged:
		ix.putRole(*c.Role)
	case store.RoleDeleted:
		if r := ix.roles[c.RoleID]; r != nil {
			ix.dropRoleFromRules(r)
		}
		delete(ix.roles, c.RoleID)
		ix.rank()
	case store.GroupRoleBound:
		ix.bindGroupRole(c.GroupID, c.RoleID)
	case store.GroupRoleUnbound:
		ix.unbindGroupRole(c.GroupID, c.RoleID)
	case store.UserRoleBound:
		ix.bindUserRole(c.UserID, c.RoleID)
	case store.UserRoleUnbound:
		ix.unbindUserRole(c.UserID, c.RoleID)
	case store.OrganizationCreated:
		ix.org(c.OrganizationID)
	case store.OrganizationDeleted:
		ix.deleteOrg(c.OrganizationID)
	case store.OrgConnectionSet:
		ix.org(c.OrganizationID).connections[c.ConnectionID] = c.AutoMembership
	case store.OrgConnectionRemoved:
		delete(ix.org(c.OrganizationID).connections, c.ConnectionID)
	case store.OrgMemberAdded:
		ix.org(c.OrganizationID).members[c.UserID] = true
	case store.OrgMemberRemoved:
		delete(ix.org(c.OrganizationID).members, c.UserID)
	case store.OrgMemberRoleBound:
		ix.bindOrgMemberRole(c.OrganizationID, c.UserID, c.RoleID)
	case store.OrgMemberRoleUnbound:
		ix.unbindOrgMemberRole(c.OrganizationID, c.UserID, c.RoleID)
	case store.OrgGroupRoleBound:
		ix.bindOrgGroupRole(c.OrganizationID, c.GroupID, c.RoleID)
	case store.OrgGroupRoleUnbound:
		ix.unbindOrgGroupRole(c.OrganizationID, c.GroupID, c.RoleID)
	case store.RoleMappingAdded:
		ix.addMapping(store.RoleMapping{ID: c.MappingID, ConnectionID: c.ConnectionID, IdPValue: c.Name, RoleID: c.RoleID, OrganizationID: c.OrganizationID})
	case store.RoleMappingRemoved:
		ix.removeMapping(c.MappingID)
	case store.RoleRuleChanged:
		if c.Rule != nil {
			ix.putRule(c.Rule, ix.applying)
		}
	case store.RoleRuleDeleted:
		if c.Rule != nil {
			ix.deleteRule(c.Rule.ID)
		}
	}
}

// putUser adds or updates a user; its names are re-indexed, since a rename
// or a new externalId moves it.
func (ix *Index) putUser(c *store.Change) {
	u := ix.users[c.UserID]
	if u == nil {
		u = &indexUser{id: c.UserID, connectionID: ix.intern(c.ConnectionID)}
		ix.users[c.UserID] = u
	} else {
		ix.unindexNames(u)
	}
	u.active, u.foldedName, u.externalID = c.Active, store.Fold(c.UserName), c.ExternalID
	u.idpValues = foldValues(c.IdPValues)
	ix.indexNames(u)
	ix.evaluateUser(u, c)
}

func (ix *Index) deleteUser(id string) {
	if u := ix.users[id]; u != nil {
		for _, r := range u.rules {
			delete(r.matches, u)
		}
		ix.unindexNames(u)
		delete(ix.users, id)
	}
}

// putGroup adds a group or replaces its info; its members, parents and
// bindings stay.
func (ix *Index) putGroup(c *store.Change) {
	info := newGroupInfo(c.GroupID, c.ConnectionID, c.Name)
	if g := ix.groups[c.GroupID]; g != nil {
		g.info = info
	} else {
		ix.groups[c.GroupID] = &indexGroup{info: info}
	}
}

// org returns an organization's entry, creating it.
func (ix *Index) org(id string) *indexOrg {
	o := ix.orgs[id]
	if o == nil {
		o = &indexOrg{id: id, connections: map[string]bool{}, members: map[string]bool{}, memberRoles: map[string][]*indexRole{}}
		ix.orgs[id] = o
	}
	return o
}

func (ix *Index) putRole(role store.Role) {
	for _, p := range role.Permissions {
		if _, known := ix.permRank[p]; !known {
			ix.rankPermissions(role.Permissions)
			break
		}
	}
	info := newRoleInfo(role, ix.permRanks(role.Permissions))
	if r := ix.roles[role.ID]; r != nil {
		r.info = info
		return
	}
	ix.roles[role.ID] = &indexRole{info: info}
	ix.rank()
}

func (ix *Index) addMember(groupID, memberID string) {
	g := ix.groups[groupID]
	if g == nil {
		return
	}
	if u := ix.users[memberID]; u != nil {
		if !slices.Contains(u.groups, g) {
			u.groups = append(u.groups, g)
		}
		return
	}
	// A member group is kept whatever the setting, so turning nested
	// group roles on needs no reload.
	if child := ix.groups[memberID]; child != nil && !slices.Contains(child.parents, g) {
		// In id order, so nested paths do not depend on history.
		i, _ := slices.BinarySearchFunc(child.parents, g, func(a, b *indexGroup) int { return strings.Compare(a.info.ID, b.info.ID) })
		child.parents = slices.Insert(child.parents, i, g)
	}
}

func (ix *Index) bindGroupRole(groupID, roleID string) {
	if g, r := ix.groups[groupID], ix.roles[roleID]; g != nil && r != nil && !slices.Contains(g.roles, r) {
		g.roles = append(g.roles, r)
	}
}

func (ix *Index) bindUserRole(userID, roleID string) {
	if u, r := ix.users[userID], ix.roles[roleID]; u != nil && r != nil && !slices.Contains(u.roles, r) {
		u.roles = append(u.roles, r)
	}
}

func (ix *Index) bindOrgMemberRole(orgID, userID, roleID string) {
	if r := ix.roles[roleID]; r != nil {
		o := ix.org(orgID)
		if !slices.Contains(o.memberRoles[userID], r) {
			o.memberRoles[userID] = append(o.memberRoles[userID], r)
		}
	}
}

func (ix *Index) bindOrgGroupRole(orgID, groupID, roleID string) {
	g, r := ix.groups[groupID], ix.roles[roleID]
	if g == nil || r == nil {
		return
	}
	o := ix.org(orgID)
	if g.orgRoles == nil {
		g.orgRoles = map[*indexOrg][]*indexRole{}
	}
	if !slices.Contains(g.orgRoles[o], r) {
		g.orgRoles[o] = append(g.orgRoles[o], r)
	}
}

func (ix *Index) removeMember(groupID, memberID string) {
	g := ix.groups[groupID]
	if g == nil {
		return
	}
	if u := ix.users[memberID]; u != nil {
		u.groups = remove(u.groups, g)
	} else if child := ix.groups[memberID]; child != nil {
		child.parents = remove(child.parents, g)
	}
}

func (ix *Index) unbindGroupRole(groupID, roleID string) {
	if g, r := ix.groups[groupID], ix.roles[roleID]; g != nil && r != nil {
		g.roles = remove(g.roles, r)
	}
}

func (ix *Index) unbindUserRole(userID, roleID string) {
	if u, r := ix.users[userID], ix.roles[roleID]; u != nil && r != nil {
		u.roles = remove(u.roles, r)
	}
}

// deleteOrg drops an organization with the bindings its groups hold in it.
func (ix *Index) deleteOrg(id string) {
	o := ix.orgs[id]
	for _, g := range ix.groups {
		delete(g.orgRoles, o)
	}
	delete(ix.orgs, id)
}

func (ix *Index) unbindOrgMemberRole(orgID, userID, roleID string) {
	if o, r := ix.org(orgID), ix.roles[roleID]; r != nil {
		if list := remove(o.memberRoles[userID], r); len(list) > 0 {
			o.memberRoles[userID] = list
		} else {
			delete(o.memberRoles, userID)
		}
	}
}

func (ix *Index) unbindOrgGroupRole(orgID, groupID, roleID string) {
	if o, g, r := ix.org(orgID), ix.groups[groupID], ix.roles[roleID]; g != nil && r != nil {
		if list := remove(g.orgRoles[o], r); len(list) > 0 {
			g.orgRoles[o] = list
		} else {
			delete(g.orgRoles, o)
		}
	}
}
