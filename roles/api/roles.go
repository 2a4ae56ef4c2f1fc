package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/rolecall/rolecall/store"
)

// roleView is a role as the Management API shows it (Auth0's shape).
type roleView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

func viewRole(r store.Role) roleView {
	return roleView{ID: r.ID, Name: r.Name, Description: r.Description}
}

// viewRoles loads the roles with the given ids, in that order.
func viewRoles(tx *store.ReadTx, ids []string) ([]roleView, error) {
	out := make([]roleView, 0, len(ids))
	for _, id := range ids {
		role, err := tx.Role(id)
		if err != nil {
			return nil, err
		}
		out = append(out, viewRole(role))
	}
	return out, nil
}

// about attributes a store error to thing: a not-found becomes
// inexistent_<thing>, a conflict <thing>_conflict, through errorFor like
// every store error. A handler needs it when a request names several things
// (a role and the groups in its body) and the route's resource names only one.
// Other errors pass through unchanged, to be mapped (and logged) as usual.
func about(thing string, err error) error {
	var se *store.Error
	if errors.As(err, &se) {
		return errorFor(err, thing)
	}
	return err
}

// requireIDs validates the id list of a binding body ({"roles":[…]},
// {"groups":[…]}, {"members":[…]}): present and not empty. Ids are not
// checked for shape: a malformed id cannot exist, so it is a 404 like any
// unknown one, found while nothing has been written yet.
func requireIDs(field string, ids []string) error {
	if len(ids) == 0 {
		return badBody("Payload validation error: '%s' must be an array of at least one id", field)
	}
	return nil
}

type rolesBody struct {
	Roles []string `json:"roles"`
}

// decodeRolesBody reads {"roles":[ids]}.
func decodeRolesBody(r *http.Request) ([]string, error) {
	var body rolesBody
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	return body.Roles, requireIDs("roles", body.Roles)
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Name == "" {
		return badBody("Payload validation error: 'name' is required")
	}
	var view roleView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		role, err := tx.CreateRole(store.Role{Name: body.Name, Description: body.Description})
		view = viewRole(role)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, view)
	return nil
}

// listRoles answers GET /roles?name_filter= in role id order, paged in
// either of Auth0's styles (api_list.go).
func (a *API) listRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, bothPagings, "name_filter")
	if err != nil {
		return err
	}
	filter := q.get("name_filter")
	return a.serveList(w, q, listing{key: "roles", each: func(tx *store.ReadTx, after string, _ func() int, yield yieldFunc) error {
		for {
			list, next, err := tx.Roles(after, maxTake, filter)
			if err != nil {
				return err
			}
			for _, role := range list {
				v := viewRole(role)
				if more, err := yield(role.ID, func() (any, error) { return v, nil }); err != nil || !more {
					return err
				}
			}
			if next == "" {
				return nil
			}
			after = next
		}
	}})
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request, _ caller) error {
	var view roleView
	err := a.view(w, func(tx *store.ReadTx) error {
		role, err := tx.Role(r.PathValue("id"))
		view = viewRole(role)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Name != nil && *body.Name == "" {
		return badBody("Payload validation error: 'name' must not be empty")
	}
	var view roleView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		role, err := tx.UpdateRole(r.PathValue("id"), func(role *store.Role) error {
			if body.Name != nil {
				role.Name = *body.Name
			}
			if body.Description != nil {
				role.Description = *body.Description
			}
			return nil
		})
		view = viewRole(role)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// deleteRole deletes a role; the store removes every binding of it at both
// scopes in the same transaction, each audited as a cascade.
func (a *API) deleteRole(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.updateNoContent(w, r, c, func(tx *store.Tx) error { return tx.DeleteRole(r.PathValue("id")) })
}

type permissionsBody struct {
	Permissions []store.Permission `json:"permissions"`
}

func decodePermissions(r *http.Request) ([]store.Permission, error) {
	var body permissionsBody
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	if len(body.Permissions) == 0 {
		return nil, badBody("Payload validation error: 'permissions' must be an array of at least one permission")
	}
	for i, p := range body.Permissions {
		if p.ResourceServerIdentifier == "" || p.PermissionName == "" {
			return nil, badBody("Payload validation error: permissions[%d] needs 'resource_server_identifier' and 'permission_name'", i)
		}
	}
	return body.Permissions, nil
}

// listRolePermissions answers a role's permissions, each with its API's
// name and its scope's description, as Auth0 does.
func (a *API) listRolePermissions(w http.ResponseWriter, r *http.Request, _ caller) error {
	var out struct {
		Permissions []permissionView `json:"permissions"`
	}
	err := a.view(w, func(tx *store.ReadTx) error {
		role, err := tx.Role(r.PathValue("id"))
		out.Permissions = viewPermissions(tx, role.Permissions)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addRolePermissions adds permissions to a role (those it has are kept once)
// and answers 201, as Auth0 does. Each must be a scope of an existing API
// (resource server): otherwise 400 and nothing is added.
func (a *API) addRolePermissions(w http.ResponseWriter, r *http.Request, c caller) error {
	perms, err := decodePermissions(r)
	if err != nil {
		return err
	}
	err = a.update(w, r, c, func(tx *store.Tx) error {
		_, err := tx.UpdateRole(r.PathValue("id"), func(role *store.Role) error {
			role.Permissions = append(role.Permissions, perms...)
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// removeRolePermissions removes permissions from a role; ones it does not
// have are ignored.
func (a *API) removeRolePermissions(w http.ResponseWriter, r *http.Request, c caller) error {
	perms, err := decodePermissions(r)
	if err != nil {
		return err
	}
	err = a.update(w, r, c, func(tx *store.Tx) error {
		_, err := tx.UpdateRole(r.PathValue("id"), func(role *store.Role) error {
			role.Permissions = slices.DeleteFunc(role.Permissions, func(p store.Permission) bool {
				return slices.Contains(perms, p)
			})
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// roleBindingCount counts a role's bindings of one kind, for include_totals.
func roleBindingCount(roleID string, pick func(store.RoleBindingCounts) int) func(*store.ReadTx) (int, error) {
	return func(tx *store.ReadTx) (int, error) {
		counts, err := tx.RoleBindingCounts(roleID)
		return pick(counts), err
	}
}

// listRoleGroups pages the groups a role is bound to at tenant scope, in
// group id order, with from/take (and include_totals).
func (a *API) listRoleGroups(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, checkpointTotals)
	if err != nil {
		return err
	}
	roleID := r.PathValue("id")
	return a.serveList(w, q, listing{
		key: "groups",
		each: func(tx *store.ReadTx, after string, _ func() int, yield yieldFunc) error {
			ids, _, err := tx.RoleGroups(roleID, after, 0)
			if err != nil {
				return err
			}
			for _, id := range ids {
				more, err := yield(id, func() (any, error) {
					g, err := tx.GroupByID(id)
					return viewGroup(tx, g), err
				})
				if err != nil || !more {
					return err
				}
			}
			return nil
		},
		count: roleBindingCount(roleID, func(c store.RoleBindingCounts) int { return c.Groups }),
	})
}

// organizationBindingView is one binding of a role inside an organization:
// to one of its groups (type "group") or to one of its members (type
// "member"), with the names a person needs to recognise it.
type organizationBindingView struct {
	Type             string `json:"type"`
	OrganizationID   string `json:"organization_id"`
	OrganizationName string `json:"organization_name"`
	GroupID          string `json:"group_id,omitempty"`
	GroupName        string `json:"group_name,omitempty"`
	UserID           string `json:"user_id,omitempty"`
	UserName         string `json:"user_name,omitempty"`
	ConnectionID     string `json:"connection_id"`
}

// listRoleOrganizationBindings answers GET /roles/{id}/organization-bindings
// ?type=group|member: the role's bindings at organization scope, ordered by
// organization, then group before member, paged with from/take.
func (a *API) listRoleOrganizationBindings(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, checkpointTotals, "type")
	if err != nil {
		return err
	}
	kinds := store.AllOrganizationBindings
	switch q.get("type") {
	case "":
	case "group":
		kinds = store.OrganizationGroupBindings
	case "member":
		kinds = store.OrganizationMemberBindings
	default:
		return badQuery("Query parameter 'type' must be group or member")
	}
	roleID := r.PathValue("id")
	orgNames := map[string]string{}
	view := func(tx *store.ReadTx, b store.OrganizationRoleBinding) (any, error) {
		v := organizationBindingView{OrganizationID: b.OrganizationID}
		name, ok := orgNames[b.OrganizationID]
		if !ok {
			o, err := tx.Organization(b.OrganizationID)
			if err != nil {
				return nil, err
			}
			name, orgNames[b.OrganizationID] = o.Name, o.Name
		}
		v.OrganizationName = name
		if b.GroupID != "" {
			g, err := tx.GroupByID(b.GroupID)
			if err != nil {
				return nil, err
			}
			v.Type, v.GroupID, v.GroupName, v.ConnectionID = "group", g.ID, g.DisplayName, g.ConnectionID
		} else {
			u, err := tx.UserByID(b.UserID)
			if err != nil {
				return nil, err
			}
			v.Type, v.UserID, v.UserName, v.ConnectionID = "member", u.ID, u.UserName, u.ConnectionID
		}
		return v, nil
	}
	return a.serveList(w, q, listing{
		key: "bindings",
		each: func(tx *store.ReadTx, after string, _ func() int, yield yieldFunc) error {
			for {
				list, next, err := tx.RoleOrganizationBindings(roleID, kinds, after, maxTake)
				if err != nil {
					return err
				}
				for _, b := range list {
					// The store's cursor is the binding's organization and subject ids.
					more, err := yield(b.OrganizationID+b.GroupID+b.UserID, func() (any, error) { return view(tx, b) })
					if err != nil || !more {
						return err
					}
				}
				if next == "" {
					return nil
				}
				after = next
			}
		},
		count: roleBindingCount(roleID, func(c store.RoleBindingCounts) int {
			n := 0
			if kinds&store.OrganizationGroupBindings != 0 {
				n += c.OrganizationGroups
			}
			if kinds&store.OrganizationMemberBindings != 0 {
				n += c.OrganizationMembers
			}
			return n
		}),
	})
}
