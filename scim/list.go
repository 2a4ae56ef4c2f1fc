package scim

import (
	"slices"
	"sort"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/rolecall/rolecall/scim/document"
	"github.com/rolecall/rolecall/store"
)

// List plans: which records a list query reads, in which order, and where
// its page lies. A query without filter or sort reads the creation-order
// indexes (inOrder); any other reads its candidates and checks each
// (matching). Parsing the query is in list_query.go, building and writing the
// page in list_page.go.

// inOrder serves a query without filter or sort from the creation-order
// indexes: a page costs the same wherever it is. Records are read one at a
// time, each rendered before the next is read, so that the page's budget
// bounds what is held however large the records are.
func (h *Handler) inOrder(tx *store.ReadTx, st *request, sources []*resource, lq listQuery, pb *pageBuilder) (listPage, error) {
	s := &orderedScan{tx: tx, con: st.connectionID, sources: sources, count: lq.count, pb: pb}
	if lq.cursor == nil {
		return s.fromIndex(max(lq.startIndex-1, 0))
	}
	if lq.cursor.Before {
		return s.backward(*lq.cursor)
	}
	return s.forward(*lq.cursor)
}

// orderedScan reads a listing's page in creation order: the resource types
// one after the other, each in the order its records were created.
type orderedScan struct {
	tx      *store.ReadTx
	con     string
	sources []*resource
	count   int // the page's count
	pb      *pageBuilder
}

// fromIndex reads the page from the offset-th record (index pagination).
func (s *orderedScan) fromIndex(offset int) (listPage, error) {
	var page listPage
	for rank, res := range s.sources {
		n := res.records.count(s.tx, s.con)
		page.total += n
		if offset >= n {
			offset -= n
			continue
		}
		if !s.pb.wantsMore(s.count) {
			continue
		}
		recs, _, err := res.records.pageAt(s.tx, s.con, offset, 1)
		offset = 0
		for err == nil && len(recs) > 0 {
			hits := make([]hit, len(recs))
			for i, rec := range recs {
				hits[i] = hit{res: res, rank: rank, rec: rec}
			}
			if err = s.pb.addAll(hits); err != nil || s.pb.stopped || !s.pb.wantsMore(s.count) {
				break
			}
			recs, _, err = res.records.after(s.tx, s.con, recs[len(recs)-1].seq, s.chunk(nextPageRead(recs)))
		}
		if err != nil {
			return page, err
		}
	}
	s.pb.finish(&page)
	return page, nil
}

// An index-paginated page reads its records in chunks, so that it costs a
// few round trips on PostgreSQL (the records, their users' groups) rather
// than a few per record. A chunk is read before any of its records is
// rendered, so what it holds is bounded in bytes, not only in records: the
// first read takes one record, and each next one as many records of the
// size just read as fit in pageReadBytes, at most maxPageRead. Users of a
// few KB are read 64 at a time; users of megabytes one at a time, as before.
const (
	maxPageRead   = 64
	pageReadBytes = 1 << 20
)

// nextPageRead is how many records the next chunk may take, judged by
// those of the last.
func nextPageRead(last []record) int {
	size := 0
	for _, r := range last {
		size += len(r.doc)
	}
	avg := max(size/len(last), 1)
	return min(max(pageReadBytes/avg, 1), maxPageRead)
}

// chunk is how many records the page's next read takes: size, or fewer
// when the page wants fewer.
func (s *orderedScan) chunk(size int) int {
	return max(min(size, s.count-len(s.pb.hits)), 1)
}

// counts counts the records of each resource type, and their total.
func (s *orderedScan) counts() ([]int, int) {
	counts := make([]int, len(s.sources))
	total := 0
	for i, res := range s.sources {
		counts[i] = res.records.count(s.tx, s.con)
		total += counts[i]
	}
	return counts, total
}

// forward reads the page after cursor c (nextCursor).
func (s *orderedScan) forward(c position) (listPage, error) {
	var page listPage
	counts, total := s.counts()
	page.total = total
	prev, next := false, false
	for rank, res := range s.sources {
		if rank < c.Rank {
			prev = prev || counts[rank] > 0
			continue
		}
		start := uint64(0)
		if rank == c.Rank && c.Seq > 0 {
			start = c.Seq
			_, before, err := res.records.before(s.tx, s.con, c.Seq+1, 0)
			if err != nil {
				return page, err
			}
			prev = prev || before
		}
		for {
			goOn, beyond, err := s.step(rank, res, &start, true)
			if err != nil {
				return page, err
			}
			next = next || beyond
			if !goOn {
				break
			}
		}
	}
	s.pb.finish(&page)
	page.setCursors(prev, next, false)
	return page, nil
}

// backward reads the page that ends before cursor c (previousCursor), from
// its last record to its first.
func (s *orderedScan) backward(c position) (listPage, error) {
	var page listPage
	counts, total := s.counts()
	page.total = total
	prev, next := false, false
	for rank := len(s.sources) - 1; rank >= 0; rank-- {
		res := s.sources[rank]
		switch {
		case rank > c.Rank:
			next = next || counts[rank] > 0
			continue
		case rank == c.Rank && c.Seq > 0:
			_, after, err := res.records.after(s.tx, s.con, c.Seq-1, 0)
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
			goOn, beyond, err := s.step(rank, res, &end, false)
			if err != nil {
				return page, err
			}
			prev = prev || beyond
			if !goOn {
				break
			}
		}
	}
	s.pb.finish(&page)
	page.setCursors(prev, next, false)
	return page, nil
}

// step reads the record after (or before) from, when the page wants one,
// and adds it; it reports whether to go on, and whether records lie beyond
// the page.
func (s *orderedScan) step(rank int, res *resource, from *uint64, forward bool) (goOn, beyond bool, err error) {
	limit := 0
	if s.pb.wantsMore(s.count) {
		limit = 1
	}
	var recs []record
	var more bool
	if forward {
		recs, more, err = res.records.after(s.tx, s.con, *from, limit)
	} else {
		recs, more, err = res.records.before(s.tx, s.con, *from, limit)
	}
	if err != nil || limit == 0 {
		return false, more, err
	}
	if len(recs) == 0 {
		return false, false, nil
	}
	added, err := s.pb.add(hit{res: res, rank: rank, rec: recs[0]})
	if err != nil || !added {
		return false, true, err
	}
	*from = recs[0].seq
	return more, false, nil
}

// matching serves a filtered or sorted query. Plans, cheapest first: the
// resource type's indexed lookups (an eq on an indexed attribute, a group
// filter on a member), else a read of the connection in creation order.
// Every candidate is checked against the whole filter, and every match
// counted for totalResults; unsorted, only the page is kept (and no more of
// it than its stored size says may fit the budget); sorted, only each
// match's sort key, the page's records being read again to render it.
func (h *Handler) matching(tx *store.ReadTx, st *request, sources []*resource, lq listQuery, pb *pageBuilder) (listPage, error) {
	m := matches{lq: lq, win: window{cursor: lq.cursor, offset: max(lq.startIndex-1, 0), count: lq.count, budget: pb.budget}}
	if lq.sortBy != "" {
		m.sorters = make([]*document.Sorter, len(sources))
		for i, res := range sources {
			if s, err := res.doc.Sorter(lq.sortBy, lq.descending); err == nil {
				m.sorters[i] = s
				if m.primary == nil {
					m.primary = s
				}
			}
		}
	}
	for rank, res := range sources {
		if err := m.collect(tx, st, rank, res); err != nil {
			return listPage{}, err
		}
	}
	if m.sorters == nil {
		return m.unsortedPage(pb)
	}
	return m.sortedPage(pb)
}

// matches gathers a filtered or sorted query's matches: the page's, in a
// window, unsorted; every match's sort key, sorted.
type matches struct {
	lq      listQuery
	sorters []*document.Sorter // by rank; nil unsorted
	primary *document.Sorter   // the first resource type's that can sort
	total   int
	win     window // unsorted
	all     []hit  // sorted: stubs with their keys
}

// collect checks the candidates of one resource type against the filter.
func (m *matches) collect(tx *store.ReadTx, st *request, rank int, res *resource) error {
	needDerived := res.needsDerived(m.lq)
	return res.candidates(tx, st, m.lq.filter, func(rec record) (bool, error) {
		full, err := res.full(st, rec)
		if err != nil {
			return false, err
		}
		ht := hit{res: res, rank: rank, rec: rec, full: full, derived: needDerived}
		if needDerived {
			if _, err := res.records.attachDerived(tx, st, rec, full); err != nil {
				return false, err
			}
		}
		if m.lq.filter != nil && !res.doc.Match(m.lq.filter, full) {
			return true, nil
		}
		m.total++
		if m.sorters == nil {
			m.win.offer(ht)
			return true, nil
		}
		if s := m.sorters[rank]; s != nil {
			ht.key = s.Key(full)
		} else {
			ht.key = document.SortKey{ID: rec.id}
		}
		ht.full, ht.derived, ht.stub = nil, false, true
		ht.rec = record{id: rec.id, seq: rec.seq}
		m.all = append(m.all, ht)
		return true, nil
	})
}

// unsortedPage renders the window's hits.
func (m *matches) unsortedPage(pb *pageBuilder) (listPage, error) {
	page := listPage{total: m.total}
	prev, next := m.win.prev, m.win.next
	if err := pb.addAll(m.win.hits); err != nil {
		return page, err
	}
	pb.finish(&page)
	if pb.stopped && m.lq.cursor != nil {
		prev, next = prev || pb.backward, next || !pb.backward
	}
	page.setCursors(prev, next, false)
	return page, nil
}

// sortedPage sorts the matches' keys and renders the page's.
func (m *matches) sortedPage(pb *pageBuilder) (listPage, error) {
	page := listPage{total: m.total}
	all, primary := m.all, m.primary
	slices.SortStableFunc(all, func(a, b hit) int { return primary.Compare(a.key, b.key) })
	n := len(all)
	var from, to int
	switch c := m.lq.cursor; {
	case c == nil:
		from = min(max(m.lq.startIndex-1, 0), n)
		to = from + min(m.lq.count, n-from)
	case c.Before:
		to = sort.Search(n, func(i int) bool { return primary.Compare(all[i].key, *c.Key) >= 0 })
		from = max(to-m.lq.count, 0)
	default:
		from = 0
		if c.Key != nil {
			from = sort.Search(n, func(i int) bool { return primary.Compare(all[i].key, *c.Key) > 0 })
		}
		to = from + min(m.lq.count, n-from)
	}
	if err := pb.addAll(all[from:to]); err != nil {
		return page, err
	}
	pb.finish(&page)
	if m.lq.cursor != nil {
		page.setCursors(from > 0 || pb.stopped && pb.backward, to < n || pb.stopped && !pb.backward, true)
	}
	return page, nil
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
// before filtering or sorting: the filter or sortBy names it, or meta where
// the derived attribute decides the version (a User's groups).
func (res *resource) needsDerived(lq listQuery) bool {
	names := func(attr string) bool {
		if lq.filter != nil && document.References(lq.filter, attr) {
			return true
		}
		s := strings.ToLower(strings.TrimSpace(lq.sortBy))
		return s == strings.ToLower(attr) || strings.HasPrefix(s, strings.ToLower(attr)+".")
	}
	return names(res.derived) || res.versionFollowsDerived && names("meta")
}

// candidates calls fn with every record the filter could match, in creation
// order, until fn returns false: those of the first of the type's plans
// that serves the filter, or else every record.
func (res *resource) candidates(tx *store.ReadTx, st *request, expr filter.Expression, fn func(record) (bool, error)) error {
	con := st.connectionID
	if expr != nil {
		for _, plan := range res.plans {
			if attr, value, ok := document.IndexedEquals(expr, plan.attrs...); ok {
				recs, err := plan.find(tx, con, attr, value)
				if err != nil {
					return err
				}
				return each(inCreationOrder(recs), fn)
			}
		}
	}
	return res.records.each(tx, con, fn)
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

func each(recs []record, fn func(record) (bool, error)) error {
	for _, rec := range recs {
		if more, err := fn(rec); err != nil || !more {
			return err
		}
	}
	return nil
}
