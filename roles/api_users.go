package roles

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
// paged scan in user id order.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request, _ caller) error {
	from, take, err := page(r)
	if err != nil {
		return err
	}
	qs := r.URL.Query()
	q := store.UserQuery{ConnectionID: qs.Get("connection_id"), UserName: qs.Get("user_name"), ExternalID: qs.Get("external_id"), Search: qs.Get("search")}
	pg := a.newPage()
	var next string
	err = a.view(w, func(tx *store.ReadTx) error {
		// One user per read: a user's document can be megabytes, and only
		// the page budget may decide how many are held.
		next = from
		for len(pg.items) < take {
			users, after, err := tx.QueryUsers(q, next, 1)
			if err != nil {
				return about("connection", listQueryError(err))
			}
			if len(users) == 0 {
				next = ""
				return nil
			}
			v, err := viewUser(users[0])
			if err != nil {
				return err
			}
			if added, err := pg.add(v); err != nil || !added {
				return err
			}
			if next = after; next == "" {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	pg.write(w, "users", next)
	return nil
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

// listUserRoles lists the roles assigned to the user directly (tenant scope);
// roles through groups are the effective-role endpoints' business.
func (a *API) listUserRoles(w http.ResponseWriter, r *http.Request, _ caller) error {
	out := struct {
		Roles []roleView `json:"roles"`
	}{}
	err := a.view(w, func(tx *store.ReadTx) error {
		ids, err := tx.UserRoles(r.PathValue("id"))
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

func (a *API) bindUserRoles(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.userRoles(w, r, c, (*store.Tx).BindUserRoles)
}

func (a *API) unbindUserRoles(w http.ResponseWriter, r *http.Request, c caller) error {
	return a.userRoles(w, r, c, (*store.Tx).UnbindUserRoles)
}

func (a *API) userRoles(w http.ResponseWriter, r *http.Request, c caller, apply func(tx *store.Tx, userID string, roleIDs []string) (int, error)) error {
	roleIDs, err := decodeRolesBody(r)
	if err != nil {
		return err
	}
	err = a.update(w, r, c, func(tx *store.Tx) error {
		_, err := apply(tx, r.PathValue("id"), roleIDs)
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
