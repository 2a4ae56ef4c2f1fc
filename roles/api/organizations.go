package api

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
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

// listOrganizations pages the organizations in id order, in either style.
func (a *API) listOrganizations(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, bothPagings)
	if err != nil {
		return err
	}
	return a.serveList(w, q, listing{key: "organizations", each: func(tx *store.ReadTx, after string, _ func() int, yield yieldFunc) error {
		for {
			orgs, more, err := tx.Organizations(after, maxTake)
			if err != nil {
				return err
			}
			for _, o := range orgs {
				v := viewOrganization(o)
				if ok, err := yield(o.ID, func() (any, error) { return v, nil }); err != nil || !ok {
					return err
				}
			}
			if more == "" || len(orgs) == 0 {
				return nil
			}
			after = orgs[len(orgs)-1].ID
		}
	}})
}

func (a *API) getOrganization(w http.ResponseWriter, r *http.Request, _ caller) error {
	return a.answerOrganization(w, func(tx *store.ReadTx) (store.Organization, error) { return tx.Organization(r.PathValue("id")) })
}

// organizationSubresource answers GET /organizations/{id}/{sub} for what no
// more specific route takes: GET /organizations/name/{name} (Auth0's lookup
// by name; a route of its own would clash with /organizations/{id}/members
// and its siblings in the mux), else the API's JSON 404.
func (a *API) organizationSubresource(w http.ResponseWriter, r *http.Request, _ caller) error {
	if r.PathValue("id") != "name" {
		return newError(http.StatusNotFound, "not_found", "no endpoint %s %s", r.Method, r.URL.Path)
	}
	name := r.PathValue("sub")
	return a.answerOrganization(w, func(tx *store.ReadTx) (store.Organization, error) { return tx.OrganizationByName(name) })
}

func (a *API) answerOrganization(w http.ResponseWriter, read func(tx *store.ReadTx) (store.Organization, error)) error {
	var view organizationView
	err := a.view(w, func(tx *store.ReadTx) error {
		o, err := read(tx)
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
	return a.updateNoContent(w, r, c, func(tx *store.Tx) error { return tx.DeleteOrganization(r.PathValue("id")) })
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

// listEnabledConnections lists the connections enabled on an organization,
// in connection id order, paged in either style.
func (a *API) listEnabledConnections(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, bothPagings)
	if err != nil {
		return err
	}
	orgID := r.PathValue("id")
	return a.serveList(w, q, idListing("enabled_connections", func(tx *store.ReadTx) ([]string, error) {
		ecs, err := tx.EnabledConnections(orgID)
		ids := make([]string, len(ecs))
		for i, ec := range ecs {
			ids[i] = ec.ConnectionID
		}
		return ids, err
	}, func(tx *store.ReadTx, id string) (any, error) {
		ec, err := tx.EnabledConnection(orgID, id)
		if err != nil {
			return nil, err
		}
		return viewEnabledConnection(tx, ec)
	}))
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

// organizationMemberView is a member of an organization (or a user of a
// role). Membership, in member lists only, says how the user is a member:
// "explicit" (added as a member, whatever else) or "auto" (a user of a
// connection enabled on the organization with auto-membership).
type organizationMemberView struct {
	UserID       string `json:"user_id"`
	ConnectionID string `json:"connection_id"`
	UserName     string `json:"user_name"`
	DisplayName  string `json:"display_name,omitempty"`
	Email        string `json:"email,omitempty"`
	Active       bool   `json:"active"`
	Membership   string `json:"membership,omitempty"`
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

// listOrganizationMembers pages an organization's members, explicit and by
// auto-membership, each listed once and marked (organizationMemberView),
// in either paging style.
//
// The listing is one stream in two parts, so that a page costs O(page) and
// paging loses nothing: first the users of each connection enabled with
// auto-membership (connections in id order, users in creation order from the
// connection's order index, each marked explicit when also added
// explicitly), then the explicit members of other connections in user id
// order (an explicit member whose connection is an auto one was listed in
// the first part and is skipped). A cursor in the first part is
// "<connection id>:<sequence>", one in the second a user id; a cursor whose
// connection no longer has auto-membership resumes at the next one that has.
func (a *API) listOrganizationMembers(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, bothPagings)
	if err != nil {
		return err
	}
	orgID := r.PathValue("id")
	autoConnections := func(tx *store.ReadTx) ([]string, error) {
		ecs, err := tx.EnabledConnections(orgID) // in connection id order
		var ids []string
		for _, ec := range ecs {
			if ec.AssignMembershipOnLogin {
				ids = append(ids, ec.ConnectionID)
			}
		}
		return ids, err
	}
	view := func(u store.User, explicit bool) func() (any, error) {
		return func() (any, error) {
			v, err := viewOrganizationMember(u)
			v.Membership = membershipOf(explicit)
			return v, err
		}
	}
	each := func(tx *store.ReadTx, after string, room func() int, yield yieldFunc) error {
		autos, err := autoConnections(tx)
		if err != nil {
			return err
		}
		startCon, seq, explicitAfter := "", uint64(0), ""
		if con, s, ok := strings.Cut(after, ":"); ok {
			n, perr := strconv.ParseUint(s, 10, 64)
			if perr != nil || !store.ValidID(store.PrefixConnection, con) {
				return badQuery("'from' is not a cursor of this listing")
			}
			startCon, seq = con, n
		} else if after != "" {
			if !store.ValidID(store.PrefixUser, after) {
				return badQuery("'from' is not a cursor of this listing")
			}
			explicitAfter = after
		}
		if explicitAfter == "" {
			for _, con := range autos {
				if con < startCon {
					continue
				}
				from := uint64(0)
				if con == startCon {
					from = seq
				}
				for {
					users, more, err := tx.UsersAfter(con, from, room())
					if err != nil {
						return err
					}
					for _, u := range users {
						from = u.Sequence()
						cursor := con + ":" + strconv.FormatUint(from, 10)
						if ok, err := yield(cursor, view(u, tx.IsExplicitOrganizationMember(orgID, u.ID))); err != nil || !ok {
							return err
						}
					}
					if !more || len(users) == 0 {
						break
					}
				}
			}
		}
		for {
			ids, next, err := tx.OrganizationMemberIDs(orgID, explicitAfter, maxTake)
			if err != nil {
				return err
			}
			for _, id := range ids {
				conID, err := tx.UserConnectionID(id)
				if err != nil {
					return err
				}
				if slices.Contains(autos, conID) {
					continue // listed with its connection
				}
				u, err := tx.UserByID(id)
				if err != nil {
					return err
				}
				if ok, err := yield(id, view(u, true)); err != nil || !ok {
					return err
				}
			}
			if next == "" {
				return nil
			}
			explicitAfter = next
		}
	}
	count := func(tx *store.ReadTx) (int, error) {
		autos, err := autoConnections(tx)
		if err != nil {
			return 0, err
		}
		n := 0
		for _, con := range autos {
			n += tx.UserCount(con)
		}
		ids, _, err := tx.OrganizationMemberIDs(orgID, "", 0)
		for _, id := range ids {
			conID, err := tx.UserConnectionID(id)
			if err != nil {
				return 0, err
			}
			if !slices.Contains(autos, conID) {
				n++
			}
		}
		return n, err
	}
	return a.serveList(w, q, listing{key: "members", each: each, count: count})
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
	q, err := parseList(r, checkpointPaging, "search")
	if err != nil {
		return err
	}
	from, take := q.from, q.take
	startCon, inner := "", ""
	if from != "" {
		var ok bool
		if startCon, inner, ok = strings.Cut(from, ":"); !ok || !store.ValidID(store.PrefixConnection, startCon) {
			return badQuery("'from' is not a cursor of this listing")
		}
	}
	search := q.get("search")
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
