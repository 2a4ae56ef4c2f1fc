package roles

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rolecall/rolecall/store"
)

// organizationView is an organization as the Management API shows it.
type organizationView struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	DisplayName string            `json:"display_name,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

func viewOrganization(o store.Organization) organizationView {
	return organizationView{ID: o.ID, Name: o.Name, DisplayName: o.DisplayName, Metadata: o.Metadata, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// Auth0 organization names: lower-case letters, digits, '-' and '_', up to 50
// characters, starting and ending with a letter or digit.
var organizationName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9_-]{0,48}[a-z0-9])?$`)

// Auth0's limits on organization metadata.
const (
	maxMetadataKeys     = 25
	maxMetadataValueLen = 255
	maxDisplayNameLen   = 255
)

type organizationBody struct {
	Name        *string            `json:"name"`
	DisplayName *string            `json:"display_name"`
	Metadata    *map[string]string `json:"metadata"`
}

// validate checks the fields present; create additionally requires a name.
func (b organizationBody) validate() error {
	if b.Name != nil && !organizationName.MatchString(*b.Name) {
		return badBody("Payload validation error: 'name' must be 1-50 lower-case letters, digits, '-' and '_', starting and ending with a letter or digit")
	}
	if b.DisplayName != nil && utf8.RuneCountInString(*b.DisplayName) > maxDisplayNameLen {
		return badBody("Payload validation error: 'display_name' must be at most %d characters", maxDisplayNameLen)
	}
	if b.Metadata != nil {
		if len(*b.Metadata) > maxMetadataKeys {
			return badBody("Payload validation error: 'metadata' holds at most %d keys", maxMetadataKeys)
		}
		for k, v := range *b.Metadata {
			if k == "" || utf8.RuneCountInString(k) > maxMetadataValueLen || utf8.RuneCountInString(v) > maxMetadataValueLen {
				return badBody("Payload validation error: 'metadata' keys must be 1-%d and values at most %d characters", maxMetadataValueLen, maxMetadataValueLen)
			}
		}
	}
	return nil
}

func (a *API) createOrganization(w http.ResponseWriter, r *http.Request, c caller) error {
	var body organizationBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.Name == nil {
		return badBody("Payload validation error: 'name' is required")
	}
	if err := body.validate(); err != nil {
		return err
	}
	o := store.Organization{Name: *body.Name}
	if body.DisplayName != nil {
		o.DisplayName = *body.DisplayName
	}
	if body.Metadata != nil {
		o.Metadata = *body.Metadata
	}
	var view organizationView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		created, err := tx.CreateOrganization(o)
		view = viewOrganization(created)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, view)
	return nil
}

func (a *API) listOrganizations(w http.ResponseWriter, r *http.Request, _ caller) error {
	from, take, err := page(r)
	if err != nil {
		return err
	}
	out := struct {
		Organizations []organizationView `json:"organizations"`
		Next          string             `json:"next,omitempty"`
	}{Organizations: []organizationView{}}
	err = a.view(w, func(tx *store.ReadTx) error {
		orgs, more, err := tx.Organizations(from, take)
		for _, o := range orgs {
			out.Organizations = append(out.Organizations, viewOrganization(o))
		}
		// The cursor is the last organization listed, which the store starts
		// after; its own next names the first one of the following page.
		if more != "" && len(orgs) > 0 {
			out.Next = orgs[len(orgs)-1].ID
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getOrganization(w http.ResponseWriter, r *http.Request, _ caller) error {
	var view organizationView
	err := a.view(w, func(tx *store.ReadTx) error {
		o, err := tx.Organization(r.PathValue("id"))
		view = viewOrganization(o)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (a *API) updateOrganization(w http.ResponseWriter, r *http.Request, c caller) error {
	var body organizationBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if err := body.validate(); err != nil {
		return err
	}
	var view organizationView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		o, err := tx.UpdateOrganization(r.PathValue("id"), func(o *store.Organization) error {
			if body.Name != nil {
				o.Name = *body.Name
			}
			if body.DisplayName != nil {
				o.DisplayName = *body.DisplayName
			}
			if body.Metadata != nil {
				o.Metadata = *body.Metadata
			}
			return nil
		})
		view = viewOrganization(o)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// deleteOrganization deletes an organization with its enabled connections,
// members and role bindings (cascades, in the same transaction).
func (a *API) deleteOrganization(w http.ResponseWriter, r *http.Request, c caller) error {
	if err := a.update(w, r, c, func(tx *store.Tx) error { return tx.DeleteOrganization(r.PathValue("id")) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// enabledConnectionView is Auth0's enabled-connection object.
type enabledConnectionView struct {
	ConnectionID            string `json:"connection_id"`
	AssignMembershipOnLogin bool   `json:"assign_membership_on_login"`
	Connection              struct {
		Name     string `json:"name"`
		Strategy string `json:"strategy"`
	} `json:"connection"`
}

func viewEnabledConnection(tx *store.ReadTx, ec store.EnabledConnection) (enabledConnectionView, error) {
	v := enabledConnectionView{ConnectionID: ec.ConnectionID, AssignMembershipOnLogin: ec.AssignMembershipOnLogin}
	conn, err := tx.Connection(ec.ConnectionID)
	v.Connection.Name, v.Connection.Strategy = conn.Name, conn.Strategy
	return v, err
}

func (a *API) listEnabledConnections(w http.ResponseWriter, r *http.Request, _ caller) error {
	out := struct {
		EnabledConnections []enabledConnectionView `json:"enabled_connections"`
	}{EnabledConnections: []enabledConnectionView{}}
	err := a.view(w, func(tx *store.ReadTx) error {
		ecs, err := tx.EnabledConnections(r.PathValue("id"))
		if err != nil {
			return err
		}
		for _, ec := range ecs {
			v, err := viewEnabledConnection(tx, ec)
			if err != nil {
				return err
			}
			out.EnabledConnections = append(out.EnabledConnections, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) enableConnection(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		ConnectionID            string `json:"connection_id"`
		AssignMembershipOnLogin bool   `json:"assign_membership_on_login"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.ConnectionID == "" {
		return badBody("Payload validation error: 'connection_id' is required")
	}
	var view enabledConnectionView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		// An unknown organization or connection is named by the store; a
		// connection already enabled is an enabled_connection conflict.
		ec, err := tx.EnableConnection(r.PathValue("id"), body.ConnectionID, body.AssignMembershipOnLogin)
		if err != nil {
			return about("enabled_connection", err)
		}
		view, err = viewEnabledConnection(&tx.ReadTx, ec)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, view)
	return nil
}

// enabledConnection loads one enabled connection: an unknown organization is
// inexistent_organization, a connection not enabled on it (or unknown)
// inexistent_connection.
func enabledConnection(tx *store.ReadTx, orgID, connectionID string) (store.EnabledConnection, error) {
	if _, err := tx.Organization(orgID); err != nil {
		return store.EnabledConnection{}, about("organization", err)
	}
	ec, err := tx.EnabledConnection(orgID, connectionID)
	return ec, about("connection", err)
}

func (a *API) getEnabledConnection(w http.ResponseWriter, r *http.Request, _ caller) error {
	var view enabledConnectionView
	err := a.view(w, func(tx *store.ReadTx) error {
		ec, err := enabledConnection(tx, r.PathValue("id"), r.PathValue("connection_id"))
		if err != nil {
			return err
		}
		view, err = viewEnabledConnection(tx, ec)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (a *API) updateEnabledConnection(w http.ResponseWriter, r *http.Request, c caller) error {
	var body struct {
		AssignMembershipOnLogin *bool `json:"assign_membership_on_login"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if body.AssignMembershipOnLogin == nil {
		return badBody("Payload validation error: 'assign_membership_on_login' is required")
	}
	var view enabledConnectionView
	err := a.update(w, r, c, func(tx *store.Tx) error {
		orgID, conID := r.PathValue("id"), r.PathValue("connection_id")
		if _, err := enabledConnection(&tx.ReadTx, orgID, conID); err != nil {
			return err
		}
		ec, err := tx.UpdateEnabledConnection(orgID, conID, *body.AssignMembershipOnLogin)
		if err != nil {
			return err
		}
		view, err = viewEnabledConnection(&tx.ReadTx, ec)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// disableConnection removes a connection from an organization. Organization
// bindings of its groups are kept, inert (see listOrganizationGroupRoles).
func (a *API) disableConnection(w http.ResponseWriter, r *http.Request, c caller) error {
	err := a.update(w, r, c, func(tx *store.Tx) error {
		orgID, conID := r.PathValue("id"), r.PathValue("connection_id")
		if _, err := enabledConnection(&tx.ReadTx, orgID, conID); err != nil {
			return err
		}
		return tx.DisableConnection(orgID, conID)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// organizationMemberView is an explicit member of an organization.
type organizationMemberView struct {
	UserID       string `json:"user_id"`
	ConnectionID string `json:"connection_id"`
	UserName     string `json:"user_name"`
	DisplayName  string `json:"display_name,omitempty"`
	Email        string `json:"email,omitempty"`
	Active       bool   `json:"active"`
}

func viewOrganizationMember(u store.User) (organizationMemberView, error) {
	v := organizationMemberView{UserID: u.ID, ConnectionID: u.ConnectionID, UserName: u.UserName, Active: u.Active}
	doc, err := decodeUserDoc(u)
	v.DisplayName = doc.DisplayName
	for i, e := range doc.Emails {
		if i == 0 || e.Primary {
			v.Email = e.Value
		}
		if e.Primary {
			break
		}
	}
	return v, err
}

// listOrganizationMembers pages the explicit members, in user id order.
// Members by auto-membership are every user of a connection: they are listed
// by GET /users?connection_id=.
func (a *API) listOrganizationMembers(w http.ResponseWriter, r *http.Request, _ caller) error {
	from, take, err := page(r)
	if err != nil {
		return err
	}
	out := struct {
		Members []organizationMemberView `json:"members"`
		Next    string                   `json:"next,omitempty"`
	}{Members: []organizationMemberView{}}
	err = a.view(w, func(tx *store.ReadTx) error {
		ids, next, err := tx.OrganizationMembers(r.PathValue("id"), from, take)
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
			out.Members = append(out.Members, v)
		}
		out.Next = next
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type membersBody struct {
	Members []string `json:"members"`
}

func (a *API) addOrganizationMembers(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.organizationMembers(w, r, c, (*store.Tx).AddOrganizationMembers)
}

// removeOrganizationMembers removes explicit members with their roles in the
// organization; users that are not members are ignored.
func (a *API) removeOrganizationMembers(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.organizationMembers(w, r, c, (*store.Tx).RemoveOrganizationMembers)
}

func (a *API) organizationMembers(w http.ResponseWriter, r *http.Request, c caller, apply func(tx *store.Tx, orgID string, userIDs []string) (int, error)) error {
	var body membersBody
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if err := requireIDs("members", body.Members); err != nil {
		return err
	}
	err := a.update(w, r, c, func(tx *store.Tx) error {
		_, err := apply(tx, r.PathValue("id"), body.Members)
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listOrganizationMemberRoles lists a user's roles within an organization.
func (a *API) listOrganizationMemberRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	out := struct {
		Roles []roleView `json:"roles"`
	}{}
	err := a.view(w, func(tx *store.ReadTx) error {
		ids, err := tx.OrganizationMemberRoles(r.PathValue("id"), r.PathValue("user_id"))
		if err != nil {
			return err
		}
		out.Roles, err = viewRoles(tx, ids)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// bindOrganizationMemberRoles assigns roles to a member (explicit or by
// auto-membership) within the organization; a user who is not a member is
// 404 inexistent_organization_member.
func (a *API) bindOrganizationMemberRoles(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.organizationMemberRoles(w, r, c, true)
}

func (a *API) unbindOrganizationMemberRoles(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.organizationMemberRoles(w, r, c, false)
}

func (a *API) organizationMemberRoles(w http.ResponseWriter, r *http.Request, c caller, bind bool) error {
	roleIDs, err := decodeRolesBody(r)
	if err != nil {
		return err
	}
	orgID, userID := r.PathValue("id"), r.PathValue("user_id")
	apply := (*store.Tx).UnbindOrganizationMemberRoles
	if bind {
		apply = (*store.Tx).BindOrganizationMemberRoles
	}
	err = a.update(w, r, c, func(tx *store.Tx) error {
		_, err := apply(tx, orgID, userID, roleIDs)
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// organizationGroupView is one of an organization's groups: a group of one
// of its enabled connections, with that connection's auto-membership flag.
type organizationGroupView struct {
	groupView
	AutoMembership bool `json:"auto_membership"`
}

// listOrganizationGroups pages the groups of the organization's enabled
// connections, connection by connection (in connection id order), each in
// its creation order, or in id order with a search. The cursor is
// "<connection id>:<the store's cursor within that connection>".
func (a *API) listOrganizationGroups(w http.ResponseWriter, r *http.Request, _ caller) error {
	from, take, err := page(r)
	if err != nil {
		return err
	}
	startCon, inner := "", ""
	if from != "" {
		var ok bool
		if startCon, inner, ok = strings.Cut(from, ":"); !ok || !store.ValidID(store.PrefixConnection, startCon) {
			return badQuery("'from' is not a cursor of this listing")
		}
	}
	search := r.URL.Query().Get("search")
	out := struct {
		Groups []organizationGroupView `json:"groups"`
		Next   string                  `json:"next,omitempty"`
	}{Groups: []organizationGroupView{}}
	err = a.view(w, func(tx *store.ReadTx) error {
		ecs, err := tx.EnabledConnections(r.PathValue("id"))
		if err != nil {
			return err
		}
		for _, ec := range ecs {
			if ec.ConnectionID < startCon {
				continue
			}
			q, after := store.GroupQuery{ConnectionID: ec.ConnectionID, Search: search}, ""
			if ec.ConnectionID == startCon {
				after = inner
			}
			if len(out.Groups) == take {
				// The page is full; a following page exists if this
				// connection has a group to show.
				more, _, err := tx.QueryGroups(q, "", 1)
				if err != nil {
					return err
				}
				if len(more) > 0 {
					out.Next = ec.ConnectionID + ":"
					return nil
				}
				continue
			}
			groups, next, err := tx.QueryGroups(q, after, take-len(out.Groups))
			if err != nil {
				return listQueryError(err)
			}
			for _, g := range groups {
				out.Groups = append(out.Groups, organizationGroupView{viewGroup(tx, g), ec.AssignMembershipOnLogin})
			}
			if next != "" {
				out.Next = ec.ConnectionID + ":" + next
				return nil
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

// Reasons an organization-scope group binding is inert (DESIGN §7).
const (
	reasonAutoMembershipDisabled = "auto_membership_disabled"
	reasonConnectionNotEnabled   = "connection_not_enabled"
)

// organizationGroupRoleView is a role bound to a group at organization
// scope, saying whether the binding takes effect and, if not, why.
type organizationGroupRoleView struct {
	roleView
	Effective bool   `json:"effective"`
	Reason    string `json:"reason,omitempty"`
}

// listOrganizationGroupRoles lists a group's roles at organization scope.
// Bindings take effect exactly while the group's connection is enabled on
// the organization with assign_membership_on_login; otherwise they are kept
// but inert, and each says why. The group need not be an organization group
// any more (its connection may have been disabled): its bindings still show.
func (a *API) listOrganizationGroupRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	out := struct {
		Roles []organizationGroupRoleView `json:"roles"`
	}{Roles: []organizationGroupRoleView{}}
	err := a.view(w, func(tx *store.ReadTx) error {
		orgID := r.PathValue("id")
		if _, err := tx.Organization(orgID); err != nil {
			return err
		}
		g, err := tx.GroupByID(r.PathValue("group_id"))
		if err != nil {
			return err
		}
		effective, reason := true, ""
		ec, err := tx.EnabledConnection(orgID, g.ConnectionID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			effective, reason = false, reasonConnectionNotEnabled
		case err != nil:
			return err
		case !ec.AssignMembershipOnLogin:
			effective, reason = false, reasonAutoMembershipDisabled
		}
		ids, err := tx.OrganizationGroupRoles(orgID, g.ID)
		if err != nil {
			return err
		}
		roles, err := viewRoles(tx, ids)
		for _, role := range roles {
			out.Roles = append(out.Roles, organizationGroupRoleView{role, effective, reason})
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// bindOrganizationGroupRoles binds roles to one of the organization's groups
// at organization scope. A group whose connection is not enabled on the
// organization is 404 inexistent_organization_group. The bindings take effect
// while the connection has auto-membership on.
func (a *API) bindOrganizationGroupRoles(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.organizationGroupRoles(w, r, c, true)
}

// unbindOrganizationGroupRoles removes organization-scope bindings of a
// group, whether or not its connection is still enabled, so inert bindings
// can be cleaned up.
func (a *API) unbindOrganizationGroupRoles(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.organizationGroupRoles(w, r, c, false)
}

func (a *API) organizationGroupRoles(w http.ResponseWriter, r *http.Request, c caller, bind bool) error {
	roleIDs, err := decodeRolesBody(r)
	if err != nil {
		return err
	}
	orgID, groupID := r.PathValue("id"), r.PathValue("group_id")
	apply := (*store.Tx).UnbindOrganizationGroupRoles
	if bind {
		apply = (*store.Tx).BindOrganizationGroupRoles
	}
	err = a.update(w, r, c, func(tx *store.Tx) error {
		_, err := apply(tx, orgID, groupID, roleIDs)
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
