package api

import (
	"net/http"
	"time"

	"github.com/rolecall/rolecall/store"
)

// IdP role mappings: GET, POST /connections/{id}/role-mappings and DELETE
// /connections/{id}/role-mappings/{mapping_id}, shaped like the
// connection's SCIM tokens. A mapping gives a role to the connection's
// users whose SCIM roles or entitlements carry idp_value (whole,
// case-insensitively), at tenant scope or in one organization.

// roleMappingView is a mapping as the API shows it; organization_id is
// null at tenant scope.
type roleMappingView struct {
	ID             string    `json:"id"`
	ConnectionID   string    `json:"connection_id"`
	IdPValue       string    `json:"idp_value"`
	RoleID         string    `json:"role_id"`
	OrganizationID *string   `json:"organization_id"`
	CreatedAt      time.Time `json:"created_at"`
}

func viewRoleMapping(m store.RoleMapping) roleMappingView {
	v := roleMappingView{ID: m.ID, ConnectionID: m.ConnectionID, IdPValue: m.IdPValue, RoleID: m.RoleID, CreatedAt: m.Created}
	if m.OrganizationID != "" {
		v.OrganizationID = &m.OrganizationID
	}
	return v
}

func (a *API) listRoleMappings(w http.ResponseWriter, r *http.Request, _ caller) error {
	views := []roleMappingView{}
	err := a.view(w, func(tx *store.ReadTx) error {
		list, err := tx.RoleMappings(r.PathValue("id"))
		for _, m := range list {
			views = append(views, viewRoleMapping(m))
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, views)
	return nil
}

func (a *API) createRoleMapping(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		IdPValue       string  `json:"idp_value"`
		RoleID         string  `json:"role_id"`
		OrganizationID *string `json:"organization_id"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	switch {
	case body.IdPValue == "":
		return badBody("Payload validation error: 'idp_value' is required")
	case len(body.IdPValue) > store.MaxIdPValueLen:
		return badBody("Payload validation error: 'idp_value' is longer than %d bytes", store.MaxIdPValueLen)
	case body.RoleID == "":
		return badBody("Payload validation error: 'role_id' is required")
	case body.OrganizationID != nil && *body.OrganizationID == "":
		return badBody("Payload validation error: 'organization_id' is an organization id, or null for tenant scope")
	}
	m := store.RoleMapping{ConnectionID: r.PathValue("id"), IdPValue: body.IdPValue, RoleID: body.RoleID}
	if body.OrganizationID != nil {
		m.OrganizationID = *body.OrganizationID
	}
	err := a.update(w, r, c, func(tx *store.Tx) error {
		var err error
		m, err = tx.CreateRoleMapping(m)
		return about("role_mapping", err)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, viewRoleMapping(m))
	return nil
}

func (a *API) deleteRoleMapping(w http.ResponseWriter, r *http.Request, c caller) error {
	err := a.update(w, r, c, func(tx *store.Tx) error {
		if _, err := tx.Connection(r.PathValue("id")); err != nil {
			return err
		}
		return tx.DeleteRoleMapping(r.PathValue("id"), r.PathValue("mapping_id"))
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
