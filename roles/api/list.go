package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/rolecall/rolecall/store"
)

// Auth0's list endpoints page in two styles, and the Management API accepts
// both wherever Auth0 does:
//
//   - checkpoint: from (an opaque cursor, "" for the first page) and take
//     (1..100, default 50); the answer's `next` is the from of the following
//     page, left out on the last one;
//   - index: page (0-based) and per_page (1..100, default 50); page p holds
//     exactly the items p*per_page .. p*per_page+per_page-1 of the listing.
//
// include_totals=true adds "total" (every item the listing holds, filters
// applied) and, in the index style, "start" (the first item's index) and
// "limit" (per_page), as Auth0's {"roles":[…],"start":0,"limit":50,"total":N}.
// Unlike Auth0, an answer is always an object with the items under their
// name (Auth0 answers a bare array in the index style without totals).
//
// Every list endpoint declares the parameters it accepts; any other, a
// parameter given twice, or both styles at once is 400 invalid_query_string
// naming the parameter, so a typo is never silently ignored.
//
// The byte budget (Options.ListPageBytes) bounds a page in both styles. A
// checkpoint page stops early at it with `next` where the rest starts. An
// index page cannot stop early without moving every later page, so it is
// exact or refused: 400 invalid_query_string naming per_page when its items
// exceed the budget (one item always fits, so per_page=1, or from/take,
// always works). An index page costs a walk over the items before it; a
// checkpoint page costs only its own.

// The paging parameters.
const (
	paramFrom    = "from"
	paramTake    = "take"
	paramPage    = "page"
	paramPerPage = "per_page"
	paramTotals  = "include_totals"
)

// Listing sizes, as Auth0's.
const (
	defaultTake = 50
	maxTake     = 100
)

// skipBatch is how many items a listing reads at a time while skipping or
// counting them: stored items (audit entries) can be large.
const skipBatch = 16

// pagingStyles says which paging styles a list endpoint accepts.
type pagingStyles int

const (
	checkpointPaging pagingStyles = iota // from/take only
	checkpointTotals                     // from/take, with include_totals
	bothPagings                          // from/take or page/per_page, with include_totals (where Auth0 has both)
)

// listQuery is a list request's checked query string.
type listQuery struct {
	from    string
	take    int  // the page size: take, or per_page in the index style
	indexed bool // page/per_page style
	page    int
	totals  bool
	values  map[string][]string
}

// get returns a filter parameter's value ("" when absent).
func (q listQuery) get(name string) string {
	if v := q.values[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseList checks a list request's query string against what its endpoint
// accepts: the paging parameters of styles and the filters named. Anything
// else is 400 invalid_query_string naming the parameter.
func parseList(r *http.Request, styles pagingStyles, filters ...string) (listQuery, error) {
	values := r.URL.Query()
	q := listQuery{take: defaultTake, values: values}
	accepted := func(name string) bool {
		switch name {
		case paramFrom, paramTake:
			return true
		case paramTotals:
			return styles != checkpointPaging
		case paramPage, paramPerPage:
			return styles == bothPagings
		}
		return slices.Contains(filters, name)
	}
	// Sorted, so the parameter an error names does not depend on map order.
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range values {
			if !yield(k) {
				return
			}
		}
	}) {
		if !accepted(name) {
			switch name {
			case paramPage, paramPerPage:
				return q, badQuery("Query parameter '%s' is not supported by this listing: page it with from and take", name)
			case paramTotals:
				return q, badQuery("Query parameter '%s' is not supported by this listing", name)
			}
			return q, badQuery("Unknown query parameter '%s'", name)
		}
		if len(values[name]) > 1 {
			return q, badQuery("Query parameter '%s' is given more than once", name)
		}
	}
	_, hasPage := values[paramPage]
	_, hasPerPage := values[paramPerPage]
	q.indexed = hasPage || hasPerPage
	if q.indexed {
		for _, name := range []string{paramFrom, paramTake} {
			if _, ok := values[name]; ok {
				other := paramPage
				if !hasPage {
					other = paramPerPage
				}
				return q, badQuery("Query parameter '%s' cannot be combined with '%s': page with from/take or with page/per_page, not both", name, other)
			}
		}
	}
	var err error
	if q.take, err = intParam(values, paramTake, defaultTake, 1, maxTake); err != nil {
		return q, err
	}
	if q.indexed {
		if q.take, err = intParam(values, paramPerPage, defaultTake, 1, maxTake); err != nil {
			return q, err
		}
		// The bound keeps page*per_page far from overflowing an int.
		if q.page, err = intParam(values, paramPage, 0, 0, 1<<30); err != nil {
			return q, err
		}
	}
	q.from = values.Get(paramFrom)
	switch values.Get(paramTotals) {
	case "", "false":
	case "true":
		q.totals = true
	default:
		return q, badQuery("Query parameter '%s' must be true or false", paramTotals)
	}
	return q, nil
}

// intParam reads an integer parameter in [lo, hi], def when absent.
func intParam(values map[string][]string, name string, def, lo, hi int) (int, error) {
	v, ok := values[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < lo || n > hi {
		return 0, badQuery("Query parameter '%s' must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

// yieldFunc receives one item of a listing: cursor resumes the listing after
// it; view builds what the answer shows, and is called only for the items a
// page holds (skipped and counted items are never encoded). It returns
// whether to go on.
type yieldFunc func(cursor string, view func() (any, error)) (bool, error)

// listing is one list endpoint's items in a fixed order.
type listing struct {
	key string // the items' member in the answer: "roles", "users", …
	// each calls yield with the items after the cursor `after` ("" for the
	// first), in order, until yield says stop. A cursor it cannot have made
	// is a badQuery. room is how many more items the page may still take; a
	// listing whose items are large reads that many at a time, no more.
	each func(tx *store.ReadTx, after string, room func() int, yield yieldFunc) error
	// count counts every item, for include_totals; nil: count through each.
	count func(tx *store.ReadTx) (int, error)
	// length adds "length" (the number of items on the page) to an index
	// answer with totals, as Auth0's logs do.
	length bool
}

// jsonField is one member after the items of a list answer.
type jsonField struct {
	name  string
	value any
}

// serveList answers one page of l as q asks, within the byte budget.
func (a *API) serveList(w http.ResponseWriter, q listQuery, l listing) error {
	pg := a.newPage()
	var tail []jsonField
	err := a.view(w, func(tx *store.ReadTx) error {
		var err error
		if q.indexed {
			tail, err = fillIndexed(tx, pg, q, l)
		} else {
			tail, err = fillCheckpoint(tx, pg, q, l)
		}
		return err
	})
	if err != nil {
		return err
	}
	pg.writeFields(w, l.key, tail)
	return nil
}

// room is how many more items pg may take, as far as the budget and take
// tell: at least 1 while it is not full.
func (pg *pageItems) room(take int) int {
	left := take - len(pg.items)
	if left <= 0 {
		return 0
	}
	return max(1, min(left, (pg.budget-pg.size)/pg.largest()))
}

// fillCheckpoint fills a from/take page: up to take items after q.from,
// stopping early at the budget; next is the cursor of the last item held
// when another follows it.
func fillCheckpoint(tx *store.ReadTx, pg *pageItems, q listQuery, l listing) ([]jsonField, error) {
	var next, last string
	err := l.each(tx, q.from, func() int { return max(1, pg.room(q.take)) }, func(cursor string, view func() (any, error)) (bool, error) {
		if len(pg.items) == q.take {
			next = last
			return false, nil
		}
		v, err := view()
		if err != nil {
			return false, err
		}
		added, err := pg.add(v)
		if err != nil {
			return false, err
		}
		if !added {
			next = last
			return false, nil
		}
		last = cursor
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	var tail []jsonField
	if next != "" {
		tail = append(tail, jsonField{"next", next})
	}
	if q.totals {
		total, err := countListing(tx, l)
		if err != nil {
			return nil, err
		}
		tail = append(tail, jsonField{"total", total})
	}
	return tail, nil
}

// fillIndexed fills page q.page of q.take items exactly, walking past the
// items before it; an over-budget page is refused rather than cut short,
// since a shorter page would shift every following one.
func fillIndexed(tx *store.ReadTx, pg *pageItems, q listQuery, l listing) ([]jsonField, error) {
	start := q.page * q.take
	counting := q.totals && l.count == nil
	seen := 0
	err := l.each(tx, "", func() int {
		if seen < start {
			return min(start-seen, skipBatch)
		}
		return max(1, pg.room(q.take))
	}, func(_ string, view func() (any, error)) (bool, error) {
		seen++
		if seen <= start {
			return true, nil
		}
		if len(pg.items) == q.take {
			return counting, nil
		}
		v, err := view()
		if err != nil {
			return false, err
		}
		added, err := pg.add(v)
		if err != nil {
			return false, err
		}
		if !added {
			return false, badQuery("Query parameter '%s': page %d holds more than the %d-byte page limit; ask for a smaller per_page (a page of one always fits) or page with from/take",
				paramPerPage, q.page, pg.budget)
		}
		return len(pg.items) < q.take || counting, nil
	})
	if err != nil || !q.totals {
		return nil, err
	}
	total := seen
	if l.count != nil {
		if total, err = l.count(tx); err != nil {
			return nil, err
		}
	}
	tail := []jsonField{{"start", start}, {"limit", q.take}}
	if l.length {
		tail = append(tail, jsonField{"length", len(pg.items)})
	}
	return append(tail, jsonField{"total", total}), nil
}

// countListing counts l's items: its own count, or a walk that encodes
// nothing.
func countListing(tx *store.ReadTx, l listing) (int, error) {
	if l.count != nil {
		return l.count(tx)
	}
	n := 0
	err := l.each(tx, "", func() int { return skipBatch }, func(string, func() (any, error)) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// idListing lists the ids that ids reads (in ascending order, so that a
// cursor, the last id listed, can be found again); view shows one.
func idListing(key string, ids func(tx *store.ReadTx) ([]string, error), view func(tx *store.ReadTx, id string) (any, error)) listing {
	return listing{
		key: key,
		each: func(tx *store.ReadTx, after string, _ func() int, yield yieldFunc) error {
			all, err := ids(tx)
			if err != nil {
				return err
			}
			start := 0
			if after != "" {
				start, _ = slices.BinarySearch(all, after)
				if start < len(all) && all[start] == after {
					start++
				}
			}
			for _, id := range all[start:] {
				more, err := yield(id, func() (any, error) { return view(tx, id) })
				if err != nil || !more {
					return err
				}
			}
			return nil
		},
		count: func(tx *store.ReadTx) (int, error) {
			all, err := ids(tx)
			return len(all), err
		},
	}
}

// writeFields answers {"<key>":[items…],<fields>} without copying the items
// into one buffer, each dropped once written.
func (p *pageItems) writeFields(w http.ResponseWriter, key string, fields []jsonField) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	k, _ := json.Marshal(key)
	if _, err := w.Write(append(append([]byte{'{'}, k...), ':', '[')); err != nil {
		return
	}
	for i := range p.items {
		if i > 0 {
			if _, err := w.Write([]byte{','}); err != nil {
				return
			}
		}
		if _, err := w.Write(p.items[i]); err != nil {
			return
		}
		p.items[i] = nil
	}
	tail := []byte{']'}
	for _, f := range fields {
		name, _ := json.Marshal(f.name)
		value, _ := json.Marshal(f.value)
		tail = append(append(append(append(tail, ','), name...), ':'), value...)
	}
	_, _ = w.Write(append(tail, '}', '\n'))
}

// listAll answers, under key, every item read returns, each through view:
// for the short lists (API keys, event streams) that are never paged.
func listAll[T, V any](a *API, w http.ResponseWriter, key string, read func(*store.ReadTx) ([]T, error), view func(T) V) error {
	return writeItems(a, w, key, func(tx *store.ReadTx) ([]T, string, error) {
		list, err := read(tx)
		return list, "", err
	}, func(_ *store.ReadTx, it T) V { return view(it) })
}

// listCheckpoint answers one checkpoint page (?from=&take=) of a list the
// store pages itself (connections, resource servers): its items under key,
// each through view, and "next" unless it is the last.
func listCheckpoint[T, V any](a *API, w http.ResponseWriter, r *http.Request, key string, read func(tx *store.ReadTx, from string, take int) ([]T, string, error), view func(*store.ReadTx, T) V) error {
	from, take, err := page(r)
	if err != nil {
		return err
	}
	return writeItems(a, w, key, func(tx *store.ReadTx) ([]T, string, error) { return read(tx, from, take) }, view)
}

func writeItems[T, V any](a *API, w http.ResponseWriter, key string, read func(*store.ReadTx) ([]T, string, error), view func(*store.ReadTx, T) V) error {
	items, next := []V{}, ""
	err := a.view(w, func(tx *store.ReadTx) error {
		list, n, err := read(tx)
		for _, it := range list {
			items = append(items, view(tx, it))
		}
		next = n
		return err
	})
	if err != nil {
		return err
	}
	out := map[string]any{key: items}
	if next != "" {
		out["next"] = next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
