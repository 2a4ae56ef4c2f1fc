package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	scimlib "github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// listQuery is a list request, from query parameters or a .search body.
type listQuery struct {
	filter     filter.Expression
	startIndex int // 1-based
	count      int
	sortBy     string
	descending bool
	projection
}

// GetAll serves GET /{Users,Groups}; the library has parsed paging and
// validated the filter.
func (res *resource) GetAll(r *http.Request, params scimlib.ListRequestParams) (scimlib.Page, error) {
	q := r.URL.Query()
	lq := listQuery{startIndex: params.StartIndex, count: params.Count, sortBy: q.Get("sortBy"), projection: projectionOf(q)}
	var err error
	if lq.filter, err = res.parseFilter(q.Get("filter")); err != nil {
		return scimlib.Page{}, err
	}
	if lq.descending, err = sortOrder(q.Get("sortOrder")); err != nil {
		return scimlib.Page{}, err
	}
	st := stateOf(r)
	page := scimlib.Page{Resources: []scimlib.Resource{}}
	err = res.list(r, st, lq, func(total int) { page.TotalResults = total }, func(rec record, projected map[string]any) {
		page.Resources = append(page.Resources, res.resourceOf(rec, projected))
	})
	if err != nil {
		return scimlib.Page{}, scimError(r, err)
	}
	return page, nil
}

func (res *resource) parseFilter(raw string) (filter.Expression, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	expr, err := document.ParseFilter(raw)
	if err != nil {
		if fixed, ok := document.LenientFilter(raw); ok {
			expr, err = document.ParseFilter(fixed)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := res.doc.ValidateFilter(expr); err != nil {
		return nil, err
	}
	return expr, nil
}

func sortOrder(s string) (descending bool, err error) {
	switch strings.ToLower(s) {
	case "", "ascending":
		return false, nil
	case "descending":
		return true, nil
	}
	return false, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, `sortOrder must be "ascending" or "descending", not %q.`, s)
}

// list finds the resources of a query and emits the total and the projected
// page. Plans, cheapest first: an unfiltered unsorted page reads only its
// records (ordinal index); an eq on an indexed attribute reads its candidates;
// a group filter on a member reads that member's groups; anything else scans
// the connection in creation order. Every candidate is checked against the
// whole filter.
func (res *resource) list(r *http.Request, st *request, lq listQuery, total func(int), emit func(record, map[string]any)) error {
	return res.h.db.View(func(tx *store.ReadTx) error {
		offset := max(lq.startIndex-1, 0)
		if lq.filter == nil && lq.sortBy == "" {
			recs, n, err := res.page(tx, st, offset, lq.count)
			if err != nil {
				return err
			}
			total(n)
			for _, rec := range recs {
				projected, err := res.render(tx, st, rec, lq.projection)
				if err != nil {
					return err
				}
				emit(rec, projected)
			}
			return nil
		}

		var less func(a, b map[string]any) int
		if lq.sortBy != "" {
			var err error
			if less, err = res.doc.Comparator(lq.sortBy, lq.descending); err != nil {
				return err
			}
		}
		needDerived := lq.filter != nil && document.References(lq.filter, res.derivedName()) ||
			lq.sortBy != "" && strings.HasPrefix(strings.ToLower(lq.sortBy), res.derivedName())
		type hit struct {
			rec  record
			full map[string]any
		}
		var hits []hit
		matched := 0
		err := res.candidates(tx, st, lq.filter, func(rec record) (bool, error) {
			full, err := res.full(st, rec)
			if err != nil {
				return false, err
			}
			if needDerived {
				if err := res.attachDerived(tx, st, full); err != nil {
					return false, err
				}
			}
			if lq.filter != nil && !res.doc.Match(lq.filter, full) {
				return true, nil
			}
			// Unsorted: only the requested window is kept. Sorted: all
			// matches are needed to know the window.
			if less != nil || matched >= offset && matched < offset+lq.count {
				hits = append(hits, hit{rec, full})
			}
			matched++
			return true, nil
		})
		if err != nil {
			return err
		}
		total(matched)
		if less != nil {
			slices.SortStableFunc(hits, func(a, b hit) int { return less(a.full, b.full) })
			if offset >= len(hits) {
				hits = nil
			} else {
				hits = hits[offset:min(offset+lq.count, len(hits))]
			}
		}
		for _, h := range hits {
			full := h.full
			if !needDerived && res.doc.Wants(lq.attributes, lq.excluded, res.derivedName()) {
				if err := res.attachForOutput(tx, st, full, lq.projection); err != nil {
					return err
				}
			}
			emit(h.rec, output(res.doc.Project(full, lq.attributes, lq.excluded)))
		}
		return nil
	})
}

// page reads records [offset, offset+limit) in creation order.
func (res *resource) page(tx *store.ReadTx, st *request, offset, limit int) ([]record, int, error) {
	if res.kind == kindUser {
		users, n, err := tx.UserPage(st.connectionID, offset, limit)
		recs := make([]record, len(users))
		for i, u := range users {
			recs[i] = userRecord(u)
		}
		return recs, n, err
	}
	groups, n, err := tx.GroupPage(st.connectionID, offset, limit)
	recs := make([]record, len(groups))
	for i, g := range groups {
		recs[i] = groupRecord(g)
	}
	return recs, n, err
}

// candidates calls fn with every record the filter could match, in creation
// order, until fn returns false.
func (res *resource) candidates(tx *store.ReadTx, st *request, expr filter.Expression, fn func(record) (bool, error)) error {
	con := st.connectionID
	if expr != nil {
		nameAttr := "userName"
		if res.kind == kindGroup {
			nameAttr = "displayName"
		}
		if attr, value, ok := document.IndexedEquals(expr, "id", nameAttr, "externalId"); ok {
			recs, err := res.lookup(tx, con, attr, value)
			if err != nil {
				return err
			}
			return each(recs, fn)
		}
		if res.kind == kindGroup {
			if _, member, ok := document.IndexedEquals(expr, "members"); ok {
				groups, err := tx.GroupsOf(member)
				if err != nil {
					return err
				}
				var recs []record
				for _, g := range groups {
					if g.ConnectionID == con {
						recs = append(recs, groupRecord(g))
					}
				}
				return each(recs, fn)
			}
		}
	}
	if res.kind == kindUser {
		return tx.EachUser(con, func(u store.User) (bool, error) { return fn(userRecord(u)) })
	}
	return tx.EachGroup(con, func(g store.Group) (bool, error) { return fn(groupRecord(g)) })
}

// lookup answers an indexed eq. Missing records are no candidates, not errors.
func (res *resource) lookup(tx *store.ReadTx, con, attr, value string) ([]record, error) {
	var recs []record
	var err error
	switch {
	case res.kind == kindUser && attr == "id":
		var u store.User
		if u, err = tx.User(con, value); err == nil {
			recs = append(recs, userRecord(u))
		}
	case res.kind == kindUser && attr == "userName":
		var u store.User
		if u, err = tx.UserByName(con, value); err == nil {
			recs = append(recs, userRecord(u))
		}
	case res.kind == kindUser:
		var users []store.User
		users, err = tx.UsersByExternalID(con, value)
		for _, u := range users {
			recs = append(recs, userRecord(u))
		}
	case attr == "id":
		var g store.Group
		if g, err = tx.Group(con, value); err == nil {
			recs = append(recs, groupRecord(g))
		}
	case attr == "displayName":
		var g store.Group
		if g, err = tx.GroupByName(con, value); err == nil {
			recs = append(recs, groupRecord(g))
		}
	default:
		var groups []store.Group
		groups, err = tx.GroupsByExternalID(con, value)
		for _, g := range groups {
			recs = append(recs, groupRecord(g))
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return recs, err
}

func each(recs []record, fn func(record) (bool, error)) error {
	for _, rec := range recs {
		if more, err := fn(rec); err != nil || !more {
			return err
		}
	}
	return nil
}

// listFromQuery serves GET /{Users,Groups} (RFC 7644 §3.4.2).
func (res *resource) listFromQuery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq := listQuery{startIndex: 1, count: res.h.maxResults, sortBy: q.Get("sortBy"), projection: projectionOf(q)}
	var bad []string
	if s := q.Get("startIndex"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			lq.startIndex = max(n, 1) // RFC 7644 §3.4.2.4: less than 1 means 1
		} else {
			bad = append(bad, "startIndex")
		}
	}
	if s := q.Get("count"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			lq.count = min(max(n, 0), res.h.maxResults)
		} else {
			bad = append(bad, "count")
		}
	}
	if len(bad) > 0 {
		writeError(w, r, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "%s must be an integer.", strings.Join(bad, " and ")))
		return
	}
	var err error
	if lq.filter, err = res.parseFilter(q.Get("filter")); err != nil {
		writeError(w, r, err)
		return
	}
	if lq.descending, err = sortOrder(q.Get("sortOrder")); err != nil {
		writeError(w, r, err)
		return
	}
	res.writeList(w, r, lq)
}

// writeList runs a list query and writes its ListResponse.
func (res *resource) writeList(w http.ResponseWriter, r *http.Request, lq listQuery) {
	out := listResponse{StartIndex: lq.startIndex, Resources: []any{}}
	err := res.list(r, stateOf(r), lq, func(n int) { out.TotalResults = n }, func(_ record, projected map[string]any) {
		out.Resources = append(out.Resources, projected)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	out.ItemsPerPage = len(out.Resources)
	writeJSON(w, http.StatusOK, out)
}

// search serves POST /{Users,Groups}/.search (RFC 7644 §3.4.3).
func (res *resource) search(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Schemas            []string `json:"schemas"`
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		writeError(w, r, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The search request is not valid JSON: %v.", err))
		return
	}
	const searchSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	if !slices.Contains(req.Schemas, searchSchema) {
		writeError(w, r, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The body must list %q in \"schemas\".", searchSchema))
		return
	}
	lq := listQuery{startIndex: 1, count: res.h.maxResults, sortBy: req.SortBy,
		projection: projection{attributes: req.Attributes, excluded: req.ExcludedAttributes}}
	if req.StartIndex != nil && *req.StartIndex > 1 {
		lq.startIndex = *req.StartIndex
	}
	if req.Count != nil {
		lq.count = min(max(*req.Count, 0), res.h.maxResults)
	}
	var err error
	if lq.filter, err = res.parseFilter(req.Filter); err != nil {
		writeError(w, r, err)
		return
	}
	if lq.descending, err = sortOrder(req.SortOrder); err != nil {
		writeError(w, r, err)
		return
	}
	res.writeList(w, r, lq)
}

// listResponse is RFC 7644 §3.4.2's ListResponse. itemsPerPage is the number
// of resources in this page, as §3.4.2.4 defines it.
type listResponse struct {
	TotalResults int   `json:"totalResults"`
	ItemsPerPage int   `json:"itemsPerPage"`
	StartIndex   int   `json:"startIndex"`
	Resources    []any `json:"Resources"`
}

func (l listResponse) MarshalJSON() ([]byte, error) {
	type plain listResponse
	return json.Marshal(struct {
		Schemas []string `json:"schemas"`
		plain
	}{[]string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, plain(l)})
}
