package store

import (
	"encoding/json"
	"strings"
)

// UserQuery selects users for a listing. Empty fields match everything; the
// fields that are set must all match.
type UserQuery struct {
	ConnectionID string // users of this connection only
	UserName     string // userName, compared case-insensitively (indexed)
	ExternalID   string // externalId, exactly (indexed)
	// Search is a case-insensitive substring of the userName, the externalId
	// or any email address (emails[].value of the user's document).
	Search string
}

// QueryUsers lists the users matching q, at most take (take <= 0: all), after
// the cursor `after` ("" for the first page); next is the cursor of the
// following page, or "" when no more users match.
//
// Access paths and order are those of QueryGroups: the userName and
// externalId indexes, a connection's creation order, or user id order for a
// search, which reads users until a page is full (a pre-check on the stored
// bytes spares decoding most of those that cannot match: about 12 ms for a
// search that matches one user of 100k).
//
// ErrNotFound when q.ConnectionID names no connection; ErrInvalid when after
// is not a cursor this query could have returned.
func (r *ReadTx) QueryUsers(q UserQuery, after string, take int) (users []User, next string, err error) {
	search := Fold(q.Search)
	return query(r, userListing, recordQuery{q.ConnectionID, q.UserName, q.ExternalID, q.Search}, after, take, func(raw []byte) (User, bool, error) {
		if len(raw) < IDLen {
			return User{}, false, nil
		}
		u, err := decodeUser(raw)
		if err != nil {
			return u, false, err
		}
		ok := (q.ConnectionID == "" || u.ConnectionID == q.ConnectionID) &&
			(q.UserName == "" || Fold(u.UserName) == Fold(q.UserName)) &&
			(q.ExternalID == "" || u.ExternalID == q.ExternalID) &&
			(search == "" || userContains(u, search))
		return u, ok, nil
	})
}

// userContains reports whether folded is a substring of the user's folded
// userName, externalId or one of its email addresses.
func userContains(u User, folded string) bool {
	if strings.Contains(Fold(u.UserName), folded) || strings.Contains(Fold(u.ExternalID), folded) {
		return true
	}
	var doc struct {
		Emails []struct {
			Value string `json:"value"`
		} `json:"emails"`
	}
	// The document is the client's SCIM document, already normalised; one
	// that does not decode this way has no addresses to match.
	if len(u.Doc) == 0 || json.Unmarshal(u.Doc, &doc) != nil {
		return false
	}
	for _, e := range doc.Emails {
		if strings.Contains(Fold(e.Value), folded) {
			return true
		}
	}
	return false
}

// userAt decodes the stored value of user id (nil: absent, ErrNotFound).
func userAt(id string, raw []byte) (User, error) {
	if !ValidID(PrefixUser, id) || len(raw) < IDLen {
		return User{}, notFound("user", id)
	}
	return decodeUser(raw)
}

// usersByID returns the users of ids, in order, reading them in one go (see
// getEach); ErrNotFound when one is missing, like UserByID.
func (r *ReadTx) usersByID(ids []string) ([]User, error) {
	return loadEach(r, bucketUsers, ids, userAt)
}
