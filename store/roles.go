package store

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Permission is one permission of a role, as Auth0 models it: a permission
// name on an API (resource server).
type Permission struct {
	ResourceServerIdentifier string `json:"resource_server_identifier"`
	PermissionName           string `json:"permission_name"`
}

// Role is a tenant-wide role with a unique name.
type Role struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Permissions []Permission `json:"permissions,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

func roleTarget(id string) Target { return Target{"role", id} }

// binding is what audit entries record about one role binding.
func binding(roleID string) map[string]string { return map[string]string{"role_id": roleID} }

// Role returns the role with the given id, or ErrNotFound.
func (r *ReadTx) Role(id string) (Role, error) {
	var role Role
	if !ValidID(PrefixRole, id) {
		return role, notFound("role", id)
	}
	ok, err := r.getJSON(bucketRoles, []byte(id), &role)
	if err == nil && !ok {
		err = notFound("role", id)
	}
	return role, err
}

// Roles lists roles in id order after `after`, at most take, keeping those
// whose name contains nameFilter (case-insensitively) when it is not empty.
func (r *ReadTx) Roles(after string, take int, nameFilter string) (list []Role, next string, err error) {
	folded := Fold(nameFilter)
	c := r.bucket(bucketRoles).Cursor()
	k, v := c.First()
	if after != "" {
		if k, v = c.Seek([]byte(after)); k != nil && string(k) == after {
			k, v = c.Next()
		}
	}
	for ; k != nil; k, v = c.Next() {
		var role Role
		if err := json.Unmarshal(v, &role); err != nil {
			return nil, "", err
		}
		if folded != "" && !strings.Contains(Fold(role.Name), folded) {
			continue
		}
		if len(list) == take {
			return list, list[len(list)-1].ID, nil
		}
		list = append(list, role)
	}
	return list, "", nil
}

func checkRole(role Role) error {
	if role.Name == "" || len(role.Name) > 256 {
		return errorf(ErrInvalid, "role name must be 1 to 256 characters")
	}
	if len(role.Description) > 1024 {
		return errorf(ErrInvalid, "role description must be at most 1024 characters")
	}
	for _, p := range role.Permissions {
		if p.ResourceServerIdentifier == "" || p.PermissionName == "" || len(p.ResourceServerIdentifier)+len(p.PermissionName) > maxIndexedLen {
			return errorf(ErrInvalid, "a permission needs a resource_server_identifier and a permission_name")
		}
	}
	return nil
}

// CreateRole stores a new role. The name must be unique, case-insensitively
// (ErrConflict); every permission must be a scope of an existing resource
// server (ErrInvalid).
func (tx *Tx) CreateRole(role Role) (Role, error) {
	if err := checkRole(role); err != nil {
		return role, err
	}
	if err := tx.checkPermissions(role.Permissions); err != nil {
		return role, err
	}
	nameKey := []byte(Fold(role.Name))
	if tx.has(bucketRoleNames, nameKey) {
		return role, errorf(ErrConflict, "a role named %q already exists", role.Name)
	}
	role.ID = tx.newID(PrefixRole, bucketRoles)
	role.Permissions = normalizePermissions(role.Permissions)
	role.CreatedAt, role.UpdatedAt = tx.now, tx.now
	tx.put(bucketRoleNames, nameKey, []byte(role.ID))
	tx.putJSON(bucketRoles, []byte(role.ID), role)
	tx.syncRoleResourceServers(role.ID, nil, role.Permissions)
	tx.audit(EventRoleCreated, roleTarget(role.ID), nil, role)
	tx.emit(Change{Kind: RoleChanged, RoleID: role.ID, Role: &role})
	return role, tx.err
}

// normalizePermissions sorts permissions and drops duplicates.
func normalizePermissions(ps []Permission) []Permission {
	out := slices.Clone(ps)
	slices.SortFunc(out, func(a, b Permission) int {
		if c := strings.Compare(a.ResourceServerIdentifier, b.ResourceServerIdentifier); c != 0 {
			return c
		}
		return strings.Compare(a.PermissionName, b.PermissionName)
	})
	return slices.Compact(out)
}

// UpdateRole applies fn to a role (name, description, permissions) and saves
// it. A new name must be unique (ErrConflict); a permission added must be a
// scope of an existing resource server (ErrInvalid).
func (tx *Tx) UpdateRole(id string, fn func(*Role) error) (Role, error) {
	old, err := tx.Role(id)
	if err != nil {
		return old, err
	}
	role := old
	role.Permissions = slices.Clone(old.Permissions)
	if err := fn(&role); err != nil {
		return old, err
	}
	role.ID, role.CreatedAt = old.ID, old.CreatedAt
	role.Permissions = normalizePermissions(role.Permissions)
	if err := checkRole(role); err != nil {
		return old, err
	}
	if role.Name == old.Name && role.Description == old.Description && slices.Equal(role.Permissions, old.Permissions) {
		return old, nil
	}
	added := slices.DeleteFunc(slices.Clone(role.Permissions), func(p Permission) bool { return slices.Contains(old.Permissions, p) })
	if err := tx.checkPermissions(added); err != nil {
		return old, err
	}
	if oldKey, newKey := Fold(old.Name), Fold(role.Name); oldKey != newKey {
		if tx.has(bucketRoleNames, []byte(newKey)) {
			return old, errorf(ErrConflict, "a role named %q already exists", role.Name)
		}
		tx.del(bucketRoleNames, []byte(oldKey))
		tx.put(bucketRoleNames, []byte(newKey), []byte(role.ID))
	}
	role.UpdatedAt = tx.now
	tx.putJSON(bucketRoles, []byte(role.ID), role)
	tx.syncRoleResourceServers(role.ID, old.Permissions, role.Permissions)
	tx.audit(EventRoleUpdated, roleTarget(role.ID), old, role)
	tx.emit(Change{Kind: RoleChanged, RoleID: role.ID, Role: &role})
	return role, tx.err
}

// DeleteRole deletes a role and, in the same transaction, every binding of
// it at both scopes; each removed binding is audited as a cascade.
func (tx *Tx) DeleteRole(id string) error {
	role, err := tx.Role(id)
	if err != nil {
		return err
	}
	prefix := []byte(id)
	tx.delPrefix(bucketRoleGroups, prefix, func(k, _ []byte) {
		tx.unbindRole(groupRoles, "", string(k[IDLen:]), id, true)
	})
	tx.delPrefix(bucketRoleUsers, prefix, func(k, _ []byte) {
		tx.unbindRole(userRoles, "", string(k[IDLen:]), id, true)
	})
	tx.delPrefix(bucketRoleOrgMembers, prefix, func(k, _ []byte) {
		tx.unbindRole(orgMemberRoles, string(k[IDLen:2*IDLen]), string(k[2*IDLen:]), id, true)
	})
	tx.delPrefix(bucketRoleOrgGroups, prefix, func(k, _ []byte) {
		tx.unbindRole(orgGroupRoles, string(k[IDLen:2*IDLen]), string(k[2*IDLen:]), id, true)
	})
	tx.dropRoleMappingsBy(bucketRoleRoleMappings, id)
	tx.dropRoleFromRules(id)
	tx.syncRoleResourceServers(id, role.Permissions, nil)
	tx.del(bucketRoleNames, []byte(Fold(role.Name)))
	tx.del(bucketRoles, []byte(id))
	tx.audit(EventRoleDeleted, roleTarget(id), role, nil)
	tx.emit(Change{Kind: RoleDeleted, RoleID: id})
	return tx.err
}

// checkRoles verifies that every role id exists (ErrNotFound for the first
// that does not) and returns the ids without duplicates, in order.
func (r *ReadTx) checkRoles(roleIDs []string) ([]string, error) {
	out := make([]string, 0, len(roleIDs))
	for _, id := range roleIDs {
		if slices.Contains(out, id) {
			continue
		}
		if !ValidID(PrefixRole, id) || !r.has(bucketRoles, []byte(id)) {
			return nil, notFound("role", id)
		}
		out = append(out, id)
	}
	return out, nil
}

// bindingIDs lists the last id-sized part of every key with the prefix.
func (r *ReadTx) bindingIDs(bucket []byte, prefix ...string) []string {
	p := catS(prefix...)
	var ids []string
	r.scanPrefix(bucket, p, func(k, _ []byte) bool {
		ids = append(ids, string(k[len(p):]))
		return true
	})
	return ids
}

// GroupRoles lists the roles bound to a group at tenant scope.
func (r *ReadTx) GroupRoles(groupID string) ([]string, error) {
	if _, err := r.GroupByID(groupID); err != nil {
		return nil, err
	}
	return r.bindingIDs(bucketGroupRoles, groupID), nil
}

// RoleGroups lists the groups a role is bound to at tenant scope, in group
// id order, after the group id `after`, at most take (take <= 0: all).
func (r *ReadTx) RoleGroups(roleID, after string, take int) (ids []string, next string, err error) {
	if _, err := r.Role(roleID); err != nil {
		return nil, "", err
	}
	all := r.bindingIDs(bucketRoleGroups, roleID)
	return pageIDs(all, after, take)
}

// pageIDs cuts a sorted id list after `after`, at most take.
func pageIDs(all []string, after string, take int) ([]string, string, error) {
	start := 0
	if after != "" {
		start, _ = slices.BinarySearch(all, after)
		if start < len(all) && all[start] == after {
			start++
		}
	}
	all = all[start:]
	if take > 0 && len(all) > take {
		return all[:take], all[take-1], nil
	}
	return all, "", nil
}

// RoleUsers lists the users a role is assigned to directly, in user id
// order, after the user id `after`, at most take (take <= 0: all); next is
// the last id returned while more remain. ErrNotFound for an unknown role.
func (r *ReadTx) RoleUsers(roleID, after string, take int) (ids []string, next string, err error) {
	if _, err := r.Role(roleID); err != nil {
		return nil, "", err
	}
	ids, next = r.pageSuffixes(bucketRoleUsers, roleID, after, take)
	return ids, next, nil
}

// OrganizationRoleBinding is one binding of a role inside an organization:
// to one of its groups (GroupID set) or to one of its members (UserID set).
type OrganizationRoleBinding struct {
	OrganizationID string
	GroupID        string
	UserID         string
}

// BindingKinds selects the kinds of organization-scope bindings
// RoleOrganizationBindings lists.
type BindingKinds uint8

// The kinds of organization-scope bindings.
const (
	OrganizationGroupBindings  BindingKinds = 1 << iota // (organization, group) → role
	OrganizationMemberBindings                          // (organization, member) → role
	AllOrganizationBindings    = OrganizationGroupBindings | OrganizationMemberBindings
)

// RoleOrganizationBindings lists a role's organization-scope bindings of the
// given kinds, ordered by organization id, then group or user id (a group's
// before a user's). after and next are opaque cursors: next is set while
// more remain. take <= 0 means all. ErrNotFound for an unknown role.
func (r *ReadTx) RoleOrganizationBindings(roleID string, kinds BindingKinds, after string, take int) (list []OrganizationRoleBinding, next string, err error) {
	if _, err := r.Role(roleID); err != nil {
		return nil, "", err
	}
	// Both indexes are rolID|orgID|subjectID, and group ids sort before user
	// ids, so the suffixes of the two merge into one order without ties.
	var groups, members []string
	var more bool
	if kinds&OrganizationGroupBindings != 0 {
		var n string
		groups, n = r.pageSuffixes(bucketRoleOrgGroups, roleID, after, take)
		more = n != ""
	}
	if kinds&OrganizationMemberBindings != 0 {
		var n string
		members, n = r.pageSuffixes(bucketRoleOrgMembers, roleID, after, take)
		more = more || n != ""
	}
	all := append(groups, members...)
	slices.Sort(all)
	if take > 0 && len(all) >= take && (len(all) > take || more) {
		all, next = all[:take], all[take-1]
	}
	for _, s := range all {
		if len(s) != 2*IDLen {
			continue
		}
		b := OrganizationRoleBinding{OrganizationID: s[:IDLen]}
		if strings.HasPrefix(s[IDLen:], PrefixGroup+"_") {
			b.GroupID = s[IDLen:]
		} else {
			b.UserID = s[IDLen:]
		}
		list = append(list, b)
	}
	return list, next, nil
}

// RoleBindingCounts counts a role's bindings of each kind.
type RoleBindingCounts struct {
	Groups              int // tenant scope, Enterprise Groups
	Users               int // tenant scope, direct
	OrganizationGroups  int
	OrganizationMembers int
}

// RoleBindingCounts counts every binding of a role, reading keys only.
// ErrNotFound for an unknown role.
func (r *ReadTx) RoleBindingCounts(roleID string) (RoleBindingCounts, error) {
	var c RoleBindingCounts
	if _, err := r.Role(roleID); err != nil {
		return c, err
	}
	count := func(bucket []byte) int {
		n := 0
		r.scanPrefix(bucket, []byte(roleID), func(_, _ []byte) bool { n++; return true })
		return n
	}
	c.Groups, c.Users = count(bucketRoleGroups), count(bucketRoleUsers)
	c.OrganizationGroups, c.OrganizationMembers = count(bucketRoleOrgGroups), count(bucketRoleOrgMembers)
	return c, nil
}

// pageSuffixes lists, in key order, what follows prefix in the keys of
// bucket that start with it, beginning after the suffix `after`, at most
// take (take <= 0: all). It seeks instead of reading the whole range, so a
// page costs O(take + log n). next is the last suffix returned while more
// remain.
func (r *ReadTx) pageSuffixes(bucket []byte, prefix, after string, take int) (out []string, next string) {
	p := []byte(prefix)
	c := r.bucket(bucket).Cursor()
	for k, _ := c.Seek(catS(prefix, after)); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		s := string(k[len(p):])
		if after != "" && s <= after {
			continue
		}
		if take > 0 && len(out) == take {
			return out, out[take-1]
		}
		out = append(out, s)
	}
	return out, ""
}

// BindGroupRoles binds roles to a group at tenant scope. The group and every
// role must exist (ErrNotFound, nothing bound). Roles already bound are
// skipped. It returns how many bindings were added.
func (tx *Tx) BindGroupRoles(groupID string, roleIDs []string) (int, error) {
	if _, err := tx.GroupByID(groupID); err != nil {
		return 0, err
	}
	roleIDs, err := tx.checkRoles(roleIDs)
	if err != nil {
		return 0, err
	}
	return tx.bindRoles(groupRoles, "", groupID, roleIDs), tx.err
}

// UnbindGroupRoles removes tenant-scope bindings. The group and every role must
// exist (ErrNotFound); roles that are not bound are ignored.
func (tx *Tx) UnbindGroupRoles(groupID string, roleIDs []string) (int, error) {
	if _, err := tx.GroupByID(groupID); err != nil {
		return 0, err
	}
	roleIDs, err := tx.checkRoles(roleIDs)
	if err != nil {
		return 0, err
	}
	return tx.unbindRoles(groupRoles, "", groupID, roleIDs), tx.err
}

// UserRoles lists the roles assigned directly to a user.
func (r *ReadTx) UserRoles(userID string) ([]string, error) {
	if _, err := r.UserByID(userID); err != nil {
		return nil, err
	}
	return r.bindingIDs(bucketUserRoles, userID), nil
}

// BindUserRoles assigns roles directly to a user (tenant scope).
func (tx *Tx) BindUserRoles(userID string, roleIDs []string) (int, error) {
	if _, err := tx.UserByID(userID); err != nil {
		return 0, err
	}
	roleIDs, err := tx.checkRoles(roleIDs)
	if err != nil {
		return 0, err
	}
	return tx.bindRoles(userRoles, "", userID, roleIDs), tx.err
}

// UnbindUserRoles removes direct role assignments; unassigned ones are ignored.
func (tx *Tx) UnbindUserRoles(userID string, roleIDs []string) (int, error) {
	if _, err := tx.UserByID(userID); err != nil {
		return 0, err
	}
	roleIDs, err := tx.checkRoles(roleIDs)
	if err != nil {
		return 0, err
	}
	return tx.unbindRoles(userRoles, "", userID, roleIDs), tx.err
}

// EachRole calls fn with every role, in id order.
func (r *ReadTx) EachRole(fn func(Role) error) error {
	var ferr error
	r.scanPrefix(bucketRoles, nil, func(_, v []byte) bool {
		var role Role
		if ferr = json.Unmarshal(v, &role); ferr == nil {
			ferr = fn(role)
		}
		return ferr == nil
	})
	return ferr
}

// EachBinding calls fn with every key of a binding bucket split into its id
// parts; loaders use it to build in-memory indexes.
func (r *ReadTx) eachBinding(bucket []byte, parts int, fn func(ids []string)) {
	ids := make([]string, parts)
	r.scanPrefix(bucket, nil, func(k, _ []byte) bool {
		if len(k) != parts*IDLen {
			return true
		}
		for i := range parts {
			ids[i] = string(k[i*IDLen : (i+1)*IDLen])
		}
		fn(ids)
		return true
	})
}

// EachGroupRole calls fn with every tenant-scope binding.
func (r *ReadTx) EachGroupRole(fn func(groupID, roleID string)) {
	r.eachBinding(bucketGroupRoles, 2, func(ids []string) { fn(ids[0], ids[1]) })
}

// EachUserRole calls fn with every direct role assignment.
func (r *ReadTx) EachUserRole(fn func(userID, roleID string)) {
	r.eachBinding(bucketUserRoles, 2, func(ids []string) { fn(ids[0], ids[1]) })
}

// EachMembership calls fn with every (group, member) pair.
func (r *ReadTx) EachMembership(fn func(groupID, memberID string)) {
	r.eachBinding(bucketMembers, 2, func(ids []string) { fn(ids[0], ids[1]) })
}

// UserSummary is what loaders need of a user: no document.
type UserSummary struct {
	ID, ConnectionID, UserName, ExternalID string
	Active                                 bool
	IdPValues                              []string // see IdPValues
}

// EachUserSummary calls fn with every user's summary, in id order.
func (r *ReadTx) EachUserSummary(fn func(UserSummary)) error {
	var ferr error
	r.scanPrefix(bucketUsers, nil, func(k, v []byte) bool {
		var rec struct {
			UserName   string          `json:"un"`
			ExternalID string          `json:"ext"`
			Active     bool            `json:"act"`
			Doc        json.RawMessage `json:"doc"`
		}
		if len(v) < IDLen {
			return true
		}
		if ferr = json.Unmarshal(v[IDLen:], &rec); ferr != nil {
			return false
		}
		fn(UserSummary{ID: string(k), ConnectionID: string(v[:IDLen]), UserName: rec.UserName, ExternalID: rec.ExternalID, Active: rec.Active, IdPValues: IdPValues(rec.Doc)})
		return true
	})
	return ferr
}

// EachGroupSummary calls fn with every group's id, connection and name.
func (r *ReadTx) EachGroupSummary(fn func(id, connectionID, name string)) error {
	var ferr error
	r.scanPrefix(bucketGroups, nil, func(k, v []byte) bool {
		var rec groupRecord
		if ferr = json.Unmarshal(v[IDLen:], &rec); ferr != nil {
			return false
		}
		fn(string(k), rec.ConnectionID, rec.DisplayName)
		return true
	})
	return ferr
}

// Revision is the store revision this snapshot reflects.
func (r *ReadTx) Revision() uint64 { return readU64(r.get(bucketMeta, metaRevision)) }
