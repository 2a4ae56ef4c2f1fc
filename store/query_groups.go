package store

import (
	"encoding/json"
	"fmt"
	"strings"
)

// GroupQuery selects groups for a listing. Empty fields match everything; the
// fields that are set must all match.
type GroupQuery struct {
	ConnectionID string // groups of this connection only
	Name         string // displayName, compared case-insensitively (indexed)
	ExternalID   string // externalId, exactly (indexed)
	Search       string // a case-insensitive substring of displayName
}

// QueryGroups lists the groups matching q, at most take (take <= 0: all),
// after the cursor `after` ("" for the first page); next is the cursor of the
// following page, or "" when no more groups match.
//
// A name or externalId is answered from the indexes (one lookup per
// connection), a connection alone from its creation order, anything else (a
// search) by walking the groups in id order, reading each until a page is
// full. Order is by group id, except for a connection alone, which is
// creation order.
//
// ErrNotFound when q.ConnectionID names no connection; ErrInvalid when after
// is not a cursor this query could have returned.
func (r *ReadTx) QueryGroups(q GroupQuery, after string, take int) (groups []Group, next string, err error) {
	search := Fold(q.Search)
	return query(r, groupListing, recordQuery{q.ConnectionID, q.Name, q.ExternalID, q.Search}, after, take, func(raw []byte) (Group, bool, error) {
		if len(raw) < IDLen {
			return Group{}, false, nil
		}
		var rec groupRecord
		if err := json.Unmarshal(raw[IDLen:], &rec); err != nil {
			return Group{}, false, fmt.Errorf("store: decode group: %w", err)
		}
		ok := (q.ConnectionID == "" || rec.ConnectionID == q.ConnectionID) &&
			(q.Name == "" || Fold(rec.DisplayName) == Fold(q.Name)) &&
			(q.ExternalID == "" || rec.ExternalID == q.ExternalID) &&
			(search == "" || strings.Contains(Fold(rec.DisplayName), search))
		return rec.group(), ok, nil
	})
}
