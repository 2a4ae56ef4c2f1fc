package conformance_test

// The reference server's IdP role mappings and attribute rules, written from the semantics the
// role scenarios record (Rolecall's README and DESIGN), not from Rolecall's code:
//
//   - A mapping on a connection gives a role to the connection's users whose SCIM roles or
//     entitlements carry its idp_value (whole, case-insensitively), at tenant scope or in one
//     organization; its source is {"type":"idp_role","value","connection_id","scope"}.
//   - A rule gives its roles to the active users whose own attributes match its SCIM filter
//     (parsed when written; groups and meta are not the user's own), of every connection or of
//     one; its source is {"type":"rule","rule_id","rule_name","scope"}.
//   - Organization mappings and rules apply like Organization Group roles: only to users whose
//     connection is enabled on the organization with auto-membership. Tenant ones apply where
//     tenant roles do.
//   - Deleting a role deletes the mappings to it and removes it from rules, deleting a rule left
//     without roles; deleting an organization deletes its mappings and rules.
//
// Effective roles are computed on each request, so every answer reflects every write before it.

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Deliberate defects of mappings and rules.
const (
	defectMappingCaseSensitive          = "mapping-case-sensitive"            // idp_value compared with its case
	defectOrgRulesWithoutAutoMembership = "org-rules-without-auto-membership" // organization mappings and rules reach explicit members
	defectRuleEditKeepsFilter           = "rule-edit-keeps-filter"            // a PATCHed filter is shown but the old one still evaluated
	defectRoleDeleteKeepsEmptyRules     = "role-delete-keeps-empty-rules"     // a rule whose last role is deleted stays, granting nothing
)

type refMapping struct {
	id, connection, value, role, org string // org "": tenant scope
	created                          time.Time
}

func (m *refMapping) json() map[string]any {
	return map[string]any{"id": m.id, "connection_id": m.connection, "idp_value": m.value, "role_id": m.role,
		"organization_id": nullable(m.org), "created_at": m.created.Format(time.RFC3339Nano)}
}

type refRule struct {
	id, name, filterText string
	f                    filter // what is evaluated
	roles                []string
	org, connection      string // "": not narrowed
	created, updated     time.Time
}

func (r *refRule) json() map[string]any {
	return map[string]any{"id": r.id, "name": r.name, "filter": r.filterText, "roles": slices.Clone(r.roles),
		"organization_id": nullable(r.org), "connection_id": nullable(r.connection),
		"created_at": r.created.Format(time.RFC3339Nano), "updated_at": r.updated.Format(time.RFC3339Nano)}
}

// nullable renders "" as JSON null.
func nullable(id string) any {
	if id == "" {
		return nil
	}
	return id
}

func (a *refAPI) ruleRoutes(p string) {
	a.handle("GET "+p+"/connections/{id}/role-mappings", "read:role_mappings", a.listRoleMappings)
	a.handle("POST "+p+"/connections/{id}/role-mappings", "create:role_mappings", a.createRoleMapping)
	a.handle("DELETE "+p+"/connections/{id}/role-mappings/{mapping_id}", "delete:role_mappings", a.deleteRoleMapping)
	a.handle("GET "+p+"/role-rules", "read:role_rules", a.listRoleRules)
	a.handle("POST "+p+"/role-rules", "create:role_rules", a.createRoleRule)
	a.handle("POST "+p+"/role-rules/preview", "read:role_rules", a.previewRoleRule)
	a.handle("GET "+p+"/role-rules/{id}", "read:role_rules", a.roleRule)
	a.handle("PATCH "+p+"/role-rules/{id}", "update:role_rules", a.updateRoleRule)
	a.handle("DELETE "+p+"/role-rules/{id}", "delete:role_rules", a.roleRule)
}

func (a *refAPI) listRoleMappings(c *apiCall) (int, any, error) {
	conID := c.r.PathValue("id")
	if a.s.connections[conID] == nil {
		return 0, nil, notFound("connection", conID)
	}
	out := []any{}
	for _, id := range slices.Sorted(maps.Keys(a.mappings)) {
		if m := a.mappings[id]; m.connection == conID {
			out = append(out, m.json())
		}
	}
	return 200, out, nil
}

func (a *refAPI) createRoleMapping(c *apiCall) (int, any, error) {
	var b struct {
		IdPValue       string  `json:"idp_value"`
		RoleID         string  `json:"role_id"`
		OrganizationID *string `json:"organization_id"`
	}
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	switch {
	case b.IdPValue == "":
		return 0, nil, apiFail(400, "invalid_body", "Payload validation error: 'idp_value' is required")
	case b.RoleID == "":
		return 0, nil, apiFail(400, "invalid_body", "Payload validation error: 'role_id' is required")
	case b.OrganizationID != nil && *b.OrganizationID == "":
		return 0, nil, apiFail(400, "invalid_body", "Payload validation error: 'organization_id' is an organization id, or null")
	}
	m := &refMapping{connection: c.r.PathValue("id"), value: b.IdPValue, role: b.RoleID, created: time.Now().UTC()}
	if b.OrganizationID != nil {
		m.org = *b.OrganizationID
	}
	if err := a.checkScope(m.connection, m.org, []string{m.role}); err != nil {
		return 0, nil, err
	}
	for _, other := range a.mappings {
		if other.connection == m.connection && other.role == m.role && other.org == m.org && strings.EqualFold(other.value, m.value) {
			return 0, nil, apiFail(409, "role_mapping_conflict", "the connection already maps %q to this role", m.value)
		}
	}
	m.id = a.newID("rmp")
	a.mappings[m.id] = m
	a.audit("api", "connection.role_mapping.created", "connection", m.connection, nil, m.json())
	return 201, m.json(), nil
}

func (a *refAPI) deleteRoleMapping(c *apiCall) (int, any, error) {
	conID := c.r.PathValue("id")
	if a.s.connections[conID] == nil {
		return 0, nil, notFound("connection", conID)
	}
	m := a.mappings[c.r.PathValue("mapping_id")]
	if m == nil || m.connection != conID {
		return 0, nil, notFound("role_mapping", c.r.PathValue("mapping_id"))
	}
	a.deleteMapping("api", m)
	return 204, nil, nil
}

func (a *refAPI) deleteMapping(channel string, m *refMapping) {
	delete(a.mappings, m.id)
	a.audit(channel, "connection.role_mapping.deleted", "connection", m.connection, m.json(), nil)
}

// checkScope answers the 404 for a connection, organization or role that does not exist; ""
// is no connection or organization.
func (a *refAPI) checkScope(conID, orgID string, roles []string) error {
	if conID != "" && a.s.connections[conID] == nil {
		return notFound("connection", conID)
	}
	if err := a.checkRoles(roles); err != nil {
		return err
	}
	if orgID != "" && a.orgs[orgID] == nil {
		return notFound("organization", orgID)
	}
	return nil
}

func (a *refAPI) listRoleRules(c *apiCall) (int, any, error) {
	out := []any{}
	for _, id := range slices.Sorted(maps.Keys(a.rules)) {
		out = append(out, a.rules[id].json())
	}
	answer := map[string]any{"role_rules": out}
	if c.r.URL.Query().Get("include_totals") == "true" {
		answer["start"], answer["limit"], answer["total"] = 0, 50, len(out)
	}
	return 200, answer, nil
}

// ruleBody is a POST or PATCH body; a PATCH leaves absent fields as they are, and null
// organization_id or connection_id widens the rule.
type ruleBody struct {
	Name           *string         `json:"name"`
	Filter         *string         `json:"filter"`
	Roles          *[]string       `json:"roles"`
	OrganizationID json.RawMessage `json:"organization_id"`
	ConnectionID   json.RawMessage `json:"connection_id"`
}

// apply checks the body and writes it into r, which is a copy until it is stored.
func (a *refAPI) apply(b ruleBody, r *refRule) error {
	if b.Name != nil {
		if *b.Name == "" {
			return apiFail(400, "invalid_body", "Payload validation error: 'name' must not be empty")
		}
		r.name = *b.Name
	}
	if b.Filter != nil {
		f, err := parseRuleFilter(*b.Filter)
		if err != nil {
			return apiFail(400, "invalid_filter", "%v", err)
		}
		if r.f == nil || !a.s.defects[defectRuleEditKeepsFilter] {
			r.f = f
		}
		r.filterText = *b.Filter
	}
	if b.Roles != nil {
		if len(*b.Roles) == 0 {
			return apiFail(400, "invalid_body", "Payload validation error: 'roles' must list at least one role id")
		}
		r.roles = slices.Compact(slices.Sorted(slices.Values(*b.Roles)))
	}
	for _, f := range []struct {
		raw  json.RawMessage
		name string
		dst  *string
	}{{b.OrganizationID, "organization_id", &r.org}, {b.ConnectionID, "connection_id", &r.connection}} {
		if f.raw == nil {
			continue
		}
		var id *string
		if err := json.Unmarshal(f.raw, &id); err != nil || id != nil && *id == "" {
			return apiFail(400, "invalid_body", "Payload validation error: '%s' must be an id or null", f.name)
		}
		*f.dst = ""
		if id != nil {
			*f.dst = *id
		}
	}
	return a.checkScope(r.connection, r.org, r.roles)
}

func (a *refAPI) createRoleRule(c *apiCall) (int, any, error) {
	var b ruleBody
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	for field, missing := range map[string]bool{"name": b.Name == nil, "filter": b.Filter == nil, "roles": b.Roles == nil} {
		if missing {
			return 0, nil, apiFail(400, "invalid_body", "Payload validation error: '%s' is required", field)
		}
	}
	now := time.Now().UTC()
	r := &refRule{created: now, updated: now}
	if err := a.apply(b, r); err != nil {
		return 0, nil, err
	}
	r.id = a.newID("rul")
	a.rules[r.id] = r
	a.audit("api", "role_rule.created", "role_rule", r.id, nil, r.json())
	return 201, r.json(), nil
}

func (a *refAPI) updateRoleRule(c *apiCall) (int, any, error) {
	r := a.rules[c.r.PathValue("id")]
	if r == nil {
		return 0, nil, notFound("role_rule", c.r.PathValue("id"))
	}
	var b ruleBody
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	next := *r
	if err := a.apply(b, &next); err != nil {
		return 0, nil, err
	}
	next.updated = time.Now().UTC()
	a.audit("api", "role_rule.updated", "role_rule", r.id, r.json(), next.json())
	*r = next
	return 200, r.json(), nil
}

// roleRule serves GET and DELETE of one rule.
func (a *refAPI) roleRule(c *apiCall) (int, any, error) {
	r := a.rules[c.r.PathValue("id")]
	if r == nil {
		return 0, nil, notFound("role_rule", c.r.PathValue("id"))
	}
	if c.r.Method == http.MethodGet {
		return 200, r.json(), nil
	}
	a.deleteRule("api", r)
	return 204, nil, nil
}

func (a *refAPI) deleteRule(channel string, r *refRule) {
	delete(a.rules, r.id)
	a.audit(channel, "role_rule.deleted", "role_rule", r.id, r.json(), nil)
}

// previewRoleRule counts the active users a filter would match in a rule's scope: the
// connection's users, or every connection's; in an organization, only connections enabled on
// it with auto-membership.
func (a *refAPI) previewRoleRule(c *apiCall) (int, any, error) {
	var b struct {
		Filter         string  `json:"filter"`
		ConnectionID   *string `json:"connection_id"`
		OrganizationID *string `json:"organization_id"`
	}
	if err := c.decode(&b); err != nil {
		return 0, nil, err
	}
	if b.Filter == "" {
		return 0, nil, apiFail(400, "invalid_body", "Payload validation error: 'filter' is required")
	}
	f, err := parseRuleFilter(b.Filter)
	if err != nil {
		return 0, nil, apiFail(400, "invalid_filter", "%v", err)
	}
	var o *refOrg
	if b.OrganizationID != nil {
		if o = a.orgs[*b.OrganizationID]; o == nil {
			return 0, nil, notFound("organization", *b.OrganizationID)
		}
	}
	matches, sample := 0, []any{}
	for _, conID := range slices.Sorted(maps.Keys(a.s.connections)) {
		if b.ConnectionID != nil && conID != *b.ConnectionID || o != nil && !o.connections[conID] {
			continue
		}
		con := a.s.connections[conID]
		for _, id := range slices.Sorted(maps.Keys(con.users)) {
			u := con.users[id]
			if u.attrs["active"] == false || !f.match(userDoc(u)) {
				continue
			}
			matches++
			if len(sample) < 10 {
				sample = append(sample, map[string]any{"user_id": u.id, "user_name": u.attrs["userName"]})
			}
		}
	}
	return 200, map[string]any{"matches": matches, "sample": sample}, nil
}

// userDoc is what a rule's filter reads: the user's own attributes and id.
func userDoc(u *resource) map[string]any {
	doc := deepCopy(u.attrs).(map[string]any)
	doc["id"] = u.id
	return doc
}

// idpValues are the values of the user's SCIM roles and entitlements.
func idpValues(u *resource) []string {
	var out []string
	for _, attr := range []string{"roles", "entitlements"} {
		list, _ := u.attrs[attr].([]any)
		for _, el := range list {
			if m, ok := el.(map[string]any); ok {
				if v, ok := m["value"].(string); ok {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// grantMappedAndRuled adds the roles of the mappings and rules at one scope (o nil: tenant)
// that reach the active user u of con: mappings by value then id, rules by name then id.
func (a *refAPI) grantMappedAndRuled(u *resource, con *connection, o *refOrg, add func(set, map[string]any)) {
	orgID, scope := "", "tenant"
	if o != nil {
		orgID, scope = o.id, "organization"
	}
	values := idpValues(u)
	carries := func(v string) bool {
		return slices.ContainsFunc(values, func(have string) bool {
			return have == v || !a.s.defects[defectMappingCaseSensitive] && strings.EqualFold(have, v)
		})
	}
	mappings := slices.Collect(maps.Values(a.mappings))
	slices.SortFunc(mappings, func(x, y *refMapping) int {
		return strings.Compare(x.value+"\x00"+x.id, y.value+"\x00"+y.id)
	})
	for _, m := range mappings {
		if m.connection == con.id && m.org == orgID && carries(m.value) {
			add(set{m.role: true}, map[string]any{"type": "idp_role", "value": m.value, "connection_id": m.connection, "scope": scope})
		}
	}
	rules := slices.Collect(maps.Values(a.rules))
	slices.SortFunc(rules, func(x, y *refRule) int {
		return strings.Compare(x.name+"\x00"+x.id, y.name+"\x00"+y.id)
	})
	doc := userDoc(u)
	for _, r := range rules {
		if r.org == orgID && (r.connection == "" || r.connection == con.id) && r.f.match(doc) {
			roles := set{}
			for _, id := range r.roles {
				roles[id] = true
			}
			add(roles, map[string]any{"type": "rule", "rule_id": r.id, "rule_name": r.name, "scope": scope})
		}
	}
}

// roleDeletedFromRules cascades a role's deletion into mappings and rules.
func (a *refAPI) roleDeletedFromRules(roleID string) {
	for _, id := range slices.Sorted(maps.Keys(a.mappings)) {
		if m := a.mappings[id]; m.role == roleID {
			a.deleteMapping("cascade", m)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(a.rules)) {
		r := a.rules[id]
		if !slices.Contains(r.roles, roleID) {
			continue
		}
		before := r.json()
		r.roles = slices.DeleteFunc(r.roles, func(id string) bool { return id == roleID })
		if len(r.roles) == 0 && !a.s.defects[defectRoleDeleteKeepsEmptyRules] {
			a.deleteRule("cascade", r)
			continue
		}
		a.audit("cascade", "role_rule.updated", "role_rule", r.id, before, r.json())
	}
}

// organizationDeletedFromRules cascades an organization's deletion into its mappings and rules.
func (a *refAPI) organizationDeletedFromRules(orgID string) {
	for _, id := range slices.Sorted(maps.Keys(a.mappings)) {
		if m := a.mappings[id]; m.org == orgID {
			a.deleteMapping("cascade", m)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(a.rules)) {
		if r := a.rules[id]; r.org == orgID {
			a.deleteRule("cascade", r)
		}
	}
}
