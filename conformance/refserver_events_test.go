package conformance_test

// The reference server's user.effective_roles.changed entries, derived with its own resolver and
// nothing of Rolecall's: it recomputes each user's effective roles and permissions in every scope
// the user has (the tenant, and each organization the user is a member of, explicitly or by
// auto-membership), compares them with what it last recorded, and logs one entry per changed
// user and scope. Like Rolecall, which derives the entries moments after the causing write and
// coalesces what changed meanwhile, it derives them late: whenever the log is read, so the
// naive O(users × organizations) pass runs per read of the log rather than per write (per write
// it made the shared-connection run of every scenario take a minute). Scenarios therefore wait
// for each entry ("eventually") before the next write, which Rolecall's coalescing needs anyway.

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Deliberate defects of the user.effective_roles.changed entries.
const (
	defectEventsIgnorePermissions = "events-ignore-permissions"  // a change of permissions alone logs nothing
	defectEventsForgetDeletedUser = "events-forget-deleted-user" // a deleted user's roles vanish without an entry
)

// effectiveKey is one user's scope: org is "" for the tenant.
type effectiveKey struct{ user, org string }

// effectiveState is what a user was last recorded to have in one scope.
type effectiveState struct {
	userName, connection string
	roles                []roleRef    // by id
	perms                []permission // by resource server, then name
}

type roleRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// deriveEffective logs a user.effective_roles.changed entry for every user and scope whose roles
// or permissions differ from the recorded ones, and records the new ones. A user or organization
// that is gone has nothing now, so its entry removes everything it had; a renamed role is the
// same role, so a rename alone logs nothing (and the recorded name stays).
func (a *refAPI) deriveEffective() {
	now := map[effectiveKey]effectiveState{}
	for _, con := range a.s.connections {
		for _, u := range con.users {
			a.recordScope(now, u, con, nil)
			for _, o := range a.orgs {
				if o.members[u.id] || o.connections[con.id] {
					a.recordScope(now, u, con, o)
				}
			}
		}
	}
	keys := slices.Collect(maps.Keys(now))
	for k := range a.effective {
		if _, ok := now[k]; !ok {
			if a.s.defects[defectEventsForgetDeletedUser] {
				if u, _ := a.user(k.user); u == nil {
					delete(a.effective, k)
					continue
				}
			}
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y effectiveKey) int {
		return cmp.Or(strings.Compare(x.user, y.user), strings.Compare(x.org, y.org))
	})
	for _, k := range keys {
		old, cur := a.effective[k], now[k]
		if sameGrants(old, cur) || a.s.defects[defectEventsIgnorePermissions] && sameRoles(old, cur) {
			continue
		}
		if cur.userName == "" { // the user is gone: name it as it was
			cur.userName, cur.connection = old.userName, old.connection
		}
		change := map[string]any{
			"user_id": k.user, "user_name": cur.userName, "connection_id": cur.connection, "organization_id": nil,
			"roles_added": []roleRef{}, "roles_removed": []roleRef{},
			"permissions_added": []permission{}, "permissions_removed": []permission{},
		}
		if k.org != "" {
			change["organization_id"] = k.org
		}
		change["roles_added"], change["roles_removed"] = difference(cur.roles, old.roles, func(r roleRef) string { return r.ID })
		change["permissions_added"], change["permissions_removed"] = difference(cur.perms, old.perms, func(p permission) string { return p.ResourceServer + "\x00" + p.Name })
		a.audit("system", "user.effective_roles.changed", "user", k.user, nil, change)
		if len(cur.roles) == 0 && len(cur.perms) == 0 {
			delete(a.effective, k)
		} else {
			a.effective[k] = cur
		}
	}
}

// recordScope puts u's effective roles in organization o (nil: the tenant) into now, unless it
// has none.
func (a *refAPI) recordScope(now map[effectiveKey]effectiveState, u *resource, con *connection, o *refOrg) {
	res := a.resolveIn(u, con, o)
	if len(res.roles) == 0 && len(res.permissions) == 0 {
		return
	}
	st := effectiveState{connection: con.id, perms: slices.Clone(res.permissions)}
	st.userName, _ = u.attrs["userName"].(string)
	for _, r := range res.roles {
		st.roles = append(st.roles, roleRef{ID: r["id"].(string), Name: r["name"].(string)})
	}
	k := effectiveKey{user: u.id}
	if o != nil {
		k.org = o.id
	}
	now[k] = st
}

func sameGrants(x, y effectiveState) bool { return sameRoles(x, y) && slices.Equal(x.perms, y.perms) }

func sameRoles(x, y effectiveState) bool {
	return slices.EqualFunc(x.roles, y.roles, func(a, b roleRef) bool { return a.ID == b.ID })
}

// difference returns what only now has and what only before has, each in the lists' order, never
// nil.
func difference[T any](now, before []T, key func(T) string) (added, removed []T) {
	added, removed = []T{}, []T{}
	has := func(list []T, k string) bool { return slices.ContainsFunc(list, func(v T) bool { return key(v) == k }) }
	for _, v := range now {
		if !has(before, key(v)) {
			added = append(added, v)
		}
	}
	for _, v := range before {
		if !has(now, key(v)) {
			removed = append(removed, v)
		}
	}
	return added, removed
}
