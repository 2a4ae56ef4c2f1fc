package postgres

import (
	"bytes"

	"github.com/jackc/pgx/v5"

	"github.com/rolecall/rolecall/store"
)

var _ store.MultiScanner = (*bucket)(nil)

// scanFirst is how many keys of each prefix ScanPrefixes's one query reads;
// a prefix with more goes on with a cursor of its own. It bounds what the
// query returns (prefixes × scanFirst rows) whatever the prefixes hold.
const scanFirst = 256

// sqlScanPrefixes reads the first $4 keys of each range [lo, hi), numbered
// by their range's position in the arrays: an index range scan per range, in
// one statement. Both ends must be index conditions: with an open end
// written as "hi IS NULL OR k < hi", PostgreSQL bounds the scan by lo alone
// and filters every later key of the bucket out, one by one.
const sqlScanPrefixes = `SELECT p.i, s.k, s.v
	FROM unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS p(lo, hi, i)
	CROSS JOIN LATERAL (
		SELECT k, v FROM kv WHERE bucket = $1 AND k >= p.lo AND k < p.hi
		ORDER BY k LIMIT $4
	) s
	ORDER BY p.i, s.k`

// ScanPrefixes implements store.MultiScanner: one query reads the first
// scanFirst keys under every prefix, after the write buffer is sent (as a
// cursor's query sends it), so it sees the transaction's own writes, and
// under a savepoint just what a cursor would. Only a prefix with more keys
// than that costs a round trip more, for a cursor over the rest.
func (b *bucket) ScanPrefixes(prefixes [][]byte, fn func(i int, k, v []byte) bool) {
	if len(prefixes) == 0 {
		return
	}
	t := b.t
	// A prefix without an end (empty, or all 0xff) is walked by a cursor
	// alone; the query reads the others. at maps the query's ranges back
	// to prefixes.
	var lo, hi [][]byte
	var at []int
	for i, p := range prefixes {
		if end := prefixEnd(p); end != nil {
			lo, hi, at = append(lo, append([]byte{}, p...)), append(hi, end), append(at, i)
		}
	}
	br, err := t.roundTrip(true, func(q *pgx.Batch) {
		if b.m != nil {
			q.Queue(b.m.scan, lo, hi, scanFirst)
		} else {
			q.Queue(sqlScanPrefixes, b.id, lo, hi, scanFirst)
		}
	})
	if err != nil {
		return
	}
	type keyed struct {
		i int
		row
	}
	var got []keyed
	rows, err := br.Query()
	if err == nil {
		for rows.Next() {
			var r keyed
			var i int64
			if b.m != nil {
				err = rows.Scan(&i, &r.k)
				r.v = b.m.value
			} else {
				err = rows.Scan(&i, &r.k, &r.v)
			}
			if err != nil {
				break
			}
			if r.v == nil {
				r.v = []byte{} // an empty value is a present key
			}
			r.i = at[i-1] // ORDINALITY counts from 1
			got = append(got, r)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	t.fail(err)
	t.fail(br.Close())
	if t.err != nil {
		return
	}
	for i, p := range prefixes {
		n := 0
		var last []byte
		for len(got) > 0 && got[0].i == i {
			r := got[0]
			got = got[1:]
			n, last = n+1, r.k
			if !fn(i, r.k, r.v) {
				return
			}
		}
		from := p // a prefix the query did not read
		switch {
		case prefixEnd(p) == nil:
		case n < scanFirst:
			continue
		default:
			// More keys than the query read: the rest with a cursor,
			// from after the last one.
			from = append(last, 0)
		}
		c := b.Cursor()
		k, v := c.Seek(from)
		for ; k != nil && bytes.HasPrefix(k, prefixes[i]); k, v = c.Next() {
			if !fn(i, k, v) {
				return
			}
		}
		if t.err != nil {
			return
		}
	}
}

// prefixEnd is the least key greater than every key with prefix p, or nil
// when there is none (p empty or all 0xff).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
