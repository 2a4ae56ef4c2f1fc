package api

import (
	"net/http"

	"github.com/rolecall/rolecall/store"
)

// listUserPermissions answers GET /users/{id}/permissions: the permissions
// granted to the user directly (not through roles; effective-permissions
// has both), each with its API's name and its scope's description.
func (a *API) listUserPermissions(w http.ResponseWriter, r *http.Request, _ caller) error {
	out := struct {
		Permissions []permissionView `json:"permissions"`
	}{}
	err := a.view(w, func(tx *store.ReadTx) error {
		ps, err := tx.UserPermissions(r.PathValue("id"))
		out.Permissions = viewPermissions(tx, ps)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// assignUserPermissions grants {"permissions":[{resource_server_identifier,
// permission_name}]} to a user directly, all or nothing: a permission that
// is not a scope of an existing API is a 400 and grants none. 201, as Auth0.
func (a *API) assignUserPermissions(w http.ResponseWriter, r *http.Request, c caller) error {
	perms, err := decodePermissions(r)
	if err != nil {
		return err
	}
	err = a.update(w, r, c, func(tx *store.Tx) error {
		_, err := tx.AssignUserPermissions(r.PathValue("id"), perms)
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// removeUserPermissions takes direct permissions away; ones the user does not
// have directly are ignored.
func (a *API) removeUserPermissions(w http.ResponseWriter, r *http.Request, c caller) error {
	perms, err := decodePermissions(r)
	if err != nil {
		return err
	}
	err = a.update(w, r, c, func(tx *store.Tx) error {
		_, err := tx.RemoveUserPermissions(r.PathValue("id"), perms)
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
