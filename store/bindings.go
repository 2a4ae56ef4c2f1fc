package store

// A role binding is a (scope, subject, role) triple: at tenant scope a group
// or a user carries a role; inside an organization, one of its groups or
// members does. Each kind is kept under every order a reader needs, and
// binding or unbinding writes them all, with the audit entry and the change,
// in one place.
type bindingKind struct {
	subject string // "group" or "user"
	// primary is keyed [org|]subject|role; bySubject subject|org|role
	// (organization kinds only: the primary is already by subject at tenant
	// scope); byRole role|[org|]subject.
	primary, bySubject, byRole []byte
	assigned, deleted          string // audit event types (Auth0's names)
	bound, unbound             ChangeKind
}

var (
	groupRoles = &bindingKind{subject: "group", primary: bucketGroupRoles, byRole: bucketRoleGroups,
		assigned: EventGroupRoleAssigned, deleted: EventGroupRoleDeleted, bound: GroupRoleBound, unbound: GroupRoleUnbound}
	userRoles = &bindingKind{subject: "user", primary: bucketUserRoles, byRole: bucketRoleUsers,
		assigned: EventUserRoleAssigned, deleted: EventUserRoleDeleted, bound: UserRoleBound, unbound: UserRoleUnbound}
	orgGroupRoles = &bindingKind{subject: "group", primary: bucketOrgGroupRoles, bySubject: bucketGroupOrgRoles, byRole: bucketRoleOrgGroups,
		assigned: EventOrganizationGroupRoleAssigned, deleted: EventOrganizationGroupRoleDeleted, bound: OrgGroupRoleBound, unbound: OrgGroupRoleUnbound}
	orgMemberRoles = &bindingKind{subject: "user", primary: bucketOrgMemberRoles, bySubject: bucketUserOrgRoles, byRole: bucketRoleOrgMembers,
		assigned: EventOrganizationMemberRoleAssigned, deleted: EventOrganizationMemberRoleDeleted, bound: OrgMemberRoleBound, unbound: OrgMemberRoleUnbound}
)

// keys are a binding's keys in k's buckets; orgID is "" at tenant scope.
func (k *bindingKind) keys(orgID, subject, roleID string) (primary, bySubject, byRole []byte) {
	if orgID == "" {
		return catS(subject, roleID), nil, catS(roleID, subject)
	}
	return catS(orgID, subject, roleID), catS(subject, orgID, roleID), catS(roleID, orgID, subject)
}

// entry is what the audit log says of a binding: at tenant scope the
// subject is the target; inside an organization the organization is.
func (k *bindingKind) entry(orgID, subject, roleID string) (Target, map[string]string) {
	if orgID == "" {
		return Target{k.subject, subject}, binding(roleID)
	}
	return orgTarget(orgID), map[string]string{k.subject + "_id": subject, "role_id": roleID}
}

func (k *bindingKind) change(kind ChangeKind, orgID, subject, roleID string) Change {
	c := Change{Kind: kind, OrganizationID: orgID, RoleID: roleID}
	if k.subject == "group" {
		c.GroupID = subject
	} else {
		c.UserID = subject
	}
	return c
}

// bindRoles adds the bindings that do not exist yet and returns how many it
// added. The caller has checked the subject and the roles.
func (tx *Tx) bindRoles(k *bindingKind, orgID, subject string, roleIDs []string) int {
	added := 0
	for _, rid := range roleIDs {
		primary, bySubject, byRole := k.keys(orgID, subject, rid)
		if tx.has(k.primary, primary) {
			continue
		}
		tx.putNew(k.primary, primary, present)
		if bySubject != nil {
			tx.putNew(k.bySubject, bySubject, present)
		}
		tx.putNew(k.byRole, byRole, present)
		target, after := k.entry(orgID, subject, rid)
		tx.audit(k.assigned, target, nil, after)
		tx.emit(k.change(k.bound, orgID, subject, rid))
		added++
	}
	return added
}

// unbindRoles removes the bindings that exist and returns how many.
func (tx *Tx) unbindRoles(k *bindingKind, orgID, subject string, roleIDs []string) int {
	removed := 0
	for _, rid := range roleIDs {
		if tx.unbindRole(k, orgID, subject, rid, false) {
			removed++
		}
	}
	return removed
}

// unbindRole removes one binding if it exists; cascade marks it in the audit
// log as caused by another deletion.
func (tx *Tx) unbindRole(k *bindingKind, orgID, subject, roleID string, cascade bool) bool {
	primary, bySubject, byRole := k.keys(orgID, subject, roleID)
	if !tx.has(k.primary, primary) {
		return false
	}
	tx.delKnown(k.primary, primary, present)
	if bySubject != nil {
		tx.del(k.bySubject, bySubject)
	}
	tx.del(k.byRole, byRole)
	target, before := k.entry(orgID, subject, roleID)
	tx.auditMaybeCascade(cascade, k.deleted, target, before, nil)
	tx.emit(k.change(k.unbound, orgID, subject, roleID))
	return true
}

func (tx *Tx) auditMaybeCascade(cascade bool, typ string, target Target, before, after any) {
	if cascade {
		tx.auditCascade(typ, target, before, after)
	} else {
		tx.audit(typ, target, before, after)
	}
}
