package roles

import (
	"net/http"

	"github.com/rolecall/rolecall/store"
)

// A role's direct users, from the role's side: Auth0's GET, POST and DELETE
// /roles/{id}/users. Assigning from here is the same write as POST
// /users/{id}/roles for each user, audited the same way (user.role.assigned).

// listRoleUsers answers GET /roles/{id}/users: the users assigned the role
// directly (not through a group), in user id order, paged in either style.
func (a *API) listRoleUsers(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, bothPagings)
	if err != nil {
		return err
	}
	roleID := r.PathValue("id")
	return a.serveList(w, q, listing{
		key: "users",
		each: func(tx *store.ReadTx, after string, _ func() int, yield yieldFunc) error {
			for {
				ids, next, err := tx.RoleUsers(roleID, after, maxTake)
				if err != nil {
					return err
				}
				for _, id := range ids {
					more, err := yield(id, func() (any, error) {
						u, err := tx.UserByID(id)
						if err != nil {
							return nil, err
						}
						return viewOrganizationMember(u)
					})
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
		count: roleBindingCount(roleID, func(c store.RoleBindingCounts) int { return c.Users }),
	})
}

type usersBody struct {
	Users []string `json:"users"`
}

// assignRoleUsers assigns the role directly to each user of {"users":[…]}:
// all or nothing (an unknown user is 404 inexistent_user and nothing is
// assigned); users who have it already are skipped. 204.
func (a *API) assignRoleUsers(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.roleUsers(w, r, c, (*store.Tx).BindUserRoles)
}

// removeRoleUsers removes the role's direct assignment from each user of
// {"users":[…]}; users who do not have it are ignored. Roles through groups
// are untouched. 204.
func (a *API) removeRoleUsers(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.roleUsers(w, r, c, (*store.Tx).UnbindUserRoles)
}

func (a *API) roleUsers(w http.ResponseWriter, r *http.Request, c caller, apply func(tx *store.Tx, userID string, roleIDs []string) (int, error)) error {
	var body usersBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if err := requireIDs("users", body.Users); err != nil {
		return err
	}
	roleID := r.PathValue("id")
	err := a.update(w, r, c, func(tx *store.Tx) error {
		if _, err := tx.Role(roleID); err != nil {
			return err
		}
		for _, uid := range body.Users {
			if _, err := apply(tx, uid, []string{roleID}); err != nil {
				return about("user", err)
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
