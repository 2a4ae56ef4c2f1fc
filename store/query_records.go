package store

import (
	"bytes"
	"math"
	"slices"
	"strconv"
)

// A listing pages the users or groups that match a query through the
// cheapest access path the query allows (QueryUsers, QueryGroups):
//
//   - a name or externalId: the per-connection indexes, one lookup per
//     connection (all connections when none is given), in id order;
//   - a connection alone: the connection's creation-order index, so a page
//     costs the same whatever other connections hold;
//   - anything else (a search): the records in id order, sequentially. A
//     search reads every candidate until it has a page, and a sequential
//     scan of all records (checking the connection prefix of each value)
//     beats a lookup per record of the connection's order index fourfold.
//
// A search filters whichever path is taken. Cursors say where the last page
// ended: an id on the id-ordered paths, a sequence number on the
// creation-order path. They are only meaningful for the query that made them.
type listing struct {
	records []byte // id → conID|record
	names   []byte // conID|fold(name) → id (unique)
	extIDs  []byte // conID|externalId|id → ∅
	order   ordinal
	prefix  string // id prefix of the records
}

var (
	userListing  = listing{bucketUsers, bucketUserNames, bucketUserExtIDs, userOrdinal, PrefixUser}
	groupListing = listing{bucketGroups, bucketGroupNames, bucketGroupExtIDs, groupOrdinal, PrefixGroup}
)

// recordQuery is what chooses the access path; the caller's keep function
// decides (again) whether each candidate matches every filter.
type recordQuery struct {
	connectionID, name, externalID string
	search                         string // the caller's substring search, if any
}

// query pages the records of l that keep accepts, at most take (take <= 0:
// all), after the cursor `after`. keep gets the stored value (conID|JSON,
// valid only during the call) and returns the decoded record and whether it
// matches. next is set only when another match exists beyond the page.
func query[T any](r *ReadTx, l listing, q recordQuery, after string, take int, keep func(raw []byte) (T, bool, error)) (list []T, next string, err error) {
	if q.connectionID != "" {
		if err := r.connectionExists(q.connectionID); err != nil {
			return nil, "", err
		}
	}
	p := &recordPage[T]{take: take, con: []byte(q.connectionID), pre: newPrefilter(q.search), keep: keep}
	switch {
	case q.name != "" || q.externalID != "":
		err = pageIndexed(r, l, q, after, p)
	case q.connectionID != "" && q.search == "":
		err = pageByCreation(r, l, q.connectionID, after, p)
	default:
		err = pageByID(r, l, after, p)
	}
	if err == nil {
		err = p.err
	}
	if err != nil {
		return nil, "", err
	}
	return p.list, p.next, nil
}

// recordPage collects one page of a query as an access path offers it
// stored values in cursor order.
type recordPage[T any] struct {
	take int
	con  []byte // the query's connection id, "" for every connection
	pre  prefilter
	keep func(raw []byte) (T, bool, error)

	list []T
	last string // the cursor of the last record kept
	next string // set when a match exists beyond the page
	err  error  // keep's
}

// readAhead is how many records to read in one go: what the page still
// needs and one more (is there a next page?), at least a few (a search skips
// some), at most what one read should carry.
func (p *recordPage[T]) readAhead() int {
	if p.take <= 0 {
		return 256
	}
	return min(max(p.take-len(p.list)+1, 16), 1024)
}

// visit offers one stored value; it reports whether the value joined the
// page (the caller then records its cursor in last) and whether to go on.
func (p *recordPage[T]) visit(raw []byte) (kept, more bool) {
	if !bytes.HasPrefix(raw, p.con) || !p.pre.mayContain(raw) {
		return false, true
	}
	v, ok, err := p.keep(raw)
	if err != nil {
		p.err = err
		return false, false
	}
	if !ok {
		return false, true
	}
	if p.take > 0 && len(p.list) == p.take {
		p.next = p.last
		return false, false
	}
	p.list = append(p.list, v)
	return true, true
}

// loadEach decodes the records of ids from bucket, in order, reading them in
// one go (see getEach). decode gets each id and its stored value (nil:
// absent) and says what a missing or malformed one is; the first error ends
// the load.
func loadEach[T any](r *ReadTx, bucket []byte, ids []string, decode func(id string, raw []byte) (T, error)) ([]T, error) {
	keys := make([][]byte, len(ids))
	for i, id := range ids {
		keys[i] = []byte(id)
	}
	out := make([]T, 0, len(ids))
	var err error
	r.getEach(bucket, keys, func(i int, raw []byte) {
		if err == nil {
			var v T
			if v, err = decode(ids[i], raw); err == nil {
				out = append(out, v)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pageIndexed walks the ids a name or externalId lookup finds, in id order;
// cursors are ids.
func pageIndexed[T any](r *ReadTx, l listing, q recordQuery, after string, p *recordPage[T]) error {
	if after != "" && !ValidID(l.prefix, after) {
		return badCursor(after)
	}
	ids := r.indexedIDs(l, q)
	start, found := slices.BinarySearch(ids, after)
	if found {
		start++
	}
	ids = ids[start:]
	for more := true; more && len(ids) > 0; {
		n := min(len(ids), p.readAhead())
		keys := make([][]byte, n)
		for i, id := range ids[:n] {
			keys[i] = []byte(id)
		}
		r.getEach(l.records, keys, func(i int, raw []byte) {
			if !more || raw == nil {
				return // an index entry always has its record (Verify); be safe
			}
			var kept bool
			if kept, more = p.visit(raw); kept {
				p.last = ids[i]
			}
		})
		ids = ids[n:]
	}
	return nil
}

// pageByCreation walks one connection's records in creation order; cursors
// are sequence numbers.
func pageByCreation[T any](r *ReadTx, l listing, connectionID, after string, p *recordPage[T]) error {
	seq := uint64(0)
	if after != "" {
		var err error
		if seq, err = strconv.ParseUint(after, 10, 64); err != nil {
			return badCursor(after)
		}
		if seq == math.MaxUint64 {
			return nil
		}
	}
	prefix := []byte(connectionID)
	c := r.bucket(l.order.order).Cursor()
	k, id := c.Seek(cat(prefix, u64(seq+1)))
	for more := true; more && k != nil && bytes.HasPrefix(k, prefix); {
		// The records of the next ids are read in one go (getEach), so the
		// cursor's slices are copied first: they die with that read.
		n := p.readAhead()
		seqs, ids := make([]uint64, 0, n), make([][]byte, 0, n)
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(ids) < n; k, id = c.Next() {
			seqs, ids = append(seqs, readU64(k[len(prefix):])), append(ids, bytes.Clone(id))
		}
		k, id = bytes.Clone(k), bytes.Clone(id)
		r.getEach(l.records, ids, func(i int, raw []byte) {
			if !more || raw == nil {
				return
			}
			var kept bool
			if kept, more = p.visit(raw); kept {
				p.last = strconv.FormatUint(seqs[i], 10)
			}
		})
	}
	return nil
}

// pageByID walks every record in id order; cursors are ids.
func pageByID[T any](r *ReadTx, l listing, after string, p *recordPage[T]) error {
	if after != "" && !ValidID(l.prefix, after) {
		return badCursor(after)
	}
	c := r.bucket(l.records).Cursor()
	k, v := c.First()
	if after != "" {
		if k, v = c.Seek([]byte(after)); k != nil && string(k) == after {
			k, v = c.Next()
		}
	}
	for ; k != nil; k, v = c.Next() {
		kept, more := p.visit(v)
		if kept {
			p.last = string(k)
		}
		if !more {
			break
		}
	}
	return nil
}

func badCursor(after string) error {
	return errorf(ErrInvalid, "%q is not a cursor of this listing", after)
}

// indexedIDs looks a name (preferred: unique) or externalId up in the
// indexes of the query's connection, or of every connection, and returns the
// ids in order without duplicates.
func (r *ReadTx) indexedIDs(l listing, q recordQuery) []string {
	cons := []string{q.connectionID}
	if q.connectionID == "" {
		cons = r.connectionIDs()
	}
	var ids []string
	for _, con := range cons {
		if q.name != "" {
			if id := r.get(l.names, catS(con, Fold(q.name))); id != nil {
				ids = append(ids, string(id))
			}
			continue
		}
		ids = append(ids, r.idsByExtID(l.extIDs, con, q.externalID)...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// connectionIDs lists every connection id, reading keys only.
func (r *ReadTx) connectionIDs() []string {
	var ids []string
	r.scanPrefix(bucketConnections, nil, func(k, _ []byte) bool {
		ids = append(ids, string(k))
		return true
	})
	return ids
}

// prefilter spares a search most JSON decoding: a sparse search over 100k
// users would otherwise decode every one of them. It looks for the term in
// the stored bytes, ASCII case-insensitively, and says "cannot match" only
// when no decoding could make the record match:
//
//   - it applies to terms of printable ASCII that JSON never escapes (no
//     quote, backslash, <, > or &);
//   - a record with any backslash may hide characters behind escapes, so it
//     is always decoded;
//   - the only non-ASCII runes that fold to ASCII are U+017F (ſ, to s) and
//     U+212A (Kelvin sign, to k), so a term with an s or k decodes records
//     holding either.
type prefilter struct {
	term     []byte // lower-case; nil: no pre-check
	foldsOut bool   // the term has an s or a k
}

func newPrefilter(search string) prefilter {
	var p prefilter
	if search == "" {
		return p
	}
	term := make([]byte, len(search))
	for i := 0; i < len(search); i++ {
		c := search[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return prefilter{}
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c == 's' || c == 'k' {
			p.foldsOut = true
		}
		term[i] = c
	}
	p.term = term
	return p
}

var (
	longS  = []byte("\u017f") // ſ, as stored (UTF-8)
	kelvin = []byte("\u212a")
)

func (p prefilter) mayContain(raw []byte) bool {
	if p.term == nil || bytes.IndexByte(raw, '\\') >= 0 {
		return true
	}
	if p.foldsOut && (bytes.Contains(raw, longS) || bytes.Contains(raw, kelvin)) {
		return true
	}
	return containsFoldASCII(raw, p.term)
}

// containsFoldASCII reports whether term (lower-case ASCII) occurs in s with
// ASCII letters compared case-insensitively.
func containsFoldASCII(s, term []byte) bool {
	first := term[0]
	upper := first
	if 'a' <= first && first <= 'z' {
		upper -= 'a' - 'A'
	}
	for i := 0; i+len(term) <= len(s); i++ {
		if c := s[i]; c != first && c != upper {
			continue
		}
		j := 1
		for ; j < len(term); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != term[j] {
				break
			}
		}
		if j == len(term) {
			return true
		}
	}
	return false
}
