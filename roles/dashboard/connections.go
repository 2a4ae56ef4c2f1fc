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
	d.render(w, r, s, http.StatusOK, "connection", pageData{Title: p.Connection.Name, Section: "connections", Data: p})
	return nil
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
