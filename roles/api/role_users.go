package api

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
