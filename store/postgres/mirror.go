package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rolecall/rolecall/store"
)

// mirror is a bucket the engine derives from another instead of storing it
// (store.Mirror; member_of from members). Its keys are read through a
// partial expression index over the other bucket's rows, which swaps each
// key's two parts; the store's writes to it are checked against the other
// bucket's and not sent. A membership so costs the server one row and two
// index entries, where two rows cost two of each.
//
// Only buckets created as mirrors are mirrors (buckets.mirror_of): one made
// before migration 0004 keeps its rows and is an ordinary bucket.
type mirror struct {
	of    int16 // the bucket mirrored
	split int   // the length of the first part of of's keys
	value []byte
	// The statements, with of's id and the key expression spelled out as
	// the index has them: a parameter would keep the planner from proving
	// that the partial index applies.
	key        string // SQL: the mirror's key of a row of of
	index      string // CREATE INDEX
	fetchFirst [2]string
	fetchFrom  [2][2]string // [desc][inclusive]
	scan       string
}

func newMirror(m store.Mirror, bucket, of int16) *mirror {
	mr := &mirror{of: of, split: m.Split, value: m.Value}
	mr.key = fmt.Sprintf("(substring(k from %d) || substring(k for %d))", m.Split+1, m.Split)
	mr.index = fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON kv (%s) WHERE bucket = %d",
		pgx.Identifier{fmt.Sprintf("kv_mirror_%d", bucket)}.Sanitize(), mr.key, of)
	for desc, order := range []string{"ASC", "DESC"} {
		mr.fetchFirst[desc] = fmt.Sprintf("SELECT %s FROM kv WHERE bucket = %d ORDER BY 1 %s LIMIT $1", mr.key, of, order)
		for inclusive, op := range [2][2]string{{">", ">="}, {"<", "<="}}[desc] {
			mr.fetchFrom[desc][inclusive] = fmt.Sprintf("SELECT %[1]s FROM kv WHERE bucket = %[2]d AND %[1]s %[3]s $2 ORDER BY 1 %[4]s LIMIT $1",
				mr.key, of, op, order)
		}
	}
	mr.scan = fmt.Sprintf(`SELECT p.i, s.k
	FROM unnest($1::bytea[], $2::bytea[]) WITH ORDINALITY AS p(lo, hi, i)
	CROSS JOIN LATERAL (
		SELECT %[1]s AS k FROM kv WHERE bucket = %[2]d AND %[1]s >= p.lo AND %[1]s < p.hi
		ORDER BY 1 LIMIT $3
	) s
	ORDER BY p.i, s.k`, mr.key, of)
	return mr
}

// ofKey is the key of the mirrored bucket that key mirrors.
func (m *mirror) ofKey(key []byte) []byte {
	cut := len(key) - m.split
	return append(append(make([]byte, 0, len(key)), key[cut:]...), key[:cut]...)
}

// fetchSQL is the cursor query over the mirror, and its arguments after the
// batch size.
func (m *mirror) fetchSQL(from []byte, inclusive, desc bool) (string, []any) {
	d, i := 0, 0
	if desc {
		d = 1
	}
	if inclusive {
		i = 1
	}
	if from == nil {
		return m.fetchFirst[d], nil
	}
	return m.fetchFrom[d][i], []any{from}
}

// writeMirror checks the shape of a write to a mirror and sends nothing:
// the store writes the mirrored key in the same transaction (in either
// order: an undo log takes writes back newest first). The value is not
// checked: the mirror's is the one every key has, whatever an old export
// being imported says.
func (b *bucket) writeMirror(key []byte) {
	if len(key) <= b.m.split {
		b.t.fail(fmt.Errorf("store: key %q is too short for a mirror bucket", key))
	}
}

func (b *bucket) mirrored() *bucket { return &bucket{t: b.t, id: b.m.of} }

func (b *bucket) getMirror(key []byte) []byte {
	if len(key) <= b.m.split || b.mirrored().Get(b.m.ofKey(key)) == nil {
		return nil
	}
	return b.m.value
}

func (b *bucket) getManyMirror(keys [][]byte) [][]byte {
	ofKeys := make([][]byte, 0, len(keys))
	for _, k := range keys {
		if len(k) > b.m.split {
			ofKeys = append(ofKeys, b.m.ofKey(k))
		}
	}
	found := b.mirrored().GetMany(ofKeys)
	vals := make([][]byte, len(keys))
	j := 0
	for i, k := range keys {
		if len(k) <= b.m.split {
			continue
		}
		if found[j] != nil {
			vals[i] = b.m.value
		}
		j++
	}
	return vals
}
