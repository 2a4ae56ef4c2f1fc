package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// List pages: a page's resources rendered within its byte budget, and the
// ListResponse written around them.

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
		rec.groups = h.rec.groups
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
	h.full, h.rec.doc, h.rec.groups = nil, nil, nil
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
		if _, err := res.records.attachForOutput(tx, st, hit.rec, hit.full, p); err != nil {
			return nil, err
		}
	}
	return output(res.doc.Project(hit.full, p.attributes, p.excluded)), nil
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

// addAll adds the hits of a page, in listing order, until the budget stops
// it: from the first forward, from the last backward.
func (b *pageBuilder) addAll(hits []hit) error {
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
		if b.backward {
			order[i] = len(hits) - 1 - i
		}
	}
	for n, i := range order {
		if needsGroups(hits[i]) {
			if err := b.readGroups(hits, order[n:]); err != nil {
				return err
			}
		}
		added, err := b.add(hits[i])
		hits[i].rec.groups = nil // rendered, or never will be
		if err != nil || !added {
			return err
		}
	}
	return nil
}

// needsGroups reports whether h is a User whose groups are still to be
// read for its rendering.
func needsGroups(h hit) bool {
	_, user := h.res.records.(userRecords)
	return user && !h.derived && h.rec.groups == nil
}

// readGroups reads the groups of the users among hits[order...] that need
// them, in that order, in one go (see userRecords.readGroups), so that a
// page costs a round trip for its users' groups on PostgreSQL, not one per
// user.
func (b *pageBuilder) readGroups(hits []hit, order []int) error {
	var recs []record
	var at []int
	for _, i := range order {
		if needsGroups(hits[i]) {
			recs, at = append(recs, hits[i].rec), append(at, i)
		}
	}
	if err := (userRecords{}).readGroups(b.tx, recs); err != nil {
		return err
	}
	for j, i := range at {
		hits[i].rec.groups = recs[j].groups
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
