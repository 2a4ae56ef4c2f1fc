package dashboard

import (
	"errors"
	"net/http"
	"slices"

	"github.com/rolecall/rolecall/roles/api"
)

// Attribute rules: a list, and an editor whose "Preview" asks the API how
// many users the filter matches before anything is saved (a server-side
// form post like every other; the page is rendered, not redirected, so the
// preview shows beside the form as typed).

type roleRule struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Filter         string   `json:"filter"`
	Roles          []string `json:"roles"`
	OrganizationID *string  `json:"organization_id"`
	ConnectionID   *string  `json:"connection_id"`
}

// Org and Con are the rule's organization and connection ids, "" when
// the rule is not narrowed.
func (r roleRule) Org() string { return deref(r.OrganizationID) }
func (r roleRule) Con() string { return deref(r.ConnectionID) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Has reports whether the rule grants role id (the editor's checkboxes).
func (r roleRule) Has(id string) bool { return slices.Contains(r.Roles, id) }

type roleRuleList struct {
	Rules []roleRule `json:"role_rules"`
	Next  string     `json:"next"`
}

type rulePreview struct {
	Matches int    `json:"matches"`
	Sample  []user `json:"sample"`
}

type roleRulesPage struct {
	Rules     []roleRule
	Next      string
	RoleNames map[string]string
	OrgNames  map[string]string
	ConNames  map[string]string
}

type roleRulePage struct {
	Rule    roleRule // as stored, or as typed when previewing
	New     bool
	Preview *rulePreview
	// PreviewErr is the API's answer to a filter it refused.
	PreviewErr  error
	RoleChoices []role
	OrgChoices  []organization
	ConChoices  []connection
	Paging      bool // more roles, organizations or connections than the form lists
}

// names reads the first page of roles, organizations and connections the
// key can read, for names and the editor's choices.
func (d *Dashboard) ruleChoices(r *http.Request, s *session) (roles []role, orgs []organization, cons []connection, paging bool, err error) {
	if s.scopes[api.ScopeReadRoles] {
		var l roleList
		if err = d.call(r, s, "GET", "/roles?take=100", nil, &l); err != nil {
			return
		}
		roles, paging = l.Roles, l.Next != ""
	}
	if s.scopes[api.ScopeReadOrganizations] {
		var l organizationList
		if err = d.call(r, s, "GET", "/organizations?take=100", nil, &l); err != nil {
			return
		}
		orgs, paging = l.Organizations, paging || l.Next != ""
	}
	if s.scopes[api.ScopeReadConnections] {
		var l connectionList
		if err = d.call(r, s, "GET", "/connections?take=100", nil, &l); err != nil {
			return
		}
		cons, paging = l.Connections, paging || l.Next != ""
	}
	return
}

func (d *Dashboard) roleRules(w http.ResponseWriter, r *http.Request, s *session) error {
	var list roleRuleList
	path := "/role-rules?take=50"
	if from := r.URL.Query().Get("from"); from != "" {
		path += "&from=" + seg(from)
	}
	if err := d.call(r, s, "GET", path, nil, &list); err != nil {
		return err
	}
	p := roleRulesPage{Rules: list.Rules, Next: list.Next, RoleNames: map[string]string{}, OrgNames: map[string]string{}, ConNames: map[string]string{}}
	roles, orgs, cons, _, err := d.ruleChoices(r, s)
	if err != nil {
		return err
	}
	for _, ro := range roles {
		p.RoleNames[ro.ID] = ro.Name
	}
	for _, o := range orgs {
		p.OrgNames[o.ID] = o.Name
	}
	for _, c := range cons {
		p.ConNames[c.ID] = c.Name
	}
	d.render(w, r, s, http.StatusOK, "role_rules", pageData{Title: "Role rules", Section: "role-rules", Data: p})
	return nil
}

func (d *Dashboard) roleRuleEditor(w http.ResponseWriter, r *http.Request, s *session) error {
	p := roleRulePage{New: r.PathValue("id") == ""}
	if !p.New {
		if err := d.call(r, s, "GET", "/role-rules/"+seg(r.PathValue("id")), nil, &p.Rule); err != nil {
			return err
		}
	}
	return d.renderRuleEditor(w, r, s, p)
}

func (d *Dashboard) renderRuleEditor(w http.ResponseWriter, r *http.Request, s *session, p roleRulePage) error {
	var err error
	if p.RoleChoices, p.OrgChoices, p.ConChoices, p.Paging, err = d.ruleChoices(r, s); err != nil {
		return err
	}
	title := "New role rule"
	if !p.New {
		title = p.Rule.Name
	}
	d.render(w, r, s, http.StatusOK, "role_rule", pageData{Title: title, Section: "role-rules", Data: p})
	return nil
}

// saveRoleRule creates (no id) or updates a rule from the editor's form,
// or, when the Preview button sent it, renders the editor with the
// preview of the filter as typed.
func (d *Dashboard) saveRoleRule(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	rule := roleRule{ID: id, Name: r.PostFormValue("name"), Filter: r.PostFormValue("filter"), Roles: r.PostForm["roles"]}
	body := map[string]any{"name": rule.Name, "filter": rule.Filter, "roles": rule.Roles, "organization_id": nil, "connection_id": nil}
	if v := r.PostFormValue("organization_id"); v != "" {
		rule.OrganizationID, body["organization_id"] = &v, v
	}
	if v := r.PostFormValue("connection_id"); v != "" {
		rule.ConnectionID, body["connection_id"] = &v, v
	}
	if r.PostFormValue("action") == "preview" {
		p := roleRulePage{Rule: rule, New: id == ""}
		var out rulePreview
		err := d.call(r, s, "POST", "/role-rules/preview", map[string]any{"filter": rule.Filter, "organization_id": body["organization_id"], "connection_id": body["connection_id"]}, &out)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.StatusCode != http.StatusUnauthorized:
			p.PreviewErr = ae
		case err != nil:
			return err
		default:
			p.Preview = &out
		}
		return d.renderRuleEditor(w, r, s, p)
	}
	if id == "" {
		var created roleRule
		err := d.call(r, s, "POST", "/role-rules", body, &created)
		if err != nil {
			return d.done(w, r, s, d.path("/role-rules/new"), err, "")
		}
		return d.done(w, r, s, d.path("/role-rules/"+seg(created.ID)), nil, "Rule "+rule.Name+" created; users matching it get its roles once it is evaluated.")
	}
	err := d.call(r, s, "PATCH", "/role-rules/"+seg(id), body, nil)
	return d.done(w, r, s, d.path("/role-rules/"+seg(id)), err, "Rule "+rule.Name+" saved.")
}

func (d *Dashboard) deleteRoleRule(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if d.needConfirm(w, r, s, "Delete rule "+r.PostFormValue("name")+"? Users lose the roles it gave them.", d.path("/role-rules/"+seg(id))) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/role-rules/"+seg(id), nil, nil)
	return d.done(w, r, s, d.path("/role-rules"), err, "Rule "+r.PostFormValue("name")+" deleted.")
}
