package api

import (
	"net/http"

	"github.com/rolecall/rolecall/store"
)

// resourceServerView is an API as Auth0 shows it.
type resourceServerView struct {
	ID         string       `json:"id"`
	Identifier string       `json:"identifier"`
	Name       string       `json:"name"`
	Scopes     []scopeValue `json:"scopes"`
}

// scopeValue is one scope of an API, in requests and answers.
type scopeValue struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

func viewResourceServer(rs store.ResourceServer) resourceServerView {
	v := resourceServerView{ID: rs.ID, Identifier: rs.Identifier, Name: rs.Name, Scopes: make([]scopeValue, len(rs.Scopes))}
	for i, s := range rs.Scopes {
		v.Scopes[i] = scopeValue{Value: s.Value, Description: s.Description}
	}
	return v
}

func storeScopes(in []scopeValue) []store.ResourceServerScope {
	out := make([]store.ResourceServerScope, len(in))
	for i, s := range in {
		out[i] = store.ResourceServerScope{Value: s.Value, Description: s.Description}
	}
	return out
}

// lookupResourceServer finds an API by id or, as Auth0 allows, by its
// identifier (URL-encoded in the path).
func lookupResourceServer(tx *store.ReadTx, key string) (store.ResourceServer, error) {
	if store.ValidID(store.PrefixResourceServer, key) {
		return tx.ResourceServer(key)
	}
	return tx.ResourceServerByIdentifier(key)
}

func (a *API) createResourceServer(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Identifier string       `json:"identifier"`
		Name       string       `json:"name"`
		Scopes     []scopeValue `json:"scopes"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Identifier == "" {
		return badBody("Payload validation error: 'identifier' is required")
	}
	if body.Name == "" {
		body.Name = body.Identifier
	}
	var view resourceServerView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		rs, err := tx.CreateResourceServer(store.ResourceServer{Identifier: body.Identifier, Name: body.Name, Scopes: storeScopes(body.Scopes)})
		view = viewResourceServer(rs)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, view)
	return nil
}

// listResourceServers answers GET /resource-servers?from=&take=, in id order.
func (a *API) listResourceServers(w http.ResponseWriter, r *http.Request, _ caller) error {
	return listCheckpoint(a, w, r, "resource_servers", (*store.ReadTx).ResourceServers,
		func(_ *store.ReadTx, rs store.ResourceServer) resourceServerView { return viewResourceServer(rs) })
}

func (a *API) getResourceServer(w http.ResponseWriter, r *http.Request, _ caller) error {
	var view resourceServerView
	err := a.view(w, func(tx *store.ReadTx) error {
		rs, err := lookupResourceServer(tx, r.PathValue("id"))
		view = viewResourceServer(rs)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// updateResourceServer changes the name or replaces the scopes. A scope left
// out is removed, and with it every permission that used it (the store
// audits each as a cascade); the identifier cannot change.
func (a *API) updateResourceServer(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Identifier *string       `json:"identifier"`
		Name       *string       `json:"name"`
		Scopes     *[]scopeValue `json:"scopes"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Name != nil && *body.Name == "" {
		return badBody("Payload validation error: 'name' must not be empty")
	}
	var view resourceServerView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		found, err := lookupResourceServer(&tx.ReadTx, r.PathValue("id"))
		if err != nil {
			return err
		}
		if body.Identifier != nil && *body.Identifier != found.Identifier {
			return badBody("Payload validation error: 'identifier' cannot be changed")
		}
		rs, err := tx.UpdateResourceServer(found.ID, func(rs *store.ResourceServer) error {
			if body.Name != nil {
				rs.Name = *body.Name
			}
			if body.Scopes != nil {
				rs.Scopes = storeScopes(*body.Scopes)
			}
			return nil
		})
		view = viewResourceServer(rs)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// deleteResourceServer deletes an API; the store removes every permission on
// it, of roles and of users, in the same transaction.
func (a *API) deleteResourceServer(w http.ResponseWriter, r *http.Request, c caller) error {
	err := a.update(w, r, c, func(tx *store.Tx) error {
		rs, err := lookupResourceServer(&tx.ReadTx, r.PathValue("id"))
		if err != nil {
			return err
		}
		return tx.DeleteResourceServer(rs.ID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// permissionView is a permission as Auth0 answers it: with the name of its
// API and the description of its scope.
type permissionView struct {
	ResourceServerIdentifier string `json:"resource_server_identifier"`
	PermissionName           string `json:"permission_name"`
	ResourceServerName       string `json:"resource_server_name"`
	Description              string `json:"description"`
}

// viewPermissions describes permissions from the APIs that define them.
func viewPermissions(tx *store.ReadTx, ps []store.Permission) []permissionView {
	out := make([]permissionView, 0, len(ps))
	apis := map[string]store.ResourceServer{}
	for _, p := range ps {
		rs, ok := apis[p.ResourceServerIdentifier]
		if !ok {
			rs, _ = tx.ResourceServerByIdentifier(p.ResourceServerIdentifier) // always there: the store keeps it so
			apis[p.ResourceServerIdentifier] = rs
		}
		scope, _ := rs.Scope(p.PermissionName)
		out = append(out, permissionView{ResourceServerIdentifier: p.ResourceServerIdentifier, PermissionName: p.PermissionName,
			ResourceServerName: rs.Name, Description: scope.Description})
	}
	return out
}
