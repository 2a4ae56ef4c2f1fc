package roles

import (
	"slices"

	"github.com/rolecall/rolecall/store"
)

// dirtySet says whose effective roles the changes applied since the deriver
// last took it may have changed. Marking is cheap (it runs on the committer
// under the index's write lock): a change names a user, a group or a
// connection, and the deriver expands groups and connections to their users
// later (dirtyUsers). That is sound because such a change leaves the way
// down from the group (or connection) to its users as it was; a change that
// alters the way marks its own users or groups.
type dirtySet struct {
	all         bool                // everyone (a tenant setting, a role's permissions)
	users       map[string]struct{} // these users
	groups      map[string]struct{} // every user in these groups, through member groups when nested
	connections map[string]struct{} // every user of these connections
}

func newDirtySet() *dirtySet {
	return &dirtySet{users: map[string]struct{}{}, groups: map[string]struct{}{}, connections: map[string]struct{}{}}
}

func (d *dirtySet) empty() bool {
	return !d.all && len(d.users) == 0 && len(d.groups) == 0 && len(d.connections) == 0
}

// markDirty records whom c may affect and wakes the deriver. It runs before
// c is applied, so it sees what c replaces.
func (ix *Index) markDirty(c *store.Change) {
	d := ix.dirty
	switch c.Kind {
	case store.UserCreated, store.UserUpdated, store.UserDeleted,
		store.UserRoleBound, store.UserRoleUnbound, store.UserPermissionAssigned, store.UserPermissionRemoved,
		store.OrgMemberAdded, store.OrgMemberRemoved, store.OrgMemberRoleBound, store.OrgMemberRoleUnbound:
		d.users[c.UserID] = struct{}{}
	case store.MemberAdded, store.MemberRemoved:
		switch {
		case ix.groups[c.MemberID] == nil:
			if ix.grantsThrough(ix.groups[c.GroupID]) {
				d.users[c.MemberID] = struct{}{}
			}
		case ix.nested:
			// The member group's users gain or lose the group's roles.
			d.groups[c.MemberID] = struct{}{}
		default: // a member group passes nothing on without nesting
		}
	case store.GroupRoleBound, store.GroupRoleUnbound, store.OrgGroupRoleBound, store.OrgGroupRoleUnbound:
		d.groups[c.GroupID] = struct{}{}
	case store.RoleRuleChanged, store.RoleRuleDeleted:
		// The users the rule matches now lose or change what it grants;
		// those a new filter matches are marked as the evaluation
		// installs them (installRule).
		if r := ix.rules[c.Rule.ID]; r != nil {
			for u := range r.matches {
				d.users[u.id] = struct{}{}
			}
		}
	case store.OrgConnectionSet, store.OrgConnectionRemoved, store.RoleMappingAdded, store.RoleMappingRemoved:
		d.connections[c.ConnectionID] = struct{}{}
	case store.TenantSettingsChanged:
		d.all = d.all || c.Settings.NestedGroupRoles != ix.nested || c.Settings.TenantRolesInOrganizations != ix.tenantInOrgs
	case store.RoleChanged:
		// A new role is bound to no one yet; a renamed one grants the same.
		old := ix.roles[c.RoleID]
		d.all = d.all || old != nil && !slices.Equal(old.info.Permissions, c.Role.Permissions)
	default:
		// Group and organization deletions change answers only through
		// the membership and binding changes they cascade to; names and
		// APIs change no grant.
	}
	// Woken by any change (derived writes make none), the deriver also
	// learns that the revision moved, and records how far it has derived.
	ix.wakeDeriver()
}

// grantsThrough reports whether joining or leaving g may change a user's
// roles: g, or with nesting a group above it, carries roles. Most synced
// groups carry none, and a membership PATCH of a thousand users to one of
// them then leaves the deriver nothing to compare.
//
// A group whose roles were just taken away carries none, yet its members
// are still to be compared: the unbinding marked the group, to be expanded
// to the members it has when the deriver gets to it. A member leaving
// before then must be marked itself, so a group waiting for that expansion
// counts as granting.
func (ix *Index) grantsThrough(g *indexGroup) bool {
	if g == nil {
		return true // unknown to the index: mark, as before
	}
	var seen map[*indexGroup]bool
	stack := []*indexGroup{g}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(g.roles) > 0 || len(g.orgRoles) > 0 {
			return true
		}
		if _, ok := ix.dirty.groups[g.info.ID]; ok {
			return true
		}
		if _, ok := ix.expanding[g.info.ID]; ok {
			return true
		}
		if !ix.nested || len(g.parents) == 0 {
			continue
		}
		if seen == nil {
			seen = map[*indexGroup]bool{}
		}
		if !seen[g] {
			seen[g] = true
			stack = append(stack, g.parents...)
		}
	}
	return false
}

func (ix *Index) wakeDeriver() {
	select {
	case ix.dirtyWake <- struct{}{}:
	default:
	}
}

// trackDirty starts collecting dirty users, if not yet, and returns the
// revision from which on every change is collected and the channel that is
// signalled when some are. With baseline it also returns every user's
// non-empty states at that very revision: computed under the write lock,
// so no change falls between them and the collecting (it holds up commits
// for the time it takes, once, on the first start with derivation). No
// baseline is taken while an attribute rule is being evaluated (settled is
// false): its answers are not final for their revision.
func (ix *Index) trackDirty(baseline bool) (from uint64, wake <-chan struct{}, states []store.EffectiveRoles, settled bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.dirty == nil {
		ix.dirty, ix.dirtyWake = newDirtySet(), make(chan struct{}, 1)
	}
	if baseline && ix.pendingRules > 0 {
		return ix.revision, ix.dirtyWake, nil, false
	}
	if baseline {
		ids := make([]string, 0, len(ix.users))
		for id := range ix.users {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		states = slices.DeleteFunc(ix.effectiveStatesLocked(ids, nil), func(s store.EffectiveRoles) bool { return s.Empty() })
	}
	return ix.revision, ix.dirtyWake, states, true
}

// takeDirty returns what is dirty and starts a new set: everything changed
// up to the returned revision is in it or in an earlier one.
func (ix *Index) takeDirty() (*dirtySet, uint64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	d := ix.dirty
	ix.dirty = newDirtySet()
	// The set taken before this one is expanded by now: the deriver takes
	// one set at a time.
	ix.expanding = d.groups
	return d, ix.revision
}

// redirty puts users back into the dirty set (a derivation that failed).
func (ix *Index) redirty(all bool, userIDs []string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.dirty.all = ix.dirty.all || all
	for _, id := range userIDs {
		ix.dirty.users[id] = struct{}{}
	}
	select {
	case ix.dirtyWake <- struct{}{}:
	default:
	}
}

// dirtyUsers expands d to the ids of the users it covers, sorted. A deleted
// user is among them when d names it; d.all covers the users the index
// holds (the deriver adds the deleted ones it has states for).
func (ix *Index) dirtyUsers(d *dirtySet) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ids := make([]string, 0, len(d.users))
	for id := range d.users {
		ids = append(ids, id)
	}
	if d.all || len(d.groups) > 0 || len(d.connections) > 0 {
		var seen map[*indexGroup]bool
		for id, u := range ix.users {
			if _, ok := d.users[id]; ok {
				continue
			}
			if _, ok := d.connections[u.connectionID]; ok || d.all {
				ids = append(ids, id)
				continue
			}
			if len(d.groups) > 0 && ix.inDirtyGroup(u, d.groups, &seen) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// inDirtyGroup reports whether u is in one of groups: directly, or through
// member groups when nested group roles are on. seen is scratch.
func (ix *Index) inDirtyGroup(u *indexUser, groups map[string]struct{}, seen *map[*indexGroup]bool) bool {
	for _, g := range u.groups {
		if _, ok := groups[g.info.ID]; ok {
			return true
		}
	}
	if !ix.nested {
		return false
	}
	if *seen == nil {
		*seen = map[*indexGroup]bool{}
	}
	clear(*seen)
	stack := slices.Clone(u.groups)
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if (*seen)[g] {
			continue
		}
		(*seen)[g] = true
		if _, ok := groups[g.info.ID]; ok {
			return true
		}
		stack = append(stack, g.parents...)
	}
	return false
}
