package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rolecall/rolecall/store"
)

// The statements a transaction starts with; they travel with its first query.
var (
	beginRead = []string{"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"}
	// The writer lock is what serializes writers (see the package comment),
	// so READ COMMITTED suffices: nothing changes under a writer but itself.
	beginWrite = []string{
		"BEGIN ISOLATION LEVEL READ COMMITTED",
		fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", writerLock),
	}
)

const (
	sqlGet     = "SELECT v FROM kv WHERE bucket = $1 AND k = $2"
	sqlLastKey = "SELECT k FROM kv WHERE bucket = $1 ORDER BY k DESC LIMIT 1"
	sqlGetMany = "SELECT k, v FROM kv WHERE bucket = $1 AND k = ANY($2::bytea[])"
	sqlUpsert  = `INSERT INTO kv (bucket, k, v) SELECT * FROM unnest($1::smallint[], $2::bytea[], $3::bytea[])
		ON CONFLICT (bucket, k) DO UPDATE SET v = excluded.v`
	// sqlInsert is for keys known to be absent on the server: a plain
	// insert costs the server about half an upsert's time per row.
	sqlInsert = `INSERT INTO kv (bucket, k, v) SELECT * FROM unnest($1::smallint[], $2::bytea[], $3::bytea[])`
	// sqlDelete deletes keys of one bucket: an index scan over the array,
	// with no join to build.
	sqlDelete = `DELETE FROM kv WHERE bucket = $1 AND k = ANY($2::bytea[])`
)

// Begin starts a transaction. Nothing is sent yet: BEGIN (and, for a writer,
// the writer lock, which waits for every other writer of every node) goes
// with the first query, so a read costs one round trip less.
func (e *Engine) Begin(ctx context.Context, writable bool) (store.EngineTx, error) {
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	t := &tx{e: e, ctx: ctx, conn: conn, writable: writable, begin: beginRead}
	if writable {
		t.begin = beginWrite
		t.buf = make(map[bkey]*entry)
	}
	return t, nil
}

type bkey struct {
	bucket int16
	key    string
}

// entry is a key a write transaction read or wrote.
type entry struct {
	value []byte // nil: absent
	dirty bool   // written here and not yet sent
	// unstored: the server is known to have no row for the key (a read
	// found none, or the last flush deleted it), so sending a value is an
	// insert and sending a delete is nothing. Writes do not change it; a
	// flush does. A key first written blind is not known absent.
	unstored bool
}

type tx struct {
	e        *Engine
	ctx      context.Context
	conn     *pgxpool.Conn // nil once the transaction ended
	writable bool
	begin    []string // statements not yet sent; nil once BEGIN went out
	err      error
	// queued are savepoint statements (ROLLBACK TO, RELEASE) that go
	// first with the next round trip.
	queued []string
	sp     savepoint
	// token is the writer token read with BEGIN (write transactions; see
	// cache.go).
	token int64

	// buf (write transactions) holds every key read or written: reads under
	// the writer lock cannot go stale, so a key is fetched at most once, and
	// writes wait in it until the next flush.
	buf   map[bkey]*entry
	dirty int
	// epoch counts writes, so a cursor knows its fetched rows may be stale.
	epoch uint64
	wrote bool // something was written: notify the other nodes
	// inserted counts the rows sent as inserts or upserts (see analyze.go).
	inserted int
	created  map[string]int16  // buckets created here, cached at commit
	mirrors  map[int16]*mirror // mirror buckets created here, cached at commit
	// bounds (write transactions) are the greatest keys of append-mostly
	// buckets (store.AppendMostly) on the server, read once: a key above
	// it and not in buf is absent without asking the server, since buf holds
	// every key the transaction wrote and nobody else writes under the
	// writer lock. The store's checks of fresh time-ordered ids and
	// sequence numbers cost no round trip.
	bounds map[int16]*bound
}

// savepoint is the write transaction's open savepoint (store.Savepointer).
// It reaches the server only when writes made under it must be sent before
// it ends (a cursor query flushes the buffer): until then, rolling back to it
// is forgetting buffered writes, and a write that reads only with Gets (a
// user's creation) costs no statement and no subtransaction at all.
//
// A sent savepoint that writes is a subtransaction; past 64 of them in one
// transaction PostgreSQL's snapshots of concurrent readers slow down
// (subxid overflow), so sending only when needed matters for batches of
// writes that read with cursors after writing.
//
// Undoing the buffer relies on one invariant: buf holds every key the
// transaction wrote, so a key absent from buf has the same value on the
// server before and after the savepoint, and a cached read needs no undo.
type savepoint struct {
	open bool
	sent bool // SAVEPOINT went to the server
	// saved is each key's buffer state before its first write under the
	// savepoint.
	saved map[bkey]saved
}

type saved struct {
	had      bool // the key was in buf
	value    []byte
	dirty    bool
	unstored bool
}

// savepointName is the one savepoint's name; they are never nested.
const savepointName = "rolecall_write"

var (
	_ store.Savepointer = (*tx)(nil)
	_ store.MultiGetter = (*bucket)(nil)
)

// bound is the greatest key of a bucket on the server when it was read. It
// is not raised by Puts (buf answers for those keys), so an id generated
// after the last one but sorting below it (two in one millisecond) still
// costs no round trip. A Delete, or a savepoint rolled back after the read,
// leaves it above the truth, which only costs a round trip not needed.
type bound struct {
	key   []byte
	known bool
}

func (t *tx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// roundTrip sends the pending BEGIN, the write buffer (when flush is set and
// it holds writes) and then whatever queue adds, in one batch, and returns
// the results positioned at queue's first statement. The caller closes them.
func (t *tx) roundTrip(flush bool, queue func(*pgx.Batch)) (pgx.BatchResults, error) {
	if t.err != nil {
		return nil, t.err
	}
	if t.conn == nil {
		return nil, errors.New("store: postgres transaction has ended")
	}
	var b pgx.Batch
	for _, s := range t.begin {
		b.Queue(s)
	}
	tokenAt := -1
	if t.begin != nil && t.writable {
		tokenAt = b.Len()
		b.Queue(sqlReadToken)
	}
	for _, s := range t.queued {
		b.Queue(s)
	}
	var flushed []*entry
	if flush && t.dirty > 0 {
		flushed = t.queueFlush(&b)
	}
	prefix := b.Len()
	queue(&b)
	t.e.roundTrips.Add(1)
	br := t.conn.SendBatch(t.ctx, &b)
	for i := range prefix {
		var err error
		if i == tokenAt {
			err = br.QueryRow().Scan(&t.token)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			br.Close()
			t.fail(err)
			return nil, err
		}
	}
	if tokenAt >= 0 {
		t.adopt(t.e.cache.take(t.token))
	}
	t.begin, t.queued = nil, t.queued[:0]
	for _, en := range flushed {
		en.dirty, en.unstored = false, en.value == nil
	}
	t.dirty -= len(flushed)
	return br, nil
}

// queueFlush adds the buffered writes to b: one upsert and one delete over
// arrays, whatever their number. Under a savepoint not yet sent, the writes
// made before it go first, then SAVEPOINT, then those made under it. It
// returns the entries it sends.
func (t *tx) queueFlush(b *pgx.Batch) []*entry {
	var (
		sent          = make([]*entry, 0, t.dirty)
		before, after writeSet
		split         = t.sp.open && !t.sp.sent
	)
	for k, en := range t.buf {
		if !en.dirty {
			continue
		}
		sent = append(sent, en)
		if !split {
			after.add(k, en.value, en.unstored)
			continue
		}
		s, under := t.sp.saved[k]
		switch {
		case !under:
			before.add(k, en.value, en.unstored)
		case s.had && s.dirty:
			// Written before the savepoint and again under it.
			before.add(k, s.value, en.unstored)
			after.add(k, en.value, s.value == nil)
		default:
			after.add(k, en.value, en.unstored)
		}
	}
	t.inserted += len(before.ins.keys) + len(before.put.keys) + len(after.ins.keys) + len(after.put.keys)
	before.queue(b)
	if split {
		b.Queue("SAVEPOINT " + savepointName)
		t.sp.sent = true
	}
	after.queue(b)
	return sent
}

// writeSet is buffered writes as the arrays of one insert (keys known
// absent on the server), one upsert and a delete per bucket.
type writeSet struct {
	ins, put rows
	del      map[int16][][]byte // bucket → keys
}

type rows struct {
	buckets     []int16
	keys, value [][]byte
}

func (r *rows) add(k bkey, value []byte) {
	r.buckets, r.keys, r.value = append(r.buckets, k.bucket), append(r.keys, []byte(k.key)), append(r.value, value)
}

// add adds the write of value (nil: a delete) to a key the server has no
// row for when unstored is set.
func (w *writeSet) add(k bkey, value []byte, unstored bool) {
	switch {
	case value == nil && unstored:
		// Nothing to delete.
	case value == nil:
		if w.del == nil {
			w.del = map[int16][][]byte{}
		}
		w.del[k.bucket] = append(w.del[k.bucket], []byte(k.key))
	case unstored:
		w.ins.add(k, value)
	default:
		w.put.add(k, value)
	}
}

func (w *writeSet) queue(b *pgx.Batch) {
	if len(w.ins.keys) > 0 {
		b.Queue(sqlInsert, w.ins.buckets, w.ins.keys, w.ins.value)
	}
	if len(w.put.keys) > 0 {
		b.Queue(sqlUpsert, w.put.buckets, w.put.keys, w.put.value)
	}
	for bucket, keys := range w.del {
		b.Queue(sqlDelete, bucket, keys)
	}
}

// Savepoint implements store.Savepointer. It sends nothing (see savepoint).
func (t *tx) Savepoint() error {
	switch {
	case !t.writable:
		return errors.New("store: savepoint in a read transaction")
	case t.sp.open:
		return errors.New("store: savepoint already open")
	}
	t.sp.open, t.sp.sent = true, false
	if t.sp.saved == nil {
		t.sp.saved = map[bkey]saved{}
	}
	return t.err
}

// RollbackToSavepoint implements store.Savepointer: the buffer gets back
// each key's state from before the savepoint, and, if the savepoint reached
// the server, ROLLBACK TO and RELEASE go first with the next round trip.
func (t *tx) RollbackToSavepoint() error {
	if !t.sp.open {
		return errors.New("store: no savepoint to roll back to")
	}
	for k, s := range t.sp.saved {
		en := t.buf[k]
		if en.dirty {
			t.dirty--
		}
		if !s.had {
			delete(t.buf, k)
			continue
		}
		// Once sent, the writes made before the savepoint are on the server.
		en.value, en.dirty = s.value, s.dirty && !t.sp.sent
		if t.sp.sent {
			en.unstored = s.value == nil
		} else {
			en.unstored = s.unstored // nothing was flushed since
		}
		if en.dirty {
			t.dirty++
		}
	}
	if t.sp.sent {
		t.queued = append(t.queued, "ROLLBACK TO SAVEPOINT "+savepointName, "RELEASE SAVEPOINT "+savepointName)
	}
	t.epoch++ // cursors fetched under the savepoint may hold its writes
	t.endSavepoint()
	return t.err
}

// ReleaseSavepoint implements store.Savepointer.
func (t *tx) ReleaseSavepoint() error {
	if !t.sp.open {
		return errors.New("store: no savepoint to release")
	}
	if t.sp.sent {
		t.queued = append(t.queued, "RELEASE SAVEPOINT "+savepointName)
	}
	t.endSavepoint()
	return t.err
}

func (t *tx) endSavepoint() {
	t.sp.open, t.sp.sent = false, false
	if len(t.sp.saved) > 1<<14 {
		t.sp.saved = nil // one huge write's map is not kept for the next
	} else {
		clear(t.sp.saved)
	}
}

func (t *tx) Bucket(name []byte) store.Bucket {
	if id, ok := t.e.bucketID(string(name)); ok {
		return t.bucket(name, id)
	}
	if id, ok := t.created[string(name)]; ok {
		return t.bucket(name, id)
	}
	var id int16
	var mirrorOf *int16
	found := false
	br, err := t.roundTrip(false, func(b *pgx.Batch) {
		b.Queue("SELECT id, mirror_of FROM buckets WHERE name = $1", string(name))
	})
	if err != nil {
		return nil
	}
	err = br.QueryRow().Scan(&id, &mirrorOf)
	switch {
	case err == nil:
		found = true
	case errors.Is(err, pgx.ErrNoRows):
	default:
		t.fail(err)
	}
	t.fail(br.Close())
	if !found {
		return nil // not a typed nil in the interface
	}
	var mirrors map[int16]*mirror
	if mirrorOf != nil {
		m, ok := store.MirrorOf(name)
		if !ok {
			t.fail(fmt.Errorf("store: bucket %s is a mirror in the database but not to this Rolecall", name))
			return nil
		}
		mirrors = map[int16]*mirror{id: newMirror(m, id, *mirrorOf)}
	}
	// Only a committed bucket is visible here, and buckets are never
	// dropped: cache it for every transaction.
	t.e.rememberBuckets(map[string]int16{string(name): id}, mirrors)
	return t.bucket(name, id)
}

func (t *tx) bucket(name []byte, id int16) *bucket {
	b := &bucket{t: t, id: id, m: t.mirrors[id]}
	if b.m == nil {
		b.m = t.e.mirror(id)
	}
	if t.writable && store.AppendMostly(name) {
		if t.bounds == nil {
			t.bounds = map[int16]*bound{}
		}
		if t.bounds[id] == nil {
			t.bounds[id] = &bound{}
		}
		b.bound = t.bounds[id]
	}
	return b
}

func (t *tx) CreateBucketIfNotExists(name []byte) (store.Bucket, error) {
	if !t.writable {
		return nil, errors.New("store: create bucket in a read transaction")
	}
	if b := t.Bucket(name); b != nil {
		return b, nil
	}
	if t.err != nil {
		return nil, t.err
	}
	// A mirror is created after the bucket it mirrors, with the index
	// that serves it, in this transaction.
	var of *bucket
	m, isMirror := store.MirrorOf(name)
	if isMirror {
		b, err := t.CreateBucketIfNotExists(m.Of)
		if err != nil {
			return nil, err
		}
		of = b.(*bucket)
	}
	var id int16
	br, err := t.roundTrip(false, func(b *pgx.Batch) {
		if isMirror {
			b.Queue("INSERT INTO buckets (name, mirror_of) VALUES ($1, $2) RETURNING id", string(name), of.id)
		} else {
			b.Queue("INSERT INTO buckets (name) VALUES ($1) RETURNING id", string(name))
		}
	})
	if err != nil {
		return nil, err
	}
	err = br.QueryRow().Scan(&id)
	err = errors.Join(err, br.Close())
	if err == nil && isMirror {
		if t.mirrors == nil {
			t.mirrors = map[int16]*mirror{}
		}
		t.mirrors[id] = newMirror(m, id, of.id)
		br, err = t.roundTrip(false, func(b *pgx.Batch) { b.Queue(t.mirrors[id].index) })
		if err == nil {
			_, err = br.Exec()
			err = errors.Join(err, br.Close())
		}
	}
	if err != nil {
		t.fail(err)
		return nil, err
	}
	if t.created == nil {
		t.created = map[string]int16{}
	}
	t.created[string(name)] = id
	return t.bucket(name, id), nil
}

func (t *tx) Empty() bool {
	if len(t.created) > 0 {
		return false
	}
	var any bool
	br, err := t.roundTrip(false, func(b *pgx.Batch) { b.Queue("SELECT EXISTS (SELECT 1 FROM buckets)") })
	if err != nil {
		return false
	}
	t.fail(br.QueryRow().Scan(&any))
	t.fail(br.Close())
	return !any
}

func (t *tx) Err() error { return t.err }

// Commit sends the buffered writes, the commit notification and COMMIT in
// one round trip. It returns once the commit is durable.
func (t *tx) Commit() error {
	if t.conn == nil {
		return errors.New("store: postgres transaction has ended")
	}
	if !t.writable {
		return t.Rollback()
	}
	if t.err != nil {
		t.Rollback()
		return t.err
	}
	if t.begin != nil && t.dirty == 0 {
		t.release(false) // nothing was read or written: nothing to commit
		return nil
	}
	wrote := t.wrote
	token := t.token // read with BEGIN, maybe in this very round trip
	if wrote {
		token = newToken()
	}
	br, err := t.roundTrip(true, func(b *pgx.Batch) {
		if wrote {
			b.Queue(sqlWriteToken, token)
			// Delivered to the listeners only if the transaction commits.
			b.Queue("NOTIFY " + notifyChannel)
		}
		b.Queue("COMMIT")
	})
	if err != nil {
		t.Rollback()
		return fmt.Errorf("store: commit: %w", err)
	}
	if wrote {
		for range 2 { // the writer token, NOTIFY
			if _, err := br.Exec(); err != nil {
				br.Close()
				t.Rollback()
				return fmt.Errorf("store: commit: %w", err)
			}
		}
	}
	tag, err := br.Exec()
	err = errors.Join(err, br.Close())
	if err == nil && tag.String() != "COMMIT" {
		err = fmt.Errorf("the server answered %q", tag.String()) // the transaction had failed
	}
	if err != nil {
		t.release(true)
		return fmt.Errorf("store: commit: %w", err)
	}
	t.e.rememberBuckets(t.created, t.mirrors)
	t.e.noteInserted(t.inserted)
	if !wrote {
		token = t.token
	}
	// Every entry is on the server now; the next write transaction may
	// keep them if nobody else writes first.
	t.e.cache.keep(token, t.buf, t.bounds)
	t.buf, t.bounds = nil, nil
	t.release(false)
	return nil
}

// Rollback ends the transaction without its writes. It may be called after
// Commit (it then does nothing).
func (t *tx) Rollback() error {
	if t.conn == nil {
		return nil
	}
	if t.begin != nil {
		t.release(false) // BEGIN never went out
		return nil
	}
	t.e.roundTrips.Add(1)
	_, err := t.conn.Exec(context.WithoutCancel(t.ctx), "ROLLBACK")
	t.release(err != nil)
	return err
}

// release returns the connection to the pool, or closes it when its state
// is unknown (a failed COMMIT or ROLLBACK), so the pool never hands out a
// connection inside a transaction.
func (t *tx) release(broken bool) {
	if broken {
		t.conn.Conn().Close(context.Background())
	}
	t.conn.Release()
	t.conn = nil
}

// bucket is one bucket seen through a transaction.
type bucket struct {
	t     *tx
	id    int16
	bound *bound  // nil unless an append-mostly bucket of a write transaction
	m     *mirror // nil unless a mirror (mirror.go)
}

// absent reports whether key is above every key the bucket had on the
// server when the bound was read. Get asks buf first, so a key this
// transaction wrote never gets here.
func (b *bucket) absent(key []byte) bool {
	return b.bound != nil && b.bound.known && bytes.Compare(key, b.bound.key) > 0
}

func (b *bucket) Get(key []byte) []byte {
	if b.m != nil {
		return b.getMirror(key)
	}
	t := b.t
	k := bkey{b.id, string(key)}
	if en, ok := t.buf[k]; ok {
		return en.value
	}
	if b.absent(key) {
		t.buf[k] = &entry{unstored: true}
		return nil
	}
	// The bound is read with the first Get that needs it, in its round
	// trip. Without a flush: buf answers for the unsent writes.
	readBound := b.bound != nil && !b.bound.known
	br, err := t.roundTrip(false, func(q *pgx.Batch) {
		if readBound {
			q.Queue(sqlLastKey, b.id)
		}
		q.Queue(sqlGet, b.id, key)
	})
	if err != nil {
		return nil
	}
	if readBound {
		var last []byte
		err := br.QueryRow().Scan(&last)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.fail(err)
			br.Close()
			return nil
		}
		b.bound.key, b.bound.known = last, true // nil: an empty bucket
	}
	var v []byte
	err = br.QueryRow().Scan(&v)
	switch {
	case err == nil:
		if v == nil {
			v = []byte{} // an empty value is a present key
		}
	case errors.Is(err, pgx.ErrNoRows):
		v = nil
	default:
		t.fail(err)
		br.Close()
		return nil
	}
	if err := br.Close(); err != nil {
		t.fail(err)
		return nil
	}
	if t.buf != nil {
		t.buf[k] = &entry{value: v, unstored: v == nil}
	}
	return v
}

// getManyChunk bounds the keys of one query of GetMany; a larger read sends
// several queries, still in one round trip.
const getManyChunk = 8192

// GetMany implements store.MultiGetter: what the write buffer cannot answer
// is read with one query per getManyChunk keys, all in one round trip,
// without a flush (the buffer answers for the unsent writes, as for Get).
// In a write transaction every key read joins the buffer, as with Get.
func (b *bucket) GetMany(keys [][]byte) [][]byte {
	if b.m != nil {
		return b.getManyMirror(keys)
	}
	t := b.t
	vals := make([][]byte, len(keys))
	var (
		ask   [][]byte       // keys to read from the server, each once
		asked map[string]int // key → its index in ask
		at    []int          // for each key of keys: its index in ask, or -1
	)
	for i, key := range keys {
		k := bkey{b.id, string(key)}
		if en, ok := t.buf[k]; ok {
			vals[i] = en.value
			continue
		}
		if b.absent(key) {
			t.buf[k] = &entry{unstored: true}
			continue
		}
		if at == nil {
			at = make([]int, len(keys))
			for j := range at {
				at[j] = -1
			}
			asked = make(map[string]int)
		}
		j, ok := asked[k.key]
		if !ok {
			j = len(ask)
			asked[k.key] = j
			ask = append(ask, key)
		}
		at[i] = j
	}
	if len(ask) == 0 {
		return vals
	}
	found := make([][]byte, len(ask))
	br, err := t.roundTrip(false, func(q *pgx.Batch) {
		for from := 0; from < len(ask); from += getManyChunk {
			q.Queue(sqlGetMany, b.id, ask[from:min(from+getManyChunk, len(ask))])
		}
	})
	if err != nil {
		return make([][]byte, len(keys))
	}
	for from := 0; from < len(ask) && err == nil; from += getManyChunk {
		var rows pgx.Rows
		if rows, err = br.Query(); err != nil {
			break
		}
		for rows.Next() {
			var k, v []byte
			if err = rows.Scan(&k, &v); err != nil {
				break
			}
			if v == nil {
				v = []byte{} // an empty value is a present key
			}
			found[asked[string(k)]] = v
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	err = errors.Join(err, br.Close())
	if err != nil {
		t.fail(err)
		return make([][]byte, len(keys))
	}
	for i, j := range at {
		if j < 0 {
			continue
		}
		vals[i] = found[j]
		if t.buf != nil {
			t.buf[bkey{b.id, string(keys[i])}] = &entry{value: found[j], unstored: found[j] == nil}
		}
	}
	return vals
}

func (b *bucket) Put(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	b.write(key, append(make([]byte, 0, len(value)), value...))
	return b.t.err
}

func (b *bucket) Delete(key []byte) error {
	b.write(key, nil)
	return b.t.err
}

func (b *bucket) write(key, value []byte) {
	t := b.t
	if !t.writable {
		t.fail(errors.New("store: write in a read transaction"))
		return
	}
	if b.m != nil {
		b.writeMirror(key)
		return
	}
	k := bkey{b.id, string(key)}
	en, ok := t.buf[k]
	if t.sp.open {
		if _, seen := t.sp.saved[k]; !seen {
			if ok {
				t.sp.saved[k] = saved{had: true, value: en.value, dirty: en.dirty, unstored: en.unstored}
			} else {
				t.sp.saved[k] = saved{}
			}
		}
	}
	if !ok {
		en = &entry{}
		t.buf[k] = en
	}
	en.value = value
	if !en.dirty {
		en.dirty = true
		t.dirty++
	}
	t.epoch++
	t.wrote = true
}

func (b *bucket) Cursor() store.Cursor { return &cursor{t: b.t, bucket: b.id, m: b.m} }
