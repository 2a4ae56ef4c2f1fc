package roles

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

// listRoles answers GET /roles?name_filter=&from=&take=, in role id order.
func (a *API) listRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	from, take, err := page(r)
	if err != nil {
		return err
	}
	out := struct {
		Roles []roleView `json:"roles"`
		Next  string     `json:"next,omitempty"`
	}{Roles: []roleView{}}
	err = a.view(w, func(tx *store.ReadTx) error {
		roles, next, err := tx.Roles(from, take, r.URL.Query().Get("name_filter"))
		for _, role := range roles {
			out.Roles = append(out.Roles, viewRole(role))
		}
		out.Next = next
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
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
	if err := a.update(w, r, c, func(tx *store.Tx) error { return tx.DeleteRole(r.PathValue("id")) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
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

// includeTotals reads ?include_totals=true|false (default false). With it,
// the role's binding listings carry "total": every binding of the kind
// listed, on every page, as Auth0's listings do.
func includeTotals(r *http.Request) (bool, error) {
	switch r.URL.Query().Get("include_totals") {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, badQuery("include_totals must be true or false")
}

// roleBindingTotal is, when asked (include_totals=true), the number of a
// role's bindings of one kind, or nil.
func roleBindingTotal(tx *store.ReadTx, totals bool, roleID string, pick func(store.RoleBindingCounts) int) (*int, error) {
	if !totals {
		return nil, nil
	}
	counts, err := tx.RoleBindingCounts(roleID)
	n := pick(counts)
	return &n, err
}

// listRoleGroups pages the groups a role is bound to at tenant scope.
func (a *API) listRoleGroups(w http.ResponseWriter, r *http.Request, _ caller) error {
	from, take, err := page(r)
	if err != nil {
		return err
	}
	totals, err := includeTotals(r)
	if err != nil {
		return err
	}
	out := struct {
		Groups []groupView `json:"groups"`
		Next   string      `json:"next,omitempty"`
		Total  *int        `json:"total,omitempty"`
	}{Groups: []groupView{}}
	err = a.view(w, func(tx *store.ReadTx) error {
		roleID := r.PathValue("id")
		ids, next, err := tx.RoleGroups(roleID, from, take)
		if err != nil {
			return err
		}
		for _, id := range ids {
			g, err := tx.GroupByID(id)
			if err != nil {
				return err
			}
			out.Groups = append(out.Groups, viewGroup(tx, g))
		}
		out.Next = next
		out.Total, err = roleBindingTotal(tx, totals, roleID, func(c store.RoleBindingCounts) int { return c.Groups })
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listRoleUsers answers Auth0's GET /roles/{id}/users: the users assigned
// the role directly (not through a group), in user id order, paged with
// from/take.
func (a *API) listRoleUsers(w http.ResponseWriter, r *http.Request, _ caller) error {
	from, take, err := page(r)
	if err != nil {
		return err
	}
	totals, err := includeTotals(r)
	if err != nil {
		return err
	}
	out := struct {
		Users []organizationMemberView `json:"users"`
		Next  string                   `json:"next,omitempty"`
		Total *int                     `json:"total,omitempty"`
	}{Users: []organizationMemberView{}}
	err = a.view(w, func(tx *store.ReadTx) error {
		roleID := r.PathValue("id")
		ids, next, err := tx.RoleUsers(roleID, from, take)
		if err != nil {
			return err
		}
		for _, id := range ids {
			u, err := tx.UserByID(id)
			if err != nil {
				return err
			}
			v, err := viewOrganizationMember(u)
			if err != nil {
				return err
			}
			out.Users = append(out.Users, v)
		}
		out.Next = next
		out.Total, err = roleBindingTotal(tx, totals, roleID, func(c store.RoleBindingCounts) int { return c.Users })
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
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
	from, take, err := page(r)
	if err != nil {
		return err
	}
	totals, err := includeTotals(r)
	if err != nil {
		return err
	}
	kinds := store.AllOrganizationBindings
	switch r.URL.Query().Get("type") {
	case "":
	case "group":
		kinds = store.OrganizationGroupBindings
	case "member":
		kinds = store.OrganizationMemberBindings
	default:
		return badQuery("type must be group or member")
	}
	out := struct {
		Bindings []organizationBindingView `json:"bindings"`
		Next     string                    `json:"next,omitempty"`
		Total    *int                      `json:"total,omitempty"`
	}{Bindings: []organizationBindingView{}}
	err = a.view(w, func(tx *store.ReadTx) error {
		roleID := r.PathValue("id")
		list, next, err := tx.RoleOrganizationBindings(roleID, kinds, from, take)
		if err != nil {
			return err
		}
		orgNames := map[string]string{}
		for _, b := range list {
			v := organizationBindingView{OrganizationID: b.OrganizationID}
			name, ok := orgNames[b.OrganizationID]
			if !ok {
				o, err := tx.Organization(b.OrganizationID)
				if err != nil {
					return err
				}
				name, orgNames[b.OrganizationID] = o.Name, o.Name
			}
			v.OrganizationName = name
			if b.GroupID != "" {
				g, err := tx.GroupByID(b.GroupID)
				if err != nil {
					return err
				}
				v.Type, v.GroupID, v.GroupName, v.ConnectionID = "group", g.ID, g.DisplayName, g.ConnectionID
			} else {
				u, err := tx.UserByID(b.UserID)
				if err != nil {
					return err
				}
				v.Type, v.UserID, v.UserName, v.ConnectionID = "member", u.ID, u.UserName, u.ConnectionID
			}
			out.Bindings = append(out.Bindings, v)
		}
		out.Next = next
		out.Total, err = roleBindingTotal(tx, totals, roleID, func(c store.RoleBindingCounts) int {
			n := 0
			if kinds&store.OrganizationGroupBindings != 0 {
				n += c.OrganizationGroups
			}
			if kinds&store.OrganizationMemberBindings != 0 {
				n += c.OrganizationMembers
			}
			return n
		})
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type groupsBody struct {
	Groups []string `json:"groups"`
}

// bindRoleGroups binds the role to each group in {"groups":[…]} at tenant
// scope, all or nothing.
func (a *API) bindRoleGroups(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.roleGroups(w, r, c, (*store.Tx).BindGroupRoles)
}

// unbindRoleGroups removes the role from each group in {"groups":[…]}.
func (a *API) unbindRoleGroups(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.roleGroups(w, r, c, (*store.Tx).UnbindGroupRoles)
}

func (a *API) roleGroups(w http.ResponseWriter, r *http.Request, c caller, apply func(tx *store.Tx, groupID string, roleIDs []string) (int, error)) error {
	var body groupsBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if err := requireIDs("groups", body.Groups); err != nil {
		return err
	}
	roleID := r.PathValue("id")
	err := a.update(w, r, c, func(tx *store.Tx) error {
		if _, err := tx.Role(roleID); err != nil {
			return err
		}
		// One transaction: an unknown group undoes the ones bound before it.
		for _, gid := range body.Groups {
			if _, err := apply(tx, gid, []string{roleID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
