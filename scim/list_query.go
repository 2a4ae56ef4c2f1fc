package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
)

// List queries: a list request's parameters, from the URL or a SearchRequest
// body, the endpoints that take them, and their validation against the
// resource types listed.

// listQuery is a list request, from query parameters or a .search body.
type listQuery struct {
	filterText string
	filter     filter.Expression
	startIndex int // 1-based; index pagination only
	count      int
	sortBy     string
	descending bool
	// useCursor selects cursor pagination (RFC 9865): the request named a
	// cursor, empty for the first page. cursorText is that cursor, cursor
	// the position it decodes to.
	useCursor  bool
	cursorText string
	cursor     *position
	projection
}

// listParamsFromURL reads a list request's query parameters (RFC 7644
// §3.4.2, RFC 9865 §2). The filter and the cursor are read by prepare.
func (h *Handler) listParamsFromURL(q url.Values) (listQuery, error) {
	lq := listQuery{startIndex: 1, count: h.maxResults, sortBy: q.Get("sortBy"), filterText: q.Get("filter"), projection: projectionOf(q)}
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
			lq.count = min(max(n, 0), h.maxResults)
		} else {
			bad = append(bad, "count")
		}
	}
	if len(bad) > 0 {
		return lq, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue, "%s must be an integer.", strings.Join(bad, " and "))
	}
	if q.Has("cursor") {
		if q.Get("startIndex") != "" {
			return lq, errCursorAndIndex
		}
		lq.useCursor, lq.cursorText = true, q.Get("cursor")
	}
	var err error
	lq.descending, err = sortOrder(q.Get("sortOrder"))
	return lq, err
}

var errCursorAndIndex = scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidValue,
	"A request pages either by cursor (RFC 9865) or by startIndex (RFC 7644), not both: drop one of them.")

// listParamsFromSearch reads a SearchRequest body (RFC 7644 §3.4.3, RFC
// 9865 §3).
func (h *Handler) listParamsFromSearch(body []byte) (listQuery, error) {
	var req struct {
		Schemas            []string `json:"schemas"`
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
		Cursor             *string  `json:"cursor"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return listQuery{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The search request is not valid JSON: %v.", err)
	}
	const searchSchema = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	if !slices.Contains(req.Schemas, searchSchema) {
		return listQuery{}, scimErr(http.StatusBadRequest, scimerrors.ScimTypeInvalidSyntax, "The body must list %q in \"schemas\".", searchSchema)
	}
	lq := listQuery{startIndex: 1, count: h.maxResults, sortBy: req.SortBy, filterText: req.Filter,
		projection: projection{attributes: req.Attributes, excluded: req.ExcludedAttributes}}
	if req.StartIndex != nil && *req.StartIndex > 1 {
		lq.startIndex = *req.StartIndex
	}
	if req.Count != nil {
		lq.count = min(max(*req.Count, 0), h.maxResults)
	}
	if req.Cursor != nil {
		if req.StartIndex != nil {
			return lq, errCursorAndIndex
		}
		lq.useCursor, lq.cursorText = true, *req.Cursor
	}
	var err error
	lq.descending, err = sortOrder(req.SortOrder)
	return lq, err
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

// listFromQuery serves GET /{Users,Groups} (RFC 7644 §3.4.2).
func (res *resource) listFromQuery(w http.ResponseWriter, r *http.Request) {
	lq, err := res.h.listParamsFromURL(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	res.h.writeList(w, r, []*resource{res}, lq)
}

// search serves POST /{Users,Groups}/.search (RFC 7644 §3.4.3).
func (res *resource) search(w http.ResponseWriter, r *http.Request, body []byte) {
	lq, err := res.h.listParamsFromSearch(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	res.h.writeList(w, r, []*resource{res}, lq)
}

// rootQuery serves GET / (RFC 7644 §3.4.2.1): a query across every resource
// type (Users, then Groups), each in creation order unless sorted.
func (h *Handler) rootQuery(w http.ResponseWriter, r *http.Request) {
	lq, err := h.listParamsFromURL(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.writeList(w, r, h.resources, lq)
}

// rootSearch serves POST /.search: rootQuery with a SearchRequest body.
func (h *Handler) rootSearch(w http.ResponseWriter, r *http.Request, body []byte) {
	lq, err := h.listParamsFromSearch(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.writeList(w, r, h.resources, lq)
}

// prepare parses and validates the filter against the listing's resource
// types and decodes the cursor.
func (h *Handler) prepare(st *request, sources []*resource, lq *listQuery) error {
	var err error
	if lq.filter, err = parseFilter(lq.filterText, sources); err != nil {
		return err
	}
	if lq.sortBy != "" {
		// Fail early, with the resource type's own message, when no
		// resource type can sort by it.
		var first error
		for _, res := range sources {
			if _, err := res.doc.Sorter(lq.sortBy, lq.descending); err == nil {
				first = nil
				break
			} else if first == nil {
				first = err
			}
		}
		if first != nil {
			return first
		}
	}
	if lq.useCursor {
		pos, err := decodeCursor(lq.cursorText, queryHash(st, sources, lq), len(sources), lq.sortBy != "")
		if err != nil {
			return err
		}
		lq.cursor = &pos
	}
	return nil
}

// parseFilter parses a filter, leniently (see document.LenientFilter), and
// validates it. For one resource type every attribute must be one of its
// own; across several (a root query), each comparison must make sense for at
// least one of them, and where an attribute is not a resource type's, it has
// no value there (RFC 7644 §3.4.2.1).
func parseFilter(raw string, sources []*resource) (filter.Expression, error) {
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
	if len(sources) == 1 {
		return expr, sources[0].doc.ValidateFilter(expr)
	}
	return expr, validateAcross(expr, sources)
}

func validateAcross(expr filter.Expression, sources []*resource) error {
	switch e := expr.(type) {
	case *filter.LogicalExpression:
		if err := validateAcross(e.Left, sources); err != nil {
			return err
		}
		return validateAcross(e.Right, sources)
	case *filter.NotExpression:
		return validateAcross(e.Expression, sources)
	}
	var first error
	for _, res := range sources {
		err := res.doc.ValidateFilter(expr)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
