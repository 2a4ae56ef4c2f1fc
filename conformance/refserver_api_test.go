package conformance_test

// The reference server's Management API: just enough of Rolecall's Auth0-shaped /api/v2 for the
// role scenarios (testdata/roles) to run without a real server. Roles, API keys, organizations
// and bindings live beside the SCIM connections, under the same mutex; effective roles are
// computed on each request from the SCIM users and groups. Like the SCIM half, it is a fixture,
// not a model implementation.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Deliberate Management API defects a test can switch on.
const (
	defectOrgGroupRolesWithoutAutoMembership = "org-group-roles-without-auto-membership" // inert bindings take effect for explicit members
	defectDeactivatedKeepsRoles              = "deactivated-keeps-roles"                 // active=false users keep their roles
	defectRoleDeleteKeepsBindings            = "role-delete-keeps-bindings"              // deleting a role leaves its group bindings
	defectMissingUserIsEmpty                 = "missing-user-is-empty"                   // an unknown subject answers an empty role list
	defectNestedAlwaysOn                     = "nested-always-on"                        // roles flow through member groups whatever the setting
	defectTenantRolesInEveryOrganization     = "tenant-roles-in-every-organization"      // organization answers carry tenant roles whatever the setting
)

const (
	apiPrefix   = "/api/v2"
	revisionHdr = "Rolecall-Revision"
)

type refAPI struct {
	s        *refServer
	mux      *http.ServeMux
	keys     map[string]*apiKey // by secret; the admin key included
	roles    map[string]*refRole
	orgs     map[string]*refOrg
	groupRol map[string]set // group id → role ids, tenant scope
	userRol  map[string]set // user id → role ids, tenant scope (direct)
	logs     []map[string]any
	revision int
	seq      int
	nested   bool                          // the tenant setting nested_group_roles
	apis     map[string]*refResourceServer // resource servers by id
	// tenantInOrgs: the tenant setting tenant_roles_in_organizations.
	tenantInOrgs bool
	mappings     map[string]*refMapping // IdP role mappings by id (refserver_rules_test.go)
	rules        map[string]*refRule    // attribute rules by id
	// effective: each user's effective roles per scope as last recorded, for the
	// user.effective_roles.changed entries (refserver_events_test.go).
	effective map[effectiveKey]effectiveState
}

type apiKey struct {
	id     string
	scopes []string // nil: every scope
}

type refRole struct {
	id, name, description string
	perms                 []permission
}

type permission struct {
	ResourceServer string `json:"resource_server_identifier"`
	Name           string `json:"permission_name"`
}

type refOrg struct {
	id, name    string
	connections map[string]bool // connection id → assign_membership_on_login
	members     set
	memberRoles map[string]set // user id → role ids
	groupRoles  map[string]set // group id → role ids
}

type set map[string]bool

func (s set) sorted() []string { return slices.Sorted(maps.Keys(s)) }

func newRefAPI(s *refServer) *refAPI {
	a := &refAPI{s: s, mux: http.NewServeMux(), keys: map[string]*apiKey{}, roles: map[string]*refRole{}, orgs: map[string]*refOrg{},
		groupRol: map[string]set{}, userRol: map[string]set{}, apis: map[string]*refResourceServer{},
		mappings: map[string]*refMapping{}, rules: map[string]*refRule{}, effective: map[effectiveKey]effectiveState{}}
	a.routes()
	return a
}

// newAPIKey returns the secret of a new key with every scope.
func (s *refServer) newAPIKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	secret := "rck_" + randHex(16)
	s.api.keys[secret] = &apiKey{id: "admin"}
	return secret
}

// apiError is the Management API's error: {"statusCode","error","message","errorCode"}.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func apiFail(status int, code, format string, args ...any) *apiError {
	return &apiError{status, code, fmt.Sprintf(format, args...)}
}

func notFound(kind, id string) *apiError {
	return apiFail(404, "inexistent_"+kind, "no %s %s", kind, id)
}

// apiCall is one authenticated request; the server lock is held while it runs.
type apiCall struct {
	w    http.ResponseWriter
	r    *http.Request
	key  *apiKey
	body []byte
}

func (c *apiCall) decode(v any) error {
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apiFail(400, "invalid_body", "Payload validation error: %v", err)
	}
	return nil
}

func (a *refAPI) handle(pattern, scope string, fn func(c *apiCall) (int, any, error)) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body, _ := readAll(r)
		a.s.mu.Lock()
		defer a.s.mu.Unlock()
		status, out, err := a.serve(w, r, scope, body, fn)
		w.Header().Set(revisionHdr, strconv.Itoa(a.revision))
		if err != nil {
			ae, ok := err.(*apiError)
			if !ok {
				ae = apiFail(500, "internal_error", "%v", err)
			}
			status, out = ae.status, map[string]any{"statusCode": ae.status, "error": http.StatusText(ae.status), "message": ae.msg, "errorCode": ae.code}
		}
		if out == nil {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(out)
	})
}

func (a *refAPI) serve(w http.ResponseWriter, r *http.Request, scope string, body []byte, fn func(c *apiCall) (int, any, error)) (int, any, error) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return 0, nil, apiFail(401, "missing_authorization", "Missing bearer token")
	}
	key := a.keys[strings.TrimSpace(secret)]
	if key == nil {
		return 0, nil, apiFail(401, "invalid_token", "Invalid token")
	}
	if scope != "" && key.scopes != nil && !slices.Contains(key.scopes, scope) {
		return 0, nil, apiFail(403, "insufficient_scope", "Insufficient scope, expected: %s", scope)
	}
	if r.Method != http.MethodGet {
		a.revision++
	}
	return fn(&apiCall{w: w, r: r, key: key, body: body})
}

func readAll(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
}

func (a *refAPI) audit(channel, typ, targetType, targetID string, before, after map[string]any) {
	a.seq++
	e := map[string]any{"id": strconv.Itoa(a.seq), "type": typ, "channel": channel, "target": map[string]any{"type": targetType, "id": targetID}}
	if before != nil {
		e["before"] = before
	}
	if after != nil {
		e["after"] = after
	}
	a.logs = append(a.logs, e)
}

func (a *refAPI) newID(prefix string) string {
	a.seq++
	return fmt.Sprintf("%s_%016d", prefix, a.seq) // ids sort in creation order
}

// user finds a SCIM user of any connection.
func (a *refAPI) user(id string) (*resource, *connection) {
	for _, con := range a.s.connections {
		if u := con.users[id]; u != nil {
			return u, con
		}
	}
	return nil, nil
}

func (a *refAPI) group(id string) (*resource, *connection) {
	for _, con := range a.s.connections {
		if g := con.groups[id]; g != nil {
			return g, con
		}
	}
	return nil, nil
}

func memberIDs(g *resource) []string {
	var ids []string
	members, _ := g.attrs["members"].([]any)
	for _, m := range members {
		if v, ok := m.(map[string]any)["value"].(string); ok {
			ids = append(ids, v)
		}
	}
	return ids
}

// groupsOf lists the groups of con whose direct members include the user, in id order.
func groupsOf(con *connection, userID string) []*resource {
	var out []*resource
	for _, id := range slices.Sorted(maps.Keys(con.groups)) {
		if slices.Contains(memberIDs(con.groups[id]), userID) {
			out = append(out, con.groups[id])
		}
	}
	return out
}

func (a *refAPI) checkRoles(ids []string) error {
	for _, id := range ids {
		if a.roles[id] == nil {
			return notFound("role", id)
		}
	}
	return nil
}

func roleJSON(r *refRole) map[string]any {
	return map[string]any{"id": r.id, "name": r.name, "description": r.description}
}

func (a *refAPI) rolesJSON(ids set) []any {
	out := []any{}
	for _, id := range ids.sorted() {
		out = append(out, roleJSON(a.roles[id]))
	}
	return out
}

func groupJSON(g *resource, con *connection) map[string]any {
	return map[string]any{"id": g.id, "name": g.attrs["displayName"], "connection_id": con.id, "members_count": len(memberIDs(g))}
}

type idsBody struct {
	Roles   []string `json:"roles"`
	Groups  []string `json:"groups"`
	Members []string `json:"members"`
}

func (c *apiCall) ids(field string) ([]string, error) {
	var b idsBody
	if err := c.decode(&b); err != nil {
		return nil, err
	}
	list := map[string][]string{"roles": b.Roles, "groups": b.Groups, "members": b.Members}[field]
	if len(list) == 0 {
		return nil, apiFail(400, "invalid_body", "'%s' must list at least one id", field)
	}
	return list, nil
}

func bind(m map[string]set, owner, id string) bool {
	if m[owner] == nil {
		m[owner] = set{}
	}
	if m[owner][id] {
		return false
	}
	m[owner][id] = true
	return true
}

func unbind(m map[string]set, owner, id string) bool {
	if !m[owner][id] {
		return false
	}
	delete(m[owner], id)
	return true
}

func (a *refAPI) routes() {
	p := apiPrefix
	a.handle("POST "+p+"/roles", "create:roles", a.createRole)
	a.handle("GET "+p+"/roles", "read:roles", a.listRoles)
	a.handle("GET "+p+"/roles/{id}", "read:roles", a.getRole)
	a.handle("PATCH "+p+"/roles/{id}", "update:roles", a.updateRole)
	a.handle("DELETE "+p+"/roles/{id}", "delete:roles", a.deleteRole)
	a.handle("GET "+p+"/roles/{id}/permissions", "read:roles", a.rolePermissions)
	a.handle("POST "+p+"/roles/{id}/permissions", "update:roles", a.rolePermissions)
	a.handle("DELETE "+p+"/roles/{id}/permissions", "update:roles", a.rolePermissions)
	a.handle("GET "+p+"/roles/{id}/groups", "read:roles", a.roleGroups)
	a.handle("POST "+p+"/roles/{id}/groups", "update:groups", a.roleGroups)
	a.handle("DELETE "+p+"/roles/{id}/groups", "update:groups", a.roleGroups)

	a.handle("GET "+p+"/groups/{id}/members", "read:groups", a.groupMembers)
	a.handle("GET "+p+"/groups/{id}/roles", "read:groups", a.groupRoles)
	a.handle("POST "+p+"/groups/{id}/roles", "update:groups", a.groupRoles)
	a.handle("DELETE "+p+"/groups/{id}/roles", "update:groups", a.groupRoles)

	a.handle("GET "+p+"/users/{id}/groups", "read:users", a.userGroups)
	a.handle("GET "+p+"/users/{id}/roles", "read:users", a.userRoles)
	a.handle("POST "+p+"/users/{id}/roles", "update:users", a.userRoles)
	a.handle("DELETE "+p+"/users/{id}/roles", "update:users", a.userRoles)
	a.handle("GET "+p+"/users/{id}/effective-roles", "read:user_effective_roles", a.userEffectiveRoles)
	a.handle("GET "+p+"/users/{id}/effective-permissions", "read:user_effective_roles", a.userEffectivePermissions)
	a.handle("GET "+p+"/organizations/{id}/members/{user_id}/effective-roles", "read:user_effective_roles", a.userEffectiveRoles)
	a.handle("POST "+p+"/effective-roles/query", "read:user_effective_roles", a.query)

	a.handle("POST "+p+"/organizations", "create:organizations", a.createOrganization)
	a.handle("DELETE "+p+"/organizations/{id}", "delete:organizations", a.deleteOrganization)
	a.handle("POST "+p+"/organizations/{id}/enabled_connections", "create:organization_connections", a.enabledConnection)
	a.handle("PATCH "+p+"/organizations/{id}/enabled_connections/{connection_id}", "update:organization_connections", a.enabledConnection)
	a.handle("DELETE "+p+"/organizations/{id}/enabled_connections/{connection_id}", "delete:organization_connections", a.enabledConnection)
	a.handle("GET "+p+"/organizations/{id}/groups", "read:organization_groups", a.organizationGroups)
	a.handle("GET "+p+"/organizations/{id}/members", "read:organization_members", a.organizationMembers)
	a.handle("POST "+p+"/organizations/{id}/members", "create:organization_members", a.organizationMembers)
	a.handle("DELETE "+p+"/organizations/{id}/members", "delete:organization_members", a.organizationMembers)
	a.handle("GET "+p+"/organizations/{id}/members/{user_id}/roles", "read:organization_member_roles", a.organizationMemberRoles)
	a.handle("POST "+p+"/organizations/{id}/members/{user_id}/roles", "create:organization_member_roles", a.organizationMemberRoles)
	a.handle("DELETE "+p+"/organizations/{id}/members/{user_id}/roles", "delete:organization_member_roles", a.organizationMemberRoles)
	a.handle("GET "+p+"/organizations/{id}/groups/{group_id}/roles", "read:organization_groups", a.organizationGroupRoles)
	a.handle("POST "+p+"/organizations/{id}/groups/{group_id}/roles", "create:organization_group_roles", a.organizationGroupRoles)
	a.handle("DELETE "+p+"/organizations/{id}/groups/{group_id}/roles", "delete:organization_group_roles", a.organizationGroupRoles)

	a.handle("GET "+p+"/tenants/settings", "read:tenant_settings", a.tenantSettings)
	a.handle("PATCH "+p+"/tenants/settings", "update:tenant_settings", a.tenantSettings)

	a.handle("POST "+p+"/api-keys", "create:api_keys", a.createAPIKey)
	a.handle("DELETE "+p+"/api-keys/{id}", "delete:api_keys", a.deleteAPIKey)
	a.handle("GET "+p+"/logs", "read:logs", a.listLogs)
	a.resourceServerRoutes(p)
	a.ruleRoutes(p)
	a.handle(p+"/", "", func(c *apiCall) (int, any, error) {
		return 0, nil, apiFail(404, "not_found", "no endpoint %s %s", c.r.Method, c.r.URL.Path)
	})
}

func (a *refAPI) createRole(c *apiCall) (int, any, error) {
	var b struct{ Name, Description string }
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	for _, r := range a.roles {
		if strings.EqualFold(r.name, b.Name) {
			return 0, nil, apiFail(409, "role_conflict", "role %q exists", b.Name)
		}
	}
	r := &refRole{id: a.newID("rol"), name: b.Name, description: b.Description}
	a.roles[r.id] = r
	return 201, roleJSON(r), nil
}

func (a *refAPI) listRoles(c *apiCall) (int, any, error) {
	q := c.r.URL.Query()
	for name := range q {
		if !slices.Contains([]string{"name_filter", "page", "per_page", "include_totals"}, name) {
			return 0, nil, apiFail(400, "invalid_query_string", "query parameter %q is not supported", name)
		}
	}
	filter := strings.ToLower(q.Get("name_filter"))
	out := []any{}
	for _, id := range slices.Sorted(maps.Keys(a.roles)) {
		if strings.Contains(strings.ToLower(a.roles[id].name), filter) {
			out = append(out, roleJSON(a.roles[id]))
		}
	}
	// Auth0's index paging: page p of per_page items, with totals on request.
	page, perPage := 0, 50
	if v := q.Get("page"); v != "" {
		page, _ = strconv.Atoi(v)
	}
	if v := q.Get("per_page"); v != "" {
		perPage, _ = strconv.Atoi(v)
	}
	if page < 0 || perPage < 1 || perPage > 100 {
		return 0, nil, apiFail(400, "invalid_query_string", "page or per_page out of range")
	}
	total := len(out)
	start := min(page*perPage, total)
	answer := map[string]any{"roles": out[start:min(start+perPage, total)]}
	if q.Get("include_totals") == "true" {
		answer["start"], answer["limit"], answer["total"] = page*perPage, perPage, total
	}
	return 200, answer, nil
}

func (a *refAPI) getRole(c *apiCall) (int, any, error) {
	r := a.roles[c.r.PathValue("id")]
	if r == nil {
		return 0, nil, notFound("role", c.r.PathValue("id"))
	}
	return 200, roleJSON(r), nil
}

func (a *refAPI) updateRole(c *apiCall) (int, any, error) {
	r := a.roles[c.r.PathValue("id")]
	if r == nil {
		return 0, nil, notFound("role", c.r.PathValue("id"))
	}
	var b struct{ Name, Description *string }
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	if b.Name != nil {
		r.name = *b.Name
	}
	if b.Description != nil {
		r.description = *b.Description
	}
	return 200, roleJSON(r), nil
}

// deleteRole deletes the role and every binding of it, each audited as a cascade.
func (a *refAPI) deleteRole(c *apiCall) (int, any, error) {
	id := c.r.PathValue("id")
	if a.roles[id] == nil {
		return 0, nil, notFound("role", id)
	}
	if !a.s.defects[defectRoleDeleteKeepsBindings] {
		for _, g := range slices.Sorted(maps.Keys(a.groupRol)) {
			if unbind(a.groupRol, g, id) {
				a.audit("cascade", "group.role.deleted", "group", g, map[string]any{"role_id": id}, nil)
			}
		}
	}
	for _, u := range slices.Sorted(maps.Keys(a.userRol)) {
		if unbind(a.userRol, u, id) {
			a.audit("cascade", "user.role.deleted", "user", u, map[string]any{"role_id": id}, nil)
		}
	}
	for _, o := range a.orgs {
		for _, g := range slices.Sorted(maps.Keys(o.groupRoles)) {
			if unbind(o.groupRoles, g, id) {
				a.audit("cascade", "organization.group.role.deleted", "organization", o.id, map[string]any{"group_id": g, "role_id": id}, nil)
			}
		}
		for _, u := range slices.Sorted(maps.Keys(o.memberRoles)) {
			if unbind(o.memberRoles, u, id) {
				a.audit("cascade", "organization.member.role.deleted", "organization", o.id, map[string]any{"user_id": u, "role_id": id}, nil)
			}
		}
	}
	a.roleDeletedFromRules(id)
	delete(a.roles, id)
	a.audit("api", "role.deleted", "role", id, map[string]any{"id": id}, nil)
	return 204, nil, nil
}

func (a *refAPI) rolePermissions(c *apiCall) (int, any, error) {
	r := a.roles[c.r.PathValue("id")]
	if r == nil {
		return 0, nil, notFound("role", c.r.PathValue("id"))
	}
	if c.r.Method == http.MethodGet {
		return 200, map[string]any{"permissions": append([]permission{}, r.perms...)}, nil
	}
	var b struct{ Permissions []permission }
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	if c.r.Method == http.MethodDelete {
		r.perms = slices.DeleteFunc(r.perms, func(p permission) bool { return slices.Contains(b.Permissions, p) })
		return 204, nil, nil
	}
	for _, p := range b.Permissions {
		if err := a.checkPermission(p); err != nil {
			return 0, nil, err
		}
	}
	for _, p := range b.Permissions {
		if !slices.Contains(r.perms, p) {
			r.perms = append(r.perms, p)
		}
	}
	return 201, nil, nil
}

func (a *refAPI) roleGroups(c *apiCall) (int, any, error) {
	id := c.r.PathValue("id")
	if a.roles[id] == nil {
		return 0, nil, notFound("role", id)
	}
	if c.r.Method == http.MethodGet {
		out := []any{}
		for _, g := range slices.Sorted(maps.Keys(a.groupRol)) {
			if a.groupRol[g][id] {
				res, con := a.group(g)
				out = append(out, groupJSON(res, con))
			}
		}
		return 200, map[string]any{"groups": out}, nil
	}
	groups, err := c.ids("groups")
	if err != nil {
		return 0, nil, err
	}
	for _, g := range groups {
		if res, _ := a.group(g); res == nil {
			return 0, nil, notFound("group", g)
		}
	}
	for _, g := range groups {
		a.bindGroupRole(c.r.Method == http.MethodPost, g, id)
	}
	return 204, nil, nil
}

func (a *refAPI) bindGroupRole(add bool, g, r string) {
	if add && bind(a.groupRol, g, r) {
		a.audit("api", "group.role.assigned", "group", g, nil, map[string]any{"role_id": r})
	}
	if !add && unbind(a.groupRol, g, r) {
		a.audit("api", "group.role.deleted", "group", g, map[string]any{"role_id": r}, nil)
	}
}

func (a *refAPI) groupMembers(c *apiCall) (int, any, error) {
	g, con := a.group(c.r.PathValue("id"))
	if g == nil {
		return 0, nil, notFound("group", c.r.PathValue("id"))
	}
	out := []any{}
	for _, id := range memberIDs(g) {
		if u := con.users[id]; u != nil {
			out = append(out, map[string]any{"user_id": id, "user_name": u.attrs["userName"], "active": u.attrs["active"] != false, "type": "user"})
		} else if sub := con.groups[id]; sub != nil {
			out = append(out, map[string]any{"user_id": id, "user_name": sub.attrs["displayName"], "active": true, "type": "group"})
		}
	}
	return 200, map[string]any{"members": out}, nil
}

func (a *refAPI) groupRoles(c *apiCall) (int, any, error) {
	g := c.r.PathValue("id")
	if res, _ := a.group(g); res == nil {
		return 0, nil, notFound("group", g)
	}
	if c.r.Method == http.MethodGet {
		return 200, map[string]any{"roles": a.rolesJSON(a.groupRol[g])}, nil
	}
	roles, err := c.ids("roles")
	if err == nil {
		err = a.checkRoles(roles)
	}
	if err != nil {
		return 0, nil, err
	}
	for _, r := range roles {
		a.bindGroupRole(c.r.Method == http.MethodPost, g, r)
	}
	return 204, nil, nil
}

func (a *refAPI) userGroups(c *apiCall) (int, any, error) {
	u, con := a.user(c.r.PathValue("id"))
	if u == nil {
		return 0, nil, notFound("user", c.r.PathValue("id"))
	}
	out := []any{}
	for _, g := range groupsOf(con, u.id) {
		out = append(out, groupJSON(g, con))
	}
	return 200, map[string]any{"groups": out}, nil
}

func (a *refAPI) userRoles(c *apiCall) (int, any, error) {
	id := c.r.PathValue("id")
	if u, _ := a.user(id); u == nil {
		return 0, nil, notFound("user", id)
	}
	if c.r.Method == http.MethodGet {
		return 200, map[string]any{"roles": a.rolesJSON(a.userRol[id])}, nil
	}
	roles, err := c.ids("roles")
	if err == nil {
		err = a.checkRoles(roles)
	}
	if err != nil {
		return 0, nil, err
	}
	for _, r := range roles {
		if c.r.Method == http.MethodPost && bind(a.userRol, id, r) {
			a.audit("api", "user.role.assigned", "user", id, nil, map[string]any{"role_id": r})
		}
		if c.r.Method == http.MethodDelete && unbind(a.userRol, id, r) {
			a.audit("api", "user.role.deleted", "user", id, map[string]any{"role_id": r}, nil)
		}
	}
	return 204, nil, nil
}

// resolution is one user's effective roles, in the shape of both answers.
type resolution struct {
	user        *resource
	con         *connection
	org         map[string]any // nil without an organization
	roles       []map[string]any
	permissions []permission
	permRoles   map[permission][]string
}

// resolve computes effective roles as DESIGN §2 defines them; an unresolvable subject is an
// *apiError whose code is the query's errorCode.
func (a *refAPI) resolve(s subject) (*resolution, error) {
	var u *resource
	var con *connection
	switch {
	case s.UserID != "":
		u, con = a.user(s.UserID)
	case s.ConnectionID != "":
		con = a.s.connections[s.ConnectionID]
		for _, cand := range conUsers(con) {
			if s.UserName != "" && strings.EqualFold(cand.attrs["userName"].(string), s.UserName) ||
				s.ExternalID != "" && cand.attrs["externalId"] == s.ExternalID {
				u = cand
			}
		}
	}
	if u == nil {
		return nil, apiFail(404, "user_not_found", "no such user")
	}
	var o *refOrg
	if s.OrganizationID != "" {
		if o = a.orgs[s.OrganizationID]; o == nil {
			return nil, apiFail(404, "organization_not_found", "no organization %s", s.OrganizationID)
		}
	}
	return a.resolveIn(u, con, o), nil
}

// resolveIn computes the effective roles of user u of connection con, in organization o or, with
// o nil, at tenant scope.
func (a *refAPI) resolveIn(u *resource, con *connection, o *refOrg) *resolution {
	res := &resolution{user: u, con: con, roles: []map[string]any{}, permRoles: map[permission][]string{}}
	auto, member := false, true
	if o != nil {
		auto = o.connections[con.id]
		member = o.members[u.id] || auto
		res.org = map[string]any{"id": o.id, "member": member, "auto_membership": auto}
	}
	active := u.attrs["active"] != false
	if (!active && !a.s.defects[defectDeactivatedKeepsRoles]) || !member {
		return res
	}
	sources := map[string][]map[string]any{}
	add := func(roles set, src map[string]any) {
		for r := range roles {
			sources[r] = append(sources[r], src)
		}
	}
	reached := a.reach(con, u.id)
	groupSource := func(r reachedGroup, scope string) map[string]any {
		src := map[string]any{"type": "group", "group_id": r.group.id, "group_name": r.group.attrs["displayName"], "scope": scope}
		if len(r.via) > 0 {
			src["via"] = r.via
		}
		return src
	}
	// Inside an organization, tenant roles only with the tenant setting.
	if o == nil || a.tenantInOrgs || a.s.defects[defectTenantRolesInEveryOrganization] {
		add(a.userRol[u.id], map[string]any{"type": "direct", "scope": "tenant"})
		for _, r := range reached {
			add(a.groupRol[r.group.id], groupSource(r, "tenant"))
		}
		a.grantMappedAndRuled(u, con, nil, add)
	}
	if o != nil {
		add(o.memberRoles[u.id], map[string]any{"type": "direct", "scope": "organization"})
		if auto || a.s.defects[defectOrgGroupRolesWithoutAutoMembership] {
			for _, r := range reached {
				add(o.groupRoles[r.group.id], groupSource(r, "organization"))
			}
		}
		if auto || a.s.defects[defectOrgRulesWithoutAutoMembership] {
			a.grantMappedAndRuled(u, con, o, add)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(sources)) {
		r := a.roles[id]
		if r == nil { // a binding left behind by defectRoleDeleteKeepsBindings
			continue
		}
		scope := "organization"
		for _, src := range sources[id] {
			if src["scope"] == "tenant" {
				scope = "tenant"
			}
		}
		res.roles = append(res.roles, map[string]any{"id": id, "name": r.name, "description": r.description, "scope": scope, "sources": sources[id]})
		for _, p := range r.perms {
			if res.permRoles[p] == nil {
				res.permissions = append(res.permissions, p)
			}
			res.permRoles[p] = append(res.permRoles[p], id)
		}
	}
	slices.SortFunc(res.permissions, func(x, y permission) int {
		return strings.Compare(x.ResourceServer+"\x00"+x.Name, y.ResourceServer+"\x00"+y.Name)
	})
	return res
}

// reachedGroup is a group whose roles reach a user: one of the user's own groups, or, with nested
// group roles on, a group containing one, by the groups in between (via).
type reachedGroup struct {
	group *resource
	via   []any // [{group_id, group_name}], from the user's own group up
}

// reach lists the user's groups and, with nested group roles on, the groups containing them,
// breadth first, each once: a membership cycle ends where it meets a group already reached.
func (a *refAPI) reach(con *connection, userID string) []reachedGroup {
	var out []reachedGroup
	seen := map[string]bool{}
	for _, g := range groupsOf(con, userID) {
		out = append(out, reachedGroup{group: g})
		seen[g.id] = true
	}
	nested := a.nested || a.s.defects[defectNestedAlwaysOn]
	for i := 0; nested && i < len(out); i++ {
		for _, parent := range groupsOf(con, out[i].group.id) {
			if seen[parent.id] {
				continue
			}
			seen[parent.id] = true
			via := append(slices.Clone(out[i].via), map[string]any{"group_id": out[i].group.id, "group_name": out[i].group.attrs["displayName"]})
			out = append(out, reachedGroup{group: parent, via: via})
		}
	}
	return out
}

func conUsers(con *connection) []*resource {
	if con == nil {
		return nil
	}
	return slices.Collect(maps.Values(con.users))
}

type subject struct {
	UserID         string `json:"user_id"`
	ConnectionID   string `json:"connection_id"`
	UserName       string `json:"user_name"`
	ExternalID     string `json:"external_id"`
	OrganizationID string `json:"organization_id"`
}

func (a *refAPI) resolveOne(s subject) (*resolution, error) {
	res, err := a.resolve(s)
	if err != nil {
		ae := err.(*apiError)
		if ae.code == "user_not_found" && a.s.defects[defectMissingUserIsEmpty] {
			return &resolution{user: &resource{id: s.UserID, attrs: map[string]any{}}, roles: []map[string]any{}}, nil
		}
		kind := strings.TrimSuffix(ae.code, "_not_found")
		return nil, notFound(kind, s.UserID+s.OrganizationID)
	}
	return res, nil
}

func (a *refAPI) userEffectiveRoles(c *apiCall) (int, any, error) {
	if err := a.minRevision(c.r.URL.Query().Get("min_revision")); err != nil {
		return 0, nil, err
	}
	s := subject{UserID: c.r.PathValue("id")}
	if member := c.r.PathValue("user_id"); member != "" { // /organizations/{id}/members/{user_id}/effective-roles
		s = subject{UserID: member, OrganizationID: c.r.PathValue("id")}
	}
	res, err := a.resolveOne(s)
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{"user_id": res.user.id, "active": res.user.attrs["active"] != false, "roles": res.roles, "revision": a.revision}
	if res.org != nil {
		out["organization"] = res.org
	}
	return 200, out, nil
}

func (a *refAPI) userEffectivePermissions(c *apiCall) (int, any, error) {
	res, err := a.resolveOne(subject{UserID: c.r.PathValue("id"), OrganizationID: c.r.URL.Query().Get("organization_id")})
	if err != nil {
		return 0, nil, err
	}
	rs := c.r.URL.Query().Get("resource_server")
	out := []any{}
	for _, p := range res.permissions {
		if rs == "" || p.ResourceServer == rs {
			out = append(out, map[string]any{"resource_server_identifier": p.ResourceServer, "permission_name": p.Name, "roles": res.permRoles[p]})
		}
	}
	return 200, map[string]any{"user_id": res.user.id, "active": res.user.attrs["active"] != false, "permissions": out}, nil
}

func (a *refAPI) minRevision(s string) error {
	if n, err := strconv.Atoi(s); err == nil && n > a.revision {
		return apiFail(409, "revision_not_reached", "revision %d not reached (current %d)", n, a.revision)
	}
	return nil
}

func (a *refAPI) query(c *apiCall) (int, any, error) {
	var q struct {
		Subjects       []subject `json:"subjects"`
		MinRevision    int       `json:"min_revision"`
		ResourceServer string    `json:"resource_server"`
	}
	if err := c.decode(&q); err != nil {
		return 0, nil, err
	}
	if len(q.Subjects) == 0 || len(q.Subjects) > 100 {
		return 0, nil, apiFail(400, "invalid_body", "'subjects' must list 1 to 100 subjects")
	}
	if err := a.minRevision(strconv.Itoa(q.MinRevision)); err != nil {
		return 0, nil, err
	}
	results := []any{}
	for _, s := range q.Subjects {
		res, err := a.resolve(s)
		if err != nil {
			if ae := err.(*apiError); ae.code != "user_not_found" || !a.s.defects[defectMissingUserIsEmpty] {
				results = append(results, map[string]any{"subject": s, "error": map[string]any{"errorCode": ae.code, "message": ae.msg}})
				continue
			}
			res = &resolution{user: &resource{id: s.UserID, attrs: map[string]any{}}, con: &connection{}, roles: []map[string]any{}}
		}
		names, perms, claimPerms := []any{}, []any{}, []any{}
		for _, r := range res.roles {
			names = append(names, r["name"])
		}
		for _, p := range res.permissions {
			if q.ResourceServer == "" || p.ResourceServer == q.ResourceServer {
				perms = append(perms, p)
				if !slices.Contains(claimPerms, any(p.Name)) {
					claimPerms = append(claimPerms, p.Name)
				}
			}
		}
		out := map[string]any{
			"user":        map[string]any{"id": res.user.id, "connection_id": res.con.id, "active": res.user.attrs["active"] != false},
			"roles":       res.roles,
			"permissions": perms,
			"claims":      map[string]any{"roles": names, "permissions": claimPerms},
		}
		if res.org != nil {
			out["organization"] = res.org
		}
		results = append(results, out)
	}
	return 200, map[string]any{"results": results, "revision": a.revision}, nil
}

func (a *refAPI) createOrganization(c *apiCall) (int, any, error) {
	var b struct {
		Name        string `json:"name"`
		DisplayName string `json:"display_name"`
	}
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	o := &refOrg{id: a.newID("org"), name: b.Name, connections: map[string]bool{}, members: set{}, memberRoles: map[string]set{}, groupRoles: map[string]set{}}
	a.orgs[o.id] = o
	return 201, map[string]any{"id": o.id, "name": o.name, "display_name": b.DisplayName}, nil
}

func (a *refAPI) org(c *apiCall) (*refOrg, error) {
	o := a.orgs[c.r.PathValue("id")]
	if o == nil {
		return nil, notFound("organization", c.r.PathValue("id"))
	}
	return o, nil
}

// deleteOrganization deletes it with its bindings, each audited as a cascade.
func (a *refAPI) deleteOrganization(c *apiCall) (int, any, error) {
	o, err := a.org(c)
	if err != nil {
		return 0, nil, err
	}
	for _, g := range slices.Sorted(maps.Keys(o.groupRoles)) {
		for _, r := range o.groupRoles[g].sorted() {
			a.audit("cascade", "organization.group.role.deleted", "organization", o.id, map[string]any{"group_id": g, "role_id": r}, nil)
		}
	}
	for _, u := range slices.Sorted(maps.Keys(o.memberRoles)) {
		for _, r := range o.memberRoles[u].sorted() {
			a.audit("cascade", "organization.member.role.deleted", "organization", o.id, map[string]any{"user_id": u, "role_id": r}, nil)
		}
	}
	a.organizationDeletedFromRules(o.id)
	delete(a.orgs, o.id)
	return 204, nil, nil
}

func (a *refAPI) enabledConnection(c *apiCall) (int, any, error) {
	o, err := a.org(c)
	if err != nil {
		return 0, nil, err
	}
	conID := c.r.PathValue("connection_id")
	if c.r.Method != http.MethodPost {
		if _, ok := o.connections[conID]; !ok {
			return 0, nil, notFound("connection", conID)
		}
	}
	var b struct {
		ConnectionID            string `json:"connection_id"`
		AssignMembershipOnLogin bool   `json:"assign_membership_on_login"`
	}
	switch c.r.Method {
	case http.MethodDelete:
		delete(o.connections, conID)
		return 204, nil, nil
	case http.MethodPost:
		if err := c.decode(&b); err != nil {
			return 0, nil, err
		}
		if a.s.connections[b.ConnectionID] == nil {
			return 0, nil, notFound("connection", b.ConnectionID)
		}
		conID = b.ConnectionID
	default:
		if err := c.decode(&b); err != nil {
			return 0, nil, err
		}
	}
	o.connections[conID] = b.AssignMembershipOnLogin
	return map[string]int{http.MethodPost: 201, http.MethodPatch: 200}[c.r.Method],
		map[string]any{"connection_id": conID, "assign_membership_on_login": b.AssignMembershipOnLogin}, nil
}

func (a *refAPI) organizationGroups(c *apiCall) (int, any, error) {
	o, err := a.org(c)
	if err != nil {
		return 0, nil, err
	}
	search := strings.ToLower(c.r.URL.Query().Get("search"))
	out := []any{}
	for _, conID := range slices.Sorted(maps.Keys(o.connections)) {
		con := a.s.connections[conID]
		for _, id := range slices.Sorted(maps.Keys(con.groups)) {
			if !strings.Contains(strings.ToLower(con.groups[id].attrs["displayName"].(string)), search) {
				continue
			}
			g := groupJSON(con.groups[id], con)
			g["auto_membership"] = o.connections[conID]
			out = append(out, g)
		}
	}
	return 200, map[string]any{"groups": out}, nil
}

func (a *refAPI) organizationMembers(c *apiCall) (int, any, error) {
	o, err := a.org(c)
	if err != nil {
		return 0, nil, err
	}
	if c.r.Method == http.MethodGet {
		out := []any{}
		for _, id := range o.members.sorted() {
			out = append(out, map[string]any{"user_id": id})
		}
		return 200, map[string]any{"members": out}, nil
	}
	members, err := c.ids("members")
	if err != nil {
		return 0, nil, err
	}
	for _, id := range members {
		if u, _ := a.user(id); u == nil {
			return 0, nil, notFound("user", id)
		}
	}
	for _, id := range members {
		if c.r.Method == http.MethodPost {
			o.members[id] = true
			continue
		}
		delete(o.members, id)
		delete(o.memberRoles, id)
	}
	return 204, nil, nil
}

func (a *refAPI) organizationMemberRoles(c *apiCall) (int, any, error) {
	o, err := a.org(c)
	if err != nil {
		return 0, nil, err
	}
	uid := c.r.PathValue("user_id")
	u, con := a.user(uid)
	if u == nil {
		return 0, nil, notFound("user", uid)
	}
	if c.r.Method == http.MethodGet {
		return 200, map[string]any{"roles": a.rolesJSON(o.memberRoles[uid])}, nil
	}
	roles, err := c.ids("roles")
	if err == nil {
		err = a.checkRoles(roles)
	}
	if err != nil {
		return 0, nil, err
	}
	if c.r.Method == http.MethodPost && !o.members[uid] && !o.connections[con.id] {
		return 0, nil, apiFail(404, "inexistent_organization_member", "user %s is not a member of %s", uid, o.id)
	}
	for _, r := range roles {
		if c.r.Method == http.MethodPost {
			bind(o.memberRoles, uid, r)
		} else {
			unbind(o.memberRoles, uid, r)
		}
	}
	return 204, nil, nil
}

func (a *refAPI) organizationGroupRoles(c *apiCall) (int, any, error) {
	o, err := a.org(c)
	if err != nil {
		return 0, nil, err
	}
	gid := c.r.PathValue("group_id")
	g, con := a.group(gid)
	if g == nil {
		return 0, nil, notFound("group", gid)
	}
	auto, enabled := o.connections[con.id]
	if c.r.Method == http.MethodGet {
		// A group whose connection is not enabled is no Organization Group:
		// reading is the same 404 as binding.
		if !enabled {
			return 0, nil, notFound("organization_group", gid)
		}
		out := []any{}
		for _, id := range o.groupRoles[gid].sorted() {
			r := roleJSON(a.roles[id])
			r["effective"] = auto
			if !auto {
				r["reason"] = "auto_membership_disabled"
			}
			out = append(out, r)
		}
		return 200, map[string]any{"roles": out}, nil
	}
	roles, err := c.ids("roles")
	if err == nil {
		err = a.checkRoles(roles)
	}
	if err != nil {
		return 0, nil, err
	}
	if c.r.Method == http.MethodPost && !enabled {
		return 0, nil, notFound("organization_group", gid)
	}
	for _, r := range roles {
		if c.r.Method == http.MethodPost {
			bind(o.groupRoles, gid, r)
		} else if unbind(o.groupRoles, gid, r) {
			a.audit("api", "organization.group.role.deleted", "organization", o.id, map[string]any{"group_id": gid, "role_id": r}, nil)
		}
	}
	return 204, nil, nil
}

func (a *refAPI) tenantSettings(c *apiCall) (int, any, error) {
	if c.r.Method == http.MethodPatch {
		var b struct {
			Flags struct {
				NestedGroupRoles           *bool `json:"nested_group_roles"`
				TenantRolesInOrganizations *bool `json:"tenant_roles_in_organizations"`
			} `json:"flags"`
		}
		if err := c.decode(&b); err != nil {
			return 0, nil, err
		}
		if b.Flags.NestedGroupRoles != nil {
			a.nested = *b.Flags.NestedGroupRoles
		}
		if b.Flags.TenantRolesInOrganizations != nil {
			a.tenantInOrgs = *b.Flags.TenantRolesInOrganizations
		}
	}
	return 200, map[string]any{"flags": map[string]any{"nested_group_roles": a.nested, "tenant_roles_in_organizations": a.tenantInOrgs}}, nil
}

func (a *refAPI) createAPIKey(c *apiCall) (int, any, error) {
	var b struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	for _, s := range b.Scopes {
		if c.key.scopes != nil && !slices.Contains(c.key.scopes, s) {
			return 0, nil, apiFail(403, "insufficient_scope", "cannot grant %s", s)
		}
	}
	secret := "rck_" + randHex(16)
	k := &apiKey{id: a.newID("key"), scopes: b.Scopes}
	a.keys[secret] = k
	return 201, map[string]any{"id": k.id, "name": b.Name, "scopes": b.Scopes, "key": secret}, nil
}

func (a *refAPI) deleteAPIKey(c *apiCall) (int, any, error) {
	for secret, k := range a.keys {
		if k.id == c.r.PathValue("id") {
			delete(a.keys, secret)
			return 204, nil, nil
		}
	}
	return 0, nil, notFound("api_key", c.r.PathValue("id"))
}

func (a *refAPI) listLogs(c *apiCall) (int, any, error) {
	a.deriveEffective()
	q := c.r.URL.Query()
	out := []any{}
	for _, e := range a.logs {
		if (q.Get("type") == "" || e["type"] == q.Get("type")) && (q.Get("target_id") == "" || e["target"].(map[string]any)["id"] == q.Get("target_id")) {
			out = append(out, e)
		}
	}
	return 200, map[string]any{"logs": out}, nil
}

// resourceDeleted cascades a SCIM DELETE into the bindings of the user or group.
func (a *refAPI) resourceDeleted(rt *resourceType, id string) {
	a.revision++
	if rt == userType {
		for _, r := range a.userRol[id].sorted() {
			a.audit("cascade", "user.role.deleted", "user", id, map[string]any{"role_id": r}, nil)
		}
		delete(a.userRol, id)
		for _, o := range a.orgs {
			delete(o.members, id)
			delete(o.memberRoles, id)
		}
		return
	}
	for _, r := range a.groupRol[id].sorted() {
		a.audit("cascade", "group.role.deleted", "group", id, map[string]any{"role_id": r}, nil)
	}
	delete(a.groupRol, id)
	for _, o := range a.orgs {
		for _, r := range o.groupRoles[id].sorted() {
			a.audit("cascade", "organization.group.role.deleted", "organization", o.id, map[string]any{"group_id": id, "role_id": r}, nil)
		}
		delete(o.groupRoles, id)
	}
}
