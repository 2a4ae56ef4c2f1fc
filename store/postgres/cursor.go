package postgres

import (
	"bytes"

	"github.com/jackc/pgx/v5"
)

// Cursor batch sizes: a cursor often reads one or two keys (a Seek to test a
// prefix, Last for the newest audit entry), sometimes a whole range, so its
// batches start small and grow.
const (
	firstBatch = 16
	maxBatch   = 256
)

// cursor walks a bucket in batches of rows: k > last ORDER BY k LIMIT n (or
// k < last descending). Each query first sends the transaction's buffered
// writes, so it sees them; a write made after a batch was fetched (the
// transaction's epoch moved) makes the cursor fetch again from where it is.
type cursor struct {
	t      *tx
	bucket int16
	m      *mirror // the bucket is a mirror: read through its index
	rows   []row
	i      int  // the current row in rows; -1 when none
	desc   bool // rows run in descending order
	more   bool // the database may hold rows past the batch
	epoch  uint64
	size   int
}

type row struct{ k, v []byte }

// fetch queries rows from the key from in direction desc (from included
// when inclusive; from nil: from the end of the bucket) and makes the first
// one current.
func (c *cursor) fetch(from []byte, inclusive, desc bool) (key, value []byte) {
	c.rows, c.i, c.desc, c.more = c.rows[:0], -1, desc, false
	c.size = min(max(c.size*4, firstBatch), maxBatch)
	var sql string
	args := []any{c.bucket, c.size}
	op, order := ">", "ASC"
	if desc {
		op, order = "<", "DESC"
	}
	if inclusive {
		op += "="
	}
	switch {
	case c.m != nil:
		var more []any
		sql, more = c.m.fetchSQL(from, inclusive, desc)
		args = append([]any{c.size}, more...)
	case from == nil:
		sql = "SELECT k, v FROM kv WHERE bucket = $1 ORDER BY k " + order + " LIMIT $2"
	default:
		sql = "SELECT k, v FROM kv WHERE bucket = $1 AND k " + op + " $3 ORDER BY k " + order + " LIMIT $2"
		args = append(args, from)
	}
	t := c.t
	br, err := t.roundTrip(true, func(b *pgx.Batch) { b.Queue(sql, args...) })
	if err != nil {
		return nil, nil
	}
	rows, err := br.Query()
	if err == nil {
		for rows.Next() {
			var r row
			if c.m != nil {
				err = rows.Scan(&r.k)
				r.v = c.m.value
			} else {
				err = rows.Scan(&r.k, &r.v)
			}
			if err != nil {
				break
			}
			if r.v == nil {
				r.v = []byte{}
			}
			c.rows = append(c.rows, r)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	t.fail(err)
	t.fail(br.Close())
	if t.err != nil {
		c.rows = c.rows[:0]
		return nil, nil
	}
	c.epoch = t.epoch
	c.more = len(c.rows) == c.size
	if len(c.rows) == 0 {
		return nil, nil
	}
	c.i = 0
	return c.rows[0].k, c.rows[0].v
}

func (c *cursor) current() (key, value []byte) {
	r := c.rows[c.i]
	return r.k, r.v
}

func (c *cursor) First() (key, value []byte) {
	c.size = 0
	return c.fetch(nil, false, false)
}

func (c *cursor) Last() (key, value []byte) {
	c.size = 0
	t := c.t
	if k, v, ok := t.lastBuffered(c.bucket); ok {
		// Positioned as if fetched: a move from here queries the server.
		c.rows, c.i, c.desc, c.more, c.epoch = c.rows[:0], -1, true, true, t.epoch
		if k == nil {
			c.more = false
			return nil, nil
		}
		c.rows, c.i = append(c.rows, row{k, v}), 0
		return k, v
	}
	k, v := c.fetch(nil, false, true)
	if b := t.bounds[c.bucket]; b != nil && !b.known && t.err == nil {
		// The fetch sent every buffered write: k is the greatest key on
		// the server now, which is what a bound is.
		b.key, b.known = bytes.Clone(k), true
	}
	return k, v
}

// lastBuffered answers Last for an append-mostly bucket of a write
// transaction without asking the server, when its bound and buffer suffice
// (ok): every key above the bound that exists was written since it was read,
// so it is in buf, and the greatest present one is the last key; without
// one, the bound itself is, if buf holds it present. The audit log's tail,
// read once per group commit, is known this way from the previous commit's
// writes.
func (t *tx) lastBuffered(id int16) (key, value []byte, ok bool) {
	b := t.bounds[id]
	if b == nil || !b.known {
		return nil, nil, false
	}
	var best *entry
	for k, en := range t.buf {
		if k.bucket != id || en.value == nil || (b.key != nil && k.key <= string(b.key)) {
			continue
		}
		if best == nil || k.key > string(key) {
			best, key = en, []byte(k.key)
		}
	}
	switch {
	case best != nil:
		return key, best.value, true
	case b.key == nil:
		return nil, nil, true // the bucket was empty and nothing was written
	}
	if en, ok := t.buf[bkey{id, string(b.key)}]; ok && en.value != nil {
		return b.key, en.value, true
	}
	return nil, nil, false
}

func (c *cursor) Seek(seek []byte) (key, value []byte) {
	c.size = 0
	return c.fetch(bytes.Clone(seek), true, false)
}

func (c *cursor) Next() (key, value []byte) { return c.step(false) }

func (c *cursor) Prev() (key, value []byte) { return c.step(true) }

// step moves one key in direction desc from the current one.
func (c *cursor) step(desc bool) (key, value []byte) {
	if c.i < 0 {
		return nil, nil // past an end, or never positioned
	}
	if c.desc == desc && c.epoch == c.t.epoch {
		if c.i+1 < len(c.rows) {
			c.i++
			return c.current()
		}
		if !c.more {
			c.i = -1
			return nil, nil
		}
	} else {
		c.size = 0 // turned around, or the transaction wrote: start small again
	}
	from := c.rows[c.i].k
	k, v := c.fetch(from, false, desc)
	return k, v
}
