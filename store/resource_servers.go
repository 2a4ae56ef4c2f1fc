package store

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// ResourceServer is an API, as Auth0 models it: a unique identifier (the
// audience of its tokens) and the scopes it defines. A permission, of a role
// or granted to a user directly, is one of those scopes; the store refuses a
// permission its API does not define, so a typo cannot silently create a
// new API.
type ResourceServer struct {
	ID         string                `json:"id"`
	Identifier string                `json:"identifier"`
	Name       string                `json:"name"`
	Scopes     []ResourceServerScope `json:"scopes"`
	CreatedAt  time.Time             `json:"created_at"`
	UpdatedAt  time.Time             `json:"updated_at"`
}

// ResourceServerScope is one scope (permission) an API defines.
type ResourceServerScope struct {
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

// Scope returns the scope with the given value.
func (rs ResourceServer) Scope(value string) (ResourceServerScope, bool) {
	for _, s := range rs.Scopes {
		if s.Value == value {
			return s, true
		}
	}
	return ResourceServerScope{}, false
}

// Limits of resource servers (Auth0's where it states them).
const (
	MaxResourceServerIdentifier = 600
	MaxResourceServerName       = 200
	MaxScopeValue               = 280
	MaxScopeDescription         = 500
	MaxScopes                   = 1000
)

func resourceServerTarget(id string) Target { return Target{"resource_server", id} }

// ResourceServer returns the resource server with the given id, or ErrNotFound.
func (r *ReadTx) ResourceServer(id string) (ResourceServer, error) {
	var rs ResourceServer
	if !ValidID(PrefixResourceServer, id) {
		return rs, notFound("resource server", id)
	}
	ok, err := r.getJSON(bucketResourceServers, []byte(id), &rs)
	if err == nil && !ok {
		err = notFound("resource server", id)
	}
	return rs, err
}

// ResourceServerByIdentifier returns the resource server with the given
// identifier (exact, case-sensitive), or ErrNotFound.
func (r *ReadTx) ResourceServerByIdentifier(identifier string) (ResourceServer, error) {
	id := r.get(bucketResourceServerIdents, []byte(identifier))
	if id == nil {
		return ResourceServer{}, missing("resource_server", "resource server %q not found", identifier)
	}
	return r.ResourceServer(string(id))
}

// ResourceServers lists resource servers in id order after `after`, at most
// take; next is the last id returned while more remain.
func (r *ReadTx) ResourceServers(after string, take int) (list []ResourceServer, next string, err error) {
	err = r.pageRecords(bucketResourceServers, after, take, func(v []byte) error {
		var rs ResourceServer
		if err := json.Unmarshal(v, &rs); err != nil {
			return err
		}
		list = append(list, rs)
		return nil
	}, &next)
	return list, next, err
}

// EachResourceServer calls fn with every resource server, in id order.
func (r *ReadTx) EachResourceServer(fn func(ResourceServer) error) error {
	var ferr error
	r.scanPrefix(bucketResourceServers, nil, func(_, v []byte) bool {
		var rs ResourceServer
		if ferr = json.Unmarshal(v, &rs); ferr == nil {
			ferr = fn(rs)
		}
		return ferr == nil
	})
	return ferr
}

func checkResourceServer(rs ResourceServer) error {
	if rs.Identifier == "" || len(rs.Identifier) > MaxResourceServerIdentifier {
		return errorf(ErrInvalid, "resource server identifier must be 1 to %d characters", MaxResourceServerIdentifier)
	}
	if rs.Name == "" || len(rs.Name) > MaxResourceServerName {
		return errorf(ErrInvalid, "resource server name must be 1 to %d characters", MaxResourceServerName)
	}
	if len(rs.Scopes) > MaxScopes {
		return errorf(ErrInvalid, "a resource server defines at most %d scopes", MaxScopes)
	}
	seen := make(map[string]bool, len(rs.Scopes))
	for i, s := range rs.Scopes {
		if s.Value == "" || len(s.Value) > MaxScopeValue {
			return errorf(ErrInvalid, "scopes[%d].value must be 1 to %d characters", i, MaxScopeValue)
		}
		if len(s.Description) > MaxScopeDescription {
			return errorf(ErrInvalid, "scopes[%d].description must be at most %d characters", i, MaxScopeDescription)
		}
		if seen[s.Value] {
			return errorf(ErrInvalid, "scope %q is defined twice", s.Value)
		}
		seen[s.Value] = true
	}
	return nil
}

// CreateResourceServer stores a new resource server. Its identifier must be
// unique (ErrConflict); bad fields are ErrInvalid. Scopes keep their order.
func (tx *Tx) CreateResourceServer(rs ResourceServer) (ResourceServer, error) {
	if err := checkResourceServer(rs); err != nil {
		return rs, err
	}
	if tx.has(bucketResourceServerIdents, []byte(rs.Identifier)) {
		return rs, errorf(ErrConflict, "a resource server with identifier %q already exists", rs.Identifier)
	}
	rs.ID = tx.newID(PrefixResourceServer, bucketResourceServers)
	rs.Scopes = slices.Clone(rs.Scopes)
	if rs.Scopes == nil {
		rs.Scopes = []ResourceServerScope{}
	}
	rs.CreatedAt, rs.UpdatedAt = tx.now, tx.now
	tx.putNew(bucketResourceServerIdents, []byte(rs.Identifier), []byte(rs.ID))
	tx.putJSON(bucketResourceServers, []byte(rs.ID), rs)
	tx.audit(EventResourceServerCreated, resourceServerTarget(rs.ID), nil, rs)
	tx.emit(Change{Kind: ResourceServerChanged, ResourceServer: &rs})
	return rs, tx.err
}

// UpdateResourceServer applies fn (name, scopes) to a resource server and
// saves it. The identifier cannot change (ErrInvalid). Removing a scope
// removes, in the same transaction, every permission that used it: of roles
// and of users directly, each audited as a cascade. A call that changes
// nothing writes nothing.
func (tx *Tx) UpdateResourceServer(id string, fn func(*ResourceServer) error) (ResourceServer, error) {
	old, err := tx.ResourceServer(id)
	if err != nil {
		return old, err
	}
	rs := old
	rs.Scopes = slices.Clone(old.Scopes)
	if err := fn(&rs); err != nil {
		return old, err
	}
	if rs.Identifier != old.Identifier {
		return old, errorf(ErrInvalid, "the identifier of a resource server cannot change")
	}
	rs.ID, rs.CreatedAt = old.ID, old.CreatedAt
	if rs.Scopes == nil {
		rs.Scopes = []ResourceServerScope{}
	}
	if err := checkResourceServer(rs); err != nil {
		return old, err
	}
	if rs.Name == old.Name && slices.Equal(rs.Scopes, old.Scopes) {
		return old, nil
	}
	var removed []string
	for _, s := range old.Scopes {
		if _, kept := rs.Scope(s.Value); !kept {
			removed = append(removed, s.Value)
		}
	}
	if len(removed) > 0 {
		tx.dropPermissions(old, func(scope string) bool { return slices.Contains(removed, scope) })
	}
	rs.UpdatedAt = tx.now
	tx.putJSON(bucketResourceServers, []byte(rs.ID), rs)
	tx.audit(EventResourceServerUpdated, resourceServerTarget(rs.ID), old, rs)
	tx.emit(Change{Kind: ResourceServerChanged, ResourceServer: &rs})
	return rs, tx.err
}

// DeleteResourceServer deletes a resource server and, in the same
// transaction, every permission on it: of roles and of users directly, each
// audited as a cascade.
func (tx *Tx) DeleteResourceServer(id string) error {
	rs, err := tx.ResourceServer(id)
	if err != nil {
		return err
	}
	tx.dropPermissions(rs, func(string) bool { return true })
	tx.del(bucketResourceServerIdents, []byte(rs.Identifier))
	tx.del(bucketResourceServers, []byte(id))
	tx.audit(EventResourceServerDeleted, resourceServerTarget(id), rs, nil)
	tx.emit(Change{Kind: ResourceServerDeleted, ResourceServer: &rs})
	return tx.err
}

// dropPermissions removes the permissions on rs whose scope matches, from
// every role and user that has them (cascades).
func (tx *Tx) dropPermissions(rs ResourceServer, match func(scope string) bool) {
	var roleIDs []string
	tx.scanPrefix(bucketResourceServerRoles, []byte(rs.ID), func(k, _ []byte) bool {
		roleIDs = append(roleIDs, string(k[IDLen:]))
		return true
	})
	for _, rid := range roleIDs {
		role, err := tx.Role(rid)
		if err != nil {
			tx.err = err
			return
		}
		old := role
		role.Permissions = slices.DeleteFunc(slices.Clone(role.Permissions), func(p Permission) bool {
			if p.ResourceServerIdentifier != rs.Identifier || !match(p.PermissionName) {
				return false
			}
			tx.auditCascade(EventRolePermissionDeleted, roleTarget(rid), p, nil)
			return true
		})
		if len(role.Permissions) == len(old.Permissions) {
			continue
		}
		role.UpdatedAt = tx.now
		tx.syncRoleResourceServers(rid, old.Permissions, role.Permissions)
		tx.putJSON(bucketRoles, []byte(rid), role)
		tx.emit(Change{Kind: RoleChanged, RoleID: rid, Role: &role})
	}
	type grant struct{ user, scope string }
	var grants []grant
	tx.scanPrefix(bucketResourceServerUsers, []byte(rs.ID), func(k, _ []byte) bool {
		if scope := string(k[2*IDLen:]); match(scope) {
			grants = append(grants, grant{string(k[IDLen : 2*IDLen]), scope})
		}
		return true
	})
	for _, g := range grants {
		tx.unassignUserPermission(g.user, rs, g.scope, true)
	}
}

// resourceServerIDs maps identifiers to resource server ids ("" when none).
func (r *ReadTx) resourceServerID(identifier string) string {
	return string(r.get(bucketResourceServerIdents, []byte(identifier)))
}

// checkPermissions verifies that every permission names a resource server
// that exists and a scope it defines: ErrInvalid naming the first that does
// not.
func (r *ReadTx) checkPermissions(perms []Permission) error {
	cache := map[string]*ResourceServer{}
	for _, p := range perms {
		rs, ok := cache[p.ResourceServerIdentifier]
		if !ok {
			if found, err := r.ResourceServerByIdentifier(p.ResourceServerIdentifier); err == nil {
				rs = &found
			}
			cache[p.ResourceServerIdentifier] = rs
		}
		if rs == nil {
			return errorf(ErrInvalid, "resource server %q does not exist; create it first (POST /api/v2/resource-servers)", p.ResourceServerIdentifier)
		}
		if _, ok := rs.Scope(p.PermissionName); !ok {
			return errorf(ErrInvalid, "resource server %q does not define the scope %q", p.ResourceServerIdentifier, p.PermissionName)
		}
	}
	return nil
}

// syncRoleResourceServers keeps the resource server → role index in step
// with a role's permissions changing from old to now.
func (tx *Tx) syncRoleResourceServers(roleID string, old, now []Permission) {
	had, has := identifiers(old), identifiers(now)
	for _, ident := range had {
		if !slices.Contains(has, ident) {
			if id := tx.resourceServerID(ident); id != "" {
				tx.del(bucketResourceServerRoles, catS(id, roleID))
			}
		}
	}
	for _, ident := range has {
		if !slices.Contains(had, ident) {
			if id := tx.resourceServerID(ident); id != "" {
				tx.put(bucketResourceServerRoles, catS(id, roleID), present)
			}
		}
	}
}

// identifiers lists the distinct resource server identifiers of permissions.
func identifiers(perms []Permission) []string {
	var out []string
	for _, p := range perms {
		if !slices.Contains(out, p.ResourceServerIdentifier) {
			out = append(out, p.ResourceServerIdentifier)
		}
	}
	return out
}

// UserPermissions lists the permissions granted to a user directly, sorted
// by resource server identifier, then name. ErrNotFound for an unknown user.
func (r *ReadTx) UserPermissions(userID string) ([]Permission, error) {
	if _, err := r.UserByID(userID); err != nil {
		return nil, err
	}
	var out []Permission
	idents := map[string]string{}
	var ferr error
	r.scanPrefix(bucketUserPermissions, []byte(userID), func(k, _ []byte) bool {
		rsID := string(k[IDLen : 2*IDLen])
		ident, ok := idents[rsID]
		if !ok {
			rs, err := r.ResourceServer(rsID)
			if err != nil {
				ferr = err
				return false
			}
			ident, idents[rsID] = rs.Identifier, rs.Identifier
		}
		out = append(out, Permission{ResourceServerIdentifier: ident, PermissionName: string(k[2*IDLen:])})
		return true
	})
	return normalizePermissions(out), ferr
}

// EachUserPermission calls fn with every direct permission of every user.
func (r *ReadTx) EachUserPermission(fn func(userID string, p Permission)) error {
	idents := map[string]string{}
	var ferr error
	r.scanPrefix(bucketUserPermissions, nil, func(k, _ []byte) bool {
		if len(k) <= 2*IDLen {
			return true
		}
		rsID := string(k[IDLen : 2*IDLen])
		ident, ok := idents[rsID]
		if !ok {
			rs, err := r.ResourceServer(rsID)
			if err != nil {
				ferr = err
				return false
			}
			ident, idents[rsID] = rs.Identifier, rs.Identifier
		}
		fn(string(k[:IDLen]), Permission{ResourceServerIdentifier: ident, PermissionName: string(k[2*IDLen:])})
		return true
	})
	return ferr
}

// AssignUserPermissions grants permissions to a user directly (tenant
// level). The user must exist (ErrNotFound) and every permission must be a
// scope of an existing resource server (ErrInvalid); nothing is granted
// otherwise. Permissions the user already has are skipped. It returns how
// many were added.
func (tx *Tx) AssignUserPermissions(userID string, perms []Permission) (int, error) {
	if _, err := tx.UserByID(userID); err != nil {
		return 0, err
	}
	if err := tx.checkPermissions(perms); err != nil {
		return 0, err
	}
	added := 0
	for _, p := range normalizePermissions(perms) {
		rsID := tx.resourceServerID(p.ResourceServerIdentifier)
		key := catS(userID, rsID, p.PermissionName)
		if tx.has(bucketUserPermissions, key) {
			continue
		}
		tx.putNew(bucketUserPermissions, key, present)
		tx.putNew(bucketResourceServerUsers, catS(rsID, userID, p.PermissionName), present)
		tx.audit(EventUserPermissionAssigned, Target{"user", userID}, nil, p)
		tx.emit(Change{Kind: UserPermissionAssigned, UserID: userID, Permission: p})
		added++
	}
	return added, tx.err
}

// RemoveUserPermissions takes direct permissions away from a user; ones the
// user does not have directly are ignored. ErrNotFound for an unknown user.
func (tx *Tx) RemoveUserPermissions(userID string, perms []Permission) (int, error) {
	if _, err := tx.UserByID(userID); err != nil {
		return 0, err
	}
	removed := 0
	for _, p := range normalizePermissions(perms) {
		rs, err := tx.ResourceServerByIdentifier(p.ResourceServerIdentifier)
		if err != nil {
			continue // no such API: the user cannot have the permission
		}
		if tx.unassignUserPermission(userID, rs, p.PermissionName, false) {
			removed++
		}
	}
	return removed, tx.err
}

func (tx *Tx) unassignUserPermission(userID string, rs ResourceServer, scope string, cascade bool) bool {
	key := catS(userID, rs.ID, scope)
	if !tx.has(bucketUserPermissions, key) {
		return false
	}
	tx.delKnown(bucketUserPermissions, key, present)
	tx.del(bucketResourceServerUsers, catS(rs.ID, userID, scope))
	p := Permission{ResourceServerIdentifier: rs.Identifier, PermissionName: scope}
	tx.auditMaybeCascade(cascade, EventUserPermissionDeleted, Target{"user", userID}, p, nil)
	tx.emit(Change{Kind: UserPermissionRemoved, UserID: userID, Permission: p})
	return true
}

// dropUserPermissions removes the direct permissions of a user being deleted.
func (tx *Tx) dropUserPermissions(userID string) {
	var keys [][]byte
	tx.scanPrefix(bucketUserPermissions, []byte(userID), func(k, _ []byte) bool {
		keys = append(keys, bytes.Clone(k))
		return true
	})
	for _, k := range keys {
		rs, err := tx.ResourceServer(string(k[IDLen : 2*IDLen]))
		if err != nil {
			tx.err = err
			return
		}
		tx.unassignUserPermission(userID, rs, string(k[2*IDLen:]), true)
	}
}

// verifyResourceServers checks the identifier index, the resource server →
// role index, the direct permission keys in both directions, and that every
// permission of a role is a scope of an existing resource server.
func verifyResourceServers(r *ReadTx, report func(string, ...any)) {
	byIdent := map[string]ResourceServer{}
	r.scanPrefix(bucketResourceServers, nil, func(k, v []byte) bool {
		var rs ResourceServer
		if err := json.Unmarshal(v, &rs); err != nil {
			report("resource server %s: %v", k, err)
			return true
		}
		if got := r.get(bucketResourceServerIdents, []byte(rs.Identifier)); string(got) != rs.ID {
			report("resource server %s: identifier index for %q points at %q", rs.ID, rs.Identifier, got)
		}
		byIdent[rs.Identifier] = rs
		return true
	})
	r.scanPrefix(bucketResourceServerIdents, nil, func(k, v []byte) bool {
		if rs, ok := byIdent[string(k)]; !ok || rs.ID != string(v) {
			report("resource server identifier index %q points at %q, which does not have it", k, v)
		}
		return true
	})
	want := map[string]bool{} // rsID|rolID
	r.scanPrefix(bucketRoles, nil, func(_, v []byte) bool {
		var role Role
		if json.Unmarshal(v, &role) != nil {
			return true
		}
		for _, p := range role.Permissions {
			rs, ok := byIdent[p.ResourceServerIdentifier]
			if !ok {
				report("role %s: permission %v names no resource server", role.ID, p)
				continue
			}
			if _, ok := rs.Scope(p.PermissionName); !ok {
				report("role %s: permission %v is not a scope of %s", role.ID, p, rs.ID)
			}
			want[rs.ID+role.ID] = true
		}
		return true
	})
	r.scanPrefix(bucketResourceServerRoles, nil, func(k, _ []byte) bool {
		if !want[string(k)] {
			report("resource server role index %q has no permission behind it", k)
		}
		delete(want, string(k))
		return true
	})
	for k := range want {
		report("role %s has permissions on %s but no index key", k[IDLen:], k[:IDLen])
	}
	byID := map[string]ResourceServer{}
	for _, rs := range byIdent {
		byID[rs.ID] = rs
	}
	count := 0
	r.scanPrefix(bucketUserPermissions, nil, func(k, _ []byte) bool {
		count++
		if len(k) <= 2*IDLen {
			report("user permission key %q too short", k)
			return true
		}
		user, rs, scope := string(k[:IDLen]), string(k[IDLen:2*IDLen]), string(k[2*IDLen:])
		if !r.has(bucketUsers, []byte(user)) {
			report("user permission %s/%s/%q: user missing", user, rs, scope)
		}
		if def, ok := byID[rs]; !ok {
			report("user permission %s/%s/%q: resource server missing", user, rs, scope)
		} else if _, ok := def.Scope(scope); !ok {
			report("user permission %s/%s/%q: scope not defined", user, rs, scope)
		}
		if !r.has(bucketResourceServerUsers, catS(rs, user, scope)) {
			report("user permission %s/%s/%q has no reverse key", user, rs, scope)
		}
		return true
	})
	reverse := 0
	r.scanPrefix(bucketResourceServerUsers, nil, func(k, _ []byte) bool {
		reverse++
		if len(k) <= 2*IDLen || !r.has(bucketUserPermissions, catS(string(k[IDLen:2*IDLen]), string(k[:IDLen]), string(k[2*IDLen:]))) {
			report("resource server user permission %q has no forward key", k)
		}
		return true
	})
	if reverse != count {
		report("%s has %d keys but %s has %d", bucketUserPermissions, count, bucketResourceServerUsers, reverse)
	}
}

// migrateResourceServers (schema 2 → 3) creates, for every resource server
// identifier role permissions already use, a resource server named after it
// with the scopes already used, so data stored before resource servers
// existed keeps its meaning. Scopes are described as migrated.
func migrateResourceServers(btx EngineTx) error {
	if err := createMissingBuckets(btx); err != nil {
		return err
	}
	roles := btx.Bucket(bucketRoles)
	used := map[string][]string{} // identifier → scopes, in first-use order
	var idents []string
	roleIdents := map[string][]string{} // role id → identifiers
	c := roles.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var role Role
		if err := json.Unmarshal(v, &role); err != nil {
			return err
		}
		for _, p := range role.Permissions {
			if _, ok := used[p.ResourceServerIdentifier]; !ok {
				idents = append(idents, p.ResourceServerIdentifier)
			}
			if !slices.Contains(used[p.ResourceServerIdentifier], p.PermissionName) {
				used[p.ResourceServerIdentifier] = append(used[p.ResourceServerIdentifier], p.PermissionName)
			}
		}
		roleIdents[string(k)] = identifiers(role.Permissions)
	}
	now := time.Now().UTC()
	ids := map[string]string{}
	for _, ident := range idents {
		if existing := btx.Bucket(bucketResourceServerIdents).Get([]byte(ident)); existing != nil {
			ids[ident] = string(existing)
			continue
		}
		scopes := used[ident]
		slices.Sort(scopes)
		rs := ResourceServer{ID: NewID(PrefixResourceServer), Identifier: ident, Name: ident, CreatedAt: now, UpdatedAt: now}
		for _, s := range scopes {
			rs.Scopes = append(rs.Scopes, ResourceServerScope{Value: s})
		}
		raw, err := json.Marshal(rs)
		if err != nil {
			return err
		}
		if err := btx.Bucket(bucketResourceServers).Put([]byte(rs.ID), raw); err != nil {
			return err
		}
		if err := btx.Bucket(bucketResourceServerIdents).Put([]byte(ident), []byte(rs.ID)); err != nil {
			return err
		}
		ids[ident] = rs.ID
	}
	for roleID, list := range roleIdents {
		for _, ident := range list {
			if err := btx.Bucket(bucketResourceServerRoles).Put(catS(ids[ident], roleID), present); err != nil {
				return err
			}
		}
	}
	return nil
}
