package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

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

// rootQuery serves GET / (RFC 7644 §3.4.2.1): a query across Users and
// Groups, users first, each in creation order unless sorted.
func (h *Handler) rootQuery(w http.ResponseWriter, r *http.Request) {
	lq, err := h.listParamsFromURL(r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.writeList(w, r, []*resource{h.users, h.groups}, lq)
}

// rootSearch serves POST /.search: rootQuery with a SearchRequest body.
func (h *Handler) rootSearch(w http.ResponseWriter, r *http.Request, body []byte) {
	lq, err := h.listParamsFromSearch(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.writeList(w, r, []*resource{h.users, h.groups}, lq)
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

// DefaultListPageBytes is the default Options.ListPageBytes: the rendered
// resources of one list page stop at 4 MiB.
const DefaultListPageBytes = 4 << 20

// A list page is bounded in bytes as well as in resources. Resources are
// read from the store one at a time (or, filtered, kept while their stored
// size fits) and rendered as they join the page; the page stops before the
// first resource that would take it past the budget, so a page holds at
// most the budget, or a single resource larger than it. itemsPerPage then
// says how many came (RFC 7644 §3.4.2.4 lets a server return fewer than
// count) and nextCursor, or startIndex+itemsPerPage, is where the rest
// starts. The page is rendered inside the read transaction and written
// after it: a slow client must never hold a bbolt read transaction open,
// which would stall the writers' remapping of a growing file.

// listPage is what a list query found: the total, the page, and where the
// pages before and after it start (cursor pagination), if there are any.
type listPage struct {
	total      int
	hits       []hit
	prev, next *position
}

// hit is one resource of a listing.
type hit struct {
	res  *resource
	rank int // the resource type's place in the listing
	rec  record
	// full is the resource's full representation, nil until decoded;
	// derived says whether its derived attribute (and a User's version)
	// was attached for the filter.
	full    map[string]any
	derived bool
	key     document.SortKey // sorted listings
	// stub says rec holds only the id and position: the record must be
	// read again to render it (sorted listings keep only keys).
	stub bool
}

func (h hit) position(sorted bool) position {
	if sorted {
		key := h.key
		return position{Key: &key}
	}
	return position{Rank: h.rank, Seq: h.rec.seq}
}

// pageBuilder renders the resources of a page as JSON within its byte
// budget. Forward, resources are added in listing order; backward (a page
// that ends at a previousCursor), from the last to the first.
type pageBuilder struct {
	tx       *store.ReadTx
	st       *request
	proj     projection
	budget   int
	backward bool
	size     int
	items    [][]byte // rendered resources
	hits     []hit    // their positions; documents dropped
	// stopped says the budget ended the page before a resource that
	// exists and would otherwise have joined it.
	stopped bool
}

// add renders h and adds it to the page, unless the page already holds a
// resource and h would take it past the budget: then it reports false and
// the page is stopped.
func (b *pageBuilder) add(h hit) (bool, error) {
	if b.stopped {
		return false, nil
	}
	if h.stub {
		rec, err := h.res.load(b.tx, b.st, h.rec.id)
		if err != nil {
			return false, err
		}
		h.rec, h.stub = rec, false
	}
	if len(b.items) > 0 && !b.proj.given() && b.size+1+len(h.rec.doc) > b.budget {
		// Unprojected, a resource renders at least as large as its stored
		// document: stop without decoding it.
		b.stopped = true
		return false, nil
	}
	projected, err := h.output(b.tx, b.st, b.proj)
	if err != nil {
		return false, err
	}
	raw, err := json.Marshal(projected)
	if err != nil {
		return false, err
	}
	if len(b.items) > 0 && b.size+1+len(raw) > b.budget {
		b.stopped = true
		return false, nil
	}
	b.items = append(b.items, raw)
	b.size += 1 + len(raw)
	h.full, h.rec.doc = nil, nil
	b.hits = append(b.hits, h)
	return true, nil
}

// wantsMore reports whether another resource may join a page of count.
func (b *pageBuilder) wantsMore(count int) bool { return !b.stopped && len(b.hits) < count }

// finish puts a backward page in listing order.
func (b *pageBuilder) finish(page *listPage) {
	if b.backward {
		slices.Reverse(b.items)
		slices.Reverse(b.hits)
	}
	page.hits = b.hits
}

// writeList runs a list query over the resource types in sources and writes
// its ListResponse.
func (h *Handler) writeList(w http.ResponseWriter, r *http.Request, sources []*resource, lq listQuery) {
	st := stateOf(r)
	if err := h.prepare(st, sources, &lq); err != nil {
		writeError(w, r, err)
		return
	}
	var out listResponse
	var items [][]byte
	err := h.db.View(func(tx *store.ReadTx) error {
		pb := &pageBuilder{tx: tx, st: st, proj: lq.projection, budget: h.pageBytes,
			backward: lq.cursor != nil && lq.cursor.Before}
		var page listPage
		var err error
		if lq.filter == nil && lq.sortBy == "" {
			page, err = h.inOrder(tx, st, sources, lq, pb)
		} else {
			page, err = h.matching(tx, st, sources, lq, pb)
		}
		if err != nil {
			return err
		}
		out.TotalResults, items = page.total, pb.items
		hash := queryHash(st, sources, &lq)
		if page.next != nil {
			out.NextCursor = encodeCursor(*page.next, hash)
		}
		if page.prev != nil {
			out.PreviousCursor = encodeCursor(*page.prev, hash)
		}
		return nil
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	out.ItemsPerPage = len(items)
	if !lq.useCursor {
		out.StartIndex = lq.startIndex
	}
	writePage(w, out, items)
}

// writeChunk is the most writePage hands the connection at once.
const writeChunk = 64 << 10

// writePage writes a ListResponse whose Resources are items, already
// encoded, without copying them into one buffer: the envelope, then each
// resource in chunks, each dropped once written so that a slow reader
// holds less and less. The socket's buffers push back on a client that
// does not read; the server's WriteTimeout ends one that never does.
func writePage(w http.ResponseWriter, out listResponse, items [][]byte) {
	out.Resources = []any{}
	head, err := json.Marshal(out)
	if err != nil || !bytes.HasSuffix(head, []byte(`[]}`)) {
		writeJSON(w, http.StatusInternalServerError, scimErr(http.StatusInternalServerError, "", "The list response could not be encoded."))
		return
	}
	head = head[:len(head)-2] // up to and including Resources' '['
	n := len(head) + 2
	for i, item := range items {
		n += len(item)
		if i > 0 {
			n++
		}
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(head); err != nil {
		return
	}
	for i := range items {
		if i > 0 {
			if _, err := w.Write([]byte{','}); err != nil {
				return
			}
		}
		for b := items[i]; len(b) > 0; {
			chunk := b[:min(len(b), writeChunk)]
			if _, err := w.Write(chunk); err != nil {
				return
			}
			b = b[len(chunk):]
		}
		items[i] = nil
	}
	_, _ = w.Write([]byte(`]}`))
}

// output renders a hit as the projection asks.
func (hit hit) output(tx *store.ReadTx, st *request, p projection) (map[string]any, error) {
	res := hit.res
	if hit.full == nil {
		projected, _, err := res.render(tx, st, hit.rec, p)
		return projected, err
	}
	if !hit.derived {
		if _, err := res.attachForOutput(tx, st, hit.rec, hit.full, p); err != nil {
			return nil, err
		}
	}
	return output(res.doc.Project(hit.full, p.attributes, p.excluded)), nil
}

// inOrder serves a query without filter or sort from the creation-order
// indexes: a page costs the same wherever it is. Records are read one at a
// time, each rendered before the next is read, so that the page's budget
// bounds what is held however large the records are.
func (h *Handler) inOrder(tx *store.ReadTx, st *request, sources []*resource, lq listQuery, pb *pageBuilder) (listPage, error) {
	var page listPage
	if lq.cursor == nil {
		offset := max(lq.startIndex-1, 0)
		for rank, res := range sources {
			n := res.count(tx, st)
			page.total += n
			if offset >= n {
				offset -= n
				continue
			}
			if !pb.wantsMore(lq.count) {
				continue
			}
			recs, _, err := res.pageAt(tx, st, offset, 1)
			offset = 0
			for err == nil && len(recs) > 0 {
				var added bool
				if added, err = pb.add(hit{res: res, rank: rank, rec: recs[0]}); err != nil || !added || !pb.wantsMore(lq.count) {
					break
				}
				recs, _, err = res.after(tx, st, recs[0].seq, 1)
			}
			if err != nil {
				return page, err
			}
		}
		pb.finish(&page)
		return page, nil
	}
	counts := make([]int, len(sources))
	for i, res := range sources {
		counts[i] = res.count(tx, st)
		page.total += counts[i]
	}
	// step reads the record after (or before) from, when the page wants
	// one, and adds it; it reports whether to go on, and whether records
	// lie beyond the page.
	step := func(rank int, res *resource, from *uint64, forward bool) (goOn, beyond bool, err error) {
		limit := 0
		if pb.wantsMore(lq.count) {
			limit = 1
		}
		var recs []record
		var more bool
		if forward {
			recs, more, err = res.after(tx, st, *from, limit)
		} else {
			recs, more, err = res.before(tx, st, *from, limit)
		}
		if err != nil || limit == 0 {
			return false, more, err
		}
		if len(recs) == 0 {
			return false, false, nil
		}
		added, err := pb.add(hit{res: res, rank: rank, rec: recs[0]})
		if err != nil || !added {
			return false, true, err
		}
		*from = recs[0].seq
		return more, false, nil
	}
	switch c := lq.cursor; {
	case !c.Before:
		prev, next := false, false
		for rank, res := range sources {
			if rank < c.Rank {
				prev = prev || counts[rank] > 0
				continue
			}
			start := uint64(0)
			if rank == c.Rank && c.Seq > 0 {
				start = c.Seq
				_, before, err := res.before(tx, st, c.Seq+1, 0)
				if err != nil {
					return page, err
				}
				prev = prev || before
			}
			for {
				goOn, beyond, err := step(rank, res, &start, true)
				if err != nil {
					return page, err
				}
				next = next || beyond
				if !goOn {
					break
				}
			}
		}
		pb.finish(&page)
		page.setCursors(prev, next, false)
		return page, nil
	default:
		prev, next := false, false
		for rank := len(sources) - 1; rank >= 0; rank-- {
			res := sources[rank]
			switch {
			case rank > c.Rank:
				next = next || counts[rank] > 0
				continue
			case rank == c.Rank && c.Seq > 0:
				_, after, err := res.after(tx, st, c.Seq-1, 0)
				if err != nil {
					return page, err
				}
				next = next || after
			case rank == c.Rank:
				next = next || counts[rank] > 0
			}
			end := ^uint64(0)
			if rank == c.Rank {
				end = c.Seq
			}
			for {
				goOn, beyond, err := step(rank, res, &end, false)
				if err != nil {
					return page, err
				}
				prev = prev || beyond
				if !goOn {
					break
				}
			}
		}
		pb.finish(&page)
		page.setCursors(prev, next, false)
		return page, nil
	}
}

// setCursors sets the positions of the neighbouring pages from the page's
// first and last hits.
func (p *listPage) setCursors(prev, next, sorted bool) {
	if len(p.hits) == 0 {
		return
	}
	if prev {
		pos := p.hits[0].position(sorted)
		pos.Before = true
		p.prev = &pos
	}
	if next {
		pos := p.hits[len(p.hits)-1].position(sorted)
		p.next = &pos
	}
}

// matching serves a filtered or sorted query. Plans, cheapest first: an eq
// on an indexed attribute reads its candidates; a group filter on a member
// reads that member's groups; anything else reads the connection in creation
// order. Every candidate is checked against the whole filter, and every
// match counted for totalResults; unsorted, only the page is kept (and no
// more of it than its stored size says may fit the budget); sorted, only
// each match's sort key, the page's records being read again to render it.
func (h *Handler) matching(tx *store.ReadTx, st *request, sources []*resource, lq listQuery, pb *pageBuilder) (listPage, error) {
	var page listPage
	sorted := lq.sortBy != ""
	var primary *document.Sorter
	sorters := make([]*document.Sorter, len(sources))
	if sorted {
		for i, res := range sources {
			if s, err := res.doc.Sorter(lq.sortBy, lq.descending); err == nil {
				sorters[i] = s
				if primary == nil {
					primary = s
				}
			}
		}
	}
	win := window{cursor: lq.cursor, offset: max(lq.startIndex-1, 0), count: lq.count, budget: pb.budget}
	var all []hit
	for rank, res := range sources {
		needDerived := res.needsDerived(lq)
		err := res.candidates(tx, st, lq.filter, func(rec record) (bool, error) {
			full, err := res.full(st, rec)
			if err != nil {
				return false, err
			}
			ht := hit{res: res, rank: rank, rec: rec, full: full, derived: needDerived}
			if needDerived {
				if _, err := res.attachDerived(tx, st, rec, full); err != nil {
					return false, err
				}
			}
			if lq.filter != nil && !res.doc.Match(lq.filter, full) {
				return true, nil
			}
			page.total++
			if !sorted {
				win.offer(ht)
				return true, nil
			}
			if s := sorters[rank]; s != nil {
				ht.key = s.Key(full)
			} else {
				ht.key = document.SortKey{ID: rec.id}
			}
			ht.full, ht.derived, ht.stub = nil, false, true
			ht.rec = record{id: rec.id, seq: rec.seq}
			all = append(all, ht)
			return true, nil
		})
		if err != nil {
			return page, err
		}
	}
	if !sorted {
		prev, next := win.prev, win.next
		if err := pb.addAll(win.hits); err != nil {
			return page, err
		}
		pb.finish(&page)
		if pb.stopped && lq.cursor != nil {
			prev, next = prev || pb.backward, next || !pb.backward
		}
		page.setCursors(prev, next, false)
		return page, nil
	}
	slices.SortStableFunc(all, func(a, b hit) int { return primary.Compare(a.key, b.key) })
	n := len(all)
	var from, to int
	switch c := lq.cursor; {
	case c == nil:
		from = min(max(lq.startIndex-1, 0), n)
		to = from + min(lq.count, n-from)
	case c.Before:
		to = sort.Search(n, func(i int) bool { return primary.Compare(all[i].key, *c.Key) >= 0 })
		from = max(to-lq.count, 0)
	default:
		from = 0
		if c.Key != nil {
			from = sort.Search(n, func(i int) bool { return primary.Compare(all[i].key, *c.Key) > 0 })
		}
		to = from + min(lq.count, n-from)
	}
	if err := pb.addAll(all[from:to]); err != nil {
		return page, err
	}
	pb.finish(&page)
	if lq.cursor != nil {
		page.setCursors(from > 0 || pb.stopped && pb.backward, to < n || pb.stopped && !pb.backward, true)
	}
	return page, nil
}

// addAll adds the hits of a page, in listing order, until the budget stops
// it: from the first forward, from the last backward.
func (b *pageBuilder) addAll(hits []hit) error {
	for i := range hits {
		h := hits[i]
		if b.backward {
			h = hits[len(hits)-1-i]
		}
		if added, err := b.add(h); err != nil || !added {
			return err
		}
	}
	return nil
}

// window keeps the page of an unsorted stream of matches, which arrive in
// position order. Besides count, it keeps no more matches than their
// stored documents say may fit the page's byte budget (the smallest run
// that reaches it), so a page of huge records is not decoded whole.
type window struct {
	cursor        *position // nil: index pagination
	offset, count int
	budget        int
	size          int // stored bytes of the hits kept
	n             int // matches seen
	hits          []hit
	prev, next    bool // whether matches precede or follow the page
}

// full reports whether the kept hits reach the budget.
func (w *window) full() bool { return len(w.hits) > 0 && w.size >= w.budget }

func (w *window) keep(h hit) {
	w.hits = append(w.hits, h)
	w.size += len(h.rec.doc)
}

func (w *window) offer(h hit) {
	pos := h.position(false)
	switch c := w.cursor; {
	case c == nil:
		if w.n >= w.offset && w.n-w.offset < w.count && !w.full() {
			w.keep(h)
		}
		w.n++
	case c.Before:
		if !pos.less(*c) {
			w.next = true
			return
		}
		w.keep(h)
		for len(w.hits) > w.count || len(w.hits) > 1 && w.size-len(w.hits[0].rec.doc) >= w.budget {
			w.size -= len(w.hits[0].rec.doc)
			w.hits[0] = hit{}
			w.hits = w.hits[1:]
			w.prev = true
		}
	default:
		if !c.less(pos) {
			w.prev = true
			return
		}
		if len(w.hits) < w.count && !w.full() {
			w.keep(h)
		} else {
			w.next = true
		}
	}
}

// needsDerived reports whether a listing must attach the derived attribute
// before filtering or sorting: the filter or sortBy names it, or, for Users,
// meta (whose version depends on the groups).
func (res *resource) needsDerived(lq listQuery) bool {
	names := func(attr string) bool {
		if lq.filter != nil && document.References(lq.filter, attr) {
			return true
		}
		s := strings.ToLower(strings.TrimSpace(lq.sortBy))
		return s == strings.ToLower(attr) || strings.HasPrefix(s, strings.ToLower(attr)+".")
	}
	return names(res.derivedName()) || res.kind == kindUser && names("meta")
}

// count is how many resources of this type the connection has.
func (res *resource) count(tx *store.ReadTx, st *request) int {
	if res.kind == kindUser {
		return tx.UserCount(st.connectionID)
	}
	return tx.GroupCount(st.connectionID)
}

// pageAt reads records [offset, offset+limit) in creation order, and
// counts them all.
func (res *resource) pageAt(tx *store.ReadTx, st *request, offset, limit int) ([]record, int, error) {
	if res.kind == kindUser {
		users, n, err := tx.UserPage(st.connectionID, offset, limit)
		return userRecords(users), n, err
	}
	groups, n, err := tx.GroupPage(st.connectionID, offset, limit)
	return groupRecords(groups), n, err
}

// after reads up to limit records created after sequence number seq, and
// whether more follow.
func (res *resource) after(tx *store.ReadTx, st *request, seq uint64, limit int) ([]record, bool, error) {
	if res.kind == kindUser {
		users, more, err := tx.UsersAfter(st.connectionID, seq, limit)
		return userRecords(users), more, err
	}
	groups, more, err := tx.GroupsAfter(st.connectionID, seq, limit)
	return groupRecords(groups), more, err
}

// before reads the last (up to) limit records created before sequence number
// seq, and whether more precede them.
func (res *resource) before(tx *store.ReadTx, st *request, seq uint64, limit int) ([]record, bool, error) {
	if res.kind == kindUser {
		users, more, err := tx.UsersBefore(st.connectionID, seq, limit)
		return userRecords(users), more, err
	}
	groups, more, err := tx.GroupsBefore(st.connectionID, seq, limit)
	return groupRecords(groups), more, err
}

func userRecords(users []store.User) []record {
	recs := make([]record, len(users))
	for i, u := range users {
		recs[i] = userRecord(u)
	}
	return recs
}

func groupRecords(groups []store.Group) []record {
	recs := make([]record, len(groups))
	for i, g := range groups {
		recs[i] = groupRecord(g)
	}
	return recs
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
			return each(inCreationOrder(recs), fn)
		}
		if res.kind == kindGroup {
			if _, member, ok := document.IndexedEquals(expr, "members"); ok {
				// Only an id can be a member; anything else (a prefix of
				// ids, "") would prefix-scan other members' groups.
				if !store.ValidID(store.PrefixUser, member) && !store.ValidID(store.PrefixGroup, member) {
					return nil
				}
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
				return each(inCreationOrder(recs), fn)
			}
		}
	}
	if res.kind == kindUser {
		return tx.EachUser(con, func(u store.User) (bool, error) { return fn(userRecord(u)) })
	}
	return tx.EachGroup(con, func(g store.Group) (bool, error) { return fn(groupRecord(g)) })
}

// inCreationOrder sorts records of one connection as a scan meets them.
func inCreationOrder(recs []record) []record {
	slices.SortFunc(recs, func(a, b record) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return recs
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
		recs = userRecords(users)
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
		recs = groupRecords(groups)
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

// listResponse is RFC 7644 §3.4.2's ListResponse with RFC 9865's cursors.
// itemsPerPage is the number of resources in this page, as §3.4.2.4 defines
// it; startIndex is left out of cursor-paged answers.
type listResponse struct {
	TotalResults   int    `json:"totalResults"`
	ItemsPerPage   int    `json:"itemsPerPage"`
	StartIndex     int    `json:"startIndex,omitempty"`
	NextCursor     string `json:"nextCursor,omitempty"`
	PreviousCursor string `json:"previousCursor,omitempty"`
	Resources      []any  `json:"Resources"`
}

func (l listResponse) MarshalJSON() ([]byte, error) {
	type plain listResponse
	return json.Marshal(struct {
		Schemas []string `json:"schemas"`
		plain
	}{[]string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, plain(l)})
}
