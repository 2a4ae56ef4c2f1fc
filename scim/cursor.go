package scim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"

	"github.com/rolecall/rolecall/scim/document"
)

// Cursors (RFC 9865) are stateless: a cursor is where a page ended (or, for
// previousCursor, began) in the listing's order, and the next page is what
// comes after it. In creation order that is the resource type's rank in the
// listing and the record's sequence number; in sorted order, the record's
// sort key (its sort value and id). Records created or deleted between two
// requests therefore never shift a page: a cursor stays valid as long as the
// connection exists, and nothing is kept on the server.
//
// The wire form is base64url (unpadded, so only RFC 3986 unreserved
// characters) of a small JSON object that also carries a hash of the query it
// belongs to (connection, endpoint, filter, sortBy, sortOrder): a cursor used
// with another query is an invalidCursor error rather than a silently wrong
// page. Cursors are opaque to clients, not secret: a forged one can only
// position the caller within a query it may run anyway.

// cursorTimeout is the ServiceProviderConfig's pagination.cursorTimeout: the
// least number of seconds a cursor stays valid. Ours never expire.
const cursorTimeout = 86400

// position is a place in a listing's order.
type position struct {
	Query  string            `json:"q"`
	Before bool              `json:"b,omitempty"` // the page ends just before it (previousCursor)
	Rank   int               `json:"r,omitempty"` // the resource type (a root query lists Users, then Groups)
	Seq    uint64            `json:"s,omitempty"` // the record's sequence number, in creation order
	Key    *document.SortKey `json:"k,omitempty"` // the record's sort key, in sorted order
}

// less orders positions of a listing in creation order.
func (p position) less(o position) bool {
	if p.Rank != o.Rank {
		return p.Rank < o.Rank
	}
	return p.Seq < o.Seq
}

// queryHash identifies the query a cursor belongs to. count and the
// projection may change from page to page; nothing else may.
func queryHash(st *request, sources []*resource, lq *listQuery) string {
	h := fnv.New64a()
	write := func(s string) {
		_, _ = h.Write([]byte(s))
		_, _ = h.Write([]byte{0})
	}
	write(st.connectionID)
	for _, res := range sources {
		write(res.name)
	}
	write(strings.TrimSpace(lq.filterText))
	write(strings.ToLower(strings.TrimSpace(lq.sortBy)))
	write(strconv.FormatBool(lq.descending))
	return strconv.FormatUint(h.Sum64(), 36)
}

func encodeCursor(p position, query string) string {
	p.Query = query
	return base64.RawURLEncoding.EncodeToString(mustJSON(p))
}

// decodeCursor reads a cursor of the query: "" is the first page. Anything
// that is not a cursor this query could have answered is a 400
// invalidCursor.
func decodeCursor(s, query string, sources int, sorted bool) (position, error) {
	if s == "" {
		return position{}, nil
	}
	invalid := func(detail string) error {
		return scimErr(http.StatusBadRequest, "invalidCursor", "%s Send an empty cursor to start again from the first page.", detail)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, invalid("The cursor is not one this server made.")
	}
	var p position
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil || dec.More() {
		return position{}, invalid("The cursor is not one this server made.")
	}
	switch {
	case p.Query != query:
		return position{}, invalid("The cursor belongs to another query: page with the filter, sortBy and sortOrder of the request that returned it.")
	case p.Rank < 0 || p.Rank >= sources || sorted != (p.Key != nil):
		return position{}, invalid("The cursor is not one this server made.")
	}
	p.Query = ""
	return p, nil
}
