package roles

import (
	"slices"
	"strings"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// permissionIndex is the part of the Index that knows APIs (resource
// servers) and the permissions granted to users directly. It is kept apart
// from role resolution: answers describe every permission with its API's
// name and its scope's description, and add a user's direct permissions to
// logins without an organization (tenant level), as Auth0 does.
type permissionIndex struct {
	apis   map[string]apiInfo            // identifier → name and scope descriptions
	direct map[string][]store.Permission // user id → direct permissions, sorted
}

type apiInfo struct {
	name   string
	scopes map[string]string // scope value → description
}

func newAPIInfo(rs store.ResourceServer) apiInfo {
	info := apiInfo{name: rs.Name, scopes: make(map[string]string, len(rs.Scopes))}
	for _, s := range rs.Scopes {
		info.scopes[s.Value] = s.Description
	}
	return info
}

// loadPermissions reads the APIs and the direct permissions (in Load, after
// the roles: direct permissions join the permission table the roles made).
func (ix *Index) loadPermissions(r *store.ReadTx) error {
	ix.permIdx = permissionIndex{apis: map[string]apiInfo{}, direct: map[string][]store.Permission{}}
	if err := r.EachResourceServer(func(rs store.ResourceServer) error {
		ix.permIdx.apis[rs.Identifier] = newAPIInfo(rs)
		return nil
	}); err != nil {
		return err
	}
	var unranked []store.Permission
	if err := r.EachUserPermission(func(userID string, p store.Permission) {
		ix.permIdx.direct[userID] = append(ix.permIdx.direct[userID], p)
		if _, ok := ix.permRank[p]; !ok {
			unranked = append(unranked, p)
		}
	}); err != nil {
		return err
	}
	if len(unranked) > 0 {
		ix.rankPermissions(unranked)
	}
	ix.refreshPermissionJSON()
	return nil
}

// applyPermissionChange applies the changes about APIs and direct
// permissions.
func (ix *Index) applyPermissionChange(c *store.Change) {
	if ix.permIdx.apis == nil {
		ix.permIdx = permissionIndex{apis: map[string]apiInfo{}, direct: map[string][]store.Permission{}}
	}
	switch c.Kind {
	case store.ResourceServerChanged:
		ix.permIdx.apis[c.ResourceServer.Identifier] = newAPIInfo(*c.ResourceServer)
		ix.refreshPermissionJSON()
	case store.ResourceServerDeleted:
		delete(ix.permIdx.apis, c.ResourceServer.Identifier)
		ix.refreshPermissionJSON()
	case store.UserPermissionAssigned:
		list := ix.permIdx.direct[c.UserID]
		i, found := slices.BinarySearchFunc(list, c.Permission, comparePermissions)
		if !found {
			ix.permIdx.direct[c.UserID] = slices.Insert(list, i, c.Permission)
		}
		if _, ok := ix.permRank[c.Permission]; !ok {
			ix.rankPermissions([]store.Permission{c.Permission})
		}
	case store.UserPermissionRemoved:
		list := remove(ix.permIdx.direct[c.UserID], c.Permission)
		if len(list) == 0 {
			delete(ix.permIdx.direct, c.UserID)
		} else {
			ix.permIdx.direct[c.UserID] = list
		}
	}
}

func comparePermissions(a, b store.Permission) int {
	if c := strings.Compare(a.ResourceServerIdentifier, b.ResourceServerIdentifier); c != 0 {
		return c
	}
	return strings.Compare(a.PermissionName, b.PermissionName)
}

// permissionJSON encodes a permission as answers show it, once per change
// of the permission table or of an API rather than once per answer.
func (ix *Index) permissionJSON(p store.Permission) []byte {
	name, desc := ix.describe(p)
	js := httpconv.AppendJSONString([]byte(`{"resource_server_identifier":`), p.ResourceServerIdentifier)
	js = httpconv.AppendJSONString(append(js, `,"permission_name":`...), p.PermissionName)
	js = httpconv.AppendJSONString(append(js, `,"resource_server_name":`...), name)
	js = httpconv.AppendJSONString(append(js, `,"description":`...), desc)
	return append(js, '}')
}

// describe is the name of p's API and the description of its scope.
func (ix *Index) describe(p store.Permission) (name, description string) {
	api, ok := ix.permIdx.apis[p.ResourceServerIdentifier]
	if !ok {
		return "", ""
	}
	return api.name, api.scopes[p.PermissionName]
}

// refreshPermissionJSON re-encodes the permission table after an API changed.
func (ix *Index) refreshPermissionJSON() {
	for i := range ix.perms {
		ix.perms[i].json = ix.permissionJSON(ix.perms[i].Permission)
	}
}

// withDirect adds the user's direct permissions to a resolution. They are
// tenant-level, like direct roles: they apply to an active user's logins
// without an organization, and to organization logins of members only while
// the tenant setting tenant_roles_in_organizations is on. It runs under the
// index's read lock.
func (ix *Index) withDirect(res Resolution, err error) (Resolution, error) {
	if err == nil && res.Active && (res.Organization == nil || ix.tenantInOrgs && res.Organization.Member) {
		res.Direct = ix.permIdx.direct[res.UserID]
	}
	return res, err
}

// markDirect sets the ranks of the resolution's direct permissions in a
// permission bitset (the login answer's).
func (ix *Index) markDirect(bitset []uint64, res Resolution) {
	for _, p := range res.Direct {
		if rank, ok := ix.permRank[p]; ok {
			bitset[rank/64] |= 1 << (rank % 64)
		}
	}
}

// appendDescribedPermission writes a permission with its API's name and its
// scope's description, leaving the object open for more fields. It runs
// under the read lock the caller holds (resolveBatch): taking it again
// would deadlock as soon as a writer queued between the two.
func (ix *Index) appendDescribedPermission(b []byte, p store.Permission) []byte {
	name, desc := ix.describe(p)
	b = httpconv.AppendJSONString(append(b, `{"resource_server_identifier":`...), p.ResourceServerIdentifier)
	b = httpconv.AppendJSONString(append(b, `,"permission_name":`...), p.PermissionName)
	b = httpconv.AppendJSONString(append(b, `,"resource_server_name":`...), name)
	return httpconv.AppendJSONString(append(b, `,"description":`...), desc)
}

// appendPermissionSources writes where an effective permission comes from:
// {"type":"direct"} when granted to the user directly, then one
// {"type":"role","role_id","role_name"} per role granting it.
func appendPermissionSources(b []byte, p EffectivePermission, res Resolution) []byte {
	b = append(b, `,"sources":[`...)
	if p.Direct {
		b = append(b, `{"type":"direct"}`...)
	}
	for i, id := range p.Roles {
		if i > 0 || p.Direct {
			b = append(b, ',')
		}
		b = httpconv.AppendJSONString(append(b, `{"type":"role","role_id":`...), id)
		for _, r := range res.Roles {
			if r.ID == id {
				b = httpconv.AppendJSONString(append(b, `,"role_name":`...), r.Name)
				break
			}
		}
		b = append(b, '}')
	}
	return append(b, ']')
}
