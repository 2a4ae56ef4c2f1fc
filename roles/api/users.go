package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/rolecall/rolecall/store"
)

// userView is a synced user as the Management API shows it: the indexed
// fields plus the profile attributes of its SCIM document, in snake_case.
type userView struct {
	UserID       string      `json:"user_id"`
	ConnectionID string      `json:"connection_id"`
	UserName     string      `json:"user_name"`
	ExternalID   string      `json:"external_id,omitempty"`
	Active       bool        `json:"active"`
	Emails       []emailView `json:"emails,omitempty"`
	Name         *nameView   `json:"name,omitempty"`
	DisplayName  string      `json:"display_name,omitempty"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

type emailView struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

type nameView struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"family_name,omitempty"`
	GivenName       string `json:"given_name,omitempty"`
	MiddleName      string `json:"middle_name,omitempty"`
	HonorificPrefix string `json:"honorific_prefix,omitempty"`
	HonorificSuffix string `json:"honorific_suffix,omitempty"`
}

// userDoc is the part of a user's SCIM document the Management API shows.
// Documents are normalised by the SCIM surface (canonical attribute names,
// booleans as booleans), so they decode into it.
type userDoc struct {
	DisplayName string `json:"displayName"`
	Emails      []struct {
		Value   string `json:"value"`
		Type    string `json:"type"`
		Primary bool   `json:"primary"`
	} `json:"emails"`
	Name *struct {
		Formatted       string `json:"formatted"`
		FamilyName      string `json:"familyName"`
		GivenName       string `json:"givenName"`
		MiddleName      string `json:"middleName"`
		HonorificPrefix string `json:"honorificPrefix"`
		HonorificSuffix string `json:"honorificSuffix"`
	} `json:"name"`
}

func decodeUserDoc(u store.User) (userDoc, error) {
	var doc userDoc
	if len(u.Doc) == 0 {
		return doc, nil
	}
	if err := json.Unmarshal(u.Doc, &doc); err != nil {
		return doc, fmt.Errorf("roles: decode the document of user %s: %w", u.ID, err)
	}
	return doc, nil
}

func viewUser(u store.User) (userView, error) {
	v := userView{
		UserID: u.ID, ConnectionID: u.ConnectionID, UserName: u.UserName, ExternalID: u.ExternalID,
		Active: u.Active, CreatedAt: u.Created, UpdatedAt: u.Modified,
	}
	doc, err := decodeUserDoc(u)
	if err != nil {
		return v, err
	}
	v.DisplayName = doc.DisplayName
	for _, e := range doc.Emails {
		v.Emails = append(v.Emails, emailView{Value: e.Value, Type: e.Type, Primary: e.Primary})
	}
	if n := doc.Name; n != nil {
		v.Name = &nameView{
			Formatted: n.Formatted, FamilyName: n.FamilyName, GivenName: n.GivenName,
			MiddleName: n.MiddleName, HonorificPrefix: n.HonorificPrefix, HonorificSuffix: n.HonorificSuffix,
		}
	}
	return v, nil
}

// listUsers answers GET /users?connection_id=&user_name=&external_id=&search=:
// user_name (case-insensitive) and external_id (exact) come from the store's
// indexes, a connection alone from its creation order, a search (a
// case-insensitive substring of userName, externalId or an email) from a
// paged scan in user id order. Paged in either style (api_list.go); Auth0's
// q, sort, fields and the like are refused, never ignored.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, bothPagings, "connection_id", "user_name", "external_id", "search")
	if err != nil {
		return err
	}
	uq := store.UserQuery{ConnectionID: q.get("connection_id"), UserName: q.get("user_name"), ExternalID: q.get("external_id"), Search: q.get("search")}
	l := listing{key: "users", each: func(tx *store.ReadTx, after string, _ func() int, yield yieldFunc) error {
		// One user per read: a user's document can be megabytes, and only
		// the page budget may decide how many are held.
		for {
			users, next, err := tx.QueryUsers(uq, after, 1)
			if err != nil {
				return about("connection", listQueryError(err))
			}
			if len(users) == 0 {
				return nil
			}
			// next, when set, is the cursor just after this user.
			more, err := yield(next, func() (any, error) { return viewUser(users[0]) })
			if err != nil || !more || next == "" {
				return err
			}
			after = next
		}
	}}
	if uq == (store.UserQuery{ConnectionID: uq.ConnectionID}) && uq.ConnectionID != "" {
		// A connection alone: its counter, not a walk.
		l.count = func(tx *store.ReadTx) (int, error) { return tx.UserCount(uq.ConnectionID), nil }
	}
	return a.serveList(w, q, l)
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, _ caller) error {
	var view userView
	err := a.view(w, func(tx *store.ReadTx) error {
		u, err := tx.UserByID(r.PathValue("id"))
		if err != nil {
			return err
		}
		view, err = viewUser(u)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// listUserGroups lists the groups the user is a direct member of.
func (a *API) listUserGroups(w http.ResponseWriter, r *http.Request, _ caller) error {
	out := struct {
		Groups []groupView `json:"groups"`
	}{Groups: []groupView{}}
	err := a.view(w, func(tx *store.ReadTx) error {
		u, err := tx.UserByID(r.PathValue("id"))
		if err != nil {
			return err
		}
		groups, err := tx.GroupsOf(u.ID)
		for _, g := range groups {
			out.Groups = append(out.Groups, viewGroup(tx, g))
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// roleIDListing lists the roles whose ids (ascending) ids reads.
func roleIDListing(ids func(tx *store.ReadTx) ([]string, error)) listing {
	return idListing("roles", ids, func(tx *store.ReadTx, id string) (any, error) {
		role, err := tx.Role(id)
		return viewRole(role), err
	})
}

// userOrganizationView is an organization a user is a member of, and how:
// "explicit" (added as a member) or "auto" (through auto-membership only).
type userOrganizationView struct {
	organizationView
	Membership string `json:"membership"`
}

// Membership marks.
const (
	membershipExplicit = "explicit"
	membershipAuto     = "auto"
)

func membershipOf(explicit bool) string {
	if explicit {
		return membershipExplicit
	}
	return membershipAuto
}

// listUserOrganizations answers GET /users/{id}/organizations: the
// organizations the user is a member of, explicitly or through
// auto-membership, in organization id order, paged in either style.
func (a *API) listUserOrganizations(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, bothPagings)
	if err != nil {
		return err
	}
	userID := r.PathValue("id")
	var explicit map[string]bool
	return a.serveList(w, q, idListing("organizations", func(tx *store.ReadTx) ([]string, error) {
		orgs, err := tx.UserOrganizations(userID)
		ids := make([]string, len(orgs))
		explicit = make(map[string]bool, len(orgs))
		for i, o := range orgs {
			ids[i], explicit[o.OrganizationID] = o.OrganizationID, o.Explicit
		}
		return ids, err
	}, func(tx *store.ReadTx, id string) (any, error) {
		o, err := tx.Organization(id)
		return userOrganizationView{viewOrganization(o), membershipOf(explicit[id])}, err
	}))
}
