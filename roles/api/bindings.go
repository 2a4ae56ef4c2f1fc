package api

import (
	"net/http"

	"github.com/rolecall/rolecall/store"
)

// roleBinding is one of the four kinds of role binding as the API serves
// them, after the store's table (store/bindings.go): a group or a user
// carries a role at tenant scope, or one of an organization's groups or
// members does inside it. Every kind is served by the same three handlers
// from the subject's side (list, bind and unbind its roles, with a body of
// {"roles":[…]}); the tenant kinds also from the role's side (bind and
// unbind a role to {"groups":[…]} or {"users":[…]}).
type roleBinding struct {
	subject string // "group" or "user": the noun of errors about it and of the role side's body
	// param is the path value naming the subject; inside an organization,
	// {id} names the organization.
	param string
	org   bool
	bind  func(tx *store.Tx, orgID, subject string, roleIDs []string) (int, error)
	// unbind ignores roles that are not bound.
	unbind func(tx *store.Tx, orgID, subject string, roleIDs []string) (int, error)
	roles  func(tx *store.ReadTx, orgID, subject string) ([]string, error)
	// paged: the subject's roles are listed a page at a time, in either
	// style; otherwise all at once, as {"roles":[…]}.
	paged bool
	// status, when set, says whether the subject's bindings of this kind
	// take effect and, if not, why; every listed role carries it. It is
	// read first, so it also decides which missing thing a 404 names.
	status func(tx *store.ReadTx, orgID, subject string) (effective bool, reason string, err error)
}

var (
	groupRoles = &roleBinding{subject: "group", param: "id",
		bind:   func(tx *store.Tx, _, g string, ids []string) (int, error) { return tx.BindGroupRoles(g, ids) },
		unbind: func(tx *store.Tx, _, g string, ids []string) (int, error) { return tx.UnbindGroupRoles(g, ids) },
		roles:  func(tx *store.ReadTx, _, g string) ([]string, error) { return tx.GroupRoles(g) }}
	userRoles = &roleBinding{subject: "user", param: "id", paged: true,
		bind:   func(tx *store.Tx, _, u string, ids []string) (int, error) { return tx.BindUserRoles(u, ids) },
		unbind: func(tx *store.Tx, _, u string, ids []string) (int, error) { return tx.UnbindUserRoles(u, ids) },
		roles:  func(tx *store.ReadTx, _, u string) ([]string, error) { return tx.UserRoles(u) }}
	// A user must be a member (explicit or by auto-membership) to be bound:
	// otherwise 404 inexistent_organization_member.
	orgMemberRoles = &roleBinding{subject: "user", param: "user_id", org: true, paged: true,
		bind:   (*store.Tx).BindOrganizationMemberRoles,
		unbind: (*store.Tx).UnbindOrganizationMemberRoles,
		roles:  (*store.ReadTx).OrganizationMemberRoles}
	// A group whose connection is not enabled on the organization is no
	// Organization Group: 404 inexistent_organization_group, for reading as
	// for binding. Unbinding works whether or not the connection is still
	// enabled, so inert bindings can be cleaned up.
	orgGroupRoles = &roleBinding{subject: "group", param: "group_id", org: true,
		bind:   (*store.Tx).BindOrganizationGroupRoles,
		unbind: (*store.Tx).UnbindOrganizationGroupRoles,
		roles:  (*store.ReadTx).OrganizationGroupRoles,
		status: organizationGroupStatus}
)

// ids are the organization (or "") and the subject a request addresses.
func (k *roleBinding) ids(r *http.Request) (orgID, subject string) {
	if k.org {
		orgID = r.PathValue("id")
	}
	return orgID, r.PathValue(k.param)
}

// reasonAutoMembershipDisabled is why an organization-scope group binding is
// inert (DESIGN §7).
const reasonAutoMembershipDisabled = "auto_membership_disabled"

// organizationGroupStatus: a group's bindings in an organization take effect
// exactly while its connection has assign_membership_on_login; otherwise
// they are kept but inert. Bindings left from a connection since disabled
// are not listed (the group is no longer the organization's: 404), and can
// still be removed with DELETE.
func organizationGroupStatus(tx *store.ReadTx, orgID, groupID string) (bool, string, error) {
	g, err := tx.OrganizationGroup(orgID, groupID)
	if err != nil {
		return false, "", err
	}
	ec, err := tx.EnabledConnection(orgID, g.ConnectionID)
	if err != nil {
		return false, "", err
	}
	if !ec.AssignMembershipOnLogin {
		return false, reasonAutoMembershipDisabled, nil
	}
	return true, "", nil
}

// roleStatusView is a listed role with whether its binding takes effect
// and, if not, why.
type roleStatusView struct {
	roleView
	Effective bool   `json:"effective"`
	Reason    string `json:"reason,omitempty"`
}

// listRoles answers GET …/roles of a subject: in pages of roles in id
// order, or all at once, as k says.
func (k *roleBinding) listRoles(a *API) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ caller) error {
		orgID, subject := k.ids(r)
		if k.paged {
			q, err := parseList(r, bothPagings)
			if err != nil {
				return err
			}
			return a.serveList(w, q, roleIDListing(func(tx *store.ReadTx) ([]string, error) { return k.roles(tx, orgID, subject) }))
		}
		out := struct {
			Roles []any `json:"roles"`
		}{Roles: []any{}}
		err := a.view(w, func(tx *store.ReadTx) error {
			effective, reason := true, ""
			if k.status != nil {
				var err error
				if effective, reason, err = k.status(tx, orgID, subject); err != nil {
					return err
				}
			}
			ids, err := k.roles(tx, orgID, subject)
			if err != nil {
				return err
			}
			views, err := viewRoles(tx, ids)
			for _, v := range views {
				if k.status != nil {
					out.Roles = append(out.Roles, roleStatusView{v, effective, reason})
				} else {
					out.Roles = append(out.Roles, v)
				}
			}
			return err
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// bindRoles answers POST …/roles of a subject (bind: all or nothing; roles
// already bound are skipped) and DELETE (unbind: roles not bound are
// ignored), with {"roles":[…]}. 204.
func (k *roleBinding) bindRoles(a *API, bind bool) handlerFunc {
	apply := k.unbind
	if bind {
		apply = k.bind
	}
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		roleIDs, err := decodeRolesBody(r)
		if err != nil {
			return err
		}
		orgID, subject := k.ids(r)
		err = a.update(w, r, c, func(tx *store.Tx) error {
			_, err := apply(tx, orgID, subject, roleIDs)
			return err
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// bindSubjects answers POST and DELETE /roles/{id}/groups and /users: the
// role {id} bound to (or unbound from) each subject of {"groups":[…]} or
// {"users":[…]}, in one transaction, so an unknown subject (404
// inexistent_<subject>) undoes the ones before it. The same write, audited
// the same way, as from each subject's side. 204.
func (k *roleBinding) bindSubjects(a *API, bind bool) handlerFunc {
	apply := k.unbind
	if bind {
		apply = k.bind
	}
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		subjects, err := k.decodeSubjects(r)
		if err != nil {
			return err
		}
		roleID := r.PathValue("id")
		err = a.update(w, r, c, func(tx *store.Tx) error {
			if _, err := tx.Role(roleID); err != nil {
				return err
			}
			for _, s := range subjects {
				if _, err := apply(tx, "", s, []string{roleID}); err != nil {
					return about(k.subject, err)
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
}

// decodeSubjects reads the role side's body, {"groups":[ids]} or
// {"users":[ids]} after the kind's subject.
func (k *roleBinding) decodeSubjects(r *http.Request) ([]string, error) {
	var ids []string
	if k.subject == "group" {
		var body struct {
			Groups []string `json:"groups"`
		}
		if err := decodeBody(r, &body); err != nil {
			return nil, err
		}
		ids = body.Groups
	} else {
		var body struct {
			Users []string `json:"users"`
		}
		if err := decodeBody(r, &body); err != nil {
			return nil, err
		}
		ids = body.Users
	}
	return ids, requireIDs(k.subject+"s", ids)
}
