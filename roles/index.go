package roles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// Index is the in-memory view of everything effective-role resolution reads:
// users (connection, active flag, groups, direct roles), groups (connection,
// name, roles at both scopes), roles (names, permissions) and organizations
// (enabled connections with their auto-membership flag, members, member
// roles). Login servers budget a role lookup like a cache hit; reading bbolt
// for the fifty groups of a user would cost a hundred times more.
//
// The Index is a store.Observer: the committer hands it every committed
// change before releasing the writer, so once a write has returned no
// resolution can miss it (read-your-writes). Resolution takes a read lock;
// applying a batch takes the write lock, so a reader sees a batch whole or
// not at all.
type Index struct {
	mu       sync.RWMutex
	loaded   bool
	revision uint64
	// nested: roles flow from a group to the members of its member groups
	// (the tenant setting nested_group_roles).
	nested bool
	// tenantInOrgs: answers inside an organization also carry tenant
	// roles (the tenant setting tenant_roles_in_organizations).
	tenantInOrgs bool
	advanced     chan struct{} // closed and replaced whenever revision moves or a pending rule is installed

	users  map[string]*indexUser
	byName map[userKey]*indexUser // folded userName
	// byExt holds one user per externalId; the rare others sharing it (the
	// store does not make externalId unique) wait in extShared.
	byExt     map[userKey]*indexUser
	extShared map[userKey][]*indexUser
	// connectionIDs interns connection ids: every user of a connection
	// shares one string instead of holding its own copy.
	connectionIDs map[string]string
	groups        map[string]*indexGroup
	roles         map[string]*indexRole
	orgs          map[string]*indexOrg

	// Every permission any role has, in (resource server, name) order; its
	// position is its rank. Answers fold permissions through a bitset of
	// ranks instead of sorting them.
	perms    []indexPermission
	permRank map[store.Permission]int
	// The distinct permission names, sorted, JSON-encoded: a token's claim
	// lists a name once even when several resource servers define it.
	claims [][]byte

	permIdx permissionIndex // APIs and direct user permissions (index_permissions.go)

	// IdP role mappings (index_mappings.go): by id, and per connection by
	// folded idp_value, the way resolution looks them up.
	mappings        map[string]*indexMapping
	mappingsByValue map[string]map[string][]*indexMapping

	// Attribute rules (index_rules.go): by id, and by each attribute their
	// filters read. db is the store Load read, which pending rules are
	// evaluated against; applying is the revision Committed is applying.
	rules        map[string]*indexRule
	rulesByRead  map[string][]*indexRule            // unguarded rules
	guarded      map[string]map[string][]*indexRule // guard attribute → guard key → rules
	guardsByRead map[string]map[string]int          // attribute → guard attributes of rules reading it (counted)
	pendingRules int
	ruleMark     uint64 // see indexRule.mark
	evaluating   bool
	ruleEvals    atomic.Uint64
	db           *store.DB
	applying     uint64
	// dirty collects the users whose answer the changes applied since the
	// deriver last took it may have changed (index_dirty.go); nil until a
	// deriver tracks them.
	dirty     *dirtySet
	dirtyWake chan struct{}
	// expanding holds the groups of the set the deriver took last, which
	// it expands to their members outside the lock (see grantsThrough).
	expanding map[string]struct{}
}

type indexPermission struct {
	store.Permission
	json       []byte // {"resource_server_identifier":…,"permission_name":…,"resource_server_name":…,"description":…}
	claim      []byte // "permission_name"
	claimIndex int    // of the name in Index.claims
}

// userKey finds a user by a name within its connection.
type userKey struct{ connectionID, name string }

type indexUser struct {
	id, connectionID string
	// foldedName is the userName in the store's canonical case fold
	// (store.Fold), so a lookup by name agrees with the store's own
	// case-insensitive index; externalID as sent.
	foldedName, externalID string
	active                 bool
	groups                 []*indexGroup // direct memberships
	roles                  []*indexRole  // direct assignments
	// idpValues: the user's SCIM roles and entitlements values, folded,
	// each once; nil for most users.
	idpValues []string
	// rules: the attribute rules matching the user (index_rules.go).
	rules []*indexRule
}

type indexGroup struct {
	info     *GroupInfo                 // replaced, never changed, on a rename
	roles    []*indexRole               // tenant scope
	orgRoles map[*indexOrg][]*indexRole // organization scope
	parents  []*indexGroup              // the groups this group is a member of, by id
}

type indexRole struct {
	info *RoleInfo // replaced, never changed, when the role changes
	rank int       // position in role id order: answers are sorted by it
}

type indexOrg struct {
	id          string
	connections map[string]bool // connection id → assign_membership_on_login
	members     map[string]bool // explicit members
	memberRoles map[string][]*indexRole
}

// NewIndex returns an empty index. Register it as a store observer when the
// store is opened, then Load it.
func NewIndex() *Index {
	return &Index{
		advanced: make(chan struct{}),
		users:    map[string]*indexUser{}, byName: map[userKey]*indexUser{},
		byExt: map[userKey]*indexUser{}, extShared: map[userKey][]*indexUser{}, connectionIDs: map[string]string{},
		groups: map[string]*indexGroup{}, roles: map[string]*indexRole{}, orgs: map[string]*indexOrg{},
		permRank: map[store.Permission]int{},
		mappings: map[string]*indexMapping{}, mappingsByValue: map[string]map[string][]*indexMapping{},
		rules: map[string]*indexRule{}, rulesByRead: map[string][]*indexRule{},
		guarded: map[string]map[string][]*indexRule{}, guardsByRead: map[string]map[string]int{},
	}
}

// Revision is the store revision the index reflects.
func (ix *Index) Revision() uint64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.revision
}

// ErrRevisionNotReached: WaitFor gave up before the index reached a revision.
var ErrRevisionNotReached = errors.New("revision not reached")

// WaitFor returns once the index reflects at least revision rev, attribute
// rules changed up to rev evaluated over the users included, or
// ErrRevisionNotReached after timeout (or when ctx ends).
func (ix *Index) WaitFor(ctx context.Context, rev uint64, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		ix.mu.RLock()
		current, advanced := ix.revision, ix.advanced
		pending := current >= rev && ix.rulesPendingUpTo(rev)
		ix.mu.RUnlock()
		if current >= rev && !pending {
			return nil
		}
		select {
		case <-advanced:
		case <-deadline.C:
			return ErrRevisionNotReached
		case <-ctx.Done():
			return ErrRevisionNotReached
		}
	}
}

// Load fills the index from a snapshot of the store. Changes committed while
// it runs wait for it (Committed blocks on the lock) and those the snapshot
// already holds are skipped by revision.
func (ix *Index) Load(db *store.DB) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return db.View(func(r *store.ReadTx) error {
		ix.revision = r.Revision()
		settings, err := r.TenantSettings()
		if err != nil {
			return err
		}
		ix.nested, ix.tenantInOrgs = settings.NestedGroupRoles, settings.TenantRolesInOrganizations
		// Roles at once: ranking permissions and roles once, not per role.
		var all []store.Role
		var perms []store.Permission
		if err := r.EachRole(func(role store.Role) error {
			all = append(all, role)
			perms = append(perms, role.Permissions...)
			return nil
		}); err != nil {
			return err
		}
		ix.rankPermissions(perms)
		for _, role := range all {
			ix.roles[role.ID] = &indexRole{info: newRoleInfo(role, ix.permRanks(role.Permissions))}
		}
		ix.rank()
		if err := ix.loadPermissions(r); err != nil {
			return err
		}
		if err := r.EachUserSummary(func(s store.UserSummary) {
			u := &indexUser{id: s.ID, connectionID: ix.intern(s.ConnectionID), foldedName: store.Fold(s.UserName), externalID: s.ExternalID, active: s.Active, idpValues: foldValues(s.IdPValues)}
			ix.users[s.ID] = u
			ix.indexNames(u)
		}); err != nil {
			return err
		}
		if err := r.EachGroupSummary(func(id, con, name string) {
			ix.groups[id] = &indexGroup{info: newGroupInfo(id, con, name)}
		}); err != nil {
			return err
		}
		r.EachMembership(func(gid, mid string) { ix.addMember(gid, mid) })
		r.EachGroupRole(func(gid, rid string) { ix.bindGroupRole(gid, rid) })
		r.EachUserRole(func(uid, rid string) { ix.bindUserRole(uid, rid) })
		r.EachOrganizationID(func(id string) { ix.org(id) })
		if err := r.EachOrganizationConnection(func(ec store.EnabledConnection) {
			ix.org(ec.OrganizationID).connections[ec.ConnectionID] = ec.AssignMembershipOnLogin
		}); err != nil {
			return err
		}
		r.EachOrganizationMember(func(oid, uid string) { ix.org(oid).members[uid] = true })
		r.EachOrganizationMemberRole(func(oid, uid, rid string) { ix.bindOrgMemberRole(oid, uid, rid) })
		r.EachOrganizationGroupRole(func(oid, gid, rid string) { ix.bindOrgGroupRole(oid, gid, rid) })
		if err := r.EachRoleMapping(ix.addMapping); err != nil {
			return err
		}
		// Rules are evaluated in the background (index_rules.go), once the
		// lock is released: WaitFor holds answers that ask for them.
		ix.db = db
		if err := r.EachRoleRule(func(rule store.RoleRule) { ix.putRule(&rule, ix.revision) }); err != nil {
			return err
		}
		// Membership lists grew by appending; trim their slack for good.
		for _, u := range ix.users {
			if cap(u.groups) > len(u.groups) {
				u.groups = slices.Clone(u.groups)
			}
		}
		ix.loaded = true
		return nil
	})
}

// Committed applies a committed batch (store.Observer).
func (ix *Index) Committed(revision uint64, changes []store.Change) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.loaded || revision <= ix.revision {
		return // Load's snapshot holds it, or Load will
	}
	ix.applying = revision
	for i := range changes {
		ix.apply(&changes[i])
	}
	ix.revision = revision
	close(ix.advanced)
	ix.advanced = make(chan struct{})
	if ix.dirty != nil && len(changes) == 0 {
		// A write of derived states changes nothing here, yet moves the
		// revision the deriver has derived through (markDirty wakes it
		// for the others).
		ix.wakeDeriver()
	}
}

func (ix *Index) permRanks(ps []store.Permission) []int {
	ranks := make([]int, len(ps))
	for i, p := range ps {
		ranks[i] = ix.permRank[p]
	}
	return ranks
}

// rankPermissions adds permissions to the table and renumbers it; roles get
// new RoleInfo values carrying the new ranks (old ones stay valid for the
// answers that hold them).
func (ix *Index) rankPermissions(add []store.Permission) {
	all := make([]store.Permission, 0, len(ix.perms)+len(add))
	for _, p := range ix.perms {
		all = append(all, p.Permission)
	}
	all = append(all, add...)
	slices.SortFunc(all, func(a, b store.Permission) int {
		if c := strings.Compare(a.ResourceServerIdentifier, b.ResourceServerIdentifier); c != 0 {
			return c
		}
		return strings.Compare(a.PermissionName, b.PermissionName)
	})
	all = slices.Compact(all)
	ix.perms = make([]indexPermission, len(all))
	clear(ix.permRank)
	names := make([]string, len(all))
	for i, p := range all {
		names[i] = p.PermissionName
	}
	slices.Sort(names)
	names = slices.Compact(names)
	ix.claims = make([][]byte, len(names))
	for i, name := range names {
		ix.claims[i] = httpconv.AppendJSONString(nil, name)
	}
	for i, p := range all {
		js := ix.permissionJSON(p)
		claimIndex, _ := slices.BinarySearch(names, p.PermissionName)
		ix.perms[i] = indexPermission{Permission: p, json: js, claim: ix.claims[claimIndex], claimIndex: claimIndex}
		ix.permRank[p] = i
	}
	for _, r := range ix.roles {
		old := r.info
		r.info = newRoleInfo(store.Role{ID: old.ID, Name: old.Name, Description: old.Description, Permissions: old.Permissions}, ix.permRanks(old.Permissions))
	}
}

// rank numbers the roles in id order, so answers sort by integers.
func (ix *Index) rank() {
	list := make([]*indexRole, 0, len(ix.roles))
	for _, r := range ix.roles {
		list = append(list, r)
	}
	slices.SortFunc(list, func(a, b *indexRole) int { return strings.Compare(a.info.ID, b.info.ID) })
	for i, r := range list {
		r.rank = i
	}
}

func (ix *Index) indexNames(u *indexUser) {
	ix.byName[userKey{u.connectionID, u.foldedName}] = u
	if u.externalID == "" {
		return
	}
	key := userKey{u.connectionID, u.externalID}
	if first := ix.byExt[key]; first == nil {
		ix.byExt[key] = u
	} else {
		ix.extShared[key] = append(ix.extShared[key], u)
	}
}

func (ix *Index) unindexNames(u *indexUser) {
	if key := (userKey{u.connectionID, u.foldedName}); ix.byName[key] == u {
		delete(ix.byName, key)
	}
	if u.externalID == "" {
		return
	}
	key := userKey{u.connectionID, u.externalID}
	shared := ix.extShared[key]
	if ix.byExt[key] == u {
		if len(shared) == 0 {
			delete(ix.byExt, key)
			return
		}
		ix.byExt[key], shared = shared[0], shared[1:]
	} else {
		shared = remove(shared, u)
	}
	if len(shared) == 0 {
		delete(ix.extShared, key)
	} else {
		ix.extShared[key] = shared
	}
}

// byExternalID lists the users of a connection with an externalId.
func (ix *Index) byExternalID(connectionID, externalID string) []*indexUser {
	key := userKey{connectionID, externalID}
	first := ix.byExt[key]
	if first == nil {
		return nil
	}
	return append([]*indexUser{first}, ix.extShared[key]...)
}

// intern returns the index's copy of a connection id.
func (ix *Index) intern(id string) string {
	if s, ok := ix.connectionIDs[id]; ok {
		return s
	}
	ix.connectionIDs[id] = id
	return id
}

// remove deletes the first occurrence of v, keeping order.
func remove[T comparable](list []T, v T) []T {
	if i := slices.Index(list, v); i >= 0 {
		return slices.Delete(list, i, i+1)
	}
	return list
}

func (ix *Index) String() string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return fmt.Sprintf("index at revision %d: %d users, %d groups, %d roles, %d organizations",
		ix.revision, len(ix.users), len(ix.groups), len(ix.roles), len(ix.orgs))
}
