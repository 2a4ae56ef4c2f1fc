package roles

import (
	"errors"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/httpconv"
)

// Scopes a role is granted at.
const (
	ScopeTenant       = "tenant"
	ScopeOrganization = "organization"
)

// RoleInfo is a role as answers show it. Values are immutable: a change to
// the role makes a new one, so answers handed out stay consistent.
type RoleInfo struct {
	ID          string
	Name        string
	Description string
	Permissions []store.Permission

	// Encoded once, copied into every answer: {"id":…,"name":… and
	// ,"description":… and "name" (a claim).
	jsonHead, jsonDescription, jsonName []byte
	// permRanks are the Index's dense ranks of Permissions.
	permRanks []int
}

func newRoleInfo(r store.Role, permRanks []int) *RoleInfo {
	info := &RoleInfo{ID: r.ID, Name: r.Name, Description: r.Description, Permissions: slices.Clone(r.Permissions), permRanks: permRanks}
	b := make([]byte, 0, 24+len(r.ID)+len(r.Name))
	b = httpconv.AppendJSONString(append(b, `{"id":`...), r.ID)
	info.jsonHead = httpconv.AppendJSONString(append(b, `,"name":`...), r.Name)
	info.jsonDescription = httpconv.AppendJSONString([]byte(`,"description":`), r.Description)
	info.jsonName = httpconv.AppendJSONString(nil, r.Name)
	return info
}

// GroupInfo is a group as sources show it; immutable like RoleInfo.
type GroupInfo struct {
	ID, ConnectionID, Name string
	jsonSource             []byte // {"type":"group","group_id":…,"group_name":…
	// via and viaLength are set only on the copy a nested source carries
	// (see Source.Via): keeping the path here rather than in Source keeps
	// every other source, and so every answer, as small as without nesting.
	via       []*GroupInfo
	viaLength int
}

// MaxVia bounds the groups a nested source names in Via. Without a bound a
// chain of n nested groups, each granting a role, answers n sources with
// paths of up to n groups: quadratic (a 1,000-group chain made a 32 MB
// login answer). With it the answer grows linearly with the groups.
const MaxVia = 8

// groupSourceHead starts a group source; a "via" entry is the rest of it.
const groupSourceHead = `{"type":"group",`

func newGroupInfo(id, connectionID, name string) *GroupInfo {
	g := &GroupInfo{ID: id, ConnectionID: connectionID, Name: name}
	g.jsonSource = httpconv.AppendJSONString([]byte(groupSourceHead+`"group_id":`), id)
	g.jsonSource = httpconv.AppendJSONString(append(g.jsonSource, `,"group_name":`...), name)
	return g
}

// Source is why a user has a role: a direct assignment (Group, Mapping and
// Rule nil), membership of a group the role is bound to, a value of the
// user's SCIM roles or entitlements an IdP role mapping maps to it
// (Mapping), or an attribute rule the user matches (Rule), at tenant or
// organization scope.
type Source struct {
	Group        *GroupInfo
	Mapping      *MappingInfo
	Rule         *RuleInfo
	Organization bool // organization scope; tenant scope otherwise
}

// Via is set when the user is in Group only through member groups (nested
// group roles on): the path from the user's own group up to, not
// including, Group. A path of more than MaxVia groups is shortened to
// MaxVia: the user's own group, then the MaxVia-1 groups just below Group,
// in path order; ViaLength says how many groups the whole path has.
func (s Source) Via() []*GroupInfo {
	if s.Group == nil {
		return nil
	}
	return s.Group.via
}

// ViaLength is the number of groups on the whole path Via shows: more than
// len(Via()) when the path was shortened.
func (s Source) ViaLength() int {
	if s.Group == nil {
		return 0
	}
	return s.Group.viaLength
}

// Type is "direct", "group", "idp_role" or "rule".
func (s Source) Type() string {
	switch {
	case s.Group != nil:
		return "group"
	case s.Mapping != nil:
		return "idp_role"
	case s.Rule != nil:
		return "rule"
	}
	return "direct"
}

// Scope is "tenant" or "organization".
func (s Source) Scope() string {
	if s.Organization {
		return ScopeOrganization
	}
	return ScopeTenant
}

// EffectiveRole is one role a user has, with every source of it.
type EffectiveRole struct {
	*RoleInfo
	// Scope is "tenant" when any source is at tenant scope, else "organization".
	Scope   string
	Sources []Source
}

// OrganizationStatus is the user's standing in the organization a
// resolution was asked for.
type OrganizationStatus struct {
	ID             string
	Member         bool // explicitly added, or by auto-membership
	AutoMembership bool // the user's connection is enabled with assign_membership_on_login
}

// Resolution is the answer for one user: the user, the organization when one
// was asked for, and the effective roles sorted by role id. A deactivated
// user, or a user who is not a member of the organization, has no roles.
//
// Without an organization the roles are the tenant roles: direct roles and
// the roles bound to the user's groups at tenant scope. Inside an
// organization they are the organization's roles only, as in Auth0: the
// member's organization member roles and the roles bound at the
// organization's scope to the user's groups (those only with
// auto-membership). The tenant setting tenant_roles_in_organizations adds
// the tenant roles to organization answers as well.
type Resolution struct {
	UserID       string
	ConnectionID string
	Active       bool
	Organization *OrganizationStatus
	Roles        []EffectiveRole
	// Direct are the permissions granted to the user directly, sorted; set
	// for an active user without an organization (see Index.withDirect).
	Direct []store.Permission
}

// Subject names a user the way a login server knows it: by id, or by
// connection and userName (case-insensitive) or externalId; optionally within
// an organization.
type Subject struct {
	UserID         string `json:"user_id,omitempty"`
	ConnectionID   string `json:"connection_id,omitempty"`
	UserName       string `json:"user_name,omitempty"`
	ExternalID     string `json:"external_id,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
}

// Resolution errors; each is also an errorCode in query answers.
var (
	ErrUserNotFound         = errors.New("user_not_found")
	ErrOrganizationNotFound = errors.New("organization_not_found")
	ErrAmbiguousSubject     = errors.New("ambiguous_subject")
	ErrInvalidSubject       = errors.New("invalid_subject")
)

// SubjectError is a resolution failure for one subject.
type SubjectError struct {
	Code    error
	Message string
}

func (e *SubjectError) Error() string { return e.Message }
func (e *SubjectError) Unwrap() error { return e.Code }

// Resolve answers the effective roles of a subject. Errors are *SubjectError.
func (ix *Index) Resolve(s Subject) (Resolution, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	u, err := ix.lookup(s)
	if err != nil {
		return Resolution{}, err
	}
	return ix.withDirect(ix.resolve(u, s.OrganizationID, nil, true))
}

func (ix *Index) lookup(s Subject) (*indexUser, error) {
	switch {
	case s.UserID != "" && s.ConnectionID == "" && s.UserName == "" && s.ExternalID == "":
		if u := ix.users[s.UserID]; u != nil {
			return u, nil
		}
		return nil, &SubjectError{ErrUserNotFound, "no user with id " + s.UserID}
	case s.UserID == "" && s.ConnectionID != "" && s.UserName != "" && s.ExternalID == "":
		if u := ix.byName[userKey{s.ConnectionID, store.Fold(s.UserName)}]; u != nil {
			return u, nil
		}
		return nil, &SubjectError{ErrUserNotFound, "no user named " + s.UserName + " in connection " + s.ConnectionID}
	case s.UserID == "" && s.ConnectionID != "" && s.ExternalID != "" && s.UserName == "":
		switch list := ix.byExternalID(s.ConnectionID, s.ExternalID); len(list) {
		case 1:
			return list[0], nil
		case 0:
			return nil, &SubjectError{ErrUserNotFound, "no user with external id " + s.ExternalID + " in connection " + s.ConnectionID}
		default:
			return nil, &SubjectError{ErrAmbiguousSubject, "several users of connection " + s.ConnectionID + " have external id " + s.ExternalID + "; ask by user_id"}
		}
	}
	return nil, &SubjectError{ErrInvalidSubject, `a subject is {"user_id"}, {"connection_id","user_name"} or {"connection_id","external_id"}`}
}

// grant is one reason a user has one role, while an answer is assembled.
type grant struct {
	role  *indexRole
	group *indexGroup // nil for a direct assignment or an IdP role mapping
	next  int32       // the next grant of the same role, -1 at the end
	// how packs the rest into the word left (grants are copied a lot): bit
	// 0 is organization scope, bit 1 an attribute rule; above them, 1 +
	// the resolveScratch.reach entry of a group reached through member
	// groups, or (group nil) 1 + the resolveScratch.maps entry of an IdP
	// role mapping or the resolveScratch.rules entry of a rule, or 0.
	how int32
}

func newGrant(role *indexRole, group *indexGroup, org bool, reach int32) grant {
	g := grant{role: role, group: group, how: (reach + 1) << 2}
	if org {
		g.how |= 1
	}
	return g
}

// newRuleGrant is a grant by the resolveScratch.rules entry i.
func newRuleGrant(role *indexRole, org bool, i int32) grant {
	g := newGrant(role, nil, org, i)
	g.how |= 2
	return g
}

func (g grant) org() bool { return g.how&1 != 0 }

func (g grant) rule() bool { return g.how&2 != 0 }

// reach is the grant's resolveScratch.reach (or maps, or rules) entry, or -1.
func (g grant) reach() int32 { return g.how>>2 - 1 }

// reached is a group a user is in through member groups, and the entry of
// reach for the group below it on the way (-1: a group the user is in).
// depth counts the groups below it on the way, root is the entry of the
// user's own group the way starts from: Source.Via is built from them in
// O(MaxVia), however long the way.
type reached struct {
	group       *indexGroup
	from        int32
	depth, root int32
}

// resolveScratch is reused between resolutions. Roles come out in id order
// without sorting grants: ranks are dense, so a bitset of the ranks present
// orders the roles and a chain per rank collects each role's grants.
type resolveScratch struct {
	grants []grant
	head   []int32 // per rank: first grant, -1 when none
	tail   []int32 // per rank: last grant
	bits   []uint64
	reach  []reached                // nested group roles: every group the user is in, each once
	seen   map[*indexGroup]struct{} // of reach, when it grows past a linear scan
	maps   []*MappingInfo           // the IdP role mappings grants name
	rules  []*RuleInfo              // the attribute rules grants name
}

var scratchPool = sync.Pool{New: func() any { return &resolveScratch{} }}

func (sc *resolveScratch) reset(ranks int) {
	sc.grants = sc.grants[:0]
	sc.reach = sc.reach[:0]
	sc.maps = sc.maps[:0]
	sc.rules = sc.rules[:0]
	if len(sc.head) < ranks {
		sc.head = make([]int32, ranks)
		sc.tail = make([]int32, ranks)
		for i := range sc.head {
			sc.head[i] = -1
		}
		sc.bits = make([]uint64, (ranks+63)/64)
	}
}

func (sc *resolveScratch) add(g grant) {
	i := int32(len(sc.grants))
	g.next = -1
	sc.grants = append(sc.grants, g)
	r := g.role.rank
	if sc.head[r] < 0 {
		sc.head[r] = i
		sc.bits[r/64] |= 1 << (r % 64)
	} else {
		sc.grants[sc.tail[r]].next = i
	}
	sc.tail[r] = i
}

// answerScratch holds a resolution's roles and sources when the caller
// encodes it at once and lets it go (the login query): reusing them keeps
// the hot path from allocating its biggest slices per answer.
type answerScratch struct {
	roles   []EffectiveRole
	sources []Source
}

// resolve answers for one user. With buf, the answer's slices are carved
// from buf and valid only until buf is used again. Without sources the
// roles carry no Sources (an answer that leaves them out need not build
// them): only their Scope.
func (ix *Index) resolve(u *indexUser, orgID string, buf *answerScratch, sources bool) (Resolution, error) {
	res := Resolution{UserID: u.id, ConnectionID: u.connectionID, Active: u.active}
	var o *indexOrg
	effectiveInOrg := false
	if orgID != "" {
		if o = ix.orgs[orgID]; o == nil {
			return Resolution{}, &SubjectError{ErrOrganizationNotFound, "no organization with id " + orgID}
		}
		auto := o.connections[u.connectionID]
		res.Organization = &OrganizationStatus{ID: orgID, Member: o.members[u.id] || auto, AutoMembership: auto}
		effectiveInOrg = auto
	}
	if !u.active || o != nil && !res.Organization.Member {
		return res, nil
	}

	sc := scratchPool.Get().(*resolveScratch)
	sc.reset(len(ix.roles))
	ix.grant(sc, u, o, effectiveInOrg)
	if len(sc.grants) > 0 {
		res.Roles = sc.fold(buf, sources)
	}
	scratchPool.Put(sc)
	return res, nil
}

// grant collects in sc every role u holds, each with how (directly or
// through which group, reached how, at which scope): inside organization o
// (nil: none) its member and group roles, the tenant's roles outside one or
// as the tenant setting says, nested group roles as it says.
// effectiveInOrg: u's connection has auto-membership in o.
func (ix *Index) grant(sc *resolveScratch, u *indexUser, o *indexOrg, effectiveInOrg bool) {
	// Tenant roles answer a login without an organization; inside one,
	// only when the tenant setting tenant_roles_in_organizations says so.
	tenant := o == nil || ix.tenantInOrgs
	if tenant {
		for _, r := range u.roles {
			sc.add(newGrant(r, nil, false, -1))
		}
		for _, g := range u.groups {
			for _, r := range g.roles {
				sc.add(newGrant(r, g, false, -1))
			}
		}
	}
	if ix.nested && (tenant || effectiveInOrg) {
		sc.reachAncestors(u.groups)
		for i := len(u.groups); tenant && i < len(sc.reach); i++ { // u.groups granted above
			for _, r := range sc.reach[i].group.roles {
				sc.add(newGrant(r, sc.reach[i].group, false, int32(i)))
			}
		}
	}
	if len(u.idpValues) > 0 {
		ix.grantMapped(sc, u, o, tenant, effectiveInOrg)
	}
	if len(u.rules) > 0 {
		ix.grantRules(sc, u, o, tenant, effectiveInOrg)
	}
	if o != nil {
		for _, r := range o.memberRoles[u.id] {
			sc.add(newGrant(r, nil, true, -1))
		}
		// Organization group roles take effect only with auto-membership.
		if effectiveInOrg {
			for _, g := range u.groups {
				for _, r := range g.orgRoles[o] {
					sc.add(newGrant(r, g, true, -1))
				}
			}
			for i := len(u.groups); i < len(sc.reach); i++ {
				for _, r := range sc.reach[i].group.orgRoles[o] {
					sc.add(newGrant(r, sc.reach[i].group, true, int32(i)))
				}
			}
		}
	}
}

// grantMapped adds the roles IdP role mappings of u's connection give u's
// roles and entitlements values: tenant mappings where tenant roles apply,
// o's mappings as o's group roles are, only with auto-membership.
func (ix *Index) grantMapped(sc *resolveScratch, u *indexUser, o *indexOrg, tenant, effectiveInOrg bool) {
	byValue := ix.mappingsByValue[u.connectionID]
	if byValue == nil {
		return
	}
	for _, v := range u.idpValues {
		for _, m := range byValue[v] {
			if m.org == nil && tenant || m.org != nil && m.org == o && effectiveInOrg {
				sc.add(newGrant(m.role, nil, m.org != nil, int32(len(sc.maps))))
				sc.maps = append(sc.maps, m.info)
			}
		}
	}
}

// fold turns sc's grants into the effective roles, in rank (role id) order,
// each once with its scope and, when asked, its sources in canonical order.
// With buf, the slices are carved from buf (see resolve). It leaves sc's
// bits and heads clear for the next resolution.
func (sc *resolveScratch) fold(buf *answerScratch, sources bool) []EffectiveRole {
	n := len(sc.grants)
	var roles []EffectiveRole
	distinct := 0
	for _, w := range sc.bits {
		distinct += bits.OnesCount64(w)
	}
	// Sized once: the roles' Sources are windows into all.
	var all []Source
	if buf != nil {
		roles = slices.Grow(buf.roles[:0], distinct)
		if sources {
			all = slices.Grow(buf.sources[:0], n)
			buf.sources = all[:0]
		}
		buf.roles = roles[:0]
	} else {
		roles = make([]EffectiveRole, 0, distinct)
		if sources {
			all = make([]Source, 0, n)
		}
	}
	for wi, w := range sc.bits {
		for w != 0 {
			rank := wi*64 + bits.TrailingZeros64(w)
			w &= w - 1
			role := EffectiveRole{RoleInfo: sc.grants[sc.head[rank]].role.info, Scope: ScopeOrganization}
			if sources {
				start := len(all)
				for i := sc.head[rank]; i >= 0; i = sc.grants[i].next {
					all = append(all, sc.source(sc.grants[i]))
				}
				role.Sources = all[start:len(all):len(all)]
				sortSources(role.Sources)
				if !role.Sources[0].Organization { // sorted: a tenant source comes first
					role.Scope = ScopeTenant
				}
			} else {
				for i := sc.head[rank]; i >= 0; i = sc.grants[i].next {
					if !sc.grants[i].org() {
						role.Scope = ScopeTenant
						break
					}
				}
			}
			roles = append(roles, role)
			sc.head[rank] = -1
		}
		sc.bits[wi] = 0
	}
	return roles
}

func (sc *resolveScratch) source(g grant) Source {
	s := Source{Organization: g.org()}
	if g.group != nil {
		s.Group = g.group.info
		if i := g.reach(); i >= 0 {
			s.Group = sc.nested(s.Group, i)
		}
	} else if i := g.reach(); i >= 0 && g.rule() {
		s.Rule = sc.rules[i]
	} else if i >= 0 {
		s.Mapping = sc.maps[i]
	}
	return s
}

// nested copies a group's info with the path that reaches it: from the
// user's own group to reach entry i, exclusive, shortened to MaxVia groups
// (see Source.Via).
func (sc *resolveScratch) nested(info *GroupInfo, i int32) *GroupInfo {
	c := *info
	n := sc.reach[i].depth
	c.viaLength = int(n)
	keep := min(n, MaxVia)
	if keep < n {
		keep-- // room for the user's own group, added last
	}
	c.via = make([]*GroupInfo, 0, min(n, MaxVia))
	for j := sc.reach[i].from; j >= 0 && int32(len(c.via)) < keep; j = sc.reach[j].from {
		c.via = append(c.via, sc.reach[j].group.info)
	}
	if keep < n {
		c.via = append(c.via, sc.reach[sc.reach[i].root].group.info)
	}
	slices.Reverse(c.via)
	return &c
}

// reachAncestors fills sc.reach with the user's groups, then the groups
// that contain them, transitively, breadth first: each group once, by its
// shortest path. Membership cycles end where they meet a group already
// reached.
func (sc *resolveScratch) reachAncestors(direct []*indexGroup) {
	for _, g := range direct {
		sc.reach = append(sc.reach, reached{group: g, from: -1})
	}
	// Start from the user's groups in id order (parents are kept in id
	// order too): where two shortest paths reach a group, the answer names
	// the same one whatever order the memberships were made in.
	slices.SortFunc(sc.reach, func(a, b reached) int { return strings.Compare(a.group.info.ID, b.group.info.ID) })
	for i := range sc.reach {
		sc.reach[i].root = int32(i)
	}
	const linear = 32 // below this many groups a scan beats a map
	clear(sc.seen)
	seen := func(g *indexGroup) bool {
		if len(sc.reach) <= linear {
			return slices.ContainsFunc(sc.reach, func(n reached) bool { return n.group == g })
		}
		if len(sc.seen) == 0 {
			if sc.seen == nil {
				sc.seen = make(map[*indexGroup]struct{}, 2*len(sc.reach))
			}
			for _, n := range sc.reach {
				sc.seen[n.group] = struct{}{}
			}
		}
		_, ok := sc.seen[g]
		return ok
	}
	for i := 0; i < len(sc.reach); i++ {
		for _, p := range sc.reach[i].group.parents {
			if !seen(p) {
				below := sc.reach[i]
				sc.reach = append(sc.reach, reached{group: p, from: int32(i), depth: below.depth + 1, root: below.root})
				if len(sc.seen) > 0 {
					sc.seen[p] = struct{}{}
				}
			}
		}
	}
}

// sortSources orders one role's sources: tenant before organization, then
// direct, groups by id, IdP role mappings by value then id, rules by name
// then id. A role has few
// sources; insertion sort it is.
func sortSources(s []Source) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && sourceLess(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func sourceLess(a, b Source) bool {
	if a.Organization != b.Organization {
		return !a.Organization
	}
	if ka, kb := a.kind(), b.kind(); ka != kb {
		return ka < kb
	}
	switch {
	case a.Group != nil:
		return a.Group.ID < b.Group.ID
	case a.Mapping != nil:
		if a.Mapping.Value != b.Mapping.Value {
			return a.Mapping.Value < b.Mapping.Value
		}
		return a.Mapping.ID < b.Mapping.ID
	case a.Rule != nil:
		if a.Rule.Name != b.Rule.Name {
			return a.Rule.Name < b.Rule.Name
		}
		return a.Rule.ID < b.Rule.ID
	}
	return false
}

// kind orders source types: direct, group, idp_role, rule.
func (s Source) kind() int {
	switch {
	case s.Group != nil:
		return 1
	case s.Mapping != nil:
		return 2
	case s.Rule != nil:
		return 3
	}
	return 0
}

// EffectivePermission is a permission a user has, with the roles granting it.
type EffectivePermission struct {
	store.Permission
	Roles  []string // role ids, in role order
	Direct bool     // granted to the user directly, too
}

// Permissions folds the permissions of the resolved roles, sorted by resource
// server then name, keeping only one resource server when it is not "".
func (res Resolution) Permissions(resourceServer string) []EffectivePermission {
	var out []EffectivePermission
	for _, r := range res.Roles {
		for _, p := range r.Permissions {
			if resourceServer != "" && p.ResourceServerIdentifier != resourceServer {
				continue
			}
			out = append(out, EffectivePermission{Permission: p, Roles: []string{r.ID}})
		}
	}
	for _, p := range res.Direct {
		if resourceServer == "" || p.ResourceServerIdentifier == resourceServer {
			out = append(out, EffectivePermission{Permission: p, Direct: true})
		}
	}
	slices.SortStableFunc(out, func(a, b EffectivePermission) int {
		if c := strings.Compare(a.ResourceServerIdentifier, b.ResourceServerIdentifier); c != 0 {
			return c
		}
		return strings.Compare(a.PermissionName, b.PermissionName)
	})
	merged := out[:0]
	for _, p := range out {
		if n := len(merged); n > 0 && merged[n-1].Permission == p.Permission {
			merged[n-1].Roles = append(merged[n-1].Roles, p.Roles...)
			merged[n-1].Direct = merged[n-1].Direct || p.Direct
			continue
		}
		merged = append(merged, p)
	}
	return merged
}
