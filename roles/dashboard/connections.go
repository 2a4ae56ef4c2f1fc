package dashboard

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/rolecall/rolecall/roles/api"
)

// pageSize is how many rows a listing page shows; the API's take.
const pageSize = 50

type connectionsPage struct {
	Connections []connection
	NextURL     string
	FirstURL    string // set when this is not the first page
}

func (d *Dashboard) connections(w http.ResponseWriter, r *http.Request, s *session) error {
	from := r.URL.Query().Get("from")
	var list connectionList
	if err := d.call(r, s, "GET", "/connections"+query("take", strconv.Itoa(pageSize), "from", from), nil, &list); err != nil {
		return err
	}
	p := connectionsPage{Connections: list.Connections}
	if list.Next != "" {
		p.NextURL = d.path("/connections") + query("from", list.Next)
	}
	if from != "" {
		p.FirstURL = d.path("/connections")
	}
	d.render(w, r, s, http.StatusOK, "connections", pageData{Title: "Connections", Section: "connections", Data: p})
	return nil
}

// createConnection creates a connection and, when asked (the default),
// turns on SCIM provisioning for it, as Auth0's "Sync user profiles using
// SCIM" does.
func (d *Dashboard) createConnection(w http.ResponseWriter, r *http.Request, s *session) error {
	body := map[string]any{"name": r.PostFormValue("name"), "strategy": r.PostFormValue("strategy")}
	if dn := r.PostFormValue("display_name"); dn != "" {
		body["display_name"] = dn
	}
	var c connection
	if err := d.call(r, s, "POST", "/connections", body, &c); err != nil {
		return d.done(w, r, s, d.path("/connections"), err, "")
	}
	back := d.path("/connections/" + seg(c.ID))
	if r.PostFormValue("scim") != "" {
		if err := d.call(r, s, "POST", "/connections/"+seg(c.ID)+"/scim-configuration", map[string]any{}, nil); err != nil {
			return d.done(w, r, s, back, err, "")
		}
	}
	return d.done(w, r, s, back, nil, "Connection "+c.Name+" created.")
}

type connectionPage struct {
	Connection connection
	Tokens     []scimToken
	TokensErr  error // the token list could not be read (shown in its place)
	// Role mappings: the IdP's roles/entitlements values that grant roles,
	// with the names of their roles and organizations, and what the add
	// form offers (the first page of each).
	Mappings      []roleMapping
	MappingsErr   error
	RoleNames     map[string]string
	OrgNames      map[string]string
	RoleChoices   []role
	OrgChoices    []organization
	ChoicesPaging bool // more roles or organizations than the form lists
}

type roleMapping struct {
	ID             string  `json:"id"`
	IdPValue       string  `json:"idp_value"`
	RoleID         string  `json:"role_id"`
	OrganizationID *string `json:"organization_id"`
}

// Org is the mapping's organization id, "" at tenant scope.
func (m roleMapping) Org() string {
	if m.OrganizationID == nil {
		return ""
	}
	return *m.OrganizationID
}

func (d *Dashboard) connection(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	var p connectionPage
	if err := d.call(r, s, "GET", "/connections/"+seg(id), nil, &p.Connection); err != nil {
		return err
	}
	if p.Connection.SCIMEndpoint != "" && s.scopes[api.ScopeReadSCIMToken] {
		if err := d.call(r, s, "GET", "/connections/"+seg(id)+"/scim-configuration/tokens", nil, &p.Tokens); err != nil {
			if isSessionEnd(err) {
				return err
			}
			p.TokensErr = err
		}
	}
	if s.scopes[api.ScopeReadRoleMappings] {
		if err := d.loadRoleMappings(r, s, id, &p); err != nil {
			if isSessionEnd(err) {
				return err
			}
			p.MappingsErr = err
		}
	}
	d.render(w, r, s, http.StatusOK, "connection", pageData{Title: p.Connection.Name, Section: "connections", Data: p})
	return nil
}

// loadRoleMappings reads a connection's role mappings and names their roles
// and organizations from the first page of each (ids stand for the rest).
func (d *Dashboard) loadRoleMappings(r *http.Request, s *session, id string, p *connectionPage) error {
	if err := d.call(r, s, "GET", "/connections/"+seg(id)+"/role-mappings", nil, &p.Mappings); err != nil {
		return err
	}
	p.RoleNames, p.OrgNames = map[string]string{}, map[string]string{}
	if s.scopes[api.ScopeReadRoles] {
		var roles roleList
		if err := d.call(r, s, "GET", "/roles?take=100", nil, &roles); err != nil {
			return err
		}
		p.RoleChoices, p.ChoicesPaging = roles.Roles, roles.Next != ""
		for _, ro := range roles.Roles {
			p.RoleNames[ro.ID] = ro.Name
		}
	}
	if s.scopes[api.ScopeReadOrganizations] {
		var orgs organizationList
		if err := d.call(r, s, "GET", "/organizations?take=100", nil, &orgs); err != nil {
			return err
		}
		p.OrgChoices, p.ChoicesPaging = orgs.Organizations, p.ChoicesPaging || orgs.Next != ""
		for _, o := range orgs.Organizations {
			p.OrgNames[o.ID] = o.Name
		}
	}
	return nil
}

func (d *Dashboard) createRoleMapping(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	body := map[string]any{"idp_value": r.PostFormValue("idp_value"), "role_id": r.PostFormValue("role_id")}
	if org := r.PostFormValue("organization_id"); org != "" {
		body["organization_id"] = org
	}
	err := d.call(r, s, "POST", "/connections/"+seg(id)+"/role-mappings", body, nil)
	return d.done(w, r, s, d.path("/connections/"+seg(id)), err, "Users whose IdP sends "+r.PostFormValue("idp_value")+" now get the role.")
}

func (d *Dashboard) deleteRoleMapping(w http.ResponseWriter, r *http.Request, s *session) error {
	id, mid := r.PathValue("id"), r.PathValue("mapping_id")
	back := d.path("/connections/" + seg(id))
	if d.needConfirm(w, r, s, "Remove the role mapping for "+r.PostFormValue("idp_value")+"? Users lose the role it gave them at once.", back) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/connections/"+seg(id)+"/role-mappings/"+seg(mid), nil, nil)
	return d.done(w, r, s, back, err, "Role mapping for "+r.PostFormValue("idp_value")+" removed.")
}

func (d *Dashboard) deleteConnection(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if d.needConfirm(w, r, s, "Delete connection "+r.PostFormValue("name")+"? Its SCIM configuration and tokens, users, groups and their role bindings are deleted with it. This cannot be undone.", d.path("/connections/"+seg(id))) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/connections/"+seg(id), nil, nil)
	if err != nil {
		return d.done(w, r, s, d.path("/connections/"+seg(id)), err, "")
	}
	return d.done(w, r, s, d.path("/connections"), nil, "Connection "+r.PostFormValue("name")+" deleted.")
}

func (d *Dashboard) enableSCIM(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	err := d.call(r, s, "POST", "/connections/"+seg(id)+"/scim-configuration", map[string]any{}, nil)
	return d.done(w, r, s, d.path("/connections/"+seg(id)), err, "SCIM provisioning is on. Generate a token for your identity provider.")
}

type tokenPage struct {
	Connection connection
	Token      scimToken
}

// createToken generates a SCIM token and shows its secret on this one
// answer (never stored, never redirected to, never cached).
func (d *Dashboard) createToken(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	body := map[string]any{}
	if r.PostFormValue("scopes_given") != "" {
		body["scopes"] = append([]string{}, r.PostForm["scopes"]...)
	}
	if v := r.PostFormValue("token_lifetime"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return d.done(w, r, s, d.path("/connections/"+seg(id)), &APIError{StatusCode: http.StatusBadRequest, Title: "Bad Request", Message: "Choose a token lifetime from the list.", ErrorCode: "invalid_body"}, "")
		}
		body["token_lifetime"] = n
	}
	p := tokenPage{}
	if err := d.call(r, s, "GET", "/connections/"+seg(id), nil, &p.Connection); err != nil {
		return d.done(w, r, s, d.path("/connections"), err, "")
	}
	if err := d.call(r, s, "POST", "/connections/"+seg(id)+"/scim-configuration/tokens", body, &p.Token); err != nil {
		return d.done(w, r, s, d.path("/connections/"+seg(id)), err, "")
	}
	d.render(w, r, s, http.StatusCreated, "token", pageData{Title: "New SCIM token", Section: "connections", Data: p})
	return nil
}

func (d *Dashboard) revokeToken(w http.ResponseWriter, r *http.Request, s *session) error {
	id, tid := r.PathValue("id"), r.PathValue("token_id")
	back := d.path("/connections/" + seg(id))
	if d.needConfirm(w, r, s, "Revoke SCIM token "+tid+"? Your identity provider can no longer provision with it.", back) {
		return nil
	}
	err := d.call(r, s, "DELETE", "/connections/"+seg(id)+"/scim-configuration/tokens/"+seg(tid), nil, nil)
	return d.done(w, r, s, back, err, "Token "+tid+" revoked.")
}

// isSessionEnd reports an API answer that ends the session (401).
func isSessionEnd(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized
}

type confirmPage struct {
	Message string
	Action  string
	Fields  [][2]string
	Back    string
}

// needConfirm renders a confirmation page for a destructive form that was
// sent without confirm=yes (the script's dialog adds it; without the script
// this page asks instead) and reports whether it did.
func (d *Dashboard) needConfirm(w http.ResponseWriter, r *http.Request, s *session, message, back string) bool {
	if r.PostFormValue("confirm") == "yes" {
		return false
	}
	p := confirmPage{Message: message, Action: r.URL.Path, Back: back}
	for k, vals := range r.PostForm {
		if k == csrfField || k == "confirm" {
			continue
		}
		for _, v := range vals {
			p.Fields = append(p.Fields, [2]string{k, v})
		}
	}
	d.render(w, r, s, http.StatusOK, "confirm", pageData{Title: "Please confirm", Data: p})
	return true
}
