package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/rolecall/rolecall/store"
)

// groupView is a synced group as the Management API shows it.
type groupView struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	ExternalID   string    `json:"external_id,omitempty"`
	ConnectionID string    `json:"connection_id"`
	MembersCount int       `json:"members_count"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// viewGroup reads the member count from its counter; the member list is
// never read.
func viewGroup(tx *store.ReadTx, g store.Group) groupView {
	return groupView{
		ID: g.ID, Name: g.DisplayName, ExternalID: g.ExternalID, ConnectionID: g.ConnectionID,
		MembersCount: tx.MemberCount(g.ID), CreatedAt: g.Created, UpdatedAt: g.Modified,
	}
}

// listQueryError turns a cursor the store rejects into a query-string error.
func listQueryError(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return badQuery("'from' is not a cursor of this listing")
	}
	return err
}

// listGroups answers GET /groups?connection_id=&name=&external_id=&search=:
// name (case-insensitive) and external_id (exact) come from the store's
// indexes, a connection alone from its creation order, a search (a
// case-insensitive substring of the name) from a scan in group id order.
func (a *API) listGroups(w http.ResponseWriter, r *http.Request, _ caller) error {
	qs, err := parseList(r, checkpointPaging, "connection_id", "name", "external_id", "search")
	if err != nil {
		return err
	}
	from, take := qs.from, qs.take
	q := store.GroupQuery{ConnectionID: qs.get("connection_id"), Name: qs.get("name"), ExternalID: qs.get("external_id"), Search: qs.get("search")}
	pg := a.newPage()
	var next string
	err = a.view(w, func(tx *store.ReadTx) error {
		// One group per read, as for users: the page budget alone decides
		// how many stored documents are held.
		next = from
		for len(pg.items) < take {
			groups, after, err := tx.QueryGroups(q, next, 1)
			if err != nil {
				return about("connection", listQueryError(err))
			}
			if len(groups) == 0 {
				next = ""
				return nil
			}
			if added, err := pg.add(viewGroup(tx, groups[0])); err != nil || !added {
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
	pg.write(w, "groups", next)
	return nil
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request, _ caller) error {
	var view groupView
	err := a.view(w, func(tx *store.ReadTx) error {
		g, err := tx.GroupByID(r.PathValue("id"))
		view = viewGroup(tx, g)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// memberView is one member of a group. Nested groups are members too: their
// user_id is the group's id, user_name its name, and type says "group".
type memberView struct {
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name"`
	DisplayName string `json:"display_name,omitempty"`
	Active      bool   `json:"active"`
	Type        string `json:"type"` // "user" or "group"
}

// listGroupMembers pages a group's members in member id order with a cursor
// over the membership keys: a page costs the same in a group of 100k.
func (a *API) listGroupMembers(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseList(r, checkpointPaging)
	if err != nil {
		return err
	}
	groupID := r.PathValue("id")
	return a.serveList(w, q, listing{key: "members", each: func(tx *store.ReadTx, after string, room func() int, yield yieldFunc) error {
		g, err := tx.GroupByID(groupID)
		if err != nil {
			return err
		}
		for {
			// The cursor is the last member listed: Members starts after
			// it, and its own next is the last member it returned.
			members, next := tx.Members(g.ID, after, room())
			for _, m := range members {
				more, err := yield(m.ID, func() (any, error) { return viewMember(tx, m) })
				if err != nil || !more {
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

func viewMember(tx *store.ReadTx, m store.Member) (memberView, error) {
	if m.Type == store.MemberGroup {
		g, err := tx.GroupByID(m.ID)
		return memberView{UserID: m.ID, UserName: g.DisplayName, Active: true, Type: "group"}, err
	}
	u, err := tx.UserByID(m.ID)
	if err != nil {
		return memberView{}, err
	}
	doc, err := decodeUserDoc(u)
	return memberView{UserID: u.ID, UserName: u.UserName, DisplayName: doc.DisplayName, Active: u.Active, Type: "user"}, err
}
