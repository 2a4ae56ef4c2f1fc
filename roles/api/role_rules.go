package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// Attribute rules: GET, POST /role-rules, GET, PATCH, DELETE
// /role-rules/{id}, and POST /role-rules/preview. A rule gives its roles to
// the active users whose SCIM document matches a SCIM filter, at tenant
// scope or in one organization, for every connection's users or one's.
// Filters are parsed and checked here, at write time, with the bounds /Users
// filters have; the role index evaluates them.

// rulePreviewSample is how many matching users a preview shows.
const rulePreviewSample = 10

// roleRuleView is a rule as the API shows it; organization_id and
// connection_id are null when the rule is not narrowed.
type roleRuleView struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Filter         string    `json:"filter"`
	Roles          []string  `json:"roles"`
	OrganizationID *string   `json:"organization_id"`
	ConnectionID   *string   `json:"connection_id"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func viewRoleRule(r store.RoleRule) roleRuleView {
	v := roleRuleView{ID: r.ID, Name: r.Name, Filter: r.Filter, Roles: r.RoleIDs, CreatedAt: r.Created, UpdatedAt: r.Updated}
	if v.Roles == nil {
		v.Roles = []string{}
	}
	if r.OrganizationID != "" {
		v.OrganizationID = &r.OrganizationID
	}
	if r.ConnectionID != "" {
		v.ConnectionID = &r.ConnectionID
	}
	return v
}

// parseRuleFilter checks a rule's filter: the SCIM grammar and the bounds
// of /Users filters (document.ParseFilter), attributes of the User resource
// type with fitting comparisons (ValidateFilter), and only the user's own
// attributes: groups and meta are not what a rule may read. The error is
// 400 invalid_filter with the parser's detail, which names the position or
// the limit.
func parseRuleFilter(f string) (filter.Expression, error) {
	if len(f) > store.MaxRoleRuleFilterLen {
		return nil, newError(http.StatusBadRequest, "invalid_filter", "The filter is %d bytes long; a rule's filter may have at most %d bytes.", len(f), store.MaxRoleRuleFilterLen)
	}
	expr, err := document.ParseFilter(f)
	if err == nil {
		err = document.User.ValidateFilter(expr)
	}
	if err != nil {
		var se scimerrors.ScimError
		if errors.As(err, &se) {
			return nil, newError(http.StatusBadRequest, "invalid_filter", "%s", se.Detail)
		}
		return nil, newError(http.StatusBadRequest, "invalid_filter", "The filter is not valid.")
	}
	for _, attr := range []string{"groups", "meta"} {
		if document.References(expr, attr) {
			return nil, newError(http.StatusBadRequest, "invalid_filter", "The filter reads %s; a rule reads the user's own attributes (bind roles to groups for group membership).", attr)
		}
	}
	return expr, nil
}

// optionalID reads a body field that is absent (nil, unchanged), null
// (""), or an id.
func optionalID(raw json.RawMessage, field string) (*string, error) {
	if raw == nil {
		return nil, nil
	}
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, badBody("Payload validation error: '%s' must be an id or null", field)
	}
	if s == nil {
		empty := ""
		return &empty, nil
	}
	if *s == "" {
		return nil, badBody("Payload validation error: '%s' must be an id or null", field)
	}
	return s, nil
}

// roleRuleBody is a POST or PATCH body; PATCH leaves absent fields as
// they are.
type roleRuleBody struct {
	Name           *string         `json:"name"`
	Filter         *string         `json:"filter"`
	Roles          *[]string       `json:"roles"`
	OrganizationID json.RawMessage `json:"organization_id"`
	ConnectionID   json.RawMessage `json:"connection_id"`
}

// apply checks the body and writes it into rule.
func (b roleRuleBody) apply(rule *store.RoleRule) error {
	if b.Name != nil {
		switch {
		case *b.Name == "":
			return badBody("Payload validation error: 'name' must not be empty")
		case len(*b.Name) > store.MaxRoleRuleNameLen:
			return badBody("Payload validation error: 'name' is longer than %d bytes", store.MaxRoleRuleNameLen)
		}
		rule.Name = *b.Name
	}
	if b.Filter != nil {
		if _, err := parseRuleFilter(*b.Filter); err != nil {
			return err
		}
		rule.Filter = *b.Filter
	}
	if b.Roles != nil {
		switch {
		case len(*b.Roles) == 0:
			return badBody("Payload validation error: 'roles' must be an array of at least one role id")
		case len(*b.Roles) > store.MaxRoleRuleRoles:
			return badBody("Payload validation error: 'roles' names %d roles; a rule grants at most %d", len(*b.Roles), store.MaxRoleRuleRoles)
		}
		rule.RoleIDs = *b.Roles
	}
	org, err := optionalID(b.OrganizationID, "organization_id")
	if err != nil {
		return err
	}
	if org != nil {
		rule.OrganizationID = *org
	}
	con, err := optionalID(b.ConnectionID, "connection_id")
	if err != nil {
		return err
	}
	if con != nil {
		rule.ConnectionID = *con
	}
	return nil
}

func (a *API) listRoleRules(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, bothPagings)
	if err != nil {
		return err
	}
	return a.serveList(w, q, idListing("role_rules",
		func(tx *store.ReadTx) ([]string, error) { return tx.RoleRuleIDs(), nil },
		func(tx *store.ReadTx, id string) (any, error) {
			rule, err := tx.RoleRule(id)
			return viewRoleRule(rule), err
		}))
}

func (a *API) getRoleRule(w http.ResponseWriter, r *http.Request, _ caller) error {
	var view roleRuleView
	err := a.view(w, func(tx *store.ReadTx) error {
		rule, err := tx.RoleRule(r.PathValue("id"))
		view = viewRoleRule(rule)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (a *API) createRoleRule(w http.ResponseWriter, r *http.Request, c caller) error {
	var body roleRuleBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	switch {
	case body.Name == nil:
		return badBody("Payload validation error: 'name' is required")
	case body.Filter == nil:
		return badBody("Payload validation error: 'filter' is required")
	case body.Roles == nil:
		return badBody("Payload validation error: 'roles' is required")
	}
	var rule store.RoleRule
	if err := body.apply(&rule); err != nil {
		return err
	}
	err := a.update(w, r, c, func(tx *store.Tx) error {
		var err error
		rule, err = tx.CreateRoleRule(rule)
		return about("role_rule", err)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewRoleRule(rule))
	return nil
}

func (a *API) updateRoleRule(w http.ResponseWriter, r *http.Request, c caller) error {
	var body roleRuleBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	var rule store.RoleRule
	err := a.update(w, r, c, func(tx *store.Tx) error {
		var err error
		rule, err = tx.UpdateRoleRule(r.PathValue("id"), body.apply)
		return about("role_rule", err)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewRoleRule(rule))
	return nil
}

func (a *API) deleteRoleRule(w http.ResponseWriter, r *http.Request, c caller) error {
	err := a.update(w, r, c, func(tx *store.Tx) error { return tx.DeleteRoleRule(r.PathValue("id")) })
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// previewRoleRule answers how many active users a filter matches within
// the scope a rule would have (the connection's users, or those of the
// connections auto-enabled on the organization), with a sample of them,
// before the rule is saved. It reads every user in scope: heavy.
func (a *API) previewRoleRule(w http.ResponseWriter, r *http.Request, _ caller) error {
	var body struct {
		Filter         string          `json:"filter"`
		ConnectionID   json.RawMessage `json:"connection_id"`
		OrganizationID json.RawMessage `json:"organization_id"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Filter == "" {
		return badBody("Payload validation error: 'filter' is required")
	}
	expr, err := parseRuleFilter(body.Filter)
	if err != nil {
		return err
	}
	con, err := optionalID(body.ConnectionID, "connection_id")
	if err != nil {
		return err
	}
	org, err := optionalID(body.OrganizationID, "organization_id")
	if err != nil {
		return err
	}
	out := struct {
		Matches int        `json:"matches"`
		Sample  []userView `json:"sample"`
	}{Sample: []userView{}}
	err = a.view(w, func(tx *store.ReadTx) error {
		conns, err := previewConnections(tx, con, org)
		if err != nil {
			return err
		}
		for _, id := range conns {
			err := tx.EachUser(id, func(u store.User) (bool, error) {
				if err := r.Context().Err(); err != nil {
					return false, err
				}
				if !u.Active || !document.User.Match(expr, userFilterDoc(u)) {
					return true, nil
				}
				out.Matches++
				if len(out.Sample) < rulePreviewSample {
					v, err := viewUser(u)
					if err != nil {
						return false, err
					}
					out.Sample = append(out.Sample, v)
				}
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// previewConnections lists the connections whose users a rule of this scope
// can match.
func previewConnections(tx *store.ReadTx, con, org *string) ([]string, error) {
	var ids []string
	if con != nil && *con != "" {
		if _, err := tx.Connection(*con); err != nil {
			return nil, err
		}
		ids = []string{*con}
	} else {
		for after := ""; ; {
			list, next, err := tx.Connections(after, maxTake)
			if err != nil {
				return nil, err
			}
			for _, c := range list {
				ids = append(ids, c.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	if org == nil || *org == "" {
		return ids, nil
	}
	enabled, err := tx.EnabledConnections(*org)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		for _, ec := range enabled {
			if ec.ConnectionID == id && ec.AssignMembershipOnLogin {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// userFilterDoc is a user's document as filters see it (numbers kept as
// json.Number, the id added), as the role index evaluates rules.
func userFilterDoc(u store.User) map[string]any {
	doc := map[string]any{}
	if len(u.Doc) > 0 {
		dec := json.NewDecoder(bytes.NewReader(u.Doc))
		dec.UseNumber()
		if dec.Decode(&doc) != nil {
			doc = map[string]any{}
		}
	}
	doc["id"] = u.ID
	return doc
}
